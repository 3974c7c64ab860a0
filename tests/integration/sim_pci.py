"""Simulated-host part of the pci area (kernel-interfaces.md §8-§10).

populate(host) builds a PCI tree in the umockdev testbed from a real `lspci -xxxx` dump:
  /sys/devices/pci0000:00/...      one directory per device, nested by bus ranges (a device's
                                   parent directory is its upstream bridge), with vendor, device,
                                   class, ... attributes and the 4 KiB binary `config`
  driver links                     to /sys/bus/pci/drivers/<name> (opts: pci_drivers={addr: drv})
  iommu_group links                to /sys/kernel/iommu_groups/N, and N/devices/<addr>, N/type
                                   (the groups the real kernel made for the dump)
The genoa profile (and every other one) uses tests/fixtures/pci/switch-no-acs: a switch whose
downstream ports have no ACS, so the demo host shows an unsafe group. The PSP function that
sim_psp.py adds at 0000:c1:00.1 gets a config space and an IOMMU group of its own.

Options (SimHost(profile, **opts)):
  pci_fixture='switch-acs'       another tests/fixtures/pci/<name>
  pci_iommu=False                no /sys/kernel/iommu_groups at all (IOMMU off)
  pci_group_type='identity'      the type of every group (default DMA)
  pci_sriov=True                 give 0000:06:00.0 an SR-IOV capability (pci_sriov_total VFs, default
                                 256, offset 1, stride 1; the root port above spans their buses)
  pci_drivers={addr: name}       drivers to bind (default: endpoints get their usual driver)
Helpers for tests: add_vfs(host, n), remove_device(host, addr), set_acs_ctrl(host, addr, ctrl).
"""

import pathlib
import struct
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / 'tests' / 'fixtures' / 'pci'
PSP_ADDRESS = '0000:c1:00.1'
SRIOV_PF = '0000:06:00.0'
SRIOV_OFFSET = 0x200

DEFAULT_DRIVERS = {
    '0000:00:04.0': 'pcieport', '0000:00:05.0': 'pcieport', '0000:01:00.0': 'pcieport',
    '0000:02:00.0': 'pcieport', '0000:02:01.0': 'pcieport', '0000:02:02.0': 'pcieport',
    '0000:03:00.0': 'vfio-pci', '0000:04:00.0': 'virtio-pci', '0000:05:00.0': 'nvme',
    '0000:06:00.0': 'e1000e', '0000:00:1f.2': 'ahci', '0000:00:1f.3': 'i801_smbus',
}


def parse_dump(path):
    """lspci -xxxx text -> list of (address, bytearray(4096)); short dumps padded with 0xff."""
    devs = []
    cur = None
    for line in pathlib.Path(path).read_text().splitlines():
        if not line.strip():
            cur = None
            continue
        head = line.split(' ', 1)[0]
        if ':' in head and '.' in head and not head.endswith(':'):
            addr = head if head.count(':') == 2 else '0000:' + head
            cur = bytearray(b'\xff' * 4096)
            devs.append([addr, cur, 0])
            continue
        if cur is not None and ':' in head:
            off = int(head.rstrip(':'), 16)
            for i, b in enumerate(line.split(':', 1)[1].split()):
                cur[off + i] = int(b, 16)
            devs[-1][2] = max(devs[-1][2], off + 16)
    return [(a, c if n > 256 else c[:n]) for a, c, n in devs]


def parse_groups(path):
    groups = {}
    for line in pathlib.Path(path).read_text().splitlines():
        if '/iommu_groups/' not in line:
            continue
        rest = line.split('/iommu_groups/', 1)[1]
        n, _, addr = rest.split('/', 2)
        groups[addr] = int(n)
    return groups


def u16(cfg, off):
    return struct.unpack_from('<H', cfg, off)[0]


def ext_caps(cfg):
    off, seen = 0x100, set()
    while off and off not in seen and off + 4 <= len(cfg):
        seen.add(off)
        h = struct.unpack_from('<I', cfg, off)[0]
        if h in (0, 0xffffffff):
            return
        yield off, h & 0xffff
        off = (h >> 20) & 0xffc


