/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Hand-built PCI topologies for the unit tests: config spaces are assembled byte by byte and
 * written as `lspci -xxxx` text, then read back with libpci's dump method, so the tests go
 * through the same path as a real dump. */

#include "pci-audit.h"
#include "tests.h"

typedef struct TDev {
        char addr[24];
        uint8_t cfg[4096];
        unsigned len;           /* 256 or 4096 */
        unsigned next_ext;      /* where the next extended capability goes */
        unsigned last_ext;      /* offset of the last extended capability header, 0 if none */
} TDev;

typedef struct TBuilder {
        TDev *devs;
        size_t n;
} TBuilder;

/* header: 0 endpoint, 1 bridge. */
TDev *tb_dev(TBuilder *b, const char *addr, uint16_t vendor, uint16_t device, uint32_t class_code,
             unsigned header, bool mf_bit);
void tb_bridge(TDev *d, uint8_t primary, uint8_t secondary, uint8_t subordinate);
void tb_pcie(TDev *d, unsigned port_type);
void tb_acs(TDev *d, uint16_t cap, uint16_t ctrl);
void tb_acs_egress(TDev *d, uint16_t cap, uint16_t ctrl, const uint32_t *vector, unsigned dwords);
void tb_sriov(TDev *d, uint16_t num_vfs, uint16_t offset, uint16_t stride, uint16_t vf_device);
void tb_mmio_bar(TDev *d, uint32_t addr);
/* A VF: vendor/device read as 0xffff, PCIe endpoint. */
TDev *tb_vf(TBuilder *b, const char *addr);

/* Convenience: common device kinds. acs: -1 no capability, else the control value (cap 0x5f). */
TDev *tb_root_port(TBuilder *b, const char *addr, uint8_t sec, uint8_t sub, int acs);
TDev *tb_usp(TBuilder *b, const char *addr, uint8_t pri, uint8_t sec, uint8_t sub);
TDev *tb_dsp(TBuilder *b, const char *addr, uint8_t pri, uint8_t sec, uint8_t sub, int acs);
TDev *tb_endpoint(TBuilder *b, const char *addr, bool mf_bit);

char *tb_dump_text(const TBuilder *b);
/* Writes the dump to a temp file, loads it, runs the full audit (kernel groups: none given,
 * so verdicts compare with the predicted ones unless kgroups_text is given). */
PciTopology *tb_load(TBuilder *b, const char *kgroups_text);
void tb_free(TBuilder *b);

/* "a b|c|d e" (short BB:DD.F addresses when domain 0, groups sorted) */
char *groups_string(PciTopology *t, PciGrouping kind);
char *kernel_groups_string(PciTopology *t);
const char *verdict_of(PciTopology *t, const char *addr);
bool reasons_contain(PciTopology *t, const char *addr, const char *needle);
