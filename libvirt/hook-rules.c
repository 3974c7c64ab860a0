/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <inttypes.h>
#include <stdarg.h>

#include "hook-rules.h"

#define ERROR_NOT_FOUND "org.hwsecd1.Error.NotFound"
#define ERROR_INVALID_ARGUMENT "org.hwsecd1.Error.InvalidArgument"

void pci_answer_done(PciAnswer *a) {
        free(a->address);
        free(a->error_name);
        free(a->error_message);
        free(a->verdict);
        strv_free(a->reasons);
        for (size_t i = 0; i < a->n_members; i++) {
                free(a->members[i].address);
                free(a->members[i].driver);
        }
        free(a->members);
        *a = (PciAnswer) {};
}

void asid_answer_done(AsidAnswer *a) {
        for (size_t i = 0; i < a->n_pools; i++) {
                free(a->pools[i].name);
                free(a->pools[i].state);
                free(a->pools[i].note);
        }
        free(a->pools);
        strv_free(a->explanation);
        *a = (AsidAnswer) {};
}

void check_done(Check *c) {
        free(c->id);
        free(c->result);
        free(c->title);
        free(c->detail);
        free(c->hint);
        free(c->remedy);
        *c = (Check) {};
}

void judgement_done(Judgement *j) {
        strv_free(j->refusals);
        strv_free(j->unjudged);
        strv_free(j->allowed);
        strv_free(j->warnings);
        *j = (Judgement) {};
}

char *sanitize_line(const char *s) {
        char *t = strdup(strempty(s));

        if (!t)
                return NULL;
        for (char *p = t; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        *p = '?';
        return t;
}

static int add(char ***l, const char *fmt, ...) _printf_(2, 3);
static int add(char ***l, const char *fmt, ...) {
        _cleanup_free_ char *s = NULL, *clean = NULL;
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        clean = sanitize_line(s);
        if (!clean)
                return -ENOMEM;
        return strv_extend(l, clean) < 0 ? -ENOMEM : 0;
}

/* "a, b and c" */
static int join_list(char * const *items, char **ret) {
        size_t n = strv_length(items), len = 1;
        char *s;

        for (size_t i = 0; i < n; i++)
                len += strlen(items[i]) + 5;
        s = malloc(len);
        if (!s)
                return -ENOMEM;
        s[0] = '\0';
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        strcat(s, i + 1 == n ? " and " : ", ");
                strcat(s, items[i]);
        }
        *ret = s;
        return 0;
}

static int join_reasons(char * const *items, size_t n, char **ret) {
        size_t len = 1;
        char *s;

        for (size_t i = 0; i < n; i++)
                len += strlen(items[i]) + 2;
        s = malloc(len);
        if (!s)
                return -ENOMEM;
        s[0] = '\0';
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        strcat(s, " ");
                strcat(s, items[i]);
        }
        *ret = s;
        return 0;
}

/* A member that is ready but not bound to vfio-pci is a bridge (pci-assign.c: VFIO leaves
 * bridges to pcieport); bridges never have to be given to the guest. */
static bool member_is_bridge(const PciMember *m) {
        return m->ready && !streq(strempty(m->driver), "vfio-pci");
}

/* The audit reasons: CheckAssignable appends one reason per member that is not ready
 * (docs/pci-audit.md); those are about drivers, which libvirt's managed='yes' rebinds. */
static size_t audit_reason_count(const PciAnswer *a) {
        size_t n = strv_length(a->reasons), not_ready = 0;

        for (size_t i = 0; i < a->n_members; i++)
                if (!a->members[i].ready)
                        not_ready++;
        return not_ready < n ? n - not_ready : MIN(n, (size_t) 1);
}

