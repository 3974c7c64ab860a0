"""SFS firmware servicing: versions, staging, refusals, update jobs against the /dev/sfs emulation."""

import json
import os
import signal
import subprocess
import tempfile
import time

import dbus
import pytest

import sim_sfs
from conftest import scaled
from fwutil import (ALL_ACTIONS, SignalWatcher, FW, FW_IFACE, JOB_IFACE, amd_listing, dbus_error, job_state, now_usec, schedule,
                    sha256, stage_file, state_doc, strings_of, wait_for, wait_state)

PKG = b'SFS package for the simulated host\n' * 100


# ---- versions ----

@pytest.mark.parametrize('profile', ['genoa', 'turin'])
def test_versions_read_at_start(host, bus, daemon, hwsecctl, profile):
    h = host.make(profile)
    d = daemon(h)
    assert d.get(FW, FW_IFACE, 'SfsPresent') is True or d.get(FW, FW_IFACE, 'SfsPresent') == 1
    v = d.get(FW, FW_IFACE, 'Versions')
    blob = sim_sfs.make_blob(profile, 1)
    assert v['Valid']
    assert bytes(bytearray(v['Blob'])) == blob
    assert v['Sha256'] == sha256(blob)
    assert v['Status'] == 'success' and v['StatusCode'] == 0
    assert f'hwsecd-sim {profile} ASP firmware 1.55.1' in strings_of(v)
    assert v['WrittenSize'] == len(blob.rstrip(b'\xc7'))
    assert h.sfs.versions_reads == 1

    out = json.loads(hwsecctl(h, 'firmware', 'versions', '--json', check=True).stdout)
    assert out['sfs_present'] is True
    assert out['versions']['Sha256'] == v['Sha256']
    assert bytes.fromhex(out['versions']['Blob']) == blob
    text = hwsecctl(h, 'firmware', 'versions', check=True).stdout
    assert v['Sha256'] in text and 'ASP firmware 1.55.1' in text


def test_no_sfs_device(host, bus, polkit, daemon, hwsecctl):
    h = host.make('milan')
    d = daemon(h)
    polkit.allow(*ALL_ACTIONS)
    assert not d.get(FW, FW_IFACE, 'SfsPresent')
    assert not d.get(FW, FW_IFACE, 'Versions')['Valid']
    stage_file(h, 'pkg', PKG)
    with pytest.raises(dbus.DBusException) as e:
        schedule(d, 'pkg')
    assert dbus_error(e.value) == 'org.hwsecd1.Error.NoDevice'
    assert 'absent' in hwsecctl(h, 'firmware', 'versions', check=True).stdout


def test_hotplug_remove_and_add(host, bus, daemon):
    d = daemon(host)
    assert d.get(FW, FW_IFACE, 'SfsPresent')
    sim_sfs.unplug(host)
    wait_for(lambda: not d.get(FW, FW_IFACE, 'SfsPresent'), what='SfsPresent false')
    assert not d.get(FW, FW_IFACE, 'Versions')['Valid']
    reads = host.sfs.versions_reads
    sim_sfs.replug(host)
    wait_for(lambda: d.get(FW, FW_IFACE, 'SfsPresent'), what='SfsPresent true')
    wait_for(lambda: d.get(FW, FW_IFACE, 'Versions')['Valid'], what='versions re-read')
    assert host.sfs.versions_reads > reads


# ---- staging ----

def test_stage_package_through_fd(host, bus, polkit, daemon, hwsecctl):
    d = daemon(host)
    polkit.allow('org.hwsecd1.stage-firmware')
    with tempfile.NamedTemporaryFile(dir=host.root, suffix='.sbin') as f:
        f.write(PKG)
        f.flush()
        out = json.loads(hwsecctl(host, 'firmware', 'stage', f.name, '--name', 'turin-sfs-1.2.sbin', '--json',
                                  check=True).stdout)
        assert out == {'name': 'turin-sfs-1.2.sbin', 'sha256': sha256(PKG)}
        staged = host.root / 'firmware' / 'amd' / 'turin-sfs-1.2.sbin'
        assert staged.read_bytes() == PKG
        assert not staged.is_symlink()
        # The same content again is fine; different content under that name is a conflict.
        assert hwsecctl(host, 'firmware', 'stage', f.name, '--name', 'turin-sfs-1.2.sbin').returncode == 0
        f.write(b'more')
        f.flush()
        p = hwsecctl(host, 'firmware', 'stage', f.name, '--name', 'turin-sfs-1.2.sbin')
        assert p.returncode == 1 and 'different package' in p.stderr
        assert staged.read_bytes() == PKG
    assert '0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a37' in d.log()
    assert [a for a, _f in polkit.calls()].count('org.hwsecd1.stage-firmware') >= 2


