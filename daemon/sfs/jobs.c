/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdarg.h>

#include "fileio.h"
#include "jobs.h"

static const char * const job_state_table[_JOB_STATE_MAX] = {
        [JOB_SCHEDULED] = "scheduled",
        [JOB_RUNNING] = "running",
        [JOB_SUCCEEDED] = "succeeded",
        [JOB_FAILED] = "failed",
        [JOB_CANCELLED] = "cancelled",
        [JOB_EXPIRED] = "expired",
        [JOB_INTERRUPTED] = "interrupted",
};

const char *job_state_to_string(JobState s) {
        if ((unsigned) s >= _JOB_STATE_MAX)
                return NULL;
        return job_state_table[s];
}

JobState job_state_from_string(const char *s) {
        if (!s)
                return _JOB_STATE_INVALID;
        for (int i = 0; i < _JOB_STATE_MAX; i++)
                if (streq(job_state_table[i], s))
                        return (JobState) i;
        return _JOB_STATE_INVALID;
}

Job *job_new(void) {
        return calloc(1, sizeof(Job));
}

void job_versions_done(JobVersions *v) {
        for (size_t i = 0; i < v->n_strings; i++)
                free(v->strings[i].text);
        free(v->strings);
        *v = (JobVersions) {};
}

Job *job_free(Job *j) {
        if (!j)
                return NULL;
        free(j->result);
        job_versions_done(&j->before);
        job_versions_done(&j->after);
        return mfree(j);
}

static int versions_add_string(JobVersions *v, uint32_t offset, const char *text) {
        SfsString *t = realloc(v->strings, (v->n_strings + 1) * sizeof *t);

        if (!t)
                return -ENOMEM;
        v->strings = t;
        t[v->n_strings].offset = offset;
        t[v->n_strings].text = strdup(text);
        if (!t[v->n_strings].text)
                return -ENOMEM;
        v->n_strings++;
        return 0;
}

int job_versions_from_sfs(JobVersions *v, const SfsVersions *s) {
        job_versions_done(v);
        v->valid = true;
        strcpy(v->sha256, s->sha256);
        v->written_size = s->written_size;
        for (size_t i = 0; i < s->n_strings; i++)
                if (versions_add_string(v, s->strings[i].offset, s->strings[i].text) < 0)
                        return -ENOMEM;
        return 0;
}

int job_versions_copy(JobVersions *dst, const JobVersions *src) {
        job_versions_done(dst);
        dst->valid = src->valid;
        strcpy(dst->sha256, src->sha256);
        dst->written_size = src->written_size;
        for (size_t i = 0; i < src->n_strings; i++)
                if (versions_add_string(dst, src->strings[i].offset, src->strings[i].text) < 0)
                        return -ENOMEM;
        return 0;
}

int job_set_result(Job *j, const char *fmt, ...) {
        va_list ap;
        char *s;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        free(j->result);
        j->result = s;
        return 0;
}

void job_list_done(JobList *l) {
        for (size_t i = 0; i < l->n_jobs; i++)
                job_free(l->jobs[i]);
        for (size_t i = 0; i < l->n_history; i++)
                job_free(l->history[i]);
        free(l->jobs);
        free(l->history);
        *l = (JobList) {};
}

static int array_append(Job ***a, size_t *n, Job *j) {
        Job **t = realloc(*a, (*n + 1) * sizeof(Job *));
        if (!t)
                return -ENOMEM;
        t[(*n)++] = j;
        *a = t;
        return 0;
}

int job_list_add(JobList *l, Job *j) {
        if (l->next_id == 0)
                l->next_id = 1;
        if (l->next_id == UINT32_MAX)
                return -ERANGE;
        j->id = l->next_id;
        if (array_append(&l->jobs, &l->n_jobs, j) < 0)
                return -ENOMEM;
        l->next_id++;
        return 0;
}

