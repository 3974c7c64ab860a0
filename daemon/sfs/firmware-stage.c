/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* StagePackage off the event loop. The caller's file may sit on a filesystem that never answers
 * (FUSE, a hung network mount): everything that touches it (fstat, read, hash) runs in a thread
 * of its own, and the reply goes out when the thread reports back, or with an error after
 * FIRMWARE_STAGE_TIMEOUT_USEC. A thread stuck in the kernel cannot be stopped; it is abandoned,
 * and what it read later is thrown away (nothing is written after the caller got an error).
 * At most FIRMWARE_STAGE_THREADS_MAX such threads exist at once, stuck ones included. */

#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "bus-errors.h"
#include "firmware-daemon.h"
#include "log.h"
#include "paths.h"

typedef struct StageWork StageWork;

struct StageWork {
        int fd;                         /* our copy of the caller's fd */

        /* filled by the thread */
        PayloadError e;
        PayloadInfo info;
        uint8_t *data;
        int err;

        /* loop side only */
        FirmwareArea *a;
        char name[SFS_PAYLOAD_NAME_SIZE];
        sd_bus_message *msg;
        sd_event_source *timer;
        Worker *worker;
        StageWork *next;
};

static WorkerPool stage_pool = WORKER_POOL_INIT("firmware-stage", FIRMWARE_STAGE_THREADS_MAX);

/* Called by the worker helper once neither the thread nor the loop holds the work. */
static void stage_work_free(void *data) {
        StageWork *w = data;

        if (!w)
                return;
        /* Only when the thread never ran: then the fd was never read either. */
        if (w->fd >= 0)
                close(w->fd);
        free(w->data);
        free(w);
}

static void stage_run(void *data) {
        StageWork *w = data;

        /* The allow-list is checked on the loop, against the list of that moment. */
        w->e = payload_read_fd(w->fd, NULL, &w->info, &w->data, &w->err);
        /* close() may block too (FUSE sends FLUSH and waits for it): close our copy here, in
         * the thread, never on the loop. */
        (void) close(w->fd);
        w->fd = -EBADF;
}

/* Loop side: forget the work (reply sent or not needed any more). A thread that still reads
 * keeps the work alive until it returns; then it is freed. */
static void stage_work_detach(StageWork *w) {
        FirmwareArea *a = w->a;

        for (StageWork **p = &a->stages; *p; p = &(*p)->next)
                if (*p == w) {
                        *p = w->next;
                        break;
                }
        w->timer = sd_event_source_disable_unref(w->timer);
        w->msg = sd_bus_message_unref(w->msg);
        (void) worker_free(w->worker);          /* last: it may free w */
}

static int stage_reply_error(StageWork *w, const char *name, const char *fmt, ...) _printf_(3, 4);
static int stage_reply_error(StageWork *w, const char *name, const char *fmt, ...) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = sd_bus_error_setfv(&error, name, fmt, ap);
        va_end(ap);
        if (!sd_bus_error_is_set(&error))
                return r;
        return sd_bus_reply_method_error(w->msg, &error);
}

static int stage_finish(StageWork *w) {
        FirmwareArea *a = w->a;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        PayloadError e = w->e;
        bool already = false;
        int err = w->err, r;

        if (e == PAYLOAD_OK && a->allow_error)
                return stage_reply_error(w, HWSEC_ERROR_INVALID_ARGUMENT, "%s.", a->allow_error);
        if (e == PAYLOAD_OK && a->running && streq(a->running->payload, w->name))
                return stage_reply_error(w, HWSEC_ERROR_BUSY, "Package \"%s\" is being installed by job %u right now; "
                                         "try again when it has finished.", w->name, a->running->id);
        if (e == PAYLOAD_OK) {
                /* The allow-list may have changed while the thread read: check against today's. */
                if (!payload_allowed(a->allow, w->info.sha256))
                        e = PAYLOAD_NOT_ALLOWED;
                else {
                        strcpy(w->info.name, w->name);
                        e = payload_stage_data(paths_firmware_dir(), w->name, &w->info, w->data, &already, &err);
                }
        }
        if (e != PAYLOAD_OK) {
                (void) bus_firmware_payload_error(&error, e, w->name, err);
                return sd_bus_reply_method_error(w->msg, &error);
        }
        firmware_log_staged(a, &w->info, already);
        r = sd_bus_reply_method_return(w->msg, "s", w->info.sha256);
        return r;
}

