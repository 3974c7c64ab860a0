/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.hwsecd1.Pci at /org/hwsecd1/pci and one org.hwsecd1.PciDevice per device at
 * /org/hwsecd1/pci/<encoded address> (fallback vtable + node enumerator). */

#include "bus-errors.h"
#include "bus-util.h"
#include "fileio.h"
#include "log.h"
#include "bus-properties.h"
#include "pci-daemon.h"
#include "pci-assign.h"

char *pci_device_object_path(const char *address) {
        char *p = NULL;
        if (sd_bus_path_encode(PCI_OBJECT_PATH, address, &p) < 0)
                return NULL;
        return p;
}

static int append_strv(sd_bus_message *reply, char **l) {
        return sd_bus_message_append_strv(reply, l);
}

static bool group_has_unsafe(const PciGroup *g) {
        for (size_t j = 0; j < g->n_members; j++)
                if (g->members[j]->verdict == PCI_VERDICT_UNSAFE)
                        return true;
        return false;
}

/* Appends the groups of one grouping as aas, each sorted: its first member is its leader. */
static int append_groups(sd_bus_message *reply, PciTopology *t, PciGrouping kind) {
        _cleanup_free_ PciGroup **gs = NULL;
        size_t n;
        int r;

        r = pci_groups_collect(t, kind, &gs, &n);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "as");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                r = sd_bus_message_open_container(reply, 'a', "s");
                for (size_t j = 0; r >= 0 && j < gs[i]->n_members; j++)
                        r = sd_bus_message_append(reply, "s", gs[i]->members[j]->address);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

/* ---- org.hwsecd1.Pci properties ---- */

static int prop_devices(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        PciArea *a = userdata;
        _cleanup_free_ char **l = calloc(a->topo->n_devices + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < a->topo->n_devices; i++)
                l[i] = a->topo->devices[i]->address;
        pci_strv_sort(l);
        return append_strv(reply, l);
}

static int cmp_kgroup(const void *x, const void *y) {
        const PciKernelGroup *a = *(PciKernelGroup * const *) x, *b = *(PciKernelGroup * const *) y;
        return a->number - b->number;
}

static int prop_kernel_groups(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        PciArea *a = userdata;
        size_t n = pci_map_size(a->topo->kgroups), k = 0;
        _cleanup_free_ PciKernelGroup **gs = calloc(n + 1, sizeof(PciKernelGroup *));
        void *v;
        int r;

        if (!gs)
                return -ENOMEM;
        for (size_t i = 0; pci_map_iterate(a->topo->kgroups, &i, NULL, &v);)
                gs[k++] = v;
        if (k > 1)
                qsort(gs, k, sizeof(PciKernelGroup *), cmp_kgroup);
        r = sd_bus_message_open_container(reply, 'a', "(isas)");
        for (size_t i = 0; r >= 0 && i < k; i++) {
                pci_strv_sort(gs[i]->addresses);
                r = sd_bus_message_open_container(reply, 'r', "isas");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "is", gs[i]->number, strempty(gs[i]->type));
                if (r >= 0)
                        r = sd_bus_message_append_strv(reply, gs[i]->addresses);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

static int prop_predicted_groups(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        PciArea *a = userdata;
        return append_groups(reply, a->topo, PCI_GROUPING_PREDICTED);
}

static int prop_isolation_groups(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        PciArea *a = userdata;
        return append_groups(reply, a->topo, PCI_GROUPING_ISOLATION);
}

static int prop_unsafe_devices(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        PciArea *a = userdata;
        _cleanup_free_ char **l = calloc(a->topo->n_devices + 1, sizeof(char *));
        size_t n = 0;
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < a->topo->n_devices; i++)
                if (a->topo->devices[i]->verdict == PCI_VERDICT_UNSAFE)
                        l[n++] = a->topo->devices[i]->address;
        pci_strv_sort(l);
        return append_strv(reply, l);
}

