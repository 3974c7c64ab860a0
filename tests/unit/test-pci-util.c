/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdarg.h>

#include "fileio.h"
#include "test-pci-util.h"

static void w16(uint8_t *c, unsigned off, uint16_t v) {
        c[off] = v & 0xff;
        c[off + 1] = v >> 8;
}

static void w32(uint8_t *c, unsigned off, uint32_t v) {
        w16(c, off, v & 0xffff);
        w16(c, off + 2, v >> 16);
}

TDev *tb_dev(TBuilder *b, const char *addr, uint16_t vendor, uint16_t device, uint32_t class_code,
             unsigned header, bool mf_bit) {
        b->devs = realloc(b->devs, (b->n + 1) * sizeof(TDev));
        ASSERT_NOT_NULL(b->devs);
        TDev *d = &b->devs[b->n++];
        memset(d, 0, sizeof(*d));
        snprintf(d->addr, sizeof(d->addr), "%s", addr);
        d->len = 256;
        d->next_ext = 0x100;
        w16(d->cfg, 0x00, vendor);
        w16(d->cfg, 0x02, device);
        d->cfg[0x08] = 0x01;
        d->cfg[0x09] = class_code & 0xff;
        w16(d->cfg, 0x0a, class_code >> 8);
        d->cfg[0x0e] = (header & 0x7f) | (mf_bit ? 0x80 : 0);
        return d;
}

void tb_bridge(TDev *d, uint8_t primary, uint8_t secondary, uint8_t subordinate) {
        d->cfg[0x18] = primary;
        d->cfg[0x19] = secondary;
        d->cfg[0x1a] = subordinate;
}

void tb_pcie(TDev *d, unsigned port_type) {
        d->len = 4096;
        w16(d->cfg, 0x06, 0x0010);      /* status: capability list */
        d->cfg[0x34] = 0x40;
        d->cfg[0x40] = 0x10;            /* PCIe capability */
        d->cfg[0x41] = 0x00;
        w16(d->cfg, 0x42, (uint16_t) (0x2 | (port_type << 4)));
}

static unsigned ext_cap(TDev *d, uint16_t id, unsigned size) {
        unsigned off = d->next_ext;
        ASSERT_TRUE(d->len == 4096);
        ASSERT_TRUE(off + size <= 4096);
        if (d->last_ext) {
                uint32_t h = (uint32_t) d->cfg[d->last_ext] | ((uint32_t) d->cfg[d->last_ext + 1] << 8) |
                             ((uint32_t) d->cfg[d->last_ext + 2] << 16) | ((uint32_t) d->cfg[d->last_ext + 3] << 24);
                h = (h & 0x000fffff) | (off << 20);
                w32(d->cfg, d->last_ext, h);
        }
        w32(d->cfg, off, id | (1u << 16));
        d->last_ext = off;
        d->next_ext = (off + size + 0xf) & ~0xfu;
        return off;
}

void tb_acs_egress(TDev *d, uint16_t cap, uint16_t ctrl, const uint32_t *vector, unsigned dwords) {
        unsigned off = ext_cap(d, 0x000d, 8 + dwords * 4);
        w16(d->cfg, off + 4, cap);
        w16(d->cfg, off + 6, ctrl);
        for (unsigned i = 0; i < dwords; i++)
                w32(d->cfg, off + 8 + i * 4, vector[i]);
}

void tb_acs(TDev *d, uint16_t cap, uint16_t ctrl) {
        tb_acs_egress(d, cap, ctrl, NULL, 0);
}

void tb_sriov(TDev *d, uint16_t num_vfs, uint16_t offset, uint16_t stride, uint16_t vf_device) {
        unsigned off = ext_cap(d, 0x0010, 0x40);
        w16(d->cfg, off + 0x08, 0x0001);        /* VF Enable */
        w16(d->cfg, off + 0x0c, num_vfs);
        w16(d->cfg, off + 0x0e, num_vfs);
        w16(d->cfg, off + 0x10, num_vfs);
        w16(d->cfg, off + 0x14, offset);
        w16(d->cfg, off + 0x16, stride);
        w16(d->cfg, off + 0x1a, vf_device);
}

void tb_mmio_bar(TDev *d, uint32_t addr) {
        w32(d->cfg, 0x10, addr & ~0xfu);
}

TDev *tb_vf(TBuilder *b, const char *addr) {
        TDev *d = tb_dev(b, addr, 0xffff, 0xffff, 0x020000, 0, false);
        tb_pcie(d, 0);
        return d;
}

TDev *tb_root_port(TBuilder *b, const char *addr, uint8_t sec, uint8_t sub, int acs) {
        TDev *d = tb_dev(b, addr, 0x1022, 0x14ab, 0x060400, 1, false);
        tb_bridge(d, 0, sec, sub);
        tb_pcie(d, 4);
        if (acs >= 0)
                tb_acs(d, 0x005f, (uint16_t) acs);
        return d;
}

