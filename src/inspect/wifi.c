/* wifi: 802.11 management frames and EAPOL -> networks and stations.
 *
 * Beacons and probe responses give a network (SSID, channel, security
 * from the Privacy bit and the RSN/WPA elements); (re)association frames
 * and EAPOL bind a station to a BSSID and an EAP method. A frame whose
 * elements do not parse is counted as malformed and changes nothing: a
 * half-read beacon could otherwise turn a WPA2 network into "WEP". */
#include <string.h>

#include "inspect/access_internal.h"
#include "util/ieee80211.h"
#include "util/reader.h"

enum {
    BEACON_FIXED_LEN = 12, /* timestamp, interval, capability */
    CAPABILITY_PRIVACY = 0x0010,
    IE_SSID = 0,
    IE_DS_PARAMETER = 3,
    IE_RSN = 48,
    IE_HT_OPERATION = 61,
    IE_VENDOR = 221,
    SSID_MAX_BYTES = 32,
    RSN_CAP_MFPR = 0x0040,
    RSN_CAP_MFPC = 0x0080,
    EAPOL_TYPE_EAP = 0,
    EAPOL_TYPE_KEY = 3,
};

enum { OUI_IEEE = 0x000fac, OUI_MICROSOFT = 0x0050f2, WPA_IE_TYPE = 1 };

/* Cipher suite types (00-0F-AC and, for WPA, 00-50-F2 use the same
 * numbers for these). */
enum { CIPHER_TKIP = 2, CIPHER_CCMP = 4, CIPHER_GCMP = 8, CIPHER_GCMP256 = 9, CIPHER_CCMP256 = 10 };

/* What one RSN or WPA element offers. */
struct wifi_suites {
    bool present;
    bool tkip; /* TKIP as group or pairwise cipher */
    bool pairwise_tkip;
    bool pairwise_strong; /* CCMP or GCMP offered as pairwise cipher */
    uint32_t akm_suites;  /* bit n: AKM n of the element's OUI */
    bool mfpc;
    bool mfpr;
};

/* What one beacon or probe response says. */
struct beacon_facts {
    bool privacy;
    bool ssid_seen;
    char ssid[ACCESS_SSID_MAX];
    uint8_t channel;
    uint8_t ht_channel;
    struct wifi_suites rsn;
    struct wifi_suites wpa;
};

/* Writes the SSID as text: printable ASCII as is, every other byte (and
 * the backslash) as \xNN, so the report cannot be broken by it. An empty
 * or all-zero SSID is a hidden network: "". */
static void format_ssid(struct reader ie, char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t at = 0;
    bool all_zero = true;
    while (reader_has(&ie, 1)) {
        const uint8_t c = reader_u8(&ie);
        all_zero = all_zero && c == 0;
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out[at++] = (char)c;
            continue;
        }
        out[at++] = '\\';
        out[at++] = 'x';
        out[at++] = hex[c >> 4];
        out[at++] = hex[c & 0x0f];
    }
    out[all_zero ? 0 : at] = '\0';
}

/* Records one cipher or AKM suite selector of the element's OUI. */
static void add_pairwise(struct wifi_suites *suites, uint32_t oui, uint32_t base, uint8_t type)
{
    if (oui != base)
        return;
    if (type == CIPHER_TKIP) {
        suites->pairwise_tkip = true;
        suites->tkip = true;
    }
    if (type == CIPHER_CCMP || type == CIPHER_GCMP || type == CIPHER_GCMP256 ||
        type == CIPHER_CCMP256)
        suites->pairwise_strong = true;
}

/* Reads a suite count and that many 4-byte selectors; a count larger than
 * the element is an error. `akm` picks which list it is. */
static bool read_suite_list(struct reader *ie, uint32_t base, bool akm, struct wifi_suites *out)
{
    const uint16_t count = reader_le16(ie);
    if (ie->failed || (size_t)count * 4 > reader_left(ie))
        return false;
    for (uint16_t i = 0; i < count; i++) {
        const uint32_t oui = reader_be24(ie);
        const uint8_t type = reader_u8(ie);
        if (!akm)
            add_pairwise(out, oui, base, type);
        else if (oui == base && type < 32)
            out->akm_suites |= 1u << type;
    }
    return !ie->failed;
}

/* Parses the body of an RSN element (after its header) or of the WPA
 * vendor element (after OUI and type): version, group cipher, pairwise
 * list, AKM list, capabilities. Trailing fields may be absent and then
 * take the standard defaults (CCMP pairwise, 802.1X AKM). Returns false
 * when the element is cut inside a field or its version is not 1. */
