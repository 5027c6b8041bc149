/* ieee80211: the radio headers of monitor-mode captures and the 802.11 MAC
 * header, shared by decode (data frames into the IP view) and the access
 * inspector (management frames and EAPOL).
 *
 * Internal to the program. Every byte goes through util/reader.h; lengths
 * declared by the radio headers only ever shrink the frame, never grow it.
 * No allocation, no state. Header-only like util/reader.h: decode runs it
 * on every 802.11 frame. */
#ifndef FLUXAUDIT_UTIL_IEEE80211_H
#define FLUXAUDIT_UTIL_IEEE80211_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <pcap/dlt.h>

#include "fluxaudit/netaddr.h"
#include "util/reader.h"

enum ieee80211_status {
    IEEE80211_OK,
    IEEE80211_MALFORMED,   /* truncated or inconsistent radio/MAC header, bad FCS */
    IEEE80211_UNSUPPORTED, /* a well-formed frame this parser does not follow */
};

/* Frame types of the frame control field. */
enum { IEEE80211_TYPE_MANAGEMENT = 0, IEEE80211_TYPE_CONTROL = 1, IEEE80211_TYPE_DATA = 2 };

/* Management subtypes the access inspector reads. */
enum {
    IEEE80211_ASSOC_REQUEST = 0,
    IEEE80211_ASSOC_RESPONSE = 1,
    IEEE80211_REASSOC_REQUEST = 2,
    IEEE80211_REASSOC_RESPONSE = 3,
    IEEE80211_PROBE_RESPONSE = 5,
    IEEE80211_BEACON = 8,
};

enum { IEEE80211_ETHERTYPE_EAPOL = 0x888e };

/* One 802.11 MAC header (management or data frame). Addresses are mapped
 * per ToDS/FromDS: `source`/`destination` are the SA/DA, `bssid` is zero
 * for a 4-address (WDS) frame, which has none. */
struct ieee80211_header {
    uint8_t type; /* IEEE80211_TYPE_* */
    uint8_t subtype;
    bool to_ds;
    bool from_ds;
    bool protected_frame;        /* body encrypted (WEP/TKIP/CCMP/GCMP) */
    bool fragment;               /* a non-first fragment: the body is no LLC header */
    bool amsdu;                  /* QoS data carrying an A-MSDU */
    bool null_data;              /* a data subtype without a body (Null, QoS Null...) */
    struct mac_addr receiver;    /* address 1 */
    struct mac_addr transmitter; /* address 2 */
    struct mac_addr source;
    struct mac_addr destination;
    struct mac_addr bssid;
};

/* Radiotap: present bits of the first namespace and flags we honour. */
enum {
    IEEE80211_RADIOTAP_TSFT = 0x00000001,
    IEEE80211_RADIOTAP_FLAGS = 0x00000002,
    IEEE80211_RADIOTAP_EXT = 0x80000000,
    IEEE80211_RADIOTAP_F_DATAPAD = 0x20, /* padding between the MAC header and the body */
    IEEE80211_RADIOTAP_F_FCS = 0x10,     /* the frame ends with its FCS */
    IEEE80211_RADIOTAP_F_BADFCS = 0x40,  /* the FCS check failed: the bytes are corrupt */
    IEEE80211_RADIOTAP_HEADER_MIN = 8,
    IEEE80211_RADIOTAP_MAX_PRESENT_WORDS = 16, /* a chain of extended bitmaps is bounded */
};

/* PPI: the 802.11-Common field and its flags. */
enum {
    IEEE80211_PPI_HEADER_MIN = 8,
    IEEE80211_PPI_FLAG_ALIGNED = 0x01,
    IEEE80211_PPI_FIELD_80211_COMMON = 2,
    IEEE80211_PPI_COMMON_FCS = 0x0001,
    IEEE80211_PPI_COMMON_BADFCS = 0x0004,
    IEEE80211_PPI_DLT_IEEE802_11 = 105,
};

enum {
    IEEE80211_PRISM_HEADER_LEN = 144,
    IEEE80211_PRISM_HEADER_MAX = 1024,
    IEEE80211_AVS_MAGIC_MASK = 0xfffff000,
    IEEE80211_AVS_MAGIC = 0x80211000,
    IEEE80211_AVS_HEADER_MIN = 8,
};

enum { IEEE80211_FCS_LEN = 4 };

enum {
    IEEE80211_FC_TO_DS = 0x01,
    IEEE80211_FC_FROM_DS = 0x02,
    IEEE80211_FC_PROTECTED = 0x40,
    IEEE80211_FC_ORDER = 0x80, /* +HTC in QoS data and management frames */
    IEEE80211_SUBTYPE_QOS = 0x08,
    IEEE80211_SUBTYPE_NO_DATA = 0x04,
    IEEE80211_QOS_AMSDU = 0x0080,
    IEEE80211_SEQ_FRAGMENT_MASK = 0x000f,
};

