/*
 * persist_fixture.c - the node and write tracking of the persistence loop
 * tests; see persist_fixture.h.
 */
#include "persist_fixture.h"

#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "d_log.h"
#include "wal_testutil.h"

void pf_init(pf *x, bool faults, uint64_t seed)
{
    memset(x, 0, sizeof(*x));
    zkd_log_init(getenv("PF_VERBOSE") ? ZKD_LOG_DEBUG : -1);
    wt_mkdtemp(x->dir, sizeof(x->dir));
    if (faults) {
        x->f = fileops_fault_create(x->dir, seed);
        assert_non_null(x->f);
    }
    x->o = (zkd_store_opts){.dir = x->dir, .fo = x->f ? fileops_fault_ops(x->f) : NULL,
                            .snapshots_kept = 2, .snapshot_inline = true};
    x->w = calloc(PF_MAX_WRITES, sizeof(*x->w));
    assert_non_null(x->w);
    x->rnd = seed * 2654435761u + 1;
}

void pf_done(pf *x)
{
    if (x->n.up)
        pf_close(x);
    if (x->f)
        fileops_fault_free(x->f);
    wt_rmdir(x->dir);
    free(x->w);
}

uint64_t pf_rand(pf *x)
{
    x->rnd ^= x->rnd << 13;
    x->rnd ^= x->rnd >> 7;
    x->rnd ^= x->rnd << 17;
    return x->rnd;
}

static void pf__on_fatal(void *ctx, int err)
{
    pf_node *n = ctx;
    n->fatal = err;
}

int pf_open(pf *x)
{
    pf_node *n = &x->n;
    memset(n, 0, sizeof(*n));
    assert_int_equal(uv_loop_init(&n->loop), 0);
    n->reg = reg_create(NULL, NULL);
    assert_non_null(n->reg);
    int rc = zkd_store_open(&n->s, &n->loop, n->reg, &x->o);
    if (rc < 0) {
        reg_free(n->reg);
        assert_int_equal(uv_loop_close(&n->loop), 0);
        return rc;
    }
    assert_int_equal(zkd_pipeline_init(&n->p, &n->loop, n->reg), 0);
    assert_int_equal(zkd_pipeline_attach(&n->p, &n->s, pf__on_fatal, n), 0);
    n->up = true;
    return zkd_persist_end_sessions(&n->p, PF_NOW);
}

int pf_snapshot(pf *x)
{
    int rc = -EAGAIN;
    for (int i = 0; i < 2000 && rc == -EAGAIN; i++) {
        rc = zkd_store_snapshot(&x->n.s);
        if (rc == -EAGAIN)
            usleep(1000);
    }
    return rc;
}

void pf_close(pf *x)
{
    pf_node *n = &x->n;
    zkd_store_stop(&n->s);
    zkd_pipeline_close(&n->p);
    uv_run(&n->loop, UV_RUN_DEFAULT);
    zkd_store_close(&n->s);
    reg_free(n->reg);
    assert_int_equal(uv_loop_close(&n->loop), 0);
    n->up = false;
}

void pf_run(pf *x)
{
    uv_run(&x->n.loop, UV_RUN_DEFAULT);
}

static void pf__done(void *ctx, const reg_result *res)
{
    pf_write *w = ctx;
    assert_false(w->answered);
    w->answered = true;
    w->err = res->err;
    w->acked = res->err == 0;
    if (res->err == 0 && w->kind == PF_MULTI && res->nsub > 0)
        w->zxid = res->sub[0].stat.czxid;
    else if (res->err == 0)
        w->zxid = w->kind == PF_SET ? res->stat.mzxid : res->stat.czxid;
}

static size_t pf__submit(pf *x, pf_write *w, const reg_op *op)
{
    int rc = zkd_pipeline_write(&x->n.p, 0, op, PF_NOW, pf__done, w);
    if (rc < 0) { /* refused at once: answered, not acknowledged */
        w->answered = true;
        w->err = rc;
    }
    return (size_t)(w - x->w);
}

