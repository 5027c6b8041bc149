/* Unit tests for dpi: classification of the reference captures (DNS, HTTP,
 * TLS) read with libpcap, decoded and tracked in a real flow table; the
 * transport security levels; nDPI state freed as soon as detection ends
 * and the state byte count back to zero; detection giving up after
 * DPI_MAX_PACKETS_PER_FLOW unknown packets; repeated finish; risk names. */
#include <check.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxaudit/decode.h"
#include "fluxaudit/dpi.h"
#include "fluxaudit/flow.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/data"
#endif

#define ERR_MAX 256
#define MAX_ENDED 32
#define FRAME_MAX 256
#define T0 1700000000000000ULL

/* What the flow table's end callback saw, after dpi_flow_finish. */
struct ended_flow {
    struct flow_facts facts;
    uint16_t client_port;
    uint16_t server_port;
    uint8_t ip_proto;
    bool state_released;
};

struct harness {
    struct dpi *dpi;
    struct flow_table *table;
    size_t ended_count;
    struct ended_flow ended[MAX_ENDED];
    size_t packets;           /* IP packets fed to dpi */
    size_t invariant_failures; /* dpi_done and dpi_state disagreed */
    size_t done_at_packet;     /* 1-based packet index where dpi_done first held, 0 if never */
};

/* The source tree: meson's environment first, then the build's macro. */
static const char *source_root(void)
{
    const char *root = getenv("FLUXAUDIT_SOURCE_ROOT");
    if (root != NULL && root[0] != '\0')
        return root;
#ifdef FLUXAUDIT_SOURCE_ROOT
    return FLUXAUDIT_SOURCE_ROOT;
#else
    return ".";
#endif
}

/* The pipeline's contract with dpi, reduced: every flow is finished when it
 * ends, and its state must be gone afterwards. */
static void on_end(struct flow *flow, enum flow_end_reason reason, void *user)
{
    (void)reason;
    struct harness *h = user;
    dpi_flow_finish(h->dpi, flow);
    ck_assert_uint_lt(h->ended_count, MAX_ENDED);
    struct ended_flow *e = &h->ended[h->ended_count++];
    e->facts = flow->facts;
    e->client_port = flow->client_port;
    e->server_port = flow->server_port;
    e->ip_proto = flow->ip_proto;
    e->state_released = flow->dpi_state == NULL;
}

static void harness_init(struct harness *h)
{
    memset(h, 0, sizeof *h);
    char err[ERR_MAX] = "";
    h->dpi = dpi_create(err, sizeof err);
    ck_assert_msg(h->dpi != NULL, "dpi_create: %s", err);
    struct flow_table_config config;
    flow_table_default_config(&config);
    config.hash_seed = 1;
    h->table = flow_table_create(&config, on_end, h);
    ck_assert_ptr_nonnull(h->table);
}

static void harness_free(struct harness *h)
{
    flow_table_destroy(h->table);
    dpi_destroy(h->dpi);
}

/* Tracks one decoded packet and feeds it to dpi, checking after each one
 * that nDPI state exists exactly while detection is running. */
static struct flow *feed_packet(struct harness *h, const struct decoded_packet *packet)
{
    enum flow_direction direction;
    bool created;
    struct flow *flow = flow_table_track(h->table, packet, &direction, &created);
    ck_assert_ptr_nonnull(flow);
    dpi_process_packet(h->dpi, flow, direction, packet);
    h->packets++;
    if (flow->facts.dpi_done != (flow->dpi_state == NULL))
        h->invariant_failures++;
    if (flow->facts.dpi_done && h->done_at_packet == 0)
        h->done_at_packet = h->packets;
    return flow;
}

/* Feeds every IP frame of pcaps/<name> through decode, the flow table and
 * dpi, then flushes the table (which finishes every flow). */
