"""Simulated-host part of the asid area: kvm_amd's module parameters under the testbed's
/sys/module/kvm_amd/parameters, the misc cgroup at host.root/cgroup (root misc.capacity and
misc.current, a few child cgroups with misc.max), copied from tests/fixtures/asid/<profile>/
(see tests/fixtures/README-asid.md).

Options (SimHost(profile, **opts)):
  kvm_amd=dict(ciphertext_hiding_asids=64, ...)  override single parameters
  kvm_amd_loaded=False          no /sys/module/kvm_amd at all
  max_asid=N, min_sev_asid=N    the ASID space (CPUID 0x8000001F ECX/EDX; sim_psp writes CPUID)
  misc_current=(sev, sev_es)    ASIDs in use at the cgroup root
  cgroup=False                  no misc files at the cgroup root

CPUID comes from sim_psp (host.root/cpuid.txt). If it wrote none, this module writes leaf
0x8000001F itself so that the pools can still be computed.
"""

import pathlib

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / 'fixtures' / 'asid'

# (max ASID, min SEV ASID) of each profile's CPUID (the PSP area's fixtures).
ASID_SPACE = {
    'genoa': (1006, 100),
    'turin': (1006, 100),
    'milan': (509, 100),
    'snp-uninit': (1006, 100),
    'fw-error': (1006, 100),
    'no-psp': (1006, 100),
}

# Child cgroups: name -> whether it has misc.max (the misc controller is enabled for it).
CGROUPS = {
    'machine.slice': True,
    'machine.slice/vm1.scope': True,
    'machine.slice/vm2.scope': True,
    'system.slice': False,
}


def fixture_dir(host):
    d = FIXTURES / host.profile
    return d if d.is_dir() else FIXTURES / 'genoa'


def asid_space(host):
    mx, mn = ASID_SPACE.get(host.profile, (1006, 100))
    return int(host.opts.get('max_asid', mx)), int(host.opts.get('min_sev_asid', mn))


def kvm_params(host):
    p = {f.name: f.read_text().strip() for f in (fixture_dir(host) / 'kvm_amd' / 'parameters').iterdir()}
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


def misc_capacity_text(host):
    """The fixture's misc.capacity, or kvm_amd's capacities when options changed the inputs."""
    if not any(k in host.opts for k in ('max_asid', 'min_sev_asid', 'kvm_amd')):
        return (fixture_dir(host) / 'cgroup' / 'misc.capacity').read_text()
    mx, mn = asid_space(host)
    p = kvm_params(host)
    sev = mx - mn + 1 if p['sev'] == 'Y' and mx and mn <= mx else 0
    sev_es = mn - 1 if p['sev'] == 'Y' and p['sev_es'] == 'Y' and mn > 1 else 0
    return ''.join(f'{name} {v}\n' for name, v in (('sev', sev), ('sev_es', sev_es)) if v)


def set_misc_current(host, sev, sev_es, cgroup=''):
    base = f'cgroup/{cgroup}/' if cgroup else 'cgroup/'
    host.write(base + 'misc.current', f'sev {sev}\nsev_es {sev_es}\n')


def populate(host):
    write_cpuid_fallback(host)

    if host.opts.get('kvm_amd_loaded', True):
        for name, value in kvm_params(host).items():
            set_kvm_param(host, name, value)

    if host.opts.get('cgroup', True):
        host.write('cgroup/misc.capacity', misc_capacity_text(host))
        if 'misc_current' in host.opts:
            set_misc_current(host, *host.opts['misc_current'])
        else:
            host.write('cgroup/misc.current', (fixture_dir(host) / 'cgroup' / 'misc.current').read_text())
        for name, has_misc in CGROUPS.items():
            host.path('cgroup/' + name).mkdir(parents=True, exist_ok=True)
            if has_misc:
                host.write(f'cgroup/{name}/misc.max', 'sev max\nsev_es max\n')
                host.write(f'cgroup/{name}/misc.current', 'sev 0\nsev_es 0\n')
