/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.hwsecd1.Firmware at /org/hwsecd1/firmware and org.hwsecd1.FirmwareJob at
 * /org/hwsecd1/firmware/job/N. */

#include <ctype.h>

#include "bus-errors.h"
#include "bus-properties.h"
#include "bus-util.h"
#include "firmware-daemon.h"
#include "fileio.h"
#include "log.h"
#include "paths.h"
#include "polkit.h"
#include "schedule.h"
#include "state.h"

char *bus_firmware_job_path(uint32_t id) {
        char *p = NULL;

        if (asprintf(&p, FIRMWARE_JOB_PREFIX "/%u", id) < 0)
                return NULL;
        return p;
}

static Job *job_from_path(FirmwareArea *a, const char *path) {
        const char *e;
        uint32_t id;

        if (!path || !strneq(path, FIRMWARE_JOB_PREFIX "/", strlen(FIRMWARE_JOB_PREFIX "/")))
                return NULL;
        e = path + strlen(FIRMWARE_JOB_PREFIX "/");
        if (!*e || e[0] == '0' || safe_atou32(e, 10, &id) < 0)
                return NULL;
        return job_list_find(&a->jobs, id);
}

/* ---- signals ---- */

static bool serving(FirmwareArea *a) {
        return a->m->serving && a->m->bus && !a->shutting_down;
}

void bus_firmware_job_added(FirmwareArea *a, Job *j) {
        _cleanup_free_ char *p = bus_firmware_job_path(j->id);

        if (p && serving(a))
                (void) sd_bus_emit_interfaces_added(a->m->bus, p, FIRMWARE_JOB_IFACE, NULL);
}

void bus_firmware_job_removed(FirmwareArea *a, uint32_t id) {
        _cleanup_free_ char *p = bus_firmware_job_path(id);

        if (p && serving(a))
                (void) sd_bus_emit_interfaces_removed(a->m->bus, p, FIRMWARE_JOB_IFACE, NULL);
}

void bus_firmware_job_changed(FirmwareArea *a, Job *j) {
        _cleanup_free_ char *p = bus_firmware_job_path(j->id);

        if (p && serving(a))
                (void) bus_emit_changed(a->m->bus, p, FIRMWARE_JOB_IFACE, "State", "Started", "Finished", "Result",
                                        "SfsStatus", "SfsExtendedStatus", "Error", "VersionsBefore", "VersionsAfter",
                                        NULL);
}

static const BusPropertyTable firmware_table;

void bus_firmware_changed(FirmwareArea *a) {
        int r;

        if (!a->slot)
                return;
        r = bus_property_table_emit_changed(&firmware_table, a->m->bus, FIRMWARE_PATH, a, &a->properties, serving(a));
        if (r < 0)
                log_warning_errno(r, "Failed to announce the %s properties: %m", FIRMWARE_IFACE);
}

/* ---- value helpers ---- */

