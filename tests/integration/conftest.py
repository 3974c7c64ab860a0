"""Fixtures for the integration suite: a private bus that enforces our bus policy, the dbusmock
polkitd template, a simulated host (umockdev testbed + temp root) and the real hwsecd binary.

Run under umockdev-wrapper with Debian's /usr/bin/python3 (scripts/test does). Environment:
  HWSECD_BUILD_DIR       build tree to test (default: build)
  HWSECD_TEST_WRAPPER    command prefix for hwsecd, e.g. "valgrind --error-exitcode=99 ..."
  HWSECD_TIMEOUT_SCALE   multiply waits (valgrind needs ~10)
"""

import os
import pathlib
import shlex
import signal
import subprocess
import sys
import time

import dbus
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from busconfig import PrivateBus, clean_env  # noqa: E402
from simhost import SimHost, in_umockdev  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get('HWSECD_BUILD_DIR', ROOT / 'build')).resolve()
HWSECD = BUILD / 'daemon' / 'hwsecd'
HWSECCTL = BUILD / 'client' / 'hwsecctl'
WRAPPER = shlex.split(os.environ.get('HWSECD_TEST_WRAPPER', ''))
SCALE = float(os.environ.get('HWSECD_TIMEOUT_SCALE', '10' if WRAPPER else '1'))
BUS_NAME = 'org.hwsecd1'


def pytest_configure(config):
    if not in_umockdev():
        pytest.exit('The integration suite must run under umockdev-wrapper: '
                    'umockdev-wrapper /usr/bin/python3 -m pytest tests/integration', returncode=2)
    if not HWSECD.exists():
        pytest.exit(f'{HWSECD} is missing: build first (meson setup build && ninja -C build)', returncode=2)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, 'rep_' + rep.when, rep)


def scaled(seconds):
    return seconds * SCALE


class Polkit:
    """python-dbusmock's polkitd template on the private bus."""

    def __init__(self, bus):
        self.bus = bus
        env = clean_env()
        env['DBUS_SYSTEM_BUS_ADDRESS'] = bus.address
        self.proc = subprocess.Popen(['/usr/bin/python3', '-m', 'dbusmock', '--system', '--template', 'polkitd'],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, env=env, start_new_session=True)
        self.conn = dbus.bus.BusConnection(bus.address)
        deadline = time.monotonic() + 20
        while not self.conn.name_has_owner('org.freedesktop.PolicyKit1'):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError('the polkitd mock did not start')
            time.sleep(0.02)
        obj = self.conn.get_object('org.freedesktop.PolicyKit1', '/org/freedesktop/PolicyKit1/Authority')
        self.mock = dbus.Interface(obj, 'org.freedesktop.DBus.Mock')

    def allow(self, *actions):
        self.mock.AllowUnknown(False)
        self.mock.SetAllowed(dbus.Array(actions, signature='s'))

    def allow_all(self):
        self.mock.AllowUnknown(True)

    def deny_all(self):
        self.mock.AllowUnknown(False)
        self.mock.SetAllowed(dbus.Array([], signature='s'))

    def hang(self, on=True):
        self.mock.SimulateHang(on)

    def release(self):
        self.mock.SimulateHang(False)
        self.mock.ReleaseHangingCalls()

    def calls(self):
        """[(action, flags)] of every CheckAuthorization so far."""
        out = []
        for _t, args in self.mock.GetMethodCalls('CheckAuthorization'):
            out.append((str(args[1]), int(args[3])))
        return out

    def clear_calls(self):
        self.mock.ClearCalls()

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.conn.close()


