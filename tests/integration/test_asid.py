"""Integration tests of the asid area: pools from the simulated host, the policy (set, denied,
malformed), the modprobe.d file, conflicts, PendingReload and quotas."""

import errno
import json
import subprocess
import time

import dbus
import pytest

import sim_asid
import sim_psp
from conftest import scaled

PATH = '/org/hwsecd1/asid'
IFACE = 'org.hwsecd1.Asid'
ACTION = 'org.hwsecd1.set-asid-policy'
MODPROBE = 'modprobe.d/hwsecd-kvm-amd.conf'
POLICY_SET = '0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a20'
RELOAD_PENDING = '0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a21'
CONFLICT = '0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a22'
QUOTA = '0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a23'

EXPECTED_MODPROBE_64 = (
    '# Written by hwsecd (org.hwsecd1.Asid.SetPolicy). Do not edit: hwsecd rewrites it.\n'
    '# kvm_amd reads this only when it is loaded: it takes effect at the next\n'
    '# reboot or kvm_amd reload. 0 turns SEV-SNP ciphertext hiding off.\n'
    'options kvm_amd ciphertext_hiding_asids=64\n')


def pools(d):
    out = {}
    for p in d.get(PATH, IFACE, 'Pools'):
        out[str(p[0])] = dict(state=str(p[1]), first=int(p[2]), last=int(p[3]), capacity=int(p[4]),
                              used=int(p[5]), free=int(p[6]), note=str(p[7]))
    return out


def asid(d):
    return d.iface(PATH, IFACE)


def policy(**kw):
    return dbus.Dictionary(kw, signature='sv')


def wait_for(fn, timeout=6.0):
    """Polls fn until it is true; timeout is scaled for slow runs (valgrind)."""
    deadline = time.monotonic() + scaled(timeout)
    while True:
        v = fn()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(0.1)


def written_nothing(host):
    assert not host.path(MODPROBE).exists()
    state = host.path('state/state.json')
    if state.exists():
        assert 'asid' not in json.loads(state.read_text())


def test_pools_genoa_kernel_example(host, bus, daemon):
    """min 100, max 1006, 99 SNP ASIDs: SEV 100-1006, SEV-ES unusable, SNP 1-99."""
    d = daemon(host)
    p = pools(d)
    assert p['sev'] == dict(state='enabled', first=100, last=1006, capacity=907, used=0, free=907,
                            note=p['sev']['note'])
    assert (p['sev-es']['state'], p['sev-es']['first'], p['sev-es']['last'], p['sev-es']['capacity']) == \
        ('unusable', 100, 99, 0)
    assert (p['snp']['state'], p['snp']['first'], p['snp']['last'], p['snp']['capacity']) == ('enabled', 1, 99, 99)
    assert d.get(PATH, IFACE, 'MaxAsid') == 1006
    assert d.get(PATH, IFACE, 'MinSevAsid') == 100
    assert d.get(PATH, IFACE, 'EffectiveCiphertextHidingAsids') == 99
    assert d.get(PATH, IFACE, 'ConfiguredCiphertextHidingAsids') == -1
    assert not d.get(PATH, IFACE, 'PendingReload')
    assert d.get(PATH, IFACE, 'KvmAmdLoaded')
    expl = [str(s) for s in d.get(PATH, IFACE, 'Explanation')]
    assert 'SEV-ES has no ASIDs because ciphertext hiding gives all 99 joint ASIDs to SNP.' in expl


def test_pools_milan_cth_off_shares_joint_range(host, bus, daemon):
    h = host.make('milan', misc_current=(2, 3))
    d = daemon(h)
    p = pools(d)
    assert (p['sev']['first'], p['sev']['last'], p['sev']['used'], p['sev']['free']) == (100, 509, 2, 408)
    assert (p['sev-es']['state'], p['sev-es']['first'], p['sev-es']['last']) == ('enabled', 1, 99)
    assert (p['snp']['state'], p['snp']['first'], p['snp']['last']) == ('enabled', 1, 99)
    # SNP and SEV-ES share misc "sev_es": the joint free count is known, the split needs the SNP
    # guest count, and the evidence says so.
    assert p['snp']['free'] == 96 and p['sev-es']['free'] == 96
    assert 'counts SEV-ES and SNP guests together' in p['snp']['note']
    assert d.get(PATH, IFACE, 'EffectiveCiphertextHidingAsids') == 0


