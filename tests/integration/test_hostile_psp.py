"""Hostile and stale device conditions for the PSP area: the node hwsecd can open is not the
device udev reports. Under the unit's PrivateDevices=yes, /dev/sev and /dev/sfs are bound in (and
allowed in the device cgroup) when the service starts; after ccp is unloaded and loaded again the
kernel's node may have another major:minor, or there was no node to bind at start. hwsecd must
never send SEV commands to a node that is another device, must stay up (Present=false) when the
PSP goes away, and must exit with status 75 (PSP_EXIT_NODE_STALE; the unit restarts it) when udev
adds a node it cannot reach."""

import subprocess

import pytest

import sim_psp
from conftest import scaled
from test_psp import MANAGER, MANAGER_IFACE, PSP, PSP_IFACE, prepare, props, results, wait_for

MSG_PSP_NODE_STALE = '0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a14'
EXIT_NODE_STALE = 75


def wait_exit(d, timeout=10):
    try:
        return d.proc.wait(scaled(timeout))
    except subprocess.TimeoutExpired:
        pytest.fail(f'hwsecd kept running with a stale /dev/sev:\n{d.log()}')


def sev_calls(host):
    with host._psp_handler.lock:
        return len(host._psp_handler.calls)


def test_readded_psp_with_new_minor_exits_for_a_restart(host, bus, daemon):
    """Mutation caught: ccp reloaded, /dev/sev now 10:125 while our node is still the old 10:124,
    and the daemon carries on (keeps using the old node or misses the new device). Checks: the
    removal leaves the daemon running with Present=false and SevDevice=false; the add makes it
    exit with 75 after MESSAGE_ID PSP_NODE_STALE, with no SEV command sent after the removal;
    started again with the node re-bound at 10:125 it reads the status (SevStatusValid)."""
    prepare(host)
    d = daemon(host)
    assert props(d)['SevStatusValid'] is True

    sim_psp.remove_psp(host)
    wait_for(lambda: props(d)['Present'] is False and props(d)['SevDevice'] is False, what='the removal')
    assert d.running()
    assert props(d)['SevStatusValid'] is False
    assert d.get(MANAGER, MANAGER_IFACE, 'State') == 'ready'
    calls = sev_calls(host)

    sim_psp.set_sev_devnum(host, 10, 125)
    sim_psp.add_psp(host)
    assert wait_exit(d) == EXIT_NODE_STALE
    log = d.log()
    assert log.count(MSG_PSP_NODE_STALE) == 1
    assert '10:125' in log
    assert sev_calls(host) == calls
    assert d.stop() == EXIT_NODE_STALE

    # what systemd does next: start the unit again, binding the current node
    sim_psp.bind_sev_node(host, 10, 125)
    d.start()
    p = props(d)
    assert p['Present'] is True and p['SevDevice'] is True and p['SevStatusValid'] is True
    assert results(d)['platform.dev-sev'] == 'pass'
    assert d.log().count(MSG_PSP_NODE_STALE) == 1


def test_sev_added_without_a_node_in_our_dev_exits_for_a_restart(host, bus, daemon):
    """Mutation caught: udev adds /dev/sev (ccp loaded after the service started, nothing was bound)
    and the daemon stays up with SevDevice=false for good. Checks: exit status 75 and MESSAGE_ID
    PSP_NODE_STALE; once the node is there, a new start has SevDevice and SevStatusValid true."""
    prepare(host)
    d = daemon(host)
    sim_psp.remove_sev(host)
    wait_for(lambda: props(d)['SevDevice'] is False, what='the removal of /dev/sev')
    assert d.running() and props(d)['Present'] is True

    sim_psp.hide_sev_node(host)
    sim_psp.add_sev(host)
    assert wait_exit(d) == EXIT_NODE_STALE
    assert d.log().count(MSG_PSP_NODE_STALE) == 1
    assert d.stop() == EXIT_NODE_STALE

    sim_psp.hide_sev_node(host, hidden=False)
    d.start()
    p = props(d)
    assert p['SevDevice'] is True and p['SevStatusValid'] is True


