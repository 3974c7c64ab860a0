/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.hwsecd1.Psp at /org/hwsecd1/psp: the cached PSP state as typed properties, Refresh() and
 * GetCheckHistory(). Properties are served from the cache; hardware is only read on udev events
 * and Refresh(). */

#include "bus-errors.h"
#include "bus-properties.h"
#include "bus-util.h"
#include "check-history.h"
#include "fileio.h"
#include "log.h"
#include "paths.h"
#include "polkit.h"
#include "psp-ops.h"
#include "snp-config.h"
#include "psp-daemon.h"
#include "state.h"

static PspArea *area(void *userdata) {
        return userdata;
}

static const SevStatus *sev(PspArea *a) {
        static const SevStatus empty = {};
        return a->platform.sev_valid ? &a->platform.sev : &empty;
}

static const SnpStatus *snp(PspArea *a) {
        static const SnpStatus empty = {};
        return a->platform.snp_valid ? &a->platform.snp : &empty;
}

#define PROPERTY_GETTER(name, type, expr)                                                        \
        static int property_get_##name(sd_bus *bus, const char *path, const char *interface,     \
                                       const char *property, sd_bus_message *reply,             \
                                       void *userdata, sd_bus_error *error) {                   \
                PspArea *a = area(userdata);                                                     \
                return sd_bus_message_append(reply, type, (expr));                              \
        }

PROPERTY_GETTER(present, "b", (int) a->present);
PROPERTY_GETTER(pci_address, "s", a->present ? a->dev.address : "");
PROPERTY_GETTER(pci_device_id, "q", (uint16_t) (a->present ? a->dev.device : 0));
PROPERTY_GETTER(driver, "s", a->present && a->dev.driver ? a->dev.driver : "");
PROPERTY_GETTER(sev_device, "b", (int) a->dev_sev);
PROPERTY_GETTER(sfs_device, "b", (int) a->dev_sfs);
PROPERTY_GETTER(cpu_family, "u", (uint32_t) (a->cpu_error == 0 ? a->cpu.family : 0));
PROPERTY_GETTER(cpu_model, "u", (uint32_t) (a->cpu_error == 0 ? a->cpu.model : 0));
PROPERTY_GETTER(tcb_layout, "s", tcb_layout_to_string(a->layout));

PROPERTY_GETTER(sev_status_valid, "b", (int) a->platform.sev_valid);
PROPERTY_GETTER(sev_build, "u", (uint32_t) sev(a)->build);
PROPERTY_GETTER(sev_state, "s", a->platform.sev_valid ? sev_state_to_string(sev(a)->state) : "unknown");
PROPERTY_GETTER(sev_flags, "u", sev(a)->flags);
PROPERTY_GETTER(sev_config_es, "b", (int) sev(a)->config_es);
PROPERTY_GETTER(sev_owner, "b", (int) sev(a)->owner);
PROPERTY_GETTER(sev_guest_count, "u", sev(a)->guest_count);

PROPERTY_GETTER(snp_status_valid, "b", (int) a->platform.snp_valid);
PROPERTY_GETTER(snp_build, "u", snp(a)->build_id);
PROPERTY_GETTER(snp_state, "s", a->platform.snp_valid ? snp_state_to_string(snp(a)->state) : "unknown");
PROPERTY_GETTER(rmp_initialized, "b", (int) snp(a)->is_rmp_initialized);
PROPERTY_GETTER(mask_chip_id, "b", (int) snp(a)->mask_chip_id);
PROPERTY_GETTER(mask_chip_key, "b", (int) snp(a)->mask_chip_key);
PROPERTY_GETTER(vlek_loaded, "b", (int) snp(a)->vlek_en);
PROPERTY_GETTER(feature_info, "b", (int) snp(a)->feature_info);
PROPERTY_GETTER(rapl_disabled, "b", (int) snp(a)->rapl_dis);
PROPERTY_GETTER(cth_capable, "b", (int) snp(a)->ciphertext_hiding_cap);
PROPERTY_GETTER(cth_enabled, "b", (int) snp(a)->ciphertext_hiding_en);
PROPERTY_GETTER(snp_guest_count, "u", snp(a)->guest_count);
PROPERTY_GETTER(current_tcb, "t", snp(a)->current_tcb);
PROPERTY_GETTER(reported_tcb, "t", snp(a)->reported_tcb);
PROPERTY_GETTER(tcb_committed, "b", (int) (a->platform.snp_valid && snp(a)->current_tcb == snp(a)->reported_tcb));

