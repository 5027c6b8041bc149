/* inspect/x509: certificate facts through GnuTLS.
 *
 * The DER is parsed by GnuTLS (gnutls_x509_crt_import), never by hand. What
 * comes back is reduced to plain, bounded facts: a key type from a fixed
 * list, sizes, GnuTLS's own algorithm names, times, and common names with
 * anything but printable ASCII dropped (they end up in reports). */
#include "inspect/x509.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Largest decoded name GnuTLS may return for a certificate of at most
 * X509_DER_MAX bytes (a BMPString can grow when turned into UTF-8). */
#define X509_NAME_MAX ((size_t)4 * X509_DER_MAX)

/* Verification flags for the self-signature check: only the signature
 * matters, so the policy checks (CA bit, key usage, dates, weak hashes,
 * the "trusted because listed" short cut) are all switched off. */
#define X509_SELF_VERIFY_FLAGS                                                                 \
    (GNUTLS_VERIFY_DISABLE_CA_SIGN | GNUTLS_VERIFY_DO_NOT_ALLOW_SAME |                        \
     GNUTLS_VERIFY_ALLOW_ANY_X509_V1_CA_CRT | GNUTLS_VERIFY_ALLOW_SIGN_RSA_MD2 |               \
     GNUTLS_VERIFY_ALLOW_SIGN_RSA_MD5 | GNUTLS_VERIFY_ALLOW_SIGN_WITH_SHA1 |                   \
     GNUTLS_VERIFY_DISABLE_TIME_CHECKS | GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS |           \
     GNUTLS_VERIFY_IGNORE_UNKNOWN_CRIT_EXTENSIONS)

/* Copies the printable ASCII characters of text[0, len) into out,
 * truncated to out_size - 1 characters and terminated. */
static void x509_copy_printable(const char *text, size_t len, char *out, size_t out_size)
{
    size_t kept = 0;
    for (size_t i = 0; i < len && kept + 1 < out_size; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c >= 0x20 && c < 0x7f)
            out[kept++] = (char)c;
    }
    out[kept] = '\0';
}

/* Clears every field this module fills, keeping seen and chain_length. */
static void x509_clear(struct certificate_facts *out)
{
    bool seen = out->seen;
    uint8_t chain_length = out->chain_length;
    memset(out, 0, sizeof(*out));
    out->seen = seen;
    out->chain_length = chain_length;
}

/* The project's name for a GnuTLS public-key algorithm. */
static const char *x509_key_type_name(int algorithm)
{
    switch (algorithm) {
    case GNUTLS_PK_RSA:
    case GNUTLS_PK_RSA_PSS:
        return "RSA";
    case GNUTLS_PK_DSA:
        return "DSA";
    case GNUTLS_PK_ECDSA:
        return "EC";
    case GNUTLS_PK_EDDSA_ED25519:
        return "Ed25519";
    case GNUTLS_PK_EDDSA_ED448:
        return "Ed448";
    default:
        return "unknown";
    }
}

/* Fills key_type and key_bits (modulus or curve size). */
static void x509_key(gnutls_x509_crt_t crt, struct certificate_facts *out)
{
    unsigned int bits = 0;
    int algorithm = gnutls_x509_crt_get_pk_algorithm(crt, &bits);
    const char *type = x509_key_type_name(algorithm);
    x509_copy_printable(type, strlen(type), out->key_type, sizeof(out->key_type));
    if (algorithm <= 0)
        bits = 0;
    out->key_bits = bits > UINT16_MAX ? UINT16_MAX : (uint16_t)bits;
}

/* Fills signature (GnuTLS's name, e.g. "RSA-SHA256") and whether its hash
 * is broken for signatures (MD2, MD5, SHA-1). */
