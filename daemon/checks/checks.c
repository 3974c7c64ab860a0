/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>
#include <stdarg.h>

#include "checks.h"
#include "fileio.h"
#include "tcb.h"

static const char * const result_table[_CHECK_RESULT_MAX] = {
        [CHECK_PASS] = "pass",
        [CHECK_FAIL] = "fail",
        [CHECK_UNKNOWN] = "unknown",
        [CHECK_SKIP] = "skip",
        [CHECK_NOT_APPLICABLE] = "not-applicable",
};

const char *check_result_to_string(CheckResult r) {
        if ((unsigned) r >= _CHECK_RESULT_MAX)
                return NULL;
        return result_table[r];
}

CheckResult check_result_from_string(const char *s) {
        if (!s)
                return _CHECK_RESULT_INVALID;
        for (size_t i = 0; i < _CHECK_RESULT_MAX; i++)
                if (streq(result_table[i], s))
                        return (CheckResult) i;
        return _CHECK_RESULT_INVALID;
}

static const char * const remediation_table[_REMEDIATION_KIND_MAX] = {
        [REMEDIATION_NONE] = "none",
        [REMEDIATION_BIOS_SETTING] = "bios-setting",
        [REMEDIATION_KERNEL_CMDLINE] = "kernel-cmdline",
        [REMEDIATION_MODPROBE_OPTION] = "modprobe-option",
        [REMEDIATION_FIRMWARE_UPDATE] = "firmware-update",
        [REMEDIATION_COMMAND] = "command",
};

const char *remediation_kind_to_string(RemediationKind k) {
        if ((unsigned) k >= _REMEDIATION_KIND_MAX)
                return "none";
        return remediation_table[k];
}

void check_facts_done(CheckFacts *f) {
        free(f->cpuinfo_path);
        free(f->kvm_params_dir);
        free(f->psp_address);
        free(f->psp_driver);
        free(f->dev_sev_path);
        free(f->cmdline_path);
        free(f->cmdline);
        free(f->iommu_groups_dir);
        free(f->dev_sfs_path);
        *f = (CheckFacts) {};
}

void check_list_done(CheckList *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->checks[i].detail);
                free(l->checks[i].remediation_value);
                json_object_put(l->checks[i].evidence);
        }
        free(l->checks);
        *l = (CheckList) {};
}

/* ---- helpers for check bodies ---- */

static void result(Check *c, CheckResult r, const char *fmt, ...) _printf_(3, 4);
static void result(Check *c, CheckResult r, const char *fmt, ...) {
        va_list ap;

        c->result = r;
        free(c->detail);
        va_start(ap, fmt);
        if (vasprintf(&c->detail, fmt, ap) < 0)
                c->detail = NULL;
        va_end(ap);
}

static void remedy(Check *c, RemediationKind k, const char *value, bool reboot, const char *hint) {
        c->remediation = k;
        free(c->remediation_value);
        c->remediation_value = value ? strdup(value) : NULL;
        c->needs_reboot = reboot;
        c->hint = hint;
}

static void ev_str(Check *c, const char *key, const char *v) {
        json_object_object_add(c->evidence, key, json_object_new_string(v ?: ""));
}

static void ev_hex(Check *c, const char *key, uint64_t v) {
        char buf[24];

        snprintf(buf, sizeof buf, "0x%08" PRIx64, v);
        ev_str(c, key, buf);
}

static void ev_int(Check *c, const char *key, int64_t v) {
        json_object_object_add(c->evidence, key, json_object_new_int64(v));
}

static void ev_bool(Check *c, const char *key, bool v) {
        json_object_object_add(c->evidence, key, json_object_new_boolean(v));
}

static void ev_tri(Check *c, const char *key, Tri t) {
        if (t == TRI_UNKNOWN)
                ev_str(c, key, "unknown");
        else
                ev_bool(c, key, t == TRI_YES);
}

static void ev_cpuid(Check *c, const CheckFacts *f) {
        ev_str(c, "source", f->cpuid_source);
        if (f->mem_encrypt_error == 0)
                ev_hex(c, "cpuid_8000001f_eax", f->me_regs.eax);
}

/* CPUID answered and leaf 0x8000001F exists. */
static bool me_known(const CheckFacts *f) {
        return f->mem_encrypt_error == 0;
}

/* The CPU has no SEV at all (known). */
static bool no_sev(const CheckFacts *f) {
        return f->mem_encrypt_error == -ENOENT || (me_known(f) && !f->me.sev);
}

/* The CPU generation has no SEV-SNP (known), so SNP checks do not apply. */
static bool no_snp(const CheckFacts *f) {
        return f->mem_encrypt_error == -ENOENT || (me_known(f) && !f->me.sev_snp);
}

static bool dev_sev_usable(const CheckFacts *f) {
        return f->dev_sev_exists == TRI_YES && f->dev_sev_open_error == 0 && f->status_queried;
}

static bool na_no_snp(const CheckFacts *f, Check *c) {
        if (!no_snp(f))
                return false;
        ev_cpuid(c, f);
        result(c, CHECK_NOT_APPLICABLE, "This CPU has no SEV-SNP (CPUID 0x8000001F EAX[4] is 0).");
        return true;
}

