/* inspect/snmp: SNMP message version (RFC 3416, RFC 3412 msgVersion) and
 * the v1/v2c community as a credential fact (RFC 1157, RFC 1901). The
 * community is compared in place, inside the caller's packet bytes, and
 * never copied. */
#include "fluxaudit/inspect_snmp.h"

#include <string.h>

#include "util/reader.h"

/* Reads a BER length (short form, or long form on 1-2 bytes); returns
 * false for anything else. */
static bool read_ber_length(struct reader *r, uint32_t *out)
{
    uint8_t first = reader_u8(r);
    if (first < 0x80) {
        *out = first;
        return !r->failed;
    }
    if (first == 0x81) {
        *out = reader_u8(r);
        return !r->failed;
    }
    if (first == 0x82) {
        *out = reader_be16(r);
        return !r->failed;
    }
    return false;
}

uint8_t snmp_message_version(const uint8_t *payload, uint32_t len)
{
    struct reader r = reader_make(payload, len);
    uint32_t length;
    if (reader_u8(&r) != 0x30 || !read_ber_length(&r, &length) || length > reader_left(&r))
        return 0;
    /* version INTEGER: tag 0x02, length 1, one byte 0 (v1), 1 (v2c) or 3 (v3).
     * Tag and length are two successive bytes, read in order. */
    const uint8_t tag = reader_u8(&r);
    const uint8_t size = reader_u8(&r);
    if (tag != 0x02 || size != 0x01)
        return 0;
    uint8_t version = reader_u8(&r);
    if (r.failed)
        return 0;
    switch (version) {
    case 0:
        return 1;
    case 1:
        return 2;
    case 3:
        return 3;
    default:
        return 0;
    }
}

/* Reads one BER element with `tag`; returns a reader over its content
 * (failed, like `r`, if the element is not there whole). */
static struct reader read_element(struct reader *r, uint8_t tag)
{
    uint32_t length = 0;
    if (reader_u8(r) != tag || !read_ber_length(r, &length))
        r->failed = true;
    return reader_sub(r, r->failed ? 0 : length);
}

/* Reads a small INTEGER (1 to 4 bytes, unsigned view is enough here). */
static uint32_t read_small_integer(struct reader *r)
{
    struct reader value = read_element(r, 0x02);
    const size_t len = reader_left(&value);
    if (r->failed || len == 0 || len > 4) {
        r->failed = true;
        return 0;
    }
    uint32_t result = 0;
    for (size_t i = 0; i < len; i++)
        result = (result << 8) | reader_u8(&value);
    return result;
}

/* Merges one community event into the flow's credential facts. */
static void record_community(struct credential_facts *facts, bool is_default, int8_t accepted)
{
    struct credential_fact *item = NULL;
    for (uint8_t i = 0; i < facts->count && i < FACT_CREDENTIALS_MAX; i++) {
        struct credential_fact *candidate = &facts->items[i];
        if (strcmp(candidate->protocol, "SNMP") == 0 &&
            strcmp(candidate->method, "community") == 0 && candidate->masked_user[0] == '\0' &&
            candidate->kind == CREDENTIAL_COMMUNITY) {
            item = candidate;
            break;
        }
    }
    if (item == NULL) {
        if (facts->count >= FACT_CREDENTIALS_MAX) {
            if (facts->dropped < UINT32_MAX)
                facts->dropped++;
            return;
        }
        item = &facts->items[facts->count++];
        memset(item, 0, sizeof(*item));
        strcpy(item->protocol, "SNMP");
        strcpy(item->method, "community");
        item->kind = CREDENTIAL_COMMUNITY;
        item->accepted = -1;
    } else if (item->count < UINT32_MAX) {
        item->count++;
        item->default_credential = item->default_credential || is_default;
        if (accepted == 1)
            item->accepted = 1;
        return;
    }
    item->count = 1;
    item->default_credential = is_default;
    item->accepted = accepted;
}

void snmp_inspect_message(const uint8_t *payload, uint32_t len, int direction,
                          const struct default_credentials *defaults,
                          struct credential_facts *facts)
{
    if (facts == NULL)
        return;
    struct reader r = reader_make(payload, len);
    struct reader message = read_element(&r, 0x30);
    const uint32_t version = read_small_integer(&message);
    struct reader community = read_element(&message, 0x04);
    const uint8_t pdu_tag = reader_peek(&message, 0);
    struct reader pdu = read_element(&message, pdu_tag);
    if (message.failed || version > 1 || pdu_tag < 0xa0 || pdu_tag > 0xa8)
        return;
    int8_t accepted = -1;
    if (pdu_tag != 0xa4) { /* every PDU but the v1 Trap starts with request-id, error-status */
        (void)read_small_integer(&pdu);
        const uint32_t error_status = read_small_integer(&pdu);
        if (pdu.failed)
            return;
        if (pdu_tag == 0xa2 && error_status == 0 && direction == 1)
            accepted = 1;
    }
    const size_t community_len = reader_left(&community);
    const char *text = (const char *)reader_bytes(&community, community_len);
    const bool is_default = default_credentials_match_community(defaults, text, community_len);
    record_community(facts, is_default, accepted);
}
