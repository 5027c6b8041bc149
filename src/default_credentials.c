/* default_credentials: the table of well-known default logins and SNMP
 * communities (rules/default-credentials, format in docs/credentials.md).
 *
 * The whole file is validated before a table is returned: every error is
 * appended to the diag list at its file:line:column and a file with any
 * error is refused as a whole. Diagnostics never quote a field: the table
 * holds public defaults, but the same messages must stay safe if someone
 * pastes a real password into the file. */
#include "fluxaudit/default_credentials.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/reader.h"

#define DEFAULT_CREDENTIALS_FILE_MAX ((size_t)1024 * 1024) /* the table is a few KiB */
#define DEFAULT_CREDENTIALS_ENTRIES_MAX 20000
#define DEFAULT_CREDENTIALS_FIELD_MAX 128 /* bytes of a decoded field */
#define LINE_FIELDS_MAX 4                 /* keyword + 2 values, one more to report */

/* One decoded field of the table: a user, password or community. */
struct table_field {
    uint8_t len;
    char text[DEFAULT_CREDENTIALS_FIELD_MAX];
};

struct default_login {
    struct table_field user;
    struct table_field password;
};

struct default_credentials {
    struct default_login *logins;
    size_t login_count;
    size_t login_capacity;
    struct table_field *communities;
    size_t community_count;
    size_t community_capacity;
};

/* One raw field of a line: where it starts and its bytes (escapes undone
 * later). */
struct raw_field {
    const uint8_t *bytes;
    size_t len;
    int column;
};

struct table_parser {
    const char *name;
    struct diag *diag;
    struct default_credentials *table;
    int line;
};

/* Returns the length of the valid UTF-8 sequence starting at the reader,
 * or 0 if the bytes there are not valid UTF-8 (overlong forms, surrogates
 * and code points past U+10FFFF are refused). Consumes nothing. */
static size_t utf8_sequence_length(const struct reader *r)
{
    const uint8_t b0 = reader_peek(r, 0);
    size_t need;
    uint8_t low = 0x80, high = 0xbf; /* allowed range of the second byte */
    if (b0 < 0x80)
        return 1;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
        need = 2;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
        need = 3;
        if (b0 == 0xe0)
            low = 0xa0;
        if (b0 == 0xed)
            high = 0x9f;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
        need = 4;
        if (b0 == 0xf0)
            low = 0x90;
        if (b0 == 0xf4)
            high = 0x8f;
    } else {
        return 0;
    }
    if (!reader_has(r, need))
        return 0;
    const uint8_t b1 = reader_peek(r, 1);
    if (b1 < low || b1 > high)
        return 0;
    for (size_t i = 2; i < need; i++) {
        if ((reader_peek(r, i) & 0xc0) != 0x80)
            return 0;
    }
    return need;
}

/* Checks every byte of one line (without its newline); appends an error
 * for each NUL, control character or invalid UTF-8 sequence. Returns true
 * if the line is clean. */
static bool check_line_bytes(struct table_parser *p, const uint8_t *line, size_t len)
{
    struct reader r = reader_make(line, len);
    bool clean = true;
    int column = 1;
    while (reader_left(&r) > 0) {
        const uint8_t byte = reader_peek(&r, 0);
        size_t step = 1;
        if (byte == 0) {
            diag_error(p->diag, p->name, p->line, column, "NUL byte");
            clean = false;
        } else if ((byte < 0x20 && byte != '\t') || byte == 0x7f) {
            diag_error(p->diag, p->name, p->line, column,
                       "control character 0x%02x (only tab separates fields)", byte);
            clean = false;
        } else if (byte >= 0x80) {
            step = utf8_sequence_length(&r);
            if (step == 0) {
                /* one error per bad sequence: its continuation bytes go with it */
                diag_error(p->diag, p->name, p->line, column, "invalid UTF-8");
                clean = false;
                step = 1;
                while (step < reader_left(&r) && (reader_peek(&r, step) & 0xc0) == 0x80)
                    step++;
            }
        }
        reader_skip(&r, step);
        column += (int)step;
    }
    return clean;
}

