/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the libvirt hook's XML reading and rules, on libvirt's own test XMLs
 * (tests/fixtures/libvirt) and hand-made hwsecd answers. Run from the source root. */

#include "fileio.h"
#include "hook-domain.h"
#include "hook-rules.h"
#include "tests.h"

static Domain *parse_file(const char *name) {
        _cleanup_free_ char *path = path_join("tests/fixtures/libvirt", name), *text = NULL, *error = NULL;
        Domain *d = NULL;
        size_t size;

        ASSERT_OK(read_full_file(path, 1 << 20, &text, &size));
        ASSERT_OK(domain_parse(text, size, &d, &error));
        return d;
}

static Domain *parse_text(const char *text) {
        _cleanup_free_ char *error = NULL;
        Domain *d = NULL;

        ASSERT_OK(domain_parse(text, strlen(text), &d, &error));
        return d;
}

/* The 4 functions of hostdev-vfio.xml, source side only. */
static void test_fixture_hostdevs(void) {
        _cleanup_(domain_freep) Domain *d = parse_file("hostdev-vfio.xml");
        _cleanup_(domain_freep) Domain *m = parse_file("hostdev-vfio-multidomain.x86_64-latest.xml");
        _cleanup_(domain_freep) Domain *a = parse_file("hostdev-pci-address.xml");

        ASSERT_EQ(strv_length(d->hostdevs), 4u);
        ASSERT_STREQ(d->hostdevs[0], "0000:06:12.1");
        ASSERT_STREQ(d->hostdevs[3], "0000:06:12.4");
        ASSERT_EQ(d->launch_security, LAUNCH_SECURITY_NONE);
        ASSERT_TRUE(domain_needs_daemon(d));
        /* The guest-side <address type='pci' ...> siblings are never read. */
        ASSERT_EQ(strv_length(m->hostdevs), 1u);
        ASSERT_STREQ(m->hostdevs[0], "0021:de:1f.1");
        ASSERT_EQ(strv_length(a->hostdevs), 1u);
        ASSERT_STREQ(a->hostdevs[0], "0000:06:12.5");
        ASSERT_STREQ(a->name, "QEMUGuest2");
}

static void test_fixture_launch_security(void) {
        _cleanup_(domain_freep) Domain *snp = parse_file("launch-security-sev-snp.xml");
        _cleanup_(domain_freep) Domain *snp2 = parse_file("launch-security-sev-snp.x86_64-latest.xml");
        _cleanup_(domain_freep) Domain *sev = parse_file("launch-security-sev.xml");

        ASSERT_EQ(snp->launch_security, LAUNCH_SECURITY_SEV_SNP);
        ASSERT_EQ(snp2->launch_security, LAUNCH_SECURITY_SEV_SNP);
        ASSERT_EQ(strv_length(snp2->hostdevs), 0u);
        ASSERT_EQ(snp2->vcpus, 1u);
        /* policy 0x0001: no ES bit */
        ASSERT_EQ(sev->launch_security, LAUNCH_SECURITY_SEV);
        ASSERT_STREQ(launch_security_pool(sev->launch_security), "sev");
}

static void test_addresses(void) {
        char a[DOMAIN_PCI_ADDRESS_MAX];

        ASSERT_OK(domain_pci_address("0x0000", "0x06", "0x12", "0x5", a));
        ASSERT_STREQ(a, "0000:06:12.5");
        ASSERT_OK(domain_pci_address(NULL, "6", "18", "5", a));
        ASSERT_STREQ(a, "0000:06:12.5");
        ASSERT_EQ(domain_pci_address("0", "0x100", "0", "0", a), -EINVAL);
        ASSERT_EQ(domain_pci_address("0", "0", "0x20", "0", a), -EINVAL);
        ASSERT_EQ(domain_pci_address("0", "0", "0", "8", a), -EINVAL);
        ASSERT_EQ(domain_pci_address("0", "-1", "0", "0", a), -EINVAL);
        ASSERT_EQ(domain_pci_address("0", "1x", "0", "0", a), -EINVAL);
        ASSERT_EQ(domain_pci_address("0", NULL, "0", "0", a), -EINVAL);
}

