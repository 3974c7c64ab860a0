/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* ACS decoding and the kernel's rules (kernel-interfaces.md §8): every Capability and Control
 * bit, the ACS Enhanced fields, the egress control vector, pci_acs_flags_enabled() and the
 * per-port-type pci_acs_enabled(). */

#include "log.h"
#include "test-pci-util.h"

static void test_flags_enabled(void) {
        PciAcs none = {}, acs = { .present = true, .cap = 0x005f, .ctrl = 0x001d };

        ASSERT_TRUE(!pci_acs_flags_enabled(&none, PCI_ACS_REQ_FLAGS, 0));
        ASSERT_TRUE(!pci_acs_flags_enabled(NULL, 0, 0));
        ASSERT_TRUE(pci_acs_flags_enabled(&acs, PCI_ACS_REQ_FLAGS, 0));
        /* TB is in the capability but not enabled */
        ASSERT_TRUE(!pci_acs_flags_enabled(&acs, PCI_ACS_REQ_FLAGS | PCI_ACS_TB, 0));
        /* a feature missing from the capability counts as hard-wired on... */
        PciAcs no_uf = { .present = true, .cap = 0x004f, .ctrl = 0x000d };
        ASSERT_TRUE(pci_acs_flags_enabled(&no_uf, PCI_ACS_REQ_FLAGS, 0));
        /* ...except egress control */
        ASSERT_TRUE(!pci_acs_flags_enabled(&no_uf, PCI_ACS_EC, 0));
        ASSERT_EQ(pci_acs_missing_flags(&acs, PCI_ACS_REQ_FLAGS | PCI_ACS_TB), PCI_ACS_TB);
        PciAcs off = { .present = true, .cap = 0x005f, .ctrl = 0 };
        ASSERT_EQ(pci_acs_missing_flags(&off, PCI_ACS_REQ_FLAGS), PCI_ACS_REQ_FLAGS);
        char buf[64];
        ASSERT_STREQ(pci_acs_flags_names(PCI_ACS_REQ_FLAGS, buf, sizeof(buf)), "SV,RR,CR,UF");
        ASSERT_STREQ(pci_acs_flags_names(0x7f, buf, sizeof(buf)), "SV,TB,RR,CR,UF,EC,DT");
}

static void test_enhanced(void) {
        PciAcs e = { .present = true, .cap = 0x00df, .ctrl = 0x001d | 0x0080 | 0x0200 | 0x0400 | 0x1000 };

        ASSERT_EQ(pci_acs_dsp_mt(e.ctrl), PCI_MT_REDIRECT);
        ASSERT_EQ(pci_acs_usp_mt(e.ctrl), PCI_MT_BLOCKING);
        ASSERT_STREQ(pci_mem_target_to_string(pci_acs_dsp_mt(e.ctrl)), "redirect");
        ASSERT_STREQ(pci_mem_target_to_string(pci_acs_usp_mt(e.ctrl)), "blocking");
        ASSERT_STREQ(pci_mem_target_to_string(pci_acs_dsp_mt(0x0300)), "reserved");
        ASSERT_STREQ(pci_mem_target_to_string(pci_acs_usp_mt(0)), "direct");
        ASSERT_TRUE(pci_acs_flags_enabled(&e, PCI_ACS_REQ_FLAGS, PCI_ACS_WANT_DSP_MT_RR));
        ASSERT_TRUE(!pci_acs_flags_enabled(&e, PCI_ACS_REQ_FLAGS, PCI_ACS_WANT_USP_MT_RR));
        /* without the Enhanced capability bit the fields do not exist: hard-wired */
        PciAcs plain = { .present = true, .cap = 0x005f, .ctrl = 0x001d };
        ASSERT_TRUE(pci_acs_flags_enabled(&plain, PCI_ACS_REQ_FLAGS, PCI_ACS_WANT_DSP_MT_RR | PCI_ACS_WANT_USP_MT_RR));
}

static void test_lspci_strings(void) {
        ASSERT_STREQ(pci_acs_bits_lspci(0x005f, 0),
                     "SrcValid+ TransBlk+ ReqRedir+ CmpltRedir+ UpstreamFwd+ EgressCtrl- DirectTrans+");
        ASSERT_STREQ(pci_acs_bits_lspci(0x001d, 1),
                     "SrcValid+ TransBlk- ReqRedir+ CmpltRedir+ UpstreamFwd+ EgressCtrl- DirectTrans-");
        ASSERT_STREQ(pci_acs_bits_lspci(0xff80, 0),
                     "SrcValid- TransBlk- ReqRedir- CmpltRedir- UpstreamFwd- EgressCtrl- DirectTrans-");
}

