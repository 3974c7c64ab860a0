/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The modprobe.d file's exact content, conflict detection, and misc.max writes in a temp tree. */

#include <sys/stat.h>

#include "cgroup.h"
#include "fileio.h"
#include "modprobe.h"
#include "test-asid-util.h"

static const char expected_99[] =
        "# Written by hwsecd (org.hwsecd1.Asid.SetPolicy). Do not edit: hwsecd rewrites it.\n"
        "# kvm_amd reads this only when it is loaded: it takes effect at the next\n"
        "# reboot or kvm_amd reload. 0 turns SEV-SNP ciphertext hiding off.\n"
        "options kvm_amd ciphertext_hiding_asids=99\n";

static char *mkpath(const char *dir, const char *name) {
        char *p = path_join(dir, name);
        if (!p)
                abort();
        return p;
}

static void put(const char *dir, const char *name, const char *text) {
        _cleanup_free_ char *p = mkpath(dir, name);
        CHECK_MSG(write_file_atomic(p, text, strlen(text), 0644) == 0, "write %s", p);
}

static void test_render(void) {
        _cleanup_free_ char *s = NULL;

        CHECK(modprobe_render(99, &s) == 0);
        CHECK_MSG(streq(s, expected_99), "got:\n%s", s);
}

static void test_scan(void) {
        AsidConflicts c = {};

        CHECK(modprobe_scan_text("# options kvm_amd ciphertext_hiding_asids=5\n"
                                 "options kvm sev=1\n"
                                 "options kvm_amd sev=1 ciphertext_hiding_asids=5 # comment\n"
                                 "options kvm-amd \\\n  ciphertext-hiding-asids=\"7\"\n"
                                 "options  kvm_amd\tsev_snp=1\n"
                                 "install kvm_amd /bin/true ciphertext_hiding_asids=1\n"
                                 "options kvm_amdx ciphertext_hiding_asids=9\n",
                                 "f.conf", &c) == 0);
        CHECK(c.n == 2);
        if (c.n == 2) {
                CHECK(streq(c.items[0].source, "f.conf:3") && streq(c.items[0].value, "5"));
                CHECK(streq(c.items[1].source, "f.conf:4") && streq(c.items[1].value, "7"));
        }
        asid_conflicts_done(&c);

        CHECK(cmdline_scan_text("BOOT_IMAGE=/vmlinuz root=/dev/sda1 kvm-amd.ciphertext_hiding_asids=32 "
                                "kvm_amd.sev=1 kvm_amd.ciphertext_hiding_asids=\"16\" kvmamd.ciphertext_hiding_asids=3 "
                                "-- kvm_amd.ciphertext_hiding_asids=1\n", "/proc/cmdline", &c) == 0);
        CHECK(c.n == 2);
        if (c.n == 2) {
                CHECK(streq(c.items[0].value, "32") && streq(c.items[1].value, "16"));
                CHECK(streq(c.items[0].source, "/proc/cmdline"));
        }
        asid_conflicts_done(&c);
}

static void test_files(void) {
        char tmpl[] = "/tmp/test-asid-XXXXXX";
        _cleanup_free_ char *mp = NULL, *proc = NULL, *ours = NULL, *text = NULL;
        AsidConflicts c = {};
        uint32_t v = 0;

        CHECK(mkdtemp(tmpl));
        mp = mkpath(tmpl, "modprobe.d");
        proc = mkpath(tmpl, "proc");
        CHECK(mkdir(mp, 0755) == 0 && mkdir(proc, 0755) == 0);

        CHECK(modprobe_read_ours(mp, &v) == 0);
        CHECK(modprobe_write(mp, 99) == 0);
        ours = mkpath(mp, ASID_MODPROBE_FILE);
        CHECK(read_full_file(ours, 4096, &text, NULL) == 0 && streq(text, expected_99));
        CHECK(modprobe_read_ours(mp, &v) == 1 && v == 99);

        /* Our own file is not a conflict; others are, and so is the command line. */
        CHECK(asid_conflicts_find(mp, NULL, "/proc/cmdline", &c) == 0 && c.n == 0);
        asid_conflicts_done(&c);
        put(mp, "50-local.conf", "options kvm_amd ciphertext_hiding_asids=20\n");
        put(mp, "README", "options kvm_amd ciphertext_hiding_asids=1\n");
        CHECK(asid_conflicts_find(mp, "root=/dev/vda kvm_amd.ciphertext_hiding_asids=10", "/proc/cmdline", &c) == 0 &&
              c.n == 2);
        if (c.n == 2) {
                CHECK(strstr(c.items[0].source, "50-local.conf:1") && streq(c.items[0].value, "20"));
                CHECK(strstr(c.items[1].source, "proc/cmdline") && streq(c.items[1].value, "10"));
        }
        asid_conflicts_done(&c);

        /* A tampered file is reported as such. */
        put(mp, ASID_MODPROBE_FILE, "options kvm_amd ciphertext_hiding_asids=lots\n");
        CHECK(modprobe_read_ours(mp, &v) == -EBADMSG);
        CHECK(modprobe_remove(mp) == 0 && modprobe_remove(mp) == 0);
        CHECK(modprobe_read_ours(mp, &v) == 0);

        /* A missing directory and an unknown command line: no conflicts, no error. */
        CHECK(asid_conflicts_find("/nonexistent/x", NULL, "/proc/cmdline", &c) == 0 && c.n == 0);
}

