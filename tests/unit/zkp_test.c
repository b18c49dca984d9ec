/*
 * zkp_test.c - unit tests of the ZooKeeper codec (daemon/proto_zk.h).
 *
 * Two layers. First, real traffic: zkp_capture.c holds every frame kazoo,
 * the Java and C clients of ZooKeeper 3.8 and a raw 3.4-style client
 * exchanged with Apache ZooKeeper 3.8.0 (recorded by
 * tests/fuzz/zkp_capture.py). Each client frame must decode to what an
 * independent Python parser read from it, and each server frame must come
 * out byte for byte from our encoders fed with the values it carries. Every
 * prefix of every captured request must fail cleanly, and so must every
 * request with a byte appended.
 *
 * Second, hand-built frames for what real clients rarely send: every
 * request type, bad lengths and counts, unknown opcodes, NUL bytes,
 * misuse of multi, a too-small arena, the conversion to registry ops, the
 * four-letter words, and the writer's limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto_zk.h"

/* ---- captured traffic -------------------------------------------------- */

struct zkp_cap_sub {
    int32_t type;
    int32_t err;
    const char *path;
    const char *data;
    int32_t data_len;
    reg_stat stat;
    const char *const *strs;
    size_t nstrs;
    int has_stat;
};

enum zkp_cap_kind {
    ZKP_CAP_NONE,
    ZKP_CAP_CONNECT,
    ZKP_CAP_HEADER,
    ZKP_CAP_PATH,
    ZKP_CAP_CREATE2,
    ZKP_CAP_STAT,
    ZKP_CAP_DATA,
    ZKP_CAP_ACL,
    ZKP_CAP_STRINGS,
    ZKP_CAP_STRINGS_STAT,
    ZKP_CAP_INT,
    ZKP_CAP_WHOAMI,
    ZKP_CAP_MULTI,
    ZKP_CAP_MULTI_READ,
    ZKP_CAP_EVENT,
    ZKP_CAP_SASL,
};

struct zkp_cap_rep {
    int kind;
    int32_t xid;
    int64_t zxid;
    int32_t err; /* ZooKeeper's code */
    const char *path;
    reg_stat stat;
    const char *data;
    int32_t data_len; /* -1: null */
    const char *const *strs;
    size_t nstrs;
    const reg_acl *acl; /* also WhoAmI's ClientInfo (scheme, id) */
    size_t nacl;
    int32_t ival;
    int32_t state;
    const struct zkp_cap_sub *subs;
    size_t nsubs;
    int32_t timeout;
    int64_t session;
    int has_ro, ro;
};

struct zkp_cap {
    const char *name;
    const char *req; /* client frame with its length prefix, or NULL */
    size_t req_len;
    const char *rep; /* server frame with its length prefix, or NULL */
    size_t rep_len;
    const char *summary; /* what req decodes to; NULL: not decodable */
    struct zkp_cap_rep r;
};

#include "zkp_capture.c"

/* ---- helpers ----------------------------------------------------------- */

/* A decoded frame: the frame copied to the heap at its exact size (so ASan
 * sees any overread), an arena of zkp_arena_need bytes, the request. */
typedef struct dec {
    uint8_t *frame;
    void *mem;
    zkp_arena arena;
    zkp_request req;
    int rc;
} dec;

static void dec_run_cap(dec *d, const void *p, size_t n, size_t arena_cap)
{
    memset(d, 0, sizeof(*d));
    d->frame = malloc(n ? n : 1);
    assert_non_null(d->frame);
    if (n)
        memcpy(d->frame, p, n);
    d->mem = malloc(arena_cap ? arena_cap : 1);
    assert_non_null(d->mem);
    zkp_arena_init(&d->arena, d->mem, arena_cap);
    d->rc = zkp_request_decode(d->frame, n, &d->arena, &d->req);
    assert_true(d->arena.used <= d->arena.cap);
}

static void dec_run(dec *d, const void *p, size_t n)
{
    dec_run_cap(d, p, n, zkp_arena_need(p, n));
}

static void dec_free(dec *d)
{
    free(d->frame);
    free(d->mem);
}

static void put_hex(zk_buf *b, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        zk_buf_printf(b, "%02x", p[i]);
}

static void summ_bytes(zk_buf *b, zkp_bytes x)
{
    if (x.data == NULL)
        zk_buf_printf(b, "null");
    else
        put_hex(b, x.data, x.len);
}

static void summ_strv(zk_buf *b, zkp_strv v)
{
    zk_buf_putc(b, '[');
    for (size_t i = 0; i < v.n; i++)
        zk_buf_printf(b, "%s%s", i ? "," : "", v.v[i]);
    zk_buf_putc(b, ']');
}

static const char *none_or(const char *s)
{
    return s ? s : "None";
}

static void summ_acls(zk_buf *b, zkp_aclv v)
{
    zk_buf_putc(b, '[');
    for (size_t i = 0; i < v.n; i++)
        zk_buf_printf(b, "%s%d:%s:%s", i ? "," : "", v.v[i].perms,
                      none_or(v.v[i].scheme), none_or(v.v[i].id));
    zk_buf_putc(b, ']');
}

static void summ_body(zk_buf *b, const zkp_request *r);

static void summ_multi(zk_buf *b, const zkp_request *r)
{
    for (size_t i = 0; i < r->nops; i++) {
        zk_buf_printf(b, "%s{%d ", i ? " " : "", r->ops[i].type);
        summ_body(b, &r->ops[i]);
        zk_buf_putc(b, '}');
    }
}

static void summ_watches(zk_buf *b, const zkp_request *r)
{
    const zkp_watches *w = r->watches;
    zk_buf_printf(b, "rel=%lld ", (long long)w->rel_zxid);
    summ_strv(b, w->data);
    zk_buf_putc(b, ' ');
    summ_strv(b, w->exist);
    zk_buf_putc(b, ' ');
    summ_strv(b, w->child);
    if (r->type == ZKP_OP_SET_WATCHES2) {
        zk_buf_putc(b, ' ');
        summ_strv(b, w->persistent);
        zk_buf_putc(b, ' ');
        summ_strv(b, w->recursive);
    }
}

static void summ_create(zk_buf *b, const zkp_request *r)
{
    zk_buf_printf(b, "path=%s data=", r->path.s);
    summ_bytes(b, r->data);
    zk_buf_printf(b, " acl=");
    summ_acls(b, r->acl);
    zk_buf_printf(b, " flags=%d", r->flags);
    if (r->type == ZKP_OP_CREATE_TTL)
        zk_buf_printf(b, " ttl=%lld", (long long)r->ttl);
}

/* The same text tests/fuzz/zkp_capture.py writes for a request body. */
static void summ_body(zk_buf *b, const zkp_request *r)
{
    const char *p = r->path.s;
    switch (r->type) {
    case ZKP_OP_CREATE: case ZKP_OP_CREATE2: case ZKP_OP_CREATE_CONTAINER:
    case ZKP_OP_CREATE_TTL:
        summ_create(b, r);
        break;
    case ZKP_OP_DELETE: case ZKP_OP_CHECK:
        zk_buf_printf(b, "path=%s version=%d", p, r->version);
        break;
    case ZKP_OP_EXISTS: case ZKP_OP_GET_DATA: case ZKP_OP_GET_CHILDREN:
    case ZKP_OP_GET_CHILDREN2:
        zk_buf_printf(b, "path=%s watch=%d", p, r->watch);
        break;
    case ZKP_OP_SET_DATA:
        zk_buf_printf(b, "path=%s data=", p);
        summ_bytes(b, r->data);
        zk_buf_printf(b, " version=%d", r->version);
        break;
    case ZKP_OP_SET_ACL:
        zk_buf_printf(b, "path=%s acl=", p);
        summ_acls(b, r->acl);
        zk_buf_printf(b, " version=%d", r->version);
        break;
    case ZKP_OP_GET_ACL: case ZKP_OP_SYNC: case ZKP_OP_GET_EPHEMERALS:
    case ZKP_OP_GET_ALL_CHILDREN_NUMBER: case ZKP_OP_DELETE_CONTAINER:
        zk_buf_printf(b, "path=%s", p);
        break;
    case ZKP_OP_CHECK_WATCHES: case ZKP_OP_REMOVE_WATCHES: case ZKP_OP_ADD_WATCH:
        zk_buf_printf(b, "path=%s mode=%d", p, r->mode);
        break;
    case ZKP_OP_AUTH:
        zk_buf_printf(b, "mode=%d scheme=%s data=", r->mode, r->scheme.s);
        summ_bytes(b, r->data);
        break;
    case ZKP_OP_SASL:
        zk_buf_printf(b, "token=");
        summ_bytes(b, r->data);
        break;
    case ZKP_OP_SET_WATCHES: case ZKP_OP_SET_WATCHES2:
        summ_watches(b, r);
        break;
    case ZKP_OP_RECONFIG:
        zk_buf_printf(b, "reconfig %s %s %s %lld", none_or(r->reconfig->joining.s),
                      none_or(r->reconfig->leaving.s),
                      none_or(r->reconfig->new_members.s),
                      (long long)r->reconfig->cur_config_id);
        break;
    case ZKP_OP_MULTI: case ZKP_OP_MULTI_READ:
        summ_multi(b, r);
        break;
    default: /* ping, closeSession, whoAmI: no body */
        break;
    }
}

/* "<type> <body>" without trailing blanks, in a malloc'd string. */
static char *summarize(const zkp_request *r)
{
    zk_buf b;
    zk_buf_init(&b, 0);
    zk_buf_printf(&b, "%d ", r->type);
    summ_body(&b, r);
    while (b.len && b.data[b.len - 1] == ' ')
        b.data[--b.len] = '\0';
    return b.data;
}