Job *job_list_find(const JobList *l, uint32_t id) {
        for (size_t i = 0; i < l->n_jobs; i++)
                if (l->jobs[i]->id == id)
                        return l->jobs[i];
        for (size_t i = 0; i < l->n_history; i++)
                if (l->history[i]->id == id)
                        return l->history[i];
        return NULL;
}

int job_list_finish(JobList *l, Job *j, uint32_t **dropped, size_t *n_dropped) {
        size_t i;

        for (i = 0; i < l->n_jobs; i++)
                if (l->jobs[i] == j)
                        break;
        if (i >= l->n_jobs)
                return -ENOENT;
        if (array_append(&l->history, &l->n_history, j) < 0)
                return -ENOMEM;
        memmove(l->jobs + i, l->jobs + i + 1, (l->n_jobs - i - 1) * sizeof(Job *));
        l->n_jobs--;
        while (l->n_history > JOBS_HISTORY_MAX) {
                Job *old = l->history[0];
                if (dropped) {
                        uint32_t *t = realloc(*dropped, (*n_dropped + 1) * sizeof(uint32_t));
                        if (t) {
                                t[(*n_dropped)++] = old->id;
                                *dropped = t;
                        }
                }
                job_free(old);
                memmove(l->history, l->history + 1, (l->n_history - 1) * sizeof(Job *));
                l->n_history--;
        }
        return 0;
}

int job_list_unfinish(JobList *l, Job *j) {
        size_t i, k;

        for (i = 0; i < l->n_history; i++)
                if (l->history[i] == j)
                        break;
        if (i >= l->n_history)
                return -ENOENT;
        if (array_append(&l->jobs, &l->n_jobs, j) < 0)
                return -ENOMEM;
        memmove(l->history + i, l->history + i + 1, (l->n_history - i - 1) * sizeof(Job *));
        l->n_history--;
        /* Keep id order: move it from the end to its place. */
        for (k = l->n_jobs - 1; k > 0 && l->jobs[k - 1]->id > j->id; k--)
                l->jobs[k] = l->jobs[k - 1];
        l->jobs[k] = j;
        return 0;
}

size_t job_list_count_state(const JobList *l, JobState s) {
        size_t n = 0;
        for (size_t i = 0; i < l->n_jobs; i++)
                n += l->jobs[i]->state == s;
        for (size_t i = 0; i < l->n_history; i++)
                n += l->history[i]->state == s;
        return n;
}

/* ---- JSON ---- */

static void add_u64(json_object *o, const char *k, uint64_t v) {
        json_object_object_add(o, k, json_object_new_int64((int64_t) v));
}

json_object *job_versions_to_json(const JobVersions *v) {
        json_object *o = json_object_new_object(), *a;

        if (!o)
                return NULL;
        json_object_object_add(o, "valid", json_object_new_boolean(v->valid));
        if (!v->valid)
                return o;
        json_object_object_add(o, "sha256", json_object_new_string(v->sha256));
        add_u64(o, "written_size", v->written_size);
        a = json_object_new_array();
        for (size_t i = 0; a && i < v->n_strings; i++) {
                json_object *s = json_object_new_object();
                add_u64(s, "offset", v->strings[i].offset);
                json_object_object_add(s, "text", json_object_new_string(v->strings[i].text));
                json_object_array_add(a, s);
        }
        json_object_object_add(o, "strings", a);
        return o;
}

static json_object *tcb_pair_to_json(uint64_t current, uint64_t reported) {
        json_object *o = json_object_new_object();
        char buf[24];

        if (!o)
                return NULL;
        snprintf(buf, sizeof buf, "0x%016" PRIx64, current);
        json_object_object_add(o, "current", json_object_new_string(buf));
        snprintf(buf, sizeof buf, "0x%016" PRIx64, reported);
        json_object_object_add(o, "reported", json_object_new_string(buf));
        return o;
}

