/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hwsecctl psp: the org.hwsecd1.Psp properties.
 * hwsecctl check [--history]: the readiness checks as a tree (like snphost ok), or JSON with
 * tests, failures, skipped and summary; exit 1 when any check fails. */

#include <time.h>

#include "ctl.h"

#define PSP_PATH "/org/hwsecd1/psp"
#define PSP_IFACE "org.hwsecd1.Psp"


static json_object *get(json_object *o, const char *key) {
        json_object *v;
        return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *get_str(json_object *o, const char *key) {
        json_object *v = get(o, key);
        return v ? json_object_get_string(v) : "";
}

static bool get_bool(json_object *o, const char *key) {
        json_object *v = get(o, key);
        return v && json_object_get_boolean(v);
}

static int64_t get_int(json_object *o, const char *key) {
        json_object *v = get(o, key);
        return v ? json_object_get_int64(v) : 0;
}

static void print_tcb(const char *label, json_object *parts, json_object *props, const char *raw_key) {
        printf("  %-26s 0x%016llx", label, (unsigned long long) json_object_get_uint64(get(props, raw_key)));
        if (parts && json_object_object_length(parts) > 0) {
                printf(" (");
                if (get(parts, "fmc"))
                        printf("FMC=%" PRIi64 " ", get_int(parts, "fmc"));
                printf("BL=%" PRIi64 " TEE=%" PRIi64 " SNP=%" PRIi64 " uCode=%" PRIi64 ")",
                       get_int(parts, "boot_loader"), get_int(parts, "tee"), get_int(parts, "snp"),
                       get_int(parts, "microcode"));
        }
        printf("\n");
}

static void print_psp(json_object *p) {
        json_object *attrs = get(p, "Attributes");

        printf("PSP:\n");
        printf("  %-26s %s\n", "Present", yes_no(get_bool(p, "Present")));
        if (get_bool(p, "Present")) {
                printf("  %-26s %s\n", "PCI address", get_str(p, "PciAddress"));
                printf("  %-26s 0x%04" PRIx64 "\n", "PCI device id", get_int(p, "PciDeviceId"));
                printf("  %-26s %s\n", "Driver", isempty(get_str(p, "Driver")) ? "(none)" : get_str(p, "Driver"));
                if (attrs && json_object_object_length(attrs) > 0) {
                        printf("  Attributes:\n");
                        json_object_object_foreach(attrs, k, v)
                                printf("    %-24s %s\n", k, json_object_is_type(v, json_type_boolean) ?
                                       yes_no(json_object_get_boolean(v)) : json_object_get_string(v));
                }
        }
        printf("  %-26s %s\n", "/dev/sev", get_bool(p, "SevDevice") ? "present" : "absent");
        printf("  %-26s %s\n", "/dev/sfs", get_bool(p, "SfsDevice") ? "present" : "absent");
        printf("  %-26s family 0x%" PRIx64 " model 0x%" PRIx64 " (TCB layout %s)\n", "CPU",
               get_int(p, "CpuFamily"), get_int(p, "CpuModel"), get_str(p, "TcbLayout"));

        printf("SEV:\n");
        if (get_bool(p, "SevStatusValid")) {
                printf("  %-26s %s (build %" PRIi64 ")\n", "API version", get_str(p, "ApiVersion"), get_int(p, "Build"));
                printf("  %-26s %s\n", "State", get_str(p, "SevState"));
                printf("  %-26s 0x%" PRIx64 " (owner %s, SEV-ES %s)\n", "Flags", get_int(p, "SevFlags"),
                       yes_no(get_bool(p, "SevOwner")), yes_no(get_bool(p, "SevConfigEs")));
                printf("  %-26s %" PRIi64 "\n", "Guests", get_int(p, "SevGuestCount"));
        } else
                printf("  %-26s %s\n", "Status", isempty(get_str(p, "SevStatusError")) ? "not read" : get_str(p, "SevStatusError"));

        printf("SNP:\n");
        if (get_bool(p, "SnpStatusValid")) {
                printf("  %-26s %s (build %" PRIi64 ")\n", "API version", get_str(p, "SnpApiVersion"), get_int(p, "SnpBuild"));
                printf("  %-26s %s\n", "State", get_str(p, "SnpState"));
                printf("  %-26s %s\n", "RMP initialised", yes_no(get_bool(p, "RmpInitialized")));
                printf("  %-26s %" PRIi64 "\n", "Guests", get_int(p, "SnpGuestCount"));
                printf("  %-26s chip id %s, chip key %s\n", "Masked", yes_no(get_bool(p, "MaskChipId")),
                       yes_no(get_bool(p, "MaskChipKey")));
                printf("  %-26s %s\n", "VLEK loaded", yes_no(get_bool(p, "VlekLoaded")));
                printf("  %-26s %s\n", "SNP_FEATURE_INFO", yes_no(get_bool(p, "FeatureInfo")));
                printf("  %-26s %s\n", "RAPL disabled", yes_no(get_bool(p, "RaplDisabled")));
                printf("  %-26s capable %s, enabled %s\n", "Ciphertext hiding",
                       yes_no(get_bool(p, "CiphertextHidingCapable")), yes_no(get_bool(p, "CiphertextHidingEnabled")));
                print_tcb("Current TCB", get(p, "CurrentTcbParts"), p, "CurrentTcb");
                print_tcb("Reported TCB", get(p, "ReportedTcbParts"), p, "ReportedTcb");
                printf("  %-26s %s\n", "TCB committed", yes_no(get_bool(p, "TcbCommitted")));
        } else
                printf("  %-26s %s\n", "Status", isempty(get_str(p, "SnpStatusError")) ? "not read" : get_str(p, "SnpStatusError"));

        if (!isempty(get_str(p, "LastError")))
                printf("Last error: %s: %s\n", get_str(p, "LastError"), get_str(p, "LastErrorMessage"));
}

static int read_psp(Ctl *c, json_object **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(json_object_putp) json_object *props = NULL;
        int r;

        r = ctl_call(c, PSP_PATH, "org.freedesktop.DBus.Properties", "GetAll", &reply, "s", PSP_IFACE);
        if (r < 0)
                return r;
        r = ctl_message_to_json(reply, &props);
        if (r < 0 || !props || !json_object_is_type(props, json_type_object)) {
                fprintf(stderr, "hwsecctl: hwsecd sent PSP properties that could not be read.\n");
                return -EXIT_FAILED;
        }
        *ret = TAKE_PTR(props);
        return 0;
}

static int verb_psp_show(Ctl *c, int argc, char **argv) {
        _cleanup_(json_object_putp) json_object *props = NULL;
        int r;

        r = read_psp(c, &props);
        if (r < 0)
                return ctl_exit(r);
        if (c->json)
                ctl_print_json(props);
        else
                print_psp(props);
        return EXIT_OK;
}

static const CtlVerb id_verb = {
        .name = "psp id",
        .usage = "hwsecctl psp id [--json]\n\n"
                 "The chip identifier (SEV_GET_ID2) in upper-case hex. When the SNP configuration\n"
                 "masks the chip id, the firmware answers zeros and this says so.\n",
        .max_args = 0,
};

static int verb_id(Ctl *c, int argc, char **argv) {
        _cleanup_(json_object_putp) json_object *props = NULL, *out = NULL;
        const char *id;
        char **args;
        int n, r;

        r = ctl_parse_args(c, &id_verb, argc, argv, NULL, NULL, &args, &n);
        if (r <= 0)
                return -r;
        r = read_psp(c, &props);
        if (r < 0)
                return ctl_exit(r);
        id = get_str(props, "ChipId");
        if (c->json) {
                out = json_object_new_object();
                if (!out)
                        return EXIT_FAILED;
                json_object_object_add(out, "chip_id", json_object_new_string(id));
                json_object_object_add(out, "mask_chip_id", json_object_new_boolean(get_bool(props, "MaskChipId")));
                ctl_print_json(out);
        } else if (!isempty(id))
                printf("%s%s\n", id, get_bool(props, "MaskChipId") ? " (masked by the SNP configuration)" : "");
        if (isempty(id)) {
                if (!c->json)
                        fprintf(stderr, "hwsecctl: the chip id could not be read; 'hwsecctl status --json' shows why (psp.chip_id_error).\n");
                return EXIT_FAILED;
        }
        return EXIT_OK;
}

static const CtlVerb vcek_url_verb = {
        .name = "psp vcek-url",
        .usage = "hwsecctl psp vcek-url [--json]\n\n"
                 "The AMD KDS URL of this chip's VCEK certificate for the reported TCB. hwsecd never\n"
                 "fetches it. When the chip id is masked there is no URL and this says why.\n",
        .max_args = 0,
};

static int verb_vcek_url(Ctl *c, int argc, char **argv) {
        _cleanup_(json_object_putp) json_object *props = NULL, *out = NULL;
        const char *url, *err;
        char **args;
        int n, r;

        r = ctl_parse_args(c, &vcek_url_verb, argc, argv, NULL, NULL, &args, &n);
        if (r <= 0)
                return -r;
        r = read_psp(c, &props);
        if (r < 0)
                return ctl_exit(r);
        url = get_str(props, "VcekUrl");
        err = get_str(props, "VcekUrlError");
        if (c->json) {
                out = json_object_new_object();
                if (!out)
                        return EXIT_FAILED;
                json_object_object_add(out, "vcek_url", json_object_new_string(url));
                json_object_object_add(out, "vcek_url_error", json_object_new_string(err));
                json_object_object_add(out, "chip_id", json_object_new_string(get_str(props, "ChipId")));
                ctl_print_json(out);
        } else if (!isempty(url))
                printf("%s\n", url);
        else if (streq(err, "CHIP_ID_MASKED"))
                fprintf(stderr, "No VCEK URL: the SNP configuration masks the chip id (CHIP_ID_MASKED). "
                        "Clear it with 'hwsecctl psp set-config --mask-chip-id=no', or use the id from an unmasked boot.\n");
        else
                fprintf(stderr, "No VCEK URL (%s); 'hwsecctl status --json' shows why (psp.vcek_url_error).\n", err);
        return isempty(url) ? EXIT_FAILED : EXIT_OK;
}

/* After a change: what the firmware reports now (the daemon re-read it before replying). */
static int print_config(Ctl *c, bool committed) {
        _cleanup_(json_object_putp) json_object *props = NULL, *out = NULL;
        char cur[24], rep[24];
        int r;

        r = read_psp(c, &props);
        if (r < 0)
                return ctl_exit(r);
        snprintf(cur, sizeof cur, "0x%016llx", (unsigned long long) json_object_get_uint64(get(props, "CurrentTcb")));
        snprintf(rep, sizeof rep, "0x%016llx", (unsigned long long) json_object_get_uint64(get(props, "ReportedTcb")));
        if (c->json) {
                out = json_object_new_object();
                if (!out)
                        return EXIT_FAILED;
                if (committed)
                        json_object_object_add(out, "committed", json_object_new_boolean(true));
                json_object_object_add(out, "current_tcb", json_object_new_string(cur));
                json_object_object_add(out, "reported_tcb", json_object_new_string(rep));
                json_object_object_add(out, "mask_chip_id", json_object_new_boolean(get_bool(props, "MaskChipId")));
                json_object_object_add(out, "mask_chip_key", json_object_new_boolean(get_bool(props, "MaskChipKey")));
                ctl_print_json(out);
                return EXIT_OK;
        }
        if (committed)
                printf("Firmware committed: older firmware can no longer be loaded.\n");
        print_tcb("Current TCB", get(props, "CurrentTcbParts"), props, "CurrentTcb");
        print_tcb("Reported TCB", get(props, "ReportedTcbParts"), props, "ReportedTcb");
        printf("  %-26s %s\n", "Mask chip id", yes_no(get_bool(props, "MaskChipId")));
        printf("  %-26s %s\n", "Mask chip key", yes_no(get_bool(props, "MaskChipKey")));
        return EXIT_OK;
}

static const CtlVerb commit_verb = {
        .name = "psp commit",
        .usage = "hwsecctl psp commit [--json] [--no-ask-password]\n\n"
                 "Commits the running SEV firmware (SNP_COMMIT): the committed and the reported TCB\n"
                 "become the current one. This prevents rollback to older firmware and cannot be undone.\n"
                 "Needs SNP initialised and the polkit action org.hwsecd1.commit-firmware.\n",
        .max_args = 0,
};

static int verb_commit(Ctl *c, int argc, char **argv) {
        char **args;
        int n, r;

        r = ctl_parse_args(c, &commit_verb, argc, argv, NULL, NULL, &args, &n);
        if (r <= 0)
                return -r;
        r = ctl_call(c, PSP_PATH, PSP_IFACE, "CommitFirmware", NULL, "");
        if (r < 0)
                return ctl_exit(r);
        return print_config(c, true);
}

enum {
        ARG_REPORTED_TCB = ARG_VERB_FIRST + 0x40,
        ARG_MASK_CHIP_ID,
        ARG_MASK_CHIP_KEY,
};

static const struct option set_config_options[] = {
        { "reported-tcb", required_argument, NULL, ARG_REPORTED_TCB },
        { "mask-chip-id", required_argument, NULL, ARG_MASK_CHIP_ID },
        { "mask-chip-key", required_argument, NULL, ARG_MASK_CHIP_KEY },
        {}
};

static const CtlVerb set_config_verb = {
        .name = "psp set-config",
        .usage = "hwsecctl psp set-config [--reported-tcb current|VALUE] [--mask-chip-id=yes|no]\n"
                 "                        [--mask-chip-key=yes|no] [--json] [--no-ask-password]\n\n"
                 "Sets the SNP configuration (SNP_SET_CONFIG): the TCB that guests' attestation\n"
                 "reports show (\"current\", a 64-bit value, or parts like bl=4,tee=3,snp=24,ucode=219;\n"
                 "never above the current TCB) and whether reports hide the chip id or are not signed\n"
                 "with the chip key. Unnamed settings keep their values. Shows the result.\n",
        .options = set_config_options,
        .max_args = 0,
};

typedef struct SetConfigArgs {
        const char *reported_tcb;
        int mask_chip_id, mask_chip_key;
} SetConfigArgs;

static int set_config_option(Ctl *c, const CtlVerb *v, int opt, const char *arg, void *userdata) {
        SetConfigArgs *a = userdata;
        int *mask;

        switch (opt) {
        case ARG_REPORTED_TCB:
                a->reported_tcb = arg;
                return 0;
        case ARG_MASK_CHIP_ID:
        case ARG_MASK_CHIP_KEY:
                mask = opt == ARG_MASK_CHIP_ID ? &a->mask_chip_id : &a->mask_chip_key;
                if (streq(arg, "yes"))
                        *mask = 1;
                else if (streq(arg, "no"))
                        *mask = 0;
                else
                        return ctl_verb_usage_error(v, "--%s wants yes or no, not '%s'.",
                                                    opt == ARG_MASK_CHIP_ID ? "mask-chip-id" : "mask-chip-key", arg);
                return 0;
        }
        return EXIT_FAILED;
}

static int append_config(sd_bus_message *m, const SetConfigArgs *a) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && a->reported_tcb)
                r = sd_bus_message_append(m, "{sv}", "reported_tcb", "s", a->reported_tcb);
        if (r >= 0 && a->mask_chip_id >= 0)
                r = sd_bus_message_append(m, "{sv}", "mask_chip_id", "b", a->mask_chip_id);
        if (r >= 0 && a->mask_chip_key >= 0)
                r = sd_bus_message_append(m, "{sv}", "mask_chip_key", "b", a->mask_chip_key);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

