/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The firmware (SFS) area: /dev/sfs presence and versions, staged packages, update jobs with
 * their timers, the worker thread that runs the update ioctl, persistence and recovery. */

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>

#include "bus-util.h"
#include "conf.h"
#include "fileio.h"
#include "firmware-daemon.h"
#include "log.h"
#include "paths.h"
#include "state.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

uint64_t firmware_now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

static bool sfs_node_exists(void) {
        struct stat st;

        return stat(SFS_DEVICE_PATH, &st) >= 0 && S_ISCHR(st.st_mode);
}

/* ---- configuration ---- */

static void firmware_load_config(FirmwareArea *a) {
        _cleanup_strv_free_ char **wins = NULL, **allow_values = NULL, **allow = NULL;
        _cleanup_free_ char *bad = NULL;
        MaintenanceWindow *ws = NULL;
        size_t n = 0;
        int r;

        strv_free(a->allow);
        a->allow = NULL;
        a->allow_error = mfree(a->allow_error);
        r = conf_get_all(a->m->conf, "Firmware", "AllowedSha256", &allow_values);
        if (r >= 0)
                r = payload_allow_list_parse(allow_values, &allow, &bad);
        if (r < 0) {
                char *e;
                if (asprintf(&e, "[Firmware] AllowedSha256= has an entry that is not a sha256 (\"%s\"); "
                             "no package is accepted until hwsecd.conf is fixed", strna(bad)) < 0)
                        e = NULL;
                a->allow_error = e;
                manager_add_problem(a->m, "%s", a->allow_error ?: "[Firmware] AllowedSha256= is invalid");
        } else
                a->allow = TAKE_PTR(allow);

        r = conf_get_all(a->m->conf, "Firmware", "MaintenanceWindow", &wins);
        if (r >= 0)
                ws = calloc(strv_length(wins) + 1, sizeof *ws);
        STRV_FOREACH(w, wins) {
                _cleanup_free_ char *why = NULL;

                if (!ws)
                        break;
                if (window_parse(*w, &ws[n], &why) < 0) {
                        manager_add_problem(a->m, "hwsecd.conf: [Firmware] MaintenanceWindow=%s is ignored: %s", *w,
                                            strna(why));
                        continue;
                }
                n++;
        }
        free(a->windows);
        a->windows = ws;
        a->n_windows = n;
}

/* ---- versions ---- */

static void set_versions_error(FirmwareArea *a, const char *fmt, ...) _printf_(2, 3);
static void set_versions_error(FirmwareArea *a, const char *fmt, ...) {
        va_list ap;
        char *s;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        free(a->versions_error);
        a->versions_error = s;
}

static void firmware_read_versions(FirmwareArea *a) {
        _cleanup_close_ int fd = -EBADF;
        SfsResult res = {};
        int r;

        a->versions_error = mfree(a->versions_error);
        if (!a->present) {
                a->versions_valid = false;
                sfs_versions_done(&a->versions);
                return;
        }
        fd = open(SFS_DEVICE_PATH, O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                r = -errno;
                a->versions_valid = false;
                set_versions_error(a, "%s could not be opened: %s", SFS_DEVICE_PATH, strerror(-r));
                log_warning("SFS: %s", strna(a->versions_error));
                return;
        }
        r = sfs_get_versions(fd, &a->versions, &res);
        a->versions_result = res;
        a->versions_valid = r >= 0;
        if (r < 0) {
                char buf[16];
                if (res.has_status)
                        set_versions_error(a, "SFSIOCFWVERS failed: SFS status %s, extended status 0x%08x",
                                           sfs_status_to_string(res.status, buf, sizeof buf), res.extended_status);
                else
                        set_versions_error(a, "SFSIOCFWVERS failed with %s: %s",
                                           sfs_errno_name(r) ?: "an error", sfs_errno_meaning(r));
                log_struct(LOG_WARNING, MESSAGE_ID_FIRMWARE_ERROR, "SFS: %s", strna(a->versions_error));
                return;
        }
        log_info("SFS firmware versions read: blob sha256 %s, %u bytes written, %zu readable strings.",
                 a->versions.sha256, a->versions.written_size, a->versions.n_strings);
}

/* ---- persistence ---- */

int firmware_save(FirmwareArea *a) {
        json_object *o = job_list_to_json(&a->jobs);

        if (!o)
                return log_oom();
        json_object_object_add(a->m->state, "firmware", o);
        return manager_save_state(a->m);
}

/* Keeps the text of the entries the loader dropped in a side file next to the state file, so
 * that nothing is lost silently. Returns the path, or NULL if it could not be written. */
