/* json_locate: strict JSON scanning with positions, then cJSON for the tree.
 *
 * Three passes over hostile text, each bounded:
 *   1. UTF-8 validation, so a bad byte is reported where it is;
 *   2. a strict RFC 8259 scanner that records, in document order, where
 *      every value (and member key) starts and stops at the first syntax
 *      error with a precise message;
 *   3. cJSON builds the tree; a pre-order walk of the tree pairs node k with
 *      position k (the scanner visits values in the same order cJSON links
 *      them), then objects are checked for duplicate keys.
 * The scanner refuses everything cJSON would read differently from strict
 * JSON, so the two always agree on the shape of the document. */
#include "util/json_locate.h"
#include "util/hex.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCAN_MESSAGE_MAX 160

struct scanner {
    const unsigned char *text;
    size_t len;
    size_t pos;
    int line;
    int column;
    int depth;
    bool failed;
    int error_line;
    int error_column;
    char error[SCAN_MESSAGE_MAX];
    struct json_location *entries; /* in document order; node filled later */
    size_t count;
    size_t capacity;
};

/* ---------------------------------------------------------------- positions */

/* Records the first error only: later ones are consequences of it. */
static void scan_fail_at(struct scanner *s, int line, int column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void scan_fail_at(struct scanner *s, int line, int column, const char *fmt, ...)
{
    if (s->failed)
        return;
    s->failed = true;
    s->error_line = line;
    s->error_column = column;
    va_list args;
    va_start(args, fmt);
    vsnprintf(s->error, sizeof(s->error), fmt, args);
    va_end(args);
}

#define scan_fail(s, ...) scan_fail_at((s), (s)->line, (s)->column, __VA_ARGS__)

static bool scan_at_end(const struct scanner *s)
{
    return s->pos >= s->len;
}

static int scan_peek(const struct scanner *s)
{
    return s->pos < s->len ? s->text[s->pos] : -1;
}

/* Consumes one byte that is not a line break: one column. */
static void scan_advance(struct scanner *s)
{
    s->pos++;
    s->column++;
}

/* Consumes a line break (LF, CRLF or lone CR) at the current position. */
static void scan_newline(struct scanner *s)
{
    if (s->text[s->pos] == '\r' && s->pos + 1 < s->len && s->text[s->pos + 1] == '\n')
        s->pos++;
    s->pos++;
    s->line++;
    s->column = 1;
}

/* Converts a byte offset to line:column (see json_locate.h). */
void json_locate_offset(const char *text, size_t len, size_t offset, int *line, int *col)
{
    struct scanner s = {.text = (const unsigned char *)text, .len = len, .line = 1, .column = 1};
    if (offset > len)
        offset = len;
    while (s.pos < offset) {
        unsigned char c = s.text[s.pos];
        if (c == '\n' || c == '\r')
            scan_newline(&s);
        else
            scan_advance(&s);
    }
    *line = s.line;
    *col = s.column;
}

/* JSON whitespace only: cJSON also skips any byte below 33, which strict
 * JSON forbids, so those are left for the caller to refuse. */
static void scan_blanks(struct scanner *s)
{
    while (!scan_at_end(s)) {
        unsigned char c = s->text[s->pos];
        if (c == ' ' || c == '\t')
            scan_advance(s);
        else if (c == '\n' || c == '\r')
            scan_newline(s);
        else
            return;
    }
}

/* ---------------------------------------------------------------- UTF-8 */

/* Length of the valid UTF-8 sequence at p (shortest form, no surrogates,
 * at most U+10FFFF), or 0 if invalid. */
static size_t utf8_sequence_length(const unsigned char *p, size_t left)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    size_t need;
    unsigned char low = 0x80, high = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0)
            low = 0xA0;
        if (c == 0xED)
            high = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0)
            low = 0x90;
        if (c == 0xF4)
            high = 0x8F;
    } else {
        return 0;
    }
    if (left < need)
        return 0;
    if (p[1] < low || p[1] > high)
        return 0;
    for (size_t i = 2; i < need; i++) {
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    }
    return need;
}