def find_ext_cap(cfg, cap_id):
    for off, i in ext_caps(cfg):
        if i == cap_id:
            return off
    return None


def add_sriov_cap(cfg, num_vfs, total=256, offset=1, stride=1, vf_device=0x10ed):
    """Appends an SR-IOV capability at SRIOV_OFFSET (free in the e1000e's config space)."""
    last = None
    for off, _ in ext_caps(cfg):
        last = off
    body = bytearray(0x40)
    struct.pack_into('<I', body, 0, 0x0010 | (1 << 16))
    struct.pack_into('<H', body, 0x08, 0x0001 if num_vfs else 0)   # VF Enable
    struct.pack_into('<HHH', body, 0x0c, total, total, num_vfs)     # initial, total, num
    struct.pack_into('<HH', body, 0x14, offset, stride)
    struct.pack_into('<H', body, 0x1a, vf_device)
    cfg[SRIOV_OFFSET:SRIOV_OFFSET + 0x40] = body
    if last is not None and last != SRIOV_OFFSET:
        h = struct.unpack_from('<I', cfg, last)[0]
        struct.pack_into('<I', cfg, last, (h & 0x000fffff) | (SRIOV_OFFSET << 20))


def bus_of(addr):
    return int(addr.split(':')[1], 16)


class PciSim:
    def __init__(self, host):
        self.host = host
        self.tb = host.tb
        self.paths = {}         # address -> syspath
        self.configs = {}       # address -> bytearray
        self.groups = {}
        self.virtfns = {}
        self.next_group = 100

    # -- building --

    def root_path(self, domain='0000', bus=0):
        name = f'pci{domain}:{bus:02x}'
        p = f'/sys/devices/{name}'
        if not (self.host.sysroot / p.lstrip('/')).exists():
            self.tb.add_device('pci_bus', name, None, [], [])
        return p

    def driver_dir(self, name):
        d = self.host.sys_path(f'bus/pci/drivers/{name}')
        d.mkdir(parents=True, exist_ok=True)
        return d

    def set_driver(self, addr, name):
        link = self.host.sysroot / self.paths[addr].lstrip('/') / 'driver'
        if link.is_symlink() or link.exists():
            link.unlink()
        if name:
            link.symlink_to(self.driver_dir(name))

    def set_group(self, addr, n):
        gtype = self.host.opts.get('pci_group_type', 'DMA')
        gdir = self.host.sys_path(f'kernel/iommu_groups/{n}')
        (gdir / 'devices').mkdir(parents=True, exist_ok=True)
        if not (gdir / 'type').exists():
            (gdir / 'type').write_text(gtype + '\n')
        dev_dir = self.host.sysroot / self.paths[addr].lstrip('/')
        member = gdir / 'devices' / addr
        if not member.is_symlink():
            member.symlink_to(dev_dir)
        link = dev_dir / 'iommu_group'
        if link.is_symlink():
            link.unlink()
        link.symlink_to(gdir)
        self.groups[addr] = n

    def add(self, addr, cfg, parent_path, driver=None, group=None, physfn=None):
        vendor, device = u16(cfg, 0), u16(cfg, 2)
        if physfn is not None:  # VF IDs read 0xffff in config space; sysfs shows the PF's
            vendor = u16(self.configs[physfn], 0)
            off = find_ext_cap(self.configs[physfn], 0x10)
            device = u16(self.configs[physfn], off + 0x1a) if off else device
        cls = cfg[0x0b] << 16 | cfg[0x0a] << 8 | cfg[0x09]
        attrs = ['vendor', f'0x{vendor:04x}', 'device', f'0x{device:04x}', 'class', f'0x{cls:06x}',
                 'subsystem_vendor', f'0x{u16(cfg, 0x2c):04x}', 'subsystem_device', f'0x{u16(cfg, 0x2e):04x}',
                 'revision', f'0x{cfg[8]:02x}', 'irq', '0', 'enable', '1',
                 'resource', '0x0000000000000000 0x0000000000000000 0x0000000000000000\n' * 13]
        props = ['PCI_CLASS', f'{cls:X}', 'PCI_ID', f'{vendor:04X}:{device:04X}', 'PCI_SLOT_NAME', addr,
                 'MODALIAS', f'pci:v0000{vendor:04X}d0000{device:04X}sv*sd*bc{cls >> 16:02X}sc*i*']
        if driver:
            props += ['DRIVER', driver]
        path = self.tb.add_device('pci', addr, parent_path, attrs, props)
        if path is None:
            raise RuntimeError(f'umockdev could not add {addr} below {parent_path}')
        self.tb.set_attribute_binary(path, 'config', bytes(cfg))
        self.paths[addr] = path
        self.configs[addr] = bytearray(cfg)
        if driver:
            self.set_driver(addr, driver)
        if physfn is not None:
            d = self.host.sysroot / path.lstrip('/')
            (d / 'physfn').symlink_to(self.host.sysroot / self.paths[physfn].lstrip('/'))
            pf_dir = self.host.sysroot / self.paths[physfn].lstrip('/')
            idx = len([x for x in pf_dir.iterdir() if x.name.startswith('virtfn')])
            (pf_dir / f'virtfn{idx}').symlink_to(d)
        if group is not None:
            self.set_group(addr, group)
        return path

    def build(self, dump, groups):
        devs = parse_dump(dump)
        by_addr = {a: c for a, c in devs}
        if self.host.opts.get('pci_sriov') and SRIOV_PF in by_addr:
            total = self.host.opts.get('pci_sriov_total', 256)
            add_sriov_cap(by_addr[SRIOV_PF], 0, total=total)
            # the root port spans the buses the VFs land on (RID = PF + 1 + i)
            by_addr['0000:00:05.0'][0x1a] = (0x600 + total) >> 8
        # the bridge above each bus, from bus ranges
        above = {}
        for a, c in devs:
            if len(c) >= 0x1b and (c[0x0e] & 0x7f) == 1 and c[0x19] > bus_of(a):
                above.setdefault((a[:4], c[0x19]), a)
        drivers = dict(DEFAULT_DRIVERS)
        drivers.update(self.host.opts.get('pci_drivers', {}))
        iommu = self.host.opts.get('pci_iommu', True)
        pending = sorted(by_addr)
        while pending:                  # parents first
            progress = False
            for a in list(pending):
                br = above.get((a[:4], bus_of(a)))
                if br is not None and br not in self.paths:
                    continue
                parent = self.paths[br] if br else self.root_path(a[:4], bus_of(a))
                self.add(a, by_addr[a], parent, drivers.get(a), groups.get(a) if iommu else None)
                pending.remove(a)
                progress = True
            if not progress:
                raise RuntimeError(f'cannot place {pending}: no bridge for their bus')
        if iommu:
            self.host.sys_path('kernel/iommu_groups').mkdir(parents=True, exist_ok=True)
            self.next_group = max(list(groups.values()) + [0]) + 1

    def give_psp_config(self):
        """sim_psp adds 0000:c1:00.1 without config space; give it one (PCIe endpoint) and a group."""
        psp = getattr(self.host, '_psp_syspath', None)
        if not psp:
            return
        cfg = bytearray(4096)
        dev = int((self.host.sysroot / psp.lstrip('/') / 'device').read_text().strip(), 16)
        struct.pack_into('<HH', cfg, 0, 0x1022, dev)
        cfg[0x09:0x0c] = bytes([0x00, 0x80, 0x10])
        cfg[0x0e] = 0x80            # function 1 of a multifunction device
        struct.pack_into('<H', cfg, 0x06, 0x0010)
        cfg[0x34] = 0x48
        cfg[0x48:0x4c] = bytes([0x10, 0x00, 0x02, 0x00])   # PCIe capability v2, endpoint
        self.tb.set_attribute_binary(psp, 'config', bytes(cfg))
        self.paths[PSP_ADDRESS] = psp
        self.configs[PSP_ADDRESS] = cfg
        if self.host.opts.get('pci_iommu', True):
            self.set_group(PSP_ADDRESS, self.next_group)
            self.next_group += 1

    # -- runtime changes (the uevents a kernel would send) --

    def add_vfs(self, n, offset=1, stride=1, announce_pf=True, drain=None):
        """Enables n VFs on the SR-IOV PF: the VFs appear (one add each), then the PF changes."""
        pf = SRIOV_PF
        cfg = self.configs[pf]
        off = find_ext_cap(cfg, 0x10)
        struct.pack_into('<H', cfg, off + 0x08, 1)
        struct.pack_into('<H', cfg, off + 0x10, n)
        struct.pack_into('<HH', cfg, off + 0x14, offset, stride)
        self.tb.set_attribute_binary(self.paths[pf], 'config', bytes(cfg))
        parent = str(pathlib.PurePosixPath(self.paths[pf]).parent)
        pf_rid = bus_of(pf) << 8
        vf_cfg = bytearray(4096)
        vf_cfg[0:4] = b'\xff\xff\xff\xff'
        vf_cfg[0x09:0x0c] = bytes([0x00, 0x00, 0x02])
        struct.pack_into('<H', vf_cfg, 0x06, 0x0010)
        vf_cfg[0x34] = 0x40
        vf_cfg[0x40:0x44] = bytes([0x10, 0x00, 0x02, 0x00])
        added = []
        for i in range(n):
            rid = pf_rid + offset + i * stride
            addr = f'0000:{rid >> 8:02x}:{(rid >> 3) & 0x1f:02x}.{rid & 7}'
            self.add_quiet(addr, vf_cfg, parent, self.next_group if self.host.opts.get('pci_iommu', True) else None,
                           physfn=pf)
            self.next_group += 1
            added.append(addr)
        # the kernel's order: one "add" per VF, then "change" on the PF
        # umockdev delivers over unix datagram sockets (net.unix.max_dgram_qlen is often 10) and
        # aborts on EAGAIN: send in chunks of 6 and let the listener drain in between. drain(sent)
        # may wait for the daemon to have seen them (see Statistics "events"); else sleep.
        self.storm_started = time.monotonic()
        for i, addr in enumerate(added):
            self.tb.uevent(self.paths[addr], 'add')
            if i % 6 == 5:
                if drain:
                    drain(i + 1)
                else:
                    time.sleep(0.002)
        if announce_pf:
            self.tb.uevent(self.paths[pf], 'change')
        self.storm_ended = time.monotonic()
        return added

    def add_quiet(self, addr, cfg, parent_path, group=None, physfn=None):
        """Like add(), but builds the sysfs entry by hand without a uevent, so that a storm can be
        announced afterwards in one tight loop, as a kernel does (umockdev's add_device emits its
        "add" before the attributes exist and takes ~20 ms per device)."""
        vendor = u16(self.configs[physfn], 0) if physfn else u16(cfg, 0)
        off = find_ext_cap(self.configs[physfn], 0x10) if physfn else None
        device = u16(self.configs[physfn], off + 0x1a) if off else u16(cfg, 2)
        cls = cfg[0x0b] << 16 | cfg[0x0a] << 8 | cfg[0x09]
        path = f'{parent_path}/{addr}'
        d = self.host.sysroot / path.lstrip('/')
        d.mkdir()
        for k, v in (('vendor', f'0x{vendor:04x}'), ('device', f'0x{device:04x}'), ('class', f'0x{cls:06x}'),
                     ('subsystem_vendor', '0x0000'), ('subsystem_device', '0x0000'), ('revision', '0x00'),
                     ('irq', '0'), ('enable', '1')):
            (d / k).write_text(v + '\n')
        (d / 'config').write_bytes(bytes(cfg))
        (d / 'uevent').write_text(f'PCI_CLASS={cls:X}\nPCI_ID={vendor:04X}:{device:04X}\nPCI_SLOT_NAME={addr}\n')
        (d / 'subsystem').symlink_to(self.host.sys_path('bus/pci'))
        self.host.sys_path(f'bus/pci/devices/{addr}').symlink_to(d)
        self.paths[addr] = path
        self.configs[addr] = bytearray(cfg)
        if physfn is not None:
            pf_dir = self.host.sysroot / self.paths[physfn].lstrip('/')
            (d / 'physfn').symlink_to(pf_dir)
            idx = self.virtfns.get(physfn, 0)
            (pf_dir / f'virtfn{idx}').symlink_to(d)
            self.virtfns[physfn] = idx + 1
        if group is not None:
            self.set_group(addr, group)
        return path

    def hotplug(self, addr, cfg, parent_path, driver=None, group=None):
        """A device appears as on a real kernel: its config space, driver link and IOMMU group are
        in place before the "add" uevent (umockdev's add_device sends "add" first, and a daemon
        that reads quickly, or a test on a loaded machine, then saw a half-made device)."""
        link = self.host.sys_path(f'bus/pci/devices/{addr}')
        if link.is_symlink():
            link.unlink()
        path = self.add_quiet(addr, cfg, parent_path, group)
        if driver:
            self.set_driver(addr, driver)
        self.tb.uevent(path, 'add')
        return path

    def remove_vfs(self, addrs, drain=None):
        """SR-IOV disable: one "remove" per VF, paced like add_vfs(), then the sysfs entries go
        (umockdev builds the uevent from the device's directory, so it must still be there)."""
        import shutil
        for i, addr in enumerate(addrs):
            self.tb.uevent(self.paths[addr], 'remove')
            if i % 6 == 5:
                if drain:
                    drain(i + 1)
                else:
                    time.sleep(0.002)
        for addr in addrs:
            path = self.paths.pop(addr)
            shutil.rmtree(self.host.sysroot / path.lstrip('/'))
            self.host.sys_path(f'bus/pci/devices/{addr}').unlink()
            n = self.groups.pop(addr, None)
            if n is not None:
                m = self.host.sys_path(f'kernel/iommu_groups/{n}/devices/{addr}')
                if m.is_symlink():
                    m.unlink()

    def remove(self, addr):
        path = self.paths.pop(addr)
        self.tb.uevent(path, 'remove')
        self.tb.remove_device(path)
        n = self.groups.pop(addr, None)
        if n is not None:
            m = self.host.sys_path(f'kernel/iommu_groups/{n}/devices/{addr}')
            if m.is_symlink():
                m.unlink()

    def set_acs_ctrl(self, addr, ctrl):
        cfg = self.configs[addr]
        off = find_ext_cap(cfg, 0x0d)
        struct.pack_into('<H', cfg, off + 6, ctrl)
        self.tb.set_attribute_binary(self.paths[addr], 'config', bytes(cfg))
        self.tb.uevent(self.paths[addr], 'change')

    def bind(self, addr, driver):
        self.set_driver(addr, driver)
        self.tb.uevent(self.paths[addr], 'bind' if driver else 'unbind')


def populate(host):
    name = host.opts.get('pci_fixture', 'switch-no-acs')
    sim = PciSim(host)
    host.pci = sim
    sim.build(FIXTURES / name / 'lspci-xxxx.txt', parse_groups(FIXTURES / name / 'iommu-groups.find.txt'))
    sim.give_psp_config()


def add_vfs(host, n):
    return host.pci.add_vfs(n)


def remove_device(host, addr):
    host.pci.remove(addr)


def set_acs_ctrl(host, addr, ctrl):
    host.pci.set_acs_ctrl(addr, ctrl)


def object_path(addr):
    """sd_bus_path_encode('/org/hwsecd1/pci', addr)"""
    out = []
    for i, ch in enumerate(addr):
        if ch.isalnum() and ch.isascii() and not (i == 0 and ch.isdigit()):
            out.append(ch)
        else:
            out.append('_%02x' % ord(ch))
    return '/org/hwsecd1/pci/' + ''.join(out)


__all__ = ['populate', 'add_vfs', 'remove_device', 'set_acs_ctrl', 'object_path', 'parse_dump', 'PciSim']
