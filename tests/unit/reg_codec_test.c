/*
 * reg_codec_test.c - txn encode/decode and snapshots: round trips, replay
 * of decoded txns giving the same tree as the live pipeline, recovery
 * (snapshot + log + reg_recover_finish), and hostile input: random bytes,
 * every truncation, bit flips (decoded survivors are applied too).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "reg_fixture.h"

/* ---- helpers ----------------------------------------------------------------- */

struct mem {
    uint8_t *p;
    size_t len, cap, off;
    long fail_after; /* write: fail once this many calls succeeded; -1 never */
};

static int mem_write(void *ctx, const void *p, size_t n)
{
    struct mem *m = ctx;
    if (m->fail_after == 0)
        return -EIO;
    if (m->fail_after > 0)
        m->fail_after--;
    if (m->len + n > m->cap) {
        m->cap = (m->len + n) * 2;
        m->p = realloc(m->p, m->cap);
        assert_non_null(m->p);
    }
    memcpy(m->p + m->len, p, n);
    m->len += n;
    return 0;
}

static int mem_read(void *ctx, void *p, size_t n)
{
    struct mem *m = ctx;
    if (n > m->len - m->off)
        return -ENODATA;
    memcpy(p, m->p + m->off, n);
    m->off += n;
    return 0;
}

static struct mem snapshot(reg_t *reg)
{
    struct mem m = {0};
    m.fail_after = -1;
    assert_int_equal(reg_snapshot_write(reg, mem_write, &m), 0);
    return m;
}

/* A canonical text dump of the tree: paths, stats, data, ACLs. */
struct dump {
    char *s;
    size_t len, cap;
};

__attribute__((format(printf, 2, 3)))
static void dprintf_(struct dump *d, const char *fmt, ...)
{
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap); /* long ACL ids: no fixed buffer */
    va_end(ap);
    assert_true(n >= 0);
    if (d->len + (size_t)n + 1 > d->cap) {
        d->cap = (d->len + (size_t)n + 1) * 2;
        d->s = realloc(d->s, d->cap);
        assert_non_null(d->s);
    }
    vsnprintf(d->s + d->len, (size_t)n + 1, fmt, again);
    va_end(again);
    d->len += (size_t)n;
}

static void dump_acl(void *ctx, const reg_acl *a)
{
    dprintf_(ctx, " acl=%d:%s:%s", a->perms, a->scheme, a->id);
}

static void dump_node(reg_t *reg, const reg_node *n, char *path, size_t plen,
                      struct dump *d)
{
    reg_stat st;
    size_t dlen, nlen;
    const void *got;
    reg_node_stat(n, &st);
    const char *data = reg_node_data(n, &dlen);
    assert_int_equal(reg_get(reg, 0, plen ? path : "/", 0, &got, NULL, NULL), 0);
    dprintf_(d, "%s c=%lld m=%lld p=%lld ct=%lld mt=%lld v=%d cv=%d av=%d o=%llx n=%d d=%.*s%s",
             plen ? path : "/", (long long)st.czxid, (long long)st.mzxid,
             (long long)st.pzxid, (long long)st.ctime, (long long)st.mtime, st.version,
             st.cversion, st.aversion, (unsigned long long)st.ephemeral_owner,
             st.num_children, (int)dlen, data, got ? "" : " (null)");
    assert_int_equal(reg_get_acl(reg, 0, plen ? path : "/", NULL, dump_acl, d), 0);
    dprintf_(d, " sub=%lld\n", (long long)reg_subtree_zxid(reg, plen ? path : "/"));
    for (const reg_node *c = reg_node_first_child(n); c; c = reg_node_next_sibling(c)) {
        const char *name = reg_node_name(c, &nlen);
        path[plen] = '/';
        memcpy(path + plen + 1, name, nlen);
        path[plen + 1 + nlen] = '\0';
        dump_node(reg, c, path, plen + 1 + nlen, d);
        path[plen] = '\0';
    }
}

static char *dump_tree(reg_t *reg)
{
    struct dump d = {0};
    char path[4096] = "";
    dprintf_(&d, "zxid=%lld sessions=%zu nodes=%zu\n", (long long)reg_last_zxid(reg),
             reg_session_count(reg), reg_node_count(reg));
    dump_node(reg, reg_lookup(reg, "/"), path, 0, &d);
    return d.s;
}

