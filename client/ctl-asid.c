/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hwsecctl asid [show|explain|set-policy]: the ASID pools, why they are what they are, and the
 * ciphertext-hiding / quota policy (org.hwsecd1.Asid, docs/asid.md). */

#include <inttypes.h>

#include "ctl.h"

#define ASID_PATH "/org/hwsecd1/asid"
#define ASID_IFACE "org.hwsecd1.Asid"

static json_object *get(json_object *o, const char *key) {
        json_object *v = NULL;
        return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *pool_label(const char *name) {
        if (streq(name, "sev"))
                return "SEV";
        if (streq(name, "sev-es"))
                return "SEV-ES";
        if (streq(name, "snp"))
                return "SEV-SNP";
        return name;
}

static void format_count(char *buf, size_t n, json_object *v) {
        int64_t x = json_object_get_int64(v);

        if (x < 0)
                snprintf(buf, n, "?");
        else
                snprintf(buf, n, "%" PRIi64, x);
}

/* Pools as the bus gives them: arrays of (name, state, first, last, capacity, used, free, note). */
static void print_pools(json_object *pools, bool notes) {
        size_t n = pools ? json_object_array_length(pools) : 0;

        printf("%-8s %-9s %-11s %8s %6s %6s\n", "POOL", "STATE", "RANGE", "CAPACITY", "USED", "FREE");
        for (size_t i = 0; i < n; i++) {
                json_object *p = json_object_array_get_idx(pools, i);
                char range[32], used[24], free_[24];

                if (!json_object_is_type(p, json_type_array) || json_object_array_length(p) < 8)
                        continue;
                if (streq(json_object_get_string(json_object_array_get_idx(p, 1)), "disabled"))
                        snprintf(range, sizeof range, "-");
                else
                        snprintf(range, sizeof range, "%" PRIi64 "-%" PRIi64,
                                 json_object_get_int64(json_object_array_get_idx(p, 2)),
                                 json_object_get_int64(json_object_array_get_idx(p, 3)));
                format_count(used, sizeof used, json_object_array_get_idx(p, 5));
                format_count(free_, sizeof free_, json_object_array_get_idx(p, 6));
                printf("%-8s %-9s %-11s %8" PRIi64 " %6s %6s\n",
                       pool_label(json_object_get_string(json_object_array_get_idx(p, 0))),
                       json_object_get_string(json_object_array_get_idx(p, 1)), range,
                       json_object_get_int64(json_object_array_get_idx(p, 4)), used, free_);
        }
        if (notes)
                for (size_t i = 0; i < n; i++) {
                        json_object *p = json_object_array_get_idx(pools, i);
                        if (json_object_is_type(p, json_type_array) && json_object_array_length(p) >= 8)
                                printf("  %s used: %s\n", pool_label(json_object_get_string(json_object_array_get_idx(p, 0))),
                                       json_object_get_string(json_object_array_get_idx(p, 7)));
                }
}

static void print_strings(const char *prefix, json_object *a) {
        size_t n = a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;

        for (size_t i = 0; i < n; i++)
                printf("%s%s\n", prefix, json_object_get_string(json_object_array_get_idx(a, i)));
}

static int get_all(Ctl *c, json_object **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = ctl_call(c, ASID_PATH, "org.freedesktop.DBus.Properties", "GetAll", &reply, "s", ASID_IFACE);
        if (r < 0)
                return r;
        r = ctl_message_to_json(reply, ret);
        if (r < 0 || !*ret) {
                fprintf(stderr, "hwsecctl: cannot read the reply of %s GetAll: %s\n", ASID_IFACE, strerror(r < 0 ? -r : EBADMSG));
                return -EXIT_FAILED;
        }
        return 0;
}

static void print_policy_state(json_object *all) {
        int64_t configured = json_object_get_int64(get(all, "ConfiguredCiphertextHidingAsids"));
        json_object *conflicts = get(all, "Conflicts"), *quotas = get(all, "QuotaStatus");

        printf("\nASID space: max ASID %" PRIi64 ", minimum SEV ASID %" PRIi64 "; kvm_amd %s.\n",
               json_object_get_int64(get(all, "MaxAsid")), json_object_get_int64(get(all, "MinSevAsid")),
               json_object_get_boolean(get(all, "KvmAmdLoaded")) ? "loaded" : "not loaded");
        printf("Ciphertext hiding: %" PRIi64 " SNP ASIDs in effect (supported: %s); ",
               json_object_get_int64(get(all, "EffectiveCiphertextHidingAsids")),
               json_object_get_string(get(all, "CiphertextHidingSupported")));
        if (configured < 0)
                printf("not configured by hwsecd.\n");
        else
                printf("hwsecd's modprobe.d file sets %" PRIi64 "%s.\n", configured,
                       json_object_get_boolean(get(all, "PendingReload"))
                               ? ": RELOAD PENDING (reload kvm_amd or reboot)" : ", in effect");

        for (size_t i = 0; conflicts && i < json_object_array_length(conflicts); i++) {
                json_object *e = json_object_array_get_idx(conflicts, i);
                printf("! Conflict: %s sets ciphertext_hiding_asids=%s\n",
                       json_object_get_string(json_object_array_get_idx(e, 0)),
                       json_object_get_string(json_object_array_get_idx(e, 1)));
        }
        for (size_t i = 0; quotas && i < json_object_array_length(quotas); i++) {
                json_object *e = json_object_array_get_idx(quotas, i);
                uint64_t req = json_object_get_uint64(json_object_array_get_idx(e, 2));
                const char *observed = json_object_get_string(json_object_array_get_idx(e, 3));
                char reqs[32];

                if (req == UINT64_MAX)
                        strcpy(reqs, "max");
                else
                        snprintf(reqs, sizeof reqs, "%" PRIu64, req);

                printf("Quota %s %s=%s: %s", json_object_get_string(json_object_array_get_idx(e, 0)),
                       json_object_get_string(json_object_array_get_idx(e, 1)), reqs,
                       json_object_get_string(json_object_array_get_idx(e, 4)));
                if (!isempty(observed))
                        printf(" (misc.max reads \"%s\")", observed);
                printf("\n");
        }
        print_strings("! ", get(all, "Problems"));
}

static int verb_show(Ctl *c, bool explain) {
        _cleanup_(json_object_putp) json_object *all = NULL;
        int r;

        r = get_all(c, &all);
        if (r < 0)
                return ctl_exit(r);
        if (c->json) {
                if (explain) {
                        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
                        json_object_object_add(o, "explanation", json_object_get(get(all, "Explanation")));
                        json_object_object_add(o, "pools", json_object_get(get(all, "Pools")));
                        json_object_object_add(o, "problems", json_object_get(get(all, "Problems")));
                        ctl_print_json(o);
                } else
                        ctl_print_json(all);
                return EXIT_OK;
        }
        if (explain) {
                print_strings("", get(all, "Explanation"));
                printf("\n");
                print_pools(get(all, "Pools"), true);
        } else
                print_pools(get(all, "Pools"), false);
        print_policy_state(all);
        return EXIT_OK;
}

/* ---- set-policy ---- */

typedef struct QuotaArg {
        char *cgroup;
        char *sev, *sev_es;     /* "N" or "max", NULL when not given */
} QuotaArg;

static void quota_args_free(QuotaArg *q, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(q[i].cgroup);
                free(q[i].sev);
                free(q[i].sev_es);
        }
        free(q);
}

