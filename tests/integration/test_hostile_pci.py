"""Hostile input for the pci area: mangled `lspci -xxxx` dumps given to the offline client, and
unprivileged callers flooding Pci.Audit. Each test says what attack or mutation it catches."""

import json
import os
import re
import subprocess
import threading
import time

import dbus
import pytest

import sim_pci
from busconfig import PrivateBus, clean_env
from conftest import BUS_NAME, ROOT, Daemon, scaled
from simhost import SimHost

DEV = 'org.hwsecd1.PciDevice'


def wait_for(cond, timeout=10, what='condition'):
    deadline = time.monotonic() + scaled(timeout)
    while True:
        if cond():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f'timed out waiting for {what}')
        time.sleep(0.05)


def ping(d):
    d.proxy('/org/hwsecd1').Ping(dbus_interface='org.freedesktop.DBus.Peer')


def owns_name_or_exited_nonzero(d, conn):
    """Still serving, or gone with a failure code (systemd restarts it); alive without the name
    is the bug."""
    if d.proc.poll() is None and conn.name_has_owner(BUS_NAME):
        return True
    try:                                # losing the name: the exit follows at once
        d.proc.wait(timeout=scaled(10))
    except subprocess.TimeoutExpired:
        return False
    return d.proc.returncode != 0

FIX = ROOT / 'tests' / 'fixtures' / 'pci'
SWITCH = FIX / 'switch-no-acs' / 'lspci-xxxx.txt'
UNSAFE_SWITCH = ['0000:01:00.0', '0000:02:00.0', '0000:02:01.0', '0000:02:02.0', '0000:03:00.0',
                 '0000:04:00.0', '0000:05:00.0']


def mutate(tmp_path, old, new, count=1):
    """The switch-no-acs fixture with `old` (a whole line's start) replaced; returns the path and
    the 1-based line number of the first replaced line."""
    lines = SWITCH.read_text().split('\n')
    idx = [i for i, l in enumerate(lines) if l.startswith(old)]
    assert len(idx) >= count, old
    for i in idx[:count]:
        lines[i] = new + lines[i][len(old):]
    p = tmp_path / 'mutated.txt'
    p.write_text('\n'.join(lines))
    return p, idx[0] + 1


def refused(hwsecctl, path, line, *needles):
    """The offline audit exits 1, prints no verdicts, and names the line and what is wrong."""
    p = hwsecctl(None, '--json', 'pci', 'audit', '--dump', path)
    assert p.returncode == 1, (p.returncode, p.stdout[-500:])
    assert p.stdout == ''
    assert f', line {line}: ' in p.stderr, p.stderr
    for n in needles:
        assert n in p.stderr, p.stderr
    return p.stderr


def test_baseline_switch_is_unsafe(hwsecctl):
    """The unmutated fixture: the figures the mutations below must not quietly change (7 unsafe,
    03:00.0 unsafe, the switch present)."""
    p = hwsecctl(None, '--json', 'pci', 'audit', '--dump', SWITCH, check=True)
    doc = json.loads(p.stdout)
    assert doc['summary']['unsafe'] == 7
    assert doc['devices']['0000:03:00.0']['verdict'] == 'unsafe'
    assert sorted(a for a, d in doc['devices'].items() if d['verdict'] == 'unsafe') == UNSAFE_SWITCH


def test_wide_domain_does_not_hide_the_switch(hwsecctl, tmp_path):
    """Mutation: `ffffffff:` before the switch's upstream port header (01:00.0). libpci skipped the
    line, the switch vanished, the summary went from 7 unsafe to 0 and 03:00.0 from unsafe to
    shared, exit 0. Now: exit 1, the header's line number and "the domain has 8 hex digits"."""
    path, line = mutate(tmp_path, '01:00.0 ', 'ffffffff:01:00.0 ')
    refused(hwsecctl, path, line, 'ffffffff:01:00.0', 'the domain has 8 hex digits')
    # `pci check` on the endpoint behind the switch fails the same way, not "shared"
    p = hwsecctl(None, 'pci', 'check', '0000:03:00.0', '--dump', path)
    assert p.returncode == 1 and f', line {line}: ' in p.stderr and 'shared' not in p.stdout


