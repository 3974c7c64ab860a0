/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>

#include "vcek.h"

VcekProduct vcek_product_for_cpu(unsigned family, unsigned model) {
        switch (family) {
        case 0x19:
                if (model <= 0x0f)
                        return VCEK_PRODUCT_MILAN;
                if ((model >= 0x10 && model <= 0x1f) || (model >= 0xa0 && model <= 0xaf))
                        return VCEK_PRODUCT_GENOA;      /* Genoa, Bergamo and Siena share Genoa's KDS name */
                return VCEK_PRODUCT_UNKNOWN;
        case 0x1a:
                return model <= 0x11 ? VCEK_PRODUCT_TURIN : VCEK_PRODUCT_UNKNOWN;
        default:
                return VCEK_PRODUCT_UNKNOWN;
        }
}

const char *vcek_product_to_string(VcekProduct p) {
        static const char * const table[_VCEK_PRODUCT_MAX] = {
                [VCEK_PRODUCT_MILAN] = "Milan",
                [VCEK_PRODUCT_GENOA] = "Genoa",
                [VCEK_PRODUCT_TURIN] = "Turin",
        };

        if ((unsigned) p >= _VCEK_PRODUCT_MAX)
                return NULL;
        return table[p];
}

TcbLayout vcek_product_tcb_layout(VcekProduct p) {
        switch (p) {
        case VCEK_PRODUCT_MILAN:
        case VCEK_PRODUCT_GENOA:
                return TCB_LAYOUT_MILAN_GENOA;
        case VCEK_PRODUCT_TURIN:
                return TCB_LAYOUT_TURIN;
        default:
                return TCB_LAYOUT_UNKNOWN;
        }
}

static bool prefix_is_zero(const PspChipId *id, size_t n) {
        for (size_t i = 0; i < MIN(n, id->length); i++)
                if (id->bytes[i] != 0)
                        return false;
        return true;
}

int vcek_url_build(VcekProduct p, const PspChipId *id, uint64_t reported_tcb, bool mask_chip_id,
                   char **ret, SevError *e) {
        const char *product = vcek_product_to_string(p);
        char hwid[2 * PSP_CHIP_ID_MAX + 1], fmc[16] = "";
        size_t n = id->length;
        TcbVersion t;
        char *url;
        int r;

        if (!product) {
                psp_error_setf(e, -EOPNOTSUPP, "UNKNOWN_PRODUCT",
                               "This CPU is not a Milan, Genoa or Turin EPYC, for which AMD's key server has no VCEK product name.");
                return -EOPNOTSUPP;
        }
        if (mask_chip_id) {
                psp_error_setf(e, -ENODATA, "CHIP_ID_MASKED",
                               "The SNP configuration masks the chip id (mask_chip_id), so no VCEK URL can be built; clear it with hwsecctl psp set-config --mask-chip-id=no, or fetch the VCEK with the id from an unmasked boot.");
                return -ENODATA;
        }
        if (p == VCEK_PRODUCT_TURIN) {
                if (n < VCEK_HWID_BYTES_TURIN) {
                        psp_error_setf(e, -EBADMSG, "CHIP_ID_TOO_SHORT",
                                       "The firmware returned a chip id of %zu bytes; Turin's VCEK URL needs its first %u.", n, VCEK_HWID_BYTES_TURIN);
                        return -EBADMSG;
                }
                n = VCEK_HWID_BYTES_TURIN;
        }
        if (prefix_is_zero(id, n)) {
                psp_error_setf(e, -ENODATA, "CHIP_ID_ZERO",
                               "The firmware returned a chip id whose bytes for the URL are all zero, which names no chip; no VCEK URL can be built (is the chip id masked?).");
                return -ENODATA;
        }
        r = psp_chip_id_to_hex(id, n, hwid, sizeof hwid);
        if (r < 0)
                return r;

        (void) tcb_decode(reported_tcb, vcek_product_tcb_layout(p), &t);
        if (t.has_fmc)
                snprintf(fmc, sizeof fmc, "fmcSPL=%02u&", t.fmc);

        if (asprintf(&url, "https://kdsintf.amd.com/vcek/v1/%s/%s?%sblSPL=%02u&teeSPL=%02u&snpSPL=%02u&ucodeSPL=%02u",
                     product, hwid, fmc, t.boot_loader, t.tee, t.snp, t.microcode) < 0)
                return -ENOMEM;
        *e = (SevError) {};
        *ret = url;
        return 0;
}
