"""The demo behind scripts/demo: a simulated Genoa-class host, the real hwsecd, and hwsecctl."""

import os
import pathlib
import subprocess
import sys
import time

TOP = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TOP / 'tests' / 'integration'))

from busconfig import PrivateBus  # noqa: E402
from conftest import Daemon, Polkit, HWSECCTL  # noqa: E402
from simhost import SimHost  # noqa: E402

BOLD, RESET = ('\033[1m', '\033[0m') if sys.stdout.isatty() else ('', '')


def show(host, *args, note=None):
    if note:
        print(f'\n{BOLD}# {note}{RESET}')
    print(f'{BOLD}$ hwsecctl {" ".join(args)}{RESET}', flush=True)
    env = dict(os.environ)
    env.update(host.env)
    p = subprocess.run([str(HWSECCTL), *args], env=env, text=True, capture_output=True)
    sys.stdout.write(p.stdout)
    if p.stderr:
        sys.stdout.write(p.stderr)
    if p.returncode:
        print(f'(exit code {p.returncode})')
    sys.stdout.flush()
    return p


def main():
    bus = PrivateBus()
    os.environ['DBUS_SYSTEM_BUS_ADDRESS'] = bus.address
    host = SimHost('genoa')
    polkit = Polkit(bus)
    polkit.allow_all()          # the demo plays an administrator who may do everything
    daemon = None
    try:
        daemon = Daemon(host, bus, args=())
        print(f'hwsecd (pid {daemon.pid}) is serving org.hwsecd1 on a private bus, on a simulated '
              f'Genoa-class EPYC host.')
        for step in DEMO_STEPS:
            step(host)
    finally:
        if daemon:
            rc = daemon.stop()
            print(f'\nhwsecd stopped (exit code {rc}).')
        polkit.stop()
        bus.stop()
        host.close()


def overview(host):
    show(host, 'status', note='The daemon and a summary of every area')


DEMO_STEPS = [overview]
try:
    import demo_steps  # noqa: E402  (scripts/demo_steps.py: the areas' parts of the demo)
    DEMO_STEPS += demo_steps.STEPS
except ImportError:
    pass

if __name__ == '__main__':
    main()
