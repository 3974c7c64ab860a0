#!/usr/bin/python3
"""The measurements behind scripts/bench. Run by it, under umockdev-wrapper, with
DBUS_SYSTEM_BUS_ADDRESS naming the private bus scripts/bench started (our bus policy and
hostnamed's included).

Targets, all on that one bus:
  hostnamed      /lib/systemd/systemd-hostnamed, org.freedesktop.hostname1 (the peer)
  hwsecd         build-bench/daemon/hwsecd on this machine, no testbed (same footing as hostnamed:
                 neither runs under umockdev's preload); writable paths point to a temp dir
  hwsecd-genoa   the same binary on the simulated Genoa host (tests/integration/simhost.py), i.e.
                 under umockdev's LD_PRELOAD, with PSP, ASID, SFS and PCI data to serve

For each: exec-to-serving (fork/exec until the name is owned, and until the first GetAll reply;
median of --starts runs, interleaved), idle RSS (VmRSS after --settle seconds), Properties.GetAll
on the main interface sequentially (p50/p99) and with 32 calls in flight (throughput; median of
--rounds rounds, interleaved), Peer.Ping with 32 in flight as the bus floor, and RSS after load.
Every process is started in its own process group and killed by group.
"""

import argparse
import os
import pathlib
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import dbus
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

TOP = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TOP / 'tests' / 'integration'))


def clean_env():
    env = dict(os.environ)
    for k in ('LD_PRELOAD', 'UMOCKDEV_DIR'):
        env.pop(k, None)
    return env


class Watcher:
    """Sees NameOwnerChanged on the bus, to time exec-to-serving without polling."""

    def __init__(self, address):
        self.conn = dbus.bus.BusConnection(address, mainloop=DBusGMainLoop())
        self.owned = {}
        self.conn.add_signal_receiver(self._changed, 'NameOwnerChanged', 'org.freedesktop.DBus',
                                      'org.freedesktop.DBus', '/org/freedesktop/DBus')
        self.conn.get_name_owner('org.freedesktop.DBus')      # round trip: the match is in place
        self.ctx = GLib.MainContext.default()
        GLib.timeout_add(20, lambda: True)                     # wake up to check the child

    def _changed(self, name, old, new):
        if new:
            self.owned[str(name)] = time.monotonic()
        else:
            self.owned.pop(str(name), None)

    def forget(self, name):
        self.owned.pop(name, None)

    def wait_owned(self, name, proc, timeout=20):
        deadline = time.monotonic() + timeout
        while name not in self.owned:
            if proc.poll() is not None:
                raise RuntimeError(f'{name}: the process exited with {proc.returncode} before owning the name')
            if time.monotonic() > deadline:
                raise RuntimeError(f'{name}: not owned after {timeout} s')
            self.ctx.iteration(True)
        return self.owned[name]

    def wait_released(self, name, timeout=10):
        deadline = time.monotonic() + timeout
        while name in self.owned and time.monotonic() < deadline:
            self.ctx.iteration(True)


class Target:
    def __init__(self, label, name, path, iface, argv, env, logdir):
        self.label, self.name, self.path, self.iface = label, name, path, iface
        self.argv, self.env = argv, env
        self.logpath = logdir / f'{label}.log'
        self.proc = None

    def start(self, watcher, plain):
        watcher.forget(self.name)
        log = open(self.logpath, 'a')
        t0 = time.monotonic()
        self.proc = subprocess.Popen(self.argv, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        t_owned = watcher.wait_owned(self.name, self.proc)
        plain.call_blocking(self.name, self.path, 'org.freedesktop.DBus.Properties', 'GetAll', 's',
                            [self.iface], timeout=20)
        t_reply = time.monotonic()
        return (t_owned - t0) * 1000, (t_reply - t0) * 1000

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, watcher):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        rc = self.proc.returncode
        self.proc = None
        watcher.wait_released(self.name)
        return rc

    def status(self):
        out = {}
        with open(f'/proc/{self.proc.pid}/status') as f:
            for line in f:
                k, _, v = line.partition(':')
                if k in ('VmRSS', 'VmHWM'):
                    out[k] = int(v.split()[0])
        return out


