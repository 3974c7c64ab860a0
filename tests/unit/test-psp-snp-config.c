/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SNP configuration requests (snp-config.c): the reported_tcb argument in its three forms,
 * the part-by-part "not above current" rule with the part named, reserved bytes, and the
 * request checks done before anything reaches the PSP. Figures: the simulator's Genoa TCB
 * 0xdb18000000000304 (BL=4 TEE=3 SNP=24 uCode=219) and Turin TCB 0x4a00000005030201
 * (FMC=1 BL=2 TEE=3 SNP=5 uCode=74). */

#include "snp-config.h"
#include "tests.h"

#define GENOA UINT64_C(0xdb18000000000304)
#define TURIN UINT64_C(0x4a00000005030201)

static void parse_ok(const char *s, TcbLayout l, uint64_t current, uint64_t expect) {
        uint64_t v = 0;
        SevError e = {};

        if (snp_tcb_parse(s, l, current, &v, &e) < 0)
                TEST_FAIL("\"%s\" refused: %s: %s", s, e.name, e.message);
        ASSERT_EQ(v, expect);
}

static void parse_fails(const char *s, TcbLayout l, uint64_t current, const char *name) {
        uint64_t v = 0x55;
        SevError e = {};

        if (snp_tcb_parse(s, l, current, &v, &e) != -EINVAL)
                TEST_FAIL("\"%s\" accepted", s ?: "(null)");
        if (!streq(e.name, name))
                TEST_FAIL("\"%s\": got %s (%s), expected %s", s ?: "(null)", e.name, e.message, name);
        ASSERT_EQ(v, 0x55);
        ASSERT_TRUE(e.message[0] != '\0');
}

static void test_parse_forms(void) {
        parse_ok("current", TCB_LAYOUT_MILAN_GENOA, GENOA, GENOA);
        parse_ok("0xdb18000000000304", TCB_LAYOUT_MILAN_GENOA, GENOA, GENOA);
        parse_ok("0XDB18000000000304", TCB_LAYOUT_MILAN_GENOA, GENOA, GENOA);
        parse_ok("15787368493747274500", TCB_LAYOUT_MILAN_GENOA, GENOA, GENOA);   /* decimal */
        parse_ok("0xda17000000000203", TCB_LAYOUT_MILAN_GENOA, GENOA, UINT64_C(0xda17000000000203));
        parse_ok("bl=4,tee=3,snp=24,ucode=219", TCB_LAYOUT_MILAN_GENOA, GENOA, GENOA);
        parse_ok("ucode=200,snp=20,tee=0,bl=2", TCB_LAYOUT_MILAN_GENOA, GENOA, UINT64_C(0xc814000000000002));
        parse_ok("fmc=1,bl=2,tee=3,snp=5,ucode=74", TCB_LAYOUT_TURIN, TURIN, TURIN);
        parse_ok("fmc=0,bl=2,tee=3,snp=4,ucode=74", TCB_LAYOUT_TURIN, TURIN, UINT64_C(0x4a00000004030200));
        parse_ok("0", TCB_LAYOUT_TURIN, TURIN, 0);
        /* unknown layout: only the current value */
        parse_ok("current", TCB_LAYOUT_UNKNOWN, 0x1234, 0x1234);
        parse_ok("0x1234", TCB_LAYOUT_UNKNOWN, 0x1234, 0x1234);
}

