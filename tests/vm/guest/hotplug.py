#!/usr/bin/python3
"""Hotplug test in the guest: asks the host (QMP) to add an e1000e to a free port and then to
remove it, and checks what hwsecd announces against what the kernel did.

    hotplug.py --qdev-bus rp2|dp2 --id QEMU_ID --expect VERDICT

Passes when, for the add: InterfacesAdded for the new device's object arrives within 2 s of the
kernel's add uevent (received here on a NETLINK_KOBJECT_UEVENT socket; both times on
CLOCK_MONOTONIC), its PredictedKernelGroup equals the kernel's iommu group, its Verdict is
VERDICT, and the whole predicted grouping equals /sys/kernel/iommu_groups; for the removal:
InterfacesRemoved within 2 s of the remove uevent and the groupings equal again."""

import argparse
import glob
import json
import os
import re
import socket
import sys
import time
import traceback

import dbus
import dbus.mainloop.glib
from gi.repository import GLib

SHARE = os.environ.get("HWSEC_VM_SHARE", "/mnt/share")
OUT = os.path.join(SHARE, "out")
LIMIT = 2.0  # seconds from the kernel's uevent to the D-Bus signal
# rp2 is the free root port at 00:11.0; dp2 the second downstream port of the switch below 00:10.0
PORTS = {"rp2": lambda: "0000:00:11.0", "dp2": lambda: second_downstream_port()}


def detail(msg):
    with open(os.path.join(OUT, ".detail"), "a") as f:
        f.write(msg + "\n")


def log(msg):
    print(f"[{time.monotonic():.3f}] {msg}", flush=True)


def children(path):
    """PCI functions directly below a sysfs device directory (not the port service dirs such
    as 0000:00:10.0:pcie002)."""
    return sorted(e for e in os.listdir(path) if re.fullmatch(r"[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]", e))


def second_downstream_port():
    base = os.path.realpath("/sys/bus/pci/devices/0000:00:10.0")
    up = children(base)[0]
    return children(os.path.join(base, up))[1]


def kernel_groups():
    return sorted(tuple(sorted(os.listdir(g + "/devices"))) for g in glob.glob("/sys/kernel/iommu_groups/*"))


