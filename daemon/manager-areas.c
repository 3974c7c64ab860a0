/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The manager's side of the area table (daemon/area.h): start and free every area, hand them
 * uevents and events, ask them for Describe(), Manager members and the state. It also owns the
 * host facts (daemon/shared/host-facts.h): it re-reads a part when something may have changed it
 * and tells the areas with MANAGER_EVENT_FACTS_CHANGED. Nothing here names an area. */

#include <inttypes.h>

#include "log.h"
#include "manager.h"

const char *manager_event_type_to_string(ManagerEventType t) {
        static const char *const names[_MANAGER_EVENT_MAX] = {
                [MANAGER_EVENT_PSP_CHANGED] = "psp-changed",
                [MANAGER_EVENT_ASID_CHANGED] = "asid-changed",
                [MANAGER_EVENT_FIRMWARE_CHANGED] = "firmware-changed",
                [MANAGER_EVENT_PCI_CHANGED] = "pci-changed",
                [MANAGER_EVENT_CONFIG_RELOADED] = "config-reloaded",
                [MANAGER_EVENT_FACTS_CHANGED] = "facts-changed",
                [MANAGER_EVENT_PSP_STALE] = "psp-stale",
        };

        return t >= 0 && t < _MANAGER_EVENT_MAX ? names[t] : NULL;
}

static void retain(Manager *m, const ManagerEvent *ev) {
        if (ev->type == MANAGER_EVENT_PSP_CHANGED && ev->psp) {
                m->retained_psp = *ev->psp;
                m->have_retained_psp = true;
        }
        if (ev->type == MANAGER_EVENT_FIRMWARE_CHANGED && ev->firmware) {
                m->retained_firmware = *ev->firmware;
                m->have_retained_firmware = true;
        }
}

const PspSnapshot *manager_retained_psp(Manager *m) {
        return m->have_retained_psp ? &m->retained_psp : NULL;
}

const FirmwareSnapshot *manager_retained_firmware(Manager *m) {
        return m->have_retained_firmware ? &m->retained_firmware : NULL;
}

void manager_broadcast(Manager *m, const ManagerEvent *ev) {
        retain(m, ev);
        /* Until every area has started, their event hooks would see half-built areas. */
        if (!m->areas_started)
                return;
        for (size_t i = 0; i < m->n_areas; i++)
                if (m->areas[i].data && m->areas[i].vtable->event)
                        m->areas[i].vtable->event(m->areas[i].data, ev);
        manager_update_state(m);
}

void manager_broadcast_type(Manager *m, ManagerEventType type) {
        manager_broadcast(m, &(ManagerEvent) { .type = type });
}

void manager_dispatch_uevent(Manager *m, sd_device *d, sd_device_action_t action) {
        const char *subsystem = NULL;

        /* A PCI device that comes or goes may take its IOMMU group with it. Other PCI events
         * (change: config space, ACS; bind/unbind: drivers) leave the kernel's groups as they
         * are, so they do not make the checks re-read every group of the host. */
        if ((action == SD_DEVICE_ADD || action == SD_DEVICE_REMOVE) &&
            sd_device_get_subsystem(d, &subsystem) >= 0 && streq(subsystem, "pci") && m->iommu_timer) {
                (void) sd_event_source_set_time_relative(m->iommu_timer, MANAGER_IOMMU_SETTLE_USEC);
                (void) sd_event_source_set_enabled(m->iommu_timer, SD_EVENT_ONESHOT);
        }
        for (size_t i = 0; i < m->n_areas; i++)
                if (m->areas[i].data && m->areas[i].vtable->uevent)
                        m->areas[i].vtable->uevent(m->areas[i].data, d, action);
}

int manager_describe_areas(Manager *m, json_object *root) {
        int r;

        for (size_t i = 0; i < m->n_areas; i++) {
                if (!m->areas[i].data || !m->areas[i].vtable->describe)
                        continue;
                r = m->areas[i].vtable->describe(m->areas[i].data, root);
                if (r < 0)
                        return r;
        }
        return 0;
}

int manager_append_member(Manager *m, const char *member, sd_bus_message *reply) {
        for (size_t i = 0; i < m->n_areas; i++) {
                const AreaManagerMember *mm = m->areas[i].vtable->manager_members;

                for (; mm && mm->name; mm++)
                        if (streq(mm->name, member))
                                return m->areas[i].data ? mm->append(m->areas[i].data, reply) : -ENOENT;
        }
        return -ENOENT;
}