static char *summarize_connect(const zkp_connect *c)
{
    zk_buf b;
    zk_buf_init(&b, 0);
    zk_buf_printf(&b, "connect proto=%d zxid=%lld timeout=%d session=%lld passwd=",
                  c->protocol_version, (long long)c->last_zxid_seen, c->timeout_ms,
                  (long long)c->session_id);
    summ_bytes(&b, c->passwd);
    if (c->has_read_only)
        zk_buf_printf(&b, " ro=%d", c->read_only);
    else
        zk_buf_printf(&b, " ro=none");
    return b.data;
}

static void assert_bytes(const zk_buf *out, const void *want, size_t n)
{
    if (out->len != n || memcmp(out->data, want, n) != 0) {
        zk_buf h;
        zk_buf_init(&h, 0);
        zk_buf_printf(&h, "got  ");
        put_hex(&h, (const uint8_t *)out->data, out->len);
        zk_buf_printf(&h, "\nwant ");
        put_hex(&h, want, n);
        print_error("%s\n", h.data);
        zk_buf_free(&h);
        fail();
    }
}

/* Our error for ZooKeeper's code, or 1 when reg.h has no such code. */
static int reg_of(int32_t code)
{
    if (code == 0)
        return 0;
    return reg_err_to_zk(REG_ZKERR(code)) == code ? REG_ZKERR(code) : 1;
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && strcmp(s + n - k, tail) == 0;
}

/* A request whose every prefix and extension must fail: not a 4lw, and not
 * deleteContainer, whose body is the bare path bytes. */
static bool has_fixed_end(const struct zkp_cap *c)
{
    return c->req && c->summary && strncmp(c->name, "4lw", 3) != 0 &&
           !ends_with(c->name, "/deleteContainer");
}

static int is_connect(const struct zkp_cap *c)
{
    return c->r.kind == ZKP_CAP_CONNECT || ends_with(c->name, "/connect");
}

/* ---- captured traffic: requests ---------------------------------------- */

static void check_cap_connect(const struct zkp_cap *c)
{
    zkp_connect cr;
    assert_int_equal(zkp_connect_decode((const uint8_t *)c->req + 4, c->req_len - 4, &cr), 0);
    char *s = summarize_connect(&cr);
    assert_string_equal(s, c->summary);
    free(s);
    if (c->rep && c->r.kind == ZKP_CAP_CONNECT) /* the server echoes the flag iff sent */
        assert_int_equal(cr.has_read_only, c->r.has_ro);
}

static void test_capture_requests(void **state)
{
    (void)state;
    size_t n = 0;
    for (size_t i = 0; i < zkp_ncaps; i++) {
        const struct zkp_cap *c = &zkp_caps[i];
        if (c->req == NULL || strncmp(c->name, "4lw", 3) == 0)
            continue;
        if (is_connect(c)) {
            check_cap_connect(c);
            n++;
            continue;
        }
        dec d;
        dec_run(&d, c->req + 4, c->req_len - 4);
        if (c->summary == NULL) { /* unknown type, no header, bad body */
            assert_true(d.rc == ZKP_EUNKNOWN || d.rc == ZKP_EMALFORMED ||
                        d.rc == ZKP_ESHORT);
        } else {
            if (d.rc != 0)
                print_error("%s: %s\n", c->name, zkp_strerror(d.rc));
            assert_int_equal(d.rc, 0);
            char *s = summarize(&d.req);
            if (strcmp(s, c->summary) != 0)
                print_error("%s\n", c->name);
            assert_string_equal(s, c->summary);
            free(s);
        }
        dec_free(&d);
        n++;
    }
    assert_true(n > 80);
}

/* ZooKeeper itself ignores bytes after a body; zonekeeper refuses them,
 * because no client sends any. */
static void test_capture_trailing_refused(void **state)
{
    (void)state;
    for (size_t i = 0; i < zkp_ncaps; i++) {
        const struct zkp_cap *c = &zkp_caps[i];
        if (c->req == NULL || strcmp(c->name, "rawtrail/exists") != 0)
            continue;
        dec d;
        dec_run(&d, c->req + 4, c->req_len - 4);
        assert_int_equal(d.rc, ZKP_EMALFORMED);
        assert_int_equal(d.req.xid, 10);
        assert_int_equal(d.req.type, ZKP_OP_EXISTS);
        dec_free(&d);
        return;
    }
    fail();
}

static void check_prefixes(const struct zkp_cap *c)
{
    const uint8_t *body = (const uint8_t *)c->req + 4;
    size_t len = c->req_len - 4;
    zkp_connect cr;
    bool ro = is_connect(c) && zkp_connect_decode(body, len, &cr) == 0 && cr.has_read_only;
    for (size_t k = 0; k < len; k++) {
        if (is_connect(c)) {
            uint8_t *f = malloc(k ? k : 1);
            memcpy(f, body, k);
            int rc = zkp_connect_decode(f, k, &cr);
            free(f);
            assert_int_equal(rc, ro && k == len - 1 ? 0 : ZKP_EMALFORMED);
            continue;
        }
        dec d;
        dec_run(&d, body, k);
        assert_int_equal(d.rc, k < 8 ? ZKP_ESHORT : ZKP_EMALFORMED);
        dec_free(&d);
    }
}

static void test_capture_truncated(void **state)
{
    (void)state;
    for (size_t i = 0; i < zkp_ncaps; i++) {
        if (has_fixed_end(&zkp_caps[i]))
            check_prefixes(&zkp_caps[i]);
    }
}

static void test_capture_garbage_after(void **state)
{
    (void)state;
    for (size_t i = 0; i < zkp_ncaps; i++) {
        const struct zkp_cap *c = &zkp_caps[i];
        if (!has_fixed_end(c))
            continue;
        size_t len = c->req_len - 4;
        uint8_t *f = malloc(len + 1);
        memcpy(f, c->req + 4, len);
        f[len] = 0;
        if (is_connect(c)) {
            zkp_connect cr;
            bool ro = zkp_connect_decode(f, len, &cr) == 0 && cr.has_read_only;
            assert_int_equal(zkp_connect_decode(f, len + 1, &cr), ro ? ZKP_EMALFORMED : 0);
        } else {
            dec d;
            dec_run(&d, f, len + 1);
            assert_int_equal(d.rc, ZKP_EMALFORMED);
            dec_free(&d);
        }
        free(f);
    }
}

/* ---- captured traffic: replies ----------------------------------------- */

static void enc_multi(zk_buf *out, const struct zkp_cap_rep *r, const zkp_request *req)
{
    reg_result res;
    reg_result sub[16];
    memset(&res, 0, sizeof(res));
    memset(sub, 0, sizeof(sub));
    assert_true(r->nsubs <= 16);
    for (size_t i = 0; i < r->nsubs; i++) {
        sub[i].err = reg_of(r->subs[i].err);
        sub[i].path = (char *)(uintptr_t)r->subs[i].path;
        sub[i].stat = r->subs[i].stat;
        if (res.err == 0)
            res.err = sub[i].err;
    }
    res.sub = sub;
    res.nsub = r->nsubs;
    assert_int_equal(zkp_reply_multi(out, r->xid, r->zxid, req, &res), 0);
}

static void enc_multi_read(zk_buf *out, const struct zkp_cap_rep *r, const zkp_request *req)
{
    zkp_writer w;
    zkp_w_begin(&w, out, r->xid, r->zxid, 0);
    for (size_t i = 0; i < r->nsubs; i++) {
        const struct zkp_cap_sub *s = &r->subs[i];
        int32_t type = req->ops[i].type;
        if (!zkp_w_multi_op(&w, type, reg_of(s->err)))
            continue;
        if (type == ZKP_OP_GET_DATA) {
            zkp_w_buffer(&w, s->data_len < 0 ? NULL : s->data, (size_t)(s->data_len < 0 ? 0 : s->data_len));
            zkp_w_stat(&w, &s->stat);
        } else {
            zkp_w_vec_begin(&w);
            for (size_t k = 0; k < s->nstrs; k++)
                zkp_w_vec_path(&w, s->strs[k]);
            zkp_w_vec_end(&w);
        }
    }
    zkp_w_multi_done(&w);
    assert_int_equal(zkp_w_end(&w), 0);
}

static void enc_whoami(zk_buf *out, const struct zkp_cap_rep *r)
{
    reg_auth ids[8];
    assert_true(r->nacl <= 8);
    for (size_t i = 0; i < r->nacl; i++) {
        ids[i].scheme = r->acl[i].scheme;
        ids[i].id = r->acl[i].id;
    }
    assert_int_equal(zkp_reply_whoami(out, r->xid, r->zxid, ids, r->nacl), 0);
}

static int enc_simple(zk_buf *out, const struct zkp_cap_rep *r)
{
    const void *data = r->data_len < 0 ? NULL : r->data;
    size_t len = r->data_len < 0 ? 0 : (size_t)r->data_len;
    switch (r->kind) {
    case ZKP_CAP_HEADER:
        return zkp_reply_header(out, r->xid, r->zxid, reg_of(r->err));
    case ZKP_CAP_PATH:
        return zkp_reply_path(out, r->xid, r->zxid, r->path);
    case ZKP_CAP_CREATE2:
        return zkp_reply_create2(out, r->xid, r->zxid, r->path, &r->stat);
    case ZKP_CAP_STAT:
        return zkp_reply_stat(out, r->xid, r->zxid, &r->stat);
    case ZKP_CAP_DATA:
        return zkp_reply_data(out, r->xid, r->zxid, data, len, &r->stat);
    case ZKP_CAP_ACL:
        return zkp_reply_acl(out, r->xid, r->zxid, r->acl, r->nacl, &r->stat);
    case ZKP_CAP_STRINGS:
        return zkp_reply_strings(out, r->xid, r->zxid, r->strs, r->nstrs, NULL);
    case ZKP_CAP_STRINGS_STAT:
        return zkp_reply_strings(out, r->xid, r->zxid, r->strs, r->nstrs, &r->stat);
    case ZKP_CAP_INT:
        return zkp_reply_int(out, r->xid, r->zxid, r->ival);
    case ZKP_CAP_EVENT:
        return zkp_reply_event(out, r->zxid, r->ival, r->state, r->path);
    case ZKP_CAP_SASL:
        return r->zxid == 0 ? zkp_reply_sasl(out, r->xid, data, len) : -1;
    default:
        return -1;
    }
}

