#!/usr/bin/env bash
# bench/sink.sh [-quick]
#
# Measures what the raw-event sink costs, for this checkout's binary and,
# with BEFORE=<commit>, for that commit's too, in one run (the same machine
# and load, one after the other):
# (1) busy node: serve --db on one file written at 200 lines/s, one line per
#     write, for 20 s: the exporter's CPU, % of one core (target <= 2 %);
# (2) four nodes: serve --db on four files written at 2,000 lines/s each for
#     20 s: peak RSS (VmHWM, target <= 64 MB) once the sink holds every
#     line, and the sink's events equal report's count of each file;
# (3) ingest of a 1,000,000-line log into a new database: events/s (target
#     >= 300,000), lines/s end to end (>= 400,000) and peak RSS (< 64 MB);
# (4) report on the same log against one grep -c pass whose output goes to
#     a pipe (GNU grep stops at the first match when it writes to
#     /dev/null): best of 3 each, target report <= 3x grep.
# (3) and (4) run on two logs: "issue", the kind issue 10 measured on (a
# node logging at DEBUG: genlog -started 0.7, 57.6 % outcome lines), which
# the targets apply to; and "dense", genlog's default (97 % outcome lines,
# no started lines), shown for comparison.
# See bench/README.md.
#
# Environment:
#   BEFORE    a commit to measure too (built in a temporary git worktree)
#   QUICK=1   halve the durations (busy and four nodes 10 s); -quick too
#   SEED      generator seed (default 1)
#   INGEST_LINES  lines of the ingested log (default 1000000)
#
# Exit status: 0 all targets met (by this checkout's binary) and all counts
# match; 1 a target missed or counts differ; 2 usage or setup error.

# shellcheck disable=SC2317
set -euo pipefail
export LC_NUMERIC=C

SEED=${SEED:-1}
QUICK=${QUICK:-0}
INGEST_LINES=${INGEST_LINES:-1000000}
usage() { sed -n '2,25s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }
while [ $# -gt 0 ]; do
	case $1 in
	-quick | --quick) QUICK=1 && shift ;;
	-h | --help) usage && exit 0 ;;
	*) echo "sink.sh: unknown argument $1" >&2 && usage >&2 && exit 2 ;;
	esac
done

busy_rate=200 busy_secs=20 busy_max_cpu=2
four_rate=2000 four_secs=20 max_rss_mb=64
min_events_per_s=300000 min_lines_per_s=400000
if [ "$QUICK" = 1 ]; then
	busy_secs=10 four_secs=10
fi

bench=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$bench/.." && pwd)
out=$bench/out
sdir=$out/sink
cd "$root"
# shellcheck source=bench/lib.sh
. "$bench/lib.sh"
need go curl python3 git

# --- build ------------------------------------------------------------------
rm -rf "$sdir"
mkdir -p "$sdir/src"
say "building bench/genlog, bench/loadgen and the exporter"
go build -o "$out/genlog" ./bench/genlog || die "cannot build bench/genlog"
go build -o "$out/loadgen" ./bench/loadgen || die "cannot build bench/loadgen"
build_exporters "$sdir"

say "generating the logs (seed $SEED)"
"$out/genlog" -n 200000 -seed "$SEED" -o "$sdir/src/busy.log"
for i in 1 2 3 4; do "$out/genlog" -n 200000 -seed "$((SEED + i))" -o "$sdir/src/four$i.log"; done
"$out/genlog" -n "$INGEST_LINES" -seed "$SEED" -started 0.7 -o "$sdir/src/issue.log"
"$out/genlog" -n "$INGEST_LINES" -seed "$SEED" -o "$sdir/src/dense.log"

# --- helpers ----------------------------------------------------------------
jget() { sed -n 's/.*"'"$2"'":\([-+.0-9eE]*\).*/\1/p' "$1"; }