static char *firmware_keep_dropped(char **dropped) {
        _cleanup_free_ char *name = NULL, *path = NULL, *text = NULL;
        char stamp[32];
        struct tm tm;
        time_t t = time(NULL);
        size_t n = 0;
        int r;

        gmtime_r(&t, &tm);
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
        STRV_FOREACH(d, dropped)
                n += strlen(*d) + 2;
        text = malloc(n + 3);
        if (!text)
                return NULL;
        strcpy(text, "[");
        STRV_FOREACH(d, dropped) {
                strcat(text, *d);
                strcat(text, d[1] ? ",\n" : "");
        }
        strcat(text, "]\n");
        for (unsigned i = 0; i < 1000; i++) {
                name = mfree(name);
                if ((i == 0 ? asprintf(&name, FIRMWARE_DROPPED_PREFIX "%s.json", stamp)
                            : asprintf(&name, FIRMWARE_DROPPED_PREFIX "%s.%u.json", stamp, i)) < 0)
                        return NULL;
                free(path);
                path = path_join(paths_state_dir(), name);
                if (!path)
                        return NULL;
                if (access(path, F_OK) < 0 && errno == ENOENT)
                        break;
        }
        r = write_file_atomic(path, text, strlen(text), 0600);
        if (r < 0) {
                log_error_errno(r, "Failed to keep the dropped firmware job entries in %s: %m", path);
                return NULL;
        }
        return TAKE_PTR(path);
}

static int firmware_load_jobs(FirmwareArea *a) {
        _cleanup_strv_free_ char **problems = NULL, **dropped = NULL;
        _cleanup_free_ char *kept = NULL;
        json_object *section = NULL;
        int r;

        (void) json_object_object_get_ex(a->m->state, "firmware", &section);
        r = job_list_from_json_full(section, &a->jobs, &problems, &dropped);
        if (r == -ENOMEM)
                return log_oom();
        if (strv_length(problems) == 0)
                return 0;

        /* Only the entries that cannot be trusted are left out; the rest of the file stays. Their
         * text goes to the journal and to a side file for a person to look at. */
        STRV_FOREACH(d, dropped)
                log_struct(LOG_ERR, MESSAGE_ID_STATE_CORRUPT, "State file: dropped firmware job entry: %s", *d);
        if (dropped)
                kept = firmware_keep_dropped(dropped);
        STRV_FOREACH(p, problems) {
                log_struct(LOG_ERR, MESSAGE_ID_STATE_CORRUPT, "State file: %s", *p);
                if (kept)
                        manager_add_problem(a->m, "State file: %s; its text was kept in %s", *p, kept);
                else
                        manager_add_problem(a->m, "State file: %s; its text is in the journal", *p);
        }
        return firmware_save(a);
}

/* ---- cancel markers ---- */

/* A cancellation that state.json could not take is recorded as an empty file (it needs an inode,
 * not a data block) that the next start applies: the job must never run. */
static char *cancel_marker_path(uint32_t id) {
        char name[sizeof(FIRMWARE_CANCEL_PREFIX) + 16];

        snprintf(name, sizeof name, FIRMWARE_CANCEL_PREFIX "%u", id);
        return path_join(paths_state_dir(), name);
}

static int cancel_marker_create(uint32_t id) {
        _cleanup_free_ char *path = cancel_marker_path(id);
        _cleanup_close_ int fd = -EBADF, dfd = -EBADF;

        if (!path)
                return -ENOMEM;
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        if (fsync(fd) < 0)
                return -errno;
        dfd = open(paths_state_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd) < 0)
                return -errno;
        return 0;
}

/* Calls f for each marker's job id. */
static void cancel_markers_foreach(FirmwareArea *a, void (*f)(FirmwareArea *a, uint32_t id, const char *name)) {
        _cleanup_(closedirp) DIR *d = opendir(paths_state_dir());
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d))) {
                uint32_t id;

                if (!strneq(de->d_name, FIRMWARE_CANCEL_PREFIX, strlen(FIRMWARE_CANCEL_PREFIX)) ||
                    safe_atou32(de->d_name + strlen(FIRMWARE_CANCEL_PREFIX), 10, &id) < 0)
                        continue;
                f(a, id, de->d_name);
        }
}

static void remove_marker(FirmwareArea *a, uint32_t id, const char *name) {
        _cleanup_free_ char *p = path_join(paths_state_dir(), name);

        if (p && unlink(p) < 0 && errno != ENOENT)
                log_warning_errno(errno, "Failed to remove %s: %m", p);
}

