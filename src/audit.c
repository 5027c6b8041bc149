/* audit: the one place that decides what is a deviation.
 *
 * For each finished flow and each inventory device it touches, find the
 * device's declared flow that matches it (protocol, emitter, receiver,
 * receiver port), then apply the rules to the flow's facts. Results are
 * aggregated so that a thousand identical connections make one finding. */
#include "fluxaudit/audit.h"

#include <time.h>

#include "fluxaudit/tls_ciphers.h"
#include "fluxaudit/window.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One aggregate: a finding or an observed flow of one device. */
struct aggregate_key {
    size_t device;
    int code; /* finding code, or -1 for an observed flow */
    const struct rule_variant *variant;
    const struct risk_rule *risk;
    const struct matrix_flow *matrix_flow;
    struct net_addr client;
    struct net_addr server;
    uint8_t ip_proto;
    uint16_t port;
    char app[FACT_NAME_MAX]; /* observed flows only */
};

struct aggregate_node {
    struct aggregate_key key;
    size_t index; /* into the device's findings or observed */
    struct aggregate_node *next;
};

struct audit {
    const struct matrix *matrix;
    const struct rules *rules;
    size_t max_entries;
    size_t entries;
    struct audit_device *devices;
    size_t device_count;
    struct window **windows; /* per device, per declared flow; NULL when none */
    size_t *finding_capacity;
    size_t *observed_capacity;
    struct aggregate_node **buckets;
    size_t bucket_count; /* power of two */
    struct audit_stats stats;
    bool finished;
};

/* Where a device sits in a flow. */
struct device_view {
    size_t device;
    bool is_client;
};

static uint32_t hash_bytes(uint32_t h, const void *data, size_t len)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static uint32_t aggregate_hash(const struct aggregate_key *key)
{
    uint32_t h = 2166136261u;
    h = hash_bytes(h, &key->device, sizeof(key->device));
    h = hash_bytes(h, &key->code, sizeof(key->code));
    h = hash_bytes(h, &key->variant, sizeof(key->variant));
    h = hash_bytes(h, &key->risk, sizeof(key->risk));
    h = hash_bytes(h, &key->matrix_flow, sizeof(key->matrix_flow));
    h = hash_bytes(h, &key->client, sizeof(key->client));
    h = hash_bytes(h, &key->server, sizeof(key->server));
    h = hash_bytes(h, &key->ip_proto, sizeof(key->ip_proto));
    h = hash_bytes(h, &key->port, sizeof(key->port));
    return hash_bytes(h, key->app, strlen(key->app));
}

static bool aggregate_equal(const struct aggregate_key *a, const struct aggregate_key *b)
{
    return a->device == b->device && a->code == b->code && a->variant == b->variant &&
           a->risk == b->risk && a->matrix_flow == b->matrix_flow && a->ip_proto == b->ip_proto &&
           a->port == b->port && net_addr_compare(&a->client, &b->client) == 0 &&
           net_addr_compare(&a->server, &b->server) == 0 && strcmp(a->app, b->app) == 0;
}

struct audit *audit_create(const struct matrix *matrix, const struct rules *rules,
                           size_t max_entries)
{
    struct audit *audit = calloc(1, sizeof(*audit));
    if (audit == NULL)
        return NULL;
    audit->matrix = matrix;
    audit->rules = rules;
    audit->max_entries = max_entries;
    audit->device_count = matrix->device_count;
    audit->bucket_count = 1024;
    while (audit->bucket_count < max_entries && audit->bucket_count < (1u << 20))
        audit->bucket_count <<= 1;
    audit->buckets = calloc(audit->bucket_count, sizeof(*audit->buckets));
    audit->devices = calloc(audit->device_count + 1, sizeof(*audit->devices));
    audit->finding_capacity = calloc(audit->device_count + 1, sizeof(size_t));
    audit->observed_capacity = calloc(audit->device_count + 1, sizeof(size_t));
    if (audit->buckets == NULL || audit->devices == NULL || audit->finding_capacity == NULL ||
        audit->observed_capacity == NULL) {
        audit_destroy(audit);
        return NULL;
    }
    audit->windows = calloc(audit->device_count + 1, sizeof(*audit->windows));
    if (audit->windows == NULL) {
        audit_destroy(audit);
        return NULL;
    }
    for (size_t i = 0; i < audit->device_count; i++) {
        const struct matrix_device *device = &matrix->devices[i];
        audit->devices[i].device = device;
        audit->devices[i].matrix_flow_seen = calloc(device->flow_count + 1, sizeof(bool));
        audit->windows[i] = calloc(device->flow_count + 1, sizeof(struct window));
        if (audit->devices[i].matrix_flow_seen == NULL || audit->windows[i] == NULL) {
            audit_destroy(audit);
            return NULL;
        }
        /* The loader validated every window; one that does not parse here
         * is treated as always open rather than raising on every flow. */
        for (size_t f = 0; f < device->flow_count; f++) {
            if (device->flows[f].window != NULL &&
                !window_parse(device->flows[f].window, &audit->windows[i][f], NULL, 0))
                audit->windows[i][f].always = true;
        }
    }
    return audit;
}

void audit_destroy(struct audit *audit)
{
    if (audit == NULL)
        return;
    for (size_t b = 0; audit->buckets != NULL && b < audit->bucket_count; b++) {
        struct aggregate_node *node = audit->buckets[b];
        while (node != NULL) {
            struct aggregate_node *next = node->next;
            free(node);
            node = next;
        }
    }
    for (size_t i = 0; audit->windows != NULL && i < audit->device_count; i++)
        free(audit->windows[i]);
    free(audit->windows);
    for (size_t i = 0; audit->devices != NULL && i < audit->device_count; i++) {
        free(audit->devices[i].findings);
        free(audit->devices[i].observed);
        free(audit->devices[i].matrix_flow_seen);
    }
    free(audit->buckets);
    free(audit->devices);
    free(audit->finding_capacity);
    free(audit->observed_capacity);
    free(audit);
}

/* Grows *array (of `size`-byte items) so it can hold one more. */
static bool reserve_one(void **array, size_t *capacity, size_t count, size_t size)
{
    if (count < *capacity)
        return true;
    size_t next = *capacity ? *capacity * 2 : 16;
    void *grown = realloc(*array, next * size);
    if (grown == NULL)
        return false;
    *array = grown;
    *capacity = next;
    return true;
}

/* Returns the aggregate's index in its device array, creating a zeroed
 * entry if needed; *created tells which. Returns SIZE_MAX past the cap. */
static size_t aggregate_lookup(struct audit *audit, const struct aggregate_key *key, bool *created)
{
    *created = false;
    size_t bucket = aggregate_hash(key) & (audit->bucket_count - 1);
    for (struct aggregate_node *node = audit->buckets[bucket]; node != NULL; node = node->next) {
        if (aggregate_equal(&node->key, key))
            return node->index;
    }
    if (audit->entries >= audit->max_entries) {
        audit->stats.dropped++;
        return SIZE_MAX;
    }
    struct audit_device *device = &audit->devices[key->device];
    size_t index;
    bool ok;
    if (key->code >= 0) {
        ok = reserve_one((void **)&device->findings, &audit->finding_capacity[key->device],
                         device->finding_count, sizeof(*device->findings));
        index = device->finding_count;
    } else {
        ok = reserve_one((void **)&device->observed, &audit->observed_capacity[key->device],
                         device->observed_count, sizeof(*device->observed));
        index = device->observed_count;
    }
    struct aggregate_node *node = ok ? calloc(1, sizeof(*node)) : NULL;
    if (node == NULL) {
        audit->stats.dropped++;
        return SIZE_MAX;
    }
    if (key->code >= 0)
        memset(&device->findings[device->finding_count++], 0, sizeof(*device->findings));
    else
        memset(&device->observed[device->observed_count++], 0, sizeof(*device->observed));
    node->key = *key;
    node->index = index;
    node->next = audit->buckets[bucket];
    audit->buckets[bucket] = node;
    audit->entries++;
    *created = true;
    return index;
}

