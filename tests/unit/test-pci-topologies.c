/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Both groupings and the verdicts on hand-built topologies (kernel-interfaces.md §9.3). */

#include "log.h"
#include "test-pci-util.h"

#define ACS_ON 0x001d   /* SV RR CR UF */

static void expect_groups(PciTopology *t, const char *predicted, const char *isolation) {
        _cleanup_free_ char *p = groups_string(t, PCI_GROUPING_PREDICTED);
        _cleanup_free_ char *i = groups_string(t, PCI_GROUPING_ISOLATION);
        ASSERT_STREQ(p, predicted);
        ASSERT_STREQ(i, isolation);
}

/* Root 00:01.0 -> USP 01:00.0 -> DSP 02:00.0 / 02:03.0 -> A 03:00.0, B 04:00.0 */
static PciTopology *seed_switch(int acs_a, int acs_b) {
        TBuilder b = {};
        tb_root_port(&b, "00:01.0", 1, 4, ACS_ON);
        tb_usp(&b, "01:00.0", 1, 2, 4);
        tb_dsp(&b, "02:00.0", 2, 3, 3, acs_a);
        tb_dsp(&b, "02:03.0", 2, 4, 4, acs_b);
        tb_endpoint(&b, "03:00.0", false);
        tb_endpoint(&b, "04:00.0", false);
        PciTopology *t = tb_load(&b, NULL);
        tb_free(&b);
        return t;
}

static void test_seed_switch_no_acs(void) {
        _cleanup_(pci_topology_freep) PciTopology *t = seed_switch(-1, -1);

        expect_groups(t, "00:01.0|01:00.0|02:00.0 03:00.0|02:03.0 04:00.0",
                      "00:01.0|01:00.0 02:00.0 02:03.0 03:00.0 04:00.0");
        ASSERT_STREQ(verdict_of(t, "0000:03:00.0"), "unsafe");
        ASSERT_STREQ(verdict_of(t, "0000:04:00.0"), "unsafe");
        ASSERT_STREQ(verdict_of(t, "0000:00:01.0"), "isolated");
        ASSERT_TRUE(reasons_contain(t, "0000:03:00.0", "downstream port 0000:02:00.0 has no ACS capability"));
        ASSERT_TRUE(reasons_contain(t, "0000:03:00.0", "0000:03:00.0 can reach 0000:04:00.0 through switch 0000:01:00.0"));
        ASSERT_TRUE(reasons_contain(t, "0000:03:00.0", "predicted kernel IOMMU group holds only 0000:02:00.0 and 0000:03:00.0"));
        PciDev *a = pci_topology_find(t, "0000:03:00.0");
        ASSERT_EQ(a->port_type, PCI_TYPE_ENDPOINT);
        ASSERT_TRUE(a->bus->self == pci_topology_find(t, "0000:02:00.0"));
        PciDev *dsp = pci_topology_find(t, "0000:02:03.0");
        ASSERT_EQ(dsp->port_type, PCI_TYPE_DOWNSTREAM);
        ASSERT_EQ(dsp->secondary, 4);
        ASSERT_TRUE(!dsp->acs.present);
}

static void test_seed_switch_acs(void) {
        _cleanup_(pci_topology_freep) PciTopology *t = seed_switch(ACS_ON, ACS_ON);

        expect_groups(t, "00:01.0|01:00.0|02:00.0|02:03.0|03:00.0|04:00.0",
                      "00:01.0|01:00.0|02:00.0|02:03.0|03:00.0|04:00.0");
        for (const char *const *a = (const char *const[]) { "0000:00:01.0", "0000:01:00.0", "0000:02:00.0",
                                                            "0000:02:03.0", "0000:03:00.0", "0000:04:00.0", NULL }; *a; a++)
                ASSERT_STREQ(verdict_of(t, *a), "isolated");
}

