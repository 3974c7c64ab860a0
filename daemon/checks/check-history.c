/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "check-history.h"

static bool valid_result(json_object *v) {
        return v && json_object_is_type(v, json_type_string) &&
                check_result_from_string(json_object_get_string(v)) >= 0;
}

int check_history_entry(json_object *e, uint64_t *ret_time, const char **ret_id,
                        const char **ret_old, const char **ret_new) {
        json_object *t, *id, *o, *n;

        if (!e || !json_object_is_type(e, json_type_object))
                return -EBADMSG;
        if (!json_object_object_get_ex(e, "time", &t) || !json_object_is_type(t, json_type_int) ||
            json_object_get_int64(t) < 0)
                return -EBADMSG;
        if (!json_object_object_get_ex(e, "id", &id) || !json_object_is_type(id, json_type_string) ||
            isempty(json_object_get_string(id)))
                return -EBADMSG;
        if (!json_object_object_get_ex(e, "old", &o) || !valid_result(o))
                return -EBADMSG;
        if (!json_object_object_get_ex(e, "new", &n) || !valid_result(n))
                return -EBADMSG;

        if (ret_time)
                *ret_time = (uint64_t) json_object_get_int64(t);
        if (ret_id)
                *ret_id = json_object_get_string(id);
        if (ret_old)
                *ret_old = json_object_get_string(o);
        if (ret_new)
                *ret_new = json_object_get_string(n);
        return 0;
}

/* Returns section["history"] as a clean array (malformed entries removed). */
static json_object *history_array(json_object *section, size_t *dropped) {
        json_object *h = NULL, *clean;

        if (!json_object_object_get_ex(section, "history", &h) || !json_object_is_type(h, json_type_array)) {
                if (h && !json_object_is_type(h, json_type_array))
                        (*dropped)++;
                clean = json_object_new_array();
                if (clean)
                        json_object_object_add(section, "history", clean);
                return clean;
        }

        clean = json_object_new_array();
        if (!clean)
                return NULL;
        for (size_t i = 0; i < json_object_array_length(h); i++) {
                json_object *e = json_object_array_get_idx(h, i);

                if (check_history_entry(e, NULL, NULL, NULL, NULL) < 0) {
                        (*dropped)++;
                        continue;
                }
                json_object_array_add(clean, json_object_get(e));
        }
        json_object_object_add(section, "history", clean);
        return clean;
}

static int trim(json_object *section, json_object *h) {
        size_t n = json_object_array_length(h);
        json_object *t;

        if (n <= CHECK_HISTORY_MAX)
                return 0;
        t = json_object_new_array();
        if (!t)
                return -ENOMEM;
        for (size_t i = n - CHECK_HISTORY_MAX; i < n; i++)
                json_object_array_add(t, json_object_get(json_object_array_get_idx(h, i)));
        json_object_object_add(section, "history", t);
        return 0;
}

int check_history_apply(json_object *section, const CheckList *l, uint64_t now_usec,
                        CheckChange **ret, size_t *ret_dropped) {
        _cleanup_free_ CheckChange *changes = NULL;
        json_object *last = NULL, *h, *new_last;
        size_t n = 0, dropped = 0;
        bool first;
        int r;

        if (!section || !json_object_is_type(section, json_type_object))
                return -EINVAL;

        h = history_array(section, &dropped);
        if (!h)
                return -ENOMEM;

        first = !json_object_object_get_ex(section, "last", &last) || !json_object_is_type(last, json_type_object);
        if (first && last)
                dropped++;

        changes = calloc(l->n ?: 1, sizeof(CheckChange));
        new_last = json_object_new_object();
        if (!changes || !new_last) {
                json_object_put(new_last);
                return -ENOMEM;
        }

        for (size_t i = 0; i < l->n; i++) {
                const Check *c = &l->checks[i];
                const char *now = check_result_to_string(c->result);
                json_object *prev = NULL, *e;

                json_object_object_add(new_last, c->id, json_object_new_string(now));
                if (first)
                        continue;
                if (json_object_object_get_ex(last, c->id, &prev) && !valid_result(prev)) {
                        dropped++;
                        prev = NULL;
                }
                if (!prev)
                        continue;       /* a check new in this version: nothing to compare */
                if (streq(json_object_get_string(prev), now))
                        continue;

                e = json_object_new_object();
                if (!e) {
                        json_object_put(new_last);
                        return -ENOMEM;
                }
                json_object_object_add(e, "time", json_object_new_int64((int64_t) now_usec));
                json_object_object_add(e, "id", json_object_new_string(c->id));
                json_object_object_add(e, "old", json_object_new_string(json_object_get_string(prev)));
                json_object_object_add(e, "new", json_object_new_string(now));
                json_object_array_add(h, e);

                changes[n++] = (CheckChange) {
                        .id = c->id,
                        .old_result = check_result_to_string(check_result_from_string(json_object_get_string(prev))),
                        .new_result = now,
                };
        }

        json_object_object_add(section, "last", new_last);
        r = trim(section, h);
        if (r < 0)
                return r;

        if (ret_dropped)
                *ret_dropped = dropped;
        if (ret)
                *ret = TAKE_PTR(changes);
        return (int) n;
}
