/*
 * reg_session_test.c - sessions (ids, expiry, passwords, closing),
 * ephemeral nodes and their deletion at close, and ACLs of every scheme.
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

struct seen {
    int n, local;
    int64_t timeouts;
};

static void count_session(void *ctx, int64_t id, int64_t timeout, uint32_t flags)
{
    struct seen *x = ctx;
    assert_true(id != 0);
    x->n++;
    x->local += (flags & REG_SESSION_LOCAL) != 0;
    x->timeouts += timeout;
}

static void test_session_ids(void **state)
{
    (void)state;
    reg_config cfg;
    reg_config_default(&cfg);
    cfg.server_id = 3;
    fx *f = fx_new_cfg(&cfg);
    reg_op cs = {.type = REG_OP_CREATE_SESSION, .timeout_ms = 4000};
    reg_txn *t = fx_prep(f, 0, &cs);
    uint64_t want = (3ull << 56) | (((uint64_t)f->now << 24) >> 8);
    assert_int_equal((uint64_t)reg_txn_session(t), want);
    assert_int_equal(reg_session_count(f->reg), 0);
    reg_result res = {0};
    assert_int_equal(reg_commit(f->reg, t, &res), 0);
    assert_int_equal((uint64_t)res.session, want);
    assert_int_equal(res.type, REG_OP_CREATE_SESSION);
    assert_int_equal(reg_session_count(f->reg), 1);
    assert_int_equal(reg_session_timeout(f->reg, res.session), 4000);
    int64_t s2 = fx_session(f, 5000, REG_SESSION_LOCAL);
    assert_int_equal((uint64_t)s2, want + 1);
    assert_int_equal(reg_session_count(f->reg), 2);
    assert_int_equal(reg_last_zxid(f->reg), 2);
    assert_int_equal(reg_session_timeout(f->reg, 12345), REG_ESESSIONEXPIRED);
    struct seen seen = {0};
    reg_session_foreach(f->reg, count_session, &seen);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.local, 1);
    assert_int_equal(seen.timeouts, 9000);
    fx_free(f);
}

static void test_expiry(void **state)
{
    fx *f = *state;
    int64_t ids[8];
    int64_t s1 = fx_session(f, 1000, 0);
    int64_t s2 = fx_session(f, 3000, 0);
    int64_t sl = fx_session(f, 1000, REG_SESSION_LOCAL);
    int64_t s0 = fx_session(f, 0, 0);
    int64_t t0 = f->now;
    assert_int_equal(reg_sessions_expired(f->reg, t0 + 999, ids, 8), 0);
    assert_int_equal(reg_sessions_expired(f->reg, t0 + 1000, ids, 8), 1);
    assert_int_equal(ids[0], s1);
    /* still reported until closed */
    assert_int_equal(reg_sessions_expired(f->reg, t0 + 1000, ids, 8), 1);
    assert_int_equal(reg_session_touch(f->reg, s1, t0 + 900), 0);
    assert_int_equal(reg_sessions_expired(f->reg, t0 + 1800, ids, 8), 0);
    assert_int_equal(reg_sessions_expired(f->reg, t0 + 1900, ids, 8), 1);
    assert_int_equal(reg_sessions_expired(f->reg, t0 + 100000, ids, 1), 1);
    assert_int_equal(reg_sessions_expired(f->reg, t0 + 100000, ids, 8), 2);
    assert_true((ids[0] == s1 && ids[1] == s2) || (ids[0] == s2 && ids[1] == s1));
    /* a close in the pipeline takes it off the list */
    reg_op cl = {.type = REG_OP_CLOSE_SESSION};
    reg_txn *t = fx_prep(f, s1, &cl);
    assert_int_equal(reg_sessions_expired(f->reg, t0 + 100000, ids, 8), 1);
    assert_int_equal(ids[0], s2);
    assert_int_equal(reg_commit(f->reg, t, NULL), 0);
    assert_int_equal(reg_session_count(f->reg), 3);
    (void)sl;
    (void)s0;
    assert_int_equal(fx_close(f, s2), 0);
    assert_int_equal(reg_sessions_expired(f->reg, INT64_MAX / 2, ids, 8), 0);
}

static void test_check_and_touch(void **state)
{
    fx *f = *state;
    static const uint8_t good[16] = "0123456789abcdef";
    uint8_t bad[16] = "0123456789abcdeX";
    int64_t s = fx_session(f, 1000, 0);
    assert_int_equal(reg_session_check(f->reg, s, good, f->now + 10), 0);
    assert_int_equal(reg_session_check(f->reg, s, bad, f->now), REG_ESESSIONEXPIRED);
    assert_int_equal(reg_session_check(f->reg, s + 99, good, f->now), REG_ESESSIONEXPIRED);
    assert_int_equal(reg_session_touch(f->reg, s + 99, f->now), REG_ESESSIONEXPIRED);
    assert_int_equal(fx_close(f, s), 0);
    assert_int_equal(reg_session_check(f->reg, s, good, f->now), REG_ESESSIONEXPIRED);
    assert_int_equal(reg_session_count(f->reg), 0);
    /* closing an unknown session is a harmless txn */
    int64_t z = reg_last_zxid(f->reg);
    assert_int_equal(fx_close(f, 777), 0);
    assert_int_equal(reg_last_zxid(f->reg), z + 1);
}

