/* tls_ciphers: the project's own table of TLS cipher suites (IANA TLS
 * Cipher Suites registry names), with the properties the audit judges.
 *
 * nDPI 4.2's weak-cipher risk misses NULL, anonymous and RC4 suites
 * (NDPI-4.2-NOTES.md), so the audit decides from this table only. */
#ifndef FLUXAUDIT_TLS_CIPHERS_H
#define FLUXAUDIT_TLS_CIPHERS_H

#include <stdbool.h>
#include <stdint.h>

enum tls_cipher_flag {
    TLS_CIPHER_NULL = 1 << 0,     /* no encryption */
    TLS_CIPHER_EXPORT = 1 << 1,   /* 40/56-bit export grade */
    TLS_CIPHER_ANON = 1 << 2,     /* no authentication (DH_anon, ECDH_anon) */
    TLS_CIPHER_RC4 = 1 << 3,
    TLS_CIPHER_DES = 1 << 4,      /* single DES */
    TLS_CIPHER_3DES = 1 << 5,
    TLS_CIPHER_CBC = 1 << 6,      /* CBC mode (MAC-then-encrypt) */
    TLS_CIPHER_PFS = 1 << 7,      /* ephemeral key exchange (DHE, ECDHE; every TLS 1.3 suite) */
    TLS_CIPHER_AEAD = 1 << 8,     /* GCM, CCM, ChaCha20-Poly1305 */
    TLS_CIPHER_TLS13 = 1 << 9,    /* a TLS 1.3 suite */
    TLS_CIPHER_SIGNALLING = 1 << 10, /* SCSV values, not real suites */
};

/* Fields ordered by size so the table packs without holes (16 bytes). */
struct tls_cipher_info {
    uint16_t id;
    uint32_t flags;               /* enum tls_cipher_flag bits */
    const char *name;             /* IANA name, e.g. "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" */
};

/* Returns the suite's entry, or NULL if the number is not in the table. */
const struct tls_cipher_info *tls_cipher_lookup(uint16_t id);

/* True if the suite is broken for the RGS / ANSSI TLS guide: NULL, EXPORT,
 * anonymous, RC4, DES or 3DES. */
bool tls_cipher_is_weak(const struct tls_cipher_info *info);

/* True if the suite is acceptable but below the ANSSI recommendation:
 * CBC mode or no forward secrecy. */
bool tls_cipher_is_legacy(const struct tls_cipher_info *info);

#endif
