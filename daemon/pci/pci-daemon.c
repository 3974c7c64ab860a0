/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pci area: reads the topology with libpci's sysfs method, audits it, keeps it current
 * from pci uevents (coalescing storms, re-auditing only the affected subtree), and tells the
 * bus what changed. */

#include <inttypes.h>
#include <sys/epoll.h>
#include <time.h>

#include "bus-util.h"
#include "fileio.h"
#include "log.h"
#include "paths.h"

#include "pci-daemon.h"

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

static uint64_t dev_key(const PciDev *d) {
        return pci_addr_key(d->domain, d->bus_nr, d->dev, d->func);
}

static void log_findings(PciTopology *t) {
        for (size_t i = 0; i < t->n_findings; i++)
                log_struct(t->findings[i].severity == PCI_HOST_INFO ? LOG_INFO : LOG_WARNING,
                           MESSAGE_ID_PCI_HOST_FINDING, "PCI host finding %s: %s", t->findings[i].id,
                           t->findings[i].message);
}

static void log_unsafe(PciDev *d) {
        log_struct(LOG_WARNING, MESSAGE_ID_PCI_UNSAFE, "PCI device %s is unsafe to assign: %s", d->address,
                   d->reasons && d->reasons[0] ? d->reasons[0] : "its isolation group is larger than its IOMMU group");
}

/* Reads and audits everything; touches no daemon state, so the worker thread can run it. On a
 * read failure the result is an empty topology and *ret_error says why. */
static int pci_load_topology(PciTopology **ret, char **ret_error) {
        _cleanup_(pci_topology_freep) PciTopology *t = NULL;
        int r;

        *ret_error = NULL;
        r = pci_topology_load_sysfs(NULL, &t, ret_error);
        if (r < 0) {
                t = pci_topology_new();
                if (!t)
                        return -ENOMEM;
        }
        r = pci_kgroups_from_links(t, paths_sysfs_dir());
        if (r < 0)
                return r;
        r = pci_audit_host_from_proc(t, NULL);
        if (r >= 0)
                r = pci_audit_full(t);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(t);
        return 0;
}

static void set_load_error(PciArea *a, char *err) {
        if (err)
                log_warning("PCI topology unavailable: %s", err);
        free(a->load_error);
        a->load_error = err;
}

/* Reads and audits everything, on the event loop (Audit()). */
static int pci_load(PciArea *a, PciTopology **ret) {
        char *err = NULL;
        int r;

        r = pci_load_topology(ret, &err);
        if (r < 0) {
                free(err);
                return r;
        }
        set_load_error(a, err);
        return 0;
}

static int announce_all(PciArea *a) {
        for (size_t i = 0; i < a->topo->n_devices; i++) {
                PciDev *d = a->topo->devices[i];
                int r = pci_map_put(a->announced, dev_key(d), d);
                if (r < 0)
                        return r;
                d->changed = 0;
        }
        return 0;
}

static int arm_settle(PciArea *a);

static WorkerPool loader_pool = WORKER_POOL_INIT("pci-audit", 1);

static void loader_run(void *data) {
        PciArea *a = data;

        a->loaded_r = pci_load_topology(&a->loaded, &a->loaded_error);
}

static void on_loader_done(Worker *w, void *data) {
        PciArea *a = data;
        PciTopology *t;
        int r;

        a->loader = worker_free(a->loader);
        a->loading = false;
        if (a->loaded_r < 0) {
                log_error_errno(a->loaded_r, "The first PCI audit failed; Audit() tries again: %m");
                /* Audit() re-reads everything; the queued uevents are covered by it. */
                pci_map_free(a->pending);
                a->pending = pci_map_new();
                if (!a->pending)
                        log_oom();
                manager_update_state(a->m);
                return;
        }
        set_load_error(a, TAKE_PTR(a->loaded_error));
        t = TAKE_PTR(a->loaded);
        r = pci_install(a, t);
        if (r < 0)
                log_error_errno(r, "Failed to publish the first PCI audit: %m");
        for (size_t i = 0; i < a->topo->n_devices; i++)
                if (a->topo->devices[i]->verdict == PCI_VERDICT_UNSAFE)
                        log_unsafe(a->topo->devices[i]);
        log_struct(LOG_INFO, MESSAGE_ID_PCI_AUDIT_CHANGED, "PCI audit: %zu devices, %u unsafe, %u shared, %u isolated.",
                   a->topo->n_devices, pci_audit_count_verdict(a->topo, PCI_VERDICT_UNSAFE),
                   pci_audit_count_verdict(a->topo, PCI_VERDICT_SHARED),
                   pci_audit_count_verdict(a->topo, PCI_VERDICT_ISOLATED));
        /* uevents that came while the worker read the tree */
        if (pci_map_size(a->pending) > 0 && arm_settle(a) < 0)
                log_error("Cannot arm the PCI update timer; queued uevents wait for the next one.");
}

