/*
 * d_pipeline_log.c - the log stage of the pipeline: group commit on a
 * writer thread; see d_pipeline.h.
 *
 * Redis's beforeSleep in libuv terms. A submit appends the txn's record
 * (wal_append: a memcpy) and starts the prepare handle; the prepare
 * callback, which runs once per loop turn just before the loop blocks,
 * takes everything appended since the last batch (wal_flush_begin) and
 * hands it to the log writer: wal_flush_write - one pwrite, one fdatasync -
 * plus, when a snapshot has completed, the deletion of what it made
 * obsolete (zkd_store_purge), so no fsync ever runs on the loop. At most
 * one batch is out; when the writer is done, the loop ends the batch
 * (wal_flush_end) and commits the queue's head up to the durable zxid, and
 * records appended meanwhile become the next batch.
 *
 * The writer is a thread of its own rather than libuv's thread pool: a
 * batch per registration change is common (a few hundred a second, each
 * alone in its loop turn), and the pool's hand-off costs a mutex shared
 * with the loop, a condition variable and a uv_async, whose receiving side
 * busy-waits while the sender is mid-send - on a daemon pinned to one CPU
 * that spin and the lock contention cost more user time than the rest of
 * the write path. Here each direction is one eventfd write and read; the
 * batch itself is handed over through an atomic state (release/acquire).
 *
 * drain() is synchronous (start-up and shutdown): it waits (poll) for the
 * batch out, takes its result, then writes and syncs the rest on the loop
 * thread.
 */
#include "d_pipeline_int.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

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

static int pipe__writer_start(zkd_pipeline *p);

