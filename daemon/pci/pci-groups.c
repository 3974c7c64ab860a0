/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdarg.h>

#include "log.h"
#include "pci-groups.h"

enum {
        BUS_PCIE_ISOLATED,
        BUS_PCIE_SWITCH_DSP_NON_ISOLATED,
        BUS_PCIE_NON_ISOLATED,
        BUS_PCI_BUS_NON_ISOLATED,
        BUS_PCI_BRIDGE_NON_ISOLATED,
};

static char *strdupf(const char *fmt, ...) _printf_(1, 2);
static char *strdupf(const char *fmt, ...) {
        va_list ap;
        char *s = NULL;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        return s;
}

/* ---- ACS as the kernel sees it ---- */

int pci_dev_acs_quirk(const PciDev *d, uint16_t flags, const char **ret_name) {
        /* pci_quirk_rciep_acs: Intel root-complex integrated endpoints do not do peer-to-peer,
         * so they count as isolated for SV|RR|CR|UF (drivers/pci/quirks.c, vendor Intel, any
         * device, PCIe type RCiEP). The pcie-pci-bridge-mf fixture shows it on a real kernel. */
        if (d->vendor == 0x8086 && d->port_type == PCI_TYPE_RCIEP) {
                if (ret_name)
                        *ret_name = "Intel RCiEP ACS quirk";
                uint16_t ena = PCI_ACS_SV | PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_UF;
                return (flags & ena) == flags;
        }
        return -1;
}

bool pci_dev_acs_enabled(const PciDev *d, uint16_t flags, unsigned enhanced) {
        int q = pci_dev_acs_quirk(d, flags, NULL);
        if (q >= 0)
                return q > 0;

        switch (d->port_type) {
        case PCI_TYPE_CONVENTIONAL:
        case PCI_TYPE_PCIE_TO_PCI:
        case PCI_TYPE_PCI_TO_PCIE:
        case PCI_TYPE_RC_EC:
                return false;
        case PCI_TYPE_DOWNSTREAM:
        case PCI_TYPE_ROOT_PORT:
                return pci_acs_flags_enabled(&d->acs, flags, enhanced);
        case PCI_TYPE_ENDPOINT:
        case PCI_TYPE_UPSTREAM:
        case PCI_TYPE_LEGACY_ENDPOINT:
        case PCI_TYPE_RCIEP:
                if (!d->multifunction)
                        return true;
                return pci_acs_flags_enabled(&d->acs, flags, enhanced);
        default:
                return true;
        }
}

static PciDev *bus_self_skip_virtual(PciBus *b) {
        unsigned guard = 0;
        while (b && !b->self && b->is_virtual && guard++ < 256)
                b = b->parent;
        return b ? b->self : NULL;
}

bool pci_dev_acs_path_enabled(const PciDev *d, uint16_t flags) {
        for (unsigned guard = 0; d && guard < 256; guard++) {
                if (!pci_dev_acs_enabled(d, flags, 0))
                        return false;
                if (!d->bus || pci_bus_is_root(d->bus))
                        return true;
                d = bus_self_skip_virtual(d->bus);
        }
        return true;
}

