/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ASID split over a table of cases, against what kvm_amd's sev_hardware_setup() logs. */

#include "asid.h"
#include "fileio.h"
#include "test-asid-util.h"

typedef struct Expect {
        AsidPoolState state;
        uint32_t first, last, count;
} Expect;

typedef struct Case {
        const char *name;
        AsidInputs in;
        Expect sev, es, snp;
        uint32_t cth_asids;
        bool capped;
} Case;

/* The usual host, with some switches off. */
#define INPUTS(max, min, cth, ...) { .max_sev_asid = (max), .min_sev_asid = (min), .cth_requested = (cth), \
                                     .cpu_sev = true, .cpu_sev_es = true, __VA_ARGS__ }
#define ALL_ON .cpu_snp = true, .sev_enabled = true, .sev_es_enabled = true, .snp_enabled = true, .cth_supported = true
#define SNP_OFF .cpu_snp = true, .sev_enabled = true, .sev_es_enabled = true, .snp_enabled = false, .cth_supported = true
#define SNP_OFF_NO_CTH .cpu_snp = true, .sev_enabled = true, .sev_es_enabled = true, .snp_enabled = false, .cth_supported = false

static const Case cases[] = {
        {
                /* The kernel's own example: "SEV enabled (ASIDs 100 - 1006)", "SEV-ES unusable
                 * (ASIDs 100 - 99)", "SEV-SNP enabled (ASIDs 1 - 99)". */
                "kernel example, 99 SNP ASIDs",
                INPUTS(1006, 100, 99, ALL_ON),
                { ASID_POOL_ENABLED, 100, 1006, 907 },
                { ASID_POOL_UNUSABLE, 100, 99, 0 },
                { ASID_POOL_ENABLED, 1, 99, 99 },
                99, false,
        },
        {
                "ciphertext hiding off",
                INPUTS(1006, 100, 0, ALL_ON),
                { ASID_POOL_ENABLED, 100, 1006, 907 },
                { ASID_POOL_ENABLED, 1, 99, 99 },
                { ASID_POOL_ENABLED, 1, 99, 99 },
                0, false,
        },
        {
                "ciphertext hiding 50 splits the joint range",
                INPUTS(1006, 100, 50, ALL_ON),
                { ASID_POOL_ENABLED, 100, 1006, 907 },
                { ASID_POOL_ENABLED, 51, 99, 49 },
                { ASID_POOL_ENABLED, 1, 50, 50 },
                50, false,
        },
        {
                "cap at min SEV ASID - 1 (-1u = all to SNP)",
                INPUTS(1006, 100, UINT32_MAX, ALL_ON),
                { ASID_POOL_ENABLED, 100, 1006, 907 },
                { ASID_POOL_UNUSABLE, 100, 99, 0 },
                { ASID_POOL_ENABLED, 1, 99, 99 },
                99, true,
        },
        {
                "cap at min SEV ASID - 1 (500 asked)",
                INPUTS(509, 16, 500, ALL_ON),
                { ASID_POOL_ENABLED, 16, 509, 494 },
                { ASID_POOL_UNUSABLE, 16, 15, 0 },
                { ASID_POOL_ENABLED, 1, 15, 15 },
                15, true,
        },
        {
                "min SEV ASID 1: no SEV-ES/SNP ASIDs, SEV-ES and SNP disabled",
                INPUTS(509, 1, 99, ALL_ON),
                { ASID_POOL_ENABLED, 1, 509, 509 },
                { ASID_POOL_DISABLED, 0, 0, 0 },
                { ASID_POOL_DISABLED, 0, 0, 0 },
                0, false,
        },
        {
                "min > max: SEV unusable, every ASID is joint",
                INPUTS(509, 510, 0, ALL_ON),
                { ASID_POOL_UNUSABLE, 510, 509, 0 },
                { ASID_POOL_ENABLED, 1, 509, 509 },
                { ASID_POOL_ENABLED, 1, 509, 509 },
                0, false,
        },
        {
                "min > max with ciphertext hiding 100",
                INPUTS(509, 510, 100, ALL_ON),
                { ASID_POOL_UNUSABLE, 510, 509, 0 },
                { ASID_POOL_ENABLED, 101, 509, 409 },
                { ASID_POOL_ENABLED, 1, 100, 100 },
                100, false,
        },
        {
                "zero ASIDs: memory encryption off in the BIOS",
                INPUTS(0, 0, 99, ALL_ON),
                { ASID_POOL_DISABLED, 0, 0, 0 },
                { ASID_POOL_DISABLED, 0, 0, 0 },
                { ASID_POOL_DISABLED, 0, 0, 0 },
                0, false,
        },
        {
                "CTH requested but firmware/BIOS cannot",
                INPUTS(1006, 100, 99, .cpu_snp = true, .sev_enabled = true, .sev_es_enabled = true, .snp_enabled = true, .cth_supported = false),
                { ASID_POOL_ENABLED, 100, 1006, 907 },
                { ASID_POOL_ENABLED, 1, 99, 99 },
                { ASID_POOL_ENABLED, 1, 99, 99 },
                0, false,
        },
        {
                /* v6.18 splits whenever SEV is on: the raw 99 takes every joint ASID. */
                "SNP off in kvm_amd, 99: SEV-ES unusable all the same",
                INPUTS(1006, 100, 99, SNP_OFF),
                { ASID_POOL_ENABLED, 100, 1006, 907 },
                { ASID_POOL_UNUSABLE, 100, 99, 0 },
                { ASID_POOL_DISABLED, 1, 99, 0 },   /* "SEV-SNP disabled (ASIDs 1 - 99)" */
                0, false,
        },
        {
                "SNP off in kvm_amd, 50: SEV-ES keeps only 51-99",
                INPUTS(1006, 100, 50, SNP_OFF),
                { ASID_POOL_ENABLED, 100, 1006, 907 },
                { ASID_POOL_ENABLED, 51, 99, 49 },
                { ASID_POOL_DISABLED, 1, 50, 0 },   /* "SEV-SNP disabled (ASIDs 1 - 50)" */
                0, false,
        },
        {
                "SNP off in kvm_amd, 50, firmware without ciphertext hiding: split all the same",
                INPUTS(1006, 100, 50, SNP_OFF_NO_CTH),
                { ASID_POOL_ENABLED, 100, 1006, 907 },
                { ASID_POOL_ENABLED, 51, 99, 49 },
                { ASID_POOL_DISABLED, 1, 50, 0 },
                0, false,
        },
        {
                "SNP off in kvm_amd, 150 >= min SEV ASID: uncapped, SEV-ES unusable",
                INPUTS(1006, 100, 150, SNP_OFF),
                { ASID_POOL_ENABLED, 100, 1006, 907 },
                { ASID_POOL_UNUSABLE, 151, 99, 0 }, /* "SEV-ES unusable (ASIDs 151 - 99)" */
                { ASID_POOL_DISABLED, 1, 150, 0 },
                0, false,
        },
        {
                "SNP off in kvm_amd, 4294967295: first SEV-ES ASID wraps to 0, counted unusable",
                INPUTS(1006, 100, UINT32_MAX, SNP_OFF),
                { ASID_POOL_ENABLED, 100, 1006, 907 },
                { ASID_POOL_UNUSABLE, 0, 0, 0 },
                { ASID_POOL_DISABLED, 1, UINT32_MAX, 0 },
                0, false,
        },
        {
                "SNP off, sev_es off: nothing to split",
                INPUTS(1006, 100, 50, .cpu_snp = true, .sev_enabled = true, .sev_es_enabled = false, .snp_enabled = false, .cth_supported = true),
                { ASID_POOL_ENABLED, 100, 1006, 907 },
                { ASID_POOL_DISABLED, 0, 0, 0 },
                { ASID_POOL_DISABLED, 0, 0, 0 },
                0, false,
        },
        {
                "sev_es=N disables SEV-ES and SNP",
                INPUTS(1006, 100, 0, .cpu_snp = true, .sev_enabled = true, .sev_es_enabled = false, .snp_enabled = true, .cth_supported = true),
                { ASID_POOL_ENABLED, 100, 1006, 907 },
                { ASID_POOL_DISABLED, 0, 0, 0 },
                { ASID_POOL_DISABLED, 0, 0, 0 },
                0, false,
        },
        {
                "sev=N disables everything",
                INPUTS(1006, 100, 99, .cpu_snp = true, .sev_enabled = false, .sev_es_enabled = true, .snp_enabled = true, .cth_supported = true),
                { ASID_POOL_DISABLED, 0, 0, 0 },
                { ASID_POOL_DISABLED, 0, 0, 0 },
                { ASID_POOL_DISABLED, 0, 0, 0 },
                0, false,
        },
        {
                "Milan-class: no SNP bit",
                INPUTS(509, 100, 0, .cpu_snp = false, .sev_enabled = true, .sev_es_enabled = true, .snp_enabled = true, .cth_supported = false),
                { ASID_POOL_ENABLED, 100, 509, 410 },
                { ASID_POOL_ENABLED, 1, 99, 99 },
                { ASID_POOL_DISABLED, 1, 99, 0 },
                0, false,
        },
        {
                "min SEV ASID 2: one joint ASID, all to SNP",
                INPUTS(10, 2, 1, ALL_ON),
                { ASID_POOL_ENABLED, 2, 10, 9 },
                { ASID_POOL_UNUSABLE, 2, 1, 0 },
                { ASID_POOL_ENABLED, 1, 1, 1 },
                1, false,
        },
        {
                "min SEV ASID 0 (broken CPUID): SEV unusable, no joint ASIDs",
                INPUTS(10, 0, 0, ALL_ON),
                { ASID_POOL_UNUSABLE, 0, 10, 0 },
                { ASID_POOL_DISABLED, 0, 0, 0 },
                { ASID_POOL_DISABLED, 0, 0, 0 },
                0, false,
        },
};

