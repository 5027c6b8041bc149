/* inspect/hl7: HL7 v2 over MLLP (HL7 v2.x appendix C: 0x0B, message,
 * 0x1C 0x0D).
 *
 * A byte-driven state machine per direction. A block may hold one message
 * or a batch (FHS/BHS, MSH..., BTS/FTS); segments end with \r (\n and \r\n
 * are accepted). Only the first bytes of each segment are looked at: MSH and
 * MSA segments are kept (bounded) and parsed, every other segment (PID,
 * PV1, OBX...) is skipped byte by byte and never copied. A message becomes
 * facts only when it ends (next MSH, batch trailer or end of block), so a
 * truncated message adds nothing. */
#include "inspect/hl7.h"

#include <stdio.h>
#include <string.h>

#include "inspect/health_util.h"

#define MLLP_START_BLOCK 0x0b
#define MLLP_END_BLOCK 0x1c
#define HL7_NAME_LEN 3
#define HL7_COMPONENT_MAX 7 /* longest message code or trigger event kept */

enum hl7_segment_kind {
    HL7_SEGMENT_OTHER,
    HL7_SEGMENT_MSH,
    HL7_SEGMENT_MSA,
    HL7_SEGMENT_BATCH, /* FHS, BHS, BTS, FTS: message boundaries */
};

bool hl7_detect(const uint8_t *payload, uint32_t len)
{
    struct reader r = reader_make(payload, len);
    uint8_t start = reader_u8(&r);
    const uint8_t *name = reader_bytes(&r, HL7_NAME_LEN);
    if (r.failed || start != MLLP_START_BLOCK)
        return false;
    return memcmp(name, "MSH", 3) == 0 || memcmp(name, "FHS", 3) == 0 ||
           memcmp(name, "BHS", 3) == 0;
}

static enum hl7_segment_kind hl7_segment_kind(const uint8_t name[HL7_NAME_LEN])
{
    if (memcmp(name, "MSH", 3) == 0)
        return HL7_SEGMENT_MSH;
    if (memcmp(name, "MSA", 3) == 0)
        return HL7_SEGMENT_MSA;
    if (memcmp(name, "FHS", 3) == 0 || memcmp(name, "BHS", 3) == 0 || memcmp(name, "BTS", 3) == 0 ||
        memcmp(name, "FTS", 3) == 0)
        return HL7_SEGMENT_BATCH;
    return HL7_SEGMENT_OTHER;
}

/* Returns the next field (up to `separator` or the end) and consumes the
 * separator after it. */
static struct reader hl7_next_field(struct reader *r, uint8_t separator)
{
    size_t len = 0;
    while (reader_has(r, len + 1) && reader_peek(r, len) != separator)
        len++;
    struct reader field = reader_sub(r, len);
    if (reader_left(r) > 0)
        reader_skip(r, 1);
    return field;
}

/* Copies the first component of `field` (a system name) as printable
 * text, cut to the output size. */
static void hl7_copy_name(struct reader field, uint8_t component, char *out, size_t out_size)
{
    struct reader first = hl7_next_field(&field, component);
    size_t len = 0;
    while (reader_left(&first) > 0 && len + 1 < out_size) {
        uint8_t c = reader_u8(&first);
        out[len++] = health_is_printable(c) ? (char)c : '?';
    }
    out[len] = '\0';
}

/* Copies an alphanumeric code of 1..HL7_COMPONENT_MAX characters; returns
 * its length, 0 if `code` is not one. */
static size_t hl7_copy_code(struct reader code, char *out)
{
    size_t len = reader_left(&code);
    if (len == 0 || len > HL7_COMPONENT_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = reader_u8(&code);
        if (!health_is_alnum(c))
            return 0;
        out[i] = (char)c;
    }
    out[len] = '\0';
    return len;
}

/* MSH-9: message code and trigger event joined with '^' ("ADT^A01"), the
 * code alone when there is no event ("ACK"). Returns false if malformed. */
