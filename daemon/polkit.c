/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <dirent.h>
#include <stdarg.h>
#include <sys/resource.h>

#include "bus-errors.h"
#include "fileio.h"
#include "bus-util.h"
#include "log-control.h"
#include "log.h"
#include "polkit.h"

#define POLKIT_NAME "org.freedesktop.PolicyKit1"
#define POLKIT_PATH "/org/freedesktop/PolicyKit1/Authority"
#define POLKIT_IFACE "org.freedesktop.PolicyKit1.Authority"
#define POLKIT_TIMEOUT_USEC (25 * USEC_PER_SEC)

/* ---- The default-deny table: every mutating method or writable property, and its action. ----
 * Anything not listed here is refused by polkit_verify(). */
typedef struct PolkitRule {
        const char *interface;
        const char *member;     /* a method, or a writable property when path is set */
        const char *action;
        const char *path;       /* properties only: the one object that has it */
} PolkitRule;

static const PolkitRule rules[] = {
        { "org.hwsecd1.Manager",         "Reload",         "org.hwsecd1.reload" },
        { "org.freedesktop.LogControl1", "LogLevel",       "org.hwsecd1.set-log-level", "/org/freedesktop/LogControl1" },
        { "org.freedesktop.LogControl1", "LogTarget",      "org.hwsecd1.set-log-level", "/org/freedesktop/LogControl1" },
        { "org.hwsecd1.Asid",            "SetPolicy",      "org.hwsecd1.set-asid-policy" },
        { "org.hwsecd1.Firmware",        "StagePackage",   "org.hwsecd1.stage-firmware" },
        { "org.hwsecd1.Firmware",        "ScheduleUpdate", "org.hwsecd1.schedule-firmware-update" },
        { "org.hwsecd1.FirmwareJob",     "Cancel",         "org.hwsecd1.cancel-firmware-update" },
        { "org.hwsecd1.Psp",             "CommitFirmware", "org.hwsecd1.commit-firmware" },
        { "org.hwsecd1.Psp",             "SetSnpConfig",   "org.hwsecd1.set-snp-config" },
};

/* Callers could flood slow polkit with requests. Every request waiting for the bus driver or
 * polkit holds its message (and any fds in it) and one of the replies dbus-daemon lets hwsecd
 * await (max_replies_per_connection, 128 on the system bus): bound them per connection, per
 * uid and in total, leaving room for everybody else. */
#define POLKIT_MAX_PENDING_PER_SENDER 16
#define POLKIT_MAX_PENDING_PER_UID    16
#define POLKIT_MAX_PENDING            64

static const char * const actions[] = {
        "org.hwsecd1.reload",
        "org.hwsecd1.set-log-level",
        "org.hwsecd1.set-asid-policy",
        "org.hwsecd1.stage-firmware",
        "org.hwsecd1.schedule-firmware-update",
        "org.hwsecd1.cancel-firmware-update",
        "org.hwsecd1.commit-firmware",
        "org.hwsecd1.set-snp-config",
        NULL,
};

const char *polkit_action_for(const char *interface, const char *member) {
        if (!interface || !member)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(rules); i++)
                if (!rules[i].path && streq(rules[i].interface, interface) && streq(rules[i].member, member))
                        return rules[i].action;
        return NULL;
}

static const char *polkit_property_action_for(const char *path, const char *interface, const char *property) {
        if (!path || !interface || !property)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(rules); i++)
                if (rules[i].path && streq(rules[i].path, path) && streq(rules[i].interface, interface) &&
                    streq(rules[i].member, property))
                        return rules[i].action;
        return NULL;
}

bool polkit_action_known(const char *action) {
        return action && strv_contains((char **) actions, action);
}

const char * const *polkit_actions(void) {
        return actions;
}

/* ---- Pending and answered queries, keyed by the request message. ---- */

