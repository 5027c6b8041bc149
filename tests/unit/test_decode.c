/* Unit tests for decode: frames are built byte by byte here, so every
 * expected value is known exactly. A last test replays the public tcpdump
 * corpus when it is present, to let the sanitizers look for overreads. */
#include <check.h>
#include <glob.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fluxaudit/decode.h"
#include "fluxaudit/netaddr.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/data"
#endif

#define TS_USEC 1700000000123456ULL

/* ---------------------------------------------------------------- builder */

struct frame {
    uint8_t bytes[1024];
    size_t len;
};

static const uint8_t MAC_SRC[6] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55};
static const uint8_t MAC_DST[6] = {0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb};

static void put_u8(struct frame *f, uint8_t v)
{
    ck_assert_uint_lt(f->len, sizeof f->bytes);
    f->bytes[f->len++] = v;
}

static void put_be16(struct frame *f, uint16_t v)
{
    put_u8(f, (uint8_t)(v >> 8));
    put_u8(f, (uint8_t)v);
}

static void put_be32(struct frame *f, uint32_t v)
{
    put_be16(f, (uint16_t)(v >> 16));
    put_be16(f, (uint16_t)v);
}

static void put_bytes(struct frame *f, const uint8_t *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put_u8(f, bytes[i]);
}

static void put_zeros(struct frame *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put_u8(f, 0);
}

/* Payload bytes 'A', 'B', ... so a payload pointer can be checked by
 * content as well as by position. */
static void put_payload(struct frame *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put_u8(f, (uint8_t)('A' + i % 26));
}

static void patch_be16(struct frame *f, size_t at, uint16_t v)
{
    f->bytes[at] = (uint8_t)(v >> 8);
    f->bytes[at + 1] = (uint8_t)v;
}

static void put_ethernet(struct frame *f, uint16_t type)
{
    put_bytes(f, MAC_DST, 6);
    put_bytes(f, MAC_SRC, 6);
    put_be16(f, type);
}

/* A VLAN tag body (the TPID was the previous type field). */
static void put_vlan_tag(struct frame *f, uint16_t tci, uint16_t next_type)
{
    put_be16(f, tci);
    put_be16(f, next_type);
}

static void put_address(struct frame *f, const char *text, size_t n)
{
    struct net_addr addr;
    ck_assert(net_addr_parse(text, &addr));
    put_bytes(f, addr.bytes, n);
}

/* IPv4 header with `option_bytes` (multiple of 4) of NOP options; returns
 * its offset for finish_ipv4. */
static size_t put_ipv4(struct frame *f, uint8_t proto, uint16_t frag, size_t option_bytes)
{
    const size_t at = f->len;
    put_u8(f, (uint8_t)(0x40 | (5 + option_bytes / 4)));
    put_u8(f, 0);
    put_be16(f, 0); /* total length, patched */
    put_be16(f, 0x1234);
    put_be16(f, frag);
    put_u8(f, 64);
    put_u8(f, proto);
    put_be16(f, 0);
    put_address(f, "192.0.2.10", 4);
    put_address(f, "198.51.100.20", 4);
    for (size_t i = 0; i < option_bytes; i++)
        put_u8(f, 1); /* NOP */
    return at;
}

static void finish_ipv4(struct frame *f, size_t at)
{
    patch_be16(f, at + 2, (uint16_t)(f->len - at));
}

static size_t put_ipv6(struct frame *f, uint8_t next)
{
    const size_t at = f->len;
    put_be32(f, 0x60000000);
    put_be16(f, 0); /* payload length, patched */
    put_u8(f, next);
    put_u8(f, 64);
    put_address(f, "2001:db8::1", 16);
    put_address(f, "2001:db8:0:1::2", 16);
    return at;
}

static void finish_ipv6(struct frame *f, size_t at)
{
    patch_be16(f, at + 4, (uint16_t)(f->len - at - 40));
}

/* Hop-by-hop, routing or destination options header of `total` bytes. */
static void put_ipv6_ext(struct frame *f, uint8_t next, size_t total)
{
    put_u8(f, next);
    put_u8(f, (uint8_t)(total / 8 - 1));
    put_zeros(f, total - 2);
}

static void put_ipv6_fragment(struct frame *f, uint8_t next, uint16_t offset_units, bool more)
{
    put_u8(f, next);
    put_u8(f, 0);
    put_be16(f, (uint16_t)(offset_units << 3 | (more ? 1 : 0)));
    put_be32(f, 0xcafe);
}

static void put_ipv6_ah(struct frame *f, uint8_t next, size_t total)
{
    put_u8(f, next);
    put_u8(f, (uint8_t)(total / 4 - 2));
    put_zeros(f, total - 2);
}

static void put_tcp(struct frame *f, uint8_t flags, size_t option_bytes)
{
    put_be16(f, 49152);
    put_be16(f, 443);
    put_be32(f, 0x01020304);
    put_be32(f, 0xa0b0c0d0);
    put_u8(f, (uint8_t)((5 + option_bytes / 4) << 4));
    put_u8(f, flags);
    put_be16(f, 65535);
    put_be16(f, 0);
    put_be16(f, 0);
    for (size_t i = 0; i < option_bytes; i++)
        put_u8(f, 1); /* NOP */
}

static size_t put_udp(struct frame *f, uint16_t src_port, uint16_t dst_port)
{
    const size_t at = f->len;
    put_be16(f, src_port);
    put_be16(f, dst_port);
    put_be16(f, 0); /* length, patched */
    put_be16(f, 0);
    return at;
}

static void finish_udp(struct frame *f, size_t at)
{
    patch_be16(f, at + 4, (uint16_t)(f->len - at));
}

static void put_icmp(struct frame *f, uint8_t type, uint8_t code)
{
    put_u8(f, type);
    put_u8(f, code);
    put_be16(f, 0);
}

/* Ethernet + IPv4 (8 option bytes) + TCP (12 option bytes) + 10 payload
 * bytes: the frame whose every truncation point is tested. */
static size_t build_eth_ipv4_tcp(struct frame *f)
{
    put_ethernet(f, 0x0800);
    const size_t ip = put_ipv4(f, IP_PROTO_TCP, 0, 8);
    put_tcp(f, TCP_SYN | TCP_ACK, 12);
    const size_t headers = f->len;
    put_payload(f, 10);
    finish_ipv4(f, ip);
    return headers;
}

/* ---------------------------------------------------------------- asserts */

static enum decode_status run(int dlt, const struct frame *f, struct decoded_packet *out)
{
    return decode_packet(dlt, f->bytes, (uint32_t)f->len, (uint32_t)f->len + 4, TS_USEC, out);
}

static void assert_addr(const struct net_addr *addr, const char *text)
{
    char buf[NET_ADDR_TEXT_MAX];
    net_addr_format(addr, buf, sizeof buf);
    ck_assert_str_eq(buf, text);
    struct net_addr expected;
    ck_assert(net_addr_parse(text, &expected));
    ck_assert_int_eq(net_addr_compare(addr, &expected), 0);
}

static void assert_ipv4_addresses(const struct decoded_packet *p)
{
    ck_assert_uint_eq(p->src.family, 4);
    assert_addr(&p->src, "192.0.2.10");
    assert_addr(&p->dst, "198.51.100.20");
}

static void assert_ipv6_addresses(const struct decoded_packet *p)
{
    ck_assert_uint_eq(p->src.family, 6);
    assert_addr(&p->src, "2001:db8::1");
    assert_addr(&p->dst, "2001:db8:0:1::2");
}

/* The payload is `len` bytes at frame offset `at`, content 'A', 'B'... */
static void assert_payload(const struct decoded_packet *p, const struct frame *f, size_t at,
                           size_t len)
{
    ck_assert_ptr_eq(p->payload, f->bytes + at);
    ck_assert_uint_eq(p->payload_len, len);
    if (len > 0)
        ck_assert_uint_eq(p->payload[0], 'A');
}

static void assert_no_ports(const struct decoded_packet *p)
{
    ck_assert_uint_eq(p->src_port, 0);
    ck_assert_uint_eq(p->dst_port, 0);
    ck_assert_uint_eq(p->tcp_flags, 0);
}

/* ---------------------------------------------------------------- Ethernet */

START_TEST(test_ethernet_ipv4_tcp_all_fields)
{
    struct frame f = {0};
    const size_t headers = build_eth_ipv4_tcp(&f);
    struct decoded_packet p;
    ck_assert_int_eq(run(DLT_EN10MB, &f, &p), DECODE_OK);
    ck_assert_uint_eq(p.ts_usec, TS_USEC);
    ck_assert_uint_eq(p.wire_len, f.len + 4);
    ck_assert_uint_eq(p.vlan, 0);
    ck_assert(p.has_mac);
    ck_assert_mem_eq(p.src_mac.bytes, MAC_SRC, 6);
    ck_assert_mem_eq(p.dst_mac.bytes, MAC_DST, 6);
    assert_ipv4_addresses(&p);
    ck_assert_uint_eq(p.ip_proto, IP_PROTO_TCP);
    ck_assert(!p.is_fragment);
    ck_assert_uint_eq(p.src_port, 49152);
    ck_assert_uint_eq(p.dst_port, 443);
    ck_assert_uint_eq(p.tcp_flags, TCP_SYN | TCP_ACK);
    ck_assert_uint_eq(p.tcp_seq, 0x01020304);
    ck_assert_uint_eq(p.tcp_ack, 0xa0b0c0d0);
    ck_assert_ptr_eq(p.l3, f.bytes + 14);
    ck_assert_uint_eq(p.l3_len, f.len - 14);
    ck_assert_uint_eq(headers, 14 + 28 + 32);
    assert_payload(&p, &f, headers, 10);
}
END_TEST

