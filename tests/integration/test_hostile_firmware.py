"""Hostile input and hostile conditions for the firmware (SFS) area: a full state filesystem,
times the state file cannot hold, reserved package names, caller files that never answer.

Every test names the error it expects by its D-Bus name, and says in its docstring what it
catches on a build without the fix."""

import contextlib
import json
import os
import subprocess
import threading
import time

import dbus
import pytest

from conftest import scaled
from fwutil import (ALL_ACTIONS, FW, FW_IFACE, JOB_IFACE, HangingFuse, amd_listing, dbus_error, job_state, now_usec,
                    schedule, stage_file, state_doc, wait_for)

PKG = b'hostile test package\n' * 32
IO_ERROR = 'org.hwsecd1.Error.IOError'
INVALID = 'org.hwsecd1.Error.InvalidArgument'


@contextlib.contextmanager
def tmpfs(path, size):
    """A tiny tmpfs over path (tests run as root), unmounted afterwards."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={size},mode=0700', 'hwsec-test', str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(['umount', '-l', str(path)], check=False)


def fill(directory):
    """Fills the filesystem of directory to the last byte; returns the filler's path."""
    filler = directory / 'filler'
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for chunk in (65536, 4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b'\0' * chunk)
    finally:
        os.close(fd)
    return filler


def expect_error(name, fn, *args, **kwargs):
    with pytest.raises(dbus.DBusException) as e:
        fn(*args, **kwargs)
    assert dbus_error(e.value) == name, str(e.value)
    return e.value


# ---- 1. a change that cannot be made durable is neither acknowledged nor applied ----

def test_cancel_on_full_state_fs_is_refused_and_never_runs(host, bus, polkit, daemon):
    """Catches: Cancel on a full state filesystem answering with a System.Error.ENOSPC while
    the live state said "cancelled" and state.json kept "scheduled", so that after a restart
    the job ran and the SFS update ioctl was issued.

    Checks: Cancel fails with org.hwsecd1.Error.IOError; the job stays "scheduled" live and in
    the file (both agree); it is due 2 s later yet no SFS update ioctl is issued in this run
    (host.sfs.updates stays []); after a restart with the space freed the job is "cancelled"
    (from the marker), still no ioctl, and the marker is gone."""
    polkit.allow(*ALL_ACTIONS)
    stage_file(host, 'pkg', PKG)
    with tmpfs(host.root / 'state', '64k') as state:
        d = daemon(host)
        due = now_usec() + int(scaled(2) * 1e6)
        job = schedule(d, 'pkg', not_before=due)
        filler = fill(state)
        expect_error(IO_ERROR, d.call, job, JOB_IFACE, 'Cancel')
        assert job_state(d, job) == 'scheduled'
        assert [j['state'] for j in state_doc(host)['firmware']['jobs']] == ['scheduled']
        assert [p for p in os.listdir(state) if p.startswith('firmware-cancel-')] == ['firmware-cancel-1']
        # Past its start time, and a later event that dispatches jobs: still not started.
        wait_for(lambda: now_usec() > due + int(scaled(1) * 1e6), 30, 'the start time to pass')
        assert d.call(FW, FW_IFACE, 'History') is not None
        assert job_state(d, job) == 'scheduled'
        assert host.sfs.updates == []

        d.stop()
        filler.unlink()
        d.start()
        jobs = {j['id']: j for j in state_doc(host)['firmware']['history']}
        assert jobs[1]['state'] == 'cancelled'
        assert job_state(d, job) == 'cancelled'
        assert not [p for p in os.listdir(state) if p.startswith('firmware-cancel-')]
        time.sleep(scaled(0.5))
        assert host.sfs.updates == []
        d.stop()


def test_cancel_retried_after_space_is_freed(host, bus, polkit, daemon):
    """Catches: a held job that a second Cancel (after the space is freed) cannot cancel, or
    that is run by the same process once the state can be written again.

    Checks: first Cancel -> org.hwsecd1.Error.IOError; after freeing space a second Cancel
    succeeds, the file says "cancelled", and no SFS update ioctl was issued (updates == [])."""
    polkit.allow(*ALL_ACTIONS)
    stage_file(host, 'pkg', PKG)
    with tmpfs(host.root / 'state', '64k') as state:
        d = daemon(host)
        job = schedule(d, 'pkg', not_before=now_usec() + int(scaled(1) * 1e6))
        filler = fill(state)
        expect_error(IO_ERROR, d.call, job, JOB_IFACE, 'Cancel')
        filler.unlink()
        # Another change can now be written; it must not start the held job.
        schedule(d, 'pkg', not_before=now_usec() + 3600 * 10**6)
        time.sleep(scaled(1.5))
        assert host.sfs.updates == []
        d.call(job, JOB_IFACE, 'Cancel')
        assert job_state(d, job) == 'cancelled'
        assert {j['id']: j['state'] for j in state_doc(host)['firmware']['history']} == {1: 'cancelled'}
        assert host.sfs.updates == []
        d.stop()


