/*
 * reg_pipeline_test.c - the write pipeline: prepared txns that depend on
 * each other before they commit, error txns and zxids, abort, commit order,
 * throttling, and multi (atomicity, results, one zxid).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reg_fixture.h"

static int setup(void **state)
{
    *state = fx_new();
    return 0;
}

static int teardown(void **state)
{
    fx_free(*state);
    return 0;
}

static int commit(fx *f, reg_txn *t, reg_result *res)
{
    return reg_commit(f->reg, t, res);
}

static void test_dependent_creates(void **state)
{
    fx *f = *state;
    reg_op a = fx_op_create("/a", "1", 0), b = fx_op_create("/a/b", "2", 0);
    reg_txn *t1 = fx_prep(f, 0, &a);
    reg_txn *t2 = fx_prep(f, 0, &b);
    reg_txn *t3 = fx_prep(f, 0, &a);
    assert_int_equal(reg_txn_zxid(t1), 1);
    assert_int_equal(reg_txn_zxid(t2), 2);
    assert_int_equal(reg_txn_zxid(t3), 3);
    assert_int_equal(reg_txn_err(t1), 0);
    assert_int_equal(reg_txn_err(t2), 0);
    assert_int_equal(reg_txn_err(t3), REG_ENODEEXISTS);
    assert_int_equal(reg_txn_type(t3), REG_OP_CREATE);
    assert_int_equal(reg_pending_count(f->reg), 3);
    /* readers see nothing yet */
    assert_false(fx_exists(f, "/a"));
    assert_int_equal(reg_last_zxid(f->reg), 0);
    reg_result res = {0};
    assert_int_equal(commit(f, t1, &res), 0);
    assert_string_equal(res.path, "/a");
    reg_result_clear(&res);
    assert_true(fx_exists(f, "/a"));
    assert_false(fx_exists(f, "/a/b"));
    assert_int_equal(commit(f, t2, &res), 0);
    assert_int_equal(res.stat.czxid, 2);
    reg_result_clear(&res);
    assert_int_equal(commit(f, t3, &res), REG_ENODEEXISTS);
    assert_null(res.path);
    assert_int_equal(reg_last_zxid(f->reg), 3);
    assert_int_equal(reg_pending_count(f->reg), 0);
    /* the on_change hooks came in zxid order */
    assert_int_equal(f->nch, 2);
    assert_int_equal(f->ch[0].zxid, 1);
    assert_int_equal(f->ch[1].zxid, 2);
}

static void test_delete_then_create(void **state)
{
    fx *f = *state;
    assert_int_equal(fx_create(f, 0, "/x", NULL, 0, NULL, 0), 0);
    reg_op del = fx_op_delete("/x", -1), cr = fx_op_create("/x", "new", 0);
    reg_op set = fx_op_set("/x", "v", 0);
    reg_txn *t1 = fx_prep(f, 0, &del);
    reg_txn *t2 = fx_prep(f, 0, &del);   /* NONODE behind the pending delete */
    reg_txn *t3 = fx_prep(f, 0, &cr);    /* no NODEEXISTS: the delete is pending */
    reg_txn *t4 = fx_prep(f, 0, &set);   /* version 0 of the new node */
    reg_txn *t5 = fx_prep(f, 0, &set);   /* now version 1: BADVERSION */
    assert_int_equal(reg_txn_err(t1), 0);
    assert_int_equal(reg_txn_err(t2), REG_ENONODE);
    assert_int_equal(reg_txn_err(t3), 0);
    assert_int_equal(reg_txn_err(t4), 0);
    assert_int_equal(reg_txn_err(t5), REG_EBADVERSION);
    assert_int_equal(commit(f, t1, NULL), 0);
    assert_false(fx_exists(f, "/x"));
    assert_int_equal(commit(f, t2, NULL), REG_ENONODE);
    assert_int_equal(commit(f, t3, NULL), 0);
    assert_int_equal(commit(f, t4, NULL), 0);
    assert_int_equal(commit(f, t5, NULL), REG_EBADVERSION);
    reg_stat st = fx_stat(f, "/x");
    assert_int_equal(st.version, 1);
    assert_int_equal(st.czxid, 4);
}

