/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>
#include <stdarg.h>

#include "fileio.h"
#include "policy.h"

static const char * const severity_names[_ASID_SEVERITY_MAX] = {
        [ASID_SEVERITY_WARNING] = "warning",
        [ASID_SEVERITY_ERROR] = "error",
};

const char *asid_severity_to_string(AsidSeverity s) {
        return s >= 0 && s < _ASID_SEVERITY_MAX ? severity_names[s] : NULL;
}

void asid_policy_done(AsidPolicy *p) {
        for (size_t i = 0; i < p->n_quotas; i++)
                free(p->quotas[i].cgroup);
        p->quotas = mfree(p->quotas);
        p->n_quotas = 0;
}

static const char *json_type_name(json_object *v) {
        return v ? json_type_to_name(json_object_get_type(v)) : "null";
}

/* Gets an unsigned number that fits in max, refusing negative values, overflow and other types. */
static int get_uint(json_object *v, const char *what, uint64_t max, uint64_t *ret, char **ret_error) {
        int64_t i;

        if (!json_object_is_type(v, json_type_int))
                return error_message_set(ret_error, EINVAL, "%s must be an unsigned integer, not %s.", what, json_type_name(v));
        i = json_object_get_int64(v);
        if (i < 0)
                return error_message_set(ret_error, EINVAL, "%s must not be negative (got %" PRIi64 ").", what, i);
        if (i == INT64_MAX || (uint64_t) i > max)
                return error_message_set(ret_error, EINVAL, "%s is too large (the maximum is %" PRIu64 ").", what, max);
        *ret = (uint64_t) i;
        return 0;
}

