/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The metrics export: collects every table entry's facts into the Prometheus text format
 * (metrics-text.c) and publishes them as the node_exporter textfile, atomically, off the event
 * loop, at most once a second after a change, and every few minutes without one.
 *
 * "After a change": an sd-event post source runs after every dispatch of another event source
 * (a bus call, a uevent, a timer, a worker's result), which is every way the daemon's state can
 * change. It only arms a timer; the timer renders the text and writes the file when the text
 * differs from the last one written (the trailer of export figures left out of the comparison). */

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "manager.h"
#include "metrics-daemon.h"
#include "worker.h"

typedef struct MetricsArea {
        Manager *manager;
        char *dir;                      /* NULL: the textfile export is off */
        sd_event_source *post;
        sd_event_source *timer;         /* the next export after a change */
        sd_event_source *heartbeat;
        bool self_dispatch;             /* our own timer or worker ran: not a change */
        bool pending;                   /* a change came while the writer ran */
        uint64_t last_write;            /* CLOCK_MONOTONIC of the last export started */
        char *last_body;                /* what the file holds, without the trailer */
        char *writing_body;
        Worker *writer;
        uint64_t last_success;          /* CLOCK_REALTIME usec of the last export written; 0: none */
        uint64_t n_errors;
        int last_error;
        uint64_t render_usec;           /* event-loop time of the last render */
} MetricsArea;

typedef struct MetricsJob {
        MetricsArea *area;
        char *dir;
        char *text;
        size_t size;
        uint64_t timestamp;             /* CLOCK_REALTIME usec written into the file */
        int error;
} MetricsJob;

static void closedirp(DIR **d) {
        if (*d)
                (void) closedir(*d);
}

static WorkerPool writer_pool = WORKER_POOL_INIT("metrics-export", 1);

static void metrics_job_free(void *data) {
        MetricsJob *j = data;

        if (!j)
                return;
        free(j->dir);
        free(j->text);
        free(j);
}

/* The daemon's own facts: they belong to no area. */
static int daemon_metrics(Manager *m, MetricsWriter *w) {
        static const char *const states[] = { "starting", "ready", "degraded" };
        _cleanup_strv_free_ char **problems = manager_problems(m);
        size_t n = 0;
        int r;

        r = metrics_sample(w, "hwsecd_build_info", METRICS_LABELS({ "version", HWSECD_VERSION }), 1,
                           "hwsecd build information (value 1).");
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(states); i++) {
                r = metrics_sample(w, "hwsecd_state", METRICS_LABELS({ "state", states[i] }),
                                   streq(m->state_name, states[i]),
                                   "Manager.State: 1 for the current state, 0 for the others.");
                if (r < 0)
                        return r;
        }
        STRV_FOREACH(p, problems)
                n++;
        return metrics_sample(w, "hwsecd_problems", NULL, n, "Daemon-level problems (Manager.Problems).");
}

/* Every entry's facts, in table order. */
static int render_body(MetricsArea *a, char **ret) {
        _cleanup_(metrics_text_freep) MetricsText *t = NULL;
        Manager *m = a->manager;
        int r;

        r = metrics_text_new(&t);
        if (r < 0)
                return r;
        r = daemon_metrics(m, metrics_text_writer(t));
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n_areas; i++) {
                const AreaVTable *vt = m->areas[i].vtable;

                if (!m->areas[i].data || !vt->metrics || vt == &metrics_area_vtable)
                        continue;
                r = vt->metrics(m->areas[i].data, metrics_text_writer(t));
                if (r < 0)
                        /* A broken sample is a bug; the rest is still worth exporting. */
                        log_warning_errno(r, "The %s area wrote an invalid metric, left out: %m", vt->name);
        }
        return metrics_text_render(t, ret, NULL);
}

