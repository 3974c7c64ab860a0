/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One property table per bus interface: name, D-Bus signature, getter, JSON writer and flags.
 * From it come the sd-bus vtable (the properties in table order, then the interface's methods
 * and signals in theirs: the order of the contract, dbus/org.hwsecd1.<Iface>.xml), the JSON of the properties,
 * and the decision which properties changed, so that every area announces PropertiesChanged the
 * same way: for exactly the properties whose value differs from the last announcement. */

#include <json-c/json.h>
#include <systemd/sd-bus.h>

#include "macro.h"

typedef struct BusProperty {
        const char *name;
        const char *signature;
        sd_bus_property_get_t get;
        /* The property as JSON. NULL: the D-Bus value the getter writes, converted generically
         * (bus_message_read_as_json()). */
        int (*to_json)(void *userdata, json_object **ret);
        uint64_t flags;                 /* SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE, _CONST, … */
} BusProperty;

typedef struct BusPropertyTable {
        const char *interface;
        const BusProperty *properties;
        size_t n_properties;
        /* SD_BUS_VTABLE_START … SD_BUS_VTABLE_END with the methods and signals, NULL for none */
        const sd_bus_vtable *members;
        /* The JSON writer of the whole object (every property keyed by name), when the area has
         * one; NULL: per property, BusProperty.to_json or the generic conversion. */
        json_object *(*to_json_all)(void *userdata);
} BusPropertyTable;

#define BUS_PROPERTY_TABLE(iface, props, members_) \
        { .interface = (iface), .properties = (props), .n_properties = ELEMENTSOF(props), .members = (members_) }
#define BUS_PROPERTY_TABLE_JSON(iface, props, members_, all) \
        { .interface = (iface), .properties = (props), .n_properties = ELEMENTSOF(props), .members = (members_), \
          .to_json_all = (all) }

/* The vtable for sd_bus_add_object_vtable() & co, built once; free it with free() after the
 * object is gone. */
int bus_property_table_vtable(const BusPropertyTable *t, sd_bus_vtable **ret);

/* Each property's JSON, keyed by name, in table order. bus may be NULL only if every property
 * has to_json. */
int bus_property_table_json(const BusPropertyTable *t, sd_bus *bus, void *userdata, json_object **ret);

/* What was announced last, per object. */
typedef struct BusPropertyCache {
        json_object *last;
} BusPropertyCache;

void bus_property_cache_done(BusPropertyCache *c);

/* Compares every EMITS_CHANGE property with the cache and emits PropertiesChanged for those that
 * differ (the first call fills the cache and announces nothing). With emit false, only updates
 * the cache (before the bus name is taken). Returns the number of properties announced. */
int bus_property_table_emit_changed(const BusPropertyTable *t, sd_bus *bus, const char *path, void *userdata,
                                    BusPropertyCache *cache, bool emit);

/* Reads the next complete value of m (any signature) as JSON: integers, booleans, doubles,
 * strings; arrays as arrays, dictionaries a{?…} as objects (keys as strings), structs as arrays,
 * variants as their content. */
int bus_message_read_as_json(sd_bus_message *m, json_object **ret);
