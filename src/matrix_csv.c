/* matrix_csv: the flow matrix as suppliers send it (CSV spreadsheets), and
 * the writers of both forms.
 *
 * Loading reads up to three files: the matrix (one row per flow), its
 * inventory (one row per device or named host) and an optional site file
 * (key,value rows). libcsv splits the cells; this file feeds it one byte at
 * a time so that it knows where every cell starts (line and byte column in
 * the file the user wrote). The cells are then turned into a cJSON tree of
 * the fluxaudit-matrix/1 shape, each node with the position of its cell,
 * and matrix_build validates that tree like a JSON matrix: one set of rules,
 * one set of messages.
 *
 * Positions of three files in one location table: matrix_build reports
 * under one file name, so the line of a node built from the inventory or
 * the site file carries the file's index above CSV_FILE_SHIFT; after the
 * build, the diagnostics are moved back to their own file. Lines cannot
 * reach that bit: a file is at most CSV_MAX_BYTES long.
 *
 * Order of checks: every file is read and its header checked first
 * (encoding, quoting, columns: "syntax"); only when the three files are
 * sound are the cells checked and matrix_build run, as a JSON matrix gets
 * semantic checks only when its syntax is valid. */
#include "fluxaudit/matrix.h"

#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "fluxaudit/window.h"
#include "matrix_build.h"
#include "util/file.h"
#include "util/json_locate.h"
#include "util/reader.h"

#define CSV_MAX_BYTES JSON_LOCATE_MAX_BYTES /* larger files are refused */
#define CSV_MAX_ROWS 100000                 /* data rows of one file */
#define CSV_MAX_COLUMNS 32                  /* cells of a header row */
#define CSV_MAX_LIST_ITEMS 257 /* one more than matrix_build accepts, so it reports the excess */
#define CSV_FILE_SHIFT 28      /* file index above the line, see the top comment */
#define CSV_LINE_MASK ((1 << CSV_FILE_SHIFT) - 1)
#define CSV_REMEMBERED_MISSING 64 /* unknown devices reported once each */
#define WORD_MAX 64               /* a folded header or keyword */
#define QUOTE_MAX 64              /* a quoted value in a message */

_Static_assert(CSV_MAX_BYTES + 2 < (1u << CSV_FILE_SHIFT), "a line number would hit the file tag");

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

enum csv_file { CSV_FILE_MATRIX, CSV_FILE_INVENTORY, CSV_FILE_SITE, CSV_FILE_COUNT };

/* ---------------------------------------------------------------- columns */

/* A column a file may have: its canonical header (the JSON key) and the
 * other headers accepted for it, folded (see fold_word), '|'-separated. */
struct column_spec {
    const char *key;
    const char *aliases;
    bool required;
};

enum matrix_column {
    COL_DEVICE,
    COL_ID,
    COL_DESCRIPTION,
    COL_FROM,
    COL_TO,
    COL_PROTO,
    COL_PORT,
    COL_APP,
    COL_ENCRYPTION,
    COL_INTERNET,
    COL_WINDOW,
    COL_WAIVER,
    MATRIX_COLUMNS
};

static const struct column_spec matrix_columns[MATRIX_COLUMNS] = {
    [COL_DEVICE] = {"device", "equipement|appareil|dispositif", true},
    [COL_ID] = {"id", "identifiant|flux", true},
    [COL_DESCRIPTION] = {"description", "libelle", false},
    [COL_FROM] = {"from", "source|emetteur|origine", true},
    [COL_TO] = {"to", "destination|recepteur", true},
    [COL_PROTO] = {"proto", "protocol|protocole", true},
    [COL_PORT] = {"port", "ports", false},
    [COL_APP] = {"app", "application", false},
    [COL_ENCRYPTION] = {"encryption", "chiffrement", false},
    [COL_INTERNET] = {"internet", "", false},
    [COL_WINDOW] = {"window", "fenetre|plage horaire", false},
    [COL_WAIVER] = {"waiver", "derogation", false},
};

enum inventory_column {
    INV_DEVICE,
    INV_KIND,
    INV_ADDRESSES,
    INV_VENDOR,
    INV_MODEL,
    INV_LOCATION,
    INVENTORY_COLUMNS
};

static const struct column_spec inventory_columns[INVENTORY_COLUMNS] = {
    [INV_DEVICE] = {"device", "name|nom|equipement|appareil", true},
    [INV_KIND] = {"kind", "type", false},
    [INV_ADDRESSES] = {"addresses", "address|adresses|adresse", true},
    [INV_VENDOR] = {"vendor", "fabricant|fournisseur|constructeur", false},
    [INV_MODEL] = {"model", "modele", false},
    [INV_LOCATION] = {"location", "localisation|emplacement|lieu", false},
};

enum site_column { SITE_KEY, SITE_VALUE, SITE_COLUMNS };

static const struct column_spec site_columns[SITE_COLUMNS] = {
    [SITE_KEY] = {"key", "cle", true},
    [SITE_VALUE] = {"value", "valeur", true},
};

/* Keys of the site file: the top-level settings of a JSON matrix. */
static const char *const site_keys[] = {"site", "timezone", "internal"};

/* ---------------------------------------------------------------- tables */

struct csv_cell {
    char *text; /* NUL-terminated; libcsv trimmed the blanks around unquoted cells */
    size_t len;
    int line; /* where the cell starts: its first non-blank byte or quote */
    int column;
    bool quoted;
};

struct csv_row {
    struct csv_cell *cells; /* exactly as many as the header (padded with empty cells) */
    size_t count;
};

struct csv_table {
    const char *name;
    struct csv_row *rows; /* rows[0] is the header; blank rows are not kept */
    size_t count;
    size_t capacity;
    int *columns; /* per header cell: index in the file's column specs, or -1 */
};

static void table_free(struct csv_table *table)
{
    for (size_t r = 0; r < table->count; r++) {
        for (size_t c = 0; c < table->rows[r].count; c++)
            free(table->rows[r].cells[c].text);
        free(table->rows[r].cells);
    }
    free(table->rows);
    free(table->columns);
    memset(table, 0, sizeof(*table));
}

static bool cell_blank(const struct csv_cell *cell)
{
    return cell == NULL || cell->len == 0;
}

/* ---------------------------------------------------------------- scanning */

/* State of one file's scan, handed to libcsv's callbacks. */
struct csv_scan {
    struct csv_table *table;
    struct diag *diag;
    int line; /* position of the byte being fed */
    int column;
    bool in_cell; /* the current cell's first non-blank byte was seen */
    bool cell_quoted;
    int cell_line;
    int cell_column;
    bool fallback_set; /* where an empty cell is: just after its separator */
    int fallback_line;
    int fallback_column;
    bool row_started; /* a cell of the current row has ended */
    struct csv_cell cells[CSV_MAX_COLUMNS];
    size_t cell_count; /* stored */
    size_t cell_total; /* seen in this row */
    bool extra_reported;
    bool fatal; /* a syntax error: stop feeding */
};

static void scan_error(struct csv_scan *s, int line, int column, const char *message)
{
    diag_error(s->diag, s->table->name, line, column, "%s", message);
}

static void scan_oom(struct csv_scan *s)
{
    if (!s->fatal)
        diag_error(s->diag, s->table->name, 0, 0, "out of memory");
    s->fatal = true;
}

static void scan_drop_cells(struct csv_scan *s)
{
    for (size_t i = 0; i < s->cell_count; i++)
        free(s->cells[i].text);
    s->cell_count = 0;
}

/* libcsv's end-of-cell callback: keeps the cell with its position. Cells
 * past the header's width must be empty (Excel pads rows with ";;"). */
static void on_cell(void *data, size_t len, void *opaque)
{
    struct csv_scan *s = opaque;
    if (s->fatal)
        return;
    int line = s->in_cell ? s->cell_line : s->fallback_line;
    int column = s->in_cell ? s->cell_column : s->fallback_column;
    bool header = s->table->count == 0;
    size_t width = header ? CSV_MAX_COLUMNS : s->table->rows[0].count;
    size_t index = s->cell_total++;
    if (index < width) {
        char *text = malloc(len + 1);
        if (text == NULL) {
            scan_oom(s);
            return;
        }
        if (len > 0 && data != NULL)
            memcpy(text, data, len);
        text[len] = '\0';
        /* The row owns `text` from here; it is freed with the row (cppcheck
         * does not follow the pointer into s->cells). */
        s->cells[s->cell_count++] = (struct csv_cell){text, data != NULL ? len : 0, line, column,
                                                      s->in_cell && s->cell_quoted};
        // cppcheck-suppress memleak
    } else if (len > 0 && !s->extra_reported) {
        char message[160];
        if (header)
            snprintf(message, sizeof(message), "too many columns in the header (at most %d)",
                     CSV_MAX_COLUMNS);
        else
            snprintf(message, sizeof(message),
                     "extra cell: this row has more cells than the header (%zu)", width);
        scan_error(s, line, column, message);
        s->extra_reported = true;
    }
    s->in_cell = false;
    s->fallback_line = s->line;
    s->fallback_column = s->column + 1;
    s->fallback_set = true;
    s->row_started = true;
}

static bool row_is_blank(const struct csv_scan *s)
{
    for (size_t i = 0; i < s->cell_count; i++) {
        if (s->cells[i].len > 0)
            return false;
    }
    return !s->extra_reported;
}

/* Appends the finished row (padded to the header's width with empty cells
 * at the end of the line) unless it is blank. */