static int loader_start(PciArea *a) {
        int r;

        /* Fill the path caches on this thread: the worker only reads them. */
        (void) paths_sysfs_dir();
        (void) paths_proc_dir();

        r = worker_start(&a->loader, a->m->event, &loader_pool, 0, loader_run, on_loader_done, a, NULL);
        if (r < 0)
                return r;
        a->loading = true;
        return 0;
}

/* A settle time from the environment (milliseconds), or def. */
static uint64_t settle_from_env(const char *name, uint64_t def) {
        const char *e = getenv(name);
        uint32_t ms;

        if (!e)
                return def;
        if (safe_atou32(e, 10, &ms) < 0 || ms == 0 || ms > PCI_SETTLE_LIMIT_MSEC) {
                log_warning("Ignoring %s=%s: expected milliseconds from 1 to %u.", name, e, PCI_SETTLE_LIMIT_MSEC);
                return def;
        }
        return ms * USEC_PER_MSEC;
}

static int pci_start(Manager *m, void **ret) {
        PciArea *a;
        int r;

        a = calloc(1, sizeof(PciArea));
        if (!a)
                return log_oom();
        *ret = a;
        a->m = m;
        a->settle_usec = settle_from_env("HWSECD_PCI_SETTLE_MSEC", PCI_SETTLE_USEC);
        a->settle_max_usec = settle_from_env("HWSECD_PCI_SETTLE_MAX_MSEC", PCI_SETTLE_MAX_USEC);
        if (a->settle_max_usec < a->settle_usec)
                a->settle_max_usec = a->settle_usec;
        a->announced = pci_map_new();
        a->pending = pci_map_new();
        a->topo = pci_topology_new();
        if (!a->announced || !a->pending || !a->topo)
                return log_oom();

        r = bus_pci_register(a);
        if (r < 0)
                return log_error_errno(r, "Failed to register the PCI objects: %m");

        r = loader_start(a);
        if (r < 0) {
                /* No thread: audit here, before serving. */
                log_warning_errno(r, "Cannot run the first PCI audit on a worker thread, running it now: %m");
                return pci_reaudit(a);
        }
        return 0;
}

static bool pci_loading(void *data) {
        PciArea *a = data;

        return a->loading;
}

static void audit_waiters_free(PciArea *a) {
        for (size_t i = 0; i < a->n_audit_waiters; i++)
                sd_bus_message_unref(a->audit_waiters[i]);
        a->audit_waiters = mfree(a->audit_waiters);
        a->n_audit_waiters = a->allocated_audit_waiters = 0;
}

static void pci_free(void *data) {
        PciArea *a = data;

        a->loader = worker_free(a->loader);
        sd_event_source_disable_unref(a->audit_defer);
        audit_waiters_free(a);
        pci_topology_free(a->loaded);
        free(a->loaded_error);
        sd_event_source_disable_unref(a->settle);
        sd_bus_slot_unref(a->slot_pci);
        sd_bus_slot_unref(a->slot_dev);
        sd_bus_slot_unref(a->slot_enum);
        free(a->vtable_pci);
        free(a->vtable_dev);
        pci_topology_free(a->topo);
        pci_map_free(a->announced);
        pci_map_free(a->pending);
        free(a->load_error);
        free(a);
}

/* ---- the update ---- */

