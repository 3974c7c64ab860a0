/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* org.freedesktop.LogControl1 at /org/freedesktop/LogControl1, so that
 * `systemctl service-log-level hwsecd debug` works. Writes go through polkit
 * (org.hwsecd1.set-log-level). */

#include "manager.h"

int log_control_register(Manager *m);
/* Validates a Properties.Set value (msg positioned at the variant) before polkit is asked. */
int log_control_validate(const char *property, sd_bus_message *msg, sd_bus_error *error);
