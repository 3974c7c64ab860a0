#!/usr/bin/python3
"""check-sandbox.py UNIT SANDBOX_EXEC HWSECD

Runs the real hwsecd under the process restrictions its unit declares, to show the hardening
leaves the daemon what it needs. There is no systemd as PID 1 on the test machines, so
sandbox-exec applies them: the SystemCallFilter= lines (groups expanded by
`systemd-analyze syscall-filter`, the calls systemd always allows added), RestrictAddressFamilies=,
CapabilityBoundingSet= and NoNewPrivileges=. A call outside the filter kills the daemon with
SIGSYS (the unit says EPERM; killing makes every such call visible).

Checks: two negative controls prove the sandbox bites (setpriority, which @resources denies, is
killed; an AF_INET socket gets EAFNOSUPPORT); then hwsecd on the simulated Genoa host serves the
same objects and interfaces and the same Describe() sections with and without the sandbox, reads
all their properties, logs no EPERM, and exits 0 on SIGTERM.

Run under umockdev-wrapper with /usr/bin/python3 (the simulated host needs it), as root (exit 77,
SKIP, otherwise).
"""
import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / 'integration'))

UNISTD = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h'
# systemd.exec(5): allowed implicitly with any allow list (plus @default, which systemd adds)
IMPLICIT = {'execve', 'exit', 'exit_group', 'getrlimit', 'rt_sigreturn', 'sigreturn'}


def unit_settings(path):
    out = {}
    for line in pathlib.Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line[0] in '#;[' or '=' not in line:
            continue
        k, _, v = line.partition('=')
        out.setdefault(k.strip(), []).append(v.strip())
    return out


def syscall_groups():
    text = subprocess.run(['systemd-analyze', 'syscall-filter', '--no-pager'], check=True,
                          capture_output=True, text=True).stdout
    groups, cur = {}, None
    for line in text.splitlines():
        if line.startswith('@'):
            cur = groups.setdefault(line.split()[0], [])
        elif cur is not None and line.strip() and not line.strip().startswith('#'):
            cur.append(line.split()[0])
    return groups


def expand(items, groups, seen=None):
    seen = set() if seen is None else seen
    out = set()
    for it in items:
        if it.startswith('@'):
            if it in seen:
                continue
            seen.add(it)
            if it not in groups:
                raise SystemExit(f'unknown syscall group {it}')
            out |= expand(groups[it], groups, seen)
        else:
            out.add(it)
    return out


def allowed_syscalls(settings):
    groups = syscall_groups()
    allow, deny = set(), set()
    for v in settings.get('SystemCallFilter', []):
        if v.startswith('~'):
            deny |= expand(v[1:].split(), groups)
        else:
            allow |= expand(v.split(), groups)
    if not allow:
        raise SystemExit('the unit has no SystemCallFilter= allow list')
    allow |= expand(['@default'], groups) | IMPLICIT
    names = allow - deny
    numbers = {}
    for m in re.finditer(r'#define __NR_(\w+)\s+(\d+)', pathlib.Path(UNISTD).read_text()):
        numbers[m.group(1)] = int(m.group(2))
    return sorted(numbers[n] for n in names if n in numbers), names, deny


def families(settings):
    fams = []
    for v in settings.get('RestrictAddressFamilies', []):
        for name in v.split():
            fams.append(int(getattr(socket, name)))
    if not fams:
        raise SystemExit('the unit has no RestrictAddressFamilies=')
    return fams


CAPS = {'CAP_SYS_ADMIN': 21, 'CAP_SYS_RAWIO': 17, 'CAP_DAC_OVERRIDE': 1, 'CAP_NET_ADMIN': 12}


def capabilities(settings):
    caps = []
    for v in settings.get('CapabilityBoundingSet', []):
        for name in v.split():
            caps.append(CAPS[name])
    return caps


def sandbox_cmd(sandbox, nrs, fams, caps, cmd):
    return [sandbox, ','.join(map(str, nrs)), ','.join(map(str, fams)),
            ','.join(map(str, caps)) if caps else '', *cmd]