TDev *tb_usp(TBuilder *b, const char *addr, uint8_t pri, uint8_t sec, uint8_t sub) {
        TDev *d = tb_dev(b, addr, 0x10b5, 0x8725, 0x060400, 1, false);
        tb_bridge(d, pri, sec, sub);
        tb_pcie(d, 5);
        return d;
}

TDev *tb_dsp(TBuilder *b, const char *addr, uint8_t pri, uint8_t sec, uint8_t sub, int acs) {
        TDev *d = tb_dev(b, addr, 0x10b5, 0x8725, 0x060400, 1, false);
        tb_bridge(d, pri, sec, sub);
        tb_pcie(d, 6);
        if (acs >= 0)
                tb_acs(d, 0x005f, (uint16_t) acs);
        return d;
}

TDev *tb_endpoint(TBuilder *b, const char *addr, bool mf_bit) {
        TDev *d = tb_dev(b, addr, 0x15b3, 0x101d, 0x020000, 0, mf_bit);
        tb_pcie(d, 0);
        return d;
}

char *tb_dump_text(const TBuilder *b) {
        size_t cap = 64 + b->n * (4096 / 16) * 60;
        char *s = malloc(cap), *p = s;
        ASSERT_NOT_NULL(s);
        for (size_t i = 0; i < b->n; i++) {
                const TDev *d = &b->devs[i];
                p += sprintf(p, "%s Test device\n", d->addr);
                for (unsigned off = 0; off < d->len; off += 16) {
                        p += sprintf(p, off < 0x100 ? "%02x: " : "%03x: ", off);
                        for (unsigned j = 0; j < 16; j++)
                                p += sprintf(p, "%02x%s", d->cfg[off + j], j == 15 ? "\n" : " ");
                }
                p += sprintf(p, "\n");
        }
        return s;
}

PciTopology *tb_load(TBuilder *b, const char *kgroups_text) {
        char path[] = "/tmp/test-pci-dump-XXXXXX";
        _cleanup_free_ char *text = tb_dump_text(b), *err = NULL;
        PciTopology *t = NULL;
        int fd = mkstemp(path);

        ASSERT_TRUE(fd >= 0);
        ASSERT_TRUE(write(fd, text, strlen(text)) == (ssize_t) strlen(text));
        close(fd);
        int r = pci_topology_load_dump(path, &t, &err);
        unlink(path);
        if (r < 0)
                TEST_FAIL("load failed: %s", err ?: strerror(-r));
        if (kgroups_text)
                ASSERT_OK(pci_kgroups_parse_find_text(t, kgroups_text, NULL));
        ASSERT_OK(pci_audit_full(t));
        ASSERT_OK(pci_audit_host(t, NULL));
        return t;
}

void tb_free(TBuilder *b) {
        free(b->devs);
        b->devs = NULL;
        b->n = 0;
}

static const char *short_addr(const char *a) {
        return strneq(a, "0000:", 5) ? a + 5 : a;
}

static void append(char **s, size_t *len, const char *x) {
        size_t n = strlen(x);
        *s = realloc(*s, *len + n + 1);
        ASSERT_NOT_NULL(*s);
        memcpy(*s + *len, x, n + 1);
        *len += n;
}

char *groups_string(PciTopology *t, PciGrouping kind) {
        _cleanup_free_ PciGroup **gs = NULL;
        size_t n, len = 0;
        char *s = strdup("");

        ASSERT_OK(pci_groups_collect(t, kind, &gs, &n));
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        append(&s, &len, "|");
                for (size_t j = 0; j < gs[i]->n_members; j++) {
                        if (j > 0)
                                append(&s, &len, " ");
                        append(&s, &len, short_addr(gs[i]->members[j]->address));
                }
        }
        return s;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char * const *) a, *(char * const *) b);
}

char *kernel_groups_string(PciTopology *t) {
        char **lines = NULL;
        size_t n = 0, len = 0;
        void *v;
        char *s = strdup("");

        for (size_t i = 0; pci_map_iterate(t->kgroups, &i, NULL, &v);) {
                PciKernelGroup *g = v;
                size_t m = strv_length(g->addresses), l2 = 0;
                char *line = strdup("");
                qsort(g->addresses, m, sizeof(char *), cmp_str);
                for (size_t j = 0; j < m; j++) {
                        if (j > 0)
                                append(&line, &l2, " ");
                        append(&line, &l2, short_addr(g->addresses[j]));
                }
                lines = realloc(lines, (n + 1) * sizeof(char *));
                lines[n++] = line;
        }
        qsort(lines, n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        append(&s, &len, "|");
                append(&s, &len, lines[i]);
                free(lines[i]);
        }
        free(lines);
        return s;
}

const char *verdict_of(PciTopology *t, const char *addr) {
        PciDev *d = pci_topology_find(t, addr);
        if (!d)
                TEST_FAIL("no device %s", addr);
        return pci_verdict_to_string(d->verdict);
}

bool reasons_contain(PciTopology *t, const char *addr, const char *needle) {
        PciDev *d = pci_topology_find(t, addr);
        if (!d)
                return false;
        STRV_FOREACH(r, d->reasons)
                if (strstr(*r, needle))
                        return true;
        return false;
}