/* Pass 1: the whole input must be UTF-8 (RFC 8259 section 8.1). */
static bool scan_utf8(struct scanner *s)
{
    while (!scan_at_end(s)) {
        unsigned char c = s->text[s->pos];
        if (c == '\n' || c == '\r') {
            scan_newline(s);
            continue;
        }
        size_t n = utf8_sequence_length(s->text + s->pos, s->len - s->pos);
        if (n == 0) {
            scan_fail(s, "invalid UTF-8 byte 0x%02X: the file must be encoded in UTF-8", c);
            return false;
        }
        for (size_t i = 0; i < n; i++)
            scan_advance(s);
    }
    return true;
}

/* ---------------------------------------------------------------- values */

static bool scan_record(struct scanner *s, int key_line, int key_column)
{
    if (s->count >= JSON_LOCATE_MAX_VALUES) {
        scan_fail(s, "too many values (more than %d)", JSON_LOCATE_MAX_VALUES);
        return false;
    }
    if (s->count == s->capacity) {
        size_t capacity = s->capacity ? s->capacity * 2 : 64;
        struct json_location *grown = realloc(s->entries, capacity * sizeof(*grown));
        if (grown == NULL) {
            scan_fail(s, "out of memory");
            return false;
        }
        s->entries = grown;
        s->capacity = capacity;
    }
    s->entries[s->count++] = (struct json_location){
        .line = s->line, .column = s->column, .key_line = key_line, .key_column = key_column};
    return true;
}

/* Reads the 4 hex digits after "\u" (s->pos is on the backslash). Returns
 * the code unit, or -1 after recording an error. */
static long scan_hex4(struct scanner *s)
{
    long value = 0;
    if (s->len - s->pos < 6) {
        scan_fail(s, "incomplete \\u escape: expected 4 hexadecimal digits");
        return -1;
    }
    for (size_t i = 2; i < 6; i++) {
        int digit = hex_digit_value(s->text[s->pos + i]);
        if (digit < 0) {
            scan_fail(s, "invalid \\u escape: expected 4 hexadecimal digits");
            return -1;
        }
        value = value * 16 + digit;
    }
    return value;
}

/* Consumes a \u escape, or a surrogate pair of them, exactly as cJSON
 * decodes them; refuses U+0000 (it would cut cJSON's C string) and lone
 * surrogates. */
static void scan_unicode_escape(struct scanner *s)
{
    long unit = scan_hex4(s);
    if (unit < 0)
        return;
    if (unit == 0) {
        scan_fail(s, "\\u0000 is not allowed in strings");
        return;
    }
    if (unit >= 0xDC00 && unit <= 0xDFFF) {
        scan_fail(s, "invalid \\u escape: lone low surrogate");
        return;
    }
    if (unit >= 0xD800 && unit <= 0xDBFF) {
        size_t second = s->pos + 6;
        if (second + 1 >= s->len || s->text[second] != '\\' || s->text[second + 1] != 'u') {
            scan_fail(s, "invalid \\u escape: high surrogate without its low surrogate");
            return;
        }
        for (int i = 0; i < 6; i++)
            scan_advance(s);
        long low = scan_hex4(s);
        if (low < 0)
            return;
        if (low < 0xDC00 || low > 0xDFFF) {
            scan_fail(s, "invalid \\u escape: high surrogate without its low surrogate");
            return;
        }
    }
    for (int i = 0; i < 6; i++)
        scan_advance(s);
}

/* Consumes a string (s->pos on the opening quote). Input is valid UTF-8
 * already (pass 1). */
static void scan_string(struct scanner *s)
{
    int open_line = s->line, open_column = s->column;
    scan_advance(s);
    while (!s->failed) {
        int c = scan_peek(s);
        if (c < 0) {
            scan_fail_at(s, open_line, open_column, "unterminated string");
            return;
        }
        if (c == '"') {
            scan_advance(s);
            return;
        }
        if (c == '\n' || c == '\r') {
            scan_fail(s, "line break inside a string (missing closing quote?)");
            return;
        }
        if (c < 0x20) {
            scan_fail(s, "control character U+%04X inside a string: write it as an escape", c);
            return;
        }
        if (c != '\\') {
            scan_advance(s);
            continue;
        }
        int e = s->pos + 1 < s->len ? s->text[s->pos + 1] : -1;
        if (e == 'u') {
            scan_unicode_escape(s);
        } else if (e >= 0 && strchr("\"\\/bfnrt", e) != NULL) {
            scan_advance(s);
            scan_advance(s);
        } else if (e < 0) {
            scan_fail_at(s, open_line, open_column, "unterminated string");
        } else {
            scan_fail(s, "invalid escape: expected one of "
                         "\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX");
        }
    }
}

