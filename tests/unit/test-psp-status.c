/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Decoding of SEV/SNP status answers, firmware codes, error naming and TCB layouts. */

#include <fcntl.h>

#include "psp-sev.h"
#include "sev-status.h"
#include "tcb.h"

static unsigned failures;
#define CHECK(expr) do { if (!(expr)) { fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #expr); failures++; } } while (0)
#define CHECK_STREQ(a, b) do { const char *_a = (a), *_b = (b); if (!_a || !_b || strcmp(_a, _b) != 0) { fprintf(stderr, "%s:%d: FAILED: \"%s\" == \"%s\"\n", __FILE__, __LINE__, strna(_a), strna(_b)); failures++; } } while (0)

static void test_sev_status(void) {
        /* api 1.55, WORKING, flags owner|CONFIG_ES|bit 4, build 21, 3 guests */
        const uint8_t raw[12] = { 1, 55, 2, 0x11, 0x01, 0x00, 0x00, 21, 3, 0, 0, 0 };
        SevStatus s;

        CHECK(sev_status_decode(raw, sizeof raw, &s) == 0);
        CHECK(s.api_major == 1 && s.api_minor == 55);
        CHECK(s.state == 2);
        CHECK_STREQ(sev_state_to_string(s.state), "working");
        CHECK(s.flags == 0x111);
        CHECK(s.owner);
        CHECK(s.config_es);
        CHECK(s.flags_unknown == 0x10);
        CHECK(s.build == 21);
        CHECK(s.guest_count == 3);

        CHECK(sev_status_decode(raw, 11, &s) == -EBADMSG);
        CHECK(sev_status_decode(raw, 13, &s) == -EBADMSG);
        CHECK(sev_status_decode(NULL, 12, &s) == -EBADMSG);
        CHECK_STREQ(sev_state_to_string(0), "uninit");
        CHECK_STREQ(sev_state_to_string(1), "init");
        CHECK_STREQ(sev_state_to_string(3), "invalid");
}

static void test_snp_status(void) {
        struct hwsec_sev_user_data_snp_status raw = {
                .api_major = 1, .api_minor = 55, .state = 1, .rmp_flags = 0x01 | 0x80,
                .build_id = 21,
                .feature_flags = HWSEC_SNP_MASK_CHIP_KEY | HWSEC_SNP_FEATURE_INFO |
                        HWSEC_SNP_CIPHERTEXT_HIDING_CAP | HWSEC_SNP_CIPHERTEXT_HIDING_EN | 0x100,
                .guest_count = 7,
                .current_tcb_version = UINT64_C(0xdb18000000000304),
                .reported_tcb_version = UINT64_C(0xd517000000000304),
        };
        uint8_t bytes[32];
        SnpStatus s;
        json_object *j, *v;

        memcpy(bytes, &raw, sizeof bytes);
        /* the reference says: feature_info gives byte 8 = 0x08, rapl_dis 0x10, cap 0x20, en 0x40 */
        CHECK(bytes[8] == (0x02 | 0x08 | 0x20 | 0x40));
        CHECK(bytes[9] == 0x01);

        CHECK(snp_status_decode(bytes, sizeof bytes, &s) == 0);
        CHECK(s.api_major == 1 && s.api_minor == 55);
        CHECK(snp_status_initialized(&s));
        CHECK(s.is_rmp_initialized);
        CHECK(s.rmp_flags_reserved == 0x80);
        CHECK(s.build_id == 21);
        CHECK(!s.mask_chip_id);
        CHECK(s.mask_chip_key);
        CHECK(!s.vlek_en);
        CHECK(s.feature_info);
        CHECK(!s.rapl_dis);
        CHECK(s.ciphertext_hiding_cap);
        CHECK(s.ciphertext_hiding_en);
        CHECK(s.flags_reserved == 0x100);
        CHECK(s.guest_count == 7);
        CHECK(s.current_tcb == UINT64_C(0xdb18000000000304));
        CHECK(s.reported_tcb == UINT64_C(0xd517000000000304));

        bytes[8] = 0x1d;        /* mask_chip_id, vlek_en, feature_info, rapl_dis */
        bytes[3] = 0;
        bytes[2] = 0;
        CHECK(snp_status_decode(bytes, sizeof bytes, &s) == 0);
        CHECK(!snp_status_initialized(&s));
        CHECK(!s.is_rmp_initialized);
        CHECK(s.mask_chip_id && !s.mask_chip_key && s.vlek_en && s.feature_info && s.rapl_dis);
        CHECK(!s.ciphertext_hiding_cap && !s.ciphertext_hiding_en);

        CHECK(snp_status_decode(bytes, 31, &s) == -EBADMSG);

        j = snp_status_to_json(&s, TCB_LAYOUT_MILAN_GENOA);
        CHECK(j);
        CHECK(json_object_object_get_ex(j, "tcb_committed", &v) && !json_object_get_boolean(v));
        CHECK(json_object_object_get_ex(j, "current_tcb", &v));
        CHECK(json_object_object_get_ex(v, "microcode", &v) && json_object_get_int(v) == 0xdb);
        CHECK(json_object_object_get_ex(j, "vlek_en", &v) && json_object_get_boolean(v));
        json_object_put(j);
}