static void test_cgroup(void) {
        char tmpl[] = "/tmp/test-asid-cg-XXXXXX";
        _cleanup_free_ char *slice = NULL, *scope = NULL, *bare = NULL, *text = NULL, *maxp = NULL;
        QuotaResults res = {};
        MiscCounts m;
        AsidQuota q = { .has_sev = true, .sev = 3, .has_sev_es = true, .sev_es = ASID_QUOTA_UNLIMITED };

        CHECK(mkdtemp(tmpl));
        CHECK(misc_read_root(tmpl, &m) == 0 && !m.valid && !m.current_valid);
        put(tmpl, "misc.capacity", "sev 907\nsev_es 99\n");
        put(tmpl, "misc.current", "sev 2\nsev_es 5\n");
        CHECK(misc_read_root(tmpl, &m) == 0 && m.valid && m.current_valid);
        CHECK(m.sev_capacity == 907 && m.sev_es_capacity == 99 && m.sev_current == 2 && m.sev_es_current == 5);
        put(tmpl, "misc.current", "garbage\n");
        CHECK(misc_read_root(tmpl, &m) == -EBADMSG && m.valid && !m.current_valid);

        slice = mkpath(tmpl, "machine.slice");
        scope = mkpath(slice, "vm1.scope");
        bare = mkpath(tmpl, "bare.slice");
        CHECK(mkdir(slice, 0755) == 0 && mkdir(scope, 0755) == 0 && mkdir(bare, 0755) == 0);
        put(scope, "misc.max", "sev max\nsev_es max\n");

        q.cgroup = (char *) "machine.slice/vm1.scope";
        CHECK(cgroup_apply_quota(tmpl, &q, &res) == 0 && res.n == 2);
        if (res.n == 2) {
                CHECK(res.items[0].state == QUOTA_APPLIED && streq(res.items[0].observed, "3"));
                CHECK(streq(res.items[0].resource, "sev"));
                CHECK(res.items[1].state == QUOTA_APPLIED && streq(res.items[1].observed, "max"));
        }
        maxp = mkpath(scope, "misc.max");
        CHECK(read_full_file(maxp, 4096, &text, NULL) == 0 && streq(text, "sev_es max\n"));
        quota_results_done(&res);

        q.cgroup = (char *) "machine.slice/vm2.scope";
        CHECK(cgroup_apply_quota(tmpl, &q, &res) == 0 && res.n == 2);
        CHECK(res.items[0].state == QUOTA_MISSING_CGROUP && res.items[1].state == QUOTA_MISSING_CGROUP);
        CHECK(cgroup_exists(tmpl, "machine.slice/vm2.scope") == 0);   /* not created */
        quota_results_done(&res);

        q.cgroup = (char *) "bare.slice";
        CHECK(cgroup_apply_quota(tmpl, &q, &res) == 0 && res.n == 2);
        CHECK(res.items[0].state == QUOTA_NO_CONTROLLER);
        quota_results_done(&res);
}

int main(void) {
        test_render();
        test_scan();
        test_files();
        test_cgroup();
        return test_result();
}