static bool na_no_sev(const CheckFacts *f, Check *c) {
        if (!no_sev(f))
                return false;
        ev_cpuid(c, f);
        result(c, CHECK_NOT_APPLICABLE, "This CPU has no SEV (CPUID 0x8000001F EAX[1] is 0).");
        return true;
}

static bool unknown_cpuid(const CheckFacts *f, Check *c) {
        if (me_known(f) || f->mem_encrypt_error == -ENOENT)
                return false;
        ev_str(c, "source", f->cpuid_source);
        ev_str(c, "error", strerrorname_np(-f->mem_encrypt_error) ?: "unknown");
        result(c, CHECK_UNKNOWN, "CPUID leaf 0x8000001F could not be read from %s: %s.",
               f->cpuid_source, strerrordesc_np(-f->mem_encrypt_error) ?: "unknown error");
        return true;
}

/* ---- the checks ---- */

static void check_cpu_sev(const CheckFacts *f, Check *c) {
        if (unknown_cpuid(f, c))
                return;
        ev_cpuid(c, f);
        ev_str(c, "vendor", f->cpuid_error == 0 ? f->cpu.vendor : "unknown");
        if (f->mem_encrypt_error == -ENOENT) {
                remedy(c, REMEDIATION_NONE, NULL, false, "SEV needs an AMD EPYC processor (7001 series or newer).");
                result(c, CHECK_FAIL, "The CPU has no memory-encryption leaf (CPUID 0x8000001F): it is not an AMD EPYC with SEV.");
        } else if (f->me.sev)
                result(c, CHECK_PASS, "The CPU supports SEV (CPUID 0x8000001F EAX[1]).");
        else {
                remedy(c, REMEDIATION_NONE, NULL, false, "SEV needs an AMD EPYC processor (7001 series or newer).");
                result(c, CHECK_FAIL, "The CPU does not report SEV (CPUID 0x8000001F EAX[1] is 0).");
        }
}

static void check_cpu_sev_es(const CheckFacts *f, Check *c) {
        if (unknown_cpuid(f, c) || na_no_sev(f, c))
                return;
        ev_cpuid(c, f);
        if (f->me.sev_es)
                result(c, CHECK_PASS, "The CPU supports SEV-ES (CPUID 0x8000001F EAX[3]).");
        else {
                remedy(c, REMEDIATION_NONE, NULL, false, "SEV-ES needs an AMD EPYC 7002 series (Rome) or newer.");
                result(c, CHECK_FAIL, "The CPU does not report SEV-ES (CPUID 0x8000001F EAX[3] is 0).");
        }
}

static void check_cpu_sev_snp(const CheckFacts *f, Check *c) {
        if (unknown_cpuid(f, c) || na_no_sev(f, c))
                return;
        ev_cpuid(c, f);
        if (f->me.sev_snp)
                result(c, CHECK_PASS, "The CPU supports SEV-SNP (CPUID 0x8000001F EAX[4]).");
        else
                result(c, CHECK_NOT_APPLICABLE, "This CPU generation has no SEV-SNP (CPUID 0x8000001F EAX[4] is 0); SNP checks do not apply.");
}

static void check_bios_mem_encrypt(const CheckFacts *f, Check *c) {
        static const struct {
                const char *flag;
                size_t cpuid_off, flag_off;
        } bits[] = {
                { "sme", offsetof(CpuidMemEncrypt, sme), offsetof(CheckFacts, flag_sme) },
                { "sev", offsetof(CpuidMemEncrypt, sev), offsetof(CheckFacts, flag_sev) },
                { "sev_es", offsetof(CpuidMemEncrypt, sev_es), offsetof(CheckFacts, flag_sev_es) },
                { "sev_snp", offsetof(CpuidMemEncrypt, sev_snp), offsetof(CheckFacts, flag_sev_snp) },
        };
        char missing[64] = "";
        bool snp_only = true;

        if (unknown_cpuid(f, c) || na_no_sev(f, c))
                return;
        ev_cpuid(c, f);
        ev_str(c, "cpuinfo", f->cpuinfo_path);
        if (f->cpuinfo_error < 0) {
                ev_str(c, "error", strerrorname_np(-f->cpuinfo_error) ?: "unknown");
                result(c, CHECK_UNKNOWN, "%s could not be read: %s.", strna(f->cpuinfo_path),
                       strerrordesc_np(-f->cpuinfo_error) ?: "unknown error");
                return;
        }

        for (size_t i = 0; i < ELEMENTSOF(bits); i++) {
                bool hw = *(const bool *) ((const uint8_t *) &f->me + bits[i].cpuid_off);
                Tri flag = *(const Tri *) ((const uint8_t *) f + bits[i].flag_off);
                char key[32];

                snprintf(key, sizeof key, "cpuid_%s", bits[i].flag);
                ev_bool(c, key, hw);
                snprintf(key, sizeof key, "cpuinfo_%s", bits[i].flag);
                ev_tri(c, key, flag);
                if (hw && flag == TRI_NO) {
                        if (missing[0])
                                strcat(missing, " ");
                        strcat(missing, bits[i].flag);
                        if (!streq(bits[i].flag, "sev_snp"))
                                snp_only = false;
                }
        }

        if (!missing[0]) {
                result(c, CHECK_PASS, "Every memory-encryption feature the CPU has is enabled (the kernel lists it in /proc/cpuinfo).");
                return;
        }
        if (snp_only)
                remedy(c, REMEDIATION_BIOS_SETTING,
                       "SEV-SNP Support=Enabled; SNP Memory (RMP Table) Coverage=Enabled", true,
                       "Enable SEV-SNP in the BIOS (AMD CBS > CPU Common Options > SEV-SNP Support, and SNP Memory Coverage), then reboot.");
        else
                remedy(c, REMEDIATION_BIOS_SETTING,
                       "SMEE=Enabled; SEV Control=Enabled; SEV-ES ASID Space Limit>1; SEV-SNP Support=Enabled", true,
                       "Enable memory encryption in the BIOS (AMD CBS > CPU Common Options > SMEE and SEV Control), then reboot.");
        result(c, CHECK_FAIL, "The CPU has %s but the kernel disabled it (missing from /proc/cpuinfo): the BIOS has not enabled memory encryption.",
               missing);
}