def test_stage_denied_writes_nothing(host, bus, polkit, daemon, hwsecctl):
    d = daemon(host)
    polkit.deny_all()
    src = host.write('src', PKG)
    before = amd_listing(host)
    with open(src, 'rb') as f:
        with pytest.raises(dbus.DBusException) as e:
            d.call(FW, FW_IFACE, 'StagePackage', dbus.types.UnixFd(f), 'new.sbin', signature='hs')
    assert dbus_error(e.value) == 'org.freedesktop.DBus.Error.AccessDenied'
    assert amd_listing(host) == before
    p = hwsecctl(host, 'firmware', 'stage', str(src), '--name', 'x.sbin')
    assert p.returncode == 3
    assert amd_listing(host) == before


BAD_NAMES = [
    ('../escape', 'must be a single file name'),
    ('a/b', 'must be a single file name'),
    ('/etc/passwd', 'must be a single file name'),
    ('.', "may not be '.' or '..'"),
    ('..', "may not be '.' or '..'"),
    ('x' * 64, 'longer than 63 bytes'),
    ('x' * 5000, 'longer than 63 bytes'),
    ('has space', 'only letters, digits'),
    ('caf\u00e9', 'only letters, digits'),
    ('', 'empty'),
]


@pytest.mark.parametrize('name,why', BAD_NAMES, ids=[n[:12] or 'empty' for n, _w in BAD_NAMES])
def test_stage_refuses_bad_names(host, bus, polkit, daemon, name, why):
    d = daemon(host)
    polkit.allow(*ALL_ACTIONS)
    src = stage_file(host, 'src', PKG)
    before = amd_listing(host)
    with open(src, 'rb') as f:
        with pytest.raises(dbus.DBusException) as e:
            d.call(FW, FW_IFACE, 'StagePackage', dbus.types.UnixFd(f), name, signature='hs')
    assert dbus_error(e.value) == 'org.hwsecd1.Error.InvalidArgument'
    assert why in str(e.value)
    assert amd_listing(host) == before
    with pytest.raises(dbus.DBusException) as e:
        schedule(d, name)
    assert dbus_error(e.value) == 'org.hwsecd1.Error.InvalidArgument'
    assert d.get(FW, FW_IFACE, 'Jobs') == []
    # Refused before polkit was asked.
    assert polkit.calls() == []


def test_client_refuses_names_dbus_cannot_carry(host, bus, polkit, daemon, hwsecctl):
    daemon(host)
    polkit.allow(*ALL_ACTIONS)
    src = stage_file(host, 'src', PKG)
    before = amd_listing(host)
    # Non-UTF-8: D-Bus strings cannot hold it; the client refuses it with the core library's rule.
    p = subprocess.run([str(hwsecctl.__globals__['HWSECCTL']), 'firmware', 'stage', str(src), '--name',
                        b'bad\xff\xfe'], env={**os.environ, **host.env}, capture_output=True)
    assert p.returncode == 2
    assert b'not valid UTF-8' in p.stderr
    assert amd_listing(host) == before


