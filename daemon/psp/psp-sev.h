/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Our own copy of the /dev/sev user API (include/uapi/linux/psp-sev.h), written from the field
 * tables in kernel-interfaces.md §1. Debian 12's header stops at command 8 and lacks the SNP
 * structs and the v6.18 status bits, so hwsecd never includes <linux/psp-sev.h>. Every size and
 * offset is checked at compile time against the reference tables. Bit fields are not used:
 * the flag words are plain integers and the HWSEC_SNP_* masks below name their bits (the kernel's
 * little-endian bit-field order, checked in the reference by compiling). */

#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>

/* §1.1: the one ioctl. */
struct hwsec_sev_issue_cmd {
        uint32_t cmd;           /* in: command id (§1.2) */
        uint64_t data;          /* in: user pointer to the command's parameter struct */
        uint32_t error;         /* out: firmware status code, copied back even when the ioctl fails */
} __attribute__((packed));

#define HWSEC_SEV_IOC_TYPE 'S'
#define HWSEC_SEV_ISSUE_CMD _IOWR(HWSEC_SEV_IOC_TYPE, 0x0, struct hwsec_sev_issue_cmd)

/* §1.2: command ids (sev_issue_cmd.cmd). */
enum {
        HWSEC_SEV_FACTORY_RESET = 0,
        HWSEC_SEV_PLATFORM_STATUS = 1,
        HWSEC_SEV_PEK_GEN = 2,
        HWSEC_SEV_PEK_CSR = 3,
        HWSEC_SEV_PDH_GEN = 4,
        HWSEC_SEV_PDH_CERT_EXPORT = 5,
        HWSEC_SEV_PEK_CERT_IMPORT = 6,
        HWSEC_SEV_GET_ID = 7,
        HWSEC_SEV_GET_ID2 = 8,
        HWSEC_SNP_PLATFORM_STATUS = 9,
        HWSEC_SNP_COMMIT = 10,
        HWSEC_SNP_SET_CONFIG = 11,
        HWSEC_SNP_VLEK_LOAD = 12,
        HWSEC_SEV_MAX = 13,
};

/* §1.3: SEV_PLATFORM_STATUS, 12 bytes. */
struct hwsec_sev_user_data_status {
        uint8_t api_major;
        uint8_t api_minor;
        uint8_t state;          /* 0 UNINIT, 1 INIT, 2 WORKING */
        uint32_t flags;
        uint8_t build;
        uint32_t guest_count;
} __attribute__((packed));

#define HWSEC_SEV_STATUS_FLAGS_OWNER     UINT32_C(0x001)   /* SEV API spec; UNVERIFIED in the kernel */
#define HWSEC_SEV_STATUS_FLAGS_CONFIG_ES UINT32_C(0x100)   /* the only bit the kernel names */

enum {
        HWSEC_SEV_STATE_UNINIT = 0,
        HWSEC_SEV_STATE_INIT = 1,
        HWSEC_SEV_STATE_WORKING = 2,
};

/* §1.4: SNP_PLATFORM_STATUS, 32 bytes. */
struct hwsec_sev_user_data_snp_status {
        uint8_t api_major;
        uint8_t api_minor;
        uint8_t state;          /* non-zero: SNP initialised */
        uint8_t rmp_flags;      /* bit 0 is_rmp_initialized, bits 7:1 reserved */
        uint32_t build_id;
        uint32_t feature_flags; /* HWSEC_SNP_* below, bits 31:7 reserved */
        uint32_t guest_count;
        uint64_t current_tcb_version;
        uint64_t reported_tcb_version;
} __attribute__((packed));

#define HWSEC_SNP_IS_RMP_INITIALIZED     UINT8_C(0x01)
#define HWSEC_SNP_RMP_FLAGS_RESERVED     UINT8_C(0xfe)

#define HWSEC_SNP_MASK_CHIP_ID           UINT32_C(0x01)
#define HWSEC_SNP_MASK_CHIP_KEY          UINT32_C(0x02)
#define HWSEC_SNP_VLEK_EN                UINT32_C(0x04)
#define HWSEC_SNP_FEATURE_INFO           UINT32_C(0x08)   /* v6.18 */
#define HWSEC_SNP_RAPL_DIS               UINT32_C(0x10)   /* v6.18 */
#define HWSEC_SNP_CIPHERTEXT_HIDING_CAP  UINT32_C(0x20)   /* v6.18 */
#define HWSEC_SNP_CIPHERTEXT_HIDING_EN   UINT32_C(0x40)   /* v6.18 */
#define HWSEC_SNP_FEATURE_FLAGS_RESERVED UINT32_C(0xffffff80)

/* §1.4 "other user structs": snp_config is issued by psp-ops.c (SNP_SET_CONFIG); vlek_load is not
 * issued by hwsecd, declared so that the simulator and the docs have one checked layout to refer to. */
