#!/usr/bin/env bash
# bench/hostile.sh [-quick]
#
# Peak RSS of one hostile line: SIZE_MB (default 300) MB without a newline,
# then a newline and LINES (default 10,000) ordinary lines, read by this
# checkout's binary and, with BEFORE=<commit>, by that commit's too (the
# same machine, one after the other):
# (1) file: serve (sink on) follows a log; the line is appended as a hole of
#     NULs (what `truncate -s +300M node.log` or a crash leaves), then the
#     lines; peak RSS (VmHWM) once storj_log_lines_total counts them all;
# (2) tcp: serve reads a TCP stream that sends the line as 'x' bytes, then
#     the lines; VmHWM once they are all counted;
# (3) report: report --format json on a file holding the hole and the
#     lines; peak RSS (getrusage of the child) and its line count;
# (4) ingest: ingest into a new database, the same file; peak RSS.
# Target (issue 13): each below 256 MB, with every line after the long one
# counted (LINES + 1 lines in all). See bench/README.md.
#
# Environment:
#   BEFORE    a commit to measure too (built in a temporary git worktree)
#   SIZE_MB   the long line's size (default 300; QUICK=1 or -quick: 64)
#   LINES     lines after it (default 10000)
#
# Exit status: 0 every target met by this checkout's binary; 1 a target
# missed or a count wrong; 2 usage or setup error.

set -euo pipefail
export LC_NUMERIC=C

SIZE_MB=${SIZE_MB:-300}
LINES=${LINES:-10000}
usage() { sed -n '2,25s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }
while [ $# -gt 0 ]; do
	case $1 in
	-quick | --quick) SIZE_MB=64 && shift ;;
	-h | --help) usage && exit 0 ;;
	*) echo "hostile.sh: unknown argument $1" >&2 && usage >&2 && exit 2 ;;
	esac
done
if [ "${QUICK:-0}" = 1 ]; then SIZE_MB=64; fi
max_rss_mb=256
want_lines=$((LINES + 1))

bench=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$bench/.." && pwd)
out=$bench/out
hdir=$out/hostile
cd "$root"
# shellcheck source=bench/lib.sh
. "$bench/lib.sh"
need go curl python3 git truncate

# --- build ------------------------------------------------------------------
rm -rf "$hdir"
mkdir -p "$hdir"
say "building bench/genlog and the exporter"
go build -o "$out/genlog" ./bench/genlog || die "cannot build bench/genlog"
build_exporters "$hdir"

"$out/genlog" -n "$LINES" -seed 1 -o "$hdir/lines.log"
# the file of (3) and (4): the hole, its newline, the lines (sparse on disk)
: >"$hdir/hostile.log"
truncate -s "+${SIZE_MB}M" "$hdir/hostile.log"
printf '\n' >>"$hdir/hostile.log"
cat "$hdir/lines.log" >>"$hdir/hostile.log"

# --- helpers ----------------------------------------------------------------
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# serve BIN NAME SOURCE: serve one node A with the sink on, on a free port,
# until its source is up; sets PID and URL.
serve() {
	local bin=$1 name=$2 src=$3 i
	URL=http://127.0.0.1:$(free_port)
	"$hdir/$bin" serve --node "A:$src" --db "$hdir/$bin.$name.db" --no-nodeapi.discover \
		--web.listen-address "${URL#http://}" >"$hdir/$bin.$name.stdout" 2>"$hdir/$bin.$name.stderr" &
	PID=$!
	pids+=("$PID")
	for ((i = 0; i < 1500; i++)); do
		kill -0 "$PID" 2>/dev/null || break
		[ "$(metric "$URL" 'storj_log_source_up{node="A"}')" = 1 ] && return 0
		sleep 0.02
	done
	tail -n 20 "$hdir/$bin.$name.stderr" >&2
	die "$bin: serve did not come up"
}
# counted: waits (at most 5 minutes) until serve counts every line; prints
# the count
counted() {
	local i n=""
	for ((i = 0; i < 3000; i++)); do
		n=$(metric "$URL" 'storj_log_lines_total{node="A"}')
		[ "$n" = "$want_lines" ] && break
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "${n:-0}"
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
# peak CMD...: runs CMD (stdout to $PEAK_OUT) and prints its peak RSS in kB
peak() {
	python3 -c 'import resource, subprocess, sys
with open(sys.argv[1], "wb") as out:
    rc = subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.DEVNULL).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss if rc == 0 else -rc - 1000)' "$PEAK_OUT" "$@"
}

