/* flow: the bounded table of bidirectional flows.
 *
 * Layout
 *   One node per flow (`struct flow_node`): the public `struct flow` first,
 *   then the private links. Each node sits in two structures at once:
 *   - a chained hash table (power-of-two bucket count, doubly linked chains
 *     through `hash_pprev` so a node unlinks in O(1));
 *   - exactly one of four LRU lists, one per timeout class (open TCP, closed
 *     TCP, UDP, other). A packet moves its flow to the tail of its list, so
 *     each list is ordered by last activity and expiry walks a list from its
 *     head and stops at the first flow that has not timed out: O(expired),
 *     never O(table). Eviction compares the four heads.
 *
 * Key
 *   (family, IP protocol, VLAN, lower endpoint, higher endpoint), 40 bytes,
 *   where the two (address, port) endpoints are sorted so that both
 *   directions of a conversation build the same bytes. Ports are keyed for
 *   TCP and UDP only: for ICMP the decoder puts type/code there, which differ
 *   between a request and its reply, and other protocols carry none.
 *
 * Hash
 *   SipHash-1-3 over the key bytes, keyed with 128 bits expanded from
 *   `hash_seed` by splitmix64. The keys come straight from the wire, so a
 *   plain multiplicative hash would let a sender craft thousands of tuples
 *   landing in one chain; a keyed PRF with a random seed makes that
 *   impractical. SipHash-1-3 (the variant Rust and CPython use for their
 *   hash tables) costs a few dozen cycles for 40 bytes. The seed is only 32
 *   bits wide (the contract's), enough against blind flooding, not against
 *   an attacker who can observe the table's timing and search offline.
 *
 * Orientation (who is the client)
 *   - TCP, first packet SYN without ACK: the sender is the client.
 *   - TCP, first packet SYN+ACK: the sender is the server.
 *     Both set `oriented_by_syn`: the orientation comes from the handshake.
 *   - ICMP/ICMPv6: the sender of the first packet is the client, except an
 *     echo reply (type 0 / 129) seen first, whose sender is the server.
 *   - Anything else (UDP, TCP caught mid-stream, other protocols): the
 *     sender of the first packet is the client, unless its source port is
 *     well-known (< 1024) and its destination port is not (>= 1024): then it
 *     is a server answering (e.g. 53 -> 40000 makes 40000 the client).
 *   - A TCP flow not yet oriented by a SYN that later sees a pure SYN from
 *     its "server" side is turned around: addresses, ports, MACs and every
 *     per-direction counter swap, and the flow becomes `oriented_by_syn`.
 *
 * Closing
 *   A TCP flow is closed once FIN was seen in both directions or RST in
 *   either; it then moves to the closed list and its short timeout. Closed
 *   is sticky: a new connection reusing the same tuple before the flow
 *   expires is counted in it (such quick port reuse is rare).
 *
 * Time
 *   Capture timestamps are not strictly monotonic (several interfaces, NIC
 *   batching, merged files). The table keeps its own clock, the highest
 *   timestamp seen, and stamps a touched flow with it, so each LRU list
 *   stays sorted by activity even when a packet is stamped slightly in the
 *   past, and no subtraction of timestamps can underflow. `first_usec` and
 *   `last_usec` are the flow's own minimum and maximum packet timestamps.
 *
 * Callbacks
 *   `on_end` runs exactly once per flow, after the flow has been unlinked
 *   from the table and just before its node is freed. It owns `dpi_state`
 *   and `tls_state` and must release them. It must NOT call back into the
 *   table (track, expire, flush, destroy): the table is in the middle of a
 *   walk over its lists. Debug builds assert this. */
#include "fluxaudit/flow.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* Timeout classes: one LRU list each. */
enum flow_class {
    FLOW_CLASS_TCP_OPEN = 0,
    FLOW_CLASS_TCP_CLOSED,
    FLOW_CLASS_UDP,
    FLOW_CLASS_OTHER,
    FLOW_CLASS_COUNT,
};

/* family(1) proto(1) vlan(2) low addr(16) low port(2) high addr(16) high port(2) */
#define FLOW_KEY_LEN 40
#define FLOW_ADDR_LEN 16
#define FLOW_USEC_PER_SEC 1000000ULL
/* Beyond 2^24 buckets (128 MiB of pointers) chains just grow a little
 * longer: a huge max_flows must not turn into a huge up-front allocation. */
