/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Initial verbs for the asid area; the area's work replaces this file. */

#include "ctl.h"

int verb_asid(Ctl *c, int argc, char **argv) {
        fprintf(stderr, "hwsecctl asid: not available in this build.\n");
        return EXIT_FAILED;
}
