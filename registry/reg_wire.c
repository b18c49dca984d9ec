/*
 * reg_wire.c - little-endian byte streams for txn records and snapshots.
 *
 * Both directions keep a sticky error (Knot's txn.ret idiom): after the
 * first failure every call is a no-op, so encoders and decoders read
 * straight down and check once at the end. The reader trusts nothing: every
 * length is checked against what is left (buffer mode) or against a caller's
 * maximum (stream mode) before anything is allocated, and strings may not
 * hold NUL bytes. Both keep a CRC32C of the bytes, which a snapshot stores
 * at its end: the writer of each 64 KiB piece it hands its sink, the
 * reader, which is handed fields one at a time, of each field. Snapshots
 * of versions 1 and 2 stored an FNV-1a hash instead, which the reader can
 * still compute; byte by byte it took 217 ms per 186 MB (a 1M-znode
 * snapshot) in a probe.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "reg_internal.h"

#define SINK_BUF (64u * 1024u)
#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * FNV_PRIME;
    return h;
}

/* ---- writer --------------------------------------------------------------- */

void reg__wr_init(struct reg__wr *w, int (*sink)(void *, const void *, size_t),
                  void *ctx)
{
    memset(w, 0, sizeof(*w));
    w->hash = 0; /* crc32c_update's start */
    w->sink = sink;
    w->ctx = ctx;
}

static int grow(struct reg__wr *w, size_t need)
{
    size_t ncap = w->cap ? w->cap : 256;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return -ENOMEM;
        ncap *= 2;
    }
    uint8_t *nb = realloc(w->buf, ncap);
    if (!nb)
        return -ENOMEM;
    w->buf = nb;
    w->cap = ncap;
    return 0;
}

int reg__wr_flush(struct reg__wr *w)
{
    if (w->err == 0 && w->sink && w->len > 0) {
        w->hash = crc32c_update((uint32_t)w->hash, w->buf, w->len);
        w->err = w->sink(w->ctx, w->buf, w->len);
        w->len = 0;
    }
    return w->err;
}

uint32_t reg__wr_crc(const struct reg__wr *w)
{
    return crc32c_update((uint32_t)w->hash, w->buf, w->len);
}

