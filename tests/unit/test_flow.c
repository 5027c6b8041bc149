/* Unit tests for the flow table: keying, orientation, counters, closing,
 * expiry, eviction, flush and the exactly-once end callback. Packets are
 * built by hand as struct decoded_packet values. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fluxaudit/flow.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/data"
#endif

#define SEC 1000000ULL
#define T0 (1700000000ULL * SEC)
#define LOG_MAX 64

/* What the end callback saw for one flow. */
struct end_record {
    int id;                       /* the tag stored in dpi_state, -1 if none */
    enum flow_end_reason reason;
    uint16_t client_port;
    uint16_t server_port;
    uint8_t ip_proto;
    uint64_t packets[2];
};

struct recorder {
    size_t ends;
    size_t by_reason[3];
    size_t logged;
    struct end_record log[LOG_MAX];
};

/* The end callback: records the flow and releases the tag it owns. */
static void record_end(struct flow *flow, enum flow_end_reason reason, void *user)
{
    struct recorder *rec = user;
    int id = -1;
    if (flow->dpi_state != NULL) {
        id = *(int *)flow->dpi_state;
        free(flow->dpi_state);
        flow->dpi_state = NULL;
    }
    rec->ends++;
    rec->by_reason[reason]++;
    if (rec->logged < LOG_MAX) {
        struct end_record *r = &rec->log[rec->logged++];
        r->id = id;
        r->reason = reason;
        r->client_port = flow->client_port;
        r->server_port = flow->server_port;
        r->ip_proto = flow->ip_proto;
        r->packets[0] = flow->packets[0];
        r->packets[1] = flow->packets[1];
    }
}

/* Gives a flow a heap tag, so ASan reports a flow ended twice (double
 * free) or never (leak). */
static void tag_flow(struct flow *flow, int id)
{
    int *tag = malloc(sizeof *tag);
    ck_assert_ptr_nonnull(tag);
    *tag = id;
    flow->dpi_state = tag;
}

static struct net_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    struct net_addr addr;
    memset(&addr, 0, sizeof addr);
    addr.family = 4;
    addr.bytes[0] = a;
    addr.bytes[1] = b;
    addr.bytes[2] = c;
    addr.bytes[3] = d;
    return addr;
}

/* 2001:db8::<last> */
static struct net_addr v6(uint8_t last)
{
    struct net_addr addr;
    memset(&addr, 0, sizeof addr);
    addr.family = 6;
    addr.bytes[0] = 0x20;
    addr.bytes[1] = 0x01;
    addr.bytes[2] = 0x0d;
    addr.bytes[3] = 0xb8;
    addr.bytes[15] = last;
    return addr;
}

static struct decoded_packet make_packet(uint8_t proto, struct net_addr src, uint16_t sport,
                                         struct net_addr dst, uint16_t dport, uint8_t flags,
                                         uint64_t ts)
{
    struct decoded_packet p;
    memset(&p, 0, sizeof p);
    p.ts_usec = ts;
    p.wire_len = 100;
    p.src = src;
    p.dst = dst;
    p.ip_proto = proto;
    p.src_port = sport;
    p.dst_port = dport;
    p.tcp_flags = flags;
    p.payload_len = 40;
    return p;
}

static struct flow_table_config test_config(void)
{
    struct flow_table_config config;
    flow_table_default_config(&config);
    config.max_flows = 1024;
    config.hash_seed = 12345;
    return config;
}

static struct flow_table *new_table(struct recorder *rec)
{
    memset(rec, 0, sizeof *rec);
    struct flow_table_config config = test_config();
    struct flow_table *table = flow_table_create(&config, record_end, rec);
    ck_assert_ptr_nonnull(table);
    return table;
}

/* Tracks a packet and returns its flow, checking allocation succeeded. */
static struct flow *track(struct flow_table *table, const struct decoded_packet *p,
                          enum flow_direction *dir, bool *created)
{
    struct flow *flow = flow_table_track(table, p, dir, created);
    ck_assert_ptr_nonnull(flow);
    return flow;
}

static struct flow_table_stats stats_of(const struct flow_table *table)
{
    struct flow_table_stats stats;
    flow_table_get_stats(table, &stats);
    return stats;
}

static bool addr_eq(const struct net_addr *a, const struct net_addr *b)
{
    return a->family == b->family && memcmp(a->bytes, b->bytes, sizeof a->bytes) == 0;
}

/* ---- configuration ----------------------------------------------------- */

START_TEST(test_default_config)
{
    struct flow_table_config config;
    memset(&config, 0xab, sizeof config);
    flow_table_default_config(&config);
    ck_assert_uint_eq(config.max_flows, FLOW_TABLE_DEFAULT_MAX_FLOWS);
    ck_assert_uint_eq(config.tcp_idle_sec, 300);
    ck_assert_uint_eq(config.tcp_closed_sec, 10);
    ck_assert_uint_eq(config.udp_idle_sec, 120);
    ck_assert_uint_eq(config.other_idle_sec, 60);
}
END_TEST

START_TEST(test_create_edge_cases)
{
    ck_assert_ptr_null(flow_table_create(NULL, record_end, NULL));
    flow_table_destroy(NULL);

    /* max_flows 0 behaves as 1; a NULL callback is allowed. */
    struct flow_table_config config = test_config();
    config.max_flows = 0;
    struct flow_table *table = flow_table_create(&config, NULL, NULL);
    ck_assert_ptr_nonnull(table);
    enum flow_direction dir;
    bool created;
    struct decoded_packet a = make_packet(IP_PROTO_UDP, v4(10, 0, 0, 1), 1000, v4(10, 0, 0, 2),
                                          2000, 0, T0);
    struct decoded_packet b = make_packet(IP_PROTO_UDP, v4(10, 0, 0, 1), 1001, v4(10, 0, 0, 2),
                                          2000, 0, T0);
    track(table, &a, &dir, &created);
    track(table, &b, &dir, &created);
    struct flow_table_stats stats = stats_of(table);
    ck_assert_uint_eq(stats.active, 1);
    ck_assert_uint_eq(stats.peak, 1);
    ck_assert_uint_eq(stats.created, 2);
    ck_assert_uint_eq(stats.ended_evicted, 1);
    flow_table_destroy(table);
}
END_TEST

/* ---- keying and orientation ------------------------------------------- */

START_TEST(test_both_directions_one_flow)
{
    struct recorder rec;
    struct flow_table *table = new_table(&rec);
    enum flow_direction dir;
    bool created;
    struct net_addr a = v4(10, 0, 0, 1);
    struct net_addr b = v4(10, 0, 0, 2);

    struct decoded_packet p1 = make_packet(IP_PROTO_TCP, a, 40000, b, 443, TCP_SYN, T0);
    struct flow *f1 = track(table, &p1, &dir, &created);
    ck_assert(created);
    ck_assert_int_eq(dir, FLOW_TO_SERVER);
    ck_assert_ptr_null(f1->dpi_state);
    ck_assert_ptr_null(f1->tls_state);

    struct decoded_packet p2 =
        make_packet(IP_PROTO_TCP, b, 443, a, 40000, TCP_SYN | TCP_ACK, T0 + 1);
    struct flow *f2 = track(table, &p2, &dir, &created);
    ck_assert_ptr_eq(f1, f2);
    ck_assert(!created);
    ck_assert_int_eq(dir, FLOW_TO_CLIENT);

    struct decoded_packet p3 = make_packet(IP_PROTO_TCP, a, 40000, b, 443, TCP_ACK, T0 + 2);
    ck_assert_ptr_eq(track(table, &p3, &dir, &created), f1);
    ck_assert_int_eq(dir, FLOW_TO_SERVER);

    /* Another source port is another flow. */
    struct decoded_packet p4 = make_packet(IP_PROTO_TCP, a, 40001, b, 443, TCP_SYN, T0 + 3);
    struct flow *f4 = track(table, &p4, &dir, &created);
    ck_assert(created);
    ck_assert_ptr_ne(f4, f1);
    /* Same ports, UDP: another flow too. */
    struct decoded_packet p5 = make_packet(IP_PROTO_UDP, a, 40000, b, 443, 0, T0 + 4);
    track(table, &p5, &dir, &created);
    ck_assert(created);
    ck_assert_uint_eq(stats_of(table).active, 3);
    flow_table_destroy(table);
    ck_assert_uint_eq(rec.ends, 3);
    ck_assert_uint_eq(rec.by_reason[FLOW_END_FLUSH], 3);
}
END_TEST

