/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "log.h"
#include "udev.h"

static int on_device(sd_device_monitor *monitor, sd_device *d, void *userdata) {
        Manager *m = userdata;
        sd_device_action_t action = _SD_DEVICE_ACTION_INVALID;
        const char *syspath = NULL;

        (void) sd_device_get_syspath(d, &syspath);
        if (sd_device_get_action(d, &action) < 0) {
                log_debug("Ignoring uevent without an action for %s.", strna(syspath));
                return 0;
        }
        log_debug("uevent %d for %s", (int) action, strna(syspath));
        manager_dispatch_uevent(m, d, action);
        return 0;
}
int udev_monitor_start(Manager *m) {
        int r;

        r = sd_device_monitor_new(&m->monitor);
        if (r < 0)
                return log_error_errno(r, "Failed to create the udev monitor: %m");
        /* Large SR-IOV bursts must not overflow the socket. */
        (void) sd_device_monitor_set_receive_buffer_size(m->monitor, 128 * 1024 * 1024);
        r = sd_device_monitor_filter_add_match_subsystem_devtype(m->monitor, "misc", NULL);
        if (r >= 0)
                r = sd_device_monitor_filter_add_match_subsystem_devtype(m->monitor, "pci", NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the udev monitor filter: %m");
        r = sd_device_monitor_attach_event(m->monitor, m->event);
        if (r < 0)
                return log_error_errno(r, "Failed to attach the udev monitor: %m");
        r = sd_device_monitor_start(m->monitor, on_device, m);
        if (r < 0)
                return log_error_errno(r, "Failed to start the udev monitor: %m");
        return 0;
}
