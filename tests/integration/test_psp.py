"""The PSP area end to end: the real hwsecd on a umockdev testbed (sim_psp.py) with /dev/sev ioctl
emulation. Each fixture host asserts the org.hwsecd1.Psp properties, `hwsecctl psp --json` and the
readiness checks (GetChecks, `hwsecctl check --json`)."""

import errno
import json
import shutil
import subprocess
import time

import dbus
import dbus.mainloop.glib
import pytest
from gi.repository import GLib

import sim_psp
from conftest import scaled

PSP = '/org/hwsecd1/psp'
PSP_IFACE = 'org.hwsecd1.Psp'
MANAGER = '/org/hwsecd1'
MANAGER_IFACE = 'org.hwsecd1.Manager'

MSG_PSP_APPEARED = '0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a10'
MSG_PSP_DISAPPEARED = '0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a11'
MSG_FIRMWARE_ERROR = '0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a12'
MSG_CHECK_CHANGED = '0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a13'

CHECK_IDS = [
    'cpu.sev', 'cpu.sev-es', 'cpu.sev-snp', 'bios.memory-encryption', 'kernel.kvm-amd',
    'kernel.kvm-amd-sev', 'kernel.kvm-amd-sev-es', 'kernel.kvm-amd-sev-snp', 'iommu.translation',
    'platform.dev-sev', 'platform.sev-state', 'platform.snp-init', 'platform.rmp-init',
    'firmware.snp-version', 'firmware.tcb-committed', 'firmware.update-committed',
    'features.ciphertext-hiding-capable',
    'features.ciphertext-hiding-enabled', 'features.sfs',
]
RESULTS = ('pass', 'fail', 'unknown', 'skip', 'not-applicable')


# ---- host preparation: the parts other areas' simulators own, set explicitly for determinism ----

KVM = {
    'genoa': dict(sev='Y', sev_es='Y', sev_snp='Y', ciphertext_hiding_asids='99'),
    'milan': dict(sev='Y', sev_es='Y', sev_snp='Y', ciphertext_hiding_asids='0'),
    'turin': dict(sev='Y', sev_es='Y', sev_snp='Y', ciphertext_hiding_asids='0'),
    'snp-uninit': dict(sev='Y', sev_es='Y', sev_snp='N', ciphertext_hiding_asids='0'),
    'fw-error': dict(sev='N', sev_es='N', sev_snp='N', ciphertext_hiding_asids='0'),
    'no-psp': dict(sev='N', sev_es='N', sev_snp='N', ciphertext_hiding_asids='0'),
}


def set_kvm(host, **params):
    for k, v in params.items():
        host.write_sys(f'module/kvm_amd/parameters/{k}', f'{v}\n')


def iommu_groups(host):
    d = host.sys_path('kernel/iommu_groups')
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def ensure_iommu(host):
    """At least one translating IOMMU group (sim_pci may have made some already)."""
    if not iommu_groups(host):
        host.write_sys('kernel/iommu_groups/0/type', 'DMA-FQ\n')


def prepare(host, **kvm):
    p = dict(KVM[host.profile])
    p.update(kvm)
    set_kvm(host, **p)
    ensure_iommu(host)
    return host


def has_sfs(host):
    return (host.sysroot / 'dev' / 'sfs').exists()


def make(host, profile, **opts):
    return prepare(host.make(profile, **opts))


# ---- reading the daemon ----

def plain(v):
    """dbus-python values -> plain Python (as json.loads gives them)."""
    if isinstance(v, dbus.Boolean):
        return bool(v)
    if isinstance(v, (dbus.Byte, dbus.Int16, dbus.UInt16, dbus.Int32, dbus.UInt32, dbus.Int64, dbus.UInt64)):
        return int(v)
    if isinstance(v, dbus.Double):
        return float(v)
    if isinstance(v, (dbus.String, dbus.ObjectPath, dbus.Signature)):
        return str(v)
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    return v


def props(d):
    return plain(d.get_all(PSP, PSP_IFACE))


