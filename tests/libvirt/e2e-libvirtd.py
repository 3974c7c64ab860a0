#!/usr/bin/python3
"""End to end: Debian's real libvirtd runs hwsecd-libvirt-hook as /etc/libvirt/hooks/qemu.d/
50-hwsecd, with hwsecd on a private bus and the simulated genoa host. Prints one PASS or FAIL
line per check (scripts/test counts them) and exits 1 when any check failed.

libvirtd runs in a private mount namespace with its own /etc/libvirt, /var/lib/libvirt,
/var/log/libvirt, /var/cache/libvirt and /run (copies under a temp dir), the way
/work/shared/reference/testing.md part B §2b describes; libvirtd passes the hook only PATH, HOME
and LC_ALL, so the hook finds hwsecd through /run/dbus/system_bus_socket, which in the
namespace is a link to the private bus. Guests are TCG, 64 MiB, no disk.

Needs root, libvirt-daemon, libvirt-daemon-driver-qemu, libvirt-clients, qemu-system-x86, and
umockdev-wrapper around it: umockdev-wrapper /usr/bin/python3 tests/libvirt/e2e-libvirtd.py
Environment: HWSECD_BUILD_DIR (default build)."""

import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TOP = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TOP / 'tests' / 'integration'))
sys.path.insert(0, str(TOP / 'tests' / 'libvirt'))

from busconfig import PrivateBus, clean_env  # noqa: E402
from conftest import BUILD, Daemon, scaled  # noqa: E402
from simhost import SimHost  # noqa: E402
import domxml  # noqa: E402

HOOK = BUILD / 'libvirt' / 'hwsecd-libvirt-hook'
results = []


def check(name, ok, detail=''):
    results.append(ok)
    print(f'{"PASS" if ok else "FAIL"} {name}{"" if ok else ": " + detail}', flush=True)


QEMU_CONF = '''
stdio_handler = "file"
namespaces = [ ]
cgroup_controllers = [ ]
security_driver = "none"
remember_owner = 0
user = "root"
group = "root"
dynamic_ownership = 0
swtpm_user = "root"
swtpm_group = "root"
'''

RUN_SCRIPT = '''#!/bin/sh
set -e
R={root}
# Mount points libvirt-daemon-system would have created (empty; everything goes to $R).
mkdir -p /var/lib/libvirt /var/log/libvirt /var/cache/libvirt
mount --bind $R/etc /etc/libvirt
mount --bind $R/lib /var/lib/libvirt
mount --bind $R/log /var/log/libvirt
mount --bind $R/cache /var/cache/libvirt
mount --bind $R/run /run
# libvirt resolves its default user libvirt-qemu before reading qemu.conf; the package that
# creates it (libvirt-daemon-system) is not needed: give the namespace a passwd that has it.
mount --bind $R/passwd /etc/passwd
mount --bind $R/group /etc/group
mkdir -p /run/libvirt /run/lock /run/dbus
ln -sf {bus_socket} /run/dbus/system_bus_socket
exec /usr/sbin/libvirtd --verbose
'''


class Libvirtd:
    def __init__(self, tmp, bus):
        self.root = tmp / 'libvirt-root'
        for d, src in (('etc', '/etc/libvirt'), ('lib', '/var/lib/libvirt'), ('log', '/var/log/libvirt'),
                       ('cache', '/var/cache/libvirt'), ('run', None)):
            if src and os.path.isdir(src):
                shutil.copytree(src, self.root / d, symlinks=True)
            else:
                (self.root / d).mkdir(parents=True, exist_ok=True)
        (self.root / 'log' / 'qemu').mkdir(exist_ok=True)
        with open(self.root / 'etc' / 'qemu.conf', 'a') as f:
            f.write(QEMU_CONF)
        with open(self.root / 'etc' / 'libvirtd.conf', 'a') as f:
            f.write('log_outputs = "1:file:/var/log/libvirt/libvirtd.log"\nlog_filters = "1:hook 3:*"\n')
        for name, line in (('passwd', 'libvirt-qemu:x:64055:64055:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin\n'),
                           ('group', 'libvirt-qemu:x:64055:\n')):
            text = pathlib.Path('/etc', name).read_text()
            if not any(x.startswith('libvirt-qemu:') for x in text.splitlines()):
                text += line
            (self.root / name).write_text(text)
        hooks = self.root / 'etc' / 'hooks' / 'qemu.d'
        hooks.mkdir(parents=True, exist_ok=True)
        (hooks / '50-hwsecd').symlink_to(HOOK)
        self.script = tmp / 'run-libvirtd.sh'
        self.script.write_text(RUN_SCRIPT.format(root=self.root, bus_socket=bus.socket))
        self.script.chmod(0o755)
        self.socket = self.root / 'run' / 'libvirt' / 'libvirt-sock'
        self.uri = f'qemu:///system?socket={self.socket}'
        self.logfile = open(tmp / 'libvirtd.out', 'a')
        self.proc = None

    def start(self):
        if self.socket.exists():
            self.socket.unlink()
        env = clean_env()
        env['DBUS_SYSTEM_BUS_ADDRESS'] = 'unix:path=/nonexistent'
        self.proc = subprocess.Popen(['unshare', '--mount', '--propagation', 'private', str(self.script)], env=env,
                                     stdin=subprocess.DEVNULL, stdout=self.logfile, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + scaled(60)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f'libvirtd exited with {self.proc.returncode}')
            if self.socket.exists() and self.virsh('version').returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError('libvirtd did not answer in time')

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(scaled(60))
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def virsh(self, *args):
        return subprocess.run(['virsh', '-c', self.uri] + list(args), capture_output=True, text=True,
                              env=clean_env(), timeout=scaled(120))

    def state(self, name):
        return self.virsh('domstate', name).stdout.strip()

    def qemu_pid(self, name):
        try:
            return int((self.root / 'run' / 'libvirt' / 'qemu' / f'{name}.pid').read_text())
        except (FileNotFoundError, ValueError):
            return None

    def log(self):
        try:
            return (self.root / 'log' / 'libvirtd.log').read_text(errors='replace')
        except FileNotFoundError:
            return ''


