/*
 * buf.c - growable byte buffer with a hard cap; see buf.h.
 */
#include "buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZK_BUF_DEFAULT_LIMIT ((size_t)64 << 20)

void zk_buf_init(zk_buf *b, size_t limit)
{
    memset(b, 0, sizeof(*b));
    b->limit = limit;
}

void zk_buf_free(zk_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void zk_buf_consume(zk_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

static int zk_buf__reserve(zk_buf *b, size_t extra)
{
    size_t limit = b->limit ? b->limit : ZK_BUF_DEFAULT_LIMIT;
    if (extra > limit || b->len > limit - extra)
        return -ENOBUFS;
    size_t need = b->len + extra + 1; /* room for a terminating NUL */
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (p == NULL)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int zk_buf_append(zk_buf *b, const void *p, size_t n)
{
    int rc = zk_buf__reserve(b, n);
    if (rc < 0)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int zk_buf_putc(zk_buf *b, char c)
{
    return zk_buf_append(b, &c, 1);
}

int zk_buf_printf(zk_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    int rc = zk_buf__reserve(b, (size_t)n);
    if (rc < 0)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}
