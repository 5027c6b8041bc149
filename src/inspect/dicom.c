/* inspect/dicom: DICOM upper layer PDUs (PS3.8 section 9.3).
 *
 * A byte-driven state machine per direction. Association PDUs (RQ, AC, RJ)
 * and the short release/abort PDUs are collected whole (at most
 * HEALTH_STREAM_CAP) and parsed with the bounded reader. P-DATA-TF PDUs are
 * never collected: only each PDV item's 6-byte header is read (length,
 * context id, message control header) and the fragment itself is skipped
 * unread, so no byte of a command or data set outlives the call. */
#include "inspect/dicom.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fluxaudit/inspect_health.h"
#include "inspect/dicom_uids.h"
#include "inspect/health_util.h"

enum {
    DICOM_PDU_ASSOCIATE_RQ = 0x01,
    DICOM_PDU_ASSOCIATE_AC = 0x02,
    DICOM_PDU_ASSOCIATE_RJ = 0x03,
    DICOM_PDU_P_DATA_TF = 0x04,
    DICOM_PDU_RELEASE_RQ = 0x05,
    DICOM_PDU_RELEASE_RP = 0x06,
    DICOM_PDU_ABORT = 0x07,
};

enum {
    DICOM_ITEM_PRESENTATION_CONTEXT_RQ = 0x20,
    DICOM_ITEM_ABSTRACT_SYNTAX = 0x30,
};

#define DICOM_ASSOCIATE_FIXED 68 /* version, reserved, called AE, calling AE, reserved */
#define DICOM_SHORT_PDU_LENGTH 4 /* RJ, release and abort bodies */
#define DICOM_AE_FIELD 16
#define DICOM_UID_MAX 64
#define DICOM_MCH_COMMAND 0x01 /* message control header bit 0: command, else data set */

bool dicom_detect(const uint8_t *payload, uint32_t len)
{
    struct reader r = reader_make(payload, len);
    uint8_t type = reader_u8(&r);
    uint8_t reserved = reader_u8(&r);
    uint32_t length = reader_be32(&r);
    uint16_t version = reader_be16(&r);
    return !r.failed && type == DICOM_PDU_ASSOCIATE_RQ && reserved == 0 &&
           length >= DICOM_ASSOCIATE_FIXED && length <= HEALTH_STREAM_CAP && version == 0x0001;
}

/* Copies a 16-byte AE title: leading and trailing spaces (and NUL padding)
 * are not significant (PS3.8 9.3.2); anything not printable becomes '?'. */
static void dicom_copy_ae_title(const uint8_t field[DICOM_AE_FIELD], char out[FACT_AE_TITLE_MAX])
{
    size_t start = 0;
    size_t end = DICOM_AE_FIELD;
    while (start < end && (field[start] == ' ' || field[start] == '\0'))
        start++;
    while (end > start && (field[end - 1] == ' ' || field[end - 1] == '\0'))
        end--;
    size_t len = 0;
    for (size_t i = start; i < end; i++)
        out[len++] = health_is_printable(field[i]) ? (char)field[i] : '?';
    out[len] = '\0';
}

/* Reads a UID value (digits and dots, PS3.5 9.1; padded with a NUL or a
 * space to even length) into `out`. Returns false if it is not one. */
static bool dicom_read_uid(struct reader *value, char out[DICOM_UID_MAX + 1])
{
    size_t len = reader_left(value);
    while (len > 0 && (reader_peek(value, len - 1) == '\0' || reader_peek(value, len - 1) == ' '))
        len--;
    if (len == 0 || len > DICOM_UID_MAX)
        return false;
    char previous = '.';
    for (size_t i = 0; i < len; i++) {
        char c = (char)reader_peek(value, i);
        bool digit = c >= '0' && c <= '9';
        if (!digit && (c != '.' || previous == '.'))
            return false;
        out[i] = c;
        previous = c;
    }
    out[len] = '\0';
    return previous != '.';
}

/* The fact name of an abstract syntax: its table name, or the UID itself.
 * A UID too long for a fact name keeps its tail, where UIDs sharing a root
 * differ, after a '~' marking the cut. */
static void dicom_sop_class_name(const char *uid, char name[FACT_NAME_MAX])
{
    const char *known = dicom_uid_name(uid);
    if (known != NULL) {
        snprintf(name, FACT_NAME_MAX, "%s", known);
    } else if (strlen(uid) < FACT_NAME_MAX) {
        snprintf(name, FACT_NAME_MAX, "%s", uid);
    } else {
        size_t keep = FACT_NAME_MAX - 2;
        name[0] = '~';
        memcpy(name + 1, uid + strlen(uid) - keep, keep + 1);
    }
}

