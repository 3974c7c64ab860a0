/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The readiness-check registry on hand-made facts, the checks' inputs built from host facts and
 * a PSP snapshot, and the bounded check history. (Reading the host: test-host-facts.c.) */

#include <sys/stat.h>

#include "check-facts.h"
#include "check-history.h"
#include "checks.h"
#include "fileio.h"
#include "paths.h"

static unsigned failures;
#define CHECK(expr) do { if (!(expr)) { fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #expr); failures++; } } while (0)

static CheckResult result_of(const CheckFacts *f, const char *id) {
        CheckList l = {};
        const Check *c;
        CheckResult r = _CHECK_RESULT_INVALID;

        if (checks_run(f, &l) < 0)
                return r;
        c = check_list_find(&l, id);
        if (c)
                r = c->result;
        check_list_done(&l);
        return r;
}

#define EXPECT(f, id, want) do {                                                        \
                CheckResult _r = result_of((f), (id));                                  \
                if (_r != (want)) {                                                     \
                        fprintf(stderr, "%s:%d: FAILED: %s is %s, expected %s\n", __FILE__, __LINE__, \
                                (id), strna(check_result_to_string(_r)), check_result_to_string(want)); \
                        failures++;                                                     \
                }                                                                       \
        } while (0)

/* A Genoa-class host where everything is ready. */
static void facts_genoa(CheckFacts *f) {
        *f = (CheckFacts) {
                .cpuid_source = "test",
                .cpu = { .vendor = "AuthenticAMD", .family = 0x19, .model = 0x11 },
                .me = { .sme = true, .sev = true, .sev_es = true, .sev_snp = true,
                        .max_sev_asid = 1006, .min_sev_asid = 100 },
                .me_regs = { .eax = 0x0101fd3f },
                .cpuinfo_path = strdup("/proc/cpuinfo"),
                .flag_sme = TRI_YES, .flag_sev = TRI_YES, .flag_sev_es = TRI_YES, .flag_sev_snp = TRI_YES,
                .kvm_params_dir = strdup("/sys/module/kvm_amd/parameters"),
                .kvm_amd_loaded = TRI_YES,
                .kvm_sev = TRI_YES, .kvm_sev_es = TRI_YES, .kvm_sev_snp = TRI_YES,
                .kvm_cth_asids = 99,
                .psp_pci_present = true,
                .psp_address = strdup("0000:c1:00.1"),
                .psp_driver = strdup("ccp"),
                .dev_sev_path = strdup("/dev/sev"),
                .dev_sev_exists = TRI_YES,
                .status_queried = true,
                .platform = {
                        .sev_valid = true,
                        .sev = { .api_major = 1, .api_minor = 55, .state = 1, .build = 21 },
                        .snp_valid = true,
                        .snp = { .api_major = 1, .api_minor = 55, .state = 1, .is_rmp_initialized = true,
                                 .feature_info = true, .ciphertext_hiding_cap = true,
                                 .ciphertext_hiding_en = true,
                                 .current_tcb = 0xdb18000000000304, .reported_tcb = 0xdb18000000000304 },
                },
                .cmdline_path = strdup("/proc/cmdline"),
                .cmdline = strdup("BOOT_IMAGE=/vmlinuz root=/dev/sda1 quiet\n"),
                .iommu_groups = 40, .iommu_dma_groups = 40,
                .iommu_groups_dir = strdup("/sys/kernel/iommu_groups"),
                .dev_sfs_path = strdup("/dev/sfs"),
                .sfs_present = TRI_YES,
                .have_firmware = true,
                .firmware = { .have_update = true, .update_job = 3, .update_usec = 5000, .update_committed = true },
        };
}

