/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "schedule.h"

static const char * const schedule_error_table[_SCHEDULE_ERROR_MAX] = {
        [SCHEDULE_OK] = "the job can be scheduled",
        [SCHEDULE_WINDOW_AND_TIMES] = "give either times or the Window option, not both",
        [SCHEDULE_NO_WINDOW] = "no maintenance window is configured",
        [SCHEDULE_WINDOW_FAILED] = "the next maintenance window could not be computed",
        [SCHEDULE_OUT_OF_RANGE] = ("a time is after 9999-12-31T23:59:59Z (253402300799000000 µs), the latest one "
                                   "a job can hold"),
        [SCHEDULE_DEADLINE_PASSED] = "the deadline has already passed",
        [SCHEDULE_DEADLINE_BEFORE_START] = "the deadline must be after the start time",
        [SCHEDULE_TOO_FAR_AHEAD] = "the start time is more than a year (366 days) ahead",
        [SCHEDULE_TOO_MANY] = "32 jobs are already pending",
};

const char *schedule_error_to_string(ScheduleError e) {
        if ((unsigned) e >= _SCHEDULE_ERROR_MAX)
                return "unknown scheduling error";
        return schedule_error_table[e];
}

static ScheduleError check_window(const ScheduleRequest *req, uint64_t *nb, uint64_t *na, int *ret_errno) {
        int r;

        if (req->not_before_usec != 0 || req->not_after_usec != 0)
                return SCHEDULE_WINDOW_AND_TIMES;
        r = window_next(req->windows, req->n_windows, req->now_usec, nb, na);
        if (r == -ENOENT)
                return SCHEDULE_NO_WINDOW;
        if (r < 0) {
                *ret_errno = r;
                return SCHEDULE_WINDOW_FAILED;
        }
        return SCHEDULE_OK;
}

ScheduleError schedule_check_times(const ScheduleRequest *req, uint64_t *ret_not_before, uint64_t *ret_not_after,
                                   int *ret_errno) {
        uint64_t nb = req->not_before_usec, na = req->not_after_usec, now = req->now_usec;
        ScheduleError e;

        *ret_errno = 0;
        /* The creation time is stored too: a clock beyond the range cannot make a readable job. */
        if (!schedule_time_valid(now))
                return SCHEDULE_OUT_OF_RANGE;
        if (req->window) {
                e = check_window(req, &nb, &na, ret_errno);
                if (e != SCHEDULE_OK)
                        return e;
        }
        if (!schedule_time_valid(nb) || !schedule_time_valid(na))
                return SCHEDULE_OUT_OF_RANGE;
        if (na != 0 && na <= now)
                return SCHEDULE_DEADLINE_PASSED;
        if (na != 0 && nb != 0 && na <= nb)
                return SCHEDULE_DEADLINE_BEFORE_START;
        if (nb > now && nb - now > SCHEDULE_MAX_AHEAD_USEC)
                return SCHEDULE_TOO_FAR_AHEAD;
        *ret_not_before = nb;
        *ret_not_after = na;
        return SCHEDULE_OK;
}

ScheduleError schedule_check_capacity(size_t n_pending) {
        return n_pending >= JOBS_MAX_PENDING ? SCHEDULE_TOO_MANY : SCHEDULE_OK;
}
