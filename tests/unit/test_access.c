/* Unit tests for access: 802.11 management frames, EAPOL/EAP and RADIUS
 * built byte by byte (so every expected value is known), every truncation
 * point and inconsistent length, the caps, then the crafted captures of
 * tests/data/access and named files of the public corpus, whose expected
 * values were read with tshark, e.g.
 *   tshark -r F -Y 'wlan.fc.type_subtype==8' -T fields -e wlan.bssid
 *          -e wlan.ssid -e wlan.ds.current_channel -e wlan.rsn.akms.type
 *          -e wlan.rsn.capabilities.mfpr -e wlan.wfa.ie.wpa.version
 *   tshark -r RADIUS.pcap -T fields -e radius.code -e radius.id
 *          -e radius.Calling_Station_Id -e eap.code -e eap.type */
#include <check.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fluxaudit/access.h"
#include "fluxaudit/decode.h"
#include "fluxaudit/netaddr.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/data"
#endif

#define CORPUS_DIR "/work/shared/corpus"
#define TS 1700000000000000ULL

/* ---------------------------------------------------------------- builder */

struct frame {
    uint8_t bytes[2048];
    size_t len;
};

static const uint8_t AP[6] = {0x02, 0x00, 0x00, 0x00, 0x0a, 0x01};
static const uint8_t STA[6] = {0x02, 0x00, 0x00, 0x00, 0x5a, 0x01};
static const uint8_t BROADCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static void put_u8(struct frame *f, uint8_t v)
{
    ck_assert_uint_lt(f->len, sizeof f->bytes);
    f->bytes[f->len++] = v;
}

static void put_le16(struct frame *f, uint16_t v)
{
    put_u8(f, (uint8_t)v);
    put_u8(f, (uint8_t)(v >> 8));
}

static void put_be16(struct frame *f, uint16_t v)
{
    put_u8(f, (uint8_t)(v >> 8));
    put_u8(f, (uint8_t)v);
}

static void put_bytes(struct frame *f, const void *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put_u8(f, ((const uint8_t *)bytes)[i]);
}

static void put_zeros(struct frame *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put_u8(f, 0);
}

/* A management header of `subtype` from `sender` to `receiver`, BSSID
 * `bssid`. */
static void put_mgmt(struct frame *f, uint8_t subtype, const uint8_t *receiver,
                     const uint8_t *sender, const uint8_t *bssid)
{
    put_u8(f, (uint8_t)(subtype << 4));
    put_u8(f, 0);
    put_le16(f, 0);
    put_bytes(f, receiver, 6);
    put_bytes(f, sender, 6);
    put_bytes(f, bssid, 6);
    put_le16(f, 0x0010);
}

/* Beacon (or probe response) fixed fields with the Privacy bit as asked. */
static void put_beacon_start(struct frame *f, uint8_t subtype, const uint8_t *bssid, bool privacy)
{
    put_mgmt(f, subtype, BROADCAST, bssid, bssid);
    put_zeros(f, 8);  /* timestamp */
    put_le16(f, 100); /* interval */
    put_le16(f, privacy ? 0x0411 : 0x0401);
}

static void put_element(struct frame *f, uint8_t id, const void *body, size_t len)
{
    put_u8(f, id);
    put_u8(f, (uint8_t)len);
    put_bytes(f, body, len);
}

static void put_ssid(struct frame *f, const char *ssid)
{
    put_element(f, 0, ssid, strlen(ssid));
}

static void put_channel(struct frame *f, uint8_t channel)
{
    put_element(f, 3, &channel, 1);
}

/* An RSN element: group cipher, pairwise list, AKM list (00-0F-AC) and
 * capabilities. */
static void put_rsn(struct frame *f, uint8_t group, const uint8_t *pairwise, size_t pairwise_n,
                    const uint8_t *akms, size_t akm_n, uint16_t capabilities)
{
    struct frame body = {0};
    put_le16(&body, 1);
    put_bytes(&body, (const uint8_t[]){0x00, 0x0f, 0xac, group}, 4);
    put_le16(&body, (uint16_t)pairwise_n);
    for (size_t i = 0; i < pairwise_n; i++)
        put_bytes(&body, (const uint8_t[]){0x00, 0x0f, 0xac, pairwise[i]}, 4);
    put_le16(&body, (uint16_t)akm_n);
    for (size_t i = 0; i < akm_n; i++)
        put_bytes(&body, (const uint8_t[]){0x00, 0x0f, 0xac, akms[i]}, 4);
    put_le16(&body, capabilities);
    put_element(f, 48, body.bytes, body.len);
}

/* The WPA (v1) vendor element: TKIP, PSK. */
static void put_wpa1(struct frame *f)
{
    static const uint8_t wpa[] = {0x00, 0x50, 0xf2, 0x01, 0x01, 0x00, 0x00, 0x50, 0xf2, 0x02, 0x01,
                                  0x00, 0x00, 0x50, 0xf2, 0x02, 0x01, 0x00, 0x00, 0x50, 0xf2, 0x02};
    put_element(f, 221, wpa, sizeof wpa);
}

static struct access_table *new_table(void)
{
    struct access_table *table = access_table_create(64, 64);
    ck_assert_ptr_nonnull(table);
    return table;
}

static void feed(struct access_table *table, const struct frame *f)
{
    access_inspect_wifi_frame(table, DLT_IEEE802_11, f->bytes, (uint32_t)f->len, TS);
}

static struct access_stats stats_of(const struct access_table *table)
{
    struct access_stats stats;
    access_get_stats(table, &stats);
    return stats;
}

static void assert_mac(const struct mac_addr *mac, const char *text)
{
    char buf[MAC_TEXT_MAX];
    mac_addr_format(mac, buf, sizeof buf);
    ck_assert_str_eq(buf, text);
}

static const struct access_station *station_by_mac(const struct access_table *table,
                                                   const char *text)
{
    struct mac_addr mac;
    ck_assert(mac_addr_parse(text, &mac));
    for (size_t i = 0; i < access_station_count(table); i++) {
        const struct access_station *station = access_get_station(table, i);
        if (memcmp(&station->mac, &mac, sizeof mac) == 0)
            return station;
    }
    ck_abort_msg("no station %s", text);
    return NULL;
}

static const struct wifi_network *network_by_bssid(const struct access_table *table,
                                                   const char *text)
{
    struct mac_addr mac;
    ck_assert(mac_addr_parse(text, &mac));
    const struct wifi_network *network = access_find_network(table, &mac);
    ck_assert_msg(network != NULL, "no network %s", text);
    return network;
}

/* ---------------------------------------------------------------- beacons */

struct security_case {
    const char *name;
    bool privacy;
    bool wpa1;
    bool rsn;
    uint8_t group;
    uint8_t pairwise[2];
    size_t pairwise_n;
    uint8_t akms[3];
    size_t akm_n;
    uint16_t capabilities;
    enum wifi_security expected;
    uint32_t akm_bits;
    bool tkip;
};

