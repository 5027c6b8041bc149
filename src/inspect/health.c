/* inspect/health: the inspect_health contract over the three parsers
 * (inspect/dicom.c, inspect/hl7.c, inspect/fhir.c).
 *
 * Per direction, in-order bytes only: the first segment seen fixes the
 * expected sequence number, a retransmitted or overlapping segment is
 * trimmed to its new bytes, and a gap (a segment ahead of the expected
 * sequence number) ends that direction, since the parsers cannot resync
 * inside a PDU or a message. The parsers keep only the bounded headers
 * they need; everything is wiped when the inspector is freed. */
#include "fluxaudit/inspect_health.h"

#include <stdlib.h>
#include <string.h>

#include "inspect/dicom.h"
#include "inspect/fhir.h"
#include "inspect/hl7.h"
#include "util/reader.h"

struct health_direction {
    bool started;      /* next_seq is set */
    bool finished;     /* gap, or the parser gave up */
    uint32_t next_seq; /* sequence number of the next new byte */
    union {
        struct dicom_stream dicom;
        struct hl7_stream hl7;
        struct fhir_stream fhir;
    } parser;
};

struct health_inspector {
    enum health_protocol protocol;
    enum hl7_names_source hl7_names;       /* shared by both HL7 directions */
    struct dicom_contexts *dicom_contexts; /* DICOM only; NULL if the allocation failed */
    struct health_direction directions[2]; /* 0 client->server, 1 server->client */
};

enum health_protocol health_protocol_detect(const uint8_t *payload, uint32_t len)
{
    if (payload == NULL || len == 0)
        return HEALTH_PROTOCOL_NONE;
    if (dicom_detect(payload, len))
        return HEALTH_PROTOCOL_DICOM;
    if (hl7_detect(payload, len))
        return HEALTH_PROTOCOL_HL7;
    if (fhir_detect(payload, len))
        return HEALTH_PROTOCOL_FHIR;
    return HEALTH_PROTOCOL_NONE;
}

struct health_inspector *health_inspector_create(enum health_protocol protocol)
{
    struct health_inspector *inspector = calloc(1, sizeof(*inspector));
    if (inspector == NULL)
        return NULL;
    inspector->protocol = protocol;
    if (protocol == HEALTH_PROTOCOL_DICOM)
        inspector->dicom_contexts = calloc(1, sizeof(*inspector->dicom_contexts));
    bool known = protocol == HEALTH_PROTOCOL_DICOM || protocol == HEALTH_PROTOCOL_HL7 ||
                 protocol == HEALTH_PROTOCOL_FHIR;
    /* an inspector for no protocol is done from the start */
    inspector->directions[0].finished = !known;
    inspector->directions[1].finished = !known;
    return inspector;
}

void health_inspector_destroy(struct health_inspector *inspector)
{
    if (inspector == NULL)
        return;
    if (inspector->protocol == HEALTH_PROTOCOL_DICOM) {
        dicom_stream_release(&inspector->directions[0].parser.dicom);
        dicom_stream_release(&inspector->directions[1].parser.dicom);
    }
    if (inspector->dicom_contexts != NULL) {
        explicit_bzero(inspector->dicom_contexts, sizeof(*inspector->dicom_contexts));
        free(inspector->dicom_contexts);
    }
    explicit_bzero(inspector, sizeof(*inspector));
    free(inspector);
}

/* Trims `segment` to the bytes after the ones already parsed. Returns
 * false if nothing new is left, or on a gap (which ends the direction). */
static bool health_take_new_bytes(struct health_direction *direction, uint32_t seq,
                                  struct reader *segment)
{
    if (!direction->started) {
        direction->started = true;
        direction->next_seq = seq;
    }
    int32_t delta = (int32_t)(seq - direction->next_seq); /* serial arithmetic: wraps */
    if (delta > 0) {
        direction->finished = true;
        return false;
    }
    uint32_t already = (uint32_t)(-(int64_t)delta);
    if (already >= reader_left(segment))
        return false; /* a retransmission */
    reader_skip(segment, already);
    direction->next_seq += (uint32_t)reader_left(segment);
    return true;
}

void health_inspector_feed(struct health_inspector *inspector, int direction, uint32_t seq,
                           const uint8_t *payload, uint32_t len, struct health_facts *facts)
{
    if (inspector == NULL || facts == NULL || payload == NULL || len == 0 ||
        (direction != 0 && direction != 1))
        return;
    struct health_direction *side = &inspector->directions[direction];
    struct reader segment = reader_make(payload, len);
    if (side->finished || !health_take_new_bytes(side, seq, &segment))
        return;
    bool finished = false;
    switch (inspector->protocol) {
    case HEALTH_PROTOCOL_DICOM:
        dicom_stream_consume(&side->parser.dicom, &segment, inspector->dicom_contexts,
                             &facts->dicom);
        finished = side->parser.dicom.finished;
        break;
    case HEALTH_PROTOCOL_HL7:
        hl7_stream_consume(&side->parser.hl7, direction, &segment, &facts->hl7,
                           &inspector->hl7_names);
        finished = side->parser.hl7.finished;
        break;
    case HEALTH_PROTOCOL_FHIR:
        fhir_stream_consume(&side->parser.fhir, direction, &segment, &facts->fhir);
        finished = side->parser.fhir.finished;
        break;
    case HEALTH_PROTOCOL_NONE:
        finished = true;
        break;
    }
    side->finished = finished;
}

bool health_inspector_done(const struct health_inspector *inspector)
{
    if (inspector == NULL)
        return true;
    return inspector->directions[0].finished && inspector->directions[1].finished;
}

const char *health_protocol_name(enum health_protocol protocol)
{
    switch (protocol) {
    case HEALTH_PROTOCOL_DICOM:
        return "DICOM";
    case HEALTH_PROTOCOL_HL7:
        return "HL7";
    case HEALTH_PROTOCOL_FHIR:
        return "FHIR";
    case HEALTH_PROTOCOL_NONE:
        break;
    }
    return "none";
}
