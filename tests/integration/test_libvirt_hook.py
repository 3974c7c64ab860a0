"""hwsecd-libvirt-hook as libvirt runs it: argv GUEST OPERATION SUB-OPERATION EXTRA, the domain
XML on stdin, against the real hwsecd on the simulated genoa host (a switch without ACS above
0000:03:00.0, 0000:04:00.0 and 0000:05:00.0; 0000:06:00.0 alone; 0000:00:1f.{0,2,3} in one kernel
group; ciphertext hiding gives all 99 joint ASIDs to SNP). docs/libvirt.md describes the rules."""

import os
import pathlib
import signal
import socket
import subprocess
import sys

import pytest

from conftest import BUILD, scaled

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / 'libvirt'))
import domxml  # noqa: E402

HOOK = BUILD / 'libvirt' / 'hwsecd-libvirt-hook'
UNSAFE = ('0000:03:00.0', '0000:04:00.0', '0000:05:00.0')

if not HOOK.exists():
    # The suite needs the hook (scripts/test installs libxml2-dev): a build without it is a
    # failure here, not a quiet skip of every hook test.
    pytest.fail(f'{HOOK} was not built (libxml2-dev missing, or -Dlibvirt_hook=disabled)', pytrace=False)


def run_hook(host, xml, op='prepare', sub='begin', guest='guest', env=None, timeout=60):
    e = dict(os.environ)
    if host is not None:
        e.update(host.env)
    e.setdefault('ASAN_OPTIONS', 'verify_asan_link_order=0:detect_leaks=1')
    if env:
        e.update(env)
    data = xml if isinstance(xml, bytes) else xml.encode()
    return subprocess.run([str(HOOK), guest, op, sub, '-'], input=data, capture_output=True, env=e,
                          timeout=scaled(timeout))


def lines(p):
    out = p.stderr.decode(errors='replace').splitlines()
    assert all(x.startswith('hwsecd: ') for x in out), out
    return out


def refused(p):
    return [x for x in lines(p) if ': refused: ' in x]


def test_unsafe_device_alone_is_refused(host, daemon):
    """A guest given 0000:03:00.0 alone (the switch 0000:01:00.0 has no ACS): exit 1, and the
    reason names the device, the downstream port without ACS (0000:02:00.0), both devices that
    must move with it (04:00.0, 05:00.0), and the two ways out. Bridges are not asked for."""
    daemon(host)
    p = run_hook(host, domxml.domain('vm1', hostdevs=['0000:03:00.0']), guest='vm1')
    assert p.returncode == 1, p.stderr
    r = refused(p)
    assert len(r) == 1, r
    assert r[0].startswith("hwsecd: guest 'vm1': refused: PCI device 0000:03:00.0 is not isolated (hwsecd verdict: unsafe)")
    assert 'downstream port 0000:02:00.0 has no ACS capability' in r[0]
    assert 'It must move with 0000:04:00.0 and 0000:05:00.0, which are not given to this guest' in r[0]
    assert 'or keep 0000:03:00.0 on the host' in r[0]
    assert '0000:01:00.0 and' not in r[0] and 'bind it to vfio-pci' not in r[0]
    assert p.stdout == b''


def test_whole_set_given_together_is_allowed(host, daemon):
    """The three devices behind the ACS-less switch given to one guest: the set is isolated as a
    whole, so exit 0, and each of the 3 devices logs that it came with its companions."""
    daemon(host)
    p = run_hook(host, domxml.domain('vm2', hostdevs=UNSAFE), guest='vm2')
    assert p.returncode == 0, p.stderr
    out = lines(p)
    together = [x for x in out if 'isolated as a whole' in x]
    assert len(together) == 3, out
    assert 'hwsecd verdict: unsafe alone' in together[0]
    assert out[-1] == "hwsecd: guest 'vm2': allowed: every check passed"


