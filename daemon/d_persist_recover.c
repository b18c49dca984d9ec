/*
 * d_persist_recover.c - opening a data directory: the newest snapshot is
 * streamed into the registry, the log is opened (its torn tail cut, its
 * damage refused) and every record above the snapshot is decoded and
 * committed in zxid order. See d_persist.h.
 *
 * Strictness is the storage layer's (wal.h, snapfile.h): they report cuts
 * as warnings and refusals as errors naming file and offset, through the
 * log sink below, which prefixes "storage:". What they cannot know - a
 * record or snapshot body that checksums fine but that the registry will
 * not take - is reported here, with the file or zxid. A long recovery
 * keeps asking systemd for more start-up time (EXTEND_TIMEOUT_USEC), once
 * a second.
 */
#include "d_persist.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "d_janitor.h"
#include "d_log.h"
#include "d_systemd.h"
#include "snapfile.h"

#define STORE_PROGRESS_NS 1000000000ull        /* notify systemd this often */
#define STORE_EXTEND_USEC (15ull * 1000000ull) /* each time, this much more */

typedef struct store_rd {
    zkd_store *s;
    snap_reader *snap;
    uint64_t off;         /* snapshot body bytes read */
    uint64_t calls;
    uint64_t last_notify; /* uv_hrtime */
    int64_t first, last;  /* zxids replayed */
    int err;              /* why replay stopped */
} store_rd;

static void store__log(void *ctx, int level, const char *msg)
{
    (void)ctx;
    int l = level == FILEOPS_LOG_ERROR ? ZKD_LOG_ERROR
            : level == FILEOPS_LOG_WARN ? ZKD_LOG_WARN : ZKD_LOG_INFO;
    zkd_log(l, "storage: %s", msg);
}

static double store__ms_since(uint64_t t0)
{
    return (double)(uv_hrtime() - t0) / 1e6;
}

/* At most once a second during a long recovery: more time from systemd.
 * True if it asked. */
static bool store__extend(store_rd *r)
{
    uint64_t now = uv_hrtime();
    if (now - r->last_notify < STORE_PROGRESS_NS)
        return false;
    r->last_notify = now;
    zkd_notify_extend_timeout(STORE_EXTEND_USEC);
    return true;
}

/* While the snapshot is read and the log replayed (every 1024th call
 * looks at the clock). */
static void store__progress(store_rd *r)
{
    if ((++r->calls & 1023) == 0 && store__extend(r))
        zkd_debug("storage: recovery in progress (%" PRIu64 " snapshot bytes, %" PRIu64
                  " records)", r->off, r->first ? (uint64_t)(r->last - r->first + 1) : 0);
}

/* After each log segment wal_open has checked: the scan of a long log
 * comes before the replay and can take as long. */
static void store__scan_progress(void *ctx, const char *segment)
{
    if (store__extend(ctx))
        zkd_debug("storage: recovery in progress (checking the log: %s)", segment);
}

static int store__snap_read(void *ctx, void *p, size_t n)
{
    store_rd *r = ctx;
    store__progress(r);
    int rc = snap_read(r->snap, p, n);
    if (rc == 0)
        r->off += n;
    return rc;
}

static int store__load_body(zkd_store *s, store_rd *r)
{
    const char *path = snap_reader_path(r->snap);
    int rc = reg_snapshot_read(s->reg, store__snap_read, r);
    if (rc == 0)
        rc = snap_read_finish(r->snap);
    if (rc == -EINVAL)
        zkd_error("storage: %s: corrupt snapshot: the registry refuses its contents near "
                  "body offset %" PRIu64 "; refusing to start (move the file aside to "
                  "fall back to an older snapshot)", path, r->off);
    else if (rc < 0 && rc != SNAP_ECORRUPT)
        zkd_error("storage: %s: cannot load: %s", path, wal_strerror(rc));
    return rc;
}

/* The newest snapshot, if any, into the (empty) registry. */
static int store__load_snapshot(zkd_store *s, store_rd *r)
{
    int rc = snap_open_latest(s->dir, s->fo, &s->log, &r->snap);
    if (rc < 0) {
        if (rc != SNAP_ECORRUPT)
            zkd_error("storage: cannot read the snapshots in %s: %s", s->dir, wal_strerror(rc));
        return rc;
    }
    if (r->snap == NULL)
        return 0;
    uint64_t t0 = uv_hrtime();
    rc = store__load_body(s, r);
    if (rc == 0) {
        s->stats.snapshot_zxid = snap_reader_zxid(r->snap);
        s->last_snapshot_zxid = s->stats.snapshot_zxid;
        zkd_info("storage: loaded %s in %.0f ms (zxid 0x%" PRIx64 ", %" PRIu64 " bytes, "
                 "%zu znodes)", snap_reader_path(r->snap), store__ms_since(t0),
                 (uint64_t)s->stats.snapshot_zxid, snap_reader_size(r->snap),
                 reg_node_count(s->reg));
    }
    snap_reader_close(r->snap);
    r->snap = NULL;
    return rc;
}