static void test_pending_children_and_notempty(void **state)
{
    fx *f = *state;
    assert_int_equal(fx_create(f, 0, "/p", NULL, 0, NULL, 0), 0);
    reg_op c = fx_op_create("/p/c", NULL, 0), d = fx_op_delete("/p", -1);
    reg_op dc = fx_op_delete("/p/c", -1);
    reg_txn *t1 = fx_prep(f, 0, &c);
    reg_txn *t2 = fx_prep(f, 0, &d);
    reg_txn *t3 = fx_prep(f, 0, &dc);
    reg_txn *t4 = fx_prep(f, 0, &d);
    assert_int_equal(reg_txn_err(t2), REG_ENOTEMPTY);
    assert_int_equal(reg_txn_err(t4), 0);
    assert_int_equal(commit(f, t1, NULL), 0);
    assert_int_equal(commit(f, t2, NULL), REG_ENOTEMPTY);
    assert_int_equal(commit(f, t3, NULL), 0);
    assert_int_equal(commit(f, t4, NULL), 0);
    assert_false(fx_exists(f, "/p"));
}

static void test_pending_sequential(void **state)
{
    fx *f = *state;
    assert_int_equal(fx_create(f, 0, "/q", NULL, 0, NULL, 0), 0);
    reg_op s = fx_op_create("/q/n-", NULL, REG_CREATE_SEQUENTIAL);
    reg_op d = fx_op_delete("/q/n-0000000000", -1);
    reg_txn *t[4];
    t[0] = fx_prep(f, 0, &s);
    t[1] = fx_prep(f, 0, &d);
    t[2] = fx_prep(f, 0, &s);
    t[3] = fx_prep(f, 0, &s);
    const char *want[] = {"/q/n-0000000000", NULL, "/q/n-0000000001", "/q/n-0000000002"};
    for (int i = 0; i < 4; i++) {
        reg_result res = {0};
        assert_int_equal(commit(f, t[i], &res), 0);
        if (want[i])
            assert_string_equal(res.path, want[i]);
        reg_result_clear(&res);
    }
    reg_stat st = fx_stat(f, "/q");
    assert_int_equal(st.num_children, 2);
    assert_int_equal(st.cversion, 2 * 3 - 2);
}

static void test_abort(void **state)
{
    fx *f = *state;
    reg_op a = fx_op_create("/a", NULL, 0), b = fx_op_create("/a/b", NULL, 0);
    reg_op s = fx_op_create("/a/s-", NULL, REG_CREATE_SEQUENTIAL);
    reg_txn *t1 = fx_prep(f, 0, &a);
    reg_txn *t2 = fx_prep(f, 0, &b);
    reg_txn *t3 = fx_prep(f, 0, &s);
    /* only the newest may go */
    reg_txn_abort(f->reg, t2);
    assert_int_equal(reg_pending_count(f->reg), 3);
    reg_txn_abort(f->reg, t3);
    reg_txn_abort(f->reg, t2);
    assert_int_equal(reg_pending_count(f->reg), 1);
    /* /a/b is free again, the zxid is reused, the sequence too */
    t2 = fx_prep(f, 0, &b);
    assert_int_equal(reg_txn_zxid(t2), 2);
    assert_int_equal(reg_txn_err(t2), 0);
    t3 = fx_prep(f, 0, &s);
    reg_txn_abort(f->reg, t3);
    reg_txn_abort(f->reg, t2);
    reg_txn_abort(f->reg, t1);
    assert_int_equal(reg_pending_count(f->reg), 0);
    t1 = fx_prep(f, 0, &b);
    assert_int_equal(reg_txn_err(t1), REG_ENONODE);
    assert_int_equal(reg_txn_zxid(t1), 1);
    reg_txn_free(t1); /* the newest pending: aborted */
    assert_int_equal(reg_pending_count(f->reg), 0);
    t1 = fx_prep(f, 0, &a);
    t2 = fx_prep(f, 0, &s);
    assert_int_equal(commit(f, t1, NULL), 0);
    reg_result res = {0};
    assert_int_equal(commit(f, t2, &res), 0);
    assert_string_equal(res.path, "/a/s-0000000000");
    reg_result_clear(&res);
    /* abort of a session create and a close */
    reg_op cs = {.type = REG_OP_CREATE_SESSION, .timeout_ms = 1000};
    reg_txn *ts = fx_prep(f, 0, &cs);
    int64_t sid = reg_txn_session(ts);
    assert_int_equal(reg_session_touch(f->reg, sid, f->now), 0);
    reg_txn_abort(f->reg, ts);
    assert_int_equal(reg_session_touch(f->reg, sid, f->now), REG_ESESSIONEXPIRED);
    sid = fx_session(f, 1000, 0);
    reg_op cl = {.type = REG_OP_CLOSE_SESSION};
    reg_txn *tc = fx_prep(f, sid, &cl);
    assert_int_equal(reg_session_touch(f->reg, sid, f->now), REG_ESESSIONEXPIRED);
    reg_txn_abort(f->reg, tc);
    assert_int_equal(reg_session_touch(f->reg, sid, f->now), 0);
}

