/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Maintenance window syntax and the next-window computation, across midnight and DST. */

#include <time.h>

#include "window.h"
#include "test-sfs-util.h"

static uint64_t utc(int y, int mo, int d, int h, int mi) {
        struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi };
        return (uint64_t) timegm(&tm) * 1000000ULL;
}

static MaintenanceWindow parse_ok(const char *s, const char *canonical) {
        MaintenanceWindow w;
        char *why = NULL, *t;

        if (window_parse(s, &w, &why) != 0) {
                fprintf(stderr, "parse of \"%s\" failed: %s\n", s, why);
                exit(EXIT_FAILURE);
        }
        t = window_to_string(&w);
        check_streq(t, canonical);
        free(t);
        return w;
}

static void parse_bad(const char *s) {
        MaintenanceWindow w;
        char *why = NULL;

        check(window_parse(s, &w, &why) == -EINVAL);
        check(why && strlen(why) > 10);
        free(why);
}

static void test_parse(void) {
        MaintenanceWindow w;

        w = parse_ok("Sat,Sun 02:00-04:00 Europe/Berlin", "Sat,Sun 02:00-04:00 Europe/Berlin");
        check(w.days == ((1U << 6) | 1U));
        check(w.start_min == 120 && w.end_min == 240);
        parse_ok("mon-fri 22:00-02:00 UTC", "Mon,Tue,Wed,Thu,Fri 22:00-02:00 UTC");
        parse_ok("Fri-Mon 00:00-24:00 UTC", "Mon,Fri,Sat,Sun 00:00-24:00 UTC");
        parse_ok("daily 03:15-03:45 America/New_York", "daily 03:15-03:45 America/New_York");
        parse_ok("* 03:15-03:45 UTC", "daily 03:15-03:45 UTC");
        parse_ok("Sun,Sun,Wed 23:59-00:01 UTC", "Wed,Sun 23:59-00:01 UTC");

        parse_bad("Sat 02:00-02:00 UTC");
        parse_bad("Sat 25:00-26:00 UTC");
        parse_bad("Sat 24:00-01:00 UTC");
        parse_bad("Sat 02:60-03:00 UTC");
        parse_bad("Sat 2:00-3:00 UTC");
        parse_bad("Xyz 01:00-02:00 UTC");
        parse_bad("Sat, 01:00-02:00 UTC");
        parse_bad("Sat 01:00-02:00");
        parse_bad("Sat 01:00-02:00 UTC extra");
        parse_bad("Sat 01:00 UTC");
        parse_bad("Sat 01:00-02:00 Mars/Phobos");
        parse_bad("Sat 01:00-02:00 ../../etc/passwd");
        parse_bad("Sat 01:00-02:00 /etc/localtime");
        parse_bad("Sat 01:00-02:00 Europe");     /* a directory, not a zone */
        parse_bad("");
}

static void next_is(const char *spec, uint64_t now, uint64_t want_start, uint64_t want_end) {
        MaintenanceWindow w;
        uint64_t s, e;
        char *why = NULL;

        check(window_parse(spec, &w, &why) == 0);
        check(window_next(&w, 1, now, &s, &e) == 0);
        if (s != want_start || e != want_end) {
                fprintf(stderr, "%s: got %llu-%llu, want %llu-%llu\n", spec, (unsigned long long) s,
                        (unsigned long long) e, (unsigned long long) want_start, (unsigned long long) want_end);
                exit(EXIT_FAILURE);
        }
}

