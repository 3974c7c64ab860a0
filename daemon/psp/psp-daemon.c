/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The PSP area: discovery of the PSP PCI function and the misc devices sev/sfs (enumeration at
 * start, then uevents), SEV/SNP status on every change, and the readiness checks, which are
 * recomputed on every ManagerEvent. */

#include <inttypes.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "bus-util.h"
#include "check-facts.h"
#include "fileio.h"
#include "log.h"
#include "paths.h"
#include "psp-daemon.h"
#include "state.h"

#define STATE_KEY "checks"

static bool streq_ptr(const char *a, const char *b) {
        return a && b ? streq(a, b) : a == b;
}

static uint64_t now_realtime_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

static bool is_removed(PspArea *a, const char *syspath) {
        return syspath && strv_contains(a->removed, syspath);
}

/* Drops "removed" entries whose sysfs directory is really gone (or came back with add). */
static void forget_removed(PspArea *a, const char *syspath) {
        char **k = a->removed;

        if (!k)
                return;
        for (char **i = a->removed; *i; i++) {
                if ((syspath && streq(*i, syspath)) || (!syspath && access(*i, F_OK) < 0)) {
                        free(*i);
                        continue;
                }
                *k++ = *i;
        }
        *k = NULL;
}

/* Is this PCI device a PSP function (vendor 0x1022, an id ccp binds that has a PSP)? */
static const PspPciId *pci_device_psp_id(sd_device *d) {
        const char *v = NULL, *id = NULL;
        uint32_t vendor, device;

        if (sd_device_get_sysattr_value(d, "vendor", &v) >= 0 && sd_device_get_sysattr_value(d, "device", &id) >= 0) {
                if (safe_atou32(v, 16, &vendor) < 0 || safe_atou32(id, 16, &device) < 0)
                        return NULL;
        } else if (sd_device_get_property_value(d, "PCI_ID", &id) >= 0) {
                /* "1022:14CA" from the uevent, when sysfs is already gone */
                if (sscanf(id, "%" SCNx32 ":%" SCNx32, &vendor, &device) != 2)
                        return NULL;
        } else
                return NULL;

        if (vendor != PSP_PCI_VENDOR_AMD || device > 0xffff)
                return NULL;
        return psp_pci_id_lookup((uint16_t) device);
}

static int discover_pci(PspArea *a, const char *exclude, char **ret_syspath) {
        _cleanup_(sd_device_enumerator_unrefp) sd_device_enumerator *e = NULL;
        _cleanup_free_ char *best = NULL, *best_addr = NULL;
        bool best_sev = false;
        int r;

        r = sd_device_enumerator_new(&e);
        if (r < 0)
                return r;
        r = sd_device_enumerator_add_match_subsystem(e, "pci", true);
        if (r < 0)
                return r;
        r = sd_device_enumerator_add_match_sysattr(e, "vendor", "0x1022", true);
        if (r < 0)
                return r;

        for (sd_device *d = sd_device_enumerator_get_device_first(e); d; d = sd_device_enumerator_get_device_next(e)) {
                const PspPciId *id = pci_device_psp_id(d);
                const char *syspath, *sysname;

                if (!id || !id->psp)
                        continue;
                if (sd_device_get_syspath(d, &syspath) < 0 || sd_device_get_sysname(d, &sysname) < 0)
                        continue;
                if ((exclude && streq(exclude, syspath)) || is_removed(a, syspath))
                        continue;
                /* The master PSP: SEV-capable first, then the lowest address (sp_pci_is_master). */
                if (best && (best_sev && !id->sev))
                        continue;
                if (best && best_sev == id->sev && psp_address_compare(sysname, best_addr) >= 0)
                        continue;
                if (free_and_strdup(&best, syspath) < 0 || free_and_strdup(&best_addr, sysname) < 0)
                        return -ENOMEM;
                best_sev = id->sev;
        }

        *ret_syspath = TAKE_PTR(best);
        return 0;
}

/* Our node for a misc device: 0 when it is that device, -ENOENT when there is none, -ESTALE when
 * it is another major:minor (see psp_node_check()). A device without a devnum has nothing to
 * compare with: a character device node is taken as it is, and no node is -ENXIO. */
