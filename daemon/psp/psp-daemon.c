/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Initial hook implementations for the psp area; the area's work replaces this file. */

#include "manager.h"

int psp_area_start(Manager *m) {
        return 0;
}

void psp_area_free(Manager *m) {
}

void psp_area_uevent(Manager *m, sd_device *d, sd_device_action_t a) {
}

void psp_area_event(Manager *m, ManagerEvent ev) {
}

int psp_area_describe(Manager *m, json_object *root) {
        return 0;
}

bool psp_area_degraded(Manager *m) {
        return false;
}

int psp_area_append_checks(Manager *m, sd_bus_message *reply) {
        return sd_bus_message_append(reply, "a(ssssssa{sv}a{sv})", 0);
}

int psp_area_append_check_summary(Manager *m, sd_bus_message *reply) {
        return sd_bus_message_append(reply, "a{su}", 0);
}

int psp_area_describe_checks(Manager *m, json_object *root) {
        return 0;
}

void psp_area_snapshot(Manager *m, PspSnapshot *ret) {
        *ret = (PspSnapshot) {};
}