def test_min_sev_asid_1_leaves_no_es_or_snp(host, bus, daemon, hwsecctl):
    h = host.make('genoa', min_sev_asid=1, kvm_amd=dict(ciphertext_hiding_asids=0))
    d = daemon(h)
    if d.get(PATH, IFACE, 'MinSevAsid') != 1:
        pytest.fail('the simulated CPUID does not honour min_sev_asid')
    p = pools(d)
    assert (p['sev']['first'], p['sev']['last'], p['sev']['capacity']) == (1, 1006, 1006)
    assert p['sev-es']['state'] == 'disabled' and p['snp']['state'] == 'disabled'
    out = hwsecctl(h, 'asid', 'explain', check=True).stdout
    assert 'BIOS minimum SEV ASID is 1' in out


def test_min_above_max_sev_unusable(host, bus, daemon):
    h = host.make('genoa', max_asid=509, min_sev_asid=510, kvm_amd=dict(ciphertext_hiding_asids=0))
    d = daemon(h)
    p = pools(d)
    assert (p['sev']['state'], p['sev']['capacity']) == ('unusable', 0)
    assert (p['sev-es']['first'], p['sev-es']['last'], p['sev-es']['capacity']) == (1, 509, 509)


def test_kvm_amd_not_loaded(host, bus, daemon):
    h = host.make('genoa', kvm_amd_loaded=False)
    d = daemon(h)
    assert not d.get(PATH, IFACE, 'KvmAmdLoaded')
    assert {v['state'] for v in pools(d).values()} == {'disabled'}
    assert any('kvm_amd is not loaded' in str(s) for s in d.get(PATH, IFACE, 'Problems'))


def test_hwsecctl_asid_table_and_json(host, bus, daemon, hwsecctl):
    d = daemon(host)
    out = hwsecctl(host, 'asid', check=True).stdout
    lines = out.splitlines()
    assert lines[0].split() == ['POOL', 'STATE', 'RANGE', 'CAPACITY', 'USED', 'FREE']
    assert lines[1].split() == ['SEV', 'enabled', '100-1006', '907', '0', '907']
    assert lines[2].split() == ['SEV-ES', 'unusable', '100-99', '0', '0', '0']
    assert lines[3].split() == ['SEV-SNP', 'enabled', '1-99', '99', '0', '99']
    j = json.loads(hwsecctl(host, 'asid', '--json', check=True).stdout)
    assert j['MaxAsid'] == 1006 and j['EffectiveCiphertextHidingAsids'] == 99
    assert [p[0] for p in j['Pools']] == ['sev', 'sev-es', 'snp']
    e = json.loads(hwsecctl(host, 'asid', 'explain', '--json', check=True).stdout)
    assert 'SEV-ES has no ASIDs because ciphertext hiding gives all 99 joint ASIDs to SNP.' in e['explanation']
    text = hwsecctl(host, 'asid', 'explain', check=True).stdout
    assert 'SEV-ES has no ASIDs because ciphertext hiding gives all 99 joint ASIDs to SNP.' in text
    # Describe() carries the same data.
    desc = json.loads(str(d.iface().Describe()))
    assert desc['asid']['EffectiveCiphertextHidingAsids'] == 99
    assert 'SEV-SNP' in desc['asid']['summary']


def test_counts_follow_guests(host, bus, daemon):
    d = daemon(host)
    assert pools(d)['sev']['used'] == 0
    sim_asid.set_misc_current(host, 5, 0)
    # Polled every 2 s; no Refresh() here.
    assert wait_for(lambda: pools(d)['sev']['used'] == 5)
    assert pools(d)['sev']['free'] == 902
    # Four SNP guests start: the cgroup charges "sev_es", the firmware counts them.
    sim_asid.set_misc_current(host, 5, 4)
    sim_psp.set_status(host, snp=dict(guest_count=4))
    d.iface('/org/hwsecd1/psp', 'org.hwsecd1.Psp').Refresh()
    assert wait_for(lambda: pools(d)['snp']['used'] == 4)
    p = pools(d)
    assert (p['snp']['used'], p['snp']['free'], p['sev-es']['used']) == (4, 95, 0)
    assert 'counts SEV-ES and SNP guests together' in p['snp']['note']


