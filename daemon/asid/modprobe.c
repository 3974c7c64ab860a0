/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <dirent.h>
#include <inttypes.h>

#include "fileio.h"
#include "modprobe.h"

#define MODPROBE_FILE_MAX (1024U * 1024U)

int modprobe_render(uint32_t cth_asids, char **ret) {
        if (asprintf(ret,
                     "# Written by hwsecd (org.hwsecd1.Asid.SetPolicy). Do not edit: hwsecd rewrites it.\n"
                     "# kvm_amd reads this only when it is loaded: it takes effect at the next\n"
                     "# reboot or kvm_amd reload. 0 turns SEV-SNP ciphertext hiding off.\n"
                     "options kvm_amd " ASID_CTH_PARAM "=%" PRIu32 "\n", cth_asids) < 0)
                return -ENOMEM;
        return 0;
}

int modprobe_write(const char *dir, uint32_t cth_asids) {
        _cleanup_free_ char *text = NULL, *path = NULL;
        int r;

        r = modprobe_render(cth_asids, &text);
        if (r < 0)
                return r;
        path = path_join(dir, ASID_MODPROBE_FILE);
        if (!path)
                return -ENOMEM;
        return write_file_atomic(path, text, strlen(text), 0644);
}

int modprobe_remove(const char *dir) {
        _cleanup_free_ char *path = path_join(dir, ASID_MODPROBE_FILE);

        if (!path)
                return -ENOMEM;
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

void asid_conflicts_done(AsidConflicts *c) {
        for (size_t i = 0; i < c->n; i++) {
                free(c->items[i].source);
                free(c->items[i].value);
        }
        c->items = mfree(c->items);
        c->n = 0;
}

static int conflicts_add(AsidConflicts *c, const char *source, const char *value, size_t value_len) {
        AsidConflict *t;
        char *s, *v;

        s = strdup(source);
        v = strndup(value, value_len);
        t = s && v ? realloc(c->items, sizeof(AsidConflict) * (c->n + 1)) : NULL;
        if (!t) {
                free(s);
                free(v);
                return -ENOMEM;
        }
        c->items = t;
        c->items[c->n++] = (AsidConflict) { .source = s, .value = v };
        return 0;
}

/* Module and parameter names: the kernel and kmod treat '-' and '_' alike. */
static bool name_eq(const char *a, size_t alen, const char *b) {
        size_t blen = strlen(b);

        if (alen != blen)
                return false;
        for (size_t i = 0; i < alen; i++) {
                char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];
                if (x != y)
                        return false;
        }
        return true;
}

/* Splits "name=value" (value may be quoted) and records it when name is ours. */
static int check_param(const char *word, size_t len, const char *source, AsidConflicts *c) {
        const char *eq = memchr(word, '=', len);
        const char *val;
        size_t vlen;

        if (!eq || !name_eq(word, eq - word, ASID_CTH_PARAM))
                return 0;
        val = eq + 1;
        vlen = len - (val - word);
        if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') {
                val++;
                vlen -= 2;
        }
        return conflicts_add(c, source, val, vlen);
}

static const char *next_word(const char *p, size_t *len) {
        bool quoted = false;
        const char *s;

        while (*p == ' ' || *p == '\t' || *p == '\n')
                p++;
        s = p;
        for (; *p; p++) {
                if (*p == '"')
                        quoted = !quoted;
                else if (!quoted && (*p == ' ' || *p == '\t' || *p == '\n'))
                        break;
        }
        *len = p - s;
        return s;
}

static int scan_options_line(const char *line, const char *source, AsidConflicts *c) {
        const char *p = line, *w;
        size_t len;
        int r;

        w = next_word(p, &len);
        if (!name_eq(w, len, "options"))
                return 0;
        p = w + len;
        w = next_word(p, &len);
        if (!name_eq(w, len, "kvm_amd"))
                return 0;
        p = w + len;
        for (;;) {
                w = next_word(p, &len);
                if (len == 0)
                        return 0;
                r = check_param(w, len, source, c);
                if (r < 0)
                        return r;
                p = w + len;
        }
}

