/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Firmware update jobs and their history, and their form in state.json:
 *
 *   "firmware": { "next_id": N, "jobs": [ {job}, … ], "history": [ {job}, … ] }
 *
 * "jobs" holds scheduled and running jobs, "history" finished ones (bounded, oldest dropped).
 * The loader checks every field of every entry; an entry it cannot trust is left out and
 * reported with its job id and the field, and its text is handed back so that the caller can
 * keep it; the other entries stay. Never a whole section for one bad entry. */

#include <json-c/json.h>

#include "macro.h"
#include "payload.h"
#include "sfs.h"

#define JOBS_MAX_PENDING 32U
#define JOBS_HISTORY_MAX 64U

/* The latest time a job can hold (9999-12-31T23:59:59Z in µs): the loader refuses later ones,
 * and ScheduleUpdate (schedule.h) refuses them up front, so what is acknowledged loads back. */
#define JOB_USEC_MAX (UINT64_C(253402300799) * USEC_PER_SEC)

typedef enum JobState {
        JOB_SCHEDULED,
        JOB_RUNNING,
        JOB_SUCCEEDED,
        JOB_FAILED,
        JOB_CANCELLED,
        JOB_EXPIRED,
        JOB_INTERRUPTED,
        _JOB_STATE_MAX,
        _JOB_STATE_INVALID = -EINVAL,
} JobState;

const char *job_state_to_string(JobState s);
JobState job_state_from_string(const char *s);
static inline bool job_state_is_final(JobState s) {
        return s >= JOB_SUCCEEDED;
}

/* What was read with SFSIOCFWVERS around an update (not the blob itself). */
typedef struct JobVersions {
        bool valid;
        char sha256[SHA256_HEX_SIZE];
        uint32_t written_size;
        SfsString *strings;
        size_t n_strings;
} JobVersions;

/* ScheduleUpdate option "commit": after a successful update the same job commits the firmware
 * (SNP_COMMIT) and records the SNP TCB before the update and after the commit. In state.json:
 * "commit": {"attempted": b, "committed": b, "error": s, "tcb_before": {"current": "0x…",
 * "reported": "0x…"}, "tcb_after": {…}} (TCBs as hex strings: they use all 64 bits). */
typedef struct JobCommit {
        bool requested;
        bool attempted;             /* the update succeeded, so SNP_COMMIT was issued */
        bool committed;             /* and it succeeded */
        char error[48];             /* the PSP error name when it did not ("" otherwise) */
        bool tcb_before_valid, tcb_after_valid;
        uint64_t current_before, reported_before;
        uint64_t current_after, reported_after;
} JobCommit;

typedef struct Job {
        uint32_t id;
        char payload[SFS_PAYLOAD_NAME_SIZE];
        char sha256[SHA256_HEX_SIZE];
        uint64_t not_before_usec;   /* CLOCK_REALTIME; 0 = as soon as possible */
        uint64_t not_after_usec;    /* 0 = no deadline */
        bool window;                /* placed into a maintenance window */
        JobState state;
        uint64_t created_usec, started_usec, finished_usec;
        char *result;               /* a sentence saying how it ended (NULL while pending) */
        bool has_status;
        uint32_t sfs_status, sfs_extended_status;
        int error;                  /* positive errno of the update ioctl, 0 if none */
        JobVersions before, after;
        JobCommit commit;
        bool cancel_requested;      /* in memory only: never start it (see firmware_job_cancel()) */
} Job;

typedef struct JobList {
        uint32_t next_id;
        Job **jobs;       /* scheduled and running, in id order */
        size_t n_jobs;
        Job **history;    /* finished, oldest first */
        size_t n_history;
} JobList;

Job *job_new(void);
Job *job_free(Job *j);
DEFINE_TRIVIAL_CLEANUP_FUNC(Job *, job_free);
void job_versions_done(JobVersions *v);
int job_versions_from_sfs(JobVersions *v, const SfsVersions *s);
int job_versions_copy(JobVersions *dst, const JobVersions *src);
/* Sets the result sentence (printf style). */
int job_set_result(Job *j, const char *fmt, ...) _printf_(2, 3);

void job_list_done(JobList *l);
/* Adds a new job (takes ownership), assigning the next id. */
int job_list_add(JobList *l, Job *j);
Job *job_list_find(const JobList *l, uint32_t id);
/* Moves a job that just reached a final state from jobs to history, dropping the oldest
 * history entries beyond JOBS_HISTORY_MAX. Dropped ids are appended to *dropped (may be NULL). */
int job_list_finish(JobList *l, Job *j, uint32_t **dropped, size_t *n_dropped);
/* The reverse of job_list_finish() for the newest history entry j (a change that could not be
 * saved): back into jobs, in id order. */
int job_list_unfinish(JobList *l, Job *j);
size_t job_list_count_state(const JobList *l, JobState s);

json_object *job_to_json(const Job *j);
json_object *job_versions_to_json(const JobVersions *v);
int job_from_json(json_object *o, Job **ret, char **ret_reason);
json_object *job_list_to_json(const JobList *l);

/* Loads the "firmware" section (NULL or missing is an empty list). Returns 0 with every entry
 * it trusts in *ret. Problems (one sentence each) go to *ret_problems; if there are any, the
 * caller must keep what was dropped before saving (see job_list_from_json_full()). -EBADMSG only when the
 * section is not an object at all (then *ret is empty and a problem is given too). */
int job_list_from_json(json_object *section, JobList *ret, char ***ret_problems);
/* The same, and when ret_dropped is not NULL, the JSON text of every entry left out goes to
 * *ret_dropped, one string each, so that the caller can keep it (nothing is lost silently). */
int job_list_from_json_full(json_object *section, JobList *ret, char ***ret_problems, char ***ret_dropped);

/* Applied at start: running -> interrupted, scheduled past their deadline -> expired. Returns
 * the number of jobs changed. now_usec is CLOCK_REALTIME. */
int job_list_recover(JobList *l, uint64_t now_usec);