static bool parse_suites(struct reader ie, uint32_t base, struct wifi_suites *out)
{
    memset(out, 0, sizeof *out);
    out->present = true;
    out->pairwise_strong = true;
    out->akm_suites = 1u << 1;
    const uint16_t version = reader_le16(&ie);
    if (ie.failed || version != 1)
        return false;
    if (reader_left(&ie) == 0)
        return true;
    const uint32_t group_oui = reader_be24(&ie);
    const uint8_t group_type = reader_u8(&ie);
    if (ie.failed)
        return false;
    out->tkip = group_oui == base && group_type == CIPHER_TKIP;
    if (reader_left(&ie) == 0)
        return true;
    out->pairwise_strong = false;
    if (!read_suite_list(&ie, base, false, out))
        return false;
    if (reader_left(&ie) == 0)
        return true;
    out->akm_suites = 0;
    if (!read_suite_list(&ie, base, true, out))
        return false;
    if (reader_left(&ie) >= 2) {
        const uint16_t capabilities = reader_le16(&ie);
        out->mfpc = (capabilities & RSN_CAP_MFPC) != 0;
        out->mfpr = (capabilities & RSN_CAP_MFPR) != 0;
    }
    return true;
}

/* Reads one information element into the facts. Returns false for an
 * element that does not parse. */
static bool read_element(uint8_t id, struct reader ie, struct beacon_facts *facts)
{
    switch (id) {
    case IE_SSID:
        if (reader_left(&ie) > SSID_MAX_BYTES)
            return false;
        if (!facts->ssid_seen)
            format_ssid(ie, facts->ssid);
        facts->ssid_seen = true;
        return true;
    case IE_DS_PARAMETER:
        facts->channel = reader_u8(&ie);
        return !ie.failed;
    case IE_HT_OPERATION:
        facts->ht_channel = reader_u8(&ie);
        return !ie.failed;
    case IE_RSN:
        return parse_suites(ie, OUI_IEEE, &facts->rsn);
    case IE_VENDOR: {
        const uint32_t oui = reader_be24(&ie);
        const uint8_t type = reader_u8(&ie);
        if (ie.failed || oui != OUI_MICROSOFT || type != WPA_IE_TYPE)
            return true; /* another vendor's element: not ours to judge */
        return parse_suites(ie, OUI_MICROSOFT, &facts->wpa);
    }
    default:
        return true;
    }
}

/* Prism, AVS and plain 802.11 captures cannot say whether the frame ends
 * with its FCS, and some drivers (madwifi) keep it: a last "element" of 4
 * bytes or less that runs past the end is taken for that FCS. Never when
 * it claims to be an RSN or vendor element: a cut security element must
 * not read as a network without one. */
static bool is_unannounced_fcs(size_t left, uint8_t id)
{
    return left <= 4 && id != IE_RSN && id != IE_VENDOR;
}

/* Parses the fixed fields and elements of a beacon or probe response. */
static bool parse_beacon(struct reader body, struct beacon_facts *facts)
{
    memset(facts, 0, sizeof *facts);
    reader_skip(&body, 10); /* timestamp, beacon interval */
    const uint16_t capability = reader_le16(&body);
    if (body.failed)
        return false;
    facts->privacy = (capability & CAPABILITY_PRIVACY) != 0;
    while (reader_left(&body) > 0) {
        const size_t left = reader_left(&body);
        const uint8_t id = reader_u8(&body);
        const uint8_t length = reader_u8(&body);
        const struct reader ie = reader_sub(&body, length);
        if (body.failed && is_unannounced_fcs(left, id))
            break;
        if (body.failed || !read_element(id, ie, facts))
            return false;
    }
    return facts->ssid_seen;
}

/* Orders securities from weakest to strongest for "the weakest offered":
 * no encryption, broken encryption, unauthenticated encryption (OWE),
 * personal, enterprise. */
static int security_rank(enum wifi_security security)
{
    switch (security) {
    case WIFI_SECURITY_OPEN:
        return 0;
    case WIFI_SECURITY_WEP:
        return 1;
    case WIFI_SECURITY_WPA_TKIP:
        return 2;
    case WIFI_SECURITY_OWE:
        return 3;
    case WIFI_SECURITY_WPA2_PSK:
        return 4;
    case WIFI_SECURITY_WPA3_SAE:
        return 5;
    case WIFI_SECURITY_WPA2_ENTERPRISE:
        return 6;
    case WIFI_SECURITY_WPA3_ENTERPRISE:
        return 7;
    case WIFI_SECURITY_UNKNOWN:
    default:
        return 8;
    }
}

/* The security one RSN AKM gives, UNKNOWN for AKMs that are no way in
 * for a client (TDLS, PeerKey, PASN) or not known. */