static size_t scan_digits(struct scanner *s)
{
    size_t n = 0;
    while (scan_peek(s) >= '0' && scan_peek(s) <= '9') {
        scan_advance(s);
        n++;
    }
    return n;
}

/* Consumes a number in the strict grammar:
 * -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static void scan_number(struct scanner *s)
{
    int start_line = s->line, start_column = s->column;
    size_t start = s->pos;
    if (scan_peek(s) == '-')
        scan_advance(s);
    if (scan_peek(s) == '0') {
        scan_advance(s);
        if (scan_peek(s) >= '0' && scan_peek(s) <= '9') {
            scan_fail_at(s, start_line, start_column, "invalid number: leading zero");
            return;
        }
    } else if (scan_digits(s) == 0) {
        scan_fail_at(s, start_line, start_column, "invalid number: expected a digit");
        return;
    }
    if (scan_peek(s) == '.') {
        scan_advance(s);
        if (scan_digits(s) == 0) {
            scan_fail(s, "invalid number: expected a digit after '.'");
            return;
        }
    }
    if (scan_peek(s) == 'e' || scan_peek(s) == 'E') {
        scan_advance(s);
        if (scan_peek(s) == '+' || scan_peek(s) == '-')
            scan_advance(s);
        if (scan_digits(s) == 0) {
            scan_fail(s, "invalid number: expected a digit in the exponent");
            return;
        }
    }
    /* cJSON copies at most 63 bytes of a number: refuse longer ones rather
     * than let the two parsers disagree. */
    if (s->pos - start > JSON_LOCATE_MAX_NUMBER)
        scan_fail_at(s, start_line, start_column, "number too long (more than %d characters)",
                     JSON_LOCATE_MAX_NUMBER);
}

static void scan_literal(struct scanner *s, const char *word)
{
    size_t n = strlen(word);
    if (s->len - s->pos < n || memcmp(s->text + s->pos, word, n) != 0) {
        scan_fail(s, "invalid literal: expected a value (string, number, object, array, "
                     "true, false or null)");
        return;
    }
    for (size_t i = 0; i < n; i++)
        scan_advance(s);
}

static void scan_value(struct scanner *s, int key_line, int key_column);

/* Describes the byte at the current position for "got ..." messages. */
static void scan_describe_here(const struct scanner *s, char *buf, size_t len)
{
    int c = scan_peek(s);
    if (c < 0)
        snprintf(buf, len, "end of file");
    else if (c >= 0x21 && c < 0x7F)
        snprintf(buf, len, "'%c'", c);
    else
        snprintf(buf, len, "byte 0x%02X", (unsigned)c);
}

static bool scan_enter(struct scanner *s)
{
    if (s->depth >= JSON_LOCATE_MAX_DEPTH) {
        scan_fail(s, "nesting deeper than %d levels", JSON_LOCATE_MAX_DEPTH);
        return false;
    }
    s->depth++;
    return true;
}

static void scan_object(struct scanner *s)
{
    if (!scan_enter(s))
        return;
    scan_advance(s);
    scan_blanks(s);
    if (scan_peek(s) == '}') {
        scan_advance(s);
        s->depth--;
        return;
    }
    char got[32];
    for (;;) {
        if (scan_peek(s) != '"') {
            scan_describe_here(s, got, sizeof(got));
            scan_fail(s, "expected a member name in double quotes, got %s", got);
            return;
        }
        int key_line = s->line, key_column = s->column;
        scan_string(s);
        scan_blanks(s);
        if (s->failed)
            return;
        if (scan_peek(s) != ':') {
            scan_describe_here(s, got, sizeof(got));
            scan_fail(s, "expected ':' after the member name, got %s", got);
            return;
        }
        scan_advance(s);
        scan_blanks(s);
        scan_value(s, key_line, key_column);
        scan_blanks(s);
        if (s->failed)
            return;
        if (scan_peek(s) == '}')
            break;
        if (scan_peek(s) != ',') {
            scan_describe_here(s, got, sizeof(got));
            scan_fail(s, "expected ',' or '}' after an object member, got %s", got);
            return;
        }
        scan_advance(s);
        scan_blanks(s);
        if (scan_peek(s) == '}') {
            scan_fail(s, "trailing comma before '}'");
            return;
        }
    }
    scan_advance(s);
    s->depth--;
}

