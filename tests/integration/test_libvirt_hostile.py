"""Hostile input to hwsecd-libvirt-hook: whatever arrives on stdin or in argv, the hook never
crashes (exit 0 or 1 only, no signal, ASan/UBSan clean under the sanitizer build), never judges
something it could not read as safe without saying so, and keeps every stderr line on one line
with the "hwsecd: " prefix."""

import pytest

from test_libvirt_hook import HOOK, domxml, lines, refused, run_hook

if not HOOK.exists():
    # The suite needs the hook (scripts/test installs libxml2-dev): a build without it is a
    # failure here, not a quiet skip of every hook test.
    pytest.fail(f'{HOOK} was not built (libxml2-dev missing, or -Dlibvirt_hook=disabled)', pytrace=False)

GARBAGE = {
    'empty': b'',
    'text': b'garbage\n',
    'binary': bytes(range(256)) * 4,
    'nul-in-xml': b"<domain><name>a\x00b</name></domain>",
    'not-a-domain': b"<network><name>default</name></network>",
    'truncated': domxml.domain(hostdevs=['0000:03:00.0']).encode()[:300],
    'deep': b'<domain>' + b'<a>' * 5000 + b'</a>' * 5000 + b'</domain>',
    'billion-laughs': (b"<?xml version='1.0'?><!DOCTYPE d [<!ENTITY a 'aaaaaaaaaa'>"
                       + b''.join(b"<!ENTITY %c '&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;'>" % ((98 + i,) + (97 + i,) * 10)
                                  for i in range(9))
                       + b"]><domain><name>&j;</name></domain>"),
}


@pytest.mark.parametrize('name', sorted(GARBAGE))
def test_garbage_stdin_allows_with_warning(host, bus, name):
    """8 kinds of unreadable stdin (empty, text, binary, NUL, a <network>, a truncated domain,
    5000-deep nesting, nested entities): exit 0, exactly one warning line that says "not
    checked", nothing on stdout, no connection needed."""
    p = run_hook(host, GARBAGE[name])
    assert p.returncode == 0, p.stderr
    out = lines(p)
    assert len(out) == 1 and ': warning: ' in out[0] and 'not checked' in out[0], out
    assert p.stdout == b''


def test_oversized_stdin(host, bus):
    """17 MiB on stdin (above the 16 MiB limit): read in full, then exit 0 with a warning."""
    p = run_hook(host, b'<domain>' + b' ' * (17 << 20) + b'</domain>')
    assert p.returncode == 0
    assert 'larger than 16 MiB' in lines(p)[0]


def test_external_entity_is_not_read(host, bus, tmp_path):
    """An external entity in <name> pointing at a file with a hostdev: never expanded (no
    XML_PARSE_NOENT, no DTD loading), so the only thing judged is the literal XML."""
    secret = tmp_path / 'secret'
    secret.write_text('SECRET-CONTENT')
    xml = (f"<?xml version='1.0'?><!DOCTYPE domain [<!ENTITY x SYSTEM 'file://{secret}'>]>"
           f"<domain><name>&x;</name></domain>")
    p = run_hook(host, xml)
    assert p.returncode == 0
    assert b'SECRET-CONTENT' not in p.stderr + p.stdout


def test_control_characters_in_guest_name(host, daemon):
    """A guest name with a newline and an escape sequence cannot forge a second log line: the
    refusal is still one line per reason (1 here), the control bytes shown as '?'."""
    daemon(host)
    p = run_hook(host, domxml.domain(hostdevs=['0000:03:00.0']), guest='evil\nhwsecd: guest \x1b[2J')
    assert p.returncode == 1
    out = lines(p)
    assert len(refused(p)) == 1
    assert out[0].startswith("hwsecd: guest 'evil?hwsecd: guest ?[2J': ")


