/*
 * d_pipeline_log.c - the log stage of the pipeline: group commit on a
 * worker thread; see d_pipeline.h.
 *
 * Redis's beforeSleep in libuv terms. A submit appends the txn's record
 * (wal_append: a memcpy) and starts the prepare handle; the prepare
 * callback, which runs once per loop turn just before the loop blocks,
 * takes everything appended since the last batch (wal_flush_begin) and
 * queues one work request: wal_flush_write - one pwrite, one fdatasync -
 * on the thread pool, plus, when a snapshot has completed, the deletion of
 * what it made obsolete (zkd_store_purge), so no fsync ever runs on the
 * loop. At most one request is out; its after-callback ends the batch
 * (wal_flush_end) and commits the queue's head up to the durable zxid,
 * and records appended meanwhile become the next batch.
 *
 * drain() is synchronous (start-up and shutdown): it waits on a condition
 * variable for the request out, takes its result, then writes and syncs
 * the rest on the loop thread. The work request's after-callback still
 * runs later and then only notes that it has.
 */
#include "d_pipeline_int.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "d_log.h"

#define PIPE_RETRY_MS 1000 /* disk full: session closes retried this often */
#define PIPE_DRAIN_ROUNDS 64

static void pipe__start_flush(zkd_pipeline *p);

int zkd__pipe_log(zkd_pipeline *p, const reg_txn *txn)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = reg_txn_encode(txn, &buf, &len);
    if (rc == 0)
        rc = wal_append(p->store->wal, reg_txn_zxid(txn), buf, len);
    free(buf);
    return rc;
}

static void pipe__on_prepare(uv_prepare_t *h)
{
    zkd_pipeline *p = h->data;
    uv_prepare_stop(h);
    pipe__start_flush(p);
}

void zkd__pipe_schedule(zkd_pipeline *p)
{
    if (p->closed || p->fatal || p->flush_out || uv_is_active((uv_handle_t *)&p->prepare))
        return;
    uv_prepare_start(&p->prepare, pipe__on_prepare);
}

static void pipe__kick(void *ctx)
{
    zkd__pipe_schedule(ctx);
}

int zkd_pipeline_attach(zkd_pipeline *p, zkd_store *s,
                        void (*on_fatal)(void *ctx, int err), void *ctx)
{
    p->store = s;
    p->on_fatal = on_fatal;
    p->fatal_ctx = ctx;
    s->kick = pipe__kick;
    s->kick_ctx = p;
    return 0;
}

/* ---- outcomes of a batch ------------------------------------------------ */

static zkd_pipe_entry *pipe__reverse(zkd_pipe_entry *e)
{
    zkd_pipe_entry *r = NULL;
    while (e) {
        zkd_pipe_entry *next = e->next;
        e->next = r;
        r = e;
        e = next;
    }
    return r;
}

static void pipe__remember_close(zkd_pipeline *p, int64_t session)
{
    if (p->closed || p->fatal)
        return;
    if (p->nclose == p->capclose) {
        size_t ncap = p->capclose ? p->capclose * 2 : 16;
        int64_t *v = realloc(p->closes, ncap * sizeof(*v));
        if (v == NULL) {
            zkd_error("storage: out of memory: session 0x%llx stays open",
                      (unsigned long long)session);
            return;
        }
        p->closes = v;
        p->capclose = ncap;
    }
    p->closes[p->nclose++] = session;
}

void zkd__pipe_fail_all(zkd_pipeline *p, int err)
{
    zkd_pipe_entry *e = pipe__reverse(p->head); /* newest first */
    p->head = p->tail = NULL;
    p->queued = 0;
    for (zkd_pipe_entry *x = e; x; x = x->next) {
        if (x->type == REG_OP_CLOSE_SESSION && x->cb == NULL)
            pipe__remember_close(p, reg_txn_session(x->txn));
        reg_txn_abort(p->reg, x->txn);
        x->txn = NULL;
    }
    e = pipe__reverse(e); /* answers go out in request order */
    while (e) {
        zkd_pipe_entry *next = e->next;
        reg_result res = {.err = err, .type = (reg_op_type)e->type};
        p->refused++;
        if (e->cb)
            e->cb(e->ctx, &res);
        free(e);
        e = next;
    }
}

