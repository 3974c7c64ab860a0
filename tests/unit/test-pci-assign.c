/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* pci_assign_check(): the devices that must move with a device, which of them are ready for
 * VFIO (bound to vfio-pci, or a bridge left to pcieport), the reasons, and the verdict. */

#include "log.h"
#include "pci-assign.h"
#include "test-pci-util.h"

#define ACS_ON 0x001d   /* SV RR CR UF */

/* Root 00:01.0 -> USP 01:00.0 -> DSP 02:00.0 / 02:03.0 -> A 03:00.0, B 04:00.0 */
static PciTopology *seed_switch(int acs, const char *kgroups) {
        TBuilder b = {};
        tb_root_port(&b, "00:01.0", 1, 4, ACS_ON);
        tb_usp(&b, "01:00.0", 1, 2, 4);
        tb_dsp(&b, "02:00.0", 2, 3, 3, acs);
        tb_dsp(&b, "02:03.0", 2, 4, 4, acs);
        tb_endpoint(&b, "03:00.0", false);
        tb_endpoint(&b, "04:00.0", false);
        PciTopology *t = tb_load(&b, kgroups);
        tb_free(&b);
        return t;
}

static void set_driver(PciTopology *t, const char *addr, const char *drv) {
        PciDev *d = pci_topology_find(t, addr);
        ASSERT_NOT_NULL(d);
        free(d->driver);
        d->driver = drv ? strdup(drv) : NULL;
}

static PciAssignCheck *check(PciTopology *t, const char *addr) {
        PciAssignCheck *c = NULL;
        ASSERT_OK(pci_assign_check(t, pci_topology_find(t, addr), &c));
        return c;
}

/* "addr:state addr:state ..." */
static char *members_string(const PciAssignCheck *c) {
        char *s = strdup("");
        for (size_t i = 0; s && i < c->n_members; i++) {
                char *n = NULL;
                ASSERT_TRUE(asprintf(&n, "%s%s%s:%s", s, i ? " " : "", c->members[i].address + 5,
                                     pci_assign_state_to_string(c->members[i].state)) > 0);
                free(s);
                s = n;
        }
        return s;
}

static bool has_reason(const PciAssignCheck *c, const char *needle) {
        STRV_FOREACH(s, c->reasons)
                if (strstr(*s, needle))
                        return true;
        return false;
}

static void test_unsafe_switch_members_and_reasons(void) {
        _cleanup_(pci_topology_freep) PciTopology *t = seed_switch(-1, NULL);
        PciDev *a = pci_topology_find(t, "0000:03:00.0");

        /* nothing bound (as in a dump): the bridges are ready, the endpoints are not */
        _cleanup_(pci_assign_check_freep) PciAssignCheck *c = check(t, "0000:03:00.0");
        _cleanup_free_ char *m = members_string(c);
        ASSERT_STREQ(m, "01:00.0:bridge 02:00.0:bridge 02:03.0:bridge 03:00.0:unbound 04:00.0:unbound");
        ASSERT_EQ(c->verdict, PCI_VERDICT_UNSAFE);
        ASSERT_TRUE(!c->safe && !c->ready);
        /* the audit's reasons first, in order, then one per member not ready */
        size_t n_audit = strv_length(a->reasons);
        ASSERT_TRUE(n_audit > 0);
        ASSERT_EQ(strv_length(c->reasons), n_audit + 2);
        for (size_t i = 0; i < n_audit; i++)
                ASSERT_STREQ(c->reasons[i], a->reasons[i]);
        ASSERT_STREQ(c->reasons[n_audit], "0000:03:00.0 is not bound to any driver; bind it to vfio-pci before "
                     "assigning it (e.g. driverctl set-override 0000:03:00.0 vfio-pci).");
        ASSERT_STREQ(c->reasons[n_audit + 1], "0000:04:00.0 must move with 0000:03:00.0 but is not bound to any "
                     "driver; bind it to vfio-pci first (e.g. driverctl set-override 0000:04:00.0 vfio-pci).");
        ASSERT_TRUE(!has_reason(c, "0000:02:00.0 must move"));      /* bridges are never asked to move */

        /* bound: one to vfio-pci, one to another driver; a bridge bound to pcieport stays ready */
        set_driver(t, "0000:03:00.0", "vfio-pci");
        set_driver(t, "0000:04:00.0", "nvme");
        set_driver(t, "0000:02:00.0", "pcieport");
        _cleanup_(pci_assign_check_freep) PciAssignCheck *c2 = check(t, "0000:03:00.0");
        _cleanup_free_ char *m2 = members_string(c2);
        ASSERT_STREQ(m2, "01:00.0:bridge 02:00.0:bridge 02:03.0:bridge 03:00.0:vfio-pci 04:00.0:other-driver");
        ASSERT_STREQ(c2->members[1].driver, "pcieport");
        ASSERT_NULL(c2->members[0].driver);
        ASSERT_EQ(strv_length(c2->reasons), n_audit + 1);
        ASSERT_TRUE(has_reason(c2, "0000:04:00.0 must move with 0000:03:00.0 but is bound to nvme, not vfio-pci;"));
        ASSERT_TRUE(!c2->ready);

        /* all ready: no readiness reasons, still unsafe */
        set_driver(t, "0000:04:00.0", "vfio-pci");
        _cleanup_(pci_assign_check_freep) PciAssignCheck *c3 = check(t, "0000:03:00.0");
        ASSERT_TRUE(c3->ready && !c3->safe);
        ASSERT_EQ(strv_length(c3->reasons), n_audit);
}

