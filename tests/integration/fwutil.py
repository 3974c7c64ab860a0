"""Helpers shared by the firmware integration tests."""

import hashlib
import json
import os
import time

import dbus

import sim_sfs
from conftest import scaled

FW = '/org/hwsecd1/firmware'
FW_IFACE = 'org.hwsecd1.Firmware'
JOB_IFACE = 'org.hwsecd1.FirmwareJob'
ALL_ACTIONS = ('org.hwsecd1.stage-firmware', 'org.hwsecd1.schedule-firmware-update',
               'org.hwsecd1.cancel-firmware-update')


def now_usec():
    return int(time.time() * 1e6)


def dbus_error(e):
    return e.get_dbus_name()


def wait_for(cond, timeout=10, what='condition'):
    deadline = time.monotonic() + scaled(timeout)
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f'timed out waiting for {what}')
        time.sleep(0.02)


def schedule(d, name, not_before=0, not_after=0, **options):
    opts = dbus.Dictionary({k: v for k, v in options.items()}, signature='sv')
    return str(d.call(FW, FW_IFACE, 'ScheduleUpdate', name, dbus.UInt64(not_before), dbus.UInt64(not_after), opts,
                      signature='stta{sv}')[0])


def job_state(d, path):
    return str(d.get(path, JOB_IFACE, 'State'))


def wait_state(d, path, states, timeout=15):
    if isinstance(states, str):
        states = (states,)
    return wait_for(lambda: job_state(d, path) in states and job_state(d, path), timeout,
                    f'{path} to reach {states}')


def stage_file(host, name, data):
    return sim_sfs.stage(host, name, data)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def state_doc(host):
    return json.loads((host.root / 'state' / 'state.json').read_text())


def amd_listing(host):
    return sorted(os.listdir(host.root / 'firmware' / 'amd'))


def strings_of(versions):
    return [str(t) for _off, t in versions.get('Strings', [])]


class SignalWatcher:
    """Collects signals from org.hwsecd1 on a GDBus connection (dbus-python needs a main loop)."""

    def __init__(self, bus, interface, member, path=None):
        import gi
        gi.require_version('Gio', '2.0')
        from gi.repository import Gio, GLib
        self.GLib = GLib
        self.ctx = GLib.MainContext.new()
        self.ctx.push_thread_default()
        self.conn = Gio.DBusConnection.new_for_address_sync(
            bus.address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
            Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
        self.got = []
        self.conn.signal_subscribe(None, interface, member, path, None, Gio.DBusSignalFlags.NONE,
                                   lambda _c, _s, p, _i, _m, params: self.got.append((p, params.unpack())))
        # A round trip so the match rule is in place before anything happens.
        self.conn.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'GetId',
                            None, None, Gio.DBusCallFlags.NONE, -1, None)
        self.ctx.pop_thread_default()

    def wait(self, pred, timeout=5):
        deadline = time.monotonic() + scaled(timeout)
        while time.monotonic() < deadline:
            while self.ctx.iteration(False):
                pass
            for item in self.got:
                if pred(item):
                    return item
            time.sleep(0.01)
        raise AssertionError(f'signal not seen; got {self.got}')

    def close(self):
        self.conn.close_sync(None)