def test_all_snp_usage_known_without_snp_status(host, bus, daemon):
    """With SEV-ES unusable every "sev_es" charge is an SNP guest, even when SNP_PLATFORM_STATUS
    cannot be read."""
    h = host.make('genoa', snp_errno=errno.ETIMEDOUT, misc_current=(0, 4))
    d = daemon(h)
    p = pools(d)
    assert (p['snp']['used'], p['snp']['free'], p['sev-es']['used']) == (4, 95, 0)
    assert 'every one is an SNP guest' in p['snp']['note']


def test_validate_policy_is_a_dry_run(host, bus, polkit, daemon):
    d = daemon(host)
    polkit.clear_calls()
    pl, cth, problems, expl = asid(d).ValidatePolicy(policy(ciphertext_hiding='all-snp'))
    assert cth == 99
    snp = [p for p in pl if p[0] == 'snp'][0]
    assert (snp[2], snp[3]) == (1, 99)
    codes = {(str(p[0]), str(p[1])) for p in problems}
    assert ('error', 'sev-es-unusable') in codes
    assert polkit.calls() == []
    written_nothing(host)

    pl, cth, problems, expl = asid(d).ValidatePolicy(policy(ciphertext_hiding=dbus.UInt32(500),
                                                            allow_sev_es_unusable=True))
    assert cth == 99
    codes = {(str(p[0]), str(p[1])) for p in problems}
    assert ('warning', 'cth-capped') in codes and ('warning', 'sev-es-unusable') in codes
    assert not any(p[0] == 'error' for p in problems)

    pl, cth, problems, expl = asid(d).ValidatePolicy(policy(ciphertext_hiding=dbus.UInt32(50)))
    es = [p for p in pl if p[0] == 'sev-es'][0]
    assert (es[1], es[2], es[3], es[4]) == ('enabled', 51, 99, 49)
    assert list(problems) == []
    assert any('first 50 of the 99 joint ASIDs' in str(s) for s in expl)
    written_nothing(host)


def test_hwsecctl_dry_run(host, bus, polkit, daemon, hwsecctl):
    daemon(host)
    p = hwsecctl(host, 'asid', 'set-policy', '--ciphertext-hiding', 'all-snp', '--allow-sev-es-unusable', '--dry-run')
    assert p.returncode == 0, p.stderr
    assert 'SEV-ES has no ASIDs because ciphertext hiding gives all 99 joint ASIDs to SNP.' in p.stdout
    assert 'warning sev-es-unusable' in p.stdout
    p = hwsecctl(host, 'asid', 'set-policy', '--ciphertext-hiding', 'all-snp', '--dry-run', '--json')
    assert p.returncode == 1
    j = json.loads(p.stdout)
    assert j['acceptable'] is False and j['ciphertext_hiding_asids'] == 99
    written_nothing(host)
    assert hwsecctl(host, 'asid', 'set-policy', '--ciphertext-hiding', '-5', '--dry-run').returncode == 2
    assert hwsecctl(host, 'asid', 'set-policy', '--quota', 'x:sev=lots', '--dry-run').returncode == 2


