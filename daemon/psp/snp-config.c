/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <endian.h>
#include <inttypes.h>
#include <stdarg.h>

#include "snp-config.h"

void psp_error_setf(SevError *e, int error, const char *name, const char *fmt, ...) {
        va_list ap;

        *e = (SevError) { .error = error < 0 ? error : -error };
        snprintf(e->name, sizeof e->name, "%s", name);
        va_start(ap, fmt);
        vsnprintf(e->message, sizeof e->message, fmt, ap);
        va_end(ap);
}

void snp_config_encode(const SnpConfig *c, struct hwsec_sev_user_data_snp_config *ret) {
        *ret = (struct hwsec_sev_user_data_snp_config) {
                .reported_tcb = htole64(c->reported_tcb),
                .flags = htole32((c->mask_chip_id ? HWSEC_SNP_CONFIG_MASK_CHIP_ID : 0) |
                                 (c->mask_chip_key ? HWSEC_SNP_CONFIG_MASK_CHIP_KEY : 0)),
        };
}

int snp_config_decode(const void *buf, size_t size, SnpConfig *ret) {
        struct hwsec_sev_user_data_snp_config raw;
        uint32_t f;

        if (!buf || size != sizeof raw)
                return -EBADMSG;
        memcpy(&raw, buf, sizeof raw);

        f = le32toh(raw.flags);
        if (f & HWSEC_SNP_CONFIG_FLAGS_RESERVED)
                return -EBADMSG;
        for (size_t i = 0; i < sizeof raw.rsvd; i++)
                if (raw.rsvd[i] != 0)
                        return -EBADMSG;

        *ret = (SnpConfig) {
                .reported_tcb = le64toh(raw.reported_tcb),
                .mask_chip_id = f & HWSEC_SNP_CONFIG_MASK_CHIP_ID,
                .mask_chip_key = f & HWSEC_SNP_CONFIG_MASK_CHIP_KEY,
        };
        return 0;
}

/* Digits only, no sign, no spaces, no overflow: strtoull() alone accepts " -1". */
static int parse_u64(const char *s, uint64_t *ret) {
        unsigned base = 10;
        uint64_t v = 0;

        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
                base = 16;
                s += 2;
        }
        if (*s == '\0')
                return -EINVAL;
        for (; *s; s++) {
                unsigned d;

                if (*s >= '0' && *s <= '9')
                        d = *s - '0';
                else if (base == 16 && *s >= 'a' && *s <= 'f')
                        d = *s - 'a' + 10;
                else if (base == 16 && *s >= 'A' && *s <= 'F')
                        d = *s - 'A' + 10;
                else
                        return -EINVAL;
                if (v > (UINT64_MAX - d) / base)
                        return -ERANGE;
                v = v * base + d;
        }
        *ret = v;
        return 0;
}

typedef struct TcbPart {
        const char *key;        /* in the parts form */
        const char *what;       /* in messages */
        unsigned byte_milan_genoa, byte_turin;  /* position; 8 = not in this layout */
} TcbPart;

static const TcbPart tcb_parts[] = {
        { "fmc",   "FMC SVN",         8, 0 },
        { "bl",    "boot loader SVN", 0, 1 },
        { "tee",   "TEE SVN",         1, 2 },
        { "snp",   "SNP SVN",         6, 3 },
        { "ucode", "microcode SVN",   7, 7 },
};

static unsigned part_byte(const TcbPart *p, TcbLayout layout) {
        return layout == TCB_LAYOUT_TURIN ? p->byte_turin : p->byte_milan_genoa;
}

static uint64_t reserved_mask(TcbLayout layout) {
        return layout == TCB_LAYOUT_TURIN ? UINT64_C(0x00ffffff00000000) : UINT64_C(0x0000ffffffff0000);
}

static int parse_parts(const char *s, TcbLayout layout, uint64_t *ret, SevError *e) {
        _cleanup_free_ char *copy = NULL;
        unsigned seen = 0, needed = 0;
        uint64_t v = 0;
        char *saveptr = NULL;

        for (size_t i = 0; i < ELEMENTSOF(tcb_parts); i++)
                if (part_byte(&tcb_parts[i], layout) < 8)
                        needed |= 1u << i;

        copy = strdup(s);
        if (!copy)
                return -ENOMEM;

        for (char *tok = strtok_r(copy, ",", &saveptr); tok; tok = strtok_r(NULL, ",", &saveptr)) {
                char *eq = strchr(tok, '=');
                uint64_t n;
                size_t i;

                if (!eq) {
                        psp_error_setf(e, -EINVAL, "INVALID_ARGUMENT", "reported_tcb part \"%.32s\" is not of the form name=value.", tok);
                        return -EINVAL;
                }
                *eq = '\0';
                for (i = 0; i < ELEMENTSOF(tcb_parts); i++)
                        if (streq(tok, tcb_parts[i].key))
                                break;
                if (i >= ELEMENTSOF(tcb_parts) || !(needed & (1u << i))) {
                        psp_error_setf(e, -EINVAL, "INVALID_ARGUMENT", "reported_tcb has a part \"%.16s\" that the %s TCB layout does not have; use %s.",
                                       tok, tcb_layout_to_string(layout),
                                       layout == TCB_LAYOUT_TURIN ? "fmc, bl, tee, snp and ucode" : "bl, tee, snp and ucode");
                        return -EINVAL;
                }
                if (seen & (1u << i)) {
                        psp_error_setf(e, -EINVAL, "INVALID_ARGUMENT", "reported_tcb gives the part %s twice.", tcb_parts[i].key);
                        return -EINVAL;
                }
                if (eq[1 + strspn(eq + 1, "0123456789")] != '\0' || parse_u64(eq + 1, &n) < 0 || n > 255) {
                        psp_error_setf(e, -EINVAL, "INVALID_ARGUMENT", "reported_tcb part %s must be a decimal number from 0 to 255.", tcb_parts[i].key);
                        return -EINVAL;
                }
                seen |= 1u << i;
                v |= n << (8 * part_byte(&tcb_parts[i], layout));
        }
        if (seen != needed) {
                psp_error_setf(e, -EINVAL, "INVALID_ARGUMENT", "reported_tcb in parts form needs every part of the %s layout: %s.",
                               tcb_layout_to_string(layout),
                               layout == TCB_LAYOUT_TURIN ? "fmc, bl, tee, snp and ucode" : "bl, tee, snp and ucode");
                return -EINVAL;
        }
        *ret = v;
        return 0;
}