static void check_range(const char *name, const char *pool, const AsidRange *r, const Expect *e) {
        CHECK_MSG(r->state == e->state, "%s: %s state %s, expected %s", name, pool,
                  asid_pool_state_to_string(r->state), asid_pool_state_to_string(e->state));
        CHECK_MSG(r->first == e->first && r->last == e->last, "%s: %s range %u-%u, expected %u-%u",
                  name, pool, r->first, r->last, e->first, e->last);
        CHECK_MSG(asid_range_count(r) == e->count, "%s: %s count %u, expected %u", name, pool,
                  asid_range_count(r), e->count);
}

static void test_table(void) {
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const Case *c = &cases[i];
                AsidPartition p;

                asid_partition_compute(&c->in, &p);
                check_range(c->name, "SEV", &p.pool[ASID_POOL_SEV], &c->sev);
                check_range(c->name, "SEV-ES", &p.pool[ASID_POOL_SEV_ES], &c->es);
                check_range(c->name, "SNP", &p.pool[ASID_POOL_SNP], &c->snp);
                CHECK_MSG(p.cth_asids == c->cth_asids, "%s: cth %u, expected %u", c->name, p.cth_asids, c->cth_asids);
                CHECK_MSG(p.cth_capped == c->capped, "%s: capped %d", c->name, p.cth_capped);
        }
}

