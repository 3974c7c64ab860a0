/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The events the manager hands to every entry of the area table (manager_broadcast()). Data
 * that one part of the daemon needs from another travels here, typed, never by a call into
 * the other's folder. The payload pointers are valid during the call only: keep a copy. */

#include "host-facts.h"
#include "snapshots.h"

typedef enum ManagerEventType {
        MANAGER_EVENT_PSP_CHANGED,       /* PSP presence or SEV/SNP status re-read: .psp */
        MANAGER_EVENT_ASID_CHANGED,      /* pools, parameters or policy changed */
        MANAGER_EVENT_FIRMWARE_CHANGED,  /* /dev/sfs presence, versions or jobs changed: .firmware */
        MANAGER_EVENT_PCI_CHANGED,       /* audit result changed */
        MANAGER_EVENT_CONFIG_RELOADED,   /* m->conf was replaced */
        MANAGER_EVENT_FACTS_CHANGED,     /* host facts re-read: .facts, .facts_changed says which parts */
        MANAGER_EVENT_PSP_STALE,         /* the PSP's firmware or SNP config was changed by another area (a
                                          * firmware job updated or committed): the PSP area re-reads */
        _MANAGER_EVENT_MAX,
} ManagerEventType;

typedef struct ManagerEvent {
        ManagerEventType type;
        union {
                const PspSnapshot *psp;
                const FirmwareSnapshot *firmware;
                struct {
                        const HostFacts *facts;
                        HostFactsPart facts_changed;
                };
        };
} ManagerEvent;

const char *manager_event_type_to_string(ManagerEventType t);