static int affected_add(PciMap *set, PciDev *d) {
        return pci_map_put(set, dev_key(d), d);
}

static int cmp_u64(const void *x, const void *y) {
        uint64_t a = *(const uint64_t *) x, b = *(const uint64_t *) y;
        return a < b ? -1 : a > b;
}

/* Processes every queued event in one go. */
static int pci_flush(PciArea *a) {
        _cleanup_(pci_map_freep) PciMap *affected = pci_map_new();
        _cleanup_strv_free_ char **removed = NULL, **added = NULL;
        _cleanup_free_ PciDev **touched = NULL, **extra = NULL, **list = NULL;
        size_t n_touched = 0, n_extra = 0, n_list = 0;
        _cleanup_free_ uint64_t *keys = NULL;
        size_t n_keys = pci_map_size(a->pending);
        uint64_t t0 = now_usec();
        unsigned unsafe_before = pci_audit_count_verdict(a->topo, PCI_VERDICT_UNSAFE);
        uint64_t events = a->last_update_events;
        void *v;
        int r;

        if (!affected)
                return -ENOMEM;
        keys = calloc(n_keys + 1, sizeof(uint64_t));
        uintptr_t *bits = calloc(n_keys + 1, sizeof(uintptr_t));
        touched = calloc(n_keys + 1, sizeof(PciDev *));
        extra = calloc(1, sizeof(PciDev *));
        if (!keys || !bits || !touched || !extra) {
                free(bits);
                return -ENOMEM;
        }
        size_t k = 0;
        for (size_t i = 0; pci_map_iterate(a->pending, &i, &keys[k], &v); k++)
                ;
        /* address order: bridges (lower bus numbers) are linked before what sits below them */
        if (k > 1)
                qsort(keys, k, sizeof(uint64_t), cmp_u64);
        for (size_t i = 0; i < k; i++)
                bits[i] = (uintptr_t) pci_map_get(a->pending, keys[i]);
        pci_map_free(a->pending);
        a->pending = pci_map_new();
        if (!a->pending) {
                free(bits);
                return -ENOMEM;
        }

        /* 1. removals first: a device that is gone is gone, whatever else was queued */
        for (size_t i = 0; i < k; i++) {
                char addr[24];
                pci_format_address(addr, (uint32_t) (keys[i] >> 16), (keys[i] >> 8) & 0xff, (keys[i] >> 3) & 0x1f, keys[i] & 7);
                PciDev *d = pci_topology_find(a->topo, addr);
                if (!d)
                        continue;
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s/devices/%s", a->topo->sysfs_bus_pci, addr) < 0) {
                        free(bits);
                        return -ENOMEM;
                }
                if (!(bits[i] & PCI_PENDING_REMOVE) && access(p, F_OK) >= 0)
                        continue;
                _cleanup_free_ PciDev **aff = NULL;
                size_t n_aff = 0;
                r = pci_audit_remove(a->topo, d, &removed, &aff, &n_aff);
                if (r < 0) {
                        free(bits);
                        return r;
                }
                /* affected pointers may be removed by a later removal: keep them by key */
                for (size_t j = 0; j < n_aff; j++)
                        (void) affected_add(affected, aff[j]);
                bits[i] = 0;
        }
        /* forget affected devices that a later removal took away */
        STRV_FOREACH(s, removed) {
                uint32_t dom;
                uint8_t b, dv, fn;
                if (pci_parse_address(*s, &dom, &b, &dv, &fn) >= 0)
                        pci_map_remove(affected, pci_addr_key(dom, b, dv, fn));
        }

        /* 2. adds, changes, binds: re-read those devices */
        for (size_t i = 0; i < k; i++) {
                char addr[24];
                if (!bits[i])
                        continue;
                pci_format_address(addr, (uint32_t) (keys[i] >> 16), (keys[i] >> 8) & 0xff, (keys[i] >> 3) & 0x1f, keys[i] & 7);
                PciDev *old = pci_topology_find(a->topo, addr), *d;
                int old_group = old ? old->kernel_group : -1;
                if (old && bits[i] == PCI_PENDING_DRIVER) {
                        /* bind/unbind: only the driver link */
                        r = pci_topology_refresh_driver(a->topo, old);
                        if (r > 0) {
                                old->changed |= PCI_CHANGED_DRIVER;
                                (void) affected_add(affected, old);
                        }
                        continue;
                }
                /* kernel group peers before the change */
                PciKernelGroup *kg = old ? pci_kgroups_get(a->topo, old_group) : NULL;
                STRV_FOREACH(s, kg ? kg->addresses : NULL) {
                        PciDev *p = pci_topology_find(a->topo, *s);
                        if (p && p != old)
                                (void) affected_add(affected, p);
                }
                r = pci_topology_refresh_device(a->topo, addr, &d);
                if (r == -ENOENT)
                        continue;
                if (r < 0) {
                        log_warning_errno(r, "Cannot read PCI device %s, ignoring its %s event: %m", addr,
                                          old ? "change" : "add");
                        continue;
                }
                if (!old && strv_extend(&added, d->address) < 0) {
                        free(bits);
                        return -ENOMEM;
                }
                if (d->changed & PCI_CHANGED_KGROUP || !old) {
                        r = pci_kgroups_update_device(a->topo, d, old_group, paths_sysfs_dir());
                        if (r < 0) {
                                free(bits);
                                return r;
                        }
                }
                (void) affected_add(affected, d);
                if (!old || (d->changed & (PCI_CHANGED_CONFIG | PCI_CHANGED_KGROUP)))
                        touched[n_touched++] = d;
        }
        free(bits);

        /* 3. one region update for everything touched */
        n_extra = pci_map_size(affected);
        free(extra);
        extra = calloc(n_extra + 1, sizeof(PciDev *));
        if (!extra)
                return -ENOMEM;
        n_extra = 0;
        for (size_t i = 0; pci_map_iterate(affected, &i, NULL, &v);)
                extra[n_extra++] = v;
        r = pci_audit_update_extra(a->topo, touched, n_touched, extra, n_extra, &list, &n_list);
        if (r < 0)
                return r;

        /* 4. signals for what changed */
        bool summary = added || removed;
        for (size_t i = 0; i < n_list; i++) {
                PciDev *d = list[i];
                if (d->changed & (PCI_CHANGED_VERDICT | PCI_CHANGED_GROUPS | PCI_CHANGED_KGROUP))
                        summary = true;
                if ((d->changed & PCI_CHANGED_VERDICT) && d->verdict == PCI_VERDICT_UNSAFE)
                        log_unsafe(d);
        }
        a->updates++;
        a->last_update_devices = n_list;
        r = bus_pci_emit(a, added, removed, list, n_list, summary, false);
        if (r < 0)
                log_warning_errno(r, "Failed to send PCI change signals: %m");
        /* the whole update as a client sees it: events read to the last signal queued */
        a->last_update_usec = now_usec() - t0;

        unsigned unsafe_after = pci_audit_count_verdict(a->topo, PCI_VERDICT_UNSAFE);
        if (summary) {
                log_struct(LOG_INFO, MESSAGE_ID_PCI_AUDIT_CHANGED,
                           "PCI audit updated after %" PRIu64 " event(s): %zu added, %zu removed, %zu re-audited, "
                           "%u unsafe (was %u), in %" PRIu64 " us.", events, strv_length(added), strv_length(removed),
                           n_list, unsafe_after, unsafe_before, a->last_update_usec);
                manager_broadcast_type(a->m, MANAGER_EVENT_PCI_CHANGED);
        }
        return 0;
}

