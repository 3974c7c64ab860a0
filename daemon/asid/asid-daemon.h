/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The asid area: its AreaVTable for the table in daemon/areas.c, its state in the daemon
 * (asid-daemon.c) and its bus object (bus-asid.c). */

#include "area.h"
#include "bus-properties.h"
#include "asid.h"
#include "cgroup.h"
#include "cpuid.h"
#include "manager.h"
#include "modprobe.h"
#include "policy.h"

#define ASID_OBJECT_PATH "/org/hwsecd1/asid"
#define ASID_IFACE "org.hwsecd1.Asid"
/* misc.current is polled: cgroupfs does not notify changes. The kvm_amd parameters are polled by
 * the host facts (MANAGER_EVENT_FACTS_CHANGED). */
#define ASID_POLL_USEC (2 * USEC_PER_SEC)
/* Other modprobe.d files are rescanned less often (and on Refresh/SetPolicy). */
#define ASID_CONFLICT_SCAN_TICKS 15U
/* Refresh calls arriving within this time of the first one share one re-read. */
#define ASID_REFRESH_COALESCE_USEC (200 * USEC_PER_MSEC)
/* Calls waiting for that re-read at most; more get Error.Busy. */
#define ASID_REFRESH_MAX_WAITING 4096U

typedef struct AsidArea AsidArea;

struct AsidArea {
        Manager *manager;
        sd_event_source *timer;
        sd_bus_slot *slot;
        unsigned ticks;

        /* Coalesced Refresh calls (bus-asid.c). */
        sd_event_source *refresh_timer;
        sd_bus_message **refresh_waiting;
        size_t n_refresh_waiting;
        uint64_t n_refreshes;
        uint64_t last_refresh_usec;     /* CLOCK_MONOTONIC start of the last coalesced re-read */

        /* Inputs. */
        int cpuid_error;                /* 0 or the error of cpuid_mem_encrypt() */
        CpuidMemEncrypt cpuid;
        bool kvm_loaded;                /* /sys/module/kvm_amd/parameters exists */
        bool p_sev, p_sev_es, p_snp;
        uint32_t p_cth;                 /* ciphertext_hiding_asids as the file shows it */
        PspSnapshot psp;                /* the last MANAGER_EVENT_PSP_CHANGED */
        MiscCounts misc;

        /* Derived. */
        AsidInputs inputs;
        AsidPartition partition;
        AsidUsage usage;
        uint32_t effective_cth;
        char **explanation;
        char **problems;                /* what is wrong with the inputs now */

        /* Policy. */
        bool has_policy;
        AsidPolicy policy;
        int64_t configured_cth;         /* our modprobe.d file's value, -1 when absent */
        bool configured_bad;            /* our file exists but does not parse */
        bool policy_loaded;             /* start-up has read the saved policy */
        char *saved_problem;            /* the saved cth_asids failed SetPolicy's rules (not restored) */
        bool pending_reload;
        AsidConflicts conflicts;
        QuotaResults quotas;

        /* For change notification: every property at the last emit (bus-properties.h). */
        BusPropertyCache properties;
        sd_bus_vtable *vtable;
};

extern const AreaVTable asid_area_vtable;

/* asid-daemon.c */
int asid_refresh(AsidArea *a, bool full);
/* The host as seen now, for asid_policy_plan(). */
void asid_area_host(AsidArea *a, AsidHost *ret);
/* Applies a checked policy: writes the modprobe.d file, persists, applies quotas. On failure
 * nothing changed and the error is returned with *ret_what saying which step failed. */
int asid_apply_policy(AsidArea *a, AsidPolicy *policy, const AsidPlan *plan, const char **ret_what);
/* Adds the warnings about quota cgroups that do not exist now. */
int asid_check_quota_cgroups(const AsidPolicy *p, AsidProblems *problems);
/* JSON of every property, keyed by property name (for Describe() and change detection). */
json_object *asid_area_properties_json(AsidArea *a);

/* bus-asid.c */
int bus_asid_register(AsidArea *a);
/* Drops the object, the Refresh timer and the calls waiting for it. */
void bus_asid_unregister(AsidArea *a);
/* Emits PropertiesChanged for every property whose value changed since the last call; true
 * when something was announced. */
bool bus_asid_emit_changes(AsidArea *a);