static void test_genoa_all_pass(void) {
        CheckFacts f;
        CheckList l = {};
        unsigned counts[_CHECK_RESULT_MAX];

        facts_genoa(&f);
        CHECK(checks_run(&f, &l) == 0);
        CHECK(l.n >= 15);
        check_list_summary(&l, counts);
        for (size_t i = 0; i < l.n; i++) {
                const Check *c = &l.checks[i];
                if (c->result != CHECK_PASS)
                        fprintf(stderr, "not passing: %s: %s\n", c->id, c->detail);
                CHECK(c->result == CHECK_PASS);
                CHECK(c->detail && c->detail[0]);
                CHECK(c->remediation == REMEDIATION_NONE && !c->needs_reboot);
                CHECK(json_object_object_length(c->evidence) > 0);
                /* ids are unique */
                for (size_t j = i + 1; j < l.n; j++)
                        CHECK(!streq(c->id, l.checks[j].id));
        }
        CHECK(counts[CHECK_PASS] == l.n);

        /* JSON rendering */
        {
                json_object *a = check_list_to_json(&l), *c0, *v, *rem;
                CHECK(json_object_array_length(a) == l.n);
                c0 = json_object_array_get_idx(a, 0);
                CHECK(json_object_object_get_ex(c0, "result", &v) && streq(json_object_get_string(v), "pass"));
                CHECK(json_object_object_get_ex(c0, "remediation", &rem));
                CHECK(json_object_object_get_ex(rem, "kind", &v) && streq(json_object_get_string(v), "none"));
                CHECK(json_object_object_get_ex(rem, "needs_reboot", &v) && !json_object_get_boolean(v));
                json_object_put(a);
        }
        check_list_done(&l);
        check_facts_done(&f);
}

static void test_milan(void) {
        CheckFacts f;

        facts_genoa(&f);
        f.cpu.model = 0x01;
        f.platform.snp.feature_info = false;
        f.platform.snp.ciphertext_hiding_cap = false;
        f.platform.snp.ciphertext_hiding_en = false;
        f.kvm_cth_asids = 0;
        f.sfs_present = TRI_NO;
        EXPECT(&f, "features.ciphertext-hiding-capable", CHECK_NOT_APPLICABLE);
        EXPECT(&f, "features.ciphertext-hiding-enabled", CHECK_NOT_APPLICABLE);
        EXPECT(&f, "features.sfs", CHECK_NOT_APPLICABLE);
        EXPECT(&f, "platform.snp-init", CHECK_PASS);
        check_facts_done(&f);
}

static void test_rome_no_snp(void) {
        CheckFacts f;

        facts_genoa(&f);
        f.cpu.family = 0x17;
        f.cpu.model = 0x31;
        f.me.sev_snp = false;
        f.flag_sev_snp = TRI_NO;
        f.platform.snp_valid = false;
        sev_error_set(&f.platform.snp_error, SEV_QUERY_SNP, -EINVAL, 0);
        EXPECT(&f, "cpu.sev", CHECK_PASS);
        EXPECT(&f, "cpu.sev-snp", CHECK_NOT_APPLICABLE);
        EXPECT(&f, "kernel.kvm-amd-sev-snp", CHECK_NOT_APPLICABLE);
        EXPECT(&f, "platform.snp-init", CHECK_NOT_APPLICABLE);
        EXPECT(&f, "platform.rmp-init", CHECK_NOT_APPLICABLE);
        EXPECT(&f, "firmware.tcb-committed", CHECK_NOT_APPLICABLE);
        EXPECT(&f, "iommu.translation", CHECK_NOT_APPLICABLE);
        EXPECT(&f, "bios.memory-encryption", CHECK_PASS);
        EXPECT(&f, "features.sfs", CHECK_PASS);   /* present is present */
        check_facts_done(&f);
}

static void test_not_amd(void) {
        CheckFacts f;

        facts_genoa(&f);
        f.mem_encrypt_error = -ENOENT;
        EXPECT(&f, "cpu.sev", CHECK_FAIL);
        EXPECT(&f, "cpu.sev-es", CHECK_NOT_APPLICABLE);
        EXPECT(&f, "platform.dev-sev", CHECK_NOT_APPLICABLE);
        EXPECT(&f, "platform.snp-init", CHECK_NOT_APPLICABLE);
        f.mem_encrypt_error = -EACCES;       /* CPUID source unreadable */
        EXPECT(&f, "cpu.sev", CHECK_UNKNOWN);
        EXPECT(&f, "platform.snp-init", CHECK_UNKNOWN);
        check_facts_done(&f);
}

