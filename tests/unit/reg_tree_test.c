/*
 * reg_tree_test.c - the znode tree: the initial nodes, create/get/set/delete
 * with their stats and errors, paths, sequential numbering, parents,
 * containers and TTL nodes, many children, the node view.
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

struct names {
    char v[64][64];
    size_t n;
};

static void collect(void *ctx, const char *name, size_t len)
{
    struct names *c = ctx;
    if (c->n < 64) {
        memcpy(c->v[c->n], name, len < 63 ? len : 63);
        c->v[c->n][len < 63 ? len : 63] = '\0';
    }
    c->n++;
}

static void test_initial_tree(void **state)
{
    fx *f = *state;
    assert_int_equal(reg_last_zxid(f->reg), 0);
    reg_stat st = fx_stat(f, "/");
    assert_int_equal(st.czxid, 0);
    assert_int_equal(st.num_children, 1);
    assert_int_equal(st.cversion, -1); /* ZooKeeper: 2*0 - 1 */
    st = fx_stat(f, "/zookeeper");
    assert_int_equal(st.num_children, 2);
    assert_int_equal(st.cversion, -2);
    st = fx_stat(f, "/zookeeper/config");
    assert_int_equal(st.aversion, -1);
    st = fx_stat(f, "/zookeeper/quota");
    assert_int_equal(st.aversion, 0);
    struct names c = {0};
    assert_int_equal(reg_children(f->reg, 0, "/zookeeper", 0, NULL, collect, &c), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.v[0], "config");
    assert_string_equal(c.v[1], "quota");
    assert_int_equal(reg_node_count(f->reg), 4);
    int32_t n = 0;
    assert_int_equal(reg_all_children_number(f->reg, 0, "/", &n), 0);
    assert_int_equal(n, 3);
    /* /zookeeper/config is read-only for everyone but the server. */
    int64_t s = fx_session(f, 10000, 0);
    assert_int_equal(fx_set(f, s, "/zookeeper/config", "x", -1, NULL), REG_ENOAUTH);
    assert_int_equal(fx_set(f, 0, "/zookeeper/config", "x", -1, NULL), 0);
}

