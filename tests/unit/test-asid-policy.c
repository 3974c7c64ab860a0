/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Policy parsing (types, ranges, unknown keys) and checking against a host. */

#include "policy.h"
#include "test-asid-util.h"

static int parse(const char *text, AsidPolicy *p, char **err) {
        json_object *o = json_tokener_parse(text);
        int r;

        if (!o) {
                fprintf(stderr, "test JSON does not parse: %s\n", text);
                return -EBADMSG;
        }
        r = asid_policy_from_json(o, p, err);
        json_object_put(o);
        return r;
}

static void expect_invalid(const char *text, const char *needle) {
        _cleanup_free_ char *err = NULL;
        AsidPolicy p = {};
        int r = parse(text, &p, &err);

        CHECK_MSG(r == -EINVAL, "%s: r=%d", text, r);
        CHECK_MSG(err && strstr(err, needle), "%s: error \"%s\" lacks \"%s\"", text, strna(err), needle);
        asid_policy_done(&p);
}

static void test_parse_good(void) {
        _cleanup_free_ char *err = NULL;
        AsidPolicy p = {};
        json_object *back;

        CHECK(parse("{}", &p, &err) == 0 && p.cth_mode == CTH_UNMANAGED && p.n_quotas == 0);
        asid_policy_done(&p);
        CHECK(parse("{\"ciphertext_hiding\": \"off\"}", &p, &err) == 0 && p.cth_mode == CTH_OFF);
        asid_policy_done(&p);
        CHECK(parse("{\"ciphertext_hiding\": 0}", &p, &err) == 0 && p.cth_mode == CTH_OFF);
        asid_policy_done(&p);
        CHECK(parse("{\"ciphertext_hiding\": 50}", &p, &err) == 0 && p.cth_mode == CTH_COUNT && p.cth_count == 50);
        asid_policy_done(&p);
        CHECK(parse("{\"ciphertext_hiding\": 4294967295}", &p, &err) == 0 && p.cth_count == UINT32_MAX);
        asid_policy_done(&p);
        CHECK(parse("{\"ciphertext_hiding\": \"all-snp\", \"allow_sev_es_unusable\": true}", &p, &err) == 0 &&
              p.cth_mode == CTH_ALL_SNP && p.allow_sev_es_unusable);
        asid_policy_done(&p);

        CHECK(parse("{\"quotas\": {\"/machine.slice/vm1.scope/\": {\"sev\": 2, \"sev_es\": \"max\"},"
                    " \"tenant.slice\": {\"sev_es\": 10}}}", &p, &err) == 0);
        CHECK(p.n_quotas == 2);
        if (p.n_quotas == 2) {
                CHECK(streq(p.quotas[0].cgroup, "machine.slice/vm1.scope"));
                CHECK(p.quotas[0].has_sev && p.quotas[0].sev == 2);
                CHECK(p.quotas[0].has_sev_es && p.quotas[0].sev_es == ASID_QUOTA_UNLIMITED);
                CHECK(!p.quotas[1].has_sev && p.quotas[1].sev_es == 10);
        }
        /* Round trip through the state representation. */
        back = asid_policy_to_json(&p);
        asid_policy_done(&p);
        CHECK(back);
        CHECK(asid_policy_from_json(back, &p, &err) == 0 && p.n_quotas == 2);
        json_object_put(back);
        asid_policy_done(&p);
}

static void test_parse_bad(void) {
        expect_invalid("[]", "must be a dictionary");
        expect_invalid("{\"ciphertext_hiding\": -1}", "must not be negative");
        expect_invalid("{\"ciphertext_hiding\": 4294967296}", "too large");
        expect_invalid("{\"ciphertext_hiding\": 18446744073709551615}", "too large");
        expect_invalid("{\"ciphertext_hiding\": \"99\"}", "not \"99\"");
        expect_invalid("{\"ciphertext_hiding\": \"max\"}", "not \"max\"");
        expect_invalid("{\"ciphertext_hiding\": 1.5}", "unsigned integer");
        expect_invalid("{\"ciphertext_hiding\": true}", "unsigned integer");
        expect_invalid("{\"ciphertext_hiding\": null}", "unsigned integer");
        expect_invalid("{\"allow_sev_es_unusable\": 1}", "must be a boolean");
        expect_invalid("{\"allow_sev_es_unusuable\": true}", "Unknown policy key \"allow_sev_es_unusuable\"");
        expect_invalid("{\"quotas\": []}", "must be a dictionary");
        expect_invalid("{\"quotas\": {\"a\": 3}}", "must be a dictionary");
        expect_invalid("{\"quotas\": {\"a\": {}}}", "neither");
        expect_invalid("{\"quotas\": {\"a\": {\"snp\": 1}}}", "unknown resource \"snp\"");
        expect_invalid("{\"quotas\": {\"a\": {\"sev\": -3}}}", "must not be negative");
        expect_invalid("{\"quotas\": {\"a\": {\"sev\": 4294967296}}}", "too large");
        expect_invalid("{\"quotas\": {\"a\": {\"sev\": \"lots\"}}}", "a number or \"max\"");
        expect_invalid("{\"quotas\": {\"../etc\": {\"sev\": 1}}}", "not a valid");
        expect_invalid("{\"quotas\": {\"a/../../b\": {\"sev\": 1}}}", "not a valid");
        expect_invalid("{\"quotas\": {\"/\": {\"sev\": 1}}}", "not a valid");
        expect_invalid("{\"quotas\": {\"\": {\"sev\": 1}}}", "not a valid");
        expect_invalid("{\"quotas\": {\"a//b\": {\"sev\": 1}}}", "not a valid");
        expect_invalid("{\"quotas\": {\"a\\nb\": {\"sev\": 1}}}", "not a valid");
        expect_invalid("{\"quotas\": {\"a\": {\"sev\": 1}, \"/a/\": {\"sev\": 2}}}", "given twice");
}