static enum wifi_security akm_security(unsigned akm, bool pmf_required)
{
    switch (akm) {
    case 1:  /* 802.1X */
    case 3:  /* FT over 802.1X */
    case 14: /* FILS SHA-256 */
    case 15: /* FILS SHA-384 */
    case 16: /* FT over FILS SHA-256 */
    case 17: /* FT over FILS SHA-384 */
    case 22: /* FT over 802.1X SHA-384 */
    case 23: /* 802.1X SHA-384 */
        return WIFI_SECURITY_WPA2_ENTERPRISE;
    case 5: /* 802.1X SHA-256: WPA3-Enterprise when PMF is required */
        return pmf_required ? WIFI_SECURITY_WPA3_ENTERPRISE : WIFI_SECURITY_WPA2_ENTERPRISE;
    case 11: /* Suite B */
    case 12: /* Suite B 192-bit */
    case 13: /* FT over 802.1X SHA-384 (Suite B 192-bit) */
        return WIFI_SECURITY_WPA3_ENTERPRISE;
    case 2:  /* PSK */
    case 4:  /* FT over PSK */
    case 6:  /* PSK SHA-256 */
    case 19: /* FT over PSK SHA-384 */
    case 20: /* PSK SHA-384 */
        return WIFI_SECURITY_WPA2_PSK;
    case 8:  /* SAE */
    case 9:  /* FT over SAE */
    case 24: /* SAE with group-dependent hash */
    case 25: /* FT over SAE with group-dependent hash */
        return WIFI_SECURITY_WPA3_SAE;
    case 18:
        return WIFI_SECURITY_OWE;
    default:
        return WIFI_SECURITY_UNKNOWN;
    }
}

/* The weakest security the beacon offers: a client may pick any of the
 * AKMs, so a WPA2/WPA3 transition network is as weak as WPA2-PSK and a
 * WPA/WPA2 mixed one as weak as WPA. */
static enum wifi_security classify(const struct beacon_facts *facts)
{
    if (!facts->rsn.present && !facts->wpa.present)
        return facts->privacy ? WIFI_SECURITY_WEP : WIFI_SECURITY_OPEN;
    if (facts->wpa.present)
        return WIFI_SECURITY_WPA_TKIP;
    if (facts->rsn.pairwise_tkip && !facts->rsn.pairwise_strong)
        return WIFI_SECURITY_WPA_TKIP;
    enum wifi_security weakest = WIFI_SECURITY_UNKNOWN;
    for (unsigned akm = 0; akm < 32; akm++) {
        if ((facts->rsn.akm_suites & (1u << akm)) == 0)
            continue;
        const enum wifi_security security = akm_security(akm, facts->rsn.mfpr);
        if (security_rank(security) < security_rank(weakest))
            weakest = security;
    }
    return weakest;
}

/* A beacon or probe response: the network as the latest frame describes
 * it; a hidden SSID does not erase one a probe response revealed. */
static void on_network_frame(struct access_table *table, const struct ieee80211_header *header,
                             struct reader body, uint64_t ts_usec)
{
    struct beacon_facts facts;
    if (!parse_beacon(body, &facts) || !access_mac_is_station(&header->bssid)) {
        table->stats.malformed++;
        return;
    }
    struct wifi_network *network = access_network_touch(table, &header->bssid, ts_usec);
    if (network == NULL)
        return;
    if (facts.ssid[0] != '\0')
        memcpy(network->ssid, facts.ssid, sizeof network->ssid);
    const uint8_t channel = facts.channel != 0 ? facts.channel : facts.ht_channel;
    if (channel != 0)
        network->channel = channel;
    network->security = classify(&facts);
    network->akm_suites = facts.rsn.akm_suites;
    network->tkip = facts.rsn.tkip || facts.wpa.tkip;
    network->pmf_capable = facts.rsn.mfpc;
    network->pmf_required = facts.rsn.mfpr;
    if (header->subtype == IEEE80211_BEACON)
        network->beacons++;
    else
        network->probe_responses++;
}

/* (Re)association request: the station (sender) asks to join the BSSID.
 * Response: status 0 means the station (receiver) joined it. */
static void on_association(struct access_table *table, const struct ieee80211_header *header,
                           struct reader body, uint64_t ts_usec)
{
    const bool response = header->subtype == IEEE80211_ASSOC_RESPONSE ||
                          header->subtype == IEEE80211_REASSOC_RESPONSE;
    reader_skip(&body, 2); /* capability */
    const uint16_t status = response ? reader_le16(&body) : 0;
    if (body.failed) {
        table->stats.malformed++;
        return;
    }
    const struct mac_addr *mac = response ? &header->destination : &header->source;
    if (!access_mac_is_station(mac) || (response && status != 0))
        return;
    struct access_station *station = access_station_touch(table, mac, ACCESS_SOURCE_WIFI, ts_usec);
    if (station == NULL)
        return;
    station->bssid = header->bssid;
    if (response)
        station->associated = true;
}