/* A registry with a bit of everything, built through the pipeline; every
 * txn's encoding is kept in log (if non-NULL). */
struct log {
    uint8_t *buf[512];
    size_t len[512];
    int64_t zxid[512];
    size_t n;
};

static int logged(fx *f, int64_t s, const reg_op *op, struct log *log)
{
    reg_txn *t = NULL;
    int rc = reg_prepare(f->reg, s, op, f->now, &t);
    if (rc)
        return rc;
    if (log) {
        assert_true(log->n < 512);
        assert_int_equal(reg_txn_encode(t, &log->buf[log->n], &log->len[log->n]), 0);
        log->zxid[log->n++] = reg_txn_zxid(t);
    }
    return reg_commit(f->reg, t, NULL);
}

static int64_t new_session(fx *f, struct log *log, int64_t timeout, uint32_t flags)
{
    static const uint8_t pw[16] = "passwordpassword";
    reg_op op = {.type = REG_OP_CREATE_SESSION, .timeout_ms = timeout,
                 .session_flags = flags, .passwd = pw};
    reg_txn *t = fx_prep(f, 0, &op);
    int64_t id = reg_txn_session(t);
    if (log) {
        assert_int_equal(reg_txn_encode(t, &log->buf[log->n], &log->len[log->n]), 0);
        log->zxid[log->n++] = reg_txn_zxid(t);
    }
    assert_int_equal(reg_commit(f->reg, t, NULL), 0);
    return id;
}

static void populate(fx *f, struct log *log, int64_t *local_out)
{
    int64_t s = new_session(f, log, 30000, 0);
    int64_t local = new_session(f, log, 0, REG_SESSION_LOCAL);
    int64_t gone = new_session(f, log, 5000, 0);
    if (local_out)
        *local_out = local;
    reg_acl dig[] = {{REG_PERM_ALL, "digest", "bob:h"}, {REG_PERM_READ, "world", "anyone"}};
    reg_acl ip[] = {{REG_PERM_ALL, "ip", "10.0.0.0/8"}};
    reg_op ops[32];
    size_t n = 0;
    ops[n++] = fx_op_create("/services/web/a", "{\"x\":1}", REG_CREATE_PARENTS);
    ops[n] = fx_op_create("/acl", "secret", 0);
    ops[n].acl = dig, ops[n++].acl_count = 2;
    ops[n] = fx_op_create("/acl2", NULL, 0);
    ops[n].acl = ip, ops[n++].acl_count = 1;
    ops[n++] = fx_op_create("/c", NULL, REG_CREATE_CONTAINER);
    ops[n++] = fx_op_create("/c/k", NULL, 0);
    ops[n] = fx_op_create("/ttl", "t", REG_CREATE_TTL | REG_CREATE_SEQUENTIAL);
    ops[n++].ttl_ms = 60000;
    ops[n++] = fx_op_create("/q", NULL, 0);
    ops[n++] = fx_op_create("/q/x-", "1", REG_CREATE_SEQUENTIAL);
    ops[n++] = fx_op_create("/q/x-", "2", REG_CREATE_SEQUENTIAL);
    ops[n++] = fx_op_delete("/q/x-0000000000", -1);
    ops[n++] = fx_op_set("/services/web/a", "{\"x\":2}", 0);
    ops[n++] = fx_op_create("/nope/x", NULL, 0); /* error txn */
    ops[n] = fx_op_create("/null", NULL, 0);      /* null data, not empty */
    ops[n++].data_null = true;
    ops[n++] = fx_op_create("/empty", NULL, 0);
    ops[n++] = fx_op_create("/e2", "x", 0);
    ops[n] = fx_op_set("/e2", NULL, -1);
    ops[n++].data_null = true;
    ops[n++] = (reg_op){.type = REG_OP_CREATE, .refused = REG_EBADARGUMENTS};
    ops[n++] = (reg_op){.type = REG_OP_MULTI, .refused = REG_EMARSHALLINGERROR};
    for (size_t i = 0; i < n; i++) {
        f->now += 7;
        (void)logged(f, 0, &ops[i], log);
    }
    reg_op eph[] = {fx_op_create("/services/web/m-", "e", REG_CREATE_EPHEMERAL |
                                                         REG_CREATE_SEQUENTIAL),
                    fx_op_create("/services/web/loc", "l", REG_CREATE_EPHEMERAL)};
    assert_int_equal(logged(f, s, &eph[0], log), 0);
    assert_int_equal(logged(f, local, &eph[1], log), 0);
    eph[1].path = "/services/web/gone";
    assert_int_equal(logged(f, gone, &eph[1], log), 0);
    reg_op close = {.type = REG_OP_CLOSE_SESSION};
    assert_int_equal(logged(f, gone, &close, log), 0);
    reg_op sa = {.type = REG_OP_SET_ACL, .path = "/acl2", .acl = dig, .acl_count = 2,
                 .version = 0};
    assert_int_equal(logged(f, 0, &sa, log), 0);
    reg_op mops[] = {fx_op_create("/m", NULL, 0), fx_op_create("/m/n", NULL, 0),
                     fx_op_check("/q", 0)};
    reg_op multi = {.type = REG_OP_MULTI, .ops = mops, .nops = 3};
    assert_int_equal(logged(f, 0, &multi, log), 0);
    reg_op bad[] = {fx_op_create("/m2", NULL, 0), fx_op_delete("/zzz", -1)};
    reg_op mbad = {.type = REG_OP_MULTI, .ops = bad, .nops = 2};
    assert_int_equal(logged(f, 0, &mbad, log), REG_ENONODE);
    reg_op nops[] = {fx_op_create("/mn", NULL, 0), fx_op_set("/empty", NULL, -1),
                     {.type = REG_OP_CHECK, .refused = REG_EBADARGUMENTS}};
    nops[0].data_null = true;
    reg_op mnull = {.type = REG_OP_MULTI, .ops = nops, .nops = 3};
    assert_int_equal(logged(f, 0, &mnull, log), REG_EBADARGUMENTS);
    mnull.nops = 2;
    assert_int_equal(logged(f, 0, &mnull, log), 0);
}