static const AsidProblem *find(const AsidProblems *l, const char *code) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->items[i].code, code))
                        return &l->items[i];
        return NULL;
}

static AsidHost genoa(void) {
        return (AsidHost) {
                .inputs = {
                        .max_sev_asid = 1006, .min_sev_asid = 100, .cpu_sev = true, .cpu_sev_es = true,
                        .cpu_snp = true, .sev_enabled = true, .sev_es_enabled = true, .snp_enabled = true,
                        .cth_supported = true, .cth_requested = 0,
                },
                .cth_supported = 1,
                .snp_guests = 0,
                .sev_es_guests = 0,
                .sev_capacity = 907,
                .sev_es_capacity = 99,
        };
}

static void plan(const char *text, const AsidHost *host, AsidPlan *ret, AsidProblems *l) {
        _cleanup_free_ char *err = NULL;
        AsidPolicy p = {};

        CHECK_MSG(parse(text, &p, &err) == 0, "%s: %s", text, strna(err));
        CHECK(asid_policy_plan(&p, host, ret, l) == 0);
        asid_policy_done(&p);
}

static void test_plan(void) {
        AsidHost h = genoa();
        AsidProblems l = {};
        AsidPlan pl;

        /* all-snp without permission: refused. */
        plan("{\"ciphertext_hiding\": \"all-snp\"}", &h, &pl, &l);
        CHECK(pl.cth_asids == 99);
        CHECK(find(&l, "sev-es-unusable") && find(&l, "sev-es-unusable")->severity == ASID_SEVERITY_ERROR);
        asid_problems_done(&l);

        /* all-snp with permission: the kernel example, a warning. */
        plan("{\"ciphertext_hiding\": \"all-snp\", \"allow_sev_es_unusable\": true}", &h, &pl, &l);
        CHECK(!asid_problems_has_error(&l));
        CHECK(find(&l, "sev-es-unusable") && find(&l, "sev-es-unusable")->severity == ASID_SEVERITY_WARNING);
        CHECK(pl.partition.pool[ASID_POOL_SNP].last == 99);
        CHECK(pl.partition.pool[ASID_POOL_SEV_ES].state == ASID_POOL_UNUSABLE);
        CHECK(pl.partition.pool[ASID_POOL_SEV].first == 100 && pl.partition.pool[ASID_POOL_SEV].last == 1006);
        asid_problems_done(&l);

        /* A count above the cap: warned, capped; leaves SEV-ES empty so also needs permission. */
        plan("{\"ciphertext_hiding\": 500}", &h, &pl, &l);
        CHECK(pl.cth_asids == 99);
        CHECK(find(&l, "cth-capped") && find(&l, "cth-capped")->severity == ASID_SEVERITY_WARNING);
        CHECK(find(&l, "sev-es-unusable") && asid_problems_has_error(&l));
        asid_problems_done(&l);

        /* A plain count: no problems. */
        plan("{\"ciphertext_hiding\": 64}", &h, &pl, &l);
        CHECK(l.n == 0 && pl.cth_asids == 64);
        CHECK(pl.partition.pool[ASID_POOL_SEV_ES].first == 65 && pl.partition.pool[ASID_POOL_SEV_ES].last == 99);
        asid_problems_done(&l);

        /* SEV-ES guests running that would not fit. */
        h.sev_es_guests = 40;
        plan("{\"ciphertext_hiding\": 64}", &h, &pl, &l);
        CHECK(find(&l, "sev-es-guests-displaced") && strstr(find(&l, "sev-es-guests-displaced")->message, "40 SEV-ES guests"));
        CHECK(!asid_problems_has_error(&l));
        asid_problems_done(&l);
        h.sev_es_guests = 0;

        /* Fewer SNP ASIDs than SNP guests now: an error. */
        h.snp_guests = 10;
        plan("{\"ciphertext_hiding\": 8}", &h, &pl, &l);
        CHECK(find(&l, "snp-asids-below-guests") && asid_problems_has_error(&l));
        CHECK(strstr(asid_problems_first_error(&l)->message, "10 SNP guests"));
        asid_problems_done(&l);
        h.snp_guests = 0;

        /* Not supported by firmware/BIOS: an error; unknown: a warning. */
        h.cth_supported = 0;
        plan("{\"ciphertext_hiding\": 8}", &h, &pl, &l);
        CHECK(find(&l, "cth-unsupported") && asid_problems_has_error(&l));
        asid_problems_done(&l);
        plan("{\"ciphertext_hiding\": \"off\"}", &h, &pl, &l);
        CHECK(l.n == 0 && pl.cth_asids == 0 && pl.manages_cth);
        asid_problems_done(&l);
        h.cth_supported = -1;
        plan("{\"ciphertext_hiding\": 8}", &h, &pl, &l);
        CHECK(find(&l, "cth-support-unknown") && !asid_problems_has_error(&l));
        CHECK(pl.partition.pool[ASID_POOL_SNP].last == 8);
        asid_problems_done(&l);
        h.cth_supported = 1;

        /* min SEV ASID 1: nothing to split. */
        h.inputs.min_sev_asid = 1;
        plan("{\"ciphertext_hiding\": 8}", &h, &pl, &l);
        CHECK(find(&l, "no-joint-asids") && asid_problems_has_error(&l));
        asid_problems_done(&l);
        h.inputs.min_sev_asid = 100;

        /* Quotas above capacity. */
        plan("{\"quotas\": {\"a\": {\"sev\": 5000, \"sev_es\": 100}}}", &h, &pl, &l);
        CHECK(l.n == 2 && find(&l, "quota-above-capacity"));
        CHECK(!pl.manages_cth);
        asid_problems_done(&l);

        /* Quotas only, on a host already running all-SNP: no complaint about SEV-ES. */
        h.inputs.cth_requested = 99;
        plan("{\"quotas\": {\"a\": {\"sev\": 1}}}", &h, &pl, &l);
        CHECK(l.n == 0 && pl.partition.pool[ASID_POOL_SEV_ES].state == ASID_POOL_UNUSABLE);
        asid_problems_done(&l);
        h.inputs.cth_requested = 0;

        /* JSON of problems. */
        h.cth_supported = 0;
        plan("{\"ciphertext_hiding\": 8}", &h, &pl, &l);
        json_object *j = asid_problems_to_json(&l);
        CHECK(j && json_object_array_length(j) >= 1);
        CHECK(strstr(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN), "\"severity\":\"error\""));
        json_object_put(j);
        asid_problems_done(&l);
}

