/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The one modprobe.d file hwsecd owns (paths_modprobe_dir()/hwsecd-kvm-amd.conf), and the other
 * places that may set kvm_amd's ciphertext_hiding_asids: other *.conf files in the same
 * directory and the kernel command line (as host-facts.h read it). No sd-bus here. */

#include "macro.h"

#define ASID_MODPROBE_FILE "hwsecd-kvm-amd.conf"
#define ASID_CTH_PARAM "ciphertext_hiding_asids"

/* The exact file content for a count (comment header + one options line). */
int modprobe_render(uint32_t cth_asids, char **ret);
/* Writes it atomically into dir (mode 0644). */
int modprobe_write(const char *dir, uint32_t cth_asids);
/* Removes our file; 0 also when it did not exist. */
int modprobe_remove(const char *dir);
/* Reads our file back: 1 and *ret when it sets the parameter, 0 when absent, -EBADMSG when it
 * exists but does not say "options kvm_amd ciphertext_hiding_asids=<n>". */
int modprobe_read_ours(const char *dir, uint32_t *ret);

typedef struct AsidConflict {
        char *source;           /* "/etc/modprobe.d/x.conf:3" or "/proc/cmdline" */
        char *value;            /* the value as written */
} AsidConflict;

typedef struct AsidConflicts {
        AsidConflict *items;
        size_t n;
} AsidConflicts;

void asid_conflicts_done(AsidConflicts *c);

/* Finds ciphertext_hiding_asids for kvm_amd/kvm-amd in the text of one modprobe.d file
 * ("options <module> a=b c=d", backslash-continued lines, '#' comments). label names the file. */
int modprobe_scan_text(const char *text, const char *label, AsidConflicts *c);
/* Finds kvm_amd.ciphertext_hiding_asids= / kvm-amd.… on a kernel command line. */
int cmdline_scan_text(const char *text, const char *label, AsidConflicts *c);
/* Scans every *.conf in modprobe_dir except ours, and the command line text (NULL: unknown,
 * cmdline_label names it in the results). Unreadable files are
 * skipped (a missing directory is no conflict). */
int asid_conflicts_find(const char *modprobe_dir, const char *cmdline, const char *cmdline_label, AsidConflicts *ret);
