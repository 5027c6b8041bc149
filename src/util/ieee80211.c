/* ieee80211: radio headers (radiotap, PPI, Prism, AVS) and the 802.11 MAC
 * header over the bounded cursor.
 *
 * A radio header only ever shrinks the frame: its declared length must fit
 * in what was captured, and an FCS it announces is cut from the end. The
 * MAC header is read whole, then `failed` is checked once. */
#include "util/ieee80211.h"

#include <string.h>

#include <pcap/dlt.h>

/* Radiotap: present bits of the first namespace and flags we honour. */
enum {
    RADIOTAP_TSFT = 0x00000001,
    RADIOTAP_FLAGS = 0x00000002,
    RADIOTAP_EXT = 0x80000000,
    RADIOTAP_F_DATAPAD = 0x20, /* padding between the MAC header and the body */
    RADIOTAP_F_FCS = 0x10,     /* the frame ends with its FCS */
    RADIOTAP_F_BADFCS = 0x40,  /* the FCS check failed: the bytes are corrupt */
    RADIOTAP_HEADER_MIN = 8,
    RADIOTAP_MAX_PRESENT_WORDS = 16, /* a chain of extended bitmaps is bounded */
};

/* PPI: the 802.11-Common field and its flags. */
enum {
    PPI_HEADER_MIN = 8,
    PPI_FLAG_ALIGNED = 0x01,
    PPI_FIELD_80211_COMMON = 2,
    PPI_COMMON_FCS = 0x0001,
    PPI_COMMON_BADFCS = 0x0004,
    PPI_DLT_IEEE802_11 = 105,
};

enum {
    PRISM_HEADER_LEN = 144,
    PRISM_HEADER_MAX = 1024,
    AVS_MAGIC_MASK = 0xfffff000,
    AVS_MAGIC = 0x80211000,
    AVS_HEADER_MIN = 8,
};

enum { FCS_LEN = 4 };

enum {
    FC_TO_DS = 0x01,
    FC_FROM_DS = 0x02,
    FC_PROTECTED = 0x40,
    FC_ORDER = 0x80, /* +HTC in QoS data and management frames */
    SUBTYPE_QOS = 0x08,
    SUBTYPE_NO_DATA = 0x04,
    QOS_AMSDU = 0x0080,
    SEQ_FRAGMENT_MASK = 0x000f,
};

/* Cuts the 4-byte FCS from the end of `frame`. */
static enum ieee80211_status drop_fcs(struct reader *frame)
{
    const size_t left = reader_left(frame);
    if (left < FCS_LEN)
        return IEEE80211_MALFORMED;
    *frame = reader_sub(frame, left - FCS_LEN);
    return IEEE80211_OK;
}

/* Reads the radiotap Flags field: it follows the bitmaps and, when TSFT is
 * present, the 8-byte TSFT aligned on 8 bytes from the header start. */
static bool radiotap_flags(struct reader header, size_t bitmap_words, uint32_t present,
                           uint8_t *flags)
{
    *flags = 0;
    if ((present & RADIOTAP_FLAGS) == 0)
        return true;
    size_t offset = 4 + 4 * bitmap_words;
    if (present & RADIOTAP_TSFT)
        offset = (offset + 7) / 8 * 8 + 8;
    reader_skip(&header, offset);
    *flags = reader_u8(&header);
    return !header.failed;
}

/* Radiotap: version 0, pad, little-endian length, present bitmaps. */
static enum ieee80211_status strip_radiotap(struct reader *frame, bool *data_pad)
{
    struct reader peek = *frame;
    const uint8_t version = reader_u8(&peek);
    reader_skip(&peek, 1);
    const uint16_t length = reader_le16(&peek);
    if (peek.failed || version != 0 || length < RADIOTAP_HEADER_MIN)
        return IEEE80211_MALFORMED;
    struct reader header = reader_sub(frame, length);
    if (header.failed)
        return IEEE80211_MALFORMED;

    struct reader bitmaps = header;
    reader_skip(&bitmaps, 4);
    const uint32_t present = reader_le32(&bitmaps);
    size_t words = 1;
    for (uint32_t word = present; (word & RADIOTAP_EXT) != 0; words++) {
        if (words >= RADIOTAP_MAX_PRESENT_WORDS)
            return IEEE80211_MALFORMED;
        word = reader_le32(&bitmaps);
    }
    uint8_t flags = 0;
    if (bitmaps.failed || !radiotap_flags(header, words, present, &flags))
        return IEEE80211_MALFORMED;
    if (flags & RADIOTAP_F_BADFCS)
        return IEEE80211_MALFORMED;
    *data_pad = (flags & RADIOTAP_F_DATAPAD) != 0;
    if (flags & RADIOTAP_F_FCS)
        return drop_fcs(frame);
    return IEEE80211_OK;
}