const char *manager_compute_state(Manager *m) {
        bool degraded = !strv_isempty(m->problems) || !strv_isempty(m->config_problems);

        for (size_t i = 0; i < m->n_areas; i++) {
                const AreaVTable *vt = m->areas[i].vtable;
                void *data = m->areas[i].data;

                if (!data)
                        continue;
                if (vt->loading && vt->loading(data))
                        return "starting";
                if (vt->degraded && vt->degraded(data))
                        degraded = true;
        }
        return degraded ? "degraded" : "ready";
}

/* ---- host facts ---- */

static void log_kvm_change(Manager *m) {
        _cleanup_free_ char *sig = host_facts_kvm_signature(&m->facts);

        if (!sig)
                return;
        log_info("kvm_amd changed (%s -> %s); telling every area.", strna(m->kvm_signature), sig);
        free(m->kvm_signature);
        m->kvm_signature = TAKE_PTR(sig);
}

int manager_refresh_facts(Manager *m, HostFactsPart parts) {
        HostFactsPart changed = 0;
        int r;

        r = host_facts_read(&m->facts, parts, &changed);
        if (r < 0)
                return log_error_errno(r, "Failed to read the host facts: %m");
        if (changed == 0)
                return 0;
        if (changed & HOST_FACTS_KVM)
                log_kvm_change(m);
        manager_broadcast(m, &(ManagerEvent) {
                .type = MANAGER_EVENT_FACTS_CHANGED,
                .facts = &m->facts,
                .facts_changed = changed,
        });
        return 1;
}

static int on_kvm_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        (void) manager_refresh_facts(m, HOST_FACTS_KVM);
        (void) sd_event_source_set_time_relative(s, MANAGER_KVM_POLL_USEC);
        (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        return 0;
}

static int on_iommu_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        (void) manager_refresh_facts(userdata, HOST_FACTS_IOMMU);
        return 0;
}

static int facts_start(Manager *m) {
        int r;

        r = host_facts_read(&m->facts, HOST_FACTS_ALL, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to read the host facts: %m");
        m->kvm_signature = host_facts_kvm_signature(&m->facts);
        if (!m->kvm_signature)
                return log_oom();

        r = sd_event_add_time_relative(m->event, &m->kvm_timer, CLOCK_MONOTONIC, MANAGER_KVM_POLL_USEC, 0,
                                       on_kvm_timer, m);
        if (r < 0)
                return log_error_errno(r, "Failed to arm the kvm_amd watch: %m");
        (void) sd_event_source_set_description(m->kvm_timer, "kvm-amd-watch");
        r = sd_event_add_time_relative(m->event, &m->iommu_timer, CLOCK_MONOTONIC, MANAGER_IOMMU_SETTLE_USEC, 0,
                                       on_iommu_timer, m);
        if (r < 0)
                return log_error_errno(r, "Failed to arm the IOMMU group watch: %m");
        (void) sd_event_source_set_enabled(m->iommu_timer, SD_EVENT_OFF);
        (void) sd_event_source_set_description(m->iommu_timer, "iommu-groups-watch");
        return 0;
}

/* ---- life cycle ---- */

int manager_start_areas(Manager *m) {
        int r;

        r = facts_start(m);
        if (r < 0)
                return r;

        m->areas = calloc(hwsecd_n_areas, sizeof(AreaSlot));
        if (!m->areas)
                return log_oom();
        m->n_areas = hwsecd_n_areas;
        for (size_t i = 0; i < m->n_areas; i++)
                m->areas[i].vtable = hwsecd_areas[i];

        /* Areas read their initial state and register their objects before the name is taken,
         * so that the first client sees a complete daemon. */
        for (size_t i = 0; i < m->n_areas; i++) {
                const AreaVTable *vt = m->areas[i].vtable;
                uint64_t t = now(CLOCK_MONOTONIC);

                r = vt->start(m, &m->areas[i].data);
                if (r < 0)
                        return log_error_errno(r, "Failed to start the %s area: %m", vt->name);
                log_debug("Started the %s area in %" PRIu64 " us.", vt->name, now(CLOCK_MONOTONIC) - t);
        }
        m->areas_started = true;
        return 0;
}

void manager_free_areas(Manager *m) {
        for (size_t i = m->n_areas; i > 0; i--) {
                AreaSlot *a = &m->areas[i - 1];

                if (a->data && a->vtable->free)
                        a->vtable->free(a->data);
                a->data = NULL;
        }
        m->areas = mfree(m->areas);
        m->n_areas = 0;
        m->kvm_timer = sd_event_source_disable_unref(m->kvm_timer);
        m->iommu_timer = sd_event_source_disable_unref(m->iommu_timer);
        m->kvm_signature = mfree(m->kvm_signature);
        host_facts_done(&m->facts);
}