static void collect_path(void *ctx, const char *path)
{
    char (*v)[64] = ctx;
    for (int i = 0; i < 16; i++) {
        if (!v[i][0]) {
            strncpy(v[i], path, 63);
            return;
        }
    }
}

static void test_ephemerals(void **state)
{
    fx *f = *state;
    int64_t s = fx_session(f, 10000, 0);
    assert_int_equal(fx_create(f, 0, "/e", NULL, REG_CREATE_EPHEMERAL, NULL, 0),
                     REG_ESESSIONEXPIRED);
    assert_int_equal(fx_create(f, 4242, "/e", NULL, REG_CREATE_EPHEMERAL, NULL, 0),
                     REG_ESESSIONEXPIRED);
    assert_int_equal(fx_create(f, 4242, "/p", NULL, 0, NULL, 0), REG_ESESSIONEXPIRED);
    assert_int_equal(fx_create(f, s, "/g", NULL, 0, NULL, 0), 0);
    assert_int_equal(fx_create(f, s, "/g/z", NULL, REG_CREATE_EPHEMERAL, NULL, 0), 0);
    char p[64];
    assert_int_equal(fx_create(f, s, "/g/m-", NULL,
                               REG_CREATE_EPHEMERAL | REG_CREATE_SEQUENTIAL, p, sizeof(p)), 0);
    assert_string_equal(p, "/g/m-0000000001");
    assert_int_equal(fx_create(f, s, "/a", NULL, REG_CREATE_EPHEMERAL, NULL, 0), 0);
    assert_int_equal(fx_create(f, s, "/a/child", NULL, 0, NULL, 0),
                     REG_ENOCHILDRENFOREPHEMERALS);
    assert_int_equal(fx_create(f, s, "/a/x/y", NULL, REG_CREATE_PARENTS, NULL, 0),
                     REG_ENOCHILDRENFOREPHEMERALS);
    assert_int_equal(fx_stat(f, "/g/z").ephemeral_owner, s);
    char v[16][64] = {{0}};
    assert_int_equal(reg_session_ephemerals(f->reg, s, collect_path, v), 0);
    assert_string_equal(v[0], "/g/z");
    assert_string_equal(v[1], "/g/m-0000000001");
    assert_string_equal(v[2], "/a");
    assert_string_equal(v[3], "");
    assert_int_equal(reg_session_ephemerals(f->reg, 999, collect_path, v),
                     REG_ESESSIONEXPIRED);

    /* watches on the doomed nodes */
    reg_stat st;
    assert_int_equal(reg_get(f->reg, 0, "/g/z", 11, NULL, NULL, &st), 0);
    assert_int_equal(reg_children(f->reg, 0, "/g", 12, NULL, NULL, NULL), 0);
    assert_int_equal(reg_exists(f->reg, 0, "/a", 13, NULL), 0);
    fx_reset(f);
    assert_int_equal(fx_close(f, s), 0);
    int64_t z = reg_last_zxid(f->reg);
    assert_false(fx_exists(f, "/g/z"));
    assert_false(fx_exists(f, "/a"));
    assert_true(fx_exists(f, "/g"));
    assert_int_equal(fx_stat(f, "/g").pzxid, z);
    assert_int_equal(f->nch, 3);
    for (size_t i = 0; i < f->nch; i++) {
        assert_int_equal(f->ch[i].type, REG_EVENT_DELETED);
        assert_int_equal(f->ch[i].zxid, z);
    }
    /* /g/z: DELETED to 11, CHILDREN of /g to 12; /a: DELETED to 13 */
    assert_int_equal(f->nev, 3);
    fx_assert_ev(f, 0, 11, REG_EVENT_DELETED, "/g/z");
    fx_assert_ev(f, 1, 12, REG_EVENT_CHILDREN, "/g");
    fx_assert_ev(f, 2, 13, REG_EVENT_DELETED, "/a");
    assert_int_equal(f->ev[0].zxid, z);
    assert_int_equal(fx_create(f, s, "/b", NULL, REG_CREATE_EPHEMERAL, NULL, 0),
                     REG_ESESSIONEXPIRED);
    assert_int_equal(reg_get(f->reg, s, "/g", 0, NULL, NULL, NULL), REG_ESESSIONEXPIRED);
}

