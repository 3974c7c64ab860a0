/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Initial hook implementations for the pci area; the area's work replaces this file. */

#include "manager.h"

int pci_area_start(Manager *m) {
        return 0;
}

void pci_area_free(Manager *m) {
}

void pci_area_uevent(Manager *m, sd_device *d, sd_device_action_t a) {
}

void pci_area_event(Manager *m, ManagerEvent ev) {
}

int pci_area_describe(Manager *m, json_object *root) {
        return 0;
}

bool pci_area_degraded(Manager *m) {
        return false;
}
