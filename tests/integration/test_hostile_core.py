"""Hostile input against the daemon core and the polkit gate: host files that are not files,
crash leftovers, host errnos that must keep our error names, callers that flood polkit with
requests or file descriptors, and a bus that drops us."""

import contextlib
import os
import pathlib
import resource
import socket
import subprocess
import time

import dbus
import pytest

from busconfig import clean_env
from conftest import BUS_NAME, scaled
from fwutil import ALL_ACTIONS, FW, FW_IFACE, now_usec, schedule, stage_file

MANAGER = 'org.hwsecd1.Manager'
PKG = b'SFS package for the hostile core tests\n' * 64


def wait_for(cond, timeout=10, what='condition'):
    deadline = time.monotonic() + scaled(timeout)
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f'timed out waiting for {what}')
        time.sleep(0.02)


def dead_pids(n):
    """n pids below pid_max that no process has right now."""
    pid_max = int(pathlib.Path('/proc/sys/kernel/pid_max').read_text())
    out = []
    for pid in range(min(pid_max, 4194304) - 1, 300, -7):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            out.append(pid)
            if len(out) == n:
                return out
        except PermissionError:
            pass
    raise AssertionError('no free pids found')


def ping(d):
    d.proxy('/org/hwsecd1').Ping(dbus_interface='org.freedesktop.DBus.Peer')


# ---- item 3: host errnos keep our error names ----

@contextlib.contextmanager
def tmpfs_on(path, size='64k'):
    p = subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={size},mode=0700', 'hwsec-test', str(path)],
                       env=clean_env(), capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip(f'cannot mount a tmpfs here (needs CAP_SYS_ADMIN): {p.stderr.strip()}')
    try:
        yield path
    finally:
        subprocess.run(['umount', '-l', str(path)], env=clean_env(), check=True)


