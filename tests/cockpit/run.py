#!/usr/bin/python3
"""Browser tests of the Cockpit page: the real hwsecd on the simulated genoa host (the demo host)
on a private system bus with the polkitd mock, cockpit-ws --local-session=cockpit-bridge on
127.0.0.1 (the bridge inherits DBUS_SYSTEM_BUS_ADDRESS and finds the package through
XDG_DATA_HOME), and headless Debian Chromium driven by playwright-core (browser-test.js).

Run under umockdev-wrapper with Debian's Python:
    HWSECD_BUILD_DIR=build umockdev-wrapper /usr/bin/python3 tests/cockpit/run.py [ARTIFACT_DIR]
Prints one PASS/FAIL line per check (scripts/test counts them) and saves a screenshot of every
section in ARTIFACT_DIR (default BUILD/cockpit-artifacts). --serve keeps everything running and
prints the URL, for working on the page by hand.

The browser script asks this driver to change the world through a line protocol on its stdout
("CTL <command> [json]"), answered on its stdin ("OK <json>" or "ERR <message>").
"""

import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

TOP = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TOP / 'tests' / 'integration'))

import dbus  # noqa: E402

from busconfig import PrivateBus  # noqa: E402
from conftest import BUILD, Daemon, Polkit, scaled  # noqa: E402
import sim_sfs  # noqa: E402
from simhost import SimHost  # noqa: E402

COCKPIT_WS = '/usr/lib/cockpit/cockpit-ws'
PACKAGE_FILES = ('index.html', 'manifest.json', 'hwsecd.js', 'hwsecd.css')
# A staged SFS package (as an operator would copy it to /lib/firmware/amd/) for the schedule test.
STAGED = 'genoa-asp-1.55.2.sbin'
BIG_DEVICES = 4096


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class CockpitWs:
    """cockpit-ws serving one local session (it idles out 15 s after the last browser left, so
    it is started for each run)."""

    def __init__(self, bus, xdg_data_home, workdir):
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(('LD_PRELOAD', 'UMOCKDEV'))}
        env.update(DBUS_SYSTEM_BUS_ADDRESS=bus.address, XDG_DATA_HOME=str(xdg_data_home),
                   XDG_CONFIG_DIRS=str(workdir / 'no-config'), LANG='C.UTF-8')
        self.log = open(workdir / 'cockpit-ws.log', 'w')
        self.proc = subprocess.Popen([COCKPIT_WS, '--no-tls', '--port', str(self.port), '--address', '127.0.0.1',
                                      '--local-session=cockpit-bridge'], env=env, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.url = f'http://127.0.0.1:{self.port}'
        deadline = time.monotonic() + scaled(20)
        while True:
            try:
                urllib.request.urlopen(self.url + '/cockpit/static/login.html', timeout=2).read()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f'cockpit-ws did not come up:\n{(workdir / "cockpit-ws.log").read_text()}')
                time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


