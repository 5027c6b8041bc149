/* eap: what one EAP packet says about a station's authentication.
 *
 * Only the header is read (code, identifier, length, type); the rest of
 * the packet — identities, challenges, TLS records — is never looked at,
 * so nothing secret can reach the table. Shared by the 802.11 (EAPOL) and
 * RADIUS (EAP-Message) paths. */
#include <string.h>

#include "inspect/access_internal.h"
#include "util/reader.h"

enum {
    EAP_MIN_LENGTH = 4,
    EAP_TYPED_MIN_LENGTH = 5,
    EAP_CODE_INITIATE = 5, /* RFC 6696 re-authentication: no method */
    EAP_CODE_FINISH = 6,
    EAP_TYPE_NOTIFICATION = 2,
    EAP_TYPE_NAK = 3,
};

/* Reads the EAP header (see access_internal.h). */
bool eap_read_header(const uint8_t *head, size_t head_len, size_t carried, struct eap_header *out)
{
    memset(out, 0, sizeof *out);
    struct reader r = reader_make(head, head_len);
    out->code = reader_u8(&r);
    out->identifier = reader_u8(&r);
    out->length = reader_be16(&r);
    if (r.failed || out->length < EAP_MIN_LENGTH || out->length > carried)
        return false;
    switch (out->code) {
    case EAP_CODE_REQUEST:
    case EAP_CODE_RESPONSE:
        out->type = reader_u8(&r);
        return !r.failed && out->length >= EAP_TYPED_MIN_LENGTH;
    case EAP_CODE_SUCCESS:
    case EAP_CODE_FAILURE:
    case EAP_CODE_INITIATE:
    case EAP_CODE_FINISH:
        return true;
    default:
        return false;
    }
}

/* Adds `type` to a list of methods (capacity 4), once, while there is room. */
static void add_method(uint8_t list[4], uint8_t *count, uint8_t type)
{
    for (size_t i = 0; i < *count && i < 4; i++) {
        if (list[i] == type)
            return;
    }
    if (*count < 4)
        list[(*count)++] = type;
}

/* Applies one EAP packet (see access_internal.h). Identity, Notification
 * and NAK are steps of the conversation, not methods. */
void eap_apply(struct access_station *station, const struct eap_header *eap)
{
    const bool method = eap->type != EAP_TYPE_IDENTITY && eap->type != EAP_TYPE_NOTIFICATION &&
                        eap->type != EAP_TYPE_NAK;
    switch (eap->code) {
    case EAP_CODE_REQUEST:
        if (method)
            add_method(station->eap_methods_offered, &station->eap_methods_offered_count,
                       eap->type);
        break;
    case EAP_CODE_RESPONSE:
        if (method) {
            station->eap_method = eap->type;
            add_method(station->eap_methods_used, &station->eap_methods_used_count, eap->type);
        }
        break;
    case EAP_CODE_SUCCESS:
        station->eap_result = 1;
        break;
    case EAP_CODE_FAILURE:
        station->eap_result = 0;
        break;
    default:
        break;
    }
}