static void test_close_with_pending(void **state)
{
    fx *f = *state;
    int64_t s = fx_session(f, 10000, 0);
    assert_int_equal(fx_create(f, s, "/e1", NULL, REG_CREATE_EPHEMERAL, NULL, 0), 0);
    assert_int_equal(fx_create(f, s, "/e2", NULL, REG_CREATE_EPHEMERAL, NULL, 0), 0);
    reg_op c3 = fx_op_create("/e3", NULL, REG_CREATE_EPHEMERAL);
    reg_op d1 = fx_op_delete("/e1", -1), cl = {.type = REG_OP_CLOSE_SESSION};
    reg_txn *t1 = fx_prep(f, s, &c3);
    reg_txn *t2 = fx_prep(f, s, &d1);
    reg_txn *t3 = fx_prep(f, s, &cl);
    reg_txn *t4 = fx_prep(f, s, &c3); /* after the close: expired */
    assert_int_equal(reg_txn_err(t4), REG_ESESSIONEXPIRED);
    /* a parent of an ephemeral being closed may be deleted behind it */
    assert_int_equal(reg_commit(f->reg, t1, NULL), 0);
    assert_int_equal(reg_commit(f->reg, t2, NULL), 0);
    fx_reset(f);
    assert_int_equal(reg_commit(f->reg, t3, NULL), 0);
    assert_int_equal(f->nch, 2);
    assert_string_equal(f->ch[0].path, "/e2");
    assert_string_equal(f->ch[1].path, "/e3");
    assert_int_equal(reg_commit(f->reg, t4, NULL), REG_ESESSIONEXPIRED);
    assert_false(fx_exists(f, "/e3"));
    assert_int_equal(reg_session_count(f->reg), 0);
}

static void count_ident(void *ctx, const reg_auth *id)
{
    assert_string_equal(id->scheme, "digest");
    assert_string_equal(id->id, "bob:hash=");
    (*(int *)ctx)++;
}

static void test_acl_digest(void **state)
{
    fx *f = *state;
    int64_t bob = fx_session(f, 10000, 0), eve = fx_session(f, 10000, 0);
    reg_acl acl[] = {{REG_PERM_ALL, "digest", "bob:hash="},
                     {REG_PERM_READ, "world", "anyone"}};
    assert_int_equal(fx_create_acl(f, bob, "/d", acl, 2), 0);
    assert_int_equal(reg_session_add_auth(f->reg, bob, "digest", "bob:hash="), 0);
    assert_int_equal(reg_session_add_auth(f->reg, bob, "digest", "bob:hash="), 0);
    assert_int_equal(reg_get(f->reg, eve, "/d", 0, NULL, NULL, NULL), 0);
    assert_int_equal(fx_set(f, eve, "/d", "x", -1, NULL), REG_ENOAUTH);
    assert_int_equal(fx_set(f, bob, "/d", "x", -1, NULL), 0);
    assert_int_equal(fx_create(f, eve, "/d/c", NULL, 0, NULL, 0), REG_ENOAUTH);
    assert_int_equal(fx_create(f, bob, "/d/c", NULL, 0, NULL, 0), 0);
    assert_int_equal(fx_delete(f, eve, "/d/c", -1), REG_ENOAUTH);
    assert_int_equal(fx_delete(f, bob, "/d/c", -1), 0);
    assert_int_equal(fx_delete(f, eve, "/d/none", -1), REG_ENOAUTH); /* parent first */
    assert_int_equal(reg_session_add_auth(f->reg, eve, "digest", "bob:other"), 0);
    assert_int_equal(fx_set(f, eve, "/d", "x", -1, NULL), REG_ENOAUTH);
    int nid = 0;
    assert_int_equal(reg_session_identities(f->reg, bob, count_ident, &nid), 0);
    assert_int_equal(nid, 1);
    assert_int_equal(reg_session_identities(f->reg, 31337, count_ident, &nid),
                     REG_ESESSIONEXPIRED);
    assert_int_equal(reg_session_clear_auth(f->reg, bob), 0);
    nid = 0;
    assert_int_equal(reg_session_identities(f->reg, bob, count_ident, &nid), 0);
    assert_int_equal(nid, 0);
    assert_int_equal(fx_set(f, bob, "/d", "x", -1, NULL), REG_ENOAUTH);
    /* super passes everything */
    assert_int_equal(reg_session_add_auth(f->reg, eve, "super", ""), 0);
    assert_int_equal(fx_set(f, eve, "/d", "y", -1, NULL), 0);
}

struct acls {
    reg_acl v[8];
    char ids[8][64];
    char schemes[8][16];
    int n;
};

static void grab_acl(void *ctx, const reg_acl *a)
{
    struct acls *c = ctx;
    strncpy(c->ids[c->n], a->id, 63);
    strncpy(c->schemes[c->n], a->scheme, 15);
    c->v[c->n].perms = a->perms;
    c->n++;
}

