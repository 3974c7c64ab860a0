/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Reading devices with libpci: the dump method for saved `lspci -xxxx` output and the sysfs
 * method for the live host. Capabilities are found with pci_find_cap(); we never walk the
 * capability lists ourselves.
 *
 * libpci reports fatal errors through pacc->error, which must not return. We turn those into
 * error returns with sigsetjmp/siglongjmp, so a bad dump or a strange sysfs entry never ends
 * the daemon. */

#include <dirent.h>
#include <fcntl.h>
#include <pci/pci.h>
#include <setjmp.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "fileio.h"
#include "log.h"
#include "paths.h"
#include "pci-dump.h"
#include "pci-model.h"

/* Largest dump we read: 4096 config bytes are about 14 KiB of text, so this is thousands of
 * devices. */
/* The dump is streamed (checked line by line into a memfd), never held in the heap; the cap only
 * bounds that memfd. A 64k-device `lspci -xxxx` dump is about 900 MB. */
#define PCI_DUMP_SIZE_MAX (2048u << 20)

static sigjmp_buf *libpci_jump;
static char libpci_error[256];

_printf_(1, 2) __attribute__((noreturn))
static void libpci_error_cb(char *msg, ...) {
        va_list ap;

        va_start(ap, msg);
        vsnprintf(libpci_error, sizeof(libpci_error), msg, ap);
        va_end(ap);
        if (libpci_jump)
                siglongjmp(*libpci_jump, 1);
        /* Not reached: every libpci call is made under a jump buffer. */
        log_error("libpci: %s", libpci_error);
        abort();
}

_printf_(1, 2)
static void libpci_warning_cb(char *msg, ...) {
        char buf[256];
        va_list ap;

        va_start(ap, msg);
        vsnprintf(buf, sizeof(buf), msg, ap);
        va_end(ap);
        log_debug("libpci: %s", buf);
}

_printf_(1, 2)
static void libpci_debug_cb(char *msg, ...) {
}

static struct pci_access *access_new(void) {
        struct pci_access *a = pci_alloc();
        if (!a)
                return NULL;
        a->error = libpci_error_cb;
        a->warning = libpci_warning_cb;
        a->debug = libpci_debug_cb;
        return a;
}

/* Reads the 64-byte header in one go and lets libpci answer reads of it from memory; capability
 * registers are then read on demand (a handful of dwords per device). Reading the whole 4 KiB
 * up front costs 1024 config cycles per device, and each sysfs config cycle traps (≈17 µs each
 * in a VM): that made the first audit dominate start-up. The config size (4096, 256 or 64) is
 * found with one dword probe at the end of each range. */
static unsigned read_config(struct pci_dev *p, u8 *buf) {
        u8 probe[4];

        if (!pci_read_block(p, 0, buf, 64))
                return 0;
        pci_setup_cache(p, buf, 64);
        if (pci_read_block(p, 4096 - 4, probe, 4))
                return 4096;
        if (pci_read_block(p, 256 - 4, probe, 4))
                return 256;
        return 64;
}

static void decode_acs(struct pci_dev *p, PciDev *d) {
        struct pci_cap *c = pci_find_cap(p, PCI_EXT_CAP_ID_ACS, PCI_CAP_EXTENDED);
        if (!c || c->addr + 8 > d->cfg_size)
                return;

        d->acs.present = true;
        d->acs.pos = c->addr;
        d->acs.cap = pci_read_word(p, c->addr + 4);
        d->acs.ctrl = pci_read_word(p, c->addr + 6);
        if (d->acs.cap & PCI_ACS_EC) {
                /* Egress Control Vector Size; 0 encodes 256 (PCIe base spec; see
                 * kernel-interfaces.md §8.1). */
                unsigned bits = PCI_ACS_EGRESS_SIZE(d->acs.cap) ?: 256;
                unsigned dwords = (bits + 31) / 32;
                d->acs.egress_bits = bits;
                d->acs.egress_read = c->addr + 8 + dwords * 4 <= d->cfg_size;
                for (unsigned i = 0; d->acs.egress_read && i < dwords && i < ELEMENTSOF(d->acs.egress); i++)
                        d->acs.egress[i] = pci_read_long(p, c->addr + 8 + i * 4);
        }
}

