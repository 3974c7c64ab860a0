/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The rules a new firmware update job must meet before it is scheduled (no sd-bus here; the bus
 * glue only maps the answers to D-Bus errors):
 *
 *   - Either explicit times or the Window option, not both. With Window, the job gets the next
 *     maintenance window [start, end) (see window.h); there must be one configured.
 *   - Times are CLOCK_REALTIME µs since the epoch; 0 means "now" (not_before) or "no deadline"
 *     (not_after). Every time must be at most JOB_USEC_MAX (jobs.h), the largest one the state
 *     file holds, so that an acknowledged job can always be read back.
 *   - A deadline must be in the future and after the start time.
 *   - The start may be at most SCHEDULE_MAX_AHEAD_USEC (366 days) ahead.
 *   - At most JOBS_MAX_PENDING jobs wait at once. */

#include <stdint.h>

#include "jobs.h"
#include "window.h"

#define SCHEDULE_MAX_AHEAD_USEC (UINT64_C(366) * 24 * 3600 * USEC_PER_SEC)

typedef enum ScheduleError {
        SCHEDULE_OK,
        SCHEDULE_WINDOW_AND_TIMES,      /* Window option together with times */
        SCHEDULE_NO_WINDOW,             /* Window option but no window configured */
        SCHEDULE_WINDOW_FAILED,         /* the next window could not be computed (errno given) */
        SCHEDULE_OUT_OF_RANGE,          /* a time beyond JOB_USEC_MAX */
        SCHEDULE_DEADLINE_PASSED,
        SCHEDULE_DEADLINE_BEFORE_START,
        SCHEDULE_TOO_FAR_AHEAD,
        SCHEDULE_TOO_MANY,              /* JOBS_MAX_PENDING jobs already wait */
        _SCHEDULE_ERROR_MAX,
} ScheduleError;

typedef struct ScheduleRequest {
        uint64_t not_before_usec, not_after_usec;   /* as the caller gave them */
        bool window;
        uint64_t now_usec;
        const MaintenanceWindow *windows;
        size_t n_windows;
} ScheduleRequest;

/* Applies the time rules. On SCHEDULE_OK, *ret_not_before and *ret_not_after are the times the
 * job gets (the window's, with Window). On SCHEDULE_WINDOW_FAILED, *ret_errno is the negative
 * errno window_next() gave. */
ScheduleError schedule_check_times(const ScheduleRequest *req, uint64_t *ret_not_before, uint64_t *ret_not_after,
                                   int *ret_errno);
/* The pending-jobs cap. */
ScheduleError schedule_check_capacity(size_t n_pending);
/* True when t fits what the state file holds (jobs.h JOB_USEC_MAX). */
static inline bool schedule_time_valid(uint64_t t) {
        return t <= JOB_USEC_MAX;
}
/* A sentence for an error. */
const char *schedule_error_to_string(ScheduleError e);
