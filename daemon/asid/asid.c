/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>

#include "asid.h"
#include "fileio.h"

static const char * const pool_names[_ASID_POOL_MAX] = {
        [ASID_POOL_SEV] = "sev",
        [ASID_POOL_SEV_ES] = "sev-es",
        [ASID_POOL_SNP] = "snp",
};

static const char * const pool_labels[_ASID_POOL_MAX] = {
        [ASID_POOL_SEV] = "SEV",
        [ASID_POOL_SEV_ES] = "SEV-ES",
        [ASID_POOL_SNP] = "SEV-SNP",
};

static const char * const state_names[_ASID_POOL_STATE_MAX] = {
        [ASID_POOL_DISABLED] = "disabled",
        [ASID_POOL_ENABLED] = "enabled",
        [ASID_POOL_UNUSABLE] = "unusable",
};

const char *asid_pool_to_string(AsidPoolId id) {
        return id >= 0 && id < _ASID_POOL_MAX ? pool_names[id] : NULL;
}

const char *asid_pool_to_label(AsidPoolId id) {
        return id >= 0 && id < _ASID_POOL_MAX ? pool_labels[id] : NULL;
}

const char *asid_pool_state_to_string(AsidPoolState s) {
        return s >= 0 && s < _ASID_POOL_STATE_MAX ? state_names[s] : NULL;
}

uint32_t asid_range_count(const AsidRange *r) {
        if (r->state != ASID_POOL_ENABLED || r->first > r->last)
                return 0;
        return r->last - r->first + 1;
}

static void range_set(AsidRange *r, bool supported, uint32_t first, uint32_t last) {
        r->first = first;
        r->last = last;
        if (!supported)
                r->state = ASID_POOL_DISABLED;
        else
                r->state = first <= last ? ASID_POOL_ENABLED : ASID_POOL_UNUSABLE;
}

/* kstrtouint(s, 0, …) as lib/kstrtox.c does it. */
int asid_parse_cth_param(const char *s, uint32_t *ret) {
        unsigned base = 10;
        uint64_t v = 0;
        size_t digits = 0;

        if (!s)
                return -EINVAL;
        if (*s == '+')
                s++;
        if (s[0] == '0') {
                base = 8;
                if ((s[1] == 'x' || s[1] == 'X') && isxdigit((unsigned char) s[2])) {
                        base = 16;
                        s += 2;
                }
        }
        for (;; s++, digits++) {
                unsigned d;

                if (*s >= '0' && *s <= '9')
                        d = *s - '0';
                else if (*s >= 'a' && *s <= 'f')
                        d = *s - 'a' + 10;
                else if (*s >= 'A' && *s <= 'F')
                        d = *s - 'A' + 10;
                else
                        break;
                if (d >= base)
                        break;
                if (v > (UINT64_MAX - d) / base)
                        return -ERANGE;
                v = v * base + d;
        }
        if (digits == 0)
                return -EINVAL;
        if (*s == '\n')
                s++;
        if (*s)
                return -EINVAL;
        if (v > UINT32_MAX)
                return -ERANGE;
        *ret = (uint32_t) v;
        return 0;
}

/* The count kvm_amd splits the joint range with (its nr_ciphertext_hiding_asids after
 * sev_platform_init()): with SNP supported, init_args.max_snp_asid, i.e. the request capped at
 * min_sev_asid - 1 when the firmware and BIOS support ciphertext hiding and 0 when they do not;
 * with SNP not supported the parameter keeps the raw, uncapped request. */
static uint32_t split_count(const AsidInputs *in, bool snp, uint32_t cap) {
        if (!snp)
                return in->cth_requested;
        return in->cth_supported ? MIN(in->cth_requested, cap) : 0;
}

