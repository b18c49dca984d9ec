/*
 * proto_zk_jute.c - jute primitives of the ZooKeeper codec: the
 * bounds-checked reader (sticky error, strings NUL-terminated in place),
 * the arena allocator, and the streaming reply writer.
 *
 * Every read first checks that its bytes are inside the frame; a length or
 * count is checked against the bytes left before anything is allocated for
 * it, so a peer can never make the decoder reserve more than a small
 * multiple of the bytes it actually sent.
 */
#include "proto_zk_jute.h"

#include <limits.h>
#include <string.h>

#define ZKP__ALIGN 8u

/* ---- arena ------------------------------------------------------------- */

void zkp_arena_init(zkp_arena *a, void *mem, size_t cap)
{
    a->mem = mem;
    a->cap = mem ? cap : 0;
    a->used = 0;
}

void *zkp__arena_alloc(zkp_arena *a, size_t n, size_t size)
{
    if (a == NULL || n == 0 || size == 0 || n > SIZE_MAX / size)
        return NULL;
    uintptr_t base = (uintptr_t)a->mem;
    size_t pad = (size_t)((ZKP__ALIGN - (base + a->used) % ZKP__ALIGN) % ZKP__ALIGN);
    size_t need = n * size;
    if (a->used > a->cap || pad > a->cap - a->used ||
        need > a->cap - a->used - pad)
        return NULL;
    void *p = a->mem + a->used + pad;
    a->used += pad + need;
    return p;
}

/* ---- reader ------------------------------------------------------------ */

void zkp__rd_init(zkp__rd *r, uint8_t *p, size_t len, zkp_arena *arena)
{
    memset(r, 0, sizeof(*r));
    r->p = p;
    r->len = len;
    r->arena = arena;
}

size_t zkp__rd_left(const zkp__rd *r)
{
    return r->len - r->off;
}

void zkp__rd_fail(zkp__rd *r, int err)
{
    if (r->err == 0)
        r->err = err;
}

/* Claims n bytes; NULL (and the sticky error) when they are not there. */
static uint8_t *zkp__rd_take(zkp__rd *r, size_t n)
{
    if (r->err)
        return NULL;
    if (n > zkp__rd_left(r)) {
        zkp__rd_fail(r, ZKP_EMALFORMED);
        return NULL;
    }
    uint8_t *q = r->p + r->off;
    r->off += n;
    return q;
}

static uint64_t zkp__be(const uint8_t *q, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | q[i];
    return v;
}

int32_t zkp__rd_int(zkp__rd *r)
{
    const uint8_t *q = zkp__rd_take(r, 4);
    return q ? (int32_t)(uint32_t)zkp__be(q, 4) : 0;
}

int64_t zkp__rd_long(zkp__rd *r)
{
    const uint8_t *q = zkp__rd_take(r, 8);
    return q ? (int64_t)zkp__be(q, 8) : 0;
}

bool zkp__rd_bool(zkp__rd *r)
{
    const uint8_t *q = zkp__rd_take(r, 1);
    return q ? *q != 0 : false; /* Java's readBoolean: any nonzero byte */
}

/* A length or count: -1 (null) or 0..left/unit. Returns -1 for null or on
 * error (then r->err is set). */
static int32_t zkp__rd_count(zkp__rd *r, size_t unit)
{
    int32_t n = zkp__rd_int(r);
    if (r->err)
        return -1;
    if (n < -1 || (n > 0 && (size_t)n > zkp__rd_left(r) / unit)) {
        zkp__rd_fail(r, ZKP_EMALFORMED);
        return -1;
    }
    return n;
}

zkp_bytes zkp__rd_buffer(zkp__rd *r)
{
    zkp_bytes b = {NULL, 0};
    int32_t n = zkp__rd_count(r, 1);
    if (n < 0)
        return b;
    b.data = zkp__rd_take(r, (size_t)n);
    b.len = b.data ? (size_t)n : 0;
    return b;
}

zkp_str zkp__rd_string(zkp__rd *r, bool nullable)
{
    zkp_str s = {NULL, 0};
    size_t at = r->off;
    int32_t n = zkp__rd_count(r, 1);
    if (n < 0) {
        if (!nullable)
            zkp__rd_fail(r, ZKP_EMALFORMED);
        return s;
    }
    const uint8_t *src = zkp__rd_take(r, (size_t)n);
    if (src == NULL)
        return s;
    /* Slide the bytes over the 4-byte length prefix (already read) and
     * terminate them: the result stays inside this string's own bytes. */
    char *dst = (char *)r->p + at;
    memmove(dst, src, (size_t)n);
    dst[n] = '\0';
    if (memchr(dst, '\0', (size_t)n) != NULL)
        r->nul = true;
    s.s = dst;
    s.len = (size_t)n;
    return s;
}