START_TEST(test_orientation_syn)
{
    struct recorder rec;
    struct flow_table *table = new_table(&rec);
    enum flow_direction dir;
    bool created;
    struct net_addr a = v4(192, 168, 1, 10);
    struct net_addr b = v4(192, 168, 1, 20);
    /* A SYN wins over the port heuristic: from port 80 to port 50000. */
    struct decoded_packet p = make_packet(IP_PROTO_TCP, a, 80, b, 50000, TCP_SYN, T0);
    struct flow *flow = track(table, &p, &dir, &created);
    ck_assert_int_eq(dir, FLOW_TO_SERVER);
    ck_assert(flow->oriented_by_syn);
    ck_assert(addr_eq(&flow->client, &a));
    ck_assert(addr_eq(&flow->server, &b));
    ck_assert_uint_eq(flow->client_port, 80);
    ck_assert_uint_eq(flow->server_port, 50000);
    ck_assert_uint_eq(flow->ip_proto, IP_PROTO_TCP);
    ck_assert(!flow->closed);
    flow_table_destroy(table);
}
END_TEST

START_TEST(test_orientation_syn_ack_first)
{
    struct recorder rec;
    struct flow_table *table = new_table(&rec);
    enum flow_direction dir;
    bool created;
    struct net_addr client = v4(10, 1, 1, 1);
    struct net_addr server = v4(10, 1, 1, 2);
    struct decoded_packet p =
        make_packet(IP_PROTO_TCP, server, 104, client, 50000, TCP_SYN | TCP_ACK, T0);
    struct flow *flow = track(table, &p, &dir, &created);
    ck_assert(created);
    ck_assert_int_eq(dir, FLOW_TO_CLIENT);
    ck_assert(flow->oriented_by_syn);
    ck_assert(addr_eq(&flow->client, &client));
    ck_assert(addr_eq(&flow->server, &server));
    ck_assert_uint_eq(flow->client_port, 50000);
    ck_assert_uint_eq(flow->server_port, 104);
    ck_assert_uint_eq(flow->packets[FLOW_TO_CLIENT], 1);
    ck_assert_uint_eq(flow->packets[FLOW_TO_SERVER], 0);
    ck_assert_uint_eq(flow->tcp_flags[FLOW_TO_CLIENT], TCP_SYN | TCP_ACK);
    flow_table_destroy(table);
}
END_TEST

START_TEST(test_orientation_udp_ports)
{
    struct recorder rec;
    struct flow_table *table = new_table(&rec);
    enum flow_direction dir;
    bool created;
    struct net_addr dns = v4(10, 0, 0, 53);
    struct net_addr host = v4(10, 0, 0, 7);

    /* A reply seen first: 53 -> 40000 makes 40000 the client. */
    struct decoded_packet reply = make_packet(IP_PROTO_UDP, dns, 53, host, 40000, 0, T0);
    struct flow *flow = track(table, &reply, &dir, &created);
    ck_assert_int_eq(dir, FLOW_TO_CLIENT);
    ck_assert(!flow->oriented_by_syn);
    ck_assert(addr_eq(&flow->client, &host));
    ck_assert_uint_eq(flow->client_port, 40000);
    ck_assert(addr_eq(&flow->server, &dns));
    ck_assert_uint_eq(flow->server_port, 53);

    /* A query seen first: the sender is the client. */
    struct decoded_packet query = make_packet(IP_PROTO_UDP, host, 40001, dns, 53, 0, T0);
    flow = track(table, &query, &dir, &created);
    ck_assert_int_eq(dir, FLOW_TO_SERVER);
    ck_assert_uint_eq(flow->client_port, 40001);
    ck_assert_uint_eq(flow->server_port, 53);

    /* Both ports well-known (NTP 123 -> 123): the sender is the client. */
    struct decoded_packet ntp = make_packet(IP_PROTO_UDP, host, 123, dns, 123, 0, T0);
    flow = track(table, &ntp, &dir, &created);
    ck_assert_int_eq(dir, FLOW_TO_SERVER);
    ck_assert(addr_eq(&flow->client, &host));

    /* Both ports high: the sender is the client. */
    struct decoded_packet high = make_packet(IP_PROTO_UDP, dns, 5000, host, 6000, 0, T0);
    flow = track(table, &high, &dir, &created);
    ck_assert_int_eq(dir, FLOW_TO_SERVER);
    ck_assert(addr_eq(&flow->client, &dns));
    ck_assert_uint_eq(flow->client_port, 5000);

    /* Boundary: 1023 is well-known, 1024 is not. */
    struct decoded_packet edge = make_packet(IP_PROTO_UDP, dns, 1023, host, 1024, 0, T0);
    flow = track(table, &edge, &dir, &created);
    ck_assert_int_eq(dir, FLOW_TO_CLIENT);
    ck_assert_uint_eq(flow->client_port, 1024);
    struct decoded_packet edge2 = make_packet(IP_PROTO_UDP, dns, 1024, host, 1025, 0, T0);
    flow = track(table, &edge2, &dir, &created);
    ck_assert_int_eq(dir, FLOW_TO_SERVER);
    ck_assert_uint_eq(flow->client_port, 1024);
    ck_assert_uint_eq(flow->server_port, 1025);
    flow_table_destroy(table);
    ck_assert_uint_eq(rec.ends, 6);
}
END_TEST

START_TEST(test_orientation_tcp_midstream)
{
    struct recorder rec;
    struct flow_table *table = new_table(&rec);
    enum flow_direction dir;
    bool created;
    struct net_addr server = v4(10, 2, 0, 1);
    struct net_addr client = v4(10, 2, 0, 2);
    struct decoded_packet p =
        make_packet(IP_PROTO_TCP, server, 443, client, 51000, TCP_ACK | TCP_PSH, T0);
    struct flow *flow = track(table, &p, &dir, &created);
    ck_assert_int_eq(dir, FLOW_TO_CLIENT);
    ck_assert(!flow->oriented_by_syn);
    ck_assert(addr_eq(&flow->client, &client));
    ck_assert_uint_eq(flow->server_port, 443);
    flow_table_destroy(table);
}
END_TEST