static int verb_set_config(Ctl *c, int argc, char **argv) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *msg = NULL;
        SetConfigArgs a = { .mask_chip_id = -1, .mask_chip_key = -1 };
        char **args;
        int n, r;

        r = ctl_parse_args(c, &set_config_verb, argc, argv, set_config_option, &a, &args, &n);
        if (r <= 0)
                return -r;
        if (!a.reported_tcb && a.mask_chip_id < 0 && a.mask_chip_key < 0)
                return ctl_verb_usage_error(&set_config_verb, "nothing to set: give --reported-tcb, --mask-chip-id or --mask-chip-key.");
        r = ctl_new_method_call(c, PSP_PATH, PSP_IFACE, "SetSnpConfig", &msg);
        if (r < 0)
                return ctl_exit(r);
        r = append_config(msg, &a);
        if (r < 0) {
                fprintf(stderr, "hwsecctl: could not build the request: %s\n", strerror(-r));
                return EXIT_FAILED;
        }
        r = ctl_call_message(c, msg, NULL);
        if (r < 0)
                return ctl_exit(r);
        return print_config(c, false);
}

static const CtlVerb psp_verb = {
        .name = "psp",
        .usage = "hwsecctl psp [--json]\n"
                 "hwsecctl psp id|vcek-url [--json]\n"
                 "hwsecctl psp commit [--json]\n"
                 "hwsecctl psp set-config [--reported-tcb X] [--mask-chip-id=yes|no] [--mask-chip-key=yes|no] [--json]\n\n"
                 "PSP presence, SEV and SNP platform status, API version, build, TCB and the\n"
                 "ciphertext-hiding bits. With --json, GetAll(org.hwsecd1.Psp).\n"
                 "  id          the chip identifier (hex)\n"
                 "  vcek-url    the AMD KDS URL of the VCEK for the reported TCB\n"
                 "  commit      commit the running firmware (no rollback afterwards)\n"
                 "  set-config  reported TCB and chip id / chip key masks\n"
                 "'hwsecctl psp COMMAND --help' shows the options of a command.\n",
        .max_args = -1,
        .stop_at_verb = true,
};

