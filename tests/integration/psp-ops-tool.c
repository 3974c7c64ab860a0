/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Runs the PSP operation core (psp-ops.c, snp-config.c, vcek.c) against a /dev/sev node, for
 * test_sim_psp_ops.py, which runs it under umockdev against the simulated kernel (sim_psp.py).
 * One JSON object on stdout: {"ok": true, ...} or {"ok": false, "name": ..., "errno": ...,
 * "fw_code": ...}. Not installed.
 *
 *   psp-ops-tool DEV id                    SEV_GET_ID2 -> chip id (hex)
 *   psp-ops-tool DEV vcek-url              GET_ID2 + SNP status + CPUID -> VCEK URL
 *   psp-ops-tool DEV commit                SNP_COMMIT on a read-only fd (as the kernel allows)
 *   psp-ops-tool DEV set-config TCB ID KEY SNP_SET_CONFIG after snp_config_prepare(); TCB "-" keeps,
 *                                          ID/KEY "-" keep, else 0/1
 *   psp-ops-tool DEV set-config-ro ...     the same on a read-only fd (the kernel's EPERM) */

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "cpuid.h"
#include "psp-ops.h"
#include "snp-config.h"
#include "vcek.h"

static int fail(const SevError *e, int r) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "ok", json_object_new_boolean(false));
        json_object_object_add(o, "name", json_object_new_string(e->name));
        json_object_object_add(o, "message", json_object_new_string(e->message));
        json_object_object_add(o, "errno", json_object_new_int(r));
        json_object_object_add(o, "fw_code", json_object_new_int64(e->fw_code));
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        return 1;
}

static int ok(json_object *o) {
        json_object_object_add(o, "ok", json_object_new_boolean(true));
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        return 0;
}

static int snp_status(const char *dev, SnpStatus *ret, SevError *e) {
        SevPlatform p;

        sev_query_platform(dev, &p);
        if (!p.snp_valid) {
                *e = p.snp_error;
                return p.snp_error.error;
        }
        *ret = p.snp;
        return 0;
}

static int cmd_id(const char *dev) {
        _cleanup_close_ int fd = -EBADF;
        char hex[2 * PSP_CHIP_ID_MAX + 1];
        PspChipId id;
        SevError e;
        json_object *o;
        int r;

        fd = psp_op_open(dev, PSP_OP_GET_ID2, &e);
        if (fd < 0)
                return fail(&e, fd);
        r = psp_get_id2(fd, &id, &e);
        if (r < 0)
                return fail(&e, r);
        (void) psp_chip_id_to_hex(&id, id.length, hex, sizeof hex);
        o = json_object_new_object();
        json_object_object_add(o, "chip_id", json_object_new_string(hex));
        json_object_object_add(o, "length", json_object_new_int64(id.length));
        return ok(o);
}

static int cmd_vcek_url(const char *dev) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *url = NULL;
        CpuIdentity cpu;
        SnpStatus st;
        PspChipId id;
        SevError e;
        json_object *o;
        int r;

        r = cpuid_identity(&cpu);
        if (r < 0) {
                psp_error_setf(&e, r, "NO_CPUID", "CPUID could not be read.");
                return fail(&e, r);
        }
        fd = psp_op_open(dev, PSP_OP_GET_ID2, &e);
        if (fd < 0)
                return fail(&e, fd);
        r = psp_get_id2(fd, &id, &e);
        if (r < 0)
                return fail(&e, r);
        r = snp_status(dev, &st, &e);
        if (r < 0)
                return fail(&e, r);
        r = vcek_url_build(vcek_product_for_cpu(cpu.family, cpu.model), &id, st.reported_tcb, st.mask_chip_id, &url, &e);
        if (r < 0)
                return fail(&e, r);
        o = json_object_new_object();
        json_object_object_add(o, "url", json_object_new_string(url));
        return ok(o);
}

static int cmd_commit(const char *dev) {
        _cleanup_close_ int fd = -EBADF;
        SevError e;
        int r;

        fd = psp_op_open(dev, PSP_OP_SNP_COMMIT, &e);
        if (fd < 0)
                return fail(&e, fd);
        r = psp_snp_commit(fd, &e);
        if (r < 0)
                return fail(&e, r);
        return ok(json_object_new_object());
}

static int mask_arg(const char *s) {
        return streq(s, "-") ? -1 : atoi(s);
}

static int cmd_set_config(const char *dev, bool read_only, char **argv) {
        _cleanup_close_ int fd = -EBADF;
        SnpConfigRequest req = SNP_CONFIG_REQUEST_NULL;
        CpuIdentity cpu;
        SnpStatus st;
        SnpConfig c;
        SevError e;
        json_object *o;
        char tcb[24];
        int r;

        req.reported_tcb = streq(argv[0], "-") ? NULL : argv[0];
        req.mask_chip_id = mask_arg(argv[1]);
        req.mask_chip_key = mask_arg(argv[2]);

        r = cpuid_identity(&cpu);
        if (r < 0) {
                psp_error_setf(&e, r, "NO_CPUID", "CPUID could not be read.");
                return fail(&e, r);
        }
        r = snp_status(dev, &st, &e);
        if (r < 0)
                return fail(&e, r);
        r = snp_config_prepare(&req, &st, tcb_layout_for_family(cpu.family), &c, &e);
        if (r < 0)
                return fail(&e, r);

        if (read_only) {
                fd = open(dev, O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                        r = -errno;
                        psp_op_error_set(&e, PSP_OP_SNP_SET_CONFIG, r, 0);
                        return fail(&e, r);
                }
        } else {
                fd = psp_op_open(dev, PSP_OP_SNP_SET_CONFIG, &e);
                if (fd < 0)
                        return fail(&e, fd);
        }
        r = psp_snp_set_config(fd, &c, &e);
        if (r < 0)
                return fail(&e, r);

        o = json_object_new_object();
        snprintf(tcb, sizeof tcb, "0x%016" PRIx64, c.reported_tcb);
        json_object_object_add(o, "sent_reported_tcb", json_object_new_string(tcb));
        json_object_object_add(o, "sent_mask_chip_id", json_object_new_boolean(c.mask_chip_id));
        json_object_object_add(o, "sent_mask_chip_key", json_object_new_boolean(c.mask_chip_key));
        return ok(o);
}

int main(int argc, char **argv) {
        if (argc < 3)
                goto usage;
        if (streq(argv[2], "id") && argc == 3)
                return cmd_id(argv[1]);
        if (streq(argv[2], "vcek-url") && argc == 3)
                return cmd_vcek_url(argv[1]);
        if (streq(argv[2], "commit") && argc == 3)
                return cmd_commit(argv[1]);
        if ((streq(argv[2], "set-config") || streq(argv[2], "set-config-ro")) && argc == 6)
                return cmd_set_config(argv[1], streq(argv[2], "set-config-ro"), argv + 3);
usage:
        fprintf(stderr, "usage: psp-ops-tool DEV id|vcek-url|commit|set-config[-ro] TCB ID KEY\n");
        return 2;
}
