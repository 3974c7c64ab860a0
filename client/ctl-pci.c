/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* hwsecctl pci: the PCIe isolation audit.
 *
 *   hwsecctl pci tree  [--dump FILE [--groups FILE] [--cmdline FILE]]
 *   hwsecctl pci check ADDRESS [--dump FILE [--groups FILE] [--cmdline FILE]]
 *   hwsecctl pci audit [--dump FILE [--groups FILE] [--cmdline FILE]]
 *
 * With --dump everything runs here, without the daemon (the core library is linked in); the
 * dump is `lspci -xxxx` output (as root), the groups file is the output of
 * `find /sys/kernel/iommu_groups/ -type l`, the cmdline file a copy of /proc/cmdline. */

#include <time.h>

#include "ctl.h"
#include "fileio.h"
#include "log.h"
#include "pci-assign.h"
#include "pci-audit.h"

#define PCI_PATH "/org/hwsecd1/pci"
#define PCI_IFACE "org.hwsecd1.Pci"
#define PCI_DEVICE_IFACE "org.hwsecd1.PciDevice"

typedef struct PciArgs {
        const char *dump;
        const char *groups;
        const char *cmdline;
        const char *address;
        const char *time_update;        /* hidden: benchmark one incremental update */
        unsigned repeat;
} PciArgs;

enum {
        ARG_DUMP = ARG_VERB_FIRST,
        ARG_GROUPS,
        ARG_CMDLINE,
        ARG_TIME_UPDATE,
        ARG_REPEAT,
};

#define PCI_OFFLINE_OPTIONS                                              \
        { "dump", required_argument, NULL, ARG_DUMP },                   \
        { "groups", required_argument, NULL, ARG_GROUPS },               \
        { "cmdline", required_argument, NULL, ARG_CMDLINE }

#define PCI_OFFLINE_HELP                                                                          \
        "  --dump FILE       Audit the output of `lspci -xxxx` (as root) here, without the daemon\n"  \
        "  --groups FILE     With --dump: the kernel's groups (find /sys/kernel/iommu_groups/ -type l)\n" \
        "  --cmdline FILE    With --dump: the kernel command line (a copy of /proc/cmdline)\n"

static const struct option tree_options[] = {
        PCI_OFFLINE_OPTIONS,
        {}
};

/* --time-update ADDRESS and --repeat N are left out of the help: scripts/bench-pci uses them. */
static const struct option audit_options[] = {
        PCI_OFFLINE_OPTIONS,
        { "time-update", required_argument, NULL, ARG_TIME_UPDATE },
        { "repeat", required_argument, NULL, ARG_REPEAT },
        {}
};

static const CtlVerb tree_verb = {
        .name = "pci tree",
        .usage = "hwsecctl pci tree [--dump FILE [--groups FILE] [--cmdline FILE]] [--json]\n\n"
                 "The PCIe tree with the kernel's IOMMU groups, the isolation groups computed from ACS,\n"
                 "and a verdict per device.\n\n"
                 PCI_OFFLINE_HELP,
        .options = tree_options,
        .max_args = 0,
};

static const CtlVerb check_verb = {
        .name = "pci check",
        .usage = "hwsecctl pci check ADDRESS [--dump FILE [--groups FILE] [--cmdline FILE]] [--json]\n\n"
                 "Whether the device (DDDD:BB:DD.F) can be assigned to a guest safely, and what must move\n"
                 "with it. Exit 0: safe to assign; 1: not safe.\n\n"
                 PCI_OFFLINE_HELP,
        .options = tree_options,
        .max_args = 1,
};

static const CtlVerb audit_verb = {
        .name = "pci audit",
        .usage = "hwsecctl pci audit [--dump FILE [--groups FILE] [--cmdline FILE]] [--json]\n\n"
                 "The audit of every device: groups, host findings, verdicts and a summary.\n\n"
                 PCI_OFFLINE_HELP,
        .options = audit_options,
        .max_args = 0,
};

static int pci_option(Ctl *c, const CtlVerb *v, int opt, const char *arg, void *userdata) {
        PciArgs *a = userdata;
        uint32_t n;

        switch (opt) {
        case ARG_DUMP:
                a->dump = arg;
                return 0;
        case ARG_GROUPS:
                a->groups = arg;
                return 0;
        case ARG_CMDLINE:
                a->cmdline = arg;
                return 0;
        case ARG_TIME_UPDATE:
                a->time_update = arg;
                return 0;
        case ARG_REPEAT:
                if (safe_atou32(arg, 10, &n) < 0 || n == 0 || n > 1000000)
                        return ctl_verb_usage_error(v, "--repeat needs a positive number (up to 1000000), not '%s'.", arg);
                a->repeat = n;
                return 0;
        }
        return EXIT_FAILED;
}