static void test_snp_uninit(void) {
        CheckFacts f;
        CheckList l = {};
        const Check *c;
        json_object *v;

        facts_genoa(&f);
        f.platform.snp_valid = false;
        sev_error_set(&f.platform.snp_error, SEV_QUERY_SNP, -EINVAL, 0);
        f.kvm_sev_snp = TRI_NO;
        CHECK(checks_run(&f, &l) == 0);
        c = check_list_find(&l, "platform.snp-init");
        CHECK(c && c->result == CHECK_FAIL);
        CHECK(c && strstr(c->detail, "SNP not initialised on this kernel"));
        CHECK(c && c->remediation == REMEDIATION_MODPROBE_OPTION && c->needs_reboot);
        CHECK(c && json_object_object_get_ex(c->evidence, "error", &v) &&
              streq(json_object_get_string(v), "SNP_NOT_INITIALIZED"));
        c = check_list_find(&l, "kernel.kvm-amd-sev-snp");
        CHECK(c && c->result == CHECK_FAIL && c->remediation == REMEDIATION_MODPROBE_OPTION);
        CHECK(c && streq(c->remediation_value, "options kvm_amd sev_snp=1"));
        CHECK(check_list_find(&l, "platform.rmp-init")->result == CHECK_SKIP);
        CHECK(check_list_find(&l, "firmware.tcb-committed")->result == CHECK_SKIP);
        CHECK(check_list_find(&l, "firmware.snp-version")->result == CHECK_PASS);  /* from SEV status */
        CHECK(check_list_find(&l, "platform.sev-state")->result == CHECK_PASS);
        check_list_done(&l);

        /* newer kernels answer SNP status in any state: state 0 */
        f.platform.snp_valid = true;
        f.platform.snp.state = 0;
        f.platform.snp.is_rmp_initialized = false;
        EXPECT(&f, "platform.snp-init", CHECK_FAIL);
        EXPECT(&f, "platform.rmp-init", CHECK_FAIL);
        check_facts_done(&f);
}

static void test_fw_error(void) {
        CheckFacts f;
        CheckList l = {};
        const Check *c;

        facts_genoa(&f);
        f.platform.sev_valid = false;
        sev_error_set(&f.platform.sev_error, SEV_QUERY_SEV, -EIO, 0x01);
        f.platform.snp_valid = false;
        sev_error_set(&f.platform.snp_error, SEV_QUERY_SNP, -EIO, 0x01);
        CHECK(checks_run(&f, &l) == 0);
        c = check_list_find(&l, "platform.sev-state");
        CHECK(c->result == CHECK_FAIL && strstr(c->detail, "INVALID_PLATFORM_STATE"));
        c = check_list_find(&l, "platform.snp-init");
        CHECK(c->result == CHECK_FAIL && strstr(c->detail, "SEV_RET_INVALID_PLATFORM_STATE"));
        CHECK(check_list_find(&l, "firmware.snp-version")->result == CHECK_SKIP);
        CHECK(check_list_find(&l, "platform.dev-sev")->result == CHECK_PASS);
        check_list_done(&l);
        check_facts_done(&f);
}

