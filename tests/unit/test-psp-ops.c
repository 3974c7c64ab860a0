/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The PSP operations (psp-ops.c) against a fake kernel that follows sev-dev.c's ioctl code
 * (kernel-interfaces.md §1.2): GET_ID2's length negotiation, ENOTSUPP before API 0.16, SNP_COMMIT
 * and SNP_SET_CONFIG refused with EINVAL when SNP is not initialised, SET_CONFIG's EPERM on a
 * read-only fd, firmware codes written back with EIO. */

#include <fcntl.h>
#include <unistd.h>

#include "psp-ops.h"
#include "tests.h"

typedef struct FakeKernel {
        bool api_old;                   /* API < 0.16: GET_ID2 gives ENOTSUPP */
        bool snp_initialized;
        bool writable;
        uint32_t id_length;             /* what the firmware needs */
        uint8_t id[512];
        int force_errno;                /* a failure for every command (ETIMEDOUT, ENODEV, ...) */
        uint32_t force_fw;              /* firmware status with force_errno == EIO */
        int lie_length;                 /* > 0: GET_ID2 reports this length on success */
        unsigned calls;
        uint32_t last_cmd;
        struct hwsec_sev_user_data_snp_config last_config;
} FakeKernel;

static int fake_get_id2(FakeKernel *k, struct hwsec_sev_issue_cmd *cmd) {
        struct hwsec_sev_user_data_get_id2 in;

        if (k->api_old)
                return -HWSEC_KERNEL_ENOTSUPP;
        memcpy(&in, (void *) (uintptr_t) cmd->data, sizeof in);
        if (!in.address || !in.length || in.length < k->id_length) {
                /* the firmware answers INVALID_LEN with the length it needs */
                in.length = k->id_length;
                memcpy((void *) (uintptr_t) cmd->data, &in, sizeof in);
                cmd->error = HWSEC_SEV_RET_INVALID_LEN;
                return -EIO;
        }
        memcpy((void *) (uintptr_t) in.address, k->id, k->id_length);
        in.length = k->lie_length > 0 ? (uint32_t) k->lie_length : k->id_length;
        memcpy((void *) (uintptr_t) cmd->data, &in, sizeof in);
        return 0;
}

static int fake_issue(void *userdata, struct hwsec_sev_issue_cmd *cmd) {
        FakeKernel *k = userdata;

        k->calls++;
        k->last_cmd = cmd->cmd;
        cmd->error = 0;
        if (k->force_errno) {
                cmd->error = k->force_errno == EIO ? k->force_fw : 0;
                return -k->force_errno;
        }
        switch (cmd->cmd) {
        case HWSEC_SEV_GET_ID2:
                return fake_get_id2(k, cmd);
        case HWSEC_SNP_COMMIT:
                return k->snp_initialized ? 0 : -EINVAL;
        case HWSEC_SNP_SET_CONFIG:
                if (!k->snp_initialized || !cmd->data)
                        return -EINVAL;
                if (!k->writable)
                        return -EPERM;
                memcpy(&k->last_config, (void *) (uintptr_t) cmd->data, sizeof k->last_config);
                return 0;
        default:
                return -EINVAL;
        }
}

static FakeKernel genoa(void) {
        FakeKernel k = { .snp_initialized = true, .writable = true, .id_length = 64 };

        for (unsigned i = 0; i < 64; i++)
                k.id[i] = (uint8_t) (0xa0 + i);
        return k;
}

static void test_get_id2_ok(void) {
        FakeKernel k = genoa();
        PspChipId id;
        SevError e;
        char hex[2 * PSP_CHIP_ID_MAX + 1];

        ASSERT_OK(psp_get_id2_with(&(PspTransport) { fake_issue, &k }, &id, &e));
        ASSERT_EQ(k.calls, 1);
        ASSERT_EQ(id.length, 64);
        ASSERT_EQ(id.bytes[0], 0xa0);
        ASSERT_EQ(id.bytes[63], 0xdf);
        ASSERT_STREQ(e.name, "");
        ASSERT_OK(psp_chip_id_to_hex(&id, 4, hex, sizeof hex));
        ASSERT_STREQ(hex, "A0A1A2A3");
        ASSERT_EQ(psp_chip_id_to_hex(&id, 64, hex, 128), -ENOBUFS);
        ASSERT_OK(psp_chip_id_to_hex(&id, 1000, hex, sizeof hex));
        ASSERT_EQ(strlen(hex), 128);
}

