/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer: state.json parsing must accept or refuse any bytes without crashing or leaking. */

#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_json_ json_object *o = NULL;
        _cleanup_free_ char *text = NULL, *why = NULL;

        if (size > 256 * 1024)
                return 0;
        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        (void) state_parse(text, size, &o, &why);
        return 0;
}