def checks(d):
    out = {}
    for c in d.iface(MANAGER, MANAGER_IFACE).GetChecks():
        cid, cat, res, title, detail, hint, ev, rem = plain(c)
        out[cid] = dict(category=cat, result=res, title=title, detail=detail, hint=hint, evidence=ev,
                        remediation=rem)
    return out


def results(d):
    return {k: v['result'] for k, v in checks(d).items()}


def psp_json(host, hwsecctl):
    p = hwsecctl(host, 'psp', '--json', check=True)
    return json.loads(p.stdout)


def check_json(host, hwsecctl):
    p = hwsecctl(host, 'check', '--json')
    assert p.returncode in (0, 1), p.stderr
    return p.returncode, json.loads(p.stdout)


def wait_for(pred, timeout=5, what='condition'):
    """Polls pred until it is true; timeout in seconds before scaling for slow runs (valgrind)."""
    deadline = time.monotonic() + scaled(timeout)
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError(f'timed out waiting for {what}')


def assert_common(d, host, hwsecctl):
    """What holds on every host: the client shows exactly the bus, the checks are complete and
    consistent everywhere, and the summary counts them."""
    p = props(d)
    assert psp_json(host, hwsecctl) == p
    c = checks(d)
    assert list(c) == CHECK_IDS
    for cid, chk in c.items():
        assert chk['result'] in RESULTS
        assert chk['detail'], cid
        assert set(chk['remediation']) == {'kind', 'value', 'needs_reboot'}
        assert chk['remediation']['kind'] in ('none', 'bios-setting', 'kernel-cmdline', 'modprobe-option',
                                              'firmware-update', 'command')
        if chk['result'] == 'fail':
            assert chk['hint'], cid
        if chk['result'] in ('pass', 'not-applicable'):
            assert chk['remediation']['kind'] == 'none' and chk['hint'] == ''
    summary = plain(d.get(MANAGER, MANAGER_IFACE, 'CheckSummary'))
    assert set(summary) == set(RESULTS)
    for r in RESULTS:
        assert summary[r] == sum(1 for x in c.values() if x['result'] == r)
    rc, j = check_json(host, hwsecctl)
    assert [t['id'] for t in j['tests']] == CHECK_IDS
    assert {t['id']: t['result'] for t in j['tests']} == {k: v['result'] for k, v in c.items()}
    assert j['summary']['total'] == len(CHECK_IDS)
    assert j['summary']['passed'] == summary['pass']
    assert j['summary']['failed'] == summary['fail']
    assert j['summary']['skipped'] == summary['skip']
    assert j['summary']['not_applicable'] == summary['not-applicable']
    assert sorted(f['name'] for f in j['failures']) == sorted(k for k, v in c.items() if v['result'] == 'fail')
    assert sorted(s['name'] for s in j['skipped']) == sorted(
        k for k, v in c.items() if v['result'] in ('skip', 'not-applicable'))
    assert rc == (1 if summary['fail'] else 0)
    # Describe() carries the same checks and PSP state
    desc = json.loads(d.iface(MANAGER, MANAGER_IFACE).Describe())
    assert [x['id'] for x in desc['checks']] == CHECK_IDS
    assert {x['id']: x['result'] for x in desc['checks']} == {k: v['result'] for k, v in c.items()}
    assert desc['psp']['present'] == p['Present']
    assert desc['psp']['pci_address'] == p['PciAddress']
    return p, c


# ---- fixtures: the hosts of issue 3 ----