START_TEST(test_ethernet_padding_is_clipped)
{
    struct frame f = {0};
    put_ethernet(&f, 0x0800);
    const size_t ip = put_ipv4(&f, IP_PROTO_UDP, 0, 0);
    const size_t udp = put_udp(&f, 5353, 53);
    put_payload(&f, 4);
    finish_udp(&f, udp);
    finish_ipv4(&f, ip);
    put_zeros(&f, 18); /* Ethernet minimum-size padding */
    struct decoded_packet p;
    ck_assert_int_eq(run(DLT_EN10MB, &f, &p), DECODE_OK);
    ck_assert_uint_eq(p.l3_len, 20 + 8 + 4);
    ck_assert_uint_eq(p.src_port, 5353);
    ck_assert_uint_eq(p.dst_port, 53);
    assert_payload(&p, &f, 14 + 28, 4);
}
END_TEST

START_TEST(test_snaplen_cut_payload_is_what_was_captured)
{
    struct frame f = {0};
    build_eth_ipv4_tcp(&f);
    /* The IP total length still says 10 payload bytes; only 3 were kept. */
    struct decoded_packet p;
    const uint32_t caplen = (uint32_t)f.len - 7;
    ck_assert_int_eq(decode_packet(DLT_EN10MB, f.bytes, caplen, (uint32_t)f.len, 1, &p),
                     DECODE_OK);
    ck_assert_uint_eq(p.l3_len, caplen - 14);
    assert_payload(&p, &f, f.len - 10, 3);
}
END_TEST

START_TEST(test_vlan_8021q)
{
    struct frame f = {0};
    put_ethernet(&f, 0x8100);
    put_vlan_tag(&f, 0xa064, 0x0800); /* PCP 5, VID 100 */
    const size_t ip = put_ipv4(&f, IP_PROTO_TCP, 0, 0);
    put_tcp(&f, TCP_ACK, 0);
    put_payload(&f, 5);
    finish_ipv4(&f, ip);
    struct decoded_packet p;
    ck_assert_int_eq(run(DLT_EN10MB, &f, &p), DECODE_OK);
    ck_assert_uint_eq(p.vlan, 100);
    ck_assert_ptr_eq(p.l3, f.bytes + 18);
    ck_assert_uint_eq(p.tcp_flags, TCP_ACK);
    assert_payload(&p, &f, 18 + 40, 5);
}
END_TEST

START_TEST(test_vlan_qinq_88a8_and_9100)
{
    static const uint16_t outer_tpids[] = {0x88a8, 0x9100, 0x8100};
    for (size_t i = 0; i < sizeof outer_tpids / sizeof outer_tpids[0]; i++) {
        struct frame f = {0};
        put_ethernet(&f, outer_tpids[i]);
        put_vlan_tag(&f, 10, 0x8100);
        put_vlan_tag(&f, 0x2000 | 20, 0x86dd);
        const size_t ip = put_ipv6(&f, IP_PROTO_UDP);
        const size_t udp = put_udp(&f, 1000, 2000);
        put_payload(&f, 3);
        finish_udp(&f, udp);
        finish_ipv6(&f, ip);
        struct decoded_packet p;
        ck_assert_int_eq(run(DLT_EN10MB, &f, &p), DECODE_OK);
        ck_assert_uint_eq(p.vlan, 20);
        ck_assert_ptr_eq(p.l3, f.bytes + 22);
        assert_ipv6_addresses(&p);
        ck_assert_uint_eq(p.src_port, 1000);
        assert_payload(&p, &f, 22 + 48, 3);
    }
}
END_TEST

/* Builds `tags` stacked 802.1Q tags (VID 1..tags) before IPv4/UDP. */
static void build_stacked_vlans(struct frame *f, int tags)
{
    put_ethernet(f, 0x88a8);
    for (int i = 1; i <= tags; i++)
        put_vlan_tag(f, (uint16_t)i, i == tags ? 0x0800 : 0x8100);
    const size_t ip = put_ipv4(f, IP_PROTO_UDP, 0, 0);
    const size_t udp = put_udp(f, 1, 2);
    finish_udp(f, udp);
    finish_ipv4(f, ip);
}

START_TEST(test_vlan_stack_is_bounded)
{
    struct frame f = {0};
    struct decoded_packet p;
    build_stacked_vlans(&f, 8);
    ck_assert_int_eq(run(DLT_EN10MB, &f, &p), DECODE_OK);
    ck_assert_uint_eq(p.vlan, 8);
    ck_assert_uint_eq(p.dst_port, 2);

    struct frame g = {0};
    build_stacked_vlans(&g, 9);
    ck_assert_int_eq(run(DLT_EN10MB, &g, &p), DECODE_MALFORMED);
}
END_TEST

START_TEST(test_ethernet_not_ip)
{
    struct decoded_packet p;
    /* ARP */
    struct frame arp = {0};
    put_ethernet(&arp, 0x0806);
    put_zeros(&arp, 28);
    ck_assert_int_eq(run(DLT_EN10MB, &arp, &p), DECODE_NOT_IP);
    ck_assert(p.has_mac);
    ck_assert_mem_eq(p.src_mac.bytes, MAC_SRC, 6);
    ck_assert_uint_eq(p.src.family, 0);

    /* 802.3 length field + LLC (STP) */
    struct frame llc = {0};
    put_ethernet(&llc, 38);
    put_u8(&llc, 0x42);
    put_u8(&llc, 0x42);
    put_u8(&llc, 0x03);
    put_zeros(&llc, 35);
    ck_assert_int_eq(run(DLT_EN10MB, &llc, &p), DECODE_NOT_IP);
    ck_assert(p.has_mac);

    /* LLDP behind a VLAN tag keeps the VLAN id */
    struct frame lldp = {0};
    put_ethernet(&lldp, 0x8100);
    put_vlan_tag(&lldp, 42, 0x88cc);
    put_zeros(&lldp, 20);
    ck_assert_int_eq(run(DLT_EN10MB, &lldp, &p), DECODE_NOT_IP);
    ck_assert_uint_eq(p.vlan, 42);
}
END_TEST

/* ---------------------------------------------------------------- IPv4 */

START_TEST(test_ipv4_options_skipped)
{
    static const size_t option_sizes[] = {4, 40};
    for (size_t i = 0; i < 2; i++) {
        struct frame f = {0};
        put_ethernet(&f, 0x0800);
        const size_t ip = put_ipv4(&f, IP_PROTO_UDP, 0, option_sizes[i]);
        const size_t udp = put_udp(&f, 67, 68);
        put_payload(&f, 6);
        finish_udp(&f, udp);
        finish_ipv4(&f, ip);
        struct decoded_packet p;
        ck_assert_int_eq(run(DLT_EN10MB, &f, &p), DECODE_OK);
        ck_assert_uint_eq(p.src_port, 67);
        ck_assert_uint_eq(p.dst_port, 68);
        assert_payload(&p, &f, 14 + 20 + option_sizes[i] + 8, 6);
    }
}
END_TEST

START_TEST(test_ipv4_bad_headers)
{
    struct decoded_packet p;
    for (uint8_t ihl = 0; ihl < 5; ihl++) {
        struct frame f = {0};
        build_eth_ipv4_tcp(&f);
        f.bytes[14] = (uint8_t)(0x40 | ihl);
        ck_assert_int_eq(run(DLT_EN10MB, &f, &p), DECODE_MALFORMED);
    }

    struct frame version = {0};
    build_eth_ipv4_tcp(&version);
    version.bytes[14] = 0x67; /* version 6 under type 0x0800 */
    ck_assert_int_eq(run(DLT_EN10MB, &version, &p), DECODE_MALFORMED);

    struct frame short_total = {0};
    build_eth_ipv4_tcp(&short_total);
    patch_be16(&short_total, 16, 27); /* below the 28-byte header */
    ck_assert_int_eq(run(DLT_EN10MB, &short_total, &p), DECODE_MALFORMED);

    /* Options run past the captured bytes. */
    struct frame long_ihl = {0};
    put_ethernet(&long_ihl, 0x0800);
    const size_t ip = put_ipv4(&long_ihl, IP_PROTO_UDP, 0, 0);
    long_ihl.bytes[ip] = 0x4f;
    put_zeros(&long_ihl, 20);
    patch_be16(&long_ihl, ip + 2, 60); /* consistent, but only 40 bytes captured */
    ck_assert_int_eq(run(DLT_EN10MB, &long_ihl, &p), DECODE_MALFORMED);
}
END_TEST

START_TEST(test_ipv4_total_length_equal_header_is_ok_for_other_proto)
{
    struct frame f = {0};
    put_ethernet(&f, 0x0800);
    const size_t ip = put_ipv4(&f, 47 /* GRE */, 0, 0);
    finish_ipv4(&f, ip);
    put_zeros(&f, 26);
    struct decoded_packet p;
    ck_assert_int_eq(run(DLT_EN10MB, &f, &p), DECODE_OK);
    ck_assert_uint_eq(p.ip_proto, 47);
    ck_assert_uint_eq(p.l3_len, 20);
    ck_assert_uint_eq(p.payload_len, 0);
    assert_no_ports(&p);
}
END_TEST

START_TEST(test_ipv4_first_fragment)
{
    struct frame f = {0};
    put_ethernet(&f, 0x0800);
    const size_t ip = put_ipv4(&f, IP_PROTO_UDP, 0x2000 /* MF, offset 0 */, 0);
    const size_t udp = put_udp(&f, 4000, 161);
    patch_be16(&f, udp + 4, 3000); /* datagram continues in later fragments */
    put_payload(&f, 16);
    finish_ipv4(&f, ip);
    struct decoded_packet p;
    ck_assert_int_eq(run(DLT_EN10MB, &f, &p), DECODE_OK);
    ck_assert(p.is_fragment);
    ck_assert_uint_eq(p.src_port, 4000);
    ck_assert_uint_eq(p.dst_port, 161);
    assert_payload(&p, &f, 14 + 28, 16);
}
END_TEST

