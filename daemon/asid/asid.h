/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The SEV, SEV-ES and SNP ASID pools, computed the way kvm_amd's sev_hardware_setup() splits the
 * ASID space (kernel-interfaces.md §3.3), and their usage from the misc cgroup (§5) and the PSP
 * guest counts. No sd-bus here. */

#include <json-c/json.h>

#include "macro.h"

typedef enum AsidPoolId {
        ASID_POOL_SEV,
        ASID_POOL_SEV_ES,
        ASID_POOL_SNP,
        _ASID_POOL_MAX,
} AsidPoolId;

/* The word kvm_amd prints for the pool: "SEV-ES unusable (ASIDs 100 - 99)". */
typedef enum AsidPoolState {
        ASID_POOL_DISABLED,     /* not supported or not enabled: the range is 0 - 0 */
        ASID_POOL_ENABLED,      /* first <= last */
        ASID_POOL_UNUSABLE,     /* supported, but the range is empty (first > last) */
        _ASID_POOL_STATE_MAX,
} AsidPoolState;

/* Everything the split depends on. The bools are what the kernel would see at module load. */
typedef struct AsidInputs {
        uint32_t max_sev_asid;          /* CPUID 0x8000001F ECX */
        uint32_t min_sev_asid;          /* CPUID 0x8000001F EDX */
        bool cpu_sev, cpu_sev_es, cpu_snp; /* CPUID 0x8000001F EAX bits 1, 3, 4 */
        bool sev_enabled;               /* kvm_amd sev */
        bool sev_es_enabled;            /* kvm_amd sev_es */
        bool snp_enabled;               /* kvm_amd sev_snp (effective: SNP platform initialised) */
        bool cth_supported;             /* SNP status ciphertext_hiding_cap (firmware + BIOS) */
        uint32_t cth_requested;         /* ciphertext_hiding_asids as given to the module (raw) */
} AsidInputs;

typedef struct AsidRange {
        AsidPoolState state;
        uint32_t first, last;           /* as kvm_amd logs them; may be first > last */
} AsidRange;

typedef struct AsidPartition {
        AsidRange pool[_ASID_POOL_MAX];
        uint32_t cth_asids;             /* SNP ASIDs programmed (0: ciphertext hiding off); needs SNP */
        bool cth_capped;                /* cth_requested was above min_sev_asid - 1 */
        /* kvm_amd's max_snp_asid after the split: SEV-ES starts at split_asids + 1 (0: no split).
         * With SNP on it equals cth_asids. With SNP off v6.18 still splits, with the raw,
         * uncapped parameter (split_without_snp). */
        uint32_t split_asids;
        bool split_without_snp;
        bool es_first_wrapped;          /* split_asids is UINT32_MAX: min_sev_es_asid wrapped to 0 */
        uint32_t cth_cap;               /* min_sev_asid - 1 (0 when min_sev_asid is 0) */
        uint32_t joint_asids;           /* size of the SEV-ES/SNP space, min_sev_asid - 1 */
} AsidPartition;

/* Parses a ciphertext_hiding_asids value the way v6.18 kvm_amd does (a "uint" module parameter:
 * kstrtouint() with base 0: optional '+', 0x… hex, 0… octal, one trailing newline). "max", "-1",
 * "" and values above UINT32_MAX are refused (-EINVAL, or -ERANGE for overflow), and kvm_amd
 * then fails to load. */
int asid_parse_cth_param(const char *s, uint32_t *ret);

/* Computes the split. Never fails: every input gives the answer kvm_amd would give. A
 * min_sev_asid of 0 with SEV ASIDs (no real BIOS reports it) is treated as "no ES/SNP ASIDs". */
void asid_partition_compute(const AsidInputs *in, AsidPartition *ret);

/* Number of ASIDs in a range, 0 for disabled or unusable ones. */
uint32_t asid_range_count(const AsidRange *r);

const char *asid_pool_to_string(AsidPoolId id) _const_;        /* "sev", "sev-es", "snp" */
const char *asid_pool_to_label(AsidPoolId id) _const_;         /* "SEV", "SEV-ES", "SEV-SNP" */
const char *asid_pool_state_to_string(AsidPoolState s) _const_; /* "enabled", "unusable", "disabled" */

/* The misc cgroup's view of the root (kernel-interfaces.md §5). */
typedef struct MiscCounts {
        bool valid;                     /* misc.capacity was readable */
        uint64_t sev_capacity, sev_es_capacity;
        bool current_valid;             /* misc.current was readable */
        uint64_t sev_current, sev_es_current;
} MiscCounts;

/* Parses "<name> <value>\n" lines of misc.capacity or misc.current. Missing resources are 0.
 * -EBADMSG on a line that is not "<name> <number>". */
int misc_parse_counts(const char *text, uint64_t *ret_sev, uint64_t *ret_sev_es);

/* Usage of one pool. -1 means unknown (used_known false). */
typedef struct AsidPoolUsage {
        uint32_t capacity;              /* ASIDs in the range */
        int64_t used;
        int64_t free;
        char *note;                     /* evidence: where used came from, and how */
} AsidPoolUsage;

typedef struct AsidUsage {
        AsidPoolUsage pool[_ASID_POOL_MAX];
} AsidUsage;

void asid_usage_done(AsidUsage *u);

/* Splits the misc cgroup counts over the pools. snp_guests < 0 means the SNP guest count is
 * unknown (no SNP_PLATFORM_STATUS); snp_source says where the count came from (for the note). sev_es in the cgroup counts SEV-ES and SNP guests together:
 * SNP used = snp_guests, SEV-ES used = sev_es - snp_guests. Without ciphertext hiding SEV-ES and
 * SNP share one range, so both show the joint free count. */
int asid_usage_compute(const AsidPartition *p, const MiscCounts *misc, int64_t snp_guests, const char *snp_source,
                       AsidUsage *ret);

/* The lines kvm_amd logs at load for this split (kernel-interfaces.md §3.5), one per pool whose
 * CPU bit is set, e.g. "SEV-ES unusable (ASIDs 100 - 99)", plus "SEV-SNP ciphertext hiding
 * enabled" before them when it is. NULL-terminated list. */
int asid_kernel_log_lines(const AsidInputs *in, const AsidPartition *p, char ***ret);

/* Prose: one sentence per pool saying why its range is what it is. NULL-terminated list. */
int asid_explain(const AsidInputs *in, const AsidPartition *p, char ***ret);

/* JSON: {"sev": {"state", "first", "last", "capacity", "used", "free", "note"}, ...}. usage may
 * be NULL (then used/free are omitted). */
json_object *asid_partition_to_json(const AsidPartition *p, const AsidUsage *usage);
