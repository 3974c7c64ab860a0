"""Hostile input for the pci area: mangled `lspci -xxxx` dumps given to the offline client, and
unprivileged callers flooding Pci.Audit. Each test says what attack or mutation it catches."""

import json
import re

import pytest

from conftest import ROOT

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