static void test_switch_acs_cap_flags_off(void) {
        /* ACS capability present but nothing enabled: the DSPs reach each other, the USP's
         * MMIO stays out (USP memory target redirect counts as hard-wired without ACS
         * Enhanced), so the USP keeps its own group. */
        _cleanup_(pci_topology_freep) PciTopology *t = seed_switch(0, 0);
        expect_groups(t, "00:01.0|01:00.0|02:00.0 03:00.0|02:03.0 04:00.0",
                      "00:01.0|01:00.0|02:00.0 02:03.0 03:00.0 04:00.0");
        ASSERT_STREQ(verdict_of(t, "0000:04:00.0"), "unsafe");
        ASSERT_TRUE(reasons_contain(t, "0000:04:00.0", "does not enable ACS SV,RR,CR,UF"));
}

static void test_switch_mixed_acs(void) {
        _cleanup_(pci_topology_freep) PciTopology *t = seed_switch(ACS_ON, -1);
        /* mainline: the isolating DSP splits A from it; the fixed rules: one bad DSP spoils the bus */
        expect_groups(t, "00:01.0|01:00.0|02:00.0|02:03.0 04:00.0|03:00.0",
                      "00:01.0|01:00.0 02:00.0 02:03.0 03:00.0 04:00.0");
        ASSERT_STREQ(verdict_of(t, "0000:03:00.0"), "unsafe");
        ASSERT_TRUE(reasons_contain(t, "0000:03:00.0", "downstream port 0000:02:03.0 has no ACS capability"));
}

static void test_enhanced_acs(void) {
        /* ACS Enhanced DSPs: SV/RR/CR/UF on but the memory-target fields "direct": not isolated */
        TBuilder b = {};
        tb_root_port(&b, "00:01.0", 1, 4, ACS_ON);
        tb_usp(&b, "01:00.0", 1, 2, 4);
        TDev *d1 = tb_dsp(&b, "02:00.0", 2, 3, 3, -1);
        tb_acs(d1, 0x00df, ACS_ON | 0x0200 | 0x0800);           /* redirect both: isolated */
        TDev *d2 = tb_dsp(&b, "02:01.0", 2, 4, 4, -1);
        tb_acs(d2, 0x00df, ACS_ON);                             /* direct access */
        tb_endpoint(&b, "03:00.0", false);
        tb_endpoint(&b, "04:00.0", false);
        _cleanup_(pci_topology_freep) PciTopology *t = tb_load(&b, NULL);
        tb_free(&b);

        /* mainline ignores the enhanced bits */
        expect_groups(t, "00:01.0|01:00.0|02:00.0|02:01.0|03:00.0|04:00.0",
                      "00:01.0|01:00.0 02:00.0 02:01.0 03:00.0 04:00.0");
        PciDev *d = pci_topology_find(t, "0000:02:00.0");
        ASSERT_TRUE(d->acs.cap & PCI_ACS_ENHANCED);
        ASSERT_EQ(pci_acs_dsp_mt(d->acs.ctrl), PCI_MT_REDIRECT);
        ASSERT_EQ(pci_acs_usp_mt(d->acs.ctrl), PCI_MT_REDIRECT);
        ASSERT_TRUE(reasons_contain(t, "0000:03:00.0", "does not redirect memory-target requests"));
}