def test_set_policy_writes_modprobe_and_state(host, bus, polkit, daemon, hwsecctl):
    polkit.allow(ACTION)
    d = daemon(host)
    warnings = asid(d).SetPolicy(policy(ciphertext_hiding=dbus.UInt32(64)))
    assert list(warnings) == []
    assert host.path(MODPROBE).read_text() == EXPECTED_MODPROBE_64
    # One check, for our action, without interactive authorization (flags 0).
    assert polkit.calls() == [(ACTION, 0)]
    state = json.loads(host.path('state/state.json').read_text())
    assert state['asid']['policy']['ciphertext_hiding'] == 64
    assert state['asid']['cth_asids'] == 64
    assert d.get(PATH, IFACE, 'ConfiguredCiphertextHidingAsids') == 64
    assert d.get(PATH, IFACE, 'PendingReload')
    # kvm_amd was not touched: the effective value is unchanged.
    assert d.get(PATH, IFACE, 'EffectiveCiphertextHidingAsids') == 99
    assert host.sys_path('module/kvm_amd/parameters/ciphertext_hiding_asids').read_text() == '99\n'
    log = d.log()
    assert POLICY_SET in log and RELOAD_PENDING in log
    assert dict(d.get(PATH, IFACE, 'Policy'))['ciphertext_hiding'] == 64
    out = hwsecctl(host, 'asid', check=True).stdout
    assert 'RELOAD PENDING' in out


def test_pending_reload_clears_when_kvm_amd_changes(host, bus, polkit, daemon):
    polkit.allow(ACTION)
    d = daemon(host)
    asid(d).SetPolicy(policy(ciphertext_hiding=dbus.UInt32(64)))
    assert d.get(PATH, IFACE, 'PendingReload')
    # A kvm_amd reload with the new value, seen by the poll timer.
    sim_asid.set_kvm_param(host, 'ciphertext_hiding_asids', 64)
    assert wait_for(lambda: not d.get(PATH, IFACE, 'PendingReload'))
    assert d.get(PATH, IFACE, 'EffectiveCiphertextHidingAsids') == 64
    es = pools(d)['sev-es']
    assert (es['state'], es['first'], es['last']) == ('enabled', 65, 99)
    # And back, seen at once through Refresh().
    sim_asid.set_kvm_param(host, 'ciphertext_hiding_asids', 99)
    asid(d).Refresh()
    assert d.get(PATH, IFACE, 'PendingReload')


def test_pending_reload_signal(host, bus, polkit, daemon):
    """PendingReload changes are announced with PropertiesChanged."""
    from gi.repository import GLib
    import dbus.mainloop.glib
    polkit.allow(ACTION)
    d = daemon(host)
    asid(d).SetPolicy(policy(ciphertext_hiding=dbus.UInt32(64)))
    # A main loop for this connection only: the default stays as it is for the other tests.
    conn = dbus.bus.BusConnection(bus.address, mainloop=dbus.mainloop.glib.DBusGMainLoop())
    seen = []
    conn.add_signal_receiver(lambda i, ch, inv: seen.append(dict(ch)), 'PropertiesChanged',
                             'org.freedesktop.DBus.Properties', None, PATH)
    sim_asid.set_kvm_param(host, 'ciphertext_hiding_asids', 64)
    loop = GLib.MainLoop()
    GLib.timeout_add(int(scaled(6000)), loop.quit)

    def check():
        if any('PendingReload' in s for s in seen):
            loop.quit()
            return False
        return True
    GLib.timeout_add(50, check)
    loop.run()
    conn.close()
    changed = [s for s in seen if 'PendingReload' in s]
    assert changed and not changed[-1]['PendingReload']


def test_set_policy_denied_writes_nothing(host, bus, polkit, daemon):
    polkit.deny_all()
    d = daemon(host)
    with pytest.raises(dbus.DBusException) as e:
        asid(d).SetPolicy(policy(ciphertext_hiding=dbus.UInt32(64)))
    assert e.value.get_dbus_name() == 'org.freedesktop.DBus.Error.AccessDenied'
    written_nothing(host)
    assert d.get(PATH, IFACE, 'ConfiguredCiphertextHidingAsids') == -1


