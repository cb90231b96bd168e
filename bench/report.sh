#!/usr/bin/env bash
# bench/report.sh [-n LINES] [-seed SEED]
#
# Benchmarks `storagenode-exporter report --format json` on a generated
# 1,000,000-line storage node log against two baselines, and checks its
# output against the counts the generator computed. See bench/README.md.
#
# Environment:
#   N        number of log lines (default 1000000; -n overrides)
#   SEED     generator seed (default 1; -seed overrides)
#   SNE_BIN  use this command instead of building ./cmd/storagenode-exporter
#   RUNS     timed runs per command, best one counts (default 3)
#
# Exit status: 0 all targets met and JSON matches; 1 a target missed or the
# JSON differs; 2 usage or setup error; 3 the exporter binary is not available
# (only the baselines were measured).

# Functions below are called indirectly (through best/measure).
# shellcheck disable=SC2317
set -euo pipefail
export LC_NUMERIC=C # EPOCHREALTIME and awk use "." as decimal point

N=${N:-1000000}
SEED=${SEED:-1}
RUNS=${RUNS:-3}

usage() { sed -n '2,17s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

while [ $# -gt 0 ]; do
	case $1 in
	-n | --n | -N)
		N=${2:?-n needs a value}
		shift 2
		;;
	-seed | --seed)
		SEED=${2:?-seed needs a value}
		shift 2
		;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		echo "report.sh: unknown argument $1" >&2
		usage >&2
		exit 2
		;;
	esac
done
case $N$SEED$RUNS in *[!0-9]*)
	echo "report.sh: N, SEED and RUNS must be non-negative integers" >&2
	exit 2
	;;
esac
if [ "$N" -lt 1 ] || [ "$RUNS" -lt 1 ]; then
	echo "report.sh: N and RUNS must be at least 1" >&2
	exit 2
fi

bench=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$bench/.." && pwd)
out=$bench/out
mkdir -p "$out"
cd "$root"

say() { printf '>> %s\n' "$*" >&2; }

# --- 1. build ---------------------------------------------------------------
say "building bench/genlog"
go build -o "$out/genlog" ./bench/genlog

have_bin=1
if [ -n "${SNE_BIN:-}" ]; then
	bin=$SNE_BIN
	say "using SNE_BIN=$bin"
else
	bin=$out/storagenode-exporter
	say "building ./cmd/storagenode-exporter"
	if ! go build -o "$bin" ./cmd/storagenode-exporter 2>"$out/build.err"; then
		say "cannot build ./cmd/storagenode-exporter (see bench/out/build.err); measuring the baselines only"
		have_bin=0
	fi
fi