START_TEST(test_ipv4_non_first_fragment)
{
    static const uint16_t frags[] = {0x2000 | 185, 185, 0x4000 | 1};
    for (size_t i = 0; i < 3; i++) {
        struct frame f = {0};
        put_ethernet(&f, 0x0800);
        const size_t ip = put_ipv4(&f, IP_PROTO_UDP, frags[i], 0);
        put_payload(&f, 24);
        finish_ipv4(&f, ip);
        struct decoded_packet p;
        ck_assert_int_eq(run(DLT_EN10MB, &f, &p), DECODE_FRAGMENT);
        ck_assert(p.is_fragment);
        assert_ipv4_addresses(&p);
        ck_assert_uint_eq(p.ip_proto, IP_PROTO_UDP);
        assert_no_ports(&p);
        ck_assert_ptr_null(p.payload);
        ck_assert_uint_eq(p.payload_len, 0);
    }
}
END_TEST

START_TEST(test_ipv4_dont_fragment_is_not_a_fragment)
{
    struct frame f = {0};
    build_eth_ipv4_tcp(&f);
    patch_be16(&f, 14 + 6, 0x4000); /* DF */
    struct decoded_packet p;
    ck_assert_int_eq(run(DLT_EN10MB, &f, &p), DECODE_OK);
    ck_assert(!p.is_fragment);
}
END_TEST

/* ---------------------------------------------------------------- IPv6 */

START_TEST(test_ipv6_tcp)
{
    struct frame f = {0};
    put_ethernet(&f, 0x86dd);
    const size_t ip = put_ipv6(&f, IP_PROTO_TCP);
    put_tcp(&f, TCP_FIN | TCP_PSH | TCP_ACK, 0);
    put_payload(&f, 7);
    finish_ipv6(&f, ip);
    struct decoded_packet p;
    ck_assert_int_eq(run(DLT_EN10MB, &f, &p), DECODE_OK);
    assert_ipv6_addresses(&p);
    ck_assert_uint_eq(p.ip_proto, IP_PROTO_TCP);
    ck_assert_uint_eq(p.tcp_flags, TCP_FIN | TCP_PSH | TCP_ACK);
    ck_assert_ptr_eq(p.l3, f.bytes + 14);
    ck_assert_uint_eq(p.l3_len, 40 + 20 + 7);
    assert_payload(&p, &f, 14 + 60, 7);
}
END_TEST

START_TEST(test_ipv6_extension_chain_first_fragment)
{
    struct frame f = {0};
    put_ethernet(&f, 0x86dd);
    const size_t ip = put_ipv6(&f, 0);
    put_ipv6_ext(&f, 60, 8);                    /* hop-by-hop */
    put_ipv6_ext(&f, 43, 24);                   /* destination options */
    put_ipv6_ext(&f, 44, 16);                   /* routing */
    put_ipv6_fragment(&f, 51, 0, true);         /* first fragment */
    put_ipv6_ah(&f, IP_PROTO_UDP, 24);          /* AH */
    const size_t udp = put_udp(&f, 5060, 5061);
    put_payload(&f, 9);
    finish_udp(&f, udp);
    finish_ipv6(&f, ip);
    struct decoded_packet p;
    ck_assert_int_eq(run(DLT_EN10MB, &f, &p), DECODE_OK);
    ck_assert(p.is_fragment);
    ck_assert_uint_eq(p.ip_proto, IP_PROTO_UDP);
    ck_assert_uint_eq(p.src_port, 5060);
    ck_assert_uint_eq(p.dst_port, 5061);
    assert_payload(&p, &f, 14 + 40 + 8 + 24 + 16 + 8 + 24 + 8, 9);
}
END_TEST

START_TEST(test_ipv6_non_first_fragment)
{
    struct frame f = {0};
    put_ethernet(&f, 0x86dd);
    const size_t ip = put_ipv6(&f, 0);
    put_ipv6_ext(&f, 44, 8);
    put_ipv6_fragment(&f, IP_PROTO_TCP, 100, false);
    put_payload(&f, 30);
    finish_ipv6(&f, ip);
    struct decoded_packet p;
    ck_assert_int_eq(run(DLT_EN10MB, &f, &p), DECODE_FRAGMENT);
    ck_assert(p.is_fragment);
    assert_ipv6_addresses(&p);
    ck_assert_uint_eq(p.ip_proto, IP_PROTO_TCP);
    assert_no_ports(&p);
}
END_TEST

START_TEST(test_ipv6_atomic_fragment_is_whole)
{
    struct frame f = {0};
    put_ethernet(&f, 0x86dd);
    const size_t ip = put_ipv6(&f, 44);
    put_ipv6_fragment(&f, IP_PROTO_ICMPV6, 0, false);
    put_icmp(&f, 128, 0);
    put_payload(&f, 4);
    finish_ipv6(&f, ip);
    struct decoded_packet p;
    ck_assert_int_eq(run(DLT_EN10MB, &f, &p), DECODE_OK);
    ck_assert(!p.is_fragment);
    ck_assert_uint_eq(p.ip_proto, IP_PROTO_ICMPV6);
    ck_assert_uint_eq(p.src_port, 128);
    ck_assert_uint_eq(p.dst_port, 0);
    assert_payload(&p, &f, 14 + 48 + 4, 4);
}
END_TEST

START_TEST(test_ipv6_stop_headers_have_no_ports)
{
    static const uint8_t stops[] = {50 /* ESP */, 59 /* no next */, 135 /* mobility */};
    for (size_t i = 0; i < 3; i++) {
        struct frame f = {0};
        put_ethernet(&f, 0x86dd);
        const size_t ip = put_ipv6(&f, 60);
        put_ipv6_ext(&f, stops[i], 8);
        put_payload(&f, 12);
        finish_ipv6(&f, ip);
        struct decoded_packet p;
        ck_assert_int_eq(run(DLT_EN10MB, &f, &p), DECODE_OK);
        ck_assert_uint_eq(p.ip_proto, stops[i]);
        assert_no_ports(&p);
        assert_payload(&p, &f, 14 + 48, 12);
    }
}
END_TEST

/* IPv6 with `count` destination options headers, then UDP. */
static void build_ipv6_ext_chain(struct frame *f, int count)
{
    put_ethernet(f, 0x86dd);
    const size_t ip = put_ipv6(f, 60);
    for (int i = 1; i <= count; i++)
        put_ipv6_ext(f, i == count ? IP_PROTO_UDP : 60, 8);
    const size_t udp = put_udp(f, 7, 9);
    finish_udp(f, udp);
    finish_ipv6(f, ip);
}

START_TEST(test_ipv6_extension_chain_is_bounded)
{
    struct decoded_packet p;
    struct frame ok = {0};
    build_ipv6_ext_chain(&ok, 16);
    ck_assert_int_eq(run(DLT_EN10MB, &ok, &p), DECODE_OK);
    ck_assert_uint_eq(p.dst_port, 9);

    struct frame too_long = {0};
    build_ipv6_ext_chain(&too_long, 17);
    ck_assert_int_eq(run(DLT_EN10MB, &too_long, &p), DECODE_MALFORMED);
}
END_TEST

START_TEST(test_ipv6_extension_past_payload_length)
{
    struct frame f = {0};
    put_ethernet(&f, 0x86dd);
    const size_t ip = put_ipv6(&f, 0);
    put_ipv6_ext(&f, IP_PROTO_UDP, 8);
    const size_t udp = put_udp(&f, 7, 9);
    finish_udp(&f, udp);
    finish_ipv6(&f, ip);
    struct decoded_packet p;
    patch_be16(&f, 14 + 4, 4); /* payload length cuts the hop-by-hop header */
    ck_assert_int_eq(run(DLT_EN10MB, &f, &p), DECODE_MALFORMED);
    f.bytes[14 + 40 + 1] = 200; /* and a header longer than the frame */
    patch_be16(&f, 14 + 4, 16);
    ck_assert_int_eq(run(DLT_EN10MB, &f, &p), DECODE_MALFORMED);
}
END_TEST

START_TEST(test_ipv6_payload_length)
{
    struct decoded_packet p;
    /* 0 (jumbogram / offload): what was captured. */
    struct frame zero = {0};
    put_ethernet(&zero, 0x86dd);
    put_ipv6(&zero, IP_PROTO_UDP);
    const size_t udp = put_udp(&zero, 1, 2);
    put_payload(&zero, 10);
    finish_udp(&zero, udp);
    ck_assert_int_eq(run(DLT_EN10MB, &zero, &p), DECODE_OK);
    ck_assert_uint_eq(p.l3_len, 40 + 18);
    assert_payload(&p, &zero, 14 + 48, 10);

    /* Smaller than captured: trailer dropped. */
    struct frame padded = {0};
    put_ethernet(&padded, 0x86dd);
    const size_t ip = put_ipv6(&padded, IP_PROTO_UDP);
    const size_t udp2 = put_udp(&padded, 1, 2);
    put_payload(&padded, 2);
    finish_udp(&padded, udp2);
    finish_ipv6(&padded, ip);
    put_zeros(&padded, 6);
    ck_assert_int_eq(run(DLT_EN10MB, &padded, &p), DECODE_OK);
    ck_assert_uint_eq(p.l3_len, 40 + 10);
    assert_payload(&p, &padded, 14 + 48, 2);

    /* Version nibble wrong under 0x86dd. */
    padded.bytes[14] = 0x45;
    ck_assert_int_eq(run(DLT_EN10MB, &padded, &p), DECODE_MALFORMED);
}
END_TEST

