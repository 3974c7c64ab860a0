"""Simulated-host part of the asid area: kvm_amd's module parameters under the testbed's
/sys/module/kvm_amd/parameters, the misc cgroup at host.root/cgroup (root misc.capacity and
misc.current, a few child cgroups with misc.max), and an empty modprobe.d.

Options (SimHost(profile, **opts)):
  kvm_amd=dict(sev='Y', sev_es='Y', sev_snp='Y', ciphertext_hiding_asids='99')  overrides
  kvm_amd_loaded=False          no /sys/module/kvm_amd at all
  max_asid=N, min_sev_asid=N    the ASID space (CPUID 0x8000001F ECX/EDX; sim_psp writes CPUID)
  misc_current=(sev, sev_es)    ASIDs in use at the cgroup root (default (0, 0))
  cgroup=False                  no misc files at the cgroup root

CPUID comes from sim_psp (host.root/cpuid.txt). If it wrote none (an older sim_psp), this
module writes leaf 0x8000001F itself so the pools can still be computed.
"""

# kvm_amd parameters after module load, per profile (kernel-interfaces.md §3.1).
KVM_AMD = {
    'genoa': dict(sev='Y', sev_es='Y', sev_snp='Y', ciphertext_hiding_asids='99'),
    'turin': dict(sev='Y', sev_es='Y', sev_snp='Y', ciphertext_hiding_asids='0'),
    'milan': dict(sev='Y', sev_es='Y', sev_snp='Y', ciphertext_hiding_asids='0'),
    'snp-uninit': dict(sev='Y', sev_es='Y', sev_snp='N', ciphertext_hiding_asids='0'),
    'fw-error': dict(sev='N', sev_es='N', sev_snp='N', ciphertext_hiding_asids='0'),
    'no-psp': dict(sev='N', sev_es='N', sev_snp='N', ciphertext_hiding_asids='0'),
}

# (max ASID, min SEV ASID) when sim_psp did not write CPUID.
ASID_SPACE = {
    'genoa': (1006, 100),
    'turin': (1006, 100),
    'milan': (509, 100),
}

# Child cgroups: name -> whether it has misc.max (the misc controller is enabled for it).
CGROUPS = {
    'machine.slice': True,
    'machine.slice/vm1.scope': True,
    'machine.slice/vm2.scope': True,
    'system.slice': False,
}


def asid_space(host):
    mx, mn = ASID_SPACE.get(host.profile, (1006, 100))
    return int(host.opts.get('max_asid', mx)), int(host.opts.get('min_sev_asid', mn))


def kvm_params(host):
    p = dict(KVM_AMD.get(host.profile, KVM_AMD['genoa']))
    p.update({k: str(v) for k, v in host.opts.get('kvm_amd', {}).items()})
    return p


def set_kvm_param(host, name, value):
    """Changes a kvm_amd parameter as a module reload would."""
    host.write_sys(f'module/kvm_amd/parameters/{name}', f'{value}\n')


def write_cpuid_fallback(host):
    path = host.path('cpuid.txt')
    if path.exists():
        return
    mx, mn = asid_space(host)
    eax = 0x0101fd3f if host.profile != 'no-psp' else 0
    path.write_text('CPU 0:\n'
                    '   0x80000000 0x00: eax=0x80000028 ebx=0x68747541 ecx=0x444d4163 edx=0x69746e65\n'
                    f'   0x8000001f 0x00: eax=0x{eax:08x} ebx=0x00004173 ecx=0x{mx:08x} edx=0x{mn:08x}\n')


def misc_capacity(host):
    mx, mn = asid_space(host)
    p = kvm_params(host)
    sev = mx - mn + 1 if p['sev'] == 'Y' and mx and mn <= mx else 0
    sev_es = mn - 1 if p['sev'] == 'Y' and p['sev_es'] == 'Y' and mn > 1 else 0
    return sev, sev_es


def set_misc_current(host, sev, sev_es, cgroup=''):
    base = f'cgroup/{cgroup}/' if cgroup else 'cgroup/'
    host.write(base + 'misc.current', f'sev {sev}\nsev_es {sev_es}\n')


def populate(host):
    write_cpuid_fallback(host)

    if host.opts.get('kvm_amd_loaded', True):
        for name, value in kvm_params(host).items():
            set_kvm_param(host, name, value)

    if host.opts.get('cgroup', True):
        sev, sev_es = misc_capacity(host)
        host.write('cgroup/misc.capacity', f'sev {sev}\nsev_es {sev_es}\n')
        cur = host.opts.get('misc_current', (0, 0))
        set_misc_current(host, *cur)
        for name, has_misc in CGROUPS.items():
            d = host.path('cgroup/' + name)
            d.mkdir(parents=True, exist_ok=True)
            if has_misc:
                host.write(f'cgroup/{name}/misc.max', 'sev max\nsev_es max\n')
                host.write(f'cgroup/{name}/misc.current', 'sev 0\nsev_es 0\n')
