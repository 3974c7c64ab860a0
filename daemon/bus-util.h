/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <systemd/sd-bus.h>

#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(sd_bus_message *, sd_bus_message_unref);
DEFINE_TRIVIAL_CLEANUP_FUNC(sd_bus *, sd_bus_flush_close_unref);
DEFINE_TRIVIAL_CLEANUP_FUNC(sd_event *, sd_event_unref);
DEFINE_TRIVIAL_CLEANUP_FUNC(sd_event_source *, sd_event_source_unref);
DEFINE_TRIVIAL_CLEANUP_FUNC(sd_device *, sd_device_unref);
DEFINE_TRIVIAL_CLEANUP_FUNC(sd_device_enumerator *, sd_device_enumerator_unref);
#define _cleanup_bus_message_ _cleanup_(sd_bus_message_unrefp)

/* Appends a JSON value as a D-Bus variant: string->s, int->x, bool->b, double->d,
 * array of strings->as, other arrays->av, object->a{sv}, null->s "". */
int bus_append_json_variant(sd_bus_message *m, json_object *v);
/* Appends a JSON object as a{sv}. */
int bus_append_json_dict(sd_bus_message *m, json_object *obj);

/* Reads an a{sv} argument into a JSON object (s, b, y, n, q, i, u, x, t, d, as, a{sv} nested).
 * Unsupported types give -EINVAL with ret_error set to InvalidArgument naming the key. */
int bus_read_dict_as_json(sd_bus_message *m, json_object **ret, sd_bus_error *ret_error);

/* Emits PropertiesChanged, or does nothing if the bus is not serving yet. */
int bus_emit_changed(sd_bus *bus, const char *path, const char *interface, const char *property, ...);
