/* gen_capture: writes a large, deterministic, hospital-like capture for the
 * benchmark harness (bench/run.sh).
 *
 * Usage: gen_capture OUT.pcap [packets]     (default 1000000 packets)
 *
 * The capture is a classic pcap file (Ethernet link type, microsecond
 * timestamps) written directly, without libpcap. Everything derives from a
 * fixed seed, so two runs with the same packet count produce the same bytes.
 *
 * What is inside (the numbers are the generator's, bench/README.md lists
 * the device and server addresses that bench/bench-matrix.json relies on):
 * - 100 medical devices in 10.20.0.0/16: modalities (10.20.1.20-29), patient
 *   monitors (10.20.2.10-49), infusion pumps (10.20.3.10-39), lab analysers
 *   (10.20.4.10-19, 802.1Q VLAN 40) and radiology workstations
 *   (10.20.5.10-19);
 * - 44 internal servers in 10.10.0.0/16 (DNS, NTP, syslog, NMS, PACS, HL7
 *   engines, pump servers, LIS, EHR, update, jump hosts, application servers)
 *   and 16 public peers in the documentation ranges 203.0.113.0/24 and
 *   198.51.100.0/24 (vendor clouds, vendor remote support, web services);
 * - flows: DNS, NTP, syslog, SNMP (get and traps), ICMP echo, TLS 1.0/1.2/1.3
 *   with real ClientHello/ServerHello/certificates, HTTP/1.1, DICOM (A-ASSOCIATE,
 *   P-DATA C-STORE/C-ECHO, A-RELEASE), HL7 v2 over MLLP and SSH, with TCP
 *   handshakes, segmentation at the MSS, delayed ACKs and FIN/RST teardown;
 * - about ten minutes of traffic starting 2026-11-24 07:55:00 UTC.
 *
 * All content is synthetic: names end in .example, addresses are private or
 * documentation ranges, HL7 and DICOM carry obviously fake test data.
 *
 * The generator keeps only the flows in progress in memory: each new flow is
 * expanded into its packet list when it starts, and a min-heap of flows keyed
 * by their next packet's timestamp interleaves them in time order. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GEN_DEFAULT_PACKETS 1000000ULL
#define GEN_SEED 0x5eedf1a5a0d17ULL
#define GEN_EPOCH 1795506900ULL   /* 2026-11-24T07:55:00Z */
#define GEN_SECONDS 600.0         /* target capture duration */
#define GEN_AVG_PACKETS_PER_FLOW 23.6 /* tuned so 1M packets span ~600 s */
#define GEN_MAX_PACKETS 100000000ULL

#define US_PER_S 1000000ULL
#define MS(x) ((uint64_t)((x) * 1000.0))

enum { TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_PSH = 0x08, TCP_ACK = 0x10 };
enum { IPPROTO_ICMP_ = 1, IPPROTO_TCP_ = 6, IPPROTO_UDP_ = 17 };

/* ---------------------------------------------------------------- helpers */

/* Prints a message and exits: this is a stand-alone tool, not a module. */
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("gen_capture: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(EXIT_FAILURE);
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (q == NULL && n != 0)
        die("out of memory (%zu bytes)", n);
    return q;
}

/* xorshift64*: fast, good enough for traffic shapes, fully deterministic. */
struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 2685821657736338717ULL;
}

/* Returns a uniform integer in [lo, hi]. */
static uint64_t rng_range(struct rng *r, uint64_t lo, uint64_t hi)
{
    return lo + rng_next(r) % (hi - lo + 1);
}

