/* pipeline: the packet path, wired once: decode -> flow table -> dpi and
 * inspectors -> audit; 802.11 management frames and RADIUS go to the access
 * table, which the audit reads when the capture ends.
 *
 * Holds every per-capture counter the report shows. Single-threaded: one
 * pipeline per capture loop. */
#ifndef FLUXAUDIT_PIPELINE_H
#define FLUXAUDIT_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "fluxaudit/access.h"
#include "fluxaudit/audit.h"
#include "fluxaudit/default_credentials.h"
#include "fluxaudit/dpi.h"
#include "fluxaudit/flow.h"
#include "fluxaudit/matrix.h"
#include "fluxaudit/rules.h"

struct pipeline_counters {
    uint64_t packets;      /* frames handed to the pipeline */
    uint64_t bytes;        /* their wire length */
    uint64_t ip_packets;   /* decoded into a flow */
    uint64_t malformed;    /* truncated or inconsistent headers */
    uint64_t not_ip;       /* frames without IP (ARP, LLDP...) */
    uint64_t not_decoded;  /* link types not decoded yet (802.11, radiotap...) */
    uint64_t fragments;    /* non-first IP fragments, counted only */
    uint64_t first_usec;   /* first and last frame timestamps, 0 if none */
    uint64_t last_usec;
};

typedef void (*pipeline_flow_fn)(const struct flow *flow, void *user);

struct pipeline_config {
    struct flow_table_config flows;
    size_t max_audit_entries;
    const struct default_credentials *default_credentials; /* borrowed; NULL: no default check */
    pipeline_flow_fn on_flow_audited; /* optional: each flow with its final facts (learn) */
    void *on_flow_audited_user;
};

/* Fills `config` with defaults. */
void pipeline_default_config(struct pipeline_config *config);

/* Creates a pipeline auditing against `matrix` and `rules` (borrowed).
 * Returns NULL and a message on failure. */
struct pipeline *pipeline_create(const struct pipeline_config *config, const struct matrix *matrix,
                                 const struct rules *rules, char *err, size_t err_len);
void pipeline_destroy(struct pipeline *pipeline);

/* Processes one frame of link type `dlt`. */
void pipeline_process(struct pipeline *pipeline, int dlt, uint64_t ts_usec, const uint8_t *data,
                      uint32_t caplen, uint32_t wire_len);

/* Expires idle flows as of `now_usec` (live captures call it on read
 * timeouts, so flows end even when traffic stops). */
void pipeline_tick(struct pipeline *pipeline, uint64_t now_usec);

/* Ends every flow and completes the audit. Call once, after the last frame. */
void pipeline_finish(struct pipeline *pipeline);

const struct pipeline_counters *pipeline_get_counters(const struct pipeline *pipeline);
const struct audit *pipeline_get_audit(const struct pipeline *pipeline);

/* Audits, into `into`, a copy of every flow still active, as if it ended
 * now (the provisional results a live capture checkpoints). */
void pipeline_audit_active(const struct pipeline *pipeline, struct audit *into);

/* A finished audit of everything seen so far: the ended flows' results,
 * the active flows as if they ended now, and the access table. For live
 * snapshots (web UI); the caller destroys it. NULL on allocation failure. */
struct audit *pipeline_snapshot_audit(const struct pipeline *pipeline, const struct matrix *matrix,
                                      const struct rules *rules, size_t max_entries);

/* 802.11 networks and 802.1X stations seen (monitor-mode frames, RADIUS). */
const struct access_table *pipeline_get_access(const struct pipeline *pipeline);
void pipeline_get_flow_stats(const struct pipeline *pipeline, struct flow_table_stats *stats);
void pipeline_get_dpi_stats(const struct pipeline *pipeline, struct dpi_stats *stats);

#endif
