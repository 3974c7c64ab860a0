/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The extension point of the metrics export: an area's `metrics` hook (daemon/area.h) appends
 * the area's facts to a MetricsWriter as samples, "name{labels} value" in the Prometheus text
 * model. No area implements the hook yet (all leave it NULL) and nothing writes samples: the
 * export will bring the writer (a file, a socket) and each area the facts it owns, from its own
 * state, never invented values. No sd-bus here. */

typedef struct MetricsWriter MetricsWriter;

struct MetricsWriter {
        /* name: "hwsecd_asid_pool_capacity"; labels: "pool=\"snp\"" or NULL; help: one line
         * the first time a name is written. Returns 0 or a negative errno. */
        int (*sample)(MetricsWriter *w, const char *name, const char *labels, double value, const char *help);
        void *userdata;
};