def test_stage_refuses_bad_files(host, bus, polkit, daemon):
    d = daemon(host)
    polkit.allow(*ALL_ACTIONS)
    before = amd_listing(host)
    fifo = host.root / 'fifo'
    os.mkfifo(fifo)
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        with pytest.raises(dbus.DBusException) as e:
            d.call(FW, FW_IFACE, 'StagePackage', dbus.types.UnixFd(fd), 'fifo.sbin', signature='hs')
        assert dbus_error(e.value) == 'org.hwsecd1.Error.InvalidArgument'
        assert 'not a regular file' in str(e.value)
    finally:
        os.close(fd)
    big = host.root / 'big'
    big.write_bytes(b'\0' * (2 * 1024 * 1024 - 4096 + 1))
    with open(big, 'rb') as f:
        with pytest.raises(dbus.DBusException) as e:
            d.call(FW, FW_IFACE, 'StagePackage', dbus.types.UnixFd(f), 'big.sbin', signature='hs')
    assert dbus_error(e.value) == 'org.hwsecd1.Error.InvalidArgument'
    assert '2093056' in str(e.value)
    dfd = os.open(host.root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with pytest.raises(dbus.DBusException) as e:
            d.call(FW, FW_IFACE, 'StagePackage', dbus.types.UnixFd(dfd), 'dir.sbin', signature='hs')
        assert dbus_error(e.value) == 'org.hwsecd1.Error.InvalidArgument'
    finally:
        os.close(dfd)
    assert amd_listing(host) == before
    # The caller's file is examined off the event loop, after polkit (it may never answer).
    assert [a for a, _ in polkit.calls()] == ['org.hwsecd1.stage-firmware'] * 3


def test_largest_package_is_accepted(host, bus, polkit, daemon):
    d = daemon(host)
    polkit.allow(*ALL_ACTIONS)
    data = os.urandom(2 * 1024 * 1024 - 4096)
    src = host.root / 'max'
    src.write_bytes(data)
    with open(src, 'rb') as f:
        sha = d.call(FW, FW_IFACE, 'StagePackage', dbus.types.UnixFd(f), 'max.sbin', signature='hs')[0]
    assert sha == sha256(data)


def test_schedule_refuses_bad_files(host, bus, polkit, daemon):
    d = daemon(host)
    polkit.allow(*ALL_ACTIONS)
    amd = host.root / 'firmware' / 'amd'
    (host.root / 'outside').write_bytes(PKG)
    os.symlink(host.root / 'outside', amd / 'link-out')
    os.mkfifo(amd / 'fifo')
    (amd / 'big').write_bytes(b'\0' * (2 * 1024 * 1024 - 4096 + 1))
    cases = [('link-out', 'org.hwsecd1.Error.InvalidArgument', 'symbolic link'),
             ('fifo', 'org.hwsecd1.Error.InvalidArgument', 'not a regular file'),
             ('big', 'org.hwsecd1.Error.InvalidArgument', '2 MiB'),
             ('missing', 'org.hwsecd1.Error.NotFound', 'no such package')]
    for name, err, why in cases:
        with pytest.raises(dbus.DBusException) as e:
            schedule(d, name)
        assert dbus_error(e.value) == err, name
        assert why in str(e.value), name
    assert d.get(FW, FW_IFACE, 'Jobs') == []
    assert host.sfs.updates == []
    # The file is read and hashed only for a caller polkit allowed (so that refused callers cannot
    # keep the loop busy hashing 2 MiB files): polkit was asked once per case.
    assert polkit.calls() == [('org.hwsecd1.schedule-firmware-update', 0)] * len(cases)


def test_schedule_does_not_read_the_package_for_a_refused_caller(host, bus, polkit, daemon):
    """Mutation caught: hashing the staged package before polkit answers. A denied caller gets
    AccessDenied, not the file's own error (here: the package is missing), so the daemon has not
    touched the file system for it."""
    d = daemon(host)
    polkit.deny_all()
    with pytest.raises(dbus.DBusException) as e:
        schedule(d, 'missing')
    assert dbus_error(e.value) == 'org.freedesktop.DBus.Error.AccessDenied'


def test_allow_list(host, bus, polkit, daemon, hwsecctl):
    good = PKG
    bad = b'not approved\n'
    host.config(f'[Firmware]\nAllowedSha256={sha256(good).upper()} 1111111111111111111111111111111111111111111111111111111111111111\n')
    d = daemon(host)
    polkit.allow(*ALL_ACTIONS)
    src = host.root / 'bad'
    src.write_bytes(bad)
    before = amd_listing(host)
    p = hwsecctl(host, 'firmware', 'stage', str(src), '--name', 'bad.sbin')
    assert p.returncode == 1 and 'AllowedSha256' in p.stderr
    assert amd_listing(host) == before
    stage_file(host, 'bad-direct', bad)
    with pytest.raises(dbus.DBusException) as e:
        schedule(d, 'bad-direct')
    assert dbus_error(e.value) == 'org.hwsecd1.Error.InvalidArgument' and 'AllowedSha256' in str(e.value)
    src.write_bytes(good)
    hwsecctl(host, 'firmware', 'stage', str(src), '--name', 'good.sbin', check=True)
    path = schedule(d, 'good.sbin')
    assert wait_state(d, path, ('succeeded', 'failed')) == 'succeeded'


def test_broken_allow_list_refuses_everything(host, bus, polkit, daemon):
    host.config('[Firmware]\nAllowedSha256=not-a-sha\n')
    d = daemon(host)
    polkit.allow(*ALL_ACTIONS)
    stage_file(host, 'pkg', PKG)
    with pytest.raises(dbus.DBusException) as e:
        schedule(d, 'pkg')
    assert 'AllowedSha256' in str(e.value)
    assert any('AllowedSha256' in str(p) for p in d.get('/org/hwsecd1', 'org.hwsecd1.Manager', 'Problems'))


# ---- update jobs ----

def test_update_succeeds_with_versions_before_and_after(host, bus, polkit, daemon, hwsecctl):
    d = daemon(host)
    polkit.allow(*ALL_ACTIONS)
    stage_file(host, 'pkg.sbin', PKG)
    added = SignalWatcher(bus, 'org.freedesktop.DBus.ObjectManager', 'InterfacesAdded', '/org/hwsecd1')
    changed = SignalWatcher(bus, 'org.freedesktop.DBus.Properties', 'PropertiesChanged')
    path = schedule(d, 'pkg.sbin')
    assert path == '/org/hwsecd1/firmware/job/1'
    assert wait_state(d, path, ('succeeded', 'failed')) == 'succeeded'
    props = d.get_all(path, JOB_IFACE)
    assert props['Payload'] == 'pkg.sbin' and props['Sha256'] == sha256(PKG)
    assert props['SfsStatus'] == 'success' and props['Error'] == ''
    assert 'ASP firmware 1.55.1' in ' '.join(strings_of(props['VersionsBefore']))
    assert 'ASP firmware 1.55.2' in ' '.join(strings_of(props['VersionsAfter']))
    assert props['VersionsBefore']['Sha256'] == sha256(sim_sfs.make_blob('genoa', 1))
    assert props['VersionsAfter']['Sha256'] == sha256(sim_sfs.make_blob('genoa', 2))
    assert props['Started'] >= props['Created'] and props['Finished'] >= props['Started']
    assert host.sfs.updates == ['pkg.sbin']
    # The daemon's Versions follow the update.
    assert d.get(FW, FW_IFACE, 'Versions')['Sha256'] == sha256(sim_sfs.make_blob('genoa', 2))
    hist = d.call(FW, FW_IFACE, 'History')[0]
    assert len(hist) == 1 and hist[0][0] == 1 and hist[0][3] == 'succeeded'
    out = json.loads(hwsecctl(host, 'firmware', 'history', '--json', check=True).stdout)
    assert out[0]['state'] == 'succeeded' and out[0]['versions_after']['Sha256'] == props['VersionsAfter']['Sha256']
    text = hwsecctl(host, 'firmware', 'history', check=True).stdout
    assert 'succeeded' in text and '1.55.1' in text and '1.55.2' in text
    log = d.log()
    for mid in ('0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a30', '0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a31', '0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a32'):
        assert mid in log
    _p, (obj, ifaces) = added.wait(lambda item: item[1][0] == path)
    assert JOB_IFACE in ifaces
    changed.wait(lambda item: item[0] == path and item[1][1].get('State') == 'succeeded')
    changed.wait(lambda item: item[0] == FW and 'Versions' in item[1][1])
    added.close()
    changed.close()
    doc = state_doc(host)
    assert doc['firmware']['history'][0]['state'] == 'succeeded'


@pytest.mark.parametrize('mode,error,status,ext,words', [
    ('fw-error', 'EIO', '0x00000017', '0xbeef0042', 'SFS status 0x00000017'),
    ('busy', 'EBUSY', '', '', 'busy'),
    ('badsig', 'EPERM', '', '', 'signature'),
])
def test_update_failures(host, bus, polkit, daemon, hwsecctl, mode, error, status, ext, words):
    d = daemon(host)
    polkit.allow(*ALL_ACTIONS)
    host.sfs.mode = mode
    stage_file(host, 'pkg', PKG)
    path = schedule(d, 'pkg')
    assert wait_state(d, path, ('succeeded', 'failed')) == 'failed'
    props = d.get_all(path, JOB_IFACE)
    assert props['Error'] == error
    assert props['SfsStatus'] == status and props['SfsExtendedStatus'] == ext
    assert words in props['Result']
    assert '0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a33' in d.log()
    # Versions unchanged, the daemon stays up, and the next job can run.
    assert d.get(FW, FW_IFACE, 'Versions')['Sha256'] == sha256(sim_sfs.make_blob('genoa', 1))
    host.sfs.mode = 'success'
    path2 = schedule(d, 'pkg')
    assert wait_state(d, path2, ('succeeded', 'failed')) == 'succeeded'
    jobs = json.loads(hwsecctl(host, 'firmware', 'jobs', '--json', check=True).stdout)
    assert [j['State'] for j in jobs] == ['failed', 'succeeded']


def test_slow_update_keeps_the_bus_answering(host, bus, polkit, daemon):
    d = daemon(host)
    polkit.allow(*ALL_ACTIONS)
    host.sfs.mode = 'slow'
    stage_file(host, 'pkg', PKG)
    t0 = time.monotonic()
    path = schedule(d, 'pkg')
    wait_state(d, path, 'running', timeout=5)
    wait_for(host.sfs.in_update.is_set, what='the ioctl to start')
    other = dbus.bus.BusConnection(bus.address)
    obj = other.get_object('org.hwsecd1', FW, introspect=False)
    job = other.get_object('org.hwsecd1', path, introspect=False)
    worst = 0
    for _ in range(10):
        s = time.monotonic()
        obj.Get(FW_IFACE, 'SfsPresent', dbus_interface='org.freedesktop.DBus.Properties')
        assert job.Get(JOB_IFACE, 'State', dbus_interface='org.freedesktop.DBus.Properties') == 'running'
        worst = max(worst, time.monotonic() - s)
        time.sleep(0.05)
    assert worst < scaled(0.1), f'a property read took {worst * 1000:.1f} ms during the update'
    assert job_state(d, path) == 'running'
    # Conflicting requests while it runs get Busy.
    with pytest.raises(dbus.DBusException) as e:
        schedule(d, 'pkg')
    assert dbus_error(e.value) == 'org.hwsecd1.Error.Busy'
    with pytest.raises(dbus.DBusException) as e:
        d.call(path, JOB_IFACE, 'Cancel')
    assert dbus_error(e.value) == 'org.hwsecd1.Error.Busy'
    with open(host.root / 'firmware' / 'amd' / 'pkg', 'rb') as f:
        with pytest.raises(dbus.DBusException) as e:
            d.call(FW, FW_IFACE, 'StagePackage', dbus.types.UnixFd(f), 'pkg', signature='hs')
    assert dbus_error(e.value) == 'org.hwsecd1.Error.Busy'
    # A job for later is accepted meanwhile and waits its turn.
    later = schedule(d, 'pkg', now_usec() + 500_000)
    assert wait_state(d, path, ('succeeded', 'failed'), timeout=15) == 'succeeded'
    assert time.monotonic() - t0 >= sim_sfs.SLOW_SECONDS
    assert wait_state(d, later, ('succeeded', 'failed'), timeout=15) == 'succeeded'


def test_device_removed_during_job(host, bus, polkit, daemon):
    d = daemon(host)
    polkit.allow(*ALL_ACTIONS)
    host.sfs.mode = 'remove'
    stage_file(host, 'pkg', PKG)
    path = schedule(d, 'pkg')
    wait_state(d, path, 'running', timeout=5)
    wait_for(host.sfs.in_update.is_set, what='the ioctl to start')
    sim_sfs.remove_device(host)
    assert wait_state(d, path, ('succeeded', 'failed')) == 'failed'
    props = d.get_all(path, JOB_IFACE)
    assert props['Error'] == 'ENODEV'
    assert not props['VersionsAfter']['Valid']
    wait_for(lambda: not d.get(FW, FW_IFACE, 'SfsPresent'), what='SfsPresent false')
    # A job scheduled for later while the device is gone cannot be accepted.
    with pytest.raises(dbus.DBusException) as e:
        schedule(d, 'pkg', now_usec() + 10**7)
    assert dbus_error(e.value) == 'org.hwsecd1.Error.NoDevice'


def test_package_rechecked_at_start(host, bus, polkit, daemon):
    d = daemon(host)
    polkit.allow(*ALL_ACTIONS)
    stage_file(host, 'pkg', PKG)
    path = schedule(d, 'pkg', now_usec() + 700_000)
    stage_file(host, 'pkg', PKG + b'tampered')
    assert wait_state(d, path, ('succeeded', 'failed')) == 'failed'
    assert 'changed after it was scheduled' in d.get(path, JOB_IFACE, 'Result')
    assert host.sfs.updates == []


def test_expected_sha256_option(host, bus, polkit, daemon):
    d = daemon(host)
    polkit.allow(*ALL_ACTIONS)
    stage_file(host, 'pkg', PKG)
    with pytest.raises(dbus.DBusException) as e:
        schedule(d, 'pkg', Sha256='0' * 64)
    assert dbus_error(e.value) == 'org.hwsecd1.Error.Conflict'
    with pytest.raises(dbus.DBusException) as e:
        schedule(d, 'pkg', Bogus=True)
    assert dbus_error(e.value) == 'org.hwsecd1.Error.InvalidArgument'
    path = schedule(d, 'pkg', Sha256=sha256(PKG))
    assert wait_state(d, path, ('succeeded', 'failed')) == 'succeeded'


def test_time_arguments_validated(host, bus, polkit, daemon):
    d = daemon(host)
    polkit.allow(*ALL_ACTIONS)
    stage_file(host, 'pkg', PKG)
    now = now_usec()
    for nb, na, why in [(0, now - 10**6, 'already passed'), (now + 10**7, now + 10**6, 'after the start'),
                        (now + 400 * 86400 * 10**6, 0, 'more than a year')]:
        with pytest.raises(dbus.DBusException) as e:
            schedule(d, 'pkg', nb, na)
        assert dbus_error(e.value) == 'org.hwsecd1.Error.InvalidArgument'
        assert why in str(e.value)
    with pytest.raises(dbus.DBusException) as e:
        schedule(d, 'pkg', Window=True)
    assert 'No maintenance window' in str(e.value)
    assert polkit.calls() == []


# ---- cancel, polkit ----

def test_cancel_and_polkit(host, bus, polkit, daemon, hwsecctl):
    d = daemon(host)
    stage_file(host, 'pkg', PKG)
    polkit.allow('org.hwsecd1.stage-firmware')
    with pytest.raises(dbus.DBusException) as e:
        schedule(d, 'pkg', now_usec() + 60 * 10**6)
    assert dbus_error(e.value) == 'org.freedesktop.DBus.Error.AccessDenied'
    assert d.get(FW, FW_IFACE, 'Jobs') == []
    statefile = host.root / 'state' / 'state.json'
    assert not statefile.exists() or state_doc(host).get('firmware', {'jobs': []})['jobs'] == []

    polkit.allow('org.hwsecd1.schedule-firmware-update')
    path = schedule(d, 'pkg', now_usec() + 60 * 10**6)
    assert state_doc(host)['firmware']['jobs'][0]['id'] == 1   # persisted before the reply
    with pytest.raises(dbus.DBusException) as e:
        d.call(path, JOB_IFACE, 'Cancel')
    assert dbus_error(e.value) == 'org.freedesktop.DBus.Error.AccessDenied'
    assert job_state(d, path) == 'scheduled'
    p = hwsecctl(host, 'firmware', 'cancel', '1')
    assert p.returncode == 3

    polkit.allow('org.hwsecd1.cancel-firmware-update')
    hwsecctl(host, 'firmware', 'cancel', '1', check=True)
    assert job_state(d, path) == 'cancelled'
    assert state_doc(host)['firmware']['history'][0]['state'] == 'cancelled'
    with pytest.raises(dbus.DBusException) as e:
        d.call(path, JOB_IFACE, 'Cancel')
    assert dbus_error(e.value) == 'org.hwsecd1.Error.Conflict'
    assert hwsecctl(host, 'firmware', 'cancel', '99').returncode == 1
    assert '0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a34' in d.log()
    assert host.sfs.updates == []


# ---- windows ----

def _hhmm(t):
    return time.strftime('%H:%M', time.gmtime(t))


def test_window_open_now_runs_at_once(host, bus, polkit, daemon, hwsecctl):
    now = time.time()
    start, end = now - 120, now + 180   # near midnight UTC this window crosses it, which is fine
    host.config(f'[Firmware]\nMaintenanceWindow=daily {_hhmm(start)}-{_hhmm(end)} UTC\n'
                'MaintenanceWindow=Sat 02:00-04:00 Europe/Berlin\n')
    d = daemon(host)
    polkit.allow(*ALL_ACTIONS)
    assert list(d.get(FW, FW_IFACE, 'MaintenanceWindows')) == [f'daily {_hhmm(start)}-{_hhmm(end)} UTC',
                                                                'Sat 02:00-04:00 Europe/Berlin']
    stage_file(host, 'pkg', PKG)
    out = json.loads(hwsecctl(host, 'firmware', 'schedule', 'pkg', '--window', '--json', check=True).stdout)
    assert out['InWindow'] is True
    end_usec = int(end // 60 * 60) * 10**6
    assert out['NotAfter'] == end_usec
    assert wait_state(d, out['Path'], ('succeeded', 'failed')) == 'succeeded'


def test_window_in_future_waits(host, bus, polkit, daemon, hwsecctl):
    now = time.time()
    start = (int(now) // 60 + 30) * 60
    end = start + 3600
    host.config(f'[Firmware]\nMaintenanceWindow=daily {_hhmm(start)}-{_hhmm(end)} UTC\n')
    d = daemon(host)
    polkit.allow(*ALL_ACTIONS)
    stage_file(host, 'pkg', PKG)
    # Without --at, the client uses the next window.
    out = json.loads(hwsecctl(host, 'firmware', 'schedule', 'pkg', '--json', check=True).stdout)
    assert out['State'] == 'scheduled' and out['InWindow'] is True
    assert out['NotBefore'] == start * 10**6 and out['NotAfter'] == end * 10**6


def test_bad_window_config_is_a_problem(host, bus, daemon):
    host.config('[Firmware]\nMaintenanceWindow=Someday 02:00-04:00 UTC\nMaintenanceWindow=Sat 02:00-04:00 UTC\n')
    d = daemon(host)
    assert list(d.get(FW, FW_IFACE, 'MaintenanceWindows')) == ['Sat 02:00-04:00 UTC']
    problems = [str(p) for p in d.get('/org/hwsecd1', 'org.hwsecd1.Manager', 'Problems')]
    assert any('Someday' in p for p in problems)


def test_deadline_passes_while_another_job_runs(host, bus, polkit, daemon):
    d = daemon(host)
    polkit.allow(*ALL_ACTIONS)
    host.sfs.mode = 'slow'
    host.sfs.slow_seconds = 2.0
    stage_file(host, 'pkg', PKG)
    first = schedule(d, 'pkg')
    wait_state(d, first, 'running')
    now = now_usec()
    second = schedule(d, 'pkg', now + 300_000, now + 800_000)
    assert wait_state(d, second, ('expired', 'succeeded', 'failed')) == 'expired'
    assert 'closed before the job could start' in d.get(second, JOB_IFACE, 'Result')
    assert wait_state(d, first, ('succeeded', 'failed')) == 'succeeded'
    assert host.sfs.updates == ['pkg']


# ---- restarts ----

def test_restart_with_jobs_pending(host, bus, polkit, daemon, hwsecctl):
    d = daemon(host)
    polkit.allow(*ALL_ACTIONS)
    stage_file(host, 'pkg', PKG)
    # Due after the restart, however slow the machine (valgrind, load): scaled like every wait.
    soon = schedule(d, 'pkg', now_usec() + int(scaled(2) * 10**6))
    later = schedule(d, 'pkg', now_usec() + 3600 * 10**6)
    assert d.stop() == 0
    d.start()
    assert job_state(d, soon) == 'scheduled' and job_state(d, later) == 'scheduled'
    assert wait_state(d, soon, ('succeeded', 'failed'), timeout=10) == 'succeeded'
    assert job_state(d, later) == 'scheduled'
    # Ids continue after a restart.
    assert schedule(d, 'pkg', now_usec() + 3600 * 10**6) == '/org/hwsecd1/firmware/job/3'


def test_window_passed_while_down_expires(host, bus, polkit, daemon):
    d = daemon(host)
    polkit.allow(*ALL_ACTIONS)
    stage_file(host, 'pkg', PKG)
    now = now_usec()
    path = schedule(d, 'pkg', now + 800_000, now + 1_200_000)
    assert d.stop() == 0
    time.sleep(1.5)
    d.start()
    assert job_state(d, path) == 'expired'
    assert 'while hwsecd was not running' in d.get(path, JOB_IFACE, 'Result')
    assert '0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a35' in d.log()
    assert host.sfs.updates == []


def test_killed_during_update_is_interrupted(host, bus, polkit, daemon):
    d = daemon(host)
    polkit.allow(*ALL_ACTIONS)
    host.sfs.mode = 'slow'
    stage_file(host, 'pkg', PKG)
    path = schedule(d, 'pkg')
    wait_state(d, path, 'running')
    assert state_doc(host)['firmware']['jobs'][0]['state'] == 'running'
    d.kill()
    d.start()
    assert job_state(d, path) == 'interrupted'
    assert 'may or may not have been updated' in d.get(path, JOB_IFACE, 'Result')
    assert '0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a36' in d.log()


def test_sigterm_waits_for_running_update(host, bus, polkit, daemon):
    d = daemon(host)
    polkit.allow(*ALL_ACTIONS)
    host.sfs.mode = 'slow'
    host.sfs.slow_seconds = 1.5
    stage_file(host, 'pkg', PKG)
    path = schedule(d, 'pkg')
    wait_state(d, path, 'running')
    assert d.stop() == 0
    assert state_doc(host)['firmware']['history'][0]['state'] == 'succeeded'


def test_corrupt_job_entries_are_dropped_alone(host, bus, daemon):
    good = {'id': 4, 'payload': 'pkg', 'sha256': 'a' * 64, 'state': 'scheduled',
            'not_before_usec': now_usec() + 3600 * 10**6, 'not_after_usec': 0, 'created_usec': 1}
    bad = dict(good, id=5, payload='../../etc/shadow')
    host.write('state/state.json', json.dumps({'version': 1, 'firmware': {'next_id': 6, 'jobs': [good, bad],
                                                                          'history': []}}))
    d = daemon(host)
    assert list(d.get(FW, FW_IFACE, 'Jobs')) == ['/org/hwsecd1/firmware/job/4']
    problems = [str(p) for p in d.get('/org/hwsecd1', 'org.hwsecd1.Manager', 'Problems')]
    assert any('firmware.jobs[1] (job 5)' in p and '"payload"' in p for p in problems), problems
    # The file itself stays; only the bad entry's text goes to a side file.
    assert not [p for p in os.listdir(host.root / 'state') if p.startswith('state.json.corrupt-')]
    kept = [p for p in os.listdir(host.root / 'state') if p.startswith('firmware-dropped-')]
    assert len(kept) == 1
    assert [e['payload'] for e in json.loads((host.root / 'state' / kept[0]).read_text())] == ['../../etc/shadow']
    assert [j['id'] for j in state_doc(host)['firmware']['jobs']] == [4]
    assert d.get('/org/hwsecd1', 'org.hwsecd1.Manager', 'State') == 'degraded'


def test_client_time_parsing(host, bus, polkit, daemon, hwsecctl):
    d = daemon(host)
    polkit.allow(*ALL_ACTIONS)
    stage_file(host, 'pkg', PKG)
    for bad in ('tomorrow', '+5parsecs', '2026-13-01 00:00', '@x'):
        p = hwsecctl(host, 'firmware', 'schedule', 'pkg', '--at', bad)
        assert p.returncode == 2, bad
    t = int(time.time()) + 7200
    out = json.loads(hwsecctl(host, 'firmware', 'schedule', 'pkg', '--at', f'@{t}', '--deadline', '+3h', '--json',
                              check=True).stdout)
    assert out['NotBefore'] == t * 10**6
    iso = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(t + 60))
    out = json.loads(hwsecctl(host, 'firmware', 'schedule', 'pkg', '--at', iso, '--json', check=True).stdout)
    assert out['NotBefore'] == (t + 60) * 10**6
    out = json.loads(hwsecctl(host, 'firmware', 'schedule', 'pkg', '--at', '+10min', '--json', check=True).stdout)
    assert abs(out['NotBefore'] - (time.time() + 600) * 1e6) < 5e6
    text = hwsecctl(host, 'firmware', 'jobs', check=True).stdout
    assert text.count('scheduled') == 3
    assert hwsecctl(host, 'firmware', 'schedule', 'pkg', '--at', 'now', '--window').returncode == 2


def test_describe_has_firmware(host, bus, daemon, hwsecctl):
    d = daemon(host)
    doc = json.loads(d.iface().Describe())
    fw = doc['firmware']
    assert fw['sfs_present'] is True and fw['versions']['valid'] is True
    assert fw['summary']['SFS device'] == 'present'
    assert 'Firmware (SFS)' in hwsecctl(host, 'status', check=True).stdout


def test_history_is_bounded_and_announced(host, bus, polkit, daemon):
    d = daemon(host)
    polkit.allow(*ALL_ACTIONS)
    stage_file(host, 'pkg', PKG)
    removed = SignalWatcher(bus, 'org.freedesktop.DBus.ObjectManager', 'InterfacesRemoved', '/org/hwsecd1')
    later = now_usec() + 3600 * 10**6
    for _ in range(66):
        path = schedule(d, 'pkg', later)
        d.call(path, JOB_IFACE, 'Cancel')
    hist = d.call(FW, FW_IFACE, 'History')[0]
    assert len(hist) == 64 and hist[0][0] == 3 and hist[-1][0] == 66
    removed.wait(lambda item: item[1][0] == '/org/hwsecd1/firmware/job/2')
    assert len(d.get(FW, FW_IFACE, 'Jobs')) == 64
    with pytest.raises(dbus.DBusException):
        d.get('/org/hwsecd1/firmware/job/1', JOB_IFACE, 'State')
    assert len(state_doc(host)['firmware']['history']) == 64
    removed.close()


def test_unsaveable_job_is_not_acknowledged(host, bus, polkit, daemon):
    (host.root / 'state' / 'state.json').mkdir()   # rename() over it fails: nothing can be saved
    d = daemon(host)
    polkit.allow(*ALL_ACTIONS)
    stage_file(host, 'pkg', PKG)
    with pytest.raises(dbus.DBusException) as e:
        schedule(d, 'pkg', now_usec() + 3600 * 10**6)
    assert dbus_error(e.value) == 'org.hwsecd1.Error.IOError'
    assert 'could not be saved, so it was not scheduled' in str(e.value)
    assert d.get(FW, FW_IFACE, 'Jobs') == []
    assert d.running()
    # Once the state is writable again, the same request works and ids did not advance.
    (host.root / 'state' / 'state.json').rmdir()
    assert schedule(d, 'pkg', now_usec() + 3600 * 10**6) == '/org/hwsecd1/firmware/job/1'
    assert [j['id'] for j in state_doc(host)['firmware']['jobs']] == [1]