static int parse_args(Ctl *c, const CtlVerb *v, int argc, char **argv, PciArgs *a) {
        char **args;
        int n, r;

        r = ctl_parse_args(c, v, argc, argv, pci_option, a, &args, &n);
        if (r <= 0)
                return r;
        if ((a->groups || a->cmdline || a->time_update) && !a->dump)
                return -ctl_verb_usage_error(v, "--groups, --cmdline and --time-update need --dump FILE.");
        if (v->max_args > 0) {
                if (n == 0)
                        return -ctl_verb_usage_error(v, "which device? Give an address such as 0000:03:00.0.");
                a->address = args[0];
                if (pci_parse_address(a->address, NULL, NULL, NULL, NULL) < 0)
                        return -ctl_verb_usage_error(v, "'%s' is not a PCI address (DDDD:BB:DD.F).", a->address);
        }
        return 1;
}

static int offline_load(const PciArgs *a, PciTopology **ret) {
        _cleanup_(pci_topology_freep) PciTopology *t = NULL;
        _cleanup_free_ char *err = NULL, *cmdline = NULL;
        int r;

        r = pci_topology_load_dump(a->dump, &t, &err);
        if (r < 0) {
                fprintf(stderr, "hwsecctl: %s\n", err ?: strerror(-r));
                return -EXIT_FAILED;
        }
        if (a->groups) {
                r = pci_kgroups_load_find_file(t, a->groups, &err);
                if (r < 0) {
                        fprintf(stderr, "hwsecctl: %s\n", err ?: strerror(-r));
                        return -EXIT_FAILED;
                }
        }
        if (a->cmdline) {
                r = read_full_file(a->cmdline, 1024 * 1024, &cmdline, NULL);
                if (r < 0) {
                        fprintf(stderr, "hwsecctl: cannot read %s: %s\n", a->cmdline, strerror(-r));
                        return -EXIT_FAILED;
                }
        }
        /* host findings first: they add to the verdicts' reasons (acs-override) */
        r = pci_audit_host(t, cmdline);
        if (r >= 0)
                r = pci_audit_full(t);
        if (r < 0) {
                fprintf(stderr, "hwsecctl: audit failed: %s\n", strerror(-r));
                return -EXIT_FAILED;
        }
        *ret = TAKE_PTR(t);
        return 0;
}

/* ---- daemon side: the same JSON shape from the bus ---- */

static const char *prop_key(const char *prop) {
        static const struct { const char *prop, *key; } map[] = {
                { "Verdict", "verdict" }, { "Reasons", "reasons" }, { "Parent", "parent" },
                { "PortType", "port_type" }, { "KernelGroup", "kernel_group" },
                { "IsolationGroup", "isolation_group" }, { "PhysicalFunction", "physfn" },
                { "Driver", "driver" }, { "Address", "address" }, { "Vendor", "vendor_id" },
                { "Device", "device_id" }, { "PredictedKernelGroup", "predicted_kernel_group" },
        };
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(map[i].prop, prop))
                        return map[i].key;
        return NULL;
}

static int daemon_devices(Ctl *c, json_object **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        json_object *all = NULL, *devs;
        int r;

        r = ctl_call(c, "/org/hwsecd1", "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", &reply, NULL);
        if (r < 0)
                return r;
        r = ctl_message_to_json(reply, &all);
        if (r < 0) {
                fprintf(stderr, "hwsecctl: cannot decode the daemon's answer: %s\n", strerror(-r));
                return -EXIT_FAILED;
        }
        devs = json_object_new_object();
        json_object_object_foreach(all, path, ifaces) {
                json_object *props, *o;
                if (!json_object_object_get_ex(ifaces, PCI_DEVICE_IFACE, &props))
                        continue;
                (void) path;
                o = json_object_new_object();
                json_object_object_foreach(props, k, v) {
                        const char *key = prop_key(k);
                        if (key)
                                json_object_object_add(o, key, json_object_get(v));
                }
                json_object *addr;
                if (json_object_object_get_ex(o, "address", &addr))
                        json_object_object_add(devs, json_object_get_string(addr), o);
                else
                        json_object_put(o);
        }
        json_object_put(all);
        *ret = devs;
        return 0;
}

