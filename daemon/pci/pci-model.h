/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The PCI topology model: devices read with libpci (sysfs method in the daemon, dump method
 * for saved `lspci -xxxx` output), buses with their upstream bridge, SR-IOV relations, and the
 * per-device results of the audit (groups, verdicts). No sd-bus here. */

#include "macro.h"
#include "pci-acs.h"
#include "pci-map.h"

typedef enum PciPortType {
        PCI_TYPE_CONVENTIONAL = -1,     /* no PCIe capability */
        PCI_TYPE_ENDPOINT = 0x0,
        PCI_TYPE_LEGACY_ENDPOINT = 0x1,
        PCI_TYPE_ROOT_PORT = 0x4,
        PCI_TYPE_UPSTREAM = 0x5,
        PCI_TYPE_DOWNSTREAM = 0x6,
        PCI_TYPE_PCIE_TO_PCI = 0x7,
        PCI_TYPE_PCI_TO_PCIE = 0x8,
        PCI_TYPE_RCIEP = 0x9,
        PCI_TYPE_RC_EC = 0xa,
} PciPortType;

const char *pci_port_type_to_string(PciPortType t);

typedef enum PciGrouping {
        PCI_GROUPING_PREDICTED,         /* mainline pci_device_group() */
        PCI_GROUPING_ISOLATION,         /* the fixed algorithm: true reachability */
        _PCI_GROUPING_MAX,
} PciGrouping;

typedef enum PciVerdict {
        PCI_VERDICT_UNKNOWN,
        PCI_VERDICT_ISOLATED,
        PCI_VERDICT_SHARED,
        PCI_VERDICT_UNSAFE,
        PCI_VERDICT_NO_IOMMU,
        _PCI_VERDICT_MAX,
} PciVerdict;

const char *pci_verdict_to_string(PciVerdict v);

typedef struct PciDev PciDev;
typedef struct PciBus PciBus;

typedef struct PciGroup {
        unsigned id;
        PciGrouping kind;
        unsigned marks;         /* members that marked it non-isolated ("everything below joins") */
        unsigned stamp;         /* scratch */
        PciDev **members;
        size_t n_members, allocated;
} PciGroup;

struct PciBus {
        uint32_t domain;
        uint8_t number;
        bool is_virtual;        /* SR-IOV bus that exists only for VFs (no bridge) */
        PciDev *self;           /* the bridge above it; NULL for root and virtual buses */
        PciBus *parent;         /* the bus of self (or of the PF for a virtual bus) */
        PciDev **devices;
        size_t n_devices, allocated;
        /* scratch for the fixed algorithm */
        unsigned iso_stamp;
        int iso;
        char *iso_cause;
        char *iso_via;
};

/* Bits of PciDev.changed: what the last update changed (the daemon signals these). */
enum {
        PCI_CHANGED_CONFIG   = 1u << 0,
        PCI_CHANGED_DRIVER   = 1u << 1,
        PCI_CHANGED_GROUPS   = 1u << 2,
        PCI_CHANGED_VERDICT  = 1u << 3,
        PCI_CHANGED_KGROUP   = 1u << 4,
};

struct PciDev {
        uint32_t domain;
        uint8_t bus_nr, dev, func;
        char address[24];               /* DDDD:BB:DD.F */
        uint16_t vendor, device, subsys_vendor, subsys_device;
        uint32_t class_code;            /* 24 bits: class, subclass, prog-if */
        uint8_t revision, header_type;  /* header_type: low 7 bits */
        bool mf_header_bit;             /* Header Type bit 7 */
        bool multifunction;             /* as Linux sees it: bit 7, or function > 0 (not for VFs) */
        unsigned cfg_size;              /* readable bytes: 0, 64, 256 or 4096 */
        PciPortType port_type;
        bool is_bridge;                 /* header type 1 */
        uint8_t secondary, subordinate;
        bool has_mmio_bar;
        PciAcs acs;

        bool has_sriov;
        uint16_t sriov_ctrl, sriov_total, sriov_num, sriov_offset, sriov_stride, sriov_vf_device;
        bool is_vf;
        PciDev *physfn;
        PciDev **vfs;                   /* PF: the VFs whose physfn is this device */
        size_t n_vfs, allocated_vfs;
        char *physfn_address;           /* from sysfs physfn link (daemon) */

        PciBus *bus;
        PciBus *child_bus;              /* bridges: the secondary bus, when present */
        char *parent_name;              /* sysfs: parent directory name (BDF or pciDDDD:BB) */

        char *driver;                   /* sysfs only; NULL when unbound or unknown */
        int kernel_group;               /* -1: none or unknown */

        /* results */
        PciGroup *group[_PCI_GROUPING_MAX];
        bool marked;                    /* marked its isolation group non-isolated */
        char *cause[_PCI_GROUPING_MAX]; /* why it joined a group with others (NULL: alone or creator) */
        char *via;                      /* isolation: the switch/bridge peers reach it through */
        bool inherited;                 /* isolation: joined because its upstream group is not isolated */
        PciVerdict verdict;
        char **reasons;
        /* Groups are exported once (host-wide tables); a device names its groups by their
         * leader, the lowest-addressed member, so no device repeats another's data. */
        char iso_leader[24], pred_leader[24];
        int kernel_group_shown;         /* the KernelGroup clients were told (change detection) */
        unsigned changed;

        /* scratch */
        size_t index;                   /* position in PciTopology.devices */
        unsigned stamp;
};

typedef enum PciHostSeverity {
        PCI_HOST_INFO,
        PCI_HOST_WARNING,
        PCI_HOST_FATAL,
} PciHostSeverity;

