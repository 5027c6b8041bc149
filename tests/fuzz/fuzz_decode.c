/* libFuzzer target for decode_packet: the first input byte picks a link
 * type from the ones decode knows (plus one it does not), the rest is the
 * frame. The frame is copied to a heap buffer of exactly its size so
 * AddressSanitizer sees any read past caplen. */
#include <pcap/dlt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fluxaudit/decode.h"

static const int fuzz_link_types[] = {
    DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, 101 /* LINKTYPE_RAW */,
    DLT_IPV4,   DLT_IPV6,      DLT_NULL,       DLT_LOOP, DLT_IEEE802_11_RADIO,
    9999 /* unknown */,
};

/* Checks the view points inside the frame; aborts (a fuzzer finding) if
 * it does not. */
static void fuzz_check_view(const struct decoded_packet *p, const uint8_t *frame, size_t len)
{
    const uint8_t *end = frame + len;
    if (p->l3 != NULL && (p->l3 < frame || p->l3_len > (size_t)(end - p->l3)))
        abort();
    if (p->payload != NULL && (p->payload < frame || p->payload_len > (size_t)(end - p->payload)))
        abort();
    if (p->payload_len > 0 && p->payload == NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decodes one fuzzer input; never fails. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const size_t count = sizeof fuzz_link_types / sizeof fuzz_link_types[0];
    const int dlt = fuzz_link_types[data[0] % count];
    const size_t len = size - 1;
    uint8_t *frame = malloc(len > 0 ? len : 1);
    if (frame == NULL)
        return 0;
    if (len > 0)
        memcpy(frame, data + 1, len);
    struct decoded_packet packet;
    decode_packet(dlt, frame, (uint32_t)len, (uint32_t)len, 0, &packet);
    fuzz_check_view(&packet, frame, len);
    free(frame);
    return 0;
}
