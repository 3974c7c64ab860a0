/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Work off the event loop: run() on a thread of its own, then done() back in the event loop.
 *
 * Every thread hwsecd creates goes through this helper, so that their number has one bound:
 * each user names a WorkerPool with its own maximum, and the pools' maxima add up to
 * WORKER_THREADS_MAX (the unit's TasksMax= allows that many plus the main thread; see
 * systemd/hwsecd.service.in). The users today:
 *
 *   pci-audit        1  the first PCI audit (config space reads trap to every device)
 *   firmware-update  1  SFSIOCUPDATEPKG (the PSP may take minutes)
 *   psp-status       1  SEV/SNP_PLATFORM_STATUS (ccp waits up to psp_cmd_timeout)
 *   firmware-stage   8  StagePackage reads of the caller's file (may never answer)
 *   metrics-export   1  writing and fsyncing the node_exporter textfile (a slow disk)
 *
 * Two kinds of worker:
 *   joinable  (the default): worker_free() waits for the thread; its data is the owner's.
 *   abandonable (WORKER_ABANDONABLE): a thread that may hang in the kernel for ever.
 *             worker_free() does not wait: done() is not called any more, and the data is
 *             released with free_data() by whichever of the thread and the loop lets go last.
 *             Such a thread keeps its pool slot until it really ends. */

#include <stdatomic.h>
#include <systemd/sd-event.h>

#include "macro.h"

#define WORKER_THREADS_MAX 12U

typedef struct WorkerPool {
        const char *name;
        unsigned max;
        atomic_uint running;            /* threads of this pool alive now, stuck ones included */
} WorkerPool;

#define WORKER_POOL_INIT(n, m) { .name = (n), .max = (m) }

typedef struct Worker Worker;

typedef enum WorkerFlags {
        WORKER_ABANDONABLE = 1u << 0,
} WorkerFlags;

/* run: on the thread, with data. done: in the event loop once run() returned (never after
 * worker_free()). The owner frees the worker with worker_free(), usually from done(), which may
 * also start the next one. */
typedef void (*worker_run_t)(void *data);
typedef void (*worker_done_t)(Worker *w, void *data);

/* Starts the thread. -EAGAIN when the pool is full (or the whole process is at
 * WORKER_THREADS_MAX), else 0 or a negative errno (nothing started; free_data was not called). */
int worker_start(Worker **ret, sd_event *e, WorkerPool *pool, WorkerFlags flags, worker_run_t run,
                 worker_done_t done, void *data, void (*free_data)(void *data));

/* True until done() was called (or would have been, for a freed worker). */
bool worker_running(const Worker *w);

/* Joinable workers: waits for the thread and calls done() now, in the caller (a daemon that
 * stops must still record what a firmware update did). Abandonable ones are freed instead. */
void worker_finish(Worker *w);

/* Joinable: waits for the thread, does not call done(). Abandonable: lets the thread go.
 * Returns NULL. */
Worker *worker_free(Worker *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(Worker *, worker_free);

/* Threads alive in all pools, for tests and logs. */
unsigned worker_threads_running(void);
