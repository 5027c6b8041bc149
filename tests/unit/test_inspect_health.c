/* Unit tests for inspect_health: DICOM, HL7 v2 over MLLP, FHIR over HTTP.
 *
 * Conversations are built here byte by byte and also read from real
 * captures (tests/data/health, made with dcmtk; and the tapirx corpus in
 * ../shared/corpus, skipped with a message when absent). Every parser is
 * checked whole, split at every byte boundary, in small chunks with
 * retransmitted and overlapping segments, truncated, with bogus lengths,
 * and for privacy: planted patient data must never reach the facts. */
#include <check.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxaudit/inspect_health.h"
#include "inspect/dicom_uids.h"
#include "inspect/fhir.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/data"
#endif
#define HEALTH_DATA TEST_DATA_DIR "/health/"
#define TAPIRX_DIR TEST_DATA_DIR "/../../../shared/corpus/tapirx/"

#define PLANTED_NAME "DOE^JANE"
#define PLANTED_ID "PID-PLANTED-4711"

/* ---- conversations ---------------------------------------------------- */

#define CONV_MAX 256

struct message {
    int direction;
    uint32_t seq;
    uint8_t *data;
    size_t len;
};

struct conversation {
    struct message messages[CONV_MAX];
    size_t count;
    uint32_t next_seq[2];
};

static struct conversation *conv_new(void)
{
    struct conversation *conv = calloc(1, sizeof(*conv));
    ck_assert_ptr_nonnull(conv);
    conv->next_seq[0] = 0xfffffff0u; /* wraps inside the conversation */
    conv->next_seq[1] = 7;
    return conv;
}

static void conv_free(struct conversation *conv)
{
    for (size_t i = 0; i < conv->count; i++)
        free(conv->messages[i].data);
    free(conv);
}

static void conv_add_seq(struct conversation *conv, int direction, uint32_t seq, const void *data,
                         size_t len)
{
    ck_assert_uint_lt(conv->count, CONV_MAX);
    struct message *m = &conv->messages[conv->count++];
    m->direction = direction;
    m->seq = seq;
    m->data = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(m->data);
    memcpy(m->data, data, len);
    m->len = len;
}

static void conv_add(struct conversation *conv, int direction, const void *data, size_t len)
{
    conv_add_seq(conv, direction, conv->next_seq[direction], data, len);
    conv->next_seq[direction] += (uint32_t)len;
}

static void conv_add_str(struct conversation *conv, int direction, const char *text)
{
    conv_add(conv, direction, text, strlen(text));
}

/* Feeds the conversation, each message in chunks of `chunk` bytes (0:
 * whole). With `overlap`, every chunk is first resent as a pure
 * retransmission and the next one starts `overlap` bytes early. */
static struct health_inspector *run(enum health_protocol protocol, const struct conversation *conv,
                                    size_t chunk, size_t overlap, struct health_facts *facts)
{
    memset(facts, 0, sizeof(*facts));
    struct health_inspector *inspector = health_inspector_create(protocol);
    ck_assert_ptr_nonnull(inspector);
    for (size_t i = 0; i < conv->count; i++) {
        const struct message *m = &conv->messages[i];
        size_t step = chunk == 0 ? m->len : chunk;
        for (size_t start = 0; start < m->len; start += step) {
            size_t end = start + step < m->len ? start + step : m->len;
            size_t from = start >= overlap ? start - overlap : 0;
            health_inspector_feed(inspector, m->direction, m->seq + (uint32_t)from, m->data + from,
                                  (uint32_t)(end - from), facts);
            if (overlap > 0) /* a retransmission of the same bytes */
                health_inspector_feed(inspector, m->direction, m->seq + (uint32_t)from,
                                      m->data + from, (uint32_t)(end - from), facts);
        }
    }
    return inspector;
}

static void run_and_free(enum health_protocol protocol, const struct conversation *conv,
                         size_t chunk, size_t overlap, struct health_facts *facts)
{
    health_inspector_destroy(run(protocol, conv, chunk, overlap, facts));
}

/* Splits the conversation at every byte boundary (one message cut in two
 * at a time), and feeds it in 1..13-byte chunks with and without
 * retransmissions: the facts must always equal the whole-message ones. */
static void assert_split_invariant(enum health_protocol protocol, const struct conversation *conv,
                                   bool every_boundary)
{
    struct health_facts whole;
    struct health_facts split;
    run_and_free(protocol, conv, 0, 0, &whole);
    if (every_boundary) {
        for (size_t i = 0; i < conv->count; i++) {
            const struct message *m = &conv->messages[i];
            for (size_t cut = 1; cut < m->len; cut++) {
                memset(&split, 0, sizeof(split));
                struct health_inspector *inspector = health_inspector_create(protocol);
                for (size_t j = 0; j < conv->count; j++) {
                    const struct message *n = &conv->messages[j];
                    if (j != i) {
                        health_inspector_feed(inspector, n->direction, n->seq, n->data,
                                              (uint32_t)n->len, &split);
                        continue;
                    }
                    health_inspector_feed(inspector, n->direction, n->seq, n->data, (uint32_t)cut,
                                          &split);
                    health_inspector_feed(inspector, n->direction, n->seq + (uint32_t)cut,
                                          n->data + cut, (uint32_t)(n->len - cut), &split);
                }
                health_inspector_destroy(inspector);
                ck_assert_msg(memcmp(&whole, &split, sizeof(whole)) == 0,
                              "message %zu cut at %zu differs", i, cut);
            }
        }
    }
    for (size_t chunk = 1; chunk <= 13; chunk++) {
        run_and_free(protocol, conv, chunk, 0, &split);
        ck_assert_msg(memcmp(&whole, &split, sizeof(whole)) == 0, "chunk %zu differs", chunk);
        run_and_free(protocol, conv, chunk, chunk > 3 ? 3 : chunk - 1, &split);
        ck_assert_msg(memcmp(&whole, &split, sizeof(whole)) == 0,
                      "chunk %zu with retransmissions differs", chunk);
    }
}

static void assert_no_planted(const struct health_facts *facts)
{
    ck_assert_ptr_null(memmem(facts, sizeof(*facts), PLANTED_NAME, strlen(PLANTED_NAME)));
    ck_assert_ptr_null(memmem(facts, sizeof(*facts), PLANTED_ID, strlen(PLANTED_ID)));
    ck_assert_ptr_null(memmem(facts, sizeof(*facts), "DOE", 3));
    ck_assert_ptr_null(memmem(facts, sizeof(*facts), "4711", 4));
}

/* ---- reading captures ------------------------------------------------- */

/* Reads the TCP payloads of a one-flow capture (Ethernet or BSD loopback,
 * IPv4) into a conversation, with their real sequence numbers. Returns
 * NULL if the file cannot be opened. */
static struct conversation *conv_from_pcap(const char *path)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *pcap = pcap_open_offline(path, errbuf);
    if (pcap == NULL)
        return NULL;
    int dlt = pcap_datalink(pcap);
    struct conversation *conv = conv_new();
    bool have_client = false;
    uint8_t client[6];
    struct pcap_pkthdr *header;
    const uint8_t *frame;
    while (pcap_next_ex(pcap, &header, &frame) == 1) {
        size_t l3 = dlt == DLT_EN10MB ? 14 : dlt == DLT_NULL ? 4 : 0;
        ck_assert_uint_ne(l3, 0);
        if (header->caplen < l3 + 20)
            continue;
        const uint8_t *ip = frame + l3;
        size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
        size_t total = ((size_t)ip[2] << 8) | ip[3];
        if ((ip[0] >> 4) != 4 || ip[9] != 6 || l3 + total > header->caplen)
            continue;
        const uint8_t *tcp = ip + ihl;
        size_t doff = (size_t)(tcp[12] >> 4) * 4;
        uint8_t endpoint[6]; /* source address and port */
        memcpy(endpoint, ip + 12, 4);
        memcpy(endpoint + 4, tcp, 2);
        if (!have_client) {
            /* the client: the SYN's sender, else the first sender */
            bool synack = (tcp[13] & 0x12) == 0x12;
            if (synack) {
                memcpy(client, ip + 16, 4);
                memcpy(client + 4, tcp + 2, 2);
            } else {
                memcpy(client, endpoint, 6);
            }
            have_client = true;
        }
        uint32_t seq =
            ((uint32_t)tcp[4] << 24) | ((uint32_t)tcp[5] << 16) | ((uint32_t)tcp[6] << 8) | tcp[7];
        size_t payload = total - ihl - doff;
        if (payload > 0)
            conv_add_seq(conv, memcmp(endpoint, client, 6) == 0 ? 0 : 1, seq, tcp + doff, payload);
    }
    pcap_close(pcap);
    return conv;
}