typedef enum QueryState {
        QUERY_CREDS,      /* waiting for the bus driver to say who the caller is */
        QUERY_PENDING,    /* waiting for polkit */
        QUERY_AUTHORIZED,
        QUERY_DENIED,
        QUERY_CHALLENGE,
        QUERY_BUSY,       /* refused by the caps above: error_message says why */
        QUERY_FAILED,     /* polkit absent or broken: error_message says why */
} QueryState;

typedef struct Query Query;
struct Query {
        PolkitRegistry *registry;
        Manager *manager;
        sd_bus_message *request;
        sd_bus_slot *slot;
        sd_event_source *defer;
        char *action;
        QueryState state;
        bool can_do;      /* CanDo(): reply with the answer instead of re-dispatching */
        bool uid_valid;
        uid_t uid;
        char *error_message;
        Query *prev, *next;
};

struct PolkitRegistry {
        Query *queries;
        bool ask_for_root;
};

static bool query_active(const Query *q) {
        return q->state == QUERY_CREDS || q->state == QUERY_PENDING;
}

static Query *query_free(Query *q) {
        if (!q)
                return NULL;
        if (q->registry) {
                if (q->prev)
                        q->prev->next = q->next;
                else
                        q->registry->queries = q->next;
                if (q->next)
                        q->next->prev = q->prev;
        }
        sd_bus_slot_unref(q->slot);
        sd_event_source_disable_unref(q->defer);
        sd_bus_message_unref(q->request);
        free(q->action);
        free(q->error_message);
        free(q);
        return NULL;
}

int polkit_registry_new(PolkitRegistry **ret) {
        PolkitRegistry *r;
        const char *e;

        r = calloc(1, sizeof(PolkitRegistry));
        if (!r)
                return -ENOMEM;
        /* Only ever stricter: the test suite, which runs as root, sets it to see polkit's answers. */
        e = getenv("HWSECD_POLKIT_FOR_ROOT");
        r->ask_for_root = e && parse_boolean(e) > 0;
        *ret = r;
        return 0;
}

PolkitRegistry *polkit_registry_free(PolkitRegistry *r) {
        if (!r)
                return NULL;
        while (r->queries)
                query_free(r->queries);
        free(r);
        return NULL;
}

static Query *query_find(PolkitRegistry *r, sd_bus_message *msg) {
        for (Query *q = r->queries; q; q = q->next)
                if (!q->can_do && q->request == msg)
                        return q;
        return NULL;
}

static unsigned count_active(PolkitRegistry *r, const char *sender, const uid_t *uid) {
        unsigned n = 0;

        for (Query *q = r->queries; q; q = q->next) {
                if (!query_active(q))
                        continue;
                if (sender && !streq(strempty(sd_bus_message_get_sender(q->request)), sender))
                        continue;
                if (uid && (!q->uid_valid || q->uid != *uid))
                        continue;
                n++;
        }
        return n;
}

/* Every request waiting here holds its message, with any unix fds it carries (up to the bus's
 * max_message_unix_fds, 16 on the system bus, also fds its signature never refers to: sd-bus
 * has no public accessor for a received message's fd count, so they cannot be refused one by
 * one). The caps bound them per uid and in total; this keeps the fd table from filling up.
 * Open fds against RLIMIT_NOFILE: every held request may carry fds, and the bus connection
 * dies when a message's fds cannot be received. Keep a quarter of the table free. */
static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

static bool fd_table_filling_up(void) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct rlimit rl;
        unsigned long n = 0;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
                return false;
        d = opendir("/proc/self/fd");
        if (!d)
                /* No fd left to open the directory with is the fullest table there is. */
                return errno == EMFILE || errno == ENFILE;
        while (readdir(d))
                n++;
        return n >= rl.rlim_cur / 4 * 3;
}