static void test_no_psp(void) {
        CheckFacts f;

        facts_genoa(&f);
        f.psp_pci_present = false;
        f.psp_address = mfree(f.psp_address);
        f.psp_driver = mfree(f.psp_driver);
        f.dev_sev_exists = TRI_NO;
        f.status_queried = false;
        f.platform = (SevPlatform) {};
        f.sfs_present = TRI_NO;
        EXPECT(&f, "platform.dev-sev", CHECK_FAIL);
        EXPECT(&f, "platform.sev-state", CHECK_SKIP);
        EXPECT(&f, "platform.snp-init", CHECK_SKIP);
        EXPECT(&f, "features.ciphertext-hiding-capable", CHECK_SKIP);
        EXPECT(&f, "features.sfs", CHECK_SKIP);
        EXPECT(&f, "cpu.sev-snp", CHECK_PASS);

        /* PSP present, ccp not bound */
        f.psp_pci_present = true;
        f.psp_address = strdup("0000:c1:00.1");
        EXPECT(&f, "platform.dev-sev", CHECK_FAIL);
        EXPECT(&f, "features.sfs", CHECK_FAIL);
        /* node exists but cannot be opened */
        f.dev_sev_exists = TRI_YES;
        f.dev_sev_open_error = -EACCES;
        EXPECT(&f, "platform.dev-sev", CHECK_FAIL);
        EXPECT(&f, "platform.sev-state", CHECK_SKIP);
        check_facts_done(&f);
}

static void test_bios_and_kvm(void) {
        CheckFacts f;
        CheckList l = {};
        const Check *c;

        facts_genoa(&f);
        f.flag_sev = f.flag_sev_es = f.flag_sev_snp = TRI_NO;
        CHECK(checks_run(&f, &l) == 0);
        c = check_list_find(&l, "bios.memory-encryption");
        CHECK(c->result == CHECK_FAIL && c->remediation == REMEDIATION_BIOS_SETTING && c->needs_reboot);
        CHECK(strstr(c->detail, "sev sev_es sev_snp"));
        check_list_done(&l);

        f.flag_sev = f.flag_sev_es = TRI_YES;
        CHECK(checks_run(&f, &l) == 0);
        c = check_list_find(&l, "bios.memory-encryption");
        CHECK(c->result == CHECK_FAIL && strstr(c->remediation_value, "SEV-SNP Support"));
        check_list_done(&l);

        f.flag_sev_snp = TRI_YES;
        f.cpuinfo_error = -ENOENT;
        EXPECT(&f, "bios.memory-encryption", CHECK_UNKNOWN);
        f.cpuinfo_error = 0;

        f.kvm_amd_loaded = TRI_NO;
        EXPECT(&f, "kernel.kvm-amd", CHECK_FAIL);
        EXPECT(&f, "kernel.kvm-amd-sev", CHECK_SKIP);
        EXPECT(&f, "kernel.kvm-amd-sev-snp", CHECK_SKIP);
        f.kvm_amd_loaded = TRI_YES;
        f.kvm_sev_es = TRI_UNKNOWN;
        EXPECT(&f, "kernel.kvm-amd-sev-es", CHECK_UNKNOWN);
        f.kvm_sev = TRI_NO;
        EXPECT(&f, "kernel.kvm-amd-sev", CHECK_FAIL);
        check_facts_done(&f);
}

static void test_iommu(void) {
        CheckFacts f;
        CheckList l = {};
        const Check *c;

        facts_genoa(&f);
        free(f.cmdline);
        f.cmdline = strdup("root=/dev/sda1 iommu=pt quiet");
        CHECK(checks_run(&f, &l) == 0);
        c = check_list_find(&l, "iommu.translation");
        CHECK(c->result == CHECK_FAIL && c->remediation == REMEDIATION_KERNEL_CMDLINE && c->needs_reboot);
        CHECK(streq(c->remediation_value, "remove iommu=pt"));
        check_list_done(&l);

        free(f.cmdline);
        f.cmdline = strdup("amd_iommu=off");
        EXPECT(&f, "iommu.translation", CHECK_FAIL);
        free(f.cmdline);
        f.cmdline = strdup("xiommu=pt amd_iommu=on");    /* not the option */
        EXPECT(&f, "iommu.translation", CHECK_PASS);

        /* no groups at all: IOMMU off */
        f.iommu_groups = f.iommu_dma_groups = 0;
        CHECK(checks_run(&f, &l) == 0);
        c = check_list_find(&l, "iommu.translation");
        CHECK(c->result == CHECK_FAIL && c->remediation == REMEDIATION_BIOS_SETTING);
        check_list_done(&l);

        f.iommu_groups = 12;
        f.iommu_identity_groups = 12;
        EXPECT(&f, "iommu.translation", CHECK_FAIL);
        f.iommu_dma_groups = 11;
        f.iommu_identity_groups = 1;
        EXPECT(&f, "iommu.translation", CHECK_PASS);

        f.iommu_groups = -1;
        EXPECT(&f, "iommu.translation", CHECK_UNKNOWN);
        check_facts_done(&f);
}

