"""Hostile or unusual input for the asid area: kvm_amd parameters the kernel handles in surprising
ways, a forged state.json and a flood of unprivileged Refresh calls. Each regression test here
fails on the code before its fix; the two marked as controls show the fixed paths still let
good input through."""

import json
import time

import dbus
import dbus.mainloop.glib
import pytest

from conftest import scaled
from test_asid import ACTION, IFACE, MODPROBE, PATH, asid, policy, pools

REFRESH_LINE = 'Refresh: re-reading the ASID state once'


def codes(problems):
    return {(str(p[0]), str(p[1])) for p in problems}


def staged_pool(staged, name):
    return [tuple(x[1:5]) for x in staged if x[0] == name][0]


def test_snp_off_cth_50_shrinks_sev_es(host, bus, daemon):
    """kvm_amd loaded with sev_snp=0 ciphertext_hiding_asids=50 (snp-uninit, min SEV ASID 100):
    v6.18 splits the joint range whenever SEV is on, so SEV-ES has 51-99 (49 ASIDs), not 1-99,
    and SNP is "disabled (ASIDs 1 - 50)". Catches a model that ignores the parameter without SNP."""
    h = host.make('snp-uninit', kvm_amd=dict(ciphertext_hiding_asids=50))
    d = daemon(h)
    p = pools(d)
    assert (p['sev-es']['state'], p['sev-es']['first'], p['sev-es']['last'], p['sev-es']['capacity']) == \
        ('enabled', 51, 99, 49)
    assert (p['snp']['state'], p['snp']['first'], p['snp']['last'], p['snp']['capacity']) == ('disabled', 1, 50, 0)
    assert (p['sev']['first'], p['sev']['last']) == (100, 1006)
    assert d.get(PATH, IFACE, 'EffectiveCiphertextHidingAsids') == 0
    assert any('takes 50 ASIDs from SEV-ES although SNP is off' in str(x) for x in d.get(PATH, IFACE, 'Problems'))
    expl = [str(s) for s in d.get(PATH, IFACE, 'Explanation')]
    assert any(s.startswith('SEV-ES has ASIDs 51-99 (49)') for s in expl)

    # Staging the same count warns by name and shows the same split; "off" gives SEV-ES 1-99 back.
    staged, cth, problems, _expl = asid(d).ValidatePolicy(policy(ciphertext_hiding=dbus.UInt32(50)))
    assert cth == 50
    assert ('warning', 'cth-without-snp') in codes(problems)
    assert staged_pool(staged, 'sev-es') == ('enabled', 51, 99, 49)
    staged, cth, problems, _expl = asid(d).ValidatePolicy(policy(ciphertext_hiding='off'))
    assert cth == 0
    assert ('warning', 'cth-without-snp') not in codes(problems)
    assert staged_pool(staged, 'sev-es') == ('enabled', 1, 99, 99)

    # A policy that leaves the parameter alone keeps the split, and says so.
    staged, _cth, problems, _expl = asid(d).ValidatePolicy(policy(allow_sev_es_unusable=False))
    assert ('warning', 'cth-without-snp') in codes(problems)
    assert staged_pool(staged, 'sev-es') == ('enabled', 51, 99, 49)


@pytest.mark.parametrize('value,first,last', [(100, 101, 99), (150, 151, 99), (4294967294, 4294967295, 99)])
def test_snp_off_cth_at_or_above_min_leaves_sev_es_unusable(host, bus, daemon, value, first, last):
    """With SNP off kvm_amd does not cap the parameter: a value >= min SEV ASID (100) makes
    SEV-ES unusable with the kernel's own range (value+1 - 99, capacity 0). Catches a model that
    caps without SNP or reports SEV-ES 1-99."""
    h = host.make('snp-uninit', kvm_amd=dict(ciphertext_hiding_asids=value))
    d = daemon(h)
    es = pools(d)['sev-es']
    assert (es['state'], es['first'], es['last'], es['capacity'], es['free']) == ('unusable', first, last, 0, 0)
    assert pools(d)['snp']['last'] == value


def test_snp_off_cth_wrap_is_reported_not_shown(host, bus, daemon):
    """ciphertext_hiding_asids=4294967295 with SNP off wraps the kernel's min_sev_es_asid to 0
    ("SEV-ES enabled (ASIDs 0 - 99)"): a kernel bug. hwsecd shows SEV-ES unusable 0-0 with
    capacity 0, never the range 0-99, and names the wrap in Problems."""
    h = host.make('snp-uninit', kvm_amd=dict(ciphertext_hiding_asids=4294967295))
    d = daemon(h)
    es = pools(d)['sev-es']
    assert (es['state'], es['first'], es['last'], es['capacity']) == ('unusable', 0, 0, 0)
    problems = [str(x) for x in d.get(PATH, IFACE, 'Problems')]
    assert any('wraps to 0' in x and '4294967295' in x for x in problems)


def test_conflict_value_kvm_amd_refuses_is_a_problem(host, bus, daemon):
    """Another modprobe.d file sets ciphertext_hiding_asids=max. v6.18's parameter is a plain
    uint (kstrtouint), so kvm_amd refuses it and fails to load: the area says so for that value
    and not for the valid hex one (0x20 = 32) in the second file."""
    h = host.make('genoa')
    h.write('modprobe.d/50-local.conf', 'options kvm_amd ciphertext_hiding_asids=max\n')
    h.write('modprobe.d/51-hex.conf', 'options kvm_amd ciphertext_hiding_asids=0x20\n')
    d = daemon(h)
    assert len(d.get(PATH, IFACE, 'Conflicts')) == 2
    refused = [str(x) for x in d.get(PATH, IFACE, 'Problems') if 'kvm_amd refuses' in str(x)]
    assert len(refused) == 1 and '50-local.conf' in refused[0] and '=max' in refused[0]


