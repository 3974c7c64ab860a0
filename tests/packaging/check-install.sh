#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# check-install.sh BUILD_ROOT PREFIX LIBEXECDIR DATADIR
#
# `meson install --destdir` into a scratch directory, then checks that every packaging file is
# where the system looks for it, whatever the prefix: the directories systemd.pc, udev.pc,
# dbus-1.pc and polkit-gobject-1.pc name when present, otherwise the system defaults (never
# prefix-relative paths, which dbus-daemon, udev and polkitd do not read); and that the
# installed unit runs the installed binary.
set -euo pipefail

build=$1 prefix=$2 libexecdir=$3 datadir=$4
case "$libexecdir" in /*) ;; *) libexecdir=$prefix/$libexecdir ;; esac
case "$datadir" in /*) ;; *) datadir=$prefix/$datadir ;; esac

dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --no-rebuild --destdir "$dest" --quiet >/dev/null

pcvar() {       # pcvar PACKAGE VARIABLE FALLBACK
        if pkg-config --exists "$1"; then
                pkg-config --variable="$2" "$1"
        else
                echo "$3"
        fi
}
unitdir=$(pcvar systemd systemdsystemunitdir /lib/systemd/system)
tmpfilesdir=$(pcvar systemd tmpfilesdir /usr/lib/tmpfiles.d)
udevdir=$(pcvar udev udevdir /lib/udev)
dbusdatadir=$(pcvar dbus-1 datadir /usr/share)
servicesdir=$(pcvar dbus-1 system_bus_services_dir /usr/share/dbus-1/system-services)
interfacesdir=$(pcvar dbus-1 interfaces_dir /usr/share/dbus-1/interfaces)
policydir=$(pcvar polkit-gobject-1 policydir /usr/share/polkit-1/actions)
mandir=$(meson introspect "$build" --buildoptions | /usr/bin/python3 -c \
        'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "mandir"))')
case "$mandir" in /*) ;; *) mandir=$prefix/$mandir ;; esac

fail=0
expect() {
        if [ -e "$dest$1" ]; then
                echo "installed: $1"
        else
                echo "FAIL: missing $1"; fail=1
        fi
}
expect "$libexecdir/hwsecd"
expect "$unitdir/hwsecd.service"
expect "$udevdir/rules.d/60-hwsecd.rules"
expect "$dbusdatadir/dbus-1/system.d/org.hwsecd1.conf"
expect "$servicesdir/org.hwsecd1.service"
expect "$policydir/org.hwsecd1.policy"
expect "$tmpfilesdir/hwsecd.conf"
expect "$datadir/doc/hwsecd/packaging.md"
expect "$mandir/man8/hwsecd.8"
expect "$mandir/man1/hwsecctl.1"
expect "$mandir/man5/hwsecd.conf.5"
# bash-completion's loader looks in <its datadir>/bash-completion/completions, where its .pc
# says; with a prefix, our datadir takes that place.
expect "$datadir/bash-completion/completions/hwsecctl"
for page in "$dest$mandir"/man*/*; do
        if grep -q '@[A-Z]*@' "$page"; then
                echo "FAIL: unsubstituted @VARIABLES@ in $page"; fail=1
        fi
        # From the top of the man tree, so that a ".so man8/other.8" page resolves as man-db does.
        if ! (cd "$dest$mandir" && MANWIDTH=80 man --warnings=all -l "${page#"$dest$mandir"/}") 2>&1 >/dev/null |
                { ! grep .; }; then
                echo "FAIL: man reports problems in $page"; fail=1
        fi
done
for xml in "$(dirname "$0")"/../../dbus/org.hwsecd1.*.xml; do
        [ -e "$xml" ] && expect "$interfacesdir/$(basename "$xml")"
done

if [ -e "$dest$unitdir/hwsecd.service" ]; then
        exec_start=$(sed -n 's/^ExecStart=//p' "$dest$unitdir/hwsecd.service")
        if [ "$exec_start" = "$libexecdir/hwsecd" ]; then
                echo "unit ExecStart=$exec_start is the installed binary"
        else
                echo "FAIL: unit ExecStart=$exec_start, installed binary is $libexecdir/hwsecd"; fail=1
        fi
        doc=$(sed -n 's|^Documentation=.*file:\([^ ]*\).*|\1|p' "$dest$unitdir/hwsecd.service")
        if [ -n "$doc" ] && [ -e "$dest$doc" ]; then
                echo "unit Documentation=file:$doc is installed"
        else
                echo "FAIL: unit Documentation= names ${doc:-nothing}, not an installed file"; fail=1
        fi
        if grep -q '@[a-z]*@' "$dest$unitdir/hwsecd.service"; then
                echo "FAIL: unsubstituted @variables@ in the installed unit"; fail=1
        fi
fi
exit $fail
