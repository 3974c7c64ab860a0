"""Hostile input to the PSP operations on the bus (Psp.SetSnpConfig, Psp.CommitFirmware,
ScheduleUpdate{commit}) and to the commit record a firmware job keeps in state.json. Every
refusal is asserted by error NAME; none of them may reach the PSP (no SNP_SET_CONFIG or
SNP_COMMIT in the simulator's call log) or ask polkit."""

import json
import subprocess

import dbus
import pytest

import fwutil
import sim_psp
import test_firmware
from conftest import scaled

PSP = '/org/hwsecd1/psp'
PSP_IFACE = 'org.hwsecd1.Psp'
SET_CONFIG = 'org.hwsecd1.set-snp-config'
INVALID = 'org.hwsecd1.Error.InvalidArgument'
GENOA_TCB = sim_psp.GENOA_TCB           # BL=4 TEE=3 SNP=24 uCode=219


def set_config(d, **kw):
    d.iface(PSP, PSP_IFACE).SetSnpConfig(dbus.Dictionary(kw, signature='sv'))


def sent(host, cmd):
    return [c for c in sim_psp.ops_calls(host) if c['cmd'] == cmd]


@pytest.mark.parametrize('value', [
    ' current', 'current ', 'CURRENT', '-1', '+5', '0x', '0x1g', '18446744073709551616',   # 2^64
    '0x10000000000000000', 'bl=4,tee=3,snp=24', 'bl=4,tee=3,snp=24,ucode=219,bl=4',
    'bl=4,tee=3,snp=24,ucode=256', 'bl=4,tee=3,snp=24,ucode=-1', 'fmc=1,bl=4,tee=3,snp=24,ucode=219',
    '=4', 'x' * 100000, 'bl=04 ,tee=3,snp=24,ucode=219',
])
def test_reported_tcb_garbage_is_invalid_argument(host, bus, polkit, daemon, value):
    """Malformed reported_tcb strings (signs, spaces, overflow past 2^64, missing/duplicate/
    out-of-range parts, Turin's fmc on Genoa, 100 kB): InvalidArgument before polkit, nothing
    sent. Catches a parser that wraps, truncates or accepts a partial TCB (the firmware would
    then report a TCB with zero parts)."""
    polkit.allow(SET_CONFIG)
    d = daemon(host)
    with pytest.raises(dbus.DBusException) as e:
        set_config(d, reported_tcb=value)
    assert e.value.get_dbus_name() == INVALID
    assert polkit.calls() == [] and sent(host, sim_psp.SNP_SET_CONFIG) == []


@pytest.mark.parametrize('value,part', [
    (hex(GENOA_TCB + 1), 'bl=5'),                       # boot loader 4 -> 5
    (hex(GENOA_TCB + (1 << 56)), 'ucode=220'),          # microcode 219 -> 220
    (hex(GENOA_TCB - 4 + (1 << 48)), 'snp=25'),         # lower BL but higher SNP: still above
    (hex(GENOA_TCB | (1 << 16)), None),                 # a reserved byte set
])
def test_tcb_above_current_in_any_part(host, bus, polkit, daemon, value, part):
    """A reported TCB above the current one in any single part (also when other parts are
    lower, which a plain integer comparison would let through) or with reserved bytes:
    InvalidArgument naming the part (bl=5, ucode=220, snp=25), nothing sent."""
    polkit.allow(SET_CONFIG)
    d = daemon(host)
    with pytest.raises(dbus.DBusException) as e:
        set_config(d, reported_tcb=value)
    assert e.value.get_dbus_name() == INVALID
    if part:
        assert part in e.value.get_dbus_message()
    assert sent(host, sim_psp.SNP_SET_CONFIG) == []


