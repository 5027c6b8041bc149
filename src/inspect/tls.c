/* inspect/tls: TLS handshake facts from the first bytes of a TCP flow, and
 * DTLS hello facts from single datagrams.
 *
 * Two bounded layers per TCP direction:
 *  - stream: the first TLS_STREAM_CAP bytes of the TCP byte stream, each
 *    segment's bytes copied at their stream offset into one buffer that
 *    grows with the data. Bytes past a gap are copied too and their range
 *    remembered (at most TLS_PENDING_MAX ranges) until the gap fills.
 *  - parser: walks complete TLS records from where it last stopped,
 *    reassembles handshake messages across records (only the hellos, within
 *    TLS_HANDSHAKE_CAP, and the server's Certificate message, within
 *    TLS_CERTIFICATE_CAP, are buffered) and turns them into facts. A hello
 *    is committed to the facts only once it parsed completely and
 *    consistently: a malformed hello yields nothing.
 * In TLS <= 1.2 the server direction goes on after the ServerHello until
 * its Certificate message (the leaf certificate is handed to GnuTLS through
 * inspect/x509), a ServerHelloDone or ChangeCipherSpec without one (anonymous
 * suite, resumed session), or the cap. A Certificate message longer than
 * what the cap lets in is judged from its first bytes: the leaf comes first.
 * tls_parse_records runs the same parser once over a stream prefix;
 * tls_inspect_datagram parses the DTLS records of one datagram. */
#include "fluxaudit/inspect_tls.h"

#include <stdlib.h>
#include <string.h>

#include "inspect/x509.h"
#include "util/reader.h"

#define TLS_HANDSHAKE_CAP 16384          /* largest hello message buffered */
#define TLS_CERTIFICATE_CAP TLS_STREAM_CAP /* Certificate message bytes buffered */
#define TLS_RECORD_MAX (16384 + 2048)    /* largest legal TLSCiphertext fragment */
#define TLS_RECORD_HEADER 5
#define TLS_HANDSHAKE_HEADER 4
#define TLS_PENDING_MAX 16               /* out-of-order ranges held per direction */
#define TLS_STREAM_INITIAL 4096          /* first stream buffer size */
#define TLS_RANDOM_LEN 32
#define DTLS_RECORD_HEADER 13            /* type, version, epoch, sequence_number48, length */
#define DTLS_HANDSHAKE_HEADER 12         /* type, length24, message_seq, fragment offset/length */
#define DTLS_VERSION_MAJOR 0xfe          /* DTLS wire versions are 0xfeXX (1's complement) */
#define TLS_VERSION_MAJOR 3

enum {
    TLS_CONTENT_CHANGE_CIPHER_SPEC = 20,
    TLS_CONTENT_ALERT = 21,
    TLS_CONTENT_HANDSHAKE = 22,
    TLS_CONTENT_APPLICATION_DATA = 23,
    DTLS_CONTENT_ACK = 26, /* DTLS 1.3 (heartbeat 24, tls12_cid 25 in between) */
};

enum {
    TLS_HANDSHAKE_CLIENT_HELLO = 1,
    TLS_HANDSHAKE_SERVER_HELLO = 2,
    TLS_HANDSHAKE_CERTIFICATE = 11,
    TLS_HANDSHAKE_SERVER_HELLO_DONE = 14,
    SSL2_MSG_CLIENT_HELLO = 1,
    SSL2_MSG_SERVER_HELLO = 4,
};

enum {
    TLS_EXT_SERVER_NAME = 0,
    TLS_EXT_ALPN = 16,
    TLS_EXT_SUPPORTED_VERSIONS = 43,
};

#define SSL2_WIRE_VERSION 0x0002 /* SSLv2's own encoding of its version */
#define SSL2_CERTIFICATE_X509 1  /* SSLv2 ServerHello certificate_type */

/* RFC 8446 4.1.3: a ServerHello with this random is a HelloRetryRequest. */
static const uint8_t tls_hello_retry_random[TLS_RANDOM_LEN] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
};

enum tls_parse_status {
    TLS_PARSE_ACTIVE = 0, /* more bytes may bring facts */
    TLS_PARSE_NOT_TLS,    /* the stream does not start with a TLS record */
    TLS_PARSE_FINISHED,   /* TLS, but nothing more to learn in this direction */
};

/* What the parser does with the handshake message being reassembled. */
enum tls_body_kind {
    TLS_BODY_SKIP = 0,          /* not needed: counted, not copied */
    TLS_BODY_HELLO,             /* this direction's hello: buffered whole */
    TLS_BODY_CERTIFICATE,       /* the server's Certificate: its first bytes buffered */
};

/* The record and handshake parser of one direction. */
struct tls_parser {
    enum tls_parse_status status;
    bool hello_parsed;          /* this direction's (final) hello became facts */
    uint32_t offset;            /* stream bytes consumed by complete records */
    uint8_t header[TLS_HANDSHAKE_HEADER]; /* current handshake message header */
    uint8_t header_len;
    uint32_t body_len;          /* declared length of the current message */
    uint32_t body_have;         /* bytes of it seen so far */
    enum tls_body_kind body_kind;
    uint32_t body_keep;         /* bytes of it buffered, at most (<= body_cap) */
    uint8_t *body;              /* the buffered message, body_cap bytes, heap */
    uint32_t body_cap;
};

/* A byte range [start, end) of stream offsets held past a gap. */
struct tls_range {
    uint32_t start;
    uint32_t end;
};