static void test_nested_switches(void) {
        TBuilder b = {};
        tb_root_port(&b, "00:01.0", 1, 7, ACS_ON);
        tb_usp(&b, "01:00.0", 1, 2, 7);
        tb_dsp(&b, "02:00.0", 2, 3, 6, ACS_ON);
        tb_dsp(&b, "02:01.0", 2, 7, 7, ACS_ON);
        tb_usp(&b, "03:00.0", 2, 4, 6);
        tb_dsp(&b, "04:00.0", 4, 5, 5, -1);
        tb_dsp(&b, "04:01.0", 4, 6, 6, -1);
        tb_endpoint(&b, "05:00.0", false);
        tb_endpoint(&b, "06:00.0", false);
        tb_endpoint(&b, "07:00.0", false);
        _cleanup_(pci_topology_freep) PciTopology *t = tb_load(&b, NULL);
        tb_free(&b);

        expect_groups(t, "00:01.0|01:00.0|02:00.0|02:01.0|03:00.0|04:00.0 05:00.0|04:01.0 06:00.0|07:00.0",
                      "00:01.0|01:00.0|02:00.0|02:01.0|03:00.0 04:00.0 04:01.0 05:00.0 06:00.0|07:00.0");
        ASSERT_STREQ(verdict_of(t, "0000:05:00.0"), "unsafe");
        ASSERT_STREQ(verdict_of(t, "0000:07:00.0"), "isolated");
        ASSERT_TRUE(reasons_contain(t, "0000:06:00.0", "through switch 0000:03:00.0"));
}

static void test_root_port_without_acs(void) {
        /* §9.3 topology B */
        TBuilder b = {};
        tb_root_port(&b, "00:01.0", 1, 1, -1);
        tb_endpoint(&b, "01:00.0", true);
        tb_endpoint(&b, "01:00.1", false);
        tb_endpoint(&b, "00:17.0", false);
        _cleanup_(pci_topology_freep) PciTopology *t = tb_load(&b, NULL);
        tb_free(&b);

        expect_groups(t, "00:01.0 01:00.0 01:00.1|00:17.0", "00:01.0|00:17.0|01:00.0|01:00.1");
        ASSERT_STREQ(verdict_of(t, "0000:01:00.0"), "shared");
        ASSERT_TRUE(reasons_contain(t, "0000:01:00.0", "cannot reach 0000:00:01.0 and 0000:01:00.1"));
        ASSERT_STREQ(verdict_of(t, "0000:00:17.0"), "isolated");
        ASSERT_TRUE(pci_topology_find(t, "0000:01:00.1")->multifunction);
        ASSERT_TRUE(!pci_topology_find(t, "0000:01:00.1")->mf_header_bit);
}

static void test_root_port_acs_flags_off(void) {
        /* an RP with an ACS capability that isolates nothing: its subtree joins it */
        TBuilder b = {};
        tb_root_port(&b, "00:01.0", 1, 1, 0);
        tb_endpoint(&b, "01:00.0", false);
        _cleanup_(pci_topology_freep) PciTopology *t = tb_load(&b, NULL);
        tb_free(&b);
        expect_groups(t, "00:01.0 01:00.0", "00:01.0 01:00.0");
        ASSERT_STREQ(verdict_of(t, "0000:01:00.0"), "shared");
}

static PciTopology *pcie_pci_bridge(bool mmio) {
        TBuilder b = {};
        tb_root_port(&b, "00:1c.0", 1, 3, ACS_ON);
        TDev *br = tb_dev(&b, "01:00.0", 0x1b36, 0x000e, 0x060400, 1, false);
        tb_bridge(br, 1, 2, 3);
        tb_pcie(br, 7);
        if (mmio)
                tb_mmio_bar(br, 0xfe800000);
        tb_dev(&b, "02:01.0", 0x8086, 0x100e, 0x020000, 0, false);
        tb_dev(&b, "02:02.0", 0x10ec, 0x8139, 0x020000, 0, false);
        TDev *pb = tb_dev(&b, "02:04.0", 0x1b36, 0x0001, 0x060400, 1, false);
        tb_bridge(pb, 2, 3, 3);
        tb_dev(&b, "03:01.0", 0x10ec, 0x8139, 0x020000, 0, false);
        PciTopology *t = tb_load(&b, NULL);
        tb_free(&b);
        return t;
}