static void decode_sriov(struct pci_dev *p, PciDev *d) {
        struct pci_cap *c = pci_find_cap(p, PCI_EXT_CAP_ID_SRIOV, PCI_CAP_EXTENDED);
        if (!c || c->addr + 0x1c > d->cfg_size)
                return;
        d->has_sriov = true;
        d->sriov_ctrl = pci_read_word(p, c->addr + 0x08);
        d->sriov_total = pci_read_word(p, c->addr + 0x0e);
        d->sriov_num = pci_read_word(p, c->addr + 0x10);
        d->sriov_offset = pci_read_word(p, c->addr + 0x14);
        d->sriov_stride = pci_read_word(p, c->addr + 0x16);
        d->sriov_vf_device = pci_read_word(p, c->addr + 0x1a);
        if (d->sriov_num > d->sriov_total)
                d->sriov_num = d->sriov_total;
}

static void decode_bars(struct pci_dev *p, PciDev *d) {
        unsigned n = d->header_type == 0 ? 6 : d->header_type == 1 ? 2 : 0;

        for (unsigned i = 0; i < n; i++) {
                u32 v = pci_read_long(p, 0x10 + i * 4);
                if (v == 0xffffffffu || (v & PCI_BASE_ADDRESS_SPACE_IO))
                        continue;
                bool is64 = (v & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64;
                u32 hi = is64 && i + 1 < n ? pci_read_long(p, 0x10 + (i + 1) * 4) : 0;
                if ((v & ~0xfu) != 0 || (hi != 0 && hi != 0xffffffffu))
                        d->has_mmio_bar = true;
                if (is64)
                        i++;
        }
}

/* Everything the audit needs from config space. Called under the libpci jump buffer. */
static void decode_device(struct pci_dev *p, PciDev *d) {
        static u8 cfg[64];

        d->cfg_size = read_config(p, cfg);
        if (d->cfg_size < 64)
                return;

        pci_fill_info(p, PCI_FILL_IDENT | PCI_FILL_CLASS | PCI_FILL_CAPS | PCI_FILL_EXT_CAPS);
        d->vendor = p->vendor_id;
        d->device = p->device_id;
        d->class_code = ((uint32_t) pci_read_word(p, PCI_CLASS_DEVICE) << 8) | pci_read_byte(p, PCI_CLASS_PROG);
        d->revision = pci_read_byte(p, PCI_REVISION_ID);
        uint8_t ht = pci_read_byte(p, PCI_HEADER_TYPE);
        d->header_type = ht & 0x7f;
        d->mf_header_bit = ht & 0x80;
        /* pci_scan_slot() marks every function > 0 multifunction, whatever its header says. */
        d->multifunction = d->mf_header_bit || d->func > 0;
        if (d->header_type == PCI_HEADER_TYPE_NORMAL) {
                d->subsys_vendor = pci_read_word(p, PCI_SUBSYSTEM_VENDOR_ID);
                d->subsys_device = pci_read_word(p, PCI_SUBSYSTEM_ID);
        } else if (d->header_type == PCI_HEADER_TYPE_BRIDGE) {
                d->is_bridge = true;
                d->secondary = pci_read_byte(p, PCI_SECONDARY_BUS);
                d->subordinate = pci_read_byte(p, PCI_SUBORDINATE_BUS);
        }
        decode_bars(p, d);

        struct pci_cap *c = pci_find_cap(p, PCI_CAP_ID_EXP, PCI_CAP_NORMAL);
        if (c)
                d->port_type = (PciPortType) ((pci_read_word(p, c->addr + PCI_EXP_FLAGS) & PCI_EXP_FLAGS_TYPE) >> 4);

        if (d->cfg_size >= 4096) {
                decode_acs(p, d);
                decode_sriov(p, d);
        }
        /* the buffer is reused for the next device: libpci must not keep pointing at it */
        pci_setup_cache(p, NULL, 0);
}

static int scan_into(PciTopology *t, struct pci_access *a) {
        for (struct pci_dev *p = a->devices; p; p = p->next) {
                PciDev *d = pci_dev_new((uint32_t) p->domain, p->bus, p->dev, p->func);
                if (!d)
                        return -ENOMEM;
                decode_device(p, d);
                int r = pci_topology_add(t, d);
                if (r == -EEXIST) {
                        log_warning("PCI device %s appears twice; keeping the first.", d->address);
                        pci_dev_free(d);
                        continue;
                }
                if (r < 0) {
                        pci_dev_free(d);
                        return r;
                }
        }
        return 0;
}

/* The only places that call into libpci: each under its own jump buffer, with no local state
 * that a longjmp could leave inconsistent. */
static int libpci_scan(struct pci_access *a, PciTopology *t) {
        sigjmp_buf jb;
        int r;

        if (sigsetjmp(jb, 0)) {
                libpci_jump = NULL;
                return -EBADMSG;
        }
        libpci_jump = &jb;
        pci_init(a);
        pci_scan_bus(a);
        r = scan_into(t, a);
        libpci_jump = NULL;
        return r;
}

static struct pci_dev *volatile libpci_single;

static int libpci_read_one(struct pci_access *a, PciDev *d) {
        sigjmp_buf jb;

        if (sigsetjmp(jb, 0)) {
                libpci_jump = NULL;
                if (libpci_single)
                        pci_free_dev(libpci_single);
                libpci_single = NULL;
                return -EIO;
        }
        libpci_jump = &jb;
        libpci_single = pci_get_dev(a, (int) d->domain, d->bus_nr, d->dev, d->func);
        decode_device(libpci_single, d);
        pci_free_dev(libpci_single);
        libpci_single = NULL;
        libpci_jump = NULL;
        return 0;
}

/* The checked text, with a final newline (libpci refuses a last line without one). */
/* Reads the dump at path line by line: checks each line (pci_dump_checker_line()) and copies it
 * to a memfd that libpci then reads, so that libpci reads exactly what was checked (the file may
 * change, or be a pipe) and the text is never held in memory. Returns the memfd; on a bad line
 * -EBADMSG and the checker's sentence in *ret_check_error; -EFBIG past PCI_DUMP_SIZE_MAX. */
static int check_and_copy(const char *path, char **ret_check_error) {
        _cleanup_(pci_dump_checker_freep) PciDumpChecker *k = pci_dump_checker_new(ret_check_error);
        _cleanup_fclose_ FILE *in = NULL, *out = NULL;
        _cleanup_free_ char *line = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t allocated = 0, total = 0;
        ssize_t n;
        int r;

        if (!k)
                return -ENOMEM;
        in = fopen(path, "re");
        if (!in)
                return -errno;
        fd = memfd_create("hwsec-pci-dump", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        int fd2 = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (fd2 < 0)
                return -errno;
        out = fdopen(fd2, "we");
        if (!out) {
                close(fd2);
                return -errno;
        }
        while ((n = getline(&line, &allocated, in)) >= 0) {
                size_t len = (size_t) n;
                total += len;
                if (total > PCI_DUMP_SIZE_MAX)
                        return -EFBIG;
                if (len > 0 && line[len - 1] == '\n')
                        len--;
                r = pci_dump_checker_line(k, line, len);
                if (r < 0)
                        return r;
                if (fwrite(line, 1, len, out) != len || fputc('\n', out) == EOF)
                        return -EIO;
        }
        if (ferror(in))
                return -EIO;
        r = pci_dump_checker_end(k, NULL);
        if (r < 0)
                return r;
        if (fflush(out) != 0)
                return errno > 0 ? -errno : -EIO;
        return TAKE_FD(fd);
}

int pci_topology_load_dump(const char *path, PciTopology **ret, char **ret_error) {
        _cleanup_(pci_topology_freep) PciTopology *t = NULL;
        _cleanup_free_ char *check_error = NULL;
        _cleanup_close_ int fd = -EBADF;
        char fd_path[64];
        struct pci_access *a;
        struct stat st;
        int r;

        if (stat(path, &st) < 0)
                return error_message_set(ret_error, 0, "Cannot read dump %s: %m.", path), -errno;
        if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode))
                return error_message_set(ret_error, 0, "Dump %s is not a regular file.", path), -EINVAL;

        fd = check_and_copy(path, &check_error);
        if (fd == -EFBIG)
                return error_message_set(ret_error, 0, "Dump %s is larger than %u MiB; that is no `lspci -xxxx` "
                                         "output.", path, PCI_DUMP_SIZE_MAX >> 20), fd;
        if (fd == -EBADMSG)
                return error_message_set(ret_error, 0, "Dump %s, %s", path, check_error), fd;
        if (fd == -ENOMEM)
                return fd;
        if (fd < 0)
                return error_message_set(ret_error, 0, "Cannot read dump %s: %s.", path, strerror(-fd)), fd;
        snprintf(fd_path, sizeof(fd_path), "/proc/self/fd/%d", fd);
        /* without /proc, a regular file is read again by name (a pipe cannot be) */
        const char *libpci_path = access(fd_path, R_OK) >= 0 || !S_ISREG(st.st_mode) ? fd_path : path;

        t = pci_topology_new();
        if (!t)
                return -ENOMEM;
        if (asprintf(&t->source, "dump:%s", path) < 0)
                return -ENOMEM;

        a = access_new();
        if (!a)
                return -ENOMEM;
        a->method = PCI_ACCESS_DUMP;
        pci_set_param(a, (char *) "dump.name", (char *) libpci_path);
        r = libpci_scan(a, t);
        pci_cleanup(a);
        if (r == -EBADMSG)
                return error_message_set(ret_error, 0, "Cannot read dump %s: %s.", path, libpci_error), r;
        if (r < 0)
                return error_message_set(ret_error, 0, "Cannot read dump %s: %s.", path, strerror(-r)), r;
        if (t->n_devices == 0)
                return error_message_set(ret_error, 0, "Dump %s holds no PCI device (expected `lspci -xxxx` output).", path), -ENODATA;

        r = pci_topology_link(t);
        if (r < 0)
                return error_message_set(ret_error, 0, "Cannot link the topology of %s: %s.", path, strerror(-r)), r;
        *ret = TAKE_PTR(t);
        return 0;
}

