/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "bus-util.h"
#include "check-facts.h"
#include "check-history.h"
#include "checks-daemon.h"
#include "log.h"
#include "manager.h"
#include "state.h"

#define STATE_KEY "checks"

typedef struct ChecksArea {
        Manager *manager;
        CheckList checks;
        PspSnapshot psp;                /* the last MANAGER_EVENT_PSP_CHANGED */
        bool have_psp;
        FirmwareSnapshot firmware;      /* the last MANAGER_EVENT_FIRMWARE_CHANGED */
        bool have_firmware;
        unsigned counts[_CHECK_RESULT_MAX];     /* the summary last announced */
} ChecksArea;

static int update_history(ChecksArea *a) {
        Manager *m = a->manager;
        _cleanup_free_ CheckChange *changes = NULL;
        json_object *section = NULL;
        size_t dropped = 0;
        bool had_last;
        int n;

        if (json_object_object_get_ex(m->state, STATE_KEY, &section) && !json_object_is_type(section, json_type_object))
                log_warning("\"%s\" in %s is not an object; starting a new check history.", STATE_KEY, STATE_FILE_NAME);
        section = state_section(m->state, STATE_KEY);
        if (!section)
                return log_oom();
        had_last = json_object_object_get_ex(section, "last", NULL);
        n = check_history_apply(section, &a->checks, now(CLOCK_REALTIME), &changes, &dropped);
        if (n < 0)
                return log_error_errno(n, "Failed to update the check history: %m");
        if (dropped > 0)
                log_warning("Dropped %zu malformed entr%s from the check history in %s.", dropped,
                            dropped == 1 ? "y" : "ies", STATE_FILE_NAME);
        for (int i = 0; i < n; i++) {
                const Check *c = check_list_find(&a->checks, changes[i].id);

                log_struct(LOG_NOTICE, MESSAGE_ID_CHECK_CHANGED, "Check %s: %s -> %s (%s)", changes[i].id,
                           changes[i].old_result, changes[i].new_result, c ? strna(c->detail) : "");
        }
        /* The first run records "last" too, so that a change across a restart is noticed. */
        if (n > 0 || dropped > 0 || !had_last)
                (void) manager_save_state(m);
        return 0;
}

static void announce_summary(ChecksArea *a) {
        unsigned counts[_CHECK_RESULT_MAX];

        check_list_summary(&a->checks, counts);
        if (memcmp(counts, a->counts, sizeof counts) == 0)
                return;
        memcpy(a->counts, counts, sizeof counts);
        (void) manager_emit_changed(a->manager, "CheckSummary", NULL);
}

static int recompute(ChecksArea *a) {
        CheckFacts f = {};
        CheckList l = {};
        int r;

        r = check_facts_build(&f, &a->manager->facts, a->have_psp ? &a->psp : NULL);
        f.have_firmware = a->have_firmware;
        f.firmware = a->firmware;
        if (r >= 0)
                r = checks_run(&f, &l);
        check_facts_done(&f);
        if (r < 0)
                return log_error_errno(r, "Failed to run the readiness checks: %m");

        check_list_done(&a->checks);
        a->checks = l;
        r = update_history(a);
        announce_summary(a);
        return r;
}

static int checks_start(Manager *m, void **ret) {
        const PspSnapshot *psp = manager_retained_psp(m);
        const FirmwareSnapshot *fw = manager_retained_firmware(m);
        ChecksArea *a;

        a = calloc(1, sizeof *a);
        if (!a)
                return log_oom();
        a->manager = m;
        if (psp) {
                a->psp = *psp;
                a->have_psp = true;
        }
        if (fw) {
                a->firmware = *fw;
                a->have_firmware = true;
        }
        *ret = a;
        return recompute(a);
}

static void checks_free(void *data) {
        ChecksArea *a = data;

        check_list_done(&a->checks);
        free(a);
}

