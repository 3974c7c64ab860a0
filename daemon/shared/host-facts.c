/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <dirent.h>
#include <sys/stat.h>

#include "fileio.h"
#include "host-facts.h"
#include "log.h"
#include "paths.h"

#define CPUINFO_MAX (16U * 1024U * 1024U)
#define CMDLINE_MAX (64U * 1024U)

static inline void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

static Tri tri_from_bool(bool b) {
        return b ? TRI_YES : TRI_NO;
}

Tri kvm_bool_tri(const KvmBool *b) {
        return b->error != 0 ? TRI_UNKNOWN : tri_from_bool(b->value);
}

/* ---- CPU ---- */

static bool token_in(const char *list, const char *word) {
        size_t n = strlen(word);

        for (const char *p = list; (p = strstr(p, word)); p += n) {
                bool start = p == list || p[-1] == ' ' || p[-1] == '\t';
                bool end = p[n] == '\0' || p[n] == ' ' || p[n] == '\t' || p[n] == '\n';

                if (start && end)
                        return true;
        }
        return false;
}

int host_facts_parse_cpuinfo(const char *text, Tri *sme, Tri *sev, Tri *sev_es, Tri *sev_snp) {
        _cleanup_free_ char *flags = NULL;

        for (const char *p = text; p && *p; ) {
                size_t len = strcspn(p, "\n");

                if (strneq(p, "flags", 5)) {
                        const char *colon = memchr(p, ':', len);

                        if (colon) {
                                flags = strndup(colon + 1, len - (size_t) (colon + 1 - p));
                                if (!flags)
                                        return -ENOMEM;
                                break;
                        }
                }
                p += len + (p[len] == '\n');
        }
        if (!flags)
                return -EBADMSG;

        *sme = tri_from_bool(token_in(flags, "sme"));
        *sev = tri_from_bool(token_in(flags, "sev"));
        *sev_es = tri_from_bool(token_in(flags, "sev_es"));
        *sev_snp = tri_from_bool(token_in(flags, "sev_snp"));
        return 0;
}

static int read_cpu(HostCpu *c) {
        _cleanup_free_ char *text = NULL;
        int r;

        c->cpuid_source = paths_cpuid_source();
        c->identity_error = cpuid_identity(&c->identity);
        c->mem_encrypt_error = cpuid_mem_encrypt(&c->me);
        if (c->mem_encrypt_error < 0)
                c->me = (CpuidMemEncrypt) {};
        else
                (void) cpuid_read(UINT32_C(0x8000001f), 0, &c->me_regs);

        c->flag_sme = c->flag_sev = c->flag_sev_es = c->flag_sev_snp = TRI_UNKNOWN;
        if (!c->cpuinfo_path) {
                c->cpuinfo_path = path_join(paths_proc_dir(), "cpuinfo");
                if (!c->cpuinfo_path)
                        return -ENOMEM;
        }
        r = read_full_file(c->cpuinfo_path, CPUINFO_MAX, &text, NULL);
        if (r >= 0)
                r = host_facts_parse_cpuinfo(text, &c->flag_sme, &c->flag_sev, &c->flag_sev_es, &c->flag_sev_snp);
        if (r == -ENOMEM)
                return r;
        c->cpuinfo_error = r < 0 ? r : 0;
        return 0;
}

/* ---- kvm_amd ---- */

static void set_raw(char *dst, size_t size, const char *v) {
        snprintf(dst, size, "%s", v);
}

void host_facts_read_kvm_bool(const char *dir, const char *name, KvmBool *ret) {
        _cleanup_free_ char *p = path_join(dir, name), *v = NULL;
        int r;

        *ret = (KvmBool) {};
        if (!p) {
                ret->error = -ENOMEM;
                return;
        }
        r = read_one_line_file(p, &v);
        if (r < 0) {
                ret->error = r;
                return;
        }
        set_raw(ret->raw, sizeof ret->raw, strstrip_trailing(v));
        r = parse_boolean(v);
        if (r < 0)
                ret->error = -EBADMSG;
        else
                ret->value = r;
}

static int read_kvm_cth(HostKvm *k) {
        _cleanup_free_ char *p = path_join(k->params_dir, "ciphertext_hiding_asids"), *v = NULL;
        int r;

        k->cth = 0;
        k->cth_raw[0] = '\0';
        if (!p)
                return -ENOMEM;
        r = read_one_line_file(p, &v);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                k->cth_error = r;
                return 0;
        }
        set_raw(k->cth_raw, sizeof k->cth_raw, strstrip_trailing(v));
        k->cth_error = safe_atou32(v, 10, &k->cth) < 0 ? -EBADMSG : 0;
        if (k->cth_error)
                k->cth = 0;
        return 0;
}

