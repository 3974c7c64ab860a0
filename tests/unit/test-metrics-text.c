/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The exposition writer's rules (daemon/shared/metrics-text.c): HELP and TYPE once per family,
 * families grouped, escaping, value format, names refused. */

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "metrics.h"

static char *render(MetricsText *t) {
        char *s = NULL;

        assert(metrics_text_render(t, &s, NULL) == 0);
        return s;
}

/* Samples of one name written apart end up under one HELP/TYPE; counters by "_total". */
static void test_families(void) {
        _cleanup_(metrics_text_freep) MetricsText *t = NULL;
        _cleanup_free_ char *s = NULL;
        MetricsWriter *w;

        assert(metrics_text_new(&t) == 0);
        w = metrics_text_writer(t);
        assert(metrics_sample(w, "hwsecd_a", METRICS_LABELS({ "pool", "snp" }), 5, "A.") == 0);
        assert(metrics_sample(w, "hwsecd_b_total", NULL, 2, "B.") == 0);
        assert(metrics_sample(w, "hwsecd_a", METRICS_LABELS({ "pool", "sev" }), 0.5, "A.") == 0);
        s = render(t);
        assert(streq(s, "# HELP hwsecd_a A.\n# TYPE hwsecd_a gauge\nhwsecd_a{pool=\"snp\"} 5\nhwsecd_a{pool=\"sev\"} 0.5\n"
                        "# HELP hwsecd_b_total B.\n# TYPE hwsecd_b_total counter\nhwsecd_b_total 2\n"));
        assert(metrics_text_n_samples(t) == 3);
        assert(metrics_text_error(t) == 0);
}

/* Label values escape backslash, quote and newline; HELP escapes backslash and newline. */
static void test_escaping(void) {
        _cleanup_(metrics_text_freep) MetricsText *t = NULL;
        _cleanup_free_ char *s = NULL;

        assert(metrics_text_new(&t) == 0);
        assert(metrics_sample(metrics_text_writer(t), "hwsecd_x", METRICS_LABELS({ "a", "q\"b\\n\nx" }, { "b", "" }), 1,
                              "line\\one\ntwo \"q\"") == 0);
        s = render(t);
        assert(streq(s, "# HELP hwsecd_x line\\\\one\\ntwo \"q\"\n# TYPE hwsecd_x gauge\n"
                        "hwsecd_x{a=\"q\\\"b\\\\n\\nx\",b=\"\"} 1\n"));
}

/* Names without the prefix, with histogram suffixes or bad characters, bad label names, a HELP
 * that differs from the first one: refused with -EINVAL, nothing written, first error kept. */
static void test_refused(void) {
        _cleanup_(metrics_text_freep) MetricsText *t = NULL;
        _cleanup_free_ char *s = NULL;
        MetricsWriter *w;

        assert(metrics_text_new(&t) == 0);
        w = metrics_text_writer(t);
        assert(metrics_sample(w, "node_x", NULL, 1, "H.") == -EINVAL);
        assert(metrics_sample(w, "hwsecd_", NULL, 1, "H.") == -EINVAL);
        assert(metrics_sample(w, "hwsecd_jobs_count", NULL, 1, "H.") == -EINVAL);
        assert(metrics_sample(w, "hwsecd_x_sum", NULL, 1, "H.") == -EINVAL);
        assert(metrics_sample(w, "hwsecd_x_bucket", NULL, 1, "H.") == -EINVAL);
        assert(metrics_sample(w, "hwsecd_a-b", NULL, 1, "H.") == -EINVAL);
        assert(metrics_sample(w, "hwsecd_a:b", NULL, 1, "H.") == -EINVAL);
        assert(metrics_sample(w, "hwsecd_x", METRICS_LABELS({ "__name", "v" }), 1, "H.") == -EINVAL);
        assert(metrics_sample(w, "hwsecd_x", METRICS_LABELS({ "1a", "v" }), 1, "H.") == -EINVAL);
        assert(metrics_sample(w, "hwsecd_x", NULL, 1, "") == -EINVAL);
        assert(metrics_sample(w, "hwsecd_x", NULL, 1, "H.") == 0);
        assert(metrics_sample(w, "hwsecd_x", METRICS_LABELS({ "a", "b" }), 1, "Other.") == -EINVAL);
        assert(metrics_text_error(t) == -EINVAL);
        assert(metrics_text_n_samples(t) == 1);
        s = render(t);
        assert(streq(s, "# HELP hwsecd_x H.\n# TYPE hwsecd_x gauge\nhwsecd_x 1\n"));
}

static void test_values(void) {
        char b[64];

        metrics_format_value(0, b, sizeof b);
        assert(streq(b, "0"));
        metrics_format_value(-3, b, sizeof b);
        assert(streq(b, "-3"));
        metrics_format_value(1764633600, b, sizeof b);
        assert(streq(b, "1764633600"));
        metrics_format_value(0.25, b, sizeof b);
        assert(streq(b, "0.25"));
        metrics_format_value(NAN, b, sizeof b);
        assert(streq(b, "NaN"));
        metrics_format_value(INFINITY, b, sizeof b);
        assert(streq(b, "+Inf"));
        metrics_format_value(-INFINITY, b, sizeof b);
        assert(streq(b, "-Inf"));
        metrics_format_value(1e300, b, sizeof b);
        assert(strtod(b, NULL) == 1e300);
}

/* An empty writer renders an empty string (not NULL). */
static void test_empty(void) {
        _cleanup_(metrics_text_freep) MetricsText *t = NULL;
        _cleanup_free_ char *s = NULL;
        size_t n = 1;

        assert(metrics_text_new(&t) == 0);
        assert(metrics_text_render(t, &s, &n) == 0);
        assert(s && streq(s, "") && n == 0);
}

int main(void) {
        test_families();
        test_escaping();
        test_refused();
        test_values();
        test_empty();
        printf("test-metrics-text: ok\n");
        return 0;
}
