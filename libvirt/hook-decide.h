/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What both halves of the hook share (no sd-bus, no libxml2): the [libvirt] settings of
 * hwsecd.conf, the stderr lines libvirt keeps in its log, and the final decision. */

#include "hook-rules.h"

#define HOOK_TIMEOUT_DEFAULT_SEC 10U
#define HOOK_TIMEOUT_MAX_SEC 300U

typedef enum Unreachable {
        UNREACHABLE_ALLOW,
        UNREACHABLE_DENY,
} Unreachable;

typedef struct HookConfig {
        Unreachable unreachable;
        unsigned timeout_sec;
        char *path;
} HookConfig;

/* [libvirt] unreachable=allow|deny (default allow), timeout=SECONDS (default 10), from
 * hwsecd.conf in the configuration directory. A file that does not parse, or a bad value, is a
 * warning and the default. -ENOMEM only. */
int hook_config_load(HookConfig *c);
void hook_config_done(HookConfig *c);

/* The guest name every line carries (control characters shown as '?'). */
void hook_set_guest(const char *name);

/* "hwsecd: guest 'NAME': WHAT: ..." on stderr. */
void say(const char *what, const char *fmt, ...) _printf_(2, 3);
void say_all(const char *what, char **lines);

/* Prints the judgement and returns the exit code: 1 when refused (or hwsecd could not answer
 * and [libvirt] unreachable=deny), else 0. */
int decide(const HookConfig *c, Judgement *j);
