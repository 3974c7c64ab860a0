/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* /dev/sfs: the two ioctls on an open fd, and the names of what comes back.
 *
 * The SFS status codes are defined in AMD document 58604, which we have not read; the kernel
 * defines none. So only status 0 is named ("success"); every other value is shown in hex.
 * Kernel errnos have the meanings the uapi header and driver give them (sfs_errno_name()). */

#include <stdbool.h>
#include <stdint.h>

#include "sfs-uapi.h"
#include "sha256.h"

#define SFS_DEVICE_PATH "/dev/sfs"
#define SFS_MAX_STRINGS 32U

/* The result of one SFS ioctl. error is 0 or a negative errno. has_status is true when the
 * kernel copied the status words back (return 0, or -EIO). */
typedef struct SfsResult {
        int error;
        bool has_status;
        uint32_t status;
        uint32_t extended_status;
} SfsResult;

/* A printable ASCII run found in the version blob (offset, text). */
typedef struct SfsString {
        uint32_t offset;
        char *text;
} SfsString;

/* What we can say about the versions blob without knowing its format. */
typedef struct SfsVersions {
        uint8_t blob[SFS_VERSIONS_BLOB_SIZE];
        char sha256[SHA256_HEX_SIZE];
        uint32_t written_size;   /* offset after the last byte that is not the 0xC7 fill */
        SfsString *strings;      /* printable runs of at least SFS_MIN_STRING bytes */
        size_t n_strings;
        uint32_t status;
        uint32_t extended_status;
} SfsVersions;

#define SFS_MIN_STRING 4U

/* SFSIOCFWVERS on fd. On success (0) fills ret. On -EIO, *ret_result has the status words. */
int sfs_get_versions(int fd, SfsVersions *ret, SfsResult *ret_result);
/* Decodes a 4096-byte blob into v (sha256, written size, strings); status words left alone. */
int sfs_versions_decode(const uint8_t blob[SFS_VERSIONS_BLOB_SIZE], SfsVersions *v);
void sfs_versions_done(SfsVersions *v);

/* SFSIOCUPDATEPKG with a valid payload name (payload_name_valid()). Never returns before the
 * ioctl does: call it from a worker thread. */
int sfs_update_package(int fd, const char *payload_name, SfsResult *ret);

/* "success" for 0, else NULL (no other status code is publicly documented). */
const char *sfs_status_name(uint32_t status);
/* Name of a status word for display: the name if known, else "0x%08x". buf >= 16 bytes. */
const char *sfs_status_to_string(uint32_t status, char *buf, size_t size);
/* Symbolic name and a sentence for an errno from /dev/sfs (positive errno). */
const char *sfs_errno_name(int error);
const char *sfs_errno_meaning(int error);
