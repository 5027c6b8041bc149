/* audit: finished flows + matrix + rules -> aggregated findings.
 *
 * The only stage that decides what is a deviation. Pure: it sees typed flow
 * facts, never packet bytes, so policy is tested without captures. Each
 * flow is attributed to every inventory device it touches (by IP or MAC)
 * and matched against that device's declared flows. Findings are
 * aggregated per (device, code, client, server, protocol, port, matrix
 * flow) with first/last seen and counts; observed flows per (device,
 * client, server, protocol, port, application). Both tables are capped;
 * what does not fit is counted in `dropped`. */
#ifndef FLUXAUDIT_AUDIT_H
#define FLUXAUDIT_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fluxaudit/access.h"
#include "fluxaudit/facts.h"
#include "fluxaudit/finding.h"
#include "fluxaudit/flow.h"
#include "fluxaudit/matrix.h"
#include "fluxaudit/netaddr.h"
#include "fluxaudit/rules.h"

#define AUDIT_EVIDENCE_MAX 6
#define AUDIT_EVIDENCE_KEY_MAX 24
#define AUDIT_EVIDENCE_VALUE_MAX 96
#define AUDIT_DEFAULT_MAX_ENTRIES 100000

struct evidence_item {
    char key[AUDIT_EVIDENCE_KEY_MAX];
    char value[AUDIT_EVIDENCE_VALUE_MAX];
};

/* The flow a finding or an observed flow is about. For FLOW_NOT_OBSERVED,
 * which has no traffic, `client_text`/`server_text` carry the declared
 * peers and the addresses are empty. */
struct audit_flow_ref {
    struct net_addr client;
    struct net_addr server;
    char client_text[NET_ADDR_TEXT_MAX];
    char server_text[NET_ADDR_TEXT_MAX];
    uint8_t ip_proto;            /* IP_PROTO_*, 0 for "any" */
    uint16_t port;               /* server port, 0 for ICMP / any */
    char app[FACT_NAME_MAX];     /* application seen, "" if none */
};

struct audit_finding {
    enum finding_code code;
    const struct rule_variant *variant; /* the rule's variant that applied, or NULL */
    const struct risk_rule *risk;       /* the nDPI risk rule that raised it, or NULL */
    enum severity severity;
    bool waived;
    struct audit_flow_ref flow;
    const struct matrix_flow *matrix_flow; /* the declared flow it concerns, or NULL */
    uint64_t first_usec;
    uint64_t last_usec;
    uint64_t flows;              /* connections aggregated here */
    uint64_t packets;
    uint64_t bytes;
    struct evidence_item evidence[AUDIT_EVIDENCE_MAX];
    size_t evidence_count;
};

struct audit_observed_flow {
    struct audit_flow_ref flow;
    const struct matrix_flow *matrix_flow; /* NULL when undeclared */
    uint64_t first_usec;
    uint64_t last_usec;
    uint64_t flows;
    uint64_t packets;
    uint64_t bytes;
};

struct audit_device {
    const struct matrix_device *device;
    struct audit_finding *findings;  /* in order of first appearance */
    size_t finding_count;
    struct audit_observed_flow *observed;
    size_t observed_count;
    bool *matrix_flow_seen;          /* one per device->flows */
    uint64_t counts[SEVERITY_COUNT]; /* open findings by severity */
    uint64_t waived_count;
};

struct audit_stats {
    uint64_t flows_audited;
    uint64_t flows_unattributed;     /* touched no inventory device */
    uint64_t dropped;                /* findings or observed flows past the cap */
};

/* Creates an audit over `matrix` and `rules` (borrowed: they must outlive
 * the audit). `max_entries` caps findings plus observed flows. */
struct audit *audit_create(const struct matrix *matrix, const struct rules *rules, size_t max_entries);
void audit_destroy(struct audit *audit);

/* Audits one finished flow (its facts are final). Ignored after
 * audit_finish. */
void audit_flow(struct audit *audit, const struct flow *flow);

/* Audits how inventory devices joined the network: 802.11 networks they
 * associated to, EAP methods, RADIUS 802.1X (WIFI_* findings). Call once,
 * before audit_finish. */
void audit_access(struct audit *audit, const struct access_table *access);

/* Adds the campaign-level findings (FLOW_NOT_OBSERVED) and sorts results.
 * Call once, after the last flow. */
void audit_finish(struct audit *audit);

size_t audit_device_count(const struct audit *audit);
const struct audit_device *audit_get_device(const struct audit *audit, size_t index);
void audit_get_stats(const struct audit *audit, struct audit_stats *stats);

/* A finding or an observed flow as a store keeps it: names where the audit
 * holds pointers, so it can be merged into an audit of another process. */
struct audit_record {
    const char *device;                 /* inventory device name */
    bool is_finding;                    /* a finding, or an observed flow */
    enum finding_code code;             /* findings */
    const char *variant;                /* rule variant name, NULL for none */
    const char *risk;                   /* nDPI risk key that raised it, NULL for none */
    const char *matrix_flow;            /* declared flow id, NULL when undeclared */
    struct audit_flow_ref flow;         /* client/server as text (addresses parsed back) */
    uint64_t first_usec;
    uint64_t last_usec;
    uint64_t flows;
    uint64_t packets;
    uint64_t bytes;
    const struct evidence_item *evidence; /* findings; kept from the first record merged */
    size_t evidence_count;
};

/* Merges a stored result into the audit as if its flows had been audited
 * here (counts added, first/last seen widened). FLOW_NOT_OBSERVED records
 * are ignored: audit_finish recomputes them for the whole campaign. Returns
 * false, counting the record in `dropped`, when its device, declared flow,
 * variant or risk rule no longer exists in this matrix or these rules. Call
 * before audit_finish. */
bool audit_import(struct audit *audit, const struct audit_record *record);

/* Imports every result of `from` (which may be unfinished) into `into`.
 * Returns false if some were dropped (see audit_import). */
bool audit_merge(struct audit *into, const struct audit *from);

/* Describes finding `index` or observed flow `index` of `device` as a
 * record (pointers into the audit, valid while it lives). */
void audit_export_finding(const struct audit_device *device, size_t index,
                          struct audit_record *record);
void audit_export_observed(const struct audit_device *device, size_t index,
                           struct audit_record *record);

/* "conform" when the device has no open finding above info, else "deviations". */
const char *audit_device_verdict(const struct audit_device *device);

/* Returns true if some open finding has a severity at or above `threshold`. */
bool audit_has_open_at_or_above(const struct audit *audit, enum severity threshold);

#endif