static void test_get_id2_negotiates_length(void) {
        FakeKernel k = genoa();
        PspChipId id;
        SevError e;

        /* a firmware whose id is longer than 64 bytes: INVALID_LEN with 80, then a second call */
        k.id_length = 80;
        for (unsigned i = 0; i < 80; i++)
                k.id[i] = (uint8_t) i + 1;
        ASSERT_OK(psp_get_id2_with(&(PspTransport) { fake_issue, &k }, &id, &e));
        ASSERT_EQ(k.calls, 2);
        ASSERT_EQ(id.length, 80);
        ASSERT_EQ(id.bytes[79], 80);

        /* more than hwsecd accepts: the INVALID_LEN stays, named */
        k = genoa();
        k.id_length = PSP_CHIP_ID_MAX + 1;
        ASSERT_EQ(psp_get_id2_with(&(PspTransport) { fake_issue, &k }, &id, &e), -EIO);
        ASSERT_EQ(k.calls, 1);
        ASSERT_STREQ(e.name, "INVALID_LEN");
        ASSERT_EQ(e.fw_code, HWSEC_SEV_RET_INVALID_LEN);

        /* a kernel that claims to have written more than the buffer holds */
        k = genoa();
        k.lie_length = 65;
        ASSERT_EQ(psp_get_id2_with(&(PspTransport) { fake_issue, &k }, &id, &e), -EBADMSG);
        ASSERT_STREQ(e.name, "MALFORMED_ANSWER");
        k.lie_length = 0;
        k.id_length = 0;        /* success with nothing written */
        ASSERT_EQ(psp_get_id2_with(&(PspTransport) { fake_issue, &k }, &id, &e), -EBADMSG);
        ASSERT_STREQ(e.name, "MALFORMED_ANSWER");
}

static void test_get_id2_errors(void) {
        FakeKernel k = genoa();
        PspChipId id;
        SevError e;

        k.api_old = true;
        ASSERT_EQ(psp_get_id2_with(&(PspTransport) { fake_issue, &k }, &id, &e), -HWSEC_KERNEL_ENOTSUPP);
        ASSERT_STREQ(e.name, "NOT_SUPPORTED");
        ASSERT_EQ(e.error, -HWSEC_KERNEL_ENOTSUPP);

        k = genoa();
        k.force_errno = ETIMEDOUT;
        ASSERT_EQ(psp_get_id2_with(&(PspTransport) { fake_issue, &k }, &id, &e), -ETIMEDOUT);
        ASSERT_STREQ(e.name, "TIMED_OUT");

        k.force_errno = EIO;
        k.force_fw = 0x1e;      /* no name in the SEV API */
        ASSERT_EQ(psp_get_id2_with(&(PspTransport) { fake_issue, &k }, &id, &e), -EIO);
        ASSERT_STREQ(e.name, "UNKNOWN_FIRMWARE_STATUS");
        k.force_fw = 0x10000;   /* only 16 bits are the status: 0 -> no code */
        ASSERT_EQ(psp_get_id2_with(&(PspTransport) { fake_issue, &k }, &id, &e), -EIO);
        ASSERT_STREQ(e.name, "FIRMWARE_ERROR");
        k.force_errno = EINVAL;
        ASSERT_EQ(psp_get_id2_with(&(PspTransport) { fake_issue, &k }, &id, &e), -EINVAL);
        ASSERT_STREQ(e.name, "INVALID_REQUEST");
}

static void test_commit(void) {
        FakeKernel k = genoa();
        SevError e;

        k.writable = false;     /* the kernel does not check write permission for SNP_COMMIT */
        ASSERT_OK(psp_snp_commit_with(&(PspTransport) { fake_issue, &k }, &e));
        ASSERT_EQ(k.last_cmd, HWSEC_SNP_COMMIT);
        ASSERT_STREQ(e.name, "");

        k.snp_initialized = false;
        ASSERT_EQ(psp_snp_commit_with(&(PspTransport) { fake_issue, &k }, &e), -EINVAL);
        ASSERT_STREQ(e.name, "SNP_NOT_INITIALIZED");
        ASSERT_TRUE(strstr(e.message, "SNP_COMMIT"));

        k = genoa();
        k.force_errno = EIO;
        k.force_fw = HWSEC_SEV_RET_INVALID_PLATFORM_STATE;
        ASSERT_EQ(psp_snp_commit_with(&(PspTransport) { fake_issue, &k }, &e), -EIO);
        ASSERT_STREQ(e.name, "INVALID_PLATFORM_STATE");
        ASSERT_EQ(e.fw_code, 1);
        ASSERT_TRUE(strstr(e.message, "SNP_COMMIT: the firmware answered SEV_RET_INVALID_PLATFORM_STATE"));
}

