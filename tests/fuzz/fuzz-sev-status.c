/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harness for the /dev/sev status decoders: the first byte picks the decoder
 * (SEV status, SNP status with each TCB layout, or error naming), the rest is the firmware's
 * answer. Every decoded value is rendered to JSON and text, as the daemon does. */

#include "sev-status.h"
#include "tcb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        SevStatus s;
        SnpStatus n;
        SevError e;
        TcbVersion t;
        json_object *j;
        char buf[64];
        uint32_t code = 0;

        if (size < 1)
                return 0;

        switch (data[0] % 3) {
        case 0:
                if (sev_status_decode(data + 1, size - 1, &s) == 0) {
                        j = sev_status_to_json(&s);
                        (void) json_object_to_json_string(j);
                        json_object_put(j);
                        (void) sev_state_to_string(s.state);
                }
                break;
        case 1:
                if (snp_status_decode(data + 1, size - 1, &n) == 0) {
                        for (TcbLayout l = 0; l < _TCB_LAYOUT_MAX; l++) {
                                j = snp_status_to_json(&n, l);
                                (void) json_object_to_json_string(j);
                                json_object_put(j);
                                (void) tcb_decode(n.current_tcb, l, &t);
                                (void) tcb_format(&t, buf, sizeof buf);
                        }
                }
                break;
        default:
                if (size >= 5)
                        memcpy(&code, data + 1, 4);
                (void) sev_ret_to_name(code);
                (void) sev_ret_describe(code);
                sev_error_set(&e, (data[0] / 3) % 2 ? SEV_QUERY_SNP : SEV_QUERY_SEV,
                              size >= 6 ? -(int) (data[5] % 140) : -EIO, code);
                if (strlen(e.message) >= sizeof e.message || strlen(e.name) >= sizeof e.name)
                        abort();
                if (e.error != 0 && (e.name[0] == '\0' || e.message[0] == '\0'))
                        abort();        /* nothing is ever reported unnamed */
        }
        return 0;
}