/* Looks for the 802.11-Common field among the PPI fields for its FCS
 * flags; a field list cut short is tolerated (the header length bounds
 * the walk, and the fields are informational). */
static uint16_t ppi_common_flags(struct reader fields, bool aligned)
{
    while (reader_has(&fields, 4)) {
        const uint16_t type = reader_le16(&fields);
        const uint16_t length = reader_le16(&fields);
        struct reader field = reader_sub(&fields, length);
        if (field.failed)
            return 0;
        if (type == PPI_FIELD_80211_COMMON) {
            reader_skip(&field, 8); /* TSFT */
            const uint16_t flags = reader_le16(&field);
            return field.failed ? 0 : flags;
        }
        if (aligned)
            reader_skip(&fields, (4 - length % 4) % 4);
    }
    return 0;
}

/* PPI: version 0, flags, little-endian length, DLT of what follows. */
static enum ieee80211_status strip_ppi(struct reader *frame)
{
    struct reader peek = *frame;
    const uint8_t version = reader_u8(&peek);
    const uint8_t flags = reader_u8(&peek);
    const uint16_t length = reader_le16(&peek);
    const uint32_t dlt = reader_le32(&peek);
    if (peek.failed || version != 0 || length < PPI_HEADER_MIN)
        return IEEE80211_MALFORMED;
    struct reader header = reader_sub(frame, length);
    if (header.failed)
        return IEEE80211_MALFORMED;
    if (dlt != PPI_DLT_IEEE802_11)
        return IEEE80211_UNSUPPORTED;
    reader_skip(&header, PPI_HEADER_MIN);
    const uint16_t common = ppi_common_flags(header, (flags & PPI_FLAG_ALIGNED) != 0);
    if (common & PPI_COMMON_BADFCS)
        return IEEE80211_MALFORMED;
    if (common & PPI_COMMON_FCS)
        return drop_fcs(frame);
    return IEEE80211_OK;
}

/* AVS: magic/version and length, both big-endian. */
static enum ieee80211_status strip_avs(struct reader *frame)
{
    struct reader peek = *frame;
    reader_skip(&peek, 4);
    const uint32_t length = reader_be32(&peek);
    if (peek.failed || length < AVS_HEADER_MIN)
        return IEEE80211_MALFORMED;
    reader_skip(frame, length);
    return frame->failed ? IEEE80211_MALFORMED : IEEE80211_OK;
}

static bool prism_length_plausible(uint32_t length)
{
    return length >= 8 && length <= PRISM_HEADER_MAX;
}

/* Prism: message code and length in the capturing host's byte order
 * (usually 144); some drivers write an AVS header under this link type. */
static enum ieee80211_status strip_prism(struct reader *frame)
{
    struct reader peek = *frame;
    const uint32_t magic = reader_be32(&peek);
    struct reader length_peek = peek;
    const uint32_t length_le = reader_le32(&length_peek);
    const uint32_t length_be = reader_be32(&peek);
    if (peek.failed)
        return IEEE80211_MALFORMED;
    if ((magic & AVS_MAGIC_MASK) == AVS_MAGIC)
        return strip_avs(frame);
    uint32_t length = PRISM_HEADER_LEN;
    if (prism_length_plausible(length_le))
        length = length_le;
    else if (prism_length_plausible(length_be))
        length = length_be;
    reader_skip(frame, length);
    return frame->failed ? IEEE80211_MALFORMED : IEEE80211_OK;
}

/* Strips the radio header of `dlt` from `frame` (see the header). */
enum ieee80211_status ieee80211_strip_radio(int dlt, struct reader *frame, bool *data_pad)
{
    *data_pad = false;
    switch (dlt) {
    case DLT_IEEE802_11:
        return IEEE80211_OK;
    case DLT_IEEE802_11_RADIO:
        return strip_radiotap(frame, data_pad);
    case DLT_PPI:
        return strip_ppi(frame);
    case DLT_PRISM_HEADER:
        return strip_prism(frame);
    case DLT_IEEE802_11_RADIO_AVS:
        return strip_avs(frame);
    default:
        return IEEE80211_UNSUPPORTED;
    }
}