@pytest.mark.parametrize('config', [
    {'mask_chip_id': dbus.Byte(1)}, {'mask_chip_id': dbus.UInt32(2)}, {'mask_chip_key': 'true'},
    {'reported_tcb': dbus.UInt64(GENOA_TCB)}, {'reported_tcb': dbus.Array(['current'], signature='s')},
    {'Reported_Tcb': 'current'}, {'': dbus.Boolean(True)},
])
def test_wrong_keys_and_types(host, bus, polkit, daemon, config):
    """Keys of the wrong type (a byte or u32 where b is wanted, a u64 or array for the string),
    unknown or case-changed keys: InvalidArgument, nothing sent, polkit not asked. Catches a
    reader that coerces a u32 2 into 'true' or ignores unknown keys (a typo would silently set
    nothing)."""
    polkit.allow(SET_CONFIG)
    d = daemon(host)
    with pytest.raises(dbus.DBusException) as e:
        set_config(d, **config)
    assert e.value.get_dbus_name() in (INVALID, 'org.freedesktop.DBus.Error.InvalidArgs')
    assert polkit.calls() == [] and sent(host, sim_psp.SNP_SET_CONFIG) == []


def test_same_key_twice_last_wins_only_after_validation(host, bus, polkit, daemon):
    """A dict with reported_tcb twice (legal on the wire): the second, above-current value must
    be validated too, not only the first. InvalidArgument, nothing sent."""
    polkit.allow(SET_CONFIG)
    d = daemon(host)
    p = subprocess.run(['gdbus', 'call', '--address', bus.address, '--dest', 'org.hwsecd1', '--object-path', PSP,
                        '--method', PSP_IFACE + '.SetSnpConfig',
                        "[{'reported_tcb', <'current'>}, {'reported_tcb', <'%s'>}]" % hex(GENOA_TCB + 1)],
                       capture_output=True, text=True, timeout=scaled(60))
    assert p.returncode != 0 and INVALID in p.stderr, p.stderr
    assert sent(host, sim_psp.SNP_SET_CONFIG) == []


def test_tampered_commit_record_is_dropped_not_trusted(host, bus, daemon):
    """state.json with a history job whose commit record is forged (TCB not 0x-hex, committed
    not a boolean): the loader leaves that entry out and reports it in Manager.Problems, the
    other job stays. Catches a loader that shows a forged 'committed' flag."""
    good = dict(id=1, payload='a.sbin', sha256='a' * 64, not_before_usec=0, not_after_usec=0,
                state='succeeded', created_usec=1, started_usec=2, finished_usec=3, errno=0,
                versions_before=dict(valid=False), versions_after=dict(valid=False),
                commit=dict(attempted=True, committed=True, error='',
                            tcb_before=dict(current='0x%016x' % GENOA_TCB, reported='0x%016x' % GENOA_TCB)))
    bad_tcb = dict(good, id=2, commit=dict(good['commit'], tcb_before=dict(current='-1', reported='0x0')))
    bad_flag = dict(good, id=3, commit=dict(good['commit'], committed='yes'))
    host.write('state/state.json', json.dumps({'version': 1, 'firmware': {
        'next_id': 4, 'jobs': [], 'history': [good, bad_tcb, bad_flag]}}))
    d = daemon(host)
    hist = d.call(fwutil.FW, fwutil.FW_IFACE, 'History')[0]
    assert [int(h[0]) for h in hist] == [1]
    assert hist[0][8]['SnpReportedTcb'] == GENOA_TCB
    problems = ' '.join(str(p) for p in d.get('/org/hwsecd1', 'org.hwsecd1.Manager', 'Problems'))
    assert 'commit' in problems


def test_commit_option_needs_a_boolean(host, bus, polkit, daemon):
    """ScheduleUpdate{commit: 1 (u32)} or {commit: 'true'}: InvalidArgument, no job, no
    SNP_COMMIT."""
    polkit.allow(*fwutil.ALL_ACTIONS)
    d = daemon(host)
    fwutil.stage_file(host, 'pkg.sbin', test_firmware.PKG)
    for v in (dbus.UInt32(1), 'true'):
        with pytest.raises(dbus.DBusException) as e:
            fwutil.schedule(d, 'pkg.sbin', commit=v)
        assert e.value.get_dbus_name() == INVALID
    assert sent(host, sim_psp.SNP_COMMIT) == []
    assert list(d.get(fwutil.FW, fwutil.FW_IFACE, 'Jobs')) == []