struct hwsec_sev_user_data_snp_config {
        uint64_t reported_tcb;
        uint32_t flags;         /* bit 0 mask_chip_id, bit 1 mask_chip_key */
        uint8_t rsvd[52];
} __attribute__((packed));

struct hwsec_sev_user_data_snp_vlek_load {
        uint32_t len;           /* must be 16 */
        uint8_t vlek_wrapped_version;
        uint8_t rsvd[3];
        uint64_t vlek_wrapped_address;
} __attribute__((packed));

/* §1.5: firmware status codes (16 bits in sev_issue_cmd.error). */
enum {
        HWSEC_SEV_RET_SUCCESS = 0x00,
        HWSEC_SEV_RET_INVALID_PLATFORM_STATE = 0x01,
        HWSEC_SEV_RET_INVALID_GUEST_STATE = 0x02,
        HWSEC_SEV_RET_INVALID_CONFIG = 0x03,
        HWSEC_SEV_RET_INVALID_LEN = 0x04,
        HWSEC_SEV_RET_ALREADY_OWNED = 0x05,
        HWSEC_SEV_RET_INVALID_CERTIFICATE = 0x06,
        HWSEC_SEV_RET_POLICY_FAILURE = 0x07,
        HWSEC_SEV_RET_INACTIVE = 0x08,
        HWSEC_SEV_RET_INVALID_ADDRESS = 0x09,
        HWSEC_SEV_RET_BAD_SIGNATURE = 0x0a,
        HWSEC_SEV_RET_BAD_MEASUREMENT = 0x0b,
        HWSEC_SEV_RET_ASID_OWNED = 0x0c,
        HWSEC_SEV_RET_INVALID_ASID = 0x0d,
        HWSEC_SEV_RET_WBINVD_REQUIRED = 0x0e,
        HWSEC_SEV_RET_DFFLUSH_REQUIRED = 0x0f,
        HWSEC_SEV_RET_INVALID_GUEST = 0x10,
        HWSEC_SEV_RET_INVALID_COMMAND = 0x11,
        HWSEC_SEV_RET_ACTIVE = 0x12,
        HWSEC_SEV_RET_HWSEV_RET_PLATFORM = 0x13,
        HWSEC_SEV_RET_HWSEV_RET_UNSAFE = 0x14,
        HWSEC_SEV_RET_UNSUPPORTED = 0x15,
        HWSEC_SEV_RET_INVALID_PARAM = 0x16,
        HWSEC_SEV_RET_RESOURCE_LIMIT = 0x17,
        HWSEC_SEV_RET_SECURE_DATA_INVALID = 0x18,
        HWSEC_SEV_RET_INVALID_PAGE_SIZE = 0x19,
        HWSEC_SEV_RET_INVALID_PAGE_STATE = 0x1a,
        HWSEC_SEV_RET_INVALID_MDATA_ENTRY = 0x1b,
        HWSEC_SEV_RET_INVALID_PAGE_OWNER = 0x1c,
        HWSEC_SEV_RET_AEAD_OFLOW = 0x1d,
        /* 0x1e has no name */
        HWSEC_SEV_RET_EXIT_RING_BUFFER = 0x1f,
        HWSEC_SEV_RET_RMP_INIT_REQUIRED = 0x20,
        HWSEC_SEV_RET_BAD_SVN = 0x21,
        HWSEC_SEV_RET_BAD_VERSION = 0x22,
        HWSEC_SEV_RET_SHUTDOWN_REQUIRED = 0x23,
        HWSEC_SEV_RET_UPDATE_FAILED = 0x24,
        HWSEC_SEV_RET_RESTORE_REQUIRED = 0x25,
        HWSEC_SEV_RET_RMP_INITIALIZATION_FAILED = 0x26,
        HWSEC_SEV_RET_INVALID_KEY = 0x27,
};
#define HWSEC_SEV_RET_MASK 0xffffu

/* Sizes and offsets from kernel-interfaces.md §1.1, §1.3, §1.4. */
_Static_assert(sizeof(struct hwsec_sev_issue_cmd) == 16, "sev_issue_cmd is 16 bytes");
_Static_assert(offsetof(struct hwsec_sev_issue_cmd, cmd) == 0, "sev_issue_cmd.cmd @0");
_Static_assert(offsetof(struct hwsec_sev_issue_cmd, data) == 4, "sev_issue_cmd.data @4");
_Static_assert(offsetof(struct hwsec_sev_issue_cmd, error) == 12, "sev_issue_cmd.error @12");
_Static_assert(HWSEC_SEV_ISSUE_CMD == 0xC0105300u, "SEV_ISSUE_CMD is 0xC0105300");

