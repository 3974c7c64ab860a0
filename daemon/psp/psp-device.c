/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <ctype.h>
#include <limits.h>
#include <sys/stat.h>

#include "fileio.h"
#include "log.h"
#include "psp-device.h"

static const PspPciId pci_ids[] = {
        { 0x1537, NULL,    false, "ccpv3 (CCP only)" },
        { 0x1456, "pspv1", true,  "ccpv5a, sevv1" },
        { 0x1468, NULL,    false, "ccpv5b (secondary CCP)" },
        { 0x1486, "pspv2", true,  "ccpv5a, sevv2" },
        { 0x15df, "pspv3", false, "ccpv5a, teev1" },
        { 0x14ca, "pspv4", true,  "sevv2, teev1" },
        { 0x15c7, "pspv3", false, "teev1" },
        { 0x1649, "pspv3", false, "teev1" },
        { 0x1134, "pspv5", false, "teev2" },
        { 0x17e0, "pspv5", false, "teev2" },
        { 0x156e, "pspv6", true,  "sevv2, teev2" },
        { 0x17d8, "pspv6", true,  "sevv2, teev2" },
        { 0x115a, "pspv7", false, "teev2" },
};

const PspPciId *psp_pci_id_lookup(uint16_t device) {
        for (size_t i = 0; i < ELEMENTSOF(pci_ids); i++)
                if (pci_ids[i].device == device)
                        return &pci_ids[i];
        return NULL;
}

const char * const psp_security_attributes[] = {
        "fused_part",
        "debug_lock_on",
        "tsme_status",
        "anti_rollback_status",
        "rpmc_production_enabled",
        "rpmc_spirom_available",
        "hsp_tpm_available",
        "rom_armor_enforced",
        NULL,
};

const char * const psp_version_attributes[] = {
        "bootloader_version",
        "tee_version",
        NULL,
};

void psp_device_done(PspDevice *d) {
        free(d->syspath);
        free(d->address);
        free(d->driver);
        json_object_put(d->attributes);
        strv_free(d->problems);
        *d = (PspDevice) {};
}

int psp_parse_flag_attribute(const char *s) {
        if (streq(s, "0"))
                return 0;
        if (streq(s, "1"))
                return 1;
        return -EBADMSG;
}

int psp_parse_version_attribute(const char *s) {
        /* four two-digit hex bytes separated by dots */
        if (strlen(s) != 11)
                return -EBADMSG;
        for (size_t i = 0; i < 11; i++) {
                if (i % 3 == 2) {
                        if (s[i] != '.')
                                return -EBADMSG;
                } else if (!isxdigit((unsigned char) s[i]))
                        return -EBADMSG;
        }
        return 0;
}

static int read_hex16(const char *syspath, const char *name, uint16_t *ret) {
        _cleanup_free_ char *p = path_join(syspath, name), *v = NULL;
        uint32_t x;
        int r;

        if (!p)
                return -ENOMEM;
        r = read_one_line_file(p, &v);
        if (r < 0)
                return r;
        r = safe_atou32(strstrip_trailing(v), 16, &x);
        if (r < 0 && strneq(v, "0x", 2))
                r = safe_atou32(v + 2, 16, &x);
        if (r < 0 || x > 0xffff)
                return -EBADMSG;
        *ret = (uint16_t) x;
        return 0;
}

static int read_driver(const char *syspath, char **ret) {
        _cleanup_free_ char *p = path_join(syspath, "driver");
        char buf[PATH_MAX];
        ssize_t n;
        const char *base;

        if (!p)
                return -ENOMEM;
        n = readlink(p, buf, sizeof buf - 1);
        if (n < 0) {
                *ret = NULL;
                return errno == ENOENT ? 0 : -errno;
        }
        buf[n] = '\0';
        base = strrchr(buf, '/');
        base = base ? base + 1 : buf;
        *ret = strdup(base);
        return *ret ? 0 : -ENOMEM;
}