static const struct security_case SECURITY_CASES[] = {
    {"open", false, false, false, 0, {0}, 0, {0}, 0, 0, WIFI_SECURITY_OPEN, 0, false},
    {"wep", true, false, false, 0, {0}, 0, {0}, 0, 0, WIFI_SECURITY_WEP, 0, false},
    {"wpa1", true, true, false, 0, {0}, 0, {0}, 0, 0, WIFI_SECURITY_WPA_TKIP, 0, true},
    {"rsn tkip only",
     true,
     false,
     true,
     2,
     {2},
     1,
     {2},
     1,
     0,
     WIFI_SECURITY_WPA_TKIP,
     1u << 2,
     true},
    {"wpa2 psk", true, false, true, 4, {4}, 1, {2}, 1, 0, WIFI_SECURITY_WPA2_PSK, 1u << 2, false},
    {"wpa2 psk sha256",
     true,
     false,
     true,
     4,
     {4},
     1,
     {6},
     1,
     0x0080,
     WIFI_SECURITY_WPA2_PSK,
     1u << 6,
     false},
    {"tkip group, ccmp pairwise",
     true,
     false,
     true,
     2,
     {4, 2},
     2,
     {2},
     1,
     0,
     WIFI_SECURITY_WPA2_PSK,
     1u << 2,
     true},
    {"wpa2 enterprise",
     true,
     false,
     true,
     4,
     {4},
     1,
     {1},
     1,
     0,
     WIFI_SECURITY_WPA2_ENTERPRISE,
     1u << 1,
     false},
    {"akm 5 pmf capable",
     true,
     false,
     true,
     4,
     {4},
     1,
     {5},
     1,
     0x0080,
     WIFI_SECURITY_WPA2_ENTERPRISE,
     1u << 5,
     false},
    {"akm 5 pmf required",
     true,
     false,
     true,
     4,
     {4},
     1,
     {5},
     1,
     0x00c0,
     WIFI_SECURITY_WPA3_ENTERPRISE,
     1u << 5,
     false},
    {"suite b 192",
     true,
     false,
     true,
     9,
     {9},
     1,
     {12},
     1,
     0x00c0,
     WIFI_SECURITY_WPA3_ENTERPRISE,
     1u << 12,
     false},
    {"ft suite b",
     true,
     false,
     true,
     9,
     {9},
     1,
     {13},
     1,
     0x00c0,
     WIFI_SECURITY_WPA3_ENTERPRISE,
     1u << 13,
     false},
    {"sae", true, false, true, 4, {4}, 1, {8}, 1, 0x00c0, WIFI_SECURITY_WPA3_SAE, 1u << 8, false},
    {"owe", true, false, true, 4, {4}, 1, {18}, 1, 0x00c0, WIFI_SECURITY_OWE, 1u << 18, false},
    {"transition psk+sae: the weakest",
     true,
     false,
     true,
     4,
     {4},
     1,
     {2, 8},
     2,
     0x0080,
     WIFI_SECURITY_WPA2_PSK,
     1u << 2 | 1u << 8,
     false},
    {"psk and 802.1x: the weakest",
     true,
     false,
     true,
     4,
     {4},
     1,
     {1, 2},
     2,
     0,
     WIFI_SECURITY_WPA2_PSK,
     1u << 1 | 1u << 2,
     false},
    {"sae and enterprise: sae",
     true,
     false,
     true,
     4,
     {4},
     1,
     {5, 8},
     2,
     0x00c0,
     WIFI_SECURITY_WPA3_SAE,
     1u << 5 | 1u << 8,
     false},
    {"wpa1+wpa2 mixed",
     true,
     true,
     true,
     2,
     {4, 2},
     2,
     {2},
     1,
     0,
     WIFI_SECURITY_WPA_TKIP,
     1u << 2,
     true},
    {"only tdls akm",
     true,
     false,
     true,
     4,
     {4},
     1,
     {7},
     1,
     0,
     WIFI_SECURITY_UNKNOWN,
     1u << 7,
     false},
};

START_TEST(test_beacon_security_classification)
{
    const struct security_case *c = &SECURITY_CASES[_i];
    struct access_table *table = new_table();
    struct frame f = {0};
    put_beacon_start(&f, 8, AP, c->privacy);
    put_ssid(&f, "Ward-3");
    put_channel(&f, 6);
    if (c->rsn)
        put_rsn(&f, c->group, c->pairwise, c->pairwise_n, c->akms, c->akm_n, c->capabilities);
    if (c->wpa1)
        put_wpa1(&f);
    feed(table, &f);
    ck_assert_uint_eq(access_network_count(table), 1);
    const struct wifi_network *n = access_get_network(table, 0);
    ck_assert_msg(n->security == c->expected, "%s: %s", c->name, wifi_security_name(n->security));
    ck_assert_uint_eq(n->akm_suites, c->akm_bits);
    ck_assert_int_eq(n->tkip, c->tkip);
    ck_assert_int_eq(n->pmf_capable, (c->capabilities & 0x80) != 0);
    ck_assert_int_eq(n->pmf_required, (c->capabilities & 0x40) != 0);
    ck_assert_str_eq(n->ssid, "Ward-3");
    ck_assert_uint_eq(n->channel, 6);
    ck_assert_uint_eq(n->beacons, 1);
    ck_assert_uint_eq(n->probe_responses, 0);
    ck_assert_uint_eq(n->first_usec, TS);
    assert_mac(&n->bssid, "02:00:00:00:0a:01");
    ck_assert_uint_eq(stats_of(table).management_frames, 1);
    ck_assert_uint_eq(stats_of(table).malformed, 0);
    access_table_destroy(table);
}
END_TEST

