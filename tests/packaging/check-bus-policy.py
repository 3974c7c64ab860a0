#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""check-bus-policy.py org.hwsecd1.conf

Loads the bus policy into a real dbus-daemon (a private copy of the distribution's system bus
configuration) and checks what it allows:
 - the daemon accepts the file (it refuses broken configurations);
 - uid 65534 may not own org.hwsecd1, root may;
 - uid 65534 may call every interface of the owner (a stand-in service exporting
   org.hwsecd1.Manager, Properties, ObjectManager; Introspectable and Peer come from libdbus)
   and receives its signals;
 - ReloadConfig with the file in place succeeds.
Needs root (setpriv). Exit 77 (skip) when not root.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import privbus  # noqa: E402

NAME = "org.hwsecd1"
PATH = "/org/hwsecd1"
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


# ---- helper modes, run in child processes ------------------------------------------------
def connect(address, mainloop=False):
    import dbus
    if mainloop:
        from dbus.mainloop.glib import DBusGMainLoop
        return dbus.bus.BusConnection(address, mainloop=DBusGMainLoop())
    return dbus.bus.BusConnection(address)


def mode_own(address):
    """Try to own the name; print the result; if owned, serve until killed."""
    import dbus
    import dbus.service
    from gi.repository import GLib

    bus = connect(address, mainloop=True)
    try:
        r = bus.request_name(NAME, dbus.bus.NAME_FLAG_DO_NOT_QUEUE)
    except dbus.exceptions.DBusException as e:
        print("denied", e.get_dbus_name(), flush=True)
        return 0
    if r != dbus.bus.REQUEST_NAME_REPLY_PRIMARY_OWNER:
        print("not-owner", int(r), flush=True)
        return 0

    class Manager(dbus.service.Object):
        @dbus.service.method("org.hwsecd1.Manager", in_signature="", out_signature="s")
        def Describe(self):
            return "{}"

        @dbus.service.method("org.hwsecd1.Manager", in_signature="", out_signature="")
        def Emit(self):
            self.PropertiesChanged("org.hwsecd1.Manager", {"State": "ready"}, [])

        @dbus.service.method("org.freedesktop.DBus.Properties", in_signature="s",
                             out_signature="a{sv}")
        def GetAll(self, iface):
            return {"Version": "test", "State": "ready"}

        @dbus.service.method("org.freedesktop.DBus.ObjectManager", in_signature="",
                             out_signature="a{oa{sa{sv}}}")
        def GetManagedObjects(self):
            return {}

        @dbus.service.signal("org.freedesktop.DBus.Properties", signature="sa{sv}as")
        def PropertiesChanged(self, iface, changed, invalidated):
            pass

    keep = Manager(bus, PATH)  # noqa: F841
    print("owner", flush=True)
    GLib.MainLoop().run()
    return 0


def mode_client(address):
    """Call every interface; subscribe to PropertiesChanged and trigger one."""
    import dbus
    from gi.repository import GLib

    bus = connect(address, mainloop=True)
    obj = bus.get_object(NAME, PATH, introspect=False)
    failures = []
    calls = [
        ("org.freedesktop.DBus.Peer", "Ping", ()),
        ("org.freedesktop.DBus.Introspectable", "Introspect", ()),
        ("org.freedesktop.DBus.Properties", "GetAll", ("org.hwsecd1.Manager",)),
        ("org.freedesktop.DBus.ObjectManager", "GetManagedObjects", ()),
        ("org.hwsecd1.Manager", "Describe", ()),
    ]
    for iface, member, args in calls:
        try:
            obj.get_dbus_method(member, iface)(*args)
            print("call %s.%s: allowed" % (iface, member))
        except dbus.exceptions.DBusException as e:
            failures.append("call %s.%s: %s %s" % (iface, member, e.get_dbus_name(), e))

    got = []
    loop = GLib.MainLoop()

    def on_signal(*args, **kw):
        got.append(args)
        loop.quit()

    bus.add_signal_receiver(on_signal, signal_name="PropertiesChanged",
                            dbus_interface="org.freedesktop.DBus.Properties", path=PATH)
    obj.get_dbus_method("Emit", "org.hwsecd1.Manager")(reply_handler=lambda: None,
                                                       error_handler=lambda e: failures.append(str(e)))
    GLib.timeout_add(5000, loop.quit)
    loop.run()
    if got:
        print("signal PropertiesChanged: received")
    else:
        failures.append("signal PropertiesChanged: not received within 5 s")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