static void feed_pcap(struct harness *h, const char *name)
{
    char path[1024];
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    snprintf(path, sizeof path, "%s/pcaps/%s", source_root(), name);
    pcap_t *pcap = pcap_open_offline(path, pcap_err);
    ck_assert_msg(pcap != NULL, "%s: %s", path, pcap_err);
    const int dlt = pcap_datalink(pcap);
    struct pcap_pkthdr *header;
    const u_char *data;
    while (pcap_next_ex(pcap, &header, &data) == 1) {
        const uint64_t ts = (uint64_t)header->ts.tv_sec * 1000000u + (uint64_t)header->ts.tv_usec;
        struct decoded_packet packet;
        if (decode_packet(dlt, data, header->caplen, header->len, ts, &packet) == DECODE_OK)
            feed_packet(h, &packet);
    }
    pcap_close(pcap);
    flow_table_flush(h->table);
}

static void check_stats(const struct harness *h, uint64_t classified, uint64_t guessed,
                        uint64_t unknown)
{
    struct dpi_stats stats;
    dpi_get_stats(h->dpi, &stats);
    ck_assert_uint_eq(stats.flows_classified, classified);
    ck_assert_uint_eq(stats.flows_guessed, guessed);
    ck_assert_uint_eq(stats.flows_unknown, unknown);
    ck_assert_uint_eq(stats.state_bytes, 0);
}

/* ---- hand-built packets ---- */

struct frame_spec {
    uint8_t proto;
    uint8_t src_last; /* 10.0.0.<src_last> */
    uint8_t dst_last;
    uint16_t sport;
    uint16_t dport;
    uint8_t tcp_flags;
    const uint8_t *payload;
    size_t payload_len;
};

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Ethernet + IPv4 + TCP (20 bytes) or UDP + payload; returns the length. */
static size_t build_frame(uint8_t *buf, size_t cap, const struct frame_spec *s)
{
    const size_t l4_len = s->proto == IP_PROTO_TCP ? 20 : 8;
    const size_t len = 14 + 20 + l4_len + s->payload_len;
    ck_assert_uint_le(len, cap);
    memset(buf, 0, len);
    static const uint8_t macs[12] = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1};
    memcpy(buf, macs, sizeof macs);
    put_be16(buf + 12, 0x0800);
    uint8_t *ip = buf + 14;
    ip[0] = 0x45;
    put_be16(ip + 2, (uint16_t)(20 + l4_len + s->payload_len));
    ip[8] = 64;
    ip[9] = s->proto;
    ip[12] = 10, ip[15] = s->src_last;
    ip[16] = 10, ip[19] = s->dst_last;
    uint8_t *l4 = ip + 20;
    put_be16(l4, s->sport);
    put_be16(l4 + 2, s->dport);
    if (s->proto == IP_PROTO_TCP) {
        l4[12] = 0x50;
        l4[13] = s->tcp_flags;
        put_be16(l4 + 14, 65535);
    } else {
        put_be16(l4 + 4, (uint16_t)(8 + s->payload_len));
    }
    if (s->payload_len > 0)
        memcpy(l4 + l4_len, s->payload, s->payload_len);
    return len;
}

static struct flow *feed_spec(struct harness *h, const struct frame_spec *s, uint64_t ts,
                              uint8_t *buf)
{
    const size_t len = build_frame(buf, FRAME_MAX, s);
    struct decoded_packet packet;
    ck_assert_int_eq(decode_packet(DLT_EN10MB, buf, (uint32_t)len, (uint32_t)len, ts, &packet),
                     DECODE_OK);
    return feed_packet(h, &packet);
}

START_TEST(test_dns)
{
    struct harness h;
    harness_init(&h);
    feed_pcap(&h, "dns.pcap");
    ck_assert_uint_eq(h.packets, 2);
    ck_assert_uint_eq(h.invariant_failures, 0);
    ck_assert_uint_eq(h.ended_count, 1);
    const struct ended_flow *e = &h.ended[0];
    ck_assert(e->state_released);
    ck_assert_uint_eq(e->ip_proto, IP_PROTO_UDP);
    ck_assert_uint_eq(e->client_port, 40053);
    ck_assert_uint_eq(e->server_port, 53);
    ck_assert(e->facts.dpi_done);
    ck_assert(!e->facts.dpi_guessed);
    ck_assert_str_eq(e->facts.app, "DNS");
    ck_assert_str_eq(e->facts.service, "");
    ck_assert_str_eq(e->facts.server_name, "pacs.hopital.example");
    ck_assert_int_eq(e->facts.security, SECURITY_CLEARTEXT);
    check_stats(&h, 1, 0, 0);
    harness_free(&h);
}
END_TEST