/* Mirrors sev_hardware_setup() (v6.18): SEV needs max_sev_asid != 0; SEV-ES needs SEV, the
 * sev_es parameter, the CPU bit and min_sev_asid != 1; SNP needs SEV-ES and the sev_snp
 * parameter. The split "if (nr_ciphertext_hiding_asids) { max_snp_asid = nr; min_sev_es_asid =
 * max_snp_asid + 1; }" runs whenever SEV is on, SNP or not: SNP is 1..N and SEV-ES N+1..min-1.
 * With SNP, N is capped at min_sev_asid - 1; without, it is the raw parameter, so a value at or
 * above the minimum SEV ASID leaves SEV-ES unusable and UINT32_MAX wraps min_sev_es_asid to 0
 * (a kernel bug: hwsecd counts SEV-ES as unusable then instead of showing 0 - min-1). As in the
 * kernel, the SNP range is set as soon as SEV-ES is supported, so "SEV-SNP disabled (ASIDs 1 -
 * 99)" is possible; other unsupported ranges stay 0 - 0. */
void asid_partition_compute(const AsidInputs *in, AsidPartition *ret) {
        bool sev, es, snp;
        uint32_t es_first = 0, es_last = 0, snp_last = 0;

        *ret = (AsidPartition) {};

        sev = in->sev_enabled && in->cpu_sev && in->max_sev_asid > 0;
        range_set(&ret->pool[ASID_POOL_SEV], sev, sev ? in->min_sev_asid : 0, sev ? in->max_sev_asid : 0);
        if (sev && in->min_sev_asid == 0)
                /* ASID 0 is never handed out; treat as "unusable" instead of trusting the range. */
                ret->pool[ASID_POOL_SEV].state = ASID_POOL_UNUSABLE;

        ret->joint_asids = in->min_sev_asid > 0 ? in->min_sev_asid - 1 : 0;
        ret->cth_cap = ret->joint_asids;

        es = sev && in->sev_es_enabled && in->cpu_sev_es && in->min_sev_asid > 1;
        snp = es && in->snp_enabled && in->cpu_snp;
        if (!es) {
                range_set(&ret->pool[ASID_POOL_SEV_ES], false, 0, 0);
                range_set(&ret->pool[ASID_POOL_SNP], false, 0, 0);
                return;
        }
        es_first = 1;
        es_last = snp_last = in->min_sev_asid - 1;

        if (snp && in->cth_supported && in->cth_requested > 0) {
                ret->cth_asids = MIN(in->cth_requested, ret->cth_cap);
                ret->cth_capped = in->cth_requested > ret->cth_cap;
        }
        ret->split_asids = split_count(in, snp, ret->cth_cap);
        if (ret->split_asids > 0) {
                ret->split_without_snp = !snp;
                snp_last = ret->split_asids;
                es_first = ret->split_asids + 1;        /* wraps to 0, as in the kernel */
                ret->es_first_wrapped = es_first == 0;
        }

        range_set(&ret->pool[ASID_POOL_SEV_ES], true, es_first, es_last);
        if (ret->es_first_wrapped)
                ret->pool[ASID_POOL_SEV_ES] = (AsidRange) { .state = ASID_POOL_UNUSABLE };
        range_set(&ret->pool[ASID_POOL_SNP], snp, 1, snp_last);
}

int misc_parse_counts(const char *text, uint64_t *ret_sev, uint64_t *ret_sev_es) {
        uint64_t sev = 0, sev_es = 0;
        const char *p = text;

        while (*p) {
                const char *eol = strchrnul(p, '\n');
                _cleanup_free_ char *line = strndup(p, eol - p);
                char *space;
                uint64_t v;
                int r;

                if (!line)
                        return -ENOMEM;
                p = *eol ? eol + 1 : eol;
                strstrip_trailing(line);
                if (isempty(line))
                        continue;
                space = strchr(line, ' ');
                if (!space || space == line)
                        return -EBADMSG;
                *space = '\0';
                if (streq(space + 1, "max"))
                        v = UINT64_MAX;
                else {
                        r = safe_atou64(space + 1, 10, &v);
                        if (r < 0)
                                return -EBADMSG;
                }
                if (streq(line, "sev"))
                        sev = v;
                else if (streq(line, "sev_es"))
                        sev_es = v;
                /* other resources (tdx, …) are not ours */
        }

        if (ret_sev)
                *ret_sev = sev;
        if (ret_sev_es)
                *ret_sev_es = sev_es;
        return 0;
}

