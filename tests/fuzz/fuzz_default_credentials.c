/* Fuzz target: the default-credential table parser on arbitrary bytes,
 * then a few matches against whatever loaded. */
#include <stddef.h>
#include <stdint.h>

#include "fluxaudit/default_credentials.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct diag diag;
    diag_init(&diag);
    struct default_credentials *table =
        default_credentials_parse("fuzz", (const char *)data, size, &diag);
    char line[1200];
    for (size_t i = 0; i < diag.count; i++)
        diag_format(&diag, i, line, sizeof(line));
    if (table != NULL) {
        const size_t half = size / 2;
        (void)default_credentials_match_login(table, (const char *)data, half,
                                              (const char *)data + half, size - half);
        (void)default_credentials_match_login(table, NULL, 0, (const char *)data, size);
        (void)default_credentials_match_community(table, (const char *)data, size);
        default_credentials_free(table);
    }
    diag_free(&diag);
    return 0;
}