static int misc_node_check(sd_device *d, const char *name) {
        _cleanup_free_ char *node = path_join(paths_dev_dir(), name);
        dev_t devnum;

        if (!node)
                return -ENOMEM;
        if (sd_device_get_devnum(d, &devnum) < 0) {
                struct stat st;

                return stat(node, &st) >= 0 && S_ISCHR(st.st_mode) ? 0 : -ENXIO;
        }
        return psp_node_check(node, devnum);
}

static void log_node_problem(sd_device *d, const char *name, int problem, const char *consequence) {
        dev_t devnum = 0;

        (void) sd_device_get_devnum(d, &devnum);
        if (problem == -ESTALE)
                log_struct(LOG_WARNING, MESSAGE_ID_PSP_NODE_STALE,
                           "/dev/%s is device %u:%u, but our %s/%s is another device (bound in when the service started); %s",
                           name, major(devnum), minor(devnum), paths_dev_dir(), name, consequence);
        else
                log_struct(LOG_WARNING, MESSAGE_ID_PSP_NODE_STALE,
                           "/dev/%s exists as device %u:%u, but our %s has no such node (the service started before it appeared); %s",
                           name, major(devnum), minor(devnum), paths_dev_dir(), consequence);
}

/* The misc device exists (udev) and our node is that device: 0, else -ENODEV (no such device, or
 * it is going away) or misc_node_check()'s error. A node at another major:minor counts as absent:
 * its old minor may belong to another misc device by now, and SEV commands must never go there. */
static int misc_state(PspArea *a, const char *name, const char *exclude) {
        _cleanup_(sd_device_unrefp) sd_device *d = NULL;
        const char *syspath;
        int r, *last = streq(name, "sev") ? &a->sev_node : &a->sfs_node;

        if (sd_device_new_from_subsystem_sysname(&d, "misc", name) < 0)
                r = -ENODEV;
        else if (sd_device_get_syspath(d, &syspath) >= 0 &&
                 ((exclude && streq(exclude, syspath)) || is_removed(a, syspath)))
                r = -ENODEV;
        else
                r = misc_node_check(d, name);
        /* said once, when it becomes so, not on every re-read */
        if ((r == -ESTALE || r == -ENOENT) && r != *last)
                log_node_problem(d, name, r, "treating it as absent until hwsecd is restarted.");
        *last = r;
        return r;
}

static void pick_last_error(PspArea *a) {
        const SevPlatform *p = &a->platform;

        if (!a->status_queried)
                a->last_error = (SevError) {};
        else if (p->sev_error.error != 0)
                a->last_error = p->sev_error;
        else
                a->last_error = p->snp_error;
}

static void log_status_change(PspArea *a, const SevError *old) {
        if (a->last_error.error == 0 || (old->error == a->last_error.error && old->fw_code == a->last_error.fw_code))
                return;
        if (a->last_error.fw_code != 0)
                log_struct(LOG_WARNING, MESSAGE_ID_FIRMWARE_ERROR, "PSP status: %s", a->last_error.message);
        else
                log_notice("PSP status: %s", a->last_error.message);
}

/* The status as the last finished read left it: a query's result, or nothing without /dev/sev. */
static void set_status(PspArea *a, const SevPlatform *p) {
        SevError old_error = a->last_error;

        a->status_queried = p != NULL;
        a->platform = p ? *p : (SevPlatform) {};
        a->dev_sev_open_error = a->platform.open_error;
        pick_last_error(a);
        a->last_refresh = now_realtime_usec();
        log_status_change(a, &old_error);
}

static char *sev_node(void) {
        return path_join(paths_dev_dir(), "sev");
}

/* At start, before the bus name is taken: in the event loop, there is nothing to block yet. */
static int read_status_now(PspArea *a) {
        _cleanup_free_ char *node = sev_node();
        SevPlatform p = {};

        if (!node)
                return -ENOMEM;
        if (!a->dev_sev) {
                set_status(a, NULL);
                return 0;
        }
        sev_query_platform(node, &p);
        set_status(a, &p);
        return 0;
}

static void read_cpu(PspArea *a) {
        a->cpu_error = cpuid_identity(&a->cpu);
        a->layout = a->cpu_error == 0 ? tcb_layout_for_family(a->cpu.family) : TCB_LAYOUT_UNKNOWN;
}

