/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* pci_dump_check(): every line of an `lspci -xxxx` dump is a device header, config bytes, a
 * blank line or an lspci -v detail line; anything libpci would skip (and so drop a device) is an
 * error naming the line. Also: the real fixtures pass, and pci_topology_load_dump() refuses a
 * dump whose switch header was mangled instead of auditing the host without the switch. */

#include "fileio.h"
#include "log.h"
#include "pci-dump.h"
#include "test-pci-util.h"

/* 64 header bytes of one device, as four lspci lines */
#define HDR64 "00: 86 80 c0 29 03 01 00 00 00 00 00 06 00 00 00 00\n" \
              "10: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n" \
              "20: 00 00 00 00 00 00 00 00 00 00 00 00 f4 1a 00 11\n" \
              "30: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"

static void expect_ok(const char *text, size_t n_devices) {
        _cleanup_free_ char *err = NULL;
        size_t n = 0;
        int r = pci_dump_check(text, strlen(text), &n, &err);
        if (r < 0)
                TEST_FAIL("refused: %s\n%s", err ?: "(no message)", text);
        ASSERT_EQ(n, n_devices);
}

/* Refused with -EBADMSG, the message starts with "line <line>: " and contains needle. */
static void expect_error(const char *text, unsigned line, const char *needle) {
        _cleanup_free_ char *err = NULL, *prefix = NULL;
        int r = pci_dump_check(text, strlen(text), NULL, &err);
        if (r != -EBADMSG)
                TEST_FAIL("accepted (r=%d), expected line %u: %s\n%s", r, line, needle, text);
        ASSERT_TRUE(asprintf(&prefix, "line %u: ", line) > 0);
        if (!err || strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, needle))
                TEST_FAIL("message \"%s\", expected \"%s…%s\"", err ?: "(null)", prefix, needle);
}

static void test_accepts_lspci_forms(void) {
        expect_ok("", 0);
        expect_ok("00:00.0 Host bridge: x\n" HDR64, 1);
        expect_ok("0000:00:00.0 Host bridge: x\n" HDR64 "\n0000:00:01.0 y\n" HDR64, 2);
        /* 5-digit domains (VMD), upper-case hex, CRLF, detail lines, no final newline */
        expect_ok("10000:e1:1f.7 z\r\n" HDR64 "\tKernel driver in use: nvme\n", 1);
        expect_ok("00:1F.7 z\n00: 86 80 C0 29 03 01 00 00 00 00 00 06 00 00 00 00\n"
                  "10: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
                  "20: 00 00 00 00 00 00 00 00 00 00 00 00 f4 1a 00 11\n"
                  "30: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", 1);
        /* a trailing space after the last byte, extended config space */
        expect_ok("00:00.0 x\n" HDR64 "ff0: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 \n", 1);
}

static void test_refuses_bad_headers(void) {
        /* the mutation that hid a whole switch: an 8-digit domain */
        expect_error("00:00.0 a\n" HDR64 "\nffffffff:01:00.0 PCI bridge\n" HDR64, 7, "the domain has 8 hex digits");
        expect_error("123456:01:00.0 b\n" HDR64, 1, "the domain has 6 hex digits");
        expect_error("000:01:00.0 b\n" HDR64, 1, "the domain has 3 hex digits");
        expect_error("1:00.0 b\n" HDR64, 1, "the bus must be two hex digits");
        expect_error("01:20.0 b\n" HDR64, 1, "device 20 is above 1f");
        expect_error("01:00.8 b\n" HDR64, 1, "function 8 is not 0-7");
        expect_error("01:00.a b\n" HDR64, 1, "function a is not 0-7");
        expect_error("01:00.0\n" HDR64, 1, "has no space and description");
        expect_error("01:0g.0 b\n" HDR64, 1, "expected two hex digits of device");
        expect_error(" 01:00.0 b\n" HDR64, 1, "starts with a space");
        expect_error("00:00.0 a\n" HDR64 "\n# comment\n", 7, "is neither a device header");
        expect_error("garbage\n", 1, "is neither a device header");
}

static void test_refuses_duplicates(void) {
        expect_error("00:02.0 a\n" HDR64 "\n00:02.0 b\n" HDR64, 7, "device 0000:00:02.0 appears a second time (first at line 1)");
        /* the same address with and without its domain */
        expect_error("0000:00:02.0 a\n" HDR64 "\n00:02.0 b\n" HDR64, 7, "first at line 1");
}

