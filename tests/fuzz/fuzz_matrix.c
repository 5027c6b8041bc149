/* Fuzz target: the whole matrix loader (UTF-8 check, strict JSON scan,
 * cJSON tree, validation, model building and freeing) on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "fluxaudit/matrix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct diag diag;
    diag_init(&diag);
    struct matrix *m = matrix_parse_json("fuzz.json", (const char *)data, size, &diag);
    /* Exercise the lookups on whatever model was accepted. */
    if (m != NULL) {
        struct net_addr addr = {.family = 4, .bytes = {10, 1, 1, 1}};
        struct mac_addr mac = {{2, 0, 0, 0, 0, 1}};
        (void)matrix_find_device(m, &addr, &mac);
        (void)matrix_is_internal(m, &addr);
        for (size_t i = 0; i < m->device_count; i++) {
            for (size_t j = 0; j < m->devices[i].flow_count; j++)
                (void)matrix_flow_has_port(&m->devices[i].flows[j], 443);
        }
    }
    char line[1200];
    for (size_t i = 0; i < diag.count; i++)
        diag_format(&diag, i, line, sizeof(line));
    matrix_free(m);
    diag_free(&diag);
    return 0;
}