START_TEST(test_late_syn_swaps)
{
    struct recorder rec;
    struct flow_table *table = new_table(&rec);
    enum flow_direction dir;
    bool created;
    struct net_addr a = v4(10, 3, 0, 1);
    struct net_addr b = v4(10, 3, 0, 2);
    struct mac_addr mac_a = {{0x02, 0, 0, 0, 0, 0x0a}};
    struct mac_addr mac_b = {{0x02, 0, 0, 0, 0, 0x0b}};

    /* Mid-stream ACK from a: a is guessed to be the client. */
    struct decoded_packet p1 = make_packet(IP_PROTO_TCP, a, 40000, b, 41000, TCP_ACK, T0);
    p1.has_mac = true;
    p1.src_mac = mac_a;
    p1.dst_mac = mac_b;
    p1.wire_len = 60;
    p1.payload_len = 0;
    struct flow *flow = track(table, &p1, &dir, &created);
    ck_assert_int_eq(dir, FLOW_TO_SERVER);
    ck_assert(addr_eq(&flow->client, &a));
    ck_assert(!flow->oriented_by_syn);

    struct decoded_packet p2 = make_packet(IP_PROTO_TCP, b, 41000, a, 40000, TCP_ACK, T0 + 1);
    p2.has_mac = true;
    p2.src_mac = mac_b;
    p2.dst_mac = mac_a;
    p2.wire_len = 200;
    p2.payload_len = 146;
    track(table, &p2, &dir, &created);
    ck_assert_int_eq(dir, FLOW_TO_CLIENT);
    track(table, &p2, &dir, &created);

    /* A pure SYN from b: b opened the connection, turn the flow around. */
    struct decoded_packet syn = make_packet(IP_PROTO_TCP, b, 41000, a, 40000, TCP_SYN, T0 + 2);
    syn.has_mac = true;
    syn.src_mac = mac_b;
    syn.dst_mac = mac_a;
    syn.wire_len = 74;
    syn.payload_len = 0;
    ck_assert_ptr_eq(track(table, &syn, &dir, &created), flow);
    ck_assert(!created);
    ck_assert_int_eq(dir, FLOW_TO_SERVER);
    ck_assert(flow->oriented_by_syn);
    ck_assert(addr_eq(&flow->client, &b));
    ck_assert(addr_eq(&flow->server, &a));
    ck_assert_uint_eq(flow->client_port, 41000);
    ck_assert_uint_eq(flow->server_port, 40000);
    ck_assert_mem_eq(flow->client_mac.bytes, mac_b.bytes, 6);
    ck_assert_mem_eq(flow->server_mac.bytes, mac_a.bytes, 6);
    ck_assert_uint_eq(flow->packets[FLOW_TO_SERVER], 3);
    ck_assert_uint_eq(flow->packets[FLOW_TO_CLIENT], 1);
    ck_assert_uint_eq(flow->bytes[FLOW_TO_SERVER], 474);
    ck_assert_uint_eq(flow->bytes[FLOW_TO_CLIENT], 60);
    ck_assert_uint_eq(flow->payload_bytes[FLOW_TO_SERVER], 292);
    ck_assert_uint_eq(flow->payload_bytes[FLOW_TO_CLIENT], 0);
    ck_assert_uint_eq(flow->tcp_flags[FLOW_TO_SERVER], TCP_ACK | TCP_SYN);
    ck_assert_uint_eq(flow->tcp_flags[FLOW_TO_CLIENT], TCP_ACK);

    /* Now a is the server. */
    p1.ts_usec = T0 + 3;
    track(table, &p1, &dir, &created);
    ck_assert_int_eq(dir, FLOW_TO_CLIENT);

    /* Once oriented by a SYN, a SYN from the other side no longer swaps. */
    struct decoded_packet syn_a = make_packet(IP_PROTO_TCP, a, 40000, b, 41000, TCP_SYN, T0 + 4);
    track(table, &syn_a, &dir, &created);
    ck_assert_int_eq(dir, FLOW_TO_CLIENT);
    ck_assert(addr_eq(&flow->client, &b));
    flow_table_destroy(table);
    ck_assert_uint_eq(rec.ends, 1);
}
END_TEST

START_TEST(test_late_syn_from_client_side_confirms)
{
    struct recorder rec;
    struct flow_table *table = new_table(&rec);
    enum flow_direction dir;
    bool created;
    struct net_addr a = v4(10, 3, 0, 1);
    struct net_addr b = v4(10, 3, 0, 2);
    struct decoded_packet p1 = make_packet(IP_PROTO_TCP, a, 40000, b, 8080, TCP_ACK, T0);
    struct flow *flow = track(table, &p1, &dir, &created);
    struct decoded_packet syn = make_packet(IP_PROTO_TCP, a, 40000, b, 8080, TCP_SYN, T0 + 1);
    track(table, &syn, &dir, &created);
    ck_assert_int_eq(dir, FLOW_TO_SERVER);
    ck_assert(flow->oriented_by_syn);
    ck_assert(addr_eq(&flow->client, &a));
    ck_assert_uint_eq(flow->packets[FLOW_TO_SERVER], 2);
    /* A SYN+ACK from the server side is not a pure SYN: no swap either. */
    struct decoded_packet p2 = make_packet(IP_PROTO_TCP, b, 8080, a, 40000, TCP_ACK, T0 + 2);
    track(table, &p2, &dir, &created);
    ck_assert_int_eq(dir, FLOW_TO_CLIENT);
    flow_table_destroy(table);
}
END_TEST

START_TEST(test_synack_midstream_no_swap)
{
    struct recorder rec;
    struct flow_table *table = new_table(&rec);
    enum flow_direction dir;
    bool created;
    struct net_addr a = v4(10, 4, 0, 1);
    struct net_addr b = v4(10, 4, 0, 2);
    /* Mid-stream guess: a (high port) client of b:8000... */
    struct decoded_packet p1 = make_packet(IP_PROTO_TCP, a, 50000, b, 8000, TCP_ACK, T0);
    struct flow *flow = track(table, &p1, &dir, &created);
    /* ...then a SYN+ACK from b: not a pure SYN, orientation kept. */
    struct decoded_packet p2 =
        make_packet(IP_PROTO_TCP, b, 8000, a, 50000, TCP_SYN | TCP_ACK, T0 + 1);
    track(table, &p2, &dir, &created);
    ck_assert_int_eq(dir, FLOW_TO_CLIENT);
    ck_assert(addr_eq(&flow->client, &a));
    ck_assert(!flow->oriented_by_syn);
    flow_table_destroy(table);
}
END_TEST

START_TEST(test_vlan_separates)
{
    struct recorder rec;
    struct flow_table *table = new_table(&rec);
    enum flow_direction dir;
    bool created;
    struct decoded_packet p = make_packet(IP_PROTO_UDP, v4(10, 0, 0, 1), 5000, v4(10, 0, 0, 2),
                                          6000, 0, T0);
    p.vlan = 10;
    struct flow *f10 = track(table, &p, &dir, &created);
    ck_assert(created);
    ck_assert_uint_eq(f10->vlan, 10);
    p.vlan = 20;
    struct flow *f20 = track(table, &p, &dir, &created);
    ck_assert(created);
    ck_assert_ptr_ne(f10, f20);
    ck_assert_uint_eq(f20->vlan, 20);
    /* 266 = 0x10a shares its low byte with VLAN 10. */
    p.vlan = 266;
    struct flow *f266 = track(table, &p, &dir, &created);
    ck_assert(created);
    ck_assert_ptr_ne(f266, f10);
    ck_assert_uint_eq(f266->vlan, 266);
    p.vlan = 0;
    struct flow *f0 = track(table, &p, &dir, &created);
    ck_assert(created);
    ck_assert_uint_eq(f0->vlan, 0);
    /* The reverse direction in VLAN 10 finds the VLAN 10 flow. */
    struct decoded_packet r = make_packet(IP_PROTO_UDP, v4(10, 0, 0, 2), 6000, v4(10, 0, 0, 1),
                                          5000, 0, T0 + 1);
    r.vlan = 10;
    ck_assert_ptr_eq(track(table, &r, &dir, &created), f10);
    ck_assert_int_eq(dir, FLOW_TO_CLIENT);
    ck_assert_uint_eq(stats_of(table).active, 4);
    flow_table_destroy(table);
}
END_TEST

