"""hwsecctl argument parsing: every verb parses its options with getopt_long through one helper
(client/ctl-util.c, ctl_parse_args()). Checked here: --opt=value and --opt value, unknown options
and missing arguments (exit 2, naming the option and the verb, before any bus traffic), per-verb
--help (exit 0), global options in any position, and '--' ending the options. Offline cases use
`pci ... --dump` (no daemon); the rest run against the real daemon on the simulated host."""

import hashlib
import json
import os
import re
import subprocess

import pytest

from conftest import HWSECCTL, ROOT, scaled

FIX = ROOT / 'tests' / 'fixtures' / 'pci'
DUMP = FIX / 'switch-acs' / 'lspci-xxxx.txt'
GROUPS = FIX / 'switch-acs' / 'iommu-groups.find.txt'
# Any attempt to reach the daemon fails with exit 4 here; a usage error must come first (exit 2).
NOBUS = {'DBUS_SYSTEM_BUS_ADDRESS': 'unix:path=/nonexistent/hwsecctl-args-test'}

# Each verb as typed, with the words it needs to get past its own checks.
VERBS = [
    ('status', []),
    ('psp', []),
    ('check', []),
    ('asid', []),
    ('asid show', []),
    ('asid explain', []),
    ('asid set-policy', ['--dry-run', '--ciphertext-hiding', '64']),
    ('firmware versions', []),
    ('firmware stage', ['pkg.sbin']),
    ('firmware schedule', ['pkg.sbin']),
    ('firmware jobs', []),
    ('firmware cancel', ['1']),
    ('firmware history', []),
    ('pci tree', []),
    ('pci check', ['0000:03:00.0']),
    ('pci audit', []),
]

# Options that take an argument, per verb: (verb, option, words before it).
REQUIRED_ARG = [
    ('asid set-policy', '--ciphertext-hiding', []),
    ('asid set-policy', '--quota', []),
    ('firmware stage', '--name', ['pkg.sbin']),
    ('firmware schedule', '--at', ['pkg.sbin']),
    ('firmware schedule', '--deadline', ['pkg.sbin']),
    ('firmware schedule', '--sha256', ['pkg.sbin']),
    ('pci tree', '--dump', []),
    ('pci check', '--groups', ['0000:03:00.0', '--dump', DUMP]),
    ('pci audit', '--cmdline', ['--dump', DUMP]),
    ('pci audit', '--time-update', ['--dump', DUMP]),
    ('pci audit', '--repeat', ['--dump', DUMP]),
]


def run(*args, env=None, cwd=None, host=None):
    e = dict(os.environ)
    if host is not None:
        e.update(host.env)
    e.update(env or {})
    e.setdefault('ASAN_OPTIONS', 'verify_asan_link_order=0:detect_leaks=1')
    return subprocess.run([str(HWSECCTL)] + [str(a) for a in args], env=e, cwd=cwd, capture_output=True,
                          text=True, timeout=scaled(60))


def offline_json(*args):
    p = run(*args, env=NOBUS)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_opt_equals_value_offline():
    """Mutation caught: a parser that only takes '--opt value' (the old pci loop said "unexpected
    argument '--dump=...'", exit 2). '--dump=F --groups=G' must give the same audit document
    as '--dump F --groups G': the same device set and the same 'summary' figures."""
    spaced = offline_json('--json', 'pci', 'audit', '--dump', DUMP, '--groups', GROUPS)
    joined = offline_json('--json', 'pci', 'audit', f'--dump={DUMP}', f'--groups={GROUPS}')
    assert joined == spaced
    assert joined['summary']['devices'] == len(joined['devices']) > 0
    assert joined['kernel_groups'], 'the --groups=FILE value was not read'


def test_hidden_benchmark_options_keep_working():
    """scripts/bench-pci runs `pci audit --dump F --time-update ADDR --repeat 200`. Mutation
    caught: the hidden options dropped from the audit table, or --repeat=N not counted. Checks
    the printed repeat= figure for both forms, and that --repeat 0 is a usage error (exit 2)."""
    for args in (['--time-update', '0000:03:00.0', '--repeat', '3'],
                 ['--time-update=0000:03:00.0', '--repeat=3']):
        p = run('pci', 'audit', '--dump', DUMP, *args, env=NOBUS)
        assert p.returncode == 0, p.stderr
        assert p.stdout.startswith('incremental_update ') and ' address=0000:03:00.0 ' in p.stdout
        assert p.stdout.rstrip().endswith(' repeat=3')
    p = run('pci', 'audit', '--dump', DUMP, '--time-update', '0000:03:00.0', '--repeat', '0', env=NOBUS)
    assert p.returncode == 2 and "hwsecctl pci audit: --repeat needs a positive number" in p.stderr


