/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The ASID policy: how many ASIDs ciphertext hiding gives to SNP, whether SEV-ES may become
 * unusable, and misc-cgroup quotas. Parsed from JSON (the bus glue turns the a{sv} argument into
 * JSON with bus_read_dict_as_json(); state.json stores the same document), then checked against
 * the host to give the partition that would result after a kvm_amd reload and its problems.
 * No sd-bus here.
 *
 *   { "ciphertext_hiding": "off" | <uint> | "all-snp",
 *     "allow_sev_es_unusable": <bool>,
 *     "quotas": { "<cgroup path>": { "sev": <uint> | "max", "sev_es": <uint> | "max" }, … } }
 *
 * Every key is optional. Without "ciphertext_hiding" hwsecd does not manage the kvm_amd
 * parameter (and removes the modprobe.d file it owns). */

#include <json-c/json.h>

#include "asid.h"
#include "macro.h"

#define ASID_POLICY_MAX_QUOTAS 256U
#define ASID_CGROUP_PATH_MAX 4096U
#define ASID_QUOTA_MAX ((uint64_t) UINT32_MAX)
#define ASID_QUOTA_UNLIMITED UINT64_MAX   /* "max" */

typedef enum CthMode {
        CTH_UNMANAGED,          /* no "ciphertext_hiding" key */
        CTH_OFF,
        CTH_COUNT,
        CTH_ALL_SNP,
        _CTH_MODE_MAX,
} CthMode;

typedef struct AsidQuota {
        char *cgroup;           /* relative to the cgroup root, no leading '/' */
        bool has_sev, has_sev_es;
        uint64_t sev, sev_es;   /* ASID_QUOTA_UNLIMITED for "max" */
} AsidQuota;

typedef struct AsidPolicy {
        CthMode cth_mode;
        uint32_t cth_count;     /* CTH_COUNT only */
        bool allow_sev_es_unusable;
        AsidQuota *quotas;
        size_t n_quotas;
} AsidPolicy;

void asid_policy_done(AsidPolicy *p);

/* Parses and checks types and ranges. On -EINVAL *ret_error says which key and why, in a
 * sentence for a person. Unknown keys, wrong types, negative numbers, numbers above UINT32_MAX,
 * bad cgroup paths: all -EINVAL. */
int asid_policy_from_json(json_object *o, AsidPolicy *ret, char **ret_error);
json_object *asid_policy_to_json(const AsidPolicy *p);

/* Normalises a cgroup path given by a person: strips leading '/', refuses "", ".", "..",
 * empty components, control characters and the root. */
int asid_cgroup_path_normalize(const char *path, char **ret);

typedef enum AsidSeverity {
        ASID_SEVERITY_WARNING,
        ASID_SEVERITY_ERROR,
        _ASID_SEVERITY_MAX,
} AsidSeverity;

const char *asid_severity_to_string(AsidSeverity s) _const_;

typedef struct AsidProblem {
        AsidSeverity severity;
        char *code;             /* stable id, e.g. "cth-unsupported" */
        char *message;          /* a sentence for a person */
} AsidProblem;

typedef struct AsidProblems {
        AsidProblem *items;
        size_t n;
} AsidProblems;

void asid_problems_done(AsidProblems *l);
int asid_problems_add(AsidProblems *l, AsidSeverity s, const char *code, const char *fmt, ...) _printf_(4, 5);
bool asid_problems_has_error(const AsidProblems *l);
/* The first error, or NULL. */
const AsidProblem *asid_problems_first_error(const AsidProblems *l);
json_object *asid_problems_to_json(const AsidProblems *l);

/* What the host looks like now, for checking a policy. */
typedef struct AsidHost {
        AsidInputs inputs;              /* as kvm_amd sees them now (cth_requested: effective) */
        int cth_supported;              /* 1, 0, or -1 unknown (no SNP_PLATFORM_STATUS) */
        int64_t snp_guests;             /* -1 unknown */
        int64_t sev_es_guests;          /* -1 unknown */
        uint64_t sev_capacity, sev_es_capacity; /* misc.capacity, 0 if unknown */
} AsidHost;

/* The result of checking a policy against the host. */
typedef struct AsidPlan {
        bool manages_cth;               /* the policy sets ciphertext hiding */
        uint32_t cth_asids;             /* the value to write in modprobe.d (already capped) */
        AsidPartition partition;        /* after the next kvm_amd load */
        AsidInputs inputs;              /* the inputs that partition was computed from */
} AsidPlan;

/* Resolves the policy's count (all-snp: min SEV ASID - 1; a count: capped as kvm_amd caps it),
 * computes the partition after a reload and appends the problems:
 *   error   cth-unsupported          ciphertext hiding asked for, firmware/BIOS cannot do it
 *   warning cth-support-unknown      the SNP status was not readable
 *   error   no-joint-asids           ciphertext hiding asked for, min SEV ASID <= 1
 *   warning cth-without-snp          kvm_amd has SNP off, yet the parameter (set or kept by the
 *                                    policy) takes ASIDs from SEV-ES (v6.18 splits whenever SEV is on)
 *                                    (also when the raw value wraps the first SEV-ES ASID to 0,
 *                                    which only a kept parameter can: hwsecd writes capped values)
 *   warning cth-capped               the count is above min SEV ASID - 1
 *   error   sev-es-unusable          SEV-ES would have no ASIDs and the policy does not allow it
 *   warning sev-es-unusable          … and it does
 *   warning sev-es-guests-displaced  SEV-ES guests running now would not fit after a reload
 *   error   snp-asids-below-guests   fewer SNP ASIDs than SNP guests running now
 *   warning quota-above-capacity     a quota above the pool's capacity (no effect) */
int asid_policy_plan(const AsidPolicy *p, const AsidHost *host, AsidPlan *ret, AsidProblems *problems);
