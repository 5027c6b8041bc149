/* Unit tests for inspect_credentials: per-protocol transcripts (as real
 * clients and servers send them) fed whole, one byte per segment, with
 * retransmissions and overlaps, out of order, truncated; over-long lines
 * and garbage. Every test also checks that no planted secret appears
 * anywhere in the facts. All passwords here are test data. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxaudit/inspect_credentials.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/data"
#endif

struct message {
    int direction; /* 0 client->server, 1 server->client */
    const char *bytes;
    size_t len;
};

#define C(s) {0, s, sizeof(s) - 1}
#define S(s) {1, s, sizeof(s) - 1}
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

enum feed_mode { FEED_WHOLE, FEED_BYTES, FEED_RETRANSMIT, FEED_SWAP };

/* Initial sequence numbers: the server's wraps around 2^32 mid-session. */
static const uint32_t initial_seq[2] = {1000u, 0xfffffff0u};

static struct default_credentials *table;

static void table_setup(void)
{
    static const char text[] = "login admin admin\n"
                               "login root toor\n"
                               "login - cisco\n"
                               "login biomed Change\\sMe\n"
                               "community public\n"
                               "community private\n";
    struct diag diag;
    diag_init(&diag);
    table = default_credentials_parse("test", text, sizeof(text) - 1, &diag);
    diag_free(&diag);
}

static void table_teardown(void)
{
    default_credentials_free(table);
    table = NULL;
}

/* Feeds a heap copy of exactly `len` bytes, so ASan sees any overread. */
static void feed_copy(struct credential_inspector *inspector, int direction, uint32_t seq,
                      const char *bytes, size_t len, struct credential_facts *facts)
{
    uint8_t *copy = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, bytes, len);
    credential_inspector_feed(inspector, direction, seq, copy, (uint32_t)len, facts);
    free(copy);
}

static void feed_message(struct credential_inspector *inspector, const struct message *m,
                         uint32_t seq, enum feed_mode mode, struct credential_facts *facts)
{
    /* Swapping the first segment of a direction would model a capture
     * that starts mid-stream, not reordering: keep those in order. */
    if (mode == FEED_SWAP && seq == initial_seq[m->direction])
        mode = FEED_WHOLE;
    const size_t half = m->len / 2;
    switch (mode) {
    case FEED_WHOLE:
        feed_copy(inspector, m->direction, seq, m->bytes, m->len, facts);
        break;
    case FEED_BYTES:
        for (size_t i = 0; i < m->len; i++)
            feed_copy(inspector, m->direction, seq + (uint32_t)i, m->bytes + i, 1, facts);
        break;
    case FEED_RETRANSMIT: {
        /* first half, the same again, then an overlap re-sending one old
         * byte with the rest, then the whole segment once more */
        const size_t back = half > 0 ? half - 1 : 0;
        feed_copy(inspector, m->direction, seq, m->bytes, half, facts);
        feed_copy(inspector, m->direction, seq, m->bytes, half, facts);
        feed_copy(inspector, m->direction, seq + (uint32_t)back, m->bytes + back, m->len - back,
                  facts);
        feed_copy(inspector, m->direction, seq, m->bytes, m->len, facts);
        break;
    }
    default: /* FEED_SWAP: second half first */
        feed_copy(inspector, m->direction, seq + (uint32_t)half, m->bytes + half, m->len - half,
                  facts);
        feed_copy(inspector, m->direction, seq, m->bytes, half, facts);
        break;
    }
}

/* Runs a transcript; returns whether the inspector said it was done. */
static bool run(enum credential_protocol protocol, const struct message *messages, size_t count,
                enum feed_mode mode, struct credential_facts *facts)
{
    memset(facts, 0, sizeof(*facts));
    struct credential_inspector *inspector = credential_inspector_create(protocol, table);
    ck_assert_ptr_nonnull(inspector);
    uint32_t seq[2] = {initial_seq[0], initial_seq[1]};
    for (size_t i = 0; i < count; i++) {
        const struct message *m = &messages[i];
        feed_message(inspector, m, seq[m->direction], mode, facts);
        seq[m->direction] += (uint32_t)m->len;
    }
    const bool done = credential_inspector_done(inspector);
    credential_inspector_destroy(inspector);
    return done;
}

static void assert_fact(const struct credential_facts *facts, size_t index, const char *protocol,
                        const char *method, enum credential_kind kind, const char *masked,
                        int accepted, bool is_default, uint32_t count)
{
    ck_assert_uint_gt(facts->count, index);
    const struct credential_fact *f = &facts->items[index];
    ck_assert_str_eq(f->protocol, protocol);
    ck_assert_str_eq(f->method, method);
    ck_assert_int_eq(f->kind, kind);
    ck_assert_str_eq(f->masked_user, masked);
    ck_assert_int_eq(f->accepted, accepted);
    ck_assert_int_eq(f->default_credential, is_default);
    ck_assert_uint_eq(f->count, count);
}

static void assert_no_secret(const struct credential_facts *facts, const char *secret)
{
    ck_assert_msg(memmem(facts, sizeof(*facts), secret, strlen(secret)) == NULL,
                  "a secret leaked into the facts");
}

static bool same_event(const struct credential_fact *a, const struct credential_fact *b)
{
    return strcmp(a->protocol, b->protocol) == 0 && strcmp(a->method, b->method) == 0 &&
           strcmp(a->masked_user, b->masked_user) == 0 && a->kind == b->kind;
}

/* Every event of `partial` is an event of `full`, seen no more often: a
 * damaged stream may lose events, never invent or duplicate them. */
static void assert_subset(const struct credential_facts *partial,
                          const struct credential_facts *full)
{
    ck_assert_uint_le(partial->count, full->count);
    for (size_t i = 0; i < partial->count; i++) {
        bool found = false;
        for (size_t j = 0; j < full->count && !found; j++) {
            if (!same_event(&partial->items[i], &full->items[j]))
                continue;
            found = true;
            ck_assert_uint_le(partial->items[i].count, full->items[j].count);
            ck_assert(!partial->items[i].default_credential ||
                      full->items[j].default_credential);
        }
        ck_assert_msg(found, "invented event %s %s", partial->items[i].protocol,
                      partial->items[i].method);
    }
}

/* Prints facts (masked users only: nothing secret) when a check fails. */
static void dump(const char *label, const struct credential_facts *facts)
{
    fprintf(stderr, "%s: count %u dropped %u starttls %d\n", label, facts->count, facts->dropped,
            facts->starttls);
    for (size_t i = 0; i < facts->count && i < FACT_CREDENTIALS_MAX; i++) {
        const struct credential_fact *f = &facts->items[i];
        fprintf(stderr, "  %s %s kind %d user '%s' accepted %d default %d count %u\n",
                f->protocol, f->method, f->kind, f->masked_user, f->accepted,
                f->default_credential, f->count);
    }
}

/* Runs a transcript in every mode: whole, byte by byte and retransmitted
 * must give exactly `expected`; out of order and every truncation a subset
 * of it; and no mode may leak any of `secrets`. */