/* Why d is not ACS-isolated, for reasons. */
static char *describe_acs_failure(const PciDev *d, uint16_t flags, unsigned enhanced) {
        char names[64];
        const char *q;

        if (pci_dev_acs_quirk(d, flags, &q) == 0)
                return strdupf("%s is not isolated (%s)", d->address, q);
        switch (d->port_type) {
        case PCI_TYPE_CONVENTIONAL:
                return strdupf("%s is conventional PCI (no ACS)", d->address);
        case PCI_TYPE_PCIE_TO_PCI:
        case PCI_TYPE_PCI_TO_PCIE:
                return strdupf("%s is a PCIe/PCI bridge (never ACS-isolated)", d->address);
        case PCI_TYPE_RC_EC:
                return strdupf("%s is a root-complex event collector", d->address);
        default:
                break;
        }
        if (!d->acs.present)
                return strdupf("%s has no ACS capability", d->address);
        uint16_t missing = pci_acs_missing_flags(&d->acs, flags);
        if (missing)
                return strdupf("%s does not enable ACS %s (ACSCtl: %s)", d->address,
                               pci_acs_flags_names(missing, names, sizeof(names)),
                               pci_acs_bits_lspci(d->acs.ctrl, 0));
        if (enhanced && (d->acs.cap & PCI_ACS_ENHANCED))
                return strdupf("%s does not redirect memory-target requests (ACS Enhanced: DSP %s, USP %s)",
                               d->address, pci_mem_target_to_string(pci_acs_dsp_mt(d->acs.ctrl)),
                               pci_mem_target_to_string(pci_acs_usp_mt(d->acs.ctrl)));
        return strdupf("%s is not ACS-isolated", d->address);
}

/* ---- group bookkeeping ---- */

void pci_group_free(PciGroup *g) {
        if (!g)
                return;
        free(g->members);
        free(g);
}

static PciGroup *group_new(PciTopology *t, PciGrouping kind) {
        PciGroup *g = calloc(1, sizeof(PciGroup));
        if (!g)
                return NULL;
        g->id = ++t->next_group_id;
        g->kind = kind;
        return g;
}

static int group_join(PciGroup *g, PciDev *d, char *cause) {
        if (g->n_members == g->allocated) {
                size_t n = g->allocated ? g->allocated * 2 : 4;
                PciDev **m = realloc(g->members, n * sizeof(PciDev *));
                if (!m) {
                        free(cause);
                        return -ENOMEM;
                }
                g->members = m;
                g->allocated = n;
        }
        g->members[g->n_members++] = d;
        d->group[g->kind] = g;
        free(d->cause[g->kind]);
        d->cause[g->kind] = cause;
        return 0;
}

static void group_mark(PciGroup *g, PciDev *d) {
        if (g->kind != PCI_GROUPING_ISOLATION || d->marked)
                return;
        d->marked = true;
        g->marks++;
}

bool pci_group_is_non_isolated(const PciGroup *g) {
        return g && g->marks > 0;
}

void pci_groups_detach(PciTopology *t, PciDev *d) {
        for (unsigned k = 0; k < _PCI_GROUPING_MAX; k++) {
                PciGroup *g = d->group[k];
                if (!g)
                        continue;
                for (size_t i = 0; i < g->n_members; i++)
                        if (g->members[i] == d) {
                                g->members[i] = g->members[--g->n_members];
                                break;
                        }
                if (k == PCI_GROUPING_ISOLATION && d->marked) {
                        g->marks--;
                        d->marked = false;
                }
                d->group[k] = NULL;
                d->cause[k] = mfree(d->cause[k]);
                if (g->n_members == 0)
                        pci_group_free(g);
        }
        d->via = mfree(d->via);
        d->inherited = false;
}

static int join_new(PciTopology *t, PciGrouping kind, PciDev *d, bool mark) {
        PciGroup *g = group_new(t, kind);
        if (!g)
                return -ENOMEM;
        int r = group_join(g, d, NULL);
        if (r < 0) {
                pci_group_free(g);
                return r;
        }
        if (mark)
                group_mark(g, d);
        return 0;
}

/* ---- mainline pci_device_group() ---- */

static PciDev *slot_sibling_group_owner(PciDev *p) {
        /* step D: get_pci_function_alias_group() */
        if (!p->multifunction || !p->bus || pci_dev_acs_enabled(p, PCI_ACS_REQ_FLAGS, 0))
                return NULL;
        for (size_t i = 0; i < p->bus->n_devices; i++) {
                PciDev *f = p->bus->devices[i];
                if (f == p || f->dev != p->dev || f->is_vf || pci_dev_acs_enabled(f, PCI_ACS_REQ_FLAGS, 0))
                        continue;
                if (f->group[PCI_GROUPING_PREDICTED])
                        return f;
        }
        return NULL;
}