static int refuse_not_isolated(const PciAnswer *a, char * const *missing, Judgement *j) {
        _cleanup_free_ char *why = NULL, *list = NULL;
        int r;

        r = join_reasons(a->reasons, audit_reason_count(a), &why);
        if (r >= 0)
                r = join_list(missing, &list);
        if (r < 0)
                return r;
        return add(&j->refusals,
                   "PCI device %s is not isolated (hwsecd verdict: %s): %s It must move with %s, which %s "
                   "not given to this guest. Give %s to this guest together with %s, or keep %s on the host.",
                   a->address, a->verdict, isempty(why) ? "(no reason given)" : why, list,
                   strv_length(missing) == 1 ? "is" : "are", strv_length(missing) == 1 ? "it" : "all of them",
                   a->address, a->address);
}

static int judge_one_pci(const Domain *d, const PciAnswer *a, Judgement *j) {
        _cleanup_strv_free_ char **missing = NULL, **together = NULL;
        int r;

        if (a->error_name) {
                if (streq(a->error_name, ERROR_NOT_FOUND))
                        return add(&j->refusals, "PCI device %s is not on this host's PCI bus (%s: %s). Check "
                                   "the <source><address> of the <hostdev>; if the device was just plugged in, "
                                   "start the guest again in a moment.", a->address, a->error_name,
                                   strempty(a->error_message));
                if (streq(a->error_name, ERROR_INVALID_ARGUMENT))
                        return add(&j->refusals, "PCI device %s: hwsecd refused the address (%s: %s). Check the "
                                   "<source><address> of the <hostdev>.", a->address, a->error_name,
                                   strempty(a->error_message));
                return add(&j->unjudged, "PCI device %s could not be checked: %s: %s", a->address, a->error_name,
                           strempty(a->error_message));
        }
        if (streq(strempty(a->verdict), "isolated"))
                return add(&j->allowed, "PCI device %s is isolated.", a->address);
        if (streq(strempty(a->verdict), "no-iommu"))
                return add(&j->refusals, "PCI device %s cannot be isolated: this host has no IOMMU groups "
                           "(hwsecd verdict: no-iommu). Turn the IOMMU on (BIOS, and no amd_iommu=off or "
                           "iommu=off on the kernel command line), or keep %s on the host.", a->address, a->address);
        if (!streq(strempty(a->verdict), "shared") && !streq(strempty(a->verdict), "unsafe"))
                return add(&j->refusals, "PCI device %s has the hwsecd verdict '%s', which this hook does not know; "
                           "update the hook together with hwsecd.", a->address, strempty(a->verdict));

        for (size_t i = 0; i < a->n_members; i++) {
                const PciMember *m = &a->members[i];
                if (streq(m->address, a->address) || member_is_bridge(m))
                        continue;
                if (strv_extend(strv_contains(d->hostdevs, m->address) ? &together : &missing, m->address) < 0)
                        return -ENOMEM;
        }
        if (!strv_isempty(missing))
                return refuse_not_isolated(a, missing, j);

        _cleanup_free_ char *list = NULL;
        r = together ? join_list(together, &list) : 0;
        if (r < 0)
                return r;
        return add(&j->allowed, "PCI device %s (hwsecd verdict: %s alone) is given to this guest together with "
                   "every device that must move with it (%s), so the set is isolated as a whole.", a->address,
                   a->verdict, list ?: "none besides bridges");
}

int judge_pci(const Domain *d, const PciAnswer *answers, size_t n, Judgement *j) {
        for (size_t i = 0; i < n; i++) {
                int r = judge_one_pci(d, &answers[i], j);
                if (r < 0)
                        return r;
        }
        return 0;
}

const char *launch_security_pool(LaunchSecurity l) {
        switch (l) {
        case LAUNCH_SECURITY_SEV:
                return "sev";
        case LAUNCH_SECURITY_SEV_ES:
                return "sev-es";
        case LAUNCH_SECURITY_SEV_SNP:
                return "snp";
        default:
                return NULL;
        }
}

