"""The PSP operations on the bus: ChipId, VcekUrl and VcekUrlError (SEV_GET_ID2 at every status
read), CommitFirmware() (SNP_COMMIT) and SetSnpConfig() (SNP_SET_CONFIG), against the real hwsecd
on the simulated host (sim_psp.py answers the ioctls with the kernel's layouts and errors).
Refusals are asserted by error NAME."""

import json

import dbus
import pytest

import sim_psp

PSP = '/org/hwsecd1/psp'
PSP_IFACE = 'org.hwsecd1.Psp'
COMMIT = 'org.hwsecd1.commit-firmware'
SET_CONFIG = 'org.hwsecd1.set-snp-config'

GENOA_TCB = sim_psp.GENOA_TCB           # BL=4 TEE=3 SNP=24 uCode=219
TURIN_TCB = sim_psp.TURIN_TCB           # FMC=1 BL=2 TEE=3 SNP=5 uCode=74
OLDER_GENOA = 0xda17000000000203        # BL=3 TEE=2 SNP=23 uCode=218
GENOA_HEX = bytes(range(0x40, 0x80)).hex().upper()
GENOA_URL = ('https://kdsintf.amd.com/vcek/v1/Genoa/' + GENOA_HEX +
             '?blSPL=04&teeSPL=03&snpSPL=24&ucodeSPL=219')


def psp(d):
    return d.iface(PSP, PSP_IFACE)


def cfg(**kw):
    return dbus.Dictionary(kw, signature='sv')


def prop(d, name):
    return d.get(PSP, PSP_IFACE, name)


def ops(host, cmd):
    return [c for c in sim_psp.ops_calls(host) if c['cmd'] == cmd]


def test_chip_id_and_vcek_url_genoa(host, bus, daemon, hwsecctl):
    """Reads the chip id at the status read (GET_ID2, no polkit) and builds the KDS URL from the
    reported TCB: Genoa, 128 hex digits of bytes 0x40..0x7f, blSPL=04 teeSPL=03 snpSPL=24
    ucodeSPL=219. Catches a URL built from the current instead of the reported TCB (they differ
    here: reported is older) and a missing or lower-case id."""
    host = host.make('genoa', snp=dict(reported_tcb=OLDER_GENOA))
    d = daemon(host)
    assert prop(d, 'ChipId') == GENOA_HEX
    url = ('https://kdsintf.amd.com/vcek/v1/Genoa/' + GENOA_HEX +
           '?blSPL=03&teeSPL=02&snpSPL=23&ucodeSPL=218')
    assert prop(d, 'VcekUrl') == url
    assert prop(d, 'VcekUrlError') == ''
    assert len(ops(host, sim_psp.SEV_GET_ID2)) >= 1
    j = json.loads(hwsecctl(host, 'psp', 'vcek-url', '--json', check=True).stdout)
    assert j['vcek_url'] == url and j['chip_id'] == GENOA_HEX
    assert hwsecctl(host, 'psp', 'id', check=True).stdout.strip() == GENOA_HEX


def test_vcek_url_turin_uses_8_bytes_and_fmc(host, bus, daemon):
    """Turin: the hwid is the first 8 bytes (16 hex digits), fmcSPL comes first. Catches the
    full 64-byte id or a missing fmcSPL on Turin."""
    host = host.make('turin')
    d = daemon(host)
    hwid = bytes(range(0xc0, 0xc8)).hex().upper()
    assert prop(d, 'VcekUrl') == ('https://kdsintf.amd.com/vcek/v1/Turin/' + hwid +
                                  '?fmcSPL=01&blSPL=02&teeSPL=03&snpSPL=05&ucodeSPL=74')


def test_masked_chip_id_gives_no_url(host, bus, daemon, hwsecctl):
    """mask_chip_id set: the firmware hides the id (zeros); VcekUrl is empty and VcekUrlError
    says CHIP_ID_MASKED instead of a URL with a zero hwid. hwsecctl psp vcek-url exits non-zero
    and names it."""
    host = host.make('genoa', snp=dict(flags=sim_psp.SNP_DEFAULT['flags'] | sim_psp.MASK_CHIP_ID))
    d = daemon(host)
    assert prop(d, 'MaskChipId')
    assert prop(d, 'VcekUrl') == ''
    assert prop(d, 'VcekUrlError') == 'CHIP_ID_MASKED'
    p = hwsecctl(host, 'psp', 'vcek-url', '--json')
    assert p.returncode != 0
    assert json.loads(p.stdout)['vcek_url_error'] == 'CHIP_ID_MASKED'