def test_genoa_host(host, bus, daemon, hwsecctl):
    prepare(host)
    d = daemon(host)
    p, c = assert_common(d, host, hwsecctl)

    assert p['Present'] is True
    assert p['PciAddress'] == '0000:c1:00.1'
    assert p['PciDeviceId'] == 0x14ca
    assert p['Driver'] == 'ccp'
    assert p['Attributes']['fused_part'] is True
    assert p['Attributes']['tsme_status'] is False
    assert p['Attributes']['tee_version'] == '00.2d.00.53'
    assert p['SevDevice'] is True
    assert (p['CpuFamily'], p['CpuModel'], p['TcbLayout']) == (0x19, 0x11, 'milan-genoa')
    assert p['SevStatusValid'] and p['SnpStatusValid']
    assert (p['ApiVersion'], p['Build'], p['SevState']) == ('1.55', 21, 'init')
    assert p['SevFlags'] == 0x100 and p['SevConfigEs'] is True and p['SevOwner'] is False
    assert (p['SnpApiVersion'], p['SnpBuild'], p['SnpState']) == ('1.55', 21, 'init')
    assert p['RmpInitialized'] is True
    assert p['FeatureInfo'] is True and p['RaplDisabled'] is False
    assert p['CiphertextHidingCapable'] is True and p['CiphertextHidingEnabled'] is True
    assert p['MaskChipId'] is False and p['MaskChipKey'] is False and p['VlekLoaded'] is False
    assert p['CurrentTcb'] == p['ReportedTcb'] == sim_psp.GENOA_TCB
    assert p['CurrentTcbParts'] == {'boot_loader': 4, 'tee': 3, 'snp': 24, 'microcode': 219}
    assert p['TcbCommitted'] is True
    assert p['LastError'] == '' and p['LastErrorMessage'] == '' and p['LastFirmwareStatus'] == 0
    assert p['SevStatusError'] == '' and p['SnpStatusError'] == ''

    want = {cid: 'pass' for cid in CHECK_IDS}
    want['features.sfs'] = 'pass' if has_sfs(host) else 'fail'
    want['firmware.update-committed'] = 'not-applicable'     # no update installed yet
    assert {k: v['result'] for k, v in c.items()} == want
    ev = c['kernel.kvm-amd-sev-snp']['evidence']
    assert ev['sev_snp'] is True and ev['source'].endswith('/sys/module/kvm_amd/parameters/sev_snp')
    assert c['features.ciphertext-hiding-enabled']['evidence']['ciphertext_hiding_asids'] == 99
    assert c['cpu.sev-snp']['evidence']['cpuid_8000001f_eax'] == '0x0101fd3f'
    assert d.get(MANAGER, MANAGER_IFACE, 'State') == 'ready'
    assert MSG_PSP_APPEARED in d.log()

    # the text forms
    t = hwsecctl(host, 'psp', check=True).stdout
    assert '0000:c1:00.1' in t and 'BL=4 TEE=3 SNP=24 uCode=219' in t
    tree = hwsecctl(host, 'check')
    assert '[ PASS ] CPU supports SEV-SNP (cpu.sev-snp)' in tree.stdout
    assert 'passed' in tree.stdout.splitlines()[-1]
    assert 'SNP' in hwsecctl(host, 'status', check=True).stdout


def test_milan_host(host, bus, daemon, hwsecctl):
    h = make(host, 'milan')
    d = daemon(h)
    p, c = assert_common(d, h, hwsecctl)
    assert p['PciDeviceId'] == 0x1486
    assert (p['CpuFamily'], p['CpuModel'], p['TcbLayout']) == (0x19, 0x01, 'milan-genoa')
    # no security reporting on this generation: the flags are unknown, so absent, not false
    assert p['Attributes'] == {'bootloader_version': '00.18.00.3c'}
    assert p['FeatureInfo'] is False
    assert p['CiphertextHidingCapable'] is False and p['CiphertextHidingEnabled'] is False
    assert p['CurrentTcbParts'] == {'boot_loader': 3, 'tee': 2, 'snp': 20, 'microcode': 209}
    r = {k: v['result'] for k, v in c.items()}
    assert r['features.ciphertext-hiding-capable'] == 'not-applicable'
    assert r['features.ciphertext-hiding-enabled'] == 'not-applicable'
    assert r['features.sfs'] == ('pass' if has_sfs(h) else 'not-applicable')
    assert r['platform.snp-init'] == 'pass'
    assert r['firmware.update-committed'] == 'not-applicable'
    assert all(v == 'pass' for k, v in r.items() if not k.startswith('features.') and k != 'firmware.update-committed')