/* Records an abstract syntax straight into the facts. */
static void dicom_record_sop_class(const char *uid, struct dicom_facts *facts)
{
    char name[FACT_NAME_MAX];
    dicom_sop_class_name(uid, name);
    if (!health_list_add(&facts->sop_classes[0][0], FACT_NAME_MAX, FACT_HEALTH_TYPES_MAX,
                         &facts->sop_class_count, name))
        facts->sop_classes_dropped++;
}

/* Where a walk over an RQ's presentation contexts puts what it finds. */
struct dicom_walk {
    struct dicom_contexts *contexts; /* context id -> name, or NULL */
    struct dicom_facts *facts;       /* recorded directly when contexts is NULL */
};

/* Walks one presentation context (RQ) item: context id, 3 reserved bytes,
 * then sub-items. Keeps its abstract syntax when `walk` is not NULL.
 * Returns false if a sub-item runs past the item. */
static bool dicom_walk_presentation_context(struct reader *item, const struct dicom_walk *walk)
{
    uint8_t context_id = reader_u8(item);
    reader_skip(item, 3);
    while (reader_left(item) > 0) {
        uint8_t type = reader_u8(item);
        reader_skip(item, 1);
        uint16_t length = reader_be16(item);
        struct reader value = reader_sub(item, length);
        if (item->failed)
            return false;
        char uid[DICOM_UID_MAX + 1];
        if (type != DICOM_ITEM_ABSTRACT_SYNTAX || walk == NULL || !dicom_read_uid(&value, uid))
            continue;
        if (walk->contexts == NULL) {
            dicom_record_sop_class(uid, walk->facts);
        } else if ((context_id & 1) == 1) {
            size_t index = context_id / 2;
            walk->contexts->known[index] = true;
            dicom_sop_class_name(uid, walk->contexts->names[index]);
        }
    }
    return !item->failed;
}

/* Walks the variable items of an A-ASSOCIATE-RQ or -AC. With `walk` NULL
 * it only checks the structure; otherwise it keeps the abstract syntaxes
 * an RQ proposes. Returns false if an item runs past the PDU. */
static bool dicom_walk_items(struct reader items, uint8_t pdu_type, const struct dicom_walk *walk)
{
    while (reader_left(&items) > 0) {
        uint8_t type = reader_u8(&items);
        reader_skip(&items, 1);
        uint16_t length = reader_be16(&items);
        struct reader item = reader_sub(&items, length);
        if (items.failed)
            return false;
        if (type == DICOM_ITEM_PRESENTATION_CONTEXT_RQ && pdu_type == DICOM_PDU_ASSOCIATE_RQ &&
            !dicom_walk_presentation_context(&item, walk))
            return false;
    }
    return !items.failed;
}

static bool dicom_sop_class_listed(const struct dicom_facts *facts, const char *name)
{
    for (size_t i = 0; i < facts->sop_class_count; i++) {
        if (strncmp(facts->sop_classes[i], name, FACT_NAME_MAX) == 0)
            return true;
    }
    return false;
}

/* Records an RQ's proposal: every class if they all fit in the list;
 * otherwise none yet, each counted as dropped until a PDV uses it. */
static void dicom_commit_proposal(struct dicom_contexts *contexts, struct dicom_facts *facts)
{
    size_t fresh = 0; /* distinct names not listed yet */
    for (size_t i = 0; i < DICOM_CONTEXTS_MAX; i++) {
        if (!contexts->known[i] || dicom_sop_class_listed(facts, contexts->names[i]))
            continue;
        bool earlier = false;
        for (size_t j = 0; j < i && !earlier; j++)
            earlier = contexts->known[j] && strcmp(contexts->names[j], contexts->names[i]) == 0;
        fresh += earlier ? 0 : 1;
    }
    bool fits = fresh <= (size_t)(FACT_HEALTH_TYPES_MAX - facts->sop_class_count);
    for (size_t i = 0; i < DICOM_CONTEXTS_MAX; i++) {
        if (!contexts->known[i])
            continue;
        if (fits)
            health_list_add(&facts->sop_classes[0][0], FACT_NAME_MAX, FACT_HEALTH_TYPES_MAX,
                            &facts->sop_class_count, contexts->names[i]);
        else
            contexts->pending[i] = !dicom_sop_class_listed(facts, contexts->names[i]);
    }
    if (!fits)
        facts->sop_classes_dropped += (uint32_t)fresh;
}

