#!/usr/bin/env bash
# bench/serve.sh [-quick]
#
# Benchmarks `storagenode-exporter serve` following log files, in one run:
# (1) a 100,000-line burst: catch-up time, no line lost, counters equal
# `report`; (2) 50,000 lines/s for 10 s: keeps up, counters equal `report`,
# CPU; (3) a busy node at 200 lines/s for 20 s: CPU < 2 % of one core;
# (4) four nodes fed 50,000 lines each: VmRSS and VmHWM < 64 MB;
# (5) 20 scrapes of that /metrics: median and max < 50 ms. See bench/README.md.
#
# Environment:
#   QUICK=1   halve the durations (steady 5 s, busy 10 s); -quick does the same
#   SEED      generator seed (default 1)
#   SNE_BIN   use this command instead of building ./cmd/storagenode-exporter
#   BUSY_BATCH  interval between the busy node's writes (default 5ms: one
#             line per write, as a storage node writes its log)
#
# Exit status: 0 all targets met and all counters match; 1 a target missed or
# counters differ; 2 usage or setup error (build, exporter does not start).

# Functions below are called indirectly (traps, loops).
# shellcheck disable=SC2317
set -euo pipefail
export LC_NUMERIC=C # EPOCHREALTIME and awk use "." as decimal point

SEED=${SEED:-1}
QUICK=${QUICK:-0}

usage() { sed -n '2,20s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

while [ $# -gt 0 ]; do
	case $1 in
	-quick | --quick)
		QUICK=1
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		echo "serve.sh: unknown argument $1" >&2
		usage >&2
		exit 2
		;;
	esac
done
case $SEED in '' | *[!0-9]*)
	echo "serve.sh: SEED must be a non-negative integer" >&2
	exit 2
	;;
esac

# Workload and targets.
burst_lines=100000            # (1) in one write
burst_deadline=60             # seconds to wait for the burst to be counted
steady_rate=50000             # (2) lines/s
steady_secs=10                #
steady_min_rate=47500         # the load generator itself must reach 95 % of the rate
steady_catchup=2              # seconds after the end to have counted every line
busy_rate=200                 # (3) lines/s
busy_secs=20                  #
busy_batch=${BUSY_BATCH:-5ms} # one line per write on average, as a node writes its log
busy_max_cpu=2                # % of one core
feed_lines=50000              # (4) per node, four nodes
max_rss_mb=64                 # VmRSS and VmHWM
scrapes=20                    # (5)
max_scrape_ms=50              # median and max
if [ "$QUICK" = 1 ]; then
	steady_secs=$((steady_secs / 2))
	busy_secs=$((busy_secs / 2))
fi
src_lines=200000 # lines of the file the steady and busy loads cycle through

# A relative SNE_BIN path is relative to where the script was started (a
# bare name is looked up in PATH).
case ${SNE_BIN:-} in /*) ;; */*) SNE_BIN=$PWD/$SNE_BIN ;; esac

bench=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$bench/.." && pwd)
out=$bench/out
cd "$root"
# Paths given to the exporter are relative to $root: --node splits on ':'
# and ',', which an absolute checkout path might contain.
rel=bench/out/serve
sdir=$root/$rel

say() { printf '>> %s\n' "$*" >&2; }
die() {
	say "$*"
	exit 2
}

for tool in go curl python3; do
	command -v "$tool" >/dev/null 2>&1 || die "serve.sh needs $tool"
done
[ -r /proc/self/stat ] || die "serve.sh needs /proc (Linux)"
hz=$(getconf CLK_TCK 2>/dev/null || echo 100)

# --- 1. build ---------------------------------------------------------------
mkdir -p "$out"
say "building bench/genlog and bench/loadgen"
go build -o "$out/genlog" ./bench/genlog || die "cannot build bench/genlog"
go build -o "$out/loadgen" ./bench/loadgen || die "cannot build bench/loadgen"
if [ -n "${SNE_BIN:-}" ]; then
	bin=$SNE_BIN
	say "using SNE_BIN=$bin"