/* Cuts the 4-byte FCS from the end of `frame`. */
static inline enum ieee80211_status ieee80211_drop_fcs(struct reader *frame)
{
    const size_t left = reader_left(frame);
    if (left < IEEE80211_FCS_LEN)
        return IEEE80211_MALFORMED;
    *frame = reader_sub(frame, left - IEEE80211_FCS_LEN);
    return IEEE80211_OK;
}

/* Reads the radiotap Flags field: it follows the bitmaps and, when TSFT is
 * present, the 8-byte TSFT aligned on 8 bytes from the header start. */
static inline bool ieee80211_radiotap_flags(struct reader header, size_t bitmap_words,
                                            uint32_t present, uint8_t *flags)
{
    *flags = 0;
    if ((present & IEEE80211_RADIOTAP_FLAGS) == 0)
        return true;
    size_t offset = 4 + 4 * bitmap_words;
    if (present & IEEE80211_RADIOTAP_TSFT)
        offset = (offset + 7) / 8 * 8 + 8;
    reader_skip(&header, offset);
    *flags = reader_u8(&header);
    return !header.failed;
}

/* Radiotap: version 0, pad, little-endian length, present bitmaps. */
static inline enum ieee80211_status ieee80211_strip_radiotap(struct reader *frame, bool *data_pad)
{
    struct reader peek = *frame;
    const uint8_t version = reader_u8(&peek);
    reader_skip(&peek, 1);
    const uint16_t length = reader_le16(&peek);
    if (peek.failed || version != 0 || length < IEEE80211_RADIOTAP_HEADER_MIN)
        return IEEE80211_MALFORMED;
    struct reader header = reader_sub(frame, length);
    if (header.failed)
        return IEEE80211_MALFORMED;

    struct reader bitmaps = header;
    reader_skip(&bitmaps, 4);
    const uint32_t present = reader_le32(&bitmaps);
    size_t words = 1;
    for (uint32_t word = present; (word & IEEE80211_RADIOTAP_EXT) != 0; words++) {
        if (words >= IEEE80211_RADIOTAP_MAX_PRESENT_WORDS)
            return IEEE80211_MALFORMED;
        word = reader_le32(&bitmaps);
    }
    uint8_t flags = 0;
    if (bitmaps.failed || !ieee80211_radiotap_flags(header, words, present, &flags))
        return IEEE80211_MALFORMED;
    if (flags & IEEE80211_RADIOTAP_F_BADFCS)
        return IEEE80211_MALFORMED;
    *data_pad = (flags & IEEE80211_RADIOTAP_F_DATAPAD) != 0;
    if (flags & IEEE80211_RADIOTAP_F_FCS)
        return ieee80211_drop_fcs(frame);
    return IEEE80211_OK;
}

/* Looks for the 802.11-Common field among the PPI fields for its FCS
 * flags; a field list cut short is tolerated (the header length bounds
 * the walk, and the fields are informational). */