static void test_usage_split(void) {
        AsidInputs in = INPUTS(1006, 100, 50, ALL_ON);
        MiscCounts misc = { .valid = true, .sev_capacity = 907, .sev_es_capacity = 99,
                            .current_valid = true, .sev_current = 3, .sev_es_current = 7 };
        AsidPartition p;
        AsidUsage u;

        asid_partition_compute(&in, &p);
        CHECK(asid_usage_compute(&p, &misc, 5, "SNP_PLATFORM_STATUS", &u) == 0);
        CHECK(u.pool[ASID_POOL_SEV].used == 3 && u.pool[ASID_POOL_SEV].free == 904);
        CHECK(u.pool[ASID_POOL_SNP].used == 5 && u.pool[ASID_POOL_SNP].free == 45);
        CHECK(u.pool[ASID_POOL_SEV_ES].used == 2 && u.pool[ASID_POOL_SEV_ES].free == 47);
        CHECK(strstr(u.pool[ASID_POOL_SNP].note, "SEV-ES and SNP guests together"));
        CHECK(strstr(u.pool[ASID_POOL_SNP].note, "split with the SNP guest count"));
        asid_usage_done(&u);

        /* SNP guest count unknown: the split is unknown, said so. */
        CHECK(asid_usage_compute(&p, &misc, -1, "SNP_PLATFORM_STATUS", &u) == 0);
        CHECK(u.pool[ASID_POOL_SNP].used == -1 && u.pool[ASID_POOL_SNP].free == -1);
        CHECK(u.pool[ASID_POOL_SEV_ES].used == -1);
        CHECK(u.pool[ASID_POOL_SEV].used == 3);
        CHECK(strstr(u.pool[ASID_POOL_SNP].note, "unknown"));
        asid_usage_done(&u);

        /* All joint ASIDs to SNP: every sev_es charge is an SNP guest, even without the count. */
        in.cth_requested = 99;
        asid_partition_compute(&in, &p);
        CHECK(asid_usage_compute(&p, &misc, -1, "nowhere", &u) == 0);
        CHECK(u.pool[ASID_POOL_SNP].used == 7 && u.pool[ASID_POOL_SNP].free == 92);
        CHECK(u.pool[ASID_POOL_SEV_ES].used == 0 && u.pool[ASID_POOL_SEV_ES].free == 0);
        CHECK(strstr(u.pool[ASID_POOL_SNP].note, "every one is an SNP guest"));
        asid_usage_done(&u);

        /* Without CTH: one joint range, free is the joint free count for both. */
        in.cth_requested = 0;
        asid_partition_compute(&in, &p);
        CHECK(asid_usage_compute(&p, &misc, -1, "SNP_PLATFORM_STATUS", &u) == 0);
        CHECK(u.pool[ASID_POOL_SNP].free == 92 && u.pool[ASID_POOL_SEV_ES].free == 92);
        CHECK(u.pool[ASID_POOL_SNP].used == -1);
        asid_usage_done(&u);
        CHECK(asid_usage_compute(&p, &misc, 4, "SNP_PLATFORM_STATUS", &u) == 0);
        CHECK(u.pool[ASID_POOL_SNP].used == 4 && u.pool[ASID_POOL_SEV_ES].used == 3);
        asid_usage_done(&u);

        /* No misc cgroup at all. */
        CHECK(asid_usage_compute(&p, NULL, 4, "SNP_PLATFORM_STATUS", &u) == 0);
        CHECK(u.pool[ASID_POOL_SEV].used == -1 && u.pool[ASID_POOL_SEV].free == -1);
        CHECK(u.pool[ASID_POOL_SEV].capacity == 907);
        asid_usage_done(&u);

        /* More in use than capacity (stale counts): free never goes negative. */
        misc.sev_current = 5000;
        CHECK(asid_usage_compute(&p, &misc, 0, "SNP_PLATFORM_STATUS", &u) == 0);
        CHECK(u.pool[ASID_POOL_SEV].free == 0);
        asid_usage_done(&u);
}

