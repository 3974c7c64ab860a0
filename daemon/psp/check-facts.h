/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Gathers the host-level facts the checks read: CPUID, /proc/cpuinfo flags, kvm_amd parameters,
 * /proc/cmdline, IOMMU group types, /dev/sev and /dev/sfs existence. Paths come from paths.h.
 * The PSP part (PCI function, status answers) is filled by the PSP area from its cache with
 * check_facts_set_psp(), so that the hardware is not queried again for every check run. */

#include "checks.h"

int check_facts_gather(CheckFacts *f);

/* Parses the "flags" line of /proc/cpuinfo text into the four memory-encryption flags.
 * -EBADMSG when there is no flags line. */
int check_facts_parse_cpuinfo(const char *text, Tri *sme, Tri *sev, Tri *sev_es, Tri *sev_snp);

/* Reads a kvm_amd boolean parameter file: TRI_UNKNOWN when missing or unparsable. */
Tri check_facts_read_bool_param(const char *dir, const char *name);

/* Counts IOMMU groups by type under dir. A missing dir is 0 groups (no IOMMU). */
int check_facts_count_iommu_groups(const char *dir, int *ret_total, int *ret_identity, int *ret_dma);

/* Copies the PSP area's cached view into the facts. */
int check_facts_set_psp(CheckFacts *f, bool pci_present, const char *address, const char *driver,
                        int dev_sev_open_error, bool status_queried, const SevPlatform *platform);