def test_commit_firmware(host, bus, polkit, daemon):
    """CommitFirmware() after polkit (commit-firmware, one check): SNP_COMMIT issued once, the
    reported TCB becomes the current one (0xdb18000000000304) and TcbCommitted is true when the
    call returns (the status was re-read before the reply)."""
    host = host.make('genoa', snp=dict(reported_tcb=OLDER_GENOA))
    polkit.allow(COMMIT)
    d = daemon(host)
    assert not prop(d, 'TcbCommitted')
    psp(d).CommitFirmware()
    assert polkit.calls() == [(COMMIT, 0)]
    assert len(ops(host, sim_psp.SNP_COMMIT)) == 1
    assert sim_psp.committed_tcb(host) == GENOA_TCB
    assert prop(d, 'ReportedTcb') == GENOA_TCB
    assert prop(d, 'TcbCommitted')


def test_commit_refused_without_snp(host, bus, polkit, daemon):
    """SNP not initialised: SnpNotInitialized (the kernel's EINVAL for SNP_COMMIT), before
    polkit is asked and without a command sent."""
    host = host.make('snp-uninit')
    polkit.allow(COMMIT)
    d = daemon(host)
    with pytest.raises(dbus.DBusException) as e:
        psp(d).CommitFirmware()
    assert e.value.get_dbus_name() == 'org.hwsecd1.Error.SnpNotInitialized'
    assert polkit.calls() == []
    assert ops(host, sim_psp.SNP_COMMIT) == []


def test_commit_kernel_einval_is_named(host, bus, polkit, daemon):
    """The kernel answers SNP_COMMIT with EINVAL (SNP shut down after our last status read):
    the EINVAL is named SnpNotInitialized, not a generic I/O error."""
    host = host.make('genoa', ops_errno={sim_psp.SNP_COMMIT: 22})
    polkit.allow(COMMIT)
    d = daemon(host)
    with pytest.raises(dbus.DBusException) as e:
        psp(d).CommitFirmware()
    assert e.value.get_dbus_name() == 'org.hwsecd1.Error.SnpNotInitialized'
    assert len(ops(host, sim_psp.SNP_COMMIT)) == 1


def test_commit_and_set_config_denied(host, bus, polkit, daemon):
    """polkit denies: AccessDenied for both methods, no SNP_COMMIT or SNP_SET_CONFIG sent,
    reported TCB unchanged."""
    host = host.make('genoa', snp=dict(reported_tcb=OLDER_GENOA))
    polkit.deny_all()
    d = daemon(host)
    with pytest.raises(dbus.DBusException) as e:
        psp(d).CommitFirmware()
    assert e.value.get_dbus_name() == 'org.freedesktop.DBus.Error.AccessDenied'
    with pytest.raises(dbus.DBusException) as e:
        psp(d).SetSnpConfig(cfg(reported_tcb='current'))
    assert e.value.get_dbus_name() == 'org.freedesktop.DBus.Error.AccessDenied'
    assert ops(host, sim_psp.SNP_COMMIT) == [] and ops(host, sim_psp.SNP_SET_CONFIG) == []
    assert prop(d, 'ReportedTcb') == OLDER_GENOA


def test_set_snp_config_current_and_masks(host, bus, polkit, daemon, hwsecctl):
    """SetSnpConfig{reported_tcb: current, mask_chip_key: true}: one SNP_SET_CONFIG with the
    current TCB and the key mask; ReportedTcb, MaskChipKey and MaskChipId read back at the reply.
    The hwsecctl form shows the result."""
    host = host.make('genoa', snp=dict(reported_tcb=OLDER_GENOA))
    polkit.allow(SET_CONFIG)
    d = daemon(host)
    psp(d).SetSnpConfig(cfg(reported_tcb='current', mask_chip_key=dbus.Boolean(True)))
    assert polkit.calls() == [(SET_CONFIG, 0)]
    calls = ops(host, sim_psp.SNP_SET_CONFIG)
    assert len(calls) == 1 and calls[0]['reported_tcb'] == GENOA_TCB
    assert prop(d, 'ReportedTcb') == GENOA_TCB
    assert prop(d, 'MaskChipKey') and not prop(d, 'MaskChipId')
    p = hwsecctl(host, 'psp', 'set-config', '--mask-chip-key=no', '--json', check=True)
    j = json.loads(p.stdout)
    assert j['reported_tcb'] == '0x%016x' % GENOA_TCB and j['mask_chip_key'] is False


