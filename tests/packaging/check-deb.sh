#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# check-deb.sh OUTDIR: builds the .deb with scripts/build-deb, then checks it:
#   - lintian (with --pedantic) reports no error and no warning (overrides, if any, say why);
#   - the package holds every file the system needs, at the system paths;
#   - the maintainer scripts enable and start the unit (dh_installsystemd) and create the
#     tmpfiles entry (dh_installtmpfiles).
# Prints one "PASS name" or "FAIL name" line per check; exits non-zero on any failure.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$top/build-deb}
fail=0
pass() { echo "PASS $1"; }
flunk() { echo "FAIL $1${2:+: $2}"; fail=1; }

deb=$("$top/scripts/build-deb" "$out" | tail -n 1)
if [ ! -f "$deb" ]; then
        flunk deb-build "dpkg-buildpackage -b -us -uc made no package"
        exit 1
fi
pass deb-build

# lintian refuses to run as root without --allow-root on newer versions; bookworm only warns.
tags=$(lintian --pedantic --tag-display-limit 0 "$out"/hwsecd_*.changes 2>&1 | grep -v '^running with root privileges')
if grep -qE '^[EW]: ' <<<"$tags"; then
        flunk lintian "$(grep -E '^[EW]: ' <<<"$tags")"
else
        pass lintian
        [ -n "$tags" ] && echo "$tags" | sed 's/^/  lintian (info): /'
fi

contents=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|')
missing=()
for f in /usr/libexec/hwsecd /usr/bin/hwsecctl /lib/systemd/system/hwsecd.service \
         /lib/udev/rules.d/60-hwsecd.rules /usr/lib/tmpfiles.d/hwsecd.conf \
         /usr/share/dbus-1/system.d/org.hwsecd1.conf /usr/share/dbus-1/system-services/org.hwsecd1.service \
         /usr/share/polkit-1/actions/org.hwsecd1.policy /usr/share/man/man8/hwsecd.8.gz \
         /usr/share/man/man1/hwsecctl.1.gz /usr/share/man/man5/hwsecd.conf.5.gz \
         /usr/share/bash-completion/completions/hwsecctl /usr/share/doc/hwsecd/copyright \
         /usr/share/cockpit/hwsecd/manifest.json /usr/share/cockpit/hwsecd/index.html \
         /usr/share/cockpit/hwsecd/hwsecd.js /usr/share/cockpit/hwsecd/hwsecd.css; do
        grep -qxF "$f" <<<"$contents" || missing+=("$f")
done
for xml in "$top"/dbus/org.hwsecd1.*.xml; do
        grep -qxF "/usr/share/dbus-1/interfaces/$(basename "$xml")" <<<"$contents" || missing+=("$(basename "$xml")")
done
if [ ${#missing[@]} -eq 0 ]; then pass deb-contents; else flunk deb-contents "missing ${missing[*]}"; fi

ctrl=$(mktemp -d)
trap 'rm -rf "$ctrl"' EXIT
dpkg-deb -e "$deb" "$ctrl"
if grep -q "deb-systemd-helper enable 'hwsecd.service'" "$ctrl/postinst" 2>/dev/null &&
   grep -q -- "--create hwsecd.conf" "$ctrl/postinst" 2>/dev/null &&
   grep -q "deb-systemd-helper purge 'hwsecd.service'" "$ctrl/postrm" 2>/dev/null; then
        pass deb-maintscripts
else
        flunk deb-maintscripts "postinst must enable the unit and create the tmpfiles entry, postrm must purge it"
fi
exit $fail
