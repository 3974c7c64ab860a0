/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdarg.h>

#include "fileio.h"
#include "log.h"
#include "paths.h"
#include "pci-audit.h"

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

static int cmp_strp(const void *a, const void *b) {
        return strcmp(*(char * const *) a, *(char * const *) b);
}

void pci_strv_sort(char **l) {
        size_t n = strv_length(l);
        if (n > 1)
                qsort(l, n, sizeof(char *), cmp_strp);
}

bool pci_strv_equal(char **a, char **b) {
        size_t na = strv_length(a), nb = strv_length(b);
        if (na != nb || (!a) != (!b))
                return false;
        for (size_t i = 0; i < na; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return true;
}

static int strv_push(char ***l, char *s) {
        if (!s)
                return -ENOMEM;
        int r = strv_extend(l, s);
        free(s);
        return r < 0 ? r : 0;
}

/* "a", "a and b", "a, b and c" */
static char *join_english(char **l) {
        size_t n = strv_length(l), len = 1;
        for (size_t i = 0; i < n; i++)
                len += strlen(l[i]) + 5;
        char *s = malloc(len), *p = s;
        if (!s)
                return NULL;
        *p = '\0';
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        p = stpcpy(p, i + 1 == n ? " and " : ", ");
                p = stpcpy(p, l[i]);
        }
        return s;
}

/* Reasons name at most this many devices of a group; the group itself is listed once, in the
 * host-wide tables, so a device's reasons never grow with the size of its group. */
#define REASON_NAMES_MAX 4

/* join_english() of the first REASON_NAMES_MAX entries, then "and N more (group G)". */
static char *join_english_capped(char **l, const char *group) {
        size_t n = strv_length(l);
        if (n <= REASON_NAMES_MAX)
                return join_english(l);
        char h[REASON_NAMES_MAX * 32] = "", *p = h;
        for (size_t i = 0; i < REASON_NAMES_MAX; i++)
                p += snprintf(p, sizeof(h) - (p - h), "%s%.24s", i > 0 ? ", " : "", l[i]);
        return strdupf("%s and %zu more (group %s)", h, n - REASON_NAMES_MAX, group);
}

static bool has_token(const char *cmdline, const char *prefix, bool exact) {
        size_t pl = strlen(prefix);
        for (const char *p = cmdline; p && *p;) {
                p += strspn(p, " \t\n");
                size_t len = strcspn(p, " \t\n");
                if (len >= pl && strneq(p, prefix, pl) && (!exact || len == pl))
                        return true;
                p += len;
        }
        return false;
}

static int add_finding(PciTopology *t, const char *id, PciHostSeverity sev, char *message) {
        if (!message)
                return -ENOMEM;
        PciHostFinding *f = realloc(t->findings, (t->n_findings + 1) * sizeof(PciHostFinding));
        if (!f) {
                free(message);
                return -ENOMEM;
        }
        t->findings = f;
        f[t->n_findings].id = strdup(id);
        f[t->n_findings].severity = sev;
        f[t->n_findings].message = message;
        if (!f[t->n_findings].id) {
                free(message);
                return -ENOMEM;
        }
        t->n_findings++;
        return 0;
}

static void findings_clear(PciTopology *t) {
        for (size_t i = 0; i < t->n_findings; i++) {
                free(t->findings[i].id);
                free(t->findings[i].message);
        }
        t->findings = mfree(t->findings);
        t->n_findings = 0;
}

