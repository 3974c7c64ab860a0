/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <pthread.h>
#include <sys/eventfd.h>

#include "log.h"
#include "worker.h"

struct Worker {
        atomic_int refs;                /* the loop's and the thread's */
        WorkerPool *pool;
        WorkerFlags flags;
        pthread_t thread;
        int fd;                         /* eventfd the thread signals when run() returned */
        sd_event_source *source;
        bool finished;                  /* done() was called, or will never be */
        bool joined;

        worker_run_t run;
        worker_done_t done;
        void *data;
        void (*free_data)(void *data);
};

static atomic_uint threads_running;

unsigned worker_threads_running(void) {
        return atomic_load(&threads_running);
}

static void worker_unref(Worker *w) {
        if (!w || atomic_fetch_sub(&w->refs, 1) != 1)
                return;
        if (w->fd >= 0)
                (void) close(w->fd);
        if (w->free_data)
                w->free_data(w->data);
        free(w);
}

static void slot_release(WorkerPool *pool) {
        atomic_fetch_sub(&pool->running, 1);
        atomic_fetch_sub(&threads_running, 1);
}

static void *worker_thread(void *userdata) {
        Worker *w = userdata;
        uint64_t one = 1;

        w->run(w->data);
        /* A joinable thread gives its slot back when it is joined; an abandoned one now, as
         * nobody joins it (what is left of it is this write and the unref). */
        if (w->flags & WORKER_ABANDONABLE)
                slot_release(w->pool);
        if (write(w->fd, &one, sizeof one) < 0)
                log_error_errno(errno, "A %s thread could not wake the event loop: %m", w->pool->name);
        worker_unref(w);
        return NULL;
}

static void worker_join(Worker *w) {
        if (w->joined || (w->flags & WORKER_ABANDONABLE))
                return;
        (void) pthread_join(w->thread, NULL);
        w->joined = true;
        slot_release(w->pool);
}

static void worker_complete(Worker *w) {
        w->source = sd_event_source_disable_unref(w->source);
        worker_join(w);
        w->finished = true;
        /* done() may free w; nothing touches it afterwards */
        w->done(w, w->data);
}

static int on_worker_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Worker *w = userdata;
        uint64_t v;

        if (read(fd, &v, sizeof v) < 0 && errno != EAGAIN)
                log_warning_errno(errno, "Failed to read the %s worker's eventfd: %m", w->pool->name);
        worker_complete(w);
        return 0;
}

static bool slot_take(WorkerPool *pool) {
        unsigned n = atomic_fetch_add(&pool->running, 1), total = atomic_fetch_add(&threads_running, 1);

        if (n < pool->max && total < WORKER_THREADS_MAX)
                return true;
        slot_release(pool);
        return false;
}

static int thread_create(Worker *w) {
        pthread_attr_t attr;
        int r;

        r = -pthread_attr_init(&attr);
        if (r < 0)
                return r;
        if (w->flags & WORKER_ABANDONABLE)
                r = -pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (r == 0)
                r = -pthread_create(&w->thread, &attr, worker_thread, w);
        (void) pthread_attr_destroy(&attr);
        return r;
}

int worker_start(Worker **ret, sd_event *e, WorkerPool *pool, WorkerFlags flags, worker_run_t run,
                 worker_done_t done, void *data, void (*free_data)(void *data)) {
        Worker *w;
        int r;

        w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        *w = (Worker) { .pool = pool, .flags = flags, .fd = -EBADF, .run = run, .done = done, .data = data };
        atomic_init(&w->refs, 1);
        w->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->fd < 0) {
                r = -errno;
                goto fail;
        }
        r = sd_event_add_io(e, &w->source, w->fd, EPOLLIN, on_worker_done, w);
        if (r < 0)
                goto fail;
        (void) sd_event_source_set_description(w->source, pool->name);

        if (!slot_take(pool)) {
                r = -EAGAIN;
                goto fail;
        }
        atomic_fetch_add(&w->refs, 1);          /* the thread's */
        r = thread_create(w);
        if (r < 0) {
                atomic_fetch_sub(&w->refs, 1);
                slot_release(pool);
                goto fail;
        }
        /* from here on the data goes with the worker */
        w->free_data = free_data;
        *ret = w;
        return 0;

fail:
        w->source = sd_event_source_disable_unref(w->source);
        worker_unref(w);
        return r;
}

bool worker_running(const Worker *w) {
        return w && !w->finished;
}

void worker_finish(Worker *w) {
        if (!w)
                return;
        if (w->flags & WORKER_ABANDONABLE) {
                (void) worker_free(w);
                return;
        }
        worker_complete(w);
}

Worker *worker_free(Worker *w) {
        if (!w)
                return NULL;
        w->source = sd_event_source_disable_unref(w->source);
        worker_join(w);
        w->finished = true;
        worker_unref(w);
        return NULL;
}
