/* pipeline: decode -> flow table -> dpi and inspectors -> audit, wired once. */
#include "fluxaudit/pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fluxaudit/decode.h"
#include "fluxaudit/access.h"
#include "fluxaudit/inspect_credentials.h"
#include "fluxaudit/inspect_dns.h"
#include "fluxaudit/inspect_health.h"
#include "fluxaudit/inspect_snmp.h"
#include "fluxaudit/inspect_tls.h"

/* How many 802.11 networks and 802.1X stations a capture keeps: a hospital
 * site has hundreds of access points and thousands of clients. */
#define PIPELINE_MAX_NETWORKS 4096
#define PIPELINE_MAX_STATIONS 65536
/* Addresses whose DNS names are remembered (for DNS-name matrix peers). */
#define PIPELINE_MAX_DNS_ADDRESSES 65536

/* Idle flows are expired at most this often (capture clock), so expiry
 * costs nothing per packet. */
#define EXPIRE_INTERVAL_USEC 1000000u

struct pipeline {
    const struct default_credentials *default_credentials;
    pipeline_flow_fn on_flow_audited;
    void *on_flow_audited_user;
    struct access_table *access;
    struct dns_names *dns_names;
    struct flow_table *flows;
    struct dpi *dpi;
    struct audit *audit;
    struct pipeline_counters counters;
    uint64_t last_expire_usec;
    bool finished;
};

void pipeline_default_config(struct pipeline_config *config)
{
    memset(config, 0, sizeof(*config));
    flow_table_default_config(&config->flows);
    config->max_audit_entries = AUDIT_DEFAULT_MAX_ENTRIES;
}

static void release_tls(struct flow *flow)
{
    tls_inspector_destroy(flow->tls_state);
    flow->tls_state = NULL;
}

static void release_credentials(struct flow *flow)
{
    credential_inspector_destroy(flow->credential_state);
    flow->credential_state = NULL;
}

static void release_health(struct flow *flow)
{
    health_inspector_destroy(flow->health_state);
    flow->health_state = NULL;
}

/* The project's name of the health protocol the flow carried, or "". */
static const char *health_app(const struct health_facts *health)
{
    if (health->dicom.seen)
        return health_protocol_name(HEALTH_PROTOCOL_DICOM);
    if (health->hl7.seen)
        return health_protocol_name(HEALTH_PROTOCOL_HL7);
    if (health->fhir.seen)
        return health_protocol_name(HEALTH_PROTOCOL_FHIR);
    return "";
}

/* A protocol one of the project's inspectors recognised by its structure
 * names the flow; nDPI's guess is kept beside it. */
static void adopt_inspected_app(struct flow_facts *facts, const char *name)
{
    if (name[0] == '\0' || strcasecmp(facts->app, name) == 0)
        return;
    snprintf(facts->ndpi_name, sizeof(facts->ndpi_name), "%s", facts->app);
    snprintf(facts->app, sizeof(facts->app), "%s", name);
}

/* Merges what the inspectors learned into the facts the audit reads: the
 * protocol an inspector recognised by structure, the protection the
 * handshakes showed, the names DNS gave the server. */
static void complete_facts(const struct pipeline *pipeline, struct flow *flow)
{
    dns_names_lookup(pipeline->dns_names, &flow->server, flow->facts.resolved_names,
                     sizeof(flow->facts.resolved_names) / sizeof(flow->facts.resolved_names[0]));
    const char *health = health_app(&flow->facts.health);
    if (health[0] != '\0')
        adopt_inspected_app(&flow->facts, health);
    else if (flow->facts.credentials.count > 0)
        adopt_inspected_app(&flow->facts, flow->facts.credentials.items[0].protocol);
    const struct tls_facts *tls = &flow->facts.tls;
    if (tls->is_dtls && (tls->client_hello_seen || tls->server_hello_seen))
        flow->facts.security = SECURITY_DTLS;
    else if (tls->client_hello_seen || tls->server_hello_seen)
        flow->facts.security = SECURITY_TLS;
    else if (flow->facts.snmp_version == 3)
        flow->facts.security = SECURITY_SNMPV3;
}

