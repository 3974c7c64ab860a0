/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>
#include <stdarg.h>
#include <time.h>
#include <systemd/sd-daemon.h>

#include "bus-manager.h"
#include "bus-util.h"
#include "fileio.h"
#include "log-control.h"
#include "log.h"
#include "manager.h"
#include "paths.h"
#include "polkit.h"
#include "state.h"
#include "udev.h"

#define CONFIG_FILE_NAME "hwsecd.conf"

static uint64_t now_usec(clockid_t clock) {
        struct timespec ts;

        clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

int manager_new(Manager **ret) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        m = calloc(1, sizeof(Manager));
        if (!m)
                return -ENOMEM;
        m->state_name = "starting";

        r = sd_event_default(&m->event);
        if (r < 0)
                return r;
        r = polkit_registry_new(&m->polkit);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;

        manager_free_areas(m);

        sd_device_monitor_unref(m->monitor);
        m->polkit = polkit_registry_free(m->polkit);
        sd_bus_flush_close_unref(m->bus);
        sd_event_unref(m->event);
        conf_free(m->conf);
        json_object_put(m->state);
        strv_free(m->problems);
        strv_free(m->config_problems);
        free(m);
        return NULL;
}

static void add_problem_to(Manager *m, char ***list, const char *fmt, va_list ap) _printf_(3, 0);
static void add_problem_to(Manager *m, char ***list, const char *fmt, va_list ap) {
        _cleanup_free_ char *s = NULL;

        if (vasprintf(&s, fmt, ap) < 0) {
                log_oom();
                return;
        }
        if (strv_contains(*list, s))
                return;
        log_warning("%s", s);
        if (strv_extend(list, s) < 0) {
                log_oom();
                return;
        }
        (void) manager_emit_changed(m, "Problems", NULL);
        manager_update_state(m);
}

void manager_add_problem(Manager *m, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        add_problem_to(m, &m->problems, fmt, ap);
        va_end(ap);
}

static void add_config_problem(Manager *m, const char *fmt, ...) _printf_(2, 3);
static void add_config_problem(Manager *m, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        add_problem_to(m, &m->config_problems, fmt, ap);
        va_end(ap);
}

char **manager_problems(Manager *m) {
        char **l = calloc(1, sizeof(char *));

        if (!l)
                return NULL;
        STRV_FOREACH(p, m->problems)
                if (strv_extend(&l, *p) < 0)
                        goto fail;
        STRV_FOREACH(p, m->config_problems)
                if (strv_extend(&l, *p) < 0)
                        goto fail;
        return l;
fail:
        strv_free(l);
        return NULL;
}

int manager_emit_changed(Manager *m, const char *property, ...) {
        _cleanup_strv_free_ char **l = NULL;
        va_list ap;

        if (!m->serving)
                return 0;
        if (strv_extend(&l, property) < 0)
                return -ENOMEM;
        va_start(ap, property);
        for (const char *p; (p = va_arg(ap, const char *));)
                if (strv_extend(&l, p) < 0) {
                        va_end(ap);
                        return -ENOMEM;
                }
        va_end(ap);
        return sd_bus_emit_properties_changed_strv(m->bus, HWSECD_OBJECT_ROOT, HWSECD_MANAGER_IFACE, l);
}

void manager_update_state(Manager *m) {
        const char *s;

        if (!m->serving)
                return;
        s = manager_compute_state(m);
        if (streq(s, m->state_name))
                return;
        log_info("State: %s -> %s", m->state_name, s);
        m->state_name = s;
        (void) manager_emit_changed(m, "State", NULL);
}

int manager_save_state(Manager *m) {
        int r;

        if (m->state_unreadable) {
                _cleanup_free_ char *path = path_join(paths_state_dir(), STATE_FILE_NAME);

                /* Once the unreadable file is gone, nothing can be lost by writing. */
                if (!path)
                        return log_oom();
                if (access(path, F_OK) < 0 && errno == ENOENT)
                        m->state_unreadable = false;
                else
                        return log_warning_errno(EROFS, "Not writing %s: it could not be read at start-up, and "
                                                 "writing would replace what it holds.", path);
        }
        r = state_save(paths_state_dir(), m->state);
        if (r < 0)
                return log_error_errno(r, "Failed to write %s/%s: %m", paths_state_dir(), STATE_FILE_NAME);
        return 0;
}

