"""Simulated-host part of the psp area (kernel-interfaces.md §1, §4, §7).

populate(host) writes, per profile:
  host.root/cpuid.txt      `cpuid -r` format: leaves 0, 1, 0x80000000, 0x8000001F
  host.root/proc/cpuinfo   with the kernel's memory-encryption flags
  the PSP PCI function     0000:c1:00.1, vendor 0x1022, device per generation, driver link to
                           ccp, the ccp attributes that this generation shows
  /dev/sev                 misc 10:124, with an ioctl handler for SEV_ISSUE_CMD that answers
                           SEV_PLATFORM_STATUS and SNP_PLATFORM_STATUS with the packed layouts,
                           writes the firmware code back on EIO, and gives EINVAL on SNP status
                           when SNP is not initialised.
Nothing for /dev/sfs: sim_sfs.py creates it for the profiles that have SFS.

Options (SimHost(profile, **opts)):
  max_asid=N, min_sev_asid=N     CPUID 0x8000001F ECX / EDX
  bios_mem_encrypt=False         the kernel cleared sme/sev/sev_es/sev_snp from /proc/cpuinfo
  sev=dict(...), snp=dict(...)   override fields of the status answers (see SEV_DEFAULT/SNP_DEFAULT)
  sev_errno=E, snp_errno=E       make the ioctl fail with errno E (EIO writes fw_error back)
  fw_error=CODE                  the firmware status written back with EIO
  psp_attrs=dict(name=value)     replace the ccp sysfs attributes

hold_status() makes SEV commands wait until release_status(), like a hung PSP.
set_sev_devnum(), bind_sev_node() and hide_sev_node() make udev's view of /dev/sev and the node
the daemon can open disagree, as under the unit's private /dev after ccp is reloaded.
"""

import errno
import struct
import threading

import gi

gi.require_version('UMockdev', '1.0')
from gi.repository import UMockdev  # noqa: E402

PSP_ADDRESS = '0000:c1:00.1'
SEV_SYSPATH = '/sys/devices/virtual/misc/sev'
SEV_ISSUE_CMD = 0xC0105300
SEV_PLATFORM_STATUS = 1
SNP_PLATFORM_STATUS = 9

# CPU generation per profile: (leaf 1 EAX, 0x8000001F EAX, PCI device id, TEE)
GENERATIONS = {
    'genoa': (0x00a10f11, 0x0101fd3f, 0x14ca, True),     # family 0x19 model 0x11
    'milan': (0x00a00f11, 0x0001787f, 0x1486, False),    # family 0x19 model 0x01
    'turin': (0x00b00f21, 0x0101fd3f, 0x156e, True),     # family 0x1A model 0x02
}
PROFILE_GENERATION = {
    'genoa': 'genoa', 'milan': 'milan', 'turin': 'turin',
    'snp-uninit': 'genoa', 'fw-error': 'genoa', 'no-psp': 'genoa',
}
ASID_SPACE = {'genoa': (1006, 100), 'milan': (509, 100), 'turin': (1006, 100)}

FEATURE_INFO, RAPL_DIS, CTH_CAP, CTH_EN = 0x08, 0x10, 0x20, 0x40
GENOA_TCB = 0xdb18000000000304        # BL=4 TEE=3 SNP=24 uCode=219 (Milan/Genoa layout)
MILAN_TCB = 0xd114000000000203        # BL=3 TEE=2 SNP=20 uCode=209
TURIN_TCB = 0x4a00000005030201        # FMC=1 BL=2 TEE=3 SNP=5 uCode=74 (Turin layout)

SEV_DEFAULT = dict(api_major=1, api_minor=55, state=1, flags=0x100, build=21, guest_count=0)
SNP_DEFAULT = dict(api_major=1, api_minor=55, state=1, rmp=1, build_id=21,
                   flags=FEATURE_INFO | CTH_CAP | CTH_EN, guest_count=0,
                   current_tcb=GENOA_TCB, reported_tcb=GENOA_TCB)