static inline uint16_t ieee80211_ppi_common_flags(struct reader fields, bool aligned)
{
    while (reader_has(&fields, 4)) {
        const uint16_t type = reader_le16(&fields);
        const uint16_t length = reader_le16(&fields);
        struct reader field = reader_sub(&fields, length);
        if (field.failed)
            return 0;
        if (type == IEEE80211_PPI_FIELD_80211_COMMON) {
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
static inline enum ieee80211_status ieee80211_strip_ppi(struct reader *frame)
{
    struct reader peek = *frame;
    const uint8_t version = reader_u8(&peek);
    const uint8_t flags = reader_u8(&peek);
    const uint16_t length = reader_le16(&peek);
    const uint32_t dlt = reader_le32(&peek);
    if (peek.failed || version != 0 || length < IEEE80211_PPI_HEADER_MIN)
        return IEEE80211_MALFORMED;
    struct reader header = reader_sub(frame, length);
    if (header.failed)
        return IEEE80211_MALFORMED;
    if (dlt != IEEE80211_PPI_DLT_IEEE802_11)
        return IEEE80211_UNSUPPORTED;
    reader_skip(&header, IEEE80211_PPI_HEADER_MIN);
    const uint16_t common =
        ieee80211_ppi_common_flags(header, (flags & IEEE80211_PPI_FLAG_ALIGNED) != 0);
    if (common & IEEE80211_PPI_COMMON_BADFCS)
        return IEEE80211_MALFORMED;
    if (common & IEEE80211_PPI_COMMON_FCS)
        return ieee80211_drop_fcs(frame);
    return IEEE80211_OK;
}

/* AVS: magic/version and length, both big-endian. */
static inline enum ieee80211_status ieee80211_strip_avs(struct reader *frame)
{
    struct reader peek = *frame;
    reader_skip(&peek, 4);
    const uint32_t length = reader_be32(&peek);
    if (peek.failed || length < IEEE80211_AVS_HEADER_MIN)
        return IEEE80211_MALFORMED;
    reader_skip(frame, length);
    return frame->failed ? IEEE80211_MALFORMED : IEEE80211_OK;
}

static inline bool ieee80211_prism_length_plausible(uint32_t length)
{
    return length >= 8 && length <= IEEE80211_PRISM_HEADER_MAX;
}

/* Prism: message code and length in the capturing host's byte order
 * (usually 144); some drivers write an AVS header under this link type. */
static inline enum ieee80211_status ieee80211_strip_prism(struct reader *frame)
{
    struct reader peek = *frame;
    const uint32_t magic = reader_be32(&peek);
    struct reader length_peek = peek;
    const uint32_t length_le = reader_le32(&length_peek);
    const uint32_t length_be = reader_be32(&peek);
    if (peek.failed)
        return IEEE80211_MALFORMED;
    if ((magic & IEEE80211_AVS_MAGIC_MASK) == IEEE80211_AVS_MAGIC)
        return ieee80211_strip_avs(frame);
    uint32_t length = IEEE80211_PRISM_HEADER_LEN;
    if (ieee80211_prism_length_plausible(length_le))
        length = length_le;
    else if (ieee80211_prism_length_plausible(length_be))
        length = length_be;
    reader_skip(frame, length);
    return frame->failed ? IEEE80211_MALFORMED : IEEE80211_OK;
}

/* Strips the radio header of link type `dlt` (plain 802.11, radiotap,
 * PPI, Prism, AVS) from `frame`, which then covers the 802.11 frame
 * without its FCS when the radio header says one is present. `data_pad`
 * tells whether radiotap announced padding after the MAC header. Returns
 * IEEE80211_MALFORMED for a cut or inconsistent radio header or a frame
 * flagged with a bad FCS, IEEE80211_UNSUPPORTED for a PPI header that does
 * not carry 802.11 or a link type that is not 802.11. */
static inline enum ieee80211_status ieee80211_strip_radio(int dlt, struct reader *frame,
                                                          bool *data_pad)
{
    *data_pad = false;
    switch (dlt) {
    case DLT_IEEE802_11:
        return IEEE80211_OK;
    case DLT_IEEE802_11_RADIO:
        return ieee80211_strip_radiotap(frame, data_pad);
    case DLT_PPI:
        return ieee80211_strip_ppi(frame);
    case DLT_PRISM_HEADER:
        return ieee80211_strip_prism(frame);
    case DLT_IEEE802_11_RADIO_AVS:
        return ieee80211_strip_avs(frame);
    default:
        return IEEE80211_UNSUPPORTED;
    }
}

/* True for the five 802.11 link types ieee80211_strip_radio knows. */
static inline bool ieee80211_is_link_type(int dlt)
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
static inline void ieee80211_map_addresses(struct ieee80211_header *out,
                                           const struct mac_addr *addr3,
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

/* Reads the MAC header of a management or data frame from `frame`, leaving
 * it on the frame body (after the padding `data_pad` announces). Returns
 * IEEE80211_UNSUPPORTED for control and extension frames and an unknown
 * protocol version, IEEE80211_MALFORMED for a cut header. */
static inline enum ieee80211_status ieee80211_read_header(struct reader *frame, bool data_pad,
                                                          struct ieee80211_header *out)
{
    memset(out, 0, sizeof *out);
    const uint8_t fc0 = reader_u8(frame);
    const uint8_t fc1 = reader_u8(frame);
    if (frame->failed)
        return IEEE80211_MALFORMED;
    out->type = (fc0 >> 2) & 0x03;
    out->subtype = fc0 >> 4;
    if ((fc0 & 0x03) != 0 ||
        (out->type != IEEE80211_TYPE_MANAGEMENT && out->type != IEEE80211_TYPE_DATA))
        return IEEE80211_UNSUPPORTED;
    const bool data = out->type == IEEE80211_TYPE_DATA;
    out->to_ds = data && (fc1 & IEEE80211_FC_TO_DS) != 0;
    out->from_ds = data && (fc1 & IEEE80211_FC_FROM_DS) != 0;
    out->protected_frame = (fc1 & IEEE80211_FC_PROTECTED) != 0;

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
    const bool qos = data && (out->subtype & IEEE80211_SUBTYPE_QOS) != 0;
    if (qos) {
        out->amsdu = (reader_le16(frame) & IEEE80211_QOS_AMSDU) != 0;
        header_len += 2;
    }
    if ((qos || !data) && (fc1 & IEEE80211_FC_ORDER) != 0) {
        reader_skip(frame, 4); /* HT/VHT/HE control */
        header_len += 4;
    }
    if (data_pad && data)
        reader_skip(frame, (4 - header_len % 4) % 4);
    if (frame->failed)
        return IEEE80211_MALFORMED;
    out->fragment = (sequence & IEEE80211_SEQ_FRAGMENT_MASK) != 0;
    out->null_data = data && (out->subtype & IEEE80211_SUBTYPE_NO_DATA) != 0;
    ieee80211_map_addresses(out, &addr3, &addr4);
    return IEEE80211_OK;
}

/* Reads an LLC/SNAP header (AA AA 03, OUI 00-00-00 or 00-00-F8) and its
 * Ethernet type. Returns IEEE80211_UNSUPPORTED for another LLC,
 * IEEE80211_MALFORMED for a cut one. */
static inline enum ieee80211_status ieee80211_read_snap(struct reader *body, uint16_t *ethertype)
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

#endif
