/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>

#include "bus-errors.h"

const sd_bus_error_map hwsec_error_map[] = {
        SD_BUS_ERROR_MAP(HWSEC_ERROR_INVALID_ARGUMENT, EINVAL),
        SD_BUS_ERROR_MAP(HWSEC_ERROR_NOT_SUPPORTED, EOPNOTSUPP),
        SD_BUS_ERROR_MAP(HWSEC_ERROR_NO_DEVICE, ENODEV),
        SD_BUS_ERROR_MAP(HWSEC_ERROR_BUSY, EBUSY),
        SD_BUS_ERROR_MAP(HWSEC_ERROR_NOT_FOUND, ENOENT),
        SD_BUS_ERROR_MAP(HWSEC_ERROR_CONFLICT, EEXIST),
        SD_BUS_ERROR_MAP_END
};

int bus_errors_register(void) {
        return sd_bus_error_add_map(hwsec_error_map);
}