static void test_get_set_acl(void **state)
{
    fx *f = *state;
    int64_t s = fx_session(f, 10000, 0), o = fx_session(f, 10000, 0);
    reg_acl acl[] = {{REG_PERM_READ, "digest", "ann:secret"},
                     {REG_PERM_ADMIN, "digest", "adm:pw"}};
    assert_int_equal(fx_create_acl(f, 0, "/n", acl, 2), 0);
    struct acls c = {0};
    assert_int_equal(reg_get_acl(f->reg, o, "/n", NULL, grab_acl, &c), REG_ENOAUTH);
    assert_int_equal(reg_session_add_auth(f->reg, s, "digest", "ann:secret"), 0);
    reg_stat st;
    assert_int_equal(reg_get_acl(f->reg, s, "/n", &st, grab_acl, &c), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.ids[0], "ann:x"); /* no ADMIN: redacted */
    assert_string_equal(c.ids[1], "adm:x");
    assert_int_equal(st.aversion, 0);
    /* setACL needs ADMIN */
    reg_acl open[] = {{REG_PERM_ALL, "world", "anyone"}};
    reg_op sa = {.type = REG_OP_SET_ACL, .path = "/n", .acl = open, .acl_count = 1,
                 .version = -1};
    assert_int_equal(fx_write(f, s, &sa, NULL), REG_ENOAUTH);
    assert_int_equal(reg_session_add_auth(f->reg, s, "digest", "adm:pw"), 0);
    c.n = 0;
    assert_int_equal(reg_get_acl(f->reg, s, "/n", NULL, grab_acl, &c), 0);
    assert_string_equal(c.ids[0], "ann:secret");
    sa.version = 3;
    assert_int_equal(fx_write(f, s, &sa, NULL), REG_EBADVERSION);
    sa.version = 0;
    reg_result res = {0};
    assert_int_equal(fx_write(f, s, &sa, &res), 0);
    assert_int_equal(res.stat.aversion, 1);
    reg_result_clear(&res);
    assert_int_equal(fx_stat(f, "/n").aversion, 1);
    c.n = 0;
    assert_int_equal(reg_get_acl(f->reg, o, "/n", NULL, grab_acl, &c), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.schemes[0], "world");
    sa.path = "/none";
    sa.version = -1;
    assert_int_equal(fx_write(f, s, &sa, NULL), REG_ENONODE);
    assert_int_equal(reg_get_acl(f->reg, s, "/none", NULL, grab_acl, &c), REG_ENONODE);
}

static void test_acl_auth_scheme(void **state)
{
    fx *f = *state;
    int64_t s = fx_session(f, 10000, 0), o = fx_session(f, 10000, 0);
    reg_acl acl[] = {{REG_PERM_ALL, "auth", ""}};
    assert_int_equal(reg_session_add_auth(f->reg, s, "ip", "127.0.0.1"), 0);
    assert_int_equal(fx_create_acl(f, s, "/au", acl, 1), REG_EINVALIDACL);
    assert_int_equal(fx_create_acl(f, 0, "/au", acl, 1), REG_EINVALIDACL);
    assert_int_equal(reg_session_add_auth(f->reg, s, "digest", "u1:h1"), 0);
    assert_int_equal(reg_session_add_auth(f->reg, s, "digest", "u2:h2"), 0);
    assert_int_equal(fx_create_acl(f, s, "/au", acl, 1), 0);
    struct acls c = {0};
    assert_int_equal(reg_get_acl(f->reg, s, "/au", NULL, grab_acl, &c), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.schemes[0], "digest");
    assert_string_equal(c.ids[0], "u1:h1");
    assert_string_equal(c.ids[1], "u2:h2");
    assert_int_equal(reg_get(f->reg, o, "/au", 0, NULL, NULL, NULL), REG_ENOAUTH);
    assert_int_equal(reg_session_add_auth(f->reg, o, "digest", "u2:h2"), 0);
    assert_int_equal(reg_get(f->reg, o, "/au", 0, NULL, NULL, NULL), 0);
}

static void test_acl_ip(void **state)
{
    fx *f = *state;
    int64_t in = fx_session(f, 10000, 0), out = fx_session(f, 10000, 0);
    int64_t v6 = fx_session(f, 10000, 0);
    reg_acl acl[] = {{REG_PERM_ALL, "ip", "10.1.0.0/16"},
                     {REG_PERM_READ, "ip", "192.168.1.7"},
                     {REG_PERM_ALL, "ip", "fd00::/8"}};
    assert_int_equal(fx_create_acl(f, 0, "/ip", acl, 3), 0);
    assert_int_equal(reg_session_add_auth(f->reg, in, "ip", "10.1.200.3"), 0);
    assert_int_equal(reg_session_add_auth(f->reg, out, "ip", "10.2.0.1"), 0);
    assert_int_equal(reg_session_add_auth(f->reg, v6, "ip", "fd12::1"), 0);
    assert_int_equal(fx_set(f, in, "/ip", "x", -1, NULL), 0);
    assert_int_equal(fx_set(f, out, "/ip", "x", -1, NULL), REG_ENOAUTH);
    assert_int_equal(fx_set(f, v6, "/ip", "x", -1, NULL), 0);
    assert_int_equal(reg_get(f->reg, out, "/ip", 0, NULL, NULL, NULL), REG_ENOAUTH);
    assert_int_equal(reg_session_add_auth(f->reg, out, "ip", "192.168.1.7"), 0);
    assert_int_equal(reg_get(f->reg, out, "/ip", 0, NULL, NULL, NULL), 0);
    assert_int_equal(fx_set(f, out, "/ip", "x", -1, NULL), REG_ENOAUTH);
    /* an ip identity alone does not satisfy digest */
    reg_acl d[] = {{REG_PERM_ALL, "digest", "10.1.200.3:x"}};
    assert_int_equal(fx_create_acl(f, 0, "/ip2", d, 1), 0);
    assert_int_equal(reg_get(f->reg, in, "/ip2", 0, NULL, NULL, NULL), REG_ENOAUTH);
}