static void enc_connect(zk_buf *out, const struct zkp_cap *c)
{
    zkp_connect cr;
    assert_int_equal(zkp_connect_decode((const uint8_t *)c->req + 4, c->req_len - 4, &cr), 0);
    const uint8_t *pw = c->r.session ? (const uint8_t *)c->r.data : NULL;
    assert_int_equal(c->r.data_len, ZKP_PASSWD_LEN);
    assert_int_equal(zkp_connect_reply(out, &cr, c->r.timeout, c->r.session, pw,
                                       c->r.ro), 0);
}

/* Encodes the reply of c from its values; false when it cannot be. */
static bool enc_cap(zk_buf *out, const struct zkp_cap *c)
{
    const struct zkp_cap_rep *r = &c->r;
    if (r->kind == ZKP_CAP_CONNECT) {
        enc_connect(out, c);
        return true;
    }
    if (r->kind == ZKP_CAP_HEADER && reg_of(r->err) == 1)
        return false; /* a code reg.h does not name */
    if (r->kind != ZKP_CAP_MULTI && r->kind != ZKP_CAP_MULTI_READ &&
        r->kind != ZKP_CAP_WHOAMI) {
        assert_int_equal(enc_simple(out, r), 0);
        return true;
    }
    if (r->kind == ZKP_CAP_WHOAMI) {
        enc_whoami(out, r);
        return true;
    }
    dec d;
    dec_run(&d, c->req + 4, c->req_len - 4);
    assert_int_equal(d.rc, 0);
    if (r->kind == ZKP_CAP_MULTI)
        enc_multi(out, r, &d.req);
    else
        enc_multi_read(out, r, &d.req);
    dec_free(&d);
    return true;
}

static void test_capture_replies(void **state)
{
    (void)state;
    size_t n = 0;
    for (size_t i = 0; i < zkp_ncaps; i++) {
        const struct zkp_cap *c = &zkp_caps[i];
        if (c->rep == NULL || c->r.kind == ZKP_CAP_NONE)
            continue;
        if (c->req && c->summary == NULL && c->rep_len != 20)
            continue; /* a body ZooKeeper accepted and we refuse (trailing bytes) */
        zk_buf out;
        zk_buf_init(&out, 0);
        if (enc_cap(&out, c)) {
            if (out.len != c->rep_len || memcmp(out.data, c->rep, out.len) != 0)
                print_error("%s\n", c->name);
            assert_bytes(&out, c->rep, c->rep_len);
            n++;
        }
        zk_buf_free(&out);
    }
    assert_true(n > 90);
}

/* Every captured write goes through zkp_request_to_op: the ones ZooKeeper
 * carried out convert, the ones it refused for their arguments before
 * looking at the tree (bad CreateMode, a client's deleteContainer, a
 * reconfig) become refused ops with its error; an empty ACL is left to the
 * registry. */
static void test_capture_to_op(void **state)
{
    (void)state;
    size_t ok = 0, refused = 0, empty_acl = 0;
    for (size_t i = 0; i < zkp_ncaps; i++) {
        const struct zkp_cap *c = &zkp_caps[i];
        if (!c->req || !c->summary || !c->rep || c->r.kind == ZKP_CAP_CONNECT ||
            c->r.kind == ZKP_CAP_NONE)
            continue;
        dec d;
        dec_run(&d, c->req + 4, c->req_len - 4);
        const zkp_opinfo *info = zkp_op_info(d.req.type);
        if (d.rc == 0 && info && (info->flags & ZKP_F_WRITE)) {
            reg_op op;
            assert_int_equal(zkp_request_to_op(&d.req, &d.arena, &op), 0);
            if (c->r.err == -8 || c->r.err == -123) {
                assert_int_equal(op.refused, REG_ZKERR(c->r.err));
                refused++;
            } else if (c->r.err == -114) {
                assert_int_equal(op.refused, 0);
                assert_true(op.acl != NULL && op.acl_count == 0);
                empty_acl++;
            } else {
                assert_int_equal(op.refused, 0);
                ok++;
            }
        }
        dec_free(&d);
    }
    assert_true(ok > 30);
    assert_int_equal(refused + empty_acl, 4);
    assert_true(refused > 0 && empty_acl > 0);
}

static void test_capture_4lw(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int cmd;
    } want[] = {{"4lw-ruok", ZKP_4LW_RUOK}, {"4lw-srvr", ZKP_4LW_SRVR},
                {"4lw-isro", ZKP_4LW_ISRO}, {"4lw-wchc", ZKP_4LW_OTHER}};
    size_t found = 0;
    for (size_t i = 0; i < zkp_ncaps; i++)
        for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++)
            if (strcmp(zkp_caps[i].name, want[k].name) == 0) {
                assert_int_equal(zkp_caps[i].req_len, 4);
                assert_int_equal(zkp_is_4lw((const uint8_t *)zkp_caps[i].req), want[k].cmd);
                found++;
            }
    assert_int_equal(found, 4);
}

/* ---- a jute builder for hand-made frames ------------------------------- */

typedef struct jb {
    uint8_t b[1024];
    size_t n;
} jb;

static void jb_raw(jb *j, const void *p, size_t n)
{
    assert_true(j->n + n <= sizeof(j->b));
    memcpy(j->b + j->n, p, n);
    j->n += n;
}

static void jb_int(jb *j, int32_t v)
{
    uint8_t q[4] = {(uint8_t)((uint32_t)v >> 24), (uint8_t)((uint32_t)v >> 16),
                    (uint8_t)((uint32_t)v >> 8), (uint8_t)v};
    jb_raw(j, q, 4);
}

static void jb_long(jb *j, int64_t v)
{
    jb_int(j, (int32_t)(uint32_t)((uint64_t)v >> 32));
    jb_int(j, (int32_t)(uint32_t)(uint64_t)v);
}

static void jb_bool(jb *j, bool v)
{
    uint8_t q = v;
    jb_raw(j, &q, 1);
}

static void jb_str(jb *j, const char *s)
{
    if (s == NULL) {
        jb_int(j, -1);
        return;
    }
    jb_int(j, (int32_t)strlen(s));
    jb_raw(j, s, strlen(s));
}

static void jb_hdr(jb *j, int32_t xid, int32_t type)
{
    j->n = 0;
    jb_int(j, xid);
    jb_int(j, type);
}

static void jb_acl1(jb *j)
{
    jb_int(j, 1);
    jb_int(j, 31);
    jb_str(j, "world");
    jb_str(j, "anyone");
}

static void jb_mh(jb *j, int32_t type, bool done)
{
    jb_int(j, type);
    jb_bool(j, done);
    jb_int(j, -1);
}

/* Decodes j and compares with the summary text. */
static void expect(const jb *j, const char *want)
{
    dec d;
    dec_run(&d, j->b, j->n);
    if (d.rc != 0)
        print_error("%s: %s\n", want, zkp_strerror(d.rc));
    assert_int_equal(d.rc, 0);
    char *s = summarize(&d.req);
    assert_string_equal(s, want);
    free(s);
    dec_free(&d);
}

static void expect_rc(const jb *j, int rc)
{
    dec d;
    dec_run(&d, j->b, j->n);
    assert_int_equal(d.rc, rc);
    dec_free(&d);
}

/* ---- every request type, hand-built ------------------------------------ */

static void test_decode_paths(void **state)
{
    (void)state;
    jb j;
    static const int32_t path_only[] = {ZKP_OP_GET_ACL, ZKP_OP_SYNC, ZKP_OP_GET_EPHEMERALS,
                                        ZKP_OP_GET_ALL_CHILDREN_NUMBER};
    for (size_t i = 0; i < 4; i++) {
        char want[64];
        jb_hdr(&j, 3, path_only[i]);
        jb_str(&j, "/a/b");
        snprintf(want, sizeof(want), "%d path=/a/b", path_only[i]);
        expect(&j, want);
    }
    static const int32_t watched[] = {ZKP_OP_EXISTS, ZKP_OP_GET_DATA, ZKP_OP_GET_CHILDREN,
                                      ZKP_OP_GET_CHILDREN2};
    for (size_t i = 0; i < 4; i++) {
        char want[64];
        jb_hdr(&j, 3, watched[i]);
        jb_str(&j, "/w");
        jb_raw(&j, "\x02", 1); /* any nonzero byte is true, as in Java */
        snprintf(want, sizeof(want), "%d path=/w watch=1", watched[i]);
        expect(&j, want);
    }
    jb_hdr(&j, 4, ZKP_OP_CHECK);
    jb_str(&j, "/c");
    jb_int(&j, 7);
    expect(&j, "13 path=/c version=7");
    jb_hdr(&j, 4, ZKP_OP_DELETE);
    jb_str(&j, "/");
    jb_int(&j, -1);
    expect(&j, "2 path=/ version=-1");
    static const int32_t moded[] = {ZKP_OP_CHECK_WATCHES, ZKP_OP_REMOVE_WATCHES, ZKP_OP_ADD_WATCH};
    for (size_t i = 0; i < 3; i++) {
        char want[64];
        jb_hdr(&j, 5, moded[i]);
        jb_str(&j, "/m");
        jb_int(&j, 1);
        snprintf(want, sizeof(want), "%d path=/m mode=1", moded[i]);
        expect(&j, want);
    }
}

