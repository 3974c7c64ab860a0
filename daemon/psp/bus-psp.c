/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.hwsecd1.Psp at /org/hwsecd1/psp: the cached PSP state as typed properties, Refresh() and
 * GetCheckHistory(). Properties are served from the cache; hardware is only read on udev events
 * and Refresh(). */

#include "bus-errors.h"
#include "bus-properties.h"
#include "bus-util.h"
#include "check-history.h"
#include "log.h"
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