/* RSN elements may stop after any field; absent ones are CCMP/802.1X. */
START_TEST(test_rsn_short_forms_take_defaults)
{
    static const uint8_t version_only[] = {0x01, 0x00};
    static const uint8_t with_group[] = {0x01, 0x00, 0x00, 0x0f, 0xac, 0x02};
    static const uint8_t with_pairwise[] = {0x01, 0x00, 0x00, 0x0f, 0xac, 0x04,
                                            0x01, 0x00, 0x00, 0x0f, 0xac, 0x02};
    static const uint8_t no_caps[] = {0x01, 0x00, 0x00, 0x0f, 0xac, 0x04, 0x01, 0x00, 0x00,
                                      0x0f, 0xac, 0x04, 0x01, 0x00, 0x00, 0x0f, 0xac, 0x02};
    static const struct {
        const uint8_t *body;
        size_t len;
        enum wifi_security expected;
        bool tkip;
    } cases[] = {
        {version_only, sizeof version_only, WIFI_SECURITY_WPA2_ENTERPRISE, false},
        {with_group, sizeof with_group, WIFI_SECURITY_WPA2_ENTERPRISE, true},
        {with_pairwise, sizeof with_pairwise, WIFI_SECURITY_WPA_TKIP, true},
        {no_caps, sizeof no_caps, WIFI_SECURITY_WPA2_PSK, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct access_table *table = new_table();
        struct frame f = {0};
        put_beacon_start(&f, 8, AP, true);
        put_ssid(&f, "x");
        put_element(&f, 48, cases[i].body, cases[i].len);
        feed(table, &f);
        ck_assert_uint_eq(access_network_count(table), 1);
        const struct wifi_network *n = access_get_network(table, 0);
        ck_assert_int_eq(n->security, cases[i].expected);
        ck_assert_int_eq(n->tkip, cases[i].tkip);
        ck_assert(!n->pmf_capable);
        access_table_destroy(table);
    }
}
END_TEST

START_TEST(test_ssid_hidden_escaped_and_revealed)
{
    struct access_table *table = new_table();
    /* A hidden beacon (zero bytes), then a probe response with the name,
     * then a hidden beacon again: the name stays. */
    struct frame hidden = {0};
    put_beacon_start(&hidden, 8, AP, false);
    put_element(&hidden, 0, "\0\0\0\0\0\0", 6);
    feed(table, &hidden);
    ck_assert_str_eq(access_get_network(table, 0)->ssid, "");

    struct frame probe = {0};
    put_beacon_start(&probe, 5, AP, false);
    put_element(&probe, 0, "Pump\\\"\x01\xc3\xa9", 9);
    put_element(&probe, 61, "\x95\x05\x00", 3); /* HT operation: primary channel 149 */
    feed(table, &probe);
    feed(table, &hidden);
    const struct wifi_network *n = access_get_network(table, 0);
    ck_assert_str_eq(n->ssid, "Pump\\x5c\"\\x01\\xc3\\xa9");
    ck_assert_uint_eq(n->channel, 149);
    ck_assert_uint_eq(n->beacons, 2);
    ck_assert_uint_eq(n->probe_responses, 1);
    ck_assert_uint_eq(access_network_count(table), 1);

    /* An empty SSID element is hidden too; 32 bytes of 0xff fit the text. */
    struct frame longest = {0};
    put_beacon_start(&longest, 8, STA, false);
    uint8_t ff[32];
    memset(ff, 0xff, sizeof ff);
    put_element(&longest, 0, ff, sizeof ff);
    feed(table, &longest);
    ck_assert_uint_eq(strlen(access_get_network(table, 1)->ssid), 128);
    ck_assert_uint_eq(stats_of(table).malformed, 0);

    /* 33 bytes is no SSID: the beacon is malformed and ignored. */
    struct frame too_long = {0};
    put_beacon_start(&too_long, 8, (const uint8_t[]){2, 9, 9, 9, 9, 9}, false);
    uint8_t a33[33];
    memset(a33, 'a', sizeof a33);
    put_element(&too_long, 0, a33, sizeof a33);
    feed(table, &too_long);
    ck_assert_uint_eq(access_network_count(table), 2);
    ck_assert_uint_eq(stats_of(table).malformed, 1);
    access_table_destroy(table);
}
END_TEST

/* Builds the beacon whose truncations are tested: SSID, RSN last. */
static size_t build_truncation_beacon(struct frame *f)
{
    put_beacon_start(f, 8, AP, true);
    put_ssid(f, "ICU-NET");
    const size_t after_ssid = f->len;
    put_rsn(f, 4, (const uint8_t[]){4}, 1, (const uint8_t[]){1}, 1, 0);
    return after_ssid;
}

START_TEST(test_beacon_every_truncation)
{
    struct frame f = {0};
    const size_t after_ssid = build_truncation_beacon(&f);
    for (size_t caplen = 0; caplen <= f.len; caplen++) {
        struct access_table *table = new_table();
        uint8_t *copy = malloc(caplen + 1); /* exactly caplen bytes are read */
        ck_assert_ptr_nonnull(copy);
        memcpy(copy, f.bytes, caplen);
        access_inspect_wifi_frame(table, DLT_IEEE802_11, copy, (uint32_t)caplen, TS);
        const struct access_stats stats = stats_of(table);
        if (caplen == f.len) {
            ck_assert_int_eq(access_get_network(table, 0)->security, WIFI_SECURITY_WPA2_ENTERPRISE);
        } else if (caplen == after_ssid) {
            /* Cut on an element boundary: indistinguishable from a beacon
             * without RSN (so tshark reads it too). */
            ck_assert_int_eq(access_get_network(table, 0)->security, WIFI_SECURITY_WEP);
        } else {
            ck_assert_msg(access_network_count(table) == 0, "caplen %zu", caplen);
            ck_assert_uint_eq(stats.malformed, 1);
        }
        free(copy);
        access_table_destroy(table);
    }
}
END_TEST

START_TEST(test_beacon_bogus_elements)
{
    struct access_table *table = new_table();
    /* RSN pairwise count larger than the element. */
    struct frame f = {0};
    put_beacon_start(&f, 8, AP, true);
    put_ssid(&f, "a");
    put_element(&f, 48, (const uint8_t[]){1, 0, 0, 0x0f, 0xac, 4, 9, 0, 0, 0x0f, 0xac, 4}, 12);
    feed(table, &f);
    /* AKM count larger than the element. */
    struct frame g = {0};
    put_beacon_start(&g, 8, AP, true);
    put_ssid(&g, "a");
    put_element(&g, 48,
                (const uint8_t[]){1, 0, 0, 0x0f, 0xac, 4, 1, 0, 0, 0x0f, 0xac, 4, 0xff, 0xff, 0,
                                  0x0f, 0xac, 2},
                18);
    feed(table, &g);
    /* RSN version 2. */
    struct frame v = {0};
    put_beacon_start(&v, 8, AP, true);
    put_ssid(&v, "a");
    put_element(&v, 48, (const uint8_t[]){2, 0}, 2);
    feed(table, &v);
    /* An element running 100 bytes past the frame, not at its end. */
    struct frame past = {0};
    put_beacon_start(&past, 8, AP, true);
    put_ssid(&past, "a");
    put_u8(&past, 7);
    put_u8(&past, 200);
    put_zeros(&past, 100);
    feed(table, &past);
    /* A cut RSN element is never taken for a trailing FCS. */
    struct frame cut = {0};
    put_beacon_start(&cut, 8, AP, true);
    put_ssid(&cut, "a");
    put_u8(&cut, 48);
    put_u8(&cut, 20);
    put_u8(&cut, 1);
    feed(table, &cut);
    /* No SSID element at all. */
    struct frame nossid = {0};
    put_beacon_start(&nossid, 8, AP, true);
    put_channel(&nossid, 1);
    feed(table, &nossid);
    /* A WPA element cut in its pairwise list. */
    struct frame wpa = {0};
    put_beacon_start(&wpa, 8, AP, true);
    put_ssid(&wpa, "a");
    put_element(&wpa, 221,
                (const uint8_t[]){0x00, 0x50, 0xf2, 0x01, 0x01, 0x00, 0x00, 0x50, 0xf2, 0x02, 0x02,
                                  0x00, 0x00, 0x50, 0xf2, 0x02},
                16);
    feed(table, &wpa);
    /* Fixed fields cut. */
    struct frame fixed = {0};
    put_mgmt(&fixed, 8, BROADCAST, AP, AP);
    put_zeros(&fixed, 11);
    feed(table, &fixed);

    ck_assert_uint_eq(access_network_count(table), 0);
    ck_assert_uint_eq(stats_of(table).malformed, 8);
    ck_assert_uint_eq(stats_of(table).management_frames, 8);

    /* Four trailing bytes that do not parse (an FCS a Prism capture kept)
     * are tolerated; another vendor's element is skipped. */
    struct frame fcs = {0};
    put_beacon_start(&fcs, 8, AP, true);
    put_ssid(&fcs, "tail");
    put_element(&fcs, 221, (const uint8_t[]){0x00, 0x10, 0x18, 0x02, 0x00}, 5);
    put_wpa1(&fcs);
    put_bytes(&fcs, (const uint8_t[]){0x36, 0x89, 0x0d, 0x86}, 4);
    feed(table, &fcs);
    ck_assert_uint_eq(access_network_count(table), 1);
    ck_assert_int_eq(access_get_network(table, 0)->security, WIFI_SECURITY_WPA_TKIP);
    ck_assert_uint_eq(stats_of(table).malformed, 8);
    access_table_destroy(table);
}
END_TEST

/* Radio headers in front of a beacon: radiotap with FCS, a radiotap
 * length past the frame, and the other link types. */
START_TEST(test_radio_headers)
{
    struct frame beacon = {0};
    put_beacon_start(&beacon, 8, AP, false);
    put_ssid(&beacon, "Lobby");

    struct access_table *table = new_table();
    struct frame rt = {0};
    put_bytes(&rt, (const uint8_t[]){0, 0, 9, 0, 0x02, 0, 0, 0, 0x10}, 9);
    put_bytes(&rt, beacon.bytes, beacon.len);
    put_bytes(&rt, (const uint8_t[]){0xdd, 0xff, 0xff, 0xff}, 4); /* FCS */
    access_inspect_wifi_frame(table, DLT_IEEE802_11_RADIO, rt.bytes, (uint32_t)rt.len, TS);
    ck_assert_uint_eq(access_network_count(table), 1);
    ck_assert_int_eq(access_get_network(table, 0)->security, WIFI_SECURITY_OPEN);
    ck_assert_uint_eq(stats_of(table).malformed, 0);

    rt.bytes[2] = 0xff; /* radiotap length 255 > caplen */
    rt.len = 200 < rt.len ? 200 : rt.len;
    access_inspect_wifi_frame(table, DLT_IEEE802_11_RADIO, rt.bytes, 60, TS);
    ck_assert_uint_eq(stats_of(table).malformed, 1);
    rt.bytes[2] = 9;
    rt.bytes[8] = 0x50; /* bad FCS */
    access_inspect_wifi_frame(table, DLT_IEEE802_11_RADIO, rt.bytes, (uint32_t)rt.len, TS);
    ck_assert_uint_eq(stats_of(table).malformed, 2);
    ck_assert_uint_eq(access_get_network(table, 0)->beacons, 1);

    struct frame ppi = {0};
    put_bytes(&ppi, (const uint8_t[]){0, 0, 8, 0, 105, 0, 0, 0}, 8);
    put_bytes(&ppi, beacon.bytes, beacon.len);
    access_inspect_wifi_frame(table, DLT_PPI, ppi.bytes, (uint32_t)ppi.len, TS);
    struct frame prism = {0};
    put_bytes(&prism, (const uint8_t[]){0x44, 0, 0, 0, 144, 0, 0, 0}, 8);
    put_zeros(&prism, 136);
    put_bytes(&prism, beacon.bytes, beacon.len);
    access_inspect_wifi_frame(table, DLT_PRISM_HEADER, prism.bytes, (uint32_t)prism.len, TS);
    struct frame avs = {0};
    put_bytes(&avs, (const uint8_t[]){0x80, 0x21, 0x10, 0x01, 0, 0, 0, 64}, 8);
    put_zeros(&avs, 56);
    put_bytes(&avs, beacon.bytes, beacon.len);
    access_inspect_wifi_frame(table, DLT_IEEE802_11_RADIO_AVS, avs.bytes, (uint32_t)avs.len, TS);
    ck_assert_uint_eq(access_get_network(table, 0)->beacons, 4);
    /* Not an 802.11 link type, and no frame at all: nothing. */
    access_inspect_wifi_frame(table, DLT_EN10MB, beacon.bytes, (uint32_t)beacon.len, TS);
    access_inspect_wifi_frame(table, DLT_IEEE802_11, NULL, 0, TS);
    access_inspect_wifi_frame(NULL, DLT_IEEE802_11, beacon.bytes, (uint32_t)beacon.len, TS);
    ck_assert_uint_eq(access_get_network(table, 0)->beacons, 4);
    ck_assert_uint_eq(stats_of(table).malformed, 2);
    access_table_destroy(table);
}
END_TEST

/* ---------------------------------------------------------------- associations */

static void put_assoc_response(struct frame *f, uint8_t subtype, uint16_t status)
{
    put_mgmt(f, subtype, STA, AP, AP);
    put_le16(f, 0x0411);
    put_le16(f, status);
    put_le16(f, 0xc001);
}

START_TEST(test_associations)
{
    struct access_table *table = new_table();
    struct frame request = {0};
    put_mgmt(&request, 0, AP, STA, AP);
    put_le16(&request, 0x0411);
    put_le16(&request, 10);
    put_ssid(&request, "Ward-3");
    feed(table, &request);
    ck_assert_uint_eq(access_station_count(table), 1);
    const struct access_station *s = access_get_station(table, 0);
    assert_mac(&s->mac, "02:00:00:00:5a:01");
    assert_mac(&s->bssid, "02:00:00:00:0a:01");
    ck_assert(!s->associated);
    ck_assert_int_eq(s->source, ACCESS_SOURCE_WIFI);
    ck_assert_int_eq(s->eap_result, -1);
    ck_assert_uint_eq(s->eap_method, 0);
    ck_assert_uint_eq(s->nas.family, 0);

    struct frame refused = {0};
    put_assoc_response(&refused, 1, 17);
    feed(table, &refused);
    ck_assert(!access_get_station(table, 0)->associated);
    struct frame accepted = {0};
    put_assoc_response(&accepted, 3, 0); /* reassociation response */
    feed(table, &accepted);
    ck_assert(access_get_station(table, 0)->associated);
    ck_assert_uint_eq(access_station_count(table), 1);

    /* A response to a group address names no station; a cut one is
     * malformed. */
    struct frame group = {0};
    put_mgmt(&group, 1, BROADCAST, AP, AP);
    put_zeros(&group, 6);
    feed(table, &group);
    struct frame cut = {0};
    put_assoc_response(&cut, 1, 0);
    cut.len = 26;
    feed(table, &cut);
    ck_assert_uint_eq(access_station_count(table), 1);
    ck_assert_uint_eq(stats_of(table).malformed, 1);
    ck_assert_uint_eq(stats_of(table).management_frames, 5);
    access_table_destroy(table);
}
END_TEST

/* ---------------------------------------------------------------- EAPOL */

/* An EAPOL frame in a QoS data frame between STA and AP. */
static void put_eapol(struct frame *f, bool from_ap, uint8_t type, const uint8_t *body, size_t len,
                      uint16_t declared)
{
    put_u8(f, 0x88);
    put_u8(f, from_ap ? 0x02 : 0x01);
    put_le16(f, 0);
    put_bytes(f, from_ap ? STA : AP, 6);
    put_bytes(f, from_ap ? AP : STA, 6);
    put_bytes(f, AP, 6);
    put_le16(f, 0x0020);
    put_le16(f, 0x0007); /* QoS */
    put_bytes(f, (const uint8_t[]){0xaa, 0xaa, 0x03, 0, 0, 0, 0x88, 0x8e}, 8);
    put_u8(f, 2);
    put_u8(f, type);
    put_be16(f, declared);
    put_bytes(f, body, len);
}

static void feed_eap(struct access_table *table, bool from_ap, const uint8_t *eap, size_t len)
{
    struct frame f = {0};
    put_eapol(&f, from_ap, 0, eap, len, (uint16_t)len);
    feed(table, &f);
}

START_TEST(test_eap_conversation)
{
    struct access_table *table = new_table();
    struct frame start = {0};
    put_eapol(&start, false, 1, NULL, 0, 0);
    feed(table, &start);
    feed_eap(table, true, (const uint8_t[]){1, 1, 0, 5, 1}, 5);
    feed_eap(table, false,
             (const uint8_t[]){2, 1, 0, 14, 1, 's', 'e', 'c', 'r', 'e', 't', 'I', 'D', '!'}, 14);
    feed_eap(table, true, (const uint8_t[]){1, 2, 0, 6, 4, 0x10}, 6);  /* MD5 offered */
    feed_eap(table, false, (const uint8_t[]){2, 2, 0, 6, 3, 25}, 6);   /* NAK: PEAP */
    feed_eap(table, true, (const uint8_t[]){1, 3, 0, 6, 25, 0x20}, 6); /* PEAP */
    feed_eap(table, true, (const uint8_t[]){1, 3, 0, 6, 25, 0x20}, 6); /* again: once */
    feed_eap(table, true, (const uint8_t[]){1, 4, 0, 5, 2}, 5);        /* notification */
    feed_eap(table, false, (const uint8_t[]){2, 3, 0, 6, 25, 0x00}, 6);
    const struct access_station *s = access_get_station(table, 0);
    ck_assert_int_eq(s->eap_result, -1);
    feed_eap(table, true, (const uint8_t[]){3, 3, 0, 4}, 4);
    struct frame key = {0};
    put_eapol(&key, true, 3, (const uint8_t[]){2, 0, 0}, 3, 3);
    feed(table, &key);

    ck_assert_uint_eq(access_station_count(table), 1);
    s = access_get_station(table, 0);
    assert_mac(&s->mac, "02:00:00:00:5a:01");
    assert_mac(&s->bssid, "02:00:00:00:0a:01");
    ck_assert(!s->associated);
    ck_assert(s->eapol_key_seen);
    ck_assert_uint_eq(s->eap_method, EAP_TYPE_PEAP);
    ck_assert_uint_eq(s->eap_methods_offered_count, 2);
    ck_assert_uint_eq(s->eap_methods_offered[0], EAP_TYPE_MD5);
    ck_assert_uint_eq(s->eap_methods_offered[1], EAP_TYPE_PEAP);
    ck_assert_int_eq(s->eap_result, 1);
    /* The identity is nowhere in the table's view of the station. */
    ck_assert_ptr_null(memmem(s, sizeof *s, "secretID", 8));
    const struct access_stats stats = stats_of(table);
    ck_assert_uint_eq(stats.eapol_frames, 11);
    ck_assert_uint_eq(stats.malformed, 0);

    feed_eap(table, true, (const uint8_t[]){4, 9, 0, 4}, 4);
    ck_assert_int_eq(access_get_station(table, 0)->eap_result, 0);
    access_table_destroy(table);
}
END_TEST

START_TEST(test_eap_offered_is_bounded)
{
    struct access_table *table = new_table();
    static const uint8_t methods[] = {4, 6, 17, 13, 21, 25, 43};
    for (size_t i = 0; i < sizeof methods; i++)
        feed_eap(table, true, (const uint8_t[]){1, (uint8_t)i, 0, 5, methods[i]}, 5);
    const struct access_station *s = access_get_station(table, 0);
    ck_assert_uint_eq(s->eap_methods_offered_count, 4);
    ck_assert_mem_eq(s->eap_methods_offered, ((const uint8_t[]){4, 6, 17, 13}), 4);
    ck_assert_uint_eq(s->eap_method, 0);
    access_table_destroy(table);
}
END_TEST

START_TEST(test_eapol_inconsistent_lengths)
{
    struct access_table *table = new_table();
    /* EAP length larger than the EAPOL body. */
    struct frame f = {0};
    put_eapol(&f, false, 0, (const uint8_t[]){2, 1, 0, 9, 4, 0}, 6, 6);
    feed(table, &f);
    /* EAPOL length larger than the frame. */
    struct frame g = {0};
    put_eapol(&g, false, 0, (const uint8_t[]){2, 1, 0, 6, 4, 0}, 6, 60);
    feed(table, &g);
    /* EAP length below 4, a Response without its type, an unknown code. */
    struct frame h = {0};
    put_eapol(&h, false, 0, (const uint8_t[]){2, 1, 0, 3, 4, 0}, 6, 6);
    feed(table, &h);
    struct frame i = {0};
    put_eapol(&i, false, 0, (const uint8_t[]){2, 1, 0, 4}, 4, 4);
    feed(table, &i);
    struct frame j = {0};
    put_eapol(&j, false, 0, (const uint8_t[]){9, 1, 0, 4}, 4, 4);
    feed(table, &j);
    /* EAPOL header cut. */
    struct frame k = {0};
    put_eapol(&k, false, 0, NULL, 0, 0);
    k.len -= 2;
    feed(table, &k);
    /* SNAP cut in the middle. */
    struct frame l = {0};
    put_eapol(&l, false, 0, NULL, 0, 0);
    l.len -= 7;
    feed(table, &l);
    const struct access_stats stats = stats_of(table);
    ck_assert_uint_eq(stats.malformed, 7);
    ck_assert_uint_eq(stats.eapol_frames, 6);
    ck_assert_uint_eq(access_station_count(table), 0);
    access_table_destroy(table);
}
END_TEST

/* Every prefix of an EAP Response frame: none may create a method. */
START_TEST(test_eapol_every_truncation)
{
    struct frame f = {0};
    put_eapol(&f, false, 0, (const uint8_t[]){2, 7, 0, 6, 13, 0x80}, 6, 6);
    for (size_t caplen = 0; caplen < f.len; caplen++) {
        struct access_table *table = new_table();
        uint8_t *copy = malloc(caplen + 1);
        ck_assert_ptr_nonnull(copy);
        memcpy(copy, f.bytes, caplen);
        access_inspect_wifi_frame(table, DLT_IEEE802_11, copy, (uint32_t)caplen, TS);
        ck_assert_uint_eq(access_station_count(table), 0);
        /* Even a QoS data frame cut right after its header (no LLC) is. */
        ck_assert_uint_eq(stats_of(table).malformed, 1);
        free(copy);
        access_table_destroy(table);
    }
}
END_TEST

/* Protected, WDS, null and non-EAPOL data frames change nothing. */
START_TEST(test_data_frames_ignored)
{
    struct access_table *table = new_table();
    struct frame f = {0};
    put_eapol(&f, false, 3, (const uint8_t[]){1, 2, 3}, 3, 3);
    f.bytes[1] |= 0x40; /* protected */
    feed(table, &f);
    f.bytes[1] = 0x03; /* WDS: no station */
    struct frame wds = {0};
    put_bytes(&wds, f.bytes, 24);
    put_bytes(&wds, STA, 6);
    put_bytes(&wds, f.bytes + 24, f.len - 24);
    feed(table, &wds);
    ck_assert_uint_eq(stats_of(table).eapol_frames, 1);
    struct frame ip = {0};
    put_eapol(&ip, false, 3, NULL, 0, 0);
    ip.bytes[32] = 0x08; /* ethertype 0x088e: not EAPOL */
    feed(table, &ip);
    ck_assert_uint_eq(access_station_count(table), 0);
    ck_assert_uint_eq(stats_of(table).malformed, 0);
    access_table_destroy(table);
}
END_TEST

/* ---------------------------------------------------------------- RADIUS */

struct radius {
    struct frame f;
};

static void radius_start(struct frame *f, uint8_t code, uint8_t identifier)
{
    put_u8(f, code);
    put_u8(f, identifier);
    put_be16(f, 0);
    for (int i = 0; i < 16; i++)
        put_u8(f, 0x5a);
}

static void radius_attr(struct frame *f, uint8_t type, const void *value, size_t len)
{
    put_u8(f, type);
    put_u8(f, (uint8_t)(len + 2));
    put_bytes(f, value, len);
}

static void radius_finish(struct frame *f)
{
    f->bytes[2] = (uint8_t)(f->len >> 8);
    f->bytes[3] = (uint8_t)f->len;
}

static struct net_addr addr(const char *text)
{
    struct net_addr a;
    ck_assert(net_addr_parse(text, &a));
    return a;
}

static void send_radius(struct access_table *table, const char *src, const char *dst,
                        const struct frame *f)
{
    const struct net_addr s = addr(src), d = addr(dst);
    access_inspect_radius(table, &s, &d, f->bytes, (uint32_t)f->len, TS + 5);
}

#define NAS "192.0.2.2"
#define SERVER "192.0.2.10"

START_TEST(test_radius_eap_exchange)
{
    struct access_table *table = new_table();
    struct frame request = {0};
    radius_start(&request, 1, 42);
    radius_attr(&request, 1, "anonymous", 9);
    radius_attr(&request, 2, "\x8f\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff",
                16); /* User-Password: never read */
    radius_attr(&request, 31, "02-00-00-00-5A-01", 17);
    radius_attr(&request, 79,
                (const uint8_t[]){2, 0, 0, 14, 1, 'a', 'n', 'o', 'n', 'y', 'm', 'o', 'u', 's'}, 14);
    radius_finish(&request);
    send_radius(table, NAS, SERVER, &request);

    struct frame challenge = {0};
    radius_start(&challenge, 11, 42);
    radius_attr(&challenge, 79, (const uint8_t[]){1, 1, 0, 6, 13, 0x20}, 6);
    radius_finish(&challenge);
    send_radius(table, SERVER, NAS, &challenge);

    /* The Response split over two EAP-Message attributes, the header
     * itself cut after 3 bytes. */
    struct frame tls = {0};
    radius_start(&tls, 1, 43);
    radius_attr(&tls, 31, "02-00-00-00-5A-01", 17);
    radius_attr(&tls, 79, (const uint8_t[]){2, 1, 0}, 3);
    radius_attr(&tls, 79, (const uint8_t[]){8, 13, 0x80, 0x16, 0x03}, 5);
    radius_finish(&tls);
    send_radius(table, NAS, SERVER, &tls);

    struct frame accept = {0};
    radius_start(&accept, 2, 43);
    radius_attr(&accept, 79, (const uint8_t[]){3, 1, 0, 4}, 4);
    radius_finish(&accept);
    /* An answer from another NAS pairing is ignored... */
    send_radius(table, SERVER, "192.0.2.3", &accept);
    ck_assert_int_eq(access_get_station(table, 0)->eap_result, -1);
    send_radius(table, SERVER, NAS, &accept);
    /* ...and a second copy finds no pending request any more. */
    send_radius(table, SERVER, NAS, &accept);

    ck_assert_uint_eq(access_station_count(table), 1);
    const struct access_station *s = access_get_station(table, 0);
    assert_mac(&s->mac, "02:00:00:00:5a:01");
    ck_assert_int_eq(s->source, ACCESS_SOURCE_RADIUS);
    ck_assert_uint_eq(s->eap_method, EAP_TYPE_TLS);
    ck_assert_uint_eq(s->eap_methods_offered_count, 1);
    ck_assert_uint_eq(s->eap_methods_offered[0], EAP_TYPE_TLS);
    ck_assert_int_eq(s->eap_result, 1);
    char text[NET_ADDR_TEXT_MAX];
    net_addr_format(&s->nas, text, sizeof text);
    ck_assert_str_eq(text, NAS);
    ck_assert(!s->associated);
    ck_assert_uint_eq(s->first_usec, TS + 5);
    const struct access_stats stats = stats_of(table);
    ck_assert_uint_eq(stats.radius_messages, 6);
    ck_assert_uint_eq(stats.malformed, 0);

    /* The same station rejected later. */
    struct frame again = {0};
    radius_start(&again, 1, 50);
    radius_attr(&again, 31, "020000005a01", 12);
    radius_finish(&again);
    send_radius(table, NAS, SERVER, &again);
    struct frame reject = {0};
    radius_start(&reject, 3, 50);
    radius_finish(&reject);
    send_radius(table, SERVER, NAS, &reject);
    ck_assert_int_eq(access_get_station(table, 0)->eap_result, 0);
    ck_assert_uint_eq(access_station_count(table), 1);
    access_table_destroy(table);
}
END_TEST

START_TEST(test_radius_calling_station_formats)
{
    static const struct {
        const char *text;
        const char *mac; /* NULL: not a MAC */
    } cases[] = {
        {"AA-BB-CC-DD-EE-0F", "aa:bb:cc:dd:ee:0f"},
        {"aa:bb:cc:dd:ee:1f", "aa:bb:cc:dd:ee:1f"},
        {"aabbccddee2f", "aa:bb:cc:dd:ee:2f"},
        {"aabb.ccdd.ee3f", "aa:bb:cc:dd:ee:3f"},
        {"AABB-CCDD-EE4F", "aa:bb:cc:dd:ee:4f"},
        {"aa:bb-cc:dd:ee:ff", NULL},
        {"aa.bb.cc.dd.ee.ff", NULL},
        {"aabbccddeefg", NULL},
        {"+33123456789", NULL},
        {"192.0.2.77", NULL},
        {"aabbccddeeff00", NULL},
        {"01:00:5e:00:00:01", NULL},
    };
    struct access_table *table = new_table();
    size_t expected = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct frame f = {0};
        radius_start(&f, 1, (uint8_t)i);
        radius_attr(&f, 31, cases[i].text, strlen(cases[i].text));
        radius_finish(&f);
        send_radius(table, NAS, SERVER, &f);
        if (cases[i].mac == NULL) {
            ck_assert_msg(access_station_count(table) == expected, "%s", cases[i].text);
            continue;
        }
        expected++;
        ck_assert_uint_eq(access_station_count(table), expected);
        assert_mac(&access_get_station(table, expected - 1)->mac, cases[i].mac);
    }
    ck_assert_uint_eq(stats_of(table).malformed, 0);
    access_table_destroy(table);
}
END_TEST

