"""The PSP operation core (psp-ops.c, snp-config.c, vcek.c) against the simulated kernel:
build/tests/psp-ops-tool opens the umockdev /dev/sev and calls the core, sim_psp.py answers
SEV_GET_ID2, SNP_COMMIT and SNP_SET_CONFIG with the kernel's layouts, errors and permission
checks, and keeps their effects for SNP_PLATFORM_STATUS."""

import errno
import json
import os
import subprocess

import pytest

import sim_psp
from conftest import BUILD, scaled

TOOL = BUILD / 'tests' / 'psp-ops-tool'

GENOA_TCB = sim_psp.GENOA_TCB           # BL=4 TEE=3 SNP=24 uCode=219
TURIN_TCB = sim_psp.TURIN_TCB           # FMC=1 BL=2 TEE=3 SNP=5 uCode=74
OLDER_GENOA = 0xda17000000000203        # BL=3 TEE=2 SNP=23 uCode=218


def tool(host, *args):
    env = dict(os.environ, **host.env)
    env.setdefault('ASAN_OPTIONS', 'verify_asan_link_order=0:detect_leaks=1')
    p = subprocess.run([str(TOOL), '/dev/sev'] + [str(a) for a in args], env=env, capture_output=True,
                       text=True, timeout=scaled(60))
    assert p.returncode in (0, 1), f'psp-ops-tool {args} exited {p.returncode}\n{p.stdout}\n{p.stderr}'
    return json.loads(p.stdout)


def snp_status(host):
    """What the simulated firmware answers to SNP_PLATFORM_STATUS now, read through the kernel
    interface (the ioctl from this process), not from the simulator's dict."""
    import fcntl
    import struct
    import ctypes
    buf = ctypes.create_string_buffer(32)
    cmd = struct.pack('<IQI', sim_psp.SNP_PLATFORM_STATUS, ctypes.addressof(buf), 0)
    arg = bytearray(cmd)
    fd = os.open('/dev/sev', os.O_RDONLY)
    try:
        fcntl.ioctl(fd, sim_psp.SEV_ISSUE_CMD, arg)
    finally:
        os.close(fd)
    f = struct.unpack('<BBBBIIIQQ', buf.raw)
    return dict(state=f[2], flags=f[5], current_tcb=f[7], reported_tcb=f[8])


@pytest.fixture(autouse=True)
def built():
    if not TOOL.exists():
        pytest.fail(f'{TOOL} is not built (ninja -C {BUILD})')


def test_get_id2_genoa(host):
    """GET_ID2 on Genoa: the core's 64-byte first ask is enough; the chip id comes back in
    upper-case hex, 128 digits, bytes 0x40..0x7f as the simulator's firmware holds them."""
    r = tool(host, 'id')
    assert r['ok'], r
    assert r['length'] == 64
    assert r['chip_id'] == bytes(range(0x40, 0x80)).hex().upper()
    calls = sim_psp.ops_calls(host)
    assert [(c['cmd'], c['length'], c['errno']) for c in calls] == [(sim_psp.SEV_GET_ID2, 64, 0)]


def test_get_id2_longer_id_negotiated():
    """A firmware with an 80-byte id: the first ask (64) gets INVALID_LEN with 80 written back,
    the core asks again with 80 bytes and gets the whole id (the kernel's length negotiation)."""
    from simhost import SimHost
    h = SimHost('genoa', chip_id=bytes(range(1, 81)))
    try:
        r = tool(h, 'id')
        assert r['ok'], r
        assert r['length'] == 80
        assert r['chip_id'] == bytes(range(1, 81)).hex().upper()
        calls = sim_psp.ops_calls(h)
        assert [(c['length'], c['errno'], c['fw_error']) for c in calls] == [
            (64, errno.EIO, sim_psp.SEV_RET_INVALID_LEN), (80, 0, 0)]
    finally:
        h.close()


