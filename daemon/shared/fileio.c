/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>

#include "fileio.h"

int strv_extend(char ***l, const char *value) {
        size_t n = strv_length(*l);
        char **t;
        char *v;

        v = strdup(value);
        if (!v)
                return -ENOMEM;
        t = realloc(*l, sizeof(char *) * (n + 2));
        if (!t) {
                free(v);
                return -ENOMEM;
        }
        t[n] = v;
        t[n + 1] = NULL;
        *l = t;
        return 1;
}

bool strv_contains(char * const *l, const char *s) {
        if (!l || !s)
                return false;
        for (size_t i = 0; l[i]; i++)
                if (streq(l[i], s))
                        return true;
        return false;
}

int fd_verify_regular(int fd) {
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        return 0;
}

int open_regular_file(const char *path, int flags, mode_t mode) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        /* O_NONBLOCK: opening a FIFO with no writer (or, for writing, no reader) would block
         * the event loop forever. Devices and FIFOs are refused once opened. */
        fd = open(path, flags | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, mode);
        if (fd < 0)
                return -errno;
        r = fd_verify_regular(fd);
        if (r < 0)
                return r;
        if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
                return -errno;
        return TAKE_FD(fd);
}

const char *file_error_to_string(int error) {
        if (abs(error) == EBADFD)
                return "not a regular file";
        return strerror(abs(error));
}

int read_full_file(const char *path, size_t max_size, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t n = 0, allocated = 0;

        fd = open_regular_file(path, O_RDONLY, 0);
        if (fd < 0)
                return fd;

        for (;;) {
                ssize_t k;

                if (n + 1 >= allocated) {
                        size_t want = allocated ? allocated * 2 : 4096;
                        char *t;

                        if (allocated >= max_size + 1)
                                return -EFBIG;
                        want = MIN(want, max_size + 2);
                        t = realloc(buf, want);
                        if (!t)
                                return -ENOMEM;
                        buf = t;
                        allocated = want;
                }
                k = read(fd, buf + n, allocated - n - 1);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
                if (n > max_size)
                        return -EFBIG;
        }

        if (!buf) {
                buf = malloc(1);
                if (!buf)
                        return -ENOMEM;
        }
        buf[n] = '\0';
        if (ret_size)
                *ret_size = n;
        *ret = TAKE_PTR(buf);
        return 0;
}

int read_one_line_file(const char *path, char **ret) {
        _cleanup_free_ char *buf = NULL;
        char *nl;
        int r;

        r = read_full_file(path, 64 * 1024, &buf, NULL);
        if (r < 0)
                return r;
        nl = strchr(buf, '\n');
        if (nl)
                *nl = '\0';
        *ret = TAKE_PTR(buf);
        return 0;
}

char *path_join(const char *dir, const char *name) {
        size_t dl = strlen(dir);
        char *p;

        while (dl > 1 && dir[dl - 1] == '/')
                dl--;
        while (*name == '/')
                name++;
        if (asprintf(&p, "%.*s/%s", (int) dl, dir, name) < 0)
                return NULL;
        return p;
}

static int fsync_directory_of(const char *path) {
        _cleanup_free_ char *dir = strdup(path);
        _cleanup_close_ int fd = -EBADF;
        char *slash;

        if (!dir)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        if (!slash)
                strcpy(dir, ".");
        else if (slash == dir)
                dir[1] = '\0';
        else
                *slash = '\0';

        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fsync(fd) < 0)
                return -errno;
        return 0;
}

int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *p = data;
        int r;

        if (asprintf(&tmp, "%s" TEMP_FILE_INFIX "%d", path, (int) getpid()) < 0)
                return -ENOMEM;

        /* A FIFO or device left under our temp name must neither block us nor be written to. */
        fd = open_regular_file(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode);
        if (fd < 0)
                return fd;

        while (size > 0) {
                ssize_t k = write(fd, p, size);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        goto fail;
                }
                p += k;
                size -= (size_t) k;
        }
        if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
                r = -errno;
                goto fail;
        }
        if (close(TAKE_FD(fd)) < 0) {
                r = -errno;
                goto fail;
        }
        if (rename(tmp, path) < 0) {
                r = -errno;
                goto fail;
        }
        /* The new contents are in place; a failed directory sync only weakens durability across
         * a power loss, so it is not reported as a failed write. */
        (void) fsync_directory_of(path);
        return 0;

fail:
        (void) unlink(tmp);
        return r;
}

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

