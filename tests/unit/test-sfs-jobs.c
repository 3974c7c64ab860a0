/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Jobs in state.json: round trips, corrupt entries, recovery at start, bounded history. */

#include "fileio.h"
#include "jobs.h"
#include "state.h"
#include "test-sfs-util.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static Job *make(const char *payload, JobState st, uint64_t nb, uint64_t na) {
        Job *j = job_new();
        check(j);
        strcpy(j->payload, payload);
        strcpy(j->sha256, SHA_A);
        j->state = st;
        j->not_before_usec = nb;
        j->not_after_usec = na;
        j->created_usec = 1000;
        return j;
}

static void test_round_trip(void) {
        JobList l = { .next_id = 1 }, back;
        char **problems = NULL;
        json_object *o, *o2;
        Job *j;
        SfsString str = { .offset = 16, .text = (char *) "ASP 1.2.3" };
        SfsVersions sv = { .written_size = 64, .strings = &str, .n_strings = 1 };

        strcpy(sv.sha256, SHA_B);
        check(job_list_add(&l, make("pkg-a", JOB_SCHEDULED, 5000000, 9000000)) == 0);
        check(job_list_add(&l, make("pkg.b", JOB_SCHEDULED, 0, 0)) == 0);
        j = l.jobs[1];
        check(j->id == 2);
        j->state = JOB_FAILED;
        j->has_status = true;
        j->sfs_status = 0x17;
        j->sfs_extended_status = 0xdeadbeef;
        j->error = EIO;
        j->started_usec = 2000;
        j->finished_usec = 3000;
        check(job_set_result(j, "firmware status %s", "0x00000017") == 0);
        check(job_versions_from_sfs(&j->before, &sv) == 0);
        check(job_versions_copy(&j->after, &j->before) == 0);
        check(job_list_finish(&l, j, NULL, NULL) == 0);
        check(l.n_jobs == 1 && l.n_history == 1);

        o = job_list_to_json(&l);
        check(job_list_from_json(o, &back, &problems) == 0);
        check(problems == NULL);
        check(back.next_id == 3);
        check(back.n_jobs == 1 && back.n_history == 1);
        check(back.jobs[0]->id == 1 && back.jobs[0]->not_before_usec == 5000000 && back.jobs[0]->not_after_usec == 9000000);
        j = back.history[0];
        check(j->state == JOB_FAILED && j->has_status && j->sfs_status == 0x17 && j->sfs_extended_status == 0xdeadbeef);
        check(j->error == EIO);
        check_streq(j->result, "firmware status 0x00000017");
        check(j->before.valid && j->after.valid && j->after.n_strings == 1);
        check_streq(j->after.strings[0].text, "ASP 1.2.3");
        check(j->after.strings[0].offset == 16);
        check_streq(j->before.sha256, SHA_B);

        /* Serialising again gives the same document. */
        o2 = job_list_to_json(&back);
        check_streq(json_object_to_json_string(o), json_object_to_json_string(o2));
        json_object_put(o);
        json_object_put(o2);
        job_list_done(&l);
        job_list_done(&back);

        /* A missing section is an empty list. */
        check(job_list_from_json(NULL, &back, &problems) == 0);
        check(back.next_id == 1 && back.n_jobs == 0 && problems == NULL);
}

static unsigned load(const char *text, JobList *ret) {
        json_object *o = json_tokener_parse(text);
        char **problems = NULL;
        unsigned n;

        check(o);
        check(job_list_from_json(o, ret, &problems) >= 0);
        n = (unsigned) strv_length(problems);
        STRV_FOREACH(p, problems)
                check(strlen(*p) > 10);
        strv_free(problems);
        json_object_put(o);
        return n;
}

/* ScheduleUpdate option "commit": the record and its TCBs (all 64 bits) survive state.json; a
 * forged record (TCB not 0x-hex, committed not a boolean, an over-long error name) drops the
 * entry instead of being believed. */