zkp_strv zkp__rd_strv(zkp__rd *r)
{
    zkp_strv v = {NULL, 0};
    int32_t n = zkp__rd_count(r, 4); /* each string is at least its length */
    if (n <= 0)
        return v;
    const char **a = zkp__arena_alloc(r->arena, (size_t)n, sizeof(*a));
    if (a == NULL) {
        zkp__rd_fail(r, ZKP_ENOSPACE);
        return v;
    }
    for (int32_t i = 0; i < n; i++)
        a[i] = zkp__rd_string(r, false).s;
    if (r->err == 0) {
        v.v = a;
        v.n = (size_t)n;
    }
    return v;
}

zkp_aclv zkp__rd_aclv(zkp__rd *r)
{
    zkp_aclv v = {NULL, 0};
    int32_t n = zkp__rd_count(r, 12); /* perms + two string lengths */
    if (n <= 0)
        return v;
    reg_acl *a = zkp__arena_alloc(r->arena, (size_t)n, sizeof(*a));
    if (a == NULL) {
        zkp__rd_fail(r, ZKP_ENOSPACE);
        return v;
    }
    for (int32_t i = 0; i < n; i++) {
        a[i].perms = zkp__rd_int(r);
        /* Null strings stay NULL: the registry's fixupACL takes them as
         * ZooKeeper does (INVALIDACL, MARSHALLINGERROR or, for the "auth"
         * scheme's id, nothing: kazoo sends CREATOR_ALL_ACL's id as null). */
        a[i].scheme = zkp__rd_string(r, true).s;
        a[i].id = zkp__rd_string(r, true).s;
    }
    if (r->err == 0) {
        v.v = a;
        v.n = (size_t)n;
    }
    return v;
}

int zkp__rd_finish(const zkp__rd *r)
{
    if (r->err)
        return r->err;
    if (r->off != r->len)
        return ZKP_EMALFORMED;
    return r->nul ? ZKP_ENULCHAR : 0;
}

/* ---- writer ------------------------------------------------------------ */

static void zkp__w_put(zkp_writer *w, const void *p, size_t n)
{
    if (w->err == 0)
        w->err = zk_buf_append(w->out, p, n);
}

static void zkp__w_be(zkp_writer *w, uint64_t v, size_t n)
{
    uint8_t b[8];
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    zkp__w_put(w, b, n);
}

static void zkp__w_patch(zkp_writer *w, size_t at, uint32_t v)
{
    uint8_t *q = (uint8_t *)w->out->data + at;
    q[0] = (uint8_t)(v >> 24);
    q[1] = (uint8_t)(v >> 16);
    q[2] = (uint8_t)(v >> 8);
    q[3] = (uint8_t)v;
}

void zkp__w_start(zkp_writer *w, zk_buf *out)
{
    w->out = out;
    w->start = out->len;
    w->vec = SIZE_MAX;
    w->count = 0;
    w->err = 0;
    zkp_w_int(w, 0); /* frame length, patched by zkp_w_end */
}

void zkp_w_begin(zkp_writer *w, zk_buf *out, int32_t xid, int64_t zxid, int err)
{
    zkp__w_start(w, out);
    zkp_w_int(w, xid);
    zkp_w_long(w, zxid);
    zkp_w_int(w, reg_err_to_zk(err));
}

void zkp_w_int(zkp_writer *w, int32_t v)
{
    zkp__w_be(w, (uint32_t)v, 4);
}

void zkp_w_long(zkp_writer *w, int64_t v)
{
    zkp__w_be(w, (uint64_t)v, 8);
}

void zkp_w_bool(zkp_writer *w, bool v)
{
    uint8_t b = v ? 1 : 0;
    zkp__w_put(w, &b, 1);
}

void zkp_w_buffer(zkp_writer *w, const void *data, size_t len)
{
    if (data == NULL) {
        zkp_w_int(w, -1);
        return;
    }
    if (len > INT32_MAX) {
        if (w->err == 0)
            w->err = -EMSGSIZE;
        return;
    }
    zkp_w_int(w, (int32_t)len);
    zkp__w_put(w, data, len);
}

