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

/* The server's leaf certificate (TLS <= 1.2 sends it in clear). */
struct certificate_facts {
    bool seen;                    /* a Certificate message was parsed */
    bool parsed;                  /* its leaf certificate was valid DER */
    char key_type[12];            /* "RSA", "EC", "DSA", "Ed25519", "Ed448", "unknown" */
    uint16_t key_bits;            /* modulus or curve size, 0 if unknown */
    char signature[32];           /* signature algorithm: "RSA-SHA256", "RSA-SHA1", "RSA-MD5", "ECDSA-SHA256"... */
    bool weak_signature_hash;     /* MD5 or SHA-1 (or worse) */
    bool self_signed;             /* issuer == subject and the signature verifies with its own key */
    int64_t not_before;           /* validity, seconds since the epoch */
    int64_t not_after;
    char subject_cn[FACT_NAME_MAX * 2];
    char issuer_cn[FACT_NAME_MAX * 2];
    uint8_t chain_length;         /* certificates in the message */
};

struct tls_facts {
    bool client_hello_seen;
    bool server_hello_seen;
    bool is_dtls;                 /* seen over UDP (DTLS record layer) */
    uint16_t offered_max_version; /* highest version the client offered */
    uint16_t version;             /* negotiated (ServerHello, supported_versions for 1.3) */
    uint16_t cipher_suite;        /* negotiated suite, IANA number */
    char sni[FACT_HOST_MAX];      /* server_name from the ClientHello, "" if none */
    char alpn[FACT_NAME_MAX];     /* first ALPN protocol the server selected, else the client's first */
    struct certificate_facts certificate;
};

/* How a credential crossed the network. */
enum credential_kind {
    CREDENTIAL_PASSWORD,          /* a password in clear (or base64): Telnet, FTP, POP3, IMAP, SMTP, LDAP, HTTP Basic */
    CREDENTIAL_CHALLENGE,         /* a challenge-response (HTTP Digest, APOP, CRAM-MD5): crackable offline */
    CREDENTIAL_TOKEN,             /* a bearer token or API key */
    CREDENTIAL_COMMUNITY,         /* an SNMP v1/v2c community string */
};

#define FACT_CREDENTIALS_MAX 4    /* distinct credential events kept per flow */
#define FACT_MASKED_USER_MAX 16

/* One login seen in clear. Never the secret itself: the user name is masked
 * ("ad***") and the default-credential verdict is computed in memory. */
struct credential_fact {
    char protocol[12];            /* "FTP", "HTTP", "SNMP"... */
    char method[16];              /* "USER/PASS", "Basic", "Digest", "Bearer", "AUTH PLAIN", "simple bind", "community"... */
    enum credential_kind kind;
    char masked_user[FACT_MASKED_USER_MAX]; /* first two characters then "***"; "" when none */
    int8_t accepted;              /* 1 the server accepted, 0 refused, -1 not shown by the protocol */
    bool default_credential;      /* user/password or community is a well-known default */
    uint32_t count;               /* times this (protocol, method, user) was seen in the flow */
};

struct credential_facts {
    struct credential_fact items[FACT_CREDENTIALS_MAX];
    uint8_t count;
    uint32_t dropped;             /* events past FACT_CREDENTIALS_MAX */
    bool starttls;                /* the session upgraded to TLS (STARTTLS, STLS, LDAP StartTLS) */
};

/* Health data exchanges (DICOM, HL7 v2 over MLLP, FHIR over HTTP). Only
 * protocol metadata: message types, SOP classes, AE titles, application
 * names and counts. Never a field of PID/PV1/OBX, a DICOM data set, a
 * patient name or identifier. */
#define FACT_HEALTH_TYPES_MAX 8
#define FACT_AE_TITLE_MAX 17      /* 16 characters + NUL */

