/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* One sd_device_monitor in the event loop for subsystems "misc" and "pci"; every event is
 * handed to every area (they ignore what is not theirs). */

#include "manager.h"

int udev_monitor_start(Manager *m);