static void check_kvm_amd_loaded(const CheckFacts *f, Check *c) {
        if (unknown_cpuid(f, c) || na_no_sev(f, c))
                return;
        ev_str(c, "source", f->kvm_params_dir);
        ev_tri(c, "loaded", f->kvm_amd_loaded);
        switch (f->kvm_amd_loaded) {
        case TRI_YES:
                result(c, CHECK_PASS, "The kvm_amd module is loaded.");
                break;
        case TRI_NO:
                remedy(c, REMEDIATION_COMMAND, "modprobe kvm_amd", false, "Load the module: modprobe kvm_amd.");
                result(c, CHECK_FAIL, "The kvm_amd module is not loaded (%.*s does not exist).",
                       f->kvm_params_dir ? (int) (strlen(f->kvm_params_dir) - strlen("/parameters")) : 3,
                       f->kvm_params_dir ?: "n/a");
                break;
        default:
                result(c, CHECK_UNKNOWN, "Whether kvm_amd is loaded could not be determined.");
        }
}

static void check_kvm_param(const CheckFacts *f, Check *c, const char *param, Tri value, const char *what) {
        _cleanup_free_ char *opt = NULL, *path = NULL;

        path = f->kvm_params_dir ? path_join(f->kvm_params_dir, param) : NULL;
        ev_str(c, "source", path);
        if (f->kvm_amd_loaded != TRI_YES) {
                result(c, CHECK_SKIP, "kvm_amd is not loaded, so its %s parameter cannot be read.", param);
                return;
        }
        ev_tri(c, param, value);
        if (value == TRI_YES) {
                result(c, CHECK_PASS, "kvm_amd has %s enabled (%s=Y).", what, param);
                return;
        }
        if (value == TRI_UNKNOWN) {
                result(c, CHECK_UNKNOWN, "The kvm_amd parameter %s is missing or unreadable; the kernel may be too old for %s.", param, what);
                return;
        }
        if (asprintf(&opt, "options kvm_amd %s=1", param) < 0)
                opt = NULL;
        remedy(c, REMEDIATION_MODPROBE_OPTION, opt, false,
               "Reload kvm_amd with the option (modprobe -r kvm_amd; modprobe kvm_amd <param>=1) and persist it in /etc/modprobe.d; kvm_amd turns it off on its own when the BIOS or firmware cannot support it, so check the BIOS checks first.");
        result(c, CHECK_FAIL, "kvm_amd has %s disabled (%s=N).", what, param);
}

static void check_kvm_sev(const CheckFacts *f, Check *c) {
        if (unknown_cpuid(f, c) || na_no_sev(f, c))
                return;
        check_kvm_param(f, c, "sev", f->kvm_sev, "SEV");
}

static void check_kvm_sev_es(const CheckFacts *f, Check *c) {
        if (unknown_cpuid(f, c) || na_no_sev(f, c))
                return;
        if (me_known(f) && !f->me.sev_es) {
                result(c, CHECK_NOT_APPLICABLE, "This CPU has no SEV-ES.");
                return;
        }
        check_kvm_param(f, c, "sev_es", f->kvm_sev_es, "SEV-ES");
}

static void check_kvm_sev_snp(const CheckFacts *f, Check *c) {
        if (unknown_cpuid(f, c) || na_no_snp(f, c))
                return;
        check_kvm_param(f, c, "sev_snp", f->kvm_sev_snp, "SEV-SNP");
}

