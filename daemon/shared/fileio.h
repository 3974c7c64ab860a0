/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "macro.h"

/* Reads a whole file (at most max_size bytes; -EFBIG beyond). The result is NUL-terminated;
 * *ret_size excludes the terminator. */
int read_full_file(const char *path, size_t max_size, char **ret, size_t *ret_size);
/* Reads the first line of a file, without the trailing newline. */
int read_one_line_file(const char *path, char **ret);
/* Joins dir and name with exactly one '/'. */
char *path_join(const char *dir, const char *name);

/* Writes data atomically: a temp file in the same directory, fsync, rename over path, fsync the
 * directory. mode is the new file's mode. Nobody ever sees a half-written file. */
int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode);
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
