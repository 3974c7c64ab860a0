/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-errors.h"
#include "log-control.h"
#include "log.h"
#include "polkit.h"

#define LOG_CONTROL_PATH "/org/freedesktop/LogControl1"
#define LOG_CONTROL_IFACE "org.freedesktop.LogControl1"

int log_control_validate(const char *property, sd_bus_message *msg, sd_bus_error *error) {
        const char *value;
        int r;

        r = sd_bus_message_read(msg, "v", "s", &value);
        if (r < 0)
                return sd_bus_error_setf(error, HWSEC_ERROR_INVALID_ARGUMENT, "%s must be a string.", property);
        if (streq(property, "LogLevel") && log_level_from_string(value) < 0)
                return sd_bus_error_setf(error, HWSEC_ERROR_INVALID_ARGUMENT,
                                         "Invalid log level '%.64s'. Use emerg, alert, crit, err, warning, notice, info or debug.",
                                         value);
        if (streq(property, "LogTarget") && log_target_from_string(value) < 0)
                return sd_bus_error_setf(error, HWSEC_ERROR_INVALID_ARGUMENT,
                                         "Invalid log target '%.64s'. Use auto, console, journal or null.", value);
        return 0;
}

static int property_get_level(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", log_level_to_string(log_get_max_level()));
}

static int property_get_target(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", log_target_to_string(log_get_target()));
}

static int property_get_identifier(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", log_get_syslog_identifier());
}

static int check_authorized(sd_bus *bus, Manager *m, const char *property, sd_bus_error *error) {
        /* The Properties.Set filter in polkit.c asked polkit; refuse anything it did not pass. */
        if (!polkit_property_authorized(m, sd_bus_get_current_message(bus)))
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED, "Not authorized to change %s.", property);
        return 0;
}

static int property_set_level(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *value, void *userdata, sd_bus_error *error) {
        const char *s;
        int r, level;

        r = check_authorized(bus, userdata, property, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(value, "s", &s);
        if (r < 0)
                return r;
        level = log_level_from_string(s);
        if (level < 0)
                return sd_bus_error_setf(error, HWSEC_ERROR_INVALID_ARGUMENT, "Invalid log level '%.64s'.", s);
        log_set_max_level(level);
        ((Manager *) userdata)->log_level_pinned = true;   /* a later Reload() keeps this level */
        log_info("Log level set to %s.", s);
        return sd_bus_emit_properties_changed(bus, path, interface, property, NULL);
}

static int property_set_target(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *value, void *userdata, sd_bus_error *error) {
        const char *s;
        LogTarget t;
        int r;

        r = check_authorized(bus, userdata, property, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(value, "s", &s);
        if (r < 0)
                return r;
        t = log_target_from_string(s);
        if (t < 0)
                return sd_bus_error_setf(error, HWSEC_ERROR_INVALID_ARGUMENT, "Invalid log target '%.64s'.", s);
        log_set_target(t);
        log_info("Log target set to %s.", s);
        return sd_bus_emit_properties_changed(bus, path, interface, property, NULL);
}

static const sd_bus_vtable log_control_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_WRITABLE_PROPERTY("LogLevel", "s", property_get_level, property_set_level, 0,
                                 SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_WRITABLE_PROPERTY("LogTarget", "s", property_get_target, property_set_target, 0,
                                 SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("SyslogIdentifier", "s", property_get_identifier, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_VTABLE_END
};

int log_control_register(Manager *m) {
        return sd_bus_add_object_vtable(m->bus, NULL, LOG_CONTROL_PATH, LOG_CONTROL_IFACE, log_control_vtable, m);
}