/* The leaders of the isolation groups with an unsafe member (the members are in IsolationGroups). */
static int prop_unsafe_groups(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        PciArea *a = userdata;
        _cleanup_free_ PciGroup **gs = NULL;
        size_t n;
        int r;

        r = pci_groups_collect(a->topo, PCI_GROUPING_ISOLATION, &gs, &n);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "s");
        for (size_t i = 0; r >= 0 && i < n; i++)
                if (gs[i]->n_members > 0 && group_has_unsafe(gs[i]))
                        r = sd_bus_message_append(reply, "s", gs[i]->members[0]->address);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

static int prop_host_findings(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        PciArea *a = userdata;
        int r = sd_bus_message_open_container(reply, 'a', "(sss)");
        for (size_t i = 0; r >= 0 && i < a->topo->n_findings; i++)
                r = sd_bus_message_append(reply, "(sss)", a->topo->findings[i].id,
                                          pci_host_severity_to_string(a->topo->findings[i].severity),
                                          a->topo->findings[i].message);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

static int prop_iommu(sd_bus *bus, const char *path, const char *interface, const char *property,
                      sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        PciArea *a = userdata;
        return sd_bus_message_append(reply, "s", a->topo->iommu < 0 ? "unknown" : a->topo->iommu ? "on" : "off");
}

static int append_summary(sd_bus_message *reply, PciArea *a) {
        int r = sd_bus_message_open_container(reply, 'a', "{su}");
        if (r >= 0)
                r = sd_bus_message_append(reply, "{su}", "devices", (uint32_t) a->topo->n_devices);
        for (PciVerdict v = 0; r >= 0 && v < _PCI_VERDICT_MAX; v++)
                r = sd_bus_message_append(reply, "{su}", pci_verdict_to_string(v),
                                          (uint32_t) pci_audit_count_verdict(a->topo, v));
        if (r >= 0)
                r = sd_bus_message_append(reply, "{su}", "kernel-groups", (uint32_t) pci_map_size(a->topo->kgroups));
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

static int prop_summary(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return append_summary(reply, userdata);
}

static int prop_statistics(sd_bus *bus, const char *path, const char *interface, const char *property,
                           sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        PciArea *a = userdata;
        return sd_bus_message_append(reply, "a{st}", 8,
                                     "events", a->events,
                                     "updates", a->updates,
                                     "signals", a->signals,
                                     "last-update-usec", a->last_update_usec,
                                     "last-update-devices", a->last_update_devices,
                                     "audit-calls", a->audit_calls,
                                     "audits-run", a->audits_run,
                                     "batches", a->batches);
}

/* ---- methods ---- */

static int audit_error(sd_bus_error *error, int r) {
        if (r == -EBUSY)
                return sd_bus_error_setf(error, HWSEC_ERROR_BUSY,
                                         "The first PCI audit is still running; Manager.State turns from \"starting\" when it is done.");
        if (r < 0)
                return bus_error_set_errnof_host(error, r, "Re-reading the PCI topology failed: %m");
        return 0;
}

int bus_pci_reply_audit(PciArea *a, sd_bus_message *msg, int r) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_bus_message_ sd_bus_message *reply = NULL;

        if (r < 0) {
                (void) audit_error(&error, r);
                return sd_bus_reply_method_error(msg, &error);
        }
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = append_summary(reply, a);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_audit(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        PciArea *a = userdata;
        int r;

        if (a->loading)
                return audit_error(error, -EBUSY);
        /* unprivileged and costly: callers share one audit instead of each running their own */
        r = pci_queue_audit(a, msg);
        if (r < 0)
                return r;
        return 1;
}

static int method_check_assignable(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        PciArea *a = userdata;
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        _cleanup_(pci_assign_check_freep) PciAssignCheck *check = NULL;
        const char *address;
        int r;

        r = sd_bus_message_read(msg, "s", &address);
        if (r < 0)
                return r;
        if (strlen(address) > 64 || pci_parse_address(address, NULL, NULL, NULL, NULL) < 0)
                return sd_bus_error_setf(error, HWSEC_ERROR_INVALID_ARGUMENT,
                                         "\"%.64s\" is not a PCI address; use the form DDDD:BB:DD.F, e.g. 0000:03:00.0.",
                                         utf8_is_valid(address) ? address : "(invalid UTF-8)");
        if (a->loading)
                return sd_bus_error_setf(error, HWSEC_ERROR_BUSY,
                                         "The first PCI audit is still running; ask again when Manager.State is no longer \"starting\".");
        PciDev *d = pci_topology_find(a->topo, address);
        if (!d)
                return sd_bus_error_setf(error, HWSEC_ERROR_NOT_FOUND,
                                         "There is no PCI device %s on this host; the Devices property lists them.",
                                         address);

        r = pci_assign_check(a->topo, d, &check);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", pci_verdict_to_string(check->verdict));
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, check->reasons);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssb)");
        for (size_t i = 0; r >= 0 && i < check->n_members; i++) {
                const PciAssignMember *m = &check->members[i];
                r = sd_bus_message_append(reply, "(ssb)", m->address, strempty(m->driver),
                                          (int) pci_assign_state_ready(m->state));
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int pci_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                    sd_bus_error *error) {
        if (!streq(path, PCI_OBJECT_PATH))
                return 0;
        *found = userdata;
        return 1;
}

/* ---- org.hwsecd1.PciDevice ---- */

static int dev_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                    sd_bus_error *error) {
        PciArea *a = userdata;
        _cleanup_free_ char *label = NULL;
        int r;

        r = sd_bus_path_decode(path, PCI_OBJECT_PATH, &label);
        if (r <= 0)
                return 0;
        PciDev *d = pci_topology_find(a->topo, label);
        if (!d)
                return 0;
        *found = d;
        return 1;
}

