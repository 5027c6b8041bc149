/* window: the "window" expressions of matrix flows ("Mon-Fri 08:00-18:00"),
 * compiled once and evaluated in the matrix time zone.
 *
 * The parser walks the NUL-terminated text with an index that never passes
 * its length (the text is capped at WINDOW_MAX_TEXT bytes first) and stops
 * at the first error, whose byte column it reports: later errors would be
 * consequences. Evaluation converts the instant to local wall-clock time
 * with the C library's zoneinfo reader (localtime_r under TZ=zone), which
 * applies the zone's DST rules for any year. */
#include "fluxaudit/window.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define DAY_WORD_MAX 16 /* longest day word is "wednesday"/"dimanche" */
#define ALL_DAYS 0x7F

struct day_word {
    const char *word;
    uint8_t days; /* bit mask, bit 0 = Monday */
};

/* English abbreviations and names, their French equivalents, and a few
 * common groups. Matched case-insensitively. */
static const struct day_word day_words[] = {
    {"mon", 1 << 0},      {"monday", 1 << 0}, {"lun", 1 << 0},       {"lundi", 1 << 0},
    {"tue", 1 << 1},      {"tues", 1 << 1},   {"tuesday", 1 << 1},   {"mar", 1 << 1},
    {"mardi", 1 << 1},    {"wed", 1 << 2},    {"wednesday", 1 << 2}, {"mer", 1 << 2},
    {"mercredi", 1 << 2}, {"thu", 1 << 3},    {"thur", 1 << 3},      {"thurs", 1 << 3},
    {"thursday", 1 << 3}, {"jeu", 1 << 3},    {"jeudi", 1 << 3},     {"fri", 1 << 4},
    {"friday", 1 << 4},   {"ven", 1 << 4},    {"vendredi", 1 << 4},  {"sat", 1 << 5},
    {"saturday", 1 << 5}, {"sam", 1 << 5},    {"samedi", 1 << 5},    {"sun", 1 << 6},
    {"sunday", 1 << 6},   {"dim", 1 << 6},    {"dimanche", 1 << 6},  {"daily", ALL_DAYS},
    {"weekdays", 0x1F},   {"weekend", 0x60},
};

struct parser {
    const char *text;
    size_t len;
    size_t pos;
    struct window *out;
    char *err;
    size_t err_len;
    bool failed;
};

static char peek(const struct parser *p)
{
    return p->pos < p->len ? p->text[p->pos] : '\0';
}

static void skip_blanks(struct parser *p)
{
    while (peek(p) == ' ' || peek(p) == '\t')
        p->pos++;
}