/* One direction's stream reassembly. */
struct tls_stream {
    bool started;              /* base is fixed */
    uint32_t base;             /* sequence number of stream offset 0 */
    uint32_t contiguous;       /* bytes [0, contiguous) are in data */
    uint8_t *data;             /* stream bytes, data_cap <= TLS_STREAM_CAP */
    uint32_t data_cap;
    struct tls_range pending[TLS_PENDING_MAX];
    uint8_t pending_count;
    struct tls_parser parser;
};

struct tls_inspector {
    struct tls_stream streams[2]; /* 0 client->server, 1 server->client */
};

/* What a ClientHello offered, before it is committed to the facts. */
struct tls_client_hello {
    uint16_t legacy_version;
    uint16_t max_supported; /* newest non-GREASE supported_versions entry, 0 if none */
    char sni[FACT_HOST_MAX];
    char alpn[FACT_NAME_MAX]; /* first protocol offered, "" if none */
};

/* What a ServerHello said, before it is committed to the facts. */
struct tls_server_hello {
    uint16_t legacy_version;
    uint16_t selected;      /* supported_versions (TLS 1.3), 0 if absent */
    uint16_t cipher_suite;
    bool retry;             /* a HelloRetryRequest */
    char alpn[FACT_NAME_MAX]; /* protocol selected, "" if none */
};

enum tls_server_hello_kind {
    TLS_SERVER_HELLO_MALFORMED,
    TLS_SERVER_HELLO_RETRY, /* HelloRetryRequest: the real ServerHello follows */
    TLS_SERVER_HELLO_FINAL,
};

static void tls_parser_init(struct tls_parser *parser)
{
    memset(parser, 0, sizeof(*parser));
}

static void tls_parser_free(struct tls_parser *parser)
{
    free(parser->body);
    parser->body = NULL;
    parser->body_cap = 0;
}

/* GREASE values (RFC 8701) are 0x?A?A with both bytes equal. */
static bool tls_is_grease(uint16_t value)
{
    return (value & 0x0f0f) == 0x0a0a && (value >> 8) == (value & 0xff);
}

/* True if version `a` is newer than `b` (0: none yet). DTLS numbers its
 * versions downwards (0xfeff 1.0, 0xfefd 1.2, 0xfefc 1.3). */
static bool tls_version_newer(uint16_t a, uint16_t b)
{
    if (b == 0)
        return true;
    if ((a >> 8) == DTLS_VERSION_MAJOR && (b >> 8) == DTLS_VERSION_MAJOR)
        return a < b;
    return a > b;
}

/* Keeps the printable ASCII of a protocol name from the wire (it will be
 * shown in reports), truncated to out_size - 1 characters. */
static void tls_copy_printable(struct reader *name, char *out, size_t out_size)
{
    size_t len = 0;
    while (reader_left(name) > 0 && len + 1 < out_size) {
        uint8_t c = reader_u8(name);
        if (c >= 0x20 && c < 0x7f)
            out[len++] = (char)c;
    }
    out[len] = '\0';
}

/* Reads an ALPN extension body (RFC 7301: a u16-length list of u8-length
 * names) and keeps the first name. Returns false when malformed. */
static bool tls_parse_alpn(struct reader *ext, char *out, size_t out_size)
{
    struct reader list = reader_sub(ext, reader_be16(ext));
    bool first = true;
    while (reader_left(&list) > 0) {
        struct reader name = reader_sub(&list, reader_u8(&list));
        if (list.failed)
            return false;
        if (first)
            tls_copy_printable(&name, out, out_size);
        first = false;
    }
    return !list.failed && !ext->failed;
}

/* Keeps the hostname characters of a server name, lower-cased: the name
 * comes from the wire and will be shown in reports. */
static void tls_copy_hostname(struct reader *name, char *out, size_t out_size)
{
    size_t len = 0;
    while (reader_left(name) > 0 && len + 1 < out_size) {
        char c = (char)reader_u8(name);
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                    c == '_';
        if (keep)
            out[len++] = c;
    }
    out[len] = '\0';
}

/* Reads a server_name extension body; keeps the first host_name entry.
 * Returns false when the extension is malformed. */
static bool tls_parse_server_name(struct reader *ext, struct tls_client_hello *hello)
{
    struct reader list = reader_sub(ext, reader_be16(ext));
    while (reader_left(&list) > 0) {
        uint8_t name_type = reader_u8(&list);
        struct reader name = reader_sub(&list, reader_be16(&list));
        if (list.failed)
            return false;
        if (name_type == 0 && hello->sni[0] == '\0')
            tls_copy_hostname(&name, hello->sni, sizeof(hello->sni));
    }
    return !list.failed && !ext->failed;
}

/* Reads the ClientHello form of supported_versions (a u8-length list).
 * Returns false when the extension is malformed. */
static bool tls_parse_offered_versions(struct reader *ext, struct tls_client_hello *hello)
{
    struct reader list = reader_sub(ext, reader_u8(ext));
    while (reader_left(&list) > 0) {
        uint16_t version = reader_be16(&list);
        if (!list.failed && !tls_is_grease(version) &&
            tls_version_newer(version, hello->max_supported))
            hello->max_supported = version;
    }
    return !list.failed && !ext->failed;
}