static void test_pcie_to_pci_bridge(void) {
        _cleanup_(pci_topology_freep) PciTopology *t = pcie_pci_bridge(false);
        expect_groups(t, "00:1c.0|01:00.0 02:01.0 02:02.0 02:04.0 03:01.0",
                      "00:1c.0|01:00.0|02:01.0 02:02.0 02:04.0 03:01.0");
        ASSERT_STREQ(verdict_of(t, "0000:02:01.0"), "shared");
        ASSERT_EQ(pci_topology_find(t, "0000:01:00.0")->port_type, PCI_TYPE_PCIE_TO_PCI);
        ASSERT_EQ(pci_topology_find(t, "0000:02:01.0")->port_type, PCI_TYPE_CONVENTIONAL);

        _cleanup_(pci_topology_freep) PciTopology *t2 = pcie_pci_bridge(true);
        expect_groups(t2, "00:1c.0|01:00.0 02:01.0 02:02.0 02:04.0 03:01.0",
                      "00:1c.0|01:00.0 02:01.0 02:02.0 02:04.0 03:01.0");
        ASSERT_STREQ(verdict_of(t2, "0000:03:01.0"), "shared");
}

static void test_multifunction(void) {
        /* §9.3 topology C */
        TBuilder b = {};
        tb_endpoint(&b, "00:1f.0", true);
        tb_endpoint(&b, "00:1f.2", false);
        TDev *f6 = tb_endpoint(&b, "00:1f.6", false);
        tb_acs(f6, 0x005f, ACS_ON);
        _cleanup_(pci_topology_freep) PciTopology *t = tb_load(&b, NULL);
        tb_free(&b);
        expect_groups(t, "00:1f.0 00:1f.2|00:1f.6", "00:1f.0|00:1f.2|00:1f.6");

        /* with ACS capabilities that disable the flags: everything reaches everything */
        TBuilder c = {};
        tb_acs(tb_endpoint(&c, "00:1f.0", true), 0x005f, 0);
        tb_acs(tb_endpoint(&c, "00:1f.2", false), 0x005f, 0);
        tb_acs(tb_endpoint(&c, "00:1f.6", false), 0x005f, ACS_ON);
        _cleanup_(pci_topology_freep) PciTopology *u = tb_load(&c, NULL);
        tb_free(&c);
        expect_groups(u, "00:1f.0 00:1f.2|00:1f.6", "00:1f.0 00:1f.2 00:1f.6");
        ASSERT_STREQ(verdict_of(u, "0000:00:1f.6"), "unsafe");
        ASSERT_TRUE(reasons_contain(u, "0000:00:1f.6", "of one multifunction device can reach each other"));

        /* a multifunction endpoint behind a root port, with ACS on every function */
        TBuilder e = {};
        tb_root_port(&e, "00:03.0", 1, 1, ACS_ON);
        tb_acs(tb_endpoint(&e, "01:00.0", true), 0x005f, ACS_ON);
        tb_acs(tb_endpoint(&e, "01:00.1", false), 0x005f, ACS_ON);
        _cleanup_(pci_topology_freep) PciTopology *w = tb_load(&e, NULL);
        tb_free(&e);
        expect_groups(w, "00:03.0|01:00.0|01:00.1", "00:03.0|01:00.0|01:00.1");
        ASSERT_STREQ(verdict_of(w, "0000:01:00.1"), "isolated");
}

static void test_rciep(void) {
        TBuilder b = {};
        TDev *d;
        d = tb_dev(&b, "00:08.0", 0x8086, 0x10d3, 0x020000, 0, true);
        tb_pcie(d, 9);
        d = tb_dev(&b, "00:08.1", 0x8086, 0x10d3, 0x020000, 0, false);
        tb_pcie(d, 9);
        d = tb_dev(&b, "00:09.0", 0x1b36, 0x0010, 0x010802, 0, true);
        tb_pcie(d, 9);
        d = tb_dev(&b, "00:09.1", 0x1b36, 0x0010, 0x010802, 0, false);
        tb_pcie(d, 9);
        d = tb_dev(&b, "00:0a.0", 0x1022, 0x14dc, 0x088000, 0, false);
        tb_pcie(d, 9);
        _cleanup_(pci_topology_freep) PciTopology *t = tb_load(&b, NULL);
        tb_free(&b);
        /* the Intel RCiEP quirk separates 00:08.x; the Red Hat pair stays together */
        expect_groups(t, "00:08.0|00:08.1|00:09.0 00:09.1|00:0a.0", "00:08.0|00:08.1|00:09.0|00:09.1|00:0a.0");
        ASSERT_EQ(pci_topology_find(t, "0000:00:0a.0")->port_type, PCI_TYPE_RCIEP);
        ASSERT_TRUE(pci_dev_acs_quirk(pci_topology_find(t, "0000:00:08.1"), PCI_ACS_REQ_FLAGS, NULL) > 0);
        ASSERT_TRUE(pci_dev_acs_quirk(pci_topology_find(t, "0000:00:09.1"), PCI_ACS_REQ_FLAGS, NULL) < 0);
}