static void test_commit_record(void) {
        JobList l = { .next_id = 1 }, back;
        char **problems = NULL;
        json_object *o;
        Job *j;

        check(job_list_add(&l, make("pkg", JOB_SUCCEEDED, 0, 0)) == 0);
        j = l.jobs[0];
        j->commit = (JobCommit) {
                .requested = true, .attempted = true, .committed = false, .error = "SNP_NOT_INITIALIZED",
                .tcb_before_valid = true, .current_before = UINT64_C(0xdb18000000000304),
                .reported_before = UINT64_C(0xda17000000000203),
        };
        check(job_list_finish(&l, j, NULL, NULL) == 0);
        o = job_list_to_json(&l);
        check(job_list_from_json(o, &back, &problems) == 0 && problems == NULL);
        j = back.history[0];
        check(j->commit.requested && j->commit.attempted && !j->commit.committed);
        check_streq(j->commit.error, "SNP_NOT_INITIALIZED");
        check(j->commit.tcb_before_valid && !j->commit.tcb_after_valid);
        check(j->commit.current_before == UINT64_C(0xdb18000000000304));
        check(j->commit.reported_before == UINT64_C(0xda17000000000203));
        json_object_put(o);
        job_list_done(&l);
        job_list_done(&back);

        /* without the option there is no record at all */
        check(job_list_add(&l, make("pkg", JOB_SCHEDULED, 0, 0)) == 0);
        o = job_list_to_json(&l);
        check(!strstr(json_object_to_json_string(o), "commit"));
        json_object_put(o);
        job_list_done(&l);
}

#define GOOD(id, state) "{\"id\":" #id ",\"payload\":\"p\",\"sha256\":\"" SHA_A "\",\"state\":\"" state "\"," \
        "\"not_before_usec\":0,\"not_after_usec\":0,\"created_usec\":1}"

#define WITH_COMMIT(id, commit) "{\"id\":" #id ",\"payload\":\"p\",\"sha256\":\"" SHA_A "\",\"state\":\"succeeded\"," \
        "\"not_before_usec\":0,\"not_after_usec\":0,\"created_usec\":1,\"commit\":" commit "}"

static void test_commit_forged(void) {
        JobList l;

        check(load("{\"next_id\":9,\"history\":["
                   WITH_COMMIT(1, "{\"attempted\":true,\"committed\":true,\"error\":\"\"}") ","
                   WITH_COMMIT(2, "{\"attempted\":true,\"committed\":\"yes\"}") ","
                   WITH_COMMIT(3, "{\"attempted\":true,\"committed\":true,\"tcb_before\":{\"current\":\"-1\",\"reported\":\"0x0000000000000000\"}}") ","
                   WITH_COMMIT(4, "{\"attempted\":true,\"committed\":true,\"tcb_after\":{\"current\":\"0x00000000000000000\",\"reported\":\"0x0000000000000000\"}}") ","
                   WITH_COMMIT(5, "\"yes\"") ","
                   WITH_COMMIT(6, "{\"attempted\":true,\"committed\":false,\"error\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}")
                   "]}", &l) == 5);
        check(l.n_history == 1 && l.history[0]->id == 1 && l.history[0]->commit.committed);
        job_list_done(&l);
}