# start BIN NAME NODE:FILE...: serve with the sink on (a database of its
# own) on a free port, until every node's source is up; sets PID and URL.
start() {
	local bin=$1 name=$2 i spec
	shift 2
	local args=()
	for spec in "$@"; do args+=(--node "$spec"); done
	URL=http://127.0.0.1:$(free_port)
	"$sdir/$bin" serve "${args[@]}" --db "$sdir/$bin.$name.db" --db.retention 0 --no-nodeapi.discover \
		--web.listen-address "${URL#http://}" >"$sdir/$bin.$name.stdout" 2>"$sdir/$bin.$name.stderr" &
	PID=$!
	pids+=("$PID")
	for ((i = 0; i < 500; i++)); do
		kill -0 "$PID" 2>/dev/null || break
		local up=1
		for spec in "$@"; do
			[ "$(metric "$URL" "storj_log_source_up{node=\"${spec%%:*}\"}")" = 1 ] || up=0
		done
		[ "$up" = 1 ] && return 0
		sleep 0.02
	done
	tail -n 20 "$sdir/$bin.$name.stderr" >&2
	die "$bin: serve did not come up"
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# events BIN DB NODE: the transfers the sink holds of a node (BIN's report
# --db: the schema is BIN's)
events() {
	"$sdir/$1" report --db "$2" --node "$3" --format json 2>/dev/null |
		python3 -c 'import json,sys; t=json.load(sys.stdin)["summary"]["transfers"]; print(sum(v for a in t.values() for k,v in a.items() if k!="success_bytes"))' 2>/dev/null || echo -1
}
# transfers FILE: what report counts in a log file
transfers() {
	"$sdir/after" report --format json "$1" |
		python3 -c 'import json,sys; t=json.load(sys.stdin)["transfers"]; print(sum(v for a in t.values() for k,v in a.items() if k!="success_bytes"))'
}

status=0
rows=()
row() { rows+=("$(printf '%-8s %-56s %20s   %s' "$1" "$2" "$3" "${4:-}")"); }
check() { # VALUE OP LIMIT
	if awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN { exit !((op == "<=" && v <= l) || (op == ">=" && v >= l) || (op == "<" && v < l)) }'; then
		echo OK
	else
		echo MISS
	fi
}

for bin in "${bins[@]}"; do
	# --- (1) busy node ------------------------------------------------------
	say "$bin: (1) busy node, $busy_rate lines/s in one write each, ${busy_secs}s"
	: >"$sdir/$bin.busy.log"
	start "$bin" busy "B:$sdir/$bin.busy.log"
	"$out/loadgen" -o "$sdir/$bin.busy.log" -src "$sdir/src/busy.log" -rate "$busy_rate" -duration "${busy_secs}s" \
		-batch 5ms -pid "$PID" >"$sdir/$bin.busy.json"
	cpu=$(jget "$sdir/$bin.busy.json" pid_cpu_percent)
	writes=$(jget "$sdir/$bin.busy.json" writes)
	stop "$PID"
	res=$(check "$cpu" "<=" "$busy_max_cpu")
	if [ "$bin" = after ] && [ "$res" = MISS ]; then status=1; fi
	row "$bin" "busy node: CPU ($writes writes)" "$(printf '%.2f %%' "$cpu")" "<= $busy_max_cpu %: $res"

	# --- (2) four nodes -----------------------------------------------------
	say "$bin: (2) four nodes at $four_rate lines/s each, ${four_secs}s"
	specs=()
	for i in 1 2 3 4; do
		: >"$sdir/$bin.four$i.log"
		specs+=("N$i:$sdir/$bin.four$i.log")
	done
	start "$bin" four "${specs[@]}"
	lpids=()
	for i in 1 2 3 4; do
		"$out/loadgen" -o "$sdir/$bin.four$i.log" -src "$sdir/src/four$i.log" -rate "$four_rate" -duration "${four_secs}s" \
			-batch 5ms >"$sdir/$bin.four$i.json" &
		lpids+=($!)
	done
	for p in "${lpids[@]}"; do wait "$p"; done
	counts=MATCH
	for i in 1 2 3 4; do
		want=$(transfers "$sdir/$bin.four$i.log")
		for ((t = 0; t < 3000; t++)); do # 60 s for the sink to hold every line
			[ "$(events "$bin" "$sdir/$bin.four.db" "N$i")" = "$want" ] && break
			sleep 0.02
		done
		got=$(events "$bin" "$sdir/$bin.four.db" "N$i")
		if [ "$got" != "$want" ]; then
			counts=MISMATCH
			say "$bin: N$i: the sink holds $got transfers, report counts $want"
		fi
	done
	hwm=$(kb "$PID" VmHWM)
	rss=$(kb "$PID" VmRSS)
	stop "$PID"
	hwm_mb=$(awk -v k="$hwm" 'BEGIN { printf "%.1f", k / 1024 }')
	res=$(check "$hwm_mb" "<=" "$max_rss_mb")
	if [ "$bin" = after ] && { [ "$res" = MISS ] || [ "$counts" != MATCH ]; }; then status=1; fi
	row "$bin" "four nodes: VmHWM (VmRSS $((rss / 1024)) MB), sink vs report" "$hwm_mb MB" "<= $max_rss_mb MB: $res, $counts"

	for log in issue dense; do
		# --- (3) ingest ---------------------------------------------------------
		say "$bin: (3) ingest of $INGEST_LINES lines ($log log)"
		rm -f "$sdir/$bin.$log.db"*
		t0=$EPOCHREALTIME
		/usr/bin/time -f %M -o "$sdir/$bin.$log.rss" "$sdir/$bin" ingest --db "$sdir/$bin.$log.db" --progress none \
			"N:$sdir/src/$log.log" >"$sdir/$bin.$log.out" 2>"$sdir/$bin.$log.err" || die "$bin: ingest failed"
		t1=$EPOCHREALTIME
		secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
		ev=$(sed -n 's/^\([0-9]*\) events from \([0-9]*\) lines.*/\1/p' "$sdir/$bin.$log.out")
		ln=$(sed -n 's/^\([0-9]*\) events from \([0-9]*\) lines.*/\2/p' "$sdir/$bin.$log.out")
		evs=$(awk -v n="$ev" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
		lns=$(awk -v n="$ln" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
		peak=$(awk '{ printf "%.1f", $1 / 1024 }' "$sdir/$bin.$log.rss")
		r1=$(check "$evs" ">=" "$min_events_per_s")
		r2=$(check "$lns" ">=" "$min_lines_per_s")
		r3=$(check "$peak" "<" "$max_rss_mb")
		if [ "$bin" = after ] && [ "$log" = issue ] && [ "$r1$r2$r3" != OKOKOK ]; then status=1; fi
		row "$bin" "$log: ingest $ev events of $ln lines in ${secs}s" "$evs events/s" ">= $min_events_per_s: $r1"
		row "$bin" "$log: ingest, end to end" "$lns lines/s" ">= $min_lines_per_s: $r2"
		row "$bin" "$log: ingest, peak RSS" "$peak MB" "< $max_rss_mb MB: $r3"

		# --- (4) report against grep -------------------------------------------
		say "$bin: (4) report and grep -c on $INGEST_LINES lines ($log log), best of 3"
		cat "$sdir/src/$log.log" >/dev/null # the page cache, for both
		tg=999 tr=999
		for _ in 1 2 3; do
			t0=$EPOCHREALTIME
			grep -c -F uploaded "$sdir/src/$log.log" | cat >/dev/null
			t1=$EPOCHREALTIME
			"$sdir/$bin" report --format json "$sdir/src/$log.log" | cat >/dev/null
			t2=$EPOCHREALTIME
			tg=$(awk -v a="$t0" -v b="$t1" -v m="$tg" 'BEGIN { d = b - a; printf "%.3f", d < m ? d : m }')
			tr=$(awk -v a="$t1" -v b="$t2" -v m="$tr" 'BEGIN { d = b - a; printf "%.3f", d < m ? d : m }')
		done
		ratio=$(awk -v a="$tr" -v b="$tg" 'BEGIN { printf "%.2f", a / b }')
		r4=$(check "$ratio" "<=" 3)
		if [ "$bin" = after ] && [ "$log" = issue ] && [ "$r4" != OK ]; then status=1; fi
		row "$bin" "$log: report ${tr}s, grep -c | cat ${tg}s" "${ratio}x" "<= 3x: $r4"
	done
done

printf '\n%-8s %-56s %20s   %s\n' binary measurement value target
printf '%s\n' "${rows[@]}"
exit "$status"