/* ---------------------------------------------------------------- L4 */

START_TEST(test_tcp_options_and_bad_offsets)
{
    struct decoded_packet p;
    struct frame f = {0};
    put_ethernet(&f, 0x0800);
    size_t ip = put_ipv4(&f, IP_PROTO_TCP, 0, 0);
    put_tcp(&f, TCP_SYN, 40);
    put_payload(&f, 3);
    finish_ipv4(&f, ip);
    ck_assert_int_eq(run(DLT_EN10MB, &f, &p), DECODE_OK);
    ck_assert_uint_eq(p.tcp_flags, TCP_SYN);
    assert_payload(&p, &f, 14 + 20 + 60, 3);

    for (uint8_t offset = 0; offset < 5; offset++) {
        f.bytes[14 + 20 + 12] = (uint8_t)(offset << 4);
        ck_assert_int_eq(run(DLT_EN10MB, &f, &p), DECODE_MALFORMED);
    }

    /* Data offset 15 (60 bytes) but only 20 + 3 bytes of TCP. */
    struct frame g = {0};
    put_ethernet(&g, 0x0800);
    ip = put_ipv4(&g, IP_PROTO_TCP, 0, 0);
    put_tcp(&g, TCP_SYN, 0);
    put_payload(&g, 3);
    finish_ipv4(&g, ip);
    g.bytes[14 + 20 + 12] = 0xf0;
    ck_assert_int_eq(run(DLT_EN10MB, &g, &p), DECODE_MALFORMED);

    /* The options are captured but lie past the IP total length. */
    put_zeros(&g, 40);
    ck_assert_int_eq(run(DLT_EN10MB, &g, &p), DECODE_MALFORMED);
}
END_TEST

START_TEST(test_udp_length_field)
{
    struct decoded_packet p;
    struct frame f = {0};
    put_ethernet(&f, 0x0800);
    const size_t ip = put_ipv4(&f, IP_PROTO_UDP, 0, 0);
    const size_t udp = put_udp(&f, 514, 514);
    put_payload(&f, 20);
    finish_ipv4(&f, ip);

    patch_be16(&f, udp + 4, 8 + 5); /* smaller than the IP datagram */
    ck_assert_int_eq(run(DLT_EN10MB, &f, &p), DECODE_OK);
    assert_payload(&p, &f, udp + 8, 5);

    patch_be16(&f, udp + 4, 8); /* empty datagram */
    ck_assert_int_eq(run(DLT_EN10MB, &f, &p), DECODE_OK);
    ck_assert_uint_eq(p.payload_len, 0);

    patch_be16(&f, udp + 4, 9000); /* larger: what was captured */
    ck_assert_int_eq(run(DLT_EN10MB, &f, &p), DECODE_OK);
    assert_payload(&p, &f, udp + 8, 20);

    for (uint16_t length = 0; length < 8; length++) {
        patch_be16(&f, udp + 4, length);
        ck_assert_int_eq(run(DLT_EN10MB, &f, &p), DECODE_MALFORMED);
    }
}
END_TEST

START_TEST(test_icmp_type_code)
{
    struct frame f = {0};
    put_ethernet(&f, 0x0800);
    const size_t ip = put_ipv4(&f, IP_PROTO_ICMP, 0, 0);
    put_icmp(&f, 3, 13);
    put_payload(&f, 8);
    finish_ipv4(&f, ip);
    struct decoded_packet p;
    ck_assert_int_eq(run(DLT_EN10MB, &f, &p), DECODE_OK);
    ck_assert_uint_eq(p.ip_proto, IP_PROTO_ICMP);
    ck_assert_uint_eq(p.src_port, 3);
    ck_assert_uint_eq(p.dst_port, 13);
    ck_assert_uint_eq(p.tcp_flags, 0);
    assert_payload(&p, &f, 14 + 24, 8);

    /* Only type and code captured: the checksum is missing. */
    ck_assert_int_eq(decode_packet(DLT_EN10MB, f.bytes, 14 + 22, 60, 0, &p), DECODE_MALFORMED);
}
END_TEST

/* ---------------------------------------------------------------- links */

static void put_ipv4_udp(struct frame *f)
{
    const size_t ip = put_ipv4(f, IP_PROTO_UDP, 0, 0);
    const size_t udp = put_udp(f, 123, 123);
    put_payload(f, 4);
    finish_udp(f, udp);
    finish_ipv4(f, ip);
}

static void put_sll(struct frame *f, uint16_t address_len, uint16_t protocol)
{
    put_be16(f, 0);     /* packet type: to us */
    put_be16(f, 1);     /* ARPHRD_ETHER */
    put_be16(f, address_len);
    put_bytes(f, MAC_SRC, 6);
    put_be16(f, 0xeeee); /* address padding */
    put_be16(f, protocol);
}

static void put_sll2(struct frame *f, uint8_t address_len, uint16_t protocol)
{
    put_be16(f, protocol);
    put_be16(f, 0);
    put_be32(f, 3); /* interface index */
    put_be16(f, 1); /* ARPHRD_ETHER */
    put_u8(f, 4);   /* outgoing */
    put_u8(f, address_len);
    put_bytes(f, MAC_SRC, 6);
    put_be16(f, 0xeeee);
}

START_TEST(test_linux_sll)
{
    struct decoded_packet p;
    struct frame f = {0};
    put_sll(&f, 6, 0x0800);
    put_ipv4_udp(&f);
    ck_assert_int_eq(run(DLT_LINUX_SLL, &f, &p), DECODE_OK);
    ck_assert(p.has_mac);
    ck_assert_mem_eq(p.src_mac.bytes, MAC_SRC, 6);
    static const uint8_t zero[6] = {0};
    ck_assert_mem_eq(p.dst_mac.bytes, zero, 6);
    ck_assert_ptr_eq(p.l3, f.bytes + 16);
    assert_ipv4_addresses(&p);
    ck_assert_uint_eq(p.src_port, 123);
    assert_payload(&p, &f, 16 + 28, 4);

    struct frame no_mac = {0};
    put_sll(&no_mac, 4, 0x0800);
    put_ipv4_udp(&no_mac);
    ck_assert_int_eq(run(DLT_LINUX_SLL, &no_mac, &p), DECODE_OK);
    ck_assert(!p.has_mac);
    ck_assert_mem_eq(p.src_mac.bytes, zero, 6);

    struct frame arp = {0};
    put_sll(&arp, 6, 0x0806);
    put_zeros(&arp, 28);
    ck_assert_int_eq(run(DLT_LINUX_SLL, &arp, &p), DECODE_NOT_IP);

    for (uint32_t caplen = 0; caplen < 16; caplen++)
        ck_assert_int_eq(decode_packet(DLT_LINUX_SLL, f.bytes, caplen, 60, 0, &p),
                         DECODE_MALFORMED);
}
END_TEST

START_TEST(test_linux_sll2)
{
    struct decoded_packet p;
    struct frame f = {0};
    put_sll2(&f, 6, 0x86dd);
    const size_t ip = put_ipv6(&f, IP_PROTO_TCP);
    put_tcp(&f, TCP_RST, 0);
    finish_ipv6(&f, ip);
    ck_assert_int_eq(run(DLT_LINUX_SLL2, &f, &p), DECODE_OK);
    ck_assert(p.has_mac);
    ck_assert_mem_eq(p.src_mac.bytes, MAC_SRC, 6);
    ck_assert_ptr_eq(p.l3, f.bytes + 20);
    assert_ipv6_addresses(&p);
    ck_assert_uint_eq(p.tcp_flags, TCP_RST);
    ck_assert_uint_eq(p.payload_len, 0);

    struct frame no_mac = {0};
    put_sll2(&no_mac, 0, 0x0800);
    put_ipv4_udp(&no_mac);
    ck_assert_int_eq(run(DLT_LINUX_SLL2, &no_mac, &p), DECODE_OK);
    ck_assert(!p.has_mac);
    ck_assert_uint_eq(p.dst_port, 123);

    for (uint32_t caplen = 0; caplen < 20; caplen++)
        ck_assert_int_eq(decode_packet(DLT_LINUX_SLL2, f.bytes, caplen, 60, 0, &p),
                         DECODE_MALFORMED);
}
END_TEST

START_TEST(test_raw_ip_link_types)
{
    struct decoded_packet p;
    struct frame v4 = {0};
    put_ipv4_udp(&v4);
    struct frame v6 = {0};
    const size_t ip = put_ipv6(&v6, IP_PROTO_UDP);
    const size_t udp = put_udp(&v6, 546, 547);
    finish_udp(&v6, udp);
    finish_ipv6(&v6, ip);

    static const int raw_types[] = {DLT_RAW, 101};
    for (size_t i = 0; i < 2; i++) {
        ck_assert_int_eq(run(raw_types[i], &v4, &p), DECODE_OK);
        ck_assert_ptr_eq(p.l3, v4.bytes);
        ck_assert(!p.has_mac);
        assert_ipv4_addresses(&p);
        ck_assert_int_eq(run(raw_types[i], &v6, &p), DECODE_OK);
        assert_ipv6_addresses(&p);
        ck_assert_uint_eq(p.dst_port, 547);
        ck_assert_int_eq(decode_packet(raw_types[i], NULL, 0, 0, 0, &p), DECODE_MALFORMED);
    }
    ck_assert_int_eq(run(DLT_IPV4, &v4, &p), DECODE_OK);
    ck_assert_int_eq(run(DLT_IPV6, &v6, &p), DECODE_OK);
    ck_assert_int_eq(run(DLT_IPV4, &v6, &p), DECODE_MALFORMED);
    ck_assert_int_eq(run(DLT_IPV6, &v4, &p), DECODE_MALFORMED);

    v4.bytes[0] = 0x55; /* version 5 */
    ck_assert_int_eq(run(DLT_RAW, &v4, &p), DECODE_MALFORMED);
}
END_TEST

