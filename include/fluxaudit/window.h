/* window: when a matrix flow may happen ("window" of a flow), compiled and
 * evaluated in the matrix time zone.
 *
 * Syntax (docs/matrix.md, section "Time windows"): "always", or one or more
 * windows separated by ';', each DAYS TIMES:
 *   DAYS  = "daily" | DAY | DAY-DAY | a comma list of those ("Mon,Wed-Fri");
 *           DAY is an English abbreviation or name (Mon, Monday) or a French
 *           one (lun, lundi), any case; a range may wrap ("Fri-Mon").
 *   TIMES = HH:MM-HH:MM, or a comma list of them ("08:00-12:00,14:00-18:00");
 *           the end is exclusive and may be 24:00; an end before the start
 *           crosses midnight and belongs to the start day ("Mon 22:00-02:00"
 *           covers Monday 22:00 to Tuesday 02:00). Start and end must differ.
 * Times are local wall-clock times: during a DST change a window covers the
 * local times that exist (none of "02:00-03:00" exists on a spring-forward
 * night in Europe/Paris; it happens twice on the fall-back night).
 *
 * window_contains changes the process's TZ (setenv + tzset, the last zone
 * cached): call it from one thread only. No other module uses local time. */
#ifndef FLUXAUDIT_WINDOW_H
#define FLUXAUDIT_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WINDOW_MAX_SPANS 32 /* day-set x time-range pairs in one expression */
#define WINDOW_MAX_TEXT 512 /* bytes of an expression (the matrix text limit) */

/* One day set and one time range. */
struct window_span {
    uint8_t days;   /* bit 0 = Monday ... bit 6 = Sunday */
    uint16_t start; /* minutes after local midnight, 0..1439 */
    uint16_t end;   /* exclusive, 1..1440; end <= start crosses midnight */
};

struct window {
    bool always;
    size_t count;
    struct window_span spans[WINDOW_MAX_SPANS];
    int error_column; /* after a failed window_parse: 1-based byte column, else 0 */
};

/* Compiles `text` into `out`. Returns true, or false with `out->error_column`
 * set and "column N: what is wrong" written to `err` (when err_len > 0). */
bool window_parse(const char *text, struct window *out, char *err, size_t err_len);

/* Returns true if `unix_seconds` falls in the window, read as local time in
 * the IANA zone `timezone` (NULL, empty or an unsafe name means UTC; an
 * unknown name falls back to UTC as glibc does). Not thread-safe. */
bool window_contains(const struct window *w, const char *timezone, int64_t unix_seconds);

#endif