/* ---- tree ---- */

static const char *jstr(json_object *o, const char *key) {
        json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        const char *s = json_object_get_string(v);
        return isempty(s) ? NULL : s;
}

static int jint(json_object *o, const char *key, int def) {
        json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return def;
        return json_object_get_int(v);
}

static const char *short_type(const char *t) {
        if (!t)
                return "";
        if (streq(t, "root-port"))
                return "RP";
        if (streq(t, "upstream-port"))
                return "USP";
        if (streq(t, "downstream-port"))
                return "DSP";
        if (streq(t, "pcie-to-pci-bridge"))
                return "PCIe-PCI";
        if (streq(t, "rc-integrated-endpoint"))
                return "RCiEP";
        if (streq(t, "conventional-pci"))
                return "PCI";
        if (streq(t, "endpoint"))
                return "EP";
        return t;
}

typedef struct TreeCtx {
        json_object *devs;
        char **iso_heads;       /* first member of each isolation group, for short labels */
        json_object *iso_sizes; /* leader -> number of members */
} TreeCtx;

static int iso_label(TreeCtx *x, json_object *d) {
        /* a device names its isolation group by the group's leader (first member) */
        const char *f = jstr(d, "isolation_group");
        if (!f)
                return -1;
        size_t n = strv_length(x->iso_heads);
        for (size_t i = 0; i < n; i++)
                if (streq(x->iso_heads[i], f))
                        return (int) i;
        if (strv_extend(&x->iso_heads, f) < 0)
                return -1;
        return (int) n;
}

static bool is_child(json_object *d, const char *parent) {
        const char *pf = jstr(d, "physfn");
        if (pf)
                return parent && streq(pf, parent);
        const char *p = jstr(d, "parent");
        return parent ? (p && streq(p, parent)) : !p;
}

static void print_node(TreeCtx *x, const char *addr, json_object *d, const char *prefix, bool last, unsigned depth) {
        const char *leader = jstr(d, "isolation_group");
        int gn = leader ? jint(x->iso_sizes, leader, 0) : 0;
        int kg = jint(d, "kernel_group", -1);
        int il = iso_label(x, d);
        char kgs[16];
        const char *v = jstr(d, "verdict") ?: "unknown";

        if (kg >= 0)
                snprintf(kgs, sizeof(kgs), "%d", kg);
        else
                snprintf(kgs, sizeof(kgs), "-");
        printf("%s%s %s %-8s iommu-group %-4s isolation-group I%d%s %s%s\n", prefix, last ? "\\-" : "+-", addr,
               short_type(jstr(d, "port_type")), kgs, il, gn > 1 ? "*" : " ",
               streq(v, "unsafe") ? "UNSAFE" : v, jstr(d, "driver") ? "" : "");

        if (depth > 64)
                return;
        _cleanup_free_ char *np = NULL;
        if (asprintf(&np, "%s%s", prefix, last ? "  " : "| ") < 0)
                return;
        _cleanup_strv_free_ char **kids = NULL;
        json_object_object_foreach(x->devs, ka, kd)
                if (is_child(kd, addr))
                        (void) strv_extend(&kids, ka);
        size_t n = strv_length(kids);
        for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0 && strcmp(kids[j - 1], kids[j]) > 0; j--) {
                        char *s = kids[j];
                        kids[j] = kids[j - 1];
                        kids[j - 1] = s;
                }
        for (size_t i = 0; i < n; i++) {
                json_object *child;
                if (json_object_object_get_ex(x->devs, kids[i], &child))
                        print_node(x, kids[i], child, np, i + 1 == n, depth + 1);
        }
}