static void run_all_modes(enum credential_protocol protocol, const struct message *messages,
                          size_t count, struct credential_facts *expected,
                          const char *const *secrets)
{
    run(protocol, messages, count, FEED_WHOLE, expected);
    struct credential_facts got;
    for (int mode = FEED_BYTES; mode <= FEED_RETRANSMIT; mode++) {
        run(protocol, messages, count, (enum feed_mode)mode, &got);
        if (memcmp(&got, expected, sizeof(got)) != 0) {
            dump("whole", expected);
            dump("other mode", &got);
        }
        ck_assert_msg(memcmp(&got, expected, sizeof(got)) == 0, "mode %d differs", mode);
    }
    run(protocol, messages, count, FEED_SWAP, &got);
    assert_subset(&got, expected);
    /* truncated transcripts: the first i messages, then a part of the next */
    for (size_t i = 0; i < count; i++) {
        for (size_t cut = 0; cut < messages[i].len; cut += 1 + messages[i].len / 7) {
            struct message prefix[64];
            ck_assert_uint_le(i + 1, COUNT(prefix));
            memcpy(prefix, messages, i * sizeof(*messages));
            prefix[i] = messages[i];
            prefix[i].len = cut;
            run(protocol, prefix, i + 1, FEED_WHOLE, &got);
            if (got.count > expected->count) {
                fprintf(stderr, "message %zu cut %zu\n", i, cut);
                dump("truncated", &got);
            }
            assert_subset(&got, expected);
        }
    }
    for (size_t s = 0; secrets[s] != NULL; s++) {
        assert_no_secret(expected, secrets[s]);
        run(protocol, messages, count, FEED_BYTES, &got);
        assert_no_secret(&got, secrets[s]);
    }
}

/* ---- masking --------------------------------------------------------- */

START_TEST(test_mask_user)
{
    char out[FACT_MASKED_USER_MAX];
    credential_mask_user("admin", 5, out, sizeof(out));
    ck_assert_str_eq(out, "ad***");
    credential_mask_user("a", 1, out, sizeof(out));
    ck_assert_str_eq(out, "a***");
    credential_mask_user("", 0, out, sizeof(out));
    ck_assert_str_eq(out, "");
    credential_mask_user(NULL, 4, out, sizeof(out));
    ck_assert_str_eq(out, "");
    credential_mask_user("\x01\xc3\xa9x", 4, out, sizeof(out));
    ck_assert_str_eq(out, "??***");
    credential_mask_user("ab", 2, out, sizeof(out));
    ck_assert_str_eq(out, "ab***");
    credential_mask_user("admin", 5, out, 3);
    ck_assert_str_eq(out, "ad");
    credential_mask_user("admin", 5, out, 1);
    ck_assert_str_eq(out, "");
    out[0] = 'x';
    credential_mask_user("admin", 5, out, 0);
    ck_assert_int_eq(out[0], 'x');
}
END_TEST

/* ---- protocol guess -------------------------------------------------- */

START_TEST(test_protocol_guess)
{
    ck_assert_int_eq(credential_protocol_guess(6, 23, NULL, 0, true), CREDENTIAL_PROTOCOL_TELNET);
    ck_assert_int_eq(credential_protocol_guess(6, 21, NULL, 0, true), CREDENTIAL_PROTOCOL_FTP);
    ck_assert_int_eq(credential_protocol_guess(6, 80, NULL, 0, true), CREDENTIAL_PROTOCOL_HTTP);
    ck_assert_int_eq(credential_protocol_guess(6, 8080, NULL, 0, true), CREDENTIAL_PROTOCOL_HTTP);
    ck_assert_int_eq(credential_protocol_guess(6, 8888, NULL, 0, true), CREDENTIAL_PROTOCOL_HTTP);
    ck_assert_int_eq(credential_protocol_guess(6, 110, NULL, 0, true), CREDENTIAL_PROTOCOL_POP3);
    ck_assert_int_eq(credential_protocol_guess(6, 143, NULL, 0, true), CREDENTIAL_PROTOCOL_IMAP);
    ck_assert_int_eq(credential_protocol_guess(6, 25, NULL, 0, true), CREDENTIAL_PROTOCOL_SMTP);
    ck_assert_int_eq(credential_protocol_guess(6, 587, NULL, 0, true), CREDENTIAL_PROTOCOL_SMTP);
    ck_assert_int_eq(credential_protocol_guess(6, 389, NULL, 0, true), CREDENTIAL_PROTOCOL_LDAP);
    ck_assert_int_eq(credential_protocol_guess(17, 161, NULL, 0, true), CREDENTIAL_PROTOCOL_SNMP);
    ck_assert_int_eq(credential_protocol_guess(17, 162, NULL, 0, true), CREDENTIAL_PROTOCOL_SNMP);
    ck_assert_int_eq(credential_protocol_guess(17, 23, NULL, 0, true), CREDENTIAL_PROTOCOL_NONE);
    ck_assert_int_eq(credential_protocol_guess(6, 161, NULL, 0, true), CREDENTIAL_PROTOCOL_NONE);
    ck_assert_int_eq(credential_protocol_guess(6, 443, NULL, 0, true), CREDENTIAL_PROTOCOL_NONE);
    ck_assert_int_eq(credential_protocol_guess(1, 80, NULL, 0, true), CREDENTIAL_PROTOCOL_NONE);

    static const struct {
        const char *bytes;
        size_t len;
        bool from_client;
        enum credential_protocol expected;
    } cases[] = {
        {"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n", 37, true, CREDENTIAL_PROTOCOL_HTTP},
        {"POST /api HTTP/1.0\r\n", 20, true, CREDENTIAL_PROTOCOL_HTTP},
        {"GET /index.html HTTP/2\r\n", 24, true, CREDENTIAL_PROTOCOL_NONE},
        {"get / HTTP/1.1\r\n", 16, true, CREDENTIAL_PROTOCOL_NONE},
        {"220 (vsFTPd 3.0.3)\r\n", 20, false, CREDENTIAL_PROTOCOL_FTP},
        {"220-FileZilla Server\r\n", 22, false, CREDENTIAL_PROTOCOL_FTP},
        {"220 mail.example.org ESMTP Postfix\r\n", 36, false, CREDENTIAL_PROTOCOL_SMTP},
        {"+OK Dovecot ready.\r\n", 20, false, CREDENTIAL_PROTOCOL_POP3},
        {"* OK [CAPABILITY IMAP4rev1] ready\r\n", 35, false, CREDENTIAL_PROTOCOL_IMAP},
        {"USER admin\r\n", 12, true, CREDENTIAL_PROTOCOL_FTP},
        {"\xff\xfd\x18\xff\xfd\x20", 6, false, CREDENTIAL_PROTOCOL_TELNET},
        {"\x30\x0c\x02\x01\x01\x60\x07\x02\x01\x03\x04\x00\x80\x00", 14, true,
         CREDENTIAL_PROTOCOL_LDAP},
        {"\x30\x0c\x02\x01\x01\x61\x07\x0a\x01\x00\x04\x00\x04\x00", 14, true,
         CREDENTIAL_PROTOCOL_NONE},
        {"\x16\x03\x01\x00\x05hello", 10, true, CREDENTIAL_PROTOCOL_NONE},
        {"220", 3, false, CREDENTIAL_PROTOCOL_NONE},
        {"", 0, false, CREDENTIAL_PROTOCOL_NONE},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        uint8_t *copy = malloc(cases[i].len ? cases[i].len : 1);
        memcpy(copy, cases[i].bytes, cases[i].len);
        ck_assert_msg(credential_protocol_guess(6, 4000, copy, (uint32_t)cases[i].len,
                                                cases[i].from_client) == cases[i].expected,
                      "case %zu", i);
        free(copy);
    }
    static const uint8_t snmp[] = {0x30, 0x1a, 0x02, 0x01, 0x01, 0x04, 0x06, 'p', 'u', 'b',
                                   'l', 'i', 'c', 0xa0, 0x0d, 0x02, 0x01, 0x01, 0x02, 0x01,
                                   0x00, 0x02, 0x01, 0x00, 0x30, 0x02, 0x30, 0x00};
    ck_assert_int_eq(credential_protocol_guess(17, 1161, snmp, sizeof(snmp), true),
                     CREDENTIAL_PROTOCOL_SNMP);
    ck_assert_int_eq(credential_protocol_guess(17, 1161, (const uint8_t *)"hello", 5, true),
                     CREDENTIAL_PROTOCOL_NONE);
}
END_TEST