static void test_sriov(void) {
        TBuilder b = {};
        tb_root_port(&b, "00:03.0", 1, 2, ACS_ON);
        TDev *pf = tb_endpoint(&b, "01:00.0", false);
        tb_acs(pf, 0x005f, ACS_ON);
        tb_sriov(pf, 4, 2, 1, 0x1018);
        tb_vf(&b, "01:00.2");
        tb_vf(&b, "01:00.3");
        tb_vf(&b, "01:00.4");
        tb_vf(&b, "01:00.5");
        /* a second PF whose VFs sit on a bus of their own (offset 0x100: bus 02) */
        TDev *pf2 = tb_endpoint(&b, "01:00.1", false);
        tb_sriov(pf2, 2, 0xff, 1, 0x1019);
        tb_vf(&b, "02:00.0");
        tb_vf(&b, "02:00.1");
        _cleanup_(pci_topology_freep) PciTopology *t = tb_load(&b, NULL);
        tb_free(&b);

        PciDev *vf = pci_topology_find(t, "0000:01:00.3");
        ASSERT_TRUE(vf->is_vf);
        ASSERT_TRUE(vf->physfn == pci_topology_find(t, "0000:01:00.0"));
        ASSERT_EQ(vf->vendor, 0x15b3);
        ASSERT_EQ(vf->device, 0x1018);
        ASSERT_TRUE(!vf->multifunction);
        PciDev *vf2 = pci_topology_find(t, "0000:02:00.1");
        ASSERT_TRUE(vf2->is_vf);
        ASSERT_TRUE(vf2->physfn == pci_topology_find(t, "0000:01:00.1"));
        ASSERT_TRUE(vf2->bus->is_virtual);
        ASSERT_EQ(vf2->device, 0x1019);
        /* the PFs are functions 0 and 1: function 1 is multifunction for Linux, function 0
         * has no header bit; both endpoints: mfd_same_group is true (one is multifunction) */
        expect_groups(t, "00:03.0|01:00.0|01:00.1|01:00.2|01:00.3|01:00.4|01:00.5|02:00.0|02:00.1",
                      "00:03.0|01:00.0 01:00.1|01:00.2|01:00.3|01:00.4|01:00.5|02:00.0|02:00.1");
        ASSERT_STREQ(verdict_of(t, "0000:01:00.4"), "isolated");
        ASSERT_STREQ(verdict_of(t, "0000:02:00.0"), "isolated");

        /* VFs below a switch without ACS share the switch's fate */
        TBuilder c = {};
        tb_root_port(&c, "00:01.0", 1, 4, ACS_ON);
        tb_usp(&c, "01:00.0", 1, 2, 4);
        tb_dsp(&c, "02:00.0", 2, 3, 3, -1);
        tb_dsp(&c, "02:01.0", 2, 4, 4, -1);
        TDev *p = tb_endpoint(&c, "03:00.0", false);
        tb_sriov(p, 2, 1, 1, 0x1018);
        tb_vf(&c, "03:00.1");
        tb_vf(&c, "03:00.2");
        tb_endpoint(&c, "04:00.0", false);
        _cleanup_(pci_topology_freep) PciTopology *u = tb_load(&c, NULL);
        tb_free(&c);
        expect_groups(u, "00:01.0|01:00.0|02:00.0 03:00.0 03:00.1 03:00.2|02:01.0 04:00.0",
                      "00:01.0|01:00.0 02:00.0 02:01.0 03:00.0 03:00.1 03:00.2 04:00.0");
        ASSERT_STREQ(verdict_of(u, "0000:03:00.2"), "unsafe");
}

