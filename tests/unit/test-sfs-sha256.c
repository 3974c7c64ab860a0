/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SHA-256 against the FIPS 180-4 / NIST vectors and against sha256sum as an oracle. */

#include <fcntl.h>
#include <sys/random.h>

#include "sha256.h"
#include "test-sfs-util.h"

static void test_vectors(void) {
        char hex[SHA256_HEX_SIZE];
        static const char million_a_sha[] = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
        char *a;

        sha256_buffer_hex("", 0, hex);
        check_streq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        sha256_buffer_hex("abc", 3, hex);
        check_streq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        sha256_buffer_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
        check_streq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
        sha256_buffer_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu", 112, hex);
        check_streq(hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");

        a = malloc(1000000);
        check(a);
        memset(a, 'a', 1000000);
        sha256_buffer_hex(a, 1000000, hex);
        check_streq(hex, million_a_sha);
        /* The same in uneven pieces through the streaming interface. */
        {
                Sha256 s;
                uint8_t d[SHA256_DIGEST_SIZE];
                size_t off = 0, step = 1;
                sha256_init(&s);
                while (off < 1000000) {
                        size_t n = step < 1000000 - off ? step : 1000000 - off;
                        sha256_update(&s, a + off, n);
                        off += n;
                        step = step * 3 % 211 + 1;
                }
                sha256_final(&s, d);
                sha256_to_hex(d, hex);
                check_streq(hex, million_a_sha);
        }
        free(a);

        check(sha256_hex_valid(million_a_sha));
        check(!sha256_hex_valid("CDC76E5C9914FB9281A1C7E284D73E67F1809A48A497200E046D39CCC7112CD0"));
        check(!sha256_hex_valid("abc"));
        check(!sha256_hex_valid(NULL));
}

/* Random lengths around the block boundaries, compared with sha256sum. */
static void test_oracle(void) {
        static const size_t lengths[] = { 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 4096, 65537, 2093056 };
        char path[] = "/tmp/test-sfs-sha256-XXXXXX";
        uint8_t *buf = malloc(2093056);
        int fd;

        check(buf);
        for (size_t i = 0; i < 2093056; i += 256) {
                if (getrandom(buf + i, 256, 0) != 256)
                        abort();
        }
        for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
                char cmd[128], out[128] = "", hex[SHA256_HEX_SIZE];
                FILE *p;

                fd = mkstemp(path);
                check(fd >= 0);
                check(write(fd, buf, lengths[i]) == (ssize_t) lengths[i]);
                close(fd);
                snprintf(cmd, sizeof cmd, "sha256sum %s", path);
                p = popen(cmd, "r");
                check(p);
                check(fgets(out, sizeof out, p));
                check(pclose(p) == 0);
                unlink(path);
                strcpy(path, "/tmp/test-sfs-sha256-XXXXXX");
                out[64] = '\0';
                sha256_buffer_hex(buf, lengths[i], hex);
                check_streq(hex, out);
        }
        free(buf);
}

int main(void) {
        test_vectors();
        test_oracle();
        check_done("test-sfs-sha256");
        return 0;
}
