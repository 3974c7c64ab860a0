/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* hwsecctl shared helpers. Every verb returns an exit code (docs/hwsecctl.md):
 *   0 ok, 1 failed, 2 usage, 3 not authorized, 4 daemon not reachable. */

#include <getopt.h>
#include <json-c/json.h>
#include <systemd/sd-bus.h>

#include "json-util.h"
#include "macro.h"

enum {
        EXIT_OK = 0,
        EXIT_FAILED = 1,
        EXIT_USAGE = 2,
        EXIT_NOT_AUTHORIZED = 3,
        EXIT_UNREACHABLE = 4,
};

typedef struct Ctl {
        bool json;           /* --json */
        bool ask_password;   /* interactive authorization (default: stdin is a tty) */
        sd_bus *bus;         /* connected lazily by ctl_bus() */
} Ctl;

/* A verb gets its own words: argv[0] is its name ("pci", "audit"), the rest follows it. */
typedef int (*VerbFunc)(Ctl *c, int argc, char **argv);

/* Values of the global options in every verb's getopt_long table. A verb's own options use
 * values from ARG_VERB_FIRST up to 0xfff, each value once (error messages name the option by
 * it). */
enum {
        ARG_VERB_FIRST = 0x100,
        ARG_JSON = 0x1000,
        ARG_NO_ASK_PASSWORD,
        ARG_VERSION,
};

typedef struct CtlVerb {
        const char *name;               /* as typed after "hwsecctl": "pci audit"; NULL for hwsecctl itself */
        const char *usage;              /* printed by --help, on stdout */
        const struct option *options;   /* the verb's own options, {} terminated; NULL: none */
        int max_args;                   /* positional arguments allowed; -1: any number */
        bool stop_at_verb;              /* options end at the first positional word: a sub-verb follows */
} CtlVerb;

/* Called for each of the verb's own options, in command-line order. Returns 0, or the exit
 * code to stop with (ctl_verb_usage_error() for a bad value). */
typedef int (*CtlOptionFunc)(Ctl *c, const CtlVerb *v, int opt, const char *arg, void *userdata);

/* Parses a verb's words (argv[0] is the verb's name) with getopt_long, the same way for every
 * verb: the verb's options and the global ones (--json, --no-ask-password, -h/--help,
 * --version) anywhere on the line, "--opt=value" and "--opt value" alike, "--" ends the
 * options. Unknown options, missing or unexpected option arguments and more than max_args
 * positional words are usage errors that name the option and the verb. With stop_at_verb the
 * options end at the first positional word (the sub-verb), which starts *ret_args.
 * Returns 1 when the verb should run, with the positional words (pointers into argv) in
 * *ret_args and their number in *ret_n; 0 when --help or --version was printed (exit 0);
 * else minus the exit code. */
int ctl_parse_args(Ctl *c, const CtlVerb *v, int argc, char **argv, CtlOptionFunc f, void *userdata,
                   char ***ret_args, int *ret_n);
/* Prints "hwsecctl VERB: MESSAGE" and where its usage is, and returns EXIT_USAGE. */
int ctl_verb_usage_error(const CtlVerb *v, const char *fmt, ...) _printf_(2, 3);
typedef struct CtlSubVerb {
        const char *name;
        VerbFunc func;
} CtlSubVerb;
/* Runs the sub-verb argv[0] from a {} terminated table (argv as ctl_parse_args() left it with
 * stop_at_verb); no or an unknown sub-verb is a usage error of v that lists the table. */
int ctl_dispatch(Ctl *c, const CtlVerb *v, const CtlSubVerb *table, int argc, char **argv);

/* Connects to the system bus (honours DBUS_SYSTEM_BUS_ADDRESS). On failure prints why and how
 * to start the daemon, and returns -EXIT_UNREACHABLE-style negative errno; callers use
 * ctl_exit_for_errno(). */
int ctl_bus(Ctl *c, sd_bus **ret);

/* Calls a method on org.hwsecd1, with interactive authorization when c->ask_password.
 * On error prints the error for a person (or as JSON with --json) and returns the exit code
 * to use (1, 3 or 4) as a negative number; on success returns 0 and *ret_reply. */
int ctl_call(Ctl *c, const char *path, const char *interface, const char *method,
             sd_bus_message **ret_reply, const char *types, ...);
/* Like ctl_call, with a message the caller has filled (for a{sv} arguments, fds…). */
int ctl_call_message(Ctl *c, sd_bus_message *msg, sd_bus_message **ret_reply);
int ctl_new_method_call(Ctl *c, const char *path, const char *interface, const char *method,
                        sd_bus_message **ret);
/* Gets one property; prints errors as ctl_call does. */
int ctl_get_property(Ctl *c, const char *path, const char *interface, const char *property,
                     const char *type, sd_bus_message **ret_reply);

/* Maps a D-Bus error to an exit code (AccessDenied & co -> 3, no daemon -> 4, else 1). */
int ctl_exit_for_error(const sd_bus_error *e);
/* Turns a negative return of ctl_call into an exit code. */
static inline int ctl_exit(int r) {
        return r >= 0 ? EXIT_OK : (-r >= EXIT_FAILED && -r <= EXIT_UNREACHABLE ? -r : EXIT_FAILED);
}

/* Prints a JSON document (pretty) to stdout. */
void ctl_print_json(json_object *o);
/* Parses a JSON string (e.g. from Describe()); NULL on error. */
json_object *ctl_parse_json(const char *s);
/* Reads a whole D-Bus value of any type from msg into JSON (variants unwrapped, a{sv} and
 * a{s*} as objects, structs and arrays as arrays). */
int ctl_message_to_json(sd_bus_message *msg, json_object **ret);

/* Area verb families (client/ctl-<area>.c). */
int verb_status(Ctl *c, int argc, char **argv);
int verb_psp(Ctl *c, int argc, char **argv);
int verb_check(Ctl *c, int argc, char **argv);
int verb_asid(Ctl *c, int argc, char **argv);
int verb_firmware(Ctl *c, int argc, char **argv);
int verb_pci(Ctl *c, int argc, char **argv);
int verb_metrics(Ctl *c, int argc, char **argv);