static void test_misc_parse(void) {
        uint64_t a = 1, b = 1;

        CHECK(misc_parse_counts("sev 907\nsev_es 99\n", &a, &b) == 0 && a == 907 && b == 99);
        CHECK(misc_parse_counts("sev_es 4\ntdx 3\n", &a, &b) == 0 && a == 0 && b == 4);
        CHECK(misc_parse_counts("", &a, &b) == 0 && a == 0 && b == 0);
        CHECK(misc_parse_counts("sev max\n", &a, NULL) == 0 && a == UINT64_MAX);
        CHECK(misc_parse_counts("sev\n", &a, &b) == -EBADMSG);
        CHECK(misc_parse_counts("sev -1\n", &a, &b) == -EBADMSG);
        CHECK(misc_parse_counts("sev 12abc\n", &a, &b) == -EBADMSG);
        CHECK(misc_parse_counts("sev 99999999999999999999999\n", &a, &b) == -EBADMSG);
}

static bool list_has(char **l, const char *needle) {
        STRV_FOREACH(s, l)
                if (strstr(*s, needle))
                        return true;
        return false;
}

static void test_explain(void) {
        AsidInputs in = INPUTS(1006, 100, 99, ALL_ON);
        _cleanup_strv_free_ char **l = NULL, **l2 = NULL, **l3 = NULL, **l4 = NULL;
        AsidPartition p;

        asid_partition_compute(&in, &p);
        CHECK(asid_explain(&in, &p, &l) == 0 && strv_length(l) == 3);
        CHECK(list_has(l, "SEV-ES has no ASIDs because ciphertext hiding gives all 99 joint ASIDs to SNP"));
        CHECK(list_has(l, "SEV has ASIDs 100-1006 (907)"));

        in.min_sev_asid = 1;
        asid_partition_compute(&in, &p);
        CHECK(asid_explain(&in, &p, &l2) == 0);
        CHECK(list_has(l2, "BIOS minimum SEV ASID is 1"));

        in.min_sev_asid = 1100;
        in.cth_requested = 0;
        asid_partition_compute(&in, &p);
        CHECK(asid_explain(&in, &p, &l3) == 0);
        CHECK(list_has(l3, "above the maximum ASID"));

        in = (AsidInputs) INPUTS(1006, 100, 20, .cpu_snp = true, .sev_enabled = true, .sev_es_enabled = true, .snp_enabled = true, .cth_supported = false);
        asid_partition_compute(&in, &p);
        CHECK(asid_explain(&in, &p, &l4) == 0);
        CHECK(list_has(l4, "does not support ciphertext hiding"));
}