START_TEST(test_http)
{
    struct harness h;
    harness_init(&h);
    feed_pcap(&h, "http.pcap");
    ck_assert_uint_eq(h.invariant_failures, 0);
    ck_assert_uint_eq(h.ended_count, 1);
    const struct ended_flow *e = &h.ended[0];
    ck_assert(e->state_released);
    ck_assert_uint_eq(e->ip_proto, IP_PROTO_TCP);
    ck_assert_uint_eq(e->client_port, 41080);
    ck_assert_uint_eq(e->server_port, 80);
    ck_assert(e->facts.dpi_done);
    ck_assert(!e->facts.dpi_guessed);
    ck_assert_str_eq(e->facts.app, "HTTP");
    ck_assert_str_eq(e->facts.server_name, "web.hopital.example");
    ck_assert_int_eq(e->facts.security, SECURITY_CLEARTEXT);
    /* Detection ends on the request, long before the flow does. */
    ck_assert_uint_gt(h.done_at_packet, 0);
    ck_assert_uint_lt(h.done_at_packet, h.packets);
    check_stats(&h, 1, 0, 0);
    harness_free(&h);
}
END_TEST

START_TEST(test_tls12)
{
    struct harness h;
    harness_init(&h);
    feed_pcap(&h, "tls12.pcap");
    ck_assert_uint_eq(h.invariant_failures, 0);
    ck_assert_uint_eq(h.ended_count, 1);
    const struct ended_flow *e = &h.ended[0];
    ck_assert(e->state_released);
    ck_assert_uint_eq(e->server_port, 8443);
    ck_assert(e->facts.dpi_done);
    ck_assert(!e->facts.dpi_guessed);
    ck_assert_str_eq(e->facts.app, "TLS");
    ck_assert_str_eq(e->facts.server_name, "web.hopital.example");
    /* dpi alone knows an encrypted protocol; SECURITY_TLS is the TLS
     * inspector's word (set by the pipeline). */
    ck_assert_int_eq(e->facts.security, SECURITY_OTHER_ENCRYPTED);
    check_stats(&h, 1, 0, 0);
    harness_free(&h);
}
END_TEST

/* What dpi must say of each connection of reference.pcap (by client port,
 * see pcaps/README.md). */
struct expected_flow {
    uint16_t client_port;
    uint16_t server_port;
    const char *app;
    const char *server_name;
    enum transport_security security;
};

static const struct expected_flow reference_flows[] = {
    {40053, 53, "DNS", "pacs.hopital.example", SECURITY_CLEARTEXT},
    {41010, 8443, "TLS", "web.hopital.example", SECURITY_OTHER_ENCRYPTED},
    {41012, 8443, "TLS", "web.hopital.example", SECURITY_OTHER_ENCRYPTED},
    {41013, 8443, "TLS", "web.hopital.example", SECURITY_OTHER_ENCRYPTED},
    {41030, 8443, "TLS", "web.hopital.example", SECURITY_OTHER_ENCRYPTED},
    {41080, 80, "HTTP", "web.hopital.example", SECURITY_CLEARTEXT},
    {41081, 80, "HTTP", "web.hopital.example", SECURITY_CLEARTEXT},
    {41082, 8080, "HTTP", "nas.hopital.example", SECURITY_CLEARTEXT},
    {51515, 8080, "HTTP", "10.10.1.20", SECURITY_CLEARTEXT},
    {41443, 443, "TLS", "upload.vendor.example", SECURITY_OTHER_ENCRYPTED},
    {41444, 443, "TLS", "telemetry.analytics.example", SECURITY_OTHER_ENCRYPTED},
};

#define REFERENCE_FLOWS (sizeof reference_flows / sizeof reference_flows[0])

