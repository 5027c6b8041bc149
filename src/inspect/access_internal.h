/* access_internal: the access table shared by its parts — src/access.c
 * (table, look-ups, names), src/inspect/wifi.c (802.11 management frames
 * and EAPOL), src/inspect/eap.c (the EAP state of a station) and
 * src/inspect/radius.c (RADIUS). Not a public contract. */
#ifndef FLUXAUDIT_INSPECT_ACCESS_INTERNAL_H
#define FLUXAUDIT_INSPECT_ACCESS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fluxaudit/access.h"
#include "fluxaudit/netaddr.h"

/* RADIUS requests waiting for their answer, keyed by (NAS, identifier):
 * the identifier is one byte per client, so a small ring is enough and an
 * attacker flooding requests only overwrites the oldest. */
#define ACCESS_RADIUS_PENDING 256

/* Open-addressing index MAC -> position in an entry array. */
struct access_mac_slot {
    struct mac_addr mac;
    uint32_t position_plus_one; /* 0: empty slot */
};

struct access_mac_index {
    struct access_mac_slot *slots;
    size_t capacity; /* a power of two, or 0 before the first insert */
    size_t count;
    uint64_t seed;
};

struct access_radius_pending {
    bool used;
    uint8_t identifier;
    struct net_addr nas;
    struct mac_addr mac;
};

struct access_table {
    struct wifi_network *networks; /* in order of first sight */
    size_t network_count;
    size_t network_allocated;
    size_t max_networks;
    struct access_mac_index network_index;

    struct access_station *stations; /* in order of first sight */
    size_t station_count;
    size_t station_allocated;
    size_t max_stations;
    struct access_mac_index station_index;

    struct access_radius_pending pending[ACCESS_RADIUS_PENDING];
    size_t pending_next;

    struct access_stats stats;
};

/* The network of `bssid`, created on first sight and its last_usec moved
 * to `ts_usec`; NULL when the table is full (counted in networks_dropped)
 * or memory runs out. */
struct wifi_network *access_network_touch(struct access_table *table, const struct mac_addr *bssid,
                                          uint64_t ts_usec);

/* The station of `mac`, created on first sight with `source`; NULL when
 * the table is full (counted in stations_dropped) or memory runs out. */
struct access_station *access_station_touch(struct access_table *table, const struct mac_addr *mac,
                                            enum access_source source, uint64_t ts_usec);

/* True for a unicast MAC that can name a station (not group, not zero). */
bool access_mac_is_station(const struct mac_addr *mac);

/* The first bytes of one EAP packet and the length its carrier gave it. */
struct eap_header {
    uint8_t code; /* 1 Request, 2 Response, 3 Success, 4 Failure */
    uint8_t identifier;
    uint16_t length;
    uint8_t type; /* Request/Response only */
};

enum { EAP_CODE_REQUEST = 1, EAP_CODE_RESPONSE = 2, EAP_CODE_SUCCESS = 3, EAP_CODE_FAILURE = 4 };

/* Bytes of an EAP packet eap_read_header needs: code, identifier,
 * length, type. */
#define EAP_HEADER_BYTES 5

/* Reads the EAP header from `head` (the first `head_len` bytes of a
 * packet whose carrier holds `carried` bytes: the EAPOL body, or all
 * EAP-Message attributes). Returns false when the EAP length is below 4,
 * exceeds what was carried, a Request/Response has no type, or the code
 * is unknown. */
bool eap_read_header(const uint8_t *head, size_t head_len, size_t carried, struct eap_header *out);

/* Applies one EAP packet to the station: offered methods from Requests,
 * the method used from Responses, the result from Success/Failure.
 * Nothing of the packet's data (identity, challenge) is kept. */
void eap_apply(struct access_station *station, const struct eap_header *eap);

#endif
