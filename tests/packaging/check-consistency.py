#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""check-consistency.py UNIT DBUS_SERVICE BUS_POLICY UDEV_RULE

The four files that put hwsecd on a host must agree with each other:
 - the unit is Type=dbus with BusName=org.hwsecd1, has its state and configuration
   directories, the watchdog and an [Install] section (so `systemctl enable` works), and its
   TasksMax= allows every worker thread of daemon/worker.h plus the main thread;
 - the D-Bus activation file names the same bus name, never execs anything itself
   (Exec=/bin/false) and hands activation to a unit name the unit answers to;
 - the bus policy lets root own exactly that name;
 - the udev rule pulls in that unit for the misc devices sev and sfs.
"""
import os
import re
import sys
import xml.etree.ElementTree as ET

BUS_NAME = "org.hwsecd1"


def parse_ini(path):
    """systemd/D-Bus style ini: repeated keys accumulate."""
    sections = {}
    cur = None
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                cur = sections.setdefault(line[1:-1], {})
                continue
            key, _, value = line.partition("=")
            cur.setdefault(key.strip(), []).append(value.strip())
    return sections


def one(sec, key):
    v = sec.get(key, [])
    return v[-1] if v else None


def main(unit, dbus_service, bus_policy, udev_rule):
    errors = []

    def expect(cond, msg):
        if not cond:
            errors.append(msg)

    u = parse_ini(unit)
    svc = u.get("Service", {})
    inst = u.get("Install", {})
    unit_name = os.path.basename(unit)
    names = {unit_name} | {a for v in inst.get("Alias", []) for a in v.split()}

    expect(one(svc, "Type") == "dbus", "unit: Type=dbus expected")
    expect(one(svc, "BusName") == BUS_NAME, "unit: BusName=%s expected" % BUS_NAME)
    expect(one(svc, "StateDirectory") == "hwsecd", "unit: StateDirectory=hwsecd expected")
    expect(one(svc, "ConfigurationDirectory") == "hwsecd",
           "unit: ConfigurationDirectory=hwsecd expected")
    expect(one(svc, "WatchdogSec") == "3min", "unit: WatchdogSec=3min expected")
    expect(one(svc, "DevicePolicy") == "closed", "unit: DevicePolicy=closed expected")
    allowed = set(svc.get("DeviceAllow", []))
    expect(allowed == {"/dev/sev rw", "/dev/sfs rw"},
           "unit: DeviceAllow= must be exactly /dev/sev rw and /dev/sfs rw, is %s" % sorted(allowed))
    families = set(" ".join(svc.get("RestrictAddressFamilies", [])).split())
    expect(families == {"AF_UNIX", "AF_NETLINK"},
           "unit: RestrictAddressFamilies= must be AF_UNIX AF_NETLINK, is %s" % sorted(families))
    expect(one(svc, "ProtectSystem") == "strict", "unit: ProtectSystem=strict expected")
    expect(one(svc, "CapabilityBoundingSet") == "CAP_SYS_ADMIN",
           "unit: CapabilityBoundingSet=CAP_SYS_ADMIN expected")
    expect(one(svc, "ProtectKernelModules") == "yes", "unit: hwsecd never loads modules")
    expect("multi-user.target" in " ".join(inst.get("WantedBy", [])),
           "unit: [Install] WantedBy=multi-user.target expected (systemctl enable)")
    # Every thread goes through daemon/worker.c, whose pools add up to WORKER_THREADS_MAX;
    # TasksMax= must leave room for all of them and the main thread.
    worker_h = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "daemon", "worker.h")
    with open(worker_h, encoding="utf-8") as f:
        threads = int(re.search(r"#define WORKER_THREADS_MAX (\d+)U", f.read()).group(1))
    tasks = one(svc, "TasksMax") or ""
    expect(tasks.isdigit() and int(tasks) >= threads + 1,
           "unit: TasksMax=%s leaves no room for the main thread and WORKER_THREADS_MAX=%d workers"
           % (tasks, threads))
    execstart = one(svc, "ExecStart") or ""
    expect(execstart.split()[0].endswith("/hwsecd") if execstart else False,
           "unit: ExecStart= must run hwsecd, is %r" % execstart)

    d = parse_ini(dbus_service).get("D-BUS Service", {})
    expect(one(d, "Name") == BUS_NAME, "dbus service: Name=%s expected" % BUS_NAME)
    expect(one(d, "Exec") == "/bin/false", "dbus service: Exec=/bin/false expected (systemd starts it)")
    expect(one(d, "User") == "root", "dbus service: User=root expected")
    expect(one(d, "SystemdService") in names,
           "dbus service: SystemdService=%s is not a name of the unit (%s)"
           % (one(d, "SystemdService"), sorted(names)))

    root = ET.parse(bus_policy).getroot()
    owners = {(p.get("user"), p.get("context"), a.get("own"))
              for p in root.findall("policy") for a in p.findall("allow") if a.get("own")}
    expect(owners == {("root", None, BUS_NAME)},
           "bus policy: only root may own %s; own rules are %s" % (BUS_NAME, sorted(map(str, owners))))

    with open(udev_rule, encoding="utf-8") as f:
        rules = [ln.strip() for ln in f if ln.strip() and not ln.lstrip().startswith("#")]
    wants = [r for r in rules if "SYSTEMD_WANTS" in r]
    expect(len(wants) == 1, "udev rule: one SYSTEMD_WANTS line expected")
    for r in wants:
        m = re.search(r'ENV\{SYSTEMD_WANTS\}\+="([^"]+)"', r)
        expect(m is not None and m.group(1) in names,
               "udev rule: SYSTEMD_WANTS must name the unit (%s)" % sorted(names))
        expect('SUBSYSTEM=="misc"' in r, 'udev rule: SUBSYSTEM=="misc" expected')
        expect(re.search(r'KERNEL=="(sev\|sfs|sfs\|sev)"', r) is not None,
               'udev rule: KERNEL=="sev|sfs" expected')
        expect('TAG+="systemd"' in r, 'udev rule: TAG+="systemd" expected')

    for e in errors:
        print("FAIL:", e)
    if not errors:
        print("unit %s (names %s), bus name %s, activation via %s, udev wants %s: consistent"
              % (unit_name, " ".join(sorted(names)), BUS_NAME, one(d, "SystemdService"),
                 m.group(1)))
    return 1 if errors else 0


if __name__ == "__main__":
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
