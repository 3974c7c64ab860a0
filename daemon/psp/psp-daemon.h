/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The PSP area's state, shared between psp-daemon.c (discovery, status, checks) and
 * bus-psp.c (org.hwsecd1.Psp). */

#include "check-history.h"
#include "checks.h"
#include "cpuid.h"
#include "manager.h"
#include "psp-device.h"
#include "sev-status.h"
#include "status-worker.h"
#include "tcb.h"

#define PSP_OBJECT_PATH "/org/hwsecd1/psp"
#define PSP_INTERFACE "org.hwsecd1.Psp"

struct PspArea {
        Manager *manager;
        sd_bus_slot *slot;

        /* discovery */
        bool present;                   /* the PSP PCI function exists */
        PspDevice dev;                  /* valid when present */
        char **removed;                 /* syspaths whose "remove" uevent came (sysfs may lag) */
        bool dev_sev;                   /* misc "sev" and its node exist */
        bool dev_sfs;
        int sev_node, sfs_node;         /* last misc_state(): 0, -ENODEV, -ENOENT/-ESTALE (stale node) */

        /* CPU */
        int cpu_error;
        CpuIdentity cpu;
        TcbLayout layout;

        /* status */
        int dev_sev_open_error;
        bool status_queried;
        SevPlatform platform;
        SevError last_error;            /* the error shown as LastError (SEV first, then SNP) */
        uint64_t last_refresh;          /* CLOCK_REALTIME usec */
        PspStatusWorker worker;         /* status ioctls off the event loop */
        uint64_t status_generation;     /* bumped by every re-read; a result of an older one is dropped */
        bool reread_queued;             /* a re-read came while the worker ran: read again after it */
        sd_bus_message **waiting;       /* Refresh() calls answered when the re-read is complete */
        size_t n_waiting;

        /* checks */
        CheckList checks;

        /* kvm_amd watch: module loads are "module" uevents, which the monitor does not pass on,
         * and loading kvm_amd initialises SEV/SNP (Linux >= 6.16), so its parameters are polled */
        sd_event_source *kvm_timer;
        char *kvm_signature;
};

#define PSP_KVM_POLL_USEC (2 * USEC_PER_SEC)

/* The exit status when udev adds /dev/sev or /dev/sfs but the node in our /dev is missing or is
 * another major:minor: under the unit's PrivateDevices=yes the nodes are bound in (and allowed in
 * the device cgroup) when the service starts, so only a restart reaches the new device. The unit
 * lists it in SuccessExitStatus= and RestartForceExitStatus= (75 is EX_TEMPFAIL). */
#define PSP_EXIT_NODE_STALE 75

/* Re-discovers the PSP and re-reads its status; announces changes and broadcasts
 * MANAGER_EVENT_PSP_CHANGED. exclude: a syspath that is going away (NULL for none). The status
 * ioctls run on a worker thread: returns 1 when the re-read completes later (then it announces
 * and broadcasts), 0 when it is complete, negative errno on failure. */
int psp_reread(Manager *m, const char *exclude);
/* Answers msg (Refresh()) with an empty reply when the pending re-read is complete. */
int psp_refresh_wait(Manager *m, sd_bus_message *msg);

/* psp-daemon.c describes; bus-psp.c serves. */
int bus_psp_register(Manager *m);
int bus_psp_emit_changed(Manager *m);
json_object *psp_to_json(PspArea *a);