static int check_caps(PolkitRegistry *r, sd_bus_message *msg, sd_bus_error *ret_error) {
        const char *sender = sd_bus_message_get_sender(msg);

        if (count_active(r, sender, NULL) >= POLKIT_MAX_PENDING_PER_SENDER)
                return sd_bus_error_setf(ret_error, HWSEC_ERROR_BUSY,
                                         "Too many authorization requests from this client are waiting for polkit; "
                                         "wait for them to finish and try again.");
        if (count_active(r, NULL, NULL) >= POLKIT_MAX_PENDING)
                return sd_bus_error_setf(ret_error, HWSEC_ERROR_BUSY,
                                         "Too many authorization requests are waiting for polkit (%u); try again "
                                         "in a moment, and check that polkit is answering (journalctl -u polkit).",
                                         (unsigned) POLKIT_MAX_PENDING);
        if (fd_table_filling_up())
                return sd_bus_error_setf(ret_error, HWSEC_ERROR_BUSY,
                                         "hwsecd is holding too many file descriptors for requests waiting for "
                                         "polkit; try again in a moment.");
        return 0;
}

static int on_query_defer(sd_event_source *s, void *userdata) {
        /* The re-dispatched handler has run by now (it runs at normal priority; this runs at
         * idle priority), so the answer is no longer needed. */
        query_free(userdata);
        return 0;
}

static bool error_is_polkit_absent(const sd_bus_error *e) {
        return sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER,
                                      "org.freedesktop.DBus.Error.Spawn.ServiceNotFound",
                                      "org.freedesktop.DBus.Error.Spawn.ExecFailed");
}

static int parse_polkit_reply(sd_bus_message *reply, bool *ret_authorized, bool *ret_challenge) {
        int authorized, challenge, r;

        r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
        if (r < 0)
                return r;
        *ret_authorized = authorized;
        *ret_challenge = challenge;
        return 0;
}

static void query_set_failure(Query *q, const sd_bus_error *e) {
        int r;

        q->state = QUERY_FAILED;
        if (error_is_polkit_absent(e))
                r = asprintf(&q->error_message,
                             "polkit is not running, so hwsecd cannot authorize '%s'. Start polkit "
                             "(systemctl start polkit) or ask an administrator.", q->action);
        else if (sd_bus_error_has_name(e, SD_BUS_ERROR_NO_REPLY) || sd_bus_error_has_name(e, SD_BUS_ERROR_TIMEOUT))
                r = asprintf(&q->error_message,
                             "polkit did not answer in time for '%s'; the request was refused. "
                             "Try again; if it persists, check polkit's log.", q->action);
        else
                r = asprintf(&q->error_message, "polkit could not check '%s' (%s: %s); the request was refused.",
                             q->action, strna(e->name), strna(e->message));
        if (r < 0)
                q->error_message = NULL;
        log_warning("Authorization of %s for %s failed: %s", q->action,
                    strna(sd_bus_message_get_sender(q->request)), strna(e->message));
}

static const char *query_can_do_answer(const Query *q) {
        switch (q->state) {
        case QUERY_AUTHORIZED:
                return "yes";
        case QUERY_CHALLENGE:
                return "challenge";
        default:
                return "no";
        }
}

static int query_result(Query *q, sd_bus_error *ret_error);

/* The answer is known: reply to CanDo(), or run the original handler again, which finds the
 * answer. */
static void query_finish(Query *q) {
        sd_bus *bus = sd_bus_message_get_bus(q->request);
        int r;

        log_debug("polkit: %s for %s -> %d", q->action, strna(sd_bus_message_get_sender(q->request)), q->state);

        if (q->can_do) {
                if (q->state == QUERY_BUSY) {
                        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

                        (void) query_result(q, &e);
                        (void) sd_bus_reply_method_error(q->request, &e);
                } else {
                        if (q->state == QUERY_FAILED)
                                log_debug("CanDo(%s): polkit gave no usable answer; replying \"no\".", q->action);
                        (void) sd_bus_reply_method_return(q->request, "s", query_can_do_answer(q));
                }
                query_free(q);
                return;
        }

        /* Free the answer once the loop is idle. The message is queued last, so that nothing can
         * fail after it: an error reply below must never be followed by a second run of the
         * handler. */
        r = sd_event_add_defer(q->manager->event, &q->defer, on_query_defer, q);
        if (r >= 0)
                r = sd_event_source_set_priority(q->defer, SD_EVENT_PRIORITY_IDLE);
        if (r >= 0)
                r = sd_bus_message_rewind(q->request, true);
        if (r >= 0)
                r = sd_bus_enqueue_for_read(bus, q->request);
        if (r < 0) {
                log_error_errno(r, "Failed to re-dispatch a call after authorization: %m");
                (void) sd_bus_reply_method_errorf(q->request, SD_BUS_ERROR_FAILED,
                                                  "Internal error while authorizing '%s'.", q->action);
                query_free(q);
        }
}

