/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One shape for every part of the daemon that owns a piece of the host: an AreaVTable. The
 * manager knows the areas only through the table in daemon/areas.c (hwsecd_areas[]) and calls
 * them in table order (free in reverse order). An area's header exports its AreaVTable and
 * nothing else the manager uses; its state is an opaque pointer the manager passes back.
 *
 * start     after the bus connection exists and before the name is requested: read the
 *           initial state, register objects, arm timers. *ret_area is the area's state. A
 *           negative return aborts start-up: fail only for programming errors; hardware
 *           absence is state, not failure. Retained events (manager_retained()) and the host
 *           facts (m->facts) are there to read.
 * free      release everything (the bus may already be flushing). Called with NULL never.
 * uevent    every udev event of subsystem "misc" or "pci" (ignore what is not yours).
 * event     every manager event (daemon/events.h); ignore the types you do not use.
 * describe  add your key(s) to the Describe() document root.
 * degraded  true when your state should make Manager.State "degraded".
 * loading   true while you are not ready to serve (Manager.State "starting").
 * metrics   append your facts to the metrics writer (daemon/shared/metrics.h), from your own
 *           state; the export entry (daemon/metrics/) calls it when it renders (docs/metrics.md).
 * manager_members  members of org.hwsecd1.Manager this entry serves (NULL-terminated). The
 *           Manager vtable (bus-manager.c) lists every member in the contract's order and asks
 *           the table for the entry that serves a name.
 * Any hook may be NULL. */

#include <json-c/json.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-device.h>

#include "events.h"
#include "metrics.h"

typedef struct Manager Manager;

typedef struct AreaManagerMember {
        const char *name;               /* "CheckSummary" (a property) or "GetChecks" (a method) */
        /* A property: appends its value. A method without arguments: appends the reply body. */
        int (*append)(void *area, sd_bus_message *reply);
} AreaManagerMember;

typedef struct AreaVTable {
        const char *name;               /* "psp": logs only */
        int (*start)(Manager *m, void **ret_area);
        void (*free)(void *area);
        void (*uevent)(void *area, sd_device *d, sd_device_action_t action);
        void (*event)(void *area, const ManagerEvent *ev);
        int (*describe)(void *area, json_object *root);
        bool (*degraded)(void *area);
        bool (*loading)(void *area);
        int (*metrics)(void *area, MetricsWriter *w);
        const AreaManagerMember *manager_members;
} AreaVTable;

/* The table (daemon/areas.c; a test links its own). */
extern const AreaVTable *const hwsecd_areas[];
extern const size_t hwsecd_n_areas;
