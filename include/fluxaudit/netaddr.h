/* netaddr: IPv4/IPv6 addresses, prefixes and MAC addresses.
 *
 * Plain values, no allocation. IPv4 addresses are kept in the first four
 * bytes of `bytes` with family 4, so two addresses compare with memcmp on
 * (family, bytes). */
#ifndef FLUXAUDIT_NETADDR_H
#define FLUXAUDIT_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_ADDR_TEXT_MAX 46 /* INET6_ADDRSTRLEN */
#define MAC_TEXT_MAX 18

struct net_addr {
    uint8_t family;    /* 4 or 6; 0 for "no address" */
    uint8_t bytes[16]; /* network order; IPv4 uses bytes[0..3], rest zero */
};

struct net_prefix {
    struct net_addr addr; /* host bits cleared */
    uint8_t bits;         /* 0..32 or 0..128 */
};

struct mac_addr {
    uint8_t bytes[6];
};

/* Parses a dotted IPv4 or an IPv6 address. Returns true on success. */
bool net_addr_parse(const char *text, struct net_addr *out);

/* Parses "ADDR" (a host prefix) or "ADDR/BITS". Host bits set below the
 * prefix length are refused, so "10.0.0.1/8" is an error. */
bool net_prefix_parse(const char *text, struct net_prefix *out);

/* Parses "aa:bb:cc:dd:ee:ff" (or with '-'), case-insensitive. */
bool mac_addr_parse(const char *text, struct mac_addr *out);

/* Returns true if `addr` lies in `prefix` (families must match). */
bool net_prefix_contains(const struct net_prefix *prefix, const struct net_addr *addr);

/* Total order: family first, then bytes. Returns <0, 0, >0. */
int net_addr_compare(const struct net_addr *a, const struct net_addr *b);

/* Writes the canonical text form (RFC 5952 for IPv6) into buf. */
void net_addr_format(const struct net_addr *addr, char *buf, size_t len);
void net_prefix_format(const struct net_prefix *prefix, char *buf, size_t len);
void mac_addr_format(const struct mac_addr *mac, char *buf, size_t len);

/* Returns true for the networks DESIGN.md counts as internal when a matrix
 * lists none: RFC 1918, RFC 6598, RFC 4193, link-local and loopback. */
bool net_addr_is_default_internal(const struct net_addr *addr);

/* A 32-bit hash of the address mixed with `seed`. */
uint32_t net_addr_hash(const struct net_addr *addr, uint32_t seed);

#endif
