/* libFuzzer target for the access inspector. The input is a sequence of
 * records [mode][length: 2 bytes BE][bytes], so one run can build state
 * (a pending RADIUS request, then its answer; a station, then its EAP).
 * The low 3 bits of mode pick an 802.11 link type (0-4) or RADIUS (5-7);
 * bit 3 swaps the RADIUS direction (client -> server or back). Each record
 * is copied to a heap buffer of exactly its size, so AddressSanitizer sees
 * any read past its end; 802.11 records also go through decode_packet.
 * The table is small, so the caps are exercised too. */
#include <pcap/dlt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fluxaudit/access.h"
#include "fluxaudit/decode.h"

enum { FUZZ_MAX_NETWORKS = 8, FUZZ_MAX_STATIONS = 8 };

static const int fuzz_wifi_link_types[] = {DLT_IEEE802_11, DLT_IEEE802_11_RADIO, DLT_PPI,
                                           DLT_PRISM_HEADER, DLT_IEEE802_11_RADIO_AVS};

/* Aborts (a fuzzer finding) if a table invariant does not hold. */
static void fuzz_check_table(const struct access_table *table)
{
    if (access_network_count(table) > FUZZ_MAX_NETWORKS ||
        access_station_count(table) > FUZZ_MAX_STATIONS)
        abort();
    for (size_t i = 0; i < access_network_count(table); i++) {
        const struct wifi_network *network = access_get_network(table, i);
        if (memchr(network->ssid, '\0', sizeof network->ssid) == NULL)
            abort();
        if (access_find_network(table, &network->bssid) != network)
            abort();
        (void)wifi_security_name(network->security);
    }
    for (size_t i = 0; i < access_station_count(table); i++) {
        const struct access_station *station = access_get_station(table, i);
        if (station->eap_methods_offered_count > sizeof station->eap_methods_offered)
            abort();
        if (station->eap_result < -1 || station->eap_result > 1)
            abort();
        char buf[16];
        (void)eap_method_name(station->eap_method, buf, sizeof buf);
    }
}

/* Feeds one record. */
static void fuzz_record(struct access_table *table, uint8_t mode, const uint8_t *bytes, size_t len)
{
    static const struct net_addr client = {4, {192, 0, 2, 2}};
    static const struct net_addr server = {4, {192, 0, 2, 10}};
    uint8_t *copy = malloc(len ? len : 1);
    if (copy == NULL)
        return;
    if (len > 0)
        memcpy(copy, bytes, len);
    const unsigned kind = mode & 0x07;
    if (kind < 5) {
        const int dlt = fuzz_wifi_link_types[kind];
        access_inspect_wifi_frame(table, dlt, copy, (uint32_t)len, 1000 + mode);
        struct decoded_packet packet;
        (void)decode_packet(dlt, copy, (uint32_t)len, (uint32_t)len, 0, &packet);
    } else {
        const bool answer = (mode & 0x08) != 0;
        access_inspect_radius(table, answer ? &server : &client, answer ? &client : &server, copy,
                              (uint32_t)len, 1000 + mode);
    }
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Runs one input through a fresh table; never fails. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct access_table *table = access_table_create(FUZZ_MAX_NETWORKS, FUZZ_MAX_STATIONS);
    if (table == NULL)
        return 0;
    size_t at = 0;
    while (size - at >= 3) {
        const uint8_t mode = data[at];
        size_t len = (size_t)data[at + 1] << 8 | data[at + 2];
        at += 3;
        if (len > size - at)
            len = size - at;
        fuzz_record(table, mode, data + at, len);
        at += len;
    }
    fuzz_check_table(table);
    struct access_stats stats;
    access_get_stats(table, &stats);
    access_table_destroy(table);
    return 0;
}
