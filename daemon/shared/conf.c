/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>

#include "conf.h"
#include "fileio.h"

Conf *conf_free(Conf *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n_entries; i++) {
                free(c->entries[i].section);
                free(c->entries[i].key);
                free(c->entries[i].value);
        }
        free(c->entries);
        free(c);
        return NULL;
}

static char *strip(char *s) {
        while (*s == ' ' || *s == '\t')
                s++;
        return strstrip_trailing(s);
}

static int add_entry(Conf *c, const char *section, const char *key, const char *value, unsigned line) {
        ConfEntry *t = realloc(c->entries, sizeof(ConfEntry) * (c->n_entries + 1));
        if (!t)
                return -ENOMEM;
        c->entries = t;
        t = &c->entries[c->n_entries];
        *t = (ConfEntry) {
                .section = strdup(section),
                .key = strdup(key),
                .value = strdup(value),
                .line = line,
        };
        c->n_entries++;
        if (!t->section || !t->key || !t->value)
                return -ENOMEM;
        return 0;
}

static int fail(char **ret_error, unsigned line, const char *what) {
        if (ret_error && asprintf(ret_error, "line %u: %s", line, what) < 0)
                *ret_error = NULL;
        return -EINVAL;
}

int conf_parse(const char *text, Conf **ret, char **ret_error) {
        _cleanup_(conf_freep) Conf *c = NULL;
        _cleanup_free_ char *copy = NULL, *section = NULL;
        unsigned line = 0;
        char *p, *next;
        int r;

        c = calloc(1, sizeof(Conf));
        copy = strdup(text);
        if (!c || !copy)
                return -ENOMEM;
        if (!utf8_is_valid(copy))
                return fail(ret_error, 1, "the file is not valid UTF-8");

        for (p = copy; p; p = next) {
                char *eq, *l;

                line++;
                next = strchr(p, '\n');
                if (next)
                        *next++ = '\0';
                l = strip(p);
                if (l[0] == '\0' || l[0] == '#' || l[0] == ';')
                        continue;

                if (l[0] == '[') {
                        size_t n = strlen(l);
                        if (n < 3 || l[n - 1] != ']')
                                return fail(ret_error, line, "a section header must look like [Name]");
                        l[n - 1] = '\0';
                        for (char *s = l + 1; *s; s++)
                                if (!isalnum((unsigned char) *s) && *s != '-' && *s != '_')
                                        return fail(ret_error, line, "section names may hold letters, digits, '-' and '_'");
                        r = free_and_strdup(&section, l + 1);
                        if (r < 0)
                                return r;
                        continue;
                }

                eq = strchr(l, '=');
                if (!eq)
                        return fail(ret_error, line, "expected Key=Value");
                if (!section)
                        return fail(ret_error, line, "a key outside any [Section]");
                *eq = '\0';
                l = strip(l);
                if (l[0] == '\0')
                        return fail(ret_error, line, "empty key");
                r = add_entry(c, section, l, strip(eq + 1), line);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(c);
        return 0;
}

int conf_load(const char *path, Conf **ret, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        int r;

        size_t size;

        r = read_full_file(path, 1024 * 1024, &text, &size);
        if (r == -ENOENT)
                return conf_parse("", ret, ret_error);
        if (r < 0) {
                if (ret_error && asprintf(ret_error, "cannot read %s: %s", path, file_error_to_string(r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        if (strlen(text) != size)
                return fail(ret_error, 1, "the file contains a NUL byte");
        return conf_parse(text, ret, ret_error);
}

const char *conf_get(const Conf *c, const char *section, const char *key) {
        const char *v = NULL;

        for (size_t i = 0; c && i < c->n_entries; i++)
                if (strcasecmp(c->entries[i].section, section) == 0 && strcasecmp(c->entries[i].key, key) == 0)
                        v = c->entries[i].value;
        return v;
}

int conf_get_all(const Conf *c, const char *section, const char *key, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; c && i < c->n_entries; i++)
                if (strcasecmp(c->entries[i].section, section) == 0 &&
                    strcasecmp(c->entries[i].key, key) == 0 && strv_extend(&l, c->entries[i].value) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}
