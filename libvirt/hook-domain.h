/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What a libvirt domain XML asks of the host that hwsecd can judge: the host PCI devices it
 * takes (<hostdev mode='subsystem' type='pci'> and <interface type='hostdev'>, by their
 * source address), its launch security and its vCPU count. hook-domain.c parses it (libxml2,
 * no sd-bus); hook-model.c has the rest (neither). */

#include "macro.h"

/* "dddd:bb:ss.f" plus NUL; libvirt allows PCI domains up to 0xffff in practice, we print up
 * to 8 hex digits for the rare larger ones. */
#define DOMAIN_PCI_ADDRESS_MAX 17

typedef enum LaunchSecurity {
        LAUNCH_SECURITY_NONE,
        LAUNCH_SECURITY_SEV,
        LAUNCH_SECURITY_SEV_ES,         /* type='sev' with the ES bit (0x4) in <policy> */
        LAUNCH_SECURITY_SEV_SNP,
        LAUNCH_SECURITY_OTHER,          /* s390-pv, tdx, ...: nothing hwsecd judges */
        _LAUNCH_SECURITY_MAX,
        _LAUNCH_SECURITY_INVALID = -EINVAL,
} LaunchSecurity;

#define SEV_POLICY_ES 0x0004ULL

typedef struct Domain {
        char *name;                     /* <name>, may be NULL */
        char **hostdevs;                /* normalised addresses, XML order, no duplicates */
        LaunchSecurity launch_security;
        unsigned vcpus;                 /* <vcpu> (the maximum), 0 when absent */
        bool x2apic_disabled;           /* <cpu><feature name='x2apic' policy='disable|forbid'/> */
        char **warnings;                /* parts that could not be read (odd addresses, ...) */
} Domain;

Domain *domain_free(Domain *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(Domain *, domain_free);

/* Parses the domain XML. -EINVAL (not XML, not a <domain>) with *ret_error saying why, or
 * -ENOMEM. Never loads a DTD or anything from the network, never expands external entities. */
int domain_parse(const char *xml, size_t size, Domain **ret, char **ret_error);

/* Normalises a libvirt PCI source address (attributes as libvirt writes them: decimal or 0x
 * hex) to "dddd:bb:ss.f". NULL domain means 0. -EINVAL when a part is missing or out of range. */
int domain_pci_address(const char *domain, const char *bus, const char *slot, const char *function,
                       char ret[static DOMAIN_PCI_ADDRESS_MAX]);

/* Whether anything in the XML needs the daemon (PCI devices or SEV launch security). */
bool domain_needs_daemon(const Domain *d);

const char *launch_security_to_string(LaunchSecurity l);
/* "none", "sev", "sev-es", "sev-snp"; _LAUNCH_SECURITY_INVALID otherwise ("other" is never
 * passed on). */
LaunchSecurity launch_security_from_string(const char *s);
