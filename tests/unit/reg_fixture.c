/*
 * reg_fixture.c - shared helpers of the registry's unit tests.
 */
#include <stdlib.h>
#include <string.h>

#include "reg_fixture.h"

static void on_watch(void *ctx, uint64_t watcher, int type, const char *path,
                     int64_t zxid)
{
    fx *f = ctx;
    assert_true(f->nev < FX_MAX_EV);
    fx_ev *e = &f->ev[f->nev++];
    e->watcher = watcher;
    e->type = type;
    e->zxid = zxid;
    strncpy(e->path, path, sizeof(e->path) - 1);
    e->path[sizeof(e->path) - 1] = '\0';
}

static void on_change(void *ctx, int type, const char *path, int64_t zxid)
{
    fx *f = ctx;
    if (f->nch >= FX_MAX_EV)
        return;
    fx_ev *e = &f->ch[f->nch++];
    e->watcher = 0;
    e->type = type;
    e->zxid = zxid;
    strncpy(e->path, path, sizeof(e->path) - 1);
    e->path[sizeof(e->path) - 1] = '\0';
}

fx *fx_new_cfg(const reg_config *cfg)
{
    fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    reg_hooks h = {f, on_watch, on_change};
    f->reg = reg_create(cfg, &h);
    assert_non_null(f->reg);
    f->now = 1700000000000LL;
    return f;
}

fx *fx_new(void)
{
    reg_config cfg;
    reg_config_default(&cfg);
    return fx_new_cfg(&cfg);
}

void fx_free(fx *f)
{
    if (!f)
        return;
    reg_free(f->reg);
    free(f);
}

void fx_reset(fx *f)
{
    f->nev = 0;
    f->nch = 0;
}

reg_txn *fx_prep(fx *f, int64_t s, const reg_op *op)
{
    reg_txn *t = NULL;
    assert_int_equal(reg_prepare(f->reg, s, op, f->now, &t), 0);
    assert_non_null(t);
    return t;
}

int fx_write(fx *f, int64_t session, const reg_op *op, reg_result *res)
{
    reg_txn *t = NULL;
    int rc = reg_prepare(f->reg, session, op, f->now, &t);
    if (rc)
        return rc;
    int err = reg_txn_err(t);
    rc = reg_commit(f->reg, t, res);
    if (res)
        assert_int_equal(res->err, rc);
    if (op->type != REG_OP_MULTI)
        assert_int_equal(rc, err);
    return rc;
}

reg_op fx_op_create(const char *path, const char *data, uint32_t flags)
{
    reg_op op = {0};
    op.type = REG_OP_CREATE;
    op.path = path;
    op.data = data;
    op.data_len = data ? strlen(data) : 0;
    op.create_flags = flags;
    return op;
}

reg_op fx_op_delete(const char *path, int32_t version)
{
    reg_op op = {0};
    op.type = REG_OP_DELETE;
    op.path = path;
    op.version = version;
    return op;
}

reg_op fx_op_set(const char *path, const char *data, int32_t version)
{
    reg_op op = {0};
    op.type = REG_OP_SET_DATA;
    op.path = path;
    op.data = data;
    op.data_len = data ? strlen(data) : 0;
    op.version = version;
    return op;
}

reg_op fx_op_check(const char *path, int32_t version)
{
    reg_op op = {0};
    op.type = REG_OP_CHECK;
    op.path = path;
    op.version = version;
    return op;
}

int fx_create(fx *f, int64_t s, const char *path, const char *data,
              uint32_t flags, char *out, size_t outlen)
{
    reg_op op = fx_op_create(path, data, flags);
    reg_result res = {0};
    int rc = fx_write(f, s, &op, &res);
    if (rc == 0 && out) {
        assert_non_null(res.path);
        strncpy(out, res.path, outlen - 1);
        out[outlen - 1] = '\0';
    }
    reg_result_clear(&res);
    return rc;
}

int fx_create_acl(fx *f, int64_t s, const char *path, const reg_acl *acl,
                  size_t n)
{
    reg_op op = fx_op_create(path, NULL, 0);
    op.acl = acl;
    op.acl_count = n;
    return fx_write(f, s, &op, NULL);
}

int fx_delete(fx *f, int64_t s, const char *path, int32_t version)
{
    reg_op op = fx_op_delete(path, version);
    return fx_write(f, s, &op, NULL);
}

int fx_set(fx *f, int64_t s, const char *path, const char *data,
           int32_t version, reg_stat *st)
{
    reg_op op = fx_op_set(path, data, version);
    reg_result res = {0};
    int rc = fx_write(f, s, &op, &res);
    if (st)
        *st = res.stat;
    reg_result_clear(&res);
    return rc;
}

int64_t fx_session(fx *f, int64_t timeout, uint32_t flags)
{
    static const uint8_t pw[16] = "0123456789abcdef";
    reg_op op = {0};
    op.type = REG_OP_CREATE_SESSION;
    op.timeout_ms = timeout;
    op.session_flags = flags;
    op.passwd = pw;
    reg_result res = {0};
    assert_int_equal(fx_write(f, 0, &op, &res), 0);
    assert_true(res.session != 0);
    int64_t id = res.session;
    reg_result_clear(&res);
    return id;
}

int fx_close(fx *f, int64_t s)
{
    reg_op op = {0};
    op.type = REG_OP_CLOSE_SESSION;
    return fx_write(f, s, &op, NULL);
}

void fx_assert_ev(const fx *f, size_t i, uint64_t watcher, int type,
                  const char *path)
{
    assert_true(i < f->nev);
    assert_int_equal(f->ev[i].watcher, watcher);
    assert_int_equal(f->ev[i].type, type);
    assert_string_equal(f->ev[i].path, path);
}

size_t fx_count_ev(const fx *f, uint64_t watcher)
{
    size_t n = 0;
    for (size_t i = 0; i < f->nev; i++)
        n += f->ev[i].watcher == watcher;
    return n;
}

reg_stat fx_stat(fx *f, const char *path)
{
    reg_stat st;
    memset(&st, 0, sizeof(st));
    assert_int_equal(reg_exists(f->reg, 0, path, 0, &st), 0);
    return st;
}

int fx_exists(fx *f, const char *path)
{
    return reg_exists(f->reg, 0, path, 0, NULL) == 0;
}