FORGED = [
    # (id, saved asid section, why SetPolicy would never have written it)
    ('huge', {'policy': {'ciphertext_hiding': 64}, 'cth_asids': 4000000000}, 'cth_asids above the cap'),
    ('mismatch', {'policy': {'ciphertext_hiding': 64}, 'cth_asids': 32}, 'cth_asids not the policy count'),
    ('off-nonzero', {'policy': {'ciphertext_hiding': 'off'}, 'cth_asids': 5}, '"off" with a count'),
    ('all-snp-unallowed', {'policy': {'ciphertext_hiding': 'all-snp'}, 'cth_asids': 99},
     'all-snp without allow_sev_es_unusable (SetPolicy refuses: sev-es-unusable)'),
]


@pytest.mark.parametrize('name,section,why', FORGED, ids=[f[0] for f in FORGED])
def test_forged_saved_cth_asids_is_not_written(host, bus, daemon, name, section, why):
    """A state.json "asid" entry SetPolicy would not have written (4000000000 for a policy of 64,
    and the other cases listed) must not reach modprobe.d. Checks: no file, Manager.State
    degraded, the entry named in Asid.Problems, the saved policy still loaded (not silently
    dropped) and the saved "asid" entry unchanged in state.json (the rest of the state kept)."""
    text = json.dumps({'version': 1, 'asid': section})
    host.write('state/state.json', text)
    d = daemon(host)
    assert not host.path(MODPROBE).exists(), why
    assert d.get('/org/hwsecd1', 'org.hwsecd1.Manager', 'State') == 'degraded'
    problems = [str(x) for x in d.get(PATH, IFACE, 'Problems')]
    assert any('state.json' in x and 'left as it is' in x for x in problems), problems
    assert dict(d.get(PATH, IFACE, 'Policy'))['ciphertext_hiding'] == section['policy']['ciphertext_hiding']
    assert d.get(PATH, IFACE, 'ConfiguredCiphertextHidingAsids') == -1
    assert json.loads(host.path('state/state.json').read_text())['asid'] == section


def test_good_saved_cth_asids_is_restored(host, bus, daemon):
    """Control for the forged cases: an entry SetPolicy writes (64 for 64) is restored to
    modprobe.d at start and the daemon is not degraded by it."""
    host.write('state/state.json', json.dumps({'version': 1, 'asid': {
        'policy': {'ciphertext_hiding': 64, 'allow_sev_es_unusable': False}, 'cth_asids': 64}}))
    d = daemon(host)
    assert host.path(MODPROBE).read_text().endswith('ciphertext_hiding_asids=64\n')
    assert d.get(PATH, IFACE, 'ConfiguredCiphertextHidingAsids') == 64
    assert not any('state.json' in str(x) for x in d.get(PATH, IFACE, 'Problems'))


def test_forged_entry_cleared_by_set_policy(host, bus, polkit, daemon):
    """Control: after a forged entry, a SetPolicy that passes replaces it: the problem goes away and the
    file holds the new count (48)."""
    polkit.allow(ACTION)
    host.write('state/state.json', json.dumps({'version': 1, 'asid': {
        'policy': {'ciphertext_hiding': 64}, 'cth_asids': 4000000000}}))
    d = daemon(host)
    asid(d).SetPolicy(policy(ciphertext_hiding=dbus.UInt32(48)))
    assert host.path(MODPROBE).read_text().endswith('ciphertext_hiding_asids=48\n')
    assert not any('state.json' in str(x) for x in d.get(PATH, IFACE, 'Problems'))
    assert json.loads(host.path('state/state.json').read_text())['asid']['cth_asids'] == 48


def test_refresh_flood_is_coalesced(host, bus, daemon):
    """200 concurrent unprivileged Refresh calls (4 connections x 50, sent without waiting) must
    not make hwsecd re-read the host 200 times. Counts the daemon's debug line per re-read:
    at least 1, at most 20, and every one of the 200 calls gets a successful reply."""
    from gi.repository import GLib
    d = daemon(host)
    before = d.log().count(REFRESH_LINE)
    loop = GLib.MainLoop()
    mainloop = dbus.mainloop.glib.DBusGMainLoop()
    conns = [dbus.bus.BusConnection(bus.address, mainloop=mainloop) for _ in range(4)]
    ok, errors = [], []

    def done():
        if len(ok) + len(errors) == 200:
            loop.quit()

    def on_reply():
        ok.append(1)
        done()

    def on_error(e):
        errors.append(e.get_dbus_name())
        done()

    for c in conns:
        proxy = c.get_object('org.hwsecd1', PATH, introspect=False)
        for _ in range(50):
            proxy.Refresh(dbus_interface=IFACE, reply_handler=on_reply, error_handler=on_error,
                          timeout=scaled(60))
    GLib.timeout_add(int(scaled(60) * 1000), loop.quit)
    loop.run()
    for c in conns:
        c.close()
    assert errors == [] and len(ok) == 200

    deadline = time.monotonic() + scaled(5)
    rereads = d.log().count(REFRESH_LINE) - before
    while rereads == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
        rereads = d.log().count(REFRESH_LINE) - before
    assert 1 <= rereads <= 20, f'{rereads} re-reads for 200 calls'
    assert d.running()