static void test_kernel_groups_and_host(void) {
        _cleanup_(pci_topology_freep) PciTopology *t = seed_switch(-1, -1);
        _cleanup_free_ char *err = NULL;

        ASSERT_OK(pci_kgroups_parse_find_text(t,
                "/sys/kernel/iommu_groups/0/devices/0000:00:01.0\n"
                "/sys/kernel/iommu_groups/1/devices/0000:01:00.0\n"
                "/sys/kernel/iommu_groups/2/devices/0000:02:00.0\n"
                "/sys/kernel/iommu_groups/2/devices/0000:03:00.0\n"
                "/sys/kernel/iommu_groups/3/devices/0000:02:03.0\n"
                "/sys/kernel/iommu_groups/3/devices/0000:04:00.0\n", &err));
        ASSERT_OK(pci_audit_full(t));
        ASSERT_STREQ(verdict_of(t, "0000:04:00.0"), "unsafe");
        ASSERT_TRUE(reasons_contain(t, "0000:04:00.0", "the kernel's IOMMU group 3 holds only 0000:02:03.0 and 0000:04:00.0"));
        _cleanup_strv_free_ char **comp = pci_audit_companions(t, pci_topology_find(t, "0000:04:00.0"));
        ASSERT_EQ(strv_length(comp), 5);

        /* malformed groups files are named errors */
        ASSERT_TRUE(pci_kgroups_parse_find_text(t, "/sys/kernel/iommu_groups/x/devices/0000:00:01.0\n", &err) == -EBADMSG);
        ASSERT_TRUE(strstr(err, "Line 1"));
        ASSERT_TRUE(pci_kgroups_parse_find_text(t, "hello\n", &err) == -EBADMSG);
        ASSERT_TRUE(pci_kgroups_parse_find_text(t, "/sys/kernel/iommu_groups/1/devices/0000:zz:00.0\n", &err) == -EBADMSG);

        /* host findings */
        ASSERT_OK(pci_audit_host(t, "root=/dev/sda iommu=pt pcie_acs_override=downstream,multifunction"));
        ASSERT_EQ(t->n_findings, 2);
        ASSERT_STREQ(t->findings[0].id, "iommu-passthrough");
        ASSERT_EQ(t->findings[0].severity, PCI_HOST_FATAL);
        ASSERT_STREQ(t->findings[1].id, "acs-override");
        ASSERT_OK(pci_audit_full(t));
        ASSERT_TRUE(reasons_contain(t, "0000:00:01.0", "pcie_acs_override"));
        ASSERT_OK(pci_audit_host(t, "root=/dev/sda iommu=nopt amd_iommu=on"));
        ASSERT_EQ(t->n_findings, 0);

        /* an empty groups file: no IOMMU */
        _cleanup_(pci_topology_freep) PciTopology *u = seed_switch(-1, -1);
        ASSERT_OK(pci_kgroups_parse_find_text(u, "", NULL));
        ASSERT_OK(pci_audit_host(u, NULL));
        ASSERT_OK(pci_audit_full(u));
        ASSERT_STREQ(verdict_of(u, "0000:03:00.0"), "no-iommu");
        ASSERT_STREQ(u->findings[0].id, "iommu-off");
}