START_TEST(test_ipv6_flows)
{
    struct recorder rec;
    struct flow_table *table = new_table(&rec);
    enum flow_direction dir;
    bool created;
    struct net_addr a = v6(1);
    struct net_addr b = v6(2);
    struct decoded_packet p = make_packet(IP_PROTO_TCP, a, 50000, b, 443, TCP_SYN, T0);
    struct flow *flow = track(table, &p, &dir, &created);
    ck_assert(created);
    ck_assert_uint_eq(flow->client.family, 6);
    ck_assert(addr_eq(&flow->client, &a));
    struct decoded_packet r =
        make_packet(IP_PROTO_TCP, b, 443, a, 50000, TCP_SYN | TCP_ACK, T0 + 1);
    ck_assert_ptr_eq(track(table, &r, &dir, &created), flow);
    ck_assert_int_eq(dir, FLOW_TO_CLIENT);

    /* Addresses differing only in the last byte are different flows. */
    struct decoded_packet other = make_packet(IP_PROTO_TCP, a, 50000, v6(3), 443, TCP_SYN, T0);
    ck_assert_ptr_ne(track(table, &other, &dir, &created), flow);
    ck_assert(created);

    /* IPv4 with the same leading bytes is not the IPv6 flow. */
    struct net_addr a4 = v4(0x20, 0x01, 0x0d, 0xb8);
    struct net_addr b4 = v4(0x20, 0x01, 0x0d, 0xb8);
    b4.bytes[3] = 0xb9;
    struct decoded_packet p4 = make_packet(IP_PROTO_TCP, a4, 50000, b4, 443, TCP_SYN, T0);
    track(table, &p4, &dir, &created);
    ck_assert(created);

    /* ICMPv6 echo reply seen first: its sender is the server. */
    struct decoded_packet echo_reply = make_packet(IP_PROTO_ICMPV6, b, 129, a, 0, 0, T0 + 2);
    struct flow *icmp = track(table, &echo_reply, &dir, &created);
    ck_assert(created);
    ck_assert_int_eq(dir, FLOW_TO_CLIENT);
    ck_assert(addr_eq(&icmp->client, &a));
    ck_assert_uint_eq(icmp->client_port, 0);
    ck_assert_uint_eq(icmp->server_port, 0);
    struct decoded_packet echo_request = make_packet(IP_PROTO_ICMPV6, a, 128, b, 0, 0, T0 + 3);
    ck_assert_ptr_eq(track(table, &echo_request, &dir, &created), icmp);
    ck_assert_int_eq(dir, FLOW_TO_SERVER);
    ck_assert_uint_eq(stats_of(table).active, 4);
    flow_table_destroy(table);
    ck_assert_uint_eq(rec.ends, 4);
}
END_TEST

START_TEST(test_icmp_orientation)
{
    struct recorder rec;
    struct flow_table *table = new_table(&rec);
    enum flow_direction dir;
    bool created;
    struct net_addr a = v4(10, 5, 0, 1);
    struct net_addr b = v4(10, 5, 0, 2);
    struct net_addr c = v4(10, 5, 0, 3);
    /* Echo request (8) then reply (0): one flow, type/code not keyed. */
    struct decoded_packet req = make_packet(IP_PROTO_ICMP, a, 8, b, 0, 0, T0);
    struct flow *flow = track(table, &req, &dir, &created);
    ck_assert_int_eq(dir, FLOW_TO_SERVER);
    ck_assert(addr_eq(&flow->client, &a));
    ck_assert_uint_eq(flow->client_port, 0);
    ck_assert_uint_eq(flow->server_port, 0);
    struct decoded_packet rep = make_packet(IP_PROTO_ICMP, b, 0, a, 0, 0, T0 + 1);
    ck_assert_ptr_eq(track(table, &rep, &dir, &created), flow);
    ck_assert_int_eq(dir, FLOW_TO_CLIENT);
    /* A destination unreachable (3/3) from b to a: the same flow. */
    struct decoded_packet unreach = make_packet(IP_PROTO_ICMP, b, 3, a, 3, 0, T0 + 2);
    ck_assert_ptr_eq(track(table, &unreach, &dir, &created), flow);
    ck_assert_uint_eq(flow->packets[FLOW_TO_CLIENT], 2);

    /* Echo reply first: the sender is the server. */
    struct decoded_packet rep_first = make_packet(IP_PROTO_ICMP, c, 0, a, 0, 0, T0);
    flow = track(table, &rep_first, &dir, &created);
    ck_assert(created);
    ck_assert_int_eq(dir, FLOW_TO_CLIENT);
    ck_assert(addr_eq(&flow->client, &a));
    ck_assert(addr_eq(&flow->server, &c));
    /* ICMPv4 type 129 is not an echo reply: the sender stays the client,
     * even with "ports" that would make the UDP rule flip it. */
    struct decoded_packet odd = make_packet(IP_PROTO_ICMP, c, 129, b, 2000, 0, T0);
    flow = track(table, &odd, &dir, &created);
    ck_assert_int_eq(dir, FLOW_TO_SERVER);
    ck_assert(addr_eq(&flow->client, &c));

    /* Another IP protocol (GRE, 47): the sender is the client, no ports. */
    struct decoded_packet gre = make_packet(47, b, 0, c, 0, 0, T0);
    flow = track(table, &gre, &dir, &created);
    ck_assert_int_eq(dir, FLOW_TO_SERVER);
    ck_assert(addr_eq(&flow->client, &b));
    ck_assert_uint_eq(flow->ip_proto, 47);
    flow_table_destroy(table);
    ck_assert_uint_eq(rec.ends, 4);
}
END_TEST

START_TEST(test_same_endpoints)
{
    struct recorder rec;
    struct flow_table *table = new_table(&rec);
    enum flow_direction dir;
    bool created;
    struct net_addr lo = v4(127, 0, 0, 1);
    struct decoded_packet p = make_packet(IP_PROTO_UDP, lo, 5000, lo, 5000, 0, T0);
    struct flow *flow = track(table, &p, &dir, &created);
    ck_assert_int_eq(dir, FLOW_TO_SERVER);
    ck_assert_ptr_eq(track(table, &p, &dir, &created), flow);
    ck_assert_int_eq(dir, FLOW_TO_SERVER);
    ck_assert_uint_eq(flow->packets[FLOW_TO_SERVER], 2);
    flow_table_destroy(table);
}
END_TEST

/* ---- counters and state ---------------------------------------------- */

START_TEST(test_counters_per_direction)
{
    struct recorder rec;
    struct flow_table *table = new_table(&rec);
    enum flow_direction dir;
    bool created;
    struct net_addr a = v4(10, 6, 0, 1);
    struct net_addr b = v4(10, 6, 0, 2);
    struct decoded_packet c1 = make_packet(IP_PROTO_TCP, a, 40000, b, 80, TCP_SYN, T0 + 10);
    c1.wire_len = 74;
    c1.payload_len = 0;
    struct flow *flow = track(table, &c1, &dir, &created);
    struct decoded_packet s1 =
        make_packet(IP_PROTO_TCP, b, 80, a, 40000, TCP_SYN | TCP_ACK, T0 + 20);
    s1.wire_len = 74;
    s1.payload_len = 0;
    track(table, &s1, &dir, &created);
    struct decoded_packet c2 =
        make_packet(IP_PROTO_TCP, a, 40000, b, 80, TCP_ACK | TCP_PSH, T0 + 30);
    c2.wire_len = 500;
    c2.payload_len = 434;
    track(table, &c2, &dir, &created);
    /* A server packet stamped before the previous one (capture clock). */
    struct decoded_packet s2 = make_packet(IP_PROTO_TCP, b, 80, a, 40000, TCP_ACK, T0 + 25);
    s2.wire_len = 1514;
    s2.payload_len = 1448;
    track(table, &s2, &dir, &created);
    /* And one stamped before the first. */
    struct decoded_packet s3 = make_packet(IP_PROTO_TCP, b, 80, a, 40000, TCP_ACK, T0 + 5);
    s3.wire_len = 60;
    s3.payload_len = 0;
    track(table, &s3, &dir, &created);

    ck_assert_uint_eq(flow->packets[FLOW_TO_SERVER], 2);
    ck_assert_uint_eq(flow->packets[FLOW_TO_CLIENT], 3);
    ck_assert_uint_eq(flow->bytes[FLOW_TO_SERVER], 574);
    ck_assert_uint_eq(flow->bytes[FLOW_TO_CLIENT], 1648);
    ck_assert_uint_eq(flow->payload_bytes[FLOW_TO_SERVER], 434);
    ck_assert_uint_eq(flow->payload_bytes[FLOW_TO_CLIENT], 1448);
    ck_assert_uint_eq(flow->tcp_flags[FLOW_TO_SERVER], TCP_SYN | TCP_ACK | TCP_PSH);
    ck_assert_uint_eq(flow->tcp_flags[FLOW_TO_CLIENT], TCP_SYN | TCP_ACK);
    ck_assert_uint_eq(flow->first_usec, T0 + 5);
    ck_assert_uint_eq(flow->last_usec, T0 + 30);
    ck_assert(!flow->closed);

    /* UDP packets leave tcp_flags alone even if the field is set. */
    struct decoded_packet u = make_packet(IP_PROTO_UDP, a, 5000, b, 5001, TCP_RST, T0);
    struct flow *uf = track(table, &u, &dir, &created);
    ck_assert_uint_eq(uf->tcp_flags[FLOW_TO_SERVER], 0);
    ck_assert(!uf->closed);
    flow_table_destroy(table);
    ck_assert_uint_eq(rec.log[0].packets[FLOW_TO_SERVER] + rec.log[1].packets[FLOW_TO_SERVER],
                      3);
}
END_TEST