/* "Firmware committed after the last update": the job's own commit or a later CommitFirmware. */
static void test_update_committed(void) {
        CheckFacts f;
        CheckList l = {};
        const Check *c;

        facts_genoa(&f);
        EXPECT(&f, "firmware.update-committed", CHECK_PASS);
        f.firmware.update_committed = false;
        CHECK(checks_run(&f, &l) == 0);
        c = check_list_find(&l, "firmware.update-committed");
        CHECK(c->result == CHECK_FAIL && strstr(c->detail, "not committed after the update of job 3"));
        CHECK(c->remediation == REMEDIATION_COMMAND && streq(c->remediation_value, "hwsecctl psp commit"));
        check_list_done(&l);
        f.last_commit_usec = 4999;              /* a commit before the update does not count */
        EXPECT(&f, "firmware.update-committed", CHECK_FAIL);
        f.last_commit_usec = 5000;
        EXPECT(&f, "firmware.update-committed", CHECK_PASS);
        f.firmware.have_update = false;
        f.last_commit_usec = 0;
        EXPECT(&f, "firmware.update-committed", CHECK_NOT_APPLICABLE);
        f.have_firmware = false;
        EXPECT(&f, "firmware.update-committed", CHECK_NOT_APPLICABLE);
        f.me.sev_snp = false;
        EXPECT(&f, "firmware.update-committed", CHECK_NOT_APPLICABLE);
        check_facts_done(&f);
}

static void test_tcb_and_fw(void) {
        CheckFacts f;
        CheckList l = {};
        const Check *c;

        facts_genoa(&f);
        f.platform.snp.reported_tcb = 0xd517000000000304;
        CHECK(checks_run(&f, &l) == 0);
        c = check_list_find(&l, "firmware.tcb-committed");
        CHECK(c->result == CHECK_FAIL && strstr(c->detail, "Reported TCB behind current"));
        CHECK(strstr(c->detail, "SNP=24 uCode=219") && strstr(c->detail, "SNP=23 uCode=213"));
        CHECK(c->remediation == REMEDIATION_COMMAND);
        check_list_done(&l);

        f.platform.snp.api_minor = 49;
        EXPECT(&f, "firmware.snp-version", CHECK_FAIL);
        f.platform.snp.api_major = 2;
        EXPECT(&f, "firmware.snp-version", CHECK_PASS);
        check_facts_done(&f);
}

static void test_cth(void) {
        CheckFacts f;

        facts_genoa(&f);
        /* capable, not enabled, kvm_amd asks for nothing */
        f.platform.snp.ciphertext_hiding_en = false;
        f.kvm_cth_asids = 0;
        EXPECT(&f, "features.ciphertext-hiding-capable", CHECK_PASS);
        EXPECT(&f, "features.ciphertext-hiding-enabled", CHECK_FAIL);
        /* kvm_amd asked, firmware has it off */
        f.kvm_cth_asids = 50;
        EXPECT(&f, "features.ciphertext-hiding-enabled", CHECK_FAIL);
        /* firmware has it on, kvm_amd says 0: they disagree */
        f.platform.snp.ciphertext_hiding_en = true;
        f.kvm_cth_asids = 0;
        EXPECT(&f, "features.ciphertext-hiding-enabled", CHECK_FAIL);
        /* the firmware knows features but the BIOS has CTH off */
        f.platform.snp.ciphertext_hiding_cap = false;
        f.platform.snp.ciphertext_hiding_en = false;
        EXPECT(&f, "features.ciphertext-hiding-capable", CHECK_FAIL);
        EXPECT(&f, "features.ciphertext-hiding-enabled", CHECK_NOT_APPLICABLE);
        check_facts_done(&f);
}