static bool hl7_read_type(struct reader field, uint8_t component, char out[HL7_TYPE_MAX])
{
    char code[HL7_COMPONENT_MAX + 1];
    char event[HL7_COMPONENT_MAX + 1];
    struct reader first = hl7_next_field(&field, component);
    struct reader second = hl7_next_field(&field, component);
    if (hl7_copy_code(first, code) == 0)
        return false;
    if (reader_left(&second) == 0) {
        memcpy(out, code, strlen(code) + 1);
        return true;
    }
    if (hl7_copy_code(second, event) == 0)
        return false;
    /* Both parts are at most HL7_COMPONENT_MAX long, so "code^event" fits
     * HL7_TYPE_MAX; the bounded, terminated write keeps that true by itself. */
    snprintf(out, HL7_TYPE_MAX, "%s^%s", code, event);
    return true;
}

/* MSH-12, first component: digits and dots ("2.5.1"), else "". */
static void hl7_read_version(struct reader field, uint8_t component, char out[HL7_VERSION_MAX])
{
    struct reader first = hl7_next_field(&field, component);
    size_t len = reader_left(&first);
    out[0] = '\0';
    if (len == 0 || len >= HL7_VERSION_MAX)
        return;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = reader_u8(&first);
        if (!((c >= '0' && c <= '9') || c == '.'))
            return;
        out[i] = (char)c;
    }
    out[len] = '\0';
}

/* Parses a kept MSH segment into a new message header. MSH-1 is the byte
 * after "MSH", MSH-2 the encoding characters (component separator first).
 * Returns false if the header is not usable. */
static bool hl7_parse_msh(struct reader segment, struct hl7_message *message)
{
    reader_skip(&segment, HL7_NAME_LEN);
    uint8_t field_sep = reader_u8(&segment);
    if (segment.failed || !health_is_printable(field_sep) || health_is_alnum(field_sep) ||
        field_sep == ' ')
        return false;
    struct reader encoding = hl7_next_field(&segment, field_sep);
    uint8_t component = reader_left(&encoding) > 0 ? reader_peek(&encoding, 0) : '^';
    memset(message, 0, sizeof(*message));
    for (int number = 3; number <= 12; number++) {
        struct reader field = hl7_next_field(&segment, field_sep);
        if (number >= 3 && number <= 6)
            hl7_copy_name(field, component, message->names[number - 3], FACT_NAME_MAX);
        else if (number == 9 && !hl7_read_type(field, component, message->type))
            return false;
        else if (number == 12)
            hl7_read_version(field, component, message->version);
    }
    message->separator = field_sep;
    message->open = true;
    return true;
}

/* MSA-1: the acknowledgment code. Errors: AE, AR (original mode), CE, CR
 * (enhanced mode). */
static void hl7_parse_msa(struct reader segment, struct hl7_message *message)
{
    uint8_t separator = message->separator;
    reader_skip(&segment, HL7_NAME_LEN);
    if (reader_u8(&segment) != separator || segment.failed)
        return;
    struct reader code = hl7_next_field(&segment, separator);
    message->acknowledgment = true;
    if (reader_left(&code) != 2)
        return;
    uint8_t first = reader_u8(&code);
    uint8_t second = reader_u8(&code);
    message->ack_error = (first == 'A' || first == 'C') && (second == 'E' || second == 'R');
}

static void hl7_set_names(struct hl7_facts *facts, const char *sending_app,
                          const char *sending_facility, const char *receiving_app,
                          const char *receiving_facility, const char *version)
{
    memcpy(facts->sending_application, sending_app, FACT_NAME_MAX);
    memcpy(facts->sending_facility, sending_facility, FACT_NAME_MAX);
    memcpy(facts->receiving_application, receiving_app, FACT_NAME_MAX);
    memcpy(facts->receiving_facility, receiving_facility, FACT_NAME_MAX);
    memcpy(facts->version, version, HL7_VERSION_MAX);
}

/* Commits an ended message to the facts. */
static void hl7_commit(struct hl7_message *message, int direction, struct hl7_facts *facts,
                       enum hl7_names_source *names)
{
    if (!message->open)
        return;
    message->open = false;
    facts->seen = true;
    if (message->acknowledgment) {
        facts->acks++;
        if (message->ack_error)
            facts->ack_errors++;
    } else if (direction == 0) {
        facts->messages++;
    }
    health_list_add(&facts->message_types[0][0], HL7_TYPE_MAX, FACT_HEALTH_TYPES_MAX,
                    &facts->message_type_count, message->type);
    char(*n)[FACT_NAME_MAX] = message->names;
    if (direction == 0 && *names != HL7_NAMES_FROM_CLIENT) {
        hl7_set_names(facts, n[0], n[1], n[2], n[3], message->version);
        *names = HL7_NAMES_FROM_CLIENT;
    } else if (direction != 0 && *names == HL7_NAMES_NONE) {
        /* the server's header names the client as its receiver */
        hl7_set_names(facts, n[2], n[3], n[0], n[1], message->version);
        *names = HL7_NAMES_FROM_SERVER;
    }
}

