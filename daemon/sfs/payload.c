/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "fileio.h"
#include "payload.h"

PayloadError payload_name_check(const char *name, size_t size) {
        bool dots_only = true, bad = false;

        if (!name || size == 0)
                return PAYLOAD_NAME_EMPTY;
        if (memchr(name, '\0', size))
                return PAYLOAD_NAME_NUL;
        if (size > PAYLOAD_NAME_MAX)
                return PAYLOAD_NAME_TOO_LONG;
        for (size_t i = 0; i < size; i++) {
                unsigned char c = (unsigned char) name[i];

                if (c >= 0x80) {
                        _cleanup_free_ char *copy = strndup(name, size);
                        if (!copy || !utf8_is_valid(copy))
                                return PAYLOAD_NAME_NOT_UTF8;
                        bad = true;
                        continue;
                }
                if (c == '/')
                        return PAYLOAD_NAME_SLASH;
                if (c != '.')
                        dots_only = false;
                if (!(isalnum(c) || c == '.' || c == '_' || c == '-'))
                        bad = true;
        }
        if (bad)
                return PAYLOAD_NAME_BAD_CHAR;
        if (dots_only && size <= 2)
                return PAYLOAD_NAME_DOTS;
        if (size >= strlen(PAYLOAD_STAGE_PREFIX) && strneq(name, PAYLOAD_STAGE_PREFIX, strlen(PAYLOAD_STAGE_PREFIX)))
                return PAYLOAD_NAME_RESERVED;
        return PAYLOAD_OK;
}

static const char * const payload_error_table[_PAYLOAD_ERROR_MAX] = {
        [PAYLOAD_OK] = "the package is acceptable",
        [PAYLOAD_NAME_EMPTY] = "the package name is empty",
        [PAYLOAD_NAME_TOO_LONG] = "the package name is longer than 63 bytes",
        [PAYLOAD_NAME_NUL] = "the package name contains a NUL byte",
        [PAYLOAD_NAME_NOT_UTF8] = "the package name is not valid UTF-8",
        [PAYLOAD_NAME_SLASH] = "the package name contains '/'; it must be a single file name",
        [PAYLOAD_NAME_DOTS] = "the package name may not be '.' or '..'",
        [PAYLOAD_NAME_BAD_CHAR] = "the package name may contain only letters, digits, '.', '_' and '-'",
        [PAYLOAD_NAME_RESERVED] = "names starting with \"" PAYLOAD_STAGE_PREFIX "\" are reserved for hwsecd's "
                                  "temporary files",
        [PAYLOAD_NOT_FOUND] = "no such package in the firmware directory",
        [PAYLOAD_SYMLINK] = "the package is a symbolic link; it must be a regular file",
        [PAYLOAD_NOT_REGULAR] = "the package is not a regular file",
        [PAYLOAD_TOO_LARGE] = "the package is larger than 2093056 bytes (2 MiB - 4 KiB), the most the SFS buffer takes",
        [PAYLOAD_NOT_ALLOWED] = "the package's sha256 is not on the [Firmware] AllowedSha256= list",
        [PAYLOAD_EXISTS] = "a different package with this name is already staged",
        [PAYLOAD_IO] = "the package could not be read or written",
};

const char *payload_error_to_string(PayloadError e) {
        if ((unsigned) e >= _PAYLOAD_ERROR_MAX)
                return "unknown package error";
        return payload_error_table[e];
}

int payload_error_to_errno(PayloadError e) {
        switch (e) {
        case PAYLOAD_OK:
                return 0;
        case PAYLOAD_NOT_FOUND:
                return -ENOENT;
        case PAYLOAD_SYMLINK:
                return -ELOOP;
        case PAYLOAD_NOT_REGULAR:
                return -EBADFD;
        case PAYLOAD_TOO_LARGE:
                return -EFBIG;
        case PAYLOAD_NOT_ALLOWED:
                return -EPERM;
        case PAYLOAD_EXISTS:
                return -EEXIST;
        case PAYLOAD_IO:
                return -EIO;
        default:
                return -EINVAL;
        }
}

