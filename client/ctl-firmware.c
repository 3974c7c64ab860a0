/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Initial verbs for the firmware area; the area's work replaces this file. */

#include "ctl.h"

int verb_firmware(Ctl *c, int argc, char **argv) {
        fprintf(stderr, "hwsecctl firmware: not available in this build.\n");
        return EXIT_FAILED;
}