/* Walks the extensions of a ClientHello. Returns false if malformed. */
static bool tls_parse_client_extensions(struct reader *exts, struct tls_client_hello *hello)
{
    bool versions_seen = false;
    bool alpn_seen = false;
    while (reader_left(exts) > 0) {
        uint16_t type = reader_be16(exts);
        struct reader ext = reader_sub(exts, reader_be16(exts));
        if (exts->failed)
            return false;
        bool ok = true;
        if (type == TLS_EXT_SERVER_NAME)
            ok = tls_parse_server_name(&ext, hello);
        else if (type == TLS_EXT_SUPPORTED_VERSIONS && !versions_seen) {
            versions_seen = true;
            ok = tls_parse_offered_versions(&ext, hello);
        } else if (type == TLS_EXT_ALPN && !alpn_seen) {
            alpn_seen = true;
            ok = tls_parse_alpn(&ext, hello->alpn, sizeof(hello->alpn));
        }
        if (!ok)
            return false;
    }
    return !exts->failed;
}

/* Parses a ClientHello body into `hello`; a DTLS one carries a cookie
 * after the session id. Returns false if malformed. */
static bool tls_parse_client_hello(struct reader *body, bool dtls, struct tls_client_hello *hello)
{
    memset(hello, 0, sizeof(*hello));
    hello->legacy_version = reader_be16(body);
    reader_skip(body, TLS_RANDOM_LEN);
    reader_skip(body, reader_u8(body));   /* session_id */
    if (dtls)
        reader_skip(body, reader_u8(body)); /* cookie */
    reader_skip(body, reader_be16(body)); /* cipher_suites */
    reader_skip(body, reader_u8(body));   /* compression_methods */
    uint8_t major = dtls ? DTLS_VERSION_MAJOR : TLS_VERSION_MAJOR;
    if (body->failed || (hello->legacy_version >> 8) != major)
        return false;
    if (reader_left(body) == 0)
        return true; /* no extensions: SSLv3 and early TLS clients */
    struct reader exts = reader_sub(body, reader_be16(body));
    return !body->failed && tls_parse_client_extensions(&exts, hello);
}

/* Reads the ServerHello extensions into `hello` (supported_versions,
 * ALPN). Returns false if malformed. */
static bool tls_parse_server_extensions(struct reader *exts, struct tls_server_hello *hello)
{
    bool alpn_seen = false;
    while (reader_left(exts) > 0) {
        uint16_t type = reader_be16(exts);
        struct reader ext = reader_sub(exts, reader_be16(exts));
        if (exts->failed)
            return false;
        if (type == TLS_EXT_SUPPORTED_VERSIONS && hello->selected == 0) {
            hello->selected = reader_be16(&ext);
            if (ext.failed)
                return false;
        } else if (type == TLS_EXT_ALPN && !alpn_seen) {
            alpn_seen = true;
            if (!tls_parse_alpn(&ext, hello->alpn, sizeof(hello->alpn)))
                return false;
        }
    }
    return !exts->failed;
}

/* Parses a ServerHello body (TLS, or DTLS when `dtls`) into `hello`.
 * Returns false if malformed. */
static bool tls_parse_server_hello(struct reader *body, bool dtls, struct tls_server_hello *hello)
{
    memset(hello, 0, sizeof(*hello));
    hello->legacy_version = reader_be16(body);
    const uint8_t *random = reader_bytes(body, TLS_RANDOM_LEN);
    reader_skip(body, reader_u8(body)); /* session_id */
    hello->cipher_suite = reader_be16(body);
    reader_skip(body, 1); /* compression_method */
    uint8_t major = dtls ? DTLS_VERSION_MAJOR : TLS_VERSION_MAJOR;
    if (body->failed || random == NULL || (hello->legacy_version >> 8) != major)
        return false;
    hello->retry = memcmp(random, tls_hello_retry_random, TLS_RANDOM_LEN) == 0;
    if (reader_left(body) == 0)
        return true;
    struct reader exts = reader_sub(body, reader_be16(body));
    return !body->failed && tls_parse_server_extensions(&exts, hello);
}

/* Commits a well-formed ClientHello to the facts. The client's first ALPN
 * protocol does not replace one a ServerHello already selected. */
static void tls_commit_client_hello(const struct tls_client_hello *hello, bool dtls,
                                    struct tls_facts *facts)
{
    facts->client_hello_seen = true;
    facts->is_dtls = facts->is_dtls || dtls;
    facts->offered_max_version =
        hello->max_supported != 0 ? hello->max_supported : hello->legacy_version;
    memcpy(facts->sni, hello->sni, sizeof(facts->sni));
    if (!facts->server_hello_seen || facts->alpn[0] == '\0')
        memcpy(facts->alpn, hello->alpn, sizeof(facts->alpn));
}

/* Commits a well-formed ServerHello to the facts: the cipher for a
 * HelloRetryRequest, version, cipher and selected ALPN for the final one.
 * Returns the kind of hello it was. */
static enum tls_server_hello_kind tls_commit_server_hello(const struct tls_server_hello *hello,
                                                          bool dtls, struct tls_facts *facts)
{
    facts->cipher_suite = hello->cipher_suite;
    facts->is_dtls = facts->is_dtls || dtls;
    if (hello->retry)
        return TLS_SERVER_HELLO_RETRY;
    facts->version = hello->selected != 0 ? hello->selected : hello->legacy_version;
    facts->server_hello_seen = true;
    if (hello->alpn[0] != '\0')
        memcpy(facts->alpn, hello->alpn, sizeof(facts->alpn));
    return TLS_SERVER_HELLO_FINAL;
}