START_TEST(test_macs)
{
    struct recorder rec;
    struct flow_table *table = new_table(&rec);
    enum flow_direction dir;
    bool created;
    struct net_addr a = v4(10, 7, 0, 1);
    struct net_addr b = v4(10, 7, 0, 2);
    struct mac_addr mac_a = {{0x00, 0x11, 0x22, 0x33, 0x44, 0x55}};
    struct mac_addr mac_b = {{0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb}};
    struct mac_addr zero = {{0}};

    /* No MAC (raw IP): has_mac stays false. */
    struct decoded_packet raw = make_packet(IP_PROTO_UDP, a, 9000, b, 9001, 0, T0);
    struct flow *flow = track(table, &raw, &dir, &created);
    ck_assert(!flow->has_mac);

    /* A reply seen first (server -> client). */
    struct decoded_packet p = make_packet(IP_PROTO_UDP, b, 161, a, 40000, 0, T0);
    p.has_mac = true;
    p.src_mac = mac_b;
    p.dst_mac = mac_a;
    flow = track(table, &p, &dir, &created);
    ck_assert_int_eq(dir, FLOW_TO_CLIENT);
    ck_assert(flow->has_mac);
    ck_assert_mem_eq(flow->client_mac.bytes, mac_a.bytes, 6);
    ck_assert_mem_eq(flow->server_mac.bytes, mac_b.bytes, 6);

    /* Linux cooked capture: no destination MAC; the zero never overwrites. */
    struct decoded_packet sll = make_packet(IP_PROTO_UDP, v4(10, 7, 0, 3), 40000, b, 161, 0, T0);
    sll.has_mac = true;
    sll.src_mac = mac_a;
    sll.dst_mac = zero;
    flow = track(table, &sll, &dir, &created);
    ck_assert(flow->has_mac);
    ck_assert_mem_eq(flow->client_mac.bytes, mac_a.bytes, 6);
    ck_assert_mem_eq(flow->server_mac.bytes, zero.bytes, 6);
    struct decoded_packet sll_rep = make_packet(IP_PROTO_UDP, b, 161, v4(10, 7, 0, 3), 40000, 0,
                                                T0 + 1);
    sll_rep.has_mac = true;
    sll_rep.src_mac = mac_b;
    sll_rep.dst_mac = zero;
    track(table, &sll_rep, &dir, &created);
    track(table, &sll, &dir, &created);
    ck_assert_mem_eq(flow->client_mac.bytes, mac_a.bytes, 6);
    ck_assert_mem_eq(flow->server_mac.bytes, mac_b.bytes, 6);

    /* A server MAC learned as a destination is not wiped by a later
     * packet without destination MAC. */
    struct decoded_packet eth = make_packet(IP_PROTO_UDP, a, 40001, b, 514, 0, T0 + 2);
    eth.has_mac = true;
    eth.src_mac = mac_a;
    eth.dst_mac = mac_b;
    flow = track(table, &eth, &dir, &created);
    ck_assert(created);
    ck_assert_mem_eq(flow->server_mac.bytes, mac_b.bytes, 6);
    eth.dst_mac = zero;
    track(table, &eth, &dir, &created);
    ck_assert_mem_eq(flow->client_mac.bytes, mac_a.bytes, 6);
    ck_assert_mem_eq(flow->server_mac.bytes, mac_b.bytes, 6);
    flow_table_destroy(table);
}
END_TEST

START_TEST(test_closed_fin_fin)
{
    struct recorder rec;
    struct flow_table *table = new_table(&rec);
    enum flow_direction dir;
    bool created;
    struct net_addr a = v4(10, 8, 0, 1);
    struct net_addr b = v4(10, 8, 0, 2);
    struct decoded_packet c = make_packet(IP_PROTO_TCP, a, 40000, b, 22, TCP_SYN, T0);
    struct flow *flow = track(table, &c, &dir, &created);
    tag_flow(flow, 1);
    c.tcp_flags = TCP_FIN | TCP_ACK;
    c.ts_usec = T0 + 1 * SEC;
    track(table, &c, &dir, &created);
    ck_assert(!flow->closed);
    /* A FIN twice from the same side is not enough. */
    c.ts_usec = T0 + 2 * SEC;
    track(table, &c, &dir, &created);
    ck_assert(!flow->closed);
    struct decoded_packet s =
        make_packet(IP_PROTO_TCP, b, 22, a, 40000, TCP_FIN | TCP_ACK, T0 + 3 * SEC);
    track(table, &s, &dir, &created);
    ck_assert(flow->closed);

    /* An open TCP flow created at the same time stays past 10 s. */
    struct decoded_packet o = make_packet(IP_PROTO_TCP, a, 40001, b, 22, TCP_SYN, T0 + 3 * SEC);
    struct flow *open = track(table, &o, &dir, &created);
    tag_flow(open, 2);

    flow_table_expire(table, T0 + 3 * SEC + 9 * SEC);
    ck_assert_uint_eq(rec.ends, 0);
    flow_table_expire(table, T0 + 3 * SEC + 10 * SEC); /* exactly the timeout: stays */
    ck_assert_uint_eq(rec.ends, 0);
    flow_table_expire(table, T0 + 3 * SEC + 11 * SEC);
    ck_assert_uint_eq(rec.ends, 1);
    ck_assert_int_eq(rec.log[0].id, 1);
    ck_assert_int_eq(rec.log[0].reason, FLOW_END_IDLE);
    ck_assert_uint_eq(rec.log[0].server_port, 22);
    ck_assert_uint_eq(rec.log[0].packets[FLOW_TO_SERVER], 3);
    ck_assert_uint_eq(rec.log[0].packets[FLOW_TO_CLIENT], 1);
    ck_assert_uint_eq(stats_of(table).ended_idle, 1);
    ck_assert_uint_eq(stats_of(table).active, 1);
    flow_table_destroy(table);
    ck_assert_uint_eq(rec.ends, 2);
    ck_assert_int_eq(rec.log[1].id, 2);
    ck_assert_int_eq(rec.log[1].reason, FLOW_END_FLUSH);
}
END_TEST

