#!/usr/bin/python3
"""Writes a synthetic `lspci -xxxx` dump of about N PCI devices for the pci benchmarks.

Shape (repeated per PCI domain until N devices exist): root ports with ACS, each above a PCIe
switch (upstream port, 8 downstream ports: the even switches with ACS on every port, the odd ones
without ACS), and below each downstream port an SR-IOV physical function with 7 VFs
(functions 1-7, VF offset 1, stride 1). Every device has a full 4 KiB config space, as
`sudo lspci -xxxx` prints it.

    scripts/bench-pci-gen.py N OUTPUT       e.g. scripts/bench-pci-gen.py 16384 /tmp/pci-16k.txt
"""

import struct
import sys


def hexdump(addr, name, cfg):
    out = [f'{addr} {name}\n']
    for off in range(0, 4096, 16):
        out.append(('%02x: ' if off < 0x100 else '%03x: ') % off)
        out.append(' '.join('%02x' % b for b in cfg[off:off + 16]))
        out.append('\n')
    out.append('\n')
    return ''.join(out)


def base(vendor, device, cls, header, port_type=None, mf=False):
    c = bytearray(4096)
    struct.pack_into('<HH', c, 0, vendor, device)
    c[0x08] = 1
    c[0x09], c[0x0a], c[0x0b] = cls & 0xff, (cls >> 8) & 0xff, cls >> 16
    c[0x0e] = header | (0x80 if mf else 0)
    if port_type is not None:
        struct.pack_into('<H', c, 0x06, 0x0010)
        c[0x34] = 0x40
        c[0x40:0x44] = bytes([0x10, 0x00, 0x02 | (port_type << 4), 0x00])
    return c


def ext(c, off, cap_id, nxt):
    struct.pack_into('<I', c, off, cap_id | (1 << 16) | (nxt << 20))


def bridge(c, pri, sec, sub):
    c[0x18], c[0x19], c[0x1a] = pri, sec, sub


def acs(c, off, ctrl, nxt=0):
    ext(c, off, 0x000d, nxt)
    struct.pack_into('<HH', c, off + 4, 0x005f, ctrl)


def generate(n, out):
    count = 0
    domain = 0
    sw = 0
    while count < n:
        bus = 1
        dev_rp = 1
        while count < n and bus + 10 < 256 and dev_rp < 32:
            d = f'{domain:04x}'
            rp = base(0x1022, 0x14ab, 0x060400, 1, port_type=4)
            bridge(rp, 0, bus, bus + 9)
            ext(rp, 0x100, 0x0001, 0x150)    # AER
            acs(rp, 0x150, 0x001d)
            out.write(hexdump(f'{d}:00:{dev_rp:02x}.0', 'PCI bridge: Root Port', rp))
            count += 1
            usp = base(0x10b5, 0x8725, 0x060400, 1, port_type=5)
            bridge(usp, bus, bus + 1, bus + 9)
            out.write(hexdump(f'{d}:{bus:02x}:00.0', 'PCI bridge: Switch upstream port', usp))
            count += 1
            with_acs = sw % 2 == 0
            for p in range(8):
                sec = bus + 2 + p
                dsp = base(0x10b5, 0x8725, 0x060400, 1, port_type=6)
                bridge(dsp, bus + 1, sec, sec)
                if with_acs:
                    acs(dsp, 0x100, 0x001d)
                out.write(hexdump(f'{d}:{bus + 1:02x}:{p:02x}.0', 'PCI bridge: Switch downstream port', dsp))
                pf = base(0x15b3, 0x101d, 0x020000, 0, port_type=0)
                ext(pf, 0x100, 0x0010, 0)        # SR-IOV
                struct.pack_into('<H', pf, 0x108, 0x0001)
                struct.pack_into('<HHH', pf, 0x10c, 7, 7, 7)
                struct.pack_into('<HH', pf, 0x114, 1, 1)
                struct.pack_into('<H', pf, 0x11a, 0x101e)
                out.write(hexdump(f'{d}:{sec:02x}:00.0', 'Ethernet controller: PF', pf))
                count += 2
                for f in range(1, 8):
                    vf = base(0xffff, 0xffff, 0x020000, 0, port_type=0)
                    out.write(hexdump(f'{d}:{sec:02x}:00.{f}', 'Ethernet controller: VF', vf))
                    count += 1
            bus += 10
            dev_rp += 1
            sw += 1
        domain += 1
    return count


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    n = int(sys.argv[1])
    with open(sys.argv[2], 'w') as f:
        total = generate(n, f)
    print(f'{sys.argv[2]}: {total} devices')


if __name__ == '__main__':
    main()