int verb_psp(Ctl *c, int argc, char **argv) {
        static const CtlSubVerb table[] = {
                { "id", verb_id },
                { "vcek-url", verb_vcek_url },
                { "commit", verb_commit },
                { "set-config", verb_set_config },
                {}
        };
        char **args;
        int n, r;

        r = ctl_parse_args(c, &psp_verb, argc, argv, NULL, NULL, &args, &n);
        if (r <= 0)
                return -r;
        if (n == 0)
                return verb_psp_show(c, 0, NULL);
        return ctl_dispatch(c, &psp_verb, table, n, args);
}

/* GetChecks() -> [{"id", "category", "result", "title", "detail", "hint", "evidence", "remediation"}] */
static int read_checks(sd_bus_message *reply, json_object **ret) {
        _cleanup_(json_object_putp) json_object *raw = NULL, *out = NULL;
        static const char * const keys[] = { "id", "category", "result", "title", "detail", "hint",
                                             "evidence", "remediation" };
        int r;

        r = ctl_message_to_json(reply, &raw);
        if (r < 0 || !raw || !json_object_is_type(raw, json_type_array))
                return -EBADMSG;
        out = json_object_new_array();
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(raw); i++) {
                json_object *t = json_object_array_get_idx(raw, i), *o;

                if (!json_object_is_type(t, json_type_array) || json_object_array_length(t) != ELEMENTSOF(keys))
                        return -EBADMSG;
                o = json_object_new_object();
                if (!o)
                        return -ENOMEM;
                for (size_t k = 0; k < ELEMENTSOF(keys); k++)
                        json_object_object_add(o, keys[k], json_object_get(json_object_array_get_idx(t, k)));
                json_object_array_add(out, o);
        }
        *ret = TAKE_PTR(out);
        return 0;
}

