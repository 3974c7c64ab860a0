/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The real-kernel fixtures (tests/fixtures/pci/<name>/, from a Linux 6.1 kernel under QEMU):
 *  - predicted_kernel_groups must equal the kernel's groups;
 *  - ACS decoding must equal what `lspci -F lspci-xxxx.txt -vvv` prints (lspci is the oracle);
 *  - switch-no-acs must come out unsafe, with the DSPs and their endpoints in one group. */

#include <dirent.h>

#include "fileio.h"
#include "log.h"
#include "test-pci-util.h"

static char *fixture(const char *name, const char *file) {
        char *p;
        ASSERT_TRUE(asprintf(&p, "%s/pci/%s/%s", TEST_FIXTURES, name, file) > 0);
        return p;
}

static PciTopology *load_fixture(const char *name) {
        _cleanup_free_ char *dump = fixture(name, "lspci-xxxx.txt"), *groups = fixture(name, "iommu-groups.find.txt");
        _cleanup_free_ char *err = NULL;
        PciTopology *t = NULL;

        if (pci_topology_load_dump(dump, &t, &err) < 0)
                TEST_FAIL("%s: %s", name, err);
        if (pci_kgroups_load_find_file(t, groups, &err) < 0)
                TEST_FAIL("%s: %s", name, err);
        ASSERT_OK(pci_audit_full(t));
        ASSERT_OK(pci_audit_host(t, NULL));
        ASSERT_OK(pci_audit_full(t));
        return t;
}

static void check_predicted_equals_kernel(const char *name) {
        _cleanup_(pci_topology_freep) PciTopology *t = load_fixture(name);
        _cleanup_free_ char *pred = groups_string(t, PCI_GROUPING_PREDICTED);
        _cleanup_free_ char *kern = kernel_groups_string(t);

        if (!streq(pred, kern))
                TEST_FAIL("%s: predicted %s\n     kernel    %s", name, pred, kern);
        /* and every device's kernel group is known and matches */
        for (size_t i = 0; i < t->n_devices; i++) {
                PciDev *d = t->devices[i];
                ASSERT_TRUE(d->kernel_group >= 0);
                ASSERT_TRUE(!reasons_contain(t, d->address, "differs from the one predicted"));
        }
        printf("%s: predicted == kernel (%s)\n", name, pred);
}

/* Parses lspci -vvv output: "BB:DD.F ..." header lines, then "ACSCap:\t..." / "ACSCtl:\t..." */
static void check_acs_against_lspci(const char *name) {
        _cleanup_(pci_topology_freep) PciTopology *t = load_fixture(name);
        _cleanup_free_ char *dump = fixture(name, "lspci-xxxx.txt"), *cmd = NULL;
        char line[1024], cur[32] = "";
        unsigned n_cap = 0, n_ctl = 0, n_acs = 0;
        FILE *f;

        ASSERT_TRUE(asprintf(&cmd, "lspci -F '%s' -vvv 2>/dev/null", dump) > 0);
        f = popen(cmd, "r");
        ASSERT_NOT_NULL(f);
        while (fgets(line, sizeof(line), f)) {
                unsigned b, d, fn;
                char *s;
                if (line[0] != '\t' && sscanf(line, "%x:%x.%x ", &b, &d, &fn) == 3) {
                        snprintf(cur, sizeof(cur), "0000:%02x:%02x.%x", b, d, fn);
                        continue;
                }
                if ((s = strstr(line, "ACSCap:\t")) || (s = strstr(line, "ACSCtl:\t"))) {
                        bool is_cap = strneq(s, "ACSCap", 6);
                        char *v = s + 8;
                        strstrip_trailing(v);
                        PciDev *dev = pci_topology_find(t, cur);
                        ASSERT_NOT_NULL(dev);
                        ASSERT_TRUE(dev->acs.present);
                        ASSERT_STREQ(pci_acs_bits_lspci(is_cap ? dev->acs.cap : dev->acs.ctrl, 0), v);
                        if (is_cap)
                                n_cap++;
                        else
                                n_ctl++;
                }
        }
        ASSERT_TRUE(pclose(f) == 0);
        for (size_t i = 0; i < t->n_devices; i++)
                if (t->devices[i]->acs.present)
                        n_acs++;
        /* every device we decoded ACS for is one lspci decoded, and vice versa */
        ASSERT_EQ(n_cap, n_acs);
        ASSERT_EQ(n_ctl, n_acs);
        ASSERT_TRUE(n_acs > 0);
        printf("%s: ACS of %u devices equals lspci\n", name, n_acs);
}