static const char *pool_label(const char *pool) {
        return streq(pool, "snp") ? "SEV-SNP" : streq(pool, "sev-es") ? "SEV-ES" : "SEV";
}

static const char *pool_param(const char *pool) {
        return streq(pool, "snp") ? "sev_snp" : streq(pool, "sev-es") ? "sev_es" : "sev";
}

/* hwsecd's sentence about this pool ("SEV-ES has no ASIDs because ..."), or "". */
static const char *pool_explanation(const AsidAnswer *a, const char *pool) {
        const char *label = pool_label(pool);
        size_t n = strlen(label);

        STRV_FOREACH(s, a->explanation)
                if (strneq(*s, label, n) && (*s)[n] == ' ')
                        return *s;
        return "";
}

static int refuse_no_capacity(const char *pool, const AsidPool *p, const AsidAnswer *a, Judgement *j) {
        const char *label = pool_label(pool), *why = pool_explanation(a, pool);

        if (streq(p->state, "disabled"))
                return add(&j->refusals, "No %s ASID for this guest: the %s pool is disabled. %s Enable it "
                           "(options kvm_amd %s=1, and %s in the BIOS), then reload kvm_amd or reboot.", label, label,
                           why, pool_param(pool), label);
        if (streq(pool, "sev-es") && a->ciphertext_hiding_asids > 0)
                return add(&j->refusals, "No SEV-ES ASID for this guest: the SEV-ES pool (%" PRIu32 "-%" PRIu32
                           ", capacity %" PRIu32 ") is %s. %s Lower kvm_amd ciphertext_hiding_asids (now %" PRIu32
                           ", hwsecctl asid set-policy), then reload kvm_amd or reboot.", p->first, p->last,
                           p->capacity, p->state, why, a->ciphertext_hiding_asids);
        return add(&j->refusals, "No %s ASID for this guest: the %s pool (%" PRIu32 "-%" PRIu32 ", capacity %" PRIu32
                   ") is %s. %s Check the BIOS minimum SEV ASID and kvm_amd's %s parameter (hwsecctl asid).",
                   label, label, p->first, p->last, p->capacity, p->state, why, pool_param(pool));
}

static int refuse_full(const char *pool, const AsidPool *p, Judgement *j) {
        const char *label = pool_label(pool);
        const char *fix = streq(pool, "snp") ? "or give SEV-SNP more ASIDs (raise kvm_amd ciphertext_hiding_asids "
                                               "with hwsecctl asid set-policy, then reload kvm_amd)"
                        : streq(pool, "sev-es") ? "or give SEV-ES more ASIDs (lower kvm_amd ciphertext_hiding_asids "
                                                  "with hwsecctl asid set-policy, then reload kvm_amd)"
                                                : "or raise the BIOS minimum SEV ASID, which gives plain SEV the "
                                                  "ASIDs above it";

        return add(&j->refusals, "No free %s ASID: all %" PRIu32 " ASIDs of the %s pool (%" PRIu32 "-%" PRIu32
                   ") are in use (%" PRIi64 " used). Stop another %s guest first, %s.", label, p->capacity, label,
                   p->first, p->last, p->used, streq(pool, "sev-es") ? "SEV-ES or SEV-SNP" : label, fix);
}

int judge_asid(const Domain *d, const AsidAnswer *a, Judgement *j) {
        const char *pool = launch_security_pool(d->launch_security);
        const AsidPool *p = NULL;

        if (!pool)
                return 0;
        for (size_t i = 0; i < a->n_pools; i++)
                if (streq(strempty(a->pools[i].name), pool))
                        p = &a->pools[i];
        if (!p)
                return add(&j->unjudged, "hwsecd reports no %s ASID pool.", pool_label(pool));
        if (!streq(strempty(p->state), "enabled") || p->capacity == 0)
                return refuse_no_capacity(pool, p, a, j);
        if (p->free < 0)
                return add(&j->warnings, "The number of free %s ASIDs is unknown (%s); the guest may fail to start "
                           "if the %s pool (%" PRIu32 "-%" PRIu32 ") is full.", pool_label(pool), strempty(p->note),
                           pool_label(pool), p->first, p->last);
        if (p->free == 0)
                return refuse_full(pool, p, j);
        return add(&j->allowed, "%s ASID pool %" PRIu32 "-%" PRIu32 ": %" PRIi64 " of %" PRIu32 " free.",
                   pool_label(pool), p->first, p->last, p->free, p->capacity);
}

