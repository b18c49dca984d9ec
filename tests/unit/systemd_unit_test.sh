#!/usr/bin/env bash
# systemd_unit_test.sh UNIT - checks systemd/zonekeeper.service with the
# tools systemd ships: `systemd-analyze verify` must pass and `systemd-analyze
# security --offline=yes` must rate the exposure below 2.0.
#
# The unit's /usr/bin/zonekeeperd need not exist here, and verify refuses a
# command that is not executable, so both checks run on a copy whose
# commands point at /bin/true. Exits 77 (skipped) without systemd-analyze.
set -euo pipefail

unit=${1:?usage: systemd_unit_test.sh PATH/zonekeeper.service}
limit=2.0

if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "systemd-analyze not installed: skipped"
    exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
copy="$tmp/$(basename "$unit")"
sed 's|/usr/bin/zonekeeperd|/bin/true|g' "$unit" > "$copy"

echo "== systemd-analyze verify (commands pointed at /bin/true)"
systemd-analyze verify "$copy"

echo "== systemd-analyze security --offline=yes"
report=$(systemd-analyze security --offline=yes --no-pager "$copy" 2>&1)
grep -E '✗|Overall' <<<"$report" || true
exposure=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$report")
if [[ -z $exposure ]]; then
    echo "no exposure level in the report:"
    echo "$report"
    exit 1
fi
if awk -v e="$exposure" -v l="$limit" 'BEGIN { exit !(e >= l) }'; then
    echo "FAIL: exposure $exposure is not below $limit"
    exit 1
fi
echo "exposure $exposure < $limit: ok"