static void test_next(void) {
        /* Wednesday 2026-11-18. */
        uint64_t wed = utc(2026, 11, 18, 10, 0);
        MaintenanceWindow ws[2];
        uint64_t s, e;
        char *why = NULL;

        next_is("Sat,Sun 02:00-04:00 UTC", wed, utc(2026, 11, 21, 2, 0), utc(2026, 11, 21, 4, 0));
        /* Inside a window: starts now. */
        next_is("Sat,Sun 02:00-04:00 UTC", utc(2026, 11, 21, 3, 0) + 123, utc(2026, 11, 21, 3, 0) + 123,
                utc(2026, 11, 21, 4, 0));
        /* Just after Saturday's window: Sunday's. */
        next_is("Sat,Sun 02:00-04:00 UTC", utc(2026, 11, 21, 4, 0), utc(2026, 11, 22, 2, 0), utc(2026, 11, 22, 4, 0));
        /* Today, later. */
        next_is("Wed 12:00-13:00 UTC", wed, utc(2026, 11, 18, 12, 0), utc(2026, 11, 18, 13, 0));
        /* Today's window is over: a week later. */
        next_is("Wed 08:00-09:00 UTC", wed, utc(2026, 11, 25, 8, 0), utc(2026, 11, 25, 9, 0));

        /* Across midnight: Friday 23:00 to Saturday 01:00, seen from inside it on Saturday. */
        next_is("Fri 23:00-01:00 UTC", utc(2026, 11, 21, 0, 30), utc(2026, 11, 21, 0, 30), utc(2026, 11, 21, 1, 0));
        next_is("Fri 23:00-01:00 UTC", utc(2026, 11, 21, 1, 30), utc(2026, 11, 27, 23, 0), utc(2026, 11, 28, 1, 0));
        next_is("Fri 23:00-01:00 UTC", wed, utc(2026, 11, 20, 23, 0), utc(2026, 11, 21, 1, 0));
        next_is("Sun 22:00-24:00 UTC", wed, utc(2026, 11, 22, 22, 0), utc(2026, 11, 23, 0, 0));

        /* Time zones: Berlin is UTC+1 in November, UTC+2 in July. */
        next_is("Sat 02:00-04:00 Europe/Berlin", wed, utc(2026, 11, 21, 1, 0), utc(2026, 11, 21, 3, 0));
        next_is("Sat 02:00-04:00 Europe/Berlin", utc(2026, 7, 15, 12, 0), utc(2026, 7, 18, 0, 0), utc(2026, 7, 18, 2, 0));
        /* Berlin's Saturday window seen on Friday 23:30 UTC (already Saturday 00:30 local). */
        next_is("Sat 00:00-01:00 Europe/Berlin", utc(2026, 11, 20, 23, 30), utc(2026, 11, 20, 23, 30), utc(2026, 11, 21, 0, 0));

        /* DST starts in Berlin on Sunday 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00 UTC).
         * 02:30 does not exist: the window starts at 03:00 CEST. */
        next_is("Sun 02:30-03:30 Europe/Berlin", utc(2026, 3, 28, 12, 0), utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 1, 30));
        /* A window across the change: 01:00 CET (00:00 UTC) to 04:00 CEST (02:00 UTC): 2 real hours. */
        next_is("Sun 01:00-04:00 Europe/Berlin", utc(2026, 3, 28, 12, 0), utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 2, 0));
        /* DST ends on Sunday 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00 UTC). 02:30 happens
         * twice; the first (CEST, 00:30 UTC) is used. 03:30 CET is 02:30 UTC. */
        next_is("Sun 02:30-03:30 Europe/Berlin", utc(2026, 10, 24, 12, 0), utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 2, 30));
        /* New York, DST ends 2026-11-01 at 02:00 EDT; a window across midnight on Saturday night:
         * 23:00 EDT (03:00 UTC Sunday) to 03:00 EST (08:00 UTC). */
        next_is("Sat 23:00-03:00 America/New_York", utc(2026, 10, 30, 12, 0), utc(2026, 11, 1, 3, 0), utc(2026, 11, 1, 8, 0));

        /* Several windows: the earliest wins. */
        check(window_parse("Sun 02:00-04:00 UTC", &ws[0], &why) == 0);
        check(window_parse("Thu 20:00-21:00 Europe/Berlin", &ws[1], &why) == 0);
        check(window_next(ws, 2, wed, &s, &e) == 0);
        check(s == utc(2026, 11, 19, 19, 0) && e == utc(2026, 11, 19, 20, 0));
        check(window_next(ws, 0, wed, &s, &e) == -ENOENT);

        /* The process's own TZ is left alone. */
        setenv("TZ", "Asia/Tokyo", 1);
        check(window_next(ws, 2, wed, &s, &e) == 0);
        check_streq(getenv("TZ"), "Asia/Tokyo");
        unsetenv("TZ");
        check(window_next(ws, 2, wed, &s, &e) == 0);
        check(getenv("TZ") == NULL);
}

int main(void) {
        test_parse();
        test_next();
        check_done("test-sfs-window");
        return 0;
}
