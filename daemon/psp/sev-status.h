/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Decoding of the /dev/sev status answers and naming of every error a status query can end in.
 * Pure functions on bytes (the fuzzer drives them), plus sev_query_status() which does the
 * ioctls on a read-only fd. No sd-bus here. */

#include <json-c/json.h>

#include "macro.h"
#include "tcb.h"

typedef struct SevStatus {
        uint8_t api_major, api_minor;
        uint8_t state;                  /* raw value; sev_state_to_string() names it */
        uint32_t flags;
        bool owner;                     /* flags bit 0 (SEV API spec) */
        bool config_es;                 /* flags bit 8 */
        uint32_t flags_unknown;         /* bits other than 0 and 8 */
        uint8_t build;
        uint32_t guest_count;
} SevStatus;

typedef struct SnpStatus {
        uint8_t api_major, api_minor;
        uint8_t state;                  /* raw value; non-zero means initialised */
        bool is_rmp_initialized;
        uint8_t rmp_flags_reserved;     /* bits 7:1 of byte 3 */
        uint32_t build_id;
        bool mask_chip_id, mask_chip_key, vlek_en;
        bool feature_info, rapl_dis, ciphertext_hiding_cap, ciphertext_hiding_en;
        uint32_t flags_reserved;        /* bits 31:7 of the u32 at offset 8 */
        uint32_t guest_count;
        uint64_t current_tcb, reported_tcb;
} SnpStatus;

/* Decode the raw answers. -EBADMSG when size is not exactly the struct's size. */
int sev_status_decode(const void *buf, size_t size, SevStatus *ret);
int snp_status_decode(const void *buf, size_t size, SnpStatus *ret);

/* "uninit", "init", "working", or "invalid" for values the API does not define. */
const char *sev_state_to_string(uint8_t state);
/* "uninit" for 0, "init" otherwise. */
const char *snp_state_to_string(uint8_t state);
bool snp_status_initialized(const SnpStatus *s);

/* Firmware status codes (§1.5). The name without the SEV_RET_ prefix ("INVALID_PLATFORM_STATE"),
 * NULL for a code with no name. sev_ret_describe() always gives a sentence. */
const char *sev_ret_to_name(uint32_t code);
const char *sev_ret_describe(uint32_t code);

/* How one status query ended. */
typedef enum SevQueryKind {
        SEV_QUERY_SEV,
        SEV_QUERY_SNP,
} SevQueryKind;

typedef struct SevError {
        int error;              /* 0, or a negative errno */
        uint32_t fw_code;       /* firmware code when error == -EIO and the firmware answered */
        char name[48];          /* "INVALID_PLATFORM_STATE", "SNP_NOT_INITIALIZED", "ACCESS_DENIED", … */
        char message[320];      /* a sentence a person can act on */
} SevError;

/* Names an error (never a bare errno). kind selects the meaning of EINVAL (on SNP status:
 * "SNP not initialised on this kernel"). For error == 0 name and message are empty. */
void sev_error_set(SevError *e, SevQueryKind kind, int error, uint32_t fw_code);

typedef struct SevPlatform {
        int open_error;                 /* 0, or the negative errno of open() (then both errors say so) */
        bool sev_valid;
        SevStatus sev;
        SevError sev_error;
        bool snp_valid;
        SnpStatus snp;
        SevError snp_error;
} SevPlatform;

/* Opens dev_path read-only (O_RDONLY|O_CLOEXEC) and issues SEV_PLATFORM_STATUS and
 * SNP_PLATFORM_STATUS. Failures are recorded in ret (with names), the function itself only
 * fails on a programming error. */
void sev_query_platform(const char *dev_path, SevPlatform *ret);

/* JSON renderings used by Describe() and hwsecctl (tcb layout from the CPU family). */
json_object *sev_status_to_json(const SevStatus *s);
json_object *snp_status_to_json(const SnpStatus *s, TcbLayout layout);
