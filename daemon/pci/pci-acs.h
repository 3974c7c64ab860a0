/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The PCIe ACS extended capability (kernel-interfaces.md §8): register bits, the enhanced
 * fields, the kernel's "is this device ACS-isolated" rule (pci_acs_enabled) and the one device
 * quirk we model. No sd-bus here. */

#include "macro.h"

#define PCI_ACS_SV      0x0001u
#define PCI_ACS_TB      0x0002u
#define PCI_ACS_RR      0x0004u
#define PCI_ACS_CR      0x0008u
#define PCI_ACS_UF      0x0010u
#define PCI_ACS_EC      0x0020u
#define PCI_ACS_DT      0x0040u
#define PCI_ACS_ENHANCED 0x0080u   /* Capability bit 7: Control bits 7-12 are implemented */
#define PCI_ACS_EGRESS_SIZE(cap) (((cap) >> 8) & 0xffu)

/* Control register, ACS Enhanced part. */
#define PCI_ACS_CTRL_IORB        0x0080u
#define PCI_ACS_CTRL_DSP_MT_MASK 0x0300u
#define PCI_ACS_CTRL_DSP_MT_RR   0x0200u
#define PCI_ACS_CTRL_USP_MT_MASK 0x0C00u
#define PCI_ACS_CTRL_USP_MT_RR   0x0800u
#define PCI_ACS_CTRL_URRC        0x1000u

/* What a mainline kernel requires (REQ_ACS_FLAGS; PCI_ACS_ISOLATED in the fixed series). */
#define PCI_ACS_REQ_FLAGS (PCI_ACS_SV | PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_UF)

/* Extra requirements of the fixed algorithm when the port implements ACS Enhanced. They are
 * passed in the "enhanced" argument of pci_acs_flags_enabled(). */
#define PCI_ACS_WANT_DSP_MT_RR 0x1u
#define PCI_ACS_WANT_USP_MT_RR 0x2u

typedef enum PciMemTarget {
        PCI_MT_DIRECT = 0,     /* 00: direct access */
        PCI_MT_BLOCKING = 1,   /* 01: request blocking */
        PCI_MT_REDIRECT = 2,   /* 10: request redirect */
        PCI_MT_RESERVED = 3,   /* 11: reserved */
} PciMemTarget;

const char *pci_mem_target_to_string(PciMemTarget t);

typedef struct PciAcs {
        bool present;
        uint16_t pos;            /* config offset of the extended capability header */
        uint16_t cap;
        uint16_t ctrl;
        unsigned egress_bits;    /* Egress Control Vector size (Capability 15:8), 0 if no EC */
        uint32_t egress[8];      /* Egress Control Vector, ceil(egress_bits/32) dwords */
        bool egress_read;        /* the vector was readable */
} PciAcs;

/* The kernel's register check (pci_acs_flags_enabled): no ACS capability -> false; features
 * missing from the Capability register count as hard-wired on, except EC. With ACS Enhanced
 * (Capability bit 7) the wanted memory-target fields must be "redirect". */
bool pci_acs_flags_enabled(const PciAcs *acs, uint16_t flags, unsigned enhanced);

/* Which of flags are wanted but not enabled (for reasons). */
uint16_t pci_acs_missing_flags(const PciAcs *acs, uint16_t flags);

/* "SrcValid+ TransBlk+ ReqRedir+ CmpltRedir+ UpstreamFwd+ EgressCtrl- DirectTrans+", exactly
 * as lspci prints the ACSCap:/ACSCtl: lines (bits 0-6). Returns a static buffer per call slot
 * (slot 0 or 1) so both can be printed in one statement. */
const char *pci_acs_bits_lspci(uint16_t v, unsigned slot);

/* "SV,RR,CR,UF" style list of the bits in v (0-6), into buf. */
char *pci_acs_flags_names(uint16_t v, char *buf, size_t size);

/* Enhanced control fields decoded. */
PciMemTarget pci_acs_dsp_mt(uint16_t ctrl);
PciMemTarget pci_acs_usp_mt(uint16_t ctrl);