@pytest.mark.parametrize('attrs', [
    "domain='0x0000' bus='0x100' slot='0x00' function='0x0'",
    "domain='0x0000' bus='0x03' slot='0x20' function='0x0'",
    "domain='0x0000' bus='0x03' slot='0x00' function='0x8'",
    "domain='0x0000' bus='-3' slot='0x00' function='0x0'",
    "domain='0x0000' bus='0x03' slot='0x00'",
    "domain='0x1ffffffff' bus='0x03' slot='0x00' function='0x0'",
    "domain='0x0000' bus='0x03 ' slot='0x00' function='0x0'",
])
def test_bad_source_addresses_warn(host, daemon, attrs):
    """7 malformed host addresses (bus 0x100, slot 0x20, function 8, negative, missing function,
    domain above 32 bits, trailing space): one warning naming the <hostdev>, the device is not
    asked about, and a well-formed 0000:03:00.0 next to it is still refused."""
    daemon(host)
    xml = domxml.domain(hostdevs=['0000:03:00.0']).replace(
        "    <memballoon", f"    <hostdev mode='subsystem' type='pci'><source><address {attrs}/></source></hostdev>\n"
                           "    <memballoon")
    p = run_hook(host, xml)
    assert p.returncode == 1
    warn = [x for x in lines(p) if ': warning: ' in x]
    assert len(warn) == 1 and "<hostdev type='pci'>" in warn[0], lines(p)
    assert len(refused(p)) == 1 and '0000:03:00.0' in refused(p)[0]


def test_interface_hostdev_is_judged(host, daemon):
    """<interface type='hostdev'> also hands a host PCI device to the guest (SR-IOV VFs): the
    same rule refuses 0000:04:00.0 given that way."""
    daemon(host)
    xml = domxml.domain().replace("    <memballoon", "    <interface type='hostdev' managed='yes'><source>"
                                  "<address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>"
                                  "</source></interface>\n    <memballoon")
    p = run_hook(host, xml)
    assert p.returncode == 1
    assert 'PCI device 0000:04:00.0 is not isolated' in refused(p)[0]


def test_unparsable_policy_is_checked_as_sev_es(host, daemon):
    """<policy>zz</policy> on type='sev': checked against the stricter SEV-ES pool (which genoa
    has none of), with a warning, rather than passed as plain SEV."""
    daemon(host)
    p = run_hook(host, domxml.domain(launch_security='sev', policy='zz'))
    assert p.returncode == 1
    assert any('checked as SEV-ES' in x for x in lines(p))


@pytest.mark.parametrize('argv', [[], ['only-a-name'], ['g', 'prepare'], ['g', 'prepare', 'begin', '-', 'extra']])
def test_odd_argv(host, bus, argv):
    """0 to 5 arguments: 'prepare begin' with an extra argument is still judged (an unreadable
    XML: warning, exit 0); anything shorter exits 0 at once without output."""
    import subprocess
    p = subprocess.run([str(HOOK)] + argv, input=b'garbage', capture_output=True)
    assert p.returncode == 0
    assert (p.stderr != b'') == (len(argv) == 5)


def test_query_half_missing(host, bus, tmp_path):
    """The hook copied without hwsecd-libvirt-query next to it: a guest with a hostdev is 'not
    checked' (cannot run the query half), allowed by default and refused with
    [libvirt] unreachable=deny; a plain guest never needs the query half (exit 0, no such line)."""
    import shutil
    import subprocess
    lone = tmp_path / 'hwsecd-libvirt-hook'
    shutil.copy(HOOK, lone)
    env = dict(host.env)
    env.pop('UMOCKDEV_DIR', None)

    def go(xml):
        return subprocess.run([str(lone), 'g', 'prepare', 'begin', '-'], input=xml.encode(), capture_output=True,
                              env=dict(__import__('os').environ, **env))

    p = go(domxml.domain(hostdevs=['0000:03:00.0']))
    assert p.returncode == 0
    assert any('not checked: cannot run hwsecd-libvirt-query' in x for x in lines(p)), lines(p)
    host.config('[libvirt]\nunreachable=deny\n')
    p = go(domxml.domain(hostdevs=['0000:03:00.0']))
    assert p.returncode == 1
    assert 'unreachable=deny' in refused(p)[0]
    p = go(domxml.domain())
    assert p.returncode == 0 and b'hwsecd-libvirt-query' not in p.stderr