static int on_check_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Query *q = userdata;
        const sd_bus_error *e;
        int r;

        q->slot = sd_bus_slot_unref(q->slot);

        e = sd_bus_message_get_error(reply);
        if (e)
                query_set_failure(q, e);
        else {
                bool authorized = false, challenge = false;

                r = parse_polkit_reply(reply, &authorized, &challenge);
                if (r < 0) {
                        _cleanup_(sd_bus_error_free) sd_bus_error err = SD_BUS_ERROR_NULL;
                        sd_bus_error_setf(&err, SD_BUS_ERROR_INVALID_ARGS, "polkit sent a reply that cannot be parsed");
                        query_set_failure(q, &err);
                } else
                        q->state = authorized ? QUERY_AUTHORIZED : challenge ? QUERY_CHALLENGE : QUERY_DENIED;
        }
        query_finish(q);
        return 0;
}

static int append_check_authorization(sd_bus_message *c, const char *sender, const char *action, uint32_t flags) {
        return sd_bus_message_append(c, "(sa{sv})sa{ss}us", "system-bus-name", 1, "name", "s", sender, action, 0,
                                     flags, "");
}

static int query_ask_polkit(Query *q) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *c = NULL;
        sd_bus *bus = q->manager->bus;
        int r;

        r = sd_bus_message_new_method_call(bus, &c, POLKIT_NAME, POLKIT_PATH, POLKIT_IFACE, "CheckAuthorization");
        if (r < 0)
                return r;
        /* AllowUserInteraction follows the caller's ALLOW_INTERACTIVE_AUTHORIZATION header;
         * CanDo() never prompts. */
        r = append_check_authorization(c, sd_bus_message_get_sender(q->request), q->action,
                                       !q->can_do && sd_bus_message_get_allow_interactive_authorization(q->request));
        if (r < 0)
                return r;
        /* No set_auto_start(false): on Debian polkitd is bus-activated and usually not running
         * yet when the first mutation arrives. Where it is not installed the bus answers
         * ServiceUnknown at once, which is reported as "polkit is not running". */
        r = sd_bus_call_async(bus, &q->slot, c, on_check_reply, q, POLKIT_TIMEOUT_USEC);
        if (r < 0)
                return r;
        q->state = QUERY_PENDING;
        return 0;
}

