/* inspect_dns: the names that addresses seen in the capture were resolved
 * from, read from DNS answers, so that a matrix peer given as a DNS name
 * matches the addresses the device actually used (DESIGN.md: DNS-name
 * peers match DNS answers, TLS SNI and HTTP Host).
 *
 * A bounded table: address -> the last names it was resolved from (the
 * answer's owner name and the question's name, which differ through a
 * CNAME chain). Full: the least recently written entries are replaced. */
#ifndef FLUXAUDIT_INSPECT_DNS_H
#define FLUXAUDIT_INSPECT_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "fluxaudit/facts.h"
#include "fluxaudit/netaddr.h"

#define DNS_NAMES_PER_ADDRESS 2

struct dns_names;

/* Creates a table of at most `max_addresses` addresses (rounded up to a
 * power of two). Returns NULL on allocation failure. */
struct dns_names *dns_names_create(size_t max_addresses);
void dns_names_destroy(struct dns_names *table);

/* Reads one DNS message (the payload of a UDP datagram from a server):
 * A and AAAA answers of a successful response are recorded under the
 * question's name and their owner name. Anything malformed is ignored.
 * Returns the number of addresses recorded. */
size_t dns_names_inspect(struct dns_names *table, const uint8_t *payload, uint32_t len);

/* Copies the names `addr` was resolved from (lower case, most recent
 * first) into `names`; returns how many (0 to DNS_NAMES_PER_ADDRESS). */
size_t dns_names_lookup(const struct dns_names *table, const struct net_addr *addr,
                        char names[][FACT_HOST_MAX], size_t max);

#endif
