/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "macro.h"

/* Host files are opened with O_NONBLOCK|O_CLOEXEC|O_NOCTTY, so that a FIFO put in place of a
 * file can never block the daemon, then checked with fstat(): directories give -EISDIR, anything
 * else that is not a regular file (FIFO, socket, device) -EBADFD. O_NONBLOCK is cleared again
 * unless flags asked for it. Returns the fd. */
int open_regular_file(const char *path, int flags, mode_t mode);
/* 0 for a regular file, -EISDIR for a directory, -EBADFD for anything else. */
int fd_verify_regular(int fd);
/* strerror() that says "not a regular file" for -EBADFD as returned above. */
const char *file_error_to_string(int error);

/* Reads a whole regular file (at most max_size bytes; -EFBIG beyond; see open_regular_file()).
 * The result is NUL-terminated; *ret_size excludes the terminator. */
int read_full_file(const char *path, size_t max_size, char **ret, size_t *ret_size);
/* Reads the first line of a file, without the trailing newline. */
int read_one_line_file(const char *path, char **ret);
/* Joins dir and name with exactly one '/'. */
char *path_join(const char *dir, const char *name);

/* Writes data atomically: a temp file "<path>.tmp.<pid>" in the same directory, fsync, rename
 * over path, fsync the directory. mode is the new file's mode. Nobody ever sees a half-written
 * file; a crash between open and rename leaves the temp file behind (see below). */
#define TEMP_FILE_INFIX ".tmp."
int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode);
/* Removes the temp files write_file_atomic() left in dir for the file called name after a crash:
 * exactly "<name>.tmp.<pid>" where no process <pid> runs, regular files owned by us. Anything
 * else is left alone. Returns 0 or the last error; *ret_removed counts what went. A missing
 * directory is not an error. */
int remove_stale_temp_files(const char *dir, const char *name, unsigned *ret_removed);
/* mkdir -p with the given mode for missing components. */
int mkdir_p(const char *path, mode_t mode);

/* Strict number parsing: the whole string must be a number, no sign for unsigned ones,
 * -ERANGE on overflow, -EINVAL otherwise. base 0 accepts 0x… */
int safe_atou64(const char *s, unsigned base, uint64_t *ret);
int safe_atou32(const char *s, unsigned base, uint32_t *ret);
int safe_atoi64(const char *s, int64_t *ret);
/* "Y"/"N"/"1"/"0"/"yes"/"no"/"true"/"false"/"on"/"off" -> 1/0, else -EINVAL. */
int parse_boolean(const char *s);

/* Formats a message for a caller's "char **ret_error" out-parameter (which must be NULL or hold
 * an earlier message, which is replaced); ret may be NULL. Returns -abs(error), so parsers can
 * write "return error_message_set(ret_error, EINVAL, "…", …);". errno is kept, so %m works. */
int error_message_set(char **ret, int error, const char *fmt, ...) _printf_(3, 4);

/* Strips trailing whitespace in place. */
char *strstrip_trailing(char *s);
bool utf8_is_valid(const char *s);
