/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Package names, the files behind them, the allow-list and staging. */

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "fileio.h"
#include "payload.h"
#include "test-sfs-util.h"

#define N(s) payload_name_check(s, sizeof(s) - 1)

static void test_names(void) {
        char long_name[80];

        check(N("sfs-turin-1.2.3.sbin") == PAYLOAD_OK);
        check(N("A_b-9") == PAYLOAD_OK);
        check(N("...") == PAYLOAD_OK);
        check(N(".hidden") == PAYLOAD_OK);
        check(payload_name_check("", 0) == PAYLOAD_NAME_EMPTY);
        check(payload_name_check(NULL, 0) == PAYLOAD_NAME_EMPTY);
        check(N(".") == PAYLOAD_NAME_DOTS);
        check(N("..") == PAYLOAD_NAME_DOTS);
        check(N("../etc/passwd") == PAYLOAD_NAME_SLASH);
        check(N("a/b") == PAYLOAD_NAME_SLASH);
        check(N("/abs") == PAYLOAD_NAME_SLASH);
        check(N("a\0b") == PAYLOAD_NAME_NUL);
        check(N("a\0") == PAYLOAD_NAME_NUL);
        check(N("caf\xc3\xa9") == PAYLOAD_NAME_BAD_CHAR);     /* valid UTF-8, not allowed */
        check(N("bad\xff\xfe") == PAYLOAD_NAME_NOT_UTF8);
        check(N("bad\xc3") == PAYLOAD_NAME_NOT_UTF8);
        check(N("a b") == PAYLOAD_NAME_BAD_CHAR);
        check(N("a\nb") == PAYLOAD_NAME_BAD_CHAR);
        check(N("a*") == PAYLOAD_NAME_BAD_CHAR);
        check(N("a\\b") == PAYLOAD_NAME_BAD_CHAR);

        memset(long_name, 'x', sizeof long_name);
        check(payload_name_check(long_name, 63) == PAYLOAD_OK);
        check(payload_name_check(long_name, 64) == PAYLOAD_NAME_TOO_LONG);
        check(payload_name_check(long_name, 80) == PAYLOAD_NAME_TOO_LONG);

        for (int e = 0; e < _PAYLOAD_ERROR_MAX; e++)
                check(strlen(payload_error_to_string((PayloadError) e)) > 10);
        check(payload_error_to_errno(PAYLOAD_NAME_SLASH) == -EINVAL);
        check(payload_error_to_errno(PAYLOAD_SYMLINK) == -ELOOP);
        check(payload_error_to_errno(PAYLOAD_TOO_LARGE) == -EFBIG);
}

static void write_file(const char *dir, const char *name, size_t size, char fill) {
        _cleanup_free_ char *p = path_join(dir, name);
        char *buf = malloc(size + 1);
        check(buf);
        memset(buf, fill, size);
        check(write_file_atomic(p, buf, size, 0644) == 0);
        free(buf);
}