static void test_ret_codes(void) {
        CHECK_STREQ(sev_ret_to_name(0x00), "SUCCESS");
        CHECK_STREQ(sev_ret_to_name(0x01), "INVALID_PLATFORM_STATE");
        CHECK_STREQ(sev_ret_to_name(0x03), "INVALID_CONFIG");
        CHECK_STREQ(sev_ret_to_name(0x13), "HWSEV_RET_PLATFORM");
        CHECK_STREQ(sev_ret_to_name(0x18), "SECURE_DATA_INVALID");
        CHECK_STREQ(sev_ret_to_name(0x19), "INVALID_PAGE_SIZE");
        CHECK(sev_ret_to_name(0x1e) == NULL);
        CHECK_STREQ(sev_ret_to_name(0x1f), "EXIT_RING_BUFFER");
        CHECK_STREQ(sev_ret_to_name(0x26), "RMP_INITIALIZATION_FAILED");
        CHECK_STREQ(sev_ret_to_name(0x27), "INVALID_KEY");
        CHECK(sev_ret_to_name(0x28) == NULL);
        CHECK(sev_ret_to_name(UINT32_MAX) == NULL);
        /* every defined code has a name and a sentence of its own */
        for (uint32_t c = 0; c <= 0x27; c++) {
                if (c == 0x1e)
                        continue;
                CHECK(sev_ret_to_name(c) != NULL);
                CHECK(strlen(sev_ret_describe(c)) > 10);
        }
        CHECK(strstr(sev_ret_describe(0x1e), "does not define"));
}

static void test_errors(void) {
        SevError e;

        sev_error_set(&e, SEV_QUERY_SEV, 0, 0);
        CHECK(e.error == 0 && e.name[0] == '\0' && e.message[0] == '\0');

        sev_error_set(&e, SEV_QUERY_SEV, -EIO, 0x10001);    /* only 16 bits count */
        CHECK_STREQ(e.name, "INVALID_PLATFORM_STATE");
        CHECK(e.fw_code == 1);
        CHECK(strstr(e.message, "SEV_RET_INVALID_PLATFORM_STATE"));
        CHECK(strstr(e.message, "SEV_PLATFORM_STATUS"));

        sev_error_set(&e, SEV_QUERY_SNP, -EIO, 0x1e);
        CHECK_STREQ(e.name, "UNKNOWN_FIRMWARE_STATUS");
        CHECK(strstr(e.message, "0x1e"));

        sev_error_set(&e, SEV_QUERY_SNP, -EIO, 0);
        CHECK_STREQ(e.name, "FIRMWARE_ERROR");

        sev_error_set(&e, SEV_QUERY_SNP, -EINVAL, 0);
        CHECK_STREQ(e.name, "SNP_NOT_INITIALIZED");
        CHECK(strstr(e.message, "SNP not initialised on this kernel"));

        sev_error_set(&e, SEV_QUERY_SEV, -EINVAL, 0);
        CHECK_STREQ(e.name, "INVALID_REQUEST");

        sev_error_set(&e, SEV_QUERY_SEV, -ENODEV, 0);
        CHECK_STREQ(e.name, "NO_SEV_DEVICE");
        sev_error_set(&e, SEV_QUERY_SEV, -EACCES, 0);
        CHECK_STREQ(e.name, "ACCESS_DENIED");
        CHECK(strstr(e.message, "EACCES"));
        sev_error_set(&e, SEV_QUERY_SEV, EPERM, 0);         /* positive errno is accepted too */
        CHECK_STREQ(e.name, "ACCESS_DENIED");
        CHECK(strstr(e.message, "EPERM"));
        sev_error_set(&e, SEV_QUERY_SNP, -ETIMEDOUT, 0);
        CHECK_STREQ(e.name, "TIMED_OUT");
        CHECK(strstr(e.message, "psp_cmd_timeout"));
        sev_error_set(&e, SEV_QUERY_SNP, -ENOTTY, 0);
        CHECK_STREQ(e.name, "NOT_SUPPORTED");
        sev_error_set(&e, SEV_QUERY_SEV, -ENOENT, 0);
        CHECK_STREQ(e.name, "NO_DEVICE_NODE");
        sev_error_set(&e, SEV_QUERY_SEV, -ENOSPC, 0);
        CHECK_STREQ(e.name, "ERRNO_ENOSPC");
        CHECK(strstr(e.message, "ENOSPC"));
}

