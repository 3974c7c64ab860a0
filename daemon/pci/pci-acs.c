/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>

#include "pci-acs.h"

static const char *const mem_target_names[] = {
        [PCI_MT_DIRECT] = "direct",
        [PCI_MT_BLOCKING] = "blocking",
        [PCI_MT_REDIRECT] = "redirect",
        [PCI_MT_RESERVED] = "reserved",
};

const char *pci_mem_target_to_string(PciMemTarget t) {
        if ((unsigned) t >= ELEMENTSOF(mem_target_names))
                return "invalid";
        return mem_target_names[t];
}

PciMemTarget pci_acs_dsp_mt(uint16_t ctrl) {
        return (PciMemTarget) ((ctrl & PCI_ACS_CTRL_DSP_MT_MASK) >> 8);
}

PciMemTarget pci_acs_usp_mt(uint16_t ctrl) {
        return (PciMemTarget) ((ctrl & PCI_ACS_CTRL_USP_MT_MASK) >> 10);
}

bool pci_acs_flags_enabled(const PciAcs *acs, uint16_t flags, unsigned enhanced) {
        if (!acs || !acs->present)
                return false;

        /* Except for egress control, features missing from the Capability register are
         * hard-wired on (pci_acs_flags_enabled in drivers/pci/pci.c). */
        uint16_t req = flags & (acs->cap | PCI_ACS_EC) & 0x7f;
        if ((acs->ctrl & req) != req)
                return false;

        /* ACS Enhanced: only when the port implements it; otherwise the fields do not exist
         * and count as hard-wired, like any other missing feature. */
        if (enhanced && (acs->cap & PCI_ACS_ENHANCED)) {
                if ((enhanced & PCI_ACS_WANT_DSP_MT_RR) && pci_acs_dsp_mt(acs->ctrl) != PCI_MT_REDIRECT)
                        return false;
                if ((enhanced & PCI_ACS_WANT_USP_MT_RR) && pci_acs_usp_mt(acs->ctrl) != PCI_MT_REDIRECT)
                        return false;
        }
        return true;
}

uint16_t pci_acs_missing_flags(const PciAcs *acs, uint16_t flags) {
        if (!acs || !acs->present)
                return flags;
        uint16_t req = flags & (acs->cap | PCI_ACS_EC) & 0x7f;
        return req & ~acs->ctrl;
}

const char *pci_acs_bits_lspci(uint16_t v, unsigned slot) {
        static char buf[2][128];
        static const char *const names[] = {
                "SrcValid", "TransBlk", "ReqRedir", "CmpltRedir", "UpstreamFwd", "EgressCtrl", "DirectTrans",
        };
        char *b = buf[slot & 1];
        size_t off = 0;

        b[0] = '\0';
        for (unsigned i = 0; i < ELEMENTSOF(names); i++)
                off += snprintf(b + off, sizeof(buf[0]) - off, "%s%s%c",
                                i > 0 ? " " : "", names[i], (v & (1u << i)) ? '+' : '-');
        return b;
}

char *pci_acs_flags_names(uint16_t v, char *buf, size_t size) {
        static const char *const names[] = { "SV", "TB", "RR", "CR", "UF", "EC", "DT" };
        size_t off = 0;

        if (size == 0)
                return buf;
        buf[0] = '\0';
        for (unsigned i = 0; i < ELEMENTSOF(names) && off < size; i++)
                if (v & (1u << i))
                        off += snprintf(buf + off, size - off, "%s%s", off > 0 ? "," : "", names[i]);
        return buf;
}