static int read_kvm(HostKvm *k) {
        struct stat st;
        int r;

        if (!k->params_dir) {
                k->params_dir = path_join(paths_sysfs_dir(), "module/kvm_amd/parameters");
                if (!k->params_dir)
                        return -ENOMEM;
        }
        k->loaded_error = 0;
        if (stat(k->params_dir, &st) >= 0)
                k->loaded = S_ISDIR(st.st_mode);
        else {
                k->loaded = false;
                if (errno != ENOENT)
                        k->loaded_error = -errno;
        }
        host_facts_read_kvm_bool(k->params_dir, "sev", &k->sev);
        host_facts_read_kvm_bool(k->params_dir, "sev_es", &k->sev_es);
        host_facts_read_kvm_bool(k->params_dir, "sev_snp", &k->sev_snp);
        if (k->sev.error == -ENOMEM || k->sev_es.error == -ENOMEM || k->sev_snp.error == -ENOMEM)
                return -ENOMEM;
        r = read_kvm_cth(k);
        return r;
}

char *host_facts_kvm_signature(const HostFacts *f) {
        const HostKvm *k = &f->kvm;
        const KvmBool *b[] = { &k->sev, &k->sev_es, &k->sev_snp };
        const char *names[] = { "sev", "sev_es", "sev_snp" };
        char *sig;

        if (!k->loaded)
                return strdup(k->loaded_error ? "unknown" : "absent");
        sig = strdup("loaded");
        for (size_t i = 0; sig && i < ELEMENTSOF(b); i++) {
                char *n = NULL;

                if (asprintf(&n, "%s %s=%s", sig, names[i], b[i]->error == -EBADMSG || b[i]->error == 0 ? b[i]->raw : "?") < 0)
                        n = NULL;
                free(sig);
                sig = n;
        }
        if (sig) {
                char *n = NULL;

                if (asprintf(&n, "%s ciphertext_hiding_asids=%s", sig, k->cth_error == 0 || k->cth_error == -EBADMSG ?
                             k->cth_raw : "?") < 0)
                        n = NULL;
                free(sig);
                sig = n;
        }
        return sig;
}

/* ---- IOMMU ---- */

int host_facts_count_iommu_groups(const char *dir, int *ret_total, int *ret_identity, int *ret_dma) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int total = 0, identity = 0, dma = 0;

        d = opendir(dir);
        if (!d) {
                if (errno != ENOENT)
                        return -errno;
                *ret_total = *ret_identity = *ret_dma = 0;
                return 0;
        }
        while ((de = readdir(d))) {
                _cleanup_free_ char *sub = NULL, *type = NULL;
                uint32_t n;

                if (safe_atou32(de->d_name, 10, &n) < 0)
                        continue;       /* ".", "..", and anything that is not a group id */
                total++;
                if (asprintf(&sub, "%s/%s/type", dir, de->d_name) < 0)
                        return -ENOMEM;
                if (read_one_line_file(sub, &type) < 0)
                        continue;       /* kernels before 5.11 have no type file */
                strstrip_trailing(type);
                if (streq(type, "identity"))
                        identity++;
                else if (streq(type, "DMA") || streq(type, "DMA-FQ") || streq(type, "unmanaged") ||
                         streq(type, "blocked"))
                        dma++;
        }
        *ret_total = total;
        *ret_identity = identity;
        *ret_dma = dma;
        return 0;
}

static int read_iommu(HostIommu *i) {
        int r;

        if (!i->groups_dir) {
                i->groups_dir = path_join(paths_sysfs_dir(), "kernel/iommu_groups");
                if (!i->groups_dir)
                        return -ENOMEM;
        }
        r = host_facts_count_iommu_groups(i->groups_dir, &i->groups, &i->identity_groups, &i->dma_groups);
        if (r == -ENOMEM)
                return r;
        i->error = r < 0 ? r : 0;
        if (r < 0)
                i->groups = i->identity_groups = i->dma_groups = -1;
        return 0;
}

/* ---- /proc/cmdline ---- */

