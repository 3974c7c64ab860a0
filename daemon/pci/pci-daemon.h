/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The pci area in the daemon: its AreaVTable for the table in daemon/areas.c, the audited
 * topology, the uevent queue that coalesces storms, and the bus objects (bus-pci.c). */

#include "area.h"
#include "manager.h"
#include "pci-audit.h"
#include "worker.h"

#define PCI_OBJECT_PATH "/org/hwsecd1/pci"
#define PCI_IFACE "org.hwsecd1.Pci"
#define PCI_DEVICE_IFACE "org.hwsecd1.PciDevice"

/* Bits of a pending uevent */
enum {
        PCI_PENDING_ADD     = 1u << 0,
        PCI_PENDING_REMOVE  = 1u << 1,
        PCI_PENDING_CHANGE  = 1u << 2,
        PCI_PENDING_DRIVER  = 1u << 3,
};

/* Quiet time after the last uevent before the queue is processed, and the longest a queued
 * event waits while a storm goes on. The environment can change both (milliseconds, 1 to
 * 600000): HWSECD_PCI_SETTLE_MSEC and HWSECD_PCI_SETTLE_MAX_MSEC, e.g. so that a test holds the
 * window open for a whole storm whatever the machine's load. */
#define PCI_SETTLE_USEC (25 * USEC_PER_MSEC)
#define PCI_SETTLE_MAX_USEC (1000 * USEC_PER_MSEC)
#define PCI_SETTLE_LIMIT_MSEC 600000u

typedef struct PciArea PciArea;

struct PciArea {
        Manager *m;
        PciTopology *topo;
        char *load_error;               /* why the topology could not be read, or NULL */
        PciMap *announced;              /* address key -> PciDev: objects clients know about */

        PciMap *pending;                /* address key -> (uintptr_t) PCI_PENDING_* bits */
        sd_event_source *settle;
        uint64_t first_pending;         /* CLOCK_MONOTONIC of the oldest queued event */
        uint64_t settle_usec, settle_max_usec;

        sd_bus_slot *slot_pci, *slot_dev, *slot_enum;
        sd_bus_vtable *vtable_pci, *vtable_dev;         /* built from the property tables (bus-pci.c) */

        /* The first audit runs on a worker thread, so that the daemon serves while config space
         * is read (every sysfs config read traps to the device). Until it lands, the topology
         * is empty, uevents only queue, and Manager.State is "starting". */
        bool loading;
        Worker *loader;
        PciTopology *loaded;            /* the worker's result, read after the eventfd fired */
        char *loaded_error;
        int loaded_r;

        /* Audit() callers wait for the next full audit, which runs once the event loop has nothing
         * more urgent (so every call already queued joins it), or at once when the oldest caller
         * has waited PCI_AUDIT_WAIT_MAX_USEC. Each gets the reply of that one audit. */
        sd_bus_message **audit_waiters;
        size_t n_audit_waiters, allocated_audit_waiters;
        sd_event_source *audit_defer;
        uint64_t audit_first_wait;      /* CLOCK_MONOTONIC of the oldest waiter */

        /* statistics (Pci.Statistics) */
        uint64_t events, updates, signals, last_update_usec, last_update_events, last_update_devices;
        uint64_t audit_calls, audits_run;
        uint64_t batches;               /* times the uevent queue went from empty to non-empty; each ends in
                                         * one update, or is folded into a full Audit() */
};

/* The longest an Audit() caller waits for others to join while calls keep coming. */
#define PCI_AUDIT_WAIT_MAX_USEC (250 * USEC_PER_MSEC)

extern const AreaVTable pci_area_vtable;

int bus_pci_register(PciArea *a);
/* Signals for one update: InterfacesAdded/Removed, PropertiesChanged per device and on the
 * Pci object. added/removed are address lists; affected the devices to look at. */
int bus_pci_emit(PciArea *a, char **added, char **removed, PciDev **affected, size_t n_affected, bool summary,
                 bool host);
char *pci_device_object_path(const char *address);
/* Re-reads everything now; changes are signalled. -EBUSY while the first audit runs. */
int pci_reaudit(PciArea *a);
/* Audit(): msg waits for the next full audit (coalesced with every other caller waiting). */
int pci_queue_audit(PciArea *a, sd_bus_message *msg);
/* Replies to one Audit() caller with the outcome r of the audit it waited for. */
int bus_pci_reply_audit(PciArea *a, sd_bus_message *msg, int r);
/* Replaces the topology with t (taking it) and signals what changed. */
int pci_install(PciArea *a, PciTopology *t);
