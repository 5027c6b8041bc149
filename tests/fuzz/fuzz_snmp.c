/* Fuzz target: the SNMP message-version reader on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fluxaudit/inspect_snmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t version = snmp_message_version(data, (uint32_t)(size > UINT32_MAX ? UINT32_MAX : size));
    if (version != 0 && version != 1 && version != 2 && version != 3)
        abort();
    return 0;
}
