/* libFuzzer target for inspect_tls.
 *
 * The first byte picks the mode:
 *  - 0b..00: the rest is one stream prefix for tls_parse_records, direction
 *    from bit 2 (then parsed again as the other direction);
 *  - 0b..10: the rest is DTLS datagrams for tls_inspect_datagram, each a
 *    control byte (bit 0 direction), a length byte and up to that many bytes;
 *  - odd: the rest drives an inspector: 8 bytes of initial sequence numbers
 *    (client, server, big-endian), then segments, each a control byte (bit 0
 *    direction, bit 1 SYN, bits 2-3 how its sequence number moves: in order,
 *    back, ahead, anywhere), a length byte, an optional sequence byte or two
 *    and up to `length` payload bytes.
 * Invariants checked: consumed bytes within the input, "not TLS" consumes
 * nothing, facts strings terminated, SNI made of hostname characters,
 * ALPN and certificate strings of printable ASCII, a parsed certificate
 * was seen, a non-DTLS datagram changes nothing. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fluxaudit/facts.h"
#include "fluxaudit/inspect_tls.h"

static void check_printable(const char *text, size_t size)
{
    size_t len = strnlen(text, size);
    if (len == size)
        abort();
    for (size_t i = 0; i < len; i++) {
        if (text[i] < 0x20 || text[i] > 0x7e)
            abort();
    }
}

static void check_certificate(const struct certificate_facts *cert)
{
    check_printable(cert->key_type, sizeof(cert->key_type));
    check_printable(cert->signature, sizeof(cert->signature));
    check_printable(cert->subject_cn, sizeof(cert->subject_cn));
    check_printable(cert->issuer_cn, sizeof(cert->issuer_cn));
    if (cert->parsed && !cert->seen)
        abort();
    if (!cert->parsed && (cert->key_bits != 0 || cert->self_signed || cert->key_type[0] != '\0'))
        abort();
}

static void check_facts(const struct tls_facts *facts)
{
    check_printable(facts->alpn, sizeof(facts->alpn));
    check_certificate(&facts->certificate);
    size_t len = strnlen(facts->sni, sizeof(facts->sni));
    if (len == sizeof(facts->sni))
        abort();
    for (size_t i = 0; i < len; i++) {
        char c = facts->sni[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                  c == '_';
        if (!ok)
            abort();
    }
    if (facts->server_hello_seen && facts->version == 0)
        abort();
    (void)tls_version_name(facts->version);
    (void)tls_version_name(facts->offered_max_version);
}

static void fuzz_parse(const uint8_t *data, uint32_t len, int direction)
{
    for (int pass = 0; pass < 2; pass++) {
        struct tls_facts facts;
        memset(&facts, 0, sizeof(facts));
        bool not_tls = false;
        uint32_t used = tls_parse_records(data, len, direction, &facts, &not_tls);
        if (used > len || (not_tls && used != 0))
            abort();
        if (not_tls && (facts.client_hello_seen || facts.server_hello_seen))
            abort();
        check_facts(&facts);
        direction = !direction;
    }
}

struct fuzz_input {
    const uint8_t *data;
    size_t len;
    size_t at;
};

static uint8_t next_byte(struct fuzz_input *in)
{
    return in->at < in->len ? in->data[in->at++] : 0;
}

static uint32_t next_be32(struct fuzz_input *in)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = (v << 8) | next_byte(in);
    return v;
}

/* The sequence number of the next segment of a direction. */
static uint32_t next_seq(struct fuzz_input *in, uint8_t control, uint32_t expected)
{
    switch ((control >> 2) & 3) {
    case 1:
        return expected - next_byte(in);
    case 2:
        return expected + next_byte(in);
    case 3: {
        uint32_t high = next_byte(in);
        uint32_t low = next_byte(in);
        return expected + ((high << 8 | low) << 4);
    }
    default:
        return expected;
    }
}

static void fuzz_inspector(const uint8_t *data, size_t len)
{
    struct fuzz_input in = {data, len, 0};
    uint32_t expected[2];
    expected[0] = next_be32(&in);
    expected[1] = next_be32(&in);
    struct tls_inspector *inspector = tls_inspector_create();
    if (inspector == NULL)
        return;
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    while (in.at < in.len) {
        uint8_t control = next_byte(&in);
        int direction = control & 1;
        bool syn = (control & 2) != 0;
        uint32_t want = next_byte(&in);
        uint32_t seq = next_seq(&in, control, expected[direction]);
        uint32_t n = (uint32_t)(in.len - in.at) < want ? (uint32_t)(in.len - in.at) : want;
        tls_inspector_feed(inspector, direction, seq, syn, in.data + in.at, n, &facts);
        (void)tls_inspector_done(inspector);
        in.at += n;
        expected[direction] = seq + (syn ? 1 : 0) + n;
    }
    check_facts(&facts);
    tls_inspector_destroy(inspector);
}

static void fuzz_datagrams(const uint8_t *data, size_t len)
{
    struct fuzz_input in = {data, len, 0};
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    while (in.at < in.len) {
        int direction = next_byte(&in) & 1;
        uint32_t want = next_byte(&in);
        uint32_t n = (uint32_t)(in.len - in.at) < want ? (uint32_t)(in.len - in.at) : want;
        struct tls_facts before = facts;
        if (!tls_inspect_datagram(direction, in.data + in.at, n, &facts) &&
            memcmp(&before, &facts, sizeof(facts)) != 0)
            abort();
        in.at += n;
    }
    check_facts(&facts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t mode = data[0];
    const uint8_t *rest = data + 1;
    size_t rest_len = size - 1;
    if (mode & 1) {
        fuzz_inspector(rest, rest_len);
        return 0;
    }
    if (mode & 2) {
        fuzz_datagrams(rest, rest_len);
        return 0;
    }
    /* a little over the stream cap, so the message cap is reached too */
    if (rest_len > TLS_STREAM_CAP + 8192)
        rest_len = TLS_STREAM_CAP + 8192;
    fuzz_parse(rest, (uint32_t)rest_len, (mode >> 2) & 1);
    return 0;
}
