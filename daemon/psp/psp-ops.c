/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <inttypes.h>
#include <sys/ioctl.h>

#include "psp-ops.h"

const char *psp_op_to_string(PspOp op) {
        static const char * const table[_PSP_OP_MAX] = {
                [PSP_OP_GET_ID2] = "SEV_GET_ID2",
                [PSP_OP_SNP_COMMIT] = "SNP_COMMIT",
                [PSP_OP_SNP_SET_CONFIG] = "SNP_SET_CONFIG",
        };

        if ((unsigned) op >= _PSP_OP_MAX)
                return "unknown PSP command";
        return table[op];
}

static void error_set_firmware(SevError *e, const char *what, uint32_t fw_code) {
        const char *name;

        fw_code &= HWSEC_SEV_RET_MASK;
        if (fw_code == 0) {
                psp_error_setf(e, -EIO, "FIRMWARE_ERROR",
                               "%s failed with an I/O error but the firmware reported no status code; check the kernel log for ccp messages.", what);
                return;
        }
        name = sev_ret_to_name(fw_code);
        if (name)
                psp_error_setf(e, -EIO, name, "%s: the firmware answered SEV_RET_%s (0x%" PRIx32 "). %s",
                               what, name, fw_code, sev_ret_describe(fw_code));
        else
                psp_error_setf(e, -EIO, "UNKNOWN_FIRMWARE_STATUS",
                               "%s: the firmware answered status 0x%" PRIx32 ", which the SEV API does not define.", what, fw_code);
        e->fw_code = fw_code;
}

void psp_op_error_set(SevError *e, PspOp op, int error, uint32_t fw_code) {
        const char *what = psp_op_to_string(op);
        int err = error < 0 ? -error : error;

        *e = (SevError) {};
        switch (err) {
        case 0:
                return;
        case EIO:
                error_set_firmware(e, what, fw_code);
                return;
        case EINVAL:
                if (op == PSP_OP_GET_ID2)
                        psp_error_setf(e, err, "INVALID_REQUEST", "The kernel refused %s as invalid (EINVAL); the ccp driver may be too old for it.", what);
                else
                        psp_error_setf(e, err, "SNP_NOT_INITIALIZED",
                                       "%s was refused because SNP is not initialised (EINVAL); enable SEV-SNP in the BIOS, keep the IOMMU on and load kvm_amd with sev_snp=1.", what);
                return;
        case EPERM:
                psp_error_setf(e, err, "NOT_WRITABLE", "The kernel refused %s because /dev/sev was opened read-only (EPERM); it must be opened for writing.", what);
                return;
        case EACCES:
                psp_error_setf(e, err, "ACCESS_DENIED", "Opening /dev/sev was denied (EACCES); %s needs root, or check DeviceAllow= in hwsecd's unit.", what);
                return;
        case HWSEC_KERNEL_ENOTSUPP:
                psp_error_setf(e, err, "NOT_SUPPORTED", "%s needs SEV firmware API 0.16 or newer (the kernel answered ENOTSUPP); update the SEV firmware.", what);
                return;
        case ENOTTY:
                psp_error_setf(e, err, "NOT_SUPPORTED", "The kernel does not support %s on /dev/sev (ENOTTY); a newer kernel is needed.", what);
                return;
        case ENODEV:
                psp_error_setf(e, err, "NO_SEV_DEVICE", "%s: the PSP has no SEV function or the ccp driver has no SEV device (ENODEV); check that SEV is enabled in the BIOS and that ccp is loaded.", what);
                return;
        case ENOENT:
                psp_error_setf(e, err, "NO_DEVICE_NODE", "/dev/sev does not exist; load the ccp module on a host whose BIOS enables SEV.");
                return;
        case ETIMEDOUT:
                psp_error_setf(e, err, "TIMED_OUT", "%s timed out: the PSP did not answer within ccp's psp_cmd_timeout; the kernel treats the PSP as dead until the next reboot.", what);
                return;
        case EBUSY:
                psp_error_setf(e, err, "BUSY", "The PSP is busy (EBUSY); try %s again.", what);
                return;
        case EBADMSG:
                psp_error_setf(e, err, "MALFORMED_ANSWER", "%s returned an answer that could not be decoded.", what);
                return;
        default: {
                const char *en = strerrorname_np(err);
                char nm[48];

                snprintf(nm, sizeof nm, "ERRNO_%s", en ?: "UNKNOWN");
                psp_error_setf(e, err, nm, "%s failed: %s (%s).", what, strerrordesc_np(err) ?: "unknown error", en ?: "unnamed errno");
                return;
        }
        }
}