/* Splits a clean line into fields separated by spaces and tabs, up to a
 * field starting with '#' (the comment). Returns the number of fields;
 * fields past `max` are counted but not stored. */
static size_t split_fields(const uint8_t *line, size_t len, struct raw_field *fields, size_t max)
{
    struct reader r = reader_make(line, len);
    size_t count = 0;
    while (reader_left(&r) > 0) {
        const uint8_t byte = reader_peek(&r, 0);
        if (byte == ' ' || byte == '\t') {
            reader_skip(&r, 1);
            continue;
        }
        if (byte == '#')
            break;
        const int column = (int)(len - reader_left(&r)) + 1;
        size_t n = 0;
        while (n < reader_left(&r) && reader_peek(&r, n) != ' ' && reader_peek(&r, n) != '\t')
            n++;
        const uint8_t *bytes = reader_bytes(&r, n);
        if (count < max)
            fields[count] = (struct raw_field){bytes, n, column};
        count++;
    }
    return count;
}

/* Decodes one field: "-" alone is the empty string; "\s" space, "\t" tab,
 * "\\" backslash, "\#" hash, "\-" hyphen. Appends an error and returns
 * false on a bad escape or a field longer than DEFAULT_CREDENTIALS_FIELD_MAX. */
static bool decode_field(struct table_parser *p, const struct raw_field *raw,
                         struct table_field *out)
{
    memset(out, 0, sizeof(*out));
    if (raw->len == 1 && raw->bytes[0] == '-')
        return true;
    struct reader r = reader_make(raw->bytes, raw->len);
    size_t len = 0;
    bool ok = true;
    bool too_long = false;
    while (reader_left(&r) > 0) {
        const int column = raw->column + (int)(raw->len - reader_left(&r));
        uint8_t byte = reader_u8(&r);
        if (byte == '\\') {
            const uint8_t next = reader_left(&r) > 0 ? reader_u8(&r) : 0;
            switch (next) {
            case 's': byte = ' '; break;
            case 't': byte = '\t'; break;
            case '\\': byte = '\\'; break;
            case '#': byte = '#'; break;
            case '-': byte = '-'; break;
            default:
                diag_error(p->diag, p->name, p->line, column,
                           "bad escape (use \\s, \\t, \\\\, \\# or \\-)");
                ok = false;
                continue;
            }
        }
        if (len >= DEFAULT_CREDENTIALS_FIELD_MAX) {
            too_long = true;
            continue;
        }
        out->text[len++] = (char)byte;
    }
    if (too_long) {
        diag_error(p->diag, p->name, p->line, raw->column, "field longer than %d bytes",
                   DEFAULT_CREDENTIALS_FIELD_MAX);
        ok = false;
    }
    out->len = (uint8_t)len;
    return ok;
}

/* Grows an array of `size`-byte elements to hold one more; false when the
 * table is full or memory ran out. */
static bool grow(void **items, size_t count, size_t *capacity, size_t size)
{
    if (count < *capacity)
        return true;
    if (count >= DEFAULT_CREDENTIALS_ENTRIES_MAX)
        return false;
    size_t next = *capacity ? *capacity * 2 : 32;
    if (next > DEFAULT_CREDENTIALS_ENTRIES_MAX)
        next = DEFAULT_CREDENTIALS_ENTRIES_MAX;
    void *bigger = realloc(*items, next * size);
    if (bigger == NULL)
        return false;
    *items = bigger;
    *capacity = next;
    return true;
}

static void add_login(struct table_parser *p, const struct table_field *user,
                      const struct table_field *password, int column)
{
    struct default_credentials *t = p->table;
    if (!grow((void **)&t->logins, t->login_count, &t->login_capacity, sizeof(*t->logins))) {
        diag_error(p->diag, p->name, p->line, column, "too many entries (at most %d)",
                   DEFAULT_CREDENTIALS_ENTRIES_MAX);
        return;
    }
    t->logins[t->login_count++] = (struct default_login){*user, *password};
}

