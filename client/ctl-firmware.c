/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hwsecctl firmware versions|stage FILE [--name NAME]|schedule NAME [--at TIME|--window]
 *                   [--deadline TIME] [--sha256 SHA]|jobs|cancel ID|history
 * (options parsed by ctl_parse_args(), see ctl.h) */

#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <time.h>

#include "ctl.h"
#include "fileio.h"
#include "payload.h"

#define FW_PATH "/org/hwsecd1/firmware"
#define FW_IFACE "org.hwsecd1.Firmware"
#define JOB_IFACE "org.hwsecd1.FirmwareJob"
#define PROPS_IFACE "org.freedesktop.DBus.Properties"

#define TIME_HELP "TIME: now, +30s, +10min, +2h, +1d, @EPOCH, YYYY-MM-DD HH:MM[:SS] (local) or with a Z suffix (UTC).\n"

static const CtlVerb firmware_verb = {
        .name = "firmware",
        .usage = "hwsecctl firmware versions\n"
                 "hwsecctl firmware stage FILE [--name NAME]\n"
                 "hwsecctl firmware schedule NAME [--at TIME | --window] [--deadline TIME] [--sha256 SHA]\n"
                 "hwsecctl firmware jobs | cancel ID | history\n\n"
                 "SFS firmware servicing; each command takes --json.\n"
                 "'hwsecctl firmware COMMAND --help' shows the options of a command.\n"
                 TIME_HELP,
        .max_args = -1,
        .stop_at_verb = true,
};

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

/* Parses TIME into CLOCK_REALTIME µs; "now" is 0 (the daemon's "as soon as possible"). */
static int parse_time(const char *s, uint64_t *ret) {
        static const struct { const char *suffix; uint64_t usec; } units[] = {
                { "s", USEC_PER_SEC }, { "sec", USEC_PER_SEC }, { "min", 60 * USEC_PER_SEC }, { "m", 60 * USEC_PER_SEC },
                { "h", 3600 * USEC_PER_SEC }, { "d", 86400 * USEC_PER_SEC },
        };
        struct tm tm = {};
        const char *end;
        bool utc;

        if (streq(s, "now")) {
                *ret = 0;
                return 0;
        }
        if (s[0] == '+') {
                char num[32];
                size_t n = strspn(s + 1, "0123456789");
                uint64_t v;

                if (n == 0 || n >= sizeof num)
                        return -EINVAL;
                memcpy(num, s + 1, n);
                num[n] = '\0';
                if (safe_atou64(num, 10, &v) < 0)
                        return -EINVAL;
                for (size_t i = 0; i < ELEMENTSOF(units); i++)
                        if (streq(s + 1 + n, units[i].suffix) || (s[1 + n] == '\0' && i == 0)) {
                                if (v > UINT64_C(100) * 365 * 86400 * USEC_PER_SEC / units[i].usec)
                                        return -ERANGE;
                                *ret = now_usec() + v * units[i].usec;
                                return 0;
                        }
                return -EINVAL;
        }
        if (s[0] == '@') {
                uint64_t v;
                if (safe_atou64(s + 1, 10, &v) < 0 || v > UINT64_C(253402300799))
                        return -EINVAL;
                *ret = v * USEC_PER_SEC;
                return 0;
        }
        end = strptime(s, "%Y-%m-%d", &tm);
        if (!end || (*end != ' ' && *end != 'T'))
                return -EINVAL;
        end++;
        {
                const char *e2 = strptime(end, "%H:%M:%S", &tm);
                if (!e2)
                        e2 = strptime(end, "%H:%M", &tm);
                if (!e2)
                        return -EINVAL;
                end = e2;
        }
        utc = streq(end, "Z") || streq(end, " UTC");
        if (!utc && *end)
                return -EINVAL;
        tm.tm_isdst = -1;
        {
                time_t t = utc ? timegm(&tm) : mktime(&tm);
                if (t < 0)
                        return -EINVAL;
                *ret = (uint64_t) t * USEC_PER_SEC;
        }
        return 0;
}

static const char *format_time(uint64_t usec, char *buf, size_t size, const char *zero) {
        time_t t = (time_t) (usec / USEC_PER_SEC);
        struct tm tm;

        if (usec == 0)
                return zero;
        localtime_r(&t, &tm);
        strftime(buf, size, "%Y-%m-%d %H:%M:%S %Z", &tm);
        return buf;
}

static const char *jstr(json_object *o, const char *k) {
        json_object *v;
        return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}

static uint64_t jt(json_object *o, const char *k) {
        json_object *v;
        return json_object_object_get_ex(o, k, &v) ? json_object_get_uint64(v) : 0;
}