static int read_unix_user_id(sd_bus_message *reply, uid_t *ret) {
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *key;
                uint32_t uid;

                r = sd_bus_message_read(reply, "s", &key);
                if (r < 0)
                        return r;
                if (streq(key, "UnixUserID")) {
                        r = sd_bus_message_read(reply, "v", "u", &uid);
                        if (r < 0)
                                return r;
                        *ret = (uid_t) uid;
                        return 0;
                }
                r = sd_bus_message_skip(reply, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        return r < 0 ? r : -ENODATA;
}

static void query_set_busy(Query *q, const char *fmt, ...) _printf_(2, 3);
static void query_set_busy(Query *q, const char *fmt, ...) {
        va_list ap;

        q->state = QUERY_BUSY;
        va_start(ap, fmt);
        if (vasprintf(&q->error_message, fmt, ap) < 0)
                q->error_message = NULL;
        va_end(ap);
}

/* The caller is known: uid 0 is authorized without asking polkit, as systemd's daemons do
 * (bus_verify_polkit_async()); anybody else waits for polkit within the per-uid cap. */
static int on_creds_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Query *q = userdata;
        const sd_bus_error *e;
        int r;

        q->slot = sd_bus_slot_unref(q->slot);

        e = sd_bus_message_get_error(reply);
        if (e) {
                query_set_failure(q, e);
                query_finish(q);
                return 0;
        }
        r = read_unix_user_id(reply, &q->uid);
        if (r < 0) {
                _cleanup_(sd_bus_error_free) sd_bus_error err = SD_BUS_ERROR_NULL;
                sd_bus_error_setf(&err, SD_BUS_ERROR_INVALID_ARGS,
                                  "the bus did not say which user sent the request");
                query_set_failure(q, &err);
                query_finish(q);
                return 0;
        }

        if (q->uid == 0 && !q->registry->ask_for_root) {
                q->state = QUERY_AUTHORIZED;
                query_finish(q);
                return 0;
        }
        if (count_active(q->registry, NULL, &q->uid) >= POLKIT_MAX_PENDING_PER_UID) {
                query_set_busy(q, "Too many authorization requests of user %u are waiting for polkit (%u); "
                               "wait for them to finish and try again.", (unsigned) q->uid,
                               (unsigned) POLKIT_MAX_PENDING_PER_UID);
                query_finish(q);
                return 0;
        }
        q->uid_valid = true;
        r = query_ask_polkit(q);
        if (r < 0) {
                log_error_errno(r, "Failed to ask polkit about %s: %m", q->action);
                query_set_busy(q, "Could not ask polkit about '%s'; try again in a moment.", q->action);
                query_finish(q);
        }
        return 0;
}

static int query_start(Manager *m, sd_bus_message *msg, const char *action, bool can_do) {
        const char *sender = sd_bus_message_get_sender(msg);
        Query *q;
        int r;

        if (!sender)
                return -EBADMSG;

        q = calloc(1, sizeof(Query));
        if (!q)
                return -ENOMEM;
        q->manager = m;
        q->request = sd_bus_message_ref(msg);
        q->can_do = can_do;
        q->state = QUERY_CREDS;
        q->action = strdup(action);
        if (!q->action) {
                query_free(q);
                return -ENOMEM;
        }
        /* Who is asking? Asynchronously, so that a slow bus driver never stalls the loop. */
        r = sd_bus_call_method_async(m->bus, &q->slot, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                     "org.freedesktop.DBus", "GetConnectionCredentials", on_creds_reply, q,
                                     "s", sender);
        if (r < 0) {
                query_free(q);
                return r;
        }
        q->registry = m->polkit;
        q->next = m->polkit->queries;
        if (q->next)
                q->next->prev = q;
        m->polkit->queries = q;
        return 0;
}

