#!/usr/bin/python3
"""Guest-side checks of tests/vm/guest/lib.sh that are easier in Python. Each subcommand exits
0 (pass) or 1 and adds its detail to the result line (out/.detail)."""

import glob
import json
import os
import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET

SHARE = os.environ.get("HWSEC_VM_SHARE", "/mnt/share")
DETAIL = os.path.join(SHARE, "out", ".detail")


def detail(msg):
    with open(DETAIL, "a") as f:
        f.write(msg + "\n")


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def sh(*cmd, check_rc=True, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)
    if check_rc and p.returncode != 0:
        raise Fail(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()[:200]}")
    return p


# ---- polkit actions

def pkaction(policy):
    want = {}
    for a in ET.parse(policy).getroot().iter("action"):
        d = a.find("defaults")
        want[a.get("id")] = {k: d.find(k).text.strip() for k in ("allow_any", "allow_inactive", "allow_active")}
    check(want, f"no actions in {policy}")
    listed = set(sh("pkaction").stdout.split())
    missing = sorted(set(want) - listed)
    check(not missing, f"pkaction does not list {missing}")
    verbose = sh("pkaction", "--verbose").stdout
    for aid, d in want.items():
        check(f"{aid}:" in verbose, f"pkaction --verbose has no section for {aid}")
        out = sh("pkaction", "--verbose", "--action-id", aid).stdout
        got = {}
        for line in out.splitlines():
            line = line.strip()
            for k, label in (("allow_any", "implicit any:"), ("allow_inactive", "implicit inactive:"),
                             ("allow_active", "implicit active:")):
                if line.startswith(label):
                    got[k] = line[len(label):].strip()
        check(got == d, f"{aid}: polkitd reports {got}, the policy file says {d}")
    detail(f"pkaction --verbose lists all {len(want)} actions of org.hwsecd1.policy with the file's defaults")


# ---- the unit's sandbox, seen from the daemon's mount namespace

def mountinfo(pid):
    mounts = []
    for line in open(f"/proc/{pid}/mountinfo"):
        f = line.split()
        sep = f.index("-")
        mounts.append({"point": f[4].encode().decode("unicode_escape"), "opts": f[5].split(","),
                       "fstype": f[sep + 1], "source": f[sep + 2]})
    return mounts


def covering(mounts, path):
    """The mount that decides access to path: the longest mount point above it, the last one
    mounted on that point. Symbolic links are resolved first (/lib is /usr/lib), as systemd does."""
    path = os.path.realpath(path)
    best = None
    for m in mounts:
        p = m["point"]
        if path == p or path.startswith(p.rstrip("/") + "/") or p == "/":
            if best is None or len(p) >= len(best["point"]):
                best = m
    return best


def mounts(pid):
    ms = mountinfo(pid)
    ro = ["/", "/usr", "/usr/libexec", "/etc", "/etc/hwsecd", "/boot", "/var", "/var/log", "/opt", "/srv",
          "/sys", "/proc/sys", "/sys/fs/cgroup"]
    rw = ["/var/lib/hwsecd", "/run/hwsecd", "/etc/modprobe.d", "/lib/firmware/amd", "/tmp", "/var/tmp"]
    bad = []
    for p in ro:
        m = covering(ms, p)
        if "ro" not in m["opts"]:
            bad.append(f"{p} is writable (mount {m['point']} {','.join(m['opts'])})")
    for p in rw:
        if not os.path.exists(p):
            continue
        m = covering(ms, p)
        if "rw" not in m["opts"]:
            bad.append(f"{p} is read-only (mount {m['point']})")
    # ProtectHome=yes: /home, /root and /run/user are covered by an inaccessible, read-only mount
    for p in ("/home", "/root", "/run/user"):
        m = covering(ms, p)
        if m["point"] != os.path.realpath(p) or "ro" not in m["opts"]:
            bad.append(f"{p} is not covered by its own read-only mount")
    # PrivateDevices=yes: /dev is the unit's own tmpfs; PrivateTmp=yes: /tmp is not the host's
    m = covering(ms, "/dev")
    if m["point"] != "/dev" or m["fstype"] != "tmpfs":
        bad.append(f"/dev is {m['fstype']} at {m['point']}, not a private tmpfs")
    if covering(ms, "/tmp")["point"] != "/tmp":
        bad.append("/tmp is not a private mount")
    check(not bad, "; ".join(bad))
    detail(f"mountinfo of PID {pid}: {len(ro)} paths read-only, the {len(rw)} paths of docs/paths.md writable, "
           "/home /root /run/user inaccessible, private /dev and /tmp")


