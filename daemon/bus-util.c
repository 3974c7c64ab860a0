/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdarg.h>

#include "bus-errors.h"
#include "bus-util.h"
#include "fileio.h"
#include "state.h"

/* D-Bus strings must be UTF-8; one bad string must not fail a whole reply. */
static const char *bus_safe_string(const char *s) {
        return s && utf8_is_valid(s) ? s : "(invalid UTF-8)";
}

static bool json_array_all_strings(json_object *a) {
        size_t n = json_object_array_length(a);

        for (size_t i = 0; i < n; i++)
                if (!json_object_is_type(json_object_array_get_idx(a, i), json_type_string))
                        return false;
        return true;
}

int bus_append_json_dict(sd_bus_message *m, json_object *obj) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        if (obj && json_object_is_type(obj, json_type_object)) {
                json_object_object_foreach(obj, key, val) {
                        r = sd_bus_message_open_container(m, 'e', "sv");
                        if (r < 0)
                                return r;
                        r = sd_bus_message_append(m, "s", key);
                        if (r < 0)
                                return r;
                        r = bus_append_json_variant(m, val);
                        if (r < 0)
                                return r;
                        r = sd_bus_message_close_container(m);
                        if (r < 0)
                                return r;
                }
        }
        return sd_bus_message_close_container(m);
}

int bus_append_json_variant(sd_bus_message *m, json_object *v) {
        int r;

        switch (json_object_get_type(v)) {
        case json_type_null:
                return sd_bus_message_append(m, "v", "s", "");
        case json_type_boolean:
                return sd_bus_message_append(m, "v", "b", (int) json_object_get_boolean(v));
        case json_type_int:
                if (json_object_get_int64(v) == INT64_MAX && json_object_get_uint64(v) > (uint64_t) INT64_MAX)
                        return sd_bus_message_append(m, "v", "t", (uint64_t) json_object_get_uint64(v));
                return sd_bus_message_append(m, "v", "x", (int64_t) json_object_get_int64(v));
        case json_type_double:
                return sd_bus_message_append(m, "v", "d", json_object_get_double(v));
        case json_type_string:
                return sd_bus_message_append(m, "v", "s", bus_safe_string(json_object_get_string(v)));
        case json_type_object:
                r = sd_bus_message_open_container(m, 'v', "a{sv}");
                if (r < 0)
                        return r;
                r = bus_append_json_dict(m, v);
                if (r < 0)
                        return r;
                return sd_bus_message_close_container(m);
        case json_type_array: {
                size_t n = json_object_array_length(v);
                bool strings = json_array_all_strings(v);

                r = sd_bus_message_open_container(m, 'v', strings ? "as" : "av");
                if (r < 0)
                        return r;
                r = sd_bus_message_open_container(m, 'a', strings ? "s" : "v");
                if (r < 0)
                        return r;
                for (size_t i = 0; i < n; i++) {
                        json_object *e = json_object_array_get_idx(v, i);
                        r = strings ? sd_bus_message_append(m, "s", bus_safe_string(json_object_get_string(e)))
                                    : bus_append_json_variant(m, e);
                        if (r < 0)
                                return r;
                }
                r = sd_bus_message_close_container(m);
                if (r < 0)
                        return r;
                return sd_bus_message_close_container(m);
        }
        }
        return -EINVAL;
}

static int read_value_as_json(sd_bus_message *m, char type, const char *contents, const char *key,
                              json_object **ret, sd_bus_error *error, unsigned depth);