static void scan_array(struct scanner *s)
{
    if (!scan_enter(s))
        return;
    scan_advance(s);
    scan_blanks(s);
    if (scan_peek(s) == ']') {
        scan_advance(s);
        s->depth--;
        return;
    }
    char got[32];
    for (;;) {
        scan_value(s, 0, 0);
        scan_blanks(s);
        if (s->failed)
            return;
        if (scan_peek(s) == ']')
            break;
        if (scan_peek(s) != ',') {
            scan_describe_here(s, got, sizeof(got));
            scan_fail(s, "expected ',' or ']' after an array element, got %s", got);
            return;
        }
        scan_advance(s);
        scan_blanks(s);
        if (scan_peek(s) == ']') {
            scan_fail(s, "trailing comma before ']'");
            return;
        }
    }
    scan_advance(s);
    s->depth--;
}

/* Records the value's position, then consumes it. */
static void scan_value(struct scanner *s, int key_line, int key_column)
{
    if (s->failed)
        return;
    int c = scan_peek(s);
    if (c < 0) {
        scan_fail(s, "unexpected end of file: expected a value");
        return;
    }
    bool known = c == '{' || c == '[' || c == '"' || c == '-' || (c >= '0' && c <= '9') ||
                 c == 't' || c == 'f' || c == 'n';
    if (!known) {
        char got[32];
        scan_describe_here(s, got, sizeof(got));
        scan_fail(s,
                  "expected a value (string, number, object, array, true, false or null), "
                  "got %s",
                  got);
        return;
    }
    if (!scan_record(s, key_line, key_column))
        return;
    if (c == '{')
        scan_object(s);
    else if (c == '[')
        scan_array(s);
    else if (c == '"')
        scan_string(s);
    else if (c == 't')
        scan_literal(s, "true");
    else if (c == 'f')
        scan_literal(s, "false");
    else if (c == 'n')
        scan_literal(s, "null");
    else
        scan_number(s);
}

/* Pass 2: the whole text is exactly one JSON value between blanks. */
static bool scan_document(struct scanner *s)
{
    scan_blanks(s);
    scan_value(s, 0, 0);
    scan_blanks(s);
    if (!s->failed && !scan_at_end(s)) {
        char got[32];
        scan_describe_here(s, got, sizeof(got));
        scan_fail(s, "unexpected %s after the end of the JSON value", got);
    }
    return !s->failed;
}

/* ---------------------------------------------------------------- pairing */

/* Pre-order walk of the tree, cJSON's child/next order, which is the order
 * in which the scanner met the values. */
static bool pair_nodes(const cJSON *node, struct scanner *s, size_t *index, int depth)
{
    for (; node != NULL; node = node->next) {
        if (*index >= s->count || depth > JSON_LOCATE_MAX_DEPTH + 1)
            return false;
        s->entries[(*index)++].node = node;
        if ((cJSON_IsObject(node) || cJSON_IsArray(node)) &&
            !pair_nodes(node->child, s, index, depth + 1))
            return false;
    }
    return true;
}

static int location_compare(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const struct json_location *)a)->node;
    uintptr_t y = (uintptr_t)((const struct json_location *)b)->node;
    return x < y ? -1 : x > y;
}

void json_locations_sort(struct json_locations *locations)
{
    if (locations->count > 1)
        qsort(locations->entries, locations->count, sizeof(*locations->entries), location_compare);
}

static const struct json_location *locate_entry(const struct json_locations *locations,
                                                const cJSON *node)
{
    if (locations == NULL || node == NULL || locations->count == 0)
        return NULL;
    struct json_location key = {.node = node};
    return bsearch(&key, locations->entries, locations->count, sizeof(key), location_compare);
}

