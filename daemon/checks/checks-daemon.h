/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The readiness checks in the daemon: an entry of the area table (daemon/areas.c) that owns no
 * hardware. It runs the checks (checks.c) on the host facts and the PSP snapshot when either
 * changes (MANAGER_EVENT_FACTS_CHANGED, MANAGER_EVENT_PSP_CHANGED), keeps the history in
 * state.json key "checks" (check-history.c), adds "checks" and "check_summary" to Describe(),
 * and serves Manager.CheckSummary and Manager.GetChecks() through manager_members. */

#include "area.h"

extern const AreaVTable checks_area_vtable;