static void check_dev_sev(const CheckFacts *f, Check *c) {
        if (unknown_cpuid(f, c) || na_no_sev(f, c))
                return;
        ev_str(c, "path", f->dev_sev_path);
        ev_bool(c, "psp_pci_present", f->psp_pci_present);
        if (f->psp_address)
                ev_str(c, "psp_address", f->psp_address);
        if (f->psp_pci_present)
                ev_str(c, "psp_driver", f->psp_driver ?: "");
        ev_tri(c, "exists", f->dev_sev_exists);

        if (f->dev_sev_exists == TRI_UNKNOWN) {
                result(c, CHECK_UNKNOWN, "Whether %s exists could not be determined.", strna(f->dev_sev_path));
                return;
        }
        if (f->dev_sev_exists == TRI_NO) {
                if (!f->psp_pci_present) {
                        remedy(c, REMEDIATION_BIOS_SETTING, "SEV Control=Enabled", true,
                               "No PSP PCI function is visible; enable SEV in the BIOS and check that the platform exposes the PSP.");
                        result(c, CHECK_FAIL, "%s does not exist and no PSP PCI function was found.", strna(f->dev_sev_path));
                } else if (!f->psp_driver || !streq(f->psp_driver, "ccp")) {
                        remedy(c, REMEDIATION_COMMAND, "modprobe ccp", false, "Load the PSP driver: modprobe ccp.");
                        result(c, CHECK_FAIL, "%s does not exist: the PSP at %s is not bound to the ccp driver.",
                               strna(f->dev_sev_path), strna(f->psp_address));
                } else {
                        remedy(c, REMEDIATION_BIOS_SETTING, "SMEE=Enabled; SEV Control=Enabled", true,
                               "ccp is bound but created no /dev/sev; the kernel log says why (often \"SEV: memory encryption not enabled by BIOS\").");
                        result(c, CHECK_FAIL, "%s does not exist although ccp is bound to the PSP at %s.",
                               strna(f->dev_sev_path), strna(f->psp_address));
                }
                return;
        }
        if (f->dev_sev_open_error < 0) {
                SevError e;

                sev_error_set(&e, SEV_QUERY_SEV, f->dev_sev_open_error, 0);
                ev_str(c, "error", e.name);
                remedy(c, REMEDIATION_NONE, NULL, false, "hwsecd needs read access to /dev/sev; run it as root with DeviceAllow=/dev/sev r.");
                result(c, CHECK_FAIL, "%s exists but cannot be opened: %s", strna(f->dev_sev_path), e.message);
                return;
        }
        result(c, CHECK_PASS, "%s exists and opens read-only.", strna(f->dev_sev_path));
}

static bool skip_without_dev_sev(const CheckFacts *f, Check *c) {
        if (dev_sev_usable(f))
                return false;
        result(c, CHECK_SKIP, "/dev/sev is not available, so the platform status cannot be read.");
        return true;
}

static void ev_error(Check *c, const SevError *e) {
        ev_str(c, "error", e->name);
        if (e->fw_code)
                ev_hex(c, "firmware_status", e->fw_code);
}

static void check_sev_state(const CheckFacts *f, Check *c) {
        const SevPlatform *p = &f->platform;

        if (unknown_cpuid(f, c) || na_no_sev(f, c) || skip_without_dev_sev(f, c))
                return;
        ev_str(c, "source", "SEV_PLATFORM_STATUS");
        if (!p->sev_valid) {
                ev_error(c, &p->sev_error);
                remedy(c, REMEDIATION_NONE, NULL, false, "Check the kernel log for ccp/SEV messages; a firmware update may be needed.");
                result(c, CHECK_FAIL, "The SEV status could not be read: %s", p->sev_error.message);
                return;
        }
        ev_str(c, "state", sev_state_to_string(p->sev.state));
        ev_int(c, "state_raw", p->sev.state);
        switch (p->sev.state) {
        case 1:
        case 2:
                result(c, CHECK_PASS, "The SEV platform is %s.", p->sev.state == 1 ? "initialised (INIT)" : "in use (WORKING)");
                break;
        case 0:
                remedy(c, REMEDIATION_COMMAND, "modprobe kvm_amd", false,
                       "Since Linux 6.16 kvm_amd initialises the SEV platform when it loads; load kvm_amd and check the kernel log for SEV init errors.");
                result(c, CHECK_FAIL, "The SEV platform is not initialised (UNINIT).");
                break;
        default:
                result(c, CHECK_UNKNOWN, "The firmware reports SEV state %u, which the API does not define.", p->sev.state);
        }
}

static void check_snp_init(const CheckFacts *f, Check *c) {
        const SevPlatform *p = &f->platform;

        if (unknown_cpuid(f, c) || na_no_snp(f, c) || skip_without_dev_sev(f, c))
                return;
        ev_str(c, "source", "SNP_PLATFORM_STATUS");
        if (!p->snp_valid) {
                ev_error(c, &p->snp_error);
                if (streq(p->snp_error.name, "SNP_NOT_INITIALIZED"))
                        remedy(c, REMEDIATION_MODPROBE_OPTION, "options kvm_amd sev_snp=1", true,
                               "Enable SEV-SNP in the BIOS, keep the IOMMU on (no iommu=pt), and load kvm_amd with sev_snp=1 on Linux 6.11 or newer.");
                else
                        remedy(c, REMEDIATION_NONE, NULL, false, "Check the kernel log for ccp/SEV messages; a firmware update may be needed.");
                result(c, CHECK_FAIL, "%s", p->snp_error.message);
                return;
        }
        ev_str(c, "state", snp_state_to_string(p->snp.state));
        ev_int(c, "state_raw", p->snp.state);
        if (snp_status_initialized(&p->snp))
                result(c, CHECK_PASS, "SEV-SNP is initialised.");
        else {
                remedy(c, REMEDIATION_MODPROBE_OPTION, "options kvm_amd sev_snp=1", true,
                       "Load kvm_amd with sev_snp=1 (it issues SNP_INIT); check the kernel log if it stays uninitialised.");
                result(c, CHECK_FAIL, "SEV-SNP is not initialised (SNP state UNINIT).");
        }
}

static bool skip_without_snp_status(const CheckFacts *f, Check *c) {
        if (skip_without_dev_sev(f, c))
                return true;
        if (f->platform.snp_valid)
                return false;
        ev_error(c, &f->platform.snp_error);
        result(c, CHECK_SKIP, "The SNP status is not available: %s", f->platform.snp_error.message);
        return true;
}