@pytest.mark.parametrize('old,new,needle', [
    ('01:00.0 ', '01:00.8 ', 'function 8 is not 0-7'),          # libpci took it as a 9th function
    ('01:00.0 ', '01:00.x ', 'function x is not 0-7'),          # libpci skipped it
    ('01:00.0 ', '01:20.0 ', 'device 20 is above 1f'),
    ('01:00.0 ', '001:00.0 ', 'the bus must be two hex digits'),
    ('01:00.0 ', ' 01:00.0 ', 'starts with a space'),
    ('01:00.0 ', '000:01:00.0 ', 'the domain has 3 hex digits'),
])
def test_mangled_headers_are_errors(hwsecctl, tmp_path, old, new, needle):
    """Mutations of the switch header that libpci skipped or misread (each dropped or aliased the
    switch): every one is exit 1 with the header's line number."""
    path, line = mutate(tmp_path, old, new)
    refused(hwsecctl, path, line, needle)


def test_duplicate_address_is_an_error(hwsecctl, tmp_path):
    """Mutation: a second device header for 0000:03:00.0 (the 04:00.0 one renamed). libpci kept
    both, the audit kept the first and lost 04:00.0. Now: exit 1 naming both lines."""
    text = SWITCH.read_text()
    first = text.split('\n').index(next(l for l in text.split('\n') if l.startswith('03:00.0 '))) + 1
    path, line = mutate(tmp_path, '04:00.0 ', '0000:03:00.0 ')
    refused(hwsecctl, path, line, 'device 0000:03:00.0 appears a second time', f'first at line {first}')


def test_short_config_is_an_error(hwsecctl, tmp_path):
    """Mutation: the switch upstream port's dump cut to its first 16 bytes (lines 10:-ff: gone).
    libpci read 0xff for the rest: no bridge bus numbers, so everything below it was orphaned.
    Now: exit 1, the header's line number and "16 of the 64 bytes"."""
    lines = SWITCH.read_text().split('\n')
    h = next(i for i, l in enumerate(lines) if l.startswith('01:00.0 '))
    end = next(i for i in range(h + 1, len(lines)) if lines[i] == '')
    del lines[h + 2:end]
    p = tmp_path / 'short.txt'
    p.write_text('\n'.join(lines))
    refused(hwsecctl, p, h + 1, 'device 0000:01:00.0 has 16 of the 64 bytes')


def test_non_hex_byte_is_an_error(hwsecctl, tmp_path):
    """Mutation: one config byte of the switch port replaced by "zz". Now: exit 1 with the data
    line's number and the column of the bad byte."""
    lines = SWITCH.read_text().split('\n')
    h = next(i for i, l in enumerate(lines) if l.startswith('01:00.0 '))
    lines[h + 2] = lines[h + 2][:7] + 'zz' + lines[h + 2][9:]
    p = tmp_path / 'nonhex.txt'
    p.write_text('\n'.join(lines))
    err = refused(hwsecctl, p, h + 3, '"zz" is not a byte')
    assert re.search(r'column 8\b', err), err


def test_bytes_without_device_are_an_error(hwsecctl, tmp_path):
    """Mutation: the switch header replaced by a blank line, so its bytes follow no header.
    libpci dropped them silently (and the switch with them). Now: exit 1 at the first byte line."""
    path, line = mutate(tmp_path, '01:00.0 ', '')
    lines = path.read_text().split('\n')
    lines[line - 1] = ''
    path.write_text('\n'.join(lines))
    refused(hwsecctl, path, line + 1, 'config bytes outside a device')