int psp_op_open(const char *path, PspOp op, SevError *e) {
        int fd;

        fd = open(path, (op == PSP_OP_SNP_SET_CONFIG ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                int r = -errno;

                psp_op_error_set(e, op, r, 0);
                return r;
        }
        return fd;
}

static int ioctl_issue(void *userdata, struct hwsec_sev_issue_cmd *cmd) {
        int fd = *(int *) userdata;

        if (ioctl(fd, HWSEC_SEV_ISSUE_CMD, cmd) < 0)
                return -errno;
        return 0;
}

static int issue(const PspTransport *t, uint32_t cmd, void *data, uint32_t *ret_fw) {
        struct hwsec_sev_issue_cmd arg = {
                .cmd = cmd,
                .data = (uint64_t) (uintptr_t) data,
        };
        int r;

        r = t->issue(t->userdata, &arg);
        *ret_fw = r < 0 ? arg.error : 0;
        return r;
}

int psp_chip_id_decode(const void *buf, size_t buf_size, uint32_t reported_length, PspChipId *ret) {
        if (!buf || reported_length == 0 || reported_length > buf_size || reported_length > PSP_CHIP_ID_MAX)
                return -EBADMSG;
        *ret = (PspChipId) { .length = reported_length };
        memcpy(ret->bytes, buf, reported_length);
        return 0;
}

bool psp_chip_id_is_zero(const PspChipId *id) {
        for (size_t i = 0; i < id->length; i++)
                if (id->bytes[i] != 0)
                        return false;
        return true;
}

int psp_chip_id_to_hex(const PspChipId *id, size_t n, char *buf, size_t size) {
        static const char hex[] = "0123456789ABCDEF";

        n = MIN(n, id->length);
        if (size < 2 * n + 1)
                return -ENOBUFS;
        for (size_t i = 0; i < n; i++) {
                buf[2 * i] = hex[id->bytes[i] >> 4];
                buf[2 * i + 1] = hex[id->bytes[i] & 0xf];
        }
        buf[2 * n] = '\0';
        return 0;
}

int psp_get_id2_with(const PspTransport *t, PspChipId *ret, SevError *e) {
        _cleanup_free_ uint8_t *big = NULL;
        uint8_t small[HWSEC_SEV_GET_ID2_LENGTH] = {};
        struct hwsec_sev_user_data_get_id2 req = {
                .address = (uint64_t) (uintptr_t) small,
                .length = sizeof small,
        };
        size_t size = sizeof small;
        uint8_t *buf = small;
        uint32_t fw;
        int r;

        r = issue(t, HWSEC_SEV_GET_ID2, &req, &fw);
        if (r == -EIO && (fw & HWSEC_SEV_RET_MASK) == HWSEC_SEV_RET_INVALID_LEN &&
            req.length > size && req.length <= PSP_CHIP_ID_MAX) {
                /* The firmware wants a larger buffer and said how large: ask once more. */
                size = req.length;
                big = calloc(1, size);
                if (!big)
                        return -ENOMEM;
                buf = big;
                req = (struct hwsec_sev_user_data_get_id2) {
                        .address = (uint64_t) (uintptr_t) big,
                        .length = size,
                };
                r = issue(t, HWSEC_SEV_GET_ID2, &req, &fw);
        }
        if (r < 0) {
                psp_op_error_set(e, PSP_OP_GET_ID2, r, fw);
                return r;
        }
        r = psp_chip_id_decode(buf, size, req.length, ret);
        if (r < 0) {
                psp_error_setf(e, r, "MALFORMED_ANSWER",
                               "SEV_GET_ID2 reported an id of %" PRIu32 " bytes for a buffer of %zu; hwsecd accepts 1 to %u bytes.",
                               req.length, size, PSP_CHIP_ID_MAX);
                return r;
        }
        *e = (SevError) {};
        return 0;
}

int psp_get_id2(int fd, PspChipId *ret, SevError *e) {
        return psp_get_id2_with(&(PspTransport) { ioctl_issue, &fd }, ret, e);
}

int psp_snp_commit_with(const PspTransport *t, SevError *e) {
        uint32_t fw;
        int r;

        /* The kernel builds the firmware's {u32 len} itself; data is not read. */
        r = issue(t, HWSEC_SNP_COMMIT, NULL, &fw);
        psp_op_error_set(e, PSP_OP_SNP_COMMIT, r, fw);
        return r;
}

int psp_snp_commit(int fd, SevError *e) {
        return psp_snp_commit_with(&(PspTransport) { ioctl_issue, &fd }, e);
}

int psp_snp_set_config_with(const PspTransport *t, const SnpConfig *c, SevError *e) {
        struct hwsec_sev_user_data_snp_config raw;
        uint32_t fw;
        int r;

        snp_config_encode(c, &raw);
        r = issue(t, HWSEC_SNP_SET_CONFIG, &raw, &fw);
        psp_op_error_set(e, PSP_OP_SNP_SET_CONFIG, r, fw);
        return r;
}

int psp_snp_set_config(int fd, const SnpConfig *c, SevError *e) {
        return psp_snp_set_config_with(&(PspTransport) { ioctl_issue, &fd }, c, e);
}