def test_turin_host_uses_turin_tcb_layout(host, bus, daemon, hwsecctl):
    h = make(host, 'turin')
    d = daemon(h)
    p, c = assert_common(d, h, hwsecctl)
    assert p['PciDeviceId'] == 0x156e
    assert (p['CpuFamily'], p['TcbLayout']) == (0x1a, 'turin')
    assert p['CurrentTcbParts'] == {'fmc': 1, 'boot_loader': 2, 'tee': 3, 'snp': 5, 'microcode': 74}
    # capable, but kvm_amd asked for no ciphertext hiding
    assert p['CiphertextHidingCapable'] is True and p['CiphertextHidingEnabled'] is False
    cth = c['features.ciphertext-hiding-enabled']
    assert cth['result'] == 'fail'
    assert cth['remediation'] == {'kind': 'modprobe-option', 'value': 'options kvm_amd ciphertext_hiding_asids=49',
                                  'needs_reboot': True}


def test_snp_not_initialised(host, bus, daemon, hwsecctl):
    h = make(host, 'snp-uninit')
    d = daemon(h)
    p, c = assert_common(d, h, hwsecctl)
    assert p['SevStatusValid'] is True and p['SevState'] == 'init'
    assert p['SnpStatusValid'] is False and p['SnpState'] == 'unknown'
    assert p['SnpStatusError'] == 'SNP_NOT_INITIALIZED'
    assert p['LastError'] == 'SNP_NOT_INITIALIZED'
    assert 'SNP not initialised on this kernel' in p['LastErrorMessage']
    assert p['LastFirmwareStatus'] == 0
    snp = c['platform.snp-init']
    assert snp['result'] == 'fail'
    assert 'SNP not initialised on this kernel' in snp['detail']
    assert snp['evidence']['error'] == 'SNP_NOT_INITIALIZED'
    assert snp['remediation']['kind'] == 'modprobe-option'
    assert c['kernel.kvm-amd-sev-snp']['result'] == 'fail'
    assert c['kernel.kvm-amd-sev-snp']['remediation']['value'] == 'options kvm_amd sev_snp=1'
    for cid in ('platform.rmp-init', 'firmware.tcb-committed', 'features.ciphertext-hiding-capable'):
        assert c[cid]['result'] == 'skip', cid
    assert c['firmware.snp-version']['result'] == 'pass'      # from SEV_PLATFORM_STATUS
    rc, j = check_json(h, hwsecctl)
    assert rc == 1
    f = {x['name']: x for x in j['failures']}
    assert 'SNP not initialised' in f['platform.snp-init']['detail'] and f['platform.snp-init']['hint']


@pytest.mark.parametrize('code,name', [(0x01, 'INVALID_PLATFORM_STATE'), (0x26, 'RMP_INITIALIZATION_FAILED'),
                                       (0x1e, 'UNKNOWN_FIRMWARE_STATUS')])
def test_firmware_error(host, bus, daemon, hwsecctl, code, name):
    h = make(host, 'fw-error', fw_error=code)
    d = daemon(h)
    p, c = assert_common(d, h, hwsecctl)
    assert p['Present'] is True and p['SevDevice'] is True
    assert p['SevStatusValid'] is False and p['SnpStatusValid'] is False
    assert p['SevStatusError'] == name and p['SnpStatusError'] == name
    assert p['LastError'] == name
    assert p['LastFirmwareStatus'] == code
    assert f'0x{code:x}' in p['LastErrorMessage']
    if code != 0x1e:
        assert f'SEV_RET_{name}' in p['LastErrorMessage']
    assert c['platform.sev-state']['result'] == 'fail'
    assert c['platform.snp-init']['result'] == 'fail'
    assert c['platform.sev-state']['evidence']['firmware_status'] == f'0x{code:08x}'
    assert c['platform.dev-sev']['result'] == 'pass'
    assert d.get(MANAGER, MANAGER_IFACE, 'State') == 'degraded'
    assert MSG_FIRMWARE_ERROR in d.log()
    assert d.running()


