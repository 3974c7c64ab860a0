/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <getopt.h>
#include <signal.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "manager.h"

static bool arg_replace = false;

static void help(void) {
        printf("%s [OPTIONS...]\n\n"
               "The hwsecd host daemon: AMD PSP and SEV-SNP platform state, SNP ASID policy,\n"
               "SFS firmware servicing and the PCIe isolation audit, on the system bus as %s.\n\n"
               "  -h --help       Show this help\n"
               "     --version    Show the version\n"
               "  -v --verbose    Log debug messages\n"
               "     --replace    Take over the bus name from a running hwsecd\n\n"
               "Environment overrides for host paths are listed in docs/paths.md.\n",
               program_invocation_short_name, HWSECD_BUS_NAME);
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_REPLACE };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "verbose", no_argument, NULL, 'v' },
                { "replace", no_argument, NULL, ARG_REPLACE },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "hv", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("hwsecd %s\n", HWSECD_VERSION);
                        return 0;
                case 'v':
                        log_set_max_level(LOG_DEBUG);
                        break;
                case ARG_REPLACE:
                        arg_replace = true;
                        break;
                case '?':
                        return -EINVAL;
                default:
                        return -EINVAL;
                }

        if (optind < argc) {
                log_error("%s takes no positional arguments.", program_invocation_short_name);
                return -EINVAL;
        }
        return 1;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;

        log_info("Received %s, stopping.", strsignal((int) si->ssi_signo));
        (void) sd_notify(false, "STOPPING=1");
        return sd_event_exit(m->event, 0);
}

static int run(int argc, char *argv[]) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int verbose_level, r;
        sigset_t mask;

        (void) log_set_syslog_identifier("hwsecd");
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r;
        verbose_level = log_get_max_level();

        /* Signals are handled in the event loop; worker threads inherit the blocked mask. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block signals: %m");
        (void) signal(SIGPIPE, SIG_IGN);

        r = manager_new(&m);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate the daemon: %m");
        m->replace = arg_replace;
        m->log_level_pinned = verbose_level == LOG_DEBUG;

        r = sd_event_add_signal(m->event, NULL, SIGTERM, on_signal, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGINT, on_signal, m);
        if (r < 0)
                return log_error_errno(r, "Failed to handle signals: %m");
        r = sd_event_set_watchdog(m->event, true);
        if (r < 0)
                log_warning_errno(r, "Failed to enable watchdog pings, continuing: %m");

        r = manager_startup(m);
        if (r < 0)
                return r;

        r = sd_event_loop(m->event);
        if (r < 0)
                return log_error_errno(r, "Stopping with failure: %m");
        log_struct(LOG_INFO, MESSAGE_ID_DAEMON_STOPPED, "hwsecd stopped.");
        return r;       /* the status an area asked for with sd_event_exit(), 0 normally */
}

int main(int argc, char *argv[]) {
        int r = run(argc, argv);
        return r < 0 ? EXIT_FAILURE : r;
}