static void test_tcb(void) {
        TcbVersion t;
        char buf[64];
        json_object *j, *v;

        CHECK(tcb_layout_for_family(0x19) == TCB_LAYOUT_MILAN_GENOA);
        CHECK(tcb_layout_for_family(0x1A) == TCB_LAYOUT_TURIN);
        CHECK(tcb_layout_for_family(0x17) == TCB_LAYOUT_UNKNOWN);

        /* Genoa: BL=4 TEE=3 reserved… SNP=0x18 uCode=0xdb */
        CHECK(tcb_decode(UINT64_C(0xdb18000000000304), TCB_LAYOUT_MILAN_GENOA, &t) == 0);
        CHECK(t.boot_loader == 4 && t.tee == 3 && t.snp == 0x18 && t.microcode == 0xdb && !t.has_fmc);
        CHECK(t.reserved == 0);
        CHECK(tcb_format(&t, buf, sizeof buf) == 0);
        CHECK_STREQ(buf, "BL=4 TEE=3 SNP=24 uCode=219");

        CHECK(tcb_decode(UINT64_C(0x0000aabbccdd0000), TCB_LAYOUT_MILAN_GENOA, &t) == 0);
        CHECK(t.reserved == UINT64_C(0x0000aabbccdd0000));

        /* Turin: FMC=1 BL=2 TEE=3 SNP=4 reserved uCode=0x55 */
        CHECK(tcb_decode(UINT64_C(0x5500000004030201), TCB_LAYOUT_TURIN, &t) == 0);
        CHECK(t.has_fmc && t.fmc == 1 && t.boot_loader == 2 && t.tee == 3 && t.snp == 4 && t.microcode == 0x55);
        CHECK(tcb_format(&t, buf, sizeof buf) == 0);
        CHECK_STREQ(buf, "FMC=1 BL=2 TEE=3 SNP=4 uCode=85");
        CHECK(tcb_format(&t, buf, 8) == -ENOBUFS);

        j = tcb_to_json(&t);
        CHECK(json_object_object_get_ex(j, "fmc", &v) && json_object_get_int(v) == 1);
        CHECK(json_object_object_get_ex(j, "layout", &v));
        CHECK_STREQ(json_object_get_string(v), "turin");
        json_object_put(j);

        CHECK(tcb_decode(42, TCB_LAYOUT_UNKNOWN, &t) == -EOPNOTSUPP);
        CHECK(t.raw == 42);
        CHECK(tcb_format(&t, buf, sizeof buf) == 0);
        CHECK_STREQ(buf, "0x000000000000002a");
}

static void test_query(void) {
        SevPlatform p;

        sev_query_platform("/nonexistent/sev", &p);
        CHECK(!p.sev_valid && !p.snp_valid);
        CHECK_STREQ(p.sev_error.name, "NO_DEVICE_NODE");
        CHECK_STREQ(p.snp_error.name, "NO_DEVICE_NODE");

        /* a character device that knows no SEV_ISSUE_CMD: the kernel says ENOTTY */
        sev_query_platform("/dev/null", &p);
        CHECK(!p.sev_valid && !p.snp_valid);
        CHECK_STREQ(p.sev_error.name, "NOT_SUPPORTED");
        CHECK(p.snp_error.error == -ENOTTY);
}

int main(void) {
        test_sev_status();
        test_snp_status();
        test_ret_codes();
        test_errors();
        test_tcb();
        test_query();
        if (failures) {
                fprintf(stderr, "%u check(s) failed\n", failures);
                return EXIT_FAILURE;
        }
        printf("test-psp-status: all checks passed\n");
        return EXIT_SUCCESS;
}