/* Parses the first `have` bytes of a Certificate message body (all of it,
 * or the prefix a cap let in) into facts->certificate: the leaf (first)
 * certificate through GnuTLS, and the number of certificates whole in
 * those bytes. The message is never trusted to be consistent: a list
 * length past the bytes, or an entry past the list, ends the walk (what was
 * whole before counts), bytes after the list are ignored. */
static void tls_parse_certificate_message(const uint8_t *body, uint32_t have,
                                          struct tls_facts *facts)
{
    struct certificate_facts certificate;
    memset(&certificate, 0, sizeof(certificate));
    certificate.seen = true;
    struct reader message = reader_make(body, have);
    uint32_t list_len = reader_be24(&message);
    size_t left = reader_left(&message);
    struct reader list = reader_sub(&message, list_len < left ? list_len : left);
    while (reader_left(&list) > 0) {
        uint32_t der_len = reader_be24(&list);
        const uint8_t *der = reader_bytes(&list, der_len);
        if (der == NULL)
            break; /* cut by the cap, or malformed */
        if (certificate.chain_length == 0)
            x509_certificate_facts(der, der_len, &certificate); /* refuses > X509_DER_MAX */
        if (certificate.chain_length < UINT8_MAX)
            certificate.chain_length++;
    }
    facts->certificate = certificate;
}

/* Turns a complete (or capped) buffered message into facts and decides
 * whether this direction has more to tell. */
static void tls_handshake_dispatch(struct tls_parser *parser, uint8_t type,
                                   struct tls_facts *facts)
{
    uint32_t kept = parser->body_have < parser->body_keep ? parser->body_have : parser->body_keep;
    struct reader body = reader_make(parser->body, kept);
    if (type == TLS_HANDSHAKE_CERTIFICATE) {
        tls_parse_certificate_message(parser->body, kept, facts);
        parser->status = TLS_PARSE_FINISHED; /* the leaf is all this inspector wants */
        return;
    }
    if (type == TLS_HANDSHAKE_CLIENT_HELLO) {
        struct tls_client_hello hello;
        if (tls_parse_client_hello(&body, false, &hello)) {
            tls_commit_client_hello(&hello, false, facts);
            parser->hello_parsed = true;
        }
        parser->status = TLS_PARSE_FINISHED;
        return;
    }
    struct tls_server_hello hello;
    if (!tls_parse_server_hello(&body, false, &hello)) {
        parser->status = TLS_PARSE_FINISHED;
        return;
    }
    if (tls_commit_server_hello(&hello, false, facts) == TLS_SERVER_HELLO_RETRY)
        return; /* the real ServerHello comes after the second ClientHello */
    parser->hello_parsed = true;
    /* TLS 1.3 (or anything newer or unknown) encrypts the certificate. */
    if (facts->version > TLS_VERSION_1_2 || facts->version < TLS_VERSION_SSL3)
        parser->status = TLS_PARSE_FINISHED;
}

/* Makes room for `len` bytes of the current message. Returns false if it
 * cannot. */
static bool tls_handshake_reserve(struct tls_parser *parser, uint32_t len)
{
    if (len <= parser->body_cap)
        return true;
    uint8_t *grown = realloc(parser->body, len);
    if (grown == NULL)
        return false;
    parser->body = grown;
    parser->body_cap = len;
    return true;
}

/* What to do with a message of `type` arriving in `direction`. */
static enum tls_body_kind tls_body_kind_of(uint8_t type, int direction)
{
    if (direction == 0)
        return type == TLS_HANDSHAKE_CLIENT_HELLO ? TLS_BODY_HELLO : TLS_BODY_SKIP;
    if (type == TLS_HANDSHAKE_SERVER_HELLO)
        return TLS_BODY_HELLO;
    return type == TLS_HANDSHAKE_CERTIFICATE ? TLS_BODY_CERTIFICATE : TLS_BODY_SKIP;
}

/* Starts a handshake message once its 4-byte header is complete. Only the
 * hello of this direction and the server's Certificate are buffered; any
 * other message is skipped. */
static void tls_handshake_begin(struct tls_parser *parser, int direction)
{
    struct reader header = reader_make(parser->header, sizeof(parser->header));
    uint8_t type = reader_u8(&header);
    parser->body_len = reader_be24(&header);
    parser->body_have = 0;
    parser->body_kind = tls_body_kind_of(type, direction);
    parser->body_keep = 0;
    if (parser->body_kind == TLS_BODY_SKIP)
        return;
    /* The declared length is untrusted: a hello past its cap is refused, a
     * Certificate message is kept up to its cap; nothing is allocated past
     * the caps. */
    if (parser->body_kind == TLS_BODY_HELLO && parser->body_len > TLS_HANDSHAKE_CAP) {
        parser->status = TLS_PARSE_FINISHED;
        return;
    }
    uint32_t keep = parser->body_len < TLS_CERTIFICATE_CAP ? parser->body_len
                                                           : TLS_CERTIFICATE_CAP;
    if (!tls_handshake_reserve(parser, keep)) {
        parser->status = TLS_PARSE_FINISHED;
        return;
    }
    parser->body_keep = keep;
}

/* Ends the current message: dispatches it if buffered, then waits for the
 * next header. */
