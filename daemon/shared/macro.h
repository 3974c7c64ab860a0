/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Small helpers used everywhere: cleanup attributes, array sizes, safe frees.
 * Deliberately free of sd-bus so the core library stays bus-agnostic. */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _pure_ __attribute__((pure))
#define _const_ __attribute__((const))
#define _likely_(x) (__builtin_expect(!!(x), 1))
#define _unlikely_(x) (__builtin_expect(!!(x), 0))
#define _warn_unused_result_ __attribute__((warn_unused_result))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define streq(a, b) (strcmp((a), (b)) == 0)
#define strneq(a, b, n) (strncmp((a), (b), (n)) == 0)
#define isempty(s) (!(s) || (s)[0] == '\0')
#define strna(s) ((s) ?: "n/a")
#define strempty(s) ((s) ?: "")
#define yes_no(b) ((b) ? "yes" : "no")

#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                 \
        static inline void func##p(type *p) {                   \
                if (*p)                                         \
                        func(*p);                               \
        }

static inline void freep(void *p) {
        free(*(void **) p);
}

static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}

static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}

static inline void strv_free(char **l) {
        if (!l)
                return;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_strv_free_ _cleanup_(strv_freep)

/* Take ownership out of a _cleanup_ variable. */
#define TAKE_PTR(p)                             \
        ({                                      \
                typeof(p) _tmp_ = (p);          \
                (p) = NULL;                     \
                _tmp_;                          \
        })
#define TAKE_FD(fd)                             \
        ({                                      \
                int _tmp_ = (fd);               \
                (fd) = -EBADF;                  \
                _tmp_;                          \
        })

static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

/* Replace *dst with a copy of src (which may be NULL). Returns 0 or -ENOMEM. */
static inline int free_and_strdup(char **dst, const char *src) {
        char *t = NULL;
        if (src) {
                t = strdup(src);
                if (!t)
                        return -ENOMEM;
        }
        free(*dst);
        *dst = t;
        return 0;
}

static inline size_t strv_length(char * const *l) {
        size_t n = 0;
        if (l)
                while (l[n])
                        n++;
        return n;
}

static inline bool strv_isempty(char * const *l) {
        return !l || !l[0];
}

#define STRV_FOREACH(s, l) for (char **s = (l); s && *s; s++)

#define USEC_PER_SEC ((uint64_t) 1000000ULL)
#define USEC_PER_MSEC ((uint64_t) 1000ULL)
#define NSEC_PER_USEC ((uint64_t) 1000ULL)

/* The time on clock in microseconds (systemd's now()). */
static inline uint64_t now(clockid_t clock) {
        struct timespec ts;

        clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

/* Returns the number of elements appended (1) or -ENOMEM. *l may be NULL. */
int strv_extend(char ***l, const char *value);
bool strv_contains(char * const *l, const char *s);