static void test_switch_no_acs(void) {
        _cleanup_(pci_topology_freep) PciTopology *t = load_fixture("switch-no-acs");
        const char *members[] = { "0000:02:00.0", "0000:02:01.0", "0000:02:02.0",
                                  "0000:03:00.0", "0000:04:00.0", "0000:05:00.0" };
        PciGroup *g = pci_topology_find(t, "0000:03:00.0")->group[PCI_GROUPING_ISOLATION];

        for (size_t i = 0; i < ELEMENTSOF(members); i++) {
                PciDev *d = pci_topology_find(t, members[i]);
                ASSERT_NOT_NULL(d);
                ASSERT_TRUE(d->group[PCI_GROUPING_ISOLATION] == g);
                ASSERT_STREQ(pci_verdict_to_string(d->verdict), "unsafe");
        }
        ASSERT_STREQ(verdict_of(t, "0000:06:00.0"), "isolated");
        ASSERT_STREQ(verdict_of(t, "0000:00:04.0"), "isolated");
        ASSERT_TRUE(reasons_contain(t, "0000:03:00.0", "downstream port 0000:02:00.0 has no ACS capability"));
        ASSERT_TRUE(reasons_contain(t, "0000:03:00.0",
                                    "0000:03:00.0 can reach 0000:04:00.0 and 0000:05:00.0 through switch 0000:01:00.0"));
        ASSERT_TRUE(reasons_contain(t, "0000:03:00.0", "the kernel's IOMMU group 5 holds only 0000:02:00.0 and 0000:03:00.0"));
        /* the fixture booted with iommu=pt: every group is of type identity in iommu-groups.txt;
         * the find output has no types, so only the command line could tell */
        ASSERT_OK(pci_audit_host(t, "console=ttyS0 intel_iommu=on iommu=pt"));
        ASSERT_STREQ(t->findings[0].id, "iommu-passthrough");
}

static void test_switch_acs(void) {
        _cleanup_(pci_topology_freep) PciTopology *t = load_fixture("switch-acs");
        for (size_t i = 0; i < t->n_devices; i++) {
                PciDev *d = t->devices[i];
                if (d->bus_nr == 0 && d->dev == 0x1f)
                        ASSERT_STREQ(pci_verdict_to_string(d->verdict), "shared");
                else
                        ASSERT_STREQ(pci_verdict_to_string(d->verdict), "isolated");
        }
}

static void test_pcie_pci_bridge_mf(void) {
        _cleanup_(pci_topology_freep) PciTopology *t = load_fixture("pcie-pci-bridge-mf");
        /* kernel groups are wider than needed here (mainline MFD rules): shared, never unsafe */
        ASSERT_EQ(pci_audit_count_verdict(t, PCI_VERDICT_UNSAFE), 0);
        ASSERT_STREQ(verdict_of(t, "0000:04:00.1"), "shared");
        ASSERT_STREQ(verdict_of(t, "0000:00:08.0"), "isolated");   /* Intel RCiEP quirk */
        ASSERT_STREQ(verdict_of(t, "0000:02:03.1"), "shared");
        ASSERT_EQ(pci_topology_find(t, "0000:01:00.0")->port_type, PCI_TYPE_PCIE_TO_PCI);
        ASSERT_EQ(pci_topology_find(t, "0000:00:09.1")->port_type, PCI_TYPE_RCIEP);
        ASSERT_TRUE(pci_topology_find(t, "0000:04:00.2")->multifunction);
        ASSERT_TRUE(!pci_topology_find(t, "0000:04:00.2")->mf_header_bit);
        ASSERT_TRUE(pci_topology_find(t, "0000:03:01.0")->bus->self == pci_topology_find(t, "0000:02:04.0"));
}

int main(void) {
        static const char *const names[] = { "switch-no-acs", "switch-acs", "pcie-pci-bridge-mf" };

        log_set_max_level(LOG_WARNING);
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                check_predicted_equals_kernel(names[i]);
                check_acs_against_lspci(names[i]);
        }
        test_switch_no_acs();
        test_switch_acs();
        test_pcie_pci_bridge_mf();

        /* extra topologies recorded with the QEMU oracle (tests/fixtures/pci/oracle-*) */
        _cleanup_free_ char *dir = NULL;
        ASSERT_TRUE(asprintf(&dir, "%s/pci", TEST_FIXTURES) > 0);
        DIR *d = opendir(dir);
        ASSERT_NOT_NULL(d);
        for (struct dirent *de; (de = readdir(d));)
                if (strneq(de->d_name, "oracle-", 7)) {
                        check_predicted_equals_kernel(de->d_name);
                        check_acs_against_lspci(de->d_name);
                }
        closedir(d);
        printf("test-pci-fixtures: all passed\n");
        return 0;
}