PROPERTY_GETTER(sev_status_error, "s", a->platform.sev_error.name);
PROPERTY_GETTER(snp_status_error, "s", a->platform.snp_error.name);
PROPERTY_GETTER(last_error, "s", a->last_error.name);
PROPERTY_GETTER(last_error_message, "s", a->last_error.message);
PROPERTY_GETTER(last_firmware_status, "u", a->last_error.fw_code);
PROPERTY_GETTER(last_refresh, "t", a->last_refresh);

static int append_version(sd_bus_message *reply, bool valid, uint8_t major, uint8_t minor) {
        char buf[16] = "";

        if (valid)
                snprintf(buf, sizeof buf, "%u.%u", major, minor);
        return sd_bus_message_append(reply, "s", buf);
}

static int property_get_api_version(sd_bus *bus, const char *path, const char *interface, const char *property,
                                    sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        PspArea *a = area(userdata);
        return append_version(reply, a->platform.sev_valid, sev(a)->api_major, sev(a)->api_minor);
}

static int property_get_snp_api_version(sd_bus *bus, const char *path, const char *interface, const char *property,
                                        sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        PspArea *a = area(userdata);
        return append_version(reply, a->platform.snp_valid, snp(a)->api_major, snp(a)->api_minor);
}

static int property_get_attributes(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        PspArea *a = area(userdata);
        _cleanup_json_ json_object *empty = json_object_new_object();

        if (!empty)
                return -ENOMEM;
        return bus_append_json_dict(reply, a->present ? a->dev.attributes : empty);
}

static int append_tcb_parts(sd_bus_message *reply, PspArea *a, uint64_t raw) {
        TcbVersion t;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "{sy}");
        if (r < 0)
                return r;
        if (a->platform.snp_valid && tcb_decode(raw, a->layout, &t) >= 0) {
                if (t.has_fmc)
                        r = sd_bus_message_append(reply, "{sy}", "fmc", t.fmc);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "{sy}{sy}{sy}{sy}", "boot_loader", t.boot_loader,
                                                  "tee", t.tee, "snp", t.snp, "microcode", t.microcode);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int property_get_current_tcb_parts(sd_bus *bus, const char *path, const char *interface, const char *property,
                                          sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        PspArea *a = area(userdata);
        return append_tcb_parts(reply, a, snp(a)->current_tcb);
}

static int property_get_reported_tcb_parts(sd_bus *bus, const char *path, const char *interface, const char *property,
                                           sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        PspArea *a = area(userdata);
        return append_tcb_parts(reply, a, snp(a)->reported_tcb);
}

static int property_get_chip_id(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        char hex[2 * PSP_CHIP_ID_MAX + 1];
        int r;

        r = psp_chip_id_hex(area(userdata), hex, sizeof hex);
        if (r < 0)
                return r;
        return sd_bus_message_append(reply, "s", hex);
}

static int property_get_vcek_url(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *url = NULL;
        SevError e = {};
        int r;

        r = psp_vcek_url(area(userdata), &url, &e);
        if (r == -ENOMEM)
                return r;
        /* VcekUrl: the URL or ""; VcekUrlError: "" or why there is none (CHIP_ID_MASKED, …) */
        return sd_bus_message_append(reply, "s", streq(property, "VcekUrl") ? strempty(url) : e.name);
}

