/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hwsecctl metrics: the daemon's metrics in the Prometheus text format, for scrapers that run a
 * command (the same text as the node_exporter textfile, docs/metrics.md). */

#include <stdio.h>
#include <string.h>

#include "ctl.h"

static const CtlVerb metrics_verb = {
        .name = "metrics",
        .usage = "hwsecctl metrics\n\n"
                 "The daemon's metrics in the Prometheus text exposition format (the text of the\n"
                 "node_exporter textfile hwsecd.prom), rendered now. See docs/metrics.md.\n",
        .max_args = 0,
};

int verb_metrics(Ctl *c, int argc, char **argv) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(json_object_putp) json_object *root = NULL;
        json_object *metrics, *text;
        const char *doc;
        char **args;
        int n, r;

        r = ctl_parse_args(c, &metrics_verb, argc, argv, NULL, NULL, &args, &n);
        if (r <= 0)
                return -r;
        r = ctl_call(c, "/org/hwsecd1", "org.hwsecd1.Manager", "Describe", &reply, NULL);
        if (r < 0)
                return ctl_exit(r);
        r = sd_bus_message_read(reply, "s", &doc);
        if (r < 0 || !(root = ctl_parse_json(doc))) {
                fprintf(stderr, "hwsecctl: hwsecd sent a Describe() document that is not JSON.\n");
                return EXIT_FAILED;
        }
        if (!json_object_object_get_ex(root, "metrics", &metrics) ||
            !json_object_object_get_ex(metrics, "exposition", &text) || !json_object_is_type(text, json_type_string)) {
                fprintf(stderr, "hwsecctl: this hwsecd does not export metrics (it is older than hwsecctl).\n");
                return EXIT_FAILED;
        }
        if (c->json) {
                ctl_print_json(metrics);
                return EXIT_OK;
        }
        fputs(json_object_get_string(text), stdout);
        return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILED;
}
