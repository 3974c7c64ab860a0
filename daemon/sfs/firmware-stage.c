/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* StagePackage off the event loop. The caller's file may sit on a filesystem that never answers
 * (FUSE, a hung network mount): everything that touches it (fstat, read, hash) runs in a thread
 * of its own, and the reply goes out when the thread reports back, or with an error after
 * FIRMWARE_STAGE_TIMEOUT_USEC. A thread stuck in the kernel cannot be stopped; it is abandoned,
 * and what it read later is thrown away (nothing is written after the caller got an error).
 * At most FIRMWARE_STAGE_THREADS_MAX such threads exist at once, stuck ones included. */

#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/stat.h>

#include "bus-errors.h"
#include "firmware-area.h"
#include "log.h"
#include "paths.h"

typedef struct StageWork StageWork;

struct StageWork {
        atomic_int refs;                /* the thread's and the loop's */
        int fd;                         /* our copy of the caller's fd */
        int event_fd;                   /* the thread signals it when done */

        /* filled by the thread */
        PayloadError e;
        PayloadInfo info;
        uint8_t *data;
        int err;

        /* loop side only */
        FirmwareArea *a;
        char name[SFS_PAYLOAD_NAME_SIZE];
        sd_bus_message *msg;
        sd_event_source *io, *timer;
        StageWork *next;
};

static atomic_int stage_threads;

static void stage_work_unref(StageWork *w) {
        if (!w || atomic_fetch_sub(&w->refs, 1) != 1)
                return;
        if (w->fd >= 0)
                close(w->fd);
        if (w->event_fd >= 0)
                close(w->event_fd);
        free(w->data);
        free(w);
}

static void *stage_thread(void *userdata) {
        StageWork *w = userdata;
        uint64_t one = 1;

        /* The allow-list is checked on the loop, against the list of that moment. */
        w->e = payload_read_fd(w->fd, NULL, &w->info, &w->data, &w->err);
        (void) write(w->event_fd, &one, sizeof one);
        atomic_fetch_sub(&stage_threads, 1);
        stage_work_unref(w);
        return NULL;
}

/* Loop side: forget the work (reply sent or not needed any more). */
static void stage_work_detach(StageWork *w) {
        FirmwareArea *a = w->a;

        for (StageWork **p = &a->stages; *p; p = &(*p)->next)
                if (*p == w) {
                        *p = w->next;
                        break;
                }
        w->io = sd_event_source_disable_unref(w->io);
        w->timer = sd_event_source_disable_unref(w->timer);
        w->msg = sd_bus_message_unref(w->msg);
        stage_work_unref(w);
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

static int on_stage_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        StageWork *w = userdata;
        int r;

        r = stage_finish(w);
        if (r < 0)
                log_warning_errno(r, "Failed to answer StagePackage: %m");
        stage_work_detach(w);
        return 0;
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
        atomic_init(&w->refs, 1);
        w->a = a;
        w->fd = w->event_fd = -EBADF;
        strcpy(w->name, name);
        /* F_DUPFD_CLOEXEC does not ask the file's filesystem anything. */
        w->fd = fcntl(caller_fd, F_DUPFD_CLOEXEC, 3);
        w->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->fd < 0 || w->event_fd < 0) {
                stage_work_unref(w);
                return NULL;
        }
        w->msg = sd_bus_message_ref(msg);
        return w;
}

int firmware_stage_start(FirmwareArea *a, sd_bus_message *msg, int caller_fd, const char *name, sd_bus_error *error) {
        pthread_attr_t attr;
        pthread_t t;
        StageWork *w;
        int r;

        if (atomic_load(&stage_threads) >= (int) FIRMWARE_STAGE_THREADS_MAX)
                return sd_bus_error_setf(error, HWSEC_ERROR_BUSY, "%u packages are being read already (some files may "
                                         "not answer); try again later.", FIRMWARE_STAGE_THREADS_MAX);
        w = stage_work_new(a, msg, caller_fd, name);
        if (!w)
                return -errno ?: -ENOMEM;
        r = sd_event_add_io(a->m->event, &w->io, w->event_fd, EPOLLIN, on_stage_done, w);
        if (r >= 0)
                r = sd_event_add_time_relative(a->m->event, &w->timer, CLOCK_MONOTONIC, FIRMWARE_STAGE_TIMEOUT_USEC, 0,
                                               on_stage_timeout, w);
        if (r < 0)
                goto fail;
        (void) sd_event_source_set_description(w->io, "firmware-stage");
        (void) sd_event_source_set_description(w->timer, "firmware-stage-timeout");

        atomic_fetch_add(&w->refs, 1);   /* the thread's */
        atomic_fetch_add(&stage_threads, 1);
        r = -pthread_attr_init(&attr);
        if (r == 0)
                r = -pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (r == 0)
                r = -pthread_create(&t, &attr, stage_thread, w);
        (void) pthread_attr_destroy(&attr);
        if (r < 0) {
                atomic_fetch_sub(&stage_threads, 1);
                atomic_fetch_sub(&w->refs, 1);
                goto fail;
        }
        w->next = a->stages;
        a->stages = w;
        return 1;

fail:
        w->io = sd_event_source_disable_unref(w->io);
        w->timer = sd_event_source_disable_unref(w->timer);
        w->msg = sd_bus_message_unref(w->msg);
        stage_work_unref(w);
        return log_error_errno(r, "Failed to start reading the package: %m");
}

void firmware_stage_free_all(FirmwareArea *a) {
        /* At exit the callers get no answer (the bus sees us go); running threads keep their own
         * reference and are ended with the process. */
        while (a->stages)
                stage_work_detach(a->stages);
}