static int on_settle(sd_event_source *s, uint64_t usec, void *userdata) {
        PciArea *a = userdata;
        int r;

        a->settle = sd_event_source_disable_unref(a->settle);
        log_debug("PCI: processing %zu queued device(s).", pci_map_size(a->pending));
        r = pci_flush(a);
        if (r < 0)
                log_error_errno(r, "PCI update failed, the audit may be stale until the next event or Audit(): %m");
        a->last_update_events = 0;
        return 0;
}

static int arm_settle(PciArea *a) {
        uint64_t now = now_usec(), when;

        if (!a->settle) {
                a->first_pending = now;
                a->batches++;
                log_debug("PCI: first queued uevent, update at the latest in %" PRIu64 " ms.",
                          a->settle_max_usec / USEC_PER_MSEC);
        }
        when = MIN(now + a->settle_usec, a->first_pending + a->settle_max_usec);
        if (a->settle) {
                uint64_t cur;
                /* sd_event_source_set_time() clears a pending (already due) timer: never touch
                 * one that is due or capped, or a steady storm would postpone it forever */
                if (sd_event_source_get_time(a->settle, &cur) >= 0 && (cur <= now || cur == when))
                        return 0;
                return sd_event_source_set_time(a->settle, when);
        }
        return sd_event_add_time(a->m->event, &a->settle, CLOCK_MONOTONIC, when, USEC_PER_MSEC, on_settle, a);
}