static void test_create_get_set_delete(void **state)
{
    fx *f = *state;
    reg_op op = fx_op_create("/a", "hello", 0);
    reg_result res = {0};
    assert_int_equal(fx_write(f, 0, &op, &res), 0);
    assert_string_equal(res.path, "/a");
    assert_int_equal(res.type, REG_OP_CREATE);
    assert_int_equal(res.stat.czxid, 1);
    assert_int_equal(res.stat.mzxid, 1);
    assert_int_equal(res.stat.pzxid, 1);
    assert_int_equal(res.stat.ctime, f->now);
    assert_int_equal(res.stat.mtime, f->now);
    assert_int_equal(res.stat.data_length, 5);
    assert_int_equal(res.stat.version, 0);
    assert_int_equal(res.stat.ephemeral_owner, 0);
    reg_result_clear(&res);
    assert_null(res.path);

    const void *data;
    size_t len;
    reg_stat st;
    assert_int_equal(reg_get(f->reg, 0, "/a", 0, &data, &len, &st), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(data, "hello", 5);
    st = fx_stat(f, "/");
    assert_int_equal(st.pzxid, 1);
    assert_int_equal(st.num_children, 2);
    assert_int_equal(st.cversion, 0);

    f->now += 1000;
    assert_int_equal(fx_set(f, 0, "/a", "bye", 0, &st), 0);
    assert_int_equal(st.version, 1);
    assert_int_equal(st.mzxid, 2);
    assert_int_equal(st.czxid, 1);
    assert_int_equal(st.mtime, f->now);
    assert_int_equal(st.data_length, 3);
    /* empty data */
    assert_int_equal(fx_set(f, 0, "/a", NULL, 1, &st), 0);
    assert_int_equal(reg_get(f->reg, 0, "/a", 0, &data, &len, &st), 0);
    assert_int_equal(len, 0);
    assert_int_equal(st.version, 2);

    assert_int_equal(fx_delete(f, 0, "/a", 2), 0);
    assert_false(fx_exists(f, "/a"));
    st = fx_stat(f, "/");
    assert_int_equal(st.pzxid, 4);
    assert_int_equal(st.num_children, 1);
    assert_int_equal(st.cversion, 1); /* one create, one delete */
    assert_int_equal(reg_last_zxid(f->reg), 4);
}

/* ZooKeeper keeps null data (a jute buffer of length -1) apart from empty
 * data: reg_get gives NULL for it; the node view, as DNS reads it, "". */
static void test_null_data(void **state)
{
    fx *f = *state;
    const void *data;
    size_t len = 9;
    reg_stat st;
    reg_op op = fx_op_create("/n", NULL, 0);
    op.data_null = true;
    assert_int_equal(fx_write(f, 0, &op, NULL), 0);
    assert_int_equal(reg_get(f->reg, 0, "/n", 0, &data, &len, &st), 0);
    assert_null(data);
    assert_int_equal(len, 0);
    assert_int_equal(st.data_length, 0);
    assert_non_null(reg_node_data(reg_lookup(f->reg, "/n"), &len));
    assert_int_equal(len, 0);
    /* empty is not null */
    assert_int_equal(fx_create(f, 0, "/e", NULL, 0, NULL, 0), 0);
    assert_int_equal(reg_get(f->reg, 0, "/e", 0, &data, &len, NULL), 0);
    assert_non_null(data);
    assert_int_equal(len, 0);
    /* setData switches either way */
    reg_op set = fx_op_set("/e", NULL, -1);
    set.data_null = true;
    assert_int_equal(fx_write(f, 0, &set, NULL), 0);
    assert_int_equal(reg_get(f->reg, 0, "/e", 0, &data, &len, NULL), 0);
    assert_null(data);
    assert_int_equal(fx_set(f, 0, "/e", "x", -1, NULL), 0);
    assert_int_equal(reg_get(f->reg, 0, "/e", 0, &data, &len, NULL), 0);
    assert_memory_equal(data, "x", 1);
    assert_int_equal(fx_set(f, 0, "/e", NULL, -1, NULL), 0);
    assert_int_equal(reg_get(f->reg, 0, "/e", 0, &data, &len, NULL), 0);
    assert_non_null(data);
    /* in a multi too */
    reg_op ops[] = {fx_op_create("/m", NULL, 0), fx_op_set("/n", "y", -1)};
    ops[0].data_null = true;
    reg_op multi = {.type = REG_OP_MULTI, .ops = ops, .nops = 2};
    assert_int_equal(fx_write(f, 0, &multi, NULL), 0);
    assert_int_equal(reg_get(f->reg, 0, "/m", 0, &data, &len, NULL), 0);
    assert_null(data);
    assert_int_equal(reg_get(f->reg, 0, "/n", 0, &data, &len, NULL), 0);
    assert_memory_equal(data, "y", 1);
    /* null data has no bytes */
    reg_txn *t = NULL;
    op = fx_op_create("/bad", "abc", 0);
    op.data_null = true;
    assert_int_equal(reg_prepare(f->reg, 0, &op, f->now, &t), -EINVAL);
}

/* Writes the caller's protocol refused before the registry saw them still
 * take a zxid and an error txn, as ZooKeeper logs an ErrorTxn. */
static void test_refused(void **state)
{
    fx *f = *state;
    reg_result res = {0};
    int64_t z = reg_last_zxid(f->reg);
    reg_op op = {.type = REG_OP_CREATE, .refused = REG_EBADARGUMENTS};
    assert_int_equal(fx_write(f, 0, &op, &res), REG_EBADARGUMENTS);
    assert_int_equal(res.type, REG_OP_CREATE);
    reg_result_clear(&res);
    assert_int_equal(reg_last_zxid(f->reg), z + 1);
    /* before any other check, a closed session's included */
    op = (reg_op){.type = REG_OP_DELETE, .refused = REG_EBADARGUMENTS};
    assert_int_equal(fx_write(f, 0x7777, &op, NULL), REG_EBADARGUMENTS);
    op = (reg_op){.type = REG_OP_SET_ACL, .refused = REG_EMARSHALLINGERROR};
    assert_int_equal(fx_write(f, 0, &op, NULL), REG_EMARSHALLINGERROR);
    op = (reg_op){.type = REG_OP_MULTI, .refused = REG_EMARSHALLINGERROR};
    assert_int_equal(fx_write(f, 0, &op, &res), REG_EMARSHALLINGERROR);
    assert_int_equal(res.nsub, 0);
    reg_result_clear(&res);
    assert_int_equal(reg_last_zxid(f->reg), z + 4);
    assert_int_equal(fx_create(f, 0, "/after", NULL, 0, NULL, 0), 0);
    assert_int_equal(fx_stat(f, "/after").czxid, z + 5);

    /* in a multi: the sub-op fails at its place */
    reg_op ops[3] = {fx_op_create("/r1", NULL, 0),
                     {.type = REG_OP_CREATE, .refused = REG_EBADARGUMENTS},
                     fx_op_create("/r2", NULL, 0)};
    reg_op multi = {.type = REG_OP_MULTI, .ops = ops, .nops = 3};
    assert_int_equal(fx_write(f, 0, &multi, &res), REG_EBADARGUMENTS);
    assert_int_equal(res.nsub, 3);
    assert_int_equal(res.sub[0].err, 0);
    assert_int_equal(res.sub[1].err, REG_EBADARGUMENTS);
    assert_int_equal(res.sub[2].err, REG_ERUNTIMEINCONSISTENCY);
    reg_result_clear(&res);
    assert_false(fx_exists(f, "/r1"));
    /* ... unless an earlier one fails first */
    ops[0] = fx_op_create("/none/r1", NULL, 0);
    assert_int_equal(fx_write(f, 0, &multi, &res), REG_ENONODE);
    assert_int_equal(res.sub[0].err, REG_ENONODE);
    assert_int_equal(res.sub[1].err, REG_ERUNTIMEINCONSISTENCY);
    reg_result_clear(&res);
    /* MARSHALLINGERROR (what ZooKeeper answers an exception other than a
     * KeeperException) fails the whole multi, without sub-results */
    ops[0] = fx_op_create("/r1", NULL, 0);
    ops[1].refused = REG_EMARSHALLINGERROR;
    assert_int_equal(fx_write(f, 0, &multi, &res), REG_EMARSHALLINGERROR);
    assert_int_equal(res.nsub, 0);
    reg_result_clear(&res);
    assert_false(fx_exists(f, "/r1"));
    assert_int_equal(fx_create(f, 0, "/r1", NULL, 0, NULL, 0), 0);
    assert_int_equal(fx_stat(f, "/r1").czxid, z + 9);

    /* what a refusal may be */
    reg_txn *t = NULL;
    op = (reg_op){.type = REG_OP_CREATE, .refused = -EINVAL};
    assert_int_equal(reg_prepare(f->reg, 0, &op, f->now, &t), -EINVAL);
    op = (reg_op){.type = REG_OP_CLOSE_SESSION, .refused = REG_EBADARGUMENTS};
    assert_int_equal(reg_prepare(f->reg, 0, &op, f->now, &t), -EINVAL);
    reg_op sub[1] = {{.type = REG_OP_SET_ACL, .refused = REG_EBADARGUMENTS}};
    multi = (reg_op){.type = REG_OP_MULTI, .ops = sub, .nops = 1};
    assert_int_equal(reg_prepare(f->reg, 0, &multi, f->now, &t), -EINVAL);
    assert_int_equal(reg_pending_count(f->reg), 0);
}

static void test_errors(void **state)
{
    fx *f = *state;
    assert_int_equal(fx_create(f, 0, "/x/y", NULL, 0, NULL, 0), REG_ENONODE);
    assert_int_equal(fx_create(f, 0, "/x", NULL, 0, NULL, 0), 0);
    assert_int_equal(fx_create(f, 0, "/x", NULL, 0, NULL, 0), REG_ENODEEXISTS);
    assert_int_equal(fx_create(f, 0, "/", NULL, 0, NULL, 0), REG_ENODEEXISTS);
    assert_int_equal(fx_create(f, 0, "/x/y", NULL, 0, NULL, 0), 0);
    assert_int_equal(fx_delete(f, 0, "/x", -1), REG_ENOTEMPTY);
    assert_int_equal(fx_delete(f, 0, "/x/y", 5), REG_EBADVERSION);
    assert_int_equal(fx_set(f, 0, "/x/y", "d", 3, NULL), REG_EBADVERSION);
    reg_op chk = fx_op_check("/x/y", 1);
    assert_int_equal(fx_write(f, 0, &chk, NULL), REG_EBADVERSION);
    chk.version = 0;
    assert_int_equal(fx_write(f, 0, &chk, NULL), 0);
    chk.path = "/none";
    assert_int_equal(fx_write(f, 0, &chk, NULL), REG_ENONODE);
    assert_int_equal(fx_delete(f, 0, "/nope", -1), REG_ENONODE);
    assert_int_equal(fx_delete(f, 0, "/nope/deeper", -1), REG_ENONODE);
    assert_int_equal(fx_set(f, 0, "/nope", "x", -1, NULL), REG_ENONODE);
    assert_int_equal(reg_get(f->reg, 0, "/nope", 0, NULL, NULL, NULL), REG_ENONODE);
    assert_int_equal(reg_exists(f->reg, 0, "/nope", 0, NULL), REG_ENONODE);
    assert_int_equal(reg_children(f->reg, 0, "/nope", 0, NULL, NULL, NULL), REG_ENONODE);

    assert_int_equal(fx_delete(f, 0, "/", -1), REG_EBADARGUMENTS);
    assert_int_equal(fx_delete(f, 0, "/zookeeper", -1), REG_EBADARGUMENTS);
    assert_int_equal(fx_delete(f, 0, "/zookeeper/quota", -1), REG_EBADARGUMENTS);
    /* As ZooKeeper: a create looks up the parent before it validates the
     * whole path, a delete never validates more than its "/". */
    static const struct {
        const char *path;
        int create, del;
    } bad[] = {
        {"", REG_EBADARGUMENTS, REG_EBADARGUMENTS},
        {"x", REG_EBADARGUMENTS, REG_EBADARGUMENTS},
        {"x/y", REG_ENONODE, REG_ENONODE},
        {"/x/", REG_EBADARGUMENTS, REG_ENONODE},
        {"//", REG_EBADARGUMENTS, REG_ENONODE},
        {"/x//y", REG_ENONODE, REG_ENONODE},
        {"/.", REG_EBADARGUMENTS, REG_ENONODE},
        {"/x/..", REG_EBADARGUMENTS, REG_ENONODE},
        {"/x/./y", REG_ENONODE, REG_ENONODE},
        {"/\x01", REG_EBADARGUMENTS, REG_ENONODE},
        {"/a\x7f", REG_EBADARGUMENTS, REG_ENONODE},
        {"/\xc2\x80", REG_EBADARGUMENTS, REG_ENONODE},
        {"/\xed\xa0\x80", REG_EBADARGUMENTS, REG_ENONODE},
        {"/\xf0\x9f\x98\x80", REG_EBADARGUMENTS, REG_ENONODE},
        {"/\xef\xbf\xbd", REG_EBADARGUMENTS, REG_ENONODE},
        {"/\xff", REG_EBADARGUMENTS, REG_ENONODE},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(fx_create(f, 0, bad[i].path, NULL, 0, NULL, 0), bad[i].create);
        assert_int_equal(fx_delete(f, 0, bad[i].path, -1), bad[i].del);
        assert_int_equal(fx_set(f, 0, bad[i].path, "", -1, NULL), REG_EBADARGUMENTS);
        assert_int_equal(reg_path_validate(f->reg, bad[i].path, false), REG_EBADARGUMENTS);
        reg_op c = fx_op_create(bad[i].path, NULL, REG_CREATE_PARENTS);
        if (strchr(bad[i].path, '/'))
            assert_int_equal(fx_write(f, 0, &c, NULL), REG_EBADARGUMENTS);
    }
    /* the sequence number is part of the checked path */
    assert_int_equal(fx_create(f, 0, "/x/", NULL, REG_CREATE_SEQUENTIAL, NULL, 0), 0);
    /* data too large */
    reg_config cfg;
    reg_config_default(&cfg);
    char *big = calloc(1, cfg.max_data_bytes + 2);
    memset(big, 'a', cfg.max_data_bytes + 1);
    assert_int_equal(fx_create(f, 0, "/big", big, 0, NULL, 0), REG_EBADARGUMENTS);
    big[cfg.max_data_bytes] = '\0';
    assert_int_equal(fx_create(f, 0, "/big", big, 0, NULL, 0), 0);
    big[cfg.max_data_bytes] = 'a';
    assert_int_equal(fx_set(f, 0, "/big", big, -1, NULL), REG_EBADARGUMENTS);
    free(big);
    /* flags and TTL */
    reg_op op = fx_op_create("/t", NULL, REG_CREATE_CONTAINER | REG_CREATE_EPHEMERAL);
    assert_int_equal(fx_write(f, 0, &op, NULL), REG_EBADARGUMENTS);
    op.create_flags = REG_CREATE_CONTAINER | REG_CREATE_TTL;
    op.ttl_ms = 100;
    assert_int_equal(fx_write(f, 0, &op, NULL), REG_EBADARGUMENTS);
    op.ttl_ms = 0;
    op.create_flags = REG_CREATE_EPHEMERAL | REG_CREATE_TTL;
    op.ttl_ms = 100;
    assert_int_equal(fx_write(f, 0, &op, NULL), REG_EBADARGUMENTS);
    op.create_flags = REG_CREATE_TTL;
    op.ttl_ms = 0;
    assert_int_equal(fx_write(f, 0, &op, NULL), REG_EBADARGUMENTS);
    op.ttl_ms = (1LL << 40);
    assert_int_equal(fx_write(f, 0, &op, NULL), REG_EBADARGUMENTS);
    op.create_flags = 0;
    op.ttl_ms = 5;
    assert_int_equal(fx_write(f, 0, &op, NULL), REG_EBADARGUMENTS);
    op.create_flags = 1u << 12;
    op.ttl_ms = 0;
    assert_int_equal(fx_write(f, 0, &op, NULL), REG_EBADARGUMENTS);
    /* failed writes used zxids too */
    assert_true(reg_last_zxid(f->reg) > 20);
}

static void test_malformed_ops(void **state)
{
    fx *f = *state;
    reg_txn *t = NULL;
    reg_op op = fx_op_create(NULL, NULL, 0);
    int64_t z = reg_last_zxid(f->reg);
    assert_int_equal(reg_prepare(f->reg, 0, &op, f->now, &t), -EINVAL);
    assert_int_equal(reg_prepare(f->reg, 0, NULL, f->now, &t), -EINVAL);
    op = fx_op_create("/a", NULL, 0);
    op.data_len = 4; /* data NULL */
    assert_int_equal(reg_prepare(f->reg, 0, &op, f->now, &t), -EINVAL);
    op.type = 99;
    assert_int_equal(reg_prepare(f->reg, 0, &op, f->now, &t), -EINVAL);
    reg_op sub[1] = {{.type = REG_OP_MULTI}};
    reg_op multi = {.type = REG_OP_MULTI, .ops = sub, .nops = 1};
    assert_int_equal(reg_prepare(f->reg, 0, &multi, f->now, &t), -EINVAL);
    assert_null(t);
    assert_int_equal(reg_pending_count(f->reg), 0);
    assert_int_equal(reg_last_zxid(f->reg), z);
    /* nothing consumed a zxid */
    assert_int_equal(fx_create(f, 0, "/a", NULL, 0, NULL, 0), 0);
    assert_int_equal(fx_stat(f, "/a").czxid, z + 1);
}

static void test_path_validate(void **state)
{
    fx *f = *state;
    const char *good[] = {"/", "/a", "/a/b", "/...", "/a.b", "/.a", "/a..",
                          "/caf\xc3\xa9", "/\xe2\x82\xac", "/a b", "/A-Z_0-9"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_int_equal(reg_path_validate(f->reg, good[i], false), 0);
    assert_int_equal(reg_path_validate(f->reg, "/a/", true), 0);
    assert_int_equal(reg_path_validate(f->reg, "/a/.", true), 0);
    assert_int_equal(reg_path_validate(f->reg, "/a//", true), REG_EBADARGUMENTS);
    assert_int_equal(reg_path_validate(f->reg, NULL, false), REG_EBADARGUMENTS);
    char longp[5000];
    memset(longp, 'a', sizeof(longp));
    longp[0] = '/';
    longp[4097] = '\0';
    assert_int_equal(reg_path_validate(f->reg, longp, false), REG_EBADARGUMENTS);
    longp[4096] = '\0';
    assert_int_equal(reg_path_validate(f->reg, longp, false), 0);
}

static void test_sequential(void **state)
{
    fx *f = *state;
    char p[128];
    assert_int_equal(fx_create(f, 0, "/q", NULL, 0, NULL, 0), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(fx_create(f, 0, "/q/n-", NULL, REG_CREATE_SEQUENTIAL, p, sizeof(p)), 0);
        char want[64];
        snprintf(want, sizeof(want), "/q/n-%010d", i);
        assert_string_equal(p, want);
    }
    assert_int_equal(fx_delete(f, 0, "/q/n-0000000001", -1), 0);
    assert_int_equal(fx_create(f, 0, "/q/n-", NULL, REG_CREATE_SEQUENTIAL, p, sizeof(p)), 0);
    assert_string_equal(p, "/q/n-0000000003");
    assert_int_equal(fx_create(f, 0, "/q/plain", NULL, 0, NULL, 0), 0);
    assert_int_equal(fx_create(f, 0, "/q/", NULL, REG_CREATE_SEQUENTIAL, p, sizeof(p)), 0);
    assert_string_equal(p, "/q/0000000005");
    /* a failed create does not bump the counter */
    assert_int_equal(fx_create(f, 0, "/q/plain", NULL, 0, NULL, 0), REG_ENODEEXISTS);
    assert_int_equal(fx_create(f, 0, "/q/x", NULL, REG_CREATE_SEQUENTIAL, p, sizeof(p)), 0);
    assert_string_equal(p, "/q/x0000000006");
    reg_stat st = fx_stat(f, "/q");
    assert_int_equal(st.num_children, 6);
    assert_int_equal(st.cversion, 2 * 7 - 6);
    /* sequential on the root */
    assert_int_equal(fx_create(f, 0, "/", NULL, REG_CREATE_SEQUENTIAL, p, sizeof(p)), 0);
    assert_string_equal(p, "/0000000001");
}

static void test_parents(void **state)
{
    fx *f = *state;
    char p[128];
    reg_op op = fx_op_create("/p1/p2/leaf", "d", REG_CREATE_PARENTS);
    reg_result res = {0};
    assert_int_equal(fx_write(f, 0, &op, &res), 0);
    assert_string_equal(res.path, "/p1/p2/leaf");
    int64_t z = res.stat.czxid;
    reg_result_clear(&res);
    assert_int_equal(fx_stat(f, "/p1").czxid, z);
    assert_int_equal(fx_stat(f, "/p1/p2").czxid, z);
    assert_int_equal(fx_stat(f, "/p1").num_children, 1);
    assert_int_equal(fx_stat(f, "/p1/p2").data_length, 0);
    assert_int_equal(reg_last_zxid(f->reg), z);
    /* CREATED for each new node, in order */
    assert_int_equal(f->nch, 3);
    assert_string_equal(f->ch[0].path, "/p1");
    assert_string_equal(f->ch[1].path, "/p1/p2");
    assert_string_equal(f->ch[2].path, "/p1/p2/leaf");
    /* existing leaf is still NODEEXISTS */
    assert_int_equal(fx_create(f, 0, "/p1/p2/leaf", NULL, REG_CREATE_PARENTS, NULL, 0),
                     REG_ENODEEXISTS);
    assert_int_equal(fx_create(f, 0, "/s1/s2/n-", NULL,
                               REG_CREATE_PARENTS | REG_CREATE_SEQUENTIAL, p, sizeof(p)), 0);
    assert_string_equal(p, "/s1/s2/n-0000000000");
    /* a failing leaf takes its parents with it */
    assert_int_equal(fx_create(f, 0, "/r1/r2/bad/", NULL, REG_CREATE_PARENTS, NULL, 0),
                     REG_EBADARGUMENTS);
    assert_false(fx_exists(f, "/r1"));
}

/* The descendants under n, counted by walking (what getAllChildrenNumber
 * answered before the registry kept the count). */
static int32_t walk_count(const reg_node *n)
{
    int32_t k = 0;
    for (const reg_node *c = reg_node_first_child(n); c; c = reg_node_next_sibling(c))
        k += 1 + walk_count(c);
    return k;
}

static void check_counts(fx *f, const reg_node *n, char *path, size_t plen)
{
    int32_t got = -1;
    assert_int_equal(reg_all_children_number(f->reg, 0, plen ? path : "/", &got), 0);
    assert_int_equal(got, walk_count(n));
    for (const reg_node *c = reg_node_first_child(n); c; c = reg_node_next_sibling(c)) {
        size_t len;
        const char *name = reg_node_name(c, &len);
        path[plen] = '/';
        memcpy(path + plen + 1, name, len);
        path[plen + 1 + len] = '\0';
        check_counts(f, c, path, plen + 1 + len);
        path[plen] = '\0';
    }
}

/* getAllChildrenNumber reads a count kept by every link and unlink: random
 * creates and deletes (multi included) over a few levels, checked at every
 * node against a walk; then a session's ephemerals go with its close. */
static void test_all_children_number_kept(void **state)
{
    fx *f = *state;
    static const char *const names[] = {"a", "b", "c"};
    char p[64], path[256];
    uint32_t seed = 12345;
    int64_t s = fx_session(f, 10000, 0);
    for (int round = 0; round < 600; round++) {
        seed = seed * 1103515245u + 12345u;
        int depth = 1 + (int)(seed >> 16) % 3;
        size_t len = 0;
        for (int d = 0; d < depth; d++) {
            seed = seed * 1103515245u + 12345u;
            len += (size_t)snprintf(p + len, sizeof p - len, "/%s", names[(seed >> 16) % 3]);
        }
        seed = seed * 1103515245u + 12345u;
        switch ((seed >> 16) % 4) {
        case 0:
        case 1:
            (void)fx_create(f, (seed >> 20) % 3 == 0 ? s : 0, p, NULL,
                            (seed >> 20) % 3 == 0 ? REG_CREATE_EPHEMERAL : 0, NULL, 0);
            break;
        case 2:
            (void)fx_delete(f, 0, p, -1);
            break;
        default: {
            reg_op ops[2] = {fx_op_create(p, NULL, 0), fx_op_delete(p, -1)};
            reg_op multi = {.type = REG_OP_MULTI, .ops = ops, .nops = (seed >> 24) % 2 + 1};
            reg_result res = {0};
            (void)fx_write(f, 0, &multi, &res);
            reg_result_clear(&res);
        }
        }
        if (round % 50 == 49) {
            path[0] = '\0';
            check_counts(f, reg_lookup(f->reg, "/"), path, 0);
        }
    }
    assert_int_equal(fx_close(f, s), 0);
    path[0] = '\0';
    check_counts(f, reg_lookup(f->reg, "/"), path, 0);
}

/* A collect call looks at gc_scan candidates and the next goes on where it
 * stopped: ten expired TTL nodes among five busy containers come back four
 * looks at a time, deleting the node the next call would start at is fine,
 * and every expired one is found once each round. */
static void test_gc_scan_rotates(void **state)
{
    (void)state;
    reg_config cfg;
    reg_config_default(&cfg);
    cfg.gc_scan = 4;
    fx *f = fx_new_cfg(&cfg);
    char p[32], *paths[16];
    for (int i = 0; i < 5; i++) {
        snprintf(p, sizeof p, "/busy%d", i);
        assert_int_equal(fx_create(f, 0, p, NULL, REG_CREATE_CONTAINER, NULL, 0), 0);
        snprintf(p, sizeof p, "/busy%d/k", i);
        assert_int_equal(fx_create(f, 0, p, NULL, 0, NULL, 0), 0);
    }
    for (int i = 0; i < 10; i++) {
        snprintf(p, sizeof p, "/t%d", i);
        reg_op op = fx_op_create(p, NULL, REG_CREATE_TTL);
        op.ttl_ms = 1000;
        assert_int_equal(fx_write(f, 0, &op, NULL), 0);
    }
    int64_t later = f->now + 5000;
    size_t found = 0, calls = 0, got;
    bool deleted_other = false;
    while (found < 10 && calls < 20) {
        got = reg_collect_garbage(f->reg, later, paths, 16);
        calls++;
        assert_true(got <= 4);
        for (size_t i = 0; i < got; i++) {
            assert_int_equal(strncmp(paths[i], "/t", 2), 0);
            assert_int_equal(fx_delete(f, 0, paths[i], -1), 0);
            free(paths[i]);
        }
        found += got;
        if (!deleted_other && found > 0 && found < 10) {
            /* an expired node deleted by someone else: maybe the next start */
            for (int i = 0; i < 10 && !deleted_other; i++) {
                snprintf(p, sizeof p, "/t%d", i);
                deleted_other = fx_delete(f, 0, p, -1) == 0;
            }
            found += deleted_other;
        }
    }
    assert_int_equal(found, 10);
    assert_true(calls >= 3); /* 15 candidates, 4 looks a call */
    assert_int_equal(reg_collect_garbage(f->reg, later, paths, 16), 0);
    fx_free(f);
}

static void test_container_ttl_gc(void **state)
{
    fx *f = *state;
    char *paths[8];
    reg_op op = fx_op_create("/c", NULL, REG_CREATE_CONTAINER);
    assert_int_equal(fx_write(f, 0, &op, NULL), 0);
    assert_int_equal(fx_stat(f, "/c").ephemeral_owner, 0);
    assert_int_equal(reg_collect_garbage(f->reg, f->now, paths, 8), 0);
    /* a sequential container (ZooKeeper's createContainer with a
     * sequential mode) */
    reg_result res0 = {0};
    op = fx_op_create("/cs-", NULL, REG_CREATE_CONTAINER | REG_CREATE_SEQUENTIAL);
    assert_int_equal(fx_write(f, 0, &op, &res0), 0);
    assert_string_equal(res0.path, "/cs-0000000001");
    assert_int_equal(fx_create(f, 0, res0.path, NULL, 0, NULL, 0), REG_ENODEEXISTS);
    char kid[64];
    snprintf(kid, sizeof(kid), "%s/k", res0.path);
    assert_int_equal(fx_create(f, 0, kid, NULL, 0, NULL, 0), 0);
    assert_int_equal(fx_delete(f, 0, kid, -1), 0);
    assert_int_equal(reg_collect_garbage(f->reg, f->now, paths, 8), 1);
    assert_string_equal(paths[0], res0.path);
    assert_int_equal(fx_delete(f, 0, paths[0], -1), 0);
    free(paths[0]);
    reg_result_clear(&res0);
    assert_int_equal(fx_create(f, 0, "/c/k", NULL, 0, NULL, 0), 0);
    assert_int_equal(reg_collect_garbage(f->reg, f->now, paths, 8), 0);
    assert_int_equal(fx_delete(f, 0, "/c/k", -1), 0);
    assert_int_equal(reg_collect_garbage(f->reg, f->now, paths, 8), 1);
    assert_string_equal(paths[0], "/c");
    free(paths[0]);
    assert_int_equal(fx_delete(f, 0, "/c", -1), 0);
    assert_int_equal(reg_collect_garbage(f->reg, f->now, paths, 8), 0);

    op = fx_op_create("/t", NULL, REG_CREATE_TTL);
    op.ttl_ms = 1000;
    assert_int_equal(fx_write(f, 0, &op, NULL), 0);
    assert_int_equal(fx_stat(f, "/t").ephemeral_owner, 0);
    assert_int_equal(reg_collect_garbage(f->reg, f->now + 1000, paths, 8), 0);
    assert_int_equal(reg_collect_garbage(f->reg, f->now + 1001, paths, 8), 1);
    assert_string_equal(paths[0], "/t");
    free(paths[0]);
    assert_int_equal(fx_create(f, 0, "/t/k", NULL, 0, NULL, 0), 0);
    assert_int_equal(reg_collect_garbage(f->reg, f->now + 5000, paths, 8), 0);
    /* sequential TTL */
    op = fx_op_create("/t2-", NULL, REG_CREATE_TTL | REG_CREATE_SEQUENTIAL);
    op.ttl_ms = 10;
    reg_result res = {0};
    assert_int_equal(fx_write(f, 0, &op, &res), 0);
    assert_non_null(strstr(res.path, "/t2-00000000"));
    reg_result_clear(&res);
    assert_int_equal(reg_collect_garbage(f->reg, f->now + 11, paths, 1), 1);
    /* while its delete waits for the log, a node is not named again */
    reg_op del = fx_op_delete(paths[0], -1);
    reg_txn *t = fx_prep(f, 0, &del);
    free(paths[0]);
    assert_int_equal(reg_collect_garbage(f->reg, f->now + 11, paths, 8), 0);
    assert_int_equal(reg_commit(f->reg, t, NULL), 0);
    assert_int_equal(reg_collect_garbage(f->reg, f->now + 11, paths, 8), 0);
    /* nor while a child is on its way */
    op = fx_op_create("/c2", NULL, REG_CREATE_CONTAINER);
    assert_int_equal(fx_write(f, 0, &op, NULL), 0);
    assert_int_equal(fx_create(f, 0, "/c2/k", NULL, 0, NULL, 0), 0);
    assert_int_equal(fx_delete(f, 0, "/c2/k", -1), 0);
    op = fx_op_create("/c2/k2", NULL, 0);
    t = fx_prep(f, 0, &op);
    assert_int_equal(reg_collect_garbage(f->reg, f->now, paths, 8), 0);
    reg_txn_abort(f->reg, t);
    assert_int_equal(reg_collect_garbage(f->reg, f->now, paths, 8), 1);
    assert_string_equal(paths[0], "/c2");
    free(paths[0]);
}

static void test_many_children(void **state)
{
    fx *f = *state;
    enum { N = 20000 };
    char p[64];
    assert_int_equal(fx_create(f, 0, "/big", NULL, 0, NULL, 0), 0);
    for (int i = 0; i < N; i++) {
        snprintf(p, sizeof(p), "/big/m%07d", (i * 7919) % N);
        assert_int_equal(fx_create(f, 0, p, "x", 0, NULL, 0), 0);
    }
    assert_int_equal(fx_stat(f, "/big").num_children, N);
    for (int i = 0; i < N; i += 97) {
        snprintf(p, sizeof(p), "/big/m%07d", i);
        assert_non_null(reg_lookup(f->reg, p));
    }
    const reg_node *parent = reg_lookup(f->reg, "/big");
    const reg_node *c = reg_node_first_child(parent);
    size_t prev_len = 0, count = 0;
    const char *prev = NULL;
    for (; c; c = reg_node_next_sibling(c), count++) {
        size_t len;
        const char *name = reg_node_name(c, &len);
        if (prev)
            assert_true(strcmp(prev, name) < 0);
        prev = name;
        prev_len = len;
    }
    (void)prev_len;
    assert_int_equal(count, N);
    int32_t n;
    assert_int_equal(reg_all_children_number(f->reg, 0, "/big", &n), 0);
    assert_int_equal(n, N);
    for (int i = 0; i < N; i++) {
        snprintf(p, sizeof(p), "/big/m%07d", i);
        assert_int_equal(fx_delete(f, 0, p, -1), 0);
    }
    assert_int_equal(fx_stat(f, "/big").num_children, 0);
    assert_int_equal(reg_node_count(f->reg), 5);
}

static void test_icase_and_view(void **state)
{
    fx *f = *state;
    const char *names[] = {"/svc", "/svc/web", "/svc/WEB", "/svc/Web",
                           "/svc/alpha", "/svc/web2", "/svc/b-1"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        assert_int_equal(fx_create(f, 0, names[i], "v", 0, NULL, 0), 0);
    const reg_node *svc = reg_lookup(f->reg, "/svc");
    size_t len;
    const reg_node *n = reg_node_child_icase(svc, "web", 3);
    assert_string_equal(reg_node_name(n, &len), "web");
    n = reg_node_child_icase(svc, "wEb", 3);
    assert_string_equal(reg_node_name(n, &len), "WEB");
    n = reg_node_child_icase(svc, "ALPHA", 5);
    assert_string_equal(reg_node_name(n, &len), "alpha");
    n = reg_node_child_icase(svc, "B-1", 3);
    assert_string_equal(reg_node_name(n, &len), "b-1");
    assert_null(reg_node_child_icase(svc, "we", 2));
    assert_null(reg_node_child_icase(svc, "webx", 4));
    assert_null(reg_node_child_icase(svc, "zzz", 3));
    assert_ptr_equal(reg_node_parent(n), svc);
    const char *d = reg_node_data(n, &len);
    assert_int_equal(len, 1);
    assert_memory_equal(d, "v", 1);
    reg_stat st;
    reg_node_stat(n, &st);
    assert_int_equal(st.data_length, 1);
    assert_string_equal(reg_node_name(reg_lookup(f->reg, "/"), &len), "");
    assert_int_equal(len, 0);
    assert_null(reg_lookup(f->reg, "/svc/"));
    assert_null(reg_lookup(f->reg, "svc"));
    /* byte order: "WEB" < "Web" < "alpha" < "b-1" < "web" < "web2" */
    struct names c = {0};
    assert_int_equal(reg_children(f->reg, 0, "/svc", 0, NULL, collect, &c), 0);
    assert_int_equal(c.n, 6);
    assert_string_equal(c.v[0], "WEB");
    assert_string_equal(c.v[1], "Web");
    assert_string_equal(c.v[5], "web2");
}

static void test_subtree_zxid(void **state)
{
    fx *f = *state;
    assert_int_equal(fx_create(f, 0, "/s/a/b", NULL, REG_CREATE_PARENTS, NULL, 0), 0);
    int64_t z1 = reg_last_zxid(f->reg);
    assert_int_equal(reg_subtree_zxid(f->reg, "/s"), z1);
    assert_int_equal(fx_create(f, 0, "/other", NULL, 0, NULL, 0), 0);
    assert_int_equal(reg_subtree_zxid(f->reg, "/s"), z1);
    assert_int_equal(fx_set(f, 0, "/s/a/b", "x", -1, NULL), 0);
    int64_t z2 = reg_last_zxid(f->reg);
    assert_int_equal(reg_subtree_zxid(f->reg, "/s"), z2);
    assert_int_equal(reg_subtree_zxid(f->reg, "/s/a/b"), z2);
    assert_int_equal(fx_delete(f, 0, "/s/a/b", -1), 0);
    int64_t z3 = reg_last_zxid(f->reg);
    assert_int_equal(reg_subtree_zxid(f->reg, "/s"), z3);
    assert_int_equal(reg_subtree_zxid(f->reg, "/"), z3);
    assert_int_equal(reg_subtree_zxid(f->reg, "/nope"), 0);
}

static void test_errnames(void **state)
{
    (void)state;
    assert_string_equal(reg_errname(REG_ENONODE), "NONODE");
    assert_string_equal(reg_errname(REG_ENOCHILDRENFOREPHEMERALS), "NOCHILDRENFOREPHEMERALS");
    assert_string_equal(reg_errname(0), "OK");
    assert_string_equal(reg_errname(-ENOMEM), "SYSTEMERROR");
    assert_int_equal(reg_err_to_zk(REG_ENONODE), -101);
    assert_int_equal(reg_err_to_zk(REG_ENOWATCHER), -121);
    assert_int_equal(reg_err_to_zk(0), 0);
    assert_int_equal(reg_err_to_zk(-ENOMEM), -1);
    assert_string_equal(reg_strerror(REG_ENONODE), "node does not exist");
    assert_non_null(reg_strerror(-ENOMEM));
    assert_non_null(reg_strerror(12345));
}

static void test_memory(void **state)
{
    fx *f = *state;
    size_t before = reg_memory_bytes(f->reg);
    assert_int_equal(fx_create(f, 0, "/m", "0123456789", 0, NULL, 0), 0);
    assert_true(reg_memory_bytes(f->reg) > before + 10);
    assert_int_equal(fx_delete(f, 0, "/m", -1), 0);
    assert_int_equal(reg_memory_bytes(f->reg), before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_initial_tree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_get_set_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_ops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_path_validate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sequential, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_container_ttl_gc, setup, teardown),
        cmocka_unit_test(test_gc_scan_rotates),
        cmocka_unit_test_setup_teardown(test_all_children_number_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_children, setup, teardown),
        cmocka_unit_test_setup_teardown(test_icase_and_view, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subtree_zxid, setup, teardown),
        cmocka_unit_test(test_errnames),
        cmocka_unit_test_setup_teardown(test_memory, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