int zkd_pipeline_attach(zkd_pipeline *p, zkd_store *s,
                        void (*on_fatal)(void *ctx, int err), void *ctx)
{
    int rc = pipe__writer_start(p);
    if (rc < 0)
        return rc;
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

/* While a snapshot child shares the parent's pages, the first write to each
 * page after fork() copies it - 2 MiB with the huge pages the daemon uses -
 * and committing one batch of 64 scattered writes took that many copies:
 * 4-5 ms more on the slowest read in bench/persist. So while a child runs,
 * a loop turn commits at most PIPE_SNAP_COMMITS txns and the idle handle
 * carries on next turn, with reads and DNS answered in between. */
#define PIPE_SNAP_COMMITS 8

static void pipe__on_commit_idle(uv_idle_t *h);

static void pipe__commit_durable(zkd_pipeline *p)
{
    int64_t durable = wal_durable_zxid(p->store->wal);
    uint64_t n = 0, cap = UINT64_MAX;
    if (p->store->child > 0 && !p->closed && !p->draining)
        cap = PIPE_SNAP_COMMITS;
    if (p->disk_full && p->head && p->head->zxid <= durable) {
        p->disk_full = false;
        zkd_info("storage: the disk takes writes again");
    }
    while (p->head && p->head->zxid <= durable && n < cap) {
        zkd__pipe_commit_one(p);
        n++;
    }
    if (n)
        zkd_store_committed(p->store, n);
    if (p->closed)
        return;
    if (p->head && p->head->zxid <= durable)
        uv_idle_start(&p->idle, pipe__on_commit_idle);
    else
        uv_idle_stop(&p->idle);
}

static void pipe__on_commit_idle(uv_idle_t *h)
{
    zkd_pipeline *p = h->data;
    if (p->fatal)
        uv_idle_stop(h);
    else
        pipe__commit_durable(p);
}

/* Commits every durable txn now, whatever a turn's share: before a failed
 * batch's txns are rolled back, those of the batches before it - durable,
 * only waiting for their turn while a snapshot child runs - are committed
 * and answered, not rolled back with them (the log keeps them, and the
 * registry's zxids must go on after them). A write their callbacks submit
 * meanwhile is refused with err: the log has just dropped what was
 * appended after the failed batch, and the rollback that follows could not
 * take back a record appended now. */
static void pipe__commit_all_durable(zkd_pipeline *p, int err)
{
    bool was = p->draining;
    p->draining = true;
    p->failing = err; /* writes their callbacks make are refused with it */
    pipe__commit_durable(p);
    p->failing = 0;
    p->draining = was;
}

/* rc: what wal_flush_end (or begin) said about the last batch. */
static void pipe__settle(zkd_pipeline *p, int rc)
{
    if (rc < 0)
        pipe__commit_all_durable(p, rc);
    if (rc == -ENOSPC && wal_error(p->store->wal) == 0)
        pipe__disk_full(p);
    else if (rc < 0)
        pipe__fatal(p, rc);
    else
        pipe__commit_durable(p);
}

/* ---- the batch on the writer -------------------------------------------- */

static void pipe__work(zkd_pipeline *p)
{
    zkd_flush *f = &p->flush;
    uint64_t t0 = uv_hrtime(), t1 = t0;
    if (f->batch) {
        wal_flush_write(f->batch);
        t1 = uv_hrtime();
    }
    if (f->purge)
        f->purge_rc = zkd_store_purge(p->store, &f->purge_snaps, &f->purge_segs);
    f->write_ns = t1 - t0;
    f->purge_ns = f->purge ? uv_hrtime() - t1 : 0;
}

/* Adds one to an eventfd. It cannot fail short of a bad fd; EINTR retried. */
static void pipe__signal(int fd)
{
    uint64_t one = 1;
    for (int i = 0; i < 8; i++)
        if (write(fd, &one, sizeof(one)) == (ssize_t)sizeof(one) || errno != EINTR)
            return;
}

/* The writer thread: sleeps on wake_fd; a queued batch is written, marked
 * WRITTEN and the loop woken. stop ends it once nothing is queued. */
static void pipe__writer(void *arg)
{
    zkd_pipeline *p = arg;
    zkd_flush *f = &p->flush;
    for (;;) {
        uint64_t v;
        ssize_t n = read(f->wake_fd, &v, sizeof(v));
        if (n < 0 && errno == EINTR)
            continue;
        if (atomic_load_explicit(&f->state, memory_order_acquire) == ZKD_FLUSH_QUEUED) {
            pipe__work(p);
            atomic_store_explicit(&f->state, ZKD_FLUSH_WRITTEN, memory_order_release);
            pipe__signal(f->done_fd);
        }
        if (atomic_load_explicit(&f->stop, memory_order_acquire) || n < 0)
            return;
    }
}

static void pipe__count_batch(zkd_pipeline *p, const wal_batch *b)
{
    size_t n = wal_batch_records(b);
    p->batches++;
    if (n > p->max_batch_seen)
        p->max_batch_seen = n;
}

/* ZooKeeper's "fsync-ing the write ahead log ... took N ms" warning: a
 * slow disk (or one shared with a snapshot, a backup, another tenant) is
 * the first suspect when writes stall, and this says so in the log. */
static void pipe__time_batch(zkd_pipeline *p, const wal_batch *b, uint64_t write_ns,
                             uint64_t purge_ns)
{
    uint64_t warn_ns = (uint64_t)p->warn_ms * 1000000u;
    if (b && write_ns > p->sync_max_ns)
        p->sync_max_ns = write_ns;
    if (b && warn_ns && write_ns > warn_ns) {
        p->slow_syncs++;
        zkd_warn("storage: writing and syncing %zu records of the log took %.0f ms "
                 "(storage.fsync_warning_ms = %u): their writes were answered that late",
                 wal_batch_records(b), (double)write_ns / 1e6, p->warn_ms);
    }
    if (warn_ns && purge_ns > warn_ns) {
        p->slow_syncs++;
        zkd_warn("storage: moving old files to the trash took %.0f ms on the log's thread "
                 "(storage.fsync_warning_ms = %u)", (double)purge_ns / 1e6, p->warn_ms);
    }
}

/* The loop takes a WRITTEN batch back: ends it and commits what is durable
 * (may call on_fatal, which may close the pipeline). */
static void pipe__finish(zkd_pipeline *p)
{
    zkd_flush *f = &p->flush;
    atomic_store_explicit(&f->state, ZKD_FLUSH_IDLE, memory_order_relaxed);
    p->flush_out = false;
    uv_unref((uv_handle_t *)&f->poll);
    int rc = 0;
    pipe__time_batch(p, f->batch, f->write_ns, f->purge_ns);
    if (f->batch) {
        pipe__count_batch(p, f->batch);
        rc = wal_flush_end(p->store->wal, f->batch);
        f->batch = NULL;
    }
    if (f->purge)
        zkd_store_purged(p->store, f->purge_rc, f->purge_snaps, f->purge_segs);
    pipe__settle(p, rc);
}

static bool pipe__written(zkd_flush *f)
{
    return atomic_load_explicit(&f->state, memory_order_acquire) == ZKD_FLUSH_WRITTEN;
}

static void pipe__on_done(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    zkd_pipeline *p = h->data;
    uint64_t v;
    while (read(p->flush.done_fd, &v, sizeof(v)) < 0 && errno == EINTR) {
    }
    if (!p->flush_out || !pipe__written(&p->flush))
        return; /* drain() took it already */
    pipe__finish(p);
    if (!p->closed && (p->head || p->store->purge_due))
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
    p->flush_out = true;
    uv_ref((uv_handle_t *)&f->poll); /* a batch out keeps the loop running */
    atomic_store_explicit(&f->state, ZKD_FLUSH_QUEUED, memory_order_release);
    pipe__signal(f->wake_fd);
}

/* ---- drain, init, close ------------------------------------------------- */

/* Blocks until the writer is done with the batch out (start-up, shutdown). */
static void pipe__wait(zkd_pipeline *p)
{
    zkd_flush *f = &p->flush;
    while (!pipe__written(f)) {
        struct pollfd pfd = {.fd = f->done_fd, .events = POLLIN};
        if (poll(&pfd, 1, 1000) > 0) {
            uint64_t v;
            (void)!read(f->done_fd, &v, sizeof(v));
        }
    }
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
    p->draining = true; /* commit all that is durable, not a turn's share */
    if (!p->fatal && p->head && p->head->zxid <= wal_durable_zxid(p->store->wal))
        pipe__commit_durable(p);
    for (int i = 0; i < PIPE_DRAIN_ROUNDS && !p->fatal; i++) {
        if (p->flush_out) {
            pipe__wait(p);
            pipe__finish(p);
        } else if (p->head) {
            pipe__sync_now(p);
        } else {
            break;
        }
    }
    p->draining = false;
    if (p->head == NULL && !p->closed)
        uv_prepare_stop(&p->prepare);
}

static int pipe__writer_start(zkd_pipeline *p)
{
    zkd_flush *f = &p->flush;
    f->wake_fd = eventfd(0, EFD_CLOEXEC);
    f->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int rc = f->wake_fd < 0 || f->done_fd < 0 ? -errno : 0;
    if (rc == 0)
        rc = uv_poll_init(p->loop, &f->poll, f->done_fd);
    if (rc == 0) {
        f->poll.data = p;
        uv_unref((uv_handle_t *)&f->poll); /* referenced only while a batch is out */
        rc = uv_poll_start(&f->poll, UV_READABLE, pipe__on_done);
        if (rc == 0)
            rc = uv_thread_create(&f->thread, pipe__writer, p);
        if (rc < 0)
            uv_close((uv_handle_t *)&f->poll, NULL);
    }
    if (rc < 0) {
        if (f->wake_fd >= 0)
            close(f->wake_fd);
        if (f->done_fd >= 0)
            close(f->done_fd);
        f->wake_fd = f->done_fd = -1;
        return rc;
    }
    f->running = true;
    return 0;
}

static void pipe__writer_stop(zkd_pipeline *p)
{
    zkd_flush *f = &p->flush;
    if (!f->running)
        return;
    if (p->flush_out) { /* cannot happen after a drain; never leave it behind */
        pipe__wait(p);
        pipe__finish(p);
    }
    atomic_store_explicit(&f->stop, true, memory_order_release);
    pipe__signal(f->wake_fd);
    uv_thread_join(&f->thread);
    uv_close((uv_handle_t *)&f->poll, NULL); /* stops polling done_fd now */
    close(f->wake_fd);
    close(f->done_fd);
    f->wake_fd = f->done_fd = -1;
    f->running = false;
}

int zkd__pipe_log_init(zkd_pipeline *p)
{
    p->flush.wake_fd = p->flush.done_fd = -1;
    int rc = uv_prepare_init(p->loop, &p->prepare);
    if (rc == 0)
        rc = uv_timer_init(p->loop, &p->retry);
    p->prepare.data = p->retry.data = p;
    return rc;
}

void zkd__pipe_log_close(zkd_pipeline *p)
{
    if (p->head) /* still queued after the drain's rounds: never leave it hanging */
        zkd__pipe_fail_all(p, -ECANCELED);
    pipe__writer_stop(p);
    uv_close((uv_handle_t *)&p->prepare, NULL);
    uv_close((uv_handle_t *)&p->retry, NULL);
    free(p->closes);
    p->closes = NULL;
    p->nclose = p->capclose = 0;
}