/* Sends an Access-Request of exactly `length` bytes of vendor attributes
 * (in a datagram with room to spare); returns radius_messages. */
static uint64_t radius_of_length(struct access_table *table, size_t length)
{
    uint8_t *message = calloc(1, 5000);
    ck_assert_ptr_nonnull(message);
    message[0] = 1;
    message[2] = (uint8_t)(length >> 8);
    message[3] = (uint8_t)length;
    for (size_t at = 20; at < length;) {
        const size_t attribute = length - at > 255 ? 255 : length - at;
        ck_assert_uint_ge(attribute, 2);
        message[at] = 26;
        message[at + 1] = (uint8_t)attribute;
        at += attribute;
    }
    const struct net_addr s = addr(NAS), d = addr(SERVER);
    access_inspect_radius(table, &s, &d, message, 5000, TS);
    free(message);
    return stats_of(table).radius_messages;
}

START_TEST(test_radius_malformed)
{
    struct access_table *table = new_table();
    struct frame good = {0};
    radius_start(&good, 1, 1);
    radius_attr(&good, 31, "02-00-00-00-5A-09", 17);
    radius_finish(&good);

    /* Attribute length 0 and 1. */
    for (uint8_t bad = 0; bad < 2; bad++) {
        struct frame f = good;
        put_u8(&f, 26);
        put_u8(&f, bad);
        put_zeros(&f, 4);
        radius_finish(&f);
        send_radius(table, NAS, SERVER, &f);
    }
    /* Attribute past the message (the datagram has more bytes). */
    struct frame past = good;
    put_u8(&past, 26);
    put_u8(&past, 10);
    put_zeros(&past, 2);
    radius_finish(&past);
    put_zeros(&past, 20);
    send_radius(table, NAS, SERVER, &past);
    /* Length below 20, above the datagram, above 4096. */
    struct frame small = good;
    small.bytes[2] = 0;
    small.bytes[3] = 19;
    send_radius(table, NAS, SERVER, &small);
    struct frame big = good;
    big.bytes[3] = (uint8_t)(good.len + 1);
    send_radius(table, NAS, SERVER, &big);
    ck_assert_uint_eq(stats_of(table).malformed, 5);
    ck_assert_uint_eq(stats_of(table).radius_messages, 0);
    /* 4096 bytes of well-formed attributes is the largest message. */
    ck_assert_uint_eq(radius_of_length(table, 4096), 1);
    ck_assert_uint_eq(radius_of_length(table, 4097), 1);
    ck_assert_uint_eq(access_station_count(table), 0);
    ck_assert_uint_eq(stats_of(table).malformed, 6);

    /* Every truncation of a good message. */
    for (size_t len = 0; len < good.len; len++) {
        uint8_t *copy = malloc(len + 1);
        ck_assert_ptr_nonnull(copy);
        memcpy(copy, good.bytes, len);
        const struct net_addr s = addr(NAS), d = addr(SERVER);
        access_inspect_radius(table, &s, &d, copy, (uint32_t)len, TS);
        free(copy);
    }
    ck_assert_uint_eq(stats_of(table).malformed, 6 + good.len);
    ck_assert_uint_eq(access_station_count(table), 0);

    /* Padding after the message is ignored; the message counts. */
    struct frame padded = good;
    put_zeros(&padded, 7);
    send_radius(table, NAS, SERVER, &padded);
    ck_assert_uint_eq(access_station_count(table), 1);

    /* An inconsistent EAP-Message is counted, the rest still applies. */
    struct frame eap = {0};
    radius_start(&eap, 1, 2);
    radius_attr(&eap, 31, "02-00-00-00-5A-09", 17);
    radius_attr(&eap, 79, (const uint8_t[]){2, 1, 0, 40, 4}, 5);
    radius_finish(&eap);
    send_radius(table, NAS, SERVER, &eap);
    ck_assert_uint_eq(stats_of(table).malformed, 7 + good.len);
    ck_assert_uint_eq(access_get_station(table, 0)->eap_method, 0);

    /* Accounting and unknown codes are counted, change nothing; NULL
     * addresses are taken as none. */
    struct frame accounting = good;
    accounting.bytes[0] = 4;
    send_radius(table, NAS, SERVER, &accounting);
    access_inspect_radius(table, NULL, NULL, good.bytes, (uint32_t)good.len, TS);
    access_inspect_radius(table, NULL, NULL, NULL, 20, TS);
    access_inspect_radius(NULL, NULL, NULL, good.bytes, (uint32_t)good.len, TS);
    ck_assert_uint_eq(access_station_count(table), 1);
    ck_assert_uint_eq(access_get_station(table, 0)->nas.family, 0);
    access_table_destroy(table);
}
END_TEST