static int dev_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        PciArea *a = userdata;
        char **l = calloc(a->topo->n_devices + 1, sizeof(char *));

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < a->topo->n_devices; i++) {
                l[i] = pci_device_object_path(a->topo->devices[i]->address);
                if (!l[i]) {
                        strv_free(l);
                        return -ENOMEM;
                }
        }
        *nodes = l;
        return 0;
}

#define DEV_PROP(name) \
        static int dev_prop_##name(sd_bus *bus, const char *path, const char *interface, const char *property, \
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error)

DEV_PROP(address) {
        PciDev *d = userdata;
        return sd_bus_message_append(reply, "s", d->address);
}
DEV_PROP(vendor) {
        PciDev *d = userdata;
        return sd_bus_message_append(reply, "q", d->vendor);
}
DEV_PROP(device) {
        PciDev *d = userdata;
        return sd_bus_message_append(reply, "q", d->device);
}
DEV_PROP(class) {
        PciDev *d = userdata;
        return sd_bus_message_append(reply, "u", d->class_code);
}
DEV_PROP(port_type) {
        PciDev *d = userdata;
        return sd_bus_message_append(reply, "s", pci_port_type_to_string(d->port_type));
}
DEV_PROP(multifunction) {
        PciDev *d = userdata;
        return sd_bus_message_append(reply, "b", d->multifunction);
}
DEV_PROP(is_vf) {
        PciDev *d = userdata;
        return sd_bus_message_append(reply, "b", d->is_vf);
}
DEV_PROP(physfn) {
        PciDev *d = userdata;
        return sd_bus_message_append(reply, "s", d->physfn ? d->physfn->address : strempty(d->physfn_address));
}
DEV_PROP(parent) {
        PciDev *d = userdata;
        PciDev *p = d->bus ? d->bus->self : NULL;
        if (!p && d->is_vf && d->physfn && d->physfn->bus)
                p = d->physfn->bus->self;
        return sd_bus_message_append(reply, "s", p ? p->address : "");
}
DEV_PROP(bus_range) {
        PciDev *d = userdata;
        return sd_bus_message_append(reply, "(yy)", d->is_bridge ? d->secondary : 0, d->is_bridge ? d->subordinate : 0);
}
DEV_PROP(driver) {
        PciDev *d = userdata;
        return sd_bus_message_append(reply, "s", strempty(d->driver));
}
DEV_PROP(config_size) {
        PciDev *d = userdata;
        return sd_bus_message_append(reply, "u", d->cfg_size);
}
DEV_PROP(acs_present) {
        PciDev *d = userdata;
        return sd_bus_message_append(reply, "b", d->acs.present);
}
DEV_PROP(acs_cap) {
        PciDev *d = userdata;
        return sd_bus_message_append(reply, "q", d->acs.present ? d->acs.cap : 0);
}
DEV_PROP(acs_ctrl) {
        PciDev *d = userdata;
        return sd_bus_message_append(reply, "q", d->acs.present ? d->acs.ctrl : 0);
}
DEV_PROP(acs_decoded) {
        PciDev *d = userdata;
        int r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r < 0 || !d->acs.present)
                return r < 0 ? r : sd_bus_message_close_container(reply);
        r = sd_bus_message_append(reply, "{sv}{sv}{sv}", "CapabilityBits", "s", pci_acs_bits_lspci(d->acs.cap, 0),
                                  "ControlBits", "s", pci_acs_bits_lspci(d->acs.ctrl, 1),
                                  "Enhanced", "b", (int) !!(d->acs.cap & PCI_ACS_ENHANCED));
        if (r >= 0 && (d->acs.cap & PCI_ACS_ENHANCED))
                r = sd_bus_message_append(reply, "{sv}{sv}{sv}{sv}",
                                          "IoRequestBlocking", "b", (int) !!(d->acs.ctrl & PCI_ACS_CTRL_IORB),
                                          "DspMemoryTarget", "s", pci_mem_target_to_string(pci_acs_dsp_mt(d->acs.ctrl)),
                                          "UspMemoryTarget", "s", pci_mem_target_to_string(pci_acs_usp_mt(d->acs.ctrl)),
                                          "UnclaimedRequestRedirect", "b", (int) !!(d->acs.ctrl & PCI_ACS_CTRL_URRC));
        if (r >= 0 && (d->acs.cap & PCI_ACS_EC)) {
                r = sd_bus_message_append(reply, "{sv}", "EgressVectorBits", "u", d->acs.egress_bits);
                if (r >= 0 && d->acs.egress_read) {
                        r = sd_bus_message_open_container(reply, 'e', "sv");
                        if (r >= 0)
                                r = sd_bus_message_append(reply, "s", "EgressVector");
                        if (r >= 0)
                                r = sd_bus_message_open_container(reply, 'v', "au");
                        if (r >= 0)
                                r = sd_bus_message_append_array(reply, 'u', d->acs.egress,
                                                                MIN((d->acs.egress_bits + 31) / 32, ELEMENTSOF(d->acs.egress)) * 4);
                        if (r >= 0)
                                r = sd_bus_message_close_container(reply);
                        if (r >= 0)
                                r = sd_bus_message_close_container(reply);
                }
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}
DEV_PROP(kernel_group) {
        PciDev *d = userdata;
        return sd_bus_message_append(reply, "i", d->kernel_group);
}
/* A device names its groups by their leader (lowest-addressed member); the members are in
 * Pci.PredictedKernelGroups and Pci.IsolationGroups, once per host. */