/* Records the first error, at byte offset `at` (reported 1-based). */
static void fail_at(struct parser *p, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail_at(struct parser *p, size_t at, const char *fmt, ...)
{
    if (p->failed)
        return;
    p->failed = true;
    p->out->error_column = (int)at + 1;
    if (p->err == NULL || p->err_len == 0)
        return;
    int n = snprintf(p->err, p->err_len, "column %zu: ", at + 1);
    if (n < 0 || (size_t)n >= p->err_len)
        return;
    va_list args;
    va_start(args, fmt);
    vsnprintf(p->err + n, p->err_len - (size_t)n, fmt, args);
    va_end(args);
}

/* Describes the character at the cursor for "got ..." (printable ASCII
 * quoted, anything else as a byte value, the end as "the end"). */
static const char *describe_here(const struct parser *p, char *buf, size_t len)
{
    unsigned char c = (unsigned char)peek(p);
    if (c == '\0')
        snprintf(buf, len, "the end of the expression");
    else if (c >= 0x20 && c < 0x7F)
        snprintf(buf, len, "'%c'", c);
    else
        snprintf(buf, len, "byte 0x%02X", c);
    return buf;
}

/* Reads one day word (letters only) and returns its mask, 0 after an error. */
static uint8_t parse_day(struct parser *p)
{
    size_t start = p->pos;
    char word[DAY_WORD_MAX + 1];
    size_t n = 0;
    while (isalpha((unsigned char)peek(p))) {
        if (n < DAY_WORD_MAX)
            word[n] = (char)tolower((unsigned char)peek(p));
        n++;
        p->pos++;
    }
    char got[32];
    if (n == 0) {
        fail_at(p, start,
                "expected a day (Mon..Sun, lun..dim), \"daily\", \"weekdays\" or "
                "\"weekend\", got %s",
                describe_here(p, got, sizeof(got)));
        return 0;
    }
    if (n <= DAY_WORD_MAX) {
        word[n] = '\0';
        for (size_t i = 0; i < sizeof(day_words) / sizeof(day_words[0]); i++) {
            if (strcmp(word, day_words[i].word) == 0)
                return day_words[i].days;
        }
    }
    fail_at(p, start,
            "unknown day \"%.*s\": expected Mon, Tue, Wed, Thu, Fri, Sat, Sun (or "
            "lun..dim), \"daily\", \"weekdays\" or \"weekend\"",
            (int)(n < DAY_WORD_MAX ? n : DAY_WORD_MAX), p->text + start);
    return 0;
}

/* Index 0..6 (Monday first) of a single-day mask, or -1 for a group. */
static int single_day(uint8_t mask)
{
    for (int i = 0; i < 7; i++) {
        if (mask == (1u << i))
            return i;
    }
    return -1;
}

/* DAY, DAY-DAY (wrapping past Sunday), or a group word. */
static uint8_t parse_day_item(struct parser *p)
{
    size_t start = p->pos;
    uint8_t first = parse_day(p);
    if (first == 0)
        return 0;
    skip_blanks(p);
    if (peek(p) != '-')
        return first;
    p->pos++;
    skip_blanks(p);
    size_t second_at = p->pos;
    uint8_t last = parse_day(p);
    if (last == 0)
        return 0;
    int from = single_day(first), to = single_day(last);
    if (from < 0 || to < 0) {
        fail_at(p, from < 0 ? start : second_at,
                "a day range joins two single days, e.g. \"Mon-Fri\"");
        return 0;
    }
    uint8_t mask = 0;
    for (int d = from;; d = (d + 1) % 7) {
        mask |= (uint8_t)(1u << d);
        if (d == to)
            break;
    }
    return mask;
}

/* A comma list of day items. */
static uint8_t parse_days(struct parser *p)
{
    uint8_t mask = 0;
    for (;;) {
        uint8_t item = parse_day_item(p);
        if (item == 0)
            return 0;
        mask |= item;
        skip_blanks(p);
        if (peek(p) != ',')
            return mask;
        p->pos++;
        skip_blanks(p);
    }
}

/* HH:MM (H:MM accepted) into minutes; 24:00 only when `is_end`. */
static bool parse_time(struct parser *p, bool is_end, uint16_t *minutes)
{
    size_t start = p->pos;
    char got[32];
    unsigned hours = 0, digits = 0;
    while (isdigit((unsigned char)peek(p)) && digits < 3) {
        hours = hours * 10 + (unsigned)(peek(p) - '0');
        p->pos++;
        digits++;
    }
    if (digits == 0) {
        fail_at(p, start, "expected a time HH:MM, got %s", describe_here(p, got, sizeof(got)));
        return false;
    }
    if (digits > 2) {
        fail_at(p, start, "expected a time HH:MM, got \"%.*s\"", (int)digits, p->text + start);
        return false;
    }
    if (peek(p) != ':') {
        fail_at(p, p->pos, "expected a time HH:MM, got %s", describe_here(p, got, sizeof(got)));
        return false;
    }
    p->pos++;
    unsigned mins = 0;
    for (int i = 0; i < 2; i++) {
        if (!isdigit((unsigned char)peek(p))) {
            fail_at(p, p->pos, "expected two digits of minutes, got %s",
                    describe_here(p, got, sizeof(got)));
            return false;
        }
        mins = mins * 10 + (unsigned)(peek(p) - '0');
        p->pos++;
    }
    bool midnight_end = is_end && hours == 24 && mins == 0;
    if ((hours > 23 && !midnight_end) || mins > 59) {
        fail_at(p, start,
                "invalid time \"%.*s\": hours 00-23, minutes 00-59 (24:00 only as an end)",
                (int)(p->pos - start), p->text + start);
        return false;
    }
    *minutes = (uint16_t)(hours * 60 + mins);
    return true;
}

static void add_span(struct parser *p, size_t at, uint8_t days, uint16_t start, uint16_t end)
{
    struct window *w = p->out;
    if (w->count == WINDOW_MAX_SPANS) {
        fail_at(p, at, "too many windows (at most %d day/time pairs)", WINDOW_MAX_SPANS);
        return;
    }
    w->spans[w->count++] = (struct window_span){days, start, end};
}

/* A comma list of HH:MM-HH:MM, each added with `days`. */
static void parse_times(struct parser *p, uint8_t days)
{
    char got[32];
    for (;;) {
        size_t start_at = p->pos;
        uint16_t start, end;
        if (!parse_time(p, false, &start))
            return;
        skip_blanks(p);
        if (peek(p) != '-') {
            fail_at(p, p->pos, "expected '-' between the start and end times, got %s",
                    describe_here(p, got, sizeof(got)));
            return;
        }
        p->pos++;
        skip_blanks(p);
        if (!parse_time(p, true, &end))
            return;
        if (end == start) {
            fail_at(p, start_at,
                    "start and end are the same time: write 00:00-24:00 for a whole day");
            return;
        }
        add_span(p, start_at, days, start, end);
        skip_blanks(p);
        if (peek(p) != ',')
            return;
        p->pos++;
        skip_blanks(p);
    }
}

/* True if the whole text, blanks aside, is the word "always". */
static bool is_always(const char *text, size_t len)
{
    size_t a = 0, b = len;
    while (a < b && (text[a] == ' ' || text[a] == '\t'))
        a++;
    while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t'))
        b--;
    return b - a == 6 && strncasecmp(text + a, "always", 6) == 0;
}

/* Compiles a window expression; see window.h. */
bool window_parse(const char *text, struct window *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof(*out));
    if (err != NULL && err_len > 0)
        err[0] = '\0';
    struct parser p = {
        .text = text != NULL ? text : "", .out = out, .err = err, .err_len = err_len};
    p.len = strnlen(p.text, WINDOW_MAX_TEXT + 1);
    if (p.len > WINDOW_MAX_TEXT) {
        fail_at(&p, WINDOW_MAX_TEXT, "expression too long (at most %d bytes)", WINDOW_MAX_TEXT);
        return false;
    }
    if (is_always(p.text, p.len)) {
        out->always = true;
        return true;
    }
    skip_blanks(&p);
    if (peek(&p) == '\0') {
        fail_at(&p, p.pos, "empty window: expected e.g. \"Mon-Fri 08:00-18:00\" or \"always\"");
        return false;
    }
    char got[32];
    while (!p.failed) {
        if (isdigit((unsigned char)peek(&p))) {
            fail_at(&p, p.pos,
                    "expected days before the hours, e.g. \"daily %s\" or "
                    "\"Mon-Fri ...\"",
                    "HH:MM-HH:MM");
            break;
        }
        uint8_t days = parse_days(&p);
        if (days == 0)
            break;
        skip_blanks(&p);
        parse_times(&p, days);
        if (p.failed)
            break;
        skip_blanks(&p);
        if (peek(&p) == '\0')
            break;
        if (peek(&p) != ';') {
            fail_at(&p, p.pos, "expected ';' between windows or the end, got %s",
                    describe_here(&p, got, sizeof(got)));
            break;
        }
        p.pos++;
        skip_blanks(&p);
    }
    if (p.failed) {
        int column = out->error_column;
        memset(out, 0, sizeof(*out));
        out->error_column = column;
        return false;
    }
    return true;
}

