"""The foundation: bus name, contract, Describe, polkit paths, signals, malformed input, client."""

import json
import os
import signal
import socket
import struct
import subprocess
import time

import dbus
import pytest

import contract
from conftest import BUS_NAME, HWSECD, HWSECCTL, ROOT, Daemon, scaled

MANAGER = 'org.hwsecd1.Manager'


def dbus_error(exc):
    return exc.get_dbus_name()


def test_name_owned_and_interfaces_present(host, bus, daemon):
    d = daemon(host)
    assert d.conn.name_has_owner(BUS_NAME)
    props = d.get_all('/org/hwsecd1', MANAGER)
    assert props['State'] in ('ready', 'degraded')
    assert props['Version'] == subprocess.run([str(HWSECD), '--version'], capture_output=True,
                                              text=True).stdout.split()[1]
    objs = d.proxy('/org/hwsecd1').GetManagedObjects(dbus_interface='org.freedesktop.DBus.ObjectManager')
    assert isinstance(objs, dict)


@pytest.mark.parametrize('xml_file', contract.contract_files(), ids=lambda p: p.name)
def test_live_introspection_matches_contract(host, polkit, bus, daemon, xml_file):
    d = daemon(host)
    prepare = CONTRACT_PREPARERS.get(xml_file.name)
    if prepare:
        prepare(d, host, polkit)
    path = contract.contract_path(xml_file)
    live = d.proxy(path).Introspect(dbus_interface='org.freedesktop.DBus.Introspectable')
    want = contract.interfaces(xml_file.read_text())
    got = contract.interfaces(live)
    assert want, f'{xml_file.name} defines no interface'
    for name, spec in want.items():
        assert name in got, f'{name} is not served at {path}'
        assert got[name] == spec, f'{name} at {path} differs from {xml_file.name}'


# Some objects exist only after an action (e.g. a firmware job); areas register how to make them.
from test_firmware_contract import prepare_job_object  # noqa: E402

CONTRACT_PREPARERS = {'org.hwsecd1.FirmwareJob.xml': prepare_job_object}


def test_describe_is_json_and_equals_status_json(host, bus, daemon, hwsecctl):
    d = daemon(host)
    text = d.iface().Describe()
    doc = json.loads(text)
    assert doc['version'] and doc['state'] in ('ready', 'degraded')
    p = hwsecctl(host, 'status', '--json', check=True)
    assert json.loads(p.stdout) == doc


def test_status_text(host, bus, daemon, hwsecctl):
    daemon(host)
    p = hwsecctl(host, 'status', check=True)
    assert p.stdout.startswith('hwsecd ')
    assert 'state:' in p.stdout


def test_polkit_allow_and_deny(host, bus, polkit, daemon):
    d = daemon(host)
    with pytest.raises(dbus.DBusException) as e:
        d.call('/org/hwsecd1', MANAGER, 'Reload')
    assert dbus_error(e.value) == 'org.freedesktop.DBus.Error.AccessDenied'
    assert 'org.hwsecd1.reload' in str(e.value)
    polkit.allow('org.hwsecd1.reload')
    assert d.call('/org/hwsecd1', MANAGER, 'Reload') == []
    assert [a for a, _f in polkit.calls()] == ['org.hwsecd1.reload', 'org.hwsecd1.reload']


def test_polkit_absent_denies_with_reason(host, bus, daemon):
    d = daemon(host)  # no polkit fixture: nobody owns org.freedesktop.PolicyKit1
    with pytest.raises(dbus.DBusException) as e:
        d.call('/org/hwsecd1', MANAGER, 'Reload')
    assert dbus_error(e.value) == 'org.freedesktop.DBus.Error.AccessDenied'
    assert 'polkit is not running' in str(e.value)
    assert d.running()