static void pipe__fatal(zkd_pipeline *p, int err)
{
    if (p->fatal)
        return;
    p->fatal = err;
    zkd_error("storage: the write-ahead log in %s failed: %s; stopping without "
              "acknowledging the %zu writes that are not durable",
              p->store->dir, wal_strerror(err), p->queued);
    uv_prepare_stop(&p->prepare);
    uv_timer_stop(&p->retry);
    zkd__pipe_fail_all(p, err);
    if (p->on_fatal)
        p->on_fatal(p->fatal_ctx, err);
}

static int64_t pipe__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pipe__on_retry(uv_timer_t *t)
{
    zkd_pipeline *p = t->data;
    int64_t *ids = p->closes;
    size_t n = p->nclose;
    p->closes = NULL;
    p->nclose = p->capclose = 0;
    for (size_t i = 0; i < n; i++) {
        reg_op op = {.type = REG_OP_CLOSE_SESSION};
        int rc = zkd_pipeline_write(p, ids[i], &op, pipe__now_ms(), NULL, NULL);
        if (rc < 0)
            zkd_warn("storage: cannot close session 0x%llx: %s", (unsigned long long)ids[i],
                     reg_strerror(rc));
    }
    free(ids);
}

static void pipe__disk_full(zkd_pipeline *p)
{
    if (!p->disk_full)
        zkd_warn("storage: disk full writing the log in %s: writes fail with ENOSPC "
                 "until space is freed; reads and DNS go on", p->store->dir);
    p->disk_full = true;
    zkd__pipe_fail_all(p, -ENOSPC);
    if (p->nclose && !p->closed && !uv_is_active((uv_handle_t *)&p->retry))
        uv_timer_start(&p->retry, pipe__on_retry, PIPE_RETRY_MS, 0);
}

static void pipe__commit_durable(zkd_pipeline *p)
{
    int64_t durable = wal_durable_zxid(p->store->wal);
    uint64_t n = 0;
    if (p->disk_full && p->head && p->head->zxid <= durable) {
        p->disk_full = false;
        zkd_info("storage: the disk takes writes again");
    }
    while (p->head && p->head->zxid <= durable) {
        zkd__pipe_commit_one(p);
        n++;
    }
    if (n)
        zkd_store_committed(p->store, n);
}

/* rc: what wal_flush_end (or begin) said about the last batch. */
static void pipe__settle(zkd_pipeline *p, int rc)
{
    if (rc == -ENOSPC && wal_error(p->store->wal) == 0)
        pipe__disk_full(p);
    else if (rc < 0)
        pipe__fatal(p, rc);
    else
        pipe__commit_durable(p);
}

/* ---- the batch on the worker -------------------------------------------- */

static void pipe__work(uv_work_t *req)
{
    zkd_pipeline *p = req->data;
    zkd_flush *f = &p->flush;
    if (f->batch)
        wal_flush_write(f->batch);
    if (f->purge)
        f->purge_rc = zkd_store_purge(p->store, &f->purge_snaps, &f->purge_segs);
    uv_mutex_lock(&f->mu);
    f->written = true;
    uv_cond_signal(&f->cv);
    uv_mutex_unlock(&f->mu);
}

static void pipe__count_batch(zkd_pipeline *p, const wal_batch *b)
{
    size_t n = wal_batch_records(b);
    p->batches++;
    if (n > p->max_batch_seen)
        p->max_batch_seen = n;
}

static void pipe__finish(zkd_pipeline *p)
{
    zkd_flush *f = &p->flush;
    f->finished = true;
    int rc = 0;
    if (f->batch) {
        pipe__count_batch(p, f->batch);
        rc = wal_flush_end(p->store->wal, f->batch);
    }
    if (f->purge)
        zkd_store_purged(p->store, f->purge_rc, f->purge_snaps, f->purge_segs);
    pipe__settle(p, rc);
}