/* A zone name safe to put in TZ: the shape the matrix loader accepts (no
 * absolute path, no "..", no POSIX rule string). */
static bool zone_is_safe(const char *zone)
{
    if (zone == NULL || zone[0] == '\0' || zone[0] == '/' || strstr(zone, "..") != NULL)
        return false;
    size_t n = 0;
    for (const char *c = zone; *c != '\0'; c++, n++) {
        if (n >= 64 || !(isalnum((unsigned char)*c) || strchr("/_+-", *c) != NULL))
            return false;
    }
    return true;
}

/* Points the C library's local time at `zone`. TZ itself is the cache:
 * setenv only when it differs; tzset is cheap when TZ is unchanged. */
static void use_zone(const char *zone)
{
    const char *wanted = zone_is_safe(zone) ? zone : "UTC0";
    const char *current = getenv("TZ");
    if (current == NULL || strcmp(current, wanted) != 0)
        setenv("TZ", wanted, 1);
    tzset();
}

static bool span_contains(const struct window_span *s, int day, int minute)
{
    int previous = (day + 6) % 7;
    bool today = (s->days >> day) & 1;
    if (s->start < s->end)
        return today && minute >= s->start && minute < s->end;
    /* Crossing midnight: the evening of a listed day, or the early hours
     * after one. */
    bool yesterday = (s->days >> previous) & 1;
    return (today && minute >= s->start) || (yesterday && minute < s->end);
}

/* True if the instant is inside the window in `timezone`; see window.h. */
bool window_contains(const struct window *w, const char *timezone, int64_t unix_seconds)
{
    if (w == NULL)
        return false;
    if (w->always)
        return true;
    time_t t = (time_t)unix_seconds;
    if ((int64_t)t != unix_seconds)
        return false;
    use_zone(timezone);
    struct tm tm;
    if (localtime_r(&t, &tm) == NULL)
        return false;
    int day = (tm.tm_wday + 6) % 7; /* tm_wday 0 is Sunday */
    int minute = tm.tm_hour * 60 + tm.tm_min;
    for (size_t i = 0; i < w->count && i < WINDOW_MAX_SPANS; i++) {
        if (span_contains(&w->spans[i], day, minute))
            return true;
    }
    return false;
}