MALFORMED = [
    ('negative', dict(ciphertext_hiding=dbus.Int32(-1)), 'must not be negative'),
    ('overflow-u64', dict(ciphertext_hiding=dbus.UInt64(2**64 - 1)), 'too large'),
    ('overflow-u32', dict(ciphertext_hiding=dbus.UInt64(2**32)), 'too large'),
    ('string-number', dict(ciphertext_hiding='99'), 'not "99"'),
    ('string-max', dict(ciphertext_hiding='max'), 'not "max"'),
    ('double', dict(ciphertext_hiding=dbus.Double(1.5)), 'unsigned integer'),
    ('bool', dict(ciphertext_hiding=True), 'unsigned integer'),
    ('unknown-key', dict(ciphertext_hiding='off', frobnicate=True), 'Unknown policy key "frobnicate"'),
    ('allow-type', dict(allow_sev_es_unusable='yes'), 'must be a boolean'),
    ('quota-path', dict(quotas=dbus.Dictionary({'../../etc': dbus.Dictionary({'sev': dbus.UInt32(1)}, signature='sv')},
                                                signature='sv')), 'not a valid'),
    ('quota-negative', dict(quotas=dbus.Dictionary({'machine.slice': dbus.Dictionary({'sev_es': dbus.Int64(-2)},
                                                                                      signature='sv')},
                                                    signature='sv')), 'must not be negative'),
    ('quota-resource', dict(quotas=dbus.Dictionary({'machine.slice': dbus.Dictionary({'snp': dbus.UInt32(2)},
                                                                                      signature='sv')},
                                                    signature='sv')), 'unknown resource'),
    ('quota-not-dict', dict(quotas='machine.slice'), 'must be a dictionary'),
]


@pytest.mark.parametrize('name,pol,msg', MALFORMED, ids=[m[0] for m in MALFORMED])
def test_set_policy_malformed(host, bus, polkit, daemon, name, pol, msg):
    polkit.allow_all()
    d = daemon(host)
    polkit.clear_calls()
    for method in ('SetPolicy', 'ValidatePolicy'):
        with pytest.raises(dbus.DBusException) as e:
            getattr(asid(d), method)(policy(**pol))
        assert e.value.get_dbus_name() == 'org.hwsecd1.Error.InvalidArgument'
        assert msg in e.value.get_dbus_message()
    assert polkit.calls() == []          # validated before polkit is asked
    written_nothing(host)
    assert d.running()


def test_set_policy_wrong_signature(host, bus, polkit, daemon):
    polkit.allow_all()
    d = daemon(host)
    with pytest.raises(dbus.DBusException) as e:
        d.call(PATH, IFACE, 'SetPolicy', 'all-snp', signature='s')
    assert e.value.get_dbus_name() in ('org.freedesktop.DBus.Error.InvalidArgs',
                                       'org.hwsecd1.Error.InvalidArgument')
    written_nothing(host)
    assert d.running()


def test_all_snp_needs_permission(host, bus, polkit, daemon):
    polkit.allow(ACTION)
    d = daemon(host)
    polkit.clear_calls()
    with pytest.raises(dbus.DBusException) as e:
        asid(d).SetPolicy(policy(ciphertext_hiding='all-snp'))
    assert e.value.get_dbus_name() == 'org.hwsecd1.Error.InvalidArgument'
    assert 'allow_sev_es_unusable' in e.value.get_dbus_message()
    assert polkit.calls() == []
    written_nothing(host)

    warnings = asid(d).SetPolicy(policy(ciphertext_hiding='all-snp', allow_sev_es_unusable=True))
    assert ('warning', 'sev-es-unusable') in {(str(w[0]), str(w[1])) for w in warnings}
    assert host.path(MODPROBE).read_text().endswith('options kvm_amd ciphertext_hiding_asids=99\n')
    # all-snp on a host already running 99: nothing pending.
    assert not d.get(PATH, IFACE, 'PendingReload')


def test_policy_survives_restart_and_file_is_restored(host, bus, polkit, daemon):
    polkit.allow(ACTION)
    d = daemon(host)
    asid(d).SetPolicy(policy(ciphertext_hiding=dbus.UInt32(64)))
    d.stop()
    host.path(MODPROBE).unlink()
    d.start()
    assert host.path(MODPROBE).read_text() == EXPECTED_MODPROBE_64
    assert dict(d.get(PATH, IFACE, 'Policy'))['ciphertext_hiding'] == 64
    assert d.get(PATH, IFACE, 'PendingReload')


