/* dpi: nDPI 4.2 classification of flows. The only file that includes nDPI. */
#include "fluxaudit/dpi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ndpi/ndpi_api.h>

struct dpi {
    struct ndpi_detection_module_struct *module;
    struct dpi_stats stats;
};

/* Per-flow nDPI state, freed as soon as detection is over. */
struct dpi_flow_state {
    struct ndpi_flow_struct *ndpi_flow;
    ndpi_protocol protocol;
    uint32_t packets;
    bool detected;
};

struct dpi *dpi_create(char *err, size_t err_len)
{
    struct dpi *dpi = calloc(1, sizeof(*dpi));
    if (dpi == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    dpi->module = ndpi_init_detection_module(ndpi_no_prefs);
    if (dpi->module == NULL) {
        snprintf(err, err_len, "nDPI initialisation failed");
        free(dpi);
        return NULL;
    }
    NDPI_PROTOCOL_BITMASK all;
    NDPI_BITMASK_SET_ALL(all);
    ndpi_set_protocol_detection_bitmask2(dpi->module, &all);
    ndpi_finalize_initialization(dpi->module);
    return dpi;
}

void dpi_destroy(struct dpi *dpi)
{
    if (dpi == NULL)
        return;
    ndpi_exit_detection_module(dpi->module);
    free(dpi);
}

static void release_state(struct dpi *dpi, struct flow *flow)
{
    struct dpi_flow_state *state = flow->dpi_state;
    if (state == NULL)
        return;
    ndpi_free_flow(state->ndpi_flow);
    free(state);
    flow->dpi_state = NULL;
    dpi->stats.state_bytes -= SIZEOF_FLOW_STRUCT + sizeof(*state);
}

static struct dpi_flow_state *acquire_state(struct dpi *dpi, struct flow *flow)
{
    if (flow->dpi_state != NULL)
        return flow->dpi_state;
    struct dpi_flow_state *state = calloc(1, sizeof(*state));
    if (state == NULL)
        return NULL;
    state->ndpi_flow = ndpi_flow_malloc(SIZEOF_FLOW_STRUCT);
    if (state->ndpi_flow == NULL) {
        free(state);
        return NULL;
    }
    memset(state->ndpi_flow, 0, SIZEOF_FLOW_STRUCT);
    flow->dpi_state = state;
    dpi->stats.state_bytes += SIZEOF_FLOW_STRUCT + sizeof(*state);
    return state;
}

static void copy_name(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src != NULL ? src : "");
}

/* Derives the flow's protection from nDPI's protocol alone; the TLS
 * inspector refines it later with what the handshake showed. */
static enum transport_security security_of(struct dpi *dpi, ndpi_protocol protocol,
                                           const struct flow *flow)
{
    uint16_t ids[2] = {protocol.master_protocol, protocol.app_protocol};
    for (size_t i = 0; i < 2; i++) {
        switch (ids[i]) {
        case NDPI_PROTOCOL_SSH:
            return SECURITY_SSH;
        case NDPI_PROTOCOL_IP_IPSEC:
            return SECURITY_IPSEC;
        case NDPI_PROTOCOL_DTLS:
            return SECURITY_DTLS;
        default:
            break;
        }
    }
    if (ndpi_is_encrypted_proto(dpi->module, protocol))
        return SECURITY_OTHER_ENCRYPTED;
    bool known = protocol.master_protocol != NDPI_PROTOCOL_UNKNOWN ||
                 protocol.app_protocol != NDPI_PROTOCOL_UNKNOWN;
    bool payload = flow->payload_bytes[0] + flow->payload_bytes[1] > 0;
    if (!payload)
        return SECURITY_UNKNOWN;
    /* Unknown payload is only called cleartext when the connection was seen
     * from its start: a capture that begins mid-stream proves nothing. */
    if (known || flow->oriented_by_syn)
        return SECURITY_CLEARTEXT;
    return SECURITY_UNKNOWN;
}