static const char *label(const char *result) {
        if (streq(result, "pass"))
                return "PASS";
        if (streq(result, "fail"))
                return "FAIL";
        if (streq(result, "skip"))
                return "SKIP";
        if (streq(result, "not-applicable"))
                return " N/A";
        return "UNKN";
}

static bool streq_ptr_ctl(const char *a, const char *b) {
        return a && b && streq(a, b);
}

static void print_tree(json_object *checks) {
        size_t n = json_object_array_length(checks);
        const char *shown[32];
        size_t n_shown = 0;

        /* categories in registry order, each with its checks */
        for (size_t i = 0; i < n; i++) {
                const char *cat = get_str(json_object_array_get_idx(checks, i), "category");
                bool seen = false;
                size_t members = 0, last = 0, n_fail = 0, n_unknown = 0, n_pass = 0, n_skip = 0;
                const char *worst;

                for (size_t j = 0; j < n_shown; j++)
                        seen = seen || streq(shown[j], cat);
                if (seen || n_shown >= ELEMENTSOF(shown))
                        continue;
                shown[n_shown++] = cat;

                for (size_t j = 0; j < n; j++) {
                        json_object *c = json_object_array_get_idx(checks, j);
                        const char *res = get_str(c, "result");

                        if (!streq(get_str(c, "category"), cat))
                                continue;
                        members++;
                        last = j;
                        n_fail += streq_ptr_ctl(res, "fail");
                        n_unknown += streq_ptr_ctl(res, "unknown");
                        n_pass += streq_ptr_ctl(res, "pass");
                        n_skip += streq_ptr_ctl(res, "skip");
                }
                /* fail > unknown > pass; skip or not-applicable only when nothing else is there */
                worst = n_fail ? "fail" : n_unknown ? "unknown" : n_pass ? "pass" : n_skip ? "skip" : "not-applicable";
                printf("[ %s ] %s\n", label(worst), cat);
                for (size_t j = 0; j < n && members > 0; j++) {
                        json_object *c = json_object_array_get_idx(checks, j);
                        const char *res = get_str(c, "result");
                        bool end = j == last;

                        if (!streq(get_str(c, "category"), cat))
                                continue;
                        printf("  %s [ %s ] %s (%s)\n", end ? "└─" : "├─", label(res), get_str(c, "title"), get_str(c, "id"));
                        printf("  %s          %s\n", end ? "  " : "│ ", get_str(c, "detail"));
                        if (streq(res, "fail") && !isempty(get_str(c, "hint")))
                                printf("  %s          fix: %s\n", end ? "  " : "│ ", get_str(c, "hint"));
                }
        }
}