static void test_acl_invalid(void **state)
{
    fx *f = *state;
    reg_acl bad[][1] = {
        {{REG_PERM_ALL, "world", "someone"}}, {{REG_PERM_ALL, "nosuch", "x"}},
        {{REG_PERM_ALL, "digest", "bob"}},    {{REG_PERM_ALL, "digest", "a:b:c"}},
        {{REG_PERM_ALL, "ip", "10.0.0.256"}}, {{REG_PERM_ALL, "ip", "10.0.0.1/33"}},
        {{REG_PERM_ALL, "ip", "1.2.3"}},      {{REG_PERM_ALL, "ip", "x.y.z.w"}},
        {{REG_PERM_ALL, NULL, "x"}},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(fx_create_acl(f, 0, "/bad", bad[i], 1), REG_EINVALIDACL);
    reg_acl ok[] = {{REG_PERM_ALL, "world", "anyone"}};
    assert_int_equal(fx_create_acl(f, 0, "/bad", ok, 0), REG_EINVALIDACL);
    reg_acl good[] = {{REG_PERM_ALL, "digest", ":b"}, {REG_PERM_ALL, "digest", "a:b:"},
                      {REG_PERM_ALL, "ip", "10.0.0.0/0"}};
    for (int i = 0; i < 3; i++) {
        char p[16];
        snprintf(p, sizeof(p), "/good%d", i);
        assert_int_equal(fx_create_acl(f, 0, p, &good[i], 1), 0);
    }
    /* duplicates are dropped */
    reg_acl dup[] = {{REG_PERM_ALL, "world", "anyone"}, {REG_PERM_ALL, "world", "anyone"}};
    assert_int_equal(fx_create_acl(f, 0, "/dup", dup, 2), 0);
    struct acls c = {0};
    assert_int_equal(reg_get_acl(f->reg, 0, "/dup", NULL, grab_acl, &c), 0);
    assert_int_equal(c.n, 1);
}

/* Null scheme or id (jute null strings), as ZooKeeper 3.8's fixupACL takes
 * them, checked against it: where Java dereferences one it throws a
 * NullPointerException, answered MARSHALLINGERROR; else INVALIDACL. */
static void test_acl_null_strings(void **state)
{
    fx *f = *state;
    static const struct {
        reg_acl a[2];
        size_t n;
        int want;
    } cases[] = {
        {{{REG_PERM_ALL, "world", NULL}}, 1, REG_EMARSHALLINGERROR},
        {{{REG_PERM_ALL, "digest", NULL}}, 1, REG_EMARSHALLINGERROR},
        {{{REG_PERM_ALL, "ip", NULL}}, 1, REG_EMARSHALLINGERROR},
        {{{REG_PERM_ALL, "foo", NULL}}, 1, REG_EINVALIDACL},   /* no provider */
        {{{REG_PERM_ALL, "super", NULL}}, 1, REG_EINVALIDACL},
        {{{REG_PERM_ALL, "auth", NULL}}, 1, REG_EINVALIDACL},  /* no identity */
        {{{REG_PERM_ALL, NULL, "x"}}, 1, REG_EINVALIDACL},
        /* removeDuplicates: the later entry's equals throws on its own null
         * scheme or id when the perms (and scheme) match an earlier one */
        {{{REG_PERM_ALL, "world", "anyone"}, {REG_PERM_ALL, NULL, "x"}}, 2,
         REG_EMARSHALLINGERROR},
        {{{REG_PERM_ALL, "world", "anyone"}, {REG_PERM_READ, NULL, "x"}}, 2,
         REG_EINVALIDACL},
        {{{REG_PERM_ALL, "digest", "a:b"}, {REG_PERM_ALL, "digest", NULL}}, 2,
         REG_EMARSHALLINGERROR},
        {{{REG_PERM_ALL, "digest", NULL}, {REG_PERM_ALL, "digest", "a:b"}}, 2,
         REG_EMARSHALLINGERROR},
        {{{REG_PERM_ALL, NULL, "x"}, {REG_PERM_ALL, "world", NULL}}, 2, REG_EINVALIDACL},
        {{{REG_PERM_ALL, "world", NULL}, {REG_PERM_READ, NULL, "x"}}, 2,
         REG_EMARSHALLINGERROR},
    };
    int64_t z = reg_last_zxid(f->reg);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (fx_create_acl(f, 0, "/n", cases[i].a, cases[i].n) != cases[i].want)
            print_error("case %zu\n", i);
        assert_int_equal(fx_create_acl(f, 0, "/n", cases[i].a, cases[i].n), cases[i].want);
        reg_op sa = {.type = REG_OP_SET_ACL, .path = "/", .acl = cases[i].a,
                     .acl_count = cases[i].n, .version = -1};
        assert_int_equal(fx_write(f, 0, &sa, NULL), cases[i].want);
    }
    /* each an error txn */
    assert_int_equal(reg_last_zxid(f->reg), z + 3 * (int64_t)(sizeof(cases) / sizeof(cases[0])));
    /* in a multi, MARSHALLINGERROR fails the whole request */
    reg_op ops[2] = {fx_op_create("/m", NULL, 0), fx_op_create("/n", NULL, 0)};
    ops[1].acl = cases[0].a;
    ops[1].acl_count = 1;
    reg_op multi = {.type = REG_OP_MULTI, .ops = ops, .nops = 2};
    reg_result res = {0};
    assert_int_equal(fx_write(f, 0, &multi, &res), REG_EMARSHALLINGERROR);
    assert_int_equal(res.nsub, 0);
    reg_result_clear(&res);
    assert_false(fx_exists(f, "/m"));
    /* the auth scheme ignores its id, null or not */
    int64_t s = fx_session(f, 10000, 0);
    assert_int_equal(reg_session_add_auth(f->reg, s, "digest", "u:h"), 0);
    reg_acl au[] = {{REG_PERM_ALL, "auth", NULL}};
    assert_int_equal(fx_create_acl(f, s, "/au", au, 1), 0);
    struct acls c = {0};
    assert_int_equal(reg_get_acl(f->reg, s, "/au", NULL, grab_acl, &c), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.ids[0], "u:h");
}

