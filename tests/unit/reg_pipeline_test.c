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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
