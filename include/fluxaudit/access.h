/* access: how devices join the network — 802.11 networks and stations seen
 * in monitor-mode captures (beacons, probe responses, associations, EAPOL
 * and EAP), and 802.1X authentications seen on the wired side in RADIUS.
 *
 * Facts, not verdicts: the audit decides what is weak. The table is bounded
 * (networks and stations beyond the caps are counted, not stored) and holds
 * no secret: no EAP identity, no password, no key material — only MAC
 * addresses, SSIDs, security suites and EAP method numbers. */
#ifndef FLUXAUDIT_ACCESS_H
#define FLUXAUDIT_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fluxaudit/decode.h"
#include "fluxaudit/netaddr.h"

/* The security a network advertises (RSN/WPA information elements and the
 * capability Privacy bit), strongest AKM first when several are offered. */
enum wifi_security {
    WIFI_SECURITY_UNKNOWN,
    WIFI_SECURITY_OPEN,             /* no Privacy bit, no RSN/WPA IE */
    WIFI_SECURITY_OWE,              /* opportunistic wireless encryption (AKM 18) */
    WIFI_SECURITY_WEP,              /* Privacy bit without RSN/WPA IE */
    WIFI_SECURITY_WPA_TKIP,         /* WPA (v1) IE, or RSN whose pairwise ciphers are TKIP only */
    WIFI_SECURITY_WPA2_PSK,         /* RSN AKM 2 or 6 */
    WIFI_SECURITY_WPA2_ENTERPRISE,  /* RSN AKM 1, 3 or 5 (802.1X) */
    WIFI_SECURITY_WPA3_SAE,         /* RSN AKM 8 or 9 */
    WIFI_SECURITY_WPA3_ENTERPRISE,  /* RSN AKM 12 or 13 (Suite B), or AKM 5 with PMF required */
};

/* EAP method numbers (IANA "Method Types"). */
enum {
    EAP_TYPE_IDENTITY = 1,
    EAP_TYPE_MD5 = 4,
    EAP_TYPE_GTC = 6,
    EAP_TYPE_TLS = 13,
    EAP_TYPE_LEAP = 17,
    EAP_TYPE_SIM = 18,
    EAP_TYPE_TTLS = 21,
    EAP_TYPE_AKA = 23,
    EAP_TYPE_PEAP = 25,
    EAP_TYPE_MSCHAPV2 = 26,
    EAP_TYPE_FAST = 43,
    EAP_TYPE_PWD = 52,
};

#define ACCESS_SSID_MAX 130 /* 32 bytes, non-printable ones escaped as \xNN, plus NUL */

struct wifi_network {
    struct mac_addr bssid;
    char ssid[ACCESS_SSID_MAX];     /* "" for a hidden network */
    uint8_t channel;                /* from the DS Parameter Set IE, 0 if absent */
    enum wifi_security security;
    uint32_t akm_suites;            /* bit n set: RSN AKM suite 00-0F-AC:n offered (n < 32) */
    bool tkip;                      /* TKIP offered as pairwise or group cipher */
    bool pmf_capable;               /* RSN capabilities MFPC */
    bool pmf_required;              /* RSN capabilities MFPR */
    uint64_t first_usec;
    uint64_t last_usec;
    uint32_t beacons;
    uint32_t probe_responses;
};

enum access_source {
    ACCESS_SOURCE_WIFI,             /* seen over the air (association, EAPOL) */
    ACCESS_SOURCE_RADIUS,           /* seen in RADIUS (Calling-Station-Id) */
};

/* One client MAC and how it joined. */
struct access_station {
    struct mac_addr mac;
    enum access_source source;
    bool associated;                /* an (re)association response with status 0 was seen */
    struct mac_addr bssid;          /* the network it associated to (WIFI) */
    bool eapol_key_seen;            /* EAPOL-Key frames (a 4-way handshake) */
    uint8_t eap_method;             /* the EAP method that was used (the last non-identity,
                                     * non-NAK type in the conversation), 0 if none */
    uint8_t eap_methods_offered[4]; /* methods the authenticator proposed, in order */
    uint8_t eap_methods_offered_count;
    uint8_t eap_methods_used[4];    /* every method the peer answered with, in order: a
                                     * device that once used EAP-MD5 stays seen doing it */
    uint8_t eap_methods_used_count;
    int8_t eap_result;              /* 1 EAP-Success / Access-Accept, 0 Failure / Reject, -1 unknown */
    struct net_addr nas;            /* RADIUS client (switch/AP) address (RADIUS) */
    uint64_t first_usec;
    uint64_t last_usec;
};

struct access_stats {
    uint64_t management_frames;
    uint64_t eapol_frames;
    uint64_t radius_messages;
    uint64_t malformed;             /* truncated or inconsistent 802.11/EAPOL/RADIUS */
    uint64_t networks_dropped;      /* past the cap */
    uint64_t stations_dropped;
};

struct access_table;

/* Creates an empty table holding at most `max_networks` and
 * `max_stations`. Returns NULL on allocation failure. */
struct access_table *access_table_create(size_t max_networks, size_t max_stations);
void access_table_destroy(struct access_table *table);

/* True for the 802.11 link types (plain, radiotap, PPI, Prism, AVS). */
bool access_is_wifi_link_type(int dlt);

/* Feeds one frame of an 802.11 link type: management frames and EAPOL
 * (in data frames) update the table. Does not decode IP. */
void access_inspect_wifi_frame(struct access_table *table, int dlt, const uint8_t *data,
                               uint32_t caplen, uint64_t ts_usec);

/* Feeds the payload of one RADIUS datagram (UDP 1812/1813/1645/1646 or
 * recognised by structure) sent from `src` to `dst`. Access-Request with
 * Calling-Station-Id and EAP-Message, Access-Challenge with EAP-Message,
 * Access-Accept/Reject update the station of that MAC. */
void access_inspect_radius(struct access_table *table, const struct net_addr *src,
                           const struct net_addr *dst, const uint8_t *payload, uint32_t len,
                           uint64_t ts_usec);

size_t access_network_count(const struct access_table *table);
const struct wifi_network *access_get_network(const struct access_table *table, size_t index);
size_t access_station_count(const struct access_table *table);
const struct access_station *access_get_station(const struct access_table *table, size_t index);

/* The network with this BSSID, or NULL. */
const struct wifi_network *access_find_network(const struct access_table *table,
                                               const struct mac_addr *bssid);

void access_get_stats(const struct access_table *table, struct access_stats *stats);

/* "open", "WEP", "WPA-TKIP", "WPA2-PSK", "WPA2-Enterprise", "WPA3-SAE",
 * "WPA3-Enterprise", "OWE", "unknown". */
const char *wifi_security_name(enum wifi_security security);

/* "EAP-MD5", "EAP-TLS", "PEAP", "LEAP"... or "EAP-<n>". */
const char *eap_method_name(uint8_t type, char *buf, size_t len);

#endif
