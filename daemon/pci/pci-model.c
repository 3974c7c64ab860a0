/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>

#include "log.h"
#include "pci-model.h"

static const char *const port_type_names[] = {
        [PCI_TYPE_ENDPOINT] = "endpoint",
        [PCI_TYPE_LEGACY_ENDPOINT] = "legacy-endpoint",
        [PCI_TYPE_ROOT_PORT] = "root-port",
        [PCI_TYPE_UPSTREAM] = "upstream-port",
        [PCI_TYPE_DOWNSTREAM] = "downstream-port",
        [PCI_TYPE_PCIE_TO_PCI] = "pcie-to-pci-bridge",
        [PCI_TYPE_PCI_TO_PCIE] = "pci-to-pcie-bridge",
        [PCI_TYPE_RCIEP] = "rc-integrated-endpoint",
        [PCI_TYPE_RC_EC] = "rc-event-collector",
};

const char *pci_port_type_to_string(PciPortType t) {
        if (t == PCI_TYPE_CONVENTIONAL)
                return "conventional-pci";
        if ((unsigned) t < ELEMENTSOF(port_type_names) && port_type_names[t])
                return port_type_names[t];
        return "pcie-reserved-type";
}

static const char *const verdict_names[_PCI_VERDICT_MAX] = {
        [PCI_VERDICT_UNKNOWN] = "unknown",
        [PCI_VERDICT_ISOLATED] = "isolated",
        [PCI_VERDICT_SHARED] = "shared",
        [PCI_VERDICT_UNSAFE] = "unsafe",
        [PCI_VERDICT_NO_IOMMU] = "no-iommu",
};

const char *pci_verdict_to_string(PciVerdict v) {
        return (unsigned) v < _PCI_VERDICT_MAX ? verdict_names[v] : "unknown";
}

const char *pci_host_severity_to_string(PciHostSeverity s) {
        switch (s) {
        case PCI_HOST_INFO:
                return "info";
        case PCI_HOST_WARNING:
                return "warning";
        case PCI_HOST_FATAL:
                return "fatal";
        }
        return "unknown";
}