def test_get_id2_old_api(host):
    """API 0.15 firmware: the kernel's ENOTSUPP (524) is named NOT_SUPPORTED, not a bare errno."""
    sim_psp.set_status(host, sev=dict(api_major=0, api_minor=15))
    r = tool(host, 'id')
    assert not r['ok']
    assert r['name'] == 'NOT_SUPPORTED'
    assert r['errno'] == -sim_psp.KERNEL_ENOTSUPP


@pytest.mark.parametrize('profile,url', [
    ('genoa', 'https://kdsintf.amd.com/vcek/v1/Genoa/' + bytes(range(0x40, 0x80)).hex().upper()
     + '?blSPL=04&teeSPL=03&snpSPL=24&ucodeSPL=219'),
    ('milan', 'https://kdsintf.amd.com/vcek/v1/Milan/' + bytes(range(0x80, 0xc0)).hex().upper()
     + '?blSPL=03&teeSPL=02&snpSPL=20&ucodeSPL=209'),
    ('turin', 'https://kdsintf.amd.com/vcek/v1/Turin/C0C1C2C3C4C5C6C7'
     '?fmcSPL=01&blSPL=02&teeSPL=03&snpSPL=05&ucodeSPL=74'),
])
def test_vcek_url(host, profile, url):
    """VCEK URL per generation from CPUID (family/model), GET_ID2 and the REPORTED TCB of
    SNP_PLATFORM_STATUS: product name, Turin's 8-byte hwid and fmcSPL first, two-digit SPLs."""
    h = host.make(profile)
    r = tool(h, 'vcek-url')
    assert r == {'ok': True, 'url': url}


def test_vcek_url_uses_reported_not_current(host):
    """The URL carries the REPORTED TCB (what guests' reports show): with reported 0xda17...0203
    below current, the SPLs are 03/02/23/218, not the current 04/03/24/219."""
    sim_psp.set_status(host, snp=dict(reported_tcb=OLDER_GENOA))
    r = tool(host, 'vcek-url')
    assert r['ok'], r
    assert r['url'].endswith('?blSPL=03&teeSPL=02&snpSPL=23&ucodeSPL=218')


def test_vcek_url_masked(host):
    """mask_chip_id set: the core refuses with CHIP_ID_MASKED instead of a URL with a wrong id."""
    sim_psp.set_status(host, snp=dict(flags=sim_psp.MASK_CHIP_ID))
    r = tool(host, 'vcek-url')
    assert not r['ok'] and r['name'] == 'CHIP_ID_MASKED'


def test_vcek_url_zero_id(host):
    """A firmware that hands out an all-zero id (masked without the status bit): CHIP_ID_ZERO."""
    h = host.make('genoa', chip_id=bytes(64))
    r = tool(h, 'vcek-url')
    assert not r['ok'] and r['name'] == 'CHIP_ID_ZERO'


def test_commit_after_update(host):
    """After an update current (0xdb18...0304) is above reported (0xda17...0203): SNP_COMMIT
    on a read-only fd (the kernel has no write check for it) moves reported up to current and
    records the committed TCB; SNP_PLATFORM_STATUS shows it afterwards."""
    sim_psp.set_status(host, snp=dict(reported_tcb=OLDER_GENOA), committed_tcb=OLDER_GENOA)
    assert snp_status(host)['reported_tcb'] == OLDER_GENOA
    r = tool(host, 'commit')
    assert r == {'ok': True}
    st = snp_status(host)
    assert st['reported_tcb'] == GENOA_TCB and st['current_tcb'] == GENOA_TCB
    assert sim_psp.committed_tcb(host) == GENOA_TCB
    assert [c['cmd'] for c in sim_psp.ops_calls(host)] == [sim_psp.SNP_COMMIT]


def test_commit_snp_uninit(host):
    """SNP not initialised: the kernel's EINVAL becomes SNP_NOT_INITIALIZED; nothing committed."""
    h = host.make('snp-uninit')
    before = sim_psp.committed_tcb(h)
    r = tool(h, 'commit')
    assert not r['ok'] and r['name'] == 'SNP_NOT_INITIALIZED' and r['errno'] == -errno.EINVAL
    assert sim_psp.committed_tcb(h) == before