static void test_config_too_short(void) {
        TBuilder b = {};
        tb_root_port(&b, "00:01.0", 1, 1, ACS_ON);
        TDev *e = tb_endpoint(&b, "01:00.0", false);
        e->len = 64;    /* what a non-root reader gets */
        _cleanup_(pci_topology_freep) PciTopology *t = tb_load(&b, NULL);
        tb_free(&b);
        ASSERT_EQ(pci_topology_find(t, "0000:01:00.0")->cfg_size, 64);
        ASSERT_STREQ(verdict_of(t, "0000:01:00.0"), "unknown");
        ASSERT_TRUE(reasons_contain(t, "0000:01:00.0", "Only 64 bytes"));
}

static void test_json(void) {
        _cleanup_(pci_topology_freep) PciTopology *t = seed_switch(-1, ACS_ON);
        json_object *doc, *devs, *d, *v;

        ASSERT_OK(pci_audit_to_json(t, &doc));
        ASSERT_TRUE(json_object_object_get_ex(doc, "predicted_kernel_groups", &v));
        ASSERT_EQ(json_object_array_length(v), 5);
        ASSERT_TRUE(json_object_object_get_ex(doc, "isolation_groups", &v));
        ASSERT_EQ(json_object_array_length(v), 2);
        ASSERT_TRUE(!json_object_object_get_ex(doc, "kernel_groups", &v));
        ASSERT_TRUE(json_object_object_get_ex(doc, "devices", &devs));
        ASSERT_TRUE(json_object_object_get_ex(devs, "0000:02:03.0", &d));
        ASSERT_TRUE(json_object_object_get_ex(d, "acs", &v));
        json_object *cb;
        ASSERT_TRUE(json_object_object_get_ex(v, "capability_bits", &cb));
        ASSERT_STREQ(json_object_get_string(cb), "SrcValid+ TransBlk+ ReqRedir+ CmpltRedir+ UpstreamFwd+ EgressCtrl- DirectTrans+");
        ASSERT_TRUE(json_object_object_get_ex(d, "verdict", &v));
        ASSERT_STREQ(json_object_get_string(v), "unsafe");
        json_object_put(doc);
}

static void test_addresses(void) {
        uint32_t dom;
        uint8_t b, d, f;
        ASSERT_OK(pci_parse_address("0000:c1:00.1", &dom, &b, &d, &f));
        ASSERT_EQ(b, 0xc1);
        ASSERT_EQ(f, 1);
        ASSERT_OK(pci_parse_address("10001:05:1f.7", &dom, &b, &d, &f));
        ASSERT_EQ(dom, 0x10001);
        ASSERT_EQ(d, 0x1f);
        ASSERT_OK(pci_parse_address("05:00.0", &dom, &b, &d, &f));
        ASSERT_EQ(dom, 0);
        ASSERT_TRUE(pci_parse_address("0000:05:20.0", NULL, NULL, NULL, NULL) < 0);
        ASSERT_TRUE(pci_parse_address("0000:05:00.8", NULL, NULL, NULL, NULL) < 0);
        ASSERT_TRUE(pci_parse_address("0000:105:00.0", NULL, NULL, NULL, NULL) < 0);
        ASSERT_TRUE(pci_parse_address("", NULL, NULL, NULL, NULL) < 0);
        ASSERT_TRUE(pci_parse_address("0000:05:00.0 ", NULL, NULL, NULL, NULL) < 0);
        ASSERT_TRUE(pci_parse_address("0000:05:00.", NULL, NULL, NULL, NULL) < 0);
}

int main(void) {
        log_set_max_level(LOG_WARNING);
        test_addresses();
        test_seed_switch_no_acs();
        test_seed_switch_acs();
        test_switch_acs_cap_flags_off();
        test_switch_mixed_acs();
        test_enhanced_acs();
        test_nested_switches();
        test_root_port_without_acs();
        test_root_port_acs_flags_off();
        test_pcie_to_pci_bridge();
        test_multifunction();
        test_rciep();
        test_sriov();
        test_kernel_groups_and_host();
        test_config_too_short();
        test_json();
        printf("test-pci-topologies: all passed\n");
        return 0;
}
