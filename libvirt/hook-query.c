/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <time.h>

#include "fileio.h"
#include "hook-query.h"

#define BUS_NAME "org.hwsecd1"
#define ERROR_BUSY "org.hwsecd1.Error.Busy"
#define BUSY_RETRY_USEC (50 * USEC_PER_MSEC)

static uint64_t time_left(uint64_t deadline) {
        uint64_t n = now(CLOCK_MONOTONIC);
        return deadline > n ? deadline - n : 1;
}

static int bus_failure(char **ret_error, int r, const sd_bus_error *e, const char *what) {
        if (sd_bus_error_is_set(e))
                return error_message_set(ret_error, r < 0 ? r : EIO, "%s: %s: %s", what, e->name,
                                         strempty(e->message));
        return error_message_set(ret_error, r < 0 ? r : EIO, "%s: %s", what, strerror(r < 0 ? -r : EIO));
}

int query_connect(uint64_t deadline, sd_bus **ret, char **ret_error) {
        sd_bus *bus = NULL;
        int r;

        r = sd_bus_open_system(&bus);
        if (r < 0)
                return error_message_set(ret_error, r, "cannot connect to the system bus: %s", strerror(-r));
        (void) sd_bus_set_method_call_timeout(bus, time_left(deadline));
        /* sd_bus_call() would wait for the authentication and Hello() without our deadline (a
         * bus that accepts but never answers would hold libvirtd): drive them here. */
        while ((r = sd_bus_is_ready(bus)) == 0) {
                r = sd_bus_process(bus, NULL);
                if (r > 0)
                        continue;
                if (r < 0)
                        break;
                if (now(CLOCK_MONOTONIC) >= deadline) {
                        r = -ETIMEDOUT;
                        break;
                }
                r = sd_bus_wait(bus, time_left(deadline));
                if (r < 0)
                        break;
        }
        if (r < 0) {
                sd_bus_unref(bus);
                return error_message_set(ret_error, r, "cannot connect to the system bus: %s", strerror(-r));
        }
        *ret = bus;
        return 0;
}

static int call(sd_bus *bus, uint64_t deadline, const char *path, const char *iface, const char *method,
                sd_bus_error *e, sd_bus_message **reply, const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, BUS_NAME, path, iface, method);
        if (r < 0)
                return r;
        /* Never prompt: libvirtd is waiting. */
        r = sd_bus_message_set_allow_interactive_authorization(m, false);
        if (r < 0)
                return r;
        if (types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
                if (r < 0)
                        return r;
        }
        return sd_bus_call(bus, m, time_left(deadline), e, reply);
}

static int read_members(sd_bus_message *reply, PciAnswer *a) {
        const char *addr, *drv;
        int ready, r;

        r = sd_bus_message_enter_container(reply, 'a', "(ssb)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(reply, "(ssb)", &addr, &drv, &ready)) > 0) {
                PciMember *n = reallocarray(a->members, a->n_members + 1, sizeof(PciMember));
                if (!n)
                        return -ENOMEM;
                a->members = n;
                n[a->n_members] = (PciMember) { .address = strdup(addr), .driver = strdup(drv), .ready = ready };
                a->n_members++;
                if (!n[a->n_members - 1].address || !n[a->n_members - 1].driver)
                        return -ENOMEM;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(reply);
}

static int read_pci_reply(sd_bus_message *reply, PciAnswer *a) {
        const char *verdict;
        int r;

        r = sd_bus_message_read(reply, "s", &verdict);
        if (r < 0)
                return r;
        a->verdict = strdup(verdict);
        if (!a->verdict)
                return -ENOMEM;
        r = sd_bus_message_read_strv(reply, &a->reasons);
        if (r < 0)
                return r;
        return read_members(reply, a);
}

int query_pci(sd_bus *bus, uint64_t deadline, const char *address, PciAnswer *ret, char **ret_error) {
        int r;

        ret->address = strdup(address);
        if (!ret->address)
                return -ENOMEM;
        for (;;) {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;

                r = call(bus, deadline, "/org/hwsecd1/pci", "org.hwsecd1.Pci", "CheckAssignable", &e, &reply, "s",
                         address);
                if (r >= 0) {
                        r = read_pci_reply(reply, ret);
                        return r < 0 ? error_message_set(ret_error, r, "CheckAssignable(%s): unexpected reply: %s",
                                                         address, strerror(-r)) : 0;
                }
                if (sd_bus_error_has_name(&e, ERROR_BUSY) && now(CLOCK_MONOTONIC) + BUSY_RETRY_USEC < deadline) {
                        /* The first audit has not landed yet (Manager.State "starting"). */
                        (void) nanosleep(&(struct timespec) { .tv_nsec = BUSY_RETRY_USEC * 1000 }, NULL);
                        continue;
                }
                if (sd_bus_error_has_names(&e, "org.hwsecd1.Error.NotFound", "org.hwsecd1.Error.InvalidArgument")) {
                        ret->error_name = strdup(e.name);
                        ret->error_message = strdup(strempty(e.message));
                        return ret->error_name && ret->error_message ? 0 : -ENOMEM;
                }
                return bus_failure(ret_error, r, &e, "CheckAssignable");
        }
}

static int get_property(sd_bus *bus, uint64_t deadline, const char *path, const char *iface, const char *name,
                        const char *type, sd_bus_message **reply, char **ret_error) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = call(bus, deadline, path, "org.freedesktop.DBus.Properties", "Get", &e, reply, "ss", iface, name);
        if (r < 0)
                return bus_failure(ret_error, r, &e, name);
        r = sd_bus_message_enter_container(*reply, 'v', type);
        return r < 0 ? error_message_set(ret_error, r, "%s: unexpected type", name) : 0;
}

