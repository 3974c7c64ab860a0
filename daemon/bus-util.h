/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <systemd/sd-bus.h>

#include "macro.h"

/* sd-bus.h, sd-event.h and sd-device.h already define sd_*_unrefp for _cleanup_(). */
#define _cleanup_bus_message_ _cleanup_(sd_bus_message_unrefp)

/* Appends a JSON value as a D-Bus variant: string->s, int->x, bool->b, double->d,
 * array of strings->as, other arrays->av, object->a{sv}, null->s "". */
int bus_append_json_variant(sd_bus_message *m, json_object *v);
/* Appends a JSON object as a{sv}. */
int bus_append_json_dict(sd_bus_message *m, json_object *obj);

/* Reads one basic value (y b n q i u x t d s o g h) as JSON. */
int bus_read_basic_as_json(sd_bus_message *m, char type, json_object **ret);

/* Reads an a{sv} argument into a JSON object (s, b, y, n, q, i, u, x, t, d, as, a{sv} nested).
 * Unsupported types give -EINVAL with ret_error set to InvalidArgument naming the key. */
int bus_read_dict_as_json(sd_bus_message *m, json_object **ret, sd_bus_error *ret_error);

/* Emits PropertiesChanged for the given NULL-terminated property names (no-op without a bus). */
int bus_emit_changed(sd_bus *bus, const char *path, const char *interface, const char *property, ...);