static void test_policy_es_and_vcpus(void) {
        _cleanup_(domain_freep) Domain *es = parse_text(
                "<domain type='kvm'><name>es</name><vcpu current='2'>300</vcpu>"
                "<cpu><feature policy='disable' name='x2apic'/></cpu>"
                "<launchSecurity type='sev'><policy>0x0005</policy></launchSecurity></domain>");
        _cleanup_(domain_freep) Domain *other = parse_text(
                "<domain type='kvm'><launchSecurity type='s390-pv'/><devices>"
                "<hostdev mode='subsystem' type='usb'><source><address bus='1' device='2'/></source></hostdev>"
                "<hostdev mode='subsystem' type='pci'><source><address bus='0x300' slot='0' function='0'/></source></hostdev>"
                "<interface type='hostdev'><source><address type='pci' domain='0' bus='0x81' slot='0' function='3'/></source></interface>"
                "</devices></domain>");
        _cleanup_(judgement_done) Judgement j = {};

        ASSERT_EQ(es->launch_security, LAUNCH_SECURITY_SEV_ES);
        ASSERT_EQ(es->vcpus, 300u);
        ASSERT_TRUE(es->x2apic_disabled);
        ASSERT_OK(judge_vcpus(es, false, &j));
        ASSERT_EQ(strv_length(j.warnings), 0u);
        ASSERT_OK(judge_vcpus(es, true, &j));
        ASSERT_EQ(strv_length(j.warnings), 1u);
        ASSERT_TRUE(strstr(j.warnings[0], "300 vCPUs") && strstr(j.warnings[0], "x2apic"));
        ASSERT_EQ(strv_length(j.refusals), 0u);

        ASSERT_EQ(other->launch_security, LAUNCH_SECURITY_OTHER);
        ASSERT_EQ(strv_length(other->hostdevs), 1u);
        ASSERT_STREQ(other->hostdevs[0], "0000:81:00.3");
        ASSERT_EQ(strv_length(other->warnings), 1u);
}

static void test_not_xml(void) {
        static const char *const bad[] = { "", "garbage", "<domain>", "<network/>", "\xff\xfe<domain/>",
                                           "<?xml version='1.0'?><!DOCTYPE d [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><domain>&x;</domain>" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *error = NULL;
                Domain *d = NULL;
                int r = domain_parse(bad[i], strlen(bad[i]), &d, &error);
                if (r == 0) {
                        /* The entity case parses (the reference is left unexpanded): no devices. */
                        ASSERT_EQ(strv_length(d->hostdevs), 0u);
                        domain_free(d);
                        continue;
                }
                ASSERT_EQ(r, -EINVAL);
                ASSERT_NOT_NULL(error);
        }
        ASSERT_TRUE(cpuinfo_is_amd("processor\t: 0\nvendor_id\t: AuthenticAMD\n"));
        ASSERT_TRUE(!cpuinfo_is_amd("processor\t: 0\nvendor_id\t: GenuineIntel\n"));
        ASSERT_TRUE(!cpuinfo_is_amd(""));
}

static PciMember member(const char *addr, const char *drv, bool ready) {
        return (PciMember) { .address = strdup(addr), .driver = strdup(drv), .ready = ready };
}

/* 03:00.0 behind a switch without ACS: its companions 04:00.0 and 05:00.0 must come along,
 * the bridges 01:00.0 and 02:00.0 never. */
static void fill_unsafe(PciAnswer *a) {
        *a = (PciAnswer) { .address = strdup("0000:03:00.0"), .verdict = strdup("unsafe") };
        ASSERT_OK(strv_extend(&a->reasons, "downstream port 0000:02:00.0 has no ACS capability"));
        ASSERT_OK(strv_extend(&a->reasons, "0000:03:00.0 can reach 0000:04:00.0 through switch 0000:01:00.0."));
        ASSERT_OK(strv_extend(&a->reasons, "0000:04:00.0 must move with 0000:03:00.0 but is bound to virtio-pci"));
        a->members = calloc(4, sizeof(PciMember));
        a->members[0] = member("0000:01:00.0", "pcieport", true);
        a->members[1] = member("0000:02:00.0", "pcieport", true);
        a->members[2] = member("0000:03:00.0", "vfio-pci", true);
        a->members[3] = member("0000:04:00.0", "virtio-pci", false);
        a->n_members = 4;
}

static void test_pci_rules(void) {
        _cleanup_(domain_freep) Domain *alone = parse_text(
                "<domain><devices><hostdev mode='subsystem' type='pci'><source>"
                "<address domain='0' bus='3' slot='0' function='0'/></source></hostdev></devices></domain>");
        _cleanup_(domain_freep) Domain *both = parse_text(
                "<domain><devices><hostdev mode='subsystem' type='pci'><source>"
                "<address domain='0' bus='3' slot='0' function='0'/></source></hostdev>"
                "<hostdev mode='subsystem' type='pci'><source>"
                "<address domain='0' bus='4' slot='0' function='0'/></source></hostdev></devices></domain>");
        _cleanup_(judgement_done) Judgement j1 = {}, j2 = {}, j3 = {};
        PciAnswer a, nf = { .address = strdup("0000:03:00.0"), .error_name = strdup("org.hwsecd1.Error.NotFound"),
                            .error_message = strdup("no such device") };

        fill_unsafe(&a);
        ASSERT_OK(judge_pci(alone, &a, 1, &j1));
        ASSERT_EQ(strv_length(j1.refusals), 1u);
        /* Names the device, the port without ACS, the companion, and what to do; the driver
         * reason (libvirt rebinds managed devices) and the bridges are left out. */
        ASSERT_TRUE(strstr(j1.refusals[0], "0000:03:00.0 is not isolated (hwsecd verdict: unsafe)"));
        ASSERT_TRUE(strstr(j1.refusals[0], "0000:02:00.0 has no ACS capability"));
        ASSERT_TRUE(strstr(j1.refusals[0], "It must move with 0000:04:00.0, which is not given"));
        ASSERT_TRUE(strstr(j1.refusals[0], "or keep 0000:03:00.0 on the host"));
        ASSERT_NULL(strstr(j1.refusals[0], "bound to virtio-pci"));
        ASSERT_NULL(strstr(j1.refusals[0], "0000:01:00.0,"));

        ASSERT_OK(judge_pci(both, &a, 1, &j2));
        ASSERT_EQ(strv_length(j2.refusals), 0u);
        ASSERT_EQ(strv_length(j2.allowed), 1u);
        ASSERT_TRUE(strstr(j2.allowed[0], "isolated as a whole"));

        ASSERT_OK(judge_pci(alone, &nf, 1, &j3));
        ASSERT_EQ(strv_length(j3.refusals), 1u);
        pci_answer_done(&a);
        pci_answer_done(&nf);
}

