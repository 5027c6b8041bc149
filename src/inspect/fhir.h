/* fhir: FHIR (and HL7 v2) exchanges over plain HTTP/1.x from one direction
 * of a TCP stream. Internal to inspect/ (used by inspect_health). */
#ifndef FLUXAUDIT_INSPECT_FHIR_H
#define FLUXAUDIT_INSPECT_FHIR_H

#include <stdbool.h>
#include <stdint.h>

#include "fluxaudit/facts.h"
#include "util/reader.h"

#define FHIR_LINE_CAP 512 /* request/status line and header bytes kept per line */
#define FHIR_MEDIA_MAX ((size_t)FACT_NAME_MAX * 2)

enum fhir_stream_state {
    FHIR_STATE_START_LINE, /* expecting a request line (client) or status line (server) */
    FHIR_STATE_HEADERS,
    FHIR_STATE_BODY, /* skipping a Content-Length body unread */
};

/* What one HTTP message's head said, before it is committed. */
struct fhir_message {
    bool fhir_path;                    /* the path names a FHIR base or resource type */
    char resource[FACT_NAME_MAX];      /* resource type in the path, "" if none */
    char content_type[FHIR_MEDIA_MAX]; /* Content-Type media type, lower case */
    char accept[FHIR_MEDIA_MAX];       /* the first health media type in Accept */
    uint64_t content_length;
    bool has_length;
    bool chunked;
    bool no_body; /* a response that never has a body (1xx, 204, 304) */
};

/* One direction's parser state. */
struct fhir_stream {
    enum fhir_stream_state state;
    bool finished; /* not HTTP, or a body this parser cannot skip */
    char line[FHIR_LINE_CAP];
    uint32_t line_len;
    bool line_cut; /* the rest of the line is ignored (query, dull header) */
    uint64_t skip; /* body bytes still to skip */
    struct fhir_message message;
};

/* True if `payload` starts with an HTTP request whose path has a FHIR
 * resource type or base, or whose first header lines carry a FHIR or HL7
 * media type in Content-Type or Accept. */
bool fhir_detect(const uint8_t *payload, uint32_t len);

/* Parses the in-order bytes left in `bytes` (all consumed) of direction
 * `direction` (0 client: requests, 1 server: responses), updating `facts`. */
void fhir_stream_consume(struct fhir_stream *stream, int direction, struct reader *bytes,
                         struct fhir_facts *facts);

/* The FHIR R4 resource type named `name` (exact case), or NULL; for tests. */
const char *fhir_resource_type(const char *name, size_t len);

/* True if the lower-case media type `media` is a FHIR or HL7 v2 one. */
bool fhir_media_is_health(const char *media);

#endif
