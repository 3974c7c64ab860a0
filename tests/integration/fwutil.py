"""Helpers shared by the firmware integration tests."""

import contextlib
import ctypes
import errno
import hashlib
import json
import mmap
import os
import stat
import struct
import subprocess
import time

import dbus

import sim_sfs
from conftest import scaled

FW = '/org/hwsecd1/firmware'
FW_IFACE = 'org.hwsecd1.Firmware'
JOB_IFACE = 'org.hwsecd1.FirmwareJob'
ALL_ACTIONS = ('org.hwsecd1.stage-firmware', 'org.hwsecd1.schedule-firmware-update',
               'org.hwsecd1.cancel-firmware-update')


def now_usec():
    return int(time.time() * 1e6)


def dbus_error(e):
    return e.get_dbus_name()


def wait_for(cond, timeout=10, what='condition'):
    deadline = time.monotonic() + scaled(timeout)
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f'timed out waiting for {what}')
        time.sleep(0.02)


def schedule(d, name, not_before=0, not_after=0, **options):
    opts = dbus.Dictionary({k: v for k, v in options.items()}, signature='sv')
    return str(d.call(FW, FW_IFACE, 'ScheduleUpdate', name, dbus.UInt64(not_before), dbus.UInt64(not_after), opts,
                      signature='stta{sv}')[0])


def job_state(d, path):
    return str(d.get(path, JOB_IFACE, 'State'))


def wait_state(d, path, states, timeout=15):
    if isinstance(states, str):
        states = (states,)
    return wait_for(lambda: job_state(d, path) in states and job_state(d, path), timeout,
                    f'{path} to reach {states}')


def stage_file(host, name, data):
    return sim_sfs.stage(host, name, data)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def state_doc(host):
    return json.loads((host.root / 'state' / 'state.json').read_text())


def amd_listing(host):
    return sorted(os.listdir(host.root / 'firmware' / 'amd'))


def strings_of(versions):
    return [str(t) for _off, t in versions.get('Strings', [])]


class SignalWatcher:
    """Collects signals from org.hwsecd1 on a GDBus connection (dbus-python needs a main loop)."""

    def __init__(self, bus, interface, member, path=None):
        import gi
        gi.require_version('Gio', '2.0')
        from gi.repository import Gio, GLib
        self.GLib = GLib
        self.ctx = GLib.MainContext.new()
        self.ctx.push_thread_default()
        self.conn = Gio.DBusConnection.new_for_address_sync(
            bus.address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
            Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
        self.got = []
        self.conn.signal_subscribe(None, interface, member, path, None, Gio.DBusSignalFlags.NONE,
                                   lambda _c, _s, p, _i, _m, params: self.got.append((p, params.unpack())))
        # A round trip so the match rule is in place before anything happens.
        self.conn.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'GetId',
                            None, None, Gio.DBusCallFlags.NONE, -1, None)
        self.ctx.pop_thread_default()

    def wait(self, pred, timeout=5):
        deadline = time.monotonic() + scaled(timeout)
        while time.monotonic() < deadline:
            while self.ctx.iteration(False):
                pass
            for item in self.got:
                if pred(item):
                    return item
            time.sleep(0.01)
        raise AssertionError(f'signal not seen; got {self.got}')

    def close(self):
        self.conn.close_sync(None)


# ---- a FUSE file that stops answering ----

# A one-file FUSE filesystem that stops answering one process, spoken straight over /dev/fuse (no
# libfuse): enough to open <mountpoint>/pkg and then make fstat()/read() on it hang for hwsecd, the
# way a dead network or FUSE filesystem does. The server is a forked process (the test's own
# D-Bus client may stat the fd while holding the GIL). Root only (tests run as root).
#
#     with HangingFuse(path, data) as fs:
#         fs.hang(pid)            # GETATTR and READ of the file from that process get no answer
#         fs.held()               # how many requests were left unanswered so far
#         ...                     # leaving the with block aborts the connection: waiters get ENOTCONN

FUSE_LOOKUP, FUSE_FORGET, FUSE_GETATTR, FUSE_OPEN, FUSE_READ = 1, 2, 3, 14, 15
FUSE_RELEASE, FUSE_FLUSH, FUSE_INIT, FUSE_INTERRUPT, FUSE_DESTROY, FUSE_BATCH_FORGET = 18, 25, 26, 36, 38, 42
IN_HEADER = struct.Struct('<IIQQIIIHH')        # len, opcode, unique, nodeid, uid, gid, pid, extlen, pad
OUT_HEADER = struct.Struct('<IiQ')             # len, error, unique
ROOT, FILE = 1, 2
NO_REPLY = (FUSE_FORGET, FUSE_BATCH_FORGET, FUSE_INTERRUPT)


def fuse_attr(ino, mode, size):
    # ino size blocks atime mtime ctime atimensec mtimensec ctimensec mode nlink uid gid rdev blksize flags
    return struct.pack('<QQQQQQIIIIIIIIII', ino, size, (size + 511) // 512, 0, 0, 0, 0, 0, 0, mode, 1, 0, 0, 0,
                       4096, 0)