static json_object *check_json_report(json_object *checks, int *ret_failed) {
        json_object *o = json_object_new_object(), *failures = json_object_new_array(),
                    *skipped = json_object_new_array(), *summary = json_object_new_object();
        int64_t passed = 0, failed = 0, skip = 0, unknown = 0, na = 0;

        if (!o || !failures || !skipped || !summary) {
                json_object_put(o);
                json_object_put(failures);
                json_object_put(skipped);
                json_object_put(summary);
                return NULL;
        }
        for (size_t i = 0; i < json_object_array_length(checks); i++) {
                json_object *c = json_object_array_get_idx(checks, i), *e;
                const char *res = get_str(c, "result");

                if (streq(res, "pass"))
                        passed++;
                else if (streq(res, "fail")) {
                        failed++;
                        e = json_object_new_object();
                        json_object_object_add(e, "name", json_object_new_string(get_str(c, "id")));
                        json_object_object_add(e, "detail", json_object_new_string(get_str(c, "detail")));
                        json_object_object_add(e, "hint", json_object_new_string(get_str(c, "hint")));
                        json_object_object_add(e, "remediation", json_object_get(get(c, "remediation")));
                        json_object_array_add(failures, e);
                } else if (streq(res, "skip") || streq(res, "not-applicable")) {
                        if (streq(res, "skip"))
                                skip++;
                        else
                                na++;
                        e = json_object_new_object();
                        json_object_object_add(e, "name", json_object_new_string(get_str(c, "id")));
                        json_object_object_add(e, "result", json_object_new_string(res));
                        json_object_object_add(e, "reason", json_object_new_string(get_str(c, "detail")));
                        json_object_array_add(skipped, e);
                } else
                        unknown++;
        }
        json_object_object_add(summary, "total", json_object_new_int64((int64_t) json_object_array_length(checks)));
        json_object_object_add(summary, "passed", json_object_new_int64(passed));
        json_object_object_add(summary, "failed", json_object_new_int64(failed));
        json_object_object_add(summary, "skipped", json_object_new_int64(skip));
        json_object_object_add(summary, "not_applicable", json_object_new_int64(na));
        json_object_object_add(summary, "unknown", json_object_new_int64(unknown));

        json_object_object_add(o, "tests", json_object_get(checks));
        json_object_object_add(o, "failures", failures);
        json_object_object_add(o, "skipped", skipped);
        json_object_object_add(o, "summary", summary);
        *ret_failed = (int) failed;
        return o;
}

