/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The one place that decides who may do what.
 *
 * A default-deny table maps each mutating method (interface + member) or writable property
 * (interface + property, reached through org.freedesktop.DBus.Properties.Set) to a polkit
 * action. Anything not in the table is refused.
 *
 * polkit_verify() asks polkit asynchronously (CheckAuthorization, subject system-bus-name,
 * the AllowUserInteraction flag taken from the message's ALLOW_INTERACTIVE_AUTHORIZATION
 * header). While the answer is pending it returns 0 and the handler returns 1 ("reply later");
 * when the answer arrives the original message is re-queued with sd_bus_enqueue_for_read(),
 * the same handler runs again, and polkit_verify() now returns the cached answer.
 *
 * Handlers validate their arguments *before* calling it, so a bad request never prompts. */

#include <systemd/sd-bus.h>

#include "manager.h"

int polkit_registry_new(PolkitRegistry **ret);
PolkitRegistry *polkit_registry_free(PolkitRegistry *r);

/* Returns 1: authorised, go on. 0: pending, return 1 from the handler now. <0: refused, with
 * ret_error set (AccessDenied, InteractiveAuthorizationRequired), return it. */
int polkit_verify(Manager *m, sd_bus_message *msg, sd_bus_error *ret_error);

/* The action for a method or property, or NULL when the table has none (default deny). */
const char *polkit_action_for(const char *interface, const char *member);
/* True when action is one of ours (CanDo() refuses anything else). */
bool polkit_action_known(const char *action);
/* Every action in the table, NULL-terminated (static). */
const char * const *polkit_actions(void);

/* CanDo(): asks polkit without interaction and replies "yes", "no" or "challenge" to msg. */
int polkit_can_do(Manager *m, sd_bus_message *msg, const char *action, sd_bus_error *ret_error);

/* For setters of writable properties: true when the filter authorized this very message. */
bool polkit_property_authorized(Manager *m, sd_bus_message *msg);

/* Installs the Properties.Set filter that routes writable properties through the table. */
int polkit_install_property_filter(Manager *m);