static void test_acl_perms(void **state)
{
    fx *f = *state;
    int64_t s = fx_session(f, 10000, 0);
    reg_acl ro[] = {{REG_PERM_READ | REG_PERM_CREATE, "world", "anyone"}};
    reg_acl none[] = {{0, "world", "anyone"}};
    assert_int_equal(fx_create_acl(f, 0, "/r", ro, 1), 0);
    assert_int_equal(fx_create_acl(f, 0, "/n", none, 1), 0);
    assert_int_equal(fx_create(f, s, "/r/c", NULL, 0, NULL, 0), 0);
    assert_int_equal(fx_delete(f, s, "/r/c", -1), REG_ENOAUTH);
    assert_int_equal(fx_set(f, s, "/r", "x", -1, NULL), REG_ENOAUTH);
    assert_int_equal(reg_get(f->reg, s, "/r", 0, NULL, NULL, NULL), 0);
    assert_int_equal(reg_get(f->reg, s, "/n", 7, NULL, NULL, NULL), REG_ENOAUTH);
    assert_int_equal(reg_watch_count(f->reg), 0); /* no watch on NOAUTH */
    assert_int_equal(reg_children(f->reg, s, "/n", 0, NULL, NULL, NULL), REG_ENOAUTH);
    int32_t cnt;
    assert_int_equal(reg_all_children_number(f->reg, s, "/n", &cnt), REG_ENOAUTH);
    assert_int_equal(reg_exists(f->reg, s, "/n", 0, NULL), 0); /* no ACL check */
    reg_op chk = fx_op_check("/n", -1);
    assert_int_equal(fx_write(f, s, &chk, NULL), REG_ENOAUTH);
    assert_int_equal(fx_create(f, s, "/n/c", NULL, 0, NULL, 0), REG_ENOAUTH);
    /* the server is never refused */
    assert_int_equal(fx_set(f, 0, "/n", "x", -1, NULL), 0);
    assert_int_equal(fx_delete(f, 0, "/r/c", -1), 0);
}

struct big_check {
    char (*names)[16];
    size_t i;
    bool ok;
};

static void big_acl_check(void *ctx, const reg_acl *a)
{
    struct big_check *b = ctx;
    b->ok = b->ok && strcmp(a->id, b->names[b->i]) == 0;
    b->i++;
}

/* ---- fixupACL against a model -------------------------------------------- */

/* ZooKeeper 3.8's fixupACL as written there, for lists of entries from a
 * small alphabet: removeDuplicates (ArrayList.contains: each entry against
 * every kept one before it, the new entry's equals throwing on its own null
 * scheme or id), then each kept entry in turn. Returns the error, or 0 with
 * the kept entries' indices in keep[]. */
static int model_fixup(const reg_acl *a, size_t n, size_t *keep, size_t *nkeep)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool dup = false;
        for (size_t j = 0; j < k && !dup; j++) {
            const reg_acl *o = &a[keep[j]];
            if (o->perms != a[i].perms)
                continue;
            if (!a[i].scheme)
                return REG_EMARSHALLINGERROR;
            if (!o->scheme || strcmp(o->scheme, a[i].scheme) != 0)
                continue;
            if (!a[i].id)
                return REG_EMARSHALLINGERROR;
            dup = o->id && strcmp(o->id, a[i].id) == 0;
        }
        if (!dup)
            keep[k++] = i;
    }
    for (size_t j = 0; j < k; j++) {
        const reg_acl *e = &a[keep[j]];
        if (!e->scheme)
            return REG_EINVALIDACL;
        if (!e->id)
            return REG_EMARSHALLINGERROR; /* world and digest dereference it */
        bool ok = strcmp(e->scheme, "world") == 0 ? strcmp(e->id, "anyone") == 0
                                                  : strchr(e->id, ':') != NULL;
        if (!ok)
            return REG_EINVALIDACL;
    }
    *nkeep = k;
    return 0;
}

struct acl_text {
    char s[512];
    size_t len;
};

