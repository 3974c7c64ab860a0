/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One thread that runs sev_query_platform() (SEV_PLATFORM_STATUS, SNP_PLATFORM_STATUS on
 * /dev/sev) off the event loop, so that a PSP that hangs (ccp waits psp_cmd_timeout, 100 s by
 * default) does not stop the bus. The result is handed back through an eventfd in the event loop;
 * at most one query runs at a time. */

#include <pthread.h>
#include <systemd/sd-event.h>

#include "sev-status.h"

typedef struct PspStatusWorker PspStatusWorker;
typedef void (*psp_status_done_t)(PspStatusWorker *w, const SevPlatform *result, uint64_t generation,
                                  void *userdata);

struct PspStatusWorker {
        int fd;                         /* eventfd the thread signals; -EBADF before init */
        sd_event_source *source;
        pthread_t thread;
        bool active;                    /* a thread runs (or finished and was not joined yet) */
        char *node;                     /* the thread's input */
        uint64_t generation;            /* the caller's tag of the running query */
        SevPlatform result;             /* the thread's output, read after the eventfd fired */
        psp_status_done_t done;
        void *userdata;
};

/* Sets up the eventfd in the event loop. */
int psp_status_worker_init(PspStatusWorker *w, sd_event *e, psp_status_done_t done, void *userdata);
/* Starts a query of node, tagged generation; -EBUSY while one runs, or pthread_create()'s error. */
int psp_status_worker_start(PspStatusWorker *w, const char *node, uint64_t generation);
/* Waits for a running query (at most ccp's command timeout) and releases everything. */
void psp_status_worker_done(PspStatusWorker *w);
