/* radius: 802.1X seen from the wired side (RFC 2865, 2869, 3579).
 *
 * An Access-Request names the device (Calling-Station-Id) and carries its
 * EAP Response; the server's Access-Challenge carries the EAP Request
 * (the methods it offers) and Access-Accept/Reject the outcome. Answers
 * carry no Calling-Station-Id: they are paired with their request by
 * (NAS address, identifier) through a small ring of pending requests.
 *
 * Two attributes are read: Calling-Station-Id and EAP-Message (its first
 * bytes only). User-Password, CHAP, the authenticators and everything else
 * are skipped unread. */
#include <string.h>

#include "inspect/access_internal.h"
#include "util/hex.h"
#include "util/reader.h"

enum {
    RADIUS_ACCESS_REQUEST = 1,
    RADIUS_ACCESS_ACCEPT = 2,
    RADIUS_ACCESS_REJECT = 3,
    RADIUS_ACCESS_CHALLENGE = 11,
    RADIUS_HEADER_LEN = 20,
    RADIUS_MAX_LEN = 4096,
    ATTR_CALLING_STATION_ID = 31,
    ATTR_EAP_MESSAGE = 79,
};

/* What the attributes of one message hold. */
struct radius_facts {
    bool has_mac;
    struct mac_addr mac;
    size_t eap_len;                     /* bytes of all EAP-Message attributes */
    uint8_t eap_head[EAP_HEADER_BYTES]; /* their first bytes, concatenated */
    size_t eap_head_len;
};

/* True if character `at` of a MAC text of `length` characters must be a
 * separator: "aa-bb-cc-dd-ee-ff"/"aa:bb:..." (17), "aabb.ccdd.eeff" or
 * "aabb-ccdd-eeff" (14), "aabbccddeeff" (12). */
static bool is_separator_position(size_t length, size_t at)
{
    if (length == 17)
        return at % 3 == 2;
    if (length == 14)
        return at == 4 || at == 9;
    return false;
}

/* Parses a Calling-Station-Id holding a MAC in one of the usual text
 * forms; anything else (a phone number, an IP address) is not a MAC. */
static bool parse_mac_text(struct reader value, struct mac_addr *out)
{
    const size_t length = reader_left(&value);
    if (length != 12 && length != 14 && length != 17)
        return false;
    uint8_t separator = 0;
    size_t digits = 0;
    memset(out, 0, sizeof *out);
    for (size_t at = 0; at < length; at++) {
        const uint8_t c = reader_u8(&value);
        if (is_separator_position(length, at)) {
            const bool allowed = length == 17 ? c == ':' || c == '-' : c == '.' || c == '-';
            if (!allowed || (separator != 0 && c != separator))
                return false;
            separator = c;
            continue;
        }
        const int nibble = hex_digit_value(c);
        if (nibble < 0)
            return false;
        out->bytes[digits / 2] = (uint8_t)(out->bytes[digits / 2] << 4 | nibble);
        digits++;
    }
    return !value.failed && digits == 12;
}

/* Appends one EAP-Message fragment: its length counts in full, its bytes
 * only up to the header the EAP reader needs. */
static void add_eap_fragment(struct reader value, struct radius_facts *facts)
{
    facts->eap_len += reader_left(&value);
    while (facts->eap_head_len < sizeof facts->eap_head && reader_has(&value, 1))
        facts->eap_head[facts->eap_head_len++] = reader_u8(&value);
}

/* Walks the attributes. Returns false for a length below 2 or one that
 * runs past the message. */
static bool read_attributes(struct reader attributes, struct radius_facts *facts)
{
    memset(facts, 0, sizeof *facts);
    while (reader_left(&attributes) > 0) {
        const uint8_t type = reader_u8(&attributes);
        const uint8_t length = reader_u8(&attributes);
        if (attributes.failed || length < 2)
            return false;
        const struct reader value = reader_sub(&attributes, (size_t)length - 2);
        if (attributes.failed)
            return false;
        if (type == ATTR_CALLING_STATION_ID && !facts->has_mac)
            facts->has_mac = parse_mac_text(value, &facts->mac);
        else if (type == ATTR_EAP_MESSAGE)
            add_eap_fragment(value, facts);
    }
    return true;
}

static bool same_request(const struct access_radius_pending *pending, const struct net_addr *nas,
                         uint8_t identifier)
{
    return pending->used && pending->identifier == identifier &&
           net_addr_compare(&pending->nas, nas) == 0;
}

/* Remembers which MAC the request (nas, identifier) was about; a retry
 * reuses its slot, a new request takes the oldest. */
