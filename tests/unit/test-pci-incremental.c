/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Incremental updates must give exactly what a full audit gives. Random topologies (switches,
 * nested switches, root ports with and without ACS, multifunction endpoints, PCIe-to-PCI
 * bridges, SR-IOV), random changes (ACS toggled, devices removed and re-added), and after each
 * change the incremental result is compared with a full re-audit of the same tree. */

#include "log.h"
#include "test-pci-util.h"

static unsigned rnd_state = 12345;
static unsigned rnd(unsigned n) {
        rnd_state = rnd_state * 1103515245u + 12345u;
        return (rnd_state >> 16) % n;
}

static int rand_acs(void) {
        switch (rnd(3)) {
        case 0:
                return -1;
        case 1:
                return 0;
        default:
                return 0x1d;
        }
}

static void addr(char *buf, unsigned bus, unsigned dev, unsigned fn) {
        snprintf(buf, 24, "%02x:%02x.%x", bus, dev, fn);
}

/* Below a port whose secondary bus is `bus`: an endpoint (maybe multifunction, maybe a PF),
 * a PCIe-to-PCI bridge, or a switch. Returns the highest bus number used. */
static unsigned build_below(TBuilder *b, unsigned bus, unsigned depth) {
        char a[24];
        unsigned k = depth > 2 ? 0 : rnd(4);

        if (k == 1) {   /* switch */
                unsigned ndsp = 1 + rnd(3), next = bus + 1, sub;
                addr(a, bus, 0, 0);
                tb_usp(b, a, bus, bus + 1, 0);
                size_t usp = b->n - 1;
                next = bus + 2;
                for (unsigned i = 0; i < ndsp; i++) {
                        addr(a, bus + 1, i, 0);
                        tb_dsp(b, a, bus + 1, next, 0, rand_acs());
                        size_t dsp = b->n - 1;
                        sub = build_below(b, next, depth + 1);
                        b->devs[dsp].cfg[0x1a] = sub;
                        next = sub + 1;
                }
                b->devs[usp].cfg[0x1a] = next - 1;
                return next - 1;
        }
        if (k == 2) {   /* PCIe-to-PCI bridge with conventional devices */
                addr(a, bus, 0, 0);
                TDev *br = tb_dev(b, a, 0x1b36, 0x000e, 0x060400, 1, false);
                tb_bridge(br, bus, bus + 1, bus + 1);
                tb_pcie(br, 7);
                if (rnd(2))
                        tb_mmio_bar(br, 0xfe000000);
                for (unsigned i = 0; i < 1 + rnd(3); i++) {
                        addr(a, bus + 1, i + 1, 0);
                        tb_dev(b, a, 0x10ec, 0x8139, 0x020000, 0, false);
                }
                return bus + 1;
        }
        if (k == 3) {   /* PF with VFs */
                addr(a, bus, 0, 0);
                TDev *pf = tb_endpoint(b, a, false);
                unsigned n = 1 + rnd(4);
                tb_sriov(pf, n, 1, 1, 0x1018);
                for (unsigned i = 0; i < n; i++) {
                        addr(a, bus, 0, i + 1);
                        tb_vf(b, a);
                }
                return bus;
        }
        /* endpoint, maybe multifunction */
        unsigned nf = rnd(2) ? 1 : 2 + rnd(2);
        for (unsigned f = 0; f < nf; f++) {
                addr(a, bus, 0, f);
                TDev *e = tb_endpoint(b, a, nf > 1 && f == 0);
                int acs = nf > 1 ? rand_acs() : -1;
                if (acs >= 0)
                        tb_acs(e, 0x005f, (uint16_t) acs);
        }
        return bus;
}

static PciTopology *random_topology(void) {
        TBuilder b = {};
        char a[24];
        unsigned next = 1;

        for (unsigned rp = 0; rp < 2 + rnd(3); rp++) {
                addr(a, 0, rp + 1, 0);
                tb_root_port(&b, a, next, 0, rand_acs());
                size_t p = b.n - 1;
                unsigned sub = build_below(&b, next, 0);
                b.devs[p].cfg[0x1a] = sub;
                next = sub + 1;
        }
        tb_endpoint(&b, "00:1f.0", true);
        tb_endpoint(&b, "00:1f.3", false);
        PciTopology *t = tb_load(&b, NULL);
        tb_free(&b);
        return t;
}