static void print_tree(json_object *devs) {
        TreeCtx x = { .devs = devs, .iso_sizes = json_object_new_object() };
        _cleanup_strv_free_ char **roots = NULL;

        if (!x.iso_sizes)
                return;
        json_object_object_foreach(devs, ga, gd) {
                const char *leader = jstr(gd, "isolation_group");
                (void) ga;
                if (leader)
                        json_object_object_add(x.iso_sizes, leader,
                                               json_object_new_int(jint(x.iso_sizes, leader, 0) + 1));
        }

        json_object_object_foreach(devs, a, d)
                if (is_child(d, NULL))
                        (void) strv_extend(&roots, a);
        size_t n = strv_length(roots);
        for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0 && strcmp(roots[j - 1], roots[j]) > 0; j--) {
                        char *s = roots[j];
                        roots[j] = roots[j - 1];
                        roots[j - 1] = s;
                }
        const char *bus = NULL;
        for (size_t i = 0; i < n; i++) {
                json_object *node;
                if (!bus || !strneq(bus, roots[i], 7)) {
                        bus = roots[i];
                        printf("[%.7s]\n", bus);
                }
                bool last = i + 1 == n || !strneq(roots[i + 1], roots[i], 7);
                if (json_object_object_get_ex(devs, roots[i], &node))
                        print_node(&x, roots[i], node, " ", last, 0);
        }
        printf("(I<n>* = isolation group shared with other devices)\n");
        strv_free(x.iso_heads);
        json_object_put(x.iso_sizes);
}

static int verb_tree(Ctl *c, int argc, char **argv) {
        PciArgs a = {};
        json_object *devs = NULL;
        int r;

        r = parse_args(c, &tree_verb, argc, argv, &a);
        if (r <= 0)
                return -r;
        if (a.dump) {
                _cleanup_(pci_topology_freep) PciTopology *t = NULL;
                json_object *doc;
                r = offline_load(&a, &t);
                if (r < 0)
                        return -r;
                r = pci_audit_to_json(t, &doc);
                if (r < 0)
                        return EXIT_FAILED;
                if (c->json) {
                        ctl_print_json(doc);
                        json_object_put(doc);
                        return EXIT_OK;
                }
                json_object_object_get_ex(doc, "devices", &devs);
                print_tree(devs);
                json_object_put(doc);
                return EXIT_OK;
        }
        r = daemon_devices(c, &devs);
        if (r < 0)
                return ctl_exit(r);
        if (c->json)
                ctl_print_json(devs);
        else
                print_tree(devs);
        json_object_put(devs);
        return EXIT_OK;
}

/* ---- check ---- */

/* The daemon sends the verdict's name; the rule itself is the core's. */
static bool verdict_safe(const char *v) {
        for (PciVerdict i = 0; v && i < _PCI_VERDICT_MAX; i++)
                if (streq(v, pci_verdict_to_string(i)))
                        return pci_verdict_assignable(i);
        return false;
}

/* One device that must move with the checked one: the same fields from the daemon's a(ssb) and
 * from pci_assign_check() offline, so both print alike. */
static json_object *mover_json(const char *address, const char *driver, bool ready) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "address", json_object_new_string(address));
        json_object_object_add(o, "driver", driver ? json_object_new_string(driver) : NULL);
        json_object_object_add(o, "ready", json_object_new_boolean(ready));
        return o;
}

static int print_check(Ctl *c, const char *address, const char *verdict, char **reasons, json_object *movers) {
        if (c->json) {
                json_object *o = json_object_new_object();
                json_object *rs = json_object_new_array();
                STRV_FOREACH(s, reasons)
                        json_object_array_add(rs, json_object_new_string(*s));
                json_object_object_add(o, "address", json_object_new_string(address));
                json_object_object_add(o, "verdict", json_object_new_string(verdict));
                json_object_object_add(o, "assignable", json_object_new_boolean(verdict_safe(verdict)));
                json_object_object_add(o, "reasons", rs);
                json_object_object_add(o, "must_move_with", json_object_get(movers));
                ctl_print_json(o);
                json_object_put(o);
        } else {
                printf("%s: %s\n", address, verdict);
                STRV_FOREACH(s, reasons)
                        printf("  - %s\n", *s);
                size_t n = json_object_array_length(movers);
                if (n > 0)
                        printf("Devices that move with it:\n");
                for (size_t i = 0; i < n; i++) {
                        json_object *m = json_object_array_get_idx(movers, i);
                        const char *drv = jstr(m, "driver");
                        json_object *rv;
                        bool ready = json_object_object_get_ex(m, "ready", &rv) && json_object_get_boolean(rv);
                        printf("  %s  driver %-12s %s\n", jstr(m, "address") ?: "?", drv ?: "(none)",
                               ready ? "ready" : drv ? "NOT bound to vfio-pci" : "unbound");
                }
                if (!verdict_safe(verdict))
                        printf("Not safe to assign.\n");
        }
        return verdict_safe(verdict) ? EXIT_OK : EXIT_FAILED;
}