static void check_rmp_init(const CheckFacts *f, Check *c) {
        if (unknown_cpuid(f, c) || na_no_snp(f, c) || skip_without_snp_status(f, c))
                return;
        ev_str(c, "source", "SNP_PLATFORM_STATUS");
        ev_bool(c, "is_rmp_initialized", f->platform.snp.is_rmp_initialized);
        if (f->platform.snp.is_rmp_initialized)
                result(c, CHECK_PASS, "The RMP table is initialised.");
        else {
                remedy(c, REMEDIATION_BIOS_SETTING, "SNP Memory (RMP Table) Coverage=Enabled", true,
                       "The RMP must cover all memory: enable SNP Memory Coverage in the BIOS, reboot, and let kvm_amd initialise SNP.");
                result(c, CHECK_FAIL, "The RMP table is not initialised.");
        }
}

static void check_fw_version(const CheckFacts *f, Check *c) {
        const SevPlatform *p = &f->platform;
        unsigned major, minor;
        char v[16], need[16];

        if (unknown_cpuid(f, c) || na_no_snp(f, c) || skip_without_dev_sev(f, c))
                return;
        if (p->snp_valid) {
                major = p->snp.api_major;
                minor = p->snp.api_minor;
                ev_str(c, "source", "SNP_PLATFORM_STATUS");
                ev_int(c, "build", p->snp.build_id);
        } else if (p->sev_valid) {
                major = p->sev.api_major;
                minor = p->sev.api_minor;
                ev_str(c, "source", "SEV_PLATFORM_STATUS");
                ev_int(c, "build", p->sev.build);
        } else {
                ev_error(c, &p->sev_error);
                result(c, CHECK_SKIP, "Neither SEV nor SNP status could be read, so the firmware version is not known.");
                return;
        }
        snprintf(v, sizeof v, "%u.%u", major, minor);
        snprintf(need, sizeof need, "%u.%u", CHECK_SNP_MIN_API_MAJOR, CHECK_SNP_MIN_API_MINOR);
        ev_str(c, "api_version", v);
        ev_str(c, "minimum", need);
        if (major > CHECK_SNP_MIN_API_MAJOR || (major == CHECK_SNP_MIN_API_MAJOR && minor >= CHECK_SNP_MIN_API_MINOR))
                result(c, CHECK_PASS, "SEV firmware API %s is at least %s, which SEV-SNP needs.", v, need);
        else {
                remedy(c, REMEDIATION_FIRMWARE_UPDATE, "SEV firmware API >= 1.51", true,
                       "Update the BIOS, or place a newer amd_sev_fam*h_model*h.sbin in /lib/firmware/amd for ccp to hot-load, then reboot.");
                result(c, CHECK_FAIL, "SEV firmware API %s is older than %s, which SEV-SNP needs.", v, need);
        }
}

/* Returns the offending cmdline token (static buffer), or NULL. *ret_off: IOMMU off. */
static const char *cmdline_iommu_problem(const char *cmdline, bool *ret_off) {
        static char token[64];
        const char *p = cmdline;

        while (p && *p) {
                size_t n;

                p += strspn(p, " \t\n");
                n = strcspn(p, " \t\n");
                if (n == 0)
                        break;
                snprintf(token, sizeof token, "%.*s", (int) MIN(n, sizeof token - 1), p);
                p += n;
                if (streq(token, "amd_iommu=off") || streq(token, "iommu=off")) {
                        *ret_off = true;
                        return token;
                }
                if (streq(token, "iommu=pt") || streq(token, "iommu.passthrough=1") ||
                    streq(token, "iommu.passthrough=on") || streq(token, "iommu.passthrough=y")) {
                        *ret_off = false;
                        return token;
                }
        }
        return NULL;
}

static void check_iommu(const CheckFacts *f, Check *c) {
        const char *bad;
        bool off = false;

        if (unknown_cpuid(f, c) || na_no_snp(f, c))
                return;
        ev_str(c, "cmdline_source", f->cmdline_path);
        ev_str(c, "cmdline", f->cmdline ?: "unknown");
        ev_str(c, "groups_source", f->iommu_groups_dir);
        ev_int(c, "groups", f->iommu_groups);
        if (f->iommu_groups >= 0) {
                ev_int(c, "identity_groups", f->iommu_identity_groups);
                ev_int(c, "translated_groups", f->iommu_dma_groups);
        }

        bad = f->cmdline ? cmdline_iommu_problem(f->cmdline, &off) : NULL;
        if (bad) {
                _cleanup_free_ char *v = NULL;

                if (asprintf(&v, "remove %s", bad) < 0)
                        v = NULL;
                remedy(c, REMEDIATION_KERNEL_CMDLINE, v, true,
                       "Remove the option from the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub) and reboot; SEV-SNP needs the IOMMU translating.");
                result(c, CHECK_FAIL, "The kernel command line has %s: the IOMMU is %s, and SNP cannot be initialised.",
                       bad, off ? "off" : "in passthrough mode");
                return;
        }
        if (f->iommu_groups < 0) {
                result(c, CHECK_UNKNOWN, "The IOMMU groups could not be read%s.", f->cmdline ? "" : ", nor the kernel command line");
                return;
        }
        if (f->iommu_groups == 0) {
                remedy(c, REMEDIATION_BIOS_SETTING, "IOMMU=Enabled", true,
                       "Enable the IOMMU in the BIOS (AMD CBS > NBIO Common Options > IOMMU) and do not pass amd_iommu=off; then reboot.");
                result(c, CHECK_FAIL, "There are no IOMMU groups: the IOMMU is off, and SNP cannot be initialised.");
                return;
        }
        if (f->iommu_identity_groups > 0 && f->iommu_dma_groups == 0) {
                remedy(c, REMEDIATION_KERNEL_CMDLINE, "iommu.passthrough=0", true,
                       "Every IOMMU group uses an identity (passthrough) domain; boot with iommu.passthrough=0 (and without iommu=pt).");
                result(c, CHECK_FAIL, "All %d IOMMU groups are in passthrough (identity) mode.", f->iommu_groups);
                return;
        }
        result(c, CHECK_PASS, "The IOMMU is on and translating (%d groups, %d with DMA domains).",
               f->iommu_groups, f->iommu_dma_groups);
}

