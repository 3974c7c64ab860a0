"""The metrics export (docs/metrics.md): the node_exporter textfile hwsecd.prom and
`hwsecctl metrics`, checked against the exposition rules, promtool and a real node_exporter."""

import re
import time

import sim_asid
from conftest import scaled
from promtools import http_get, node_exporter, parse_samples, promtool, value, wait_for

NAME = 'hwsecd.prom'


def textfile_host(host, sub='textfile'):
    d = host.path(sub)
    d.mkdir(exist_ok=True)
    host.config(f'[Metrics]\nTextfileDirectory={d}\n')
    return d


def wait_file(d, pred=lambda text: True, timeout=20):
    def ok():
        p = d / NAME
        if not p.exists():
            return None
        t = p.read_text()
        return t if pred(t) else None
    return wait_for(ok, timeout, f'{d / NAME}')


def body(text):
    """The text without the export's own figures (they differ between two renderings)."""
    return re.sub(r'(?m)^(# (HELP|TYPE) )?hwsecd_metrics_.*\n', '', text)


def check_format(text):
    assert text.endswith('\n')
    families = {}
    current = None
    for line in text.splitlines():
        m = re.match(r'^# HELP (\S+) (.+)$', line)
        if m:
            assert m.group(1) not in families, f'family {m.group(1)} twice'
            families[m.group(1)] = None
            current = m.group(1)
            continue
        m = re.match(r'^# TYPE (\S+) (gauge|counter)$', line)
        if m:
            assert m.group(1) == current
            families[current] = m.group(2)
            assert (m.group(2) == 'counter') == current.endswith('_total')
            continue
        assert not line.startswith('#'), line
        m = re.match(r'^([a-z_]+)(\{.*\})? (\S+)$', line)
        assert m, f'not "name{{labels}} value" (a timestamp?): {line!r}'
        assert m.group(1) == current, f'{m.group(1)} outside its family'
        assert m.group(1).startswith('hwsecd_')
        float(m.group(3))
    return families


def test_textfile_format_promtool_and_hwsecctl(host, daemon, hwsecctl):
    """The demo host (genoa) with a textfile directory: hwsecd writes hwsecd.prom once started.
    Catches a broken format: every family once with HELP and TYPE (counter exactly for _total),
    no timestamps, final newline, `promtool check metrics` exit 0 and no lint output; the ASID
    figures are the demo host's (SNP pool 1-99, 99 ASIDs, 0 used; SEV 100-1006) and `hwsecctl
    metrics` prints the same series."""
    d = textfile_host(host)
    daemon(host)
    text = wait_file(d, lambda t: 'hwsecd_pci_devices' in t and 'hwsecd_check_result' in t)
    fam = check_format(text)
    for f in ('hwsecd_build_info', 'hwsecd_state', 'hwsecd_check_result', 'hwsecd_asid_pool_free',
              'hwsecd_asid_reload_pending', 'hwsecd_psp_present', 'hwsecd_psp_tcb_svn', 'hwsecd_firmware_jobs',
              'hwsecd_pci_devices', 'hwsecd_pci_updates_total', 'hwsecd_metrics_last_export_timestamp_seconds'):
        assert f in fam, f
    r = promtool('check', 'metrics', input=text)
    assert (r.returncode, r.stdout + r.stderr) == (0, ''), r.stdout + r.stderr
    s = parse_samples(text)
    assert value(s, 'hwsecd_asid_pool_first', pool='snp') == 1
    assert value(s, 'hwsecd_asid_pool_last', pool='snp') == 99
    assert value(s, 'hwsecd_asid_pool_capacity', pool='snp') == 99
    assert value(s, 'hwsecd_asid_pool_used', pool='snp') == 0
    assert value(s, 'hwsecd_asid_pool_state', pool='snp', state='enabled') == 1
    assert (value(s, 'hwsecd_asid_pool_first', pool='sev'), value(s, 'hwsecd_asid_pool_last', pool='sev')) == (100, 1006)
    assert value(s, 'hwsecd_psp_present') == 1
    assert value(s, 'hwsecd_state', state='ready') + value(s, 'hwsecd_state', state='degraded') == 1
    assert abs(value(s, 'hwsecd_metrics_last_export_timestamp_seconds') - time.time()) < scaled(120)
    assert not list(d.glob(NAME + '.*')), 'temporary file left behind'

    out = hwsecctl(host, 'metrics', check=True).stdout
    check_format(out)
    assert promtool('check', 'metrics', input=out).returncode == 0
    assert body(out) == body(d.joinpath(NAME).read_text())


def test_export_off_without_directory(host, daemon, hwsecctl):
    """TextfileDirectory names a directory that does not exist: one log line says the export is
    off, no file and no directory appear, and `hwsecctl metrics` still prints the exposition.
    Catches a daemon that creates the directory or fails to start."""
    missing = host.path('no-such-dir')
    host.config(f'[Metrics]\nTextfileDirectory={missing}\n')
    d = daemon(host)
    wait_for(lambda: 'Metrics textfile export off' in d.log(), 20, 'the log line')
    assert d.log().count('Metrics textfile export off') == 1
    assert not missing.exists()
    out = hwsecctl(host, 'metrics', check=True).stdout
    assert 'hwsecd_build_info{version=' in out
    assert 'hwsecd_metrics_last_export_timestamp_seconds' not in out


def test_rewritten_after_a_change(host, daemon):
    """kvm_amd reloaded with sev_snp=0 on a running daemon: the file follows within the poll
    interval plus the 1 s rate limit (waited for, not timed): the SNP pool's state leaves
    "enabled". Catches an export written only at start."""
    d = textfile_host(host)
    daemon(host)
    text = wait_file(d, lambda t: 'hwsecd_asid_pool_state{pool="snp",state="enabled"} 1' in t)
    sim_asid.set_kvm_param(host, 'sev_snp', 'N')
    wait_file(d, lambda t: 'hwsecd_asid_pool_state{pool="snp",state="enabled"} 0' in t, timeout=30)
    assert text


def test_node_exporter_scrape(host, daemon, tmp_path):
    """node_exporter 1.5 (Debian) reads the file: node_textfile_scrape_error 0, hwsecd's series in
    the scrape with the file's values, and `promtool check metrics` clean on the whole scrape.
    Catches anything node_exporter skips silently (timestamps, missing newline, HELP clash)."""
    d = textfile_host(host)
    daemon(host)
    text = wait_file(d, lambda t: 'hwsecd_pci_devices' in t)
    ne = node_exporter(d, tmp_path / 'node_exporter.log')
    try:
        scrape = http_get(ne.url + '/metrics')
        s = parse_samples('\n'.join(l for l in scrape.splitlines() if l.startswith(('hwsecd_', 'node_textfile_scrape_error'))))
        assert value(s, 'node_textfile_scrape_error') == 0, ne.output()
        assert value(s, 'hwsecd_asid_pool_capacity', pool='snp') == 99
        r = promtool('check', 'metrics', input=scrape)
        assert r.returncode == 0, r.stdout + r.stderr
    finally:
        ne.stop()
