/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The daemon's context: one sd-event loop, one bus connection, the udev monitor, the polkit
 * registry, configuration and persistent state, the host facts, and the areas of the table
 * (daemon/area.h), which it knows by their AreaVTable only. */

#include <json-c/json.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-device.h>
#include <systemd/sd-event.h>

#include "area.h"
#include "conf.h"
#include "events.h"
#include "host-facts.h"
#include "macro.h"

#define HWSECD_BUS_NAME "org.hwsecd1"
#define HWSECD_OBJECT_ROOT "/org/hwsecd1"
#define HWSECD_MANAGER_IFACE "org.hwsecd1.Manager"

typedef struct PolkitRegistry PolkitRegistry;

/* One entry of the area table and its state (daemon/area.h). */
typedef struct AreaSlot {
        const AreaVTable *vtable;
        void *data;                     /* NULL until start succeeded */
} AreaSlot;

/* How often the kvm_amd parameters are polled: module loads are "module" uevents, which the
 * monitor does not pass on, and loading kvm_amd initialises SEV/SNP (Linux >= 6.16). */
#define MANAGER_KVM_POLL_USEC (2 * USEC_PER_SEC)
/* PCI uevents may change the IOMMU groups; they are re-read this long after the last one. */
#define MANAGER_IOMMU_SETTLE_USEC (250 * USEC_PER_MSEC)

typedef struct Manager {
        sd_event *event;
        sd_bus *bus;
        sd_device_monitor *monitor;
        PolkitRegistry *polkit;

        Conf *conf;
        json_object *state;       /* state.json in memory; areas own top-level keys */
        char **problems;          /* daemon-level problems that last (e.g. a corrupt state file set aside) */
        char **config_problems;   /* problems with hwsecd.conf; replaced on every successful load */
        bool state_unreadable;    /* state.json could not be read: never write over it */
        bool log_level_pinned;    /* -v or LogControl1 set the level; the configuration does not override it */
        const char *state_name;   /* "starting", "ready", "degraded" */

        bool replace;
        bool areas_started;       /* every area's start hook ran; broadcasts are delivered */
        bool serving;             /* the bus name was acquired */

        AreaSlot *areas;                /* the table's entries, in table order */
        size_t n_areas;

        HostFacts facts;                /* read here only; areas read them, events say what changed */
        sd_event_source *kvm_timer;
        sd_event_source *iommu_timer;
        char *kvm_signature;

        /* The last event of each type that carries data, kept so that an area that starts
         * later (or asks later) sees what was published before it. */
        PspSnapshot retained_psp;
        bool have_retained_psp;
        FirmwareSnapshot retained_firmware;
        bool have_retained_firmware;
} Manager;

/* Writes m->state atomically to the state directory. Callers that must not lose an
 * acknowledged change call this before replying. */
int manager_save_state(Manager *m);

/* A crash between writing and renaming leaves "<name>.tmp.<pid>" in dir; removes them (areas
 * call it at start for the files they write). */
void manager_remove_stale_temp_files_in(const char *dir, const char *name);

/* Adds a daemon-level problem (shown in Manager.Problems and Describe()) and logs it. */
void manager_add_problem(Manager *m, const char *fmt, ...) _printf_(2, 3);
/* Every current problem (lasting ones, then configuration ones); a new strv. */
char **manager_problems(Manager *m);

/* Recomputes Manager.State ("degraded" when an area says so) and emits PropertiesChanged. */
void manager_update_state(Manager *m);

/* Hands an event to every area, in table order (not before all have started: their hooks would
 * see half-built neighbours; data-carrying events are retained meanwhile). Then recomputes
 * Manager.State. */
void manager_broadcast(Manager *m, const ManagerEvent *ev);
/* The same for events without data. */
void manager_broadcast_type(Manager *m, ManagerEventType type);
/* The last event of that type that carried data (MANAGER_EVENT_PSP_CHANGED), or NULL. */
const PspSnapshot *manager_retained_psp(Manager *m);
/* The last MANAGER_EVENT_FIRMWARE_CHANGED payload, NULL before the first. */
const FirmwareSnapshot *manager_retained_firmware(Manager *m);

/* Re-reads the host facts of parts and broadcasts MANAGER_EVENT_FACTS_CHANGED when some changed. */
int manager_refresh_facts(Manager *m, HostFactsPart parts);

/* Emits PropertiesChanged for Manager properties (CheckSummary, State, Problems…). */
int manager_emit_changed(Manager *m, const char *property, ...);

/* The area table, through the manager (no bus needed): udev.c and bus-manager.c call these. */
void manager_dispatch_uevent(Manager *m, sd_device *d, sd_device_action_t action);
int manager_describe_areas(Manager *m, json_object *root);
/* The entry that serves a Manager member (AreaVTable.manager_members): appends its value or
 * reply body. -ENOENT when no entry serves it. */
int manager_append_member(Manager *m, const char *member, sd_bus_message *reply);
/* Starts every area of the table (manager_startup() does it after the bus is set up). */
int manager_start_areas(Manager *m);
void manager_free_areas(Manager *m);
/* "starting" while an area loads, "degraded" when an area or a problem says so, else "ready". */
const char *manager_compute_state(Manager *m);

/* Life cycle (main.c). */
int manager_new(Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);
int manager_startup(Manager *m);
/* Re-reads hwsecd.conf; on error keeps the old configuration and sets *ret_error. */
int manager_load_config(Manager *m, char **ret_error);