class Run:
    def __init__(self, args):
        self.args = args
        self.loop = GLib.MainLoop()
        self.bus = dbus.SystemBus()
        self.events = []          # (monotonic, kind, address, extra)
        self.port = PORTS[args.qdev_bus]()
        self.port_devpath = os.path.realpath(f"/sys/bus/pci/devices/{self.port}")[len("/sys"):]
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 15)  # NETLINK_KOBJECT_UEVENT
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((0, 1))  # group 1: the kernel's own uevents
        GLib.io_add_watch(self.sock.fileno(), GLib.IO_IN, self.on_uevent)
        for sig in ("InterfacesAdded", "InterfacesRemoved"):
            self.bus.add_signal_receiver(self.on_signal, signal_name=sig,
                                         dbus_interface="org.freedesktop.DBus.ObjectManager",
                                         bus_name="org.hwsecd1", path="/org/hwsecd1", member_keyword="member")

    def on_uevent(self, fd, cond):
        t = time.monotonic()
        data = self.sock.recv(65536)
        parts = data.split(b"\0")
        env = dict(p.decode(errors="replace").split("=", 1) for p in parts[1:] if b"=" in p)
        if env.get("SUBSYSTEM") == "pci":
            path = env.get("DEVPATH", "")
            if os.path.dirname(path) == self.port_devpath:
                self.events.append((t, "uevent-" + env.get("ACTION", "?"), os.path.basename(path), None))
                log(f"uevent {env.get('ACTION')} {path}")
        return True

    def on_signal(self, path, ifaces, member=None):
        t = time.monotonic()
        if member == "InterfacesAdded":
            props = ifaces.get("org.hwsecd1.PciDevice")
            if props is not None:
                addr = str(props["Address"])
                self.events.append((t, "added", addr, {k: props[k] for k in props}))
                log(f"InterfacesAdded {addr} verdict={props.get('Verdict')}")
        else:
            if "org.hwsecd1.PciDevice" in ifaces:
                self.events.append((t, "removed", str(path), None))
                log(f"InterfacesRemoved {path}")

    def find(self, kind, addr=None):
        for e in self.events:
            if e[1] == kind and (addr is None or e[2] == addr):
                return e
        return None

    def wait(self, cond, timeout):
        """Runs the main loop until cond() is true or timeout seconds passed."""
        deadline = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > deadline:
                return False
            ctx = self.loop.get_context()
            ctx.iteration(False) or time.sleep(0.02)
        return True

    def request(self, op, **kw):
        """Asks the host to run a QMP command; returns its reply (the loop keeps running)."""
        reqdir = os.path.join(SHARE, "req")
        n = len([f for f in os.listdir(reqdir) if f.endswith(".json")]) + 1
        with open(os.path.join(reqdir, f"{n}.json.tmp"), "w") as f:
            json.dump(dict(op=op, **kw), f)
        os.rename(os.path.join(reqdir, f"{n}.json.tmp"), os.path.join(reqdir, f"{n}.json"))
        with open("/dev/ttyS0", "w") as tty:
            tty.write(f"HWSEC-VM-REQ {n}\n")
        reply = os.path.join(reqdir, f"{n}.reply")
        if not self.wait(lambda: os.path.exists(reply), 180):
            raise RuntimeError(f"the host did not answer request {n} ({op}) within 180 s")
        return json.load(open(reply))

    def pci_prop(self, name):
        obj = self.bus.get_object("org.hwsecd1", "/org/hwsecd1/pci")
        return obj.Get("org.hwsecd1.Pci", name, dbus_interface="org.freedesktop.DBus.Properties")

    def groups_agree(self):
        pred = sorted(tuple(sorted(str(a) for a in g)) for g in self.pci_prop("PredictedKernelGroups"))
        return pred == kernel_groups(), pred

    def settle_groups(self, what):
        """The daemon and the kernel may still be busy (driver bind): wait until they agree."""
        ok = self.wait(lambda: self.groups_agree()[0], 60)
        if not ok:
            raise AssertionError(f"after {what}: predicted {self.groups_agree()[1]} != kernel {kernel_groups()}")

    def run(self):
        a = self.args
        msgs = []
        self.settle_groups("start")
        r = self.request("device_add", driver="e1000e", id=a.id, bus=a.qdev_bus)
        if not r.get("ok"):
            raise AssertionError(f"QMP device_add failed: {r}")
        if not self.wait(lambda: self.find("uevent-add"), 120):
            raise AssertionError(f"no kernel add uevent below {self.port} within 120 s")
        addr = self.find("uevent-add")[2]
        self.wait(lambda: self.find("added", addr), 120)
        add = self.find("added", addr)
        if not add:
            raise AssertionError(f"no InterfacesAdded for {addr} within 120 s of the uevent")
        dt = add[0] - self.find("uevent-add")[0]
        props = add[3]
        group = sorted(os.listdir(f"/sys/bus/pci/devices/{addr}/iommu_group/devices"))
        gnum = int(os.path.basename(os.readlink(f"/sys/bus/pci/devices/{addr}/iommu_group")))
        # a device names its predicted group by the leader; the members are in PredictedKernelGroups
        leader = str(props["PredictedKernelGroup"])
        pred = next((sorted(str(x) for x in g) for g in self.pci_prop("PredictedKernelGroups")
                     if g and str(g[0]) == leader), [])
        msgs.append(f"add {addr}: InterfacesAdded {dt:.2f} s after the uevent")
        if dt > LIMIT:
            raise AssertionError(f"InterfacesAdded for {addr} came {dt:.2f} s after the kernel's uevent (limit {LIMIT} s)")
        if pred != group:
            raise AssertionError(f"{addr}: PredictedKernelGroup {pred} != kernel group {group}")
        if int(props["KernelGroup"]) != gnum:
            raise AssertionError(f"{addr}: KernelGroup {props['KernelGroup']} != {gnum}")
        if str(props["Verdict"]) != a.expect:
            raise AssertionError(f"{addr}: Verdict {props['Verdict']} (reasons {list(props['Reasons'])}), expected {a.expect}")
        msgs.append(f"group {gnum} {group} predicted, verdict {props['Verdict']}")
        self.settle_groups(f"adding {addr}")
        # the verdict holds once the driver is bound
        dev = self.bus.get_object("org.hwsecd1", f"/org/hwsecd1/pci/{encode(addr)}")
        v = str(dev.Get("org.hwsecd1.PciDevice", "Verdict", dbus_interface="org.freedesktop.DBus.Properties"))
        if v != a.expect:
            raise AssertionError(f"{addr}: Verdict became {v} after the driver bound")
        r = self.request("device_del", id=a.id)
        if not r.get("ok"):
            raise AssertionError(f"QMP device_del failed: {r}")
        if not self.wait(lambda: self.find("uevent-remove", addr), 120):
            raise AssertionError(f"no kernel remove uevent for {addr}")
        path = f"/org/hwsecd1/pci/{encode(addr)}"
        self.wait(lambda: self.find("removed", path), 120)
        rem = self.find("removed", path)
        if not rem:
            raise AssertionError(f"no InterfacesRemoved for {path}")
        dt = rem[0] - self.find("uevent-remove", addr)[0]
        msgs.append(f"remove: InterfacesRemoved {dt:.2f} s after the uevent (QEMU DEVICE_DELETED after {r.get('deleted_after')} s)")
        if dt > LIMIT:
            raise AssertionError(f"InterfacesRemoved for {addr} came {dt:.2f} s after the kernel's uevent (limit {LIMIT} s)")
        self.settle_groups(f"removing {addr}")
        msgs.append("predicted groups = kernel groups after each step")
        detail("; ".join(msgs))


def encode(addr):
    """sd_bus_path_encode(): every byte outside [A-Za-z0-9], and a leading digit, becomes _xx."""
    return "".join(c if c.isascii() and (c.isalpha() or (c.isdigit() and i > 0)) else f"_{ord(c):02x}"
                   for i, c in enumerate(addr))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qdev-bus", required=True, choices=sorted(PORTS))
    ap.add_argument("--id", required=True)
    ap.add_argument("--expect", required=True)
    args = ap.parse_args()
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    try:
        Run(args).run()
    except Exception as e:  # noqa: BLE001 - every failure must reach the result line
        traceback.print_exc()
        detail(f"{type(e).__name__}: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
