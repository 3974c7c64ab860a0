/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>

#include "pci-assign.h"
#include "pci-audit.h"

static const char *const state_names[_PCI_ASSIGN_STATE_MAX] = {
        [PCI_ASSIGN_VFIO] = "vfio-pci",
        [PCI_ASSIGN_BRIDGE] = "bridge",
        [PCI_ASSIGN_OTHER_DRIVER] = "other-driver",
        [PCI_ASSIGN_UNBOUND] = "unbound",
        [PCI_ASSIGN_MISSING] = "missing",
};

const char *pci_assign_state_to_string(PciAssignState s) {
        return s >= 0 && s < _PCI_ASSIGN_STATE_MAX ? state_names[s] : NULL;
}

PciAssignState pci_assign_state_of(const PciDev *d) {
        if (!d)
                return PCI_ASSIGN_MISSING;
        if (d->driver && streq(d->driver, "vfio-pci"))
                return PCI_ASSIGN_VFIO;
        if (d->is_bridge)
                return PCI_ASSIGN_BRIDGE;       /* VFIO tolerates bridges bound to pcieport in a group */
        return d->driver ? PCI_ASSIGN_OTHER_DRIVER : PCI_ASSIGN_UNBOUND;
}

bool pci_verdict_assignable(PciVerdict v) {
        return v == PCI_VERDICT_ISOLATED || v == PCI_VERDICT_SHARED;
}

PciAssignCheck *pci_assign_check_free(PciAssignCheck *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n_members; i++) {
                free(c->members[i].address);
                free(c->members[i].driver);
        }
        free(c->members);
        strv_free(c->reasons);
        free(c);
        return NULL;
}

/* What to do about a member that is not ready, as one sentence. */
static int not_ready_reason(const PciDev *d, const PciAssignMember *m, char **ret) {
        bool self = streq(m->address, d->address);
        int k;

        switch (m->state) {
        case PCI_ASSIGN_OTHER_DRIVER:
        case PCI_ASSIGN_UNBOUND: {
                const char *how = m->driver ? "bound to " : "not bound to any driver";
                const char *drv = strempty(m->driver);
                const char *nv = m->driver ? ", not vfio-pci" : "";
                k = self ? asprintf(ret, "%s is %s%s%s; bind it to vfio-pci before assigning it "
                                    "(e.g. driverctl set-override %s vfio-pci).", m->address, how, drv, nv, m->address)
                         : asprintf(ret, "%s must move with %s but is %s%s%s; bind it to vfio-pci first "
                                    "(e.g. driverctl set-override %s vfio-pci).", m->address, d->address, how, drv,
                                    nv, m->address);
                break;
        }
        case PCI_ASSIGN_MISSING:
                k = asprintf(ret, "%s must move with %s (the kernel puts it in the same IOMMU group) but is not on "
                             "the PCI bus now; run the audit again once it is back or gone for good.", m->address,
                             d->address);
                break;
        default:
                *ret = NULL;
                return 0;
        }
        return k < 0 ? -ENOMEM : 0;
}

static int fill_members(PciTopology *t, PciAssignCheck *c, char **comp) {
        c->n_members = 0;
        c->members = calloc(strv_length(comp) + 1, sizeof(PciAssignMember));
        if (!c->members)
                return -ENOMEM;
        STRV_FOREACH(s, comp) {
                PciDev *m = pci_topology_find(t, *s);
                PciAssignMember *x = &c->members[c->n_members++];
                x->address = strdup(*s);
                x->driver = m && m->driver ? strdup(m->driver) : NULL;
                if (!x->address || (m && m->driver && !x->driver))
                        return -ENOMEM;
                x->state = pci_assign_state_of(m);
        }
        return 0;
}

int pci_assign_check(PciTopology *t, PciDev *d, PciAssignCheck **ret) {
        _cleanup_(pci_assign_check_freep) PciAssignCheck *c = calloc(1, sizeof(PciAssignCheck));
        _cleanup_strv_free_ char **comp = NULL;
        int r;

        if (!c)
                return -ENOMEM;
        memcpy(c->address, d->address, sizeof(c->address));
        c->verdict = d->verdict;
        c->safe = pci_verdict_assignable(d->verdict);
        STRV_FOREACH(s, d->reasons)
                if (strv_extend(&c->reasons, *s) < 0)
                        return -ENOMEM;
        comp = pci_audit_companions(t, d);
        if (!comp)
                return -ENOMEM;
        r = fill_members(t, c, comp);
        if (r < 0)
                return r;
        c->ready = true;
        for (size_t i = 0; i < c->n_members; i++) {
                _cleanup_free_ char *line = NULL;
                if (pci_assign_state_ready(c->members[i].state))
                        continue;
                c->ready = false;
                r = not_ready_reason(d, &c->members[i], &line);
                if (r < 0)
                        return r;
                if (line && strv_extend(&c->reasons, line) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(c);
        return 0;
}
