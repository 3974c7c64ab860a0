/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "cgroup.h"
#include "fileio.h"

#define MISC_FILE_MAX (64U * 1024U)

static const char * const quota_state_names[_QUOTA_STATE_MAX] = {
        [QUOTA_APPLIED] = "applied",
        [QUOTA_MISSING_CGROUP] = "missing-cgroup",
        [QUOTA_NO_CONTROLLER] = "no-misc-controller",
        [QUOTA_WRITE_FAILED] = "write-failed",
        [QUOTA_MISMATCH] = "mismatch",
};

const char *quota_state_to_string(QuotaState s) {
        return s >= 0 && s < _QUOTA_STATE_MAX ? quota_state_names[s] : NULL;
}

static int read_counts(const char *root, const char *name, bool *valid, uint64_t *sev, uint64_t *sev_es) {
        _cleanup_free_ char *path = path_join(root, name), *text = NULL;
        int r;

        *valid = false;
        if (!path)
                return -ENOMEM;
        r = read_full_file(path, MISC_FILE_MAX, &text, NULL);
        if (r < 0)
                return r == -ENOMEM ? r : 0;    /* unreadable: not valid, not fatal */
        r = misc_parse_counts(text, sev, sev_es);
        if (r < 0)
                return r;
        *valid = true;
        return 0;
}

int misc_read_root(const char *root, MiscCounts *ret) {
        MiscCounts m = {};
        int r, k;

        r = read_counts(root, "misc.capacity", &m.valid, &m.sev_capacity, &m.sev_es_capacity);
        k = read_counts(root, "misc.current", &m.current_valid, &m.sev_current, &m.sev_es_current);
        *ret = m;
        if (r == -ENOMEM || k == -ENOMEM)
                return -ENOMEM;
        return r < 0 ? r : k;
}

void quota_results_done(QuotaResults *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->items[i].cgroup);
                free(l->items[i].observed);
        }
        l->items = mfree(l->items);
        l->n = 0;
}

int cgroup_exists(const char *root, const char *cgroup) {
        _cleanup_free_ char *path = path_join(root, cgroup);
        struct stat st;

        if (!path)
                return -ENOMEM;
        if (stat(path, &st) < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
        return S_ISDIR(st.st_mode);
}

static int write_string(const char *path, const char *s) {
        _cleanup_close_ int fd = -EBADF;
        size_t n = strlen(s);
        ssize_t k;

        fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        k = write(fd, s, n);
        if (k < 0)
                return -errno;
        if ((size_t) k != n)
                return -EIO;
        return 0;
}

/* Finds "<resource> <value>" in misc.max text; *ret is the value string. */
static int find_value(const char *text, const char *resource, char **ret) {
        size_t rl = strlen(resource);

        for (const char *p = text; *p;) {
                const char *eol = strchrnul(p, '\n');

                if ((size_t) (eol - p) > rl && strneq(p, resource, rl) && p[rl] == ' ') {
                        *ret = strndup(p + rl + 1, eol - p - rl - 1);
                        if (!*ret)
                                return -ENOMEM;
                        strstrip_trailing(*ret);
                        return 1;
                }
                p = *eol ? eol + 1 : eol;
        }
        return 0;
}

static bool value_matches(const char *observed, uint64_t requested) {
        uint64_t v;

        if (requested == ASID_QUOTA_UNLIMITED)
                return streq(observed, "max");
        return safe_atou64(observed, 10, &v) >= 0 && v == requested;
}

static int apply_one(const char *root, const char *cgroup, const char *resource, uint64_t value, QuotaResult *res) {
        _cleanup_free_ char *dir = NULL, *path = NULL, *line = NULL, *text = NULL;
        int r;

        *res = (QuotaResult) { .resource = resource, .requested = value };
        res->cgroup = strdup(cgroup);
        if (!res->cgroup)
                return -ENOMEM;

        r = cgroup_exists(root, cgroup);
        if (r < 0 && r != -ENOMEM) {
                res->state = QUOTA_MISSING_CGROUP;
                res->error = -r;
                return 0;
        }
        if (r < 0)
                return r;
        if (r == 0) {
                res->state = QUOTA_MISSING_CGROUP;
                return 0;
        }

        dir = path_join(root, cgroup);
        path = dir ? path_join(dir, "misc.max") : NULL;
        if (!path)
                return -ENOMEM;
        if (access(path, F_OK) < 0) {
                res->state = QUOTA_NO_CONTROLLER;
                res->error = errno;
                return 0;
        }

        if (value == ASID_QUOTA_UNLIMITED)
                r = asprintf(&line, "%s max\n", resource);
        else
                r = asprintf(&line, "%s %" PRIu64 "\n", resource, value);
        if (r < 0)
                return -ENOMEM;
        r = write_string(path, line);
        if (r < 0) {
                res->state = QUOTA_WRITE_FAILED;
                res->error = -r;
        }

        /* Read back at once: misc.max shows every resource, we only look at ours. */
        r = read_full_file(path, MISC_FILE_MAX, &text, NULL);
        if (r == -ENOMEM)
                return r;
        if (r >= 0) {
                r = find_value(text, resource, &res->observed);
                if (r < 0)
                        return r;
        }
        if (!res->observed) {
                res->observed = strdup("");
                if (!res->observed)
                        return -ENOMEM;
        }
        if (res->state == QUOTA_APPLIED && !value_matches(res->observed, value))
                res->state = QUOTA_MISMATCH;
        return 0;
}

static int results_push(QuotaResults *l, QuotaResult *res) {
        QuotaResult *t = realloc(l->items, sizeof(QuotaResult) * (l->n + 1));

        if (!t)
                return -ENOMEM;
        l->items = t;
        l->items[l->n++] = *res;
        return 0;
}

int cgroup_apply_quota(const char *root, const AsidQuota *q, QuotaResults *results) {
        struct {
                bool set;
                const char *name;
                uint64_t value;
        } res[] = {
                { q->has_sev, "sev", q->sev },
                { q->has_sev_es, "sev_es", q->sev_es },
        };

        for (size_t i = 0; i < ELEMENTSOF(res); i++) {
                QuotaResult one = {};
                int r;

                if (!res[i].set)
                        continue;
                r = apply_one(root, q->cgroup, res[i].name, res[i].value, &one);
                if (r >= 0)
                        r = results_push(results, &one);
                if (r < 0) {
                        free(one.cgroup);
                        free(one.observed);
                        return r;
                }
        }
        return 0;
}