int pci_audit_host(PciTopology *t, const char *cmdline) {
        int r = 0;

        findings_clear(t);
        if (cmdline && cmdline != t->cmdline) {
                free(t->cmdline);
                t->cmdline = strdup(cmdline);
                if (!t->cmdline)
                        return -ENOMEM;
                strstrip_trailing(t->cmdline);
        }
        const char *c = t->cmdline;

        bool off_cmdline = c && (has_token(c, "amd_iommu=off", true) || has_token(c, "iommu=off", true) ||
                                 has_token(c, "intel_iommu=off", true));
        if (t->iommu == 0 || off_cmdline)
                r = add_finding(t, "iommu-off", PCI_HOST_FATAL,
                                strdupf("The IOMMU is off (%s): no device can be isolated from the host or from other "
                                        "guests, and SEV-SNP cannot start. Enable the IOMMU in the firmware setup and "
                                        "remove amd_iommu=off/iommu=off from the kernel command line.",
                                        off_cmdline ? "disabled on the kernel command line" : "the kernel created no IOMMU groups"));
        if (r < 0)
                return r;

        bool pt_cmdline = c && (has_token(c, "iommu=pt", true) || has_token(c, "amd_iommu=pt", true) ||
                                has_token(c, "iommu.passthrough=1", true) || has_token(c, "iommu.passthrough=y", true));
        unsigned identity = 0;
        void *v;
        for (size_t i = 0; pci_map_iterate(t->kgroups, &i, NULL, &v);) {
                PciKernelGroup *g = v;
                if (g->type && streq(g->type, "identity"))
                        identity++;
        }
        if (pt_cmdline || identity > 0)
                r = add_finding(t, "iommu-passthrough", PCI_HOST_FATAL,
                                strdupf("The IOMMU's default domain is passthrough (%s%s%u group(s) of type identity): DMA "
                                        "from host devices is not translated, which SEV-SNP refuses (\"IOMMU is either "
                                        "disabled or configured in passthrough mode\"). Remove iommu=pt/amd_iommu=pt "
                                        "from the kernel command line.",
                                        pt_cmdline ? "iommu=pt on the kernel command line" : "",
                                        pt_cmdline ? ", " : "", identity));
        if (r < 0)
                return r;

        if (c && has_token(c, "pcie_acs_override=", false))
                r = add_finding(t, "acs-override", PCI_HOST_WARNING,
                                strdupf("pcie_acs_override is on the kernel command line: an out-of-tree patch that "
                                        "pretends devices have ACS. The kernel's IOMMU groups are then faked and must not "
                                        "be trusted; remove the option. (A mainline kernel ignores it.)"));
        return r;
}

int pci_audit_host_from_proc(PciTopology *t, const char *proc_dir) {
        _cleanup_free_ char *p = path_join(proc_dir ?: paths_proc_dir(), "cmdline");
        _cleanup_free_ char *text = NULL;

        if (!p)
                return -ENOMEM;
        if (read_full_file(p, 1024 * 1024, &text, NULL) < 0)
                log_debug("Cannot read %s; no command-line findings.", p);
        return pci_audit_host(t, text);
}

/* ---- verdicts ---- */

static const PciDev *config_gap(const PciDev *d) {
        unsigned guard = 0;
        for (const PciDev *x = d; x && guard++ < 256; x = x->bus ? x->bus->self : NULL) {
                if (x->cfg_size < 256 || (pci_dev_is_pcie(x) && x->cfg_size < 4096))
                        return x;
                if (!x->bus)
                        break;
        }
        return NULL;
}

static char **kernel_members(PciTopology *t, PciDev *d, bool *ret_predicted) {
        *ret_predicted = false;
        if (t->kernel_groups_known) {
                PciKernelGroup *g = pci_kgroups_get(t, d->kernel_group);
                if (!g)
                        return NULL;
                size_t n = strv_length(g->addresses);
                char **l = calloc(n + 1, sizeof(char *));
                if (!l)
                        return NULL;
                for (size_t i = 0; i < n; i++)
                        if (!(l[i] = strdup(g->addresses[i]))) {
                                strv_free(l);
                                return NULL;
                        }
                pci_strv_sort(l);
                return l;
        }
        *ret_predicted = true;
        return pci_group_addresses(d->group[PCI_GROUPING_PREDICTED]);
}