static void test_decode_writes(void **state)
{
    (void)state;
    jb j;
    static const int32_t creates[] = {ZKP_OP_CREATE, ZKP_OP_CREATE2, ZKP_OP_CREATE_CONTAINER};
    for (size_t i = 0; i < 3; i++) {
        char want[128];
        jb_hdr(&j, 1, creates[i]);
        jb_str(&j, "/n");
        jb_int(&j, -1); /* null data */
        jb_acl1(&j);
        jb_int(&j, 3);
        snprintf(want, sizeof(want), "%d path=/n data=null acl=[31:world:anyone] flags=3",
                 creates[i]);
        expect(&j, want);
    }
    jb_hdr(&j, 1, ZKP_OP_CREATE_TTL);
    jb_str(&j, "/t");
    jb_str(&j, "ab");
    jb_acl1(&j);
    jb_int(&j, 6);
    jb_long(&j, 1000);
    expect(&j, "21 path=/t data=6162 acl=[31:world:anyone] flags=6 ttl=1000");
    jb_hdr(&j, 2, ZKP_OP_SET_DATA);
    jb_str(&j, "/s");
    jb_str(&j, "");
    jb_int(&j, 4);
    expect(&j, "5 path=/s data= version=4");
    jb_hdr(&j, 2, ZKP_OP_SET_ACL);
    jb_str(&j, "/s");
    jb_int(&j, 0); /* empty ACL: decodes; zkp_request_to_op refuses it */
    jb_int(&j, -1);
    expect(&j, "7 path=/s acl=[] version=-1");
}

static void test_decode_session_ops(void **state)
{
    (void)state;
    jb j;
    jb_hdr(&j, ZKP_XID_PING, ZKP_OP_PING);
    expect(&j, "11");
    jb_hdr(&j, 9, ZKP_OP_CLOSE_SESSION);
    expect(&j, "-11");
    jb_hdr(&j, 9, ZKP_OP_WHO_AM_I);
    expect(&j, "107");
    jb_hdr(&j, ZKP_XID_AUTH, ZKP_OP_AUTH);
    jb_int(&j, 0);
    jb_str(&j, "digest");
    jb_str(&j, "u:p");
    expect(&j, "100 mode=0 scheme=digest data=753a70");
    jb_hdr(&j, 6, ZKP_OP_SASL);
    jb_str(&j, "tok");
    expect(&j, "102 token=746f6b");
    jb_hdr(&j, ZKP_XID_SET_WATCHES, ZKP_OP_SET_WATCHES);
    jb_long(&j, 0x1234);
    jb_int(&j, 2);
    jb_str(&j, "/d1");
    jb_str(&j, "/d2");
    jb_int(&j, -1); /* null vector */
    jb_int(&j, 0);
    expect(&j, "101 rel=4660 [/d1,/d2] [] []");
    jb_hdr(&j, ZKP_XID_SET_WATCHES, ZKP_OP_SET_WATCHES2);
    jb_long(&j, 1);
    jb_int(&j, 0);
    jb_int(&j, 1);
    jb_str(&j, "/e");
    jb_int(&j, 0);
    jb_int(&j, 1);
    jb_str(&j, "/p");
    jb_int(&j, 1);
    jb_str(&j, "/r");
    expect(&j, "105 rel=1 [] [/e] [] [/p] [/r]");
    jb_hdr(&j, 7, ZKP_OP_RECONFIG);
    jb_str(&j, NULL);
    jb_str(&j, "2");
    jb_str(&j, NULL);
    jb_long(&j, -1);
    expect(&j, "16 reconfig None 2 None -1");
}

static void test_decode_delete_container(void **state)
{
    (void)state;
    jb j;
    jb_hdr(&j, 8, ZKP_OP_DELETE_CONTAINER);
    jb_raw(&j, "/box", 4); /* ZooKeeper's format: the bare path bytes */
    expect(&j, "20 path=/box");
    jb_hdr(&j, 8, ZKP_OP_DELETE_CONTAINER);
    expect(&j, "20 path=");
}

static void test_decode_multi(void **state)
{
    (void)state;
    jb j;
    jb_hdr(&j, 9, ZKP_OP_MULTI);
    jb_mh(&j, ZKP_OP_CREATE_TTL, false);
    jb_str(&j, "/t");
    jb_str(&j, "");
    jb_acl1(&j);
    jb_int(&j, 5);
    jb_long(&j, 9);
    jb_mh(&j, ZKP_OP_CHECK, false);
    jb_str(&j, "/t");
    jb_int(&j, 0);
    jb_mh(&j, -1, true);
    expect(&j, "14 {21 path=/t data= acl=[31:world:anyone] flags=5 ttl=9} {13 path=/t version=0}");

    jb_hdr(&j, 9, ZKP_OP_MULTI); /* empty */
    jb_mh(&j, -1, true);
    expect(&j, "14");

    jb_hdr(&j, 9, ZKP_OP_MULTI); /* a read inside a write multi */
    jb_mh(&j, ZKP_OP_GET_DATA, false);
    jb_str(&j, "/t");
    jb_bool(&j, false);
    jb_mh(&j, -1, true);
    expect_rc(&j, ZKP_EMALFORMED);

    jb_hdr(&j, 9, ZKP_OP_MULTI_READ); /* a write inside multiRead */
    jb_mh(&j, ZKP_OP_DELETE, false);
    jb_str(&j, "/t");
    jb_int(&j, 0);
    jb_mh(&j, -1, true);
    expect_rc(&j, ZKP_EMALFORMED);

    jb_hdr(&j, 9, ZKP_OP_MULTI); /* multi inside multi, setACL inside multi */
    jb_mh(&j, ZKP_OP_MULTI, false);
    jb_mh(&j, -1, true);
    jb_mh(&j, -1, true);
    expect_rc(&j, ZKP_EMALFORMED);
    jb_hdr(&j, 9, ZKP_OP_MULTI);
    jb_mh(&j, ZKP_OP_SET_ACL, false);
    jb_str(&j, "/t");
    jb_int(&j, 0);
    jb_int(&j, 0);
    jb_mh(&j, -1, true);
    expect_rc(&j, ZKP_EMALFORMED);

    jb_hdr(&j, 9, ZKP_OP_MULTI); /* no closing header */
    jb_mh(&j, ZKP_OP_DELETE, false);
    jb_str(&j, "/t");
    jb_int(&j, 0);
    expect_rc(&j, ZKP_EMALFORMED);
}

/* ---- hostile input ----------------------------------------------------- */

