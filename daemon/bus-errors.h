/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Named errors (listed in docs/api.md). Use these names with sd_bus_error_setf() and a sentence a
 * person can act on. */

#include <systemd/sd-bus.h>

#include "macro.h"

#define HWSEC_ERROR_INVALID_ARGUMENT "org.hwsecd1.Error.InvalidArgument"
#define HWSEC_ERROR_NOT_SUPPORTED    "org.hwsecd1.Error.NotSupported"
#define HWSEC_ERROR_NO_DEVICE        "org.hwsecd1.Error.NoDevice"
#define HWSEC_ERROR_BUSY             "org.hwsecd1.Error.Busy"
#define HWSEC_ERROR_FIRMWARE         "org.hwsecd1.Error.FirmwareError"
#define HWSEC_ERROR_NOT_FOUND        "org.hwsecd1.Error.NotFound"
#define HWSEC_ERROR_CONFLICT         "org.hwsecd1.Error.Conflict"
#define HWSEC_ERROR_IO               "org.hwsecd1.Error.IOError"
#define HWSEC_ERROR_SNP_NOT_INITIALIZED "org.hwsecd1.Error.SnpNotInitialized"

/* The error name for an errno that came from the host (a file, a device, a re-read): ENOMEM ->
 * org.freedesktop.DBus.Error.NoMemory, EBUSY/EAGAIN -> Busy, ENODEV/ENXIO -> NoDevice,
 * EOPNOTSUPP -> NotSupported, anything else (ENOSPC, EROFS, EACCES, EPERM, EIO, EDQUOT, …) ->
 * IOError. Never AccessDenied: a file's EACCES says nothing about the caller's authorization. */
const char *bus_error_name_for_host_errno(int error);

/* Use this, not sd_bus_error_set_errnof(): sd-bus maps errnos to its own System.Error.E* and
 * AccessDenied names and never consults error maps added with sd_bus_error_add_map() (checked on
 * sd-bus 252). Sets the name above and the formatted message (%m is strerror(error)). Returns
 * -abs(error), like sd_bus_error_set_errnof(). */
int bus_error_set_errnof_host(sd_bus_error *e, int error, const char *fmt, ...) _printf_(3, 4);