static int manager_load_state(Manager *m) {
        _cleanup_free_ char *problem = NULL;
        int r;

        r = state_load(paths_state_dir(), &m->state, &problem);
        if (r < 0) {
                /* Unreadable (not corrupt): keep running with an empty state, but do not write
                 * over a file we could not read. */
                log_error_errno(r, "Failed to read the state in %s: %m", paths_state_dir());
                manager_add_problem(m, "The state file in %s could not be read (%s); changes will not be saved "
                                    "over it.", paths_state_dir(), strerror(-r));
                m->state = json_object_new_object();
                m->state_unreadable = true;
                return m->state ? 0 : -ENOMEM;
        }
        if (problem)
                manager_add_problem(m, "%s", problem);
        return 0;
}

static void apply_config_log_level(Manager *m) {
        const char *v = conf_get(m->conf, "Daemon", "LogLevel");
        int level = LOG_INFO, old = log_get_max_level();

        if (v) {
                level = log_level_from_string(v);
                if (level < 0) {
                        add_config_problem(m, "hwsecd.conf: [Daemon] LogLevel=%.64s is not a log level; ignored.", v);
                        return;
                }
        }
        /* -v and LogControl1 win over the file. */
        if (m->log_level_pinned || level == old)
                return;
        log_set_max_level(level);
        if (m->serving)
                (void) sd_bus_emit_properties_changed(m->bus, "/org/freedesktop/LogControl1",
                                                      "org.freedesktop.LogControl1", "LogLevel", NULL);
}