START_TEST(test_closed_rst)
{
    struct recorder rec;
    struct flow_table *table = new_table(&rec);
    enum flow_direction dir;
    bool created;
    struct net_addr a = v4(10, 9, 0, 1);
    struct net_addr b = v4(10, 9, 0, 2);
    struct decoded_packet c = make_packet(IP_PROTO_TCP, a, 40000, b, 23, TCP_SYN, T0);
    struct flow *flow = track(table, &c, &dir, &created);
    tag_flow(flow, 7);
    struct decoded_packet r =
        make_packet(IP_PROTO_TCP, b, 23, a, 40000, TCP_RST | TCP_ACK, T0 + SEC);
    track(table, &r, &dir, &created);
    ck_assert(flow->closed);
    /* Stragglers keep it closed and refresh its activity. */
    c.tcp_flags = TCP_ACK;
    c.ts_usec = T0 + 5 * SEC;
    track(table, &c, &dir, &created);
    ck_assert(flow->closed);
    flow_table_expire(table, T0 + 14 * SEC);
    ck_assert_uint_eq(rec.ends, 0);
    flow_table_expire(table, T0 + 16 * SEC);
    ck_assert_uint_eq(rec.ends, 1);
    ck_assert_int_eq(rec.log[0].id, 7);
    ck_assert_int_eq(rec.log[0].reason, FLOW_END_IDLE);

    /* A RST as the very first packet closes the flow at once. */
    struct decoded_packet lone = make_packet(IP_PROTO_TCP, a, 40002, b, 23, TCP_RST, T0 + 20 * SEC);
    flow = track(table, &lone, &dir, &created);
    ck_assert(flow->closed);
    flow_table_expire(table, T0 + 29 * SEC);
    ck_assert_uint_eq(rec.ends, 1);
    flow_table_expire(table, T0 + 31 * SEC);
    ck_assert_uint_eq(rec.ends, 2);
    flow_table_destroy(table);
    ck_assert_uint_eq(rec.ends, 2);
}
END_TEST

/* ---- expiry ----------------------------------------------------------- */

/* Creates one flow of `proto` at T0, then checks it survives until
 * timeout - 1 s and ends at timeout + 1 s with FLOW_END_IDLE. */
static void check_idle_boundary(uint8_t proto, uint8_t flags, uint64_t timeout_sec)
{
    struct recorder rec;
    struct flow_table *table = new_table(&rec);
    enum flow_direction dir;
    bool created;
    struct decoded_packet p = make_packet(proto, v4(10, 10, 0, 1), 40000, v4(10, 10, 0, 2), 80,
                                          flags, T0);
    struct flow *flow = track(table, &p, &dir, &created);
    tag_flow(flow, 42);
    flow_table_expire(table, T0 + (timeout_sec - 1) * SEC);
    ck_assert_uint_eq(rec.ends, 0);
    ck_assert_uint_eq(stats_of(table).active, 1);
    flow_table_expire(table, T0 + (timeout_sec + 1) * SEC);
    ck_assert_uint_eq(rec.ends, 1);
    ck_assert_int_eq(rec.log[0].id, 42);
    ck_assert_int_eq(rec.log[0].reason, FLOW_END_IDLE);
    ck_assert_uint_eq(rec.log[0].ip_proto, proto);
    struct flow_table_stats stats = stats_of(table);
    ck_assert_uint_eq(stats.active, 0);
    ck_assert_uint_eq(stats.ended_idle, 1);
    ck_assert_uint_eq(stats.ended_flush, 0);
    flow_table_destroy(table);
    ck_assert_uint_eq(rec.ends, 1);
}

START_TEST(test_idle_tcp)
{
    check_idle_boundary(IP_PROTO_TCP, TCP_SYN, 300);
    check_idle_boundary(IP_PROTO_TCP, TCP_ACK, 300);
}
END_TEST

START_TEST(test_idle_udp)
{
    check_idle_boundary(IP_PROTO_UDP, 0, 120);
}
END_TEST

START_TEST(test_idle_other)
{
    check_idle_boundary(IP_PROTO_ICMP, 0, 60);
    check_idle_boundary(IP_PROTO_ICMPV6, 0, 60);
    check_idle_boundary(50, 0, 60); /* ESP */
}
END_TEST

START_TEST(test_activity_refreshes_and_orders)
{
    struct recorder rec;
    struct flow_table *table = new_table(&rec);
    enum flow_direction dir;
    bool created;
    /* Three UDP flows at T0, T0+10 s, T0+20 s; the first one speaks again
     * at T0+30 s, moving it to the tail of the UDP list. */
    struct decoded_packet p[3];
    for (int i = 0; i < 3; i++) {
        p[i] = make_packet(IP_PROTO_UDP, v4(10, 11, 0, 1), (uint16_t)(5000 + i),
                           v4(10, 11, 0, 2), 6000, 0, T0 + (uint64_t)i * 10 * SEC);
        tag_flow(track(table, &p[i], &dir, &created), i);
    }
    p[0].ts_usec = T0 + 30 * SEC;
    track(table, &p[0], &dir, &created);

    flow_table_expire(table, T0 + 131 * SEC); /* only flow 1 (last seen T0+10) */
    ck_assert_uint_eq(rec.ends, 1);
    ck_assert_int_eq(rec.log[0].id, 1);
    flow_table_expire(table, T0 + 141 * SEC);
    ck_assert_uint_eq(rec.ends, 2);
    ck_assert_int_eq(rec.log[1].id, 2);
    flow_table_expire(table, T0 + 150 * SEC);
    ck_assert_uint_eq(rec.ends, 2);
    flow_table_expire(table, T0 + 151 * SEC);
    ck_assert_uint_eq(rec.ends, 3);
    ck_assert_int_eq(rec.log[2].id, 0);
    flow_table_destroy(table);
    ck_assert_uint_eq(rec.ends, 3);
}
END_TEST

START_TEST(test_clock_never_underflows)
{
    struct recorder rec;
    struct flow_table *table = new_table(&rec);
    enum flow_direction dir;
    bool created;
    struct decoded_packet p = make_packet(IP_PROTO_UDP, v4(10, 12, 0, 1), 5000,
                                          v4(10, 12, 0, 2), 6000, 0, T0 + 100 * SEC);
    track(table, &p, &dir, &created);
    /* Expiry with a clock behind the flow's activity: idle is 0. */
    flow_table_expire(table, 0);
    flow_table_expire(table, T0);
    ck_assert_uint_eq(rec.ends, 0);
    /* A packet stamped in the past does not move activity backwards. */
    struct decoded_packet old = make_packet(IP_PROTO_UDP, v4(10, 12, 0, 3), 5000,
                                            v4(10, 12, 0, 2), 6000, 0, T0);
    struct flow *late = track(table, &old, &dir, &created);
    tag_flow(late, 5);
    ck_assert_uint_eq(late->first_usec, T0);
    ck_assert_uint_eq(late->last_usec, T0);
    /* 120 s after its own timestamp but not after the table's clock. */
    flow_table_expire(table, T0 + 121 * SEC);
    ck_assert_uint_eq(rec.ends, 0);
    flow_table_expire(table, T0 + 221 * SEC);
    ck_assert_uint_eq(rec.ends, 2);
    /* Timestamps at the very top of the range. */
    struct decoded_packet top = make_packet(IP_PROTO_UDP, v4(10, 12, 0, 4), 1, v4(10, 12, 0, 5),
                                            2, 0, UINT64_MAX);
    track(table, &top, &dir, &created);
    flow_table_expire(table, UINT64_MAX);
    ck_assert_uint_eq(rec.ends, 2);
    flow_table_destroy(table);
    ck_assert_uint_eq(rec.ends, 3);
}
END_TEST

START_TEST(test_zero_timeouts)
{
    struct recorder rec;
    memset(&rec, 0, sizeof rec);
    struct flow_table_config config = test_config();
    config.udp_idle_sec = 0;
    struct flow_table *table = flow_table_create(&config, record_end, &rec);
    ck_assert_ptr_nonnull(table);
    enum flow_direction dir;
    bool created;
    struct decoded_packet p = make_packet(IP_PROTO_UDP, v4(10, 13, 0, 1), 5000,
                                          v4(10, 13, 0, 2), 6000, 0, T0);
    track(table, &p, &dir, &created);
    flow_table_expire(table, T0);
    ck_assert_uint_eq(rec.ends, 0);
    flow_table_expire(table, T0 + 1);
    ck_assert_uint_eq(rec.ends, 1);
    flow_table_destroy(table);
}
END_TEST