# ---- the test ----------------------------------------------------------------------------
def copy_for_nobody(tmp):
    """Copies this script and privbus.py into tmp (0755), world-readable; returns the script."""
    for name in (os.path.basename(__file__), "privbus.py"):
        shutil.copyfile(os.path.join(HERE, name), os.path.join(tmp, name))
        os.chmod(os.path.join(tmp, name), 0o644)
    return os.path.join(tmp, os.path.basename(__file__))


def main(conf):
    if os.geteuid() != 0:
        print("needs root (setpriv to uid 65534)")
        return 77
    procs = []
    failures = []
    with tempfile.TemporaryDirectory(prefix="hwsecd-buspolicy-") as tmp:
        os.chmod(tmp, 0o755)
        address = privbus.write_config(tmp, [conf])
        log = open(os.path.join(tmp, "dbus.log"), "w+")
        bus = subprocess.Popen(["dbus-daemon", "--config-file=" + os.path.join(tmp, "bus.conf"),
                                "--nofork", "--nopidfile"],
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(bus)
        try:
            env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=address)
            deadline = time.monotonic() + 10
            while True:
                if bus.poll() is not None:
                    log.seek(0)
                    print("FAIL: dbus-daemon refused the configuration:\n" + log.read())
                    return 1
                r = subprocess.run(["busctl", "--address=" + address, "call",
                                    "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                    "org.freedesktop.DBus", "GetId"], capture_output=True)
                if r.returncode == 0:
                    break
                if time.monotonic() > deadline:
                    print("FAIL: the bus did not come up")
                    return 1
                time.sleep(0.02)
            print("dbus-daemon loaded", conf)

            # The children run as uid 65534, which may not be able to read the checkout (a clone
            # in a 0700 directory): run them from world-readable copies in tmp.
            me = [sys.executable, copy_for_nobody(tmp)]
            intruder = subprocess.Popen(NOBODY + me + ["--own", address], stdout=subprocess.PIPE,
                                        text=True, env=env, cwd=tmp, start_new_session=True)
            procs.append(intruder)
            out = intruder.stdout.readline().strip()
            if out == "denied org.freedesktop.DBus.Error.AccessDenied":
                print("uid 65534 owning %s: denied" % NAME)
            else:
                failures.append("uid 65534 owning %s: expected AccessDenied, got %r" % (NAME, out))
            os.killpg(intruder.pid, signal.SIGTERM)
            intruder.wait()

            owner = subprocess.Popen(me + ["--own", address], stdout=subprocess.PIPE, text=True,
                                     env=env, start_new_session=True)
            procs.append(owner)
            line = owner.stdout.readline().strip()
            if line != "owner":
                failures.append("root owning %s: expected success, got %r" % (NAME, line))
            else:
                print("root owning %s: allowed" % NAME)
                r = subprocess.run(NOBODY + me + ["--client", address], capture_output=True,
                                   text=True, timeout=60, env=env, cwd=tmp)
                print(r.stdout, end="")
                if r.returncode != 0:
                    failures.append("uid 65534 as a client: rc %d %s" % (r.returncode, r.stderr))

            r = subprocess.run(["busctl", "--address=" + address, "call", "org.freedesktop.DBus",
                                "/org/freedesktop/DBus", "org.freedesktop.DBus", "ReloadConfig"],
                               capture_output=True, text=True)
            if r.returncode != 0:
                failures.append("ReloadConfig: " + r.stderr)
            else:
                print("ReloadConfig: ok")
        finally:
            for p in reversed(procs):
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                p.wait()
            log.seek(0)
            text = log.read()
            print("dbus-daemon said:\n" + text, end="")
            if "Encountered error" in text or "Warning" in text:
                failures.append("dbus-daemon complained about the configuration")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--own":
        sys.exit(mode_own(sys.argv[2]))
    if len(sys.argv) == 3 and sys.argv[1] == "--client":
        sys.exit(mode_client(sys.argv[2]))
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