/* SNP off in kvm_amd: v6.18 still splits the joint range, so the staged partition shrinks SEV-ES
 * and a warning names how many ASIDs it loses. */
static void test_plan_without_snp(void) {
        AsidHost h = genoa();
        AsidProblems l = {};
        AsidPlan pl;
        const AsidProblem *w;

        h.inputs.snp_enabled = false;
        h.cth_supported = -1;

        plan("{\"ciphertext_hiding\": 50}", &h, &pl, &l);
        w = find(&l, "cth-without-snp");
        CHECK(w && w->severity == ASID_SEVERITY_WARNING);
        CHECK(w && strstr(w->message, "Ciphertext hiding takes 50 ASIDs from SEV-ES although SNP is off"));
        CHECK(!asid_problems_has_error(&l) && pl.cth_asids == 50);
        CHECK(pl.partition.pool[ASID_POOL_SEV_ES].state == ASID_POOL_ENABLED &&
              pl.partition.pool[ASID_POOL_SEV_ES].first == 51 && pl.partition.pool[ASID_POOL_SEV_ES].last == 99);
        CHECK(pl.partition.pool[ASID_POOL_SNP].state == ASID_POOL_DISABLED);
        asid_problems_done(&l);

        /* "off": nothing is taken, nothing to warn about. */
        plan("{\"ciphertext_hiding\": \"off\"}", &h, &pl, &l);
        CHECK(!find(&l, "cth-without-snp"));
        CHECK(pl.partition.pool[ASID_POOL_SEV_ES].first == 1 && pl.partition.pool[ASID_POOL_SEV_ES].last == 99);
        asid_problems_done(&l);

        /* A policy that keeps the running parameter (no "ciphertext_hiding") keeps the split. */
        h.inputs.cth_requested = 50;
        plan("{\"quotas\": {\"a\": {\"sev\": 1}}}", &h, &pl, &l);
        w = find(&l, "cth-without-snp");
        CHECK(w && strstr(w->message, "takes 50 ASIDs from SEV-ES"));
        CHECK(pl.partition.pool[ASID_POOL_SEV_ES].first == 51);
        asid_problems_done(&l);

        /* Kept raw 4294967295: the wrap is named, SEV-ES counted unusable. */
        h.inputs.cth_requested = UINT32_MAX;
        plan("{\"quotas\": {\"a\": {\"sev\": 1}}}", &h, &pl, &l);
        w = find(&l, "cth-without-snp");
        CHECK(w && strstr(w->message, "wraps to 0"));
        CHECK(pl.partition.pool[ASID_POOL_SEV_ES].state == ASID_POOL_UNUSABLE);
        CHECK(!asid_problems_has_error(&l));
        asid_problems_done(&l);
}

int main(void) {
        test_parse_good();
        test_parse_bad();
        test_plan();
        test_plan_without_snp();
        return test_result();
}