else
	bin=$out/storagenode-exporter
	say "building ./cmd/storagenode-exporter"
	go build -o "$bin" ./cmd/storagenode-exporter 2>"$out/build.err" ||
		die "cannot build ./cmd/storagenode-exporter (see bench/out/build.err)"
fi

# --- 2. source logs ---------------------------------------------------------
# Raw outputs go to $sdir; the followed logs to $sdir/logs/<scenario>/, one
# directory per exporter, so that no other file changes in a watched
# directory during a measurement.
rm -rf "$sdir"
mkdir -p "$sdir/src" "$sdir/logs/burst" "$sdir/logs/steady" "$sdir/logs/busy" "$sdir/logs/four"
say "generating the source logs (seed $SEED)"
"$out/genlog" -n "$burst_lines" -seed "$SEED" -o "$sdir/src/burst.log"
"$out/genlog" -n "$src_lines" -seed "$((SEED + 1))" -o "$sdir/src/steady.log"
for i in 1 2 3 4; do
	"$out/genlog" -n "$feed_lines" -seed "$((SEED + 1 + i))" -o "$sdir/src/feed$i.log"
done

# --- 3. helpers -------------------------------------------------------------
pids=()
cleanup() {
	local p
	for p in ${pids[@]+"${pids[@]}"}; do kill "$p" 2>/dev/null || true; done
	for p in ${pids[@]+"${pids[@]}"}; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# metric URL SERIES: the value of one series (exact text before the value,
# e.g. storj_log_lines_total{node="A"}) as an integer, empty if the scrape
# fails, 0 if the series is absent.
metric() {
	local body
	body=$(curl -sf --max-time 5 "$1/metrics") || return 0
	awk -v k="$2" '$1 == k { v = $2 } END { printf "%.0f\n", v + 0 }' <<<"$body"
}

# all_up URL NODE:FILE...: whether storj_log_source_up is 1 for every node.
all_up() {
	local url=$1 spec
	shift
	for spec in "$@"; do
		[ "$(metric "$url" "storj_log_source_up{node=\"${spec%%:*}\"}")" = 1 ] || return 1
	done
}

# start_exporter NAME NODE:FILE... starts serve with these nodes on a free
# port, waits until /healthz answers and every node's source is up (so that
# the files are open and positioned at their end before anything is
# appended), and sets EXP_PID and EXP_URL.
start_exporter() {
	local name=$1 try i port spec
	shift
	local args=()
	for spec in "$@"; do args+=(--node "$spec"); done
	for try in 1 2 3 4 5; do
		port=$(free_port)
		EXP_URL=http://127.0.0.1:$port
		"$bin" serve "${args[@]}" --web.listen-address "127.0.0.1:$port" \
			>"$sdir/$name.stdout" 2>"$sdir/$name.stderr" &
		EXP_PID=$!
		pids+=("$EXP_PID")
		for ((i = 0; i < 500; i++)); do # 10 s
			if ! kill -0 "$EXP_PID" 2>/dev/null; then
				break
			fi
			if all_up "$EXP_URL" "$@" && kill -0 "$EXP_PID" 2>/dev/null; then
				say "$name: exporter pid $EXP_PID on $EXP_URL, $# node(s) up"
				return 0
			fi
			sleep 0.02
		done
		kill "$EXP_PID" 2>/dev/null || true
		wait "$EXP_PID" 2>/dev/null || true
		if grep -q -i 'address already in use' "$sdir/$name.stderr"; then
			say "$name: port $port taken, retrying"
			continue
		fi
		say "$name: the exporter did not come up; its stderr:"
		tail -n 20 "$sdir/$name.stderr" >&2
		exit 2
	done
	die "$name: no free port after $try tries"
}

stop_exporter() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# wait_lines URL NODE WANT DEADLINE: polls storj_log_lines_total{node=NODE}
# every 20 ms until it reaches WANT, DEADLINE seconds pass or the exporter
# (EXP_PID) is gone. Sets FIRST (the
# first value seen), SEEN (the last value) and SEEN_AT (EPOCHREALTIME right
# after the scrape that showed WANT; empty on timeout).
wait_lines() {
	local url=$1 key="storj_log_lines_total{node=\"$2\"}" want=$3 end v
	end=$(awk -v t="$EPOCHREALTIME" -v d="$4" 'BEGIN { printf "%.6f", t + d }')
	FIRST="" SEEN=0 SEEN_AT=""
	while :; do
		v=$(metric "$url" "$key")
		if [ -z "$FIRST" ]; then FIRST=$v; fi
		SEEN=${v:-0}
		if [ "$SEEN" -ge "$want" ]; then
			SEEN_AT=$EPOCHREALTIME
			return 0
		fi
		if ! kill -0 "$EXP_PID" 2>/dev/null ||
			awk -v t="$EPOCHREALTIME" -v e="$end" 'BEGIN { exit !(t > e) }'; then
			return 0
		fi
		sleep 0.02
	done
}

# jget FILE KEY: a number from loadgen's one-line JSON. No python3 here: it
# runs between the end of a load and the first poll, and an interpreter
# start (0.4 s behind a pyenv shim) would be counted as catch-up time.
jget() { sed -n 's/.*"'"$2"'":\([-+.0-9eE]*\).*/\1/p' "$1"; }
# load NAME ARGS...: runs loadgen with ARGS, its JSON to $sdir/NAME.loadgen.json.
# If the exporter died meanwhile, the table so far is printed and the exit
# status is 1.
load() {
	local name=$1
	shift
	"$out/loadgen" "$@" >"$sdir/$name.loadgen.json" && return 0
	if kill -0 "$EXP_PID" 2>/dev/null; then
		die "$name: loadgen failed"
	fi
	say "$name: the exporter exited during the load; its stderr:"
	tail -n 20 "$sdir/$name.stderr" >&2
	row "exporter" "exited during $name" "running" MISS
	results
	exit 1
}

# per LOADGEN_JSON KEY: the watched process's CPU microseconds per line or write.
per() {
	awk -v c="$(jget "$1" pid_cpu_seconds)" -v n="$(jget "$1" "$2")" 'BEGIN { printf "%.1f", (n > 0) ? c * 1e6 / n : 0 }'
}
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# compare METRICS NODE REPORT_JSON: compares the node's counters in a
# /metrics dump with `report --format json` of the same lines: lines,
# unparsed, uploads_rejected and, per action, success/canceled/failed
# (storj_transfers_total summed over satellites) and success_bytes
# (storj_transfer_bytes_total{result="success"}). Prints the differences;
# the status is 0 when there are none.
compare() {
	python3 - "$@" <<'PY'
import json, re, sys

prom, node, rep = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
series = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)')
label = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
top = {"storj_log_lines_total": "lines", "storj_log_lines_unparsed_total": "unparsed",
       "storj_uploads_rejected_total": "uploads_rejected"}
got, seen = {"transfers": {}}, set()
for line in open(prom):
    m = series.match(line)
    if line.startswith("#") or not m:
        continue
    name, labels, value = m.group(1), dict(label.findall(m.group(2) or "")), float(m.group(3))
    if labels.get("node") != node:
        continue
    seen.add(name)
    if name in top:
        got[top[name]] = got.get(top[name], 0) + value
    elif name == "storj_transfers_total":
        t = got["transfers"].setdefault(labels.get("action"), {})
        t[labels.get("result")] = t.get(labels.get("result"), 0) + value
    elif name == "storj_transfer_bytes_total" and labels.get("result") == "success":
        t = got["transfers"].setdefault(labels.get("action"), {})
        t["success_bytes"] = t.get("success_bytes", 0) + value
diffs = []
for name in ("storj_log_lines_total", "storj_transfers_total"):
    if name not in seen:
        diffs.append("%s: no series for node %s" % (name, node))
for key in top.values():
    if rep.get(key, 0) != got.get(key, 0):
        diffs.append("%-32s report %-12s metrics %s" % (key, rep.get(key, 0), "%.0f" % got.get(key, 0)))
rt = rep.get("transfers") or {}
for action in sorted(set(rt) | set(got["transfers"])):
    for res in ("success", "canceled", "failed", "success_bytes"):
        want = (rt.get(action) or {}).get(res, 0)
        have = got["transfers"].get(action, {}).get(res, 0)
        if want != have:
            diffs.append("%-32s report %-12s metrics %.0f" % ("transfers.%s.%s" % (action, res), want, have))
for d in diffs:
    print("  " + d)
sys.exit(1 if diffs else 0)
PY
}

# check_counts NAME URL NODE FILE: dumps /metrics, runs report on FILE and
# compares them; sets COUNTS to MATCH or MISMATCH.
check_counts() {
	local name=$1 url=$2 node=$3 file=$4
	curl -sf --max-time 10 -o "$sdir/$name.prom" "$url/metrics" || true
	if "$bin" report --format json "$file" >"$sdir/$name.report.json" 2>"$sdir/$name.report.stderr" &&
		compare "$sdir/$name.prom" "$node" "$sdir/$name.report.json" >"$sdir/$name.diff"; then
		COUNTS=MATCH
	else
		COUNTS=MISMATCH
		say "$name: counters differ from report (see ${rel}/$name.diff):"
		head -n 20 "$sdir/$name.diff" >&2
	fi
}

# Results: one row per measurement, printed as a table at the end.
status=0
rows=()
row() { # MEASUREMENT VALUE [TARGET RESULT]
	rows+=("$(printf '%-38s %18s   %-12s %s' "$1" "$2" "${3:-}" "${4:-}")")
	if [ "${4:-}" = MISS ]; then status=1; fi
}
ok() { # VALUE OP LIMIT: prints OK or MISS
	if awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
		exit !(op == "<" ? v < l : op == "<=" ? v <= l : op == ">=" ? v >= l : v == l) }'; then
		echo OK
	else
		echo MISS
	fi
}
match() { if [ "$1" = MATCH ]; then echo OK; else echo MISS; fi; }
# results prints the table.
results() {
	echo
	echo "storagenode-exporter serve benchmark: seed $SEED$([ "$QUICK" = 1 ] && echo ', QUICK (halved durations)')"
	echo "host: $(nproc) CPUs, $(go env GOVERSION), CPU from /proc/PID/stat at $hz ticks/s"
	echo
	printf '%-38s %18s   %-12s %s\n' "measurement" "value" "target" ""
	printf '%-38s %18s   %-12s %s\n' "--------------------------------------" "------------------" "------------" "----"
	printf '%s\n' ${rows[@]+"${rows[@]}"}
	echo
	echo "raw outputs: $rel/ (*.loadgen.json, *.prom, *.report.json, *.diff, four.rss, scrape.times, *.stderr)"
}

