/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The PSP area: discovery of the PSP PCI function and the misc devices sev/sfs (enumeration at
 * start, then uevents, and kvm_amd changes the host facts report), SEV/SNP status on every
 * change, published to the other areas as a PspSnapshot (MANAGER_EVENT_PSP_CHANGED). */

#include <inttypes.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "bus-util.h"
#include "fileio.h"
#include "log.h"
#include "paths.h"
#include "psp-daemon.h"
#include "state.h"
#include "vcek.h"

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

/* What one status read finds: the SEV/SNP status and the chip id. */
typedef struct StatusResult {
        SevPlatform platform;
        bool chip_id_valid;
        PspChipId chip_id;
        SevError chip_id_error;
} StatusResult;

/* SEV_PLATFORM_STATUS, SNP_PLATFORM_STATUS, then SEV_GET_ID2 (read-only fd, no polkit: the
 * kernel checks no write permission for it). Blocking: on the worker, or before the bus name. */
static void status_query(const char *node, StatusResult *ret) {
        _cleanup_close_ int fd = -EBADF;

        *ret = (StatusResult) {};
        sev_query_platform(node, &ret->platform);
        fd = psp_op_open(node, PSP_OP_GET_ID2, &ret->chip_id_error);
        if (fd < 0)
                return;
        ret->chip_id_valid = psp_get_id2(fd, &ret->chip_id, &ret->chip_id_error) >= 0;
}

/* The status as the last finished read left it: a query's result, or nothing without /dev/sev. */
static void set_status(PspArea *a, const StatusResult *res) {
        SevError old_error = a->last_error;
        const SevPlatform *p = res ? &res->platform : NULL;

        a->status_queried = p != NULL;
        a->platform = p ? *p : (SevPlatform) {};
        a->chip_id_valid = res && res->chip_id_valid;
        a->chip_id = a->chip_id_valid ? res->chip_id : (PspChipId) {};
        if (res)
                a->chip_id_error = res->chip_id_error;
        else
                psp_op_error_set(&a->chip_id_error, PSP_OP_GET_ID2, -ENOENT, 0);
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
        StatusResult res;

        if (!node)
                return -ENOMEM;
        if (!a->dev_sev) {
                set_status(a, NULL);
                return 0;
        }
        status_query(node, &res);
        set_status(a, &res);
        return 0;
}

/* CPUID is read once, by the host facts. */
static void read_cpu(PspArea *a) {
        const HostCpu *c = &a->manager->facts.cpu;

        a->cpu_error = c->identity_error;
        a->cpu = c->identity;
        a->layout = a->cpu_error == 0 ? tcb_layout_for_family(a->cpu.family) : TCB_LAYOUT_UNKNOWN;
}