@pytest.mark.parametrize('err,name,words', [
    (errno.ETIMEDOUT, 'TIMED_OUT', 'psp_cmd_timeout'),
    (errno.ENODEV, 'NO_SEV_DEVICE', 'no SEV'),
    (errno.ENOTTY, 'NOT_SUPPORTED', 'newer kernel'),
    (errno.EIO, 'FIRMWARE_ERROR', 'no status code'),
])
def test_errno_names(host, bus, daemon, hwsecctl, err, name, words):
    h = make(host, 'genoa', sev_errno=err, snp_errno=err, fw_error=0)
    d = daemon(h)
    p, _c = assert_common(d, h, hwsecctl)
    assert p['SevStatusError'] == name and p['LastError'] == name
    assert words in p['LastErrorMessage']
    # never a bare errno
    assert 'errno' not in p['LastErrorMessage'].lower() or name.startswith('ERRNO_')


def test_no_psp(host, bus, daemon, hwsecctl):
    h = make(host, 'no-psp')
    d = daemon(h)
    p, c = assert_common(d, h, hwsecctl)
    assert p['Present'] is False
    assert (p['PciAddress'], p['PciDeviceId'], p['Driver'], p['Attributes']) == ('', 0, '', {})
    assert p['SevDevice'] is False
    assert p['SevStatusValid'] is False and p['SnpStatusValid'] is False
    assert p['SevState'] == 'unknown' and p['LastError'] == ''
    assert c['platform.dev-sev']['result'] == 'fail'
    assert c['platform.dev-sev']['evidence']['psp_pci_present'] is False
    for cid in ('platform.sev-state', 'platform.snp-init', 'platform.rmp-init', 'firmware.snp-version',
                'firmware.tcb-committed'):
        assert c[cid]['result'] == 'skip', cid
    assert c['cpu.sev-snp']['result'] == 'pass'
    # absence is state, not a daemon problem
    assert d.get(MANAGER, MANAGER_IFACE, 'State') == 'ready'
    assert hwsecctl(h, 'check').returncode == 1


# ---- hotplug ----

class Signals:
    """PropertiesChanged of org.hwsecd1.Psp, collected on a GLib-driven connection. A signal names
    the properties that changed; `seen` holds the view a client builds from them (every property
    announced so far, with its last value) after each signal, `raw` the signals themselves."""

    def __init__(self, bus):
        self.loop = dbus.mainloop.glib.DBusGMainLoop()
        self.conn = dbus.bus.BusConnection(bus.address, mainloop=self.loop)
        self.seen = []
        self.raw = []
        self.view = {}
        self.conn.add_signal_receiver(self.on_signal, 'PropertiesChanged', 'org.freedesktop.DBus.Properties',
                                      None, PSP)

    def on_signal(self, iface, changed, invalidated):
        if iface == PSP_IFACE:
            self.raw.append(plain(changed))
            self.view.update(plain(changed))
            self.seen.append(dict(self.view))

    def pump(self):
        ctx = GLib.MainContext.default()
        while ctx.iteration(False):
            pass

    def wait(self, pred, timeout=5, raw=False):
        deadline = time.monotonic() + scaled(timeout)
        while time.monotonic() < deadline:
            self.pump()
            for s in (self.raw if raw else self.seen):
                if pred(s):
                    return s
            time.sleep(0.02)
        raise AssertionError(f'no matching PropertiesChanged; saw {self.seen}')

    def close(self):
        self.conn.close()


