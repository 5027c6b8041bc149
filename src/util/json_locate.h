/* json_locate: strict JSON parsing that remembers where every value is.
 *
 * cJSON builds the tree but keeps no positions and accepts some non-JSON
 * (control bytes as blanks, leading zeros, invalid \u escapes, trailing
 * garbage). json_locate_parse first scans the text itself as strict RFC 8259
 * JSON, in UTF-8, recording the position of every value in document order;
 * only then does it let cJSON build the tree, and pairs each cJSON node with
 * its position by walking the tree in the same order. Loaders then report
 * "file:line:column" for any node.
 *
 * Positions: lines are 1-based and end at LF, CRLF or a lone CR; columns are
 * 1-based and count BYTES (the unit of struct diag_entry), so a tab is one
 * column and "é" two. A UTF-8 byte order mark at the start is skipped and
 * does not count. */
#ifndef FLUXAUDIT_UTIL_JSON_LOCATE_H
#define FLUXAUDIT_UTIL_JSON_LOCATE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "fluxaudit/diag.h"

#define JSON_LOCATE_MAX_BYTES ((size_t)16 * 1024 * 1024) /* larger input is refused */
#define JSON_LOCATE_MAX_DEPTH 64                     /* nested arrays/objects */
#define JSON_LOCATE_MAX_VALUES 1000000               /* values in one document */
#define JSON_LOCATE_MAX_NUMBER 63                    /* bytes of one number */

struct json_location {
    const cJSON *node;
    int line;       /* where the value starts */
    int column;
    int key_line;   /* where the member's key starts; 0 outside objects */
    int key_column;
};

/* Sorted by node address for json_locate_find. */
struct json_locations {
    struct json_location *entries;
    size_t count;
};

struct json_document {
    cJSON *root;
    struct json_locations locations;
};

/* Parses `len` bytes of `text` (which need not be NUL-terminated) into
 * `doc`. Refuses, with a diagnostic at the offending position in `name`:
 * an empty or too large input, invalid UTF-8, any syntax error, nesting
 * deeper than JSON_LOCATE_MAX_DEPTH, more than JSON_LOCATE_MAX_VALUES values,
 * a "\u0000" escape, and duplicate keys in an object (one error per
 * duplicate, at the second key). Returns true with `doc` filled, or false
 * with `doc` empty and at least one error appended to `diag`. */
bool json_locate_parse(const char *name, const char *text, size_t len, struct json_document *doc,
                       struct diag *diag);

/* Sorts positions built by another reader (the CSV matrix loader builds a
 * cJSON tree with the positions of its cells) for json_locate_find. */
void json_locations_sort(struct json_locations *locations);

/* Frees the tree and the positions; `doc` is left empty. */
void json_locate_free(struct json_document *doc);

/* Sets *line and *col to where `node`'s value starts. Returns false (and sets
 * both to 0) for a node that is not in `locations`. */
bool json_locate_find(const struct json_locations *locations, const cJSON *node, int *line,
                      int *col);

/* Same for the key of an object member; false for a node that is not an
 * object member. */
bool json_locate_find_key(const struct json_locations *locations, const cJSON *node, int *line,
                          int *col);

/* Converts a byte offset into `text` to line and column with the rules
 * above (used for positions cJSON reports). An offset past the end gives the
 * position just after the last byte. */
void json_locate_offset(const char *text, size_t len, size_t offset, int *line, int *col);

/* Writes a short human description of a value for "got ..." in messages:
 * a string quoted and cut at 40 characters with control characters
 * escaped, a number, true/false/null, "an object", "an array". */
void json_locate_describe(const cJSON *node, char *buf, size_t len);

/* Writes `text` quoted and escaped (cut at 40 characters) for a message. */
const char *json_locate_quote(const char *text, char *buf, size_t len);

/* Where a loader reports the errors of one JSON document. */
struct json_reporter {
    const char *file;
    struct diag *diag;
    const struct json_locations *locations;
};

/* Appends an error at the start of `node`'s value. */
void json_report_error(const struct json_reporter *reporter, const cJSON *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends an error at `node`'s key (its value when it has none). */
void json_report_error_at_key(const struct json_reporter *reporter, const cJSON *node,
                              const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Reports every member of `object` whose key is not in `allowed`, with a
 * "did you mean" when one is close, else the list of allowed keys. */
void json_report_unknown_keys(const struct json_reporter *reporter, const cJSON *object,
                              const char *const *allowed, size_t count, const char *where);

/* Appends "\"key\": expected WHAT, got VALUE" at `node`. */
void json_report_expected(const struct json_reporter *reporter, const char *key, const cJSON *node,
                          const char *what);

/* Reorders the diagnostics from index `first` on by position (line, then
 * column; stable), so a loader's list of errors reads top to bottom. */
void json_locate_sort_diag(struct diag *diag, size_t first);

/* Returns the candidate closest to `word` (case-insensitive edit distance
 * at most 2, and less than half of the word's length), or NULL. For "did
 * you mean" hints. */
const char *json_locate_suggest(const char *word, const char *const *candidates, size_t count);

#endif