static AsidPool pool(const char *name, const char *state, uint32_t first, uint32_t last, int64_t used, int64_t free_) {
        return (AsidPool) { .name = strdup(name), .state = strdup(state), .first = first, .last = last,
                            .capacity = first <= last ? last - first + 1 : 0, .used = used, .free = free_,
                            .note = strdup("") };
}

static void test_asid_rules(void) {
        _cleanup_(domain_freep) Domain *snp = parse_file("launch-security-sev-snp.xml");
        _cleanup_(domain_freep) Domain *es = parse_text(
                "<domain><launchSecurity type='sev'><policy>0x0004</policy></launchSecurity></domain>");
        _cleanup_(asid_answer_done) AsidAnswer a = {};
        _cleanup_(judgement_done) Judgement j1 = {}, j2 = {}, j3 = {};

        a.pools = calloc(3, sizeof(AsidPool));
        a.pools[0] = pool("sev", "enabled", 100, 1006, 0, 907);
        a.pools[1] = pool("sev-es", "unusable", 100, 99, 0, 0);
        a.pools[2] = pool("snp", "enabled", 1, 99, 99, 0);
        a.n_pools = 3;
        a.ciphertext_hiding_asids = 99;
        ASSERT_OK(strv_extend(&a.explanation, "SEV-ES has no ASIDs because ciphertext hiding gives all 99 joint "
                              "ASIDs to SNP."));

        ASSERT_OK(judge_asid(snp, &a, &j1));
        ASSERT_EQ(strv_length(j1.refusals), 1u);
        ASSERT_TRUE(strstr(j1.refusals[0], "No free SEV-SNP ASID: all 99 ASIDs of the SEV-SNP pool (1-99)"));
        ASSERT_TRUE(strstr(j1.refusals[0], "raise kvm_amd ciphertext_hiding_asids"));

        ASSERT_OK(judge_asid(es, &a, &j2));
        ASSERT_EQ(strv_length(j2.refusals), 1u);
        ASSERT_TRUE(strstr(j2.refusals[0], "SEV-ES has no ASIDs because ciphertext hiding gives all 99 joint"));
        ASSERT_TRUE(strstr(j2.refusals[0], "Lower kvm_amd ciphertext_hiding_asids (now 99"));

        a.pools[2].free = -1;
        ASSERT_OK(judge_asid(snp, &a, &j3));
        ASSERT_EQ(strv_length(j3.refusals), 0u);
        ASSERT_EQ(strv_length(j3.warnings), 1u);
}

static void test_snp_checks(void) {
        _cleanup_(domain_freep) Domain *snp = parse_file("launch-security-sev-snp.xml");
        _cleanup_(domain_freep) Domain *sev = parse_file("launch-security-sev.xml");
        _cleanup_(judgement_done) Judgement j = {}, k = {};
        Check c[3] = {
                { .id = strdup("platform.snp-init"), .result = strdup("fail"), .title = strdup("SEV-SNP initialised"),
                  .detail = strdup("SNP not initialised."), .hint = strdup("Enable SEV-SNP."),
                  .remedy = strdup("options kvm_amd sev_snp=1") },
                { .id = strdup("firmware.tcb-committed"), .result = strdup("fail"), .title = strdup("t"),
                  .detail = strdup("d"), .hint = strdup("h") },
                { .id = strdup("cpu.sev"), .result = strdup("pass"), .title = strdup("t"), .detail = strdup("d"),
                  .hint = strdup("") },
        };

        ASSERT_OK(judge_snp_checks(snp, c, 3, &j));
        /* An uncommitted TCB does not stop a guest. */
        ASSERT_EQ(strv_length(j.refusals), 1u);
        ASSERT_TRUE(strstr(j.refusals[0], "platform.snp-init") && strstr(j.refusals[0], "options kvm_amd sev_snp=1"));
        ASSERT_OK(judge_snp_checks(sev, c, 3, &k));
        ASSERT_EQ(strv_length(k.refusals), 0u);
        for (size_t i = 0; i < 3; i++)
                check_done(&c[i]);
}

int main(void) {
        test_fixture_hostdevs();
        test_fixture_launch_security();
        test_addresses();
        test_policy_es_and_vcpus();
        test_not_xml();
        test_pci_rules();
        test_asid_rules();
        test_snp_checks();
        return 0;
}