static void log_free(struct log *log)
{
    for (size_t i = 0; i < log->n; i++)
        free(log->buf[i]);
    log->n = 0;
}

/* ---- txn codec -------------------------------------------------------------- */

static void test_txn_roundtrip_and_replay(void **state)
{
    (void)state;
    fx *a = fx_new();
    struct log log = {0};
    populate(a, &log, NULL);
    fx *b = fx_new();
    for (size_t i = 0; i < log.n; i++) {
        reg_txn *t = NULL;
        assert_int_equal(reg_txn_decode(log.buf[i], log.len[i], &t), 0);
        assert_int_equal(reg_txn_zxid(t), log.zxid[i]);
        uint8_t *again;
        size_t len;
        assert_int_equal(reg_txn_encode(t, &again, &len), 0);
        assert_int_equal(len, log.len[i]);
        assert_memory_equal(again, log.buf[i], len);
        free(again);
        reg_commit(b->reg, t, NULL);
    }
    char *da = dump_tree(a->reg), *db = dump_tree(b->reg);
    assert_string_equal(da, db);
    free(da);
    free(db);
    /* the watch and change hooks fired the same way */
    assert_int_equal(a->nch, b->nch);
    for (size_t i = 0; i < a->nch; i++) {
        assert_string_equal(a->ch[i].path, b->ch[i].path);
        assert_int_equal(a->ch[i].zxid, b->ch[i].zxid);
    }
    log_free(&log);
    fx_free(a);
    fx_free(b);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

/* Applies a decoded survivor to a scratch registry: must not crash. */
static void try_apply(fx *scratch, reg_txn *t)
{
    reg_result res = {0};
    reg_commit(scratch->reg, t, &res);
    reg_result_clear(&res);
}

/* Null data needs the version 2 format; a txn without it is written as
 * version 1, byte for byte as before, and a version 1 txn may not claim it. */
static void test_txn_null_data_version(void **state)
{
    (void)state;
    fx *f = fx_new();
    reg_op ops[] = {fx_op_create("/e", NULL, 0), fx_op_create("/n", NULL, 0),
                    fx_op_set("/e", NULL, -1)};
    ops[1].data_null = ops[2].data_null = true;
    uint8_t versions[3];
    for (int i = 0; i < 3; i++) {
        reg_txn *t = fx_prep(f, 0, &ops[i]), *d = NULL;
        uint8_t *buf;
        size_t len;
        assert_int_equal(reg_txn_encode(t, &buf, &len), 0);
        versions[i] = buf[1];
        assert_int_equal(reg_txn_decode(buf, len, &d), 0);
        reg_txn_free(d);
        if (buf[1] == 2) {
            buf[1] = 1;
            assert_int_equal(reg_txn_decode(buf, len, &d), -EINVAL);
        }
        free(buf);
        assert_int_equal(reg_commit(f->reg, t, NULL), 0);
    }
    assert_int_equal(versions[0], 1);
    assert_int_equal(versions[1], 2);
    assert_int_equal(versions[2], 2);
    fx_free(f);
}

static void test_txn_garbage(void **state)
{
    (void)state;
    fx *a = fx_new();
    fx *scratch = fx_new();
    struct log log = {0};
    populate(a, &log, NULL);
    uint8_t buf[512];
    reg_txn *t = NULL;
    for (int i = 0; i < 20000; i++) {
        size_t len = rnd() % sizeof(buf);
        for (size_t j = 0; j < len; j++)
            buf[j] = (uint8_t)rnd();
        if (i % 2)
            buf[0] = 'T', buf[1 % (len ? len : 1)] = 1; /* get past the magic */
        int rc = reg_txn_decode(buf, len, &t);
        assert_true(rc == 0 || rc == -EINVAL);
        if (rc == 0)
            try_apply(scratch, t);
    }
    assert_int_equal(reg_txn_decode(NULL, 0, &t), -EINVAL);
    assert_int_equal(reg_txn_decode(buf, 0, &t), -EINVAL);
    size_t survivors = 0;
    for (size_t k = 0; k < log.n; k++) {
        for (size_t cut = 0; cut < log.len[k]; cut++) {
            assert_int_equal(reg_txn_decode(log.buf[k], cut, &t), -EINVAL);
            assert_null(t);
        }
        uint8_t *m = malloc(log.len[k] + 1);
        memcpy(m, log.buf[k], log.len[k]);
        m[log.len[k]] = 0;
        assert_int_equal(reg_txn_decode(m, log.len[k] + 1, &t), -EINVAL);
        for (size_t bit = 0; bit < log.len[k] * 8; bit += 3) {
            m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            int rc = reg_txn_decode(m, log.len[k], &t);
            assert_true(rc == 0 || rc == -EINVAL);
            if (rc == 0) {
                survivors++;
                try_apply(scratch, t);
            }
            m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        free(m);
    }
    print_message("bit-flip survivors applied: %zu\n", survivors);
    log_free(&log);
    fx_free(a);
    fx_free(scratch);
}

/* ---- snapshots ------------------------------------------------------------------ */

static void test_snapshot_roundtrip(void **state)
{
    (void)state;
    fx *a = fx_new();
    populate(a, NULL, NULL);
    struct mem m = snapshot(a->reg);
    fx *b = fx_new();
    assert_int_equal(reg_snapshot_read(b->reg, mem_read, &m), 0);
    assert_int_equal(m.off, m.len);
    char *da = dump_tree(a->reg), *db = dump_tree(b->reg);
    assert_string_equal(da, db);
    free(da);
    free(db);
    /* the same bytes again */
    struct mem m2 = snapshot(b->reg);
    assert_int_equal(m2.len, m.len);
    assert_memory_equal(m2.p, m.p, m.len);
    /* it works: sequence numbers go on, the GC list is back, zxids continue */
    char p[64];
    assert_int_equal(fx_create(b, 0, "/q/x-", NULL, REG_CREATE_SEQUENTIAL, p, sizeof(p)), 0);
    assert_string_equal(p, "/q/x-0000000002");
    assert_int_equal(fx_delete(b, 0, "/c/k", -1), 0);
    char *gc[4];
    assert_int_equal(reg_collect_garbage(b->reg, b->now, gc, 4), 1);
    assert_string_equal(gc[0], "/c");
    free(gc[0]);
    assert_int_equal(reg_collect_garbage(b->reg, b->now + 10000000, gc, 4), 2);
    free(gc[0]);
    free(gc[1]);
    free(m.p);
    free(m2.p);
    fx_free(a);
    fx_free(b);
}

/* Rewrites a snapshot as format version v, 1 or 2 (the version field, then
 * the closing FNV-1a hash over every byte before it). */
static void as_version(struct mem *m, uint8_t v)
{
    uint64_t h = 0xcbf29ce484222325ull;
    m->p[8] = v;
    m->p[9] = m->p[10] = m->p[11] = 0;
    for (size_t i = 0; i + 8 < m->len; i++)
        h = (h ^ m->p[i]) * 0x100000001b3ull;
    for (int i = 0; i < 8; i++)
        m->p[m->len - 8 + (size_t)i] = (uint8_t)(h >> (8 * i));
}

/* Version 1 snapshots (before null data) still load; null data needs 2. */
static void test_snapshot_version1(void **state)
{
    (void)state;
    fx *a = fx_new();
    assert_int_equal(fx_create(a, 0, "/a", "x", 0, NULL, 0), 0);
    assert_int_equal(fx_create(a, 0, "/a/b", NULL, 0, NULL, 0), 0);
    struct mem m = snapshot(a->reg);
    assert_int_equal(m.p[8], 3);
    as_version(&m, 1);
    fx *b = fx_new();
    assert_int_equal(reg_snapshot_read(b->reg, mem_read, &m), 0);
    char *da = dump_tree(a->reg), *db = dump_tree(b->reg);
    assert_string_equal(da, db);
    free(da);
    free(db);
    free(m.p);
    fx_free(b);
    reg_op op = fx_op_create("/n", NULL, 0);
    op.data_null = true;
    assert_int_equal(fx_write(a, 0, &op, NULL), 0);
    m = snapshot(a->reg);
    as_version(&m, 1);
    b = fx_new();
    assert_int_equal(reg_snapshot_read(b->reg, mem_read, &m), -EINVAL);
    free(m.p);
    fx_free(b);
    fx_free(a);
}

/* Version 3 closes with a CRC32C of every byte before it; version 2
 * snapshots (FNV-1a) still load, and a wrong hash is refused in both. */
static void test_snapshot_version2_and_crc(void **state)
{
    (void)state;
    fx *a = fx_new();
    populate(a, NULL, NULL);
    struct mem m = snapshot(a->reg);
    assert_int_equal(m.p[8], 3);
    uint64_t stored = 0;
    for (int i = 0; i < 8; i++)
        stored |= (uint64_t)m.p[m.len - 8 + (size_t)i] << (8 * i);
    assert_int_equal(stored, crc32c(m.p, m.len - 8));
    uint8_t *orig = malloc(m.len);
    memcpy(orig, m.p, m.len);
    as_version(&m, 2);
    fx *b = fx_new();
    assert_int_equal(reg_snapshot_read(b->reg, mem_read, &m), 0);
    char *da = dump_tree(a->reg), *db = dump_tree(b->reg);
    assert_string_equal(da, db);
    free(da);
    free(db);
    fx_free(b);
    /* version 2 with the CRC32C trailer, version 3 with the FNV one: refused */
    memcpy(m.p, orig, m.len);
    m.p[8] = 2;
    m.off = 0;
    b = fx_new();
    assert_int_equal(reg_snapshot_read(b->reg, mem_read, &m), -EINVAL);
    fx_free(b);
    as_version(&m, 2);
    m.p[8] = 3;
    m.off = 0;
    b = fx_new();
    assert_int_equal(reg_snapshot_read(b->reg, mem_read, &m), -EINVAL);
    fx_free(b);
    free(orig);
    free(m.p);
    fx_free(a);
}

static void test_snapshot_hostile(void **state)
{
    (void)state;
    fx *a = fx_new();
    populate(a, NULL, NULL);
    struct mem m = snapshot(a->reg);
    fx *b = fx_new();
    char *fresh = dump_tree(b->reg);
    for (size_t cut = 0; cut < m.len; cut += (cut < 200 ? 1 : 13)) {
        struct mem t = {m.p, cut, cut, 0, -1};
        int rc = reg_snapshot_read(b->reg, mem_read, &t);
        assert_true(rc < 0);
    }
    uint8_t *copy = malloc(m.len);
    for (size_t bit = 0; bit < m.len * 8; bit += 5) {
        memcpy(copy, m.p, m.len);
        copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        struct mem t = {copy, m.len, m.len, 0, -1};
        assert_true(reg_snapshot_read(b->reg, mem_read, &t) < 0);
    }
    for (int i = 0; i < 2000; i++) {
        size_t len = rnd() % m.len;
        memcpy(copy, m.p, m.len);
        for (size_t j = rnd() % (len + 1); j < len; j++)
            copy[j] = (uint8_t)rnd();
        struct mem t = {copy, len, len, 0, -1};
        assert_true(reg_snapshot_read(b->reg, mem_read, &t) < 0);
    }
    free(copy);
    /* nothing of it stuck */
    char *after = dump_tree(b->reg);
    assert_string_equal(fresh, after);
    free(fresh);
    free(after);
    /* not into a registry that has state */
    struct mem t = {m.p, m.len, m.len, 0, -1};
    t.off = 0;
    assert_int_equal(reg_snapshot_read(a->reg, mem_read, &t), -EINVAL);
    /* a failing writer */
    struct mem w = {0};
    w.fail_after = 0;
    assert_int_equal(reg_snapshot_write(a->reg, mem_write, &w), -EIO);
    free(w.p);
    free(m.p);
    fx_free(a);
    fx_free(b);
}

struct ids {
    int64_t v[8];
    size_t n;
};

static void grab_id(void *ctx, int64_t id)
{
    struct ids *x = ctx;
    x->v[x->n++] = id;
}

static void test_recovery(void **state)
{
    (void)state;
    fx *a = fx_new();
    struct log log = {0};
    int64_t local;
    populate(a, &log, &local);
    /* snapshot in the middle of the log: replay the part after it */
    fx *mid = fx_new();
    size_t half = log.n / 2;
    for (size_t i = 0; i < half; i++) {
        reg_txn *t;
        assert_int_equal(reg_txn_decode(log.buf[i], log.len[i], &t), 0);
        reg_commit(mid->reg, t, NULL);
    }
    struct mem m = snapshot(mid->reg);
    fx *b = fx_new();
    assert_int_equal(reg_snapshot_read(b->reg, mem_read, &m), 0);
    for (size_t i = 0; i < log.n; i++) {
        reg_txn *t;
        assert_int_equal(reg_txn_decode(log.buf[i], log.len[i], &t), 0);
        if (reg_txn_zxid(t) <= reg_last_zxid(b->reg)) {
            reg_txn_free(t);
            continue;
        }
        reg_commit(b->reg, t, NULL);
    }
    char *da = dump_tree(a->reg), *db = dump_tree(b->reg);
    assert_string_equal(da, db);
    free(da);
    free(db);
    /* LOCAL sessions are to be closed; the others get a fresh timeout */
    struct ids ids = {0};
    int64_t later = a->now + 100000000;
    assert_int_equal(reg_recover_finish(b->reg, later, grab_id, &ids), 1);
    assert_int_equal(ids.v[0], local);
    int64_t exp[4];
    assert_int_equal(reg_sessions_expired(b->reg, later + 29999, exp, 4), 0);
    assert_int_equal(reg_sessions_expired(b->reg, later + 30000, exp, 4), 1);
    b->now = later;
    fx_reset(b);
    assert_int_equal(fx_close(b, local), 0);
    assert_false(fx_exists(b, "/services/web/loc"));
    assert_true(fx_exists(b, "/services/web/m-0000000001"));
    assert_int_equal(b->nch, 1);
    log_free(&log);
    free(m.p);
    fx_free(a);
    fx_free(mid);
    fx_free(b);
}

static void test_orphan_ephemeral_replay(void **state)
{
    (void)state;
    fx *a = fx_new();
    struct log log = {0};
    int64_t s = new_session(a, &log, 1000, 0);
    reg_op e = fx_op_create("/e", NULL, REG_CREATE_EPHEMERAL);
    assert_int_equal(logged(a, s, &e, &log), 0);
    /* replay without the session's creation */
    fx *b = fx_new();
    reg_txn *t;
    assert_int_equal(reg_txn_decode(log.buf[1], log.len[1], &t), 0);
    assert_int_equal(reg_commit(b->reg, t, NULL), 0);
    assert_int_equal(fx_stat(b, "/e").ephemeral_owner, s);
    /* the stand-in is no session a client could use */
    assert_int_equal(reg_session_touch(b->reg, s, b->now), REG_ESESSIONEXPIRED);
    assert_int_equal(fx_create(b, s, "/e2", NULL, 0, NULL, 0), REG_ESESSIONEXPIRED);
    struct ids ids = {0};
    assert_int_equal(reg_recover_finish(b->reg, b->now, grab_id, &ids), 1);
    assert_int_equal(ids.v[0], s);
    assert_int_equal(fx_close(b, s), 0);
    assert_false(fx_exists(b, "/e"));
    log_free(&log);
    fx_free(a);
    fx_free(b);
}

/* A logged create under a node that is an ephemeral by the time it is
 * replayed (a log from a buggy build, or edited and re-summed) is refused
 * as ZooKeeper's prep would refuse it: applied, it would make a tree whose
 * snapshot the reader rejects, and the next restart would fail. */
static void test_replayed_child_of_ephemeral(void **state)
{
    (void)state;
    fx *a = fx_new(), *b = fx_new();
    struct log log = {0};
    reg_op e = fx_op_create("/e", NULL, 0), x = fx_op_create("/x", NULL, 0);
    reg_op c = fx_op_create("/e/c", NULL, 0);
    assert_int_equal(logged(a, 0, &e, &log), 0);
    assert_int_equal(logged(a, 0, &x, &log), 0);
    assert_int_equal(logged(a, 0, &c, &log), 0); /* zxid 3 */
    int64_t s = new_session(b, NULL, 1000, 0);
    assert_int_equal(fx_create(b, s, "/e", NULL, REG_CREATE_EPHEMERAL, NULL, 0), 0);
    reg_txn *t;
    assert_int_equal(reg_txn_decode(log.buf[2], log.len[2], &t), 0);
    assert_int_equal(reg_commit(b->reg, t, NULL), REG_ENOCHILDRENFOREPHEMERALS);
    assert_int_equal(reg_last_zxid(b->reg), 3);
    assert_false(fx_exists(b, "/e/c"));
    assert_int_equal(fx_stat(b, "/e").num_children, 0);
    struct mem m = snapshot(b->reg);
    fx *r = fx_new();
    assert_int_equal(reg_snapshot_read(r->reg, mem_read, &m), 0);
    assert_true(fx_exists(r, "/e"));
    free(m.p);
    log_free(&log);
    fx_free(a);
    fx_free(b);
    fx_free(r);
}

/* ZooKeeper takes an ACL id of any length a frame can carry; so does
 * reg_prepare, so the log and the snapshot must read back what it made,
 * or a client's long digest id would keep the daemon from starting. */
static void test_long_acl_id(void **state)
{
    (void)state;
    size_t n = 200000;
    char *id = malloc(n + 1);
    assert_non_null(id);
    memcpy(id, "user:", 5);
    memset(id + 5, 'h', n - 5);
    id[n] = '\0';
    reg_acl acl[] = {{REG_PERM_ALL, "digest", id}, {REG_PERM_READ, "world", "anyone"}};
    char *scheme = malloc(n + 1); /* and a long unknown scheme: refused */
    assert_non_null(scheme);
    memset(scheme, 's', n);
    scheme[n] = '\0';
    reg_acl bad[] = {{REG_PERM_ALL, scheme, "x"}};
    fx *a = fx_new();
    struct log log = {0};
    reg_op op = fx_op_create("/long", "d", 0);
    op.acl = acl;
    op.acl_count = 2;
    assert_int_equal(logged(a, 0, &op, &log), 0);
    op.path = "/bad";
    op.acl = bad;
    op.acl_count = 1;
    assert_int_equal(logged(a, 0, &op, &log), REG_EINVALIDACL);
    /* the log replays */
    fx *b = fx_new();
    for (size_t i = 0; i < log.n; i++) {
        reg_txn *t;
        assert_int_equal(reg_txn_decode(log.buf[i], log.len[i], &t), 0);
        reg_commit(b->reg, t, NULL);
    }
    char *da = dump_tree(a->reg), *db = dump_tree(b->reg);
    assert_string_equal(da, db);
    /* the snapshot loads */
    struct mem m = snapshot(a->reg);
    fx *c = fx_new();
    assert_int_equal(reg_snapshot_read(c->reg, mem_read, &m), 0);
    char *dc = dump_tree(c->reg);
    assert_string_equal(da, dc);
    free(da);
    free(db);
    free(dc);
    free(m.p);
    free(id);
    free(scheme);
    log_free(&log);
    fx_free(a);
    fx_free(b);
    fx_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_txn_roundtrip_and_replay),
        cmocka_unit_test(test_txn_null_data_version),
        cmocka_unit_test(test_txn_garbage),
        cmocka_unit_test(test_snapshot_roundtrip),
        cmocka_unit_test(test_snapshot_version1),
        cmocka_unit_test(test_snapshot_version2_and_crc),
        cmocka_unit_test(test_snapshot_hostile),
        cmocka_unit_test(test_recovery),
        cmocka_unit_test(test_orphan_ephemeral_replay),
        cmocka_unit_test(test_replayed_child_of_ephemeral),
        cmocka_unit_test(test_long_acl_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
