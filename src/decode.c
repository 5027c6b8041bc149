/* decode: one captured frame -> a protocol-agnostic L2-L4 view.
 *
 * Layout: one small function per header (link layers, VLAN tags, IPv4,
 * IPv6 and its extension headers, TCP/UDP/ICMP; 802.11 data frames through
 * util/ieee80211). Every byte goes through
 * the bounded cursor of util/reader.h: a function reads its whole fixed
 * header, checks the sticky `failed` flag once and returns
 * DECODE_MALFORMED if the header was cut short. Lengths declared on the
 * wire only ever shrink a sub-reader (min of declared and captured), never
 * grow it. No allocation, no globals: this is the hottest path of the
 * program. */
#include "fluxaudit/decode.h"

#include <string.h>

#include <pcap/dlt.h>

#include "util/ieee80211.h"
#include "util/reader.h"

/* LINKTYPE_RAW as stored in pcap files; libpcap normally maps it to DLT_RAW
 * but a caller may hand us the file's value unmapped. */
#define DECODE_LINKTYPE_RAW 101

/* Bounds on header chains an attacker controls. */
#define DECODE_MAX_VLAN_TAGS 8
#define DECODE_MAX_IPV6_EXT_HEADERS 16

enum {
    ETHERTYPE_IPV4 = 0x0800,
    ETHERTYPE_IPV6 = 0x86dd,
    ETHERTYPE_VLAN = 0x8100,
    ETHERTYPE_QINQ = 0x88a8,
    ETHERTYPE_QINQ_OLD = 0x9100,
    ETHERTYPE_MIN = 0x0600, /* below: an 802.3 length field, not a type */
};

enum {
    IPV6_EXT_HOP_BY_HOP = 0,
    IPV6_EXT_ROUTING = 43,
    IPV6_EXT_FRAGMENT = 44,
    IPV6_EXT_AH = 51,
    IPV6_EXT_DEST_OPTS = 60,
};

enum {
    BSD_AF_INET = 2,
    BSD_AF_INET6_BSD = 24,     /* NetBSD, OpenBSD */
    BSD_AF_INET6_FREEBSD = 28, /* FreeBSD, DragonFly */
    BSD_AF_INET6_DARWIN = 30,  /* macOS */
};

enum { IPV4_FLAG_MF = 0x2000, IPV4_OFFSET_MASK = 0x1fff };
enum { IPV6_FRAG_OFFSET_MASK = 0xfff8, IPV6_FRAG_MF = 0x0001 };

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* Sets the L4 payload to everything left in `l4` (already clipped to the
 * datagram) and reports success. */
static enum decode_status set_payload(struct reader *l4, struct decoded_packet *out)
{
    const size_t left = reader_left(l4);
    out->payload = reader_bytes(l4, left);
    out->payload_len = (uint32_t)left;
    return DECODE_OK;
}

/* Decodes a TCP header; options are skipped as part of the data offset. */
static enum decode_status decode_tcp(struct reader *l4, struct decoded_packet *out)
{
    out->src_port = reader_be16(l4);
    out->dst_port = reader_be16(l4);
    out->tcp_seq = reader_be32(l4);
    out->tcp_ack = reader_be32(l4);
    const uint8_t data_offset = reader_u8(l4) >> 4;
    out->tcp_flags = reader_u8(l4);
    reader_skip(l4, 6); /* window, checksum, urgent pointer */
    if (l4->failed || data_offset < 5)
        return DECODE_MALFORMED;
    reader_skip(l4, (size_t)(data_offset - 5) * 4);
    if (l4->failed)
        return DECODE_MALFORMED;
    return set_payload(l4, out);
}

/* Decodes a UDP header; a length field below what was captured trims the
 * payload (it may be followed by padding), one below 8 is inconsistent. */
static enum decode_status decode_udp(struct reader *l4, struct decoded_packet *out)
{
    out->src_port = reader_be16(l4);
    out->dst_port = reader_be16(l4);
    const uint16_t length = reader_be16(l4);
    reader_skip(l4, 2); /* checksum */
    if (l4->failed || length < 8)
        return DECODE_MALFORMED;
    struct reader body = reader_sub(l4, min_size(reader_left(l4), (size_t)length - 8));
    return set_payload(&body, out);
}