DEV_PROP(predicted_group) {
        PciDev *d = userdata;
        return sd_bus_message_append(reply, "s", d->pred_leader);
}
DEV_PROP(isolation_group) {
        PciDev *d = userdata;
        return sd_bus_message_append(reply, "s", d->iso_leader);
}
DEV_PROP(verdict) {
        PciDev *d = userdata;
        return sd_bus_message_append(reply, "s", pci_verdict_to_string(d->verdict));
}
DEV_PROP(reasons) {
        PciDev *d = userdata;
        return sd_bus_message_append_strv(reply, d->reasons);
}

/* ---- signals ---- */

static int emit_device_changes(PciArea *a, PciDev *d) {
        const char *names[24];
        size_t n = 0;
        unsigned c = d->changed;

        if (c & PCI_CHANGED_CONFIG) {
                static const char *const cfg[] = { "Vendor", "Device", "Class", "PortType", "Multifunction",
                                                   "IsVirtualFunction", "PhysicalFunction", "Parent", "BusRange",
                                                   "ConfigSize", "AcsPresent", "AcsCapability", "AcsControl", "Acs" };
                for (size_t i = 0; i < ELEMENTSOF(cfg); i++)
                        names[n++] = cfg[i];
        }
        if (c & PCI_CHANGED_DRIVER)
                names[n++] = "Driver";
        if (c & PCI_CHANGED_KGROUP)
                names[n++] = "KernelGroup";
        if (c & PCI_CHANGED_GROUPS) {
                names[n++] = "PredictedKernelGroup";
                names[n++] = "IsolationGroup";
        }
        if (c & PCI_CHANGED_VERDICT) {
                names[n++] = "Verdict";
                names[n++] = "Reasons";
        }
        names[n] = NULL;
        d->changed = 0;
        if (n == 0)
                return 0;
        _cleanup_free_ char *path = pci_device_object_path(d->address);
        if (!path)
                return -ENOMEM;
        a->signals++;
        return sd_bus_emit_properties_changed_strv(a->m->bus, path, PCI_DEVICE_IFACE, (char **) names);
}