void asid_usage_done(AsidUsage *u) {
        for (size_t i = 0; i < _ASID_POOL_MAX; i++)
                u->pool[i].note = mfree(u->pool[i].note);
}

static int64_t free_of(uint32_t capacity, int64_t used) {
        if (used < 0)
                return -1;
        return used >= (int64_t) capacity ? 0 : (int64_t) capacity - used;
}

static int usage_set(AsidPoolUsage *u, uint32_t capacity, int64_t used, int64_t free_count,
                     const char *fmt, ...) _printf_(5, 6);

static int usage_set(AsidPoolUsage *u, uint32_t capacity, int64_t used, int64_t free_count,
                     const char *fmt, ...) {
        va_list ap;
        int r;

        u->capacity = capacity;
        u->used = used;
        u->free = free_count;
        free(u->note);
        va_start(ap, fmt);
        r = vasprintf(&u->note, fmt, ap);
        va_end(ap);
        if (r < 0) {
                u->note = NULL;
                return -ENOMEM;
        }
        return 0;
}

int asid_usage_compute(const AsidPartition *p, const MiscCounts *misc, int64_t snp_guests, const char *snp_source,
                       AsidUsage *ret) {
        uint32_t sev_cap = asid_range_count(&p->pool[ASID_POOL_SEV]);
        uint32_t es_cap = asid_range_count(&p->pool[ASID_POOL_SEV_ES]);
        uint32_t snp_cap = asid_range_count(&p->pool[ASID_POOL_SNP]);
        bool have = misc && misc->valid && misc->current_valid;
        int64_t joint = have ? (int64_t) MIN(misc->sev_es_current, (uint64_t) INT64_MAX) : -1;
        int64_t sev_used = have ? (int64_t) MIN(misc->sev_current, (uint64_t) INT64_MAX) : -1;
        AsidUsage u = {};
        int r;

        r = usage_set(&u.pool[ASID_POOL_SEV], sev_cap, sev_used, free_of(sev_cap, sev_used),
                      have ? "used from misc.current \"sev\" at the cgroup root"
                           : "used unknown: misc.current at the cgroup root is not readable");
        if (r < 0)
                goto fail;

        if (p->split_asids == 0) {
                /* One joint range: SEV-ES and SNP guests both draw from it. */
                uint32_t cap = MAX(es_cap, snp_cap);
                int64_t f = free_of(cap, joint);
                int64_t es_used = -1, snp_used = -1;
                const char *how;

                if (joint >= 0 && snp_guests >= 0) {
                        snp_used = MIN(snp_guests, joint);
                        es_used = joint - snp_used;
                        how = "misc.current \"sev_es\" counts SEV-ES and SNP guests together; split with the SNP guest count; "
                              "without ciphertext hiding both share one range, so free is the joint free count";
                } else if (joint >= 0)
                        how = "misc.current \"sev_es\" counts SEV-ES and SNP guests together and the SNP guest count is unknown, so only the joint use is known";
                else
                        how = "used unknown: misc.current at the cgroup root is not readable";

                r = usage_set(&u.pool[ASID_POOL_SEV_ES], es_cap, es_used, es_cap > 0 ? f : 0,
                              "%s (joint used %" PRIi64 ", SNP guests from %s)", how, joint, strna(snp_source));
                if (r < 0)
                        goto fail;
                r = usage_set(&u.pool[ASID_POOL_SNP], snp_cap, snp_used, snp_cap > 0 ? f : 0,
                              "%s (joint used %" PRIi64 ", SNP guests from %s)", how, joint, strna(snp_source));
                if (r < 0)
                        goto fail;
        } else {
                int64_t es_used = -1, snp_used = -1;
                const char *how;

                if (joint >= 0 && snp_guests >= 0) {
                        snp_used = MIN(snp_guests, joint);
                        es_used = joint - snp_used;
                        how = "misc.current \"sev_es\" counts SEV-ES and SNP guests together; split with the SNP guest count";
                } else if (joint >= 0 && es_cap == 0) {
                        snp_used = joint;
                        es_used = 0;
                        how = "misc.current \"sev_es\" counts SEV-ES and SNP guests together; SEV-ES has no ASIDs, so every one is an SNP guest";
                } else if (joint >= 0)
                        how = "misc.current \"sev_es\" counts SEV-ES and SNP guests together and the SNP guest count is unknown, so the split is unknown";
                else
                        how = "used unknown: misc.current at the cgroup root is not readable";

                r = usage_set(&u.pool[ASID_POOL_SEV_ES], es_cap, es_used, free_of(es_cap, es_used),
                              "%s (joint used %" PRIi64 ", SNP guests from %s)", how, joint, strna(snp_source));
                if (r < 0)
                        goto fail;
                r = usage_set(&u.pool[ASID_POOL_SNP], snp_cap, snp_used, free_of(snp_cap, snp_used),
                              "%s (joint used %" PRIi64 ", SNP guests from %s)", how, joint, strna(snp_source));
                if (r < 0)
                        goto fail;
        }

        *ret = u;
        return 0;
fail:
        asid_usage_done(&u);
        return r;
}

