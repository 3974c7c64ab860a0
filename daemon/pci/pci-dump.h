/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Checks the text of a saved `lspci -xxxx` dump before libpci's dump reader sees it. libpci
 * ignores every line it cannot take, so a mistyped device header silently drops that device
 * (and its config bytes) and the audit comes out quieter than the host is. Here every line must
 * be something lspci writes, or the dump is refused with the line number and what is wrong.
 * No sd-bus here. */

#include <stddef.h>

#include "macro.h"

/* Longest line libpci's reader takes, without the newline (it reads with a 255-byte fgets). */
#define PCI_DUMP_LINE_MAX 253
/* Highest PCI domain libpci's reader takes: it accepts 4 or 5 hex digits. */
#define PCI_DUMP_DOMAIN_MAX 0xfffffu

/* Accepted, line by line (a trailing "\r" is dropped):
 *   ""                               ends the current device
 *   "BB:DD.F <text>"                 a device header (domain 0); also "DDDD:BB:DD.F <text>" and
 *                                    "DDDDD:BB:DD.F <text>" (bus, device: 2 hex digits, device at
 *                                    most 1f; function 0-7)
 *   "OFF: HH HH …"                   config bytes of the current device (offset 2-8 hex digits,
 *                                    bytes two hex digits each, one space apart, below 4096)
 *   " …" or "\t…"                    detail lines of `lspci -v`, inside a device; ignored
 * Refused: anything else, a device address given twice, a device with fewer than its 64 header
 * bytes, config bytes outside a device, NUL bytes, lines longer than PCI_DUMP_LINE_MAX.
 * Returns 0 and the number of devices in *ret_n_devices (may be NULL), or -EBADMSG and a
 * sentence starting "line N: " in *ret_error (may be NULL); -ENOMEM. */
int pci_dump_check(const char *text, size_t size, size_t *ret_n_devices, char **ret_error);

/* The same check line by line, for a dump read as a stream (so that a 64k-device dump, over
 * 800 MB of text, is never held in memory): feed every line without its newline, then end. */
typedef struct PciDumpChecker PciDumpChecker;
PciDumpChecker *pci_dump_checker_new(char **ret_error);
PciDumpChecker *pci_dump_checker_free(PciDumpChecker *k);
DEFINE_TRIVIAL_CLEANUP_FUNC(PciDumpChecker *, pci_dump_checker_free);
int pci_dump_checker_line(PciDumpChecker *k, const char *s, size_t len);
int pci_dump_checker_end(PciDumpChecker *k, size_t *ret_n_devices);