static void test_json(void) {
        AsidInputs in = INPUTS(1006, 100, 99, ALL_ON);
        AsidPartition p;
        json_object *o, *snp, *v;

        asid_partition_compute(&in, &p);
        o = asid_partition_to_json(&p, NULL);
        CHECK(o);
        CHECK(json_object_object_get_ex(o, "snp", &snp));
        CHECK(json_object_object_get_ex(snp, "last", &v) && json_object_get_int(v) == 99);
        CHECK(json_object_object_get_ex(o, "sev-es", &snp));
        CHECK(json_object_object_get_ex(snp, "state", &v) && streq(json_object_get_string(v), "unusable"));
        json_object_put(o);
}

/* The lines kvm_amd logs for the kernel's own example, from the fixture. */
static void test_kernel_log_fixture(void) {
        AsidInputs in = INPUTS(1006, 100, 99, ALL_ON);
        _cleanup_strv_free_ char **got = NULL;
        _cleanup_free_ char *text = NULL;
        AsidPartition p;
        size_t i = 0;

        asid_partition_compute(&in, &p);
        CHECK(asid_kernel_log_lines(&in, &p, &got) == 0);
        CHECK(strv_length(got) == 4 && streq(got[0], "SEV-SNP ciphertext hiding enabled"));
        CHECK(read_full_file(TEST_FIXTURES "/asid/kernel-example-cth99.log", 4096, &text, NULL) == 0);
        if (!text || !got)
                return;
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
                const char *want = strneq(line, "kvm_amd: ", 9) ? line + 9 : line;
                CHECK_MSG(got[1 + i] && streq(got[1 + i], want), "line %zu: got \"%s\", want \"%s\"", i,
                          strna(got[1 + i]), want);
                i++;
        }
        CHECK(i == 3);
}

static void test_kernel_log_other(void) {
        AsidInputs in = INPUTS(509, 1, 0, ALL_ON);
        _cleanup_strv_free_ char **a = NULL, **b = NULL, **c = NULL;
        AsidPartition p;

        asid_partition_compute(&in, &p);
        CHECK(asid_kernel_log_lines(&in, &p, &a) == 0 && strv_length(a) == 3);
        CHECK(streq(a[0], "SEV enabled (ASIDs 1 - 509)"));
        CHECK(streq(a[1], "SEV-ES disabled (ASIDs 0 - 0)"));
        CHECK(streq(a[2], "SEV-SNP disabled (ASIDs 0 - 0)"));

        in = (AsidInputs) INPUTS(509, 510, 0, ALL_ON);
        asid_partition_compute(&in, &p);
        CHECK(asid_kernel_log_lines(&in, &p, &b) == 0 && strv_length(b) == 3);
        CHECK(streq(b[0], "SEV unusable (ASIDs 510 - 509)"));
        CHECK(streq(b[1], "SEV-ES enabled (ASIDs 1 - 509)"));

        /* No SEV CPU bits: nothing is logged. */
        in = (AsidInputs) { .max_sev_asid = 0 };
        asid_partition_compute(&in, &p);
        CHECK(asid_kernel_log_lines(&in, &p, &c) == 0 && strv_length(c) == 0);
}