static void test_commit_order(void **state)
{
    fx *f = *state;
    reg_op a = fx_op_create("/a", NULL, 0), b = fx_op_create("/b", NULL, 0);
    reg_txn *t1 = fx_prep(f, 0, &a);
    reg_txn *t2 = fx_prep(f, 0, &b);
    reg_result res = {0};
    assert_int_equal(commit(f, t2, &res), -EINVAL);
    assert_int_equal(res.err, -EINVAL);
    assert_int_equal(reg_pending_count(f->reg), 2);
    assert_int_equal(commit(f, t1, NULL), 0);
    assert_int_equal(commit(f, t2, NULL), 0);
}

static void test_throttle(void **state)
{
    (void)state;
    reg_config cfg;
    reg_config_default(&cfg);
    cfg.max_pending = 2;
    fx *f = fx_new_cfg(&cfg);
    reg_op a = fx_op_create("/a", NULL, 0);
    reg_txn *t1 = fx_prep(f, 0, &a), *t2 = fx_prep(f, 0, &a), *t3 = NULL;
    assert_int_equal(reg_prepare(f->reg, 0, &a, f->now, &t3), REG_ETHROTTLEDOP);
    assert_null(t3);
    assert_int_equal(commit(f, t1, NULL), 0);
    t3 = fx_prep(f, 0, &a);
    assert_int_equal(commit(f, t2, NULL), REG_ENODEEXISTS);
    assert_int_equal(commit(f, t3, NULL), REG_ENODEEXISTS);
    fx_free(f);
}

static void test_multi_success(void **state)
{
    fx *f = *state;
    reg_op ops[] = {
        fx_op_create("/m", "a", 0),
        fx_op_create("/m/c", NULL, REG_CREATE_SEQUENTIAL),
        fx_op_set("/m", "b", 0),
        fx_op_check("/m", 1),
        fx_op_delete("/m/c0000000000", 0),
        fx_op_create("/m/d/e", NULL, REG_CREATE_PARENTS),
    };
    reg_op multi = {.type = REG_OP_MULTI, .ops = ops, .nops = 6};
    reg_result res = {0};
    assert_int_equal(fx_write(f, 0, &multi, &res), 0);
    assert_int_equal(res.type, REG_OP_MULTI);
    assert_int_equal(res.nsub, 6);
    assert_string_equal(res.sub[0].path, "/m");
    assert_int_equal(res.sub[0].type, REG_OP_CREATE);
    assert_string_equal(res.sub[1].path, "/m/c0000000000");
    assert_int_equal(res.sub[2].type, REG_OP_SET_DATA);
    assert_int_equal(res.sub[2].stat.version, 1);
    assert_int_equal(res.sub[3].type, REG_OP_CHECK);
    assert_int_equal(res.sub[4].type, REG_OP_DELETE);
    assert_string_equal(res.sub[5].path, "/m/d/e");
    for (size_t i = 0; i < res.nsub; i++)
        assert_int_equal(res.sub[i].err, 0);
    reg_result_clear(&res);
    reg_stat st = fx_stat(f, "/m");
    assert_int_equal(st.czxid, 1);
    assert_int_equal(st.mzxid, 1);
    assert_int_equal(st.version, 1);
    assert_int_equal(st.num_children, 1);
    assert_int_equal(fx_stat(f, "/m/d/e").czxid, 1);
    assert_int_equal(reg_last_zxid(f->reg), 1);
}