static void pending_put(struct access_table *table, const struct net_addr *nas, uint8_t identifier,
                        const struct mac_addr *mac)
{
    struct access_radius_pending *slot = NULL;
    for (size_t i = 0; i < ACCESS_RADIUS_PENDING && slot == NULL; i++) {
        if (same_request(&table->pending[i], nas, identifier))
            slot = &table->pending[i];
    }
    if (slot == NULL) {
        slot = &table->pending[table->pending_next];
        table->pending_next = (table->pending_next + 1) % ACCESS_RADIUS_PENDING;
    }
    slot->used = true;
    slot->identifier = identifier;
    slot->nas = *nas;
    slot->mac = *mac;
}

/* The MAC of the request an answer to `nas` with `identifier` is for;
 * a final answer (`take`) frees the slot. */
static bool pending_find(struct access_table *table, const struct net_addr *nas, uint8_t identifier,
                         bool take, struct mac_addr *mac)
{
    for (size_t i = 0; i < ACCESS_RADIUS_PENDING; i++) {
        struct access_radius_pending *pending = &table->pending[i];
        if (!same_request(pending, nas, identifier))
            continue;
        *mac = pending->mac;
        if (take)
            pending->used = false;
        return true;
    }
    return false;
}

/* Applies the EAP packet the message carried, if any; an inconsistent
 * one is counted and ignored. */
static void apply_eap(struct access_table *table, struct access_station *station,
                      const struct radius_facts *facts)
{
    if (facts->eap_len == 0)
        return;
    struct eap_header eap;
    if (!eap_read_header(facts->eap_head, facts->eap_head_len, facts->eap_len, &eap)) {
        table->stats.malformed++;
        return;
    }
    eap_apply(station, &eap);
}

/* Finds the station a message is about: the Calling-Station-Id of a
 * request (which becomes pending), the pending request of an answer. */
static struct access_station *message_station(struct access_table *table, uint8_t code,
                                              uint8_t identifier, const struct net_addr *src,
                                              const struct net_addr *dst,
                                              const struct radius_facts *facts, uint64_t ts_usec)
{
    struct mac_addr mac;
    if (code == RADIUS_ACCESS_REQUEST) {
        if (!facts->has_mac || !access_mac_is_station(&facts->mac))
            return NULL;
        mac = facts->mac;
        pending_put(table, src, identifier, &mac);
    } else if (!pending_find(table, dst, identifier, code != RADIUS_ACCESS_CHALLENGE, &mac)) {
        return NULL;
    }
    struct access_station *station =
        access_station_touch(table, &mac, ACCESS_SOURCE_RADIUS, ts_usec);
    if (station != NULL && code == RADIUS_ACCESS_REQUEST)
        station->nas = *src;
    return station;
}

/* Feeds the payload of one RADIUS datagram (see the contract). */
void access_inspect_radius(struct access_table *table, const struct net_addr *src,
                           const struct net_addr *dst, const uint8_t *payload, uint32_t len,
                           uint64_t ts_usec)
{
    if (table == NULL || payload == NULL)
        return;
    static const struct net_addr no_address;
    src = src != NULL ? src : &no_address;
    dst = dst != NULL ? dst : &no_address;
    struct reader r = reader_make(payload, len);
    const uint8_t code = reader_u8(&r);
    const uint8_t identifier = reader_u8(&r);
    const uint16_t length = reader_be16(&r);
    if (r.failed || length < RADIUS_HEADER_LEN || length > RADIUS_MAX_LEN || length > len) {
        table->stats.malformed++;
        return;
    }
    reader_skip(&r, 16); /* authenticator */
    const struct reader attributes = reader_sub(&r, length - RADIUS_HEADER_LEN);
    struct radius_facts facts;
    if (r.failed || !read_attributes(attributes, &facts)) {
        table->stats.malformed++;
        return;
    }
    table->stats.radius_messages++;
    if (code != RADIUS_ACCESS_REQUEST && code != RADIUS_ACCESS_ACCEPT &&
        code != RADIUS_ACCESS_REJECT && code != RADIUS_ACCESS_CHALLENGE)
        return; /* accounting, CoA...: not an authentication step */
    struct access_station *station =
        message_station(table, code, identifier, src, dst, &facts, ts_usec);
    if (station == NULL)
        return;
    apply_eap(table, station, &facts);
    if (code == RADIUS_ACCESS_ACCEPT)
        station->eap_result = 1;
    else if (code == RADIUS_ACCESS_REJECT)
        station->eap_result = 0;
}
