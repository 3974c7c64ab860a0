"""Simulated-host part of the sfs area: the misc device /dev/sfs with ioctl emulation.

Written from kernel-interfaces.md §6 (Linux v6.18 drivers/crypto/ccp/sfs.c, uapi psp-sfs.h):
  SFSIOCFWVERS    0xD0085301, struct {u8 blob[4096]; u32 sfs_status; u32 sfs_extended_status} packed
  SFSIOCUPDATEPKG 0xC0485302, struct {char payload_name[64]; u32 sfs_status; u32 sfs_extended_status} packed
The kernel loads amd/<payload_name> from the firmware search path itself: here that is
host.root/firmware/amd/ (HWSECD_FIRMWARE_DIR). round_up(size + 4 KiB, 64 KiB) > 2 MiB -> E2BIG.

The versions blob is SYNTHETIC: the real format is in AMD document 58604, which we have not read.
It is a 4 KiB page pre-filled with 0xC7 (as the kernel does), a 16-byte binary header and a few
ASCII lines that name themselves as simulated; the generation number goes up after every
successful update so that "before" and "after" differ.

Modes for the update ioctl (handler.mode):
  success   status 0, the blob changes
  fw-error  -EIO with sfs_status/extended status copied back (FW_ERROR_STATUS / FW_ERROR_EXT)
  busy      -EBUSY (mailbox busy), nothing copied back
  badsig    -EPERM (invalid signature), nothing copied back
  slow      success after handler.slow_seconds (SLOW_SECONDS = 5 by default)
  remove    blocks until the device is removed (remove_device()), then -ENODEV
"""

import errno
import os
import struct
import threading
import time

import gi

gi.require_version('UMockdev', '1.0')
from gi.repository import GLib, UMockdev  # noqa: E402

SFSIOCFWVERS = 0xD0085301
SFSIOCUPDATEPKG = 0xC0485302
SYSPATH = '/sys/devices/virtual/misc/sfs'
MAX_PACKAGE = 2 * 1024 * 1024
FW_ERROR_STATUS = 0x17
FW_ERROR_EXT = 0xBEEF0042
SLOW_SECONDS = 5.0
PROFILES_WITH_SFS = ('genoa', 'turin')

RECORD = """P: /devices/virtual/misc/sfs
N: sfs
E: DEVNAME=/dev/sfs
E: SUBSYSTEM=misc
E: MAJOR=10
E: MINOR=121
A: dev=10:121
"""


def make_blob(profile, generation):
    blob = bytearray(b'\xc7' * 4096)
    lines = [f'hwsecd-sim {profile} ASP firmware 1.55.{generation}',
             f'hwsecd-sim {profile} TMPM patch level {0x20 + generation:#x}',
             'hwsecd-sim synthetic blob, not AMD 58604 format']
    off = 0
    blob[off:off + 16] = struct.pack('<IIII', 0x53465356, generation, len(lines), 0)
    off = 16
    for text in lines:
        data = text.encode() + b'\0'
        blob[off:off + len(data)] = data
        off += len(data)
    return bytes(blob)


class SfsHandler(UMockdev.IoctlBase):
    def __init__(self, host):
        super().__init__()
        self.host = host
        self.mode = 'success'
        self.slow_seconds = SLOW_SECONDS
        self.generation = 1
        self.lock = threading.Lock()
        self.updates = []          # payload names the "kernel" was asked to load, in order
        self.versions_reads = 0
        self.removed = threading.Event()
        self.in_update = threading.Event()

    def blob(self):
        with self.lock:
            return make_blob(self.host.profile, self.generation)

    def do_handle_ioctl(self, client):
        try:
            return self._handle(client)
        except GLib.Error:
            # The caller went away mid-ioctl (the crash test SIGKILLs hwsecd): nobody to answer.
            return True

    def _handle(self, client):
        req = client.get_request()
        if self.removed.is_set():
            client.complete(-1, errno.ENODEV)
            return True
        if req == SFSIOCFWVERS:
            return self._versions(client)
        if req == SFSIOCUPDATEPKG:
            return self._update(client)
        client.complete(-1, errno.EINVAL)
        return True

    def _versions(self, client):
        data = client.get_arg().resolve(0, 4104)
        with self.lock:
            self.versions_reads += 1
        data.update(0, self.blob() + struct.pack('<II', 0, 0))
        client.complete(0, 0)
        return True

    def _update(self, client):
        data = client.get_arg().resolve(0, 72)
        raw = bytes(data.retrieve())
        if b'\0' not in raw[:64]:
            client.complete(-1, errno.EINVAL)
            return True
        name = raw[:raw.index(b'\0')].decode('latin-1')
        with self.lock:
            self.updates.append(name)
            mode = self.mode
        self.in_update.set()
        path = self.host.root / 'firmware' / 'amd' / name
        if not path.is_file():
            client.complete(-1, errno.ENOENT)
            return True
        size = path.stat().st_size
        if (size + 4096 + 65535) // 65536 * 65536 > MAX_PACKAGE:
            client.complete(-1, errno.E2BIG)
            return True
        if mode == 'fw-error':
            data.update(64, struct.pack('<II', FW_ERROR_STATUS, FW_ERROR_EXT))
            client.complete(-1, errno.EIO)
        elif mode == 'busy':
            client.complete(-1, errno.EBUSY)
        elif mode == 'badsig':
            client.complete(-1, errno.EPERM)
        elif mode == 'remove':
            self.removed.wait(30)
            client.complete(-1, errno.ENODEV)
        else:
            if mode == 'slow':
                time.sleep(self.slow_seconds)
            with self.lock:
                self.generation += 1
            data.update(64, struct.pack('<II', 0, 0))
            client.complete(0, 0)
        return True


def add_device(host):
    host.tb.add_from_string(RECORD)
    host.tb.attach_ioctl('/dev/sfs', host.sfs)


def remove_device(host):
    """Hot-unplug for good: the remove uevent, then the device and its node go away. (umockdev
    0.17 cannot create the same node again afterwards: it asserts in its dev_fd map.)"""
    host.sfs.removed.set()
    host.tb.uevent(SYSPATH, 'remove')
    host.tb.remove_device(SYSPATH)


def unplug(host):
    """Hot-unplug that can be undone: the remove uevent, and every ioctl answers ENODEV as a
    gone misc device would; the node file itself stays (see remove_device for why)."""
    host.sfs.removed.set()
    host.tb.uevent(SYSPATH, 'remove')


def replug(host):
    host.sfs.removed.clear()
    host.tb.uevent(SYSPATH, 'add')


def populate(host):
    host.sfs = None
    if host.profile not in PROFILES_WITH_SFS or host.opts.get('sfs') is False:
        return
    host.sfs = host.keep(SfsHandler(host))
    host.sfs.mode = host.opts.get('sfs_mode', 'success')
    add_device(host)


def stage(host, name, data):
    """Puts a package straight into the firmware directory (as an operator with a shell would)."""
    p = host.root / 'firmware' / 'amd' / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    os.chmod(p, 0o644)
    return p