/* Once state.json holds what the markers said, they have done their work. Only at start: a job
 * held at run time stays "scheduled" in state.json until then. */
static void cancel_markers_clear(FirmwareArea *a) {
        cancel_markers_foreach(a, remove_marker);
        a->have_markers = false;
}

static void log_job_final(Job *j) {
        static const char * const ids[_JOB_STATE_MAX] = {
                [JOB_SUCCEEDED] = MESSAGE_ID_FW_JOB_SUCCEEDED,
                [JOB_FAILED] = MESSAGE_ID_FW_JOB_FAILED,
                [JOB_CANCELLED] = MESSAGE_ID_FW_JOB_CANCELLED,
                [JOB_EXPIRED] = MESSAGE_ID_FW_JOB_EXPIRED,
                [JOB_INTERRUPTED] = MESSAGE_ID_FW_JOB_INTERRUPTED,
        };
        int level = j->state == JOB_SUCCEEDED || j->state == JOB_CANCELLED ? LOG_NOTICE : LOG_WARNING;

        log_struct(level, ids[j->state], "Firmware job %u (%s, sha256 %s) %s: %s", j->id, j->payload, j->sha256,
                   job_state_to_string(j->state), strna(j->result));
}

/* Moves a job that reached a final state to the history and announces it. The caller saves. */
static void firmware_finish(FirmwareArea *a, Job *j) {
        _cleanup_free_ uint32_t *dropped = NULL;
        size_t n_dropped = 0;

        if (j->finished_usec == 0)
                j->finished_usec = firmware_now();
        log_job_final(j);
        if (job_list_finish(&a->jobs, j, &dropped, &n_dropped) < 0) {
                log_oom();
                return;
        }
        bus_firmware_job_changed(a, j);
        for (size_t i = 0; i < n_dropped; i++)
                bus_firmware_job_removed(a, dropped[i]);
        if (n_dropped > 0)
                bus_firmware_changed(a);
}

/* What the other areas learn of the firmware: the newest update a job installed. */
void firmware_publish(FirmwareArea *a) {
        FirmwareSnapshot s = {};

        for (size_t i = 0; i < a->jobs.n_history; i++) {
                const Job *j = a->jobs.history[i];

                if (j->state != JOB_SUCCEEDED || (s.have_update && j->finished_usec < s.update_usec))
                        continue;
                s = (FirmwareSnapshot) {
                        .have_update = true,
                        .update_job = j->id,
                        .update_usec = j->finished_usec,
                        .update_committed = j->commit.committed,
                };
        }
        manager_broadcast(a->m, &(ManagerEvent) { .type = MANAGER_EVENT_FIRMWARE_CHANGED, .firmware = &s });
}

/* ---- jobs ---- */

static void firmware_fail(FirmwareArea *a, Job *j, int error, const char *fmt, ...) _printf_(4, 5);
static void firmware_fail(FirmwareArea *a, Job *j, int error, const char *fmt, ...) {
        va_list ap;
        char *s = NULL;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        free(j->result);
        j->result = s;
        j->error = abs(error);
        j->state = JOB_FAILED;
        firmware_finish(a, j);
}

static WorkerPool update_pool = WORKER_POOL_INIT("firmware-update", 1);

static bool update_succeeded(const FirmwareWork *w) {
        return !w->open_error && w->update.has_status && w->update.error == 0 && w->update.status == 0;
}

/* SNP_COMMIT after a successful update, through the core's PSP operations on /dev/sev (the PSP
 * area learns of it by MANAGER_EVENT_PSP_STALE and re-reads). The SNP status is read around it
 * so that the job records the TCB before and after. */
static void commit_work(FirmwareWork *w, const char *node) {
        _cleanup_close_ int fd = -EBADF;

        fd = psp_op_open(node, PSP_OP_SNP_COMMIT, &w->commit_error);
        if (fd >= 0) {
                w->commit_attempted = true;
                (void) psp_snp_commit(fd, &w->commit_error);
        }
        sev_query_platform(node, &w->psp_after);
}