static bool addr_in_prefixes(const struct net_prefix *prefixes, size_t count,
                             const struct net_addr *addr)
{
    for (size_t i = 0; i < count; i++) {
        if (net_prefix_contains(&prefixes[i], addr))
            return true;
    }
    return false;
}

/* Matches a DNS name of the matrix ("host.example", "*.example") against a
 * name seen in the capture, case-insensitively. */
static bool dns_name_matches(const char *pattern, const char *seen)
{
    if (pattern == NULL || seen == NULL || seen[0] == '\0')
        return false;
    if (strncmp(pattern, "*.", 2) == 0) {
        size_t suffix_len = strlen(pattern + 1); /* ".example" */
        size_t seen_len = strlen(seen);
        return seen_len > suffix_len && strcasecmp(seen + seen_len - suffix_len, pattern + 1) == 0;
    }
    return strcasecmp(pattern, seen) == 0;
}

/* The names the flow's server was seen under: TLS SNI, HTTP Host, and the
 * names DNS answers in the capture gave its address. */
static bool server_named(const struct flow *flow, const char *pattern)
{
    return dns_name_matches(pattern, flow->facts.tls.sni) ||
           dns_name_matches(pattern, flow->facts.server_name) ||
           dns_name_matches(pattern, flow->facts.resolved_names[0]) ||
           dns_name_matches(pattern, flow->facts.resolved_names[1]);
}

/* True if one endpoint of `flow` matches the matrix peer. `owner` is the
 * device whose matrix is being read; `is_server` says which endpoint. */
static bool peer_matches(const struct audit *audit, const struct matrix_peer *peer, size_t owner,
                         const struct flow *flow, bool is_server)
{
    const struct net_addr *addr = is_server ? &flow->server : &flow->client;
    const struct mac_addr *mac =
        flow->has_mac ? (is_server ? &flow->server_mac : &flow->client_mac) : NULL;
    const struct matrix *matrix = audit->matrix;
    switch (peer->kind) {
    case MATRIX_PEER_ANY:
        return true;
    case MATRIX_PEER_DEVICE:
        return matrix_device_owns(&matrix->devices[owner], addr, mac);
    case MATRIX_PEER_OTHER_DEVICE:
        return peer->index < matrix->device_count &&
               matrix_device_owns(&matrix->devices[peer->index], addr, mac);
    case MATRIX_PEER_PREFIX:
        return net_prefix_contains(&peer->prefix, addr);
    case MATRIX_PEER_INTERNET:
        return !matrix_is_internal(matrix, addr);
    case MATRIX_PEER_DNS:
        return is_server && server_named(flow, peer->dns_name);
    case MATRIX_PEER_HOST: {
        if (peer->index >= matrix->host_count)
            return false;
        const struct matrix_host *host = &matrix->hosts[peer->index];
        if (addr_in_prefixes(host->prefixes, host->prefix_count, addr))
            return true;
        for (size_t i = 0; is_server && i < host->dns_name_count; i++) {
            if (server_named(flow, host->dns_names[i]))
                return true;
        }
        return false;
    }
    }
    return false;
}

static bool proto_matches(enum matrix_proto proto, uint8_t ip_proto)
{
    switch (proto) {
    case MATRIX_PROTO_ANY:
        return true;
    case MATRIX_PROTO_TCP:
        return ip_proto == IP_PROTO_TCP;
    case MATRIX_PROTO_UDP:
        return ip_proto == IP_PROTO_UDP;
    case MATRIX_PROTO_ICMP:
        return ip_proto == IP_PROTO_ICMP || ip_proto == IP_PROTO_ICMPV6;
    }
    return false;
}

static bool has_ports(uint8_t ip_proto)
{
    return ip_proto == IP_PROTO_TCP || ip_proto == IP_PROTO_UDP;
}

/* True if the application seen is the declared one (nDPI's protocol or
 * service name, case-insensitive), or if nothing reliable was seen. */
/* The project's own health protocols, which nDPI 4.2 does not know: under
 * TLS they cannot be seen, only trusted to the matrix. */
static bool is_health_app(const char *app)
{
    return strcasecmp(app, "DICOM") == 0 || strcasecmp(app, "HL7") == 0 ||
           strcasecmp(app, "FHIR") == 0;
}

static bool app_consistent(const struct matrix_flow *declared, const struct flow_facts *facts)
{
    if (declared->app == NULL || facts->app[0] == '\0' || facts->dpi_guessed)
        return true;
    if (is_health_app(declared->app) &&
        (facts->security == SECURITY_TLS || facts->security == SECURITY_DTLS))
        return true;
    return strcasecmp(declared->app, facts->app) == 0 ||
           (facts->service[0] != '\0' && strcasecmp(declared->app, facts->service) == 0) ||
           (facts->ndpi_name[0] != '\0' && strcasecmp(declared->app, facts->ndpi_name) == 0);
}

/* The device's declared flow matching `flow`, preferring one whose
 * application also agrees; NULL when the flow is undeclared. */
static const struct matrix_flow *find_declared(const struct audit *audit, size_t owner,
                                               const struct flow *flow)
{
    const struct matrix_device *device = &audit->matrix->devices[owner];
    const struct matrix_flow *first = NULL;
    for (size_t i = 0; i < device->flow_count; i++) {
        const struct matrix_flow *candidate = &device->flows[i];
        if (!proto_matches(candidate->proto, flow->ip_proto))
            continue;
        if (has_ports(flow->ip_proto) && !matrix_flow_has_port(candidate, flow->server_port))
            continue;
        if (!peer_matches(audit, &candidate->from, owner, flow, false) ||
            !peer_matches(audit, &candidate->to, owner, flow, true))
            continue;
        if (app_consistent(candidate, &flow->facts))
            return candidate;
        if (first == NULL)
            first = candidate;
    }
    return first;
}

static void flow_ref_fill(struct audit_flow_ref *ref, const struct flow *flow)
{
    memset(ref, 0, sizeof(*ref));
    ref->client = flow->client;
    ref->server = flow->server;
    net_addr_format(&flow->client, ref->client_text, sizeof(ref->client_text));
    net_addr_format(&flow->server, ref->server_text, sizeof(ref->server_text));
    ref->ip_proto = flow->ip_proto;
    ref->port = has_ports(flow->ip_proto) ? flow->server_port : 0;
    snprintf(ref->app, sizeof(ref->app), "%s", flow->facts.app);
}

