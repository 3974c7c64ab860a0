/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The host facts several parts of hwsecd judge: CPUID and /proc/cpuinfo, the kvm_amd module
 * parameters, the IOMMU groups and the kernel command line. Each is read here and nowhere else,
 * with one meaning and one error rule:
 *
 *   a value that cannot be read or parsed is unknown, never a guess. Its `error` is the negative
 *   errno (-EBADMSG: the file says something that is not a value of its type, `raw` keeps what
 *   it says), and HostFacts.problems holds one sentence per such value. Consumers decide how to
 *   show an unknown value (the ASID area treats it as off and says so, the readiness checks
 *   answer "unknown").
 *
 * The daemon's Manager owns one HostFacts and re-reads a part only when something may have
 * changed it (host_facts_read() with that part): CPU once, kvm_amd by a poll (module loads send
 * no uevent the daemon sees), IOMMU groups on PCI uevents, the command line at start and on
 * Reload(). Paths come from paths.h. No sd-bus here. */

#include <stdbool.h>
#include <stdint.h>

#include "cpuid.h"
#include "macro.h"

/* A fact that may be unknown. */
typedef enum Tri {
        TRI_UNKNOWN = -1,
        TRI_NO = 0,
        TRI_YES = 1,
} Tri;

typedef enum HostFactsPart {
        HOST_FACTS_CPU     = 1u << 0,   /* CPUID, /proc/cpuinfo flags */
        HOST_FACTS_KVM     = 1u << 1,   /* /sys/module/kvm_amd/parameters */
        HOST_FACTS_IOMMU   = 1u << 2,   /* /sys/kernel/iommu_groups */
        HOST_FACTS_CMDLINE = 1u << 3,   /* /proc/cmdline */
        HOST_FACTS_ALL     = (1u << 4) - 1,
} HostFactsPart;

typedef struct HostCpu {
        const char *cpuid_source;       /* "native" or the file */
        int identity_error;             /* 0 or negative errno */
        CpuIdentity identity;
        int mem_encrypt_error;          /* Fn8000_001F: 0, -ENOENT (no leaf), other errors */
        CpuidMemEncrypt me;             /* zeroed when unknown */
        CpuidRegs me_regs;              /* raw Fn8000_001F, for evidence */

        char *cpuinfo_path;
        int cpuinfo_error;              /* the kernel's view after BIOS checks */
        Tri flag_sme, flag_sev, flag_sev_es, flag_sev_snp;
} HostCpu;

typedef struct KvmBool {
        int error;                      /* 0, a read error, or -EBADMSG (not a boolean) */
        bool value;                     /* valid when error == 0 */
        char raw[33];                   /* what the file says (trailing blanks cut), for -EBADMSG */
} KvmBool;

typedef struct HostKvm {
        char *params_dir;               /* /sys/module/kvm_amd/parameters */
        int loaded_error;               /* 0, or a stat() error other than ENOENT: loaded unknown */
        bool loaded;                    /* params_dir is a directory */
        KvmBool sev, sev_es, sev_snp;
        int cth_error;                  /* ciphertext_hiding_asids: 0, -ENOENT (a kernel before
                                         * v6.18), other read errors, -EBADMSG (not a number) */
        uint32_t cth;                   /* valid when cth_error == 0 */
        char cth_raw[33];
} HostKvm;

typedef struct HostIommu {
        char *groups_dir;               /* /sys/kernel/iommu_groups */
        int error;                      /* 0, or the directory could not be listed */
        int groups;                     /* -1 unknown; 0 when the directory does not exist */
        int identity_groups;            /* type "identity" */
        int dma_groups;                 /* DMA, DMA-FQ, unmanaged, blocked */
} HostIommu;

typedef struct HostCmdline {
        char *path;
        int error;                      /* 0 or negative errno; raw is NULL then */
        char *raw;                      /* bytes >= 0x80 of invalid UTF-8 replaced by '?', trailing
                                         * blanks cut (it ends up on the bus) */
        char **tokens;                  /* raw split at blanks */
} HostCmdline;

typedef struct HostFacts {
        HostFactsPart valid;            /* parts read at least once */
        HostCpu cpu;
        HostKvm kvm;
        HostIommu iommu;
        HostCmdline cmdline;
        char **problems;                /* one sentence per value that could not be parsed */
} HostFacts;

/* Re-reads the given parts. *ret_changed (may be NULL) gets the parts whose content differs
 * from before (a first read counts as a change). Only -ENOMEM fails: what cannot be read is
 * unknown, see above. */
int host_facts_read(HostFacts *f, HostFactsPart parts, HostFactsPart *ret_changed);
void host_facts_done(HostFacts *f);

/* "loaded sev=Y sev_es=Y sev_snp=Y cth=99", or "absent": the kvm_amd part in one line, for logs
 * and change detection. NULL on OOM. */
char *host_facts_kvm_signature(const HostFacts *f);

/* The readers, for tests and offline tools. */
/* The "flags" line of /proc/cpuinfo text: -EBADMSG when there is none. */
int host_facts_parse_cpuinfo(const char *text, Tri *sme, Tri *sev, Tri *sev_es, Tri *sev_snp);
/* A kvm_amd boolean parameter file in dir. */
void host_facts_read_kvm_bool(const char *dir, const char *name, KvmBool *ret);
/* Counts IOMMU groups by type under dir. A missing dir is 0 groups (no IOMMU). */
int host_facts_count_iommu_groups(const char *dir, int *ret_total, int *ret_identity, int *ret_dma);
/* Tri of a KvmBool: TRI_UNKNOWN when its error is set. */
Tri kvm_bool_tri(const KvmBool *b);
