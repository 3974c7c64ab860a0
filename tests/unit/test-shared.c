/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the core basics: configuration parsing, state files, atomic writes, numbers. */

#include <assert.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "conf.h"
#include "fileio.h"
#include "paths.h"
#include "state.h"
#include "tests.h"

static void test_conf_parse(void) {
        _cleanup_(conf_freep) Conf *c = NULL;
        _cleanup_strv_free_ char **all = NULL;
        _cleanup_free_ char *error = NULL;

        ASSERT_OK(conf_parse("# comment\n[Firmware]\nMaintenanceWindow = Sat 02:00-04:00 UTC\n"
                             "MaintenanceWindow=Sun 01:00-02:00 UTC\n; other\n[Daemon]\nLogLevel=debug\n",
                             &c, &error));
        ASSERT_STREQ(conf_get(c, "Firmware", "MaintenanceWindow"), "Sun 01:00-02:00 UTC");
        ASSERT_STREQ(conf_get(c, "daemon", "loglevel"), "debug");
        ASSERT_NULL(conf_get(c, "Daemon", "Missing"));
        ASSERT_OK(conf_get_all(c, "Firmware", "MaintenanceWindow", &all));
        ASSERT_EQ(strv_length(all), 2u);
        ASSERT_STREQ(all[0], "Sat 02:00-04:00 UTC");
}

