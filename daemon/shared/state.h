/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* state.json: everything hwsecd must not lose (ASID policy, firmware jobs and history, check
 * history). One JSON object; each area owns one top-level key:
 *   "version": 1
 *   "asid":     owned by daemon/asid
 *   "firmware": owned by daemon/sfs
 *   "checks":   owned by daemon/checks
 *   "psp":      owned by daemon/psp (last_commit_usec)
 * Writes are atomic (temp file, fsync, rename, fsync dir). A file that does not parse is moved
 * aside as state.json.corrupt-<UTC timestamp> and reported; the daemon then starts empty. */

#include "json-util.h"

#define STATE_FILE_NAME "state.json"
#define STATE_VERSION 1
#define STATE_MAX_SIZE (16U * 1024U * 1024U)


/* Parses state text. Returns 0 and a new object on success, -EBADMSG with *ret_reason set when
 * the text is not a state document we understand. */
int state_parse(const char *text, size_t size, json_object **ret, char **ret_reason);

/* Loads dir/state.json. A missing file gives an empty state (version only). A corrupt one is
 * renamed aside; then *ret_problem says what happened and where the file went, and the result
 * is an empty state. Other I/O errors are returned. */
int state_load(const char *dir, json_object **ret, char **ret_problem);

/* Moves dir/state.json aside (used when an area finds entries it cannot trust after parsing).
 * Returns the new path in *ret_path. */
int state_set_aside(const char *dir, char **ret_path);

int state_save(const char *dir, json_object *root);

/* Helpers for areas: get or create a child object of root. */
json_object *state_section(json_object *root, const char *key);
