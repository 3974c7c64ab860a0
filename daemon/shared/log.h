/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Logging for the daemon, the client's offline modes and the tests.
 *
 * Lines go to stderr with a "<N>" priority prefix (sd-daemon.h style), so that journald files
 * them at the right priority when stderr is a journal stream. When stderr *is* connected to the
 * journal (JOURNAL_STREAM matches fd 2), structured messages are sent with sd_journal_send()
 * instead, so that MESSAGE_ID and other fields become real journal fields. Elsewhere (tests,
 * a terminal) the MESSAGE_ID is appended to the line as " MESSAGE_ID=<id>" so it can still be
 * searched for. */

#include <stdarg.h>
#include <syslog.h>

#include "macro.h"

typedef enum LogTarget {
        LOG_TARGET_AUTO,     /* journal if stderr is a journal stream, else console */
        LOG_TARGET_CONSOLE,  /* stderr with <N> prefixes */
        LOG_TARGET_JOURNAL,  /* sd_journal_send() */
        LOG_TARGET_NULL,
        _LOG_TARGET_MAX,
        _LOG_TARGET_INVALID = -EINVAL,
} LogTarget;

void log_set_max_level(int level);
int log_get_max_level(void);
int log_level_from_string(const char *s);   /* "debug", "info", … or a number 0–7; -EINVAL */
const char *log_level_to_string(int level);
void log_set_target(LogTarget t);
LogTarget log_get_target(void);
LogTarget log_target_from_string(const char *s);
const char *log_target_to_string(LogTarget t);
int log_set_syslog_identifier(const char *id);
const char *log_get_syslog_identifier(void);

/* Returns -abs(error) when error != 0, so callers can write "return log_error_errno(r, …)". */
int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *format, ...) _printf_(6, 7);
/* Structured: message_id is a 32 hex-digit id (see docs/logging.md), may be NULL. */
int log_struct_internal(int level, int error, const char *message_id, const char *file, int line,
                        const char *func, const char *format, ...) _printf_(7, 8);

#define log_full_errno(level, error, ...)                                               \
        ({                                                                              \
                int _l = (level), _e = (error);                                         \
                (log_get_max_level() >= _l)                                             \
                        ? log_internal(_l, _e, __FILE__, __LINE__, __func__, __VA_ARGS__) \
                        : -abs(_e);                                                     \
        })
#define log_full(level, ...) (void) log_full_errno(level, 0, __VA_ARGS__)

#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, e, __VA_ARGS__)
#define log_info_errno(e, ...) log_full_errno(LOG_INFO, e, __VA_ARGS__)
#define log_notice_errno(e, ...) log_full_errno(LOG_NOTICE, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, e, __VA_ARGS__)
#define log_oom() log_error_errno(ENOMEM, "Out of memory.")

/* log_struct(LOG_NOTICE, MESSAGE_ID_CHECK_CHANGED, "Check %s: %s -> %s", id, a, b); */
#define log_struct(level, message_id, ...) \
        (void) log_struct_internal(level, 0, message_id, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define log_struct_errno(level, error, message_id, ...) \
        log_struct_internal(level, error, message_id, __FILE__, __LINE__, __func__, __VA_ARGS__)

/* Message ids for events an operator would search for. One list, so ids never collide;
 * docs/logging.md lists them with their meaning. */
#define MESSAGE_ID_DAEMON_STARTED       "0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a01"
#define MESSAGE_ID_DAEMON_STOPPED       "0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a02"
#define MESSAGE_ID_STATE_CORRUPT        "0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a03"
#define MESSAGE_ID_CONFIG_RELOADED      "0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a04"
#define MESSAGE_ID_BUS_DISCONNECTED     "0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a05"
#define MESSAGE_ID_PSP_APPEARED         "0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a10"
#define MESSAGE_ID_PSP_DISAPPEARED      "0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a11"
#define MESSAGE_ID_FIRMWARE_ERROR       "0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a12"
#define MESSAGE_ID_CHECK_CHANGED        "0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a13"
#define MESSAGE_ID_PSP_NODE_STALE       "0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a14"
#define MESSAGE_ID_PSP_FIRMWARE_COMMITTED "0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a15"
#define MESSAGE_ID_PSP_SNP_CONFIG_SET   "0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a16"
#define MESSAGE_ID_ASID_POLICY_SET      "0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a20"
#define MESSAGE_ID_ASID_RELOAD_PENDING  "0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a21"
#define MESSAGE_ID_ASID_CONFLICT        "0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a22"
#define MESSAGE_ID_ASID_QUOTA           "0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a23"
#define MESSAGE_ID_FW_JOB_SCHEDULED     "0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a30"
#define MESSAGE_ID_FW_JOB_STARTED       "0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a31"
#define MESSAGE_ID_FW_JOB_SUCCEEDED     "0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a32"
#define MESSAGE_ID_FW_JOB_FAILED        "0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a33"
#define MESSAGE_ID_FW_JOB_CANCELLED     "0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a34"
#define MESSAGE_ID_FW_JOB_EXPIRED       "0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a35"
#define MESSAGE_ID_FW_JOB_INTERRUPTED   "0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a36"
#define MESSAGE_ID_FW_PACKAGE_STAGED    "0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a37"
#define MESSAGE_ID_PCI_UNSAFE           "0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a40"
#define MESSAGE_ID_PCI_AUDIT_CHANGED    "0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a41"
#define MESSAGE_ID_PCI_HOST_FINDING     "0c7e5a1f4b6d4e0f9d6b2a8c3e1f5a42"