def writes(pid):
    """Tries to write in the daemon's mount namespace (as root, so only the mounts stop it)."""
    def try_write(path):
        p = subprocess.run(["nsenter", "-t", str(pid), "-m", "--", "sh", "-c",
                            f"echo probe > {shlex.quote(path)} && rm -f {shlex.quote(path)}"],
                           capture_output=True, text=True, timeout=60)
        return p.returncode == 0, p.stderr.strip()
    bad = []
    for path in ("/usr/lib/hwsec-probe", "/etc/hwsec-probe", "/etc/hwsecd/probe", "/boot/probe", "/var/log/probe",
                 "/var/lib/probe", "/root/probe", "/home/probe", "/lib/firmware/probe", "/sys/fs/cgroup/probe"):
        ok, err = try_write(path)
        if ok:
            bad.append(f"could write {path}")
        elif "Read-only file system" not in err and "Permission denied" not in err and "No such file" not in err:
            bad.append(f"{path}: unexpected error {err}")
    for path in ("/var/lib/hwsecd/probe", "/etc/modprobe.d/hwsec-probe", "/run/hwsecd/probe", "/lib/firmware/amd/probe"):
        ok, err = try_write(path)
        if not ok:
            bad.append(f"cannot write {path}: {err}")
    # /home is empty inside although the host has the test users' homes
    p = subprocess.run(["nsenter", "-t", str(pid), "-m", "--", "ls", "-A", "/home"], capture_output=True, text=True)
    if os.listdir("/home") and p.stdout.strip():
        bad.append(f"/home shows {p.stdout.split()} inside the namespace")
    p = subprocess.run(["nsenter", "-t", str(pid), "-m", "--", "ls", "/dev"], capture_output=True, text=True)
    if "vda" in p.stdout.split():
        bad.append("/dev/vda is visible in the private /dev")
    check(not bad, "; ".join(bad))
    detail("in hwsecd's namespace writes to /usr /etc /boot /var/log /root /home /sys/fs/cgroup fail; state, runtime, "
           "modprobe.d and firmware staging dirs are writable; /home empty; no /dev/vda")


# ---- no PSP in a VM

def no_psp():
    """QEMU emulates no PSP and its CPU model has no SEV: every area must say "absent" and the
    readiness checks must be not-applicable, except cpu.sev, which correctly fails (no CPUID
    0x8000001F leaf)."""
    st = json.loads(sh("hwsecctl", "--json", "status").stdout)
    with open(os.path.join(SHARE, "out", "describe.json"), "w") as f:
        json.dump(st, f, indent=1)
    psp, fw, asid = st["psp"], st["firmware"], st["asid"]
    check(psp["present"] is False and psp["sev_device"] is False and psp["sfs_device"] is False,
          f"psp present/sev_device/sfs_device: {psp['present']}/{psp['sev_device']}/{psp['sfs_device']}")
    check(psp["summary"].get("PSP") == "absent", f"psp summary {psp['summary']}")
    check(fw["sfs_present"] is False and fw["summary"].get("SFS device") == "absent", f"firmware: {fw['summary']}")
    pools = {p["name"]: p["state"] for p in asid["Pools"]}
    check(pools and set(pools.values()) == {"disabled"}, f"ASID pools {pools}")
    checks = {c["id"]: c["result"] for c in st["checks"]}
    other = {k: v for k, v in checks.items() if k != "cpu.sev" and v != "not-applicable"}
    check(not other, f"checks that are not not-applicable: {other}")
    check(checks.get("cpu.sev") == "fail", f"cpu.sev is {checks.get('cpu.sev')}, expected fail (no SEV leaf)")
    check(st["state"] == "ready" and not st["problems"], f"Manager state {st['state']}, problems {st['problems']}")
    rc = subprocess.run(["hwsecctl", "status"], capture_output=True, text=True, timeout=120)
    check(rc.returncode == 0, f"hwsecctl status exited {rc.returncode}")
    detail(f"PSP, /dev/sev, SFS absent; ASID pools disabled; {len(checks) - 1} checks not-applicable, cpu.sev fail "
           f"(no SEV leaf); state ready, no problems")


# ---- bash completion with Debian's bash-completion and the installed script