static void keep_row(struct csv_scan *s)
{
    struct csv_table *t = s->table;
    size_t width = t->count == 0 ? s->cell_count : t->rows[0].count;
    if (t->count > CSV_MAX_ROWS) {
        char message[64];
        snprintf(message, sizeof(message), "too many rows (at most %d)", CSV_MAX_ROWS);
        scan_error(s, s->cells[0].line, s->cells[0].column, message);
        s->fatal = true;
        return;
    }
    if (t->count == t->capacity) {
        size_t capacity = t->capacity == 0 ? 64 : t->capacity * 2;
        struct csv_row *rows = realloc(t->rows, capacity * sizeof(*rows));
        if (rows == NULL) {
            scan_oom(s);
            return;
        }
        t->rows = rows;
        t->capacity = capacity;
    }
    struct csv_cell *cells = calloc(width > 0 ? width : 1, sizeof(*cells));
    if (cells == NULL) {
        scan_oom(s);
        return;
    }
    memcpy(cells, s->cells, s->cell_count * sizeof(*cells));
    for (size_t i = s->cell_count; i < width; i++) {
        cells[i] = (struct csv_cell){calloc(1, 1), 0, s->line, s->column, false};
        if (cells[i].text == NULL) {
            for (size_t j = s->cell_count; j < i; j++)
                free(cells[j].text);
            free(cells);
            scan_oom(s);
            return;
        }
    }
    t->rows[t->count++] = (struct csv_row){cells, width};
    s->cell_count = 0;
}

/* libcsv's end-of-row callback. */
static void on_row(int terminator, void *opaque)
{
    (void)terminator;
    struct csv_scan *s = opaque;
    if (!s->fatal && !row_is_blank(s))
        keep_row(s);
    scan_drop_cells(s);
    s->cell_total = 0;
    s->in_cell = false;
    s->fallback_set = false;
    s->row_started = false;
    s->extra_reported = false;
}

/* Notes where the current cell starts, before libcsv sees `byte`: at its
 * first byte that is not a blank, a line break or the separator. */
static void note_byte(struct csv_scan *s, uint8_t byte, uint8_t separator)
{
    if (s->in_cell)
        return;
    if (byte == '\r' || byte == '\n') {
        /* A line of blanks that libcsv skips is no row. */
        if (!s->row_started)
            s->fallback_set = false;
        return;
    }
    if (!s->fallback_set) {
        s->fallback_line = s->line;
        s->fallback_column = s->column;
        s->fallback_set = true;
    }
    if (byte == ' ' || byte == '\t' || byte == separator)
        return;
    s->in_cell = true;
    s->cell_quoted = byte == '"';
    s->cell_line = s->line;
    s->cell_column = s->column;
}

/* Moves the position past `byte` (lines end at LF, CRLF or a lone CR). */
static void advance(int *line, int *column, uint8_t byte, uint8_t next)
{
    if (byte == '\n' || (byte == '\r' && next != '\n')) {
        (*line)++;
        *column = 1;
    } else {
        (*column)++;
    }
}

static void describe_byte(uint8_t byte, char *buf, size_t len)
{
    if (byte >= 0x21 && byte < 0x7F)
        snprintf(buf, len, "'%c'", byte);
    else if (byte == ' ')
        snprintf(buf, len, "a space");
    else
        snprintf(buf, len, "byte 0x%02X", byte);
}

/* Reports libcsv's strict-mode refusal of the byte at the current position. */
static void report_parse_error(struct csv_scan *s, struct csv_parser *parser, uint8_t byte)
{
    if (csv_error(parser) != CSV_EPARSE) {
        scan_oom(s);
        return;
    }
    char message[200], got[16];
    describe_byte(byte, got, sizeof(got));
    if (s->in_cell && s->cell_quoted)
        snprintf(message, sizeof(message),
                 "unexpected %s after the closing quote of a quoted cell (inside quotes, "
                 "write a quote as \"\")",
                 got);
    else
        snprintf(message, sizeof(message),
                 "'\"' inside a cell that does not start with a quote: quote the whole cell "
                 "and double the quote (\"a \"\"b\"\" c\")");
    scan_error(s, s->line, s->column, message);
    s->fatal = true;
}

/* Checks that the bytes are UTF-8 text without NUL; reports the first bad
 * byte at its position. */
static bool check_encoding(struct csv_scan *s, struct reader r)
{
    int line = 1, column = 1;
    while (reader_left(&r) > 0) {
        uint8_t byte = reader_u8(&r);
        size_t extra = byte < 0x80                    ? 0
                       : byte >= 0xC2 && byte <= 0xDF ? 1
                       : byte >= 0xE0 && byte <= 0xEF ? 2
                       : byte >= 0xF0 && byte <= 0xF4 ? 3
                                                      : 4;
        bool ok = extra < 4 && reader_left(&r) >= extra && byte != 0;
        for (size_t i = 0; ok && i < extra; i++) {
            uint8_t next = reader_peek(&r, i);
            uint8_t low = 0x80, high = 0xBF;
            if (i == 0 && byte == 0xE0)
                low = 0xA0; /* overlong */
            if (i == 0 && byte == 0xED)
                high = 0x9F; /* surrogates */
            if (i == 0 && byte == 0xF0)
                low = 0x90; /* overlong */
            if (i == 0 && byte == 0xF4)
                high = 0x8F; /* past U+10FFFF */
            ok = next >= low && next <= high;
        }
        if (!ok) {
            char message[160];
            if (byte == 0)
                snprintf(message, sizeof(message), "NUL byte: a CSV file is text");
            else
                snprintf(message, sizeof(message),
                         "invalid UTF-8 byte 0x%02X: the file must be encoded in UTF-8 "
                         "(in Excel: save as \"CSV UTF-8\")",
                         byte);
            scan_error(s, line, column, message);
            return false;
        }
        reader_skip(&r, extra);
        advance(&line, &column, byte, reader_peek(&r, 0));
        column += (int)extra;
    }
    return true;
}

/* The separator: ';' when the first non-blank line has more semicolons
 * than commas outside quotes (French Excel), else ','. */
static uint8_t detect_separator(struct reader r)
{
    size_t commas = 0, semicolons = 0;
    bool quoted = false, content = false;
    while (reader_left(&r) > 0) {
        uint8_t byte = reader_u8(&r);
        if (byte == '"')
            quoted = !quoted;
        if (!quoted && (byte == '\r' || byte == '\n')) {
            if (content)
                break;
            continue;
        }
        if (byte != ' ' && byte != '\t')
            content = true;
        if (!quoted && byte == ',')
            commas++;
        if (!quoted && byte == ';')
            semicolons++;
    }
    return semicolons > commas ? ';' : ',';
}

/* Reads one file's rows into `table`. Returns false after reporting an
 * encoding or quoting error, or an empty file. */
static bool scan_table(const char *name, const char *text, size_t len, struct csv_table *table,
                       struct diag *diag)
{
    memset(table, 0, sizeof(*table));
    table->name = name;
    size_t errors = diag->errors;
    struct csv_scan s = {.table = table, .diag = diag, .line = 1, .column = 1};
    if (len > CSV_MAX_BYTES) {
        diag_error(diag, name, 0, 0, "file too large (%zu bytes, at most %zu)", len,
                   (size_t)CSV_MAX_BYTES);
        return false;
    }
    struct reader r = reader_make((const uint8_t *)text, len);
    if (reader_peek(&r, 0) == 0xEF && reader_peek(&r, 1) == 0xBB && reader_peek(&r, 2) == 0xBF)
        reader_skip(&r, 3); /* a UTF-8 byte order mark: skipped, not counted */
    else if ((reader_peek(&r, 0) == 0xFF && reader_peek(&r, 1) == 0xFE) ||
             (reader_peek(&r, 0) == 0xFE && reader_peek(&r, 1) == 0xFF)) {
        diag_error(diag, name, 0, 0,
                   "the file is UTF-16 (Excel \"Unicode text\"): save it as \"CSV UTF-8\"");
        return false;
    }
    if (!check_encoding(&s, r))
        return false;
    uint8_t separator = detect_separator(r);
    struct csv_parser parser;
    if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        scan_oom(&s);
        return false;
    }
    csv_set_delim(&parser, separator);
    while (reader_left(&r) > 0 && !s.fatal) {
        const uint8_t *byte = reader_bytes(&r, 1);
        note_byte(&s, *byte, separator);
        if (csv_parse(&parser, byte, 1, on_cell, on_row, &s) != 1) {
            report_parse_error(&s, &parser, *byte);
            break;
        }
        advance(&s.line, &s.column, *byte, reader_peek(&r, 0));
    }
    if (!s.fatal && csv_fini(&parser, on_cell, on_row, &s) != 0) {
        scan_error(&s, s.cell_line, s.cell_column,
                   "unterminated quoted cell: the closing '\"' is missing");
        s.fatal = true;
    }
    csv_free(&parser);
    scan_drop_cells(&s);
    if (!s.fatal && table->count == 0) {
        diag_error(diag, name, 0, 0, "empty file: expected a header row");
        return false;
    }
    /* Extra cells are reported without stopping; they still make the
     * file unsound. */
    return !s.fatal && diag->errors == errors;
}

/* ---------------------------------------------------------------- words */

/* Base letter of the Latin-1 letter whose UTF-8 form is 0xC3 `second`
 * (either case), or 0: the accents French headers and keywords carry. */
static char fold_accent(uint8_t second)
{
    /* U+00C0..U+00DF and U+00E0..U+00FF share the low five bits. */
    static const char letters[33] = "aaaaaa_ceeeeiiii_nooooo__uuuuy__";
    if (second < 0x80 || second > 0xBF)
        return 0;
    char c = letters[second & 0x1F];
    return c == '_' ? 0 : c;
}