def alive(pid):
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().split(') ')[1][0] != 'Z'
    except (FileNotFoundError, IndexError):
        return False


def run(tmp, lv):
    for name, devs in (('ok-vm', ()), ('deny-vm', ['0000:03:00.0']), ('isolated-vm', ['0000:06:00.0']),
                       ('together-vm', ['0000:03:00.0', '0000:04:00.0', '0000:05:00.0'])):
        f = tmp / f'{name}.xml'
        f.write_text(domxml.domain(name, hostdevs=devs))
        p = lv.virsh('define', str(f))
        check(f'define {name}', p.returncode == 0, p.stderr)

    p = lv.virsh('start', 'deny-vm')
    want = "hwsecd: guest 'deny-vm': refused: PCI device 0000:03:00.0 is not isolated (hwsecd verdict: unsafe)"
    check('virsh start of a guest with an unsafe hostdev fails with the hook\'s reason',
          p.returncode != 0 and want in p.stderr and 'It must move with 0000:04:00.0 and 0000:05:00.0' in p.stderr,
          p.stderr.strip())
    check('the refused guest is shut off and libvirtd still answers', lv.state('deny-vm') == 'shut off',
          lv.state('deny-vm'))

    for name in ('isolated-vm', 'together-vm'):
        # The hook allows these; this host has no VFIO for the simulated devices, so libvirt's own
        # hostdev preparation (which runs after "prepare begin") is what fails.
        p = lv.virsh('start', name)
        check(f'{name}: the hook lets the start through to libvirt\'s own checks',
              'Hook script execution failed' not in p.stderr and 'hwsecd:' not in p.stderr, p.stderr.strip())

    p = lv.virsh('start', 'ok-vm')
    check('a guest with nothing to judge starts', p.returncode == 0 and lv.state('ok-vm') == 'running',
          p.stderr.strip())
    pid = lv.qemu_pid('ok-vm')

    lv.stop()
    lv.start()
    check('after a libvirtd restart the running guest survives "reconnect"',
          lv.state('ok-vm') == 'running' and pid is not None and alive(pid), f'{lv.state("ok-vm")}, pid {pid}')
    check('the hook ran for reconnect', 'id=ok-vm op=reconnect subop=begin' in lv.log(), 'no reconnect call in the log')

    p = lv.virsh('destroy', 'ok-vm')
    check('virsh destroy is not hindered', p.returncode == 0 and lv.state('ok-vm') == 'shut off', p.stderr.strip())
    log = lv.log()
    check('libvirt called the hook for prepare, stopped and release',
          all(f'id=ok-vm op={op}' in log for op in ('prepare subop=begin', 'stopped subop=end', 'release subop=end')),
          'missing hook calls in libvirtd.log')


def main():
    if os.geteuid() != 0:
        print('FAIL libvirt-e2e: needs root (mount namespace)')
        return 1
    for tool in ('/usr/sbin/libvirtd', shutil.which('virsh'), shutil.which('qemu-system-x86_64')):
        if not tool or not os.path.exists(tool):
            print('FAIL libvirt-e2e: libvirt-daemon, libvirt-daemon-driver-qemu, libvirt-clients and '
                  'qemu-system-x86 must be installed')
            return 1
    if not HOOK.exists():
        print(f'FAIL libvirt-e2e: {HOOK} is missing (build with -Dlibvirt_hook=enabled)')
        return 1
    tmp = pathlib.Path(tempfile.mkdtemp(prefix='hwsec-libvirt-e2e-'))
    bus = host = daemon = lv = None
    try:
        bus = PrivateBus()
        host = SimHost('genoa')
        daemon = Daemon(host, bus, args=())
        lv = Libvirtd(tmp, bus)
        lv.start()
        run(tmp, lv)
    except Exception as e:  # a broken set-up is a failure, not a skip
        check('libvirt-e2e set-up', False, repr(e))
        if lv:
            sys.stdout.write((tmp / 'libvirtd.out').read_text(errors='replace')[-3000:])
    finally:
        if lv:
            for name in ('ok-vm', 'deny-vm', 'isolated-vm', 'together-vm'):
                pid = lv.qemu_pid(name)
                if lv.proc and lv.state(name) == 'running':
                    lv.virsh('destroy', name)
                elif pid and alive(pid):
                    os.kill(pid, signal.SIGKILL)
            if not all(results):
                sys.stdout.write('----- libvirtd.log (hooks and errors) -----\n' +
                                 '\n'.join(x for x in lv.log().splitlines()
                                           if 'hook' in x.lower() or ': error :' in x)[-6000:] + '\n')
            lv.stop()
        if daemon:
            daemon.stop()
        if host:
            host.close()
        if bus:
            bus.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    passed = sum(results)
    print(f'libvirt-e2e: {passed} passed, {len(results) - passed} failed')
    return 0 if results and all(results) else 1


if __name__ == '__main__':
    sys.exit(main())
