/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* hwsecd.conf: an INI file. "[Section]" headers, "Key=Value" lines, '#' or ';' comments, keys may
 * repeat (conf_get_all returns every value in order). docs/configuration.md lists the keys. */

#include "macro.h"

typedef struct ConfEntry {
        char *section;
        char *key;
        char *value;
        unsigned line;
} ConfEntry;

typedef struct Conf {
        ConfEntry *entries;
        size_t n_entries;
} Conf;

Conf *conf_free(Conf *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Conf *, conf_free);

/* On a syntax error returns -EINVAL and sets *ret_error to "line N: what is wrong". */
int conf_parse(const char *text, Conf **ret, char **ret_error);
/* A missing file is an empty configuration. */
int conf_load(const char *path, Conf **ret, char **ret_error);

/* The last value of section.key, or NULL. */
const char *conf_get(const Conf *c, const char *section, const char *key);
/* Every value of section.key, in file order; NULL-terminated list, possibly empty. */
int conf_get_all(const Conf *c, const char *section, const char *key, char ***ret);
