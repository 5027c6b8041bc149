/* util/file: whole-file reads with a cap. */
#include "util/file.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* "cannot open: ..." or "cannot open WHAT: ..." */
static void file_error(struct diag *diag, const char *path, const char *verb, const char *what,
                       const char *why)
{
    if (what != NULL)
        diag_error(diag, path, 0, 0, "cannot %s %s: %s", verb, what, why);
    else
        diag_error(diag, path, 0, 0, "cannot %s: %s", verb, why);
}

char *file_read_capped(const char *path, size_t max, const char *what, size_t *len,
                       struct diag *diag)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        file_error(diag, path, "open", what, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(file), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(file);
        file_error(diag, path, "read", what, "is a directory");
        return NULL;
    }
    size_t cap = max + 1, size = 0, capacity = 65536 < cap ? 65536 : cap;
    char *buffer = malloc(capacity + 1);
    while (buffer != NULL) {
        size_t got = fread(buffer + size, 1, capacity - size, file);
        size += got;
        if (got == 0 || size == cap)
            break;
        if (size == capacity) {
            capacity = capacity * 2 < cap ? capacity * 2 : cap;
            char *grown = realloc(buffer, capacity + 1);
            if (grown == NULL)
                free(buffer);
            buffer = grown;
        }
    }
    bool failed = ferror(file);
    fclose(file);
    if (buffer == NULL || failed) {
        free(buffer);
        file_error(diag, path, "read", what, buffer == NULL ? "out of memory" : "read error");
        return NULL;
    }
    buffer[size] = '\0';
    *len = size;
    return buffer;
}