static int add_problem(PspDevice *d, const char *name, const char *value) {
        _cleanup_free_ char *s = NULL;

        if (asprintf(&s, "%s: unexpected value \"%.32s\"", name, value) < 0)
                return -ENOMEM;
        log_warning("PSP %s: sysfs attribute %s has an unexpected value \"%.32s\", treating it as unknown.",
                    strna(d->address), name, value);
        return strv_extend(&d->problems, s);
}

static int read_attributes(PspDevice *d) {
        for (size_t i = 0; psp_security_attributes[i]; i++) {
                const char *name = psp_security_attributes[i];
                _cleanup_free_ char *p = path_join(d->syspath, name), *v = NULL;
                int r, b;

                if (!p)
                        return -ENOMEM;
                r = read_one_line_file(p, &v);
                if (r == -ENOENT)
                        continue;       /* not visible: unknown */
                if (r < 0) {
                        log_debug_errno(r, "Cannot read %s: %m", p);
                        continue;
                }
                b = psp_parse_flag_attribute(strstrip_trailing(v));
                if (b < 0) {
                        r = add_problem(d, name, v);
                        if (r < 0)
                                return r;
                        continue;
                }
                json_object_object_add(d->attributes, name, json_object_new_boolean(b));
        }

        for (size_t i = 0; psp_version_attributes[i]; i++) {
                const char *name = psp_version_attributes[i];
                _cleanup_free_ char *p = path_join(d->syspath, name), *v = NULL;
                int r;

                if (!p)
                        return -ENOMEM;
                r = read_one_line_file(p, &v);
                if (r == -ENOENT)
                        continue;
                if (r < 0) {
                        log_debug_errno(r, "Cannot read %s: %m", p);
                        continue;
                }
                if (psp_parse_version_attribute(strstrip_trailing(v)) < 0) {
                        r = add_problem(d, name, v);
                        if (r < 0)
                                return r;
                        continue;
                }
                json_object_object_add(d->attributes, name, json_object_new_string(v));
        }
        return 0;
}

int psp_device_read(const char *syspath, PspDevice *ret) {
        PspDevice d = {};
        const char *base;
        int r;

        d.syspath = strdup(syspath);
        base = strrchr(syspath, '/');
        d.address = strdup(base ? base + 1 : syspath);
        d.attributes = json_object_new_object();
        if (!d.syspath || !d.address || !d.attributes) {
                r = -ENOMEM;
                goto fail;
        }

        r = read_hex16(syspath, "vendor", &d.vendor);
        if (r >= 0)
                r = read_hex16(syspath, "device", &d.device);
        if (r < 0)
                goto fail;
        r = read_driver(syspath, &d.driver);
        if (r < 0)
                goto fail;
        r = read_attributes(&d);
        if (r < 0)
                goto fail;

        *ret = d;
        return 0;
fail:
        psp_device_done(&d);
        return r;
}

static int parse_address(const char *s, unsigned v[4]) {
        int n = 0;

        if (sscanf(s, "%x:%x:%x.%x%n", &v[0], &v[1], &v[2], &v[3], &n) != 4 || s[n] != '\0')
                return -EINVAL;
        return 0;
}

int psp_address_compare(const char *a, const char *b) {
        unsigned x[4], y[4];

        if (parse_address(a, x) < 0 || parse_address(b, y) < 0)
                return strcmp(a, b);
        for (size_t i = 0; i < 4; i++)
                if (x[i] != y[i])
                        return x[i] < y[i] ? -1 : 1;
        return 0;
}

int psp_node_check(const char *path, dev_t devnum) {
        struct stat st;

        if (stat(path, &st) < 0)
                return errno == ENOENT ? -ENOENT : -errno;
        if (!S_ISCHR(st.st_mode))
                return -ENOENT;
        return st.st_rdev == devnum ? 0 : -ESTALE;
}