def test_file_no_saved_policy_confirms_is_removed_at_start(host, bus, polkit, daemon):
    """state.json is written before the modprobe.d file; a file left by a crash after a later
    policy dropped ciphertext hiding is brought back in line with the saved policy at start."""
    polkit.allow(ACTION)
    d = daemon(host)
    asid(d).SetPolicy(policy(allow_sev_es_unusable=False))      # no ciphertext_hiding: unmanaged
    assert not host.path(MODPROBE).exists()
    d.stop()
    host.write(MODPROBE, EXPECTED_MODPROBE_64)                    # as if a crash left it behind
    d.start()
    assert not host.path(MODPROBE).exists()
    assert d.get(PATH, IFACE, 'ConfiguredCiphertextHidingAsids') == -1


def test_unmanaged_policy_removes_our_file(host, bus, polkit, daemon):
    polkit.allow(ACTION)
    d = daemon(host)
    asid(d).SetPolicy(policy(ciphertext_hiding='off'))
    assert host.path(MODPROBE).read_text().endswith('ciphertext_hiding_asids=0\n')
    assert d.get(PATH, IFACE, 'PendingReload')       # 99 runs, 0 configured
    asid(d).SetPolicy(policy(allow_sev_es_unusable=False))
    assert not host.path(MODPROBE).exists()
    assert d.get(PATH, IFACE, 'ConfiguredCiphertextHidingAsids') == -1
    assert not d.get(PATH, IFACE, 'PendingReload')


def test_conflicts_detected(host, bus, polkit, daemon):
    h = host.make('genoa', cmdline='BOOT_IMAGE=/vmlinuz root=/dev/vda kvm-amd.ciphertext_hiding_asids=32')
    h.write('modprobe.d/50-local.conf', '# site policy\noptions kvm_amd sev_snp=1 ciphertext_hiding_asids=20\n')
    h.write('modprobe.d/60-other.conf', 'options kvm sev=1\n')
    d = daemon(h)
    conflicts = {(str(a), str(b)) for a, b in d.get(PATH, IFACE, 'Conflicts')}
    assert conflicts == {(str(h.path('modprobe.d/50-local.conf')) + ':2', '20'),
                         (str(h.path('proc/cmdline')), '32')}
    assert CONFLICT in d.log()
    assert d.get('/org/hwsecd1', 'org.hwsecd1.Manager', 'State') == 'degraded'
    # Removing the competing file clears it on Refresh().
    h.path('modprobe.d/50-local.conf').unlink()
    asid(d).Refresh()
    assert len(d.get(PATH, IFACE, 'Conflicts')) == 1


def test_quotas_written_and_read_back(host, bus, polkit, daemon):
    polkit.allow(ACTION)
    d = daemon(host)
    quotas = dbus.Dictionary({
        'machine.slice/vm1.scope': dbus.Dictionary({'sev': dbus.UInt32(2), 'sev_es': dbus.UInt32(3)}, signature='sv'),
        '/machine.slice/vm2.scope/': dbus.Dictionary({'sev_es': 'max'}, signature='sv'),
        'machine.slice/gone.scope': dbus.Dictionary({'sev_es': dbus.UInt32(1)}, signature='sv'),
        'system.slice': dbus.Dictionary({'sev': dbus.UInt32(1)}, signature='sv'),
    }, signature='sv')
    warnings = asid(d).SetPolicy(policy(quotas=quotas))
    assert ('warning', 'quota-cgroup-missing') in {(str(w[0]), str(w[1])) for w in warnings}
    status = {(str(q[0]), str(q[1])): (int(q[2]), str(q[3]), str(q[4])) for q in d.get(PATH, IFACE, 'QuotaStatus')}
    assert status[('machine.slice/vm1.scope', 'sev')] == (2, '2', 'applied')
    assert status[('machine.slice/vm1.scope', 'sev_es')] == (3, '3', 'applied')
    assert status[('machine.slice/vm2.scope', 'sev_es')] == (2**64 - 1, 'max', 'applied')
    assert status[('machine.slice/gone.scope', 'sev_es')][2] == 'missing-cgroup'
    assert status[('system.slice', 'sev')][2] == 'no-misc-controller'
    assert not host.path('cgroup/machine.slice/gone.scope').exists()      # never created
    assert host.path('cgroup/machine.slice/vm1.scope/misc.max').read_text() == 'sev_es 3\n'
    assert QUOTA in d.log()
    # No modprobe file: the policy does not manage ciphertext hiding.
    assert not host.path(MODPROBE).exists()

    # Applied again at start.
    d.stop()
    host.write('cgroup/machine.slice/vm1.scope/misc.max', 'sev max\nsev_es max\n')
    d.start()
    status = {(str(q[0]), str(q[1])): str(q[4]) for q in d.get(PATH, IFACE, 'QuotaStatus')}
    assert status[('machine.slice/vm1.scope', 'sev_es')] == 'applied'
    assert host.path('cgroup/machine.slice/vm1.scope/misc.max').read_text() == 'sev_es 3\n'


