"""asid tests that need the PSP area's data (SNP_PLATFORM_STATUS guest counts and CTH bits from
the simulated /dev/sev in sim_psp.py)."""

import dbus
import pytest

import sim_asid
import sim_psp
import test_asid
from conftest import scaled
from test_asid import ACTION, IFACE, MODPROBE, PATH, asid, policy, pools, written_nothing


def wait_for(fn, timeout=6.0):
    """test_asid.wait_for with the timeout scaled for slow runs (valgrind: HWSECD_TIMEOUT_SCALE)."""
    return test_asid.wait_for(fn, scaled(timeout))


def codes(problems):
    return {(str(p[0]), str(p[1])): str(p[2]) for p in problems}


def test_genoa_snp_guest_count_splits_sev_es(host, bus, daemon):
    h = host.make('genoa', kvm_amd=dict(ciphertext_hiding_asids=50), misc_current=(1, 5),
                  snp=dict(guest_count=3))
    d = daemon(h)
    p = pools(d)
    assert (p['snp']['first'], p['snp']['last'], p['snp']['used'], p['snp']['free']) == (1, 50, 3, 47)
    assert (p['sev-es']['first'], p['sev-es']['last'], p['sev-es']['used'], p['sev-es']['free']) == (51, 99, 2, 47)
    assert 'SNP_PLATFORM_STATUS guest_count' in p['snp']['note']
    assert 'counts SEV-ES and SNP guests together' in p['sev-es']['note']
    assert d.get(PATH, IFACE, 'CiphertextHidingSupported') == 'yes'
    assert list(d.get(PATH, IFACE, 'Problems')) == []


def test_guest_count_follows_psp_refresh(host, bus, daemon):
    h = host.make('genoa', misc_current=(0, 0))
    d = daemon(h)
    assert pools(d)['snp']['used'] == 0
    sim_asid.set_misc_current(h, 0, 2)
    sim_psp.set_status(h, snp=dict(guest_count=2))
    d.iface('/org/hwsecd1/psp', 'org.hwsecd1.Psp').Refresh(timeout=scaled(25))  # MANAGER_EVENT_PSP_CHANGED
    assert wait_for(lambda: pools(d)['snp']['used'] == 2)
    assert 'SNP_PLATFORM_STATUS guest_count' in pools(d)['snp']['note']


def test_milan_has_no_ciphertext_hiding(host, bus, polkit, daemon):
    polkit.allow(ACTION)
    h = host.make('milan')
    d = daemon(h)
    assert d.get(PATH, IFACE, 'CiphertextHidingSupported') == 'no'
    polkit.clear_calls()
    _pools, _cth, problems, _expl = asid(d).ValidatePolicy(policy(ciphertext_hiding=dbus.UInt32(64)))
    assert ('error', 'cth-unsupported') in codes(problems)
    with pytest.raises(dbus.DBusException) as e:
        asid(d).SetPolicy(policy(ciphertext_hiding=dbus.UInt32(64)))
    assert e.value.get_dbus_name() == 'org.hwsecd1.Error.NotSupported'
    assert 'ciphertext_hiding_cap' in e.value.get_dbus_message()
    assert polkit.calls() == []
    written_nothing(h)
    # "off" is fine on Milan.
    assert list(asid(d).SetPolicy(policy(ciphertext_hiding='off'))) == []
    assert h.path(MODPROBE).read_text().endswith('ciphertext_hiding_asids=0\n')
    assert not d.get(PATH, IFACE, 'PendingReload')