def busload(busload_bin, t, member, n, window, env):
    iface = t.iface if member == 'GetAll' else 'org.freedesktop.DBus.Peer'
    p = subprocess.run([str(busload_bin), t.name, t.path, iface, member, str(n), str(window)],
                       env=env, capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise RuntimeError(f'busload {t.label} {member}: rc {p.returncode}: {p.stderr.strip()}')
    return {k: v for k, _, v in (kv.partition('=') for kv in p.stdout.split())}


def median(xs):
    return statistics.median(xs) if xs else float('nan')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--build', default=str(TOP / 'build-bench'))
    ap.add_argument('--starts', type=int, default=7)
    ap.add_argument('--rounds', type=int, default=5)
    ap.add_argument('--seq-calls', type=int, default=5000)
    ap.add_argument('--window-calls', type=int, default=20000)
    ap.add_argument('--window', type=int, default=32)
    ap.add_argument('--settle', type=float, default=2.0)
    ap.add_argument('--no-sim', action='store_true', help='skip hwsecd on the simulated host')
    args = ap.parse_args()

    build = pathlib.Path(args.build)
    hwsecd_bin, busload_bin = build / 'daemon' / 'hwsecd', build / 'tests' / 'bench' / 'busload'
    address = os.environ['DBUS_SYSTEM_BUS_ADDRESS']
    work = pathlib.Path(tempfile.mkdtemp(prefix='hwsecd-bench-'))
    env_plain = clean_env()

    # hwsecd on this machine: real /sys, /dev, /proc and cpuid; everything it could write is ours.
    bare = dict(env_plain)
    for var, d in (('STATE_DIRECTORY', 'state'), ('CONFIGURATION_DIRECTORY', 'etc'),
                   ('RUNTIME_DIRECTORY', 'run'), ('HWSECD_MODPROBE_DIR', 'modprobe.d'),
                   ('HWSECD_FIRMWARE_DIR', 'firmware'), ('HWSECD_CGROUP_ROOT', 'cgroup')):
        (work / 'bare' / d).mkdir(parents=True, exist_ok=True)
        bare[var] = str(work / 'bare' / d)

    targets = [
        Target('hostnamed', 'org.freedesktop.hostname1', '/org/freedesktop/hostname1',
               'org.freedesktop.hostname1', ['/lib/systemd/systemd-hostnamed'], env_plain, work),
        Target('hwsecd', 'org.hwsecd1', '/org/hwsecd1', 'org.hwsecd1.Manager',
               [str(hwsecd_bin)], bare, work),
    ]
    host = None
    if not args.no_sim:
        from simhost import SimHost
        host = SimHost('genoa')
        sim_env = dict(os.environ)
        sim_env.update(host.env)
        targets.append(Target('hwsecd-genoa', 'org.hwsecd1', '/org/hwsecd1', 'org.hwsecd1.Manager',
                              [str(hwsecd_bin)], sim_env, work))

    keep = False
    try:
        measure(args, targets, address, busload_bin, host, env_plain)
    except Exception:
        keep = True
        print(f'daemon logs kept in {work}', file=sys.stderr)
        raise
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def measure(args, targets, address, busload_bin, host, env_plain):
    watcher = Watcher(address)
    plain = dbus.bus.BusConnection(address)
    res = {t.label: {'owned': [], 'reply': [], 'seq_p50': [], 'seq_p99': [], 'seq_rate': [],
                     'win_rate': [], 'win_p99': [], 'ping_rate': [], 'pair_throughput': [],
                     'pair_p99': [], 'pair_startup': []} for t in targets}
    try:
        # 1. exec-to-serving, interleaved (hwsecd and hwsecd-genoa share the name: one at a time)
        for _ in range(args.starts):
            for t in targets:
                owned, reply = t.start(watcher, plain)
                res[t.label]['owned'].append(owned)
                res[t.label]['reply'].append(reply)
                t.stop(watcher)
            for t in targets[1:]:
                res[t.label]['pair_startup'].append(res[t.label]['owned'][-1] / res[targets[0].label]['owned'][-1])

        # 2. steady state: RSS and load. The two hwsecd variants own the same name, so each
        #    is measured against a fresh hostnamed in its own phase.
        for t in targets[1:]:
            peer = targets[0]
            for x in (peer, t):
                x.start(watcher, plain)
            time.sleep(args.settle)
            for x in (peer, t):
                res[x.label].setdefault('rss_idle', []).append(x.status()['VmRSS'])
            for _ in range(args.rounds):
                for x in (peer, t):
                    if not x.alive():            # hostnamed exits after ~30 s idle
                        x.start(watcher, plain)
                    s = busload(busload_bin, x, 'GetAll', args.seq_calls, 1, env_plain)
                    w = busload(busload_bin, x, 'GetAll', args.window_calls, args.window, env_plain)
                    pg = busload(busload_bin, x, 'Ping', args.window_calls, args.window, env_plain)
                    r = res[x.label]
                    r['seq_p50'].append(float(s['p50_us']))
                    r['seq_p99'].append(float(s['p99_us']))
                    r['seq_rate'].append(float(s['rate']))
                    r['win_rate'].append(float(w['rate']))
                    r['win_p99'].append(float(w['p99_us']))
                    r['ping_rate'].append(float(pg['rate']))
                # the same round, back to back: ratios that noise between rounds cannot skew
                pr, tr = res[peer.label], res[t.label]
                tr['pair_throughput'].append(tr['win_rate'][-1] / pr['win_rate'][-1])
                tr['pair_p99'].append(tr['seq_p99'][-1] / pr['seq_p99'][-1])
            for x in (peer, t):
                st = x.status()
                res[x.label].setdefault('rss_load', []).append(st['VmRSS'])
                res[x.label].setdefault('hwm', []).append(st['VmHWM'])
            for x in (peer, t):
                rc = x.stop(watcher)
                if x is not peer and rc != 0:
                    raise RuntimeError(f'{x.label} exited with {rc} on SIGTERM; log: {x.logpath}')
    finally:
        for t in targets:
            t.stop(watcher)
        if host is not None:
            host.close()

    report(targets, res, args)


ROWS = [
    ('GetAll sequential p50 (us)', 'seq_p50', '{:.1f}'),
    ('GetAll sequential p99 (us)', 'seq_p99', '{:.1f}'),
    ('GetAll sequential (calls/s)', 'seq_rate', '{:.0f}'),
    ('GetAll 32 in flight (calls/s)', 'win_rate', '{:.0f}'),
    ('GetAll 32 in flight p99 (us)', 'win_p99', '{:.0f}'),
    ('Peer.Ping 32 in flight (calls/s)', 'ping_rate', '{:.0f}'),
    ('idle RSS (KiB)', 'rss_idle', '{:.0f}'),
    ('RSS after load (KiB)', 'rss_load', '{:.0f}'),
    ('peak RSS VmHWM (KiB)', 'hwm', '{:.0f}'),
    ('exec to name owned (ms)', 'owned', '{:.1f}'),
    ('exec to first GetAll reply (ms)', 'reply', '{:.1f}'),
]


def report(targets, res, args):
    labels = [t.label for t in targets]
    med = {lab: {k: median(v) for k, v in res[lab].items()} for lab in labels}
    print(f'\nmedians: exec-to-serving of {args.starts} starts; load of {args.rounds} rounds of '
          f'{args.seq_calls} sequential and {args.window_calls} windowed calls')
    print(f'{"":34}' + ''.join(f'{lab:>16}' for lab in labels))
    for title, key, fmt in ROWS:
        print(f'{title:34}' + ''.join(f'{fmt.format(med[lab].get(key, float("nan"))):>16}' for lab in labels))

    peer = med['hostnamed']
    print()
    for lab in labels[1:]:
        m = med[lab]
        checks = [
            ('throughput', m['win_rate'] / peer['win_rate'], m['pair_throughput'], '>=', 2.0),
            ('p99', m['seq_p99'] / peer['seq_p99'], m['pair_p99'], '<=', 1.0),
            ('RSS', m['rss_idle'] / peer['rss_idle'], float('nan'), '<=', 1.0),
            ('start-up', m['owned'] / peer['owned'], m['pair_startup'], '<=', 1.0),
        ]
        met = 0
        for what, ratio, paired, op, target in checks:
            ok = ratio >= target if op == '>=' else ratio <= target
            met += ok
            pair = '' if paired != paired else f', median of same-round ratios {paired:.2f}x'
            print(f'{lab}/hostnamed {what:10} {ratio:6.2f}x  (target {op} {target:g}x: '
                  f'{"met" if ok else "MISSED"}{pair})')
        print(f'{lab}: {met} of {len(checks)} targets met')
    for lab in labels:
        print('bench ' + lab + ' ' + ' '.join(f'{k}={v:.2f}' for k, v in sorted(med[lab].items())
                                             if res[lab][k]))
    print('\nevery run (the medians above come from these):')
    for lab in labels:
        for k, v in sorted(res[lab].items()):
            if not v:
                continue
            print(f'  {lab} {k}: ' + ' '.join(f'{x:.1f}' for x in v))


def on_signal(signum, frame):
    # scripts/bench stops us with SIGTERM to our process group; the daemons have groups of their
    # own, so unwind through the finally blocks that stop them.
    raise SystemExit(128 + signum)


if __name__ == '__main__':
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sys.exit(main())
