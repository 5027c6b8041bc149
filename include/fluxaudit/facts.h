/* facts: what the classifiers and inspectors learned about one flow.
 *
 * Facts, not verdicts: the audit stage alone decides what is a deviation.
 * Plain data (no pointers), so facts can be copied into aggregates and kept
 * after the flow that produced them is gone. Nothing here may ever hold a
 * secret or a health payload. */
#ifndef FLUXAUDIT_FACTS_H
#define FLUXAUDIT_FACTS_H

#include <stdbool.h>
#include <stdint.h>

#define FACT_NAME_MAX 32
#define FACT_HOST_MAX 128

/* TLS protocol versions as on the wire. */
enum {
    TLS_VERSION_SSL2 = 0x0200,
    TLS_VERSION_SSL3 = 0x0300,
    TLS_VERSION_1_0 = 0x0301,
    TLS_VERSION_1_1 = 0x0302,
    TLS_VERSION_1_2 = 0x0303,
    TLS_VERSION_1_3 = 0x0304,
};

/* The strongest protection the flow was seen to use. */
enum transport_security {
    SECURITY_UNKNOWN = 0, /* no payload seen, or nothing tells */
    SECURITY_CLEARTEXT,   /* payload in a known cleartext protocol or no handshake at all */
    SECURITY_TLS,         /* TLS handshake seen (version in tls.version) */
    SECURITY_DTLS,
    SECURITY_SSH,
    SECURITY_IPSEC,
    SECURITY_SNMPV3,
    SECURITY_OTHER_ENCRYPTED, /* an encrypted protocol nDPI knows (QUIC, WireGuard...) */
};

struct tls_facts {
    bool client_hello_seen;
    bool server_hello_seen;
    uint16_t offered_max_version; /* highest version the client offered */
    uint16_t version;             /* negotiated (ServerHello, supported_versions for 1.3) */
    uint16_t cipher_suite;        /* negotiated suite, IANA number */
    char sni[FACT_HOST_MAX];      /* server_name from the ClientHello, "" if none */
};

struct flow_facts {
    bool dpi_done;                 /* nDPI detection finished (classified or gave up) */
    bool dpi_guessed;              /* the application was guessed from ports */
    uint16_t ndpi_master;          /* nDPI master protocol id */
    uint16_t ndpi_app;             /* nDPI application protocol id */
    char app[FACT_NAME_MAX];       /* protocol name: nDPI's ("TLS", "HTTP", "DNS") or the project's ("DICOM") */
    char service[FACT_NAME_MAX];   /* the service nDPI recognised over it ("Google"), "" if none */
    char category[FACT_NAME_MAX];  /* nDPI category name */
    uint64_t ndpi_risks;           /* nDPI risk bitmap (bit n = ndpi_risk_enum n) */
    char server_name[FACT_HOST_MAX]; /* SNI, HTTP Host or DNS query name nDPI saw */
    enum transport_security security;
    uint8_t snmp_version;          /* 1, 2 (v2c) or 3 from the first SNMP message; 0 if none */
    struct tls_facts tls;
};

/* A printable name for a TLS version ("TLSv1.2", "SSLv3"); "unknown" otherwise. */
const char *tls_version_name(uint16_t version);

/* The DESIGN.md name of a transport security level ("none", "tls", ...). */
const char *transport_security_name(enum transport_security security);

#endif