/* Returns true with the value position of `node`, false if unknown. */
bool json_locate_find(const struct json_locations *locations, const cJSON *node, int *line,
                      int *col)
{
    const struct json_location *entry = locate_entry(locations, node);
    *line = entry != NULL ? entry->line : 0;
    *col = entry != NULL ? entry->column : 0;
    return entry != NULL;
}

/* Returns true with the key position of member `node`, false if none. */
bool json_locate_find_key(const struct json_locations *locations, const cJSON *node, int *line,
                          int *col)
{
    const struct json_location *entry = locate_entry(locations, node);
    bool found = entry != NULL && entry->key_line > 0;
    *line = found ? entry->key_line : 0;
    *col = found ? entry->key_column : 0;
    return found;
}

/* ---------------------------------------------------------------- duplicates */

struct member_ref {
    const cJSON *node;
    size_t order;
};

static int member_compare(const void *a, const void *b)
{
    const struct member_ref *x = a, *y = b;
    int by_name = strcmp(x->node->string, y->node->string);
    if (by_name != 0)
        return by_name;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Reports every member whose key an earlier member of the same object
 * already has, in file order. Sorting keeps this O(n log n) for hostile
 * objects with many members. Returns false if any was found. */
static bool check_object_keys(const char *name, const cJSON *object,
                              const struct json_locations *locations, struct diag *diag)
{
    size_t n = 0;
    for (const cJSON *m = object->child; m != NULL; m = m->next)
        n++;
    if (n < 2)
        return true;
    struct member_ref *refs = calloc(n, sizeof(*refs));
    const cJSON **first_of = calloc(n, sizeof(*first_of));
    if (refs == NULL || first_of == NULL) {
        free(refs);
        free(first_of);
        diag_error(diag, name, 0, 0, "out of memory while checking duplicate keys");
        return false;
    }
    size_t i = 0;
    for (const cJSON *m = object->child; m != NULL; m = m->next, i++)
        refs[i] = (struct member_ref){m, i};
    qsort(refs, n, sizeof(*refs), member_compare);
    for (i = 1; i < n; i++) {
        if (strcmp(refs[i].node->string, refs[i - 1].node->string) == 0)
            first_of[refs[i].order] = first_of[refs[i - 1].order] != NULL
                                          ? first_of[refs[i - 1].order]
                                          : refs[i - 1].node;
    }
    bool ok = true;
    i = 0;
    for (const cJSON *m = object->child; m != NULL; m = m->next, i++) {
        if (first_of[i] == NULL)
            continue;
        int line, col, first_line, first_col;
        json_locate_find_key(locations, m, &line, &col);
        json_locate_find_key(locations, first_of[i], &first_line, &first_col);
        char key[64];
        snprintf(key, sizeof(key), "%s", m->string);
        diag_error(diag, name, line, col,
                   "duplicate key \"%s\" (first defined at line %d, "
                   "column %d)",
                   key, first_line, first_col);
        ok = false;
    }
    free(refs);
    free(first_of);
    return ok;
}

static bool check_duplicates(const char *name, const cJSON *node,
                             const struct json_locations *locations, struct diag *diag)
{
    bool ok = true;
    for (; node != NULL; node = node->next) {
        if (cJSON_IsObject(node) && !check_object_keys(name, node, locations, diag))
            ok = false;
        if ((cJSON_IsObject(node) || cJSON_IsArray(node)) &&
            !check_duplicates(name, node->child, locations, diag))
            ok = false;
    }
    return ok;
}

/* ---------------------------------------------------------------- parse */

/* Frees the tree and the positions; `doc` is left empty. */
void json_locate_free(struct json_document *doc)
{
    if (doc == NULL)
        return;
    cJSON_Delete(doc->root);
    free(doc->locations.entries);
    memset(doc, 0, sizeof(*doc));
}

/* Lets cJSON build the tree of text the scanner accepted. A failure here is
 * an allocation failure or a cJSON limit, reported at cJSON's position. */
static cJSON *build_tree(const char *name, const char *text, size_t len, struct diag *diag)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (root == NULL) {
        int line, col;
        size_t offset = (end != NULL && end >= text) ? (size_t)(end - text) : 0;
        json_locate_offset(text, len, offset, &line, &col);
        diag_error(diag, name, line, col,
                   "the JSON parser refused the document here "
                   "(out of memory or a parser limit)");
    }
    return root;
}

