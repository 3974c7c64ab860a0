#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# check-unit.sh verify|security UNIT HWSECD
#
# verify:   `systemd-analyze verify --man=no` on a copy of UNIT whose ExecStart= is the build
#           tree's hwsecd. Any output on stderr fails (verify reports unknown keys and bad
#           values as warnings with rc 0).
# security: `systemd-analyze security --offline=true`; prints the table and the exposure and
#           fails above HWSECD_MAX_EXPOSURE (default 1.5).
set -euo pipefail

mode=$1 unit=$2 hwsecd=$(realpath "$3")
max_exposure=${HWSECD_MAX_EXPOSURE:-1.5}

command -v systemd-analyze >/dev/null || { echo "systemd-analyze not found (package systemd)" >&2; exit 1; }
[ -x "$hwsecd" ] || { echo "$hwsecd is not an executable" >&2; exit 1; }

tmp=$(mktemp -d)
stamp=/run/systemd/systemd-units-load
had_stamp=0
[ -e "$stamp" ] && had_stamp=1
cleanup() {
        rm -rf "$tmp"
        # verify, run as root, leaves an empty stamp file behind on the host
        if [ "$had_stamp" = 0 ] && [ -e "$stamp" ]; then rm -f "$stamp"; fi
}
trap cleanup EXIT
trap "exit 1" INT TERM

copy=$tmp/hwsecd.service
grep -q '^ExecStart=' "$unit" || { echo "$unit has no ExecStart=" >&2; exit 1; }
sed "s|^ExecStart=.*|ExecStart=$hwsecd|" "$unit" > "$copy"

case "$mode" in
verify)
        rc=0
        systemd-analyze verify --man=no "$copy" >"$tmp/out" 2>"$tmp/err" || rc=$?
        cat "$tmp/out"
        if [ "$rc" != 0 ] || [ -s "$tmp/err" ]; then
                echo "systemd-analyze verify failed (rc $rc):" >&2
                cat "$tmp/err" >&2
                exit 1
        fi
        echo "systemd-analyze verify: clean"
        ;;
security)
        systemd-analyze security --offline=true --no-pager "$copy" | tee "$tmp/out"
        exposure=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$tmp/out")
        [ -n "$exposure" ] || { echo "no exposure level in the output" >&2; exit 1; }
        echo "exposure: $exposure (limit $max_exposure)"
        # the same limit through systemd-analyze's own check (0-100 scale)
        threshold=$(awk -v m="$max_exposure" 'BEGIN { printf "%d", m * 10 + 0.5 }')
        systemd-analyze security --offline=true --threshold="$threshold" "$copy" >/dev/null 2>&1 || {
                echo "exposure $exposure is above $max_exposure" >&2; exit 1; }
        awk -v e="$exposure" -v m="$max_exposure" 'BEGIN { exit !(e <= m) }' || {
                echo "exposure $exposure is above $max_exposure" >&2; exit 1; }
        ;;
*)
        echo "unknown mode $mode" >&2
        exit 2
        ;;
esac