static json_object *job_commit_to_json(const JobCommit *c) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "attempted", json_object_new_boolean(c->attempted));
        json_object_object_add(o, "committed", json_object_new_boolean(c->committed));
        json_object_object_add(o, "error", json_object_new_string(c->error));
        if (c->tcb_before_valid)
                json_object_object_add(o, "tcb_before", tcb_pair_to_json(c->current_before, c->reported_before));
        if (c->tcb_after_valid)
                json_object_object_add(o, "tcb_after", tcb_pair_to_json(c->current_after, c->reported_after));
        return o;
}

json_object *job_to_json(const Job *j) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        add_u64(o, "id", j->id);
        json_object_object_add(o, "payload", json_object_new_string(j->payload));
        json_object_object_add(o, "sha256", json_object_new_string(j->sha256));
        add_u64(o, "not_before_usec", j->not_before_usec);
        add_u64(o, "not_after_usec", j->not_after_usec);
        json_object_object_add(o, "window", json_object_new_boolean(j->window));
        json_object_object_add(o, "state", json_object_new_string(job_state_to_string(j->state)));
        add_u64(o, "created_usec", j->created_usec);
        add_u64(o, "started_usec", j->started_usec);
        add_u64(o, "finished_usec", j->finished_usec);
        if (j->result)
                json_object_object_add(o, "result", json_object_new_string(j->result));
        if (j->has_status) {
                add_u64(o, "sfs_status", j->sfs_status);
                add_u64(o, "sfs_extended_status", j->sfs_extended_status);
        }
        add_u64(o, "errno", (uint64_t) j->error);
        json_object_object_add(o, "versions_before", job_versions_to_json(&j->before));
        json_object_object_add(o, "versions_after", job_versions_to_json(&j->after));
        if (j->commit.requested)
                json_object_object_add(o, "commit", job_commit_to_json(&j->commit));
        return o;
}

json_object *job_list_to_json(const JobList *l) {
        json_object *o = json_object_new_object(), *jobs, *hist;

        if (!o)
                return NULL;
        add_u64(o, "next_id", l->next_id ?: 1);
        jobs = json_object_new_array();
        for (size_t i = 0; jobs && i < l->n_jobs; i++)
                json_object_array_add(jobs, job_to_json(l->jobs[i]));
        json_object_object_add(o, "jobs", jobs);
        hist = json_object_new_array();
        for (size_t i = 0; hist && i < l->n_history; i++)
                json_object_array_add(hist, job_to_json(l->history[i]));
        json_object_object_add(o, "history", hist);
        return o;
}

static int get_u64(json_object *o, const char *key, bool required, uint64_t max, uint64_t *ret, char **ret_reason) {
        json_object *v;
        int64_t x;

        if (!json_object_object_get_ex(o, key, &v)) {
                if (required)
                        return error_message_set(ret_reason, EBADMSG, "field \"%s\" is missing", key);
                *ret = 0;
                return 0;
        }
        if (!json_object_is_type(v, json_type_int))
                return error_message_set(ret_reason, EBADMSG, "field \"%s\" is not an integer", key);
        errno = 0;
        x = json_object_get_int64(v);
        if (x < 0 || (uint64_t) x > max || errno != 0)
                return error_message_set(ret_reason, EBADMSG, "field \"%s\" is out of range", key);
        /* json-c clamps values beyond int64 to INT64_MAX; treat that as out of range too. */
        if (x == INT64_MAX)
                return error_message_set(ret_reason, EBADMSG, "field \"%s\" is out of range", key);
        *ret = (uint64_t) x;
        return 0;
}

static int get_string(json_object *o, const char *key, bool required, const char **ret, char **ret_reason) {
        json_object *v;
        const char *s;

        if (!json_object_object_get_ex(o, key, &v)) {
                if (required)
                        return error_message_set(ret_reason, EBADMSG, "field \"%s\" is missing", key);
                *ret = NULL;
                return 0;
        }
        if (!json_object_is_type(v, json_type_string))
                return error_message_set(ret_reason, EBADMSG, "field \"%s\" is not a string", key);
        s = json_object_get_string(v);
        if ((size_t) json_object_get_string_len(v) != strlen(s) || !utf8_is_valid(s))
                return error_message_set(ret_reason, EBADMSG, "field \"%s\" is not a valid UTF-8 string", key);
        if (strlen(s) > 4096)
                return error_message_set(ret_reason, EBADMSG, "field \"%s\" is too long", key);
        *ret = s;
        return 0;
}