static void check_tcb(const CheckFacts *f, Check *c) {
        const SnpStatus *s = &f->platform.snp;
        TcbLayout layout = tcb_layout_for_family(f->cpu.family);
        TcbVersion cur, rep;
        char a[64], b[64];

        if (unknown_cpuid(f, c) || na_no_snp(f, c) || skip_without_snp_status(f, c))
                return;
        (void) tcb_decode(s->current_tcb, layout, &cur);
        (void) tcb_decode(s->reported_tcb, layout, &rep);
        (void) tcb_format(&cur, a, sizeof a);
        (void) tcb_format(&rep, b, sizeof b);
        ev_str(c, "source", "SNP_PLATFORM_STATUS");
        ev_hex(c, "current_tcb", s->current_tcb);
        ev_hex(c, "reported_tcb", s->reported_tcb);
        ev_str(c, "layout", tcb_layout_to_string(layout));
        if (s->current_tcb == s->reported_tcb)
                result(c, CHECK_PASS, "The current TCB equals the reported TCB (%s).", a);
        else {
                remedy(c, REMEDIATION_COMMAND, "hwsecctl psp set-config --reported-tcb current", false,
                       "The reported TCB is behind the current one, so guests' attestation reports show the older TCB. Report the current TCB with 'hwsecctl psp set-config --reported-tcb current'; once guests work on the new firmware, 'hwsecctl psp commit' also prevents rollback (that cannot be undone).");
                result(c, CHECK_FAIL, "Reported TCB behind current: current %s, reported %s.", a, b);
        }
}

/* An update installed by a firmware job and not committed since: rollback to the older firmware
 * stays possible (and guests' reports may show the old TCB). Commits hwsecd made: the job's own
 * (ScheduleUpdate option commit) or a later Psp.CommitFirmware(). */
static void check_update_committed(const CheckFacts *f, Check *c) {
        const FirmwareSnapshot *fw = &f->firmware;

        if (unknown_cpuid(f, c) || na_no_snp(f, c))
                return;
        if (!f->have_firmware || !fw->have_update) {
                result(c, CHECK_NOT_APPLICABLE, "hwsecd has installed no firmware update on this host.");
                return;
        }
        ev_int(c, "update_job", fw->update_job);
        ev_int(c, "update_finished_usec", (int64_t) fw->update_usec);
        ev_bool(c, "committed_by_job", fw->update_committed);
        ev_int(c, "last_commit_usec", (int64_t) f->last_commit_usec);
        if (fw->update_committed || f->last_commit_usec >= fw->update_usec) {
                result(c, CHECK_PASS, "The firmware installed by job %u was committed.", fw->update_job);
                return;
        }
        remedy(c, REMEDIATION_COMMAND, "hwsecctl psp commit", false,
               "The update was not committed, so the older firmware can still be loaded back. Once guests work on the new firmware, commit it with 'hwsecctl psp commit' (it cannot be undone), or schedule updates with the commit option.");
        result(c, CHECK_FAIL, "Firmware not committed after the update of job %u.", fw->update_job);
}

static void check_cth_capable(const CheckFacts *f, Check *c) {
        const SnpStatus *s = &f->platform.snp;

        if (unknown_cpuid(f, c) || na_no_snp(f, c) || skip_without_snp_status(f, c))
                return;
        ev_str(c, "source", "SNP_PLATFORM_STATUS");
        ev_bool(c, "feature_info", s->feature_info);
        ev_bool(c, "ciphertext_hiding_cap", s->ciphertext_hiding_cap);
        if (s->ciphertext_hiding_cap) {
                result(c, CHECK_PASS, "The platform is capable of SEV-SNP ciphertext hiding.");
                return;
        }
        if (!s->feature_info) {
                result(c, CHECK_NOT_APPLICABLE, "The SNP firmware does not implement SNP_FEATURE_INFO, so this platform has no ciphertext hiding.");
                return;
        }
        remedy(c, REMEDIATION_BIOS_SETTING, "SEV-SNP CipherTextHiding=Enabled", true,
               "Enable ciphertext hiding in the BIOS (AMD CBS > CPU Common Options > SEV-SNP CipherTextHiding), then reboot.");
        result(c, CHECK_FAIL, "The firmware knows SNP features but the BIOS has not enabled ciphertext hiding (ciphertext_hiding_cap is 0).");
}