@pytest.mark.parametrize('verb,extra', VERBS, ids=[v for v, _ in VERBS])
def test_unknown_option_is_usage_error_naming_it(verb, extra):
    """Mutation caught: an unknown option ignored, taken as a positional word, or refused
    without saying which (the old firmware loop printed the whole usage). Exit 2, nothing
    on stdout, stderr names the option (without its =value) and the verb, and the daemon is
    never asked (no bus here: asking would exit 4)."""
    for opt in ('--frobnicate', '--frobnicate=1'):
        p = run(*verb.split(), *extra, opt, env=NOBUS)
        assert p.returncode == 2, (verb, opt, p.stderr)
        assert p.stdout == ''
        assert f"hwsecctl {verb}: unknown option '--frobnicate'." in p.stderr, p.stderr
        assert f"'hwsecctl {verb} --help'" in p.stderr


def test_unknown_option_top_level_and_family():
    """Unknown options before the command or before the sub-command are named with the level
    that saw them (exit 2); an option that takes no argument refuses '=value' (exit 2)."""
    p = run('--frobnicate', 'psp', env=NOBUS)
    assert p.returncode == 2 and "hwsecctl: unknown option '--frobnicate'." in p.stderr
    p = run('pci', '--frobnicate', 'audit', env=NOBUS)
    assert p.returncode == 2 and "hwsecctl pci: unknown option '--frobnicate'." in p.stderr
    p = run('psp', '--json=yes', env=NOBUS)
    assert p.returncode == 2 and "hwsecctl psp: option '--json' takes no argument." in p.stderr
    p = run('check', '-x', env=NOBUS)
    assert p.returncode == 2 and "hwsecctl check: unknown option '-x'." in p.stderr


@pytest.mark.parametrize('verb,opt,before', REQUIRED_ARG, ids=[f'{v}{o}' for v, o, _ in REQUIRED_ARG])
def test_missing_argument_is_usage_error(verb, opt, before):
    """Mutation caught: an option at the end of the line without its value accepted, or
    reported as something else. Exit 2, stderr names the option and the verb."""
    p = run(*verb.split(), *before, opt, env=NOBUS)
    assert p.returncode == 2, p.stderr
    assert f"hwsecctl {verb}: option '{opt}' needs an argument." in p.stderr, p.stderr


@pytest.mark.parametrize('verb,extra', VERBS, ids=[v for v, _ in VERBS])
def test_per_verb_help(verb, extra):
    """Mutation caught: --help anywhere printing the global help or nothing. 'hwsecctl VERB
    --help' (also after other words, and -h) prints the verb's own usage, which starts with
    'hwsecctl VERB', on stdout, exit 0, no bus needed; the usage names every option of the
    verb except the hidden benchmark ones."""
    for args in ([*verb.split(), '--help'], [*verb.split(), *extra, '-h']):
        p = run(*args, env=NOBUS)
        assert p.returncode == 0, p.stderr
        assert p.stderr == ''
        first = p.stdout.splitlines()[0]
        assert first.startswith('hwsecctl ' + (verb if verb != 'asid show' else 'asid [show]')), first
        assert 'Commands:' not in p.stdout     # not the global help
    options = {
        'check': ['--history'],
        'asid set-policy': ['--ciphertext-hiding', '--allow-sev-es-unusable', '--quota', '--dry-run'],
        'firmware stage': ['--name'],
        'firmware schedule': ['--at', '--window', '--deadline', '--sha256'],
        'pci tree': ['--dump', '--groups', '--cmdline'],
        'pci check': ['--dump', '--groups', '--cmdline'],
        'pci audit': ['--dump', '--groups', '--cmdline'],
    }.get(verb, [])
    text = run(*verb.split(), '--help', env=NOBUS).stdout
    for o in options:
        assert o in text, (verb, o)
    assert '--time-update' not in text and '--repeat' not in text


@pytest.mark.parametrize('family,subs', [('asid', ['show', 'explain', 'set-policy']),
                                         ('firmware', ['versions', 'stage', 'schedule', 'jobs', 'cancel', 'history']),
                                         ('pci', ['tree', 'check', 'audit'])])
def test_family_help_and_missing_subcommand(family, subs):
    """'hwsecctl FAMILY --help' lists its sub-commands (exit 0); 'hwsecctl FAMILY frob' is a usage
    error (exit 2) naming the word and the family."""
    p = run(family, '--help', env=NOBUS)
    assert p.returncode == 0 and p.stdout.startswith(f'hwsecctl {family} ')
    for s in subs:
        assert re.search(rf'(^|[ |\[]){s}([ \]\n]|$)', p.stdout), s
    p = run(family, 'frob', env=NOBUS)
    assert p.returncode == 2 and f"hwsecctl {family}: unknown command 'frob'" in p.stderr


