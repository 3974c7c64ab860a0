/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <dirent.h>
#include <sys/stat.h>

#include "check-facts.h"
#include "fileio.h"
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

int check_facts_parse_cpuinfo(const char *text, Tri *sme, Tri *sev, Tri *sev_es, Tri *sev_snp) {
        _cleanup_free_ char *flags = NULL;
        const char *p;

        for (p = text; p && *p; ) {
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

Tri check_facts_read_bool_param(const char *dir, const char *name) {
        _cleanup_free_ char *p = path_join(dir, name), *v = NULL;
        int r;

        if (!p || read_one_line_file(p, &v) < 0)
                return TRI_UNKNOWN;
        r = parse_boolean(strstrip_trailing(v));
        if (r < 0) {
                log_warning("%s has an unexpected value \"%.32s\", treating it as unknown.", p, v);
                return TRI_UNKNOWN;
        }
        return tri_from_bool(r);
}

static int64_t read_uint_param(const char *dir, const char *name) {
        _cleanup_free_ char *p = path_join(dir, name), *v = NULL;
        uint32_t x;

        if (!p || read_one_line_file(p, &v) < 0)
                return -1;
        if (safe_atou32(strstrip_trailing(v), 10, &x) < 0) {
                log_warning("%s has an unexpected value \"%.32s\", treating it as unknown.", p, v);
                return -1;
        }
        return x;
}

int check_facts_count_iommu_groups(const char *dir, int *ret_total, int *ret_identity, int *ret_dma) {
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

static Tri char_dev_exists(const char *path) {
        struct stat st;

        if (stat(path, &st) < 0)
                return errno == ENOENT ? TRI_NO : TRI_UNKNOWN;
        return tri_from_bool(S_ISCHR(st.st_mode));
}

static int gather_cpuinfo(CheckFacts *f) {
        _cleanup_free_ char *text = NULL;
        int r;

        f->flag_sme = f->flag_sev = f->flag_sev_es = f->flag_sev_snp = TRI_UNKNOWN;
        f->cpuinfo_path = path_join(paths_proc_dir(), "cpuinfo");
        if (!f->cpuinfo_path)
                return -ENOMEM;
        r = read_full_file(f->cpuinfo_path, CPUINFO_MAX, &text, NULL);
        if (r >= 0)
                r = check_facts_parse_cpuinfo(text, &f->flag_sme, &f->flag_sev, &f->flag_sev_es, &f->flag_sev_snp);
        if (r == -ENOMEM)
                return r;
        f->cpuinfo_error = r < 0 ? r : 0;
        return 0;
}

static int gather_kvm(CheckFacts *f) {
        _cleanup_free_ char *mod = NULL;
        struct stat st;

        mod = path_join(paths_sysfs_dir(), "module/kvm_amd");
        f->kvm_params_dir = path_join(paths_sysfs_dir(), "module/kvm_amd/parameters");
        if (!mod || !f->kvm_params_dir)
                return -ENOMEM;

        if (stat(mod, &st) >= 0)
                f->kvm_amd_loaded = TRI_YES;
        else
                f->kvm_amd_loaded = errno == ENOENT ? TRI_NO : TRI_UNKNOWN;

        f->kvm_sev = check_facts_read_bool_param(f->kvm_params_dir, "sev");
        f->kvm_sev_es = check_facts_read_bool_param(f->kvm_params_dir, "sev_es");
        f->kvm_sev_snp = check_facts_read_bool_param(f->kvm_params_dir, "sev_snp");
        f->kvm_cth_asids = read_uint_param(f->kvm_params_dir, "ciphertext_hiding_asids");
        return 0;
}

static int gather_iommu(CheckFacts *f) {
        int r;

        f->cmdline_path = path_join(paths_proc_dir(), "cmdline");
        f->iommu_groups_dir = path_join(paths_sysfs_dir(), "kernel/iommu_groups");
        if (!f->cmdline_path || !f->iommu_groups_dir)
                return -ENOMEM;

        r = read_full_file(f->cmdline_path, CMDLINE_MAX, &f->cmdline, NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                f->cmdline = NULL;
        /* The command line ends up in evidence on the bus, where strings must be UTF-8. */
        if (f->cmdline && !utf8_is_valid(f->cmdline))
                for (unsigned char *c = (unsigned char *) f->cmdline; *c; c++)
                        if (*c >= 0x80)
                                *c = '?';
        if (f->cmdline)
                strstrip_trailing(f->cmdline);

        r = check_facts_count_iommu_groups(f->iommu_groups_dir, &f->iommu_groups,
                                           &f->iommu_identity_groups, &f->iommu_dma_groups);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                f->iommu_groups = -1;
        return 0;
}

int check_facts_gather(CheckFacts *f) {
        int r;

        f->cpuid_source = paths_cpuid_source();
        f->cpuid_error = cpuid_identity(&f->cpu);
        f->mem_encrypt_error = cpuid_mem_encrypt(&f->me);
        if (f->mem_encrypt_error == 0)
                (void) cpuid_read(UINT32_C(0x8000001f), 0, &f->me_regs);

        r = gather_cpuinfo(f);
        if (r < 0)
                return r;
        r = gather_kvm(f);
        if (r < 0)
                return r;
        r = gather_iommu(f);
        if (r < 0)
                return r;

        f->dev_sev_path = path_join(paths_dev_dir(), "sev");
        f->dev_sfs_path = path_join(paths_dev_dir(), "sfs");
        if (!f->dev_sev_path || !f->dev_sfs_path)
                return -ENOMEM;
        f->dev_sev_exists = char_dev_exists(f->dev_sev_path);
        f->sfs_present = char_dev_exists(f->dev_sfs_path);
        return 0;
}

int check_facts_set_psp(CheckFacts *f, bool pci_present, const char *address, const char *driver,
                        int dev_sev_open_error, bool status_queried, const SevPlatform *platform) {
        f->psp_pci_present = pci_present;
        if (free_and_strdup(&f->psp_address, address) < 0 || free_and_strdup(&f->psp_driver, driver) < 0)
                return -ENOMEM;
        f->dev_sev_open_error = dev_sev_open_error;
        f->status_queried = status_queried;
        if (platform)
                f->platform = *platform;
        return 0;
}
