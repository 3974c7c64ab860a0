/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* CPUID, from the cpuid instruction ("native") or from a file (HWSECD_CPUID=path, see
 * paths.h) in the raw format of the `cpuid -r` tool, one leaf per line:
 *      0x8000001f 0x00: eax=0x0101fd3f ebx=0x00004173 ecx=0x000003ee edx=0x00000064
 * Lines for other CPUs ("CPU 1:") after the first CPU are ignored. The daemon reads CPUID once,
 * through host-facts.h; nothing else calls these there. */

#include <stdbool.h>
#include <stdint.h>

typedef struct CpuidRegs {
        uint32_t eax, ebx, ecx, edx;
} CpuidRegs;

/* 0, -ENOENT (the file has no such leaf, or the leaf is above the CPU's maximum),
 * -EOPNOTSUPP (native on a non-x86 build), or a file error. */
int cpuid_read(uint32_t leaf, uint32_t subleaf, CpuidRegs *ret);

typedef struct CpuIdentity {
        char vendor[13];        /* "AuthenticAMD" */
        unsigned family;        /* base + extended family, e.g. 0x19 (Milan, Genoa), 0x1A (Turin) */
        unsigned model;         /* base + extended model */
        unsigned stepping;
} CpuIdentity;

int cpuid_identity(CpuIdentity *ret);

/* Fn8000_001F: memory-encryption features and the ASID space. */
typedef struct CpuidMemEncrypt {
        bool sme, sev, sev_es, sev_snp, debug_swap;
        unsigned cbit_position;
        unsigned phys_addr_reduction;
        uint32_t max_sev_asid;  /* ECX */
        uint32_t min_sev_asid;  /* EDX */
} CpuidMemEncrypt;

/* -ENOENT when the CPU has no such leaf (not AMD, or too old). */
int cpuid_mem_encrypt(CpuidMemEncrypt *ret);