static int show_history(Ctl *c) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(json_object_putp) json_object *out = NULL;
        unsigned shown = 0;
        int r;

        r = ctl_call(c, PSP_PATH, PSP_IFACE, "GetCheckHistory", &reply, NULL);
        if (r < 0)
                return ctl_exit(r);
        out = json_object_new_array();
        if (!out)
                return EXIT_FAILED;
        r = sd_bus_message_enter_container(reply, 'a', "(tsss)");
        if (r < 0)
                goto bad;
        for (;;) {
                const char *id, *o, *n;
                uint64_t t;
                json_object *e;
                char when[64] = "";
                time_t secs;
                struct tm tm;

                r = sd_bus_message_read(reply, "(tsss)", &t, &id, &o, &n);
                if (r < 0)
                        goto bad;
                if (r == 0)
                        break;
                secs = (time_t) (t / USEC_PER_SEC);
                if (gmtime_r(&secs, &tm))
                        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
                if (!c->json) {
                        printf("%s  %-40s %s -> %s\n", when, id, o, n);
                        shown++;
                        continue;
                }
                e = json_object_new_object();
                if (!e)
                        return EXIT_FAILED;
                json_object_object_add(e, "time_usec", json_object_new_uint64(t));
                json_object_object_add(e, "time", json_object_new_string(when));
                json_object_object_add(e, "id", json_object_new_string(id));
                json_object_object_add(e, "old", json_object_new_string(o));
                json_object_object_add(e, "new", json_object_new_string(n));
                json_object_array_add(out, e);
        }
        if (c->json)
                ctl_print_json(out);
        else if (shown == 0)
                printf("No check has changed its result since hwsecd first ran here.\n");
        return EXIT_OK;
