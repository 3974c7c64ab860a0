/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* hwsecd-libvirt-query: the half of the libvirt hook that talks to hwsecd. hwsecd-libvirt-hook
 * reads the domain XML (libxml2) and executes this program only when the guest asks for
 * something hwsecd judges, so that a plain guest start never loads sd-bus:
 *
 *   hwsecd-libvirt-query GUEST LAUNCH-SECURITY [PCI-ADDRESS...]
 *
 * LAUNCH-SECURITY is none, sev, sev-es or sev-snp; addresses are normalised "dddd:bb:ss.f".
 * Exit 1 refuses the start. Not meant to be run by hand. */

#include "fileio.h"
#include "hook-decide.h"
#include "hook-query.h"

static int ask_pci(sd_bus *bus, uint64_t deadline, const Domain *d, Judgement *j, char **ret_error) {
        size_t n = strv_length(d->hostdevs);
        _cleanup_free_ PciAnswer *answers = calloc(n + 1, sizeof(PciAnswer));
        int r = 0;

        if (!answers)
                return -ENOMEM;
        for (size_t i = 0; i < n && r >= 0; i++)
                r = query_pci(bus, deadline, d->hostdevs[i], &answers[i], ret_error);
        if (r >= 0)
                r = judge_pci(d, answers, n, j);
        for (size_t i = 0; i < n; i++)
                pci_answer_done(&answers[i]);
        return r;
}

static int ask_asid(sd_bus *bus, uint64_t deadline, const Domain *d, Judgement *j, char **ret_error) {
        _cleanup_(asid_answer_done) AsidAnswer a = {};
        Check *checks = NULL;
        size_t n = 0;
        int r;

        if (!launch_security_pool(d->launch_security))
                return 0;
        r = query_asid(bus, deadline, false, &a, ret_error);
        if (r >= 0) {
                /* The explanation is only needed to say why a pool has no ASIDs. */
                bool need_more = false;
                for (size_t i = 0; i < a.n_pools; i++)
                        if (streq(a.pools[i].name, launch_security_pool(d->launch_security)) &&
                            (!streq(a.pools[i].state, "enabled") || a.pools[i].capacity == 0))
                                need_more = true;
                if (need_more) {
                        asid_answer_done(&a);
                        r = query_asid(bus, deadline, true, &a, ret_error);
                }
        }
        if (r >= 0)
                r = judge_asid(d, &a, j);
        if (r >= 0 && d->launch_security == LAUNCH_SECURITY_SEV_SNP) {
                r = query_checks(bus, deadline, &checks, &n, ret_error);
                if (r >= 0)
                        r = judge_snp_checks(d, checks, n, j);
                for (size_t i = 0; i < n; i++)
                        check_done(&checks[i]);
                free(checks);
        }
        return r;
}

/* Asks hwsecd. A failure to reach it or to get an answer is an "unjudged" line. */
static int ask_daemon(const HookConfig *c, const Domain *d, Judgement *j) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *error = NULL;
        uint64_t deadline = now(CLOCK_MONOTONIC) + c->timeout_sec * USEC_PER_SEC;
        int r;

        r = query_connect(deadline, &bus, &error);
        if (r >= 0)
                r = ask_pci(bus, deadline, d, j, &error);
        if (r >= 0)
                r = ask_asid(bus, deadline, d, j, &error);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                _cleanup_free_ char *clean = sanitize_line(error ?: strerror(-r));
                if (!clean || strv_extend(&j->unjudged, clean) < 0)
                        return -ENOMEM;
                j->daemon_unreachable = true;
        }
        return 0;
}

int main(int argc, char *argv[]) {
        _cleanup_(hook_config_done) HookConfig config = {};
        _cleanup_(judgement_done) Judgement j = {};
        _cleanup_(domain_freep) Domain *d = calloc(1, sizeof(Domain));
        int r;

        if (!d)
                return 0;
        if (argc < 3) {
                fprintf(stderr, "hwsecd: %s is run by hwsecd-libvirt-hook, not by hand.\n",
                        program_invocation_short_name);
                return 0;
        }
        hook_set_guest(argv[1]);
        d->launch_security = launch_security_from_string(argv[2]);
        if (d->launch_security < 0) {
                say("warning", "unknown launch security '%.32s' from hwsecd-libvirt-hook; not checked, allowed.", argv[2]);
                return 0;
        }
        for (int i = 3; i < argc; i++)
                if (strv_extend(&d->hostdevs, argv[i]) < 0)
                        return 0;
        r = hook_config_load(&config);
        if (r >= 0)
                r = ask_daemon(&config, d, &j);
        if (r < 0) {
                /* Out of memory and the like: never block a start on our own failure. */
                say("warning", "internal error (%s); not checked, allowed.", strerror(-r));
                return 0;
        }
        return decide(&config, &j);
}
