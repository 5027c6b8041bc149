/* inspect/credentials: logins, tokens and communities crossing in clear.
 *
 * Each direction of a TCP session is read in order (retransmitted bytes are
 * trimmed, a gap ends that direction) into a small per-protocol state
 * machine: text protocols through a bounded line buffer, LDAP through a
 * bounded BER message buffer, Telnet after its option negotiation is
 * stripped. A credential becomes a fact at once (protocol, method, masked
 * user, default verdict); the server's reply later sets `accepted`.
 *
 * Secrets: a password, token or community is only ever looked at inside
 * the line buffer it arrived in, or decoded into a stack buffer that is
 * wiped before the function returns. Line buffers are wiped after every
 * line and when the state is freed. User names are kept (to pair USER with
 * PASS) and wiped the same way. Format and choices: docs/credentials.md. */
#include "fluxaudit/inspect_credentials.h"

#include <stdlib.h>
#include <string.h>

#include "fluxaudit/inspect_snmp.h"
#include "util/reader.h"

#define CREDENTIAL_LINE_MAX 1024  /* longest line (or LDAP message) parsed; longer ones skipped */
#define CREDENTIAL_USER_MAX 128   /* longest user name kept between USER and PASS */
#define CREDENTIAL_DECODED_MAX 768 /* base64 of a whole line, decoded */
#define CREDENTIAL_QUEUE_MAX 8    /* commands awaiting their reply (pipelining) */
#define CREDENTIAL_TAGS_MAX 4     /* IMAP tags / LDAP message ids awaiting their reply */
#define CREDENTIAL_TAG_MAX 32     /* longest IMAP tag remembered */
#define HTTP_BODY_MAX ((uint64_t)1 << 40)

/* A borrowed run of bytes inside a line. */
struct span {
    const uint8_t *ptr;
    size_t len;
};

/* What a command waits for from the server. */
enum pending_kind {
    PENDING_OTHER,
    PENDING_LOGIN,    /* fact[0] gets the outcome */
    PENDING_AUTH,     /* a SASL exchange: the outcome goes to sasl.fact */
    PENDING_STARTTLS,
    PENDING_DATA,     /* SMTP DATA: 354 starts the message */
    PENDING_HEAD,     /* HTTP HEAD: the response has no body */
    PENDING_CONNECT,  /* HTTP CONNECT: 2xx turns the flow into a tunnel */
};

struct pending {
    uint8_t kind;
    int8_t fact[2]; /* indexes in facts->items, -1 for none; HTTP: [0] origin, [1] proxy */
};

/* An IMAP tag or LDAP message id awaiting its tagged reply. */
struct tagged {
    bool used;
    uint8_t kind;
    int8_t fact;
    uint8_t tag_len;
    int32_t message_id;
    char tag[CREDENTIAL_TAG_MAX];
};

enum sasl_mechanism {
    SASL_NONE,
    SASL_PLAIN,
    SASL_LOGIN,
    SASL_CRAM_MD5,
    SASL_XOAUTH2,
    SASL_OTHER, /* followed so its lines are not read as commands; no fact */
};

struct sasl_state {
    uint8_t mechanism;
    bool awaiting_response; /* the server sent a challenge: the next client line answers */
    bool password_next;     /* LOGIN: the next response is the password */
    int8_t fact;
};

enum http_state {
    HTTP_START,      /* a request or status line is next */
    HTTP_HEADERS,
    HTTP_CHUNK_SIZE,
    HTTP_CHUNK_END,  /* the empty line after a chunk's data */
    HTTP_TRAILERS,
};

/* The message being read in one HTTP direction. */
struct http_message {
    uint8_t state;
    bool chunked;
    bool has_length;
    bool no_body;  /* HEAD response, 204, 304 */
    bool interim;  /* a 1xx response */
    uint64_t content_length;
    struct pending request; /* client side: the request being read */
};

enum telnet_byte_state { TELNET_DATA, TELNET_IAC, TELNET_OPTION, TELNET_SB, TELNET_SB_IAC };
enum telnet_expect { TELNET_EXPECT_NONE, TELNET_EXPECT_USER, TELNET_EXPECT_PASSWORD };

enum { TELNET_IAC_BYTE = 255, TELNET_SB_BYTE = 250, TELNET_SE_BYTE = 240, TELNET_WILL = 251 };

/* One direction of the session. */
struct stream_direction {
    bool started;          /* next_seq is known */
    bool closed;           /* gap, cap, or the bytes are not the protocol */
    bool line_overflow;    /* the current line is longer than the buffer: skipped */
    bool after_cr;         /* Telnet: a CR ended the last line (CR LF, CR NUL) */
    uint8_t telnet_state;
    uint32_t next_seq;
    uint32_t position;     /* bytes of the stream consumed, <= CREDENTIAL_STREAM_CAP */
    uint64_t skip;         /* bytes to pass over unparsed (bodies, big LDAP messages) */
    uint32_t literal_left; /* IMAP: literal bytes that still belong to the line */
    uint32_t message_total; /* LDAP: length of the BER message being collected */
    uint32_t prompt_mark;  /* Telnet server: line bytes up to the last prompt recognised */
    uint32_t line_len;
    uint8_t line[CREDENTIAL_LINE_MAX];
};

struct credential_inspector {
    enum credential_protocol protocol;
    const struct default_credentials *defaults;
    bool finished;
    bool starttls_requested;
    bool pairing_lost;      /* too many commands in flight: outcomes are no longer paired */
    bool smtp_in_data;
    uint8_t telnet_expect;
    bool telnet_awaiting;   /* a Telnet password was sent; the outcome is not known yet */
    int8_t telnet_fact;
    uint16_t multiline_code; /* FTP/SMTP: the code of an open multi-line reply */
    uint8_t queue_head;
    uint8_t queue_count;
    uint8_t tag_next;
    uint32_t user_len;      /* > CREDENTIAL_USER_MAX: too long to be a default */
    struct sasl_state sasl;
    struct pending queue[CREDENTIAL_QUEUE_MAX];
    struct tagged tags[CREDENTIAL_TAGS_MAX];
    struct http_message http[2];
    char user[CREDENTIAL_USER_MAX];
    struct stream_direction directions[2];
};

/* ---- small text helpers over a bounded reader ------------------------- */

static uint8_t ascii_lower(uint8_t byte)
{
    return (byte >= 'A' && byte <= 'Z') ? (uint8_t)(byte - 'A' + 'a') : byte;
}

static bool is_blank(uint8_t byte)
{
    return byte == ' ' || byte == '\t';
}

/* Takes the next n bytes of `r` as a span. A take that fails gives the
 * empty span {NULL, 0}, never a NULL pointer with a length, so every span
 * user may read ptr[0..len) without checking ptr. */
static struct span span_take(struct reader *r, size_t n)
{
    const uint8_t *ptr = reader_bytes(r, n);
    struct span taken = {ptr, ptr != NULL ? n : 0};
    return taken;
}

static void skip_blanks(struct reader *r)
{
    while (reader_left(r) > 0 && is_blank(reader_peek(r, 0)))
        reader_skip(r, 1);
}

/* Reads the next word (after blanks, up to a blank or the end). */
static struct span read_word(struct reader *r)
{
    skip_blanks(r);
    size_t n = 0;
    while (n < reader_left(r) && !is_blank(reader_peek(r, n)))
        n++;
    return span_take(r, n);
}

/* The rest of the line after one separating space (FTP/POP3 arguments may
 * hold spaces of their own). */
static struct span read_argument(struct reader *r)
{
    if (reader_peek(r, 0) == ' ')
        reader_skip(r, 1);
    return span_take(r, reader_left(r));
}

/* True if the span equals `literal`, ignoring ASCII case. */
static bool span_is(struct span s, const char *literal)
{
    const size_t len = strlen(literal);
    if (s.len != len)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (ascii_lower(s.ptr[i]) != ascii_lower((uint8_t)literal[i]))
            return false;
    }
    return true;
}

static bool span_starts_with(struct span s, const char *literal)
{
    const size_t len = strlen(literal);
    if (s.len < len)
        return false;
    struct span head = {s.ptr, len};
    return span_is(head, literal);
}

static bool span_ends_with(struct span s, const char *literal)
{
    const size_t len = strlen(literal);
    if (s.len < len)
        return false;
    struct span tail = {s.ptr + (s.len - len), len};
    return span_is(tail, literal);
}

/* True if `needle` occurs in the span, ignoring ASCII case. */
static bool span_contains(struct span s, const char *needle)
{
    const size_t len = strlen(needle);
    for (size_t start = 0; start + len <= s.len; start++) {
        struct span window = {s.ptr + start, len};
        if (span_is(window, needle))
            return true;
    }
    return false;
}

/* Drops trailing blanks. */
static struct span trim_right(struct span s)
{
    while (s.len > 0 && is_blank(s.ptr[s.len - 1]))
        s.len--;
    return s;
}

/* Splits `s` at the first `separator`: `head` before it, `tail` after it
 * (empty when absent). Returns true if the separator was found. */
static bool span_split(struct span s, uint8_t separator, struct span *head, struct span *tail)
{
    struct reader r = reader_make(s.ptr, s.len);
    size_t n = 0;
    while (n < s.len && reader_peek(&r, n) != separator)
        n++;
    *head = span_take(&r, n);
    const bool found = n < s.len;
    if (found)
        reader_skip(&r, 1);
    *tail = span_take(&r, reader_left(&r));
    return found;
}

static int base64_value(uint8_t byte)
{
    if (byte >= 'A' && byte <= 'Z')
        return byte - 'A';
    if (byte >= 'a' && byte <= 'z')
        return byte - 'a' + 26;
    if (byte >= '0' && byte <= '9')
        return byte - '0' + 52;
    if (byte == '+')
        return 62;
    if (byte == '/')
        return 63;
    return -1;
}