/* Returns a uniform double in [0, 1). */
static double rng_unit(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static bool rng_chance(struct rng *r, double p)
{
    return rng_unit(r) < p;
}

/* Returns an exponentially distributed value of the given mean. */
static double rng_exp(struct rng *r, double mean)
{
    return -mean * log(1.0 - rng_unit(r));
}

/* Returns a log-uniform integer in [lo, hi]: many small, a few large, as
 * transfer sizes are. */
static size_t rng_logsize(struct rng *r, double lo, double hi)
{
    return (size_t)exp(log(lo) + rng_unit(r) * (log(hi) - log(lo)));
}

/* Growable byte buffer with big-endian and little-endian writers. */
struct buf {
    uint8_t *p;
    size_t n;
    size_t cap;
};

static void buf_reserve(struct buf *b, size_t extra)
{
    if (b->n + extra <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + extra)
        cap *= 2;
    b->p = xrealloc(b->p, cap);
    b->cap = cap;
}

static void buf_put(struct buf *b, const void *data, size_t len)
{
    buf_reserve(b, len);
    memcpy(b->p + b->n, data, len);
    b->n += len;
}

static void buf_u8(struct buf *b, unsigned v)
{
    uint8_t c = (uint8_t)v;
    buf_put(b, &c, 1);
}

static void buf_be16(struct buf *b, unsigned v)
{
    buf_u8(b, v >> 8);
    buf_u8(b, v);
}

static void buf_be24(struct buf *b, unsigned v)
{
    buf_u8(b, v >> 16);
    buf_be16(b, v);
}

static void buf_be32(struct buf *b, uint32_t v)
{
    buf_be16(b, v >> 16);
    buf_be16(b, v & 0xffff);
}

static void buf_le16(struct buf *b, unsigned v)
{
    buf_u8(b, v);
    buf_u8(b, v >> 8);
}

static void buf_le32(struct buf *b, uint32_t v)
{
    buf_le16(b, v & 0xffff);
    buf_le16(b, v >> 16);
}

static void buf_str(struct buf *b, const char *s)
{
    buf_put(b, s, strlen(s));
}

static void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        die("vsnprintf failed");
    buf_reserve(b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf((char *)b->p + b->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)n;
}

/* Appends `len` pseudo-random bytes (encrypted records, pixel data). */
static void buf_rand(struct buf *b, struct rng *r, size_t len)
{
    buf_reserve(b, len);
    size_t i = 0;
    while (i < len) {
        uint64_t v = rng_next(r);
        for (int k = 0; k < 8 && i < len; k++, i++)
            b->p[b->n + i] = (uint8_t)(v >> (8 * k));
    }
    b->n += len;
}

/* Appends `len` bytes of readable text (HTML bodies, logs). */
static void buf_text(struct buf *b, struct rng *r, size_t len)
{
    static const char *const words[] = {
        "status", "device", "ward", "ok", "firmware", "report", "value", "config",
        "library", "version", "update", "channel", "alarm", "battery", "network",
        "service", "<div>", "</div>", "<td>", "</td>", "\n",
    };
    buf_reserve(b, len);
    size_t end = b->n + len;
    while (b->n < end) {
        const char *w = words[rng_range(r, 0, sizeof(words) / sizeof(words[0]) - 1)];
        size_t wl = strlen(w);
        if (wl + 1 > end - b->n)
            wl = end - b->n - 1;
        memcpy(b->p + b->n, w, wl);
        b->n += wl;
        if (b->n < end)
            b->p[b->n++] = ' ';
    }
}

/* Appends exactly `len` bytes of JSON (an array of small objects, padded
 * with spaces), for API responses. */
static void buf_json(struct buf *b, struct rng *r, size_t len)
{
    static const char *const names[] = {"status", "battery", "channel", "alarm", "rate"};
    size_t end = b->n + len;
    if (len < 16) {
        buf_str(b, "{}");
    } else {
        buf_str(b, "{\"items\":[");
        bool first = true;
        while (b->n + 40 < end) {
            /* One draw per statement: argument evaluation order is unspecified
             * and the output must not depend on the compiler. */
            const char *name = names[rng_range(r, 0, 4)];
            unsigned value = (unsigned)rng_range(r, 0, 9999);
            buf_printf(b, "%s{\"name\":\"%s\",\"value\":%u}", first ? "" : ",", name,
                       value);
            first = false;
        }
        buf_str(b, "]}");
    }
    while (b->n < end)
        buf_u8(b, ' ');
}

static void buf_set_be16(struct buf *b, size_t off, unsigned v)
{
    b->p[off] = (uint8_t)(v >> 8);
    b->p[off + 1] = (uint8_t)v;
}

static void buf_set_be24(struct buf *b, size_t off, unsigned v)
{
    b->p[off] = (uint8_t)(v >> 16);
    buf_set_be16(b, off + 1, v & 0xffff);
}

static void buf_set_be32(struct buf *b, size_t off, uint32_t v)
{
    buf_set_be16(b, off, v >> 16);
    buf_set_be16(b, off + 2, v & 0xffff);
}

static void buf_set_le32(struct buf *b, size_t off, uint32_t v)
{
    for (int k = 0; k < 4; k++)
        b->p[off + k] = (uint8_t)(v >> (8 * k));
}

static void buf_free(struct buf *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

static uint32_t ip_parse(const char *s)
{
    unsigned a, b, c, d;
    if (sscanf(s, "%u.%u.%u.%u", &a, &b, &c, &d) != 4)
        die("bad address %s", s);
    return (uint32_t)(a << 24 | b << 16 | c << 8 | d);
}

/* ------------------------------------------------------------ DER (X.509) */

/* DER values are written with a 3-byte length placeholder, then shrunk to the
 * minimal length encoding when closed, so nesting needs no size precompute. */
static size_t der_begin(struct buf *b, unsigned tag)
{
    size_t off = b->n;
    buf_u8(b, tag);
    buf_u8(b, 0);
    buf_u8(b, 0);
    buf_u8(b, 0);
    return off;
}

static void der_end(struct buf *b, size_t off)
{
    size_t content = off + 4;
    size_t n = b->n - content;
    uint8_t hdr[3];
    size_t hl;
    if (n < 0x80) {
        hdr[0] = (uint8_t)n;
        hl = 1;
    } else if (n < 0x100) {
        hdr[0] = 0x81;
        hdr[1] = (uint8_t)n;
        hl = 2;
    } else {
        hdr[0] = 0x82;
        hdr[1] = (uint8_t)(n >> 8);
        hdr[2] = (uint8_t)n;
        hl = 3;
    }
    memmove(b->p + off + 1 + hl, b->p + content, n);
    memcpy(b->p + off + 1, hdr, hl);
    b->n = off + 1 + hl + n;
}

static void der_tlv(struct buf *b, unsigned tag, const void *v, size_t n)
{
    size_t off = der_begin(b, tag);
    buf_put(b, v, n);
    der_end(b, off);
}

static const uint8_t oid_sha256_rsa[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b};
static const uint8_t oid_sha1_rsa[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05};
static const uint8_t oid_rsa[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};

static void der_algorithm(struct buf *b, const uint8_t *oid, size_t oid_len)
{
    size_t seq = der_begin(b, 0x30);
    der_tlv(b, 0x06, oid, oid_len);
    buf_u8(b, 0x05);
    buf_u8(b, 0x00);
    der_end(b, seq);
}

/* Appends an X.501 Name with O and CN (and C when given). */
static void der_name(struct buf *b, const char *country, const char *org, const char *cn)
{
    static const uint8_t oid_c[] = {0x55, 0x04, 0x06};
    static const uint8_t oid_o[] = {0x55, 0x04, 0x0a};
    static const uint8_t oid_cn[] = {0x55, 0x04, 0x03};
    const uint8_t *oids[3] = {oid_c, oid_o, oid_cn};
    const char *vals[3] = {country, org, cn};
    size_t name = der_begin(b, 0x30);
    for (int i = 0; i < 3; i++) {
        if (vals[i] == NULL)
            continue;
        size_t set = der_begin(b, 0x31);
        size_t atv = der_begin(b, 0x30);
        der_tlv(b, 0x06, oids[i], 3);
        der_tlv(b, i == 0 ? 0x13 : 0x0c, vals[i], strlen(vals[i]));
        der_end(b, atv);
        der_end(b, set);
    }
    der_end(b, name);
}

struct cert_spec {
    const char *subject_cn;
    const char *subject_org;
    const char *issuer_cn;
    const char *issuer_org;
    const char *not_before; /* UTCTime YYMMDDHHMMSSZ */
    const char *not_after;
    unsigned key_bits;
    bool sha1;
    bool san;               /* subjectAltName dNSName = subject_cn */
};

/* Appends a structurally valid X.509 v3 certificate (random key and
 * signature bytes: nothing verifies them, parsers only read the fields). */
static void der_certificate(struct buf *b, struct rng *r, const struct cert_spec *spec)
{
    const uint8_t *sig_oid = spec->sha1 ? oid_sha1_rsa : oid_sha256_rsa;
    size_t cert = der_begin(b, 0x30);
    size_t tbs = der_begin(b, 0x30);
    size_t ver = der_begin(b, 0xa0);
    der_tlv(b, 0x02, "\x02", 1);
    der_end(b, ver);
    uint8_t serial[16];
    for (size_t i = 0; i < sizeof(serial); i++)
        serial[i] = (uint8_t)rng_next(r);
    serial[0] &= 0x7f;
    serial[0] |= 0x10;
    der_tlv(b, 0x02, serial, sizeof(serial));
    der_algorithm(b, sig_oid, sizeof(oid_sha256_rsa));
    der_name(b, "FR", spec->issuer_org, spec->issuer_cn);
    size_t validity = der_begin(b, 0x30);
    der_tlv(b, 0x17, spec->not_before, strlen(spec->not_before));
    der_tlv(b, 0x17, spec->not_after, strlen(spec->not_after));
    der_end(b, validity);
    der_name(b, NULL, spec->subject_org, spec->subject_cn);
    size_t spki = der_begin(b, 0x30);
    der_algorithm(b, oid_rsa, sizeof(oid_rsa));
    size_t bits = der_begin(b, 0x03);
    buf_u8(b, 0);
    size_t rsa = der_begin(b, 0x30);
    size_t mod = der_begin(b, 0x02);
    buf_u8(b, 0);
    size_t mod_start = b->n;
    buf_rand(b, r, spec->key_bits / 8);
    b->p[mod_start] |= 0x80;
    der_end(b, mod);
    der_tlv(b, 0x02, "\x01\x00\x01", 3);
    der_end(b, rsa);
    der_end(b, bits);
    der_end(b, spki);
    if (spec->san) {
        static const uint8_t oid_san[] = {0x55, 0x1d, 0x11};
        size_t ext = der_begin(b, 0xa3);
        size_t exts = der_begin(b, 0x30);
        size_t one = der_begin(b, 0x30);
        der_tlv(b, 0x06, oid_san, sizeof(oid_san));
        size_t octets = der_begin(b, 0x04);
        size_t names = der_begin(b, 0x30);
        der_tlv(b, 0x82, spec->subject_cn, strlen(spec->subject_cn));
        der_end(b, names);
        der_end(b, octets);
        der_end(b, one);
        der_end(b, exts);
        der_end(b, ext);
    }
    der_end(b, tbs);
    der_algorithm(b, sig_oid, sizeof(oid_sha256_rsa));
    size_t sig = der_begin(b, 0x03);
    buf_u8(b, 0);
    buf_rand(b, r, spec->key_bits / 8);
    der_end(b, sig);
    der_end(b, cert);
}

/* ------------------------------------------------------ servers, devices */

enum role {
    ROLE_DNS, ROLE_NTP, ROLE_SYSLOG, ROLE_NMS, ROLE_PACS, ROLE_HL7, ROLE_PUMP_SERVER,
    ROLE_LIS, ROLE_EHR, ROLE_UPDATE, ROLE_JUMP, ROLE_APP, ROLE_VENDOR_CLOUD,
    ROLE_VENDOR_SUPPORT, ROLE_PUBLIC_WEB, ROLE_COUNT
};

enum tls_ver { TLS10 = 0x0301, TLS12 = 0x0303, TLS13 = 0x0304 };

struct server_def {
    const char *name;     /* printf pattern with %02d when count > 1 */
    const char *ip;       /* first address; the others follow */
    enum role role;
    int count;
    unsigned tls_max;     /* highest TLS version the server accepts */
    bool legacy;          /* RSA-1024, SHA-1, self-signed, 3DES preferred */
};

static const struct server_def server_defs[] = {
    {"ns%d.hospital.example", "10.10.0.53", ROLE_DNS, 2, 0, false},
    {"ntp.hospital.example", "10.10.0.123", ROLE_NTP, 1, 0, false},
    {"syslog%d.hospital.example", "10.10.0.114", ROLE_SYSLOG, 2, 0, false},
    {"nms%d.hospital.example", "10.10.0.161", ROLE_NMS, 2, 0, false},
    {"pacs%d.hospital.example", "10.10.2.5", ROLE_PACS, 3, 0, false},
    {"hl7-engine%d.hospital.example", "10.10.3.10", ROLE_HL7, 2, 0, false},
    {"pumps1.hospital.example", "10.10.4.20", ROLE_PUMP_SERVER, 1, TLS12, false},
    {"pumps2.hospital.example", "10.10.4.21", ROLE_PUMP_SERVER, 1, TLS12, true},
    {"lis.hospital.example", "10.10.4.50", ROLE_LIS, 1, TLS12, false},
    {"ehr%02d.hospital.example", "10.10.5.10", ROLE_EHR, 10, TLS13, false},
    {"wsus%02d.hospital.example", "10.10.6.10", ROLE_UPDATE, 5, TLS12, false},
    {"jump%02d.hospital.example", "10.10.7.22", ROLE_JUMP, 2, 0, false},
    {"app%02d.hospital.example", "10.10.8.10", ROLE_APP, 12, TLS12, false},
    {"telemetry.acme-medical.example", "203.0.113.10", ROLE_VENDOR_CLOUD, 1, TLS13, false},
    {"updates.acme-medical.example", "203.0.113.11", ROLE_VENDOR_CLOUD, 1, TLS12, false},
    {"cloud.infumed.example", "203.0.113.12", ROLE_VENDOR_CLOUD, 1, TLS13, false},
    {"api.labnova.example", "203.0.113.13", ROLE_VENDOR_CLOUD, 1, TLS12, false},
    {"portal.monitec.example", "203.0.113.14", ROLE_VENDOR_CLOUD, 1, TLS13, false},
    {"support%02d.acme-medical.example", "198.51.100.20", ROLE_VENDOR_SUPPORT, 5, 0, false},
    {"www.microsoft.com", "203.0.113.100", ROLE_PUBLIC_WEB, 1, TLS13, false},
    {"settings-win.data.microsoft.com", "203.0.113.101", ROLE_PUBLIC_WEB, 1, TLS13, false},
    {"login.microsoftonline.com", "203.0.113.102", ROLE_PUBLIC_WEB, 1, TLS13, false},
    {"www.google.com", "203.0.113.103", ROLE_PUBLIC_WEB, 1, TLS13, false},
    {"update.googleapis.com", "203.0.113.104", ROLE_PUBLIC_WEB, 1, TLS13, false},
    {"ocsp.digicert.com", "203.0.113.105", ROLE_PUBLIC_WEB, 1, TLS12, false},
};

#define MAX_SERVERS 64
#define MAX_CERT 2048

struct server {
    char name[48];
    uint32_t ip;
    enum role role;
    unsigned tls_max;
    bool legacy;
    bool is_public;
    uint8_t chain[2 * MAX_CERT + 16]; /* TLS Certificate message body */
    size_t chain_len;
};

enum device_type { DEV_MODALITY, DEV_MONITOR, DEV_PUMP, DEV_LAB, DEV_WORKSTATION, DEV_TYPE_COUNT };

struct device_def {
    const char *prefix;
    const char *first_ip;
    int count;
};

static const struct device_def device_defs[DEV_TYPE_COUNT] = {
    [DEV_MODALITY] = {"mod", "10.20.1.20", 10},
    [DEV_MONITOR] = {"mon-icu", "10.20.2.10", 40},
    [DEV_PUMP] = {"pump", "10.20.3.10", 30},
    [DEV_LAB] = {"lab", "10.20.4.10", 10},
    [DEV_WORKSTATION] = {"ws-rad", "10.20.5.10", 10},
};

static const char *const modality_names[10] = {
    "ct-01", "ct-02", "ct-03", "mr-01", "mr-02", "us-01", "us-02", "us-03", "xr-01", "xr-02",
};

#define MAX_DEVICES 100
#define LAB_VLAN 40

struct device {
    char name[24];
    uint32_t ip;
    uint8_t mac[6];
    enum device_type type;
    int index;             /* within its type */
    uint16_t vlan;         /* 0: untagged */
    uint16_t next_port;    /* ephemeral ports, incremented per connection */
    unsigned tls_max;      /* highest TLS version the firmware offers */
    bool tls_legacy;       /* offers RC4/3DES suites, no SNI */
};

enum kind {
    K_DNS, K_NTP, K_SYSLOG, K_SNMP, K_SNMP_TRAP, K_ICMP, K_TLS, K_HTTP, K_DICOM, K_HL7,
    K_SSH, K_COUNT
};

static const char *const kind_names[K_COUNT] = {
    "dns", "ntp", "syslog", "snmp", "snmp-trap", "icmp", "tls", "http", "dicom", "hl7", "ssh",
};

/* Relative flow weights per device type: what each kind of device does. */
static const unsigned kind_weights[DEV_TYPE_COUNT][K_COUNT] = {
    /*                 dns ntp sys snmp trap icmp tls http dicom hl7 ssh */
    [DEV_MODALITY] = {30, 4, 10, 5, 1, 3, 12, 3, 26, 0, 3},
    [DEV_MONITOR] = {30, 4, 14, 9, 2, 5, 6, 2, 0, 28, 0},
    [DEV_PUMP] = {30, 4, 10, 5, 2, 3, 34, 12, 0, 0, 0},
    [DEV_LAB] = {26, 4, 10, 4, 1, 2, 14, 14, 0, 25, 0},
    [DEV_WORKSTATION] = {34, 3, 3, 2, 0, 2, 34, 14, 5, 0, 3},
};

/* ------------------------------------------------------------------ flows */

struct pkt {
    uint64_t ts;     /* microseconds since the capture start */
    uint32_t off;    /* payload offset in the flow arena */
    uint32_t len;
    uint32_t seq;
    uint32_t ack;
    uint8_t dir;     /* 0: initiator to responder */
    uint8_t flags;   /* TCP flags */
};

struct flow {
    enum kind kind;
    uint8_t l4;
    uint32_t ip[2];          /* [0] initiator, [1] responder */
    uint16_t port[2];
    uint8_t mac[2][6];
    uint8_t ttl[2];
    uint16_t ip_id[2];
    uint16_t vlan;
    uint16_t mss;
    uint64_t rtt;            /* microseconds */
    uint64_t link_bps;
    uint64_t t;              /* build clock */
    uint32_t seq[2];
    struct pkt *pkts;
    size_t count;
    size_t cap;
    size_t next;
    struct buf arena;
};

struct gen {
    struct rng rng;
    struct server servers[MAX_SERVERS];
    size_t server_count;
    struct device devices[MAX_DEVICES];
    size_t device_count;
    struct buf scratch;      /* message under construction */
    struct buf scratch2;
    uint32_t hl7_control_id;
    uint64_t flows_by_kind[K_COUNT];
    uint64_t packets_by_kind[K_COUNT];
    uint64_t bytes_by_kind[K_COUNT];
};

static const uint8_t router_mac[6] = {0x00, 0x00, 0x5e, 0x00, 0x01, 0x14};

static void device_mac(uint32_t ip, uint8_t mac[6])
{
    mac[0] = 0x02;
    mac[1] = 0x00;
    mac[2] = (uint8_t)(ip >> 24);
    mac[3] = (uint8_t)(ip >> 16);
    mac[4] = (uint8_t)(ip >> 8);
    mac[5] = (uint8_t)ip;
}

static bool ip_is_public(uint32_t ip)
{
    return (ip >> 24) != 10;
}

/* Appends a packet descriptor; the payload (if any) is copied to the arena. */
static void flow_add(struct flow *f, uint64_t ts, int dir, uint8_t flags, const uint8_t *data,
                     size_t len)
{
    if (f->count == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 16;
        f->pkts = xrealloc(f->pkts, f->cap * sizeof(*f->pkts));
    }
    struct pkt *p = &f->pkts[f->count++];
    p->ts = ts;
    p->off = (uint32_t)f->arena.n;
    p->len = (uint32_t)len;
    p->seq = f->seq[dir];
    p->ack = f->seq[!dir];
    p->dir = (uint8_t)dir;
    p->flags = flags;
    if (len)
        buf_put(&f->arena, data, len);
}

/* Microseconds a frame of `len` payload bytes takes on the flow's link. */
static uint64_t flow_wire_time(const struct flow *f, size_t len)
{
    uint64_t bits = (uint64_t)(len + 54) * 8;
    uint64_t us = bits * US_PER_S / f->link_bps;
    return us ? us : 1;
}

/* Opens a TCP connection: SYN, SYN-ACK, ACK. */
static void flow_tcp_open(struct gen *g, struct flow *f)
{
    f->seq[0] = (uint32_t)rng_next(&g->rng);
    f->seq[1] = (uint32_t)rng_next(&g->rng);
    flow_add(f, f->t, 0, TCP_SYN, NULL, 0);
    f->seq[0]++;
    f->t += f->rtt;
    flow_add(f, f->t, 1, TCP_SYN | TCP_ACK, NULL, 0);
    f->seq[1]++;
    f->t += 40;
    flow_add(f, f->t, 0, TCP_ACK, NULL, 0);
}

/* Sends one application message from `dir` after `gap` microseconds: one
 * datagram for UDP/ICMP, MSS-sized segments with delayed ACKs for TCP. */
static void flow_send(struct gen *g, struct flow *f, int dir, const struct buf *msg, uint64_t gap)
{
    f->t += gap;
    if (f->l4 != IPPROTO_TCP_) {
        flow_add(f, f->t, dir, 0, msg->p, msg->n);
        f->t += flow_wire_time(f, msg->n);
        return;
    }
    size_t off = 0;
    unsigned segments = 0;
    while (off < msg->n) {
        size_t seg = msg->n - off;
        if (seg > f->mss)
            seg = f->mss;
        bool last = off + seg == msg->n;
        flow_add(f, f->t, dir, TCP_ACK | (last ? TCP_PSH : 0), msg->p + off, seg);
        f->seq[dir] += (uint32_t)seg;
        off += seg;
        segments++;
        /* Receivers ACK every second segment, and the last one when their
         * delayed-ACK timer fires before they have something to say. */
        if (segments % 2 == 0 || (last && rng_chance(&g->rng, 0.5)))
            flow_add(f, f->t + f->rtt / 2 + 30, !dir, TCP_ACK, NULL, 0);
        f->t += flow_wire_time(f, seg);
    }
}

/* Closes a TCP connection from `dir`: FIN handshake, or RST sometimes. */
static void flow_tcp_close(struct gen *g, struct flow *f, int dir, uint64_t gap)
{
    f->t += gap;
    if (rng_chance(&g->rng, 0.04)) {
        flow_add(f, f->t, dir, TCP_RST | TCP_ACK, NULL, 0);
        return;
    }
    flow_add(f, f->t, dir, TCP_FIN | TCP_ACK, NULL, 0);
    f->seq[dir]++;
    f->t += f->rtt;
    flow_add(f, f->t, !dir, TCP_FIN | TCP_ACK, NULL, 0);
    f->seq[!dir]++;
    f->t += 40;
    flow_add(f, f->t, dir, TCP_ACK, NULL, 0);
}

/* Packets were appended nearly in time order (delayed ACKs run a little
 * ahead): an insertion sort restores the order and keeps ties stable. */
static void flow_sort(struct flow *f)
{
    for (size_t i = 1; i < f->count; i++) {
        struct pkt p = f->pkts[i];
        size_t j = i;
        while (j > 0 && f->pkts[j - 1].ts > p.ts) {
            f->pkts[j] = f->pkts[j - 1];
            j--;
        }
        f->pkts[j] = p;
    }
}

static void flow_free(struct flow *f)
{
    free(f->pkts);
    buf_free(&f->arena);
    free(f);
}

/* ------------------------------------------------------------ DNS / NTP */

static void dns_name(struct buf *b, const char *name)
{
    const char *s = name;
    while (*s) {
        const char *dot = strchr(s, '.');
        size_t len = dot ? (size_t)(dot - s) : strlen(s);
        buf_u8(b, (unsigned)len);
        buf_put(b, s, len);
        s += len;
        if (*s == '.')
            s++;
    }
    buf_u8(b, 0);
}

/* Builds a DNS query (A or AAAA) and its answer; `ip` 0 means NXDOMAIN. */
static void build_dns(struct gen *g, struct flow *f, const char *name, uint32_t ip, bool aaaa)
{
    struct buf *q = &g->scratch;
    unsigned id = (unsigned)rng_range(&g->rng, 0, 0xffff);
    unsigned qtype = aaaa ? 28 : 1;
    q->n = 0;
    buf_be16(q, id);
    buf_be16(q, 0x0100);
    buf_be16(q, 1);
    buf_be16(q, 0);
    buf_be16(q, 0);
    buf_be16(q, 0);
    dns_name(q, name);
    buf_be16(q, qtype);
    buf_be16(q, 1);
    flow_send(g, f, 0, q, 0);

    struct buf *a = &g->scratch2;
    bool answer = ip != 0 && !aaaa;
    a->n = 0;
    buf_be16(a, id);
    buf_be16(a, ip == 0 ? 0x8183 : 0x8180);
    buf_be16(a, 1);
    buf_be16(a, answer ? 1 : 0);
    buf_be16(a, 0);
    buf_be16(a, 0);
    dns_name(a, name);
    buf_be16(a, qtype);
    buf_be16(a, 1);
    if (answer) {
        buf_be16(a, 0xc00c);
        buf_be16(a, 1);
        buf_be16(a, 1);
        buf_be32(a, 300);
        buf_be16(a, 4);
        buf_be32(a, ip);
    }
    flow_send(g, f, 1, a, f->rtt + rng_range(&g->rng, 50, 2000));
}

static void build_ntp(struct gen *g, struct flow *f)
{
    struct buf *b = &g->scratch;
    b->n = 0;
    buf_u8(b, 0x23); /* v4, client */
    buf_u8(b, 0);
    buf_u8(b, 6);
    buf_u8(b, 0xe9);
    buf_rand(b, &g->rng, 44);
    flow_send(g, f, 0, b, 0);
    b->n = 0;
    buf_u8(b, 0x24); /* v4, server */
    buf_u8(b, 2);
    buf_u8(b, 6);
    buf_u8(b, 0xe9);
    buf_rand(b, &g->rng, 44);
    flow_send(g, f, 1, b, f->rtt + 200);
}

/* --------------------------------------------------------- syslog / SNMP */

static void format_clock(uint64_t t_us, char *out, size_t out_len, const char *fmt)
{
    time_t secs = (time_t)(GEN_EPOCH + t_us / US_PER_S);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(out, out_len, fmt, &tm);
}

static void build_syslog(struct gen *g, struct flow *f, const struct device *dev)
{
    static const char *const messages[] = {
        "alarm acknowledged on channel 2",
        "battery level 87%, on mains",
        "link up 100Mbps full duplex",
        "service login by user svc (local console)",
        "ntp sync ok, offset 0.003s",
        "configuration checksum verified",
        "drug library v42 active",
        "self-test passed",
        "certificate store reloaded",
        "network interface eth0 renewed DHCP lease",
    };
    static const char *const daemons[] = {"devmgr", "alarmd", "netd", "auditd", "fwupd"};
    unsigned n = (unsigned)rng_range(&g->rng, 1, 6);
    for (unsigned i = 0; i < n; i++) {
        char stamp[32];
        uint64_t gap = i ? rng_range(&g->rng, MS(50), MS(3000)) : 0;
        format_clock(f->t + gap, stamp, sizeof(stamp), "%b %e %H:%M:%S");
        struct buf *b = &g->scratch;
        b->n = 0;
        unsigned priority = 128 + 6 + (unsigned)rng_range(&g->rng, 0, 1); /* local0 */
        const char *daemon = daemons[rng_range(&g->rng, 0, 4)];
        unsigned pid = (unsigned)rng_range(&g->rng, 100, 3000);
        const char *message = messages[rng_range(&g->rng, 0, 9)];
        buf_printf(b, "<%u>%s %s %s[%u]: %s", priority, stamp, dev->name, daemon, pid, message);
        flow_send(g, f, 0, b, gap);
    }
}

/* Appends an SNMP v2c PDU (get, response or trap) for sysUpTime.0. */
static void snmp_message(struct gen *g, struct buf *b, unsigned pdu_tag, uint32_t req_id,
                         bool with_value)
{
    static const uint8_t oid_uptime[] = {0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x03, 0x00};
    b->n = 0;
    size_t msg = der_begin(b, 0x30);
    der_tlv(b, 0x02, "\x01", 1);
    der_tlv(b, 0x04, "public", 6);
    size_t pdu = der_begin(b, pdu_tag);
    uint8_t id[4] = {(uint8_t)(req_id >> 24 & 0x7f), (uint8_t)(req_id >> 16),
                     (uint8_t)(req_id >> 8), (uint8_t)req_id};
    der_tlv(b, 0x02, id, 4);
    der_tlv(b, 0x02, "\x00", 1);
    der_tlv(b, 0x02, "\x00", 1);
    size_t list = der_begin(b, 0x30);
    size_t bind = der_begin(b, 0x30);
    der_tlv(b, 0x06, oid_uptime, sizeof(oid_uptime));
    if (with_value) {
        uint32_t ticks = (uint32_t)rng_range(&g->rng, 0x01000000, 0x3fffffff);
        uint8_t v[4] = {(uint8_t)(ticks >> 24), (uint8_t)(ticks >> 16), (uint8_t)(ticks >> 8),
                        (uint8_t)ticks};
        der_tlv(b, 0x43, v, 4);
    } else {
        buf_u8(b, 0x05);
        buf_u8(b, 0x00);
    }
    der_end(b, bind);
    der_end(b, list);
    der_end(b, pdu);
    der_end(b, msg);
}

static void build_snmp(struct gen *g, struct flow *f)
{
    unsigned polls = (unsigned)rng_range(&g->rng, 1, 3);
    for (unsigned i = 0; i < polls; i++) {
        uint32_t id = (uint32_t)rng_next(&g->rng);
        snmp_message(g, &g->scratch, 0xa0, id, false);
        flow_send(g, f, 0, &g->scratch, i ? rng_range(&g->rng, MS(100), MS(2000)) : 0);
        snmp_message(g, &g->scratch, 0xa2, id, true);
        flow_send(g, f, 1, &g->scratch, f->rtt + rng_range(&g->rng, 200, 3000));
    }
}

static void build_snmp_trap(struct gen *g, struct flow *f)
{
    snmp_message(g, &g->scratch, 0xa7, (uint32_t)rng_next(&g->rng), true);
    flow_send(g, f, 0, &g->scratch, 0);
}

/* ------------------------------------------------------------------ ICMP */

static uint16_t inet_checksum(const uint8_t *data, size_t len, uint32_t sum)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)data[i] << 8 | data[i + 1];
    if (len & 1)
        sum += (uint32_t)data[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void icmp_echo(struct buf *b, unsigned type, unsigned id, unsigned seq, uint64_t t)
{
    b->n = 0;
    buf_u8(b, type);
    buf_u8(b, 0);
    buf_be16(b, 0);
    buf_be16(b, id);
    buf_be16(b, seq);
    buf_le32(b, (uint32_t)(GEN_EPOCH + t / US_PER_S));
    buf_le32(b, 0);
    buf_le32(b, (uint32_t)(t % US_PER_S));
    buf_le32(b, 0);
    for (unsigned i = 0x10; i < 0x38; i++)
        buf_u8(b, i);
    buf_set_be16(b, 2, inet_checksum(b->p, b->n, 0));
}

static void build_icmp(struct gen *g, struct flow *f)
{
    unsigned id = (unsigned)rng_range(&g->rng, 1, 0xffff);
    unsigned count = (unsigned)rng_range(&g->rng, 3, 5);
    for (unsigned seq = 1; seq <= count; seq++) {
        uint64_t gap = seq > 1 ? US_PER_S : 0;
        icmp_echo(&g->scratch, 8, id, seq, f->t + gap);
        flow_send(g, f, 0, &g->scratch, gap);
        icmp_echo(&g->scratch, 0, id, seq, f->t);
        flow_send(g, f, 1, &g->scratch, f->rtt);
    }
}

/* ------------------------------------------------------------------- TLS */

static size_t tls_record_begin(struct buf *b, unsigned type, unsigned version)
{
    size_t off = b->n;
    buf_u8(b, type);
    buf_be16(b, version);
    buf_be16(b, 0);
    return off;
}

static void tls_record_end(struct buf *b, size_t off)
{
    buf_set_be16(b, off + 3, (unsigned)(b->n - off - 5));
}

static size_t tls_hs_begin(struct buf *b, unsigned type)
{
    size_t off = b->n;
    buf_u8(b, type);
    buf_be24(b, 0);
    return off;
}

static void tls_hs_end(struct buf *b, size_t off)
{
    buf_set_be24(b, off + 1, (unsigned)(b->n - off - 4));
}

static size_t tls_ext_begin(struct buf *b, unsigned type)
{
    size_t off = b->n;
    buf_be16(b, type);
    buf_be16(b, 0);
    return off;
}

static void tls_ext_end(struct buf *b, size_t off)
{
    buf_set_be16(b, off + 2, (unsigned)(b->n - off - 4));
}

/* Builds the certificate chain (leaf + issuing CA) of a TLS server into its
 * Certificate message body. */
static void server_make_chain(struct gen *g, struct server *s)
{
    struct buf b = {0};
    struct cert_spec leaf = {
        .subject_cn = s->name, .subject_org = "Hospital Example",
        .issuer_cn = "Hospital Example Issuing CA 1", .issuer_org = "Hospital Example",
        .not_before = "260105090000Z", .not_after = "280105090000Z",
        .key_bits = 2048, .sha1 = false, .san = true,
    };
    struct cert_spec ca = {
        .subject_cn = "Hospital Example Issuing CA 1", .subject_org = "Hospital Example",
        .issuer_cn = "Hospital Example Root CA", .issuer_org = "Hospital Example",
        .not_before = "250101000000Z", .not_after = "350101000000Z",
        .key_bits = 2048, .sha1 = false, .san = false,
    };
    if (s->is_public) {
        leaf.subject_org = "Example Services Inc.";
        leaf.issuer_cn = ca.subject_cn = "Example Public TLS CA G2";
        leaf.issuer_org = ca.subject_org = ca.issuer_org = "Example Trust Services";
        ca.issuer_cn = "Example Public Root R1";
        leaf.not_before = "260901000000Z";
        leaf.not_after = "270930235959Z";
    }
    if (s->legacy) {
        /* An old appliance: self-signed, RSA-1024, SHA-1, ten-year validity. */
        leaf.issuer_cn = s->name;
        leaf.issuer_org = leaf.subject_org;
        leaf.key_bits = 1024;
        leaf.sha1 = true;
        leaf.not_before = "180312101500Z";
        leaf.not_after = "280309101500Z";
    }
    struct buf certs[2] = {{0}, {0}};
    der_certificate(&certs[0], &g->rng, &leaf);
    size_t n = 1;
    if (!s->legacy) {
        der_certificate(&certs[1], &g->rng, &ca);
        n = 2;
    }
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += 3 + certs[i].n;
    buf_be24(&b, (unsigned)total);
    for (size_t i = 0; i < n; i++) {
        buf_be24(&b, (unsigned)certs[i].n);
        buf_put(&b, certs[i].p, certs[i].n);
        buf_free(&certs[i]);
    }
    if (b.n > sizeof(s->chain))
        die("certificate chain too large");
    memcpy(s->chain, b.p, b.n);
    s->chain_len = b.n;
    buf_free(&b);
}

static const uint16_t suites_modern[] = {
    0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
    0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
};
static const uint16_t suites_tls12[] = {
    0xc02f, 0xc030, 0xc02b, 0xc02c, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
};
static const uint16_t suites_legacy[] = {0xc014, 0xc013, 0x0035, 0x002f, 0x000a, 0x0005, 0x0004};

struct tls_params {
    unsigned client_max;
    bool legacy_client;
    const char *sni;        /* NULL: no SNI */
    bool alpn;
};

static void build_client_hello(struct gen *g, struct buf *b, const struct tls_params *tp)
{
    const uint16_t *suites = suites_tls12;
    size_t suite_count = sizeof(suites_tls12) / sizeof(suites_tls12[0]);
    if (tp->client_max == TLS13) {
        suites = suites_modern;
        suite_count = sizeof(suites_modern) / sizeof(suites_modern[0]);
    } else if (tp->legacy_client) {
        suites = suites_legacy;
        suite_count = sizeof(suites_legacy) / sizeof(suites_legacy[0]);
    }
    size_t rec = tls_record_begin(b, 0x16, TLS10);
    size_t hs = tls_hs_begin(b, 1);
    buf_be16(b, tp->client_max == TLS10 ? TLS10 : TLS12);
    buf_rand(b, &g->rng, 32);
    if (tp->client_max == TLS13) {
        buf_u8(b, 32);
        buf_rand(b, &g->rng, 32);
    } else {
        buf_u8(b, 0);
    }
    buf_be16(b, (unsigned)(suite_count * 2));
    for (size_t i = 0; i < suite_count; i++)
        buf_be16(b, suites[i]);
    buf_u8(b, 1);
    buf_u8(b, 0);
    size_t exts = b->n;
    buf_be16(b, 0);
    if (tp->sni) {
        size_t e = tls_ext_begin(b, 0x0000);
        buf_be16(b, (unsigned)strlen(tp->sni) + 3);
        buf_u8(b, 0);
        buf_be16(b, (unsigned)strlen(tp->sni));
        buf_str(b, tp->sni);
        tls_ext_end(b, e);
    }
    size_t e = tls_ext_begin(b, 0x000b);
    buf_u8(b, 1);
    buf_u8(b, 0);
    tls_ext_end(b, e);
    e = tls_ext_begin(b, 0x000a);
    buf_be16(b, 6);
    buf_be16(b, 0x001d);
    buf_be16(b, 0x0017);
    buf_be16(b, 0x0018);
    tls_ext_end(b, e);
    if (tp->client_max != TLS10) {
        e = tls_ext_begin(b, 0x0023);
        tls_ext_end(b, e);
        if (tp->alpn) {
            e = tls_ext_begin(b, 0x0010);
            buf_be16(b, 9);
            buf_u8(b, 8);
            buf_str(b, "http/1.1");
            tls_ext_end(b, e);
        }
        e = tls_ext_begin(b, 0x0016);
        tls_ext_end(b, e);
        e = tls_ext_begin(b, 0x0017);
        tls_ext_end(b, e);
        static const uint16_t sigalgs[] = {0x0403, 0x0503, 0x0603, 0x0804, 0x0805,
                                           0x0806, 0x0401, 0x0501, 0x0601, 0x0201};
        e = tls_ext_begin(b, 0x000d);
        buf_be16(b, sizeof(sigalgs));
        for (size_t i = 0; i < sizeof(sigalgs) / sizeof(sigalgs[0]); i++)
            buf_be16(b, sigalgs[i]);
        tls_ext_end(b, e);
    }
    if (tp->client_max == TLS13) {
        e = tls_ext_begin(b, 0x002b);
        buf_u8(b, 4);
        buf_be16(b, TLS13);
        buf_be16(b, TLS12);
        tls_ext_end(b, e);
        e = tls_ext_begin(b, 0x002d);
        buf_u8(b, 1);
        buf_u8(b, 1);
        tls_ext_end(b, e);
        e = tls_ext_begin(b, 0x0033);
        buf_be16(b, 36);
        buf_be16(b, 0x001d);
        buf_be16(b, 32);
        buf_rand(b, &g->rng, 32);
        tls_ext_end(b, e);
    }
    buf_set_be16(b, exts, (unsigned)(b->n - exts - 2));
    tls_hs_end(b, hs);
    tls_record_end(b, rec);
}

/* Appends the server's first flight for TLS <= 1.2: ServerHello,
 * Certificate, ServerKeyExchange (ECDHE suites), ServerHelloDone. */
static void build_server_flight12(struct gen *g, struct buf *b, const struct server *s,
                                  unsigned version, unsigned suite, bool alpn)
{
    size_t rec = tls_record_begin(b, 0x16, version);
    size_t hs = tls_hs_begin(b, 2);
    buf_be16(b, version);
    buf_rand(b, &g->rng, 32);
    buf_u8(b, 32);
    buf_rand(b, &g->rng, 32);
    buf_be16(b, suite);
    buf_u8(b, 0);
    size_t exts = b->n;
    buf_be16(b, 0);
    size_t e = tls_ext_begin(b, 0xff01);
    buf_u8(b, 0);
    tls_ext_end(b, e);
    if (version == TLS12) {
        e = tls_ext_begin(b, 0x0017);
        tls_ext_end(b, e);
        if (alpn) {
            e = tls_ext_begin(b, 0x0010);
            buf_be16(b, 9);
            buf_u8(b, 8);
            buf_str(b, "http/1.1");
            tls_ext_end(b, e);
        }
    }
    buf_set_be16(b, exts, (unsigned)(b->n - exts - 2));
    tls_hs_end(b, hs);
    tls_record_end(b, rec);

    rec = tls_record_begin(b, 0x16, version);
    hs = tls_hs_begin(b, 11);
    buf_put(b, s->chain, s->chain_len);
    tls_hs_end(b, hs);
    tls_record_end(b, rec);

    bool ecdhe = (suite & 0xff00) == 0xc000;
    if (ecdhe) {
        unsigned sig_len = s->legacy ? 128 : 256;
        rec = tls_record_begin(b, 0x16, version);
        hs = tls_hs_begin(b, 12);
        buf_u8(b, 3);
        buf_be16(b, 0x001d);
        buf_u8(b, 32);
        buf_rand(b, &g->rng, 32);
        if (version == TLS12)
            buf_be16(b, 0x0401);
        buf_be16(b, sig_len);
        buf_rand(b, &g->rng, sig_len);
        tls_hs_end(b, hs);
        tls_record_end(b, rec);
    }
    rec = tls_record_begin(b, 0x16, version);
    hs = tls_hs_begin(b, 14);
    tls_hs_end(b, hs);
    tls_record_end(b, rec);
}

static void tls_ccs(struct buf *b, unsigned version)
{
    size_t rec = tls_record_begin(b, 0x14, version);
    buf_u8(b, 1);
    tls_record_end(b, rec);
}

/* Appends an opaque (encrypted) record of `len` bytes. */
static void tls_opaque(struct gen *g, struct buf *b, unsigned type, unsigned version, size_t len)
{
    size_t rec = tls_record_begin(b, type, version);
    buf_rand(b, &g->rng, len);
    tls_record_end(b, rec);
}

/* Appends `len` bytes of application data cut into records of <= 16 KiB. */
static void tls_app_data(struct gen *g, struct buf *b, unsigned version, size_t len)
{
    while (len > 0) {
        size_t chunk = len > 16384 ? 16384 : len;
        tls_opaque(g, b, 0x17, version, chunk + 17);
        len -= chunk;
    }
}

/* Picks the suite a server negotiates with a client. */
static unsigned tls_pick_suite(const struct server *s, unsigned version, bool legacy_client)
{
    if (version == TLS13)
        return 0x1301;
    if (s->legacy && legacy_client)
        return 0x000a; /* 3DES: what the old appliance prefers */
    if (legacy_client)
        return version == TLS10 ? 0x0035 : 0xc014;
    return 0xc02f;
}

static void build_tls(struct gen *g, struct flow *f, const struct server *s,
                      const struct tls_params *tp, size_t max_response)
{
    unsigned version = tp->client_max < s->tls_max ? tp->client_max : s->tls_max;
    unsigned rec_version = version == TLS13 ? TLS12 : version;
    struct buf *b = &g->scratch;

    flow_tcp_open(g, f);
    b->n = 0;
    build_client_hello(g, b, tp);
    flow_send(g, f, 0, b, 100);

    b->n = 0;
    if (version == TLS13) {
        size_t rec = tls_record_begin(b, 0x16, TLS12);
        size_t hs = tls_hs_begin(b, 2);
        buf_be16(b, TLS12);
        buf_rand(b, &g->rng, 32);
        buf_u8(b, 32);
        buf_rand(b, &g->rng, 32);
        buf_be16(b, 0x1301);
        buf_u8(b, 0);
        buf_be16(b, 46);
        buf_be16(b, 0x002b);
        buf_be16(b, 2);
        buf_be16(b, TLS13);
        buf_be16(b, 0x0033);
        buf_be16(b, 36);
        buf_be16(b, 0x001d);
        buf_be16(b, 32);
        buf_rand(b, &g->rng, 32);
        tls_hs_end(b, hs);
        tls_record_end(b, rec);
        tls_ccs(b, TLS12);
        /* EncryptedExtensions, Certificate, CertificateVerify, Finished. */
        tls_opaque(g, b, 0x17, TLS12, s->chain_len + 400);
        flow_send(g, f, 1, b, f->rtt + rng_range(&g->rng, 300, 3000));
        b->n = 0;
        tls_ccs(b, TLS12);
        tls_opaque(g, b, 0x17, TLS12, 53);
        flow_send(g, f, 0, b, 500);
    } else {
        unsigned suite = tls_pick_suite(s, version, tp->legacy_client);
        build_server_flight12(g, b, s, version, suite, tp->alpn);
        flow_send(g, f, 1, b, f->rtt + rng_range(&g->rng, 300, 5000));
        b->n = 0;
        size_t rec = tls_record_begin(b, 0x16, version);
        size_t hs = tls_hs_begin(b, 16);
        if ((suite & 0xff00) == 0xc000) {
            buf_u8(b, 32);
            buf_rand(b, &g->rng, 32);
        } else {
            unsigned n = s->legacy ? 128 : 256;
            buf_be16(b, n);
            buf_rand(b, &g->rng, n);
        }
        tls_hs_end(b, hs);
        tls_record_end(b, rec);
        tls_ccs(b, version);
        tls_opaque(g, b, 0x16, version, 40);
        flow_send(g, f, 0, b, 800);
        b->n = 0;
        if (version == TLS12 && rng_chance(&g->rng, 0.5)) {
            rec = tls_record_begin(b, 0x16, version);
            hs = tls_hs_begin(b, 4);
            buf_be32(b, 7200);
            buf_be16(b, 192);
            buf_rand(b, &g->rng, 192);
            tls_hs_end(b, hs);
            tls_record_end(b, rec);
        }
        tls_ccs(b, version);
        tls_opaque(g, b, 0x16, version, 40);
        flow_send(g, f, 1, b, f->rtt + 300);
    }

    /* Mostly short API sessions, a few long keep-alive ones. */
    unsigned exchanges = rng_chance(&g->rng, 0.8) ? (unsigned)rng_range(&g->rng, 1, 3)
                                                  : (unsigned)rng_range(&g->rng, 4, 12);
    for (unsigned i = 0; i < exchanges; i++) {
        b->n = 0;
        tls_app_data(g, b, rec_version, rng_range(&g->rng, 120, 1400));
        flow_send(g, f, 0, b, i ? (uint64_t)rng_exp(&g->rng, 1.5e6) : 200);
        b->n = 0;
        tls_app_data(g, b, rec_version, rng_logsize(&g->rng, 80, (double)max_response));
        flow_send(g, f, 1, b, f->rtt + rng_range(&g->rng, 500, MS(40)));
    }
    b->n = 0;
    tls_opaque(g, b, 0x15, rec_version, 26);
    flow_send(g, f, 0, b, rng_range(&g->rng, MS(5), MS(2000)));
    flow_tcp_close(g, f, 0, 100);
}

/* ------------------------------------------------------------------ HTTP */

struct http_profile {
    const char *host;
    const char *user_agent;
    const char *const *paths;
    size_t path_count;
    const char *content_type;
    bool binary;
    size_t max_body;
};

static void build_http(struct gen *g, struct flow *f, const struct http_profile *hp)
{
    struct buf *b = &g->scratch;
    flow_tcp_open(g, f);
    unsigned requests = rng_chance(&g->rng, 0.8) ? 1 : (unsigned)rng_range(&g->rng, 2, 5);
    for (unsigned i = 0; i < requests; i++) {
        const char *path = hp->paths[rng_range(&g->rng, 0, hp->path_count - 1)];
        bool post = rng_chance(&g->rng, 0.2);
        b->n = 0;
        if (post) {
            char body[160];
            int n = snprintf(body, sizeof(body),
                             "{\"device\":\"bench\",\"uptime\":%u,\"state\":\"ok\"}",
                             (unsigned)rng_range(&g->rng, 1000, 999999));
            buf_printf(b, "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n"
                       "Content-Type: application/json\r\nContent-Length: %d\r\n"
                       "Connection: keep-alive\r\n\r\n%s",
                       path, hp->host, hp->user_agent, n, body);
        } else {
            buf_printf(b, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n"
                       "Accept: */*\r\nAccept-Encoding: identity\r\n"
                       "Connection: keep-alive\r\n\r\n",
                       path, hp->host, hp->user_agent);
        }
        flow_send(g, f, 0, b, i ? (uint64_t)rng_exp(&g->rng, 8e5) : 150);

        size_t body_len = post ? rng_range(&g->rng, 2, 60)
                               : rng_logsize(&g->rng, 150, (double)hp->max_body);
        char date[64];
        format_clock(f->t, date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT");
        b->n = 0;
        buf_printf(b, "HTTP/1.1 200 OK\r\nDate: %s\r\nServer: nginx/1.22.1\r\n"
                   "Content-Type: %s\r\nContent-Length: %zu\r\n"
                   "Connection: keep-alive\r\n\r\n",
                   date, post ? "application/json" : hp->content_type, body_len);
        if (post || strcmp(hp->content_type, "application/json") == 0)
            buf_json(b, &g->rng, body_len);
        else if (hp->binary)
            buf_rand(b, &g->rng, body_len);
        else
            buf_text(b, &g->rng, body_len);
        flow_send(g, f, 1, b, f->rtt + rng_range(&g->rng, 400, MS(60)));
    }
    int closer = rng_chance(&g->rng, 0.7) ? 0 : 1;
    flow_tcp_close(g, f, closer, rng_range(&g->rng, MS(1), MS(5000)));
}

/* ----------------------------------------------------------------- DICOM */

#define DICOM_MAX_PDU 16384

static void dicom_item(struct buf *b, unsigned type, const char *value)
{
    buf_u8(b, type);
    buf_u8(b, 0);
    buf_be16(b, (unsigned)strlen(value));
    buf_str(b, value);
}

static void dicom_ae(struct buf *b, const char *title)
{
    char padded[17];
    snprintf(padded, sizeof(padded), "%-16s", title);
    buf_put(b, padded, 16);
}

/* A-ASSOCIATE-RQ (0x01) or -AC (0x02) with one presentation context. */
static void dicom_associate(struct buf *b, unsigned pdu_type, const char *called,
                            const char *calling, const char *abstract_syntax)
{
    size_t pdu = b->n;
    buf_u8(b, pdu_type);
    buf_u8(b, 0);
    buf_be32(b, 0);
    buf_be16(b, 1);
    buf_be16(b, 0);
    dicom_ae(b, called);
    dicom_ae(b, calling);
    for (int i = 0; i < 32; i++)
        buf_u8(b, 0);
    dicom_item(b, 0x10, "1.2.840.10008.3.1.1.1");
    size_t pc = b->n;
    buf_u8(b, pdu_type == 1 ? 0x20 : 0x21);
    buf_u8(b, 0);
    buf_be16(b, 0);
    buf_u8(b, 1);
    buf_u8(b, 0);
    buf_u8(b, 0);
    buf_u8(b, 0);
    if (pdu_type == 1) {
        dicom_item(b, 0x30, abstract_syntax);
        dicom_item(b, 0x40, "1.2.840.10008.1.2.1");
        dicom_item(b, 0x40, "1.2.840.10008.1.2");
    } else {
        /* Implicit VR little endian: how the data sets below are encoded. */
        dicom_item(b, 0x40, "1.2.840.10008.1.2");
    }
    buf_set_be16(b, pc + 2, (unsigned)(b->n - pc - 4));
    size_t ui = b->n;
    buf_u8(b, 0x50);
    buf_u8(b, 0);
    buf_be16(b, 0);
    buf_u8(b, 0x51);
    buf_u8(b, 0);
    buf_be16(b, 4);
    buf_be32(b, DICOM_MAX_PDU);
    dicom_item(b, 0x52, "1.2.826.0.1.3680043.9.7777.1");
    dicom_item(b, 0x55, "FLUXBENCH_10");
    buf_set_be16(b, ui + 2, (unsigned)(b->n - ui - 4));
    buf_set_be32(b, pdu + 2, (uint32_t)(b->n - pdu - 6));
}

/* Appends an implicit-VR little-endian element. */
static void dicom_element(struct buf *b, unsigned group, unsigned element, const void *v,
                          size_t n)
{
    buf_le16(b, group);
    buf_le16(b, element);
    buf_le32(b, (uint32_t)n);
    buf_put(b, v, n);
}

static void dicom_element_uid(struct buf *b, unsigned group, unsigned element, const char *uid)
{
    size_t n = strlen(uid);
    buf_le16(b, group);
    buf_le16(b, element);
    buf_le32(b, (uint32_t)(n + (n & 1)));
    buf_put(b, uid, n);
    if (n & 1)
        buf_u8(b, 0);
}

static void dicom_element_u16(struct buf *b, unsigned group, unsigned element, unsigned v)
{
    uint8_t le[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    dicom_element(b, group, element, le, 2);
}

/* Appends a command set (group 0000) for C-STORE/C-ECHO requests and
 * responses; `command` is the DIMSE command field. */
static void dicom_command(struct buf *b, unsigned command, const char *sop_class,
                          const char *sop_instance, unsigned msg_id)
{
    size_t start = b->n;
    dicom_element(b, 0x0000, 0x0000, "\0\0\0\0", 4);
    dicom_element_uid(b, 0x0000, 0x0002, sop_class);
    dicom_element_u16(b, 0x0000, 0x0100, command);
    if (command & 0x8000)
        dicom_element_u16(b, 0x0000, 0x0120, msg_id);
    else
        dicom_element_u16(b, 0x0000, 0x0110, msg_id);
    if (command == 0x0001)
        dicom_element_u16(b, 0x0000, 0x0700, 0);
    dicom_element_u16(b, 0x0000, 0x0800, command == 0x0001 ? 0x0000 : 0x0101);
    if (command & 0x8000)
        dicom_element_u16(b, 0x0000, 0x0900, 0x0000);
    if (sop_instance)
        dicom_element_uid(b, 0x0000, 0x1000, sop_instance);
    buf_set_le32(b, start + 8, (uint32_t)(b->n - start - 12));
}

/* Wraps `data` into P-DATA-TF PDUs of at most DICOM_MAX_PDU bytes, the last
 * fragment flagged. `command` sets the message control header's bit 0. */
static void dicom_pdata(struct buf *out, const uint8_t *data, size_t len, bool command)
{
    size_t max_fragment = DICOM_MAX_PDU - 6 - 6;
    size_t off = 0;
    do {
        size_t frag = len - off > max_fragment ? max_fragment : len - off;
        bool last = off + frag == len;
        buf_u8(out, 0x04);
        buf_u8(out, 0);
        buf_be32(out, (uint32_t)(frag + 6));
        buf_be32(out, (uint32_t)(frag + 2));
        buf_u8(out, 1);
        buf_u8(out, (command ? 0x01 : 0x00) | (last ? 0x02 : 0x00));
        buf_put(out, data + off, frag);
        off += frag;
    } while (off < len);
}

static void dicom_release(struct buf *b, unsigned type)
{
    buf_u8(b, type);
    buf_u8(b, 0);
    buf_be32(b, 4);
    buf_be32(b, 0);
}

static void build_dicom(struct gen *g, struct flow *f, const char *called, const char *calling,
                        bool echo_only)
{
    static const char *const ct_storage = "1.2.840.10008.5.1.4.1.1.2";
    static const char *const verification = "1.2.840.10008.1.1";
    const char *sop_class = echo_only ? verification : ct_storage;
    struct buf *b = &g->scratch;
    struct buf *ds = &g->scratch2;

    flow_tcp_open(g, f);
    b->n = 0;
    dicom_associate(b, 0x01, called, calling, sop_class);
    flow_send(g, f, 0, b, 200);
    b->n = 0;
    dicom_associate(b, 0x02, called, calling, sop_class);
    flow_send(g, f, 1, b, f->rtt + rng_range(&g->rng, 500, MS(10)));

    unsigned images = echo_only ? 1 : (unsigned)rng_range(&g->rng, 1, 4);
    for (unsigned i = 0; i < images; i++) {
        char instance[64];
        snprintf(instance, sizeof(instance), "1.2.826.0.1.3680043.9.7777.2.%u.%u",
                 (unsigned)rng_range(&g->rng, 1, 99999), i + 1);
        b->n = 0;
        ds->n = 0;
        dicom_command(ds, echo_only ? 0x0030 : 0x0001, sop_class,
                      echo_only ? NULL : instance, i + 1);
        dicom_pdata(b, ds->p, ds->n, true);
        if (!echo_only) {
            size_t pixels = rng_logsize(&g->rng, 16384, 524288) & ~(size_t)1;
            ds->n = 0;
            dicom_element_uid(ds, 0x0008, 0x0016, sop_class);
            dicom_element_uid(ds, 0x0008, 0x0018, instance);
            dicom_element(ds, 0x0008, 0x0060, "CT", 2);
            dicom_element(ds, 0x0010, 0x0010, "PHANTOM^TEST", 12);
            dicom_element(ds, 0x0010, 0x0020, "SYN-0001", 8);
            dicom_element_u16(ds, 0x0028, 0x0010, 512);
            dicom_element_u16(ds, 0x0028, 0x0011, 512);
            buf_le16(ds, 0x7fe0);
            buf_le16(ds, 0x0010);
            buf_le32(ds, (uint32_t)pixels);
            buf_rand(ds, &g->rng, pixels);
            dicom_pdata(b, ds->p, ds->n, false);
        }
        flow_send(g, f, 0, b, i ? rng_range(&g->rng, 300, MS(30)) : 300);
        b->n = 0;
        ds->n = 0;
        dicom_command(ds, echo_only ? 0x8030 : 0x8001, sop_class,
                      echo_only ? NULL : instance, i + 1);
        dicom_pdata(b, ds->p, ds->n, true);
        flow_send(g, f, 1, b, f->rtt + rng_range(&g->rng, 500, MS(20)));
    }
    b->n = 0;
    dicom_release(b, 0x05);
    flow_send(g, f, 0, b, 300);
    b->n = 0;
    dicom_release(b, 0x06);
    flow_send(g, f, 1, b, f->rtt + 200);
    flow_tcp_close(g, f, 0, 300);
}

/* ------------------------------------------------------------- HL7 / MLLP */

static void build_hl7(struct gen *g, struct flow *f, const struct device *dev, bool lab)
{
    struct buf *b = &g->scratch;
    flow_tcp_open(g, f);
    unsigned messages = (unsigned)rng_range(&g->rng, 1, 12);
    for (unsigned i = 0; i < messages; i++) {
        uint64_t gap = i ? rng_range(&g->rng, MS(500), MS(5000)) : 200;
        char stamp[20];
        format_clock(f->t + gap, stamp, sizeof(stamp), "%Y%m%d%H%M%S");
        unsigned control = ++g->hl7_control_id;
        b->n = 0;
        buf_u8(b, 0x0b);
        buf_printf(b, "MSH|^~\\&|%s|%s|HIS|HOSPITAL-EXAMPLE|%s||ORU^R01|BENCH%08u|P|2.5\r",
                   lab ? "LABNOVA" : "MONITEC", dev->name, stamp, control);
        buf_printf(b, "PID|1||SYN%06u^^^SYNTHETIC||TEST^SYNTHETIC||19000101|U\r",
                   (unsigned)rng_range(&g->rng, 1, 999));
        buf_printf(b, "OBR|1||BENCH%08u|%s\r", control,
                   lab ? "24331-1^LIPID PANEL^LN" : "VITALS^VITAL SIGNS^L");
        if (lab) {
            buf_printf(b, "OBX|1|NM|2093-3^CHOLESTEROL^LN||%u|mg/dL|||||F\r",
                       (unsigned)rng_range(&g->rng, 120, 260));
            buf_printf(b, "OBX|2|NM|2571-8^TRIGLYCERIDE^LN||%u|mg/dL|||||F\r",
                       (unsigned)rng_range(&g->rng, 50, 300));
        } else {
            buf_printf(b, "OBX|1|NM|8867-4^HEART RATE^LN||%u|/min|||||F\r",
                       (unsigned)rng_range(&g->rng, 50, 120));
            buf_printf(b, "OBX|2|NM|59408-5^SPO2^LN||%u|%%|||||F\r",
                       (unsigned)rng_range(&g->rng, 90, 100));
            buf_printf(b, "OBX|3|NM|8480-6^NIBP SYS^LN||%u|mm[Hg]|||||F\r",
                       (unsigned)rng_range(&g->rng, 95, 160));
        }
        buf_u8(b, 0x1c);
        buf_u8(b, 0x0d);
        flow_send(g, f, 0, b, gap);
        b->n = 0;
        buf_u8(b, 0x0b);
        buf_printf(b, "MSH|^~\\&|HIS|HOSPITAL-EXAMPLE|%s|%s|%s||ACK^R01|ACK%08u|P|2.5\r",
                   lab ? "LABNOVA" : "MONITEC", dev->name, stamp, control);
        buf_printf(b, "MSA|AA|BENCH%08u\r", control);
        buf_u8(b, 0x1c);
        buf_u8(b, 0x0d);
        flow_send(g, f, 1, b, f->rtt + rng_range(&g->rng, 300, MS(15)));
    }
    flow_tcp_close(g, f, 0, rng_range(&g->rng, MS(100), MS(3000)));
}

/* ------------------------------------------------------------------- SSH */

static void ssh_kexinit(struct gen *g, struct buf *b, bool server)
{
    static const char *const lists_client[10] = {
        "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,"
        "diffie-hellman-group16-sha512,ext-info-c",
        "ssh-ed25519,ecdsa-sha2-nistp256,rsa-sha2-512,rsa-sha2-256",
        "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,"
        "aes128-gcm@openssh.com,aes256-gcm@openssh.com",
        "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,"
        "aes128-gcm@openssh.com,aes256-gcm@openssh.com",
        "umac-64-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com",
        "umac-64-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com",
        "none,zlib@openssh.com", "none,zlib@openssh.com", "", "",
    };
    static const char *const lists_server[10] = {
        "curve25519-sha256,ecdh-sha2-nistp256,diffie-hellman-group14-sha256",
        "rsa-sha2-512,rsa-sha2-256,ecdsa-sha2-nistp256,ssh-ed25519",
        "aes128-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com",
        "aes128-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com",
        "hmac-sha2-256-etm@openssh.com,hmac-sha2-256,hmac-sha1",
        "hmac-sha2-256-etm@openssh.com,hmac-sha2-256,hmac-sha1",
        "none,zlib@openssh.com", "none,zlib@openssh.com", "", "",
    };
    const char *const *lists = server ? lists_server : lists_client;
    size_t start = b->n;
    buf_be32(b, 0);
    buf_u8(b, 0);
    buf_u8(b, 20);
    buf_rand(b, &g->rng, 16);
    for (int i = 0; i < 10; i++) {
        buf_be32(b, (uint32_t)strlen(lists[i]));
        buf_str(b, lists[i]);
    }
    buf_u8(b, 0);
    buf_be32(b, 0);
    size_t body = b->n - start - 4;
    unsigned pad = (unsigned)(8 - (body % 8));
    if (pad < 4)
        pad += 8;
    for (unsigned i = 0; i < pad; i++)
        buf_u8(b, 0);
    b->p[start + 4] = (uint8_t)pad;
    buf_set_be32(b, start, (uint32_t)(b->n - start - 4));
}

static void build_ssh(struct gen *g, struct flow *f, bool old_server)
{
    struct buf *b = &g->scratch;
    flow_tcp_open(g, f);
    b->n = 0;
    /* The server speaks first; some supplier gateways still run OpenSSH 5. */
    buf_str(b, old_server ? "SSH-2.0-OpenSSH_5.3\r\n"
                          : "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n");
    flow_send(g, f, 1, b, f->rtt / 2 + MS(2));
    b->n = 0;
    buf_str(b, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n");
    flow_send(g, f, 0, b, 300);
    b->n = 0;
    ssh_kexinit(g, b, false);
    flow_send(g, f, 0, b, 100);
    b->n = 0;
    ssh_kexinit(g, b, true);
    flow_send(g, f, 1, b, f->rtt + 300);
    b->n = 0;
    buf_rand(b, &g->rng, 48);
    flow_send(g, f, 0, b, 500);
    b->n = 0;
    buf_rand(b, &g->rng, 564);
    flow_send(g, f, 1, b, f->rtt + MS(3));
    /* Authentication, then an interactive session: keystrokes and echoes,
     * some command output, sometimes a log download. */
    unsigned exchanges = (unsigned)rng_range(&g->rng, 10, 120);
    for (unsigned i = 0; i < exchanges; i++) {
        b->n = 0;
        buf_rand(b, &g->rng, 36);
        flow_send(g, f, 0, b, rng_range(&g->rng, MS(80), MS(900)));
        b->n = 0;
        size_t out = rng_chance(&g->rng, 0.15) ? rng_logsize(&g->rng, 100, 6000) : 36;
        buf_rand(b, &g->rng, out);
        flow_send(g, f, 1, b, f->rtt + 200);
    }
    if (rng_chance(&g->rng, 0.3)) {
        b->n = 0;
        buf_rand(b, &g->rng, rng_logsize(&g->rng, 20000, 800000));
        flow_send(g, f, 1, b, MS(200));
    }
    flow_tcp_close(g, f, 0, MS(300));
}

/* ------------------------------------------------------ flow construction */

static const struct server *pick_server(struct gen *g, enum role role, const struct device *dev)
{
    size_t first = 0, count = 0;
    for (size_t i = 0; i < g->server_count; i++) {
        if (g->servers[i].role != role)
            continue;
        if (count == 0)
            first = i;
        count++;
    }
    if (count == 0)
        die("no server with role %d", role);
    /* Devices are configured with one server of each role and mostly stick to
     * it; the others see fail-over traffic. */
    size_t pick = (size_t)dev->index % count;
    if (rng_chance(&g->rng, 0.15))
        pick = rng_range(&g->rng, 0, count - 1);
    return &g->servers[first + pick];
}

static const struct server *server_by_name(const struct gen *g, const char *name)
{
    for (size_t i = 0; i < g->server_count; i++)
        if (strcmp(g->servers[i].name, name) == 0)
            return &g->servers[i];
    die("no server %s", name);
    return NULL;
}

/* Fills the endpoints of a flow between a device and a server. */
static void flow_endpoints(struct gen *g, struct flow *f, struct device *dev,
                           const struct server *srv, bool device_initiates, uint8_t l4,
                           uint16_t responder_port)
{
    int d = device_initiates ? 0 : 1;
    f->l4 = l4;
    f->ip[d] = dev->ip;
    f->ip[!d] = srv->ip;
    memcpy(f->mac[d], dev->mac, 6);
    memcpy(f->mac[!d], router_mac, 6);
    f->ttl[d] = 64;
    f->ttl[!d] = srv->is_public ? (uint8_t)rng_range(&g->rng, 46, 56) : 63;
    f->ip_id[0] = (uint16_t)rng_next(&g->rng);
    f->ip_id[1] = (uint16_t)rng_next(&g->rng);
    f->vlan = dev->vlan;
    f->mss = srv->is_public ? 1380 : 1460;
    f->rtt = srv->is_public ? rng_range(&g->rng, MS(18), MS(70)) : rng_range(&g->rng, 150, 900);
    f->link_bps = dev->type == DEV_MODALITY || dev->type == DEV_WORKSTATION ? 1000000000ULL
                                                                            : 100000000ULL;
    /* The initiator's ephemeral port: devices walk their range like Linux
     * does; servers and remote peers pick at random. */
    f->port[1] = responder_port;
    if (!device_initiates) {
        f->port[0] = (uint16_t)rng_range(&g->rng, 32768, 60999);
        return;
    }
    f->port[0] = dev->next_port;
    dev->next_port += (uint16_t)rng_range(&g->rng, 1, 3);
    if (dev->next_port > 60999)
        dev->next_port = 32768;
}

static const char *const device_paths[] = {
    "/api/v1/status", "/api/v1/heartbeat", "/config/device.xml", "/druglib/v42/manifest.json",
    "/firmware/check?model=bench", "/api/v1/events",
};
static const char *const druglib_paths[] = {
    "/druglib/v42/library.bin", "/druglib/v42/manifest.json", "/api/v1/heartbeat",
};
static const char *const web_paths[] = {
    "/", "/portal/index.html", "/static/app.js", "/static/style.css", "/images/logo.png",
    "/worklist?ward=icu",
};
static const char *const update_paths[] = {
    "/msdownload/update/v3/static/trustedr/en/authrootstl.cab",
    "/c/msdownload/update/software/defu/2026/11/am_delta.exe",
};

/* Builds one flow of the given kind for a device, starting at `t0`. */
static struct flow *flow_create(struct gen *g, struct device *dev, enum kind kind, uint64_t t0)
{
    struct flow *f = calloc(1, sizeof(*f));
    if (f == NULL)
        die("out of memory");
    f->kind = kind;
    f->t = t0;
    const struct server *srv;
    switch (kind) {
    case K_DNS: {
        srv = pick_server(g, ROLE_DNS, dev);
        flow_endpoints(g, f, dev, srv, true, IPPROTO_UDP_, 53);
        double u = rng_unit(&g->rng);
        if (u < 0.04) {
            build_dns(g, f, "wpad.hospital.example", 0, false);
        } else {
            const struct server *target = &g->servers[rng_range(&g->rng, 0, g->server_count - 1)];
            build_dns(g, f, target->name, target->ip, u < 0.2);
        }
        break;
    }
    case K_NTP:
        srv = pick_server(g, ROLE_NTP, dev);
        flow_endpoints(g, f, dev, srv, true, IPPROTO_UDP_, 123);
        f->port[0] = 123;
        build_ntp(g, f);
        break;
    case K_SYSLOG:
        srv = pick_server(g, ROLE_SYSLOG, dev);
        flow_endpoints(g, f, dev, srv, true, IPPROTO_UDP_, 514);
        build_syslog(g, f, dev);
        break;
    case K_SNMP:
        srv = pick_server(g, ROLE_NMS, dev);
        flow_endpoints(g, f, dev, srv, false, IPPROTO_UDP_, 161);
        build_snmp(g, f);
        break;
    case K_SNMP_TRAP:
        srv = pick_server(g, ROLE_NMS, dev);
        flow_endpoints(g, f, dev, srv, true, IPPROTO_UDP_, 162);
        build_snmp_trap(g, f);
        break;
    case K_ICMP:
        srv = pick_server(g, ROLE_NMS, dev);
        flow_endpoints(g, f, dev, srv, false, IPPROTO_ICMP_, 0);
        f->port[0] = f->port[1] = 0;
        build_icmp(g, f);
        break;
    case K_TLS: {
        struct tls_params tp = {.client_max = dev->tls_max, .legacy_client = dev->tls_legacy,
                                .alpn = false};
        uint16_t port = 443;
        size_t max_response = 24000;
        switch (dev->type) {
        case DEV_PUMP:
            if (rng_chance(&g->rng, 0.85)) {
                srv = pick_server(g, ROLE_PUMP_SERVER, dev);
                port = 8443;
            } else {
                srv = server_by_name(g, "cloud.infumed.example");
            }
            break;
        case DEV_MODALITY:
            srv = rng_chance(&g->rng, 0.7) ? server_by_name(g, "telemetry.acme-medical.example")
                                          : server_by_name(g, "updates.acme-medical.example");
            max_response = 120000;
            break;
        case DEV_MONITOR:
            srv = rng_chance(&g->rng, 0.6) ? server_by_name(g, "portal.monitec.example")
                                          : pick_server(g, ROLE_APP, dev);
            if (srv->role == ROLE_APP)
                port = 8443;
            break;
        case DEV_LAB:
            srv = rng_chance(&g->rng, 0.5) ? server_by_name(g, "api.labnova.example")
                                          : server_by_name(g, "lis.hospital.example");
            break;
        default: {
            double u = rng_unit(&g->rng);
            srv = u < 0.6 ? pick_server(g, ROLE_EHR, dev)
                  : u < 0.9 ? pick_server(g, ROLE_PUBLIC_WEB, dev)
                            : pick_server(g, ROLE_APP, dev);
            tp.alpn = true;
            max_response = 150000;
            break;
        }
        }
        if (srv->role == ROLE_PUMP_SERVER && rng_chance(&g->rng, 0.2))
            srv = server_by_name(g, "pumps2.hospital.example");
        tp.sni = dev->tls_legacy ? NULL : srv->name;
        flow_endpoints(g, f, dev, srv, true, IPPROTO_TCP_, port);
        build_tls(g, f, srv, &tp, max_response);
        break;
    }
    case K_HTTP: {
        struct http_profile hp = {.user_agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
                                                "AppleWebKit/537.36 (KHTML, like Gecko) "
                                                "Chrome/131.0 Safari/537.36",
                                  .paths = web_paths,
                                  .path_count = sizeof(web_paths) / sizeof(web_paths[0]),
                                  .content_type = "text/html; charset=utf-8",
                                  .max_body = 60000};
        uint16_t port = 80;
        if (dev->type == DEV_PUMP) {
            srv = pick_server(g, ROLE_PUMP_SERVER, dev);
            port = 8080;
            hp.user_agent = "InfuMed-Pump/3.2.1 (embedded)";
            hp.paths = druglib_paths;
            hp.path_count = sizeof(druglib_paths) / sizeof(druglib_paths[0]);
            hp.content_type = "application/octet-stream";
            hp.binary = true;
            hp.max_body = 250000;
        } else if (dev->type == DEV_WORKSTATION) {
            srv = rng_chance(&g->rng, 0.7) ? pick_server(g, ROLE_EHR, dev)
                                           : pick_server(g, ROLE_UPDATE, dev);
            if (srv->role == ROLE_UPDATE) {
                hp.user_agent = "Microsoft-CryptoAPI/10.0";
                hp.paths = update_paths;
                hp.path_count = sizeof(update_paths) / sizeof(update_paths[0]);
                hp.content_type = "application/vnd.ms-cab-compressed";
                hp.binary = true;
                hp.max_body = 400000;
            }
        } else {
            srv = dev->type == DEV_LAB ? server_by_name(g, "lis.hospital.example")
                                       : pick_server(g, ROLE_APP, dev);
            port = srv->role == ROLE_APP ? 8080 : 80;
            hp.user_agent = "bench-device-agent/1.4";
            hp.paths = device_paths;
            hp.path_count = sizeof(device_paths) / sizeof(device_paths[0]);
            hp.content_type = "application/json";
            hp.max_body = 20000;
        }
        hp.host = srv->name;
        flow_endpoints(g, f, dev, srv, true, IPPROTO_TCP_, port);
        build_http(g, f, &hp);
        break;
    }
    case K_DICOM: {
        srv = pick_server(g, ROLE_PACS, dev);
        bool workstation = dev->type == DEV_WORKSTATION;
        uint16_t port = workstation || dev->index % 2 ? 104 : 11112;
        char called[17];
        snprintf(called, sizeof(called), "PACS%u", (unsigned)(srv->ip & 0xff) - 4);
        char calling[17];
        snprintf(calling, sizeof(calling), "%.16s", dev->name);
        for (char *c = calling; *c; c++)
            if (*c >= 'a' && *c <= 'z')
                *c = (char)(*c - 'a' + 'A');
        flow_endpoints(g, f, dev, srv, true, IPPROTO_TCP_, port);
        build_dicom(g, f, called, calling, workstation || rng_chance(&g->rng, 0.3));
        break;
    }
    case K_HL7:
        srv = dev->type == DEV_LAB ? server_by_name(g, "lis.hospital.example")
                                   : pick_server(g, ROLE_HL7, dev);
        flow_endpoints(g, f, dev, srv, true, IPPROTO_TCP_, 2575);
        build_hl7(g, f, dev, dev->type == DEV_LAB);
        break;
    case K_SSH:
    default:
        if (dev->type == DEV_WORKSTATION) {
            srv = pick_server(g, ROLE_JUMP, dev);
            flow_endpoints(g, f, dev, srv, true, IPPROTO_TCP_, 22);
            build_ssh(g, f, false);
        } else {
            /* Supplier remote maintenance: the vendor opens the session. */
            srv = pick_server(g, ROLE_VENDOR_SUPPORT, dev);
            flow_endpoints(g, f, dev, srv, false, IPPROTO_TCP_, 22);
            build_ssh(g, f, dev->index % 5 == 4);
        }
        break;
    }
    flow_sort(f);
    g->flows_by_kind[kind]++;
    return f;
}

/* Picks a device and what it does next. */
static struct flow *flow_random(struct gen *g, uint64_t t0)
{
    struct device *dev = &g->devices[rng_range(&g->rng, 0, g->device_count - 1)];
    const unsigned *w = kind_weights[dev->type];
    unsigned total = 0;
    for (int k = 0; k < K_COUNT; k++)
        total += w[k];
    unsigned pick = (unsigned)rng_range(&g->rng, 0, total - 1);
    enum kind kind = K_DNS;
    for (int k = 0; k < K_COUNT; k++) {
        if (pick < w[k]) {
            kind = (enum kind)k;
            break;
        }
        pick -= w[k];
    }
    return flow_create(g, dev, kind, t0);
}

/* ----------------------------------------------------------------- setup */

static void gen_init(struct gen *g)
{
    memset(g, 0, sizeof(*g));
    g->rng.s = GEN_SEED;
    for (size_t i = 0; i < sizeof(server_defs) / sizeof(server_defs[0]); i++) {
        const struct server_def *d = &server_defs[i];
        for (int k = 0; k < d->count; k++) {
            if (g->server_count == MAX_SERVERS)
                die("too many servers");
            struct server *s = &g->servers[g->server_count++];
            if (d->count > 1)
                snprintf(s->name, sizeof(s->name), d->name, k + 1);
            else
                snprintf(s->name, sizeof(s->name), "%s", d->name);
            s->ip = ip_parse(d->ip) + (uint32_t)k;
            s->role = d->role;
            s->tls_max = d->tls_max;
            s->legacy = d->legacy;
            s->is_public = ip_is_public(s->ip);
            if (s->tls_max)
                server_make_chain(g, s);
        }
    }
    for (int t = 0; t < DEV_TYPE_COUNT; t++) {
        const struct device_def *d = &device_defs[t];
        for (int k = 0; k < d->count; k++) {
            if (g->device_count == MAX_DEVICES)
                die("too many devices");
            struct device *dev = &g->devices[g->device_count++];
            dev->type = (enum device_type)t;
            dev->index = k;
            dev->ip = ip_parse(d->first_ip) + (uint32_t)k;
            if (t == DEV_MODALITY)
                snprintf(dev->name, sizeof(dev->name), "%s", modality_names[k]);
            else
                snprintf(dev->name, sizeof(dev->name), "%s-%02d", d->prefix, k + 1);
            device_mac(dev->ip, dev->mac);
            dev->vlan = t == DEV_LAB ? LAB_VLAN : 0;
            dev->next_port = (uint16_t)rng_range(&g->rng, 32768, 50000);
            dev->tls_max = t == DEV_WORKSTATION || t == DEV_MONITOR ? TLS13 : TLS12;
            /* The last five pumps run an old firmware: TLS 1.0, RC4/3DES
             * offered, no SNI. */
            if (t == DEV_PUMP && k >= d->count - 5) {
                dev->tls_max = TLS10;
                dev->tls_legacy = true;
            }
        }
    }
}

/* ---------------------------------------------------------------- output */

struct writer {
    FILE *fp;
    uint64_t packets;
    uint64_t bytes;
    uint64_t first_ts;
    uint64_t last_ts;
};

static void writer_open(struct writer *w, const char *path)
{
    w->fp = fopen(path, "wb");
    if (w->fp == NULL)
        die("cannot create %s: %s", path, strerror(errno));
    static char iobuf[1 << 20];
    setvbuf(w->fp, iobuf, _IOFBF, sizeof(iobuf));
    /* Classic pcap, host byte order (readers detect it from the magic). */
    struct {
        uint32_t magic;
        uint16_t version_major;
        uint16_t version_minor;
        int32_t thiszone;
        uint32_t sigfigs;
        uint32_t snaplen;
        uint32_t linktype;
    } hdr = {0xa1b2c3d4, 2, 4, 0, 0, 65535, 1};
    if (fwrite(&hdr, sizeof(hdr), 1, w->fp) != 1)
        die("write failed: %s", strerror(errno));
}

static void put_be16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    put_be16(p, v >> 16);
    put_be16(p + 2, v & 0xffff);
}

/* Serialises one packet of a flow as an Ethernet frame and writes it. */
static void writer_packet(struct writer *w, struct flow *f, const struct pkt *p)
{
    uint8_t frame[2048];
    int d = p->dir;
    size_t n = 0;
    memcpy(frame, f->mac[!d], 6);
    memcpy(frame + 6, f->mac[d], 6);
    n = 12;
    if (f->vlan) {
        put_be16(frame + n, 0x8100);
        put_be16(frame + n + 2, f->vlan);
        n += 4;
    }
    put_be16(frame + n, 0x0800);
    n += 2;
    uint8_t *ip = frame + n;
    size_t l4_hdr = f->l4 == IPPROTO_TCP_ ? ((p->flags & TCP_SYN) ? 32 : 20)
                  : f->l4 == IPPROTO_UDP_ ? 8 : 0;
    size_t ip_len = 20 + l4_hdr + p->len;
    if (n + ip_len > sizeof(frame))
        die("packet too large (%zu)", ip_len);
    ip[0] = 0x45;
    ip[1] = 0;
    put_be16(ip + 2, (unsigned)ip_len);
    put_be16(ip + 4, f->ip_id[d]++);
    put_be16(ip + 6, f->l4 == IPPROTO_TCP_ ? 0x4000 : 0);
    ip[8] = f->ttl[d];
    ip[9] = f->l4;
    put_be16(ip + 10, 0);
    put_be32(ip + 12, f->ip[d]);
    put_be32(ip + 16, f->ip[!d]);
    put_be16(ip + 10, inet_checksum(ip, 20, 0));
    uint8_t *l4 = ip + 20;
    if (f->l4 == IPPROTO_TCP_) {
        put_be16(l4, f->port[d]);
        put_be16(l4 + 2, f->port[!d]);
        put_be32(l4 + 4, p->seq);
        put_be32(l4 + 8, (p->flags & TCP_ACK) ? p->ack : 0);
        l4[12] = (uint8_t)((l4_hdr / 4) << 4);
        l4[13] = p->flags;
        put_be16(l4 + 14, (p->flags & TCP_SYN) ? 64240 : 502);
        put_be16(l4 + 16, 0);
        put_be16(l4 + 18, 0);
        if (p->flags & TCP_SYN) {
            static const uint8_t opts[12] = {2, 4, 0, 0, 1, 1, 4, 2, 1, 3, 3, 7};
            memcpy(l4 + 20, opts, sizeof(opts));
            put_be16(l4 + 22, f->mss);
        }
    } else if (f->l4 == IPPROTO_UDP_) {
        put_be16(l4, f->port[d]);
        put_be16(l4 + 2, f->port[!d]);
        put_be16(l4 + 4, (unsigned)(8 + p->len));
        put_be16(l4 + 6, 0);
    }
    memcpy(l4 + l4_hdr, f->arena.p + p->off, p->len);
    if (f->l4 != IPPROTO_ICMP_) {
        /* Pseudo-header sum, then the segment: correct checksums keep
         * tcpdump -vv and Wireshark quiet. */
        uint32_t sum = (f->ip[d] >> 16) + (f->ip[d] & 0xffff) + (f->ip[!d] >> 16) +
                       (f->ip[!d] & 0xffff) + f->l4 + (uint32_t)(l4_hdr + p->len);
        uint16_t c = inet_checksum(l4, l4_hdr + p->len, sum);
        if (f->l4 == IPPROTO_UDP_ && c == 0)
            c = 0xffff;
        put_be16(l4 + (f->l4 == IPPROTO_TCP_ ? 16 : 6), c);
    }
    size_t frame_len = n + ip_len;
    uint64_t ts = p->ts;
    uint32_t rec[4] = {(uint32_t)(GEN_EPOCH + ts / US_PER_S), (uint32_t)(ts % US_PER_S),
                       (uint32_t)frame_len, (uint32_t)frame_len};
    if (fwrite(rec, sizeof(rec), 1, w->fp) != 1 || fwrite(frame, frame_len, 1, w->fp) != 1)
        die("write failed: %s", strerror(errno));
    if (w->packets == 0)
        w->first_ts = ts;
    w->last_ts = ts;
    w->packets++;
    w->bytes += frame_len;
}

/* ------------------------------------------------------------- the heap */

struct heap {
    struct flow **items;
    size_t n;
    size_t cap;
};

static uint64_t heap_key(const struct flow *f)
{
    return f->pkts[f->next].ts;
}

static void heap_sift_down(struct heap *h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && heap_key(h->items[l]) < heap_key(h->items[m]))
            m = l;
        if (r < h->n && heap_key(h->items[r]) < heap_key(h->items[m]))
            m = r;
        if (m == i)
            return;
        struct flow *t = h->items[i];
        h->items[i] = h->items[m];
        h->items[m] = t;
        i = m;
    }
}

static void heap_push(struct heap *h, struct flow *f)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 1024;
        h->items = xrealloc(h->items, h->cap * sizeof(*h->items));
    }
    size_t i = h->n++;
    h->items[i] = f;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (heap_key(h->items[parent]) <= heap_key(h->items[i]))
            break;
        struct flow *t = h->items[i];
        h->items[i] = h->items[parent];
        h->items[parent] = t;
        i = parent;
    }
}