static void tls_handshake_end(struct tls_parser *parser, int direction, struct tls_facts *facts)
{
    uint8_t type = parser->header[0];
    if (parser->body_kind != TLS_BODY_SKIP)
        tls_handshake_dispatch(parser, type, facts);
    else if (direction == 1 && type == TLS_HANDSHAKE_SERVER_HELLO_DONE)
        parser->status = TLS_PARSE_FINISHED; /* the server flight ended without a certificate */
    parser->header_len = 0;
    parser->body_len = 0;
    parser->body_have = 0;
    parser->body_kind = TLS_BODY_SKIP;
    parser->body_keep = 0;
}

/* Feeds one handshake record fragment to the message reassembly: messages
 * may span records and a record may hold several messages. A Certificate
 * message is dispatched as soon as its buffered prefix is full. */
static void tls_handshake_feed(struct tls_parser *parser, struct reader *fragment,
                               int direction, struct tls_facts *facts)
{
    while (parser->status == TLS_PARSE_ACTIVE && reader_left(fragment) > 0) {
        if (parser->header_len < TLS_HANDSHAKE_HEADER) {
            parser->header[parser->header_len++] = reader_u8(fragment);
            if (parser->header_len == TLS_HANDSHAKE_HEADER)
                tls_handshake_begin(parser, direction);
        } else {
            uint32_t want = parser->body_len - parser->body_have;
            size_t left = reader_left(fragment);
            uint32_t take = left < want ? (uint32_t)left : want;
            const uint8_t *bytes = reader_bytes(fragment, take);
            if (bytes != NULL && parser->body_have < parser->body_keep) {
                uint32_t room = parser->body_keep - parser->body_have;
                memcpy(parser->body + parser->body_have, bytes, take < room ? take : room);
            }
            parser->body_have += take;
        }
        if (parser->status != TLS_PARSE_ACTIVE || parser->header_len != TLS_HANDSHAKE_HEADER)
            continue;
        bool capped = parser->body_kind == TLS_BODY_CERTIFICATE &&
                      parser->body_keep < parser->body_len &&
                      parser->body_have >= parser->body_keep;
        if (parser->body_have == parser->body_len || capped)
            tls_handshake_end(parser, direction, facts);
    }
}

/* At the stream cap: a Certificate message cut by it is judged from the
 * bytes that made it in (the leaf comes first). */
static void tls_handshake_flush(struct tls_parser *parser, struct tls_facts *facts)
{
    if (parser->status == TLS_PARSE_ACTIVE && parser->header_len == TLS_HANDSHAKE_HEADER &&
        parser->body_kind == TLS_BODY_CERTIFICATE) {
        parser->body_keep = parser->body_have < parser->body_keep ? parser->body_have
                                                                  : parser->body_keep;
        tls_handshake_end(parser, 1, facts);
    }
}

/* Parses an SSLv2-format ClientHello (after its 2-byte header). Returns
 * false when the record is not one. */
static bool tls_parse_sslv2_client_hello(struct reader *record, struct tls_facts *facts)
{
    uint8_t msg_type = reader_u8(record);
    uint16_t version = reader_be16(record);
    uint16_t cipher_specs_len = reader_be16(record);
    uint16_t session_id_len = reader_be16(record);
    uint16_t challenge_len = reader_be16(record);
    reader_skip(record, cipher_specs_len);
    reader_skip(record, session_id_len);
    reader_skip(record, challenge_len);
    bool version_ok = version == SSL2_WIRE_VERSION || (version >> 8) == 3;
    bool valid = !record->failed && reader_left(record) == 0 &&
                 msg_type == SSL2_MSG_CLIENT_HELLO && version_ok && cipher_specs_len > 0 &&
                 cipher_specs_len % 3 == 0 && (session_id_len == 0 || session_id_len == 16) &&
                 challenge_len >= 16 && challenge_len <= 32;
    if (!valid)
        return false;
    facts->client_hello_seen = true;
    facts->offered_max_version = version == SSL2_WIRE_VERSION ? TLS_VERSION_SSL2 : version;
    facts->sni[0] = '\0';
    return true;
}

/* Parses an SSLv2 ServerHello (after its 2-byte header): the server speaks
 * SSLv2; its cipher specs do not fit an IANA suite number. Its X.509
 * certificate, when it sends one, is the chain. Returns false when the
 * record is not one. */
static bool tls_parse_sslv2_server_hello(struct reader *record, struct tls_facts *facts)
{
    uint8_t msg_type = reader_u8(record);
    reader_skip(record, 1); /* session_id_hit */
    uint8_t certificate_type = reader_u8(record);
    uint16_t version = reader_be16(record);
    uint16_t certificate_len = reader_be16(record);
    uint16_t cipher_specs_len = reader_be16(record);
    uint16_t connection_id_len = reader_be16(record);
    const uint8_t *certificate = reader_bytes(record, certificate_len);
    reader_skip(record, cipher_specs_len);
    reader_skip(record, connection_id_len);
    bool valid = !record->failed && reader_left(record) == 0 &&
                 msg_type == SSL2_MSG_SERVER_HELLO && version == SSL2_WIRE_VERSION &&
                 cipher_specs_len % 3 == 0 && connection_id_len >= 16 && connection_id_len <= 32;
    if (!valid)
        return false;
    facts->server_hello_seen = true;
    facts->version = TLS_VERSION_SSL2;
    facts->cipher_suite = 0;
    if (certificate_type == SSL2_CERTIFICATE_X509 && certificate_len > 0) {
        struct certificate_facts leaf;
        memset(&leaf, 0, sizeof(leaf));
        leaf.seen = true;
        leaf.chain_length = 1;
        x509_certificate_facts(certificate, certificate_len, &leaf);
        facts->certificate = leaf;
    }
    return true;
}