/* Decodes base64 (padding optional, nothing else allowed) into `out`.
 * Returns false on a bad character or when `out` is too small. */
static bool base64_decode(struct span in, uint8_t *out, size_t out_size, size_t *out_len)
{
    struct reader r = reader_make(in.ptr, in.len);
    uint32_t bits = 0;
    int bit_count = 0;
    size_t len = 0;
    bool padding = false;
    *out_len = 0;
    while (reader_left(&r) > 0) {
        const uint8_t byte = reader_u8(&r);
        if (byte == '=') {
            padding = true;
            continue;
        }
        const int value = base64_value(byte);
        if (value < 0 || padding)
            return false;
        bits = (bits << 6) | (uint32_t)value;
        bit_count += 6;
        if (bit_count >= 8) {
            bit_count -= 8;
            if (len >= out_size)
                return false;
            out[len++] = (uint8_t)(bits >> bit_count);
        }
    }
    *out_len = len;
    return true;
}

/* ---- facts ------------------------------------------------------------ */

/* Masks a user name: first two bytes then "***"; non-printable bytes
 * become '?'; "" stays "". Always NUL-terminates a non-empty `out`. */
void credential_mask_user(const char *user, uint32_t len, char *out, uint32_t out_size)
{
    if (out == NULL || out_size == 0)
        return;
    out[0] = '\0';
    if (user == NULL || len == 0)
        return;
    const uint32_t shown = len < 2 ? len : 2;
    uint32_t at = 0;
    for (uint32_t i = 0; i < shown && at + 1 < out_size; i++) {
        const unsigned char byte = (unsigned char)user[i];
        out[at++] = (byte >= 0x20 && byte < 0x7f) ? (char)byte : '?';
    }
    for (int i = 0; i < 3 && at + 1 < out_size; i++)
        out[at++] = '*';
    out[at] = '\0';
}

/* The stronger of two outcomes: an acceptance anywhere in the merged
 * events wins, then a refusal, then "not shown". */
static int8_t combine_outcome(int8_t old_value, int8_t new_value)
{
    if (old_value == 1 || new_value == 1)
        return 1;
    if (old_value == 0 || new_value == 0)
        return 0;
    return -1;
}

static void copy_name(char *out, size_t size, const char *name)
{
    strncpy(out, name, size - 1);
    out[size - 1] = '\0';
}

/* Adds one event to `facts`, merged with an identical (protocol, method,
 * masked user) one. Returns the item index, or -1 when the table is full
 * (the event is then counted in `dropped`). */
static int record_event(struct credential_facts *facts, const char *protocol, const char *method,
                        enum credential_kind kind, struct span user, bool is_default)
{
    char masked[FACT_MASKED_USER_MAX] = {0}; /* zeroed: no stack bytes reach the facts */
    credential_mask_user((const char *)user.ptr, (uint32_t)user.len, masked, sizeof(masked));
    for (uint8_t i = 0; i < facts->count && i < FACT_CREDENTIALS_MAX; i++) {
        struct credential_fact *item = &facts->items[i];
        if (strcmp(item->protocol, protocol) != 0 || strcmp(item->method, method) != 0 ||
            strcmp(item->masked_user, masked) != 0 || item->kind != kind)
            continue;
        if (item->count < UINT32_MAX)
            item->count++;
        item->default_credential = item->default_credential || is_default;
        return i;
    }
    if (facts->count >= FACT_CREDENTIALS_MAX) {
        if (facts->dropped < UINT32_MAX)
            facts->dropped++;
        return -1;
    }
    struct credential_fact *item = &facts->items[facts->count];
    memset(item, 0, sizeof(*item));
    copy_name(item->protocol, sizeof(item->protocol), protocol);
    copy_name(item->method, sizeof(item->method), method);
    memcpy(item->masked_user, masked, sizeof(masked));
    item->kind = kind;
    item->accepted = -1;
    item->default_credential = is_default;
    item->count = 1;
    return facts->count++;
}

/* Applies a server's verdict to the event at `index` (-1: dropped). */
static void set_outcome(struct credential_facts *facts, int index, int8_t accepted)
{
    if (index < 0 || index >= facts->count || index >= FACT_CREDENTIALS_MAX)
        return;
    facts->items[index].accepted = combine_outcome(facts->items[index].accepted, accepted);
}

static const char *protocol_name(enum credential_protocol protocol)
{
    switch (protocol) {
    case CREDENTIAL_PROTOCOL_TELNET: return "Telnet";
    case CREDENTIAL_PROTOCOL_FTP: return "FTP";
    case CREDENTIAL_PROTOCOL_HTTP: return "HTTP";
    case CREDENTIAL_PROTOCOL_POP3: return "POP3";
    case CREDENTIAL_PROTOCOL_IMAP: return "IMAP";
    case CREDENTIAL_PROTOCOL_SMTP: return "SMTP";
    case CREDENTIAL_PROTOCOL_LDAP: return "LDAP";
    case CREDENTIAL_PROTOCOL_SNMP: return "SNMP";
    default: return "unknown";
    }
}

/* Records a credential of this session's protocol. For passwords the
 * default-credential verdict is computed here, from `secret`, which is
 * not kept. */
static int credential_event(const struct credential_inspector *inspector,
                            struct credential_facts *facts, const char *method,
                            enum credential_kind kind, struct span user, struct span secret)
{
    bool is_default = false;
    if (kind == CREDENTIAL_PASSWORD && user.len <= CREDENTIAL_USER_MAX)
        is_default = default_credentials_match_login(inspector->defaults, (const char *)user.ptr,
                                                     user.len, (const char *)secret.ptr,
                                                     secret.len);
    return record_event(facts, protocol_name(inspector->protocol), method, kind, user, is_default);
}

/* The user name remembered between two commands (USER then PASS). */
static struct span remembered_user(const struct credential_inspector *inspector)
{
    struct span user = {(const uint8_t *)inspector->user,
                        inspector->user_len > CREDENTIAL_USER_MAX ? CREDENTIAL_USER_MAX
                                                                  : inspector->user_len};
    return user;
}

static void forget_user(struct credential_inspector *inspector)
{
    explicit_bzero(inspector->user, sizeof(inspector->user));
    inspector->user_len = 0;
}

/* Keeps a user name (cut at CREDENTIAL_USER_MAX; a longer one cannot be a
 * listed default, which user_len remembers). */
static void remember_user(struct credential_inspector *inspector, struct span user)
{
    forget_user(inspector);
    const size_t kept = user.len < CREDENTIAL_USER_MAX ? user.len : CREDENTIAL_USER_MAX;
    if (kept > 0)
        memcpy(inspector->user, user.ptr, kept);
    inspector->user_len = user.len > CREDENTIAL_USER_MAX ? CREDENTIAL_USER_MAX + 1
                                                         : (uint32_t)user.len;
}

/* Records an event without a default verdict (a user name too long for
 * the table, or one that could not be read). */
static int record_without_verdict(const struct credential_inspector *inspector,
                                  struct credential_facts *facts, const char *method,
                                  enum credential_kind kind, struct span user)
{
    return record_event(facts, protocol_name(inspector->protocol), method, kind, user, false);
}

/* A credential whose user is the remembered one (then forgotten). */
static int remembered_user_event(struct credential_inspector *inspector,
                                 struct credential_facts *facts, const char *method,
                                 enum credential_kind kind, struct span secret)
{
    const struct span user = remembered_user(inspector);
    const int index = inspector->user_len > CREDENTIAL_USER_MAX
                          ? record_without_verdict(inspector, facts, method, kind, user)
                          : credential_event(inspector, facts, method, kind, user, secret);
    forget_user(inspector);
    return index;
}

static void finish(struct credential_inspector *inspector)
{
    inspector->finished = true;
}

static void starttls_confirmed(struct credential_inspector *inspector,
                               struct credential_facts *facts)
{
    facts->starttls = true;
    finish(inspector);
}

/* ---- reply pairing ------------------------------------------------------ */

/* Queues a command awaiting its reply; past CREDENTIAL_QUEUE_MAX pairing
 * stops for good rather than pair replies with the wrong commands. */
static void queue_push(struct credential_inspector *inspector, uint8_t kind, int fact0, int fact1)
{
    if (inspector->pairing_lost)
        return;
    if (inspector->queue_count >= CREDENTIAL_QUEUE_MAX) {
        inspector->pairing_lost = true;
        return;
    }
    const uint8_t slot = (uint8_t)((inspector->queue_head + inspector->queue_count) %
                                   CREDENTIAL_QUEUE_MAX);
    inspector->queue[slot] = (struct pending){kind, {(int8_t)fact0, (int8_t)fact1}};
    inspector->queue_count++;
}

static bool queue_peek(const struct credential_inspector *inspector, struct pending *out)
{
    if (inspector->pairing_lost || inspector->queue_count == 0)
        return false;
    *out = inspector->queue[inspector->queue_head];
    return true;
}

static bool queue_pop(struct credential_inspector *inspector, struct pending *out)
{
    if (!queue_peek(inspector, out))
        return false;
    inspector->queue_head = (uint8_t)((inspector->queue_head + 1) % CREDENTIAL_QUEUE_MAX);
    inspector->queue_count--;
    return true;
}

/* Remembers an IMAP tag or an LDAP message id awaiting its reply; the
 * oldest is forgotten when all slots are taken. */
