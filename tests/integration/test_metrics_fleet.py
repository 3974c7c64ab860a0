"""The fleet, for real (docs/metrics.md "Fleet queries"): three simulated hosts, each a real
hwsecd on its own private bus writing its textfile for its own Debian node_exporter on
127.0.0.1, one Debian Prometheus scraping the three with the alert rules loaded, and PromQL
through Prometheus's HTTP API.

  genoa   the demo host on a switch with ACS: SNP ready, 99 free SNP ASIDs, SEV-ES unusable
          (ciphertext hiding takes all 99 joint ASIDs), no unsafe device, every check passes
  turin   SNP ready, no ciphertext hiding (SNP and SEV-ES share 99 ASIDs), the switch without
          ACS (7 unsafe devices), reported TCB one SNP SVN behind the current one
  uninit  SNP not initialised (snp-uninit): the SNP pool is disabled, no SNP guest can start
"""

import json
import urllib.parse

import pytest

from busconfig import PrivateBus
from conftest import ROOT, Daemon
from promtools import Server, http_get, node_exporter, wait_for

RULES = ROOT / 'contrib' / 'prometheus' / 'hwsecd.rules.yml'
TURIN_TCB_BEHIND = 0x4a00000004030201   # FMC=1 BL=2 TEE=3 SNP=4 uCode=74: SNP one SVN behind
HOSTS = {
    'genoa': ('genoa', dict(pci_fixture='switch-acs')),
    'turin': ('turin', dict(snp={'reported_tcb': TURIN_TCB_BEHIND})),
    'uninit': ('snp-uninit', dict(pci_fixture='switch-acs')),
}


def query(prom, q):
    r = json.loads(http_get(f'{prom.url}/api/v1/query?' + urllib.parse.urlencode({'query': q})))
    assert r['status'] == 'success', r
    return r['data']['result']


def by_host(result):
    return {x['metric']['host']: float(x['value'][1]) for x in result}


def wait_query(prom, q, expected, timeout=60):
    """Waits until the query's {host: value} is expected (scrapes and rule runs take a while)."""
    return wait_for(lambda: by_host(query(prom, q)) == expected or None, timeout,
                    f'{q} == {expected} (now {by_host(query(prom, q))})')


def firing(prom):
    alerts = json.loads(http_get(f'{prom.url}/api/v1/alerts'))['data']['alerts']
    return {(a['labels']['alertname'], a['labels']['host']) for a in alerts if a['state'] == 'firing'}


@pytest.fixture
def fleet(host, tmp_path):
    started = []
    try:
        nodes = {}
        for name, (profile, opts) in HOSTS.items():
            h = host.make(profile, **opts)
            d = h.path('textfile')
            d.mkdir()
            h.config(f'[Metrics]\nTextfileDirectory={d}\n')
            bus = PrivateBus()
            started.append(bus)
            daemon = Daemon(h, bus)
            started.append(daemon)
            wait_for(lambda: (d / 'hwsecd.prom').exists(), 30, f'{name}: hwsecd.prom')
            ne = node_exporter(d, tmp_path / f'node-{name}.log')
            started.append(ne)
            nodes[name] = (daemon, ne)

        # The rules as shipped, without their "for:" durations: the test cannot wait a day.
        rules = tmp_path / 'hwsecd.rules.yml'
        rules.write_text('\n'.join(l for l in RULES.read_text().splitlines() if not l.strip().startswith('for:')) + '\n')
        scrape = [{'targets': [ne.url.removeprefix('http://')], 'labels': {'host': name}}
                  for name, (_, ne) in nodes.items()]
        config = tmp_path / 'prometheus.yml'
        config.write_text(json.dumps({
            'global': {'scrape_interval': '1s', 'evaluation_interval': '1s'},
            'rule_files': [str(rules)],
            'scrape_configs': [{'job_name': 'node', 'static_configs': scrape}],
        }))
        prom = Server('prometheus', [f'--config.file={config}', f'--storage.tsdb.path={tmp_path / "tsdb"}',
                                     '--web.listen-address=127.0.0.1:{port}'], tmp_path / 'prometheus.log')
        started.append(prom)
        wait_for(lambda: 'Ready' in http_get(prom.url + '/-/ready'), 60, 'prometheus to be ready')
        yield prom, nodes
    finally:
        codes = [x.stop() for x in reversed(started)]
    # hwsecd exits 0 (ASan builds exit non-zero on a leak); the other servers' codes do not matter
    assert all(c in (0, None) for x, c in zip(reversed(started), codes) if isinstance(x, Daemon)), codes


def test_fleet_queries_and_alerts(fleet):
    """PromQL over the three hosts returns what their configurations imply: SNP guests can start
    on genoa and turin (not uninit); 99 + 99 + 0 = 198 free SNP ASIDs; only turin has unsafe
    devices (7); node_textfile_scrape_error is 0 everywhere; the alerts that fire are exactly
    SevEsUnusable (genoa), ReadinessCheckFailing (turin, uninit), UnsafeVfioAssignmentPossible
    (turin) and TcbNotCommitted (turin). Then hwsecd on genoa stops: its file goes, and
    HwsecdDown fires for genoa only. Catches wrong values, a missing join label, a rule that
    never or always fires, and a stopped daemon leaving a file that claims it is fine."""
    prom, nodes = fleet
    wait_query(prom, 'node_textfile_scrape_error', {'genoa': 0, 'turin': 0, 'uninit': 0})
    wait_query(prom, 'hwsecd_psp_snp_initialized == 1 and on(instance) hwsecd_asid_pool_free{pool="snp"} > 0',
               {'genoa': 1, 'turin': 1})
    r = query(prom, 'sum(hwsecd_asid_pool_free{pool="snp"})')
    assert float(r[0]['value'][1]) == 198
    wait_query(prom, 'hwsecd_pci_devices{verdict="unsafe"} > 0', {'turin': 7})
    wait_query(prom, 'count by (host) (hwsecd_pci_unsafe_device)', {'turin': 7})
    wait_query(prom, 'hwsecd_psp_tcb_committed == 0', {'turin': 0})

    expected = {('HwsecdSevEsUnusable', 'genoa'), ('HwsecdReadinessCheckFailing', 'turin'),
                ('HwsecdReadinessCheckFailing', 'uninit'), ('HwsecdUnsafeVfioAssignmentPossible', 'turin'),
                ('HwsecdTcbNotCommitted', 'turin')}
    wait_for(lambda: firing(prom) == expected or None, 60, f'alerts {expected} (now {firing(prom)})')
    failing = {(x['metric']['host'], x['metric']['id']) for x in query(prom, 'hwsecd_check_result{result="fail"} == 1')}
    assert failing == {('turin', 'firmware.tcb-committed'), ('turin', 'features.ciphertext-hiding-enabled'),
                       ('uninit', 'kernel.kvm-amd-sev-snp'), ('uninit', 'platform.snp-init'), ('uninit', 'features.sfs')}

    daemon, _ = nodes['genoa']
    assert daemon.stop() == 0
    wait_for(lambda: ('HwsecdDown', 'genoa') in firing(prom) or None, 60, f'HwsecdDown (now {firing(prom)})')
    assert {a for a in firing(prom) if a[0] == 'HwsecdDown'} == {('HwsecdDown', 'genoa')}