static int store__replay_one(void *ctx, int64_t zxid, const void *payload, size_t len)
{
    store_rd *r = ctx;
    store__progress(r);
    reg_txn *txn = NULL;
    int rc = reg_txn_decode(payload, len, &txn);
    if (rc == 0)
        rc = reg_commit(r->s->reg, txn, NULL);
    if (rc == -EINVAL || rc == -ENOMEM) {
        r->err = rc;
        return rc;
    }
    if (r->first == 0)
        r->first = zxid;
    r->last = zxid;
    return 0;
}

static int store__open_log(zkd_store *s, store_rd *r)
{
    wal_opts wo;
    wal_opts_default(&wo);
    wo.log = s->log;
    wo.progress = store__scan_progress;
    wo.progress_ctx = r;
    wo.keep_segments = 0; /* the oldest snapshot kept is the fallback */
    wo.enospc_transient = true;
    wo.no_sync = s->o.no_sync;
    if (s->o.segment_bytes)
        wo.segment_bytes = s->o.segment_bytes;
    if (s->o.no_prealloc)
        wo.prealloc_bytes = 0;
    else if (s->o.prealloc_bytes)
        wo.prealloc_bytes = s->o.prealloc_bytes;
    int rc = wal_open(s->dir, s->fo, &wo, &s->wal);
    if (rc < 0) {
        if (rc != WAL_ECORRUPT)
            zkd_error("storage: cannot open the log in %s: %s", s->dir, wal_strerror(rc));
        return rc;
    }
    rc = wal_recover(s->wal, reg_last_zxid(s->reg), store__replay_one, r);
    if (rc < 0 && r->err)
        zkd_error("storage: %s: the log record after zxid 0x%" PRIx64 " %s; refusing to start",
                  s->dir, (uint64_t)(r->last ? r->last : reg_last_zxid(s->reg)),
                  r->err == -ENOMEM ? "does not fit in memory" : "is not a valid txn");
    return rc;
}

static void store__summary(zkd_store *s, const store_rd *r)
{
    s->stats.replayed = r->first ? (uint64_t)(r->last - r->first + 1) : 0;
    zkd_info("storage: recovered %s in %.0f ms: snapshot zxid 0x%" PRIx64 ", %" PRIu64
             " txns replayed from %zu log segments, last zxid 0x%" PRIx64
             ", %zu znodes, %zu sessions",
             s->dir, s->stats.recovery_ms, (uint64_t)s->stats.snapshot_zxid,
             s->stats.replayed, wal_segment_count(s->wal), (uint64_t)reg_last_zxid(s->reg),
             reg_node_count(s->reg), reg_session_count(s->reg));
}

static void store__init(zkd_store *s, uv_loop_t *loop, reg_t *reg, const zkd_store_opts *o)
{
    memset(s, 0, sizeof(*s));
    s->loop = loop;
    s->reg = reg;
    s->o = *o;
    s->o.dir = NULL;
    if (s->o.snapshots_kept == 0)
        s->o.snapshots_kept = 3;
    s->fo = o->fo ? o->fo : fileops_posix();
    s->log.fn = store__log;
    s->log.ctx = s;
}

int zkd_store_open(zkd_store *s, uv_loop_t *loop, reg_t *reg, const zkd_store_opts *o)
{
    store__init(s, loop, reg, o);
    uint64_t t0 = uv_hrtime();
    store_rd r = {.s = s, .last_notify = t0};
    s->dir = strdup(o->dir);
    int rc = s->dir ? store__load_snapshot(s, &r) : -ENOMEM;
    if (rc == 0)
        rc = store__open_log(s, &r);
    if (rc == 0 && (rc = uv_signal_init(loop, &s->sigchld)) == 0) {
        s->sig_init = true;
        s->sigchld.data = s;
    }
    if (rc == 0 && (rc = uv_mutex_init(&s->fork_guard)) == 0)
        s->guard_init = true;
    if (rc == 0 && (rc = zkd_janitor_start(&s->janitor, s->dir, s->fo, &s->fork_guard)) < 0)
        zkd_error("storage: cannot start the thread that deletes old files: %s",
                  strerror(-rc));
    if (rc < 0) {
        zkd_store_close(s);
        return rc;
    }
    s->stats.recovery_ms = store__ms_since(t0);
    store__summary(s, &r);
    s->since_snapshot = s->stats.replayed;
    return 0;
}

void zkd_store_close(zkd_store *s)
{
    if (s->child > 0) { /* only if the loop ended without zkd_store_stop */
        kill(s->child, SIGKILL);
        waitpid(s->child, NULL, 0);
        s->child = 0;
    }
    zkd_janitor_stop(s->janitor);
    s->janitor = NULL;
    if (s->guard_init)
        uv_mutex_destroy(&s->fork_guard);
    s->guard_init = false;
    wal_close(s->wal);
    free(s->dir);
    s->wal = NULL;
    s->dir = NULL;
}