static void put_le32(struct frame *f, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        put_u8(f, (uint8_t)(v >> (8 * i)));
}

START_TEST(test_bsd_loopback)
{
    static const uint32_t inet6_families[] = {24, 28, 30};
    static const int dlts[] = {DLT_NULL, DLT_LOOP};
    struct decoded_packet p;
    for (size_t d = 0; d < 2; d++) {
        for (int big_endian = 0; big_endian < 2; big_endian++) {
            struct frame v4 = {0};
            if (big_endian)
                put_be32(&v4, 2);
            else
                put_le32(&v4, 2);
            put_ipv4_udp(&v4);
            ck_assert_int_eq(run(dlts[d], &v4, &p), DECODE_OK);
            ck_assert_ptr_eq(p.l3, v4.bytes + 4);
            assert_ipv4_addresses(&p);

            for (size_t i = 0; i < 3; i++) {
                struct frame v6 = {0};
                if (big_endian)
                    put_be32(&v6, inet6_families[i]);
                else
                    put_le32(&v6, inet6_families[i]);
                const size_t ip = put_ipv6(&v6, 59);
                finish_ipv6(&v6, ip);
                ck_assert_int_eq(run(dlts[d], &v6, &p), DECODE_OK);
                assert_ipv6_addresses(&p);
                ck_assert_uint_eq(p.ip_proto, 59);
            }
        }
        struct frame other = {0};
        put_le32(&other, 7); /* AF_NS */
        put_zeros(&other, 30);
        ck_assert_int_eq(run(dlts[d], &other, &p), DECODE_NOT_IP);
        for (uint32_t caplen = 0; caplen < 4; caplen++)
            ck_assert_int_eq(decode_packet(dlts[d], other.bytes, caplen, 4, 0, &p),
                             DECODE_MALFORMED);
    }
}
END_TEST

START_TEST(test_unknown_not_decoded)
{
    struct frame f = {0};
    build_eth_ipv4_tcp(&f);
    struct decoded_packet p;
    ck_assert_int_eq(run(9999, &f, &p), DECODE_NOT_DECODED);
    ck_assert_int_eq(run(-1, &f, &p), DECODE_NOT_DECODED);
    ck_assert(!p.has_mac);
    ck_assert_uint_eq(p.src.family, 0);
    ck_assert_int_eq(decode_packet(9999, NULL, 0, 0, 0, &p), DECODE_NOT_DECODED);
    /* An empty radiotap frame has no radiotap header: malformed. */
    ck_assert_int_eq(decode_packet(DLT_IEEE802_11_RADIO, NULL, 0, 0, 0, &p), DECODE_MALFORMED);
}
END_TEST

/* ---------------------------------------------------------------- 802.11 */

static void assert_every_truncation(int dlt, const struct frame *f, size_t headers);

static const uint8_t WIFI_BSSID[6] = {0x02, 0xbb, 0xbb, 0xbb, 0xbb, 0x01};
static const uint8_t WIFI_STA[6] = {0x02, 0x5a, 0x5a, 0x5a, 0x5a, 0x02};
static const uint8_t WIFI_PEER[6] = {0x02, 0xde, 0xde, 0xde, 0xde, 0x03};
static const uint8_t WIFI_OTHER_AP[6] = {0x02, 0xbb, 0xbb, 0xbb, 0xbb, 0x04};

enum { FC_TODS = 0x01, FC_FROMDS = 0x02, FC_PROTECTED = 0x40, FC_ORDER = 0x80 };
enum { RT_FLAG_FCS = 0x10, RT_FLAG_DATAPAD = 0x20, RT_FLAG_BADFCS = 0x40 };

static void put_le16(struct frame *f, uint16_t v)
{
    put_u8(f, (uint8_t)v);
    put_u8(f, (uint8_t)(v >> 8));
}

/* A radiotap header: no field (8 bytes), or the Flags field (9 bytes). */
static void put_radiotap(struct frame *f, bool with_flags, uint8_t flags)
{
    put_u8(f, 0);
    put_u8(f, 0);
    put_le16(f, with_flags ? 9 : 8);
    put_le16(f, with_flags ? 0x0002 : 0);
    put_le16(f, 0);
    if (with_flags)
        put_u8(f, flags);
}

/* 802.11 data frame header with frame-control flags `fc1` and subtype
 * `subtype` (0 data, 8 QoS data...). Addresses follow the DS bits so that
 * SA = WIFI_STA and DA = WIFI_PEER whatever the direction. */
static void put_wifi_data(struct frame *f, uint8_t subtype, uint8_t fc1, uint16_t qos)
{
    put_u8(f, (uint8_t)(0x08 | subtype << 4));
    put_u8(f, fc1);
    put_le16(f, 0x013a); /* duration */
    const bool to_ds = fc1 & FC_TODS, from_ds = fc1 & FC_FROMDS;
    if (to_ds && from_ds) {
        put_bytes(f, WIFI_OTHER_AP, 6);
        put_bytes(f, WIFI_BSSID, 6);
        put_bytes(f, WIFI_PEER, 6);
    } else if (to_ds) {
        put_bytes(f, WIFI_BSSID, 6);
        put_bytes(f, WIFI_STA, 6);
        put_bytes(f, WIFI_PEER, 6);
    } else if (from_ds) {
        put_bytes(f, WIFI_PEER, 6);
        put_bytes(f, WIFI_BSSID, 6);
        put_bytes(f, WIFI_STA, 6);
    } else {
        put_bytes(f, WIFI_PEER, 6);
        put_bytes(f, WIFI_STA, 6);
        put_bytes(f, WIFI_BSSID, 6);
    }
    put_le16(f, 0x1230); /* sequence 0x123, fragment 0 */
    if (to_ds && from_ds)
        put_bytes(f, WIFI_STA, 6);
    if (subtype & 0x08)
        put_le16(f, qos);
}

static void put_snap(struct frame *f, uint16_t ethertype)
{
    static const uint8_t snap[] = {0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00};
    put_bytes(f, snap, sizeof snap);
    put_be16(f, ethertype);
}

/* IPv4 + TCP (no options) + 10 payload bytes; returns the header end. */
static size_t put_ipv4_tcp_payload(struct frame *f)
{
    const size_t ip = put_ipv4(f, IP_PROTO_TCP, 0, 0);
    put_tcp(f, TCP_SYN, 0);
    const size_t headers = f->len;
    put_payload(f, 10);
    finish_ipv4(f, ip);
    return headers;
}

static void assert_wifi_macs(const struct decoded_packet *p)
{
    ck_assert(p->has_mac);
    ck_assert_mem_eq(p->src_mac.bytes, WIFI_STA, 6);
    ck_assert_mem_eq(p->dst_mac.bytes, WIFI_PEER, 6);
}

/* One radio header of each link type, before the same 802.11 frame. */
static void put_radio_header(struct frame *f, int dlt)
{
    switch (dlt) {
    case DLT_IEEE802_11_RADIO:
        put_radiotap(f, false, 0);
        break;
    case DLT_PPI:
        put_u8(f, 0);
        put_u8(f, 0);
        put_le16(f, 8);
        put_le32(f, 105);
        break;
    case DLT_PRISM_HEADER:
        put_le32(f, 0x44);
        put_le32(f, 144);
        put_zeros(f, 136);
        break;
    case DLT_IEEE802_11_RADIO_AVS:
        put_be32(f, 0x80211001);
        put_be32(f, 64);
        put_zeros(f, 56);
        break;
    default:
        break;
    }
}

START_TEST(test_wifi_data_ipv4_every_link_type)
{
    static const int dlts[] = {DLT_IEEE802_11, DLT_IEEE802_11_RADIO, DLT_PPI,
                               DLT_PRISM_HEADER, DLT_IEEE802_11_RADIO_AVS};
    for (size_t i = 0; i < sizeof dlts / sizeof dlts[0]; i++) {
        struct frame f = {0};
        put_radio_header(&f, dlts[i]);
        put_wifi_data(&f, 0, FC_TODS, 0);
        put_snap(&f, 0x0800);
        const size_t headers = put_ipv4_tcp_payload(&f);
        struct decoded_packet p;
        ck_assert_int_eq(run(dlts[i], &f, &p), DECODE_OK);
        assert_wifi_macs(&p);
        assert_ipv4_addresses(&p);
        ck_assert_uint_eq(p.ip_proto, IP_PROTO_TCP);
        ck_assert_uint_eq(p.src_port, 49152);
        ck_assert_uint_eq(p.dst_port, 443);
        ck_assert_uint_eq(p.tcp_flags, TCP_SYN);
        assert_payload(&p, &f, headers, 10);
        ck_assert_uint_eq(p.vlan, 0);
        ck_assert_uint_eq(p.ts_usec, TS_USEC);
        /* Every prefix is malformed up to the payload, then OK. */
        assert_every_truncation(dlts[i], &f, headers);
    }
}
END_TEST

