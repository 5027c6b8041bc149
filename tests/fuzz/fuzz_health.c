/* Fuzz target: inspect_health over arbitrary segmented TCP streams.
 *
 * Input: a mode byte, then segments, each a control byte and up to 64
 * bytes. Mode bits 0-1 pick the protocol (0: whatever
 * health_protocol_detect says of the first segment, DICOM if nothing),
 * bit 2 makes every segment's direction come from its control byte (bit 7)
 * instead of all client. Control bits 0-5 are the segment length - 1;
 * bit 6 resends the segment starting a few bytes early (a retransmission
 * overlapping new bytes). Sequence numbers start near the wrap. Aborts if
 * a fact breaks its bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fluxaudit/inspect_health.h"

static void check_string(const char *text, size_t size)
{
    if (memchr(text, '\0', size) == NULL)
        abort();
}

static void check_facts(const struct health_facts *facts)
{
    const struct dicom_facts *d = &facts->dicom;
    const struct hl7_facts *h = &facts->hl7;
    const struct fhir_facts *f = &facts->fhir;
    if (d->sop_class_count > FACT_HEALTH_TYPES_MAX ||
        h->message_type_count > FACT_HEALTH_TYPES_MAX ||
        f->resource_type_count > FACT_HEALTH_TYPES_MAX)
        abort();
    check_string(d->calling_ae, sizeof(d->calling_ae));
    check_string(d->called_ae, sizeof(d->called_ae));
    for (size_t i = 0; i < FACT_HEALTH_TYPES_MAX; i++) {
        check_string(d->sop_classes[i], sizeof(d->sop_classes[i]));
        check_string(h->message_types[i], sizeof(h->message_types[i]));
        check_string(f->resource_types[i], sizeof(f->resource_types[i]));
    }
    check_string(h->sending_application, sizeof(h->sending_application));
    check_string(h->sending_facility, sizeof(h->sending_facility));
    check_string(h->receiving_application, sizeof(h->receiving_application));
    check_string(h->receiving_facility, sizeof(h->receiving_facility));
    check_string(h->version, sizeof(h->version));
    check_string(f->content_type, sizeof(f->content_type));
    if (h->ack_errors > h->acks)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t mode = data[0];
    size_t pos = 1;
    enum health_protocol protocol = (enum health_protocol)(mode & 3);
    if (protocol == HEALTH_PROTOCOL_NONE) {
        size_t first = (size_t)(data[1] & 0x3f) + 1;
        size_t avail = size - 2 < first ? size - 2 : first;
        protocol = health_protocol_detect(data + 2, (uint32_t)avail);
        if (protocol == HEALTH_PROTOCOL_NONE)
            protocol = HEALTH_PROTOCOL_DICOM;
    }
    struct health_inspector *inspector = health_inspector_create(protocol);
    if (inspector == NULL)
        return 0;
    struct health_facts facts;
    memset(&facts, 0, sizeof(facts));
    uint32_t seq[2] = {0xffffff00u, 12345};
    while (pos < size) {
        uint8_t control = data[pos++];
        size_t len = (size_t)(control & 0x3f) + 1;
        if (len > size - pos)
            len = size - pos;
        int direction = (mode & 4) ? (control >> 7) : 0;
        const uint8_t *segment = data + pos;
        if ((control & 0x40) && pos >= 4) {
            /* resend from 3 bytes earlier: overlapping, then new bytes */
            health_inspector_feed(inspector, direction, seq[direction] - 3, segment - 3,
                                  (uint32_t)len + 3, &facts);
        } else {
            health_inspector_feed(inspector, direction, seq[direction], segment, (uint32_t)len,
                                  &facts);
        }
        seq[direction] += (uint32_t)len;
        pos += len;
        check_facts(&facts);
    }
    (void)health_inspector_done(inspector);
    health_inspector_destroy(inspector);
    return 0;
}