def thread_group(tid):
    try:
        with open(f'/proc/{tid}/status') as f:
            for line in f:
                if line.startswith('Tgid:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class HangingFuse:
    def __init__(self, mountpoint, data, name='pkg'):
        self.mountpoint = mountpoint
        self.data = data
        self.name = name.encode()
        self.file = mountpoint / name
        self.fd = -1
        self.conn = None
        self.child = None
        self.shared = None

    def __enter__(self):
        self.mountpoint.mkdir(parents=True, exist_ok=True)
        self.fd = os.open('/dev/fuse', os.O_RDWR | os.O_CLOEXEC)
        libc = ctypes.CDLL(None, use_errno=True)
        opts = f'fd={self.fd},rootmode=40000,user_id=0,group_id=0,allow_other'.encode()
        if libc.mount(b'hwsec-fusehang', str(self.mountpoint).encode(), b'fuse', 0, opts) != 0:
            e = ctypes.get_errno()
            os.close(self.fd)
            raise OSError(e, f'mount fuse on {self.mountpoint}: {os.strerror(e)}')
        # shared[0]: the thread group to leave unanswered (0: none); shared[1]: requests held
        self.shared = mmap.mmap(-1, 16)
        self.child = os.fork()
        if self.child == 0:
            code = 0
            try:
                self._serve()
            except BaseException:
                code = 1
            os._exit(code)
        # The connection's number in fusectl is the minor of the mount's device.
        self.conn = os.minor(os.stat(self.mountpoint).st_dev)
        return self

    def hang(self, pid):
        struct.pack_into('<q', self.shared, 0, pid)

    def held(self):
        return struct.unpack_from('<q', self.shared, 8)[0]

    def __exit__(self, *exc):
        self.abort()
        subprocess.run(['umount', '-l', str(self.mountpoint)], check=False)
        os.close(self.fd)
        self.fd = -1
        os.waitpid(self.child, 0)

    def abort(self):
        """Fails every waiting request with ENOTCONN, through fusectl (mounted if needed). In a
        child without LD_PRELOAD: under umockdev-wrapper this process sees the testbed's /sys."""
        env = {k: v for k, v in os.environ.items() if k != 'LD_PRELOAD'}
        conns = '/sys/fs/fuse/connections'
        script = (f'mountpoint -q {conns} || mount -t fusectl none {conns}; '
                  f'[ ! -e {conns}/{self.conn}/abort ] || echo 1 > {conns}/{self.conn}/abort')
        subprocess.run(['sh', '-c', script], env=env, check=True)

    def _reply(self, unique, error=0, payload=b''):
        with contextlib.suppress(FileNotFoundError, OSError):
            os.write(self.fd, OUT_HEADER.pack(OUT_HEADER.size + len(payload), -error, unique) + payload)

    def _serve(self):
        while True:
            try:
                buf = os.read(self.fd, 1 << 21)
            except OSError:
                return          # aborted
            _len, op, unique, node, _uid, _gid, pid, *_ = IN_HEADER.unpack_from(buf)
            if op in NO_REPLY:
                continue
            target = struct.unpack_from('<q', self.shared, 0)[0]
            if target and node == FILE and op in (FUSE_GETATTR, FUSE_READ) and thread_group(pid) == target:
                struct.pack_into('<q', self.shared, 8, self.held() + 1)
                continue
            self._handle(op, unique, node, buf[IN_HEADER.size:])

    def _handle(self, op, unique, node, body):
        file_attr = fuse_attr(FILE, stat.S_IFREG | 0o644, len(self.data))
        if op == FUSE_INIT:
            _major, _minor, readahead, _flags = struct.unpack_from('<IIII', body)
            # major minor max_readahead flags max_background congestion max_write time_gran max_pages
            # map_alignment flags2 unused[7]
            self._reply(unique, 0, struct.pack('<IIIIHHIIHHI28x', 7, 31, readahead, 0, 16, 12, 1 << 20, 1, 256, 0, 0))
        elif op == FUSE_LOOKUP:
            if node == ROOT and body.rstrip(b'\0') == self.name:
                # attributes never cached, so every fstat asks again
                self._reply(unique, 0, struct.pack('<QQQQII', FILE, 0, 0, 0, 0, 0) + file_attr)
            else:
                self._reply(unique, errno.ENOENT)
        elif op == FUSE_GETATTR:
            a = fuse_attr(ROOT, stat.S_IFDIR | 0o755, 0) if node == ROOT else file_attr
            self._reply(unique, 0, struct.pack('<QII', 0, 0, 0) + a)
        elif op == FUSE_OPEN:
            self._reply(unique, 0, struct.pack('<QII', 1, 0, 0))
        elif op == FUSE_READ:
            _fh, offset, size = struct.unpack_from('<QQI', body)
            self._reply(unique, 0, self.data[offset:offset + size])
        elif op in (FUSE_RELEASE, FUSE_FLUSH, FUSE_DESTROY):
            self._reply(unique, 0)
        else:
            self._reply(unique, errno.ENOSYS)