/* Discovery (sysfs, udev database), with the log records; no status, no bus signals. */
static int read_devices(Manager *m, const char *exclude) {
        PspArea *a = m->psp;
        _cleanup_free_ char *syspath = NULL;
        bool was_present = a->present;
        int r;

        forget_removed(a, NULL);
        read_cpu(a);

        r = discover_pci(a, exclude, &syspath);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                log_warning_errno(r, "Failed to enumerate PCI devices for the PSP: %m");

        psp_device_done(&a->dev);
        a->present = false;
        if (syspath) {
                r = psp_device_read(syspath, &a->dev);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0)
                        log_warning_errno(r, "PSP at %s could not be read, treating it as absent: %m", syspath);
                else
                        a->present = true;
        }

        a->dev_sev = misc_state(a, "sev", exclude) >= 0;
        a->dev_sfs = misc_state(a, "sfs", exclude) >= 0;

        if (a->present && !was_present)
                log_struct(LOG_NOTICE, MESSAGE_ID_PSP_APPEARED, "PSP %s (device 0x%04x, driver %s) appeared; /dev/sev %s.",
                           a->dev.address, a->dev.device, a->dev.driver ?: "none",
                           a->dev_sev ? "present" : "absent");
        else if (!a->present && was_present)
                log_struct(LOG_NOTICE, MESSAGE_ID_PSP_DISAPPEARED, "The PSP went away.");
        return 0;
}

static int recompute_checks(Manager *m);

/* A re-read is complete: announce it, and answer the Refresh() calls that waited for it. */
static void reread_finished(Manager *m) {
        PspArea *a = m->psp;

        (void) bus_psp_emit_changed(m);
        /* every area hears of it; our own event hook recomputes the checks */
        manager_broadcast(m, MANAGER_EVENT_PSP_CHANGED);
        for (size_t i = 0; i < a->n_waiting; i++) {
                int r = sd_bus_reply_method_return(a->waiting[i], NULL);
                if (r < 0)
                        log_debug_errno(r, "Failed to answer Refresh(), the caller may have gone: %m");
                sd_bus_message_unref(a->waiting[i]);
        }
        a->waiting = mfree(a->waiting);
        a->n_waiting = 0;
}

/* Starts the status read on the worker; without a thread, reads in the loop. 1: pending. */
static int start_status_read(Manager *m) {
        PspArea *a = m->psp;
        _cleanup_free_ char *node = sev_node();
        int r;

        if (!node)
                return log_oom();
        r = psp_status_worker_start(&a->worker, node, a->status_generation);
        if (r >= 0)
                return 1;
        log_warning_errno(r, "Cannot read the PSP status on a worker thread, reading it in the event loop: %m");
        r = read_status_now(a);
        return r < 0 ? log_oom() : 0;
}

static void on_status_read(PspStatusWorker *w, const SevPlatform *result, uint64_t generation, void *userdata) {
        Manager *m = userdata;
        PspArea *a = m->psp;
        int r;

        if (generation != a->status_generation) {
                /* the device went away meanwhile (already announced), or a newer read was asked
                 * for while this one ran: this result is stale */
                log_debug("Dropping the result of PSP status read %" PRIu64 ", re-read %" PRIu64 " replaced it.",
                          generation, a->status_generation);
                if (!a->reread_queued)
                        return;
                a->reread_queued = false;
                r = start_status_read(m);
                if (r > 0)
                        return;
        } else
                set_status(a, result);
        reread_finished(m);
}

int psp_reread(Manager *m, const char *exclude) {
        PspArea *a = m->psp;
        int r;

        r = read_devices(m, exclude);
        if (r < 0)
                return r;

        a->status_generation++;
        if (!a->dev_sev) {
                a->reread_queued = false;
                set_status(a, NULL);
        } else if (a->worker.active) {
                a->reread_queued = true;        /* on_status_read() starts it */
                return 1;
        } else {
                r = start_status_read(m);
                if (r != 0)
                        return r;
        }
        reread_finished(m);
        return 0;
}

int psp_refresh_wait(Manager *m, sd_bus_message *msg) {
        PspArea *a = m->psp;
        sd_bus_message **w;

        w = reallocarray(a->waiting, a->n_waiting + 1, sizeof *w);
        if (!w)
                return -ENOMEM;
        a->waiting = w;
        a->waiting[a->n_waiting++] = sd_bus_message_ref(msg);
        return 0;
}

/* ---- checks ---- */

