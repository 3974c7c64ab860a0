/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host facts on a temp host tree: each part read once with its meaning, the one error rule
 * (unreadable or unparsable is unknown, with a problem sentence for what does not parse), and the
 * change mask that decides which parts the daemon announces. */

#include <sys/stat.h>

#include "fileio.h"
#include "host-facts.h"
#include "paths.h"

static unsigned failures;
#define CHECK(expr) do { if (!(expr)) { fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #expr); failures++; } } while (0)

static char root[] = "/tmp/test-host-facts-XXXXXX";

static void put(const char *rel, const char *text) {
        _cleanup_free_ char *p = path_join(root, rel), *dir = NULL;

        dir = strdup(p);
        *strrchr(dir, '/') = '\0';
        CHECK(mkdir_p(dir, 0755) >= 0);
        CHECK(write_file_atomic(p, text, strlen(text), 0644) == 0);
}

static void use_root(const char *sys, const char *proc) {
        _cleanup_free_ char *s = path_join(root, sys), *p = path_join(root, proc),
                            *cpuid = path_join(TEST_FIXTURES "/psp", "cpuid-genoa.txt");

        setenv("HWSECD_SYSFS_DIR", s, 1);
        setenv("HWSECD_PROC_DIR", p, 1);
        setenv("HWSECD_CPUID", cpuid, 1);
        paths_reset();
}

static void test_read_all(void) {
        HostFacts f = {};
        HostFactsPart changed = 0;

        put("proc/cpuinfo", "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sme sev sev_es\n\nprocessor\t: 1\nflags\t\t: fpu\n");
        put("proc/cmdline", "root=/dev/vda1  iommu=pt \xff\n");
        put("sys/module/kvm_amd/parameters/sev", "Y\n");
        put("sys/module/kvm_amd/parameters/sev_es", "N\n");
        put("sys/module/kvm_amd/parameters/sev_snp", "banana\n");
        put("sys/module/kvm_amd/parameters/ciphertext_hiding_asids", "99\n");
        put("sys/kernel/iommu_groups/0/type", "identity\n");
        put("sys/kernel/iommu_groups/1/type", "DMA-FQ\n");
        put("sys/kernel/iommu_groups/12/reserved_regions", "");
        use_root("sys", "proc");

        CHECK(host_facts_read(&f, HOST_FACTS_ALL, &changed) == 0);
        CHECK(changed == HOST_FACTS_ALL);       /* a first read is a change */
        CHECK(f.valid == HOST_FACTS_ALL);
        CHECK(f.cpu.identity_error == 0 && f.cpu.identity.family == 0x19);
        CHECK(f.cpu.mem_encrypt_error == 0 && f.cpu.me_regs.eax == 0x0101fd3f && f.cpu.me.sev_snp);
        CHECK(f.cpu.cpuinfo_error == 0);
        CHECK(f.cpu.flag_sme == TRI_YES && f.cpu.flag_sev == TRI_YES && f.cpu.flag_sev_es == TRI_YES &&
              f.cpu.flag_sev_snp == TRI_NO);

        CHECK(f.kvm.loaded && f.kvm.loaded_error == 0);
        CHECK(f.kvm.sev.error == 0 && f.kvm.sev.value);
        CHECK(f.kvm.sev_es.error == 0 && !f.kvm.sev_es.value);
        /* the error rule: not a boolean is unknown, with what it says and one problem sentence */
        CHECK(f.kvm.sev_snp.error == -EBADMSG && streq(f.kvm.sev_snp.raw, "banana"));
        CHECK(kvm_bool_tri(&f.kvm.sev_snp) == TRI_UNKNOWN && kvm_bool_tri(&f.kvm.sev) == TRI_YES);
        CHECK(strv_length(f.problems) == 1 && strstr(f.problems[0], "sev_snp says \"banana\", which is not a boolean"));
        CHECK(f.kvm.cth_error == 0 && f.kvm.cth == 99);

        CHECK(f.iommu.error == 0 && f.iommu.groups == 3 && f.iommu.identity_groups == 1 && f.iommu.dma_groups == 1);

        /* invalid UTF-8 becomes '?', trailing blanks go, tokens split at blanks */
        CHECK(f.cmdline.error == 0 && streq(f.cmdline.raw, "root=/dev/vda1  iommu=pt ?"));
        CHECK(strv_length(f.cmdline.tokens) == 3 && streq(f.cmdline.tokens[1], "iommu=pt"));

        /* Nothing changed: no part is announced. */
        CHECK(host_facts_read(&f, HOST_FACTS_KVM | HOST_FACTS_IOMMU | HOST_FACTS_CMDLINE, &changed) == 0);
        CHECK(changed == 0);

        /* kvm_amd changes: only its part; a number that does not parse is unknown (0) with a problem */
        put("sys/module/kvm_amd/parameters/sev_snp", "Y\n");
        put("sys/module/kvm_amd/parameters/ciphertext_hiding_asids", "lots\n");
        CHECK(host_facts_read(&f, HOST_FACTS_KVM | HOST_FACTS_IOMMU, &changed) == 0);
        CHECK(changed == HOST_FACTS_KVM);
        CHECK(f.kvm.sev_snp.error == 0 && f.kvm.sev_snp.value);
        CHECK(f.kvm.cth_error == -EBADMSG && f.kvm.cth == 0 && streq(f.kvm.cth_raw, "lots"));
        CHECK(strv_length(f.problems) == 1 && strstr(f.problems[0], "ciphertext_hiding_asids says \"lots\", which is not a number"));
        {
                _cleanup_free_ char *sig = host_facts_kvm_signature(&f);
                CHECK(sig && streq(sig, "loaded sev=Y sev_es=N sev_snp=Y ciphertext_hiding_asids=lots"));
        }

        /* a new IOMMU group: only that part */
        put("sys/kernel/iommu_groups/13/type", "DMA\n");
        CHECK(host_facts_read(&f, HOST_FACTS_KVM | HOST_FACTS_IOMMU, &changed) == 0);
        CHECK(changed == HOST_FACTS_IOMMU && f.iommu.groups == 4 && f.iommu.dma_groups == 2);
        host_facts_done(&f);
}