static void test_frame_next(void **state)
{
    (void)state;
    uint8_t buf[16] = {0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o', 0xff};
    uint8_t *f = NULL;
    size_t n = 0;
    for (size_t k = 0; k < 9; k++)
        assert_int_equal(zkp_frame_next(buf, k, 100, &f, &n), ZKP_FRAME_MORE);
    assert_int_equal(zkp_frame_next(buf, 10, 100, &f, &n), ZKP_FRAME);
    assert_ptr_equal(f, buf + 4);
    assert_int_equal(n, 5);
    assert_int_equal(zkp_frame_next(buf, 9, 5, &f, &n), ZKP_FRAME); /* at the limit */
    assert_int_equal(zkp_frame_next(buf, 9, 4, &f, &n), ZKP_EFRAME);
    memcpy(buf, "\xff\xff\xff\xff", 4); /* -1 */
    assert_int_equal(zkp_frame_next(buf, 4, 100, &f, &n), ZKP_EFRAME);
    memcpy(buf, "\x80\x00\x00\x00", 4);
    assert_int_equal(zkp_frame_next(buf, 4, SIZE_MAX, &f, &n), ZKP_EFRAME);
    memcpy(buf, "\0\0\0\0", 4); /* an empty frame is a frame (no header: ESHORT) */
    assert_int_equal(zkp_frame_next(buf, 4, 100, &f, &n), ZKP_FRAME);
    assert_int_equal(n, 0);
    memcpy(buf, "ruok", 4); /* 1920298859 */
    assert_int_equal(zkp_frame_next(buf, 4, ZKP_MAX_FRAME_DEFAULT, &f, &n), ZKP_EFRAME);
}

static void test_bad_lengths(void **state)
{
    (void)state;
    jb j;
    static const int32_t lens[] = {-2, INT32_MIN, 3, 0x7fffffff};
    for (size_t i = 0; i < 4; i++) {
        jb_hdr(&j, 1, ZKP_OP_GET_DATA);
        jb_int(&j, lens[i]);
        jb_raw(&j, "/a\0", 3);
        expect_rc(&j, ZKP_EMALFORMED);
    }
    jb_hdr(&j, 1, ZKP_OP_GET_DATA); /* a null path */
    jb_int(&j, -1);
    jb_bool(&j, false);
    expect_rc(&j, ZKP_EMALFORMED);
    jb_hdr(&j, 1, ZKP_OP_AUTH); /* a null scheme */
    jb_int(&j, 0);
    jb_int(&j, -1);
    jb_int(&j, 0);
    expect_rc(&j, ZKP_EMALFORMED);
}

/* Vector counts the frame cannot hold fail before any allocation: even a
 * 16-byte arena answers EMALFORMED, not ENOSPACE. */
static void test_bad_counts(void **state)
{
    (void)state;
    jb j;
    static const int32_t counts[] = {0x7fffffff, 3, -2, INT32_MIN};
    for (size_t i = 0; i < 4; i++) {
        jb_hdr(&j, 1, ZKP_OP_SET_ACL); /* 27 bytes after the count: 2 ACLs at most */
        jb_str(&j, "/a");
        jb_int(&j, counts[i]);
        jb_int(&j, 31);
        jb_str(&j, "world");
        jb_str(&j, "anyone");
        jb_int(&j, 4);
        dec d;
        dec_run_cap(&d, j.b, j.n, 16);
        assert_int_equal(d.rc, ZKP_EMALFORMED);
        assert_int_equal(d.req.xid, 1);
        assert_int_equal(d.req.type, ZKP_OP_SET_ACL);
        assert_null(d.req.acl.v);
        assert_int_equal(d.arena.used, 0);
        dec_free(&d);
    }
    jb_hdr(&j, 1, ZKP_OP_SET_WATCHES); /* 3 paths announced, 2 sent */
    jb_long(&j, 0);
    jb_int(&j, 3);
    jb_str(&j, "/a");
    jb_str(&j, "/b");
    jb_int(&j, 0);
    jb_int(&j, 0);
    expect_rc(&j, ZKP_EMALFORMED);
    jb_hdr(&j, 1, ZKP_OP_CREATE); /* 2 ACLs announced, one sent */
    jb_str(&j, "/a");
    jb_int(&j, 0);
    jb_int(&j, 2);
    jb_int(&j, 31);
    jb_str(&j, "world");
    jb_str(&j, "anyone");
    jb_int(&j, 0);
    expect_rc(&j, ZKP_EMALFORMED);
}

/* Null ACL strings decode as NULL, as jute reads them: the registry's
 * fixupACL judges them as ZooKeeper's does (a null scheme is INVALIDACL, a
 * null id of "world" throws there: MARSHALLINGERROR, a null id of "auth",
 * which kazoo sends for CREATOR_ALL_ACL, is ignored). */
static void test_null_acl_strings(void **state)
{
    (void)state;
    static const char *const cases[][2] = {{NULL, "x"}, {"auth", NULL}, {NULL, NULL},
                                           {"world", NULL}};
    for (size_t i = 0; i < 4; i++) {
        jb j;
        jb_hdr(&j, 1, ZKP_OP_SET_ACL);
        jb_str(&j, "/a");
        jb_int(&j, 1);
        jb_int(&j, 31);
        jb_str(&j, cases[i][0]);
        jb_str(&j, cases[i][1]);
        jb_int(&j, 0);
        dec d;
        dec_run(&d, j.b, j.n);
        assert_int_equal(d.rc, 0);
        assert_int_equal(d.req.acl.n, 1);
        if (cases[i][0])
            assert_string_equal(d.req.acl.v[0].scheme, cases[i][0]);
        else
            assert_null(d.req.acl.v[0].scheme);
        if (cases[i][1])
            assert_string_equal(d.req.acl.v[0].id, cases[i][1]);
        else
            assert_null(d.req.acl.v[0].id);
        dec_free(&d);
    }
}

static void test_unknown_ops(void **state)
{
    (void)state;
    static const int32_t types[] = {0, 10, 23, 99, 108, -1, -10, -12, INT32_MAX, INT32_MIN};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        jb j;
        jb_hdr(&j, 77, types[i]);
        jb_str(&j, "/x");
        dec d;
        dec_run(&d, j.b, j.n);
        assert_int_equal(d.rc, ZKP_EUNKNOWN);
        assert_int_equal(d.req.xid, 77);
        assert_int_equal(d.req.type, types[i]);
        assert_null(d.req.path.s);
        assert_null(zkp_op_info(types[i]));
        dec_free(&d);
    }
    for (size_t k = 0; k < 8; k++) {
        dec d;
        dec_run(&d, "\0\0\0\1\0\0\0\4", k);
        assert_int_equal(d.rc, ZKP_ESHORT);
        assert_int_equal(d.req.xid, 0);
        dec_free(&d);
    }
}

static void test_op_table(void **state)
{
    (void)state;
    const zkp_opinfo *i = zkp_op_info(ZKP_OP_CREATE_TTL);
    assert_non_null(i);
    assert_string_equal(i->name, "createTTL");
    assert_true(i->flags & ZKP_F_WRITE);
    assert_true(i->flags & ZKP_F_MULTI);
    i = zkp_op_info(ZKP_OP_GET_CHILDREN);
    assert_true(i->flags & ZKP_F_MULTI_READ);
    assert_false(i->flags & ZKP_F_WRITE);
    i = zkp_op_info(ZKP_OP_SET_WATCHES2);
    assert_true(i->flags & ZKP_F_SESSION);
    assert_null(zkp_op_info(ZKP_OP_CREATE_SESSION));
}

static void test_nul_in_string(void **state)
{
    (void)state;
    jb j;
    jb_hdr(&j, 3, ZKP_OP_EXISTS);
    jb_int(&j, 4);
    jb_raw(&j, "/a\0b", 4);
    jb_bool(&j, true);
    dec d;
    dec_run(&d, j.b, j.n);
    assert_int_equal(d.rc, ZKP_ENULCHAR); /* complete, but BADARGUMENTS */
    assert_int_equal(d.req.path.len, 4);
    assert_true(d.req.watch);
    dec_free(&d);
    jb_hdr(&j, 3, ZKP_OP_EXISTS); /* a NUL and a truncation: malformed wins */
    jb_int(&j, 4);
    jb_raw(&j, "/a\0b", 4);
    expect_rc(&j, ZKP_EMALFORMED);
}

static void test_arena_too_small(void **state)
{
    (void)state;
    jb j;
    jb_hdr(&j, 1, ZKP_OP_SET_WATCHES);
    jb_long(&j, 0);
    jb_int(&j, 3);
    jb_str(&j, "/a");
    jb_str(&j, "/b");
    jb_str(&j, "/c");
    jb_int(&j, 0);
    jb_int(&j, 0);
    dec d;
    dec_run_cap(&d, j.b, j.n, sizeof(zkp_watches) + 16); /* not 3 pointers */
    assert_int_equal(d.rc, ZKP_ENOSPACE);
    assert_null(d.req.watches);
    dec_free(&d);
    dec_run_cap(&d, j.b, j.n, 0);
    assert_int_equal(d.rc, ZKP_ENOSPACE);
    dec_free(&d);
    dec_run(&d, j.b, j.n);
    assert_int_equal(d.rc, 0);
    assert_int_equal(d.req.watches->data.n, 3);
    assert_string_equal(d.req.watches->data.v[2], "/c");
    dec_free(&d);
}

/* The strings are NUL-terminated inside the frame, where they arrived. */
static void test_strings_in_place(void **state)
{
    (void)state;
    jb j;
    jb_hdr(&j, 1, ZKP_OP_SET_DATA);
    jb_str(&j, "/x/y");
    jb_str(&j, "DATA");
    jb_int(&j, 2);
    dec d;
    dec_run(&d, j.b, j.n);
    assert_int_equal(d.rc, 0);
    assert_ptr_equal(d.req.path.s, (const char *)d.frame + 8);
    assert_string_equal(d.req.path.s, "/x/y");
    assert_int_equal(d.req.path.len, 4);
    assert_ptr_equal(d.req.data.data, d.frame + 20);
    assert_memory_equal(d.req.data.data, "DATA", 4);
    assert_int_equal(d.req.version, 2);
    dec_free(&d);
}

static void test_connect_decode(void **state)
{
    (void)state;
    jb j;
    j.n = 0;
    jb_int(&j, 0);
    jb_long(&j, 0x10);
    jb_int(&j, 4000);
    jb_long(&j, 0x1122334455667788);
    jb_int(&j, 16);
    jb_raw(&j, "0123456789abcdef", 16);
    zkp_connect c;
    assert_int_equal(zkp_connect_decode(j.b, j.n, &c), 0); /* 3.4 C client */
    assert_false(c.has_read_only);
    assert_int_equal(c.last_zxid_seen, 0x10);
    assert_int_equal(c.timeout_ms, 4000);
    assert_int_equal(c.session_id, 0x1122334455667788);
    assert_int_equal(c.passwd.len, 16);
    jb_bool(&j, true);
    assert_int_equal(zkp_connect_decode(j.b, j.n, &c), 0);
    assert_true(c.has_read_only);
    assert_true(c.read_only);
    jb_bool(&j, true);
    assert_int_equal(zkp_connect_decode(j.b, j.n, &c), ZKP_EMALFORMED);
    assert_false(c.has_read_only);
    j.n = 24; /* passwd length 0x7fffffff */
    jb_int(&j, 0x7fffffff);
    assert_int_equal(zkp_connect_decode(j.b, j.n, &c), ZKP_EMALFORMED);
}

/* ---- conversion to registry ops ---------------------------------------- */

static void test_create_mode(void **state)
{
    (void)state;
    assert_int_equal(zkp_create_mode(0), 0);
    assert_int_equal(zkp_create_mode(1), REG_CREATE_EPHEMERAL);
    assert_int_equal(zkp_create_mode(2), REG_CREATE_SEQUENTIAL);
    assert_int_equal(zkp_create_mode(3), REG_CREATE_EPHEMERAL | REG_CREATE_SEQUENTIAL);
    assert_int_equal(zkp_create_mode(4), REG_CREATE_CONTAINER);
    assert_int_equal(zkp_create_mode(5), REG_CREATE_TTL);
    assert_int_equal(zkp_create_mode(6), REG_CREATE_TTL | REG_CREATE_SEQUENTIAL);
    assert_int_equal(zkp_create_mode(7), REG_EBADARGUMENTS);
    assert_int_equal(zkp_create_mode(-1), REG_EBADARGUMENTS);
    assert_int_equal(zkp_create_mode(INT32_MAX), REG_EBADARGUMENTS);
}