void zkp_w_string(zkp_writer *w, const char *s, size_t len)
{
    zkp_w_buffer(w, s, len);
}

void zkp_w_stat(zkp_writer *w, const reg_stat *st)
{
    zkp_w_long(w, st->czxid);
    zkp_w_long(w, st->mzxid);
    zkp_w_long(w, st->ctime);
    zkp_w_long(w, st->mtime);
    zkp_w_int(w, st->version);
    zkp_w_int(w, st->cversion);
    zkp_w_int(w, st->aversion);
    zkp_w_long(w, st->ephemeral_owner);
    zkp_w_int(w, st->data_length);
    zkp_w_int(w, st->num_children);
    zkp_w_long(w, st->pzxid);
}

void zkp_w_acl(zkp_writer *w, const reg_acl *acl)
{
    zkp_w_int(w, acl->perms);
    zkp_w_string(w, acl->scheme, acl->scheme ? strlen(acl->scheme) : 0);
    zkp_w_string(w, acl->id, acl->id ? strlen(acl->id) : 0);
}

void zkp_w_vec_begin(zkp_writer *w)
{
    w->vec = w->out->len;
    w->count = 0;
    zkp_w_int(w, 0); /* count, patched by zkp_w_vec_end */
}

/* Counts one element of the open vector. */
void zkp__w_elem(zkp_writer *w)
{
    if (w->err == 0 && (w->vec == SIZE_MAX || w->count == INT32_MAX))
        w->err = -EINVAL;
    w->count++;
}

void zkp_w_vec_end(zkp_writer *w)
{
    if (w->err == 0 && w->vec == SIZE_MAX)
        w->err = -EINVAL;
    if (w->err == 0)
        zkp__w_patch(w, w->vec, (uint32_t)w->count);
    w->vec = SIZE_MAX;
}

void zkp_w_vec_name(void *ctx, const char *s, size_t len)
{
    zkp_writer *w = ctx;
    zkp__w_elem(w);
    zkp_w_string(w, s, len);
}

void zkp_w_vec_path(void *ctx, const char *s)
{
    zkp_w_vec_name(ctx, s, strlen(s));
}

void zkp_w_vec_acl(void *ctx, const reg_acl *acl)
{
    zkp_writer *w = ctx;
    zkp__w_elem(w);
    zkp_w_acl(w, acl);
}

static void zkp__w_multi_header(zkp_writer *w, int32_t type, bool done, int32_t err)
{
    zkp_w_int(w, type);
    zkp_w_bool(w, done);
    zkp_w_int(w, err);
}

void zkp__w_multi_error(zkp_writer *w, int32_t code)
{
    zkp__w_multi_header(w, ZKP_OP_ERROR, false, code);
    zkp_w_int(w, code); /* ErrorResponse */
}

bool zkp_w_multi_op(zkp_writer *w, int32_t type, int err)
{
    if (err != 0) {
        zkp__w_multi_error(w, reg_err_to_zk(err));
        return false;
    }
    zkp__w_multi_header(w, type, false, 0);
    return true;
}

void zkp_w_multi_done(zkp_writer *w)
{
    zkp__w_multi_header(w, -1, true, -1);
}

size_t zkp_w_mark(const zkp_writer *w)
{
    return w->out->len;
}

/* Cuts out back to len bytes, keeping zk_buf's terminating NUL. */
static void zkp__w_cut(zkp_writer *w, size_t len)
{
    if (len > w->out->len)
        return;
    w->out->len = len;
    if (w->out->data)
        w->out->data[len] = '\0';
}

void zkp_w_rewind(zkp_writer *w, size_t mark)
{
    if (mark < w->start)
        return;
    zkp__w_cut(w, mark);
    if (w->vec != SIZE_MAX && w->vec >= mark)
        w->vec = SIZE_MAX; /* the vector began after the mark */
}

void zkp_w_abort(zkp_writer *w)
{
    zkp__w_cut(w, w->start);
    w->vec = SIZE_MAX;
}

int zkp_w_end(zkp_writer *w)
{
    size_t n = w->out->len - w->start;
    if (w->err == 0 && w->vec != SIZE_MAX)
        w->err = -EINVAL; /* a vector left open */
    if (w->err == 0 && n - 4 > INT32_MAX)
        w->err = -EMSGSIZE;
    if (w->err) {
        zkp_w_abort(w);
        return w->err;
    }
    zkp__w_patch(w, w->start, (uint32_t)(n - 4));
    return 0;
}
