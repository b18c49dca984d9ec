/*
 * d_pipeline.h - the daemon's write pipeline (SPEC section 9).
 *
 * Every write arrives here as a txn already checked and numbered by
 * reg_prepare. The pipeline makes it durable (the log stage), then commits
 * it with reg_commit in zxid order and hands the result to the callback that
 * answers the client. All txns queued during one loop turn form one batch, so
 * that once the write-ahead log exists they share one fsync (group commit).
 *
 * Until the log exists the log stage is empty: a batch is committed on the
 * next loop turn, before the loop blocks again, so a client's reply and every
 * DNS query after it see the write.
 */
#ifndef ZK_DAEMON_D_PIPELINE_H
#define ZK_DAEMON_D_PIPELINE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "reg.h"

/* Called once the txn is committed; res is valid for the call only. */
typedef void (*zkd_commit_cb)(void *ctx, const reg_result *res);

typedef struct zkd_pipe_entry {
    struct zkd_pipe_entry *next;
    reg_txn *txn;
    zkd_commit_cb cb;
    void *ctx;
} zkd_pipe_entry;

typedef struct zkd_pipeline {
    reg_t *reg;
    uv_idle_t idle;          /* active while txns wait: the loop must not block */
    zkd_pipe_entry *head, *tail;
    size_t queued;
    size_t max_batch;        /* txns committed per loop turn */
    uint64_t committed;      /* counters for monitoring */
    int closed;
} zkd_pipeline;

int zkd_pipeline_init(zkd_pipeline *p, uv_loop_t *loop, reg_t *reg);
/* Queues txn (ownership passes); cb may be NULL. Returns 0 or -ENOMEM, in
 * which case the txn is aborted (rolled back) and cb is not called. */
int zkd_pipeline_submit(zkd_pipeline *p, reg_txn *txn, zkd_commit_cb cb, void *ctx);
/* Prepares op for session and queues it: the usual way to write. On a
 * prepare failure (no txn) returns the error and does not call cb. */
int zkd_pipeline_write(zkd_pipeline *p, int64_t session, const reg_op *op,
                       int64_t now_ms, zkd_commit_cb cb, void *ctx);
/* Commits everything still queued, now (used at shutdown). */
void zkd_pipeline_drain(zkd_pipeline *p);
void zkd_pipeline_close(zkd_pipeline *p);

#endif