# --- 4. burst ---------------------------------------------------------------
say "(1) burst: $burst_lines lines in one write"
: >"$sdir/logs/burst/A.log"
start_exporter burst "A:$rel/logs/burst/A.log"
load burst -o "$sdir/logs/burst/A.log" -src "$sdir/src/burst.log" -rate 0
t0=$(jget "$sdir/burst.loadgen.json" start_unix)
wait_lines "$EXP_URL" A "$burst_lines" "$burst_deadline"
if [ -n "$SEEN_AT" ]; then
	catchup=$(secs "$t0" "$SEEN_AT")
	row "(1) burst $burst_lines lines: catch-up" "$catchup s" "<= $burst_deadline s" "$(ok "$catchup" "<=" "$burst_deadline")"
else
	row "(1) burst $burst_lines lines: catch-up" "timeout" "<= $burst_deadline s" MISS
fi
# Wait a moment for lines beyond the target (there must be none).
sleep 0.3
check_counts burst "$EXP_URL" A "$sdir/logs/burst/A.log"
seen=$(metric "$EXP_URL" 'storj_log_lines_total{node="A"}')
row "    lines counted" "$seen" "$burst_lines" "$(ok "${seen:-0}" "==" "$burst_lines")"
row "    counters vs report" "$COUNTS" "MATCH" "$(match "$COUNTS")"
stop_exporter "$EXP_PID"

