"""Crash consistency: SIGKILL hwsecd at random moments while a client schedules and cancels jobs
in a loop (some of them run against a slow /dev/sfs). After every kill the state file must parse;
after every restart every acknowledged job is there (unless the bounded history legitimately
dropped it), every acknowledged cancel is cancelled, and every job caught running is interrupted.

The history (64 entries) drops the entries that finished first, so a missing job is excused only
when the history is full and the job could have finished: a Cancel was sent for it (acknowledged
or cut short by the kill, which may still have saved it) before the oldest kept entry finished,
or its not_before had passed by the restart, so it may have run. A job
still waiting for its start time cannot have finished: if it is missing, it was lost. The test
records each job's not_before for that. Mutation it catches (tried, seed 1796168844, 150 rounds):
a build whose firmware_save() drops the newest scheduled job from state.json (and from memory, so
the bus view still equals the file) once the history is full fails at round 18 with
"acknowledged job 83 (scheduled) is missing"; the rule before this one excused every missing job
once the history held 64 entries, and passed that build.

HWSECD_KILL_ROUNDS sets the number of kills (default 200); HWSECD_KILL_SEED the random seed."""

import json
import os
import random
import signal
import threading
import time

import dbus

from conftest import scaled
from fwutil import ALL_ACTIONS, FW, FW_IFACE, JOB_IFACE, now_usec, stage_file, state_doc

ROUNDS = int(os.environ.get('HWSECD_KILL_ROUNDS', '200'))
SEED = int(os.environ.get('HWSECD_KILL_SEED', str(int(time.time()))))
HISTORY_MAX = 64
DEAD = ('org.freedesktop.DBus.Error.NoReply', 'org.freedesktop.DBus.Error.ServiceUnknown',
        'org.freedesktop.DBus.Error.NameHasNoOwner', 'org.freedesktop.DBus.Error.Disconnected')


def job_id(path):
    return int(str(path).rsplit('/', 1)[1])


def all_jobs(doc):
    fw = doc.get('firmware', {'jobs': [], 'history': []})
    return {j['id']: j for j in fw['jobs'] + fw['history']}, fw


def client_loop(d, rng, acked, cancelled, not_before, tried):
    """Schedules and cancels until the daemon dies under it. Returns the number of calls."""
    calls = 0
    while True:
        pending = [i for i, s in acked.items() if s == 'scheduled']
        jid = None
        try:
            calls += 1
            if pending and (len(pending) > 20 or rng.random() < 0.4):
                jid = rng.choice(pending)
                sent = now_usec()
                # A Cancel cut short by the kill may still have been saved: remember the first try.
                tried.setdefault(jid, sent)
                d.call(f'{FW}/job/{jid}', JOB_IFACE, 'Cancel', timeout=5)
                acked[jid] = 'cancelled'
                cancelled[jid] = sent
            else:
                sent = now_usec()
                nb = 0 if rng.random() < 0.25 else now_usec() + rng.randint(60, 3600) * 10**6
                path = str(d.call(FW, FW_IFACE, 'ScheduleUpdate', 'pkg', dbus.UInt64(nb), dbus.UInt64(0),
                                  dbus.Dictionary({}, signature='sv'), signature='stta{sv}', timeout=5)[0])
                acked[job_id(path)] = 'scheduled'
                # 0 is "as soon as possible": from the moment it was asked for.
                not_before[job_id(path)] = nb or sent
        except dbus.DBusException as e:
            name = e.get_dbus_name()
            if name in DEAD or not d.running():
                return calls
            if jid is None:
                # ScheduleUpdate: Busy while an update runs is the only expected refusal.
                assert name == 'org.hwsecd1.Error.Busy', f'{name}: {e}'
            else:
                # Cancel: the job started (Busy), finished (Conflict), or finished and was then
                # dropped from the full history (UnknownObject; checked again after the restart).
                assert name in ('org.hwsecd1.Error.Busy', 'org.hwsecd1.Error.Conflict',
                                'org.freedesktop.DBus.Error.UnknownObject'), f'{name}: {e}'
                if name != 'org.hwsecd1.Error.Busy':
                    acked[jid] = 'finished'


def test_sigkill_while_scheduling_and_cancelling(host, bus, polkit, daemon):
    polkit.allow(*ALL_ACTIONS)
    host.sfs.mode = 'slow'
    host.sfs.slow_seconds = 0.05
    stage_file(host, 'pkg', b'crash test package\n' * 64)
    rng = random.Random(SEED)
    acked, cancelled, not_before, tried = {}, {}, {}, {}
    interrupted_checked = calls = excused = 0
    t0 = time.monotonic()
    d = daemon(host)
    print(f'seed {SEED}, {ROUNDS} rounds')
    for rnd in range(ROUNDS):
        delay = rng.uniform(0.0, scaled(0.06))  # longer under valgrind, so calls still happen
        killer = threading.Timer(delay, lambda: d.proc.send_signal(signal.SIGKILL))
        killer.start()
        calls += client_loop(d, rng, acked, cancelled, not_before, tried)
        killer.join()
        d.proc.wait(scaled(10))
        assert d.proc.returncode == -signal.SIGKILL, f'round {rnd}: hwsecd exited with {d.proc.returncode}'
        d.stop()

        # The file parses after a kill, whatever moment it was.
        path = host.root / 'state' / 'state.json'
        before = json.loads(path.read_text()) if path.exists() else {'version': 1}
        running = [i for i, j in all_jobs(before)[0].items() if j['state'] == 'running']

        restarted = now_usec()
        d.start()
        after = state_doc(host) if path.exists() else {'version': 1}
        jobs, fw = all_jobs(after)
        # The bounded history drops the entries that finished first.
        first_kept = min((j['finished_usec'] for j in fw.get('history', [])), default=0)
        history_full = len(fw.get('history', [])) == HISTORY_MAX
        for jid, what in acked.items():
            if jid not in jobs:
                # cancelled (acknowledged or not) before the oldest kept entry finished, or due
                could_finish = tried.get(jid, first_kept + 1) <= first_kept or not_before[jid] <= restarted
                assert history_full and could_finish, \
                    f'round {rnd} (seed {SEED}): acknowledged job {jid} ({what}) is missing'
                excused += 1
                continue
            if jid in cancelled:
                assert jobs[jid]['state'] == 'cancelled', f'round {rnd}: job {jid} cancel was acknowledged'
        for jid in running:
            if jid in jobs:
                assert jobs[jid]['state'] == 'interrupted', f'round {rnd}: job {jid} was running at the kill'
                interrupted_checked += 1
        # Nothing set aside: what hwsecd writes, it can read back.
        assert not [p for p in os.listdir(host.root / 'state') if '.corrupt-' in p]
        # The bus view equals the file.
        live = sorted(int(str(p).rsplit('/', 1)[1]) for p in d.get(FW, FW_IFACE, 'Jobs'))
        assert live == sorted(jobs)
        # Forget what the history dropped.
        for jid in [j for j in acked if j not in jobs]:
            del acked[jid]
            cancelled.pop(jid, None)
            not_before.pop(jid, None)
            tried.pop(jid, None)
    elapsed = time.monotonic() - t0
    print(f'{ROUNDS} kills, {calls} calls, {len(cancelled)} cancels tracked, {interrupted_checked} jobs caught '
          f'running and found interrupted, {excused} missing jobs excused (could have finished), {elapsed:.1f} s')
    assert interrupted_checked > 0 or ROUNDS < 50, 'no kill landed during an update; the test did not test that'
    d.stop()
