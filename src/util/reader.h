/* reader: the one bounded cursor over untrusted bytes.
 *
 * Every read checks the remaining length first; a failed read sets the
 * sticky `failed` flag, returns zero and consumes nothing, so a parser reads
 * a whole header and checks `failed` once. No parser touches a raw pointer
 * past the cursor. Header-only: these are the hottest lines of the packet
 * path. */
#ifndef FLUXAUDIT_UTIL_READER_H
#define FLUXAUDIT_UTIL_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct reader {
    const uint8_t *pos;
    const uint8_t *end;
    bool failed;
};

static inline struct reader reader_make(const uint8_t *data, size_t len)
{
    /* No arithmetic on NULL: (NULL, 0) is an empty reader, (NULL, n) a failed one. */
    struct reader r = {data, data, data == NULL && len != 0};
    if (data != NULL)
        r.end = data + len;
    return r;
}

/* Bytes left to read; 0 after a failure. */
static inline size_t reader_left(const struct reader *r)
{
    return r->failed ? 0 : (size_t)(r->end - r->pos);
}

/* True if at least n bytes are left (and no read failed). An empty reader
 * made over NULL has none: the explicit NULL test lets a caller (and the
 * static analyser) see that a successful read never dereferences NULL. */
static inline bool reader_has(const struct reader *r, size_t n)
{
    return !r->failed && (n == 0 || (r->pos != NULL && (size_t)(r->end - r->pos) >= n));
}

/* Like reader_has, but a shortfall fails the reader. The test is written
 * out rather than calling reader_has so that the static analyser, which
 * stops following calls a few levels deep, still sees the NULL check
 * guarding every read. */
static inline bool reader_need(struct reader *r, size_t n)
{
    if (!r->failed && (n == 0 || (r->pos != NULL && (size_t)(r->end - r->pos) >= n)))
        return true;
    r->failed = true;
    return false;
}

static inline uint8_t reader_u8(struct reader *r)
{
    if (!reader_need(r, 1))
        return 0;
    return *r->pos++;
}

static inline uint16_t reader_be16(struct reader *r)
{
    if (!reader_need(r, 2))
        return 0;
    uint16_t v = (uint16_t)((r->pos[0] << 8) | r->pos[1]);
    r->pos += 2;
    return v;
}

static inline uint32_t reader_be24(struct reader *r)
{
    if (!reader_need(r, 3))
        return 0;
    uint32_t v = ((uint32_t)r->pos[0] << 16) | ((uint32_t)r->pos[1] << 8) | r->pos[2];
    r->pos += 3;
    return v;
}

static inline uint32_t reader_be32(struct reader *r)
{
    if (!reader_need(r, 4))
        return 0;
    uint32_t v = ((uint32_t)r->pos[0] << 24) | ((uint32_t)r->pos[1] << 16) |
                 ((uint32_t)r->pos[2] << 8) | r->pos[3];
    r->pos += 4;
    return v;
}

static inline uint16_t reader_le16(struct reader *r)
{
    if (!reader_need(r, 2))
        return 0;
    uint16_t v = (uint16_t)(r->pos[0] | (r->pos[1] << 8));
    r->pos += 2;
    return v;
}

static inline uint32_t reader_le32(struct reader *r)
{
    if (!reader_need(r, 4))
        return 0;
    uint32_t v = (uint32_t)r->pos[0] | ((uint32_t)r->pos[1] << 8) | ((uint32_t)r->pos[2] << 16) |
                 ((uint32_t)r->pos[3] << 24);
    r->pos += 4;
    return v;
}

/* Skips n bytes. */
static inline void reader_skip(struct reader *r, size_t n)
{
    if (reader_need(r, n))
        r->pos += n;
}

/* Copies n bytes into out (which must hold n). Copying nothing touches
 * neither pointer: memcpy/memset with NULL is undefined even for 0 bytes,
 * and an empty reader (or an empty `out`) may be NULL. */
static inline void reader_copy(struct reader *r, void *out, size_t n)
{
    if (n == 0)
        return;
    if (!reader_need(r, n)) {
        memset(out, 0, n);
        return;
    }
    memcpy(out, r->pos, n);
    r->pos += n;
}

/* Returns a pointer to the next n bytes and consumes them, or NULL. */
static inline const uint8_t *reader_bytes(struct reader *r, size_t n)
{
    if (!reader_need(r, n))
        return NULL;
    const uint8_t *p = r->pos;
    r->pos += n;
    return p;
}

/* A sub-reader over the next n bytes (a length-prefixed field), consumed
 * from r. If fewer than n are left, both readers fail. */
static inline struct reader reader_sub(struct reader *r, size_t n)
{
    struct reader sub = {r->pos, r->pos, true};
    if (!reader_need(r, n))
        return sub;
    sub.end = r->pos + n;
    sub.failed = false;
    r->pos += n;
    return sub;
}

/* Peeks at the byte `offset` ahead without consuming; 0 when out of range. */
static inline uint8_t reader_peek(const struct reader *r, size_t offset)
{
    if (!reader_has(r, offset + 1))
        return 0;
    return r->pos[offset];
}

#endif
