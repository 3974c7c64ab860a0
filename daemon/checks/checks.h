/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The readiness-check registry: pure logic on a CheckFacts struct (built by check-facts.c from
 * the host facts and the PSP snapshot, or by hand in tests). One list of checks, rendered to D-Bus
 * (bus glue), JSON (Describe(), hwsecctl) and text (hwsecctl) from the same data. */

#include <json-c/json.h>

#include "cpuid.h"
#include "host-facts.h"
#include "macro.h"
#include "sev-status.h"
#include "snapshots.h"


typedef struct CheckFacts {
        /* CPUID (cpuid.h) */
        const char *cpuid_source;       /* "native" or the file */
        int cpuid_error;                /* identity: 0 or negative errno */
        CpuIdentity cpu;
        int mem_encrypt_error;          /* Fn8000_001F: 0, -ENOENT (no leaf), other errors */
        CpuidMemEncrypt me;
        CpuidRegs me_regs;              /* raw Fn8000_001F, for evidence */

        /* /proc/cpuinfo flags (kernel's view after BIOS checks) */
        char *cpuinfo_path;
        int cpuinfo_error;
        Tri flag_sme, flag_sev, flag_sev_es, flag_sev_snp;

        /* kvm_amd */
        char *kvm_params_dir;           /* /sys/module/kvm_amd/parameters */
        Tri kvm_amd_loaded;
        Tri kvm_sev, kvm_sev_es, kvm_sev_snp;
        int64_t kvm_cth_asids;          /* -1 unknown */

        /* PSP and /dev/sev */
        bool psp_pci_present;
        char *psp_address;
        char *psp_driver;
        char *dev_sev_path;
        Tri dev_sev_exists;
        int dev_sev_open_error;         /* 0 or negative errno from open(O_RDONLY) */
        bool status_queried;            /* platform below holds a query result */
        SevPlatform platform;

        /* IOMMU */
        char *cmdline_path;
        char *cmdline;                  /* NULL: unknown */
        int iommu_groups;               /* number of groups, -1 unknown */
        int iommu_identity_groups;      /* groups whose type is "identity" */
        int iommu_dma_groups;           /* DMA, DMA-FQ, unmanaged, blocked */
        char *iommu_groups_dir;

        /* SFS */
        char *dev_sfs_path;
        Tri sfs_present;

        /* firmware updates (the firmware area's snapshot) and hwsecd's last SNP_COMMIT */
        bool have_firmware;             /* firmware below is known */
        FirmwareSnapshot firmware;
        uint64_t last_commit_usec;      /* 0: none recorded */
} CheckFacts;

void check_facts_done(CheckFacts *f);

typedef enum CheckResult {
        CHECK_PASS,
        CHECK_FAIL,
        CHECK_UNKNOWN,
        CHECK_SKIP,
        CHECK_NOT_APPLICABLE,
        _CHECK_RESULT_MAX,
        _CHECK_RESULT_INVALID = -EINVAL,
} CheckResult;

const char *check_result_to_string(CheckResult r);   /* "pass", "fail", "unknown", "skip", "not-applicable" */
CheckResult check_result_from_string(const char *s);

typedef enum RemediationKind {
        REMEDIATION_NONE,
        REMEDIATION_BIOS_SETTING,
        REMEDIATION_KERNEL_CMDLINE,
        REMEDIATION_MODPROBE_OPTION,
        REMEDIATION_FIRMWARE_UPDATE,
        REMEDIATION_COMMAND,
        _REMEDIATION_KIND_MAX,
} RemediationKind;

const char *remediation_kind_to_string(RemediationKind k);   /* "none", "bios-setting", … */

typedef struct Check {
        const char *id;                 /* "cpu.sev-snp" */
        const char *category;           /* "cpu", "bios", "kernel", "platform", "firmware", "iommu", "features" */
        const char *title;
        CheckResult result;
        char *detail;                   /* what was found, one sentence */
        const char *hint;               /* how to fix it ("" when passing) */
        json_object *evidence;          /* values read and where from */
        RemediationKind remediation;
        char *remediation_value;        /* e.g. "options kvm_amd sev_snp=1" */
        bool needs_reboot;
} Check;

typedef struct CheckList {
        Check *checks;
        size_t n;
} CheckList;

void check_list_done(CheckList *l);

/* Runs every check on the facts. Order is stable (registry order). */
int checks_run(const CheckFacts *f, CheckList *ret);

const Check *check_list_find(const CheckList *l, const char *id);
/* Counts per result. */
void check_list_summary(const CheckList *l, unsigned counts[_CHECK_RESULT_MAX]);

/* {"id", "category", "result", "title", "detail", "hint", "evidence": {…}, "remediation": {kind,
 * value, needs_reboot}} */
json_object *check_to_json(const Check *c);
json_object *check_remediation_to_json(const Check *c);
/* [check…] */
json_object *check_list_to_json(const CheckList *l);

/* Minimum SEV firmware API version for SEV-SNP (snphost: 1.51). */
#define CHECK_SNP_MIN_API_MAJOR 1
#define CHECK_SNP_MIN_API_MINOR 51