START_TEST(test_wifi_prism_carrying_avs_and_big_endian_length)
{
    struct frame avs = {0};
    put_be32(&avs, 0x80211001); /* AVS magic under the Prism link type */
    put_be32(&avs, 64);
    put_zeros(&avs, 56);
    put_wifi_data(&avs, 0, FC_FROMDS, 0);
    put_snap(&avs, 0x0800);
    size_t headers = put_ipv4_tcp_payload(&avs);
    struct decoded_packet p;
    ck_assert_int_eq(run(DLT_PRISM_HEADER, &avs, &p), DECODE_OK);
    assert_wifi_macs(&p);
    assert_payload(&p, &avs, headers, 10);

    struct frame prism = {0};
    put_be32(&prism, 0x44);
    put_be32(&prism, 144); /* written by a big-endian host */
    put_zeros(&prism, 136);
    put_wifi_data(&prism, 0, 0, 0);
    put_snap(&prism, 0x0800);
    headers = put_ipv4_tcp_payload(&prism);
    ck_assert_int_eq(run(DLT_PRISM_HEADER, &prism, &p), DECODE_OK);
    assert_payload(&p, &prism, headers, 10);
}
END_TEST

START_TEST(test_wifi_addresses_per_ds_bits)
{
    static const uint8_t ds[] = {0, FC_TODS, FC_FROMDS, FC_TODS | FC_FROMDS};
    for (size_t i = 0; i < sizeof ds; i++) {
        struct frame f = {0};
        put_wifi_data(&f, 0, ds[i], 0);
        put_snap(&f, 0x0800);
        const size_t headers = put_ipv4_tcp_payload(&f);
        struct decoded_packet p;
        ck_assert_int_eq(run(DLT_IEEE802_11, &f, &p), DECODE_OK);
        assert_wifi_macs(&p);
        assert_payload(&p, &f, headers, 10);
        ck_assert_uint_eq(headers - 8 - 40, ds[i] == (FC_TODS | FC_FROMDS) ? 30 : 24);
    }
}
END_TEST

START_TEST(test_wifi_qos_and_ht_control)
{
    /* QoS data: +2; with the order bit: +4 of HT control. */
    struct frame qos = {0};
    put_wifi_data(&qos, 8, FC_TODS, 0x0005);
    put_snap(&qos, 0x0800);
    size_t headers = put_ipv4_tcp_payload(&qos);
    struct decoded_packet p;
    ck_assert_int_eq(run(DLT_IEEE802_11, &qos, &p), DECODE_OK);
    assert_payload(&p, &qos, headers, 10);

    struct frame htc = {0};
    put_wifi_data(&htc, 8, FC_TODS | FC_ORDER, 0x0005);
    put_be32(&htc, 0xfffffffe); /* HT control */
    put_snap(&htc, 0x86dd);
    const size_t ip = put_ipv6(&htc, IP_PROTO_UDP);
    const size_t udp = put_udp(&htc, 5353, 5353);
    put_payload(&htc, 7);
    finish_udp(&htc, udp);
    finish_ipv6(&htc, ip);
    ck_assert_int_eq(run(DLT_IEEE802_11, &htc, &p), DECODE_OK);
    assert_ipv6_addresses(&p);
    ck_assert_uint_eq(p.src_port, 5353);
    assert_payload(&p, &htc, udp + 8, 7);

    /* The order bit on plain (non-QoS) data is not HT control. */
    struct frame plain = {0};
    put_wifi_data(&plain, 0, FC_TODS | FC_ORDER, 0);
    put_snap(&plain, 0x0800);
    headers = put_ipv4_tcp_payload(&plain);
    ck_assert_int_eq(run(DLT_IEEE802_11, &plain, &p), DECODE_OK);
    assert_payload(&p, &plain, headers, 10);
}
END_TEST

/* IPv6 whose payload length is 0 takes what was captured: an FCS left in
 * place would show as 4 more payload bytes. */
static size_t put_ipv6_udp_captured_length(struct frame *f, size_t payload)
{
    put_ipv6(f, IP_PROTO_UDP);
    const size_t udp = put_udp(f, 1000, 2000);
    put_payload(f, payload);
    patch_be16(f, udp + 4, (uint16_t)(8 + payload + 4)); /* as if the FCS were data */
    return udp + 8;
}

START_TEST(test_wifi_radiotap_flags_fcs_and_padding)
{
    /* Flags field with FCS: the last 4 bytes are cut. */
    struct frame f = {0};
    put_radiotap(&f, true, RT_FLAG_FCS);
    put_wifi_data(&f, 0, FC_TODS, 0);
    put_snap(&f, 0x86dd);
    size_t at = put_ipv6_udp_captured_length(&f, 6);
    put_be32(&f, 0xdeadbeef); /* FCS */
    struct decoded_packet p;
    ck_assert_int_eq(run(DLT_IEEE802_11_RADIO, &f, &p), DECODE_OK);
    assert_payload(&p, &f, at, 6);
    ck_assert_uint_eq(p.l3_len, 40 + 8 + 6);

    /* Without the flag those 4 bytes are payload. */
    f.bytes[8] = 0;
    ck_assert_int_eq(run(DLT_IEEE802_11_RADIO, &f, &p), DECODE_OK);
    assert_payload(&p, &f, at, 10);

    /* A failed FCS check: corrupt bytes, malformed. */
    f.bytes[8] = RT_FLAG_FCS | RT_FLAG_BADFCS;
    ck_assert_int_eq(run(DLT_IEEE802_11_RADIO, &f, &p), DECODE_MALFORMED);

    /* TSFT first: Flags come after 8 aligned bytes; an extended bitmap
     * moves the fields (TSFT aligned to 16, Flags at 24). */
    struct frame ext = {0};
    put_u8(&ext, 0);
    put_u8(&ext, 0);
    put_le16(&ext, 25);
    put_le32(&ext, 0x80000003); /* TSFT, Flags, another bitmap */
    put_le32(&ext, 0);
    put_zeros(&ext, 4);         /* alignment of TSFT */
    put_zeros(&ext, 8);         /* TSFT */
    put_u8(&ext, RT_FLAG_FCS | RT_FLAG_DATAPAD);
    put_wifi_data(&ext, 8, FC_TODS, 0); /* 26 bytes: 2 bytes of padding */
    put_zeros(&ext, 2);
    put_snap(&ext, 0x86dd);
    at = put_ipv6_udp_captured_length(&ext, 3);
    put_be32(&ext, 0x01020304);
    ck_assert_int_eq(run(DLT_IEEE802_11_RADIO, &ext, &p), DECODE_OK);
    assert_wifi_macs(&p);
    assert_payload(&p, &ext, at, 3);

    /* FCS announced on a frame shorter than 4 bytes. */
    struct frame tiny = {0};
    put_radiotap(&tiny, true, RT_FLAG_FCS);
    put_u8(&tiny, 0x08);
    ck_assert_int_eq(run(DLT_IEEE802_11_RADIO, &tiny, &p), DECODE_MALFORMED);
}
END_TEST

START_TEST(test_wifi_radio_header_errors)
{
    struct decoded_packet p;
    struct frame f = {0};
    put_radiotap(&f, false, 0);
    put_wifi_data(&f, 0, FC_TODS, 0);
    put_snap(&f, 0x0800);
    put_ipv4_tcp_payload(&f);
    ck_assert_int_eq(run(DLT_IEEE802_11_RADIO, &f, &p), DECODE_OK);

    f.bytes[0] = 1; /* radiotap version */
    ck_assert_int_eq(run(DLT_IEEE802_11_RADIO, &f, &p), DECODE_MALFORMED);
    f.bytes[0] = 0;
    f.bytes[2] = 7; /* shorter than its own fixed part */
    ck_assert_int_eq(run(DLT_IEEE802_11_RADIO, &f, &p), DECODE_MALFORMED);
    f.bytes[2] = 0;
    f.bytes[3] = 0x10; /* 4096: longer than the frame */
    ck_assert_int_eq(run(DLT_IEEE802_11_RADIO, &f, &p), DECODE_MALFORMED);
    f.bytes[3] = 0;
    f.bytes[2] = 8;
    f.bytes[4] = 0x02; /* Flags announced, not inside the 8 bytes */
    ck_assert_int_eq(run(DLT_IEEE802_11_RADIO, &f, &p), DECODE_MALFORMED);

    /* An endless chain of extended bitmaps is cut at 16 words. */
    struct frame chain = {0};
    put_u8(&chain, 0);
    put_u8(&chain, 0);
    put_le16(&chain, 4 + 4 * 20);
    for (int i = 0; i < 20; i++)
        put_le32(&chain, 0x80000000);
    put_wifi_data(&chain, 0, FC_TODS, 0);
    ck_assert_int_eq(run(DLT_IEEE802_11_RADIO, &chain, &p), DECODE_MALFORMED);

    /* PPI: another DLT inside is not decoded; a length past the frame is
     * malformed. */
    struct frame ppi = {0};
    put_radio_header(&ppi, DLT_PPI);
    put_wifi_data(&ppi, 0, FC_TODS, 0);
    put_snap(&ppi, 0x0800);
    put_ipv4_tcp_payload(&ppi);
    ppi.bytes[4] = 1; /* DLT_EN10MB */
    ck_assert_int_eq(run(DLT_PPI, &ppi, &p), DECODE_NOT_DECODED);
    ppi.bytes[4] = 105;
    ppi.bytes[3] = 0x40;
    ck_assert_int_eq(run(DLT_PPI, &ppi, &p), DECODE_MALFORMED);
    ppi.bytes[3] = 0;
    ppi.bytes[0] = 1; /* PPI version */
    ck_assert_int_eq(run(DLT_PPI, &ppi, &p), DECODE_MALFORMED);

    struct frame avs = {0};
    put_radio_header(&avs, DLT_IEEE802_11_RADIO_AVS);
    put_wifi_data(&avs, 0, FC_TODS, 0);
    avs.bytes[6] = 0x10; /* length 4160 */
    ck_assert_int_eq(run(DLT_IEEE802_11_RADIO_AVS, &avs, &p), DECODE_MALFORMED);
    avs.bytes[6] = 0;
    avs.bytes[7] = 4; /* below its own 8 bytes */
    ck_assert_int_eq(run(DLT_IEEE802_11_RADIO_AVS, &avs, &p), DECODE_MALFORMED);
}
END_TEST