static int recompute_checks(Manager *m) {
        PspArea *a = m->psp;
        _cleanup_free_ CheckChange *changes = NULL;
        CheckFacts f = {};
        CheckList l = {};
        json_object *section = NULL;
        size_t dropped = 0;
        bool had_last;
        int r, n;

        r = check_facts_gather(&f);
        if (r >= 0)
                r = check_facts_set_psp(&f, a->present, a->present ? a->dev.address : NULL,
                                        a->present ? a->dev.driver : NULL, a->dev_sev_open_error,
                                        a->status_queried, &a->platform);
        if (r >= 0) {
                /* the PSP area's view of /dev/sev (udev) wins over a bare stat() */
                f.dev_sev_exists = a->dev_sev ? TRI_YES : TRI_NO;
                f.sfs_present = a->dev_sfs ? TRI_YES : TRI_NO;
                r = checks_run(&f, &l);
        }
        check_facts_done(&f);
        if (r < 0)
                return log_error_errno(r, "Failed to run the readiness checks: %m");

        check_list_done(&a->checks);
        a->checks = l;

        if (json_object_object_get_ex(m->state, STATE_KEY, &section) && !json_object_is_type(section, json_type_object))
                log_warning("\"%s\" in %s is not an object; starting a new check history.", STATE_KEY, STATE_FILE_NAME);
        section = state_section(m->state, STATE_KEY);
        if (!section)
                return log_oom();
        had_last = json_object_object_get_ex(section, "last", NULL);
        n = check_history_apply(section, &a->checks, now_realtime_usec(), &changes, &dropped);
        if (n < 0)
                return log_error_errno(n, "Failed to update the check history: %m");
        if (dropped > 0)
                log_warning("Dropped %zu malformed entr%s from the check history in %s.", dropped,
                            dropped == 1 ? "y" : "ies", STATE_FILE_NAME);
        for (int i = 0; i < n; i++) {
                const Check *c = check_list_find(&a->checks, changes[i].id);

                log_struct(LOG_NOTICE, MESSAGE_ID_CHECK_CHANGED, "Check %s: %s -> %s (%s)", changes[i].id,
                           changes[i].old_result, changes[i].new_result, c ? strna(c->detail) : "");
        }
        /* The first run records "last" too, so that a change across a restart is noticed. */
        if (n > 0 || dropped > 0 || !had_last)
                (void) manager_save_state(m);
        return 0;
}

/* ---- kvm_amd watch ---- */

/* "loaded sev=Y sev_es=Y sev_snp=Y cth=99", or "absent": what the checks and the PSP state
 * depend on in kvm_amd. */
static char *kvm_signature(void) {
        static const char * const params[] = { "sev", "sev_es", "sev_snp", "ciphertext_hiding_asids" };
        _cleanup_free_ char *dir = path_join(paths_sysfs_dir(), "module/kvm_amd/parameters");
        char *sig = NULL;
        struct stat st;

        if (!dir)
                return NULL;
        if (stat(dir, &st) < 0)
                return strdup("absent");
        sig = strdup("loaded");
        for (size_t i = 0; sig && i < ELEMENTSOF(params); i++) {
                _cleanup_free_ char *p = path_join(dir, params[i]), *v = NULL;
                char *n = NULL;

                if (!p || read_one_line_file(p, &v) < 0)
                        v = mfree(v);
                if (asprintf(&n, "%s %s=%.32s", sig, params[i], v ? strstrip_trailing(v) : "?") < 0)
                        n = NULL;
                free(sig);
                sig = n;
        }
        return sig;
}

static int on_kvm_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        PspArea *a = m->psp;
        _cleanup_free_ char *sig = kvm_signature();

        if (sig && !streq_ptr(sig, a->kvm_signature)) {
                log_info("kvm_amd changed (%s -> %s); re-reading the PSP.", strna(a->kvm_signature), sig);
                free(a->kvm_signature);
                a->kvm_signature = TAKE_PTR(sig);
                (void) psp_reread(m, NULL);
        }
        (void) sd_event_source_set_time_relative(s, PSP_KVM_POLL_USEC);
        (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        return 0;
}

/* ---- hooks ---- */

