/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Where the host's files are. /sys and /dev are always used at their real paths (tests redirect
 * them with umockdev). Everything else is looked up here, with a default and an environment
 * override; docs/paths.md lists them. Each function returns a static string. */

const char *paths_state_dir(void);        /* $STATE_DIRECTORY (first entry), /var/lib/hwsecd */
const char *paths_config_dir(void);       /* $CONFIGURATION_DIRECTORY, /etc/hwsecd */
const char *paths_runtime_dir(void);      /* $RUNTIME_DIRECTORY, /run/hwsecd */
const char *paths_modprobe_dir(void);     /* $HWSECD_MODPROBE_DIR, /etc/modprobe.d */
const char *paths_firmware_dir(void);     /* $HWSECD_FIRMWARE_DIR, /lib/firmware (packages in amd/) */
const char *paths_cgroup_root(void);      /* $HWSECD_CGROUP_ROOT, /sys/fs/cgroup */
const char *paths_proc_dir(void);         /* $HWSECD_PROC_DIR, /proc (cmdline, cpuinfo) */
const char *paths_cpuid_source(void);     /* $HWSECD_CPUID: "native" (the cpuid instruction) or a file */
const char *paths_sysfs_dir(void);        /* "/sys"; $HWSECD_SYSFS_DIR only for offline tools */
const char *paths_dev_dir(void);          /* "/dev"; $HWSECD_DEV_DIR only for offline tools */

/* Forget cached values (tests change the environment between cases). */
void paths_reset(void);
