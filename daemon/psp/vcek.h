/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The AMD KDS URL of the VCEK certificate, built as snphost's `show vcek-url` builds it:
 *   https://kdsintf.amd.com/vcek/v1/{product}/{hwid}?[fmcSPL=NN&]blSPL=NN&teeSPL=NN&snpSPL=NN&ucodeSPL=NN
 * product by CPU generation (Bergamo and Siena use Genoa's), hwid the chip id in upper-case hex
 * (Turin: its first 8 bytes), the SPLs the parts of the REPORTED TCB, two digits at least, fmcSPL
 * first and only on Turin. hwsecd never fetches the URL. No sd-bus here. */

#include "macro.h"
#include "psp-ops.h"
#include "sev-status.h"
#include "tcb.h"

typedef enum VcekProduct {
        VCEK_PRODUCT_UNKNOWN,
        VCEK_PRODUCT_MILAN,
        VCEK_PRODUCT_GENOA,
        VCEK_PRODUCT_TURIN,
        _VCEK_PRODUCT_MAX,
} VcekProduct;

/* Family 0x19 models 0x00-0x0F Milan, 0x10-0x1F and 0xA0-0xAF (Bergamo, Siena) Genoa; family
 * 0x1A models 0x00-0x11 Turin; anything else unknown (as the sev crate snphost uses decides). */
VcekProduct vcek_product_for_cpu(unsigned family, unsigned model);
/* "Milan", "Genoa", "Turin"; NULL for unknown. */
const char *vcek_product_to_string(VcekProduct p);
TcbLayout vcek_product_tcb_layout(VcekProduct p);

#define VCEK_HWID_BYTES_TURIN 8u

/* Builds the URL into *ret (malloc'd). Refuses with a named error, never a wrong URL:
 * -EOPNOTSUPP UNKNOWN_PRODUCT, -ENODATA CHIP_ID_MASKED (mask_chip_id is set: the firmware hides
 * the chip id) or CHIP_ID_ZERO (the id read back is all zeros), -EBADMSG CHIP_ID_TOO_SHORT (Turin
 * id under 8 bytes). */
int vcek_url_build(VcekProduct p, const PspChipId *id, uint64_t reported_tcb, bool mask_chip_id,
                   char **ret, SevError *e);