static bool is_limit(const char *s) {
        if (streq(s, "max"))
                return true;
        if (isempty(s) || strlen(s) > 10)
                return false;
        for (const char *p = s; *p; p++)
                if (*p < '0' || *p > '9')
                        return false;
        return strtoull(s, NULL, 10) <= UINT32_MAX;
}

/* CGROUP:sev=N,sev_es=M (either part may be left out; N may be "max"). */
static int parse_quota_arg(const CtlVerb *v, const char *arg, QuotaArg *ret) {
        const char *colon = strrchr(arg, ':');
        _cleanup_free_ char *list = NULL;
        QuotaArg q = {};
        char *save = NULL;

        if (!colon || colon == arg)
                return ctl_verb_usage_error(v, "--quota wants CGROUP:sev=N,sev_es=M, not '%s'.", arg);
        q.cgroup = strndup(arg, colon - arg);
        list = strdup(colon + 1);
        if (!q.cgroup || !list)
                return EXIT_FAILED;
        for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(tok, '=');
                char **slot;

                if (!eq)
                        goto bad;
                *eq = '\0';
                slot = streq(tok, "sev") ? &q.sev : streq(tok, "sev_es") ? &q.sev_es : NULL;
                if (!slot || *slot || !is_limit(eq + 1))
                        goto bad;
                *slot = strdup(eq + 1);
                if (!*slot)
                        goto bad;
        }
        if (!q.sev && !q.sev_es)
                goto bad;
        *ret = q;
        return 0;
