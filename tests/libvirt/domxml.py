"""Domain XML for the libvirt hook tests, written the way libvirtd writes the live XML it hands
to a hook on stdin (single quotes, host side in <source><address>, guest side in a sibling
<address type='pci'>)."""

FIXTURES = __import__('pathlib').Path(__file__).resolve().parents[1] / 'fixtures' / 'libvirt'


def hostdev(address, guest_slot):
    dom, bus, rest = address.split(':')
    slot, fn = rest.split('.')
    return (f"    <hostdev mode='subsystem' type='pci' managed='yes'>\n"
            f"      <source>\n"
            f"        <address domain='0x{dom}' bus='0x{bus}' slot='0x{slot}' function='0x{fn}'/>\n"
            f"      </source>\n"
            f"      <address type='pci' domain='0x0000' bus='0x00' slot='0x{guest_slot:02x}' function='0x0'/>\n"
            f"    </hostdev>\n")


def domain(name='guest', hostdevs=(), launch_security=None, policy=None, vcpus=1, memory_kib=65536,
           domain_type='qemu', x2apic_off=False, dom_id=None):
    sec = ''
    if launch_security == 'sev-snp':
        sec = ("  <launchSecurity type='sev-snp'>\n    <cbitpos>51</cbitpos>\n"
               "    <reducedPhysBits>1</reducedPhysBits>\n    <policy>0x00030000</policy>\n  </launchSecurity>\n")
    elif launch_security == 'sev':
        sec = (f"  <launchSecurity type='sev'>\n    <cbitpos>51</cbitpos>\n    <reducedPhysBits>1</reducedPhysBits>\n"
               f"    <policy>{policy or '0x0001'}</policy>\n  </launchSecurity>\n")
    cpu = "  <cpu mode='host-model'>\n    <feature policy='disable' name='x2apic'/>\n  </cpu>\n" if x2apic_off else ''
    ident = f" id='{dom_id}'" if dom_id is not None else ''
    devs = ''.join(hostdev(a, 2 + i) for i, a in enumerate(hostdevs))
    return (f"<domain type='{domain_type}'{ident}>\n  <name>{name}</name>\n"
            f"  <memory unit='KiB'>{memory_kib}</memory>\n  <currentMemory unit='KiB'>{memory_kib}</currentMemory>\n"
            f"  <vcpu placement='static'>{vcpus}</vcpu>\n"
            f"  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n    <boot dev='hd'/>\n  </os>\n{cpu}"
            f"  <clock offset='utc'/>\n  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>restart</on_reboot>\n"
            f"  <on_crash>destroy</on_crash>\n  <devices>\n    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n"
            f"    <controller type='pci' index='0' model='pci-root'/>\n{devs}"
            f"    <memballoon model='none'/>\n  </devices>\n{sec}</domain>\n")