/* The figures of the export itself; timestamp: CLOCK_REALTIME usec of this export, 0 for none. */
static int render_trailer(MetricsArea *a, uint64_t timestamp, char **ret) {
        _cleanup_(metrics_text_freep) MetricsText *t = NULL;
        MetricsWriter *w;
        int r;

        r = metrics_text_new(&t);
        if (r < 0)
                return r;
        w = metrics_text_writer(t);
        if (timestamp > 0) {
                r = metrics_sample(w, "hwsecd_metrics_last_export_timestamp_seconds", NULL,
                                   (double) (timestamp / USEC_PER_SEC),
                                   "When hwsecd last wrote its metrics (Unix time).");
                if (r < 0)
                        return r;
        }
        r = metrics_sample(w, "hwsecd_metrics_export_errors_total", NULL, a->n_errors,
                           "Textfile exports that failed since hwsecd started.");
        if (r < 0)
                return r;
        r = metrics_sample(w, "hwsecd_metrics_render_duration_seconds", NULL, (double) a->render_usec / 1e6,
                           "Event-loop time the last rendering of these metrics took.");
        if (r < 0)
                return r;
        return metrics_text_render(t, ret, NULL);
}

static char *concat(const char *a, const char *b) {
        char *s;

        return asprintf(&s, "%s%s", a, b) < 0 ? NULL : s;
}

/* The exposition as hwsecctl metrics shows it: rendered now, with the last export's time. */
static int metrics_full_text(MetricsArea *a, char **ret) {
        _cleanup_free_ char *body = NULL, *trailer = NULL;
        int r;

        r = render_body(a, &body);
        if (r < 0)
                return r;
        r = render_trailer(a, a->last_success, &trailer);
        if (r < 0)
                return r;
        *ret = concat(body, trailer);
        return *ret ? 0 : -ENOMEM;
}

static void write_job_run(void *data) {
        MetricsJob *j = data;
        _cleanup_free_ char *tmp = NULL, *path = NULL;
        _cleanup_close_ int fd = -EBADF, dfd = -EBADF;
        size_t done = 0;

        path = path_join(j->dir, METRICS_TEXTFILE_NAME);
        if (!path || asprintf(&tmp, "%s.%d", path, (int) getpid()) < 0) {
                j->error = -ENOMEM;
                return;
        }
        /* node_exporter reads only "*.prom": the temporary name is never half-read. */
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0) {
                j->error = -errno;
                return;
        }
        while (done < j->size) {
                ssize_t n = write(fd, j->text + done, j->size - done);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        j->error = n < 0 ? -errno : -EIO;
                        goto fail;
                }
                done += (size_t) n;
        }
        /* UMask=0077 in the unit: the exporter runs as another user. */
        if (fchmod(fd, 0644) < 0 || fsync(fd) < 0 || rename(tmp, path) < 0) {
                j->error = -errno;
                goto fail;
        }
        dfd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
                (void) fsync(dfd);
        return;
fail:
        (void) unlink(tmp);
}

static void export_schedule(MetricsArea *a);

static void on_written(Worker *w, void *data) {
        MetricsJob *j = data;
        MetricsArea *a = j->area;

        a->self_dispatch = true;
        if (j->error < 0) {
                a->n_errors++;
                if (j->error != a->last_error)
                        log_error_errno(j->error, "Failed to write %s/%s: %m", j->dir, METRICS_TEXTFILE_NAME);
                a->last_error = j->error;
                /* Not written: the next change (or the heartbeat) tries again. */
                a->last_body = mfree(a->last_body);
        } else {
                if (a->last_error < 0)
                        log_info("Wrote %s/%s again.", j->dir, METRICS_TEXTFILE_NAME);
                a->last_error = 0;
                a->last_success = j->timestamp;
                free(a->last_body);
                a->last_body = TAKE_PTR(a->writing_body);
        }
        a->writing_body = mfree(a->writing_body);
        a->writer = worker_free(w);
        if (a->pending) {
                a->pending = false;
                export_schedule(a);
        }
}