# --- 5. steady load ---------------------------------------------------------
say "(2) steady: $steady_rate lines/s for $steady_secs s"
: >"$sdir/logs/steady/B.log"
start_exporter steady "B:$rel/logs/steady/B.log"
load steady -o "$sdir/logs/steady/B.log" -src "$sdir/src/steady.log" -rate "$steady_rate" \
	-duration "${steady_secs}s" -batch 10ms -pid "$EXP_PID" -hz "$hz"
t_end=$(jget "$sdir/steady.loadgen.json" end_unix)
written=$(jget "$sdir/steady.loadgen.json" lines)
wait_lines "$EXP_URL" B "$written" 30
lag=$((written - ${FIRST:-0}))
rate=$(awk -v r="$(jget "$sdir/steady.loadgen.json" rate)" 'BEGIN { printf "%.0f", r }')
cpu=$(awk -v c="$(jget "$sdir/steady.loadgen.json" pid_cpu_percent)" 'BEGIN { printf "%.1f", c }')
row "(2) steady: lines written" "$written" "" ""
row "    achieved rate (load generator)" "$rate lines/s" ">= $steady_min_rate" "$(ok "$rate" ">=" "$steady_min_rate")"
row "    lag at the end" "$lag lines" "" ""
if [ -n "$SEEN_AT" ]; then
	caught=$(secs "$t_end" "$SEEN_AT")
	row "    all counted after the end" "$caught s" "<= $steady_catchup s" "$(ok "$caught" "<=" "$steady_catchup")"