static void pci_uevent(void *data, sd_device *d, sd_device_action_t action) {
        PciArea *a = data;
        const char *subsystem = NULL, *sysname = NULL;
        uint32_t dom;
        uint8_t b, dv, fn;
        unsigned bit;
        int r;

        if (sd_device_get_subsystem(d, &subsystem) < 0 || !streq(subsystem, "pci"))
                return;
        if (sd_device_get_sysname(d, &sysname) < 0 || pci_parse_address(sysname, &dom, &b, &dv, &fn) < 0) {
                log_debug("Ignoring a pci uevent for \"%s\", which is not a PCI address.", strna(sysname));
                return;
        }
        switch (action) {
        case SD_DEVICE_ADD:
                bit = PCI_PENDING_ADD;
                break;
        case SD_DEVICE_REMOVE:
                bit = PCI_PENDING_REMOVE;
                break;
        case SD_DEVICE_BIND:
        case SD_DEVICE_UNBIND:
                bit = PCI_PENDING_DRIVER;
                break;
        case SD_DEVICE_CHANGE:
        case SD_DEVICE_MOVE:
                bit = PCI_PENDING_CHANGE;
                break;
        default:
                return;
        }
        uint64_t key = pci_addr_key(dom, b, dv, fn);
        uintptr_t old = (uintptr_t) pci_map_get(a->pending, key);
        /* remove then add again: treat as a change of a device that is there */
        if (bit == PCI_PENDING_ADD)
                old &= ~(uintptr_t) PCI_PENDING_REMOVE;
        r = pci_map_put(a->pending, key, (void *) (old | bit));
        if (r < 0) {
                log_oom();
                return;
        }
        a->events++;
        a->last_update_events++;
        if (a->loading)
                return;         /* processed once the first audit lands */
        r = arm_settle(a);
        if (r < 0)
                log_error_errno(r, "Cannot arm the PCI update timer: %m");
}

/* Runs one audit for every waiting Audit() caller and answers them all with its outcome. */
static void run_queued_audit(PciArea *a) {
        sd_bus_message **waiters = TAKE_PTR(a->audit_waiters);
        size_t n = a->n_audit_waiters;
        int r, k;

        a->n_audit_waiters = a->allocated_audit_waiters = 0;
        a->audit_defer = sd_event_source_disable_unref(a->audit_defer);
        r = pci_reaudit(a);
        log_debug("PCI: one audit answered %zu Audit() call(s).", n);
        for (size_t i = 0; i < n; i++) {
                k = bus_pci_reply_audit(a, waiters[i], r);
                if (k < 0)
                        log_debug_errno(k, "Cannot answer an Audit() call: %m");
                sd_bus_message_unref(waiters[i]);
        }
        free(waiters);
}

static int on_audit_defer(sd_event_source *s, void *userdata) {
        run_queued_audit(userdata);
        return 0;
}

static int audit_waiters_add(PciArea *a, sd_bus_message *msg) {
        if (a->n_audit_waiters >= a->allocated_audit_waiters) {
                size_t n = MAX(a->allocated_audit_waiters * 2, (size_t) 16);
                sd_bus_message **w = reallocarray(a->audit_waiters, n, sizeof(sd_bus_message *));
                if (!w)
                        return -ENOMEM;
                a->audit_waiters = w;
                a->allocated_audit_waiters = n;
        }
        a->audit_waiters[a->n_audit_waiters++] = sd_bus_message_ref(msg);
        return 0;
}