/* The PPI 802.11-Common field says whether the frame ends with an FCS. */
START_TEST(test_wifi_ppi_common_fcs)
{
    struct frame f = {0};
    put_u8(&f, 0);
    put_u8(&f, 0);
    put_le16(&f, 8 + 4 + 20);
    put_le32(&f, 105);
    put_le16(&f, 2);  /* 802.11-Common */
    put_le16(&f, 20);
    put_zeros(&f, 8); /* TSFT */
    put_le16(&f, 0x0001); /* FCS present */
    put_zeros(&f, 10);
    put_wifi_data(&f, 0, FC_TODS, 0);
    put_snap(&f, 0x86dd);
    const size_t at = put_ipv6_udp_captured_length(&f, 5);
    put_be32(&f, 0xcafebabe);
    struct decoded_packet p;
    ck_assert_int_eq(run(DLT_PPI, &f, &p), DECODE_OK);
    assert_payload(&p, &f, at, 5);
    f.bytes[20] = 0x05; /* FCS present and invalid */
    ck_assert_int_eq(run(DLT_PPI, &f, &p), DECODE_MALFORMED);
}
END_TEST

START_TEST(test_wifi_frames_without_ip)
{
    struct decoded_packet p;
    /* EAPOL: the station's MACs, no IP. */
    struct frame eapol = {0};
    put_wifi_data(&eapol, 0, FC_TODS, 0);
    put_snap(&eapol, 0x888e);
    put_be32(&eapol, 0x01000005);
    ck_assert_int_eq(run(DLT_IEEE802_11, &eapol, &p), DECODE_NOT_IP);
    assert_wifi_macs(&p);
    ck_assert_uint_eq(p.src.family, 0);

    /* ARP over SNAP, and an LLC that is not SNAP (STP). */
    struct frame arp = {0};
    put_wifi_data(&arp, 0, FC_FROMDS, 0);
    put_snap(&arp, 0x0806);
    put_zeros(&arp, 28);
    ck_assert_int_eq(run(DLT_IEEE802_11, &arp, &p), DECODE_NOT_IP);
    struct frame stp = {0};
    put_wifi_data(&stp, 0, FC_FROMDS, 0);
    put_u8(&stp, 0x42);
    put_u8(&stp, 0x42);
    put_u8(&stp, 0x03);
    put_zeros(&stp, 35);
    ck_assert_int_eq(run(DLT_IEEE802_11, &stp, &p), DECODE_NOT_IP);
    /* SNAP with a vendor OUI carries no Ethernet type. */
    struct frame vendor = {0};
    put_wifi_data(&vendor, 0, FC_FROMDS, 0);
    static const uint8_t cisco[] = {0xaa, 0xaa, 0x03, 0x00, 0x40, 0x96, 0x00, 0x00};
    put_bytes(&vendor, cisco, sizeof cisco);
    ck_assert_int_eq(run(DLT_IEEE802_11, &vendor, &p), DECODE_NOT_IP);

    /* Null function and QoS Null: data frames without a body. */
    struct frame null = {0};
    put_wifi_data(&null, 4, FC_TODS, 0);
    ck_assert_int_eq(run(DLT_IEEE802_11, &null, &p), DECODE_NOT_IP);
    assert_wifi_macs(&p);
    struct frame qos_null = {0};
    put_wifi_data(&qos_null, 12, FC_TODS, 0);
    ck_assert_int_eq(run(DLT_IEEE802_11, &qos_null, &p), DECODE_NOT_IP);
}
END_TEST

START_TEST(test_wifi_frames_not_decoded)
{
    struct decoded_packet p;
    /* Protected data: encrypted, nothing to read, no MACs reported. */
    struct frame protected_frame = {0};
    put_wifi_data(&protected_frame, 8, FC_TODS | FC_PROTECTED, 0);
    put_snap(&protected_frame, 0x0800);
    put_ipv4_tcp_payload(&protected_frame);
    ck_assert_int_eq(run(DLT_IEEE802_11, &protected_frame, &p), DECODE_NOT_DECODED);
    ck_assert(!p.has_mac);

    /* A beacon (management), an ACK (control), an extension frame. */
    struct frame beacon = {0};
    put_u8(&beacon, 0x80);
    put_zeros(&beacon, 60);
    ck_assert_int_eq(run(DLT_IEEE802_11, &beacon, &p), DECODE_NOT_DECODED);
    ck_assert(!p.has_mac);
    struct frame ack = {0};
    put_u8(&ack, 0xd4);
    put_zeros(&ack, 9);
    ck_assert_int_eq(run(DLT_IEEE802_11, &ack, &p), DECODE_NOT_DECODED);
    struct frame extension = {0};
    put_u8(&extension, 0x0c);
    put_zeros(&extension, 30);
    ck_assert_int_eq(run(DLT_IEEE802_11, &extension, &p), DECODE_NOT_DECODED);
    /* Protocol version 1 is not 802.11 as we know it. */
    struct frame version = {0};
    put_wifi_data(&version, 0, FC_TODS, 0);
    put_snap(&version, 0x0800);
    put_ipv4_tcp_payload(&version);
    version.bytes[0] |= 0x01;
    ck_assert_int_eq(run(DLT_IEEE802_11, &version, &p), DECODE_NOT_DECODED);

    /* A non-first fragment and an A-MSDU need work this decoder skips. */
    struct frame fragment = {0};
    put_wifi_data(&fragment, 0, FC_TODS, 0);
    fragment.bytes[22] = 0x31; /* fragment number 1 */
    put_payload(&fragment, 20);
    ck_assert_int_eq(run(DLT_IEEE802_11, &fragment, &p), DECODE_NOT_DECODED);
    struct frame amsdu = {0};
    put_wifi_data(&amsdu, 8, FC_TODS, 0x0080);
    put_payload(&amsdu, 30);
    ck_assert_int_eq(run(DLT_IEEE802_11, &amsdu, &p), DECODE_NOT_DECODED);
}
END_TEST

START_TEST(test_output_always_initialised)
{
    struct frame f = {0};
    build_eth_ipv4_tcp(&f);
    struct decoded_packet p;
    memset(&p, 0xa5, sizeof p);
    ck_assert_int_eq(run(9999, &f, &p), DECODE_NOT_DECODED);
    ck_assert_uint_eq(p.ts_usec, TS_USEC);
    ck_assert_uint_eq(p.wire_len, f.len + 4);
    ck_assert(!p.has_mac);
    ck_assert(!p.is_fragment);
    ck_assert_uint_eq(p.vlan, 0);
    ck_assert_uint_eq(p.ip_proto, 0);
    ck_assert_ptr_null(p.l3);
    ck_assert_ptr_null(p.payload);
    ck_assert_uint_eq(p.l3_len, 0);
    ck_assert_uint_eq(p.payload_len, 0);
    assert_no_ports(&p);
}
END_TEST

START_TEST(test_link_type_support_and_names)
{
    static const struct {
        int dlt;
        const char *name;
    } known[] = {
        {DLT_NULL, "NULL"},
        {DLT_EN10MB, "EN10MB"},
        {DLT_RAW, "RAW"},
        {101, "RAW"},
        {DLT_LOOP, "LOOP"},
        {DLT_LINUX_SLL, "LINUX_SLL"},
        {DLT_LINUX_SLL2, "LINUX_SLL2"},
        {DLT_IPV4, "IPV4"},
        {DLT_IPV6, "IPV6"},
        {DLT_IEEE802_11, "IEEE802_11"},
        {DLT_IEEE802_11_RADIO, "IEEE802_11_RADIO"},
        {DLT_PRISM_HEADER, "PRISM_HEADER"},
        {DLT_PPI, "PPI"},
        {DLT_IEEE802_11_RADIO_AVS, "IEEE802_11_RADIO_AVS"},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        ck_assert(decode_link_type_supported(known[i].dlt));
        ck_assert_str_eq(decode_link_type_name(known[i].dlt), known[i].name);
    }
    ck_assert(!decode_link_type_supported(DLT_FDDI));
    ck_assert(!decode_link_type_supported(9999));
    ck_assert(!decode_link_type_supported(-1));
    ck_assert_str_eq(decode_link_type_name(9999), "UNKNOWN");
}
END_TEST

/* ---------------------------------------------------------------- truncation */

/* Decodes the first `caplen` bytes of `f` from a heap copy of exactly
 * caplen bytes, so AddressSanitizer catches any read past the end. */
static enum decode_status decode_heap_prefix(int dlt, const struct frame *f, uint32_t caplen,
                                             struct decoded_packet *out, uint8_t **copy)
{
    *copy = caplen == 0 ? NULL : malloc(caplen);
    ck_assert(caplen == 0 || *copy != NULL);
    if (caplen > 0)
        memcpy(*copy, f->bytes, caplen);
    return decode_packet(dlt, *copy, caplen, (uint32_t)f->len, 0, out);
}

/* Every prefix shorter than `headers` is malformed; every longer one is OK
 * with a payload of exactly the captured bytes past the headers. */
