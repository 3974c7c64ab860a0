/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-errors.h"
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
};

/* A local user could flood slow polkit with requests; refuse beyond this many per sender. */
#define POLKIT_MAX_PENDING_PER_SENDER 16

static const char * const actions[] = {
        "org.hwsecd1.reload",
        "org.hwsecd1.set-log-level",
        "org.hwsecd1.set-asid-policy",
        "org.hwsecd1.stage-firmware",
        "org.hwsecd1.schedule-firmware-update",
        "org.hwsecd1.cancel-firmware-update",
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
        QUERY_PENDING,
        QUERY_AUTHORIZED,
        QUERY_DENIED,
        QUERY_CHALLENGE,
        QUERY_FAILED,     /* polkit absent or broken: error_* say why */
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
        char *error_message;
        Query *prev, *next;
};

struct PolkitRegistry {
        Query *queries;
};

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
        *ret = calloc(1, sizeof(PolkitRegistry));
        return *ret ? 0 : -ENOMEM;
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
                if (q->request == msg)
                        return q;
        return NULL;
}

static unsigned pending_for_sender(PolkitRegistry *r, const char *sender) {
        unsigned n = 0;

        for (Query *q = r->queries; q; q = q->next)
                if (q->state == QUERY_PENDING && sender && streq(strempty(sd_bus_message_get_sender(q->request)), sender))
                        n++;
        return n;
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

static int on_check_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Query *q = userdata;
        sd_bus *bus = sd_bus_message_get_bus(q->request);
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
        log_debug("polkit: %s for %s -> %d", q->action, strna(sd_bus_message_get_sender(q->request)), q->state);

        /* Run the original handler again; it will find the answer. Free the answer once the
         * loop is idle. The message is queued last, so that nothing can fail after it: an error
         * reply below must never be followed by a second run of the handler. */
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
        return 0;
}

static int append_check_authorization(sd_bus_message *c, const char *sender, const char *action, uint32_t flags) {
        return sd_bus_message_append(c, "(sa{sv})sa{ss}us", "system-bus-name", 1, "name", "s", sender, action, 0,
                                     flags, "");
}

static int query_start(Manager *m, sd_bus_message *msg, const char *action, Query **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *c = NULL;
        const char *sender = sd_bus_message_get_sender(msg);
        Query *q;
        int r;

        if (!sender)
                return -EBADMSG;

        r = sd_bus_message_new_method_call(m->bus, &c, POLKIT_NAME, POLKIT_PATH, POLKIT_IFACE, "CheckAuthorization");
        if (r < 0)
                return r;
        /* AllowUserInteraction follows the caller's ALLOW_INTERACTIVE_AUTHORIZATION header. */
        r = append_check_authorization(c, sender, action,
                                       sd_bus_message_get_allow_interactive_authorization(msg) ? 1 : 0);
        if (r < 0)
                return r;
        /* No set_auto_start(false): on Debian polkitd is bus-activated and usually not running
         * yet when the first mutation arrives. Where it is not installed the bus answers
         * ServiceUnknown at once, which is reported as "polkit is not running". */

        q = calloc(1, sizeof(Query));
        if (!q)
                return -ENOMEM;
        q->manager = m;
        q->request = sd_bus_message_ref(msg);
        q->action = strdup(action);
        if (!q->action) {
                query_free(q);
                return -ENOMEM;
        }
        r = sd_bus_call_async(m->bus, &q->slot, c, on_check_reply, q, POLKIT_TIMEOUT_USEC);
        if (r < 0) {
                query_free(q);
                return r;
        }
        q->registry = m->polkit;
        q->next = m->polkit->queries;
        if (q->next)
                q->next->prev = q;
        m->polkit->queries = q;
        if (ret)
                *ret = q;
        return 0;
}

static int query_result(Query *q, sd_bus_error *ret_error) {
        switch (q->state) {
        case QUERY_AUTHORIZED:
                return 1;
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

        if (pending_for_sender(m->polkit, sd_bus_message_get_sender(msg)) >= POLKIT_MAX_PENDING_PER_SENDER)
                return sd_bus_error_setf(ret_error, HWSEC_ERROR_BUSY,
                                         "Too many authorization requests from this client are waiting for polkit; "
                                         "wait for them to finish and try again.");

        r = query_start(m, msg, action, NULL);
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

typedef struct CanDoCall {
        sd_bus_message *request;
        char *action;
} CanDoCall;

static void can_do_free(void *p) {
        CanDoCall *c = p;

        sd_bus_message_unref(c->request);
        free(c->action);
        free(c);
}

static int on_can_do_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        CanDoCall *c = userdata;
        bool authorized = false, challenge = false;
        const char *answer = "no";

        if (!sd_bus_message_is_method_error(reply, NULL) && parse_polkit_reply(reply, &authorized, &challenge) >= 0)
                answer = authorized ? "yes" : challenge ? "challenge" : "no";
        else
                log_debug("CanDo(%s): polkit gave no usable answer; replying \"no\".", c->action);

        /* The call is freed by the slot's destroy callback, also when the bus goes away first. */
        (void) sd_bus_reply_method_return(c->request, "s", answer);
        return 0;
}

int polkit_can_do(Manager *m, sd_bus_message *msg, const char *action, sd_bus_error *ret_error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        CanDoCall *c;
        int r;

        if (!polkit_action_known(action))
                return sd_bus_error_setf(ret_error, HWSEC_ERROR_INVALID_ARGUMENT,
                                         "Unknown action '%.64s%s'. Known actions are listed in "
                                         "/usr/share/polkit-1/actions/org.hwsecd1.policy.",
                                         action, strlen(action) > 64 ? "…" : "");

        r = sd_bus_message_new_method_call(m->bus, &call, POLKIT_NAME, POLKIT_PATH, POLKIT_IFACE, "CheckAuthorization");
        if (r < 0)
                return r;
        r = append_check_authorization(call, sd_bus_message_get_sender(msg), action, 0);
        if (r < 0)
                return r;
        c = calloc(1, sizeof(CanDoCall));
        if (!c)
                return -ENOMEM;
        c->request = sd_bus_message_ref(msg);
        c->action = strdup(action);
        if (!c->action) {
                can_do_free(c);
                return -ENOMEM;
        }
        r = sd_bus_call_async(m->bus, &slot, call, on_can_do_reply, c, POLKIT_TIMEOUT_USEC);
        if (r < 0) {
                can_do_free(c);
                return r;
        }
        (void) sd_bus_slot_set_destroy_callback(slot, can_do_free);
        (void) sd_bus_slot_set_floating(slot, true);
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
