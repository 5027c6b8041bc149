/* decode: one captured frame -> a protocol-agnostic L2-L4 view.
 *
 * Every byte of `data` is untrusted; the decoder reads through the bounded
 * cursor of src/util/reader.h and never past `caplen`. The view borrows the
 * frame's bytes: it is valid only until the capture hands out the next
 * frame. */
#ifndef FLUXAUDIT_DECODE_H
#define FLUXAUDIT_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "fluxaudit/netaddr.h"

enum decode_status {
    DECODE_OK = 0,       /* an IPv4/IPv6 packet; `out` is filled */
    DECODE_NOT_IP,       /* a frame with no IP inside (ARP, LLDP, STP...) */
    DECODE_NOT_DECODED,  /* a link type this version does not decode (802.11, radiotap...) */
    DECODE_FRAGMENT,     /* a non-first IP fragment: addresses filled, no ports */
    DECODE_MALFORMED,    /* truncated or inconsistent headers */
};

/* IP protocol numbers the flow table knows by name. */
enum { IP_PROTO_ICMP = 1, IP_PROTO_TCP = 6, IP_PROTO_UDP = 17, IP_PROTO_ICMPV6 = 58 };

/* TCP flag bits as on the wire. */
enum { TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_PSH = 0x08, TCP_ACK = 0x10 };

struct decoded_packet {
    uint64_t ts_usec;        /* capture timestamp, microseconds since the epoch */
    uint32_t wire_len;       /* length of the frame on the wire */
    uint16_t vlan;           /* innermost 802.1Q VLAN id, 0 when untagged */
    bool has_mac;            /* src_mac/dst_mac are valid (Ethernet, SLL with 6-byte address) */
    struct mac_addr src_mac; /* sender's MAC */
    struct mac_addr dst_mac; /* receiver's MAC (zero for SLL) */
    struct net_addr src;     /* IP source */
    struct net_addr dst;     /* IP destination */
    uint8_t ip_proto;        /* upper-layer protocol after IPv6 extension headers */
    bool is_fragment;        /* part of a fragmented datagram (first or not) */
    uint16_t src_port;       /* TCP/UDP ports; ICMP: type in src_port, code in dst_port */
    uint16_t dst_port;
    uint8_t tcp_flags;       /* TCP_* bits, 0 for other protocols */
    uint32_t tcp_seq;        /* TCP sequence and acknowledgement numbers */
    uint32_t tcp_ack;
    const uint8_t *l3;       /* start of the IP header (what nDPI wants) */
    uint32_t l3_len;         /* IP bytes captured, clipped to the IP total length */
    const uint8_t *payload;  /* L4 payload (after TCP/UDP/ICMP header) */
    uint32_t payload_len;    /* payload bytes captured, clipped to the IP total length */
};

/* Decodes one frame of pcap link type `dlt` (a DLT_* value from
 * pcap_datalink). Returns DECODE_OK or the reason the packet carries no
 * usable flow; on DECODE_FRAGMENT src/dst/ip_proto are filled. `out` is
 * always initialised. */
enum decode_status decode_packet(int dlt, const uint8_t *data, uint32_t caplen, uint32_t wire_len,
                                 uint64_t ts_usec, struct decoded_packet *out);

/* Returns true if decode_packet understands link type `dlt` (including
 * types it counts as not decoded without error). */
bool decode_link_type_supported(int dlt);

/* A short name for a link type, for messages ("EN10MB", "LINUX_SLL2"...). */
const char *decode_link_type_name(int dlt);

#endif