/* Parses strictly with positions, or reports why not (json_locate.h). */
bool json_locate_parse(const char *name, const char *text, size_t len, struct json_document *doc,
                       struct diag *diag)
{
    memset(doc, 0, sizeof(*doc));
    if (text == NULL)
        len = 0;
    if (len > JSON_LOCATE_MAX_BYTES) {
        diag_error(diag, name, 0, 0, "file too large (%zu bytes, at most %zu)", len,
                   JSON_LOCATE_MAX_BYTES);
        return false;
    }
    /* A byte order mark is not JSON but Windows editors write one. */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        len -= 3;
    }
    struct scanner s = {.text = (const unsigned char *)text, .len = len, .line = 1, .column = 1};
    bool blank = true;
    for (size_t i = 0; i < len && blank; i++)
        blank = text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r';
    if (blank) {
        diag_error(diag, name, 0, 0, "empty file: expected a JSON document");
        return false;
    }
    if (!scan_utf8(&s)) {
        diag_error(diag, name, s.error_line, s.error_column, "%s", s.error);
        return false;
    }
    s.pos = 0;
    s.line = 1;
    s.column = 1;
    if (!scan_document(&s)) {
        diag_error(diag, name, s.error_line, s.error_column, "%s", s.error);
        free(s.entries);
        return false;
    }
    cJSON *root = build_tree(name, text, len, diag);
    if (root == NULL) {
        free(s.entries);
        return false;
    }
    size_t paired = 0;
    if (!pair_nodes(root, &s, &paired, 0) || paired != s.count) {
        diag_error(diag, name, 0, 0, "internal error: the JSON tree does not match the text");
        cJSON_Delete(root);
        free(s.entries);
        return false;
    }
    qsort(s.entries, s.count, sizeof(*s.entries), location_compare);
    doc->root = root;
    doc->locations.entries = s.entries;
    doc->locations.count = s.count;
    if (!check_duplicates(name, root, &doc->locations, diag)) {
        json_locate_free(doc);
        return false;
    }
    return true;
}

/* ---------------------------------------------------------------- messages */

static int entry_position_compare(const void *a, const void *b)
{
    const struct diag_entry *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->column < y->column ? -1 : x->column > y->column;
}

/* Puts the entries from `first` on in file order (line, then column), so a
 * long list reads top to bottom; messages at the same position keep the
 * order they were found in (insertion sort is stable, and lists are short:
 * at most DIAG_MAX). */
void json_locate_sort_diag(struct diag *diag, size_t first)
{
    for (size_t i = first + 1; i < diag->count; i++) {
        struct diag_entry moving = diag->entries[i];
        size_t j = i;
        while (j > first && entry_position_compare(&diag->entries[j - 1], &moving) > 0) {
            diag->entries[j] = diag->entries[j - 1];
            j--;
        }
        diag->entries[j] = moving;
    }
}

/* Appends `text` to buf quoted, cut at `max` characters, with control and
 * quote characters escaped so a message stays on one readable line. */
static void describe_string(const char *text, char *buf, size_t len, size_t max)
{
    size_t out = 0, chars = 0;
    const unsigned char *p = (const unsigned char *)text;
    if (len < 8) {
        if (len > 0)
            buf[0] = '\0';
        return;
    }
    buf[out++] = '"';
    for (; *p != '\0' && out + 8 < len; p++) {
        if ((*p & 0xC0) != 0x80 && chars++ == max) {
            memcpy(buf + out, "...", 3);
            out += 3;
            break;
        }
        if (*p < 0x20 || *p == 0x7F) {
            out += (size_t)snprintf(buf + out, len - out, "\\x%02X", *p);
        } else if (*p == '"' || *p == '\\') {
            buf[out++] = '\\';
            buf[out++] = (char)*p;
        } else {
            buf[out++] = (char)*p;
        }
    }
    buf[out++] = '"';
    buf[out] = '\0';
}