static void fill_facts(struct dpi *dpi, struct flow *flow, const struct dpi_flow_state *state)
{
    struct flow_facts *facts = &flow->facts;
    ndpi_protocol protocol = state->protocol;
    facts->ndpi_master = protocol.master_protocol;
    facts->ndpi_app = protocol.app_protocol;
    uint16_t main_id = protocol.master_protocol != NDPI_PROTOCOL_UNKNOWN ? protocol.master_protocol
                                                                        : protocol.app_protocol;
    if (main_id != NDPI_PROTOCOL_UNKNOWN)
        copy_name(facts->app, sizeof(facts->app), ndpi_get_proto_name(dpi->module, main_id));
    else
        facts->app[0] = '\0';
    if (protocol.master_protocol != NDPI_PROTOCOL_UNKNOWN &&
        protocol.app_protocol != NDPI_PROTOCOL_UNKNOWN &&
        protocol.app_protocol != protocol.master_protocol)
        copy_name(facts->service, sizeof(facts->service),
                  ndpi_get_proto_name(dpi->module, protocol.app_protocol));
    else
        facts->service[0] = '\0';
    copy_name(facts->category, sizeof(facts->category),
              ndpi_category_get_name(dpi->module, protocol.category));
    facts->ndpi_risks = state->ndpi_flow->risk;
    copy_name(facts->server_name, sizeof(facts->server_name),
              (const char *)state->ndpi_flow->host_server_name);
    facts->security = security_of(dpi, protocol, flow);
}

void dpi_process_packet(struct dpi *dpi, struct flow *flow, enum flow_direction direction,
                        const struct decoded_packet *packet)
{
    (void)direction; /* nDPI tracks direction itself from the IP header */
    if (flow->facts.dpi_done)
        return;
    struct dpi_flow_state *state = acquire_state(dpi, flow);
    if (state == NULL)
        return;
    uint32_t len = packet->l3_len > 0xFFFF ? 0xFFFF : packet->l3_len;
    state->protocol = ndpi_detection_process_packet(dpi->module, state->ndpi_flow, packet->l3,
                                                    (unsigned short)len, packet->ts_usec / 1000);
    state->packets++;
    if (state->protocol.app_protocol != NDPI_PROTOCOL_UNKNOWN ||
        state->protocol.master_protocol != NDPI_PROTOCOL_UNKNOWN)
        state->detected = true;
    bool more = state->detected && ndpi_extra_dissection_possible(dpi->module, state->ndpi_flow);
    if ((state->detected && !more) || state->packets >= DPI_MAX_PACKETS_PER_FLOW)
        dpi_flow_finish(dpi, flow);
}

/* Recomputes the protection from the final counters: a flow classified on
 * its first packets may carry its payload only later. */
static void refresh_security(struct dpi *dpi, struct flow *flow)
{
    ndpi_protocol protocol = {flow->facts.ndpi_master, flow->facts.ndpi_app,
                              NDPI_PROTOCOL_CATEGORY_UNSPECIFIED};
    flow->facts.security = security_of(dpi, protocol, flow);
}

void dpi_flow_finish(struct dpi *dpi, struct flow *flow)
{
    if (flow->facts.dpi_done) {
        refresh_security(dpi, flow);
        return;
    }
    struct dpi_flow_state *state = flow->dpi_state;
    flow->facts.dpi_done = true;
    if (state == NULL) { /* never saw a packet worth classifying */
        refresh_security(dpi, flow);
        dpi->stats.flows_unknown++;
        return;
    }
    if (state->detected) {
        dpi->stats.flows_classified++;
    } else {
        uint8_t guessed = 0;
        state->protocol = ndpi_detection_giveup(dpi->module, state->ndpi_flow, 1, &guessed);
        bool known = state->protocol.app_protocol != NDPI_PROTOCOL_UNKNOWN ||
                     state->protocol.master_protocol != NDPI_PROTOCOL_UNKNOWN;
        flow->facts.dpi_guessed = known && guessed;
        if (known && !guessed)
            dpi->stats.flows_classified++;
        else if (known)
            dpi->stats.flows_guessed++;
        else
            dpi->stats.flows_unknown++;
    }
    fill_facts(dpi, flow, state);
    release_state(dpi, flow);
}

const char *dpi_risk_name(unsigned risk)
{
    if (risk >= NDPI_MAX_RISK)
        return "unknown";
    return ndpi_risk2str((ndpi_risk_enum)risk);
}

