/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "macro.h"
#include "paths.h"

typedef enum PathId {
        PATH_STATE,
        PATH_CONFIG,
        PATH_RUNTIME,
        PATH_MODPROBE,
        PATH_FIRMWARE,
        PATH_CGROUP,
        PATH_PROC,
        PATH_CPUID,
        PATH_SYSFS,
        PATH_DEV,
        _PATH_MAX,
} PathId;

static const struct {
        const char *env;
        const char *fallback;
        bool list; /* systemd's *_DIRECTORY variables may hold a colon-separated list */
} table[_PATH_MAX] = {
        [PATH_STATE] = { "STATE_DIRECTORY", "/var/lib/hwsecd", true },
        [PATH_CONFIG] = { "CONFIGURATION_DIRECTORY", "/etc/hwsecd", true },
        [PATH_RUNTIME] = { "RUNTIME_DIRECTORY", "/run/hwsecd", true },
        [PATH_MODPROBE] = { "HWSECD_MODPROBE_DIR", "/etc/modprobe.d", false },
        [PATH_FIRMWARE] = { "HWSECD_FIRMWARE_DIR", "/lib/firmware", false },
        [PATH_CGROUP] = { "HWSECD_CGROUP_ROOT", "/sys/fs/cgroup", false },
        [PATH_PROC] = { "HWSECD_PROC_DIR", "/proc", false },
        [PATH_CPUID] = { "HWSECD_CPUID", "native", false },
        [PATH_SYSFS] = { "HWSECD_SYSFS_DIR", "/sys", false },
        [PATH_DEV] = { "HWSECD_DEV_DIR", "/dev", false },
};

static char *cache[_PATH_MAX];

static const char *lookup(PathId id) {
        const char *e;

        if (cache[id])
                return cache[id];

        e = getenv(table[id].env);
        if (isempty(e))
                e = table[id].fallback;
        cache[id] = table[id].list ? strndup(e, strcspn(e, ":")) : strdup(e);
        /* An empty or relative directory would put files in the working directory or at "/". */
        if (cache[id] && id != PATH_CPUID && cache[id][0] != '/')
                cache[id] = mfree(cache[id]);
        if (id == PATH_CPUID && cache[id] && !streq(cache[id], "native") && cache[id][0] != '/')
                cache[id] = mfree(cache[id]);
        return cache[id] ?: table[id].fallback;
}

void paths_reset(void) {
        for (size_t i = 0; i < _PATH_MAX; i++)
                cache[i] = mfree(cache[i]);
}

const char *paths_state_dir(void) { return lookup(PATH_STATE); }
const char *paths_config_dir(void) { return lookup(PATH_CONFIG); }
const char *paths_runtime_dir(void) { return lookup(PATH_RUNTIME); }
const char *paths_modprobe_dir(void) { return lookup(PATH_MODPROBE); }
const char *paths_firmware_dir(void) { return lookup(PATH_FIRMWARE); }
const char *paths_cgroup_root(void) { return lookup(PATH_CGROUP); }
const char *paths_proc_dir(void) { return lookup(PATH_PROC); }
const char *paths_cpuid_source(void) { return lookup(PATH_CPUID); }
const char *paths_sysfs_dir(void) { return lookup(PATH_SYSFS); }
const char *paths_dev_dir(void) { return lookup(PATH_DEV); }