def test_psp_removed_and_readded(host, bus, daemon, hwsecctl):
    prepare(host)
    d = daemon(host)
    sig = Signals(bus)
    try:
        before = results(d)
        assert before['platform.dev-sev'] == 'pass'

        sim_psp.remove_psp(host)
        s = sig.wait(lambda s: s.get('Present') is False)
        assert s['SevDevice'] is False and s['PciAddress'] == ''
        p = props(d)
        assert p['Present'] is False and p['SevStatusValid'] is False
        assert psp_json(host, hwsecctl) == p
        assert results(d)['platform.dev-sev'] == 'fail'
        assert results(d)['platform.snp-init'] == 'skip'
        log = d.log()
        assert MSG_PSP_DISAPPEARED in log and MSG_CHECK_CHANGED in log
        assert 'Check platform.dev-sev: pass -> fail' in log

        sig.seen.clear()
        sim_psp.add_psp(host)
        s = sig.wait(lambda s: s.get('Present') is True and s.get('SevStatusValid') is True)
        assert s['SnpState'] == 'init' and s['PciAddress'] == '0000:c1:00.1'
        assert results(d) == before
        assert psp_json(host, hwsecctl) == props(d)

        hist = [tuple(plain(x))[1:] for x in d.iface(PSP, PSP_IFACE).GetCheckHistory()]
        assert ('platform.dev-sev', 'pass', 'fail') in hist
        assert ('platform.dev-sev', 'fail', 'pass') in hist
        assert hist.index(('platform.dev-sev', 'pass', 'fail')) < hist.index(('platform.dev-sev', 'fail', 'pass'))
        j = json.loads(hwsecctl(host, 'check', '--history', '--json', check=True).stdout)
        assert [(e['id'], e['old'], e['new']) for e in j] == hist
        assert all(e['time'].endswith('Z') and e['time_usec'] > 0 for e in j)
        text = hwsecctl(host, 'check', '--history', check=True).stdout
        assert 'platform.dev-sev' in text and 'pass -> fail' in text
        # kept in state.json under "checks"
        state = json.loads((host.root / 'state' / 'state.json').read_text())
        assert [(e['id'], e['old'], e['new']) for e in state['checks']['history']] == hist
        assert d.running()
    finally:
        sig.close()


def test_unbind_and_bind_rereads(host, bus, daemon, hwsecctl):
    prepare(host)
    d = daemon(host)
    # ccp unbinds: /dev/sev goes and the driver link with it
    sim_psp.remove_sev(host)
    (host.sysroot / host._psp_syspath.lstrip('/') / 'driver').unlink()
    host.tb.uevent(host._psp_syspath, 'unbind')
    wait_for(lambda: props(d)['Driver'] == '' and not props(d)['SevDevice'], what='unbind')
    p = props(d)
    assert p['Present'] is True and p['SevStatusValid'] is False
    c = checks(d)
    assert c['platform.dev-sev']['result'] == 'fail'
    assert c['platform.dev-sev']['remediation'] == {'kind': 'command', 'value': 'modprobe ccp', 'needs_reboot': False}
    # and back
    (host.sysroot / host._psp_syspath.lstrip('/') / 'driver').symlink_to(host.sys_path('bus/pci/drivers/ccp'))
    host.tb.uevent(host._psp_syspath, 'bind')
    sim_psp.add_sev(host)
    wait_for(lambda: props(d)['SevStatusValid'], what='bind')
    assert props(d)['Driver'] == 'ccp'
    assert results(d)['platform.dev-sev'] == 'pass'


def test_refresh_rereads_and_records_changes(host, bus, daemon, hwsecctl):
    prepare(host)
    d = daemon(host)
    sig = Signals(bus)
    try:
        sim_psp.set_status(host, sev=dict(guest_count=3, state=2),
                           snp=dict(guest_count=2, reported_tcb=0xd517000000000304))
        # cached: nothing changes until something asks for a re-read
        assert props(d)['SevGuestCount'] == 0
        d.iface(PSP, PSP_IFACE).Refresh(timeout=scaled(25))
        p = props(d)
        assert (p['SevGuestCount'], p['SnpGuestCount'], p['SevState']) == (3, 2, 'working')
        assert p['TcbCommitted'] is False
        assert p['ReportedTcbParts'] == {'boot_loader': 4, 'tee': 3, 'snp': 23, 'microcode': 213}
        sig.wait(lambda s: s.get('SevGuestCount') == 3)
        tcb = checks(d)['firmware.tcb-committed']
        assert tcb['result'] == 'fail' and 'Reported TCB behind current' in tcb['detail']
        assert tcb['remediation'] == {'kind': 'command', 'value': 'hwsecctl psp set-config --reported-tcb current',
                                      'needs_reboot': False}
        assert 'Check firmware.tcb-committed: pass -> fail' in d.log()
        hist = [tuple(plain(x))[1:] for x in d.iface(PSP, PSP_IFACE).GetCheckHistory()]
        assert hist == [('firmware.tcb-committed', 'pass', 'fail')]
    finally:
        sig.close()