static int verb_check_device(Ctl *c, int argc, char **argv) {
        PciArgs a = {};
        int r;

        r = parse_args(c, &check_verb, argc, argv, &a);
        if (r <= 0)
                return -r;
        if (a.dump) {
                _cleanup_(pci_topology_freep) PciTopology *t = NULL;
                r = offline_load(&a, &t);
                if (r < 0)
                        return -r;
                PciDev *d = pci_topology_find(t, a.address);
                if (!d) {
                        fprintf(stderr, "hwsecctl: %s is not in %s.\n", a.address, a.dump);
                        return EXIT_FAILED;
                }
                _cleanup_(pci_assign_check_freep) PciAssignCheck *check = NULL;
                r = pci_assign_check(t, d, &check);
                if (r < 0) {
                        fprintf(stderr, "hwsecctl: %s\n", strerror(-r));
                        return EXIT_FAILED;
                }
                json_object *movers = json_object_new_array();
                for (size_t i = 0; i < check->n_members; i++)
                        json_object_array_add(movers, mover_json(check->members[i].address, check->members[i].driver,
                                                                 pci_assign_state_ready(check->members[i].state)));
                r = print_check(c, check->address, pci_verdict_to_string(check->verdict), check->reasons, movers);
                json_object_put(movers);
                return r;
        }

        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **reasons = NULL;
        const char *verdict;
        r = ctl_call(c, PCI_PATH, PCI_IFACE, "CheckAssignable", &reply, "s", a.address);
        if (r < 0)
                return ctl_exit(r);
        r = sd_bus_message_read(reply, "s", &verdict);
        if (r >= 0)
                r = sd_bus_message_read_strv(reply, &reasons);
        if (r < 0)
                goto bad;
        json_object *movers = json_object_new_array();
        r = sd_bus_message_enter_container(reply, 'a', "(ssb)");
        while (r > 0) {
                const char *addr, *drv;
                int ready;
                r = sd_bus_message_read(reply, "(ssb)", &addr, &drv, &ready);
                if (r <= 0)
                        break;
                json_object_array_add(movers, mover_json(addr, isempty(drv) ? NULL : drv, ready));
        }
        if (r < 0) {
                json_object_put(movers);
                goto bad;
        }
        r = print_check(c, a.address, verdict, reasons, movers);
        json_object_put(movers);
        return r;
bad:
        fprintf(stderr, "hwsecctl: cannot decode the daemon's answer: %s\n", strerror(-r));
        return EXIT_FAILED;
}

/* ---- audit ---- */

static void print_groups(json_object *doc, const char *key, const char *title) {
        json_object *gs;
        if (!json_object_object_get_ex(doc, key, &gs))
                return;
        printf("%s:\n", title);
        for (size_t i = 0; i < json_object_array_length(gs); i++) {
                json_object *g = json_object_array_get_idx(gs, i);
                printf("  ");
                for (size_t j = 0; j < json_object_array_length(g); j++)
                        printf("%s%s", j ? " " : "", json_object_get_string(json_object_array_get_idx(g, j)));
                printf("\n");
        }
}

static void print_audit_text(json_object *doc) {
        json_object *devs, *hf, *s;

        print_groups(doc, "kernel_groups", "Kernel IOMMU groups");
        print_groups(doc, "predicted_kernel_groups", "Predicted kernel groups (mainline rules)");
        print_groups(doc, "isolation_groups", "Isolation groups (who can reach whom)");
        if (json_object_object_get_ex(doc, "host_findings", &hf) && json_object_array_length(hf) > 0) {
                printf("Host findings:\n");
                for (size_t i = 0; i < json_object_array_length(hf); i++) {
                        json_object *f = json_object_array_get_idx(hf, i);
                        printf("  [%s] %s\n", jstr(f, "severity") ?: "", jstr(f, "message") ?: "");
                }
        }
        if (json_object_object_get_ex(doc, "devices", &devs)) {
                printf("Devices:\n");
                json_object_object_foreach(devs, a, d) {
                        json_object *rs;
                        printf("  %s %s\n", a, jstr(d, "verdict") ?: "unknown");
                        if (!json_object_object_get_ex(d, "reasons", &rs))
                                continue;
                        for (size_t i = 0; i < json_object_array_length(rs); i++)
                                printf("      %s\n", json_object_get_string(json_object_array_get_idx(rs, i)));
                }
        }
        if (json_object_object_get_ex(doc, "summary", &s))
                printf("Summary: %d devices, %d isolated, %d shared, %d unsafe, %d unknown, %d no-iommu\n",
                       jint(s, "devices", 0), jint(s, "isolated", 0), jint(s, "shared", 0), jint(s, "unsafe", 0),
                       jint(s, "unknown", 0), jint(s, "no-iommu", 0));
}

