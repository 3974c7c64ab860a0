/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <limits.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>

#include "log.h"

static int max_level = LOG_INFO;
static LogTarget target = LOG_TARGET_AUTO;
static char *syslog_identifier = NULL;
static int journal_stream = -1; /* -1 not checked yet, 0 no, 1 yes */

static const char * const level_names[] = {
        [LOG_EMERG] = "emerg",  [LOG_ALERT] = "alert",   [LOG_CRIT] = "crit",
        [LOG_ERR] = "err",      [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
        [LOG_INFO] = "info",    [LOG_DEBUG] = "debug",
};

static const char * const target_names[_LOG_TARGET_MAX] = {
        [LOG_TARGET_AUTO] = "auto",
        [LOG_TARGET_CONSOLE] = "console",
        [LOG_TARGET_JOURNAL] = "journal",
        [LOG_TARGET_NULL] = "null",
};

void log_set_max_level(int level) {
        if (level >= LOG_EMERG && level <= LOG_DEBUG)
                max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

int log_level_from_string(const char *s) {
        if (isempty(s))
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
                if (streq(s, level_names[i]))
                        return (int) i;
        if (streq(s, "error"))
                return LOG_ERR;
        if (s[0] >= '0' && s[0] <= '7' && s[1] == '\0')
                return s[0] - '0';
        return -EINVAL;
}

const char *log_level_to_string(int level) {
        if (level < 0 || (size_t) level >= ELEMENTSOF(level_names))
                return NULL;
        return level_names[level];
}

void log_set_target(LogTarget t) {
        if (t >= 0 && t < _LOG_TARGET_MAX)
                target = t;
}

LogTarget log_get_target(void) {
        return target;
}

LogTarget log_target_from_string(const char *s) {
        if (!s)
                return _LOG_TARGET_INVALID;
        for (size_t i = 0; i < ELEMENTSOF(target_names); i++)
                if (streq(s, target_names[i]))
                        return (LogTarget) i;
        return _LOG_TARGET_INVALID;
}

const char *log_target_to_string(LogTarget t) {
        if (t < 0 || t >= _LOG_TARGET_MAX)
                return NULL;
        return target_names[t];
}

int log_set_syslog_identifier(const char *id) {
        return free_and_strdup(&syslog_identifier, id);
}

const char *log_get_syslog_identifier(void) {
        return syslog_identifier ?: program_invocation_short_name;
}

static bool stderr_is_journal(void) {
        if (journal_stream < 0) {
                const char *e = getenv("JOURNAL_STREAM");
                unsigned long long dev, ino;
                struct stat st;

                journal_stream = 0;
                if (e && sscanf(e, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) >= 0 &&
                    (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino)
                        journal_stream = 1;
        }
        return journal_stream > 0;
}

static LogTarget effective_target(void) {
        if (target == LOG_TARGET_AUTO)
                return stderr_is_journal() ? LOG_TARGET_JOURNAL : LOG_TARGET_CONSOLE;
        return target;
}

static void write_console(int level, const char *message_id, const char *msg) {
        int saved = errno;

        /* One write per line, so concurrent writers (worker threads) do not interleave. */
        if (message_id)
                fprintf(stderr, "<%d>%s MESSAGE_ID=%s\n", level, msg, message_id);
        else
                fprintf(stderr, "<%d>%s\n", level, msg);
        fflush(stderr);
        errno = saved;
}

static void write_journal(int level, int error, const char *message_id, const char *file, int line,
                          const char *func, const char *msg) {
        /* sd_journal_sendv() takes iovecs; build them from the fixed fields plus the caller's
         * extra "KEY=value" strings. */
        char prio[32], code_line[32], errno_field[32];
        _cleanup_free_ char *code_file = NULL, *code_func = NULL, *message = NULL, *mid = NULL,
                            *ident = NULL;
        struct iovec iov[8];
        size_t n = 0;

        snprintf(prio, sizeof prio, "PRIORITY=%d", level);
        snprintf(code_line, sizeof code_line, "CODE_LINE=%d", line);
        if (asprintf(&code_file, "CODE_FILE=%s", file) < 0 || asprintf(&code_func, "CODE_FUNC=%s", func) < 0 ||
            asprintf(&message, "MESSAGE=%s", msg) < 0 ||
            asprintf(&ident, "SYSLOG_IDENTIFIER=%s", log_get_syslog_identifier()) < 0)
                return write_console(level, message_id, msg);

#define ADD(s) iov[n++] = (struct iovec) { .iov_base = (char *) (s), .iov_len = strlen(s) }
        ADD(prio);
        ADD(message);
        ADD(code_file);
        ADD(code_line);
        ADD(code_func);
        ADD(ident);
        if (message_id) {
                if (asprintf(&mid, "MESSAGE_ID=%s", message_id) < 0)
                        return write_console(level, message_id, msg);
                ADD(mid);
        }
        if (error != 0) {
                snprintf(errno_field, sizeof errno_field, "ERRNO=%d", abs(error));
                ADD(errno_field);
        }
#undef ADD

        if (sd_journal_sendv(iov, (int) n) < 0)
                write_console(level, message_id, msg);
}

_printf_(7, 0) static int log_dispatch(int level, int error, const char *message_id, const char *file, int line,
                        const char *func, const char *format, va_list ap) {
        char buf[LINE_MAX * 2];
        LogTarget t;
        int saved = errno;

        if (error != 0)
                errno = abs(error); /* so %m works */
        vsnprintf(buf, sizeof buf, format, ap);
        errno = saved;

        /* Keep every record on one line: newlines inside a message would make journald split it. */
        for (char *p = buf; *p; p++)
                if (*p == '\n' || *p == '\r')
                        *p = ' ';

        t = effective_target();
        if (t == LOG_TARGET_CONSOLE)
                write_console(level, message_id, buf);
        else if (t == LOG_TARGET_JOURNAL)
                write_journal(level, error, message_id, file, line, func, buf);

        return -abs(error);
}

int log_internal(int level, int error, const char *file, int line, const char *func, const char *format, ...) {
        va_list ap;
        int r;

        if (level > max_level)
                return -abs(error);
        va_start(ap, format);
        r = log_dispatch(level, error, NULL, file, line, func, format, ap);
        va_end(ap);
        return r;
}

int log_struct_internal(int level, int error, const char *message_id, const char *file, int line,
                        const char *func, const char *format, ...) {
        va_list ap;
        int r;

        if (level > max_level)
                return -abs(error);

        va_start(ap, format);
        r = log_dispatch(level, error, message_id, file, line, func, format, ap);
        va_end(ap);
        return r;
}