int bus_pci_emit(PciArea *a, char **added, char **removed, PciDev **affected, size_t n_affected, bool summary,
                 bool host) {
        bool serving = a->m->serving && a->m->bus;
        int r = 0, k;

        STRV_FOREACH(s, removed) {
                uint32_t dom;
                uint8_t b, dv, fn;
                if (pci_parse_address(*s, &dom, &b, &dv, &fn) < 0)
                        continue;
                if (!pci_map_remove(a->announced, pci_addr_key(dom, b, dv, fn)) || !serving)
                        continue;
                _cleanup_free_ char *path = pci_device_object_path(*s);
                if (!path)
                        return -ENOMEM;
                k = sd_bus_emit_interfaces_removed(a->m->bus, path, PCI_DEVICE_IFACE, NULL);
                a->signals++;
                if (k < 0 && r >= 0)
                        r = k;
        }
        STRV_FOREACH(s, added) {
                PciDev *d = pci_topology_find(a->topo, *s);
                if (!d)
                        continue;
                d->changed = 0;
                uint64_t key = pci_addr_key(d->domain, d->bus_nr, d->dev, d->func);
                if (pci_map_get(a->announced, key))
                        continue;
                if (pci_map_put(a->announced, key, d) < 0)
                        return -ENOMEM;
                if (!serving)
                        continue;
                _cleanup_free_ char *path = pci_device_object_path(*s);
                if (!path)
                        return -ENOMEM;
                k = sd_bus_emit_interfaces_added(a->m->bus, path, PCI_DEVICE_IFACE, NULL);
                a->signals++;
                if (k < 0 && r >= 0)
                        r = k;
        }
        unsigned changed = 0;
        for (size_t i = 0; i < n_affected; i++) {
                PciDev *d = affected[i];
                uint64_t key = pci_addr_key(d->domain, d->bus_nr, d->dev, d->func);
                changed |= d->changed;
                if (!serving || !pci_map_get(a->announced, key)) {
                        d->changed = 0;
                        continue;
                }
                k = emit_device_changes(a, d);
                if (k < 0 && r >= 0)
                        r = k;
        }
        if (serving && (summary || host)) {
                /* Only the host-wide properties this update touched. The big ones (device and
                 * group tables) are announced by name only (EmitsChangedSignal=invalidates), so
                 * a signal never carries a value that grows with the host. */
                const char *names[16];
                size_t n = 0;
                bool members = added || removed || host;
                if (members)
                        names[n++] = "Devices";
                if (members || (changed & PCI_CHANGED_KGROUP))
                        names[n++] = "KernelGroups";
                if (members || (changed & (PCI_CHANGED_GROUPS | PCI_CHANGED_CONFIG))) {
                        names[n++] = "PredictedKernelGroups";
                        names[n++] = "IsolationGroups";
                }
                if (members || (changed & (PCI_CHANGED_VERDICT | PCI_CHANGED_GROUPS | PCI_CHANGED_CONFIG))) {
                        names[n++] = "UnsafeDevices";
                        names[n++] = "UnsafeGroups";
                }
                if (members || (changed & (PCI_CHANGED_VERDICT | PCI_CHANGED_KGROUP)))
                        names[n++] = "Summary";
                if (host) {
                        names[n++] = "HostFindings";
                        names[n++] = "Iommu";
                }
                names[n] = NULL;
                if (n > 0) {
                        k = sd_bus_emit_properties_changed_strv(a->m->bus, PCI_OBJECT_PATH, PCI_IFACE, (char **) names);
                        a->signals++;
                        if (k < 0 && r >= 0)
                                r = k;
                }
        }
        return r;
}