/* Writes a short description of a value for "got ..." messages. */
void json_locate_describe(const cJSON *node, char *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return;
    if (node == NULL)
        snprintf(buf, len, "nothing");
    else if (cJSON_IsString(node))
        describe_string(node->valuestring, buf, len, 40);
    else if (cJSON_IsNumber(node))
        snprintf(buf, len, "%.17g", node->valuedouble);
    else if (cJSON_IsTrue(node))
        snprintf(buf, len, "true");
    else if (cJSON_IsFalse(node))
        snprintf(buf, len, "false");
    else if (cJSON_IsNull(node))
        snprintf(buf, len, "null");
    else if (cJSON_IsArray(node))
        snprintf(buf, len, node->child != NULL ? "an array" : "an empty array");
    else if (cJSON_IsObject(node))
        snprintf(buf, len, node->child != NULL ? "an object" : "an empty object");
    else
        snprintf(buf, len, "an unknown value");
}

static bool same_letter(char x, char y)
{
    return tolower((unsigned char)x) == tolower((unsigned char)y);
}

/* Case-insensitive Levenshtein distance, for words of at most 64 bytes. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return SIZE_MAX;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t above = row[j];
            size_t cost = !same_letter(a[i - 1], b[j - 1]);
            size_t best = diagonal + cost;
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[lb];
}

/* Returns the candidate closest to `word`, or NULL if none is close. */
const char *json_locate_suggest(const char *word, const char *const *candidates, size_t count)
{
    if (word == NULL)
        return NULL;
    const char *best = NULL;
    size_t best_distance = SIZE_MAX;
    size_t word_len = strlen(word);
    for (size_t i = 0; i < count; i++) {
        size_t distance = edit_distance(word, candidates[i]);
        if (distance < best_distance) {
            best_distance = distance;
            best = candidates[i];
        }
    }
    if (best == NULL || best_distance > 2 || best_distance * 2 >= word_len)
        return NULL;
    return best;
}

const char *json_locate_quote(const char *text, char *buf, size_t len)
{
    cJSON fake = {.type = cJSON_String, .valuestring = (char *)text};
    json_locate_describe(&fake, buf, len);
    return buf;
}

static void report_verror(const struct json_reporter *reporter, const cJSON *node, bool at_key,
                          const char *fmt, va_list args)
{
    int line, col;
    if (!at_key || !json_locate_find_key(reporter->locations, node, &line, &col))
        json_locate_find(reporter->locations, node, &line, &col);
    char message[768];
    vsnprintf(message, sizeof(message), fmt, args);
    diag_error(reporter->diag, reporter->file, line, col, "%s", message);
}

void json_report_error(const struct json_reporter *reporter, const cJSON *node, const char *fmt,
                       ...)
{
    va_list args;
    va_start(args, fmt);
    report_verror(reporter, node, false, fmt, args);
    va_end(args);
}

void json_report_error_at_key(const struct json_reporter *reporter, const cJSON *node,
                              const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    report_verror(reporter, node, true, fmt, args);
    va_end(args);
}

void json_report_expected(const struct json_reporter *reporter, const char *key, const cJSON *node,
                          const char *what)
{
    char got[64], name[64];
    json_locate_describe(node, got, sizeof(got));
    json_report_error(reporter, node, "%s: expected %s, got %s",
                      json_locate_quote(key, name, sizeof(name)), what, got);
}

/* Reports every member of `object` whose key is not in `allowed`. */
void json_report_unknown_keys(const struct json_reporter *reporter, const cJSON *object,
                              const char *const *allowed, size_t count, const char *where)
{
    for (const cJSON *m = object->child; m != NULL; m = m->next) {
        bool known = false;
        for (size_t i = 0; i < count && !known; i++)
            known = strcmp(m->string, allowed[i]) == 0;
        if (known)
            continue;
        char key[64];
        json_locate_quote(m->string, key, sizeof(key));
        const char *hint = json_locate_suggest(m->string, allowed, count);
        if (hint != NULL) {
            json_report_error_at_key(reporter, m, "unknown key %s in %s (did you mean \"%s\"?)",
                                     key, where, hint);
            continue;
        }
        char list[256] = "";
        size_t used = 0;
        for (size_t i = 0; i < count && used < sizeof(list); i++)
            used += (size_t)snprintf(list + used, sizeof(list) - used, "%s\"%s\"", i ? ", " : "",
                                     allowed[i]);
        json_report_error_at_key(reporter, m, "unknown key %s in %s (expected one of %s)", key,
                                 where, list);
    }
}