/* Folds a header or keyword for comparison into `out`: blanks trimmed,
 * ASCII letters lowered, accented letters (é, è, ê, à, ç, ô...) replaced by
 * their base letter. Returns false if it does not fit. */
static bool fold_word(const char *text, char *out, size_t len)
{
    size_t used = 0;
    const unsigned char *p = (const unsigned char *)text;
    while (*p == ' ' || *p == '\t')
        p++;
    for (; *p != '\0'; p++) {
        char c = (char)tolower(*p);
        if (*p == 0xC3 && p[1] != '\0' && fold_accent(p[1]) != 0) {
            c = fold_accent(p[1]);
            p++;
        }
        if (used + 1 >= len)
            return false;
        out[used++] = c;
    }
    while (used > 0 && (out[used - 1] == ' ' || out[used - 1] == '\t'))
        used--;
    out[used] = '\0';
    return true;
}

/* True if folded `word` is in the '|'-separated `list`. */
static bool word_in_list(const char *word, const char *list)
{
    size_t len = strlen(word);
    for (const char *p = list; *p != '\0';) {
        const char *bar = strchr(p, '|');
        size_t n = bar != NULL ? (size_t)(bar - p) : strlen(p);
        if (n == len && strncmp(p, word, n) == 0)
            return true;
        p += n + (bar != NULL);
    }
    return false;
}

static int find_column(const char *word, const struct column_spec *specs, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (strcmp(word, specs[i].key) == 0 || word_in_list(word, specs[i].aliases))
            return (int)i;
    }
    return -1;
}

/* ---------------------------------------------------------------- headers */

static void list_keys(const struct column_spec *specs, size_t count, bool required_only, char *buf,
                      size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < count && used < len; i++) {
        if (required_only && !specs[i].required)
            continue;
        used +=
            (size_t)snprintf(buf + used, len - used, "%s%s", used > 0 ? ", " : "", specs[i].key);
    }
}

static void report_unknown_column(const struct csv_table *t, const struct csv_cell *cell,
                                  const struct column_spec *specs, size_t count, struct diag *diag)
{
    const char *keys[CSV_MAX_COLUMNS];
    for (size_t i = 0; i < count; i++)
        keys[i] = specs[i].key;
    char q[QUOTE_MAX];
    json_locate_quote(cell->text, q, sizeof(q));
    const char *hint = json_locate_suggest(cell->text, keys, count);
    if (hint != NULL) {
        diag_error(diag, t->name, cell->line, cell->column,
                   "unknown column %s (did you mean \"%s\"?)", q, hint);
        return;
    }
    char list[256];
    list_keys(specs, count, false, list, sizeof(list));
    diag_error(diag, t->name, cell->line, cell->column, "unknown column %s: expected %s", q, list);
}

/* Maps the header cells to `specs` (any order, any case, French aliases)
 * and checks that nothing sits under a column without a name. Returns
 * false after reporting unknown, duplicate or missing columns. */
static bool map_header(struct csv_table *t, const struct column_spec *specs, size_t count,
                       struct diag *diag)
{
    size_t errors = diag->errors;
    const struct csv_row *header = &t->rows[0];
    t->columns = calloc(header->count > 0 ? header->count : 1, sizeof(*t->columns));
    if (t->columns == NULL) {
        diag_error(diag, t->name, 0, 0, "out of memory");
        return false;
    }
    int first[CSV_MAX_COLUMNS];
    for (size_t i = 0; i < count; i++)
        first[i] = -1;
    for (size_t c = 0; c < header->count; c++) {
        const struct csv_cell *cell = &header->cells[c];
        char word[WORD_MAX];
        t->columns[c] = -1;
        if (cell->len == 0)
            continue; /* a column without a name: its cells must be empty */
        int index =
            fold_word(cell->text, word, sizeof(word)) ? find_column(word, specs, count) : -1;
        if (index < 0) {
            report_unknown_column(t, cell, specs, count, diag);
        } else if (first[index] >= 0) {
            const struct csv_cell *prior = &header->cells[first[index]];
            diag_error(diag, t->name, cell->line, cell->column,
                       "duplicate column \"%s\" (first at line %d, column %d)", specs[index].key,
                       prior->line, prior->column);
        } else {
            first[index] = (int)c;
            t->columns[c] = index;
        }
    }
    for (size_t i = 0; i < count; i++) {
        if (specs[i].required && first[i] < 0) {
            char list[256];
            list_keys(specs, count, true, list, sizeof(list));
            diag_error(diag, t->name, header->cells[0].line, header->cells[0].column,
                       "missing required column \"%s\" (the header must name %s)", specs[i].key,
                       list);
        }
    }
    for (size_t r = 1; r < t->count; r++) {
        for (size_t c = 0; c < t->rows[r].count; c++) {
            const struct csv_cell *cell = &t->rows[r].cells[c];
            if (t->columns[c] < 0 && header->cells[c].len == 0 && cell->len > 0)
                diag_error(diag, t->name, cell->line, cell->column,
                           "cell in a column without a header name");
        }
    }
    return diag->errors == errors;
}

/* The cell of column `spec` in `row`, or NULL when the header lacks it. */
static const struct csv_cell *row_cell(const struct csv_table *t, size_t row, int spec)
{
    for (size_t c = 0; c < t->rows[0].count; c++) {
        if (t->columns[c] == spec)
            return &t->rows[row].cells[c];
    }
    return NULL;
}

static const struct csv_cell *header_cell(const struct csv_table *t, int spec)
{
    return row_cell(t, 0, spec);
}

/* ---------------------------------------------------------------- tree */

/* The cJSON tree handed to matrix_build and the positions of its nodes. */
struct builder {
    struct diag *diag;
    const struct csv_table *tables[CSV_FILE_COUNT];
    struct json_locations locations;
    size_t capacity;
    bool oom;
};

static int tag_line(enum csv_file file, int line)
{
    return line > 0 ? line | ((int)file << CSV_FILE_SHIFT) : 0;
}

/* Records that `node` (created from `cell` of `file`, as a member whose key
 * is the header `key_cell`) starts there. Returns `node`; NULL (and the
 * builder marked out of memory) if it is NULL or cannot be recorded. */
static cJSON *track(struct builder *b, cJSON *node, enum csv_file file, const struct csv_cell *cell,
                    const struct csv_cell *key_cell)
{
    if (node == NULL) {
        b->oom = true;
        return NULL;
    }
    struct json_locations *l = &b->locations;
    if (l->count == b->capacity) {
        size_t capacity = b->capacity == 0 ? 256 : b->capacity * 2;
        struct json_location *grown = realloc(l->entries, capacity * sizeof(*grown));
        if (grown == NULL) {
            b->oom = true;
            cJSON_Delete(node);
            return NULL;
        }
        l->entries = grown;
        b->capacity = capacity;
    }
    struct json_location *entry = &l->entries[l->count++];
    *entry = (struct json_location){node, 0, 0, 0, 0};
    if (cell != NULL) {
        entry->line = tag_line(file, cell->line);
        entry->column = cell->column;
    }
    if (key_cell != NULL) {
        entry->key_line = tag_line(file, key_cell->line);
        entry->key_column = key_cell->column;
    }
    return node;
}

/* Frees a tracked node that is not used after all, and its location entry:
 * a later node could get the same address and inherit a stale position. */
static void untrack_delete(struct builder *b, cJSON *node)
{
    struct json_locations *l = &b->locations;
    for (size_t i = 0; i < l->count; i++) {
        if (l->entries[i].node == node) {
            l->entries[i] = l->entries[--l->count];
            break;
        }
    }
    cJSON_Delete(node);
}

/* Adds `node` to `object` under `key`, or frees it on failure. */
static void add_member(struct builder *b, cJSON *object, const char *key, cJSON *node)
{
    if (node == NULL)
        return;
    if (object == NULL || !cJSON_AddItemToObject(object, key, node)) {
        b->oom = true;
        cJSON_Delete(node); /* out of memory: the whole load fails, no position is looked up */
    }
}

static void add_item(struct builder *b, cJSON *array, cJSON *node)
{
    if (node == NULL)
        return;
    if (array == NULL || !cJSON_AddItemToArray(array, node)) {
        b->oom = true;
        cJSON_Delete(node);
    }
}

/* A string node for a cell, at the cell, keyed by its header. */
static cJSON *cell_string(struct builder *b, enum csv_file file, int spec,
                          const struct csv_cell *cell, const char *text)
{
    const struct csv_cell *key = spec >= 0 ? header_cell(b->tables[file], spec) : NULL;
    return track(b, cJSON_CreateString(text), file, cell, key);
}

/* Free text as one line: a line break typed inside a cell (Alt+Enter in
 * Excel) and the blanks around it become one space, since the model keeps
 * no control characters. Returns a new string or NULL. */
static char *one_line(const char *text)
{
    size_t len = strlen(text);
    char *out = malloc(len + 1);
    if (out == NULL)
        return NULL;
    size_t used = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] != '\r' && text[i] != '\n') {
            out[used++] = text[i];
            continue;
        }
        while (used > 0 && (out[used - 1] == ' ' || out[used - 1] == '\t'))
            used--;
        while (i + 1 < len && strchr("\r\n \t", text[i + 1]) != NULL)
            i++;
        out[used++] = ' ';
    }
    out[used] = '\0';
    return out;
}

