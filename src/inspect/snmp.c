/* inspect/snmp: SNMP message version (RFC 3416, RFC 3412 msgVersion). */
#include "fluxaudit/inspect_snmp.h"

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
    /* version INTEGER: one byte 0 (v1), 1 (v2c) or 3 (v3) */
    if (reader_u8(&r) != 0x02 || reader_u8(&r) != 0x01)
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