bad:
        free(q.cgroup);
        free(q.sev);
        free(q.sev_es);
        return ctl_verb_usage_error(v, "--quota wants CGROUP:sev=N,sev_es=M with N and M numbers (up to 4294967295) or \"max\", not '%s'.", arg);
}

static int append_limit(sd_bus_message *m, const char *key, const char *v) {
        if (!v)
                return 0;
        if (streq(v, "max"))
                return sd_bus_message_append(m, "{sv}", key, "s", "max");
        return sd_bus_message_append(m, "{sv}", key, "u", (uint32_t) strtoul(v, NULL, 10));
}

static int append_policy(sd_bus_message *m, const char *cth, bool allow, QuotaArg *quotas, size_t n_quotas) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        if (cth) {
                if (streq(cth, "off") || streq(cth, "all-snp"))
                        r = sd_bus_message_append(m, "{sv}", "ciphertext_hiding", "s", cth);
                else
                        r = sd_bus_message_append(m, "{sv}", "ciphertext_hiding", "u", (uint32_t) strtoul(cth, NULL, 10));
                if (r < 0)
                        return r;
        }
        if (allow) {
                r = sd_bus_message_append(m, "{sv}", "allow_sev_es_unusable", "b", 1);
                if (r < 0)
                        return r;
        }
        if (n_quotas > 0) {
                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "quotas");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "a{sv}");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "{sv}");
                for (size_t i = 0; r >= 0 && i < n_quotas; i++) {
                        r = sd_bus_message_open_container(m, 'e', "sv");
                        if (r >= 0)
                                r = sd_bus_message_append(m, "s", quotas[i].cgroup);
                        if (r >= 0)
                                r = sd_bus_message_open_container(m, 'v', "a{sv}");
                        if (r >= 0)
                                r = sd_bus_message_open_container(m, 'a', "{sv}");
                        if (r >= 0)
                                r = append_limit(m, "sev", quotas[i].sev);
                        if (r >= 0)
                                r = append_limit(m, "sev_es", quotas[i].sev_es);
                        for (int k = 0; r >= 0 && k < 3; k++)
                                r = sd_bus_message_close_container(m);
                }
                for (int k = 0; r >= 0 && k < 3; k++)
                        r = sd_bus_message_close_container(m);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

static bool valid_cth(const char *s) {
        return streq(s, "off") || streq(s, "all-snp") || (is_limit(s) && !streq(s, "max"));
}

static void print_problems(json_object *problems, bool *ret_error) {
        size_t n = problems ? json_object_array_length(problems) : 0;

        *ret_error = false;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(problems, i);
                const char *sev = json_object_get_string(json_object_array_get_idx(e, 0));

                if (streq(sev, "error"))
                        *ret_error = true;
                printf("%s %s: %s\n", streq(sev, "error") ? "ERROR" : "warning",
                       json_object_get_string(json_object_array_get_idx(e, 1)),
                       json_object_get_string(json_object_array_get_idx(e, 2)));
        }
}

static int dry_run(Ctl *c, sd_bus_message *reply) {
        _cleanup_(json_object_putp) json_object *pools = NULL, *cth = NULL, *problems = NULL, *expl = NULL, *o = NULL;
        bool has_error;

        if (ctl_message_to_json(reply, &pools) < 0 || ctl_message_to_json(reply, &cth) < 0 ||
            ctl_message_to_json(reply, &problems) < 0 || ctl_message_to_json(reply, &expl) < 0 ||
            !pools || !cth || !problems || !expl) {
                fprintf(stderr, "hwsecctl: cannot read the reply of ValidatePolicy.\n");
                return EXIT_FAILED;
        }
        has_error = false;
        for (size_t i = 0; i < json_object_array_length(problems); i++)
                if (streq(json_object_get_string(json_object_array_get_idx(json_object_array_get_idx(problems, i), 0)), "error"))
                        has_error = true;

        if (c->json) {
                o = json_object_new_object();
                json_object_object_add(o, "dry_run", json_object_new_boolean(true));
                json_object_object_add(o, "acceptable", json_object_new_boolean(!has_error));
                json_object_object_add(o, "ciphertext_hiding_asids", json_object_get(cth));
                json_object_object_add(o, "pools", json_object_get(pools));
                json_object_object_add(o, "problems", json_object_get(problems));
                json_object_object_add(o, "explanation", json_object_get(expl));
                ctl_print_json(o);
        } else {
                printf("Dry run: after the next kvm_amd load with ciphertext_hiding_asids=%" PRIi64 ":\n\n",
                       json_object_get_int64(cth));
                print_pools(pools, false);
                printf("\n");
                print_strings("", expl);
                if (json_object_array_length(problems) > 0)
                        printf("\n");
                print_problems(problems, &has_error);
                printf("\n%s\n", has_error ? "SetPolicy would refuse this policy." : "SetPolicy would accept this policy. Nothing was changed.");
        }
        return has_error ? EXIT_FAILED : EXIT_OK;
}