/* Every flow ends here exactly once: finish the facts, then audit them. */
static void on_flow_end(struct flow *flow, enum flow_end_reason reason, void *user)
{
    (void)reason; /* an evicted flow is audited like any other */
    struct pipeline *pipeline = user;
    dpi_flow_finish(pipeline->dpi, flow);
    release_tls(flow);
    release_credentials(flow);
    release_health(flow);
    complete_facts(pipeline, flow);
    audit_flow(pipeline->audit, flow);
    if (pipeline->on_flow_audited != NULL)
        pipeline->on_flow_audited(flow, pipeline->on_flow_audited_user);
}

struct pipeline *pipeline_create(const struct pipeline_config *config, const struct matrix *matrix,
                                 const struct rules *rules, char *err, size_t err_len)
{
    struct pipeline *pipeline = calloc(1, sizeof(*pipeline));
    if (pipeline == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    pipeline->default_credentials = config->default_credentials;
    pipeline->on_flow_audited = config->on_flow_audited;
    pipeline->on_flow_audited_user = config->on_flow_audited_user;
    pipeline->dpi = dpi_create(err, err_len);
    if (pipeline->dpi == NULL) {
        free(pipeline);
        return NULL;
    }
    pipeline->audit = audit_create(matrix, rules, config->max_audit_entries);
    pipeline->access = access_table_create(PIPELINE_MAX_NETWORKS, PIPELINE_MAX_STATIONS);
    pipeline->dns_names = dns_names_create(PIPELINE_MAX_DNS_ADDRESSES);
    pipeline->flows = flow_table_create(&config->flows, on_flow_end, pipeline);
    if (pipeline->audit == NULL || pipeline->access == NULL || pipeline->dns_names == NULL ||
        pipeline->flows == NULL) {
        snprintf(err, err_len, "out of memory");
        pipeline_destroy(pipeline);
        return NULL;
    }
    return pipeline;
}

void pipeline_destroy(struct pipeline *pipeline)
{
    if (pipeline == NULL)
        return;
    /* Flows must end before the audit and nDPI they are handed to go. */
    flow_table_destroy(pipeline->flows);
    audit_destroy(pipeline->audit);
    access_table_destroy(pipeline->access);
    dns_names_destroy(pipeline->dns_names);
    dpi_destroy(pipeline->dpi);
    free(pipeline);
}

/* DTLS handshakes sit in the first datagrams of a UDP flow. */
#define DTLS_INSPECTED_PACKETS 8

static void inspect_dtls(struct flow *flow, enum flow_direction direction,
                         const struct decoded_packet *packet)
{
    if (flow->tls_finished || packet->payload_len == 0 ||
        flow->packets[0] + flow->packets[1] > DTLS_INSPECTED_PACKETS)
        return;
    tls_inspect_datagram((int)direction, packet->payload, packet->payload_len, &flow->facts.tls);
    if (flow->facts.tls.server_hello_seen && flow->facts.tls.certificate.seen)
        flow->tls_finished = true;
}

static void inspect_tls(struct flow *flow, enum flow_direction direction,
                        const struct decoded_packet *packet)
{
    if (flow->ip_proto == IP_PROTO_UDP) {
        inspect_dtls(flow, direction, packet);
        return;
    }
    bool syn = (packet->tcp_flags & TCP_SYN) != 0;
    if (flow->tls_finished || flow->ip_proto != IP_PROTO_TCP || (!syn && packet->payload_len == 0))
        return;
    if (flow->tls_state == NULL) {
        flow->tls_state = tls_inspector_create();
        if (flow->tls_state == NULL)
            return;
    }
    tls_inspector_feed(flow->tls_state, (int)direction, packet->tcp_seq, syn, packet->payload,
                       packet->payload_len, &flow->facts.tls);
    if (tls_inspector_done(flow->tls_state)) {
        release_tls(flow);
        flow->tls_finished = true;
    }
}

/* SNMP datagrams of a flow read for communities, at most. */
#define SNMP_INSPECTED_PACKETS 16

/* SNMP's version says whether the flow is protected (v3) or carries a
 * community in clear (v1/v2c); the first messages of a UDP flow tell. */
static void inspect_snmp(const struct pipeline *pipeline, struct flow *flow,
                         enum flow_direction direction, const struct decoded_packet *packet)
{
    if (flow->ip_proto != IP_PROTO_UDP || packet->payload_len == 0 ||
        flow->packets[0] + flow->packets[1] > SNMP_INSPECTED_PACKETS)
        return;
    uint8_t version = snmp_message_version(packet->payload, packet->payload_len);
    if (flow->facts.snmp_version == 0 && flow->packets[0] + flow->packets[1] <= 4)
        flow->facts.snmp_version = version;
    if (version == 1 || version == 2)
        snmp_inspect_message(packet->payload, packet->payload_len, (int)direction,
                             pipeline->default_credentials, &flow->facts.credentials);
}

/* Logins in clear on TCP sessions: the protocol is chosen once, from the
 * server port or the first payload, then followed until it says done. */
static void inspect_credentials(const struct pipeline *pipeline, struct flow *flow,
                                enum flow_direction direction, const struct decoded_packet *packet)
{
    if (flow->credentials_finished || flow->ip_proto != IP_PROTO_TCP || packet->payload_len == 0)
        return;
    if (flow->credential_state == NULL) {
        enum credential_protocol protocol =
            credential_protocol_guess(flow->ip_proto, flow->server_port, packet->payload,
                                      packet->payload_len, direction == FLOW_TO_SERVER);
        if (protocol == CREDENTIAL_PROTOCOL_NONE) {
            flow->credentials_finished = true;
            return;
        }
        flow->credential_state =
            credential_inspector_create(protocol, pipeline->default_credentials);
        if (flow->credential_state == NULL)
            return;
    }
    credential_inspector_feed(flow->credential_state, (int)direction, packet->tcp_seq,
                              packet->payload, packet->payload_len, &flow->facts.credentials);
    if (credential_inspector_done(flow->credential_state)) {
        release_credentials(flow);
        flow->credentials_finished = true;
    }
}

/* Health data sessions (DICOM, HL7/MLLP, FHIR): recognised from the
 * client's first bytes, then followed until the inspector is done. */
static void inspect_health(struct flow *flow, enum flow_direction direction,
                           const struct decoded_packet *packet)
{
    if (flow->health_finished || flow->ip_proto != IP_PROTO_TCP || packet->payload_len == 0)
        return;
    if (flow->health_state == NULL) {
        enum health_protocol protocol =
            direction == FLOW_TO_SERVER
                ? health_protocol_detect(packet->payload, packet->payload_len)
                : HEALTH_PROTOCOL_NONE;
        if (protocol == HEALTH_PROTOCOL_NONE) {
            /* The server may speak first (banners): wait for the client. */
            if (direction == FLOW_TO_SERVER)
                flow->health_finished = true;
            return;
        }
        flow->health_state = health_inspector_create(protocol);
        if (flow->health_state == NULL)
            return;
    }
    health_inspector_feed(flow->health_state, (int)direction, packet->tcp_seq, packet->payload,
                          packet->payload_len, &flow->facts.health);
    if (health_inspector_done(flow->health_state)) {
        release_health(flow);
        flow->health_finished = true;
    }
}

/* DNS answers from a server: what the names the device looked up resolved to. */
static void inspect_dns(struct pipeline *pipeline, const struct flow *flow,
                        enum flow_direction direction, const struct decoded_packet *packet)
{
    if (flow->ip_proto == IP_PROTO_UDP && flow->server_port == 53 &&
        direction == FLOW_TO_CLIENT && packet->payload_len > 0)
        dns_names_inspect(pipeline->dns_names, packet->payload, packet->payload_len);
}

static bool is_radius_port(uint16_t port)
{
    return port == 1812 || port == 1813 || port == 1645 || port == 1646;
}

/* 802.1X seen from the wired side: every RADIUS datagram, whichever flow. */
static void inspect_radius(struct pipeline *pipeline, const struct flow *flow,
                           const struct decoded_packet *packet)
{
    if (flow->ip_proto != IP_PROTO_UDP || packet->payload_len == 0 ||
        !is_radius_port(flow->server_port))
        return;
    access_inspect_radius(pipeline->access, &packet->src, &packet->dst, packet->payload,
                          packet->payload_len, packet->ts_usec);
}

static void count_frame(struct pipeline_counters *counters, uint64_t ts_usec, uint32_t wire_len)
{
    counters->packets++;
    counters->bytes += wire_len;
    /* The packet count, not first_usec == 0, tells the first frame: a frame
     * stamped at the epoch is still the earliest. */
    if (counters->packets == 1 || ts_usec < counters->first_usec)
        counters->first_usec = ts_usec;
    if (ts_usec > counters->last_usec)
        counters->last_usec = ts_usec;
}

void pipeline_process(struct pipeline *pipeline, int dlt, uint64_t ts_usec, const uint8_t *data,
                      uint32_t caplen, uint32_t wire_len)
{
    struct pipeline_counters *counters = &pipeline->counters;
    count_frame(counters, ts_usec, wire_len);
    if (access_is_wifi_link_type(dlt))
        access_inspect_wifi_frame(pipeline->access, dlt, data, caplen, ts_usec);
    struct decoded_packet packet;
    switch (decode_packet(dlt, data, caplen, wire_len, ts_usec, &packet)) {
    case DECODE_OK:
        break;
    case DECODE_NOT_IP:
        counters->not_ip++;
        return;
    case DECODE_NOT_DECODED:
        counters->not_decoded++;
        return;
    case DECODE_FRAGMENT:
        counters->fragments++;
        return;
    case DECODE_MALFORMED:
        counters->malformed++;
        return;
    }
    counters->ip_packets++;
    if (ts_usec >= pipeline->last_expire_usec + EXPIRE_INTERVAL_USEC) {
        flow_table_expire(pipeline->flows, ts_usec);
        pipeline->last_expire_usec = ts_usec;
    }
    enum flow_direction direction;
    bool created; /* unused: every stage keeps its own per-flow state */
    struct flow *flow = flow_table_track(pipeline->flows, &packet, &direction, &created);
    if (flow == NULL)
        return;
    if (!flow->facts.dpi_done)
        dpi_process_packet(pipeline->dpi, flow, direction, &packet);
    inspect_tls(flow, direction, &packet);
    inspect_snmp(pipeline, flow, direction, &packet);
    inspect_credentials(pipeline, flow, direction, &packet);
    inspect_health(flow, direction, &packet);
    inspect_radius(pipeline, flow, &packet);
    inspect_dns(pipeline, flow, direction, &packet);
}

void pipeline_tick(struct pipeline *pipeline, uint64_t now_usec)
{
    flow_table_expire(pipeline->flows, now_usec);
    pipeline->last_expire_usec = now_usec;
}

void pipeline_finish(struct pipeline *pipeline)
{
    if (pipeline->finished)
        return;
    pipeline->finished = true;
    flow_table_flush(pipeline->flows);
    audit_access(pipeline->audit, pipeline->access);
    audit_finish(pipeline->audit);
}

const struct pipeline_counters *pipeline_get_counters(const struct pipeline *pipeline)
{
    return &pipeline->counters;
}

const struct audit *pipeline_get_audit(const struct pipeline *pipeline)
{
    return pipeline->audit;
}

struct active_visit {
    const struct pipeline *pipeline;
    struct audit *into;
};

/* Audits a copy of a live flow as if it ended now: the facts so far, no
 * state released (the flow goes on). */
static void audit_active_flow(const struct flow *flow, void *user)
{
    struct active_visit *visit = user;
    struct flow copy = *flow;
    copy.dpi_state = copy.tls_state = copy.credential_state = copy.health_state = NULL;
    complete_facts(visit->pipeline, &copy);
    audit_flow(visit->into, &copy);
}

void pipeline_audit_active(const struct pipeline *pipeline, struct audit *into)
{
    struct active_visit visit = {pipeline, into};
    flow_table_foreach(pipeline->flows, audit_active_flow, &visit);
}

struct audit *pipeline_snapshot_audit(const struct pipeline *pipeline, const struct matrix *matrix,
                                      const struct rules *rules, size_t max_entries)
{
    struct audit *snapshot = audit_create(matrix, rules, max_entries);
    if (snapshot == NULL)
        return NULL;
    audit_merge(snapshot, pipeline->audit);
    if (!pipeline->finished)
        pipeline_audit_active(pipeline, snapshot);
    audit_access(snapshot, pipeline->access);
    audit_finish(snapshot);
    return snapshot;
}

const struct access_table *pipeline_get_access(const struct pipeline *pipeline)
{
    return pipeline->access;
}

void pipeline_get_flow_stats(const struct pipeline *pipeline, struct flow_table_stats *stats)
{
    flow_table_get_stats(pipeline->flows, stats);
}

void pipeline_get_dpi_stats(const struct pipeline *pipeline, struct dpi_stats *stats)
{
    dpi_get_stats(pipeline->dpi, stats);
}
