/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The hook's decisions, as pure functions of the domain (hook-domain.h) and of what hwsecd
 * answered (filled in by hook-query.c). No sd-bus here, so the rules are unit-tested on
 * hand-made answers (tests/libvirt/test-libvirt-rules.c). docs/libvirt.md describes them. */

#include "hook-domain.h"

typedef struct PciMember {
        char *address;
        char *driver;                   /* "" when unbound */
        bool ready;                     /* bound to vfio-pci, or a bridge */
} PciMember;

typedef struct PciAnswer {
        char *address;
        char *error_name;               /* D-Bus error of CheckAssignable, NULL on success */
        char *error_message;
        char *verdict;
        char **reasons;
        PciMember *members;
        size_t n_members;
} PciAnswer;

typedef struct AsidPool {
        char *name;                     /* "sev", "sev-es", "snp" */
        char *state;                    /* "enabled", "unusable", "disabled" */
        uint32_t first, last, capacity;
        int64_t used, free;             /* -1: unknown */
        char *note;
} AsidPool;

typedef struct AsidAnswer {
        AsidPool *pools;
        size_t n_pools;
        char **explanation;             /* one sentence per pool */
        uint32_t ciphertext_hiding_asids;
} AsidAnswer;

typedef struct Check {
        char *id, *result, *title, *detail, *hint;
        char *remedy;                   /* remediation "value", may be NULL */
} Check;

typedef struct Judgement {
        char **refusals;                /* any: the start is refused */
        char **unjudged;                /* hwsecd could not answer: [libvirt] unreachable= decides */
        char **allowed;                 /* what was checked and passed */
        char **warnings;                /* never refuse */
        bool daemon_unreachable;        /* no answer at all (as opposed to a judged error) */
} Judgement;

void pci_answer_done(PciAnswer *a);
void asid_answer_done(AsidAnswer *a);
void check_done(Check *c);
void judgement_done(Judgement *j);

/* Rule 1: every host PCI device is isolated, or goes to this guest together with every
 * non-bridge device that must move with it. answers[i] belongs to d->hostdevs[i]. */
int judge_pci(const Domain *d, const PciAnswer *answers, size_t n, Judgement *j);

/* Rule 2: a free ASID in the pool the launch security needs. */
int judge_asid(const Domain *d, const AsidAnswer *a, Judgement *j);

/* Rule 2: the SNP readiness checks (only for type='sev-snp'). */
int judge_snp_checks(const Domain *d, const Check *checks, size_t n, Judgement *j);

/* Rule 3: more than 255 vCPUs on an AMD host is a warning. */
int judge_vcpus(const Domain *d, bool amd_host, Judgement *j);

/* "AuthenticAMD" or "HygonGenuine" in the first vendor_id line of /proc/cpuinfo text. */
bool cpuinfo_is_amd(const char *cpuinfo);

/* The pool a launch security draws from ("snp", "sev-es", "sev"), NULL for none. */
const char *launch_security_pool(LaunchSecurity l);

/* Copies s with control characters replaced by '?' (names and daemon text go into one log line). */
char *sanitize_line(const char *s);
