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
 *
 * This program reads the XML (libxml2) and applies the rules that need no daemon; when the
 * guest asks for something hwsecd judges it executes hwsecd-libvirt-query (next to it), which
 * asks hwsecd over the bus. A plain guest start so never loads sd-bus. docs/libvirt.md. */

#include <limits.h>

#include "fileio.h"
#include "hook-decide.h"
#include "hook-domain.h"
#include "paths.h"

#define XML_MAX (16U * 1024U * 1024U)
#define QUERY_NAME "hwsecd-libvirt-query"

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

/* hwsecd-libvirt-query lives next to the real binary (libexecdir, or the build tree). */
static int query_path(char **ret) {
        _cleanup_free_ char *self = realpath("/proc/self/exe", NULL);
        char *slash;

        if (!self)
                return -errno;
        slash = strrchr(self, '/');
        if (!slash)
                return -EINVAL;
        *slash = '\0';
        *ret = path_join(self, QUERY_NAME);
        return *ret ? 0 : -ENOMEM;
}

/* Replaces this process with hwsecd-libvirt-query; returns only on failure. */
static int exec_query(const char *guest, const Domain *d) {
        size_t n = strv_length(d->hostdevs);
        _cleanup_free_ char **argv = calloc(n + 4, sizeof(char *));
        _cleanup_free_ char *path = NULL;
        int r;

        if (!argv)
                return -ENOMEM;
        r = query_path(&path);
        if (r < 0)
                return r;
        argv[0] = (char *) QUERY_NAME;
        argv[1] = (char *) guest;
        argv[2] = (char *) launch_security_to_string(d->launch_security);
        for (size_t i = 0; i < n; i++)
                argv[3 + i] = d->hostdevs[i];
        fflush(stderr);
        execv(path, argv);
        return -errno;
}

static int prepare(const char *guest) {
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
        say_all("warning", j.warnings);
        r = exec_query(guest, d);
        /* Could not run the other half: as if hwsecd were unreachable. */
        _cleanup_free_ char *why = NULL;
        if (asprintf(&why, "cannot run %s: %s", QUERY_NAME, strerror(-r)) < 0)
                return -ENOMEM;
        strv_free(j.warnings);
        j.warnings = NULL;
        if (strv_extend(&j.unjudged, why) < 0)
                return -ENOMEM;
        r = hook_config_load(&config);
        return r < 0 ? r : decide(&config, &j);
}

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
        hook_set_guest(argv[1]);
        r = prepare(argv[1]);
        if (r < 0) {
                /* Out of memory and the like: never block a start on our own failure. */
                say("warning", "internal error (%s); not checked, allowed.", strerror(-r));
                r = 0;
        }
        return r;
}
