/*
 * buf.h - a growable byte buffer with a hard cap.
 *
 * Used for reply and event output of the protocol codecs. Every append
 * checks the cap, so a client that never reads cannot make the daemon grow
 * without bound: an append past the cap fails with -ENOBUFS and leaves the
 * buffer as it was.
 */
#ifndef ZK_DAEMON_BUF_H
#define ZK_DAEMON_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct zk_buf {
    char *data;
    size_t len;
    size_t cap;     /* allocated */
    size_t limit;   /* most bytes it may ever hold; 0 = 64 MiB */
} zk_buf;

/* A zeroed zk_buf is an empty buffer with the default limit. */
void zk_buf_init(zk_buf *b, size_t limit);
void zk_buf_free(zk_buf *b);
/* Drops the first n bytes (consumed output). */
void zk_buf_consume(zk_buf *b, size_t n);
int zk_buf_append(zk_buf *b, const void *p, size_t n);
int zk_buf_putc(zk_buf *b, char c);
int zk_buf_printf(zk_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
