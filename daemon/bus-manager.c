/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-errors.h"
#include "bus-manager.h"
#include "bus-util.h"
#include "log.h"
#include "polkit.h"
#include "state.h"

int manager_describe(Manager *m, json_object **ret) {
        _cleanup_json_ json_object *root = NULL, *problems = NULL;
        _cleanup_strv_free_ char **l = manager_problems(m);
        int r;

        root = json_object_new_object();
        problems = json_object_new_array();
        if (!root || !problems || !l)
                return -ENOMEM;
        STRV_FOREACH(p, l)
                json_object_array_add(problems, json_object_new_string(*p));

        json_object_object_add(root, "version", json_object_new_string(HWSECD_VERSION));
        json_object_object_add(root, "state", json_object_new_string(m->state_name));
        json_object_object_add(root, "problems", TAKE_PTR(problems));

        r = manager_describe_areas(m, root);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(root);
        return 0;
}

static int method_describe(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_json_ json_object *root = NULL;
        Manager *m = userdata;
        int r;

        r = manager_describe(m, &root);
        if (r < 0)
                return bus_error_set_errnof_host(error, r, "Failed to describe the daemon's state: %m");
        return sd_bus_reply_method_return(msg, "s", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
}

static int method_get_checks(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = manager_append_member(userdata, "GetChecks", reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_can_do(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        const char *action;
        int r;

        r = sd_bus_message_read(msg, "s", &action);
        if (r < 0)
                return r;
        return polkit_can_do(userdata, msg, action, error);
}

static int method_reload(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *problem = NULL;
        Manager *m = userdata;
        int r;

        r = polkit_verify(m, msg, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;

        r = manager_load_config(m, &problem);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return sd_bus_error_setf(error, HWSEC_ERROR_INVALID_ARGUMENT,
                                         "The configuration was not reloaded: %s. The previous configuration "
                                         "stays in effect; fix the file and reload again.",
                                         strna(problem));
        log_struct(LOG_INFO, MESSAGE_ID_CONFIG_RELOADED, "Configuration reloaded by %s.",
                   strna(sd_bus_message_get_sender(msg)));
        /* the command line is read at start and on Reload() only: it cannot change until a reboot */
        (void) manager_refresh_facts(m, HOST_FACTS_CMDLINE);
        manager_broadcast_type(m, MANAGER_EVENT_CONFIG_RELOADED);
        return sd_bus_reply_method_return(msg, NULL);
}

static int property_get_version(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", HWSECD_VERSION);
}

static int property_get_state(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        return sd_bus_message_append(reply, "s", m->state_name);
}

static int property_get_problems(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        _cleanup_strv_free_ char **l = manager_problems(userdata);

        if (!l)
                return -ENOMEM;
        return sd_bus_message_append_strv(reply, l);
}

/* Members an entry of the area table serves (AreaVTable.manager_members), in the place the
 * contract gives them. */
static int property_get_area_member(sd_bus *bus, const char *path, const char *interface, const char *property,
                                    sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return manager_append_member(userdata, property, reply);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("State", "s", property_get_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Problems", "as", property_get_problems, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("CheckSummary", "a{su}", property_get_area_member, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("Describe", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", json), method_describe,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetChecks", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ssssssa{sv}a{sv})", checks),
                                method_get_checks, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CanDo", SD_BUS_ARGS("s", action), SD_BUS_RESULT("s", answer), method_can_do,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Reload", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_reload,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

int bus_manager_register(Manager *m) {
        return sd_bus_add_object_vtable(m->bus, NULL, HWSECD_OBJECT_ROOT, HWSECD_MANAGER_IFACE, manager_vtable, m);
}