/* Renders now; starts the writer when the text changed (or force). */
static int export_now(MetricsArea *a, bool force) {
        _cleanup_free_ char *body = NULL, *trailer = NULL;
        MetricsJob *j;
        uint64_t t0, timestamp;
        int r;

        if (a->writer) {
                a->pending = true;
                return 0;
        }
        t0 = now(CLOCK_MONOTONIC);
        r = render_body(a, &body);
        a->render_usec = now(CLOCK_MONOTONIC) - t0;
        if (r < 0)
                return log_error_errno(r, "Failed to render the metrics: %m");
        if (!force && a->last_body && streq(a->last_body, body))
                return 0;
        timestamp = now(CLOCK_REALTIME);
        r = render_trailer(a, timestamp, &trailer);
        if (r < 0)
                return log_error_errno(r, "Failed to render the metrics: %m");

        j = calloc(1, sizeof *j);
        if (!j)
                return log_oom();
        *j = (MetricsJob) { .area = a, .dir = strdup(a->dir), .text = concat(body, trailer), .timestamp = timestamp };
        if (!j->dir || !j->text) {
                metrics_job_free(j);
                return log_oom();
        }
        j->size = strlen(j->text);
        r = worker_start(&a->writer, a->manager->event, &writer_pool, 0, write_job_run, on_written, j,
                         metrics_job_free);
        if (r < 0) {
                metrics_job_free(j);
                a->n_errors++;
                return log_error_errno(r, "Failed to start the metrics writer: %m");
        }
        free(a->writing_body);
        a->writing_body = TAKE_PTR(body);
        a->last_write = now(CLOCK_MONOTONIC);
        return 0;
}

/* Arms the export timer: now, or one interval after the last export. */
static void export_schedule(MetricsArea *a) {
        int enabled = SD_EVENT_OFF;
        uint64_t t;

        if (a->writer) {
                a->pending = true;
                return;
        }
        if (sd_event_source_get_enabled(a->timer, &enabled) >= 0 && enabled != SD_EVENT_OFF)
                return;
        t = a->last_write > 0 ? a->last_write + METRICS_MIN_INTERVAL_USEC : 0;
        (void) sd_event_source_set_time(a->timer, MAX(t, now(CLOCK_MONOTONIC)));
        (void) sd_event_source_set_enabled(a->timer, SD_EVENT_ONESHOT);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        MetricsArea *a = userdata;

        a->self_dispatch = true;
        (void) export_now(a, false);
        return 0;
}

static int on_heartbeat(sd_event_source *s, uint64_t usec, void *userdata) {
        MetricsArea *a = userdata;

        a->self_dispatch = true;
        (void) export_now(a, true);
        (void) sd_event_source_set_time_relative(s, METRICS_HEARTBEAT_USEC);
        (void) sd_event_source_set_enabled(s, SD_EVENT_ON);
        return 0;
}

/* After every dispatch of another event source. */
static int on_post(sd_event_source *s, void *userdata) {
        MetricsArea *a = userdata;

        if (a->self_dispatch) {
                a->self_dispatch = false;
                return 0;
        }
        export_schedule(a);
        return 0;
}

/* The directory from hwsecd.conf; NULL (and one log line) when the export is off. */
static int textfile_dir(Manager *m, char **ret) {
        const char *dir = conf_get(m->conf, "Metrics", "TextfileDirectory") ?: METRICS_DEFAULT_DIR;
        struct stat st;

        *ret = NULL;
        if (isempty(dir)) {
                log_info("Metrics textfile export off: TextfileDirectory= is empty in hwsecd.conf.");
                return 0;
        }
        if (dir[0] != '/') {
                log_warning("Metrics textfile export off: TextfileDirectory=%s is not an absolute path.", dir);
                return 0;
        }
        if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
                log_info("Metrics textfile export off: %s does not exist (install prometheus-node-exporter or set TextfileDirectory= in hwsecd.conf).",
                         dir);
                return 0;
        }
        *ret = strdup(dir);
        return *ret ? 1 : -ENOMEM;
}