def test_schedule_on_full_state_fs_is_refused(host, bus, polkit, daemon):
    """Catches: ScheduleUpdate acknowledging (or leaving live) a job that state.json could not
    take, and the unnamed System.Error.ENOSPC reply.

    Checks: org.hwsecd1.Error.IOError; Jobs stays []; no SFS update ioctl although the job
    would have been due at once; after a restart with space freed there is still no job."""
    polkit.allow(*ALL_ACTIONS)
    stage_file(host, 'pkg', PKG)
    with tmpfs(host.root / 'state', '64k') as state:
        d = daemon(host)
        filler = fill(state)
        expect_error(IO_ERROR, schedule, d, 'pkg')
        assert list(d.get(FW, FW_IFACE, 'Jobs')) == []
        time.sleep(scaled(0.5))
        assert host.sfs.updates == []
        d.stop()
        filler.unlink()
        d.start()
        assert list(d.get(FW, FW_IFACE, 'Jobs')) == []
        assert host.sfs.updates == []
        d.stop()


def test_stage_on_full_firmware_fs_is_refused(host, bus, polkit, daemon):
    """Catches: StagePackage reporting success, leaving a partial package or a staging file
    behind when the firmware directory is full.

    Checks: org.hwsecd1.Error.IOError; the directory holds only the filler afterwards."""
    polkit.allow(*ALL_ACTIONS)
    with tmpfs(host.root / 'firmware' / 'amd', '64k') as amd:
        d = daemon(host)
        fill(amd)
        src = host.root / 'src.sbin'
        src.write_bytes(PKG * 8)
        with open(src, 'rb') as f:
            expect_error(IO_ERROR, d.call, FW, FW_IFACE, 'StagePackage', dbus.types.UnixFd(f), 'new.sbin',
                         signature='hs')
        assert amd_listing(host) == ['filler']
        d.stop()


# ---- 2. what is acknowledged loads back; one bad entry never costs the others ----

@pytest.mark.parametrize('not_after', [2**64 - 1, 2**63, 253402300800 * 10**6])
def test_schedule_refuses_times_the_state_file_cannot_hold(host, bus, polkit, daemon, not_after):
    """Catches: ScheduleUpdate acknowledging not_after_usec = 2^64-1, 2^63 or year 10000,
    which the state loader then refused at the next start.

    Checks: org.hwsecd1.Error.InvalidArgument for each; Jobs stays []; the largest time the
    file holds (253402300799000000) is accepted and survives a restart."""
    polkit.allow(*ALL_ACTIONS)
    stage_file(host, 'pkg', PKG)
    d = daemon(host)
    expect_error(INVALID, schedule, d, 'pkg', not_after=not_after)
    expect_error(INVALID, schedule, d, 'pkg', not_before=not_after)
    assert list(d.get(FW, FW_IFACE, 'Jobs')) == []
    job = schedule(d, 'pkg', not_before=now_usec() + 3600 * 10**6, not_after=253402300799 * 10**6)
    d.restart()
    assert [str(p) for p in d.get(FW, FW_IFACE, 'Jobs')] == [job]
    assert int(d.get(job, JOB_IFACE, 'NotAfter')) == 253402300799 * 10**6
    d.stop()


def test_one_bad_entry_is_dropped_alone(host, bus, daemon):
    """Catches: the whole state file being set aside (state.json.corrupt-*) for one entry with
    an out-of-range not_after_usec, and a dropped entry whose text is lost.

    Checks: of jobs 4, 5 (not_after_usec 2^64-1, as json-c wrote it: -1) and 6, jobs 4 and 6
    stay; a Problem names "job 5" and "not_after_usec"; no .corrupt- file; the side file
    firmware-dropped-*.json holds entry 5 exactly; next_id stays 7."""
    base = {'payload': 'pkg', 'sha256': 'a' * 64, 'state': 'scheduled',
            'not_before_usec': now_usec() + 3600 * 10**6, 'not_after_usec': 0, 'created_usec': 1}
    bad = dict(base, id=5, not_after_usec=-1)
    host.write('state/state.json', json.dumps({'version': 1, 'firmware': {
        'next_id': 7, 'jobs': [dict(base, id=4), bad, dict(base, id=6)], 'history': []}}))
    d = daemon(host)
    assert sorted(str(p) for p in d.get(FW, FW_IFACE, 'Jobs')) == [f'{FW}/job/4', f'{FW}/job/6']
    problems = [str(p) for p in d.get('/org/hwsecd1', 'org.hwsecd1.Manager', 'Problems')]
    assert any('job 5' in p and 'not_after_usec' in p for p in problems), problems
    files = os.listdir(host.root / 'state')
    assert not [p for p in files if '.corrupt-' in p], files
    kept = [p for p in files if p.startswith('firmware-dropped-')]
    assert len(kept) == 1
    assert json.loads((host.root / 'state' / kept[0]).read_text()) == [bad]
    doc = state_doc(host)['firmware']
    assert [j['id'] for j in doc['jobs']] == [4, 6] and doc['next_id'] == 7
    d.stop()


# ---- 5. hwsecd's own staging names are reserved ----

