/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading the PSP PCI function from a sysfs-like directory: ids, driver link, the ccp
 * attributes that exist (missing ones stay unknown), and bad attribute values. */

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "fileio.h"
#include "psp-device.h"

static unsigned failures;
#define CHECK(expr) do { if (!(expr)) { fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #expr); failures++; } } while (0)

static void put(const char *dir, const char *name, const char *text) {
        _cleanup_free_ char *p = path_join(dir, name);
        CHECK(write_file_atomic(p, text, strlen(text), 0644) == 0);
}

static void test_read(void) {
        char root[] = "/tmp/test-psp-device-XXXXXX";
        _cleanup_free_ char *dev = NULL, *drv = NULL, *link = NULL, *cmd = NULL;
        PspDevice d = {};
        json_object *v;

        CHECK(mkdtemp(root));
        dev = path_join(root, "devices/pci0000:c0/0000:c1:00.1");
        drv = path_join(root, "bus/pci/drivers/ccp");
        CHECK(mkdir_p(dev, 0755) >= 0 && mkdir_p(drv, 0755) >= 0);
        put(dev, "vendor", "0x1022\n");
        put(dev, "device", "0x14ca\n");
        put(dev, "fused_part", "1\n");
        put(dev, "debug_lock_on", "0\n");
        put(dev, "tsme_status", "yes\n");               /* not 0/1: unknown, with a problem */
        put(dev, "bootloader_version", "00.2d.00.78\n");
        put(dev, "tee_version", "garbage\n");
        link = path_join(dev, "driver");
        CHECK(symlink("../../../bus/pci/drivers/ccp", link) == 0);

        CHECK(psp_device_read(dev, &d) == 0);
        CHECK(streq(d.address, "0000:c1:00.1"));
        CHECK(d.vendor == 0x1022 && d.device == 0x14ca);
        CHECK(d.driver && streq(d.driver, "ccp"));
        CHECK(json_object_object_get_ex(d.attributes, "fused_part", &v) && json_object_get_boolean(v));
        CHECK(json_object_object_get_ex(d.attributes, "debug_lock_on", &v) && !json_object_get_boolean(v));
        CHECK(!json_object_object_get_ex(d.attributes, "tsme_status", NULL));
        CHECK(!json_object_object_get_ex(d.attributes, "anti_rollback_status", NULL));   /* missing: absent */
        CHECK(json_object_object_get_ex(d.attributes, "bootloader_version", &v) &&
              streq(json_object_get_string(v), "00.2d.00.78"));
        CHECK(!json_object_object_get_ex(d.attributes, "tee_version", NULL));
        CHECK(strv_length(d.problems) == 2);
        psp_device_done(&d);

        /* unbound: no driver link */
        CHECK(unlink(link) == 0);
        CHECK(psp_device_read(dev, &d) == 0);
        CHECK(d.driver == NULL);
        psp_device_done(&d);

        put(dev, "device", "nonsense\n");
        CHECK(psp_device_read(dev, &d) == -EBADMSG);
        CHECK(psp_device_read("/nonexistent/0000:00:00.0", &d) == -ENOENT);

        CHECK(asprintf(&cmd, "rm -rf '%s'", root) > 0);
        CHECK(system(cmd) == 0);
}

static void test_ids(void) {
        CHECK(psp_pci_id_lookup(0x14ca) && psp_pci_id_lookup(0x14ca)->sev);
        CHECK(psp_pci_id_lookup(0x1486) && psp_pci_id_lookup(0x1486)->sev);
        CHECK(psp_pci_id_lookup(0x156e) && psp_pci_id_lookup(0x156e)->sev);
        CHECK(psp_pci_id_lookup(0x17d8) && psp_pci_id_lookup(0x17d8)->sev);
        CHECK(psp_pci_id_lookup(0x1456) && psp_pci_id_lookup(0x1456)->sev);
        CHECK(psp_pci_id_lookup(0x1537) && !psp_pci_id_lookup(0x1537)->psp);
        CHECK(psp_pci_id_lookup(0x115a) && !psp_pci_id_lookup(0x115a)->sev);
        CHECK(!psp_pci_id_lookup(0x1234));

        CHECK(psp_parse_flag_attribute("0") == 0);
        CHECK(psp_parse_flag_attribute("1") == 1);
        CHECK(psp_parse_flag_attribute("2") == -EBADMSG);
        CHECK(psp_parse_flag_attribute("") == -EBADMSG);
        CHECK(psp_parse_version_attribute("0a.0B.00.ff") == 0);
        CHECK(psp_parse_version_attribute("0a.0B.00.fg") == -EBADMSG);
        CHECK(psp_parse_version_attribute("0a.0B.00") == -EBADMSG);

        CHECK(psp_address_compare("0000:c1:00.1", "0000:c1:00.1") == 0);
        CHECK(psp_address_compare("0000:41:00.1", "0000:c1:00.1") < 0);
        CHECK(psp_address_compare("0001:01:00.1", "0000:c1:00.1") > 0);
        CHECK(psp_address_compare("0000:c1:00.2", "0000:c1:00.1") > 0);
}

/* A node bound into the daemon's private /dev when the service started stays at its old
 * major:minor when ccp is reloaded; the check tells "same device", "other device" and "no node". */
static void test_node_check(void) {
        char dir[] = "/tmp/test-psp-node-XXXXXX";
        _cleanup_free_ char *file = NULL, *cmd = NULL;
        struct stat st;

        CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
        CHECK(psp_node_check("/dev/null", st.st_rdev) == 0);
        CHECK(psp_node_check("/dev/null", makedev(10, 124)) == -ESTALE);
        CHECK(psp_node_check("/dev/null", makedev(major(st.st_rdev), minor(st.st_rdev) + 1)) == -ESTALE);
        CHECK(psp_node_check("/nonexistent/sev", makedev(10, 124)) == -ENOENT);

        /* a regular file or a directory where the node should be is no node */
        CHECK(mkdtemp(dir));
        file = path_join(dir, "sev");
        CHECK(write_file_atomic(file, "", 0, 0600) == 0);
        CHECK(psp_node_check(file, makedev(10, 124)) == -ENOENT);
        CHECK(psp_node_check(dir, makedev(10, 124)) == -ENOENT);
        CHECK(asprintf(&cmd, "rm -rf '%s'", dir) > 0);
        CHECK(system(cmd) == 0);
}

int main(void) {
        test_read();
        test_ids();
        test_node_check();
        if (failures) {
                fprintf(stderr, "%u check(s) failed\n", failures);
                return EXIT_FAILURE;
        }
        printf("test-psp-device: all checks passed\n");
        return EXIT_SUCCESS;
}