static void add_community(struct table_parser *p, const struct table_field *community,
                          int column)
{
    struct default_credentials *t = p->table;
    if (!grow((void **)&t->communities, t->community_count, &t->community_capacity,
              sizeof(*t->communities))) {
        diag_error(p->diag, p->name, p->line, column, "too many entries (at most %d)",
                   DEFAULT_CREDENTIALS_ENTRIES_MAX);
        return;
    }
    t->communities[t->community_count++] = *community;
}

/* Reports a wrong number of values after `keyword`: at the first extra
 * field when there are too many, at the keyword when some are missing. */
static void error_field_count(struct table_parser *p, const struct raw_field *fields,
                              size_t count, size_t expected, const char *usage)
{
    const int column = count > expected ? fields[expected].column : fields[0].column;
    diag_error(p->diag, p->name, p->line, column, "expected \"%s\", got %zu field%s after \"%.*s\"",
               usage, count - 1, count - 1 == 1 ? "" : "s", (int)fields[0].len,
               (const char *)fields[0].bytes);
}

/* Parses one line (without its newline) into the table. */
static void parse_line(struct table_parser *p, const uint8_t *line, size_t len)
{
    if (!check_line_bytes(p, line, len))
        return;
    struct raw_field fields[LINE_FIELDS_MAX];
    const size_t count = split_fields(line, len, fields, LINE_FIELDS_MAX);
    if (count == 0)
        return;
    const struct raw_field *keyword = &fields[0];
    size_t expected;
    const char *usage;
    if (keyword->len == 5 && memcmp(keyword->bytes, "login", 5) == 0) {
        expected = 3;
        usage = "login USER PASSWORD";
    } else if (keyword->len == 9 && memcmp(keyword->bytes, "community", 9) == 0) {
        expected = 2;
        usage = "community STRING";
    } else {
        /* The word itself is not quoted: it may be a secret pasted by
         * mistake. */
        diag_error(p->diag, p->name, p->line, keyword->column,
                   "unknown keyword (expected \"login\" or \"community\")");
        return;
    }
    if (count != expected) {
        error_field_count(p, fields, count, expected, usage);
        return;
    }
    struct table_field values[2];
    bool ok = true;
    for (size_t i = 1; i < expected; i++)
        ok = decode_field(p, &fields[i], &values[i - 1]) && ok;
    if (!ok)
        return;
    if (expected == 3)
        add_login(p, &values[0], &values[1], keyword->column);
    else
        add_community(p, &values[0], keyword->column);
}

/* Parses every line of `text`; a final line without newline counts. A
 * carriage return right before the newline is dropped (files edited on
 * Windows); a UTF-8 byte order mark at the start is skipped. */
static void parse_text(struct table_parser *p, const uint8_t *text, size_t len)
{
    struct reader r = reader_make(text, len);
    if (reader_has(&r, 3) && reader_peek(&r, 0) == 0xef && reader_peek(&r, 1) == 0xbb &&
        reader_peek(&r, 2) == 0xbf)
        reader_skip(&r, 3);
    while (reader_left(&r) > 0) {
        p->line++;
        size_t n = 0;
        while (n < reader_left(&r) && reader_peek(&r, n) != '\n')
            n++;
        const uint8_t *line = reader_bytes(&r, n);
        if (reader_left(&r) > 0)
            reader_skip(&r, 1); /* the newline */
        size_t line_len = n;
        if (line_len > 0 && line[line_len - 1] == '\r')
            line_len--;
        parse_line(p, line, line_len);
    }
}

/* Parses `len` bytes of `text`; returns the table, or NULL with every
 * error in `diag` (nothing is returned half loaded). */
struct default_credentials *default_credentials_parse(const char *name, const char *text,
                                                      size_t len, struct diag *diag)
{
    const char *file = name != NULL ? name : "<input>";
    if (text == NULL && len != 0) {
        diag_error(diag, file, 0, 0, "no data");
        return NULL;
    }
    struct default_credentials *table = calloc(1, sizeof(*table));
    if (table == NULL) {
        diag_error(diag, file, 0, 0, "out of memory");
        return NULL;
    }
    const size_t errors_before = diag->errors;
    struct table_parser parser = {file, diag, table, 0};
    parse_text(&parser, (const uint8_t *)text, len);
    if (diag->errors != errors_before) {
        default_credentials_free(table);
        return NULL;
    }
    return table;
}

