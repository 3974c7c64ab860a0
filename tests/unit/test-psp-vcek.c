/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* VCEK URLs as snphost builds them (src/cert/fetch/vek.rs, src/processor.rs of virtee/snphost,
 * and the sev crate's Identifier, which prints upper-case hex): product per CPU generation,
 * Turin's 8-byte hwid and fmcSPL first, the REPORTED TCB's parts with two digits at least, and
 * the refusals for a masked or zero chip id. */

#include "tests.h"
#include "vcek.h"

static PspChipId chip(size_t n, uint8_t first) {
        PspChipId id = { .length = n };

        for (size_t i = 0; i < n; i++)
                id.bytes[i] = (uint8_t) (first + i);
        return id;
}

static void test_products(void) {
        ASSERT_EQ(vcek_product_for_cpu(0x19, 0x01), VCEK_PRODUCT_MILAN);
        ASSERT_EQ(vcek_product_for_cpu(0x19, 0x0f), VCEK_PRODUCT_MILAN);
        ASSERT_EQ(vcek_product_for_cpu(0x19, 0x11), VCEK_PRODUCT_GENOA);
        ASSERT_EQ(vcek_product_for_cpu(0x19, 0xa0), VCEK_PRODUCT_GENOA);   /* Bergamo/Siena */
        ASSERT_EQ(vcek_product_for_cpu(0x19, 0xaf), VCEK_PRODUCT_GENOA);
        ASSERT_EQ(vcek_product_for_cpu(0x19, 0x20), VCEK_PRODUCT_UNKNOWN); /* a Ryzen */
        ASSERT_EQ(vcek_product_for_cpu(0x1a, 0x02), VCEK_PRODUCT_TURIN);
        ASSERT_EQ(vcek_product_for_cpu(0x1a, 0x11), VCEK_PRODUCT_TURIN);
        ASSERT_EQ(vcek_product_for_cpu(0x1a, 0x50), VCEK_PRODUCT_UNKNOWN); /* Venice: snphost has no name */
        ASSERT_EQ(vcek_product_for_cpu(0x17, 0x31), VCEK_PRODUCT_UNKNOWN); /* Rome: no SNP */
        ASSERT_STREQ(vcek_product_to_string(VCEK_PRODUCT_GENOA), "Genoa");
        ASSERT_NULL(vcek_product_to_string(VCEK_PRODUCT_UNKNOWN));
        ASSERT_NULL(vcek_product_to_string(_VCEK_PRODUCT_MAX));
        ASSERT_EQ(vcek_product_tcb_layout(VCEK_PRODUCT_TURIN), TCB_LAYOUT_TURIN);
        ASSERT_EQ(vcek_product_tcb_layout(VCEK_PRODUCT_MILAN), TCB_LAYOUT_MILAN_GENOA);
        ASSERT_EQ(vcek_product_tcb_layout(VCEK_PRODUCT_UNKNOWN), TCB_LAYOUT_UNKNOWN);
}

static void test_urls(void) {
        PspChipId id = chip(64, 0x10);
        char hwid[129];
        char expect[512];
        char *url;
        SevError e;

        ASSERT_OK(psp_chip_id_to_hex(&id, 64, hwid, sizeof hwid));
        ASSERT_EQ(strlen(hwid), 128);
        ASSERT_TRUE(strncmp(hwid, "101112131415", 12) == 0);

        /* Genoa: BL=4 TEE=3 SNP=24 uCode=219 */
        ASSERT_OK(vcek_url_build(VCEK_PRODUCT_GENOA, &id, UINT64_C(0xdb18000000000304), false, &url, &e));
        snprintf(expect, sizeof expect, "https://kdsintf.amd.com/vcek/v1/Genoa/%s?blSPL=04&teeSPL=03&snpSPL=24&ucodeSPL=219", hwid);
        ASSERT_STREQ(url, expect);
        free(url);

        /* Milan: BL=3 TEE=2 SNP=20 uCode=209, the reserved bytes do not appear */
        ASSERT_OK(vcek_url_build(VCEK_PRODUCT_MILAN, &id, UINT64_C(0xd114000000000203), false, &url, &e));
        snprintf(expect, sizeof expect, "https://kdsintf.amd.com/vcek/v1/Milan/%s?blSPL=03&teeSPL=02&snpSPL=20&ucodeSPL=209", hwid);
        ASSERT_STREQ(url, expect);
        free(url);

        /* Turin: FMC=1 BL=2 TEE=3 SNP=5 uCode=74, hwid = first 8 bytes */
        ASSERT_OK(vcek_url_build(VCEK_PRODUCT_TURIN, &id, UINT64_C(0x4a00000005030201), false, &url, &e));
        ASSERT_STREQ(url, "https://kdsintf.amd.com/vcek/v1/Turin/1011121314151617?fmcSPL=01&blSPL=02&teeSPL=03&snpSPL=05&ucodeSPL=74");
        free(url);
        ASSERT_STREQ(e.name, "");

        /* an all-zero TCB still prints two digits per part */
        ASSERT_OK(vcek_url_build(VCEK_PRODUCT_TURIN, &id, 0, false, &url, &e));
        ASSERT_TRUE(strstr(url, "?fmcSPL=00&blSPL=00&teeSPL=00&snpSPL=00&ucodeSPL=00"));
        free(url);
}

static void test_refusals(void) {
        PspChipId id = chip(64, 0x10), zero = chip(64, 0), short_id = chip(7, 1);
        char *url = NULL;
        SevError e;

        memset(zero.bytes, 0, sizeof zero.bytes);

        ASSERT_EQ(vcek_url_build(VCEK_PRODUCT_GENOA, &id, 1, true, &url, &e), -ENODATA);
        ASSERT_STREQ(e.name, "CHIP_ID_MASKED");
        ASSERT_NULL(url);
        ASSERT_EQ(vcek_url_build(VCEK_PRODUCT_GENOA, &zero, 1, false, &url, &e), -ENODATA);
        ASSERT_STREQ(e.name, "CHIP_ID_ZERO");
        ASSERT_EQ(vcek_url_build(VCEK_PRODUCT_TURIN, &short_id, 1, false, &url, &e), -EBADMSG);
        ASSERT_STREQ(e.name, "CHIP_ID_TOO_SHORT");
        ASSERT_EQ(vcek_url_build(VCEK_PRODUCT_UNKNOWN, &id, 1, false, &url, &e), -EOPNOTSUPP);
        ASSERT_STREQ(e.name, "UNKNOWN_PRODUCT");
        ASSERT_NULL(url);

        /* Turin uses only the first 8 bytes: zero there is zero, whatever follows */
        zero.bytes[10] = 1;
        ASSERT_EQ(vcek_url_build(VCEK_PRODUCT_TURIN, &zero, 0, false, &url, &e), -ENODATA);
        ASSERT_STREQ(e.name, "CHIP_ID_ZERO");
        ASSERT_NULL(url);
        zero.bytes[7] = 1;
        ASSERT_OK(vcek_url_build(VCEK_PRODUCT_TURIN, &zero, 0, false, &url, &e));
        ASSERT_TRUE(strstr(url, "/Turin/0000000000000001?"));
        free(url);
}

int main(void) {
        test_products();
        test_urls();
        test_refusals();
        return 0;
}