/* Acts on a complete segment: an MSH opens a message (ending the previous
 * one), an MSA marks it as an acknowledgment, a batch segment ends it. */
static void hl7_end_segment(struct hl7_stream *stream, int direction, struct hl7_facts *facts,
                            enum hl7_names_source *names)
{
    if (stream->segment_len >= HL7_NAME_LEN) {
        struct reader segment = reader_make(stream->segment, stream->segment_len);
        switch (hl7_segment_kind(stream->segment)) {
        case HL7_SEGMENT_MSH:
            hl7_commit(&stream->message, direction, facts, names);
            if (stream->state == HL7_STATE_SEGMENT_KEEP &&
                !hl7_parse_msh(segment, &stream->message))
                memset(&stream->message, 0, sizeof(stream->message));
            break;
        case HL7_SEGMENT_MSA:
            if (stream->message.open && stream->state == HL7_STATE_SEGMENT_KEEP)
                hl7_parse_msa(segment, &stream->message);
            break;
        case HL7_SEGMENT_BATCH:
            hl7_commit(&stream->message, direction, facts, names);
            break;
        case HL7_SEGMENT_OTHER:
            break;
        }
    }
    /* the kept header bytes go as soon as they are parsed */
    explicit_bzero(stream->segment, stream->segment_len);
    stream->segment_len = 0;
    stream->state = HL7_STATE_SEGMENT_NAME;
}

/* A byte of a segment that is not a terminator. */
static void hl7_segment_byte(struct hl7_stream *stream, uint8_t c)
{
    switch (stream->state) {
    case HL7_STATE_SEGMENT_NAME:
        stream->segment[stream->segment_len++] = c;
        if (stream->segment_len == HL7_NAME_LEN) {
            enum hl7_segment_kind kind = hl7_segment_kind(stream->segment);
            bool keep = kind == HL7_SEGMENT_MSH || kind == HL7_SEGMENT_MSA;
            stream->state = keep ? HL7_STATE_SEGMENT_KEEP : HL7_STATE_SEGMENT_SKIP;
        }
        break;
    case HL7_STATE_SEGMENT_KEEP:
        if (stream->segment_len < HL7_SEGMENT_CAP)
            stream->segment[stream->segment_len++] = c;
        break;
    case HL7_STATE_SEGMENT_SKIP:
    case HL7_STATE_OUTSIDE:
        break;
    }
}

/* One byte between blocks: only a start block matters. */
static void hl7_outside_byte(struct hl7_stream *stream, uint8_t c)
{
    if (c == MLLP_START_BLOCK) {
        stream->outside = 0;
        stream->segment_len = 0;
        stream->state = HL7_STATE_SEGMENT_NAME;
        return;
    }
    if (++stream->outside > HL7_OUTSIDE_MAX)
        stream->finished = true;
}

void hl7_stream_consume(struct hl7_stream *stream, int direction, struct reader *bytes,
                        struct hl7_facts *facts, enum hl7_names_source *names)
{
    while (!stream->finished && reader_left(bytes) > 0) {
        uint8_t c = reader_u8(bytes);
        if (stream->state == HL7_STATE_OUTSIDE) {
            hl7_outside_byte(stream, c);
        } else if (c == MLLP_START_BLOCK) {
            /* a new block before the end of this one: the open message is lost */
            memset(&stream->message, 0, sizeof(stream->message));
            hl7_outside_byte(stream, c);
        } else if (c == MLLP_END_BLOCK) {
            hl7_end_segment(stream, direction, facts, names);
            hl7_commit(&stream->message, direction, facts, names);
            stream->state = HL7_STATE_OUTSIDE;
        } else if (c == '\r' || c == '\n') {
            hl7_end_segment(stream, direction, facts, names);
        } else {
            hl7_segment_byte(stream, c);
        }
    }
    if (stream->finished)
        reader_skip(bytes, reader_left(bytes));
}
