/*
 * d_pipeline_int.h - what the two halves of the pipeline share: the queue
 * and public API (d_pipeline.c) and the log stage (d_pipeline_log.c).
 * Not for use elsewhere.
 */
#ifndef ZK_DAEMON_D_PIPELINE_INT_H
#define ZK_DAEMON_D_PIPELINE_INT_H

#include "d_pipeline.h"

/* Pops the oldest entry, commits it, calls back, frees it. */
void zkd__pipe_commit_one(zkd_pipeline *p);
/* Appends txn's record to the log. 0, -ENOMEM or the log's error. */
int zkd__pipe_log(zkd_pipeline *p, const reg_txn *txn);
/* Makes sure the records waiting go to the log writer this loop turn. */
void zkd__pipe_schedule(zkd_pipeline *p);
/* Synchronous: waits for the batch out, then writes and commits the rest. */
void zkd__pipe_drain_log(zkd_pipeline *p);
/* Rolls back every queued txn (newest first) and answers it with err. */
void zkd__pipe_fail_all(zkd_pipeline *p, int err);
/* The log stage's handles and lock: init with the pipeline, close with it. */
int zkd__pipe_log_init(zkd_pipeline *p);
void zkd__pipe_log_close(zkd_pipeline *p);

#endif