struct dicom_facts {
    bool seen;                    /* a valid DICOM PDU was parsed */
    char calling_ae[FACT_AE_TITLE_MAX];
    char called_ae[FACT_AE_TITLE_MAX];
    uint32_t associations_requested;
    uint32_t associations_accepted;
    uint32_t associations_rejected;
    uint32_t aborts;
    uint32_t releases;
    uint32_t data_pdus;           /* P-DATA-TF PDUs */
    bool dataset_transferred;     /* a P-DATA fragment carried a data set (not only commands) */
    char sop_classes[FACT_HEALTH_TYPES_MAX][FACT_NAME_MAX]; /* abstract syntaxes: a name ("CT Image Storage") or the UID */
    uint8_t sop_class_count;
    uint32_t sop_classes_dropped;
};

struct hl7_facts {
    bool seen;                    /* a well-formed MLLP-framed HL7 v2 message was parsed */
    uint32_t messages;            /* messages from the client side */
    uint32_t acks;                /* ACK messages (MSA segments) */
    uint32_t ack_errors;          /* MSA-1 AE or AR (or CE/CR) */
    char message_types[FACT_HEALTH_TYPES_MAX][16]; /* "ADT^A01", "ORU^R01" */
    uint8_t message_type_count;
    char sending_application[FACT_NAME_MAX];      /* MSH-3, first component */
    char sending_facility[FACT_NAME_MAX];         /* MSH-4 */
    char receiving_application[FACT_NAME_MAX];    /* MSH-5 */
    char receiving_facility[FACT_NAME_MAX];       /* MSH-6 */
    char version[8];              /* MSH-12 */
};

struct fhir_facts {
    bool seen;                    /* an HTTP request to a FHIR resource path or with a FHIR/HL7 content type */
    uint32_t requests;
    char resource_types[FACT_HEALTH_TYPES_MAX][FACT_NAME_MAX]; /* "Patient", "Observation" */
    uint8_t resource_type_count;
    char content_type[FACT_NAME_MAX * 2]; /* "application/fhir+json" */
};

struct health_facts {
    struct dicom_facts dicom;
    struct hl7_facts hl7;
    struct fhir_facts fhir;
};

struct flow_facts {
    bool dpi_done;                 /* nDPI detection finished (classified or gave up) */
    bool dpi_guessed;              /* the application was guessed from ports */
    uint16_t ndpi_master;          /* nDPI master protocol id */
    uint16_t ndpi_app;             /* nDPI application protocol id */
    char app[FACT_NAME_MAX];       /* protocol name: nDPI's ("TLS", "HTTP", "DNS") or the project's ("DICOM") */
    char service[FACT_NAME_MAX];   /* the service nDPI recognised over it ("Google"), "" if none */
    char ndpi_name[FACT_NAME_MAX]; /* nDPI's protocol name when one of the project's inspectors
                                    * recognised another protocol by its structure (`app` then
                                    * holds the inspector's: "DICOM" where nDPI 4.2 says
                                    * "Cassandra", "LDAP" where it says "MQTT"); "" otherwise */
    char category[FACT_NAME_MAX];  /* nDPI category name */
    uint64_t ndpi_risks;           /* nDPI risk bitmap (bit n = ndpi_risk_enum n) */
    char server_name[FACT_HOST_MAX]; /* SNI, HTTP Host or DNS query name nDPI saw */
    char resolved_names[2][FACT_HOST_MAX]; /* names DNS answers in the capture gave the server's
                                          * address, most recent first; "" if none */
    enum transport_security security;
    uint8_t snmp_version;          /* 1, 2 (v2c) or 3 from the first SNMP message; 0 if none */
    struct tls_facts tls;
    struct credential_facts credentials;
    struct health_facts health;
};

/* A printable name for a TLS version ("TLSv1.2", "SSLv3"); "unknown" otherwise. */
const char *tls_version_name(uint16_t version);

/* The DESIGN.md name of a transport security level ("none", "tls", ...). */
const char *transport_security_name(enum transport_security security);

#endif
