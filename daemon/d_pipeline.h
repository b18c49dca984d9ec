/*
 * d_pipeline.h - the daemon's write pipeline (SPEC section 9).
 *
 * Every write arrives here as a txn already checked and numbered by
 * reg_prepare. The pipeline makes it durable (the log stage), then commits
 * it with reg_commit in zxid order and hands the result to the callback that
 * answers the client: no client and no reader (DNS included) ever sees a
 * write that a crash could take back.
 *
 * With a log attached (zkd_pipeline_attach), submitting a txn appends its
 * record to the write-ahead log at once (a memcpy); once per loop turn, in
 * a uv_prepare callback just before the loop would block, everything
 * appended since the last batch goes to the log writer thread as one batch
 * (one write, one fdatasync: group commit), and when the writer is done
 * the batch's txns are committed and answered. Writes arriving meanwhile
 * form the next batch. Failures:
 *  - disk full (ENOSPC on write): the log takes the batch back off the
 *    disk; every pending txn is rolled back (reg_txn_abort, newest first)
 *    and answered with -ENOSPC, in order; reads and DNS go on, and the next
 *    write tries the disk again. Session closes that nobody waits for are
 *    retried every second until the disk takes them.
 *  - anything else (EIO, a failed fdatasync): the log is dead. Pending txns
 *    are rolled back and answered with the error, on_fatal is called (the
 *    daemon stops and exits non-zero), and every later write fails.
 *
 * Without a log (unit tests of other modules) the log stage is empty: a
 * batch is committed on the next loop turn, at most max_batch per turn.
 */
#ifndef ZK_DAEMON_D_PIPELINE_H
#define ZK_DAEMON_D_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "d_persist.h"
#include "reg.h"

/* Called once the txn is committed (res->err is the write's outcome), or
 * when it could not be made durable (res->err a negative errno: -ENOSPC,
 * -EIO, ...; nothing was applied). res is valid for the call only. */
typedef void (*zkd_commit_cb)(void *ctx, const reg_result *res);

typedef struct zkd_pipe_entry {
    struct zkd_pipe_entry *next;
    reg_txn *txn;
    int64_t zxid;
    int type;                 /* reg_op_type, for a refusal's result */
    zkd_commit_cb cb;
    void *ctx;
} zkd_pipe_entry;

/* The log writer: one thread of its own, woken through eventfds both ways
 * (see d_pipeline_log.c). state says who owns batch and the purge fields:
 * the loop while IDLE, the writer while QUEUED, the loop again once
 * WRITTEN. */
enum zkd_flush_state { ZKD_FLUSH_IDLE, ZKD_FLUSH_QUEUED, ZKD_FLUSH_WRITTEN };

typedef struct zkd_flush {
    uv_thread_t thread;
    bool running;             /* the thread was started (attach) */
    int wake_fd;              /* eventfd: the loop wakes the writer */
    int done_fd;              /* eventfd: the writer wakes the loop */
    uv_poll_t poll;           /* the loop's side of done_fd */
    wal_batch *batch;         /* NULL: a purge only */
    bool purge;
    int purge_rc, purge_snaps, purge_segs;
    uint64_t write_ns, purge_ns; /* how long the writer took, for the loop */
    _Atomic int state;        /* enum zkd_flush_state */
    _Atomic bool stop;        /* the writer ends after its current batch */
} zkd_flush;

typedef struct zkd_pipeline {
    reg_t *reg;
    uv_loop_t *loop;
    uv_idle_t idle;           /* active while txns wait: without a log all of
                                 them, with one those durable but not yet
                                 committed (a snapshot child is running) */
    uv_prepare_t prepare;     /* log: active while records wait for a batch */
    uv_timer_t retry;         /* disk full: retries refused session closes */
    zkd_pipe_entry *head, *tail;
    size_t queued;
    size_t max_batch;         /* no log: txns committed per loop turn */
    int closed;
    bool draining;            /* drain(): commits are not spread over turns */
    /* the log stage */
    zkd_store *store;         /* NULL: no log */
    zkd_flush flush;
    bool flush_out;           /* a batch is on the writer or waits to be finished */
    int fatal;                /* the log's error: nothing is acknowledged */
    int failing;              /* a batch failed with it: new writes refused
                                 while the durable ones before it commit */
    bool disk_full;
    int64_t *closes;          /* sessions whose close the full disk refused */
    size_t nclose, capclose;
    void (*on_fatal)(void *ctx, int err);
    void *fatal_ctx;
    /* counters for monitoring */
    uint64_t committed, batches, refused;
    size_t max_batch_seen;
    uint64_t sync_max_ns;     /* slowest batch (pwrite + fdatasync) */
    uint64_t slow_syncs;      /* batches or purges over warn_ms */
    unsigned warn_ms;         /* storage.fsync_warning_ms; 0: no warnings */
} zkd_pipeline;

int zkd_pipeline_init(zkd_pipeline *p, uv_loop_t *loop, reg_t *reg);
/* Adds the log stage and starts its writer thread: from now on txns are
 * appended to s->wal and committed only once durable; s (borrowed) also
 * learns of commits (snapshots) and gets its purges run on the writer.
 * on_fatal(ctx, err) is called once if the log fails for good. Call before
 * the first submit. Returns 0, or a negative errno if the thread or its
 * eventfds cannot be made (the pipeline then stays without a log). */
int zkd_pipeline_attach(zkd_pipeline *p, zkd_store *s,
                        void (*on_fatal)(void *ctx, int err), void *ctx);
/* Queues txn (ownership passes); cb may be NULL. Returns 0, or a negative
 * error (-ENOMEM, or the log's fatal error) in which case the txn is
 * aborted (rolled back) and cb is not called. */
int zkd_pipeline_submit(zkd_pipeline *p, reg_txn *txn, zkd_commit_cb cb, void *ctx);
/* Prepares op for session and queues it: the usual way to write. On a
 * prepare failure (no txn) returns the error and does not call cb. */
int zkd_pipeline_write(zkd_pipeline *p, int64_t session, const reg_op *op,
                       int64_t now_ms, zkd_commit_cb cb, void *ctx);
/* Makes everything queued durable and commits it, now, on the calling
 * thread (waiting for the batch on the writer first): at start-up and at
 * shutdown. */
void zkd_pipeline_drain(zkd_pipeline *p);
/* Drains, then closes the handles. Later writes are committed at once. */
void zkd_pipeline_close(zkd_pipeline *p);

#endif
