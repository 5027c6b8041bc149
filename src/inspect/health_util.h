/* health_util: small helpers shared by the DICOM, HL7 and FHIR parsers of
 * inspect_health. Internal to inspect/. */
#ifndef FLUXAUDIT_INSPECT_HEALTH_UTIL_H
#define FLUXAUDIT_INSPECT_HEALTH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/reader.h"

/* True for printable ASCII (space to tilde): the only bytes a fact name may
 * hold, so reports never carry control characters from the wire. */
static inline bool health_is_printable(uint8_t c)
{
    return c >= 0x20 && c <= 0x7e;
}

static inline bool health_is_alnum(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Adds `name` to a list of `*count` names of `width` bytes each (at most
 * `max`), unless it is already there. Returns false if the list was full
 * and `name` not in it (the caller counts the drop). */
static inline bool health_list_add(char *list, size_t width, size_t max, uint8_t *count,
                                   const char *name)
{
    for (size_t i = 0; i < *count; i++) {
        if (strncmp(list + i * width, name, width) == 0)
            return true;
    }
    if (*count >= max)
        return false;
    char *slot = list + (size_t)*count * width;
    size_t len = strnlen(name, width - 1);
    memcpy(slot, name, len);
    slot[len] = '\0';
    (*count)++;
    return true;
}

/* Appends bytes from `r` to `buffer` (holding `*have` of `want` bytes):
 * as many as are left in `r` and still missing. Returns true once
 * `*have == want`. `buffer` must hold `want` bytes. */
static inline bool health_collect(struct reader *r, uint8_t *buffer, uint32_t *have, uint32_t want)
{
    size_t missing = want - *have;
    size_t take = reader_left(r) < missing ? reader_left(r) : missing;
    reader_copy(r, buffer + *have, take);
    *have += (uint32_t)take;
    return *have == want;
}

/* Returns the bytes of `r` up to (not including) the first `stop`, or all
 * that is left; they are consumed, `stop` is not. */
static inline struct reader health_take_until(struct reader *r, uint8_t stop)
{
    size_t len = 0;
    while (reader_has(r, len + 1) && reader_peek(r, len) != stop)
        len++;
    return reader_sub(r, len);
}

static inline uint8_t health_lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c - 'A' + 'a') : c;
}

/* True if the bytes of `token` equal `literal` (lower case), ignoring case. */
static inline bool health_equals_nocase(struct reader token, const char *literal)
{
    size_t len = strlen(literal);
    if (reader_left(&token) != len)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (health_lower(reader_u8(&token)) != (uint8_t)literal[i])
            return false;
    }
    return true;
}

/* Drops spaces and tabs at both ends of `token`. */
static inline struct reader health_trim(struct reader token)
{
    while (reader_left(&token) > 0 &&
           (reader_peek(&token, 0) == ' ' || reader_peek(&token, 0) == '\t'))
        reader_skip(&token, 1);
    size_t len = reader_left(&token);
    while (len > 0 && (reader_peek(&token, len - 1) == ' ' || reader_peek(&token, len - 1) == '\t'))
        len--;
    return reader_sub(&token, len);
}

#endif
