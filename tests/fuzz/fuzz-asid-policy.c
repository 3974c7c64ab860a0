/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness: arbitrary bytes as a JSON policy -> parse -> plan on a Genoa-like host ->
 * back to JSON, which must parse again to the same thing. */

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_tokener *tok;
        json_object *o, *back;
        AsidPolicy p = {}, p2 = {};
        char *err = NULL;

        if (size > 64 * 1024)
                return 0;
        tok = json_tokener_new();
        if (!tok)
                return 0;
        o = json_tokener_parse_ex(tok, (const char *) data, (int) size);
        json_tokener_free(tok);
        if (!o)
                return 0;

        if (asid_policy_from_json(o, &p, &err) >= 0) {
                AsidHost host = {
                        .inputs = {
                                .max_sev_asid = 1006, .min_sev_asid = 100, .cpu_sev = true,
                                .cpu_sev_es = true, .cpu_snp = true, .sev_enabled = true,
                                .sev_es_enabled = true, .snp_enabled = true, .cth_supported = true,
                        },
                        .cth_supported = 1, .snp_guests = 3, .sev_es_guests = 2,
                        .sev_capacity = 907, .sev_es_capacity = 99,
                };
                AsidProblems problems = {};
                AsidPlan plan;

                if (asid_policy_plan(&p, &host, &plan, &problems) >= 0 &&
                    asid_range_count(&plan.partition.pool[ASID_POOL_SNP]) > 99)
                        abort();
                asid_problems_done(&problems);

                back = asid_policy_to_json(&p);
                if (!back || asid_policy_from_json(back, &p2, NULL) < 0 ||
                    p2.cth_mode != p.cth_mode || p2.n_quotas != p.n_quotas)
                        abort();
                json_object_put(back);
                asid_policy_done(&p2);
        } else if (!err)
                abort();        /* every refusal says why */
        asid_policy_done(&p);
        free(err);
        json_object_put(o);
        return 0;
}