static uint64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

/* Hidden benchmark mode: the time of one incremental update. A device with ACS gets an ACS
 * change (RR toggled: a "change" uevent); any other device is hot-removed and hot-added again
 * (a "remove" and an "add" uevent, two updates). */
static int time_update(PciTopology *t, const char *address, unsigned repeat) {
        uint64_t best = UINT64_MAX, total = 0;
        size_t affected_max = 0;
        bool hotplug = false;

        for (unsigned i = 0; i < (repeat ?: 1); i++) {
                PciDev *d = pci_topology_find(t, address);
                _cleanup_free_ PciDev **aff = NULL;
                size_t n_aff = 0;
                uint64_t t0, dt;
                int r;

                if (!d) {
                        fprintf(stderr, "hwsecctl: %s is not in the dump.\n", address);
                        return EXIT_FAILED;
                }
                hotplug = !d->acs.present;
                if (!hotplug) {
                        t0 = now_ns();
                        d->acs.ctrl ^= PCI_ACS_RR;
                        r = pci_audit_update(t, &d, 1, &aff, &n_aff);
                        dt = now_ns() - t0;
                } else {
                        if (d->is_bridge || d->n_vfs > 0) {
                                fprintf(stderr, "hwsecctl: --time-update hot-plugs only leaf devices; %s has "
                                        "devices below it.\n", address);
                                return EXIT_FAILED;
                        }
                        PciDev *n = pci_dev_new(d->domain, d->bus_nr, d->dev, d->func);
                        if (!n)
                                return EXIT_FAILED;
                        /* the same device comes back: keep what was read from its config space */
                        n->vendor = d->vendor;
                        n->device = d->device;
                        n->class_code = d->class_code;
                        n->header_type = d->header_type;
                        n->multifunction = d->multifunction;
                        n->mf_header_bit = d->mf_header_bit;
                        n->cfg_size = d->cfg_size;
                        n->port_type = d->port_type;
                        n->is_vf = d->is_vf;
                        if (d->physfn && !(n->physfn_address = strdup(d->physfn->address))) {
                                pci_dev_free(n);
                                return EXIT_FAILED;
                        }
                        t0 = now_ns();
                        r = pci_audit_remove(t, d, NULL, &aff, &n_aff);
                        if (r >= 0)
                                r = pci_topology_add(t, n);
                        if (r >= 0)
                                r = pci_topology_link_one(t, n);
                        if (r >= 0) {
                                free(aff);
                                aff = NULL;
                                r = pci_audit_update(t, &n, 1, &aff, &n_aff);
                        }
                        dt = now_ns() - t0;
                }
                if (r < 0) {
                        fprintf(stderr, "hwsecctl: update failed: %s\n", strerror(-r));
                        return EXIT_FAILED;
                }
                best = MIN(best, dt);
                total += dt;
                affected_max = MAX(affected_max, n_aff);
        }
        printf("incremental_update devices=%zu address=%s kind=%s best_us=%.1f mean_us=%.1f affected=%zu repeat=%u\n",
               t->n_devices, address, hotplug ? "hotplug" : "acs-change", best / 1000.0,
               total / 1000.0 / (repeat ?: 1), affected_max, repeat ?: 1);
        return EXIT_OK;
}

