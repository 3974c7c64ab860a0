/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The PSP area: its AreaVTable for the table in daemon/areas.c, and its state, shared between
 * psp-daemon.c (discovery, status, the snapshot it publishes) and bus-psp.c (org.hwsecd1.Psp). */

#include "area.h"
#include "bus-properties.h"
#include "cpuid.h"
#include "manager.h"
#include "psp-device.h"
#include "psp-ops.h"
#include "sev-status.h"
#include "tcb.h"
#include "worker.h"

#define PSP_OBJECT_PATH "/org/hwsecd1/psp"
#define PSP_INTERFACE "org.hwsecd1.Psp"

typedef struct PspArea PspArea;

struct PspArea {
        Manager *manager;
        sd_bus_slot *slot;
        sd_bus_vtable *vtable;          /* built from the property table (bus-psp.c) */
        BusPropertyCache properties;    /* what PropertiesChanged last said */

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
        bool chip_id_valid;             /* SEV_GET_ID2 answered at the last status read */
        PspChipId chip_id;
        SevError chip_id_error;         /* why not (NO_DEVICE_NODE without /dev/sev) */
        uint64_t last_commit_usec;      /* our last successful SNP_COMMIT, state.json "psp" */
        uint64_t last_refresh;          /* CLOCK_REALTIME usec */
        Worker *status_worker;          /* status ioctls off the event loop (at most one) */
        uint64_t status_generation;     /* bumped by every re-read; a result of an older one is dropped */
        bool reread_queued;             /* a re-read came while the worker ran: read again after it */
        sd_bus_message **waiting;       /* Refresh() calls answered when the re-read is complete */
        size_t n_waiting;

};

extern const AreaVTable psp_area_vtable;

/* The exit status when udev adds /dev/sev or /dev/sfs but the node in our /dev is missing or is
 * another major:minor: under the unit's PrivateDevices=yes the nodes are bound in (and allowed in
 * the device cgroup) when the service starts, so only a restart reaches the new device. The unit
 * lists it in SuccessExitStatus= and RestartForceExitStatus= (75 is EX_TEMPFAIL). */
#define PSP_EXIT_NODE_STALE 75

/* Re-discovers the PSP and re-reads its status; announces changes and broadcasts
 * MANAGER_EVENT_PSP_CHANGED. exclude: a syspath that is going away (NULL for none). The status
 * ioctls run on a worker thread: returns 1 when the re-read completes later (then it announces
 * and broadcasts), 0 when it is complete, negative errno on failure. */
int psp_reread(PspArea *a, const char *exclude);
/* Answers msg (Refresh()) with an empty reply when the pending re-read is complete. */
int psp_refresh_wait(PspArea *a, sd_bus_message *msg);

/* The chip id in upper-case hex ("" when unknown), and the VCEK URL of the AMD KDS built from
 * it, the CPU generation and the reported TCB (vcek.h). psp_vcek_url() returns 0 and *ret, or a
 * negative errno with e naming why there is no URL: the vcek_url_build() names, or CHIP_ID_UNKNOWN
 * (SEV_GET_ID2 failed: e is its error) and SNP_STATUS_UNKNOWN (no reported TCB to build from). */
int psp_chip_id_hex(PspArea *a, char *buf, size_t size);
int psp_vcek_url(PspArea *a, char **ret, SevError *e);

/* Records a successful SNP_COMMIT (CommitFirmware) in state.json; negative errno when the state
 * could not be written (the commit happened anyway). */
int psp_record_commit(PspArea *a);

/* psp-daemon.c describes; bus-psp.c serves. */
int bus_psp_register(PspArea *a);
int bus_psp_emit_changed(PspArea *a);
json_object *psp_to_json(PspArea *a);