PROFILE_SNP = {
    'milan': dict(flags=0, current_tcb=MILAN_TCB, reported_tcb=MILAN_TCB),
    # kvm_amd on the turin host asks for no ciphertext hiding (sim_asid: ciphertext_hiding_asids=0)
    'turin': dict(flags=FEATURE_INFO | CTH_CAP, current_tcb=TURIN_TCB, reported_tcb=TURIN_TCB),
    'snp-uninit': dict(state=0, rmp=0, flags=FEATURE_INFO | CTH_CAP),
}
PROFILE_ERRNO = {
    'snp-uninit': (None, errno.EINVAL),
    'fw-error': (errno.EIO, errno.EIO),
}

# ccp attributes (§7.3): security group only with security_reporting; tee_version only with TEE.
ATTRS = {
    'genoa': {'fused_part': '1', 'debug_lock_on': '1', 'tsme_status': '0', 'anti_rollback_status': '1',
              'rpmc_production_enabled': '0', 'rpmc_spirom_available': '0', 'hsp_tpm_available': '0',
              'rom_armor_enforced': '0', 'bootloader_version': '00.2d.00.78', 'tee_version': '00.2d.00.53'},
    'milan': {'bootloader_version': '00.18.00.3c'},
    'turin': {'fused_part': '1', 'debug_lock_on': '1', 'tsme_status': '0', 'anti_rollback_status': '1',
              'hsp_tpm_available': '1', 'rom_armor_enforced': '1', 'bootloader_version': '00.32.00.11',
              'tee_version': '00.32.00.09'},
}

MEM_FLAGS = {'genoa': 'sme sev sev_es sev_snp', 'milan': 'sme sev sev_es sev_snp', 'turin': 'sme sev sev_es sev_snp'}


def generation(host):
    return PROFILE_GENERATION.get(host.profile, 'genoa')


def asid_space(host):
    mx, mn = ASID_SPACE[generation(host)]
    return int(host.opts.get('max_asid', mx)), int(host.opts.get('min_sev_asid', mn))


def has_psp(host):
    return host.profile != 'no-psp' and host.opts.get('psp', True)


def write_cpuid(host):
    leaf1, mem, _dev, _tee = GENERATIONS[generation(host)]
    mx, mn = asid_space(host)
    vendor = 'ebx=0x68747541 ecx=0x444d4163 edx=0x69746e65'
    host.write('cpuid.txt',
               'CPU 0:\n'
               f'   0x00000000 0x00: eax=0x00000010 {vendor}\n'
               f'   0x00000001 0x00: eax=0x{leaf1:08x} ebx=0x00800800 ecx=0x7ef8320b edx=0x178bfbff\n'
               f'   0x80000000 0x00: eax=0x80000028 {vendor}\n'
               f'   0x8000001f 0x00: eax=0x{mem:08x} ebx=0x00004173 ecx=0x{mx:08x} edx=0x{mn:08x}\n')


def write_cpuinfo(host):
    mem = MEM_FLAGS[generation(host)] if host.opts.get('bios_mem_encrypt', True) else ''
    flags = f'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl nonstop_tsc cpuid extd_apicid aperfmperf rapl pni pclmulqdq monitor ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand lahf_lm cmp_legacy svm extapic cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw ibs skinit wdt tce topoext perfctr_core perfctr_nb bpext perfctr_llc mwaitx cpb cat_l3 cdp_l3 hw_pstate ssbd mba perfmon_v2 ibrs ibpb stibp {mem} vmmcall fsgsbase bmi1 avx2 smep bmi2 erms invpcid cqm rdt_a avx512f avx512dq rdseed adx smap avx512ifma clflushopt clwb avx512cd sha_ni avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves npt lbrv svm_lock nrip_save tsc_scale vmcb_clean flushbyasid decodeassists pausefilter pfthreshold avic v_vmsave_vmload vgif x2avic v_spec_ctrl vnmi'
    text = ''
    for cpu in range(2):
        text += (f'processor\t: {cpu}\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\n'
                 f'model name\t: AMD EPYC 9654 96-Core Processor\nflags\t\t: {" ".join(flags.split())}\n\n')
    host.write('proc/cpuinfo', text)