def test_kvm_amd_load_rereads_the_psp(host, bus, daemon, hwsecctl):
    """Loading kvm_amd initialises SNP (Linux >= 6.16) but sends no uevent the daemon listens to:
    the PSP area notices the kvm_amd parameters change and re-reads the status by itself."""
    prepare(host)
    shutil.rmtree(host.sys_path('module/kvm_amd'))
    sim_psp.set_status(host, snp_errno=errno.EINVAL)
    d = daemon(host)
    assert props(d)['SnpStatusError'] == 'SNP_NOT_INITIALIZED'
    assert results(d)['kernel.kvm-amd'] == 'fail'
    sim_psp.set_status(host, snp_errno=None)
    set_kvm(host, **KVM['genoa'])
    wait_for(lambda: props(d)['SnpStatusValid'], timeout=6, what='the re-read after kvm_amd loaded')
    r = results(d)
    assert r['kernel.kvm-amd'] == r['kernel.kvm-amd-sev-snp'] == r['platform.snp-init'] == 'pass'
    assert 'kvm_amd changed' in d.log()
    hist = [tuple(plain(x))[1:] for x in d.iface(PSP, PSP_IFACE).GetCheckHistory()]
    assert ('platform.snp-init', 'fail', 'pass') in hist


def test_change_while_stopped_is_noticed_on_start(host, bus, daemon, hwsecctl):
    prepare(host)
    d = daemon(host)
    assert results(d)['firmware.tcb-committed'] == 'pass'
    assert d.stop() == 0
    sim_psp.set_status(host, snp=dict(reported_tcb=1))
    d.start()
    hist = [tuple(plain(x))[1:] for x in d.iface(PSP, PSP_IFACE).GetCheckHistory()]
    assert hist == [('firmware.tcb-committed', 'pass', 'fail')]


def test_malformed_history_entries_are_dropped(host, bus, daemon, hwsecctl):
    prepare(host)
    good = {'time': 1700000000000000, 'id': 'platform.dev-sev', 'old': 'fail', 'new': 'pass'}
    host.write('state/state.json', json.dumps({'version': 1, 'checks': {
        'history': [good, 'junk', {'time': -1, 'id': 'x', 'old': 'pass', 'new': 'fail'},
                    {'time': 5, 'id': 'x', 'old': 'maybe', 'new': 'pass'}],
        'last': dict({cid: 'pass' for cid in CHECK_IDS if cid != 'features.sfs'},
                     **{'firmware.update-committed': 'not-applicable'})}}))
    d = daemon(host)
    hist = [tuple(plain(x)) for x in d.iface(PSP, PSP_IFACE).GetCheckHistory()]
    # features.sfs is not in "last" (a check new to this version): nothing to compare, no entry
    assert hist == [(good['time'], good['id'], good['old'], good['new'])]
    assert 'Dropped 3 malformed entries' in d.log()


# ---- host conditions the checks must catch ----

def test_bios_memory_encryption_off(host, bus, daemon, hwsecctl):
    h = make(host, 'genoa', bios_mem_encrypt=False)
    d = daemon(h)
    _p, c = assert_common(d, h, hwsecctl)
    b = c['bios.memory-encryption']
    assert b['result'] == 'fail'
    assert b['remediation']['kind'] == 'bios-setting' and b['remediation']['needs_reboot'] is True
    assert b['evidence']['cpuid_sev'] is True and b['evidence']['cpuinfo_sev'] is False
    assert c['cpu.sev']['result'] == 'pass'          # the hardware has it; the BIOS did not enable it


@pytest.mark.parametrize('cmdline,kind', [('root=/dev/sda1 iommu=pt', 'kernel-cmdline'),
                                          ('root=/dev/sda1 amd_iommu=off', 'kernel-cmdline')])
def test_iommu_cmdline(host, bus, daemon, hwsecctl, cmdline, kind):
    h = make(host, 'genoa', cmdline=cmdline)
    d = daemon(h)
    _p, c = assert_common(d, h, hwsecctl)
    i = c['iommu.translation']
    assert i['result'] == 'fail' and i['remediation']['kind'] == kind
    assert i['remediation']['value'] == 'remove ' + cmdline.split()[-1]
    assert i['evidence']['cmdline'].strip() == cmdline


