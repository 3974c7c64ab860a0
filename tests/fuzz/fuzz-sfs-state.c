/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer: the firmware part of the state-file loader. The input is a whole state file; if it
 * parses, its "firmware" section goes through job_list_from_json(), and whatever was kept must
 * serialise and load again without problems. */

#include "jobs.h"
#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_json_ json_object *root = NULL, *again = NULL;
        _cleanup_free_ char *text = NULL, *why = NULL;
        char **problems = NULL, **problems2 = NULL;
        JobList l = {}, l2 = {};
        json_object *section = NULL;

        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        if (state_parse(text, size, &root, &why) < 0)
                return 0;
        (void) json_object_object_get_ex(root, "firmware", &section);
        if (job_list_from_json(section, &l, &problems) >= 0) {
                again = job_list_to_json(&l);
                if (job_list_from_json(again, &l2, &problems2) < 0 || strv_length(problems2) != 0)
                        abort();  /* what we keep must round-trip cleanly */
                (void) job_list_recover(&l2, 1);
        }
        strv_free(problems);
        strv_free(problems2);
        job_list_done(&l);
        job_list_done(&l2);
        return 0;
}