static void tag_add(struct credential_inspector *inspector, struct span tag, int32_t message_id,
                    uint8_t kind, int fact)
{
    struct tagged *slot = &inspector->tags[inspector->tag_next];
    inspector->tag_next = (uint8_t)((inspector->tag_next + 1) % CREDENTIAL_TAGS_MAX);
    memset(slot, 0, sizeof(*slot));
    slot->used = true;
    slot->kind = kind;
    slot->fact = (int8_t)fact;
    slot->message_id = message_id;
    slot->tag_len = (uint8_t)(tag.len < CREDENTIAL_TAG_MAX ? tag.len : CREDENTIAL_TAG_MAX);
    if (slot->tag_len > 0)
        memcpy(slot->tag, tag.ptr, slot->tag_len);
}

/* Finds and releases the entry for `tag` (IMAP) or `message_id` (LDAP:
 * tag.len == 0). Returns false if none waits. */
static bool tag_take(struct credential_inspector *inspector, struct span tag, int32_t message_id,
                     struct tagged *out)
{
    for (size_t i = 0; i < CREDENTIAL_TAGS_MAX; i++) {
        struct tagged *slot = &inspector->tags[i];
        if (!slot->used)
            continue;
        const bool match = tag.len > 0 ? (tag.len == slot->tag_len &&
                                          memcmp(tag.ptr, slot->tag, tag.len) == 0)
                                       : slot->message_id == message_id;
        if (match) {
            *out = *slot;
            memset(slot, 0, sizeof(*slot));
            return true;
        }
    }
    return false;
}

/* ---- SASL (SMTP AUTH, IMAP AUTHENTICATE, POP3 AUTH) ------------------- */

static void sasl_reset(struct credential_inspector *inspector)
{
    memset(&inspector->sasl, 0, sizeof(inspector->sasl));
    inspector->sasl.fact = -1;
}

/* PLAIN: [authzid] NUL authcid NUL password. */
static void sasl_plain(struct credential_inspector *inspector, struct credential_facts *facts,
                       struct span decoded)
{
    struct span authzid, rest, authcid, password;
    if (!span_split(decoded, 0, &authzid, &rest) || !span_split(rest, 0, &authcid, &password))
        return;
    struct span user = authcid.len > 0 ? authcid : authzid;
    inspector->sasl.fact = (int8_t)credential_event(inspector, facts, "AUTH PLAIN",
                                                    CREDENTIAL_PASSWORD, user, password);
}

/* XOAUTH2: "user=" USER ^A "auth=Bearer " TOKEN ^A ^A. */
static void sasl_xoauth2(struct credential_inspector *inspector, struct credential_facts *facts,
                         struct span decoded)
{
    struct span first, rest, user = {NULL, 0}, none = {NULL, 0};
    span_split(decoded, 0x01, &first, &rest);
    if (span_starts_with(first, "user=")) {
        user.ptr = first.ptr + 5;
        user.len = first.len - 5;
    }
    inspector->sasl.fact = (int8_t)credential_event(inspector, facts, "AUTH XOAUTH2",
                                                    CREDENTIAL_TOKEN, user, none);
}

/* The client's answer to a challenge (or an initial response): base64,
 * "*" cancels, "=" is an empty initial response. */
static void sasl_response(struct credential_inspector *inspector, struct credential_facts *facts,
                          struct span line)
{
    inspector->sasl.awaiting_response = false;
    line = trim_right(line);
    if (span_is(line, "*")) {
        inspector->sasl.mechanism = SASL_OTHER;
        return;
    }
    uint8_t decoded[CREDENTIAL_DECODED_MAX];
    size_t decoded_len = 0;
    if (!span_is(line, "=") && !base64_decode(line, decoded, sizeof(decoded), &decoded_len)) {
        explicit_bzero(decoded, sizeof(decoded));
        return;
    }
    struct span text = {decoded, decoded_len};
    struct span user, rest, none = {NULL, 0};
    switch (inspector->sasl.mechanism) {
    case SASL_PLAIN:
        sasl_plain(inspector, facts, text);
        break;
    case SASL_LOGIN:
        if (!inspector->sasl.password_next) {
            remember_user(inspector, text);
            inspector->sasl.password_next = true;
        } else {
            inspector->sasl.fact = (int8_t)remembered_user_event(
                inspector, facts, "AUTH LOGIN", CREDENTIAL_PASSWORD, text);
        }
        break;
    case SASL_CRAM_MD5:
        span_split(text, ' ', &user, &rest);
        inspector->sasl.fact = (int8_t)credential_event(inspector, facts, "AUTH CRAM-MD5",
                                                        CREDENTIAL_CHALLENGE, user, none);
        break;
    case SASL_XOAUTH2:
        sasl_xoauth2(inspector, facts, text);
        break;
    default:
        break;
    }
    explicit_bzero(decoded, sizeof(decoded));
}

/* A server challenge ("334 ..." or "+ ..."): LOGIN says which field it
 * wants ("Username:" / "Password:" in base64). */
static void sasl_challenge(struct credential_inspector *inspector, struct span text)
{
    if (inspector->sasl.mechanism == SASL_NONE)
        return;
    inspector->sasl.awaiting_response = true;
    if (inspector->sasl.mechanism != SASL_LOGIN)
        return;
    uint8_t decoded[64];
    size_t decoded_len = 0;
    if (base64_decode(trim_right(text), decoded, sizeof(decoded), &decoded_len)) {
        struct span prompt = {decoded, decoded_len};
        if (span_starts_with(prompt, "pass"))
            inspector->sasl.password_next = true;
        else if (span_starts_with(prompt, "user"))
            inspector->sasl.password_next = false;
    }
}

/* Starts a SASL exchange for `mechanism`, with an optional initial
 * response (SMTP, IMAP SASL-IR, POP3). */
static void sasl_start(struct credential_inspector *inspector, struct credential_facts *facts,
                       struct span mechanism, struct span initial)
{
    sasl_reset(inspector);
    if (span_is(mechanism, "PLAIN"))
        inspector->sasl.mechanism = SASL_PLAIN;
    else if (span_is(mechanism, "LOGIN"))
        inspector->sasl.mechanism = SASL_LOGIN;
    else if (span_is(mechanism, "CRAM-MD5"))
        inspector->sasl.mechanism = SASL_CRAM_MD5;
    else if (span_is(mechanism, "XOAUTH2"))
        inspector->sasl.mechanism = SASL_XOAUTH2;
    else
        inspector->sasl.mechanism = SASL_OTHER;
    initial = trim_right(initial);
    if (initial.len > 0)
        sasl_response(inspector, facts, initial);
}

/* ---- FTP, POP3, SMTP: commands paired with replies in order ----------- */

/* Reads an FTP/SMTP reply code: three digits then ' ', '-' or the end.
 * Returns 0 if the line is not a reply line. */
static int reply_code(struct span line, bool *continued)
{
    struct reader r = reader_make(line.ptr, line.len);
    int code = 0;
    for (int i = 0; i < 3; i++) {
        const uint8_t digit = reader_u8(&r);
        if (r.failed || digit < '0' || digit > '9')
            return 0;
        code = code * 10 + (digit - '0');
    }
    const uint8_t next = reader_left(&r) > 0 ? reader_u8(&r) : ' ';
    if (next != ' ' && next != '-')
        return 0;
    *continued = next == '-';
    return code;
}

/* Returns the code of a final reply line (after any multi-line reply
 * closes), 0 for lines inside a multi-line reply or not replies. */
static int final_reply_code(struct credential_inspector *inspector, struct span line)
{
    bool continued = false;
    const int code = reply_code(line, &continued);
    if (inspector->multiline_code != 0) {
        if (code != inspector->multiline_code || continued)
            return 0;
        inspector->multiline_code = 0;
        return code;
    }
    if (code == 0)
        return 0;
    if (continued) {
        inspector->multiline_code = (uint16_t)code;
        return 0;
    }
    return code;
}

/* Applies a final reply to the command it answers. `positive` accepted,
 * `negative` refused, anything else leaves the outcome open. */
static void apply_reply(struct credential_inspector *inspector, struct credential_facts *facts,
                        const struct pending *entry, bool positive, bool negative)
{
    const int8_t outcome = positive ? 1 : 0;
    switch (entry->kind) {
    case PENDING_LOGIN:
        if (positive || negative)
            set_outcome(facts, entry->fact[0], outcome);
        break;
    case PENDING_AUTH:
        if (positive || negative)
            set_outcome(facts, inspector->sasl.fact, outcome);
        sasl_reset(inspector);
        break;
    case PENDING_STARTTLS:
        if (positive)
            starttls_confirmed(inspector, facts);
        else
            inspector->starttls_requested = false;
        break;
    default:
        break;
    }
}

static void ftp_client_line(struct credential_inspector *inspector, struct credential_facts *facts,
                            struct span line)
{
    struct reader r = reader_make(line.ptr, line.len);
    const struct span verb = read_word(&r);
    const struct span argument = read_argument(&r);
    if (span_is(verb, "USER")) {
        remember_user(inspector, argument);
        queue_push(inspector, PENDING_OTHER, -1, -1);
    } else if (span_is(verb, "PASS")) {
        const int fact = remembered_user_event(inspector, facts, "USER/PASS", CREDENTIAL_PASSWORD,
                                               argument);
        queue_push(inspector, PENDING_LOGIN, fact, -1);
    } else if (span_is(verb, "AUTH")) {
        inspector->starttls_requested = true;
        queue_push(inspector, PENDING_STARTTLS, -1, -1);
    } else {
        queue_push(inspector, PENDING_OTHER, -1, -1);
    }
}

static void ftp_server_line(struct credential_inspector *inspector, struct credential_facts *facts,
                            struct span line)
{
    const int code = final_reply_code(inspector, line);
    if (code < 200) /* not a reply, or a preliminary 1xx */
        return;
    struct pending entry;
    if (queue_pop(inspector, &entry))
        apply_reply(inspector, facts, &entry, code < 300, code >= 400);
}