static void test_parse_refusals(void) {
        parse_fails(NULL, TCB_LAYOUT_MILAN_GENOA, GENOA, "INVALID_ARGUMENT");
        parse_fails("", TCB_LAYOUT_MILAN_GENOA, GENOA, "INVALID_ARGUMENT");
        parse_fails("Current", TCB_LAYOUT_MILAN_GENOA, GENOA, "INVALID_ARGUMENT");
        parse_fails(" 1", TCB_LAYOUT_MILAN_GENOA, GENOA, "INVALID_ARGUMENT");
        parse_fails("-1", TCB_LAYOUT_MILAN_GENOA, GENOA, "INVALID_ARGUMENT");
        parse_fails("0x", TCB_LAYOUT_MILAN_GENOA, GENOA, "INVALID_ARGUMENT");
        parse_fails("0x1g", TCB_LAYOUT_MILAN_GENOA, GENOA, "INVALID_ARGUMENT");
        parse_fails("18446744073709551616", TCB_LAYOUT_MILAN_GENOA, GENOA, "INVALID_ARGUMENT");      /* 2^64 */
        parse_fails("0x10000000000000000", TCB_LAYOUT_MILAN_GENOA, GENOA, "INVALID_ARGUMENT");
        /* parts form */
        parse_fails("bl=4,tee=3,snp=24", TCB_LAYOUT_MILAN_GENOA, GENOA, "INVALID_ARGUMENT");        /* ucode missing */
        parse_fails("bl=4,bl=4,tee=3,snp=24,ucode=219", TCB_LAYOUT_MILAN_GENOA, GENOA, "INVALID_ARGUMENT");
        parse_fails("fmc=0,bl=4,tee=3,snp=24,ucode=219", TCB_LAYOUT_MILAN_GENOA, GENOA, "INVALID_ARGUMENT"); /* no FMC before Turin */
        parse_fails("bl=2,tee=3,snp=5,ucode=74", TCB_LAYOUT_TURIN, TURIN, "INVALID_ARGUMENT");      /* Turin needs fmc */
        parse_fails("bl=256,tee=3,snp=24,ucode=219", TCB_LAYOUT_MILAN_GENOA, GENOA, "INVALID_ARGUMENT");
        parse_fails("bl=0x4,tee=3,snp=24,ucode=219", TCB_LAYOUT_MILAN_GENOA, GENOA, "INVALID_ARGUMENT");
        parse_fails("bl=,tee=3,snp=24,ucode=219", TCB_LAYOUT_MILAN_GENOA, GENOA, "INVALID_ARGUMENT");
        parse_fails("bl=4,tee=3,snp,ucode=219", TCB_LAYOUT_MILAN_GENOA, GENOA, "INVALID_ARGUMENT");
        parse_fails("bl=4,tee=3,snp=24,ucode=219", TCB_LAYOUT_UNKNOWN, GENOA, "UNKNOWN_TCB_LAYOUT");
        parse_fails("0x1", TCB_LAYOUT_UNKNOWN, 0x1234, "UNKNOWN_TCB_LAYOUT");
}

static void above(uint64_t req, uint64_t cur, TcbLayout l, const char *part) {
        SevError e = {};

        ASSERT_EQ(snp_tcb_check_not_above(req, cur, l, &e), -EINVAL);
        ASSERT_STREQ(e.name, "TCB_ABOVE_CURRENT");
        if (!strstr(e.message, part))
                TEST_FAIL("0x%llx over 0x%llx: \"%s\" does not name %s", (unsigned long long) req,
                          (unsigned long long) cur, e.message, part);
}

static void test_not_above(void) {
        SevError e = {};

        above(UINT64_C(0xdb18000000000305), GENOA, TCB_LAYOUT_MILAN_GENOA, "bl=5");
        above(UINT64_C(0xdb18000000000404), GENOA, TCB_LAYOUT_MILAN_GENOA, "tee=4");
        above(UINT64_C(0xdb19000000000304), GENOA, TCB_LAYOUT_MILAN_GENOA, "snp=25");
        above(UINT64_C(0xdc18000000000304), GENOA, TCB_LAYOUT_MILAN_GENOA, "ucode=220");
        /* lower microcode but higher SNP: still above, in the SNP part */
        above(UINT64_C(0x0119000000000304), GENOA, TCB_LAYOUT_MILAN_GENOA, "snp=25");
        above(UINT64_C(0x4a00000005030202), TURIN, TCB_LAYOUT_TURIN, "fmc=2");
        above(UINT64_C(0x4a00000006030201), TURIN, TCB_LAYOUT_TURIN, "snp=6");
        /* equal or lower in every part */
        ASSERT_OK(snp_tcb_check_not_above(UINT64_C(0x0000000000000000), GENOA, TCB_LAYOUT_MILAN_GENOA, &e));
        ASSERT_OK(snp_tcb_check_not_above(UINT64_C(0x4900000005030101), TURIN, TCB_LAYOUT_TURIN, &e));
        /* reserved bytes of the layout */
        ASSERT_EQ(snp_tcb_check_not_above(UINT64_C(0x0000000100000000), GENOA, TCB_LAYOUT_MILAN_GENOA, &e), -EINVAL);
        ASSERT_STREQ(e.name, "TCB_RESERVED_NONZERO");
        ASSERT_EQ(snp_tcb_check_not_above(UINT64_C(0x0000000100000000), TURIN, TCB_LAYOUT_TURIN, &e), -EINVAL);
        ASSERT_STREQ(e.name, "TCB_RESERVED_NONZERO");
        /* the Milan/Genoa SNP byte (6) is reserved on Turin */
        ASSERT_EQ(snp_tcb_check_not_above(UINT64_C(0x0001000000000000), TURIN, TCB_LAYOUT_TURIN, &e), -EINVAL);
        ASSERT_STREQ(e.name, "TCB_RESERVED_NONZERO");
}

