/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>

#include "manager.h"

int bus_manager_register(Manager *m);
/* The Describe() document: version, state, problems, checks and every area's part. */
int manager_describe(Manager *m, json_object **ret);
