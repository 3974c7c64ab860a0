"""The alert rules in contrib/prometheus (docs/metrics.md), checked with Debian's promtool: the
rule file lints, its unit tests (each alert firing and not firing) pass, and they notice a broken
rule."""

import shutil

from conftest import ROOT
from promtools import promtool

RULES = ROOT / 'contrib' / 'prometheus' / 'hwsecd.rules.yml'
TESTS = ROOT / 'contrib' / 'prometheus' / 'hwsecd.rules.test.yml'
ALERTS = ('HwsecdDown', 'HwsecdMetricsStale', 'HwsecdReadinessCheckFailing', 'HwsecdNoFreeSnpAsid',
          'HwsecdSevEsUnusable', 'HwsecdUnsafeVfioAssignmentPossible', 'HwsecdFirmwareJobFailed',
          'HwsecdTcbNotCommitted', 'HwsecdKvmAmdReloadPending')


def test_check_rules():
    """`promtool check rules` exits 0 and finds the 9 rules the issue asks for."""
    r = promtool('check', 'rules', RULES)
    assert r.returncode == 0, r.stdout + r.stderr
    assert 'SUCCESS: 9 rules found' in r.stdout
    text = RULES.read_text()
    for a in ALERTS:
        assert f'alert: {a}\n' in text


def test_rule_unit_tests_pass_and_cover_every_alert():
    """`promtool test rules` exits 0, and every alert has a firing and a not-firing case."""
    r = promtool('test', 'rules', TESTS)
    assert r.returncode == 0, r.stdout + r.stderr
    text = TESTS.read_text()
    for a in ALERTS:
        cases = text.split(f'alertname: {a}\n')[1:]
        assert len(cases) >= 2, a
        assert any(c.lstrip().startswith('exp_alerts: []') for c in cases), f'{a}: no not-firing case'
        assert any(c.lstrip().startswith('exp_alerts:\n') for c in cases), f'{a}: no firing case'


def test_rule_unit_tests_catch_a_broken_rule(tmp_path):
    """Mutation: HwsecdNoFreeSnpAsid compares with 1 instead of 0, HwsecdTcbNotCommitted waits 2d.
    The same unit tests must fail (exit 1) and name both alerts."""
    shutil.copy(TESTS, tmp_path / TESTS.name)
    text = RULES.read_text()
    text = text.replace('hwsecd_asid_pool_free{pool="snp"} == 0', 'hwsecd_asid_pool_free{pool="snp"} == 1')
    text = text.replace('expr: hwsecd_psp_tcb_committed == 0\n        for: 1d', 'expr: hwsecd_psp_tcb_committed == 0\n        for: 2d')
    assert text != RULES.read_text()
    (tmp_path / RULES.name).write_text(text)
    r = promtool('test', 'rules', tmp_path / TESTS.name)
    assert r.returncode == 1, r.stdout + r.stderr
    assert 'HwsecdNoFreeSnpAsid' in r.stdout + r.stderr and 'HwsecdTcbNotCommitted' in r.stdout + r.stderr