/* ---- cap and eviction ------------------------------------------------- */

START_TEST(test_eviction_lru)
{
    struct recorder rec;
    memset(&rec, 0, sizeof rec);
    struct flow_table_config config = test_config();
    config.max_flows = 4;
    struct flow_table *table = flow_table_create(&config, record_end, &rec);
    ck_assert_ptr_nonnull(table);
    enum flow_direction dir;
    bool created;
    /* Four flows in four classes: TCP open, UDP, ICMP, TCP closed. */
    struct decoded_packet p[5];
    p[0] = make_packet(IP_PROTO_TCP, v4(10, 14, 0, 1), 40000, v4(10, 14, 0, 9), 80, TCP_SYN,
                       T0 + 1 * SEC);
    p[1] = make_packet(IP_PROTO_UDP, v4(10, 14, 0, 2), 40000, v4(10, 14, 0, 9), 53, 0,
                       T0 + 2 * SEC);
    p[2] = make_packet(IP_PROTO_ICMP, v4(10, 14, 0, 3), 8, v4(10, 14, 0, 9), 0, 0, T0 + 3 * SEC);
    p[3] = make_packet(IP_PROTO_TCP, v4(10, 14, 0, 4), 40000, v4(10, 14, 0, 9), 80, TCP_RST,
                       T0 + 4 * SEC);
    for (int i = 0; i < 4; i++) {
        tag_flow(track(table, &p[i], &dir, &created), i);
        ck_assert(created);
    }
    /* Flow 0 becomes the most recent. */
    p[0].ts_usec = T0 + 5 * SEC;
    p[0].tcp_flags = TCP_ACK;
    track(table, &p[0], &dir, &created);
    ck_assert(!created);

    /* A fifth flow evicts the least recently active: flow 1 (UDP). */
    p[4] = make_packet(IP_PROTO_UDP, v4(10, 14, 0, 5), 40000, v4(10, 14, 0, 9), 53, 0,
                       T0 + 6 * SEC);
    tag_flow(track(table, &p[4], &dir, &created), 4);
    ck_assert(created);
    ck_assert_uint_eq(rec.ends, 1);
    ck_assert_int_eq(rec.log[0].id, 1);
    ck_assert_int_eq(rec.log[0].reason, FLOW_END_EVICTED);
    ck_assert_uint_eq(stats_of(table).active, 4);

    /* The next one evicts flow 2 (ICMP), then flow 3 (closed TCP), then 0. */
    struct decoded_packet q = make_packet(IP_PROTO_UDP, v4(10, 14, 1, 1), 1, v4(10, 14, 1, 2), 2,
                                          0, T0 + 7 * SEC);
    int expected[] = {2, 3, 0, 4};
    for (int i = 0; i < 4; i++) {
        q.src_port = (uint16_t)(100 + i);
        track(table, &q, &dir, &created);
        ck_assert(created);
        ck_assert_int_eq(rec.log[1 + i].id, expected[i]);
        ck_assert_int_eq(rec.log[1 + i].reason, FLOW_END_EVICTED);
        ck_assert_uint_eq(stats_of(table).active, 4);
    }
    struct flow_table_stats stats = stats_of(table);
    ck_assert_uint_eq(stats.created, 9);
    ck_assert_uint_eq(stats.ended_evicted, 5);
    ck_assert_uint_eq(stats.peak, 4);
    flow_table_destroy(table);
    ck_assert_uint_eq(rec.ends, 9);
    ck_assert_uint_eq(rec.by_reason[FLOW_END_FLUSH], 4);
}
END_TEST

START_TEST(test_cap_holds_many_flows)
{
    struct recorder rec;
    memset(&rec, 0, sizeof rec);
    struct flow_table_config config = test_config();
    config.max_flows = 4;
    struct flow_table *table = flow_table_create(&config, record_end, &rec);
    ck_assert_ptr_nonnull(table);
    enum flow_direction dir;
    bool created;
    const int total = 100000;
    for (int i = 0; i < total; i++) {
        struct decoded_packet p = make_packet(
            i % 3 == 0 ? IP_PROTO_TCP : IP_PROTO_UDP, v4(10, (uint8_t)(i >> 16), (uint8_t)(i >> 8),
                                                         (uint8_t)i),
            (uint16_t)(1024 + i % 50000), v4(172, 16, 0, 1), 443, TCP_SYN, T0 + (uint64_t)i);
        struct flow *flow = track(table, &p, &dir, &created);
        ck_assert(created);
        tag_flow(flow, i);
        ck_assert_uint_le(stats_of(table).active, 4);
    }
    struct flow_table_stats stats = stats_of(table);
    ck_assert_uint_eq(stats.active, 4);
    ck_assert_uint_eq(stats.peak, 4);
    ck_assert_uint_eq(stats.created, (uint64_t)total);
    ck_assert_uint_eq(stats.ended_evicted, (uint64_t)total - 4);
    ck_assert_uint_eq(rec.ends, (size_t)total - 4);
    /* The first evictions were the first flows, in order. */
    for (int i = 0; i < LOG_MAX; i++) {
        ck_assert_int_eq(rec.log[i].id, i);
    }
    flow_table_destroy(table);
    ck_assert_uint_eq(rec.ends, (size_t)total);
    ck_assert_uint_eq(rec.by_reason[FLOW_END_FLUSH], 4);
}
END_TEST

START_TEST(test_large_table)
{
    /* A bigger cap than buckets' minimum, with chains: all flows found. */
    struct recorder rec;
    memset(&rec, 0, sizeof rec);
    struct flow_table_config config = test_config();
    config.max_flows = 5000;
    struct flow_table *table = flow_table_create(&config, record_end, &rec);
    ck_assert_ptr_nonnull(table);
    enum flow_direction dir;
    bool created;
    static struct flow *flows[5000];
    for (int i = 0; i < 5000; i++) {
        struct decoded_packet p = make_packet(IP_PROTO_UDP, v4(10, 0, (uint8_t)(i >> 8),
                                                               (uint8_t)i),
                                              5000, v4(10, 1, 0, 1), 6000, 0, T0);
        flows[i] = track(table, &p, &dir, &created);
        ck_assert(created);
    }
    for (int i = 4999; i >= 0; i--) {
        struct decoded_packet r = make_packet(IP_PROTO_UDP, v4(10, 1, 0, 1), 6000,
                                              v4(10, 0, (uint8_t)(i >> 8), (uint8_t)i), 5000,
                                              0, T0 + SEC);
        ck_assert_ptr_eq(track(table, &r, &dir, &created), flows[i]);
        ck_assert(!created);
        ck_assert_int_eq(dir, FLOW_TO_CLIENT);
    }
    ck_assert_uint_eq(stats_of(table).active, 5000);
    ck_assert_uint_eq(stats_of(table).ended_evicted, 0);
    flow_table_expire(table, T0 + 122 * SEC);
    ck_assert_uint_eq(rec.ends, 5000);
    ck_assert_uint_eq(rec.by_reason[FLOW_END_IDLE], 5000);
    flow_table_destroy(table);
    ck_assert_uint_eq(rec.ends, 5000);
}
END_TEST

/* ---- flush and lifecycle ---------------------------------------------- */