static int versions_from_json(json_object *o, const char *key, JobVersions *v, char **ret_reason) {
        json_object *vo, *b, *a;
        const char *sha;
        uint64_t ws;
        int r;

        if (!json_object_object_get_ex(o, key, &vo))
                return 0;  /* absent: not read */
        if (!json_object_is_type(vo, json_type_object))
                return error_message_set(ret_reason, EBADMSG, "field \"%s\" is not an object", key);
        if (!json_object_object_get_ex(vo, "valid", &b) || !json_object_is_type(b, json_type_boolean))
                return error_message_set(ret_reason, EBADMSG, "field \"%s.valid\" is missing or not a boolean", key);
        if (!json_object_get_boolean(b))
                return 0;
        r = get_string(vo, "sha256", true, &sha, ret_reason);
        if (r < 0)
                return r;
        if (!sha256_hex_valid(sha))
                return error_message_set(ret_reason, EBADMSG, "field \"%s.sha256\" is not a sha256", key);
        r = get_u64(vo, "written_size", true, SFS_VERSIONS_BLOB_SIZE, &ws, ret_reason);
        if (r < 0)
                return r;
        v->valid = true;
        strcpy(v->sha256, sha);
        v->written_size = (uint32_t) ws;
        if (!json_object_object_get_ex(vo, "strings", &a))
                return 0;
        if (!json_object_is_type(a, json_type_array) || json_object_array_length(a) > SFS_MAX_STRINGS)
                return error_message_set(ret_reason, EBADMSG, "field \"%s.strings\" is not a short array", key);
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                json_object *e = json_object_array_get_idx(a, i);
                const char *text;
                uint64_t off;

                if (!json_object_is_type(e, json_type_object))
                        return error_message_set(ret_reason, EBADMSG, "field \"%s.strings\" holds a non-object", key);
                r = get_u64(e, "offset", true, SFS_VERSIONS_BLOB_SIZE - 1, &off, ret_reason);
                if (r < 0)
                        return r;
                r = get_string(e, "text", true, &text, ret_reason);
                if (r < 0)
                        return r;
                r = versions_add_string(v, (uint32_t) off, text);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int get_hex_u64(json_object *o, const char *key, uint64_t *ret, char **ret_reason) {
        const char *s;
        char *end;
        int r;

        r = get_string(o, key, true, &s, ret_reason);
        if (r < 0)
                return r;
        errno = 0;
        if (strlen(s) != 18 || s[0] != '0' || s[1] != 'x' || strspn(s + 2, "0123456789abcdef") != 16)
                return error_message_set(ret_reason, EBADMSG, "field \"%s\" is not a 0x-hex TCB value", key);
        *ret = strtoull(s, &end, 16);
        return 0;
}

static int tcb_pair_from_json(json_object *o, const char *key, bool *ret_valid, uint64_t *ret_current,
                              uint64_t *ret_reported, char **ret_reason) {
        json_object *v;
        int r;

        *ret_valid = false;
        if (!json_object_object_get_ex(o, key, &v))
                return 0;
        if (!json_object_is_type(v, json_type_object))
                return error_message_set(ret_reason, EBADMSG, "field \"%s\" is not an object", key);
        r = get_hex_u64(v, "current", ret_current, ret_reason);
        if (r >= 0)
                r = get_hex_u64(v, "reported", ret_reported, ret_reason);
        if (r < 0)
                return r;
        *ret_valid = true;
        return 0;
}

static int commit_from_json(json_object *o, JobCommit *c, char **ret_reason) {
        json_object *v, *b;
        const char *err;
        int r;

        *c = (JobCommit) {};
        if (!json_object_object_get_ex(o, "commit", &v))
                return 0;
        if (!json_object_is_type(v, json_type_object))
                return error_message_set(ret_reason, EBADMSG, "field \"%s\" is not an object", "commit");
        c->requested = true;
        if (!json_object_object_get_ex(v, "attempted", &b) || !json_object_is_type(b, json_type_boolean))
                return error_message_set(ret_reason, EBADMSG, "field \"%s\" is not a boolean", "commit.attempted");
        c->attempted = json_object_get_boolean(b);
        if (!json_object_object_get_ex(v, "committed", &b) || !json_object_is_type(b, json_type_boolean))
                return error_message_set(ret_reason, EBADMSG, "field \"%s\" is not a boolean", "commit.committed");
        c->committed = json_object_get_boolean(b);
        r = get_string(v, "error", false, &err, ret_reason);
        if (r < 0)
                return r;
        if (err && strlen(err) >= sizeof c->error)
                return error_message_set(ret_reason, EBADMSG, "field \"%s\" is too long", "commit.error");
        snprintf(c->error, sizeof c->error, "%s", strempty(err));
        r = tcb_pair_from_json(v, "tcb_before", &c->tcb_before_valid, &c->current_before, &c->reported_before, ret_reason);
        if (r < 0)
                return r;
        return tcb_pair_from_json(v, "tcb_after", &c->tcb_after_valid, &c->current_after, &c->reported_after, ret_reason);
}

int job_from_json(json_object *o, Job **ret, char **ret_reason) {
        _cleanup_(job_freep) Job *j = NULL;
        const char *payload, *sha, *state, *result;
        uint64_t id = 0, x = 0;
        json_object *v;
        int r;

        if (ret_reason)
                *ret_reason = NULL;
        if (!json_object_is_type(o, json_type_object))
                return error_message_set(ret_reason, EBADMSG, "%s", "the entry is not an object");
        j = job_new();
        if (!j)
                return -ENOMEM;

        r = get_u64(o, "id", true, UINT32_MAX - 1, &id, ret_reason);
        if (r < 0)
                return r;
        if (id == 0)
                return error_message_set(ret_reason, EBADMSG, "%s", "field \"id\" is 0");
        j->id = (uint32_t) id;

        r = get_string(o, "payload", true, &payload, ret_reason);
        if (r < 0)
                return r;
        if (payload_name_check(payload, strlen(payload)) != PAYLOAD_OK)
                return error_message_set(ret_reason, EBADMSG, "field \"%s\" is not a valid package name", "payload");
        strcpy(j->payload, payload);

        r = get_string(o, "sha256", true, &sha, ret_reason);
        if (r < 0)
                return r;
        if (!sha256_hex_valid(sha))
                return error_message_set(ret_reason, EBADMSG, "field \"%s\" is not a sha256", "sha256");
        strcpy(j->sha256, sha);

        r = get_string(o, "state", true, &state, ret_reason);
        if (r < 0)
                return r;
        j->state = job_state_from_string(state);
        if (j->state < 0)
                return error_message_set(ret_reason, EBADMSG, "field \"state\" has the unknown value \"%s\"", state);

        if ((r = get_u64(o, "not_before_usec", true, JOB_USEC_MAX, &j->not_before_usec, ret_reason)) < 0 ||
            (r = get_u64(o, "not_after_usec", true, JOB_USEC_MAX, &j->not_after_usec, ret_reason)) < 0 ||
            (r = get_u64(o, "created_usec", true, JOB_USEC_MAX, &j->created_usec, ret_reason)) < 0 ||
            (r = get_u64(o, "started_usec", false, JOB_USEC_MAX, &j->started_usec, ret_reason)) < 0 ||
            (r = get_u64(o, "finished_usec", false, JOB_USEC_MAX, &j->finished_usec, ret_reason)) < 0)
                return r;
        if (j->not_after_usec != 0 && j->not_after_usec < j->not_before_usec)
                return error_message_set(ret_reason, EBADMSG, "%s", "the deadline is before the start time");

        if (json_object_object_get_ex(o, "window", &v)) {
                if (!json_object_is_type(v, json_type_boolean))
                        return error_message_set(ret_reason, EBADMSG, "field \"%s\" is not a boolean", "window");
                j->window = json_object_get_boolean(v);
        }

        r = get_string(o, "result", false, &result, ret_reason);
        if (r < 0)
                return r;
        if (result && !(j->result = strdup(result)))
                return -ENOMEM;

        if (json_object_object_get_ex(o, "sfs_status", &v)) {
                j->has_status = true;
                r = get_u64(o, "sfs_status", true, UINT32_MAX, &x, ret_reason);
                if (r < 0)
                        return r;
                j->sfs_status = (uint32_t) x;
                r = get_u64(o, "sfs_extended_status", true, UINT32_MAX, &x, ret_reason);
                if (r < 0)
                        return r;
                j->sfs_extended_status = (uint32_t) x;
        }
        r = get_u64(o, "errno", false, 4095, &x, ret_reason);
        if (r < 0)
                return r;
        j->error = (int) x;

        r = versions_from_json(o, "versions_before", &j->before, ret_reason);
        if (r < 0)
                return r;
        r = versions_from_json(o, "versions_after", &j->after, ret_reason);
        if (r < 0)
                return r;
        r = commit_from_json(o, &j->commit, ret_reason);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(j);
        return 0;
}

static int add_problem(char ***problems, const char *fmt, ...) _printf_(2, 3);
static int add_problem(char ***problems, const char *fmt, ...) {
        va_list ap;
        char *s;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        r = strv_extend(problems, s);
        free(s);
        return r < 0 ? r : 0;
}

/* The id of a raw entry, 0 if it has none that could be a job id. */
static uint64_t raw_id(json_object *o) {
        json_object *v;
        int64_t x;

        if (json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, "id", &v) &&
            json_object_is_type(v, json_type_int)) {
                x = json_object_get_int64(v);
                if (x > 0 && x < (int64_t) UINT32_MAX - 1)
                        return (uint64_t) x;
        }
        return 0;
}