static int query_result(Query *q, sd_bus_error *ret_error) {
        switch (q->state) {
        case QUERY_AUTHORIZED:
                return 1;
        case QUERY_CREDS:
        case QUERY_PENDING:
                return 0;
        case QUERY_CHALLENGE:
                return sd_bus_error_setf(ret_error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                                         "Authentication is required for '%s'. Call again allowing interactive "
                                         "authorization (hwsecctl without --no-ask-password, or busctl "
                                         "--allow-interactive-authorization=yes).", q->action);
        case QUERY_DENIED:
                return sd_bus_error_setf(ret_error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Not authorized to perform '%s'. Ask an administrator.", q->action);
        case QUERY_BUSY:
                return sd_bus_error_set(ret_error, HWSEC_ERROR_BUSY,
                                        q->error_message ?: "Too many authorization requests are waiting; try again.");
        case QUERY_FAILED:
                return sd_bus_error_set(ret_error, SD_BUS_ERROR_ACCESS_DENIED,
                                        q->error_message ?: "Authorization failed; the request was refused.");
        }
        return -EINVAL;
}

static int verify_action(Manager *m, sd_bus_message *msg, const char *action, sd_bus_error *ret_error) {
        Query *q;
        int r;

        q = query_find(m->polkit, msg);
        if (q)
                return query_result(q, ret_error);

        r = check_caps(m->polkit, msg, ret_error);
        if (r < 0)
                return r;
        r = query_start(m, msg, action, false);
        if (r < 0) {
                log_error_errno(r, "Failed to ask polkit about %s: %m", action);
                return sd_bus_error_setf(ret_error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Could not ask polkit about '%s'; the request was refused.", action);
        }
        return 0;
}

int polkit_verify(Manager *m, sd_bus_message *msg, sd_bus_error *ret_error) {
        const char *interface = sd_bus_message_get_interface(msg);
        const char *member = sd_bus_message_get_member(msg);
        const char *action = polkit_action_for(interface, member);

        if (!action) {
                log_error("No polkit action is defined for %s.%s; refusing (default deny).",
                          strna(interface), strna(member));
                return sd_bus_error_setf(ret_error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "%s.%s is not allowed: no authorization rule covers it.",
                                         strna(interface), strna(member));
        }
        return verify_action(m, msg, action, ret_error);
}

/* ---- CanDo(): a non-interactive check whose answer goes straight back to the caller. ---- */

int polkit_can_do(Manager *m, sd_bus_message *msg, const char *action, sd_bus_error *ret_error) {
        int r;

        if (!polkit_action_known(action))
                return sd_bus_error_setf(ret_error, HWSEC_ERROR_INVALID_ARGUMENT,
                                         "Unknown action '%.64s%s'. Known actions are listed in "
                                         "/usr/share/polkit-1/actions/org.hwsecd1.policy.",
                                         action, strlen(action) > 64 ? "…" : "");

        r = check_caps(m->polkit, msg, ret_error);
        if (r < 0)
                return r;
        r = query_start(m, msg, action, true);
        if (r < 0)
                return r;
        return 1;
}

/* ---- Writable properties: Properties.Set goes through the same table. ----
 * sd-bus replies to Properties.Set itself as soon as the setter returns, so the asynchronous
 * check cannot happen inside the setter. A bus filter sees the call first: it validates the
 * value, asks polkit, and lets the call through to the setter only once authorized. Setters
 * call polkit_property_authorized() so nothing can bypass the filter. */


static int on_properties_set(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        Manager *m = userdata;
        const char *interface, *property, *action;
        Query *q;
        int r;

        if (!sd_bus_message_is_method_call(msg, "org.freedesktop.DBus.Properties", "Set"))
                return 0;

        r = sd_bus_message_read(msg, "ss", &interface, &property);
        if (r < 0) {
                (void) sd_bus_message_rewind(msg, true);
                return 0; /* let sd-bus reply with its own error about the signature */
        }
        action = polkit_property_action_for(sd_bus_message_get_path(msg), interface, property);
        if (!action) {
                (void) sd_bus_message_rewind(msg, true);
                return 0; /* not a writable property of ours: sd-bus answers PropertyReadOnly & co */
        }

        q = query_find(m->polkit, msg);
        if (!q) {
                /* First pass: validate the value before anybody is asked to authenticate. */
                if (streq(interface, "org.freedesktop.LogControl1")) {
                        r = log_control_validate(property, msg, &error);
                        if (r < 0) {
                                (void) sd_bus_reply_method_error(msg, &error);
                                return 1;
                        }
                }
        }
        (void) sd_bus_message_rewind(msg, true);

        r = verify_action(m, msg, action, &error);
        if (r == 0)
                return 1;                 /* pending: the message comes back later */
        if (r < 0) {
                (void) sd_bus_reply_method_error(msg, &error);
                return 1;
        }
        return 0;                         /* authorized: on to the setter */
}

bool polkit_property_authorized(Manager *m, sd_bus_message *msg) {
        Query *q = msg ? query_find(m->polkit, msg) : NULL;
        return q && q->state == QUERY_AUTHORIZED;
}

int polkit_install_property_filter(Manager *m) {
        return sd_bus_add_filter(m->bus, NULL, on_properties_set, m);
}