int bus_read_basic_as_json(sd_bus_message *m, char type, json_object **ret) {
        union {
                uint8_t y;
                int b;
                int16_t n;
                uint16_t q;
                int32_t i;
                uint32_t u;
                int64_t x;
                uint64_t t;
                double d;
                const char *s;
                int h;
        } v;
        int r;

        r = sd_bus_message_read_basic(m, type, &v);
        if (r < 0)
                return r;
        switch (type) {
        case 'y': *ret = json_object_new_int64(v.y); break;
        case 'b': *ret = json_object_new_boolean(v.b); break;
        case 'n': *ret = json_object_new_int64(v.n); break;
        case 'q': *ret = json_object_new_int64(v.q); break;
        case 'i': *ret = json_object_new_int64(v.i); break;
        case 'u': *ret = json_object_new_int64(v.u); break;
        case 'x': *ret = json_object_new_int64(v.x); break;
        case 't': *ret = json_object_new_uint64(v.t); break;
        case 'd': *ret = json_object_new_double(v.d); break;
        case 's': case 'o': case 'g': *ret = json_object_new_string(v.s); break;
        case 'h': *ret = json_object_new_int(v.h); break;
        default: return -EINVAL;
        }
        return *ret ? 0 : -ENOMEM;
}

static int read_dict(sd_bus_message *m, const char *what, json_object **ret, sd_bus_error *error, unsigned depth) {
        _cleanup_json_ json_object *o = NULL;
        int r;

        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return sd_bus_error_setf(error, HWSEC_ERROR_INVALID_ARGUMENT,
                                         "%s must be a dictionary of type a{sv}.", what);
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key, *contents;
                json_object *val = NULL;
                char type;

                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                if (json_object_object_get_ex(o, key, NULL))
                        return sd_bus_error_setf(error, HWSEC_ERROR_INVALID_ARGUMENT,
                                                 "Key '%s' is given twice.", key);
                r = sd_bus_message_peek_type(m, &type, &contents);
                if (r < 0)
                        return r;
                r = sd_bus_message_enter_container(m, 'v', contents);
                if (r < 0)
                        return r;
                r = sd_bus_message_peek_type(m, &type, &contents);
                if (r < 0)
                        return r;
                r = read_value_as_json(m, type, contents, key, &val, error, depth + 1);
                if (r < 0)
                        return r;
                json_object_object_add(o, key, val);
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

static int read_value_as_json(sd_bus_message *m, char type, const char *contents, const char *key,
                              json_object **ret, sd_bus_error *error, unsigned depth) {
        int r;

        if (depth > 8)
                return sd_bus_error_setf(error, HWSEC_ERROR_INVALID_ARGUMENT,
                                         "Value of '%s' is nested too deeply.", key);

        if (strchr("ybnqiuxtdsog", type))
                return bus_read_basic_as_json(m, type, ret);

        if (type == 'a' && contents && streq(contents, "{sv}"))
                return read_dict(m, key, ret, error, depth);

        if (type == 'a' && contents && streq(contents, "s")) {
                _cleanup_json_ json_object *a = json_object_new_array();
                const char *s;

                if (!a)
                        return -ENOMEM;
                r = sd_bus_message_enter_container(m, 'a', "s");
                if (r < 0)
                        return r;
                while ((r = sd_bus_message_read(m, "s", &s)) > 0)
                        json_object_array_add(a, json_object_new_string(s));
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
                *ret = TAKE_PTR(a);
                return 0;
        }

        return sd_bus_error_setf(error, HWSEC_ERROR_INVALID_ARGUMENT,
                                 "Value of '%s' has D-Bus type '%c%s', which is not accepted here.",
                                 key, type, strempty(contents));
}

int bus_read_dict_as_json(sd_bus_message *m, json_object **ret, sd_bus_error *error) {
        return read_dict(m, "The argument", ret, error, 0);
}

int bus_emit_changed(sd_bus *bus, const char *path, const char *interface, const char *property, ...) {
        _cleanup_strv_free_ char **l = NULL;
        va_list ap;
        int r;

        if (!bus || !property)
                return 0;

        r = strv_extend(&l, property);
        if (r < 0)
                return r;
        va_start(ap, property);
        for (const char *p; (p = va_arg(ap, const char *));)
                if (strv_extend(&l, p) < 0) {
                        va_end(ap);
                        return -ENOMEM;
                }
        va_end(ap);
        return sd_bus_emit_properties_changed_strv(bus, path, interface, l);
}