static void pop3_client_line(struct credential_inspector *inspector,
                             struct credential_facts *facts, struct span line)
{
    if (inspector->sasl.awaiting_response) {
        sasl_response(inspector, facts, line);
        return;
    }
    struct reader r = reader_make(line.ptr, line.len);
    const struct span verb = read_word(&r);
    if (span_is(verb, "USER")) {
        remember_user(inspector, read_argument(&r));
        queue_push(inspector, PENDING_OTHER, -1, -1);
    } else if (span_is(verb, "PASS")) {
        const int fact = remembered_user_event(inspector, facts, "USER/PASS", CREDENTIAL_PASSWORD,
                                               read_argument(&r));
        queue_push(inspector, PENDING_LOGIN, fact, -1);
    } else if (span_is(verb, "APOP")) {
        const struct span user = read_word(&r), none = {NULL, 0};
        const int fact = credential_event(inspector, facts, "APOP", CREDENTIAL_CHALLENGE, user,
                                          none);
        queue_push(inspector, PENDING_LOGIN, fact, -1);
    } else if (span_is(verb, "STLS")) {
        inspector->starttls_requested = true;
        queue_push(inspector, PENDING_STARTTLS, -1, -1);
    } else if (span_is(verb, "AUTH") && reader_left(&r) > 0) {
        const struct span mechanism = read_word(&r);
        sasl_start(inspector, facts, mechanism, read_word(&r));
        queue_push(inspector, PENDING_AUTH, -1, -1);
    } else {
        queue_push(inspector, PENDING_OTHER, -1, -1);
    }
}

static void pop3_server_line(struct credential_inspector *inspector,
                             struct credential_facts *facts, struct span line)
{
    struct reader r = reader_make(line.ptr, line.len);
    const struct span status = read_word(&r);
    struct pending entry;
    if (span_is(status, "+") && queue_peek(inspector, &entry) && entry.kind == PENDING_AUTH) {
        sasl_challenge(inspector, read_argument(&r));
        return;
    }
    const bool ok = span_is(status, "+OK");
    if (!ok && !span_is(status, "-ERR"))
        return;
    if (queue_pop(inspector, &entry))
        apply_reply(inspector, facts, &entry, ok, !ok);
}

static void smtp_client_line(struct credential_inspector *inspector,
                             struct credential_facts *facts, struct span line)
{
    if (inspector->smtp_in_data) {
        if (line.len == 1 && line.ptr[0] == '.')
            inspector->smtp_in_data = false;
        return;
    }
    if (inspector->sasl.awaiting_response) {
        sasl_response(inspector, facts, line);
        return;
    }
    struct reader r = reader_make(line.ptr, line.len);
    const struct span verb = read_word(&r);
    if (span_is(verb, "AUTH")) {
        const struct span mechanism = read_word(&r);
        sasl_start(inspector, facts, mechanism, read_word(&r));
        queue_push(inspector, PENDING_AUTH, -1, -1);
    } else if (span_is(verb, "STARTTLS")) {
        inspector->starttls_requested = true;
        queue_push(inspector, PENDING_STARTTLS, -1, -1);
    } else if (span_is(verb, "DATA")) {
        queue_push(inspector, PENDING_DATA, -1, -1);
    } else if (span_is(verb, "BDAT")) {
        /* CHUNKING: the size given is sent raw after the command line */
        const struct span size = read_word(&r);
        uint64_t value = 0;
        for (size_t i = 0; i < size.len && i < 12 && size.ptr[i] >= '0' && size.ptr[i] <= '9'; i++)
            value = value * 10 + (uint64_t)(size.ptr[i] - '0');
        inspector->directions[0].skip = value;
        queue_push(inspector, PENDING_OTHER, -1, -1);
    } else {
        queue_push(inspector, PENDING_OTHER, -1, -1);
    }
}

static void smtp_server_line(struct credential_inspector *inspector,
                             struct credential_facts *facts, struct span line)
{
    const int code = final_reply_code(inspector, line);
    if (code < 200)
        return;
    struct pending entry;
    if (!queue_peek(inspector, &entry))
        return;
    if (code == 334 && entry.kind == PENDING_AUTH) {
        struct span text = {line.ptr + 3, line.len - 3};
        struct reader r = reader_make(text.ptr, text.len);
        sasl_challenge(inspector, read_argument(&r));
        return;
    }
    queue_pop(inspector, &entry);
    if (code == 354 && entry.kind == PENDING_DATA) {
        inspector->smtp_in_data = true;
        return;
    }
    apply_reply(inspector, facts, &entry, code < 300, code >= 400);
}

/* ---- IMAP: tagged commands ---------------------------------------------- */

/* Reads an IMAP astring: an atom, a "quoted" string (\" and \\ escaped)
 * or a {n} literal (kept in the line by the line assembler). The value is
 * written to `out`; returns false if malformed or longer than out_size. */
static bool imap_astring(struct reader *r, uint8_t *out, size_t out_size, size_t *out_len)
{
    skip_blanks(r);
    size_t len = 0;
    *out_len = 0;
    const uint8_t first = reader_peek(r, 0);
    if (first == '"') {
        reader_skip(r, 1);
        for (;;) {
            uint8_t byte = reader_u8(r);
            if (r->failed)
                return false;
            if (byte == '"')
                break;
            if (byte == '\\')
                byte = reader_u8(r);
            if (r->failed || len >= out_size)
                return false;
            out[len++] = byte;
        }
    } else if (first == '{') {
        reader_skip(r, 1);
        size_t count = 0;
        while (reader_peek(r, 0) >= '0' && reader_peek(r, 0) <= '9' && count <= out_size)
            count = count * 10 + (size_t)(reader_u8(r) - '0');
        if (reader_peek(r, 0) == '+')
            reader_skip(r, 1);
        if (reader_u8(r) != '}' || count > out_size)
            return false;
        if (reader_peek(r, 0) == '\r')
            reader_skip(r, 1);
        if (reader_u8(r) != '\n')
            return false;
        reader_copy(r, out, count);
        len = count;
    } else {
        while (reader_left(r) > 0 && !is_blank(reader_peek(r, 0)) && len < out_size)
            out[len++] = reader_u8(r);
        if (len == 0 || (reader_left(r) > 0 && !is_blank(reader_peek(r, 0))))
            return false;
    }
    *out_len = len;
    return !r->failed;
}

static void imap_login(struct credential_inspector *inspector, struct credential_facts *facts,
                       struct reader *r, struct span tag)
{
    uint8_t user[CREDENTIAL_USER_MAX + 1];
    uint8_t password[CREDENTIAL_LINE_MAX];
    size_t user_len = 0, password_len = 0;
    int fact = -1;
    if (imap_astring(r, user, sizeof(user), &user_len)) {
        const bool has_password = imap_astring(r, password, sizeof(password), &password_len);
        struct span user_span = {user, user_len}, secret = {password, password_len};
        if (!has_password)
            secret.len = 0;
        fact = user_len > CREDENTIAL_USER_MAX
                   ? record_without_verdict(inspector, facts, "LOGIN", CREDENTIAL_PASSWORD,
                                            user_span)
                   : credential_event(inspector, facts, "LOGIN", CREDENTIAL_PASSWORD, user_span,
                                      secret);
    } else {
        /* a user name we cannot read is still a login in clear */
        const struct span none = {NULL, 0};
        fact = record_without_verdict(inspector, facts, "LOGIN", CREDENTIAL_PASSWORD, none);
    }
    explicit_bzero(password, sizeof(password));
    explicit_bzero(user, sizeof(user));
    tag_add(inspector, tag, 0, PENDING_LOGIN, fact);
}

static void imap_client_line(struct credential_inspector *inspector,
                             struct credential_facts *facts, struct span line)
{
    if (inspector->sasl.awaiting_response) {
        sasl_response(inspector, facts, line);
        return;
    }
    struct reader r = reader_make(line.ptr, line.len);
    const struct span tag = read_word(&r);
    const struct span command = read_word(&r);
    if (tag.len == 0 || tag.len > CREDENTIAL_TAG_MAX)
        return;
    if (span_is(command, "LOGIN")) {
        imap_login(inspector, facts, &r, tag);
    } else if (span_is(command, "AUTHENTICATE")) {
        const struct span mechanism = read_word(&r);
        sasl_start(inspector, facts, mechanism, read_word(&r));
        tag_add(inspector, tag, 0, PENDING_AUTH, -1);
    } else if (span_is(command, "STARTTLS")) {
        inspector->starttls_requested = true;
        tag_add(inspector, tag, 0, PENDING_STARTTLS, -1);
    }
}

static void imap_server_line(struct credential_inspector *inspector,
                             struct credential_facts *facts, struct span line)
{
    struct reader r = reader_make(line.ptr, line.len);
    const struct span tag = read_word(&r);
    if (span_is(tag, "+")) {
        sasl_challenge(inspector, read_argument(&r));
        return;
    }
    if (span_is(tag, "*"))
        return;
    const struct span status = read_word(&r);
    const bool ok = span_is(status, "OK");
    if (!ok && !span_is(status, "NO") && !span_is(status, "BAD"))
        return;
    struct tagged entry;
    if (tag.len == 0 || !tag_take(inspector, tag, 0, &entry))
        return;
    struct pending pending = {entry.kind, {entry.fact, -1}};
    apply_reply(inspector, facts, &pending, ok, !ok);
}

/* ---- HTTP ------------------------------------------------------------- */