/* Adds a free-text member when its cell is not blank. */
static void add_text(struct builder *b, cJSON *object, enum csv_file file, size_t row, int spec,
                     const char *key)
{
    const struct csv_cell *cell = row_cell(b->tables[file], row, spec);
    if (cell_blank(cell))
        return;
    char *text = one_line(cell->text);
    if (text == NULL) {
        b->oom = true;
        return;
    }
    add_member(b, object, key, cell_string(b, file, spec, cell, text));
    free(text);
}

/* Adds a member holding the cell as written, even when blank (then
 * matrix_build reports the blank at the cell). */
static void add_raw(struct builder *b, cJSON *object, enum csv_file file, size_t row, int spec,
                    const char *key)
{
    const struct csv_cell *cell = row_cell(b->tables[file], row, spec);
    if (cell != NULL)
        add_member(b, object, key, cell_string(b, file, spec, cell, cell->text));
}

/* An array of the cell's items separated by blanks, line breaks, commas or
 * semicolons; a blank cell gives one blank item so that matrix_build
 * reports it at the cell. */
static cJSON *cell_list(struct builder *b, enum csv_file file, int spec,
                        const struct csv_cell *cell, const struct csv_cell *key_cell)
{
    cJSON *array = track(b, cJSON_CreateArray(), file, cell, key_cell);
    if (array == NULL)
        return NULL;
    const char *separators = " \t\r\n,;";
    const char *p = cell->text;
    size_t items = 0;
    while (items < CSV_MAX_LIST_ITEMS) {
        p += strspn(p, separators);
        size_t n = strcspn(p, separators);
        if (n == 0)
            break;
        char *item = strndup(p, n);
        if (item == NULL) {
            b->oom = true;
            break;
        }
        add_item(b, array, cell_string(b, file, spec, cell, item));
        free(item);
        items++;
        p += n;
    }
    if (items == 0)
        add_item(b, array, cell_string(b, file, spec, cell, ""));
    return array;
}

static void report_cell(struct builder *b, enum csv_file file, const struct csv_cell *cell,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Appends an error at `cell` of `file`. */
static void report_cell(struct builder *b, enum csv_file file, const struct csv_cell *cell,
                        const char *fmt, ...)
{
    char message[512];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof(message), fmt, args);
    va_end(args);
    diag_error(b->diag, b->tables[file]->name, cell->line, cell->column, "%s", message);
}

/* ---------------------------------------------------------------- site */

static void build_site(struct builder *b, cJSON *root)
{
    const struct csv_table *t = b->tables[CSV_FILE_SITE];
    if (t == NULL)
        return;
    int first[COUNT_OF(site_keys)] = {0};
    for (size_t r = 1; r < t->count; r++) {
        const struct csv_cell *key = row_cell(t, r, SITE_KEY);
        const struct csv_cell *value = row_cell(t, r, SITE_VALUE);
        char word[WORD_MAX], q[QUOTE_MAX];
        int index = -1;
        if (fold_word(key->text, word, sizeof(word))) {
            for (size_t i = 0; i < COUNT_OF(site_keys); i++)
                index = strcmp(word, site_keys[i]) == 0 ? (int)i : index;
        }
        if (key->len == 0) {
            report_cell(b, CSV_FILE_SITE, key, "empty key: expected site, timezone or internal");
            continue;
        }
        if (index < 0) {
            const char *hint = json_locate_suggest(key->text, site_keys, COUNT_OF(site_keys));
            json_locate_quote(key->text, q, sizeof(q));
            if (hint != NULL)
                report_cell(b, CSV_FILE_SITE, key, "unknown key %s (did you mean \"%s\"?)", q,
                            hint);
            else
                report_cell(b, CSV_FILE_SITE, key,
                            "unknown key %s: expected site, timezone or internal", q);
            continue;
        }
        if (first[index] > 0) {
            const struct csv_cell *prior = row_cell(t, (size_t)first[index], SITE_KEY);
            diag_error(b->diag, t->name, key->line, key->column,
                       "duplicate key \"%s\" (first at line %d, column %d)", site_keys[index],
                       prior->line, prior->column);
            continue;
        }
        first[index] = (int)r;
        if (value->len == 0)
            continue; /* blank: the default */
        if (strcmp(site_keys[index], "internal") == 0)
            add_member(b, root, "internal", cell_list(b, CSV_FILE_SITE, SITE_VALUE, value, key));
        else if (strcmp(site_keys[index], "site") == 0)
            add_text(b, root, CSV_FILE_SITE, r, SITE_VALUE, "site");
        else
            add_member(b, root, site_keys[index],
                       track(b, cJSON_CreateString(value->text), CSV_FILE_SITE, value, key));
    }
}

/* ---------------------------------------------------------------- inventory */

/* One inventory row, for duplicate names and the matrix's `device` cells. */
struct inventory_entry {
    const char *name;
    size_t row;
    bool is_host;
    bool duplicate;
    cJSON *flows; /* a device's flows array, filled from the matrix */
    bool flows_located;
};

struct inventory {
    struct inventory_entry *entries; /* sorted by name, then row */
    size_t count;
};

static int entry_compare(const void *a, const void *b)
{
    const struct inventory_entry *x = a, *y = b;
    int by_name = strcmp(x->name, y->name);
    if (by_name != 0)
        return by_name;
    return x->row < y->row ? -1 : x->row > y->row;
}

static int entry_row_compare(const void *a, const void *b)
{
    const struct inventory_entry *x = a, *y = b;
    return x->row < y->row ? -1 : x->row > y->row;
}

/* Parses the `kind` cell: blank or "device" is a device, "host" a host. */
static bool parse_kind(struct builder *b, const struct csv_cell *cell)
{
    char word[WORD_MAX] = "";
    if (cell_blank(cell) || !fold_word(cell->text, word, sizeof(word)))
        return false;
    if (strcmp(word, "host") == 0 || strcmp(word, "hote") == 0)
        return true;
    if (strcmp(word, "device") != 0 && strcmp(word, "equipement") != 0) {
        char q[QUOTE_MAX];
        report_cell(b, CSV_FILE_INVENTORY, cell,
                    "\"kind\": expected \"device\" or \"host\", got %s",
                    json_locate_quote(cell->text, q, sizeof(q)));
    }
    return false;
}

/* Collects the named rows and reports blank and duplicate names. */
static bool collect_inventory(struct builder *b, struct inventory *inv)
{
    const struct csv_table *t = b->tables[CSV_FILE_INVENTORY];
    inv->entries = calloc(t->count, sizeof(*inv->entries));
    if (inv->entries == NULL)
        return false;
    for (size_t r = 1; r < t->count; r++) {
        const struct csv_cell *name = row_cell(t, r, INV_DEVICE);
        bool is_host = parse_kind(b, row_cell(t, r, INV_KIND));
        if (name->len == 0) {
            report_cell(b, CSV_FILE_INVENTORY, name,
                        "empty \"device\" cell: expected the name of the device or host");
            continue;
        }
        inv->entries[inv->count++] =
            (struct inventory_entry){.name = name->text, .row = r, .is_host = is_host};
    }
    qsort(inv->entries, inv->count, sizeof(*inv->entries), entry_compare);
    for (size_t i = 1; i < inv->count; i++) {
        struct inventory_entry *again = &inv->entries[i];
        if (strcmp(again->name, inv->entries[i - 1].name) != 0)
            continue;
        size_t first = i - 1;
        while (inv->entries[first].duplicate)
            first--;
        const struct csv_cell *prior = row_cell(t, inv->entries[first].row, INV_DEVICE);
        const struct csv_cell *cell = row_cell(t, again->row, INV_DEVICE);
        char q[QUOTE_MAX];
        diag_error(b->diag, t->name, cell->line, cell->column,
                   "\"device\": name %s is already used by the row at line %d",
                   json_locate_quote(again->name, q, sizeof(q)), prior->line);
        again->duplicate = true;
    }
    return true;
}

