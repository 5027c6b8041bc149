/* facts: printable names for the fact enumerations. */
#include "fluxaudit/facts.h"

/* Returns the conventional name of a TLS/DTLS wire version ("TLSv1.2",
 * "DTLSv1.2"), or "unknown" for any other value. */
const char *tls_version_name(uint16_t version)
{
    switch (version) {
    case TLS_VERSION_SSL2:
        return "SSLv2";
    case TLS_VERSION_SSL3:
        return "SSLv3";
    case TLS_VERSION_1_0:
        return "TLSv1.0";
    case TLS_VERSION_1_1:
        return "TLSv1.1";
    case TLS_VERSION_1_2:
        return "TLSv1.2";
    case TLS_VERSION_1_3:
        return "TLSv1.3";
    case 0xfeff:
        return "DTLSv1.0";
    case 0xfefd:
        return "DTLSv1.2";
    case 0xfefc:
        return "DTLSv1.3";
    default:
        return "unknown";
    }
}

/* Returns the DESIGN.md name of a transport security level; "unknown" for
 * SECURITY_UNKNOWN and for any value outside the enumeration. */
const char *transport_security_name(enum transport_security security)
{
    switch (security) {
    case SECURITY_UNKNOWN:
        return "unknown";
    case SECURITY_CLEARTEXT:
        return "none";
    case SECURITY_TLS:
        return "tls";
    case SECURITY_DTLS:
        return "dtls";
    case SECURITY_SSH:
        return "ssh";
    case SECURITY_IPSEC:
        return "ipsec";
    case SECURITY_SNMPV3:
        return "snmpv3";
    case SECURITY_OTHER_ENCRYPTED:
        return "encrypted";
    }
    return "unknown";
}
