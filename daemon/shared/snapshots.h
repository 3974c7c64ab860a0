/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What one part of hwsecd publishes for the others, as plain values that can be copied: the
 * payloads of the manager's typed events (daemon/events.h). Neutral ground: no area owns this
 * header, and the core (the readiness checks) reads the same types. */

#include <stdbool.h>
#include <stdint.h>

#include "sev-status.h"

/* The PSP area's view after each re-read (MANAGER_EVENT_PSP_CHANGED). */
typedef struct PspSnapshot {
        bool pci_present;               /* the PSP PCI function exists */
        char pci_address[32];           /* "0000:c1:00.1", "" when absent */
        char driver[64];                /* bound driver, "" when none */
        bool dev_sev;                   /* misc "sev" exists and our node is that device */
        bool dev_sfs;                   /* the same for "sfs" */
        bool status_queried;            /* platform holds a query result */
        SevPlatform platform;           /* open error, SEV and SNP status or their errors */

        /* Derived, for consumers that want the short answer. */
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
        uint64_t last_commit_usec;      /* CLOCK_REALTIME of hwsecd's last successful SNP_COMMIT
                                         * (Psp.CommitFirmware), 0 when none is recorded */
} PspSnapshot;

/* The firmware area's view after each change (MANAGER_EVENT_FIRMWARE_CHANGED): the newest
 * update a job installed, for the "committed after an update" readiness check. */
typedef struct FirmwareSnapshot {
        bool have_update;               /* a job in the history succeeded */
        uint32_t update_job;            /* the newest such job */
        uint64_t update_usec;           /* when it finished, CLOCK_REALTIME */
        bool update_committed;          /* that job committed too (ScheduleUpdate option commit) */
} FirmwareSnapshot;
