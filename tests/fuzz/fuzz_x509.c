/* libFuzzer target for the x509 glue (inspect/x509): arbitrary bytes as a
 * DER certificate, handed to GnuTLS within X509_DER_MAX.
 * Invariants checked: true exactly when parsed is set; seen and
 * chain_length left alone; every string terminated and printable ASCII; a
 * refused certificate leaves every field cleared. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inspect/x509.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct certificate_facts facts;
    memset(&facts, 0x7f, sizeof(facts));
    facts.seen = true;
    facts.chain_length = 3;
    bool ok = x509_certificate_facts(data, size, &facts);
    if (ok != facts.parsed || !facts.seen || facts.chain_length != 3)
        abort();
    check_printable(facts.key_type, sizeof(facts.key_type));
    check_printable(facts.signature, sizeof(facts.signature));
    check_printable(facts.subject_cn, sizeof(facts.subject_cn));
    check_printable(facts.issuer_cn, sizeof(facts.issuer_cn));
    if (!ok && (facts.key_bits != 0 || facts.self_signed || facts.weak_signature_hash ||
                facts.not_before != 0 || facts.not_after != 0 || facts.key_type[0] != '\0'))
        abort();
    if (ok && (facts.key_type[0] == '\0' || facts.signature[0] == '\0'))
        abort();
    return 0;
}