static int read_pools(sd_bus_message *m, AsidAnswer *a) {
        const char *name, *state, *note;
        uint32_t first, last, capacity;
        int64_t used, free_;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "(ssuuuxxs)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "(ssuuuxxs)", &name, &state, &first, &last, &capacity, &used, &free_,
                                        &note)) > 0) {
                AsidPool *n = reallocarray(a->pools, a->n_pools + 1, sizeof(AsidPool));
                if (!n)
                        return -ENOMEM;
                a->pools = n;
                n[a->n_pools++] = (AsidPool) { .name = strdup(name), .state = strdup(state), .first = first,
                                               .last = last, .capacity = capacity, .used = used, .free = free_,
                                               .note = strdup(note) };
                if (!n[a->n_pools - 1].name || !n[a->n_pools - 1].state || !n[a->n_pools - 1].note)
                        return -ENOMEM;
        }
        return r;
}

int query_asid(sd_bus *bus, uint64_t deadline, bool with_explanation, AsidAnswer *ret, char **ret_error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *pools = NULL, *expl = NULL, *cth = NULL;
        int r;

        r = get_property(bus, deadline, "/org/hwsecd1/asid", "org.hwsecd1.Asid", "Pools", "a(ssuuuxxs)", &pools,
                         ret_error);
        if (r < 0)
                return r;
        r = read_pools(pools, ret);
        if (r < 0)
                return error_message_set(ret_error, r, "Pools: unexpected reply: %s", strerror(-r));
        if (!with_explanation)
                return 0;
        r = get_property(bus, deadline, "/org/hwsecd1/asid", "org.hwsecd1.Asid", "Explanation", "as", &expl,
                         ret_error);
        if (r < 0)
                return r;
        r = sd_bus_message_read_strv(expl, &ret->explanation);
        if (r < 0)
                return error_message_set(ret_error, r, "Explanation: unexpected reply: %s", strerror(-r));
        r = get_property(bus, deadline, "/org/hwsecd1/asid", "org.hwsecd1.Asid", "EffectiveCiphertextHidingAsids",
                         "u", &cth, ret_error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(cth, "u", &ret->ciphertext_hiding_asids);
        return r < 0 ? error_message_set(ret_error, r, "EffectiveCiphertextHidingAsids: unexpected reply") : 0;
}

/* remediation a{sv}: only "value" (s) is used. */
static int read_remedy(sd_bus_message *m, char **ret) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key, *value;
                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                if (streq(key, "value") && sd_bus_message_peek_type(m, NULL, NULL) > 0 &&
                    sd_bus_message_enter_container(m, 'v', "s") > 0) {
                        r = sd_bus_message_read(m, "s", &value);
                        if (r < 0)
                                return r;
                        free(*ret);
                        *ret = strdup(value);
                        if (!*ret)
                                return -ENOMEM;
                        r = sd_bus_message_exit_container(m);
                } else
                        r = sd_bus_message_skip(m, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int read_check(sd_bus_message *m, Check *c) {
        const char *id, *category, *result, *title, *detail, *hint;
        int r;

        r = sd_bus_message_enter_container(m, 'r', "ssssssa{sv}a{sv}");
        if (r <= 0)
                return r;
        r = sd_bus_message_read(m, "ssssss", &id, &category, &result, &title, &detail, &hint);
        if (r < 0)
                return r;
        c->id = strdup(id);
        c->result = strdup(result);
        c->title = strdup(title);
        c->detail = strdup(detail);
        c->hint = strdup(hint);
        if (!c->id || !c->result || !c->title || !c->detail || !c->hint)
                return -ENOMEM;
        r = sd_bus_message_skip(m, "a{sv}");
        if (r < 0)
                return r;
        r = read_remedy(m, &c->remedy);
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        return r < 0 ? r : 1;
}

int query_checks(sd_bus *bus, uint64_t deadline, Check **ret, size_t *ret_n, char **ret_error) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Check *checks = NULL;
        size_t n = 0;
        int r;

        r = call(bus, deadline, "/org/hwsecd1", "org.hwsecd1.Manager", "GetChecks", &e, &reply, NULL);
        if (r < 0)
                return bus_failure(ret_error, r, &e, "GetChecks");
        r = sd_bus_message_enter_container(reply, 'a', "(ssssssa{sv}a{sv})");
        while (r >= 0) {
                Check *t = reallocarray(checks, n + 1, sizeof(Check));
                if (!t) {
                        r = -ENOMEM;
                        break;
                }
                checks = t;
                checks[n] = (Check) {};
                r = read_check(reply, &checks[n]);
                if (r <= 0) {
                        check_done(&checks[n]);
                        break;
                }
                n++;
        }
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        check_done(&checks[i]);
                free(checks);
                return error_message_set(ret_error, r, "GetChecks: unexpected reply: %s", strerror(-r));
        }
        *ret = checks;
        *ret_n = n;
        return 0;
}
