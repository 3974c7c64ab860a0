/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The versions blob summary, status and errno names. */

#include "sfs.h"
#include "test-sfs-util.h"

static void test_blob(void) {
        static uint8_t blob[SFS_VERSIONS_BLOB_SIZE];
        SfsVersions v = {};
        char hex[SHA256_HEX_SIZE];

        /* Untouched page: all fill bytes, nothing written. */
        memset(blob, SFS_VERSIONS_FILL_BYTE, sizeof blob);
        check(sfs_versions_decode(blob, &v) == 0);
        check(v.written_size == 0 && v.n_strings == 0);
        sha256_buffer_hex(blob, sizeof blob, hex);
        check_streq(v.sha256, hex);

        /* Binary header, two strings, a too-short run, then fill. */
        memset(blob, 0, 200);
        memcpy(blob + 8, "ASP FW 1.55.21", 14);
        memcpy(blob + 40, "abc", 3);
        memcpy(blob + 64, "TMPM 0x2a", 9);
        blob[199] = 0x01;
        check(sfs_versions_decode(blob, &v) == 0);
        check(v.written_size == 200);
        check(v.n_strings == 2);
        check(v.strings[0].offset == 8);
        check_streq(v.strings[0].text, "ASP FW 1.55.21");
        check(v.strings[1].offset == 64);
        check_streq(v.strings[1].text, "TMPM 0x2a");
        /* A string that runs into the fill byte region stops at written_size. */
        memset(blob, SFS_VERSIONS_FILL_BYTE, sizeof blob);
        memcpy(blob + 4090, "ABCDEF", 6);
        check(sfs_versions_decode(blob, &v) == 0);
        check(v.written_size == 4096 && v.n_strings == 1 && v.strings[0].offset == 4090);
        /* More strings than kept. */
        for (unsigned i = 0; i < 100; i++)
                memcpy(blob + i * 8, "XXXXXX\0", 8);
        check(sfs_versions_decode(blob, &v) == 0);
        check(v.n_strings == SFS_MAX_STRINGS);
        sfs_versions_done(&v);
        check(v.strings == NULL && v.n_strings == 0);
}

static void test_names(void) {
        char buf[16];

        check_streq(sfs_status_name(0), "success");
        check(sfs_status_name(1) == NULL);
        check_streq(sfs_status_to_string(0, buf, sizeof buf), "success");
        check_streq(sfs_status_to_string(0x17, buf, sizeof buf), "0x00000017");
        check_streq(sfs_errno_name(EPERM), "EPERM");
        check_streq(sfs_errno_name(-EBUSY), "EBUSY");
        check(strstr(sfs_errno_meaning(EPERM), "signature"));
        check(strstr(sfs_errno_meaning(E2BIG), "2 MiB"));
        check(sfs_errno_name(EDOM) == NULL);
        check(strlen(sfs_errno_meaning(EDOM)) > 0);
}

static void test_bad_fd(void) {
        SfsVersions v = {};
        SfsResult r;

        /* Not an SFS device: the ioctl fails with ENOTTY and no status is claimed. */
        check(sfs_get_versions(0 /* stdin */, &v, &r) < 0);
        check(!r.has_status);
        check(sfs_get_versions(-1, &v, &r) == -EBADF);
        check(sfs_update_package(-1, "pkg", &r) == -EBADF && !r.has_status);
        check(sfs_update_package(-1, "", &r) == -EINVAL);
}

int main(void) {
        test_blob();
        test_names();
        test_bad_fd();
        check_done("test-sfs-decode");
        return 0;
}
