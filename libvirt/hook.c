/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* hwsecd-libvirt-hook: libvirt's qemu hook (/etc/libvirt/hooks/qemu.d/50-hwsecd).
 *
 *   hwsecd-libvirt-hook GUEST OPERATION SUB-OPERATION EXTRA   (domain XML on stdin)
 *
 * Only "prepare begin", the first call of a guest start, is judged: the start is refused
 * (exit 1, the reason on stderr, which libvirt shows in "virsh start") when a host PCI device
 * is not isolated, when the SEV/SEV-ES/SNP pool the guest needs has no free ASID, or when the
 * host fails an SNP readiness check. Every other operation exits 0 at once without reading
 * stdin: "reconnect", "stopped" and "release" must never fail (a failing reconnect kills a
 * running guest), and "migrate"/"restore" are filters whose XML stays unchanged when the hook
 * prints nothing. The hook only reads from hwsecd and never calls back into libvirt.
 * docs/libvirt.md has the details. */

#include <getopt.h>

#include "conf.h"
#include "fileio.h"
#include "hook-domain.h"
#include "hook-query.h"
#include "hook-rules.h"
#include "paths.h"

#define CONFIG_FILE_NAME "hwsecd.conf"
#define XML_MAX (16U * 1024U * 1024U)
#define TIMEOUT_DEFAULT_SEC 10U
#define TIMEOUT_MAX_SEC 300U

typedef enum Unreachable {
        UNREACHABLE_ALLOW,
        UNREACHABLE_DENY,
} Unreachable;

typedef struct HookConfig {
        Unreachable unreachable;
        unsigned timeout_sec;
        char *path;
} HookConfig;

static const char *guest = "?";

/* Every line starts with "hwsecd: guest 'NAME': ": libvirt keeps stderr in its log and shows it
 * in the error of a refused start. */
static void say(const char *what, const char *fmt, ...) _printf_(2, 3);
static void say(const char *what, const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "hwsecd: guest '%s': %s: ", guest, what);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

static void say_all(const char *what, char **lines) {
        STRV_FOREACH(s, lines)
                say(what, "%s", *s);
}

static void hook_config_done(HookConfig *c) {
        free(c->path);
}

/* [libvirt] unreachable=allow|deny (default allow), timeout=SECONDS (default 10). A file that
 * does not parse, or a bad value, is a warning and the default. */
static int load_config(HookConfig *c) {
        _cleanup_(conf_freep) Conf *conf = NULL;
        _cleanup_free_ char *error = NULL;
        const char *v;
        uint32_t t;
        int r;

        *c = (HookConfig) { .unreachable = UNREACHABLE_ALLOW, .timeout_sec = TIMEOUT_DEFAULT_SEC };
        c->path = path_join(paths_config_dir(), CONFIG_FILE_NAME);
        if (!c->path)
                return -ENOMEM;
        r = conf_load(c->path, &conf, &error);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                say("warning", "%s is not usable (%s); using the defaults: [libvirt] unreachable=allow, timeout=%u.",
                    c->path, error ?: strerror(-r), TIMEOUT_DEFAULT_SEC);
                return 0;
        }
        v = conf_get(conf, "libvirt", "unreachable");
        if (v && streq(v, "deny"))
                c->unreachable = UNREACHABLE_DENY;
        else if (v && !streq(v, "allow"))
                say("warning", "%s: [libvirt] unreachable=%.64s is neither allow nor deny; using allow.", c->path, v);
        v = conf_get(conf, "libvirt", "timeout");
        if (v) {
                if (safe_atou32(v, 10, &t) < 0 || t < 1 || t > TIMEOUT_MAX_SEC)
                        say("warning", "%s: [libvirt] timeout=%.64s is not a number of seconds from 1 to %u; using %u.",
                            c->path, v, TIMEOUT_MAX_SEC, TIMEOUT_DEFAULT_SEC);
                else
                        c->timeout_sec = t;
        }
        return 0;
}