/* Discovery (sysfs, udev database), with the log records; no status, no bus signals. */
static int read_devices(PspArea *a, const char *exclude) {
        _cleanup_free_ char *syspath = NULL;
        bool was_present = a->present;
        int r;

        forget_removed(a, NULL);

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

static void snapshot(PspArea *a, PspSnapshot *ret);

static void publish(PspArea *a) {
        PspSnapshot s;

        snapshot(a, &s);
        manager_broadcast(a->manager, &(ManagerEvent) { .type = MANAGER_EVENT_PSP_CHANGED, .psp = &s });
}

/* A re-read is complete: announce it, and answer the Refresh() calls that waited for it. */
static void reread_finished(PspArea *a) {
        (void) bus_psp_emit_changed(a);
        /* every area hears of it, and the readiness checks */
        publish(a);
        for (size_t i = 0; i < a->n_waiting; i++) {
                int r = sd_bus_reply_method_return(a->waiting[i], NULL);
                if (r < 0)
                        log_debug_errno(r, "Failed to answer Refresh(), the caller may have gone: %m");
                sd_bus_message_unref(a->waiting[i]);
        }
        a->waiting = mfree(a->waiting);
        a->n_waiting = 0;
}

/* One status read on the worker thread: its input and its result. */
typedef struct StatusRead {
        PspArea *a;
        char *node;
        uint64_t generation;            /* the re-read it belongs to */
        StatusResult result;
} StatusRead;

static WorkerPool status_pool = WORKER_POOL_INIT("psp-status", 1);

static void status_read_free(void *data) {
        StatusRead *s = data;

        if (!s)
                return;
        free(s->node);
        free(s);
}

static void status_read_run(void *data) {
        StatusRead *s = data;

        status_query(s->node, &s->result);
}

static void on_status_read(Worker *w, void *data);

/* Starts the status read on the worker; without a thread, reads in the loop. 1: pending. */
static int start_status_read(PspArea *a) {
        StatusRead *s;
        int r;

        s = calloc(1, sizeof *s);
        if (!s)
                return log_oom();
        s->a = a;
        s->generation = a->status_generation;
        s->node = sev_node();
        if (!s->node) {
                status_read_free(s);
                return log_oom();
        }
        r = worker_start(&a->status_worker, a->manager->event, &status_pool, 0, status_read_run, on_status_read, s,
                         status_read_free);
        if (r >= 0)
                return 1;
        status_read_free(s);
        log_warning_errno(r, "Cannot read the PSP status on a worker thread, reading it in the event loop: %m");
        r = read_status_now(a);
        return r < 0 ? log_oom() : 0;
}

static void on_status_read(Worker *w, void *data) {
        StatusRead *s = data;
        PspArea *a = s->a;
        int r;

        if (s->generation != a->status_generation) {
                /* the device went away meanwhile (already announced), or a newer read was asked
                 * for while this one ran: this result is stale */
                log_debug("Dropping the result of PSP status read %" PRIu64 ", re-read %" PRIu64 " replaced it.",
                          s->generation, a->status_generation);
                a->status_worker = worker_free(a->status_worker);
                if (!a->reread_queued)
                        return;
                a->reread_queued = false;
                r = start_status_read(a);
                if (r > 0)
                        return;
        } else {
                set_status(a, &s->result);
                a->status_worker = worker_free(a->status_worker);
        }
        reread_finished(a);
}

int psp_reread(PspArea *a, const char *exclude) {
        int r;

        r = read_devices(a, exclude);
        if (r < 0)
                return r;

        a->status_generation++;
        if (!a->dev_sev) {
                a->reread_queued = false;
                set_status(a, NULL);
        } else if (worker_running(a->status_worker)) {
                a->reread_queued = true;        /* on_status_read() starts it */
                return 1;
        } else {
                r = start_status_read(a);
                if (r != 0)
                        return r;
        }
        reread_finished(a);
        return 0;
}

int psp_refresh_wait(PspArea *a, sd_bus_message *msg) {
        sd_bus_message **w;

        w = reallocarray(a->waiting, a->n_waiting + 1, sizeof *w);
        if (!w)
                return -ENOMEM;
        a->waiting = w;
        a->waiting[a->n_waiting++] = sd_bus_message_ref(msg);
        return 0;
}

/* ---- state.json "psp" ---- */

#define STATE_KEY "psp"

static void load_state(PspArea *a) {
        json_object *section = NULL, *v = NULL;
        int64_t t;

        if (!json_object_object_get_ex(a->manager->state, STATE_KEY, &section))
                return;
        if (!json_object_is_type(section, json_type_object) ||
            !json_object_object_get_ex(section, "last_commit_usec", &v) || !json_object_is_type(v, json_type_int) ||
            (t = json_object_get_int64(v)) < 0) {
                log_warning("\"%s\" in %s is malformed; the time of the last firmware commit is forgotten.", STATE_KEY, STATE_FILE_NAME);
                return;
        }
        a->last_commit_usec = (uint64_t) t;
}

int psp_record_commit(PspArea *a) {
        json_object *section;

        a->last_commit_usec = now_realtime_usec();
        section = state_section(a->manager->state, STATE_KEY);
        if (!section)
                return -ENOMEM;
        json_object_object_add(section, "last_commit_usec", json_object_new_int64((int64_t) a->last_commit_usec));
        return manager_save_state(a->manager);
}

/* ---- hooks ---- */

static int psp_start(Manager *m, void **ret) {
        PspArea *a;
        int r;

        a = calloc(1, sizeof(PspArea));
        if (!a)
                return log_oom();
        a->manager = m;
        *ret = a;

        r = bus_psp_register(a);
        if (r < 0)
                return log_error_errno(r, "Failed to register %s: %m", PSP_INTERFACE);

        read_cpu(a);
        load_state(a);
        r = read_devices(a, NULL);
        if (r >= 0)
                r = read_status_now(a);
        if (r < 0)
                return r == -ENOMEM ? log_oom() : r;
        /* what PropertiesChanged compares with later */
        r = bus_psp_emit_changed(a);
        if (r < 0)
                return log_error_errno(r, "Failed to read back the %s properties: %m", PSP_INTERFACE);
        /* Not delivered yet (the other areas have not started), but retained: they read it
         * with manager_retained_psp() when they start. */
        publish(a);
        return 0;
}

static void psp_free(void *data) {
        PspArea *a = data;

        if (worker_running(a->status_worker))
                log_info("Waiting for a PSP status read to finish before stopping.");
        a->status_worker = worker_free(a->status_worker);
        for (size_t i = 0; i < a->n_waiting; i++)
                sd_bus_message_unref(a->waiting[i]);
        free(a->waiting);
        sd_bus_slot_unref(a->slot);
        free(a->vtable);
        bus_property_cache_done(&a->properties);
        psp_device_done(&a->dev);
        strv_free(a->removed);
        free(a);
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
static bool node_went_stale(PspArea *a, sd_device *d) {
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
        (void) sd_event_exit(a->manager->event, PSP_EXIT_NODE_STALE);
        return true;
}

static void psp_uevent(void *data, sd_device *d, sd_device_action_t action) {
        PspArea *a = data;
        const char *syspath = NULL;

        if (!uevent_concerns_psp(a, d, &syspath))
                return;
        if (action == SD_DEVICE_ADD && node_went_stale(a, d))
                return;

        log_debug("PSP uevent %d for %s", (int) action, syspath);
        switch (action) {
        case SD_DEVICE_REMOVE:
                if (!is_removed(a, syspath) && strv_extend(&a->removed, syspath) < 0) {
                        log_oom();
                        return;
                }
                (void) psp_reread(a, syspath);
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
                (void) psp_reread(a, NULL);
                break;
        default:
                break;
        }
}

static void psp_event(void *data, const ManagerEvent *ev) {
        PspArea *a = data;

        /* Loading kvm_amd initialises SEV/SNP (Linux >= 6.16) and sends no uevent we see: the
         * host facts poll the parameters and tell us. */
        if (ev->type == MANAGER_EVENT_FACTS_CHANGED && (ev->facts_changed & HOST_FACTS_KVM)) {
                log_info("kvm_amd changed; re-reading the PSP.");
                (void) psp_reread(a, NULL);
        } else if (ev->type == MANAGER_EVENT_PSP_STALE) {
                log_info("The PSP firmware was updated or committed; re-reading the PSP.");
                (void) psp_reread(a, NULL);
        }
}

static int psp_describe(void *data, json_object *root) {
        json_object *o = psp_to_json(data);

        if (!o)
                return -ENOMEM;
        json_object_object_add(root, "psp", o);
        return 0;
}

static bool psp_degraded(void *data) {
        PspArea *a = data;

        /* Absence is state. A PSP that is there but cannot answer its status is a problem. */
        return a->present && a->dev_sev && a->status_queried && !a->platform.sev_valid;
}

static void snapshot(PspArea *a, PspSnapshot *ret) {
        *ret = (PspSnapshot) {
                .pci_present = a->present,
                .dev_sev = a->dev_sev,
                .dev_sfs = a->dev_sfs,
                .status_queried = a->status_queried,
                .platform = a->platform,
        };
        if (a->present) {
                snprintf(ret->pci_address, sizeof ret->pci_address, "%s", strempty(a->dev.address));
                snprintf(ret->driver, sizeof ret->driver, "%s", strempty(a->dev.driver));
        }
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
        ret->last_commit_usec = a->last_commit_usec;
}

static json_object *error_to_json(const SevError *e);

/* ---- chip id and VCEK URL ---- */

int psp_chip_id_hex(PspArea *a, char *buf, size_t size) {
        if (size > 0)
                buf[0] = '\0';
        if (!a->chip_id_valid)
                return 0;
        return psp_chip_id_to_hex(&a->chip_id, a->chip_id.length, buf, size);
}

int psp_vcek_url(PspArea *a, char **ret, SevError *e) {
        VcekProduct p = a->cpu_error == 0 ? vcek_product_for_cpu(a->cpu.family, a->cpu.model) : VCEK_PRODUCT_UNKNOWN;

        if (!a->platform.snp_valid) {
                psp_error_setf(e, -ENODATA, "SNP_STATUS_UNKNOWN",
                               "The SNP status could not be read (%s), so the reported TCB the VCEK URL names is unknown; see SnpStatusError.",
                               a->platform.snp_error.name[0] ? a->platform.snp_error.name : "no /dev/sev");
                return -ENODATA;
        }
        if (a->platform.snp.mask_chip_id || a->chip_id_valid)
                /* a masked id is said as such even when GET_ID2 failed or answered zeros */
                return vcek_url_build(p, &a->chip_id, a->platform.snp.reported_tcb, a->platform.snp.mask_chip_id, ret, e);
        psp_error_setf(e, a->chip_id_error.error ?: -ENODATA, "CHIP_ID_UNKNOWN",
                       "The chip id could not be read (%s): %s", a->chip_id_error.name, a->chip_id_error.message);
        return a->chip_id_error.error ?: -ENODATA;
}

static void vcek_to_json(PspArea *a, json_object *o) {
        _cleanup_free_ char *url = NULL;
        char hex[2 * PSP_CHIP_ID_MAX + 1];
        SevError e = {};

        (void) psp_chip_id_hex(a, hex, sizeof hex);
        json_object_object_add(o, "chip_id", json_object_new_string(hex));
        json_object_object_add(o, "chip_id_error", error_to_json(&a->chip_id_error));
        (void) psp_vcek_url(a, &url, &e);
        json_object_object_add(o, "vcek_url", json_object_new_string(strempty(url)));
        json_object_object_add(o, "vcek_url_error", error_to_json(&e));
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
        vcek_to_json(a, o);
        json_object_object_add(o, "last_error", json_object_new_string(a->last_error.name));
        json_object_object_add(o, "last_error_message", json_object_new_string(a->last_error.message));
        json_object_object_add(o, "last_refresh_usec", json_object_new_int64((int64_t) a->last_refresh));
        json_object_object_add(o, "summary", summary_to_json(a));
        return o;
}

/* The SVN of each part of a TCB version (docs/metrics.md). */
static int tcb_metrics(MetricsWriter *w, const char *which, uint64_t raw, TcbLayout layout) {
        TcbVersion t;
        struct {
                const char *part;
                uint8_t svn;
                bool valid;
        } parts[5];
        int r;

        if (tcb_decode(raw, layout, &t) < 0)
                return 0;       /* unknown layout: no parts to name */
        parts[0] = (typeof(parts[0])) { "fmc", t.fmc, t.has_fmc };
        parts[1] = (typeof(parts[0])) { "boot_loader", t.boot_loader, true };
        parts[2] = (typeof(parts[0])) { "tee", t.tee, true };
        parts[3] = (typeof(parts[0])) { "snp", t.snp, true };
        parts[4] = (typeof(parts[0])) { "microcode", t.microcode, true };
        for (size_t i = 0; i < ELEMENTSOF(parts); i++) {
                if (!parts[i].valid)
                        continue;
                r = metrics_sample(w, "hwsecd_psp_tcb_svn", METRICS_LABELS({ "tcb", which }, { "part", parts[i].part }),
                                   parts[i].svn, "Security version number of each TCB part (current and reported TCB).");
                if (r < 0)
                        return r;
        }
        return 0;
}

static int psp_metrics(void *data, MetricsWriter *w) {
        PspArea *a = data;
        const SevPlatform *p = &a->platform;
        char v[16], b[16];
        int r;

        r = metrics_sample(w, "hwsecd_psp_present", NULL, a->present, "1 when the PSP PCI function exists.");
        if (r >= 0)
                r = metrics_sample(w, "hwsecd_psp_status_valid", METRICS_LABELS({ "status", "sev" }),
                                   a->status_queried && p->sev_valid, "1 when the PSP answered the status query.");
        if (r >= 0)
                r = metrics_sample(w, "hwsecd_psp_status_valid", METRICS_LABELS({ "status", "snp" }),
                                   a->status_queried && p->snp_valid, "1 when the PSP answered the status query.");
        if (r < 0 || !a->status_queried)
                return r;
        if (p->sev_valid) {
                snprintf(v, sizeof v, "%u.%u", p->sev.api_major, p->sev.api_minor);
                snprintf(b, sizeof b, "%u", p->sev.build);
                r = metrics_sample(w, "hwsecd_psp_sev_firmware_info", METRICS_LABELS({ "api_version", v }, { "build", b }),
                                   1, "SEV firmware API version and build (value 1).");
                if (r >= 0)
                        r = metrics_sample(w, "hwsecd_psp_sev_state", METRICS_LABELS({ "state", sev_state_to_string(p->sev.state) }),
                                           1, "SEV platform state (value 1, labelled).");
                if (r >= 0)
                        r = metrics_sample(w, "hwsecd_psp_sev_guests", NULL, p->sev.guest_count, "SEV guests the PSP counts.");
                if (r < 0)
                        return r;
        }
        if (p->snp_valid) {
                snprintf(v, sizeof v, "%u.%u", p->snp.api_major, p->snp.api_minor);
                snprintf(b, sizeof b, "%u", p->snp.build_id);
                r = metrics_sample(w, "hwsecd_psp_snp_firmware_info", METRICS_LABELS({ "api_version", v }, { "build", b }),
                                   1, "SNP firmware API version and build (value 1).");
                if (r >= 0)
                        r = metrics_sample(w, "hwsecd_psp_snp_initialized", NULL, snp_status_initialized(&p->snp),
                                           "1 when SNP is initialised.");
                if (r >= 0)
                        r = metrics_sample(w, "hwsecd_psp_snp_guests", NULL, p->snp.guest_count, "SNP guests the PSP counts.");
                if (r >= 0)
                        r = metrics_sample(w, "hwsecd_psp_tcb_committed", NULL, p->snp.current_tcb == p->snp.reported_tcb,
                                           "1 when the reported TCB equals the current TCB (TcbCommitted).");
                if (r >= 0)
                        r = tcb_metrics(w, "current", p->snp.current_tcb, a->layout);
                if (r >= 0)
                        r = tcb_metrics(w, "reported", p->snp.reported_tcb, a->layout);
        }
        return r;
}

const AreaVTable psp_area_vtable = {
        .name = "psp",
        .start = psp_start,
        .free = psp_free,
        .uevent = psp_uevent,
        .event = psp_event,
        .describe = psp_describe,
        .degraded = psp_degraded,
        .metrics = psp_metrics,
};