def main(unit, sandbox, hwsecd):
    if os.geteuid() != 0:
        print('needs root (the unit runs hwsecd as root; dropping the bounding set needs CAP_SETPCAP)')
        return 77
    import dbus
    from busconfig import PrivateBus
    from simhost import SimHost

    settings = unit_settings(unit)
    nrs, names, deny = allowed_syscalls(settings)
    fams, caps = families(settings), capabilities(settings)
    print(f'sandbox: {len(nrs)} system calls allowed ({len(deny)} denied by ~ lines), '
          f'families {fams}, capabilities {caps}')
    failures = []

    # Negative controls: the sandbox really bites.
    if 'setpriority' in names:
        failures.append('setpriority is allowed: the unit is meant to deny @resources')
    r = subprocess.run(sandbox_cmd(sandbox, nrs, fams, caps, ['/usr/bin/nice', '-n', '5', '/bin/true']))
    if r.returncode == -signal.SIGSYS:
        print('control: setpriority (nice) is killed with SIGSYS')
    else:
        failures.append(f'control: nice under the sandbox gave rc {r.returncode}, expected SIGSYS')
    r = subprocess.run(sandbox_cmd(sandbox, nrs, fams, caps, [
        '/usr/bin/python3', '-c',
        'import errno, socket\n'
        'try:\n    socket.socket(socket.AF_INET)\nexcept OSError as e:\n'
        '    raise SystemExit(0 if e.errno == errno.EAFNOSUPPORT else 1)\nraise SystemExit(2)']),
        env={k: v for k, v in os.environ.items() if k not in ('LD_PRELOAD', 'UMOCKDEV_DIR')})
    if r.returncode == 0:
        print('control: socket(AF_INET) fails with EAFNOSUPPORT')
    else:
        failures.append(f'control: AF_INET socket under the sandbox gave rc {r.returncode}, expected EAFNOSUPPORT')

    bus = PrivateBus()
    host = SimHost('genoa')
    conn = dbus.bus.BusConnection(bus.address)
    seen = {}
    try:
        for label, cmd in (('plain', [hwsecd]), ('sandboxed', sandbox_cmd(sandbox, nrs, fams, caps, [hwsecd]))):
            env = dict(os.environ)
            env.update(host.env)
            env['DBUS_SYSTEM_BUS_ADDRESS'] = bus.address
            if label == 'sandboxed' and 'ASAN_OPTIONS' in env:
                # LeakSanitizer stops the world with ptrace (@debug), which the filter rightly
                # kills; leaks are the integration suite's job, the filter is this test's.
                env['ASAN_OPTIONS'] = env['ASAN_OPTIONS'].replace('detect_leaks=1', '') + ':detect_leaks=0'
            logpath = host.root / f'hwsecd-{label}.log'
            with open(logpath, 'w') as log:
                proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
            try:
                deadline = time.monotonic() + 20
                while not conn.name_has_owner('org.hwsecd1'):
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f'{label}: hwsecd did not start (rc {proc.poll()}):\n'
                                           + logpath.read_text())
                    time.sleep(0.02)
                time.sleep(0.5)  # let the worker finish its first scan
                root = conn.get_object('org.hwsecd1', '/org/hwsecd1', introspect=False)
                objects = root.GetManagedObjects(dbus_interface='org.freedesktop.DBus.ObjectManager')
                shape = {str(p): sorted(str(i) for i in ifaces) for p, ifaces in objects.items()}
                for p, ifaces in objects.items():
                    obj = conn.get_object('org.hwsecd1', p, introspect=False)
                    for i in ifaces:
                        obj.GetAll(i, dbus_interface='org.freedesktop.DBus.Properties')
                desc = json.loads(str(root.Describe(dbus_interface='org.hwsecd1.Manager')))
                seen[label] = (shape, sorted(desc.keys()))
                print(f'{label}: {len(shape)} objects, Describe sections {sorted(desc.keys())}')
            finally:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGTERM)
                try:
                    rc = proc.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    rc = proc.wait()
                deadline = time.monotonic() + 10
                while conn.name_has_owner('org.hwsecd1') and time.monotonic() < deadline:
                    time.sleep(0.02)
            text = logpath.read_text()
            if rc != 0:
                failures.append(f'{label}: hwsecd exited with {rc} on SIGTERM'
                                + (' (killed by the syscall filter)' if rc == -signal.SIGSYS else '')
                                + ':\n' + text)
            elif label == 'sandboxed' and re.search(r'Operation not permitted|Permission denied|EPERM', text):
                failures.append('sandboxed: hwsecd logged a permission error:\n' + text)
            else:
                print(f'{label}: SIGTERM -> exit 0')
        if len(seen) == 2 and seen['plain'] != seen['sandboxed']:
            failures.append(f'the sandboxed daemon serves something else: {seen["sandboxed"]} '
                            f'vs {seen["plain"]}')
    finally:
        conn.close()
        host.close()
        bus.stop()

    for f in failures:
        print('FAIL:', f)
    return 1 if failures else 0


if __name__ == '__main__':
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(*[str(pathlib.Path(a).resolve()) for a in sys.argv[1:]]))