int asid_cgroup_path_normalize(const char *path, char **ret) {
        _cleanup_free_ char *s = NULL;
        const char *p = path;
        size_t n;

        if (!path)
                return -EINVAL;
        while (*p == '/')
                p++;
        n = strlen(p);
        if (n == 0 || n > ASID_CGROUP_PATH_MAX || !utf8_is_valid(p))
                return -EINVAL;
        s = strdup(p);
        if (!s)
                return -ENOMEM;
        while (n > 0 && s[n - 1] == '/')
                s[--n] = '\0';

        for (const char *c = s; *c; c++)
                if ((unsigned char) *c < 0x20 || *c == 0x7f)
                        return -EINVAL;

        for (const char *c = s; *c;) {
                size_t len = strcspn(c, "/");

                if (len == 0)
                        return -EINVAL;                 /* "a//b" */
                if ((len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
                        return -EINVAL;
                c += len;
                if (*c == '/')
                        c++;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

static int parse_limit(json_object *v, const char *cgroup, const char *res, uint64_t *ret, char **ret_error) {
        _cleanup_free_ char *what = NULL;

        if (asprintf(&what, "Quota \"%.64s\" of cgroup \"%.64s\"", res, cgroup) < 0)
                return -ENOMEM;
        if (json_object_is_type(v, json_type_string)) {
                if (!streq(json_object_get_string(v), "max"))
                        return error_message_set(ret_error, EINVAL, "%s must be a number or \"max\", not \"%.64s\".",
                                         what, json_object_get_string(v));
                *ret = ASID_QUOTA_UNLIMITED;
                return 0;
        }
        return get_uint(v, what, ASID_QUOTA_MAX, ret, ret_error);
}

static int parse_quota(const char *key, json_object *v, AsidQuota *q, char **ret_error) {
        int r;

        if (!json_object_is_type(v, json_type_object))
                return error_message_set(ret_error, EINVAL, "Quota for cgroup \"%.64s\" must be a dictionary with \"sev\" and/or \"sev_es\", not %s.",
                                 key, json_type_name(v));
        r = asid_cgroup_path_normalize(key, &q->cgroup);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return error_message_set(ret_error, EINVAL, "Quota cgroup path \"%.64s\" is not a valid non-root cgroup path relative to the cgroup root (no \"..\", \".\", empty parts or control characters).",
                                 key);

        json_object_object_foreach(v, res, limit) {
                if (streq(res, "sev")) {
                        r = parse_limit(limit, key, res, &q->sev, ret_error);
                        q->has_sev = true;
                } else if (streq(res, "sev_es")) {
                        r = parse_limit(limit, key, res, &q->sev_es, ret_error);
                        q->has_sev_es = true;
                } else
                        return error_message_set(ret_error, EINVAL, "Quota for cgroup \"%.64s\" has unknown resource \"%.64s\"; use \"sev\" or \"sev_es\".",
                                         key, res);
                if (r < 0)
                        return r;
        }
        if (!q->has_sev && !q->has_sev_es)
                return error_message_set(ret_error, EINVAL, "Quota for cgroup \"%.64s\" sets neither \"sev\" nor \"sev_es\".", key);
        return 0;
}

static int parse_quotas(json_object *v, AsidPolicy *p, char **ret_error) {
        size_t n;

        if (!json_object_is_type(v, json_type_object))
                return error_message_set(ret_error, EINVAL, "\"quotas\" must be a dictionary of cgroup path to limits, not %s.", json_type_name(v));
        n = (size_t) json_object_object_length(v);
        if (n > ASID_POLICY_MAX_QUOTAS)
                return error_message_set(ret_error, EINVAL, "\"quotas\" names %zu cgroups; at most %u are allowed.", n, ASID_POLICY_MAX_QUOTAS);
        if (n == 0)
                return 0;
        p->quotas = calloc(n, sizeof(AsidQuota));
        if (!p->quotas)
                return -ENOMEM;

        json_object_object_foreach(v, key, q) {
                int r = parse_quota(key, q, &p->quotas[p->n_quotas], ret_error);

                if (p->quotas[p->n_quotas].cgroup)
                        p->n_quotas++;
                if (r < 0)
                        return r;
                for (size_t i = 0; i + 1 < p->n_quotas; i++)
                        if (streq(p->quotas[i].cgroup, p->quotas[p->n_quotas - 1].cgroup))
                                return error_message_set(ret_error, EINVAL, "Quota cgroup \"%.64s\" is given twice.", key);
        }
        return 0;
}

static int parse_cth(json_object *v, AsidPolicy *p, char **ret_error) {
        uint64_t n;
        int r;

        if (json_object_is_type(v, json_type_string)) {
                const char *s = json_object_get_string(v);

                if (streq(s, "off"))
                        p->cth_mode = CTH_OFF;
                else if (streq(s, "all-snp"))
                        p->cth_mode = CTH_ALL_SNP;
                else
                        return error_message_set(ret_error, EINVAL, "\"ciphertext_hiding\" must be \"off\", \"all-snp\" or a number of SNP ASIDs, not \"%.64s\".", s);
                return 0;
        }
        r = get_uint(v, "\"ciphertext_hiding\"", UINT32_MAX, &n, ret_error);
        if (r < 0)
                return r;
        p->cth_mode = n == 0 ? CTH_OFF : CTH_COUNT;
        p->cth_count = (uint32_t) n;
        return 0;
}

int asid_policy_from_json(json_object *o, AsidPolicy *ret, char **ret_error) {
        AsidPolicy p = {};
        int r = 0;

        if (!json_object_is_type(o, json_type_object))
                return error_message_set(ret_error, EINVAL, "The policy must be a dictionary, not %s.", json_type_name(o));

        json_object_object_foreach(o, key, v) {
                if (streq(key, "ciphertext_hiding"))
                        r = parse_cth(v, &p, ret_error);
                else if (streq(key, "allow_sev_es_unusable")) {
                        if (!json_object_is_type(v, json_type_boolean))
                                r = error_message_set(ret_error, EINVAL, "\"allow_sev_es_unusable\" must be a boolean, not %s.", json_type_name(v));
                        else
                                p.allow_sev_es_unusable = json_object_get_boolean(v);
                } else if (streq(key, "quotas"))
                        r = parse_quotas(v, &p, ret_error);
                else
                        r = error_message_set(ret_error, EINVAL, "Unknown policy key \"%.64s\"; known keys are ciphertext_hiding, allow_sev_es_unusable and quotas.", key);
                if (r < 0) {
                        asid_policy_done(&p);
                        return r;
                }
        }
        *ret = p;
        return 0;
}

static json_object *limit_to_json(uint64_t v) {
        return v == ASID_QUOTA_UNLIMITED ? json_object_new_string("max") : json_object_new_int64((int64_t) v);
}

json_object *asid_policy_to_json(const AsidPolicy *p) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        switch (p->cth_mode) {
        case CTH_OFF:
                json_object_object_add(o, "ciphertext_hiding", json_object_new_string("off"));
                break;
        case CTH_ALL_SNP:
                json_object_object_add(o, "ciphertext_hiding", json_object_new_string("all-snp"));
                break;
        case CTH_COUNT:
                json_object_object_add(o, "ciphertext_hiding", json_object_new_int64(p->cth_count));
                break;
        default:
                break;
        }
        json_object_object_add(o, "allow_sev_es_unusable", json_object_new_boolean(p->allow_sev_es_unusable));
        if (p->n_quotas > 0) {
                json_object *q = json_object_new_object();

                for (size_t i = 0; i < p->n_quotas; i++) {
                        json_object *e = json_object_new_object();

                        if (p->quotas[i].has_sev)
                                json_object_object_add(e, "sev", limit_to_json(p->quotas[i].sev));
                        if (p->quotas[i].has_sev_es)
                                json_object_object_add(e, "sev_es", limit_to_json(p->quotas[i].sev_es));
                        json_object_object_add(q, p->quotas[i].cgroup, e);
                }
                json_object_object_add(o, "quotas", q);
        }
        return o;
}

void asid_problems_done(AsidProblems *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->items[i].code);
                free(l->items[i].message);
        }
        l->items = mfree(l->items);
        l->n = 0;
}

int asid_problems_add(AsidProblems *l, AsidSeverity s, const char *code, const char *fmt, ...) {
        AsidProblem *t;
        char *msg = NULL, *c;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        c = strdup(code);
        t = c ? realloc(l->items, sizeof(AsidProblem) * (l->n + 1)) : NULL;
        if (!t) {
                free(msg);
                free(c);
                return -ENOMEM;
        }
        l->items = t;
        l->items[l->n++] = (AsidProblem) { .severity = s, .code = c, .message = msg };
        return 0;
}

const AsidProblem *asid_problems_first_error(const AsidProblems *l) {
        for (size_t i = 0; i < l->n; i++)
                if (l->items[i].severity == ASID_SEVERITY_ERROR)
                        return &l->items[i];
        return NULL;
}

bool asid_problems_has_error(const AsidProblems *l) {
        return asid_problems_first_error(l) != NULL;
}

json_object *asid_problems_to_json(const AsidProblems *l) {
        json_object *a = json_object_new_array();

        if (!a)
                return NULL;
        for (size_t i = 0; i < l->n; i++) {
                json_object *e = json_object_new_object();

                json_object_object_add(e, "severity", json_object_new_string(asid_severity_to_string(l->items[i].severity)));
                json_object_object_add(e, "code", json_object_new_string(l->items[i].code));
                json_object_object_add(e, "message", json_object_new_string(l->items[i].message));
                json_object_array_add(a, e);
        }
        return a;
}

static int check_cth(const AsidPolicy *p, const AsidHost *host, AsidProblems *l) {
        const AsidInputs *in = &host->inputs;
        int r = 0;

        if (host->cth_supported == 0)
                r = asid_problems_add(l, ASID_SEVERITY_ERROR, "cth-unsupported",
                                      "Ciphertext hiding is not supported by this firmware or not enabled in the BIOS (SNP_PLATFORM_STATUS ciphertext_hiding_cap is 0); enable it in the BIOS or use \"off\".");
        else if (host->cth_supported < 0)
                r = asid_problems_add(l, ASID_SEVERITY_WARNING, "cth-support-unknown",
                                      "Whether the firmware and BIOS support ciphertext hiding is unknown (SNP_PLATFORM_STATUS was not readable); the partition assumes they do.");
        if (r < 0)
                return r;

        if (in->min_sev_asid <= 1)
                return asid_problems_add(l, ASID_SEVERITY_ERROR, "no-joint-asids",
                                         "The BIOS minimum SEV ASID is %" PRIu32 ", so there are no SEV-ES/SNP ASIDs for ciphertext hiding to split; raise the BIOS \"SEV-ES ASID space limit\" first.",
                                         in->min_sev_asid);

        if (p->cth_mode == CTH_COUNT && p->cth_count > in->min_sev_asid - 1)
                return asid_problems_add(l, ASID_SEVERITY_WARNING, "cth-capped",
                                         "%" PRIu32 " SNP ASIDs were asked for; kvm_amd caps ciphertext hiding at the minimum SEV ASID minus 1, so %" PRIu32 " will be used.",
                                         p->cth_count, in->min_sev_asid - 1);
        return 0;
}

/* v6.18 kvm_amd splits the joint range whenever SEV is on, so with SNP off the parameter (kept by
 * the policy or set by it) takes ASIDs from SEV-ES for nothing. */
static int check_without_snp(const AsidPartition *after, AsidProblems *l) {
        if (!after->split_without_snp)
                return 0;
        if (after->es_first_wrapped)
                return asid_problems_add(l, ASID_SEVERITY_WARNING, "cth-without-snp",
                                         "Ciphertext hiding takes all ASIDs from SEV-ES although SNP is off: kvm_amd uses ciphertext_hiding_asids=%" PRIu32 " uncapped and its first SEV-ES ASID wraps to 0 (a kernel bug); set ciphertext_hiding to \"off\" or a count below %" PRIu32 ", or enable SNP.",
                                         after->split_asids, after->joint_asids + 1);
        return asid_problems_add(l, ASID_SEVERITY_WARNING, "cth-without-snp",
                                 "Ciphertext hiding takes %" PRIu32 " ASIDs from SEV-ES although SNP is off: kvm_amd splits the joint range whenever SEV is on; set ciphertext_hiding to \"off\" or enable SNP (kvm_amd sev_snp=Y and SNP initialised).",
                                 MIN(after->split_asids, after->joint_asids));
}

static int check_guests(const AsidPolicy *p, const AsidHost *host, const AsidPartition *without,
                        const AsidPartition *after, AsidProblems *l) {
        uint32_t es_cap = asid_range_count(&after->pool[ASID_POOL_SEV_ES]);
        uint32_t snp_cap = asid_range_count(&after->pool[ASID_POOL_SNP]);
        int r;

        if (without->pool[ASID_POOL_SEV_ES].state == ASID_POOL_ENABLED &&
            after->pool[ASID_POOL_SEV_ES].state == ASID_POOL_UNUSABLE) {
                if (p->allow_sev_es_unusable)
                        r = asid_problems_add(l, ASID_SEVERITY_WARNING, "sev-es-unusable",
                                              "SEV-ES will have no ASIDs: ciphertext hiding gives all %" PRIu32 " joint ASIDs to SNP (allowed by allow_sev_es_unusable).",
                                              after->joint_asids);
                else
                        r = asid_problems_add(l, ASID_SEVERITY_ERROR, "sev-es-unusable",
                                              "This policy gives all %" PRIu32 " joint ASIDs to SNP and leaves SEV-ES unusable; set allow_sev_es_unusable to accept that, or give SNP fewer ASIDs.",
                                              after->joint_asids);
                if (r < 0)
                        return r;
        }

        if (host->sev_es_guests > 0 && (uint64_t) host->sev_es_guests > es_cap) {
                r = asid_problems_add(l, ASID_SEVERITY_WARNING, "sev-es-guests-displaced",
                                      "%" PRIi64 " SEV-ES guests are running now; after a kvm_amd reload SEV-ES would have %" PRIu32 " ASIDs, so %" PRIi64 " of them could not start again.",
                                      host->sev_es_guests, es_cap, host->sev_es_guests - (int64_t) es_cap);
                if (r < 0)
                        return r;
        }

        if (host->snp_guests > 0 && (uint64_t) host->snp_guests > snp_cap)
                return asid_problems_add(l, ASID_SEVERITY_ERROR, "snp-asids-below-guests",
                                         "%" PRIi64 " SNP guests are running now, but this policy leaves only %" PRIu32 " SNP ASIDs; give SNP at least %" PRIi64 ".",
                                         host->snp_guests, snp_cap, host->snp_guests);
        return 0;
}

static int check_quotas(const AsidPolicy *p, const AsidHost *host, AsidProblems *l) {
        for (size_t i = 0; i < p->n_quotas; i++) {
                const AsidQuota *q = &p->quotas[i];
                int r = 0;

                if (q->has_sev && q->sev != ASID_QUOTA_UNLIMITED && host->sev_capacity > 0 && q->sev > host->sev_capacity)
                        r = asid_problems_add(l, ASID_SEVERITY_WARNING, "quota-above-capacity",
                                              "Quota sev=%" PRIu64 " for \"%.64s\" is above the SEV capacity %" PRIu64 " and limits nothing.",
                                              q->sev, q->cgroup, host->sev_capacity);
                if (r >= 0 && q->has_sev_es && q->sev_es != ASID_QUOTA_UNLIMITED && host->sev_es_capacity > 0 && q->sev_es > host->sev_es_capacity)
                        r = asid_problems_add(l, ASID_SEVERITY_WARNING, "quota-above-capacity",
                                              "Quota sev_es=%" PRIu64 " for \"%.64s\" is above the SEV-ES/SNP capacity %" PRIu64 " and limits nothing.",
                                              q->sev_es, q->cgroup, host->sev_es_capacity);
                if (r < 0)
                        return r;
        }
        return 0;
}

int asid_policy_plan(const AsidPolicy *p, const AsidHost *host, AsidPlan *ret, AsidProblems *problems) {
        AsidPartition without;
        AsidInputs in = host->inputs;
        AsidPlan plan = {};
        int r;

        in.cth_requested = 0;
        asid_partition_compute(&in, &without);

        plan.manages_cth = p->cth_mode != CTH_UNMANAGED;
        switch (p->cth_mode) {
        case CTH_UNMANAGED:
                in.cth_requested = host->inputs.cth_requested;  /* stays as it is */
                break;
        case CTH_OFF:
                in.cth_requested = 0;
                break;
        case CTH_COUNT:
                in.cth_requested = MIN(p->cth_count, without.cth_cap);
                break;
        case CTH_ALL_SNP:
                in.cth_requested = without.cth_cap;
                break;
        default:
                return -EINVAL;
        }
        plan.cth_asids = in.cth_requested;
        /* Predict as if the firmware can do it when unknown; an error says so when it cannot. */
        in.cth_supported = host->cth_supported != 0;

        if (p->cth_mode == CTH_COUNT || p->cth_mode == CTH_ALL_SNP) {
                r = check_cth(p, host, problems);
                if (r < 0)
                        return r;
        }

        asid_partition_compute(&in, &plan.partition);
        plan.inputs = in;

        r = check_without_snp(&plan.partition, problems);
        if (r < 0)
                return r;

        /* A policy that leaves ciphertext hiding alone changes no range. */
        if (plan.manages_cth) {
                r = check_guests(p, host, &without, &plan.partition, problems);
                if (r < 0)
                        return r;
        }
        r = check_quotas(p, host, problems);
        if (r < 0)
                return r;

        *ret = plan;
        return 0;
}