/* Elements of sorted a that are not in sorted b; *ret stays NULL when there are none. */
static int sorted_difference(char **a, char **b, char ***ret) {
        size_t na = strv_length(a), nb = strv_length(b), j = 0;
        for (size_t i = 0; i < na; i++) {
                while (j < nb && strcmp(b[j], a[i]) < 0)
                        j++;
                if (j < nb && streq(b[j], a[i]))
                        continue;
                if (strv_extend(ret, a[i]) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int add_group_causes(PciGroup *g, char ***reasons) {
        char **seen = NULL;
        int r = 0;

        if (!g)
                return 0;
        for (size_t i = 0; i < g->n_members && r >= 0; i++) {
                PciDev *m = g->members[i];
                const char *c = m->cause[PCI_GROUPING_ISOLATION];
                if (!c || m->inherited || strv_contains(seen, c))
                        continue;
                r = strv_extend(&seen, c);
        }
        if (r >= 0 && seen) {
                /* deterministic order */
                size_t n = strv_length(seen);
                for (size_t i = 1; i < n; i++)
                        for (size_t j = i; j > 0 && strcmp(seen[j - 1], seen[j]) > 0; j--) {
                                char *x = seen[j];
                                seen[j] = seen[j - 1];
                                seen[j - 1] = x;
                        }
                STRV_FOREACH(c, seen)
                        if ((r = strv_extend(reasons, *c)) < 0)
                                break;
        }
        strv_free(seen);
        return r < 0 ? r : 0;
}

static const char *dev_via(PciDev *d) {
        if (d->via)
                return d->via;
        /* the lowest-addressed member that names one, so the text does not depend on the
         * order devices joined the group */
        PciGroup *g = d->group[PCI_GROUPING_ISOLATION];
        const PciDev *best = NULL;
        for (size_t i = 0; g && i < g->n_members; i++) {
                const PciDev *m = g->members[i];
                if (!m->via || m->inherited)
                        continue;
                if (!best || pci_addr_key(m->domain, m->bus_nr, m->dev, m->func) <
                             pci_addr_key(best->domain, best->bus_nr, best->dev, best->func))
                        best = m;
        }
        return best ? best->via : NULL;
}

static int dev_verdict(PciTopology *t, PciDev *d) {
        _cleanup_strv_free_ char **reasons = NULL, **iso = NULL, **pred = NULL, **kern = NULL;
        PciVerdict v;
        bool predicted;
        int r;

        iso = pci_group_addresses(d->group[PCI_GROUPING_ISOLATION]);
        pred = pci_group_addresses(d->group[PCI_GROUPING_PREDICTED]);
        if (!iso || !pred)
                return -ENOMEM;
        kern = kernel_members(t, d, &predicted);
        const PciDev *gap = config_gap(d);

        if (t->iommu == 0) {
                v = PCI_VERDICT_NO_IOMMU;
                r = strv_push(&reasons, strdupf("The IOMMU is off: %s cannot be isolated from the host or other devices; "
                                                "enable the IOMMU before assigning it.", d->address));
        } else if (gap) {
                v = PCI_VERDICT_UNKNOWN;
                r = strv_push(&reasons, strdupf("Only %u bytes of the config space of %s are readable, so its ACS "
                                                "capability is unknown; read it as root (CAP_SYS_ADMIN) or capture the "
                                                "dump with `sudo lspci -xxxx`.", gap->cfg_size, gap->address));
        } else if (t->kernel_groups_known && d->kernel_group < 0) {
                v = PCI_VERDICT_UNKNOWN;
                r = strv_push(&reasons, strdupf("The kernel put %s in no IOMMU group, so VFIO cannot assign it.", d->address));
        } else {
                _cleanup_strv_free_ char **missing = NULL, **extra = NULL, **reach = NULL;
                char kname[64];

                if (!kern)
                        return -ENOMEM;
                if (predicted)
                        snprintf(kname, sizeof(kname), "the predicted kernel IOMMU group");
                else
                        snprintf(kname, sizeof(kname), "the kernel's IOMMU group %d", d->kernel_group);

                if (sorted_difference(iso, kern, &missing) < 0 || sorted_difference(kern, iso, &extra) < 0)
                        return -ENOMEM;

                if (missing) {
                        v = PCI_VERDICT_UNSAFE;
                        r = add_group_causes(d->group[PCI_GROUPING_ISOLATION], &reasons);
                        if (r < 0)
                                return r;
                        STRV_FOREACH(a, missing) {
                                PciDev *m = pci_topology_find(t, *a);
                                if (m && !m->is_bridge && strv_extend(&reach, *a) < 0)
                                        return -ENOMEM;
                        }
                        _cleanup_free_ char *rl = join_english_capped(reach ?: missing, iso[0]);
                        _cleanup_free_ char *kl = join_english_capped(kern, kern[0]);
                        const char *via = dev_via(d);
                        r = strv_push(&reasons, strdupf("%s can reach %s%s%s; %s holds only %s, so VFIO would hand %s to a "
                                                        "guest as if it were isolated. Assign all of them together or "
                                                        "keep them all on the host.",
                                                        d->address, strna(rl), via ? " through " : "", via ?: "",
                                                        kname, strna(kl), d->address));
                } else if (strv_length(kern) > 1 || strv_length(iso) > 1) {
                        _cleanup_strv_free_ char **others = NULL;
                        v = PCI_VERDICT_SHARED;
                        STRV_FOREACH(a, kern)
                                if (!streq(*a, d->address) && strv_extend(&others, *a) < 0)
                                        return -ENOMEM;
                        _cleanup_free_ char *ol = join_english_capped(others, kern[0]);
                        r = strv_push(&reasons, strdupf("%s shares %s with %s: they must be assigned to the same guest "
                                                        "together (or stay on the host).", d->address, kname, strna(ol)));
                        if (r >= 0 && strv_length(iso) > 1)
                                r = add_group_causes(d->group[PCI_GROUPING_ISOLATION], &reasons);
                        if (r >= 0 && extra) {
                                _cleanup_free_ char *el = join_english_capped(extra, kern[0]);
                                r = strv_push(&reasons, strdupf("By config space %s cannot reach %s; the kernel groups them "
                                                                "anyway (stricter than needed: its mainline rules, a quirk "
                                                                "or a DMA alias).", d->address, strna(el)));
                        }
                } else {
                        v = PCI_VERDICT_ISOLATED;
                        r = strv_push(&reasons, strdupf("%s is alone in %s and no other device can reach it.", d->address, kname));
                }
                if (r >= 0 && !predicted && !pci_strv_equal(pred, kern)) {
                        _cleanup_free_ char *pl = join_english_capped(pred, pred[0]);
                        r = strv_push(&reasons, strdupf("The kernel's group differs from the one predicted from config "
                                                        "space (%s): a device quirk, DMA alias or kernel option that "
                                                        "hwsecd does not model.", strna(pl)));
                }
        }
        if (r < 0)
                return r;

        for (size_t i = 0; i < t->n_findings; i++)
                if (streq(t->findings[i].id, "acs-override") && v != PCI_VERDICT_NO_IOMMU) {
                        r = strv_push(&reasons, strdupf("pcie_acs_override is on the kernel command line: the kernel's "
                                                        "groups may be faked."));
                        if (r < 0)
                                return r;
                }

        if (v != d->verdict || !pci_strv_equal(reasons, d->reasons))
                d->changed |= PCI_CHANGED_VERDICT;
        if (!streq(iso[0] ?: "", d->iso_leader) || !streq(pred[0] ?: "", d->pred_leader))
                d->changed |= PCI_CHANGED_GROUPS;
        if (d->kernel_group != d->kernel_group_shown)
                d->changed |= PCI_CHANGED_KGROUP;

        t->verdict_count[d->verdict]--;
        t->verdict_count[v]++;
        d->verdict = v;
        strv_free(d->reasons);
        d->reasons = TAKE_PTR(reasons);
        snprintf(d->iso_leader, sizeof(d->iso_leader), "%s", iso[0] ?: "");
        snprintf(d->pred_leader, sizeof(d->pred_leader), "%s", pred[0] ?: "");
        d->kernel_group_shown = d->kernel_group;
        return 0;
}

int pci_audit_verdicts(PciTopology *t, PciDev **list, size_t n) {
        for (size_t i = 0; i < n; i++) {
                int r = dev_verdict(t, list[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

int pci_audit_full(PciTopology *t) {
        _cleanup_free_ PciDev **order = NULL;
        size_t n;
        int r;

        r = pci_topology_probe_order(t, NULL, 0, &order, &n);
        if (r < 0)
                return r;
        r = pci_groups_compute(t, order, n);
        if (r < 0)
                return r;
        return pci_audit_verdicts(t, order, n);
}

static int roots_append(PciDev ***roots, size_t *n, size_t *allocated, PciDev *d) {
        for (size_t i = 0; i < *n; i++)
                if ((*roots)[i] == d)
                        return 0;
        if (*n == *allocated) {
                size_t m = *allocated ? *allocated * 2 : 8;
                PciDev **x = realloc(*roots, m * sizeof(PciDev *));
                if (!x)
                        return -ENOMEM;
                *roots = x;
                *allocated = m;
        }
        (*roots)[(*n)++] = d;
        return 0;
}

int pci_audit_region_for(PciTopology *t, PciDev *d, PciDev ***roots, size_t *n_roots, size_t *allocated) {
        int r;

        if (d->is_vf || !d->bus)
                /* a VF's groups depend on nothing below it, and nothing depends on a VF */
                return roots_append(roots, n_roots, allocated, d);

        /* Everything on the same bus can depend on d (switch internal buses, conventional
         * buses); on a root bus only its slot (multifunction rules). */
        PciBus *b = d->bus;
        for (size_t i = 0; i < b->n_devices; i++) {
                PciDev *x = b->devices[i];
                if (pci_bus_is_root(b) && x->dev != d->dev)
                        continue;
                r = roots_append(roots, n_roots, allocated, x);
                if (r < 0)
                        return r;
        }
        return 0;
}

static unsigned dev_depth(const PciDev *d) {
        unsigned n = 0;
        for (const PciBus *b = d->bus; b && n < 512; b = b->parent)
                n++;
        return n;
}

static int cmp_depth(const void *a, const void *b) {
        const PciDev *x = *(PciDev * const *) a, *y = *(PciDev * const *) b;
        unsigned dx = dev_depth(x), dy = dev_depth(y);
        if (dx != dy)
                return dx < dy ? -1 : 1;
        uint64_t kx = pci_addr_key(x->domain, x->bus_nr, x->dev, x->func);
        uint64_t ky = pci_addr_key(y->domain, y->bus_nr, y->dev, y->func);
        return kx < ky ? -1 : kx > ky;
}

static int cmp_addr(const void *a, const void *b) {
        const PciDev *x = *(PciDev * const *) a, *y = *(PciDev * const *) b;
        uint64_t kx = pci_addr_key(x->domain, x->bus_nr, x->dev, x->func);
        uint64_t ky = pci_addr_key(y->domain, y->bus_nr, y->dev, y->func);
        return kx < ky ? -1 : kx > ky;
}

static int collect_group_members(PciTopology *t, PciDev *d, PciDev ***set, size_t *n, size_t *allocated, unsigned stamp) {
        int r;
        for (unsigned k = 0; k < _PCI_GROUPING_MAX; k++) {
                PciGroup *g = d->group[k];
                for (size_t i = 0; g && i < g->n_members; i++) {
                        PciDev *m = g->members[i];
                        if (m->stamp == stamp)
                                continue;
                        m->stamp = stamp;
                        r = roots_append(set, n, allocated, m);
                        if (r < 0)
                                return r;
                }
        }
        PciKernelGroup *kg = pci_kgroups_get(t, d->kernel_group);
        STRV_FOREACH(a, kg ? kg->addresses : NULL) {
                PciDev *m = pci_topology_find(t, *a);
                if (!m || m->stamp == stamp)
                        continue;
                m->stamp = stamp;
                r = roots_append(set, n, allocated, m);
                if (r < 0)
                        return r;
        }
        return 0;
}

int pci_audit_update(PciTopology *t, PciDev **touched, size_t n_touched, PciDev ***ret_affected, size_t *ret_n) {
        return pci_audit_update_extra(t, touched, n_touched, NULL, 0, ret_affected, ret_n);
}

int pci_audit_update_extra(PciTopology *t, PciDev **touched, size_t n_touched, PciDev **extra, size_t n_extra,
                           PciDev ***ret_affected, size_t *ret_n) {
        _cleanup_free_ PciDev **roots = NULL, **region = NULL, **affected = NULL;
        size_t n_roots = 0, a_roots = 0, n_region = 0, n_aff = 0, a_aff = 0;
        int r;

        for (size_t i = 0; i < n_touched; i++) {
                r = pci_audit_region_for(t, touched[i], &roots, &n_roots, &a_roots);
                if (r < 0)
                        return r;
        }
        /* shallow roots first, so parents are grouped before the devices below them */
        if (n_roots > 0) {
                qsort(roots, n_roots, sizeof(PciDev *), cmp_depth);
                /* (with no roots probe_order() would order the whole tree) */
                r = pci_topology_probe_order(t, roots, n_roots, &region, &n_region);
                if (r < 0)
                        return r;
        }

        /* Everything that shared a group with the region before... */
        unsigned stamp = ++t->stamp;
        for (size_t i = 0; i < n_region; i++)
                region[i]->stamp = stamp;
        for (size_t i = 0; i < n_region; i++) {
                r = roots_append(&affected, &n_aff, &a_aff, region[i]);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n_extra; i++) {
                if (extra[i]->stamp == stamp)
                        continue;
                extra[i]->stamp = stamp;
                r = roots_append(&affected, &n_aff, &a_aff, extra[i]);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n_region; i++) {
                r = collect_group_members(t, region[i], &affected, &n_aff, &a_aff, stamp);
                if (r < 0)
                        return r;
        }

        r = pci_groups_compute(t, region, n_region);
        if (r < 0)
                return r;

        /* ...and after. (pci_groups_compute bumped t->stamp; keep our own.) */
        for (size_t i = 0; i < n_aff; i++)
                affected[i]->stamp = stamp;
        for (size_t i = 0; i < n_region; i++) {
                r = collect_group_members(t, region[i], &affected, &n_aff, &a_aff, stamp);
                if (r < 0)
                        return r;
        }

        r = pci_audit_verdicts(t, affected, n_aff);
        if (r < 0)
                return r;
        if (ret_affected) {
                *ret_affected = TAKE_PTR(affected);
                *ret_n = n_aff;
        }
        return 0;
}

int pci_audit_remove(PciTopology *t, PciDev *d, char ***ret_removed, PciDev ***ret_affected, size_t *ret_n) {
        _cleanup_free_ PciDev **roots = NULL, **peers = NULL, **below = NULL;
        size_t n_roots = 0, a_roots = 0, n_peers = 0, a_peers = 0, n_below = 0;
        int r;

        /* what d and everything below it shared groups with, and the bus it leaves */
        r = pci_topology_probe_order(t, &d, 1, &below, &n_below);
        if (r < 0)
                return r;
        unsigned stamp = ++t->stamp;
        for (size_t i = 0; i < n_below; i++)
                below[i]->stamp = stamp;
        for (size_t i = 0; i < n_below; i++) {
                r = collect_group_members(t, below[i], &peers, &n_peers, &a_peers, stamp);
                if (r < 0)
                        return r;
        }
        r = pci_audit_region_for(t, d, &roots, &n_roots, &a_roots);
        if (r < 0)
                return r;
        /* the region's roots are d's bus mates: drop those that go with d (d, its VFs) */
        _cleanup_(pci_map_freep) PciMap *gone = pci_map_new();
        if (!gone)
                return -ENOMEM;
        for (size_t i = 0; i < n_below; i++) {
                r = pci_map_put(gone, pci_addr_key(below[i]->domain, below[i]->bus_nr, below[i]->dev, below[i]->func), below[i]);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n_roots; i++)
                if (pci_map_get(gone, pci_addr_key(roots[i]->domain, roots[i]->bus_nr, roots[i]->dev, roots[i]->func)))
                        roots[i--] = roots[--n_roots];
        for (size_t i = 0; i < n_below; i++)
                pci_kgroups_remove_address(t, below[i]->address, below[i]->kernel_group);
        r = pci_topology_remove_device(t, d, ret_removed);
        if (r < 0)
                return r;
        return pci_audit_update_extra(t, roots, n_roots, peers, n_peers, ret_affected, ret_n);
}

char **pci_audit_companions(PciTopology *t, PciDev *d) {
        bool predicted;
        _cleanup_strv_free_ char **kern = kernel_members(t, d, &predicted);
        _cleanup_strv_free_ char **iso = pci_group_addresses(d->group[PCI_GROUPING_ISOLATION]);
        char **a = kern, **b = iso;
        size_t na = strv_length(a), nb = strv_length(b), i = 0, j = 0, n = 0;
        char **l = calloc(na + nb + 2, sizeof(char *));

        if (!l)
                return NULL;
        /* both lists are sorted: merge them without duplicates */
        while (i < na || j < nb) {
                const char *x;
                int c = i >= na ? 1 : j >= nb ? -1 : strcmp(a[i], b[j]);
                if (c < 0)
                        x = a[i++];
                else if (c > 0)
                        x = b[j++];
                else {
                        x = a[i++];
                        j++;
                }
                if (!(l[n++] = strdup(x)))
                        goto oom;
        }
        if (n == 0 && !(l[n++] = strdup(d->address)))
                goto oom;
        return l;
oom:
        strv_free(l);
        return NULL;
}

unsigned pci_audit_count_verdict(const PciTopology *t, PciVerdict v) {
        /* kept as devices come, go and change verdict: no walk over the host per update */
        return (unsigned) t->verdict_count[v];
}

/* ---- JSON ---- */

static json_object *json_strv(char **l) {
        json_object *a = json_object_new_array();
        if (!a)
                return NULL;
        STRV_FOREACH(s, l)
                json_object_array_add(a, json_object_new_string(*s));
        return a;
}

static json_object *json_hex(unsigned v, int width) {
        char b[16];
        snprintf(b, sizeof(b), "0x%0*x", width, v);
        return json_object_new_string(b);
}

static json_object *acs_to_json(const PciAcs *acs) {
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        json_object_object_add(o, "offset", json_hex(acs->pos, 3));
        json_object_object_add(o, "capability", json_hex(acs->cap, 4));
        json_object_object_add(o, "control", json_hex(acs->ctrl, 4));
        json_object_object_add(o, "capability_bits", json_object_new_string(pci_acs_bits_lspci(acs->cap, 0)));
        json_object_object_add(o, "control_bits", json_object_new_string(pci_acs_bits_lspci(acs->ctrl, 1)));
        bool enh = acs->cap & PCI_ACS_ENHANCED;
        json_object_object_add(o, "enhanced", json_object_new_boolean(enh));
        if (enh) {
                json_object_object_add(o, "io_request_blocking", json_object_new_boolean(acs->ctrl & PCI_ACS_CTRL_IORB));
                json_object_object_add(o, "dsp_memory_target", json_object_new_string(pci_mem_target_to_string(pci_acs_dsp_mt(acs->ctrl))));
                json_object_object_add(o, "usp_memory_target", json_object_new_string(pci_mem_target_to_string(pci_acs_usp_mt(acs->ctrl))));
                json_object_object_add(o, "unclaimed_request_redirect", json_object_new_boolean(acs->ctrl & PCI_ACS_CTRL_URRC));
        }
        if (acs->cap & PCI_ACS_EC) {
                json_object_object_add(o, "egress_vector_bits", json_object_new_int((int) acs->egress_bits));
                if (acs->egress_read) {
                        json_object *v = json_object_new_array();
                        for (unsigned i = 0; i < (acs->egress_bits + 31) / 32 && i < ELEMENTSOF(acs->egress); i++)
                                json_object_array_add(v, json_hex(acs->egress[i], 8));
                        json_object_object_add(o, "egress_vector", v);
                }
        }
        return o;
}

int pci_dev_to_json(PciTopology *t, PciDev *d, json_object **ret) {
        json_object *o = json_object_new_object();
        if (!o)
                return -ENOMEM;

        json_object_object_add(o, "verdict", json_object_new_string(pci_verdict_to_string(d->verdict)));
        json_object_object_add(o, "reasons", json_strv(d->reasons));
        json_object_object_add(o, "vendor", json_hex(d->vendor, 4));
        json_object_object_add(o, "device", json_hex(d->device, 4));
        json_object_object_add(o, "class", json_hex(d->class_code, 6));
        json_object_object_add(o, "port_type", json_object_new_string(pci_port_type_to_string(d->port_type)));
        json_object_object_add(o, "multifunction", json_object_new_boolean(d->multifunction));
        json_object_object_add(o, "config_size", json_object_new_int((int) d->cfg_size));
        PciDev *parent = d->bus ? d->bus->self : NULL;
        if (!parent && d->is_vf && d->physfn && d->physfn->bus)
                parent = d->physfn->bus->self;
        json_object_object_add(o, "parent", parent ? json_object_new_string(parent->address) : NULL);
        if (d->is_bridge) {
                json_object *b = json_object_new_object();
                json_object_object_add(b, "secondary", json_object_new_int(d->secondary));
                json_object_object_add(b, "subordinate", json_object_new_int(d->subordinate));
                json_object_object_add(b, "has_mmio_bar", json_object_new_boolean(d->has_mmio_bar));
                json_object_object_add(o, "bridge", b);
        }
        json_object_object_add(o, "acs", d->acs.present ? acs_to_json(&d->acs) : NULL);
        if (d->has_sriov) {
                json_object *s = json_object_new_object();
                json_object_object_add(s, "vf_enable", json_object_new_boolean(d->sriov_ctrl & 1));
                json_object_object_add(s, "total_vfs", json_object_new_int(d->sriov_total));
                json_object_object_add(s, "num_vfs", json_object_new_int(d->sriov_num));
                json_object_object_add(s, "first_vf_offset", json_object_new_int(d->sriov_offset));
                json_object_object_add(s, "vf_stride", json_object_new_int(d->sriov_stride));
                json_object_object_add(s, "vf_device", json_hex(d->sriov_vf_device, 4));
                json_object_object_add(o, "sriov", s);
        }
        if (d->is_vf)
                json_object_object_add(o, "physfn", d->physfn ? json_object_new_string(d->physfn->address)
                                                             : d->physfn_address ? json_object_new_string(d->physfn_address) : NULL);
        json_object_object_add(o, "driver", d->driver ? json_object_new_string(d->driver) : NULL);
        json_object_object_add(o, "kernel_group", d->kernel_group >= 0 ? json_object_new_int(d->kernel_group) : NULL);
        /* the groups themselves are listed once, at the top level; a device names their leaders */
        json_object_object_add(o, "predicted_kernel_group", json_object_new_string(d->pred_leader));
        json_object_object_add(o, "isolation_group", json_object_new_string(d->iso_leader));
        *ret = o;
        return 0;
}

static json_object *groups_json(PciTopology *t, PciGrouping kind) {
        _cleanup_free_ PciGroup **gs = NULL;
        size_t n;
        json_object *a = json_object_new_array();

        if (!a || pci_groups_collect(t, kind, &gs, &n) < 0) {
                json_object_put(a);
                return NULL;
        }
        for (size_t i = 0; i < n; i++) {
                json_object *m = json_object_new_array();
                for (size_t j = 0; j < gs[i]->n_members; j++)
                        json_object_array_add(m, json_object_new_string(gs[i]->members[j]->address));
                json_object_array_add(a, m);
        }
        return a;
}

static int cmp_kgroup(const void *a, const void *b) {
        const PciKernelGroup *x = *(PciKernelGroup * const *) a, *y = *(PciKernelGroup * const *) b;
        return strcmp(x->addresses[0] ?: "", y->addresses[0] ?: "");
}

static json_object *kgroups_json(PciTopology *t, bool with_numbers) {
        size_t n = pci_map_size(t->kgroups), k = 0;
        _cleanup_free_ PciKernelGroup **gs = calloc(n + 1, sizeof(PciKernelGroup *));
        json_object *a = json_object_new_array();
        void *v;

        if (!gs || !a) {
                json_object_put(a);
                return NULL;
        }
        for (size_t i = 0; pci_map_iterate(t->kgroups, &i, NULL, &v);) {
                PciKernelGroup *g = v;
                size_t m = strv_length(g->addresses);
                for (size_t x = 1; x < m; x++)
                        for (size_t y = x; y > 0 && strcmp(g->addresses[y - 1], g->addresses[y]) > 0; y--) {
                                char *s = g->addresses[y];
                                g->addresses[y] = g->addresses[y - 1];
                                g->addresses[y - 1] = s;
                        }
                gs[k++] = g;
        }
        qsort(gs, k, sizeof(PciKernelGroup *), cmp_kgroup);
        for (size_t i = 0; i < k; i++) {
                if (with_numbers) {
                        json_object *o = json_object_new_object();
                        json_object_object_add(o, "group", json_object_new_int(gs[i]->number));
                        json_object_object_add(o, "type", gs[i]->type ? json_object_new_string(gs[i]->type) : NULL);
                        json_object_object_add(o, "devices", json_strv(gs[i]->addresses));
                        json_object_array_add(a, o);
                } else
                        json_object_array_add(a, json_strv(gs[i]->addresses));
        }
        return a;
}

int pci_audit_to_json(PciTopology *t, json_object **ret) {
        json_object *root = json_object_new_object();
        json_object *devs = json_object_new_object();
        json_object *hf = json_object_new_array();
        int r;

        if (!root || !devs || !hf) {
                json_object_put(root);
                json_object_put(devs);
                json_object_put(hf);
                return -ENOMEM;
        }
        json_object_object_add(root, "source", t->source ? json_object_new_string(t->source) : NULL);
        json_object_object_add(root, "predicted_kernel_groups", groups_json(t, PCI_GROUPING_PREDICTED));
        json_object_object_add(root, "isolation_groups", groups_json(t, PCI_GROUPING_ISOLATION));
        if (t->kernel_groups_known) {
                json_object_object_add(root, "kernel_groups", kgroups_json(t, false));
                json_object_object_add(root, "kernel_group_numbers", kgroups_json(t, true));
        }

        _cleanup_free_ PciDev **sorted = malloc((t->n_devices + 1) * sizeof(PciDev *));
        if (!sorted) {
                json_object_put(root);
                json_object_put(devs);
                json_object_put(hf);
                return -ENOMEM;
        }
        memcpy(sorted, t->devices, t->n_devices * sizeof(PciDev *));
        qsort(sorted, t->n_devices, sizeof(PciDev *), cmp_addr);
        for (size_t i = 0; i < t->n_devices; i++) {
                json_object *d;
                r = pci_dev_to_json(t, sorted[i], &d);
                if (r < 0) {
                        json_object_put(root);
                        json_object_put(devs);
                        json_object_put(hf);
                        return r;
                }
                json_object_object_add(devs, sorted[i]->address, d);
        }
        json_object_object_add(root, "devices", devs);

        for (size_t i = 0; i < t->n_findings; i++) {
                json_object *f = json_object_new_object();
                json_object_object_add(f, "id", json_object_new_string(t->findings[i].id));
                json_object_object_add(f, "severity", json_object_new_string(pci_host_severity_to_string(t->findings[i].severity)));
                json_object_object_add(f, "message", json_object_new_string(t->findings[i].message));
                json_object_array_add(hf, f);
        }
        json_object_object_add(root, "host_findings", hf);

        json_object *s = json_object_new_object();
        json_object_object_add(s, "devices", json_object_new_int((int) t->n_devices));
        for (PciVerdict v = 0; v < _PCI_VERDICT_MAX; v++)
                json_object_object_add(s, pci_verdict_to_string(v), json_object_new_int((int) pci_audit_count_verdict(t, v)));
        json_object_object_add(s, "iommu", t->iommu < 0 ? NULL : json_object_new_boolean(t->iommu));
        json_object_object_add(root, "summary", s);
        *ret = root;
        return 0;
}
