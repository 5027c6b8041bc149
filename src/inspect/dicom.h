/* dicom: DICOM upper layer (PS3.8 section 9) facts from one direction of a
 * TCP stream. Internal to inspect/ (used by inspect_health). */
#ifndef FLUXAUDIT_INSPECT_DICOM_H
#define FLUXAUDIT_INSPECT_DICOM_H

#include <stdbool.h>
#include <stdint.h>

#include "fluxaudit/facts.h"
#include "util/reader.h"

#define DICOM_PDU_HEADER 6
#define DICOM_PDV_HEADER 6 /* item length (4), context id, message control header */

enum dicom_stream_state {
    DICOM_STATE_PDU_HEADER, /* collecting the 6-byte PDU header */
    DICOM_STATE_PDU_BODY,   /* collecting an association/release/abort PDU */
    DICOM_STATE_PDV_HEADER, /* inside a P-DATA-TF: collecting a PDV item header */
    DICOM_STATE_PDV_SKIP,   /* skipping a PDV fragment, never reading it */
};

#define DICOM_CONTEXTS_MAX 128 /* presentation context ids are the odd numbers 1..255 */

/* The abstract syntax of each presentation context the association
 * proposed, shared by both directions: when a proposal is too large to
 * record (a storage SCU proposes a hundred classes), only the classes
 * whose context ids P-DATA PDV headers use are recorded. */
struct dicom_contexts {
    bool known[DICOM_CONTEXTS_MAX];
    bool pending[DICOM_CONTEXTS_MAX]; /* not recorded yet, counted in sop_classes_dropped */
    char names[DICOM_CONTEXTS_MAX][FACT_NAME_MAX];
};

/* One direction's parser state. */
struct dicom_stream {
    enum dicom_stream_state state;
    bool finished; /* desynchronised or not DICOM: nothing more to read */
    uint8_t header[DICOM_PDU_HEADER];
    uint32_t header_have;
    uint8_t pdu_type;
    uint32_t pdu_length;    /* declared length of the PDU being collected */
    uint32_t pdu_remaining; /* P-DATA-TF bytes not consumed yet */
    uint32_t skip;          /* PDV fragment bytes still to skip */
    uint8_t *body;          /* association PDU bytes, at most HEALTH_STREAM_CAP */
    uint32_t body_have;
    uint32_t body_cap;
};

/* True if `payload` starts with an A-ASSOCIATE-RQ header: type 0x01, a
 * reserved zero, a length of 68 bytes to HEALTH_STREAM_CAP and protocol
 * version 1. */
bool dicom_detect(const uint8_t *payload, uint32_t len);

/* Parses the in-order bytes left in `bytes` (all consumed), updating
 * `facts`; `contexts` (shared by both directions of the flow) may be NULL,
 * then the proposed classes are recorded as they come. Sets
 * stream->finished when the stream stops being DICOM. */
void dicom_stream_consume(struct dicom_stream *stream, struct reader *bytes,
                          struct dicom_contexts *contexts, struct dicom_facts *facts);

/* Wipes and frees the stream's buffer. */
void dicom_stream_release(struct dicom_stream *stream);

#endif
