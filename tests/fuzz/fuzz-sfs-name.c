/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer: package names and maintenance window values. A name that passes the check must be
 * a single safe path component that fits the kernel's 64-byte field. */

#include "payload.h"
#include "window.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = NULL, *why = NULL, *canon = NULL;
        MaintenanceWindow w;

        if (payload_name_check((const char *) data, size) == PAYLOAD_OK) {
                if (size == 0 || size > PAYLOAD_NAME_MAX || memchr(data, '/', size) || memchr(data, '\0', size))
                        abort();
                if ((size == 1 && data[0] == '.') || (size == 2 && data[0] == '.' && data[1] == '.'))
                        abort();
                /* never one of hwsecd's own staging files, which start-up deletes */
                if (size >= strlen(PAYLOAD_STAGE_PREFIX) && memcmp(data, PAYLOAD_STAGE_PREFIX, strlen(PAYLOAD_STAGE_PREFIX)) == 0)
                        abort();
        }
        s = strndup((const char *) data, size);
        if (!s)
                return 0;
        if (window_parse(s, &w, &why) == 0) {
                MaintenanceWindow w2;
                uint64_t a, b;

                canon = window_to_string(&w);
                if (!canon || window_parse(canon, &w2, NULL) != 0 || w.days != w2.days || w.start_min != w2.start_min ||
                    w.end_min != w2.end_min || strcmp(w.zone, w2.zone) != 0)
                        abort();  /* the canonical form parses back to the same window */
                if (window_next(&w, 1, UINT64_C(1790000000) * USEC_PER_SEC, &a, &b) != 0 || b <= a)
                        abort();
        }
        return 0;
}