/* Reads `path` whole (at most DEFAULT_CREDENTIALS_FILE_MAX bytes) and
 * parses it. Returns NULL with the reason in `diag`. */
struct default_credentials *default_credentials_load(const char *path, struct diag *diag)
{
    const char *file = path != NULL ? path : "<none>";
    FILE *stream = path != NULL ? fopen(path, "rb") : NULL;
    if (stream == NULL) {
        diag_error(diag, file, 0, 0, "cannot open: %s", strerror(path ? errno : EINVAL));
        return NULL;
    }
    char *text = malloc(DEFAULT_CREDENTIALS_FILE_MAX + 1);
    if (text == NULL) {
        fclose(stream);
        diag_error(diag, file, 0, 0, "out of memory");
        return NULL;
    }
    const size_t len = fread(text, 1, DEFAULT_CREDENTIALS_FILE_MAX + 1, stream);
    const bool read_error = ferror(stream) != 0;
    fclose(stream);
    struct default_credentials *table = NULL;
    if (read_error)
        diag_error(diag, file, 0, 0, "read error");
    else if (len > DEFAULT_CREDENTIALS_FILE_MAX)
        diag_error(diag, file, 0, 0, "file larger than %zu bytes", DEFAULT_CREDENTIALS_FILE_MAX);
    else
        table = default_credentials_parse(file, text, len, diag);
    free(text);
    return table;
}

/* Frees the table (NULL is fine). */
void default_credentials_free(struct default_credentials *table)
{
    if (table == NULL)
        return;
    free(table->logins);
    free(table->communities);
    free(table);
}

/* ASCII case-insensitive equality: user names are matched without regard
 * to case ("Admin" is "admin"); bytes past ASCII compare exactly. */
static bool equal_ignoring_case(const char *a, const char *b, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

static bool field_equals(const struct table_field *field, const char *text, size_t len)
{
    return field->len == len && (len == 0 || memcmp(field->text, text, len) == 0);
}

/* True if (user, password) is a listed default: user case-insensitive,
 * password exact. A NULL or empty `user` (a password-only prompt) matches
 * every entry with that password, since such devices ship one of these. */
bool default_credentials_match_login(const struct default_credentials *table, const char *user,
                                     size_t user_len, const char *password, size_t password_len)
{
    if (table == NULL || (password == NULL && password_len != 0))
        return false;
    if (user == NULL)
        user_len = 0;
    for (size_t i = 0; i < table->login_count; i++) {
        const struct default_login *login = &table->logins[i];
        if (!field_equals(&login->password, password, password_len))
            continue;
        if (user_len == 0)
            return true;
        if (login->user.len == user_len && equal_ignoring_case(login->user.text, user, user_len))
            return true;
    }
    return false;
}

/* True if `community` is listed (exact, case-sensitive: agents compare
 * communities byte for byte). */
bool default_credentials_match_community(const struct default_credentials *table,
                                         const char *community, size_t len)
{
    if (table == NULL || (community == NULL && len != 0))
        return false;
    for (size_t i = 0; i < table->community_count; i++) {
        if (field_equals(&table->communities[i], community, len))
            return true;
    }
    return false;
}

/* $FLUXAUDIT_DEFAULT_CREDENTIALS, else the source tree's file when it is
 * there (running from a build directory), else the installed one. */
const char *default_credentials_default_path(void)
{
    const char *env = getenv("FLUXAUDIT_DEFAULT_CREDENTIALS");
    if (env != NULL && env[0] != '\0')
        return env;
#ifdef FLUXAUDIT_SOURCE_ROOT
    if (access(FLUXAUDIT_SOURCE_ROOT "/rules/default-credentials", R_OK) == 0)
        return FLUXAUDIT_SOURCE_ROOT "/rules/default-credentials";
#endif
#ifdef FLUXAUDIT_DATADIR
    return FLUXAUDIT_DATADIR "/default-credentials";
#else
    return "/usr/local/share/fluxaudit/default-credentials";
#endif
}