def complete(line):
    words = shlex.split(line)
    if line.endswith(" "):
        words.append("")
    prog = f"""
source /usr/share/bash-completion/bash_completion
_completion_loader hwsecctl
fn=$(complete -p hwsecctl | sed -n 's/.*-F \\([^ ]*\\) .*/\\1/p')
[ -n "$fn" ] || exit 3
COMP_WORDS=({' '.join(shlex.quote(w) for w in words)})
COMP_CWORD={len(words) - 1}
COMP_LINE={shlex.quote(line)}
COMP_POINT={len(line)}
"$fn" hwsecctl {shlex.quote(words[-1])} {shlex.quote(words[-2] if len(words) > 1 else '')}
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", prog], capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, f"completion of {line!r} failed ({p.returncode}): {p.stderr.strip()[:200]}")
    return sorted(x for x in p.stdout.split("\n") if x)


def completion():
    verbs = complete("hwsecctl ")
    want = sorted(["status", "psp", "check", "asid", "firmware", "pci", "metrics", "--json", "--no-ask-password",
                   "--help", "--version"])
    check(verbs == want, f"hwsecctl <TAB> gives {verbs}")
    check(complete("hwsecctl fi") == ["firmware"], "hwsecctl fi<TAB> does not give firmware")
    addrs = complete("hwsecctl pci check ")
    sysfs = sorted(os.listdir("/sys/bus/pci/devices"))
    check(addrs == sysfs, f"hwsecctl pci check <TAB> gives {addrs}, sysfs has {sysfs}")
    detail(f"hwsecctl <TAB>: {len(verbs)} words; pci check <TAB>: the {len(addrs)} PCI addresses of the guest")


# ---- the live PCI audit against the guest kernel

def kernel_groups():
    groups = {}
    for g in glob.glob("/sys/kernel/iommu_groups/*"):
        groups[int(os.path.basename(g))] = sorted(os.listdir(os.path.join(g, "devices")))
    return groups


def canon(groups):
    return sorted(tuple(sorted(g)) for g in groups)


def audit():
    return json.loads(sh("hwsecctl", "--json", "pci", "audit").stdout)


def groups():
    kg = kernel_groups()
    check(kg, "the guest kernel made no IOMMU groups (intel_iommu=on missing?)")
    a = audit()
    with open(os.path.join(SHARE, "out", f"pci-audit-{os.getpid()}.json"), "w") as f:
        json.dump(a, f, indent=1)
    pred = canon(a["predicted_kernel_groups"])
    kern = canon(kg.values())
    check(pred == kern, f"predicted {pred} != kernel {kern}")
    seen = canon(a["kernel_groups"])
    check(seen == kern, f"the daemon's view of the kernel groups {seen} != sysfs {kern}")
    detail(f"predicted kernel groups = /sys/kernel/iommu_groups: {len(kern)} groups, "
           f"{sum(len(g) for g in kern)} devices")


def children(path):
    """PCI functions directly below a sysfs device directory (not the port service dirs such
    as 0000:00:10.0:pcie002)."""
    return sorted(e for e in os.listdir(path) if re.fullmatch(r"[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]", e))


def switch_layout():
    """Addresses of the switch's upstream port, downstream ports and the endpoints below them,
    from sysfs: rp1 is 00:10.0 (addr=0x10 on the command line)."""
    rp = "0000:00:10.0"
    base = os.path.realpath(f"/sys/bus/pci/devices/{rp}")
    ups = children(base)
    check(len(ups) == 1, f"expected one upstream port below {rp}, found {ups}")
    up = ups[0]
    dps = children(f"{base}/{up}")
    eps = {dp: children(f"{base}/{up}/{dp}") for dp in dps}
    return rp, up, dps, eps


def verdicts():
    a = audit()
    devs = a["devices"]  # keyed by address
    rp, up, dps, eps = switch_layout()
    check(len(dps) == 2, f"expected 2 downstream ports, found {dps}")
    nic = [e for dp in dps for e in eps[dp]]
    check(len(nic) == 1, f"expected one endpoint behind the switch, found {nic}")
    nic = nic[0]
    d = devs[nic]
    check(d["verdict"] == "unsafe", f"{nic} (e1000e behind a downstream port without ACS) is {d['verdict']}")
    # a device names its isolation group by the leader (first member); the members are listed once
    iso = set(next(g for g in a["isolation_groups"] if g and g[0] == d["isolation_group"]))
    check({up, *dps, nic} <= iso, f"isolation group of {nic} is {sorted(iso)}, lacks the switch ports")
    kg = set(os.listdir(f"/sys/bus/pci/devices/{nic}/iommu_group/devices"))
    check(not iso <= kg, "the isolation group fits in the kernel group, so nothing would be unsafe")
    check(a["summary"].get("unsafe", 0) >= 1 if isinstance(a.get("summary"), dict) else True, "summary counts no unsafe device")
    # a device outside the switch, alone in its kernel group: the virtio disk on the root bus
    disk = "0000:00:05.0"
    check(devs[disk]["verdict"] == "isolated", f"{disk} (virtio-blk on the root bus) is {devs[disk]['verdict']}")
    for dp in dps:
        check(devs[dp]["verdict"] != "isolated", f"downstream port {dp} without ACS is called isolated")
    detail(f"{nic} behind {dps[0]} is unsafe (isolation group {len(iso)} devices incl. {up}, kernel group "
           f"{len(kg)}); switch ports not isolated; {disk} isolated")


def main():
    what = sys.argv[1]
    try:
        {"pkaction": lambda: pkaction(sys.argv[2]), "mounts": lambda: mounts(int(sys.argv[2])),
         "writes": lambda: writes(int(sys.argv[2])), "no-psp": no_psp, "completion": completion,
         "groups": groups, "verdicts": verdicts}[what]()
    except Fail as e:
        detail(str(e))
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