static void acl_to_text(void *ctx, const reg_acl *a)
{
    struct acl_text *t = ctx;
    int n = snprintf(t->s + t->len, sizeof(t->s) - t->len, "%d:%s:%s;", a->perms, a->scheme,
                     a->id);
    assert_true(n > 0 && (size_t)n < sizeof(t->s) - t->len);
    t->len += (size_t)n;
}

/* Every list of up to three entries over perms {READ, ALL}, schemes {null,
 * world, digest} and ids {null, anyone, a:b, c:d}: the same answer and the
 * same kept entries as the model. Then 32,000 distinct entries given twice
 * (ZooKeeper's quadratic removeDuplicates held the loop for seconds on a
 * list a 1 MiB request can carry): each kept once, in order. */
static void test_acl_fixup_model(void **state)
{
    fx *f = *state;
    static const int32_t perms[] = {REG_PERM_READ, REG_PERM_ALL};
    static const char *const schemes[] = {NULL, "world", "digest"};
    static const char *const ids[] = {NULL, "anyone", "a:b", "c:d"};
    enum { NP = 2, NS = 3, NI = 4, NE = NP * NS * NI };
    reg_acl alpha[NE];
    for (int i = 0; i < NE; i++)
        alpha[i] = (reg_acl){perms[i % NP], schemes[i / NP % NS], ids[i / NP / NS]};
    size_t cases = 0;
    for (size_t len = 1; len <= 3; len++) {
        size_t total = len == 1 ? NE : len == 2 ? NE * NE : NE * NE * NE;
        for (size_t c = 0; c < total; c++) {
            reg_acl list[3];
            size_t x = c, keep[3], nkeep = 0;
            for (size_t i = 0; i < len; i++, x /= NE)
                list[i] = alpha[x % NE];
            int want = model_fixup(list, len, keep, &nkeep);
            int got = fx_create_acl(f, 0, "/m", list, len);
            if (got != want)
                print_error("case len %zu #%zu: %d, model %d\n", len, c, got, want);
            assert_int_equal(got, want);
            cases++;
            if (got != 0)
                continue;
            struct acl_text t = {0}, w = {0};
            assert_int_equal(reg_get_acl(f->reg, 0, "/m", NULL, acl_to_text, &t), 0);
            for (size_t j = 0; j < nkeep; j++)
                acl_to_text(&w, &list[keep[j]]);
            assert_string_equal(t.s, w.s);
            assert_int_equal(fx_delete(f, 0, "/m", -1), 0);
        }
    }
    assert_int_equal(cases, NE + NE * NE + NE * NE * NE);

    size_t n = 32000;
    reg_acl *big = calloc(2 * n, sizeof(*big));
    char (*names)[16] = calloc(n, sizeof(*names));
    assert_non_null(big);
    assert_non_null(names);
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], sizeof(names[i]), "u%zu:h", i);
        big[i] = big[n + i] = (reg_acl){REG_PERM_ALL, "digest", names[i]};
    }
    assert_int_equal(fx_create_acl(f, 0, "/big", big, 2 * n), 0);
    struct big_check bc = {names, 0, true};
    assert_int_equal(reg_get_acl(f->reg, 0, "/big", NULL, big_acl_check, &bc), 0);
    assert_true(bc.ok);
    assert_int_equal(bc.i, n);
    free(big);
    free(names);
}

/* ---- checks through a long list's table ------------------------------------ */

static uint64_t chk_rng = 0x2545f4914f6cdd1dull;

static uint32_t chk_rnd(uint32_t n)
{
    chk_rng ^= chk_rng << 13;
    chk_rng ^= chk_rng >> 7;
    chk_rng ^= chk_rng << 17;
    return (uint32_t)(chk_rng % n);
}

/* Which session identities an entry grants to, by hand: the alphabet's ip
 * entries against the two addresses sessions have. */
static bool chk_matches(const reg_acl *e, const reg_auth *who)
{
    if (strcmp(e->scheme, "world") == 0 && strcmp(e->id, "anyone") == 0)
        return true;
    if (strcmp(e->scheme, who->scheme) != 0)
        return false;
    if (strcmp(e->scheme, "ip") != 0)
        return strcmp(e->id, who->id) == 0;
    bool ten = strcmp(who->id, "10.1.2.3") == 0;
    if (strcmp(e->id, "10.0.0.0/8") == 0 || strcmp(e->id, "10.1.2.3") == 0)
        return ten;
    return !ten; /* 192.168.0.0/16, and the session's 192.168.7.7 */
}

/* Random lists of up to six entries and random identity sets: a node with
 * the list as it is (short: scanned) and one with 24 more entries nobody
 * holds (long: looked up in its table) grant READ and WRITE exactly where a
 * model says. */