/* A flood of requests from one NAS only overwrites the oldest pending
 * entries: the newest are still paired. */
START_TEST(test_radius_pending_is_bounded)
{
    struct access_table *table = access_table_create(4, 1000);
    ck_assert_ptr_nonnull(table);
    for (unsigned i = 0; i < 600; i++) {
        char mac[18];
        snprintf(mac, sizeof mac, "02-00-00-00-%02X-%02X", (i >> 8) & 0xff, i & 0xff);
        struct frame f = {0};
        radius_start(&f, 1, (uint8_t)i);
        radius_attr(&f, 31, mac, 17);
        radius_finish(&f);
        char nas[16];
        snprintf(nas, sizeof nas, "10.0.%u.%u", i / 250, i % 250 + 1);
        send_radius(table, nas, SERVER, &f);
    }
    ck_assert_uint_eq(access_station_count(table), 600);
    struct frame accept = {0};
    radius_start(&accept, 2, (uint8_t)599);
    radius_finish(&accept);
    send_radius(table, SERVER, "10.0.2.100", &accept);
    ck_assert_int_eq(access_get_station(table, 599)->eap_result, 1);
    radius_start(&accept, 2, 0);
    accept.len = 20;
    radius_finish(&accept);
    send_radius(table, SERVER, "10.0.0.1", &accept); /* long overwritten */
    ck_assert_int_eq(access_get_station(table, 0)->eap_result, -1);
    access_table_destroy(table);
}
END_TEST