int psp_area_start(Manager *m) {
        int r;

        m->psp = calloc(1, sizeof(PspArea));
        if (!m->psp)
                return log_oom();
        m->psp->manager = m;
        m->psp->worker.fd = -EBADF;

        r = bus_psp_register(m);
        if (r < 0)
                return log_error_errno(r, "Failed to register %s: %m", PSP_INTERFACE);

        /* No broadcast here: the other areas have not started yet. They read psp_area_snapshot()
         * when they start, and every later change is broadcast. */
        m->psp->kvm_signature = kvm_signature();
        r = sd_event_add_time_relative(m->event, &m->psp->kvm_timer, CLOCK_MONOTONIC, PSP_KVM_POLL_USEC, 0,
                                       on_kvm_timer, m);
        if (r < 0)
                return log_error_errno(r, "Failed to arm the kvm_amd watch: %m");
        (void) sd_event_source_set_description(m->psp->kvm_timer, "psp-kvm-amd-watch");

        r = psp_status_worker_init(&m->psp->worker, m->event, on_status_read, m);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the PSP status worker: %m");

        r = read_devices(m, NULL);
        if (r >= 0)
                r = read_status_now(m->psp);
        if (r < 0)
                return r == -ENOMEM ? log_oom() : r;
        return recompute_checks(m);
}

void psp_area_free(Manager *m) {
        PspArea *a = m->psp;

        if (!a)
                return;
        psp_status_worker_done(&a->worker);
        for (size_t i = 0; i < a->n_waiting; i++)
                sd_bus_message_unref(a->waiting[i]);
        free(a->waiting);
        sd_bus_slot_unref(a->slot);
        sd_event_source_disable_unref(a->kvm_timer);
        free(a->kvm_signature);
        psp_device_done(&a->dev);
        strv_free(a->removed);
        check_list_done(&a->checks);
        free(a);
        m->psp = NULL;
}

static bool uevent_concerns_psp(PspArea *a, sd_device *d, const char **ret_syspath) {
        const char *subsystem = NULL, *sysname = NULL, *syspath = NULL;

        if (sd_device_get_subsystem(d, &subsystem) < 0 || sd_device_get_syspath(d, &syspath) < 0)
                return false;
        (void) sd_device_get_sysname(d, &sysname);
        *ret_syspath = syspath;

        if (streq(subsystem, "misc"))
                return sysname && (streq(sysname, "sev") || streq(sysname, "sfs"));
        if (!streq(subsystem, "pci"))
                return false;
        if (a->present && streq(syspath, a->dev.syspath))
                return true;
        return pci_device_psp_id(d) != NULL;
}

/* udev added /dev/sev or /dev/sfs. Our node must be that device: under the unit's
 * PrivateDevices=yes the nodes are bound in, and allowed in the device cgroup, when the service
 * starts, so a PSP that came back (ccp reloaded) or came late is out of reach until a restart.
 * Then we stop with PSP_EXIT_NODE_STALE and systemd starts us again with fresh binds. */
static bool node_went_stale(Manager *m, sd_device *d) {
        const char *subsystem = NULL, *sysname = NULL;
        int r;

        if (sd_device_get_subsystem(d, &subsystem) < 0 || !streq(subsystem, "misc") ||
            sd_device_get_sysname(d, &sysname) < 0)
                return false;
        r = misc_node_check(d, sysname);
        if (r >= 0 || r == -ENOMEM || r == -ENXIO)     /* -ENXIO: no device number to compare */
                return false;
        if (r != -ENOENT && r != -ESTALE) {
                log_warning_errno(r, "Cannot check our /dev/%s node, ignoring: %m", sysname);
                return false;
        }
        log_node_problem(d, sysname, r, "exiting so that the service manager starts hwsecd again with the new node.");
        (void) sd_notify(false, "STOPPING=1");
        (void) sd_event_exit(m->event, PSP_EXIT_NODE_STALE);
        return true;
}

void psp_area_uevent(Manager *m, sd_device *d, sd_device_action_t action) {
        PspArea *a = m->psp;
        const char *syspath = NULL;

        if (!a || !uevent_concerns_psp(a, d, &syspath))
                return;
        if (action == SD_DEVICE_ADD && node_went_stale(m, d))
                return;

        log_debug("PSP uevent %d for %s", (int) action, syspath);
        switch (action) {
        case SD_DEVICE_REMOVE:
                if (!is_removed(a, syspath) && strv_extend(&a->removed, syspath) < 0) {
                        log_oom();
                        return;
                }
                (void) psp_reread(m, syspath);
                break;
        case SD_DEVICE_ADD:
                forget_removed(a, syspath);
                __attribute__((fallthrough));
        case SD_DEVICE_BIND:
        case SD_DEVICE_UNBIND:
        case SD_DEVICE_CHANGE:
        case SD_DEVICE_MOVE:
        case SD_DEVICE_ONLINE:
        case SD_DEVICE_OFFLINE:
                (void) psp_reread(m, NULL);
                break;
        default:
                break;
        }
}

