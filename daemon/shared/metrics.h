/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The extension point of the metrics export: an area's `metrics` hook (daemon/area.h) appends
 * the area's facts to a MetricsWriter as samples, "name{labels} value" in the Prometheus text
 * model, from its own state, never invented values. The writer (metrics-text.c) keeps the rules
 * of the exposition format: one family per name with "# HELP" and "# TYPE" once, the samples of a
 * family together, label values escaped, no timestamps, a final newline. No sd-bus here.
 *
 * Naming rules the writer enforces (docs/metrics.md): every name starts with "hwsecd_"; a name
 * ending in "_total" is a counter, every other name a gauge; "_count", "_sum" and "_bucket" are
 * refused (histogram suffixes); metadata is an "_info" gauge with value 1. */

#include <stdbool.h>
#include <stddef.h>

typedef struct MetricsLabel {
        const char *name;               /* [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" */
        const char *value;              /* any UTF-8; escaped by the writer */
} MetricsLabel;

/* A NULL-terminated label list: METRICS_LABELS({"pool", "snp"}, {"state", "enabled"}). */
#define METRICS_LABELS(...) ((const MetricsLabel[]) { __VA_ARGS__, { NULL, NULL } })

typedef struct MetricsWriter MetricsWriter;

struct MetricsWriter {
        /* name: "hwsecd_asid_pool_capacity"; labels: a NULL-terminated list (METRICS_LABELS) or
         * NULL; help: one line, the same for every sample of a name. Returns 0 or a negative
         * errno (-EINVAL for a name, label or help that breaks the rules above). */
        int (*sample)(MetricsWriter *w, const char *name, const MetricsLabel *labels, double value, const char *help);
        void *userdata;
};

static inline int metrics_sample(MetricsWriter *w, const char *name, const MetricsLabel *labels, double value,
                                 const char *help) {
        return w->sample(w, name, labels, value, help);
}

/* The exposition writer (core, metrics-text.c). */
typedef struct MetricsText MetricsText;

int metrics_text_new(MetricsText **ret);
MetricsText *metrics_text_free(MetricsText *t);
static inline void metrics_text_freep(MetricsText **t) {
        if (*t)
                metrics_text_free(*t);
}
MetricsWriter *metrics_text_writer(MetricsText *t);
/* The first error a sample() call returned (0 when none); the offending sample was dropped. */
int metrics_text_error(const MetricsText *t);
/* Number of samples written. */
size_t metrics_text_n_samples(const MetricsText *t);
/* The exposition text, families in the order of their first sample; a new string. */
int metrics_text_render(const MetricsText *t, char **ret, size_t *ret_size);

/* Rules, exported for tests. */
bool metrics_name_is_valid(const char *name);
bool metrics_label_name_is_valid(const char *name);
/* Appends value with '\\', '"' and '\n' escaped (label values) or '\\' and '\n' (help). */
int metrics_escape(const char *value, bool quote, char **ret);
/* "1", "0.5", "NaN", "+Inf", "-Inf"; buf of at least 32 bytes. */
void metrics_format_value(double v, char *buf, size_t size);
