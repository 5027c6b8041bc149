/* libFuzzer target for the flow table: the input is a 32-bit hash seed
 * followed by 8-byte records, each a synthetic packet, an expiry at some
 * later time or a flush, played against a table capped at 64 flows with
 * short timeouts. Invariants checked (abort() is a finding):
 * - the table never holds more than its cap;
 * - every flow ends exactly once, and every created flow has ended after
 *   destroy;
 * - the returned direction agrees with the flow's client and server;
 * - the statistics add up.
 * The record bytes are read through the bounded reader like any input. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fluxaudit/flow.h"
#include "util/reader.h"

#define FUZZ_CAP 64
#define FUZZ_RECORD_LEN 8
#define FUZZ_SEC 1000000ULL

struct fuzz_context {
    uint8_t *ended;     /* per flow id: times on_end ran */
    size_t id_limit;    /* size of `ended` */
    size_t next_id;     /* ids handed out so far */
    size_t ends;
};

static const uint16_t fuzz_ports[16] = {
    0, 1, 22, 53, 80, 123, 161, 443, 1023, 1024, 2575, 11112, 40000, 50000, 65534, 65535,
};

static const uint8_t fuzz_protos[5] = {IP_PROTO_TCP, IP_PROTO_UDP, IP_PROTO_ICMP,
                                       IP_PROTO_ICMPV6, 47};

/* The end callback: each id must end once; releases the id tag. */
static void fuzz_on_end(struct flow *flow, enum flow_end_reason reason, void *user)
{
    struct fuzz_context *ctx = user;
    if (reason != FLOW_END_IDLE && reason != FLOW_END_EVICTED && reason != FLOW_END_FLUSH)
        abort();
    if (flow->dpi_state == NULL)
        abort();
    size_t id = *(size_t *)flow->dpi_state;
    free(flow->dpi_state);
    flow->dpi_state = NULL;
    if (id >= ctx->next_id || ctx->ended[id] != 0)
        abort();
    ctx->ended[id] = 1;
    ctx->ends++;
}

static struct net_addr fuzz_addr(uint8_t host, bool ipv6)
{
    struct net_addr addr;
    memset(&addr, 0, sizeof addr);
    addr.family = ipv6 ? 6 : 4;
    addr.bytes[0] = 10;
    addr.bytes[ipv6 ? 15 : 3] = (uint8_t)(host % 8);
    return addr;
}

/* Builds a packet from one record. */
static struct decoded_packet fuzz_packet(struct reader *r, uint8_t op, uint64_t *clock)
{
    struct decoded_packet p;
    memset(&p, 0, sizeof p);
    bool ipv6 = op % 2 == 1;
    uint8_t src = reader_u8(r);
    uint8_t dst = reader_u8(r);
    uint8_t ports = reader_u8(r);
    p.tcp_flags = reader_u8(r);
    p.ip_proto = fuzz_protos[reader_u8(r) % 5];
    int delta = (int)reader_u8(r) - 32; /* may step back in time */
    uint8_t l2 = reader_u8(r);
    if (delta < 0 && (uint64_t)-delta * 100000 > *clock)
        delta = 0;
    *clock = (uint64_t)((int64_t)*clock + (int64_t)delta * 100000);
    p.ts_usec = *clock;
    p.src = fuzz_addr(src, ipv6);
    p.dst = fuzz_addr(dst, ipv6);
    p.src_port = fuzz_ports[ports & 0x0f];
    p.dst_port = fuzz_ports[ports >> 4];
    p.vlan = (uint16_t)(l2 & 0x03);
    p.has_mac = (l2 & 0x04) != 0;
    p.src_mac.bytes[5] = src;
    p.dst_mac.bytes[5] = (l2 & 0x08) ? 0 : dst;
    p.wire_len = 60u + l2;
    p.payload_len = l2;
    if (p.ip_proto != IP_PROTO_TCP)
        p.tcp_flags = 0;
    return p;
}

/* Aborts unless `direction` matches the flow's orientation. */
static void fuzz_check_direction(const struct flow *flow, const struct decoded_packet *p,
                                 enum flow_direction direction)
{
    const struct net_addr *sender = direction == FLOW_TO_SERVER ? &flow->client : &flow->server;
    uint16_t sender_port = direction == FLOW_TO_SERVER ? flow->client_port : flow->server_port;
    if (memcmp(sender, &p->src, sizeof *sender) != 0)
        abort();
    bool ports = p->ip_proto == IP_PROTO_TCP || p->ip_proto == IP_PROTO_UDP;
    if (ports && sender_port != p->src_port)
        abort();
    if (!ports && (flow->client_port != 0 || flow->server_port != 0))
        abort();
}

static void fuzz_track(struct flow_table *table, struct fuzz_context *ctx,
                       const struct decoded_packet *p)
{
    enum flow_direction direction;
    bool created;
    struct flow *flow = flow_table_track(table, p, &direction, &created);
    if (flow == NULL)
        return; /* allocation failure only */
    if (created) {
        if (ctx->next_id >= ctx->id_limit)
            abort();
        size_t *tag = malloc(sizeof *tag);
        if (tag == NULL)
            abort();
        *tag = ctx->next_id++;
        flow->dpi_state = tag;
    }
    fuzz_check_direction(flow, p, direction);
    if (flow->last_usec < flow->first_usec)
        abort();
}

static void fuzz_check_stats(const struct flow_table *table, const struct fuzz_context *ctx)
{
    struct flow_table_stats stats;
    flow_table_get_stats(table, &stats);
    if (stats.active > FUZZ_CAP || stats.peak > FUZZ_CAP || stats.active > stats.peak)
        abort();
    if (stats.created != ctx->next_id || ctx->ends + stats.active != stats.created)
        abort();
    if (stats.ended_idle + stats.ended_evicted + stats.ended_flush != ctx->ends)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Plays one input against a fresh table; never fails. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct reader r = reader_make(data, size);
    struct flow_table_config config;
    flow_table_default_config(&config);
    config.max_flows = FUZZ_CAP;
    config.tcp_idle_sec = 30;
    config.tcp_closed_sec = 2;
    config.udp_idle_sec = 20;
    config.other_idle_sec = 10;
    config.hash_seed = reader_be32(&r);

    struct fuzz_context ctx = {0};
    ctx.id_limit = size / FUZZ_RECORD_LEN + 1;
    ctx.ended = calloc(ctx.id_limit, 1);
    if (ctx.ended == NULL)
        return 0;
    struct flow_table *table = flow_table_create(&config, fuzz_on_end, &ctx);
    if (table == NULL) {
        free(ctx.ended);
        return 0;
    }
    uint64_t clock = 1700000000ULL * FUZZ_SEC;
    while (reader_has(&r, FUZZ_RECORD_LEN)) {
        uint8_t op = reader_u8(&r);
        if (op % 16 < 13) {
            struct decoded_packet p = fuzz_packet(&r, op, &clock);
            fuzz_track(table, &ctx, &p);
        } else {
            uint8_t seconds = reader_u8(&r);
            reader_skip(&r, FUZZ_RECORD_LEN - 2);
            if (op % 16 == 15)
                flow_table_flush(table);
            else
                flow_table_expire(table, clock + seconds * FUZZ_SEC);
        }
        fuzz_check_stats(table, &ctx);
    }
    flow_table_destroy(table);
    if (ctx.ends != ctx.next_id)
        abort();
    free(ctx.ended);
    return 0;
}