static void check_cth_enabled(const CheckFacts *f, Check *c) {
        const SnpStatus *s = &f->platform.snp;
        _cleanup_free_ char *opt = NULL;
        uint32_t suggest;

        if (unknown_cpuid(f, c) || na_no_snp(f, c) || skip_without_snp_status(f, c))
                return;
        ev_str(c, "source", "SNP_PLATFORM_STATUS");
        ev_bool(c, "ciphertext_hiding_cap", s->ciphertext_hiding_cap);
        ev_bool(c, "ciphertext_hiding_en", s->ciphertext_hiding_en);
        ev_str(c, "param_source", f->kvm_params_dir);
        if (f->kvm_cth_asids >= 0)
                ev_int(c, "ciphertext_hiding_asids", f->kvm_cth_asids);
        else
                ev_str(c, "ciphertext_hiding_asids", "unknown");

        if (!s->ciphertext_hiding_cap && !s->ciphertext_hiding_en) {
                result(c, CHECK_NOT_APPLICABLE, "The platform is not capable of ciphertext hiding.");
                return;
        }
        if (s->ciphertext_hiding_en) {
                if (f->kvm_cth_asids == 0) {
                        result(c, CHECK_FAIL, "The firmware has ciphertext hiding enabled but kvm_amd.ciphertext_hiding_asids reads 0: kvm_amd and the firmware disagree.");
                        remedy(c, REMEDIATION_NONE, NULL, false,
                               "Something other than kvm_amd initialised SNP with ciphertext hiding; reload kvm_amd or reboot so that both agree.");
                } else if (f->kvm_cth_asids > 0)
                        result(c, CHECK_PASS, "Ciphertext hiding is enabled, with %" PRIi64 " SNP ASIDs in kvm_amd.", f->kvm_cth_asids);
                else
                        result(c, CHECK_PASS, "Ciphertext hiding is enabled (kvm_amd does not show ciphertext_hiding_asids).");
                return;
        }

        /* Suggest an even split of the joint SEV-ES/SNP ASIDs: min SEV ASID - 1 would give every
         * joint ASID to SNP and leave SEV-ES unusable, which the ASID policy refuses without
         * consent. */
        suggest = me_known(f) && f->me.min_sev_asid > 2 ? (f->me.min_sev_asid - 1) / 2 : 1;
        if (asprintf(&opt, "options kvm_amd ciphertext_hiding_asids=%" PRIu32, suggest) < 0)
                opt = NULL;
        if (f->kvm_cth_asids > 0) {
                remedy(c, REMEDIATION_NONE, NULL, false,
                       "kvm_amd asked for ciphertext hiding but the firmware did not enable it; check that the SNP firmware supports it (SNP_FEATURE_INFO ECX[3]) and the kernel log.");
                result(c, CHECK_FAIL, "kvm_amd.ciphertext_hiding_asids is %" PRIi64 " but the firmware reports ciphertext hiding off.",
                       f->kvm_cth_asids);
                return;
        }
        remedy(c, REMEDIATION_MODPROBE_OPTION, opt, true,
               "Choose how many of the joint SEV-ES/SNP ASIDs SNP gets and stage it with `hwsecctl asid set-policy --ciphertext-hiding N` (try --dry-run first; all of them leaves SEV-ES unusable). Needs Linux 6.18; SNP is initialised once, so reboot to apply.");
        if (f->kvm_cth_asids == 0)
                result(c, CHECK_FAIL, "The platform is capable of ciphertext hiding but it is off (kvm_amd.ciphertext_hiding_asids=0).");
        else
                result(c, CHECK_FAIL, "The platform is capable of ciphertext hiding but it is off, and this kernel's kvm_amd has no ciphertext_hiding_asids parameter (Linux 6.18 or newer needed).");
}

static void check_sfs(const CheckFacts *f, Check *c) {
        ev_str(c, "path", f->dev_sfs_path);
        ev_tri(c, "exists", f->sfs_present);
        if (f->cpuid_error == 0) {
                ev_int(c, "cpu_family", f->cpu.family);
                ev_int(c, "cpu_model", f->cpu.model);
        }
        if (f->sfs_present == TRI_YES) {
                result(c, CHECK_PASS, "Seamless Firmware Servicing is available (%s exists).", strna(f->dev_sfs_path));
                return;
        }
        if (f->sfs_present == TRI_UNKNOWN) {
                result(c, CHECK_UNKNOWN, "Whether %s exists could not be determined.", strna(f->dev_sfs_path));
                return;
        }
        if (no_sev(f)) {
                result(c, CHECK_NOT_APPLICABLE, "This CPU has no SEV, and no SFS.");
                return;
        }
        if (f->cpuid_error == 0 && (f->cpu.family < 0x19 || (f->cpu.family == 0x19 && f->cpu.model < 0x10))) {
                result(c, CHECK_NOT_APPLICABLE, "SFS is not offered on this CPU generation (family 0x%x model 0x%x).",
                       f->cpu.family, f->cpu.model);
                return;
        }
        if (!f->psp_pci_present) {
                result(c, CHECK_SKIP, "There is no PSP, so there is no SFS.");
                return;
        }
        remedy(c, REMEDIATION_FIRMWARE_UPDATE, "Linux >= 6.18 and PSP firmware advertising SFS", false,
               "SFS needs Linux 6.18 or newer (ccp with /dev/sfs) and PSP firmware that advertises SFS (capability bit 3).");
        result(c, CHECK_FAIL, "%s does not exist: the kernel or the PSP firmware does not offer SFS.", strna(f->dev_sfs_path));
}