static const struct ended_flow *find_ended(const struct harness *h, uint16_t client_port)
{
    for (size_t i = 0; i < h->ended_count; i++)
        if (h->ended[i].client_port == client_port)
            return &h->ended[i];
    return NULL;
}

/* Eleven flows interleaved: each is classified, its state released, and
 * the state count falls back to zero when they all ended. */
START_TEST(test_reference_capture)
{
    struct harness h;
    harness_init(&h);
    feed_pcap(&h, "reference.pcap");
    ck_assert_uint_eq(h.invariant_failures, 0);
    ck_assert_uint_eq(h.ended_count, REFERENCE_FLOWS);
    for (size_t i = 0; i < REFERENCE_FLOWS; i++) {
        const struct expected_flow *x = &reference_flows[i];
        const struct ended_flow *e = find_ended(&h, x->client_port);
        ck_assert_msg(e != NULL, "no flow from port %u", x->client_port);
        ck_assert(e->state_released);
        ck_assert(e->facts.dpi_done);
        ck_assert(!e->facts.dpi_guessed);
        ck_assert_uint_eq(e->server_port, x->server_port);
        ck_assert_str_eq(e->facts.app, x->app);
        ck_assert_str_eq(e->facts.server_name, x->server_name);
        ck_assert_int_eq(e->facts.security, x->security);
    }
    check_stats(&h, REFERENCE_FLOWS, 0, 0);
    harness_free(&h);
}
END_TEST

/* While detection runs the state is counted; it is released on finish. */
START_TEST(test_state_bytes_while_detecting)
{
    struct harness h;
    harness_init(&h);
    char path[1024];
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    snprintf(path, sizeof path, "%s/pcaps/http.pcap", source_root());
    pcap_t *pcap = pcap_open_offline(path, pcap_err);
    ck_assert_msg(pcap != NULL, "%s: %s", path, pcap_err);
    struct pcap_pkthdr *header;
    const u_char *data;
    struct dpi_stats stats;
    struct flow *flow = NULL;
    /* ARP request, ARP reply, then the SYN: one flow, detection running. */
    while (flow == NULL && pcap_next_ex(pcap, &header, &data) == 1) {
        struct decoded_packet packet;
        if (decode_packet(DLT_EN10MB, data, header->caplen, header->len, 0, &packet) == DECODE_OK)
            flow = feed_packet(&h, &packet);
    }
    ck_assert_ptr_nonnull(flow);
    ck_assert(!flow->facts.dpi_done);
    dpi_get_stats(h.dpi, &stats);
    ck_assert_uint_gt(stats.state_bytes, 0);
    const uint64_t one_flow = stats.state_bytes;
    /* A second flow in detection doubles it. */
    uint8_t buf[FRAME_MAX];
    const struct frame_spec syn = {IP_PROTO_TCP, 1, 2, 45690, 47010, TCP_SYN, NULL, 0};
    struct flow *other = feed_spec(&h, &syn, 1, buf);
    dpi_get_stats(h.dpi, &stats);
    ck_assert_uint_eq(stats.state_bytes, 2 * one_flow);
    dpi_flow_finish(h.dpi, other);
    dpi_get_stats(h.dpi, &stats);
    ck_assert_uint_eq(stats.state_bytes, one_flow);
    dpi_flow_finish(h.dpi, flow);
    dpi_get_stats(h.dpi, &stats);
    ck_assert_uint_eq(stats.state_bytes, 0);
    pcap_close(pcap);
    flow_table_flush(h.table);
    harness_free(&h);
}
END_TEST

/* A SYN to a port nothing listens on: no payload, so nothing tells the
 * protection, whatever nDPI guesses. */