/* Digest: the username="..." parameter (quoted or a token). */
static struct span digest_username(struct span params)
{
    struct reader r = reader_make(params.ptr, params.len);
    while (reader_left(&r) > 0) {
        skip_blanks(&r);
        size_t n = 0;
        while (n < reader_left(&r) && reader_peek(&r, n) != '=' && reader_peek(&r, n) != ',')
            n++;
        const struct span name = trim_right(span_take(&r, n));
        const bool is_user = span_is(name, "username");
        if (reader_peek(&r, 0) == '=') {
            reader_skip(&r, 1);
            skip_blanks(&r);
            const bool quoted = reader_peek(&r, 0) == '"';
            if (quoted)
                reader_skip(&r, 1);
            const uint8_t end = quoted ? '"' : ',';
            size_t m = 0;
            while (m < reader_left(&r) && reader_peek(&r, m) != end)
                m++;
            struct span value = span_take(&r, m);
            if (is_user)
                return quoted ? value : trim_right(value);
            if (quoted && reader_left(&r) > 0)
                reader_skip(&r, 1);
        }
        while (reader_left(&r) > 0 && reader_peek(&r, 0) != ',')
            reader_skip(&r, 1);
        if (reader_left(&r) > 0)
            reader_skip(&r, 1);
    }
    return (struct span){NULL, 0};
}

/* Basic: base64 of "user:password", decoded on the stack and wiped. */
static int http_basic(struct credential_inspector *inspector, struct credential_facts *facts,
                      const char *method, struct span encoded)
{
    uint8_t decoded[CREDENTIAL_DECODED_MAX];
    size_t decoded_len = 0;
    struct span user = {NULL, 0}, password = {NULL, 0};
    if (base64_decode(trim_right(encoded), decoded, sizeof(decoded), &decoded_len)) {
        struct span text = {decoded, decoded_len};
        if (!span_split(text, ':', &user, &password))
            user.len = 0; /* no colon: not a user:password pair, keep no user */
    }
    const int fact = (user.len > CREDENTIAL_USER_MAX)
                         ? record_without_verdict(inspector, facts, method, CREDENTIAL_PASSWORD,
                                                  user)
                         : credential_event(inspector, facts, method, CREDENTIAL_PASSWORD, user,
                                            password);
    explicit_bzero(decoded, sizeof(decoded));
    return fact;
}

/* An Authorization (or Proxy-Authorization) header value. */
static int http_authorization(struct credential_inspector *inspector,
                              struct credential_facts *facts, struct span value, bool proxy)
{
    struct reader r = reader_make(value.ptr, value.len);
    const struct span scheme = read_word(&r);
    skip_blanks(&r);
    const struct span rest = read_argument(&r), none = {NULL, 0};
    if (span_is(scheme, "Basic"))
        return http_basic(inspector, facts, proxy ? "Proxy Basic" : "Basic", rest);
    if (span_is(scheme, "Digest"))
        return credential_event(inspector, facts, proxy ? "Proxy Digest" : "Digest",
                                CREDENTIAL_CHALLENGE, digest_username(rest), none);
    if (span_is(scheme, "Bearer"))
        return credential_event(inspector, facts, proxy ? "Proxy Bearer" : "Bearer",
                                CREDENTIAL_TOKEN, none, none);
    if (span_is(scheme, "NTLM") || span_is(scheme, "Negotiate"))
        return credential_event(inspector, facts, proxy ? "Proxy NTLM" : "NTLM",
                                CREDENTIAL_CHALLENGE, none, none);
    if (scheme.len == 0)
        return -1;
    return credential_event(inspector, facts, proxy ? "Proxy other" : "other scheme",
                            CREDENTIAL_TOKEN, none, none);
}

/* Parses a decimal Content-Length; absurd values are clamped (the stream
 * cap ends inspection long before). */
static uint64_t parse_decimal(struct span text)
{
    uint64_t value = 0;
    for (size_t i = 0; i < text.len && text.ptr[i] >= '0' && text.ptr[i] <= '9'; i++) {
        value = value * 10 + (uint64_t)(text.ptr[i] - '0');
        if (value > HTTP_BODY_MAX)
            return HTTP_BODY_MAX;
    }
    return value;
}

static bool parse_chunk_size(struct span text, uint64_t *size)
{
    uint64_t value = 0;
    size_t digits = 0;
    for (size_t i = 0; i < text.len; i++) {
        const uint8_t c = ascii_lower(text.ptr[i]);
        int digit;
        if (c >= '0' && c <= '9')
            digit = c - '0';
        else if (c >= 'a' && c <= 'f')
            digit = c - 'a' + 10;
        else
            break;
        value = value * 16 + (uint64_t)digit;
        if (value > HTTP_BODY_MAX)
            value = HTTP_BODY_MAX;
        digits++;
    }
    *size = value;
    return digits > 0;
}

/* A header line common to requests and responses (framing headers), plus
 * the credential headers on the client side. */
static void http_header(struct credential_inspector *inspector, struct credential_facts *facts,
                        int direction, struct span line)
{
    struct http_message *message = &inspector->http[direction];
    struct span name, value;
    if (!span_split(line, ':', &name, &value))
        return;
    struct reader r = reader_make(value.ptr, value.len);
    skip_blanks(&r);
    value = trim_right(read_argument(&r));
    if (span_is(name, "Content-Length")) {
        message->has_length = true;
        message->content_length = parse_decimal(value);
    } else if (span_is(name, "Transfer-Encoding")) {
        message->chunked = span_contains(value, "chunked");
    } else if (direction == 0 && span_is(name, "Authorization")) {
        message->request.fact[0] = (int8_t)http_authorization(inspector, facts, value, false);
    } else if (direction == 0 && span_is(name, "Proxy-Authorization")) {
        message->request.fact[1] = (int8_t)http_authorization(inspector, facts, value, true);
    }
}

/* The header block ended: where the body goes. */
static void http_end_of_headers(struct credential_inspector *inspector, int direction)
{
    struct http_message *message = &inspector->http[direction];
    struct stream_direction *stream = &inspector->directions[direction];
    if (direction == 0)
        queue_push(inspector, message->request.kind, message->request.fact[0],
                   message->request.fact[1]);
    message->state = HTTP_START;
    if (message->interim || message->no_body)
        return;
    if (message->chunked) {
        message->state = HTTP_CHUNK_SIZE;
    } else if (message->has_length) {
        stream->skip = message->content_length;
    } else if (direction == 1) {
        stream->closed = true; /* the body runs to the end of the connection */
    }
}

/* "METHOD target HTTP/1.x": starts a request. */
static bool http_request_line(struct credential_inspector *inspector, struct span line)
{
    struct reader r = reader_make(line.ptr, line.len);
    const struct span method = read_word(&r);
    const struct span target = read_word(&r);
    const struct span version = read_word(&r);
    if (method.len == 0 || target.len == 0 || !span_starts_with(version, "HTTP/1."))
        return false;
    struct http_message *message = &inspector->http[0];
    memset(message, 0, sizeof(*message));
    message->request.kind = span_is(method, "HEAD")      ? PENDING_HEAD
                            : span_is(method, "CONNECT") ? PENDING_CONNECT
                                                         : PENDING_OTHER;
    message->request.fact[0] = -1;
    message->request.fact[1] = -1;
    message->state = HTTP_HEADERS;
    return true;
}

/* "HTTP/1.x 200 ...": pairs the response with the oldest open request. */
static bool http_status_line(struct credential_inspector *inspector,
                             struct credential_facts *facts, struct span line)
{
    struct reader r = reader_make(line.ptr, line.len);
    const struct span version = read_word(&r);
    const struct span status = read_word(&r);
    if (!span_starts_with(version, "HTTP/1.") || status.len != 3)
        return false;
    const int code = (int)parse_decimal(status);
    if (code < 100 || code > 999)
        return false;
    struct http_message *message = &inspector->http[1];
    memset(message, 0, sizeof(*message));
    message->state = HTTP_HEADERS;
    if (code == 101) {
        finish(inspector); /* the connection now speaks another protocol */
        return true;
    }
    if (code < 200) {
        message->interim = true;
        return true;
    }
    struct pending request;
    if (!queue_pop(inspector, &request))
        return true;
    /* 2xx/3xx: the credentials passed; 401/403 (407 for a proxy): refused;
     * other errors (404, 500...) say nothing about them. */
    const bool accepted = code < 400;
    if (accepted || code == 401 || code == 403)
        set_outcome(facts, request.fact[0], accepted ? 1 : 0);
    if (accepted || code == 407)
        set_outcome(facts, request.fact[1], accepted ? 1 : 0);
    message->no_body = request.kind == PENDING_HEAD || code == 204 || code == 304;
    if (request.kind == PENDING_CONNECT && accepted)
        finish(inspector); /* a tunnel: the rest is not HTTP */
    return true;
}

static void http_line(struct credential_inspector *inspector, struct credential_facts *facts,
                      int direction, struct span line)
{
    struct http_message *message = &inspector->http[direction];
    struct stream_direction *stream = &inspector->directions[direction];
    uint64_t size = 0;
    switch (message->state) {
    case HTTP_START:
        if (line.len == 0)
            return;
        if (!(direction == 0 ? http_request_line(inspector, line)
                             : http_status_line(inspector, facts, line)))
            stream->closed = true; /* not HTTP (or lost framing): stop reading it */
        return;
    case HTTP_HEADERS:
        if (line.len == 0)
            http_end_of_headers(inspector, direction);
        else
            http_header(inspector, facts, direction, line);
        return;
    case HTTP_CHUNK_SIZE:
        if (!parse_chunk_size(line, &size)) {
            stream->closed = true;
        } else if (size == 0) {
            message->state = HTTP_TRAILERS;
        } else {
            stream->skip = size;
            message->state = HTTP_CHUNK_END;
        }
        return;
    case HTTP_CHUNK_END:
        if (line.len != 0)
            stream->closed = true;
        message->state = HTTP_CHUNK_SIZE;
        return;
    default: /* trailers */
        if (line.len == 0)
            message->state = HTTP_START;
        return;
    }
}

