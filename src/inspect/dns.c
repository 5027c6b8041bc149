/* inspect/dns: addresses -> names from DNS answers (RFC 1035 §4). */
#include "fluxaudit/inspect_dns.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/reader.h"

#define DNS_HEADER_LEN 12
#define DNS_MAX_RECORDS 64      /* answers read per message */
#define DNS_MAX_POINTERS 16     /* compression pointers followed per name */
#define DNS_NAME_MAX 253
#define DNS_PROBES 8            /* slots looked at before replacing the oldest */
#define DNS_TYPE_A 1
#define DNS_TYPE_AAAA 28
#define DNS_CLASS_IN 1

struct dns_entry {
    struct net_addr addr;       /* family 0: free slot */
    uint64_t written;           /* table clock of the last write, for replacement */
    char names[DNS_NAMES_PER_ADDRESS][FACT_HOST_MAX];
};

struct dns_names {
    struct dns_entry *entries;
    size_t mask;
    uint64_t clock;
};

struct dns_names *dns_names_create(size_t max_addresses)
{
    size_t size = 16;
    while (size < max_addresses && size < ((size_t)1 << 24))
        size <<= 1;
    struct dns_names *table = calloc(1, sizeof(*table));
    if (table == NULL)
        return NULL;
    table->entries = calloc(size, sizeof(*table->entries));
    if (table->entries == NULL) {
        free(table);
        return NULL;
    }
    table->mask = size - 1;
    return table;
}

void dns_names_destroy(struct dns_names *table)
{
    if (table == NULL)
        return;
    free(table->entries);
    free(table);
}

/* Reads a (possibly compressed) name starting at `offset` of the message
 * into `out` as lower-case dotted text. Returns the offset just after the
 * name where it was written (not where pointers led), or 0 on malformed
 * input. Pointers may go anywhere in the message but are counted, so a
 * loop ends. */
static size_t read_name(const uint8_t *message, size_t len, size_t offset, char *out,
                        size_t out_size)
{
    size_t used = 0, next = 0;
    unsigned pointers = 0;
    out[0] = '\0';
    for (;;) {
        struct reader r = reader_make(message, len);
        reader_skip(&r, offset);
        uint8_t label = reader_u8(&r);
        if (r.failed)
            return 0;
        if ((label & 0xC0) == 0xC0) {
            uint8_t low = reader_u8(&r);
            if (r.failed || ++pointers > DNS_MAX_POINTERS)
                return 0;
            if (next == 0)
                next = offset + 2;
            offset = ((size_t)(label & 0x3F) << 8) | low;
            continue;
        }
        if (label & 0xC0) /* 0x40 and 0x80: extended and reserved label types */
            return 0;
        if (label == 0)
            return next != 0 ? next : offset + 1;
        const uint8_t *bytes = reader_bytes(&r, label);
        if (bytes == NULL || used + label + 2 > out_size || used + label + 1 > DNS_NAME_MAX)
            return 0;
        if (used > 0)
            out[used++] = '.';
        for (size_t i = 0; i < label; i++) {
            uint8_t c = bytes[i];
            out[used++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : (c > 0x20 && c < 0x7F ? c : '?'));
        }
        out[used] = '\0';
        offset += 1u + label;
    }
}

static size_t slot_of(const struct dns_names *table, const struct net_addr *addr)
{
    return net_addr_hash(addr, 0x9e3779b9u) & table->mask;
}

/* The entry for `addr`, or a free or the oldest slot among its probes. */
static struct dns_entry *entry_for(struct dns_names *table, const struct net_addr *addr)
{
    size_t slot = slot_of(table, addr);
    struct dns_entry *oldest = NULL;
    for (size_t i = 0; i < DNS_PROBES; i++) {
        struct dns_entry *entry = &table->entries[(slot + i) & table->mask];
        if (entry->addr.family == 0 || net_addr_compare(&entry->addr, addr) == 0)
            return entry;
        if (oldest == NULL || entry->written < oldest->written)
            oldest = entry;
    }
    memset(oldest, 0, sizeof(*oldest));
    return oldest;
}

/* Puts `name` first among the entry's names (moving it up if present). */
static void remember_name(struct dns_entry *entry, const char *name)
{
    if (name[0] == '\0')
        return;
    size_t keep = DNS_NAMES_PER_ADDRESS - 1;
    for (size_t i = 0; i < DNS_NAMES_PER_ADDRESS; i++) {
        if (strcmp(entry->names[i], name) == 0) {
            keep = i;
            break;
        }
    }
    memmove(entry->names[1], entry->names[0], keep * sizeof(entry->names[0]));
    snprintf(entry->names[0], sizeof(entry->names[0]), "%s", name);
}

static void record(struct dns_names *table, const struct net_addr *addr, const char *question,
                   const char *owner)
{
    struct dns_entry *entry = entry_for(table, addr);
    entry->addr = *addr;
    entry->written = ++table->clock;
    if (strcmp(owner, question) != 0)
        remember_name(entry, owner);
    remember_name(entry, question);
}

size_t dns_names_inspect(struct dns_names *table, const uint8_t *payload, uint32_t len)
{
    struct reader r = reader_make(payload, len);
    reader_skip(&r, 2); /* id */
    uint16_t flags = reader_be16(&r);
    uint16_t questions = reader_be16(&r);
    uint16_t answers = reader_be16(&r);
    if (r.failed || !(flags & 0x8000) || (flags & 0x000F) != 0 || questions != 1 || answers == 0)
        return 0;
    char question[FACT_HOST_MAX];
    size_t offset = read_name(payload, len, DNS_HEADER_LEN, question, sizeof(question));
    if (offset == 0)
        return 0;
    offset += 4; /* qtype, qclass */
    size_t recorded = 0;
    for (unsigned i = 0; i < answers && i < DNS_MAX_RECORDS; i++) {
        char owner[FACT_HOST_MAX];
        offset = read_name(payload, len, offset, owner, sizeof(owner));
        if (offset == 0)
            break;
        struct reader rr = reader_make(payload, len);
        reader_skip(&rr, offset);
        uint16_t type = reader_be16(&rr);
        uint16_t class = reader_be16(&rr);
        reader_skip(&rr, 4); /* ttl */
        uint16_t rdlength = reader_be16(&rr);
        const uint8_t *rdata = reader_bytes(&rr, rdlength);
        if (rdata == NULL)
            break;
        offset += 10u + rdlength;
        struct net_addr addr = {0};
        if (class == DNS_CLASS_IN && type == DNS_TYPE_A && rdlength == 4)
            addr.family = 4;
        else if (class == DNS_CLASS_IN && type == DNS_TYPE_AAAA && rdlength == 16)
            addr.family = 6;
        else
            continue;
        memcpy(addr.bytes, rdata, rdlength);
        record(table, &addr, question, owner);
        recorded++;
    }
    return recorded;
}

size_t dns_names_lookup(const struct dns_names *table, const struct net_addr *addr,
                        char names[][FACT_HOST_MAX], size_t max)
{
    size_t slot = slot_of(table, addr);
    for (size_t i = 0; i < DNS_PROBES; i++) {
        const struct dns_entry *entry = &table->entries[(slot + i) & table->mask];
        if (entry->addr.family == 0 || net_addr_compare(&entry->addr, addr) != 0)
            continue;
        size_t count = 0;
        for (size_t n = 0; n < DNS_NAMES_PER_ADDRESS && count < max; n++) {
            if (entry->names[n][0] != '\0')
                snprintf(names[count++], FACT_HOST_MAX, "%s", entry->names[n]);
        }
        return count;
    }
    return 0;
}
