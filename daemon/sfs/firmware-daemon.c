/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Initial hook implementations for the firmware area; the area's work replaces this file. */

#include "manager.h"

int firmware_area_start(Manager *m) {
        return 0;
}

void firmware_area_free(Manager *m) {
}

void firmware_area_uevent(Manager *m, sd_device *d, sd_device_action_t a) {
}

void firmware_area_event(Manager *m, ManagerEvent ev) {
}

int firmware_area_describe(Manager *m, json_object *root) {
        return 0;
}

bool firmware_area_degraded(Manager *m) {
        return false;
}