/* ---- Telnet --------------------------------------------------------------- */

static void telnet_refused_or_prompt(struct credential_inspector *inspector,
                                     struct credential_facts *facts, uint8_t expect)
{
    if (inspector->telnet_awaiting) {
        /* a new prompt while the last password waits: it was refused */
        set_outcome(facts, inspector->telnet_fact, 0);
        inspector->telnet_awaiting = false;
    }
    inspector->telnet_expect = expect;
    if (expect == TELNET_EXPECT_USER)
        forget_user(inspector);
}

/* A shell prompt: some text, then '$', '#', '>' or '%', then optional
 * blanks ("user@host:~$ ", "Router>"). */
static bool looks_like_shell_prompt(struct span text)
{
    text = trim_right(text);
    if (text.len < 2)
        return false;
    const uint8_t last = text.ptr[text.len - 1];
    return (last == '$' || last == '#' || last == '>' || last == '%') &&
           !is_blank(text.ptr[text.len - 2]);
}

/* Looks at server text: a login or password prompt, a refusal, an
 * acceptance. `partial` is the unfinished last line (prompts end without
 * a newline); complete lines give the refusal and "Last login" texts. */
static void telnet_server_text(struct credential_inspector *inspector,
                               struct credential_facts *facts, struct span text, bool partial)
{
    struct stream_direction *stream = &inspector->directions[1];
    if (inspector->telnet_awaiting && !partial &&
        (span_contains(text, "incorrect") || span_contains(text, "fail") ||
         span_contains(text, "denied") || span_contains(text, "invalid") ||
         span_contains(text, "bad password"))) {
        set_outcome(facts, inspector->telnet_fact, 0);
        inspector->telnet_awaiting = false;
        return;
    }
    if (span_contains(text, "last login")) {
        if (inspector->telnet_awaiting && !partial) {
            set_outcome(facts, inspector->telnet_fact, 1);
            inspector->telnet_awaiting = false;
        }
        return;
    }
    /* only the text after the last prompt recognised on this line: a
     * server that does not echo puts the next prompt on the same line */
    const uint32_t mark = stream->prompt_mark < text.len ? stream->prompt_mark : (uint32_t)text.len;
    const struct span fresh = {text.ptr + mark, text.len - mark};
    const struct span trimmed = trim_right(fresh);
    if (trimmed.len == 0)
        return;
    if (span_ends_with(trimmed, "login:") || span_ends_with(trimmed, "username:") ||
        span_ends_with(trimmed, "user name:") || span_ends_with(trimmed, "user:")) {
        stream->prompt_mark = (uint32_t)text.len;
        telnet_refused_or_prompt(inspector, facts, TELNET_EXPECT_USER);
    } else if (span_ends_with(trimmed, "password:") || span_ends_with(trimmed, "passcode:")) {
        stream->prompt_mark = (uint32_t)text.len;
        telnet_refused_or_prompt(inspector, facts, TELNET_EXPECT_PASSWORD);
    } else if (partial && inspector->telnet_awaiting && looks_like_shell_prompt(fresh)) {
        stream->prompt_mark = (uint32_t)text.len;
        set_outcome(facts, inspector->telnet_fact, 1);
        inspector->telnet_awaiting = false;
    }
}

/* A line typed by the client: the user or the password when a prompt
 * asked for it, otherwise ignored (shell commands are not credentials). */
static void telnet_client_line(struct credential_inspector *inspector,
                               struct credential_facts *facts, struct span line)
{
    const uint8_t expect = inspector->telnet_expect;
    inspector->telnet_expect = TELNET_EXPECT_NONE;
    if (expect == TELNET_EXPECT_USER) {
        remember_user(inspector, line);
    } else if (expect == TELNET_EXPECT_PASSWORD) {
        inspector->telnet_fact = (int8_t)remembered_user_event(inspector, facts, "login",
                                                               CREDENTIAL_PASSWORD, line);
        inspector->telnet_awaiting = true;
    }
}

/* ---- line assembly ---------------------------------------------------------- */

static void line_reset(struct stream_direction *stream)
{
    explicit_bzero(stream->line, stream->line_len);
    stream->line_len = 0;
    stream->line_overflow = false;
    stream->prompt_mark = 0;
}

/* Appends a byte; a line that outgrows the buffer is dropped whole (not
 * cut: a cut line could match what it is not). */
static void line_append(struct stream_direction *stream, uint8_t byte)
{
    if (stream->line_overflow)
        return;
    if (stream->line_len >= CREDENTIAL_LINE_MAX) {
        explicit_bzero(stream->line, stream->line_len);
        stream->line_len = 0;
        stream->line_overflow = true;
        return;
    }
    stream->line[stream->line_len++] = byte;
}

static struct span current_line(const struct stream_direction *stream)
{
    struct span line = {stream->line, stream->line_len};
    return line;
}

/* IMAP: a line ending in {n} or {n+} continues with n literal bytes. If
 * they fit, returns true and the assembler keeps collecting; if not, the
 * literal is skipped with the line. */
static bool imap_literal_follows(struct stream_direction *stream, struct span line)
{
    if (line.len < 3 || line.ptr[line.len - 1] != '}')
        return false;
    size_t at = line.len - 1;
    if (at > 0 && line.ptr[at - 1] == '+')
        at--;
    size_t digits_end = at, count = 0, scale = 1;
    while (at > 0 && line.ptr[at - 1] >= '0' && line.ptr[at - 1] <= '9' &&
           digits_end - at < 7) {
        count += (size_t)(line.ptr[at - 1] - '0') * scale;
        scale *= 10;
        at--;
    }
    if (at == digits_end || at == 0 || line.ptr[at - 1] != '{')
        return false;
    if (line.len + 2 + count > CREDENTIAL_LINE_MAX) {
        stream->skip = count;
        return false;
    }
    stream->line_len = (uint32_t)line.len; /* drop the CR: CRLF is put back below */
    line_append(stream, '\r');
    line_append(stream, '\n');
    stream->literal_left = (uint32_t)count;
    return count > 0;
}

static void deliver_line(struct credential_inspector *inspector, struct credential_facts *facts,
                         int direction, struct span line)
{
    switch (inspector->protocol) {
    case CREDENTIAL_PROTOCOL_FTP:
        (direction == 0 ? ftp_client_line : ftp_server_line)(inspector, facts, line);
        break;
    case CREDENTIAL_PROTOCOL_POP3:
        (direction == 0 ? pop3_client_line : pop3_server_line)(inspector, facts, line);
        break;
    case CREDENTIAL_PROTOCOL_IMAP:
        (direction == 0 ? imap_client_line : imap_server_line)(inspector, facts, line);
        break;
    case CREDENTIAL_PROTOCOL_SMTP:
        (direction == 0 ? smtp_client_line : smtp_server_line)(inspector, facts, line);
        break;
    case CREDENTIAL_PROTOCOL_HTTP:
        http_line(inspector, facts, direction, line);
        break;
    default:
        break;
    }
}

/* A newline arrived: hands the line (without CR) to the protocol, unless
 * it overflowed or holds a NUL (binary, not a command). */
static void line_end(struct credential_inspector *inspector, struct credential_facts *facts,
                     int direction)
{
    struct stream_direction *stream = &inspector->directions[direction];
    struct span line = current_line(stream);
    if (line.len > 0 && line.ptr[line.len - 1] == '\r')
        line.len--;
    if (!stream->line_overflow) {
        if (inspector->protocol == CREDENTIAL_PROTOCOL_IMAP && direction == 0 &&
            imap_literal_follows(stream, line))
            return;
        if (memchr(line.ptr, 0, line.len) == NULL)
            deliver_line(inspector, facts, direction, line);
    }
    line_reset(stream);
}

static bool stream_usable(const struct credential_inspector *inspector, int direction)
{
    return !inspector->finished && !inspector->directions[direction].closed;
}

/* The client starts TLS: after a STARTTLS it confirms the upgrade even if
 * the server's reply was not seen; without one, the session is TLS on a
 * cleartext port and has nothing to say. */
static bool tls_record_starts(struct credential_inspector *inspector,
                              struct credential_facts *facts, int direction, uint8_t byte)
{
    const struct stream_direction *stream = &inspector->directions[direction];
    if (byte != 0x16 || stream->line_len != 0 || stream->literal_left != 0)
        return false;
    if (direction == 0 && inspector->starttls_requested) {
        starttls_confirmed(inspector, facts);
        return true;
    }
    if (stream->position == 0) {
        finish(inspector);
        return true;
    }
    return false;
}

/* Text protocols: LF-terminated lines, bodies skipped by count. */
static void text_consume(struct credential_inspector *inspector, struct credential_facts *facts,
                         int direction, struct reader *r)
{
    struct stream_direction *stream = &inspector->directions[direction];
    while (reader_left(r) > 0 && stream_usable(inspector, direction)) {
        if (stream->skip > 0) {
            const size_t n = stream->skip < reader_left(r) ? (size_t)stream->skip : reader_left(r);
            reader_skip(r, n);
            stream->skip -= n;
            continue;
        }
        if (tls_record_starts(inspector, facts, direction, reader_peek(r, 0)))
            return;
        const uint8_t byte = reader_u8(r);
        if (stream->literal_left > 0) {
            line_append(stream, byte);
            stream->literal_left--;
        } else if (byte == '\n') {
            line_end(inspector, facts, direction);
        } else {
            line_append(stream, byte);
        }
    }
}

