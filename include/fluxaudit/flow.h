/* flow: the bounded table of bidirectional flows.
 *
 * A flow is keyed by (VLAN, protocol, the two address/port pairs) whatever
 * the direction of a packet. The client is the side that sent the first SYN,
 * or, for UDP and for TCP flows caught mid-stream, the sender of the first
 * packet unless only the receiver uses a well-known port (< 1024).
 *
 * The table never holds more than `max_flows` flows: creating one more ends
 * the least recently active flow first. Every flow ends exactly once,
 * through the `on_end` callback (idle timeout, eviction or flush), which is
 * where later stages finish their work on it; the flow is freed right after
 * the callback returns. */
#ifndef FLUXAUDIT_FLOW_H
#define FLUXAUDIT_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fluxaudit/decode.h"
#include "fluxaudit/facts.h"
#include "fluxaudit/netaddr.h"

enum flow_direction {
    FLOW_TO_SERVER = 0, /* client -> server */
    FLOW_TO_CLIENT = 1, /* server -> client */
};

enum flow_end_reason {
    FLOW_END_IDLE,    /* idle timeout for its protocol and state */
    FLOW_END_EVICTED, /* the table was full */
    FLOW_END_FLUSH,   /* end of capture */
};

/* Byte-sized fields first, then the 8-byte ones: one flow per connection
 * on a busy network, so the layout keeps padding to 3 bytes. */
struct flow {
    struct net_addr client;     /* connection initiator */
    struct net_addr server;
    uint16_t client_port;       /* ICMP: 0 */
    uint16_t server_port;       /* ICMP: 0 */
    uint16_t vlan;              /* 0 when untagged */
    uint8_t ip_proto;           /* IP_PROTO_* */
    bool has_mac;               /* client_mac/server_mac were seen */
    struct mac_addr client_mac;
    struct mac_addr server_mac;
    bool oriented_by_syn;       /* orientation comes from a SYN, not a guess */
    bool closed;                /* FIN seen both ways or RST */
    uint8_t tcp_flags[2];       /* union of TCP flags seen per direction */
    bool tls_finished;          /* the TLS inspector has learned all it could */
    bool credentials_finished;  /* the credential inspector has learned all it could */
    bool health_finished;       /* the health inspector has learned all it could */
    uint64_t first_usec;        /* first and last packet timestamps */
    uint64_t last_usec;
    uint64_t packets[2];        /* indexed by enum flow_direction */
    uint64_t bytes[2];          /* wire bytes */
    uint64_t payload_bytes[2];  /* L4 payload bytes */
    struct flow_facts facts;    /* filled by dpi and inspectors */
    void *dpi_state;            /* owned by the dpi module, released in on_end */
    void *tls_state;            /* owned by the TLS inspector, released in on_end */
    void *credential_state;     /* owned by the credential inspector, released in on_end */
    void *health_state;         /* owned by the health inspector, released in on_end */
};

struct flow_table_config {
    size_t max_flows;           /* hard cap, >= 1 */
    uint32_t tcp_idle_sec;      /* open TCP connection */
    uint32_t tcp_closed_sec;    /* after FIN both ways or RST */
    uint32_t udp_idle_sec;
    uint32_t other_idle_sec;    /* ICMP and other IP protocols */
    uint32_t hash_seed;         /* random in production, fixed in tests */
};

#define FLOW_TABLE_DEFAULT_MAX_FLOWS 131072 /* about 300 MB of flows at worst (2.2 KB each) */

struct flow_table_stats {
    size_t active;              /* flows in the table now */
    size_t peak;                /* most flows held at once */
    uint64_t created;
    uint64_t ended_idle;
    uint64_t ended_evicted;
    uint64_t ended_flush;
};

typedef void (*flow_end_fn)(struct flow *flow, enum flow_end_reason reason, void *user);

/* Fills `config` with the defaults (timeouts in seconds, max_flows). */
void flow_table_default_config(struct flow_table_config *config);

/* Creates an empty table. Returns NULL on allocation failure. */
struct flow_table *flow_table_create(const struct flow_table_config *config, flow_end_fn on_end,
                                     void *user);

/* Ends every remaining flow (FLOW_END_FLUSH) and frees the table. */
void flow_table_destroy(struct flow_table *table);

/* Finds or creates the flow of `packet` (which must be DECODE_OK), updates
 * its counters, flags and activity, and sets `*direction`. Returns NULL only
 * on allocation failure. `*created` tells whether the flow is new. */
struct flow *flow_table_track(struct flow_table *table, const struct decoded_packet *packet,
                              enum flow_direction *direction, bool *created);

/* Ends every flow idle for longer than its timeout at time `now_usec`. */
void flow_table_expire(struct flow_table *table, uint64_t now_usec);

/* Ends every flow (FLOW_END_FLUSH); the table stays usable. */
void flow_table_flush(struct flow_table *table);

void flow_table_get_stats(const struct flow_table *table, struct flow_table_stats *stats);

typedef void (*flow_visit_fn)(const struct flow *flow, void *user);

/* Calls `visit` on every flow still in the table (for snapshots of a live
 * capture); `visit` must not change the table. */
void flow_table_foreach(const struct flow_table *table, flow_visit_fn visit, void *user);

#endif
