/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <dirent.h>
#include <stdarg.h>

#include "fileio.h"
#include "log.h"
#include "pci-kgroups.h"

#define KGROUPS_FILE_MAX (64u * 1024u * 1024u)

PciKernelGroup *pci_kgroups_get(const PciTopology *t, int number) {
        if (number < 0)
                return NULL;
        return pci_map_get(t->kgroups, (uint64_t) number);
}

static int kgroup_get(PciTopology *t, int number, PciKernelGroup **ret) {
        PciKernelGroup *g = pci_kgroups_get(t, number);
        if (!g) {
                g = calloc(1, sizeof(PciKernelGroup));
                if (!g)
                        return -ENOMEM;
                g->number = number;
                g->addresses = calloc(1, sizeof(char *));
                if (!g->addresses || pci_map_put(t->kgroups, (uint64_t) number, g) < 0) {
                        free(g->addresses);
                        free(g);
                        return -ENOMEM;
                }
        }
        *ret = g;
        return 0;
}

static void kgroup_drop(PciTopology *t, PciKernelGroup *g) {
        pci_map_remove(t->kgroups, (uint64_t) g->number);
        free(g->type);
        strv_free(g->addresses);
        free(g);
}

static int kgroup_add_address(PciKernelGroup *g, const char *address) {
        if (strv_contains(g->addresses, address))
                return 0;
        return strv_extend(&g->addresses, address) < 0 ? -ENOMEM : 0;
}

static void kgroup_remove_address(PciKernelGroup *g, const char *address) {
        size_t n = strv_length(g->addresses);
        for (size_t i = 0; i < n; i++)
                if (streq(g->addresses[i], address)) {
                        free(g->addresses[i]);
                        memmove(g->addresses + i, g->addresses + i + 1, (n - i) * sizeof(char *));
                        return;
                }
}

int pci_kgroups_parse_find_text(PciTopology *t, const char *text, char **ret_error) {
        unsigned line = 0;
        int r;

        t->kernel_groups_known = true;
        for (const char *p = text; p && *p;) {
                const char *e = strchr(p, '\n');
                size_t len = e ? (size_t) (e - p) : strlen(p);
                _cleanup_free_ char *l = strndup(p, len);
                p = e ? e + 1 : NULL;
                line++;
                if (!l)
                        return -ENOMEM;
                strstrip_trailing(l);
                if (isempty(l))
                        continue;

                /* .../iommu_groups/<N>/devices/<address> */
                char *ig = strstr(l, "iommu_groups/");
                if (!ig)
                        return error_message_set(ret_error, 0, "Line %u is not a /sys/kernel/iommu_groups/<N>/devices/<address> path "
                                         "(expected the output of `find /sys/kernel/iommu_groups/ -type l`).", line), -EBADMSG;
                char *num = ig + strlen("iommu_groups/");
                char *slash = strchr(num, '/');
                if (!slash || !strneq(slash, "/devices/", 9))
                        return error_message_set(ret_error, 0, "Line %u: expected <N>/devices/<address> after iommu_groups/.", line), -EBADMSG;
                *slash = '\0';
                uint32_t n;
                r = safe_atou32(num, 10, &n);
                if (r < 0 || n > INT32_MAX)
                        return error_message_set(ret_error, 0, "Line %u: \"%s\" is not an IOMMU group number.", line, num), -EBADMSG;
                const char *addr = slash + 9;
                uint32_t dom;
                uint8_t b, dv, fn;
                if (pci_parse_address(addr, &dom, &b, &dv, &fn) < 0 || strchr(addr, '/'))
                        return error_message_set(ret_error, 0, "Line %u: \"%s\" is not a PCI address (DDDD:BB:DD.F).", line, addr), -EBADMSG;
                char canon[24];
                pci_format_address(canon, dom, b, dv, fn);

                PciKernelGroup *g;
                r = kgroup_get(t, (int) n, &g);
                if (r < 0)
                        return r;
                r = kgroup_add_address(g, canon);
                if (r < 0)
                        return r;
                PciDev *d = pci_topology_find(t, canon);
                if (d)
                        d->kernel_group = (int) n;
        }
        t->iommu = pci_map_size(t->kgroups) > 0;
        return 0;
}

