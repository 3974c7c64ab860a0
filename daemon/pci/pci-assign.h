/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Can a device be assigned to a guest now? The one place of the rule: the devices that must move
 * with it (the union of its kernel IOMMU group and its isolation group), which of those are ready
 * for VFIO and why, and the reasons a person can act on. Pci.CheckAssignable (bus-pci.c) and the
 * offline `hwsecctl pci check --dump` both answer from here. No sd-bus here. */

#include "pci-model.h"

typedef enum PciAssignState {
        PCI_ASSIGN_VFIO,                /* bound to vfio-pci: ready */
        PCI_ASSIGN_BRIDGE,              /* a bridge: VFIO leaves it to pcieport, ready */
        PCI_ASSIGN_OTHER_DRIVER,        /* bound to another driver: not ready */
        PCI_ASSIGN_UNBOUND,             /* bound to no driver: not ready */
        PCI_ASSIGN_MISSING,             /* the kernel groups name it, but it is not on the bus */
        _PCI_ASSIGN_STATE_MAX,
} PciAssignState;

const char *pci_assign_state_to_string(PciAssignState s);
static inline bool pci_assign_state_ready(PciAssignState s) {
        return s == PCI_ASSIGN_VFIO || s == PCI_ASSIGN_BRIDGE;
}

typedef struct PciAssignMember {
        char *address;
        char *driver;                   /* NULL: none or unknown */
        PciAssignState state;
} PciAssignMember;

typedef struct PciAssignCheck {
        char address[24];
        PciVerdict verdict;
        bool safe;                      /* verdict isolated or shared: assignable with its members */
        bool ready;                     /* every member is ready */
        char **reasons;                 /* the device's audit reasons, then one per member not ready */
        PciAssignMember *members;       /* sorted by address; the device itself among them */
        size_t n_members;
} PciAssignCheck;

/* The state of one device for VFIO (d may be NULL: missing). */
PciAssignState pci_assign_state_of(const PciDev *d);
/* Verdicts that allow assignment (with the members): isolated and shared. */
bool pci_verdict_assignable(PciVerdict v);

/* d must be in t, audited. 0 and *ret, or -ENOMEM. */
int pci_assign_check(PciTopology *t, PciDev *d, PciAssignCheck **ret);
PciAssignCheck *pci_assign_check_free(PciAssignCheck *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(PciAssignCheck *, pci_assign_check_free);
