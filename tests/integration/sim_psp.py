"""Simulated-host part of the psp area (kernel-interfaces.md §1, §4, §7).

populate(host) writes, per profile:
  host.root/cpuid.txt      `cpuid -r` format: leaves 0, 1, 0x80000000, 0x8000001F
  host.root/proc/cpuinfo   with the kernel's memory-encryption flags
  the PSP PCI function     0000:c1:00.1, vendor 0x1022, device per generation, driver link to
                           ccp, the ccp attributes that this generation shows
  /dev/sev                 misc 10:124, with an ioctl handler for SEV_ISSUE_CMD that answers
                           SEV_PLATFORM_STATUS and SNP_PLATFORM_STATUS with the packed layouts,
                           writes the firmware code back on EIO, and gives EINVAL on SNP status
                           when SNP is not initialised. It also answers SEV_GET_ID2, SNP_COMMIT
                           and SNP_SET_CONFIG as sev-dev.c does (see SevHandler.get_id2/commit/
                           set_config) and keeps their effects: the reported TCB, the masks and
                           the committed TCB, which later SNP_PLATFORM_STATUS answers show.
Nothing for /dev/sfs: sim_sfs.py creates it for the profiles that have SFS.

Options (SimHost(profile, **opts)):
  max_asid=N, min_sev_asid=N     CPUID 0x8000001F ECX / EDX
  bios_mem_encrypt=False         the kernel cleared sme/sev/sev_es/sev_snp from /proc/cpuinfo
  sev=dict(...), snp=dict(...)   override fields of the status answers (see SEV_DEFAULT/SNP_DEFAULT)
  sev_errno=E, snp_errno=E       make the ioctl fail with errno E (EIO writes fw_error back)
  fw_error=CODE                  the firmware status written back with EIO
  psp_attrs=dict(name=value)     replace the ccp sysfs attributes
  chip_id=bytes                  what SEV_GET_ID2 returns (default CHIP_ID[generation], 64 bytes)
  ops_errno=dict(cmd=E)          make GET_ID2/SNP_COMMIT/SNP_SET_CONFIG (by id) fail with errno E
                                 (EIO writes fw_error back)

ops_calls(host) lists the GET_ID2/COMMIT/SET_CONFIG calls the simulated kernel answered, with
what they asked and how they ended; committed_tcb(host) is the TCB the last SNP_COMMIT fixed.

hold_status() makes SEV commands wait until release_status(), like a hung PSP.
set_sev_devnum(), bind_sev_node() and hide_sev_node() make udev's view of /dev/sev and the node
the daemon can open disagree, as under the unit's private /dev after ccp is reloaded.
"""

import errno
import os
import struct
import threading

import gi

gi.require_version('UMockdev', '1.0')
from gi.repository import UMockdev  # noqa: E402

PSP_ADDRESS = '0000:c1:00.1'
SEV_SYSPATH = '/sys/devices/virtual/misc/sev'
SEV_ISSUE_CMD = 0xC0105300
SEV_PLATFORM_STATUS = 1
SEV_GET_ID2 = 8
SNP_PLATFORM_STATUS = 9
SNP_COMMIT = 10
SNP_SET_CONFIG = 11
KERNEL_ENOTSUPP = 524                  # include/linux/errno.h: what GET_ID2 gives before API 0.16
SEV_RET_INVALID_LEN = 0x04
SEV_RET_INVALID_PARAM = 0x16

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