static void test_history(void) {
        CheckFacts f;
        CheckList l = {};
        json_object *sec = json_object_new_object(), *h;
        CheckChange *changes = NULL;
        size_t dropped = 0;
        uint64_t t;
        const char *id, *o, *n;

        facts_genoa(&f);
        CHECK(checks_run(&f, &l) == 0);
        CHECK(check_history_apply(sec, &l, 1000, &changes, &dropped) == 0);   /* first run */
        free(changes);
        CHECK(json_object_object_get_ex(sec, "history", &h) && json_object_array_length(h) == 0);
        check_list_done(&l);

        f.platform.snp.reported_tcb = 1;
        CHECK(checks_run(&f, &l) == 0);
        CHECK(check_history_apply(sec, &l, 2000, &changes, &dropped) == 1);
        CHECK(streq(changes[0].id, "firmware.tcb-committed"));
        CHECK(streq(changes[0].old_result, "pass") && streq(changes[0].new_result, "fail"));
        free(changes);
        json_object_object_get_ex(sec, "history", &h);
        CHECK(json_object_array_length(h) == 1);
        CHECK(check_history_entry(json_object_array_get_idx(h, 0), &t, &id, &o, &n) == 0);
        CHECK(t == 2000 && streq(id, "firmware.tcb-committed") && streq(o, "pass") && streq(n, "fail"));
        /* no change, nothing recorded */
        CHECK(check_history_apply(sec, &l, 3000, NULL, &dropped) == 0);
        check_list_done(&l);

        /* bounded: flip one check many times */
        for (unsigned i = 0; i < CHECK_HISTORY_MAX + 20; i++) {
                f.platform.snp.reported_tcb = (i % 2) ? 1 : f.platform.snp.current_tcb;
                CHECK(checks_run(&f, &l) == 0);
                CHECK(check_history_apply(sec, &l, 4000 + i, NULL, &dropped) == 1);
                check_list_done(&l);
        }
        json_object_object_get_ex(sec, "history", &h);
        CHECK(json_object_array_length(h) == CHECK_HISTORY_MAX);
        CHECK(check_history_entry(json_object_array_get_idx(h, CHECK_HISTORY_MAX - 1), &t, NULL, NULL, NULL) == 0);
        CHECK(t == 4000 + CHECK_HISTORY_MAX + 19);

        /* malformed entries from a hand-edited file are dropped, not trusted */
        json_object_array_add(h, json_object_new_string("garbage"));
        {
                json_object *e = json_object_new_object();
                json_object_object_add(e, "time", json_object_new_int64(5));
                json_object_object_add(e, "id", json_object_new_string("x"));
                json_object_object_add(e, "old", json_object_new_string("maybe"));
                json_object_object_add(e, "new", json_object_new_string("pass"));
                json_object_array_add(h, e);
        }
        CHECK(checks_run(&f, &l) == 0);
        CHECK(check_history_apply(sec, &l, 9999, NULL, &dropped) == 0);
        CHECK(dropped == 2);
        json_object_object_get_ex(sec, "history", &h);
        CHECK(json_object_array_length(h) == CHECK_HISTORY_MAX);
        check_list_done(&l);

        json_object_put(sec);
        check_facts_done(&f);
}