/* ---------------------------------------------------------------- caps */

START_TEST(test_station_cap)
{
    struct access_table *table = access_table_create(4, 64);
    ck_assert_ptr_nonnull(table);
    struct frame f = {0};
    put_mgmt(&f, 0, AP, STA, AP);
    put_le16(&f, 0x0411);
    put_le16(&f, 10);
    for (uint32_t i = 0; i < 100000; i++) {
        f.bytes[12] = (uint8_t)(i >> 16) & 0xfe; /* keep it unicast */
        f.bytes[13] = (uint8_t)(i >> 8);
        f.bytes[14] = (uint8_t)i;
        f.bytes[15] = (uint8_t)(i >> 16);
        feed(table, &f);
    }
    ck_assert_uint_eq(access_station_count(table), 64);
    const struct access_stats stats = stats_of(table);
    ck_assert_uint_eq(stats.stations_dropped, 100000 - 64);
    ck_assert_uint_eq(stats.management_frames, 100000);
    /* The stored ones are the first 64, still found and updated. */
    f.bytes[12] = 0;
    f.bytes[13] = 0;
    f.bytes[14] = 63;
    f.bytes[15] = 0;
    feed(table, &f);
    ck_assert_uint_eq(access_station_count(table), 64);
    ck_assert_uint_eq(stats_of(table).stations_dropped, 100000 - 64);
    ck_assert_ptr_null(access_get_station(table, 64));
    access_table_destroy(table);
}
END_TEST

START_TEST(test_network_cap_and_lookup)
{
    struct access_table *table = access_table_create(8, 0);
    ck_assert_ptr_nonnull(table);
    for (unsigned i = 0; i < 1000; i++) {
        uint8_t bssid[6] = {0x02, 0, 0, 0, (uint8_t)(i >> 8), (uint8_t)i};
        struct frame f = {0};
        put_beacon_start(&f, 8, bssid, false);
        put_ssid(&f, "n");
        feed(table, &f);
    }
    ck_assert_uint_eq(access_network_count(table), 8);
    ck_assert_uint_eq(stats_of(table).networks_dropped, 992);
    ck_assert_ptr_null(access_get_network(table, 8));
    const struct wifi_network *n = network_by_bssid(table, "02:00:00:00:00:07");
    ck_assert_ptr_eq(n, access_get_network(table, 7));
    struct mac_addr missing;
    ck_assert(mac_addr_parse("02:00:00:00:00:08", &missing));
    ck_assert_ptr_null(access_find_network(table, &missing));
    ck_assert_ptr_null(access_find_network(table, NULL));
    ck_assert_ptr_null(access_find_network(NULL, &missing));
    /* A table of 0 stations drops every one. */
    struct frame assoc = {0};
    put_assoc_response(&assoc, 1, 0);
    feed(table, &assoc);
    ck_assert_uint_eq(access_station_count(table), 0);
    ck_assert_uint_eq(stats_of(table).stations_dropped, 1);
    access_table_destroy(table);
    access_table_destroy(NULL);
    ck_assert_uint_eq(access_network_count(NULL), 0);
    ck_assert_uint_eq(access_station_count(NULL), 0);
    struct access_stats stats;
    memset(&stats, 0xff, sizeof stats);
    access_get_stats(NULL, &stats);
    ck_assert_uint_eq(stats.malformed, 0);
}
END_TEST

/* ---------------------------------------------------------------- names */