/* Stops the parser on an implausible record header: the stream is not TLS
 * if it is the first record, otherwise this direction is over. */
static uint32_t tls_record_reject(struct tls_parser *parser)
{
    parser->status = parser->offset == 0 ? TLS_PARSE_NOT_TLS : TLS_PARSE_FINISHED;
    return 0;
}

/* Checks an SSLv2 record header (only legal as a stream's first record)
 * from as many bytes as are present. Returns the record size once it is
 * complete, 0 while more bytes are needed or after a rejection. */
static uint32_t tls_sslv2_record_size(struct tls_parser *parser, const struct reader *r,
                                      int direction)
{
    size_t have = reader_left(r);
    uint32_t length = ((uint32_t)(reader_peek(r, 0) & 0x7f) << 8) | reader_peek(r, 1);
    uint8_t wanted = direction == 0 ? SSL2_MSG_CLIENT_HELLO : SSL2_MSG_SERVER_HELLO;
    uint8_t version_major = reader_peek(r, 3);
    if (parser->offset != 0)
        return tls_record_reject(parser);
    if (have >= 2 && length < 9)
        return tls_record_reject(parser);
    if (have >= 3 && reader_peek(r, 2) != wanted)
        return tls_record_reject(parser);
    if (have >= 4 && direction == 0 && version_major != 0 && version_major != 3)
        return tls_record_reject(parser);
    if (have < 2 || have - 2 < length)
        return 0;
    return 2 + length;
}

/* Checks the record header at the reader from as many bytes as are
 * present. Returns the record size (header included) once the whole record
 * is present, 0 while more bytes are needed or after a rejection. */
static uint32_t tls_record_size(struct tls_parser *parser, const struct reader *r, int direction)
{
    size_t have = reader_left(r);
    if (have == 0)
        return 0;
    uint8_t content_type = reader_peek(r, 0);
    if (content_type & 0x80)
        return tls_sslv2_record_size(parser, r, direction);
    if (content_type < TLS_CONTENT_CHANGE_CIPHER_SPEC ||
        content_type > TLS_CONTENT_APPLICATION_DATA)
        return tls_record_reject(parser);
    if (have >= 2 && reader_peek(r, 1) != 3)
        return tls_record_reject(parser);
    if (have < TLS_RECORD_HEADER)
        return 0;
    uint32_t length = ((uint32_t)reader_peek(r, 3) << 8) | reader_peek(r, 4);
    if (length > TLS_RECORD_MAX)
        return tls_record_reject(parser);
    if (have - TLS_RECORD_HEADER < length)
        return 0;
    return TLS_RECORD_HEADER + length;
}

/* Handles one complete record (`record` spans exactly its bytes). */
static void tls_record_handle(struct tls_parser *parser, struct reader *record, int direction,
                              struct tls_facts *facts)
{
    uint8_t content_type = reader_u8(record);
    if (content_type & 0x80) {
        reader_skip(record, 1); /* rest of the SSLv2 length */
        bool ok = direction == 0 ? tls_parse_sslv2_client_hello(record, facts)
                                 : tls_parse_sslv2_server_hello(record, facts);
        parser->hello_parsed = ok;
        parser->status = ok ? TLS_PARSE_FINISHED : TLS_PARSE_NOT_TLS;
        if (!ok)
            parser->offset = 0; /* nothing of a non-TLS stream counts as consumed */
        return;
    }
    reader_skip(record, TLS_RECORD_HEADER - 1);
    switch (content_type) {
    case TLS_CONTENT_HANDSHAKE:
        tls_handshake_feed(parser, record, direction, facts);
        break;
    case TLS_CONTENT_CHANGE_CIPHER_SPEC:
        /* Before the final hello: TLS 1.3 middlebox compatibility, a hello
         * may still follow. After a TLS <= 1.2 ServerHello: a resumed
         * session, no certificate is coming. */
        if (parser->hello_parsed)
            parser->status = TLS_PARSE_FINISHED;
        break;
    default:
        /* An alert or encrypted data before the hello: nothing more to see. */
        parser->status = TLS_PARSE_FINISHED;
        break;
    }
}

/* Parses the complete records of data[parser->offset, len) into facts,
 * leaving the parser after the last complete one. `data` must be the same
 * stream prefix (possibly longer) on every call. */
static void tls_parser_run(struct tls_parser *parser, const uint8_t *data, uint32_t len,
                           int direction, struct tls_facts *facts)
{
    while (parser->status == TLS_PARSE_ACTIVE && parser->offset < len) {
        struct reader stream = reader_make(data, len);
        reader_skip(&stream, parser->offset);
        uint32_t size = tls_record_size(parser, &stream, direction);
        if (size == 0)
            return;
        struct reader record = reader_sub(&stream, size);
        parser->offset += size;
        tls_record_handle(parser, &record, direction, facts);
    }
}

/* Parses the TLS records at the start of one direction's stream into facts.
 * Returns the bytes consumed by complete records; `*not_tls` (if given) is
 * set when the first record header cannot be TLS, cleared otherwise. */