static const struct inventory_entry *find_entry(const struct inventory *inv, const char *name)
{
    struct inventory_entry key = {.name = name, .row = 0};
    size_t lo = 0, hi = inv->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (entry_compare(&inv->entries[mid], &key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < inv->count && strcmp(inv->entries[lo].name, name) == 0)
        return &inv->entries[lo];
    return NULL;
}

static void build_host(struct builder *b, cJSON *hosts, size_t row)
{
    const struct csv_table *t = b->tables[CSV_FILE_INVENTORY];
    const struct csv_cell *name = row_cell(t, row, INV_DEVICE);
    const int texts[] = {INV_VENDOR, INV_MODEL, INV_LOCATION};
    for (size_t i = 0; i < COUNT_OF(texts); i++) {
        const struct csv_cell *cell = row_cell(t, row, texts[i]);
        if (!cell_blank(cell))
            report_cell(b, CSV_FILE_INVENTORY, cell,
                        "a host has no \"%s\": leave the cell empty, or write \"device\" in "
                        "\"kind\"",
                        inventory_columns[texts[i]].key);
    }
    add_member(
        b, hosts, name->text,
        cell_list(b, CSV_FILE_INVENTORY, INV_ADDRESSES, row_cell(t, row, INV_ADDRESSES), name));
}

/* A device of the inventory, its flows array still empty. */
static void build_device(struct builder *b, cJSON *devices, struct inventory_entry *entry)
{
    const struct csv_table *t = b->tables[CSV_FILE_INVENTORY];
    const struct csv_cell *name = row_cell(t, entry->row, INV_DEVICE);
    cJSON *device = track(b, cJSON_CreateObject(), CSV_FILE_INVENTORY, name, NULL);
    if (device == NULL)
        return;
    add_raw(b, device, CSV_FILE_INVENTORY, entry->row, INV_DEVICE, "name");
    add_text(b, device, CSV_FILE_INVENTORY, entry->row, INV_VENDOR, "vendor");
    add_text(b, device, CSV_FILE_INVENTORY, entry->row, INV_MODEL, "model");
    add_text(b, device, CSV_FILE_INVENTORY, entry->row, INV_LOCATION, "location");
    add_member(b, device, "addresses",
               cell_list(b, CSV_FILE_INVENTORY, INV_ADDRESSES,
                         row_cell(t, entry->row, INV_ADDRESSES), header_cell(t, INV_ADDRESSES)));
    entry->flows = cJSON_CreateArray();
    if (entry->flows == NULL)
        b->oom = true;
    add_member(b, device, "flows", entry->flows);
    add_item(b, devices, device);
}

/* Hosts and devices in inventory order (duplicates were reported). */
static void build_inventory(struct builder *b, cJSON *root, struct inventory *inv)
{
    struct inventory_entry *by_row = calloc(inv->count > 0 ? inv->count : 1, sizeof(*by_row));
    if (by_row == NULL) {
        b->oom = true;
        return;
    }
    memcpy(by_row, inv->entries, inv->count * sizeof(*by_row));
    qsort(by_row, inv->count, sizeof(*by_row), entry_row_compare);
    const struct csv_cell *origin = &b->tables[CSV_FILE_INVENTORY]->rows[0].cells[0];
    cJSON *hosts = track(b, cJSON_CreateObject(), CSV_FILE_INVENTORY, origin, NULL);
    cJSON *devices = track(b, cJSON_CreateArray(), CSV_FILE_INVENTORY, origin, NULL);
    for (size_t i = 0; i < inv->count; i++) {
        if (by_row[i].duplicate)
            continue;
        if (by_row[i].is_host)
            build_host(b, hosts, by_row[i].row);
        else
            build_device(b, devices, &by_row[i]);
    }
    /* The flows arrays now hang off the tree; point the sorted entries at them. */
    for (size_t i = 0; i < inv->count; i++) {
        struct inventory_entry *sorted = (struct inventory_entry *)find_entry(inv, by_row[i].name);
        if (!by_row[i].duplicate && sorted != NULL)
            sorted->flows = by_row[i].flows;
    }
    free(by_row);
    if (cJSON_GetArraySize(hosts) > 0)
        add_member(b, root, "hosts", hosts);
    else
        untrack_delete(b, hosts);
    add_member(b, root, "devices", devices);
}

/* ---------------------------------------------------------------- flows */

/* Parses a boolean cell: true/false, oui/non, vrai/faux, yes/no, 1/0. */
static bool parse_boolean(const char *text, bool *out)
{
    static const char *const yes[] = {"true", "oui", "vrai", "yes", "1"};
    static const char *const no[] = {"false", "non", "faux", "no", "0"};
    char word[WORD_MAX];
    if (!fold_word(text, word, sizeof(word)))
        return false;
    for (size_t i = 0; i < COUNT_OF(yes); i++) {
        if (strcmp(word, yes[i]) == 0 || strcmp(word, no[i]) == 0) {
            *out = strcmp(word, yes[i]) == 0;
            return true;
        }
    }
    return false;
}

/* A port cell made only of digits, '-', blanks, commas, semicolons and line
 * breaks, rewritten as matrix.c's list syntax: "80;443", "80 443" and
 * "80, 443" all become "80,443"; blanks around '-' go. Other text (such as
 * "any" or a typo) is kept as written for matrix_build to judge. */
static char *normalize_ports(const char *text)
{
    if (text[strspn(text, "0123456789- \t\r\n,;")] != '\0')
        return strdup(text);
    char *out = malloc(strlen(text) + 1);
    if (out == NULL)
        return NULL;
    size_t used = 0;
    bool pending = false; /* a separator since the last digit */
    for (const char *p = text; *p != '\0'; p++) {
        if (isdigit((unsigned char)*p)) {
            if (pending && used > 0 && out[used - 1] != '-')
                out[used++] = ',';
            pending = false;
            out[used++] = *p;
        } else if (*p == '-') {
            out[used++] = '-';
            pending = false;
        } else {
            pending = true;
        }
    }
    out[used] = '\0';
    return out;
}

static void add_port(struct builder *b, cJSON *flow, size_t row)
{
    const struct csv_table *t = b->tables[CSV_FILE_MATRIX];
    const struct csv_cell *cell = row_cell(t, row, COL_PORT);
    if (cell == NULL)
        return;
    if (cell->len == 0) {
        /* Required for tcp and udp: a blank string makes matrix_build
         * report it at the cell rather than at the row. */
        char word[WORD_MAX];
        const struct csv_cell *proto = row_cell(t, row, COL_PROTO);
        if (fold_word(proto->text, word, sizeof(word)) &&
            (strcmp(word, "tcp") == 0 || strcmp(word, "udp") == 0))
            add_member(b, flow, "port", cell_string(b, CSV_FILE_MATRIX, COL_PORT, cell, ""));
        return;
    }
    char *ports = normalize_ports(cell->text);
    if (ports == NULL) {
        b->oom = true;
        return;
    }
    add_member(b, flow, "port", cell_string(b, CSV_FILE_MATRIX, COL_PORT, cell, ports));
    free(ports);
}

static void add_internet(struct builder *b, cJSON *flow, size_t row)
{
    const struct csv_cell *cell = row_cell(b->tables[CSV_FILE_MATRIX], row, COL_INTERNET);
    if (cell_blank(cell))
        return;
    bool value;
    if (!parse_boolean(cell->text, &value)) {
        char q[QUOTE_MAX];
        report_cell(b, CSV_FILE_MATRIX, cell,
                    "\"internet\": expected a boolean (true/false, oui/non, vrai/faux, yes/no, "
                    "1/0), got %s",
                    json_locate_quote(cell->text, q, sizeof(q)));
        /* Already refused; true keeps matrix_build from adding a second,
         * misleading error about an "internet" peer. */
        value = true;
    }
    const struct csv_cell *key = header_cell(b->tables[CSV_FILE_MATRIX], COL_INTERNET);
    add_member(b, flow, "internet", track(b, cJSON_CreateBool(value), CSV_FILE_MATRIX, cell, key));
}

/* A window is checked here rather than by matrix_build, which points
 * inside the text as if a quote opened it: a CSV cell may have none. The
 * column is exact for a one-line cell without doubled quotes. An invalid
 * window is reported and left out of the tree (reported once). */
static void add_window(struct builder *b, cJSON *flow, size_t row)
{
    const struct csv_cell *cell = row_cell(b->tables[CSV_FILE_MATRIX], row, COL_WINDOW);
    if (cell_blank(cell))
        return;
    char *text = one_line(cell->text);
    if (text == NULL) {
        b->oom = true;
        return;
    }
    struct window window;
    char err[256];
    if (window_parse(text, &window, err, sizeof(err))) {
        add_member(b, flow, "window", cell_string(b, CSV_FILE_MATRIX, COL_WINDOW, cell, text));
    } else {
        const char *what = strstr(err, ": "); /* err starts "column N: " */
        int offset = (window.error_column > 0 ? window.error_column : 1) - 1 + cell->quoted;
        diag_error(b->diag, b->tables[CSV_FILE_MATRIX]->name, cell->line, cell->column + offset,
                   "\"window\": %s", what != NULL ? what + 2 : err);
    }
    free(text);
}

/* Reports a `device` cell that names no device of the inventory, once per
 * name (up to CSV_REMEMBERED_MISSING names). */
static void report_unknown_device(struct builder *b, const struct inventory *inv,
                                  const struct csv_cell *cell, const char **reported,
                                  size_t *reported_count)
{
    for (size_t i = 0; i < *reported_count; i++) {
        if (strcmp(reported[i], cell->text) == 0)
            return;
    }
    if (*reported_count < CSV_REMEMBERED_MISSING)
        reported[(*reported_count)++] = cell->text;
    if (b->diag->count >= DIAG_MAX) {
        /* Only counted: no "did you mean" search for a message never kept. */
        diag_error(b->diag, b->tables[CSV_FILE_MATRIX]->name, cell->line, cell->column,
                   "\"device\": not a device of the inventory");
        return;
    }
    const char **names = calloc(inv->count > 0 ? inv->count : 1, sizeof(*names));
    size_t count = 0;
    for (size_t i = 0; names != NULL && i < inv->count; i++) {
        if (!inv->entries[i].is_host && !inv->entries[i].duplicate)
            names[count++] = inv->entries[i].name;
    }
    const char *hint = names != NULL ? json_locate_suggest(cell->text, names, count) : NULL;
    char q[QUOTE_MAX];
    json_locate_quote(cell->text, q, sizeof(q));
    if (hint != NULL)
        diag_error(b->diag, b->tables[CSV_FILE_MATRIX]->name, cell->line, cell->column,
                   "\"device\": %s is not a device of the inventory %s (did you mean \"%s\"?)", q,
                   b->tables[CSV_FILE_INVENTORY]->name, hint);
    else
        diag_error(b->diag, b->tables[CSV_FILE_MATRIX]->name, cell->line, cell->column,
                   "\"device\": %s is not a device of the inventory %s", q,
                   b->tables[CSV_FILE_INVENTORY]->name);
    free(names);
}

/* One flow row, appended to its device's flows. */
static void build_flow(struct builder *b, const struct inventory *inv, size_t row,
                       const char **reported, size_t *reported_count)
{
    const struct csv_table *t = b->tables[CSV_FILE_MATRIX];
    const struct csv_cell *device = row_cell(t, row, COL_DEVICE);
    if (device->len == 0) {
        report_cell(b, CSV_FILE_MATRIX, device,
                    "empty \"device\" cell: expected the name of a device of the inventory");
        return;
    }
    struct inventory_entry *entry = (struct inventory_entry *)find_entry(inv, device->text);
    if (entry == NULL) {
        report_unknown_device(b, inv, device, reported, reported_count);
        return;
    }
    if (entry->is_host) {
        char q[QUOTE_MAX];
        report_cell(b, CSV_FILE_MATRIX, device,
                    "\"device\": %s is a host of the inventory (kind \"host\"), not a device: "
                    "only devices have flows",
                    json_locate_quote(device->text, q, sizeof(q)));
        return;
    }
    const struct csv_cell *start = &t->rows[row].cells[0];
    if (entry->flows != NULL && !entry->flows_located) {
        /* "too many flows" is reported at the device's first flow row. */
        track(b, entry->flows, CSV_FILE_MATRIX, start, NULL);
        entry->flows_located = true;
    }
    cJSON *flow = track(b, cJSON_CreateObject(), CSV_FILE_MATRIX, start, NULL);
    if (flow == NULL)
        return;
    add_raw(b, flow, CSV_FILE_MATRIX, row, COL_ID, "id");
    add_text(b, flow, CSV_FILE_MATRIX, row, COL_DESCRIPTION, "description");
    add_raw(b, flow, CSV_FILE_MATRIX, row, COL_FROM, "from");
    add_raw(b, flow, CSV_FILE_MATRIX, row, COL_TO, "to");
    add_raw(b, flow, CSV_FILE_MATRIX, row, COL_PROTO, "proto");
    add_port(b, flow, row);
    add_text(b, flow, CSV_FILE_MATRIX, row, COL_APP, "app");
    const struct csv_cell *encryption = row_cell(t, row, COL_ENCRYPTION);
    if (!cell_blank(encryption))
        add_raw(b, flow, CSV_FILE_MATRIX, row, COL_ENCRYPTION, "encryption");
    add_internet(b, flow, row);
    add_window(b, flow, row);
    add_text(b, flow, CSV_FILE_MATRIX, row, COL_WAIVER, "waiver");
    add_item(b, entry->flows, flow);
}

/* ---------------------------------------------------------------- driver */

/* Moves the diagnostics matrix_build made from `first` on to the file
 * their tagged line belongs to. */
static void untag_diagnostics(struct diag *diag, size_t first, const char *const *names)
{
    for (size_t i = first; i < diag->count; i++) {
        struct diag_entry *entry = &diag->entries[i];
        unsigned file = (unsigned)entry->line >> CSV_FILE_SHIFT;
        entry->line &= CSV_LINE_MASK;
        if (file == 0 || file >= CSV_FILE_COUNT || names[file] == NULL)
            continue;
        char *copy = strdup(names[file]);
        if (copy == NULL)
            continue; /* keeps the matrix's name: wrong file, right line */
        free(entry->file);
        entry->file = copy;
    }
}

static int file_rank(const struct diag_entry *entry, const char *const *names)
{
    for (int i = 0; i < CSV_FILE_COUNT; i++) {
        if (names[i] != NULL && entry->file != NULL && strcmp(entry->file, names[i]) == 0)
            return i;
    }
    return CSV_FILE_COUNT;
}

static bool entry_before(const struct diag_entry *a, const struct diag_entry *b,
                         const char *const *names)
{
    int fa = file_rank(a, names), fb = file_rank(b, names);
    if (fa != fb)
        return fa < fb;
    if (a->line != b->line)
        return a->line < b->line;
    return a->column < b->column;
}

/* Orders the diagnostics from `first` on by file (matrix, inventory,
 * site), then position; stable (insertion sort: at most DIAG_MAX). */
static void sort_diagnostics(struct diag *diag, size_t first, const char *const *names)
{
    for (size_t i = first + 1; i < diag->count; i++) {
        struct diag_entry moving = diag->entries[i];
        size_t j = i;
        while (j > first && entry_before(&moving, &diag->entries[j - 1], names)) {
            diag->entries[j] = diag->entries[j - 1];
            j--;
        }
        diag->entries[j] = moving;
    }
}

/* Builds the tree from three sound tables and hands it to matrix_build. */
static struct matrix *build_matrix(struct builder *b, const char *const *names)
{
    struct diag *diag = b->diag;
    const struct csv_table *matrix_table = b->tables[CSV_FILE_MATRIX];
    const struct csv_cell *origin = &matrix_table->rows[0].cells[0];
    cJSON *root = track(b, cJSON_CreateObject(), CSV_FILE_MATRIX, origin, NULL);
    add_member(b, root, "format", cJSON_CreateString(MATRIX_FORMAT));
    build_site(b, root);
    struct inventory inv = {NULL, 0};
    if (!collect_inventory(b, &inv))
        b->oom = true;
    else
        build_inventory(b, root, &inv);
    bool has_device = false;
    for (size_t i = 0; i < inv.count; i++)
        has_device = has_device || !inv.entries[i].is_host;
    if (!has_device && !b->oom) {
        /* Said in CSV words rather than as an empty "devices" array. */
        const struct csv_table *t = b->tables[CSV_FILE_INVENTORY];
        diag_error(diag, t->name, t->rows[0].cells[0].line, t->rows[0].cells[0].column,
                   "the inventory lists no device (rows whose \"kind\" is \"device\" or "
                   "blank): a matrix describes at least one device");
        free(inv.entries);
        cJSON_Delete(root);
        return NULL;
    }
    const char *reported[CSV_REMEMBERED_MISSING];
    size_t reported_count = 0;
    for (size_t r = 1; r < matrix_table->count && !b->oom; r++)
        build_flow(b, &inv, r, reported, &reported_count);
    free(inv.entries);
    struct matrix *m = NULL;
    if (b->oom) {
        diag_error(diag, names[CSV_FILE_MATRIX], 0, 0, "out of memory");
    } else {
        json_locations_sort(&b->locations);
        size_t first = diag->count;
        m = matrix_build(names[CSV_FILE_MATRIX], root, &b->locations, diag);
        untag_diagnostics(diag, first, names);
    }
    cJSON_Delete(root);
    return m;
}

/* Parses a CSV matrix and its companions held in memory; see matrix.h. */
struct matrix *matrix_parse_csv(const struct matrix_csv_input *matrix_csv,
                                const struct matrix_csv_input *inventory,
                                const struct matrix_csv_input *site, struct diag *diag)
{
    size_t errors = diag->errors, first = diag->count;
    const struct matrix_csv_input *inputs[CSV_FILE_COUNT] = {matrix_csv, inventory, site};
    static const struct column_spec *const specs[CSV_FILE_COUNT] = {
        matrix_columns, inventory_columns, site_columns};
    static const size_t spec_counts[CSV_FILE_COUNT] = {MATRIX_COLUMNS, INVENTORY_COLUMNS,
                                                       SITE_COLUMNS};
    const char *names[CSV_FILE_COUNT] = {NULL, NULL, NULL};
    struct csv_table tables[CSV_FILE_COUNT];
    struct builder b = {.diag = diag};
    bool sound = true;
    for (int f = 0; f < CSV_FILE_COUNT; f++) {
        memset(&tables[f], 0, sizeof(tables[f]));
        if (inputs[f] == NULL || inputs[f]->text == NULL)
            continue; /* only the site file is optional; the others are checked below */
        names[f] = inputs[f]->name != NULL ? inputs[f]->name : "<input>";
        if (!scan_table(names[f], inputs[f]->text, inputs[f]->len, &tables[f], diag) ||
            !map_header(&tables[f], specs[f], spec_counts[f], diag))
            sound = false;
        else
            b.tables[f] = &tables[f];
    }
    if (names[CSV_FILE_MATRIX] == NULL || names[CSV_FILE_INVENTORY] == NULL) {
        diag_error(diag, names[CSV_FILE_MATRIX], 0, 0,
                   "a CSV matrix needs its inventory (device,addresses,... rows)");
        sound = false;
    }
    struct matrix *m = NULL;
    if (sound)
        m = build_matrix(&b, names);
    free(b.locations.entries);
    for (int f = 0; f < CSV_FILE_COUNT; f++)
        table_free(&tables[f]);
    sort_diagnostics(diag, first, names);
    if (diag->errors != errors) {
        matrix_free(m);
        return NULL;
    }
    return m;
}

/* ---------------------------------------------------------------- files */

static bool ends_with(const char *text, const char *suffix)
{
    size_t len = strlen(text), n = strlen(suffix);
    return len >= n && strcasecmp(text + len - n, suffix) == 0;
}

/* NAME.csv -> NAME<suffix> (a path without ".csv" keeps its whole name). */
static char *companion_path(const char *path, const char *suffix)
{
    size_t base = strlen(path) - (ends_with(path, ".csv") ? 4 : 0);
    size_t len = base + strlen(suffix) + 1;
    char *out = malloc(len);
    if (out != NULL)
        snprintf(out, len, "%.*s%s", (int)base, path, suffix);
    return out;
}

/* The extra byte file_read_capped allows makes a larger file fail the size
 * check. `what` names the file in messages. */
static char *read_whole(const char *path, const char *what, size_t *len, struct diag *diag)
{
    return file_read_capped(path, CSV_MAX_BYTES, what, len, diag);
}

/* Loads a CSV matrix and its companion files; see matrix.h. */
struct matrix *matrix_load_csv(const char *path, const char *inventory_path, struct diag *diag)
{
    char *own_inventory = inventory_path == NULL ? companion_path(path, ".inventory.csv") : NULL;
    char *site_path = companion_path(path, ".site.csv");
    const char *inv_path = inventory_path != NULL ? inventory_path : own_inventory;
    struct matrix_csv_input inputs[CSV_FILE_COUNT] = {
        {path, NULL, 0}, {inv_path, NULL, 0}, {site_path, NULL, 0}};
    struct matrix *m = NULL;
    size_t errors = diag->errors;
    if (inv_path == NULL || site_path == NULL) {
        diag_error(diag, path, 0, 0, "out of memory");
        goto done;
    }
    char *text = read_whole(path, "the matrix", &inputs[0].len, diag);
    inputs[0].text = text;
    text = read_whole(inv_path, "the inventory (a CSV matrix needs one: --inventory FILE)",
                      &inputs[1].len, diag);
    inputs[1].text = text;
    struct stat st;
    if (stat(site_path, &st) == 0) {
        text = read_whole(site_path, "the site file", &inputs[2].len, diag);
        inputs[2].text = text;
    }
    if (diag->errors == errors)
        m = matrix_parse_csv(&inputs[0], &inputs[1], &inputs[2], diag);
done:
    for (int f = 0; f < CSV_FILE_COUNT; f++)
        free((char *)inputs[f].text);
    free(own_inventory);
    free(site_path);
    return m;
}

/* An RFC 8520 MUD file is imported onto the devices of a JSON inventory
 * (matrix_load_mud, docs/mud.md), which it cannot do without one. */
static struct matrix *load_mud(const char *path, const char *inventory_path, struct diag *diag)
{
    if (inventory_path == NULL) {
        diag_error(diag, path, 0, 0,
                   "a MUD file needs an inventory: --inventory FILE (a fluxaudit-matrix/1 JSON "
                   "matrix whose devices give their \"model\")");
        return NULL;
    }
    return matrix_load_mud(path, inventory_path, diag);
}

/* Loads a matrix by extension; see matrix.h. */
struct matrix *matrix_load(const char *path, const char *inventory_path, struct diag *diag)
{
    if (ends_with(path, ".mud.json"))
        return load_mud(path, inventory_path, diag);
    if (ends_with(path, ".csv"))
        return matrix_load_csv(path, inventory_path, diag);
    if (ends_with(path, ".json")) {
        if (inventory_path != NULL) {
            diag_error(diag, inventory_path, 0, 0,
                       "an inventory goes with a CSV matrix; %s is JSON (its devices carry "
                       "their addresses)",
                       path);
            return NULL;
        }
        return matrix_load_json(path, diag);
    }
    diag_error(diag, path, 0, 0,
               "unknown matrix format: expected a .json (fluxaudit-matrix/1) or .csv file");
    return NULL;
}

/* ---------------------------------------------------------------- texts */

/* The text of a peer: as written when loaded from a file, else rebuilt
 * from the model (a matrix built by other code, e.g. a draft). */
static const char *peer_text(const struct matrix *m, const struct matrix_peer *peer, char *buf,
                             size_t len)
{
    if (peer->text != NULL)
        return peer->text;
    switch (peer->kind) {
    case MATRIX_PEER_DEVICE:
        return "device";
    case MATRIX_PEER_INTERNET:
        return "internet";
    case MATRIX_PEER_ANY:
        return "any";
    case MATRIX_PEER_HOST:
        return peer->index < m->host_count ? m->hosts[peer->index].name : "any";
    case MATRIX_PEER_OTHER_DEVICE:
        return peer->index < m->device_count ? m->devices[peer->index].name : "any";
    case MATRIX_PEER_PREFIX:
        net_prefix_format(&peer->prefix, buf, len);
        return buf;
    case MATRIX_PEER_DNS:
        return peer->dns_name != NULL ? peer->dns_name : "any";
    }
    return "any";
}

/* The flow's `port` as matrix.c reads it ("443", "80,8000-8010", "any"),
 * or "" when it is best left out (icmp, or any protocol on any port). */
static void port_text(const struct matrix_flow *flow, char *buf, size_t len)
{
    buf[0] = '\0';
    if (flow->any_port) {
        if (flow->proto == MATRIX_PROTO_TCP || flow->proto == MATRIX_PROTO_UDP)
            snprintf(buf, len, "any");
        return;
    }
    size_t used = 0;
    for (size_t i = 0; i < flow->port_count && used < len; i++) {
        const struct port_range *r = &flow->ports[i];
        const char *comma = i > 0 ? "," : "";
        if (r->low == r->high)
            used += (size_t)snprintf(buf + used, len - used, "%s%u", comma, r->low);
        else
            used += (size_t)snprintf(buf + used, len - used, "%s%u-%u", comma, r->low, r->high);
    }
}

static bool has_text(const char *text)
{
    return text != NULL && text[0] != '\0';
}

/* Joins a host's networks then DNS names, or a device's addresses, with
 * `separator` through `emit`. */
typedef void (*emit_fn)(void *ctx, const char *text);

static void each_host_entry(const struct matrix_host *host, emit_fn emit, void *ctx)
{
    char buf[NET_ADDR_TEXT_MAX + 8];
    for (size_t i = 0; i < host->prefix_count; i++) {
        net_prefix_format(&host->prefixes[i], buf, sizeof(buf));
        emit(ctx, buf);
    }
    for (size_t i = 0; i < host->dns_name_count; i++)
        emit(ctx, host->dns_names[i]);
}

static void each_device_address(const struct matrix_device *device, emit_fn emit, void *ctx)
{
    if (device->address_count > 0) {
        for (size_t i = 0; i < device->address_count; i++)
            emit(ctx, device->address_texts[i]);
        return;
    }
    char buf[NET_ADDR_TEXT_MAX + 8];
    for (size_t i = 0; i < device->prefix_count; i++) {
        net_prefix_format(&device->prefixes[i], buf, sizeof(buf));
        emit(ctx, buf);
    }
    for (size_t i = 0; i < device->mac_count; i++) {
        mac_addr_format(&device->macs[i], buf, sizeof(buf));
        emit(ctx, buf);
    }
}

/* ---------------------------------------------------------------- JSON out */

static void json_string(FILE *out, const char *text)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7F)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