/* A PSP operation's named failure as a D-Bus error: the name says what to do about it. */
static int psp_op_bus_error(sd_bus_error *error, const SevError *e) {
        static const char * const invalid[] = {
                "INVALID_ARGUMENT", "TCB_ABOVE_CURRENT", "TCB_RESERVED_NONZERO", "UNKNOWN_TCB_LAYOUT", NULL,
        };
        const char *name;

        if (e->error == -ENOMEM)
                return -ENOMEM;
        if (streq(e->name, "SNP_NOT_INITIALIZED"))
                name = HWSEC_ERROR_SNP_NOT_INITIALIZED;
        else if (strv_contains((char * const *) invalid, e->name))
                name = HWSEC_ERROR_INVALID_ARGUMENT;
        else if (streq(e->name, "NO_SEV_DEVICE") || streq(e->name, "NO_DEVICE_NODE"))
                name = HWSEC_ERROR_NO_DEVICE;
        else if (streq(e->name, "NOT_SUPPORTED"))
                name = HWSEC_ERROR_NOT_SUPPORTED;
        else if (streq(e->name, "BUSY"))
                name = HWSEC_ERROR_BUSY;
        else if (e->error == -EIO)
                name = HWSEC_ERROR_FIRMWARE;
        else
                name = HWSEC_ERROR_IO;
        return sd_bus_error_setf(error, name, "%s (%s)", e->message, e->name);
}

/* Refusals that need no PSP command: no /dev/sev, SNP known to be uninitialised. */
static int psp_op_precheck(PspArea *a, PspOp op, sd_bus_error *error) {
        SevError e = {};

        if (!a->dev_sev) {
                psp_op_error_set(&e, op, -ENOENT, 0);
                return psp_op_bus_error(error, &e);
        }
        if ((a->platform.snp_valid && !snp_status_initialized(&a->platform.snp)) ||
            (!a->platform.snp_valid && streq(a->platform.snp_error.name, "SNP_NOT_INITIALIZED"))) {
                psp_op_error_set(&e, op, -EINVAL, 0);
                return psp_op_bus_error(error, &e);
        }
        return 0;
}

/* The operation changed the platform: re-read the status and answer msg when it is complete, so
 * that the caller reads the new ReportedTcb, TcbCommitted and masks right after the reply. */
static int reply_after_reread(PspArea *a, sd_bus_message *msg) {
        int r;

        r = psp_reread(a, NULL);
        if (r > 0)
                return psp_refresh_wait(a, msg) < 0 ? -ENOMEM : 1;
        if (r < 0)
                log_warning_errno(r, "The PSP state could not be re-read after a change: %m");
        return sd_bus_reply_method_return(msg, NULL);
}

/* One operation on a fresh fd of our /dev/sev. The PSP answers these in milliseconds; they run in
 * the event loop like the status read at start. */
static int psp_op_run(PspOp op, const SnpConfig *c, SevError *e) {
        _cleanup_free_ char *node = path_join(paths_dev_dir(), "sev");
        _cleanup_close_ int fd = -EBADF;

        if (!node)
                return -ENOMEM;
        fd = psp_op_open(node, op, e);
        if (fd < 0)
                return fd;
        return op == PSP_OP_SNP_COMMIT ? psp_snp_commit(fd, e) : psp_snp_set_config(fd, c, e);
}