static void add_evidence(struct audit_finding *finding, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_evidence(struct audit_finding *finding, const char *key, const char *fmt, ...)
{
    if (finding->evidence_count >= AUDIT_EVIDENCE_MAX)
        return;
    struct evidence_item *item = &finding->evidence[finding->evidence_count++];
    snprintf(item->key, sizeof(item->key), "%s", key);
    va_list args;
    va_start(args, fmt);
    vsnprintf(item->value, sizeof(item->value), fmt, args);
    va_end(args);
}

/* What a finding is, beyond the flow it is about. */
struct finding_kind {
    enum finding_code code;
    const struct rule_variant *variant; /* NULL: the code's rule itself */
    const struct risk_rule *risk;       /* the nDPI risk rule that raised it, or NULL */
};

static enum severity kind_severity(const struct audit *audit, struct finding_kind kind)
{
    if (kind.risk != NULL && kind.risk->has_severity)
        return kind.risk->severity;
    if (kind.variant != NULL)
        return kind.variant->severity;
    return audit->rules->by_code[kind.code].severity;
}

/* Counts `flow` into the finding (kind, device, declared flow); returns the
 * finding when it was just created (so the caller adds evidence), else
 * NULL. */
static struct audit_finding *raise_kind(struct audit *audit, size_t device,
                                        struct finding_kind kind, const struct flow *flow,
                                        const struct matrix_flow *declared)
{
    struct aggregate_key key = {.device = device,
                                .code = (int)kind.code,
                                .variant = kind.variant,
                                .risk = kind.risk,
                                .matrix_flow = declared,
                                .client = flow->client,
                                .server = flow->server,
                                .ip_proto = flow->ip_proto,
                                .port = has_ports(flow->ip_proto) ? flow->server_port : 0};
    bool created;
    size_t index = aggregate_lookup(audit, &key, &created);
    if (index == SIZE_MAX)
        return NULL;
    struct audit_finding *finding = &audit->devices[device].findings[index];
    if (created) {
        finding->code = kind.code;
        finding->variant = kind.variant;
        finding->risk = kind.risk;
        finding->severity = kind_severity(audit, kind);
        finding->waived = declared != NULL && declared->waiver != NULL;
        flow_ref_fill(&finding->flow, flow);
        finding->matrix_flow = declared;
        finding->first_usec = flow->first_usec;
        finding->last_usec = flow->last_usec;
    }
    if (flow->first_usec < finding->first_usec)
        finding->first_usec = flow->first_usec;
    if (flow->last_usec > finding->last_usec)
        finding->last_usec = flow->last_usec;
    finding->flows++;
    finding->packets += flow->packets[0] + flow->packets[1];
    finding->bytes += flow->bytes[0] + flow->bytes[1];
    return created ? finding : NULL;
}

/* Raises `code` in its variant `variant_name` (NULL for the rule itself).
 * Disabled rules and variants raise nothing; a variant the rules file does
 * not name falls back to the code's rule. */
static struct audit_finding *raise_variant(struct audit *audit, size_t device,
                                           enum finding_code code, const char *variant_name,
                                           const struct flow *flow,
                                           const struct matrix_flow *declared)
{
    const struct rule *rule = &audit->rules->by_code[code];
    const struct rule_variant *variant = rule_find_variant(rule, variant_name);
    if (!rule->enabled || (variant != NULL && !variant->enabled))
        return NULL;
    struct finding_kind kind = {.code = code, .variant = variant};
    return raise_kind(audit, device, kind, flow, declared);
}

static struct audit_finding *raise_finding(struct audit *audit, size_t device,
                                           enum finding_code code, const struct flow *flow,
                                           const struct matrix_flow *declared)
{
    return raise_variant(audit, device, code, NULL, flow, declared);
}

static void record_observed(struct audit *audit, size_t device, const struct flow *flow,
                            const struct matrix_flow *declared)
{
    struct aggregate_key key = {.device = device,
                                .code = -1,
                                .matrix_flow = declared,
                                .client = flow->client,
                                .server = flow->server,
                                .ip_proto = flow->ip_proto,
                                .port = has_ports(flow->ip_proto) ? flow->server_port : 0};
    snprintf(key.app, sizeof(key.app), "%s", flow->facts.app);
    bool created;
    size_t index = aggregate_lookup(audit, &key, &created);
    if (index == SIZE_MAX)
        return;
    struct audit_observed_flow *observed = &audit->devices[device].observed[index];
    if (created) {
        flow_ref_fill(&observed->flow, flow);
        observed->matrix_flow = declared;
        observed->first_usec = flow->first_usec;
    }
    if (flow->first_usec < observed->first_usec)
        observed->first_usec = flow->first_usec;
    if (flow->last_usec > observed->last_usec)
        observed->last_usec = flow->last_usec;
    observed->flows++;
    observed->packets += flow->packets[0] + flow->packets[1];
    observed->bytes += flow->bytes[0] + flow->bytes[1];
}

static const char *direction_name(bool is_client)
{
    return is_client ? "outbound" : "inbound";
}

/* True if the device answered the connection: a SYN-ACK for TCP, any
 * datagram back for UDP. */
static bool device_answered(const struct flow *flow)
{
    if (flow->ip_proto == IP_PROTO_TCP)
        return (flow->tcp_flags[FLOW_TO_CLIENT] & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK);
    return flow->ip_proto == IP_PROTO_UDP && flow->packets[FLOW_TO_CLIENT] > 0;
}

/* True if some declared flow of the device lets it receive on the flow's
 * protocol and server port, whoever the peer. */
static bool service_declared(const struct audit *audit, size_t owner, const struct flow *flow)
{
    const struct matrix_device *device = &audit->matrix->devices[owner];
    for (size_t i = 0; i < device->flow_count; i++) {
        const struct matrix_flow *candidate = &device->flows[i];
        if (proto_matches(candidate->proto, flow->ip_proto) &&
            matrix_flow_has_port(candidate, flow->server_port) &&
            peer_matches(audit, &candidate->to, owner, flow, true))
            return true;
    }
    return false;
}

/* SERVICE_UNDECLARED (CLAUSIER-2025 O-12.2.4.1): the device accepted a
 * connection on a port no declared flow lets it receive on. Aggregated per
 * service, whoever the clients. Returns true when raised. */
static bool check_service(struct audit *audit, struct device_view view, const struct flow *flow)
{
    if (view.is_client || !has_ports(flow->ip_proto) || !device_answered(flow) ||
        service_declared(audit, view.device, flow))
        return false;
    struct flow service = *flow;
    memset(&service.client, 0, sizeof(service.client));
    struct audit_finding *finding =
        raise_finding(audit, view.device, FINDING_SERVICE_UNDECLARED, &service, NULL);
    if (finding != NULL) {
        char client[NET_ADDR_TEXT_MAX];
        net_addr_format(&flow->client, client, sizeof(client));
        snprintf(finding->flow.client_text, sizeof(finding->flow.client_text), "any");
        add_evidence(finding, "service", "%s/%u", flow->ip_proto == IP_PROTO_TCP ? "tcp" : "udp",
                     flow->server_port);
        add_evidence(finding, "first_client", "%s", client);
    }
    return true;
}

static void check_declaration(struct audit *audit, struct device_view view, const struct flow *flow,
                              const struct matrix_flow *declared)
{
    const struct net_addr *peer = view.is_client ? &flow->server : &flow->client;
    bool peer_public = !matrix_is_internal(audit->matrix, peer);
    struct audit_finding *finding = NULL;
    /* An internal client of an undeclared service is the service's finding;
     * the undeclared flow is not reported twice. */
    bool service = declared == NULL && check_service(audit, view, flow);
    if (declared == NULL && peer_public) {
        finding = raise_finding(audit, view.device, FINDING_FLOW_INTERNET_UNDECLARED, flow, NULL);
    } else if (declared == NULL && !service) {
        finding = raise_finding(audit, view.device, FINDING_FLOW_UNDECLARED, flow, NULL);
    } else if (declared != NULL && peer_public && !declared->internet) {
        finding =
            raise_finding(audit, view.device, FINDING_FLOW_INTERNET_UNDECLARED, flow, declared);
    }
    if (finding != NULL)
        add_evidence(finding, "direction", "%s", direction_name(view.is_client));
    if (!view.is_client && peer_public) {
        finding = raise_finding(audit, view.device, FINDING_FLOW_INBOUND_INTERNET, flow, declared);
        if (finding != NULL)
            add_evidence(finding, "direction", "inbound");
    }
    if (declared != NULL && !app_consistent(declared, &flow->facts)) {
        finding = raise_finding(audit, view.device, FINDING_FLOW_APP_MISMATCH, flow, declared);
        if (finding != NULL) {
            add_evidence(finding, "declared_app", "%s", declared->app);
            add_evidence(finding, "observed_app", "%s", flow->facts.app);
        }
    }
}

static bool tls_version_known(const struct tls_facts *tls)
{
    return tls->server_hello_seen && tls->version != 0;
}

/* DTLS numbers its versions downwards from 0xfeff (DTLS 1.0, which is TLS
 * 1.1 in DTLS clothes); 0xfefd is DTLS 1.2. */
#define DTLS_VERSION_1_2 0xfefd

static bool is_dtls_version(uint16_t version)
{
    return (version >> 8) == 0xfe;
}

/* SSL 2/3, TLS 1.0/1.1 and DTLS 1.0 are obsolete (CLAUSIER-2025 O-8.1). */
static bool tls_version_obsolete(uint16_t version)
{
    if (is_dtls_version(version))
        return version > DTLS_VERSION_1_2;
    return version < TLS_VERSION_1_2;
}

/* The protection the flow showed, for messages: "none", "TLSv1.0"... */
static const char *observed_security(const struct flow_facts *facts)
{
    if (facts->security == SECURITY_TLS && tls_version_known(&facts->tls))
        return tls_version_name(facts->tls.version);
    return transport_security_name(facts->security);
}

/* True if the flow shows less than the declared protection. Unknown
 * protection (no payload, capture started mid-stream) is not a deviation. */
static bool below_declared(enum matrix_encryption declared, const struct flow_facts *facts)
{
    enum transport_security seen = facts->security;
    if (seen == SECURITY_UNKNOWN || declared == MATRIX_ENCRYPTION_NONE)
        return false;
    if (seen == SECURITY_CLEARTEXT)
        return true;
    uint16_t version = tls_version_known(&facts->tls) ? facts->tls.version : 0;
    switch (declared) {
    case MATRIX_ENCRYPTION_TLS12:
        return seen == SECURITY_TLS && version != 0 && version < TLS_VERSION_1_2;
    case MATRIX_ENCRYPTION_TLS13:
        return seen == SECURITY_TLS && version != 0 && version < TLS_VERSION_1_3;
    case MATRIX_ENCRYPTION_DTLS12:
        return seen == SECURITY_DTLS && version != 0 && tls_version_obsolete(version);
    default:
        return false;
    }
}

static void check_crypto(struct audit *audit, struct device_view view, const struct flow *flow,
                         const struct matrix_flow *declared)
{
    const struct flow_facts *facts = &flow->facts;
    struct audit_finding *finding;
    if (tls_version_known(&facts->tls) && tls_version_obsolete(facts->tls.version)) {
        finding = raise_finding(audit, view.device, FINDING_TLS_OBSOLETE_VERSION, flow, declared);
        if (finding != NULL) {
            add_evidence(finding, "tls_version", "%s", tls_version_name(facts->tls.version));
            if (facts->tls.client_hello_seen)
                add_evidence(finding, "offered_max_version", "%s",
                             tls_version_name(facts->tls.offered_max_version));
        }
    }
    if (declared != NULL && below_declared(declared->encryption, facts)) {
        finding =
            raise_finding(audit, view.device, FINDING_ENCRYPTION_BELOW_DECLARED, flow, declared);
        if (finding != NULL) {
            add_evidence(finding, "declared", "%s", matrix_encryption_name(declared->encryption));
            add_evidence(finding, "observed", "%s", observed_security(facts));
        }
    }
}

static void check_cipher(struct audit *audit, struct device_view view, const struct flow *flow,
                         const struct matrix_flow *declared)
{
    const struct tls_facts *tls = &flow->facts.tls;
    if (!tls->server_hello_seen)
        return;
    const struct tls_cipher_info *cipher = tls_cipher_lookup(tls->cipher_suite);
    if (cipher == NULL)
        return;
    const char *variant;
    if (tls_cipher_is_weak(cipher))
        variant = NULL;
    else if (tls_cipher_is_legacy(cipher))
        variant = "legacy";
    else
        return;
    struct audit_finding *finding =
        raise_variant(audit, view.device, FINDING_TLS_WEAK_CIPHER, variant, flow, declared);
    if (finding != NULL) {
        add_evidence(finding, "cipher", "%s", cipher->name);
        add_evidence(finding, "tls_version", "%s", tls_version_name(tls->version));
    }
}

static void format_date(int64_t seconds, char *buf, size_t len)
{
    time_t t = (time_t)seconds;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%d", &tm) == 0)
        snprintf(buf, len, "?");
}

static void certificate_evidence(struct audit_finding *finding,
                                 const struct certificate_facts *cert)
{
    char date[16];
    add_evidence(finding, "subject_cn", "%s", cert->subject_cn);
    add_evidence(finding, "issuer_cn", "%s", cert->issuer_cn);
    add_evidence(finding, "key", "%s-%u", cert->key_type, cert->key_bits);
    add_evidence(finding, "signature", "%s", cert->signature);
    format_date(cert->not_after, date, sizeof(date));
    add_evidence(finding, "not_after", "%s", date);
}

/* TLS_WEAK_CERTIFICATE, one variant per weakness of the server's leaf
 * certificate, judged at the flow's own capture time. */
static void check_certificate(struct audit *audit, struct device_view view, const struct flow *flow,
                              const struct matrix_flow *declared)
{
    const struct certificate_facts *cert = &flow->facts.tls.certificate;
    if (!cert->parsed)
        return;
    int64_t seen_at = (int64_t)(flow->first_usec / 1000000u);
    bool rsa_like = strcmp(cert->key_type, "RSA") == 0 || strcmp(cert->key_type, "DSA") == 0;
    const char *weaknesses[5];
    size_t count = 0;
    if (rsa_like && cert->key_bits > 0 && cert->key_bits < 2048)
        weaknesses[count++] = "short-key";
    if (cert->weak_signature_hash)
        weaknesses[count++] = "weak-signature";
    if (cert->not_after != 0 && seen_at > cert->not_after)
        weaknesses[count++] = "expired";
    if (cert->not_before != 0 && seen_at < cert->not_before)
        weaknesses[count++] = "not-yet-valid";
    if (cert->self_signed)
        weaknesses[count++] = "self-signed";
    for (size_t i = 0; i < count; i++) {
        struct audit_finding *finding = raise_variant(
            audit, view.device, FINDING_TLS_WEAK_CERTIFICATE, weaknesses[i], flow, declared);
        if (finding != NULL)
            certificate_evidence(finding, cert);
    }
}

static const char *credential_variant(enum credential_kind kind)
{
    switch (kind) {
    case CREDENTIAL_CHALLENGE:
        return "challenge";
    case CREDENTIAL_TOKEN:
        return "token";
    case CREDENTIAL_COMMUNITY:
        return "community";
    case CREDENTIAL_PASSWORD:
        break;
    }
    return NULL;
}

static void credential_evidence(struct audit_finding *finding, const struct credential_fact *item)
{
    add_evidence(finding, "protocol", "%s", item->protocol);
    add_evidence(finding, "method", "%s", item->method);
    if (item->masked_user[0] != '\0')
        add_evidence(finding, "user", "%s", item->masked_user);
    add_evidence(finding, "accepted", "%s",
                 item->accepted > 0    ? "yes"
                 : item->accepted == 0 ? "no"
                                       : "unknown");
}

/* One CLEARTEXT_CREDENTIALS per kind of credential in the flow and one
 * DEFAULT_CREDENTIALS if any was a well-known default: a flow is one
 * connection, however many logins it carried. */
static void check_credentials(struct audit *audit, struct device_view view, const struct flow *flow,
                              const struct matrix_flow *declared)
{
    const struct credential_facts *credentials = &flow->facts.credentials;
    bool kind_done[CREDENTIAL_COMMUNITY + 1] = {false};
    bool default_done = false;
    for (size_t i = 0; i < credentials->count && i < FACT_CREDENTIALS_MAX; i++) {
        const struct credential_fact *item = &credentials->items[i];
        if ((unsigned)item->kind <= CREDENTIAL_COMMUNITY && !kind_done[item->kind]) {
            kind_done[item->kind] = true;
            struct audit_finding *finding =
                raise_variant(audit, view.device, FINDING_CLEARTEXT_CREDENTIALS,
                              credential_variant(item->kind), flow, declared);
            if (finding != NULL)
                credential_evidence(finding, item);
        }
        if (item->default_credential && !default_done) {
            default_done = true;
            struct audit_finding *finding =
                raise_finding(audit, view.device, FINDING_DEFAULT_CREDENTIALS, flow, declared);
            if (finding != NULL)
                credential_evidence(finding, item);
        }
    }
}

/* The nDPI risks the rules file maps to findings. nDPI's cleartext
 * credential risk only counts when the project's own inspector, which says
 * which kind of credential it was, saw none. */
static void check_risks(struct audit *audit, struct device_view view, const struct flow *flow,
                        const struct matrix_flow *declared)
{
    const struct rules *rules = audit->rules;
    for (size_t i = 0; i < rules->risk_count; i++) {
        const struct risk_rule *risk = &rules->risks[i];
        if (risk->risk >= 64 || !(flow->facts.ndpi_risks & (UINT64_C(1) << risk->risk)))
            continue;
        if (risk->code == FINDING_CLEARTEXT_CREDENTIALS && flow->facts.credentials.count > 0)
            continue;
        if (!rules->by_code[risk->code].enabled)
            continue;
        struct finding_kind kind = {.code = risk->code, .risk = risk};
        struct audit_finding *finding = raise_kind(audit, view.device, kind, flow, declared);
        if (finding != NULL)
            add_evidence(finding, "ndpi_risk", "%s", risk->key);
    }
}

/* The remote-access tool the flow's application is, or NULL. A DNS lookup
 * nDPI names after the tool's domain ("DNS.AnyDesk") is not the tool's
 * session. */
static const char *remote_access_tool(const struct rules *rules, const struct flow_facts *facts)
{
    bool lookup = strcasecmp(facts->app, "DNS") == 0;
    for (size_t i = 0; i < rules->remote_access_app_count; i++) {
        const char *tool = rules->remote_access_apps[i];
        if (strcasecmp(tool, facts->app) == 0 || (!lookup && strcasecmp(tool, facts->service) == 0))
            return tool;
    }
    return NULL;
}

/* REMOTE_ACCESS_TOOL unless the matrix declares that very tool on the flow
 * (CLAUSIER-2025 O-9.3: no remote-control tool but the hospital's own). */
static void check_remote_access(struct audit *audit, struct device_view view,
                                const struct flow *flow, const struct matrix_flow *declared)
{
    const char *tool = remote_access_tool(audit->rules, &flow->facts);
    if (tool == NULL ||
        (declared != NULL && declared->app != NULL && strcasecmp(declared->app, tool) == 0))
        return;
    struct audit_finding *finding =
        raise_finding(audit, view.device, FINDING_REMOTE_ACCESS_TOOL, flow, declared);
    if (finding != NULL) {
        add_evidence(finding, "tool", "%s", tool);
        add_evidence(finding, "initiator", "%s", view.is_client ? "device" : "peer");
    }
}

/* Appends `item` to a ", "-separated list in `buf` if it still fits. */
static void join_item(char *buf, size_t len, const char *item)
{
    size_t used = strlen(buf);
    if (used + strlen(item) + 3 > len)
        return;
    snprintf(buf + used, len - used, "%s%s", used ? ", " : "", item);
}

static void dicom_evidence(struct audit_finding *finding, const struct dicom_facts *dicom)
{
    char classes[AUDIT_EVIDENCE_VALUE_MAX] = "";
    for (size_t i = 0; i < dicom->sop_class_count && i < FACT_HEALTH_TYPES_MAX; i++)
        join_item(classes, sizeof(classes), dicom->sop_classes[i]);
    add_evidence(finding, "protocol", "DICOM");
    add_evidence(finding, "calling_ae", "%s", dicom->calling_ae);
    add_evidence(finding, "called_ae", "%s", dicom->called_ae);
    add_evidence(finding, "sop_classes", "%s", classes);
    add_evidence(finding, "data_pdus", "%u", dicom->data_pdus);
}

static void hl7_evidence(struct audit_finding *finding, const struct hl7_facts *hl7)
{
    char types[AUDIT_EVIDENCE_VALUE_MAX] = "";
    for (size_t i = 0; i < hl7->message_type_count && i < FACT_HEALTH_TYPES_MAX; i++)
        join_item(types, sizeof(types), hl7->message_types[i]);
    add_evidence(finding, "protocol", "HL7");
    add_evidence(finding, "message_types", "%s", types);
    add_evidence(finding, "messages", "%u", hl7->messages);
    add_evidence(finding, "sending", "%s@%s", hl7->sending_application, hl7->sending_facility);
    add_evidence(finding, "receiving", "%s@%s", hl7->receiving_application,
                 hl7->receiving_facility);
}

static void fhir_evidence(struct audit_finding *finding, const struct fhir_facts *fhir)
{
    char resources[AUDIT_EVIDENCE_VALUE_MAX] = "";
    for (size_t i = 0; i < fhir->resource_type_count && i < FACT_HEALTH_TYPES_MAX; i++)
        join_item(resources, sizeof(resources), fhir->resource_types[i]);
    add_evidence(finding, "protocol", "FHIR");
    add_evidence(finding, "resources", "%s", resources);
    add_evidence(finding, "requests", "%u", fhir->requests);
    if (fhir->content_type[0] != '\0')
        add_evidence(finding, "content_type", "%s", fhir->content_type);
}

/* CLEARTEXT_HEALTH_DATA (CLAUSIER-2025 O-12.2.6.1): DICOM data sets, HL7
 * messages or FHIR requests crossed without encryption, declared or not.
 * A DICOM association that moved no data set (C-ECHO) carries none. */
static void check_health_data(struct audit *audit, struct device_view view, const struct flow *flow,
                              const struct matrix_flow *declared)
{
    const struct health_facts *health = &flow->facts.health;
    bool dicom = health->dicom.seen && health->dicom.dataset_transferred;
    bool hl7 = health->hl7.seen && health->hl7.messages > 0;
    bool fhir = health->fhir.seen && health->fhir.requests > 0;
    if (!dicom && !hl7 && !fhir)
        return;
    struct audit_finding *finding =
        raise_finding(audit, view.device, FINDING_CLEARTEXT_HEALTH_DATA, flow, declared);
    if (finding == NULL)
        return;
    if (dicom)
        dicom_evidence(finding, &health->dicom);
    else if (hl7)
        hl7_evidence(finding, &health->hl7);
    else
        fhir_evidence(finding, &health->fhir);
}

/* FLOW_OUTSIDE_WINDOW (CLAUSIER-2025 O-12.2.5.3): a declared flow with a
 * maintenance window started outside it, in the matrix's time zone. */
static void check_window(struct audit *audit, struct device_view view, const struct flow *flow,
                         const struct matrix_flow *declared)
{
    if (declared == NULL || declared->window == NULL)
        return;
    const struct matrix_device *device = &audit->matrix->devices[view.device];
    const struct window *window = &audit->windows[view.device][declared - device->flows];
    if (window->always ||
        window_contains(window, audit->matrix->timezone, (int64_t)(flow->first_usec / 1000000u)))
        return;
    struct audit_finding *finding =
        raise_finding(audit, view.device, FINDING_FLOW_OUTSIDE_WINDOW, flow, declared);
    if (finding != NULL) {
        add_evidence(finding, "window", "%s", declared->window);
        add_evidence(finding, "timezone", "%s",
                     audit->matrix->timezone != NULL ? audit->matrix->timezone : "UTC");
    }
}

static void audit_for_device(struct audit *audit, struct device_view view, const struct flow *flow)
{
    const struct matrix_flow *declared = find_declared(audit, view.device, flow);
    if (declared != NULL) {
        const struct matrix_device *device = &audit->matrix->devices[view.device];
        audit->devices[view.device].matrix_flow_seen[declared - device->flows] = true;
    }
    record_observed(audit, view.device, flow, declared);
    check_declaration(audit, view, flow, declared);
    check_crypto(audit, view, flow, declared);
    check_cipher(audit, view, flow, declared);
    check_certificate(audit, view, flow, declared);
    check_credentials(audit, view, flow, declared);
    check_risks(audit, view, flow, declared);
    check_remote_access(audit, view, flow, declared);
    check_health_data(audit, view, flow, declared);
    check_window(audit, view, flow, declared);
}

void audit_flow(struct audit *audit, const struct flow *flow)
{
    if (audit->finished) /* the aggregation index no longer matches the sorted arrays */
        return;
    audit->stats.flows_audited++;
    const struct mac_addr *client_mac = flow->has_mac ? &flow->client_mac : NULL;
    const struct mac_addr *server_mac = flow->has_mac ? &flow->server_mac : NULL;
    long client_device = matrix_find_device(audit->matrix, &flow->client, client_mac);
    long server_device = matrix_find_device(audit->matrix, &flow->server, server_mac);
    if (client_device < 0 && server_device < 0) {
        audit->stats.flows_unattributed++;
        return;
    }
    if (client_device >= 0)
        audit_for_device(audit, (struct device_view){(size_t)client_device, true}, flow);
    if (server_device >= 0 && server_device != client_device)
        audit_for_device(audit, (struct device_view){(size_t)server_device, false}, flow);
}

/* EAP methods that send a crackable or clear secret outside a TLS tunnel. */
static bool eap_method_weak(uint8_t type)
{
    return type == EAP_TYPE_MD5 || type == EAP_TYPE_LEAP || type == EAP_TYPE_GTC ||
           type == EAP_TYPE_MSCHAPV2;
}

/* A flow-shaped carrier for findings about how a station joined. */
static struct flow access_flow(const struct access_station *station, const char *medium)
{
    struct flow carrier;
    memset(&carrier, 0, sizeof(carrier));
    carrier.first_usec = station->first_usec;
    carrier.last_usec = station->last_usec;
    snprintf(carrier.facts.app, sizeof(carrier.facts.app), "%s", medium);
    return carrier;
}

/* Names the station and its network (BSSID or RADIUS client) in a new
 * finding's flow, where addresses would be. */
static void access_ref(struct audit_finding *finding, const struct access_station *station)
{
    mac_addr_format(&station->mac, finding->flow.client_text, sizeof(finding->flow.client_text));
    if (station->source == ACCESS_SOURCE_RADIUS)
        net_addr_format(&station->nas, finding->flow.server_text,
                        sizeof(finding->flow.server_text));
    else
        mac_addr_format(&station->bssid, finding->flow.server_text,
                        sizeof(finding->flow.server_text));
}

static void network_evidence(struct audit_finding *finding, const struct wifi_network *network,
                             const char *security)
{
    add_evidence(finding, "ssid", "%s", network != NULL ? network->ssid : "");
    add_evidence(finding, "security", "%s", security);
    if (network != NULL && network->channel != 0)
        add_evidence(finding, "channel", "%u", network->channel);
}

/* The security class of the network a station joined over the air. */
static void check_station_network(struct audit *audit, size_t device,
                                  const struct access_table *access,
                                  const struct access_station *station)
{
    const struct wifi_network *network = access_find_network(access, &station->bssid);
    enum wifi_security security = network != NULL ? network->security : WIFI_SECURITY_UNKNOWN;
    const char *security_text = wifi_security_name(security);
    enum finding_code code;
    switch (security) {
    case WIFI_SECURITY_OPEN:
    case WIFI_SECURITY_WEP:
    case WIFI_SECURITY_WPA_TKIP:
        code = FINDING_WIFI_WEAK_SECURITY;
        break;
    case WIFI_SECURITY_WPA2_PSK:
    case WIFI_SECURITY_WPA3_SAE:
    case WIFI_SECURITY_OWE:
        code = FINDING_WIFI_NOT_ENTERPRISE;
        break;
    case WIFI_SECURITY_UNKNOWN:
        /* No beacon seen: a 4-way handshake without any EAP is a PSK. */
        if (!station->eapol_key_seen || station->eap_method != 0)
            return;
        code = FINDING_WIFI_NOT_ENTERPRISE;
        security_text = "PSK (4-way handshake without 802.1X)";
        break;
    default:
        return;
    }
    struct flow carrier = access_flow(station, "802.11");
    struct audit_finding *finding = raise_finding(audit, device, code, &carrier, NULL);
    if (finding != NULL) {
        access_ref(finding, station);
        network_evidence(finding, network, security_text);
    }
}

/* The first weak EAP method the station answered with, or 0. */
static uint8_t weak_method_used(const struct access_station *station)
{
    for (size_t i = 0; i < station->eap_methods_used_count && i < 4; i++) {
        if (eap_method_weak(station->eap_methods_used[i]))
            return station->eap_methods_used[i];
    }
    return eap_method_weak(station->eap_method) ? station->eap_method : 0;
}

void audit_access(struct audit *audit, const struct access_table *access)
{
    if (audit->finished || access == NULL)
        return;
    for (size_t i = 0; i < access_station_count(access); i++) {
        const struct access_station *station = access_get_station(access, i);
        long device = matrix_find_device(audit->matrix, NULL, &station->mac);
        if (device < 0)
            continue;
        /* Associations are only ever seen over the air, whichever source
         * first named the station. */
        if (station->associated)
            check_station_network(audit, (size_t)device, access, station);
        uint8_t weak = weak_method_used(station);
        if (weak == 0)
            continue;
        const char *medium = station->source == ACCESS_SOURCE_RADIUS ? "RADIUS" : "802.11";
        struct flow carrier = access_flow(station, medium);
        struct audit_finding *finding =
            raise_finding(audit, (size_t)device, FINDING_WIFI_WEAK_EAP, &carrier, NULL);
        if (finding != NULL) {
            char name[24];
            access_ref(finding, station);
            add_evidence(finding, "eap_method", "%s", eap_method_name(weak, name, sizeof(name)));
            add_evidence(finding, "seen_in", "%s", medium);
            add_evidence(finding, "result",
                         station->eap_result > 0    ? "success"
                         : station->eap_result == 0 ? "failure"
                                                    : "unknown");
        }
    }
}

static const char *proto_text(enum matrix_proto proto)
{
    return matrix_proto_name(proto);
}

static void format_ports(const struct matrix_flow *declared, char *buf, size_t len)
{
    if (declared->any_port || declared->port_count == 0) {
        snprintf(buf, len, "any");
        return;
    }
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < declared->port_count && used < len; i++) {
        const struct port_range *range = &declared->ports[i];
        int n = range->low == range->high
                    ? snprintf(buf + used, len - used, "%s%u", i ? "," : "", range->low)
                    : snprintf(buf + used, len - used, "%s%u-%u", i ? "," : "", range->low,
                               range->high);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static uint8_t ip_proto_of(enum matrix_proto proto)
{
    switch (proto) {
    case MATRIX_PROTO_TCP:
        return IP_PROTO_TCP;
    case MATRIX_PROTO_UDP:
        return IP_PROTO_UDP;
    case MATRIX_PROTO_ICMP:
        return IP_PROTO_ICMP;
    default:
        return 0;
    }
}

/* FLOW_NOT_OBSERVED for one declared flow that never matched. */
static void raise_not_observed(struct audit *audit, size_t device_index,
                               const struct matrix_flow *declared)
{
    const struct rule *rule = &audit->rules->by_code[FINDING_FLOW_NOT_OBSERVED];
    if (!rule->enabled)
        return;
    struct aggregate_key key = {
        .device = device_index, .code = FINDING_FLOW_NOT_OBSERVED, .matrix_flow = declared};
    bool created;
    size_t index = aggregate_lookup(audit, &key, &created);
    if (index == SIZE_MAX || !created)
        return;
    struct audit_finding *finding = &audit->devices[device_index].findings[index];
    finding->code = FINDING_FLOW_NOT_OBSERVED;
    finding->severity = rule->severity;
    finding->waived = declared->waiver != NULL;
    finding->matrix_flow = declared;
    snprintf(finding->flow.client_text, sizeof(finding->flow.client_text), "%s",
             declared->from.text);
    snprintf(finding->flow.server_text, sizeof(finding->flow.server_text), "%s", declared->to.text);
    finding->flow.ip_proto = ip_proto_of(declared->proto);
    if (!declared->any_port && declared->port_count == 1 &&
        declared->ports[0].low == declared->ports[0].high)
        finding->flow.port = declared->ports[0].low;
    snprintf(finding->flow.app, sizeof(finding->flow.app), "%s",
             declared->app != NULL ? declared->app : "");
    char ports[AUDIT_EVIDENCE_VALUE_MAX];
    format_ports(declared, ports, sizeof(ports));
    add_evidence(finding, "declared_proto", "%s", proto_text(declared->proto));
    add_evidence(finding, "declared_port", "%s", ports);
}

static int compare_findings(const void *a, const void *b)
{
    const struct audit_finding *x = a, *y = b;
    if (x->severity != y->severity)
        return x->severity < y->severity ? -1 : 1;
    if (x->code != y->code)
        return x->code < y->code ? -1 : 1;
    if (x->code == FINDING_FLOW_NOT_OBSERVED && x->matrix_flow != y->matrix_flow)
        return x->matrix_flow < y->matrix_flow ? -1 : 1; /* one array: declaration order */
    int c = net_addr_compare(&x->flow.client, &y->flow.client);
    if (c == 0)
        c = net_addr_compare(&x->flow.server, &y->flow.server);
    if (c == 0 && x->flow.port != y->flow.port)
        c = x->flow.port < y->flow.port ? -1 : 1;
    if (c == 0 && x->flow.ip_proto != y->flow.ip_proto)
        c = x->flow.ip_proto < y->flow.ip_proto ? -1 : 1;
    if (c == 0 && x->matrix_flow != y->matrix_flow) {
        const char *xi = x->matrix_flow ? x->matrix_flow->id : "";
        const char *yi = y->matrix_flow ? y->matrix_flow->id : "";
        c = strcmp(xi, yi);
    }
    return c;
}

static int compare_observed(const void *a, const void *b)
{
    const struct audit_observed_flow *x = a, *y = b;
    int c = net_addr_compare(&x->flow.client, &y->flow.client);
    if (c == 0)
        c = net_addr_compare(&x->flow.server, &y->flow.server);
    if (c == 0 && x->flow.ip_proto != y->flow.ip_proto)
        c = x->flow.ip_proto < y->flow.ip_proto ? -1 : 1;
    if (c == 0 && x->flow.port != y->flow.port)
        c = x->flow.port < y->flow.port ? -1 : 1;
    if (c == 0)
        c = strcmp(x->flow.app, y->flow.app);
    return c;
}

void audit_finish(struct audit *audit)
{
    if (audit->finished)
        return;
    audit->finished = true;
    for (size_t d = 0; d < audit->device_count; d++) {
        struct audit_device *result = &audit->devices[d];
        for (size_t f = 0; f < result->device->flow_count; f++) {
            if (!result->matrix_flow_seen[f])
                raise_not_observed(audit, d, &result->device->flows[f]);
        }
        /* The aggregation index points into these arrays: sorting is the
         * last thing that happens to them. */
        if (result->finding_count > 1)
            qsort(result->findings, result->finding_count, sizeof(*result->findings),
                  compare_findings);
        if (result->observed_count > 1)
            qsort(result->observed, result->observed_count, sizeof(*result->observed),
                  compare_observed);
        for (size_t i = 0; i < result->finding_count; i++) {
            const struct audit_finding *finding = &result->findings[i];
            if (finding->waived)
                result->waived_count++;
            else
                result->counts[finding->severity]++;
        }
    }
}

static long device_by_name(const struct audit *audit, const char *name)
{
    for (size_t i = 0; name != NULL && i < audit->device_count; i++) {
        if (strcmp(audit->matrix->devices[i].name, name) == 0)
            return (long)i;
    }
    return -1;
}

static const struct matrix_flow *declared_by_id(const struct matrix_device *device, const char *id)
{
    for (size_t i = 0; id != NULL && i < device->flow_count; i++) {
        if (strcmp(device->flows[i].id, id) == 0)
            return &device->flows[i];
    }
    return NULL;
}

static const struct risk_rule *risk_by_key(const struct rules *rules, const char *key)
{
    for (size_t i = 0; key != NULL && i < rules->risk_count; i++) {
        if (strcmp(rules->risks[i].key, key) == 0)
            return &rules->risks[i];
    }
    return NULL;
}

/* A flow carrying a record's counters and identity, for the aggregation
 * paths that flows take. */
static struct flow record_flow(const struct audit_record *record)
{
    struct flow carrier;
    memset(&carrier, 0, sizeof(carrier));
    net_addr_parse(record->flow.client_text, &carrier.client);
    net_addr_parse(record->flow.server_text, &carrier.server);
    carrier.ip_proto = record->flow.ip_proto;
    carrier.server_port = record->flow.port;
    carrier.first_usec = record->first_usec;
    carrier.last_usec = record->last_usec;
    carrier.packets[0] = record->packets;
    carrier.bytes[0] = record->bytes;
    snprintf(carrier.facts.app, sizeof(carrier.facts.app), "%s", record->flow.app);
    return carrier;
}

static bool import_observed(struct audit *audit, size_t device, const struct audit_record *record,
                            const struct matrix_flow *declared)
{
    struct flow carrier = record_flow(record);
    size_t before = audit->stats.dropped;
    record_observed(audit, device, &carrier, declared);
    if (audit->stats.dropped != before)
        return false;
    /* record_observed counted one connection: the record holds several. */
    struct aggregate_key key = {.device = device,
                                .code = -1,
                                .matrix_flow = declared,
                                .client = carrier.client,
                                .server = carrier.server,
                                .ip_proto = carrier.ip_proto,
                                .port = has_ports(carrier.ip_proto) ? carrier.server_port : 0};
    snprintf(key.app, sizeof(key.app), "%s", carrier.facts.app);
    bool created;
    size_t index = aggregate_lookup(audit, &key, &created);
    if (index != SIZE_MAX)
        audit->devices[device].observed[index].flows += record->flows - 1;
    if (declared != NULL)
        audit->devices[device].matrix_flow_seen[declared - audit->matrix->devices[device].flows] =
            true;
    return true;
}

static bool import_finding(struct audit *audit, size_t device, const struct audit_record *record,
                           const struct matrix_flow *declared)
{
    const struct rule *rule = &audit->rules->by_code[record->code];
    struct finding_kind kind = {.code = record->code};
    if (record->variant != NULL &&
        (kind.variant = rule_find_variant(rule, record->variant)) == NULL)
        return false;
    if (record->risk != NULL && (kind.risk = risk_by_key(audit->rules, record->risk)) == NULL)
        return false;
    if (!rule->enabled || (kind.variant != NULL && !kind.variant->enabled))
        return true; /* disabled since: nothing to show, nothing lost */
    struct flow carrier = record_flow(record);
    size_t before = audit->stats.dropped;
    struct audit_finding *finding = raise_kind(audit, device, kind, &carrier, declared);
    if (audit->stats.dropped != before)
        return false;
    if (finding != NULL) { /* new: the record's identity and evidence */
        finding->flow = record->flow;
        for (size_t i = 0; i < record->evidence_count && i < AUDIT_EVIDENCE_MAX; i++)
            finding->evidence[finding->evidence_count++] = record->evidence[i];
    }
    struct aggregate_key key = {.device = device,
                                .code = (int)kind.code,
                                .variant = kind.variant,
                                .risk = kind.risk,
                                .matrix_flow = declared,
                                .client = carrier.client,
                                .server = carrier.server,
                                .ip_proto = carrier.ip_proto,
                                .port = has_ports(carrier.ip_proto) ? carrier.server_port : 0};
    bool created;
    size_t index = aggregate_lookup(audit, &key, &created);
    if (index != SIZE_MAX)
        audit->devices[device].findings[index].flows += record->flows - 1;
    return true;
}

bool audit_import(struct audit *audit, const struct audit_record *record)
{
    if (audit->finished)
        return false;
    if (record->is_finding && record->code == FINDING_FLOW_NOT_OBSERVED)
        return true;
    long device = device_by_name(audit, record->device);
    const struct matrix_flow *declared =
        device >= 0 ? declared_by_id(&audit->matrix->devices[device], record->matrix_flow) : NULL;
    bool ok = device >= 0 && (record->matrix_flow == NULL || declared != NULL) &&
              (unsigned)record->code < FINDING_CODE_COUNT && record->flows > 0;
    if (ok)
        ok = record->is_finding ? import_finding(audit, (size_t)device, record, declared)
                                : import_observed(audit, (size_t)device, record, declared);
    if (!ok)
        audit->stats.dropped++;
    return ok;
}

bool audit_merge(struct audit *into, const struct audit *from)
{
    bool ok = true;
    for (size_t d = 0; d < from->device_count; d++) {
        const struct audit_device *device = &from->devices[d];
        struct audit_record record;
        for (size_t i = 0; i < device->finding_count; i++) {
            audit_export_finding(device, i, &record);
            ok = audit_import(into, &record) && ok;
        }
        for (size_t i = 0; i < device->observed_count; i++) {
            audit_export_observed(device, i, &record);
            ok = audit_import(into, &record) && ok;
        }
    }
    return ok;
}

void audit_export_finding(const struct audit_device *device, size_t index,
                          struct audit_record *record)
{
    const struct audit_finding *finding = &device->findings[index];
    memset(record, 0, sizeof(*record));
    record->device = device->device->name;
    record->is_finding = true;
    record->code = finding->code;
    record->variant = finding->variant != NULL ? finding->variant->name : NULL;
    record->risk = finding->risk != NULL ? finding->risk->key : NULL;
    record->matrix_flow = finding->matrix_flow != NULL ? finding->matrix_flow->id : NULL;
    record->flow = finding->flow;
    record->first_usec = finding->first_usec;
    record->last_usec = finding->last_usec;
    record->flows = finding->flows;
    record->packets = finding->packets;
    record->bytes = finding->bytes;
    record->evidence = finding->evidence;
    record->evidence_count = finding->evidence_count;
}

void audit_export_observed(const struct audit_device *device, size_t index,
                           struct audit_record *record)
{
    const struct audit_observed_flow *observed = &device->observed[index];
    memset(record, 0, sizeof(*record));
    record->device = device->device->name;
    record->matrix_flow = observed->matrix_flow != NULL ? observed->matrix_flow->id : NULL;
    record->flow = observed->flow;
    record->first_usec = observed->first_usec;
    record->last_usec = observed->last_usec;
    record->flows = observed->flows;
    record->packets = observed->packets;
    record->bytes = observed->bytes;
}

size_t audit_device_count(const struct audit *audit)
{
    return audit->device_count;
}

const struct audit_device *audit_get_device(const struct audit *audit, size_t index)
{
    return index < audit->device_count ? &audit->devices[index] : NULL;
}

void audit_get_stats(const struct audit *audit, struct audit_stats *stats)
{
    *stats = audit->stats;
}

const char *audit_device_verdict(const struct audit_device *device)
{
    for (int s = SEVERITY_CRITICAL; s < SEVERITY_INFO; s++) {
        if (device->counts[s] > 0)
            return "deviations";
    }
    return "conform";
}

bool audit_has_open_at_or_above(const struct audit *audit, enum severity threshold)
{
    for (size_t d = 0; d < audit->device_count; d++) {
        for (int s = SEVERITY_CRITICAL; s <= (int)threshold && s < SEVERITY_COUNT; s++) {
            if (audit->devices[d].counts[s] > 0)
                return true;
        }
    }
    return false;
}