/* ------------------------------------------------------------------ main */

static uint64_t parse_count(const char *s)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end != '\0' || v == 0 || v > GEN_MAX_PACKETS)
        die("bad packet count '%s' (1..%llu)", s, (unsigned long long)GEN_MAX_PACKETS);
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3 || argv[1][0] == '-') {
        fprintf(stderr, "usage: gen_capture OUT.pcap [packets]   (default %llu)\n",
                (unsigned long long)GEN_DEFAULT_PACKETS);
        return 2;
    }
    uint64_t target = argc == 3 ? parse_count(argv[2]) : GEN_DEFAULT_PACKETS;
    static struct gen gen;
    struct gen *g = &gen;
    gen_init(g);

    struct writer w = {0};
    writer_open(&w, argv[1]);
    struct heap h = {0};
    /* Poisson flow arrivals at the rate that spreads `target` packets over
     * GEN_SECONDS. */
    double mean_gap_us = GEN_SECONDS * 1e6 * GEN_AVG_PACKETS_PER_FLOW / (double)target;
    double next_arrival = 0;
    uint64_t launched = 0;
    uint64_t flows = 0;
    size_t max_active = 0;
    while (w.packets < target) {
        bool launching = launched < target;
        if (launching && (h.n == 0 || (uint64_t)next_arrival <= heap_key(h.items[0]))) {
            struct flow *f = flow_random(g, (uint64_t)next_arrival);
            launched += f->count;
            flows++;
            heap_push(&h, f);
            if (h.n > max_active)
                max_active = h.n;
            next_arrival += rng_exp(&g->rng, mean_gap_us);
            continue;
        }
        if (h.n == 0)
            break;
        struct flow *f = h.items[0];
        uint64_t before = w.bytes;
        writer_packet(&w, f, &f->pkts[f->next]);
        g->packets_by_kind[f->kind]++;
        g->bytes_by_kind[f->kind] += w.bytes - before;
        f->next++;
        if (f->next == f->count) {
            h.items[0] = h.items[--h.n];
            flow_free(f);
        }
        if (h.n > 0)
            heap_sift_down(&h, 0);
    }
    for (size_t i = 0; i < h.n; i++)
        flow_free(h.items[i]);
    free(h.items);
    buf_free(&g->scratch);
    buf_free(&g->scratch2);
    if (fclose(w.fp) != 0)
        die("write failed: %s", strerror(errno));

    double seconds = (double)(w.last_ts - w.first_ts) / 1e6;
    fprintf(stderr, "gen_capture: %s: %llu packets, %llu bytes, %llu flows, %.1f s, "
            "%.2f Mbit/s average, max %zu flows in progress\n",
            argv[1], (unsigned long long)w.packets, (unsigned long long)w.bytes,
            (unsigned long long)flows, seconds,
            seconds > 0 ? (double)w.bytes * 8 / seconds / 1e6 : 0.0, max_active);
    fprintf(stderr, "%-10s %8s %10s %12s\n", "kind", "flows", "packets", "bytes");
    for (int k = 0; k < K_COUNT; k++)
        fprintf(stderr, "%-10s %8llu %10llu %12llu\n", kind_names[k],
                (unsigned long long)g->flows_by_kind[k],
                (unsigned long long)g->packets_by_kind[k],
                (unsigned long long)g->bytes_by_kind[k]);
    return 0;
}
