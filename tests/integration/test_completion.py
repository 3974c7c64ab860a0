"""bash completion for hwsecctl (client/completion/hwsecctl), run by a real bash with Debian's
bash-completion loaded, against the real daemon on the simulated host: verbs and options from the
script, job ids and PCI addresses from the daemon, staged package names from the firmware path."""

import os
import shlex
import subprocess

import pytest

import fwutil
import sim_pci
from conftest import HWSECCTL, ROOT

SCRIPT = ROOT / 'client' / 'completion' / 'hwsecctl'
BASH_COMPLETION = '/usr/share/bash-completion/bash_completion'


def complete(host, line):
    """Completes the last word of `line` as bash would on <TAB> and returns the candidates."""
    words = shlex.split(line)
    if line.endswith(' '):
        words.append('')
    prog = f'''
source {shlex.quote(BASH_COMPLETION)}
source {shlex.quote(str(SCRIPT))}
hwsecctl() {{ {shlex.quote(str(HWSECCTL))} "$@"; }}
COMP_WORDS=({' '.join(shlex.quote(w) for w in words)})
COMP_CWORD={len(words) - 1}
COMP_LINE={shlex.quote(line)}
COMP_POINT={len(line)}
_hwsecctl hwsecctl {shlex.quote(words[-1])} {shlex.quote(words[-2] if len(words) > 1 else '')}
printf '%s\\n' "${{COMPREPLY[@]}}"
'''
    env = dict(os.environ)
    env.update(host.env)
    p = subprocess.run(['bash', '--norc', '--noprofile', '-c', prog], env=env, capture_output=True, text=True,
                       timeout=60, check=True)
    return sorted(x for x in p.stdout.split('\n') if x)


def test_verbs_and_options(host, bus, polkit, daemon):
    daemon(host)
    assert complete(host, 'hwsecctl ') == sorted(
        ['status', 'psp', 'check', 'asid', 'firmware', 'pci', 'metrics', '--json', '--no-ask-password', '--help', '--version'])
    assert complete(host, 'hwsecctl fi') == ['firmware']
    assert complete(host, 'hwsecctl --json pci ') == ['audit', 'check', 'tree']
    assert complete(host, 'hwsecctl asid set-policy --ci') == ['--ciphertext-hiding']
    assert complete(host, 'hwsecctl asid set-policy --ciphertext-hiding ') == ['all-snp', 'off']
    assert complete(host, 'hwsecctl firmware schedule x --') == ['--at', '--deadline', '--sha256', '--window']


def test_pci_addresses_come_from_the_daemon(host, bus, polkit, daemon):
    daemon(host)
    got = complete(host, 'hwsecctl pci check ')
    # Every device of the simulated host: the fixture's dump plus the PSP function sim_psp adds.
    expected = sorted([a for a, _ in sim_pci.parse_dump(sim_pci.FIXTURES / 'switch-no-acs' / 'lspci-xxxx.txt')] +
                      [sim_pci.PSP_ADDRESS])
    assert got == expected
    assert complete(host, 'hwsecctl pci check 0000:03') == ['0000:03:00.0']


def test_job_ids_and_staged_names(host, bus, polkit, daemon):
    polkit.allow_all()
    d = daemon(host)
    fwutil.stage_file(host, 'first.sbin', b'\x01' * 1024)
    fwutil.stage_file(host, 'second.sbin', b'\x02' * 1024)
    assert complete(host, 'hwsecctl firmware schedule ') == ['first.sbin', 'second.sbin']
    far = fwutil.now_usec() + 3600 * 10**6
    p1 = fwutil.schedule(d, 'first.sbin', not_before=far)
    p2 = fwutil.schedule(d, 'second.sbin', not_before=far)
    ids = sorted(p.rsplit('/', 1)[1] for p in (p1, p2))
    assert complete(host, 'hwsecctl firmware cancel ') == ids


def test_nothing_when_daemon_is_absent(host, bus):
    assert complete(host, 'hwsecctl firmware cancel ') == []
    assert complete(host, 'hwsecctl pci check ') == []


def test_opt_equals_value(host, tmp_path):
    """hwsecctl takes --opt=value (test_client_args.py); the completion completes the value after
    '=' as it does after a space: file names for --dump=, the choices for --ciphertext-hiding=.
    Without '-s' in _init_completion these gave nothing (the word '--dump=du' matched no option)."""
    (tmp_path / 'dump-a.txt').write_text('')
    (tmp_path / 'dump-b.txt').write_text('')
    assert complete(host, f'hwsecctl pci audit --dump={tmp_path}/du') == [f'{tmp_path}/dump-a.txt',
                                                                          f'{tmp_path}/dump-b.txt']
    assert complete(host, 'hwsecctl asid set-policy --ciphertext-hiding=') == ['all-snp', 'off']
    assert complete(host, 'hwsecctl firmware schedule x --at=+1') == ['+10min', '+1d', '+1h']
