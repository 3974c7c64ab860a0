/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The CPUID reader: `cpuid -r` files (first CPU only, maximum leaf honoured) and the native
 * instruction on this machine. */

#include "cpuid.h"
#include "fileio.h"
#include "paths.h"

static unsigned failures;
#define CHECK(expr) do { if (!(expr)) { fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #expr); failures++; } } while (0)

static void use_source(const char *src) {
        setenv("HWSECD_CPUID", src, 1);
        paths_reset();
}

static void use_fixture(const char *name) {
        _cleanup_free_ char *p = path_join(TEST_FIXTURES "/psp", name);
        use_source(p);
}

static void test_genoa(void) {
        CpuIdentity id;
        CpuidMemEncrypt me;
        CpuidRegs r;

        use_fixture("cpuid-genoa.txt");
        CHECK(cpuid_identity(&id) == 0);
        CHECK(streq(id.vendor, "AuthenticAMD"));
        CHECK(id.family == 0x19 && id.model == 0x11 && id.stepping == 1);
        CHECK(cpuid_mem_encrypt(&me) == 0);
        CHECK(me.sme && me.sev && me.sev_es && me.sev_snp && me.debug_swap);
        CHECK(me.max_sev_asid == 1006);
        CHECK(me.min_sev_asid == 100);
        CHECK(me.cbit_position == 51);
        CHECK(me.phys_addr_reduction == 5);
        /* CPU 1's lines are ignored */
        CHECK(cpuid_read(0x8000001f, 0, &r) == 0 && r.eax == 0x0101fd3f);
        /* no such leaf or sub-leaf */
        CHECK(cpuid_read(0x8000001f, 1, &r) == -ENOENT);
        CHECK(cpuid_read(7, 0, &r) == -ENOENT);
}

static void test_generations(void) {
        CpuIdentity id;
        CpuidMemEncrypt me;

        use_fixture("cpuid-milan.txt");
        CHECK(cpuid_identity(&id) == 0 && id.family == 0x19 && id.model == 0x01);
        CHECK(cpuid_mem_encrypt(&me) == 0 && me.sev_snp && me.max_sev_asid == 509);

        use_fixture("cpuid-turin.txt");
        CHECK(cpuid_identity(&id) == 0 && id.family == 0x1a && id.model == 0x02);

        use_fixture("cpuid-rome.txt");
        CHECK(cpuid_identity(&id) == 0 && id.family == 0x17 && id.model == 0x31);
        CHECK(cpuid_mem_encrypt(&me) == 0 && me.sev && me.sev_es && !me.sev_snp);
        CHECK(me.min_sev_asid == 1);

        /* Intel: the extended maximum is 0x80000008, so 0x8000001F is "no such leaf" even
         * if a line for it existed */
        use_fixture("cpuid-intel.txt");
        CHECK(cpuid_identity(&id) == 0 && streq(id.vendor, "GenuineIntel") && id.family == 6);
        CHECK(cpuid_mem_encrypt(&me) == -ENOENT);
}

static void test_bad_files(void) {
        char path[] = "/tmp/test-psp-cpuid-XXXXXX";
        int fd = mkstemp(path);
        CpuidRegs r;
        const char *bad = "CPU 0:\n   0x8000001f 0x00: eax=0x0101fd3f ebx=zzz\n";
        const char *beyond = "   0x80000000 0x00: eax=0x80000010 ebx=0x00000000 ecx=0x00000000 edx=0x00000000\n"
                             "   0x8000001f 0x00: eax=0x00000003 ebx=0x00000000 ecx=0x00000001 edx=0x00000001\n";

        CHECK(fd >= 0);
        CHECK(write(fd, bad, strlen(bad)) == (ssize_t) strlen(bad));
        close(fd);
        use_source(path);
        CHECK(cpuid_read(0x8000001f, 0, &r) == -EBADMSG);

        CHECK(write_file_atomic(path, beyond, strlen(beyond), 0644) == 0);
        CHECK(cpuid_read(0x8000001f, 0, &r) == -ENOENT);
        unlink(path);

        use_source("/nonexistent/cpuid.txt");
        CHECK(cpuid_read(0, 0, &r) == -ENOENT);
}

static void test_native(void) {
        _cleanup_free_ char *cpuinfo = NULL;
        CpuIdentity id;
        int r;

        use_source("native");
        r = cpuid_identity(&id);
#if defined(__x86_64__) || defined(__i386__)
        CHECK(r == 0);
        /* the kernel's vendor_id line agrees with the instruction */
        if (read_full_file("/proc/cpuinfo", 16U << 20, &cpuinfo, NULL) >= 0) {
                char want[64];
                snprintf(want, sizeof want, "vendor_id\t: %s\n", id.vendor);
                CHECK(strstr(cpuinfo, want) != NULL);
        }
#else
        CHECK(r == -EOPNOTSUPP);
#endif
}

int main(void) {
        test_genoa();
        test_generations();
        test_bad_files();
        test_native();
        if (failures) {
                fprintf(stderr, "%u check(s) failed\n", failures);
                return EXIT_FAILURE;
        }
        printf("test-psp-cpuid: all checks passed\n");
        return EXIT_SUCCESS;
}
