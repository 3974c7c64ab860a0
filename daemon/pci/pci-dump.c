/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The grammar of `lspci -xxxx` output as libpci's dump reader (lib/dump.c) takes it, checked
 * strictly: where libpci skips a line it cannot parse, we name the line and refuse the dump. */

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fileio.h"
#include "pci-dump.h"
#include "pci-model.h"

#define CONFIG_MAX 4096u
#define HEADER_BYTES 64u

typedef struct DumpCheck {
        PciMap *seen;                   /* address key -> (uintptr_t) line of its header */
        bool in_device;
        char address[24];
        size_t device_line;
        uint64_t header_mask;           /* bit i: byte i of the 64-byte header was given */
        size_t n_devices;
        char **error;
} DumpCheck;

_printf_(3, 4)
static int fail(DumpCheck *c, size_t line, const char *fmt, ...) {
        _cleanup_free_ char *what = NULL;
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vasprintf(&what, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        return error_message_set(c->error, EBADMSG, "line %zu: %s", line, what);
}

/* At most 32 characters of s for a message, non-printable ones as '?'. */
static void excerpt(const char *s, size_t len, char buf[static 40]) {
        size_t n = MIN(len, (size_t) 32), i;

        for (i = 0; i < n; i++)
                buf[i] = isprint((unsigned char) s[i]) ? s[i] : '?';
        if (len > n) {
                memcpy(buf + i, "...", 3);
                i += 3;
        }
        buf[i] = '\0';
}

static bool all_hex(const char *s, size_t len) {
        for (size_t i = 0; i < len; i++)
                if (!isxdigit((unsigned char) s[i]))
                        return false;
        return true;
}

static unsigned hex_value(const char *s, size_t len) {
        unsigned v = 0;
        for (size_t i = 0; i < len; i++)
                v = v * 16 + (unsigned) (isdigit((unsigned char) s[i]) ? s[i] - '0' : tolower((unsigned char) s[i]) - 'a' + 10);
        return v;
}

static int end_device(DumpCheck *c) {
        unsigned have = (unsigned) __builtin_popcountll(c->header_mask);

        if (!c->in_device)
                return 0;
        c->in_device = false;
        if (have < HEADER_BYTES)
                return fail(c, c->device_line,
                            "device %s has %u of the %u bytes of its config header; the dump is cut short, or was "
                            "not made with lspci -xxx or -xxxx.", c->address, have, HEADER_BYTES);
        return 0;
}

/* "BB:DD.F", "DDDD:BB:DD.F" or "DDDDD:BB:DD.F". */
static int parse_header_address(DumpCheck *c, size_t line, const char *tok, size_t len, uint64_t *ret_key) {
        const char *c1 = memchr(tok, ':', len), *c2, *bus, *dev;
        unsigned domain = 0;
        char q[40];

        excerpt(tok, len, q);
        if (!c1)
                goto not_an_address;
        c2 = memchr(c1 + 1, ':', len - (size_t) (c1 + 1 - tok));
        bus = tok;
        if (c2) {
                size_t dl = (size_t) (c1 - tok);
                if (dl == 0 || !all_hex(tok, dl))
                        goto not_an_address;
                if (dl < 4 || dl > 5)
                        return fail(c, line, "device address %s: the domain has %zu hex digits; lspci writes 4 "
                                    "(5 above ffff) and libpci reads no other, up to %x.", q, dl, PCI_DUMP_DOMAIN_MAX);
                domain = hex_value(tok, dl);
                bus = c1 + 1;
                c1 = c2;
        }
        dev = c1 + 1;
        if (c1 - bus != 2 || !all_hex(bus, 2))
                return fail(c, line, "device address %s: the bus must be two hex digits.", q);
        if (tok + len - dev != 4 || !all_hex(dev, 2) || dev[2] != '.')
                return fail(c, line, "device address %s: expected two hex digits of device, '.' and a function "
                            "0-7 after the bus.", q);
        if (hex_value(dev, 2) > 0x1f)
                return fail(c, line, "device address %s: device %.2s is above 1f.", q, dev);
        if (dev[3] < '0' || dev[3] > '7')
                return fail(c, line, "device address %s: function %c is not 0-7.", q, dev[3]);
        *ret_key = pci_addr_key(domain, (uint8_t) hex_value(bus, 2), (uint8_t) hex_value(dev, 2),
                                (uint8_t) (dev[3] - '0'));
        pci_format_address(c->address, domain, (uint8_t) hex_value(bus, 2), (uint8_t) hex_value(dev, 2),
                           (uint8_t) (dev[3] - '0'));
        return 0;

not_an_address:
        return fail(c, line, "\"%s\" is neither a device header (\"BB:DD.F description\" or \"DDDD:BB:DD.F "
                    "description\") nor config bytes (\"OFF: HH HH ...\").", q);
}

static int check_header(DumpCheck *c, size_t line, const char *s, size_t len) {
        const char *sp = memchr(s, ' ', len);
        size_t tl = sp ? (size_t) (sp - s) : len;
        uint64_t key = 0;
        int r;

        r = end_device(c);
        if (r < 0)
                return r;
        r = parse_header_address(c, line, s, tl, &key);
        if (r < 0)
                return r;
        if (!sp)
                return fail(c, line, "device header %s has no space and description after the address, which "
                            "libpci needs to take it.", c->address);
        uintptr_t first = (uintptr_t) pci_map_get(c->seen, key);
        if (first)
                return fail(c, line, "device %s appears a second time (first at line %zu).", c->address,
                            (size_t) first);
        r = pci_map_put(c->seen, key, (void *) (uintptr_t) line);
        if (r < 0)
                return r;
        c->in_device = true;
        c->device_line = line;
        c->header_mask = 0;
        c->n_devices++;
        return 0;
}

/* "OFF: HH HH ..." (tok is "OFF:", the line goes on from s + tl). */
static int check_bytes(DumpCheck *c, size_t line, const char *s, size_t len, size_t tl) {
        const char *p = s + tl, *end = s + len;
        size_t ol = tl - 1;
        unsigned off;
        char q[40];

        if (!c->in_device)
                return fail(c, line, "config bytes outside a device: no device header above them, or a blank "
                            "line in between.");
        excerpt(s, tl, q);
        if (ol < 2 || ol > 8 || !all_hex(s, ol))
                return fail(c, line, "offset %s is not 2 to 8 hex digits.", q);
        off = hex_value(s, ol);
        if (off >= CONFIG_MAX)
                return fail(c, line, "offset %s is beyond the %u bytes of config space.", q, CONFIG_MAX);
        while (p < end) {
                if (*p != ' ')
                        return fail(c, line, "column %zu: expected one space between bytes.", (size_t) (p - s) + 1);
                if (++p == end)
                        break;          /* one trailing space */
                if (*p == ' ')
                        return fail(c, line, "column %zu: expected one space between bytes.", (size_t) (p - s) + 1);
                if (end - p < 2 || !isxdigit((unsigned char) p[0]) || !isxdigit((unsigned char) p[1]) ||
                    (end - p > 2 && p[2] != ' ')) {
                        const char *e = memchr(p, ' ', (size_t) (end - p));
                        excerpt(p, e ? (size_t) (e - p) : (size_t) (end - p), q);
                        return fail(c, line, "column %zu: \"%s\" is not a byte (two hex digits).",
                                    (size_t) (p - s) + 1, q);
                }
                if (off >= CONFIG_MAX)
                        return fail(c, line, "config bytes run past offset %x, the end of config space.",
                                    CONFIG_MAX - 1);
                if (off < HEADER_BYTES)
                        c->header_mask |= UINT64_C(1) << off;
                off++;
                p += 2;
        }
        return 0;
}

static int check_line(DumpCheck *c, size_t line, const char *s, size_t len) {
        if (len > 0 && s[len - 1] == '\r')
                len--;
        if (memchr(s, '\0', len))
                return fail(c, line, "the line holds a NUL byte; a dump is text.");
        if (len > PCI_DUMP_LINE_MAX)
                return fail(c, line, "line too long (%zu characters; libpci reads at most %u).", len,
                            PCI_DUMP_LINE_MAX);
        if (len == 0)
                return end_device(c);
        if (s[0] == '\t') {
                if (!c->in_device)
                        return fail(c, line, "an indented detail line outside a device.");
                return 0;       /* lspci -v details */
        }
        if (s[0] == ' ')
                return fail(c, line, "the line starts with a space; device headers and config bytes start "
                            "at the first column.");

        const char *sp = memchr(s, ' ', len);
        size_t tl = sp ? (size_t) (sp - s) : len;
        if (s[tl - 1] == ':')
                return check_bytes(c, line, s, len, tl);
        return check_header(c, line, s, len);
}

struct PciDumpChecker {
        DumpCheck c;
        size_t line;
};

PciDumpChecker *pci_dump_checker_new(char **ret_error) {
        PciDumpChecker *k = calloc(1, sizeof(PciDumpChecker));
        if (!k)
                return NULL;
        k->c.seen = pci_map_new();
        if (!k->c.seen) {
                free(k);
                return NULL;
        }
        k->c.error = ret_error;
        return k;
}

PciDumpChecker *pci_dump_checker_free(PciDumpChecker *k) {
        if (!k)
                return NULL;
        pci_map_free(k->c.seen);
        free(k);
        return NULL;
}

int pci_dump_checker_line(PciDumpChecker *k, const char *s, size_t len) {
        return check_line(&k->c, ++k->line, s, len);
}

int pci_dump_checker_end(PciDumpChecker *k, size_t *ret_n_devices) {
        int r = end_device(&k->c);
        if (r < 0)
                return r;
        if (ret_n_devices)
                *ret_n_devices = k->c.n_devices;
        return 0;
}

int pci_dump_check(const char *text, size_t size, size_t *ret_n_devices, char **ret_error) {
        _cleanup_(pci_dump_checker_freep) PciDumpChecker *k = pci_dump_checker_new(ret_error);
        const char *p = text, *end = text + size;
        int r;

        if (!k)
                return -ENOMEM;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t len = nl ? (size_t) (nl - p) : (size_t) (end - p);
                r = pci_dump_checker_line(k, p, len);
                if (r < 0)
                        return r;
                p += len + (nl ? 1 : 0);
        }
        return pci_dump_checker_end(k, ret_n_devices);
}