/* ---- sysfs ---- */

static char *sysfs_dev_path(const PciTopology *t, const char *address, const char *attr) {
        char *p;
        if (asprintf(&p, "%s/devices/%s%s%s", t->sysfs_bus_pci, address, attr ? "/" : "", attr ?: "") < 0)
                return NULL;
        return p;
}

static int read_link_basename(const char *path, char **ret) {
        char buf[4096];
        ssize_t n = readlink(path, buf, sizeof(buf) - 1);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        char *b = strrchr(buf, '/');
        char *s = strdup(b ? b + 1 : buf);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* The parent directory of the device, from its /sys/bus/pci/devices link
 * ("../../../devices/pci0000:00/0000:00:04.0/0000:01:00.0"). */
static int read_parent_name(const char *path, char **ret) {
        char buf[4096];
        ssize_t n = readlink(path, buf, sizeof(buf) - 1);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        char *last = strrchr(buf, '/');
        if (!last)
                return -EINVAL;
        *last = '\0';
        char *prev = strrchr(buf, '/');
        char *s = strdup(prev ? prev + 1 : buf);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static int read_iommu_group(const char *path, int *ret) {
        _cleanup_free_ char *b = NULL;
        uint32_t n;
        int r = read_link_basename(path, &b);
        if (r < 0)
                return r;
        r = safe_atou32(b, 10, &n);
        if (r < 0 || n > INT32_MAX)
                return -EINVAL;
        *ret = (int) n;
        return 0;
}

static int read_sysfs_extras(PciTopology *t, PciDev *d) {
        _cleanup_free_ char *dir = sysfs_dev_path(t, d->address, NULL);
        _cleanup_free_ char *drv = sysfs_dev_path(t, d->address, "driver");
        _cleanup_free_ char *pf = sysfs_dev_path(t, d->address, "physfn");
        _cleanup_free_ char *grp = sysfs_dev_path(t, d->address, "iommu_group");
        if (!dir || !drv || !pf || !grp)
                return -ENOMEM;

        d->driver = mfree(d->driver);
        (void) read_link_basename(drv, &d->driver);
        d->physfn_address = mfree(d->physfn_address);
        (void) read_link_basename(pf, &d->physfn_address);
        d->parent_name = mfree(d->parent_name);
        (void) read_parent_name(dir, &d->parent_name);
        d->kernel_group = -1;
        (void) read_iommu_group(grp, &d->kernel_group);
        return 0;
}

int pci_topology_refresh_driver(PciTopology *t, PciDev *d) {
        _cleanup_free_ char *drv = sysfs_dev_path(t, d->address, "driver");
        _cleanup_free_ char *n = NULL;
        if (!drv)
                return -ENOMEM;
        (void) read_link_basename(drv, &n);
        if ((!n && !d->driver) || (n && d->driver && streq(n, d->driver)))
                return 0;
        free(d->driver);
        d->driver = TAKE_PTR(n);
        return 1;
}

void pci_topology_release_access(PciTopology *t) {
        if (t->pacc)
                pci_cleanup(t->pacc);
        t->pacc = NULL;
}

int pci_topology_load_sysfs(const char *sysfs_dir, PciTopology **ret, char **ret_error) {
        _cleanup_(pci_topology_freep) PciTopology *t = NULL;
        struct pci_access *a;
        int r;

        t = pci_topology_new();
        if (!t)
                return -ENOMEM;
        if (asprintf(&t->sysfs_bus_pci, "%s/bus/pci", sysfs_dir ?: paths_sysfs_dir()) < 0)
                return -ENOMEM;
        if (asprintf(&t->source, "sysfs:%s", t->sysfs_bus_pci) < 0)
                return -ENOMEM;

        _cleanup_free_ char *devdir = NULL;
        if (asprintf(&devdir, "%s/devices", t->sysfs_bus_pci) < 0)
                return -ENOMEM;
        if (access(devdir, F_OK) < 0) {
                /* No PCI bus at all (or sysfs not mounted): an empty topology, not an error. */
                log_debug("%s: %m; no PCI devices.", devdir);
                r = pci_topology_link(t);
                if (r < 0)
                        return r;
                *ret = TAKE_PTR(t);
                return 0;
        }

        a = access_new();
        if (!a)
                return -ENOMEM;
        a->method = PCI_ACCESS_SYS_BUS_PCI;
        a->buscentric = 1;  /* config space only: no resource/irq files needed */
        pci_set_param(a, (char *) "sysfs.path", t->sysfs_bus_pci);
        r = libpci_scan(a, t);
        if (r < 0) {
                pci_cleanup(a);
                if (r == -EBADMSG)
                        return error_message_set(ret_error, 0, "Cannot read PCI devices from %s: %s.", t->sysfs_bus_pci, libpci_error), -EIO;
                return error_message_set(ret_error, 0, "Cannot read PCI devices: %s.", strerror(-r)), r;
        }
        /* Keep the handle for single-device re-reads; free the scanned list. */
        for (struct pci_dev *p = a->devices, *n; p; p = n) {
                n = p->next;
                pci_free_dev(p);
        }
        a->devices = NULL;
        t->pacc = a;

        for (size_t i = 0; i < t->n_devices; i++) {
                r = read_sysfs_extras(t, t->devices[i]);
                if (r < 0)
                        return r;
        }
        r = pci_topology_link(t);
        if (r < 0)
                return error_message_set(ret_error, 0, "Cannot link the PCI topology: %s.", strerror(-r)), r;
        *ret = TAKE_PTR(t);
        return 0;
}

static bool streq_ptr(const char *a, const char *b) {
        return (!a && !b) || (a && b && streq(a, b));
}

/* A "change" event on a known device: copy what was re-read, keep links and results. */
static unsigned update_in_place(PciDev *old, PciDev *n) {
        unsigned changed = 0;

        if (old->vendor != n->vendor || old->device != n->device || old->class_code != n->class_code ||
            old->header_type != n->header_type || old->multifunction != n->multifunction ||
            old->port_type != n->port_type || old->cfg_size != n->cfg_size ||
            old->has_mmio_bar != n->has_mmio_bar || memcmp(&old->acs, &n->acs, sizeof(PciAcs)) != 0 ||
            old->has_sriov != n->has_sriov || old->sriov_ctrl != n->sriov_ctrl || old->sriov_num != n->sriov_num ||
            old->sriov_offset != n->sriov_offset || old->sriov_stride != n->sriov_stride)
                changed |= PCI_CHANGED_CONFIG;
        if (old->is_bridge && (old->secondary != n->secondary || old->subordinate != n->subordinate))
                log_warning("PCI bridge %s changed its bus numbers (%02x-%02x -> %02x-%02x); the tree keeps the old "
                            "ones until the devices below it are re-added.", old->address,
                            old->secondary, old->subordinate, n->secondary, n->subordinate);
        old->vendor = n->is_vf ? old->vendor : n->vendor;
        old->device = n->is_vf ? old->device : n->device;
        old->subsys_vendor = n->subsys_vendor;
        old->subsys_device = n->subsys_device;
        old->class_code = n->class_code;
        old->revision = n->revision;
        old->header_type = n->header_type;
        old->mf_header_bit = n->mf_header_bit;
        old->multifunction = old->is_vf ? false : n->multifunction;
        old->cfg_size = n->cfg_size;
        old->port_type = n->port_type;
        old->has_mmio_bar = n->has_mmio_bar;
        old->acs = n->acs;
        old->has_sriov = n->has_sriov;
        old->sriov_ctrl = n->sriov_ctrl;
        old->sriov_total = n->sriov_total;
        old->sriov_num = n->sriov_num;
        old->sriov_offset = n->sriov_offset;
        old->sriov_stride = n->sriov_stride;
        old->sriov_vf_device = n->sriov_vf_device;
        if (!streq_ptr(old->driver, n->driver)) {
                changed |= PCI_CHANGED_DRIVER;
                free(old->driver);
                old->driver = TAKE_PTR(n->driver);
        }
        if (old->kernel_group != n->kernel_group) {
                changed |= PCI_CHANGED_KGROUP;
                old->kernel_group = n->kernel_group;
        }
        return changed;
}

int pci_topology_refresh_device(PciTopology *t, const char *address, PciDev **ret) {
        uint32_t domain;
        uint8_t bus, dev, func;
        PciDev *d;
        int r;

        if (!t->pacc || !t->sysfs_bus_pci)
                return -EOPNOTSUPP;
        r = pci_parse_address(address, &domain, &bus, &dev, &func);
        if (r < 0)
                return r;

        _cleanup_free_ char *dir = sysfs_dev_path(t, address, NULL);
        if (!dir)
                return -ENOMEM;
        if (access(dir, F_OK) < 0)
                return -ENOENT;

        d = pci_dev_new(domain, bus, dev, func);
        if (!d)
                return -ENOMEM;
        r = libpci_read_one(t->pacc, d);
        if (r < 0) {
                log_warning("Cannot read PCI device %s: %s", address, libpci_error);
                pci_dev_free(d);
                return r;
        }

        r = read_sysfs_extras(t, d);
        if (r < 0) {
                pci_dev_free(d);
                return r;
        }

        PciDev *old = pci_topology_find(t, address);
        if (old) {
                old->changed |= update_in_place(old, d);
                pci_dev_free(d);
                *ret = old;
                return 0;
        }
        r = pci_topology_add(t, d);
        if (r < 0) {
                pci_dev_free(d);
                return r;
        }
        r = pci_topology_link_one(t, d);
        if (r < 0)
                return r;
        d->changed |= PCI_CHANGED_CONFIG | PCI_CHANGED_DRIVER | PCI_CHANGED_KGROUP;
        *ret = d;
        return 0;
}
