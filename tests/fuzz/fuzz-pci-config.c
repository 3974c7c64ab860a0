/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Config-space decoding: the input is raw config space of up to four devices (a root port at
 * 00:01.0, a device at 01:00.0, 01:00.1 and 02:00.0), written out as an lspci dump and read
 * back with libpci, so capability lists, ACS, SR-IOV and bridge numbers come from arbitrary
 * bytes; then the whole audit runs on them. */

#include <sys/mman.h>

#include "log.h"
#include "pci-audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const addrs[] = { "00:01.0", "01:00.0", "01:00.1", "02:00.0" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(pci_topology_freep) PciTopology *t = NULL;
        _cleanup_free_ char *err = NULL;
        char path[64];
        json_object *doc = NULL;
        FILE *f;

        if (size > 4 * 4096)
                return 0;
        log_set_max_level(LOG_CRIT);
        int fd = memfd_create("fuzz-config", MFD_CLOEXEC);
        if (fd < 0)
                return 0;
        f = fdopen(dup(fd), "w");
        if (!f) {
                close(fd);
                return 0;
        }
        for (size_t dev = 0; dev < 4 && dev * 4096 < size; dev++) {
                size_t len = MIN((size_t) 4096, size - dev * 4096) & ~(size_t) 15;
                fprintf(f, "%s Fuzzed device\n", addrs[dev]);
                for (size_t off = 0; off < len; off += 16) {
                        fprintf(f, off < 0x100 ? "%02zx:" : "%03zx:", off);
                        for (size_t j = 0; j < 16; j++)
                                fprintf(f, " %02x", data[dev * 4096 + off + j]);
                        fputc('\n', f);
                }
                fputc('\n', f);
        }
        fclose(f);
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        if (pci_topology_load_dump(path, &t, &err) >= 0) {
                if (pci_audit_full(t) >= 0 && pci_audit_to_json(t, &doc) >= 0)
                        json_object_put(doc);
                for (size_t i = 0; i < t->n_devices; i++) {
                        PciDev *d = t->devices[i];
                        (void) pci_acs_flags_enabled(&d->acs, PCI_ACS_REQ_FLAGS, PCI_ACS_WANT_DSP_MT_RR | PCI_ACS_WANT_USP_MT_RR);
                        d->acs.ctrl ^= PCI_ACS_RR;
                        (void) pci_audit_update(t, &d, 1, NULL, NULL);
                }
        }
        close(fd);
        return 0;
}