static void test_conf_errors(void) {
        static const struct {
                const char *text, *error;
        } cases[] = {
                { "Key=Value\n", "line 1: a key outside any [Section]" },
                { "[Daemon\n", "line 1: a section header must look like [Name]" },
                { "[Daemon]\n\nno equals sign\n", "line 3: expected Key=Value" },
                { "[Da mon]\n", "line 1: section names may hold letters, digits, '-' and '_'" },
                { "[Daemon]\n=x\n", "line 2: empty key" },
                { "[Daemon]\nK=\xff\xfe\n", "line 1: the file is not valid UTF-8" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(conf_freep) Conf *c = NULL;
                _cleanup_free_ char *error = NULL;

                ASSERT_EQ(conf_parse(cases[i].text, &c, &error), -EINVAL);
                ASSERT_STREQ(error, cases[i].error);
        }
}

static void test_numbers(void) {
        uint64_t u;
        uint32_t u32;
        int64_t i;

        ASSERT_OK(safe_atou64("18446744073709551615", 10, &u));
        ASSERT_EQ(u, UINT64_MAX);
        ASSERT_EQ(safe_atou64("18446744073709551616", 10, &u), -ERANGE);
        ASSERT_EQ(safe_atou64("-1", 10, &u), -EINVAL);
        ASSERT_EQ(safe_atou64(" 1", 10, &u), -EINVAL);
        ASSERT_EQ(safe_atou64("1x", 10, &u), -EINVAL);
        ASSERT_EQ(safe_atou64("", 10, &u), -EINVAL);
        ASSERT_OK(safe_atou64("0x10", 0, &u));
        ASSERT_EQ(u, 16u);
        ASSERT_EQ(safe_atou32("4294967296", 10, &u32), -ERANGE);
        ASSERT_EQ(safe_atou64("\n-1", 10, &u), -EINVAL);        /* strtoull would skip the newline */
        ASSERT_EQ(safe_atou32("\v4294967295", 10, &u32), -EINVAL);
        ASSERT_EQ(safe_atoi64("\r5", &i), -EINVAL);
        ASSERT_OK(safe_atoi64("-5", &i));
        ASSERT_EQ(i, -5);
        ASSERT_EQ(parse_boolean("Y"), 1);
        ASSERT_EQ(parse_boolean("off"), 0);
        ASSERT_EQ(parse_boolean("maybe"), -EINVAL);
        ASSERT_TRUE(utf8_is_valid("grüß"));
        ASSERT_TRUE(!utf8_is_valid("\xc0\x80"));      /* overlong NUL */
        ASSERT_TRUE(!utf8_is_valid("\xed\xa0\x80"));  /* surrogate */
}

static void test_state_round_trip_and_corruption(void) {
        char dir[] = "/tmp/hwsec-test-state-XXXXXX";
        _cleanup_json_ json_object *root = NULL, *again = NULL, *empty = NULL;
        _cleanup_free_ char *problem = NULL, *problem2 = NULL, *path = NULL, *text = NULL;
        json_object *v;
        struct stat st;

        ASSERT_TRUE(mkdtemp(dir) != NULL);
        ASSERT_OK(state_load(dir, &root, &problem));
        ASSERT_NULL(problem);
        json_object_object_add(state_section(root, "asid"), "ciphertext_hiding", json_object_new_int(99));
        ASSERT_OK(state_save(dir, root));

        path = path_join(dir, STATE_FILE_NAME);
        ASSERT_OK(stat(path, &st));
        ASSERT_EQ(st.st_mode & 0777, 0600u);
        ASSERT_OK(state_load(dir, &again, &problem));
        ASSERT_NULL(problem);
        ASSERT_TRUE(json_object_object_get_ex(state_section(again, "asid"), "ciphertext_hiding", &v));
        ASSERT_EQ(json_object_get_int(v), 99);

        /* A truncated file is moved aside, reported, and the daemon starts empty. */
        ASSERT_OK(write_file_atomic(path, "{\"version\": 1, \"asid\": ", 23, 0600));
        ASSERT_OK(state_load(dir, &empty, &problem2));
        ASSERT_NOT_NULL(problem2);
        ASSERT_TRUE(strstr(problem2, "corrupt") != NULL);
        ASSERT_TRUE(strstr(problem2, ".corrupt-") != NULL);
        ASSERT_TRUE(!json_object_object_get_ex(empty, "asid", NULL));
        ASSERT_EQ(access(path, F_OK), -1);

        /* The set-aside file holds the original bytes. */
        {
                const char *aside = strstr(problem2, "moved to ") + strlen("moved to ");
                _cleanup_free_ char *p = strndup(aside, strcspn(aside, " "));
                ASSERT_OK(read_full_file(p, 1024, &text, NULL));
                ASSERT_STREQ(text, "{\"version\": 1, \"asid\": ");
                ASSERT_TRUE(strstr(problem2, "truncated") != NULL);
                ASSERT_OK(unlink(p));
        }
        ASSERT_OK(rmdir(dir));
}

static void test_state_parse_rejects(void) {
        static const char * const bad[] = {
                "", "[]", "{}", "{\"version\": \"1\"}", "{\"version\": 2}", "{\"version\": 1} x", "nul\0",
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_json_ json_object *o = NULL;
                _cleanup_free_ char *why = NULL;
                size_t n = i == ELEMENTSOF(bad) - 1 ? 4 : strlen(bad[i]);

                ASSERT_EQ(state_parse(bad[i], n, &o, &why), -EBADMSG);
                ASSERT_NOT_NULL(why);
        }
}

static void test_paths(void) {
        ASSERT_OK(setenv("STATE_DIRECTORY", "/var/lib/hwsecd:/other", 1));
        ASSERT_OK(setenv("CONFIGURATION_DIRECTORY", ":/x", 1));
        ASSERT_OK(setenv("HWSECD_MODPROBE_DIR", "relative/dir", 1));
        ASSERT_OK(setenv("HWSECD_CPUID", "native", 1));
        paths_reset();
        ASSERT_STREQ(paths_state_dir(), "/var/lib/hwsecd");
        ASSERT_STREQ(paths_config_dir(), "/etc/hwsecd");          /* empty first entry: default */
        ASSERT_STREQ(paths_modprobe_dir(), "/etc/modprobe.d");    /* relative: default */
        ASSERT_STREQ(paths_cpuid_source(), "native");
        ASSERT_OK(setenv("HWSECD_CPUID", "/tmp/cpuid.txt", 1));
        paths_reset();
        ASSERT_STREQ(paths_cpuid_source(), "/tmp/cpuid.txt");
        ASSERT_EQ(mkdir_p("", 0700), -EINVAL);
        paths_reset();
}

int main(void) {
        test_paths();
        test_conf_parse();
        test_conf_errors();
        test_numbers();
        test_state_round_trip_and_corruption();
        test_state_parse_rejects();
        printf("test-shared: all passed\n");
        return 0;
}