static void test_acl_check_table(void **state)
{
    fx *f = *state;
    static const reg_acl alpha[] = {
        {REG_PERM_READ, "world", "anyone"},   {REG_PERM_WRITE, "world", "anyone"},
        {REG_PERM_READ, "digest", "ann:h"},   {REG_PERM_WRITE, "digest", "ann:h"},
        {REG_PERM_ALL, "digest", "bob:h"},    {REG_PERM_READ, "world", "other"},
        {REG_PERM_WRITE, "ip", "10.0.0.0/8"}, {REG_PERM_READ, "ip", "192.168.0.0/16"},
        {REG_PERM_ALL, "ip", "10.1.2.3"},     {REG_PERM_READ, "digest", "bob:h"},
    };
    static const reg_auth who[] = {{"digest", "ann:h"}, {"digest", "bob:h"},
                                   {"ip", "10.1.2.3"},  {"ip", "192.168.7.7"},
                                   {"world", "other"},  {"digest", "eve:h"}};
    enum { NA = sizeof(alpha) / sizeof(alpha[0]), NW = sizeof(who) / sizeof(who[0]) };
    static char pads[24][16];
    for (int i = 0; i < 24; i++)
        snprintf(pads[i], sizeof(pads[i]), "pad%d:h", i);
    for (int trial = 0; trial < 400; trial++) {
        reg_acl list[6 + 24];
        size_t n = 1 + chk_rnd(6);
        for (size_t i = 0; i < n; i++)
            list[i] = alpha[chk_rnd(NA)];
        for (size_t i = 0; i < 24; i++)
            list[n + i] = (reg_acl){REG_PERM_ALL, "digest", pads[i]};
        int64_t s = fx_session(f, 10000, 0);
        bool has[NW] = {0};
        for (int k = (int)chk_rnd(4); k > 0; k--) {
            size_t w = chk_rnd(NW);
            has[w] = true;
            assert_int_equal(reg_session_add_auth(f->reg, s, who[w].scheme, who[w].id), 0);
        }
        int32_t want = 0; /* the perms the session holds by the model */
        for (size_t i = 0; i < n; i++) {
            reg_auth nobody = {"none", "none"};
            bool grant = chk_matches(&list[i], &nobody);
            for (size_t w = 0; w < NW; w++)
                grant = grant || (has[w] && chk_matches(&list[i], &who[w]));
            if (grant)
                want |= list[i].perms;
        }
        char sp[32], lp[32];
        snprintf(sp, sizeof sp, "/s%d", trial);
        snprintf(lp, sizeof lp, "/l%d", trial);
        int rs = fx_create_acl(f, 0, sp, list, n), rl = fx_create_acl(f, 0, lp, list, n + 24);
        assert_int_equal(rs, rl);
        if (rs != 0)
            continue; /* a duplicate the list took out, say: same answer both */
        for (int k = 0; k < 2; k++) {
            const char *p = k ? lp : sp;
            const void *d;
            size_t dl;
            int rg = reg_get(f->reg, s, p, 0, &d, &dl, NULL);
            assert_int_equal(rg, (want & REG_PERM_READ) ? 0 : REG_ENOAUTH);
            int rw = fx_set(f, s, p, "x", -1, NULL);
            assert_int_equal(rw, (want & REG_PERM_WRITE) ? 0 : REG_ENOAUTH);
        }
        assert_int_equal(fx_close(f, s), 0);
    }
}

/* reg_ephemeral_count follows creates, deletes and session closes; TTL
 * and container nodes are not ephemerals. */
static void test_ephemeral_count(void **state)
{
    fx *f = *state;
    int64_t a = fx_session(f, 10000, 0), b = fx_session(f, 10000, REG_SESSION_LOCAL);
    assert_int_equal(reg_ephemeral_count(f->reg), 0);
    assert_int_equal(fx_create(f, a, "/e1", NULL, REG_CREATE_EPHEMERAL, NULL, 0), 0);
    assert_int_equal(fx_create(f, a, "/e2-", NULL, REG_CREATE_EPHEMERAL | REG_CREATE_SEQUENTIAL,
                               NULL, 0), 0);
    assert_int_equal(fx_create(f, b, "/e3", NULL, REG_CREATE_EPHEMERAL, NULL, 0), 0);
    assert_int_equal(fx_create(f, a, "/c", NULL, REG_CREATE_CONTAINER, NULL, 0), 0);
    reg_op ttl = fx_op_create("/t", NULL, REG_CREATE_TTL);
    ttl.ttl_ms = 1000;
    assert_int_equal(fx_write(f, a, &ttl, NULL), 0);
    assert_int_equal(fx_create(f, a, "/e1", NULL, REG_CREATE_EPHEMERAL, NULL, 0),
                     REG_ENODEEXISTS);
    assert_int_equal(reg_ephemeral_count(f->reg), 3);
    assert_int_equal(fx_delete(f, 0, "/e1", -1), 0);
    assert_int_equal(reg_ephemeral_count(f->reg), 2);
    assert_int_equal(fx_close(f, a), 0);
    assert_int_equal(reg_ephemeral_count(f->reg), 1);
    assert_int_equal(fx_close(f, b), 0);
    assert_int_equal(reg_ephemeral_count(f->reg), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session_ids),
        cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_and_touch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ephemerals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_with_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_acl_digest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_set_acl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_acl_auth_scheme, setup, teardown),
        cmocka_unit_test_setup_teardown(test_acl_ip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_acl_null_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_acl_fixup_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_acl_check_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ephemeral_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_acl_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_acl_perms, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