static struct conversation *tapirx(const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s%s", TAPIRX_DIR, name);
    struct conversation *conv = conv_from_pcap(path);
    if (conv == NULL)
        fprintf(stderr, "skipped: %s absent (third-party corpus not installed)\n", path);
    return conv;
}

static struct conversation *local_capture(const char *name)
{
    struct conversation *conv = conv_from_pcap(name);
    ck_assert_msg(conv != NULL, "cannot read %s", name);
    return conv;
}

/* ---- DICOM builders --------------------------------------------------- */

struct bytes {
    uint8_t data[70000];
    size_t len;
};

static void put(struct bytes *b, const void *data, size_t len)
{
    ck_assert_uint_le(b->len + len, sizeof(b->data));
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

static void put_u8(struct bytes *b, uint8_t v)
{
    put(b, &v, 1);
}

static void put_be16(struct bytes *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(b, x, 2);
}

static void put_be32(struct bytes *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put(b, x, 4);
}

/* An item: type, reserved, 2-byte length, value. */
static void put_item(struct bytes *b, uint8_t type, const void *value, size_t len)
{
    put_u8(b, type);
    put_u8(b, 0);
    put_be16(b, (uint16_t)len);
    put(b, value, len);
}

/* A UID item value, NUL-padded to even length. */
static void put_uid_item(struct bytes *b, uint8_t type, const char *uid)
{
    char padded[80] = {0};
    size_t len = strlen(uid);
    memcpy(padded, uid, len);
    put_item(b, type, padded, len + (len & 1));
}

static void put_ae(struct bytes *b, const char *title)
{
    char field[16];
    memset(field, ' ', sizeof(field));
    memcpy(field, title, strlen(title));
    put(b, field, sizeof(field));
}

/* An A-ASSOCIATE-RQ proposing `uids` on context ids 1, 3, 5... */
static void build_rq(struct bytes *pdu, const char *called, const char *calling,
                     const char *const *uids, size_t count)
{
    struct bytes *body = calloc(1, sizeof(*body));
    put_be16(body, 1);
    put_be16(body, 0);
    put_ae(body, called);
    put_ae(body, calling);
    uint8_t reserved[32] = {0};
    put(body, reserved, sizeof(reserved));
    put_uid_item(body, 0x10, "1.2.840.10008.3.1.1.1");
    for (size_t i = 0; i < count; i++) {
        struct bytes *context = calloc(1, sizeof(*context));
        put_u8(context, (uint8_t)(2 * i + 1));
        put_u8(context, 0);
        put_u8(context, 0);
        put_u8(context, 0);
        put_uid_item(context, 0x30, uids[i]);
        put_uid_item(context, 0x40, "1.2.840.10008.1.2");
        put_item(body, 0x20, context->data, context->len);
        free(context);
    }
    uint8_t max_length[8] = {0x51, 0, 0, 4, 0, 1, 0, 0};
    put_item(body, 0x50, max_length, sizeof(max_length));
    put_u8(pdu, 0x01);
    put_u8(pdu, 0);
    put_be32(pdu, (uint32_t)body->len);
    put(pdu, body->data, body->len);
    free(body);
}

/* An A-ASSOCIATE-AC accepting context 1. */
static void build_ac(struct bytes *pdu)
{
    struct bytes *body = calloc(1, sizeof(*body));
    put_be16(body, 1);
    put_be16(body, 0);
    put_ae(body, "PACS");
    put_ae(body, "CT_SCANNER");
    uint8_t reserved[32] = {0};
    put(body, reserved, sizeof(reserved));
    put_uid_item(body, 0x10, "1.2.840.10008.3.1.1.1");
    struct bytes *context = calloc(1, sizeof(*context));
    uint8_t head[4] = {1, 0, 0, 0};
    put(context, head, sizeof(head));
    put_uid_item(context, 0x40, "1.2.840.10008.1.2");
    put_item(body, 0x21, context->data, context->len);
    free(context);
    put_u8(pdu, 0x02);
    put_u8(pdu, 0);
    put_be32(pdu, (uint32_t)body->len);
    put(pdu, body->data, body->len);
    free(body);
}

/* A 4-byte-body PDU: RJ (3), release RQ/RP (5, 6), abort (7). */
static void build_short(struct bytes *pdu, uint8_t type)
{
    uint8_t body[4] = {0, type == 3 ? 1 : 0, type == 3 ? 1 : 0, type == 3 ? 1 : 0};
    put_u8(pdu, type);
    put_u8(pdu, 0);
    put_be32(pdu, 4);
    put(pdu, body, sizeof(body));
}

/* A P-DATA-TF with one PDV: context id, control header, fragment. */
static void build_pdata(struct bytes *pdu, uint8_t context, uint8_t control, const void *fragment,
                        size_t len)
{
    put_u8(pdu, 0x04);
    put_u8(pdu, 0);
    put_be32(pdu, (uint32_t)(len + 6));
    put_be32(pdu, (uint32_t)(len + 2));
    put_u8(pdu, context);
    put_u8(pdu, control);
    put(pdu, fragment, len);
}

static void conv_add_bytes(struct conversation *conv, int direction, struct bytes *b)
{
    conv_add(conv, direction, b->data, b->len);
    b->len = 0;
}

/* A data set fragment that names a patient (implicit VR little endian). */
static size_t planted_dataset(uint8_t *out)
{
    static const uint8_t name_tag[] = {0x10, 0x00, 0x10, 0x00, 0x08, 0, 0, 0};
    static const uint8_t id_tag[] = {0x10, 0x00, 0x20, 0x00, 0x10, 0, 0, 0};
    size_t len = 0;
    memcpy(out + len, name_tag, sizeof(name_tag));
    len += sizeof(name_tag);
    memcpy(out + len, PLANTED_NAME, 8);
    len += 8;
    memcpy(out + len, id_tag, sizeof(id_tag));
    len += sizeof(id_tag);
    memcpy(out + len, PLANTED_ID, 16);
    return len + 16;
}

static const char *const store_uids[] = {
    "1.2.840.10008.1.1", "1.2.840.10008.5.1.4.1.1.2",
    "1.2.840.113619.4.30",                              /* unknown, short: kept as is */
    "1.2.826.0.1.3680043.8.498.10207762896153871234.1", /* unknown, long: tail kept */
};

/* A C-ECHO and a C-STORE of a planted data set, released. */
static struct conversation *dicom_conversation(void)
{
    struct conversation *conv = conv_new();
    struct bytes *b = calloc(1, sizeof(*b));
    build_rq(b, "PACS", "  CT_SCANNER", store_uids, 4);
    conv_add_bytes(conv, 0, b);
    build_ac(b);
    conv_add_bytes(conv, 1, b);
    uint8_t command[16] = {0};
    build_pdata(b, 1, 0x03, command, sizeof(command)); /* C-ECHO command */
    conv_add_bytes(conv, 0, b);
    build_pdata(b, 1, 0x03, command, sizeof(command));
    conv_add_bytes(conv, 1, b);
    build_pdata(b, 3, 0x03, command, sizeof(command)); /* C-STORE command */
    uint8_t dataset[64];
    size_t dataset_len = planted_dataset(dataset);
    build_pdata(b, 3, 0x00, dataset, dataset_len); /* not last fragment */
    build_pdata(b, 3, 0x02, dataset, dataset_len); /* last fragment */
    conv_add_bytes(conv, 0, b);
    build_short(b, 5);
    conv_add_bytes(conv, 0, b);
    build_short(b, 6);
    conv_add_bytes(conv, 1, b);
    free(b);
    return conv;
}

/* ---- DICOM tests ------------------------------------------------------ */

START_TEST(test_dicom_detect)
{
    struct bytes *b = calloc(1, sizeof(*b));
    build_rq(b, "PACS", "CT", store_uids, 1);
    ck_assert_int_eq(health_protocol_detect(b->data, (uint32_t)b->len), HEALTH_PROTOCOL_DICOM);
    ck_assert_int_eq(health_protocol_detect(b->data, 8), HEALTH_PROTOCOL_DICOM);
    ck_assert_int_eq(health_protocol_detect(b->data, 7), HEALTH_PROTOCOL_NONE);
    b->data[7] = 2; /* protocol version 2 */
    ck_assert_int_eq(health_protocol_detect(b->data, (uint32_t)b->len), HEALTH_PROTOCOL_NONE);
    b->data[7] = 1;
    uint8_t small[8] = {1, 0, 0, 0, 0, 67, 0, 1}; /* shorter than the fixed fields */
    ck_assert_int_eq(health_protocol_detect(small, sizeof(small)), HEALTH_PROTOCOL_NONE);
    uint8_t large[8] = {1, 0, 0, 1, 0, 1, 0, 1}; /* 64 KiB + 1 */
    ck_assert_int_eq(health_protocol_detect(large, sizeof(large)), HEALTH_PROTOCOL_NONE);
    uint8_t cap[8] = {1, 0, 0, 1, 0, 0, 0, 1}; /* exactly 64 KiB */
    ck_assert_int_eq(health_protocol_detect(cap, sizeof(cap)), HEALTH_PROTOCOL_DICOM);
    uint8_t ac[8] = {2, 0, 0, 0, 0, 68, 0, 1};
    ck_assert_int_eq(health_protocol_detect(ac, sizeof(ac)), HEALTH_PROTOCOL_NONE);
    ck_assert_int_eq(health_protocol_detect(NULL, 10), HEALTH_PROTOCOL_NONE);
    free(b);
}
END_TEST

START_TEST(test_dicom_association)
{
    struct conversation *conv = dicom_conversation();
    struct health_facts facts;
    struct health_inspector *inspector = run(HEALTH_PROTOCOL_DICOM, conv, 0, 0, &facts);
    const struct dicom_facts *d = &facts.dicom;
    ck_assert(d->seen);
    ck_assert_str_eq(d->calling_ae, "CT_SCANNER");
    ck_assert_str_eq(d->called_ae, "PACS");
    ck_assert_uint_eq(d->associations_requested, 1);
    ck_assert_uint_eq(d->associations_accepted, 1);
    ck_assert_uint_eq(d->associations_rejected, 0);
    ck_assert_uint_eq(d->releases, 1);
    ck_assert_uint_eq(d->aborts, 0);
    ck_assert_uint_eq(d->data_pdus, 5);
    ck_assert(d->dataset_transferred);
    ck_assert_uint_eq(d->sop_class_count, 4);
    ck_assert_uint_eq(d->sop_classes_dropped, 0);
    ck_assert_str_eq(d->sop_classes[0], "Verification");
    ck_assert_str_eq(d->sop_classes[1], "CT Image Storage");
    ck_assert_str_eq(d->sop_classes[2], "1.2.840.113619.4.30");
    ck_assert_str_eq(d->sop_classes[3], "~3.8.498.10207762896153871234.1");
    ck_assert_uint_eq(strlen(d->sop_classes[3]), FACT_NAME_MAX - 1);
    ck_assert(!facts.hl7.seen);
    ck_assert(!facts.fhir.seen);
    ck_assert(!health_inspector_done(inspector));
    health_inspector_destroy(inspector);
    assert_no_planted(&facts);
    conv_free(conv);
}
END_TEST

START_TEST(test_dicom_long_uid_tail)
{
    /* the cut keeps the tail: "~" then the last 30 characters */
    struct conversation *conv = conv_new();
    struct bytes *b = calloc(1, sizeof(*b));
    const char *uid = "1.2.826.0.1.3680043.8.498.10207762896153871234.1";
    build_rq(b, "PACS", "CT", &uid, 1);
    conv_add_bytes(conv, 0, b);
    struct health_facts facts;
    run_and_free(HEALTH_PROTOCOL_DICOM, conv, 0, 0, &facts);
    char expected[FACT_NAME_MAX];
    snprintf(expected, sizeof(expected), "~%s", uid + strlen(uid) - (FACT_NAME_MAX - 2));
    ck_assert_str_eq(facts.dicom.sop_classes[0], expected);
    free(b);
    conv_free(conv);
}
END_TEST

START_TEST(test_dicom_split_everywhere)
{
    struct conversation *conv = dicom_conversation();
    assert_split_invariant(HEALTH_PROTOCOL_DICOM, conv, true);
    conv_free(conv);
}
END_TEST

START_TEST(test_dicom_large_proposal_records_used_classes)
{
    /* 20 storage classes proposed (more than the list holds): only the
     * class whose context a PDV uses is recorded, the rest are dropped */
    const char *uids[20];
    char storage[20][64];
    for (size_t i = 0; i < 20; i++) {
        snprintf(storage[i], sizeof(storage[i]), "1.2.840.10008.5.1.4.1.1.%zu", 200 + i);
        uids[i] = storage[i];
    }
    uids[10] = "1.2.840.10008.5.1.4.1.1.4"; /* MR on context 21 */
    uids[11] = "1.2.840.10008.5.1.4.1.1.4"; /* the same class on another context */
    struct conversation *conv = conv_new();
    struct bytes *b = calloc(1, sizeof(*b));
    build_rq(b, "PACS", "MR_1", uids, 20);
    conv_add_bytes(conv, 0, b);
    build_ac(b);
    conv_add_bytes(conv, 1, b);
    uint8_t fragment[4] = {0};
    build_pdata(b, 21, 0x03, fragment, sizeof(fragment));
    build_pdata(b, 23, 0x02, fragment, sizeof(fragment));
    conv_add_bytes(conv, 0, b);
    build_pdata(b, 21, 0x03, fragment, sizeof(fragment));
    conv_add_bytes(conv, 1, b);
    struct health_facts facts;
    run_and_free(HEALTH_PROTOCOL_DICOM, conv, 0, 0, &facts);
    ck_assert_uint_eq(facts.dicom.sop_class_count, 1);
    ck_assert_str_eq(facts.dicom.sop_classes[0], "MR Image Storage");
    ck_assert_uint_eq(facts.dicom.sop_classes_dropped, 18);
    ck_assert(facts.dicom.dataset_transferred);
    ck_assert_uint_eq(facts.dicom.data_pdus, 3);
    assert_split_invariant(HEALTH_PROTOCOL_DICOM, conv, false);
    free(b);
    conv_free(conv);
}
END_TEST

START_TEST(test_dicom_reject_and_abort)
{
    struct conversation *conv = conv_new();
    struct bytes *b = calloc(1, sizeof(*b));
    build_rq(b, "PACS", "US_1", store_uids, 1);
    conv_add_bytes(conv, 0, b);
    build_short(b, 3);
    conv_add_bytes(conv, 1, b);
    build_short(b, 7);
    conv_add_bytes(conv, 0, b);
    struct health_facts facts;
    run_and_free(HEALTH_PROTOCOL_DICOM, conv, 0, 0, &facts);
    ck_assert_uint_eq(facts.dicom.associations_requested, 1);
    ck_assert_uint_eq(facts.dicom.associations_rejected, 1);
    ck_assert_uint_eq(facts.dicom.associations_accepted, 0);
    ck_assert_uint_eq(facts.dicom.aborts, 1);
    ck_assert(!facts.dicom.dataset_transferred);
    ck_assert_uint_eq(facts.dicom.data_pdus, 0);
    assert_split_invariant(HEALTH_PROTOCOL_DICOM, conv, true);
    free(b);
    conv_free(conv);
}
END_TEST

START_TEST(test_dicom_truncated)
{
    struct conversation *conv = conv_new();
    struct bytes *b = calloc(1, sizeof(*b));
    build_rq(b, "PACS", "CT", store_uids, 2);
    conv_add(conv, 0, b->data, b->len - 1); /* one byte short */
    struct health_facts facts;
    struct health_inspector *inspector = run(HEALTH_PROTOCOL_DICOM, conv, 0, 0, &facts);
    ck_assert(!facts.dicom.seen);
    ck_assert_uint_eq(facts.dicom.associations_requested, 0);
    ck_assert_uint_eq(facts.dicom.sop_class_count, 0);
    ck_assert_str_eq(facts.dicom.calling_ae, "");
    ck_assert(!health_inspector_done(inspector));
    health_inspector_destroy(inspector); /* the partial PDU is freed (ASan checks) */
    free(b);
    conv_free(conv);
}
END_TEST

START_TEST(test_dicom_bogus_lengths)
{
    struct health_facts facts;
    /* an RQ announcing 0xFFFFFFFF bytes: not DICOM, nothing buffered */
    uint8_t huge_rq[16] = {1, 0, 0xff, 0xff, 0xff, 0xff, 0, 1};
    struct conversation *conv = conv_new();
    conv_add(conv, 0, huge_rq, sizeof(huge_rq));
    struct health_inspector *inspector = run(HEALTH_PROTOCOL_DICOM, conv, 0, 0, &facts);
    ck_assert(!facts.dicom.seen);
    ck_assert_uint_eq(facts.dicom.associations_requested, 0);
    health_inspector_feed(inspector, 1, 1, huge_rq, 6, &facts); /* A-ASSOCIATE-RQ, length > cap */
    ck_assert(health_inspector_done(inspector));
    health_inspector_destroy(inspector);
    conv_free(conv);

    /* a P-DATA-TF of 0xFFFFFFFF whose PDV claims more than the PDU holds */
    uint8_t pdata[12] = {4, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 0};
    conv = conv_new();
    conv_add(conv, 0, pdata, sizeof(pdata));
    run_and_free(HEALTH_PROTOCOL_DICOM, conv, 0, 0, &facts);
    ck_assert_uint_eq(facts.dicom.data_pdus, 1);
    ck_assert(!facts.dicom.dataset_transferred);
    ck_assert(!facts.dicom.seen);
    conv_free(conv);

    /* a P-DATA-TF shorter than a PDV header, a release of length 5 */
    uint8_t tiny[6] = {4, 0, 0, 0, 0, 5};
    uint8_t release5[11] = {5, 0, 0, 0, 0, 5};
    conv = conv_new();
    conv_add(conv, 0, tiny, sizeof(tiny));
    conv_add(conv, 1, release5, sizeof(release5));
    inspector = run(HEALTH_PROTOCOL_DICOM, conv, 0, 0, &facts);
    ck_assert_uint_eq(facts.dicom.data_pdus, 0);
    ck_assert_uint_eq(facts.dicom.releases, 0);
    ck_assert(health_inspector_done(inspector));
    health_inspector_destroy(inspector);
    conv_free(conv);

    /* an item running past the RQ: no association facts, but the stream
     * stays framed and the release after it counts */
    struct bytes *b = calloc(1, sizeof(*b));
    build_rq(b, "PACS", "CT", store_uids, 2);
    b->data[6 + 68 + 2] = 0x7f; /* application context item length */
    build_short(b, 5);
    conv = conv_new();
    conv_add_bytes(conv, 0, b);
    run_and_free(HEALTH_PROTOCOL_DICOM, conv, 0, 0, &facts);
    ck_assert_uint_eq(facts.dicom.associations_requested, 0);
    ck_assert_uint_eq(facts.dicom.sop_class_count, 0);
    ck_assert_str_eq(facts.dicom.calling_ae, "");
    ck_assert_uint_eq(facts.dicom.releases, 1);
    conv_free(conv);

    /* a PDV item length of 1 (shorter than its own header fields) */
    uint8_t short_pdv[12] = {4, 0, 0, 0, 0, 6, 0, 0, 0, 1, 1, 0};
    conv = conv_new();
    conv_add(conv, 0, short_pdv, sizeof(short_pdv));
    run_and_free(HEALTH_PROTOCOL_DICOM, conv, 0, 0, &facts);
    ck_assert(!facts.dicom.dataset_transferred);
    ck_assert(!facts.dicom.seen);
    conv_free(conv);
    free(b);
}
END_TEST

START_TEST(test_dicom_bad_uids_and_titles)
{
    const char *uids[] = {"1.2..3", "1.2.a", ".1.2", "1.2.", "1.2.840.10008.1.1"};
    struct bytes *b = calloc(1, sizeof(*b));
    build_rq(b, "PA\x01S", "", uids, 5);
    struct conversation *conv = conv_new();
    conv_add_bytes(conv, 0, b);
    struct health_facts facts;
    run_and_free(HEALTH_PROTOCOL_DICOM, conv, 0, 0, &facts);
    ck_assert_uint_eq(facts.dicom.associations_requested, 1);
    ck_assert_uint_eq(facts.dicom.sop_class_count, 1);
    ck_assert_str_eq(facts.dicom.sop_classes[0], "Verification");
    ck_assert_str_eq(facts.dicom.called_ae, "PA?S");
    ck_assert_str_eq(facts.dicom.calling_ae, "");
    free(b);
    conv_free(conv);
}
END_TEST

START_TEST(test_dicom_gap_ends_direction)
{
    struct conversation *conv = dicom_conversation();
    struct health_facts facts;
    memset(&facts, 0, sizeof(facts));
    struct health_inspector *inspector = health_inspector_create(HEALTH_PROTOCOL_DICOM);
    const struct message *rq = &conv->messages[0];
    health_inspector_feed(inspector, 0, rq->seq, rq->data, 10, &facts);
    /* bytes 20.. arrive before 10..19: a gap, the direction ends */
    health_inspector_feed(inspector, 0, rq->seq + 20, rq->data + 20, (uint32_t)rq->len - 20,
                          &facts);
    health_inspector_feed(inspector, 0, rq->seq + 10, rq->data + 10, (uint32_t)rq->len - 10,
                          &facts);
    ck_assert_uint_eq(facts.dicom.associations_requested, 0);
    ck_assert(!health_inspector_done(inspector));
    const struct message *ac = &conv->messages[1];
    health_inspector_feed(inspector, 1, ac->seq, ac->data, (uint32_t)ac->len, &facts);
    ck_assert_uint_eq(facts.dicom.associations_accepted, 1);
    health_inspector_feed(inspector, 1, ac->seq + (uint32_t)ac->len + 1, ac->data, 4, &facts);
    ck_assert(health_inspector_done(inspector));
    health_inspector_destroy(inspector);
    conv_free(conv);
}
END_TEST

START_TEST(test_dicom_privacy)
{
    struct conversation *conv = dicom_conversation();
    struct health_facts facts;
    for (size_t chunk = 0; chunk <= 7; chunk++) {
        run_and_free(HEALTH_PROTOCOL_DICOM, conv, chunk, 0, &facts);
        ck_assert(facts.dicom.dataset_transferred);
        assert_no_planted(&facts);
    }
    conv_free(conv);
    /* the real C-STORE of a data set naming the planted patient */
    conv = local_capture(HEALTH_DATA "dicom-store.pcap");
    bool planted = false;
    for (size_t i = 0; i < conv->count; i++)
        planted |= memmem(conv->messages[i].data, conv->messages[i].len, PLANTED_NAME, 8) != NULL;
    ck_assert(planted); /* the capture does carry it */
    run_and_free(HEALTH_PROTOCOL_DICOM, conv, 0, 0, &facts);
    ck_assert(facts.dicom.dataset_transferred);
    assert_no_planted(&facts);
    conv_free(conv);
}
END_TEST

/* Real associations made with dcmtk (tests/data/health/README.md); the
 * expected values were read with tshark -d tcp.port==11112,dicom -V. */
START_TEST(test_dicom_dcmtk_echo)
{
    struct conversation *conv = local_capture(HEALTH_DATA "dicom-echo.pcap");
    ck_assert_int_eq(
        health_protocol_detect(conv->messages[0].data, (uint32_t)conv->messages[0].len),
        HEALTH_PROTOCOL_DICOM);
    struct health_facts facts;
    run_and_free(HEALTH_PROTOCOL_DICOM, conv, 0, 0, &facts);
    const struct dicom_facts *d = &facts.dicom;
    ck_assert(d->seen);
    ck_assert_str_eq(d->calling_ae, "MODALITY_CT1");
    ck_assert_str_eq(d->called_ae, "PACS_MAIN");
    ck_assert_uint_eq(d->associations_requested, 1);
    ck_assert_uint_eq(d->associations_accepted, 1);
    ck_assert_uint_eq(d->releases, 1);
    ck_assert_uint_eq(d->data_pdus, 2);
    ck_assert(!d->dataset_transferred);
    ck_assert_uint_eq(d->sop_class_count, 1);
    ck_assert_str_eq(d->sop_classes[0], "Verification");
    assert_split_invariant(HEALTH_PROTOCOL_DICOM, conv, true);
    conv_free(conv);
}
END_TEST

START_TEST(test_dicom_dcmtk_store)
{
    struct conversation *conv = local_capture(HEALTH_DATA "dicom-store.pcap");
    struct health_facts facts;
    run_and_free(HEALTH_PROTOCOL_DICOM, conv, 0, 0, &facts);
    const struct dicom_facts *d = &facts.dicom;
    ck_assert_str_eq(d->calling_ae, "MODALITY_CT1");
    ck_assert_str_eq(d->called_ae, "PACS_MAIN");
    ck_assert_uint_eq(d->associations_requested, 1);
    ck_assert_uint_eq(d->associations_accepted, 1);
    ck_assert_uint_eq(d->releases, 1);
    ck_assert_uint_eq(d->aborts, 0);
    ck_assert_uint_eq(d->data_pdus, 3);
    ck_assert(d->dataset_transferred);
    /* storescu proposes 64 storage classes; the C-STORE used CT */
    ck_assert_uint_eq(d->sop_class_count, 1);
    ck_assert_str_eq(d->sop_classes[0], "CT Image Storage");
    ck_assert_uint_eq(d->sop_classes_dropped, 63);
    assert_split_invariant(HEALTH_PROTOCOL_DICOM, conv, false);
    conv_free(conv);

    conv = local_capture(HEALTH_DATA "dicom-store-abort.pcap");
    run_and_free(HEALTH_PROTOCOL_DICOM, conv, 0, 0, &facts);
    ck_assert_uint_eq(facts.dicom.aborts, 1);
    ck_assert_uint_eq(facts.dicom.releases, 0);
    ck_assert(facts.dicom.dataset_transferred);
    ck_assert_str_eq(facts.dicom.sop_classes[0], "CT Image Storage");
    conv_free(conv);

    conv = local_capture(HEALTH_DATA "dicom-refuse.pcap");
    run_and_free(HEALTH_PROTOCOL_DICOM, conv, 0, 0, &facts);
    ck_assert_uint_eq(facts.dicom.associations_requested, 1);
    ck_assert_uint_eq(facts.dicom.associations_rejected, 1);
    ck_assert_uint_eq(facts.dicom.associations_accepted, 0);
    ck_assert_str_eq(facts.dicom.called_ae, "PACS_REFUSE");
    ck_assert_uint_eq(facts.dicom.sop_class_count, 1);
    ck_assert_str_eq(facts.dicom.sop_classes[0], "Verification");
    conv_free(conv);
}
END_TEST

/* tapirx's captures (one direction only); values checked with tshark. */
START_TEST(test_dicom_tapirx)
{
    struct conversation *conv = tapirx("dicom_arq_1_find_testclient.pcap");
    if (conv == NULL)
        return;
    struct health_facts facts;
    run_and_free(HEALTH_PROTOCOL_DICOM, conv, 0, 0, &facts);
    ck_assert_str_eq(facts.dicom.calling_ae, "testclient");
    ck_assert_str_eq(facts.dicom.called_ae, "testserver");
    ck_assert_uint_eq(facts.dicom.associations_requested, 1);
    ck_assert_uint_eq(facts.dicom.sop_class_count, 4);
    ck_assert_str_eq(facts.dicom.sop_classes[0], "Patient Root Q/R FIND");
    ck_assert_str_eq(facts.dicom.sop_classes[1], "Study Root Q/R FIND");
    ck_assert_str_eq(facts.dicom.sop_classes[2], "Patient/Study Only Q/R FIND");
    ck_assert_str_eq(facts.dicom.sop_classes[3], "Modality Worklist FIND");
    assert_split_invariant(HEALTH_PROTOCOL_DICOM, conv, true);
    conv_free(conv);

    conv = tapirx("dicom_arq_3_find_bogus_local.pcap");
    ck_assert_ptr_nonnull(conv);
    run_and_free(HEALTH_PROTOCOL_DICOM, conv, 0, 0, &facts);
    ck_assert_str_eq(facts.dicom.calling_ae, "bogus_local");
    ck_assert_str_eq(facts.dicom.called_ae, "bogus_remote");
    conv_free(conv);

    /* a 16 KiB C-GET proposal of 123 classes in two segments, no P-DATA */
    conv = tapirx("dicom_arq_2_get_testclient.pcap");
    ck_assert_ptr_nonnull(conv);
    ck_assert_uint_eq(conv->count, 2);
    run_and_free(HEALTH_PROTOCOL_DICOM, conv, 0, 0, &facts);
    ck_assert_uint_eq(facts.dicom.associations_requested, 1);
    ck_assert_uint_eq(facts.dicom.sop_class_count, 0);
    ck_assert_uint_eq(facts.dicom.sop_classes_dropped, 123);
    ck_assert_str_eq(facts.dicom.calling_ae, "testclient");
    assert_split_invariant(HEALTH_PROTOCOL_DICOM, conv, false);
    conv_free(conv);
}
END_TEST

START_TEST(test_dicom_uid_table)
{
    size_t count = 0;
    for (size_t i = 0; dicom_uid_table_uid(i) != NULL; i++, count++) {
        const char *uid = dicom_uid_table_uid(i);
        ck_assert_uint_lt(strlen(dicom_uid_table_name(i)), FACT_NAME_MAX);
        ck_assert_uint_le(strspn(uid, "0123456789."), strlen(uid));
        ck_assert_str_eq(dicom_uid_name(uid), dicom_uid_table_name(i));
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(dicom_uid_table_uid(j), uid);
    }
    ck_assert_uint_ge(count, 60);
    ck_assert_str_eq(dicom_uid_name("1.2.840.10008.1.1"), "Verification");
    ck_assert_str_eq(dicom_uid_name("1.2.840.10008.5.1.4.31"), "Modality Worklist FIND");
    ck_assert_str_eq(dicom_uid_name("1.2.840.10008.1.20.1"), "Storage Commitment Push");
    ck_assert_str_eq(dicom_uid_name("1.2.840.10008.5.1.4.1.1.104.1"), "Encapsulated PDF Storage");
    ck_assert_ptr_null(dicom_uid_name("1.2.840.10008.5.1.4.1.1.2.9"));
    ck_assert_ptr_null(dicom_uid_name(NULL));
    ck_assert_ptr_null(dicom_uid_table_uid(count));
    ck_assert_ptr_null(dicom_uid_table_name(count));
}
END_TEST

/* ---- HL7 -------------------------------------------------------------- */

#define SB "\x0b"
#define EB "\x1c\r"

static const char hl7_adt[] =
    SB "MSH|^~\\&|ADT_APP|WARD_7|LIS_APP|LAB|20240101120000||ADT^A01^ADT_A01|MSG001|P|2.5.1\r"
       "EVN|A01|20240101120000\r"
       "PID|1||" PLANTED_ID "^^^HOSP^MR||" PLANTED_NAME "||19800101|F\r"
       "PV1|1|I|W7^12^1\r"
       "OBX|1|NM|8867-4^Heart rate^LN||72|/min|||||F|||20240101|" PLANTED_NAME "\r" EB;

static const char hl7_ack[] =
    SB "MSH|^~\\&|LIS_APP|LAB|ADT_APP|WARD_7|20240101120001||ACK^A01|ACK001|P|2.5.1\r"
       "MSA|AA|MSG001\r" EB;

static struct conversation *hl7_conversation(void)
{
    struct conversation *conv = conv_new();
    conv_add_str(conv, 0, hl7_adt);
    conv_add_str(conv, 1, hl7_ack);
    conv_add_str(conv, 0,
                 SB "MSH|^~\\&|ADT_APP|WARD_7|LIS_APP|LAB|20240101120500||ORU^R01|MSG002|P|2.5.1\n"
                    "PID|1||" PLANTED_ID "||" PLANTED_NAME "\n"
                    "OBX|1|ST|NOTE||" PLANTED_NAME " " PLANTED_ID "\n" EB);
    conv_add_str(conv, 1,
                 SB "MSH|^~\\&|LIS_APP|LAB|ADT_APP|WARD_7|20240101120501||ACK|ACK002|P|2.5.1\r\n"
                    "MSA|AE|MSG002|bad " PLANTED_NAME "\r\n" EB);
    return conv;
}

START_TEST(test_hl7_detect)
{
    ck_assert_int_eq(health_protocol_detect((const uint8_t *)hl7_adt, sizeof(hl7_adt) - 1),
                     HEALTH_PROTOCOL_HL7);
    ck_assert_int_eq(health_protocol_detect((const uint8_t *)SB "FHS|^~\\&", 9),
                     HEALTH_PROTOCOL_HL7);
    ck_assert_int_eq(health_protocol_detect((const uint8_t *)SB "BHS|", 5), HEALTH_PROTOCOL_HL7);
    ck_assert_int_eq(health_protocol_detect((const uint8_t *)SB "MS", 3), HEALTH_PROTOCOL_NONE);
    ck_assert_int_eq(health_protocol_detect((const uint8_t *)"MSH|^~\\&|", 9),
                     HEALTH_PROTOCOL_NONE);
    ck_assert_int_eq(health_protocol_detect((const uint8_t *)SB "PID|1", 6), HEALTH_PROTOCOL_NONE);
}
END_TEST

START_TEST(test_hl7_messages_and_acks)
{
    struct conversation *conv = hl7_conversation();
    struct health_facts facts;
    run_and_free(HEALTH_PROTOCOL_HL7, conv, 0, 0, &facts);
    const struct hl7_facts *h = &facts.hl7;
    ck_assert(h->seen);
    ck_assert_uint_eq(h->messages, 2);
    ck_assert_uint_eq(h->acks, 2);
    ck_assert_uint_eq(h->ack_errors, 1);
    ck_assert_uint_eq(h->message_type_count, 4);
    ck_assert_str_eq(h->message_types[0], "ADT^A01");
    ck_assert_str_eq(h->message_types[1], "ACK^A01");
    ck_assert_str_eq(h->message_types[2], "ORU^R01");
    ck_assert_str_eq(h->message_types[3], "ACK");
    ck_assert_str_eq(h->sending_application, "ADT_APP");
    ck_assert_str_eq(h->sending_facility, "WARD_7");
    ck_assert_str_eq(h->receiving_application, "LIS_APP");
    ck_assert_str_eq(h->receiving_facility, "LAB");
    ck_assert_str_eq(h->version, "2.5.1");
    ck_assert(!facts.dicom.seen);
    assert_no_planted(&facts);
    conv_free(conv);
}
END_TEST

START_TEST(test_hl7_split_everywhere)
{
    struct conversation *conv = hl7_conversation();
    assert_split_invariant(HEALTH_PROTOCOL_HL7, conv, true);
    conv_free(conv);
}
END_TEST

START_TEST(test_hl7_batch)
{
    /* a batch in one block: FHS, BHS, three messages, BTS, FTS */
    struct conversation *conv = conv_new();
    conv_add_str(conv, 0,
                 SB "FHS|^~\\&|LAB_BATCH|SITE\r"
                    "BHS|^~\\&|LAB_BATCH|SITE\r"
                    "MSH|^~\\&|LAB_APP^1.2.3^ISO|SITE^x|EHR|HOSP||| ORU^R01|1|P|2.3\r"
                    "PID|1||" PLANTED_ID "\r"
                    "MSH|^~\\&|LAB_APP|SITE|EHR|HOSP|||ORU^R01|2|P|2.3\r"
                    "OBX|1|ST|X||" PLANTED_NAME "\r"
                    "MSH|^~\\&|LAB_APP|SITE|EHR|HOSP|||ORU^R03|3|P|2.3\r"
                    "BTS|3\rFTS|1\r" EB);
    struct health_facts facts;
    run_and_free(HEALTH_PROTOCOL_HL7, conv, 0, 0, &facts);
    const struct hl7_facts *h = &facts.hl7;
    /* the first MSH has " ORU" (a space): not a message type, so not a message */
    ck_assert_uint_eq(h->messages, 2);
    ck_assert_uint_eq(h->acks, 0);
    ck_assert_uint_eq(h->message_type_count, 2);
    ck_assert_str_eq(h->message_types[0], "ORU^R01");
    ck_assert_str_eq(h->message_types[1], "ORU^R03");
    ck_assert_str_eq(h->sending_application, "LAB_APP");
    ck_assert_str_eq(h->version, "2.3");
    assert_no_planted(&facts);
    assert_split_invariant(HEALTH_PROTOCOL_HL7, conv, true);
    conv_free(conv);
}
END_TEST

START_TEST(test_hl7_several_blocks_one_segment)
{
    /* two blocks in one TCP segment, other encoding characters ('#', '$') */
    struct conversation *conv = conv_new();
    conv_add_str(conv, 0,
                 SB "MSH#$~\\&#PUMP_GW#ICU#EMR#HOSP###RDE$O11#9#P#2.6\r" EB SB
                    "MSH#$~\\&#PUMP_GW#ICU#EMR#HOSP###RGV$O15#10#P#2.6\r" EB);
    struct health_facts facts;
    run_and_free(HEALTH_PROTOCOL_HL7, conv, 0, 0, &facts);
    ck_assert_uint_eq(facts.hl7.messages, 2);
    ck_assert_str_eq(facts.hl7.message_types[0], "RDE^O11");
    ck_assert_str_eq(facts.hl7.message_types[1], "RGV^O15");
    ck_assert_str_eq(facts.hl7.sending_application, "PUMP_GW");
    ck_assert_str_eq(facts.hl7.version, "2.6");
    conv_free(conv);
}
END_TEST

START_TEST(test_hl7_truncated_and_restarted)
{
    struct health_facts facts;
    /* no end block: the message never ends, nothing is committed */
    struct conversation *conv = conv_new();
    conv_add(conv, 0, hl7_adt, sizeof(hl7_adt) - 3);
    run_and_free(HEALTH_PROTOCOL_HL7, conv, 0, 0, &facts);
    ck_assert(!facts.hl7.seen);
    ck_assert_uint_eq(facts.hl7.messages, 0);
    ck_assert_uint_eq(facts.hl7.message_type_count, 0);
    ck_assert_str_eq(facts.hl7.sending_application, "");
    conv_free(conv);

    /* a block cut short by a new start block: only the second counts */
    conv = conv_new();
    conv_add_str(conv, 0, SB "MSH|^~\\&|A|B|C|D|||ADT^A04|1|P|2.4\rPID|1\r");
    conv_add_str(conv, 0, SB "MSH|^~\\&|A|B|C|D|||ADT^A08|2|P|2.4\r" EB);
    run_and_free(HEALTH_PROTOCOL_HL7, conv, 0, 0, &facts);
    ck_assert_uint_eq(facts.hl7.messages, 1);
    ck_assert_uint_eq(facts.hl7.message_type_count, 1);
    ck_assert_str_eq(facts.hl7.message_types[0], "ADT^A08");
    conv_free(conv);

    /* an MSH without fields, an MSH with a letter as separator, an MSA
     * outside a message: none is a message */
    conv = conv_new();
    conv_add_str(conv, 0, SB "MSH\r" EB SB "MSHX^~\\&XAXBXCXDXXXADT^A01XX\r" EB SB "MSA|AA|1\r" EB);
    run_and_free(HEALTH_PROTOCOL_HL7, conv, 0, 0, &facts);
    ck_assert(!facts.hl7.seen);
    ck_assert_uint_eq(facts.hl7.acks, 0);
    conv_free(conv);
}
END_TEST

START_TEST(test_hl7_type_list_cap_and_names)
{
    struct conversation *conv = conv_new();
    for (int i = 0; i < 12; i++) {
        char message[128];
        snprintf(message, sizeof(message),
                 SB "MSH|^~\\&|APP_%c\x7f|FAC|R|RF|||ADT^A%02d|%d|P|2.5\r" EB, 'A' + i, i, i);
        conv_add_str(conv, 0, message);
    }
    struct health_facts facts;
    run_and_free(HEALTH_PROTOCOL_HL7, conv, 0, 0, &facts);
    ck_assert_uint_eq(facts.hl7.messages, 12);
    ck_assert_uint_eq(facts.hl7.message_type_count, FACT_HEALTH_TYPES_MAX);
    ck_assert_str_eq(facts.hl7.message_types[7], "ADT^A07");
    ck_assert_str_eq(facts.hl7.sending_application, "APP_A?"); /* first message, printable */
    conv_free(conv);

    /* long and odd fields are cut or refused */
    conv = conv_new();
    conv_add_str(conv, 0,
                 SB "MSH|^~\\&|THIS_APPLICATION_NAME_IS_FAR_TOO_LONG_TO_KEEP|F|R|RF|||"
                    "ADT^A01|1|P|2.5.1.2.3.4\r" EB SB
                    "MSH|^~\\&|A|F|R|RF|||LONGCODE^A01|2|P|2.5\r" EB SB
                    "MSH|^~\\&|A|F|R|RF|||ADT^A0-1|3|P|2.5\r" EB);
    run_and_free(HEALTH_PROTOCOL_HL7, conv, 0, 0, &facts);
    ck_assert_uint_eq(facts.hl7.messages, 1);
    ck_assert_uint_eq(strlen(facts.hl7.sending_application), FACT_NAME_MAX - 1);
    ck_assert_str_eq(facts.hl7.version, "");
    conv_free(conv);
}
END_TEST

START_TEST(test_hl7_server_only_names)
{
    /* only the server's ACK was captured: its header names the client as
     * receiver, so the names are swapped back */
    struct conversation *conv = conv_new();
    conv_add_str(conv, 1, hl7_ack);
    struct health_facts facts;
    run_and_free(HEALTH_PROTOCOL_HL7, conv, 0, 0, &facts);
    ck_assert_uint_eq(facts.hl7.messages, 0);
    ck_assert_uint_eq(facts.hl7.acks, 1);
    ck_assert_uint_eq(facts.hl7.ack_errors, 0);
    ck_assert_str_eq(facts.hl7.sending_application, "ADT_APP");
    ck_assert_str_eq(facts.hl7.receiving_application, "LIS_APP");
    ck_assert_str_eq(facts.hl7.receiving_facility, "LAB");
    conv_free(conv);

    /* AR, CE, CR are errors too; CA is not */
    conv = conv_new();
    const char *codes[] = {"AR", "CE", "CR", "CA"};
    for (int i = 0; i < 4; i++) {
        char message[128];
        snprintf(message, sizeof(message), SB "MSH|^~\\&|L|F|A|W|||ACK|%d|P|2.5\rMSA|%s|%d\r" EB, i,
                 codes[i], i);
        conv_add_str(conv, 1, message);
    }
    run_and_free(HEALTH_PROTOCOL_HL7, conv, 0, 0, &facts);
    ck_assert_uint_eq(facts.hl7.acks, 4);
    ck_assert_uint_eq(facts.hl7.ack_errors, 3);
    conv_free(conv);
}
END_TEST

START_TEST(test_hl7_not_mllp)
{
    struct conversation *conv = conv_new();
    char *garbage = malloc(5000);
    memset(garbage, 'x', 5000);
    conv_add(conv, 0, garbage, 5000);
    conv_add(conv, 1, garbage, 5000);
    struct health_facts facts;
    struct health_inspector *inspector = run(HEALTH_PROTOCOL_HL7, conv, 0, 0, &facts);
    ck_assert(health_inspector_done(inspector));
    ck_assert(!facts.hl7.seen);
    health_inspector_destroy(inspector);
    free(garbage);
    conv_free(conv);
}
END_TEST

/* tapirx's HL7 captures; MSH/MSA values checked with tshark's payload. */
START_TEST(test_hl7_tapirx)
{
    static const struct {
        const char *file;
        const char *type;
        const char *app;
        const char *facility;
    } cases[] = {
        {"HL7-ADT.pcap", "ADT^A01", "SENDING_APPLICATION", "SENDING_FACILITY"},
        {"HL7-ADT-UDI-OBX.pcap", "ADT^A01", "SENDING_APPLICATION", "SENDING_FACILITY"},
        {"HL7-ADT-UDI-PRT.pcap", "ADT^A01", "SENDING_APPLICATION", "SENDING_FACILITY"},
        {"HL7-ORM.pcap", "ORM^O01", "SendingApp", "SendingFac"},
        {"HL7-ORU.pcap", "ORU^R01", "SendingApp", "SendingFac"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct conversation *conv = tapirx(cases[i].file);
        if (conv == NULL)
            return;
        ck_assert_int_eq(
            health_protocol_detect(conv->messages[0].data, (uint32_t)conv->messages[0].len),
            HEALTH_PROTOCOL_HL7);
        struct health_facts facts;
        run_and_free(HEALTH_PROTOCOL_HL7, conv, 0, 0, &facts);
        const struct hl7_facts *h = &facts.hl7;
        ck_assert(h->seen);
        ck_assert_uint_eq(h->messages, 1);
        ck_assert_uint_eq(h->acks, 1);
        ck_assert_uint_eq(h->ack_errors, 0);
        ck_assert_uint_eq(h->message_type_count, 2);
        ck_assert_str_eq(h->message_types[0], cases[i].type);
        ck_assert_str_eq(h->message_types[1], "ACK");
        ck_assert_str_eq(h->sending_application, cases[i].app);
        ck_assert_str_eq(h->sending_facility, cases[i].facility);
        ck_assert_str_eq(h->version, "2.3");
        assert_split_invariant(HEALTH_PROTOCOL_HL7, conv, i == 4);
        conv_free(conv);
    }
}
END_TEST

/* ---- FHIR ------------------------------------------------------------- */

static const char fhir_post[] = "POST /fhir/R4/Encounter HTTP/1.1\r\n"
                                "Host: ehr.example\r\n"
                                "Authorization: Bearer " PLANTED_ID "\r\n"
                                "Content-Type: application/fhir+json; charset=utf-8\r\n"
                                "Content-Length: 49\r\n"
                                "\r\n"
                                "{\"resourceType\":\"Encounter\",\"subject\":\"" PLANTED_NAME "\"}";

static struct conversation *fhir_conversation(void)
{
    struct conversation *conv = conv_new();
    conv_add_str(conv, 0,
                 "GET /fhir/Patient?identifier=" PLANTED_ID "&name=" PLANTED_NAME " HTTP/1.1\r\n"
                 "Host: ehr.example\r\nAccept: application/fhir+json\r\n\r\n");
    conv_add_str(conv, 1,
                 "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\n"
                 "Content-Length: 28\r\n\r\n{\"name\":\"" PLANTED_NAME "\",\"x\":1}");
    conv_add_str(conv, 0,
                 "GET /baseR4/Observation/" PLANTED_ID "/_history/2 HTTP/1.1\r\n"
                 "Cookie: session=" PLANTED_NAME "\r\n\r\n");
    conv_add_str(conv, 1, "HTTP/1.1 304 Not Modified\r\n\r\n");
    conv_add(conv, 0, fhir_post, strlen(fhir_post));
    conv_add_str(conv, 1,
                 "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n"
                 "Content-Length: 0\r\n\r\n");
    conv_add_str(conv, 0, "GET /index.html HTTP/1.1\r\nHost: ehr.example\r\n\r\n");
    conv_add_str(conv, 0, "GET /Patient HTTP/1.0\n\n");
    return conv;
}

START_TEST(test_fhir_detect)
{
    static const struct {
        const char *request;
        enum health_protocol expected;
    } cases[] = {
        {"GET /fhir/Patient?name=x HTTP/1.1\r\n", HEALTH_PROTOCOL_FHIR},
        {"GET /Patient/123 HTTP/1.1\r\n", HEALTH_PROTOCOL_FHIR},
        {"GET /Patient", HEALTH_PROTOCOL_FHIR},
        {"GET /Patient?x=1 HTTP/1.1\r\n", HEALTH_PROTOCOL_FHIR},
        {"GET /hapi/fhir/metadata HTTP/1.1\r\n", HEALTH_PROTOCOL_FHIR},
        {"GET /api/FHIR/R4/Observation HTTP/1.1\r\n", HEALTH_PROTOCOL_FHIR},
        {"GET http://ehr.example/baseR4/Device HTTP/1.1\r\n", HEALTH_PROTOCOL_FHIR},
        {"POST /hl7 HTTP/1.1\r\nHost: x\r\ncontent-type: x-application/hl7-v2+er7\r\n\r\n",
         HEALTH_PROTOCOL_FHIR},
        {"GET /api/v1 HTTP/1.1\r\nAccept: text/html, application/fhir+xml;q=0.9\r\n\r\n",
         HEALTH_PROTOCOL_FHIR},
        {"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n", HEALTH_PROTOCOL_NONE},
        {"GET /patient/123 HTTP/1.1\r\n", HEALTH_PROTOCOL_NONE},
        {"GET /static/Patient.css HTTP/1.1\r\n", HEALTH_PROTOCOL_NONE},
        {"GET /app/Patient HTTP/1.1\r\n", HEALTH_PROTOCOL_NONE},
        {"get /Patient HTTP/1.1\r\n", HEALTH_PROTOCOL_NONE},
        {"HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\n", HEALTH_PROTOCOL_NONE},
        {"POST /x HTTP/1.1\r\nContent-Type: application/json\r\n\r\n", HEALTH_PROTOCOL_NONE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *request = cases[i].request;
        ck_assert_msg(health_protocol_detect((const uint8_t *)request, (uint32_t)strlen(request)) ==
                          cases[i].expected,
                      "case %zu: %s", i, request);
    }
}
END_TEST

START_TEST(test_fhir_requests)
{
    struct conversation *conv = fhir_conversation();
    struct health_facts facts;
    struct health_inspector *inspector = run(HEALTH_PROTOCOL_FHIR, conv, 0, 0, &facts);
    const struct fhir_facts *f = &facts.fhir;
    ck_assert(f->seen);
    ck_assert_uint_eq(f->requests, 4);
    ck_assert_uint_eq(f->resource_type_count, 3);
    ck_assert_str_eq(f->resource_types[0], "Patient");
    ck_assert_str_eq(f->resource_types[1], "Observation");
    ck_assert_str_eq(f->resource_types[2], "Encounter");
    ck_assert_str_eq(f->content_type, "application/fhir+json");
    ck_assert(!health_inspector_done(inspector));
    health_inspector_destroy(inspector);
    assert_no_planted(&facts);
    ck_assert_ptr_null(memmem(&facts, sizeof(facts), "identifier", 10));
    ck_assert_ptr_null(memmem(&facts, sizeof(facts), "Bearer", 6));
    conv_free(conv);
}
END_TEST

START_TEST(test_fhir_split_everywhere)
{
    struct conversation *conv = fhir_conversation();
    assert_split_invariant(HEALTH_PROTOCOL_FHIR, conv, true);
    conv_free(conv);
}
END_TEST

START_TEST(test_fhir_content_types)
{
    struct health_facts facts;
    /* HL7 v2 over HTTP: only the content type tells */
    struct conversation *conv = conv_new();
    conv_add_str(conv, 0,
                 "POST /interfaces/in HTTP/1.1\r\nContent-Type: X-Application/HL7-V2+ER7"
                 "\r\nContent-Length: 5\r\n\r\nMSH|^");
    conv_add_str(conv, 0,
                 "POST /interfaces/in HTTP/1.1\r\nContent-Type: text/plain\r\n"
                 "Content-Length: 5\r\n\r\nhello");
    run_and_free(HEALTH_PROTOCOL_FHIR, conv, 0, 0, &facts);
    ck_assert_uint_eq(facts.fhir.requests, 1);
    ck_assert_uint_eq(facts.fhir.resource_type_count, 0);
    ck_assert_str_eq(facts.fhir.content_type, "x-application/hl7-v2+er7");
    conv_free(conv);

    /* a FHIR path with a generic type first, then a FHIR type replaces it */
    conv = conv_new();
    conv_add_str(conv, 0,
                 "PUT /fhir/Device/7 HTTP/1.1\r\nContent-Type: application/json\r\n"
                 "Content-Length: 2\r\n\r\n{}");
    conv_add_str(conv, 1,
                 "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+xml\r\n"
                 "Content-Length: 3\r\n\r\n<a/>");
    run_and_free(HEALTH_PROTOCOL_FHIR, conv, 0, 0, &facts);
    ck_assert_uint_eq(facts.fhir.requests, 1);
    ck_assert_str_eq(facts.fhir.resource_types[0], "Device");
    ck_assert_str_eq(facts.fhir.content_type, "application/fhir+xml");
    conv_free(conv);

    ck_assert(fhir_media_is_health("application/json+fhir"));
    ck_assert(fhir_media_is_health("application/hl7-v2"));
    ck_assert(!fhir_media_is_health("application/json"));
    ck_assert_str_eq(fhir_resource_type("Patient", 7), "Patient");
    ck_assert_ptr_null(fhir_resource_type("Patien", 6));
    ck_assert_ptr_null(fhir_resource_type("patient", 7));
}
END_TEST

START_TEST(test_fhir_unframed_bodies)
{
    struct health_facts facts;
    /* a chunked request body cannot be skipped: the client direction ends */
    struct conversation *conv = conv_new();
    conv_add_str(conv, 0,
                 "POST /fhir/Bundle HTTP/1.1\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"
                 "5\r\nhello\r\n0\r\n\r\nGET /fhir/Patient HTTP/1.1\r\n\r\n");
    conv_add_str(conv, 1, "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\n\r\n{}");
    struct health_inspector *inspector = run(HEALTH_PROTOCOL_FHIR, conv, 0, 0, &facts);
    ck_assert_uint_eq(facts.fhir.requests, 1);
    ck_assert_uint_eq(facts.fhir.resource_type_count, 1);
    ck_assert_str_eq(facts.fhir.resource_types[0], "Bundle");
    ck_assert_str_eq(facts.fhir.content_type, "application/fhir+json");
    ck_assert(health_inspector_done(inspector)); /* the close-delimited response ends it */
    health_inspector_destroy(inspector);
    conv_free(conv);

    /* not HTTP at all */
    conv = conv_new();
    static const uint8_t tls_hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc};
    conv_add(conv, 0, tls_hello, sizeof(tls_hello));
    inspector = run(HEALTH_PROTOCOL_FHIR, conv, 0, 0, &facts);
    ck_assert(!facts.fhir.seen);
    ck_assert(!health_inspector_done(inspector));
    health_inspector_feed(inspector, 1, 0, (const uint8_t *)"SSH-2.0-x\r\n", 11, &facts);
    ck_assert(health_inspector_done(inspector));
    health_inspector_destroy(inspector);
    conv_free(conv);

    /* a very long request line and header are cut, not buffered */
    conv = conv_new();
    char *line = malloc(4096);
    memset(line, 'a', 4095);
    line[4095] = '\0';
    memcpy(line, "GET /fhir/Patient/", 18);
    conv_add_str(conv, 0, line);
    conv_add_str(conv, 0, " HTTP/1.1\r\nAccept: ");
    conv_add_str(conv, 0, line);
    conv_add_str(conv, 0, "\r\n\r\n");
    run_and_free(HEALTH_PROTOCOL_FHIR, conv, 0, 0, &facts);
    ck_assert_uint_eq(facts.fhir.requests, 1);
    ck_assert_str_eq(facts.fhir.resource_types[0], "Patient");
    free(line);
    conv_free(conv);
}
END_TEST

/* ---- common ----------------------------------------------------------- */

START_TEST(test_common)
{
    ck_assert_str_eq(health_protocol_name(HEALTH_PROTOCOL_DICOM), "DICOM");
    ck_assert_str_eq(health_protocol_name(HEALTH_PROTOCOL_HL7), "HL7");
    ck_assert_str_eq(health_protocol_name(HEALTH_PROTOCOL_FHIR), "FHIR");
    ck_assert_str_eq(health_protocol_name(HEALTH_PROTOCOL_NONE), "none");
    ck_assert_int_eq(health_protocol_detect((const uint8_t *)"", 0), HEALTH_PROTOCOL_NONE);
    ck_assert_int_eq(health_protocol_detect((const uint8_t *)"\x01", 1), HEALTH_PROTOCOL_NONE);

    struct health_facts facts;
    memset(&facts, 0, sizeof(facts));
    struct health_inspector *none = health_inspector_create(HEALTH_PROTOCOL_NONE);
    ck_assert_ptr_nonnull(none);
    ck_assert(health_inspector_done(none));
    health_inspector_feed(none, 0, 1, (const uint8_t *)hl7_adt, sizeof(hl7_adt) - 1, &facts);
    ck_assert(!facts.hl7.seen);
    health_inspector_destroy(none);

    struct health_inspector *inspector = health_inspector_create(HEALTH_PROTOCOL_HL7);
    health_inspector_feed(inspector, 2, 1, (const uint8_t *)hl7_adt, 10, &facts);
    health_inspector_feed(inspector, -1, 1, (const uint8_t *)hl7_adt, 10, &facts);
    health_inspector_feed(inspector, 0, 1, NULL, 10, &facts);
    health_inspector_feed(inspector, 0, 1, (const uint8_t *)hl7_adt, 10, NULL);
    health_inspector_feed(NULL, 0, 1, (const uint8_t *)hl7_adt, 10, &facts);
    health_inspector_feed(inspector, 0, 1, (const uint8_t *)hl7_adt, 0, &facts);
    ck_assert(!health_inspector_done(inspector));
    health_inspector_feed(inspector, 0, 100, (const uint8_t *)hl7_adt, sizeof(hl7_adt) - 1, &facts);
    ck_assert(facts.hl7.seen);
    ck_assert(health_inspector_done(NULL));
    health_inspector_destroy(inspector);
    health_inspector_destroy(NULL);
}
END_TEST

static Suite *inspect_health_suite(void)
{
    Suite *suite = suite_create("inspect_health");
    TCase *dicom = tcase_create("dicom");
    tcase_set_timeout(dicom, 120);
    tcase_add_test(dicom, test_dicom_detect);
    tcase_add_test(dicom, test_dicom_association);
    tcase_add_test(dicom, test_dicom_long_uid_tail);
    tcase_add_test(dicom, test_dicom_split_everywhere);
    tcase_add_test(dicom, test_dicom_large_proposal_records_used_classes);
    tcase_add_test(dicom, test_dicom_reject_and_abort);
    tcase_add_test(dicom, test_dicom_truncated);
    tcase_add_test(dicom, test_dicom_bogus_lengths);
    tcase_add_test(dicom, test_dicom_bad_uids_and_titles);
    tcase_add_test(dicom, test_dicom_gap_ends_direction);
    tcase_add_test(dicom, test_dicom_privacy);
    tcase_add_test(dicom, test_dicom_dcmtk_echo);
    tcase_add_test(dicom, test_dicom_dcmtk_store);
    tcase_add_test(dicom, test_dicom_tapirx);
    tcase_add_test(dicom, test_dicom_uid_table);
    suite_add_tcase(suite, dicom);
    TCase *hl7 = tcase_create("hl7");
    tcase_set_timeout(hl7, 120);
    tcase_add_test(hl7, test_hl7_detect);
    tcase_add_test(hl7, test_hl7_messages_and_acks);
    tcase_add_test(hl7, test_hl7_split_everywhere);
    tcase_add_test(hl7, test_hl7_batch);
    tcase_add_test(hl7, test_hl7_several_blocks_one_segment);
    tcase_add_test(hl7, test_hl7_truncated_and_restarted);
    tcase_add_test(hl7, test_hl7_type_list_cap_and_names);
    tcase_add_test(hl7, test_hl7_server_only_names);
    tcase_add_test(hl7, test_hl7_not_mllp);
    tcase_add_test(hl7, test_hl7_tapirx);
    suite_add_tcase(suite, hl7);
    TCase *fhir = tcase_create("fhir");
    tcase_set_timeout(fhir, 120);
    tcase_add_test(fhir, test_fhir_detect);
    tcase_add_test(fhir, test_fhir_requests);
    tcase_add_test(fhir, test_fhir_split_everywhere);
    tcase_add_test(fhir, test_fhir_content_types);
    tcase_add_test(fhir, test_fhir_unframed_bodies);
    tcase_add_test(fhir, test_common);
    suite_add_tcase(suite, fhir);
    return suite;
}

int main(void)
{
    SRunner *runner = srunner_create(inspect_health_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