static void test_corrupt(void) {
        JobList l;
        char **problems = NULL;
        json_object *o;

        check(load("{\"next_id\":5,\"jobs\":[" GOOD(1, "scheduled") "," GOOD(2, "running") "],\"history\":[" GOOD(3, "succeeded") "]}", &l) == 0);
        check(l.n_jobs == 2 && l.n_history == 1 && l.next_id == 5);
        job_list_done(&l);

        /* Each bad entry is set aside with a reason, the good ones stay. */
        check(load("{\"next_id\":50,\"jobs\":["
                   GOOD(1, "scheduled") ","
                   "{\"id\":2,\"payload\":\"../etc\",\"sha256\":\"" SHA_A "\",\"state\":\"scheduled\",\"not_before_usec\":0,\"not_after_usec\":0,\"created_usec\":1},"
                   "{\"id\":3,\"payload\":\"p\",\"sha256\":\"xyz\",\"state\":\"scheduled\",\"not_before_usec\":0,\"not_after_usec\":0,\"created_usec\":1},"
                   "{\"id\":4,\"payload\":\"p\",\"sha256\":\"" SHA_A "\",\"state\":\"dancing\",\"not_before_usec\":0,\"not_after_usec\":0,\"created_usec\":1},"
                   "{\"id\":5,\"payload\":\"p\",\"sha256\":\"" SHA_A "\",\"state\":\"scheduled\",\"not_before_usec\":-1,\"not_after_usec\":0,\"created_usec\":1},"
                   "{\"id\":6,\"payload\":\"p\",\"sha256\":\"" SHA_A "\",\"state\":\"scheduled\",\"not_before_usec\":\"soon\",\"not_after_usec\":0,\"created_usec\":1},"
                   "{\"id\":7,\"payload\":\"p\",\"sha256\":\"" SHA_A "\",\"state\":\"scheduled\",\"not_before_usec\":10,\"not_after_usec\":5,\"created_usec\":1},"
                   "{\"id\":0,\"payload\":\"p\",\"sha256\":\"" SHA_A "\",\"state\":\"scheduled\",\"not_before_usec\":0,\"not_after_usec\":0,\"created_usec\":1},"
                   "{\"id\":99999999999,\"payload\":\"p\",\"sha256\":\"" SHA_A "\",\"state\":\"scheduled\",\"not_before_usec\":0,\"not_after_usec\":0,\"created_usec\":1},"
                   "{\"payload\":\"p\"},"
                   "[1,2],"
                   "null,"
                   GOOD(1, "scheduled") ","
                   GOOD(8, "succeeded") ","
                   "{\"id\":9,\"payload\":\"p\",\"sha256\":\"" SHA_A "\",\"state\":\"scheduled\",\"not_before_usec\":0,\"not_after_usec\":0,\"created_usec\":99999999999999999999},"
                   "{\"id\":10,\"payload\":\"p\",\"sha256\":\"" SHA_A "\",\"state\":\"scheduled\",\"not_before_usec\":0,\"not_after_usec\":0,\"created_usec\":1,\"versions_before\":{\"valid\":true,\"sha256\":\"zz\",\"written_size\":1}},"
                   "{\"id\":11,\"payload\":\"p\",\"sha256\":\"" SHA_A "\",\"state\":\"scheduled\",\"not_before_usec\":0,\"not_after_usec\":0,\"created_usec\":1,\"window\":\"yes\"},"
                   "{\"id\":12,\"payload\":\"p\",\"sha256\":\"" SHA_A "\",\"state\":\"failed\",\"not_before_usec\":0,\"not_after_usec\":0,\"created_usec\":1,\"sfs_status\":1}"
                   "],\"history\":[" GOOD(13, "running") "," GOOD(14, "expired") "]}", &l) == 18);
        check(l.n_jobs == 1 && l.jobs[0]->id == 1);
        check(l.n_history == 1 && l.history[0]->id == 14);
        check(l.next_id == 50);
        job_list_done(&l);

        /* next_id at or below a job id is raised, and reported. */
        check(load("{\"next_id\":2,\"jobs\":[" GOOD(7, "scheduled") "]}", &l) == 1);
        check(l.next_id == 8);
        job_list_done(&l);
        check(load("{\"next_id\":0,\"jobs\":[]}", &l) == 1);
        check(l.next_id == 1);
        job_list_done(&l);
        check(load("{\"next_id\":1,\"jobs\":{},\"history\":7}", &l) == 2);
        job_list_done(&l);

        /* Not an object at all. */
        o = json_object_new_array();
        check(job_list_from_json(o, &l, &problems) == -EBADMSG);
        check(strv_length(problems) == 1);
        strv_free(problems);
        json_object_put(o);
        job_list_done(&l);
}

