/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The asid area in the daemon: takes CPUID, the kvm_amd parameters and the command line from the
 * host facts and the PSP snapshot from MANAGER_EVENT_PSP_CHANGED, reads the misc cgroup, keeps
 * the pools computed, owns the policy (state.json key "asid", the modprobe.d file, the quotas)
 * and polls for guests coming and going. */

#include <inttypes.h>

#include "asid-daemon.h"
#include "fileio.h"
#include "log.h"
#include "paths.h"
#include "state.h"

#define STATE_KEY "asid"

static int add_problem(AsidArea *a, const char *fmt, ...) _printf_(2, 3);

/* How the ASID area shows a kvm_amd parameter the host facts could not read or parse: as off,
 * with a problem that says so. */
static int kvm_bool_problem(AsidArea *a, const HostKvm *k, const char *name, const KvmBool *b) {
        if (b->error == 0)
                return 0;
        if (b->error == -EBADMSG)
                return add_problem(a, "%s/%s says \"%s\", which is not a boolean; treating it as off.", k->params_dir, name,
                                   b->raw);
        return add_problem(a, "%s/%s could not be read (%s); treating it as off.", k->params_dir, name,
                           strerror(-b->error));
}

static int read_kvm_params(AsidArea *a) {
        const HostKvm *k = &a->manager->facts.kvm;
        int r;

        a->kvm_loaded = k->loaded;
        a->p_sev = k->sev.error == 0 && k->sev.value;
        a->p_sev_es = k->sev_es.error == 0 && k->sev_es.value;
        a->p_snp = k->sev_snp.error == 0 && k->sev_snp.value;
        a->p_cth = k->cth_error == 0 ? k->cth : 0;
        if (!a->kvm_loaded)
                return add_problem(a, "kvm_amd is not loaded (no /sys/module/kvm_amd/parameters): no ASIDs are in use by KVM.");

        r = kvm_bool_problem(a, k, "sev", &k->sev);
        if (r >= 0)
                r = kvm_bool_problem(a, k, "sev_es", &k->sev_es);
        if (r >= 0)
                r = kvm_bool_problem(a, k, "sev_snp", &k->sev_snp);
        if (r < 0)
                return r;
        /* -ENOENT: a kernel before v6.18, no ciphertext hiding; other read errors: off */
        if (k->cth_error == -EBADMSG)
                return add_problem(a, "%s/%s says \"%s\", which is not a number; treating ciphertext hiding as off.",
                                   k->params_dir, ASID_CTH_PARAM, k->cth_raw);
        return 0;
}

static int read_cpuid(AsidArea *a) {
        const HostCpu *c = &a->manager->facts.cpu;

        a->cpuid_error = c->mem_encrypt_error;
        a->cpuid = c->mem_encrypt_error < 0 ? (CpuidMemEncrypt) {} : c->me;
        return 0;
}

static int read_misc(AsidArea *a) {
        int r = misc_read_root(paths_cgroup_root(), &a->misc);

        if (r == -ENOMEM)
                return r;
        if (r < 0 || !a->misc.current_valid)
                return strv_extend(&a->problems, "misc.current at the cgroup root is missing or unreadable: ASIDs in use are unknown.") < 0 ? -ENOMEM : 0;
        return 0;
}

static int read_ours(AsidArea *a) {
        uint32_t v;
        int r = modprobe_read_ours(paths_modprobe_dir(), &v);

        a->configured_bad = false;
        a->configured_cth = -1;
        if (r == -ENOMEM)
                return r;
        if (r == -EBADMSG)
                a->configured_bad = true;
        else if (r > 0)
                a->configured_cth = v;
        return 0;
}

static char *conflicts_key(const AsidConflicts *c) {
        char *s = strdup("");

        for (size_t i = 0; s && i < c->n; i++) {
                char *t = NULL;
                if (asprintf(&t, "%s%s=%s;", s, c->items[i].source, c->items[i].value) < 0)
                        t = NULL;
                free(s);
                s = t;
        }
        return s;
}

