"""The areas' parts of scripts/demo, in the order an operator would look at a new host."""

import time

from importlib import import_module

demo = import_module('__main__')


def psp(host):
    demo.show(host, 'psp', note='The PSP and its SEV / SNP platform status, read through /dev/sev')
    demo.show(host, 'check', note='Readiness checks, with evidence and fix hints')


def asid(host):
    demo.show(host, 'asid', note='ASID pools: ciphertext hiding gives SNP its own range')
    demo.show(host, 'asid', 'explain', note='Why each range is what it is')
    demo.show(host, 'asid', 'set-policy', '--ciphertext-hiding', 'all-snp', '--dry-run',
              note='A dry run of a policy that would leave SEV-ES without ASIDs: refused without consent')
    demo.show(host, 'asid', 'set-policy', '--ciphertext-hiding', '64', '--dry-run',
              note='A dry run of a policy that keeps SEV-ES usable')


def firmware(host):
    demo.show(host, 'firmware', 'versions', note='PSP firmware versions from /dev/sfs (SFSIOCFWVERS)')
    package = host.write('incoming/amd_sfs_patch_1.sbin', b'\x5a' * 65536)
    demo.show(host, 'firmware', 'stage', str(package), note='Stage a firmware package (copied atomically, sha256 kept)')
    demo.show(host, 'firmware', 'schedule', 'amd_sfs_patch_1.sbin', '--at', '+3s',
              note='Schedule the update three seconds ahead')
    demo.show(host, 'firmware', 'jobs')
    time.sleep(4.5)
    demo.show(host, 'firmware', 'history', note='After the update ran: the result, with versions before and after')


def pci(host):
    demo.show(host, 'pci', 'tree', note='PCIe topology with IOMMU groups and isolation verdicts')
    demo.show(host, 'pci', 'check', '0000:03:00.0',
              note='Can the NIC behind the switch without ACS be given to a guest alone?')


STEPS = [psp, asid, firmware, pci]
