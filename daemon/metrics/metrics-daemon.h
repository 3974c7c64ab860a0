/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The metrics export: the last entry of the area table. It owns no hardware; it asks every entry
 * of the table for its facts (AreaVTable.metrics), writes them as the node_exporter textfile
 * hwsecd.prom and gives the same text to Describe() ("metrics"), which `hwsecctl metrics`
 * prints. docs/metrics.md. */

#include "area.h"

#define METRICS_TEXTFILE_NAME "hwsecd.prom"
#define METRICS_DEFAULT_DIR "/var/lib/prometheus/node-exporter"
/* After a change the file is rewritten at most this often. */
#define METRICS_MIN_INTERVAL_USEC (1 * USEC_PER_SEC)
/* Without changes it is rewritten this often, so that a stale file means a stuck daemon. */
#define METRICS_HEARTBEAT_USEC (300 * USEC_PER_SEC)

extern const AreaVTable metrics_area_vtable;
