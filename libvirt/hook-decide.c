/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdarg.h>

#include "conf.h"
#include "fileio.h"
#include "hook-decide.h"
#include "paths.h"

#define CONFIG_FILE_NAME "hwsecd.conf"

static char *guest_name;

void hook_set_guest(const char *name) {
        free(guest_name);
        guest_name = sanitize_line(name);
}

/* Every line starts with "hwsecd: guest 'NAME': ": libvirt keeps stderr in its log and shows it
 * in the error of a refused start. */
void say(const char *what, const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "hwsecd: guest '%s': %s: ", guest_name ?: "?", what);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

void say_all(const char *what, char **lines) {
        STRV_FOREACH(s, lines)
                say(what, "%s", *s);
}

void hook_config_done(HookConfig *c) {
        c->path = mfree(c->path);
}

int hook_config_load(HookConfig *c) {
        _cleanup_(conf_freep) Conf *conf = NULL;
        _cleanup_free_ char *error = NULL;
        const char *v;
        uint32_t t;
        int r;

        *c = (HookConfig) { .unreachable = UNREACHABLE_ALLOW, .timeout_sec = HOOK_TIMEOUT_DEFAULT_SEC };
        c->path = path_join(paths_config_dir(), CONFIG_FILE_NAME);
        if (!c->path)
                return -ENOMEM;
        r = conf_load(c->path, &conf, &error);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                say("warning", "%s is not usable (%s); using the defaults: [libvirt] unreachable=allow, timeout=%u.",
                    c->path, error ?: strerror(-r), HOOK_TIMEOUT_DEFAULT_SEC);
                return 0;
        }
        v = conf_get(conf, "libvirt", "unreachable");
        if (v && streq(v, "deny"))
                c->unreachable = UNREACHABLE_DENY;
        else if (v && !streq(v, "allow"))
                say("warning", "%s: [libvirt] unreachable=%.64s is neither allow nor deny; using allow.", c->path, v);
        v = conf_get(conf, "libvirt", "timeout");
        if (v) {
                if (safe_atou32(v, 10, &t) < 0 || t < 1 || t > HOOK_TIMEOUT_MAX_SEC)
                        say("warning", "%s: [libvirt] timeout=%.64s is not a number of seconds from 1 to %u; using %u.",
                            c->path, v, HOOK_TIMEOUT_MAX_SEC, HOOK_TIMEOUT_DEFAULT_SEC);
                else
                        c->timeout_sec = t;
        }
        return 0;
}

int decide(const HookConfig *c, Judgement *j) {
        say_all("warning", j->warnings);
        say_all("checked", j->allowed);
        if (!strv_isempty(j->refusals)) {
                say_all("refused", j->refusals);
                return 1;
        }
        if (!strv_isempty(j->unjudged)) {
                say_all("not checked", j->unjudged);
                if (c->unreachable == UNREACHABLE_DENY) {
                        say("refused", "hwsecd could not check this guest, and %s says [libvirt] unreachable=deny. "
                            "Start hwsecd (systemctl start hwsecd) or set unreachable=allow.", c->path);
                        return 1;
                }
                say("allowed", "hwsecd could not check this guest; starting it anyway because [libvirt] "
                    "unreachable=allow (%s).", c->path);
                return 0;
        }
        say("allowed", "%s", strv_isempty(j->allowed) ? "nothing hwsecd judges (no host PCI device, no SEV)"
                                                       : "every check passed");
        return 0;
}