static int set_policy(Ctl *c, sd_bus_message *reply) {
        _cleanup_(json_object_putp) json_object *warnings = NULL, *o = NULL, *all = NULL;
        bool has_error;
        int r;

        if (ctl_message_to_json(reply, &warnings) < 0 || !warnings) {
                fprintf(stderr, "hwsecctl: cannot read the reply of SetPolicy.\n");
                return EXIT_FAILED;
        }
        r = get_all(c, &all);
        if (r < 0)
                return ctl_exit(r);
        if (c->json) {
                o = json_object_new_object();
                json_object_object_add(o, "warnings", json_object_get(warnings));
                json_object_object_add(o, "pending_reload", json_object_get(get(all, "PendingReload")));
                json_object_object_add(o, "configured_ciphertext_hiding_asids",
                                       json_object_get(get(all, "ConfiguredCiphertextHidingAsids")));
                json_object_object_add(o, "quota_status", json_object_get(get(all, "QuotaStatus")));
                ctl_print_json(o);
                return EXIT_OK;
        }
        printf("Policy set.\n");
        print_problems(warnings, &has_error);
        print_policy_state(all);
        return EXIT_OK;
}

enum {
        ARG_CIPHERTEXT_HIDING = ARG_VERB_FIRST,
        ARG_ALLOW_SEV_ES_UNUSABLE,
        ARG_QUOTA,
        ARG_DRY_RUN,
};

static const struct option set_policy_options[] = {
        { "ciphertext-hiding", required_argument, NULL, ARG_CIPHERTEXT_HIDING },
        { "allow-sev-es-unusable", no_argument, NULL, ARG_ALLOW_SEV_ES_UNUSABLE },
        { "quota", required_argument, NULL, ARG_QUOTA },
        { "dry-run", no_argument, NULL, ARG_DRY_RUN },
        {}
};

static const CtlVerb set_policy_verb = {
        .name = "asid set-policy",
        .usage = "hwsecctl asid set-policy [--ciphertext-hiding off|all-snp|N] [--allow-sev-es-unusable]\n"
                 "                          [--quota CGROUP:sev=N,sev_es=M]... [--dry-run] [--json]\n\n"
                 "Validate and stage a ciphertext-hiding policy and ASID quotas. The policy is written to\n"
                 "the modprobe.d file hwsecd owns and takes effect when kvm_amd is reloaded.\n\n"
                 "  --ciphertext-hiding off|all-snp|N   SNP ASIDs with ciphertext hiding\n"
                 "  --allow-sev-es-unusable             Accept a policy that leaves no SEV-ES ASID\n"
                 "  --quota CGROUP:sev=N,sev_es=M       misc cgroup limits (N, M: a number or max); repeatable\n"
                 "  --dry-run                           Show the pools the policy would give; change nothing\n",
        .options = set_policy_options,
        .max_args = 0,
};

typedef struct PolicyArgs {
        const char *cth;
        bool allow, dry;
        QuotaArg *quotas;
        size_t n_quotas;
} PolicyArgs;

static int add_quota(const CtlVerb *v, PolicyArgs *p, const char *arg) {
        QuotaArg *t;
        int r;

        t = realloc(p->quotas, sizeof(QuotaArg) * (p->n_quotas + 1));
        if (!t)
                return EXIT_FAILED;
        p->quotas = t;
        r = parse_quota_arg(v, arg, &p->quotas[p->n_quotas]);
        if (r == 0)
                p->n_quotas++;
        return r;
}