static int keep_dropped(char ***dropped, json_object *o) {
        const char *text;

        if (!dropped)
                return 0;
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        return strv_extend(dropped, text ?: "null");
}

static int drop_entry(char ***problems, char ***dropped, json_object *o, const char *key, size_t i, const char *why) {
        uint64_t id = raw_id(o);
        int r;

        if (id > 0)
                r = add_problem(problems, "firmware.%s[%zu] (job %llu) was dropped: %s", key, i,
                                (unsigned long long) id, why);
        else
                r = add_problem(problems, "firmware.%s[%zu] (no usable job id) was dropped: %s", key, i, why);
        if (r < 0)
                return r;
        return keep_dropped(dropped, o);
}

static int load_array(json_object *section, const char *key, bool finished, JobList *l, char ***problems,
                      char ***dropped, uint64_t *max_seen) {
        json_object *a;
        int r;

        if (!json_object_object_get_ex(section, key, &a))
                return 0;
        if (!json_object_is_type(a, json_type_array)) {
                r = add_problem(problems, "firmware.%s is not an array; its content was dropped", key);
                if (r < 0)
                        return r;
                return keep_dropped(dropped, a);
        }
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                json_object *o = json_object_array_get_idx(a, i);
                _cleanup_(job_freep) Job *j = NULL;
                _cleanup_free_ char *why = NULL;

                /* Ids of entries dropped are not handed out again either. */
                *max_seen = MAX(*max_seen, raw_id(o));
                r = job_from_json(o, &j, &why);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        r = drop_entry(problems, dropped, o, key, i, strna(why));
                        if (r < 0)
                                return r;
                        continue;
                }
                if (job_state_is_final(j->state) != finished) {
                        _cleanup_free_ char *s = NULL;
                        if (asprintf(&s, "field \"state\" is \"%s\", which does not belong in %s",
                                     job_state_to_string(j->state), key) < 0)
                                return -ENOMEM;
                        r = drop_entry(problems, dropped, o, key, i, s);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (job_list_find(l, j->id)) {
                        r = drop_entry(problems, dropped, o, key, i, "field \"id\" repeats an earlier entry's id");
                        if (r < 0)
                                return r;
                        continue;
                }
                r = finished ? array_append(&l->history, &l->n_history, j)
                             : array_append(&l->jobs, &l->n_jobs, j);
                if (r < 0)
                        return r;
                TAKE_PTR(j);
        }
        return 0;
}