static void test_encode_decode(void) {
        struct hwsec_sev_user_data_snp_config raw;
        SnpConfig c = { .reported_tcb = GENOA, .mask_chip_id = true }, back;
        uint8_t bytes[64];

        snp_config_encode(&c, &raw);
        memcpy(bytes, &raw, sizeof bytes);
        ASSERT_EQ(bytes[0], 0x04);      /* little endian */
        ASSERT_EQ(bytes[7], 0xdb);
        ASSERT_EQ(bytes[8], 0x01);
        for (size_t i = 12; i < 64; i++)
                ASSERT_EQ(bytes[i], 0);
        ASSERT_OK(snp_config_decode(bytes, sizeof bytes, &back));
        ASSERT_EQ(back.reported_tcb, GENOA);
        ASSERT_TRUE(back.mask_chip_id && !back.mask_chip_key);

        ASSERT_EQ(snp_config_decode(bytes, 63, &back), -EBADMSG);
        ASSERT_EQ(snp_config_decode(NULL, 64, &back), -EBADMSG);
        bytes[8] = 0x04;        /* a reserved flag bit */
        ASSERT_EQ(snp_config_decode(bytes, sizeof bytes, &back), -EBADMSG);
        bytes[8] = 0x03;
        ASSERT_OK(snp_config_decode(bytes, sizeof bytes, &back));
        ASSERT_TRUE(back.mask_chip_id && back.mask_chip_key);
        bytes[63] = 1;          /* a reserved byte */
        ASSERT_EQ(snp_config_decode(bytes, sizeof bytes, &back), -EBADMSG);
}

static SnpStatus genoa_status(void) {
        return (SnpStatus) {
                .state = 1, .current_tcb = GENOA, .reported_tcb = UINT64_C(0xda17000000000203),
                .mask_chip_key = true,
        };
}

static void test_prepare(void) {
        SnpStatus st = genoa_status();
        SnpConfigRequest req = SNP_CONFIG_REQUEST_NULL;
        SnpConfig c;
        SevError e;

        /* nothing asked */
        ASSERT_EQ(snp_config_prepare(&req, &st, TCB_LAYOUT_MILAN_GENOA, &c, &e), -EINVAL);
        ASSERT_STREQ(e.name, "INVALID_ARGUMENT");

        /* reported_tcb only: the masks stay as the platform has them */
        req.reported_tcb = "current";
        ASSERT_OK(snp_config_prepare(&req, &st, TCB_LAYOUT_MILAN_GENOA, &c, &e));
        ASSERT_EQ(c.reported_tcb, GENOA);
        ASSERT_TRUE(!c.mask_chip_id && c.mask_chip_key);

        /* a mask only: the reported TCB stays */
        req = SNP_CONFIG_REQUEST_NULL;
        req.mask_chip_id = 1;
        ASSERT_OK(snp_config_prepare(&req, &st, TCB_LAYOUT_MILAN_GENOA, &c, &e));
        ASSERT_EQ(c.reported_tcb, UINT64_C(0xda17000000000203));
        ASSERT_TRUE(c.mask_chip_id && c.mask_chip_key);
        req.mask_chip_key = 0;
        ASSERT_OK(snp_config_prepare(&req, &st, TCB_LAYOUT_MILAN_GENOA, &c, &e));
        ASSERT_TRUE(c.mask_chip_id && !c.mask_chip_key);

        req.mask_chip_key = 2;
        ASSERT_EQ(snp_config_prepare(&req, &st, TCB_LAYOUT_MILAN_GENOA, &c, &e), -EINVAL);
        ASSERT_STREQ(e.name, "INVALID_ARGUMENT");

        req = SNP_CONFIG_REQUEST_NULL;
        req.reported_tcb = "bl=4,tee=3,snp=25,ucode=219";
        ASSERT_EQ(snp_config_prepare(&req, &st, TCB_LAYOUT_MILAN_GENOA, &c, &e), -EINVAL);
        ASSERT_STREQ(e.name, "TCB_ABOVE_CURRENT");

        st.state = 0;
        req.reported_tcb = "current";
        ASSERT_EQ(snp_config_prepare(&req, &st, TCB_LAYOUT_MILAN_GENOA, &c, &e), -EINVAL);
        ASSERT_STREQ(e.name, "SNP_NOT_INITIALIZED");
}

int main(void) {
        test_parse_forms();
        test_parse_refusals();
        test_not_above();
        test_encode_decode();
        test_prepare();
        return 0;
}
