/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* SNP TCB version: a u64 whose bytes are security version numbers (SVNs). The byte layout
 * depends on the CPU generation (kernel-interfaces.md §1.4, include/linux/psp-sev.h):
 *   Milan/Genoa (family 0x19): byte0 boot_loader, byte1 tee, bytes 2-5 reserved, byte6 snp,
 *                              byte7 microcode
 *   Turin (family 0x1A):       byte0 fmc, byte1 boot_loader, byte2 tee, byte3 snp,
 *                              bytes 4-6 reserved, byte7 microcode */

#include <json-c/json.h>

#include "macro.h"

typedef enum TcbLayout {
        TCB_LAYOUT_UNKNOWN,
        TCB_LAYOUT_MILAN_GENOA,
        TCB_LAYOUT_TURIN,
        _TCB_LAYOUT_MAX,
} TcbLayout;

typedef struct TcbVersion {
        TcbLayout layout;
        uint64_t raw;
        bool has_fmc;           /* only Turin has an FMC SVN */
        uint8_t fmc, boot_loader, tee, snp, microcode;
        uint64_t reserved;      /* the reserved bytes, in place (non-zero is worth showing) */
} TcbVersion;

/* Family 0x19 -> Milan/Genoa, 0x1A -> Turin, anything else unknown. */
TcbLayout tcb_layout_for_family(unsigned family);
/* "milan-genoa", "turin", "unknown". */
const char *tcb_layout_to_string(TcbLayout l);

/* With TCB_LAYOUT_UNKNOWN only raw is set (-EOPNOTSUPP is returned, ret still filled). */
int tcb_decode(uint64_t raw, TcbLayout layout, TcbVersion *ret);

/* "BL=3 TEE=0 SNP=8 uCode=115" (with "FMC=n " first on Turin), or "0x…" for unknown layouts. */
int tcb_format(const TcbVersion *t, char *buf, size_t size);

/* {"raw": "0x…", "layout": …, "boot_loader": n, "tee": n, "snp": n, "microcode": n[, "fmc": n]} */
json_object *tcb_to_json(const TcbVersion *t);
