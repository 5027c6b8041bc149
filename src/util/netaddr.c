/* netaddr: address parsing, formatting and prefix tests. */
#include "fluxaudit/netaddr.h"
#include "util/hex.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool net_addr_parse(const char *text, struct net_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (text == NULL)
        return false;
    if (inet_pton(AF_INET, text, out->bytes) == 1) {
        out->family = 4;
        return true;
    }
    if (inet_pton(AF_INET6, text, out->bytes) == 1) {
        out->family = 6;
        return true;
    }
    memset(out, 0, sizeof(*out));
    return false;
}

static size_t family_bits(uint8_t family)
{
    return family == 4 ? 32 : 128;
}

/* True if every bit of addr from `bits` on is zero. */
static bool host_bits_clear(const struct net_addr *addr, unsigned bits)
{
    size_t total = family_bits(addr->family);
    for (size_t bit = bits; bit < total; bit++) {
        if (addr->bytes[bit / 8] & (0x80u >> (bit % 8)))
            return false;
    }
    return true;
}

bool net_prefix_parse(const char *text, struct net_prefix *out)
{
    memset(out, 0, sizeof(*out));
    if (text == NULL)
        return false;
    const char *slash = strchr(text, '/');
    char addr_text[NET_ADDR_TEXT_MAX];
    size_t addr_len = slash ? (size_t)(slash - text) : strlen(text);
    if (addr_len == 0 || addr_len >= sizeof(addr_text))
        return false;
    memcpy(addr_text, text, addr_len);
    addr_text[addr_len] = '\0';
    if (!net_addr_parse(addr_text, &out->addr))
        return false;
    size_t max_bits = family_bits(out->addr.family);
    if (slash == NULL) {
        out->bits = (uint8_t)max_bits;
        return true;
    }
    const char *digits = slash + 1;
    if (*digits == '\0' || strlen(digits) > 3)
        return false;
    for (const char *p = digits; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return false;
    }
    unsigned long bits = strtoul(digits, NULL, 10);
    if (bits > max_bits || !host_bits_clear(&out->addr, (unsigned)bits)) {
        memset(out, 0, sizeof(*out));
        return false;
    }
    out->bits = (uint8_t)bits;
    return true;
}

bool mac_addr_parse(const char *text, struct mac_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (text == NULL || strlen(text) != 17)
        return false;
    char separator = text[2];
    if (separator != ':' && separator != '-')
        return false;
    for (size_t i = 0; i < 6; i++) {
        const char *p = text + i * 3;
        int high = hex_digit_value(p[0]);
        int low = hex_digit_value(p[1]);
        if (high < 0 || low < 0 || (i < 5 && p[2] != separator))
            return false;
        out->bytes[i] = (uint8_t)(high << 4 | low);
    }
    return true;
}

bool net_prefix_contains(const struct net_prefix *prefix, const struct net_addr *addr)
{
    if (prefix->addr.family != addr->family || addr->family == 0)
        return false;
    unsigned full = prefix->bits / 8;
    unsigned rest = prefix->bits % 8;
    if (memcmp(prefix->addr.bytes, addr->bytes, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xFFu << (8 - rest));
    return (prefix->addr.bytes[full] & mask) == (addr->bytes[full] & mask);
}

int net_addr_compare(const struct net_addr *a, const struct net_addr *b)
{
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    return memcmp(a->bytes, b->bytes, sizeof(a->bytes));
}

void net_addr_format(const struct net_addr *addr, char *buf, size_t len)
{
    if (len == 0)
        return;
    buf[0] = '\0';
    char tmp[NET_ADDR_TEXT_MAX] = "";
    if (addr->family == 4)
        inet_ntop(AF_INET, addr->bytes, tmp, sizeof(tmp));
    else if (addr->family == 6)
        inet_ntop(AF_INET6, addr->bytes, tmp, sizeof(tmp));
    snprintf(buf, len, "%s", tmp);
}

void net_prefix_format(const struct net_prefix *prefix, char *buf, size_t len)
{
    char addr[NET_ADDR_TEXT_MAX];
    net_addr_format(&prefix->addr, addr, sizeof(addr));
    if (prefix->bits == family_bits(prefix->addr.family))
        snprintf(buf, len, "%s", addr);
    else
        snprintf(buf, len, "%s/%u", addr, prefix->bits);
}

void mac_addr_format(const struct mac_addr *mac, char *buf, size_t len)
{
    const uint8_t *b = mac->bytes;
    snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
}

/* The networks DESIGN.md treats as internal when the matrix lists none. */
static const struct net_prefix default_internal[] = {
    {{4, {10}}, 8},
    {{4, {172, 16}}, 12},
    {{4, {192, 168}}, 16}, /* RFC 1918 */
    {{4, {100, 64}}, 10},  /* RFC 6598 */
    {{4, {169, 254}}, 16},
    {{4, {127}}, 8},                                              /* link-local, loopback */
    {{6, {0xfc}}, 7},                                             /* RFC 4193 unique local */
    {{6, {0xfe, 0x80}}, 10},                                      /* link-local */
    {{6, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}, 128}, /* loopback */
};

bool net_addr_is_default_internal(const struct net_addr *addr)
{
    for (size_t i = 0; i < sizeof(default_internal) / sizeof(default_internal[0]); i++) {
        if (net_prefix_contains(&default_internal[i], addr))
            return true;
    }
    return false;
}

uint32_t net_addr_hash(const struct net_addr *addr, uint32_t seed)
{
    /* FNV-1a over the family and bytes, keyed by the seed. */
    uint32_t h = 2166136261u ^ seed;
    h = (h ^ addr->family) * 16777619u;
    size_t n = addr->family == 4 ? 4 : 16;
    for (size_t i = 0; i < n; i++)
        h = (h ^ addr->bytes[i]) * 16777619u;
    return h;
}