def test_polkit_hanging_does_not_block_other_clients(host, bus, polkit, daemon):
    d = daemon(host)
    polkit.allow('org.hwsecd1.reload')
    polkit.hang()
    # First client: a Reload that will hang in polkit (busctl, a separate process).
    slow = subprocess.Popen(['busctl', f'--address={bus.address}', '--timeout=60', 'call', BUS_NAME,
                             '/org/hwsecd1', MANAGER, 'Reload'], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + scaled(5)
    while not polkit.mock.HaveHangingCalls():
        assert time.monotonic() < deadline, 'the Reload never reached polkit'
        time.sleep(0.01)

    # Another client's property read is answered quickly meanwhile.
    other = dbus.bus.BusConnection(bus.address)
    obj = other.get_object(BUS_NAME, '/org/hwsecd1', introspect=False)
    for _ in range(5):
        t0 = time.monotonic()
        state = obj.Get(MANAGER, 'State', dbus_interface='org.freedesktop.DBus.Properties')
        elapsed = time.monotonic() - t0
        assert state in ('ready', 'degraded')
        assert elapsed < scaled(0.1), f'property read took {elapsed * 1000:.1f} ms while polkit hung'

    polkit.release()
    out, err = slow.communicate(timeout=scaled(10))
    assert slow.returncode == 0, err
    assert d.running()


def test_interactive_flag_reaches_polkit(host, bus, polkit, daemon):
    d = daemon(host)
    polkit.allow('org.hwsecd1.reload')
    d.call('/org/hwsecd1', MANAGER, 'Reload', interactive=False)
    d.call('/org/hwsecd1', MANAGER, 'Reload', interactive=True)
    flags = [f for a, f in polkit.calls() if a == 'org.hwsecd1.reload']
    assert flags == [0, 1]


def test_can_do(host, bus, polkit, daemon):
    d = daemon(host)
    assert d.iface().CanDo('org.hwsecd1.reload') == 'no'
    polkit.allow('org.hwsecd1.reload')
    assert d.iface().CanDo('org.hwsecd1.reload') == 'yes'
    # CanDo never prompts.
    assert all(f == 0 for _a, f in polkit.calls())
    with pytest.raises(dbus.DBusException) as e:
        d.iface().CanDo('org.example.nope')
    assert dbus_error(e.value) == 'org.hwsecd1.Error.InvalidArgument'


def test_can_do_knows_every_policy_action(host, bus, polkit, daemon):
    import xml.etree.ElementTree as ET
    d = daemon(host)
    actions = [a.get('id') for a in ET.parse(ROOT / 'policy' / 'org.hwsecd1.policy').getroot().iter('action')]
    assert actions
    polkit.allow(*actions)
    for a in actions:
        assert d.iface().CanDo(a) == 'yes', a


def test_log_control(host, bus, polkit, daemon):
    d = daemon(host)
    path, iface = '/org/freedesktop/LogControl1', 'org.freedesktop.LogControl1'
    props = dbus.Interface(d.proxy(path), 'org.freedesktop.DBus.Properties')
    assert props.Get(iface, 'LogLevel') == 'debug'
    with pytest.raises(dbus.DBusException) as e:
        props.Set(iface, 'LogLevel', dbus.String('info', variant_level=1))
    assert dbus_error(e.value) == 'org.freedesktop.DBus.Error.AccessDenied'
    polkit.clear_calls()
    with pytest.raises(dbus.DBusException) as e:
        props.Set(iface, 'LogLevel', dbus.String('loud', variant_level=1))
    assert dbus_error(e.value) == 'org.hwsecd1.Error.InvalidArgument'
    assert polkit.calls() == [], 'an invalid value must be refused before polkit is asked'
    polkit.allow('org.hwsecd1.set-log-level')
    props.Set(iface, 'LogLevel', dbus.String('notice', variant_level=1))
    assert props.Get(iface, 'LogLevel') == 'notice'
    props.Set(iface, 'LogTarget', dbus.String('console', variant_level=1))
    assert props.Get(iface, 'LogTarget') == 'console'
    with pytest.raises(dbus.DBusException) as e:
        props.Set(iface, 'SyslogIdentifier', dbus.String('x', variant_level=1))
    assert dbus_error(e.value) == 'org.freedesktop.DBus.Error.PropertyReadOnly'


def test_second_instance_exits_1_and_replace_takes_over(host, bus, daemon):
    d = daemon(host)
    env = dict(d.env)
    p = subprocess.run([str(HWSECD)], env=env, capture_output=True, text=True, timeout=scaled(20))
    assert p.returncode == 1
    assert 'already running' in p.stderr and '--replace' in p.stderr
    assert d.running()
    d2 = daemon(host, '--replace')
    deadline = time.monotonic() + scaled(5)
    while d.running() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert d.stop() == 0, 'the replaced daemon must exit cleanly'
    assert d2.running()


def test_sigterm_and_sigint_exit_0(host, bus, daemon):
    d = daemon(host)
    assert d.stop(signal.SIGTERM) == 0
    d = daemon(host)
    assert d.stop(signal.SIGINT) == 0


def test_log_has_priority_prefixes_and_message_ids(host, bus, daemon):
    d = daemon(host)
    d.stop()
    lines = [l for l in d.log().splitlines() if l and not l.startswith('==')]
    assert lines and all(l[0] == '<' and l[2] == '>' for l in lines if not l.startswith(('SUMMARY', ' '))), lines[:5]
    assert 'MESSAGE_ID=0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a01' in d.log()


def test_malformed_calls_get_named_errors(host, bus, polkit, daemon):
    d = daemon(host)
    m = d.iface()
    cases = [
        (lambda: d.call('/org/hwsecd1', MANAGER, 'CanDo', 42, signature='u'),
         'org.freedesktop.DBus.Error.InvalidArgs'),
        (lambda: d.call('/org/hwsecd1', MANAGER, 'Describe', 'x', signature='s'),
         'org.freedesktop.DBus.Error.InvalidArgs'),
        (lambda: d.call('/org/hwsecd1', MANAGER, 'NoSuchMethod'), 'org.freedesktop.DBus.Error.UnknownMethod'),
        (lambda: d.call('/org/hwsecd1', 'org.hwsecd1.NoSuchIface', 'X'), 'org.freedesktop.DBus.Error.UnknownMethod'),
        (lambda: d.get('/org/hwsecd1', MANAGER, 'NoSuchProperty'), 'org.freedesktop.DBus.Error.UnknownProperty'),
        (lambda: d.proxy('/org/hwsecd1').Set(MANAGER, 'State', dbus.String('ready', variant_level=1),
                                             dbus_interface='org.freedesktop.DBus.Properties'),
         'org.freedesktop.DBus.Error.PropertyReadOnly'),
        (lambda: m.CanDo('x' * (1 << 20)), 'org.hwsecd1.Error.InvalidArgument'),
        (lambda: d.call('/org/hwsecd1/nowhere', MANAGER, 'Describe'), 'org.freedesktop.DBus.Error.UnknownObject'),
    ]
    for call, name in cases:
        with pytest.raises(dbus.DBusException) as e:
            call()
        assert dbus_error(e.value) == name
        assert len(str(e.value)) < 4096, 'error messages must not echo huge arguments back'
    assert d.running()
    assert m.Describe()


def _raw_call_with_invalid_utf8(address):
    """Speaks the D-Bus wire protocol by hand to send a string argument that is not UTF-8
    (no binding lets us). The bus must drop this client; hwsecd must not notice."""
    path = address.split('=', 1)[1]
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(b'\0')
    s.sendall(b'AUTH EXTERNAL ' + str(os.getuid()).encode().hex().encode() + b'\r\n')
    assert s.recv(4096).startswith(b'OK')
    s.sendall(b'BEGIN\r\n')

    def pad(b, n):
        return b + b'\0' * ((-len(b)) % n)

    def header_field(code, sig, value):
        f = struct.pack('<B', code) + bytes([len(sig)]) + sig + b'\0'
        f = pad(f, 4) if sig != b'g' else f
        if sig == b'g':
            f += bytes([len(value)]) + value + b'\0'
        else:
            f += struct.pack('<I', len(value)) + value + b'\0'
        return f

    def message(serial, dest, path_, iface, member, sig=b'', body=b''):
        parts = [header_field(1, b'o', path_), header_field(3, b's', member), header_field(6, b's', dest)]
        if iface:
            parts.append(header_field(2, b's', iface))
        if sig:
            parts.append(header_field(8, b'g', sig))
        fields = b''.join(pad(p_, 8) for p_ in parts[:-1]) + parts[-1]
        hdr = struct.pack('<cBBBII', b'l', 1, 0, 1, len(body), serial) + struct.pack('<I', len(fields))
        return pad(hdr + fields, 8) + body

    s.sendall(message(1, b'org.freedesktop.DBus', b'/org/freedesktop/DBus', b'org.freedesktop.DBus', b'Hello'))
    s.settimeout(5)
    data, closed = b'', False
    while b':1.' not in data:          # wait for Hello's reply before misbehaving
        chunk = s.recv(65536)
        if not chunk:
            return data, True
        data += chunk
    bad = b'\xff\xfe not utf-8'
    body = struct.pack('<I', len(bad)) + bad + b'\0'
    s.sendall(message(2, BUS_NAME.encode(), b'/org/hwsecd1', MANAGER.encode(), b'CanDo', b's', body))
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            data += chunk
    except ConnectionResetError:
        closed = True
    except socket.timeout:
        pass
    s.close()
    return data, closed


def test_invalid_utf8_never_reaches_or_hurts_the_daemon(host, bus, daemon):
    d = daemon(host)
    data, closed = _raw_call_with_invalid_utf8(bus.address)
    assert b':1.' in data, 'the hand-made Hello was not answered, so the test proved nothing'
    assert closed, 'the bus should drop a client that sends invalid UTF-8'
    assert d.running()
    assert json.loads(d.iface().Describe())


def test_client_when_daemon_absent(host, bus, hwsecctl):
    p = hwsecctl(host, 'status')
    assert p.returncode == 4
    assert 'systemctl start hwsecd' in p.stderr
    p = hwsecctl(host, 'status', '--json')
    assert p.returncode == 4
    assert json.loads(p.stdout)['exit_code'] == 4


def test_client_without_any_bus(host, hwsecctl):
    p = hwsecctl(host, 'status', env={'DBUS_SYSTEM_BUS_ADDRESS': 'unix:path=/nonexistent/socket'})
    assert p.returncode == 4
    assert 'systemctl start hwsecd' in p.stderr


def test_client_usage_errors(host, hwsecctl):
    p = hwsecctl(host, 'frobnicate')
    assert p.returncode == 2
    p = hwsecctl(host, 'status', 'extra')
    assert p.returncode == 2
    p = hwsecctl(host, '--help')
    assert p.returncode == 0 and 'Exit codes' in p.stdout


def test_reload_keeps_previous_config_on_error(host, bus, polkit, daemon):
    host.config('[Daemon]\nLogLevel=debug\n')
    d = daemon(host, verbose=False)
    lc = d.proxy('/org/freedesktop/LogControl1')
    assert lc.Get('org.freedesktop.LogControl1', 'LogLevel', dbus_interface='org.freedesktop.DBus.Properties') == 'debug'
    polkit.allow('org.hwsecd1.reload')
    host.config('[Daemon\nthis is not ini\n')
    with pytest.raises(dbus.DBusException) as e:
        d.call('/org/hwsecd1', MANAGER, 'Reload')
    assert dbus_error(e.value) == 'org.hwsecd1.Error.InvalidArgument'
    assert 'line 1' in str(e.value) and 'previous configuration' in str(e.value)
    assert d.running()
    host.config('[Daemon]\nLogLevel=info\n')
    d.call('/org/hwsecd1', MANAGER, 'Reload')
    assert lc.Get('org.freedesktop.LogControl1', 'LogLevel', dbus_interface='org.freedesktop.DBus.Properties') == 'info'


def test_verbose_and_runtime_level_win_over_reload(host, bus, polkit, daemon):
    host.config('[Daemon]\nLogLevel=notice\n')
    d = daemon(host)                     # -v
    polkit.allow('org.hwsecd1.reload', 'org.hwsecd1.set-log-level')
    props = dbus.Interface(d.proxy('/org/freedesktop/LogControl1'), 'org.freedesktop.DBus.Properties')
    assert props.Get('org.freedesktop.LogControl1', 'LogLevel') == 'debug'
    d.call('/org/hwsecd1', MANAGER, 'Reload')
    assert props.Get('org.freedesktop.LogControl1', 'LogLevel') == 'debug'
    props.Set('org.freedesktop.LogControl1', 'LogLevel', dbus.String('warning', variant_level=1))
    d.call('/org/hwsecd1', MANAGER, 'Reload')
    assert props.Get('org.freedesktop.LogControl1', 'LogLevel') == 'warning'


def test_config_problems_clear_after_a_good_reload(host, bus, polkit, daemon):
    host.config('[Daemon]\nLogLevel=shouty\n')
    d = daemon(host)
    assert any('LogLevel=shouty' in p for p in d.get('/org/hwsecd1', MANAGER, 'Problems'))
    assert d.get('/org/hwsecd1', MANAGER, 'State') == 'degraded'
    polkit.allow('org.hwsecd1.reload')
    host.config('[Daemon]\nLogLevel=info\n')
    d.call('/org/hwsecd1', MANAGER, 'Reload')
    assert list(d.get('/org/hwsecd1', MANAGER, 'Problems')) == []
    assert d.get('/org/hwsecd1', MANAGER, 'State') == 'ready'


def test_unreadable_state_file_is_never_overwritten(host, bus, daemon):
    (host.root / 'state' / 'state.json').mkdir()     # reading it fails with EISDIR: not corrupt, unreadable
    (host.root / 'state' / 'state.json' / 'keep').write_text('x')
    d = daemon(host)
    problems = d.get('/org/hwsecd1', MANAGER, 'Problems')
    assert any('could not be read' in p for p in problems)
    d.stop()
    assert (host.root / 'state' / 'state.json' / 'keep').read_text() == 'x'
    assert 'Not writing' in d.log() or 'state.json' in d.log()


def test_set_on_methods_or_wrong_objects_never_asks_polkit(host, bus, polkit, daemon):
    d = daemon(host)
    polkit.clear_calls()
    for path, iface, name in [('/org/hwsecd1', MANAGER, 'Reload'),
                              ('/org/hwsecd1', 'org.freedesktop.LogControl1', 'LogLevel'),
                              ('/org/hwsecd1/asid', 'org.hwsecd1.Asid', 'SetPolicy')]:
        with pytest.raises(dbus.DBusException) as e:
            d.proxy(path).Set(iface, name, dbus.String('x', variant_level=1),
                              dbus_interface='org.freedesktop.DBus.Properties')
        assert dbus_error(e.value) in ('org.freedesktop.DBus.Error.UnknownProperty',
                                       'org.freedesktop.DBus.Error.UnknownInterface',
                                       'org.freedesktop.DBus.Error.UnknownObject')
    assert polkit.calls() == []


def test_invalid_utf8_on_the_command_line_does_not_break_replies(bus, daemon, hwsecctl, host):
    h = host.make('genoa')
    h.write('proc/cmdline', b'BOOT_IMAGE=/vmlinuz root=/dev/sda1 foo=\xff\xfe amd_iommu=on\n')
    d = daemon(h)
    assert json.loads(d.iface().Describe())
    assert d.iface().GetChecks()
    assert hwsecctl(h, 'check', '--json').returncode in (0, 1)


def test_polkit_pending_requests_are_capped_per_client(host, bus, polkit, daemon):
    from dbus.mainloop.glib import DBusGMainLoop
    from gi.repository import GLib

    d = daemon(host)
    polkit.allow('org.hwsecd1.reload')
    polkit.hang()
    conn = dbus.bus.BusConnection(bus.address, mainloop=DBusGMainLoop())
    ok, errors = [], []
    for _ in range(20):
        conn.call_async(BUS_NAME, '/org/hwsecd1', MANAGER, 'Reload', '', [], lambda *a: ok.append(a),
                        lambda e: errors.append(e.get_dbus_name()), timeout=60)
    ctx = GLib.MainContext.default()

    def pump(until):
        deadline = time.monotonic() + scaled(10)
        while not until() and time.monotonic() < deadline:
            ctx.iteration(False)
            time.sleep(0.005)

    pump(lambda: len(errors) >= 4)
    assert errors == ['org.hwsecd1.Error.Busy'] * 4, errors
    # Another client is not affected by this one's backlog.
    assert d.get('/org/hwsecd1', MANAGER, 'State') in ('ready', 'degraded')
    polkit.release()
    pump(lambda: len(ok) >= 16)
    assert len(ok) == 16
    conn.close()
    assert d.running()


def test_bad_config_at_start_is_reported(host, bus, daemon):
    host.config('garbage without section\n')
    d = daemon(host)
    problems = d.get('/org/hwsecd1', MANAGER, 'Problems')
    assert any('configuration' in p for p in problems)
    assert d.get('/org/hwsecd1', MANAGER, 'State') == 'degraded'


def test_corrupt_state_file_is_set_aside_and_reported(host, bus, daemon):
    host.write('state/state.json', '{"version": 1, "asid": ')
    d = daemon(host)
    problems = d.get('/org/hwsecd1', MANAGER, 'Problems')
    assert len(problems) == 1 and 'corrupt' in problems[0]
    aside = [p for p in (host.root / 'state').iterdir() if p.name.startswith('state.json.corrupt-')]
    assert len(aside) == 1 and aside[0].read_text() == '{"version": 1, "asid": '
    assert d.get('/org/hwsecd1', MANAGER, 'State') == 'degraded'
    assert 'MESSAGE_ID=0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a03' in d.log()


def test_sd_notify_ready_and_watchdog_pings(host, bus, daemon):
    sock_path = host.root / 'notify.sock'
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(str(sock_path))
    s.settimeout(scaled(5))
    try:
        d = daemon(host, extra_env={'NOTIFY_SOCKET': str(sock_path), 'WATCHDOG_USEC': '200000'})
        seen = []
        deadline = time.monotonic() + scaled(5)
        while time.monotonic() < deadline and not ('READY=1' in seen and seen.count('WATCHDOG=1') >= 2):
            for line in s.recv(4096).decode().splitlines():
                seen.append(line)
        assert 'READY=1' in seen
        assert seen.count('WATCHDOG=1') >= 2, seen
        d.stop()
        stopping = s.recv(4096).decode()
        while 'STOPPING=1' not in stopping:
            stopping = s.recv(4096).decode()
    finally:
        s.close()