def test_staging_prefix_is_reserved(host, bus, polkit, daemon):
    """Catches: a package named .hwsecd-stage-0123456789abcdef being accepted, and then deleted
    at the next start as a stale staging file (with a job pointing at it).

    Checks: StagePackage and ScheduleUpdate give org.hwsecd1.Error.InvalidArgument; nothing is
    written to the firmware directory."""
    polkit.allow(*ALL_ACTIONS)
    d = daemon(host)
    name = '.hwsecd-stage-0123456789abcdef'
    before = amd_listing(host)
    src = host.root / 'src.sbin'
    src.write_bytes(PKG)
    with open(src, 'rb') as f:
        expect_error(INVALID, d.call, FW, FW_IFACE, 'StagePackage', dbus.types.UnixFd(f), name, signature='hs')
    expect_error(INVALID, d.call, FW, FW_IFACE, 'StagePackage', dbus.types.UnixFd(os.open(src, os.O_RDONLY)),
                 '.hwsecd-stage-', signature='hs')
    assert amd_listing(host) == before
    stage_file(host, name, PKG)
    expect_error(INVALID, schedule, d, name)
    assert list(d.get(FW, FW_IFACE, 'Jobs')) == []
    d.stop()


# ---- 4. the caller's file never blocks the event loop ----

class StageCall(threading.Thread):
    """StagePackage on a connection of its own, so the test can talk to hwsecd meanwhile."""

    def __init__(self, bus, fd, name):
        super().__init__(daemon=True)
        self.bus, self.fd, self.name = bus, fd, name
        self.error = self.result = None

    def run(self):
        conn = dbus.bus.BusConnection(self.bus.address)
        msg = dbus.lowlevel.MethodCallMessage('org.hwsecd1', FW, FW_IFACE, 'StagePackage')
        msg.append(dbus.types.UnixFd(self.fd), self.name, signature='hs')
        try:
            self.result = conn.send_message_with_reply_and_block(msg, scaled(120)).get_args_list()
        except dbus.DBusException as e:
            self.error = e
        finally:
            conn.close()


def assert_responsive(d):
    """Peer.Ping and Describe answer within 5 s (scaled): the event loop is free."""
    d.call('/org/hwsecd1', 'org.freedesktop.DBus.Peer', 'Ping', timeout=5)
    assert json.loads(str(d.call('/org/hwsecd1', 'org.hwsecd1.Manager', 'Describe', timeout=5)[0]))['firmware']


@pytest.mark.skipif('valgrind' in os.environ.get('HWSECD_TEST_WRAPPER', ''),
                    reason='valgrind keeps its global lock through fstat() on the hung FUSE file, so the whole '
                           'process waits; the plain and ASan runs cover this')
def test_stage_from_a_file_that_never_answers(host, bus, polkit, daemon):
    """Catches: StagePackage fstat()ing and reading the caller's fd on the event loop, where an fd
    on a FUSE file whose getattr never answers froze hwsecd (Ping and Describe: NoReply).

    Checks: while hwsecd's GETATTR on the file is held unanswered, Peer.Ping and Describe
    answer within 5 s (scaled); the call ends with org.hwsecd1.Error.IOError when the 20 s
    read timeout passes; nothing is staged, also after the file answers (connection aborted)."""
    polkit.allow(*ALL_ACTIONS)
    d = daemon(host)
    before = amd_listing(host)
    with HangingFuse(host.root / 'fuse', PKG) as fs:
        fd = os.open(fs.file, os.O_RDONLY)
        try:
            fs.hang(d.proc.pid)
            call = StageCall(bus, fd, 'fuse.sbin')
            call.start()
            wait_for(lambda: fs.held() > 0, 30, 'hwsecd to ask the FUSE file for its attributes')
            assert_responsive(d)
            call.join(scaled(60))
            assert not call.is_alive(), 'StagePackage did not end'
            assert call.error is not None and dbus_error(call.error) == IO_ERROR, (call.result, call.error)
        finally:
            os.close(fd)
    time.sleep(scaled(0.5))
    assert_responsive(d)
    assert amd_listing(host) == before
    d.stop()


def test_stage_from_a_fifo_is_refused_promptly(host, bus, polkit, daemon):
    """Catches: a FIFO fd (its writer open, never writing) being read, which would wait for ever.

    Checks: org.hwsecd1.Error.InvalidArgument well before the 20 s read timeout (within 10 s,
    scaled), Ping answers afterwards, nothing is staged."""
    polkit.allow(*ALL_ACTIONS)
    d = daemon(host)
    before = amd_listing(host)
    fifo = host.root / 'fifo'
    os.mkfifo(fifo)
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    wfd = os.open(fifo, os.O_WRONLY)
    try:
        expect_error(INVALID, d.call, FW, FW_IFACE, 'StagePackage', dbus.types.UnixFd(rfd), 'fifo.sbin',
                     signature='hs', timeout=10)
    finally:
        os.close(wfd)
        os.close(rfd)
    assert_responsive(d)
    assert amd_listing(host) == before
    d.stop()
