#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# check-polkitd.sh POLICY
#
# The strict check of a polkit .policy file: load it into the real polkitd on a private bus,
# inside a mount namespace where /usr/share/polkit-1/actions holds only this file and no
# distribution rules apply. Then:
#  - pkaction lists exactly the actions of the file, and `pkaction --verbose` works for each;
#  - the implicit authorisations polkitd reports equal the file's defaults;
#  - uid 65534 (no session, so allow_any applies) gets "authentication required" (pkcheck rc 2)
#    for every action, never a flat no;
#  - polkitd's log has no WARNING (bad values only show up there).
# Needs root (unshare -m, polkitd switches to its own user). Exit 77 when not root.
set -euo pipefail

policy=$(realpath "$1")
here=$(dirname "$(realpath "$0")")
[ "$(id -u)" = 0 ] || { echo "needs root (unshare -m, polkitd)"; exit 77; }
for p in dbus-daemon /usr/lib/polkit-1/polkitd pkaction pkcheck unshare setpriv busctl xmllint; do
        command -v "$p" >/dev/null || { echo "$p not found" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/hwsecd-polkitd.XXXXXX)
chmod 755 "$tmp"
bus_pid= pk_pid=
cleanup() {
        [ -n "$pk_pid" ] && { kill -TERM -- "-$pk_pid" 2>/dev/null || true; wait "$pk_pid" 2>/dev/null || true; }
        [ -n "$bus_pid" ] && { kill -TERM -- "-$bus_pid" 2>/dev/null || true; wait "$bus_pid" 2>/dev/null || true; }
        rm -rf "$tmp"
}
trap cleanup EXIT
trap "exit 1" INT TERM

mkdir -p "$tmp/actions" "$tmp/rules.d" "$tmp/empty"
cp "$policy" "$tmp/actions/"
chmod -R a+rX "$tmp"
addr=$(/usr/bin/python3 "$here/privbus.py" "$tmp/bus" /usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf)
export DBUS_SYSTEM_BUS_ADDRESS=$addr

setsid dbus-daemon --config-file="$tmp/bus/bus.conf" --nofork --nopidfile >"$tmp/bus.log" 2>&1 &
bus_pid=$!
wait_name() {
        local i
        for i in $(seq 500); do
                busctl --address="$addr" call org.freedesktop.DBus /org/freedesktop/DBus \
                        org.freedesktop.DBus NameHasOwner s "$1" 2>/dev/null | grep -q true && return 0
                sleep 0.02
        done
        echo "$1 did not appear on the bus" >&2
        return 1
}
wait_name org.freedesktop.DBus

setsid unshare --mount --propagation private sh -c '
        mount --bind "$1/actions" /usr/share/polkit-1/actions &&
        mount --bind "$1/rules.d" /etc/polkit-1/rules.d &&
        mount --bind "$1/empty" /usr/share/polkit-1/rules.d &&
        exec /usr/lib/polkit-1/polkitd' sh "$tmp" >"$tmp/polkitd.log" 2>&1 &
pk_pid=$!
wait_name org.freedesktop.PolicyKit1 || { cat "$tmp/polkitd.log"; exit 1; }

fail=0
expected=$(/usr/bin/python3 -c '
import sys, xml.etree.ElementTree as ET
for a in ET.parse(sys.argv[1]).getroot().findall("action"):
    d = a.find("defaults")
    print(a.get("id"), *(d.find(t).text.strip() for t in ("allow_any", "allow_inactive", "allow_active")))
' "$policy")
listed=$(pkaction | sort)
if [ "$listed" != "$(cut -d' ' -f1 <<<"$expected" | sort)" ]; then
        echo "FAIL: pkaction lists:"; echo "$listed"; fail=1
fi

while read -r id any inactive active; do
        out=$(pkaction --action-id "$id" --verbose 2>&1) || { echo "FAIL: pkaction $id: $out"; fail=1; continue; }
        got_any=$(sed -n 's/^ *implicit any: *//p' <<<"$out")
        got_inactive=$(sed -n 's/^ *implicit inactive: *//p' <<<"$out")
        got_active=$(sed -n 's/^ *implicit active: *//p' <<<"$out")
        if [ "$got_any $got_inactive $got_active" != "$any $inactive $active" ]; then
                echo "FAIL: $id: polkitd reports '$got_any $got_inactive $got_active', file says '$any $inactive $active'"
                fail=1
        fi
        rc=0
        setpriv --reuid=65534 --regid=65534 --clear-groups \
                sh -c 'exec pkcheck --action-id "$1" --process $$' sh "$id" >/dev/null 2>&1 || rc=$?
        if [ "$rc" = 2 ]; then
                echo "$id: implicit $any/$inactive/$active; uid 65534 gets: authentication required"
        else
                echo "FAIL: $id: pkcheck as uid 65534 gave rc $rc, expected 2 (authentication required)"
                fail=1
        fi
done <<<"$expected"

if grep -E 'WARNING|CRITICAL|Error parsing' "$tmp/polkitd.log"; then
        echo "FAIL: polkitd complained while loading $policy"
        fail=1
fi
echo "polkitd log:"; sed 's/^/  /' "$tmp/polkitd.log"
exit $fail