int payload_allow_list_parse(char * const *values, char ***ret, char **ret_bad) {
        _cleanup_strv_free_ char **l = NULL;

        *ret_bad = NULL;
        STRV_FOREACH(v, (char **) values) {
                _cleanup_free_ char *copy = strdup(*v);
                char *save = NULL;

                if (!copy)
                        return -ENOMEM;
                for (char *t = strtok_r(copy, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
                        for (char *p = t; *p; p++)
                                *p = (char) tolower((unsigned char) *p);
                        if (!sha256_hex_valid(t)) {
                                *ret_bad = strdup(t);
                                return -EINVAL;
                        }
                        if (!strv_contains(l, t) && strv_extend(&l, t) < 0)
                                return -ENOMEM;
                }
        }
        if (!l) {
                l = calloc(1, sizeof(char *));
                if (!l)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

bool payload_allowed(char * const *allow, const char *sha) {
        return strv_length(allow) == 0 || strv_contains(allow, sha);
}

static int open_amd_dir(const char *firmware_dir, bool create) {
        _cleanup_free_ char *p = path_join(firmware_dir, PAYLOAD_SUBDIR);
        int fd;

        if (!p)
                return -ENOMEM;
        /* The firmware directory itself may legitimately be reached through symlinks
         * (/lib -> usr/lib); the package below it may not. */
        if (create) {
                int r = mkdir_p(p, 0755);
                if (r < 0)
                        return r;
        }
        fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

/* Hashes an open regular file of at most the maximum size; -EFBIG if it grew. */
static int hash_fd(int fd, uint64_t *ret_size, char ret_hex[SHA256_HEX_SIZE], uint8_t **ret_data) {
        _cleanup_free_ uint8_t *buf = NULL;
        uint8_t digest[SHA256_DIGEST_SIZE];
        size_t n = 0;

        buf = malloc(SFS_MAX_PAYLOAD_FILE_SIZE + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k = pread(fd, buf + n, SFS_MAX_PAYLOAD_FILE_SIZE + 1 - n, (off_t) n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
                if (n > SFS_MAX_PAYLOAD_FILE_SIZE)
                        return -EFBIG;
        }
        sha256_buffer(buf, n, digest);
        sha256_to_hex(digest, ret_hex);
        *ret_size = n;
        if (ret_data)
                *ret_data = TAKE_PTR(buf);
        return 0;
}

static PayloadError check_fd(int fd, char * const *allow, PayloadInfo *info, uint8_t **ret_data, int *ret_errno) {
        struct stat st;
        int r;

        if (fstat(fd, &st) < 0) {
                *ret_errno = errno;
                return PAYLOAD_IO;
        }
        if (S_ISLNK(st.st_mode))
                return PAYLOAD_SYMLINK;
        if (!S_ISREG(st.st_mode))
                return PAYLOAD_NOT_REGULAR;
        if ((uint64_t) st.st_size > SFS_MAX_PAYLOAD_FILE_SIZE)
                return PAYLOAD_TOO_LARGE;
        r = hash_fd(fd, &info->size, info->sha256, ret_data);
        if (r == -EFBIG)
                return PAYLOAD_TOO_LARGE;
        if (r < 0) {
                *ret_errno = -r;
                return PAYLOAD_IO;
        }
        if (!payload_allowed(allow, info->sha256))
                return PAYLOAD_NOT_ALLOWED;
        return PAYLOAD_OK;
}

PayloadError payload_inspect(const char *firmware_dir, const char *name, char * const *allow,
                             PayloadInfo *ret, int *ret_errno) {
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        PayloadInfo info = {};
        PayloadError e;
        int dummy;

        if (!ret_errno)
                ret_errno = &dummy;
        *ret_errno = 0;
        e = payload_name_check(name, strlen(name));
        if (e != PAYLOAD_OK)
                return e;
        dfd = open_amd_dir(firmware_dir, false);
        if (dfd == -ENOENT)
                return PAYLOAD_NOT_FOUND;
        if (dfd < 0) {
                *ret_errno = -dfd;
                return PAYLOAD_IO;
        }
        /* O_NONBLOCK so that opening a fifo does not wait for a writer; O_NOFOLLOW gives ELOOP
         * on a symlink, O_PATH-free so fstat sees what was opened. */
        fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                if (errno == ENOENT)
                        return PAYLOAD_NOT_FOUND;
                if (errno == ELOOP)
                        return PAYLOAD_SYMLINK;
                if (errno == ENXIO || errno == EISDIR)
                        return PAYLOAD_NOT_REGULAR;
                *ret_errno = errno;
                return PAYLOAD_IO;
        }
        e = check_fd(fd, allow, &info, NULL, ret_errno);
        if (e != PAYLOAD_OK)
                return e;
        strcpy(info.name, name);
        *ret = info;
        return PAYLOAD_OK;
}

static int write_all(int fd, const uint8_t *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

PayloadError payload_read_fd(int fd, char * const *allow, PayloadInfo *ret, uint8_t **ret_data, int *ret_errno) {
        *ret_errno = 0;
        *ret = (PayloadInfo) {};
        return check_fd(fd, allow, ret, ret_data, ret_errno);
}

PayloadError payload_stage_data(const char *firmware_dir, const char *name, const PayloadInfo *info,
                                const uint8_t *data, bool *ret_already, int *ret_errno) {
        _cleanup_close_ int dfd = -EBADF, tfd = -EBADF;
        char tmp[sizeof(PAYLOAD_STAGE_PREFIX) + 16];
        PayloadInfo existing;
        PayloadError e;
        uint64_t rnd = 0;
        int r;

        *ret_errno = 0;
        *ret_already = false;
        e = payload_name_check(name, strlen(name));
        if (e != PAYLOAD_OK)
                return e;

        /* Same content already there: nothing to do. */
        e = payload_inspect(firmware_dir, name, NULL, &existing, ret_errno);
        if (e == PAYLOAD_OK) {
                if (!streq(existing.sha256, info->sha256))
                        return PAYLOAD_EXISTS;
                *ret_already = true;
                return PAYLOAD_OK;
        }
        if (e != PAYLOAD_NOT_FOUND) {
                /* A symlink, fifo or directory of that name: we do not replace it. */
                return e == PAYLOAD_IO ? e : PAYLOAD_EXISTS;
        }

        dfd = open_amd_dir(firmware_dir, true);
        if (dfd < 0) {
                *ret_errno = -dfd;
                return PAYLOAD_IO;
        }
        (void) getrandom(&rnd, sizeof rnd, GRND_NONBLOCK);
        snprintf(tmp, sizeof tmp, PAYLOAD_STAGE_PREFIX "%016llx", (unsigned long long) rnd);
        tfd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (tfd < 0) {
                *ret_errno = errno;
                return PAYLOAD_IO;
        }
        r = write_all(tfd, data, info->size);
        if (r >= 0 && fsync(tfd) < 0)
                r = -errno;
        if (r >= 0 && linkat(dfd, tmp, dfd, name, 0) < 0)
                r = -errno;
        (void) unlinkat(dfd, tmp, 0);
        if (r == -EEXIST)
                return PAYLOAD_EXISTS;
        if (r < 0) {
                *ret_errno = -r;
                return PAYLOAD_IO;
        }
        (void) fsync(dfd);
        return PAYLOAD_OK;
}

PayloadError payload_stage(const char *firmware_dir, const char *name, int src_fd, char * const *allow,
                           PayloadInfo *ret, bool *ret_already, int *ret_errno) {
        _cleanup_free_ uint8_t *data = NULL;
        PayloadInfo info;
        PayloadError e;

        *ret_errno = 0;
        *ret_already = false;
        e = payload_name_check(name, strlen(name));
        if (e != PAYLOAD_OK)
                return e;
        e = payload_read_fd(src_fd, allow, &info, &data, ret_errno);
        if (e != PAYLOAD_OK)
                return e;
        strcpy(info.name, name);
        e = payload_stage_data(firmware_dir, name, &info, data, ret_already, ret_errno);
        if (e != PAYLOAD_OK)
                return e;
        *ret = info;
        return PAYLOAD_OK;
}

int payload_cleanup_stale(const char *firmware_dir) {
        _cleanup_close_ int dfd = open_amd_dir(firmware_dir, false);
        DIR *d;
        struct dirent *de;
        int n = 0;

        if (dfd < 0)
                return dfd == -ENOENT ? 0 : dfd;
        d = fdopendir(dfd);
        if (!d)
                return -errno;
        dfd = -EBADF; /* owned by d now */
        while ((de = readdir(d)))
                if (strneq(de->d_name, PAYLOAD_STAGE_PREFIX, strlen(PAYLOAD_STAGE_PREFIX)) &&
                    unlinkat(dirfd(d), de->d_name, 0) >= 0)
                        n++;
        closedir(d);
        return n;
}