static void test_multi_failure(void **state)
{
    fx *f = *state;
    assert_int_equal(fx_create(f, 0, "/q", NULL, 0, NULL, 0), 0);
    reg_op ops[] = {
        fx_op_create("/f", NULL, 0),
        fx_op_create("/q/s-", NULL, REG_CREATE_SEQUENTIAL),
        fx_op_delete("/nope", -1),
        fx_op_set("/f", "x", -1),
    };
    reg_op multi = {.type = REG_OP_MULTI, .ops = ops, .nops = 4};
    reg_result res = {0};
    assert_int_equal(fx_write(f, 0, &multi, &res), REG_ENONODE);
    assert_int_equal(res.err, REG_ENONODE);
    assert_int_equal(res.nsub, 4);
    assert_int_equal(res.sub[0].err, 0);
    assert_int_equal(res.sub[1].err, 0);
    assert_int_equal(res.sub[2].err, REG_ENONODE);
    assert_int_equal(res.sub[3].err, REG_ERUNTIMEINCONSISTENCY);
    assert_int_equal(res.sub[2].type, REG_OP_DELETE);
    assert_null(res.sub[0].path);
    reg_result_clear(&res);
    assert_false(fx_exists(f, "/f"));
    assert_int_equal(reg_last_zxid(f->reg), 2);
    assert_int_equal(f->nch, 1); /* only /q's creation */
    /* the rolled-back sequential create did not use its number */
    char p[64];
    assert_int_equal(fx_create(f, 0, "/q/s-", NULL, REG_CREATE_SEQUENTIAL, p, sizeof(p)), 0);
    assert_string_equal(p, "/q/s-0000000000");
    /* a failed multi behind a pending one, then a good one */
    reg_op okops[] = {fx_op_create("/g", NULL, 0)};
    reg_op ok = {.type = REG_OP_MULTI, .ops = okops, .nops = 1};
    reg_txn *t1 = fx_prep(f, 0, &multi), *t2 = fx_prep(f, 0, &ok);
    assert_int_equal(reg_txn_err(t1), REG_ENONODE);
    assert_int_equal(reg_txn_err(t2), 0);
    assert_int_equal(commit(f, t1, NULL), REG_ENONODE);
    assert_int_equal(commit(f, t2, NULL), 0);
    assert_true(fx_exists(f, "/g"));
}

static void test_multi_sees_own_effects(void **state)
{
    fx *f = *state;
    reg_op ops[] = {
        fx_op_create("/a", NULL, 0),
        fx_op_delete("/a", 0),
        fx_op_create("/a", "2", 0),
        fx_op_check("/a", 0),
    };
    reg_op multi = {.type = REG_OP_MULTI, .ops = ops, .nops = 4};
    assert_int_equal(fx_write(f, 0, &multi, NULL), 0);
    assert_true(fx_exists(f, "/a"));
    assert_int_equal(f->nch, 3);
    assert_int_equal(f->ch[1].type, REG_EVENT_DELETED);
    /* failing first op */
    reg_op bad[] = {fx_op_check("/a", 7), fx_op_delete("/a", -1)};
    reg_op m2 = {.type = REG_OP_MULTI, .ops = bad, .nops = 2};
    reg_result res = {0};
    assert_int_equal(fx_write(f, 0, &m2, &res), REG_EBADVERSION);
    assert_int_equal(res.sub[0].err, REG_EBADVERSION);
    assert_int_equal(res.sub[1].err, REG_ERUNTIMEINCONSISTENCY);
    reg_result_clear(&res);
    assert_true(fx_exists(f, "/a"));
    /* empty multi */
    reg_op m3 = {.type = REG_OP_MULTI};
    assert_int_equal(fx_write(f, 0, &m3, &res), 0);
    assert_int_equal(res.nsub, 0);
    reg_result_clear(&res);
}

static void test_txn_free_decoded(void **state)
{
    fx *f = *state;
    reg_op a = fx_op_create("/a", NULL, 0);
    reg_txn *t = fx_prep(f, 0, &a);
    uint8_t *buf;
    size_t len;
    assert_int_equal(reg_txn_encode(t, &buf, &len), 0);
    assert_int_equal(commit(f, t, NULL), 0);
    reg_txn *d = NULL;
    assert_int_equal(reg_txn_decode(buf, len, &d), 0);
    free(buf);
    /* a decoded txn at or below the last zxid is refused and freed */
    assert_int_equal(commit(f, d, NULL), -EINVAL);
    assert_int_equal(reg_txn_decode((const uint8_t *)"x", 1, &d), -EINVAL);
    assert_null(d);
}


/* ---- random ops: pipelined equals one at a time ---------------------------- */

static uint64_t rng = 88172645463325252ull;

static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static const char *const paths[] = {"/a", "/a/b", "/a/b/c", "/a/s-", "/d", "/d/e",
                                    "/a/b-", "/d/e/f", "/x/y/z"};