static void test_recover_and_history(void) {
        JobList l = { .next_id = 1 };
        uint32_t *dropped = NULL;
        size_t n_dropped = 0;

        check(job_list_add(&l, make("a", JOB_RUNNING, 0, 0)) == 0);
        check(job_list_add(&l, make("b", JOB_SCHEDULED, 100, 200)) == 0);     /* window passed */
        check(job_list_add(&l, make("c", JOB_SCHEDULED, 100, 0)) == 0);       /* no deadline: runs */
        check(job_list_add(&l, make("d", JOB_SCHEDULED, 100, 5000)) == 0);    /* still open */
        check(job_list_recover(&l, 1000) == 2);
        check(l.n_jobs == 2 && l.n_history == 2);
        check(job_list_find(&l, 1)->state == JOB_INTERRUPTED);
        check(strstr(job_list_find(&l, 1)->result, "stopped while the update was running"));
        check(job_list_find(&l, 2)->state == JOB_EXPIRED);
        check(job_list_find(&l, 3)->state == JOB_SCHEDULED);
        check(job_list_find(&l, 4)->state == JOB_SCHEDULED);
        check(job_list_find(&l, 99) == NULL);
        check(job_list_count_state(&l, JOB_SCHEDULED) == 2);

        for (unsigned i = 0; i < JOBS_HISTORY_MAX + 5; i++) {
                Job *j = make("h", JOB_SCHEDULED, 0, 0);
                check(job_list_add(&l, j) == 0);
                j->state = JOB_CANCELLED;
                check(job_list_finish(&l, j, &dropped, &n_dropped) == 0);
        }
        check(l.n_history == JOBS_HISTORY_MAX);
        check(n_dropped == 7);
        check(dropped[0] == 1 && dropped[1] == 2 && dropped[2] == 5);
        check(l.n_jobs == 2);
        free(dropped);
        check(job_state_from_string("expired") == JOB_EXPIRED);
        check(job_state_from_string("nope") < 0);
        check(job_state_is_final(JOB_INTERRUPTED) && !job_state_is_final(JOB_RUNNING));
        job_list_done(&l);
}

#ifdef TEST_FIXTURES
/* state.json files written by hwsecd in an integration run (tests/fixtures/README-sfs.md). */
static unsigned load_fixture(const char *name, JobList *ret) {
        _cleanup_free_ char *path = path_join(TEST_FIXTURES "/sfs", name), *text = NULL, *why = NULL;
        char **problems = NULL;
        json_object *root = NULL, *section = NULL;
        size_t size;
        unsigned n;

        check(read_full_file(path, STATE_MAX_SIZE, &text, &size) == 0);
        check(state_parse(text, size, &root, &why) == 0);
        check(json_object_object_get_ex(root, "firmware", &section));
        check(job_list_from_json(section, ret, &problems) == 0);
        n = (unsigned) strv_length(problems);
        strv_free(problems);
        json_object_put(root);
        return n;
}

static void test_fixtures(void) {
        JobList l;

        check(load_fixture("state-firmware.json", &l) == 0);
        check(l.next_id == 5 && l.n_jobs == 1 && l.n_history == 3);
        check(l.jobs[0]->state == JOB_SCHEDULED && l.jobs[0]->not_after_usec > l.jobs[0]->not_before_usec);
        check(l.history[0]->state == JOB_SUCCEEDED && l.history[0]->has_status && l.history[0]->sfs_status == 0);
        check(l.history[0]->before.valid && l.history[0]->after.valid);
        check(strcmp(l.history[0]->before.sha256, l.history[0]->after.sha256) != 0);
        check(l.history[1]->state == JOB_FAILED && l.history[1]->sfs_status == 0x17 && l.history[1]->error == EIO);
        check(l.history[2]->state == JOB_CANCELLED);
        job_list_done(&l);

        /* Same file with a traversal payload, an unknown state, a deadline before the start and a
         * next_id below the ids: three entries set aside, next_id repaired, all reported. */
        check(load_fixture("state-firmware-corrupt.json", &l) == 4);
        check(l.n_jobs == 0 && l.n_history == 1 && l.history[0]->state == JOB_CANCELLED);
        check(l.next_id == 5);   /* not 4: job 4 was set aside, its id is not reused */
        job_list_done(&l);
}
#endif

int main(void) {
#ifdef TEST_FIXTURES
        test_fixtures();
#endif
        test_round_trip();
        test_commit_record();
        test_commit_forged();
        test_corrupt();
        test_recover_and_history();
        check_done("test-sfs-jobs");
        return 0;
}
