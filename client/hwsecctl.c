/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <unistd.h>

#include "ctl.h"

static int help(void) {
        printf("hwsecctl [--json] [--no-ask-password] COMMAND ...\n\n"
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
               "                                Audit a saved `lspci -xxxx` dump (no daemon needed)\n\n"
               "Options:\n"
               "  --json               Machine-readable output\n"
               "  --no-ask-password    Do not ask for authentication (default when stdin is not a terminal)\n"
               "  -h --help            Show this help\n"
               "  --version            Show the version\n\n"
               "Exit codes: 0 ok, 1 failed, 2 usage, 3 not authorized, 4 daemon not reachable.\n");
        return EXIT_OK;
}

static const struct {
        const char *name;
        VerbFunc func;
} verbs[] = {
        { "status", verb_status },
        { "psp", verb_psp },
        { "check", verb_check },
        { "asid", verb_asid },
        { "firmware", verb_firmware },
        { "pci", verb_pci },
};

int main(int argc, char *argv[]) {
        Ctl c = { .ask_password = isatty(STDIN_FILENO) };
        _cleanup_free_ char **rest = NULL;
        int n = 0, r = EXIT_USAGE;

        /* Global options may appear anywhere (hwsecctl psp --json); verbs see the rest. */
        rest = calloc((size_t) argc + 1, sizeof(char *));
        if (!rest)
                return EXIT_FAILED;
        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--json"))
                        c.json = true;
                else if (streq(argv[i], "--no-ask-password"))
                        c.ask_password = false;
                else if (streq(argv[i], "-h") || streq(argv[i], "--help"))
                        return help();
                else if (streq(argv[i], "--version")) {
                        printf("hwsecctl %s\n", HWSECD_VERSION);
                        return EXIT_OK;
                } else
                        rest[n++] = argv[i];
        }

        if (n == 0)
                r = verb_status(&c, 0, rest);
        else {
                size_t i;

                for (i = 0; i < ELEMENTSOF(verbs); i++)
                        if (streq(rest[0], verbs[i].name))
                                break;
                if (i == ELEMENTSOF(verbs))
                        r = ctl_usage_error("unknown command '%s'.", rest[0]);
                else
                        r = verbs[i].func(&c, n - 1, rest + 1);
        }

        sd_bus_flush_close_unref(c.bus);
        return r;
}