static void print_strings(json_object *versions, const char *indent) {
        json_object *strings;

        if (!json_object_object_get_ex(versions, "Strings", &strings) || !json_object_is_type(strings, json_type_array))
                return;
        for (size_t i = 0; i < json_object_array_length(strings); i++) {
                json_object *e = json_object_array_get_idx(strings, i);
                printf("%s@0x%03" PRIx64 "  %s\n", indent, json_object_get_uint64(json_object_array_get_idx(e, 0)),
                       json_object_get_string(json_object_array_get_idx(e, 1)));
        }
}

static void print_versions_line(const char *label, json_object *v) {
        json_object *valid;

        if (!v || !json_object_object_get_ex(v, "Valid", &valid) || !json_object_get_boolean(valid)) {
                printf("  %-16s (not read)\n", label);
                return;
        }
        printf("  %-16s blob sha256 %s, %" PRIu64 " bytes written\n", label, jstr(v, "Sha256"), jt(v, "WrittenSize"));
        print_strings(v, "                     ");
}

/* Replaces the Blob byte array by a hex string (4096 numbers would drown the JSON). */
static void blob_to_hex(json_object *versions) {
        json_object *blob;
        char *hex;
        size_t n;

        if (!json_object_object_get_ex(versions, "Blob", &blob) || !json_object_is_type(blob, json_type_array))
                return;
        n = json_object_array_length(blob);
        hex = malloc(2 * n + 1);
        if (!hex)
                return;
        for (size_t i = 0; i < n; i++)
                snprintf(hex + 2 * i, 3, "%02x", (unsigned) json_object_get_int(json_object_array_get_idx(blob, i)));
        hex[2 * n] = '\0';
        json_object_object_add(versions, "Blob", json_object_new_string(hex));
        free(hex);
}

static int get_all(Ctl *c, const char *path, const char *iface, json_object **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = ctl_call(c, path, PROPS_IFACE, "GetAll", &reply, "s", iface);
        if (r < 0)
                return r;
        r = ctl_message_to_json(reply, ret);
        if (r < 0 || !*ret) {
                fprintf(stderr, "hwsecctl: could not read the properties of %s.\n", path);
                return -EXIT_FAILED;
        }
        return 0;
}

static const CtlVerb versions_verb = {
        .name = "firmware versions",
        .usage = "hwsecctl firmware versions [--json]\n\n"
                 "The SFS firmware version blob: its sha256 and printable strings.\n",
        .max_args = 0,
};

static int verb_versions(Ctl *c, int argc, char **argv) {
        _cleanup_(json_object_putp) json_object *all = NULL;
        json_object *v = NULL, *p = NULL;
        char **args;
        int n, r;

        r = ctl_parse_args(c, &versions_verb, argc, argv, NULL, NULL, &args, &n);
        if (r <= 0)
                return -r;

        r = get_all(c, FW_PATH, FW_IFACE, &all);
        if (r < 0)
                return ctl_exit(r);
        (void) json_object_object_get_ex(all, "Versions", &v);
        (void) json_object_object_get_ex(all, "SfsPresent", &p);
        if (v)
                blob_to_hex(v);
        if (c->json) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "sfs_present", json_object_get(p));
                json_object_object_add(o, "versions", json_object_get(v));
                ctl_print_json(o);
                json_object_put(o);
                return EXIT_OK;
        }
        printf("SFS device:      %s\n", p && json_object_get_boolean(p) ? "present (/dev/sfs)" : "absent");
        if (v && *jstr(v, "Error"))
                printf("last read:       failed: %s\n", jstr(v, "Error"));
        if (v && *jstr(v, "Status"))
                printf("SFS status:      %s (extended 0x%08" PRIx64 ")\n", jstr(v, "Status"), jt(v, "ExtendedStatus"));
        print_versions_line("versions:", v);
        printf("(the blob format is AMD's, not public; only its sha256 and readable strings are shown)\n");
        return EXIT_OK;
}

enum {
        ARG_NAME = ARG_VERB_FIRST,
        ARG_AT,
        ARG_WINDOW,
        ARG_DEADLINE,
        ARG_SHA256,
};

static const struct option stage_options[] = {
        { "name", required_argument, NULL, ARG_NAME },
        {}
};

static const CtlVerb stage_verb = {
        .name = "firmware stage",
        .usage = "hwsecctl firmware stage FILE [--name NAME] [--json]\n\n"
                 "Copy an SFS package into the firmware search path (checked: size, name, allow-list).\n\n"
                 "  --name NAME    The package's name there (default: the file's base name)\n",
        .options = stage_options,
        .max_args = 1,
};

