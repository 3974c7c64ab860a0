/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Tiny assertion helpers shared by the test-sfs-*.c unit tests. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned sfs_checks;

#define check(expr)                                                                     \
        do {                                                                            \
                sfs_checks++;                                                           \
                if (!(expr)) {                                                          \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
                        exit(EXIT_FAILURE);                                             \
                }                                                                       \
        } while (0)

#define check_streq(a, b)                                                               \
        do {                                                                            \
                const char *_a = (a), *_b = (b);                                        \
                sfs_checks++;                                                           \
                if (!_a || !_b || strcmp(_a, _b) != 0) {                                \
                        fprintf(stderr, "%s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__,  \
                                _a ? _a : "(null)", _b ? _b : "(null)");                \
                        exit(EXIT_FAILURE);                                             \
                }                                                                       \
        } while (0)

#define check_done(name) fprintf(stderr, "%s: %u checks passed\n", name, sfs_checks)