else
	row "    all counted after the end" "no ($SEEN after 30 s)" "<= $steady_catchup s" MISS
fi
check_counts steady "$EXP_URL" B "$sdir/logs/steady/B.log"
row "    counters vs report" "$COUNTS" "MATCH" "$(match "$COUNTS")"
row "    exporter CPU while writing" "$cpu % of 1 core" "" ""
row "    exporter CPU per line" "$(per "$sdir/steady.loadgen.json" lines) us" "" ""
stop_exporter "$EXP_PID"

# --- 6. busy node -----------------------------------------------------------
# The CPU is read by the load generator from the exporter's /proc/PID/stat
# right before its first write and after its last: nothing else (no scrape,
# not the load generator's own CPU) is in the window.
say "(3) busy node: $busy_rate lines/s for $busy_secs s"
: >"$sdir/logs/busy/C.log"
start_exporter busy "C:$rel/logs/busy/C.log"
load busy -o "$sdir/logs/busy/C.log" -src "$sdir/src/steady.log" -rate "$busy_rate" \
	-duration "${busy_secs}s" -batch "$busy_batch" -pid "$EXP_PID" -hz "$hz"
written=$(jget "$sdir/busy.loadgen.json" lines)
cpu=$(awk -v c="$(jget "$sdir/busy.loadgen.json" pid_cpu_percent)" 'BEGIN { printf "%.2f", c }')
wait_lines "$EXP_URL" C "$written" 10
writes=$(jget "$sdir/busy.loadgen.json" writes)
row "(3) busy node $busy_rate lines/s: CPU" "$cpu % of 1 core" "< $busy_max_cpu %" "$(ok "$cpu" "<" "$busy_max_cpu")"
row "    lines counted" "$SEEN/$written" "all" "$(ok "$SEEN" "==" "$written")"
row "    writes (one every $busy_batch)" "$writes" "" ""
row "    exporter CPU per write" "$(per "$sdir/busy.loadgen.json" writes) us" "" ""
stop_exporter "$EXP_PID"

# --- 7. four nodes: RSS and scrape time -------------------------------------
say "(4) four nodes, $feed_lines lines each"
specs=()
for i in 1 2 3 4; do
	: >"$sdir/logs/four/N$i.log"
	specs+=("N$i:$rel/logs/four/N$i.log")
done
start_exporter four "${specs[@]}"
for i in 1 2 3 4; do
	load "four.N$i" -o "$sdir/logs/four/N$i.log" -src "$sdir/src/feed$i.log" -rate 0
done
counted=0
for i in 1 2 3 4; do
	wait_lines "$EXP_URL" "N$i" "$feed_lines" 60
	counted=$((counted + SEEN))
