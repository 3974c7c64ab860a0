/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Any bytes as an `lspci -xxxx` dump: the line checker, libpci's dump reader (its errors must
 * come back as errors, never exit), the topology linking, both groupings, verdicts, the JSON and
 * the assignability check of every device. The input also goes through the IOMMU groups parser. */

#include <sys/mman.h>

#include "log.h"
#include "pci-assign.h"
#include "pci-audit.h"
#include "pci-dump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(pci_topology_freep) PciTopology *t = NULL;
        _cleanup_free_ char *err = NULL, *text = NULL;
        char path[64];
        json_object *doc = NULL;

        if (size > 256 * 1024)
                return 0;
        log_set_max_level(LOG_CRIT);
        /* the checker on the raw bytes: any answer but a crash or a leak */
        (void) pci_dump_check((const char *) data, size, NULL, &err);
        err = mfree(err);
        int fd = memfd_create("fuzz-dump", MFD_CLOEXEC);
        if (fd < 0)
                return 0;
        if (write(fd, data, size) != (ssize_t) size) {
                close(fd);
                return 0;
        }
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        if (pci_topology_load_dump(path, &t, &err) >= 0) {
                text = strndup((const char *) data, size);
                if (text)
                        (void) pci_kgroups_parse_find_text(t, text, NULL);
                if (pci_audit_full(t) >= 0 && pci_audit_host(t, text) >= 0 && pci_audit_to_json(t, &doc) >= 0)
                        json_object_put(doc);
                for (size_t i = 0; i < t->n_devices; i++) {
                        PciAssignCheck *c = NULL;
                        if (pci_assign_check(t, t->devices[i], &c) < 0)
                                continue;
                        /* the device itself moves with itself; every member has a state */
                        if (c->n_members == 0 || !pci_assign_state_to_string(c->members[0].state))
                                abort();
                        pci_assign_check_free(c);
                }
                if (t->n_devices > 0) {
                        PciDev *d = t->devices[0];
                        (void) pci_audit_update(t, &d, 1, NULL, NULL);
                        (void) pci_audit_remove(t, t->devices[0], NULL, NULL, NULL);
                }
        }
        close(fd);
        return 0;
}