def test_global_options_anywhere_offline():
    """Mutation caught: global options only honoured before the command (or only after it).
    --json before the command, between family and sub-command, between options and at the end
    all give the same JSON audit document; --version anywhere prints the version (exit 0)."""
    ref = offline_json('--json', 'pci', 'audit', '--dump', DUMP)
    for args in (['pci', '--json', 'audit', '--dump', DUMP],
                 ['pci', 'audit', '--json', '--dump', DUMP],
                 ['pci', 'audit', '--dump', DUMP, '--json'],
                 ['--no-ask-password', 'pci', 'audit', f'--dump={DUMP}', '--no-ask-password', '--json']):
        assert offline_json(*args) == ref, args
    for args in (['--version'], ['pci', '--version'], ['pci', 'audit', '--dump', DUMP, '--version']):
        p = run(*args, env=NOBUS)
        assert p.returncode == 0 and p.stdout.startswith('hwsecctl ') and len(p.stdout.splitlines()) == 1, args


def test_double_dash_ends_options_offline():
    """Mutation caught: '--' ignored or passed on as a word. After '--', '--json' and '--dump'
    are positional words (exit 2, "unexpected argument"), not options; before '--' they still
    work, and the positional ADDRESS after '--' is used (pci check: exit 0 or 1, the verdict
    for that address in the JSON)."""
    p = run('pci', 'audit', '--dump', DUMP, '--', '--json', env=NOBUS)
    assert p.returncode == 2 and "hwsecctl pci audit: unexpected argument '--json'." in p.stderr
    p = run('pci', 'audit', '--', '--dump', DUMP, env=NOBUS)
    assert p.returncode == 2 and "unexpected argument '--dump'" in p.stderr
    p = run('pci', 'check', '--json', '--dump', DUMP, '--', '0000:03:00.0', env=NOBUS)
    assert p.returncode in (0, 1), p.stderr
    assert json.loads(p.stdout)['address'] == '0000:03:00.0'


def test_daemon_verbs_global_options_anywhere(host, bus, daemon):
    """The same against the real daemon: 'psp --json' (docs/psp.md), '--json psp', 'asid --json
    explain' and 'asid explain --json' give the same documents; 'status --json' is Describe().
    (Held before the redesign too: this guards documented command lines against the new parser.)"""
    daemon(host)
    docs = []
    for args in (['psp', '--json'], ['--json', 'psp'], ['psp', '--no-ask-password', '--json']):
        p = run(*args, host=host)
        assert p.returncode == 0, p.stderr
        docs.append(json.loads(p.stdout))
    assert docs[0] == docs[1] == docs[2] and 'Present' in docs[0]
    a = run('asid', '--json', 'explain', host=host)
    b = run('asid', 'explain', '--json', host=host)
    assert a.returncode == b.returncode == 0
    assert json.loads(a.stdout) == json.loads(b.stdout)
    assert 'explanation' in json.loads(a.stdout)
    p = run('status', '--json', host=host)
    assert p.returncode == 0 and 'version' in json.loads(p.stdout)


def test_daemon_opt_equals_value(host, bus, polkit, daemon):
    """asid set-policy --ciphertext-hiding=64 --quota=CG:sev=3 --dry-run gives the same
    ValidatePolicy answer as the spaced form (ciphertext_hiding_asids 64, acceptable), and a
    bad value after '=' is still refused (exit 2). (set-policy already used getopt_long: this
    guards its behaviour through the shared helper.)"""
    daemon(host)
    a = run('asid', 'set-policy', '--ciphertext-hiding', '64', '--quota', 'vms:sev=3', '--dry-run', '--json', host=host)
    b = run('asid', 'set-policy', '--ciphertext-hiding=64', '--quota=vms:sev=3', '--dry-run', '--json', host=host)
    assert a.returncode == b.returncode, (a.stderr, b.stderr)
    ja, jb = json.loads(a.stdout), json.loads(b.stdout)
    assert ja == jb and jb['dry_run'] is True and jb['ciphertext_hiding_asids'] == 64
    p = run('asid', 'set-policy', '--ciphertext-hiding=-5', '--dry-run', host=host)
    assert p.returncode == 2 and "'-5'" in p.stderr


def test_double_dash_stages_a_file_named_like_an_option(host, bus, polkit, daemon, tmp_path):
    """'--' is the way to give a file whose name starts with '-': `firmware stage --name N --
    -pkg.sbin` stages it (exit 0, the staged bytes and sha256 match); without '--' the same
    word is an unknown option (exit 2) and nothing is staged."""
    daemon(host)
    polkit.allow('org.hwsecd1.stage-firmware')
    data = b'\x5a' * 2048
    (tmp_path / '-pkg.sbin').write_bytes(data)
    staged = host.root / 'firmware' / 'amd' / 'dash.sbin'
    p = run('firmware', 'stage', '--name', 'dash.sbin', '-pkg.sbin', host=host, cwd=tmp_path)
    assert p.returncode == 2 and "unknown option '-p'" in p.stderr
    assert not staged.exists()
    p = run('firmware', 'stage', '--name=dash.sbin', '--json', '--', '-pkg.sbin', host=host, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert staged.read_bytes() == data
    assert json.loads(p.stdout) == {'name': 'dash.sbin', 'sha256': hashlib.sha256(data).hexdigest()}