START_TEST(test_names)
{
    ck_assert_str_eq(wifi_security_name(WIFI_SECURITY_UNKNOWN), "unknown");
    ck_assert_str_eq(wifi_security_name(WIFI_SECURITY_OPEN), "open");
    ck_assert_str_eq(wifi_security_name(WIFI_SECURITY_OWE), "OWE");
    ck_assert_str_eq(wifi_security_name(WIFI_SECURITY_WEP), "WEP");
    ck_assert_str_eq(wifi_security_name(WIFI_SECURITY_WPA_TKIP), "WPA-TKIP");
    ck_assert_str_eq(wifi_security_name(WIFI_SECURITY_WPA2_PSK), "WPA2-PSK");
    ck_assert_str_eq(wifi_security_name(WIFI_SECURITY_WPA2_ENTERPRISE), "WPA2-Enterprise");
    ck_assert_str_eq(wifi_security_name(WIFI_SECURITY_WPA3_SAE), "WPA3-SAE");
    ck_assert_str_eq(wifi_security_name(WIFI_SECURITY_WPA3_ENTERPRISE), "WPA3-Enterprise");
    ck_assert_str_eq(wifi_security_name((enum wifi_security)99), "unknown");
    char buf[16];
    ck_assert_str_eq(eap_method_name(EAP_TYPE_MD5, buf, sizeof buf), "EAP-MD5");
    ck_assert_str_eq(eap_method_name(EAP_TYPE_GTC, buf, sizeof buf), "EAP-GTC");
    ck_assert_str_eq(eap_method_name(EAP_TYPE_TLS, buf, sizeof buf), "EAP-TLS");
    ck_assert_str_eq(eap_method_name(EAP_TYPE_LEAP, buf, sizeof buf), "LEAP");
    ck_assert_str_eq(eap_method_name(EAP_TYPE_TTLS, buf, sizeof buf), "EAP-TTLS");
    ck_assert_str_eq(eap_method_name(EAP_TYPE_PEAP, buf, sizeof buf), "PEAP");
    ck_assert_str_eq(eap_method_name(EAP_TYPE_MSCHAPV2, buf, sizeof buf), "EAP-MSCHAPv2");
    ck_assert_str_eq(eap_method_name(EAP_TYPE_FAST, buf, sizeof buf), "EAP-FAST");
    ck_assert_str_eq(eap_method_name(EAP_TYPE_PWD, buf, sizeof buf), "EAP-pwd");
    ck_assert_str_eq(eap_method_name(EAP_TYPE_SIM, buf, sizeof buf), "EAP-SIM");
    ck_assert_str_eq(eap_method_name(EAP_TYPE_AKA, buf, sizeof buf), "EAP-AKA");
    ck_assert_ptr_eq(eap_method_name(200, buf, sizeof buf), buf);
    ck_assert_str_eq(buf, "EAP-200");
    char tiny[5];
    ck_assert_str_eq(eap_method_name(200, tiny, sizeof tiny), "EAP-");
    ck_assert_str_eq(eap_method_name(200, NULL, 0), "EAP-unknown");
    ck_assert(access_is_wifi_link_type(DLT_IEEE802_11));
    ck_assert(access_is_wifi_link_type(DLT_IEEE802_11_RADIO));
    ck_assert(access_is_wifi_link_type(DLT_PPI));
    ck_assert(access_is_wifi_link_type(DLT_PRISM_HEADER));
    ck_assert(access_is_wifi_link_type(DLT_IEEE802_11_RADIO_AVS));
    ck_assert(!access_is_wifi_link_type(DLT_EN10MB));
    ck_assert(!access_is_wifi_link_type(-1));
}
END_TEST

/* ---------------------------------------------------------------- captures */

/* Feeds a capture: 802.11 frames to the Wi-Fi inspector, UDP to/from the
 * RADIUS ports through decode_packet to the RADIUS inspector. Returns
 * false if the file cannot be opened. */
static bool feed_capture(struct access_table *table, const char *path, unsigned *ip_packets)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *pcap = pcap_open_offline(path, errbuf);
    if (pcap == NULL)
        return false;
    const int dlt = pcap_datalink(pcap);
    struct pcap_pkthdr *header;
    const u_char *data;
    while (pcap_next_ex(pcap, &header, &data) == 1) {
        const uint64_t ts = (uint64_t)header->ts.tv_sec * 1000000 + (uint64_t)header->ts.tv_usec;
        uint8_t *copy = malloc(header->caplen + 1);
        ck_assert_ptr_nonnull(copy);
        memcpy(copy, data, header->caplen);
        if (access_is_wifi_link_type(dlt))
            access_inspect_wifi_frame(table, dlt, copy, header->caplen, ts);
        struct decoded_packet p;
        if (decode_packet(dlt, copy, header->caplen, header->len, ts, &p) == DECODE_OK) {
            (*ip_packets)++;
            const bool radius = p.src_port == 1812 || p.dst_port == 1812 || p.src_port == 1645 ||
                                p.dst_port == 1645;
            if (p.ip_proto == IP_PROTO_UDP && radius)
                access_inspect_radius(table, &p.src, &p.dst, p.payload, p.payload_len, ts);
        }
        free(copy);
    }
    pcap_close(pcap);
    return true;
}

static struct access_table *load(const char *path, unsigned *ip_packets)
{
    struct access_table *table = new_table();
    unsigned ignored = 0;
    ck_assert_msg(feed_capture(table, path, ip_packets ? ip_packets : &ignored), "%s", path);
    return table;
}

START_TEST(test_crafted_enterprise_capture)
{
    struct access_table *table = load(TEST_DATA_DIR "/access/enterprise.pcap", NULL);
    ck_assert_uint_eq(access_network_count(table), 2);
    const struct wifi_network *ent = network_by_bssid(table, "02:00:00:00:0e:01");
    ck_assert_str_eq(ent->ssid, "Clinic-8021X");
    ck_assert_uint_eq(ent->channel, 36);
    ck_assert_int_eq(ent->security, WIFI_SECURITY_WPA2_ENTERPRISE);
    ck_assert_uint_eq(ent->akm_suites, 1u << 1 | 1u << 5);
    ck_assert(ent->pmf_capable && !ent->pmf_required);
    const struct wifi_network *wpa3 = network_by_bssid(table, "02:00:00:00:0e:02");
    ck_assert_str_eq(wpa3->ssid, "Clinic-WPA3E");
    ck_assert_uint_eq(wpa3->channel, 11);
    ck_assert_int_eq(wpa3->security, WIFI_SECURITY_WPA3_ENTERPRISE);
    ck_assert(wpa3->pmf_capable && wpa3->pmf_required);

    ck_assert_uint_eq(access_station_count(table), 2);
    const struct access_station *pump = station_by_mac(table, "02:00:00:00:5a:01");
    ck_assert(pump->associated);
    assert_mac(&pump->bssid, "02:00:00:00:0e:01");
    ck_assert(pump->eapol_key_seen);
    ck_assert_uint_eq(pump->eap_method, EAP_TYPE_PEAP);
    ck_assert_uint_eq(pump->eap_methods_offered_count, 2);
    ck_assert_uint_eq(pump->eap_methods_offered[0], EAP_TYPE_MD5);
    ck_assert_uint_eq(pump->eap_methods_offered[1], EAP_TYPE_PEAP);
    ck_assert_int_eq(pump->eap_result, 1);
    ck_assert_ptr_null(memmem(pump, sizeof *pump, "anonymous", 9));
    const struct access_station *monitor = station_by_mac(table, "02:00:00:00:5a:02");
    ck_assert(!monitor->associated);
    assert_mac(&monitor->bssid, "02:00:00:00:0e:01");
    ck_assert(!monitor->eapol_key_seen);
    ck_assert_uint_eq(monitor->eap_method, EAP_TYPE_LEAP);
    ck_assert_int_eq(monitor->eap_result, 0);
    const struct access_stats stats = stats_of(table);
    ck_assert_uint_eq(stats.management_frames, 4);
    ck_assert_uint_eq(stats.eapol_frames, 15);
    ck_assert_uint_eq(stats.malformed, 0);
    access_table_destroy(table);
}
END_TEST

START_TEST(test_crafted_open_data_capture)
{
    unsigned ip_packets = 0;
    struct access_table *table = load(TEST_DATA_DIR "/access/open-data.pcap", &ip_packets);
    ck_assert_uint_eq(access_network_count(table), 1);
    const struct wifi_network *guest = access_get_network(table, 0);
    ck_assert_str_eq(guest->ssid, "Guest");
    ck_assert_uint_eq(guest->channel, 6);
    ck_assert_int_eq(guest->security, WIFI_SECURITY_OPEN);
    ck_assert_uint_eq(ip_packets, 1);
    ck_assert_uint_eq(stats_of(table).malformed, 0);
    access_table_destroy(table);
}
END_TEST

