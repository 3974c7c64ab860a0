/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Initial hook implementations for the asid area; the area's work replaces this file. */

#include "manager.h"

int asid_area_start(Manager *m) {
        return 0;
}

void asid_area_free(Manager *m) {
}

void asid_area_uevent(Manager *m, sd_device *d, sd_device_action_t a) {
}

void asid_area_event(Manager *m, ManagerEvent ev) {
}

int asid_area_describe(Manager *m, json_object *root) {
        return 0;
}

bool asid_area_degraded(Manager *m) {
        return false;
}