void reg__wr_bytes(struct reg__wr *w, const void *p, size_t n)
{
    if (w->err || n == 0)
        return;
    if (w->sink) {
        if (!w->buf && (w->err = grow(w, SINK_BUF)))
            return;
        if (w->len + n > w->cap && reg__wr_flush(w))
            return;
        if (n >= w->cap) {
            w->hash = crc32c_update((uint32_t)w->hash, p, n);
            w->err = w->sink(w->ctx, p, n);
            return;
        }
    } else if (w->len + n > w->cap && (w->err = grow(w, w->len + n))) {
        return;
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

void reg__wr_u8(struct reg__wr *w, uint8_t v)
{
    reg__wr_bytes(w, &v, 1);
}

void reg__wr_u32(struct reg__wr *w, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    reg__wr_bytes(w, b, 4);
}

void reg__wr_i64(struct reg__wr *w, int64_t v)
{
    uint8_t b[8];
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(u >> (8 * i));
    reg__wr_bytes(w, b, 8);
}

void reg__wr_blob(struct reg__wr *w, const void *p, size_t n)
{
    if (n > UINT32_MAX) {
        w->err = w->err ? w->err : -EINVAL;
        return;
    }
    reg__wr_u32(w, (uint32_t)n);
    reg__wr_bytes(w, p, n);
}

void reg__wr_str(struct reg__wr *w, const char *s)
{
    reg__wr_blob(w, s, s ? strlen(s) : 0);
}

void reg__wr_free(struct reg__wr *w)
{
    free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}

/* ---- reader --------------------------------------------------------------- */

void reg__rd_init(struct reg__rd *r, const uint8_t *p, size_t len,
                  int (*src)(void *, void *, size_t), void *ctx)
{
    memset(r, 0, sizeof(*r));
    r->p = p;
    r->len = len;
    r->hash = 0;
    r->src = src;
    r->ctx = ctx;
}

void reg__rd_fail(struct reg__rd *r)
{
    if (!r->err)
        r->err = -EINVAL;
}

bool reg__rd_bytes(struct reg__rd *r, void *out, size_t n)
{
    if (r->err)
        return false;
    if (n == 0)
        return true;
    if (r->src) {
        int rc = r->src(r->ctx, out, n);
        if (rc) {
            r->err = rc < 0 ? rc : -EINVAL;
            return false;
        }
    } else {
        if (n > r->len - r->off) {
            reg__rd_fail(r);
            return false;
        }
        memcpy(out, r->p + r->off, n);
        r->off += n;
    }
    r->hash = r->fnv ? fnv(r->hash, out, n) : crc32c_update((uint32_t)r->hash, out, n);
    return true;
}

void reg__rd_use_fnv(struct reg__rd *r, const void *seen, size_t n)
{
    r->fnv = true;
    r->hash = fnv(FNV_OFFSET, seen, n);
}

uint8_t reg__rd_u8(struct reg__rd *r)
{
    uint8_t v = 0;
    reg__rd_bytes(r, &v, 1);
    return v;
}

uint32_t reg__rd_u32(struct reg__rd *r)
{
    uint8_t b[4] = {0};
    reg__rd_bytes(r, b, 4);
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
           (uint32_t)b[3] << 24;
}

int32_t reg__rd_i32(struct reg__rd *r)
{
    return (int32_t)reg__rd_u32(r);
}

int64_t reg__rd_i64(struct reg__rd *r)
{
    uint8_t b[8] = {0};
    uint64_t u = 0;
    reg__rd_bytes(r, b, 8);
    for (int i = 7; i >= 0; i--)
        u = (u << 8) | b[i];
    return (int64_t)u;
}

uint32_t reg__rd_count(struct reg__rd *r, size_t min_item, uint32_t max)
{
    uint32_t n = reg__rd_u32(r);
    if (r->err)
        return 0;
    bool too_many = n > max;
    if (!r->src && min_item && n > (r->len - r->off) / min_item)
        too_many = true;
    if (too_many) {
        reg__rd_fail(r);
        return 0;
    }
    return n;
}

/* Reads n bytes into a buffer that grows as they arrive (a stream may claim
 * a length it does not have; memory follows what was really read). */
static uint8_t *read_grow(struct reg__rd *r, uint32_t n)
{
    uint8_t *p = NULL;
    size_t have = 0;
    while (have < n) {
        size_t step = have ? have : 1u << 20;
        size_t want = n - have < step ? n - have : step;
        uint8_t *np = realloc(p, have + want);
        if (!np) {
            r->err = -ENOMEM;
            break;
        }
        p = np;
        if (!reg__rd_bytes(r, p + have, want))
            break;
        have += want;
    }
    if (have < n) {
        free(p);
        return NULL;
    }
    return p;
}

uint8_t *reg__rd_blob(struct reg__rd *r, uint32_t max, uint32_t *len)
{
    uint32_t n = reg__rd_count(r, 1, max);
    *len = 0;
    if (r->err || n == 0)
        return NULL;
    uint8_t *p = read_grow(r, n);
    if (p)
        *len = n;
    return p;
}

char *reg__rd_str(struct reg__rd *r, uint32_t max)
{
    uint32_t n = reg__rd_count(r, 1, max);
    if (r->err)
        return NULL;
    if (n == 0) {
        reg__rd_fail(r);
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (!s) {
        r->err = -ENOMEM;
        return NULL;
    }
    if (!reg__rd_bytes(r, s, n) || memchr(s, '\0', n)) {
        reg__rd_fail(r);
        free(s);
        return NULL;
    }
    s[n] = '\0';
    return s;
}
