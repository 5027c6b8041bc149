/* Fuzz target: DNS answers into a small bounded table, then a lookup. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fluxaudit/inspect_dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct dns_names *table;
    if (table == NULL && (table = dns_names_create(16)) == NULL)
        abort();
    dns_names_inspect(table, data, (uint32_t)(size > 65535 ? 65535 : size));
    struct net_addr addr = {.family = 4, .bytes = {10, 10, 2, 5}};
    char names[DNS_NAMES_PER_ADDRESS][FACT_HOST_MAX];
    size_t n = dns_names_lookup(table, &addr, names, DNS_NAMES_PER_ADDRESS);
    if (n > DNS_NAMES_PER_ADDRESS)
        abort();
    return 0;
}