START_TEST(test_syn_only_unknown)
{
    struct harness h;
    harness_init(&h);
    uint8_t buf[FRAME_MAX];
    const struct frame_spec syn = {IP_PROTO_TCP, 1, 2, 45678, 47001, TCP_SYN, NULL, 0};
    struct flow *flow = feed_spec(&h, &syn, T0, buf);
    ck_assert(!flow->facts.dpi_done);
    ck_assert_ptr_nonnull(flow->dpi_state);
    struct dpi_stats stats;
    dpi_get_stats(h.dpi, &stats);
    ck_assert_uint_gt(stats.state_bytes, 0);
    dpi_flow_finish(h.dpi, flow);
    ck_assert(flow->facts.dpi_done);
    ck_assert_ptr_null(flow->dpi_state);
    ck_assert_int_eq(flow->facts.security, SECURITY_UNKNOWN);
    ck_assert_str_eq(flow->facts.app, "");
    ck_assert(!flow->facts.dpi_guessed);
    dpi_get_stats(h.dpi, &stats);
    ck_assert_uint_eq(stats.state_bytes, 0);
    ck_assert_uint_eq(stats.flows_unknown, 1);
    flow_table_flush(h.table);
    ck_assert_uint_eq(h.ended_count, 1);
    ck_assert_int_eq(h.ended[0].facts.security, SECURITY_UNKNOWN);
    check_stats(&h, 0, 0, 1);
    harness_free(&h);
}
END_TEST

/* A SYN to port 80: nDPI guesses HTTP from the port, but with no payload
 * the protection stays unknown. */
START_TEST(test_syn_only_guessed)
{
    struct harness h;
    harness_init(&h);
    uint8_t buf[FRAME_MAX];
    const struct frame_spec syn = {IP_PROTO_TCP, 1, 2, 45678, 80, TCP_SYN, NULL, 0};
    struct flow *flow = feed_spec(&h, &syn, T0, buf);
    dpi_flow_finish(h.dpi, flow);
    ck_assert(flow->facts.dpi_done);
    ck_assert(flow->facts.dpi_guessed);
    ck_assert_str_eq(flow->facts.app, "HTTP");
    ck_assert_int_eq(flow->facts.security, SECURITY_UNKNOWN);
    flow_table_flush(h.table);
    check_stats(&h, 0, 1, 0);
    harness_free(&h);
}
END_TEST

/* A flow dpi never saw a packet of (finish only) is counted unknown. */
START_TEST(test_finish_without_packets)
{
    char err[ERR_MAX] = "";
    struct dpi *dpi = dpi_create(err, sizeof err);
    ck_assert_ptr_nonnull(dpi);
    struct flow flow;
    memset(&flow, 0, sizeof flow);
    flow.ip_proto = IP_PROTO_UDP;
    dpi_flow_finish(dpi, &flow);
    ck_assert(flow.facts.dpi_done);
    ck_assert_ptr_null(flow.dpi_state);
    ck_assert_int_eq(flow.facts.security, SECURITY_UNKNOWN);
    struct dpi_stats stats;
    dpi_get_stats(dpi, &stats);
    ck_assert_uint_eq(stats.flows_unknown, 1);
    ck_assert_uint_eq(stats.flows_classified, 0);
    ck_assert_uint_eq(stats.state_bytes, 0);
    dpi_destroy(dpi);
}
END_TEST

/* Payload no dissector knows, between two unassigned high ports. */
static void fill_noise(uint8_t *payload, size_t len, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 12345u;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        payload[i] = (uint8_t)x;
    }
}

