# bench/lib.sh: what the bench scripts share. Source it after setting
# $out (bench/out); it defines:
#   say, die               a line on stderr (die: and exit 2)
#   need TOOL...           exit 2 unless each tool is installed
#   build_exporters DIR    build ./cmd/storagenode-exporter to DIR/after
#                          and, with BEFORE=<commit>, that commit's to
#                          DIR/before (in a temporary git worktree); sets
#                          bins to the names built
#   pids, cleanup          processes to kill on exit (with the worktree)
#   free_port, metric URL SERIES, kb PID FIELD (of /proc/PID/status)
# shellcheck shell=bash disable=SC2034,SC2317

say() { printf '>> %s\n' "$*" >&2; }
die() { say "$*" && exit 2; }
need() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 || die "$(basename "$0") needs $tool"
	done
	[ -r /proc/self/status ] || die "$(basename "$0") needs /proc (Linux)"
}

worktree=""
cleanup_worktree() {
	if [ -n "$worktree" ]; then git worktree remove --force "$worktree" >/dev/null 2>&1 || true; fi
}
build_exporters() {
	local dir=$1
	go build -o "$dir/after" ./cmd/storagenode-exporter || die "cannot build ./cmd/storagenode-exporter"
	bins=(after)
	if [ -n "${BEFORE:-}" ]; then
		worktree=$(mktemp -d "${TMPDIR:-/tmp}/bench-before.XXXXXX")
		git worktree add --detach "$worktree" "$BEFORE" >/dev/null 2>&1 || die "cannot check out $BEFORE"
		say "building $BEFORE ($(git -C "$worktree" log -1 --format=%h))"
		(cd "$worktree" && go build -o "$dir/before" ./cmd/storagenode-exporter) || die "cannot build $BEFORE"
		bins=(before after)
	fi
}

pids=()
cleanup() {
	local p
	for p in ${pids[@]+"${pids[@]}"}; do kill "$p" 2>/dev/null || true; done
	for p in ${pids[@]+"${pids[@]}"}; do wait "$p" 2>/dev/null || true; done
	cleanup_worktree
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
metric() { # URL SERIES: its value as an integer, empty if the scrape fails
	local body
	body=$(curl -sf --max-time 5 "$1/metrics") || return 0
	awk -v k="$2" '$1 == k { v = $2 } END { printf "%.0f\n", v + 0 }' <<<"$body"
}
kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
