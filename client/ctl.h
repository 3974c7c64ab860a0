/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* hwsecctl shared helpers. Every verb returns an exit code (docs/hwsecctl.md):
 *   0 ok, 1 failed, 2 usage, 3 not authorized, 4 daemon not reachable. */

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

typedef int (*VerbFunc)(Ctl *c, int argc, char **argv);

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

/* Prints usage for a verb family and returns EXIT_USAGE. */
int ctl_usage_error(const char *fmt, ...) _printf_(1, 2);

/* Area verb families (client/ctl-<area>.c). */
int verb_status(Ctl *c, int argc, char **argv);
int verb_psp(Ctl *c, int argc, char **argv);
int verb_check(Ctl *c, int argc, char **argv);
int verb_asid(Ctl *c, int argc, char **argv);
int verb_firmware(Ctl *c, int argc, char **argv);
int verb_pci(Ctl *c, int argc, char **argv);