START_TEST(test_gives_up_after_max_packets)
{
    struct harness h;
    harness_init(&h);
    uint8_t buf[FRAME_MAX];
    uint8_t payload[64];
    struct frame_spec spec = {IP_PROTO_UDP, 1, 2, 47011, 47012, 0, payload, sizeof payload};
    struct flow *flow = NULL;
    for (uint32_t i = 0; i < DPI_MAX_PACKETS_PER_FLOW - 1; i++) {
        fill_noise(payload, sizeof payload, i + 1);
        const bool reply = (i % 2) == 1;
        spec.src_last = reply ? 2 : 1;
        spec.dst_last = reply ? 1 : 2;
        spec.sport = reply ? 47012 : 47011;
        spec.dport = reply ? 47011 : 47012;
        flow = feed_spec(&h, &spec, T0 + i * 1000u, buf);
        ck_assert_msg(!flow->facts.dpi_done, "detection ended at packet %u", i + 1);
        ck_assert_ptr_nonnull(flow->dpi_state);
    }
    fill_noise(payload, sizeof payload, 999);
    spec.src_last = 1, spec.dst_last = 2, spec.sport = 47011, spec.dport = 47012;
    flow = feed_spec(&h, &spec, T0 + 1000000u, buf);
    ck_assert(flow->facts.dpi_done);
    ck_assert_ptr_null(flow->dpi_state);
    ck_assert(!flow->facts.dpi_guessed);
    ck_assert_str_eq(flow->facts.app, "");
    /* Payload of unknown kind, and the flow was not seen from a TCP start:
     * it proves nothing. */
    ck_assert_int_eq(flow->facts.security, SECURITY_UNKNOWN);
    struct dpi_stats stats;
    dpi_get_stats(h.dpi, &stats);
    ck_assert_uint_eq(stats.flows_unknown, 1);
    ck_assert_uint_eq(stats.state_bytes, 0);
    /* Later packets are ignored: no new state. */
    flow = feed_spec(&h, &spec, T0 + 2000000u, buf);
    ck_assert_ptr_null(flow->dpi_state);
    ck_assert_uint_eq(flow->packets[FLOW_TO_SERVER] + flow->packets[FLOW_TO_CLIENT],
                      DPI_MAX_PACKETS_PER_FLOW + 1);
    flow_table_flush(h.table);
    ck_assert_uint_eq(h.ended_count, 1);
    ck_assert_uint_eq(h.invariant_failures, 0);
    check_stats(&h, 0, 0, 1);
    harness_free(&h);
}
END_TEST

/* A TCP connection seen from its SYN that carries unknown payload is called
 * cleartext: there was no handshake at all. */
START_TEST(test_unknown_payload_after_syn_is_cleartext)
{
    struct harness h;
    harness_init(&h);
    uint8_t buf[FRAME_MAX];
    uint8_t payload[48];
    const struct frame_spec syn = {IP_PROTO_TCP, 1, 2, 45679, 47002, TCP_SYN, NULL, 0};
    const struct frame_spec synack = {IP_PROTO_TCP, 2, 1, 47002, 45679, TCP_SYN | TCP_ACK,
                                      NULL, 0};
    struct flow *flow = feed_spec(&h, &syn, T0, buf);
    feed_spec(&h, &synack, T0 + 1, buf);
    struct frame_spec data = {IP_PROTO_TCP, 1, 2, 45679, 47002, TCP_ACK | TCP_PSH, payload,
                              sizeof payload};
    for (uint32_t i = 0; i < 4; i++) {
        fill_noise(payload, sizeof payload, 100 + i);
        flow = feed_spec(&h, &data, T0 + 10 + i, buf);
    }
    ck_assert(flow->oriented_by_syn);
    ck_assert(!flow->facts.dpi_done);
    dpi_flow_finish(h.dpi, flow);
    ck_assert_str_eq(flow->facts.app, "");
    ck_assert_int_eq(flow->facts.security, SECURITY_CLEARTEXT);
    flow_table_flush(h.table);
    check_stats(&h, 0, 0, 1);
    harness_free(&h);
}
END_TEST

/* Finishing twice changes neither the facts nor the counters. */
START_TEST(test_finish_twice)
{
    struct harness h;
    harness_init(&h);
    uint8_t buf[FRAME_MAX];
    const struct frame_spec syn = {IP_PROTO_TCP, 1, 2, 45680, 47003, TCP_SYN, NULL, 0};
    struct flow *flow = feed_spec(&h, &syn, T0, buf);
    dpi_flow_finish(h.dpi, flow);
    struct flow_facts first = flow->facts;
    struct dpi_stats before;
    dpi_get_stats(h.dpi, &before);
    dpi_flow_finish(h.dpi, flow);
    ck_assert_int_eq(memcmp(&first, &flow->facts, sizeof first), 0);
    ck_assert_ptr_null(flow->dpi_state);
    struct dpi_stats after;
    dpi_get_stats(h.dpi, &after);
    ck_assert_int_eq(memcmp(&before, &after, sizeof before), 0);
    flow_table_flush(h.table); /* the end callback finishes a third time */
    check_stats(&h, 0, 0, 1);
    ck_assert_int_eq(memcmp(&first, &h.ended[0].facts, sizeof first), 0);
    harness_free(&h);
}
END_TEST