static int parse_hex(const char *s, size_t len, unsigned max, unsigned *ret) {
        unsigned v = 0;

        if (len == 0 || len > 8)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                if (!isxdigit((unsigned char) s[i]))
                        return -EINVAL;
                v = v * 16 + (unsigned) (isdigit((unsigned char) s[i]) ? s[i] - '0' : (tolower((unsigned char) s[i]) - 'a' + 10));
        }
        if (v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

int pci_parse_address(const char *s, uint32_t *ret_domain, uint8_t *ret_bus, uint8_t *ret_dev, uint8_t *ret_func) {
        unsigned domain = 0, bus, dev, func;
        const char *c1, *c2, *dot;
        int r;

        if (!s)
                return -EINVAL;
        c1 = strchr(s, ':');
        if (!c1)
                return -EINVAL;
        c2 = strchr(c1 + 1, ':');
        if (c2) {
                r = parse_hex(s, c1 - s, 0xffffffffu, &domain);
                if (r < 0)
                        return -EINVAL;
                s = c1 + 1;
                c1 = c2;
        }
        dot = strchr(c1 + 1, '.');
        if (!dot)
                return -EINVAL;
        if (parse_hex(s, c1 - s, 0xff, &bus) < 0 ||
            parse_hex(c1 + 1, dot - c1 - 1, 0x1f, &dev) < 0 ||
            strlen(dot + 1) != 1 || parse_hex(dot + 1, 1, 7, &func) < 0)
                return -EINVAL;

        if (ret_domain)
                *ret_domain = domain;
        if (ret_bus)
                *ret_bus = bus;
        if (ret_dev)
                *ret_dev = dev;
        if (ret_func)
                *ret_func = func;
        return 0;
}

void pci_format_address(char buf[static 24], uint32_t domain, uint8_t bus, uint8_t dev, uint8_t func) {
        snprintf(buf, 24, "%04x:%02x:%02x.%x", domain, bus, dev & 0x1f, func & 7);
}

PciDev *pci_dev_new(uint32_t domain, uint8_t bus, uint8_t dev, uint8_t func) {
        PciDev *d = calloc(1, sizeof(PciDev));
        if (!d)
                return NULL;
        d->domain = domain;
        d->bus_nr = bus;
        d->dev = dev & 0x1f;
        d->func = func & 7;
        d->port_type = PCI_TYPE_CONVENTIONAL;
        d->kernel_group = -1;
        pci_format_address(d->address, domain, bus, d->dev, d->func);
        return d;
}

void pci_dev_free(PciDev *d) {
        if (!d)
                return;
        free(d->vfs);
        free(d->driver);
        free(d->physfn_address);
        free(d->parent_name);
        free(d->cause[0]);
        free(d->cause[1]);
        free(d->via);
        strv_free(d->reasons);
        free(d);
}

PciTopology *pci_topology_new(void) {
        PciTopology *t = calloc(1, sizeof(PciTopology));
        if (!t)
                return NULL;
        t->by_addr = pci_map_new();
        t->buses = pci_map_new();
        t->kgroups = pci_map_new();
        t->iommu = -1;
        if (!t->by_addr || !t->buses || !t->kgroups)
                return pci_topology_free(t);
        return t;
}

static void bus_free(PciBus *b) {
        if (!b)
                return;
        free(b->iso_cause);
        free(b->iso_via);
        free(b->devices);
        free(b);
}

static void kgroup_free(PciKernelGroup *g) {
        if (!g)
                return;
        free(g->type);
        strv_free(g->addresses);
        free(g);
}


PciTopology *pci_topology_free(PciTopology *t) {
        void *v;

        if (!t)
                return NULL;

        /* Groups are owned by their members: free each once, when its last member goes. */
        for (size_t i = 0; i < t->n_devices; i++)
                pci_groups_detach(t, t->devices[i]);
        for (size_t i = 0; i < t->n_devices; i++)
                pci_dev_free(t->devices[i]);
        free(t->devices);

        if (t->buses) {
                for (size_t i = 0; pci_map_iterate(t->buses, &i, NULL, &v);)
                        bus_free(v);
                pci_map_free(t->buses);
        }
        if (t->kgroups) {
                for (size_t i = 0; pci_map_iterate(t->kgroups, &i, NULL, &v);)
                        kgroup_free(v);
                pci_map_free(t->kgroups);
        }
        pci_map_free(t->by_addr);
        for (size_t i = 0; i < t->n_findings; i++) {
                free(t->findings[i].id);
                free(t->findings[i].message);
        }
        free(t->findings);
        free(t->cmdline);
        free(t->source);
        free(t->sysfs_bus_pci);
        if (t->pacc)
                pci_topology_release_access(t);
        free(t);
        return NULL;
}

PciDev *pci_topology_find(const PciTopology *t, const char *address) {
        uint32_t domain;
        uint8_t bus, dev, func;

        if (pci_parse_address(address, &domain, &bus, &dev, &func) < 0)
                return NULL;
        return pci_map_get(t->by_addr, pci_addr_key(domain, bus, dev, func));
}

PciBus *pci_topology_find_bus(const PciTopology *t, uint32_t domain, uint8_t number) {
        return pci_map_get(t->buses, pci_bus_key(domain, number));
}

static uint64_t dev_key(const PciDev *d) {
        return pci_addr_key(d->domain, d->bus_nr, d->dev, d->func);
}

int pci_topology_add(PciTopology *t, PciDev *d) {
        int r;

        if (pci_map_get(t->by_addr, dev_key(d)))
                return -EEXIST;
        if (t->n_devices == t->allocated) {
                size_t n = t->allocated ? t->allocated * 2 : 64;
                PciDev **a = realloc(t->devices, n * sizeof(PciDev *));
                if (!a)
                        return -ENOMEM;
                t->devices = a;
                t->allocated = n;
        }
        r = pci_map_put(t->by_addr, dev_key(d), d);
        if (r < 0)
                return r;
        d->index = t->n_devices;
        t->devices[t->n_devices++] = d;
        t->verdict_count[d->verdict]++;
        return 0;
}

/* ---- buses ---- */

static int array_append(PciDev ***a, size_t *n, size_t *allocated, PciDev *d) {
        if (*n == *allocated) {
                size_t m = *allocated ? *allocated * 2 : 8;
                PciDev **x = realloc(*a, m * sizeof(PciDev *));
                if (!x)
                        return -ENOMEM;
                *a = x;
                *allocated = m;
        }
        (*a)[(*n)++] = d;
        return 0;
}

static void array_remove(PciDev **a, size_t *n, PciDev *d) {
        for (size_t i = 0; i < *n; i++)
                if (a[i] == d) {
                        memmove(a + i, a + i + 1, (*n - i - 1) * sizeof(PciDev *));
                        (*n)--;
                        return;
                }
}

static int bus_get(PciTopology *t, uint32_t domain, uint8_t number, PciBus **ret) {
        PciBus *b = pci_topology_find_bus(t, domain, number);
        int r;

        if (!b) {
                b = calloc(1, sizeof(PciBus));
                if (!b)
                        return -ENOMEM;
                b->domain = domain;
                b->number = number;
                b->iso = -1;
                r = pci_map_put(t->buses, pci_bus_key(domain, number), b);
                if (r < 0) {
                        free(b);
                        return r;
                }
        }
        *ret = b;
        return 0;
}

static int bus_insert_sorted(PciBus *b, PciDev *d) {
        int r = array_append(&b->devices, &b->n_devices, &b->allocated, d);
        if (r < 0)
                return r;
        /* keep devfn order (insertion sort step; buses hold at most 256 devices) */
        for (size_t i = b->n_devices - 1; i > 0; i--) {
                PciDev *p = b->devices[i - 1];
                if (((p->dev << 3) | p->func) <= ((d->dev << 3) | d->func))
                        break;
                b->devices[i] = p;
                b->devices[i - 1] = d;
        }
        d->bus = b;
        return 0;
}

/* Links a VF to its PF both ways (the PF's list lets removals clear the VFs' pointers). */
static int set_physfn(PciDev *vf, PciDev *pf) {
        if (vf->physfn == pf)
                return 0;
        if (vf->physfn)
                array_remove(vf->physfn->vfs, &vf->physfn->n_vfs, vf);
        vf->physfn = pf;
        if (!pf)
                return 0;
        return array_append(&pf->vfs, &pf->n_vfs, &pf->allocated_vfs, vf);
}

int pci_sriov_vf_rid(const PciDev *pf, unsigned i) {
        if (!pf->has_sriov || i >= pf->sriov_num)
                return -1;
        unsigned rid = ((unsigned) pf->bus_nr << 8) | ((unsigned) pf->dev << 3) | pf->func;
        rid += pf->sriov_offset + i * pf->sriov_stride;
        if (rid > 0xffff)
                return -1;
        return (int) rid;
}

/* Dumps carry no physfn links: a device is a VF when a PF in the same domain has SR-IOV with
 * VF Enable set, and the device's routing ID is one of PF RID + First VF Offset + i * VF
 * Stride for i < NumVFs. */
static int link_vfs_from_sriov(PciTopology *t) {
        for (size_t i = 0; i < t->n_devices; i++) {
                PciDev *pf = t->devices[i];
                if (!pf->has_sriov || !(pf->sriov_ctrl & 0x1) || pf->is_vf)
                        continue;
                for (unsigned v = 0; v < pf->sriov_num; v++) {
                        int rid = pci_sriov_vf_rid(pf, v);
                        if (rid < 0)
                                break;
                        PciDev *vf = pci_map_get(t->by_addr, pci_addr_key(pf->domain, rid >> 8, (rid >> 3) & 0x1f, rid & 7));
                        if (!vf || vf == pf || vf->physfn_address)
                                continue;
                        vf->is_vf = true;
                        if (set_physfn(vf, pf) < 0)
                                return -ENOMEM;
                }
        }
        return 0;
}

static void vf_fixups(PciDev *vf) {
        /* VF config space reads 0xffff for the IDs; the kernel takes them from the PF. */
        if (vf->physfn) {
                if (vf->vendor == 0xffff)
                        vf->vendor = vf->physfn->vendor;
                if (vf->device == 0xffff && vf->physfn->has_sriov)
                        vf->device = vf->physfn->sriov_vf_device;
        }
        vf->multifunction = false;
}

static int link_device_bus(PciTopology *t, PciDev *d) {
        PciBus *b;
        int r;

        r = bus_get(t, d->domain, d->bus_nr, &b);
        if (r < 0)
                return r;
        if (!b->self && !b->is_virtual && d->is_vf && d->physfn && d->physfn->bus != b &&
            (d->physfn->bus_nr != d->bus_nr)) {
                /* A bus that only VFs sit on: SR-IOV virtual bus, parent is the PF's bus. */
                b->is_virtual = true;
                b->parent = d->physfn->bus;
        }
        return bus_insert_sorted(b, d);
}

static int link_bridge(PciTopology *t, PciDev *d) {
        PciBus *b;
        int r;

        if (!d->is_bridge || d->secondary == 0 || d->secondary <= d->bus_nr)
                return 0;
        r = bus_get(t, d->domain, d->secondary, &b);
        if (r < 0)
                return r;
        if (b->self && b->self != d) {
                log_warning("PCI bridges %s and %s both claim bus %02x; keeping %s.",
                            b->self->address, d->address, d->secondary, b->self->address);
                return 0;
        }
        b->self = d;
        b->is_virtual = false;
        b->parent = d->bus;
        d->child_bus = b;
        return 0;
}

static PciDev *parent_from_name(PciTopology *t, PciDev *d) {
        if (!d->parent_name || strneq(d->parent_name, "pci", 3))
                return NULL;
        return pci_topology_find(t, d->parent_name);
}

int pci_topology_link(PciTopology *t) {
        int r;

        /* 1. VFs: sysfs gave physfn links; dumps need the SR-IOV capability. */
        for (size_t i = 0; i < t->n_devices; i++) {
                PciDev *d = t->devices[i];
                if (d->physfn_address) {
                        r = set_physfn(d, pci_topology_find(t, d->physfn_address));
                        if (r < 0)
                                return r;
                        d->is_vf = true;
                }
        }
        r = link_vfs_from_sriov(t);
        if (r < 0)
                return r;
        for (size_t i = 0; i < t->n_devices; i++)
                if (t->devices[i]->is_vf)
                        vf_fixups(t->devices[i]);

        /* 2. Bridges own their secondary bus. In sysfs mode the parent directory is the truth;
         * bus ranges are the truth for dumps. */
        for (size_t i = 0; i < t->n_devices; i++) {
                PciDev *d = t->devices[i], *p;
                if (d->is_vf || !d->parent_name)
                        continue;
                p = parent_from_name(t, d);
                if (p && !p->child_bus) {
                        PciBus *b;
                        r = bus_get(t, d->domain, d->bus_nr, &b);
                        if (r < 0)
                                return r;
                        if (!b->self) {
                                b->self = p;
                                b->parent = NULL;   /* fixed below, once p has a bus */
                                p->child_bus = b;
                        }
                }
        }
        for (size_t i = 0; i < t->n_devices; i++)
                if (!t->devices[i]->child_bus) {
                        r = link_bridge(t, t->devices[i]);
                        if (r < 0)
                                return r;
                }

        /* 3. Devices onto buses: non-VFs first so virtual buses are recognised. */
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < t->n_devices; i++) {
                        PciDev *d = t->devices[i];
                        if (d->bus || d->is_vf != (pass == 1))
                                continue;
                        r = link_device_bus(t, d);
                        if (r < 0)
                                return r;
                }

        /* 4. Parent pointers of buses with a bridge. */
        void *v;
        for (size_t i = 0; pci_map_iterate(t->buses, &i, NULL, &v);) {
                PciBus *b = v;
                if (b->self)
                        b->parent = b->self->bus;
        }
        return 0;
}