static int scan_conflicts(AsidArea *a) {
        _cleanup_free_ char *before = NULL, *after = NULL;
        AsidConflicts c = {};
        int r;

        r = asid_conflicts_find(paths_modprobe_dir(), a->manager->facts.cmdline.raw, a->manager->facts.cmdline.path, &c);
        if (r < 0)
                return r == -ENOMEM ? r : log_warning_errno(r, "Could not scan for kvm_amd settings: %m");
        before = conflicts_key(&a->conflicts);
        after = conflicts_key(&c);
        asid_conflicts_done(&a->conflicts);
        a->conflicts = c;
        if (!before || !after)
                return -ENOMEM;
        if (!streq(before, after))
                for (size_t i = 0; i < c.n; i++)
                        log_struct(LOG_WARNING, MESSAGE_ID_ASID_CONFLICT,
                                   "%s sets kvm_amd %s=%s; it competes with %s/%s, which hwsecd owns.",
                                   c.items[i].source, ASID_CTH_PARAM, c.items[i].value,
                                   paths_modprobe_dir(), ASID_MODPROBE_FILE);
        return 0;
}

static int64_t snp_guests_now(AsidArea *a, const char **ret_source) {
        const char *src = "nowhere: SNP_PLATFORM_STATUS is not available";
        int64_t n = -1;

        if (a->partition.pool[ASID_POOL_SNP].state == ASID_POOL_DISABLED) {
                src = "the SNP pool being disabled";
                n = 0;
        } else if (a->psp.snp_status_valid) {
                src = "SNP_PLATFORM_STATUS guest_count";
                n = a->psp.snp_guest_count;
        } else if (a->misc.current_valid && a->misc.sev_es_current == 0) {
                src = "misc.current \"sev_es\" being 0";
                n = 0;
        }
        if (ret_source)
                *ret_source = src;
        return n;
}

void asid_area_host(AsidArea *a, AsidHost *ret) {
        int64_t snp = snp_guests_now(a, NULL);

        *ret = (AsidHost) {
                .inputs = a->inputs,
                .snp_guests = snp,
                .sev_es_guests = -1,
                .sev_capacity = a->misc.valid ? a->misc.sev_capacity : 0,
                .sev_es_capacity = a->misc.valid ? a->misc.sev_es_capacity : 0,
        };
        if (a->psp.snp_status_valid)
                ret->cth_supported = a->psp.ciphertext_hiding_cap;
        else if (!a->cpuid.sev_snp && a->cpuid_error == 0)
                ret->cth_supported = 0;
        else
                ret->cth_supported = a->effective_cth > 0 ? 1 : -1;
        if (a->misc.current_valid && snp >= 0)
                ret->sev_es_guests = (int64_t) a->misc.sev_es_current > snp ? (int64_t) a->misc.sev_es_current - snp : 0;
}

static int add_problem(AsidArea *a, const char *fmt, ...) {
        _cleanup_free_ char *s = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return strv_extend(&a->problems, s) < 0 ? -ENOMEM : 0;
}