/* ---- Telnet ------------------------------------------------------------ */

/* A Linux telnetd session as inetutils telnet drives it: option
 * negotiation, the login prompt, the user echoed, the password not. */
static const struct message telnet_accepted[] = {
    S("\xff\xfd\x18\xff\xfd\x20\xff\xfd\x23\xff\xfd\x27"),
    C("\xff\xfb\x18\xff\xfb\x20\xff\xfb\x23\xff\xfb\x27"),
    S("\xff\xfa\x20\x01\xff\xf0\xff\xfa\x23\x01\xff\xf0\xff\xfa\x18\x01\xff\xf0"),
    C("\xff\xfa\x20\x00\x33\x38\x34\x30\x30\x2c\x33\x38\x34\x30\x30\xff\xf0"
      "\xff\xfa\x18\x00XTERM-256COLOR\xff\xf0"),
    S("\xff\xfb\x03\xff\xfd\x01\xff\xfb\x05\xff\xfd\x21"),
    C("\xff\xfd\x03\xff\xfc\x01\xff\xfe\x05\xff\xfc\x21"),
    S("\xff\xfb\x01\r\nDebian GNU/Linux 12\r\n"),
    S("pump-07 login: "),
    C("a"), S("a"), C("d"), S("d"), C("m"), S("m"), C("x"), S("x"), C("\x7f"), S("\b \b"),
    C("i"), S("i"), C("n"), S("n"), C("\r\0"), S("\r\n"),
    S("Password: "),
    C("admin\r\n"),
    S("\r\nLast login: Tue Mar  4 10:12:01 UTC 2025 from 10.1.2.3 on pts/0\r\n"
      "Linux pump-07 6.1.0-18-amd64 #1 SMP Debian 6.1.76-1 x86_64\r\n"),
    S("svc@pump-07:~$ "),
    C("ls\r\n"), S("ls\r\nfirmware.bin\r\nsvc@pump-07:~$ "),
};

START_TEST(test_telnet_accepted_default)
{
    static const char *const secrets[] = {"admin\r", NULL};
    struct credential_facts facts;
    run_all_modes(CREDENTIAL_PROTOCOL_TELNET, telnet_accepted, COUNT(telnet_accepted), &facts,
                  secrets);
    ck_assert_uint_eq(facts.count, 1);
    assert_fact(&facts, 0, "Telnet", "login", CREDENTIAL_PASSWORD, "ad***", 1, true, 1);
    ck_assert_uint_eq(facts.dropped, 0);
    ck_assert(!facts.starttls);
}
END_TEST

static const struct message telnet_refused_then_ok[] = {
    S("\xff\xfd\x18"), C("\xff\xfc\x18"),
    S("\r\nUbuntu 22.04 LTS\r\nmonitor login: "),
    C("nurse\r\n"),
    S("Password: "),
    C("Wr0ng-P\xff\xffss\r\n"),
    S("\r\n"),
    S("Login incorrect\r\nmonitor login: "),
    C("root\r\n"),
    S("Password: "),
    C("toor\r\n"),
    S("\r\nWelcome to Ubuntu 22.04 LTS\r\n\r\nroot@monitor:~# "),
};

START_TEST(test_telnet_refused_then_accepted)
{
    static const char *const secrets[] = {"Wr0ng", "toor", NULL};
    struct credential_facts facts;
    run_all_modes(CREDENTIAL_PROTOCOL_TELNET, telnet_refused_then_ok,
                  COUNT(telnet_refused_then_ok), &facts, secrets);
    ck_assert_uint_eq(facts.count, 2);
    assert_fact(&facts, 0, "Telnet", "login", CREDENTIAL_PASSWORD, "nu***", 0, false, 1);
    assert_fact(&facts, 1, "Telnet", "login", CREDENTIAL_PASSWORD, "ro***", 1, true, 1);
}
END_TEST

/* A Cisco-style password-only prompt; the refused attempt then the good. */
static const struct message telnet_password_only[] = {
    S("\xff\xfb\x01\xff\xfb\x03\xff\xfd\x18\xff\xfd\x1f"),
    C("\xff\xfd\x01\xff\xfd\x03\xff\xfc\x18\xff\xfc\x1f"),
    S("\r\n\r\nUser Access Verification\r\n\r\nPassword: "),
    C("letmein\r\n"),
    S("\r\n% Bad passwords\r\n\r\nPassword: "),
    C("cisco\r\n"),
    S("\r\nSwitch-OR2>"),
    C("enable\r\n"),
    S("\r\nPassword: "),
    C("3nable-S3cret\r\n"),
    S("\r\nSwitch-OR2#"),
};

START_TEST(test_telnet_password_only)
{
    static const char *const secrets[] = {"letmein", "cisco", "3nable", NULL};
    struct credential_facts facts;
    run_all_modes(CREDENTIAL_PROTOCOL_TELNET, telnet_password_only,
                  COUNT(telnet_password_only), &facts, secrets);
    /* three passwords without user, one event kind: merged, counted; the
     * enable password is one more password crossing in clear */
    ck_assert_uint_eq(facts.count, 1);
    assert_fact(&facts, 0, "Telnet", "login", CREDENTIAL_PASSWORD, "", 1, true, 3);
}
END_TEST

/* ---- FTP -------------------------------------------------------------- */

static const struct message ftp_session[] = {
    S("220 (vsFTPd 3.0.3)\r\n"),
    C("USER admin\r\n"),
    S("331 Please specify the password.\r\n"),
    C("PASS admin\r\n"),
    S("230-Welcome to the PACS export area.\r\n230-Authorized use only.\r\n"
      "230 Login successful.\r\n"),
    C("SYST\r\n"),
    S("215 UNIX Type: L8\r\n"),
    C("USER tech2\r\n"),
    S("331 Please specify the password.\r\n"),
    C("PASS S3rv1ce-Key!\r\n"),
    S("530 Login incorrect.\r\n"),
    C("QUIT\r\n"),
    S("221 Goodbye.\r\n"),
};

START_TEST(test_ftp)
{
    static const char *const secrets[] = {"S3rv1ce", "admin\r", NULL};
    struct credential_facts facts;
    run_all_modes(CREDENTIAL_PROTOCOL_FTP, ftp_session, COUNT(ftp_session), &facts, secrets);
    ck_assert_uint_eq(facts.count, 2);
    assert_fact(&facts, 0, "FTP", "USER/PASS", CREDENTIAL_PASSWORD, "ad***", 1, true, 1);
    assert_fact(&facts, 1, "FTP", "USER/PASS", CREDENTIAL_PASSWORD, "te***", 0, false, 1);
}
END_TEST