int pci_kgroups_load_find_file(PciTopology *t, const char *path, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = read_full_file(path, KGROUPS_FILE_MAX, &text, NULL);
        if (r < 0)
                return error_message_set(ret_error, 0, "Cannot read IOMMU groups file %s: %s.", path, strerror(-r)), r;
        if (!utf8_is_valid(text))
                return error_message_set(ret_error, 0, "IOMMU groups file %s is not text.", path), -EBADMSG;
        r = pci_kgroups_parse_find_text(t, text, ret_error);
        if (r < 0 && ret_error && *ret_error) {
                char *n = NULL;
                if (asprintf(&n, "%s: %s", path, *ret_error) >= 0) {
                        free(*ret_error);
                        *ret_error = n;
                }
        }
        return r;
}

static void read_group_type(PciKernelGroup *g, const char *sysfs_dir) {
        _cleanup_free_ char *p = NULL;
        if (asprintf(&p, "%s/kernel/iommu_groups/%d/type", sysfs_dir, g->number) < 0)
                return;
        g->type = mfree(g->type);
        (void) read_one_line_file(p, &g->type);
}

static int iommu_groups_exist(const char *sysfs_dir) {
        _cleanup_free_ char *p = NULL;
        DIR *d;
        int found = 0;

        if (asprintf(&p, "%s/kernel/iommu_groups", sysfs_dir) < 0)
                return -ENOMEM;
        d = opendir(p);
        if (!d)
                return 0;
        for (struct dirent *de; (de = readdir(d));)
                if (de->d_name[0] != '.') {
                        found = 1;
                        break;
                }
        closedir(d);
        return found;
}

int pci_kgroups_from_links(PciTopology *t, const char *sysfs_dir) {
        void *v;
        int r;

        for (size_t i = 0; pci_map_iterate(t->kgroups, &i, NULL, &v);) {
                PciKernelGroup *g = v;
                free(g->type);
                strv_free(g->addresses);
                free(g);
        }
        pci_map_free(t->kgroups);
        t->kgroups = pci_map_new();
        if (!t->kgroups)
                return -ENOMEM;

        for (size_t i = 0; i < t->n_devices; i++) {
                PciDev *d = t->devices[i];
                PciKernelGroup *g;
                if (d->kernel_group < 0)
                        continue;
                bool fresh = !pci_kgroups_get(t, d->kernel_group);
                r = kgroup_get(t, d->kernel_group, &g);
                if (r < 0)
                        return r;
                if (fresh)
                        read_group_type(g, sysfs_dir);
                r = kgroup_add_address(g, d->address);
                if (r < 0)
                        return r;
        }
        t->kernel_groups_known = true;
        r = iommu_groups_exist(sysfs_dir);
        if (r < 0)
                return r;
        t->iommu = r || pci_map_size(t->kgroups) > 0;
        return 0;
}

void pci_kgroups_remove_address(PciTopology *t, const char *address, int group) {
        PciKernelGroup *g = pci_kgroups_get(t, group);
        if (!g)
                return;
        kgroup_remove_address(g, address);
        if (!g->addresses[0])
                kgroup_drop(t, g);
}

int pci_kgroups_update_device(PciTopology *t, PciDev *d, int old_group, const char *sysfs_dir) {
        PciKernelGroup *g;
        int r;

        if (old_group >= 0 && old_group != d->kernel_group)
                pci_kgroups_remove_address(t, d->address, old_group);
        if (d->kernel_group < 0)
                return 0;
        bool fresh = !pci_kgroups_get(t, d->kernel_group);
        r = kgroup_get(t, d->kernel_group, &g);
        if (r < 0)
                return r;
        if (fresh)
                read_group_type(g, sysfs_dir);
        if (!t->iommu || t->iommu < 0)
                t->iommu = 1;
        return kgroup_add_address(g, d->address);
}