/* idle priority: the calls already on the bus are read (and join) before the audit runs */
static int audit_defer_start(PciArea *a) {
        int r;

        a->audit_first_wait = now_usec();
        r = sd_event_add_defer(a->m->event, &a->audit_defer, on_audit_defer, a);
        if (r >= 0)
                r = sd_event_source_set_priority(a->audit_defer, SD_EVENT_PRIORITY_IDLE);
        if (r < 0)
                a->audit_defer = sd_event_source_disable_unref(a->audit_defer);
        return r;
}

int pci_queue_audit(PciArea *a, sd_bus_message *msg) {
        bool first = !a->audit_defer;
        int r;

        if (first) {
                r = audit_defer_start(a);
                if (r < 0)
                        return r;
        }
        r = audit_waiters_add(a, msg);
        if (r < 0) {
                if (first)
                        a->audit_defer = sd_event_source_disable_unref(a->audit_defer);
                return r;
        }
        a->audit_calls++;
        /* a steady stream of calls must not starve the ones waiting */
        if (!first && now_usec() - a->audit_first_wait >= PCI_AUDIT_WAIT_MAX_USEC)
                run_queued_audit(a);
        return 0;
}

int pci_reaudit(PciArea *a) {
        PciTopology *t;
        int r;

        if (a->loading)
                return -EBUSY;
        a->audits_run++;

        /* the queue is covered by the full re-read */
        pci_map_free(a->pending);
        a->pending = pci_map_new();
        a->settle = sd_event_source_disable_unref(a->settle);
        if (!a->pending)
                return -ENOMEM;

        r = pci_load(a, &t);
        if (r < 0)
                return r;
        return pci_install(a, t);
}

/* Replaces the topology with t (taking it) and tells clients what changed. */
int pci_install(PciArea *a, PciTopology *t) {
        _cleanup_(pci_topology_freep) PciTopology *old = NULL;
        _cleanup_strv_free_ char **added = NULL, **removed = NULL;
        _cleanup_free_ PciDev **list = NULL;
        size_t n_list = 0;
        int r;

        old = a->topo;
        a->topo = t;
        list = calloc(t->n_devices + 1, sizeof(PciDev *));
        if (!list)
                return -ENOMEM;

        /* compare with what clients were told */
        for (size_t i = 0; i < t->n_devices; i++) {
                PciDev *d = t->devices[i], *o = pci_topology_find(old, d->address);
                if (!o) {
                        if (strv_extend(&added, d->address) < 0)
                                return -ENOMEM;
                        continue;
                }
                d->changed = 0;
                if (d->verdict != o->verdict || !pci_strv_equal(d->reasons, o->reasons))
                        d->changed |= PCI_CHANGED_VERDICT;
                if (!streq(d->iso_leader, o->iso_leader) || !streq(d->pred_leader, o->pred_leader))
                        d->changed |= PCI_CHANGED_GROUPS;
                if (d->kernel_group != o->kernel_group)
                        d->changed |= PCI_CHANGED_KGROUP;
                if ((d->driver || o->driver) && (!d->driver || !o->driver || !streq(d->driver, o->driver)))
                        d->changed |= PCI_CHANGED_DRIVER;
                if (d->vendor != o->vendor || d->device != o->device || d->class_code != o->class_code ||
                    memcmp(&d->acs, &o->acs, sizeof(PciAcs)) != 0 || d->port_type != o->port_type)
                        d->changed |= PCI_CHANGED_CONFIG;
                if (d->changed)
                        list[n_list++] = d;
        }
        for (size_t i = 0; i < old->n_devices; i++)
                if (!pci_topology_find(t, old->devices[i]->address) &&
                    strv_extend(&removed, old->devices[i]->address) < 0)
                        return -ENOMEM;

        /* the announced map points into the old topology (only its keys are used here);
         * it is rebuilt from the new one after the signals */
        r = bus_pci_emit(a, added, removed, list, n_list, true, true);
        pci_map_free(a->announced);
        a->announced = pci_map_new();
        if (!a->announced)
                return -ENOMEM;
        if (announce_all(a) < 0)
                return -ENOMEM;
        log_findings(t);
        a->updates++;
        if (r < 0)
                log_warning_errno(r, "Failed to send PCI change signals: %m");
        manager_broadcast_type(a->m, MANAGER_EVENT_PCI_CHANGED);
        manager_update_state(a->m);
        return 0;
}

