/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Tiny check macros for the asid unit tests: every failed check is printed, the test exits 1. */

#include <stdio.h>

static unsigned test_failures_;
static unsigned test_checks_;

#define CHECK_MSG(expr, ...)                                                    \
        do {                                                                    \
                test_checks_++;                                                 \
                if (!(expr)) {                                                  \
                        test_failures_++;                                       \
                        fprintf(stderr, "%s:%d: FAILED: %s: ", __FILE__, __LINE__, #expr); \
                        fprintf(stderr, __VA_ARGS__);                           \
                        fputc('\n', stderr);                                    \
                }                                                               \
        } while (0)

#define CHECK(expr) CHECK_MSG(expr, "%s", "")

static inline int test_result(void) {
        fflush(stderr);
        printf("%u checks, %u failed\n", test_checks_, test_failures_);
        return test_failures_ ? 1 : 0;
}