def test_two_of_three_is_still_refused(host, daemon):
    """03:00.0 and 04:00.0 together but not 05:00.0: both are refused, each naming only 05:00.0."""
    daemon(host)
    p = run_hook(host, domxml.domain(hostdevs=UNSAFE[:2]))
    assert p.returncode == 1
    r = refused(p)
    assert len(r) == 2, r
    assert all('It must move with 0000:05:00.0, which is not given' in x for x in r), r


def test_isolated_device_is_allowed(host, daemon):
    """0000:06:00.0 is alone in kernel group 8 and nobody reaches it: exit 0 (its e1000e driver
    does not matter, libvirt rebinds managed devices)."""
    daemon(host)
    p = run_hook(host, domxml.domain(hostdevs=['0000:06:00.0']))
    assert p.returncode == 0, p.stderr
    assert "hwsecd: guest 'guest': checked: PCI device 0000:06:00.0 is isolated." in lines(p)


def test_shared_group_needs_all_members(host, daemon):
    """0000:00:1f.2 shares kernel group 3 with 1f.0 and 1f.3 (verdict shared): alone it is
    refused naming both; with both it is allowed."""
    daemon(host)
    p = run_hook(host, domxml.domain(hostdevs=['0000:00:1f.2']))
    assert p.returncode == 1
    assert 'It must move with 0000:00:1f.0 and 0000:00:1f.3' in refused(p)[0]
    assert '(hwsecd verdict: shared)' in refused(p)[0]
    p = run_hook(host, domxml.domain(hostdevs=['0000:00:1f.2', '0000:00:1f.0', '0000:00:1f.3']))
    assert p.returncode == 0, p.stderr


@pytest.mark.parametrize('name,code,needle', [
    ('hostdev-vfio.xml', 1, 'PCI device 0000:06:12.1 is not on this host\'s PCI bus (org.hwsecd1.Error.NotFound'),
    ('hostdev-pci-address.xml', 1, '0000:06:12.5 is not on this host\'s PCI bus (org.hwsecd1.Error.NotFound'),
    ('hostdev-pci-address-device.xml', 1, '0000:06:12.5 is not on this host\'s PCI bus'),
    ('hostdev-vfio-multidomain.x86_64-latest.xml', 1, '0021:de:1f.1 is not on this host\'s PCI bus'),
    ('launch-security-sev-snp.xml', 0, 'SEV-SNP ASID pool 1-99: 99 of 99 free.'),
    ('launch-security-sev-snp.x86_64-latest.xml', 0, 'SEV-SNP readiness checks pass.'),
    ('launch-security-sev.xml', 0, 'SEV ASID pool 100-1006: 907 of 907 free.'),
])
def test_libvirt_test_suite_xmls(host, daemon, name, code, needle):
    """libvirt's own test XMLs (tests/fixtures/libvirt): their host devices (06:12.x, 0021:de:1f.1)
    do not exist on the simulated host, so NotFound refuses them by name (all 4 of hostdev-vfio);
    the SNP guests find 99 free SNP ASIDs and passing readiness checks; plain SEV (policy 0x0001)
    draws from the 907-ASID SEV pool."""
    daemon(host)
    p = run_hook(host, (domxml.FIXTURES / name).read_bytes(), guest='QEMUGuest1')
    assert p.returncode == code, p.stderr
    assert needle in p.stderr.decode(), p.stderr
    if name == 'hostdev-vfio.xml':
        assert len(refused(p)) == 4


def test_snp_pool_full_is_refused(host, daemon):
    """misc.current sev_es 99 and 99 SNP guests (SNP_PLATFORM_STATUS): all 99 SNP ASIDs are in use. The reason
    names the pool, its range 1-99, its use and the fix."""
    h = host.make('genoa', misc_current=(0, 99), snp=dict(guest_count=99))
    daemon(h)
    p = run_hook(h, domxml.domain(launch_security='sev-snp'))
    assert p.returncode == 1, p.stderr
    r = refused(p)
    assert len(r) == 1
    assert 'No free SEV-SNP ASID: all 99 ASIDs of the SEV-SNP pool (1-99) are in use (99 used)' in r[0]
    assert 'raise kvm_amd ciphertext_hiding_asids' in r[0]


