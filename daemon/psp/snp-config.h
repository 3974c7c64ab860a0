/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The SNP platform configuration (SNP_SET_CONFIG, kernel-interfaces.md §1.4): the TCB version the
 * firmware puts in guests' attestation reports and the two mask bits. Parsing and validation of a
 * request, before anything is sent; pure functions (the fuzzer drives them). No sd-bus. */

#include "macro.h"
#include "psp-sev.h"
#include "sev-status.h"
#include "tcb.h"

typedef struct SnpConfig {
        uint64_t reported_tcb;
        bool mask_chip_id;      /* guests' reports carry a zero CHIP_ID */
        bool mask_chip_key;     /* reports are not signed with the VCEK */
} SnpConfig;

/* To and from the kernel's 64-byte struct. Decoding refuses (-EBADMSG) a wrong size, reserved
 * flag bits and non-zero reserved bytes. */
void snp_config_encode(const SnpConfig *c, struct hwsec_sev_user_data_snp_config *ret);
int snp_config_decode(const void *buf, size_t size, SnpConfig *ret);

/* Parses a reported_tcb argument: "current" (the current TCB), a 64-bit value in decimal or
 * 0x-hex, or the parts form "bl=N,tee=N,snp=N,ucode=N" (plus "fmc=N" on Turin, which snphost's
 * `config set` also takes), parts in any order, each once, 0-255. Then checks that the value is
 * not above current (snp_tcb_check_not_above()). -EINVAL with e named INVALID_ARGUMENT,
 * TCB_ABOVE_CURRENT, TCB_RESERVED_NONZERO or UNKNOWN_TCB_LAYOUT. */
int snp_tcb_parse(const char *s, TcbLayout layout, uint64_t current, uint64_t *ret, SevError *e);

/* requested may not be above current in any part (the firmware would report a TCB the platform
 * does not run). The first part that is above is named in the message. With an unknown layout
 * only requested == current is accepted; reserved bytes must be zero unless requested == current. */
int snp_tcb_check_not_above(uint64_t requested, uint64_t current, TcbLayout layout, SevError *e);

/* A SetSnpConfig request: each field may be absent (keep the platform's value). */
typedef struct SnpConfigRequest {
        const char *reported_tcb;       /* NULL: keep the reported TCB */
        int mask_chip_id;               /* -1 keep, 0 or 1 */
        int mask_chip_key;              /* -1 keep, 0 or 1 */
} SnpConfigRequest;

#define SNP_CONFIG_REQUEST_NULL ((SnpConfigRequest) { .mask_chip_id = -1, .mask_chip_key = -1 })

/* Validates req against the platform's SNP status and builds the full config to send (the
 * firmware replaces all fields at once, so absent fields take the platform's current values).
 * -EINVAL with e named INVALID_ARGUMENT (nothing requested, a mask not 0/1), SNP_NOT_INITIALIZED
 * (status says SNP is not initialised), or a name from snp_tcb_parse(). */
int snp_config_prepare(const SnpConfigRequest *req, const SnpStatus *status, TcbLayout layout,
                       SnpConfig *ret, SevError *e);

/* Sets e->error, e->name and a formatted message (shared by psp-ops.c and vcek.c). */
void psp_error_setf(SevError *e, int error, const char *name, const char *fmt, ...) _printf_(4, 5);