int snp_tcb_check_not_above(uint64_t requested, uint64_t current, TcbLayout layout, SevError *e) {
        if (requested == current)
                return 0;
        if (layout != TCB_LAYOUT_MILAN_GENOA && layout != TCB_LAYOUT_TURIN) {
                psp_error_setf(e, -EINVAL, "UNKNOWN_TCB_LAYOUT",
                               "The TCB layout of this CPU is unknown, so only \"current\" (0x%016" PRIx64 ") can be set as reported_tcb.", current);
                return -EINVAL;
        }
        if (requested & reserved_mask(layout)) {
                psp_error_setf(e, -EINVAL, "TCB_RESERVED_NONZERO",
                               "reported_tcb 0x%016" PRIx64 " sets reserved bytes of the %s TCB layout (mask 0x%016" PRIx64 "); give the parts instead.",
                               requested, tcb_layout_to_string(layout), reserved_mask(layout));
                return -EINVAL;
        }
        for (size_t i = 0; i < ELEMENTSOF(tcb_parts); i++) {
                unsigned b = part_byte(&tcb_parts[i], layout);
                unsigned r, c;

                if (b >= 8)
                        continue;
                r = (uint8_t) (requested >> (8 * b));
                c = (uint8_t) (current >> (8 * b));
                if (r > c) {
                        psp_error_setf(e, -EINVAL, "TCB_ABOVE_CURRENT",
                                       "reported_tcb's %s (%s=%u) is above the current TCB's (%u); the reported TCB may not be newer than the firmware that runs. Use \"current\" or a lower value.",
                                       tcb_parts[i].what, tcb_parts[i].key, r, c);
                        return -EINVAL;
                }
        }
        return 0;
}

int snp_tcb_parse(const char *s, TcbLayout layout, uint64_t current, uint64_t *ret, SevError *e) {
        uint64_t v;
        int r;

        if (!s || !*s) {
                psp_error_setf(e, -EINVAL, "INVALID_ARGUMENT", "reported_tcb is empty; give \"current\", a TCB value or its parts.");
                return -EINVAL;
        }
        if (streq(s, "current"))
                v = current;
        else if (strchr(s, '=')) {
                if (layout != TCB_LAYOUT_MILAN_GENOA && layout != TCB_LAYOUT_TURIN) {
                        psp_error_setf(e, -EINVAL, "UNKNOWN_TCB_LAYOUT", "The TCB layout of this CPU is unknown, so reported_tcb cannot be given in parts; use \"current\".");
                        return -EINVAL;
                }
                r = parse_parts(s, layout, &v, e);
                if (r < 0)
                        return r;
        } else {
                r = parse_u64(s, &v);
                if (r < 0) {
                        psp_error_setf(e, -EINVAL, "INVALID_ARGUMENT",
                                       "reported_tcb \"%.40s\" is not \"current\", a 64-bit number (decimal or 0x-hex) or a parts list like bl=4,tee=3,snp=24,ucode=219.", s);
                        return -EINVAL;
                }
        }
        r = snp_tcb_check_not_above(v, current, layout, e);
        if (r < 0)
                return r;
        *ret = v;
        return 0;
}

static int mask_value(int requested, bool current, const char *name, bool *ret, SevError *e) {
        if (requested < 0) {
                *ret = current;
                return 0;
        }
        if (requested > 1) {
                psp_error_setf(e, -EINVAL, "INVALID_ARGUMENT", "%s must be true or false.", name);
                return -EINVAL;
        }
        *ret = requested;
        return 0;
}

int snp_config_prepare(const SnpConfigRequest *req, const SnpStatus *status, TcbLayout layout,
                       SnpConfig *ret, SevError *e) {
        SnpConfig c = {};
        int r;

        if (!req->reported_tcb && req->mask_chip_id < 0 && req->mask_chip_key < 0) {
                psp_error_setf(e, -EINVAL, "INVALID_ARGUMENT", "Nothing to change: give reported_tcb, mask_chip_id or mask_chip_key.");
                return -EINVAL;
        }
        r = mask_value(req->mask_chip_id, status->mask_chip_id, "mask_chip_id", &c.mask_chip_id, e);
        if (r < 0)
                return r;
        r = mask_value(req->mask_chip_key, status->mask_chip_key, "mask_chip_key", &c.mask_chip_key, e);
        if (r < 0)
                return r;
        if (!snp_status_initialized(status)) {
                psp_error_setf(e, -EINVAL, "SNP_NOT_INITIALIZED",
                               "SNP is not initialised, so the firmware takes no SNP configuration; enable SEV-SNP in the BIOS and load kvm_amd with sev_snp=1 first.");
                return -EINVAL;
        }
        if (req->reported_tcb) {
                r = snp_tcb_parse(req->reported_tcb, layout, status->current_tcb, &c.reported_tcb, e);
                if (r < 0)
                        return r;
        } else
                c.reported_tcb = status->reported_tcb;

        *ret = c;
        return 0;
}