/* The second finish refreshes the protection from the final counters: a
 * flow finished before its payload arrived is no longer "unknown". */
START_TEST(test_finish_again_refreshes_security)
{
    struct harness h;
    harness_init(&h);
    uint8_t buf[FRAME_MAX];
    const struct frame_spec syn = {IP_PROTO_TCP, 1, 2, 45681, 47004, TCP_SYN, NULL, 0};
    struct flow *flow = feed_spec(&h, &syn, T0, buf);
    dpi_flow_finish(h.dpi, flow);
    ck_assert_int_eq(flow->facts.security, SECURITY_UNKNOWN);
    uint8_t payload[32];
    fill_noise(payload, sizeof payload, 7);
    const struct frame_spec data = {IP_PROTO_TCP, 1, 2, 45681, 47004, TCP_ACK, payload,
                                    sizeof payload};
    flow = feed_spec(&h, &data, T0 + 5, buf);
    ck_assert_ptr_null(flow->dpi_state);
    ck_assert_uint_eq(flow->payload_bytes[FLOW_TO_SERVER], sizeof payload);
    flow_table_flush(h.table);
    ck_assert_int_eq(h.ended[0].facts.security, SECURITY_CLEARTEXT);
    check_stats(&h, 0, 0, 1);
    harness_free(&h);
}
END_TEST

START_TEST(test_risk_names)
{
    for (unsigned risk = 0; risk < 64; risk++) {
        const char *name = dpi_risk_name(risk);
        ck_assert_ptr_nonnull(name);
        ck_assert_msg(name[0] != '\0', "risk %u has an empty name", risk);
    }
    /* ndpi_risk_enum of nDPI 4.2: 7 is NDPI_TLS_OBSOLETE_VERSION, 42 is
     * NDPI_MAX_RISK. */
    ck_assert_str_eq(dpi_risk_name(7), "Obsolete TLS Version (1.1 or older)");
    ck_assert_str_ne(dpi_risk_name(41), "unknown");
    ck_assert_str_eq(dpi_risk_name(42), "unknown");
    ck_assert_str_eq(dpi_risk_name(63), "unknown");
    ck_assert_str_eq(dpi_risk_name(1000), "unknown");
    ck_assert_str_eq(dpi_risk_name(~0u), "unknown");
}
END_TEST

START_TEST(test_destroy_null)
{
    dpi_destroy(NULL);
}
END_TEST

static Suite *dpi_suite(void)
{
    Suite *suite = suite_create("dpi");
    TCase *captures = tcase_create("captures");
    tcase_set_timeout(captures, 60);
    tcase_add_test(captures, test_dns);
    tcase_add_test(captures, test_http);
    tcase_add_test(captures, test_tls12);
    tcase_add_test(captures, test_reference_capture);
    tcase_add_test(captures, test_state_bytes_while_detecting);
    suite_add_tcase(suite, captures);
    TCase *lifecycle = tcase_create("lifecycle");
    tcase_set_timeout(lifecycle, 60);
    tcase_add_test(lifecycle, test_syn_only_unknown);
    tcase_add_test(lifecycle, test_syn_only_guessed);
    tcase_add_test(lifecycle, test_finish_without_packets);
    tcase_add_test(lifecycle, test_gives_up_after_max_packets);
    tcase_add_test(lifecycle, test_unknown_payload_after_syn_is_cleartext);
    tcase_add_test(lifecycle, test_finish_twice);
    tcase_add_test(lifecycle, test_finish_again_refreshes_security);
    tcase_add_test(lifecycle, test_risk_names);
    tcase_add_test(lifecycle, test_destroy_null);
    suite_add_tcase(suite, lifecycle);
    return suite;
}

int main(void)
{
    SRunner *runner = srunner_create(dpi_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