static int stage_option(Ctl *c, const CtlVerb *v, int opt, const char *arg, void *userdata) {
        const char **name = userdata;

        if (opt != ARG_NAME)
                return EXIT_FAILED;
        *name = arg;
        return 0;
}

static int verb_stage(Ctl *c, int argc, char **argv) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL, *reply = NULL;
        _cleanup_free_ char *copy = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *file, *name = NULL, *sha;
        char **args;
        int n, r;

        r = ctl_parse_args(c, &stage_verb, argc, argv, stage_option, &name, &args, &n);
        if (r <= 0)
                return -r;
        if (n == 0)
                return ctl_verb_usage_error(&stage_verb, "which file? Give the package to stage.");
        file = args[0];
        fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                fprintf(stderr, "hwsecctl: cannot open %s: %s\n", file, strerror(errno));
                return EXIT_FAILED;
        }
        if (!name) {
                copy = strdup(file);
                if (!copy)
                        return EXIT_FAILED;
                name = basename(copy);
        }
        /* The daemon checks again; this catches what D-Bus cannot even carry (non-UTF-8). */
        if (payload_name_check(name, strlen(name)) != PAYLOAD_OK)
                return ctl_verb_usage_error(&stage_verb, "'%s' is not a package name: %s.", name,
                                       payload_error_to_string(payload_name_check(name, strlen(name))));
        r = ctl_new_method_call(c, FW_PATH, FW_IFACE, "StagePackage", &msg);
        if (r >= 0 && sd_bus_message_append(msg, "hs", fd, name) < 0)
                r = -EXIT_FAILED;
        if (r >= 0)
                r = ctl_call_message(c, msg, &reply);
        if (r < 0)
                return ctl_exit(r);
        if (sd_bus_message_read(reply, "s", &sha) < 0)
                return EXIT_FAILED;
        if (c->json) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "name", json_object_new_string(name));
                json_object_object_add(o, "sha256", json_object_new_string(sha));
                ctl_print_json(o);
                json_object_put(o);
        } else
                printf("Staged %s (sha256 %s).\n", name, sha);
        return EXIT_OK;
}

static const struct option schedule_options[] = {
        { "at", required_argument, NULL, ARG_AT },
        { "window", no_argument, NULL, ARG_WINDOW },
        { "deadline", required_argument, NULL, ARG_DEADLINE },
        { "sha256", required_argument, NULL, ARG_SHA256 },
        {}
};

static const CtlVerb schedule_verb = {
        .name = "firmware schedule",
        .usage = "hwsecctl firmware schedule NAME [--at TIME | --window] [--deadline TIME] [--sha256 SHA] [--json]\n\n"
                 "Schedule a run-time firmware update of a staged package as a persistent job.\n\n"
                 "  --at TIME          Not before TIME\n"
                 "  --window           In the next maintenance window (the default without --at)\n"
                 "  --deadline TIME    Not after TIME\n"
                 "  --sha256 SHA       Only if the package still has this sha256\n"
                 TIME_HELP,
        .options = schedule_options,
        .max_args = 1,
};

typedef struct ScheduleArgs {
        const char *at, *deadline, *sha;
        bool window;
} ScheduleArgs;

static int schedule_option(Ctl *c, const CtlVerb *v, int opt, const char *arg, void *userdata) {
        ScheduleArgs *a = userdata;

        switch (opt) {
        case ARG_AT:
                a->at = arg;
                return 0;
        case ARG_WINDOW:
                a->window = true;
                return 0;
        case ARG_DEADLINE:
                a->deadline = arg;
                return 0;
        case ARG_SHA256:
                a->sha = arg;
                return 0;
        }
        return EXIT_FAILED;
}