def test_hwsecctl_set_policy(host, bus, polkit, daemon, hwsecctl):
    polkit.allow(ACTION)
    d = daemon(host)
    p = hwsecctl(host, 'asid', 'set-policy', '--ciphertext-hiding', '64',
                 '--quota', 'machine.slice/vm1.scope:sev=2,sev_es=max', '--no-ask-password')
    assert p.returncode == 0, p.stderr
    assert 'Policy set.' in p.stdout
    assert host.path(MODPROBE).read_text() == EXPECTED_MODPROBE_64
    assert d.get(PATH, IFACE, 'PendingReload')
    p = hwsecctl(host, 'asid', 'set-policy', '--ciphertext-hiding', '48', '--no-ask-password', '--json')
    assert p.returncode == 0, p.stderr
    j = json.loads(p.stdout)
    assert j['configured_ciphertext_hiding_asids'] == 48 and j['pending_reload'] is True
    assert j['warnings'] == []
    polkit.deny_all()
    p = hwsecctl(host, 'asid', 'set-policy', '--ciphertext-hiding', '32', '--no-ask-password', '--json')
    assert p.returncode == 3
    assert json.loads(p.stdout)['error'] == 'org.freedesktop.DBus.Error.AccessDenied'
    assert host.path(MODPROBE).read_text().endswith('ciphertext_hiding_asids=48\n')
    # A refused policy is exit 1 with the daemon's sentence.
    polkit.allow(ACTION)
    p = hwsecctl(host, 'asid', 'set-policy', '--ciphertext-hiding', 'all-snp', '--no-ask-password')
    assert p.returncode == 1 and 'allow_sev_es_unusable' in p.stderr


def test_hwsecctl_asid_without_daemon(host, bus, hwsecctl):
    p = hwsecctl(host, 'asid')
    assert p.returncode == 4
    assert 'systemctl start hwsecd' in p.stderr


def test_corrupt_saved_policy_is_reported(host, bus, daemon):
    host.write('state/state.json', json.dumps({'version': 1, 'asid': {'policy': {'ciphertext_hiding': -4}}}))
    d = daemon(host)
    problems = [str(p) for p in d.get('/org/hwsecd1', 'org.hwsecd1.Manager', 'Problems')]
    assert any('saved ASID policy' in p for p in problems)
    assert dict(d.get(PATH, IFACE, 'Policy')) == {}
    assert not host.path(MODPROBE).exists()


def test_state_write_failure_changes_nothing(host, bus, polkit, daemon):
    """state.json is saved first: when that save fails the call fails with IOError before the
    modprobe.d file is touched, so the file and the properties keep the previous policy (64)."""
    polkit.allow(ACTION)
    d = daemon(host)
    asid(d).SetPolicy(policy(ciphertext_hiding=dbus.UInt32(64)))
    state = host.path('state/state.json')
    state.unlink()
    state.mkdir()            # rename() over a directory fails: the save cannot succeed
    with pytest.raises(dbus.DBusException) as e:
        asid(d).SetPolicy(policy(ciphertext_hiding=dbus.UInt32(48)))
    assert e.value.get_dbus_name() == 'org.hwsecd1.Error.IOError'
    assert host.path(MODPROBE).read_text() == EXPECTED_MODPROBE_64
    assert d.get(PATH, IFACE, 'ConfiguredCiphertextHidingAsids') == 64
    assert dict(d.get(PATH, IFACE, 'Policy'))['ciphertext_hiding'] == 64
    assert d.running()


