/* file: reading an input file whole, with a size cap, for the loaders. */
#ifndef FLUXAUDIT_UTIL_FILE_H
#define FLUXAUDIT_UTIL_FILE_H

#include <stddef.h>

#include "fluxaudit/diag.h"

/* Reads at most `max` + 1 bytes of `path` into a new NUL-terminated buffer
 * (the extra byte lets the caller refuse a file larger than `max`); *len
 * gets the bytes read. `what`, when not NULL, names the file in messages
 * ("cannot open inventory: ..."). Returns NULL with one diagnostic when the
 * file cannot be opened or read, or is a directory. */
char *file_read_capped(const char *path, size_t max, const char *what, size_t *len,
                       struct diag *diag);

#endif
