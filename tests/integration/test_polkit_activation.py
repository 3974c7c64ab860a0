"""polkitd is bus-activated on Debian (not running after boot): hwsecd's authorization call must
let the bus start it. Here the private bus has an activatable org.freedesktop.PolicyKit1 whose
Exec is a small authority that allows everything and records each action it was asked about.
The VM stage (tests/vm, vm-polkit-root) checks the same against the real polkitd."""

import os
import pathlib
import textwrap

import pytest

from busconfig import PrivateBus
from conftest import scaled

MANAGER = 'org.hwsecd1.Manager'

FAKE_AUTHORITY = textwrap.dedent('''\
    import sys
    import dbus
    import dbus.bus
    import dbus.service
    import dbus.mainloop.glib
    from gi.repository import GLib

    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    conn = dbus.bus.BusConnection(__import__('os').environ['DBUS_STARTER_ADDRESS'])
    conn.set_exit_on_disconnect(True)

    class Authority(dbus.service.Object):
        @dbus.service.method('org.freedesktop.PolicyKit1.Authority', in_signature='(sa{sv})sa{ss}us',
                             out_signature='(bba{ss})')
        def CheckAuthorization(self, subject, action, details, flags, cancel_id):
            with open(sys.argv[1], 'a') as f:
                f.write(action + '\\n')
            return (True, False, {})

    name = dbus.service.BusName('org.freedesktop.PolicyKit1', conn)
    Authority(conn, '/org/freedesktop/PolicyKit1/Authority')
    GLib.timeout_add_seconds(int(sys.argv[2]), lambda: sys.exit(0))
    GLib.MainLoop().run()
''')


@pytest.fixture
def bus(tmp_path):
    """The usual private bus, plus a service directory with an activatable polkit authority."""
    services = tmp_path / 'services'
    services.mkdir()
    script = tmp_path / 'fake-authority.py'
    script.write_text(FAKE_AUTHORITY)
    calls = tmp_path / 'polkit-calls'
    (services / 'org.freedesktop.PolicyKit1.service').write_text(
        '[D-BUS Service]\nName=org.freedesktop.PolicyKit1\n'
        f'Exec=/usr/bin/python3 {script} {calls} {int(scaled(120))}\n')
    frag = tmp_path / 'test-polkit-activation.conf'
    frag.write_text('<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"\n'
                    ' "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">\n'
                    f'<busconfig><servicedir>{services}</servicedir></busconfig>\n')
    b = PrivateBus(extra_confs=[frag])
    b.polkit_calls = calls
    os.environ['DBUS_SYSTEM_BUS_ADDRESS'] = b.address
    yield b
    b.stop()


def test_mutation_starts_bus_activated_polkit(host, bus, daemon):
    """Mutation caught: the CheckAuthorization call sent with auto-start off (the daemon then
    answered org.freedesktop.DBus.Error.AccessDenied, "polkit is not running", for root too,
    until something else started polkitd). Checks: the authority has not been asked before the call,
    Manager.Reload() returns, and the authority started by the bus was asked exactly once, for
    org.hwsecd1.reload."""
    d = daemon(host)
    assert not pathlib.Path(bus.polkit_calls).exists()
    assert d.call('/org/hwsecd1', MANAGER, 'Reload') == []
    assert pathlib.Path(bus.polkit_calls).read_text().split() == ['org.hwsecd1.reload']