def test_modprobe_write_failure_rolls_state_back(host, bus, polkit, daemon):
    """The rollback path of SetPolicy: state.json (48) is saved, then the modprobe.d write fails,
    so the saved state must go back to the previous policy (64). The write is made to fail by a
    directory where hwsecd's temporary file for hwsecd-kvm-amd.conf goes (root ignores mode
    bits); state.json stays writable. Checks: Error.IOError, state.json policy and cth_asids 64,
    the modprobe.d file still 64, the properties 64, and 64 again after a restart."""
    polkit.allow(ACTION)
    d = daemon(host)
    asid(d).SetPolicy(policy(ciphertext_hiding=dbus.UInt32(64)))
    before = json.loads(host.path('state/state.json').read_text())
    assert before['asid'] == {'policy': {'ciphertext_hiding': 64, 'allow_sev_es_unusable': False}, 'cth_asids': 64}
    blocker = host.path(f'{MODPROBE}.tmp.{d.pid}')
    blocker.mkdir()
    with pytest.raises(dbus.DBusException) as e:
        asid(d).SetPolicy(policy(ciphertext_hiding=dbus.UInt32(48)))
    assert e.value.get_dbus_name() == 'org.hwsecd1.Error.IOError'
    after = json.loads(host.path('state/state.json').read_text())
    assert after['asid'] == before['asid']
    assert host.path(MODPROBE).read_text() == EXPECTED_MODPROBE_64
    assert d.get(PATH, IFACE, 'ConfiguredCiphertextHidingAsids') == 64
    assert dict(d.get(PATH, IFACE, 'Policy'))['ciphertext_hiding'] == 64
    blocker.rmdir()
    d.restart()
    assert dict(d.get(PATH, IFACE, 'Policy'))['ciphertext_hiding'] == 64
    assert d.get(PATH, IFACE, 'ConfiguredCiphertextHidingAsids') == 64
    assert host.path(MODPROBE).read_text() == EXPECTED_MODPROBE_64
    assert d.get('/org/hwsecd1', 'org.hwsecd1.Manager', 'State') == 'ready'


def test_policy_waits_for_polkit(host, bus, polkit, daemon):
    """Nothing is written while polkit has not answered; the answer lets the call finish."""
    polkit.allow(ACTION)
    d = daemon(host)
    polkit.hang()
    slow = subprocess.Popen(['busctl', f'--address={bus.address}', f'--timeout={int(scaled(60))}', 'call', 'org.hwsecd1',
                             PATH, IFACE, 'SetPolicy', 'a{sv}', '1', 'ciphertext_hiding', 'u', '64'],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert wait_for(lambda: polkit.mock.HaveHangingCalls())
    # Reads are answered meanwhile, and nothing was written.
    assert pools(d)['snp']['last'] == 99
    assert not host.path(MODPROBE).exists()
    polkit.release()
    out, err = slow.communicate(timeout=scaled(20))
    assert slow.returncode == 0, err
    assert host.path(MODPROBE).read_text() == EXPECTED_MODPROBE_64
    assert d.get(PATH, IFACE, 'ConfiguredCiphertextHidingAsids') == 64


def test_bad_kvm_amd_parameter_is_a_problem_not_a_crash(host, bus, daemon):
    h = host.make('genoa', kvm_amd=dict(sev_es='maybe', ciphertext_hiding_asids='lots'))
    d = daemon(h)
    problems = [str(p) for p in d.get(PATH, IFACE, 'Problems')]
    assert any('sev_es says "maybe", which is not a boolean' in p for p in problems)
    assert any('ciphertext_hiding_asids says "lots", which is not a number' in p for p in problems)
    p = pools(d)
    assert p['sev-es']['state'] == 'disabled' and p['sev']['state'] == 'enabled'
    h.path('cgroup/misc.current').write_text('this is not a misc file\n')
    asid(d).Refresh()
    assert any('misc.current' in str(x) for x in d.get(PATH, IFACE, 'Problems'))
    assert pools(d)['sev']['used'] == -1
    assert d.running()