_Static_assert(sizeof(struct hwsec_sev_user_data_status) == 12, "sev status is 12 bytes");
_Static_assert(offsetof(struct hwsec_sev_user_data_status, api_major) == 0, "api_major @0");
_Static_assert(offsetof(struct hwsec_sev_user_data_status, api_minor) == 1, "api_minor @1");
_Static_assert(offsetof(struct hwsec_sev_user_data_status, state) == 2, "state @2");
_Static_assert(offsetof(struct hwsec_sev_user_data_status, flags) == 3, "flags @3");
_Static_assert(offsetof(struct hwsec_sev_user_data_status, build) == 7, "build @7");
_Static_assert(offsetof(struct hwsec_sev_user_data_status, guest_count) == 8, "guest_count @8");

_Static_assert(sizeof(struct hwsec_sev_user_data_snp_status) == 32, "snp status is 32 bytes");
_Static_assert(offsetof(struct hwsec_sev_user_data_snp_status, api_major) == 0, "api_major @0");
_Static_assert(offsetof(struct hwsec_sev_user_data_snp_status, api_minor) == 1, "api_minor @1");
_Static_assert(offsetof(struct hwsec_sev_user_data_snp_status, state) == 2, "state @2");
_Static_assert(offsetof(struct hwsec_sev_user_data_snp_status, rmp_flags) == 3, "rmp flags @3");
_Static_assert(offsetof(struct hwsec_sev_user_data_snp_status, build_id) == 4, "build_id @4");
_Static_assert(offsetof(struct hwsec_sev_user_data_snp_status, feature_flags) == 8, "flags @8");
_Static_assert(offsetof(struct hwsec_sev_user_data_snp_status, guest_count) == 12, "guest_count @12");
_Static_assert(offsetof(struct hwsec_sev_user_data_snp_status, current_tcb_version) == 16, "current tcb @16");
_Static_assert(offsetof(struct hwsec_sev_user_data_snp_status, reported_tcb_version) == 24, "reported tcb @24");

_Static_assert(sizeof(struct hwsec_sev_user_data_snp_config) == 64, "snp config is 64 bytes");
_Static_assert(offsetof(struct hwsec_sev_user_data_snp_config, flags) == 8, "snp config flags @8");
_Static_assert(offsetof(struct hwsec_sev_user_data_snp_config, rsvd) == 12, "snp config rsvd @12");
_Static_assert(sizeof(struct hwsec_sev_user_data_snp_vlek_load) == 16, "vlek load is 16 bytes");
_Static_assert(offsetof(struct hwsec_sev_user_data_snp_vlek_load, vlek_wrapped_version) == 4, "vlek version @4");
_Static_assert(offsetof(struct hwsec_sev_user_data_snp_vlek_load, vlek_wrapped_address) == 8, "vlek address @8");

/* SEV_GET_ID2 (command 8), SNP_COMMIT (10) and SNP_SET_CONFIG (11): the operations hwsecd issues
 * itself (psp-ops.c), from kernel-interfaces.md §1.2 and §1.4 and sev-dev.c (≈6.11):
 *   GET_ID2     no writable check. -ENOTSUPP (524, a kernel-internal errno) when the firmware API
 *               is older than 0.16. address == 0 or length == 0 asks for the length: the firmware
 *               answers INVALID_LEN (-EIO) and the kernel writes the needed length back into
 *               length, as it does when the buffer is too small; on success length is the number
 *               of bytes written.
 *   SNP_COMMIT  no parameter struct (the kernel builds {u32 len}); no writable check; -EINVAL when
 *               SNP is not initialised.
 *   SET_CONFIG  -EINVAL when SNP is not initialised or data is NULL (checked first), then -EPERM
 *               when the fd was not opened for writing. */
struct hwsec_sev_user_data_get_id2 {
        uint64_t address;       /* in: user pointer to the id buffer, 0 to query the length */
        uint32_t length;        /* in: buffer size; out: the id's length (needed or written) */
} __attribute__((packed));

#define HWSEC_SEV_GET_ID2_LENGTH 64u            /* the id length every EPYC firmware reports */
#define HWSEC_KERNEL_ENOTSUPP 524               /* include/linux/errno.h, not a libc errno */

#define HWSEC_SNP_CONFIG_MASK_CHIP_ID  UINT32_C(0x01)
#define HWSEC_SNP_CONFIG_MASK_CHIP_KEY UINT32_C(0x02)
#define HWSEC_SNP_CONFIG_FLAGS_RESERVED UINT32_C(0xfffffffc)

_Static_assert(sizeof(struct hwsec_sev_user_data_get_id2) == 12, "get_id2 is 12 bytes");
_Static_assert(offsetof(struct hwsec_sev_user_data_get_id2, address) == 0, "get_id2 address @0");
_Static_assert(offsetof(struct hwsec_sev_user_data_get_id2, length) == 8, "get_id2 length @8");
_Static_assert(offsetof(struct hwsec_sev_user_data_snp_config, reported_tcb) == 0, "snp config reported_tcb @0");
_Static_assert(HWSEC_SEV_GET_ID2 == 8 && HWSEC_SNP_COMMIT == 10 && HWSEC_SNP_SET_CONFIG == 11,
               "command ids from kernel-interfaces.md §1.2");