static reg_op random_node_op(int64_t *ttl_store)
{
    const char *p = paths[rnd(9)];
    static const uint32_t flags[] = {0, REG_CREATE_SEQUENTIAL, REG_CREATE_EPHEMERAL,
                                     REG_CREATE_CONTAINER, REG_CREATE_PARENTS,
                                     REG_CREATE_EPHEMERAL | REG_CREATE_SEQUENTIAL,
                                     REG_CREATE_TTL,
                                     REG_CREATE_CONTAINER | REG_CREATE_SEQUENTIAL};
    reg_op op;
    switch (rnd(5)) {
    case 0:
    case 1:
        op = fx_op_create(p, rnd(4) ? "v" : NULL, flags[rnd(8)]);
        if (op.create_flags & REG_CREATE_TTL)
            op.ttl_ms = *ttl_store = 100;
        break;
    case 2: op = fx_op_delete(p, (int32_t)rnd(3) - 1); break;
    case 3: op = fx_op_set(p, rnd(4) ? "w" : NULL, (int32_t)rnd(3) - 1); break;
    default: op = fx_op_check(p, (int32_t)rnd(3) - 1); break;
    }
    if (!op.data && rnd(2))
        op.data_null = true; /* null data rather than empty */
    if (rnd(16) == 0) /* refused by the protocol: an error txn all the same */
        op.refused = rnd(2) ? REG_EBADARGUMENTS : REG_EMARSHALLINGERROR;
    return op;
}

struct rop {
    reg_op op;
    reg_op sub[3];
    int64_t session;
};

static void random_op(struct rop *r, const int64_t *sessions, size_t nsess)
{
    int64_t ttl;
    memset(r, 0, sizeof(*r));
    r->session = rnd(4) ? sessions[rnd((uint32_t)nsess)] : 0;
    uint32_t k = rnd(10);
    if (k == 0) {
        r->op.type = REG_OP_MULTI;
        r->op.nops = 1 + rnd(3);
        for (size_t i = 0; i < r->op.nops; i++)
            r->sub[i] = random_node_op(&ttl);
        r->op.ops = r->sub;
    } else if (k == 1) {
        r->op.type = REG_OP_CLOSE_SESSION;
    } else {
        r->op = random_node_op(&ttl);
    }
}

static size_t n_ok, n_err, n_events;
static fx *replay; /* applies the decoded txns of `batch` */

static void run_same(fx *one, fx *batch, const struct rop *ops, size_t n)
{
    reg_txn *pend[8];
    for (size_t i = 0; i < n; i++)
        pend[i] = fx_prep(batch, ops[i].session, &ops[i].op);
    /* abort the newest and prepare it again: nothing may change */
    if (n > 1 && rnd(2)) {
        reg_txn_abort(batch->reg, pend[n - 1]);
        pend[n - 1] = fx_prep(batch, ops[n - 1].session, &ops[n - 1].op);
    }
    for (size_t i = 0; i < n; i++) {
        reg_result a = {0}, b = {0};
        int ra = fx_write(one, ops[i].session, &ops[i].op, &a);
        uint8_t *buf;
        size_t len;
        reg_txn *dec;
        assert_int_equal(reg_txn_encode(pend[i], &buf, &len), 0);
        int rb = reg_commit(batch->reg, pend[i], &b);
        assert_int_equal(reg_txn_decode(buf, len, &dec), 0);
        free(buf);
        assert_int_equal(reg_commit(replay->reg, dec, NULL), rb);
        assert_int_equal(ra, rb);
        *(ra ? &n_err : &n_ok) += 1;
        assert_int_equal(a.nsub, b.nsub);
        if (a.path || b.path)
            assert_string_equal(a.path, b.path);
        for (size_t j = 0; j < a.nsub; j++)
            assert_int_equal(a.sub[j].err, b.sub[j].err);
        reg_result_clear(&a);
        reg_result_clear(&b);
    }
}

static void same_tree(reg_t *x, reg_t *y, const reg_node *nx, const reg_node *ny)
{
    reg_stat sx, sy;
    memset(&sx, 0, sizeof(sx)); /* padding */
    memset(&sy, 0, sizeof(sy));
    reg_node_stat(nx, &sx);
    reg_node_stat(ny, &sy);
    assert_memory_equal(&sx, &sy, sizeof(sx));
    const reg_node *cx = reg_node_first_child(nx), *cy = reg_node_first_child(ny);
    for (; cx && cy; cx = reg_node_next_sibling(cx), cy = reg_node_next_sibling(cy)) {
        size_t lx, ly;
        const char *a = reg_node_name(cx, &lx), *b = reg_node_name(cy, &ly);
        assert_int_equal(lx, ly);
        assert_memory_equal(a, b, lx);
        same_tree(x, y, cx, cy);
    }
    assert_null(cx);
    assert_null(cy);
}