int modprobe_scan_text(const char *text, const char *label, AsidConflicts *c) {
        const char *p = text;
        unsigned lineno = 0;

        while (*p) {
                _cleanup_free_ char *line = NULL, *source = NULL;
                unsigned first = lineno + 1;
                size_t n = 0;

                /* Join backslash-continued lines. */
                for (;;) {
                        const char *eol = strchrnul(p, '\n');
                        size_t l = eol - p;
                        bool cont = l > 0 && p[l - 1] == '\\';
                        char *t = realloc(line, n + l + 2);

                        if (!t)
                                return -ENOMEM;
                        line = t;
                        memcpy(line + n, p, cont ? l - 1 : l);
                        n += cont ? l - 1 : l;
                        line[n++] = ' ';
                        line[n] = '\0';
                        lineno++;
                        p = *eol ? eol + 1 : eol;
                        if (!cont || !*p)
                                break;
                }
                for (char *h = line; *h; h++)
                        if (*h == '#') {
                                *h = '\0';
                                break;
                        }
                if (asprintf(&source, "%s:%u", label, first) < 0)
                        return -ENOMEM;
                int r = scan_options_line(line, source, c);
                if (r < 0)
                        return r;
        }
        return 0;
}

int cmdline_scan_text(const char *text, const char *label, AsidConflicts *c) {
        const char *p = text, *w;
        size_t len;
        int r;

        for (;;) {
                const char *dot;

                w = next_word(p, &len);
                if (len == 0)
                        return 0;
                p = w + len;
                if (len == 2 && strneq(w, "--", 2))
                        return 0;       /* the rest goes to init */
                dot = memchr(w, '.', len);
                if (!dot || !name_eq(w, dot - w, "kvm_amd"))
                        continue;
                r = check_param(dot + 1, len - (dot + 1 - w), label, c);
                if (r < 0)
                        return r;
        }
}

int modprobe_read_ours(const char *dir, uint32_t *ret) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        AsidConflicts found = {};
        uint32_t v;
        int r;

        path = path_join(dir, ASID_MODPROBE_FILE);
        if (!path)
                return -ENOMEM;
        r = read_full_file(path, MODPROBE_FILE_MAX, &text, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = modprobe_scan_text(text, path, &found);
        if (r < 0)
                return r;
        if (found.n != 1)
                r = -EBADMSG;
        else if (safe_atou32(found.items[0].value, 10, &v) < 0)
                r = -EBADMSG;
        else {
                *ret = v;
                r = 1;
        }
        asid_conflicts_done(&found);
        return r;
}

static bool is_conf(const char *name) {
        size_t n = strlen(name);
        return n > 5 && streq(name + n - 5, ".conf") && name[0] != '.';
}

static int scan_dir(const char *dir, AsidConflicts *c) {
        struct dirent **list = NULL;
        int n, r = 0;

        n = scandir(dir, &list, NULL, alphasort);
        if (n < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *path = NULL, *text = NULL;

                if (r >= 0 && is_conf(list[i]->d_name) && !streq(list[i]->d_name, ASID_MODPROBE_FILE)) {
                        path = path_join(dir, list[i]->d_name);
                        if (!path)
                                r = -ENOMEM;
                        else if (read_full_file(path, MODPROBE_FILE_MAX, &text, NULL) >= 0)
                                r = modprobe_scan_text(text, path, c);
                }
                free(list[i]);
        }
        free(list);
        return r;
}

int asid_conflicts_find(const char *modprobe_dir, const char *cmdline, const char *cmdline_label, AsidConflicts *ret) {
        AsidConflicts c = {};
        int r;

        r = scan_dir(modprobe_dir, &c);
        if (r < 0)
                goto fail;
        if (cmdline) {
                r = cmdline_scan_text(cmdline, cmdline_label, &c);
                if (r < 0)
                        goto fail;
        }
        *ret = c;
        return 0;
fail:
        asid_conflicts_done(&c);
        return r;
}
