/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer: the hwsecd.conf parser must accept or refuse any bytes without crashing. */

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(conf_freep) Conf *c = NULL;
        _cleanup_free_ char *text = NULL, *error = NULL;
        _cleanup_strv_free_ char **all = NULL;

        if (size > 64 * 1024)
                return 0;
        text = strndup((const char *) data, size);
        if (!text)
                return 0;
        if (conf_parse(text, &c, &error) < 0)
                return 0;
        (void) conf_get(c, "Firmware", "MaintenanceWindow");
        (void) conf_get_all(c, "Firmware", "AllowedSha256", &all);
        return 0;
}