class SevHandler(UMockdev.IoctlBase):
    """SEV_ISSUE_CMD on /dev/sev, per kernel-interfaces.md §1.1-1.5. Runs in umockdev's thread;
    the answers come from self.state, which tests change through set_status()."""

    def __init__(self, state):
        super().__init__()
        self.state = state
        self.lock = threading.Lock()
        self.calls = []
        self.held = threading.Event()        # a command is waiting in hold_status()
        self.release = threading.Event()
        self.release.set()

    def do_handle_ioctl(self, client):
        if client.get_request() != SEV_ISSUE_CMD:
            return False
        arg = client.get_arg()
        cmd = arg.resolve(0, 16)
        c, _ptr, _err = struct.unpack('<IQI', bytes(cmd.retrieve()))
        with self.lock:
            st = dict(self.state)
            self.calls.append(c)
        if not self.release.is_set():
            # a PSP that does not answer: the command waits (in the kernel: psp_cmd_timeout)
            # (it answers with the state of when it was issued)
            self.held.set()
            self.release.wait()
        if st.get('gone'):
            client.complete(-1, errno.ENODEV)
            return True
        if c == SEV_PLATFORM_STATUS:
            return self.answer(client, cmd, st['sev_errno'], 12,
                               lambda s: struct.pack('<BBBIBI', s['api_major'], s['api_minor'], s['state'],
                                                     s['flags'], s['build'], s['guest_count']), st['sev'], st)
        if c == SNP_PLATFORM_STATUS:
            return self.answer(client, cmd, st['snp_errno'], 32,
                               lambda s: struct.pack('<BBBBIIIQQ', s['api_major'], s['api_minor'], s['state'],
                                                     s['rmp'], s['build_id'], s['flags'], s['guest_count'],
                                                     s['current_tcb'], s['reported_tcb']), st['snp'], st)
        # any other command: the kernel's -EINVAL for commands it does not route here
        client.complete(-1, errno.EINVAL)
        return True

    def answer(self, client, cmd, err, size, pack, fields, st):
        if err:
            if err == errno.EIO:
                cmd.update(12, struct.pack('<I', st['fw_error']))
            client.complete(-1, err)
            return True
        data = cmd.resolve(4, size)
        data.update(0, pack(fields))
        client.complete(0, 0)
        return True


def status_state(host):
    sev = dict(SEV_DEFAULT)
    sev.update(host.opts.get('sev', {}))
    snp = dict(SNP_DEFAULT)
    snp.update(PROFILE_SNP.get(host.profile, {}))
    snp.update(host.opts.get('snp', {}))
    sev_errno, snp_errno = PROFILE_ERRNO.get(host.profile, (None, None))
    return dict(sev=sev, snp=snp,
                sev_errno=host.opts.get('sev_errno', sev_errno),
                snp_errno=host.opts.get('snp_errno', snp_errno),
                fw_error=int(host.opts.get('fw_error', 0x01)))


def set_status(host, sev=None, snp=None, **kw):
    """Changes what the simulated firmware answers from now on."""
    h = host._psp_handler
    with h.lock:
        if sev:
            h.state['sev'] = dict(h.state['sev'], **sev)
        if snp:
            h.state['snp'] = dict(h.state['snp'], **snp)
        h.state.update(kw)


def psp_attrs(host):
    if 'psp_attrs' in host.opts:
        return dict(host.opts['psp_attrs'])
    return dict(ATTRS[generation(host)])


def add_pci(host):
    _leaf1, _mem, dev, _tee = GENERATIONS[generation(host)]
    attrs = ['vendor', '0x1022', 'device', f'0x{dev:04x}', 'class', '0x108000',
             'subsystem_vendor', '0x1022', 'subsystem_device', f'0x{dev:04x}', 'revision', '0x00']
    for k, v in psp_attrs(host).items():
        attrs += [k, f'{v}\n']
    props = ['PCI_CLASS', '108000', 'PCI_ID', f'1022:{dev:04X}', 'PCI_SUBSYS_ID', f'1022:{dev:04X}',
             'PCI_SLOT_NAME', PSP_ADDRESS, 'DRIVER', 'ccp',
             'MODALIAS', f'pci:v00001022d0000{dev:04X}sv00001022sd0000{dev:04X}bc10sc80i00']
    # no parent bridge: the PCI topology belongs to sim_pci, the PSP only needs its own function
    path = host.tb.add_device('pci', PSP_ADDRESS, None, attrs, props)
    drv = host.sys_path('bus/pci/drivers/ccp')
    drv.mkdir(parents=True, exist_ok=True)
    link = host.sysroot / path.lstrip('/') / 'driver'
    if not link.exists():
        link.symlink_to(drv)
    host._psp_syspath = path
    return path