def test_set_snp_config_refusals_before_polkit(host, bus, polkit, daemon):
    """Validation comes before polkit: a TCB above current (named by part), an unknown key, a
    wrong type, nothing to change: InvalidArgument, no polkit call, no SNP_SET_CONFIG. Catches
    validation moved after polkit (a refusal that costs a password) or skipped."""
    polkit.allow(SET_CONFIG)
    d = daemon(host)
    above = GENOA_TCB + 1                           # BL 4 -> 5
    for cfg in ({'reported_tcb': hex(above)}, {'reported_tcb': 'bl=4,tee=4,snp=24,ucode=219'},
                {'bogus': dbus.Boolean(True)}, {'mask_chip_id': 'yes'}, {}):
        with pytest.raises(dbus.DBusException) as e:
            psp(d).SetSnpConfig(dbus.Dictionary(cfg, signature='sv'))
        assert e.value.get_dbus_name() == 'org.hwsecd1.Error.InvalidArgument', cfg
    assert polkit.calls() == []
    assert ops(host, sim_psp.SNP_SET_CONFIG) == []


def test_set_snp_config_refused_without_snp(host, bus, polkit, daemon):
    """SNP not initialised: SnpNotInitialized, before polkit."""
    host = host.make('snp-uninit')
    polkit.allow(SET_CONFIG)
    d = daemon(host)
    with pytest.raises(dbus.DBusException) as e:
        psp(d).SetSnpConfig(cfg(mask_chip_id=dbus.Boolean(True)))
    assert e.value.get_dbus_name() == 'org.hwsecd1.Error.SnpNotInitialized'
    assert polkit.calls() == []


# ---- ScheduleUpdate{commit}: the firmware job commits through the core, the PSP area re-reads ----

def test_schedule_update_with_commit(host, bus, polkit, daemon):
    """ScheduleUpdate(..., {commit: true}) on a host whose reported TCB is behind: the update
    succeeds, the same job issues SNP_COMMIT once, the job records the TCB before (reported
    0xda17000000000203) and after (reported = current = 0xdb18000000000304) in VersionsBefore/
    VersionsAfter, in History() and in state.json, and the PSP area re-reads (TcbCommitted true).
    Catches a commit issued without the option, or not recorded, or a PSP area left stale."""
    import fwutil
    import test_firmware
    host = host.make('genoa', snp=dict(reported_tcb=OLDER_GENOA))
    polkit.allow(*fwutil.ALL_ACTIONS)
    d = daemon(host)
    fwutil.stage_file(host, 'pkg.sbin', test_firmware.PKG)
    path = fwutil.schedule(d, 'pkg.sbin', commit=dbus.Boolean(True))
    assert fwutil.wait_state(d, path, ('succeeded', 'failed')) == 'succeeded'
    assert len(ops(host, sim_psp.SNP_COMMIT)) == 1
    props = d.get_all(path, fwutil.JOB_IFACE)
    before, after = props['VersionsBefore'], props['VersionsAfter']
    assert before['SnpReportedTcb'] == OLDER_GENOA and before['SnpCurrentTcb'] == GENOA_TCB
    assert after['SnpReportedTcb'] == GENOA_TCB and after['Committed'] and after['CommitError'] == ''
    hist = d.call(fwutil.FW, fwutil.FW_IFACE, 'History')[0]
    assert hist[0][9]['SnpReportedTcb'] == GENOA_TCB and hist[0][8]['SnpReportedTcb'] == OLDER_GENOA
    doc = fwutil.state_doc(host)['firmware']['history'][0]['commit']
    assert doc['committed'] and doc['tcb_before']['reported'] == '0x%016x' % OLDER_GENOA
    fwutil.wait_for(lambda: prop(d, 'TcbCommitted'), what='the PSP area to re-read after the commit')
    assert prop(d, 'ReportedTcb') == GENOA_TCB
    # the loader takes the commit record back after a restart
    d.restart()
    hist = d.call(fwutil.FW, fwutil.FW_IFACE, 'History')[0]
    assert hist[0][9]['Committed'] and hist[0][8]['SnpReportedTcb'] == OLDER_GENOA


