/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The kernel's real IOMMU groups (kernel-interfaces.md §10.1): from /sys/kernel/iommu_groups
 * and the devices' iommu_group links (daemon), or from a file holding the output of
 * `find /sys/kernel/iommu_groups/ -type l` (offline). */

#include "pci-model.h"

/* Offline: parses the find(1) output. Lines that are not of the form
 * ".../iommu_groups/<N>/devices/<DDDD:BB:DD.F>" are an error naming the line. An empty file
 * means the kernel had no IOMMU groups (IOMMU off). Sets kernel_group on known devices. */
int pci_kgroups_load_find_file(PciTopology *t, const char *path, char **ret_error);
int pci_kgroups_parse_find_text(PciTopology *t, const char *text, char **ret_error);

/* Daemon: builds the groups from the devices' iommu_group links (read with the devices) and
 * reads each group's type from <sysfs>/kernel/iommu_groups/<N>/type. Sets t->iommu from the
 * existence of groups. */
int pci_kgroups_from_links(PciTopology *t, const char *sysfs_dir);
/* Daemon, incremental: moves d from old_group to its current kernel_group. */
int pci_kgroups_update_device(PciTopology *t, PciDev *d, int old_group, const char *sysfs_dir);
/* Removes an address from its kernel group (device removed). */
void pci_kgroups_remove_address(PciTopology *t, const char *address, int group);

PciKernelGroup *pci_kgroups_get(const PciTopology *t, int number);