/* The split count behind the pools: with SNP on the capped count, with SNP off the raw one. */
static void test_split_fields(void) {
        static const struct {
                AsidInputs in;
                uint32_t split;
                bool without_snp, wrapped;
        } t[] = {
                { INPUTS(1006, 100, 50, ALL_ON), 50, false, false },
                { INPUTS(1006, 100, 500, ALL_ON), 99, false, false },                   /* capped */
                { INPUTS(1006, 100, UINT32_MAX, ALL_ON), 99, false, false },            /* -1u, capped */
                { INPUTS(1006, 100, 50, .cpu_snp = true, .sev_enabled = true, .sev_es_enabled = true,
                         .snp_enabled = true, .cth_supported = false), 0, false, false }, /* max_snp_asid 0 */
                { INPUTS(1006, 100, 0, SNP_OFF), 0, false, false },
                { INPUTS(1006, 100, 50, SNP_OFF), 50, true, false },
                { INPUTS(1006, 100, 99, SNP_OFF), 99, true, false },
                { INPUTS(1006, 100, 100, SNP_OFF), 100, true, false },                  /* = min: unusable */
                { INPUTS(1006, 100, UINT32_MAX - 1, SNP_OFF), UINT32_MAX - 1, true, false },
                { INPUTS(1006, 100, UINT32_MAX, SNP_OFF), UINT32_MAX, true, true },
                { INPUTS(509, 100, 50, .cpu_snp = false, .sev_enabled = true, .sev_es_enabled = true,
                         .snp_enabled = true, .cth_supported = false), 50, true, false }, /* no SNP bit */
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                AsidPartition p;

                asid_partition_compute(&t[i].in, &p);
                CHECK_MSG(p.split_asids == t[i].split, "case %zu: split %u, expected %u", i, p.split_asids, t[i].split);
                CHECK_MSG(p.split_without_snp == t[i].without_snp, "case %zu: without_snp %d", i, p.split_without_snp);
                CHECK_MSG(p.es_first_wrapped == t[i].wrapped, "case %zu: wrapped %d", i, p.es_first_wrapped);
        }
}

/* Usage with the split but SNP off: every "sev_es" charge is a SEV-ES guest in 51-99. */
static void test_usage_split_without_snp(void) {
        AsidInputs in = INPUTS(1006, 100, 50, SNP_OFF);
        MiscCounts misc = { .valid = true, .sev_capacity = 907, .sev_es_capacity = 99,
                            .current_valid = true, .sev_current = 0, .sev_es_current = 7 };
        AsidPartition p;
        AsidUsage u;

        asid_partition_compute(&in, &p);
        CHECK(asid_usage_compute(&p, &misc, 0, "the SNP pool being disabled", &u) == 0);
        CHECK(u.pool[ASID_POOL_SEV_ES].capacity == 49 && u.pool[ASID_POOL_SEV_ES].used == 7 &&
              u.pool[ASID_POOL_SEV_ES].free == 42);
        CHECK(u.pool[ASID_POOL_SNP].capacity == 0 && u.pool[ASID_POOL_SNP].free == 0);
        asid_usage_done(&u);
}