static void same_events(fx *a, fx *b)
{
    assert_int_equal(a->nev, b->nev);
    for (size_t i = 0; i < a->nev; i++) {
        assert_int_equal(a->ev[i].watcher, b->ev[i].watcher);
        assert_int_equal(a->ev[i].type, b->ev[i].type);
        assert_int_equal(a->ev[i].zxid, b->ev[i].zxid);
        assert_string_equal(a->ev[i].path, b->ev[i].path);
    }
    n_events += a->nev;
    fx_reset(a);
    fx_reset(b);
}

static void random_watch(fx *a, fx *b)
{
    const char *p = paths[rnd(9)];
    uint64_t w = 1 + rnd(3);
    int ra, rb;
    switch (rnd(4)) {
    case 0:
        ra = reg_get(a->reg, 0, p, w, NULL, NULL, NULL);
        rb = reg_get(b->reg, 0, p, w, NULL, NULL, NULL);
        break;
    case 1:
        ra = reg_exists(a->reg, 0, p, w, NULL);
        rb = reg_exists(b->reg, 0, p, w, NULL);
        break;
    case 2:
        ra = reg_children(a->reg, 0, p, w, NULL, NULL, NULL);
        rb = reg_children(b->reg, 0, p, w, NULL, NULL, NULL);
        break;
    default: {
        int mode = (int)rnd(2);
        ra = reg_watch_add(a->reg, w, p, mode);
        rb = reg_watch_add(b->reg, w, p, mode);
        break;
    }
    }
    assert_int_equal(ra, rb);
    assert_int_equal(reg_watch_count(a->reg), reg_watch_count(b->reg));
}

static void test_random_pipelined_equals_serial(void **state)
{
    (void)state;
    fx *one = fx_new(), *batch = fx_new();
    replay = fx_new();
    int64_t sessions[4];
    for (int i = 0; i < 4; i++) {
        sessions[i] = fx_session(one, 10000, 0);
        assert_int_equal(fx_session(batch, 10000, 0), sessions[i]);
        assert_int_equal(fx_session(replay, 10000, 0), sessions[i]);
    }
    struct rop ops[8];
    for (int round = 0; round < 3000; round++) {
        size_t n = 1 + rnd(8);
        for (size_t i = 0; i < n; i++)
            random_op(&ops[i], sessions, 4);
        for (size_t i = 0; i < n; i++)
            if (ops[i].op.type == REG_OP_MULTI)
                ops[i].op.ops = ops[i].sub; /* the struct moved into the array */
        run_same(one, batch, ops, n);
        same_events(one, batch);
        random_watch(one, batch);
        if (round % 50 == 0) {
            /* revive closed sessions so ephemerals keep coming */
            for (int i = 0; i < 4; i++) {
                if (reg_session_timeout(one->reg, sessions[i]) < 0) {
                    sessions[i] = fx_session(one, 10000, 0);
                    assert_int_equal(fx_session(batch, 10000, 0), sessions[i]);
                    assert_int_equal(fx_session(replay, 10000, 0), sessions[i]);
                }
            }
        }
    }
    assert_int_equal(reg_last_zxid(one->reg), reg_last_zxid(batch->reg));
    print_message("random ops: %zu ok, %zu failed, %zu nodes, %zu watch events\n", n_ok,
                  n_err, reg_node_count(one->reg), n_events);
    assert_true(n_events > 500);
    assert_true(n_ok > 2000 && n_err > 2000);
    same_tree(one->reg, batch->reg, reg_lookup(one->reg, "/"), reg_lookup(batch->reg, "/"));
    same_tree(one->reg, replay->reg, reg_lookup(one->reg, "/"), reg_lookup(replay->reg, "/"));
    fx_free(replay);
    fx_free(one);
    fx_free(batch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dependent_creates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_then_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_children_and_notempty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_sequential, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_order, setup, teardown),
        cmocka_unit_test(test_throttle),
        cmocka_unit_test_setup_teardown(test_multi_success, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multi_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multi_sees_own_effects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_txn_free_decoded, setup, teardown),
        cmocka_unit_test(test_random_pipelined_equals_serial),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