static int verb_schedule(Ctl *c, int argc, char **argv) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL, *reply = NULL;
        ScheduleArgs a = {};
        const char *name, *path;
        uint64_t nb = 0, na = 0;
        char **args;
        int n, r;

        r = ctl_parse_args(c, &schedule_verb, argc, argv, schedule_option, &a, &args, &n);
        if (r <= 0)
                return -r;
        if (n == 0)
                return ctl_verb_usage_error(&schedule_verb, "which package? Give the name of a staged package.");
        if (a.window && (a.at || a.deadline))
                return ctl_verb_usage_error(&schedule_verb, "--window cannot go with --at or --deadline: the window sets both.");
        name = args[0];
        if (payload_name_check(name, strlen(name)) != PAYLOAD_OK)
                return ctl_verb_usage_error(&schedule_verb, "'%s' is not a package name: %s.", name,
                                       payload_error_to_string(payload_name_check(name, strlen(name))));
        if (!a.at)
                a.window = true;  /* without a time the job goes into the next maintenance window */
        if (a.at && parse_time(a.at, &nb) < 0)
                return ctl_verb_usage_error(&schedule_verb, "'%s' is not a time (now, +10min, @EPOCH, YYYY-MM-DD HH:MM[:SS][Z]).", a.at);
        if (a.deadline && (parse_time(a.deadline, &na) < 0 || na == 0))
                return ctl_verb_usage_error(&schedule_verb, "'%s' is not a deadline (+1h, @EPOCH, YYYY-MM-DD HH:MM[:SS][Z]).", a.deadline);

        r = ctl_new_method_call(c, FW_PATH, FW_IFACE, "ScheduleUpdate", &msg);
        if (r >= 0 && sd_bus_message_append(msg, "stt", name, nb, na) < 0)
                r = -EXIT_FAILED;
        if (r >= 0 && sd_bus_message_open_container(msg, 'a', "{sv}") < 0)
                r = -EXIT_FAILED;
        if (r >= 0 && a.window && sd_bus_message_append(msg, "{sv}", "Window", "b", 1) < 0)
                r = -EXIT_FAILED;
        if (r >= 0 && a.sha && sd_bus_message_append(msg, "{sv}", "Sha256", "s", a.sha) < 0)
                r = -EXIT_FAILED;
        if (r >= 0 && sd_bus_message_close_container(msg) < 0)
                r = -EXIT_FAILED;
        if (r >= 0)
                r = ctl_call_message(c, msg, &reply);
        if (r < 0)
                return ctl_exit(r);
        if (sd_bus_message_read(reply, "o", &path) < 0)
                return EXIT_FAILED;
        if (c->json) {
                _cleanup_(json_object_putp) json_object *job = NULL;
                if (get_all(c, path, JOB_IFACE, &job) < 0)
                        return EXIT_FAILED;
                json_object_object_add(job, "Path", json_object_new_string(path));
                ctl_print_json(job);
        } else {
                _cleanup_(json_object_putp) json_object *job = NULL;
                char b1[64], b2[64];
                if (get_all(c, path, JOB_IFACE, &job) < 0)
                        return EXIT_FAILED;
                printf("Scheduled job %" PRIu64 " (%s): %s, not before %s, not after %s.\n", jt(job, "Id"), path,
                       jstr(job, "State"), format_time(jt(job, "NotBefore"), b1, sizeof b1, "now"),
                       format_time(jt(job, "NotAfter"), b2, sizeof b2, "no deadline"));
        }
        return EXIT_OK;
}

static const CtlVerb jobs_verb = {
        .name = "firmware jobs",
        .usage = "hwsecctl firmware jobs [--json]\n\n"
                 "The firmware jobs: id, state, package, not before, not after and result.\n",
        .max_args = 0,
};

static int verb_jobs(Ctl *c, int argc, char **argv) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(json_object_putp) json_object *paths = NULL, *out = NULL;
        char **args;
        int n, r;

        r = ctl_parse_args(c, &jobs_verb, argc, argv, NULL, NULL, &args, &n);
        if (r <= 0)
                return -r;
        out = json_object_new_array();

        r = ctl_get_property(c, FW_PATH, FW_IFACE, "Jobs", "ao", &reply);
        if (r < 0)
                return ctl_exit(r);
        r = ctl_message_to_json(reply, &paths);
        if (r < 0 || !paths || !out)
                return EXIT_FAILED;
        for (size_t i = 0; i < json_object_array_length(paths); i++) {
                const char *p = json_object_get_string(json_object_array_get_idx(paths, i));
                json_object *job = NULL;

                r = get_all(c, p, JOB_IFACE, &job);
                if (r < 0)
                        return ctl_exit(r);
                json_object_object_add(job, "Path", json_object_new_string(p));
                json_object_array_add(out, job);
        }
        if (c->json) {
                ctl_print_json(out);
                return EXIT_OK;
        }
        if (json_object_array_length(out) == 0) {
                printf("No firmware jobs.\n");
                return EXIT_OK;
        }
        printf("%-4s %-12s %-28s %-25s %-25s %s\n", "ID", "STATE", "PACKAGE", "NOT BEFORE", "NOT AFTER", "RESULT");
        for (size_t i = 0; i < json_object_array_length(out); i++) {
                json_object *j = json_object_array_get_idx(out, i);
                char b1[64], b2[64];
                printf("%-4" PRIu64 " %-12s %-28s %-25s %-25s %s\n", jt(j, "Id"), jstr(j, "State"), jstr(j, "Payload"),
                       format_time(jt(j, "NotBefore"), b1, sizeof b1, "now"),
                       format_time(jt(j, "NotAfter"), b2, sizeof b2, "-"), jstr(j, "Result"));
        }
        return EXIT_OK;
}