def test_stale_node_at_start_is_never_used(host, bus, daemon):
    """Mutation caught: at start our /dev/sev is 10:124 but udev says the device is 10:125 (its
    old minor may be another misc device now) and the daemon still issues SEV_ISSUE_CMD there.
    Checks: zero SEV commands reach the node, through start and Refresh(); SevDevice and
    SevStatusValid false, platform.dev-sev fails; the daemon keeps running (no restart loop at
    start) and logs MESSAGE_ID PSP_NODE_STALE once, not on every re-read."""
    prepare(host)
    sim_psp.set_sev_devnum(host, 10, 125)
    d = daemon(host)
    p = props(d)
    assert p['Present'] is True
    assert p['SevDevice'] is False and p['SevStatusValid'] is False
    assert results(d)['platform.dev-sev'] == 'fail'
    d.iface(PSP, PSP_IFACE).Refresh(timeout=scaled(25))
    d.iface(PSP, PSP_IFACE).Refresh(timeout=scaled(25))
    assert sev_calls(host) == 0
    assert d.running()
    assert d.log().count(MSG_PSP_NODE_STALE) == 1


def busctl_refresh(bus):
    return subprocess.Popen(['busctl', f'--address={bus.address}', f'--timeout={int(scaled(60))}', 'call',
                             'org.hwsecd1', PSP, PSP_IFACE, 'Refresh'],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def ping(d):
    d.conn.call_blocking('org.hwsecd1', MANAGER, 'org.freedesktop.DBus.Peer', 'Ping', '', [], timeout=scaled(10))


def test_bus_answers_while_a_status_read_hangs(host, bus, daemon):
    """Mutation caught: the SEV status ioctls run in the event loop, so a PSP that does not answer
    (ccp waits psp_cmd_timeout, 100 s) stops the whole bus. Checks: while Refresh()'s
    SEV_PLATFORM_STATUS is held in the simulated PSP, Peer.Ping and property reads answer (the
    cached SevGuestCount 0) and both Refresh() calls are still pending; after the release both
    return successfully and SevGuestCount is the new 4."""
    prepare(host)
    d = daemon(host)
    sim_psp.set_status(host, sev=dict(guest_count=4))
    sim_psp.hold_status(host)
    calls = []
    try:
        calls.append(busctl_refresh(bus))
        wait_for(lambda: sim_psp.status_held(host), what='the status read to reach the PSP')
        calls.append(busctl_refresh(bus))
        ping(d)
        assert props(d)['SevGuestCount'] == 0
        assert d.get(MANAGER, MANAGER_IFACE, 'State') == 'ready'
        assert all(c.poll() is None for c in calls)
    finally:
        sim_psp.release_status(host)
    for c in calls:
        _out, err = c.communicate(timeout=scaled(60))
        assert c.returncode == 0, err
    assert props(d)['SevGuestCount'] == 4
    assert props(d)['SevStatusValid'] is True


def test_result_of_a_hung_read_is_dropped_when_the_psp_went_away(host, bus, daemon):
    """Mutation caught: a status read that hung while the PSP was removed lands afterwards and
    brings back SevStatusValid=true for a device that is gone. Checks: the removal is announced
    while the read hangs (Present=false, SevDevice=false, Ping answers); after the release the late
    answer (SEV_PLATFORM_STATUS valid) reaches the loop and is dropped: SevStatusValid stays false;
    the pending Refresh() returns successfully."""
    prepare(host)
    d = daemon(host)
    sim_psp.hold_status(host)
    refresh = None
    try:
        refresh = busctl_refresh(bus)
        wait_for(lambda: sim_psp.status_held(host), what='the status read to reach the PSP')
        sim_psp.remove_psp(host)
        wait_for(lambda: props(d)['Present'] is False and props(d)['SevDevice'] is False, what='the removal')
        ping(d)
    finally:
        sim_psp.release_status(host)
    _out, err = refresh.communicate(timeout=scaled(60))
    assert refresh.returncode == 0, err
    # the late answer reaches the loop (the SNP command after it fails: the PSP is gone)
    wait_for(lambda: 'Dropping the result of PSP status read' in d.log(), what='the late status answer')
    p = props(d)
    assert p['Present'] is False and p['SevStatusValid'] is False and p['SnpStatusValid'] is False
    assert d.running()
