/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness for the PSP operation decoders and parsers: the first byte picks the target,
 * the rest is input.
 *   0: a GET_ID2 answer (u32 reported length + id bytes) -> decode, hex, VCEK URL per product
 *   1: an SNP_SET_CONFIG struct -> decode, encode again (must give the same bytes)
 *   2: a reported_tcb argument (text) against a current TCB taken from the input, per layout
 *   3: an SNP_COMMIT/GET_ID2/SET_CONFIG result (errno + firmware code) -> named error
 * Nothing may be reported unnamed; an accepted TCB is never above the current one. */

#include "psp-ops.h"
#include "snp-config.h"
#include "vcek.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_id(const uint8_t *data, size_t size) {
        PspChipId id;
        SevError e;
        uint32_t len;
        char hex[2 * PSP_CHIP_ID_MAX + 1];

        if (size < 12)
                return;
        memcpy(&len, data, 4);
        if (psp_chip_id_decode(data + 12, size - 12, len, &id) < 0)
                return;
        if (psp_chip_id_to_hex(&id, id.length, hex, sizeof hex) < 0 || strlen(hex) != 2 * id.length)
                abort();
        for (VcekProduct p = 0; p < _VCEK_PRODUCT_MAX; p++) {
                uint64_t tcb;
                char *url = NULL;

                memcpy(&tcb, data + 4, 8);
                if (vcek_url_build(p, &id, tcb, data[0] & 1, &url, &e) < 0) {
                        if (url || e.name[0] == '\0')
                                abort();
                        continue;
                }
                if (!url || strncmp(url, "https://kdsintf.amd.com/vcek/v1/", 32) != 0)
                        abort();
                free(url);
        }
}

static void fuzz_config(const uint8_t *data, size_t size) {
        struct hwsec_sev_user_data_snp_config raw;
        SnpConfig c;

        if (snp_config_decode(data, size, &c) < 0)
                return;
        snp_config_encode(&c, &raw);
        if (memcmp(&raw, data, sizeof raw) != 0)
                abort();        /* decode accepted something encode cannot give back */
}

static void fuzz_tcb(const uint8_t *data, size_t size) {
        char s[128];
        uint64_t current, v;
        SevError e;

        if (size < 8)
                return;
        memcpy(&current, data, 8);
        size = MIN(size - 8, sizeof s - 1);
        memcpy(s, data + 8, size);
        s[size] = '\0';
        for (TcbLayout l = 0; l < _TCB_LAYOUT_MAX; l++) {
                if (snp_tcb_parse(s, l, current, &v, &e) < 0) {
                        if (e.name[0] == '\0' || e.message[0] == '\0')
                                abort();
                        continue;
                }
                if (snp_tcb_check_not_above(v, current, l, &e) < 0)
                        abort();
        }
}

static void fuzz_error(const uint8_t *data, size_t size) {
        SevError e;
        uint32_t code = 0;

        if (size < 2)
                return;
        if (size >= 6)
                memcpy(&code, data + 2, 4);
        psp_op_error_set(&e, data[0] % _PSP_OP_MAX, -(int) (data[1] % 140 + (data[0] & 0x80 ? 450 : 0)), code);
        if (strlen(e.message) >= sizeof e.message || strlen(e.name) >= sizeof e.name)
                abort();
        if (e.error != 0 && (e.name[0] == '\0' || e.message[0] == '\0'))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1)
                return 0;
        switch (data[0] % 4) {
        case 0:
                fuzz_id(data + 1, size - 1);
                break;
        case 1:
                fuzz_config(data + 1, size - 1);
                break;
        case 2:
                fuzz_tcb(data + 1, size - 1);
                break;
        default:
                fuzz_error(data + 1, size - 1);
        }
        return 0;
}