static void test_decode_from_config(void) {
        TBuilder b = {};
        uint32_t vec[2] = { 0x00000005, 0x80000000 };
        TDev *rp = tb_root_port(&b, "00:01.0", 1, 1, -1);
        tb_acs_egress(rp, (uint16_t) (0x007f | (40u << 8)), 0x003d, vec, 2);
        TDev *e = tb_endpoint(&b, "01:00.0", false);
        tb_acs(e, 0x00df, 0x0a1d);
        _cleanup_(pci_topology_freep) PciTopology *t = tb_load(&b, NULL);
        tb_free(&b);

        PciDev *d = pci_topology_find(t, "0000:00:01.0");
        ASSERT_TRUE(d->acs.present);
        ASSERT_EQ(d->acs.pos, 0x100);
        ASSERT_EQ(d->acs.cap & 0xff, 0x7f);
        ASSERT_EQ(d->acs.egress_bits, 40);
        ASSERT_TRUE(d->acs.egress_read);
        ASSERT_EQ(d->acs.egress[0], 5);
        ASSERT_EQ(d->acs.egress[1], 0x80000000u);
        ASSERT_EQ(d->port_type, PCI_TYPE_ROOT_PORT);
        ASSERT_TRUE(d->is_bridge);
        ASSERT_EQ(d->secondary, 1);
        PciDev *x = pci_topology_find(t, "0000:01:00.0");
        ASSERT_TRUE(x->acs.cap & PCI_ACS_ENHANCED);
        ASSERT_EQ(pci_acs_dsp_mt(x->acs.ctrl), PCI_MT_REDIRECT);
        ASSERT_EQ(pci_acs_usp_mt(x->acs.ctrl), PCI_MT_REDIRECT);

        json_object *o;
        ASSERT_OK(pci_dev_to_json(t, d, &o));
        json_object *acs, *v;
        ASSERT_TRUE(json_object_object_get_ex(o, "acs", &acs));
        ASSERT_TRUE(json_object_object_get_ex(acs, "egress_vector", &v));
        ASSERT_EQ(json_object_array_length(v), 2);
        ASSERT_STREQ(json_object_get_string(json_object_array_get_idx(v, 1)), "0x80000000");
        json_object_put(o);
}

static void test_port_type_rules(void) {
        PciDev d = { .port_type = PCI_TYPE_ENDPOINT, .vendor = 0x15b3 };
        /* single-function endpoint: no P2P possible */
        ASSERT_TRUE(pci_dev_acs_enabled(&d, PCI_ACS_REQ_FLAGS, 0));
        d.multifunction = true;
        ASSERT_TRUE(!pci_dev_acs_enabled(&d, PCI_ACS_REQ_FLAGS, 0));
        d.acs = (PciAcs) { .present = true, .cap = 0x5f, .ctrl = 0x1d };
        ASSERT_TRUE(pci_dev_acs_enabled(&d, PCI_ACS_REQ_FLAGS, 0));
        d.port_type = PCI_TYPE_DOWNSTREAM;
        d.multifunction = false;
        d.acs.present = false;
        ASSERT_TRUE(!pci_dev_acs_enabled(&d, PCI_ACS_REQ_FLAGS, 0));
        d.port_type = PCI_TYPE_PCIE_TO_PCI;
        d.acs.present = true;
        ASSERT_TRUE(!pci_dev_acs_enabled(&d, PCI_ACS_REQ_FLAGS, 0));
        d.port_type = PCI_TYPE_CONVENTIONAL;
        ASSERT_TRUE(!pci_dev_acs_enabled(&d, PCI_ACS_REQ_FLAGS, 0));
        d.port_type = PCI_TYPE_RC_EC;
        ASSERT_TRUE(!pci_dev_acs_enabled(&d, PCI_ACS_REQ_FLAGS, 0));
        d.port_type = PCI_TYPE_UPSTREAM;
        ASSERT_TRUE(pci_dev_acs_enabled(&d, PCI_ACS_REQ_FLAGS, 0));
        /* Intel RCiEP quirk */
        PciDev r = { .port_type = PCI_TYPE_RCIEP, .vendor = 0x8086, .multifunction = true };
        ASSERT_TRUE(pci_dev_acs_enabled(&r, PCI_ACS_REQ_FLAGS, 0));
        ASSERT_TRUE(!pci_dev_acs_enabled(&r, PCI_ACS_REQ_FLAGS | PCI_ACS_TB, 0));
        r.vendor = 0x1b36;
        ASSERT_TRUE(!pci_dev_acs_enabled(&r, PCI_ACS_REQ_FLAGS, 0));
        ASSERT_STREQ(pci_port_type_to_string(PCI_TYPE_RCIEP), "rc-integrated-endpoint");
        ASSERT_STREQ(pci_port_type_to_string((PciPortType) 0xd), "pcie-reserved-type");
}

int main(void) {
        log_set_max_level(LOG_WARNING);
        test_flags_enabled();
        test_enhanced();
        test_lspci_strings();
        test_decode_from_config();
        test_port_type_rules();
        printf("test-pci-acs: all passed\n");
        return 0;
}