static void x509_signature(gnutls_x509_crt_t crt, struct certificate_facts *out)
{
    int algorithm = gnutls_x509_crt_get_signature_algorithm(crt);
    const char *name = algorithm > 0 ? gnutls_sign_get_name(algorithm) : NULL;
    if (name == NULL)
        name = "unknown";
    x509_copy_printable(name, strlen(name), out->signature, sizeof(out->signature));
    gnutls_digest_algorithm_t hash =
        algorithm > 0 ? gnutls_sign_get_hash_algorithm(algorithm) : GNUTLS_DIG_UNKNOWN;
    out->weak_signature_hash =
        hash == GNUTLS_DIG_MD2 || hash == GNUTLS_DIG_MD5 || hash == GNUTLS_DIG_SHA1;
}

/* Fills the validity period. GnuTLS answers (time_t)-1 for 99991231235959Z
 * ("never expires", RFC 5280) as for an unreadable date: not_after then
 * holds that RFC date, which no capture is ever past; an unreadable
 * not_before becomes 0. */
static void x509_validity(gnutls_x509_crt_t crt, struct certificate_facts *out)
{
    time_t not_before = gnutls_x509_crt_get_activation_time(crt);
    time_t not_after = gnutls_x509_crt_get_expiration_time(crt);
    out->not_before = not_before == (time_t)-1 ? 0 : (int64_t)not_before;
    out->not_after = not_after == (time_t)-1 ? X509_NO_EXPIRATION : (int64_t)not_after;
}

/* True if the certificate names itself as issuer and its signature
 * verifies with its own public key. */
static bool x509_self_signed(gnutls_x509_crt_t crt)
{
    if (gnutls_x509_crt_check_issuer(crt, crt) != 1)
        return false;
    unsigned int status = 0;
    if (gnutls_x509_crt_verify(crt, &crt, 1, X509_SELF_VERIFY_FLAGS, &status) < 0)
        return false;
    return status == 0;
}

/* Copies the first common name of the subject (or the issuer) DN into out,
 * printable characters only; "" when there is none. */
static void x509_common_name(gnutls_x509_crt_t crt, bool issuer, char *out, size_t out_size)
{
    out[0] = '\0';
    size_t size = 0;
    int rc = issuer ? gnutls_x509_crt_get_issuer_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
                                                            0, NULL, &size)
                    : gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, NULL,
                                                    &size);
    /* The first call only measures; the size is bounded before allocating. */
    if (rc != GNUTLS_E_SHORT_MEMORY_BUFFER || size == 0 || size > X509_NAME_MAX)
        return;
    char *name = malloc(size);
    if (name == NULL)
        return;
    size_t have = size;
    rc = issuer ? gnutls_x509_crt_get_issuer_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0,
                                                       name, &have)
                : gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, name,
                                                &have);
    if (rc == 0 && have < size)
        x509_copy_printable(name, have, out, out_size);
    free(name);
}

/* Parses one DER certificate into `out` (see x509.h). Returns true if
 * GnuTLS accepted it; false, with the fields cleared, otherwise. */
bool x509_certificate_facts(const uint8_t *der, size_t len, struct certificate_facts *out)
{
    if (out == NULL)
        return false;
    x509_clear(out);
    if (der == NULL || len == 0 || len > X509_DER_MAX)
        return false;
    gnutls_x509_crt_t crt;
    if (gnutls_x509_crt_init(&crt) < 0)
        return false;
    /* GnuTLS takes a non-const datum but only reads the bytes: dropping
     * const directly (not through an integer) keeps the pointer's provenance. */
    gnutls_datum_t datum = {(unsigned char *)der, (unsigned int)len};
    if (gnutls_x509_crt_import(crt, &datum, GNUTLS_X509_FMT_DER) < 0) {
        gnutls_x509_crt_deinit(crt);
        return false;
    }
    x509_key(crt, out);
    x509_signature(crt, out);
    x509_validity(crt, out);
    out->self_signed = x509_self_signed(crt);
    x509_common_name(crt, false, out->subject_cn, sizeof(out->subject_cn));
    x509_common_name(crt, true, out->issuer_cn, sizeof(out->issuer_cn));
    out->parsed = true;
    gnutls_x509_crt_deinit(crt);
    return true;
}