# ---- Pci.Audit flood ----

PCI = 'org.hwsecd1.Pci'
PCI_PATH = '/org/hwsecd1/pci'


def pci_describe(d):
    return json.loads(d.call('/org/hwsecd1', 'org.hwsecd1.Manager', 'Describe')[0])['pci']


def test_audit_flood_is_coalesced(host, bus, daemon):
    """Attack: any local user sends Pci.Audit (read-only, no polkit) without limit; each call was a
    full re-read of the PCI tree (77% CPU). 200 Audit calls on 4 connections arrive while hwsecd
    is stopped (SIGSTOP, so all are queued, whatever the machine's load); after SIGCONT every
    call is answered with the same summary (7 unsafe), Describe()'s audit_calls grows by 200 and
    audits_run by at most 10 (unfixed: 200)."""
    import dbus
    import os
    import signal
    from conftest import scaled

    d = daemon(host)
    before = pci_describe(d)
    conns = [dbus.bus.BusConnection(bus.address) for _ in range(4)]
    replies = []
    pending = []
    os.kill(d.pid, signal.SIGSTOP)
    try:
        for i in range(200):
            msg = dbus.lowlevel.MethodCallMessage('org.hwsecd1', PCI_PATH, PCI, 'Audit')
            pending.append(conns[i % 4].send_message_with_reply(msg, replies.append, scaled(120)))
        for c in conns:
            c.flush()
            # a round trip to the bus: it has routed every call of this connection before this
            c.call_blocking('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'GetId',
                            '', [])
    finally:
        os.kill(d.pid, signal.SIGCONT)
    for p in pending:
        p.block()
    assert len(replies) == 200
    errors = [r.get_error_name() for r in replies if isinstance(r, dbus.lowlevel.ErrorMessage)]
    assert errors == []
    summaries = [dict(r.get_args_list()[0]) for r in replies]
    assert all(int(s['unsafe']) == 7 and s == summaries[0] for s in summaries)
    after = pci_describe(d)
    assert after['audit_calls'] - before['audit_calls'] == 200
    ran = after['audits_run'] - before['audits_run']
    print(f'200 Audit() calls -> {ran} audit(s)')
    assert 1 <= ran <= 10, f'{ran} audits for 200 calls'
    stats = d.get(PCI_PATH, PCI, 'Statistics')
    assert int(stats['audit-calls']) == after['audit_calls'] and int(stats['audits-run']) == after['audits_run']
    for c in conns:
        c.close()
    assert d.running()


def test_single_audit_counts_once(host, bus, daemon):
    """The counters the flood test relies on: the start-up read is no Audit() (0 calls, 0 run),
    and one lone Audit() call runs exactly one audit and is answered with the summary (7
    unsafe). Catches a queue that never runs, or runs twice, for a single caller."""
    d = daemon(host)
    doc = pci_describe(d)
    assert doc['audit_calls'] == 0 and doc['audits_run'] == 0
    s = d.call(PCI_PATH, PCI, 'Audit')[0]
    assert int(s['unsafe']) == 7
    doc = pci_describe(d)
    assert doc['audit_calls'] == 1 and doc['audits_run'] == 1


# ---- a big host: GetManagedObjects and signals stay linear ----

BIG_VFS = 300                           # VFs on 0000:06:00.0; 315 PCI devices in all
BIG_GROUP = BIG_VFS + 2                 # root port 00:05.0 without ACS RR/CR: it, the PF and every VF
BUS_LIMIT = 1024 * 1024                 # max_message_size of the small bus