/* One data byte of Telnet (after IAC processing). */
static void telnet_data(struct credential_inspector *inspector, struct credential_facts *facts,
                        int direction, uint8_t byte)
{
    struct stream_direction *stream = &inspector->directions[direction];
    const bool after_cr = stream->after_cr;
    stream->after_cr = false;
    if (direction == 1) {
        if (byte == '\n') {
            if (!stream->line_overflow)
                telnet_server_text(inspector, facts, current_line(stream), false);
            line_reset(stream);
        } else if (byte != '\r' && byte != 0) {
            line_append(stream, byte);
        }
        return;
    }
    if (after_cr && (byte == '\n' || byte == 0))
        return; /* CR LF and CR NUL end one line, not two */
    if (byte == '\r' || byte == '\n') {
        stream->after_cr = byte == '\r';
        if (!stream->line_overflow)
            telnet_client_line(inspector, facts, current_line(stream));
        line_reset(stream);
    } else if (byte == 0x7f || byte == 0x08) {
        if (stream->line_len > 0 && !stream->line_overflow)
            stream->line[--stream->line_len] = 0; /* backspace */
    } else if (byte == 0x15) {
        line_reset(stream); /* ^U kills the line */
    } else {
        line_append(stream, byte);
    }
}

/* Telnet: strips IAC commands and option negotiation (IAC IAC is a data
 * 0xFF) before line assembly. */
static void telnet_consume(struct credential_inspector *inspector, struct credential_facts *facts,
                           int direction, struct reader *r)
{
    struct stream_direction *stream = &inspector->directions[direction];
    while (reader_left(r) > 0 && stream_usable(inspector, direction)) {
        const uint8_t byte = reader_u8(r);
        switch (stream->telnet_state) {
        case TELNET_IAC:
            if (byte == TELNET_IAC_BYTE) {
                stream->telnet_state = TELNET_DATA;
                telnet_data(inspector, facts, direction, byte);
            } else if (byte >= TELNET_WILL) {
                stream->telnet_state = TELNET_OPTION;
            } else {
                stream->telnet_state = byte == TELNET_SB_BYTE ? TELNET_SB : TELNET_DATA;
            }
            break;
        case TELNET_OPTION:
            stream->telnet_state = TELNET_DATA;
            break;
        case TELNET_SB:
            if (byte == TELNET_IAC_BYTE)
                stream->telnet_state = TELNET_SB_IAC;
            break;
        case TELNET_SB_IAC:
            stream->telnet_state = byte == TELNET_SE_BYTE ? TELNET_DATA : TELNET_SB;
            break;
        default:
            if (byte == TELNET_IAC_BYTE)
                stream->telnet_state = TELNET_IAC;
            else
                telnet_data(inspector, facts, direction, byte);
            break;
        }
    }
    if (direction == 1 && stream_usable(inspector, 1) && !stream->line_overflow &&
        stream->line_len > 0)
        telnet_server_text(inspector, facts, current_line(stream), true);
}

/* ---- LDAP (BER over TCP) ------------------------------------------------------ */

enum ber_header_status { BER_NEED_MORE, BER_BAD, BER_OK };

/* Reads a BER definite length (short form, or long form on 1 to 4 bytes). */
static bool ber_length(struct reader *r, uint32_t *length)
{
    const uint8_t first = reader_u8(r);
    if (first < 0x80) {
        *length = first;
        return !r->failed;
    }
    const uint8_t count = first & 0x7f;
    if (count == 0 || count > 4)
        return false; /* indefinite or absurd: LDAP uses neither */
    uint32_t value = 0;
    for (uint8_t i = 0; i < count; i++)
        value = (value << 8) | reader_u8(r);
    *length = value;
    return !r->failed;
}

/* Sizes the LDAPMessage at the start of the buffer: a SEQUENCE (0x30)
 * with a definite length. */
static enum ber_header_status ber_message_size(const uint8_t *data, size_t len, uint32_t *total)
{
    struct reader r = reader_make(data, len);
    if (reader_left(&r) == 0)
        return BER_NEED_MORE;
    if (reader_u8(&r) != 0x30)
        return BER_BAD;
    if (reader_left(&r) == 0)
        return BER_NEED_MORE;
    const uint8_t first = reader_peek(&r, 0);
    if (first == 0x80 || first > 0x84)
        return BER_BAD; /* indefinite or absurd: LDAP uses neither */
    uint32_t length = 0;
    if (!ber_length(&r, &length))
        return BER_NEED_MORE; /* only the length bytes can be missing now */
    const size_t header = len - reader_left(&r);
    if (length > UINT32_MAX - header)
        return BER_BAD;
    *total = (uint32_t)(header + length);
    return BER_OK;
}

/* Reads one element with `tag` and returns a reader over its content. */
static struct reader ber_element(struct reader *r, uint8_t tag)
{
    uint32_t length = 0;
    if (reader_u8(r) != tag || !ber_length(r, &length))
        r->failed = true;
    return reader_sub(r, r->failed ? 0 : length);
}

/* Reads a small INTEGER or ENUMERATED (1 to 4 bytes, sign kept). */
static int32_t ber_integer(struct reader *r, uint8_t tag)
{
    struct reader value = ber_element(r, tag);
    const size_t len = reader_left(&value);
    if (r->failed || len == 0 || len > 4) {
        r->failed = true;
        return 0;
    }
    int32_t result = (reader_peek(&value, 0) & 0x80) ? -1 : 0;
    for (size_t i = 0; i < len; i++)
        result = (int32_t)(((uint32_t)result << 8) | reader_u8(&value));
    return result;
}

static struct span reader_rest(struct reader *r)
{
    return span_take(r, reader_left(r));
}

/* The user of an LDAP DN: the value of its first RDN ("cn=admin,dc=x" ->
 * "admin"); a name without '=' (user@domain, DOMAIN\user) is kept whole. */
static struct span ldap_user(struct span dn)
{
    struct span attribute, value, rest;
    if (!span_split(dn, '=', &attribute, &value) || memchr(attribute.ptr, ',', attribute.len))
        return dn;
    span_split(value, ',', &value, &rest);
    return trim_right(value);
}

/* BindRequest ::= [APPLICATION 0] { version, name, authentication }. */
static void ldap_bind_request(struct credential_inspector *inspector,
                              struct credential_facts *facts, int32_t message_id,
                              struct reader *op)
{
    (void)ber_integer(op, 0x02); /* version */
    struct reader name_reader = ber_element(op, 0x04);
    const struct span name = reader_rest(&name_reader);
    const uint8_t auth_tag = reader_peek(op, 0);
    if (op->failed)
        return;
    int fact = -1;
    if (auth_tag == 0x80) {
        struct reader password_reader = ber_element(op, 0x80);
        const struct span password = reader_rest(&password_reader);
        if (op->failed || password.len == 0)
            return; /* an empty password is an anonymous bind: no credential */
        fact = credential_event(inspector, facts, "simple bind", CREDENTIAL_PASSWORD,
                                ldap_user(name), password);
    } else if (auth_tag == 0xa3) {
        struct reader sasl = ber_element(op, 0xa3);
        struct reader mechanism_reader = ber_element(&sasl, 0x04);
        const struct span mechanism = reader_rest(&mechanism_reader);
        if (sasl.failed || !span_is(mechanism, "PLAIN") || reader_left(&sasl) == 0)
            return;
        struct reader credentials_reader = ber_element(&sasl, 0x04);
        const struct span credentials = reader_rest(&credentials_reader);
        struct span authzid, rest, authcid, password;
        if (sasl.failed || !span_split(credentials, 0, &authzid, &rest) ||
            !span_split(rest, 0, &authcid, &password))
            return;
        fact = credential_event(inspector, facts, "SASL PLAIN", CREDENTIAL_PASSWORD,
                                authcid.len > 0 ? authcid : authzid, password);
    } else {
        return;
    }
    const struct span no_tag = {NULL, 0};
    tag_add(inspector, no_tag, message_id, PENDING_LOGIN, fact);
}

/* A BindResponse or ExtendedResponse: resultCode first. */
static void ldap_response(struct credential_inspector *inspector, struct credential_facts *facts,
                          int32_t message_id, struct reader *op)
{
    const int32_t result = ber_integer(op, 0x0a);
    const struct span no_tag = {NULL, 0};
    struct tagged entry;
    if (op->failed || !tag_take(inspector, no_tag, message_id, &entry))
        return;
    if (result == 14) { /* saslBindInProgress: the exchange goes on */
        tag_add(inspector, no_tag, message_id, entry.kind, entry.fact);
        return;
    }
    struct pending pending = {entry.kind, {entry.fact, -1}};
    apply_reply(inspector, facts, &pending, result == 0, result != 0);
}

/* One complete LDAPMessage ::= SEQUENCE { messageID, protocolOp, ... }. */
static void ldap_message(struct credential_inspector *inspector, struct credential_facts *facts,
                         int direction, const uint8_t *data, size_t len)
{
    static const char starttls_oid[] = "1.3.6.1.4.1.1466.20037";
    struct reader r = reader_make(data, len);
    struct reader message = ber_element(&r, 0x30);
    const int32_t message_id = ber_integer(&message, 0x02);
    const uint8_t op_tag = reader_peek(&message, 0);
    struct reader op = ber_element(&message, op_tag);
    if (message.failed)
        return;
    if (direction == 0 && op_tag == 0x60) {
        ldap_bind_request(inspector, facts, message_id, &op);
    } else if (direction == 0 && op_tag == 0x77) {
        struct reader name_reader = ber_element(&op, 0x80);
        const struct span name = reader_rest(&name_reader);
        if (!op.failed && name.len == sizeof(starttls_oid) - 1 &&
            memcmp(name.ptr, starttls_oid, name.len) == 0) {
            const struct span no_tag = {NULL, 0};
            inspector->starttls_requested = true;
            tag_add(inspector, no_tag, message_id, PENDING_STARTTLS, -1);
        }
    } else if (direction == 1 && (op_tag == 0x61 || op_tag == 0x78)) {
        ldap_response(inspector, facts, message_id, &op);
    }
}

