/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <unistd.h>

#include "ctl.h"

static const char usage[] =
        "hwsecctl [--json] [--no-ask-password] COMMAND ...\n\n"
        "Query and control hwsecd, the AMD SEV-SNP / PSP / VFIO host security daemon.\n\n"
        "Commands:\n"
        "  status                        Daemon state and a summary of every area\n"
        "  psp                           PSP presence, SEV and SNP platform status\n"
        "  check [--history]             Readiness checks (non-zero exit on any failure)\n"
        "  asid [explain]                SEV, SEV-ES and SNP ASID pools\n"
        "  asid set-policy ... [--dry-run]\n"
        "                                Stage a ciphertext-hiding policy and ASID quotas\n"
        "  firmware versions|stage FILE|schedule NAME [--at TIME|--window]|jobs|cancel ID|history\n"
        "                                SFS firmware servicing\n"
        "  pci tree|check ADDRESS        PCIe isolation audit\n"
        "  pci audit --dump FILE [--groups FILE]\n"
        "                                Audit a saved `lspci -xxxx` dump (no daemon needed)\n"
        "  metrics                       Metrics in the Prometheus text format\n\n"
        "Options (anywhere on the line; '--' ends the options):\n"
        "  --json               Machine-readable output\n"
        "  --no-ask-password    Do not ask for authentication (default when stdin is not a terminal)\n"
        "  -h --help            Show this help (after a command: that command's usage)\n"
        "  --version            Show the version\n\n"
        "Exit codes: 0 ok, 1 failed, 2 usage, 3 not authorized, 4 daemon not reachable.\n";

static const CtlVerb hwsecctl_verb = {
        .usage = usage,
        .max_args = -1,
        .stop_at_verb = true,
};

static const CtlSubVerb verbs[] = {
        { "status", verb_status },
        { "psp", verb_psp },
        { "check", verb_check },
        { "asid", verb_asid },
        { "firmware", verb_firmware },
        { "pci", verb_pci },
        { "metrics", verb_metrics },
        {}
};

int main(int argc, char *argv[]) {
        Ctl c = { .ask_password = isatty(STDIN_FILENO) };
        char *status[] = { (char *) "status", NULL };
        char **args;
        int n, r;

        /* Global options before the command; each verb parses the rest, global options included
         * (hwsecctl psp --json). */
        r = ctl_parse_args(&c, &hwsecctl_verb, argc, argv, NULL, NULL, &args, &n);
        if (r <= 0)
                return -r;
        if (n == 0)
                r = verb_status(&c, 1, status);
        else
                r = ctl_dispatch(&c, &hwsecctl_verb, verbs, n, args);

        sd_bus_flush_close_unref(c.bus);
        return r;
}
