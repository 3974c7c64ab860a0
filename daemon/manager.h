/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The daemon's context: one sd-event loop, one bus connection, the udev monitor, the polkit
 * registry, configuration and persistent state, and one pointer per area. */

#include <json-c/json.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-device.h>
#include <systemd/sd-event.h>

#include "conf.h"
#include "macro.h"

#define HWSECD_BUS_NAME "org.hwsecd1"
#define HWSECD_OBJECT_ROOT "/org/hwsecd1"
#define HWSECD_MANAGER_IFACE "org.hwsecd1.Manager"

typedef struct PolkitRegistry PolkitRegistry;
typedef struct PspArea PspArea;
typedef struct AsidArea AsidArea;
typedef struct FirmwareArea FirmwareArea;
typedef struct PciArea PciArea;

/* Events one area tells the others about (manager_broadcast()). */
typedef enum ManagerEvent {
        MANAGER_EVENT_PSP_CHANGED,       /* PSP presence or SEV/SNP status re-read */
        MANAGER_EVENT_ASID_CHANGED,      /* pools, parameters or policy changed */
        MANAGER_EVENT_FIRMWARE_CHANGED,  /* /dev/sfs presence, versions or jobs changed */
        MANAGER_EVENT_PCI_CHANGED,       /* audit result changed */
        MANAGER_EVENT_CONFIG_RELOADED,   /* m->conf was replaced */
        _MANAGER_EVENT_MAX,
} ManagerEvent;

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

        PspArea *psp;
        AsidArea *asid;
        FirmwareArea *firmware;
        PciArea *pci;
} Manager;

/* Writes m->state atomically to the state directory. Callers that must not lose an
 * acknowledged change call this before replying. */
int manager_save_state(Manager *m);

/* Adds a daemon-level problem (shown in Manager.Problems and Describe()) and logs it. */
void manager_add_problem(Manager *m, const char *fmt, ...) _printf_(2, 3);
/* Every current problem (lasting ones, then configuration ones); a new strv. */
char **manager_problems(Manager *m);

/* Recomputes Manager.State ("degraded" when an area says so) and emits PropertiesChanged. */
void manager_update_state(Manager *m);

/* Tells every area about an event (areas ignore what they do not care about). */
void manager_broadcast(Manager *m, ManagerEvent ev);

/* Emits PropertiesChanged for Manager properties (CheckSummary, State, Problems…). */
int manager_emit_changed(Manager *m, const char *property, ...);

/* ---- Area hooks. Each area implements these in daemon/<area>/<area>-daemon.c. ----
 * start:    after the bus connection exists and before the name is requested: read initial
 *           state, register vtables, arm timers. A negative return aborts start-up, so only
 *           fail for programming errors; hardware absence is state, not failure.
 * free:     release everything (the bus may already be flushing).
 * uevent:   every udev event of subsystem "misc" or "pci" (sd_device_monitor).
 * event:    see ManagerEvent.
 * describe: add this area's part of Describe() to root (a JSON object).
 * degraded: true when this area's state should make Manager.State "degraded". */
#define AREA_HOOKS(area)                                                        \
        int area##_area_start(Manager *m);                                      \
        void area##_area_free(Manager *m);                                      \
        void area##_area_uevent(Manager *m, sd_device *d, sd_device_action_t a); \
        void area##_area_event(Manager *m, ManagerEvent ev);                    \
        int area##_area_describe(Manager *m, json_object *root);                \
        bool area##_area_degraded(Manager *m)

AREA_HOOKS(psp);
AREA_HOOKS(asid);
AREA_HOOKS(firmware);
AREA_HOOKS(pci);

/* True while the PCI area's first audit still runs on its worker thread (State "starting"). */
bool pci_area_loading(Manager *m);

/* Readiness checks live with the PSP area (daemon/psp). The Manager interface serialises them:
 * GetChecks() -> a(ssssssa{sv}a{sv}) and CheckSummary a{su}. */
int psp_area_append_checks(Manager *m, sd_bus_message *reply);
int psp_area_append_check_summary(Manager *m, sd_bus_message *reply);
int psp_area_describe_checks(Manager *m, json_object *root);

/* What other areas may read from the PSP area (implemented in daemon/psp). */
typedef struct PspSnapshot {
        bool present;                   /* the PSP PCI function and /dev/sev exist */
        bool sev_status_valid;          /* SEV_PLATFORM_STATUS answered */
        uint8_t sev_state;              /* 0 UNINIT, 1 INIT, 2 WORKING */
        uint32_t sev_guest_count;
        bool snp_status_valid;          /* SNP_PLATFORM_STATUS answered */
        bool snp_initialized;
        uint32_t snp_guest_count;
        bool ciphertext_hiding_cap;     /* SNP status bit: BIOS capability */
        bool ciphertext_hiding_en;      /* SNP status bit: enabled at SNP_INIT_EX */
        bool sfs_present;               /* /dev/sfs exists */
} PspSnapshot;

void psp_area_snapshot(Manager *m, PspSnapshot *ret);

/* Life cycle (main.c). */
int manager_new(Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);
int manager_startup(Manager *m);
/* Re-reads hwsecd.conf; on error keeps the old configuration and sets *ret_error. */
int manager_load_config(Manager *m, char **ret_error);