/* The checks' inputs come from the host facts and the PSP snapshot, value for value. */
static void test_build(void) {
        HostFacts h = {
                .cpu = {
                        .cpuid_source = "native",
                        .identity = { .vendor = "AuthenticAMD", .family = 0x19, .model = 0x11 },
                        .me = { .sev = true, .sev_es = true, .sev_snp = true },
                        .cpuinfo_path = (char *) "/proc/cpuinfo",
                        .flag_sme = TRI_YES, .flag_sev = TRI_YES, .flag_sev_es = TRI_NO, .flag_sev_snp = TRI_UNKNOWN,
                },
                .kvm = {
                        .params_dir = (char *) "/sys/module/kvm_amd/parameters",
                        .loaded = true,
                        .sev = { .value = true },
                        .sev_es = { .error = -EBADMSG, .raw = "banana" },
                        .sev_snp = { .error = -ENOENT },
                        .cth = 99,
                },
                .iommu = { .groups_dir = (char *) "/sys/kernel/iommu_groups", .groups = 3, .identity_groups = 1, .dma_groups = 2 },
                .cmdline = { .path = (char *) "/proc/cmdline", .raw = (char *) "root=/dev/vda1 iommu=pt" },
        };
        PspSnapshot psp = {
                .pci_present = true, .pci_address = "0000:c1:00.1", .driver = "ccp",
                .dev_sev = true, .dev_sfs = false, .status_queried = true,
                .platform = { .open_error = -EACCES },
        };
        CheckFacts f = {};

        CHECK(check_facts_build(&f, &h, &psp) == 0);
        CHECK(streq(f.cpuid_source, "native") && f.cpu.family == 0x19 && f.me.sev_snp);
        CHECK(f.flag_sme == TRI_YES && f.flag_sev_es == TRI_NO && f.flag_sev_snp == TRI_UNKNOWN);
        CHECK(f.kvm_amd_loaded == TRI_YES);
        /* one error rule: a value that is unreadable or not a boolean is unknown */
        CHECK(f.kvm_sev == TRI_YES && f.kvm_sev_es == TRI_UNKNOWN && f.kvm_sev_snp == TRI_UNKNOWN);
        CHECK(f.kvm_cth_asids == 99);
        CHECK(f.iommu_groups == 3 && f.iommu_identity_groups == 1 && f.iommu_dma_groups == 2);
        CHECK(f.cmdline && streq(f.cmdline, "root=/dev/vda1 iommu=pt"));
        CHECK(f.psp_pci_present && streq(f.psp_address, "0000:c1:00.1") && streq(f.psp_driver, "ccp"));
        CHECK(f.dev_sev_exists == TRI_YES && f.sfs_present == TRI_NO);
        CHECK(f.dev_sev_open_error == -EACCES && f.status_queried);
        EXPECT(&f, "kernel.kvm-amd", CHECK_PASS);
        check_facts_done(&f);

        /* kvm_amd: unknown whether loaded; ciphertext_hiding_asids not a number; no PSP yet */
        h.kvm.loaded = false;
        h.kvm.loaded_error = -EACCES;
        h.kvm.cth_error = -EBADMSG;
        h.cmdline.raw = NULL;
        h.cmdline.error = -ENOENT;
        CHECK(check_facts_build(&f, &h, NULL) == 0);
        CHECK(f.kvm_amd_loaded == TRI_UNKNOWN && f.kvm_cth_asids == -1);
        CHECK(f.cmdline == NULL);
        CHECK(!f.psp_pci_present && !f.psp_address && f.dev_sev_exists == TRI_NO && f.sfs_present == TRI_NO);
        EXPECT(&f, "kernel.kvm-amd", CHECK_UNKNOWN);
        check_facts_done(&f);
}

int main(void) {
        test_genoa_all_pass();
        test_milan();
        test_rome_no_snp();
        test_not_amd();
        test_snp_uninit();
        test_fw_error();
        test_no_psp();
        test_bios_and_kvm();
        test_iommu();
        test_update_committed();
        test_tcb_and_fw();
        test_cth();
        test_history();
        test_build();
        if (failures) {
                fprintf(stderr, "%u check(s) failed\n", failures);
                return EXIT_FAILURE;
        }
        printf("test-checks: all checks passed\n");
        return EXIT_SUCCESS;
}
