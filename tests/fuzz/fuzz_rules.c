/* Fuzz target: the rules loader on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "fluxaudit/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct diag diag;
    struct rules rules;
    diag_init(&diag);
    (void)rules_parse("fuzz.json", (const char *)data, size, &rules, &diag);
    char line[1200];
    for (size_t i = 0; i < diag.count; i++)
        diag_format(&diag, i, line, sizeof(line));
    diag_free(&diag);
    return 0;
}