/* A crash between writing and renaming leaves hwsecd.prom.<pid>: removes those of processes that
 * do not run (regular files owned by us only). */
static void remove_stale_temp(const char *dir) {
        _cleanup_(closedirp) DIR *d = opendir(dir);
        const size_t n = strlen(METRICS_TEXTFILE_NAME);

        if (!d)
                return;
        for (struct dirent *de; (de = readdir(d));) {
                struct stat st;
                uint32_t pid;

                if (!strneq(de->d_name, METRICS_TEXTFILE_NAME ".", n + 1) ||
                    safe_atou32(de->d_name + n + 1, 10, &pid) < 0 || pid == 0)
                        continue;
                if (kill((pid_t) pid, 0) == 0 || errno != ESRCH)
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
                    st.st_uid != geteuid())
                        continue;
                if (unlinkat(dirfd(d), de->d_name, 0) >= 0)
                        log_info("Removed %s/%s, left by a process that ended while writing it.", dir, de->d_name);
        }
}

static void metrics_free(void *data) {
        MetricsArea *a = data;

        if (a->writer)
                worker_finish(a->writer);
        a->writer = worker_free(a->writer);
        if (a->dir) {
                _cleanup_free_ char *path = path_join(a->dir, METRICS_TEXTFILE_NAME);

                /* A stopped daemon's file would claim a state nobody keeps: remove it, so that
                 * the HwsecdDown alert sees the daemon gone. */
                if (path && unlink(path) < 0 && errno != ENOENT)
                        log_warning_errno(-errno, "Failed to remove %s: %m", path);
        }
        sd_event_source_disable_unref(a->post);
        sd_event_source_disable_unref(a->timer);
        sd_event_source_disable_unref(a->heartbeat);
        free(a->last_body);
        free(a->writing_body);
        free(a->dir);
        free(a);
}

static int metrics_start(Manager *m, void **ret) {
        MetricsArea *a;
        int r;

        a = calloc(1, sizeof *a);
        if (!a)
                return log_oom();
        a->manager = m;
        *ret = a;
        r = textfile_dir(m, &a->dir);
        if (r <= 0)
                return r == -ENOMEM ? log_oom() : 0;
        remove_stale_temp(a->dir);
        r = sd_event_add_time(m->event, &a->timer, CLOCK_MONOTONIC, 0, 0, on_timer, a);
        if (r >= 0)
                r = sd_event_add_time_relative(m->event, &a->heartbeat, CLOCK_MONOTONIC, METRICS_HEARTBEAT_USEC,
                                               USEC_PER_SEC, on_heartbeat, a);
        if (r >= 0)
                r = sd_event_add_post(m->event, &a->post, on_post, a);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the metrics export: %m");
        (void) sd_event_source_set_description(a->timer, "metrics-export");
        (void) sd_event_source_set_description(a->heartbeat, "metrics-heartbeat");
        /* The first export comes after start-up, through the post source. */
        log_info("Writing metrics to %s/%s.", a->dir, METRICS_TEXTFILE_NAME);
        return 0;
}

static int metrics_describe(void *data, json_object *root) {
        MetricsArea *a = data;
        _cleanup_free_ char *text = NULL;
        json_object *o;
        int r;

        r = metrics_full_text(a, &text);
        if (r < 0)
                return r;
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "textfile", a->dir ? json_object_new_string(a->dir) : NULL);
        json_object_object_add(o, "exposition", json_object_new_string(text));
        json_object_object_add(root, "metrics", o);
        return 0;
}

const AreaVTable metrics_area_vtable = {
        .name = "metrics",
        .start = metrics_start,
        .free = metrics_free,
        .describe = metrics_describe,
};