int manager_load_config(Manager *m, char **ret_error) {
        _cleanup_free_ char *path = NULL, *error = NULL;
        Conf *c = NULL;
        int r;

        path = path_join(paths_config_dir(), CONFIG_FILE_NAME);
        if (!path)
                return -ENOMEM;
        r = conf_load(path, &c, &error);
        if (r < 0) {
                if (ret_error && asprintf(ret_error, "%s: %s", path, error ?: strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        conf_free(m->conf);
        m->conf = c;
        if (!strv_isempty(m->config_problems)) {
                m->config_problems = (strv_free(m->config_problems), NULL);
                (void) manager_emit_changed(m, "Problems", NULL);
        }
        apply_config_log_level(m);
        manager_update_state(m);
        return 0;
}

static int on_name_lost(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        Manager *m = userdata;
        const char *name;

        if (sd_bus_message_read(msg, "s", &name) >= 0 && streq(name, HWSECD_BUS_NAME)) {
                log_notice("Another hwsecd took over %s (--replace); exiting.", HWSECD_BUS_NAME);
                (void) sd_event_exit(m->event, 0);
        }
        return 0;
}

/* sd-bus turns the loss of the connection (dbus-daemon restarted, or it dropped us: too many
 * fds, a message over max_message_size…) into this local signal. Without the bus hwsecd is
 * useless and would linger nameless; exit with failure so that systemd restarts it. */
static int on_bus_disconnected(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        Manager *m = userdata;

        if (!sd_bus_message_is_signal(msg, "org.freedesktop.DBus.Local", "Disconnected"))
                return 0;
        log_struct(LOG_ERR, MESSAGE_ID_BUS_DISCONNECTED,
                   "Lost the connection to the system bus; exiting with failure so that hwsecd is restarted.");
        (void) sd_event_exit(m->event, -ECONNRESET);
        return 0;
}

static int manager_connect_bus(Manager *m) {
        int r;

        r = sd_bus_open_system_with_description(&m->bus, "hwsecd");
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus: %m");
        r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach the bus to the event loop: %m");
        r = sd_bus_add_filter(m->bus, NULL, on_bus_disconnected, m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch for the loss of the bus connection: %m");
        r = sd_bus_match_signal(m->bus, NULL, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                "org.freedesktop.DBus", "NameLost", on_name_lost, m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch for the loss of the bus name: %m");
        return 0;
}

static int manager_request_name(Manager *m) {
        uint64_t flags = SD_BUS_NAME_ALLOW_REPLACEMENT;
        int r;

        if (m->replace)
                flags |= SD_BUS_NAME_REPLACE_EXISTING;
        r = sd_bus_request_name(m->bus, HWSECD_BUS_NAME, flags);
        if (r == -EEXIST)
                return log_error_errno(r, "Another process already owns %s: hwsecd is already running. "
                                       "Stop it first, or start this one with --replace.", HWSECD_BUS_NAME);
        if (r == -EACCES)
                return log_error_errno(r, "The bus policy does not allow this user to own %s; run hwsecd as root "
                                       "and check that org.hwsecd1.conf is installed in the bus policy directory.",
                                       HWSECD_BUS_NAME);
        if (r < 0)
                return log_error_errno(r, "Failed to acquire the bus name %s: %m", HWSECD_BUS_NAME);
        return 0;
}

void manager_remove_stale_temp_files_in(const char *dir, const char *name) {
        unsigned n = 0;
        int r;

        r = remove_stale_temp_files(dir, name, &n);
        if (r < 0)
                log_warning_errno(r, "Could not remove every stale %s" TEMP_FILE_INFIX "* file in %s, continuing: %m",
                                  name, dir);
        if (n > 0)
                log_notice("Removed %u stale temporary file%s (%s" TEMP_FILE_INFIX "<pid>) left in %s by an "
                           "interrupted write.", n, n == 1 ? "" : "s", name, dir);
}

/* A crash between writing and renaming leaves "<file>.tmp.<pid>" behind; they would pile up. */
static void manager_remove_stale_temp_files(void) {
        manager_remove_stale_temp_files_in(paths_state_dir(), STATE_FILE_NAME);
}

int manager_startup(Manager *m) {
        _cleanup_free_ char *error = NULL;
        uint64_t t0 = now_usec(CLOCK_MONOTONIC);
        int r;

        r = manager_load_config(m, &error);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0) {
                add_config_problem(m, "The configuration could not be used (%s); running with defaults.",
                                   strna(error));
                m->conf = calloc(1, sizeof(Conf));
                if (!m->conf)
                        return log_oom();
        }
        manager_remove_stale_temp_files();
        r = manager_load_state(m);
        if (r < 0)
                return r;

        r = manager_connect_bus(m);
        if (r < 0)
                return r;

        r = sd_bus_add_object_manager(m->bus, NULL, HWSECD_OBJECT_ROOT);
        if (r < 0)
                return log_error_errno(r, "Failed to add the object manager: %m");
        r = bus_manager_register(m);
        if (r < 0)
                return log_error_errno(r, "Failed to register the Manager interface: %m");
        r = log_control_register(m);
        if (r < 0)
                return log_error_errno(r, "Failed to register LogControl1: %m");
        r = polkit_install_property_filter(m);
        if (r < 0)
                return log_error_errno(r, "Failed to install the property filter: %m");

        r = udev_monitor_start(m);
        if (r < 0)
                return r;

        r = manager_start_areas(m);
        if (r < 0)
                return r;
        log_debug("Start-up before requesting the bus name took %" PRIu64 " us.", now_usec(CLOCK_MONOTONIC) - t0);

        r = manager_request_name(m);
        if (r < 0)
                return r;

        m->serving = true;
        manager_update_state(m);
        (void) sd_notify(false, "READY=1\nSTATUS=Serving org.hwsecd1");
        log_struct(LOG_INFO, MESSAGE_ID_DAEMON_STARTED, "hwsecd %s serving %s (state: %s).", HWSECD_VERSION,
                   HWSECD_BUS_NAME, m->state_name);
        return 0;
}
