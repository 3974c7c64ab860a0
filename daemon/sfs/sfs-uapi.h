/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Our own definitions of the /dev/sfs user API (Linux v6.18, include/uapi/linux/psp-sfs.h),
 * written from docs/firmware.md and the kernel-interfaces reference §6. Debian 12's headers do
 * not have them. Every size and offset is checked at compile time. */

#include <stddef.h>
#include <stdint.h>

#define SFS_PAYLOAD_NAME_SIZE      64U
#define SFS_VERSIONS_BLOB_SIZE     4096U
#define SFS_VERSIONS_FILL_BYTE     0xC7U     /* the kernel pre-fills the page with this */
#define SFS_MAX_PACKAGE_SIZE       (2U * 1024U * 1024U)  /* round_up(file + 4 KiB, 64 KiB) <= 2 MiB */
#define SFS_MAX_PAYLOAD_FILE_SIZE  (SFS_MAX_PACKAGE_SIZE - 4096U)  /* 2 093 056 bytes */

struct sfs_user_get_fw_versions {
        uint8_t blob[SFS_VERSIONS_BLOB_SIZE];   /* out */
        uint32_t sfs_status;                    /* out */
        uint32_t sfs_extended_status;           /* out */
} __attribute__((packed));

struct sfs_user_update_package {
        char payload_name[SFS_PAYLOAD_NAME_SIZE];  /* in, NUL-terminated */
        uint32_t sfs_status;                       /* out */
        uint32_t sfs_extended_status;              /* out */
} __attribute__((packed));

/* _IOWR('S', 1, struct sfs_user_get_fw_versions) and _IOWR('S', 2, struct sfs_user_update_package) */
#define SFSIOCFWVERS    0xD0085301U
#define SFSIOCUPDATEPKG 0xC0485302U

_Static_assert(sizeof(struct sfs_user_get_fw_versions) == 4104, "sfs_user_get_fw_versions size");
_Static_assert(offsetof(struct sfs_user_get_fw_versions, blob) == 0, "blob offset");
_Static_assert(offsetof(struct sfs_user_get_fw_versions, sfs_status) == 4096, "sfs_status offset");
_Static_assert(offsetof(struct sfs_user_get_fw_versions, sfs_extended_status) == 4100, "ext offset");
_Static_assert(sizeof(struct sfs_user_update_package) == 72, "sfs_user_update_package size");
_Static_assert(offsetof(struct sfs_user_update_package, payload_name) == 0, "payload_name offset");
_Static_assert(offsetof(struct sfs_user_update_package, sfs_status) == 64, "sfs_status offset");
_Static_assert(offsetof(struct sfs_user_update_package, sfs_extended_status) == 68, "ext offset");

/* The ioctl numbers, recomputed from the _IOC encoding: dir (2 bits, read|write = 3) << 30,
 * size (14 bits) << 16, type 'S' << 8, nr. */
#define SFS_IOC(nr, size) ((3U << 30) | ((uint32_t) (size) << 16) | ((uint32_t) 'S' << 8) | (nr))
_Static_assert(SFS_IOC(1, sizeof(struct sfs_user_get_fw_versions)) == SFSIOCFWVERS, "SFSIOCFWVERS");
_Static_assert(SFS_IOC(2, sizeof(struct sfs_user_update_package)) == SFSIOCUPDATEPKG, "SFSIOCUPDATEPKG");
_Static_assert(SFS_MAX_PAYLOAD_FILE_SIZE == 2093056, "largest payload file");