static const struct message ftp_auth_tls[] = {
    S("220 ProFTPD Server ready.\r\n"),
    C("AUTH TLS\r\n"),
    S("234 AUTH TLS successful\r\n"),
    C("\x16\x03\x01\x00\x50USER admin\r\nPASS admin\r\n"),
    S("\x16\x03\x03\x00\x40 230 ok\r\n"),
};

START_TEST(test_ftp_auth_tls)
{
    static const char *const secrets[] = {NULL};
    struct credential_facts facts;
    run_all_modes(CREDENTIAL_PROTOCOL_FTP, ftp_auth_tls, COUNT(ftp_auth_tls), &facts, secrets);
    ck_assert_uint_eq(facts.count, 0);
    ck_assert(facts.starttls);
    ck_assert(run(CREDENTIAL_PROTOCOL_FTP, ftp_auth_tls, 3, FEED_WHOLE, &facts));
    ck_assert(facts.starttls);
    /* refused AUTH TLS: the session goes on in clear */
    static const struct message refused[] = {
        S("220 ready\r\n"), C("AUTH TLS\r\n"), S("534 not available\r\n"),
        C("USER admin\r\n"), S("331 pw\r\n"), C("PASS admin\r\n"), S("230 ok\r\n"),
    };
    ck_assert(!run(CREDENTIAL_PROTOCOL_FTP, refused, COUNT(refused), FEED_WHOLE, &facts));
    ck_assert(!facts.starttls);
    assert_fact(&facts, 0, "FTP", "USER/PASS", CREDENTIAL_PASSWORD, "ad***", 1, true, 1);
}
END_TEST

/* ---- HTTP --------------------------------------------------------------- */

static const struct message http_keepalive[] = {
    /* Basic admin:admin, accepted */
    C("GET /cgi-bin/config HTTP/1.1\r\nHost: 10.20.0.7\r\nUser-Agent: curl/7.88.1\r\n"
      "Accept: */*\r\nAuthorization: Basic YWRtaW46YWRtaW4=\r\n\r\n"),
    S("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\n"
      "HTTP/1.1 401"),
    /* a POST whose body holds a whole fake request: must be skipped */
    C("POST /upload HTTP/1.1\r\nHost: 10.20.0.7\r\nContent-Length: 55\r\n\r\n"
      "GET / HTTP/1.1\r\nAuthorization: Basic cm9vdDp0b29y\r\n\r\n"),
    S("HTTP/1.1 204 No Content\r\n\r\n"),
    /* pipelined: Digest (refused), Bearer (404 says nothing), Basic nurse:pw (chunked 200) */
    C("GET /a HTTP/1.1\r\nAuthorization: Digest username=\"operator\", realm=\"pump\", "
      "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/a\", "
      "response=\"6629fae49393a05397450978507c4ef1\"\r\n\r\n"
      "GET /b HTTP/1.1\r\nauthorization: bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.sig\r\n\r\n"
      "GET /c HTTP/1.1\r\nAuthorization: Basic bnVyc2U6UHVtcCNQYXNzMQ==\r\n\r\n"),
    S("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"pump\"\r\n"
      "Content-Length: 0\r\n\r\n"
      "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n"
      "19\r\nHTTP/1.1 401 Unauthorized\r\n0\r\n\r\n"
      "HTTP/1.1 302 Found\r\nLocation: /home\r\nContent-Length: 0\r\n\r\n"),
    /* proxy credentials refused by the proxy */
    C("GET http://example.org/ HTTP/1.1\r\nProxy-Authorization: Basic "
      "YmlvbWVkOkNoYW5nZSBNZQ==\r\n\r\n"),
    S("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"),
    /* HEAD: a Content-Length but no body follows */
    C("HEAD / HTTP/1.1\r\nAuthorization: Basic YWRtaW46YWRtaW4=\r\n\r\n"),
    S("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"),
    C("GET /d HTTP/1.1\r\nAuthorization: Basic YWRtaW46YWRtaW4=\r\n\r\n"),
    S("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"),
};

START_TEST(test_http)
{
    static const char *const secrets[] = {"YWRtaW46YWRtaW4", "Pump#Pass1", "bnVyc2U6",
                                          "eyJhbGci", "Change Me", "6629fae4", "dcd98b71", NULL};
    struct credential_facts facts;
    run_all_modes(CREDENTIAL_PROTOCOL_HTTP, http_keepalive, COUNT(http_keepalive), &facts,
                  secrets);
    ck_assert_uint_eq(facts.count, 4);
    ck_assert_uint_eq(facts.dropped, 1); /* the proxy's biomed: the table was full */
    /* admin: three requests; two accepted, one refused: accepted wins */
    assert_fact(&facts, 0, "HTTP", "Basic", CREDENTIAL_PASSWORD, "ad***", 1, true, 3);
    assert_fact(&facts, 1, "HTTP", "Digest", CREDENTIAL_CHALLENGE, "op***", 0, false, 1);
    assert_fact(&facts, 2, "HTTP", "Bearer", CREDENTIAL_TOKEN, "", -1, false, 1);
    /* the 404's chunked body held a fake "401" status line: not a response */
    ck_assert_str_eq(facts.items[3].method, "Basic");
    ck_assert_str_eq(facts.items[3].masked_user, "nu***");
    ck_assert_int_eq(facts.items[3].accepted, 1);
    ck_assert(!facts.items[3].default_credential);
}
END_TEST

START_TEST(test_http_proxy_and_other_schemes)
{
    static const struct message session[] = {
        C("GET http://example.org/ HTTP/1.1\r\nProxy-Authorization: Basic "
          "YmlvbWVkOkNoYW5nZSBNZQ==\r\n\r\n"),
        S("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"),
        C("GET / HTTP/1.1\r\nAuthorization: NTLM TlRMTVNTUAADAAAA\r\n\r\n"
          "GET / HTTP/1.1\r\nAuthorization: ApiKey k-123456\r\n\r\n"
          "GET / HTTP/1.1\r\nAuthorization: Basic !!notbase64\r\n\r\n"),
        S("HTTP/1.0 200 OK\r\n\r\n"), /* no length: the body runs to the close */
    };
    static const char *const secrets[] = {"Change Me", "k-123456", "TlRMTVNT", "notbase64", NULL};
    struct credential_facts facts;
    run_all_modes(CREDENTIAL_PROTOCOL_HTTP, session, COUNT(session), &facts, secrets);
    ck_assert_uint_eq(facts.count, 4);
    assert_fact(&facts, 0, "HTTP", "Proxy Basic", CREDENTIAL_PASSWORD, "bi***", 0, true, 1);
    assert_fact(&facts, 1, "HTTP", "NTLM", CREDENTIAL_CHALLENGE, "", 1, false, 1);
    assert_fact(&facts, 2, "HTTP", "other scheme", CREDENTIAL_TOKEN, "", -1, false, 1);
    assert_fact(&facts, 3, "HTTP", "Basic", CREDENTIAL_PASSWORD, "", -1, false, 1);
}
END_TEST