/* Decodes the type/code/checksum common to ICMP and ICMPv6; the rest of the
 * message (identifier, sequence, data) is the payload. */
static enum decode_status decode_icmp(struct reader *l4, struct decoded_packet *out)
{
    out->src_port = reader_u8(l4);
    out->dst_port = reader_u8(l4);
    reader_skip(l4, 2);
    if (l4->failed)
        return DECODE_MALFORMED;
    return set_payload(l4, out);
}

/* Dispatches on the upper-layer protocol. Protocols without ports (ESP,
 * GRE, no-next-header...) are fine: ports stay 0 and the payload is the
 * whole upper-layer message. */
static enum decode_status decode_transport(struct reader *l4, struct decoded_packet *out)
{
    switch (out->ip_proto) {
    case IP_PROTO_TCP:
        return decode_tcp(l4, out);
    case IP_PROTO_UDP:
        return decode_udp(l4, out);
    case IP_PROTO_ICMP:
    case IP_PROTO_ICMPV6:
        return decode_icmp(l4, out);
    default:
        return set_payload(l4, out);
    }
}

/* Decodes an IPv4 header and what it carries. The datagram is clipped to
 * min(captured, total length): a snaplen cut is fine, Ethernet padding is
 * dropped. */
static enum decode_status decode_ipv4(struct reader *r, struct decoded_packet *out)
{
    struct reader hdr = *r; /* peek the fixed header before clipping */
    const uint8_t version_ihl = reader_u8(&hdr);
    reader_skip(&hdr, 1); /* DSCP/ECN */
    const uint16_t total_len = reader_be16(&hdr);
    reader_skip(&hdr, 2); /* identification */
    const uint16_t frag = reader_be16(&hdr);
    reader_skip(&hdr, 1); /* TTL */
    const uint8_t proto = reader_u8(&hdr);
    reader_skip(&hdr, 2); /* checksum */
    const uint8_t *src = reader_bytes(&hdr, 4);
    const uint8_t *dst = reader_bytes(&hdr, 4);
    if (hdr.failed || (version_ihl >> 4) != 4)
        return DECODE_MALFORMED;
    const size_t header_len = (size_t)(version_ihl & 0x0f) * 4;
    if (header_len < 20 || total_len < header_len)
        return DECODE_MALFORMED;

    const size_t l3_len = min_size(reader_left(r), total_len);
    out->l3 = r->pos;
    out->l3_len = (uint32_t)l3_len;
    struct reader datagram = reader_sub(r, l3_len);
    reader_skip(&datagram, header_len); /* fixed header and options */
    if (datagram.failed)
        return DECODE_MALFORMED;

    out->src.family = 4;
    memcpy(out->src.bytes, src, 4);
    out->dst.family = 4;
    memcpy(out->dst.bytes, dst, 4);
    out->ip_proto = proto;
    const uint16_t offset = frag & IPV4_OFFSET_MASK;
    out->is_fragment = offset != 0 || (frag & IPV4_FLAG_MF) != 0;
    if (offset != 0)
        return DECODE_FRAGMENT;
    return decode_transport(&datagram, out);
}

/* Walks the IPv6 extension headers up to the upper-layer protocol, stored
 * in out->ip_proto. Returns DECODE_FRAGMENT for a non-first fragment and
 * DECODE_MALFORMED for a cut header or a chain longer than the bound. */
