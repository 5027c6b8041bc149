/* hl7: HL7 v2 messages over MLLP from one direction of a TCP stream.
 * Internal to inspect/ (used by inspect_health). */
#ifndef FLUXAUDIT_INSPECT_HL7_H
#define FLUXAUDIT_INSPECT_HL7_H

#include <stdbool.h>
#include <stdint.h>

#include "fluxaudit/facts.h"
#include "util/reader.h"

#define HL7_SEGMENT_CAP 512  /* MSH/MSA bytes kept; the fields needed come first */
#define HL7_OUTSIDE_MAX 4096 /* bytes between blocks before the stream is not MLLP */
#define HL7_TYPE_MAX 16      /* "ADT^A01" + NUL, the facts' width */
#define HL7_VERSION_MAX 8

enum hl7_stream_state {
    HL7_STATE_OUTSIDE,      /* between MLLP blocks: waiting for 0x0B */
    HL7_STATE_SEGMENT_NAME, /* first bytes of a segment */
    HL7_STATE_SEGMENT_KEEP, /* an MSH or MSA segment: kept to parse */
    HL7_STATE_SEGMENT_SKIP, /* any other segment: skipped unread */
};

/* The header of the message being read, committed when it ends. */
struct hl7_message {
    bool open;           /* an MSH was parsed and the message has not ended */
    bool acknowledgment; /* an MSA segment followed */
    bool ack_error;      /* MSA-1 AE, AR, CE or CR */
    uint8_t separator;   /* MSH-1, the field separator */
    char type[HL7_TYPE_MAX];
    char names[4][FACT_NAME_MAX]; /* MSH-3..6, first component */
    char version[HL7_VERSION_MAX];
};

/* One direction's parser state. */
struct hl7_stream {
    enum hl7_stream_state state;
    bool finished;    /* not MLLP: nothing more to read */
    uint32_t outside; /* bytes seen outside blocks since the last one */
    uint8_t segment[HL7_SEGMENT_CAP];
    uint32_t segment_len;
    struct hl7_message message;
};

/* Which side the MSH names came from: the client's message names itself
 * as the sender; a server's message (an ACK) names the client as receiver. */
enum hl7_names_source {
    HL7_NAMES_NONE,
    HL7_NAMES_FROM_SERVER,
    HL7_NAMES_FROM_CLIENT,
};

/* True if `payload` starts an MLLP block holding a message or a batch:
 * 0x0B then "MSH", "FHS" or "BHS". */
bool hl7_detect(const uint8_t *payload, uint32_t len);

/* Parses the in-order bytes left in `bytes` (all consumed) of direction
 * `direction` (0 client), updating `facts`; `names` is shared by both
 * directions of the flow. */
void hl7_stream_consume(struct hl7_stream *stream, int direction, struct reader *bytes,
                        struct hl7_facts *facts, enum hl7_names_source *names);

#endif