static const CtlVerb cancel_verb = {
        .name = "firmware cancel",
        .usage = "hwsecctl firmware cancel ID [--json]\n\n"
                 "Cancel a scheduled firmware job (ID as 'hwsecctl firmware jobs' shows it).\n",
        .max_args = 1,
};

static int verb_cancel(Ctl *c, int argc, char **argv) {
        char path[64];
        char **args;
        uint32_t id;
        int n, r;

        r = ctl_parse_args(c, &cancel_verb, argc, argv, NULL, NULL, &args, &n);
        if (r <= 0)
                return -r;
        if (n == 0)
                return ctl_verb_usage_error(&cancel_verb, "which job? Give its ID.");
        if (safe_atou32(args[0], 10, &id) < 0 || id == 0)
                return ctl_verb_usage_error(&cancel_verb, "'%s' is not a job ID (a positive number).", args[0]);
        snprintf(path, sizeof path, FW_PATH "/job/%u", id);
        r = ctl_call(c, path, JOB_IFACE, "Cancel", NULL, NULL);
        if (r < 0)
                return ctl_exit(r);
        if (c->json) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "cancelled", json_object_new_int64(id));
                ctl_print_json(o);
                json_object_put(o);
        } else
                printf("Cancelled job %u.\n", id);
        return EXIT_OK;
}

static const CtlVerb history_verb = {
        .name = "firmware history",
        .usage = "hwsecctl firmware history [--json]\n\n"
                 "The finished firmware jobs, with the versions before and after.\n",
        .max_args = 0,
};

static int verb_history(Ctl *c, int argc, char **argv) {
        static const char * const keys[] = { "id", "payload", "sha256", "state", "created_usec", "started_usec",
                                             "finished_usec", "result", "versions_before", "versions_after" };
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(json_object_putp) json_object *raw = NULL, *out = NULL;
        char **args;
        int n, r;

        r = ctl_parse_args(c, &history_verb, argc, argv, NULL, NULL, &args, &n);
        if (r <= 0)
                return -r;
        out = json_object_new_array();

        r = ctl_call(c, FW_PATH, FW_IFACE, "History", &reply, NULL);
        if (r < 0)
                return ctl_exit(r);
        r = ctl_message_to_json(reply, &raw);
        if (r < 0 || !raw || !out)
                return EXIT_FAILED;
        for (size_t i = 0; i < json_object_array_length(raw); i++) {
                json_object *t = json_object_array_get_idx(raw, i), *o = json_object_new_object();
                for (size_t k = 0; k < ELEMENTSOF(keys) && k < json_object_array_length(t); k++)
                        json_object_object_add(o, keys[k], json_object_get(json_object_array_get_idx(t, k)));
                json_object_array_add(out, o);
        }
        if (c->json) {
                ctl_print_json(out);
                return EXIT_OK;
        }
        if (json_object_array_length(out) == 0) {
                printf("No finished firmware jobs.\n");
                return EXIT_OK;
        }
        for (size_t i = 0; i < json_object_array_length(out); i++) {
                json_object *h = json_object_array_get_idx(out, i), *vb = NULL, *va = NULL;
                char b1[64];

                printf("job %" PRIu64 "  %-11s %s  finished %s\n", jt(h, "id"), jstr(h, "state"), jstr(h, "payload"),
                       format_time(jt(h, "finished_usec"), b1, sizeof b1, "-"));
                printf("  %-16s %s\n", "package sha256", jstr(h, "sha256"));
                printf("  %-16s %s\n", "result", jstr(h, "result"));
                (void) json_object_object_get_ex(h, "versions_before", &vb);
                (void) json_object_object_get_ex(h, "versions_after", &va);
                print_versions_line("before", vb);
                print_versions_line("after", va);
        }
        return EXIT_OK;
}

int verb_firmware(Ctl *c, int argc, char **argv) {
        static const CtlSubVerb table[] = {
                { "versions", verb_versions },
                { "stage", verb_stage },
                { "schedule", verb_schedule },
                { "jobs", verb_jobs },
                { "cancel", verb_cancel },
                { "history", verb_history },
                {}
        };
        char **args;
        int n, r;

        r = ctl_parse_args(c, &firmware_verb, argc, argv, NULL, NULL, &args, &n);
        if (r <= 0)
                return -r;
        return ctl_dispatch(c, &firmware_verb, table, n, args);
}