static const struct {
        const char *id;
        const char *category;
        const char *title;
        void (*run)(const CheckFacts *f, Check *c);
} registry[] = {
        { "cpu.sev",                 "cpu",      "CPU supports SEV",                              check_cpu_sev },
        { "cpu.sev-es",              "cpu",      "CPU supports SEV-ES",                           check_cpu_sev_es },
        { "cpu.sev-snp",             "cpu",      "CPU supports SEV-SNP",                          check_cpu_sev_snp },
        { "bios.memory-encryption",  "bios",     "Memory encryption enabled by the BIOS",         check_bios_mem_encrypt },
        { "kernel.kvm-amd",          "kernel",   "kvm_amd loaded",                                check_kvm_amd_loaded },
        { "kernel.kvm-amd-sev",      "kernel",   "kvm_amd sev parameter",                         check_kvm_sev },
        { "kernel.kvm-amd-sev-es",   "kernel",   "kvm_amd sev_es parameter",                      check_kvm_sev_es },
        { "kernel.kvm-amd-sev-snp",  "kernel",   "kvm_amd sev_snp parameter",                     check_kvm_sev_snp },
        { "iommu.translation",       "iommu",    "IOMMU enabled and not in passthrough",          check_iommu },
        { "platform.dev-sev",        "platform", "/dev/sev present and openable",                 check_dev_sev },
        { "platform.sev-state",      "platform", "SEV platform state",                            check_sev_state },
        { "platform.snp-init",       "platform", "SEV-SNP initialised",                           check_snp_init },
        { "platform.rmp-init",       "platform", "RMP initialised",                               check_rmp_init },
        { "firmware.snp-version",    "firmware", "SEV firmware new enough for SEV-SNP",           check_fw_version },
        { "firmware.tcb-committed",  "firmware", "Current TCB equals reported TCB",               check_tcb },
        { "firmware.update-committed", "firmware", "Firmware committed after the last update",    check_update_committed },
        { "features.ciphertext-hiding-capable", "features", "Ciphertext hiding capable",          check_cth_capable },
        { "features.ciphertext-hiding-enabled", "features", "Ciphertext hiding enabled, consistent with kvm_amd", check_cth_enabled },
        { "features.sfs",            "features", "Seamless Firmware Servicing (SFS) available",   check_sfs },
};

int checks_run(const CheckFacts *f, CheckList *ret) {
        CheckList l = {};

        l.checks = calloc(ELEMENTSOF(registry), sizeof(Check));
        if (!l.checks)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(registry); i++) {
                Check *c = &l.checks[l.n++];

                *c = (Check) {
                        .id = registry[i].id,
                        .category = registry[i].category,
                        .title = registry[i].title,
                        .result = CHECK_UNKNOWN,
                        .hint = "",
                        .evidence = json_object_new_object(),
                };
                if (!c->evidence) {
                        check_list_done(&l);
                        return -ENOMEM;
                }
                registry[i].run(f, c);
                if (!c->detail) {
                        check_list_done(&l);
                        return -ENOMEM;
                }
                if (c->result == CHECK_PASS || c->result == CHECK_NOT_APPLICABLE) {
                        /* a passing check needs no fix */
                        c->hint = "";
                        c->remediation = REMEDIATION_NONE;
                        c->remediation_value = mfree(c->remediation_value);
                        c->needs_reboot = false;
                }
        }
        *ret = l;
        return 0;
}

const Check *check_list_find(const CheckList *l, const char *id) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->checks[i].id, id))
                        return &l->checks[i];
        return NULL;
}

void check_list_summary(const CheckList *l, unsigned counts[_CHECK_RESULT_MAX]) {
        memset(counts, 0, sizeof(unsigned) * _CHECK_RESULT_MAX);
        for (size_t i = 0; i < l->n; i++)
                if ((unsigned) l->checks[i].result < _CHECK_RESULT_MAX)
                        counts[l->checks[i].result]++;
}

json_object *check_remediation_to_json(const Check *c) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "kind", json_object_new_string(remediation_kind_to_string(c->remediation)));
        json_object_object_add(o, "value", json_object_new_string(c->remediation_value ?: ""));
        json_object_object_add(o, "needs_reboot", json_object_new_boolean(c->needs_reboot));
        return o;
}

json_object *check_to_json(const Check *c) {
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "id", json_object_new_string(c->id));
        json_object_object_add(o, "category", json_object_new_string(c->category));
        json_object_object_add(o, "result", json_object_new_string(check_result_to_string(c->result)));
        json_object_object_add(o, "title", json_object_new_string(c->title));
        json_object_object_add(o, "detail", json_object_new_string(c->detail ?: ""));
        json_object_object_add(o, "hint", json_object_new_string(c->hint ?: ""));
        json_object_object_add(o, "evidence", json_object_get(c->evidence));
        json_object_object_add(o, "remediation", check_remediation_to_json(c));
        return o;
}

json_object *check_list_to_json(const CheckList *l) {
        json_object *a = json_object_new_array();

        if (!a)
                return NULL;
        for (size_t i = 0; i < l->n; i++)
                json_object_array_add(a, check_to_json(&l->checks[i]));
        return a;
}