static void pipe__destroy_sync(zkd_pipeline *p)
{
    uv_cond_destroy(&p->flush.cv);
    uv_mutex_destroy(&p->flush.mu);
}

static void pipe__after_work(uv_work_t *req, int status)
{
    (void)status;
    zkd_pipeline *p = req->data;
    bool closed_before = p->closed; /* close left the lock to us */
    p->flush_out = false;
    if (!p->flush.finished)
        pipe__finish(p); /* may close the pipeline (on_fatal) */
    if (closed_before)
        pipe__destroy_sync(p);
    else if (!p->closed && (p->head || p->store->purge_due))
        zkd__pipe_schedule(p);
}

static void pipe__start_flush(zkd_pipeline *p)
{
    zkd_flush *f = &p->flush;
    wal_batch *b = NULL;
    if (p->flush_out || p->fatal)
        return;
    int rc = wal_flush_begin(p->store->wal, &b);
    if (rc < 0) {
        pipe__fatal(p, rc);
        return;
    }
    bool purge = zkd_store_take_purge(p->store);
    if (b == NULL && !purge)
        return;
    f->batch = b;
    f->purge = purge;
    f->purge_rc = f->purge_snaps = f->purge_segs = 0;
    f->written = f->finished = false;
    f->req.data = p;
    if (uv_queue_work(p->loop, &f->req, pipe__work, pipe__after_work) == 0) {
        p->flush_out = true;
        return;
    }
    pipe__work(&f->req); /* cannot happen with valid arguments; stay correct */
    pipe__finish(p);
}

/* ---- drain, init, close ------------------------------------------------- */

static void pipe__wait(zkd_pipeline *p)
{
    zkd_flush *f = &p->flush;
    uv_mutex_lock(&f->mu);
    while (!f->written)
        uv_cond_wait(&f->cv, &f->mu);
    uv_mutex_unlock(&f->mu);
}

static void pipe__sync_now(zkd_pipeline *p)
{
    wal_batch *b = NULL;
    int rc = wal_flush_begin(p->store->wal, &b);
    if (rc == 0 && b) {
        pipe__count_batch(p, b);
        wal_flush_write(b);
        rc = wal_flush_end(p->store->wal, b);
    }
    pipe__settle(p, rc);
}

void zkd__pipe_drain_log(zkd_pipeline *p)
{
    for (int i = 0; i < PIPE_DRAIN_ROUNDS && !p->fatal; i++) {
        if (p->flush_out && !p->flush.finished) {
            pipe__wait(p);
            pipe__finish(p);
        } else if (p->head) {
            pipe__sync_now(p);
        } else {
            break;
        }
    }
    if (p->head == NULL && !p->closed)
        uv_prepare_stop(&p->prepare);
}

int zkd__pipe_log_init(zkd_pipeline *p)
{
    int rc = uv_prepare_init(p->loop, &p->prepare);
    if (rc == 0)
        rc = uv_timer_init(p->loop, &p->retry);
    if (rc == 0 && (rc = uv_mutex_init(&p->flush.mu)) == 0 &&
        (rc = uv_cond_init(&p->flush.cv)) != 0)
        uv_mutex_destroy(&p->flush.mu);
    p->prepare.data = p->retry.data = p;
    return rc;
}

void zkd__pipe_log_close(zkd_pipeline *p)
{
    if (p->head) /* still queued after the drain's rounds: never leave it hanging */
        zkd__pipe_fail_all(p, -ECANCELED);
    uv_close((uv_handle_t *)&p->prepare, NULL);
    uv_close((uv_handle_t *)&p->retry, NULL);
    free(p->closes);
    p->closes = NULL;
    p->nclose = p->capclose = 0;
    if (!p->flush_out)
        pipe__destroy_sync(p);
}