static int daemon_audit(Ctl *c, json_object **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *props = NULL;
        json_object *summary = NULL, *all = NULL, *devs = NULL, *doc;
        int r;

        r = ctl_call(c, PCI_PATH, PCI_IFACE, "Audit", &reply, NULL);
        if (r < 0)
                return r;
        r = ctl_message_to_json(reply, &summary);
        if (r >= 0) {
                r = ctl_call(c, PCI_PATH, "org.freedesktop.DBus.Properties", "GetAll", &props, "s", PCI_IFACE);
                if (r < 0) {
                        json_object_put(summary);
                        return r;
                }
                r = ctl_message_to_json(props, &all);
        }
        if (r < 0) {
                json_object_put(summary);
                fprintf(stderr, "hwsecctl: cannot decode the daemon's answer: %s\n", strerror(-r));
                return -EXIT_FAILED;
        }
        r = daemon_devices(c, &devs);
        if (r < 0) {
                json_object_put(summary);
                json_object_put(all);
                return r;
        }
        doc = json_object_new_object();
        json_object *v;
        if (json_object_is_type(summary, json_type_array) && json_object_array_length(summary) == 1)
                json_object_object_add(doc, "summary", json_object_get(json_object_array_get_idx(summary, 0)));
        else
                json_object_object_add(doc, "summary", json_object_get(summary));
        if (json_object_object_get_ex(all, "KernelGroups", &v)) {
                /* a(isas): number, type, devices */
                json_object *kg = json_object_new_array();
                for (size_t i = 0; i < json_object_array_length(v); i++)
                        json_object_array_add(kg, json_object_get(json_object_array_get_idx(json_object_array_get_idx(v, i), 2)));
                json_object_object_add(doc, "kernel_groups", kg);
        }
        if (json_object_object_get_ex(all, "PredictedKernelGroups", &v))
                json_object_object_add(doc, "predicted_kernel_groups", json_object_get(v));
        if (json_object_object_get_ex(all, "IsolationGroups", &v))
                json_object_object_add(doc, "isolation_groups", json_object_get(v));
        if (json_object_object_get_ex(all, "HostFindings", &v)) {
                json_object *hf = json_object_new_array();
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        json_object *t = json_object_array_get_idx(v, i), *f = json_object_new_object();
                        json_object_object_add(f, "id", json_object_get(json_object_array_get_idx(t, 0)));
                        json_object_object_add(f, "severity", json_object_get(json_object_array_get_idx(t, 1)));
                        json_object_object_add(f, "message", json_object_get(json_object_array_get_idx(t, 2)));
                        json_object_array_add(hf, f);
                }
                json_object_object_add(doc, "host_findings", hf);
        }
        json_object_object_add(doc, "devices", devs);
        json_object_put(summary);
        json_object_put(all);
        *ret = doc;
        return 0;
}

static int verb_audit(Ctl *c, int argc, char **argv) {
        PciArgs a = {};
        json_object *doc = NULL;
        int r;

        r = parse_args(c, &audit_verb, argc, argv, &a);
        if (r <= 0)
                return -r;
        if (a.dump) {
                _cleanup_(pci_topology_freep) PciTopology *t = NULL;
                r = offline_load(&a, &t);
                if (r < 0)
                        return -r;
                if (a.time_update)
                        return time_update(t, a.time_update, a.repeat);
                r = pci_audit_to_json(t, &doc);
                if (r < 0) {
                        fprintf(stderr, "hwsecctl: %s\n", strerror(-r));
                        return EXIT_FAILED;
                }
        } else {
                r = daemon_audit(c, &doc);
                if (r < 0)
                        return ctl_exit(r);
        }
        if (c->json)
                ctl_print_json(doc);
        else
                print_audit_text(doc);
        json_object_put(doc);
        return EXIT_OK;
}

static const CtlVerb pci_verb = {
        .name = "pci",
        .usage = "hwsecctl pci tree [--dump FILE [--groups FILE] [--cmdline FILE]]\n"
                 "hwsecctl pci check ADDRESS [--dump FILE [--groups FILE] [--cmdline FILE]]\n"
                 "hwsecctl pci audit [--dump FILE [--groups FILE] [--cmdline FILE]]\n\n"
                 "The PCIe isolation audit, from the daemon or, with --dump, from a saved `lspci -xxxx`\n"
                 "dump without the daemon. Each command takes --json.\n"
                 "'hwsecctl pci COMMAND --help' shows the options of a command.\n",
        .max_args = -1,
        .stop_at_verb = true,
};

int verb_pci(Ctl *c, int argc, char **argv) {
        static const CtlSubVerb table[] = {
                { "tree", verb_tree },
                { "check", verb_check_device },
                { "audit", verb_audit },
                {}
        };
        char **args;
        int n, r;

        r = ctl_parse_args(c, &pci_verb, argc, argv, NULL, NULL, &args, &n);
        if (r <= 0)
                return -r;
        /* offline modes log through the core library; keep the terminal quiet */
        if (log_get_max_level() > LOG_WARNING)
                log_set_max_level(LOG_WARNING);
        return ctl_dispatch(c, &pci_verb, table, n, args);
}