bool pci_dev_is_below(const PciDev *d, const PciDev *ancestor) {
        unsigned guard = 0;
        for (const PciBus *b = d->bus; b && guard < 512; b = b->parent, guard++) {
                if (b->self == ancestor)
                        return true;
        }
        if (d->is_vf && d->physfn)
                return d->physfn == ancestor || pci_dev_is_below(d->physfn, ancestor);
        return false;
}

/* ---- probe order ---- */

typedef struct OrderCtx {
        PciDev **out;
        size_t n, allocated;
        PciDev **vfs;
        size_t n_vfs, allocated_vfs;
        unsigned stamp;
} OrderCtx;

static int order_bus(OrderCtx *c, PciBus *b, unsigned depth);

static int order_add(OrderCtx *c, PciDev *d) {
        if (d->stamp == c->stamp)
                return 0;
        d->stamp = c->stamp;
        if (d->is_vf)
                return array_append(&c->vfs, &c->n_vfs, &c->allocated_vfs, d);
        return array_append(&c->out, &c->n, &c->allocated, d);
}

static int order_below(OrderCtx *c, PciDev *d, unsigned depth) {
        if (d->child_bus && d->child_bus->self == d)
                return order_bus(c, d->child_bus, depth + 1);
        return 0;
}

static int order_bus(OrderCtx *c, PciBus *b, unsigned depth) {
        int r;

        if (depth > 256)
                return -ELOOP;
        /* Like pci_bus_add_devices(): all devices of a bus, then the buses below them. */
        for (size_t i = 0; i < b->n_devices; i++) {
                r = order_add(c, b->devices[i]);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < b->n_devices; i++) {
                r = order_below(c, b->devices[i], depth);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int cmp_bus(const void *a, const void *b) {
        const PciBus *x = *(PciBus * const *) a, *y = *(PciBus * const *) b;
        if (x->domain != y->domain)
                return x->domain < y->domain ? -1 : 1;
        return (int) x->number - (int) y->number;
}

static int cmp_dev(const void *a, const void *b) {
        const PciDev *x = *(PciDev * const *) a, *y = *(PciDev * const *) b;
        uint64_t kx = dev_key(x), ky = dev_key(y);
        return kx < ky ? -1 : kx > ky;
}

int pci_topology_probe_order(PciTopology *t, PciDev **roots, size_t n_roots, PciDev ***ret, size_t *ret_n) {
        OrderCtx c = { .stamp = ++t->stamp };
        int r = 0;

        if (!roots) {
                _cleanup_free_ PciBus **rb = NULL;
                size_t n_rb = 0;
                void *v;

                rb = calloc(pci_map_size(t->buses) + 1, sizeof(PciBus *));
                if (!rb)
                        return -ENOMEM;
                for (size_t i = 0; pci_map_iterate(t->buses, &i, NULL, &v);)
                        if (pci_bus_is_root(v))
                                rb[n_rb++] = v;
                qsort(rb, n_rb, sizeof(PciBus *), cmp_bus);
                for (size_t i = 0; i < n_rb && r >= 0; i++)
                        r = order_bus(&c, rb[i], 0);
                /* Devices not reachable from a root bus (broken links): still audit them. */
                for (size_t i = 0; i < t->n_devices && r >= 0; i++)
                        if (t->devices[i]->stamp != c.stamp)
                                r = order_add(&c, t->devices[i]);
        } else {
                for (size_t i = 0; i < n_roots && r >= 0; i++) {
                        r = order_add(&c, roots[i]);
                        if (r >= 0)
                                r = order_below(&c, roots[i], 0);
                }
                /* VFs of PFs in the region (they may sit on virtual buses). */
                for (size_t i = 0; i < c.n && r >= 0; i++)
                        for (size_t v = 0; v < c.out[i]->n_vfs && r >= 0; v++)
                                r = order_add(&c, c.out[i]->vfs[v]);
        }
        if (r < 0)
                goto fail;

        if (c.n_vfs > 0)
                qsort(c.vfs, c.n_vfs, sizeof(PciDev *), cmp_dev);
        for (size_t i = 0; i < c.n_vfs; i++) {
                r = array_append(&c.out, &c.n, &c.allocated, c.vfs[i]);
                if (r < 0)
                        goto fail;
        }
        free(c.vfs);
        *ret = c.out;
        *ret_n = c.n;
        return 0;
fail:
        free(c.out);
        free(c.vfs);
        return r;
}

/* ---- removal ---- */


static void unlink_device(PciTopology *t, PciDev *d) {
        pci_groups_detach(t, d);
        if (d->bus) {
                array_remove(d->bus->devices, &d->bus->n_devices, d);
                if (d->bus->n_devices == 0 && !d->bus->self) {
                        pci_map_remove(t->buses, pci_bus_key(d->bus->domain, d->bus->number));
                        bus_free(d->bus);
                }
                d->bus = NULL;
        }
        if (d->child_bus && d->child_bus->self == d) {
                PciBus *b = d->child_bus;
                b->self = NULL;
                if (b->n_devices == 0) {
                        pci_map_remove(t->buses, pci_bus_key(b->domain, b->number));
                        bus_free(b);
                }
                d->child_bus = NULL;
        }
        pci_map_remove(t->by_addr, dev_key(d));
        size_t idx = d->index;
        t->devices[idx] = t->devices[--t->n_devices];
        t->devices[idx]->index = idx;
}

int pci_topology_remove_device(PciTopology *t, PciDev *d, char ***ret_removed) {
        _cleanup_free_ PciDev **below = NULL;
        size_t n_below = 0;
        int r;

        /* Everything below d (children first) and its VFs go with it. */
        r = pci_topology_probe_order(t, &d, 1, &below, &n_below);
        if (r < 0)
                return r;
        for (size_t i = n_below; i > 0; i--) {
                PciDev *x = below[i - 1];
                if (ret_removed) {
                        r = strv_extend(ret_removed, x->address);
                        if (r < 0)
                                return r;
                }
                /* VFs whose PF goes lose their PF pointer, a VF leaves its PF's list */
                while (x->n_vfs > 0)
                        (void) set_physfn(x->vfs[x->n_vfs - 1], NULL);
                (void) set_physfn(x, NULL);
                unlink_device(t, x);
                t->verdict_count[x->verdict]--;
                pci_dev_free(x);
        }
        return 0;
}

/* Linking a single device that appeared (hotplug) or was re-read. */
int pci_topology_link_one(PciTopology *t, PciDev *d) {
        PciDev *p;
        int r;

        if (d->physfn_address) {
                r = set_physfn(d, pci_topology_find(t, d->physfn_address));
                if (r < 0)
                        return r;
                d->is_vf = true;
        }
        if (d->is_vf)
                vf_fixups(d);

        p = parent_from_name(t, d);
        if (p && !d->is_vf && !p->child_bus) {
                PciBus *b;
                r = bus_get(t, d->domain, d->bus_nr, &b);
                if (r < 0)
                        return r;
                if (!b->self) {
                        b->self = p;
                        b->parent = p->bus;
                        p->child_bus = b;
                }
        }
        r = link_bridge(t, d);
        if (r < 0)
                return r;
        if (d->child_bus)
                d->child_bus->parent = NULL;
        r = link_device_bus(t, d);
        if (r < 0)
                return r;
        if (d->child_bus)
                d->child_bus->parent = d->bus;
        if (d->bus->self && !d->bus->parent)
                d->bus->parent = d->bus->self->bus;
        return 0;
}