def grow_big_group(d, host):
    """Enables BIG_VFS VFs, then turns ACS off on the root port above them: one isolation group
    of BIG_GROUP devices (the quadratic case: every device used to carry the whole group)."""
    stats = lambda: d.get('/org/hwsecd1/pci', 'org.hwsecd1.Pci', 'Statistics')     # noqa: E731
    ev0 = int(stats()['events'])

    def drain(sent):
        wait_for(lambda: int(stats()['events']) - ev0 >= sent, timeout=30, what=f'{sent} uevents seen')
    host.pci.add_vfs(BIG_VFS, drain=drain)
    host.pci.set_acs_ctrl('0000:00:05.0', 0x0011)

    def biggest():
        groups = d.get('/org/hwsecd1/pci', 'org.hwsecd1.Pci', 'IsolationGroups')
        return max(len(g) for g in groups) == BIG_GROUP
    wait_for(biggest, timeout=60, what=f'an isolation group of {BIG_GROUP} devices')


def test_get_managed_objects_of_a_big_group_fits_and_keeps_the_name(tmp_path):
    """Attack: any local user calls GetManagedObjects() on /org/hwsecd1 of a host with a big
    isolation group. Unfixed, every PciDevice carried its whole kernel, predicted and isolation
    group (and reasons listing them), so the reply grew with the square of the group: with
    315 devices and one group of 302 it (and already the update's PropertiesChanged) passed a
    1 MiB max_message_size, dbus-daemon cut hwsecd off and it lost org.hwsecd1 (the caller got
    "disconnected without replying"). Checks: an unprivileged caller (uid 65534) gets the reply on a
    bus with a 1 MiB limit; it holds 315 PciDevice objects whose IsolationGroup is one string
    (the leader) and no KernelGroupDevices; the group is listed once in Pci.IsolationGroups;
    hwsecd still owns its name and answers Ping (or, failing that, exited non-zero)."""
    limit = tmp_path / 'limit.conf'
    limit.write_text('<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"\n'
                     ' "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">\n'
                     f'<busconfig><limit name="max_message_size">{BUS_LIMIT}</limit></busconfig>\n')
    small = PrivateBus(extra_confs=[limit])
    host = SimHost('genoa', pci_sriov=True, pci_sriov_total=BIG_VFS)
    d = None
    try:
        d = Daemon(host, small)
        grow_big_group(d, host)
        os.chmod(small.dir, 0o755)          # let uid 65534 reach the private bus socket
        p = subprocess.run(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups',
                            'busctl', f'--address={small.address}', '--timeout=120', '--json=short', 'call',
                            BUS_NAME, '/org/hwsecd1', 'org.freedesktop.DBus.ObjectManager', 'GetManagedObjects'],
                           env=clean_env(), capture_output=True, text=True, timeout=scaled(180))
        watcher = dbus.bus.BusConnection(small.address)
        assert owns_name_or_exited_nonzero(d, watcher), d.log()[-3000:]
        assert p.returncode == 0, p.stderr
        objs = json.loads(p.stdout)['data'][0]
        devs = {path: ifaces[DEV] for path, ifaces in objs.items() if DEV in ifaces}
        assert len(devs) == BIG_VFS + 15
        for props in devs.values():
            assert 'KernelGroupDevices' not in props
            assert props['IsolationGroup']['type'] == 's' and props['PredictedKernelGroup']['type'] == 's'
        vf = devs['/org/hwsecd1/pci/_30000_3a06_3a00_2e1']
        assert vf['IsolationGroup']['data'] == '0000:00:05.0'
        groups = objs['/org/hwsecd1/pci']['org.hwsecd1.Pci']['IsolationGroups']['data']
        assert [len(g) for g in groups if g[0] == '0000:00:05.0'] == [BIG_GROUP]
        assert d.running() and watcher.name_has_owner(BUS_NAME)
        ping(d)
    finally:
        if d:
            d.stop()
        small.stop()
        host.close()