/* The station side of a data frame: the receiver when the AP sends, the
 * sender when it receives; in an IBSS whoever is not the BSSID. NULL for
 * a 4-address (bridge) frame, which has no station. */
static const struct mac_addr *station_of(const struct ieee80211_header *header)
{
    if (header->to_ds && header->from_ds)
        return NULL;
    if (header->from_ds)
        return &header->destination;
    if (header->to_ds)
        return &header->source;
    if (memcmp(&header->transmitter, &header->bssid, sizeof header->bssid) == 0)
        return &header->receiver;
    return &header->transmitter;
}

/* An EAPOL frame: its EAP packet or key frame updates the station. */
static void on_eapol(struct access_table *table, const struct ieee80211_header *header,
                     struct reader body, uint64_t ts_usec)
{
    table->stats.eapol_frames++;
    reader_skip(&body, 1); /* protocol version */
    const uint8_t type = reader_u8(&body);
    const uint16_t length = reader_be16(&body);
    const struct reader packet = reader_sub(&body, length);
    if (body.failed) {
        table->stats.malformed++;
        return;
    }
    struct reader eap_bytes = packet;
    const size_t head_len =
        reader_left(&eap_bytes) < EAP_HEADER_BYTES ? reader_left(&eap_bytes) : EAP_HEADER_BYTES;
    const uint8_t *head = reader_bytes(&eap_bytes, head_len);
    struct eap_header eap = {0};
    if (type == EAPOL_TYPE_EAP && !eap_read_header(head, head_len, length, &eap)) {
        table->stats.malformed++;
        return;
    }
    const struct mac_addr *mac = station_of(header);
    if (mac == NULL || !access_mac_is_station(mac))
        return;
    struct access_station *station = access_station_touch(table, mac, ACCESS_SOURCE_WIFI, ts_usec);
    if (station == NULL)
        return;
    if (!access_mac_is_station(&station->bssid) && access_mac_is_station(&header->bssid))
        station->bssid = header->bssid;
    if (type == EAPOL_TYPE_KEY)
        station->eapol_key_seen = true;
    else if (type == EAPOL_TYPE_EAP)
        eap_apply(station, &eap);
}

static void on_management(struct access_table *table, const struct ieee80211_header *header,
                          struct reader body, uint64_t ts_usec)
{
    table->stats.management_frames++;
    if (header->protected_frame)
        return; /* a protected action or deauthentication frame: nothing readable */
    switch (header->subtype) {
    case IEEE80211_BEACON:
    case IEEE80211_PROBE_RESPONSE:
        on_network_frame(table, header, body, ts_usec);
        break;
    case IEEE80211_ASSOC_REQUEST:
    case IEEE80211_ASSOC_RESPONSE:
    case IEEE80211_REASSOC_REQUEST:
    case IEEE80211_REASSOC_RESPONSE:
        on_association(table, header, body, ts_usec);
        break;
    default:
        break;
    }
}

/* An unencrypted data frame: only EAPOL concerns this table; the IP it
 * may carry goes through decode_packet. */
static void on_data(struct access_table *table, const struct ieee80211_header *header,
                    struct reader body, uint64_t ts_usec)
{
    if (header->protected_frame || header->null_data || header->fragment || header->amsdu)
        return;
    uint16_t ethertype = 0;
    const enum ieee80211_status status = ieee80211_read_snap(&body, &ethertype);
    if (status == IEEE80211_MALFORMED)
        table->stats.malformed++;
    if (status == IEEE80211_OK && ethertype == IEEE80211_ETHERTYPE_EAPOL)
        on_eapol(table, header, body, ts_usec);
}

/* Feeds one frame of an 802.11 link type (see the contract). */
void access_inspect_wifi_frame(struct access_table *table, int dlt, const uint8_t *data,
                               uint32_t caplen, uint64_t ts_usec)
{
    if (table == NULL || data == NULL)
        return;
    struct reader frame = reader_make(data, caplen);
    bool data_pad = false;
    enum ieee80211_status status = ieee80211_strip_radio(dlt, &frame, &data_pad);
    struct ieee80211_header header;
    if (status == IEEE80211_OK)
        status = ieee80211_read_header(&frame, data_pad, &header);
    if (status == IEEE80211_MALFORMED)
        table->stats.malformed++;
    if (status != IEEE80211_OK)
        return;
    if (header.type == IEEE80211_TYPE_MANAGEMENT)
        on_management(table, &header, frame, ts_usec);
    else
        on_data(table, &header, frame, ts_usec);
}