/* Starts member `key` of an object whose members are indented by
 * `indent` spaces; *first tells whether a comma is due. */
static void json_key(FILE *out, int indent, bool *first, const char *key)
{
    fprintf(out, "%s\n%*s", *first ? "" : ",", indent, "");
    *first = false;
    json_string(out, key);
    fputs(": ", out);
}

static void json_text_member(FILE *out, int indent, bool *first, const char *key, const char *value)
{
    if (!has_text(value))
        return;
    json_key(out, indent, first, key);
    json_string(out, value);
}

struct json_list {
    FILE *out;
    size_t count;
};

static void json_list_item(void *ctx, const char *text)
{
    struct json_list *list = ctx;
    fputs(list->count++ > 0 ? ", " : "", list->out);
    json_string(list->out, text);
}

static void json_flow(FILE *out, const struct matrix *m, const struct matrix_flow *flow)
{
    char buf[1024];
    bool first = true;
    fputs("{", out);
    json_text_member(out, 10, &first, "id", flow->id);
    json_text_member(out, 10, &first, "description", flow->description);
    json_text_member(out, 10, &first, "from", peer_text(m, &flow->from, buf, sizeof(buf)));
    json_text_member(out, 10, &first, "to", peer_text(m, &flow->to, buf, sizeof(buf)));
    json_text_member(out, 10, &first, "proto", matrix_proto_name(flow->proto));
    port_text(flow, buf, sizeof(buf));
    json_text_member(out, 10, &first, "port", buf);
    json_text_member(out, 10, &first, "app", flow->app);
    json_text_member(out, 10, &first, "encryption", matrix_encryption_name(flow->encryption));
    json_key(out, 10, &first, "internet");
    fputs(flow->internet ? "true" : "false", out);
    json_text_member(out, 10, &first, "window", flow->window);
    json_text_member(out, 10, &first, "waiver", flow->waiver);
    fprintf(out, "\n%8s}", "");
}

