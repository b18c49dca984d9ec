/*
 * d_pipeline.c - the queue of prepared txns, committed in zxid order; see
 * d_pipeline.h.
 *
 * One FIFO holds every txn between reg_prepare and reg_commit, in zxid
 * order (reg_prepare hands zxids out in submit order). Without a log, an
 * idle handle commits up to max_batch of them per loop turn. With a log
 * (d_pipeline_log.c), each submit also appends the txn's record, and the
 * head of the FIFO is committed as far as the log reports durable. Either
 * way, a txn that cannot be queued is aborted at once - it is the newest
 * pending txn then, the only one reg_txn_abort may drop.
 */
#include "d_pipeline_int.h"

#include <errno.h>
#include <stdlib.h>

#include "d_log.h"

void zkd__pipe_commit_one(zkd_pipeline *p)
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

/* No log: commits at most max_batch txns; callbacks may queue more writes,
 * which wait for the next turn so one busy client cannot starve the loop. */
static void pipe__on_idle(uv_idle_t *h)
{
    zkd_pipeline *p = h->data;
    size_t n = p->queued < p->max_batch ? p->queued : p->max_batch;
    for (size_t i = 0; i < n && p->head; i++)
        zkd__pipe_commit_one(p);
    if (p->head == NULL)
        uv_idle_stop(&p->idle);
}

int zkd_pipeline_init(zkd_pipeline *p, uv_loop_t *loop, reg_t *reg)
{
    *p = (zkd_pipeline){.reg = reg, .loop = loop, .max_batch = 4096, .warn_ms = 1000};
    int rc = uv_idle_init(loop, &p->idle);
    p->idle.data = p;
    if (rc == 0)
        rc = zkd__pipe_log_init(p);
    return rc;
}

static void pipe__link(zkd_pipeline *p, zkd_pipe_entry *e)
{
    if (p->tail)
        p->tail->next = e;
    else
        p->head = e;
    p->tail = e;
    p->queued++;
}

/* The txn cannot be queued: it is the newest pending one, so roll it back. */
static int pipe__refuse(zkd_pipeline *p, reg_txn *txn, int err)
{
    reg_txn_abort(p->reg, txn);
    p->refused++;
    return err;
}

int zkd_pipeline_submit(zkd_pipeline *p, reg_txn *txn, zkd_commit_cb cb, void *ctx)
{
    if (p->fatal || p->failing)
        return pipe__refuse(p, txn, p->fatal ? p->fatal : p->failing);
    zkd_pipe_entry *e = malloc(sizeof(*e));
    if (e == NULL)
        return pipe__refuse(p, txn, -ENOMEM);
    int rc = p->store ? zkd__pipe_log(p, txn) : 0;
    if (rc < 0) {
        free(e);
        return pipe__refuse(p, txn, rc);
    }
    *e = (zkd_pipe_entry){.txn = txn, .zxid = reg_txn_zxid(txn), .type = reg_txn_type(txn),
                          .cb = cb, .ctx = ctx};
    pipe__link(p, e);
    if (p->closed)
        zkd_pipeline_drain(p); /* at shutdown: nothing waits for a next turn */
    else if (p->store)
        zkd__pipe_schedule(p);
    else if (!uv_is_active((uv_handle_t *)&p->idle))
        uv_idle_start(&p->idle, pipe__on_idle);
    return 0;
}

int zkd_pipeline_write(zkd_pipeline *p, int64_t session, const reg_op *op,
                       int64_t now_ms, zkd_commit_cb cb, void *ctx)
{
    reg_txn *txn = NULL;
    int rc = p->fatal;
    if (rc == 0)
        rc = reg_prepare(p->reg, session, op, now_ms, &txn);
    if (rc < 0)
        return rc;
    return zkd_pipeline_submit(p, txn, cb, ctx);
}

void zkd_pipeline_drain(zkd_pipeline *p)
{
    if (p->store) {
        zkd__pipe_drain_log(p);
        return;
    }
    while (p->head)
        zkd__pipe_commit_one(p);
    if (!p->closed)
        uv_idle_stop(&p->idle);
}

void zkd_pipeline_close(zkd_pipeline *p)
{
    if (p->closed)
        return;
    zkd_pipeline_drain(p);
    p->closed = 1;
    uv_close((uv_handle_t *)&p->idle, NULL);
    zkd__pipe_log_close(p);
}