static int append_strings(sd_bus_message *reply, const SfsString *s, size_t n) {
        int r;

        r = sd_bus_message_open_container(reply, 'v', "a(us)");
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(us)");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, "(us)", s[i].offset, s[i].text);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

/* With the ScheduleUpdate option "commit": SnpCurrentTcb and SnpReportedTcb (t) before the
 * update / after the commit, and after it Committed (b) and CommitError (s, "" or the PSP's
 * error name). */
static int append_job_commit(sd_bus_message *reply, const JobCommit *c, bool after) {
        bool valid = after ? c->tcb_after_valid : c->tcb_before_valid;
        int r = 0;

        if (!c->requested)
                return 0;
        if (valid)
                r = sd_bus_message_append(reply, "{sv}{sv}",
                                          "SnpCurrentTcb", "t", after ? c->current_after : c->current_before,
                                          "SnpReportedTcb", "t", after ? c->reported_after : c->reported_before);
        if (r >= 0 && after)
                r = sd_bus_message_append(reply, "{sv}{sv}", "Committed", "b", c->committed, "CommitError", "s", c->error);
        return r;
}

/* a{sv}: Valid, and when valid Sha256, WrittenSize, Strings; the commit's TCBs (above). */
static int append_job_versions(sd_bus_message *reply, const JobVersions *v, const JobCommit *c, bool after) {
        int r;

        r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        r = append_job_commit(reply, c, after);
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}", "Valid", "b", v->valid);
        if (r >= 0 && v->valid) {
                r = sd_bus_message_append(reply, "{sv}{sv}", "Sha256", "s", v->sha256, "WrittenSize", "u",
                                          v->written_size);
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "s", "Strings");
                if (r >= 0)
                        r = append_strings(reply, v->strings, v->n_strings);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static const char *errno_display(int error, char *buf, size_t size) {
        const char *n;

        if (error == 0)
                return "";
        n = sfs_errno_name(error);
        if (n)
                return n;
        snprintf(buf, size, "errno %d", error);
        return buf;
}

/* ---- org.hwsecd1.Firmware properties ---- */

static int property_get_present(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        FirmwareArea *a = userdata;
        return sd_bus_message_append(reply, "b", a->present);
}

static int property_get_versions(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        FirmwareArea *a = userdata;
        char st[16];
        int r;

        r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "{sv}", "Valid", "b", a->versions_valid);
        if (r >= 0 && a->versions_error)
                r = sd_bus_message_append(reply, "{sv}", "Error", "s", a->versions_error);
        if (r >= 0 && a->versions_result.has_status)
                r = sd_bus_message_append(reply, "{sv}{sv}{sv}", "Status", "s",
                                          sfs_status_to_string(a->versions_result.status, st, sizeof st),
                                          "StatusCode", "u", a->versions_result.status,
                                          "ExtendedStatus", "u", a->versions_result.extended_status);
        if (r >= 0 && a->versions_valid) {
                r = sd_bus_message_append(reply, "{sv}{sv}", "Sha256", "s", a->versions.sha256, "WrittenSize", "u",
                                          a->versions.written_size);
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "s", "Strings");
                if (r >= 0)
                        r = append_strings(reply, a->versions.strings, a->versions.n_strings);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "s", "Blob");
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'v', "ay");
                if (r >= 0)
                        r = sd_bus_message_append_array(reply, 'y', a->versions.blob, sizeof a->versions.blob);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int append_job_paths(FirmwareArea *a, sd_bus_message *reply) {
        int r;

        r = sd_bus_message_open_container(reply, 'a', "o");
        for (size_t i = 0; r >= 0 && i < a->jobs.n_history; i++) {
                _cleanup_free_ char *p = bus_firmware_job_path(a->jobs.history[i]->id);
                r = p ? sd_bus_message_append(reply, "o", p) : -ENOMEM;
        }
        for (size_t i = 0; r >= 0 && i < a->jobs.n_jobs; i++) {
                _cleanup_free_ char *p = bus_firmware_job_path(a->jobs.jobs[i]->id);
                r = p ? sd_bus_message_append(reply, "o", p) : -ENOMEM;
        }
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int property_get_jobs(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return append_job_paths(userdata, reply);
}

static int property_get_windows(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        FirmwareArea *a = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "s");
        for (size_t i = 0; r >= 0 && i < a->n_windows; i++) {
                _cleanup_free_ char *s = window_to_string(&a->windows[i]);
                r = s ? sd_bus_message_append(reply, "s", s) : -ENOMEM;
        }
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

/* ---- org.hwsecd1.Firmware methods ---- */

int bus_firmware_payload_error(sd_bus_error *error, PayloadError e, const char *name, int err) {
        const char *what = payload_error_to_string(e);

        switch (e) {
        case PAYLOAD_NOT_FOUND:
                return sd_bus_error_setf(error, HWSEC_ERROR_NOT_FOUND, "Package \"%s\": %s (%s/%s). Stage it first with "
                                         "'hwsecctl firmware stage FILE'.", name, what, paths_firmware_dir(), PAYLOAD_SUBDIR);
        case PAYLOAD_EXISTS:
                return sd_bus_error_setf(error, HWSEC_ERROR_CONFLICT, "Package \"%s\": %s; choose another name.", name, what);
        case PAYLOAD_IO:
                return sd_bus_error_setf(error, HWSEC_ERROR_IO, "Package \"%s\": %s: %s.", name, what, strerror(err));
        case PAYLOAD_NOT_ALLOWED:
                return sd_bus_error_setf(error, HWSEC_ERROR_INVALID_ARGUMENT, "Package \"%s\": %s; add its sha256 to "
                                         "hwsecd.conf if it is approved.", name, what);
        default:
                return sd_bus_error_setf(error, HWSEC_ERROR_INVALID_ARGUMENT, "Package \"%s\": %s.", name, what);
        }
}

/* A printable copy of a name for error messages (the name itself may be anything). */
static void safe_name(const char *name, char buf[static 80]) {
        size_t i;

        for (i = 0; name[i] && i < 70; i++)
                buf[i] = (name[i] >= 0x20 && name[i] < 0x7f) ? name[i] : '?';
        if (name[i])
                strcpy(buf + i, "...");
        else
                buf[i] = '\0';
}

static int method_stage_package(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        FirmwareArea *a = userdata;
        const char *name;
        char shown[80];
        PayloadError e;
        int fd, r;

        r = sd_bus_message_read(msg, "hs", &fd, &name);
        if (r < 0)
                return r;
        safe_name(name, shown);
        e = payload_name_check(name, strlen(name));
        if (e != PAYLOAD_OK)
                return bus_firmware_payload_error(error, e, shown, 0);
        if (a->allow_error)
                return sd_bus_error_setf(error, HWSEC_ERROR_INVALID_ARGUMENT, "%s.", a->allow_error);
        if (a->running && streq(a->running->payload, name))
                return sd_bus_error_setf(error, HWSEC_ERROR_BUSY, "Package \"%s\" is being installed by job %u right now; "
                                         "try again when it has finished.", name, a->running->id);

        r = polkit_verify(a->m, msg, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;

        /* Nothing here touches the caller's file: it may never answer (see firmware-stage.c). */
        return firmware_stage_start(a, msg, fd, name, error);
}

static int read_options(sd_bus_message *msg, bool *ret_window, const char **ret_sha, bool *ret_commit,
                        json_object **ret_opts, sd_bus_error *error) {
        json_object *opts = NULL;
        int r;

        r = bus_read_dict_as_json(msg, &opts, error);
        if (r < 0)
                return r;
        *ret_opts = opts;
        *ret_window = false;
        *ret_sha = NULL;
        *ret_commit = false;
        json_object_object_foreach(opts, key, val) {
                if (streq(key, "Window")) {
                        if (!json_object_is_type(val, json_type_boolean))
                                return sd_bus_error_setf(error, HWSEC_ERROR_INVALID_ARGUMENT,
                                                         "Option \"Window\" must be a boolean (b).");
                        *ret_window = json_object_get_boolean(val);
                } else if (streq(key, "Sha256")) {
                        if (!json_object_is_type(val, json_type_string) || !sha256_hex_valid(json_object_get_string(val)))
                                return sd_bus_error_setf(error, HWSEC_ERROR_INVALID_ARGUMENT,
                                                         "Option \"Sha256\" must be 64 lower-case hex digits (s).");
                        *ret_sha = json_object_get_string(val);
                } else if (streq(key, "commit")) {
                        if (!json_object_is_type(val, json_type_boolean))
                                return sd_bus_error_setf(error, HWSEC_ERROR_INVALID_ARGUMENT,
                                                         "Option \"commit\" must be a boolean (b).");
                        *ret_commit = json_object_get_boolean(val);
                } else
                        return sd_bus_error_setf(error, HWSEC_ERROR_INVALID_ARGUMENT,
                                                 "Unknown option \"%.64s\"; known options are Window (b), Sha256 (s) and commit (b).", key);
        }
        return 0;
}

/* "commit" needs SNP: the PSP area's last snapshot (retained by the manager) says whether it is
 * initialised. Unknown (no snapshot, no /dev/sev yet) is let through: the job's SNP_COMMIT then
 * fails with its named error and the job's result says so. */
static int check_commit_possible(FirmwareArea *a, bool commit, sd_bus_error *error) {
        const PspSnapshot *p = manager_retained_psp(a->m);

        if (!commit || !p)
                return 0;
        if ((p->snp_status_valid && !p->snp_initialized) ||
            (!p->snp_status_valid && streq(p->platform.snp_error.name, "SNP_NOT_INITIALIZED")))
                return sd_bus_error_setf(error, HWSEC_ERROR_SNP_NOT_INITIALIZED,
                                         "The option \"commit\" needs SEV-SNP initialised (SNP_COMMIT would be refused); "
                                         "enable SEV-SNP in the BIOS and load kvm_amd with sev_snp=1, or schedule without it.");
        return 0;
}

/* The time rules are in schedule.c; this maps their answers to D-Bus errors. */
static int schedule_times(FirmwareArea *a, uint64_t nb, uint64_t na, bool window, uint64_t now, uint64_t *ret_nb,
                          uint64_t *ret_na, sd_bus_error *error) {
        ScheduleRequest req = {
                .not_before_usec = nb, .not_after_usec = na, .window = window, .now_usec = now,
                .windows = a->windows, .n_windows = a->n_windows,
        };
        ScheduleError e;
        int r;

        e = schedule_check_times(&req, ret_nb, ret_na, &r);
        switch (e) {
        case SCHEDULE_OK:
                return 0;
        case SCHEDULE_NO_WINDOW:
                return sd_bus_error_setf(error, HWSEC_ERROR_INVALID_ARGUMENT,
                                         "No maintenance window is configured; add [Firmware] MaintenanceWindow= "
                                         "to hwsecd.conf (see docs/firmware.md) or give a time.");
        case SCHEDULE_WINDOW_FAILED:
                return bus_error_set_errnof_host(error, r, "The next maintenance window could not be computed: %m");
        case SCHEDULE_OUT_OF_RANGE:
                return sd_bus_error_setf(error, HWSEC_ERROR_INVALID_ARGUMENT, "Times must be at most %llu "
                                         "(9999-12-31T23:59:59Z in µs since the epoch); not_before_usec=%llu, "
                                         "not_after_usec=%llu. Use 0 for no deadline.",
                                         (unsigned long long) JOB_USEC_MAX, (unsigned long long) nb,
                                         (unsigned long long) na);
        case SCHEDULE_DEADLINE_PASSED:
                return sd_bus_error_setf(error, HWSEC_ERROR_INVALID_ARGUMENT,
                                         "The deadline (not_after_usec=%llu) has already passed.", (unsigned long long) na);
        default: {
                const char *what = schedule_error_to_string(e);
                return sd_bus_error_setf(error, HWSEC_ERROR_INVALID_ARGUMENT, "%c%s.", toupper((unsigned char) what[0]),
                                         what + 1);
        }
        }
}

static int method_schedule_update(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(json_object_putp) json_object *opts = NULL;
        _cleanup_(job_freep) Job *j = NULL;
        _cleanup_free_ char *path = NULL;
        FirmwareArea *a = userdata;
        uint64_t nb, na, now = firmware_now();
        const char *name, *want_sha = NULL;
        bool window = false, commit = false;
        PayloadInfo info;
        PayloadError e;
        char shown[80];
        int err, r;

        r = sd_bus_message_read(msg, "stt", &name, &nb, &na);
        if (r < 0)
                return r;
        r = read_options(msg, &window, &want_sha, &commit, &opts, error);
        if (r < 0)
                return r;
        r = check_commit_possible(a, commit, error);
        if (r < 0)
                return r;
        safe_name(name, shown);
        e = payload_name_check(name, strlen(name));
        if (e != PAYLOAD_OK)
                return bus_firmware_payload_error(error, e, shown, 0);

        r = schedule_times(a, nb, na, window, now, &nb, &na, error);
        if (r < 0)
                return r;
        if (!a->present)
                return sd_bus_error_setf(error, HWSEC_ERROR_NO_DEVICE, "This host has no %s (needs Linux 6.18 and a PSP "
                                         "that offers SFS); updates cannot be scheduled.", SFS_DEVICE_PATH);
        if (a->allow_error)
                return sd_bus_error_setf(error, HWSEC_ERROR_INVALID_ARGUMENT, "%s.", a->allow_error);
        if (a->running && nb <= now)
                return sd_bus_error_setf(error, HWSEC_ERROR_BUSY, "An update is running (job %u); try again when it has "
                                         "finished, or schedule this one for later.", a->running->id);
        if (schedule_check_capacity(a->jobs.n_jobs) != SCHEDULE_OK)
                return sd_bus_error_setf(error, HWSEC_ERROR_BUSY, "%u jobs are already pending; cancel some first.",
                                         JOBS_MAX_PENDING);

        r = polkit_verify(a->m, msg, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;

        /* Reading and hashing the package (up to 2 MiB) is the one costly check: only for a
         * caller polkit allowed, so that nobody can keep the loop busy with refused calls. */
        e = payload_inspect(paths_firmware_dir(), name, a->allow, &info, &err);
        if (e != PAYLOAD_OK)
                return bus_firmware_payload_error(error, e, name, err);
        if (want_sha && !streq(want_sha, info.sha256))
                return sd_bus_error_setf(error, HWSEC_ERROR_CONFLICT, "Package \"%s\" has sha256 %s, not the expected %s.",
                                         name, info.sha256, want_sha);

        j = job_new();
        if (!j)
                return -ENOMEM;
        strcpy(j->payload, name);
        strcpy(j->sha256, info.sha256);
        j->not_before_usec = nb;
        j->not_after_usec = na;
        j->window = window;
        j->commit.requested = commit;
        j->state = JOB_SCHEDULED;
        j->created_usec = now;
        r = firmware_schedule(a, j);
        if (r < 0)
                return sd_bus_error_setf(error, HWSEC_ERROR_IO, "The job could not be saved, so it was not scheduled: "
                                         "the state file in %s could not be written (%s); make room there and try "
                                         "again.", paths_state_dir(), strerror(-r));
        path = bus_firmware_job_path(j->id);
        TAKE_PTR(j);
        if (!path)
                return -ENOMEM;
        r = sd_bus_reply_method_return(msg, "o", path);
        firmware_dispatch(a);
        return r;
}

static int method_history(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        FirmwareArea *a = userdata;
        int r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(ussstttsa{sv}a{sv})");
        for (size_t i = 0; r >= 0 && i < a->jobs.n_history; i++) {
                Job *j = a->jobs.history[i];

                r = sd_bus_message_open_container(reply, 'r', "ussstttsa{sv}a{sv}");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "usssttts", j->id, j->payload, j->sha256,
                                                  job_state_to_string(j->state), j->created_usec, j->started_usec,
                                                  j->finished_usec, j->result ?: "");
                if (r >= 0)
                        r = append_job_versions(reply, &j->before, &j->commit, false);
                if (r >= 0)
                        r = append_job_versions(reply, &j->after, &j->commit, true);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* ---- org.hwsecd1.FirmwareJob ---- */

static int job_property(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Job *j = job_from_path(userdata, path);
        char buf[32];

        if (!j)
                return sd_bus_error_setf(error, HWSEC_ERROR_NOT_FOUND, "No such firmware job.");
        if (streq(property, "Id"))
                return sd_bus_message_append(reply, "u", j->id);
        if (streq(property, "Payload"))
                return sd_bus_message_append(reply, "s", j->payload);
        if (streq(property, "Sha256"))
                return sd_bus_message_append(reply, "s", j->sha256);
        if (streq(property, "State"))
                return sd_bus_message_append(reply, "s", job_state_to_string(j->state));
        if (streq(property, "NotBefore"))
                return sd_bus_message_append(reply, "t", j->not_before_usec);
        if (streq(property, "NotAfter"))
                return sd_bus_message_append(reply, "t", j->not_after_usec);
        if (streq(property, "InWindow"))
                return sd_bus_message_append(reply, "b", j->window);
        if (streq(property, "Created"))
                return sd_bus_message_append(reply, "t", j->created_usec);
        if (streq(property, "Started"))
                return sd_bus_message_append(reply, "t", j->started_usec);
        if (streq(property, "Finished"))
                return sd_bus_message_append(reply, "t", j->finished_usec);
        if (streq(property, "Result"))
                return sd_bus_message_append(reply, "s", j->result ?: "");
        if (streq(property, "SfsStatus"))
                return sd_bus_message_append(reply, "s", j->has_status ? sfs_status_to_string(j->sfs_status, buf, sizeof buf) : "");
        if (streq(property, "SfsExtendedStatus")) {
                snprintf(buf, sizeof buf, "0x%08x", j->sfs_extended_status);
                return sd_bus_message_append(reply, "s", j->has_status ? buf : "");
        }
        if (streq(property, "Error"))
                return sd_bus_message_append(reply, "s", errno_display(j->error, buf, sizeof buf));
        if (streq(property, "VersionsBefore"))
                return append_job_versions(reply, &j->before, &j->commit, false);
        if (streq(property, "VersionsAfter"))
                return append_job_versions(reply, &j->after, &j->commit, true);
        return -ENOENT;
}

static int method_cancel(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        FirmwareArea *a = userdata;
        Job *j = job_from_path(a, sd_bus_message_get_path(msg));
        int marker, r;

        if (!j)
                return sd_bus_error_setf(error, HWSEC_ERROR_NOT_FOUND, "No such firmware job.");
        if (j->state == JOB_RUNNING)
                return sd_bus_error_setf(error, HWSEC_ERROR_BUSY, "Job %u is running; an update in progress cannot be "
                                         "cancelled.", j->id);
        if (j->state != JOB_SCHEDULED)
                return sd_bus_error_setf(error, HWSEC_ERROR_CONFLICT, "Job %u has already finished (%s).", j->id,
                                         job_state_to_string(j->state));

        r = polkit_verify(a->m, msg, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;

        r = firmware_job_cancel(a, j, &marker);
        if (r < 0 && marker >= 0)
                return sd_bus_error_setf(error, HWSEC_ERROR_IO, "Job %u could not be cancelled: the state file in %s could "
                                         "not be written (%s). It stays scheduled there, but hwsecd will not start it, "
                                         "and the next start of hwsecd cancels it. Make room there and call Cancel "
                                         "again.", j->id, paths_state_dir(), strerror(-r));
        if (r < 0)
                return sd_bus_error_setf(error, HWSEC_ERROR_IO, "Job %u could not be cancelled: the state file in %s could "
                                         "not be written (%s), nor a note of the cancellation (%s). It stays scheduled; "
                                         "this hwsecd will not start it, but if hwsecd restarts before the state can be "
                                         "written, it will. Make room there and call Cancel again.", j->id,
                                         paths_state_dir(), strerror(-r), strerror(-marker));
        return sd_bus_reply_method_return(msg, NULL);
}

static int job_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                    sd_bus_error *error) {
        FirmwareArea *a = userdata;

        if (!job_from_path(a, path))
                return 0;
        *found = a;
        return 1;
}

static int job_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        _cleanup_strv_free_ char **l = NULL;
        FirmwareArea *a = userdata;

        for (size_t i = 0; i < a->jobs.n_history + a->jobs.n_jobs; i++) {
                Job *j = i < a->jobs.n_history ? a->jobs.history[i] : a->jobs.jobs[i - a->jobs.n_history];
                _cleanup_free_ char *p = bus_firmware_job_path(j->id);
                if (!p || strv_extend(&l, p) < 0)
                        return -ENOMEM;
        }
        *nodes = TAKE_PTR(l);
        return 0;
}

/* The contract's order (dbus/org.hwsecd1.Firmware.xml): the properties, then the methods. */
static const BusProperty firmware_properties[] = {
        { "SfsPresent", "b", property_get_present, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "Versions", "a{sv}", property_get_versions, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "Jobs", "ao", property_get_jobs, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "MaintenanceWindows", "as", property_get_windows, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
};

static const sd_bus_vtable firmware_methods[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("StagePackage", SD_BUS_ARGS("h", fd, "s", name), SD_BUS_RESULT("s", sha256),
                                method_stage_package, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ScheduleUpdate",
                                SD_BUS_ARGS("s", payload, "t", not_before_usec, "t", not_after_usec, "a{sv}", options),
                                SD_BUS_RESULT("o", job), method_schedule_update, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("History", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ussstttsa{sv}a{sv})", history),
                                method_history, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

static const BusPropertyTable firmware_table = BUS_PROPERTY_TABLE(FIRMWARE_IFACE, firmware_properties, firmware_methods);

/* dbus/org.hwsecd1.FirmwareJob.xml. A job announces its changes with bus_firmware_job_changed(). */
static const BusProperty firmware_job_properties[] = {
        { "Id", "u", job_property, NULL, SD_BUS_VTABLE_PROPERTY_CONST },
        { "Payload", "s", job_property, NULL, SD_BUS_VTABLE_PROPERTY_CONST },
        { "Sha256", "s", job_property, NULL, SD_BUS_VTABLE_PROPERTY_CONST },
        { "NotBefore", "t", job_property, NULL, SD_BUS_VTABLE_PROPERTY_CONST },
        { "NotAfter", "t", job_property, NULL, SD_BUS_VTABLE_PROPERTY_CONST },
        { "InWindow", "b", job_property, NULL, SD_BUS_VTABLE_PROPERTY_CONST },
        { "Created", "t", job_property, NULL, SD_BUS_VTABLE_PROPERTY_CONST },
        { "State", "s", job_property, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "Started", "t", job_property, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "Finished", "t", job_property, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "Result", "s", job_property, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "SfsStatus", "s", job_property, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "SfsExtendedStatus", "s", job_property, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "Error", "s", job_property, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "VersionsBefore", "a{sv}", job_property, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "VersionsAfter", "a{sv}", job_property, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
};

static const sd_bus_vtable firmware_job_methods[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Cancel", "", "", method_cancel, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

static const BusPropertyTable firmware_job_table = BUS_PROPERTY_TABLE(FIRMWARE_JOB_IFACE, firmware_job_properties,
                                                                     firmware_job_methods);

int bus_firmware_register(FirmwareArea *a) {
        sd_bus *bus = a->m->bus;
        int r;

        r = bus_property_table_vtable(&firmware_table, &a->vtable);
        if (r < 0)
                return log_oom();
        r = sd_bus_add_object_vtable(bus, &a->slot, FIRMWARE_PATH, FIRMWARE_IFACE, a->vtable, a);
        if (r < 0)
                return log_error_errno(r, "Failed to register %s: %m", FIRMWARE_IFACE);
        /* what PropertiesChanged compares with later */
        bus_firmware_changed(a);
        r = bus_property_table_vtable(&firmware_job_table, &a->job_vtable);
        if (r < 0)
                return log_oom();
        r = sd_bus_add_fallback_vtable(bus, &a->job_slot, FIRMWARE_JOB_PREFIX, FIRMWARE_JOB_IFACE, a->job_vtable, job_find, a);
        if (r < 0)
                return log_error_errno(r, "Failed to register %s: %m", FIRMWARE_JOB_IFACE);
        r = sd_bus_add_node_enumerator(bus, &a->enum_slot, FIRMWARE_JOB_PREFIX, job_enumerate, a);
        if (r < 0)
                return log_error_errno(r, "Failed to register the firmware job enumerator: %m");
        return 0;
}
