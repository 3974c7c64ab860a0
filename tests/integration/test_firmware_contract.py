"""Firmware contract helpers: the FirmwareJob object exists only after a job was scheduled, so
the foundation's introspection test calls prepare_job_object() first."""

import time

import dbus

import sim_sfs

FW = '/org/hwsecd1/firmware'
FW_IFACE = 'org.hwsecd1.Firmware'


def prepare_job_object(d, host, polkit):
    """Schedules job 1 (30 days ahead, so it stays scheduled) on a fresh daemon."""
    sim_sfs.stage(host, 'contract-pkg.sbin', b'contract package\n')
    polkit.allow('org.hwsecd1.schedule-firmware-update')
    path = d.call(FW, FW_IFACE, 'ScheduleUpdate', 'contract-pkg.sbin', dbus.UInt64(int((time.time() + 30 * 86400) * 10**6)),
                  dbus.UInt64(0), dbus.Dictionary({}, signature='sv'), signature='stta{sv}')[0]
    assert str(path) == '/org/hwsecd1/firmware/job/1', path
    return path


def test_job_object_path_is_the_contract_path(host, bus, polkit, daemon):
    d = daemon(host)
    path = prepare_job_object(d, host, polkit)
    assert d.get(path, 'org.hwsecd1.FirmwareJob', 'State') == 'scheduled'