class World:
    """Everything the browser test may ask to change."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.bus = PrivateBus()
        os.environ['DBUS_SYSTEM_BUS_ADDRESS'] = self.bus.address
        self.hosts = []
        self.host = self.new_host('genoa')
        sim_sfs.stage(self.host, STAGED, b'\x5a' * 65536)
        # a maintenance window that starts 6 h from now, so that a job put into it stays
        # scheduled for the whole run (and can be cancelled)
        start = time.gmtime(time.time() + 6 * 3600)
        self.host.write('etc/hwsecd.conf', '[Firmware]\n'
                        f'MaintenanceWindow=daily {start.tm_hour:02d}:00-{(start.tm_hour + 1) % 24:02d}:00 UTC\n')
        self.polkit = Polkit(self.bus)
        self.polkit.allow_all()
        self.daemon = None
        self.start_daemon()

    def new_host(self, profile, **opts):
        h = SimHost(profile, **opts)
        self.hosts.append(h)
        return h

    def start_daemon(self):
        self.daemon = Daemon(self.host, self.bus, args=())
        return {'pid': self.daemon.pid}

    def stop_daemon(self):
        rc = self.daemon.stop() if self.daemon else None
        self.daemon = None
        return {'rc': rc}

    def big_host(self):
        """Restarts hwsecd on a host with BIG_DEVICES PCI devices (the genoa tree plus SR-IOV
        VFs on 0000:06:00.0, created before hwsecd starts)."""
        self.stop_daemon()
        h = self.new_host('genoa', pci_sriov=True, pci_sriov_total=4096)
        base = len(list((h.sysroot / 'sys' / 'bus' / 'pci' / 'devices').iterdir()))
        h.pci.add_vfs(BIG_DEVICES - base, announce_pf=False, drain=lambda sent: None)
        self.host = h
        self.daemon = Daemon(h, self.bus, args=(), wait=False)
        self.daemon.wait_ready(timeout=300)
        n = len(self.daemon.get('/org/hwsecd1/pci', 'org.hwsecd1.Pci', 'Devices'))
        return {'devices': n}

    def handle(self, cmd, arg):
        if cmd == 'polkit-allow-all':
            self.polkit.allow_all()
        elif cmd == 'polkit-deny-all':
            self.polkit.deny_all()
        elif cmd == 'polkit-allow':
            self.polkit.allow(*arg)
        elif cmd == 'daemon-stop':
            return self.stop_daemon()
        elif cmd == 'daemon-start':
            return self.start_daemon()
        elif cmd == 'sfs-mode':
            self.host.sfs.mode = arg
        elif cmd == 'sfs-slow':
            self.host.sfs.mode = 'slow'
            self.host.sfs.slow_seconds = float(arg)
        elif cmd == 'asid-set-policy':
            # a change made by someone else (hwsecctl on a shell): the page must follow it
            self.polkit.allow_all()
            pol = {'ciphertext_hiding': dbus.UInt32(arg)} if isinstance(arg, int) else {'ciphertext_hiding': arg}
            self.daemon.call('/org/hwsecd1/asid', 'org.hwsecd1.Asid', 'SetPolicy',
                             dbus.Dictionary(pol, signature='sv'), signature='a{sv}')
        elif cmd == 'get':
            path, iface, prop = arg
            return json.loads(json.dumps(self.daemon.get(path, iface, prop)))
        elif cmd == 'big-host':
            return self.big_host()
        else:
            raise ValueError(f'unknown command {cmd}')
        return {}

    def close(self):
        if self.daemon:
            self.daemon.stop()
        self.polkit.stop()
        self.bus.stop()
        for h in self.hosts:
            h.close()


def install_package(xdg):
    pkg = xdg / 'cockpit' / 'hwsecd'
    pkg.mkdir(parents=True)
    for f in PACKAGE_FILES:
        src = BUILD / 'cockpit' / f
        if not src.exists():
            raise RuntimeError(f'{src} is missing: build first (ninja -C {BUILD})')
        shutil.copy(src, pkg / f)


def node_modules():
    return BUILD / 'cockpit' / 'npm' / 'node_modules'


def run_browser(world, ws, artifacts):
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(('LD_PRELOAD', 'UMOCKDEV')))
    env.update(NODE_PATH=str(node_modules()), HWSECD_COCKPIT_URL=ws.url, HWSECD_ARTIFACTS=str(artifacts),
               HWSECD_TIMEOUT_SCALE=os.environ.get('HWSECD_TIMEOUT_SCALE', '1'),
               HWSECD_STAGED_PACKAGE=STAGED, HWSECD_BIG_DEVICES=str(BIG_DEVICES))
    node = subprocess.Popen(['node', str(TOP / 'tests' / 'cockpit' / 'browser-test.js')], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    for line in node.stdout:
        if not line.startswith('CTL '):
            sys.stdout.write(line)
            sys.stdout.flush()
            continue
        parts = line[4:].rstrip('\n').split(' ', 1)
        try:
            out = world.handle(parts[0], json.loads(parts[1]) if len(parts) > 1 else None)
            node.stdin.write('OK ' + json.dumps(out) + '\n')
        except Exception as e:  # the browser test reports it as a FAIL line
            node.stdin.write('ERR ' + f'{type(e).__name__}: {e}'.replace('\n', ' ') + '\n')
        node.stdin.flush()
    return node.wait()


def main():
    serve = '--serve' in sys.argv
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    artifacts = pathlib.Path(args[0]) if args else BUILD / 'cockpit-artifacts'
    artifacts.mkdir(parents=True, exist_ok=True)
    workdir = pathlib.Path(tempfile.mkdtemp(prefix='hwsec-cockpit-'))
    world = ws = None
    rc = 1
    try:
        install_package(workdir / 'xdg-data-home')
        world = World(workdir)
        ws = CockpitWs(world.bus, workdir / 'xdg-data-home', workdir)
        if serve:
            print(f'{ws.url}/hwsecd  (bus {world.bus.address}); Ctrl-C stops', flush=True)
            signal.sigwait([signal.SIGINT, signal.SIGTERM])
            return 0
        rc = run_browser(world, ws, artifacts)
        if rc != 0:
            print(f'FAIL browser-test: node exited with {rc}')
            sys.stdout.write('--- cockpit-ws log ---\n' + (workdir / 'cockpit-ws.log').read_text(errors='replace'))
            if world.daemon:
                sys.stdout.write('--- hwsecd log ---\n' + world.daemon.log())
    except Exception as e:
        print(f'FAIL cockpit-setup: {type(e).__name__}: {e}')
        rc = 1
    finally:
        if ws:
            ws.stop()
        if world:
            world.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return rc


if __name__ == '__main__':
    sys.exit(main())