void psp_area_event(Manager *m, ManagerEvent ev) {
        if (!m->psp)
                return;
        (void) recompute_checks(m);
}

int psp_area_describe(Manager *m, json_object *root) {
        json_object *o;

        if (!m->psp)
                return 0;
        o = psp_to_json(m->psp);
        if (!o)
                return -ENOMEM;
        json_object_object_add(root, "psp", o);
        return 0;
}

bool psp_area_degraded(Manager *m) {
        PspArea *a = m->psp;

        /* Absence is state. A PSP that is there but cannot answer its status is a problem. */
        return a && a->present && a->dev_sev && a->status_queried && !a->platform.sev_valid;
}

static void summary(Manager *m, unsigned counts[_CHECK_RESULT_MAX]) {
        if (m->psp)
                check_list_summary(&m->psp->checks, counts);
        else
                memset(counts, 0, sizeof(unsigned) * _CHECK_RESULT_MAX);
}

int psp_area_append_checks(Manager *m, sd_bus_message *reply) {
        const CheckList *l = m->psp ? &m->psp->checks : &(CheckList) {};
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(ssssssa{sv}a{sv})");
        if (r < 0)
                return r;
        for (size_t i = 0; i < l->n; i++) {
                const Check *c = &l->checks[i];
                _cleanup_json_ json_object *rem = check_remediation_to_json(c);

                if (!rem)
                        return -ENOMEM;
                r = sd_bus_message_open_container(reply, 'r', "ssssssa{sv}a{sv}");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "ssssss", c->id, c->category,
                                                  check_result_to_string(c->result), c->title,
                                                  c->detail ?: "", c->hint ?: "");
                if (r >= 0)
                        r = bus_append_json_dict(reply, c->evidence);
                if (r >= 0)
                        r = bus_append_json_dict(reply, rem);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

int psp_area_append_check_summary(Manager *m, sd_bus_message *reply) {
        unsigned counts[_CHECK_RESULT_MAX];
        int r;

        summary(m, counts);
        r = sd_bus_message_open_container(reply, 'a', "{su}");
        if (r < 0)
                return r;
        for (size_t i = 0; i < _CHECK_RESULT_MAX; i++) {
                r = sd_bus_message_append(reply, "{su}", check_result_to_string((CheckResult) i), counts[i]);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

int psp_area_describe_checks(Manager *m, json_object *root) {
        unsigned counts[_CHECK_RESULT_MAX];
        json_object *a, *s;

        a = check_list_to_json(m->psp ? &m->psp->checks : &(CheckList) {});
        s = json_object_new_object();
        if (!a || !s) {
                json_object_put(a);
                json_object_put(s);
                return -ENOMEM;
        }
        summary(m, counts);
        for (size_t i = 0; i < _CHECK_RESULT_MAX; i++)
                json_object_object_add(s, check_result_to_string((CheckResult) i), json_object_new_int64(counts[i]));
        json_object_object_add(root, "checks", a);
        json_object_object_add(root, "check_summary", s);
        return 0;
}

void psp_area_snapshot(Manager *m, PspSnapshot *ret) {
        PspArea *a = m->psp;

        *ret = (PspSnapshot) {};
        if (!a)
                return;
        ret->present = a->present && a->dev_sev;
        ret->sev_status_valid = a->platform.sev_valid;
        if (a->platform.sev_valid) {
                ret->sev_state = a->platform.sev.state;
                ret->sev_guest_count = a->platform.sev.guest_count;
        }
        ret->snp_status_valid = a->platform.snp_valid;
        if (a->platform.snp_valid) {
                ret->snp_initialized = snp_status_initialized(&a->platform.snp);
                ret->snp_guest_count = a->platform.snp.guest_count;
                ret->ciphertext_hiding_cap = a->platform.snp.ciphertext_hiding_cap;
                ret->ciphertext_hiding_en = a->platform.snp.ciphertext_hiding_en;
        }
        ret->sfs_present = a->dev_sfs;
}

/* ---- Describe() ---- */

static json_object *error_to_json(const SevError *e) {
        json_object *o;

        if (e->error == 0)
                return NULL;
        o = json_object_new_object();
        if (!o)
                return NULL;
        json_object_object_add(o, "name", json_object_new_string(e->name));
        json_object_object_add(o, "message", json_object_new_string(e->message));
        json_object_object_add(o, "firmware_status", json_object_new_int64(e->fw_code));
        return o;
}

/* The few facts `hwsecctl status` prints for the PSP. */
static json_object *summary_to_json(PspArea *a) {
        json_object *s = json_object_new_object();
        char buf[64];

        if (!s)
                return NULL;
        json_object_object_add(s, "PSP", json_object_new_string(a->present ? a->dev.address : "absent"));
        json_object_object_add(s, "/dev/sev", json_object_new_string(a->dev_sev ? "present" : "absent"));
        if (a->platform.sev_valid) {
                snprintf(buf, sizeof buf, "%s (API %u.%u, build %u)", sev_state_to_string(a->platform.sev.state),
                         a->platform.sev.api_major, a->platform.sev.api_minor, a->platform.sev.build);
                json_object_object_add(s, "SEV", json_object_new_string(buf));
        } else if (a->platform.sev_error.error)
                json_object_object_add(s, "SEV", json_object_new_string(a->platform.sev_error.name));
        if (a->platform.snp_valid) {
                snprintf(buf, sizeof buf, "%s, RMP %s", snp_state_to_string(a->platform.snp.state),
                         a->platform.snp.is_rmp_initialized ? "initialised" : "not initialised");
                json_object_object_add(s, "SNP", json_object_new_string(buf));
                snprintf(buf, sizeof buf, "capable %s, enabled %s", yes_no(a->platform.snp.ciphertext_hiding_cap),
                         yes_no(a->platform.snp.ciphertext_hiding_en));
                json_object_object_add(s, "Ciphertext hiding", json_object_new_string(buf));
                json_object_object_add(s, "TCB", json_object_new_string(
                        a->platform.snp.current_tcb == a->platform.snp.reported_tcb ? "committed" : "uncommitted"));
        } else if (a->platform.snp_error.error)
                json_object_object_add(s, "SNP", json_object_new_string(a->platform.snp_error.name));
        if (a->last_error.error)
                json_object_object_add(s, "Last error", json_object_new_string(a->last_error.name));
        return s;
}

json_object *psp_to_json(PspArea *a) {
        json_object *o = json_object_new_object(), *cpu;
        char id[8];

        if (!o)
                return NULL;
        json_object_object_add(o, "present", json_object_new_boolean(a->present));
        json_object_object_add(o, "pci_address", json_object_new_string(a->present ? a->dev.address : ""));
        snprintf(id, sizeof id, "0x%04x", a->present ? a->dev.device : 0);
        json_object_object_add(o, "pci_device_id", json_object_new_string(a->present ? id : ""));
        json_object_object_add(o, "driver", json_object_new_string(a->present && a->dev.driver ? a->dev.driver : ""));
        json_object_object_add(o, "attributes", a->present ? json_object_get(a->dev.attributes) : json_object_new_object());
        json_object_object_add(o, "sev_device", json_object_new_boolean(a->dev_sev));
        json_object_object_add(o, "sfs_device", json_object_new_boolean(a->dev_sfs));

        cpu = json_object_new_object();
        if (cpu) {
                if (a->cpu_error == 0) {
                        json_object_object_add(cpu, "vendor", json_object_new_string(a->cpu.vendor));
                        json_object_object_add(cpu, "family", json_object_new_int(a->cpu.family));
                        json_object_object_add(cpu, "model", json_object_new_int(a->cpu.model));
                }
                json_object_object_add(cpu, "tcb_layout", json_object_new_string(tcb_layout_to_string(a->layout)));
                json_object_object_add(o, "cpu", cpu);
        }

        json_object_object_add(o, "sev_status", a->platform.sev_valid ? sev_status_to_json(&a->platform.sev) : NULL);
        json_object_object_add(o, "sev_error", error_to_json(&a->platform.sev_error));
        json_object_object_add(o, "snp_status",
                               a->platform.snp_valid ? snp_status_to_json(&a->platform.snp, a->layout) : NULL);
        json_object_object_add(o, "snp_error", error_to_json(&a->platform.snp_error));
        json_object_object_add(o, "last_error", json_object_new_string(a->last_error.name));
        json_object_object_add(o, "last_error_message", json_object_new_string(a->last_error.message));
        json_object_object_add(o, "last_refresh_usec", json_object_new_int64((int64_t) a->last_refresh));
        json_object_object_add(o, "summary", summary_to_json(a));
        return o;
}