done
# rss_kb PID FIELD: a VmRSS/VmHWM figure in kB, empty if the process is gone.
rss_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || true; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
echo "after feeding: VmRSS $(rss_kb "$EXP_PID" VmRSS) kB, VmHWM $(rss_kb "$EXP_PID" VmHWM) kB" >"$sdir/four.rss"
all=MATCH
for i in 1 2 3 4; do
	check_counts "four.N$i" "$EXP_URL" "N$i" "$sdir/logs/four/N$i.log"
	[ "$COUNTS" = MATCH ] || all=MISMATCH
done

say "(5) $scrapes scrapes of /metrics"
curl -sf --max-time 10 -o "$sdir/four.metrics.txt" "$EXP_URL/metrics" || : >"$sdir/four.metrics.txt"
nseries=$(grep -c -v -e '^#' -e '^$' "$sdir/four.metrics.txt" || true)
nbytes=$(stat -c %s "$sdir/four.metrics.txt")
# What Prometheus asks for: OpenMetrics or text, gzip-compressed.
accept='application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.2'
: >"$sdir/scrape.times"
for ((i = 0; i < scrapes; i++)); do
	curl -sf --max-time 10 -o /dev/null -H "Accept: $accept" -H 'Accept-Encoding: gzip' \
		-w '%{time_total} %{size_download} %{http_code}\n' "$EXP_URL/metrics" >>"$sdir/scrape.times" || true
done
failed=$(awk '$3 != 200 { n++ } END { print n + 0 }' "$sdir/scrape.times")
read -r med mx gz < <(awk '$3 == 200' "$sdir/scrape.times" | sort -n | awk '
	{ t[NR] = $1 * 1000; b = $2 }
	END { m = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2; printf "%.1f %.1f %d\n", m, t[NR], b }')
rss=$(rss_kb "$EXP_PID" VmRSS)
hwm=$(rss_kb "$EXP_PID" VmHWM)
echo "after $scrapes scrapes: VmRSS $rss kB, VmHWM $hwm kB" >>"$sdir/four.rss"
# The Go runtime's view of that memory, from the last scrape.
curl -sf --max-time 10 "$EXP_URL/metrics" |
	grep -E '^(go_memstats_(heap_(alloc|inuse|idle|released|sys)|stack_inuse|sys)_bytes|go_gc_gogc_percent|go_gc_gomemlimit_bytes|go_goroutines) ' \
		>>"$sdir/four.rss" || true
stop_exporter "$EXP_PID"

row "(4) 4 nodes x $feed_lines lines: counted" "$counted" "$((4 * feed_lines))" "$(ok "$counted" "==" "$((4 * feed_lines))")"
row "    counters vs report (4 nodes)" "$all" "MATCH" "$(match "$all")"
rss_row() { # MEASUREMENT KB
	if [ -n "$2" ]; then
		row "$1" "$(mb "$2") MB" "< $max_rss_mb MB" "$(ok "$(mb "$2")" "<" "$max_rss_mb")"
	else
		row "$1" "n/a (exporter gone)" "< $max_rss_mb MB" MISS
	fi
}
rss_row "    VmRSS (after the scrapes)" "$rss"
rss_row "    VmHWM (peak RSS)" "$hwm"
if [ "$failed" -lt "$scrapes" ]; then
	row "(5) scrape /metrics ($scrapes x): median" "$med ms" "< $max_scrape_ms ms" "$(ok "$med" "<" "$max_scrape_ms")"
	row "    max" "$mx ms" "< $max_scrape_ms ms" "$(ok "$mx" "<" "$max_scrape_ms")"
fi
if [ "$failed" -gt 0 ]; then
	row "(5) failed scrapes" "$failed of $scrapes" "0" MISS
fi
row "    series" "$nseries" "" ""
row "    response size (plain / gzip)" "$(awk -v a="$nbytes" -v b="$gz" 'BEGIN { printf "%.0f / %.0f KB", a / 1024, b / 1024 }')" "" ""

# --- 8. results -------------------------------------------------------------
results
exit "$status"
