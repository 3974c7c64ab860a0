/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>

#include "tcb.h"

TcbLayout tcb_layout_for_family(unsigned family) {
        switch (family) {
        case 0x19:
                return TCB_LAYOUT_MILAN_GENOA;
        case 0x1A:
                return TCB_LAYOUT_TURIN;
        default:
                return TCB_LAYOUT_UNKNOWN;
        }
}

const char *tcb_layout_to_string(TcbLayout l) {
        static const char * const table[_TCB_LAYOUT_MAX] = {
                [TCB_LAYOUT_UNKNOWN] = "unknown",
                [TCB_LAYOUT_MILAN_GENOA] = "milan-genoa",
                [TCB_LAYOUT_TURIN] = "turin",
        };

        if ((unsigned) l >= _TCB_LAYOUT_MAX)
                return "unknown";
        return table[l];
}

static uint8_t byte_of(uint64_t v, unsigned i) {
        return (uint8_t) (v >> (8 * i));
}

int tcb_decode(uint64_t raw, TcbLayout layout, TcbVersion *ret) {
        *ret = (TcbVersion) { .layout = layout, .raw = raw };

        switch (layout) {
        case TCB_LAYOUT_MILAN_GENOA:
                ret->boot_loader = byte_of(raw, 0);
                ret->tee = byte_of(raw, 1);
                ret->reserved = raw & UINT64_C(0x0000ffffffff0000);
                ret->snp = byte_of(raw, 6);
                ret->microcode = byte_of(raw, 7);
                return 0;
        case TCB_LAYOUT_TURIN:
                ret->has_fmc = true;
                ret->fmc = byte_of(raw, 0);
                ret->boot_loader = byte_of(raw, 1);
                ret->tee = byte_of(raw, 2);
                ret->snp = byte_of(raw, 3);
                ret->reserved = raw & UINT64_C(0x00ffffff00000000);
                ret->microcode = byte_of(raw, 7);
                return 0;
        default:
                ret->layout = TCB_LAYOUT_UNKNOWN;
                return -EOPNOTSUPP;
        }
}

int tcb_format(const TcbVersion *t, char *buf, size_t size) {
        int n;

        if (t->layout == TCB_LAYOUT_UNKNOWN)
                n = snprintf(buf, size, "0x%016" PRIx64, t->raw);
        else if (t->has_fmc)
                n = snprintf(buf, size, "FMC=%u BL=%u TEE=%u SNP=%u uCode=%u",
                             t->fmc, t->boot_loader, t->tee, t->snp, t->microcode);
        else
                n = snprintf(buf, size, "BL=%u TEE=%u SNP=%u uCode=%u",
                             t->boot_loader, t->tee, t->snp, t->microcode);
        if (n < 0)
                return -EINVAL;
        if ((size_t) n >= size)
                return -ENOBUFS;
        return 0;
}

json_object *tcb_to_json(const TcbVersion *t) {
        json_object *o;
        char raw[24];

        o = json_object_new_object();
        if (!o)
                return NULL;

        snprintf(raw, sizeof raw, "0x%016" PRIx64, t->raw);
        json_object_object_add(o, "raw", json_object_new_string(raw));
        json_object_object_add(o, "layout", json_object_new_string(tcb_layout_to_string(t->layout)));
        if (t->layout == TCB_LAYOUT_UNKNOWN)
                return o;
        if (t->has_fmc)
                json_object_object_add(o, "fmc", json_object_new_int(t->fmc));
        json_object_object_add(o, "boot_loader", json_object_new_int(t->boot_loader));
        json_object_object_add(o, "tee", json_object_new_int(t->tee));
        json_object_object_add(o, "snp", json_object_new_int(t->snp));
        json_object_object_add(o, "microcode", json_object_new_int(t->microcode));
        if (t->reserved != 0) {
                snprintf(raw, sizeof raw, "0x%016" PRIx64, t->reserved);
                json_object_object_add(o, "reserved", json_object_new_string(raw));
        }
        return o;
}
