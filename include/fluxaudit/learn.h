/* learn: a draft flow matrix from what one device was seen doing.
 *
 * `fluxaudit learn FILE... --device ADDR -o draft.json` replays captures
 * through the normal pipeline and hands every ended flow touching the device
 * to learner_add as one observation. The learner keeps its own small
 * aggregate per (direction, protocol, server port, peer, application): it
 * does NOT depend on the audit's aggregation or its observed flows, so the
 * audit's tables and caps never change what is learned.
 *
 * learner_write_json writes a `fluxaudit-matrix/1` document marked as a
 * draft (site name and every description), which is validated with the
 * project's own matrix loader before a byte is written. Replaying the same
 * captures against it raises no FLOW_UNDECLARED, FLOW_INTERNET_UNDECLARED or
 * SERVICE_UNDECLARED. The rules (grouping, dynamic ports, protection) are
 * in docs/learn.md. */
#ifndef FLUXAUDIT_LEARN_H
#define FLUXAUDIT_LEARN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fluxaudit/audit.h"
#include "fluxaudit/facts.h"
#include "fluxaudit/netaddr.h"

#define LEARN_DEFAULT_DEVICE_NAME "learned-device"
#define LEARN_DEFAULT_SUBNET_GROUP_MIN 3
#define LEARN_MAX_ENTRIES 100000 /* distinct (direction, proto, port, peer, app) kept */

struct learn_options {
    const char *device_name;            /* NULL: LEARN_DEFAULT_DEVICE_NAME ("device" is a reserved
                                         * word of the matrix format and would not load) */
    const char *site;                   /* NULL: none; written as "DRAFT ...: <site>" */
    const char *timezone;               /* NULL: omitted; an IANA name checked by the loader */
    unsigned subnet_group_min;          /* distinct hosts of one service in one /24 (IPv4) or /64
                                         * (IPv6) before they become one flow to that network;
                                         * 0: LEARN_DEFAULT_SUBNET_GROUP_MIN, 1 is taken as 2 */
    bool group_internet;                /* also group public peers (never wider than /24 or /64);
                                         * false: every public peer is declared on its own */
    const struct mac_addr *device_macs; /* optional MAC addresses of the device, listed in
                                         * its "addresses" (borrowed, copied) */
    size_t device_mac_count;
};

/* One ended flow touching the device, as the pipeline saw it. */
struct learn_observation {
    struct audit_flow_ref flow;       /* client, server, ip_proto, server port, app */
    bool device_is_client;            /* the device initiated the connection */
    enum transport_security security; /* the flow's protection (flow_facts.security) */
    uint16_t tls_version;             /* negotiated TLS/DTLS version, 0 when unknown
                                       * (no ServerHello) */
    uint64_t connections;             /* flows folded in this observation (usually 1;
                                       * 0 counts as 1) */
    uint64_t packets;
    uint64_t bytes;
    uint64_t first_usec; /* first and last packet, UTC microseconds */
    uint64_t last_usec;
};

struct learn_stats {
    uint64_t observations; /* learner_add calls counted */
    uint64_t ignored;      /* observations without a peer address */
    uint64_t dropped;      /* observations past LEARN_MAX_ENTRIES */
    size_t entries;        /* distinct aggregates held */
};

/* Creates a learner for the device owning `device_prefixes` (its addresses
 * or subnets; copied). Returns NULL when there are no prefixes and no MAC,
 * more than 256 addresses in all, or on allocation failure. */
struct learner *learner_create(const struct learn_options *options,
                               const struct net_prefix *device_prefixes, size_t count);

/* Folds one observation into the learner. Observations with no peer
 * address are ignored and past LEARN_MAX_ENTRIES new aggregates are dropped
 * (both counted; a learner that dropped anything refuses to write). */
void learner_add(struct learner *learner, const struct learn_observation *observation);

/* Writes the draft matrix to `out`. Returns true on success. Returns false
 * with the reason in `err`, having written nothing, when the draft would be
 * incomplete (an observation was dropped) or would not load (more than 1024
 * flows, a reserved or clashing device name, an unknown time zone...); and
 * when writing to `out` fails (then part of it may have been written). */
bool learner_write_json(const struct learner *learner, FILE *out, char *err, size_t err_len);

void learner_get_stats(const struct learner *learner, struct learn_stats *stats);

void learner_destroy(struct learner *learner);

#endif