#define FLOW_MAX_BUCKET_BITS 24
#define FLOW_MIN_BUCKETS 16

enum { ICMP_ECHO_REPLY = 0, ICMPV6_ECHO_REPLY = 129, WELL_KNOWN_PORT_LIMIT = 1024 };

struct flow_node {
    struct flow flow;             /* public part, handed to callers */
    uint8_t key[FLOW_KEY_LEN];    /* canonical key, see flow_key_build */
    uint64_t hash;                /* SipHash of key */
    struct flow_node *hash_next;  /* bucket chain */
    struct flow_node **hash_pprev; /* the pointer that points at this node */
    struct flow_node *lru_prev;   /* LRU list of `lru_class` */
    struct flow_node *lru_next;
    uint64_t touch_usec;          /* table clock at the last packet */
    uint64_t touch_seq;           /* global activity order, for eviction */
    uint8_t lru_class;            /* enum flow_class */
    bool client_is_low;           /* the client is the key's lower endpoint */
    bool mac_from_sender[2];      /* [0] client, [1] server: MAC seen as a source */
};

struct flow_lru {
    struct flow_node *head;       /* least recently active */
    struct flow_node *tail;       /* most recently active */
};

struct flow_table {
    struct flow_table_config config;
    flow_end_fn on_end;
    void *user;
    struct flow_node **buckets;
    size_t bucket_mask;
    struct flow_lru lru[FLOW_CLASS_COUNT];
    uint64_t timeout_usec[FLOW_CLASS_COUNT];
    uint64_t sip_k0;              /* SipHash key, from hash_seed */
    uint64_t sip_k1;
    uint64_t clock_usec;          /* highest packet timestamp seen */
    uint64_t next_seq;
    struct flow_table_stats stats;
    bool in_callback;             /* on_end is running: re-entry is a bug */
};

/* ---- hashing ---------------------------------------------------------- */

static uint64_t flow_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t flow_rotl(uint64_t x, unsigned bits)
{
    return (x << bits) | (x >> (64 - bits));
}

static inline void flow_sip_round(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = flow_rotl(v[1], 13);
    v[1] ^= v[0];
    v[0] = flow_rotl(v[0], 32);
    v[2] += v[3];
    v[3] = flow_rotl(v[3], 16);
    v[3] ^= v[2];
    v[0] += v[3];
    v[3] = flow_rotl(v[3], 21);
    v[3] ^= v[0];
    v[2] += v[1];
    v[1] = flow_rotl(v[1], 17);
    v[1] ^= v[2];
    v[2] = flow_rotl(v[2], 32);
}

static inline uint64_t flow_load_le64(const uint8_t *p, size_t n)
{
    uint64_t value = 0;
    for (size_t i = 0; i < n; i++) {
        value |= (uint64_t)p[i] << (8 * i);
    }
    return value;
}