/* nDPI 4.2's risk identifiers, spelled as in ndpi_typedefs.h so that the
 * rules file names them exactly like nDPI's documentation does. */
#define RISK_KEY(id) {id, #id}
static const struct {
    ndpi_risk_enum risk;
    const char *key;
} risk_keys[] = {
    RISK_KEY(NDPI_URL_POSSIBLE_XSS),
    RISK_KEY(NDPI_URL_POSSIBLE_SQL_INJECTION),
    RISK_KEY(NDPI_URL_POSSIBLE_RCE_INJECTION),
    RISK_KEY(NDPI_BINARY_APPLICATION_TRANSFER),
    RISK_KEY(NDPI_KNOWN_PROTOCOL_ON_NON_STANDARD_PORT),
    RISK_KEY(NDPI_TLS_SELFSIGNED_CERTIFICATE),
    RISK_KEY(NDPI_TLS_OBSOLETE_VERSION),
    RISK_KEY(NDPI_TLS_WEAK_CIPHER),
    RISK_KEY(NDPI_TLS_CERTIFICATE_EXPIRED),
    RISK_KEY(NDPI_TLS_CERTIFICATE_MISMATCH),
    RISK_KEY(NDPI_HTTP_SUSPICIOUS_USER_AGENT),
    RISK_KEY(NDPI_HTTP_NUMERIC_IP_HOST),
    RISK_KEY(NDPI_HTTP_SUSPICIOUS_URL),
    RISK_KEY(NDPI_HTTP_SUSPICIOUS_HEADER),
    RISK_KEY(NDPI_TLS_NOT_CARRYING_HTTPS),
    RISK_KEY(NDPI_SUSPICIOUS_DGA_DOMAIN),
    RISK_KEY(NDPI_MALFORMED_PACKET),
    RISK_KEY(NDPI_SSH_OBSOLETE_CLIENT_VERSION_OR_CIPHER),
    RISK_KEY(NDPI_SSH_OBSOLETE_SERVER_VERSION_OR_CIPHER),
    RISK_KEY(NDPI_SMB_INSECURE_VERSION),
    RISK_KEY(NDPI_TLS_SUSPICIOUS_ESNI_USAGE),
    RISK_KEY(NDPI_UNSAFE_PROTOCOL),
    RISK_KEY(NDPI_DNS_SUSPICIOUS_TRAFFIC),
    RISK_KEY(NDPI_TLS_MISSING_SNI),
    RISK_KEY(NDPI_HTTP_SUSPICIOUS_CONTENT),
    RISK_KEY(NDPI_RISKY_ASN),
    RISK_KEY(NDPI_RISKY_DOMAIN),
    RISK_KEY(NDPI_MALICIOUS_JA3),
    RISK_KEY(NDPI_MALICIOUS_SHA1_CERTIFICATE),
    RISK_KEY(NDPI_DESKTOP_OR_FILE_SHARING_SESSION),
    RISK_KEY(NDPI_TLS_UNCOMMON_ALPN),
    RISK_KEY(NDPI_TLS_CERT_VALIDITY_TOO_LONG),
    RISK_KEY(NDPI_TLS_SUSPICIOUS_EXTENSION),
    RISK_KEY(NDPI_TLS_FATAL_ALERT),
    RISK_KEY(NDPI_SUSPICIOUS_ENTROPY),
    RISK_KEY(NDPI_CLEAR_TEXT_CREDENTIALS),
    RISK_KEY(NDPI_DNS_LARGE_PACKET),
    RISK_KEY(NDPI_DNS_FRAGMENTED),
    RISK_KEY(NDPI_INVALID_CHARACTERS),
    RISK_KEY(NDPI_POSSIBLE_EXPLOIT),
    RISK_KEY(NDPI_TLS_CERTIFICATE_ABOUT_TO_EXPIRE),
};

int dpi_risk_from_key(const char *key)
{
    for (size_t i = 0; i < sizeof(risk_keys) / sizeof(risk_keys[0]); i++) {
        if (strcmp(risk_keys[i].key, key) == 0)
            return (int)risk_keys[i].risk;
    }
    return -1;
}

void dpi_get_stats(const struct dpi *dpi, struct dpi_stats *stats)
{
    *stats = dpi->stats;
}
