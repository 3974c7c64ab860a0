/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sandbox-exec: run a command under the process restrictions of a systemd unit, where there is
 * no systemd to apply them. A stand-in for SystemCallFilter= + SystemCallArchitectures=native,
 * RestrictAddressFamilies=, CapabilityBoundingSet= and NoNewPrivileges=yes.
 *
 *   sandbox-exec SYSCALLS FAMILIES CAPS COMMAND [ARG...]
 *
 * SYSCALLS, FAMILIES and CAPS are comma-separated numbers: the allowed x86-64 system calls
 * (check-sandbox.py expands the unit's @groups with systemd-analyze), the allowed socket address
 * families and the capabilities kept in the bounding set. A system call outside the list kills
 * the process with SIGSYS (stricter than the unit's SystemCallErrorNumber=EPERM, so a test sees
 * every such call instead of a quiet EPERM); socket() with another family fails with
 * EAFNOSUPPORT, as under systemd; a foreign syscall ABI (i386, x32) kills.
 */

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_LIST 1024
#define MAX_INSNS 4096
#define X32_SYSCALL_BIT 0x40000000u

static int parse_list(const char *s, unsigned *out, size_t *n) {
        char *copy, *tok, *save = NULL;

        *n = 0;
        copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                char *end;
                unsigned long v;

                errno = 0;
                v = strtoul(tok, &end, 10);
                if (errno != 0 || *end != '\0' || end == tok || v > 0xffffu || *n >= MAX_LIST) {
                        free(copy);
                        return -EINVAL;
                }
                out[(*n)++] = (unsigned) v;
        }
        free(copy);
        return 0;
}

static int emit(struct sock_filter *f, size_t *n, struct sock_filter insn) {
        if (*n >= MAX_INSNS)
                return -E2BIG;
        f[(*n)++] = insn;
        return 0;
}

#define EMIT(insn)                                      \
        do {                                            \
                int _r = emit(f, &n, insn);             \
                if (_r < 0)                             \
                        return _r;                      \
        } while (0)

static int build_filter(const unsigned *calls, size_t n_calls, const unsigned *fams, size_t n_fams,
                        struct sock_filter *f, size_t *ret_n) {
        size_t n = 0;

        /* native ABI only */
        EMIT(((struct sock_filter) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch))));
        EMIT(((struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0)));
        EMIT(((struct sock_filter) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS)));
        EMIT(((struct sock_filter) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))));
        EMIT(((struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1)));
        EMIT(((struct sock_filter) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS)));

        /* socket(family, ...): only the allowed families */
        EMIT(((struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, (unsigned char) (2 * n_fams + 2))));
        EMIT(((struct sock_filter) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]))));
        for (size_t i = 0; i < n_fams; i++) {
                EMIT(((struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, fams[i], 0, 1)));
                EMIT(((struct sock_filter) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)));
        }
        EMIT(((struct sock_filter) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EAFNOSUPPORT & SECCOMP_RET_DATA))));

        /* everything else: the allow list */
        EMIT(((struct sock_filter) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))));
        for (size_t i = 0; i < n_calls; i++) {
                EMIT(((struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, calls[i], 0, 1)));
                EMIT(((struct sock_filter) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)));
        }
        EMIT(((struct sock_filter) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS)));

        *ret_n = n;
        return 0;
}

static int restrict_caps(const unsigned *keep, size_t n_keep) {
        FILE *f;
        int last = 40;

        f = fopen("/proc/sys/kernel/cap_last_cap", "re");
        if (f) {
                if (fscanf(f, "%d", &last) != 1)
                        last = 40;
                fclose(f);
        }
        for (int cap = 0; cap <= last; cap++) {
                int kept = 0;

                for (size_t i = 0; i < n_keep; i++)
                        if (keep[i] == (unsigned) cap)
                                kept = 1;
                if (!kept && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
                        return -errno;
        }
        return 0;
}

int main(int argc, char *argv[]) {
        static unsigned calls[MAX_LIST], fams[MAX_LIST], caps[MAX_LIST];
        static struct sock_filter insns[MAX_INSNS];
        size_t n_calls, n_fams, n_caps, n_insns;
        struct sock_fprog prog;
        int r;

        if (argc < 5) {
                fprintf(stderr, "Usage: sandbox-exec SYSCALLS FAMILIES CAPS COMMAND [ARG...]\n");
                return 125;
        }
        if (parse_list(argv[1], calls, &n_calls) < 0 || parse_list(argv[2], fams, &n_fams) < 0 ||
            parse_list(argv[3], caps, &n_caps) < 0) {
                fprintf(stderr, "sandbox-exec: the lists are comma-separated numbers.\n");
                return 125;
        }
        if (n_fams > 100) {
                fprintf(stderr, "sandbox-exec: too many address families.\n");
                return 125;
        }
        r = build_filter(calls, n_calls, fams, n_fams, insns, &n_insns);
        if (r < 0) {
                fprintf(stderr, "sandbox-exec: filter too long: %s\n", strerror(-r));
                return 125;
        }
        r = restrict_caps(caps, n_caps);
        if (r < 0) {
                fprintf(stderr, "sandbox-exec: dropping capabilities failed: %s\n", strerror(-r));
                return 125;
        }
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                fprintf(stderr, "sandbox-exec: PR_SET_NO_NEW_PRIVS: %s\n", strerror(errno));
                return 125;
        }
        prog = (struct sock_fprog) { .len = (unsigned short) n_insns, .filter = insns };
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0) {
                fprintf(stderr, "sandbox-exec: installing the seccomp filter: %s\n", strerror(errno));
                return 125;
        }
        execv(argv[4], argv + 4);
        fprintf(stderr, "sandbox-exec: executing %s: %s\n", argv[4], strerror(errno));
        return 127;
}