/* Converts a create; returns the conversion's error or the op's refusal. */
static int to_op(int32_t type, int32_t flags, int64_t ttl, bool acl, reg_op *op)
{
    jb j;
    jb_hdr(&j, 1, type);
    jb_str(&j, "/n");
    jb_str(&j, "v");
    if (acl)
        jb_acl1(&j);
    else
        jb_int(&j, 0);
    jb_int(&j, flags);
    if (type == ZKP_OP_CREATE_TTL)
        jb_long(&j, ttl);
    dec d;
    dec_run(&d, j.b, j.n);
    assert_int_equal(d.rc, 0);
    int rc = zkp_request_to_op(&d.req, &d.arena, op);
    if (rc == 0 && op->refused == 0)
        assert_string_equal(op->path, "/n");
    dec_free(&d);
    return rc ? rc : op->refused;
}

static void test_to_op_create(void **state)
{
    (void)state;
    reg_op op;
    assert_int_equal(to_op(ZKP_OP_CREATE, 3, 0, true, &op), 0);
    assert_int_equal(op.type, REG_OP_CREATE);
    assert_int_equal(op.create_flags, REG_CREATE_EPHEMERAL | REG_CREATE_SEQUENTIAL);
    assert_int_equal(op.data_len, 1);
    assert_false(op.data_null);
    assert_int_equal(op.acl_count, 1);
    assert_int_equal(op.ttl_ms, 0);
    /* a CreateTxn never makes a container: create and create2 with the
     * CONTAINER mode make a persistent node, as ZooKeeper 3.8 does */
    assert_int_equal(to_op(ZKP_OP_CREATE2, 4, 0, true, &op), 0);
    assert_int_equal(op.create_flags, 0);
    assert_int_equal(to_op(ZKP_OP_CREATE, 4, 0, true, &op), 0);
    assert_int_equal(op.create_flags, 0);
    assert_int_equal(to_op(ZKP_OP_CREATE_CONTAINER, 0, 0, true, &op), 0);
    assert_int_equal(op.create_flags, REG_CREATE_CONTAINER); /* the txn type wins */
    assert_int_equal(to_op(ZKP_OP_CREATE_CONTAINER, 1, 0, true, &op), 0);
    assert_int_equal(op.create_flags, REG_CREATE_CONTAINER);
    assert_int_equal(to_op(ZKP_OP_CREATE_CONTAINER, 3, 0, true, &op), 0);
    assert_int_equal(op.create_flags, REG_CREATE_CONTAINER | REG_CREATE_SEQUENTIAL);
    assert_int_equal(to_op(ZKP_OP_CREATE_CONTAINER, 5, 0, true, &op), REG_EBADARGUMENTS);
    assert_int_equal(to_op(ZKP_OP_CREATE_TTL, 6, 5000, true, &op), 0);
    assert_int_equal(op.create_flags, REG_CREATE_TTL | REG_CREATE_SEQUENTIAL);
    assert_int_equal(op.ttl_ms, 5000);
    assert_int_equal(to_op(ZKP_OP_CREATE_TTL, 5, 0xffffffffff, true, &op), 0);
    assert_int_equal(to_op(ZKP_OP_CREATE_TTL, 5, 0x10000000000, true, &op), REG_EBADARGUMENTS);
    assert_int_equal(to_op(ZKP_OP_CREATE_TTL, 5, 0, true, &op), REG_EBADARGUMENTS);
    assert_int_equal(to_op(ZKP_OP_CREATE_TTL, 5, -1, true, &op), REG_EBADARGUMENTS);
    assert_int_equal(to_op(ZKP_OP_CREATE_TTL, 0, 100, true, &op), REG_EBADARGUMENTS);
    assert_int_equal(to_op(ZKP_OP_CREATE_TTL, 0, -1, true, &op), REG_EBADARGUMENTS);
    assert_int_equal(to_op(ZKP_OP_CREATE, 5, 0, true, &op), REG_EBADARGUMENTS);
    assert_int_equal(to_op(ZKP_OP_CREATE, 7, 0, true, &op), REG_EBADARGUMENTS);
    assert_int_equal(op.type, REG_OP_CREATE); /* a refused op, for an error txn */
    assert_int_equal(to_op(ZKP_OP_CREATE, 9, 0, false, &op), REG_EBADARGUMENTS);
    /* an empty ACL is the registry's to refuse, after its own checks */
    assert_int_equal(to_op(ZKP_OP_CREATE, 0, 0, false, &op), 0);
    assert_non_null(op.acl);
    assert_int_equal(op.acl_count, 0);
}

static void test_to_op_others(void **state)
{
    (void)state;
    jb j;
    reg_op op;
    dec d;
    jb_hdr(&j, 1, ZKP_OP_SET_DATA);
    jb_str(&j, "/s");
    jb_int(&j, -1);
    jb_int(&j, 3);
    dec_run(&d, j.b, j.n);
    assert_int_equal(zkp_request_to_op(&d.req, &d.arena, &op), 0);
    assert_int_equal(op.type, REG_OP_SET_DATA);
    assert_null(op.data);
    assert_true(op.data_null); /* a null buffer: null data */
    assert_int_equal(op.version, 3);
    dec_free(&d);

    jb_hdr(&j, 1, ZKP_OP_SET_DATA);
    jb_str(&j, "/s");
    jb_int(&j, 0);
    jb_int(&j, 3);
    dec_run(&d, j.b, j.n);
    assert_int_equal(zkp_request_to_op(&d.req, &d.arena, &op), 0);
    assert_false(op.data_null); /* empty */
    assert_int_equal(op.data_len, 0);
    dec_free(&d);

    jb_hdr(&j, 1, ZKP_OP_SET_ACL);
    jb_str(&j, "/s");
    jb_acl1(&j);
    jb_int(&j, 2);
    dec_run(&d, j.b, j.n);
    assert_int_equal(zkp_request_to_op(&d.req, &d.arena, &op), 0);
    assert_int_equal(op.type, REG_OP_SET_ACL);
    assert_string_equal(op.acl[0].scheme, "world");
    assert_int_equal(op.acl[0].perms, REG_PERM_ALL);
    dec_free(&d);

    jb_hdr(&j, 1, ZKP_OP_SET_ACL);
    jb_str(&j, "/s");
    jb_int(&j, -1); /* null ACL vector: an empty list */
    jb_int(&j, 2);
    dec_run(&d, j.b, j.n);
    assert_int_equal(zkp_request_to_op(&d.req, &d.arena, &op), 0);
    assert_int_equal(op.refused, 0);
    assert_non_null(op.acl);
    assert_int_equal(op.acl_count, 0);
    dec_free(&d);

    jb_hdr(&j, 1, ZKP_OP_CLOSE_SESSION);
    dec_run(&d, j.b, j.n);
    assert_int_equal(zkp_request_to_op(&d.req, &d.arena, &op), 0);
    assert_int_equal(op.type, REG_OP_CLOSE_SESSION);
    dec_free(&d);

    jb_hdr(&j, 1, ZKP_OP_GET_DATA);
    jb_str(&j, "/s");
    jb_bool(&j, false);
    dec_run(&d, j.b, j.n);
    assert_int_equal(zkp_request_to_op(&d.req, &d.arena, &op), REG_EUNIMPLEMENTED);
    dec_free(&d);

    jb_hdr(&j, 1, ZKP_OP_DELETE_CONTAINER);
    jb_raw(&j, "/c", 2);
    dec_run(&d, j.b, j.n);
    assert_int_equal(zkp_request_to_op(&d.req, &d.arena, &op), 0);
    assert_int_equal(op.type, REG_OP_DELETE);
    assert_int_equal(op.refused, REG_EBADARGUMENTS);
    dec_free(&d);

    jb_hdr(&j, 1, ZKP_OP_RECONFIG); /* a write ZooKeeper numbers, then refuses */
    jb_str(&j, NULL);
    jb_str(&j, NULL);
    jb_str(&j, "server.1=x");
    jb_long(&j, -1);
    dec_run(&d, j.b, j.n);
    assert_int_equal(d.rc, 0);
    assert_true(zkp_op_info(ZKP_OP_RECONFIG)->flags & ZKP_F_WRITE);
    assert_int_equal(zkp_request_to_op(&d.req, &d.arena, &op), 0);
    assert_int_equal(op.refused, REG_ERECONFIGDISABLED);
    dec_free(&d);
    /* but one that does not decode is refused before its zxid */
    assert_int_equal(zkp_request_refusal(ZKP_OP_RECONFIG, REG_EMARSHALLINGERROR, &op),
                     REG_EUNIMPLEMENTED);

    /* the refused op of a body that did not decode */
    assert_int_equal(zkp_request_refusal(ZKP_OP_CREATE_TTL, REG_EMARSHALLINGERROR, &op), 0);
    assert_int_equal(op.type, REG_OP_CREATE);
    assert_int_equal(op.refused, REG_EMARSHALLINGERROR);
    assert_int_equal(zkp_request_refusal(ZKP_OP_MULTI, REG_EMARSHALLINGERROR, &op), 0);
    assert_int_equal(op.type, REG_OP_MULTI);
    assert_int_equal(zkp_request_refusal(ZKP_OP_SET_ACL, REG_EBADARGUMENTS, &op), 0);
    assert_int_equal(op.type, REG_OP_SET_ACL);
    assert_int_equal(zkp_request_refusal(ZKP_OP_DELETE_CONTAINER, REG_EBADARGUMENTS, &op), 0);
    assert_int_equal(op.type, REG_OP_DELETE);
    assert_int_equal(zkp_request_refusal(ZKP_OP_CLOSE_SESSION, REG_EMARSHALLINGERROR, &op),
                     REG_EUNIMPLEMENTED);
    assert_int_equal(zkp_request_refusal(ZKP_OP_GET_DATA, REG_EMARSHALLINGERROR, &op),
                     REG_EUNIMPLEMENTED);
    assert_int_equal(zkp_request_refusal(ZKP_OP_CREATE, -EINVAL, &op), -EINVAL);
}