static int set_policy_option(Ctl *c, const CtlVerb *v, int opt, const char *arg, void *userdata) {
        PolicyArgs *p = userdata;

        switch (opt) {
        case ARG_CIPHERTEXT_HIDING:
                if (!valid_cth(arg))
                        return ctl_verb_usage_error(v, "--ciphertext-hiding wants off, all-snp or a number of SNP ASIDs, not '%s'.", arg);
                p->cth = arg;
                return 0;
        case ARG_ALLOW_SEV_ES_UNUSABLE:
                p->allow = true;
                return 0;
        case ARG_QUOTA:
                return add_quota(v, p, arg);
        case ARG_DRY_RUN:
                p->dry = true;
                return 0;
        }
        return EXIT_FAILED;
}

static int verb_set_policy(Ctl *c, int argc, char **argv) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL, *reply = NULL;
        PolicyArgs p = {};
        char **args;
        int n, r;

        r = ctl_parse_args(c, &set_policy_verb, argc, argv, set_policy_option, &p, &args, &n);
        if (r <= 0) {
                r = -r;
                goto finish;
        }
        if (!p.cth && !p.allow && p.n_quotas == 0) {
                r = ctl_verb_usage_error(&set_policy_verb, "needs --ciphertext-hiding, --allow-sev-es-unusable or --quota.");
                goto finish;
        }

        r = ctl_new_method_call(c, ASID_PATH, ASID_IFACE, p.dry ? "ValidatePolicy" : "SetPolicy", &msg);
        if (r < 0) {
                r = ctl_exit(r);
                goto finish;
        }
        r = append_policy(msg, p.cth, p.allow, p.quotas, p.n_quotas);
        if (r < 0) {
                fprintf(stderr, "hwsecctl: cannot build the policy: %s\n", strerror(-r));
                r = EXIT_FAILED;
                goto finish;
        }
        r = ctl_call_message(c, msg, &reply);
        if (r < 0) {
                r = ctl_exit(r);
                goto finish;
        }
        r = p.dry ? dry_run(c, reply) : set_policy(c, reply);
finish:
        quota_args_free(p.quotas, p.n_quotas);
        return r;
}

static const CtlVerb show_verb = {
        .name = "asid show",
        .usage = "hwsecctl asid [show] [--json]\n\n"
                 "The SEV, SEV-ES and SNP ASID pools (range, capacity, used, free) and the\n"
                 "ciphertext-hiding policy, configured against effective.\n",
        .max_args = 0,
};

static const CtlVerb explain_verb = {
        .name = "asid explain",
        .usage = "hwsecctl asid explain [--json]\n\n"
                 "Why each ASID range is what it is, with the usage evidence.\n",
        .max_args = 0,
};

static int run_show(Ctl *c, const CtlVerb *v, int argc, char **argv) {
        char **args;
        int n, r;

        r = ctl_parse_args(c, v, argc, argv, NULL, NULL, &args, &n);
        if (r <= 0)
                return -r;
        return verb_show(c, v == &explain_verb);
}

static int verb_show_pools(Ctl *c, int argc, char **argv) {
        return run_show(c, &show_verb, argc, argv);
}

static int verb_explain(Ctl *c, int argc, char **argv) {
        return run_show(c, &explain_verb, argc, argv);
}

static const CtlVerb asid_verb = {
        .name = "asid",
        .usage = "hwsecctl asid [show] [--json]\n"
                 "hwsecctl asid explain [--json]\n"
                 "hwsecctl asid set-policy [--ciphertext-hiding off|all-snp|N] [--allow-sev-es-unusable]\n"
                 "                         [--quota CGROUP:sev=N,sev_es=M]... [--dry-run] [--json]\n\n"
                 "SEV, SEV-ES and SNP ASID pools and the ciphertext-hiding / quota policy.\n"
                 "'hwsecctl asid COMMAND --help' shows the options of a command.\n",
        .max_args = -1,
        .stop_at_verb = true,
};

int verb_asid(Ctl *c, int argc, char **argv) {
        static const CtlSubVerb table[] = {
                { "show", verb_show_pools },
                { "explain", verb_explain },
                { "set-policy", verb_set_policy },
                {}
        };
        char *show[] = { (char *) "show", NULL };
        char **args;
        int n, r;

        r = ctl_parse_args(c, &asid_verb, argc, argv, NULL, NULL, &args, &n);
        if (r <= 0)
                return -r;
        if (n == 0)
                return verb_show_pools(c, 1, show);
        return ctl_dispatch(c, &asid_verb, table, n, args);
}
