/* diag: a bounded list of "file:line:column: message" diagnostics.
 *
 * Entries own copies of the file name and the message, so callers may pass
 * temporary buffers. Past DIAG_MAX entries only counters grow: hostile input
 * that produces millions of errors costs no memory. */
#include "fluxaudit/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest message kept; a longer one is cut (diagnostics are one line). */
#define DIAG_MESSAGE_MAX 1024

/* Sets `d` to an empty list. */
void diag_init(struct diag *d)
{
    memset(d, 0, sizeof(*d));
}

/* Frees every entry and leaves `d` empty and reusable. */
void diag_free(struct diag *d)
{
    for (size_t i = 0; i < d->count; i++) {
        free(d->entries[i].file);
        free(d->entries[i].message);
    }
    diag_init(d);
}

static char *diag_strdup(const char *text)
{
    size_t len = strlen(text);
    char *copy = malloc(len + 1);
    if (copy != NULL)
        memcpy(copy, text, len + 1);
    return copy;
}

/* Appends one entry; the counters always move, the entry only when there
 * is room (an allocation failure leaves a NULL text, printed as such). */
static void diag_append(struct diag *d, const char *file, int line, int column, int is_warning,
                        const char *fmt, va_list args)
{
    if (!is_warning)
        d->errors++;
    if (d->count >= DIAG_MAX) {
        d->dropped++;
        return;
    }
    char message[DIAG_MESSAGE_MAX];
    vsnprintf(message, sizeof(message), fmt, args);
    struct diag_entry *entry = &d->entries[d->count++];
    entry->file = diag_strdup(file != NULL ? file : "<input>");
    entry->line = line > 0 ? line : 0;
    entry->column = (line > 0 && column > 0) ? column : 0;
    entry->is_warning = is_warning;
    entry->message = diag_strdup(message);
}

/* Appends an error at file:line:column (line 0: about the whole file). */
void diag_error(struct diag *d, const char *file, int line, int column, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    diag_append(d, file, line, column, 0, fmt, args);
    va_end(args);
}

/* Appends a warning; warnings do not count in `errors`. */
void diag_warning(struct diag *d, const char *file, int line, int column, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    diag_append(d, file, line, column, 1, fmt, args);
    va_end(args);
}

/* Formats entry i as "file:line:column: error: message", dropping the
 * parts that are unknown ("file: error: ..." when line is 0,
 * "file:line: error: ..." when only the column is unknown). An index past
 * the stored entries gives an empty string. */
void diag_format(const struct diag *d, size_t i, char *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return;
    buf[0] = '\0';
    if (i >= d->count)
        return;
    const struct diag_entry *entry = &d->entries[i];
    const char *file = entry->file != NULL ? entry->file : "(out of memory)";
    const char *message = entry->message != NULL ? entry->message : "(out of memory)";
    const char *kind = entry->is_warning ? "warning" : "error";
    if (entry->line <= 0)
        snprintf(buf, len, "%s: %s: %s", file, kind, message);
    else if (entry->column <= 0)
        snprintf(buf, len, "%s:%d: %s: %s", file, entry->line, kind, message);
    else
        snprintf(buf, len, "%s:%d:%d: %s: %s", file, entry->line, entry->column, kind, message);
}
