/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* SFS packages: the names the kernel will load as amd/<name>, the files behind them, and the
 * optional sha256 allow-list ([Firmware] AllowedSha256=).
 *
 * A name is one path component of letters, digits, '.', '_' and '-', 1..63 bytes, not "." or
 * "..", and not starting with PAYLOAD_STAGE_PREFIX (hwsecd's own temporary files, removed at start).
 * The file is <firmware dir>/amd/<name>, opened with openat(O_NOFOLLOW) on the directory,
 * a regular file of at most SFS_MAX_PAYLOAD_FILE_SIZE (2 MiB - 4 KiB = 2 093 056) bytes: the
 * kernel rounds file size + 4 KiB up to 64 KiB and refuses more than 2 MiB. */

#include "macro.h"
#include "sfs-uapi.h"
#include "sha256.h"

#define PAYLOAD_NAME_MAX (SFS_PAYLOAD_NAME_SIZE - 1U)
#define PAYLOAD_SUBDIR "amd"
#define PAYLOAD_STAGE_PREFIX ".hwsecd-stage-"

typedef enum PayloadError {
        PAYLOAD_OK,
        PAYLOAD_NAME_EMPTY,
        PAYLOAD_NAME_TOO_LONG,
        PAYLOAD_NAME_NUL,
        PAYLOAD_NAME_NOT_UTF8,
        PAYLOAD_NAME_SLASH,
        PAYLOAD_NAME_DOTS,
        PAYLOAD_NAME_BAD_CHAR,
        PAYLOAD_NAME_RESERVED,
        PAYLOAD_NOT_FOUND,
        PAYLOAD_SYMLINK,
        PAYLOAD_NOT_REGULAR,
        PAYLOAD_TOO_LARGE,
        PAYLOAD_NOT_ALLOWED,
        PAYLOAD_EXISTS,
        PAYLOAD_IO,
        _PAYLOAD_ERROR_MAX,
} PayloadError;

typedef struct PayloadInfo {
        char name[SFS_PAYLOAD_NAME_SIZE];
        char sha256[SHA256_HEX_SIZE];
        uint64_t size;
} PayloadInfo;

/* Checks a name of size bytes (it may contain NULs: D-Bus strings cannot, fuzzers can).
 * Returns PAYLOAD_OK or the first rule it breaks. */
PayloadError payload_name_check(const char *name, size_t size);
/* A sentence for an error ("the name contains '/'"). */
const char *payload_error_to_string(PayloadError e);
/* The negative errno that goes with an error (-EINVAL, -ENOENT, -ELOOP, -EFBIG, -EPERM…). */
int payload_error_to_errno(PayloadError e);

/* Parses the allow-list values (each value may hold several sha256 separated by whitespace or
 * commas; upper case is accepted). On a bad entry returns -EINVAL and *ret_bad names it. */
int payload_allow_list_parse(char * const *values, char ***ret, char **ret_bad);
/* True when the list is empty (no allow-list) or holds sha. */
bool payload_allowed(char * const *allow, const char *sha);

/* Opens <firmware_dir>/amd/<name> as described above, hashes it, checks the allow-list.
 * Returns PAYLOAD_OK with *ret filled, else an error (errno in *ret_errno for PAYLOAD_IO). */
PayloadError payload_inspect(const char *firmware_dir, const char *name, char * const *allow,
                             PayloadInfo *ret, int *ret_errno);

/* Copies the regular file open at src_fd into <firmware_dir>/amd/<name> atomically (temp
 * file, fsync, link without replacing, fsync dir), with the same checks. A file of that name
 * with the same content is fine (nothing written, *ret_already = true); a different one is
 * PAYLOAD_EXISTS. Nothing is left behind on any error. */
PayloadError payload_stage(const char *firmware_dir, const char *name, int src_fd, char * const *allow,
                           PayloadInfo *ret, bool *ret_already, int *ret_errno);

/* The two halves of payload_stage(). payload_read_fd() is the only one that touches the caller's
 * file: fstat, regular file of at most the maximum size, read (at most that many bytes plus one)
 * and hash, allow-list. It may block for as long as the file's filesystem does, so hwsecd runs
 * it off the event loop. payload_stage_data() writes what was read (info->size bytes of data). */
PayloadError payload_read_fd(int fd, char * const *allow, PayloadInfo *ret, uint8_t **ret_data, int *ret_errno);
PayloadError payload_stage_data(const char *firmware_dir, const char *name, const PayloadInfo *info,
                                const uint8_t *data, bool *ret_already, int *ret_errno);

/* Removes temp files a killed stage left behind. Returns how many were removed. */
int payload_cleanup_stale(const char *firmware_dir);
