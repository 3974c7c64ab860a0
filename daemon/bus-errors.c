/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdarg.h>

#include "bus-errors.h"

const char *bus_error_name_for_host_errno(int error) {
        switch (abs(error)) {
        case ENOMEM:
                return SD_BUS_ERROR_NO_MEMORY;
        case EBUSY:
        case EAGAIN:
                return HWSEC_ERROR_BUSY;
        case ENODEV:
        case ENXIO:
                return HWSEC_ERROR_NO_DEVICE;
        case EOPNOTSUPP:
                return HWSEC_ERROR_NOT_SUPPORTED;
        default:
                /* ENOSPC, EROFS, EDQUOT, EACCES, EPERM, EIO, EISDIR, ENOTDIR, EFBIG, ELOOP,
                 * ENAMETOOLONG, EMFILE, ENFILE, ENOENT…: the host could not do it. */
                return HWSEC_ERROR_IO;
        }
}

int bus_error_set_errnof_host(sd_bus_error *e, int error, const char *fmt, ...) {
        _cleanup_free_ char *message = NULL;
        const char *name = bus_error_name_for_host_errno(error);
        va_list ap;
        int r;

        error = abs(error);
        if (!e)
                return -error;

        errno = error;               /* for %m */
        va_start(ap, fmt);
        r = vasprintf(&message, fmt, ap);
        va_end(ap);
        if (r < 0)
                message = NULL;
        (void) sd_bus_error_set(e, name, message ?: strerror(error));
        return -error;
}
