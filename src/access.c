/* access: the table of 802.11 networks and stations, its look-ups and the
 * names of securities and EAP methods.
 *
 * Networks and stations live in arrays in order of first sight (so the
 * report is stable) and are found by MAC through an open-addressing index.
 * Both arrays grow by doubling up to their cap; past the cap a new MAC is
 * counted as dropped, never stored. The parsers are in src/inspect/wifi.c,
 * eap.c and radius.c. */
#include "fluxaudit/access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspect/access_internal.h"
#include "util/ieee80211.h"

enum { INDEX_INITIAL_CAPACITY = 16, ARRAY_INITIAL_ENTRIES = 16 };

/* A MAC's hash: the six bytes and the per-table seed through the
 * splitmix64 finaliser, so crafted MACs cannot choose their slots without
 * knowing the seed. */
static uint64_t mac_hash(const struct mac_addr *mac, uint64_t seed)
{
    uint64_t x = seed;
    for (size_t i = 0; i < 6; i++)
        x = (x << 8) ^ mac->bytes[i] ^ (x >> 56);
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* The slot holding `mac`, or the empty slot where it would go. */
static struct access_mac_slot *index_slot(const struct access_mac_index *index,
                                          const struct mac_addr *mac)
{
    const size_t mask = index->capacity - 1;
    size_t at = (size_t)mac_hash(mac, index->seed) & mask;
    for (;;) {
        struct access_mac_slot *slot = &index->slots[at];
        if (slot->position_plus_one == 0 || memcmp(&slot->mac, mac, sizeof *mac) == 0)
            return slot;
        at = (at + 1) & mask;
    }
}

/* Returns the position of `mac`, or -1. */
static long index_find(const struct access_mac_index *index, const struct mac_addr *mac)
{
    if (index->capacity == 0)
        return -1;
    const struct access_mac_slot *slot = index_slot(index, mac);
    return slot->position_plus_one == 0 ? -1 : (long)slot->position_plus_one - 1;
}

/* Doubles the index (keeping it at most half full). Returns false on
 * allocation failure, leaving the index as it was. */
static bool index_grow(struct access_mac_index *index)
{
    const size_t capacity = index->capacity == 0 ? INDEX_INITIAL_CAPACITY : index->capacity * 2;
    struct access_mac_slot *slots = calloc(capacity, sizeof *slots);
    if (slots == NULL)
        return false;
    struct access_mac_index grown = {slots, capacity, 0, index->seed};
    for (size_t i = 0; i < index->capacity; i++) {
        if (index->slots[i].position_plus_one != 0) {
            *index_slot(&grown, &index->slots[i].mac) = index->slots[i];
            grown.count++;
        }
    }
    free(index->slots);
    *index = grown;
    return true;
}

/* Records `mac` at `position`. Returns false on allocation failure. */
static bool index_insert(struct access_mac_index *index, const struct mac_addr *mac,
                         size_t position)
{
    if ((index->count + 1) * 2 > index->capacity && !index_grow(index))
        return false;
    struct access_mac_slot *slot = index_slot(index, mac);
    slot->mac = *mac;
    slot->position_plus_one = (uint32_t)position + 1;
    index->count++;
    return true;
}

/* Makes room for one more entry of `size` bytes in *array (doubling up to
 * `max`). Returns false when memory runs out. */
static bool array_reserve(void **array, size_t *allocated, size_t count, size_t max, size_t size)
{
    if (count < *allocated)
        return true;
    size_t entries = *allocated == 0 ? ARRAY_INITIAL_ENTRIES : *allocated * 2;
    if (entries > max)
        entries = max;
    void *grown = realloc(*array, entries * size);
    if (grown == NULL)
        return false;
    *array = grown;
    *allocated = entries;
    return true;
}

static void touch_times(uint64_t *first, uint64_t *last, uint64_t ts_usec)
{
    if (ts_usec < *first)
        *first = ts_usec;
    if (ts_usec > *last)
        *last = ts_usec;
}

/* Creates an empty table (see the contract). */
struct access_table *access_table_create(size_t max_networks, size_t max_stations)
{
    struct access_table *table = calloc(1, sizeof *table);
    if (table == NULL)
        return NULL;
    /* UINT32_MAX positions fit the index's 32-bit slots. */
    table->max_networks = max_networks < UINT32_MAX ? max_networks : UINT32_MAX - 1;
    table->max_stations = max_stations < UINT32_MAX ? max_stations : UINT32_MAX - 1;
    /* The table's own address varies with ASLR: enough to keep slot
     * positions from being chosen by whoever crafts the MACs. */
    const uint64_t seed = (uint64_t)(uintptr_t)table * 0x9e3779b97f4a7c15ULL;
    table->network_index.seed = seed;
    table->station_index.seed = seed ^ 0x5bd1e9955bd1e995ULL;
    return table;
}

/* Frees the table and everything it holds; NULL is accepted. */
void access_table_destroy(struct access_table *table)
{
    if (table == NULL)
        return;
    free(table->networks);
    free(table->network_index.slots);
    free(table->stations);
    free(table->station_index.slots);
    free(table);
}

/* Finds or creates the network of `bssid` (see access_internal.h). */
struct wifi_network *access_network_touch(struct access_table *table, const struct mac_addr *bssid,
                                          uint64_t ts_usec)
{
    const long found = index_find(&table->network_index, bssid);
    if (found >= 0) {
        struct wifi_network *network = &table->networks[found];
        touch_times(&network->first_usec, &network->last_usec, ts_usec);
        return network;
    }
    if (table->network_count >= table->max_networks ||
        !array_reserve((void **)&table->networks, &table->network_allocated, table->network_count,
                       table->max_networks, sizeof *table->networks) ||
        !index_insert(&table->network_index, bssid, table->network_count)) {
        table->stats.networks_dropped++;
        return NULL;
    }
    struct wifi_network *network = &table->networks[table->network_count++];
    memset(network, 0, sizeof *network);
    network->bssid = *bssid;
    network->security = WIFI_SECURITY_UNKNOWN;
    network->first_usec = ts_usec;
    network->last_usec = ts_usec;
    return network;
}

/* Finds or creates the station of `mac` (see access_internal.h). */
struct access_station *access_station_touch(struct access_table *table, const struct mac_addr *mac,
                                            enum access_source source, uint64_t ts_usec)
{
    const long found = index_find(&table->station_index, mac);
    if (found >= 0) {
        struct access_station *station = &table->stations[found];
        touch_times(&station->first_usec, &station->last_usec, ts_usec);
        return station;
    }
    if (table->station_count >= table->max_stations ||
        !array_reserve((void **)&table->stations, &table->station_allocated, table->station_count,
                       table->max_stations, sizeof *table->stations) ||
        !index_insert(&table->station_index, mac, table->station_count)) {
        table->stats.stations_dropped++;
        return NULL;
    }
    struct access_station *station = &table->stations[table->station_count++];
    memset(station, 0, sizeof *station);
    station->mac = *mac;
    station->source = source;
    station->eap_result = -1;
    station->first_usec = ts_usec;
    station->last_usec = ts_usec;
    return station;
}

/* True for a unicast, non-zero MAC. */
bool access_mac_is_station(const struct mac_addr *mac)
{
    static const struct mac_addr zero = {{0}};
    return (mac->bytes[0] & 0x01) == 0 && memcmp(mac, &zero, sizeof zero) != 0;
}

/* True for the 802.11 link types. */
bool access_is_wifi_link_type(int dlt)
{
    return ieee80211_is_link_type(dlt);
}

size_t access_network_count(const struct access_table *table)
{
    return table == NULL ? 0 : table->network_count;
}

/* The network at `index` in order of first sight, or NULL past the end. */
const struct wifi_network *access_get_network(const struct access_table *table, size_t index)
{
    if (table == NULL || index >= table->network_count)
        return NULL;
    return &table->networks[index];
}

size_t access_station_count(const struct access_table *table)
{
    return table == NULL ? 0 : table->station_count;
}

/* The station at `index` in order of first sight, or NULL past the end. */
const struct access_station *access_get_station(const struct access_table *table, size_t index)
{
    if (table == NULL || index >= table->station_count)
        return NULL;
    return &table->stations[index];
}

/* The network with this BSSID, or NULL. */
const struct wifi_network *access_find_network(const struct access_table *table,
                                               const struct mac_addr *bssid)
{
    if (table == NULL || bssid == NULL)
        return NULL;
    const long found = index_find(&table->network_index, bssid);
    return found < 0 ? NULL : &table->networks[found];
}

/* Copies the counters; all zero for a NULL table. */
void access_get_stats(const struct access_table *table, struct access_stats *stats)
{
    if (table == NULL) {
        memset(stats, 0, sizeof *stats);
        return;
    }
    *stats = table->stats;
}

/* The report's name of a security. */
const char *wifi_security_name(enum wifi_security security)
{
    switch (security) {
    case WIFI_SECURITY_OPEN:
        return "open";
    case WIFI_SECURITY_OWE:
        return "OWE";
    case WIFI_SECURITY_WEP:
        return "WEP";
    case WIFI_SECURITY_WPA_TKIP:
        return "WPA-TKIP";
    case WIFI_SECURITY_WPA2_PSK:
        return "WPA2-PSK";
    case WIFI_SECURITY_WPA2_ENTERPRISE:
        return "WPA2-Enterprise";
    case WIFI_SECURITY_WPA3_SAE:
        return "WPA3-SAE";
    case WIFI_SECURITY_WPA3_ENTERPRISE:
        return "WPA3-Enterprise";
    case WIFI_SECURITY_UNKNOWN:
    default:
        return "unknown";
    }
}

struct eap_method_entry {
    uint8_t type;
    const char *name;
};

/* IANA EAP method types the report names (sorted by type). */
static const struct eap_method_entry EAP_METHOD_NAMES[] = {
    {1, "Identity"},      {2, "Notification"},
    {3, "NAK"},           {4, "EAP-MD5"},
    {5, "EAP-OTP"},       {6, "EAP-GTC"},
    {13, "EAP-TLS"},      {17, "LEAP"},
    {18, "EAP-SIM"},      {21, "EAP-TTLS"},
    {23, "EAP-AKA"},      {25, "PEAP"},
    {26, "EAP-MSCHAPv2"}, {29, "EAP-MSCHAPv2-legacy"},
    {43, "EAP-FAST"},     {47, "EAP-PSK"},
    {48, "EAP-SAKE"},     {49, "EAP-IKEv2"},
    {50, "EAP-AKA'"},     {51, "EAP-GPSK"},
    {52, "EAP-pwd"},      {53, "EAP-EKE"},
    {55, "TEAP"},         {254, "EAP-Expanded"},
};

/* The name of EAP method `type`; an unnamed one is written as "EAP-<n>"
 * into `buf` (which is returned), or "EAP-unknown" without a buffer. */
const char *eap_method_name(uint8_t type, char *buf, size_t len)
{
    for (size_t i = 0; i < sizeof EAP_METHOD_NAMES / sizeof EAP_METHOD_NAMES[0]; i++) {
        if (EAP_METHOD_NAMES[i].type == type)
            return EAP_METHOD_NAMES[i].name;
    }
    if (buf == NULL || len == 0)
        return "EAP-unknown";
    snprintf(buf, len, "EAP-%u", (unsigned)type);
    return buf;
}