static enum decode_status skip_ipv6_extensions(struct reader *body, uint8_t next,
                                               struct decoded_packet *out)
{
    for (int count = 0;; count++) {
        out->ip_proto = next;
        const bool is_extension = next == IPV6_EXT_HOP_BY_HOP || next == IPV6_EXT_ROUTING ||
                                  next == IPV6_EXT_DEST_OPTS || next == IPV6_EXT_FRAGMENT ||
                                  next == IPV6_EXT_AH;
        if (!is_extension)
            return DECODE_OK;
        if (count >= DECODE_MAX_IPV6_EXT_HEADERS)
            return DECODE_MALFORMED;
        next = reader_u8(body);
        const uint8_t length = reader_u8(body);
        if (out->ip_proto == IPV6_EXT_FRAGMENT) {
            const uint16_t offset_flags = reader_be16(body);
            reader_skip(body, 4); /* identification */
            if (body->failed)
                return DECODE_MALFORMED;
            /* An atomic fragment (offset 0, no M flag) is a whole datagram. */
            out->is_fragment = (offset_flags & (IPV6_FRAG_OFFSET_MASK | IPV6_FRAG_MF)) != 0;
            if ((offset_flags & IPV6_FRAG_OFFSET_MASK) != 0) {
                out->ip_proto = next;
                return DECODE_FRAGMENT;
            }
            continue;
        }
        /* AH counts 4-byte units minus 2; the others 8-byte units minus 1.
         * The two bytes already read are part of the length. */
        const size_t total =
            out->ip_proto == IPV6_EXT_AH ? ((size_t)length + 2) * 4 : ((size_t)length + 1) * 8;
        reader_skip(body, total - 2);
        if (body->failed)
            return DECODE_MALFORMED;
    }
}

/* Decodes an IPv6 header, its extension headers and what they carry. A
 * payload length of 0 (jumbogram, or segmentation offload) means "what
 * was captured". */
static enum decode_status decode_ipv6(struct reader *r, struct decoded_packet *out)
{
    struct reader hdr = *r;
    const uint8_t version = reader_u8(&hdr) >> 4;
    reader_skip(&hdr, 3); /* traffic class, flow label */
    const uint16_t payload_len = reader_be16(&hdr);
    const uint8_t next = reader_u8(&hdr);
    reader_skip(&hdr, 1); /* hop limit */
    const uint8_t *src = reader_bytes(&hdr, 16);
    const uint8_t *dst = reader_bytes(&hdr, 16);
    if (hdr.failed || version != 6)
        return DECODE_MALFORMED;

    const size_t body_left = reader_left(&hdr);
    const size_t body_len = payload_len == 0 ? body_left : min_size(body_left, payload_len);
    out->l3 = r->pos;
    out->l3_len = (uint32_t)(40 + body_len);
    struct reader datagram = reader_sub(r, 40 + body_len);
    reader_skip(&datagram, 40);

    out->src.family = 6;
    memcpy(out->src.bytes, src, 16);
    out->dst.family = 6;
    memcpy(out->dst.bytes, dst, 16);
    const enum decode_status status = skip_ipv6_extensions(&datagram, next, out);
    if (status != DECODE_OK)
        return status;
    return decode_transport(&datagram, out);
}

/* Dispatches on an Ethernet type after unwrapping any 802.1Q/802.1ad tags
 * (at most DECODE_MAX_VLAN_TAGS, innermost id kept). */
static enum decode_status decode_ethertype(struct reader *r, uint16_t type,
                                           struct decoded_packet *out)
{
    for (int tags = 0; type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ ||
                       type == ETHERTYPE_QINQ_OLD;
         tags++) {
        if (tags >= DECODE_MAX_VLAN_TAGS)
            return DECODE_MALFORMED;
        const uint16_t tci = reader_be16(r);
        type = reader_be16(r);
        if (r->failed)
            return DECODE_MALFORMED;
        out->vlan = tci & 0x0fff;
    }
    switch (type) {
    case ETHERTYPE_IPV4:
        return decode_ipv4(r, out);
    case ETHERTYPE_IPV6:
        return decode_ipv6(r, out);
    default:
        return DECODE_NOT_IP; /* ARP, LLDP, 802.3 length + LLC, ... */
    }
}

/* Ethernet II / 802.3: destination, source, type or length. */
static enum decode_status decode_ethernet(struct reader *r, struct decoded_packet *out)
{
    reader_copy(r, out->dst_mac.bytes, 6);
    reader_copy(r, out->src_mac.bytes, 6);
    const uint16_t type = reader_be16(r);
    if (r->failed)
        return DECODE_MALFORMED;
    out->has_mac = true;
    if (type < ETHERTYPE_MIN)
        return DECODE_NOT_IP; /* 802.3 length field: LLC follows */
    return decode_ethertype(r, type, out);
}

