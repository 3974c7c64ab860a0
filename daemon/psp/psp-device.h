/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The PSP PCI function as sysfs shows it (kernel-interfaces.md §7): ids, driver, and the ccp
 * attributes that exist. An attribute that is missing is unknown and simply absent from the
 * attributes object, never "false". No sd-bus here; discovery (sd-device) is in psp-daemon.c. */

#include <json-c/json.h>
#include <sys/types.h>

#include "macro.h"

#define PSP_PCI_VENDOR_AMD 0x1022

typedef struct PspPciId {
        uint16_t device;
        const char *psp;        /* "pspv4", NULL for CCP-only functions */
        bool sev;               /* has SEV registers (/dev/sev possible) */
        const char *note;
} PspPciId;

/* The ccp id table (§7.1). NULL when the id is not one ccp binds. */
const PspPciId *psp_pci_id_lookup(uint16_t device);

typedef struct PspDevice {
        char *syspath;
        char *address;          /* PCI address, "0000:c1:00.1" */
        uint16_t vendor, device;
        char *driver;           /* bound driver, NULL when none */
        json_object *attributes;        /* attributes that exist: bool (security) or string (versions) */
        char **problems;        /* attributes that exist but could not be parsed */
} PspDevice;

void psp_device_done(PspDevice *d);

/* Reads ids, driver and ccp attributes from a PCI device's sysfs directory. -ENOENT when it
 * has no vendor/device files, -EBADMSG when they do not parse. */
int psp_device_read(const char *syspath, PspDevice *ret);

/* The ccp attribute names (§7.3), NULL-terminated. */
extern const char * const psp_security_attributes[];
extern const char * const psp_version_attributes[];

/* Parses "0\n"/"1\n" -> 0/1; -EBADMSG otherwise. */
int psp_parse_flag_attribute(const char *s);
/* Accepts "AA.BB.CC.DD" (hex bytes), returns -EBADMSG otherwise. */
int psp_parse_version_attribute(const char *s);

/* Orders PCI addresses (domain, bus, slot, function) like sp_pci_is_master(). */
int psp_address_compare(const char *a, const char *b);

/* Is the device node at path the character device devnum? 0 when it is; -ENOENT when there is no
 * character device at path (absent, or something else); -ESTALE when it is a character device
 * with another major:minor (a node bound in before the device was re-created); other negative
 * errnos from stat(). */
int psp_node_check(const char *path, dev_t devnum);