static void on_stage_done(Worker *worker, void *data) {
        StageWork *w = data;
        int r;

        r = stage_finish(w);
        if (r < 0)
                log_warning_errno(r, "Failed to answer StagePackage: %m");
        stage_work_detach(w);
}

static int on_stage_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        StageWork *w = userdata;
        int r;

        log_warning("StagePackage for \"%s\": the caller's file did not answer within %llu s; giving up on it.",
                    w->name, (unsigned long long) (FIRMWARE_STAGE_TIMEOUT_USEC / USEC_PER_SEC));
        r = stage_reply_error(w, HWSEC_ERROR_IO, "Package \"%s\": the file passed could not be read within %llu s "
                              "(is it on a FUSE or network filesystem that does not answer?); copy it to a local "
                              "disk and stage that copy.", w->name,
                              (unsigned long long) (FIRMWARE_STAGE_TIMEOUT_USEC / USEC_PER_SEC));
        if (r < 0)
                log_warning_errno(r, "Failed to answer StagePackage: %m");
        stage_work_detach(w);
        return 0;
}

static StageWork *stage_work_new(FirmwareArea *a, sd_bus_message *msg, int caller_fd, const char *name) {
        StageWork *w;

        w = calloc(1, sizeof *w);
        if (!w)
                return NULL;
        w->a = a;
        strcpy(w->name, name);
        /* F_DUPFD_CLOEXEC does not ask the file's filesystem anything. */
        w->fd = fcntl(caller_fd, F_DUPFD_CLOEXEC, 3);
        if (w->fd < 0) {
                stage_work_free(w);
                return NULL;
        }
        w->msg = sd_bus_message_ref(msg);
        return w;
}

int firmware_stage_start(FirmwareArea *a, sd_bus_message *msg, int caller_fd, const char *name, sd_bus_error *error) {
        StageWork *w;
        int r;

        w = stage_work_new(a, msg, caller_fd, name);
        if (!w)
                return -errno ?: -ENOMEM;
        r = sd_event_add_time_relative(a->m->event, &w->timer, CLOCK_MONOTONIC, FIRMWARE_STAGE_TIMEOUT_USEC, 0,
                                       on_stage_timeout, w);
        if (r < 0)
                goto fail;
        (void) sd_event_source_set_description(w->timer, "firmware-stage-timeout");

        r = worker_start(&w->worker, a->m->event, &stage_pool, WORKER_ABANDONABLE, stage_run, on_stage_done, w,
                         stage_work_free);
        if (r == -EAGAIN) {
                w->timer = sd_event_source_disable_unref(w->timer);
                w->msg = sd_bus_message_unref(w->msg);
                stage_work_free(w);
                return sd_bus_error_setf(error, HWSEC_ERROR_BUSY, "%u packages are being read already (some files may "
                                         "not answer); try again later.", FIRMWARE_STAGE_THREADS_MAX);
        }
        if (r < 0)
                goto fail;
        w->next = a->stages;
        a->stages = w;
        return 1;

fail:
        w->timer = sd_event_source_disable_unref(w->timer);
        w->msg = sd_bus_message_unref(w->msg);
        stage_work_free(w);
        return log_error_errno(r, "Failed to start reading the package: %m");
}

void firmware_stage_free_all(FirmwareArea *a) {
        /* At exit the callers get no answer (the bus sees us go); a thread still reading keeps
         * the work until it returns, and is ended with the process. */
        while (a->stages)
                stage_work_detach(a->stages);
}
