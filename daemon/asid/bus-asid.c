/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.hwsecd1.Asid at /org/hwsecd1/asid. Properties are served from the area's cache; nothing is
 * read from the host on a Get. */

#include <inttypes.h>

#include "asid-daemon.h"
#include "bus-errors.h"
#include "bus-properties.h"
#include "bus-util.h"
#include "json-util.h"
#include "log.h"
#include "polkit.h"

#define POOL_SIG "(ssuuuxxs)"
#define PROBLEM_SIG "(sss)"

static const char *cth_supported_string(AsidArea *a) {
        AsidHost h;

        asid_area_host(a, &h);
        return h.cth_supported > 0 ? "yes" : h.cth_supported == 0 ? "no" : "unknown";
}

static int append_pools(sd_bus_message *reply, const AsidPartition *p, const AsidUsage *u) {
        int r;

        r = sd_bus_message_open_container(reply, 'a', POOL_SIG);
        if (r < 0)
                return r;
        for (AsidPoolId i = 0; i < _ASID_POOL_MAX; i++) {
                r = sd_bus_message_append(reply, POOL_SIG, asid_pool_to_string(i),
                                          asid_pool_state_to_string(p->pool[i].state),
                                          p->pool[i].first, p->pool[i].last, asid_range_count(&p->pool[i]),
                                          u->pool[i].used, u->pool[i].free, strempty(u->pool[i].note));
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int append_problems(sd_bus_message *reply, const AsidProblems *l) {
        int r;

        r = sd_bus_message_open_container(reply, 'a', PROBLEM_SIG);
        if (r < 0)
                return r;
        for (size_t i = 0; i < l->n; i++) {
                r = sd_bus_message_append(reply, PROBLEM_SIG, asid_severity_to_string(l->items[i].severity),
                                          l->items[i].code, l->items[i].message);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        AsidArea *a = userdata;
        int r;

        if (streq(property, "MaxAsid"))
                return sd_bus_message_append(reply, "u", a->cpuid.max_sev_asid);
        if (streq(property, "MinSevAsid"))
                return sd_bus_message_append(reply, "u", a->cpuid.min_sev_asid);
        if (streq(property, "KvmAmdLoaded"))
                return sd_bus_message_append(reply, "b", a->kvm_loaded);
        if (streq(property, "Pools"))
                return append_pools(reply, &a->partition, &a->usage);
        if (streq(property, "CiphertextHidingSupported"))
                return sd_bus_message_append(reply, "s", cth_supported_string(a));
        if (streq(property, "EffectiveCiphertextHidingAsids"))
                return sd_bus_message_append(reply, "u", a->effective_cth);
        if (streq(property, "ConfiguredCiphertextHidingAsids"))
                return sd_bus_message_append(reply, "x", a->configured_cth);
        if (streq(property, "PendingReload"))
                return sd_bus_message_append(reply, "b", a->pending_reload);
        if (streq(property, "Policy")) {
                _cleanup_json_ json_object *o = a->has_policy ? asid_policy_to_json(&a->policy) : NULL;
                if (a->has_policy && !o)
                        return -ENOMEM;
                return bus_append_json_dict(reply, o);
        }
        if (streq(property, "Conflicts")) {
                r = sd_bus_message_open_container(reply, 'a', "(ss)");
                for (size_t i = 0; r >= 0 && i < a->conflicts.n; i++)
                        r = sd_bus_message_append(reply, "(ss)", a->conflicts.items[i].source, a->conflicts.items[i].value);
                return r < 0 ? r : sd_bus_message_close_container(reply);
        }
        if (streq(property, "QuotaStatus")) {
                r = sd_bus_message_open_container(reply, 'a', "(sstss)");
                for (size_t i = 0; r >= 0 && i < a->quotas.n; i++) {
                        const QuotaResult *q = &a->quotas.items[i];
                        r = sd_bus_message_append(reply, "(sstss)", q->cgroup, q->resource, q->requested,
                                                  strempty(q->observed), quota_state_to_string(q->state));
                }
                return r < 0 ? r : sd_bus_message_close_container(reply);
        }
        if (streq(property, "Explanation"))
                return sd_bus_message_append_strv(reply, a->explanation);
        if (streq(property, "Problems"))
                return sd_bus_message_append_strv(reply, a->problems);

        return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_PROPERTY, "Unknown property %s.", property);
}

static json_object *strv_to_json(char **l) {
        json_object *a = json_object_new_array();

        STRV_FOREACH(s, l)
                json_object_array_add(a, json_object_new_string(*s));
        return a;
}

static json_object *pools_to_json(const AsidPartition *p, const AsidUsage *u) {
        json_object *arr = json_object_new_array();

        for (AsidPoolId i = 0; arr && i < _ASID_POOL_MAX; i++) {
                json_object *e = json_object_new_object();

                json_object_object_add(e, "name", json_object_new_string(asid_pool_to_string(i)));
                json_object_object_add(e, "state", json_object_new_string(asid_pool_state_to_string(p->pool[i].state)));
                json_object_object_add(e, "first", json_object_new_int64(p->pool[i].first));
                json_object_object_add(e, "last", json_object_new_int64(p->pool[i].last));
                json_object_object_add(e, "capacity", json_object_new_int64(asid_range_count(&p->pool[i])));
                json_object_object_add(e, "used", json_object_new_int64(u->pool[i].used));
                json_object_object_add(e, "free", json_object_new_int64(u->pool[i].free));
                json_object_object_add(e, "note", json_object_new_string(strempty(u->pool[i].note)));
                json_object_array_add(arr, e);
        }
        return arr;
}

json_object *asid_area_properties_json(AsidArea *a) {
        json_object *o = json_object_new_object(), *c, *q;

        if (!o)
                return NULL;
        json_object_object_add(o, "MaxAsid", json_object_new_int64(a->cpuid.max_sev_asid));
        json_object_object_add(o, "MinSevAsid", json_object_new_int64(a->cpuid.min_sev_asid));
        json_object_object_add(o, "KvmAmdLoaded", json_object_new_boolean(a->kvm_loaded));
        json_object_object_add(o, "Pools", pools_to_json(&a->partition, &a->usage));
        json_object_object_add(o, "CiphertextHidingSupported", json_object_new_string(cth_supported_string(a)));
        json_object_object_add(o, "EffectiveCiphertextHidingAsids", json_object_new_int64(a->effective_cth));
        json_object_object_add(o, "ConfiguredCiphertextHidingAsids", json_object_new_int64(a->configured_cth));
        json_object_object_add(o, "PendingReload", json_object_new_boolean(a->pending_reload));
        json_object_object_add(o, "Policy", a->has_policy ? asid_policy_to_json(&a->policy) : json_object_new_object());

        c = json_object_new_array();
        for (size_t i = 0; c && i < a->conflicts.n; i++) {
                json_object *e = json_object_new_array();
                json_object_array_add(e, json_object_new_string(a->conflicts.items[i].source));
                json_object_array_add(e, json_object_new_string(a->conflicts.items[i].value));
                json_object_array_add(c, e);
        }
        json_object_object_add(o, "Conflicts", c);

        q = json_object_new_array();
        for (size_t i = 0; q && i < a->quotas.n; i++) {
                const QuotaResult *r = &a->quotas.items[i];
                json_object *e = json_object_new_array();
                json_object_array_add(e, json_object_new_string(r->cgroup));
                json_object_array_add(e, json_object_new_string(r->resource));
                json_object_array_add(e, json_object_new_uint64(r->requested));
                json_object_array_add(e, json_object_new_string(strempty(r->observed)));
                json_object_array_add(e, json_object_new_string(quota_state_to_string(r->state)));
                json_object_array_add(q, e);
        }
        json_object_object_add(o, "QuotaStatus", q);
        json_object_object_add(o, "Explanation", strv_to_json(a->explanation));
        json_object_object_add(o, "Problems", strv_to_json(a->problems));
        return o;
}

static const BusPropertyTable asid_table;

bool bus_asid_emit_changes(AsidArea *a) {
        Manager *m = a->manager;
        int r;

        /* before the object exists (start-up) this only records the values */
        r = bus_property_table_emit_changed(&asid_table, m->bus, ASID_OBJECT_PATH, a, &a->properties,
                                            m->serving && a->slot);
        if (r < 0) {
                log_warning_errno(r, "Failed to announce the %s properties: %m", ASID_IFACE);
                return false;
        }
        if (r == 0)
                return false;
        manager_update_state(m);
        return true;
}

/* Reads the a{sv} argument and parses it; on bad input error is set (InvalidArgument). */
static int read_policy(sd_bus_message *msg, AsidPolicy *ret, sd_bus_error *error) {
        _cleanup_json_ json_object *o = NULL;
        _cleanup_free_ char *err = NULL;
        int r;

        r = bus_read_dict_as_json(msg, &o, error);
        if (r < 0) {
                if (!sd_bus_error_is_set(error))
                        return sd_bus_error_setf(error, HWSEC_ERROR_INVALID_ARGUMENT,
                                                 "The policy must be a dictionary of type a{sv}.");
                return r;
        }
        r = asid_policy_from_json(o, ret, &err);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return sd_bus_error_setf(error, HWSEC_ERROR_INVALID_ARGUMENT, "%s", strna(err));
        return 0;
}

static int plan_policy(AsidArea *a, const AsidPolicy *p, AsidPlan *plan, AsidProblems *problems) {
        AsidHost host;
        int r;

        asid_area_host(a, &host);
        r = asid_policy_plan(p, &host, plan, problems);
        if (r < 0)
                return r;
        return asid_check_quota_cgroups(p, problems);
}

static int method_validate_policy(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **explanation = NULL;
        AsidArea *a = userdata;
        AsidPolicy p = {};
        AsidProblems problems = {};
        AsidUsage usage = {};
        AsidPlan plan;
        AsidHost host;
        int r;

        r = read_policy(msg, &p, error);
        if (r < 0)
                return r;
        r = plan_policy(a, &p, &plan, &problems);
        if (r >= 0) {
                asid_area_host(a, &host);
                r = asid_usage_compute(&plan.partition, &a->misc, host.snp_guests, "the current guests", &usage);
        }
        if (r >= 0)
                r = asid_explain(&plan.inputs, &plan.partition, &explanation);
        if (r >= 0)
                r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = append_pools(reply, &plan.partition, &usage);
        if (r >= 0)
                r = sd_bus_message_append(reply, "u", plan.cth_asids);
        if (r >= 0)
                r = append_problems(reply, &problems);
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, explanation);
        asid_policy_done(&p);
        asid_problems_done(&problems);
        asid_usage_done(&usage);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static const char *error_for_problem(const AsidProblem *pr) {
        if (streq(pr->code, "cth-unsupported") || streq(pr->code, "no-joint-asids"))
                return HWSEC_ERROR_NOT_SUPPORTED;
        if (streq(pr->code, "snp-asids-below-guests"))
                return HWSEC_ERROR_BUSY;
        return HWSEC_ERROR_INVALID_ARGUMENT;
}

static int method_set_policy(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        AsidArea *a = userdata;
        AsidPolicy p = {};
        AsidProblems problems = {};
        const AsidProblem *bad;
        const char *what = NULL;
        AsidPlan plan;
        int r;

        r = read_policy(msg, &p, error);
        if (r < 0)
                return r;
        r = plan_policy(a, &p, &plan, &problems);
        if (r < 0)
                goto finish;
        bad = asid_problems_first_error(&problems);
        if (bad) {
                r = sd_bus_error_setf(error, error_for_problem(bad), "Policy refused (%s): %s", bad->code, bad->message);
                goto finish;
        }

        r = polkit_verify(a->manager, msg, error);
        if (r <= 0) {
                if (r == 0)
                        r = 1;
                goto finish;
        }

        r = asid_apply_policy(a, &p, &plan, &what);
        if (r < 0) {
                r = sd_bus_error_setf(error, r == -ENOMEM ? SD_BUS_ERROR_NO_MEMORY : HWSEC_ERROR_IO,
                                      "Could not %s (%s); nothing was changed.", what, strerror(-r));
                goto finish;
        }

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = append_problems(reply, &problems);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
finish:
        asid_policy_done(&p);
        asid_problems_done(&problems);
        return r;
}

static int method_refresh(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        AsidArea *a = userdata;
        int r;

        /* "Re-read now" includes kvm_amd, whose poll belongs to the host facts: ask for it (a
         * change reaches us as MANAGER_EVENT_FACTS_CHANGED before the full refresh below). */
        (void) manager_refresh_facts(a->manager, HOST_FACTS_KVM);
        r = asid_refresh(a, true);
        if (r < 0)
                return bus_error_set_errnof_host(error, r, "Failed to re-read the ASID state: %m");
        return sd_bus_reply_method_return(msg, NULL);
}

/* Refresh is open to everyone, so calls are coalesced. A call that comes when the last re-read
 * is at least ASID_REFRESH_COALESCE_USEC old is answered at once (no added latency for a
 * person's Refresh); calls that come sooner wait for one re-read at the end of that interval,
 * done once (by method_refresh() for the first of them), and all get the same answer. Each
 * answer still comes from a read that started after its call arrived, and a flood costs at most
 * one re-read per interval. */
static void refresh_waiting_free(AsidArea *a) {
        for (size_t i = 0; i < a->n_refresh_waiting; i++)
                sd_bus_message_unref(a->refresh_waiting[i]);
        a->refresh_waiting = mfree(a->refresh_waiting);
        a->n_refresh_waiting = 0;
}

static int on_refresh_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        AsidArea *a = userdata;
        int r;

        if (a->n_refresh_waiting == 0)
                return 0;
        a->last_refresh_usec = now(CLOCK_MONOTONIC);
        a->n_refreshes++;
        log_debug("Refresh: re-reading the ASID state once (refresh #%" PRIu64 ") for %zu caller(s).",
                  a->n_refreshes, a->n_refresh_waiting);
        /* On failure error is set and nobody has been answered; otherwise the first caller has
         * (a failure to send that one reply concerns that caller only). */
        r = method_refresh(a->refresh_waiting[0], a, &error);
        if (r < 0 && !sd_bus_error_is_set(&error))
                log_debug_errno(r, "Failed to answer a Refresh call: %m");
        for (size_t i = sd_bus_error_is_set(&error) ? 0 : 1; i < a->n_refresh_waiting; i++) {
                if (sd_bus_error_is_set(&error))
                        r = sd_bus_reply_method_error(a->refresh_waiting[i], &error);
                else
                        r = sd_bus_reply_method_return(a->refresh_waiting[i], NULL);
                if (r < 0)
                        log_debug_errno(r, "Failed to answer a joined Refresh call: %m");
        }
        refresh_waiting_free(a);
        return 0;
}

static int method_refresh_join(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        AsidArea *a = userdata;
        sd_bus_message **l;
        uint64_t t;
        int r;

        if (a->n_refresh_waiting >= ASID_REFRESH_MAX_WAITING)
                return sd_bus_error_setf(error, HWSEC_ERROR_BUSY,
                                         "%u Refresh calls are already waiting for the next re-read; try again in a moment.",
                                         ASID_REFRESH_MAX_WAITING);

        t = now(CLOCK_MONOTONIC);
        if (a->n_refresh_waiting == 0 &&
            (a->n_refreshes == 0 || t >= a->last_refresh_usec + ASID_REFRESH_COALESCE_USEC)) {
                a->last_refresh_usec = t;
                a->n_refreshes++;
                log_debug("Refresh: re-reading the ASID state once (refresh #%" PRIu64 ") for 1 caller(s).", a->n_refreshes);
                return method_refresh(msg, a, error);
        }

        l = reallocarray(a->refresh_waiting, a->n_refresh_waiting + 1, sizeof(sd_bus_message *));
        if (!l)
                return -ENOMEM;
        a->refresh_waiting = l;

        if (a->n_refresh_waiting == 0) {
                uint64_t when = a->last_refresh_usec + ASID_REFRESH_COALESCE_USEC;

                if (!a->refresh_timer) {
                        r = sd_event_add_time(a->manager->event, &a->refresh_timer, CLOCK_MONOTONIC, when, 0,
                                              on_refresh_timer, a);
                        if (r < 0)
                                return r;
                        (void) sd_event_source_set_description(a->refresh_timer, "asid-refresh");
                } else {
                        r = sd_event_source_set_time(a->refresh_timer, when);
                        if (r < 0)
                                return r;
                }
                r = sd_event_source_set_enabled(a->refresh_timer, SD_EVENT_ONESHOT);
                if (r < 0)
                        return r;
        }
        a->refresh_waiting[a->n_refresh_waiting++] = sd_bus_message_ref(msg);
        return 1;
}

void bus_asid_unregister(AsidArea *a) {
        a->refresh_timer = sd_event_source_disable_unref(a->refresh_timer);
        refresh_waiting_free(a);
        a->slot = sd_bus_slot_unref(a->slot);
        a->vtable = mfree(a->vtable);
}

/* The contract's order (dbus/org.hwsecd1.Asid.xml): the properties, then the methods. Their JSON
 * is asid_area_properties_json(), which Describe() shows too. */
static const BusProperty asid_properties[] = {
        { "MaxAsid", "u", property_get, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "MinSevAsid", "u", property_get, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "KvmAmdLoaded", "b", property_get, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "Pools", "a" POOL_SIG, property_get, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "CiphertextHidingSupported", "s", property_get, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "EffectiveCiphertextHidingAsids", "u", property_get, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "ConfiguredCiphertextHidingAsids", "x", property_get, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "PendingReload", "b", property_get, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "Policy", "a{sv}", property_get, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "Conflicts", "a(ss)", property_get, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "QuotaStatus", "a(sstss)", property_get, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "Explanation", "as", property_get, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
        { "Problems", "as", property_get, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE },
};

static const sd_bus_vtable asid_methods[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_NAMES("ValidatePolicy",
                                 "a{sv}", SD_BUS_PARAM(policy),
                                 "a" POOL_SIG "ua" PROBLEM_SIG "as",
                                 SD_BUS_PARAM(pools) SD_BUS_PARAM(ciphertext_hiding_asids)
                                 SD_BUS_PARAM(problems) SD_BUS_PARAM(explanation),
                                 method_validate_policy, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("SetPolicy",
                                 "a{sv}", SD_BUS_PARAM(policy),
                                 "a" PROBLEM_SIG, SD_BUS_PARAM(warnings),
                                 method_set_policy, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Refresh", NULL, NULL, method_refresh_join, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

static json_object *asid_json_all(void *userdata) {
        return asid_area_properties_json(userdata);
}

static const BusPropertyTable asid_table = BUS_PROPERTY_TABLE_JSON(ASID_IFACE, asid_properties, asid_methods, asid_json_all);

int bus_asid_register(AsidArea *a) {
        int r;

        r = bus_property_table_vtable(&asid_table, &a->vtable);
        if (r < 0)
                return r;
        return sd_bus_add_object_vtable(a->manager->bus, &a->slot, ASID_OBJECT_PATH, ASID_IFACE, a->vtable, a);
}