def test_schedule_update_without_commit_does_not_commit(host, bus, polkit, daemon):
    """The same update without the option: no SNP_COMMIT, no commit keys in the job, the
    reported TCB stays behind (0xda17000000000203)."""
    import fwutil
    import test_firmware
    host = host.make('genoa', snp=dict(reported_tcb=OLDER_GENOA))
    polkit.allow(*fwutil.ALL_ACTIONS)
    d = daemon(host)
    fwutil.stage_file(host, 'pkg.sbin', test_firmware.PKG)
    path = fwutil.schedule(d, 'pkg.sbin')
    assert fwutil.wait_state(d, path, ('succeeded', 'failed')) == 'succeeded'
    assert ops(host, sim_psp.SNP_COMMIT) == []
    assert 'Committed' not in d.get_all(path, fwutil.JOB_IFACE)['VersionsAfter']
    assert prop(d, 'ReportedTcb') == OLDER_GENOA


def test_schedule_update_commit_refusals(host, bus, polkit, daemon):
    """commit of the wrong type: InvalidArgument; commit on a host without SNP initialised:
    SnpNotInitialized, before polkit is asked."""
    import fwutil
    import test_firmware
    host = host.make('snp-uninit')
    polkit.allow(*fwutil.ALL_ACTIONS)
    d = daemon(host)
    fwutil.stage_file(host, 'pkg.sbin', test_firmware.PKG)
    polkit_calls = len(polkit.calls())
    with pytest.raises(dbus.DBusException) as e:
        fwutil.schedule(d, 'pkg.sbin', commit='yes')
    assert e.value.get_dbus_name() == 'org.hwsecd1.Error.InvalidArgument'
    with pytest.raises(dbus.DBusException) as e:
        fwutil.schedule(d, 'pkg.sbin', commit=dbus.Boolean(True))
    assert e.value.get_dbus_name() == 'org.hwsecd1.Error.SnpNotInitialized'
    assert len(polkit.calls()) == polkit_calls


def test_update_not_committed_check(host, bus, polkit, daemon, hwsecctl):
    """Readiness check firmware.update-committed: not-applicable before any update; after an
    update without the commit option it fails ("not committed after the update of job 1",
    remediation command "hwsecctl psp commit"); CommitFirmware() makes it pass, the commit time is
    kept in state.json ("psp": last_commit_usec) and the check still passes after a restart.
    Catches a check that only compares TCBs (set-config --reported-tcb current would then hide an
    uncommitted update) or forgets the commit across restarts."""
    import fwutil
    import test_firmware
    from test_psp import checks
    host = host.make('genoa')
    polkit.allow(*fwutil.ALL_ACTIONS, COMMIT, SET_CONFIG)
    d = daemon(host)
    assert checks(d)['firmware.update-committed']['result'] == 'not-applicable'
    fwutil.stage_file(host, 'pkg.sbin', test_firmware.PKG)
    path = fwutil.schedule(d, 'pkg.sbin')
    assert fwutil.wait_state(d, path, ('succeeded', 'failed')) == 'succeeded'
    c = fwutil.wait_for(lambda: (lambda c: c['result'] == 'fail' and c)(checks(d)['firmware.update-committed']),
                        what='the check to fail after the update')
    assert 'not committed after the update of job 1' in c['detail']
    assert c['remediation'] == {'kind': 'command', 'value': 'hwsecctl psp commit', 'needs_reboot': False}
    # reporting the current TCB is no commit
    psp(d).SetSnpConfig(cfg(reported_tcb='current'))
    assert checks(d)['firmware.update-committed']['result'] == 'fail'
    psp(d).CommitFirmware()
    assert checks(d)['firmware.update-committed']['result'] == 'pass'
    assert fwutil.state_doc(host)['psp']['last_commit_usec'] > 0
    d.restart()
    assert checks(d)['firmware.update-committed']['result'] == 'pass'