/* Keeps the link-layer source address of a cooked capture when it is a
 * MAC; the destination is unknown there and stays zero. */
static void set_cooked_source(const uint8_t *address, uint16_t address_len,
                              struct decoded_packet *out)
{
    if (address_len != 6)
        return;
    memcpy(out->src_mac.bytes, address, 6);
    out->has_mac = true;
}

/* Linux cooked v1: packet type, ARPHRD type, address length, 8 address
 * bytes, protocol. */
static enum decode_status decode_linux_sll(struct reader *r, struct decoded_packet *out)
{
    reader_skip(r, 4); /* packet type, ARPHRD type */
    const uint16_t address_len = reader_be16(r);
    const uint8_t *address = reader_bytes(r, 8);
    const uint16_t protocol = reader_be16(r);
    if (r->failed)
        return DECODE_MALFORMED;
    set_cooked_source(address, address_len, out);
    return decode_ethertype(r, protocol, out);
}

/* Linux cooked v2: protocol, reserved, interface index, ARPHRD type, packet
 * type, address length, 8 address bytes. */
static enum decode_status decode_linux_sll2(struct reader *r, struct decoded_packet *out)
{
    const uint16_t protocol = reader_be16(r);
    reader_skip(r, 9); /* reserved, interface index, ARPHRD type, packet type */
    const uint8_t address_len = reader_u8(r);
    const uint8_t *address = reader_bytes(r, 8);
    if (r->failed)
        return DECODE_MALFORMED;
    set_cooked_source(address, address_len, out);
    return decode_ethertype(r, protocol, out);
}

/* Raw IP: the version nibble tells IPv4 from IPv6. */
static enum decode_status decode_raw(struct reader *r, struct decoded_packet *out)
{
    if (!reader_has(r, 1))
        return DECODE_MALFORMED;
    switch (reader_peek(r, 0) >> 4) {
    case 4:
        return decode_ipv4(r, out);
    case 6:
        return decode_ipv6(r, out);
    default:
        return DECODE_MALFORMED;
    }
}

static bool is_bsd_inet6(uint32_t family)
{
    return family == BSD_AF_INET6_BSD || family == BSD_AF_INET6_FREEBSD ||
           family == BSD_AF_INET6_DARWIN;
}

/* BSD loopback (NULL: host order of the capturing machine, LOOP: network
 * order). The capturing host's byte order is unknown, so both orders are
 * accepted for both; the values cannot collide. */
static enum decode_status decode_bsd_loopback(struct reader *r, struct decoded_packet *out)
{
    struct reader peek = *r;
    const uint32_t family_le = reader_le32(&peek);
    const uint32_t family_be = reader_be32(r);
    if (r->failed)
        return DECODE_MALFORMED;
    if (family_le == BSD_AF_INET || family_be == BSD_AF_INET)
        return decode_ipv4(r, out);
    if (is_bsd_inet6(family_le) || is_bsd_inet6(family_be))
        return decode_ipv6(r, out);
    return DECODE_NOT_IP;
}

/* Maps a failure of the 802.11 layer: a cut header is malformed, a frame
 * the 802.11 parser does not follow is counted as not decoded. */
static enum decode_status wifi_status(enum ieee80211_status status)
{
    return status == IEEE80211_MALFORMED ? DECODE_MALFORMED : DECODE_NOT_DECODED;
}

/* 802.11 behind its radio header: an unencrypted data frame carrying
 * LLC/SNAP goes on as Ethernet would, with SA/DA as its MACs. Management,
 * control and protected frames are not decoded here (the access inspector
 * reads the management frames); an EAPOL or other non-IP payload is
 * DECODE_NOT_IP. Fragments and A-MSDUs need reassembly or unpacking this
 * decoder does not do. */