static void test_refuses_short_and_bad_bytes(void) {
        expect_error("00:00.0 a\n00: 86 80 c0 29 03 01 00 00 00 00 00 06 00 00 00 00\n\n", 1,
                     "device 0000:00:00.0 has 16 of the 64 bytes of its config header");
        /* a gap: bytes 0x10-0x1f missing */
        expect_error("00:00.0 a\n00: 86 80 c0 29 03 01 00 00 00 00 00 06 00 00 00 00\n"
                     "20: 00 00 00 00 00 00 00 00 00 00 00 00 f4 1a 00 11\n"
                     "30: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n", 1, "has 48 of the 64 bytes");
        /* the last device is checked at the end of the text too */
        expect_error("00:00.0 a\n" HDR64 "\n00:01.0 b\n00: 86 80\n", 7, "device 0000:00:01.0 has 2 of the 64");
        expect_error("00:00.0 a\n00: 86 80 zz 29 03 01 00 00 00 00 00 06 00 00 00 00\n", 2,
                     "column 11: \"zz\" is not a byte");
        expect_error("00:00.0 a\n00: 86 80 c0  29\n", 2, "expected one space between bytes");
        expect_error("00:00.0 a\n00: 86 80 c0 2\n", 2, "\"2\" is not a byte");
        expect_error("00:00.0 a\n00: 86 80 c0 299\n", 2, "\"299\" is not a byte");
        expect_error("00: 86 80\n", 1, "config bytes outside a device");
        expect_error("00:00.0 a\n" HDR64 "\n40: 00 00\n", 7, "config bytes outside a device");
        expect_error("00:00.0 a\n" HDR64 "1000: 00\n", 6, "beyond the 4096 bytes");
        expect_error("00:00.0 a\n" HDR64 "ffffffff: 00\n", 6, "beyond the 4096 bytes");
        expect_error("00:00.0 a\n" HDR64 "ff8: 00 00 00 00 00 00 00 00 00\n", 6, "run past offset fff");
        expect_error("00:00.0 a\n" HDR64 "123456789: 00\n", 6, "is not 2 to 8 hex digits");
        expect_error("00:00.0 a\n" HDR64 "0: 00\n", 6, "is not 2 to 8 hex digits");
}

static void test_refuses_other_text(void) {
        char big[400];
        memset(big, 'y', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        _cleanup_free_ char *text = NULL;
        ASSERT_TRUE(asprintf(&text, "00:00.0 x\n%s\n", big) > 0);
        expect_error(text, 2, "line too long (399 characters");
        static const char nul[] = "00:00.0 a\n00: 86\0 80\n";
        _cleanup_free_ char *err = NULL;
        ASSERT_EQ(pci_dump_check(nul, sizeof(nul) - 1, NULL, &err), -EBADMSG);
        ASSERT_TRUE(strneq(err, "line 2: ", 8) && strstr(err, "NUL byte"));
        expect_error("\tKernel driver in use: nvme\n", 1, "indented detail line outside a device");
}

static void test_fixtures_pass(void) {
        static const char *const names[] = { "switch-no-acs", "switch-acs", "pcie-pci-bridge-mf",
                                             "oracle-nested-rp-noacs" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_free_ char *path = NULL, *text = NULL, *err = NULL;
                size_t size, n = 0;
                ASSERT_TRUE(asprintf(&path, "%s/pci/%s/lspci-xxxx.txt", TEST_FIXTURES, names[i]) > 0);
                ASSERT_OK(read_full_file(path, 64 << 20, &text, &size));
                if (pci_dump_check(text, size, &n, &err) < 0)
                        TEST_FAIL("%s: %s", names[i], err);
                ASSERT_TRUE(n > 0);
        }
}

/* The end-to-end mutation of the report: the switch's upstream port header gets an 8-digit
 * domain. Before the check, libpci skipped the header, the switch vanished and the audit said
 * 0 unsafe; now loading fails and says where. */
static void test_load_refuses_mangled_switch(void) {
        _cleanup_free_ char *path = NULL, *text = NULL, *err = NULL, *mangled = NULL;
        _cleanup_(pci_topology_freep) PciTopology *t = NULL;
        char tmp[] = "/tmp/test-pci-dump-XXXXXX";
        size_t size;

        ASSERT_TRUE(asprintf(&path, "%s/pci/switch-no-acs/lspci-xxxx.txt", TEST_FIXTURES) > 0);
        ASSERT_OK(read_full_file(path, 64 << 20, &text, &size));
        char *h = strstr(text, "\n01:00.0 ");
        ASSERT_NOT_NULL(h);
        unsigned line = 2;
        for (const char *p = text; p < h; p++)
                line += *p == '\n';
        ASSERT_TRUE(asprintf(&mangled, "%.*s\nffffffff:%s", (int) (h - text), text, h + 1) > 0);
        int fd = mkstemp(tmp);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, mangled, strlen(mangled)), (ssize_t) strlen(mangled));
        close(fd);

        ASSERT_EQ(pci_topology_load_dump(tmp, &t, &err), -EBADMSG);
        ASSERT_NULL(t);
        _cleanup_free_ char *want = NULL;
        ASSERT_TRUE(asprintf(&want, "line %u: device address ffffffff:01:00.0: the domain has 8 hex digits", line) > 0);
        if (!strstr(err, want))
                TEST_FAIL("\"%s\" lacks \"%s\"", err, want);
        unlink(tmp);

        /* the unmangled fixture still loads, switch included */
        free(err);
        err = NULL;
        ASSERT_OK(pci_topology_load_dump(path, &t, &err));
        ASSERT_NOT_NULL(pci_topology_find(t, "0000:01:00.0"));
}

int main(void) {
        log_set_max_level(LOG_WARNING);
        test_accepts_lspci_forms();
        test_refuses_bad_headers();
        test_refuses_duplicates();
        test_refuses_short_and_bad_bytes();
        test_refuses_other_text();
        test_fixtures_pass();
        test_load_refuses_mangled_switch();
        return 0;
}
