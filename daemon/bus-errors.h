/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Named errors (dbus/README in docs/api.md). Use these names with sd_bus_error_setf() and a
 * sentence a person can act on. */

#include <systemd/sd-bus.h>

#define HWSEC_ERROR_INVALID_ARGUMENT "org.hwsecd1.Error.InvalidArgument"
#define HWSEC_ERROR_NOT_SUPPORTED    "org.hwsecd1.Error.NotSupported"
#define HWSEC_ERROR_NO_DEVICE        "org.hwsecd1.Error.NoDevice"
#define HWSEC_ERROR_BUSY             "org.hwsecd1.Error.Busy"
#define HWSEC_ERROR_FIRMWARE         "org.hwsecd1.Error.FirmwareError"
#define HWSEC_ERROR_NOT_FOUND        "org.hwsecd1.Error.NotFound"
#define HWSEC_ERROR_CONFLICT         "org.hwsecd1.Error.Conflict"
#define HWSEC_ERROR_IO               "org.hwsecd1.Error.IOError"

/* errno -> name map, registered with sd_bus_error_add_map() at start, so that
 * sd_bus_error_set_errnof() on our errnos gives our names. */
extern const sd_bus_error_map hwsec_error_map[];
int bus_errors_register(void);