static void test_set_config(void) {
        FakeKernel k = genoa();
        SnpConfig c = { .reported_tcb = UINT64_C(0xdb18000000000304), .mask_chip_key = true };
        SnpConfig back;
        SevError e;

        ASSERT_OK(psp_snp_set_config_with(&(PspTransport) { fake_issue, &k }, &c, &e));
        ASSERT_EQ(k.last_cmd, HWSEC_SNP_SET_CONFIG);
        ASSERT_EQ(le64toh(k.last_config.reported_tcb), UINT64_C(0xdb18000000000304));
        ASSERT_EQ(le32toh(k.last_config.flags), HWSEC_SNP_CONFIG_MASK_CHIP_KEY);
        ASSERT_OK(snp_config_decode(&k.last_config, sizeof k.last_config, &back));
        ASSERT_TRUE(back.mask_chip_key && !back.mask_chip_id);

        /* SNP not initialised is checked before the write permission, as in the kernel */
        k.writable = false;
        k.snp_initialized = false;
        ASSERT_EQ(psp_snp_set_config_with(&(PspTransport) { fake_issue, &k }, &c, &e), -EINVAL);
        ASSERT_STREQ(e.name, "SNP_NOT_INITIALIZED");
        k.snp_initialized = true;
        ASSERT_EQ(psp_snp_set_config_with(&(PspTransport) { fake_issue, &k }, &c, &e), -EPERM);
        ASSERT_STREQ(e.name, "NOT_WRITABLE");

        k = genoa();
        k.force_errno = EIO;
        k.force_fw = HWSEC_SEV_RET_INVALID_PARAM;
        ASSERT_EQ(psp_snp_set_config_with(&(PspTransport) { fake_issue, &k }, &c, &e), -EIO);
        ASSERT_STREQ(e.name, "INVALID_PARAM");
        ASSERT_EQ(e.fw_code, HWSEC_SEV_RET_INVALID_PARAM);
}

static void test_error_names(void) {
        static const struct {
                int error;
                PspOp op;
                const char *name;
        } table[] = {
                { 0, PSP_OP_GET_ID2, "" },
                { -ENODEV, PSP_OP_SNP_COMMIT, "NO_SEV_DEVICE" },
                { -ENOENT, PSP_OP_GET_ID2, "NO_DEVICE_NODE" },
                { -EACCES, PSP_OP_SNP_SET_CONFIG, "ACCESS_DENIED" },
                { -EPERM, PSP_OP_SNP_SET_CONFIG, "NOT_WRITABLE" },
                { -ENOTTY, PSP_OP_SNP_COMMIT, "NOT_SUPPORTED" },
                { -EBUSY, PSP_OP_SNP_COMMIT, "BUSY" },
                { -EBADMSG, PSP_OP_GET_ID2, "MALFORMED_ANSWER" },
                { -ENOSPC, PSP_OP_GET_ID2, "ERRNO_ENOSPC" },
                { -EINVAL, PSP_OP_SNP_SET_CONFIG, "SNP_NOT_INITIALIZED" },
        };
        SevError e;

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                psp_op_error_set(&e, table[i].op, table[i].error, 0);
                ASSERT_STREQ(e.name, table[i].name);
                ASSERT_EQ(e.error, table[i].error);
                ASSERT_TRUE(table[i].error == 0 || e.message[0] != '\0');
        }
        ASSERT_STREQ(psp_op_to_string(_PSP_OP_MAX), "unknown PSP command");
}

static void test_chip_id_decode(void) {
        uint8_t buf[64] = {};
        PspChipId id;

        ASSERT_EQ(psp_chip_id_decode(buf, sizeof buf, 0, &id), -EBADMSG);
        ASSERT_EQ(psp_chip_id_decode(buf, sizeof buf, 65, &id), -EBADMSG);
        ASSERT_EQ(psp_chip_id_decode(NULL, 0, 1, &id), -EBADMSG);
        ASSERT_OK(psp_chip_id_decode(buf, sizeof buf, 64, &id));
        ASSERT_TRUE(psp_chip_id_is_zero(&id));
        buf[63] = 1;
        ASSERT_OK(psp_chip_id_decode(buf, sizeof buf, 64, &id));
        ASSERT_TRUE(!psp_chip_id_is_zero(&id));
}

static void test_real_ioctl_on_a_file(void) {
        /* The real transport on a fd that is not /dev/sev: the kernel's ENOTTY, named. */
        char path[] = "/tmp/test-psp-ops-XXXXXX";
        PspChipId id;
        SevError e;
        int fd;

        fd = mkstemp(path);
        ASSERT_TRUE(fd >= 0);
        (void) unlink(path);
        ASSERT_EQ(psp_get_id2(fd, &id, &e), -ENOTTY);
        ASSERT_STREQ(e.name, "NOT_SUPPORTED");
        ASSERT_EQ(psp_snp_commit(fd, &e), -ENOTTY);
        ASSERT_EQ(psp_snp_set_config(fd, &(SnpConfig) {}, &e), -ENOTTY);
        close(fd);

        ASSERT_EQ(psp_op_open("/nonexistent/sev", PSP_OP_SNP_SET_CONFIG, &e), -ENOENT);
        ASSERT_STREQ(e.name, "NO_DEVICE_NODE");
}

int main(void) {
        test_get_id2_ok();
        test_get_id2_negotiates_length();
        test_get_id2_errors();
        test_commit();
        test_set_config();
        test_error_names();
        test_chip_id_decode();
        test_real_ioctl_on_a_file();
        return 0;
}