static int mainline_assign(PciTopology *t, PciDev *pdev) {
        PciDev *last = pdev, *p;
        PciGroup *g;

        /* step A: DMA aliases through PCIe-to-PCI and conventional bridges */
        unsigned guard = 0;
        for (PciBus *bus = pdev->bus; bus && !pci_bus_is_root(bus) && guard++ < 256; bus = bus->parent) {
                PciDev *br = bus->self;
                if (!br)
                        continue;
                if (pci_dev_is_pcie(br) && br->port_type != PCI_TYPE_PCIE_TO_PCI && br->port_type != PCI_TYPE_PCI_TO_PCIE)
                        continue;
                last = br;
                g = last->group[PCI_GROUPING_PREDICTED];
                if (g)
                        return group_join(g, pdev,
                                          strdupf("requests from %s reach the IOMMU with the requester ID of bridge %s (DMA alias)",
                                                  pdev->address, br->address));
        }

        /* step B: climb while the path above is not ACS-isolated */
        p = last;
        guard = 0;
        for (PciBus *bus = p->bus; bus && !pci_bus_is_root(bus) && guard++ < 256; bus = bus->parent) {
                if (!bus->self)
                        continue;
                if (pci_dev_acs_path_enabled(bus->self, PCI_ACS_REQ_FLAGS))
                        break;
                p = bus->self;
                g = p->group[PCI_GROUPING_PREDICTED];
                if (g) {
                        _cleanup_free_ char *why = describe_acs_failure(p, PCI_ACS_REQ_FLAGS, 0);
                        return group_join(g, pdev, strdupf("the path above %s is not ACS-isolated: %s",
                                                           pdev->address, strna(why)));
                }
        }

        /* step C (same-bus DMA aliases from quirks) is not modelled: sysfs does not show them. */

        /* step D: multifunction siblings without ACS */
        PciDev *f = slot_sibling_group_owner(p);
        if (f)
                return group_join(f->group[PCI_GROUPING_PREDICTED], pdev,
                                  strdupf("multifunction functions %s and %s are not ACS-isolated from each other",
                                          p->address, f->address));

        return join_new(t, PCI_GROUPING_PREDICTED, pdev, false);
}

/* ---- the fixed algorithm ---- */