def test_sev_es_without_asids_is_refused(host, daemon):
    """type='sev' with the ES bit (policy 0x0005): on genoa ciphertext hiding gives all 99 joint
    ASIDs to SNP, so the SEV-ES pool is unusable. Without the ES bit (0x0001) the same guest
    gets a plain SEV ASID."""
    daemon(host)
    p = run_hook(host, domxml.domain(launch_security='sev', policy='0x0005'))
    assert p.returncode == 1, p.stderr
    r = refused(p)[0]
    assert 'SEV-ES has no ASIDs because ciphertext hiding gives all 99 joint ASIDs to SNP.' in r
    assert 'Lower kvm_amd ciphertext_hiding_asids (now 99' in r
    p = run_hook(host, domxml.domain(launch_security='sev', policy='0x0001'))
    assert p.returncode == 0, p.stderr


def test_sev_es_with_free_asids_is_allowed(host, daemon):
    """Without ciphertext hiding the SEV-ES pool is 1-99 and has free ASIDs: an ES guest starts."""
    h = host.make('genoa', kvm_amd=dict(ciphertext_hiding_asids=0))
    daemon(h)
    p = run_hook(h, domxml.domain(launch_security='sev', policy='0x0004'))
    assert p.returncode == 0, p.stderr
    assert 'SEV-ES ASID pool 1-99' in p.stderr.decode()


def test_snp_readiness_failure_is_refused(host, daemon):
    """snp-uninit: SNP_PLATFORM_STATUS says EINVAL (SNP not initialised): the SNP guest is refused
    with the failing check's id and fix; a plain SEV guest on the same host is not."""
    h = host.make('snp-uninit')
    daemon(h)
    p = run_hook(h, domxml.domain(launch_security='sev-snp'))
    assert p.returncode == 1, p.stderr
    assert any('check platform.snp-init' in x for x in refused(p)), p.stderr
    p = run_hook(h, domxml.domain(launch_security='sev', policy='0x0001'))
    assert p.returncode == 0, p.stderr


def test_256_vcpus_warn_but_start(host, daemon):
    """256 vCPUs on an AMD host (AuthenticAMD in /proc/cpuinfo): exit 0 with one warning naming
    the APIC ID mismatch and the guest fix; x2apic disabled in <cpu> is called out. 255 vCPUs,
    or a non-AMD host, give no warning. No bus is needed for this rule."""
    p = run_hook(host, domxml.domain(vcpus=256, x2apic_off=True), env={'DBUS_SYSTEM_BUS_ADDRESS': 'unix:path=/nonexistent'})
    assert p.returncode == 0
    warn = [x for x in lines(p) if ': warning: ' in x]
    assert len(warn) == 1, lines(p)
    assert 'The guest has 256 vCPUs' in warn[0] and 'APIC ID mismatch' in warn[0]
    assert 'x86/cpu/topology: Work around the nuances of virtualization on AMD/Hygon' in warn[0]
    assert "disables it" in warn[0]
    p = run_hook(host, domxml.domain(vcpus=255))
    assert p.returncode == 0 and not [x for x in lines(p) if ': warning: ' in x]
    host.write('proc/cpuinfo', 'processor\t: 0\nvendor_id\t: GenuineIntel\n\n')
    p = run_hook(host, domxml.domain(vcpus=256))
    assert p.returncode == 0 and not [x for x in lines(p) if ': warning: ' in x]


OPERATIONS = [('start', 'begin'), ('started', 'begin'), ('stopped', 'end'), ('release', 'end'),
              ('reconnect', 'begin'), ('migrate', 'begin'), ('restore', 'begin'), ('attach', 'begin'),
              ('prepare', 'end'), ('frobnicate', 'sideways')]


