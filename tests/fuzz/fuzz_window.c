/* Fuzz target: window expressions. Parses arbitrary bytes (NUL-terminated
 * copy), checks the result's invariants, and evaluates an accepted window
 * at a few instants in two zones. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fluxaudit/window.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct window w;
    char err[160];
    if (window_parse(text, &w, err, sizeof(err))) {
        if (w.error_column != 0 || w.count > WINDOW_MAX_SPANS || (!w.always && w.count == 0))
            abort();
        for (size_t i = 0; i < w.count; i++) {
            const struct window_span *s = &w.spans[i];
            if (s->days == 0 || s->days > 0x7F || s->start > 1439 || s->end > 1440 ||
                s->start == s->end)
                abort();
        }
        static const int64_t instants[] = {0, 1774746000, 1792888200, -86400, INT64_MAX};
        for (size_t i = 0; i < sizeof(instants) / sizeof(instants[0]); i++) {
            (void)window_contains(&w, "Europe/Paris", instants[i]);
            (void)window_contains(&w, NULL, instants[i]);
        }
    } else if (w.error_column < 1 || w.count != 0 || strncmp(err, "column ", 7) != 0) {
        abort();
    }
    free(text);
    return 0;
}