static int bus_isolation(PciTopology *t, PciBus *bus) {
        if (bus->iso_stamp == t->stamp)
                return bus->iso;
        bus->iso_stamp = t->stamp;
        bus->iso_cause = mfree(bus->iso_cause);
        bus->iso_via = mfree(bus->iso_via);

        PciDev *br = bus->self;
        if (pci_bus_is_root(bus) || !br)
                return bus->iso = BUS_PCIE_ISOLATED;

        if (!pci_dev_is_pcie(br)) {
                bus->iso_cause = strdupf("conventional PCI bridge %s does not isolate the devices behind it from it or from each other",
                                         br->address);
                bus->iso_via = strdup(br->address);
                return bus->iso = BUS_PCI_BRIDGE_NON_ISOLATED;
        }

        switch (br->port_type) {
        case PCI_TYPE_ROOT_PORT:
                if (br->acs.present && !pci_dev_acs_enabled(br, PCI_ACS_REQ_FLAGS, PCI_ACS_WANT_DSP_MT_RR)) {
                        _cleanup_free_ char *why = describe_acs_failure(br, PCI_ACS_REQ_FLAGS, PCI_ACS_WANT_DSP_MT_RR);
                        bus->iso_cause = strdupf("root port %s", strna(why));
                        bus->iso_via = strdup(br->address);
                        return bus->iso = BUS_PCIE_NON_ISOLATED;
                }
                return bus->iso = BUS_PCIE_ISOLATED;

        case PCI_TYPE_DOWNSTREAM:
                return bus->iso = BUS_PCIE_ISOLATED;

        case PCI_TYPE_UPSTREAM: {
                /* The switch's internal bus: one non-isolating downstream port spoils it. We
                 * look at every port and keep the worst, so the reason names all culprits. */
                int worst = BUS_PCIE_ISOLATED;
                char *causes = NULL;
                for (size_t i = 0; i < bus->n_devices; i++) {
                        PciDev *dsp = bus->devices[i];
                        char *why = NULL;
                        int iso = BUS_PCIE_ISOLATED;
                        if (dsp->port_type != PCI_TYPE_DOWNSTREAM) {
                                why = strdupf("%s on the internal bus of switch %s is not a downstream port",
                                              dsp->address, br->address);
                                iso = BUS_PCIE_NON_ISOLATED;
                        } else if (!pci_dev_acs_enabled(dsp, PCI_ACS_REQ_FLAGS, PCI_ACS_WANT_DSP_MT_RR | PCI_ACS_WANT_USP_MT_RR)) {
                                _cleanup_free_ char *w = describe_acs_failure(dsp, PCI_ACS_REQ_FLAGS,
                                                                              PCI_ACS_WANT_DSP_MT_RR | PCI_ACS_WANT_USP_MT_RR);
                                why = strdupf("downstream port %s", strna(w));
                                iso = pci_dev_acs_enabled(dsp, 0, PCI_ACS_WANT_USP_MT_RR)
                                        ? BUS_PCIE_SWITCH_DSP_NON_ISOLATED : BUS_PCIE_NON_ISOLATED;
                        }
                        if (!why)
                                continue;
                        if (iso > worst)
                                worst = iso;
                        char *n = NULL;
                        if (asprintf(&n, "%s%s%s", causes ?: "", causes ? "; " : "", why) < 0)
                                n = NULL;
                        free(causes);
                        free(why);
                        causes = n;
                }
                bus->iso_cause = causes;
                if (worst != BUS_PCIE_ISOLATED)
                        bus->iso_via = strdupf("switch %s", br->address);
                return bus->iso = worst;
        }

        case PCI_TYPE_PCIE_TO_PCI:
                bus->iso_via = strdupf("PCIe-to-PCI bridge %s", br->address);
                if (br->has_mmio_bar) {
                        bus->iso_cause = strdupf("conventional PCI bus %02x behind PCIe-to-PCI bridge %s: its devices share the bus, "
                                                 "alias to the bridge and can reach the bridge's own MMIO",
                                                 bus->number, br->address);
                        return bus->iso = BUS_PCI_BRIDGE_NON_ISOLATED;
                }
                bus->iso_cause = strdupf("conventional PCI bus %02x behind PCIe-to-PCI bridge %s: its devices share the bus "
                                         "and their requests alias to devfn 0", bus->number, br->address);
                return bus->iso = BUS_PCI_BUS_NON_ISOLATED;

        default:
                bus->iso_cause = strdupf("bridge %s (%s) does not isolate the devices behind it",
                                         br->address, pci_port_type_to_string(br->port_type));
                bus->iso_via = strdup(br->address);
                return bus->iso = BUS_PCI_BRIDGE_NON_ISOLATED;
        }
}

static bool acs_cap_non_isolating(const PciDev *d) {
        return d->acs.present && !pci_dev_acs_enabled(d, PCI_ACS_REQ_FLAGS, 0);
}

/* mfd_same_group() of the series. */
static bool mfd_same_group(const PciDev *a, const PciDev *b) {
        if (a->is_vf || b->is_vf || a->dev != b->dev)
                return false;
        if (a->multifunction != b->multifunction)
                return true;
        if (!a->multifunction)
                return false;
        return acs_cap_non_isolating(a) || acs_cap_non_isolating(b);
}