/* A PDV used presentation context `context_id`: its class, if still
 * pending, is recorded now (and no longer counted as dropped). */
static void dicom_context_used(struct dicom_contexts *contexts, uint8_t context_id,
                               struct dicom_facts *facts)
{
    if (contexts == NULL || (context_id & 1) == 0)
        return;
    size_t index = context_id / 2;
    if (!contexts->pending[index])
        return;
    const char *name = contexts->names[index];
    if (!health_list_add(&facts->sop_classes[0][0], FACT_NAME_MAX, FACT_HEALTH_TYPES_MAX,
                         &facts->sop_class_count, name))
        return; /* the list is full: it stays counted as dropped */
    for (size_t i = 0; i < DICOM_CONTEXTS_MAX; i++) {
        if (i != index && contexts->pending[i] && strcmp(contexts->names[i], name) == 0)
            contexts->pending[i] = false;
    }
    contexts->pending[index] = false;
    if (facts->sop_classes_dropped > 0)
        facts->sop_classes_dropped--;
}

/* A-ASSOCIATE-RQ/AC: committed only if the whole PDU is well formed. */
static void dicom_parse_associate(struct reader body, uint8_t type, struct dicom_contexts *contexts,
                                  struct dicom_facts *facts)
{
    uint16_t version = reader_be16(&body);
    reader_skip(&body, 2);
    uint8_t called[DICOM_AE_FIELD];
    uint8_t calling[DICOM_AE_FIELD];
    reader_copy(&body, called, sizeof(called));
    reader_copy(&body, calling, sizeof(calling));
    reader_skip(&body, 32);
    if (body.failed || (version & 0x0001) == 0 || !dicom_walk_items(body, type, NULL))
        return;
    facts->seen = true;
    if (type == DICOM_PDU_ASSOCIATE_AC) {
        facts->associations_accepted++;
        return;
    }
    facts->associations_requested++;
    if (facts->calling_ae[0] == '\0' && facts->called_ae[0] == '\0') {
        dicom_copy_ae_title(calling, facts->calling_ae);
        dicom_copy_ae_title(called, facts->called_ae);
    }
    if (contexts != NULL)
        memset(contexts, 0, sizeof(*contexts)); /* a new association, new context ids */
    const struct dicom_walk walk = {contexts, facts};
    dicom_walk_items(body, type, &walk);
    if (contexts != NULL)
        dicom_commit_proposal(contexts, facts);
}

/* Turns one collected PDU body into facts. */
static void dicom_parse_pdu(const struct dicom_stream *stream, struct dicom_contexts *contexts,
                            struct dicom_facts *facts)
{
    struct reader body = reader_make(stream->body, stream->body_have);
    switch (stream->pdu_type) {
    case DICOM_PDU_ASSOCIATE_RQ:
    case DICOM_PDU_ASSOCIATE_AC:
        dicom_parse_associate(body, stream->pdu_type, contexts, facts);
        return;
    case DICOM_PDU_ASSOCIATE_RJ:
        facts->associations_rejected++;
        break;
    case DICOM_PDU_RELEASE_RQ:
        facts->releases++;
        break;
    case DICOM_PDU_ABORT:
        facts->aborts++;
        break;
    default: /* A-RELEASE-RP: nothing to count */
        break;
    }
    facts->seen = true;
}

/* Makes room for a `length`-byte PDU body (length <= HEALTH_STREAM_CAP);
 * the previous buffer is wiped before it goes. Returns false on
 * allocation failure. */
static bool dicom_reserve_body(struct dicom_stream *stream, uint32_t length)
{
    stream->body_have = 0;
    if (stream->body_cap >= length)
        return true;
    dicom_stream_release(stream);
    stream->body = malloc(length);
    if (stream->body == NULL)
        return false;
    stream->body_cap = length;
    return true;
}

