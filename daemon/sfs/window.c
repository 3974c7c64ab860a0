/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <stdarg.h>
#include <pthread.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "fileio.h"
#include "window.h"

static const char * const day_names[7] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };

static int reason(char **ret_reason, const char *fmt, ...) _printf_(2, 3);
static int reason(char **ret_reason, const char *fmt, ...) {
        va_list ap;

        if (!ret_reason)
                return -EINVAL;
        va_start(ap, fmt);
        if (vasprintf(ret_reason, fmt, ap) < 0)
                *ret_reason = NULL;
        va_end(ap);
        return -EINVAL;
}

static int day_from_string(const char *s, size_t n) {
        if (n != 3)
                return -EINVAL;
        for (int i = 0; i < 7; i++)
                if (strncasecmp(s, day_names[i], 3) == 0)
                        return i;
        return -EINVAL;
}

static int parse_days(const char *s, uint8_t *ret) {
        uint8_t days = 0;
        const char *p = s;

        if (strcasecmp(s, "daily") == 0 || streq(s, "*")) {
                *ret = 0x7f;
                return 0;
        }
        while (*p) {
                size_t n = strcspn(p, ",");
                const char *dash = memchr(p, '-', n);
                int a, b;

                if (dash) {
                        a = day_from_string(p, (size_t) (dash - p));
                        b = day_from_string(dash + 1, n - (size_t) (dash - p) - 1);
                } else
                        a = b = day_from_string(p, n);
                if (a < 0 || b < 0)
                        return -EINVAL;
                for (int d = a;; d = (d + 1) % 7) {
                        days |= (uint8_t) (1U << d);
                        if (d == b)
                                break;
                }
                p += n;
                if (*p == ',') {
                        p++;
                        if (!*p)
                                return -EINVAL;
                }
        }
        if (days == 0)
                return -EINVAL;
        *ret = days;
        return 0;
}

static int parse_hhmm(const char *s, size_t n, bool allow_24, uint16_t *ret) {
        unsigned h, m;

        if (n != 5 || !isdigit((unsigned char) s[0]) || !isdigit((unsigned char) s[1]) || s[2] != ':' ||
            !isdigit((unsigned char) s[3]) || !isdigit((unsigned char) s[4]))
                return -EINVAL;
        h = (unsigned) (s[0] - '0') * 10 + (unsigned) (s[1] - '0');
        m = (unsigned) (s[3] - '0') * 10 + (unsigned) (s[4] - '0');
        if (m > 59 || h > 24 || (h == 24 && (m != 0 || !allow_24)))
                return -EINVAL;
        *ret = (uint16_t) (h * 60 + m);
        return 0;
}

bool window_zone_valid(const char *zone) {
        _cleanup_free_ char *p = NULL;
        const char *dir = getenv("TZDIR");
        struct stat st;

        if (isempty(zone) || strlen(zone) >= WINDOW_ZONE_MAX)
                return false;
        if (streq(zone, "UTC"))
                return true;
        if (zone[0] == '/' || strstr(zone, ".."))
                return false;
        for (const char *c = zone; *c; c++)
                if (!(isalnum((unsigned char) *c) || strchr("/_+-", *c)))
                        return false;
        p = path_join(isempty(dir) ? "/usr/share/zoneinfo" : dir, zone);
        return p && stat(p, &st) >= 0 && S_ISREG(st.st_mode);
}

int window_parse(const char *s, MaintenanceWindow *ret, char **ret_reason) {
        _cleanup_free_ char *copy = NULL;
        char *save = NULL, *days, *times, *zone, *extra, *dash;
        MaintenanceWindow w = {};

        if (ret_reason)
                *ret_reason = NULL;
        copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        days = strtok_r(copy, " \t", &save);
        times = strtok_r(NULL, " \t", &save);
        zone = strtok_r(NULL, " \t", &save);
        extra = strtok_r(NULL, " \t", &save);
        if (!days || !times || !zone || extra)
                return reason(ret_reason, "\"%s\" is not of the form DAYS HH:MM-HH:MM ZONE "
                              "(e.g. \"Sat,Sun 02:00-04:00 Europe/Berlin\")", s);
        if (parse_days(days, &w.days) < 0)
                return reason(ret_reason, "\"%s\" is not a list of days (Mon..Sun, ranges like Mon-Fri, or daily)", days);
        dash = strchr(times, '-');
        if (!dash || parse_hhmm(times, (size_t) (dash - times), false, &w.start_min) < 0 ||
            parse_hhmm(dash + 1, strlen(dash + 1), true, &w.end_min) < 0)
                return reason(ret_reason, "\"%s\" is not a time range HH:MM-HH:MM", times);
        if (w.start_min == w.end_min)
                return reason(ret_reason, "\"%s\" starts and ends at the same time", times);
        if (!window_zone_valid(zone))
                return reason(ret_reason, "\"%s\" is not a known time zone (use UTC or a name like Europe/Berlin)", zone);
        strcpy(w.zone, zone);
        *ret = w;
        return 0;
}

