/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The audit: both groupings, the kernel's groups, a verdict with reasons per device, host
 * findings, the JSON document, and incremental updates of a subtree. No sd-bus here. */

#include <json-c/json.h>

#include "pci-groups.h"
#include "pci-kgroups.h"
#include "pci-model.h"

/* Host findings from the kernel command line (text of /proc/cmdline, may be NULL) and the
 * kernel groups' types. Replaces t->findings. */
int pci_audit_host(PciTopology *t, const char *cmdline);
/* Reads <proc_dir>/cmdline (paths_proc_dir() when NULL) and calls pci_audit_host(). */
int pci_audit_host_from_proc(PciTopology *t, const char *proc_dir);

/* Full audit: groups for every device, then verdicts. */
int pci_audit_full(PciTopology *t);

/* Verdicts for the given devices (sets PCI_CHANGED_VERDICT/GROUPS bits when they differ). */
int pci_audit_verdicts(PciTopology *t, PciDev **list, size_t n);

/* Incremental: recomputes the region that depends on the given devices (their parent
 * bridge's subtree, or their slot on a root bus), and the verdicts of everything whose
 * groups may have changed. Returns the affected devices (newly allocated) when asked. */
int pci_audit_update(PciTopology *t, PciDev **touched, size_t n_touched, PciDev ***ret_affected, size_t *ret_n);
int pci_audit_update_extra(PciTopology *t, PciDev **touched, size_t n_touched, PciDev **extra, size_t n_extra,
                           PciDev ***ret_affected, size_t *ret_n);
/* Removes d (and everything below it) and updates what depended on it. The removed addresses
 * go to *ret_removed, the devices whose results may have changed to *ret_affected. */
int pci_audit_remove(PciTopology *t, PciDev *d, char ***ret_removed, PciDev ***ret_affected, size_t *ret_n);
/* The region roots for a device that changed (or the parent of one that was removed). */
int pci_audit_region_for(PciTopology *t, PciDev *d, PciDev ***roots, size_t *n_roots, size_t *allocated);

/* The devices that must move with d when it is assigned: its kernel group (or the predicted
 * one when the kernel's is unknown) and its isolation group, sorted, d included. */
char **pci_audit_companions(PciTopology *t, PciDev *d);

/* strv helpers */
bool pci_strv_equal(char **a, char **b);
void pci_strv_sort(char **l);

/* Counts for the summary. */
unsigned pci_audit_count_verdict(const PciTopology *t, PciVerdict v);

/* The whole audit as JSON: predicted_kernel_groups, isolation_groups, kernel_groups (when
 * known), devices {address: {...}}, host_findings, summary. */
int pci_audit_to_json(PciTopology *t, json_object **ret);
int pci_dev_to_json(PciTopology *t, PciDev *d, json_object **ret);
