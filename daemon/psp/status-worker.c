/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <sys/eventfd.h>

#include "log.h"
#include "status-worker.h"

static void *status_thread(void *userdata) {
        PspStatusWorker *w = userdata;
        uint64_t one = 1;

        sev_query_platform(w->node, &w->result);
        if (write(w->fd, &one, sizeof one) < 0)
                log_error_errno(errno, "Failed to signal the end of a PSP status read: %m");
        return NULL;
}

static int on_status_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        PspStatusWorker *w = userdata;
        SevPlatform result;
        uint64_t v, generation;

        if (read(fd, &v, sizeof v) < 0 && errno != EAGAIN)
                log_warning_errno(errno, "Failed to read the PSP status eventfd: %m");
        if (!w->active)
                return 0;
        (void) pthread_join(w->thread, NULL);
        w->active = false;
        result = w->result;
        generation = w->generation;
        w->node = mfree(w->node);
        /* the callback may start the next query */
        w->done(w, &result, generation, w->userdata);
        return 0;
}

int psp_status_worker_init(PspStatusWorker *w, sd_event *e, psp_status_done_t done, void *userdata) {
        int r;

        *w = (PspStatusWorker) { .fd = -EBADF, .done = done, .userdata = userdata };
        w->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->fd < 0)
                return -errno;
        r = sd_event_add_io(e, &w->source, w->fd, EPOLLIN, on_status_done, w);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(w->source, "psp-status-worker");
        return 0;
}

int psp_status_worker_start(PspStatusWorker *w, const char *node, uint64_t generation) {
        int r;

        if (w->active)
                return -EBUSY;
        if (w->fd < 0)
                return -EBADF;
        w->node = strdup(node);
        if (!w->node)
                return -ENOMEM;
        w->generation = generation;
        w->result = (SevPlatform) {};
        r = pthread_create(&w->thread, NULL, status_thread, w);
        if (r != 0) {
                w->node = mfree(w->node);
                return -r;
        }
        w->active = true;
        return 0;
}

void psp_status_worker_done(PspStatusWorker *w) {
        if (w->active) {
                log_info("Waiting for a PSP status read to finish before stopping.");
                (void) pthread_join(w->thread, NULL);
                w->active = false;
        }
        w->source = sd_event_source_disable_unref(w->source);
        if (w->fd >= 0)
                close(w->fd);
        w->fd = -EBADF;
        w->node = mfree(w->node);
}
