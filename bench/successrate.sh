#!/usr/bin/env bash
# successrate.sh LOGFILE
#
# Re-creation of the method of the community storage-node "successrate.sh"
# script, used as the baseline in bench/report.sh: every category is counted
# by its own grep pipeline over the whole log (one full pass per category),
# and the counts are turned into success rates.
#
# Categories (18 pipelines = 18 passes over the file):
#   audits (GET_AUDIT)         success, recoverable failed, critical failed
#                              ("file does not exist"), canceled
#   downloads (GET)            success, failed, canceled
#   uploads (PUT)              success, rejected, failed, canceled
#   repair downloads           success, failed, canceled   (GET_REPAIR)
#   repair uploads             success, failed, canceled   (PUT_REPAIR)
#   deletes                    success (the script kept this pass from the
#                              days of direct deletes, before v1.118)
#
# GET and PUT are matched with their quotes ('"GET"', '"PUT"') so that they
# do not also match GET_AUDIT, GET_REPAIR or PUT_REPAIR. The grep pipelines
# read the file directly (the community script pipes `cat`/`docker logs` into
# each one, which is slower); the pass count is what the comparison is about.

set -u

if [ $# -ne 1 ]; then
	echo "usage: $0 LOGFILE" >&2
	exit 2
fi
LOG=$1
if [ ! -r "$LOG" ]; then
	echo "$0: cannot read $LOG" >&2
	exit 1
fi

# --- audits -----------------------------------------------------------------
audit_success=$(grep GET_AUDIT "$LOG" | grep downloaded -c)
audit_failed_recoverable=$(grep GET_AUDIT "$LOG" | grep failed | grep -v 'file does not exist' -c)
audit_failed_critical=$(grep GET_AUDIT "$LOG" | grep failed | grep 'file does not exist' -c)
audit_canceled=$(grep GET_AUDIT "$LOG" | grep canceled -c)

# --- downloads (customer egress) --------------------------------------------
dl_success=$(grep '"GET"' "$LOG" | grep downloaded -c)
dl_failed=$(grep '"GET"' "$LOG" | grep 'download failed' -c)
dl_canceled=$(grep '"GET"' "$LOG" | grep 'download canceled' -c)

# --- uploads (customer ingress) ---------------------------------------------
put_success=$(grep '"PUT"' "$LOG" | grep uploaded -c)
put_rejected=$(grep 'upload rejected' "$LOG" -c)
put_failed=$(grep '"PUT"' "$LOG" | grep 'upload failed' -c)
put_canceled=$(grep '"PUT"' "$LOG" | grep 'upload canceled' -c)

# --- repair downloads -------------------------------------------------------
get_repair_success=$(grep GET_REPAIR "$LOG" | grep downloaded -c)
get_repair_failed=$(grep GET_REPAIR "$LOG" | grep 'download failed' -c)
get_repair_canceled=$(grep GET_REPAIR "$LOG" | grep 'download canceled' -c)

# --- repair uploads ---------------------------------------------------------
put_repair_success=$(grep PUT_REPAIR "$LOG" | grep uploaded -c)
put_repair_failed=$(grep PUT_REPAIR "$LOG" | grep 'upload failed' -c)
put_repair_canceled=$(grep PUT_REPAIR "$LOG" | grep 'upload canceled' -c)

# --- deletes ----------------------------------------------------------------
deleted=$(grep -c 'deleted' "$LOG")

# pct NUMERATOR DENOMINATOR -> "12.345%" (or "n/a" when the denominator is 0)
pct() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f%%", 100 * a / b; else printf "n/a" }'
}

row() { printf '%-24s%s\n' "$1" "$2"; }

audit_total=$((audit_success + audit_failed_recoverable + audit_failed_critical + audit_canceled))
dl_total=$((dl_success + dl_failed + dl_canceled))
put_total=$((put_success + put_failed + put_canceled))
get_repair_total=$((get_repair_success + get_repair_failed + get_repair_canceled))
put_repair_total=$((put_repair_success + put_repair_failed + put_repair_canceled))

echo "========== AUDIT =============="
row "Critically failed:" "$audit_failed_critical"
row "Critical fail rate:" "$(pct "$audit_failed_critical" "$audit_total")"
row "Recoverable failed:" "$audit_failed_recoverable"
row "Recoverable fail rate:" "$(pct "$audit_failed_recoverable" "$audit_total")"
row "Canceled:" "$audit_canceled"
row "Successful:" "$audit_success"
row "Success rate:" "$(pct "$audit_success" "$audit_total")"
echo "========== DOWNLOAD ==========="
row "Failed:" "$dl_failed"
row "Canceled:" "$dl_canceled"
row "Successful:" "$dl_success"
row "Success rate:" "$(pct "$dl_success" "$dl_total")"
echo "========== UPLOAD ============="
row "Rejected:" "$put_rejected"
row "Acceptance rate:" "$(pct "$put_total" $((put_total + put_rejected)))"
row "Failed:" "$put_failed"
row "Canceled:" "$put_canceled"
row "Successful:" "$put_success"
row "Success rate:" "$(pct "$put_success" "$put_total")"
echo "========== REPAIR DOWNLOAD ===="
row "Failed:" "$get_repair_failed"
row "Canceled:" "$get_repair_canceled"
row "Successful:" "$get_repair_success"
row "Success rate:" "$(pct "$get_repair_success" "$get_repair_total")"
echo "========== REPAIR UPLOAD ======"
row "Failed:" "$put_repair_failed"
row "Canceled:" "$put_repair_canceled"
row "Successful:" "$put_repair_success"
row "Success rate:" "$(pct "$put_repair_success" "$put_repair_total")"
echo "========== DELETE ============="
row "Deleted:" "$deleted"
