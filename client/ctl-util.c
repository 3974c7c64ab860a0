/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdarg.h>

#include "bus-util.h"
#include "ctl.h"

#define BUS_NAME "org.hwsecd1"

int ctl_usage_error(const char *fmt, ...) {
        va_list ap;

        fputs("hwsecctl: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs("\nSee 'hwsecctl --help'.\n", stderr);
        return EXIT_USAGE;
}

static bool error_is_unreachable(const sd_bus_error *e) {
        return sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER,
                                      SD_BUS_ERROR_NO_SERVER, SD_BUS_ERROR_DISCONNECTED,
                                      "org.freedesktop.DBus.Error.Spawn.ServiceNotFound",
                                      "org.freedesktop.DBus.Error.Spawn.ChildExited",
                                      "org.freedesktop.DBus.Error.Spawn.ExecFailed",
                                      "org.freedesktop.systemd1.NoSuchUnit");
}

int ctl_exit_for_error(const sd_bus_error *e) {
        if (sd_bus_error_has_names(e, SD_BUS_ERROR_ACCESS_DENIED, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                                   SD_BUS_ERROR_AUTH_FAILED))
                return EXIT_NOT_AUTHORIZED;
        if (error_is_unreachable(e))
                return EXIT_UNREACHABLE;
        return EXIT_FAILED;
}

static void print_not_running(void) {
        fputs("hwsecctl: hwsecd is not running (nobody owns org.hwsecd1 on the system bus).\n"
              "Start it with:  systemctl start hwsecd\n"
              "or enable it for every boot:  systemctl enable --now hwsecd\n",
              stderr);
}

static int report_error(Ctl *c, const sd_bus_error *e) {
        int code = ctl_exit_for_error(e);

        if (code == EXIT_UNREACHABLE)
                print_not_running();
        else if (sd_bus_error_has_name(e, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED) && !c->ask_password)
                fprintf(stderr, "hwsecctl: %s\n(--no-ask-password was given, or stdin is not a terminal.)\n",
                        e->message ?: "Authentication required.");
        else
                fprintf(stderr, "hwsecctl: %s\n", e->message ?: e->name);
        if (c->json) {
                json_object *o = json_object_new_object();

                if (!o)
                        return -code;
                json_object_object_add(o, "error", json_object_new_string(strempty(e->name)));
                json_object_object_add(o, "message", json_object_new_string(strempty(e->message)));
                json_object_object_add(o, "exit_code", json_object_new_int(code));
                ctl_print_json(o);
                json_object_put(o);
        }
        return -code;
}

int ctl_bus(Ctl *c, sd_bus **ret) {
        int r;

        if (!c->bus) {
                r = sd_bus_open_system(&c->bus);
                if (r < 0) {
                        fprintf(stderr, "hwsecctl: cannot connect to the system bus: %s\n", strerror(-r));
                        print_not_running();
                        return -EXIT_UNREACHABLE;
                }
                (void) sd_bus_set_allow_interactive_authorization(c->bus, c->ask_password);
        }
        *ret = c->bus;
        return 0;
}

int ctl_new_method_call(Ctl *c, const char *path, const char *interface, const char *method, sd_bus_message **ret) {
        sd_bus *bus;
        int r;

        r = ctl_bus(c, &bus);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(bus, ret, BUS_NAME, path, interface, method);
        if (r < 0) {
                fprintf(stderr, "hwsecctl: cannot build the call %s.%s: %s\n", interface, method, strerror(-r));
                return -EXIT_FAILED;
        }
        return 0;
}

int ctl_call_message(Ctl *c, sd_bus_message *msg, sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus *bus;
        int r;

        r = ctl_bus(c, &bus);
        if (r < 0)
                return r;
        /* Firmware updates and polkit prompts may take a while. */
        r = sd_bus_call(bus, msg, 120 * USEC_PER_SEC, &error, ret_reply);
        if (r < 0) {
                if (!sd_bus_error_is_set(&error))
                        sd_bus_error_set_errno(&error, r);
                return report_error(c, &error);
        }
        return 0;
}

int ctl_call(Ctl *c, const char *path, const char *interface, const char *method, sd_bus_message **ret_reply,
             const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL;
        va_list ap;
        int r;

        r = ctl_new_method_call(c, path, interface, method, &msg);
        if (r < 0)
                return r;
        if (types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(msg, types, ap);
                va_end(ap);
                if (r < 0) {
                        fprintf(stderr, "hwsecctl: cannot build the call %s.%s: %s\n", interface, method, strerror(-r));
                        return -EXIT_FAILED;
                }
        }
        return ctl_call_message(c, msg, ret_reply);
}

