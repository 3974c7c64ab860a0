"""hwsecctl pci audit/tree/check --dump: the offline client on the real-kernel fixtures, without a
daemon, and lspci as the oracle for the ACS registers."""

import json
import re
import subprocess

import pytest

from conftest import ROOT

FIX = ROOT / 'tests' / 'fixtures' / 'pci'
NAMES = sorted(p.name for p in FIX.iterdir() if (p / 'lspci-xxxx.txt').exists())


def audit(hwsecctl, name, *extra):
    p = hwsecctl(None, '--json', 'pci', 'audit', '--dump', FIX / name / 'lspci-xxxx.txt',
                 '--groups', FIX / name / 'iommu-groups.find.txt', *extra, check=True)
    return json.loads(p.stdout)


@pytest.mark.parametrize('name', NAMES)
def test_predicted_equals_kernel_groups(hwsecctl, name):
    doc = audit(hwsecctl, name)
    canon = sorted(line.split() for line in (FIX / name / 'groups-canonical.txt').read_text().splitlines() if line)
    assert sorted(doc['predicted_kernel_groups']) == canon
    assert sorted(doc['kernel_groups']) == canon
    for addr, dev in doc['devices'].items():
        assert dev['verdict'] in ('isolated', 'shared', 'unsafe'), (addr, dev['reasons'])


@pytest.mark.parametrize('name', NAMES)
def test_acs_equals_lspci(hwsecctl, name):
    doc = audit(hwsecctl, name)
    out = subprocess.run(['lspci', '-F', FIX / name / 'lspci-xxxx.txt', '-vvv'], capture_output=True, text=True,
                         check=True).stdout
    seen = {}
    cur = None
    for line in out.splitlines():
        m = re.match(r'^([0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) ', line)
        if m:
            cur = '0000:' + m.group(1)
        m = re.search(r'ACS(Cap|Ctl):\t(.*)$', line)
        if m:
            seen.setdefault(cur, {})[m.group(1)] = m.group(2).strip()
    ours = {a: d['acs'] for a, d in doc['devices'].items() if d['acs']}
    assert set(ours) == set(seen)
    for addr, acs in ours.items():
        assert acs['capability_bits'] == seen[addr]['Cap']
        assert acs['control_bits'] == seen[addr]['Ctl']


def test_switch_no_acs_unsafe(hwsecctl):
    doc = audit(hwsecctl, 'switch-no-acs')
    group = ['0000:01:00.0', '0000:02:00.0', '0000:02:01.0', '0000:02:02.0', '0000:03:00.0', '0000:04:00.0',
             '0000:05:00.0']
    assert group in doc['isolation_groups']
    for a in group:
        assert doc['devices'][a]['verdict'] == 'unsafe'
        assert doc['devices'][a]['isolation_group'] == group[0]    # the leader; members listed once
    assert doc['summary']['unsafe'] == 7
    p = hwsecctl(None, 'pci', 'check', '0000:04:00.0', '--dump', FIX / 'switch-no-acs' / 'lspci-xxxx.txt')
    assert p.returncode == 1 and 'through switch 0000:01:00.0' in p.stdout
    p = hwsecctl(None, 'pci', 'check', '0000:06:00.0', '--dump', FIX / 'switch-no-acs' / 'lspci-xxxx.txt')
    assert p.returncode == 0


def test_cmdline_findings(hwsecctl, tmp_path):
    c = tmp_path / 'cmdline'
    c.write_text('BOOT_IMAGE=/vmlinuz root=/dev/sda iommu=pt pcie_acs_override=downstream\n')
    doc = audit(hwsecctl, 'switch-acs', '--cmdline', c)
    assert [f['id'] for f in doc['host_findings']] == ['iommu-passthrough', 'acs-override']
    assert any('pcie_acs_override' in r for r in doc['devices']['0000:03:00.0']['reasons'])


def test_tree_text(hwsecctl):
    p = hwsecctl(None, 'pci', 'tree', '--dump', FIX / 'pcie-pci-bridge-mf' / 'lspci-xxxx.txt', check=True)
    assert '[0000:00]' in p.stdout and '0000:03:01.0' in p.stdout and 'PCIe-PCI' in p.stdout


def test_bad_input_is_a_named_error(hwsecctl, tmp_path):
    bad = tmp_path / 'bad.txt'
    bad.write_text('00:00.0 x\n' + 'y' * 400 + '\n')
    p = hwsecctl(None, 'pci', 'audit', '--dump', bad)
    assert p.returncode == 1 and 'line too long' in p.stderr
    p = hwsecctl(None, 'pci', 'audit', '--dump', tmp_path / 'missing.txt')
    assert p.returncode == 1 and 'Cannot read dump' in p.stderr
    g = tmp_path / 'groups.txt'
    g.write_text('/sys/kernel/iommu_groups/1/devices/nonsense\n')
    p = hwsecctl(None, 'pci', 'audit', '--dump', FIX / 'switch-acs' / 'lspci-xxxx.txt', '--groups', g)
    assert p.returncode == 1 and 'Line 1' in p.stderr
    p = hwsecctl(None, 'pci', 'check', 'zz:00.0', '--dump', FIX / 'switch-acs' / 'lspci-xxxx.txt')
    assert p.returncode == 2
    empty = tmp_path / 'empty.txt'
    empty.write_text('')
    p = hwsecctl(None, 'pci', 'audit', '--dump', empty)
    assert p.returncode == 1 and 'holds no PCI device' in p.stderr