static enum decode_status decode_ieee80211(int dlt, struct reader *r, struct decoded_packet *out)
{
    bool data_pad = false;
    enum ieee80211_status status = ieee80211_strip_radio(dlt, r, &data_pad);
    if (status != IEEE80211_OK)
        return wifi_status(status);
    struct ieee80211_header header;
    status = ieee80211_read_header(r, data_pad, &header);
    if (status != IEEE80211_OK)
        return wifi_status(status);
    if (header.type != IEEE80211_TYPE_DATA || header.protected_frame)
        return DECODE_NOT_DECODED;
    out->has_mac = true;
    out->src_mac = header.source;
    out->dst_mac = header.destination;
    if (header.null_data)
        return DECODE_NOT_IP;
    if (header.fragment || header.amsdu)
        return DECODE_NOT_DECODED;
    uint16_t ethertype = 0;
    status = ieee80211_read_snap(r, &ethertype);
    if (status == IEEE80211_UNSUPPORTED)
        return DECODE_NOT_IP; /* another LLC (STP, NetBIOS, a vendor OUI...) */
    if (status != IEEE80211_OK)
        return DECODE_MALFORMED;
    return decode_ethertype(r, ethertype, out);
}

static bool is_raw_link_type(int dlt)
{
    return dlt == DLT_RAW || dlt == DECODE_LINKTYPE_RAW;
}

/* Decodes one frame of link type `dlt` into `out` (always initialised);
 * returns DECODE_OK for an IP packet or why it carries no usable flow. On
 * DECODE_MALFORMED the fields read before the fault may be filled. */
enum decode_status decode_packet(int dlt, const uint8_t *data, uint32_t caplen, uint32_t wire_len,
                                 uint64_t ts_usec, struct decoded_packet *out)
{
    memset(out, 0, sizeof *out);
    out->ts_usec = ts_usec;
    out->wire_len = wire_len;
    /* reader_make(NULL, 0) would compute NULL + 0, which UBSan rejects:
     * a NULL frame is read as an empty one. */
    static const uint8_t no_bytes[1];
    struct reader r = data != NULL ? reader_make(data, caplen) : reader_make(no_bytes, 0);

    if (is_raw_link_type(dlt))
        return decode_raw(&r, out);
    switch (dlt) {
    case DLT_EN10MB:
        return decode_ethernet(&r, out);
    case DLT_LINUX_SLL:
        return decode_linux_sll(&r, out);
    case DLT_LINUX_SLL2:
        return decode_linux_sll2(&r, out);
    case DLT_IPV4:
        return decode_ipv4(&r, out);
    case DLT_IPV6:
        return decode_ipv6(&r, out);
    case DLT_NULL:
    case DLT_LOOP:
        return decode_bsd_loopback(&r, out);
    default:
        if (ieee80211_is_link_type(dlt))
            return decode_ieee80211(dlt, &r, out);
        return DECODE_NOT_DECODED; /* an unknown link type */
    }
}

/* Returns true if decode_packet knows link type `dlt`, including the
 * 802.11 types whose management and protected frames it reports as
 * DECODE_NOT_DECODED. */
bool decode_link_type_supported(int dlt)
{
    if (is_raw_link_type(dlt) || ieee80211_is_link_type(dlt))
        return true;
    switch (dlt) {
    case DLT_EN10MB:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
    case DLT_IPV4:
    case DLT_IPV6:
    case DLT_NULL:
    case DLT_LOOP:
        return true;
    default:
        return false;
    }
}

/* Returns the DLT_ name of `dlt` without its prefix, or "UNKNOWN". */
const char *decode_link_type_name(int dlt)
{
    if (is_raw_link_type(dlt))
        return "RAW";
    switch (dlt) {
    case DLT_NULL:
        return "NULL";
    case DLT_EN10MB:
        return "EN10MB";
    case DLT_LOOP:
        return "LOOP";
    case DLT_LINUX_SLL:
        return "LINUX_SLL";
    case DLT_LINUX_SLL2:
        return "LINUX_SLL2";
    case DLT_IPV4:
        return "IPV4";
    case DLT_IPV6:
        return "IPV6";
    case DLT_IEEE802_11:
        return "IEEE802_11";
    case DLT_IEEE802_11_RADIO:
        return "IEEE802_11_RADIO";
    case DLT_PRISM_HEADER:
        return "PRISM_HEADER";
    case DLT_PPI:
        return "PPI";
    case DLT_IEEE802_11_RADIO_AVS:
        return "IEEE802_11_RADIO_AVS";
    default:
        return "UNKNOWN";
    }
}
