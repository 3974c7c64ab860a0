#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""check-polkit-policy.py POLICY [SOURCE...]

xmllint --noout --valid against polkit's DTD (offline, through the XML catalog), then the
rules the DTD cannot express:
 - every action id is org.hwsecd1.<lower-case-words> and has a description and a message;
 - every defaults value is a real polkit value;
 - allow_any is never "no" (cockpit sessions count as remote and must be able to prompt);
 - irreversible actions are auth_admin in all three fields, never *_keep;
 - every action named as a string in the given C sources (the daemon's polkit table) is
   defined here (actions not yet used by the daemon are listed, not failed: areas land their
   methods one by one).
"""
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

VALUES = {"no", "yes", "auth_self", "auth_admin", "auth_self_keep", "auth_admin_keep"}
IRREVERSIBLE = {
    "org.hwsecd1.set-asid-policy",
    "org.hwsecd1.stage-firmware",
    "org.hwsecd1.schedule-firmware-update",
}
REQUIRED = IRREVERSIBLE | {
    "org.hwsecd1.reload",
    "org.hwsecd1.set-log-level",
    "org.hwsecd1.cancel-firmware-update",
}
ACTION_RE = re.compile(r"org\.hwsecd1\.[a-z]+(?:-[a-z]+)*")
QUOTED_RE = re.compile(r'"(org\.hwsecd1\.[a-z]+(?:-[a-z]+)*)"')


def main():
    policy, sources = sys.argv[1], sys.argv[2:]
    errors = []

    r = subprocess.run(["xmllint", "--noout", "--valid", "--nonet", policy],
                       capture_output=True, text=True)
    if r.returncode != 0 or r.stderr.strip():
        errors.append("xmllint --valid: rc %d\n%s" % (r.returncode, r.stderr))

    root = ET.parse(policy).getroot()
    actions = {}
    for a in root.findall("action"):
        aid = a.get("id", "")
        if aid in actions:
            errors.append("%s: defined twice" % aid)
        if not ACTION_RE.fullmatch(aid):
            errors.append("%r: action ids are org.hwsecd1.<lower-case-words>" % aid)
        for tag in ("description", "message"):
            texts = [e.text or "" for e in a.findall(tag) if e.get("{http://www.w3.org/XML/1998/namespace}lang") is None]
            if not texts or len(texts[0].strip()) < 10:
                errors.append("%s: needs a real <%s>" % (aid, tag))
        d = a.find("defaults")
        vals = {}
        for tag in ("allow_any", "allow_inactive", "allow_active"):
            e = d.find(tag) if d is not None else None
            v = (e.text or "").strip() if e is not None else None
            if v is None:
                errors.append("%s: <%s> missing" % (aid, tag))
                continue
            if v not in VALUES:
                errors.append("%s: <%s>%s</%s> is not a polkit value" % (aid, tag, v, tag))
            vals[tag] = v
        if vals.get("allow_any") == "no":
            errors.append("%s: allow_any must not be 'no' (remote sessions could never prompt)" % aid)
        if aid in IRREVERSIBLE:
            for tag, v in vals.items():
                if v != "auth_admin":
                    errors.append("%s is irreversible: <%s> must be auth_admin, not %s" % (aid, tag, v))
        actions[aid] = vals

    for aid in sorted(REQUIRED - actions.keys()):
        errors.append("%s: required action missing" % aid)

    if sources:
        used = set()
        for src in sources:
            with open(src, encoding="utf-8") as f:
                used |= set(QUOTED_RE.findall(f.read()))
        for aid in sorted(used - actions.keys()):
            errors.append("%s: used by the daemon but not defined in %s" % (aid, policy))
        for aid in sorted(actions.keys() - used):
            print("note: %s is not used by the daemon yet" % aid)

    for aid, vals in sorted(actions.items()):
        print("%-40s any=%-16s inactive=%-16s active=%s" % (
            aid, vals.get("allow_any"), vals.get("allow_inactive"), vals.get("allow_active")))
    if errors:
        print("\n".join("FAIL: " + e for e in errors), file=sys.stderr)
        return 1
    print("%d actions, all checks passed" % len(actions))
    return 0


if __name__ == "__main__":
    sys.exit(main())
