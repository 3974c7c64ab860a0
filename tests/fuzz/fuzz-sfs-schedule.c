/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer: the scheduling rules. Input: not_before (8 bytes LE), not_after (8), now (8), a
 * flags byte (bit 0: Window) and the rest as a MaintenanceWindow= value. Whatever is accepted
 * must be a job the state file reads back, within the rules. */

#include "schedule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t le64(const uint8_t *p) {
        uint64_t v = 0;

        for (int i = 7; i >= 0; i--)
                v = (v << 8) | p[i];
        return v;
}

static void check_loads(uint64_t nb, uint64_t na, uint64_t now) {
        _cleanup_(job_freep) Job *j = job_new(), *back = NULL;
        _cleanup_free_ char *why = NULL;
        json_object *o;

        if (!j)
                return;
        j->id = 1;
        strcpy(j->payload, "pkg");
        memset(j->sha256, 'a', 64);
        j->not_before_usec = nb;
        j->not_after_usec = na;
        j->created_usec = now;
        o = job_to_json(j);
        if (!o)
                return;
        if (job_from_json(o, &back, &why) < 0)
                abort();  /* acknowledged, then dropped at the next start */
        if (back->not_before_usec != nb || back->not_after_usec != na)
                abort();
        json_object_put(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = NULL, *why = NULL;
        ScheduleRequest req = {};
        MaintenanceWindow w;
        uint64_t nb = 0, na = 0;
        ScheduleError e;
        int err;

        if (size < 25)
                return 0;
        req.not_before_usec = le64(data);
        req.not_after_usec = le64(data + 8);
        req.now_usec = le64(data + 16);
        req.window = data[24] & 1;
        text = strndup((const char *) data + 25, size - 25);
        if (!text)
                return 0;
        if (size > 25 && window_parse(text, &w, &why) == 0) {
                req.windows = &w;
                req.n_windows = 1;
        }
        e = schedule_check_times(&req, &nb, &na, &err);
        if ((unsigned) e >= _SCHEDULE_ERROR_MAX || !schedule_error_to_string(e))
                abort();
        if ((e == SCHEDULE_WINDOW_FAILED) != (err < 0))
                abort();
        if (e != SCHEDULE_OK)
                return 0;
        if (!schedule_time_valid(nb) || !schedule_time_valid(na) || !schedule_time_valid(req.now_usec))
                abort();
        if (na != 0 && (na <= req.now_usec || (nb != 0 && na <= nb)))
                abort();
        if (nb > req.now_usec && nb - req.now_usec > SCHEDULE_MAX_AHEAD_USEC)
                abort();
        if (!req.window && (nb != req.not_before_usec || na != req.not_after_usec))
                abort();
        check_loads(nb, na, req.now_usec);
        return 0;
}