static void test_isolated_alone(void) {
        _cleanup_(pci_topology_freep) PciTopology *t = seed_switch(ACS_ON, NULL);
        _cleanup_(pci_assign_check_freep) PciAssignCheck *c = check(t, "0000:03:00.0");
        _cleanup_free_ char *m = members_string(c);

        ASSERT_STREQ(m, "03:00.0:unbound");
        ASSERT_EQ(c->verdict, PCI_VERDICT_ISOLATED);
        ASSERT_TRUE(c->safe && !c->ready);
        size_t n_audit = strv_length(pci_topology_find(t, "0000:03:00.0")->reasons);
        ASSERT_EQ(strv_length(c->reasons), n_audit + 1);
        ASSERT_TRUE(has_reason(c, "0000:03:00.0 is not bound to any driver; bind it to vfio-pci"));
        set_driver(t, "0000:03:00.0", "vfio-pci");
        _cleanup_(pci_assign_check_freep) PciAssignCheck *c2 = check(t, "0000:03:00.0");
        ASSERT_TRUE(c2->safe && c2->ready);
        ASSERT_EQ(strv_length(c2->reasons), n_audit);
        /* a bridge checked on its own is ready without vfio-pci */
        _cleanup_(pci_assign_check_freep) PciAssignCheck *c3 = check(t, "0000:00:01.0");
        ASSERT_EQ(c3->n_members, 1);
        ASSERT_EQ(c3->members[0].state, PCI_ASSIGN_BRIDGE);
        ASSERT_TRUE(c3->ready);
}

/* The kernel names a group member that is not on the bus: it is a member, missing, not ready. */
static void test_member_missing_from_bus(void) {
        _cleanup_(pci_topology_freep) PciTopology *t = seed_switch(ACS_ON,
                "/sys/kernel/iommu_groups/1/devices/0000:00:01.0\n"
                "/sys/kernel/iommu_groups/2/devices/0000:01:00.0\n"
                "/sys/kernel/iommu_groups/3/devices/0000:02:00.0\n"
                "/sys/kernel/iommu_groups/4/devices/0000:02:03.0\n"
                "/sys/kernel/iommu_groups/5/devices/0000:03:00.0\n"
                "/sys/kernel/iommu_groups/5/devices/0000:03:00.1\n"
                "/sys/kernel/iommu_groups/6/devices/0000:04:00.0\n");
        set_driver(t, "0000:03:00.0", "vfio-pci");
        _cleanup_(pci_assign_check_freep) PciAssignCheck *c = check(t, "0000:03:00.0");
        _cleanup_free_ char *m = members_string(c);

        ASSERT_STREQ(m, "03:00.0:vfio-pci 03:00.1:missing");
        ASSERT_TRUE(!c->ready);
        ASSERT_TRUE(has_reason(c, "0000:03:00.1 must move with 0000:03:00.0 (the kernel puts it in the same IOMMU "
                               "group) but is not on the PCI bus now"));
}

static void test_names(void) {
        ASSERT_STREQ(pci_assign_state_to_string(PCI_ASSIGN_VFIO), "vfio-pci");
        ASSERT_NULL(pci_assign_state_to_string(_PCI_ASSIGN_STATE_MAX));
        ASSERT_TRUE(pci_assign_state_ready(PCI_ASSIGN_BRIDGE) && !pci_assign_state_ready(PCI_ASSIGN_MISSING));
        ASSERT_TRUE(pci_verdict_assignable(PCI_VERDICT_SHARED) && pci_verdict_assignable(PCI_VERDICT_ISOLATED));
        ASSERT_TRUE(!pci_verdict_assignable(PCI_VERDICT_UNSAFE) && !pci_verdict_assignable(PCI_VERDICT_UNKNOWN) &&
                    !pci_verdict_assignable(PCI_VERDICT_NO_IOMMU));
        ASSERT_EQ(pci_assign_state_of(NULL), PCI_ASSIGN_MISSING);
}

int main(void) {
        log_set_max_level(LOG_WARNING);
        test_unsafe_switch_members_and_reasons();
        test_isolated_alone();
        test_member_missing_from_bus();
        test_names();
        return 0;
}
