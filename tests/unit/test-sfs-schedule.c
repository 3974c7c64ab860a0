/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The scheduling rules of schedule.c: window vs explicit times, the deadline, the one-year cap,
 * the pending-jobs cap and the range the state file holds (a time it cannot hold is refused up
 * front instead of being acknowledged and then dropped at the next start). */

#include <time.h>

#include "schedule.h"
#include "test-sfs-util.h"

#define NOW (UINT64_C(1790000000) * USEC_PER_SEC)   /* 2026-09-22 */
#define DAY (UINT64_C(86400) * USEC_PER_SEC)

static ScheduleError times(uint64_t nb, uint64_t na, bool window, const MaintenanceWindow *w, size_t n,
                           uint64_t *ret_nb, uint64_t *ret_na) {
        ScheduleRequest req = {
                .not_before_usec = nb, .not_after_usec = na, .window = window, .now_usec = NOW,
                .windows = w, .n_windows = n,
        };
        uint64_t a = 12345, b = 12345;
        int err = 1;
        ScheduleError e;

        e = schedule_check_times(&req, &a, &b, &err);
        if (e == SCHEDULE_WINDOW_FAILED)
                check(err < 0);
        else
                check(err == 0);
        if (e != SCHEDULE_OK)
                check(a == 12345 && b == 12345);  /* nothing handed back on an error */
        if (ret_nb)
                *ret_nb = a;
        if (ret_na)
                *ret_na = b;
        return e;
}

static void test_explicit(void) {
        uint64_t nb, na;

        check(times(0, 0, false, NULL, 0, &nb, &na) == SCHEDULE_OK && nb == 0 && na == 0);
        check(times(NOW + DAY, NOW + 2 * DAY, false, NULL, 0, &nb, &na) == SCHEDULE_OK);
        check(nb == NOW + DAY && na == NOW + 2 * DAY);
        /* deadline */
        check(times(0, NOW, false, NULL, 0, NULL, NULL) == SCHEDULE_DEADLINE_PASSED);
        check(times(0, NOW - 1, false, NULL, 0, NULL, NULL) == SCHEDULE_DEADLINE_PASSED);
        check(times(0, NOW + 1, false, NULL, 0, NULL, NULL) == SCHEDULE_OK);
        check(times(NOW + DAY, NOW + DAY, false, NULL, 0, NULL, NULL) == SCHEDULE_DEADLINE_BEFORE_START);
        check(times(NOW + DAY, NOW + DAY - 1, false, NULL, 0, NULL, NULL) == SCHEDULE_DEADLINE_BEFORE_START);
        /* one-year cap: 366 days is fine, one µs more is not */
        check(times(NOW + SCHEDULE_MAX_AHEAD_USEC, 0, false, NULL, 0, NULL, NULL) == SCHEDULE_OK);
        check(times(NOW + SCHEDULE_MAX_AHEAD_USEC + 1, 0, false, NULL, 0, NULL, NULL) == SCHEDULE_TOO_FAR_AHEAD);
        /* a start in the past is "as soon as possible" */
        check(times(1, 0, false, NULL, 0, NULL, NULL) == SCHEDULE_OK);
}

static void test_range(void) {
        /* The figures from the issue: 2^64-1, 2^63, and year 10000. Each was acknowledged and then
         * dropped at the next start; now refused, while the last time the file holds is fine. */
        check(times(0, UINT64_MAX, false, NULL, 0, NULL, NULL) == SCHEDULE_OUT_OF_RANGE);
        check(times(0, UINT64_C(1) << 63, false, NULL, 0, NULL, NULL) == SCHEDULE_OUT_OF_RANGE);
        check(times(0, UINT64_C(253402300800) * USEC_PER_SEC, false, NULL, 0, NULL, NULL) == SCHEDULE_OUT_OF_RANGE);
        check(times(0, JOB_USEC_MAX + 1, false, NULL, 0, NULL, NULL) == SCHEDULE_OUT_OF_RANGE);
        check(times(0, JOB_USEC_MAX, false, NULL, 0, NULL, NULL) == SCHEDULE_OK);
        check(times(UINT64_MAX, 0, false, NULL, 0, NULL, NULL) == SCHEDULE_OUT_OF_RANGE);
        check(JOB_USEC_MAX == UINT64_C(253402300799000000));
        check(schedule_time_valid(JOB_USEC_MAX) && !schedule_time_valid(JOB_USEC_MAX + 1));
}

static void test_window(void) {
        MaintenanceWindow w;
        uint64_t nb, na;
        char *why = NULL;

        check(times(0, 0, true, NULL, 0, NULL, NULL) == SCHEDULE_NO_WINDOW);
        check(window_parse("daily 02:00-04:00 UTC", &w, &why) == 0);
        check(times(NOW + DAY, 0, true, &w, 1, NULL, NULL) == SCHEDULE_WINDOW_AND_TIMES);
        check(times(0, NOW + DAY, true, &w, 1, NULL, NULL) == SCHEDULE_WINDOW_AND_TIMES);
        check(times(0, 0, true, &w, 1, &nb, &na) == SCHEDULE_OK);
        check(nb >= NOW && na > nb && na - nb <= 2 * 3600 * USEC_PER_SEC && nb - NOW < DAY);
        check((nb / USEC_PER_SEC) % 86400 == 2 * 3600 || nb == NOW);
}

static void test_capacity(void) {
        check(schedule_check_capacity(0) == SCHEDULE_OK);
        check(schedule_check_capacity(JOBS_MAX_PENDING - 1) == SCHEDULE_OK);
        check(schedule_check_capacity(JOBS_MAX_PENDING) == SCHEDULE_TOO_MANY);
        check(schedule_check_capacity(SIZE_MAX) == SCHEDULE_TOO_MANY);
}

static void test_strings(void) {
        for (int e = 0; e < _SCHEDULE_ERROR_MAX; e++)
                check(strlen(schedule_error_to_string((ScheduleError) e)) > 10);
        check(strlen(schedule_error_to_string(_SCHEDULE_ERROR_MAX)) > 0);
}

/* What the rules accept, the state file reads back: a job made with the largest times loads. */
static void test_roundtrip(void) {
        _cleanup_(job_freep) Job *j = job_new(), *back = NULL;
        json_object *o;
        char *why = NULL;

        check(j);
        j->id = 1;
        strcpy(j->payload, "pkg");
        memset(j->sha256, 'a', 64);
        j->not_before_usec = NOW + SCHEDULE_MAX_AHEAD_USEC;
        j->not_after_usec = JOB_USEC_MAX;
        j->created_usec = NOW;
        o = job_to_json(j);
        check(job_from_json(o, &back, &why) == 0);
        check(back->not_after_usec == JOB_USEC_MAX);
        json_object_put(o);
        j->not_after_usec = JOB_USEC_MAX + 1;
        o = job_to_json(j);
        check(job_from_json(o, &back, &why) < 0);
        free(why);
        json_object_put(o);
}

int main(void) {
        test_explicit();
        test_range();
        test_window();
        test_capacity();
        test_strings();
        test_roundtrip();
        check_done("test-sfs-schedule");
        return 0;
}