int asid_kernel_log_lines(const AsidInputs *in, const AsidPartition *p, char ***ret) {
        const bool cpu[_ASID_POOL_MAX] = { in->cpu_sev, in->cpu_sev_es, in->cpu_snp };
        _cleanup_strv_free_ char **l = NULL;
        int r;

        if (p->split_asids > 0) {
                /* Printed whenever the split runs, SNP or not. */
                r = strv_extend(&l, "SEV-SNP ciphertext hiding enabled");
                if (r < 0)
                        return r;
        }
        for (AsidPoolId i = 0; i < _ASID_POOL_MAX; i++) {
                _cleanup_free_ char *s = NULL;

                if (!cpu[i])
                        continue;
                if (i == ASID_POOL_SEV_ES && p->es_first_wrapped)
                        /* What the kernel prints for the wrapped start, not what hwsecd shows. */
                        r = asprintf(&s, "SEV-ES enabled (ASIDs 0 - %" PRIu32 ")", in->min_sev_asid - 1);
                else
                        r = asprintf(&s, "%s %s (ASIDs %" PRIu32 " - %" PRIu32 ")", asid_pool_to_label(i),
                                     asid_pool_state_to_string(p->pool[i].state), p->pool[i].first, p->pool[i].last);
                if (r < 0)
                        return -ENOMEM;
                r = strv_extend(&l, s);
                if (r < 0)
                        return r;
        }
        if (!l) {
                l = calloc(1, sizeof(char *));
                if (!l)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int explain_sev(const AsidInputs *in, const AsidPartition *p, char **ret) {
        const AsidRange *r = &p->pool[ASID_POOL_SEV];

        if (r->state == ASID_POOL_DISABLED) {
                if (!in->cpu_sev)
                        return asprintf(ret, "SEV is disabled because the CPU does not report SEV (CPUID 0x8000001F EAX bit 1).");
                if (in->max_sev_asid == 0)
                        return asprintf(ret, "SEV is disabled because CPUID reports no encrypted-guest ASIDs (max ASID 0); memory encryption is off in the BIOS.");
                return asprintf(ret, "SEV is disabled because the kvm_amd parameter sev is off (or kvm_amd is not loaded).");
        }
        if (in->min_sev_asid == 0)
                return asprintf(ret, "SEV is unusable because CPUID reports minimum SEV ASID 0, which no valid BIOS setting gives.");
        if (r->state == ASID_POOL_UNUSABLE)
                return asprintf(ret, "SEV has no ASIDs because the BIOS minimum SEV ASID (%" PRIu32 ") is above the maximum ASID (%" PRIu32 "): every ASID went to SEV-ES/SNP.",
                                in->min_sev_asid, in->max_sev_asid);
        return asprintf(ret, "SEV has ASIDs %" PRIu32 "-%" PRIu32 " (%" PRIu32 "): from the BIOS minimum SEV ASID %" PRIu32 " up to the maximum ASID %" PRIu32 ".",
                        r->first, r->last, asid_range_count(r), in->min_sev_asid, in->max_sev_asid);
}

static int explain_es_disabled(const AsidInputs *in, const AsidPartition *p, const char *label, char **ret) {
        if (p->pool[ASID_POOL_SEV].state == ASID_POOL_DISABLED)
                return asprintf(ret, "%s is disabled because SEV is disabled.", label);
        if (!in->cpu_sev_es)
                return asprintf(ret, "%s is disabled because the CPU does not report SEV-ES.", label);
        if (!in->sev_es_enabled)
                return asprintf(ret, "%s is disabled because the kvm_amd parameter sev_es is off.", label);
        if (in->min_sev_asid <= 1)
                return asprintf(ret, "%s has no ASIDs because the BIOS minimum SEV ASID is %" PRIu32 ": SEV-ES and SNP use ASIDs 1 to minimum-1, which is empty. Raise the BIOS \"SEV-ES ASID space limit\" (minimum SEV non-ES ASID).",
                                label, in->min_sev_asid);
        return asprintf(ret, "%s is disabled.", label);
}

static int explain_es(const AsidInputs *in, const AsidPartition *p, char **ret) {
        const AsidRange *r = &p->pool[ASID_POOL_SEV_ES];

        if (r->state == ASID_POOL_DISABLED)
                return explain_es_disabled(in, p, "SEV-ES", ret);
        if (p->split_asids == 0)
                return asprintf(ret, "SEV-ES has ASIDs %" PRIu32 "-%" PRIu32 " (%" PRIu32 "), shared with SNP: the joint range is 1 to the BIOS minimum SEV ASID %" PRIu32 " minus 1, and ciphertext hiding is off.",
                                r->first, r->last, asid_range_count(r), in->min_sev_asid);
        if (p->es_first_wrapped)
                return asprintf(ret, "SEV-ES is counted as unusable: kvm_amd runs with %s=%" PRIu32 " and SNP off, so the kernel uses the raw value and its first SEV-ES ASID wraps to 0 (\"SEV-ES enabled (ASIDs 0 - %" PRIu32 ")\"), a kernel bug to report. Set the parameter to 0 or enable SNP.",
                                "ciphertext_hiding_asids", p->split_asids, in->min_sev_asid - 1);
        if (p->split_without_snp && r->state == ASID_POOL_UNUSABLE)
                return asprintf(ret, "SEV-ES has no ASIDs: kvm_amd's ciphertext_hiding_asids=%" PRIu32 " is not below the minimum SEV ASID %" PRIu32 ", and with SNP off kvm_amd uses it uncapped and still splits the joint range.",
                                p->split_asids, in->min_sev_asid);
        if (p->split_without_snp)
                return asprintf(ret, "SEV-ES has ASIDs %" PRIu32 "-%" PRIu32 " (%" PRIu32 "): ciphertext hiding takes the first %" PRIu32 " of the %" PRIu32 " joint ASIDs from SEV-ES although SNP is off (kvm_amd splits the range whenever SEV is on).",
                                r->first, r->last, asid_range_count(r), p->split_asids, p->joint_asids);
        if (r->state == ASID_POOL_UNUSABLE)
                return asprintf(ret, "SEV-ES has no ASIDs because ciphertext hiding gives all %" PRIu32 " joint ASIDs to SNP.",
                                p->joint_asids);
        return asprintf(ret, "SEV-ES has ASIDs %" PRIu32 "-%" PRIu32 " (%" PRIu32 "): ciphertext hiding gives SNP the first %" PRIu32 " of the %" PRIu32 " joint ASIDs and SEV-ES keeps the rest.",
                        r->first, r->last, asid_range_count(r), p->cth_asids, p->joint_asids);
}

static int explain_snp(const AsidInputs *in, const AsidPartition *p, char **ret) {
        const AsidRange *r = &p->pool[ASID_POOL_SNP];

        if (r->state == ASID_POOL_DISABLED) {
                if (p->pool[ASID_POOL_SEV_ES].state == ASID_POOL_DISABLED)
                        return explain_es_disabled(in, p, "SEV-SNP", ret);
                if (!in->cpu_snp)
                        return asprintf(ret, "SEV-SNP is disabled because the CPU does not report SNP.");
                return asprintf(ret, "SEV-SNP is disabled because the kvm_amd parameter sev_snp is off (SNP not enabled or the SNP platform not initialised).");
        }
        if (p->cth_asids == 0) {
                if (in->cth_requested > 0 && !in->cth_supported)
                        return asprintf(ret, "SEV-SNP has ASIDs %" PRIu32 "-%" PRIu32 " (%" PRIu32 "), shared with SEV-ES: %" PRIu32 " ciphertext-hiding ASIDs were asked for, but the firmware or BIOS does not support ciphertext hiding.",
                                        r->first, r->last, asid_range_count(r), in->cth_requested);
                return asprintf(ret, "SEV-SNP has ASIDs %" PRIu32 "-%" PRIu32 " (%" PRIu32 "), shared with SEV-ES, because ciphertext hiding is off.",
                                r->first, r->last, asid_range_count(r));
        }
        if (p->cth_capped)
                return asprintf(ret, "SEV-SNP has ASIDs 1-%" PRIu32 " (%" PRIu32 "): ciphertext hiding asked for %" PRIu32 ", which kvm_amd caps at the minimum SEV ASID minus 1 (%" PRIu32 ").",
                                r->last, asid_range_count(r), in->cth_requested, p->cth_cap);
        return asprintf(ret, "SEV-SNP has ASIDs 1-%" PRIu32 " (%" PRIu32 ") of its own because ciphertext hiding reserves %" PRIu32 " ASIDs for SNP.",
                        r->last, asid_range_count(r), p->cth_asids);
}

int asid_explain(const AsidInputs *in, const AsidPartition *p, char ***ret) {
        int (*const fn[])(const AsidInputs *, const AsidPartition *, char **) = {
                explain_sev, explain_es, explain_snp,
        };
        _cleanup_strv_free_ char **l = NULL;

        for (size_t i = 0; i < ELEMENTSOF(fn); i++) {
                _cleanup_free_ char *s = NULL;
                int r;

                if (fn[i](in, p, &s) < 0)
                        return -ENOMEM;
                r = strv_extend(&l, s);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

json_object *asid_partition_to_json(const AsidPartition *p, const AsidUsage *usage) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        for (AsidPoolId i = 0; i < _ASID_POOL_MAX; i++) {
                json_object *e = json_object_new_object();

                if (!e) {
                        json_object_put(o);
                        return NULL;
                }
                json_object_object_add(e, "state", json_object_new_string(asid_pool_state_to_string(p->pool[i].state)));
                json_object_object_add(e, "first", json_object_new_int64(p->pool[i].first));
                json_object_object_add(e, "last", json_object_new_int64(p->pool[i].last));
                json_object_object_add(e, "capacity", json_object_new_int64(asid_range_count(&p->pool[i])));
                if (usage) {
                        json_object_object_add(e, "used", json_object_new_int64(usage->pool[i].used));
                        json_object_object_add(e, "free", json_object_new_int64(usage->pool[i].free));
                        json_object_object_add(e, "note", json_object_new_string(strna(usage->pool[i].note)));
                }
                json_object_object_add(o, asid_pool_to_string(i), e);
        }
        return o;
}