static int method_commit_firmware(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        PspArea *a = userdata;
        uint64_t before = a->platform.snp.current_tcb;
        SevError e = {};
        int r;

        r = psp_op_precheck(a, PSP_OP_SNP_COMMIT, error);
        if (r < 0)
                return r;
        r = polkit_verify(a->manager, msg, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;

        r = psp_op_run(PSP_OP_SNP_COMMIT, NULL, &e);
        if (r < 0) {
                log_warning("SNP_COMMIT failed: %s", e.message);
                return psp_op_bus_error(error, &e);
        }
        log_struct(LOG_NOTICE, MESSAGE_ID_PSP_FIRMWARE_COMMITTED,
                   "SEV firmware committed (SNP_COMMIT): TCB 0x%016" PRIx64 " is now the committed and reported TCB; older firmware can no longer be loaded.",
                   before);
        r = psp_record_commit(a);
        if (r < 0)
                /* the firmware is committed either way; only the readiness check may ask again after a restart */
                log_warning_errno(r, "The commit could not be recorded in %s: %m", STATE_FILE_NAME);
        return reply_after_reread(a, msg);
}

/* reported_tcb (s), mask_chip_id (b), mask_chip_key (b); anything else is refused. */
static int read_snp_config_request(sd_bus_message *msg, SnpConfigRequest *req, sd_bus_error *error) {
        const char *key;
        int r;

        *req = SNP_CONFIG_REQUEST_NULL;
        r = sd_bus_message_enter_container(msg, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
                const char *want, *contents;
                int *mask = NULL, b;

                r = sd_bus_message_read(msg, "s", &key);
                if (r < 0)
                        return r;
                if (streq(key, "reported_tcb"))
                        want = "s";
                else if (streq(key, "mask_chip_id"))
                        want = "b", mask = &req->mask_chip_id;
                else if (streq(key, "mask_chip_key"))
                        want = "b", mask = &req->mask_chip_key;
                else
                        return sd_bus_error_setf(error, HWSEC_ERROR_INVALID_ARGUMENT,
                                                 "Unknown SNP configuration key \"%.64s\"; use reported_tcb, mask_chip_id or mask_chip_key.", key);
                r = sd_bus_message_peek_type(msg, NULL, &contents);
                if (r < 0)
                        return r;
                if (!streq(contents, want))
                        return sd_bus_error_setf(error, HWSEC_ERROR_INVALID_ARGUMENT,
                                                 "SNP configuration key %s must be of type %s, not %s.", key, want, contents);
                if (mask) {
                        r = sd_bus_message_read(msg, "v", "b", &b);
                        *mask = !!b;
                } else
                        r = sd_bus_message_read(msg, "v", "s", &req->reported_tcb);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(msg);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(msg);
}

static int method_set_snp_config(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        PspArea *a = userdata;
        SnpConfigRequest req;
        SnpConfig c;
        SevError e = {};
        int r;

        r = read_snp_config_request(msg, &req, error);
        if (r < 0)
                return r;
        if (!a->dev_sev || !a->platform.snp_valid) {
                psp_op_error_set(&e, PSP_OP_SNP_SET_CONFIG, a->dev_sev ? -EINVAL : -ENOENT, 0);
                return psp_op_bus_error(error, &e);
        }
        /* validated against the status before polkit is asked: a refusal costs no password */
        r = snp_config_prepare(&req, &a->platform.snp, a->layout, &c, &e);
        if (r < 0)
                return psp_op_bus_error(error, &e);
        r = polkit_verify(a->manager, msg, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;

        r = psp_op_run(PSP_OP_SNP_SET_CONFIG, &c, &e);
        if (r < 0) {
                log_warning("SNP_SET_CONFIG failed: %s", e.message);
                return psp_op_bus_error(error, &e);
        }
        log_struct(LOG_NOTICE, MESSAGE_ID_PSP_SNP_CONFIG_SET,
                   "SNP configuration set (SNP_SET_CONFIG): reported TCB 0x%016" PRIx64 ", mask_chip_id %s, mask_chip_key %s.",
                   c.reported_tcb, yes_no(c.mask_chip_id), yes_no(c.mask_chip_key));
        return reply_after_reread(a, msg);
}

static int method_refresh(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        PspArea *a = userdata;
        int r;

        r = psp_reread(a, NULL);
        if (r < 0)
                return bus_error_set_errnof_host(error, r, "The PSP state could not be re-read: %m");
        if (r > 0)
                /* the status ioctls run on the worker; the reply comes when they are done */
                return psp_refresh_wait(a, msg) < 0 ? -ENOMEM : 1;
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_get_check_history(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_bus_message_ sd_bus_message *reply = NULL;
        Manager *m = area(userdata)->manager;
        json_object *section = NULL, *h = NULL;
        int r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(tsss)");
        if (r < 0)
                return r;
        if (json_object_object_get_ex(m->state, "checks", &section) &&
            json_object_object_get_ex(section, "history", &h) && json_object_is_type(h, json_type_array))
                for (size_t i = 0; i < json_object_array_length(h); i++) {
                        const char *id, *o, *n;
                        uint64_t t;

                        /* check_history_apply() already dropped malformed entries */
                        if (check_history_entry(json_object_array_get_idx(h, i), &t, &id, &o, &n) < 0)
                                continue;
                        r = sd_bus_message_append(reply, "(tsss)", t, id, o, n);
                        if (r < 0)
                                return r;
                }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

#define P(name, sig, getter) { name, sig, property_get_##getter, NULL, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE }

/* The contract's order (dbus/org.hwsecd1.Psp.xml): the properties, then the methods. */
static const BusProperty psp_properties[] = {
        P("Present", "b", present),
        P("PciAddress", "s", pci_address),
        P("PciDeviceId", "q", pci_device_id),
        P("Driver", "s", driver),
        P("Attributes", "a{sv}", attributes),
        P("SevDevice", "b", sev_device),
        P("SfsDevice", "b", sfs_device),
        P("CpuFamily", "u", cpu_family),
        P("CpuModel", "u", cpu_model),
        P("TcbLayout", "s", tcb_layout),
        P("SevStatusValid", "b", sev_status_valid),
        P("ApiVersion", "s", api_version),
        P("Build", "u", sev_build),
        P("SevState", "s", sev_state),
        P("SevFlags", "u", sev_flags),
        P("SevConfigEs", "b", sev_config_es),
        P("SevOwner", "b", sev_owner),
        P("SevGuestCount", "u", sev_guest_count),
        P("SnpStatusValid", "b", snp_status_valid),
        P("SnpApiVersion", "s", snp_api_version),
        P("SnpBuild", "u", snp_build),
        P("SnpState", "s", snp_state),
        P("RmpInitialized", "b", rmp_initialized),
        P("MaskChipId", "b", mask_chip_id),
        P("MaskChipKey", "b", mask_chip_key),
        P("VlekLoaded", "b", vlek_loaded),
        P("FeatureInfo", "b", feature_info),
        P("RaplDisabled", "b", rapl_disabled),
        P("CiphertextHidingCapable", "b", cth_capable),
        P("CiphertextHidingEnabled", "b", cth_enabled),
        P("SnpGuestCount", "u", snp_guest_count),
        P("CurrentTcb", "t", current_tcb),
        P("ReportedTcb", "t", reported_tcb),
        P("CurrentTcbParts", "a{sy}", current_tcb_parts),
        P("ReportedTcbParts", "a{sy}", reported_tcb_parts),
        P("TcbCommitted", "b", tcb_committed),
        P("ChipId", "s", chip_id),
        P("VcekUrl", "s", vcek_url),
        P("VcekUrlError", "s", vcek_url),
        P("SevStatusError", "s", sev_status_error),
        P("SnpStatusError", "s", snp_status_error),
        P("LastError", "s", last_error),
        P("LastErrorMessage", "s", last_error_message),
        P("LastFirmwareStatus", "u", last_firmware_status),
        P("LastRefresh", "t", last_refresh),
};

static const sd_bus_vtable psp_methods[] = {
        SD_BUS_VTABLE_START(0),
        /* Not a mutation and no polkit action: it re-reads the PSP. Left privileged (sd-bus lets
         * root and the daemon's own user call it) because every call issues PSP commands, which
         * share one kernel mutex with KVM. */
        SD_BUS_METHOD_WITH_ARGS("Refresh", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_refresh, 0),
        SD_BUS_METHOD_WITH_ARGS("GetCheckHistory", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(tsss)", history),
                                method_get_check_history, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CommitFirmware", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_commit_firmware,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetSnpConfig", SD_BUS_ARGS("a{sv}", config), SD_BUS_NO_RESULT, method_set_snp_config,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

static const BusPropertyTable psp_table = BUS_PROPERTY_TABLE(PSP_INTERFACE, psp_properties, psp_methods);

int bus_psp_register(PspArea *a) {
        int r;

        r = bus_property_table_vtable(&psp_table, &a->vtable);
        if (r < 0)
                return r;
        return sd_bus_add_object_vtable(a->manager->bus, &a->slot, PSP_OBJECT_PATH, PSP_INTERFACE, a->vtable, a);
}

/* Only the properties whose value changed since the last call; nothing before the name is taken
 * (the call then only records the values). */
int bus_psp_emit_changed(PspArea *a) {
        Manager *m = a->manager;

        return bus_property_table_emit_changed(&psp_table, m->bus, PSP_OBJECT_PATH, a, &a->properties, m->serving);
}
