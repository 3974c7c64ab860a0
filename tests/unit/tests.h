/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Tiny assertion helpers for the C unit tests: a failed assertion prints where and what, and
 * exits non-zero. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_FAIL(fmt, ...)                                                                       \
        do {                                                                                      \
                fprintf(stderr, "%s:%d: %s: " fmt "\n", __FILE__, __LINE__, __func__, ##__VA_ARGS__); \
                exit(EXIT_FAILURE);                                                               \
        } while (0)

#define ASSERT_TRUE(expr)                                   \
        do {                                                \
                if (!(expr))                                \
                        TEST_FAIL("assertion failed: %s", #expr); \
        } while (0)
#define ASSERT_OK(expr)                                                              \
        do {                                                                         \
                long long _r = (long long) (expr);                                   \
                if (_r < 0)                                                          \
                        TEST_FAIL("%s failed: %lld (%s)", #expr, _r, strerror((int) -_r)); \
        } while (0)
#define ASSERT_EQ(a, b)                                                                          \
        do {                                                                                     \
                long long _a = (long long) (a), _b = (long long) (b);                            \
                if (_a != _b)                                                                    \
                        TEST_FAIL("%s == %s failed: %lld != %lld", #a, #b, _a, _b);               \
        } while (0)
#define ASSERT_STREQ(a, b)                                                                         \
        do {                                                                                       \
                const char *_a = (a), *_b = (b);                                                   \
                if (!_a || !_b || strcmp(_a, _b) != 0)                                             \
                        TEST_FAIL("%s == %s failed: \"%s\" != \"%s\"", #a, #b, _a ?: "(null)", _b ?: "(null)"); \
        } while (0)
#define ASSERT_NULL(p) ASSERT_TRUE((p) == NULL)
#define ASSERT_NOT_NULL(p) ASSERT_TRUE((p) != NULL)