status=0
rows=()
row() { # BIN PROBE HWM_KB LINES
	local res=OK
	if [ "$3" -lt 0 ] || awk -v v="$3" -v l="$max_rss_mb" 'BEGIN { exit !(v / 1024 >= l) }'; then res=MISS; fi
	if [ "$4" != "$want_lines" ]; then res=MISS; fi
	if [ "$1" = after ] && [ "$res" = MISS ]; then status=1; fi
	rows+=("$(printf '%-7s %-8s %12s MB %10s lines   %s' "$1" "$2" "$(mb "$3")" "$4" "$res")")
}

for bin in "${bins[@]}"; do
	# --- (1) a followed file ------------------------------------------------
	say "$bin: (1) file: a ${SIZE_MB} MB hole appended to a followed log, then $LINES lines"
	: >"$hdir/$bin.follow.log"
	serve "$bin" file "$hdir/$bin.follow.log"
	truncate -s "+${SIZE_MB}M" "$hdir/$bin.follow.log"
	{ printf '\n' && cat "$hdir/lines.log"; } >>"$hdir/$bin.follow.log"
	n=$(counted)
	hwm=$(kb "$PID" VmHWM)
	stop "$PID"
	row "$bin" file "$hwm" "$n"

	# --- (2) a TCP stream -----------------------------------------------------
	say "$bin: (2) tcp: ${SIZE_MB} MB without a newline, then $LINES lines"
	rm -f "$hdir/port"
	python3 - "$hdir/port" "$SIZE_MB" "$hdir/lines.log" <<'EOF' &
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
c, _ = s.accept()
chunk = b"x" * (1 << 20)
for _ in range(int(sys.argv[2])):
    c.sendall(chunk)
c.sendall(b"\n")
with open(sys.argv[3], "rb") as f:
    c.sendall(f.read())
c.recv(1)  # until serve goes away
EOF
	spid=$!
	pids+=("$spid")
	for ((i = 0; i < 500; i++)); do [ -s "$hdir/port" ] && break; sleep 0.02; done
	[ -s "$hdir/port" ] || die "the TCP sender did not listen"
	serve "$bin" tcp "127.0.0.1:$(cat "$hdir/port")"
	n=$(counted)
	hwm=$(kb "$PID" VmHWM)
	stop "$PID"
	stop "$spid"
	row "$bin" tcp "$hwm" "$n"

	# --- (3) report -----------------------------------------------------------
	say "$bin: (3) report on the ${SIZE_MB} MB hole and $LINES lines"
	PEAK_OUT=$hdir/$bin.report.json
	hwm=$(peak "$hdir/$bin" report --format json "$hdir/hostile.log")
	n=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["lines"])' "$PEAK_OUT" 2>/dev/null || echo 0)
	row "$bin" report "$hwm" "$n"

	# --- (4) ingest -----------------------------------------------------------
	say "$bin: (4) ingest of the same file"
	PEAK_OUT=$hdir/$bin.ingest.txt
	hwm=$(peak "$hdir/$bin" ingest --progress none --db "$hdir/$bin.ingest.db" "A:$hdir/hostile.log")
	n=$(awk '$1 == "A" { print $3 }' "$PEAK_OUT" | head -n 1)
	row "$bin" ingest "$hwm" "${n:-0}"
done

printf '\nbench/hostile.sh: a %s MB line without a newline, then %s lines (%s lines to count); target: peak RSS < %s MB\n' \
	"$SIZE_MB" "$LINES" "$want_lines" "$max_rss_mb"
printf '%-7s %-8s %15s %16s\n' binary probe "peak RSS" "lines counted"
printf '%s\n' "${rows[@]}"
exit "$status"