static json_object *findings_json(PciTopology *t) {
        json_object *a = json_object_new_array();
        for (size_t i = 0; a && i < t->n_findings; i++) {
                json_object *f = json_object_new_object();
                json_object_object_add(f, "id", json_object_new_string(t->findings[i].id));
                json_object_object_add(f, "severity", json_object_new_string(pci_host_severity_to_string(t->findings[i].severity)));
                json_object_object_add(f, "message", json_object_new_string(t->findings[i].message));
                json_object_array_add(a, f);
        }
        return a;
}

/* The lines `hwsecctl status` prints (docs/HACKING.md). */
static json_object *summary_json(PciArea *a, char **unsafe) {
        json_object *s = json_object_new_object();
        char buf[256];
        size_t n_unsafe = strv_length(unsafe);

        if (!s)
                return NULL;
        snprintf(buf, sizeof buf, "%zu", a->topo->n_devices);
        json_object_object_add(s, "Devices", json_object_new_string(buf));
        json_object_object_add(s, "IOMMU", json_object_new_string(a->topo->iommu < 0 ? "unknown" :
                                                                   a->topo->iommu ? "on" : "off"));
        if (n_unsafe == 0)
                snprintf(buf, sizeof buf, "none");
        else
                snprintf(buf, sizeof buf, "%zu (%s%s)", n_unsafe, unsafe[0], n_unsafe > 1 ? ", ..." : "");
        json_object_object_add(s, "Unsafe to assign", json_object_new_string(buf));
        snprintf(buf, sizeof buf, "%zu", a->topo->n_findings);
        json_object_object_add(s, "Host findings", json_object_new_string(a->topo->n_findings ? buf : "none"));
        if (a->load_error)
                json_object_object_add(s, "Error", json_object_new_string(a->load_error));
        return s;
}

static int pci_describe(void *data, json_object *root) {
        PciArea *a = data;
        json_object *o, *unsafe;

        o = json_object_new_object();
        unsafe = json_object_new_array();
        if (!o || !unsafe) {
                json_object_put(o);
                json_object_put(unsafe);
                return -ENOMEM;
        }
        json_object_object_add(o, "devices", json_object_new_int((int) a->topo->n_devices));
        for (PciVerdict v = 0; v < _PCI_VERDICT_MAX; v++)
                json_object_object_add(o, pci_verdict_to_string(v),
                                       json_object_new_int((int) pci_audit_count_verdict(a->topo, v)));
        _cleanup_strv_free_ char **l = NULL;
        for (size_t i = 0; i < a->topo->n_devices; i++)
                if (a->topo->devices[i]->verdict == PCI_VERDICT_UNSAFE &&
                    strv_extend(&l, a->topo->devices[i]->address) < 0) {
                        json_object_put(o);
                        json_object_put(unsafe);
                        return -ENOMEM;
                }
        pci_strv_sort(l);
        STRV_FOREACH(s, l)
                json_object_array_add(unsafe, json_object_new_string(*s));
        json_object_object_add(o, "unsafe_devices", unsafe);
        json_object_object_add(o, "iommu", a->topo->iommu < 0 ? NULL : json_object_new_boolean(a->topo->iommu));
        json_object_object_add(o, "host_findings", findings_json(a->topo));
        json_object_object_add(o, "audit_calls", json_object_new_int64((int64_t) a->audit_calls));
        json_object_object_add(o, "audits_run", json_object_new_int64((int64_t) a->audits_run));
        if (a->load_error)
                json_object_object_add(o, "error", json_object_new_string(a->load_error));
        json_object_object_add(o, "summary", summary_json(a, l));
        json_object_object_add(root, "pci", o);
        return 0;
}