/* The readiness checks an SNP guest start depends on (docs/checks.md). An uncommitted TCB,
 * ciphertext hiding and SFS do not stop a guest from starting. */
static bool check_matters_for_snp(const char *id) {
        static const char *const ids[] = {
                "cpu.sev", "cpu.sev-es", "cpu.sev-snp", "bios.memory-encryption", "kernel.kvm-amd",
                "kernel.kvm-amd-sev", "kernel.kvm-amd-sev-es", "kernel.kvm-amd-sev-snp", "iommu.translation",
                "platform.dev-sev", "platform.sev-state", "platform.snp-init", "platform.rmp-init",
                "firmware.snp-version",
        };
        for (size_t i = 0; i < ELEMENTSOF(ids); i++)
                if (streq(id, ids[i]))
                        return true;
        return false;
}

int judge_snp_checks(const Domain *d, const Check *checks, size_t n, Judgement *j) {
        size_t passed = 0;
        int r = 0;

        if (d->launch_security != LAUNCH_SECURITY_SEV_SNP)
                return 0;
        for (size_t i = 0; i < n && r >= 0; i++) {
                const Check *c = &checks[i];
                if (!c->id || !check_matters_for_snp(c->id))
                        continue;
                if (streq(strempty(c->result), "fail"))
                        r = add(&j->refusals, "This host is not ready for SEV-SNP guests: check %s (%s) fails: %s "
                                "Fix: %s%s%s", c->id, strempty(c->title), strempty(c->detail),
                                isempty(c->hint) ? "see hwsecctl check" : c->hint,
                                isempty(c->remedy) ? "" : " — ", strempty(c->remedy));
                else if (streq(strempty(c->result), "unknown"))
                        r = add(&j->warnings, "SEV-SNP readiness check %s (%s) could not be evaluated: %s", c->id,
                                strempty(c->title), strempty(c->detail));
                else if (streq(strempty(c->result), "pass"))
                        passed++;
        }
        if (r < 0)
                return r;
        return passed > 0 ? add(&j->allowed, "%zu SEV-SNP readiness checks pass.", passed) : 0;
}

int judge_vcpus(const Domain *d, bool amd_host, Judgement *j) {
        if (d->vcpus <= 255 || !amd_host)
                return 0;
        return add(&j->warnings,
                   "The guest has %u vCPUs (more than 255) on an AMD host. Guest kernels since the x86 topology "
                   "rework log \"[Firmware Bug]: CPU N: APIC ID mismatch\" unless they carry the fix "
                   "\"x86/cpu/topology: Work around the nuances of virtualization on AMD/Hygon\"; and x2apic must "
                   "be on in the guest CPU%s.", d->vcpus,
                   d->x2apic_disabled ? " (this guest's <cpu> disables it: remove <feature name='x2apic'/> with "
                                        "policy disable or forbid)" : "");
}

bool cpuinfo_is_amd(const char *cpuinfo) {
        const char *p = cpuinfo ? strstr(cpuinfo, "vendor_id") : NULL;
        const char *eol;

        if (!p)
                return false;
        eol = strchrnul(p, '\n');
        p = memchr(p, ':', eol - p);
        if (!p)
                return false;
        p++;
        p += strspn(p, " \t");
        return (strneq(p, "AuthenticAMD", 12) || strneq(p, "HygonGenuine", 12));
}
