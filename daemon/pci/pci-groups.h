/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The two groupings (kernel-interfaces.md §9):
 *   PCI_GROUPING_PREDICTED: mainline pci_device_group(), what a kernel without the
 *     "Fix incorrect iommu_groups with PCIe switches" series builds;
 *   PCI_GROUPING_ISOLATION: the fixed algorithm (pci_bus_isolated + reachable sets), the true
 *     sets of devices that can reach each other.
 * Both are computed for a list of devices in probe order; every device not in the list must
 * already have its groups (that is how incremental updates work). */

#include "pci-model.h"

/* The kernel's pci_acs_enabled(), including the device quirks we model. enhanced: extra
 * ACS Enhanced requirements (PCI_ACS_WANT_*), 0 for the mainline check. */
bool pci_dev_acs_enabled(const PciDev *d, uint16_t flags, unsigned enhanced);
/* Quirk result: <0 no quirk, 0 not isolated, >0 isolated. Sets *ret_name to the quirk. */
int pci_dev_acs_quirk(const PciDev *d, uint16_t flags, const char **ret_name);
/* pci_acs_path_enabled(d, NULL, flags). */
bool pci_dev_acs_path_enabled(const PciDev *d, uint16_t flags);

/* Detach the devices from their groups and compute both groupings for them, in the order
 * given (use pci_topology_probe_order()). */
int pci_groups_compute(PciTopology *t, PciDev **list, size_t n);

/* Groups of one kind, each as a sorted list of members, sorted by first member; for output. */
int pci_groups_collect(PciTopology *t, PciGrouping kind, PciGroup ***ret, size_t *ret_n);

/* Sorted member addresses of a group (NULL-terminated, newly allocated). */
char **pci_group_addresses(const PciGroup *g);
bool pci_group_is_non_isolated(const PciGroup *g);
