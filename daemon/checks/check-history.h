/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The check history, kept in state.json under "checks" (owned by the PSP area):
 *   {"last": {"<id>": "<result>", …},
 *    "history": [{"time": <usec since the epoch>, "id": "…", "old": "…", "new": "…"}, …]}
 * "last" lets a change across a restart be noticed. The history keeps the newest
 * CHECK_HISTORY_MAX entries. */

#include <json-c/json.h>

#include "checks.h"

#define CHECK_HISTORY_MAX 200

typedef struct CheckChange {
        const char *id;         /* points into the CheckList */
        const char *old_result;
        const char *new_result;
} CheckChange;

/* Compares l with section["last"], appends one history entry per changed check, trims the
 * history, and updates "last". The first run (no "last") records nothing. Returns the number
 * of changes; *ret (may be NULL) gets them (free() it). Malformed entries found in section are
 * dropped and counted in *ret_dropped. */
int check_history_apply(json_object *section, const CheckList *l, uint64_t now_usec,
                        CheckChange **ret, size_t *ret_dropped);

/* Validates one history entry; 0 and the fields, or -EBADMSG. */
int check_history_entry(json_object *e, uint64_t *ret_time, const char **ret_id,
                        const char **ret_old, const char **ret_new);