static void assert_every_truncation(int dlt, const struct frame *f, size_t headers)
{
    for (uint32_t caplen = 0; caplen <= f->len; caplen++) {
        struct decoded_packet p;
        uint8_t *copy;
        const enum decode_status status = decode_heap_prefix(dlt, f, caplen, &p, &copy);
        if (caplen < headers) {
            ck_assert_msg(status == DECODE_MALFORMED, "caplen %u: status %d", caplen, status);
        } else {
            ck_assert_msg(status == DECODE_OK, "caplen %u: status %d", caplen, status);
            ck_assert_uint_eq(p.payload_len, caplen - headers);
            ck_assert_ptr_eq(p.payload, copy + headers);
        }
        free(copy);
    }
}

START_TEST(test_truncation_ethernet_ipv4_tcp)
{
    struct frame f = {0};
    const size_t headers = build_eth_ipv4_tcp(&f);
    assert_every_truncation(DLT_EN10MB, &f, headers);
}
END_TEST

START_TEST(test_truncation_vlan_ipv6_extensions_udp)
{
    struct frame f = {0};
    put_ethernet(&f, 0x88a8);
    put_vlan_tag(&f, 5, 0x8100);
    put_vlan_tag(&f, 6, 0x86dd);
    const size_t ip = put_ipv6(&f, 0);
    put_ipv6_ext(&f, 44, 16);
    put_ipv6_fragment(&f, 51, 0, true);
    put_ipv6_ah(&f, IP_PROTO_UDP, 16);
    const size_t udp = put_udp(&f, 1, 2);
    const size_t headers = f.len;
    put_payload(&f, 8);
    finish_udp(&f, udp);
    finish_ipv6(&f, ip);
    assert_every_truncation(DLT_EN10MB, &f, headers);
}
END_TEST

START_TEST(test_truncation_cooked_and_loopback)
{
    struct frame sll2 = {0};
    put_sll2(&sll2, 6, 0x0800);
    const size_t ip = put_ipv4(&sll2, IP_PROTO_ICMP, 0, 4);
    put_icmp(&sll2, 8, 0);
    const size_t headers = sll2.len;
    put_payload(&sll2, 12);
    finish_ipv4(&sll2, ip);
    assert_every_truncation(DLT_LINUX_SLL2, &sll2, headers);

    struct frame loop = {0};
    put_be32(&loop, 30);
    const size_t ip6 = put_ipv6(&loop, IP_PROTO_TCP);
    put_tcp(&loop, TCP_SYN, 8);
    const size_t headers6 = loop.len;
    put_payload(&loop, 5);
    finish_ipv6(&loop, ip6);
    assert_every_truncation(DLT_LOOP, &loop, headers6);
}
END_TEST

/* ---------------------------------------------------------------- corpus */

#define CORPUS_GLOB "/work/shared/corpus/tcpdump/*.pcap*"
#define CORPUS_TIME_BUDGET_SEC 15.0
#define CORPUS_MAX_PACKETS_PER_FILE 20000

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Whatever the status, the view must point inside the captured bytes. */
static void assert_view_in_bounds(const struct decoded_packet *p, const uint8_t *data,
                                  uint32_t caplen)
{
    const uint8_t *end = data + caplen;
    if (p->l3 != NULL)
        ck_assert(p->l3 >= data && p->l3_len <= (size_t)(end - p->l3));
    if (p->payload != NULL)
        ck_assert(p->payload >= data && p->payload_len <= (size_t)(end - p->payload));
}

/* Decodes every packet of one capture; returns how many decoded OK. */
static unsigned long replay_file(const char *path, unsigned long *packets)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *pcap = pcap_open_offline(path, errbuf);
    if (pcap == NULL)
        return 0; /* the corpus holds deliberately broken files */
    const int dlt = pcap_datalink(pcap);
    unsigned long ok = 0;
    struct pcap_pkthdr *header;
    const u_char *data;
    for (int n = 0; n < CORPUS_MAX_PACKETS_PER_FILE; n++) {
        if (pcap_next_ex(pcap, &header, &data) != 1)
            break;
        /* A heap copy of exactly caplen bytes, for the sanitizer. */
        uint8_t *copy = malloc(header->caplen ? header->caplen : 1);
        ck_assert_ptr_nonnull(copy);
        memcpy(copy, data, header->caplen);
        struct decoded_packet p;
        const enum decode_status status =
            decode_packet(dlt, copy, header->caplen, header->len, 0, &p);
        assert_view_in_bounds(&p, copy, header->caplen);
        ok += status == DECODE_OK;
        (*packets)++;
        free(copy);
    }
    pcap_close(pcap);
    return ok;
}

START_TEST(test_replay_tcpdump_corpus)
{
    glob_t files;
    if (glob(CORPUS_GLOB, 0, NULL, &files) != 0) {
        printf("test_replay_tcpdump_corpus: skipped, no files match %s\n", CORPUS_GLOB);
        return;
    }
    const double start = now_seconds();
    unsigned long packets = 0;
    unsigned long ok = 0;
    size_t replayed = 0;
    for (; replayed < files.gl_pathc; replayed++) {
        if (now_seconds() - start > CORPUS_TIME_BUDGET_SEC)
            break;
        ok += replay_file(files.gl_pathv[replayed], &packets);
    }
    printf("test_replay_tcpdump_corpus: %zu/%zu files, %lu packets, %lu decoded OK\n", replayed,
           files.gl_pathc, packets, ok);
    globfree(&files);
    ck_assert_uint_gt(packets, 0);
    ck_assert_uint_gt(ok, 0);
}
END_TEST

/* ---------------------------------------------------------------- main */

static Suite *decode_suite(void)
{
    Suite *suite = suite_create("decode");

    TCase *ethernet = tcase_create("ethernet");
    tcase_add_test(ethernet, test_ethernet_ipv4_tcp_all_fields);
    tcase_add_test(ethernet, test_ethernet_padding_is_clipped);
    tcase_add_test(ethernet, test_snaplen_cut_payload_is_what_was_captured);
    tcase_add_test(ethernet, test_vlan_8021q);
    tcase_add_test(ethernet, test_vlan_qinq_88a8_and_9100);
    tcase_add_test(ethernet, test_vlan_stack_is_bounded);
    tcase_add_test(ethernet, test_ethernet_not_ip);
    suite_add_tcase(suite, ethernet);

    TCase *ipv4 = tcase_create("ipv4");
    tcase_add_test(ipv4, test_ipv4_options_skipped);
    tcase_add_test(ipv4, test_ipv4_bad_headers);
    tcase_add_test(ipv4, test_ipv4_total_length_equal_header_is_ok_for_other_proto);
    tcase_add_test(ipv4, test_ipv4_first_fragment);
    tcase_add_test(ipv4, test_ipv4_non_first_fragment);
    tcase_add_test(ipv4, test_ipv4_dont_fragment_is_not_a_fragment);
    suite_add_tcase(suite, ipv4);

    TCase *ipv6 = tcase_create("ipv6");
    tcase_add_test(ipv6, test_ipv6_tcp);
    tcase_add_test(ipv6, test_ipv6_extension_chain_first_fragment);
    tcase_add_test(ipv6, test_ipv6_non_first_fragment);
    tcase_add_test(ipv6, test_ipv6_atomic_fragment_is_whole);
    tcase_add_test(ipv6, test_ipv6_stop_headers_have_no_ports);
    tcase_add_test(ipv6, test_ipv6_extension_chain_is_bounded);
    tcase_add_test(ipv6, test_ipv6_extension_past_payload_length);
    tcase_add_test(ipv6, test_ipv6_payload_length);
    suite_add_tcase(suite, ipv6);

    TCase *transport = tcase_create("transport");
    tcase_add_test(transport, test_tcp_options_and_bad_offsets);
    tcase_add_test(transport, test_udp_length_field);
    tcase_add_test(transport, test_icmp_type_code);
    suite_add_tcase(suite, transport);

    TCase *links = tcase_create("links");
    tcase_add_test(links, test_linux_sll);
    tcase_add_test(links, test_linux_sll2);
    tcase_add_test(links, test_raw_ip_link_types);
    tcase_add_test(links, test_bsd_loopback);
    tcase_add_test(links, test_unknown_not_decoded);
    tcase_add_test(links, test_output_always_initialised);
    tcase_add_test(links, test_link_type_support_and_names);
    suite_add_tcase(suite, links);

    TCase *wifi = tcase_create("wifi");
    tcase_add_test(wifi, test_wifi_data_ipv4_every_link_type);
    tcase_add_test(wifi, test_wifi_prism_carrying_avs_and_big_endian_length);
    tcase_add_test(wifi, test_wifi_addresses_per_ds_bits);
    tcase_add_test(wifi, test_wifi_qos_and_ht_control);
    tcase_add_test(wifi, test_wifi_radiotap_flags_fcs_and_padding);
    tcase_add_test(wifi, test_wifi_radio_header_errors);
    tcase_add_test(wifi, test_wifi_ppi_common_fcs);
    tcase_add_test(wifi, test_wifi_frames_without_ip);
    tcase_add_test(wifi, test_wifi_frames_not_decoded);
    suite_add_tcase(suite, wifi);

    TCase *truncation = tcase_create("truncation");
    tcase_add_test(truncation, test_truncation_ethernet_ipv4_tcp);
    tcase_add_test(truncation, test_truncation_vlan_ipv6_extensions_udp);
    tcase_add_test(truncation, test_truncation_cooked_and_loopback);
    suite_add_tcase(suite, truncation);

    TCase *corpus = tcase_create("corpus");
    tcase_set_timeout(corpus, 60);
    tcase_add_test(corpus, test_replay_tcpdump_corpus);
    suite_add_tcase(suite, corpus);
    return suite;
}

int main(void)
{
    SRunner *runner = srunner_create(decode_suite());
    srunner_run_all(runner, CK_NORMAL);
    const int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
