#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# check-busload.sh BUSLOAD PRIVBUS_PY
#
# busload against dbus-daemon itself on a private bus: sequential and windowed calls report all
# calls with no errors, GetAll works, error replies are counted and fail the run, bad usage is
# rc 2. No timing is asserted.
set -euo pipefail

busload=$(realpath "$1") privbus=$2
tmp=$(mktemp -d)
bus_pid=
cleanup() {
        [ -n "$bus_pid" ] && { kill -TERM -- "-$bus_pid" 2>/dev/null || true; wait "$bus_pid" 2>/dev/null || true; }
        rm -rf "$tmp"
}
trap cleanup EXIT
trap "exit 1" INT TERM

addr=$(/usr/bin/python3 "$privbus" "$tmp")
setsid dbus-daemon --config-file="$tmp/bus.conf" --nofork --nopidfile >"$tmp/bus.log" 2>&1 &
bus_pid=$!
export DBUS_SYSTEM_BUS_ADDRESS=$addr
for i in $(seq 500); do
        busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId >/dev/null 2>&1 && break
        sleep 0.02
done

fail=0
check() {       # check EXPECTED_RC PATTERN busload-args...
        local want=$1 pattern=$2 rc=0 out
        shift 2
        out=$("$busload" "$@" 2>&1) || rc=$?
        if [ "$rc" = "$want" ] && grep -Eq -- "$pattern" <<<"$out"; then
                echo "ok: busload $* -> $out"
        else
                echo "FAIL: busload $* -> rc $rc (want $want), output: $out"
                fail=1
        fi
}
D="org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus"
check 0 '^mode=sequential calls=300 errors=0 .*p50_us=[0-9.]+ p90_us=[0-9.]+ p99_us=[0-9.]+ max_us=' $D GetId 300 1
check 0 '^mode=window window=16 calls=500 errors=0 .*rate=[0-9]+' $D GetAll 500 16
check 0 '^mode=sequential calls=50 errors=0' --warmup=0 $D GetAll 50 1
check 1 'calls failed; first error: org.freedesktop.DBus.Error.UnknownMethod' $D NoSuchMethod 20 1
check 1 'calls failed; first error: org.freedesktop.DBus.Error.UnknownMethod' $D NoSuchMethod 40 8
check 2 'Usage' $D GetId 10
check 2 'WINDOW must be' $D GetId 10 0
exit $fail