START_TEST(test_flush_each_once)
{
    struct recorder rec;
    struct flow_table *table = new_table(&rec);
    enum flow_direction dir;
    bool created;
    for (int i = 0; i < 20; i++) {
        struct decoded_packet p = make_packet(
            i % 2 ? IP_PROTO_TCP : IP_PROTO_ICMP, v4(10, 15, 0, (uint8_t)i), 40000,
            v4(10, 15, 1, 1), 80, TCP_ACK, T0 + (uint64_t)i * SEC);
        tag_flow(track(table, &p, &dir, &created), i);
    }
    flow_table_flush(table);
    ck_assert_uint_eq(rec.ends, 20);
    ck_assert_uint_eq(rec.by_reason[FLOW_END_FLUSH], 20);
    int seen[20] = {0};
    for (size_t i = 0; i < rec.logged; i++) {
        ck_assert_int_ge(rec.log[i].id, 0);
        ck_assert_int_lt(rec.log[i].id, 20);
        seen[rec.log[i].id]++;
        /* Least recently active first. */
        ck_assert_int_eq(rec.log[i].id, (int)i);
    }
    for (int i = 0; i < 20; i++) {
        ck_assert_int_eq(seen[i], 1);
    }
    struct flow_table_stats stats = stats_of(table);
    ck_assert_uint_eq(stats.active, 0);
    ck_assert_uint_eq(stats.peak, 20);
    ck_assert_uint_eq(stats.ended_flush, 20);

    /* The table stays usable; a flushed flow comes back as a new one. */
    struct decoded_packet p = make_packet(IP_PROTO_TCP, v4(10, 15, 0, 1), 40000,
                                          v4(10, 15, 1, 1), 80, TCP_ACK, T0 + 100 * SEC);
    struct flow *flow = track(table, &p, &dir, &created);
    ck_assert(created);
    ck_assert_uint_eq(flow->packets[FLOW_TO_SERVER], 1);
    flow_table_flush(table);
    flow_table_flush(table);
    ck_assert_uint_eq(rec.ends, 21);
    flow_table_expire(table, UINT64_MAX);
    flow_table_destroy(table);
    ck_assert_uint_eq(rec.ends, 21);
}
END_TEST

/* Runs a fixed mixed workload with `seed` and fills `rec` and `stats`. */
static void run_workload(uint32_t seed, struct recorder *rec, struct flow_table_stats *stats)
{
    memset(rec, 0, sizeof *rec);
    struct flow_table_config config = test_config();
    config.max_flows = 16;
    config.hash_seed = seed;
    struct flow_table *table = flow_table_create(&config, record_end, rec);
    ck_assert_ptr_nonnull(table);
    enum flow_direction dir;
    bool created;
    uint32_t state = 7;
    int next_id = 0;
    for (int i = 0; i < 2000; i++) {
        state = state * 1103515245u + 12345u;
        uint8_t host = (uint8_t)((state >> 16) % 40);
        bool reverse = (state >> 8) & 1;
        uint8_t proto = (state >> 9) % 3 == 0 ? IP_PROTO_UDP : IP_PROTO_TCP;
        uint8_t flags = (uint8_t)((state >> 24) & (TCP_SYN | TCP_ACK | TCP_FIN));
        struct net_addr a = v4(10, 16, 0, host);
        struct net_addr b = v4(10, 16, 1, 1);
        uint64_t ts = T0 + (uint64_t)i * 2 * SEC;
        struct decoded_packet p = reverse ? make_packet(proto, b, 443, a, 40000, flags, ts)
                                          : make_packet(proto, a, 40000, b, 443, flags, ts);
        struct flow *flow = track(table, &p, &dir, &created);
        if (created) {
            tag_flow(flow, next_id++);
        }
        if (i % 50 == 49) {
            flow_table_expire(table, ts);
        }
    }
    flow_table_get_stats(table, stats);
    flow_table_destroy(table);
    ck_assert_uint_eq(rec->ends, stats->created);
}

START_TEST(test_seed_does_not_change_behaviour)
{
    static struct recorder base;
    static struct recorder other;
    struct flow_table_stats base_stats;
    struct flow_table_stats other_stats;
    run_workload(0, &base, &base_stats);
    ck_assert_uint_gt(base_stats.created, 16);
    ck_assert_uint_gt(base_stats.ended_evicted, 0);
    ck_assert_uint_gt(base_stats.ended_idle, 0);
    const uint32_t seeds[] = {1, 0xdeadbeefu, 0xffffffffu};
    for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
        run_workload(seeds[s], &other, &other_stats);
        ck_assert_mem_eq(&base_stats, &other_stats, sizeof base_stats);
        ck_assert_uint_eq(base.ends, other.ends);
        ck_assert_uint_eq(base.logged, other.logged);
        for (size_t i = 0; i < base.logged; i++) {
            ck_assert_int_eq(base.log[i].id, other.log[i].id);
            ck_assert_int_eq(base.log[i].reason, other.log[i].reason);
            ck_assert_uint_eq(base.log[i].packets[0], other.log[i].packets[0]);
            ck_assert_uint_eq(base.log[i].packets[1], other.log[i].packets[1]);
        }
    }
}
END_TEST

START_TEST(test_ends_equal_created)
{
    struct recorder rec;
    struct flow_table_stats stats;
    run_workload(99, &rec, &stats);
    ck_assert_uint_eq(rec.ends, stats.created);
    /* `stats` was taken just before destroy flushed the remaining flows. */
    ck_assert_uint_eq(stats.ended_idle + stats.ended_evicted + stats.active, stats.created);
    ck_assert_uint_eq(stats.ended_flush, 0);
    ck_assert_uint_eq(rec.by_reason[FLOW_END_IDLE], stats.ended_idle);
    ck_assert_uint_eq(rec.by_reason[FLOW_END_EVICTED], stats.ended_evicted);
    ck_assert_uint_eq(rec.by_reason[FLOW_END_FLUSH], stats.active);
    ck_assert_uint_le(stats.peak, 16);
}
END_TEST

static Suite *flow_suite(void)
{
    Suite *suite = suite_create("flow");
    TCase *tc = tcase_create("key");
    tcase_add_test(tc, test_default_config);
    tcase_add_test(tc, test_create_edge_cases);
    tcase_add_test(tc, test_both_directions_one_flow);
    tcase_add_test(tc, test_vlan_separates);
    tcase_add_test(tc, test_ipv6_flows);
    tcase_add_test(tc, test_same_endpoints);
    suite_add_tcase(suite, tc);

    tc = tcase_create("orientation");
    tcase_add_test(tc, test_orientation_syn);
    tcase_add_test(tc, test_orientation_syn_ack_first);
    tcase_add_test(tc, test_orientation_udp_ports);
    tcase_add_test(tc, test_orientation_tcp_midstream);
    tcase_add_test(tc, test_late_syn_swaps);
    tcase_add_test(tc, test_late_syn_from_client_side_confirms);
    tcase_add_test(tc, test_synack_midstream_no_swap);
    tcase_add_test(tc, test_icmp_orientation);
    tcase_add_test(tc, test_macs);
    suite_add_tcase(suite, tc);

    tc = tcase_create("state");
    tcase_add_test(tc, test_counters_per_direction);
    tcase_add_test(tc, test_closed_fin_fin);
    tcase_add_test(tc, test_closed_rst);
    tcase_add_test(tc, test_idle_tcp);
    tcase_add_test(tc, test_idle_udp);
    tcase_add_test(tc, test_idle_other);
    tcase_add_test(tc, test_activity_refreshes_and_orders);
    tcase_add_test(tc, test_clock_never_underflows);
    tcase_add_test(tc, test_zero_timeouts);
    suite_add_tcase(suite, tc);

    tc = tcase_create("bounds");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_eviction_lru);
    tcase_add_test(tc, test_cap_holds_many_flows);
    tcase_add_test(tc, test_large_table);
    tcase_add_test(tc, test_flush_each_once);
    tcase_add_test(tc, test_seed_does_not_change_behaviour);
    tcase_add_test(tc, test_ends_equal_created);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    SRunner *runner = srunner_create(flow_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