static char *mfd_cause(const PciDev *a, const PciDev *b) {
        if (a->multifunction != b->multifunction)
                return strdupf("%s is multifunction and %s is not, in the same slot", 
                               a->multifunction ? a->address : b->address, a->multifunction ? b->address : a->address);
        const PciDev *x = acs_cap_non_isolating(a) ? a : b;
        _cleanup_free_ char *why = describe_acs_failure(x, PCI_ACS_REQ_FLAGS, 0);
        return strdupf("functions %s and %s of one multifunction device can reach each other: %s",
                       a->address, b->address, strna(why));
}

static int isolation_assign(PciTopology *t, PciDev *pdev) {
        PciBus *bus = pdev->is_vf && pdev->physfn && pdev->physfn->bus ? pdev->physfn->bus : pdev->bus;
        PciGroup *g;
        unsigned guard = 0;
        int r;

        while (bus && bus->is_virtual && !bus->self && guard++ < 256)
                bus = bus->parent;
        if (!bus)
                return join_new(t, PCI_GROUPING_ISOLATION, pdev, false);

        if (!pci_bus_is_root(bus) && bus->self) {
                g = bus->self->group[PCI_GROUPING_ISOLATION];
                if (g && pci_group_is_non_isolated(g)) {
                        pdev->via = bus->self->via ? strdup(bus->self->via) : NULL;
                        pdev->inherited = true;
                        return group_join(g, pdev, strdupf("%s is below %s, which is not isolated from its peers%s%s",
                                                           pdev->address, bus->self->address,
                                                           bus->self->cause[PCI_GROUPING_ISOLATION] ? ": " : "",
                                                           bus->self->cause[PCI_GROUPING_ISOLATION] ?: ""));
                }
        }

        int iso = bus_isolation(t, bus);
        switch (iso) {
        case BUS_PCIE_ISOLATED: {
                /* reachable set over the slot (mfd_same_group; DMA aliases not modelled) */
                PciDev *set[256];
                size_t n = 0, first = SIZE_MAX, last = 0;
                bool in[256] = {};

                if (pdev->is_vf || pdev->bus != bus)
                        return join_new(t, PCI_GROUPING_ISOLATION, pdev, false);
                for (size_t i = 0; i < bus->n_devices; i++)
                        if (bus->devices[i]->dev == pdev->dev) {
                                if (first == SIZE_MAX)
                                        first = i;
                                last = i;
                        }
                set[n++] = pdev;
                for (size_t i = first; i <= last; i++)
                        if (bus->devices[i] == pdev)
                                in[i - first] = true;
                for (size_t k = 0; k < n; k++)
                        for (size_t i = first; i <= last && first != SIZE_MAX; i++) {
                                PciDev *x = bus->devices[i];
                                if (in[i - first] || !mfd_same_group(set[k], x))
                                        continue;
                                in[i - first] = true;
                                set[n++] = x;
                        }
                if (n == 1)
                        return join_new(t, PCI_GROUPING_ISOLATION, pdev, false);
                for (size_t k = 1; k < n; k++) {
                        g = set[k]->group[PCI_GROUPING_ISOLATION];
                        if (g) {
                                r = group_join(g, pdev, mfd_cause(pdev, set[k]));
                                if (r >= 0) {
                                        group_mark(g, pdev);
                                        pdev->via = strdupf("multifunction device %02x:%02x", pdev->bus_nr, pdev->dev);
                                }
                                return r;
                        }
                }
                r = join_new(t, PCI_GROUPING_ISOLATION, pdev, true);
                if (r >= 0) {
                        pdev->cause[PCI_GROUPING_ISOLATION] = mfd_cause(pdev, set[1]);
                        pdev->via = strdupf("multifunction device %02x:%02x", pdev->bus_nr, pdev->dev);
                }
                return r;
        }

        case BUS_PCI_BRIDGE_NON_ISOLATED:
        case BUS_PCIE_NON_ISOLATED:
                g = bus->self ? bus->self->group[PCI_GROUPING_ISOLATION] : NULL;
                if (!g)
                        return join_new(t, PCI_GROUPING_ISOLATION, pdev, true);
                pdev->via = bus->iso_via ? strdup(bus->iso_via) : NULL;
                r = group_join(g, pdev, bus->iso_cause ? strdup(bus->iso_cause) : NULL);
                if (r >= 0)
                        group_mark(g, pdev);
                return r;

        default: /* BUS_PCI_BUS_NON_ISOLATED, BUS_PCIE_SWITCH_DSP_NON_ISOLATED */
                pdev->via = bus->iso_via ? strdup(bus->iso_via) : NULL;
                for (size_t i = 0; i < bus->n_devices; i++) {
                        PciDev *x = bus->devices[i];
                        if (x == pdev || !(g = x->group[PCI_GROUPING_ISOLATION]))
                                continue;
                        r = group_join(g, pdev, bus->iso_cause ? strdup(bus->iso_cause) : NULL);
                        if (r >= 0)
                                group_mark(g, pdev);
                        return r;
                }
                r = join_new(t, PCI_GROUPING_ISOLATION, pdev, true);
                if (r >= 0)
                        pdev->cause[PCI_GROUPING_ISOLATION] = bus->iso_cause ? strdup(bus->iso_cause) : NULL;
                return r;
        }
}