static unsigned count_entries(const char *dir) {
        DIR *d = opendir(dir);
        struct dirent *de;
        unsigned n = 0;

        check(d);
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

static void test_files(void) {
        char root[] = "/tmp/test-sfs-payload-XXXXXX";
        _cleanup_free_ char *amd = NULL, *p = NULL;
        _cleanup_strv_free_ char **allow = NULL, **values = NULL;
        _cleanup_free_ char *bad = NULL;
        PayloadInfo info;
        int err, fd;
        bool already;
        char cmd[256];

        check(mkdtemp(root));
        amd = path_join(root, "amd");

        /* No amd/ directory at all. */
        check(payload_inspect(root, "pkg", NULL, &info, &err) == PAYLOAD_NOT_FOUND);

        check(mkdir(amd, 0755) == 0);
        write_file(amd, "pkg", 1000, 'p');
        check(payload_inspect(root, "pkg", NULL, &info, &err) == PAYLOAD_OK);
        check(info.size == 1000);
        check(sha256_hex_valid(info.sha256));
        check_streq(info.name, "pkg");
        check(payload_inspect(root, "missing", NULL, &info, &err) == PAYLOAD_NOT_FOUND);
        check(payload_inspect(root, "../amd/pkg", NULL, &info, &err) == PAYLOAD_NAME_SLASH);
        check(payload_inspect(root, "..", NULL, &info, &err) == PAYLOAD_NAME_DOTS);

        /* Exactly the largest file the kernel takes, and one byte more. */
        write_file(amd, "max", SFS_MAX_PAYLOAD_FILE_SIZE, 'm');
        check(payload_inspect(root, "max", NULL, &info, &err) == PAYLOAD_OK);
        check(info.size == 2093056);
        write_file(amd, "big", SFS_MAX_PAYLOAD_FILE_SIZE + 1, 'b');
        check(payload_inspect(root, "big", NULL, &info, &err) == PAYLOAD_TOO_LARGE);

        /* A symlink out of the directory, and one inside it. */
        p = path_join(amd, "link-out");
        check(symlink("/etc/passwd", p) == 0);
        check(payload_inspect(root, "link-out", NULL, &info, &err) == PAYLOAD_SYMLINK);
        free(p);
        p = path_join(amd, "link-in");
        check(symlink("pkg", p) == 0);
        check(payload_inspect(root, "link-in", NULL, &info, &err) == PAYLOAD_SYMLINK);
        free(p);

        /* A fifo (must not block) and a directory. */
        p = path_join(amd, "fifo");
        check(mkfifo(p, 0644) == 0);
        check(payload_inspect(root, "fifo", NULL, &info, &err) == PAYLOAD_NOT_REGULAR);
        free(p);
        p = path_join(amd, "dir");
        check(mkdir(p, 0755) == 0);
        check(payload_inspect(root, "dir", NULL, &info, &err) == PAYLOAD_NOT_REGULAR);
        free(p);
        p = NULL;

        /* The allow-list. */
        check(payload_inspect(root, "pkg", NULL, &info, &err) == PAYLOAD_OK);
        check(strv_extend(&values, "0000000000000000000000000000000000000000000000000000000000000000") >= 0);
        check(payload_allow_list_parse(values, &allow, &bad) == 0);
        check(strv_length(allow) == 1);
        check(payload_inspect(root, "pkg", allow, &info, &err) == PAYLOAD_NOT_ALLOWED);
        {
                char upper[SHA256_HEX_SIZE + 2];
                _cleanup_strv_free_ char **v2 = NULL, **a2 = NULL;
                PayloadInfo i2;

                check(payload_inspect(root, "pkg", NULL, &i2, &err) == PAYLOAD_OK);
                for (size_t i = 0; i < 64; i++)
                        upper[i] = (char) toupper((unsigned char) i2.sha256[i]);
                upper[64] = '\0';
                check(strv_extend(&v2, "1111111111111111111111111111111111111111111111111111111111111111,") >= 0);
                check(strv_extend(&v2, upper) >= 0);
                check(payload_allow_list_parse(v2, &a2, &bad) == 0);
                check(strv_length(a2) == 2);
                check(payload_inspect(root, "pkg", a2, &info, &err) == PAYLOAD_OK);
        }
        {
                _cleanup_strv_free_ char **v3 = NULL, **a3 = NULL;
                check(strv_extend(&v3, "nothex") >= 0);
                check(payload_allow_list_parse(v3, &a3, &bad) == -EINVAL);
                check_streq(bad, "nothex");
        }

        /* Staging: refusals write nothing. */
        {
                unsigned before = count_entries(amd);
                PayloadInfo si;
                _cleanup_free_ char *src = path_join(amd, "pkg");
                int pfd[2];

                fd = open(src, O_RDONLY | O_CLOEXEC);
                check(fd >= 0);
                check(payload_stage(root, "../x", fd, NULL, &si, &already, &err) == PAYLOAD_NAME_SLASH);
                check(payload_stage(root, "new", fd, allow, &si, &already, &err) == PAYLOAD_NOT_ALLOWED);
                check(payload_stage(root, "pkg", fd, NULL, &si, &already, &err) == PAYLOAD_OK);
                check(already);
                check(payload_stage(root, "max", fd, NULL, &si, &already, &err) == PAYLOAD_EXISTS);
                check(payload_stage(root, "link-in", fd, NULL, &si, &already, &err) == PAYLOAD_EXISTS);
                check(count_entries(amd) == before);
                check(payload_stage(root, "copy", fd, NULL, &si, &already, &err) == PAYLOAD_OK);
                check(!already);
                check(count_entries(amd) == before + 1);
                check(payload_inspect(root, "copy", NULL, &info, &err) == PAYLOAD_OK);
                check(info.size == 1000);
                close(fd);

                fd = open(amd, O_RDONLY | O_DIRECTORY);
                check(payload_stage(root, "fromdir", fd, NULL, &si, &already, &err) == PAYLOAD_NOT_REGULAR);
                close(fd);
                check(pipe(pfd) == 0);
                check(payload_stage(root, "frompipe", pfd[0], NULL, &si, &already, &err) == PAYLOAD_NOT_REGULAR);
                close(pfd[0]);
                close(pfd[1]);
                _cleanup_free_ char *bigp = path_join(amd, "big");
                fd = open(bigp, O_RDONLY);
                check(payload_stage(root, "big2", fd, NULL, &si, &already, &err) == PAYLOAD_TOO_LARGE);
                close(fd);
                check(count_entries(amd) == before + 1);
        }

        /* Stale temp files from a killed stage are removed. */
        write_file(amd, PAYLOAD_STAGE_PREFIX "0123456789abcdef", 10, 'x');
        check(payload_cleanup_stale(root) == 1);
        check(payload_cleanup_stale(root) == 0);

        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        check(system(cmd) == 0);
}

int main(void) {
        test_names();
        test_files();
        check_done("test-sfs-payload");
        return 0;
}