/* SipHash-1-3 (one compression round, three finalisation rounds). */
static uint64_t flow_siphash13(uint64_t k0, uint64_t k1, const uint8_t *data, size_t len)
{
    uint64_t v[4] = {
        k0 ^ 0x736f6d6570736575ULL,
        k1 ^ 0x646f72616e646f6dULL,
        k0 ^ 0x6c7967656e657261ULL,
        k1 ^ 0x7465646279746573ULL,
    };
    size_t full = len - len % 8;
    for (size_t i = 0; i < full; i += 8) {
        uint64_t m = flow_load_le64(data + i, 8);
        v[3] ^= m;
        flow_sip_round(v);
        v[0] ^= m;
    }
    uint64_t last = ((uint64_t)len << 56) | flow_load_le64(data + full, len % 8);
    v[3] ^= last;
    flow_sip_round(v);
    v[0] ^= last;
    v[2] ^= 0xff;
    flow_sip_round(v);
    flow_sip_round(v);
    flow_sip_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* ---- key -------------------------------------------------------------- */

static bool flow_proto_has_ports(uint8_t ip_proto)
{
    return ip_proto == IP_PROTO_TCP || ip_proto == IP_PROTO_UDP;
}

static bool flow_proto_is_icmp(uint8_t ip_proto)
{
    return ip_proto == IP_PROTO_ICMP || ip_proto == IP_PROTO_ICMPV6;
}

/* Writes the address bytes the key uses: 4 for IPv4, 16 otherwise, the
 * rest zero, so stray bytes past an IPv4 address never split a flow. */
static void flow_endpoint_write(uint8_t *out, const struct net_addr *addr, uint16_t port)
{
    size_t len = addr->family == 4 ? 4 : FLOW_ADDR_LEN;
    memset(out, 0, FLOW_ADDR_LEN);
    memcpy(out, addr->bytes, len);
    out[FLOW_ADDR_LEN] = (uint8_t)(port >> 8);
    out[FLOW_ADDR_LEN + 1] = (uint8_t)port;
}

/* Builds the canonical key of `packet` and tells whether its source is the
 * key's lower endpoint. Comparing the serialised endpoints (address bytes,
 * then big-endian port) gives one total order for both directions. */
static void flow_key_build(const struct decoded_packet *packet, uint8_t key[FLOW_KEY_LEN],
                           bool *src_is_low)
{
    enum { ENDPOINT_LEN = FLOW_ADDR_LEN + 2 };
    uint8_t src[ENDPOINT_LEN];
    uint8_t dst[ENDPOINT_LEN];
    bool ports = flow_proto_has_ports(packet->ip_proto);
    flow_endpoint_write(src, &packet->src, ports ? packet->src_port : 0);
    flow_endpoint_write(dst, &packet->dst, ports ? packet->dst_port : 0);
    *src_is_low = memcmp(src, dst, ENDPOINT_LEN) <= 0;
    key[0] = packet->src.family;
    key[1] = packet->ip_proto;
    key[2] = (uint8_t)(packet->vlan >> 8);
    key[3] = (uint8_t)packet->vlan;
    memcpy(key + 4, *src_is_low ? src : dst, ENDPOINT_LEN);
    memcpy(key + 4 + ENDPOINT_LEN, *src_is_low ? dst : src, ENDPOINT_LEN);
}

/* ---- LRU lists -------------------------------------------------------- */

static void flow_lru_unlink(struct flow_table *table, struct flow_node *node)
{
    struct flow_lru *list = &table->lru[node->lru_class];
    if (node->lru_prev != NULL) {
        node->lru_prev->lru_next = node->lru_next;
    } else {
        list->head = node->lru_next;
    }
    if (node->lru_next != NULL) {
        node->lru_next->lru_prev = node->lru_prev;
    } else {
        list->tail = node->lru_prev;
    }
    node->lru_prev = NULL;
    node->lru_next = NULL;
}

static void flow_lru_append(struct flow_table *table, struct flow_node *node, uint8_t lru_class)
{
    struct flow_lru *list = &table->lru[lru_class];
    node->lru_class = lru_class;
    node->lru_prev = list->tail;
    node->lru_next = NULL;
    if (list->tail != NULL) {
        list->tail->lru_next = node;
    } else {
        list->head = node;
    }
    list->tail = node;
}

/* The timeout class a flow belongs to in its current state. */
static uint8_t flow_class_of(const struct flow *flow)
{
    if (flow->ip_proto == IP_PROTO_TCP) {
        return flow->closed ? FLOW_CLASS_TCP_CLOSED : FLOW_CLASS_TCP_OPEN;
    }
    if (flow->ip_proto == IP_PROTO_UDP) {
        return FLOW_CLASS_UDP;
    }
    return FLOW_CLASS_OTHER;
}

/* The least recently active flow of the whole table, or NULL if empty:
 * the oldest of the four list heads. */
static struct flow_node *flow_table_oldest(const struct flow_table *table)
{
    struct flow_node *oldest = NULL;
    for (size_t i = 0; i < FLOW_CLASS_COUNT; i++) {
        struct flow_node *head = table->lru[i].head;
        if (head != NULL && (oldest == NULL || head->touch_seq < oldest->touch_seq)) {
            oldest = head;
        }
    }
    return oldest;
}

/* ---- hash table ------------------------------------------------------- */

static struct flow_node *flow_table_lookup(const struct flow_table *table, uint64_t hash,
                                           const uint8_t key[FLOW_KEY_LEN])
{
    struct flow_node *node = table->buckets[hash & table->bucket_mask];
    for (; node != NULL; node = node->hash_next) {
        if (node->hash == hash && memcmp(node->key, key, FLOW_KEY_LEN) == 0) {
            return node;
        }
    }
    return NULL;
}

static void flow_hash_insert(struct flow_table *table, struct flow_node *node)
{
    struct flow_node **bucket = &table->buckets[node->hash & table->bucket_mask];
    node->hash_next = *bucket;
    node->hash_pprev = bucket;
    if (*bucket != NULL) {
        (*bucket)->hash_pprev = &node->hash_next;
    }
    *bucket = node;
}

static void flow_hash_unlink(struct flow_node *node)
{
    *node->hash_pprev = node->hash_next;
    if (node->hash_next != NULL) {
        node->hash_next->hash_pprev = node->hash_pprev;
    }
    node->hash_next = NULL;
    node->hash_pprev = NULL;
}

/* Unlinks `node`, counts why it ended, hands it to on_end, then frees it. */
static void flow_table_end(struct flow_table *table, struct flow_node *node,
                           enum flow_end_reason reason)
{
    flow_hash_unlink(node);
    flow_lru_unlink(table, node);
    table->stats.active--;
    switch (reason) {
    case FLOW_END_IDLE:
        table->stats.ended_idle++;
        break;
    case FLOW_END_EVICTED:
        table->stats.ended_evicted++;
        break;
    case FLOW_END_FLUSH:
        table->stats.ended_flush++;
        break;
    }
    if (table->on_end != NULL) {
        table->in_callback = true;
        table->on_end(&node->flow, reason, table->user);
        table->in_callback = false;
    }
    free(node);
}

/* ---- orientation ------------------------------------------------------ */

/* Returns true if the sender of the first packet of a flow is its client. */
static bool flow_first_sender_is_client(const struct decoded_packet *packet, bool *by_syn)
{
    *by_syn = false;
    if (packet->ip_proto == IP_PROTO_TCP && (packet->tcp_flags & TCP_SYN) != 0) {
        *by_syn = true;
        return (packet->tcp_flags & TCP_ACK) == 0;
    }
    if (flow_proto_is_icmp(packet->ip_proto)) {
        uint16_t reply = packet->ip_proto == IP_PROTO_ICMP ? ICMP_ECHO_REPLY : ICMPV6_ECHO_REPLY;
        return packet->src_port != reply;
    }
    if (flow_proto_has_ports(packet->ip_proto)) {
        return !(packet->src_port < WELL_KNOWN_PORT_LIMIT &&
                 packet->dst_port >= WELL_KNOWN_PORT_LIMIT);
    }
    return true;
}

static void flow_swap_u64(uint64_t pair[2])
{
    uint64_t tmp = pair[0];
    pair[0] = pair[1];
    pair[1] = tmp;
}

/* Turns a flow around: the server becomes the client, with every
 * per-direction field following its side. */
static void flow_reverse(struct flow_node *node)
{
    struct flow *flow = &node->flow;
    struct net_addr addr = flow->client;
    flow->client = flow->server;
    flow->server = addr;
    uint16_t port = flow->client_port;
    flow->client_port = flow->server_port;
    flow->server_port = port;
    struct mac_addr mac = flow->client_mac;
    flow->client_mac = flow->server_mac;
    flow->server_mac = mac;
    bool from_sender = node->mac_from_sender[0];
    node->mac_from_sender[0] = node->mac_from_sender[1];
    node->mac_from_sender[1] = from_sender;
    flow_swap_u64(flow->packets);
    flow_swap_u64(flow->bytes);
    flow_swap_u64(flow->payload_bytes);
    uint8_t flags = flow->tcp_flags[0];
    flow->tcp_flags[0] = flow->tcp_flags[1];
    flow->tcp_flags[1] = flags;
    node->client_is_low = !node->client_is_low;
}

/* Fills a new flow's identity from its first packet. */
static void flow_node_init(struct flow_node *node, const struct decoded_packet *packet,
                           bool src_is_low)
{
    struct flow *flow = &node->flow;
    bool by_syn = false;
    bool sender_is_client = flow_first_sender_is_client(packet, &by_syn);
    bool ports = flow_proto_has_ports(packet->ip_proto);
    uint16_t src_port = ports ? packet->src_port : 0;
    uint16_t dst_port = ports ? packet->dst_port : 0;

    flow->client = sender_is_client ? packet->src : packet->dst;
    flow->server = sender_is_client ? packet->dst : packet->src;
    flow->client_port = sender_is_client ? src_port : dst_port;
    flow->server_port = sender_is_client ? dst_port : src_port;
    flow->ip_proto = packet->ip_proto;
    flow->vlan = packet->vlan;
    flow->oriented_by_syn = by_syn;
    flow->first_usec = packet->ts_usec;
    flow->last_usec = packet->ts_usec;
    flow->dpi_state = NULL;
    flow->tls_state = NULL;
    node->client_is_low = sender_is_client == src_is_low;
}

static bool flow_mac_is_zero(const struct mac_addr *mac)
{
    static const struct mac_addr zero;
    return memcmp(mac->bytes, zero.bytes, sizeof zero.bytes) == 0;
}

/* Learns the MACs of a packet. A side's MAC seen as a source is
 * authoritative; a destination MAC only fills a side not yet heard from,
 * and never with zeros (Linux cooked captures carry no destination). */
static void flow_learn_macs(struct flow_node *node, const struct decoded_packet *packet,
                            enum flow_direction direction)
{
    if (!packet->has_mac) {
        return;
    }
    struct flow *flow = &node->flow;
    size_t sender = direction == FLOW_TO_SERVER ? 0 : 1;
    struct mac_addr *sender_mac = sender == 0 ? &flow->client_mac : &flow->server_mac;
    struct mac_addr *receiver_mac = sender == 0 ? &flow->server_mac : &flow->client_mac;
    *sender_mac = packet->src_mac;
    node->mac_from_sender[sender] = true;
    if (!node->mac_from_sender[1 - sender] && !flow_mac_is_zero(&packet->dst_mac)) {
        *receiver_mac = packet->dst_mac;
    }
    flow->has_mac = true;
}

/* Counts a packet in `direction` and updates the flow's state. */
static void flow_account(struct flow_node *node, const struct decoded_packet *packet,
                         enum flow_direction direction)
{
    struct flow *flow = &node->flow;
    flow->packets[direction]++;
    flow->bytes[direction] += packet->wire_len;
    flow->payload_bytes[direction] += packet->payload_len;
    if (packet->ts_usec < flow->first_usec) {
        flow->first_usec = packet->ts_usec;
    }
    if (packet->ts_usec > flow->last_usec) {
        flow->last_usec = packet->ts_usec;
    }
    if (flow->ip_proto != IP_PROTO_TCP) {
        return;
    }
    flow->tcp_flags[direction] |= packet->tcp_flags;
    bool fin_both = (flow->tcp_flags[0] & TCP_FIN) != 0 && (flow->tcp_flags[1] & TCP_FIN) != 0;
    bool rst = ((flow->tcp_flags[0] | flow->tcp_flags[1]) & TCP_RST) != 0;
    if (fin_both || rst) {
        flow->closed = true;
    }
}

/* Applies the late-SYN rule: a pure SYN from the guessed server side of a
 * flow not yet oriented by a SYN proves the guess wrong. Returns the
 * packet's direction after any swap. */
static enum flow_direction flow_check_late_syn(struct flow_node *node,
                                               const struct decoded_packet *packet,
                                               enum flow_direction direction)
{
    struct flow *flow = &node->flow;
    bool pure_syn = (packet->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
    if (flow->ip_proto != IP_PROTO_TCP || flow->oriented_by_syn || !pure_syn) {
        return direction;
    }
    if (direction == FLOW_TO_CLIENT) {
        flow_reverse(node);
    }
    flow->oriented_by_syn = true;
    return FLOW_TO_SERVER;
}

/* Moves `node` to the tail of the list of its (possibly new) class. */
static void flow_touch(struct flow_table *table, struct flow_node *node)
{
    flow_lru_unlink(table, node);
    node->touch_usec = table->clock_usec;
    node->touch_seq = table->next_seq++;
    flow_lru_append(table, node, flow_class_of(&node->flow));
}

/* ---- public API ------------------------------------------------------- */

/* Fills `config` with the defaults.
 *
 * Why these timeouts:
 * - open TCP, 300 s: medical device links (HL7 MLLP, DICOM associations,
 *   vendor telemetry) often sit quiet for minutes between messages; five
 *   minutes keeps such a session one flow in most cases, while bounding
 *   how long connections whose FIN/RST we never saw (capture loss, a device
 *   switched off) hold a slot. A flow that resumes later is re-created
 *   mid-stream and oriented by the port rule.
 * - closed TCP, 10 s: after FIN both ways or RST only stragglers follow
 *   (last ACK, retransmitted FIN, TIME_WAIT noise); ten seconds absorbs them
 *   without splitting the flow, then frees the slot quickly.
 * - UDP, 120 s: like Linux conntrack's UDP stream timeout; keeps periodic
 *   exchanges (syslog, SNMP polling, NTP) together while a burst of one-shot
 *   DNS queries does not pin memory for long.
 * - other (ICMP, ESP, GRE...), 60 s: ping series and tunnels with keepalives
 *   stay one flow; these carry little to inspect, so they yield slots early. */
void flow_table_default_config(struct flow_table_config *config)
{
    memset(config, 0, sizeof *config);
    config->max_flows = FLOW_TABLE_DEFAULT_MAX_FLOWS;
    config->tcp_idle_sec = 300;
    config->tcp_closed_sec = 10;
    config->udp_idle_sec = 120;
    config->other_idle_sec = 60;
    config->hash_seed = 0;
}

/* The bucket count: the next power of two >= max_flows (load factor <= 1),
 * at least FLOW_MIN_BUCKETS, at most 2^FLOW_MAX_BUCKET_BITS. */
static size_t flow_bucket_count(size_t max_flows)
{
    size_t count = FLOW_MIN_BUCKETS;
    while (count < max_flows && count < ((size_t)1 << FLOW_MAX_BUCKET_BITS)) {
        count <<= 1;
    }
    return count;
}

/* Creates an empty table. Returns NULL if `config` is NULL or on
 * allocation failure. A max_flows of 0 is taken as 1. */
struct flow_table *flow_table_create(const struct flow_table_config *config, flow_end_fn on_end,
                                     void *user)
{
    if (config == NULL) {
        return NULL;
    }
    struct flow_table *table = calloc(1, sizeof *table);
    if (table == NULL) {
        return NULL;
    }
    table->config = *config;
    if (table->config.max_flows == 0) {
        table->config.max_flows = 1;
    }
    size_t count = flow_bucket_count(table->config.max_flows);
    table->buckets = calloc(count, sizeof *table->buckets);
    if (table->buckets == NULL) {
        free(table);
        return NULL;
    }
    table->bucket_mask = count - 1;
    table->on_end = on_end;
    table->user = user;
    table->timeout_usec[FLOW_CLASS_TCP_OPEN] = config->tcp_idle_sec * FLOW_USEC_PER_SEC;
    table->timeout_usec[FLOW_CLASS_TCP_CLOSED] = config->tcp_closed_sec * FLOW_USEC_PER_SEC;
    table->timeout_usec[FLOW_CLASS_UDP] = config->udp_idle_sec * FLOW_USEC_PER_SEC;
    table->timeout_usec[FLOW_CLASS_OTHER] = config->other_idle_sec * FLOW_USEC_PER_SEC;
    uint64_t state = config->hash_seed;
    table->sip_k0 = flow_splitmix64(&state);
    table->sip_k1 = flow_splitmix64(&state);
    return table;
}

/* Ends every remaining flow (FLOW_END_FLUSH) and frees the table.
 * NULL is accepted and ignored. */
void flow_table_destroy(struct flow_table *table)
{
    if (table == NULL) {
        return;
    }
    flow_table_flush(table);
    free(table->buckets);
    free(table);
}

/* Allocates and links a new flow for `packet`, evicting the least recently
 * active flow first if the table is full. Allocating before evicting means
 * an allocation failure costs no flow. Returns NULL on allocation failure. */
static struct flow_node *flow_table_insert(struct flow_table *table,
                                           const struct decoded_packet *packet,
                                           const uint8_t key[FLOW_KEY_LEN], uint64_t hash,
                                           bool src_is_low)
{
    struct flow_node *node = calloc(1, sizeof *node);
    if (node == NULL) {
        return NULL;
    }
    while (table->stats.active >= table->config.max_flows) {
        flow_table_end(table, flow_table_oldest(table), FLOW_END_EVICTED);
    }
    memcpy(node->key, key, FLOW_KEY_LEN);
    node->hash = hash;
    flow_node_init(node, packet, src_is_low);
    flow_hash_insert(table, node);
    flow_lru_append(table, node, node->lru_class);
    table->stats.active++;
    table->stats.created++;
    if (table->stats.active > table->stats.peak) {
        table->stats.peak = table->stats.active;
    }
    return node;
}

/* Finds or creates the flow of `packet`, counts the packet in it and sets
 * `*direction` and `*created`. Returns NULL only on allocation failure
 * (then `*created` is false). */
struct flow *flow_table_track(struct flow_table *table, const struct decoded_packet *packet,
                              enum flow_direction *direction, bool *created)
{
    assert(!table->in_callback);
    *direction = FLOW_TO_SERVER;
    *created = false;
    if (packet->ts_usec > table->clock_usec) {
        table->clock_usec = packet->ts_usec;
    }
    uint8_t key[FLOW_KEY_LEN];
    bool src_is_low = false;
    flow_key_build(packet, key, &src_is_low);
    uint64_t hash = flow_siphash13(table->sip_k0, table->sip_k1, key, FLOW_KEY_LEN);

    struct flow_node *node = flow_table_lookup(table, hash, key);
    if (node == NULL) {
        node = flow_table_insert(table, packet, key, hash, src_is_low);
        if (node == NULL) {
            return NULL;
        }
        *created = true;
    }
    enum flow_direction dir = src_is_low == node->client_is_low ? FLOW_TO_SERVER : FLOW_TO_CLIENT;
    dir = flow_check_late_syn(node, packet, dir);
    flow_learn_macs(node, packet, dir);
    flow_account(node, packet, dir);
    flow_touch(table, node);
    *direction = dir;
    return &node->flow;
}

/* True if `node` has been idle longer than `timeout_usec` at `now_usec`.
 * A `now_usec` behind the flow's activity means idle 0, never a wrap. */
static bool flow_is_expired(const struct flow_node *node, uint64_t now_usec,
                            uint64_t timeout_usec)
{
    return now_usec > node->touch_usec && now_usec - node->touch_usec > timeout_usec;
}

/* Ends (FLOW_END_IDLE) every flow idle for longer than its class's timeout
 * at `now_usec`. Each list is sorted by activity, so the walk stops at the
 * first live flow: the cost is the number of flows ended. */
void flow_table_expire(struct flow_table *table, uint64_t now_usec)
{
    assert(!table->in_callback);
    for (size_t i = 0; i < FLOW_CLASS_COUNT; i++) {
        struct flow_lru *list = &table->lru[i];
        /* flow_table_end unlinks the head before freeing it: the analyzer
         * cannot see that the next test reads the new head. */
        // NOLINTBEGIN(clang-analyzer-unix.Malloc)
        while (list->head != NULL &&
               flow_is_expired(list->head, now_usec, table->timeout_usec[i])) {
            flow_table_end(table, list->head, FLOW_END_IDLE);
        }
        // NOLINTEND(clang-analyzer-unix.Malloc)
    }
}

/* Ends every flow (FLOW_END_FLUSH), least recently active first; the table
 * stays usable. */
void flow_table_flush(struct flow_table *table)
{
    assert(!table->in_callback);
    struct flow_node *node;
    while ((node = flow_table_oldest(table)) != NULL) {
        flow_table_end(table, node, FLOW_END_FLUSH);
    }
}

/* Calls `visit` on every flow in the table, class by class in activity
 * order. */
void flow_table_foreach(const struct flow_table *table, flow_visit_fn visit, void *user)
{
    for (size_t i = 0; i < FLOW_CLASS_COUNT; i++) {
        for (const struct flow_node *node = table->lru[i].head; node != NULL; node = node->lru_next)
            visit(&node->flow, user);
    }
}

/* Copies the table's counters into `stats`. */
void flow_table_get_stats(const struct flow_table *table, struct flow_table_stats *stats)
{
    *stats = table->stats;
}