/* "<name>.tmp.<pid>" with a pid that is not a running process (a live one, e.g. an hwsecd being
 * replaced, may be writing it right now). */
static bool is_stale_temp_name(const char *entry, const char *name) {
        size_t n = strlen(name), k = strlen(TEMP_FILE_INFIX);
        uint32_t pid;

        if (!strneq(entry, name, n) || !strneq(entry + n, TEMP_FILE_INFIX, k))
                return false;
        entry += n + k;
        if (!isdigit((unsigned char) entry[0]) || safe_atou32(entry, 10, &pid) < 0 || pid == 0 || pid > INT32_MAX)
                return false;
        if ((pid_t) pid == getpid())
                return false;
        return kill((pid_t) pid, 0) < 0 && errno == ESRCH;
}

int remove_stale_temp_files(const char *dir, const char *name, unsigned *ret_removed) {
        _cleanup_(closedirp) DIR *d = NULL;
        unsigned removed = 0;
        int r = 0;

        if (ret_removed)
                *ret_removed = 0;
        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;

        for (;;) {
                struct dirent *de;
                struct stat st;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                r = -errno;
                        break;
                }
                if (!is_stale_temp_name(de->d_name, name))
                        continue;
                /* Only our own leftovers: regular files owned by us, never what a symlink points to. */
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
                    st.st_uid != geteuid())
                        continue;
                if (unlinkat(dirfd(d), de->d_name, 0) < 0) {
                        if (errno != ENOENT)
                                r = -errno;
                        continue;
                }
                removed++;
        }
        if (ret_removed)
                *ret_removed = removed;
        return r;
}

int mkdir_p(const char *path, mode_t mode) {
        _cleanup_free_ char *p = NULL;

        if (isempty(path))
                return -EINVAL;
        p = strdup(path);
        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int safe_atou64(const char *s, unsigned base, uint64_t *ret) {
        unsigned long long v;
        char *end;

        if (isempty(s) || s[0] == '-' || s[0] == '+' || isspace((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, (int) base);
        if (errno == ERANGE)
                return -ERANGE;
        if (errno != 0 || end == s || *end != '\0')
                return -EINVAL;
        *ret = v;
        return 0;
}

int safe_atou32(const char *s, unsigned base, uint32_t *ret) {
        uint64_t v;
        int r;

        r = safe_atou64(s, base, &v);
        if (r < 0)
                return r;
        if (v > UINT32_MAX)
                return -ERANGE;
        *ret = (uint32_t) v;
        return 0;
}

int safe_atoi64(const char *s, int64_t *ret) {
        long long v;
        char *end;

        if (isempty(s) || isspace((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (errno != 0 || end == s || *end != '\0')
                return -EINVAL;
        *ret = v;
        return 0;
}

int parse_boolean(const char *s) {
        static const char * const yes[] = { "1", "y", "Y", "yes", "true", "on" };
        static const char * const no[] = { "0", "n", "N", "no", "false", "off" };

        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++)
                if (streq(s, yes[i]))
                        return 1;
        for (size_t i = 0; i < ELEMENTSOF(no); i++)
                if (streq(s, no[i]))
                        return 0;
        return -EINVAL;
}

int error_message_set(char **ret, int error, const char *fmt, ...) {
        int saved = errno;
        va_list ap;

        if (ret) {
                free(*ret);
                errno = saved;
                va_start(ap, fmt);
                if (vasprintf(ret, fmt, ap) < 0)
                        *ret = NULL;
                va_end(ap);
        }
        errno = saved;
        return -abs(error);
}

char *strstrip_trailing(char *s) {
        size_t n = strlen(s);

        while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
                s[--n] = '\0';
        return s;
}

bool utf8_is_valid(const char *s) {
        const unsigned char *p = (const unsigned char *) s;

        while (*p) {
                unsigned need;
                uint32_t cp;

                if (*p < 0x80) {
                        p++;
                        continue;
                } else if ((*p & 0xE0) == 0xC0) {
                        need = 1;
                        cp = *p & 0x1F;
                } else if ((*p & 0xF0) == 0xE0) {
                        need = 2;
                        cp = *p & 0x0F;
                } else if ((*p & 0xF8) == 0xF0) {
                        need = 3;
                        cp = *p & 0x07;
                } else
                        return false;
                p++;
                for (unsigned i = 0; i < need; i++, p++) {
                        if ((*p & 0xC0) != 0x80)
                                return false;
                        cp = (cp << 6) | (*p & 0x3F);
                }
                if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
                    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                        return false;
        }
        return true;
}
