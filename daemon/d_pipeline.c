/*
 * d_pipeline.c - queue of prepared txns committed in zxid order once per
 * loop turn; see d_pipeline.h.
 */
#include "d_pipeline.h"

#include <errno.h>
#include <stdlib.h>

#include "d_log.h"

static void pipe__commit_one(zkd_pipeline *p)
{
    zkd_pipe_entry *e = p->head;
    p->head = e->next;
    if (p->head == NULL)
        p->tail = NULL;
    p->queued--;
    reg_result res = {0};
    reg_commit(p->reg, e->txn, &res);
    p->committed++;
    if (e->cb)
        e->cb(e->ctx, &res);
    reg_result_clear(&res);
    free(e);
}

/* Commits at most max_batch txns: callbacks may queue more writes, which wait
 * for the next turn so one busy client cannot starve the loop. */
static void pipe__on_idle(uv_idle_t *h)
{
    zkd_pipeline *p = h->data;
    size_t n = p->queued < p->max_batch ? p->queued : p->max_batch;
    for (size_t i = 0; i < n && p->head; i++)
        pipe__commit_one(p);
    if (p->head == NULL)
        uv_idle_stop(&p->idle);
}

int zkd_pipeline_init(zkd_pipeline *p, uv_loop_t *loop, reg_t *reg)
{
    p->reg = reg;
    p->head = p->tail = NULL;
    p->queued = 0;
    p->max_batch = 4096;
    p->committed = 0;
    p->closed = 0;
    int rc = uv_idle_init(loop, &p->idle);
    p->idle.data = p;
    return rc;
}

int zkd_pipeline_submit(zkd_pipeline *p, reg_txn *txn, zkd_commit_cb cb, void *ctx)
{
    zkd_pipe_entry *e = malloc(sizeof(*e));
    if (e == NULL) {
        reg_txn_abort(p->reg, txn);
        return -ENOMEM;
    }
    e->next = NULL;
    e->txn = txn;
    e->cb = cb;
    e->ctx = ctx;
    if (p->tail)
        p->tail->next = e;
    else
        p->head = e;
    p->tail = e;
    p->queued++;
    if (p->closed)
        zkd_pipeline_drain(p); /* at shutdown: nothing waits for a next turn */
    else if (!uv_is_active((uv_handle_t *)&p->idle))
        uv_idle_start(&p->idle, pipe__on_idle);
    return 0;
}

int zkd_pipeline_write(zkd_pipeline *p, int64_t session, const reg_op *op,
                       int64_t now_ms, zkd_commit_cb cb, void *ctx)
{
    reg_txn *txn = NULL;
    int rc = reg_prepare(p->reg, session, op, now_ms, &txn);
    if (rc < 0)
        return rc;
    return zkd_pipeline_submit(p, txn, cb, ctx);
}

void zkd_pipeline_drain(zkd_pipeline *p)
{
    while (p->head)
        pipe__commit_one(p);
    if (!p->closed)
        uv_idle_stop(&p->idle);
}

void zkd_pipeline_close(zkd_pipeline *p)
{
    zkd_pipeline_drain(p);
    p->closed = 1;
    uv_close((uv_handle_t *)&p->idle, NULL);
}