class Daemon:
    """The real hwsecd binary on the private bus, under the simulated host."""

    def __init__(self, host, bus, args=('-v',), wait=True, extra_env=None):
        self.host = host
        self.bus = bus
        self.logpath = host.root / f'hwsecd-{time.monotonic_ns()}.log'
        self.conn = dbus.bus.BusConnection(bus.address)
        env = dict(os.environ)
        env.update(host.env)
        env['DBUS_SYSTEM_BUS_ADDRESS'] = bus.address
        env.setdefault('ASAN_OPTIONS', 'verify_asan_link_order=0:detect_leaks=1')
        # The suite runs as root, whom hwsecd authorizes without polkit (as systemd's daemons
        # do); ask polkit for root too so that the polkit mock decides. Tests of the root rule
        # pass extra_env={'HWSECD_POLKIT_FOR_ROOT': '0'}.
        env.setdefault('HWSECD_POLKIT_FOR_ROOT', '1')
        if extra_env:
            env.update(extra_env)
        self.env = env
        self.args = list(args)
        self.proc = None
        self.returncode = None
        self.start(wait)

    def start(self, wait=True):
        self.logfile = open(self.logpath, 'a')
        self.proc = subprocess.Popen(WRAPPER + [str(HWSECD)] + self.args, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=self.logfile, stderr=subprocess.STDOUT, start_new_session=True)
        self.returncode = None
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=10):
        deadline = time.monotonic() + scaled(timeout)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f'hwsecd exited with {self.proc.returncode} before serving:\n{self.log()}')
            try:
                # The owner may change between these calls (a --replace take-over: the old
                # daemon leaves its name just then); ask again on the next round.
                owner = self.conn.get_name_owner(BUS_NAME) if self.conn.name_has_owner(BUS_NAME) else None
                pid = int(self.conn.call_blocking('org.freedesktop.DBus', '/org/freedesktop/DBus',
                                                  'org.freedesktop.DBus', 'GetConnectionUnixProcessID', 's',
                                                  [owner])) if owner else None
            except dbus.DBusException as e:
                if e.get_dbus_name() != 'org.freedesktop.DBus.Error.NameHasNoOwner':
                    raise
                pid = None
            if pid is not None:
                if pid == self.proc.pid or WRAPPER:
                    self.wait_started(deadline)
                    return
            time.sleep(0.01)
        raise RuntimeError(f'hwsecd did not take {BUS_NAME} in time:\n{self.log()}')

    def wait_started(self, deadline):
        """hwsecd serves at once; Manager.State leaves "starting" when the first PCI audit
        (a worker thread) has landed. Tests want the whole picture."""
        while time.monotonic() < deadline:
            try:
                if self.get('/org/hwsecd1', 'org.hwsecd1.Manager', 'State') != 'starting':
                    return
            except dbus.DBusException:
                pass
            time.sleep(0.005)
        raise RuntimeError(f'hwsecd stayed "starting":\n{self.log()}')

    @property
    def pid(self):
        return self.proc.pid

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        try:
            self.logfile.flush()
        except ValueError:
            pass
        try:
            return self.logpath.read_text(errors='replace')
        except FileNotFoundError:
            return ''

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(scaled(timeout))
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                self.returncode = 'timeout'
                self.logfile.close()
                return self.returncode
        self.returncode = self.proc.returncode
        self.logfile.close()
        self.proc = None
        return self.returncode

    def kill(self):
        return self.stop(signal.SIGKILL)

    def restart(self):
        rc = self.stop()
        self.start()
        return rc

    def proxy(self, path='/org/hwsecd1'):
        return self.conn.get_object(BUS_NAME, path, introspect=False)

    def iface(self, path='/org/hwsecd1', iface='org.hwsecd1.Manager'):
        return dbus.Interface(self.proxy(path), iface)

    def get(self, path, iface, prop):
        return self.proxy(path).Get(iface, prop, dbus_interface='org.freedesktop.DBus.Properties')

    def get_all(self, path, iface):
        return self.proxy(path).GetAll(iface, dbus_interface='org.freedesktop.DBus.Properties')

    def call(self, path, iface, method, *args, signature=None, timeout=30, interactive=False):
        """A raw call; returns the reply args or raises dbus.DBusException."""
        msg = dbus.lowlevel.MethodCallMessage(BUS_NAME, path, iface, method)
        if signature:
            msg.append(*args, signature=signature)
        if interactive:
            msg.set_allow_interactive_authorization(True)
        reply = self.conn.send_message_with_reply_and_block(msg, scaled(timeout))
        return reply.get_args_list()


@pytest.fixture
def bus():
    b = PrivateBus()
    os.environ['DBUS_SYSTEM_BUS_ADDRESS'] = b.address
    yield b
    b.stop()


@pytest.fixture
def polkit(bus):
    p = Polkit(bus)
    yield p
    p.stop()


@pytest.fixture
def host():
    hosts = []

    def make(profile='genoa', **opts):
        h = SimHost(profile, **opts)
        hosts.append(h)
        return h

    h = make()
    h.make = make
    yield h
    for x in hosts:
        x.close()


@pytest.fixture
def daemon(request, bus):
    started = []

    def start(host, *args, wait=True, extra_env=None, verbose=True):
        """Starts hwsecd with args (default: -v, unless verbose=False)."""
        d = Daemon(host, bus, args=args or (('-v',) if verbose else ()), wait=wait, extra_env=extra_env)
        started.append(d)
        return d

    yield start

    failed = getattr(request.node, 'rep_call', None) is not None and request.node.rep_call.failed
    problems = []
    for d in started:
        rc = d.stop()
        if rc not in (0, None, -signal.SIGKILL, getattr(d, 'expected_exit', 0)):
            problems.append(f'hwsecd exited with {rc} at teardown (leak or crash?)')
        if failed or problems:
            sys.stdout.write(f'\n----- hwsecd log ({d.logpath}) -----\n{d.log()}\n')
    if problems:
        pytest.fail('; '.join(problems))


def run_hwsecctl(host, *args, check=False, input=None, timeout=60, env=None):
    e = dict(os.environ)
    if host is not None:
        e.update(host.env)
    if env:
        e.update(env)
    e.setdefault('ASAN_OPTIONS', 'verify_asan_link_order=0:detect_leaks=1')
    p = subprocess.run([str(HWSECCTL)] + [str(a) for a in args], env=e, input=input, capture_output=True,
                       text=True, timeout=scaled(timeout))
    if check and p.returncode != 0:
        raise AssertionError(f'hwsecctl {" ".join(map(str, args))} exited {p.returncode}\n'
                             f'stdout:\n{p.stdout}\nstderr:\n{p.stderr}')
    return p


@pytest.fixture
def hwsecctl():
    return run_hwsecctl
