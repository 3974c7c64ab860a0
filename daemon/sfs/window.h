/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Maintenance windows ([Firmware] MaintenanceWindow=, may repeat):
 *
 *     MaintenanceWindow=DAYS HH:MM-HH:MM ZONE
 *
 * DAYS is "daily" (or "*"), or a comma list of Mon Tue Wed Thu Fri Sat Sun (case-insensitive)
 * and ranges of them ("Mon-Fri", "Fri-Mon" wraps). The times are wall-clock times in ZONE, "UTC"
 * or an IANA name such as Europe/Berlin. An end at or before the start crosses midnight; the
 * window belongs to the day it starts on. "24:00" is allowed as an end. Start and end may not
 * be equal. Across DST changes, a start or end in a skipped hour moves to the first existing
 * time after it; in a repeated hour the first occurrence is used. */

#include <stdint.h>

#include "macro.h"

#define WINDOW_ZONE_MAX 64U

typedef struct MaintenanceWindow {
        uint8_t days;                  /* bit n = tm_wday n (0 = Sunday) */
        uint16_t start_min, end_min;   /* minutes after local midnight, end may be 1440 */
        char zone[WINDOW_ZONE_MAX];
} MaintenanceWindow;

/* Parses one value. On error returns -EINVAL with *ret_reason set to a sentence. */
int window_parse(const char *s, MaintenanceWindow *ret, char **ret_reason);
/* Canonical text ("Sat,Sun 02:00-04:00 Europe/Berlin"). */
char *window_to_string(const MaintenanceWindow *w);

/* The earliest window (of n) that has not ended at now_usec (CLOCK_REALTIME µs). If one is open
 * now, *ret_start is now_usec. Returns -ENOENT if n == 0. */
int window_next(const MaintenanceWindow *w, size_t n, uint64_t now_usec, uint64_t *ret_start, uint64_t *ret_end);

/* True when a zone name is "UTC" or a file under the zoneinfo directory ($TZDIR or
 * /usr/share/zoneinfo) with a safe name. */
bool window_zone_valid(const char *zone);
