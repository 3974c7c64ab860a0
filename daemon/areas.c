/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The table of areas: the only place outside an area's folder that names it. The manager
 * starts them in this order (each may read what the ones before it published), hands them
 * uevents and events in this order, and frees them in reverse. A new area adds its folder, one
 * line here and one subdir() in daemon/meson.build (docs/HACKING.md). */

#include "asid-daemon.h"
#include "metrics-daemon.h"
#include "checks-daemon.h"
#include "firmware-daemon.h"
#include "pci-daemon.h"
#include "psp-daemon.h"

const AreaVTable *const hwsecd_areas[] = {
        &psp_area_vtable,
        &asid_area_vtable,
        &firmware_area_vtable,
        &pci_area_vtable,
        &checks_area_vtable,    /* it judges what the others published */
        &metrics_area_vtable,   /* last: it exports what every entry before it knows */
};

const size_t hwsecd_n_areas = ELEMENTSOF(hwsecd_areas);