static void json_device(FILE *out, const struct matrix *m, const struct matrix_device *device)
{
    bool first = true;
    fputs("{", out);
    json_text_member(out, 6, &first, "name", device->name);
    json_text_member(out, 6, &first, "vendor", device->vendor);
    json_text_member(out, 6, &first, "model", device->model);
    json_text_member(out, 6, &first, "location", device->location);
    json_key(out, 6, &first, "addresses");
    struct json_list list = {out, 0};
    fputc('[', out);
    each_device_address(device, json_list_item, &list);
    fputc(']', out);
    json_key(out, 6, &first, "flows");
    fputc('[', out);
    for (size_t i = 0; i < device->flow_count; i++) {
        fprintf(out, "%s\n%8s", i > 0 ? "," : "", "");
        json_flow(out, m, &device->flows[i]);
    }
    if (device->flow_count > 0)
        fprintf(out, "\n%6s", "");
    fputs("]", out);
    fprintf(out, "\n%4s}", "");
}

/* Writes the matrix as pretty JSON; see matrix.h. */
bool matrix_write_json(const struct matrix *matrix, FILE *out, char *err, size_t err_len)
{
    bool first = true;
    char buf[NET_ADDR_TEXT_MAX + 8];
    fputs("{", out);
    json_text_member(out, 2, &first, "format", MATRIX_FORMAT);
    json_text_member(out, 2, &first, "site", matrix->site);
    json_text_member(out, 2, &first, "timezone", matrix->timezone);
    if (matrix->has_internal) {
        json_key(out, 2, &first, "internal");
        fputc('[', out);
        for (size_t i = 0; i < matrix->internal_count; i++) {
            net_prefix_format(&matrix->internal[i], buf, sizeof(buf));
            fputs(i > 0 ? ", " : "", out);
            json_string(out, buf);
        }
        fputc(']', out);
    }
    if (matrix->host_count > 0) {
        json_key(out, 2, &first, "hosts");
        bool first_host = true;
        fputc('{', out);
        for (size_t i = 0; i < matrix->host_count; i++) {
            json_key(out, 4, &first_host, matrix->hosts[i].name);
            struct json_list list = {out, 0};
            fputc('[', out);
            each_host_entry(&matrix->hosts[i], json_list_item, &list);
            fputc(']', out);
        }
        fprintf(out, "\n%2s}", "");
    }
    json_key(out, 2, &first, "devices");
    fputc('[', out);
    for (size_t i = 0; i < matrix->device_count; i++) {
        fprintf(out, "%s\n%4s", i > 0 ? "," : "", "");
        json_device(out, matrix, &matrix->devices[i]);
    }
    fputs(matrix->device_count > 0 ? "\n  ]\n}\n" : "]\n}\n", out);
    if (fflush(out) != 0 || ferror(out)) {
        snprintf(err, err_len, "write error: %s", strerror(errno));
        return false;
    }
    return true;
}