# --- 2. the log -------------------------------------------------------------
log=$out/node-current-n$N-seed$SEED.log
expect=${log%.log}.expect.json
stamp=${log%.log}.stamp
gen_hash=$(cat bench/genlog/main.go internal/loggen/*.go | sha256sum | cut -c1-16)
want="n=$N seed=$SEED format=current genlog=$gen_hash"

if [ -f "$log" ] && [ -f "$expect" ] && [ -f "$stamp" ] &&
	[ "$(cat "$stamp")" = "$want size=$(stat -c %s "$log")" ]; then
	say "reusing $(basename "$log")"
else
	say "generating $N lines (seed $SEED)"
	rm -f "$stamp"
	"$out/genlog" -n "$N" -seed "$SEED" -format current -o "$log" -expect "$expect"
	echo "$want size=$(stat -c %s "$log")" >"$stamp"
fi
size_bytes=$(stat -c %s "$log")

# --- 3. warm the page cache -------------------------------------------------
say "warming the page cache"
cat "$log" >/dev/null

# --- 4. measurements --------------------------------------------------------
# secs T0 T1 -> T1-T0 in seconds
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", b - a }'; }
# min A B -> the smaller number
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (b == "" || a + 0 < b + 0) ? a : b }'; }

# best NAME CMD... : runs CMD $RUNS times (stdout to out/NAME.stdout, stderr to
# out/NAME.stderr) and sets BEST to the fastest wall time in seconds.
best() {
	local name=$1 t0 t1 i rc
	shift
	BEST=""
	for ((i = 1; i <= RUNS; i++)); do
		t0=$EPOCHREALTIME
		rc=0
		"$@" >"$out/$name.stdout" 2>"$out/$name.stderr" || rc=$?
		t1=$EPOCHREALTIME
		if [ "$rc" -ne 0 ]; then
			return "$rc"
		fi
		BEST=$(min "$(secs "$t0" "$t1")" "$BEST")
	done
}

# Peak RSS of the exporter: GNU time if present, else a python3 wrapper that
# reads ru_maxrss of its child (both in KiB).
rss_file=$out/report.rss
if [ -x /usr/bin/time ] && /usr/bin/time -f %M -o /dev/null true 2>/dev/null; then
	measure() { /usr/bin/time -f %M -o "$rss_file" "$@"; }
else
	measure() {
		python3 -c '
import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
open(sys.argv[1], "w").write("%d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)' "$rss_file" "$@"
	}
fi
peak_kib=0
report_run() {
	measure "$@" || return
	local kib
	kib=$(tail -n 1 "$rss_file")
	if [ "$kib" -gt "$peak_kib" ]; then peak_kib=$kib; fi
}

# grep exits 1 when it counts no match; that is still a valid run.
grep_uploaded() { grep -c -F uploaded "$1" || [ $? -eq 1 ]; }

say "timing grep -c -F uploaded (best of $RUNS)"
best grep grep_uploaded "$log"
t_grep=$BEST

say "timing bench/successrate.sh (best of $RUNS)"
best successrate "$bench/successrate.sh" "$log"
t_sr=$BEST

t_rep=""
status=0
if [ "$have_bin" = 1 ]; then
	say "timing storagenode-exporter report --format json (best of $RUNS)"
	rep_rc=0
	best report report_run "$bin" report --format json "$log" || rep_rc=$?
	if [ "$rep_rc" -ne 0 ]; then
		say "the report command failed (exit $rep_rc); stderr:"
		head -n 20 "$out/report.stderr" >&2
		have_bin=0
		status=1
	else
		t_rep=$BEST
	fi
fi

# --- 5. results -------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
check() { # VALUE OP LIMIT: sets CHECK to OK or MISS (and status to 1)
	if awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN { exit !((op == "<=") ? v <= l : v >= l) }'; then
		CHECK=OK
	else
		CHECK=MISS
		status=1
	fi
}

# The grep count must equal uploaded PUT + PUT_REPAIR in the expectation.
grep_count=$(cat "$out/grep.stdout")
expected_uploaded=$(python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["transfers"]
print(t["PUT"]["success"] + t["PUT_REPAIR"]["success"])' "$expect")

echo
echo "storagenode-exporter benchmark: $N lines, $(awk -v b="$size_bytes" 'BEGIN { printf "%.1f MB", b / 1e6 }'), seed $SEED, best of $RUNS"
echo "host: $(nproc) CPUs, $(go env GOVERSION), log $(basename "$log")"
echo
printf '%-34s %14s   %s\n' "measurement" "value" "target"
printf '%-34s %14s   %s\n' "----------------------------------" "--------------" "------------"
printf '%-34s %14s   %s\n' "(a) grep -c -F uploaded" "$(printf '%.3f s' "$t_grep")" ""
printf '%-34s %14s   %s\n' "(b) successrate.sh (18 passes)" "$(printf '%.3f s' "$t_sr")" ""
if [ -n "$t_rep" ]; then
	r_grep=$(ratio "$t_rep" "$t_grep")
	r_sr=$(ratio "$t_sr" "$t_rep")
	peak_mb=$(awk -v k="$peak_kib" 'BEGIN { printf "%.1f", k / 1024 }')
	printf '%-34s %14s   %s\n' "(c) report --format json" "$(printf '%.3f s' "$t_rep")" ""
	printf '%-34s %14s   %s\n' "report throughput" "$(awk -v n="$N" -v t="$t_rep" 'BEGIN { printf "%.0f lines/s", n / t }')" ""
	check "$r_grep" "<=" 8
	printf '%-34s %14s   %s\n' "report time / grep time" "${r_grep}x" "<= 8x     $CHECK"
	check "$r_sr" ">=" 5
	printf '%-34s %14s   %s\n' "successrate time / report time" "${r_sr}x" ">= 5x     $CHECK"
	check "$peak_mb" "<=" 64
	printf '%-34s %14s   %s\n' "report peak RSS" "$peak_mb MB" "<= 64 MB  $CHECK"

	# JSON comparison. The report may carry more keys than the generator
	# knows about (per-satellite counts, error classes, ...): project it onto
	# the expected key paths, then compare key-sorted.
	proj=$out/report.projected.json
	if command -v jq >/dev/null 2>&1 &&
		jq -S --slurpfile e "$expect" '. as $r | reduce ($e[0] | paths(scalars)) as $p (null; setpath($p; $r | getpath($p)))' \
			"$out/report.stdout" >"$proj" 2>/dev/null; then
		if jq -S . "$expect" | cmp -s - "$proj"; then same=1; else same=0; fi
	else
		if python3 - "$out/report.stdout" "$expect" "$proj" <<'PY'; then same=1; else same=0; fi
import json, sys
def project(e, r):
    if isinstance(e, dict):
        return {k: project(v, r.get(k) if isinstance(r, dict) else None) for k, v in e.items()}
    return r
try:
    rep = json.load(open(sys.argv[1]))
except Exception:
    rep = None
exp = json.load(open(sys.argv[2]))
p = project(exp, rep)
json.dump(p, open(sys.argv[3], "w"), indent=2, sort_keys=True)
sys.exit(0 if p == exp else 1)
PY
	fi
	extra=$(python3 -c '
import json, sys
try:
    r, e = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
    print(" ".join(sorted(set(r) - set(e))) if isinstance(r, dict) else "")
except Exception:
    pass' "$out/report.stdout" "$expect")
	if [ "$same" = 1 ]; then
		printf '%-34s %14s\n' "report JSON vs generator" "MATCH"
		[ -n "$extra" ] && echo "  (extra report keys not checked: $extra)"
	else
		printf '%-34s %14s\n' "report JSON vs generator" "MISMATCH"
		status=1
		echo
		echo "differences (expected vs report, projected onto the expected keys):"
		python3 -c '
import json, sys
def walk(e, r, path):
    if isinstance(e, dict):
        for k in sorted(e):
            walk(e[k], r.get(k) if isinstance(r, dict) else None, path + "." + k)
    elif e != r:
        print("  %-40s expected %-14s report %s" % (path[1:], json.dumps(e), json.dumps(r)))
try:
    rep = json.load(open(sys.argv[2]))
except Exception as err:
    print("  report output is not JSON: %s" % err)
    rep = None
walk(json.load(open(sys.argv[1])), rep, "")' "$expect" "$out/report.stdout" | head -n 40 || true
	fi
else
	printf '%-34s %14s\n' "(c) report --format json" "n/a"
	[ "$status" = 0 ] && status=3
fi
if [ "$grep_count" != "$expected_uploaded" ]; then
	echo "warning: grep counted $grep_count 'uploaded' lines, the generator wrote $expected_uploaded" >&2
	status=1
fi
echo
echo "expected counts: ${expect#"$root"/}   report output: ${out#"$root"/}/report.stdout"
echo "successrate.sh output: ${out#"$root"/}/successrate.stdout"
exit "$status"