/* What v6.18 logs with SNP off: the split line, the shrunk SEV-ES range and the raw SNP end. */
static void test_kernel_log_without_snp(void) {
        AsidInputs in = INPUTS(1006, 100, 50, SNP_OFF);
        _cleanup_strv_free_ char **a = NULL, **b = NULL;
        AsidPartition p;

        asid_partition_compute(&in, &p);
        CHECK(asid_kernel_log_lines(&in, &p, &a) == 0 && strv_length(a) == 4);
        if (strv_length(a) == 4) {
                CHECK(streq(a[0], "SEV-SNP ciphertext hiding enabled"));
                CHECK(streq(a[2], "SEV-ES enabled (ASIDs 51 - 99)"));
                CHECK(streq(a[3], "SEV-SNP disabled (ASIDs 1 - 50)"));
        }

        in = (AsidInputs) INPUTS(1006, 100, UINT32_MAX, SNP_OFF);
        asid_partition_compute(&in, &p);
        CHECK(asid_kernel_log_lines(&in, &p, &b) == 0 && strv_length(b) == 4);
        if (strv_length(b) == 4) {
                CHECK(streq(b[2], "SEV-ES enabled (ASIDs 0 - 99)"));
                CHECK(streq(b[3], "SEV-SNP disabled (ASIDs 1 - 4294967295)"));
        }
}

static void test_explain_without_snp(void) {
        static const struct {
                uint32_t cth;
                const char *want;
        } t[] = {
                { 50, "SEV-ES has ASIDs 51-99 (49): ciphertext hiding takes the first 50 of the 99 joint ASIDs from SEV-ES although SNP is off" },
                { 150, "SEV-ES has no ASIDs: kvm_amd's ciphertext_hiding_asids=150 is not below the minimum SEV ASID 100" },
                { UINT32_MAX, "its first SEV-ES ASID wraps to 0 (\"SEV-ES enabled (ASIDs 0 - 99)\"), a kernel bug to report" },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                AsidInputs in = INPUTS(1006, 100, t[i].cth, SNP_OFF);
                _cleanup_strv_free_ char **l = NULL;
                AsidPartition p;

                asid_partition_compute(&in, &p);
                CHECK(asid_explain(&in, &p, &l) == 0 && strv_length(l) == 3);
                CHECK_MSG(l && l[1] && strstr(l[1], t[i].want), "cth %u: \"%s\"", t[i].cth, l && l[1] ? l[1] : "(none)");
        }
}

/* kstrtouint(s, 0): what kvm_amd accepts for ciphertext_hiding_asids. */
static void test_parse_cth_param(void) {
        static const struct {
                const char *s;
                int r;
                uint32_t v;
        } t[] = {
                { "0", 0, 0 },
                { "50", 0, 50 },
                { "50\n", 0, 50 },
                { "+50", 0, 50 },
                { "0x32", 0, 50 },
                { "0X32", 0, 50 },
                { "062", 0, 50 },               /* octal */
                { "4294967295", 0, UINT32_MAX },
                { "0xffffffff", 0, UINT32_MAX },
                { "4294967296", -ERANGE, 0 },
                { "99999999999999999999999", -ERANGE, 0 },
                { "max", -EINVAL, 0 },
                { "-1", -EINVAL, 0 },
                { "", -EINVAL, 0 },
                { "+", -EINVAL, 0 },
                { "50 ", -EINVAL, 0 },
                { " 50", -EINVAL, 0 },
                { "50\n\n", -EINVAL, 0 },
                { "09", -EINVAL, 0 },          /* octal has no 9 */
                { "0x", -EINVAL, 0 },           /* "0" then "x" */
                { "0xg", -EINVAL, 0 },
                { "1e3", -EINVAL, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                uint32_t v = 12345;
                int r = asid_parse_cth_param(t[i].s, &v);

                CHECK_MSG(r == t[i].r, "\"%s\": r %d, expected %d", t[i].s, r, t[i].r);
                if (r == 0)
                        CHECK_MSG(v == t[i].v, "\"%s\": %u, expected %u", t[i].s, v, t[i].v);
        }
        CHECK(asid_parse_cth_param(NULL, &(uint32_t) {0}) == -EINVAL);
}

int main(void) {
        test_split_fields();
        test_usage_split_without_snp();
        test_kernel_log_without_snp();
        test_explain_without_snp();
        test_parse_cth_param();
        test_kernel_log_fixture();
        test_kernel_log_other();
        test_table();
        test_usage_split();
        test_misc_parse();
        test_explain();
        test_json();
        return test_result();
}