def fill(directory):
    """Writes until the file system says ENOSPC, then small files into what is left."""
    for i in range(100000):
        fd = os.open(directory / f'filler-{i}', os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.write(fd, b'\0' * (4096 if i == 0 else 512) * (256 if i == 0 else 1))
        except OSError:
            return
        finally:
            os.close(fd)
    raise AssertionError('the tmpfs never filled up')


def test_full_or_read_only_state_dir_answers_ioerror(host, bus, polkit, daemon):
    """Mutation: a full (ENOSPC) then read-only (EROFS) state directory while ScheduleUpdate saves
    its job. Unfixed, sd_bus_error_set_errnof() answered org.freedesktop.DBus.Error.System.Error.ENOSPC
    / .EROFS (its own names; our map was never consulted). Checks: both answers are
    org.hwsecd1.Error.IOError, no job is listed, the daemon answers Ping afterwards."""
    d = daemon(host)
    polkit.allow(*ALL_ACTIONS)
    stage_file(host, 'pkg', PKG)
    state_dir = host.root / 'state'
    with tmpfs_on(state_dir):
        fill(state_dir)
        with pytest.raises(dbus.DBusException) as e:
            schedule(d, 'pkg', now_usec() + 3600 * 10**6)
        assert e.value.get_dbus_name() == 'org.hwsecd1.Error.IOError'
        subprocess.run(['mount', '-o', 'remount,ro', str(state_dir)], env=clean_env(), check=True)
        with pytest.raises(dbus.DBusException) as e:
            schedule(d, 'pkg', now_usec() + 3600 * 10**6)
        assert e.value.get_dbus_name() == 'org.hwsecd1.Error.IOError'
        assert list(d.get(FW, FW_IFACE, 'Jobs')) == []
    ping(d)
    assert d.running()


# ---- item 4: FIFOs and other non-regular files ----

def test_fifo_state_file_is_set_aside_and_reported(host, bus, daemon):
    """Attack: state.json replaced by a FIFO (open() for reading blocks until a writer appears).
    Unfixed, hwsecd hung in start-up and never took its name. Checks: the daemon serves, State is
    "degraded", exactly one Problem names state.json and says it is not a regular file, and the
    FIFO was moved aside (state.json.corrupt-*, still a FIFO), not deleted."""
    fifo = host.root / 'state' / 'state.json'
    os.mkfifo(fifo)
    d = daemon(host)
    problems = [str(p) for p in d.get('/org/hwsecd1', MANAGER, 'Problems')]
    assert len(problems) == 1, problems
    assert str(fifo) in problems[0] and 'not a regular file' in problems[0]
    assert d.get('/org/hwsecd1', MANAGER, 'State') == 'degraded'
    aside = [p for p in (host.root / 'state').iterdir() if p.name.startswith('state.json.corrupt-')]
    assert len(aside) == 1 and aside[0].is_fifo()


def test_fifo_config_at_start_is_a_problem(host, bus, daemon):
    """Attack: hwsecd.conf is a FIFO at start-up. Unfixed, start-up blocked in open(). Checks: the
    daemon serves with defaults, one Problem names hwsecd.conf as not a regular file, and it
    answers Ping."""
    os.mkfifo(host.root / 'etc' / 'hwsecd.conf')
    d = daemon(host)
    problems = [str(p) for p in d.get('/org/hwsecd1', MANAGER, 'Problems')]
    assert any('hwsecd.conf' in p and 'not a regular file' in p for p in problems), problems
    ping(d)


def test_reload_with_fifo_config_is_refused_and_loop_keeps_running(host, bus, polkit, daemon):
    """Attack: hwsecd.conf replaced by a FIFO, then Reload(). Unfixed, Reload's open() blocked the
    event loop for good (every later call timed out). Checks: Reload answers
    org.hwsecd1.Error.InvalidArgument, Ping and Describe answer afterwards, and the previous
    configuration (LogLevel=notice) stays in effect."""
    host.config('[Daemon]\nLogLevel=notice\n')
    d = daemon(host, verbose=False)
    polkit.allow('org.hwsecd1.reload')
    conf = host.root / 'etc' / 'hwsecd.conf'
    conf.unlink()
    os.mkfifo(conf)
    with pytest.raises(dbus.DBusException) as e:
        d.call('/org/hwsecd1', MANAGER, 'Reload', timeout=20)
    assert e.value.get_dbus_name() == 'org.hwsecd1.Error.InvalidArgument'
    ping(d)
    assert d.iface().Describe()
    assert d.get('/org/freedesktop/LogControl1', 'org.freedesktop.LogControl1', 'LogLevel') == 'notice'


# ---- item 5: temp files left by crashes ----

def test_stale_temp_files_are_removed_at_start(host, bus, daemon):
    """Crash leftovers: state.json.tmp.<pid> and hwsecd-kvm-amd.conf.tmp.<pid> of dead pids piled
    up (48 after 150 kills). Checks: the 3 + 2 exact-pattern regular files of dead pids are gone
    after start and the log counts 3 and 2; left alone are a temp name of a live pid (this
    process), a non-numeric suffix, other files' temp names, a symlink and a FIFO with the
    pattern, a file of another owner (uid 65534), and state.json itself."""
    state, modprobe = host.root / 'state', host.root / 'modprobe.d'
    pids = dead_pids(8)
    stale = [state / f'state.json.tmp.{p}' for p in pids[:3]] + \
            [modprobe / f'hwsecd-kvm-amd.conf.tmp.{p}' for p in pids[3:5]]
    for p in stale:
        p.write_text('{"version": 1}')
    target = host.root / 'target'
    target.write_text('keep')
    kept = [state / f'state.json.tmp.{os.getpid()}', state / 'state.json.tmp.12ab', state / 'state.json.tmp.',
            state / f'other.json.tmp.{pids[0]}', modprobe / f'other.conf.tmp.{pids[0]}',
            modprobe / f'hwsecd-kvm-amd.conf.tmp.{pids[5]}.bak', state / f'state.json.tmp.{pids[6]}x']
    for p in kept:
        p.write_text('keep')
    link = state / f'state.json.tmp.{pids[5]}'
    link.symlink_to(target)
    fifo = state / f'state.json.tmp.{pids[7]}'
    os.mkfifo(fifo)
    foreign = modprobe / f'hwsecd-kvm-amd.conf.tmp.{pids[6]}'
    foreign.write_text('keep')
    os.chown(foreign, 65534, 65534)

    d = daemon(host)
    for p in stale:
        assert not p.exists(), p
    for p in kept + [foreign]:
        assert p.read_text() == 'keep', p
    assert link.is_symlink() and target.read_text() == 'keep'
    assert fifo.is_fifo()
    log = d.log()
    assert f'Removed 3 stale temporary files (state.json.tmp.<pid>) left in {state}' in log
    assert f'Removed 2 stale temporary files (hwsecd-kvm-amd.conf.tmp.<pid>) left in {modprobe}' in log