/* The contracts' order (dbus/org.hwsecd1.Pci.xml, org.hwsecd1.PciDevice.xml): the properties,
 * then the methods. Per-device signals stay incremental (bus_pci_emit()). */
static const BusProperty pci_properties[] = {
        { "Devices", "as", prop_devices, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION },
        { "KernelGroups", "a(isas)", prop_kernel_groups, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION },
        { "PredictedKernelGroups", "aas", prop_predicted_groups, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION },
        { "IsolationGroups", "aas", prop_isolation_groups, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION },
        { "UnsafeDevices", "as", prop_unsafe_devices, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION },
        { "UnsafeGroups", "as", prop_unsafe_groups, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION },
        { "HostFindings", "a(sss)", prop_host_findings, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "Iommu", "s", prop_iommu, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "Summary", "a{su}", prop_summary, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "Statistics", "a{st}", prop_statistics, NULL, 0 },
};

static const sd_bus_vtable pci_methods[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("Audit", SD_BUS_NO_ARGS, SD_BUS_RESULT("a{su}", summary), method_audit,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CheckAssignable", SD_BUS_ARGS("s", address),
                                SD_BUS_RESULT("s", verdict, "as", reasons, "a(ssb)", devices),
                                method_check_assignable, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

static const BusProperty pci_device_properties[] = {
        { "Address", "s", dev_prop_address, NULL, SD_BUS_VTABLE_PROPERTY_CONST },
        { "Vendor", "q", dev_prop_vendor, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "Device", "q", dev_prop_device, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "Class", "u", dev_prop_class, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "PortType", "s", dev_prop_port_type, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "Multifunction", "b", dev_prop_multifunction, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "IsVirtualFunction", "b", dev_prop_is_vf, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "PhysicalFunction", "s", dev_prop_physfn, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "Parent", "s", dev_prop_parent, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "BusRange", "(yy)", dev_prop_bus_range, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "Driver", "s", dev_prop_driver, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "ConfigSize", "u", dev_prop_config_size, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "AcsPresent", "b", dev_prop_acs_present, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "AcsCapability", "q", dev_prop_acs_cap, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "AcsControl", "q", dev_prop_acs_ctrl, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "Acs", "a{sv}", dev_prop_acs_decoded, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "KernelGroup", "i", dev_prop_kernel_group, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "PredictedKernelGroup", "s", dev_prop_predicted_group, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "IsolationGroup", "s", dev_prop_isolation_group, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "Verdict", "s", dev_prop_verdict, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "Reasons", "as", dev_prop_reasons, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
};

static const BusPropertyTable pci_table = BUS_PROPERTY_TABLE(PCI_IFACE, pci_properties, pci_methods);
static const BusPropertyTable pci_device_table = BUS_PROPERTY_TABLE(PCI_DEVICE_IFACE, pci_device_properties, NULL);

int bus_pci_register(PciArea *a) {
        int r;

        /* sd-bus wants all vtables of one node to be fallbacks or none: the device objects need
         * a fallback, so the Pci interface is one too, with a find function that only accepts
         * /org/hwsecd1/pci itself. */
        r = bus_property_table_vtable(&pci_table, &a->vtable_pci);
        if (r >= 0)
                r = bus_property_table_vtable(&pci_device_table, &a->vtable_dev);
        if (r < 0)
                return r;
        r = sd_bus_add_fallback_vtable(a->m->bus, &a->slot_pci, PCI_OBJECT_PATH, PCI_IFACE, a->vtable_pci, pci_find, a);
        if (r < 0)
                return r;
        r = sd_bus_add_fallback_vtable(a->m->bus, &a->slot_dev, PCI_OBJECT_PATH, PCI_DEVICE_IFACE, a->vtable_dev,
                                       dev_find, a);
        if (r < 0)
                return r;
        return sd_bus_add_node_enumerator(a->m->bus, &a->slot_enum, PCI_OBJECT_PATH, dev_enumerate, a);
}
