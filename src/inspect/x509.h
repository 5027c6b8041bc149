/* inspect/x509: certificate facts from one DER X.509 certificate.
 *
 * Internal to the TLS inspector: the one place that hands certificate bytes
 * to GnuTLS. The DER comes from the wire: its length is capped here before
 * GnuTLS sees it, and only bounded, printable text leaves this module. */
#ifndef FLUXAUDIT_INSPECT_X509_H
#define FLUXAUDIT_INSPECT_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fluxaudit/facts.h"

#define X509_DER_MAX 16384 /* largest certificate handed to GnuTLS */

/* RFC 5280 4.1.2.5: GeneralizedTime 99991231235959Z, "no well-defined
 * expiration date" (what not_after holds for such a certificate). */
#define X509_NO_EXPIRATION INT64_C(253402300799)

/* Parses the DER certificate `der` (`len` bytes, at most X509_DER_MAX) into
 * the certificate fields of `out` (key type and size, signature algorithm,
 * validity, self-signed, subject and issuer CN) and sets out->parsed.
 * Returns true if it was a valid certificate; otherwise returns false with
 * those fields cleared. Leaves out->seen and out->chain_length alone. */
bool x509_certificate_facts(const uint8_t *der, size_t len, struct certificate_facts *out);

#endif