def add_sev(host):
    """ccp creates /dev/sev. umockdev 0.17 cannot create a node it once removed (it asserts), so
    after remove_sev() the same device is announced again with an "add" uevent instead."""
    if host._sev_added:
        set_status(host, gone=False)
        host.tb.uevent(SEV_SYSPATH, 'add')
        return SEV_SYSPATH
    path = host.tb.add_from_string(
        f'P: {SEV_SYSPATH[len("/sys"):]}\nN: sev\nE: SUBSYSTEM=misc\nE: DEVNAME=/dev/sev\n'
        'E: MAJOR=10\nE: MINOR=124\nA: dev=10:124\n')
    host.tb.attach_ioctl('/dev/sev', host._psp_handler)
    host._sev_added = True
    return path


def remove_sev(host):
    """ccp drops /dev/sev (unbind): the kernel sends "remove"; the sysfs entry stays in the testbed
    (see add_sev), as it briefly does on a real host, and the emulated firmware answers ENODEV,
    as the kernel does for a file opened before the unbind."""
    set_status(host, gone=True)
    host.tb.uevent(SEV_SYSPATH, 'remove')


def remove_psp(host):
    """ccp unbinds (misc sev goes), then the PCI function is removed, with the uevents a kernel sends."""
    remove_sev(host)
    host.tb.uevent(host._psp_syspath, 'remove')
    host.tb.remove_device(host._psp_syspath)


def add_psp(host):
    """The PCI function comes back (add, then bind) and ccp creates /dev/sev again."""
    path = add_pci(host)
    host.tb.uevent(path, 'bind')
    add_sev(host)


def hold_status(host):
    """From now on every SEV command waits until release_status(), as on a hung PSP."""
    h = host._psp_handler
    h.held.clear()
    h.release.clear()


def status_held(host):
    """A command is waiting in hold_status()."""
    return host._psp_handler.held.is_set()


def release_status(host):
    host._psp_handler.release.set()


def set_sev_devnum(host, major, minor):
    """The kernel gives /dev/sev another major:minor (ccp reloaded, the misc minor is dynamic):
    what udev reports, in the sysfs uevent file and the dev attribute, changes; the node in /dev
    (our view of it) does not, as with a node bound into a private /dev when the service started."""
    d = host.sysroot / SEV_SYSPATH.lstrip('/')
    lines = [ln for ln in (d / 'uevent').read_text().splitlines() if not ln.startswith(('MAJOR=', 'MINOR='))]
    (d / 'uevent').write_text('\n'.join(lines + [f'MAJOR={major}', f'MINOR={minor}']) + '\n')
    (d / 'dev').write_text(f'{major}:{minor}\n')


def bind_sev_node(host, major, minor):
    """Our /dev/sev becomes the character device major:minor (what a fresh bind at service start
    gives): umockdev takes the node's st_rdev from dev/.node/sev."""
    node = host.sysroot / 'dev' / '.node' / 'sev'
    node.unlink()
    node.symlink_to(f'{major}:{minor}')


def hide_sev_node(host, hidden=True):
    """Our /dev has no sev node (the service started before ccp created it), or has it again."""
    node, away = host.sysroot / 'dev' / 'sev', host.sysroot / 'dev' / 'sev.hidden'
    if hidden:
        node.rename(away)
    else:
        away.rename(node)


def populate(host):
    write_cpuid(host)
    write_cpuinfo(host)
    host._psp_handler = host.keep(SevHandler(status_state(host)))
    host._psp_syspath = None
    host._sev_added = False
    if not has_psp(host):
        return
    add_pci(host)
    add_sev(host)
