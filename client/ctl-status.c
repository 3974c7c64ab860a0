/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "ctl.h"

static const char *get_str(json_object *o, const char *key) {
        json_object *v;
        return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static void print_area_summary(json_object *root, const char *key, const char *title) {
        json_object *area, *summary;

        if (!json_object_object_get_ex(root, key, &area) || !json_object_is_type(area, json_type_object))
                return;
        printf("%s:\n", title);
        /* Each area puts the few facts worth a line into "summary"; print those, in order. */
        if (json_object_object_get_ex(area, "summary", &summary) && json_object_is_type(summary, json_type_object)) {
                json_object_object_foreach(summary, k, v)
                        printf("  %-28s %s\n", k, json_object_get_string(v));
        } else
                printf("  (see hwsecctl %s)\n", key);
}

static void print_checks(json_object *root) {
        json_object *checks;
        size_t n, counts[5] = {};
        static const char * const names[] = { "pass", "fail", "unknown", "skip", "not-applicable" };

        if (!json_object_object_get_ex(root, "checks", &checks) || !json_object_is_type(checks, json_type_array))
                return;
        n = json_object_array_length(checks);
        for (size_t i = 0; i < n; i++) {
                const char *res = get_str(json_object_array_get_idx(checks, i), "result");
                for (size_t j = 0; res && j < ELEMENTSOF(names); j++)
                        if (streq(res, names[j]))
                                counts[j]++;
        }
        printf("Checks:                        %zu pass, %zu fail, %zu unknown, %zu skip, %zu not applicable\n",
               counts[0], counts[1], counts[2], counts[3], counts[4]);
}

static const CtlVerb status_verb = {
        .name = "status",
        .usage = "hwsecctl status [--json]\n\n"
                 "The daemon's state and problems, and a summary of every area (the default command).\n"
                 "With --json, the whole Manager.Describe() document.\n",
        .max_args = 0,
};

int verb_status(Ctl *c, int argc, char **argv) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(json_object_putp) json_object *root = NULL;
        json_object *problems;
        const char *text;
        char **args;
        int n, r;

        r = ctl_parse_args(c, &status_verb, argc, argv, NULL, NULL, &args, &n);
        if (r <= 0)
                return -r;

        r = ctl_call(c, "/org/hwsecd1", "org.hwsecd1.Manager", "Describe", &reply, NULL);
        if (r < 0)
                return ctl_exit(r);
        r = sd_bus_message_read(reply, "s", &text);
        if (r < 0 || !(root = ctl_parse_json(text))) {
                fprintf(stderr, "hwsecctl: hwsecd sent a Describe() document that is not JSON.\n");
                return EXIT_FAILED;
        }

        if (c->json) {
                ctl_print_json(root);
                return EXIT_OK;
        }

        printf("hwsecd %s, state: %s\n", strna(get_str(root, "version")), strna(get_str(root, "state")));
        if (json_object_object_get_ex(root, "problems", &problems) && json_object_is_type(problems, json_type_array) &&
            json_object_array_length(problems) > 0) {
                printf("Problems:\n");
                for (size_t i = 0; i < json_object_array_length(problems); i++)
                        printf("  ! %s\n", json_object_get_string(json_object_array_get_idx(problems, i)));
        }
        print_checks(root);
        print_area_summary(root, "psp", "PSP");
        print_area_summary(root, "asid", "ASID pools");
        print_area_summary(root, "firmware", "Firmware (SFS)");
        print_area_summary(root, "pci", "PCIe isolation");
        return EXIT_OK;
}