uint32_t tls_parse_records(const uint8_t *data, uint32_t len, int direction,
                           struct tls_facts *facts, bool *not_tls)
{
    struct tls_parser parser;
    tls_parser_init(&parser);
    if (not_tls != NULL)
        *not_tls = false;
    if (facts == NULL || (data == NULL && len != 0))
        return 0;
    tls_parser_run(&parser, data, len, direction != 0, facts);
    tls_parser_free(&parser);
    if (not_tls != NULL)
        *not_tls = parser.status == TLS_PARSE_NOT_TLS;
    return parser.offset;
}

/* Allocates an inspector with both directions waiting for their first
 * segment. Returns NULL on allocation failure. */
struct tls_inspector *tls_inspector_create(void)
{
    struct tls_inspector *inspector = calloc(1, sizeof(*inspector));
    if (inspector == NULL)
        return NULL;
    for (int i = 0; i < 2; i++)
        tls_parser_init(&inspector->streams[i].parser);
    return inspector;
}

/* Frees a direction's buffers once it has nothing more to tell. */
static void tls_stream_release(struct tls_stream *stream)
{
    free(stream->data);
    stream->data = NULL;
    stream->data_cap = 0;
    tls_parser_free(&stream->parser);
    stream->pending_count = 0;
}

/* Frees the inspector and its buffers; NULL is accepted. */
void tls_inspector_destroy(struct tls_inspector *inspector)
{
    if (inspector == NULL)
        return;
    for (int i = 0; i < 2; i++)
        tls_stream_release(&inspector->streams[i]);
    free(inspector);
}

/* Grows the stream buffer to hold offsets below `end` (<= TLS_STREAM_CAP),
 * doubling to keep reallocations few. Returns false on allocation failure. */
static bool tls_stream_reserve(struct tls_stream *stream, uint32_t end)
{
    if (end <= stream->data_cap)
        return true;
    uint32_t cap = stream->data_cap == 0 ? TLS_STREAM_INITIAL : stream->data_cap;
    while (cap < end)
        cap *= 2;
    if (cap > TLS_STREAM_CAP)
        cap = TLS_STREAM_CAP;
    uint8_t *grown = realloc(stream->data, cap);
    if (grown == NULL)
        return false;
    stream->data = grown;
    stream->data_cap = cap;
    return true;
}

static void tls_range_remove(struct tls_stream *stream, uint8_t index)
{
    stream->pending[index] = stream->pending[--stream->pending_count];
}

/* Remembers [start, end) as held past the gap, merging the ranges it
 * touches. Returns false, changing nothing, if that needs more than
 * TLS_PENDING_MAX ranges: the segment is dropped and a retransmission will
 * bring it back. */
static bool tls_range_add(struct tls_stream *stream, uint32_t start, uint32_t end)
{
    bool merged = false;
    uint8_t i = 0;
    while (i < stream->pending_count) {
        struct tls_range range = stream->pending[i];
        if (range.start <= end && start <= range.end) {
            start = range.start < start ? range.start : start;
            end = range.end > end ? range.end : end;
            tls_range_remove(stream, i);
            merged = true;
            i = 0; /* the grown range may now touch one already passed */
            continue;
        }
        i++;
    }
    if (!merged && stream->pending_count == TLS_PENDING_MAX)
        return false;
    stream->pending[stream->pending_count++] = (struct tls_range){start, end};
    return true;
}

/* Extends the contiguous prefix over the held ranges it now reaches. */
static void tls_range_absorb(struct tls_stream *stream)
{
    uint8_t i = 0;
    while (i < stream->pending_count) {
        struct tls_range range = stream->pending[i];
        if (range.start <= stream->contiguous) {
            if (range.end > stream->contiguous)
                stream->contiguous = range.end;
            tls_range_remove(stream, i);
            i = 0;
            continue;
        }
        i++;
    }
}

/* Copies a segment's new bytes to their stream offset. Returns true when
 * the contiguous prefix grew. Bytes before the stream start or already in
 * the prefix (retransmissions, overlaps) and bytes past the cap are
 * trimmed. */
static bool tls_stream_store(struct tls_stream *stream, uint32_t seq, const uint8_t *payload,
                             uint32_t len)
{
    struct reader segment = reader_make(payload, len);
    uint32_t offset = seq - stream->base; /* serial arithmetic: wraps */
    if (offset & 0x80000000u) {
        reader_skip(&segment, stream->base - seq); /* starts before offset 0 */
        offset = 0;
    }
    if (segment.failed || offset >= TLS_STREAM_CAP)
        return false;
    if (offset < stream->contiguous) {
        reader_skip(&segment, stream->contiguous - offset);
        offset = stream->contiguous;
    }
    size_t left = reader_left(&segment);
    uint32_t room = TLS_STREAM_CAP - offset;
    uint32_t count = left < room ? (uint32_t)left : room;
    if (count == 0)
        return false;
    uint32_t end = offset + count;
    if (!tls_stream_reserve(stream, end)) {
        stream->parser.status = TLS_PARSE_FINISHED;
        return false;
    }
    if (offset > stream->contiguous && !tls_range_add(stream, offset, end))
        return false;
    reader_copy(&segment, stream->data + offset, count);
    if (offset != stream->contiguous)
        return false;
    stream->contiguous = end;
    tls_range_absorb(stream);
    return true;
}

/* Feeds one TCP segment of `direction` (0 client->server, 1
 * server->client): its bytes are copied, never referenced, and the facts
 * are updated from any record completed by them. */