int ctl_get_property(Ctl *c, const char *path, const char *interface, const char *property, const char *type,
                     sd_bus_message **ret_reply) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = ctl_call(c, path, "org.freedesktop.DBus.Properties", "Get", &reply, "ss", interface, property);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'v', type);
        if (r < 0) {
                fprintf(stderr, "hwsecctl: %s.%s has an unexpected type (wanted %s).\n", interface, property, type);
                return -EXIT_FAILED;
        }
        *ret_reply = TAKE_PTR(reply);
        return 0;
}

void ctl_print_json(json_object *o) {
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                       JSON_C_TO_STRING_NOSLASHESCAPE));
}

json_object *ctl_parse_json(const char *s) {
        json_tokener *tok = json_tokener_new();
        json_object *o;

        if (!tok)
                return NULL;
        o = json_tokener_parse_ex(tok, s, (int) strlen(s));
        if (json_tokener_get_error(tok) != json_tokener_success) {
                json_object_put(o);
                o = NULL;
        }
        json_tokener_free(tok);
        return o;
}

static int read_any(sd_bus_message *msg, char type, const char *contents, json_object **ret, unsigned depth);

static int read_container(sd_bus_message *msg, char type, const char *contents, json_object **ret, unsigned depth) {
        json_object *o;
        bool dict = type == 'a' && contents[0] == '{';
        int r;

        r = sd_bus_message_enter_container(msg, type, contents);
        if (r < 0)
                return r;
        o = dict ? json_object_new_object() : json_object_new_array();
        if (!o)
                return -ENOMEM;
        for (;;) {
                const char *c2;
                char t2;

                r = sd_bus_message_peek_type(msg, &t2, &c2);
                if (r < 0)
                        goto fail;
                if (r == 0)
                        break;
                if (dict) {
                        json_object *key = NULL, *val = NULL;
                        const char *c3;
                        char t3;

                        r = sd_bus_message_enter_container(msg, 'e', c2);
                        if (r < 0)
                                goto fail;
                        r = sd_bus_message_peek_type(msg, &t3, &c3);
                        if (r >= 0)
                                r = read_any(msg, t3, c3, &key, depth + 1);
                        if (r >= 0)
                                r = sd_bus_message_peek_type(msg, &t3, &c3);
                        if (r >= 0)
                                r = read_any(msg, t3, c3, &val, depth + 1);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(msg);
                        if (r < 0) {
                                json_object_put(key);
                                json_object_put(val);
                                goto fail;
                        }
                        json_object_object_add(o, json_object_get_string(key), val);
                        json_object_put(key);
                } else {
                        json_object *e = NULL;

                        r = read_any(msg, t2, c2, &e, depth + 1);
                        if (r < 0)
                                goto fail;
                        json_object_array_add(o, e);
                }
        }
        r = sd_bus_message_exit_container(msg);
        if (r < 0)
                goto fail;
        *ret = o;
        return 0;
fail:
        json_object_put(o);
        return r;
}

static int read_any(sd_bus_message *msg, char type, const char *contents, json_object **ret, unsigned depth) {
        int r;

        if (depth > 32)
                return -E2BIG;
        if (type == 'v') {
                const char *c2;
                char t2;

                r = sd_bus_message_enter_container(msg, 'v', contents);
                if (r < 0)
                        return r;
                r = sd_bus_message_peek_type(msg, &t2, &c2);
                if (r < 0)
                        return r;
                r = read_any(msg, t2, c2, ret, depth + 1);
                if (r < 0)
                        return r;
                return sd_bus_message_exit_container(msg);
        }
        if (type == 'a' || type == 'r')
                return read_container(msg, type, contents, ret, depth);
        return bus_read_basic_as_json(msg, type, ret);
}

int ctl_message_to_json(sd_bus_message *msg, json_object **ret) {
        const char *contents;
        char type;
        int r;

        r = sd_bus_message_peek_type(msg, &type, &contents);
        if (r < 0)
                return r;
        if (r == 0) {
                *ret = NULL;
                return 0;
        }
        return read_any(msg, type, contents, ret, 0);
}