@pytest.mark.parametrize('op,sub', OPERATIONS)
def test_other_operations_always_pass(host, daemon, op, sub):
    """Every operation but 'prepare begin' (including reconnect, which would kill a running
    guest, the migrate/restore filters and an unknown one) exits 0 and prints nothing on stdout
    or stderr, even for the refused XML: the filters leave libvirt's XML unchanged."""
    daemon(host)
    p = run_hook(host, domxml.domain(hostdevs=['0000:03:00.0'], launch_security='sev', policy='0x0005'), op=op,
                 sub=sub)
    assert (p.returncode, p.stdout, p.stderr) == (0, b'', b'')


def test_unreachable_default_allows(host, bus):
    """No hwsecd on the bus (the bus is up): exit 0, and stderr says it was not checked and why."""
    p = run_hook(host, domxml.domain(hostdevs=['0000:03:00.0']))
    assert p.returncode == 0
    out = lines(p)
    assert any(': not checked: CheckAssignable: org.freedesktop.DBus.Error.ServiceUnknown' in x for x in out), out
    assert 'unreachable=allow' in out[-1]


def test_unreachable_deny_refuses(host, bus):
    """[libvirt] unreachable=deny: the same start is refused, naming the setting and the fix;
    for a guest that needs nothing from hwsecd the setting does not matter."""
    host.config('[libvirt]\nunreachable=deny\n')
    p = run_hook(host, domxml.domain(hostdevs=['0000:06:00.0']))
    assert p.returncode == 1
    assert 'unreachable=deny' in refused(p)[0] and 'Start hwsecd' in refused(p)[0]
    p = run_hook(host, domxml.domain())
    assert p.returncode == 0


def test_hung_daemon_times_out(host, daemon):
    """hwsecd stopped with SIGSTOP: the call times out after [libvirt] timeout=1 and the
    unreachable setting decides (deny: exit 1), instead of blocking libvirtd."""
    d = daemon(host)
    host.config('[libvirt]\nunreachable=deny\ntimeout=1\n')
    os.kill(d.pid, signal.SIGSTOP)
    try:
        p = run_hook(host, domxml.domain(hostdevs=['0000:06:00.0']))
    finally:
        os.kill(d.pid, signal.SIGCONT)
    assert p.returncode == 1, p.stderr
    assert any('org.freedesktop.DBus.Error.' in x or 'Connection timed out' in x for x in lines(p)), lines(p)


def test_no_bus_connection_without_anything_to_judge(host, tmp_path):
    """A guest with no host PCI device and no SEV must not even connect to the bus: a listening
    socket as the system bus sees 0 connections; the SNP guest (control) connects once."""
    path = tmp_path / 'bus'
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(path))
    srv.listen(4)
    srv.setblocking(False)
    host.config('[libvirt]\ntimeout=1\n')
    env = {'DBUS_SYSTEM_BUS_ADDRESS': f'unix:path={path}'}
    p = run_hook(host, domxml.domain(vcpus=4), env=env)
    assert p.returncode == 0
    with pytest.raises(BlockingIOError):
        srv.accept()
    p = run_hook(host, domxml.domain(launch_security='sev-snp'), env=env)
    assert p.returncode == 0
    conn, _ = srv.accept()
    conn.close()
    srv.close()


def test_reads_only_no_polkit(host, daemon, polkit):
    """The hook only reads: with polkit denying everything the verdicts are the same, and polkit
    was asked 0 times."""
    polkit.deny_all()
    daemon(host)
    polkit.clear_calls()
    p = run_hook(host, domxml.domain(hostdevs=list(UNSAFE) + ['0000:06:00.0'], launch_security='sev-snp'))
    assert p.returncode == 0, p.stderr
    assert polkit.calls() == []