static pf_write *pf__new(pf *x, int kind, const char *path, const char *data)
{
    assert_true(x->nw < PF_MAX_WRITES);
    pf_write *w = &x->w[x->nw++];
    memset(w, 0, sizeof(*w));
    w->kind = kind;
    snprintf(w->path, sizeof(w->path), "%s", path);
    snprintf(w->data, sizeof(w->data), "%s", data ? data : "");
    return w;
}

size_t pf_create(pf *x, const char *path, const char *data)
{
    pf_write *w = pf__new(x, PF_CREATE, path, data);
    reg_op op = {.type = REG_OP_CREATE, .path = w->path, .data = w->data,
                 .data_len = strlen(w->data), .version = -1};
    return pf__submit(x, w, &op);
}

size_t pf_multi(pf *x, const char *a, const char *b)
{
    pf_write *w = pf__new(x, PF_MULTI, a, "m");
    snprintf(w->path2, sizeof(w->path2), "%s", b);
    reg_op sub[2] = {
        {.type = REG_OP_CREATE, .path = w->path, .data = "m", .data_len = 1, .version = -1},
        {.type = REG_OP_CREATE, .path = w->path2, .data = "m", .data_len = 1, .version = -1},
    };
    reg_op op = {.type = REG_OP_MULTI, .ops = sub, .nops = 2};
    return pf__submit(x, w, &op);
}

size_t pf_set(pf *x, const char *path, const char *data)
{
    pf_write *w = pf__new(x, PF_SET, path, data);
    reg_op op = {.type = REG_OP_SET_DATA, .path = w->path, .data = w->data,
                 .data_len = strlen(w->data), .version = -1};
    return pf__submit(x, w, &op);
}

size_t pf_acked(const pf *x)
{
    size_t n = 0;
    for (size_t i = 0; i < x->nw; i++)
        n += x->w[i].acked;
    return n;
}

int64_t pf_max_acked_zxid(const pf *x)
{
    int64_t z = 0;
    for (size_t i = 0; i < x->nw; i++)
        if (x->w[i].acked && x->w[i].zxid > z)
            z = x->w[i].zxid;
    return z;
}

bool pf_get(pf *x, const char *path, char *buf, size_t len)
{
    const void *data = NULL;
    size_t dlen = 0;
    reg_stat st;
    buf[0] = '\0';
    if (reg_get(x->n.reg, 0, path, 0, &data, &dlen, &st) != 0)
        return false;
    snprintf(buf, len, "%.*s", (int)dlen, (const char *)data);
    return true;
}

/* The value of path must be its create's data or one of the sets on it;
 * the newest acknowledged set wins unless a later set was written. */
static void pf__check_set(pf *x, size_t i)
{
    char got[64];
    const pf_write *w = &x->w[i];
    assert_true(pf_get(x, w->path, got, sizeof(got)));
    for (size_t j = i + 1; j < x->nw; j++)
        if (x->w[j].kind == PF_SET && strcmp(x->w[j].path, w->path) == 0)
            return; /* a later set may or may not be in */
    if (strcmp(got, w->data) != 0)
        fail_msg("%s holds \"%s\", acknowledged set wrote \"%s\"", w->path, got, w->data);
}

void pf_check(pf *x)
{
    char got[64];
    for (size_t i = 0; i < x->nw; i++) {
        const pf_write *w = &x->w[i];
        if (w->kind == PF_MULTI) {
            bool a = pf_get(x, w->path, got, sizeof(got));
            bool b = pf_get(x, w->path2, got, sizeof(got));
            if (a != b)
                fail_msg("multi %s + %s is half applied", w->path, w->path2);
            if (w->acked && !a)
                fail_msg("acknowledged multi %s lost", w->path);
        } else if (w->kind == PF_CREATE && w->acked) {
            if (!pf_get(x, w->path, got, sizeof(got)))
                fail_msg("acknowledged create %s (zxid %lld) lost", w->path, (long long)w->zxid);
        } else if (w->kind == PF_SET && w->acked) {
            pf__check_set(x, i);
        }
    }
    assert_true(reg_last_zxid(x->n.reg) >= pf_max_acked_zxid(x));
}

size_t pf_count_files(const pf *x, const char *prefix)
{
    DIR *d = opendir(x->dir);
    size_t n = 0;
    struct dirent *de;
    assert_non_null(d);
    while ((de = readdir(d)) != NULL)
        n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}
