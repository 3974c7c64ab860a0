/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Prometheus text exposition writer: families with HELP and TYPE, escaping, value format. */

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "metrics.h"

#define METRICS_PREFIX "hwsecd_"

typedef struct Buffer {
        char *data;
        size_t len, alloc;
} Buffer;

typedef struct MetricsFamily {
        char *name;
        char *help;                     /* escaped */
        Buffer samples;
} MetricsFamily;

struct MetricsText {
        MetricsWriter writer;
        MetricsFamily *families;
        size_t n_families, alloc_families;
        size_t last;                    /* the family of the previous sample (areas write in runs) */
        size_t n_samples;
        int error;
};

static int buffer_reserve(Buffer *b, size_t extra) {
        size_t need = b->len + extra + 1;
        char *p;

        if (need <= b->alloc)
                return 0;
        need = MAX(need, MAX(b->alloc * 2, (size_t) 256));
        p = realloc(b->data, need);
        if (!p)
                return -ENOMEM;
        b->data = p;
        b->alloc = need;
        b->data[b->len] = '\0';
        return 0;
}

static int buffer_append(Buffer *b, const char *s, size_t n) {
        int r = buffer_reserve(b, n);

        if (r < 0)
                return r;
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
        return 0;
}

static int buffer_puts(Buffer *b, const char *s) {
        return buffer_append(b, s, strlen(s));
}

static bool name_char(char c, bool first, bool colon) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
                return true;
        if (colon && c == ':')
                return true;
        return !first && c >= '0' && c <= '9';
}

static bool ends_with(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);

        return a >= b && streq(s + a - b, suffix);
}

bool metrics_name_is_valid(const char *name) {
        if (!name || !strneq(name, METRICS_PREFIX, strlen(METRICS_PREFIX)) || !name[strlen(METRICS_PREFIX)])
                return false;
        for (const char *p = name; *p; p++)
                if (!name_char(*p, p == name, false))   /* colons are for recording rules */
                        return false;
        return !ends_with(name, "_count") && !ends_with(name, "_sum") && !ends_with(name, "_bucket");
}

bool metrics_label_name_is_valid(const char *name) {
        if (isempty(name) || strneq(name, "__", 2))
                return false;
        for (const char *p = name; *p; p++)
                if (!name_char(*p, p == name, false))
                        return false;
        return true;
}

int metrics_escape(const char *value, bool quote, char **ret) {
        Buffer b = {};
        int r = buffer_reserve(&b, strlen(value));

        for (const char *p = value; r >= 0 && *p; p++) {
                if (*p == '\\')
                        r = buffer_puts(&b, "\\\\");
                else if (*p == '\n')
                        r = buffer_puts(&b, "\\n");
                else if (quote && *p == '"')
                        r = buffer_puts(&b, "\\\"");
                else
                        r = buffer_append(&b, p, 1);
        }
        if (r < 0) {
                free(b.data);
                return r;
        }
        *ret = b.data;
        return 0;
}

void metrics_format_value(double v, char *buf, size_t size) {
        if (isnan(v))
                snprintf(buf, size, "NaN");
        else if (isinf(v))
                snprintf(buf, size, v > 0 ? "+Inf" : "-Inf");
        else if (v > -9007199254740992.0 && v < 9007199254740992.0 && v == (double) (int64_t) v) /* exact integers */
                snprintf(buf, size, "%.0f", v);
        else
                snprintf(buf, size, "%.17g", v);
}

static int family_get(MetricsText *t, const char *name, const char *help, MetricsFamily **ret) {
        _cleanup_free_ char *escaped = NULL;
        MetricsFamily *f;
        int r;

        if (t->last < t->n_families && streq(t->families[t->last].name, name))
                f = &t->families[t->last];
        else {
                f = NULL;
                for (size_t i = 0; i < t->n_families; i++)
                        if (streq(t->families[i].name, name)) {
                                f = &t->families[i];
                                break;
                        }
        }
        r = metrics_escape(help, false, &escaped);
        if (r < 0)
                return r;
        if (f) {
                /* node_exporter drops a family whose HELP differs between samples or files. */
                if (!streq(f->help, escaped))
                        return -EINVAL;
                t->last = (size_t) (f - t->families);
                *ret = f;
                return 0;
        }
        if (t->n_families == t->alloc_families) {
                size_t n = MAX(t->alloc_families * 2, (size_t) 32);
                MetricsFamily *p = reallocarray(t->families, n, sizeof(MetricsFamily));

                if (!p)
                        return -ENOMEM;
                t->families = p;
                t->alloc_families = n;
        }
        f = &t->families[t->n_families];
        *f = (MetricsFamily) { .name = strdup(name), .help = TAKE_PTR(escaped) };
        if (!f->name) {
                free(f->help);
                return -ENOMEM;
        }
        t->last = t->n_families++;
        *ret = f;
        return 0;
}

