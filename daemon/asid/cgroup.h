/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* misc cgroup files (kernel-interfaces.md §5): the root's misc.capacity and misc.current, and
 * misc.max of named cgroups, written and read back. A missing cgroup is reported, never
 * created. No sd-bus here. */

#include "asid.h"
#include "policy.h"

/* Reads root/misc.capacity and root/misc.current into *ret (valid flags say what was read).
 * Returns 0, or -EBADMSG when a file exists but does not parse (ret says what was valid). */
int misc_read_root(const char *root, MiscCounts *ret);

typedef enum QuotaState {
        QUOTA_APPLIED,          /* written and read back equal */
        QUOTA_MISSING_CGROUP,   /* the cgroup directory does not exist */
        QUOTA_NO_CONTROLLER,    /* the cgroup has no misc.max (misc not enabled for it) */
        QUOTA_WRITE_FAILED,     /* the kernel refused the write */
        QUOTA_MISMATCH,         /* read back something else */
        _QUOTA_STATE_MAX,
} QuotaState;

const char *quota_state_to_string(QuotaState s) _const_;

typedef struct QuotaResult {
        char *cgroup;
        const char *resource;   /* "sev" or "sev_es" (static) */
        uint64_t requested;     /* ASID_QUOTA_UNLIMITED for "max" */
        char *observed;         /* what misc.max says now for the resource, "" if unknown */
        QuotaState state;
        int error;              /* errno of a failed write or read, 0 otherwise */
} QuotaResult;

typedef struct QuotaResults {
        QuotaResult *items;
        size_t n;
} QuotaResults;

void quota_results_done(QuotaResults *l);

/* Writes "<resource> <n|max>" to root/<cgroup>/misc.max for each resource the quota sets, and
 * reads each back at once. Appends one result per resource. Returns <0 only on ENOMEM. */
int cgroup_apply_quota(const char *root, const AsidQuota *q, QuotaResults *results);

/* Whether root/<cgroup> exists as a directory (1), not (0), or an error. */
int cgroup_exists(const char *root, const char *cgroup);
