/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <sys/stat.h>
#include <time.h>

#include "fileio.h"
#include "log.h"
#include "state.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_tokener *, json_tokener_free);

static json_object *state_new_empty(void) {
        json_object *o = json_object_new_object();
        if (o)
                json_object_object_add(o, "version", json_object_new_int(STATE_VERSION));
        return o;
}

static int reason(char **ret_reason, const char *what, const char *detail) {
        if (ret_reason && asprintf(ret_reason, "%s%s%s", what, detail ? ": " : "", strempty(detail)) < 0)
                *ret_reason = NULL;
        return -EBADMSG;
}

int state_parse(const char *text, size_t size, json_object **ret, char **ret_reason) {
        _cleanup_(json_tokener_freep) json_tokener *tok = NULL;
        _cleanup_json_ json_object *o = NULL;
        json_object *v;

        if (ret_reason)
                *ret_reason = NULL;
        if (size > STATE_MAX_SIZE)
                return reason(ret_reason, "the file is larger than 16 MiB", NULL);
        if (strlen(text) != size)
                return reason(ret_reason, "the file contains a NUL byte", NULL);

        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        o = json_tokener_parse_ex(tok, text, (int) size);
        if (!o || json_tokener_get_error(tok) != json_tokener_success) {
                enum json_tokener_error e = json_tokener_get_error(tok);

                if (e == json_tokener_continue || e == json_tokener_success)
                        return reason(ret_reason, "not valid JSON", "the document ends early (truncated)");
                return reason(ret_reason, "not valid JSON", json_tokener_error_desc(e));
        }
        if (json_tokener_get_parse_end(tok) < size) {
                /* Trailing garbage after the document: only whitespace is fine. */
                for (size_t i = json_tokener_get_parse_end(tok); i < size; i++)
                        if (!strchr(" \t\r\n", text[i]))
                                return reason(ret_reason, "trailing data after the JSON document", NULL);
        }
        if (!json_object_is_type(o, json_type_object))
                return reason(ret_reason, "the top level is not a JSON object", NULL);
        if (!json_object_object_get_ex(o, "version", &v) || !json_object_is_type(v, json_type_int))
                return reason(ret_reason, "no integer \"version\" field", NULL);
        if (json_object_get_int64(v) != STATE_VERSION)
                return reason(ret_reason, "unknown state file version", NULL);

        *ret = TAKE_PTR(o);
        return 0;
}

int state_set_aside(const char *dir, char **ret_path) {
        _cleanup_free_ char *path = NULL, *aside = NULL;
        char stamp[32];
        struct tm tm;
        time_t now = time(NULL);

        path = path_join(dir, STATE_FILE_NAME);
        if (!path)
                return -ENOMEM;
        gmtime_r(&now, &tm);
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
        if (asprintf(&aside, "%s.corrupt-%s", path, stamp) < 0)
                return -ENOMEM;
        /* Never overwrite an earlier set-aside file from the same second. */
        for (unsigned i = 1; access(aside, F_OK) == 0 && i < 1000; i++) {
                free(aside);
                if (asprintf(&aside, "%s.corrupt-%s.%u", path, stamp, i) < 0)
                        return -ENOMEM;
        }
        if (rename(path, aside) < 0)
                return -errno;
        if (ret_path)
                *ret_path = TAKE_PTR(aside);
        return 0;
}

int state_load(const char *dir, json_object **ret, char **ret_problem) {
        _cleanup_free_ char *path = NULL, *text = NULL, *why = NULL, *aside = NULL;
        size_t size = 0;
        int r;

        *ret_problem = NULL;
        path = path_join(dir, STATE_FILE_NAME);
        if (!path)
                return -ENOMEM;

        r = read_full_file(path, STATE_MAX_SIZE, &text, &size);
        if (r == -ENOENT) {
                *ret = state_new_empty();
                return *ret ? 0 : -ENOMEM;
        }
        if (r == -EFBIG)
                why = strdup("the file is larger than 16 MiB");
        else if (r == -EBADFD)
                /* A FIFO, socket or device in its place: opened without blocking and refused. It
                 * holds no state we could lose, so it is set aside like a corrupt file. */
                why = strdup("it is not a regular file");
        else if (r < 0)
                return r;
        else if (state_parse(text, size, ret, &why) >= 0)
                return 0;

        r = state_set_aside(dir, &aside);
        if (r < 0)
                return log_error_errno(r, "State file %s is corrupt (%s) and could not be moved aside: %m",
                                       path, strna(why));
        if (asprintf(ret_problem, "State file %s was corrupt (%s); it was moved to %s and hwsecd started "
                     "without it", path, strna(why), aside) < 0)
                return -ENOMEM;
        log_struct(LOG_ERR, MESSAGE_ID_STATE_CORRUPT, "%s", *ret_problem);
        *ret = state_new_empty();
        return *ret ? 0 : -ENOMEM;
}

int state_save(const char *dir, json_object *root) {
        _cleanup_free_ char *path = NULL;
        const char *text;
        int r;

        r = mkdir_p(dir, 0700);
        if (r < 0)
                return r;
        path = path_join(dir, STATE_FILE_NAME);
        if (!path)
                return -ENOMEM;
        json_object_object_add(root, "version", json_object_new_int(STATE_VERSION));
        text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text)
                return -ENOMEM;
        return write_file_atomic(path, text, strlen(text), 0600);
}

json_object *state_section(json_object *root, const char *key) {
        json_object *v;

        if (json_object_object_get_ex(root, key, &v) && json_object_is_type(v, json_type_object))
                return v;
        v = json_object_new_object();
        if (!v)
                return NULL;
        json_object_object_add(root, key, v);
        return v;
}