static char *snapshot(PciTopology *t) {
        _cleanup_free_ char *p = groups_string(t, PCI_GROUPING_PREDICTED);
        _cleanup_free_ char *i = groups_string(t, PCI_GROUPING_ISOLATION);
        size_t cap = 1 << 16, len = 0;
        char *s = malloc(cap);
        ASSERT_NOT_NULL(s);
        s[0] = '\0';
        _cleanup_free_ PciDev **order = NULL;
        size_t n;
        ASSERT_OK(pci_topology_probe_order(t, NULL, 0, &order, &n));
        len += snprintf(s + len, cap - len, "P %s\nI %s\n", p, i);
        for (size_t k = 0; k < n && len < cap; k++) {
                PciDev *d = order[k];
                len += snprintf(s + len, cap - len, "%s %s", d->address, pci_verdict_to_string(d->verdict));
                STRV_FOREACH(r, d->reasons)
                        if (len < cap)
                                len += snprintf(s + len, cap - len, " | %s", *r);
                if (len < cap)
                        len += snprintf(s + len, cap - len, "\n");
        }
        return s;
}

/* The verdict counts behind Pci.Summary are kept as devices change, not recounted: they must
 * match a count over the devices after every step. */
static void check_verdict_counts(PciTopology *t, const char *what) {
        for (PciVerdict v = 0; v < _PCI_VERDICT_MAX; v++) {
                unsigned n = 0;
                for (size_t i = 0; i < t->n_devices; i++)
                        n += t->devices[i]->verdict == v;
                if (pci_audit_count_verdict(t, v) != n)
                        TEST_FAIL("after %s, %u devices are %s but the kept count says %u", what, n,
                                  pci_verdict_to_string(v), pci_audit_count_verdict(t, v));
        }
}

static void compare_with_full(PciTopology *t, const char *what) {
        check_verdict_counts(t, what);
        _cleanup_free_ char *inc = snapshot(t);
        ASSERT_OK(pci_audit_full(t));
        _cleanup_free_ char *full = snapshot(t);
        check_verdict_counts(t, what);
        if (!streq(inc, full))
                TEST_FAIL("after %s, incremental differs from full:\n--- incremental\n%s\n--- full\n%s", what, inc, full);
}

typedef struct Saved {
        PciDev copy;            /* scalars only: its pointers dangle after removal */
        char pf[24];            /* physfn address of a VF, "" otherwise */
        bool valid;
} Saved;

static void readd(PciTopology *t, Saved *s) {
        PciDev *d = pci_dev_new(s->copy.domain, s->copy.bus_nr, s->copy.dev, s->copy.func);
        ASSERT_NOT_NULL(d);
        d->vendor = s->copy.vendor;
        d->device = s->copy.device;
        d->class_code = s->copy.class_code;
        d->header_type = s->copy.header_type;
        d->mf_header_bit = s->copy.mf_header_bit;
        d->multifunction = s->copy.multifunction;
        d->cfg_size = s->copy.cfg_size;
        d->port_type = s->copy.port_type;
        d->acs = s->copy.acs;
        d->is_vf = s->copy.is_vf;
        if (s->pf[0])
                d->physfn_address = strdup(s->pf);
        ASSERT_OK(pci_topology_add(t, d));
        ASSERT_OK(pci_topology_link_one(t, d));
        ASSERT_OK(pci_audit_update(t, &d, 1, NULL, NULL));
        s->valid = false;
}

int main(void) {
        log_set_max_level(LOG_WARNING);
        unsigned changes = 0;

        for (unsigned round = 0; round < 60; round++) {
                _cleanup_(pci_topology_freep) PciTopology *t = random_topology();
                Saved saved = {};
                compare_with_full(t, "load");

                for (unsigned step = 0; step < 12; step++) {
                        PciDev *d = t->devices[rnd((unsigned) t->n_devices)];
                        unsigned what = rnd(3);
                        char label[96];

                        if (saved.valid && rnd(2) == 0) {
                                snprintf(label, sizeof(label), "re-adding %s", saved.copy.address);
                                readd(t, &saved);
                        } else if (what == 0 && d->acs.present) {
                                snprintf(label, sizeof(label), "toggling ACS RR on %s", d->address);
                                d->acs.ctrl ^= PCI_ACS_RR;
                                ASSERT_OK(pci_audit_update(t, &d, 1, NULL, NULL));
                        } else if (what == 1 && !d->is_bridge && !saved.valid && d->bus_nr != 0) {
                                snprintf(label, sizeof(label), "removing %s%s", d->address,
                                         d->n_vfs ? " with its VFs" : "");
                                saved.copy = *d;
                                snprintf(saved.pf, sizeof(saved.pf), "%s", d->physfn ? d->physfn->address : "");
                                /* a PF comes back without its VFs: not re-added */
                                saved.valid = (!d->is_vf || d->physfn) && !d->has_sriov;
                                ASSERT_OK(pci_audit_remove(t, d, NULL, NULL, NULL));
                        } else if (what == 2 && d->is_bridge) {
                                snprintf(label, sizeof(label), "removing bridge %s", d->address);
                                saved.valid = false;
                                ASSERT_OK(pci_audit_remove(t, d, NULL, NULL, NULL));
                        } else
                                continue;
                        compare_with_full(t, label);
                        changes++;
                }
        }
        printf("test-pci-incremental: %u changes, incremental == full every time\n", changes);
        return 0;
}