# SEV_GET_ID2: 64 bytes on every generation; Turin's KDS hwid is the first 8 of them.
CHIP_ID = {
    'genoa': bytes(range(0x40, 0x80)),
    'milan': bytes(range(0x80, 0xc0)),
    'turin': bytes(range(0xc0, 0xc8)) + bytes(range(0x01, 0x39)),
}
CHIP_ID_LEN = 64
MASK_CHIP_ID, MASK_CHIP_KEY = 0x01, 0x02
TCB_RESERVED = {'genoa': 0x0000ffffffff0000, 'milan': 0x0000ffffffff0000, 'turin': 0x00ffffff00000000}
TCB_PARTS = {'genoa': (0, 1, 6, 7), 'milan': (0, 1, 6, 7), 'turin': (0, 1, 2, 3, 7)}

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
        self.ops = []                        # GET_ID2/COMMIT/SET_CONFIG calls, see op()
        self.node = None                     # the pty our /dev/sev is (add_sev)
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
        if c in (SEV_GET_ID2, SNP_COMMIT, SNP_SET_CONFIG):
            return self.op(client, cmd, c, _ptr)
        # any other command: the kernel's -EINVAL for commands it does not route here
        client.complete(-1, errno.EINVAL)
        return True

    # --- SEV_GET_ID2, SNP_COMMIT, SNP_SET_CONFIG (sev-dev.c ≈6.11, kernel-interfaces.md §1.2) ---

    def op(self, client, cmd, c, ptr):
        record = {'cmd': c}
        with self.lock:
            forced = self.state.get('ops_errno', {}).get(c)
            if forced:
                res, err, fw = -1, forced, self.state['fw_error'] if forced == errno.EIO else 0
            elif c == SEV_GET_ID2:
                res, err, fw = self.get_id2(cmd, ptr, record)
            elif c == SNP_COMMIT:
                res, err, fw = self.commit(record)
            else:
                res, err, fw = self.set_config(cmd, ptr, record)
            record.update(errno=err, fw_error=fw)
            self.ops.append(record)
        if fw:
            cmd.update(12, struct.pack('<I', fw))
        client.complete(res, err)
        return True

    def get_id2(self, cmd, ptr, record):
        # API < 0.16: -ENOTSUPP before anything is read
        sev = self.state['sev']
        if (sev['api_major'], sev['api_minor']) < (0, 16):
            return -1, KERNEL_ENOTSUPP, 0
        data = cmd.resolve(4, 12)
        address, length = struct.unpack('<QI', bytes(data.retrieve()))
        record.update(address=address, length=length)
        snp = self.state['snp']
        # UNVERIFIED: with mask_chip_id set the firmware is taken to hide the id (all zeros)
        chip = bytes(CHIP_ID_LEN) if snp['flags'] & MASK_CHIP_ID else self.state['chip_id']
        need = len(chip)
        if not address or not length or length < need:
            # the firmware answers INVALID_LEN and the kernel copies the needed length back
            data.update(8, struct.pack('<I', need))
            return -1, errno.EIO, SEV_RET_INVALID_LEN
        buf = data.resolve(0, need)
        buf.update(0, chip)
        data.update(8, struct.pack('<I', need))
        return 0, 0, 0

    def commit(self, record):
        snp = self.state['snp']
        if not snp['state']:
            return -1, errno.EINVAL, 0
        # CommittedTCB := CurrentTCB; ReportedTCB := CurrentTCB (SNP ABI, as the sev crate states it)
        self.state['committed_tcb'] = snp['current_tcb']
        self.state['snp'] = dict(snp, reported_tcb=snp['current_tcb'])
        record.update(committed_tcb=snp['current_tcb'])
        return 0, 0, 0

    def set_config(self, cmd, ptr, record):
        snp = self.state['snp']
        if not snp['state'] or not ptr:
            return -1, errno.EINVAL, 0
        writable = self.state.get('writable')
        if writable is None:
            writable = self.client_writable()
        record.update(writable=writable)
        if not writable:
            return -1, errno.EPERM, 0
        raw = bytes(cmd.resolve(4, 64).retrieve())
        tcb, flags = struct.unpack('<QI', raw[:12])
        record.update(reported_tcb=tcb, flags=flags)
        # UNVERIFIED firmware checks: reserved bits and a TCB above the current one give INVALID_PARAM
        if flags & ~(MASK_CHIP_ID | MASK_CHIP_KEY) or any(raw[12:]) or not self.tcb_not_above(tcb):
            return -1, errno.EIO, SEV_RET_INVALID_PARAM
        self.state['snp'] = dict(snp, reported_tcb=tcb,
                                 flags=(snp['flags'] & ~(MASK_CHIP_ID | MASK_CHIP_KEY)) | flags)
        return 0, 0, 0

    def tcb_not_above(self, tcb):
        gen, cur = self.state['generation'], self.state['snp']['current_tcb']
        if tcb & TCB_RESERVED[gen]:
            return False
        return all((tcb >> (8 * b)) & 0xff <= (cur >> (8 * b)) & 0xff for b in TCB_PARTS[gen])

    def client_writable(self):
        """The kernel checks FMODE_WRITE of the file the ioctl came on; umockdev does not say which
        client asked, so look at every fd other processes hold on our node's pty: writable when one
        of them was opened for writing (tests that need a read-only caller hold no other fd)."""
        if not self.node:
            return False
        for pid in os.listdir('/proc'):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                fds = os.listdir(f'/proc/{pid}/fd')
            except OSError:
                continue
            for fd in fds:
                try:
                    if os.readlink(f'/proc/{pid}/fd/{fd}') != self.node:
                        continue
                    with open(f'/proc/{pid}/fdinfo/{fd}') as f:
                        flags = int(next(ln for ln in f if ln.startswith('flags:')).split()[1], 8)
                except (OSError, ValueError, IndexError, StopIteration):
                    continue
                if flags & os.O_ACCMODE in (os.O_WRONLY, os.O_RDWR):
                    return True
        return False

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
    return dict(sev=sev, snp=snp, generation=generation(host),
                chip_id=bytes(host.opts.get('chip_id', CHIP_ID[generation(host)])),
                committed_tcb=snp['current_tcb'], ops_errno=dict(host.opts.get('ops_errno', {})),
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


def ops_calls(host):
    """The GET_ID2/SNP_COMMIT/SNP_SET_CONFIG calls answered so far (dicts: cmd, errno, fw_error and
    what the call asked)."""
    h = host._psp_handler
    with h.lock:
        return [dict(r) for r in h.ops]


def committed_tcb(host):
    with host._psp_handler.lock:
        return host._psp_handler.state['committed_tcb']


def snp_state(host):
    """The SNP status fields the simulated firmware answers now."""
    with host._psp_handler.lock:
        return dict(host._psp_handler.state['snp'])


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
    host._psp_handler.node = os.readlink(host.sysroot / 'dev' / 'sev')
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