static void build_multi(jb *j, int32_t bad_flags)
{
    jb_hdr(j, 4, ZKP_OP_MULTI);
    jb_mh(j, ZKP_OP_CREATE, false);
    jb_str(j, "/m");
    jb_str(j, "d");
    jb_acl1(j);
    jb_int(j, 0);
    jb_mh(j, ZKP_OP_SET_DATA, false);
    jb_str(j, "/m");
    jb_str(j, "e");
    jb_int(j, 0);
    jb_mh(j, ZKP_OP_CREATE2, false);
    jb_str(j, "/m/k");
    jb_str(j, "");
    jb_acl1(j);
    jb_int(j, bad_flags);
    jb_mh(j, ZKP_OP_CHECK, false);
    jb_str(j, "/m");
    jb_int(j, 1);
    jb_mh(j, ZKP_OP_DELETE, false);
    jb_str(j, "/m/k");
    jb_int(j, -1);
    jb_mh(j, -1, true);
}

/* One create sub-op (opcode type, CreateMode flags, ttl for createTTL) in a
 * multi: the sub-op's type after decoding, and its conversion. */
static int32_t multi_create(int32_t type, int32_t flags, int64_t ttl, reg_op *sub)
{
    jb j;
    reg_op op;
    dec d;
    jb_hdr(&j, 4, ZKP_OP_MULTI);
    jb_mh(&j, type, false);
    jb_str(&j, "/m");
    jb_int(&j, -1);
    jb_acl1(&j);
    jb_int(&j, flags);
    if (type == ZKP_OP_CREATE_TTL)
        jb_long(&j, ttl);
    jb_mh(&j, -1, true);
    dec_run(&d, j.b, j.n);
    assert_int_equal(d.rc, 0);
    assert_int_equal(d.req.nops, 1);
    int32_t got = d.req.ops[0].type;
    assert_int_equal(zkp_request_to_op(&d.req, &d.arena, &op), 0);
    assert_int_equal(op.refused, 0);
    *sub = op.ops[0];
    sub->path = NULL; /* it pointed into the frame */
    sub->acl = NULL;
    dec_free(&d);
    return got;
}

static void test_to_op_multi(void **state)
{
    (void)state;
    jb j;
    reg_op op;
    dec d;
    build_multi(&j, 1);
    dec_run(&d, j.b, j.n);
    assert_int_equal(d.rc, 0);
    assert_int_equal(zkp_request_to_op(&d.req, &d.arena, &op), 0);
    assert_int_equal(op.type, REG_OP_MULTI);
    assert_int_equal(op.refused, 0);
    assert_int_equal(op.nops, 5);
    assert_int_equal(op.ops[0].type, REG_OP_CREATE);
    assert_int_equal(op.ops[1].type, REG_OP_SET_DATA);
    assert_int_equal(op.ops[2].create_flags, REG_CREATE_EPHEMERAL);
    assert_string_equal(op.ops[2].path, "/m/k");
    assert_int_equal(op.ops[3].type, REG_OP_CHECK);
    assert_int_equal(op.ops[3].version, 1);
    assert_int_equal(op.ops[4].type, REG_OP_DELETE);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(op.ops[i].refused, 0);
    dec_free(&d);

    /* a bad CreateMode fails its sub-op at its place, in the registry */
    build_multi(&j, 12);
    dec_run(&d, j.b, j.n);
    assert_int_equal(zkp_request_to_op(&d.req, &d.arena, &op), 0);
    assert_int_equal(op.nops, 5);
    assert_int_equal(op.ops[1].refused, 0);
    assert_int_equal(op.ops[2].type, REG_OP_CREATE);
    assert_int_equal(op.ops[2].refused, REG_EBADARGUMENTS);
    assert_int_equal(op.ops[3].refused, 0);
    dec_free(&d);

    /* MultiOperationRecord's Op.create: the mode decides the type */
    reg_op sub;
    assert_int_equal(multi_create(ZKP_OP_CREATE2, 0, 0, &sub), ZKP_OP_CREATE);
    assert_int_equal(multi_create(ZKP_OP_CREATE, 4, 0, &sub), ZKP_OP_CREATE_CONTAINER);
    assert_int_equal(sub.create_flags, REG_CREATE_CONTAINER);
    assert_true(sub.data_null);
    assert_int_equal(multi_create(ZKP_OP_CREATE_CONTAINER, 0, 0, &sub), ZKP_OP_CREATE);
    assert_int_equal(sub.create_flags, 0);
    assert_int_equal(multi_create(ZKP_OP_CREATE_CONTAINER, 1, 0, &sub), ZKP_OP_CREATE);
    assert_int_equal(sub.create_flags, REG_CREATE_EPHEMERAL);
    assert_int_equal(multi_create(ZKP_OP_CREATE_CONTAINER, 9, 0, &sub), ZKP_OP_CREATE);
    assert_int_equal(sub.refused, REG_EBADARGUMENTS);
    assert_int_equal(multi_create(ZKP_OP_CREATE_TTL, 0, 100, &sub), ZKP_OP_CREATE);
    assert_int_equal(sub.refused, 0); /* the ttl is dropped */
    assert_int_equal(sub.ttl_ms, 0);
    assert_int_equal(multi_create(ZKP_OP_CREATE_TTL, 4, 100, &sub), ZKP_OP_CREATE_CONTAINER);
    assert_int_equal(multi_create(ZKP_OP_CREATE_TTL, 6, 100, &sub), ZKP_OP_CREATE_TTL);
    assert_int_equal(sub.create_flags, REG_CREATE_TTL | REG_CREATE_SEQUENTIAL);
    assert_int_equal(sub.ttl_ms, 100);
    assert_int_equal(multi_create(ZKP_OP_CREATE_TTL, 5, 0, &sub), ZKP_OP_CREATE_TTL);
    assert_int_equal(sub.refused, REG_EBADARGUMENTS);
    /* a create with a TTL mode: ZooKeeper cannot cast it, the multi fails */
    assert_int_equal(multi_create(ZKP_OP_CREATE, 5, 0, &sub), ZKP_OP_CREATE);
    assert_int_equal(sub.refused, REG_EMARSHALLINGERROR);
    assert_int_equal(multi_create(ZKP_OP_CREATE2, 6, 0, &sub), ZKP_OP_CREATE);
    assert_int_equal(sub.refused, REG_EMARSHALLINGERROR);

    /* a NUL byte fails its own sub-op only */
    jb_hdr(&j, 4, ZKP_OP_MULTI);
    jb_mh(&j, ZKP_OP_DELETE, false);
    jb_str(&j, "/a");
    jb_int(&j, -1);
    jb_mh(&j, ZKP_OP_DELETE, false);
    jb_raw(&j, "\0\0\0\3/\0b", 7);
    jb_int(&j, -1);
    jb_mh(&j, -1, true);
    dec_run(&d, j.b, j.n);
    assert_int_equal(d.rc, 0);
    assert_int_equal(zkp_request_to_op(&d.req, &d.arena, &op), 0);
    assert_int_equal(op.ops[0].refused, 0);
    assert_int_equal(op.ops[1].refused, REG_EBADARGUMENTS);
    dec_free(&d);
}

/* ---- encoders, hand-computed ------------------------------------------- */

static const reg_stat st1 = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
#define ST1_BYTES                                                           \
    0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, \
    0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 0, 7, 0, 0, 0, 0, \
    0, 0, 0, 8, 0, 0, 0, 9, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 11

static void test_encode_basic(void **state)
{
    (void)state;
    zk_buf out;
    zk_buf_init(&out, 0);
    assert_int_equal(zkp_reply_header(&out, 5, 0x102, REG_ENONODE), 0);
    static const uint8_t hdr[] = {0, 0, 0, 16, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 1, 2,
                                  0xff, 0xff, 0xff, 0x9b};
    assert_bytes(&out, hdr, sizeof(hdr));
    out.len = 0;
    assert_int_equal(zkp_reply_header(&out, ZKP_XID_PING, 7, -ENOMEM), 0); /* SYSTEMERROR */
    static const uint8_t ping[] = {0, 0, 0, 16, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0, 0, 0, 0, 7,
                                   0xff, 0xff, 0xff, 0xff};
    assert_bytes(&out, ping, sizeof(ping));
    out.len = 0;
    assert_int_equal(zkp_reply_stat(&out, 1, 2, &st1), 0);
    static const uint8_t stat[] = {0, 0, 0, 84, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2,
                                   0, 0, 0, 0, ST1_BYTES};
    assert_bytes(&out, stat, sizeof(stat));
    out.len = 0;
    assert_int_equal(zkp_reply_data(&out, 1, 2, NULL, 0, &st1), 0);
    static const uint8_t nulldata[] = {0, 0, 0, 88, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2,
                                       0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, ST1_BYTES};
    assert_bytes(&out, nulldata, sizeof(nulldata));
    out.len = 0;
    assert_int_equal(zkp_reply_event(&out, -1, REG_EVENT_CHILDREN, ZKP_STATE_SYNC_CONNECTED, "/a"), 0);
    static const uint8_t ev[] = {0, 0, 0, 30, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 3,
                                 0, 0, 0, 2, '/', 'a'};
    assert_bytes(&out, ev, sizeof(ev));
    zk_buf_free(&out);
}