/* LDAP: collects each BER message (up to the line buffer size) and parses
 * it whole; bigger messages (search results) are skipped by length. */
static void ldap_consume(struct credential_inspector *inspector, struct credential_facts *facts,
                         int direction, struct reader *r)
{
    struct stream_direction *stream = &inspector->directions[direction];
    while (reader_left(r) > 0 && stream_usable(inspector, direction)) {
        if (stream->skip > 0) {
            const size_t n = stream->skip < reader_left(r) ? (size_t)stream->skip : reader_left(r);
            reader_skip(r, n);
            stream->skip -= n;
            continue;
        }
        if (tls_record_starts(inspector, facts, direction, reader_peek(r, 0)))
            return;
        line_append(stream, reader_u8(r));
        if (stream->message_total == 0) {
            const enum ber_header_status status =
                ber_message_size(stream->line, stream->line_len, &stream->message_total);
            if (status == BER_BAD) {
                stream->closed = true; /* not LDAP */
                line_reset(stream);
                return;
            }
            if (status == BER_NEED_MORE)
                continue;
            if (stream->message_total > CREDENTIAL_LINE_MAX) {
                stream->skip = stream->message_total - stream->line_len;
                stream->message_total = 0;
                line_reset(stream);
                continue;
            }
        }
        if (stream->line_len == stream->message_total) {
            ldap_message(inspector, facts, direction, stream->line, stream->line_len);
            stream->message_total = 0;
            line_reset(stream);
        }
    }
}

/* ---- public entry points ---------------------------------------------------- */

struct credential_inspector *credential_inspector_create(enum credential_protocol protocol,
                                                         const struct default_credentials *defaults)
{
    struct credential_inspector *inspector = calloc(1, sizeof(*inspector));
    if (inspector == NULL)
        return NULL;
    inspector->protocol = protocol;
    inspector->defaults = defaults;
    inspector->telnet_fact = -1;
    inspector->sasl.fact = -1;
    if (protocol == CREDENTIAL_PROTOCOL_NONE || protocol > CREDENTIAL_PROTOCOL_SNMP)
        inspector->finished = true;
    return inspector;
}

/* Wipes every buffer (line buffers, remembered user) before freeing. */
void credential_inspector_destroy(struct credential_inspector *inspector)
{
    if (inspector == NULL)
        return;
    explicit_bzero(inspector, sizeof(*inspector));
    free(inspector);
}

bool credential_inspector_done(const struct credential_inspector *inspector)
{
    return inspector == NULL || inspector->finished ||
           (inspector->directions[0].closed && inspector->directions[1].closed);
}

/* Trims what the direction already consumed (retransmissions, overlaps);
 * returns false for a segment past a gap (which ends the direction) or
 * with nothing new. */
static bool stream_accept(struct stream_direction *stream, uint32_t seq, struct reader *r)
{
    if (!stream->started) {
        stream->started = true;
        stream->next_seq = seq;
    }
    const int32_t offset = (int32_t)(seq - stream->next_seq);
    if (offset > 0) {
        stream->closed = true;
        line_reset(stream);
        return false;
    }
    const size_t already = (size_t)(-(int64_t)offset);
    if (already >= reader_left(r))
        return false;
    reader_skip(r, already);
    stream->next_seq += (uint32_t)reader_left(r);
    return true;
}

void credential_inspector_feed(struct credential_inspector *inspector, int direction, uint32_t seq,
                               const uint8_t *payload, uint32_t len, struct credential_facts *facts)
{
    if (inspector == NULL || facts == NULL || payload == NULL || len == 0 ||
        (direction != 0 && direction != 1) || !stream_usable(inspector, direction))
        return;
    struct stream_direction *stream = &inspector->directions[direction];
    if (inspector->protocol == CREDENTIAL_PROTOCOL_SNMP) {
        /* one datagram, one message: no stream, only the byte budget */
        stream->position += len < CREDENTIAL_STREAM_CAP ? len : CREDENTIAL_STREAM_CAP;
        snmp_inspect_message(payload, len, direction, inspector->defaults, facts);
        if (stream->position >= CREDENTIAL_STREAM_CAP)
            stream->closed = true;
        return;
    }
    struct reader segment = reader_make(payload, len);
    if (!stream_accept(stream, seq, &segment))
        return;
    size_t n = reader_left(&segment);
    if (n > CREDENTIAL_STREAM_CAP - stream->position)
        n = CREDENTIAL_STREAM_CAP - stream->position;
    struct reader r = reader_sub(&segment, n);
    if (inspector->protocol == CREDENTIAL_PROTOCOL_TELNET)
        telnet_consume(inspector, facts, direction, &r);
    else if (inspector->protocol == CREDENTIAL_PROTOCOL_LDAP)
        ldap_consume(inspector, facts, direction, &r);
    else
        text_consume(inspector, facts, direction, &r);
    stream->position += (uint32_t)n;
    if (stream->position >= CREDENTIAL_STREAM_CAP) {
        stream->closed = true;
        line_reset(stream);
    }
}

/* ---- protocol guess ----------------------------------------------------- */

static enum credential_protocol guess_from_port(uint8_t ip_proto, uint16_t port)
{
    if (ip_proto == 17)
        return (port == 161 || port == 162) ? CREDENTIAL_PROTOCOL_SNMP : CREDENTIAL_PROTOCOL_NONE;
    if (ip_proto != 6)
        return CREDENTIAL_PROTOCOL_NONE;
    switch (port) {
    case 23: return CREDENTIAL_PROTOCOL_TELNET;
    case 21: return CREDENTIAL_PROTOCOL_FTP;
    case 80:
    case 8000:
    case 8008:
    case 8080:
    case 8888: return CREDENTIAL_PROTOCOL_HTTP;
    case 110: return CREDENTIAL_PROTOCOL_POP3;
    case 143: return CREDENTIAL_PROTOCOL_IMAP;
    case 25:
    case 587: return CREDENTIAL_PROTOCOL_SMTP;
    case 389: return CREDENTIAL_PROTOCOL_LDAP;
    default: return CREDENTIAL_PROTOCOL_NONE;
    }
}

/* An HTTP request line: METHOD SP target SP HTTP/1.x. */
static bool is_http_request(struct span first_line)
{
    static const char *const methods[] = {"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS",
                                          "PATCH", "CONNECT", "TRACE"};
    struct reader r = reader_make(first_line.ptr, first_line.len);
    const struct span method = read_word(&r);
    const struct span target = read_word(&r);
    const struct span version = read_word(&r);
    bool known = false;
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        known = known || (method.len == strlen(methods[i]) &&
                          memcmp(method.ptr, methods[i], method.len) == 0);
    return known && target.len > 0 && span_starts_with(version, "HTTP/1.");
}

/* An LDAPMessage carrying a BindRequest. */
static bool is_ldap_bind(const uint8_t *data, uint32_t len)
{
    struct reader r = reader_make(data, len);
    struct reader message = ber_element(&r, 0x30);
    (void)ber_integer(&message, 0x02);
    return !message.failed && reader_peek(&message, 0) == 0x60;
}

static enum credential_protocol guess_from_content(const uint8_t *data, uint32_t len,
                                                   bool from_client)
{
    struct reader r = reader_make(data, len);
    size_t n = 0;
    while (n < len && reader_peek(&r, n) != '\n')
        n++;
    struct span line = span_take(&r, n);
    if (line.len > 0 && line.ptr[line.len - 1] == '\r')
        line.len--;
    const struct reader start = reader_make(data, len);
    if (reader_peek(&start, 0) == TELNET_IAC_BYTE && reader_peek(&start, 1) >= TELNET_WILL)
        return CREDENTIAL_PROTOCOL_TELNET;
    if (from_client) {
        if (is_http_request(line))
            return CREDENTIAL_PROTOCOL_HTTP;
        if (is_ldap_bind(data, len))
            return CREDENTIAL_PROTOCOL_LDAP;
        if (span_starts_with(line, "USER "))
            return CREDENTIAL_PROTOCOL_FTP;
        return CREDENTIAL_PROTOCOL_NONE;
    }
    if (span_starts_with(line, "+OK"))
        return CREDENTIAL_PROTOCOL_POP3;
    if (span_starts_with(line, "* OK"))
        return CREDENTIAL_PROTOCOL_IMAP;
    if (span_starts_with(line, "220 ") || span_starts_with(line, "220-"))
        return span_contains(line, "SMTP") ? CREDENTIAL_PROTOCOL_SMTP : CREDENTIAL_PROTOCOL_FTP;
    return CREDENTIAL_PROTOCOL_NONE;
}

enum credential_protocol credential_protocol_guess(uint8_t ip_proto, uint16_t server_port,
                                                   const uint8_t *first_payload, uint32_t len,
                                                   bool from_client)
{
    const enum credential_protocol by_port = guess_from_port(ip_proto, server_port);
    if (by_port != CREDENTIAL_PROTOCOL_NONE || first_payload == NULL || len == 0)
        return by_port;
    if (ip_proto == 17) {
        const uint8_t version = snmp_message_version(first_payload, len);
        return (version == 1 || version == 2) ? CREDENTIAL_PROTOCOL_SNMP
                                              : CREDENTIAL_PROTOCOL_NONE;
    }
    if (ip_proto != 6)
        return CREDENTIAL_PROTOCOL_NONE;
    return guess_from_content(first_payload, len, from_client);
}
