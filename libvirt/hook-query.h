/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The hook's reads from hwsecd over the system bus (no polkit: every call here is a read that
 * needs no authorisation). Each call has the time left until the deadline. */

#include <systemd/sd-bus.h>

#include "hook-rules.h"

/* Connects to the system bus. On failure *ret_error says why (the hook treats it as
 * "hwsecd unreachable"). */
int query_connect(uint64_t deadline_usec, sd_bus **ret, char **ret_error);

/* Pci.CheckAssignable(address). hwsecd errors about the address (NotFound, InvalidArgument)
 * land in ret->error_name; a daemon still busy with its first audit is asked again until the
 * deadline. Any other failure returns < 0 with *ret_error set. */
int query_pci(sd_bus *bus, uint64_t deadline_usec, const char *address, PciAnswer *ret, char **ret_error);

/* Asid.Pools, and when with_explanation Asid.Explanation and EffectiveCiphertextHidingAsids. */
int query_asid(sd_bus *bus, uint64_t deadline_usec, bool with_explanation, AsidAnswer *ret, char **ret_error);

/* Manager.GetChecks(). */
int query_checks(sd_bus *bus, uint64_t deadline_usec, Check **ret, size_t *ret_n, char **ret_error);
