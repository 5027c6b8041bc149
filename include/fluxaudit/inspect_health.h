/* inspect_health: DICOM (PS3.8 upper layer), HL7 v2 over MLLP and FHIR over
 * HTTP, recognised by their structure on any port (nDPI 4.2 knows neither
 * DICOM nor HL7).
 *
 * Produces health_facts: protocol metadata only. Patient data stays in the
 * packet it came in: the parsers skip over data sets and message bodies
 * (PID, PV1, OBX... are never read into any buffer that outlives a call),
 * and the bounded reassembly buffers are wiped when freed. */
#ifndef FLUXAUDIT_INSPECT_HEALTH_H
#define FLUXAUDIT_INSPECT_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "fluxaudit/facts.h"

enum health_protocol {
    HEALTH_PROTOCOL_NONE,
    HEALTH_PROTOCOL_DICOM,
    HEALTH_PROTOCOL_HL7,
    HEALTH_PROTOCOL_FHIR,
};

#define HEALTH_STREAM_CAP 65536     /* header bytes reassembled per direction, at most */

struct health_inspector;

/* Recognises the protocol from the first payload bytes of a TCP stream
 * (client side): an A-ASSOCIATE-RQ PDU (type 0x01, protocol version 1,
 * plausible length), an MLLP block starting 0x0B "MSH", an HTTP request to
 * a FHIR path or with a FHIR/HL7 content type. NONE otherwise. */
enum health_protocol health_protocol_detect(const uint8_t *payload, uint32_t len);

/* Allocates the per-flow state. Returns NULL on allocation failure. */
struct health_inspector *health_inspector_create(enum health_protocol protocol);

/* Wipes and frees the state. */
void health_inspector_destroy(struct health_inspector *inspector);

/* Feeds one TCP segment (direction 0 client->server, 1 server->client;
 * `seq` its sequence number). Only in-order bytes are parsed; PDUs and
 * messages may span any number of segments. Updates `facts`. */
void health_inspector_feed(struct health_inspector *inspector, int direction, uint32_t seq,
                           const uint8_t *payload, uint32_t len, struct health_facts *facts);

/* True once nothing more can be learned (caps reached, stream not the
 * protocol, gap): the state may be freed. */
bool health_inspector_done(const struct health_inspector *inspector);

/* The application name the project gives the protocol: "DICOM", "HL7",
 * "FHIR". */
const char *health_protocol_name(enum health_protocol protocol);

#endif