static int split_tokens(const char *s, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));

        if (!l)
                return -ENOMEM;
        for (const char *p = s; *p; ) {
                size_t n;

                p += strspn(p, " \t\n");
                n = strcspn(p, " \t\n");
                if (n == 0)
                        break;
                {
                        _cleanup_free_ char *t = strndup(p, n);
                        if (!t || strv_extend(&l, t) < 0)
                                return -ENOMEM;
                }
                p += n;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int read_cmdline(HostCmdline *c) {
        _cleanup_free_ char *raw = NULL;
        char **tokens = NULL;
        int r;

        if (!c->path) {
                c->path = path_join(paths_proc_dir(), "cmdline");
                if (!c->path)
                        return -ENOMEM;
        }
        r = read_full_file(c->path, CMDLINE_MAX, &raw, NULL);
        if (r == -ENOMEM)
                return r;
        c->error = r < 0 ? r : 0;
        c->raw = mfree(c->raw);
        c->tokens = (strv_free(c->tokens), NULL);
        if (r < 0)
                return 0;
        /* The command line ends up in evidence on the bus, where strings must be UTF-8. */
        if (!utf8_is_valid(raw))
                for (unsigned char *p = (unsigned char *) raw; *p; p++)
                        if (*p >= 0x80)
                                *p = '?';
        strstrip_trailing(raw);
        r = split_tokens(raw, &tokens);
        if (r < 0)
                return r;
        c->raw = TAKE_PTR(raw);
        c->tokens = tokens;
        return 0;
}

/* ---- problems and change detection ---- */

static int add_problem(char ***l, const char *dir, const char *name, const char *raw, const char *type) {
        _cleanup_free_ char *s = NULL;

        if (asprintf(&s, "%s/%s says \"%s\", which is not %s.", dir, name, raw, type) < 0)
                return -ENOMEM;
        return strv_extend(l, s) < 0 ? -ENOMEM : 0;
}

static int collect_problems(HostFacts *f) {
        const HostKvm *k = &f->kvm;
        const struct { const char *name; const KvmBool *b; } bools[] = {
                { "sev", &k->sev }, { "sev_es", &k->sev_es }, { "sev_snp", &k->sev_snp },
        };
        _cleanup_strv_free_ char **l = NULL;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(bools); i++)
                if (bools[i].b->error == -EBADMSG) {
                        r = add_problem(&l, k->params_dir, bools[i].name, bools[i].b->raw, "a boolean");
                        if (r < 0)
                                return r;
                }
        if (k->cth_error == -EBADMSG) {
                r = add_problem(&l, k->params_dir, "ciphertext_hiding_asids", k->cth_raw, "a number");
                if (r < 0)
                        return r;
        }
        /* said when it becomes so, not on every read */
        STRV_FOREACH(p, l)
                if (!strv_contains(f->problems, *p))
                        log_warning("%s Treating it as unknown.", *p);
        strv_free(f->problems);
        f->problems = TAKE_PTR(l);
        return 0;
}

static char *part_signature(const HostFacts *f, HostFactsPart part) {
        char *s = NULL;

        switch (part) {
        case HOST_FACTS_KVM:
                return host_facts_kvm_signature(f);
        case HOST_FACTS_IOMMU:
                if (asprintf(&s, "%d %d %d %d", f->iommu.error, f->iommu.groups, f->iommu.identity_groups,
                             f->iommu.dma_groups) < 0)
                        return NULL;
                return s;
        case HOST_FACTS_CMDLINE:
                if (asprintf(&s, "%d %s", f->cmdline.error, strempty(f->cmdline.raw)) < 0)
                        return NULL;
                return s;
        default:
                return strdup("");      /* CPU: read once, any read is a change */
        }
}

static int read_part(HostFacts *f, HostFactsPart part) {
        switch (part) {
        case HOST_FACTS_CPU:
                return read_cpu(&f->cpu);
        case HOST_FACTS_KVM:
                return read_kvm(&f->kvm);
        case HOST_FACTS_IOMMU:
                return read_iommu(&f->iommu);
        case HOST_FACTS_CMDLINE:
                return read_cmdline(&f->cmdline);
        default:
                return -EINVAL;
        }
}

int host_facts_read(HostFacts *f, HostFactsPart parts, HostFactsPart *ret_changed) {
        HostFactsPart changed = 0;
        int r;

        for (HostFactsPart part = 1; part & HOST_FACTS_ALL; part <<= 1) {
                _cleanup_free_ char *before = NULL, *after = NULL;

                if (!(parts & part))
                        continue;
                before = part_signature(f, part);
                r = read_part(f, part);
                if (r < 0)
                        return r;
                after = part_signature(f, part);
                if (!before || !after)
                        return -ENOMEM;
                if (!(f->valid & part) || part == HOST_FACTS_CPU || !streq(before, after))
                        changed |= part;
                f->valid |= part;
        }
        if (parts & HOST_FACTS_KVM) {
                r = collect_problems(f);
                if (r < 0)
                        return r;
        }
        if (ret_changed)
                *ret_changed = changed;
        return 0;
}

void host_facts_done(HostFacts *f) {
        free(f->cpu.cpuinfo_path);
        free(f->kvm.params_dir);
        free(f->iommu.groups_dir);
        free(f->cmdline.path);
        free(f->cmdline.raw);
        strv_free(f->cmdline.tokens);
        strv_free(f->problems);
        *f = (HostFacts) {};
}