int pci_groups_compute(PciTopology *t, PciDev **list, size_t n) {
        int r;

        for (size_t i = 0; i < n; i++)
                pci_groups_detach(t, list[i]);
        t->stamp++;
        for (size_t i = 0; i < n; i++) {
                r = mainline_assign(t, list[i]);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n; i++) {
                r = isolation_assign(t, list[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- output ---- */

static int cmp_member(const void *a, const void *b) {
        const PciDev *x = *(PciDev * const *) a, *y = *(PciDev * const *) b;
        uint64_t kx = pci_addr_key(x->domain, x->bus_nr, x->dev, x->func);
        uint64_t ky = pci_addr_key(y->domain, y->bus_nr, y->dev, y->func);
        return kx < ky ? -1 : kx > ky;
}

static int cmp_group(const void *a, const void *b) {
        const PciGroup *x = *(PciGroup * const *) a, *y = *(PciGroup * const *) b;
        return cmp_member(&x->members[0], &y->members[0]);
}

char **pci_group_addresses(const PciGroup *g) {
        _cleanup_free_ PciDev **m = NULL;
        char **l;

        if (!g || g->n_members == 0)
                return calloc(1, sizeof(char *));
        m = malloc(g->n_members * sizeof(PciDev *));
        l = calloc(g->n_members + 1, sizeof(char *));
        if (!m || !l) {
                free(l);
                return NULL;
        }
        memcpy(m, g->members, g->n_members * sizeof(PciDev *));
        qsort(m, g->n_members, sizeof(PciDev *), cmp_member);
        for (size_t i = 0; i < g->n_members; i++) {
                l[i] = strdup(m[i]->address);
                if (!l[i]) {
                        strv_free(l);
                        return NULL;
                }
        }
        return l;
}

int pci_groups_collect(PciTopology *t, PciGrouping kind, PciGroup ***ret, size_t *ret_n) {
        PciGroup **a = calloc(t->n_devices + 1, sizeof(PciGroup *));
        size_t n = 0;
        unsigned stamp = ++t->stamp;

        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < t->n_devices; i++) {
                PciGroup *g = t->devices[i]->group[kind];
                if (!g || g->stamp == stamp)
                        continue;
                g->stamp = stamp;
                qsort(g->members, g->n_members, sizeof(PciDev *), cmp_member);
                a[n++] = g;
        }
        qsort(a, n, sizeof(PciGroup *), cmp_group);
        *ret = a;
        *ret_n = n;
        return 0;
}