static void test_nothing_there(void) {
        HostFacts f = {};

        /* no kvm_amd, no IOMMU groups, no cpuinfo, no cmdline */
        use_root("empty", "empty");
        CHECK(host_facts_read(&f, HOST_FACTS_ALL, NULL) == 0);
        CHECK(!f.kvm.loaded && f.kvm.loaded_error == 0);
        CHECK(f.kvm.sev.error == -ENOENT && kvm_bool_tri(&f.kvm.sev) == TRI_UNKNOWN);
        CHECK(f.kvm.cth_error == -ENOENT && f.kvm.cth == 0);
        CHECK(strv_isempty(f.problems));        /* absence is no parse problem */
        {
                _cleanup_free_ char *sig = host_facts_kvm_signature(&f);
                CHECK(sig && streq(sig, "absent"));
        }
        CHECK(f.iommu.error == 0 && f.iommu.groups == 0);
        CHECK(f.cmdline.error == -ENOENT && !f.cmdline.raw && !f.cmdline.tokens);
        CHECK(f.cpu.cpuinfo_error == -ENOENT && f.cpu.flag_sev == TRI_UNKNOWN);
        host_facts_done(&f);
}

static void test_parsers(void) {
        Tri a, b, c, d;
        int total, identity, dma;
        _cleanup_free_ char *none = path_join(root, "no-such-dir");

        CHECK(host_facts_parse_cpuinfo("processor : 0\n", &a, &b, &c, &d) == -EBADMSG);
        CHECK(host_facts_parse_cpuinfo("flags : sev_es sme_coherent\n", &a, &b, &c, &d) == 0);
        CHECK(a == TRI_NO && b == TRI_NO && c == TRI_YES && d == TRI_NO);
        CHECK(host_facts_count_iommu_groups(none, &total, &identity, &dma) == 0 && total == 0);
}

int main(void) {
        _cleanup_free_ char *cmd = NULL;

        CHECK(mkdtemp(root));
        test_read_all();
        test_nothing_there();
        test_parsers();

        CHECK(asprintf(&cmd, "rm -rf '%s'", root) > 0);
        CHECK(system(cmd) == 0);
        if (failures) {
                fprintf(stderr, "%u check(s) failed\n", failures);
                return EXIT_FAILURE;
        }
        printf("test-host-facts: all checks passed\n");
        return EXIT_SUCCESS;
}
