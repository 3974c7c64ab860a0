"""A simulated EPYC host: a umockdev testbed for /sys and /dev, plus a temp root for the paths
hwsecd reads through its paths module (/proc, CPUID, modprobe.d, firmware, cgroups, state,
configuration). Each area fills in its part from sim_<area>.py."""

import os
import pathlib
import shutil
import tempfile

import gi

gi.require_version('UMockdev', '1.0')
from gi.repository import UMockdev  # noqa: E402

import sim_asid  # noqa: E402
import sim_pci  # noqa: E402
import sim_psp  # noqa: E402
import sim_sfs  # noqa: E402

PROFILES = ('genoa', 'milan', 'turin', 'snp-uninit', 'fw-error', 'no-psp')
DEFAULT_CMDLINE = 'BOOT_IMAGE=/vmlinuz-6.18.0-amd64 root=/dev/mapper/vg-root ro quiet amd_iommu=on iommu=nopt'

AREAS = (sim_psp, sim_asid, sim_sfs, sim_pci)


def in_umockdev():
    return 'umockdev-preload' in os.environ.get('LD_PRELOAD', '')


class SimHost:
    def __init__(self, profile='genoa', areas=AREAS, **opts):
        if not in_umockdev():
            raise RuntimeError('run the tests under umockdev-wrapper (scripts/test does)')
        self.profile = profile
        self.opts = opts
        self.tb = UMockdev.Testbed.new()
        self.sysroot = pathlib.Path(self.tb.get_root_dir())
        self.root = pathlib.Path(tempfile.mkdtemp(prefix='hwsec-host-'))
        self._keep = []
        for d in ('state', 'etc', 'modprobe.d', 'firmware/amd', 'cgroup', 'proc', 'run'):
            (self.root / d).mkdir(parents=True, exist_ok=True)
        self.write('proc/cmdline', opts.get('cmdline', DEFAULT_CMDLINE) + '\n')
        self.env = {
            'UMOCKDEV_DIR': str(self.sysroot),
            'SYSTEMD_DEVICE_VERIFY_SYSFS': '0',
            'STATE_DIRECTORY': str(self.root / 'state'),
            'CONFIGURATION_DIRECTORY': str(self.root / 'etc'),
            'RUNTIME_DIRECTORY': str(self.root / 'run'),
            'HWSECD_MODPROBE_DIR': str(self.root / 'modprobe.d'),
            'HWSECD_FIRMWARE_DIR': str(self.root / 'firmware'),
            'HWSECD_CGROUP_ROOT': str(self.root / 'cgroup'),
            'HWSECD_PROC_DIR': str(self.root / 'proc'),
            'HWSECD_CPUID': str(self.root / 'cpuid.txt'),
        }
        for area in areas:
            area.populate(self)

    def path(self, rel):
        return self.root / rel

    def write(self, rel, data):
        p = self.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            p.write_bytes(data)
        else:
            p.write_text(data)
        return p

    def sys_path(self, rel):
        return self.sysroot / 'sys' / rel

    def write_sys(self, rel, data):
        p = self.sys_path(rel)
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            p.write_bytes(data)
        else:
            p.write_text(data)
        return p

    def keep(self, obj):
        self._keep.append(obj)
        return obj

    def config(self, text):
        """Writes hwsecd.conf."""
        return self.write('etc/hwsecd.conf', text)

    def close(self):
        for area in AREAS:
            close = getattr(area, 'close', None)
            if close:
                close(self)
        self._keep.clear()
        shutil.rmtree(self.root, ignore_errors=True)
        self.tb = None
