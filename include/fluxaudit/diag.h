/* diag: a list of "file:line:column: message" diagnostics.
 *
 * Loaders append every error they find (not only the first) and return a
 * failure status; main.c prints them. Bounded: past DIAG_MAX entries only a
 * counter grows, so hostile input cannot exhaust memory through errors. */
#ifndef FLUXAUDIT_DIAG_H
#define FLUXAUDIT_DIAG_H

#include <stddef.h>

#define DIAG_MAX 200

struct diag_entry {
    char *file;
    int line;   /* 1-based; 0 when the error is about the whole file */
    int column; /* 1-based, in bytes; 0 when unknown */
    int is_warning;
    char *message;
};

struct diag {
    struct diag_entry entries[DIAG_MAX];
    size_t count;   /* entries stored */
    size_t dropped; /* entries past DIAG_MAX */
    size_t errors;  /* errors (not warnings), stored or dropped */
};

void diag_init(struct diag *d);
void diag_free(struct diag *d);

/* Appends an error at file:line:column, printf-style. */
void diag_error(struct diag *d, const char *file, int line, int column, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void diag_warning(struct diag *d, const char *file, int line, int column, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Formats entry i as "file:line:column: error: message" into buf. */
void diag_format(const struct diag *d, size_t i, char *buf, size_t len);

#endif