static void test_encode_vectors(void **state)
{
    (void)state;
    zk_buf out;
    zk_buf_init(&out, 0);
    static const char *const kids[] = {"x", ""};
    assert_int_equal(zkp_reply_strings(&out, 9, 1, kids, 2, NULL), 0);
    static const uint8_t ch[] = {0, 0, 0, 29, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0,
                                 0, 0, 0, 2, 0, 0, 0, 1, 'x', 0, 0, 0, 0};
    assert_bytes(&out, ch, sizeof(ch));
    out.len = 0;
    assert_int_equal(zkp_reply_strings(&out, 9, 1, NULL, 0, &st1), 0);
    static const uint8_t ch2[] = {0, 0, 0, 88, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0,
                                  0, 0, 0, 0, ST1_BYTES};
    assert_bytes(&out, ch2, sizeof(ch2));
    out.len = 0;
    assert_int_equal(zkp_reply_whoami(&out, 3, 4, NULL, 0), 0);
    static const uint8_t who[] = {0, 0, 0, 20, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0,
                                  0, 0, 0, 0};
    assert_bytes(&out, who, sizeof(who));
    out.len = 0;
    static const reg_acl acl[] = {{REG_PERM_READ, "ip", "10.0.0.1"}};
    assert_int_equal(zkp_reply_acl(&out, 3, 4, acl, 1, &st1), 0);
    static const uint8_t ga[] = {0, 0, 0, 110, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0,
                                 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 'i', 'p', 0, 0, 0, 8,
                                 '1', '0', '.', '0', '.', '0', '.', '1', ST1_BYTES};
    assert_bytes(&out, ga, sizeof(ga));
    zk_buf_free(&out);
}

static void test_encode_connect(void **state)
{
    (void)state;
    zk_buf out;
    zk_buf_init(&out, 0);
    zkp_connect c34 = {.has_read_only = false};
    zkp_connect c35 = {.has_read_only = true};
    static const uint8_t pw[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    assert_int_equal(zkp_connect_reply(&out, &c34, 4000, 0x0100000000000001, pw, false), 0);
    static const uint8_t r34[] = {0, 0, 0, 36, 0, 0, 0, 0, 0, 0, 0x0f, 0xa0,
                                  1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 16,
                                  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    assert_bytes(&out, r34, sizeof(r34));
    out.len = 0;
    assert_int_equal(zkp_connect_reply(&out, &c35, 0, 0, NULL, true), 0);
    static const uint8_t r35[] = {0, 0, 0, 37, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                  0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                  1};
    assert_bytes(&out, r35, sizeof(r35));
    zk_buf_free(&out);
}

/* ---- the writer -------------------------------------------------------- */

static void test_writer_limits(void **state)
{
    (void)state;
    zk_buf out;
    zk_buf_init(&out, 64);
    assert_int_equal(zkp_reply_int(&out, 1, 1, 42), 0);
    size_t before = out.len;
    static const char big[100];
    assert_int_equal(zkp_reply_data(&out, 2, 2, big, sizeof(big), &st1), -ENOBUFS);
    assert_int_equal(out.len, before); /* the earlier frame is intact */
    assert_int_equal(out.data[out.len], '\0');
    zk_buf_free(&out);

    zk_buf_init(&out, 0);
    zkp_writer w;
    zkp_w_begin(&w, &out, 1, 1, 0);
    zkp_w_vec_end(&w); /* no vector open */
    assert_int_equal(zkp_w_end(&w), -EINVAL);
    assert_int_equal(out.len, 0);
    zkp_w_begin(&w, &out, 1, 1, 0);
    zkp_w_vec_path(&w, "x"); /* an element outside a vector */
    assert_int_equal(zkp_w_end(&w), -EINVAL);
    zkp_w_begin(&w, &out, 1, 1, 0);
    zkp_w_vec_begin(&w); /* left open */
    assert_int_equal(zkp_w_end(&w), -EINVAL);
    assert_int_equal(out.len, 0);
    zk_buf_free(&out);
}

/* A multiRead whose children read fails after its header went out. */
static void test_writer_rewind(void **state)
{
    (void)state;
    zk_buf out;
    zk_buf_init(&out, 0);
    zkp_writer w;
    zkp_w_begin(&w, &out, 6, 7, 0);
    size_t mark = zkp_w_mark(&w);
    assert_true(zkp_w_multi_op(&w, ZKP_OP_GET_CHILDREN, 0));
    zkp_w_vec_begin(&w);
    zkp_w_vec_name(&w, "abc", 3);
    zkp_w_rewind(&w, mark);
    assert_false(zkp_w_multi_op(&w, ZKP_OP_GET_CHILDREN, REG_ENONODE));
    zkp_w_multi_done(&w);
    assert_int_equal(zkp_w_end(&w), 0);
    static const uint8_t want[] = {0, 0, 0, 38, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0,
                                   0xff, 0xff, 0xff, 0xff, 0, 0xff, 0xff, 0xff, 0x9b,
                                   0xff, 0xff, 0xff, 0x9b,
                                   0xff, 0xff, 0xff, 0xff, 1, 0xff, 0xff, 0xff, 0xff};
    assert_bytes(&out, want, sizeof(want));
    zkp_w_begin(&w, &out, 1, 1, 0);
    zkp_w_int(&w, 5);
    zkp_w_abort(&w);
    assert_bytes(&out, want, sizeof(want));
    zk_buf_free(&out);
}

static void test_reply_multi_checks(void **state)
{
    (void)state;
    zkp_request req;
    reg_result res;
    zk_buf out;
    memset(&req, 0, sizeof(req));
    memset(&res, 0, sizeof(res));
    zk_buf_init(&out, 0);
    res.nsub = 1;
    assert_int_equal(zkp_reply_multi(&out, 1, 1, &req, &res), -EINVAL);
    res.nsub = 0;
    assert_int_equal(zkp_reply_multi(&out, 1, 1, &req, &res), 0); /* empty multi */
    static const uint8_t empty[] = {0, 0, 0, 25, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0,
                                    0xff, 0xff, 0xff, 0xff, 1, 0xff, 0xff, 0xff, 0xff};
    assert_bytes(&out, empty, sizeof(empty));
    zk_buf_free(&out);
}

/* ---- four-letter words ------------------------------------------------- */

static void test_4lw(void **state)
{
    (void)state;
    static const char *const words[] = {"ruok", "srvr", "stat", "mntr", "cons",
                                        "wchs", "envi", "conf", "dump", "isro"};
    for (size_t i = 0; i < 10; i++) {
        int cmd = zkp_is_4lw((const uint8_t *)words[i]);
        assert_int_not_equal(cmd, ZKP_4LW_NONE);
        assert_int_not_equal(cmd, ZKP_4LW_OTHER);
        assert_string_equal(zkp_4lw_name(cmd), words[i]);
    }
    assert_int_equal(zkp_is_4lw((const uint8_t *)"crst"), ZKP_4LW_OTHER);
    assert_int_equal(zkp_is_4lw((const uint8_t *)"hash"), ZKP_4LW_OTHER);
    assert_int_equal(zkp_is_4lw((const uint8_t *)"RUOK"), ZKP_4LW_NONE);
    assert_int_equal(zkp_is_4lw((const uint8_t *)"\0\0\0\x2d"), ZKP_4LW_NONE);
    assert_string_equal(zkp_4lw_name(ZKP_4LW_OTHER), "");
    assert_string_equal(zkp_4lw_name(ZKP_4LW_NONE), "");
}

static void test_strerror(void **state)
{
    (void)state;
    static const int errs[] = {ZKP_EFRAME, ZKP_ESHORT, ZKP_EUNKNOWN, ZKP_EMALFORMED,
                               ZKP_ENULCHAR, ZKP_ENOSPACE, REG_ENONODE};
    for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
        assert_true(strlen(zkp_strerror(errs[i])) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capture_requests),
        cmocka_unit_test(test_capture_trailing_refused),
        cmocka_unit_test(test_capture_truncated),
        cmocka_unit_test(test_capture_garbage_after),
        cmocka_unit_test(test_capture_replies),
        cmocka_unit_test(test_capture_to_op),
        cmocka_unit_test(test_capture_4lw),
        cmocka_unit_test(test_decode_paths),
        cmocka_unit_test(test_decode_writes),
        cmocka_unit_test(test_decode_session_ops),
        cmocka_unit_test(test_decode_delete_container),
        cmocka_unit_test(test_decode_multi),
        cmocka_unit_test(test_frame_next),
        cmocka_unit_test(test_bad_lengths),
        cmocka_unit_test(test_bad_counts),
        cmocka_unit_test(test_null_acl_strings),
        cmocka_unit_test(test_unknown_ops),
        cmocka_unit_test(test_op_table),
        cmocka_unit_test(test_nul_in_string),
        cmocka_unit_test(test_arena_too_small),
        cmocka_unit_test(test_strings_in_place),
        cmocka_unit_test(test_connect_decode),
        cmocka_unit_test(test_create_mode),
        cmocka_unit_test(test_to_op_create),
        cmocka_unit_test(test_to_op_others),
        cmocka_unit_test(test_to_op_multi),
        cmocka_unit_test(test_encode_basic),
        cmocka_unit_test(test_encode_vectors),
        cmocka_unit_test(test_encode_connect),
        cmocka_unit_test(test_writer_limits),
        cmocka_unit_test(test_writer_rewind),
        cmocka_unit_test(test_reply_multi_checks),
        cmocka_unit_test(test_4lw),
        cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