/* ---------------------------------------------------------------- CSV out */

/* Writes one cell, quoted (RFC 4180) when it holds a separator, a quote, a
 * line break, or blanks at either end (libcsv trims those when unquoted),
 * then ',' or the CRLF that ends the row. */
static void csv_cell_out(FILE *out, const char *text, bool last)
{
    const char *value = text != NULL ? text : "";
    size_t len = strlen(value);
    bool quote =
        strpbrk(value, ",;\"\r\n") != NULL ||
        (len > 0 && (strchr(" \t", value[0]) != NULL || strchr(" \t", value[len - 1]) != NULL));
    if (quote) {
        fputc('"', out);
        for (const char *p = value; *p != '\0'; p++) {
            if (*p == '"')
                fputc('"', out);
            fputc(*p, out);
        }
        fputc('"', out);
    } else {
        fputs(value, out);
    }
    fputs(last ? "\r\n" : ",", out);
}

/* Collects a space-separated list for a cell. */
struct text_list {
    char *text;
    size_t len;
    bool oom;
};

static void text_list_item(void *ctx, const char *item)
{
    struct text_list *list = ctx;
    size_t n = strlen(item);
    char *grown = realloc(list->text, list->len + n + 2);
    if (grown == NULL) {
        list->oom = true;
        return;
    }
    list->text = grown;
    if (list->len > 0)
        list->text[list->len++] = ' ';
    memcpy(list->text + list->len, item, n + 1);
    list->len += n;
}

static void csv_flows(FILE *out, const struct matrix *m)
{
    for (size_t c = 0; c < MATRIX_COLUMNS; c++)
        csv_cell_out(out, matrix_columns[c].key, c + 1 == MATRIX_COLUMNS);
    for (size_t d = 0; d < m->device_count; d++) {
        const struct matrix_device *device = &m->devices[d];
        for (size_t i = 0; i < device->flow_count; i++) {
            const struct matrix_flow *f = &device->flows[i];
            char from[NET_ADDR_TEXT_MAX + 8], to[NET_ADDR_TEXT_MAX + 8], port[1024];
            port_text(f, port, sizeof(port));
            const char *cells[MATRIX_COLUMNS] = {
                [COL_DEVICE] = device->name,
                [COL_ID] = f->id,
                [COL_DESCRIPTION] = f->description,
                [COL_FROM] = peer_text(m, &f->from, from, sizeof(from)),
                [COL_TO] = peer_text(m, &f->to, to, sizeof(to)),
                [COL_PROTO] = matrix_proto_name(f->proto),
                [COL_PORT] = port,
                [COL_APP] = f->app,
                [COL_ENCRYPTION] = matrix_encryption_name(f->encryption),
                [COL_INTERNET] = f->internet ? "true" : "false",
                [COL_WINDOW] = f->window,
                [COL_WAIVER] = f->waiver,
            };
            for (size_t c = 0; c < MATRIX_COLUMNS; c++)
                csv_cell_out(out, cells[c], c + 1 == MATRIX_COLUMNS);
        }
    }
}

static bool csv_inventory(FILE *out, const struct matrix *m)
{
    static const int order[] = {INV_DEVICE, INV_KIND,  INV_ADDRESSES,
                                INV_VENDOR, INV_MODEL, INV_LOCATION};
    for (size_t c = 0; c < COUNT_OF(order); c++)
        csv_cell_out(out, inventory_columns[order[c]].key, c + 1 == COUNT_OF(order));
    bool ok = true;
    for (size_t i = 0; i < m->host_count; i++) {
        struct text_list list = {NULL, 0, false};
        each_host_entry(&m->hosts[i], text_list_item, &list);
        const char *cells[] = {m->hosts[i].name, "host", list.text, NULL, NULL, NULL};
        for (size_t c = 0; c < COUNT_OF(cells); c++)
            csv_cell_out(out, cells[c], c + 1 == COUNT_OF(cells));
        ok = ok && !list.oom;
        free(list.text);
    }
    for (size_t i = 0; i < m->device_count; i++) {
        const struct matrix_device *device = &m->devices[i];
        struct text_list list = {NULL, 0, false};
        each_device_address(device, text_list_item, &list);
        const char *cells[] = {device->name,   "device",      list.text,
                               device->vendor, device->model, device->location};
        for (size_t c = 0; c < COUNT_OF(cells); c++)
            csv_cell_out(out, cells[c], c + 1 == COUNT_OF(cells));
        ok = ok && !list.oom;
        free(list.text);
    }
    return ok;
}

static bool csv_site(FILE *out, const struct matrix *m)
{
    csv_cell_out(out, "key", false);
    csv_cell_out(out, "value", true);
    if (has_text(m->site)) {
        csv_cell_out(out, "site", false);
        csv_cell_out(out, m->site, true);
    }
    if (has_text(m->timezone)) {
        csv_cell_out(out, "timezone", false);
        csv_cell_out(out, m->timezone, true);
    }
    if (!m->has_internal)
        return true;
    struct text_list list = {NULL, 0, false};
    char buf[NET_ADDR_TEXT_MAX + 8];
    for (size_t i = 0; i < m->internal_count; i++) {
        net_prefix_format(&m->internal[i], buf, sizeof(buf));
        text_list_item(&list, buf);
    }
    csv_cell_out(out, "internal", false);
    csv_cell_out(out, list.text, true);
    free(list.text);
    return !list.oom;
}

static bool stream_ok(FILE *out)
{
    return fflush(out) == 0 && !ferror(out);
}

/* Writes the three CSV files to open streams; see matrix.h. */
bool matrix_write_csv_streams(const struct matrix *matrix, FILE *flows, FILE *inventory, FILE *site,
                              char *err, size_t err_len)
{
    csv_flows(flows, matrix);
    bool ok = csv_inventory(inventory, matrix);
    ok = csv_site(site, matrix) && ok;
    if (!ok) {
        snprintf(err, err_len, "out of memory");
        return false;
    }
    if (!stream_ok(flows) || !stream_ok(inventory) || !stream_ok(site)) {
        snprintf(err, err_len, "write error: %s", strerror(errno));
        return false;
    }
    return true;
}

/* Writes NAME.csv and its companions through temporary files; see
 * matrix.h. */
bool matrix_write_csv(const struct matrix *matrix, const char *path, char *err, size_t err_len)
{
    char *finals[CSV_FILE_COUNT] = {strdup(path), companion_path(path, ".inventory.csv"),
                                    companion_path(path, ".site.csv")};
    char *temps[CSV_FILE_COUNT] = {NULL, NULL, NULL};
    FILE *files[CSV_FILE_COUNT] = {NULL, NULL, NULL};
    bool ok = true;
    snprintf(err, err_len, "out of memory");
    for (int f = 0; f < CSV_FILE_COUNT && ok; f++) {
        ok = finals[f] != NULL && (temps[f] = companion_path(finals[f], ".csv.tmp")) != NULL;
        if (ok && (files[f] = fopen(temps[f], "wb")) == NULL) {
            snprintf(err, err_len, "cannot create %s: %s", temps[f], strerror(errno));
            ok = false;
        }
    }
    if (ok)
        ok = matrix_write_csv_streams(matrix, files[0], files[1], files[2], err, err_len);
    for (int f = 0; f < CSV_FILE_COUNT; f++) {
        if (files[f] != NULL && fclose(files[f]) != 0 && ok) {
            snprintf(err, err_len, "cannot write %s: %s", temps[f], strerror(errno));
            ok = false;
        }
    }
    for (int f = 0; f < CSV_FILE_COUNT && ok; f++) {
        if (rename(temps[f], finals[f]) != 0) {
            snprintf(err, err_len, "cannot rename %s to %s: %s", temps[f], finals[f],
                     strerror(errno));
            ok = false;
        }
    }
    for (int f = 0; f < CSV_FILE_COUNT; f++) {
        if (!ok && temps[f] != NULL)
            remove(temps[f]);
        free(temps[f]);
        free(finals[f]);
    }
    return ok;
}
