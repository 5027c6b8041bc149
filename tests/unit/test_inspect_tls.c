/* Unit tests for inspect_tls (and the facts names, and the internal x509
 * glue): real OpenSSL handshake streams and certificates (tests/data/
 * inspect_tls, see its README.md) and hand-built hellos, certificate
 * messages and DTLS datagrams, fed whole, segmented, reordered, duplicated,
 * truncated and corrupted. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxaudit/facts.h"
#include "fluxaudit/inspect_tls.h"
#include "fluxaudit/tls_ciphers.h"
#include "inspect/x509.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/data"
#endif

#define BUILD_MAX 70000
#define FILE_MAX 65536

/* ---- byte builder ------------------------------------------------------ */

struct builder {
    uint8_t data[BUILD_MAX];
    size_t len;
};

static void put8(struct builder *b, unsigned v)
{
    ck_assert_uint_lt(b->len, BUILD_MAX);
    b->data[b->len++] = (uint8_t)v;
}

static void put16(struct builder *b, unsigned v)
{
    put8(b, v >> 8);
    put8(b, v);
}

static void put24(struct builder *b, unsigned v)
{
    put8(b, v >> 16);
    put16(b, v);
}

static void put_bytes(struct builder *b, const void *bytes, size_t n)
{
    ck_assert_uint_le(b->len + n, BUILD_MAX);
    memcpy(b->data + b->len, bytes, n);
    b->len += n;
}

static void put_fill(struct builder *b, uint8_t byte, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put8(b, byte);
}

/* Writes the big-endian `value` on `width` bytes at `at` (a length filled
 * in once the field is complete). */
static void patch(struct builder *b, size_t at, size_t width, size_t value)
{
    for (size_t i = 0; i < width; i++)
        b->data[at + i] = (uint8_t)(value >> (8 * (width - 1 - i)));
}

static const uint8_t hrr_random[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
};

struct hello_spec {
    uint16_t legacy_version;
    const uint16_t *versions; /* supported_versions, NULL: no extension */
    size_t version_count;
    const char *sni;          /* NULL: no server_name */
    size_t sni_len;           /* 0: strlen(sni) */
    const uint8_t *alpn;      /* raw ALPN extension body, NULL: no extension */
    size_t alpn_len;
};

/* Appends a ClientHello handshake message (header included). */
static void build_client_hello_message(struct builder *b, const struct hello_spec *spec)
{
    put8(b, 1);
    size_t length_at = b->len;
    put24(b, 0);
    size_t body_at = b->len;
    put16(b, spec->legacy_version);
    put_fill(b, 0x42, 32);
    put8(b, 32);
    put_fill(b, 0x17, 32);
    put16(b, 4);
    put16(b, 0x1301);
    put16(b, 0xc02f);
    put8(b, 1);
    put8(b, 0);
    size_t exts_at = b->len;
    put16(b, 0);
    put16(b, 0x0a0a); /* a GREASE extension, empty */
    put16(b, 0);
    if (spec->sni != NULL) {
        size_t n = spec->sni_len != 0 ? spec->sni_len : strlen(spec->sni);
        put16(b, 0);
        put16(b, n + 5);
        put16(b, n + 3);
        put8(b, 0);
        put16(b, n);
        put_bytes(b, spec->sni, n);
    }
    if (spec->versions != NULL) {
        put16(b, 43);
        put16(b, 1 + 2 * spec->version_count);
        put8(b, 2 * spec->version_count);
        for (size_t i = 0; i < spec->version_count; i++)
            put16(b, spec->versions[i]);
    }
    if (spec->alpn != NULL) {
        put16(b, 16);
        put16(b, spec->alpn_len);
        put_bytes(b, spec->alpn, spec->alpn_len);
    }
    put16(b, 10); /* supported_groups, after the interesting ones */
    put16(b, 4);
    put16(b, 2);
    put16(b, 0x001d);
    patch(b, exts_at, 2, b->len - exts_at - 2);
    patch(b, length_at, 3, b->len - body_at);
}

/* Appends a ServerHello (or HelloRetryRequest) handshake message, with an
 * ALPN extension selecting `alpn` unless it is NULL. */
static void build_server_hello_alpn(struct builder *b, uint16_t legacy_version, uint16_t cipher,
                                    uint16_t selected, bool retry, const char *alpn)
{
    put8(b, 2);
    size_t length_at = b->len;
    put24(b, 0);
    size_t body_at = b->len;
    put16(b, legacy_version);
    if (retry)
        put_bytes(b, hrr_random, sizeof(hrr_random));
    else
        put_fill(b, 0x5a, 32);
    put8(b, 0);
    put16(b, cipher);
    put8(b, 0);
    size_t exts_at = b->len;
    if (selected != 0 || alpn != NULL)
        put16(b, 0);
    if (selected != 0) {
        put16(b, 43);
        put16(b, 2);
        put16(b, selected);
    }
    if (alpn != NULL) {
        put16(b, 16);
        put16(b, strlen(alpn) + 3);
        put16(b, strlen(alpn) + 1);
        put8(b, strlen(alpn));
        put_bytes(b, alpn, strlen(alpn));
    }
    if (selected != 0 || alpn != NULL)
        patch(b, exts_at, 2, b->len - exts_at - 2);
    patch(b, length_at, 3, b->len - body_at);
}

static void build_server_hello_message(struct builder *b, uint16_t legacy_version,
                                       uint16_t cipher, uint16_t selected, bool retry)
{
    build_server_hello_alpn(b, legacy_version, cipher, selected, retry, NULL);
}

/* Wraps bytes [from, b->len) of `in` into handshake records of at most
 * `fragment` bytes appended to `out`. */
static void wrap_records(struct builder *out, const struct builder *in, uint8_t type,
                         size_t fragment)
{
    for (size_t at = 0; at < in->len; at += fragment) {
        size_t n = in->len - at < fragment ? in->len - at : fragment;
        put8(out, type);
        put16(out, 0x0303);
        put16(out, n);
        put_bytes(out, in->data + at, n);
    }
}

static struct builder *builder_new(void)
{
    struct builder *b = calloc(1, sizeof(*b));
    ck_assert_ptr_nonnull(b);
    return b;
}

/* A complete ClientHello record from a spec. */
static struct builder *client_hello_record(const struct hello_spec *spec)
{
    struct builder *message = builder_new();
    struct builder *record = builder_new();
    build_client_hello_message(message, spec);
    wrap_records(record, message, 22, 16384);
    free(message);
    return record;
}

static struct builder *server_hello_record(uint16_t legacy, uint16_t cipher, uint16_t selected,
                                           bool retry)
{
    struct builder *message = builder_new();
    struct builder *record = builder_new();
    build_server_hello_message(message, legacy, cipher, selected, retry);
    wrap_records(record, message, 22, 16384);
    free(message);
    return record;
}

/* ---- real handshake streams ------------------------------------------- */

struct stream_file {
    uint8_t data[FILE_MAX];
    uint32_t len;
};

static void load(const char *name, struct stream_file *file)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/inspect_tls/%s", TEST_DATA_DIR, name);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    size_t n = fread(file->data, 1, sizeof(file->data), f);
    ck_assert_int_eq(feof(f), 1);
    fclose(f);
    ck_assert_uint_gt(n, 0);
    file->len = (uint32_t)n;
}

/* The server certificate a capture must yield. not_before == 0: the
 * throwaway certificate of `openssl req -days 3650` (dates vary by run, the
 * span does not). */
struct cert_expect {
    const char *key_type;
    uint16_t key_bits;
    const char *signature;
    bool weak_hash;
    bool self_signed;
    int64_t not_before;
    int64_t not_after;
    const char *subject;
    const char *issuer;
    uint8_t chain_length;
};

struct capture_case {
    const char *name;
    uint16_t offered;
    uint16_t version;
    uint16_t cipher;
    const char *cipher_name;
    const char *alpn;              /* what the facts must say after both hellos */
    const char *client_alpn;       /* after the ClientHello alone */
    const struct cert_expect *cert; /* NULL: no certificate in clear (TLS 1.3) */
};

static const struct cert_expect throwaway_cert = {
    "RSA", 2048, "RSA-SHA256", false, true, 0, 0, "pacs.example.test", "pacs.example.test", 1,
};
static const struct cert_expect rsa2048_cert = {
    "RSA", 2048, "RSA-SHA256", false, false, 1735732800, 2051265600,
    "pacs.example.test", "Fluxaudit Test CA", 2,
};
static const struct cert_expect rsa1024_cert = {
    "RSA", 1024, "RSA-SHA1", true, true, 1577836800, 1893456000,
    "old-modality.example.test", "old-modality.example.test", 1,
};
static const struct cert_expect ec256_cert = {
    "EC", 256, "ECDSA-SHA256", false, true, 1748736000, 1811808000,
    "ecg-gateway.example.test", "ecg-gateway.example.test", 1,
};
static const struct cert_expect expired_cert = {
    "RSA", 2048, "RSA-SHA256", false, false, 1420070400, 1451606400,
    "expired.example.test", "Fluxaudit Test CA", 1,
};
static const struct cert_expect md5_cert = {
    "RSA", 2048, "RSA-MD5", true, false, 1704067200, 2019686400,
    "md5.example.test", "Fluxaudit Test CA", 1,
};

#define AES256_GCM_RSA "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"

