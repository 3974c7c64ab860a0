/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-properties.h"
#include "bus-util.h"
#include "json-util.h"

#define JSON_DEPTH_MAX 32

/* ---- the vtable ---- */

static size_t members_count(const sd_bus_vtable *v) {
        size_t n = 0;

        if (!v)
                return 0;
        for (const sd_bus_vtable *i = v + 1; i->type != _SD_BUS_VTABLE_END; i++)
                n++;
        return n;
}

int bus_property_table_vtable(const BusPropertyTable *t, sd_bus_vtable **ret) {
        size_t n_members = members_count(t->members), k = 0;
        sd_bus_vtable *v;

        v = calloc(t->n_properties + n_members + 2, sizeof(sd_bus_vtable));
        if (!v)
                return -ENOMEM;
        v[k++] = t->members ? t->members[0] : (sd_bus_vtable) SD_BUS_VTABLE_START(0);
        for (size_t i = 0; i < t->n_properties; i++) {
                const BusProperty *p = &t->properties[i];

                v[k++] = (sd_bus_vtable) SD_BUS_PROPERTY(p->name, p->signature, p->get, 0, p->flags);
        }
        for (size_t i = 0; i < n_members; i++)
                v[k++] = t->members[i + 1];
        v[k] = (sd_bus_vtable) SD_BUS_VTABLE_END;
        *ret = v;
        return 0;
}

/* ---- D-Bus values as JSON ---- */

static int read_json(sd_bus_message *m, unsigned depth, json_object **ret);

static int read_container(sd_bus_message *m, char type, const char *contents, unsigned depth, json_object **ret) {
        _cleanup_json_ json_object *o = NULL;
        bool dict = type == 'a' && contents[0] == '{';
        int r;

        r = sd_bus_message_enter_container(m, type, contents);
        if (r < 0)
                return r;
        if (type == 'v') {
                r = read_json(m, depth + 1, &o);
                if (r < 0)
                        return r;
        } else {
                o = dict ? json_object_new_object() : json_object_new_array();
                if (!o)
                        return -ENOMEM;
                for (;;) {
                        _cleanup_json_ json_object *key = NULL, *value = NULL;

                        r = sd_bus_message_at_end(m, false);
                        if (r < 0)
                                return r;
                        if (r > 0)
                                break;
                        if (dict) {
                                char t;
                                const char *c;

                                r = sd_bus_message_peek_type(m, &t, &c);
                                if (r < 0)
                                        return r;
                                r = sd_bus_message_enter_container(m, 'e', c);
                                if (r >= 0)
                                        r = read_json(m, depth + 1, &key);
                                if (r >= 0)
                                        r = read_json(m, depth + 1, &value);
                                if (r >= 0)
                                        r = sd_bus_message_exit_container(m);
                                if (r < 0)
                                        return r;
                                json_object_object_add(o, json_object_get_string(key), TAKE_PTR(value));
                        } else {
                                r = read_json(m, depth + 1, &value);
                                if (r < 0)
                                        return r;
                                json_object_array_add(o, TAKE_PTR(value));
                        }
                }
        }
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

static int read_json(sd_bus_message *m, unsigned depth, json_object **ret) {
        const char *contents = NULL;
        char type;
        int r;

        if (depth > JSON_DEPTH_MAX)
                return -E2BIG;
        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        if (r == 0)
                return -ENXIO;
        if (type == 'a' || type == 'r' || type == 'v')
                return read_container(m, type, contents, depth, ret);
        return bus_read_basic_as_json(m, type, ret);
}

int bus_message_read_as_json(sd_bus_message *m, json_object **ret) {
        return read_json(m, 0, ret);
}

/* ---- JSON of a property ---- */

static int property_json(const BusProperty *p, const char *interface, sd_bus *bus, void *userdata,
                         json_object **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        if (p->to_json)
                return p->to_json(userdata, ret);
        if (!bus)
                return -ENOTCONN;
        /* a scratch message: the getter writes the value, we read it back */
        r = sd_bus_message_new_signal(bus, &m, "/", interface, "Scratch");
        if (r < 0)
                return r;
        r = p->get(bus, "/", interface, p->name, m, userdata, &error);
        if (r < 0)
                return r;
        r = sd_bus_message_seal(m, 1, 0);
        if (r < 0)
                return r;
        r = sd_bus_message_rewind(m, true);
        if (r < 0)
                return r;
        return bus_message_read_as_json(m, ret);
}

int bus_property_table_json(const BusPropertyTable *t, sd_bus *bus, void *userdata, json_object **ret) {
        _cleanup_json_ json_object *o = NULL;
        int r;

        if (t->to_json_all) {
                *ret = t->to_json_all(userdata);
                return *ret ? 0 : -ENOMEM;
        }
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        for (size_t i = 0; i < t->n_properties; i++) {
                json_object *v = NULL;

                r = property_json(&t->properties[i], t->interface, bus, userdata, &v);
                if (r < 0)
                        return r;
                json_object_object_add(o, t->properties[i].name, v);
        }
        *ret = TAKE_PTR(o);
        return 0;
}

/* ---- change notification ---- */

void bus_property_cache_done(BusPropertyCache *c) {
        json_object_put(c->last);
        c->last = NULL;
}

int bus_property_table_emit_changed(const BusPropertyTable *t, sd_bus *bus, const char *path, void *userdata,
                                    BusPropertyCache *cache, bool emit) {
        _cleanup_json_ json_object *now = NULL;
        _cleanup_strv_free_ char **changed = NULL;
        size_t n = 0;
        int r;

        r = bus_property_table_json(t, bus, userdata, &now);
        if (r < 0)
                return r;
        for (size_t i = 0; cache->last && i < t->n_properties; i++) {
                const BusProperty *p = &t->properties[i];
                json_object *old = NULL, *cur = NULL;

                if (!(p->flags & SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE))
                        continue;
                (void) json_object_object_get_ex(now, p->name, &cur);
                if (json_object_object_get_ex(cache->last, p->name, &old) && json_object_equal(old, cur))
                        continue;
                if (strv_extend(&changed, p->name) < 0)
                        return -ENOMEM;
                n++;
        }
        json_object_put(cache->last);
        cache->last = TAKE_PTR(now);
        if (n == 0 || !emit)
                return 0;
        r = sd_bus_emit_properties_changed_strv(bus, path, t->interface, changed);
        return r < 0 ? r : (int) n;
}
