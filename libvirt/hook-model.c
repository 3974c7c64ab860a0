/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The Domain model without libxml2, so that hwsecd-libvirt-query does not load it. */

#include "hook-domain.h"

static const char *const launch_security_names[_LAUNCH_SECURITY_MAX] = {
        [LAUNCH_SECURITY_NONE] = "none",
        [LAUNCH_SECURITY_SEV] = "sev",
        [LAUNCH_SECURITY_SEV_ES] = "sev-es",
        [LAUNCH_SECURITY_SEV_SNP] = "sev-snp",
        [LAUNCH_SECURITY_OTHER] = "other",
};

const char *launch_security_to_string(LaunchSecurity l) {
        return l >= 0 && l < _LAUNCH_SECURITY_MAX ? launch_security_names[l] : NULL;
}

Domain *domain_free(Domain *d) {
        if (!d)
                return NULL;
        free(d->name);
        strv_free(d->hostdevs);
        strv_free(d->warnings);
        free(d);
        return NULL;
}

static const LaunchSecurity pool_order[] = { LAUNCH_SECURITY_SEV, LAUNCH_SECURITY_SEV_ES, LAUNCH_SECURITY_SEV_SNP };

LaunchSecurity launch_security_from_string(const char *s) {
        for (size_t i = 0; s && i < ELEMENTSOF(pool_order); i++)
                if (streq(s, launch_security_names[pool_order[i]]))
                        return pool_order[i];
        return s && streq(s, "none") ? LAUNCH_SECURITY_NONE : _LAUNCH_SECURITY_INVALID;
}

bool domain_needs_daemon(const Domain *d) {
        return !strv_isempty(d->hostdevs) || d->launch_security == LAUNCH_SECURITY_SEV ||
               d->launch_security == LAUNCH_SECURITY_SEV_ES || d->launch_security == LAUNCH_SECURITY_SEV_SNP;
}