int job_list_from_json(json_object *section, JobList *ret, char ***ret_problems) {
        return job_list_from_json_full(section, ret, ret_problems, NULL);
}

int job_list_from_json_full(json_object *section, JobList *ret, char ***ret_problems, char ***ret_dropped) {
        _cleanup_strv_free_ char **problems = NULL, **dropped = NULL;
        JobList l = {};
        uint64_t next_id = 1, max_id = 0;
        int r;

        *ret = (JobList) { .next_id = 1 };
        *ret_problems = NULL;
        if (!section)
                return 0;
        if (!json_object_is_type(section, json_type_object)) {
                r = add_problem(&problems, "the \"firmware\" section of the state file is not an object; it was dropped");
                if (r >= 0 && ret_dropped)
                        r = keep_dropped(&dropped, section);
                if (r < 0)
                        return r;
                if (ret_dropped)
                        *ret_dropped = TAKE_PTR(dropped);
                *ret_problems = TAKE_PTR(problems);
                return -EBADMSG;
        }
        if (json_object_object_get_ex(section, "next_id", NULL)) {
                _cleanup_free_ char *why = NULL;
                if (get_u64(section, "next_id", true, UINT32_MAX - 1, &next_id, &why) < 0 || next_id == 0) {
                        r = add_problem(&problems, "firmware.next_id is invalid (%s); it was recomputed",
                                        why ?: "it is 0");
                        if (r < 0)
                                return r;
                        next_id = 1;
                }
        }
        r = load_array(section, "jobs", false, &l, &problems, ret_dropped ? &dropped : NULL, &max_id);
        if (r >= 0)
                r = load_array(section, "history", true, &l, &problems, ret_dropped ? &dropped : NULL, &max_id);
        if (r < 0) {
                job_list_done(&l);
                return r;
        }
        while (l.n_history > JOBS_HISTORY_MAX) {
                job_free(l.history[0]);
                memmove(l.history, l.history + 1, (l.n_history - 1) * sizeof(Job *));
                l.n_history--;
        }
        if (max_id >= next_id) {
                r = add_problem(&problems, "firmware.next_id (%llu) was not above every job id; it was raised to %llu",
                                (unsigned long long) next_id, (unsigned long long) max_id + 1);
                if (r < 0) {
                        job_list_done(&l);
                        return r;
                }
                next_id = max_id + 1;
        }
        l.next_id = (uint32_t) next_id;
        *ret = l;
        *ret_problems = TAKE_PTR(problems);
        if (ret_dropped)
                *ret_dropped = TAKE_PTR(dropped);
        return 0;
}

int job_list_recover(JobList *l, uint64_t now_usec) {
        int n = 0;

        for (size_t i = 0; i < l->n_jobs;) {
                Job *j = l->jobs[i];

                if (j->state == JOB_RUNNING) {
                        j->state = JOB_INTERRUPTED;
                        j->finished_usec = now_usec;
                        if (job_set_result(j, "hwsecd stopped while the update was running; the firmware may or "
                                           "may not have been updated, compare the versions") < 0)
                                return -ENOMEM;
                } else if (j->state == JOB_SCHEDULED && j->not_after_usec != 0 && j->not_after_usec <= now_usec) {
                        j->state = JOB_EXPIRED;
                        j->finished_usec = now_usec;
                        if (job_set_result(j, "the window closed while hwsecd was not running") < 0)
                                return -ENOMEM;
                } else {
                        i++;
                        continue;
                }
                n++;
                if (job_list_finish(l, j, NULL, NULL) < 0)
                        return -ENOMEM;
        }
        return n;
}
