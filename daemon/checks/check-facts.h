/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The inputs of the readiness checks, put together from what others read: the host facts
 * (CPUID, /proc/cpuinfo, kvm_amd, /proc/cmdline, IOMMU groups: host-facts.h) and the PSP area's
 * last snapshot (PCI function, /dev/sev and /dev/sfs as udev and our nodes show them, the status
 * answers). Nothing is read from the host here. */

#include "checks.h"
#include "host-facts.h"
#include "snapshots.h"

/* psp may be NULL (no PSP snapshot published yet): then the PSP is absent. */
int check_facts_build(CheckFacts *f, const HostFacts *h, const PspSnapshot *psp);