bad:
        fprintf(stderr, "hwsecctl: hwsecd sent a check history that could not be read.\n");
        return EXIT_FAILED;
}

enum {
        ARG_HISTORY = ARG_VERB_FIRST,
};

static const struct option check_options[] = {
        { "history", no_argument, NULL, ARG_HISTORY },
        {}
};

static const CtlVerb check_verb = {
        .name = "check",
        .usage = "hwsecctl check [--history] [--json]\n\n"
                 "The readiness checks as a tree with a fix hint for each failure; exit 1 when any\n"
                 "check fails. With --json: tests, failures, skipped and summary.\n\n"
                 "  --history    One line per change of a check's result\n",
        .options = check_options,
        .max_args = 0,
};

static int check_option(Ctl *c, const CtlVerb *v, int opt, const char *arg, void *userdata) {
        bool *history = userdata;

        if (opt != ARG_HISTORY)
                return EXIT_FAILED;
        *history = true;
        return 0;
}

int verb_check(Ctl *c, int argc, char **argv) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(json_object_putp) json_object *checks = NULL, *report = NULL;
        bool history = false;
        char **args;
        int n, r, failed = 0;

        r = ctl_parse_args(c, &check_verb, argc, argv, check_option, &history, &args, &n);
        if (r <= 0)
                return -r;
        if (history)
                return show_history(c);

        r = ctl_call(c, "/org/hwsecd1", "org.hwsecd1.Manager", "GetChecks", &reply, NULL);
        if (r < 0)
                return ctl_exit(r);
        r = read_checks(reply, &checks);
        if (r < 0) {
                fprintf(stderr, "hwsecctl: hwsecd sent checks that could not be read.\n");
                return EXIT_FAILED;
        }
        report = check_json_report(checks, &failed);
        if (!report)
                return EXIT_FAILED;

        if (c->json)
                ctl_print_json(report);
        else {
                json_object *s = get(report, "summary");

                print_tree(checks);
                printf("\n%" PRIi64 " passed, %" PRIi64 " failed, %" PRIi64 " skipped, %" PRIi64 " not applicable, %" PRIi64 " unknown\n",
                       get_int(s, "passed"), get_int(s, "failed"), get_int(s, "skipped"),
                       get_int(s, "not_applicable"), get_int(s, "unknown"));
        }
        return failed > 0 ? EXIT_FAILED : EXIT_OK;
}