char *window_to_string(const MaintenanceWindow *w) {
        char days[64] = "", *s = NULL;

        if (w->days == 0x7f)
                strcpy(days, "daily");
        else
                for (int i = 1; i <= 7; i++)  /* Monday first */
                        if (w->days & (1U << (i % 7))) {
                                if (days[0])
                                        strcat(days, ",");
                                strcat(days, day_names[i % 7]);
                        }
        if (asprintf(&s, "%s %02u:%02u-%02u:%02u %s", days, w->start_min / 60U, w->start_min % 60U,
                     w->end_min / 60U, w->end_min % 60U, w->zone) < 0)
                return NULL;
        return s;
}

/* The C library only converts local time in the process's TZ, so the zone is switched around
 * each computation, under a lock, and put back. Nothing else in hwsecd uses local time. */
static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct TzSaved {
        char *old;
        bool had;
} TzSaved;

static void tz_enter(const char *zone, TzSaved *s) {
        const char *o;

        pthread_mutex_lock(&tz_lock);
        o = getenv("TZ");
        s->had = o != NULL;
        s->old = o ? strdup(o) : NULL;
        setenv("TZ", streq(zone, "UTC") ? "UTC0" : zone, 1);
        tzset();
}

static void tz_leave(TzSaved *s) {
        if (s->had && s->old)
                setenv("TZ", s->old, 1);
        else
                unsetenv("TZ");
        free(s->old);
        tzset();
        pthread_mutex_unlock(&tz_lock);
}

/* Local date (y, m, d) + minutes -> epoch seconds, DST resolved as documented. */
static time_t local_to_epoch(int year, int mon, int mday, unsigned minutes) {
        struct tm tm = {
                .tm_year = year, .tm_mon = mon, .tm_mday = mday + (int) (minutes / 1440U),
                .tm_hour = (int) (minutes % 1440U) / 60, .tm_min = (int) (minutes % 60U), .tm_isdst = -1,
        };
        struct tm want = tm;
        time_t t = mktime(&tm);

        /* In a skipped hour glibc may move either way; use the first existing time after the
         * requested one: step minute by minute from an hour before until the wall clock is at
         * or after the requested time. */
        if (tm.tm_hour != want.tm_hour || tm.tm_min != want.tm_min) {
                time_t probe = t - 3600;
                struct tm lt;
                for (int i = 0; i < 180; i++, probe += 60) {
                        localtime_r(&probe, &lt);
                        if (lt.tm_mday != tm.tm_mday)
                                continue;
                        if (lt.tm_hour * 60 + lt.tm_min >= want.tm_hour * 60 + want.tm_min) {
                                t = probe;
                                break;
                        }
                }
        } else {
                /* In a repeated hour prefer the first (earlier) occurrence. */
                time_t earlier = t - 3600;
                struct tm lt;
                localtime_r(&earlier, &lt);
                if (lt.tm_hour == want.tm_hour && lt.tm_min == want.tm_min && lt.tm_mday == tm.tm_mday)
                        t = earlier;
        }
        return t;
}

static void window_next_one(const MaintenanceWindow *w, time_t now, time_t *best_start, time_t *best_end) {
        struct tm today;

        localtime_r(&now, &today);
        for (int d = -1; d <= 8; d++) {
                struct tm day = { .tm_year = today.tm_year, .tm_mon = today.tm_mon,
                                  .tm_mday = today.tm_mday + d, .tm_hour = 12, .tm_isdst = -1 };
                time_t s, e;

                (void) mktime(&day);  /* normalise the date, get the weekday */
                if (!(w->days & (1U << day.tm_wday)))
                        continue;
                s = local_to_epoch(day.tm_year, day.tm_mon, day.tm_mday, w->start_min);
                e = local_to_epoch(day.tm_year, day.tm_mon, day.tm_mday,
                                   w->end_min > w->start_min ? w->end_min : w->end_min + 1440U);
                if (e <= now || e <= s)
                        continue;
                if (s < now)
                        s = now;
                if (*best_start < 0 || s < *best_start || (s == *best_start && e > *best_end)) {
                        *best_start = s;
                        *best_end = e;
                }
        }
}

int window_next(const MaintenanceWindow *w, size_t n, uint64_t now_usec, uint64_t *ret_start, uint64_t *ret_end) {
        time_t now = (time_t) (now_usec / USEC_PER_SEC), best_start = -1, best_end = -1;
        uint64_t s, e;

        if (n == 0)
                return -ENOENT;
        for (size_t i = 0; i < n; i++) {
                TzSaved saved;
                tz_enter(w[i].zone, &saved);
                window_next_one(&w[i], now, &best_start, &best_end);
                tz_leave(&saved);
        }
        if (best_start < 0)
                return -ENOENT;
        s = (uint64_t) best_start * USEC_PER_SEC;
        e = (uint64_t) best_end * USEC_PER_SEC;
        *ret_start = s <= now_usec ? now_usec : s;
        *ret_end = e;
        return 0;
}
