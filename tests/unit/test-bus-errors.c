/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Host errnos reach callers under our names, never as System.Error.E* or AccessDenied. */

#include <errno.h>

#include "../../daemon/bus-errors.h"
#include "tests.h"

static void test_names(void) {
        static const struct {
                int error;
                const char *name;
        } cases[] = {
                { ENOSPC, HWSEC_ERROR_IO },
                { EROFS, HWSEC_ERROR_IO },
                { EACCES, HWSEC_ERROR_IO },
                { EPERM, HWSEC_ERROR_IO },
                { EIO, HWSEC_ERROR_IO },
                { EDQUOT, HWSEC_ERROR_IO },
                { EISDIR, HWSEC_ERROR_IO },
                { ENOENT, HWSEC_ERROR_IO },
                { EMFILE, HWSEC_ERROR_IO },
                { ENOMEM, SD_BUS_ERROR_NO_MEMORY },
                { EBUSY, HWSEC_ERROR_BUSY },
                { ENODEV, HWSEC_ERROR_NO_DEVICE },
                { EOPNOTSUPP, HWSEC_ERROR_NOT_SUPPORTED },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

                ASSERT_EQ(bus_error_set_errnof_host(&e, -cases[i].error, "Saving failed: %m"), -cases[i].error);
                ASSERT_STREQ(e.name, cases[i].name);
                /* Positive errnos work the same. */
                ASSERT_STREQ(bus_error_name_for_host_errno(cases[i].error), cases[i].name);
        }
}

static void test_message_expands_errno(void) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        char want[256];

        snprintf(want, sizeof want, "The state could not be saved: %s", strerror(ENOSPC));
        ASSERT_EQ(bus_error_set_errnof_host(&e, ENOSPC, "The state could not be saved: %m"), -ENOSPC);
        ASSERT_STREQ(e.message, want);
        ASSERT_EQ(bus_error_set_errnof_host(NULL, -EROFS, "x"), -EROFS);
}

int main(void) {
        test_names();
        test_message_expands_errno();
        return 0;
}