def test_fewer_snp_asids_than_snp_guests_is_refused(host, bus, polkit, daemon):
    polkit.allow(ACTION)
    h = host.make('genoa', misc_current=(0, 70), snp=dict(guest_count=70))
    d = daemon(h)
    _pools, _cth, problems, _expl = asid(d).ValidatePolicy(policy(ciphertext_hiding=dbus.UInt32(64)))
    c = codes(problems)
    assert ('error', 'snp-asids-below-guests') in c
    assert '70 SNP guests' in c[('error', 'snp-asids-below-guests')]
    with pytest.raises(dbus.DBusException) as e:
        asid(d).SetPolicy(policy(ciphertext_hiding=dbus.UInt32(64)))
    assert e.value.get_dbus_name() == 'org.hwsecd1.Error.Busy'
    written_nothing(h)
    # Enough SNP ASIDs: accepted.
    asid(d).SetPolicy(policy(ciphertext_hiding=dbus.UInt32(80)))
    assert h.path(MODPROBE).read_text().endswith('ciphertext_hiding_asids=80\n')


def test_sev_es_guests_that_would_lose_their_asids_are_counted(host, bus, daemon):
    h = host.make('genoa', kvm_amd=dict(ciphertext_hiding_asids=50), misc_current=(0, 30),
                  snp=dict(guest_count=5))
    d = daemon(h)
    _pools, _cth, problems, _expl = asid(d).ValidatePolicy(
        policy(ciphertext_hiding='all-snp', allow_sev_es_unusable=True))
    c = codes(problems)
    assert ('warning', 'sev-es-guests-displaced') in c
    assert '25 SEV-ES guests' in c[('warning', 'sev-es-guests-displaced')]
    assert not any(k[0] == 'error' for k in c)


def test_kvm_amd_and_snp_status_disagree(host, bus, daemon):
    # kvm_amd says 99 SNP ASIDs, the firmware says ciphertext hiding is off.
    h = host.make('genoa', snp=dict(flags=sim_psp.FEATURE_INFO | sim_psp.CTH_CAP))
    d = daemon(h)
    assert any('SNP_PLATFORM_STATUS says ciphertext hiding is disabled' in str(p)
               for p in d.get(PATH, IFACE, 'Problems'))


def test_snp_not_initialised(host, bus, daemon):
    h = host.make('snp-uninit')
    d = daemon(h)
    p = pools(d)
    assert p['snp']['state'] == 'disabled' and p['sev-es']['state'] == 'enabled'
    assert d.get(PATH, IFACE, 'CiphertextHidingSupported') == 'unknown'
    staged, _cth, problems, _expl = asid(d).ValidatePolicy(policy(ciphertext_hiding=dbus.UInt32(10)))
    c = codes(problems)
    # kvm_amd splits the joint range even with SNP off: SEV-ES would lose ASIDs 1-10.
    assert ('warning', 'cth-without-snp') in c and ('warning', 'cth-support-unknown') in c
    es = [tuple(x[1:5]) for x in staged if x[0] == 'sev-es'][0]
    assert es == ('enabled', 11, 99, 89)


def test_counts_that_disagree_are_a_problem(host, bus, daemon):
    # SEV-ES has no ASIDs (all 99 to SNP), the cgroup charges 4, the firmware counts no SNP guest.
    h = host.make('genoa', misc_current=(0, 4), snp=dict(guest_count=0))
    d = daemon(h)
    assert any('SEV-ES shows 4 ASIDs in use but has only 0' in str(p) for p in d.get(PATH, IFACE, 'Problems'))


def test_kvm_amd_change_reaches_the_psp_checks(host, bus, daemon):
    """A kvm_amd change seen by the asid poll is broadcast (MANAGER_EVENT_ASID_CHANGED), so the
    PSP area's consistency check follows without a PSP event."""
    d = daemon(host)

    def cth_check():
        for c in d.iface().GetChecks():
            if str(c[0]) == 'features.ciphertext-hiding-enabled':
                return str(c[2])
        return None

    assert cth_check() == 'pass'
    sim_asid.set_kvm_param(host, 'ciphertext_hiding_asids', 0)
    assert wait_for(lambda: cth_check() == 'fail')
    assert any('SNP_PLATFORM_STATUS says ciphertext hiding is enabled' in str(p)
               for p in d.get(PATH, IFACE, 'Problems'))