/* Checks a complete PDU header and chooses what follows it. */
static void dicom_start_pdu(struct dicom_stream *stream, struct dicom_facts *facts)
{
    struct reader r = reader_make(stream->header, DICOM_PDU_HEADER);
    stream->pdu_type = reader_u8(&r);
    reader_skip(&r, 1);
    uint32_t length = reader_be32(&r);
    stream->header_have = 0;
    switch (stream->pdu_type) {
    case DICOM_PDU_ASSOCIATE_RQ:
    case DICOM_PDU_ASSOCIATE_AC:
        if (length < DICOM_ASSOCIATE_FIXED || length > HEALTH_STREAM_CAP)
            break;
        stream->pdu_length = length;
        stream->state = DICOM_STATE_PDU_BODY;
        stream->finished = !dicom_reserve_body(stream, length);
        return;
    case DICOM_PDU_ASSOCIATE_RJ:
    case DICOM_PDU_RELEASE_RQ:
    case DICOM_PDU_RELEASE_RP:
    case DICOM_PDU_ABORT:
        if (length != DICOM_SHORT_PDU_LENGTH)
            break;
        stream->pdu_length = length;
        stream->state = DICOM_STATE_PDU_BODY;
        stream->finished = !dicom_reserve_body(stream, length);
        return;
    case DICOM_PDU_P_DATA_TF:
        if (length < DICOM_PDV_HEADER)
            break;
        facts->data_pdus++;
        stream->pdu_remaining = length;
        stream->state = DICOM_STATE_PDV_HEADER;
        return;
    default:
        break;
    }
    /* Not a PDU this parser can frame: the rest of the stream is not DICOM. */
    stream->finished = true;
}

/* Checks a complete PDV item header; the fragment that follows is skipped. */
static void dicom_start_pdv(struct dicom_stream *stream, struct dicom_contexts *contexts,
                            struct dicom_facts *facts)
{
    struct reader r = reader_make(stream->header, DICOM_PDV_HEADER);
    uint32_t item_length = reader_be32(&r);
    uint8_t context_id = reader_u8(&r);
    uint8_t control = reader_u8(&r);
    stream->header_have = 0;
    stream->pdu_remaining -= DICOM_PDV_HEADER;
    /* item_length counts the context id and the control header */
    if (item_length < 2 || item_length - 2 > stream->pdu_remaining) {
        stream->finished = true;
        return;
    }
    facts->seen = true;
    dicom_context_used(contexts, context_id, facts);
    if ((control & DICOM_MCH_COMMAND) == 0)
        facts->dataset_transferred = true;
    stream->skip = item_length - 2;
    stream->state = DICOM_STATE_PDV_SKIP;
}

/* Skips fragment bytes without reading them. */
static void dicom_skip_fragment(struct dicom_stream *stream, struct reader *bytes)
{
    size_t take = reader_left(bytes) < stream->skip ? reader_left(bytes) : stream->skip;
    reader_skip(bytes, take);
    stream->skip -= (uint32_t)take;
    stream->pdu_remaining -= (uint32_t)take;
    if (stream->skip > 0)
        return;
    stream->state = stream->pdu_remaining > 0 ? DICOM_STATE_PDV_HEADER : DICOM_STATE_PDU_HEADER;
}

void dicom_stream_consume(struct dicom_stream *stream, struct reader *bytes,
                          struct dicom_contexts *contexts, struct dicom_facts *facts)
{
    while (!stream->finished && reader_left(bytes) > 0) {
        switch (stream->state) {
        case DICOM_STATE_PDU_HEADER:
            if (health_collect(bytes, stream->header, &stream->header_have, DICOM_PDU_HEADER))
                dicom_start_pdu(stream, facts);
            break;
        case DICOM_STATE_PDU_BODY:
            if (health_collect(bytes, stream->body, &stream->body_have, stream->pdu_length)) {
                dicom_parse_pdu(stream, contexts, facts);
                stream->state = DICOM_STATE_PDU_HEADER;
            }
            break;
        case DICOM_STATE_PDV_HEADER:
            if (stream->pdu_remaining < DICOM_PDV_HEADER) {
                stream->finished = true; /* trailing bytes too short for a PDV */
                break;
            }
            if (health_collect(bytes, stream->header, &stream->header_have, DICOM_PDV_HEADER))
                dicom_start_pdv(stream, contexts, facts);
            break;
        case DICOM_STATE_PDV_SKIP:
            dicom_skip_fragment(stream, bytes);
            break;
        }
    }
    if (stream->finished)
        reader_skip(bytes, reader_left(bytes));
}

void dicom_stream_release(struct dicom_stream *stream)
{
    if (stream->body != NULL) {
        explicit_bzero(stream->body, stream->body_cap);
        free(stream->body);
    }
    stream->body = NULL;
    stream->body_cap = 0;
    stream->body_have = 0;
}
