"""A private "system" bus for tests: Debian's system.conf policy (default-deny own and
method calls), our own dbus/org.hwsecd1.conf included, plus a test-only rule that lets root own
the polkit name for python-dbusmock's polkitd template."""

import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]

SYSTEM_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>unix:path={socket}</listen>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Peer"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"
          send_member="UpdateActivationEnvironment"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Debug.Stats"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.systemd1.Activator"/>
  </policy>
  <policy user="root">
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.systemd1.Activator"/>
  </policy>
  <includedir>{includedir}</includedir>
</busconfig>
"""

POLKIT_MOCK_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <policy user="root">
    <allow own="org.freedesktop.PolicyKit1"/>
    <allow own_prefix="org.hwsecd1.test"/>
  </policy>
  <policy context="default">
    <allow send_destination="org.freedesktop.PolicyKit1"/>
    <allow send_destination_prefix="org.hwsecd1.test"/>
  </policy>
</busconfig>
"""


class PrivateBus:
    """dbus-daemon on a socket in a temp dir, enforcing our bus policy."""

    def __init__(self, extra_confs=()):
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix='hwsec-bus-'))
        self.socket = self.dir / 'system_bus_socket'
        self.address = f'unix:path={self.socket}'
        inc = self.dir / 'system.d'
        inc.mkdir()
        shutil.copy(ROOT / 'dbus' / 'org.hwsecd1.conf', inc / 'org.hwsecd1.conf')
        (inc / 'test-polkit-mock.conf').write_text(POLKIT_MOCK_CONF)
        for src in extra_confs:
            shutil.copy(src, inc / pathlib.Path(src).name)
        self.conf = self.dir / 'system.conf'
        self.conf.write_text(SYSTEM_CONF.format(socket=self.socket, includedir=inc))
        self.log = open(self.dir / 'bus.log', 'w+')
        self.proc = subprocess.Popen(
            ['dbus-daemon', f'--config-file={self.conf}', '--nofork', '--nopidfile'],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True, env=clean_env())
        self._wait()

    def _wait(self):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('dbus-daemon exited: ' + self.read_log())
            if self.socket.exists():
                try:
                    s = socket.socket(socket.AF_UNIX)
                    s.connect(str(self.socket))
                    s.close()
                    return
                except OSError:
                    pass
            time.sleep(0.01)
        raise RuntimeError('dbus-daemon did not start')

    def read_log(self):
        self.log.flush()
        return (self.dir / 'bus.log').read_text()

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def clean_env():
    """The environment for helper processes that must not run under umockdev's preload."""
    env = dict(os.environ)
    for k in ('LD_PRELOAD', 'UMOCKDEV_DIR'):
        env.pop(k, None)
    return env
