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
        /* Host-file failures: one name rather than sd-bus's bare System.Error.E* ones. */
        SD_BUS_ERROR_MAP(HWSEC_ERROR_IO, EIO),
        SD_BUS_ERROR_MAP(HWSEC_ERROR_IO, EROFS),
        SD_BUS_ERROR_MAP(HWSEC_ERROR_IO, ENOSPC),
        SD_BUS_ERROR_MAP(HWSEC_ERROR_IO, EDQUOT),
        SD_BUS_ERROR_MAP(HWSEC_ERROR_IO, EISDIR),
        SD_BUS_ERROR_MAP(HWSEC_ERROR_IO, ENOTDIR),
        SD_BUS_ERROR_MAP(HWSEC_ERROR_IO, EFBIG),
        SD_BUS_ERROR_MAP(HWSEC_ERROR_IO, ELOOP),
        SD_BUS_ERROR_MAP(HWSEC_ERROR_IO, ENAMETOOLONG),
        SD_BUS_ERROR_MAP(HWSEC_ERROR_IO, EMFILE),
        SD_BUS_ERROR_MAP(HWSEC_ERROR_IO, ENFILE),
        SD_BUS_ERROR_MAP_END
};

int bus_errors_register(void) {
        return sd_bus_error_add_map(hwsec_error_map);
}
