/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "check-facts.h"
#include "fileio.h"
#include "paths.h"

static int dup_str(char **dst, const char *src) {
        return free_and_strdup(dst, src);
}

static int build_host(CheckFacts *f, const HostFacts *h) {
        const HostKvm *k = &h->kvm;

        f->cpuid_source = h->cpu.cpuid_source;
        f->cpuid_error = h->cpu.identity_error;
        f->cpu = h->cpu.identity;
        f->mem_encrypt_error = h->cpu.mem_encrypt_error;
        f->me = h->cpu.me;
        f->me_regs = h->cpu.me_regs;
        f->cpuinfo_error = h->cpu.cpuinfo_error;
        f->flag_sme = h->cpu.flag_sme;
        f->flag_sev = h->cpu.flag_sev;
        f->flag_sev_es = h->cpu.flag_sev_es;
        f->flag_sev_snp = h->cpu.flag_sev_snp;

        f->kvm_amd_loaded = k->loaded_error ? TRI_UNKNOWN : k->loaded ? TRI_YES : TRI_NO;
        f->kvm_sev = kvm_bool_tri(&k->sev);
        f->kvm_sev_es = kvm_bool_tri(&k->sev_es);
        f->kvm_sev_snp = kvm_bool_tri(&k->sev_snp);
        f->kvm_cth_asids = k->cth_error ? -1 : (int64_t) k->cth;

        f->iommu_groups = h->iommu.groups;
        f->iommu_identity_groups = h->iommu.identity_groups;
        f->iommu_dma_groups = h->iommu.dma_groups;

        if (dup_str(&f->cpuinfo_path, h->cpu.cpuinfo_path) < 0 || dup_str(&f->kvm_params_dir, k->params_dir) < 0 ||
            dup_str(&f->cmdline_path, h->cmdline.path) < 0 || dup_str(&f->cmdline, h->cmdline.raw) < 0 ||
            dup_str(&f->iommu_groups_dir, h->iommu.groups_dir) < 0)
                return -ENOMEM;
        return 0;
}

static int build_psp(CheckFacts *f, const PspSnapshot *psp) {
        static const PspSnapshot absent = {};

        if (!psp)
                psp = &absent;
        f->psp_pci_present = psp->pci_present;
        if (dup_str(&f->psp_address, psp->pci_present ? psp->pci_address : NULL) < 0 ||
            dup_str(&f->psp_driver, psp->pci_present && psp->driver[0] ? psp->driver : NULL) < 0)
                return -ENOMEM;
        f->dev_sev_open_error = psp->platform.open_error;
        f->status_queried = psp->status_queried;
        f->platform = psp->platform;
        /* the PSP area's view of the nodes (udev, and our node is that device) */
        f->dev_sev_exists = psp->dev_sev ? TRI_YES : TRI_NO;
        f->sfs_present = psp->dev_sfs ? TRI_YES : TRI_NO;

        f->dev_sev_path = path_join(paths_dev_dir(), "sev");
        f->dev_sfs_path = path_join(paths_dev_dir(), "sfs");
        if (!f->dev_sev_path || !f->dev_sfs_path)
                return -ENOMEM;
        return 0;
}

int check_facts_build(CheckFacts *f, const HostFacts *h, const PspSnapshot *psp) {
        int r;

        r = build_host(f, h);
        if (r < 0)
                return r;
        if (psp)
                f->last_commit_usec = psp->last_commit_usec;
        return build_psp(f, psp);
}
