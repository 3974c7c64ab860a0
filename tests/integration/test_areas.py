"""The areas' common shape, end to end: property tables announce only what changed, and the
host facts read kvm_amd once for every area, with one error rule."""

import dbus

from test_psp import MANAGER, MANAGER_IFACE, PSP, PSP_IFACE, Signals, checks, prepare, wait_for

ASID = '/org/hwsecd1/asid'
ASID_IFACE = 'org.hwsecd1.Asid'


def test_psp_refresh_announces_only_what_changed(host, bus, daemon):
    """A Refresh() that finds the PSP as it was must announce LastRefresh alone: the property table
    compares every value with the last announcement. Catches a return to announcing all 42 Psp
    properties on every re-read (the figure: exactly one changed property, 'LastRefresh')."""
    prepare(host)
    d = daemon(host)
    sig = Signals(bus)
    try:
        before = d.get(PSP, PSP_IFACE, 'LastRefresh')
        d.iface(PSP, PSP_IFACE).Refresh()
        s = sig.wait(lambda s: 'LastRefresh' in s, raw=True)
        assert sorted(s) == ['LastRefresh']
        assert s['LastRefresh'] > before
    finally:
        sig.close()


def test_unparsable_kvm_amd_parameter_is_one_fact_shown_by_each_consumer(host, bus, polkit, daemon):
    """kvm_amd's sev_snp saying 'maybe' (not a boolean) is read once by the host facts: the ASID
    area shows it as off with a problem, the readiness check as unknown, and the host facts log the
    parse problem once, not on every check run. Catches separate readers with their own meanings
    and re-reads on events that cannot change kvm_amd (the figures: SNP pool disabled, check
    kernel.kvm-amd-sev-snp 'unknown', the log line exactly once after two Reload() calls, each of
    which re-gathered every fact before)."""
    polkit.allow('org.hwsecd1.reload')
    prepare(host, sev_snp='maybe')
    d = daemon(host)
    problems = [str(p) for p in d.get(ASID, ASID_IFACE, 'Problems')]
    assert any('sev_snp says "maybe", which is not a boolean; treating it as off.' in p for p in problems)
    assert checks(d)['kernel.kvm-amd-sev-snp']['result'] == 'unknown'
    pools = {str(p[0]): str(p[1]) for p in d.get(ASID, ASID_IFACE, 'Pools')}
    assert pools['snp'] == 'disabled'
    line = 'sev_snp says "maybe", which is not a boolean. Treating it as unknown.'
    wait_for(lambda: line in d.log(), what='the parse problem in the log')
    d.iface(MANAGER, MANAGER_IFACE).Reload()
    d.iface(MANAGER, MANAGER_IFACE).Reload()
    assert d.log().count(line) == 1