def test_commit_firmware_error(host):
    """The firmware refuses (EIO, status 0x01): named INVALID_PLATFORM_STATE with fw_code 1."""
    h = host.make('genoa', ops_errno={sim_psp.SNP_COMMIT: errno.EIO}, fw_error=0x01)
    r = tool(h, 'commit')
    assert not r['ok'] and r['name'] == 'INVALID_PLATFORM_STATE' and r['fw_code'] == 1


def test_set_config_current_and_masks(host):
    """reported_tcb "current" with mask_chip_key=1 on a writable fd: the 64-byte struct carries
    0xdb18...0304 and flags 0x2; SNP_PLATFORM_STATUS then shows that TCB and the mask bit, and
    mask_chip_id stays clear (kept from the status)."""
    sim_psp.set_status(host, snp=dict(reported_tcb=OLDER_GENOA))
    r = tool(host, 'set-config', 'current', '-', '1')
    assert r['ok'], r
    calls = sim_psp.ops_calls(host)
    assert [(c['cmd'], c['writable'], c['reported_tcb'], c['flags']) for c in calls] == [
        (sim_psp.SNP_SET_CONFIG, True, GENOA_TCB, sim_psp.MASK_CHIP_KEY)]
    st = snp_status(host)
    assert st['reported_tcb'] == GENOA_TCB
    assert st['flags'] & (sim_psp.MASK_CHIP_ID | sim_psp.MASK_CHIP_KEY) == sim_psp.MASK_CHIP_KEY


def test_set_config_parts_turin(host):
    """Turin parts form fmc=1,bl=2,tee=3,snp=4,ucode=74 (SNP one below current) is sent as
    0x4a00000004030201 and read back from SNP_PLATFORM_STATUS."""
    h = host.make('turin')
    r = tool(h, 'set-config', 'fmc=1,bl=2,tee=3,snp=4,ucode=74', '-', '-')
    assert r['ok'], r
    assert r['sent_reported_tcb'] == '0x4a00000004030201'
    assert snp_status(h)['reported_tcb'] == 0x4a00000004030201


def test_set_config_above_current_refused_before_sending(host):
    """snp=25 over the current 24: TCB_ABOVE_CURRENT from the core, and no SNP_SET_CONFIG
    reaches the (simulated) kernel."""
    r = tool(host, 'set-config', 'bl=4,tee=3,snp=25,ucode=219', '-', '-')
    assert not r['ok'] and r['name'] == 'TCB_ABOVE_CURRENT'
    assert 'snp=25' in r['message']
    assert sim_psp.ops_calls(host) == []


def test_set_config_read_only_fd(host):
    """SNP_SET_CONFIG on a read-only fd: the kernel's EPERM, named NOT_WRITABLE; state unchanged."""
    sim_psp.set_status(host, snp=dict(reported_tcb=OLDER_GENOA))
    r = tool(host, 'set-config-ro', 'current', '-', '-')
    assert not r['ok'] and r['name'] == 'NOT_WRITABLE' and r['errno'] == -errno.EPERM
    assert [c['writable'] for c in sim_psp.ops_calls(host)] == [False]
    assert snp_status(host)['reported_tcb'] == OLDER_GENOA


def test_set_config_snp_uninit(host):
    """SNP not initialised: the core refuses from the SNP status before opening for write
    (SNP_STATUS EINVAL, named SNP_NOT_INITIALIZED); nothing is sent."""
    h = host.make('snp-uninit')
    r = tool(h, 'set-config', 'current', '-', '-')
    assert not r['ok'] and r['name'] == 'SNP_NOT_INITIALIZED'
    assert sim_psp.ops_calls(h) == []


def test_set_config_firmware_refusal(host):
    """The firmware refusing the config (EIO, INVALID_PARAM 0x16) is named INVALID_PARAM."""
    h = host.make('genoa', ops_errno={sim_psp.SNP_SET_CONFIG: errno.EIO}, fw_error=0x16)
    r = tool(h, 'set-config', '-', '1', '-')
    assert not r['ok'] and r['name'] == 'INVALID_PARAM' and r['fw_code'] == 0x16