static const struct capture_case captures[] = {
    {"tls10", TLS_VERSION_1_0, TLS_VERSION_1_0, 0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "",
     "", &throwaway_cert},
    {"tls12", TLS_VERSION_1_2, TLS_VERSION_1_2, 0xc030, AES256_GCM_RSA, "", "", &throwaway_cert},
    {"tls13", TLS_VERSION_1_3, TLS_VERSION_1_3, 0x1302, "TLS_AES_256_GCM_SHA384", "", "", NULL},
    {"tls13to12", TLS_VERSION_1_3, TLS_VERSION_1_2, 0xc030, AES256_GCM_RSA, "", "",
     &throwaway_cert},
    {"tls13hrr", TLS_VERSION_1_3, TLS_VERSION_1_3, 0x1302, "TLS_AES_256_GCM_SHA384", "", "", NULL},
    {"cert_rsa2048", TLS_VERSION_1_2, TLS_VERSION_1_2, 0xc030, AES256_GCM_RSA, "http/1.1", "h2",
     &rsa2048_cert},
    {"cert_rsa1024", TLS_VERSION_1_2, TLS_VERSION_1_2, 0xc030, AES256_GCM_RSA, "", "",
     &rsa1024_cert},
    {"cert_ec256", TLS_VERSION_1_2, TLS_VERSION_1_2, 0xc02c,
     "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "h2", "h2", &ec256_cert},
    {"cert_expired", TLS_VERSION_1_2, TLS_VERSION_1_2, 0xc030, AES256_GCM_RSA, "", "",
     &expired_cert},
    {"cert_md5", TLS_VERSION_1_2, TLS_VERSION_1_2, 0xc030, AES256_GCM_RSA, "", "", &md5_cert},
};
#define CAPTURE_COUNT (sizeof(captures) / sizeof(captures[0]))

struct capture_streams {
    struct stream_file client;
    struct stream_file server;
};

static struct capture_streams *load_capture(const char *name)
{
    struct capture_streams *streams = calloc(1, sizeof(*streams));
    ck_assert_ptr_nonnull(streams);
    char file[64];
    snprintf(file, sizeof(file), "%s_client.bin", name);
    load(file, &streams->client);
    snprintf(file, sizeof(file), "%s_server.bin", name);
    load(file, &streams->server);
    return streams;
}

/* Checks certificate facts against what is expected of them. */
static void assert_certificate(const struct certificate_facts *got, const struct cert_expect *want)
{
    ck_assert(got->seen);
    ck_assert(got->parsed);
    ck_assert_str_eq(got->key_type, want->key_type);
    ck_assert_uint_eq(got->key_bits, want->key_bits);
    ck_assert_str_eq(got->signature, want->signature);
    ck_assert_int_eq(got->weak_signature_hash, want->weak_hash);
    ck_assert_int_eq(got->self_signed, want->self_signed);
    if (want->not_before != 0) {
        ck_assert_int_eq(got->not_before, want->not_before);
        ck_assert_int_eq(got->not_after, want->not_after);
    } else {
        ck_assert_int_gt(got->not_before, 1700000000);
        ck_assert_int_eq(got->not_after - got->not_before, 3650 * 86400);
    }
    ck_assert_str_eq(got->subject_cn, want->subject);
    ck_assert_str_eq(got->issuer_cn, want->issuer);
    ck_assert_uint_eq(got->chain_length, want->chain_length);
}

static void assert_capture_facts(const struct tls_facts *facts, const struct capture_case *c)
{
    ck_assert_msg(facts->client_hello_seen, "%s: no ClientHello", c->name);
    ck_assert_msg(facts->server_hello_seen, "%s: no ServerHello", c->name);
    ck_assert(!facts->is_dtls);
    ck_assert_uint_eq(facts->offered_max_version, c->offered);
    ck_assert_uint_eq(facts->version, c->version);
    ck_assert_uint_eq(facts->cipher_suite, c->cipher);
    const struct tls_cipher_info *cipher = tls_cipher_lookup(facts->cipher_suite);
    ck_assert_ptr_nonnull(cipher);
    ck_assert_str_eq(cipher->name, c->cipher_name);
    ck_assert_str_eq(facts->sni, "pacs.example.test");
    ck_assert_str_eq(facts->alpn, c->alpn);
    if (c->cert == NULL) {
        ck_assert(!facts->certificate.seen);
        ck_assert(!facts->certificate.parsed);
        ck_assert_uint_eq(facts->certificate.chain_length, 0);
    } else {
        assert_certificate(&facts->certificate, c->cert);
    }
}

static void assert_no_facts(const struct tls_facts *facts)
{
    ck_assert(!facts->client_hello_seen);
    ck_assert(!facts->server_hello_seen);
    ck_assert_uint_eq(facts->offered_max_version, 0);
    ck_assert_uint_eq(facts->version, 0);
    ck_assert_uint_eq(facts->cipher_suite, 0);
    ck_assert_str_eq(facts->sni, "");
    ck_assert_str_eq(facts->alpn, "");
    ck_assert(!facts->certificate.seen);
    ck_assert(!facts->is_dtls);
}

/* How segments of one direction are delivered. */
enum feed_order { FEED_IN_ORDER, FEED_REVERSE, FEED_DUPLICATED, FEED_OVERLAPPING };

/* Feeds `file` cut in `segment`-byte pieces, after a SYN at `isn`. */
static void feed_stream(struct tls_inspector *inspector, int direction, uint32_t isn,
                        const struct stream_file *file, uint32_t segment, enum feed_order order,
                        struct tls_facts *facts)
{
    tls_inspector_feed(inspector, direction, isn, true, NULL, 0, facts);
    uint32_t count = (file->len + segment - 1) / segment;
    for (uint32_t k = 0; k < count; k++) {
        uint32_t i = order == FEED_REVERSE ? count - 1 - k : k;
        uint32_t at = i * segment;
        uint32_t n = file->len - at < segment ? file->len - at : segment;
        uint32_t seq = isn + 1 + at;
        if (order == FEED_OVERLAPPING && at >= 3) {
            /* re-send the previous 3 bytes with each segment */
            tls_inspector_feed(inspector, direction, seq - 3, false, file->data + at - 3, n + 3,
                               facts);
            continue;
        }
        tls_inspector_feed(inspector, direction, seq, false, file->data + at, n, facts);
        if (order == FEED_DUPLICATED)
            tls_inspector_feed(inspector, direction, seq, false, file->data + at, n, facts);
    }
}

/* Runs one capture through an inspector and checks its facts. */
static void check_capture_fed(const struct capture_case *c, uint32_t segment,
                              enum feed_order order, uint32_t client_isn, uint32_t server_isn)
{
    struct capture_streams *streams = load_capture(c->name);
    struct tls_inspector *inspector = tls_inspector_create();
    ck_assert_ptr_nonnull(inspector);
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    ck_assert(!tls_inspector_done(inspector));
    feed_stream(inspector, 0, client_isn, &streams->client, segment, order, &facts);
    feed_stream(inspector, 1, server_isn, &streams->server, segment, order, &facts);
    assert_capture_facts(&facts, c);
    ck_assert(tls_inspector_done(inspector));
    tls_inspector_destroy(inspector);
    free(streams);
}

START_TEST(test_version_names)
{
    ck_assert_str_eq(tls_version_name(TLS_VERSION_SSL2), "SSLv2");
    ck_assert_str_eq(tls_version_name(TLS_VERSION_SSL3), "SSLv3");
    ck_assert_str_eq(tls_version_name(TLS_VERSION_1_0), "TLSv1.0");
    ck_assert_str_eq(tls_version_name(TLS_VERSION_1_1), "TLSv1.1");
    ck_assert_str_eq(tls_version_name(TLS_VERSION_1_2), "TLSv1.2");
    ck_assert_str_eq(tls_version_name(TLS_VERSION_1_3), "TLSv1.3");
    ck_assert_str_eq(tls_version_name(0xfeff), "DTLSv1.0");
    ck_assert_str_eq(tls_version_name(0xfefd), "DTLSv1.2");
    ck_assert_str_eq(tls_version_name(0xfefc), "DTLSv1.3");
    ck_assert_str_eq(tls_version_name(0), "unknown");
    ck_assert_str_eq(tls_version_name(0x0305), "unknown");
    ck_assert_str_eq(tls_version_name(0x7f1c), "unknown");
    ck_assert_str_eq(tls_version_name(0xfefe), "unknown");
}
END_TEST

START_TEST(test_security_names)
{
    ck_assert_str_eq(transport_security_name(SECURITY_UNKNOWN), "unknown");
    ck_assert_str_eq(transport_security_name(SECURITY_CLEARTEXT), "none");
    ck_assert_str_eq(transport_security_name(SECURITY_TLS), "tls");
    ck_assert_str_eq(transport_security_name(SECURITY_DTLS), "dtls");
    ck_assert_str_eq(transport_security_name(SECURITY_SSH), "ssh");
    ck_assert_str_eq(transport_security_name(SECURITY_IPSEC), "ipsec");
    ck_assert_str_eq(transport_security_name(SECURITY_SNMPV3), "snmpv3");
    ck_assert_str_eq(transport_security_name(SECURITY_OTHER_ENCRYPTED), "encrypted");
    ck_assert_str_eq(transport_security_name((enum transport_security)99), "unknown");
}
END_TEST

/* Each capture parsed whole by the stateless parser. */
START_TEST(test_capture_parse_records)
{
    const struct capture_case *c = &captures[_i];
    struct capture_streams *streams = load_capture(c->name);
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    bool not_tls = true;
    uint32_t used = tls_parse_records(streams->client.data, streams->client.len, 0, &facts,
                                      &not_tls);
    ck_assert(!not_tls);
    ck_assert_uint_gt(used, 0);
    ck_assert_uint_le(used, streams->client.len);
    ck_assert(facts.client_hello_seen);
    ck_assert(!facts.server_hello_seen);
    ck_assert_str_eq(facts.alpn, c->client_alpn);
    not_tls = true;
    used = tls_parse_records(streams->server.data, streams->server.len, 1, &facts, &not_tls);
    ck_assert(!not_tls);
    ck_assert_uint_gt(used, 0);
    assert_capture_facts(&facts, c);
    free(streams);
}
END_TEST

static uint32_t record_size_at(const struct stream_file *file, uint32_t at)
{
    ck_assert_uint_le(at + 5, file->len);
    return 5 + (((uint32_t)file->data[at + 3] << 8) | file->data[at + 4]);
}

/* TLS 1.2: the ServerHello record, then the Certificate record; exactly
 * those are consumed (the parser stops once it has the certificate).
 * TLS 1.3: the parser stops at the ServerHello record. */
START_TEST(test_capture_consumed_bytes)
{
    struct capture_streams *streams = load_capture("tls12");
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    bool not_tls = true;
    uint32_t used = tls_parse_records(streams->server.data, streams->server.len, 1, &facts,
                                      &not_tls);
    uint32_t first = record_size_at(&streams->server, 0);
    uint32_t second = record_size_at(&streams->server, first);
    ck_assert_uint_eq(streams->server.data[first + 5], 11); /* Certificate */
    ck_assert_uint_eq(used, first + second);
    ck_assert(!not_tls);
    ck_assert(facts.certificate.seen);
    free(streams);

    streams = load_capture("tls13");
    memset(&facts, 0, sizeof(facts));
    used = tls_parse_records(streams->server.data, streams->server.len, 1, &facts, &not_tls);
    ck_assert_uint_eq(used, record_size_at(&streams->server, 0));
    ck_assert(!facts.certificate.seen);
    free(streams);
}
END_TEST

START_TEST(test_capture_whole_segments)
{
    check_capture_fed(&captures[_i], 65535, FEED_IN_ORDER, 1000, 5000000);
}
END_TEST

START_TEST(test_capture_one_byte_segments)
{
    check_capture_fed(&captures[_i], 1, FEED_IN_ORDER, 0x12345678, 0x9abcdef0);
}
END_TEST

START_TEST(test_capture_reverse_order)
{
    check_capture_fed(&captures[_i], 97, FEED_REVERSE, 77, 88);
    check_capture_fed(&captures[_i], 1, FEED_REVERSE, 77, 88);
}
END_TEST

START_TEST(test_capture_duplicated)
{
    check_capture_fed(&captures[_i], 61, FEED_DUPLICATED, 4242, 2424);
}
END_TEST

START_TEST(test_capture_overlapping)
{
    check_capture_fed(&captures[_i], 40, FEED_OVERLAPPING, 4242, 2424);
}
END_TEST

/* Sequence numbers wrapping through 0 inside the handshake. */
START_TEST(test_capture_sequence_wrap)
{
    check_capture_fed(&captures[_i], 50, FEED_IN_ORDER, 0xffffff00u, 0xfffffff0u);
    check_capture_fed(&captures[_i], 50, FEED_REVERSE, 0xffffffffu, 0xfffffffeu);
}
END_TEST

/* Without a SYN the first segment fixes the stream start. */
START_TEST(test_no_syn_first_segment)
{
    struct capture_streams *streams = load_capture("tls13");
    struct tls_inspector *inspector = tls_inspector_create();
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    /* a bare ACK first must not fix the start */
    tls_inspector_feed(inspector, 1, 100, false, NULL, 0, &facts);
    tls_inspector_feed(inspector, 0, 7000, false, streams->client.data, 200, &facts);
    tls_inspector_feed(inspector, 0, 7200, false, streams->client.data + 200,
                       streams->client.len - 200, &facts);
    tls_inspector_feed(inspector, 1, 900, false, streams->server.data, streams->server.len,
                       &facts);
    assert_capture_facts(&facts, &captures[2]);
    ck_assert(tls_inspector_done(inspector));
    tls_inspector_destroy(inspector);
    free(streams);
}
END_TEST

/* A capture starting in the middle of each stream: not TLS, no facts. */
START_TEST(test_mid_stream)
{
    struct capture_streams *streams = load_capture("tls12");
    struct tls_inspector *inspector = tls_inspector_create();
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    tls_inspector_feed(inspector, 0, 5000, false, streams->client.data + 20,
                       streams->client.len - 20, &facts);
    ck_assert(!tls_inspector_done(inspector));
    tls_inspector_feed(inspector, 1, 9000, false, streams->server.data + 100,
                       streams->server.len - 100, &facts);
    assert_no_facts(&facts);
    ck_assert(tls_inspector_done(inspector));
    /* later bytes, even a real hello, change nothing once decided */
    tls_inspector_feed(inspector, 1, 9000 - 100, false, streams->server.data, 100, &facts);
    assert_no_facts(&facts);
    tls_inspector_destroy(inspector);

    bool not_tls = false;
    memset(&facts, 0, sizeof(facts));
    ck_assert_uint_eq(tls_parse_records(streams->server.data + 100, streams->server.len - 100, 1,
                                        &facts, &not_tls),
                      0);
    ck_assert(not_tls);
    assert_no_facts(&facts);
    free(streams);
}
END_TEST

/* The server stream mid-way but the client's from its start: the client
 * facts stand, the server's never appear. */
START_TEST(test_mid_stream_server_only)
{
    struct capture_streams *streams = load_capture("tls13");
    struct tls_inspector *inspector = tls_inspector_create();
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    tls_inspector_feed(inspector, 1, 1, false, streams->server.data + 7,
                       streams->server.len - 7, &facts);
    ck_assert(tls_inspector_done(inspector)); /* server direction is not TLS */
    feed_stream(inspector, 0, 10, &streams->client, 100, FEED_IN_ORDER, &facts);
    ck_assert(facts.client_hello_seen);
    ck_assert_uint_eq(facts.offered_max_version, TLS_VERSION_1_3);
    ck_assert(!facts.server_hello_seen);
    ck_assert_uint_eq(facts.version, 0);
    tls_inspector_destroy(inspector);
    free(streams);
}
END_TEST

/* Every truncation of a ServerHello record: nothing until it is whole. */
START_TEST(test_truncated_server_hello)
{
    struct capture_streams *streams = load_capture("tls13");
    uint32_t record = 5 + (((uint32_t)streams->server.data[3] << 8) | streams->server.data[4]);
    for (uint32_t k = 0; k < record; k++) {
        struct tls_facts facts;
        memset(&facts, 0, sizeof(facts));
        bool not_tls = true;
        ck_assert_uint_eq(tls_parse_records(streams->server.data, k, 1, &facts, &not_tls), 0);
        ck_assert(!not_tls);
        assert_no_facts(&facts);

        struct tls_inspector *inspector = tls_inspector_create();
        tls_inspector_feed(inspector, 1, 500, true, NULL, 0, &facts);
        tls_inspector_feed(inspector, 1, 501, false, streams->server.data, k, &facts);
        assert_no_facts(&facts);
        ck_assert(!tls_inspector_done(inspector));
        /* the rest arrives: the hello completes */
        tls_inspector_feed(inspector, 1, 501 + k, false, streams->server.data + k, record - k,
                           &facts);
        ck_assert(facts.server_hello_seen);
        ck_assert_uint_eq(facts.version, TLS_VERSION_1_3);
        ck_assert_uint_eq(facts.cipher_suite, 0x1302);
        ck_assert(tls_inspector_done(inspector));
        tls_inspector_destroy(inspector);
    }
    free(streams);
}
END_TEST

/* Every truncation of a ClientHello. */
START_TEST(test_truncated_client_hello)
{
    struct capture_streams *streams = load_capture("tls13");
    uint32_t record = 5 + (((uint32_t)streams->client.data[3] << 8) | streams->client.data[4]);
    for (uint32_t k = 0; k < record; k++) {
        struct tls_facts facts;
        memset(&facts, 0, sizeof(facts));
        bool not_tls = true;
        ck_assert_uint_eq(tls_parse_records(streams->client.data, k, 0, &facts, &not_tls), 0);
        ck_assert(!not_tls);
        assert_no_facts(&facts);
    }
    free(streams);
}
END_TEST

START_TEST(test_synthetic_hellos)
{
    static const uint16_t versions[] = {0x0304, 0x0303};
    struct hello_spec spec = {0x0303, versions, 2, "Device.Example.ORG", 0, NULL, 0};
    struct builder *client = client_hello_record(&spec);
    struct builder *server = server_hello_record(0x0303, 0x1301, 0x0304, false);
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    bool not_tls = true;
    ck_assert_uint_eq(tls_parse_records(client->data, (uint32_t)client->len, 0, &facts, &not_tls),
                      client->len);
    ck_assert(!not_tls);
    ck_assert_uint_eq(tls_parse_records(server->data, (uint32_t)server->len, 1, &facts, &not_tls),
                      server->len);
    ck_assert(facts.client_hello_seen);
    ck_assert(facts.server_hello_seen);
    ck_assert_uint_eq(facts.offered_max_version, TLS_VERSION_1_3);
    ck_assert_uint_eq(facts.version, TLS_VERSION_1_3);
    ck_assert_uint_eq(facts.cipher_suite, 0x1301);
    ck_assert_str_eq(facts.sni, "device.example.org");
    free(client);
    free(server);
}
END_TEST

/* A hello in the wrong direction is not taken as this direction's hello. */
START_TEST(test_wrong_direction)
{
    struct hello_spec spec = {0x0303, NULL, 0, "a.example", 0, NULL, 0};
    struct builder *client = client_hello_record(&spec);
    struct builder *server = server_hello_record(0x0303, 0xc02f, 0, false);
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    bool not_tls = true;
    tls_parse_records(client->data, (uint32_t)client->len, 1, &facts, &not_tls);
    ck_assert(!not_tls);
    tls_parse_records(server->data, (uint32_t)server->len, 0, &facts, &not_tls);
    ck_assert(!not_tls);
    assert_no_facts(&facts);
    free(client);
    free(server);
}
END_TEST

/* GREASE entries are never the offered maximum. */
START_TEST(test_grease_versions)
{
    static const uint16_t mixed[] = {0x0a0a, 0x0303, 0xfafa, 0x0302, 0x3a3a};
    struct hello_spec spec = {0x0303, mixed, 5, NULL, 0, NULL, 0};
    struct builder *record = client_hello_record(&spec);
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    tls_parse_records(record->data, (uint32_t)record->len, 0, &facts, NULL);
    ck_assert(facts.client_hello_seen);
    ck_assert_uint_eq(facts.offered_max_version, TLS_VERSION_1_2);
    ck_assert_str_eq(facts.sni, "");
    free(record);

    static const uint16_t grease_only[] = {0x1a1a, 0xeaea};
    struct hello_spec only = {0x0301, grease_only, 2, NULL, 0, NULL, 0};
    record = client_hello_record(&only);
    memset(&facts, 0, sizeof(facts));
    tls_parse_records(record->data, (uint32_t)record->len, 0, &facts, NULL);
    ck_assert(facts.client_hello_seen);
    ck_assert_uint_eq(facts.offered_max_version, TLS_VERSION_1_0); /* falls back to legacy */
    free(record);

    /* 0x0a1a is not GREASE (bytes differ) */
    static const uint16_t near[] = {0x0304, 0x0a1a};
    struct hello_spec near_spec = {0x0303, near, 2, NULL, 0, NULL, 0};
    record = client_hello_record(&near_spec);
    memset(&facts, 0, sizeof(facts));
    tls_parse_records(record->data, (uint32_t)record->len, 0, &facts, NULL);
    ck_assert_uint_eq(facts.offered_max_version, 0x0a1a);
    free(record);
}
END_TEST

START_TEST(test_sni_sanitized)
{
    static const char raw[] = "PACS.Example.TEST\x01\xff<script>\n";
    struct hello_spec spec = {0x0303, NULL, 0, raw, sizeof(raw) - 1, NULL, 0};
    struct builder *record = client_hello_record(&spec);
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    tls_parse_records(record->data, (uint32_t)record->len, 0, &facts, NULL);
    ck_assert(facts.client_hello_seen);
    ck_assert_str_eq(facts.sni, "pacs.example.testscript");
    free(record);

    char longname[400];
    memset(longname, 'A', sizeof(longname));
    struct hello_spec long_spec = {0x0303, NULL, 0, longname, sizeof(longname), NULL, 0};
    record = client_hello_record(&long_spec);
    memset(&facts, 0, sizeof(facts));
    tls_parse_records(record->data, (uint32_t)record->len, 0, &facts, NULL);
    ck_assert(facts.client_hello_seen);
    ck_assert_uint_eq(strlen(facts.sni), FACT_HOST_MAX - 1);
    ck_assert_int_eq(facts.sni[0], 'a');
    ck_assert_int_eq(facts.sni[FACT_HOST_MAX - 2], 'a');
    free(record);
}
END_TEST

/* A ClientHello cut into many records, even its 4-byte header. */
START_TEST(test_hello_across_records)
{
    static const uint16_t versions[] = {0x0304};
    struct hello_spec spec = {0x0303, versions, 1, "split.example", 0, NULL, 0};
    struct builder *message = builder_new();
    build_client_hello_message(message, &spec);
    for (size_t fragment = 1; fragment <= 40; fragment += 13) {
        struct builder *records = builder_new();
        wrap_records(records, message, 22, fragment);
        struct tls_facts facts;
        memset(&facts, 0, sizeof(facts));
        bool not_tls = true;
        uint32_t used =
            tls_parse_records(records->data, (uint32_t)records->len, 0, &facts, &not_tls);
        ck_assert_uint_eq(used, records->len);
        ck_assert(!not_tls);
        ck_assert(facts.client_hello_seen);
        ck_assert_uint_eq(facts.offered_max_version, TLS_VERSION_1_3);
        ck_assert_str_eq(facts.sni, "split.example");
        /* one record short: no fact yet */
        memset(&facts, 0, sizeof(facts));
        size_t last = message->len % fragment == 0 ? fragment : message->len % fragment;
        tls_parse_records(records->data, (uint32_t)(records->len - 5 - last), 0, &facts,
                          &not_tls);
        assert_no_facts(&facts);
        free(records);
    }
    free(message);
}
END_TEST

/* Several messages in one record: ServerHello, Certificate, ServerHelloDone. */
START_TEST(test_messages_in_one_record)
{
    struct builder *messages = builder_new();
    put8(messages, 0); /* HelloRequest first: skipped */
    put24(messages, 0);
    build_server_hello_message(messages, 0x0303, 0x009c, 0, false);
    put8(messages, 11);
    put24(messages, 10);
    put_fill(messages, 0, 10);
    put8(messages, 14);
    put24(messages, 0);
    struct builder *record = builder_new();
    wrap_records(record, messages, 22, 16384);
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    bool not_tls = true;
    ck_assert_uint_eq(tls_parse_records(record->data, (uint32_t)record->len, 1, &facts, &not_tls),
                      record->len);
    ck_assert(facts.server_hello_seen);
    ck_assert_uint_eq(facts.version, TLS_VERSION_1_2);
    ck_assert_uint_eq(facts.cipher_suite, 0x009c);
    /* a Certificate message with an empty list, then 7 stray bytes */
    ck_assert(facts.certificate.seen);
    ck_assert(!facts.certificate.parsed);
    ck_assert_uint_eq(facts.certificate.chain_length, 0);
    ck_assert_str_eq(facts.certificate.subject_cn, "");
    free(messages);
    free(record);
}
END_TEST

START_TEST(test_sslv3_server_hello)
{
    struct builder *record = server_hello_record(0x0300, 0x000a, 0, false);
    record->data[1] = 3;
    record->data[2] = 0;
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    tls_parse_records(record->data, (uint32_t)record->len, 1, &facts, NULL);
    ck_assert(facts.server_hello_seen);
    ck_assert_uint_eq(facts.version, TLS_VERSION_SSL3);
    ck_assert_uint_eq(facts.cipher_suite, 0x000a);
    ck_assert_str_eq(tls_version_name(facts.version), "SSLv3");
    free(record);
}
END_TEST

/* HelloRetryRequest: cipher recorded, still waiting for the ServerHello. */
START_TEST(test_hello_retry_request)
{
    struct builder *stream = server_hello_record(0x0303, 0x1303, 0x0304, true);
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    bool not_tls = true;
    ck_assert_uint_eq(tls_parse_records(stream->data, (uint32_t)stream->len, 1, &facts, &not_tls),
                      stream->len);
    ck_assert(!not_tls);
    ck_assert(!facts.server_hello_seen);
    ck_assert_uint_eq(facts.cipher_suite, 0x1303);
    ck_assert_uint_eq(facts.version, 0);

    struct tls_inspector *inspector = tls_inspector_create();
    memset(&facts, 0, sizeof(facts));
    tls_inspector_feed(inspector, 1, 10, false, stream->data, (uint32_t)stream->len, &facts);
    ck_assert(!tls_inspector_done(inspector));
    ck_assert(!facts.server_hello_seen);
    /* a middlebox-compatibility ChangeCipherSpec, then the real hello */
    static const uint8_t ccs[] = {20, 3, 3, 0, 1, 1};
    uint32_t seq = 10 + (uint32_t)stream->len;
    tls_inspector_feed(inspector, 1, seq, false, ccs, sizeof(ccs), &facts);
    seq += sizeof(ccs);
    struct builder *final = server_hello_record(0x0303, 0x1301, 0x0304, false);
    tls_inspector_feed(inspector, 1, seq, false, final->data, (uint32_t)final->len, &facts);
    ck_assert(facts.server_hello_seen);
    ck_assert_uint_eq(facts.version, TLS_VERSION_1_3);
    ck_assert_uint_eq(facts.cipher_suite, 0x1301);
    ck_assert(tls_inspector_done(inspector));
    tls_inspector_destroy(inspector);
    free(stream);
    free(final);
}
END_TEST

/* The real HRR capture truncated after the HRR record. */
START_TEST(test_capture_hello_retry_partial)
{
    struct capture_streams *streams = load_capture("tls13hrr");
    uint32_t first = 5 + (((uint32_t)streams->server.data[3] << 8) | streams->server.data[4]);
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    tls_parse_records(streams->server.data, first, 1, &facts, NULL);
    ck_assert(!facts.server_hello_seen);
    ck_assert_uint_eq(facts.cipher_suite, 0x1302);
    free(streams);
}
END_TEST

START_TEST(test_bogus_handshake_length)
{
    struct builder *record = builder_new();
    static const uint8_t hdr[] = {22, 3, 1, 0, 8, 1, 0xff, 0xff, 0xff, 3, 3, 0, 0};
    put_bytes(record, hdr, sizeof(hdr));
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    bool not_tls = true;
    ck_assert_uint_eq(tls_parse_records(record->data, (uint32_t)record->len, 0, &facts, &not_tls),
                      record->len);
    ck_assert(!not_tls);
    assert_no_facts(&facts);

    /* the inspector gives the direction up at once */
    struct tls_inspector *inspector = tls_inspector_create();
    tls_inspector_feed(inspector, 0, 1, false, record->data, (uint32_t)record->len, &facts);
    static const uint8_t alert[] = {21, 3, 3, 0, 2, 2, 40};
    tls_inspector_feed(inspector, 1, 1, false, alert, sizeof(alert), &facts);
    assert_no_facts(&facts);
    ck_assert(tls_inspector_done(inspector));
    tls_inspector_destroy(inspector);

    /* the same for a ServerHello */
    record->data[5] = 2;
    memset(&facts, 0, sizeof(facts));
    tls_parse_records(record->data, (uint32_t)record->len, 1, &facts, &not_tls);
    ck_assert(!not_tls);
    assert_no_facts(&facts);
    free(record);
}
END_TEST

/* Inner lengths pointing past their container: no facts at all. */
START_TEST(test_bogus_inner_lengths)
{
    static const uint16_t versions[] = {0x0304};
    struct hello_spec spec = {0x0303, versions, 1, "x.example", 0, NULL, 0};
    struct builder *good = client_hello_record(&spec);
    /* offset of the extensions length: record 5 + hs 4 + 2 + 32 + 1 + 32 + 2 + 4 + 1 + 1 */
    size_t exts_at = 5 + 4 + 2 + 32 + 1 + 32 + 2 + 4 + 1 + 1;
    size_t first_ext_len_at = exts_at + 2 + 2;
    size_t sni_ext_len_at = first_ext_len_at + 2 + 2;
    size_t sni_list_len_at = sni_ext_len_at + 2;
    struct {
        size_t at;
        uint16_t value;
    } corruptions[] = {
        {exts_at, 0xffff},           /* extensions past the message */
        {first_ext_len_at, 0x4000},  /* one extension past the block */
        {sni_ext_len_at, 0x0100},    /* SNI extension past the block */
        {sni_list_len_at, 0x00ff},   /* server_name list past its extension */
        {5 + 4 + 2 + 32 + 1 + 32, 0xfff0}, /* cipher suites past the message */
    };
    for (size_t i = 0; i < sizeof(corruptions) / sizeof(corruptions[0]); i++) {
        struct builder *bad = builder_new();
        memcpy(bad, good, sizeof(*bad));
        bad->data[corruptions[i].at] = (uint8_t)(corruptions[i].value >> 8);
        bad->data[corruptions[i].at + 1] = (uint8_t)corruptions[i].value;
        struct tls_facts facts;
        memset(&facts, 0, sizeof(facts));
        bool not_tls = true;
        ck_assert_uint_eq(tls_parse_records(bad->data, (uint32_t)bad->len, 0, &facts, &not_tls),
                          bad->len);
        ck_assert(!not_tls);
        assert_no_facts(&facts);
        free(bad);
    }
    free(good);

    /* ServerHello: supported_versions extension longer than the block */
    struct builder *server = server_hello_record(0x0303, 0x1301, 0x0304, false);
    server->data[server->len - 4] = 0x00;
    server->data[server->len - 3] = 0x09;
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    tls_parse_records(server->data, (uint32_t)server->len, 1, &facts, NULL);
    assert_no_facts(&facts);
    free(server);
}
END_TEST

START_TEST(test_not_tls)
{
    static const char http[] = "GET / HTTP/1.1\r\nHost: pacs\r\n\r\n";
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    bool not_tls = false;
    ck_assert_uint_eq(
        tls_parse_records((const uint8_t *)http, sizeof(http) - 1, 0, &facts, &not_tls), 0);
    ck_assert(not_tls);
    static const uint8_t bad_major[] = {22, 2, 0, 0, 4};
    not_tls = false;
    tls_parse_records(bad_major, sizeof(bad_major), 1, &facts, &not_tls);
    ck_assert(not_tls);
    static const uint8_t too_long[] = {22, 3, 3, 0x48, 0x01};
    not_tls = false;
    tls_parse_records(too_long, sizeof(too_long), 1, &facts, &not_tls);
    ck_assert(not_tls);
    static const uint8_t heartbeat[] = {24, 3, 3, 0, 1, 1};
    not_tls = false;
    tls_parse_records(heartbeat, sizeof(heartbeat), 1, &facts, &not_tls);
    ck_assert(not_tls);
    /* too few bytes to tell: undecided */
    static const uint8_t partial[] = {22, 3};
    not_tls = true;
    ck_assert_uint_eq(tls_parse_records(partial, sizeof(partial), 0, &facts, &not_tls), 0);
    ck_assert(!not_tls);
    ck_assert_uint_eq(tls_parse_records(NULL, 0, 0, &facts, &not_tls), 0);
    ck_assert(!not_tls);
    /* the largest legal record length is fine */
    static const uint8_t max_len[] = {23, 3, 3, 0x48, 0x00};
    tls_parse_records(max_len, sizeof(max_len), 1, &facts, &not_tls);
    ck_assert(!not_tls);
    assert_no_facts(&facts);

    /* a later implausible record ends parsing without "not TLS" */
    struct builder *server = server_hello_record(0x0303, 0x1301, 0x0304, false);
    struct builder *stream = builder_new();
    static const uint8_t ccs[] = {20, 3, 3, 0, 1, 1};
    static const uint8_t bogus[] = {0x99, 3, 3, 0, 0};
    put_bytes(stream, ccs, sizeof(ccs));
    put_bytes(stream, bogus, sizeof(bogus));
    put_bytes(stream, server->data, server->len);
    not_tls = true;
    ck_assert_uint_eq(tls_parse_records(stream->data, (uint32_t)stream->len, 1, &facts, &not_tls),
                      sizeof(ccs));
    ck_assert(!not_tls);
    assert_no_facts(&facts);
    free(server);
    free(stream);

    struct tls_inspector *inspector = tls_inspector_create();
    tls_inspector_feed(inspector, 0, 1, true, NULL, 0, &facts);
    tls_inspector_feed(inspector, 0, 2, false, (const uint8_t *)http, sizeof(http) - 1, &facts);
    ck_assert(!tls_inspector_done(inspector));
    tls_inspector_feed(inspector, 1, 1, false, (const uint8_t *)"HTTP/1.1 200", 12, &facts);
    ck_assert(tls_inspector_done(inspector));
    assert_no_facts(&facts);
    tls_inspector_destroy(inspector);
}
END_TEST

/* Builds an SSLv2 ClientHello record. */
static void build_sslv2_client_hello(struct builder *b, uint16_t version)
{
    size_t at = b->len;
    put16(b, 0);
    put8(b, 1);
    put16(b, version);
    put16(b, 9);
    put16(b, 0);
    put16(b, 16);
    put24(b, 0x010080);
    put24(b, 0x0000ff);
    put24(b, 0x00002f);
    put_fill(b, 0x33, 16);
    patch(b, at, 2, (b->len - at - 2) | 0x8000);
}

START_TEST(test_sslv2_client_hello)
{
    struct builder *b = builder_new();
    build_sslv2_client_hello(b, 0x0301);
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    bool not_tls = true;
    ck_assert_uint_eq(tls_parse_records(b->data, (uint32_t)b->len, 0, &facts, &not_tls), b->len);
    ck_assert(!not_tls);
    ck_assert(facts.client_hello_seen);
    ck_assert_uint_eq(facts.offered_max_version, TLS_VERSION_1_0);
    ck_assert_str_eq(facts.sni, "");
    free(b);

    b = builder_new();
    build_sslv2_client_hello(b, 0x0002);
    memset(&facts, 0, sizeof(facts));
    struct tls_inspector *inspector = tls_inspector_create();
    for (uint32_t i = 0; i < b->len; i++)
        tls_inspector_feed(inspector, 0, 33 + i, false, b->data + i, 1, &facts);
    ck_assert(facts.client_hello_seen);
    ck_assert_uint_eq(facts.offered_max_version, TLS_VERSION_SSL2);
    tls_inspector_destroy(inspector);

    /* a challenge of the wrong size: not an SSLv2 hello, so not TLS */
    b->data[8] = 0;
    b->data[9] = 8;
    b->len -= 8;
    patch(b, 0, 2, (b->len - 2) | 0x8000);
    memset(&facts, 0, sizeof(facts));
    not_tls = false;
    ck_assert_uint_eq(tls_parse_records(b->data, (uint32_t)b->len, 0, &facts, &not_tls), 0);
    ck_assert(not_tls);
    assert_no_facts(&facts);
    /* an SSLv2 header with another message type is not TLS either */
    static const uint8_t other[] = {0x80, 0x20, 7, 0, 2};
    not_tls = false;
    tls_parse_records(other, sizeof(other), 0, &facts, &not_tls);
    ck_assert(not_tls);
    free(b);
}
END_TEST

START_TEST(test_sslv2_server_hello)
{
    struct builder *b = builder_new();
    put16(b, 0);
    put8(b, 4);
    put8(b, 0);
    put8(b, 1);
    put16(b, 0x0002);
    put16(b, 4);
    put16(b, 3);
    put16(b, 16);
    put_fill(b, 0x30, 4);
    put24(b, 0x010080);
    put_fill(b, 0x44, 16);
    patch(b, 0, 2, (b->len - 2) | 0x8000);
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    bool not_tls = true;
    ck_assert_uint_eq(tls_parse_records(b->data, (uint32_t)b->len, 1, &facts, &not_tls), b->len);
    ck_assert(!not_tls);
    ck_assert(facts.server_hello_seen);
    ck_assert_uint_eq(facts.version, TLS_VERSION_SSL2);
    ck_assert_uint_eq(facts.cipher_suite, 0);
    ck_assert_str_eq(tls_version_name(facts.version), "SSLv2");
    free(b);
}
END_TEST

/* More disjoint out-of-order pieces than the inspector holds: the extra
 * ones are dropped, and retransmissions still complete the stream. */
START_TEST(test_pending_limit)
{
    struct capture_streams *streams = load_capture("tls12");
    struct tls_inspector *inspector = tls_inspector_create();
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    tls_inspector_feed(inspector, 1, 999, true, NULL, 0, &facts);
    for (uint32_t at = 2; at < 60; at += 2)
        tls_inspector_feed(inspector, 1, 1000 + at, false, streams->server.data + at, 1, &facts);
    ck_assert(!facts.server_hello_seen);
    for (uint32_t at = 0; at < streams->server.len; at += 10) {
        uint32_t n = streams->server.len - at < 10 ? streams->server.len - at : 10;
        tls_inspector_feed(inspector, 1, 1000 + at, false, streams->server.data + at, n, &facts);
    }
    ck_assert(facts.server_hello_seen);
    ck_assert_uint_eq(facts.version, TLS_VERSION_1_2);
    ck_assert_uint_eq(facts.cipher_suite, 0xc030);
    tls_inspector_destroy(inspector);
    free(streams);
}
END_TEST

/* Segments far ahead of or behind the stream start, and past the cap. */
START_TEST(test_out_of_window_segments)
{
    struct capture_streams *streams = load_capture("tls13");
    struct tls_inspector *inspector = tls_inspector_create();
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    tls_inspector_feed(inspector, 1, 5000, true, NULL, 0, &facts);
    tls_inspector_feed(inspector, 1, 5001 + TLS_STREAM_CAP, false, streams->server.data, 50,
                       &facts);
    tls_inspector_feed(inspector, 1, 5001 - 100, false, streams->server.data, 50, &facts);
    tls_inspector_feed(inspector, 1, 5001 + 0x80000000u, false, streams->server.data, 50,
                       &facts);
    /* starts 10 bytes before the stream: only its tail counts */
    uint8_t shifted[60];
    memset(shifted, 0xee, 10);
    memcpy(shifted + 10, streams->server.data, 50);
    tls_inspector_feed(inspector, 1, 5001 - 10, false, shifted, sizeof(shifted), &facts);
    tls_inspector_feed(inspector, 1, 5001 + 50, false, streams->server.data + 50,
                       streams->server.len - 50, &facts);
    ck_assert(facts.server_hello_seen);
    ck_assert_uint_eq(facts.version, TLS_VERSION_1_3);
    ck_assert_uint_eq(facts.cipher_suite, 0x1302);
    /* invalid arguments are ignored */
    tls_inspector_feed(inspector, 2, 0, false, streams->server.data, 10, &facts);
    tls_inspector_feed(NULL, 0, 0, false, streams->server.data, 10, &facts);
    tls_inspector_feed(inspector, 0, 0, false, streams->server.data, 10, NULL);
    tls_inspector_destroy(inspector);
    tls_inspector_destroy(NULL);
    ck_assert(tls_inspector_done(NULL));
    free(streams);
}
END_TEST

/* A server stream that never yields a ServerHello within the cap. */
START_TEST(test_stream_cap)
{
    struct builder *stream = builder_new();
    /* a Certificate message declared huge: skipped, never buffered */
    struct builder *message = builder_new();
    put8(message, 11);
    put24(message, 0xffffff);
    put_fill(message, 0x11, 40000);
    wrap_records(stream, message, 22, 16000);
    struct tls_inspector *inspector = tls_inspector_create();
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    for (uint32_t at = 0; at < stream->len; at += 1400) {
        uint32_t n = (uint32_t)stream->len - at < 1400 ? (uint32_t)stream->len - at : 1400;
        tls_inspector_feed(inspector, 1, 7 + at, false, stream->data + at, n, &facts);
    }
    ck_assert(!tls_inspector_done(inspector)); /* client direction still open */
    struct hello_spec spec = {0x0303, NULL, 0, "capped.example", 0, NULL, 0};
    struct builder *client = client_hello_record(&spec);
    tls_inspector_feed(inspector, 0, 3, false, client->data, (uint32_t)client->len, &facts);
    ck_assert(tls_inspector_done(inspector));
    ck_assert(facts.client_hello_seen);
    ck_assert(!facts.server_hello_seen);
    ck_assert_str_eq(facts.sni, "capped.example");
    /* the capped Certificate was judged from its first bytes: garbage */
    ck_assert(facts.certificate.seen);
    ck_assert(!facts.certificate.parsed);
    ck_assert_uint_eq(facts.certificate.chain_length, 0);
    tls_inspector_destroy(inspector);
    free(stream);
    free(message);
    free(client);
}
END_TEST

/* Alerts and encrypted data before the hello end a direction. */
START_TEST(test_alert_before_hello)
{
    struct tls_inspector *inspector = tls_inspector_create();
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    static const uint8_t alert[] = {21, 3, 3, 0, 2, 2, 70};
    tls_inspector_feed(inspector, 1, 1, false, alert, sizeof(alert), &facts);
    ck_assert(!tls_inspector_done(inspector));
    static const uint8_t appdata[] = {23, 3, 3, 0, 3, 1, 2, 3};
    tls_inspector_feed(inspector, 0, 1, false, appdata, sizeof(appdata), &facts);
    ck_assert(tls_inspector_done(inspector));
    assert_no_facts(&facts);
    tls_inspector_destroy(inspector);
}
END_TEST

/* ---- x509: DER certificates straight to the GnuTLS glue ----------------- */

struct der_case {
    const char *file;
    struct cert_expect want; /* chain_length unused */
};

static const struct der_case der_cases[] = {
    {"cert_ca.der", {"RSA", 2048, "RSA-SHA256", false, true, 1704067200, 2335219200,
                     "Fluxaudit Test CA", "Fluxaudit Test CA", 0}},
    {"cert_rsa2048.der", {"RSA", 2048, "RSA-SHA256", false, false, 1735732800, 2051265600,
                          "pacs.example.test", "Fluxaudit Test CA", 0}},
    {"cert_rsa1024.der", {"RSA", 1024, "RSA-SHA1", true, true, 1577836800, 1893456000,
                          "old-modality.example.test", "old-modality.example.test", 0}},
    {"cert_ec256.der", {"EC", 256, "ECDSA-SHA256", false, true, 1748736000, 1811808000,
                        "ecg-gateway.example.test", "ecg-gateway.example.test", 0}},
    {"cert_expired.der", {"RSA", 2048, "RSA-SHA256", false, false, 1420070400, 1451606400,
                          "expired.example.test", "Fluxaudit Test CA", 0}},
    {"cert_md5.der", {"RSA", 2048, "RSA-MD5", true, false, 1704067200, 2019686400,
                      "md5.example.test", "Fluxaudit Test CA", 0}},
    {"cert_md5self.der", {"RSA", 2048, "RSA-MD5", true, true, 1704067200, 2019686400,
                          "md5-self.example.test", "md5-self.example.test", 0}},
    /* 99991231235959Z: "no well-defined expiration date" */
    {"cert_forever.der", {"RSA", 2048, "RSA-SHA384", false, false, 1704067200,
                          X509_NO_EXPIRATION, "forever.example.test", "Fluxaudit Test CA", 0}},
    /* issuer DN == subject DN but signed by the CA's key: not self-signed */
    {"cert_selfissued.der", {"RSA", 2048, "RSA-SHA256", false, false, 1704067200, 2019686400,
                             "Fluxaudit Test CA", "Fluxaudit Test CA", 0}},
    /* UTF-8 "é" dropped, printable ASCII kept */
    {"cert_ed25519.der", {"Ed25519", 256, "EdDSA-Ed25519", false, true, 1704067200, 2019686400,
                          "Infusion pump 7 ", "Infusion pump 7 ", 0}},
    /* a 64-character CN, cut to 63 */
    {"cert_dsa.der", {"DSA", 2048, "DSA-SHA256", false, true, 1704067200, 2019686400,
                      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0}},
};
#define DER_COUNT (sizeof(der_cases) / sizeof(der_cases[0]))

static struct stream_file *load_file(const char *name)
{
    struct stream_file *file = calloc(1, sizeof(*file));
    ck_assert_ptr_nonnull(file);
    load(name, file);
    return file;
}

START_TEST(test_x509_files)
{
    const struct der_case *c = &der_cases[_i];
    struct stream_file *der = load_file(c->file);
    struct certificate_facts facts;
    memset(&facts, 0xa5, sizeof(facts));
    facts.seen = true;
    facts.chain_length = 7;
    ck_assert(x509_certificate_facts(der->data, der->len, &facts));
    struct cert_expect want = c->want;
    want.chain_length = 7; /* left alone */
    assert_certificate(&facts, &want);
    free(der);
}
END_TEST

/* Every strict prefix of a certificate, garbage, flipped bits, oversized
 * and missing input: never a crash, parsed only for a whole certificate. */
START_TEST(test_x509_malformed)
{
    struct stream_file *der = load_file("cert_rsa1024.der");
    struct certificate_facts facts;
    for (uint32_t k = 0; k < der->len; k++) {
        memset(&facts, 0x5a, sizeof(facts));
        facts.seen = false;
        ck_assert(!x509_certificate_facts(der->data, k, &facts));
        ck_assert(!facts.parsed);
        ck_assert(!facts.self_signed);
        ck_assert_str_eq(facts.key_type, "");
        ck_assert_str_eq(facts.subject_cn, "");
        ck_assert_int_eq(facts.not_after, 0);
    }
    uint8_t garbage[600];
    for (size_t i = 0; i < sizeof(garbage); i++)
        garbage[i] = (uint8_t)(i * 37 + 11);
    ck_assert(!x509_certificate_facts(garbage, sizeof(garbage), &facts));
    garbage[0] = 0x30; /* a SEQUENCE claiming more than there is */
    garbage[1] = 0x82;
    ck_assert(!x509_certificate_facts(garbage, sizeof(garbage), &facts));
    ck_assert(!x509_certificate_facts(NULL, 100, &facts));
    ck_assert(!x509_certificate_facts(der->data, 0, &facts));
    ck_assert(!x509_certificate_facts(der->data, der->len, NULL));
    /* longer than the cap: refused before GnuTLS sees it */
    uint8_t *big = calloc(1, X509_DER_MAX + 1);
    memcpy(big, der->data, der->len);
    ck_assert(!x509_certificate_facts(big, X509_DER_MAX + 1, &facts));
    ck_assert(!facts.parsed);
    free(big);
    /* bytes after the certificate: GnuTLS refuses the whole */
    uint8_t *trailing = calloc(1, der->len + 20);
    memcpy(trailing, der->data, der->len);
    ck_assert(!x509_certificate_facts(trailing, der->len + 20, &facts));
    ck_assert(x509_certificate_facts(trailing, der->len, &facts));
    ck_assert(facts.self_signed);
    free(trailing);
    /* the last signature byte flipped: still a certificate, no longer
     * self-signed (its signature does not verify) */
    der->data[der->len - 1] ^= 0x01;
    ck_assert(x509_certificate_facts(der->data, der->len, &facts));
    ck_assert(facts.parsed);
    ck_assert(!facts.self_signed);
    ck_assert_str_eq(facts.subject_cn, "old-modality.example.test");
    free(der);
}
END_TEST

/* ---- Certificate messages ---------------------------------------------- */

/* Appends a Certificate handshake message holding `count` DER files. */
static void build_certificate_message(struct builder *b, const struct stream_file *const *ders,
                                      size_t count)
{
    put8(b, 11);
    size_t length_at = b->len;
    put24(b, 0);
    size_t list_at = b->len;
    put24(b, 0);
    for (size_t i = 0; i < count; i++) {
        put24(b, ders[i]->len);
        put_bytes(b, ders[i]->data, ders[i]->len);
    }
    patch(b, list_at, 3, b->len - list_at - 3);
    patch(b, length_at, 3, b->len - length_at - 3);
}

/* A TLS 1.2 server flight: ServerHello, the given message bytes,
 * ServerHelloDone, in records of at most `fragment` bytes. */
static struct builder *server_flight(const struct builder *middle, size_t fragment)
{
    struct builder *messages = builder_new();
    build_server_hello_message(messages, 0x0303, 0xc02f, 0, false);
    put_bytes(messages, middle->data, middle->len);
    put8(messages, 14);
    put24(messages, 0);
    struct builder *records = builder_new();
    wrap_records(records, messages, 22, fragment);
    free(messages);
    return records;
}

/* Feeds a server stream through an inspector after a SYN, in
 * `segment`-byte pieces, backwards when `reverse`. */
static void feed_server(struct tls_inspector *inspector, const struct builder *stream,
                        uint32_t segment, bool reverse, struct tls_facts *facts)
{
    tls_inspector_feed(inspector, 1, 69999, true, NULL, 0, facts);
    uint32_t len = (uint32_t)stream->len;
    uint32_t count = (len + segment - 1) / segment;
    for (uint32_t k = 0; k < count; k++) {
        uint32_t at = (reverse ? count - 1 - k : k) * segment;
        uint32_t n = len - at < segment ? len - at : segment;
        tls_inspector_feed(inspector, 1, 70000 + at, false, stream->data + at, n, facts);
    }
}

/* A chain of three across many small records, parsed whole and through
 * the inspector in 1-byte and reversed segments. */
START_TEST(test_certificate_chain_built)
{
    struct stream_file *leaf = load_file("cert_ec256.der");
    struct stream_file *ca = load_file("cert_ca.der");
    const struct stream_file *chain[] = {leaf, ca, ca};
    struct builder *message = builder_new();
    build_certificate_message(message, chain, 3);
    struct builder *stream = server_flight(message, 100);
    const struct cert_expect want = {"EC", 256, "ECDSA-SHA256", false, true, 1748736000,
                                     1811808000, "ecg-gateway.example.test",
                                     "ecg-gateway.example.test", 3};
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    bool not_tls = true;
    uint32_t used = tls_parse_records(stream->data, (uint32_t)stream->len, 1, &facts, &not_tls);
    ck_assert(!not_tls);
    /* the last record holds the end of the Certificate and the ServerHelloDone */
    ck_assert_uint_eq(used, stream->len);
    ck_assert(facts.server_hello_seen);
    assert_certificate(&facts.certificate, &want);

    static const uint32_t segments[] = {1, 7, 333, 1460};
    for (size_t i = 0; i < sizeof(segments) / sizeof(segments[0]); i++) {
        for (int reverse = 0; reverse < 2; reverse++) {
            struct tls_inspector *inspector = tls_inspector_create();
            memset(&facts, 0, sizeof(facts));
            feed_server(inspector, stream, segments[i], reverse, &facts);
            ck_assert(facts.server_hello_seen);
            assert_certificate(&facts.certificate, &want);
            ck_assert(tls_inspector_done(inspector));
            tls_inspector_destroy(inspector);
        }
    }
    free(message);
    free(stream);
    free(leaf);
    free(ca);
}
END_TEST

/* Runs a server flight carrying `message` through tls_parse_records. */
static struct tls_facts parse_flight(const struct builder *message)
{
    struct builder *stream = server_flight(message, 16384);
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    tls_parse_records(stream->data, (uint32_t)stream->len, 1, &facts, NULL);
    ck_assert(facts.server_hello_seen);
    free(stream);
    return facts;
}

/* Broken Certificate messages: seen, never a crash, parsed only when the
 * leaf is a whole valid certificate. */
START_TEST(test_certificate_malformed)
{
    struct stream_file *leaf = load_file("cert_rsa2048.der");
    /* garbage DER as the leaf, a good second certificate */
    struct stream_file *junk = calloc(1, sizeof(*junk));
    memset(junk->data, 0x30, 300);
    junk->len = 300;
    const struct stream_file *bad_first[] = {junk, leaf};
    struct builder *message = builder_new();
    build_certificate_message(message, bad_first, 2);
    struct tls_facts facts = parse_flight(message);
    ck_assert(facts.certificate.seen);
    ck_assert(!facts.certificate.parsed);
    ck_assert_uint_eq(facts.certificate.chain_length, 2);
    ck_assert_str_eq(facts.certificate.subject_cn, "");

    /* an empty list */
    message->len = 0;
    build_certificate_message(message, NULL, 0);
    facts = parse_flight(message);
    ck_assert(facts.certificate.seen);
    ck_assert(!facts.certificate.parsed);
    ck_assert_uint_eq(facts.certificate.chain_length, 0);

    /* the leaf entry claims more than the list holds */
    const struct stream_file *one[] = {leaf};
    message->len = 0;
    build_certificate_message(message, one, 1);
    patch(message, 7, 3, leaf->len + 1);
    facts = parse_flight(message);
    ck_assert(facts.certificate.seen);
    ck_assert(!facts.certificate.parsed);
    ck_assert_uint_eq(facts.certificate.chain_length, 0);

    /* the list claims more than the message holds: what is whole counts */
    message->len = 0;
    build_certificate_message(message, one, 1);
    patch(message, 4, 3, 0xffffff);
    facts = parse_flight(message);
    ck_assert(facts.certificate.parsed);
    ck_assert_uint_eq(facts.certificate.chain_length, 1);
    ck_assert_str_eq(facts.certificate.subject_cn, "pacs.example.test");

    /* the list is shorter than the message: bytes after it are ignored */
    message->len = 0;
    build_certificate_message(message, one, 1);
    put_fill(message, 0xee, 20);
    patch(message, 1, 3, message->len - 4);
    facts = parse_flight(message);
    ck_assert(facts.certificate.parsed);
    ck_assert_uint_eq(facts.certificate.chain_length, 1);

    /* a leaf larger than X509_DER_MAX: not handed to GnuTLS */
    struct stream_file *huge = calloc(1, sizeof(*huge));
    memcpy(huge->data, leaf->data, leaf->len);
    huge->len = X509_DER_MAX + 100;
    const struct stream_file *oversized[] = {huge, leaf};
    message->len = 0;
    build_certificate_message(message, oversized, 2);
    facts = parse_flight(message);
    ck_assert(facts.certificate.seen);
    ck_assert(!facts.certificate.parsed);
    ck_assert_uint_eq(facts.certificate.chain_length, 2);
    free(huge);
    free(junk);
    free(leaf);
    free(message);
}
END_TEST

/* A Certificate message declared far longer than the stream cap: judged
 * from the bytes that fit, through the inspector (stream cap) and through
 * tls_parse_records (message cap). */
START_TEST(test_certificate_oversized_declared)
{
    struct stream_file *leaf = load_file("cert_rsa2048.der");
    struct builder *message = builder_new();
    put8(message, 11);
    put24(message, 0xfffff0);
    put24(message, 0xffffed);
    put24(message, leaf->len);
    put_bytes(message, leaf->data, leaf->len);
    put24(message, 0x0f0000); /* a second certificate cut by the caps */
    put_fill(message, 0x42, 45000);
    struct builder *hello = builder_new();
    build_server_hello_message(hello, 0x0303, 0x009c, 0, false);
    struct builder *stream = builder_new();
    wrap_records(stream, hello, 22, 16384);
    wrap_records(stream, message, 22, 16384);
    ck_assert_uint_gt(stream->len, TLS_STREAM_CAP);

    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    tls_parse_records(stream->data, (uint32_t)stream->len, 1, &facts, NULL);
    ck_assert(facts.certificate.seen);
    ck_assert(facts.certificate.parsed);
    ck_assert_str_eq(facts.certificate.subject_cn, "pacs.example.test");
    ck_assert_uint_eq(facts.certificate.chain_length, 1);

    struct tls_inspector *inspector = tls_inspector_create();
    memset(&facts, 0, sizeof(facts));
    feed_server(inspector, stream, 1400, false, &facts);
    ck_assert(tls_inspector_done(inspector));
    ck_assert(facts.certificate.seen);
    ck_assert(facts.certificate.parsed);
    ck_assert_uint_eq(facts.certificate.chain_length, 1);
    ck_assert_str_eq(facts.certificate.issuer_cn, "Fluxaudit Test CA");
    tls_inspector_destroy(inspector);

    /* a first certificate declared past every cap */
    message->len = 0;
    put8(message, 11);
    put24(message, 0xfffff0);
    put24(message, 0xffffed);
    put24(message, 0xffffea);
    put_bytes(message, leaf->data, leaf->len);
    put_fill(message, 0x42, 45000);
    stream->len = 0;
    wrap_records(stream, hello, 22, 16384);
    wrap_records(stream, message, 22, 16384);
    inspector = tls_inspector_create();
    memset(&facts, 0, sizeof(facts));
    feed_server(inspector, stream, 1400, true, &facts);
    ck_assert(tls_inspector_done(inspector));
    ck_assert(facts.server_hello_seen);
    ck_assert(facts.certificate.seen);
    ck_assert(!facts.certificate.parsed);
    ck_assert_uint_eq(facts.certificate.chain_length, 0);
    tls_inspector_destroy(inspector);
    free(leaf);
    free(message);
    free(hello);
    free(stream);
}
END_TEST

/* A real server stream cut inside the Certificate message: nothing about
 * the certificate and not done until the rest arrives. */
START_TEST(test_truncated_certificate)
{
    struct capture_streams *streams = load_capture("cert_rsa2048");
    uint32_t first = record_size_at(&streams->server, 0);
    uint32_t second = record_size_at(&streams->server, first);
    for (uint32_t cut = first; cut < first + second; cut += 37) {
        struct tls_facts facts;
        memset(&facts, 0, sizeof(facts));
        tls_parse_records(streams->server.data, cut, 1, &facts, NULL);
        ck_assert(facts.server_hello_seen);
        ck_assert(!facts.certificate.seen);

        struct tls_inspector *inspector = tls_inspector_create();
        memset(&facts, 0, sizeof(facts));
        tls_inspector_feed(inspector, 1, 9, true, NULL, 0, &facts);
        tls_inspector_feed(inspector, 1, 10, false, streams->server.data, cut, &facts);
        ck_assert(facts.server_hello_seen);
        ck_assert_str_eq(facts.alpn, "http/1.1");
        ck_assert(!facts.certificate.seen);
        ck_assert(!tls_inspector_done(inspector));
        tls_inspector_feed(inspector, 1, 10 + cut, false, streams->server.data + cut,
                           streams->server.len - cut, &facts);
        assert_certificate(&facts.certificate, &rsa2048_cert);
        ck_assert(tls_inspector_done(inspector));
        tls_inspector_destroy(inspector);
    }
    free(streams);
}
END_TEST

/* A capture that starts at the Certificate record (the ServerHello
 * segment missed): the certificate is still read. */
START_TEST(test_certificate_without_hello)
{
    struct capture_streams *streams = load_capture("cert_md5");
    uint32_t first = record_size_at(&streams->server, 0);
    struct tls_inspector *inspector = tls_inspector_create();
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    tls_inspector_feed(inspector, 1, 5000, false, streams->server.data + first,
                       streams->server.len - first, &facts);
    ck_assert(!facts.server_hello_seen);
    assert_certificate(&facts.certificate, &md5_cert);
    ck_assert(!tls_inspector_done(inspector)); /* the client may still say something */
    feed_stream(inspector, 0, 1, &streams->client, 50, FEED_IN_ORDER, &facts);
    ck_assert(facts.client_hello_seen);
    ck_assert(tls_inspector_done(inspector));
    tls_inspector_destroy(inspector);
    free(streams);
}
END_TEST

/* A TLS 1.2 server flight without a certificate (anonymous suite, resumed
 * session, alert): done, no certificate facts. */
START_TEST(test_flight_without_certificate)
{
    struct builder *none = builder_new();
    struct builder *stream = server_flight(none, 16384); /* ServerHello, ServerHelloDone */
    struct tls_inspector *inspector = tls_inspector_create();
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    struct builder *hello_only = server_hello_record(0x0303, 0x0034, 0, false);
    tls_inspector_feed(inspector, 1, 1, false, hello_only->data, (uint32_t)hello_only->len,
                       &facts);
    ck_assert(facts.server_hello_seen);
    ck_assert(!tls_inspector_done(inspector)); /* a Certificate may follow */
    tls_inspector_destroy(inspector);

    inspector = tls_inspector_create();
    memset(&facts, 0, sizeof(facts));
    feed_server(inspector, stream, 3, false, &facts);
    ck_assert(facts.server_hello_seen);
    ck_assert_uint_eq(facts.cipher_suite, 0xc02f);
    ck_assert(!facts.certificate.seen);
    ck_assert(tls_inspector_done(inspector));
    tls_inspector_destroy(inspector);

    /* resumed session: ServerHello then ChangeCipherSpec */
    static const uint8_t ccs[] = {20, 3, 3, 0, 1, 1};
    inspector = tls_inspector_create();
    memset(&facts, 0, sizeof(facts));
    tls_inspector_feed(inspector, 1, 1, false, hello_only->data, (uint32_t)hello_only->len,
                       &facts);
    tls_inspector_feed(inspector, 1, 1 + (uint32_t)hello_only->len, false, ccs, sizeof(ccs),
                       &facts);
    ck_assert(tls_inspector_done(inspector));
    ck_assert(!facts.certificate.seen);
    tls_inspector_destroy(inspector);

    /* an alert after the ServerHello */
    static const uint8_t alert[] = {21, 3, 3, 0, 2, 2, 40};
    inspector = tls_inspector_create();
    memset(&facts, 0, sizeof(facts));
    tls_inspector_feed(inspector, 1, 1, false, hello_only->data, (uint32_t)hello_only->len,
                       &facts);
    tls_inspector_feed(inspector, 1, 1 + (uint32_t)hello_only->len, false, alert, sizeof(alert),
                       &facts);
    ck_assert(tls_inspector_done(inspector));
    tls_inspector_destroy(inspector);

    /* TLS 1.3: done at the ServerHello, a later "Certificate" is ignored */
    struct builder *tls13 = server_hello_record(0x0303, 0x1301, 0x0304, false);
    inspector = tls_inspector_create();
    memset(&facts, 0, sizeof(facts));
    tls_inspector_feed(inspector, 1, 1, false, tls13->data, (uint32_t)tls13->len, &facts);
    ck_assert(tls_inspector_done(inspector));
    ck_assert_uint_eq(facts.version, TLS_VERSION_1_3);
    tls_inspector_destroy(inspector);
    free(tls13);
    free(none);
    free(stream);
    free(hello_only);
}
END_TEST

/* An SSLv2 ServerHello carries the certificate itself. */
START_TEST(test_sslv2_server_certificate)
{
    struct stream_file *der = load_file("cert_rsa1024.der");
    struct builder *b = builder_new();
    put16(b, 0);
    put8(b, 4);
    put8(b, 0);
    put8(b, 1); /* X.509 */
    put16(b, 0x0002);
    put16(b, der->len);
    put16(b, 3);
    put16(b, 16);
    put_bytes(b, der->data, der->len);
    put24(b, 0x010080);
    put_fill(b, 0x44, 16);
    patch(b, 0, 2, (b->len - 2) | 0x8000);
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    ck_assert_uint_eq(tls_parse_records(b->data, (uint32_t)b->len, 1, &facts, NULL), b->len);
    ck_assert(facts.server_hello_seen);
    ck_assert_uint_eq(facts.version, TLS_VERSION_SSL2);
    assert_certificate(&facts.certificate, &rsa1024_cert);
    free(b);
    free(der);
}
END_TEST

/* ---- ALPN ---------------------------------------------------------------- */

START_TEST(test_alpn)
{
    static const uint8_t offered[] = {0, 12, 2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.',
                                      '1'};
    struct hello_spec spec = {0x0303, NULL, 0, "pacs", 0, offered, sizeof(offered)};
    struct builder *client = client_hello_record(&spec);
    struct builder *selected = builder_new();
    build_server_hello_alpn(selected, 0x0303, 0xc02f, 0, false, "http/1.1");
    struct builder *server = builder_new();
    wrap_records(server, selected, 22, 16384);
    struct builder *plain = server_hello_record(0x0303, 0xc02f, 0, false);

    /* client alone, then the server's choice replaces it */
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    tls_parse_records(client->data, (uint32_t)client->len, 0, &facts, NULL);
    ck_assert_str_eq(facts.alpn, "h2");
    tls_parse_records(server->data, (uint32_t)server->len, 1, &facts, NULL);
    ck_assert_str_eq(facts.alpn, "http/1.1");
    /* server first: the client's offer does not override its choice */
    memset(&facts, 0, sizeof(facts));
    tls_parse_records(server->data, (uint32_t)server->len, 1, &facts, NULL);
    tls_parse_records(client->data, (uint32_t)client->len, 0, &facts, NULL);
    ck_assert_str_eq(facts.alpn, "http/1.1");
    /* a server without ALPN leaves the client's first offer */
    memset(&facts, 0, sizeof(facts));
    tls_parse_records(plain->data, (uint32_t)plain->len, 1, &facts, NULL);
    tls_parse_records(client->data, (uint32_t)client->len, 0, &facts, NULL);
    ck_assert_str_eq(facts.alpn, "h2");
    free(client);

    /* non-printable bytes dropped, long names cut */
    uint8_t odd[80] = {0, 78, 77, 'a', 0x01, 'b', 0xff, '\n', 'c'};
    memset(odd + 9, 'z', sizeof(odd) - 9);
    struct hello_spec odd_spec = {0x0303, NULL, 0, NULL, 0, odd, sizeof(odd)};
    client = client_hello_record(&odd_spec);
    memset(&facts, 0, sizeof(facts));
    tls_parse_records(client->data, (uint32_t)client->len, 0, &facts, NULL);
    ck_assert(facts.client_hello_seen);
    ck_assert_uint_eq(strlen(facts.alpn), FACT_NAME_MAX - 1);
    ck_assert(strncmp(facts.alpn, "abczzz", 6) == 0);
    free(client);

    /* a name running past the list: the hello is malformed, no facts */
    static const uint8_t broken[] = {0, 4, 9, 'h', '2', 'x'};
    struct hello_spec broken_spec = {0x0303, NULL, 0, "x", 0, broken, sizeof(broken)};
    client = client_hello_record(&broken_spec);
    memset(&facts, 0, sizeof(facts));
    tls_parse_records(client->data, (uint32_t)client->len, 0, &facts, NULL);
    assert_no_facts(&facts);
    free(client);
    /* an empty list is well formed: no protocol */
    static const uint8_t empty[] = {0, 0};
    struct hello_spec empty_spec = {0x0303, NULL, 0, NULL, 0, empty, sizeof(empty)};
    client = client_hello_record(&empty_spec);
    memset(&facts, 0, sizeof(facts));
    tls_parse_records(client->data, (uint32_t)client->len, 0, &facts, NULL);
    ck_assert(facts.client_hello_seen);
    ck_assert_str_eq(facts.alpn, "");
    free(client);
    /* a ServerHello whose ALPN list is cut: malformed, no facts */
    server->data[server->len - 1 - 8 - 1 - 2] = 0x40;
    memset(&facts, 0, sizeof(facts));
    tls_parse_records(server->data, (uint32_t)server->len, 1, &facts, NULL);
    assert_no_facts(&facts);
    free(server);
    free(selected);
    free(plain);
}
END_TEST

/* ---- DTLS ---------------------------------------------------------------- */

/* Feeds each datagram of a dtls12_*.bin file (2-byte length, payload). */
static void feed_datagrams(const struct stream_file *file, int direction,
                           struct tls_facts *facts)
{
    uint32_t at = 0;
    while (at + 2 <= file->len) {
        uint32_t n = ((uint32_t)file->data[at] << 8) | file->data[at + 1];
        ck_assert_uint_le(at + 2 + n, file->len);
        ck_assert(tls_inspect_datagram(direction, file->data + at + 2, n, facts));
        at += 2 + n;
    }
    ck_assert_uint_eq(at, file->len);
}

START_TEST(test_dtls_capture)
{
    struct capture_streams *streams = load_capture("dtls12");
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    feed_datagrams(&streams->client, 0, &facts);
    ck_assert(facts.client_hello_seen);
    ck_assert(!facts.server_hello_seen);
    ck_assert(facts.is_dtls);
    ck_assert_uint_eq(facts.offered_max_version, 0xfefd);
    ck_assert_str_eq(facts.sni, "pacs.example.test");
    feed_datagrams(&streams->server, 1, &facts);
    ck_assert(facts.server_hello_seen);
    ck_assert_uint_eq(facts.version, 0xfefd);
    ck_assert_str_eq(tls_version_name(facts.version), "DTLSv1.2");
    ck_assert_uint_eq(facts.cipher_suite, 0xc030);
    /* the certificate came in fragments over five datagrams: not read */
    ck_assert(!facts.certificate.seen);
    /* a stream parser refuses DTLS records */
    bool not_tls = false;
    struct tls_facts stream_facts;
    memset(&stream_facts, 0, sizeof(stream_facts));
    tls_parse_records(streams->client.data + 2, 100, 0, &stream_facts, &not_tls);
    ck_assert(not_tls);
    free(streams);
}
END_TEST

/* Wraps a handshake message (TLS 4-byte header included in `message`)
 * into one DTLS record with the 12-byte DTLS handshake header. */
static void put_dtls_record(struct builder *datagram, const struct builder *message,
                            uint16_t record_version, uint32_t fragment_offset,
                            uint32_t fragment_length)
{
    uint32_t body_len = (uint32_t)message->len - 4;
    put8(datagram, 22);
    put16(datagram, record_version);
    put16(datagram, 0);
    put_fill(datagram, 0, 6);
    put16(datagram, 12 + fragment_length);
    put8(datagram, message->data[0]);
    put24(datagram, body_len);
    put16(datagram, 0);
    put24(datagram, fragment_offset);
    put24(datagram, fragment_length);
    put_bytes(datagram, message->data + 4 + fragment_offset, fragment_length);
}

/* A DTLS ClientHello body from a TLS one: the cookie after the session id. */
static void tls_to_dtls_client_hello(const struct builder *tls, struct builder *dtls,
                                     uint16_t version)
{
    size_t session_end = 4 + 2 + 32 + 1 + tls->data[4 + 2 + 32];
    put_bytes(dtls, tls->data, session_end);
    patch(dtls, 4, 2, version);
    put8(dtls, 3);
    put_fill(dtls, 0xc0, 3);
    put_bytes(dtls, tls->data + session_end, tls->len - session_end);
    patch(dtls, 1, 3, dtls->len - 4);
}

START_TEST(test_dtls_built)
{
    /* DTLS 1.3 offered among 1.2 and 1.0: the newest is the lowest number */
    static const uint16_t versions[] = {0xfefd, 0xfefc, 0xfeff, 0x2a2a};
    static const uint8_t alpn[] = {0, 6, 5, 'c', 'o', 'a', 'p', 's'};
    struct hello_spec spec = {0xfefd, versions, 4, "Pump-7.example", 0, alpn, sizeof(alpn)};
    struct builder *tls_hello = builder_new();
    build_client_hello_message(tls_hello, &spec);
    struct builder *hello = builder_new();
    tls_to_dtls_client_hello(tls_hello, hello, 0xfefd);
    struct builder *datagram = builder_new();
    put_dtls_record(datagram, hello, 0xfeff, 0, (uint32_t)hello->len - 4);
    struct tls_facts facts;
    memset(&facts, 0, sizeof(facts));
    ck_assert(tls_inspect_datagram(0, datagram->data, (uint32_t)datagram->len, &facts));
    ck_assert(facts.client_hello_seen);
    ck_assert(facts.is_dtls);
    ck_assert_uint_eq(facts.offered_max_version, 0xfefc);
    ck_assert_str_eq(facts.sni, "pump-7.example");
    ck_assert_str_eq(facts.alpn, "coaps");
    /* the same hello from the server side, or cut anywhere: nothing */
    struct tls_facts other;
    memset(&other, 0, sizeof(other));
    ck_assert(tls_inspect_datagram(1, datagram->data, (uint32_t)datagram->len, &other));
    ck_assert(!other.client_hello_seen);
    for (uint32_t k = 0; k < datagram->len; k++) {
        memset(&other, 0, sizeof(other));
        ck_assert_int_eq(tls_inspect_datagram(0, datagram->data, k, &other), 0);
        assert_no_facts(&other);
    }
    /* fragmented: the first fragment alone is not parsed */
    struct builder *fragments = builder_new();
    put_dtls_record(fragments, hello, 0xfefd, 0, 50);
    put_dtls_record(fragments, hello, 0xfefd, 50, (uint32_t)hello->len - 4 - 50);
    memset(&other, 0, sizeof(other));
    ck_assert(tls_inspect_datagram(0, fragments->data, (uint32_t)fragments->len, &other));
    ck_assert(!other.client_hello_seen);
    ck_assert(other.is_dtls);

    /* ServerHello selecting DTLS 1.3, then an unfragmented Certificate */
    struct stream_file *der = load_file("cert_ec256.der");
    const struct stream_file *chain[] = {der};
    struct builder *server_hello = builder_new();
    build_server_hello_alpn(server_hello, 0xfefd, 0x1301, 0xfefc, false, "coaps");
    struct builder *certificate = builder_new();
    build_certificate_message(certificate, chain, 1);
    datagram->len = 0;
    put_dtls_record(datagram, server_hello, 0xfefd, 0, (uint32_t)server_hello->len - 4);
    put_dtls_record(datagram, certificate, 0xfefd, 0, (uint32_t)certificate->len - 4);
    ck_assert(tls_inspect_datagram(1, datagram->data, (uint32_t)datagram->len, &facts));
    ck_assert(facts.server_hello_seen);
    ck_assert_uint_eq(facts.version, 0xfefc);
    ck_assert_str_eq(tls_version_name(facts.version), "DTLSv1.3");
    ck_assert_uint_eq(facts.cipher_suite, 0x1301);
    ck_assert_str_eq(facts.alpn, "coaps");
    const struct cert_expect want = {"EC", 256, "ECDSA-SHA256", false, true, 1748736000,
                                     1811808000, "ecg-gateway.example.test",
                                     "ecg-gateway.example.test", 1};
    assert_certificate(&facts.certificate, &want);
    /* a TLS-versioned hello inside DTLS records is malformed */
    server_hello->len = 0;
    build_server_hello_message(server_hello, 0x0303, 0x1301, 0, false);
    datagram->len = 0;
    put_dtls_record(datagram, server_hello, 0xfefd, 0, (uint32_t)server_hello->len - 4);
    memset(&other, 0, sizeof(other));
    ck_assert(tls_inspect_datagram(1, datagram->data, (uint32_t)datagram->len, &other));
    ck_assert(!other.server_hello_seen);

    /* not DTLS: TLS records, DNS, garbage, bad arguments */
    struct builder *tls_record = server_hello_record(0x0303, 0x1301, 0, false);
    memset(&other, 0, sizeof(other));
    ck_assert(!tls_inspect_datagram(1, tls_record->data, (uint32_t)tls_record->len, &other));
    static const uint8_t dns[] = {0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1};
    ck_assert(!tls_inspect_datagram(0, dns, sizeof(dns), &other));
    ck_assert(!tls_inspect_datagram(0, NULL, 0, &other));
    ck_assert(!tls_inspect_datagram(0, NULL, 20, &other));
    ck_assert(!tls_inspect_datagram(2, datagram->data, (uint32_t)datagram->len, &other));
    ck_assert(!tls_inspect_datagram(0, datagram->data, (uint32_t)datagram->len, NULL));
    assert_no_facts(&other);
    free(tls_record);
    free(tls_hello);
    free(hello);
    free(datagram);
    free(fragments);
    free(der);
    free(server_hello);
    free(certificate);
}
END_TEST

static Suite *inspect_tls_suite(void)
{
    Suite *s = suite_create("inspect_tls");
    TCase *names = tcase_create("names");
    tcase_add_test(names, test_version_names);
    tcase_add_test(names, test_security_names);
    suite_add_tcase(s, names);

    TCase *captured = tcase_create("captures");
    tcase_add_loop_test(captured, test_capture_parse_records, 0, CAPTURE_COUNT);
    tcase_add_test(captured, test_capture_consumed_bytes);
    tcase_add_loop_test(captured, test_capture_whole_segments, 0, CAPTURE_COUNT);
    tcase_add_loop_test(captured, test_capture_one_byte_segments, 0, CAPTURE_COUNT);
    tcase_add_loop_test(captured, test_capture_reverse_order, 0, CAPTURE_COUNT);
    tcase_add_loop_test(captured, test_capture_duplicated, 0, CAPTURE_COUNT);
    tcase_add_loop_test(captured, test_capture_overlapping, 0, CAPTURE_COUNT);
    tcase_add_loop_test(captured, test_capture_sequence_wrap, 0, CAPTURE_COUNT);
    tcase_add_test(captured, test_no_syn_first_segment);
    tcase_add_test(captured, test_mid_stream);
    tcase_add_test(captured, test_mid_stream_server_only);
    tcase_add_test(captured, test_truncated_server_hello);
    tcase_add_test(captured, test_truncated_client_hello);
    tcase_add_test(captured, test_capture_hello_retry_partial);
    tcase_add_test(captured, test_pending_limit);
    tcase_add_test(captured, test_out_of_window_segments);
    suite_add_tcase(s, captured);

    TCase *built = tcase_create("built");
    tcase_add_test(built, test_synthetic_hellos);
    tcase_add_test(built, test_wrong_direction);
    tcase_add_test(built, test_grease_versions);
    tcase_add_test(built, test_sni_sanitized);
    tcase_add_test(built, test_hello_across_records);
    tcase_add_test(built, test_messages_in_one_record);
    tcase_add_test(built, test_sslv3_server_hello);
    tcase_add_test(built, test_hello_retry_request);
    tcase_add_test(built, test_bogus_handshake_length);
    tcase_add_test(built, test_bogus_inner_lengths);
    tcase_add_test(built, test_not_tls);
    tcase_add_test(built, test_sslv2_client_hello);
    tcase_add_test(built, test_sslv2_server_hello);
    tcase_add_test(built, test_stream_cap);
    tcase_add_test(built, test_alert_before_hello);
    tcase_add_test(built, test_alpn);
    suite_add_tcase(s, built);

    TCase *certificates = tcase_create("certificates");
    tcase_add_loop_test(certificates, test_x509_files, 0, DER_COUNT);
    tcase_add_test(certificates, test_x509_malformed);
    tcase_add_test(certificates, test_certificate_chain_built);
    tcase_add_test(certificates, test_certificate_malformed);
    tcase_add_test(certificates, test_certificate_oversized_declared);
    tcase_add_test(certificates, test_truncated_certificate);
    tcase_add_test(certificates, test_certificate_without_hello);
    tcase_add_test(certificates, test_flight_without_certificate);
    tcase_add_test(certificates, test_sslv2_server_certificate);
    suite_add_tcase(s, certificates);

    TCase *dtls = tcase_create("dtls");
    tcase_add_test(dtls, test_dtls_capture);
    tcase_add_test(dtls, test_dtls_built);
    suite_add_tcase(s, dtls);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(inspect_tls_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