/* What v6.18 does with the parameter while SNP is off, and settings kvm_amd would refuse. */
static int check_split(AsidArea *a) {
        const AsidPartition *p = &a->partition;
        int r = 0;

        if (p->es_first_wrapped)
                r = add_problem(a, "kvm_amd runs with %s=%" PRIu32 " and SNP off: the kernel uses the raw value, its first SEV-ES ASID wraps to 0 "
                                "(it logs \"SEV-ES enabled (ASIDs 0 - %" PRIu32 ")\"), a kernel bug to report; hwsecd counts SEV-ES as unusable. "
                                "Set the parameter to 0 or enable SNP.",
                                ASID_CTH_PARAM, p->split_asids, p->joint_asids);
        else if (p->split_without_snp)
                r = add_problem(a, "kvm_amd runs with %s=%" PRIu32 " and SNP off: ciphertext hiding takes %" PRIu32 " ASIDs from SEV-ES although SNP is off. "
                                "Set the parameter to 0 or enable SNP.",
                                ASID_CTH_PARAM, p->split_asids, MIN(p->split_asids, p->joint_asids));
        if (r < 0)
                return r;

        for (size_t i = 0; i < a->conflicts.n; i++) {
                uint32_t v;

                if (asid_parse_cth_param(a->conflicts.items[i].value, &v) >= 0)
                        continue;
                r = add_problem(a, "%s sets kvm_amd %s=%s, which kvm_amd refuses (an unsigned integer up to 4294967295, no \"max\"): kvm_amd will fail to load with it.",
                                a->conflicts.items[i].source, ASID_CTH_PARAM, a->conflicts.items[i].value);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int compute(AsidArea *a) {
        bool was_pending = a->pending_reload;
        const char *snp_source;
        uint32_t running;
        int64_t snp;
        int r;

        if (a->cpuid_error < 0) {
                r = add_problem(a, "CPUID leaf 0x8000001F could not be read (%s): the ASID space is unknown.",
                                strerror(-a->cpuid_error));
                if (r < 0)
                        return r;
        }

        /* The effective count: the parameter shows the programmed count only when SNP is on. */
        a->effective_cth = a->kvm_loaded && a->p_snp ? a->p_cth : 0;
        if (a->psp.snp_status_valid && (a->effective_cth > 0) != a->psp.ciphertext_hiding_en) {
                r = add_problem(a, "kvm_amd reports %" PRIu32 " ciphertext-hiding ASIDs but SNP_PLATFORM_STATUS says ciphertext hiding is %s.",
                                a->effective_cth, a->psp.ciphertext_hiding_en ? "enabled" : "disabled");
                if (r < 0)
                        return r;
        }

        a->inputs = (AsidInputs) {
                .max_sev_asid = a->cpuid.max_sev_asid,
                .min_sev_asid = a->cpuid.min_sev_asid,
                .cpu_sev = a->cpuid.sev,
                .cpu_sev_es = a->cpuid.sev_es,
                .cpu_snp = a->cpuid.sev_snp,
                .sev_enabled = a->kvm_loaded && a->p_sev,
                .sev_es_enabled = a->kvm_loaded && a->p_sev_es,
                .snp_enabled = a->kvm_loaded && a->p_snp,
                /* The file shows the programmed count with SNP on and the raw parameter with
                 * SNP off; either way it is what the split used. */
                .cth_supported = true,
                .cth_requested = a->kvm_loaded ? a->p_cth : 0,
        };
        asid_partition_compute(&a->inputs, &a->partition);
        r = check_split(a);
        if (r < 0)
                return r;

        asid_usage_done(&a->usage);
        snp = snp_guests_now(a, &snp_source);
        r = asid_usage_compute(&a->partition, &a->misc, snp, snp_source, &a->usage);
        if (r < 0)
                return r;

        for (AsidPoolId i = 0; i < _ASID_POOL_MAX; i++)
                if (a->usage.pool[i].used > (int64_t) a->usage.pool[i].capacity) {
                        r = add_problem(a, "%s shows %" PRIi64 " ASIDs in use but has only %" PRIu32 ": misc.current and the SNP guest count (%s) disagree.",
                                        asid_pool_to_label(i), a->usage.pool[i].used, a->usage.pool[i].capacity, snp_source);
                        if (r < 0)
                                return r;
                }

        strv_free(a->explanation);
        a->explanation = NULL;
        r = asid_explain(&a->inputs, &a->partition, &a->explanation);
        if (r < 0)
                return r;

        if (a->saved_problem) {
                r = add_problem(a, "%s", a->saved_problem);
                if (r < 0)
                        return r;
        }

        if (a->configured_bad) {
                r = add_problem(a, "%s/%s exists but does not say \"options kvm_amd %s=<n>\"; it was edited by hand. Call SetPolicy to rewrite it.",
                                paths_modprobe_dir(), ASID_MODPROBE_FILE, ASID_CTH_PARAM);
                if (r < 0)
                        return r;
        }

        /* Compared with the parameter as kvm_amd runs with it: with SNP off that is the raw
         * value, which still splits the range. */
        running = a->kvm_loaded ? a->p_cth : 0;
        a->pending_reload = (a->configured_cth >= 0 && (uint64_t) a->configured_cth != running) || a->configured_bad;
        if (!a->policy_loaded)
                /* The first look at start-up, before the saved policy may restore our file. */
                a->pending_reload = false;
        else if (a->pending_reload && !was_pending)
                log_struct(LOG_NOTICE, MESSAGE_ID_ASID_RELOAD_PENDING,
                           "kvm_amd runs with %s=%" PRIu32 ", hwsecd's policy sets %" PRIi64 ": reload kvm_amd or reboot to apply it.",
                           ASID_CTH_PARAM, running, a->configured_cth);
        else if (!a->pending_reload && was_pending)
                log_info("kvm_amd now runs with %s=%" PRIu32 ", as the policy says: no reload pending.",
                         ASID_CTH_PARAM, running);
        return 0;
}

/* Re-reads the cheap inputs (kvm_amd parameters from the host facts, misc cgroup, our file); with
 * full also CPUID and the conflicting settings. Then recomputes and announces changes. The PSP
 * snapshot is the one the last MANAGER_EVENT_PSP_CHANGED brought. */
int asid_refresh(AsidArea *a, bool full) {
        int r;

        strv_free(a->problems);
        a->problems = NULL;

        if (full) {
                r = read_cpuid(a);
                if (r < 0)
                        return r;
                r = scan_conflicts(a);
                if (r < 0)
                        return r;
        }
        r = read_kvm_params(a);
        if (r >= 0)
                r = read_misc(a);
        if (r >= 0)
                r = read_ours(a);
        if (r >= 0)
                r = compute(a);
        if (r < 0)
                return r;

        /* Other areas (the PSP's kvm_amd checks) hear of every change. */
        if (bus_asid_emit_changes(a))
                manager_broadcast_type(a->manager, MANAGER_EVENT_ASID_CHANGED);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        AsidArea *a = userdata;
        bool full = ++a->ticks % ASID_CONFLICT_SCAN_TICKS == 0;
        int r;

        r = asid_refresh(a, full);
        if (r < 0)
                log_warning_errno(r, "Failed to re-read the ASID state: %m");
        (void) sd_event_source_set_time_relative(s, ASID_POLL_USEC);
        (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        return 0;
}

static void log_quota(const QuotaResult *q) {
        char req[32];

        if (q->requested == ASID_QUOTA_UNLIMITED)
                strcpy(req, "max");
        else
                snprintf(req, sizeof req, "%" PRIu64, q->requested);

        switch (q->state) {
        case QUOTA_APPLIED:
                log_struct(LOG_INFO, MESSAGE_ID_ASID_QUOTA, "ASID quota %s=%s applied to cgroup %s (read back %s).",
                           q->resource, req, q->cgroup, q->observed);
                break;
        case QUOTA_MISSING_CGROUP:
                log_struct(LOG_WARNING, MESSAGE_ID_ASID_QUOTA, "ASID quota %s=%s for cgroup %s not applied: the cgroup does not exist (hwsecd does not create it).",
                           q->resource, req, q->cgroup);
                break;
        case QUOTA_NO_CONTROLLER:
                log_struct(LOG_WARNING, MESSAGE_ID_ASID_QUOTA, "ASID quota %s=%s for cgroup %s not applied: it has no misc.max (enable the misc controller in its parent's cgroup.subtree_control).",
                           q->resource, req, q->cgroup);
                break;
        case QUOTA_WRITE_FAILED:
                if (q->error == EROFS)
                        /* The unit makes only machine.slice writable (docs/packaging.md). */
                        log_struct(LOG_WARNING, MESSAGE_ID_ASID_QUOTA, "ASID quota %s=%s for cgroup %s not applied: the cgroup tree is read-only to hwsecd. "
                                   "The unit allows writes below /sys/fs/cgroup/machine.slice only; add the cgroup with a drop-in "
                                   "(systemctl edit hwsecd: [Service] ReadWritePaths=/sys/fs/cgroup/%s).",
                                   q->resource, req, q->cgroup, q->cgroup);
                else
                        log_struct(LOG_WARNING, MESSAGE_ID_ASID_QUOTA, "ASID quota %s=%s for cgroup %s not applied: the kernel refused the write (%s).",
                                   q->resource, req, q->cgroup, strerror(q->error));
                break;
        case QUOTA_MISMATCH:
                log_struct(LOG_WARNING, MESSAGE_ID_ASID_QUOTA, "ASID quota %s=%s for cgroup %s did not stick: misc.max reads back \"%s\".",
                           q->resource, req, q->cgroup, q->observed);
                break;
        default:
                break;
        }
}

static int apply_quotas(AsidArea *a) {
        quota_results_done(&a->quotas);
        if (!a->has_policy)
                return 0;
        for (size_t i = 0; i < a->policy.n_quotas; i++) {
                size_t first = a->quotas.n;
                int r = cgroup_apply_quota(paths_cgroup_root(), &a->policy.quotas[i], &a->quotas);

                if (r < 0)
                        return r;
                for (size_t j = first; j < a->quotas.n; j++)
                        log_quota(&a->quotas.items[j]);
        }
        return 0;
}

int asid_check_quota_cgroups(const AsidPolicy *p, AsidProblems *problems) {
        for (size_t i = 0; i < p->n_quotas; i++) {
                int r = cgroup_exists(paths_cgroup_root(), p->quotas[i].cgroup);

                if (r == -ENOMEM)
                        return r;
                if (r > 0)
                        continue;
                r = asid_problems_add(problems, ASID_SEVERITY_WARNING, "quota-cgroup-missing",
                                      "Cgroup \"%s\" does not exist under %s now; its quota is kept and reported as missing, and hwsecd will not create it.",
                                      p->quotas[i].cgroup, paths_cgroup_root());
                if (r < 0)
                        return r;
        }
        return 0;
}

static json_object *state_for(const AsidPolicy *p, const AsidPlan *plan) {
        json_object *o = json_object_new_object(), *pj = asid_policy_to_json(p);

        if (!o || !pj) {
                json_object_put(o);
                json_object_put(pj);
                return NULL;
        }
        json_object_object_add(o, "policy", pj);
        if (plan->manages_cth)
                json_object_object_add(o, "cth_asids", json_object_new_int64(plan->cth_asids));
        return o;
}

static int restore_modprobe(int64_t old) {
        return old >= 0 ? modprobe_write(paths_modprobe_dir(), (uint32_t) old) : modprobe_remove(paths_modprobe_dir());
}

int asid_apply_policy(AsidArea *a, AsidPolicy *policy, const AsidPlan *plan, const char **ret_what) {
        Manager *m = a->manager;
        json_object *section, *old = NULL;
        int64_t old_configured;
        uint32_t v;
        int r;

        r = modprobe_read_ours(paths_modprobe_dir(), &v);
        old_configured = r > 0 ? (int64_t) v : -1;

        /* state.json first: it is the truth start-up reconciles the modprobe.d file with, so a
         * crash between the two writes can never leave a file that no saved policy confirms. */
        section = state_for(policy, plan);
        if (!section) {
                *ret_what = "build the state";
                return -ENOMEM;
        }
        if (json_object_object_get_ex(m->state, STATE_KEY, &old))
                json_object_get(old);
        json_object_object_add(m->state, STATE_KEY, section);
        r = manager_save_state(m);
        if (r >= 0) {
                r = plan->manages_cth ? modprobe_write(paths_modprobe_dir(), plan->cth_asids)
                                      : modprobe_remove(paths_modprobe_dir());
                if (r < 0) {
                        *ret_what = "write the modprobe.d file";
                        (void) restore_modprobe(old_configured);
                } else
                        *ret_what = NULL;
        } else
                *ret_what = "save the state file";
        if (r < 0) {
                int k;

                /* Put the previous policy back, in memory and on disk. */
                if (old)
                        json_object_object_add(m->state, STATE_KEY, old);
                else
                        json_object_object_del(m->state, STATE_KEY);
                k = manager_save_state(m);
                if (k < 0)
                        log_error_errno(k, "The previous ASID policy could not be written back to state.json: %m");
                return r;
        }
        json_object_put(old);

        asid_policy_done(&a->policy);
        a->policy = *policy;
        *policy = (AsidPolicy) {};
        a->has_policy = true;
        a->saved_problem = mfree(a->saved_problem);

        if (plan->manages_cth)
                log_struct(LOG_NOTICE, MESSAGE_ID_ASID_POLICY_SET,
                           "ASID policy set: %s=%" PRIu32 " written to %s/%s (SNP %" PRIu32 ", SEV-ES %s), %zu quota(s).",
                           ASID_CTH_PARAM, plan->cth_asids, paths_modprobe_dir(), ASID_MODPROBE_FILE,
                           asid_range_count(&plan->partition.pool[ASID_POOL_SNP]),
                           asid_pool_state_to_string(plan->partition.pool[ASID_POOL_SEV_ES].state),
                           a->policy.n_quotas);
        else
                log_struct(LOG_NOTICE, MESSAGE_ID_ASID_POLICY_SET,
                           "ASID policy set: ciphertext hiding not managed by hwsecd (%s/%s removed), %zu quota(s).",
                           paths_modprobe_dir(), ASID_MODPROBE_FILE, a->policy.n_quotas);

        /* The policy is saved: from here on nothing may fail the call. */
        if (apply_quotas(a) < 0)
                log_oom();
        (void) manager_refresh_facts(a->manager, HOST_FACTS_KVM);
        r = asid_refresh(a, true);
        if (r < 0)
                log_warning_errno(r, "Failed to re-read the ASID state after setting the policy: %m");
        return 0;
}

static int saved_bad(AsidArea *a, const char *fmt, ...) _printf_(2, 3);

/* Keeps the sentence for the Problems property (until a SetPolicy replaces the saved policy). */
static int saved_bad(AsidArea *a, const char *fmt, ...) {
        va_list ap;
        int r;

        free(a->saved_problem);
        va_start(ap, fmt);
        r = vasprintf(&a->saved_problem, fmt, ap);
        va_end(ap);
        if (r < 0) {
                a->saved_problem = NULL;
                return -ENOMEM;
        }
        log_warning("%s", a->saved_problem);
        return 0;
}

/* The saved "cth_asids" must be what SetPolicy would write for the saved policy on this host,
 * and the policy must pass SetPolicy's checks: anything else was not written by hwsecd and must
 * not reach modprobe.d. Returns 1 when the entry is good, 0 when it is not (reported). */
static int check_saved_cth(AsidArea *a, json_object *section, uint32_t *ret) {
        AsidProblems problems = {};
        const AsidProblem *bad;
        json_object *cj;
        AsidHost host;
        AsidPlan plan;
        int64_t cth;
        int r;

        if (!json_object_object_get_ex(section, "cth_asids", &cj) || !json_object_is_type(cj, json_type_int))
                return saved_bad(a, "state.json key \"asid\" has no valid \"cth_asids\"; %s/%s is left as it is. Call SetPolicy to save the policy again.",
                                 paths_modprobe_dir(), ASID_MODPROBE_FILE);
        cth = json_object_get_int64(cj);

        asid_area_host(a, &host);
        r = asid_policy_plan(&a->policy, &host, &plan, &problems);
        if (r < 0) {
                asid_problems_done(&problems);
                return r;
        }
        bad = asid_problems_first_error(&problems);
        if (bad)
                r = saved_bad(a, "The saved ASID policy in state.json is refused on this host (%s): %s %s/%s is left as it is; call SetPolicy with a policy that passes.",
                              bad->code, bad->message, paths_modprobe_dir(), ASID_MODPROBE_FILE);
        else if (cth != (int64_t) plan.cth_asids)
                r = saved_bad(a, "state.json key \"asid\" has \"cth_asids\" %" PRIi64 ", but the saved policy gives %" PRIu32 " on this host; %s/%s is left as it is. Call SetPolicy to save the policy again.",
                              cth, plan.cth_asids, paths_modprobe_dir(), ASID_MODPROBE_FILE);
        else {
                *ret = plan.cth_asids;
                r = 1;
        }
        asid_problems_done(&problems);
        return r;
}

static int load_policy(AsidArea *a) {
        Manager *m = a->manager;
        _cleanup_free_ char *err = NULL;
        json_object *section, *pj;
        uint32_t cth = 0, v;
        int r;

        if (!m->state || !json_object_object_get_ex(m->state, STATE_KEY, &section))
                return 0;
        if (!json_object_object_get_ex(section, "policy", &pj)) {
                manager_add_problem(m, "state.json key \"asid\" has no \"policy\"; the saved ASID policy is ignored until SetPolicy is called.");
                return 0;
        }
        r = asid_policy_from_json(pj, &a->policy, &err);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                manager_add_problem(m, "The saved ASID policy in state.json is not valid (%s); it is ignored until SetPolicy is called.", strna(err));
                return 0;
        }
        a->has_policy = true;

        /* The file is ours: put it back if it went missing or was edited, and remove it when the
         * saved policy leaves ciphertext hiding alone. */
        if (a->policy.cth_mode == CTH_UNMANAGED) {
                r = modprobe_remove(paths_modprobe_dir());
                if (r < 0)
                        log_warning_errno(r, "Failed to remove %s/%s, which the saved policy does not want: %m",
                                          paths_modprobe_dir(), ASID_MODPROBE_FILE);
                return 0;
        }

        r = check_saved_cth(a, section, &cth);
        if (r <= 0)
                return r;
        r = modprobe_read_ours(paths_modprobe_dir(), &v);
        if (r > 0 && v == cth)
                return 0;
        r = modprobe_write(paths_modprobe_dir(), cth);
        if (r < 0)
                log_warning_errno(r, "Failed to restore %s/%s: %m", paths_modprobe_dir(), ASID_MODPROBE_FILE);
        else
                log_notice("Restored %s/%s with %s=%" PRIu32 " from the saved policy.",
                           paths_modprobe_dir(), ASID_MODPROBE_FILE, ASID_CTH_PARAM, cth);
        return 0;
}

static int asid_start(Manager *m, void **ret) {
        const PspSnapshot *psp = manager_retained_psp(m);
        AsidArea *a;
        int r;

        a = calloc(1, sizeof(AsidArea));
        if (!a)
                return log_oom();
        a->manager = m;
        a->configured_cth = -1;
        if (psp)
                a->psp = *psp;
        *ret = a;

        manager_remove_stale_temp_files_in(paths_modprobe_dir(), ASID_MODPROBE_FILE);

        /* The host first: the saved policy is checked against it as SetPolicy would. */
        r = asid_refresh(a, true);
        if (r < 0)
                return log_error_errno(r, "Failed to read the ASID state: %m");
        r = load_policy(a);
        if (r < 0)
                return log_oom();
        a->policy_loaded = true;
        r = apply_quotas(a);
        if (r < 0)
                return log_oom();
        r = asid_refresh(a, false);
        if (r < 0)
                return log_error_errno(r, "Failed to read the ASID state: %m");

        r = bus_asid_register(a);
        if (r < 0)
                return log_error_errno(r, "Failed to register %s: %m", ASID_IFACE);

        r = sd_event_add_time_relative(m->event, &a->timer, CLOCK_MONOTONIC, ASID_POLL_USEC, 0, on_timer, a);
        if (r < 0)
                return log_error_errno(r, "Failed to arm the ASID poll timer: %m");
        (void) sd_event_source_set_description(a->timer, "asid-poll");
        return 0;
}

static void asid_free(void *data) {
        AsidArea *a = data;

        sd_event_source_disable_unref(a->timer);
        bus_asid_unregister(a);
        asid_usage_done(&a->usage);
        strv_free(a->explanation);
        strv_free(a->problems);
        free(a->saved_problem);
        asid_policy_done(&a->policy);
        asid_conflicts_done(&a->conflicts);
        quota_results_done(&a->quotas);
        bus_property_cache_done(&a->properties);
        free(a);
}

/* kvm_amd loads and unloads are "module" uevents, which the monitor does not pass on; the host
 * facts poll the parameters and send MANAGER_EVENT_FACTS_CHANGED. */
static void asid_event(void *data, const ManagerEvent *ev) {
        AsidArea *a = data;
        bool full;
        int r;

        switch (ev->type) {
        case MANAGER_EVENT_PSP_CHANGED:
                a->psp = *ev->psp;
                full = true;
                break;
        case MANAGER_EVENT_CONFIG_RELOADED:
                full = true;
                break;
        case MANAGER_EVENT_FACTS_CHANGED:
                if (!(ev->facts_changed & (HOST_FACTS_KVM | HOST_FACTS_CMDLINE)))
                        return;
                /* the command line feeds the conflict scan, which only a full refresh does */
                full = ev->facts_changed & HOST_FACTS_CMDLINE;
                break;
        default:
                return;
        }
        r = asid_refresh(a, full);
        if (r < 0)
                log_warning_errno(r, "Failed to recompute the ASID pools: %m");
}

static json_object *summary_json(AsidArea *a) {
        json_object *s = json_object_new_object();
        char buf[256];

        if (!s)
                return NULL;
        for (AsidPoolId i = 0; i < _ASID_POOL_MAX; i++) {
                const AsidRange *r = &a->partition.pool[i];
                char free_[32] = "?";

                if (a->usage.pool[i].free >= 0)
                        snprintf(free_, sizeof free_, "%" PRIi64, a->usage.pool[i].free);
                if (r->state == ASID_POOL_DISABLED)
                        snprintf(buf, sizeof buf, "disabled");
                else
                        snprintf(buf, sizeof buf, "%s, ASIDs %" PRIu32 "-%" PRIu32 ", %" PRIu32 " total, %s free",
                                 asid_pool_state_to_string(r->state), r->first, r->last, asid_range_count(r), free_);
                json_object_object_add(s, asid_pool_to_label(i), json_object_new_string(buf));
        }
        if (a->configured_cth >= 0)
                snprintf(buf, sizeof buf, "%" PRIu32 " in effect, %" PRIi64 " configured%s", a->effective_cth,
                         a->configured_cth, a->pending_reload ? ", reload pending" : "");
        else
                snprintf(buf, sizeof buf, "%" PRIu32 " in effect, not configured by hwsecd", a->effective_cth);
        json_object_object_add(s, "Ciphertext hiding", json_object_new_string(buf));
        if (a->conflicts.n > 0) {
                snprintf(buf, sizeof buf, "%zu (see hwsecctl asid)", a->conflicts.n);
                json_object_object_add(s, "Conflicts", json_object_new_string(buf));
        }
        return s;
}

static int asid_describe(void *data, json_object *root) {
        json_object *o, *s;

        o = asid_area_properties_json(data);
        s = summary_json(data);
        if (!o || !s) {
                json_object_put(o);
                json_object_put(s);
                return -ENOMEM;
        }
        json_object_object_add(o, "summary", s);
        json_object_object_add(root, STATE_KEY, o);
        return 0;
}

static bool asid_degraded(void *data) {
        AsidArea *a = data;

        if (a->conflicts.n > 0 || a->configured_bad || a->saved_problem)
                return true;
        for (size_t i = 0; i < a->quotas.n; i++)
                if (a->quotas.items[i].state == QUOTA_WRITE_FAILED || a->quotas.items[i].state == QUOTA_MISMATCH)
                        return true;
        return false;
}

/* docs/metrics.md: one series per pool and figure, the states one-hot. */
static int asid_metrics(void *data, MetricsWriter *w) {
        AsidArea *a = data;
        int r;

        for (AsidPoolId i = 0; i < _ASID_POOL_MAX; i++) {
                const AsidRange *range = &a->partition.pool[i];
                const AsidPoolUsage *u = &a->usage.pool[i];
                const char *pool = asid_pool_to_string(i);

                for (AsidPoolState st = 0; st < _ASID_POOL_STATE_MAX; st++) {
                        r = metrics_sample(w, "hwsecd_asid_pool_state",
                                           METRICS_LABELS({ "pool", pool }, { "state", asid_pool_state_to_string(st) }),
                                           range->state == st, "ASID pool state: 1 for the current state of each pool.");
                        if (r < 0)
                                return r;
                }
                r = metrics_sample(w, "hwsecd_asid_pool_first", METRICS_LABELS({ "pool", pool }), range->first,
                                   "First ASID of the pool, as kvm_amd logs it.");
                if (r >= 0)
                        r = metrics_sample(w, "hwsecd_asid_pool_last", METRICS_LABELS({ "pool", pool }), range->last,
                                           "Last ASID of the pool (below first when the pool is unusable).");
                if (r < 0)
                        return r;
                r = metrics_sample(w, "hwsecd_asid_pool_capacity", METRICS_LABELS({ "pool", pool }), u->capacity,
                                   "ASIDs in the pool.");
                if (r >= 0 && u->used >= 0)
                        r = metrics_sample(w, "hwsecd_asid_pool_used", METRICS_LABELS({ "pool", pool }), u->used,
                                           "ASIDs of the pool in use by guests.");
                if (r >= 0 && u->free >= 0)
                        r = metrics_sample(w, "hwsecd_asid_pool_free", METRICS_LABELS({ "pool", pool }), u->free,
                                           "ASIDs of the pool a new guest can get.");
                if (r < 0)
                        return r;
        }
        r = metrics_sample(w, "hwsecd_asid_ciphertext_hiding_asids", NULL, a->effective_cth,
                           "SNP ASIDs with ciphertext hiding in effect (0: off).");
        if (r >= 0 && a->configured_cth >= 0)
                r = metrics_sample(w, "hwsecd_asid_ciphertext_hiding_configured_asids", NULL, a->configured_cth,
                                   "ciphertext_hiding_asids in hwsecd's modprobe.d file (absent when hwsecd set none).");
        if (r >= 0)
                r = metrics_sample(w, "hwsecd_asid_reload_pending", NULL, a->pending_reload,
                                   "1 when the configured ASID split waits for a reload of kvm_amd.");
        if (r >= 0)
                r = metrics_sample(w, "hwsecd_asid_kvm_amd_loaded", NULL, a->kvm_loaded, "1 when kvm_amd is loaded.");
        return r;
}

const AreaVTable asid_area_vtable = {
        .name = "asid",
        .start = asid_start,
        .free = asid_free,
        .event = asid_event,
        .describe = asid_describe,
        .degraded = asid_degraded,
        .metrics = asid_metrics,
};