static int read_stdin(char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, alloc = 0;

        for (;;) {
                if (alloc - size < 65536) {
                        if (alloc > XML_MAX)
                                return -EFBIG;
                        alloc = alloc ? alloc * 2 : 65536;
                        char *t = realloc(buf, alloc + 1);
                        if (!t)
                                return -ENOMEM;
                        buf = t;
                }
                ssize_t k = read(STDIN_FILENO, buf + size, alloc - size);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                size += k;
        }
        if (size > XML_MAX)
                return -EFBIG;
        if (!buf)
                buf = calloc(1, 1);
        if (!buf)
                return -ENOMEM;
        buf[size] = '\0';
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

static bool host_is_amd(void) {
        _cleanup_free_ char *path = path_join(paths_proc_dir(), "cpuinfo"), *text = NULL;
        size_t size;

        /* /proc/cpuinfo is large on big hosts; the first vendor_id is in the first few hundred bytes,
         * but read_full_file wants a regular file limit: 64 MiB covers any real host. */
        if (!path || read_full_file(path, 64U * 1024U * 1024U, &text, &size) < 0)
                return false;
        return cpuinfo_is_amd(text);
}

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

static int decide(const HookConfig *c, Judgement *j) {
        say_all("warning", j->warnings);
        say_all("checked", j->allowed);
        if (!strv_isempty(j->refusals)) {
                say_all("refused", j->refusals);
                return 1;
        }
        if (!strv_isempty(j->unjudged)) {
                say_all("not checked", j->unjudged);
                if (c->unreachable == UNREACHABLE_DENY) {
                        say("refused", "hwsecd could not check this guest, and %s says [libvirt] unreachable=deny. "
                            "Start hwsecd (systemctl start hwsecd) or set unreachable=allow.", c->path);
                        return 1;
                }
                say("allowed", "hwsecd could not check this guest; starting it anyway because [libvirt] "
                    "unreachable=allow (%s).", c->path);
                return 0;
        }
        say("allowed", "%s", strv_isempty(j->allowed) ? "nothing hwsecd judges (no host PCI device, no SEV)"
                                                       : "every check passed");
        return 0;
}

static int prepare(void) {
        _cleanup_(hook_config_done) HookConfig config = {};
        _cleanup_(judgement_done) Judgement j = {};
        _cleanup_(domain_freep) Domain *d = NULL;
        _cleanup_free_ char *xml = NULL, *error = NULL;
        size_t size = 0;
        int r;

        r = read_stdin(&xml, &size);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                say("warning", "could not read the domain XML on stdin (%s); not checked, allowed.",
                    r == -EFBIG ? "larger than 16 MiB" : strerror(-r));
                return 0;
        }
        if (size == 0) {
                say("warning", "no domain XML on stdin; not checked, allowed.");
                return 0;
        }
        r = domain_parse(xml, size, &d, &error);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                _cleanup_free_ char *clean = sanitize_line(error);
                say("warning", "%s; not checked, allowed.", clean ?: "the domain XML does not parse");
                return 0;
        }
        STRV_FOREACH(w, d->warnings)
                say("warning", "%s", *w);
        r = judge_vcpus(d, d->vcpus > 255 && host_is_amd(), &j);
        if (r < 0)
                return r;
        /* Nothing for hwsecd to judge: do not even connect to the bus. */
        if (!domain_needs_daemon(d))
                return decide(&(HookConfig) { .path = (char *) "" }, &j);
        r = load_config(&config);
        if (r >= 0)
                r = ask_daemon(&config, d, &j);
        if (r < 0)
                return r;
        return decide(&config, &j);
}

static char *sanitized_guest;

static void help(void) {
        printf("%s GUEST OPERATION SUB-OPERATION EXTRA < domain.xml\n\n"
               "libvirt's qemu hook for hwsecd. Judges \"prepare begin\" (the first step of a guest start):\n"
               "refuses a host PCI device that is not isolated, an SEV/SEV-ES/SNP guest without a free\n"
               "ASID, and an SNP guest on a host that fails an SNP readiness check. Every other operation\n"
               "exits 0 at once. See docs/libvirt.md.\n", program_invocation_short_name);
}

int main(int argc, char *argv[]) {
        int r;

        if (argc == 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                help();
                return 0;
        }
        if (argc == 2 && streq(argv[1], "--version")) {
                printf("hwsecd-libvirt-hook %s\n", HWSECD_VERSION);
                return 0;
        }
        /* libvirt always passes four arguments. Anything but "prepare begin" passes at once. */
        if (argc < 4 || !streq(argv[2], "prepare") || !streq(argv[3], "begin"))
                return 0;
        sanitized_guest = sanitize_line(argv[1]);
        if (sanitized_guest)
                guest = sanitized_guest;
        r = prepare();
        if (r < 0) {
                /* Out of memory and the like: never block a start on our own failure. */
                say("warning", "internal error (%s); not checked, allowed.", strerror(-r));
                r = 0;
        }
        free(sanitized_guest);
        return r;
}
