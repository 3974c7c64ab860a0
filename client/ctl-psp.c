/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Initial verbs for the psp area; the area's work replaces this file. */

#include "ctl.h"

int verb_psp(Ctl *c, int argc, char **argv) {
        fprintf(stderr, "hwsecctl psp: not available in this build.\n");
        return EXIT_FAILED;
}

int verb_check(Ctl *c, int argc, char **argv) {
        fprintf(stderr, "hwsecctl check: not available in this build.\n");
        return EXIT_FAILED;
}
