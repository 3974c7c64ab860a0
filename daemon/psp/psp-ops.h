/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The PSP operations hwsecd issues on /dev/sev beyond the status queries: SEV_GET_ID2 (the chip
 * identifier), SNP_COMMIT and SNP_SET_CONFIG (kernel-interfaces.md §1.2, psp-sev.h). Core code, no
 * sd-bus: every function returns a negative errno and names the failure in a SevError (name +
 * a sentence a person can act on), the firmware's status codes with the names of sev-status.c.
 *
 * The *_with() variants take a PspTransport so that unit tests can play the kernel; the plain
 * ones issue the real ioctl on fd. */

#include "macro.h"
#include "psp-sev.h"
#include "sev-status.h"
#include "snp-config.h"

typedef enum PspOp {
        PSP_OP_GET_ID2,
        PSP_OP_SNP_COMMIT,
        PSP_OP_SNP_SET_CONFIG,
        _PSP_OP_MAX,
} PspOp;

/* "SEV_GET_ID2", "SNP_COMMIT", "SNP_SET_CONFIG". */
const char *psp_op_to_string(PspOp op);

/* Names how op ended: error is 0 or a negative errno (as the ioctl returned it), fw_code the
 * firmware status written back with -EIO. Names: the SEV_RET_ name without prefix for firmware
 * codes ("INVALID_LEN"), FIRMWARE_ERROR (EIO without a code), UNKNOWN_FIRMWARE_STATUS,
 * SNP_NOT_INITIALIZED (EINVAL on SNP_COMMIT/SNP_SET_CONFIG), INVALID_REQUEST (EINVAL on GET_ID2),
 * NOT_WRITABLE (EPERM: the fd is read-only), ACCESS_DENIED (EACCES), NOT_SUPPORTED (the kernel's
 * ENOTSUPP: firmware API < 0.16; or ENOTTY), NO_SEV_DEVICE, NO_DEVICE_NODE, TIMED_OUT, BUSY,
 * MALFORMED_ANSWER (EBADMSG), ERRNO_<NAME> otherwise. error == 0 leaves name and message empty. */
void psp_op_error_set(SevError *e, PspOp op, int error, uint32_t fw_code);

/* One SEV_ISSUE_CMD: returns 0 or a negative errno, and leaves the firmware status in cmd->error
 * (the kernel copies it back even when the ioctl fails). */
typedef struct PspTransport {
        int (*issue)(void *userdata, struct hwsec_sev_issue_cmd *cmd);
        void *userdata;
} PspTransport;

/* Opens path for an operation: O_RDONLY for GET_ID2 and SNP_COMMIT (the kernel checks no write
 * permission for them), O_RDWR for SNP_SET_CONFIG. Returns the fd or a named negative errno. */
int psp_op_open(const char *path, PspOp op, SevError *e);

#define PSP_CHIP_ID_MAX 256u    /* refuse longer ids as malformed (every EPYC reports 64 bytes) */

typedef struct PspChipId {
        uint8_t bytes[PSP_CHIP_ID_MAX];
        size_t length;
} PspChipId;

/* Checks the answer of GET_ID2: buf holds buf_size bytes of which the kernel says reported_length
 * were written. -EBADMSG when reported_length is 0, above buf_size or above PSP_CHIP_ID_MAX. */
int psp_chip_id_decode(const void *buf, size_t buf_size, uint32_t reported_length, PspChipId *ret);
bool psp_chip_id_is_zero(const PspChipId *id);
/* Upper-case hex of the first n bytes (n > length: all of them), as snphost prints it.
 * -ENOBUFS when size is too small. */
int psp_chip_id_to_hex(const PspChipId *id, size_t n, char *buf, size_t size);

/* SEV_GET_ID2 with the kernel's length negotiation: asks with a 64-byte buffer and, when the
 * firmware answers INVALID_LEN with a larger length, once more with a buffer of that size. */
int psp_get_id2(int fd, PspChipId *ret, SevError *e);
int psp_get_id2_with(const PspTransport *t, PspChipId *ret, SevError *e);

/* SNP_COMMIT: CommittedTCB := CurrentTCB, ReportedTCB := CurrentTCB. No rollback to older
 * firmware afterwards. */
int psp_snp_commit(int fd, SevError *e);
int psp_snp_commit_with(const PspTransport *t, SevError *e);

/* SNP_SET_CONFIG with c (check it with snp_config_prepare() first; fd must be writable). */
int psp_snp_set_config(int fd, const SnpConfig *c, SevError *e);
int psp_snp_set_config_with(const PspTransport *t, const SnpConfig *c, SevError *e);