const char *pci_host_severity_to_string(PciHostSeverity s);

typedef struct PciHostFinding {
        char *id;               /* "iommu-off", "iommu-passthrough", "acs-override", ... */
        PciHostSeverity severity;
        char *message;
} PciHostFinding;

typedef struct PciKernelGroup {
        int number;
        char *type;             /* DMA, DMA-FQ, identity, … or NULL when unknown */
        char **addresses;       /* members as the kernel lists them */
} PciKernelGroup;

struct pci_access;

typedef struct PciTopology {
        PciDev **devices;
        size_t n_devices, allocated;
        PciMap *by_addr;        /* pci_addr_key() -> PciDev */
        PciMap *buses;          /* pci_bus_key() -> PciBus */
        unsigned next_group_id;
        unsigned stamp;
        size_t verdict_count[_PCI_VERDICT_MAX]; /* devices per verdict, kept as verdicts change */
        char *source;           /* "dump:<path>" or "sysfs:<path>" */
        struct pci_access *pacc;/* sysfs mode: kept for single-device re-reads */
        char *sysfs_bus_pci;    /* sysfs mode: .../bus/pci */

        /* kernel side */
        bool kernel_groups_known;
        PciMap *kgroups;        /* number -> PciKernelGroup */
        int iommu;              /* 1 on, 0 off, -1 unknown */
        char *cmdline;          /* kernel command line, when known */
        PciHostFinding *findings;
        size_t n_findings;
} PciTopology;

static inline uint64_t pci_addr_key(uint32_t domain, uint8_t bus, uint8_t dev, uint8_t func) {
        return ((uint64_t) domain << 16) | ((uint64_t) bus << 8) | ((uint64_t) (dev & 0x1f) << 3) | (func & 7);
}
static inline uint64_t pci_bus_key(uint32_t domain, uint8_t bus) {
        return ((uint64_t) domain << 8) | bus;
}
static inline bool pci_bus_is_root(const PciBus *b) {
        return !b->self && !b->is_virtual;
}
static inline bool pci_dev_is_pcie(const PciDev *d) {
        return d->port_type != PCI_TYPE_CONVENTIONAL;
}

/* "DDDD:BB:DD.F" (domain optional on input: "BB:DD.F" means domain 0). -EINVAL if malformed. */
int pci_parse_address(const char *s, uint32_t *ret_domain, uint8_t *ret_bus, uint8_t *ret_dev, uint8_t *ret_func);
void pci_format_address(char buf[static 24], uint32_t domain, uint8_t bus, uint8_t dev, uint8_t func);

PciTopology *pci_topology_new(void);
PciTopology *pci_topology_free(PciTopology *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(PciTopology *, pci_topology_free);

PciDev *pci_topology_find(const PciTopology *t, const char *address);
PciBus *pci_topology_find_bus(const PciTopology *t, uint32_t domain, uint8_t number);

/* Loads a saved `lspci -xxxx` dump with libpci's dump method. On failure returns a negative
 * errno and, when ret_error is given, a sentence saying what was wrong. */
int pci_topology_load_dump(const char *path, PciTopology **ret, char **ret_error);

/* Loads the live topology with libpci's sysfs method. sysfs_dir NULL means paths_sysfs_dir()
 * (the real /sys, which umockdev redirects in tests). Reads drivers, physfn links, parent
 * directories and iommu_group links too. */
int pci_topology_load_sysfs(const char *sysfs_dir, PciTopology **ret, char **ret_error);

/* Daemon, incremental: (re)reads one device from sysfs and links it into the topology.
 * Returns 0 and *ret (the new or updated device), -ENOENT when the device is gone. */
int pci_topology_refresh_device(PciTopology *t, const char *address, PciDev **ret);
/* Removes a device (and, for bridges, everything below it) from the topology. The removed
 * addresses are appended to *ret_removed when given. */
int pci_topology_remove_device(PciTopology *t, PciDev *d, char ***ret_removed);
/* Re-reads the driver link of one device; returns 1 if it changed. */
int pci_topology_refresh_driver(PciTopology *t, PciDev *d);

/* Wires buses, parents and VFs after devices were added (full loads). */
int pci_topology_link(PciTopology *t);

/* Adds a device built by hand (tests, generators); takes ownership. */
int pci_topology_add(PciTopology *t, PciDev *d);
PciDev *pci_dev_new(uint32_t domain, uint8_t bus, uint8_t dev, uint8_t func);
void pci_dev_free(PciDev *d);

/* Links one device that appeared (hotplug) into buses and parents. */
int pci_topology_link_one(PciTopology *t, PciDev *d);
/* Releases the libpci handle of a sysfs topology. */
void pci_topology_release_access(PciTopology *t);
/* Group bookkeeping (pci-groups.c). */
void pci_group_free(PciGroup *g);
void pci_groups_detach(PciTopology *t, PciDev *d);

/* Devices in the order the kernel probes them: each bus's devices by devfn, then the buses
 * below them depth first; VFs last. When roots is NULL the whole topology is ordered;
 * otherwise only the given devices and everything below them. The result is newly allocated. */
int pci_topology_probe_order(PciTopology *t, PciDev **roots, size_t n_roots, PciDev ***ret, size_t *ret_n);

/* The devices below bridge d (not d itself), including VFs of PFs below it. */
bool pci_dev_is_below(const PciDev *d, const PciDev *ancestor);

/* SR-IOV: the routing ID of VF i (0-based) of pf, or -1. */
int pci_sriov_vf_rid(const PciDev *pf, unsigned i);
