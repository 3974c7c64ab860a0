/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* SHA-256 (FIPS 180-4). Small and dependency-free: the core library has no crypto library. */

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32U
#define SHA256_HEX_SIZE (SHA256_DIGEST_SIZE * 2U + 1U)

typedef struct Sha256 {
        uint32_t h[8];
        uint64_t length;        /* bytes hashed so far */
        uint8_t buffer[64];
        size_t buffered;
} Sha256;

void sha256_init(Sha256 *s);
void sha256_update(Sha256 *s, const void *data, size_t size);
void sha256_final(Sha256 *s, uint8_t ret[SHA256_DIGEST_SIZE]);

/* One-shot helpers. ret_hex gets 64 lowercase hex digits and a NUL. */
void sha256_buffer(const void *data, size_t size, uint8_t ret[SHA256_DIGEST_SIZE]);
void sha256_to_hex(const uint8_t digest[SHA256_DIGEST_SIZE], char ret_hex[SHA256_HEX_SIZE]);
void sha256_buffer_hex(const void *data, size_t size, char ret_hex[SHA256_HEX_SIZE]);
/* True when s is exactly 64 lowercase hex digits. */
int sha256_hex_valid(const char *s);
