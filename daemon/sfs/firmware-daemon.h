/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The firmware (SFS) area inside hwsecd: its AreaVTable for the table in daemon/areas.c, and its
 * state, shared between firmware-daemon.c (state, jobs, worker), firmware-stage.c (StagePackage)
 * and bus-firmware.c (the D-Bus objects). Not part of the core library. */

#include "area.h"
#include "bus-properties.h"
#include "jobs.h"
#include "psp-ops.h"
#include "manager.h"
#include "payload.h"
#include "sfs.h"
#include "window.h"
#include "worker.h"

#define FIRMWARE_PATH "/org/hwsecd1/firmware"
#define FIRMWARE_IFACE "org.hwsecd1.Firmware"
#define FIRMWARE_JOB_PREFIX "/org/hwsecd1/firmware/job"
#define FIRMWARE_JOB_IFACE "org.hwsecd1.FirmwareJob"

/* Files in the state directory: an empty one per cancellation state.json could not take, and
 * the text of job entries the loader dropped. */
#define FIRMWARE_CANCEL_PREFIX "firmware-cancel-"
#define FIRMWARE_DROPPED_PREFIX "firmware-dropped-"

/* StagePackage reads the caller's file in a thread (firmware-stage.c): it answers within this
 * time, and at most this many such threads exist at once. */
#define FIRMWARE_STAGE_TIMEOUT_USEC (UINT64_C(20) * USEC_PER_SEC)
#define FIRMWARE_STAGE_THREADS_MAX 8U

typedef struct StageWork StageWork;

/* What the worker thread hands back. */
typedef struct FirmwareWork {
        char payload[SFS_PAYLOAD_NAME_SIZE];
        int open_error;                 /* negative errno of open(/dev/sfs), 0 if it opened */
        SfsVersions before, after;
        SfsResult before_result, after_result;
        SfsResult update;
        uint64_t duration_usec;
        /* ScheduleUpdate option "commit": SNP status before the update and after SNP_COMMIT */
        bool commit;
        bool commit_attempted;
        SevError commit_error;          /* how SNP_COMMIT (or opening /dev/sev for it) ended */
        SevPlatform psp_before, psp_after;
} FirmwareWork;

typedef struct FirmwareArea FirmwareArea;

struct FirmwareArea {
        Manager *m;

        bool present;                   /* /dev/sfs exists */
        bool versions_valid;
        SfsVersions versions;
        SfsResult versions_result;
        char *versions_error;           /* why the last read failed */

        JobList jobs;
        MaintenanceWindow *windows;
        size_t n_windows;
        char **allow;                   /* [Firmware] AllowedSha256=, lower case; empty = no list */
        char *allow_error;              /* set when the list has a bad entry: refuse everything */

        sd_event_source *timer;
        Job *running;
        Worker *worker;                 /* the update ioctl off the event loop */
        sd_bus_slot *slot, *job_slot, *enum_slot;       /* the Firmware object, the jobs */
        sd_bus_vtable *vtable, *job_vtable;             /* built from the property tables (bus-firmware.c) */
        BusPropertyCache properties;    /* what PropertiesChanged last said */
        FirmwareWork work;
        StageWork *stages;              /* StagePackage calls waiting for their thread */
        bool have_markers;              /* cancel markers may exist in the state directory */
        bool shutting_down;
};

extern const AreaVTable firmware_area_vtable;

/* firmware-daemon.c */
int firmware_save(FirmwareArea *a);
void firmware_dispatch(FirmwareArea *a);
/* Broadcasts MANAGER_EVENT_FIRMWARE_CHANGED with the FirmwareSnapshot. */
void firmware_publish(FirmwareArea *a);
/* 0, or a negative errno when the cancellation could not be saved: then the job stays scheduled
 * but this process never starts it, and *ret_marker_error says whether the marker that makes the
 * next start cancel it could be written (0) or not. */
int firmware_job_cancel(FirmwareArea *a, Job *j, int *ret_marker_error);
int firmware_schedule(FirmwareArea *a, Job *j);
uint64_t firmware_now(void);
void firmware_log_staged(FirmwareArea *a, const PayloadInfo *p, bool already);

/* firmware-stage.c */
/* Takes over the call: returns 1 when the reply will be sent later, or an error now. */
int firmware_stage_start(FirmwareArea *a, sd_bus_message *msg, int caller_fd, const char *name, sd_bus_error *error);
void firmware_stage_free_all(FirmwareArea *a);

/* bus-firmware.c */
int bus_firmware_payload_error(sd_bus_error *error, PayloadError e, const char *name, int err);
int bus_firmware_register(FirmwareArea *a);
char *bus_firmware_job_path(uint32_t id);
void bus_firmware_job_added(FirmwareArea *a, Job *j);
void bus_firmware_job_removed(FirmwareArea *a, uint32_t id);
void bus_firmware_job_changed(FirmwareArea *a, Job *j);
/* PropertiesChanged for the Firmware object's properties whose value changed since the last call. */
void bus_firmware_changed(FirmwareArea *a);
