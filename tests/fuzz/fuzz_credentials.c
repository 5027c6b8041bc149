/* Fuzz target: the cleartext credential inspector.
 *
 * Input: byte 0 picks the protocol (modulo the known ones); then records
 * of [direction/flags byte][length byte][seq delta byte][payload] are fed
 * as segments. Bit 0 of the flags is the direction, bit 1 re-sends the
 * segment at an earlier sequence number (retransmission / overlap). The
 * facts must stay within their bounds, with NUL-terminated strings. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fluxaudit/inspect_credentials.h"

static struct default_credentials *fuzz_table(void)
{
    static struct default_credentials *table;
    if (table == NULL) {
        static const char text[] = "login admin admin\nlogin root toor\nlogin - cisco\n"
                                   "community public\ncommunity private\n";
        struct diag diag;
        diag_init(&diag);
        table = default_credentials_parse("fuzz", text, sizeof(text) - 1, &diag);
        diag_free(&diag);
    }
    return table;
}

static void check_facts(const struct credential_facts *facts)
{
    if (facts->count > FACT_CREDENTIALS_MAX)
        abort();
    for (uint8_t i = 0; i < facts->count; i++) {
        const struct credential_fact *f = &facts->items[i];
        if (memchr(f->protocol, 0, sizeof(f->protocol)) == NULL ||
            memchr(f->method, 0, sizeof(f->method)) == NULL ||
            memchr(f->masked_user, 0, sizeof(f->masked_user)) == NULL || f->count == 0 ||
            f->accepted < -1 || f->accepted > 1)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const enum credential_protocol protocol =
        (enum credential_protocol)(data[0] % (CREDENTIAL_PROTOCOL_SNMP + 1));
    struct credential_inspector *inspector = credential_inspector_create(protocol, fuzz_table());
    if (inspector == NULL)
        return 0;
    struct credential_facts facts;
    memset(&facts, 0, sizeof(facts));
    uint32_t seq[2] = {1000, 0xffffff00u};
    size_t at = 1;
    while (at + 3 <= size) {
        const uint8_t flags = data[at], length = data[at + 1], back = data[at + 2];
        at += 3;
        const size_t len = length < size - at ? length : size - at;
        const int direction = flags & 1;
        /* an exact heap copy so ASan sees overreads */
        uint8_t *copy = malloc(len ? len : 1);
        if (copy == NULL)
            break;
        memcpy(copy, data + at, len);
        const uint32_t start = (flags & 2) ? seq[direction] - back : seq[direction];
        credential_inspector_feed(inspector, direction, start, copy, (uint32_t)len, &facts);
        free(copy);
        if (!(flags & 2))
            seq[direction] += (uint32_t)len;
        at += len;
        check_facts(&facts);
        (void)credential_inspector_done(inspector);
    }
    (void)credential_protocol_guess(6, 4000, data, (uint32_t)size, (data[0] & 0x80) != 0);
    (void)credential_protocol_guess(17, 4000, data, (uint32_t)size, true);
    char masked[FACT_MASKED_USER_MAX];
    credential_mask_user((const char *)data, (uint32_t)size, masked, sizeof(masked));
    credential_inspector_destroy(inspector);
    return 0;
}