START_TEST(test_crafted_radius_capture)
{
    struct access_table *table = load(TEST_DATA_DIR "/access/radius-eap.pcap", NULL);
    ck_assert_uint_eq(access_station_count(table), 2);
    const struct access_station *pump = station_by_mac(table, "02:00:00:00:5a:01");
    ck_assert_int_eq(pump->source, ACCESS_SOURCE_RADIUS);
    ck_assert_uint_eq(pump->eap_method, EAP_TYPE_TLS);
    ck_assert_uint_eq(pump->eap_methods_offered[0], EAP_TYPE_TLS);
    ck_assert_int_eq(pump->eap_result, 1);
    char text[NET_ADDR_TEXT_MAX];
    net_addr_format(&pump->nas, text, sizeof text);
    ck_assert_str_eq(text, "192.0.2.2");
    const struct access_station *monitor = station_by_mac(table, "02:00:00:00:5a:02");
    ck_assert_uint_eq(monitor->eap_method, EAP_TYPE_MD5);
    ck_assert_int_eq(monitor->eap_result, 0);
    ck_assert_uint_eq(stats_of(table).radius_messages, 8);
    ck_assert_uint_eq(stats_of(table).malformed, 0);
    access_table_destroy(table);
}
END_TEST

/* Opens a corpus file, or returns NULL (the test then says it skipped). */
static struct access_table *load_corpus(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, CORPUS_DIR "/%s", name);
    if (access(path, R_OK) != 0) {
        printf("skipped: corpus file %s is absent\n", path);
        return NULL;
    }
    return load(path, NULL);
}

struct corpus_network {
    const char *file;
    const char *bssid;
    const char *ssid;
    uint8_t channel;
    enum wifi_security security;
    uint32_t akm_suites;
    bool pmf_required;
};

/* Values read with tshark (see the header comment). */
static const struct corpus_network CORPUS_NETWORKS[] = {
    {"aircrack-ng/wpa2-psk-linksys.cap", "00:0b:86:c2:a4:85", "linksys", 1, WIFI_SECURITY_WPA2_PSK,
     1u << 2, false},
    {"aircrack-ng/wpa-psk-linksys.cap", "00:0b:86:c2:a4:85", "linksys", 1, WIFI_SECURITY_WPA_TKIP,
     0, false},
    {"aircrack-ng/wep.open.system.authentication.cap", "00:14:6c:7e:40:80", "teddy", 9,
     WIFI_SECURITY_WEP, 0, false},
    {"aircrack-ng/wpa3-psk.pcap", "02:00:00:00:00:00", "WPA3-Network", 1, WIFI_SECURITY_WPA3_SAE,
     1u << 8, true},
    {"aircrack-ng/n-02.cap", "b0:b9:8a:56:8d:ea", "Neheb", 64, WIFI_SECURITY_WPA2_PSK, 1u << 6,
     true},
    {"aircrack-ng/MOM1.cap", "00:21:29:72:a3:19", "MOM1", 6, WIFI_SECURITY_WPA_TKIP, 1u << 2,
     false},
    {"aircrack-ng/Chinese-SSID-Name.pcap", "00:24:01:8d:c0:84", "\\xb2\\xe2\\xca\\xd4", 6,
     WIFI_SECURITY_WEP, 0, false},
    {"aircrack-ng/wpa.cap", "00:0d:93:eb:b0:8c", "test", 7, WIFI_SECURITY_WPA_TKIP, 0, false},
    {"aircrack-ng/zn2i.pcap", "00:06:4f:12:34:56", "dlink", 4, WIFI_SECURITY_WPA2_PSK, 1u << 2,
     false},
};

START_TEST(test_corpus_networks)
{
    const struct corpus_network *c = &CORPUS_NETWORKS[_i];
    struct access_table *table = load_corpus(c->file);
    if (table == NULL)
        return;
    ck_assert_uint_eq(access_network_count(table), 1);
    const struct wifi_network *n = network_by_bssid(table, c->bssid);
    ck_assert_str_eq(n->ssid, c->ssid);
    ck_assert_uint_eq(n->channel, c->channel);
    ck_assert_msg(n->security == c->security, "%s: %s", c->file, wifi_security_name(n->security));
    ck_assert_uint_eq(n->akm_suites, c->akm_suites);
    ck_assert_int_eq(n->pmf_required, c->pmf_required);
    ck_assert_uint_eq(stats_of(table).malformed, 0);
    access_table_destroy(table);
}
END_TEST

START_TEST(test_corpus_stations)
{
    struct access_table *table = load_corpus("aircrack-ng/wpa2-psk-linksys.cap");
    if (table == NULL)
        return;
    const struct wifi_network *n = access_get_network(table, 0);
    ck_assert_uint_eq(n->beacons, 85);
    ck_assert_uint_eq(n->probe_responses, 6);
    ck_assert_uint_eq(access_station_count(table), 1);
    const struct access_station *s = station_by_mac(table, "00:13:ce:55:98:ef");
    ck_assert(s->associated);
    ck_assert(s->eapol_key_seen);
    assert_mac(&s->bssid, "00:0b:86:c2:a4:85");
    ck_assert_uint_eq(s->eap_method, 0);
    ck_assert_uint_eq(stats_of(table).eapol_frames, 12);
    access_table_destroy(table);

    table = load_corpus("aircrack-ng/wep.shared.key.authentication.cap");
    ck_assert_ptr_nonnull(table);
    s = station_by_mac(table, "00:0f:b5:88:ac:82");
    ck_assert(s->associated);
    ck_assert(!s->eapol_key_seen);
    access_table_destroy(table);
}
END_TEST

START_TEST(test_corpus_radius)
{
    struct access_table *table = load_corpus("tcpdump/RADIUS.pcap");
    if (table == NULL)
        return;
    ck_assert_uint_eq(access_station_count(table), 1);
    const struct access_station *s = station_by_mac(table, "00:14:22:e9:54:5e");
    ck_assert_int_eq(s->source, ACCESS_SOURCE_RADIUS);
    ck_assert_uint_eq(s->eap_method, EAP_TYPE_MD5);
    ck_assert_uint_eq(s->eap_methods_offered_count, 1);
    ck_assert_uint_eq(s->eap_methods_offered[0], EAP_TYPE_MD5);
    ck_assert_int_eq(s->eap_result, 1);
    char text[NET_ADDR_TEXT_MAX];
    net_addr_format(&s->nas, text, sizeof text);
    ck_assert_str_eq(text, "10.0.0.1");
    ck_assert_uint_eq(stats_of(table).radius_messages, 4);
    access_table_destroy(table);
}
END_TEST

/* ---------------------------------------------------------------- main */

static Suite *access_suite(void)
{
    Suite *suite = suite_create("access");

    TCase *beacons = tcase_create("beacons");
    tcase_add_loop_test(beacons, test_beacon_security_classification, 0,
                        (int)(sizeof SECURITY_CASES / sizeof SECURITY_CASES[0]));
    tcase_add_test(beacons, test_rsn_short_forms_take_defaults);
    tcase_add_test(beacons, test_ssid_hidden_escaped_and_revealed);
    tcase_add_test(beacons, test_beacon_every_truncation);
    tcase_add_test(beacons, test_beacon_bogus_elements);
    tcase_add_test(beacons, test_radio_headers);
    suite_add_tcase(suite, beacons);

    TCase *stations = tcase_create("stations");
    tcase_add_test(stations, test_associations);
    tcase_add_test(stations, test_eap_conversation);
    tcase_add_test(stations, test_eap_offered_is_bounded);
    tcase_add_test(stations, test_eapol_inconsistent_lengths);
    tcase_add_test(stations, test_eapol_every_truncation);
    tcase_add_test(stations, test_data_frames_ignored);
    suite_add_tcase(suite, stations);

    TCase *radius = tcase_create("radius");
    tcase_add_test(radius, test_radius_eap_exchange);
    tcase_add_test(radius, test_radius_calling_station_formats);
    tcase_add_test(radius, test_radius_malformed);
    tcase_add_test(radius, test_radius_pending_is_bounded);
    suite_add_tcase(suite, radius);

    TCase *caps = tcase_create("caps");
    tcase_set_timeout(caps, 60);
    tcase_add_test(caps, test_station_cap);
    tcase_add_test(caps, test_network_cap_and_lookup);
    tcase_add_test(caps, test_names);
    suite_add_tcase(suite, caps);

    TCase *captures = tcase_create("captures");
    tcase_set_timeout(captures, 60);
    tcase_add_test(captures, test_crafted_enterprise_capture);
    tcase_add_test(captures, test_crafted_open_data_capture);
    tcase_add_test(captures, test_crafted_radius_capture);
    tcase_add_loop_test(captures, test_corpus_networks, 0,
                        (int)(sizeof CORPUS_NETWORKS / sizeof CORPUS_NETWORKS[0]));
    tcase_add_test(captures, test_corpus_stations);
    tcase_add_test(captures, test_corpus_radius);
    suite_add_tcase(suite, captures);
    return suite;
}

int main(void)
{
    SRunner *runner = srunner_create(access_suite());
    srunner_run_all(runner, CK_NORMAL);
    const int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