static bool pci_degraded(void *data) {
        PciArea *a = data;

        if (!a->topo)
                return false;
        /* host-level problems that make SNP guests impossible */
        for (size_t i = 0; i < a->topo->n_findings; i++)
                if (a->topo->findings[i].severity == PCI_HOST_FATAL)
                        return true;
        return false;
}

/* No event hook: nothing in the configuration or the other areas concerns the PCI audit yet. */
/* Unsafe endpoints get one series each up to this many (the lowest addresses); the count of all
 * of them is in hwsecd_pci_devices{verdict="unsafe"}. Bounded, so the file does not grow with the
 * host. */
#define PCI_METRICS_UNSAFE_MAX 32U

/* Kernel IOMMU groups whose members are not exactly one isolation group. */
static size_t kernel_groups_not_isolation(const PciTopology *t) {
        size_t n = 0, i = 0;
        PciKernelGroup *kg;

        if (!t->kernel_groups_known)
                return 0;
        while (pci_map_iterate(t->kgroups, &i, NULL, (void **) &kg)) {
                const PciGroup *iso = NULL;
                size_t members = 0;
                bool same = true;

                STRV_FOREACH(a, kg->addresses) {
                        const PciDev *d = pci_topology_find(t, *a);

                        if (!d) {
                                same = false;
                                break;
                        }
                        if (members++ == 0)
                                iso = d->group[PCI_GROUPING_ISOLATION];
                        else if (d->group[PCI_GROUPING_ISOLATION] != iso)
                                same = false;
                }
                if (!same || !iso || iso->n_members != members)
                        n++;
        }
        return n;
}

static int pci_metrics(void *data, MetricsWriter *w) {
        PciArea *a = data;
        const PciTopology *t = a->topo;
        size_t counts[_PCI_VERDICT_MAX] = {};
        _cleanup_strv_free_ char **unsafe = NULL;
        size_t n_unsafe = 0, not_isolation = 0;
        int r;

        for (size_t i = 0; i < t->n_devices; i++) {
                const PciDev *d = t->devices[i];

                counts[d->verdict]++;
                if (d->verdict == PCI_VERDICT_UNSAFE && strv_extend(&unsafe, d->address) < 0)
                        return -ENOMEM;
        }
        not_isolation = kernel_groups_not_isolation(t);
        r = metrics_sample(w, "hwsecd_pci_loading", NULL, a->loading, "1 while the first PCI audit runs.");
        for (PciVerdict v = 0; r >= 0 && v < _PCI_VERDICT_MAX; v++)
                r = metrics_sample(w, "hwsecd_pci_devices", METRICS_LABELS({ "verdict", pci_verdict_to_string(v) }),
                                   counts[v], "PCI devices by isolation verdict.");
        if (r < 0)
                return r;
        pci_strv_sort(unsafe);
        STRV_FOREACH(u, unsafe) {
                if (n_unsafe++ >= PCI_METRICS_UNSAFE_MAX)
                        break;
                r = metrics_sample(w, "hwsecd_pci_unsafe_device", METRICS_LABELS({ "address", *u }), 1,
                                   "An endpoint whose assignment to a guest would not be isolated (the first 32 by address).");
                if (r < 0)
                        return r;
        }
        if (t->kernel_groups_known) {
                r = metrics_sample(w, "hwsecd_pci_kernel_groups_not_isolated", NULL, not_isolation,
                                   "Kernel IOMMU groups whose members are not exactly one isolation group.");
                if (r < 0)
                        return r;
        }
        r = metrics_sample(w, "hwsecd_pci_updates_total", NULL, a->updates,
                           "Incremental PCI audits after hotplug events since hwsecd started.");
        if (r >= 0)
                r = metrics_sample(w, "hwsecd_pci_uevents_total", NULL, a->events, "PCI uevents received since hwsecd started.");
        return r;
}

const AreaVTable pci_area_vtable = {
        .name = "pci",
        .start = pci_start,
        .free = pci_free,
        .uevent = pci_uevent,
        .describe = pci_describe,
        .degraded = pci_degraded,
        .loading = pci_loading,
        .metrics = pci_metrics,
};