/* Only what the checks read: the host facts, the PSP and the firmware updates. */
static void checks_event(void *data, const ManagerEvent *ev) {
        ChecksArea *a = data;

        switch (ev->type) {
        case MANAGER_EVENT_PSP_CHANGED:
                a->psp = *ev->psp;
                a->have_psp = true;
                break;
        case MANAGER_EVENT_FACTS_CHANGED:
                break;
        case MANAGER_EVENT_FIRMWARE_CHANGED:
                if (!ev->firmware || (a->have_firmware && memcmp(&a->firmware, ev->firmware, sizeof a->firmware) == 0))
                        return;         /* versions or presence only: nothing the checks read */
                a->firmware = *ev->firmware;
                a->have_firmware = true;
                break;
        default:
                return;
        }
        (void) recompute(a);
}

static int checks_describe(void *data, json_object *root) {
        ChecksArea *a = data;
        unsigned counts[_CHECK_RESULT_MAX];
        json_object *l, *s;

        l = check_list_to_json(&a->checks);
        s = json_object_new_object();
        if (!l || !s) {
                json_object_put(l);
                json_object_put(s);
                return -ENOMEM;
        }
        check_list_summary(&a->checks, counts);
        for (size_t i = 0; i < _CHECK_RESULT_MAX; i++)
                json_object_object_add(s, check_result_to_string((CheckResult) i), json_object_new_int64(counts[i]));
        json_object_object_add(root, "checks", l);
        json_object_object_add(root, "check_summary", s);
        return 0;
}

/* Manager.GetChecks() -> a(ssssssa{sv}a{sv}) */
static int append_checks(void *data, sd_bus_message *reply) {
        ChecksArea *a = data;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(ssssssa{sv}a{sv})");
        if (r < 0)
                return r;
        for (size_t i = 0; i < a->checks.n; i++) {
                const Check *c = &a->checks.checks[i];
                _cleanup_json_ json_object *rem = check_remediation_to_json(c);

                if (!rem)
                        return -ENOMEM;
                r = sd_bus_message_open_container(reply, 'r', "ssssssa{sv}a{sv}");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "ssssss", c->id, c->category,
                                                  check_result_to_string(c->result), c->title,
                                                  c->detail ?: "", c->hint ?: "");
                if (r >= 0)
                        r = bus_append_json_dict(reply, c->evidence);
                if (r >= 0)
                        r = bus_append_json_dict(reply, rem);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

/* Manager.CheckSummary a{su} */
static int append_check_summary(void *data, sd_bus_message *reply) {
        ChecksArea *a = data;
        unsigned counts[_CHECK_RESULT_MAX];
        int r;

        check_list_summary(&a->checks, counts);
        r = sd_bus_message_open_container(reply, 'a', "{su}");
        if (r < 0)
                return r;
        for (size_t i = 0; i < _CHECK_RESULT_MAX; i++) {
                r = sd_bus_message_append(reply, "{su}", check_result_to_string((CheckResult) i), counts[i]);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static const AreaManagerMember checks_manager_members[] = {
        { "CheckSummary", append_check_summary },
        { "GetChecks", append_checks },
        {}
};

/* One series per check, labelled with its current result (value 1). */
static int checks_metrics(void *data, MetricsWriter *w) {
        ChecksArea *a = data;
        unsigned counts[_CHECK_RESULT_MAX] = {};
        int r;

        for (size_t i = 0; i < a->checks.n; i++) {
                const Check *c = &a->checks.checks[i];

                r = metrics_sample(w, "hwsecd_check_result",
                                   METRICS_LABELS({ "id", c->id }, { "category", c->category },
                                                  { "result", check_result_to_string(c->result) }),
                                   1, "Readiness check result: one series per check, labelled with its result.");
                if (r < 0)
                        return r;
        }
        check_list_summary(&a->checks, counts);
        for (CheckResult res = 0; res < _CHECK_RESULT_MAX; res++) {
                r = metrics_sample(w, "hwsecd_checks", METRICS_LABELS({ "result", check_result_to_string(res) }),
                                   counts[res], "Readiness checks by result (Manager.CheckSummary).");
                if (r < 0)
                        return r;
        }
        return 0;
}

const AreaVTable checks_area_vtable = {
        .name = "checks",
        .start = checks_start,
        .free = checks_free,
        .event = checks_event,
        .describe = checks_describe,
        .metrics = checks_metrics,
        .manager_members = checks_manager_members,
};