def test_big_group_change_signals_carry_no_tables(host, bus, daemon):
    """Mutation: one ACS change that moves BIG_GROUP devices into one isolation group. Unfixed,
    the Pci object's PropertiesChanged carried the full values of KernelGroups,
    PredictedKernelGroups, IsolationGroups, UnsafeDevices and UnsafeGroups (and each device's
    signal its whole group), so one event sent data that grows with the host. Checks: the Pci
    object's signals carry those tables by name only (invalidated) and at most Summary,
    HostFindings and Iommu by value; each device signal carries only the properties of its own
    (IsolationGroup and PredictedKernelGroup as one address string, never a list); devices outside the region
    (0000:03:00.0, behind the other switch) get no signal at all."""
    host2 = host.make('genoa', pci_sriov=True, pci_sriov_total=BIG_VFS)
    d = daemon(host2)
    from dbus.mainloop.glib import DBusGMainLoop
    from gi.repository import GLib
    loop = GLib.MainLoop()
    conn = dbus.bus.BusConnection(bus.address, mainloop=DBusGMainLoop())
    seen = []
    conn.add_signal_receiver(lambda *a, path=None: seen.append((str(path), a)), signal_name='PropertiesChanged',
                             path_keyword='path', bus_name=BUS_NAME)
    th = threading.Thread(target=loop.run, daemon=True)
    th.start()
    try:
        grow_big_group(d, host2)
        wait_for(lambda: any(p == '/org/hwsecd1/pci' and 'IsolationGroups' in [str(x) for x in a[2]] + list(a[1])
                             for p, a in list(seen)), what='IsolationGroups announced')
        for path, (iface, changed, invalidated) in list(seen):
            if path == '/org/hwsecd1/pci':
                assert set(str(k) for k in changed) <= {'Summary', 'HostFindings', 'Iommu'}, changed.keys()
            elif path.startswith('/org/hwsecd1/pci/'):
                for name in ('IsolationGroup', 'PredictedKernelGroup'):
                    if name in changed:
                        assert isinstance(changed[name], dbus.String) and len(changed[name]) == 12
                assert 'KernelGroupDevices' not in changed
        assert sim_pci.object_path('0000:03:00.0') not in [p for p, a in seen]
    finally:
        loop.quit()
        conn.close()


def identity_groups(d):
    """identity_groups of the iommu.translation check, as the checks last read the host."""
    for c in d.iface('/org/hwsecd1', 'org.hwsecd1.Manager').GetChecks():
        if str(c[0]) == 'iommu.translation':
            return int(c[6].get('identity_groups', -1))
    raise AssertionError('no iommu.translation check')


def test_acs_change_does_not_reread_every_iommu_group(host, daemon):
    """Mutation: an ACS change (a PCI "change" uevent) made the readiness checks re-read every
    /sys/kernel/iommu_groups/N/type 250 ms later, a cost that grows with the host, although the
    kernel regroups only when devices come or go. Checks: every group's type file is rewritten
    to "identity" behind the daemon's back; after an ACS change on 0000:00:04.0 has been
    processed and well past the 250 ms settle, the check still counts 0 identity groups (the
    files were not read); after a device removal (which may take a group with it) it counts
    every remaining group as identity, so the re-read itself still works."""
    d = daemon(host)
    assert identity_groups(d) == 0
    groups = sorted(p for p in host.sys_path('kernel/iommu_groups').iterdir() if (p / 'type').exists())
    for g in groups:
        (g / 'type').write_text('identity\n')
    updates = int(d.get('/org/hwsecd1/pci', 'org.hwsecd1.Pci', 'Statistics')['updates'])
    host.pci.set_acs_ctrl('0000:00:04.0', 0x0011)
    wait_for(lambda: int(d.get('/org/hwsecd1/pci', 'org.hwsecd1.Pci', 'Statistics')['updates']) > updates,
             what='the ACS change to be processed')
    time.sleep(scaled(1.5))           # six times the IOMMU settle window: the old re-read has happened
    assert identity_groups(d) == 0
    host.pci.remove('0000:00:1f.3')
    wait_for(lambda: identity_groups(d) > 0, timeout=20, what='the IOMMU groups re-read after a removal')