START_TEST(test_http_not_http)
{
    static const struct message session[] = {
        C("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
        S("\x16\x03\x03\x00\x7a\x02"),
        C("GET / HTTP/1.1\r\nAuthorization: Basic YWRtaW46YWRtaW4=\r\n\r\n"),
    };
    struct credential_facts facts;
    ck_assert(run(CREDENTIAL_PROTOCOL_HTTP, session, COUNT(session), FEED_WHOLE, &facts));
    ck_assert_uint_eq(facts.count, 0);
    ck_assert(!facts.starttls);
    static const struct message garbage[] = {
        C("SSH-2.0-OpenSSH_9.2\r\n"),
        C("GET / HTTP/1.1\r\nAuthorization: Basic YWRtaW46YWRtaW4=\r\n\r\n"),
    };
    run(CREDENTIAL_PROTOCOL_HTTP, garbage, COUNT(garbage), FEED_WHOLE, &facts);
    ck_assert_uint_eq(facts.count, 0);
}
END_TEST

/* ---- POP3 --------------------------------------------------------------- */

static const struct message pop3_session[] = {
    S("+OK Dovecot (Debian) ready. <1896.697170952@dbc.mtview.ca.us>\r\n"),
    C("CAPA\r\n"),
    S("+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nUSER\r\nSASL PLAIN\r\n.\r\n"),
    C("USER lab-analyzer\r\n"),
    S("+OK\r\n"),
    C("PASS H3mato!ogy\r\n"),
    S("-ERR [AUTH] Authentication failed.\r\n"),
    C("APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"),
    S("+OK mrose's maildrop has 2 messages (320 octets)\r\n"),
    C("AUTH PLAIN\r\n"),
    S("+ \r\n"),
    C("AGFkbWluAGFkbWlu\r\n"),
    S("+OK Logged in.\r\n"),
    C("STAT\r\n"),
    S("+OK 2 320\r\n"),
};

START_TEST(test_pop3)
{
    static const char *const secrets[] = {"H3mato", "c4c9334b", "AGFkbWlu", NULL};
    struct credential_facts facts;
    run_all_modes(CREDENTIAL_PROTOCOL_POP3, pop3_session, COUNT(pop3_session), &facts, secrets);
    ck_assert_uint_eq(facts.count, 3);
    assert_fact(&facts, 0, "POP3", "USER/PASS", CREDENTIAL_PASSWORD, "la***", 0, false, 1);
    assert_fact(&facts, 1, "POP3", "APOP", CREDENTIAL_CHALLENGE, "mr***", 1, false, 1);
    assert_fact(&facts, 2, "POP3", "AUTH PLAIN", CREDENTIAL_PASSWORD, "ad***", 1, true, 1);
}
END_TEST

START_TEST(test_pop3_stls)
{
    static const struct message session[] = {
        S("+OK ready\r\n"), C("STLS\r\n"), S("+OK Begin TLS negotiation now.\r\n"),
        C("USER admin\r\nPASS admin\r\n"),
    };
    struct credential_facts facts;
    ck_assert(run(CREDENTIAL_PROTOCOL_POP3, session, COUNT(session), FEED_BYTES, &facts));
    ck_assert(facts.starttls);
    ck_assert_uint_eq(facts.count, 0);
}
END_TEST

/* ---- IMAP --------------------------------------------------------------- */

static const struct message imap_session[] = {
    S("* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ "
      "AUTH=PLAIN] Dovecot (Debian) ready.\r\n"),
    C("a001 CAPABILITY\r\n"),
    S("* CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=LOGIN\r\na001 OK done\r\n"),
    C("a002 LOGIN \"ward3\" \"Qu0ted \\\"pw\\\\\"\r\n"),
    S("a002 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
    C("a003 LOGIN {5}\r\n"),
    S("+ OK\r\n"),
    C("admin {5+}\r\nadmin\r\n"),
    S("a003 OK [CAPABILITY IMAP4rev1] Logged in\r\n"),
    C("a004 AUTHENTICATE PLAIN\r\n"),
    S("+ \r\n"),
    C("AHJvb3QAdG9vcg==\r\n"),
    S("a004 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
    C("a005 AUTHENTICATE PLAIN AGJpb21lZABDaGFuZ2UgTWU=\r\n"),
    S("a005 OK Logged in\r\n"),
    C("a006 AUTHENTICATE LOGIN\r\n"),
    S("+ VXNlcm5hbWU6\r\n"),
    C("cmFkaW9sb2d5\r\n"),
    S("+ UGFzc3dvcmQ6\r\n"),
    C("WC1yYXkhMjAyNQ==\r\n"),
    S("a006 OK Logged in\r\n"),
};

START_TEST(test_imap)
{
    static const char *const secrets[] = {"Qu0ted", "AHJvb3Q", "toor", "X-ray!2025",
                                          "Change Me", NULL};
    struct credential_facts facts;
    run_all_modes(CREDENTIAL_PROTOCOL_IMAP, imap_session, COUNT(imap_session), &facts, secrets);
    ck_assert_uint_eq(facts.count, 4);
    ck_assert_uint_eq(facts.dropped, 1);
    assert_fact(&facts, 0, "IMAP", "LOGIN", CREDENTIAL_PASSWORD, "wa***", 0, false, 1);
    assert_fact(&facts, 1, "IMAP", "LOGIN", CREDENTIAL_PASSWORD, "ad***", 1, true, 1);
    assert_fact(&facts, 2, "IMAP", "AUTH PLAIN", CREDENTIAL_PASSWORD, "ro***", 0, true, 1);
    assert_fact(&facts, 3, "IMAP", "AUTH PLAIN", CREDENTIAL_PASSWORD, "bi***", 1, true, 1);
}
END_TEST

START_TEST(test_imap_auth_login_and_starttls)
{
    static const struct message session[] = {
        S("* OK ready\r\n"),
        C("a1 AUTHENTICATE LOGIN\r\n"),
        S("+ VXNlcm5hbWU6\r\n"),
        C("cmFkaW9sb2d5\r\n"),
        S("+ UGFzc3dvcmQ6\r\n"),
        C("WC1yYXkhMjAyNQ==\r\n"),
        S("a1 OK Logged in\r\n"),
        C("a2 STARTTLS\r\n"),
        S("a2 OK Begin TLS negotiation now.\r\n"),
        C("\x16\x03\x01\x00\xf4\x01\x00\x00\xf0\x03\x03 a3 LOGIN admin admin\r\n"),
    };
    static const char *const secrets[] = {"X-ray!2025", "WC1yYXkh", NULL};
    struct credential_facts facts;
    run_all_modes(CREDENTIAL_PROTOCOL_IMAP, session, COUNT(session), &facts, secrets);
    ck_assert_uint_eq(facts.count, 1);
    assert_fact(&facts, 0, "IMAP", "AUTH LOGIN", CREDENTIAL_PASSWORD, "ra***", 1, false, 1);
    ck_assert(facts.starttls);
}
END_TEST

/* ---- SMTP --------------------------------------------------------------- */

static const struct message smtp_session[] = {
    S("220 mail.chu.example ESMTP Postfix (Debian/GNU)\r\n"),
    C("EHLO analyzer-3\r\n"),
    S("250-mail.chu.example\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
      "250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n"),
    C("AUTH PLAIN AGxhYi0zAFdyMG5nUGFzcw==\r\n"),
    S("535 5.7.8 Error: authentication failed: authentication failure\r\n"),
    C("AUTH LOGIN\r\n"),
    S("334 VXNlcm5hbWU6\r\n"),
    C("YWRtaW4=\r\n"),
    S("334 UGFzc3dvcmQ6\r\n"),
    C("YWRtaW4=\r\n"),
    S("235 2.7.0 Authentication successful\r\n"),
    C("MAIL FROM:<lab@chu.example>\r\nRCPT TO:<it@chu.example>\r\nDATA\r\n"),
    S("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"),
    C("Subject: results\r\n\r\nAUTH PLAIN AHJvb3QAdG9vcg==\r\n..dot\r\n.\r\n"),
    S("250 2.0.0 Ok: queued as 12345\r\n"),
    C("QUIT\r\n"),
    S("221 2.0.0 Bye\r\n"),
};

START_TEST(test_smtp)
{
    static const char *const secrets[] = {"Wr0ngPass", "AGxhYi0z", "YWRtaW4=", "toor", NULL};
    struct credential_facts facts;
    run_all_modes(CREDENTIAL_PROTOCOL_SMTP, smtp_session, COUNT(smtp_session), &facts, secrets);
    ck_assert_uint_eq(facts.count, 2);
    assert_fact(&facts, 0, "SMTP", "AUTH PLAIN", CREDENTIAL_PASSWORD, "la***", 0, false, 1);
    assert_fact(&facts, 1, "SMTP", "AUTH LOGIN", CREDENTIAL_PASSWORD, "ad***", 1, true, 1);
    ck_assert(!facts.starttls);
}
END_TEST

START_TEST(test_smtp_starttls)
{
    static const struct message session[] = {
        S("220 mx ESMTP\r\n"), C("EHLO x\r\n"), S("250-mx\r\n250 STARTTLS\r\n"),
        C("STARTTLS\r\n"), S("220 2.0.0 Ready to start TLS\r\n"),
        C("AUTH PLAIN AGFkbWluAGFkbWlu\r\n"), S("235 ok\r\n"),
    };
    static const char *const secrets[] = {NULL};
    struct credential_facts facts;
    run_all_modes(CREDENTIAL_PROTOCOL_SMTP, session, COUNT(session), &facts, secrets);
    ck_assert(facts.starttls);
    ck_assert_uint_eq(facts.count, 0);
    /* the server's 220 lost: the client's ClientHello confirms it */
    static const struct message hello[] = {
        S("220 mx ESMTP\r\n"), C("STARTTLS\r\n"), C("\x16\x03\x01\x00\x10"),
    };
    ck_assert(run(CREDENTIAL_PROTOCOL_SMTP, hello, COUNT(hello), FEED_WHOLE, &facts));
    ck_assert(facts.starttls);
    /* a refused STARTTLS leaves the session in clear */
    static const struct message refused[] = {
        S("220 mx ESMTP\r\n"), C("STARTTLS\r\n"), S("454 4.7.0 TLS not available\r\n"),
        C("AUTH PLAIN AGFkbWluAGFkbWlu\r\n"), S("235 ok\r\n"),
    };
    ck_assert(!run(CREDENTIAL_PROTOCOL_SMTP, refused, COUNT(refused), FEED_WHOLE, &facts));
    ck_assert(!facts.starttls);
    assert_fact(&facts, 0, "SMTP", "AUTH PLAIN", CREDENTIAL_PASSWORD, "ad***", 1, true, 1);
}
END_TEST

/* ---- LDAP --------------------------------------------------------------- */

/* Builds an LDAPMessage with a simple BindRequest (short-form lengths). */
static size_t ldap_bind(uint8_t *out, uint8_t message_id, const char *dn, const char *password)
{
    const size_t dn_len = strlen(dn), pw_len = strlen(password);
    const size_t op_len = 3 + 2 + dn_len + 2 + pw_len;
    size_t at = 0;
    out[at++] = 0x30;
    out[at++] = (uint8_t)(3 + 2 + op_len);
    out[at++] = 0x02, out[at++] = 0x01, out[at++] = message_id;
    out[at++] = 0x60, out[at++] = (uint8_t)op_len;
    out[at++] = 0x02, out[at++] = 0x01, out[at++] = 0x03;
    out[at++] = 0x04, out[at++] = (uint8_t)dn_len;
    memcpy(out + at, dn, dn_len);
    at += dn_len;
    out[at++] = 0x80, out[at++] = (uint8_t)pw_len;
    memcpy(out + at, password, pw_len);
    return at + pw_len;
}

static size_t ldap_result(uint8_t *out, uint8_t message_id, uint8_t op, uint8_t code)
{
    const uint8_t bytes[] = {0x30, 0x0c, 0x02, 0x01, message_id, op, 0x07,
                             0x0a, 0x01, code, 0x04, 0x00, 0x04, 0x00};
    memcpy(out, bytes, sizeof(bytes));
    return sizeof(bytes);
}

START_TEST(test_ldap)
{
    uint8_t b[8][200];
    size_t n[8];
    n[0] = ldap_bind(b[0], 1, "", "");                                /* anonymous */
    n[1] = ldap_result(b[1], 1, 0x61, 0);
    n[2] = ldap_bind(b[2], 2, "cn=admin,dc=chu,dc=example", "admin"); /* default, accepted */
    n[3] = ldap_result(b[3], 2, 0x61, 0);
    n[4] = ldap_bind(b[4], 3, "uid=pacs\\,svc,ou=svc,dc=chu", "Rad10l0gy!"); /* refused */
    n[5] = ldap_result(b[5], 3, 0x61, 49);
    /* a search result bigger than the buffer (long-form length): skipped */
    static uint8_t big[1400];
    memset(big, 0x41, sizeof(big));
    big[0] = 0x30, big[1] = 0x82, big[2] = 0x05, big[3] = 0x74; /* 1396 bytes follow */
    big[4] = 0x02, big[5] = 0x01, big[6] = 0x04, big[7] = 0x64;
    n[6] = ldap_bind(b[6], 5, "svc-backup@chu.example", "B4ckup#");
    n[7] = ldap_result(b[7], 5, 0x61, 0);
    const struct message session[] = {
        {0, (const char *)b[0], n[0]}, {1, (const char *)b[1], n[1]},
        {0, (const char *)b[2], n[2]}, {1, (const char *)b[3], n[3]},
        {0, (const char *)b[4], n[4]}, {1, (const char *)b[5], n[5]},
        {1, (const char *)big, sizeof(big)},
        {0, (const char *)b[6], n[6]}, {1, (const char *)b[7], n[7]},
    };
    static const char *const secrets[] = {"Rad10l0gy", "B4ckup#", NULL};
    struct credential_facts facts;
    run_all_modes(CREDENTIAL_PROTOCOL_LDAP, session, COUNT(session), &facts, secrets);
    ck_assert_uint_eq(facts.count, 3);
    assert_fact(&facts, 0, "LDAP", "simple bind", CREDENTIAL_PASSWORD, "ad***", 1, true, 1);
    assert_fact(&facts, 1, "LDAP", "simple bind", CREDENTIAL_PASSWORD, "pa***", 0, false, 1);
    assert_fact(&facts, 2, "LDAP", "simple bind", CREDENTIAL_PASSWORD, "sv***", 1, false, 1);
}
END_TEST

START_TEST(test_ldap_starttls_and_sasl_plain)
{
    static const uint8_t sasl_plain[] = {
        0x30, 0x25, 0x02, 0x01, 0x01, 0x60, 0x20, 0x02, 0x01, 0x03, 0x04, 0x00,
        0xa3, 0x19, 0x04, 0x05, 'P', 'L', 'A', 'I', 'N', 0x04, 0x10,
        0x00, 'r', 'o', 'o', 't', 0x00, 't', 'o', 'o', 'r', 'x', 'y', 'z', '!', '!', '!'};
    static const uint8_t starttls[] = {
        0x30, 0x1d, 0x02, 0x01, 0x02, 0x77, 0x18, 0x80, 0x16, '1', '.', '3', '.', '6',
        '.', '1', '.', '4', '.', '1', '.', '1', '4', '6', '6', '.', '2', '0', '0', '3', '7'};
    uint8_t ok[2][16];
    ldap_result(ok[0], 1, 0x61, 0);
    ldap_result(ok[1], 2, 0x78, 0);
    uint8_t bind[100];
    const size_t bind_len = ldap_bind(bind, 3, "cn=admin", "admin");
    const struct message session[] = {
        {0, (const char *)sasl_plain, sizeof(sasl_plain)}, {1, (const char *)ok[0], 14},
        {0, (const char *)starttls, sizeof(starttls)}, {1, (const char *)ok[1], 14},
        {0, (const char *)bind, bind_len},
    };
    static const char *const secrets[] = {"tooryxz", NULL};
    struct credential_facts facts;
    run_all_modes(CREDENTIAL_PROTOCOL_LDAP, session, COUNT(session), &facts, secrets);
    ck_assert_uint_eq(facts.count, 1);
    assert_fact(&facts, 0, "LDAP", "SASL PLAIN", CREDENTIAL_PASSWORD, "ro***", 1, false, 1);
    ck_assert(facts.starttls);
}
END_TEST

START_TEST(test_ldap_not_ldap)
{
    static const struct message session[] = {
        C("\x31\x05hello"), C("\x30\x05\x02\x01\x01\x60\x00"),
    };
    struct credential_facts facts;
    run(CREDENTIAL_PROTOCOL_LDAP, session, COUNT(session), FEED_WHOLE, &facts);
    ck_assert_uint_eq(facts.count, 0);
    /* indefinite length and five length bytes: not LDAP */
    static const struct message odd[] = {C("\x30\x80\x02\x01"), S("\x30\x85\x01\x01\x01\x01\x01")};
    ck_assert(run(CREDENTIAL_PROTOCOL_LDAP, odd, COUNT(odd), FEED_BYTES, &facts));
    ck_assert_uint_eq(facts.count, 0);
}
END_TEST

/* ---- SNMP through the inspector ------------------------------------------------ */

START_TEST(test_snmp_via_inspector)
{
    static const uint8_t get[] = {0x30, 0x26, 0x02, 0x01, 0x01, 0x04, 0x06, 'p', 'u', 'b', 'l',
                                  'i', 'c', 0xa0, 0x19, 0x02, 0x01, 0x2a, 0x02, 0x01, 0x00, 0x02,
                                  0x01, 0x00, 0x30, 0x0e, 0x30, 0x0c, 0x06, 0x08, 0x2b, 0x06,
                                  0x01, 0x02, 0x01, 0x01, 0x01, 0x00, 0x05, 0x00};
    uint8_t response[sizeof(get)];
    memcpy(response, get, sizeof(get));
    response[13] = 0xa2;
    struct credential_facts facts;
    memset(&facts, 0, sizeof(facts));
    struct credential_inspector *inspector =
        credential_inspector_create(CREDENTIAL_PROTOCOL_SNMP, table);
    credential_inspector_feed(inspector, 0, 0, get, sizeof(get), &facts);
    credential_inspector_feed(inspector, 0, 0, get, sizeof(get), &facts);
    credential_inspector_feed(inspector, 1, 0, response, sizeof(response), &facts);
    ck_assert(!credential_inspector_done(inspector));
    assert_fact(&facts, 0, "SNMP", "community", CREDENTIAL_COMMUNITY, "", 1, true, 3);
    assert_no_secret(&facts, "public");
    /* the byte budget ends inspection of both directions */
    for (int i = 0; i < 400; i++) {
        credential_inspector_feed(inspector, 0, 0, get, sizeof(get), &facts);
        credential_inspector_feed(inspector, 1, 0, response, sizeof(response), &facts);
    }
    ck_assert(credential_inspector_done(inspector));
    ck_assert_uint_eq(facts.items[0].count, 3 + 2 * ((CREDENTIAL_STREAM_CAP + 39) / 40) - 3);
    credential_inspector_destroy(inspector);
}
END_TEST

/* ---- robustness ------------------------------------------------------------------ */

START_TEST(test_over_long_lines)
{
    /* 1500 bytes then what reads like a command, on the same line: the
     * whole line is skipped, not cut into a false "PASS" */
    static char long_line[1500 + 15];
    memset(long_line, 'A', 1500);
    memcpy(long_line + 1500, "PASS S3cretPW\r\n", 15);
    const struct message session[] = {
        S("220 ready\r\n"),
        {0, "USER admin", 10},
        {0, long_line, sizeof(long_line)},
        C("PASS notreally\r\n"),
        S("331 pw\r\n"),
        C("USER bob\r\n"),
        C("PASS b0bspw\r\n"),
        S("530 no\r\n230 ok\r\n"),
    };
    static const char *const secrets[] = {"notreally", "b0bspw", "S3cretPW", NULL};
    struct credential_facts facts;
    run_all_modes(CREDENTIAL_PROTOCOL_FTP, session, COUNT(session), &facts, secrets);
    /* "USER admin" + 1513 bytes is one line, skipped whole: the next PASS
     * has no user */
    ck_assert_uint_eq(facts.count, 2);
    assert_fact(&facts, 0, "FTP", "USER/PASS", CREDENTIAL_PASSWORD, "", -1, false, 1);
    assert_fact(&facts, 1, "FTP", "USER/PASS", CREDENTIAL_PASSWORD, "bo***", 1, false, 1);
}
END_TEST

START_TEST(test_garbage)
{
    uint8_t garbage[4096];
    uint32_t state = 12345;
    for (size_t i = 0; i < sizeof(garbage); i++) {
        state = state * 1103515245u + 12345u;
        garbage[i] = (uint8_t)(0x80 | (state >> 16)); /* high bytes, and no newline */
        if (i % 97 == 0)
            garbage[i] = 0;
    }
    for (int p = CREDENTIAL_PROTOCOL_NONE; p <= CREDENTIAL_PROTOCOL_SNMP; p++) {
        const struct message session[] = {
            {0, (const char *)garbage, 1000}, {1, (const char *)garbage + 1000, 3000},
            {0, (const char *)garbage + 500, 3000}, {1, (const char *)garbage, 10},
        };
        struct credential_facts facts;
        run((enum credential_protocol)p, session, COUNT(session), FEED_WHOLE, &facts);
        ck_assert_msg(facts.count == 0, "protocol %d", p);
        run((enum credential_protocol)p, session, COUNT(session), FEED_BYTES, &facts);
        ck_assert_msg(facts.count == 0, "protocol %d", p);
    }
}
END_TEST

START_TEST(test_gap_ends_direction)
{
    struct credential_facts facts;
    memset(&facts, 0, sizeof(facts));
    struct credential_inspector *inspector =
        credential_inspector_create(CREDENTIAL_PROTOCOL_FTP, table);
    credential_inspector_feed(inspector, 0, 100, (const uint8_t *)"USER admin\r\n", 12, &facts);
    /* 5 bytes missing: the client direction stops */
    credential_inspector_feed(inspector, 0, 117, (const uint8_t *)"PASS admin\r\n", 12, &facts);
    credential_inspector_feed(inspector, 0, 112, (const uint8_t *)"NOOP\r\nPASS admin\r\n", 18,
                              &facts);
    ck_assert_uint_eq(facts.count, 0);
    ck_assert(!credential_inspector_done(inspector));
    credential_inspector_feed(inspector, 1, 7, (const uint8_t *)"220 x\r\n", 7, &facts);
    credential_inspector_feed(inspector, 1, 20, (const uint8_t *)"230 x\r\n", 7, &facts);
    ck_assert(credential_inspector_done(inspector));
    /* nothing is read once done */
    credential_inspector_feed(inspector, 1, 14, (const uint8_t *)"230 x\r\n", 7, &facts);
    credential_inspector_destroy(inspector);
    /* bad arguments are ignored */
    inspector = credential_inspector_create(CREDENTIAL_PROTOCOL_FTP, NULL);
    credential_inspector_feed(inspector, 2, 0, (const uint8_t *)"PASS x\r\n", 8, &facts);
    credential_inspector_feed(inspector, 0, 0, NULL, 8, &facts);
    credential_inspector_feed(inspector, 0, 0, (const uint8_t *)"PASS x\r\n", 8, NULL);
    credential_inspector_feed(NULL, 0, 0, (const uint8_t *)"PASS x\r\n", 8, &facts);
    ck_assert_uint_eq(facts.count, 0);
    /* without a table the default verdict is false */
    credential_inspector_feed(inspector, 0, 0, (const uint8_t *)"USER admin\r\nPASS admin\r\n", 24,
                              &facts);
    assert_fact(&facts, 0, "FTP", "USER/PASS", CREDENTIAL_PASSWORD, "ad***", -1, false, 1);
    credential_inspector_destroy(inspector);
    credential_inspector_destroy(NULL);
    ck_assert(credential_inspector_done(NULL));
    inspector = credential_inspector_create(CREDENTIAL_PROTOCOL_NONE, NULL);
    ck_assert(credential_inspector_done(inspector));
    credential_inspector_destroy(inspector);
}
END_TEST

START_TEST(test_stream_cap)
{
    struct credential_facts facts;
    memset(&facts, 0, sizeof(facts));
    struct credential_inspector *inspector =
        credential_inspector_create(CREDENTIAL_PROTOCOL_FTP, table);
    uint32_t seq = 0;
    while (seq + 6 <= CREDENTIAL_STREAM_CAP - 4) {
        credential_inspector_feed(inspector, 0, seq, (const uint8_t *)"NOOP\r\n", 6, &facts);
        seq += 6;
    }
    /* the PASS line straddles the cap: cut, never parsed */
    credential_inspector_feed(inspector, 0, seq, (const uint8_t *)"PASS admin\r\n", 12, &facts);
    ck_assert_uint_eq(facts.count, 0);
    ck_assert(!credential_inspector_done(inspector));
    static uint8_t replies[CREDENTIAL_STREAM_CAP];
    for (size_t i = 0; i + 8 <= sizeof(replies); i += 8)
        memcpy(replies + i, "200 ok\r\n", 8);
    credential_inspector_feed(inspector, 1, 0, replies, sizeof(replies), &facts);
    ck_assert(credential_inspector_done(inspector));
    credential_inspector_destroy(inspector);
}
END_TEST

START_TEST(test_merge_and_drop)
{
    static const struct message session[] = {
        S("220 ready\r\n"),
        C("USER u1\r\nPASS p1\r\nUSER u2\r\nPASS p2\r\nUSER u3\r\nPASS p3\r\n"),
        S("331 a\r\n530 b\r\n331 c\r\n530 d\r\n331 e\r\n530 f\r\n"),
        C("USER u4\r\nPASS p4\r\nUSER u5\r\nPASS p5\r\nUSER u6\r\nPASS p6\r\n"),
        S("331 g\r\n230 h\r\n331 i\r\n530 j\r\n331 k\r\n230 l\r\n"),
        C("USER u1\r\nPASS p1\r\n"), S("331 a\r\n230 b\r\n"),
    };
    static const char *const secrets[] = {NULL};
    struct credential_facts facts;
    run_all_modes(CREDENTIAL_PROTOCOL_FTP, session, COUNT(session), &facts, secrets);
    ck_assert_uint_eq(facts.count, 4);
    ck_assert_uint_eq(facts.dropped, 2);
    /* u1 refused, then accepted on the second try: merged, accepted wins */
    assert_fact(&facts, 0, "FTP", "USER/PASS", CREDENTIAL_PASSWORD, "u1***", 1, false, 2);
    assert_fact(&facts, 1, "FTP", "USER/PASS", CREDENTIAL_PASSWORD, "u2***", 0, false, 1);
    assert_fact(&facts, 2, "FTP", "USER/PASS", CREDENTIAL_PASSWORD, "u3***", 0, false, 1);
    assert_fact(&facts, 3, "FTP", "USER/PASS", CREDENTIAL_PASSWORD, "u4***", 1, false, 1);
}
END_TEST

/* More commands in flight than the pairing queue holds: outcomes are no
 * longer attributed (rather than attributed to the wrong login). */
START_TEST(test_pipelining_past_the_queue)
{
    static const struct message session[] = {
        S("220 ready\r\n"),
        C("USER u1\r\nPASS p1\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\n"
          "USER u2\r\nPASS p2\r\n"),
        S("331 a\r\n230 b\r\n200 c\r\n200 c\r\n200 c\r\n200 c\r\n200 c\r\n200 c\r\n"
          "331 d\r\n230 e\r\n"),
    };
    struct credential_facts facts;
    run(CREDENTIAL_PROTOCOL_FTP, session, COUNT(session), FEED_WHOLE, &facts);
    ck_assert_uint_eq(facts.count, 2);
    assert_fact(&facts, 0, "FTP", "USER/PASS", CREDENTIAL_PASSWORD, "u1***", -1, false, 1);
    assert_fact(&facts, 1, "FTP", "USER/PASS", CREDENTIAL_PASSWORD, "u2***", -1, false, 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("inspect_credentials");
    TCase *tc = tcase_create("core");
    tcase_add_unchecked_fixture(tc, table_setup, table_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_mask_user);
    tcase_add_test(tc, test_protocol_guess);
    tcase_add_test(tc, test_telnet_accepted_default);
    tcase_add_test(tc, test_telnet_refused_then_accepted);
    tcase_add_test(tc, test_telnet_password_only);
    tcase_add_test(tc, test_ftp);
    tcase_add_test(tc, test_ftp_auth_tls);
    tcase_add_test(tc, test_http);
    tcase_add_test(tc, test_http_proxy_and_other_schemes);
    tcase_add_test(tc, test_http_not_http);
    tcase_add_test(tc, test_pop3);
    tcase_add_test(tc, test_pop3_stls);
    tcase_add_test(tc, test_imap);
    tcase_add_test(tc, test_imap_auth_login_and_starttls);
    tcase_add_test(tc, test_smtp);
    tcase_add_test(tc, test_smtp_starttls);
    tcase_add_test(tc, test_ldap);
    tcase_add_test(tc, test_ldap_starttls_and_sasl_plain);
    tcase_add_test(tc, test_ldap_not_ldap);
    tcase_add_test(tc, test_snmp_via_inspector);
    tcase_add_test(tc, test_over_long_lines);
    tcase_add_test(tc, test_garbage);
    tcase_add_test(tc, test_gap_ends_direction);
    tcase_add_test(tc, test_stream_cap);
    tcase_add_test(tc, test_merge_and_drop);
    tcase_add_test(tc, test_pipelining_past_the_queue);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    const int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