def test_iommu_without_groups(host, bus, daemon, hwsecctl):
    h = host.make('genoa')
    set_kvm(h, **KVM['genoa'])
    shutil.rmtree(h.sys_path('kernel/iommu_groups'), ignore_errors=True)
    d = daemon(h)
    _p, c = assert_common(d, h, hwsecctl)
    i = c['iommu.translation']
    assert i['result'] == 'fail' and i['evidence']['groups'] == 0
    assert i['remediation'] == {'kind': 'bios-setting', 'value': 'IOMMU=Enabled', 'needs_reboot': True}


def test_iommu_all_identity(host, bus, daemon, hwsecctl):
    h = host.make('genoa')
    set_kvm(h, **KVM['genoa'])
    shutil.rmtree(h.sys_path('kernel/iommu_groups'), ignore_errors=True)
    for g in range(3):
        h.write_sys(f'kernel/iommu_groups/{g}/type', 'identity\n')
    d = daemon(h)
    i = checks(d)['iommu.translation']
    assert i['result'] == 'fail' and i['evidence']['identity_groups'] == 3


def test_ciphertext_hiding_disagreement(host, bus, daemon, hwsecctl):
    h = make(host, 'genoa')
    set_kvm(h, ciphertext_hiding_asids='0')       # firmware says enabled, kvm_amd says 0
    d = daemon(h)
    c = checks(d)['features.ciphertext-hiding-enabled']
    assert c['result'] == 'fail' and 'disagree' in c['detail']


def test_kvm_amd_not_loaded(host, bus, daemon, hwsecctl):
    prepare(host)
    shutil.rmtree(host.sys_path('module/kvm_amd'))
    d = daemon(host)
    r = results(d)
    assert r['kernel.kvm-amd'] == 'fail'
    assert r['kernel.kvm-amd-sev'] == r['kernel.kvm-amd-sev-snp'] == 'skip'


def test_missing_and_bad_attributes(host, bus, daemon, hwsecctl):
    h = make(host, 'genoa', psp_attrs={'fused_part': 'banana', 'bootloader_version': '1.2'})
    d = daemon(h)
    p = props(d)
    assert p['Present'] is True
    assert p['Attributes'] == {}                      # bad values are unknown, missing ones too
    assert 'fused_part has an unexpected value' in d.log()


# ---- who may do what ----

def test_unprivileged_caller_reads_but_cannot_mutate(host, bus, polkit, daemon, hwsecctl):
    prepare(host)
    d = daemon(host)
    polkit.deny_all()
    nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']
    bus.dir.chmod(0o755)        # the private bus lives in a root-only temp dir; let nobody connect
    env = dict(host.env)
    env['DBUS_SYSTEM_BUS_ADDRESS'] = bus.address

    def run(*args):
        return subprocess.run(nobody + list(args), env=env, capture_output=True, text=True,
                              timeout=scaled(30))

    import conftest
    r = run(str(conftest.HWSECCTL), 'psp', '--json')
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == props(d)
    r = run(str(conftest.HWSECCTL), 'check', '--json')
    assert r.returncode in (0, 1), r.stderr
    assert len(json.loads(r.stdout)['tests']) == len(CHECK_IDS)
    r = run(str(conftest.HWSECCTL), 'check', '--history', '--json')
    assert r.returncode == 0, r.stderr
    # Refresh issues PSP commands: root only (sd-bus refuses before the handler runs)
    r = run('busctl', f'--address={bus.address}', 'call', 'org.hwsecd1', PSP, PSP_IFACE, 'Refresh')
    assert r.returncode != 0 and 'Access denied' in r.stderr
    # a mutation goes to polkit, which says no
    r = run('busctl', f'--address={bus.address}', 'call', 'org.hwsecd1', MANAGER, MANAGER_IFACE, 'Reload')
    assert r.returncode != 0 and ('AccessDenied' in r.stderr or 'denied' in r.stderr.lower())
    assert ('org.hwsecd1.reload', 0) in [(a, f & ~1) for a, f in polkit.calls()]
    assert d.running()