/* True for the 802.11 link types. */
bool ieee80211_is_link_type(int dlt)
{
    switch (dlt) {
    case DLT_IEEE802_11:
    case DLT_IEEE802_11_RADIO:
    case DLT_PPI:
    case DLT_PRISM_HEADER:
    case DLT_IEEE802_11_RADIO_AVS:
        return true;
    default:
        return false;
    }
}

/* Maps addresses 1-4 to SA/DA/BSSID per the DS bits (802.11 table 9-26). */
static void map_addresses(struct ieee80211_header *out, const struct mac_addr *addr3,
                          const struct mac_addr *addr4)
{
    const struct mac_addr *a1 = &out->receiver;
    const struct mac_addr *a2 = &out->transmitter;
    if (!out->to_ds && !out->from_ds) {
        out->destination = *a1;
        out->source = *a2;
        out->bssid = *addr3;
    } else if (!out->to_ds && out->from_ds) {
        out->destination = *a1;
        out->bssid = *a2;
        out->source = *addr3;
    } else if (out->to_ds && !out->from_ds) {
        out->bssid = *a1;
        out->source = *a2;
        out->destination = *addr3;
    } else {
        out->destination = *addr3;
        out->source = *addr4;
    }
}

/* Reads the MAC header (see the header). With `data_pad` (radiotap
 * DATAPAD) the header is followed by padding to a multiple of 4 bytes. */
enum ieee80211_status ieee80211_read_header(struct reader *frame, bool data_pad,
                                            struct ieee80211_header *out)
{
    memset(out, 0, sizeof *out);
    const uint8_t fc0 = reader_u8(frame);
    const uint8_t fc1 = reader_u8(frame);
    if (frame->failed)
        return IEEE80211_MALFORMED;
    out->type = (fc0 >> 2) & 0x03;
    out->subtype = fc0 >> 4;
    if ((fc0 & 0x03) != 0 || (out->type != IEEE80211_TYPE_MANAGEMENT &&
                              out->type != IEEE80211_TYPE_DATA))
        return IEEE80211_UNSUPPORTED;
    const bool data = out->type == IEEE80211_TYPE_DATA;
    out->to_ds = data && (fc1 & FC_TO_DS) != 0;
    out->from_ds = data && (fc1 & FC_FROM_DS) != 0;
    out->protected_frame = (fc1 & FC_PROTECTED) != 0;

    reader_skip(frame, 2); /* duration */
    reader_copy(frame, out->receiver.bytes, 6);
    reader_copy(frame, out->transmitter.bytes, 6);
    struct mac_addr addr3 = {{0}}, addr4 = {{0}};
    reader_copy(frame, addr3.bytes, 6);
    const uint16_t sequence = reader_le16(frame);
    size_t header_len = 24;
    if (out->to_ds && out->from_ds) {
        reader_copy(frame, addr4.bytes, 6);
        header_len += 6;
    }
    const bool qos = data && (out->subtype & SUBTYPE_QOS) != 0;
    if (qos) {
        out->amsdu = (reader_le16(frame) & QOS_AMSDU) != 0;
        header_len += 2;
    }
    if ((qos || !data) && (fc1 & FC_ORDER) != 0) {
        reader_skip(frame, 4); /* HT/VHT/HE control */
        header_len += 4;
    }
    if (data_pad && data)
        reader_skip(frame, (4 - header_len % 4) % 4);
    if (frame->failed)
        return IEEE80211_MALFORMED;
    out->fragment = (sequence & SEQ_FRAGMENT_MASK) != 0;
    out->null_data = data && (out->subtype & SUBTYPE_NO_DATA) != 0;
    map_addresses(out, &addr3, &addr4);
    return IEEE80211_OK;
}

/* Reads LLC/SNAP and the Ethernet type (see the header). */
enum ieee80211_status ieee80211_read_snap(struct reader *body, uint16_t *ethertype)
{
    *ethertype = 0;
    const uint8_t dsap = reader_u8(body);
    const uint8_t ssap = reader_u8(body);
    const uint8_t control = reader_u8(body);
    if (body->failed)
        return IEEE80211_MALFORMED;
    if (dsap != 0xaa || ssap != 0xaa || control != 0x03)
        return IEEE80211_UNSUPPORTED;
    const uint32_t oui = reader_be24(body);
    const uint16_t type = reader_be16(body);
    if (body->failed)
        return IEEE80211_MALFORMED;
    if (oui != 0x000000 && oui != 0x0000f8)
        return IEEE80211_UNSUPPORTED;
    *ethertype = type;
    return IEEE80211_OK;
}
