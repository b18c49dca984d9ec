/*
 * proto_zk_jute.h - internal to the ZooKeeper codec: the bounds-checked jute
 * reader and the arena allocator shared by proto_zk_*.c.
 *
 * The reader keeps a sticky error (Knot's txn.ret): after the first failure
 * every read returns zero and touches nothing, so a body decoder reads its
 * fields straight down and checks r->err once at the end.
 */
#ifndef ZK_DAEMON_PROTO_ZK_JUTE_H
#define ZK_DAEMON_PROTO_ZK_JUTE_H

#include "proto_zk.h"

typedef struct zkp__rd {
    uint8_t *p;        /* the frame; strings are rewritten in place */
    size_t len;
    size_t off;
    zkp_arena *arena;  /* NULL when no vector may appear (connect) */
    int err;           /* sticky: first failure */
    bool nul;          /* some string held a NUL byte */
} zkp__rd;

void zkp__rd_init(zkp__rd *r, uint8_t *p, size_t len, zkp_arena *arena);
size_t zkp__rd_left(const zkp__rd *r);
void zkp__rd_fail(zkp__rd *r, int err);
int32_t zkp__rd_int(zkp__rd *r);
int64_t zkp__rd_long(zkp__rd *r);
bool zkp__rd_bool(zkp__rd *r);
zkp_bytes zkp__rd_buffer(zkp__rd *r);
/* nullable false: a null string is ZKP_EMALFORMED. */
zkp_str zkp__rd_string(zkp__rd *r, bool nullable);
zkp_strv zkp__rd_strv(zkp__rd *r);
zkp_aclv zkp__rd_aclv(zkp__rd *r);
/* The outcome of a whole body: the sticky error, trailing bytes, NUL. */
int zkp__rd_finish(const zkp__rd *r);

/* Starts a frame without a ReplyHeader (the ConnectResponse). */
void zkp__w_start(zkp_writer *w, zk_buf *out);
/* Counts one element of the open vector (its fields are written next). */
void zkp__w_elem(zkp_writer *w);
/* An error result of a multi: MultiHeader {-1, false, code} and
 * ErrorResponse {code}; code is ZooKeeper's (0 is allowed). */
void zkp__w_multi_error(zkp_writer *w, int32_t code);

/* n elements of size bytes, 8-byte aligned; NULL when it does not fit (or
 * n is 0). */
void *zkp__arena_alloc(zkp_arena *a, size_t n, size_t size);

/* Smallest wire size of a multi sub-operation: MultiHeader (9) and the
 * smallest body, getData/getChildren (path 4 + watch 1). */
#define ZKP__MIN_SUBOP 14u

#endif