void tls_inspector_feed(struct tls_inspector *inspector, int direction, uint32_t seq, bool syn,
                        const uint8_t *payload, uint32_t len, struct tls_facts *facts)
{
    if (inspector == NULL || facts == NULL || (direction != 0 && direction != 1))
        return;
    struct tls_stream *stream = &inspector->streams[direction];
    if (stream->parser.status != TLS_PARSE_ACTIVE)
        return;
    if (syn)
        seq += 1; /* the SYN occupies one sequence number before the payload */
    if (!stream->started) {
        if (!syn && len == 0)
            return; /* a bare ACK does not prove where the stream starts */
        stream->started = true;
        stream->base = seq;
    }
    if (payload == NULL || len == 0 || !tls_stream_store(stream, seq, payload, len)) {
        if (stream->parser.status != TLS_PARSE_ACTIVE)
            tls_stream_release(stream);
        return;
    }
    tls_parser_run(&stream->parser, stream->data, stream->contiguous, direction, facts);
    if (stream->parser.status == TLS_PARSE_ACTIVE && stream->contiguous >= TLS_STREAM_CAP) {
        tls_handshake_flush(&stream->parser, facts);
        stream->parser.status = TLS_PARSE_FINISHED; /* capped: no more bytes will come */
    }
    if (stream->parser.status != TLS_PARSE_ACTIVE)
        tls_stream_release(stream);
}

/* Returns true once the server direction is over after its final
 * ServerHello (TLS 1.3: at once; TLS <= 1.2: after the Certificate, a
 * ServerHelloDone or ChangeCipherSpec, or the cap), the server direction is
 * not TLS, or neither direction can tell anything more. */
bool tls_inspector_done(const struct tls_inspector *inspector)
{
    if (inspector == NULL)
        return true;
    const struct tls_parser *client = &inspector->streams[0].parser;
    const struct tls_parser *server = &inspector->streams[1].parser;
    if (server->status == TLS_PARSE_NOT_TLS)
        return true;
    if (server->hello_parsed && server->status != TLS_PARSE_ACTIVE)
        return true;
    return client->status != TLS_PARSE_ACTIVE && server->status != TLS_PARSE_ACTIVE;
}

/* Parses one whole DTLS handshake message of `direction` into facts. */
static void tls_dtls_handshake(int direction, uint8_t type, struct reader *message,
                               struct tls_facts *facts)
{
    if (direction == 0 && type == TLS_HANDSHAKE_CLIENT_HELLO) {
        struct tls_client_hello hello;
        if (tls_parse_client_hello(message, true, &hello))
            tls_commit_client_hello(&hello, true, facts);
    } else if (direction == 1 && type == TLS_HANDSHAKE_SERVER_HELLO) {
        struct tls_server_hello hello;
        if (tls_parse_server_hello(message, true, &hello))
            tls_commit_server_hello(&hello, true, facts);
    } else if (direction == 1 && type == TLS_HANDSHAKE_CERTIFICATE && !facts->certificate.seen) {
        size_t len = reader_left(message);
        const uint8_t *body = reader_bytes(message, len);
        if (body != NULL)
            tls_parse_certificate_message(body, (uint32_t)len, facts);
    }
}

/* Walks the handshake messages of one plaintext DTLS handshake record.
 * Only messages carried whole by one fragment are parsed: hellos fit in
 * one datagram; a certificate chain split over datagrams is left alone
 * (this parser keeps no state between datagrams). */
static void tls_dtls_record(int direction, struct reader *record, struct tls_facts *facts)
{
    while (reader_left(record) > 0) {
        uint8_t type = reader_u8(record);
        uint32_t length = reader_be24(record);
        reader_skip(record, 2); /* message_seq */
        uint32_t fragment_offset = reader_be24(record);
        uint32_t fragment_length = reader_be24(record);
        struct reader fragment = reader_sub(record, fragment_length);
        if (record->failed)
            return;
        if (fragment_offset == 0 && fragment_length == length)
            tls_dtls_handshake(direction, type, &fragment, facts);
    }
}

/* Parses the DTLS records of one UDP datagram of `direction` (0 client,
 * 1 server): ClientHello and ServerHello (versions as on the DTLS wire,
 * cipher suite, SNI, ALPN) and an unfragmented Certificate; sets is_dtls.
 * Returns true if the datagram starts with a complete DTLS record, false
 * otherwise (then nothing is changed). */
bool tls_inspect_datagram(int direction, const uint8_t *payload, uint32_t len,
                          struct tls_facts *facts)
{
    if (facts == NULL || (direction != 0 && direction != 1))
        return false;
    struct reader datagram = reader_make(payload, len);
    bool dtls = false;
    while (reader_left(&datagram) >= DTLS_RECORD_HEADER) {
        uint8_t content_type = reader_u8(&datagram);
        uint16_t version = reader_be16(&datagram);
        uint16_t epoch = reader_be16(&datagram);
        reader_skip(&datagram, 6); /* sequence_number */
        struct reader record = reader_sub(&datagram, reader_be16(&datagram));
        bool plausible = content_type >= TLS_CONTENT_CHANGE_CIPHER_SPEC &&
                         content_type <= DTLS_CONTENT_ACK &&
                         (version >> 8) == DTLS_VERSION_MAJOR;
        if (!plausible || datagram.failed)
            break; /* not DTLS, a DTLS 1.3 unified header (encrypted), or cut */
        dtls = true;
        facts->is_dtls = true;
        if (content_type == TLS_CONTENT_HANDSHAKE && epoch == 0)
            tls_dtls_record(direction, &record, facts);
    }
    return dtls;
}