static int append_labels(Buffer *b, const MetricsLabel *labels) {
        int r = 0;

        if (!labels || !labels[0].name)
                return 0;
        r = buffer_puts(b, "{");
        for (const MetricsLabel *l = labels; r >= 0 && l->name; l++) {
                _cleanup_free_ char *v = NULL;

                r = metrics_escape(strempty(l->value), true, &v);
                if (r < 0)
                        break;
                if (l != labels)
                        r = buffer_puts(b, ",");
                if (r >= 0)
                        r = buffer_puts(b, l->name);
                if (r >= 0)
                        r = buffer_puts(b, "=\"");
                if (r >= 0)
                        r = buffer_puts(b, v);
                if (r >= 0)
                        r = buffer_puts(b, "\"");
        }
        return r < 0 ? r : buffer_puts(b, "}");
}

static int text_sample(MetricsWriter *w, const char *name, const MetricsLabel *labels, double value, const char *help) {
        MetricsText *t = w->userdata;
        MetricsFamily *f;
        char v[64];
        size_t mark;
        int r;

        if (!metrics_name_is_valid(name) || isempty(help))
                r = -EINVAL;
        else {
                r = 0;
                for (const MetricsLabel *l = labels; l && l->name; l++)
                        if (!metrics_label_name_is_valid(l->name))
                                r = -EINVAL;
        }
        if (r >= 0)
                r = family_get(t, name, help, &f);
        if (r < 0) {
                if (t->error == 0)
                        t->error = r;
                return r;
        }
        mark = f->samples.len;
        metrics_format_value(value, v, sizeof v);
        r = buffer_puts(&f->samples, name);
        if (r >= 0)
                r = append_labels(&f->samples, labels);
        if (r >= 0)
                r = buffer_puts(&f->samples, " ");
        if (r >= 0)
                r = buffer_puts(&f->samples, v);
        if (r >= 0)
                r = buffer_puts(&f->samples, "\n");
        if (r < 0) {
                f->samples.len = mark;
                if (f->samples.data)
                        f->samples.data[mark] = '\0';
                if (t->error == 0)
                        t->error = r;
                return r;
        }
        t->n_samples++;
        return 0;
}

int metrics_text_new(MetricsText **ret) {
        MetricsText *t = calloc(1, sizeof(MetricsText));

        if (!t)
                return -ENOMEM;
        t->writer = (MetricsWriter) { .sample = text_sample, .userdata = t };
        *ret = t;
        return 0;
}

MetricsText *metrics_text_free(MetricsText *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_families; i++) {
                free(t->families[i].name);
                free(t->families[i].help);
                free(t->families[i].samples.data);
        }
        free(t->families);
        free(t);
        return NULL;
}

MetricsWriter *metrics_text_writer(MetricsText *t) {
        return &t->writer;
}

int metrics_text_error(const MetricsText *t) {
        return t->error;
}

size_t metrics_text_n_samples(const MetricsText *t) {
        return t->n_samples;
}

int metrics_text_render(const MetricsText *t, char **ret, size_t *ret_size) {
        Buffer b = {};
        int r = 0;

        for (size_t i = 0; r >= 0 && i < t->n_families; i++) {
                const MetricsFamily *f = &t->families[i];
                const char *type = ends_with(f->name, "_total") ? "counter" : "gauge";

                r = buffer_reserve(&b, 2 * strlen(f->name) + strlen(f->help) + f->samples.len + 32);
                if (r >= 0)
                        r = buffer_puts(&b, "# HELP ");
                if (r >= 0)
                        r = buffer_puts(&b, f->name);
                if (r >= 0)
                        r = buffer_puts(&b, " ");
                if (r >= 0)
                        r = buffer_puts(&b, f->help);
                if (r >= 0)
                        r = buffer_puts(&b, "\n# TYPE ");
                if (r >= 0)
                        r = buffer_puts(&b, f->name);
                if (r >= 0)
                        r = buffer_puts(&b, " ");
                if (r >= 0)
                        r = buffer_puts(&b, type);
                if (r >= 0)
                        r = buffer_puts(&b, "\n");
                if (r >= 0 && f->samples.len > 0)
                        r = buffer_append(&b, f->samples.data, f->samples.len);
        }
        if (r >= 0 && !b.data)
                r = buffer_reserve(&b, 0);
        if (r < 0) {
                free(b.data);
                return r;
        }
        if (ret_size)
                *ret_size = b.len;
        *ret = b.data;
        return 0;
}