static void firmware_worker(void *data) {
        FirmwareArea *a = data;
        FirmwareWork *w = &a->work;
        _cleanup_free_ char *node = path_join(paths_dev_dir(), "sev");
        uint64_t t0 = firmware_now();
        int fd;

        if (w->commit && node)
                sev_query_platform(node, &w->psp_before);
        fd = open(SFS_DEVICE_PATH, O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                w->open_error = -errno;
        else {
                (void) sfs_get_versions(fd, &w->before, &w->before_result);
                (void) sfs_update_package(fd, w->payload, &w->update);
                (void) sfs_get_versions(fd, &w->after, &w->after_result);
                close(fd);
        }
        if (w->commit && update_succeeded(w)) {
                if (node)
                        commit_work(w, node);
                else
                        psp_op_error_set(&w->commit_error, PSP_OP_SNP_COMMIT, -ENOMEM, 0);
        }
        w->duration_usec = firmware_now() - t0;
}

static void tcb_text(const SevPlatform *p, char *buf, size_t size) {
        if (p->snp_valid)
                snprintf(buf, size, "current 0x%016" PRIx64 ", reported 0x%016" PRIx64, p->snp.current_tcb, p->snp.reported_tcb);
        else
                snprintf(buf, size, "unknown (%s)", p->snp_error.name[0] ? p->snp_error.name : "not read");
}

/* The commit part of a job whose update succeeded: record it and say it in the result. */
static void firmware_complete_commit(Job *j, const FirmwareWork *w) {
        JobCommit *c = &j->commit;
        _cleanup_free_ char *old = NULL;
        char before[96], after[96];

        c->attempted = w->commit_attempted;
        c->committed = w->commit_attempted && w->commit_error.error == 0;
        snprintf(c->error, sizeof c->error, "%s", c->committed ? "" : w->commit_error.name);
        c->tcb_before_valid = w->psp_before.snp_valid;
        c->current_before = w->psp_before.snp.current_tcb;
        c->reported_before = w->psp_before.snp.reported_tcb;
        c->tcb_after_valid = w->psp_after.snp_valid;
        c->current_after = w->psp_after.snp.current_tcb;
        c->reported_after = w->psp_after.snp.reported_tcb;

        tcb_text(&w->psp_before, before, sizeof before);
        tcb_text(&w->psp_after, after, sizeof after);
        old = TAKE_PTR(j->result);
        if (c->committed) {
                log_struct(LOG_NOTICE, MESSAGE_ID_PSP_FIRMWARE_COMMITTED,
                           "Firmware job %u committed the new firmware (SNP_COMMIT): TCB before %s, after %s.", j->id, before, after);
                (void) job_set_result(j, "%s; committed (SNP_COMMIT): TCB before %s, after %s", strempty(old), before, after);
        } else {
                log_struct(LOG_WARNING, MESSAGE_ID_FIRMWARE_ERROR,
                           "Firmware job %u installed the package but could not commit it: %s", j->id, w->commit_error.message);
                (void) job_set_result(j, "%s; NOT committed: %s (%s); TCB before %s, after %s. Commit it with 'hwsecctl psp commit'",
                                      strempty(old), w->commit_error.name, w->commit_error.message, before, after);
        }
}

static void firmware_work_done(FirmwareArea *a) {
        sfs_versions_done(&a->work.before);
        sfs_versions_done(&a->work.after);
        a->work = (FirmwareWork) {};
}

/* Applies what the worker found to the running job. */
static void firmware_complete(FirmwareArea *a) {
        FirmwareWork *w = &a->work;
        Job *j = a->running;
        bool psp_stale = false;
        char st[16];

        a->running = NULL;
        if (!j) {
                firmware_work_done(a);
                return;
        }

        if (w->before_result.error == 0 && !w->open_error)
                (void) job_versions_from_sfs(&j->before, &w->before);
        if (w->after_result.error == 0 && !w->open_error) {
                (void) job_versions_from_sfs(&j->after, &w->after);
                sfs_versions_done(&a->versions);
                memcpy(a->versions.blob, w->after.blob, sizeof a->versions.blob);
                if (sfs_versions_decode(a->versions.blob, &a->versions) >= 0) {
                        a->versions.status = w->after.status;
                        a->versions.extended_status = w->after.extended_status;
                        a->versions_result = w->after_result;
                        a->versions_valid = true;
                        a->versions_error = mfree(a->versions_error);
                }
                bus_firmware_changed(a);
        }
        j->finished_usec = firmware_now();

        if (w->open_error) {
                firmware_fail(a, j, w->open_error, "%s could not be opened: %s", SFS_DEVICE_PATH, strerror(-w->open_error));
        } else if (w->update.has_status) {
                j->has_status = true;
                j->sfs_status = w->update.status;
                j->sfs_extended_status = w->update.extended_status;
                if (w->update.error == 0 && w->update.status == 0) {
                        j->state = JOB_SUCCEEDED;
                        (void) job_set_result(j, "the PSP accepted the package in %.1f s; firmware versions blob %s -> %s",
                                              (double) w->duration_usec / 1e6,
                                              j->before.valid ? j->before.sha256 : "(not read)",
                                              j->after.valid ? j->after.sha256 : "(not read)");
                        if (j->commit.requested)
                                firmware_complete_commit(j, w);
                        psp_stale = true;
                        firmware_finish(a, j);
                } else
                        firmware_fail(a, j, -w->update.error,
                                      "the firmware refused the package: SFS status %s, extended status 0x%08x",
                                      sfs_status_to_string(w->update.status, st, sizeof st), w->update.extended_status);
        } else
                firmware_fail(a, j, w->update.error, "SFSIOCUPDATEPKG failed with %s: %s",
                              sfs_errno_name(w->update.error) ?: "an error", sfs_errno_meaning(w->update.error));

        firmware_work_done(a);
        (void) firmware_save(a);
        if (!a->shutting_down) {
                firmware_publish(a);
                /* new firmware (and maybe a commit): the PSP's status and TCB changed */
                if (psp_stale)
                        manager_broadcast_type(a->m, MANAGER_EVENT_PSP_STALE);
        }
}

static void on_worker_done(Worker *w, void *data) {
        FirmwareArea *a = data;

        a->worker = worker_free(a->worker);
        firmware_complete(a);
        if (!a->shutting_down)
                firmware_dispatch(a);
}

static void firmware_start_job(FirmwareArea *a, Job *j) {
        PayloadInfo info;
        PayloadError e;
        int err = 0, r;

        if (!a->present) {
                firmware_fail(a, j, ENODEV, "%s is not present; the update could not start", SFS_DEVICE_PATH);
                return;
        }
        if (a->allow_error) {
                firmware_fail(a, j, EPERM, "%s", a->allow_error);
                return;
        }
        e = payload_inspect(paths_firmware_dir(), j->payload, a->allow, &info, &err);
        if (e != PAYLOAD_OK) {
                firmware_fail(a, j, -payload_error_to_errno(e), "the package could not be checked again at start: %s%s%s",
                              payload_error_to_string(e), err ? ": " : "", err ? strerror(err) : "");
                return;
        }
        if (!streq(info.sha256, j->sha256)) {
                firmware_fail(a, j, EBADMSG, "the package changed after it was scheduled (sha256 is now %s); "
                              "schedule it again to install the new content", info.sha256);
                return;
        }

        j->state = JOB_RUNNING;
        j->started_usec = firmware_now();
        r = firmware_save(a);
        if (r < 0) {
                j->state = JOB_SCHEDULED;
                j->started_usec = 0;
                firmware_fail(a, j, -r, "the state file could not be written, so the update was not started "
                              "(a crash during it would go unnoticed): %s", strerror(-r));
                return;
        }

        firmware_work_done(a);
        strcpy(a->work.payload, j->payload);
        a->work.commit = j->commit.requested;
        a->running = j;
        r = worker_start(&a->worker, a->m->event, &update_pool, 0, firmware_worker, on_worker_done, a, NULL);
        if (r < 0) {
                a->running = NULL;
                firmware_fail(a, j, -r, "the update thread could not be started: %s", strerror(-r));
                (void) firmware_save(a);
                return;
        }
        log_struct(LOG_NOTICE, MESSAGE_ID_FW_JOB_STARTED, "Firmware job %u started: installing %s (sha256 %s) through %s.",
                   j->id, j->payload, j->sha256, SFS_DEVICE_PATH);
        bus_firmware_job_changed(a, j);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        firmware_dispatch(userdata);
        return 0;
}

static void firmware_arm_timer(FirmwareArea *a) {
        uint64_t next = UINT64_MAX;
        int r;

        a->timer = sd_event_source_disable_unref(a->timer);
        if (a->running || a->shutting_down)
                return;
        for (size_t i = 0; i < a->jobs.n_jobs; i++)
                if (a->jobs.jobs[i]->state == JOB_SCHEDULED && !a->jobs.jobs[i]->cancel_requested)
                        next = MIN(next, MAX(a->jobs.jobs[i]->not_before_usec, (uint64_t) 1));
        if (next == UINT64_MAX)
                return;
        r = sd_event_add_time(a->m->event, &a->timer, CLOCK_REALTIME, next, 0, on_timer, a);
        if (r < 0)
                log_error_errno(r, "Failed to arm the firmware job timer: %m");
        else
                (void) sd_event_source_set_description(a->timer, "firmware-jobs");
}

void firmware_dispatch(FirmwareArea *a) {
        uint64_t now = firmware_now();
        bool changed = false;
        Job *next = NULL;

        if (a->shutting_down)
                return;
        if (!a->running) {
                /* Deadlines that passed while the job waited (another job ran, or the clock jumped). */
                for (size_t i = 0; i < a->jobs.n_jobs;) {
                        Job *j = a->jobs.jobs[i];
                        if (j->state == JOB_SCHEDULED && j->not_after_usec != 0 && j->not_after_usec <= now) {
                                j->state = JOB_EXPIRED;
                                (void) job_set_result(j, "the window closed before the job could start");
                                firmware_finish(a, j);
                                changed = true;
                                continue;
                        }
                        i++;
                }
                for (size_t i = 0; i < a->jobs.n_jobs; i++) {
                        Job *j = a->jobs.jobs[i];
                        if (j->state != JOB_SCHEDULED || j->cancel_requested || j->not_before_usec > now)
                                continue;
                        if (!next || j->not_before_usec < next->not_before_usec)
                                next = j;
                }
                if (next) {
                        firmware_start_job(a, next);
                        changed = true;
                }
        }
        if (changed) {
                (void) firmware_save(a);
                bus_firmware_changed(a);
                firmware_publish(a);
        }
        /* A job that failed its start checks leaves the way free for the next one. */
        if (next && !a->running) {
                firmware_dispatch(a);
                return;
        }
        firmware_arm_timer(a);
}

int firmware_schedule(FirmwareArea *a, Job *j) {
        int r;

        r = job_list_add(&a->jobs, j);
        if (r < 0)
                return r;
        r = firmware_save(a);
        if (r < 0) {
                /* Not acknowledged: forget it again, in memory and in m->state. */
                a->jobs.n_jobs--;
                a->jobs.next_id--;
                json_object_object_add(a->m->state, "firmware", job_list_to_json(&a->jobs));
                return r;
        }
        log_struct(LOG_NOTICE, MESSAGE_ID_FW_JOB_SCHEDULED,
                   "Firmware job %u scheduled: %s (sha256 %s), not before %llu, not after %llu (µs since the epoch, 0 = "
                   "now / no deadline)%s.", j->id, j->payload, j->sha256, (unsigned long long) j->not_before_usec,
                   (unsigned long long) j->not_after_usec, j->window ? ", in the next maintenance window" : "");
        bus_firmware_job_added(a, j);
        bus_firmware_changed(a);
        firmware_publish(a);
        return 0;
}

/* Cancel: the job is written as cancelled before anything is announced. When state.json cannot
 * be written, the job goes back to "scheduled" (what the file says), is held (this process never
 * starts it) and an empty marker file makes the next start cancel it. */
int firmware_job_cancel(FirmwareArea *a, Job *j, int *ret_marker_error) {
        _cleanup_free_ uint32_t *dropped = NULL;
        size_t n_dropped = 0;
        int r;

        *ret_marker_error = 0;
        j->cancel_requested = true;
        j->state = JOB_CANCELLED;
        j->finished_usec = firmware_now();
        (void) job_set_result(j, "cancelled before it started");
        r = job_list_finish(&a->jobs, j, &dropped, &n_dropped);
        if (r >= 0)
                r = firmware_save(a);
        if (r >= 0) {
                log_job_final(j);
                bus_firmware_job_changed(a, j);
                for (size_t i = 0; i < n_dropped; i++)
                        bus_firmware_job_removed(a, dropped[i]);
                bus_firmware_changed(a);
                firmware_publish(a);
                firmware_arm_timer(a);
                return 0;
        }

        j->state = JOB_SCHEDULED;
        j->finished_usec = 0;
        j->result = mfree(j->result);
        if (job_list_unfinish(&a->jobs, j) < 0)
                log_oom();  /* it stays in the history: still never started */
        for (size_t i = 0; i < n_dropped; i++)
                bus_firmware_job_removed(a, dropped[i]);
        if (n_dropped > 0)
                bus_firmware_changed(a);
        *ret_marker_error = cancel_marker_create(j->id);
        if (*ret_marker_error < 0)
                log_error_errno(*ret_marker_error, "Failed to record the cancellation of firmware job %u: %m", j->id);
        log_struct(LOG_WARNING, MESSAGE_ID_FIRMWARE_ERROR, "Firmware job %u could not be cancelled durably (%s); it "
                   "stays scheduled in the state file and is held: this hwsecd will not start it%s.", j->id,
                   strerror(-r), *ret_marker_error < 0 ? "" : ", and the next start cancels it");
        firmware_arm_timer(a);
        return r;
}

void firmware_log_staged(FirmwareArea *a, const PayloadInfo *p, bool already) {
        log_struct(LOG_NOTICE, MESSAGE_ID_FW_PACKAGE_STAGED, "Firmware package %s staged in %s/%s (%llu bytes, sha256 %s)%s.",
                   p->name, paths_firmware_dir(), PAYLOAD_SUBDIR, (unsigned long long) p->size, p->sha256,
                   already ? "; the same content was already there" : "");
}

/* ---- area hooks ---- */

static void apply_marker(FirmwareArea *a, uint32_t id, const char *name) {
        Job *j = job_list_find(&a->jobs, id);

        a->have_markers = true;
        if (!j || j->state != JOB_SCHEDULED)
                return;
        j->state = JOB_CANCELLED;
        j->finished_usec = firmware_now();
        (void) job_set_result(j, "cancelled before it started (the cancellation was asked for while the state file "
                              "could not be written, and applied at the next start)");
        log_job_final(j);
        if (job_list_finish(&a->jobs, j, NULL, NULL) < 0)
                log_oom();
}

/* Cancellations recorded by markers (see firmware_job_cancel()) take effect before any job can
 * start. The markers go once state.json holds the result. */
static void firmware_apply_markers(FirmwareArea *a) {
        cancel_markers_foreach(a, apply_marker);
        if (a->have_markers && firmware_save(a) >= 0)
                cancel_markers_clear(a);
}

static void firmware_recover(FirmwareArea *a) {
        uint64_t now = firmware_now();
        size_t before = a->jobs.n_history;
        int n;

        n = job_list_recover(&a->jobs, now);
        if (n < 0) {
                log_oom();
                return;
        }
        for (size_t i = before; i < a->jobs.n_history; i++)
                log_job_final(a->jobs.history[i]);
        if (n > 0)
                (void) firmware_save(a);
}

static int firmware_start(Manager *m, void **ret) {
        FirmwareArea *a;
        int r;

        a = calloc(1, sizeof *a);
        if (!a)
                return log_oom();
        a->m = m;
        *ret = a;

        firmware_load_config(a);
        r = firmware_load_jobs(a);
        if (r < 0 && r != -ENOMEM)
                log_warning_errno(r, "Failed to write the cleaned firmware job list: %m");
        firmware_apply_markers(a);
        firmware_recover(a);

        r = payload_cleanup_stale(paths_firmware_dir());
        if (r > 0)
                log_info("Removed %d unfinished staging file(s) from %s/%s.", r, paths_firmware_dir(), PAYLOAD_SUBDIR);

        a->present = sfs_node_exists();
        firmware_read_versions(a);

        r = bus_firmware_register(a);
        if (r < 0)
                return r;
        firmware_dispatch(a);
        /* retained for the areas that start later */
        firmware_publish(a);
        return 0;
}

static void firmware_free(void *data) {
        FirmwareArea *a = data;

        a->shutting_down = true;
        firmware_stage_free_all(a);
        if (worker_running(a->worker)) {
                /* Never abandon an update half-way: wait for the PSP's answer and record it. */
                log_notice("Waiting for the running firmware update (job %u) to finish before exiting.",
                           a->running ? a->running->id : 0);
                worker_finish(a->worker);
        }
        a->worker = worker_free(a->worker);
        a->timer = sd_event_source_disable_unref(a->timer);
        a->slot = sd_bus_slot_unref(a->slot);
        a->job_slot = sd_bus_slot_unref(a->job_slot);
        a->enum_slot = sd_bus_slot_unref(a->enum_slot);
        free(a->vtable);
        free(a->job_vtable);
        bus_property_cache_done(&a->properties);
        job_list_done(&a->jobs);
        sfs_versions_done(&a->versions);
        firmware_work_done(a);
        free(a->versions_error);
        free(a->windows);
        strv_free(a->allow);
        free(a->allow_error);
        free(a);
}

static void firmware_uevent(void *data, sd_device *d, sd_device_action_t action) {
        FirmwareArea *a = data;
        const char *subsystem = NULL, *sysname = NULL;
        bool was;

        if (sd_device_get_subsystem(d, &subsystem) < 0 || !streq(subsystem, "misc") ||
            sd_device_get_sysname(d, &sysname) < 0 || !streq(sysname, "sfs"))
                return;
        was = a->present;
        if (action == SD_DEVICE_REMOVE || action == SD_DEVICE_UNBIND)
                a->present = false;
        else if (action == SD_DEVICE_ADD || action == SD_DEVICE_CHANGE || action == SD_DEVICE_BIND)
                a->present = true;
        else
                return;
        if (a->present != was)
                log_notice("SFS device %s %s.", SFS_DEVICE_PATH, a->present ? "appeared" : "went away");
        /* During an update the worker owns the device; it reads the versions when it is done. */
        if (!worker_running(a->worker))
                firmware_read_versions(a);
        bus_firmware_changed(a);
        firmware_publish(a);
        if (a->present && !was)
                firmware_dispatch(a);
}

static void firmware_event(void *data, const ManagerEvent *ev) {
        FirmwareArea *a = data;

        if (ev->type != MANAGER_EVENT_CONFIG_RELOADED)
                return;
        firmware_load_config(a);
        bus_firmware_changed(a);
}

static json_object *versions_json(FirmwareArea *a) {
        JobVersions v = {};
        json_object *o;

        if (a->versions_valid && job_versions_from_sfs(&v, &a->versions) < 0)
                return NULL;
        o = job_versions_to_json(&v);
        if (o && a->versions_error)
                json_object_object_add(o, "error", json_object_new_string(a->versions_error));
        job_versions_done(&v);
        return o;
}

static int firmware_describe(void *data, json_object *root) {
        FirmwareArea *a = data;
        json_object *o, *summary, *windows;
        char buf[64];

        o = job_list_to_json(&a->jobs);
        summary = json_object_new_object();
        windows = json_object_new_array();
        if (!o || !summary || !windows) {
                json_object_put(o);
                json_object_put(summary);
                json_object_put(windows);
                return -ENOMEM;
        }
        json_object_object_add(o, "sfs_present", json_object_new_boolean(a->present));
        json_object_object_add(o, "versions", versions_json(a));
        for (size_t i = 0; i < a->n_windows; i++) {
                char *s = window_to_string(&a->windows[i]);
                if (s)
                        json_object_array_add(windows, json_object_new_string(s));
                free(s);
        }
        json_object_object_add(o, "maintenance_windows", windows);

        json_object_object_add(summary, "SFS device", json_object_new_string(a->present ? "present" : "absent"));
        if (a->versions_valid) {
                snprintf(buf, sizeof buf, "%.16s…", a->versions.sha256);
                json_object_object_add(summary, "versions blob sha256", json_object_new_string(buf));
        }
        snprintf(buf, sizeof buf, "%zu pending, %s", a->jobs.n_jobs, a->running ? "one running" : "none running");
        json_object_object_add(summary, "update jobs", json_object_new_string(buf));
        json_object_object_add(o, "summary", summary);
        json_object_object_add(root, "firmware", o);
        return 0;
}

static bool firmware_degraded(void *data) {
        FirmwareArea *a = data;

        /* A broken allow-list or an unreadable versions blob on a present device needs a person. */
        return a->allow_error || (a->present && !a->versions_valid);
}

/* Jobs by state (pending and the bounded history), and how the newest update that ran ended. */
static int firmware_metrics(void *data, MetricsWriter *w) {
        FirmwareArea *a = data;
        const Job *last = NULL;
        int r;

        r = metrics_sample(w, "hwsecd_firmware_sfs_present", NULL, a->present, "1 when /dev/sfs exists.");
        for (JobState st = 0; r >= 0 && st < _JOB_STATE_MAX; st++)
                r = metrics_sample(w, "hwsecd_firmware_jobs", METRICS_LABELS({ "state", job_state_to_string(st) }),
                                   job_list_count_state(&a->jobs, st),
                                   "Firmware jobs by state (scheduled and running ones, and the kept history).");
        if (r < 0)
                return r;
        for (size_t i = a->jobs.n_history; i > 0 && !last; i--) {
                const Job *j = a->jobs.history[i - 1];

                if (j->state == JOB_SUCCEEDED || j->state == JOB_FAILED || j->state == JOB_INTERRUPTED)
                        last = j;
        }
        if (!last)
                return 0;
        r = metrics_sample(w, "hwsecd_firmware_last_update_success", NULL, last->state == JOB_SUCCEEDED,
                           "1 when the newest firmware update that ran succeeded, 0 when it failed or was interrupted.");
        if (r >= 0 && last->finished_usec > 0)
                r = metrics_sample(w, "hwsecd_firmware_last_update_timestamp_seconds", NULL,
                                   (double) (last->finished_usec / USEC_PER_SEC), "When the newest firmware update that ran ended (Unix time).");
        return r;
}

const AreaVTable firmware_area_vtable = {
        .name = "firmware",
        .start = firmware_start,
        .free = firmware_free,
        .uevent = firmware_uevent,
        .event = firmware_event,
        .describe = firmware_describe,
        .degraded = firmware_degraded,
        .metrics = firmware_metrics,
};
