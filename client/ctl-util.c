/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <assert.h>
#include <stdarg.h>

#include "bus-util.h"
#include "ctl.h"

#define BUS_NAME "org.hwsecd1"

static void print_see_help(const CtlVerb *v) {
        if (v && v->name)
                fprintf(stderr, "See 'hwsecctl %s --help'.\n", v->name);
        else
                fputs("See 'hwsecctl --help'.\n", stderr);
}

int ctl_verb_usage_error(const CtlVerb *v, const char *fmt, ...) {
        va_list ap;

        if (v && v->name)
                fprintf(stderr, "hwsecctl %s: ", v->name);
        else
                fputs("hwsecctl: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        print_see_help(v);
        return EXIT_USAGE;
}

static const struct option global_options[] = {
        { "json", no_argument, NULL, ARG_JSON },
        { "no-ask-password", no_argument, NULL, ARG_NO_ASK_PASSWORD },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, ARG_VERSION },
};

/* The verb's options followed by the global ones, {} terminated. */
static struct option *merge_options(const struct option *verb_options) {
        size_t n = 0;
        struct option *all;

        while (verb_options && verb_options[n].name)
                n++;
        all = calloc(n + ELEMENTSOF(global_options) + 1, sizeof(struct option));
        if (!all)
                return NULL;
        if (n > 0)
                memcpy(all, verb_options, n * sizeof(struct option));
        memcpy(all + n, global_options, sizeof(global_options));
        return all;
}

static const char *option_name_by_val(const struct option *options, int val) {
        for (const struct option *o = options; o->name; o++)
                if (!o->flag && o->val == val)
                        return o->name;
        return NULL;
}

/* getopt_long() was told to be quiet (opterr = 0, ':' in optstring); say what was wrong with
 * the word it stopped at, naming the option as it was typed. */
static int option_error(const CtlVerb *v, const struct option *options, int ret, char **argv) {
        const char *word = argv[optind - 1], *name = optopt ? option_name_by_val(options, optopt) : NULL;

        if (optopt == 0) {
                /* an unknown (or ambiguous) long option: name it without its "=value" */
                size_t len = strcspn(word, "=");
                return ctl_verb_usage_error(v, "unknown option '%.*s'.", (int) MIN(len, (size_t) 200), word);
        }
        if (name && word[0] == '-' && word[1] == '-')
                return ret == ':' ? ctl_verb_usage_error(v, "option '--%s' needs an argument.", name)
                                  : ctl_verb_usage_error(v, "option '--%s' takes no argument.", name);
        if (ret == ':')
                return ctl_verb_usage_error(v, "option '-%c' needs an argument.", optopt);
        if (optopt > ' ' && optopt < 0x7f)
                return ctl_verb_usage_error(v, "unknown option '-%c'.", optopt);
        return ctl_verb_usage_error(v, "unknown option '%s'.", word);
}

static int print_usage(const CtlVerb *v) {
        fputs(v->usage, stdout);
        return 0;
}

int ctl_parse_args(Ctl *c, const CtlVerb *v, int argc, char **argv, CtlOptionFunc f, void *userdata,
                   char ***ret_args, int *ret_n) {
        _cleanup_free_ struct option *options = NULL;
        int opt, n = 0;

        assert(argc >= 1);
        options = merge_options(v->options);
        if (!options)
                return -EXIT_FAILED;

        /* "+": stop at the sub-verb; "-": hand positional words back in order (independent of
         * POSIXLY_CORRECT), so that options may follow them. ':' : report a missing argument
         * apart from an unknown option. optind = 0 starts getopt afresh for every verb. */
        optind = 0;
        opterr = 0;
        while ((opt = getopt_long(argc, argv, v->stop_at_verb ? "+:h" : "-:h", options, NULL)) >= 0) {
                int r = 0;

                switch (opt) {
                case 1:
                        /* A positional word. getopt_long() in this mode only looks at argv from
                         * optind on, so the words already seen can be packed at argv[1...]. */
                        argv[1 + n++] = optarg;
                        break;
                case ARG_JSON:
                        c->json = true;
                        break;
                case ARG_NO_ASK_PASSWORD:
                        c->ask_password = false;
                        break;
                case 'h':
                        return print_usage(v);
                case ARG_VERSION:
                        printf("hwsecctl %s\n", HWSECD_VERSION);
                        return 0;
                case '?':
                case ':':
                        return -option_error(v, options, opt, argv);
                default:
                        r = f ? f(c, v, opt, optarg, userdata) : EXIT_FAILED;
                        if (r != 0)
                                return -r;
                }
        }

        if (v->stop_at_verb) {
                *ret_args = argv + optind;
                *ret_n = argc - optind;
                return 1;
        }
        /* after "--": the rest is positional */
        for (int i = optind; i < argc; i++)
                argv[1 + n++] = argv[i];
        if (v->max_args >= 0 && n > v->max_args)
                return -ctl_verb_usage_error(v, "unexpected argument '%s'.", argv[1 + v->max_args]);
        *ret_args = argv + 1;
        *ret_n = n;
        return 1;
}

int ctl_dispatch(Ctl *c, const CtlVerb *v, const CtlSubVerb *table, int argc, char **argv) {
        char list[256] = "";

        if (argc > 0)
                for (const CtlSubVerb *s = table; s->name; s++)
                        if (streq(argv[0], s->name))
                                return s->func(c, argc, argv);

        for (const CtlSubVerb *s = table; s->name; s++) {
                strncat(list, s->name, sizeof list - strlen(list) - 1);
                strncat(list, s[1].name ? (s[2].name ? ", " : " or ") : "", sizeof list - strlen(list) - 1);
        }
        if (argc == 0)
                return ctl_verb_usage_error(v, "which command? Expected %s.", list);
        return ctl_verb_usage_error(v, "unknown command '%s' (expected %s).", argv[0], list);
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
