/*
 * d_persist.c - storage wired into the daemon; see d_persist.h.
 *
 * zkd_init calls zkd_persist_open right after the registry exists and
 * before the DNS zone and the listeners, so recovery fires no DNS
 * invalidations and nobody can read a half-recovered tree. Once the
 * pipeline exists, zkd_persist_start attaches the log and ends the
 * sessions that cannot outlive the old process - the socket protocol's
 * LOCAL sessions, whose connections died with it, and stand-ins for owners
 * of orphaned ephemerals - with CLOSE_SESSION writes that are made durable
 * before anything listens, so the first DNS answer no longer lists their
 * members. ZooKeeper sessions stay: reg_recover_finish gives each a full
 * timeout from now, and the tick expires those whose clients do not come
 * back. A log that fails for good stops the daemon with exit code 1.
 */
#include "d_persist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "d_log.h"
#include "d_server.h"

#define PERSIST_CLOSE_CHUNK 10000 /* closes per drain at start-up */

typedef struct persist_ids {
    int64_t *v;
    size_t n, cap;
    bool oom;
} persist_ids;

static void persist__collect(void *ctx, int64_t session)
{
    persist_ids *l = ctx;
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 64;
        int64_t *v = realloc(l->v, ncap * sizeof(*v));
        if (v == NULL) {
            l->oom = true;
            return;
        }
        l->v = v;
        l->cap = ncap;
    }
    l->v[l->n++] = session;
}

static void persist__fatal(void *ctx, int err)
{
    zkd *d = ctx;
    (void)err;
    d->exit_code = 1;
    zkd_stop(d);
}

int zkd_persist_open(zkd *d)
{
    const zk_conf *c = d->conf;
    zkd_store_opts o = {
        .dir = c->data_dir,
        .no_sync = c->storage_sync == CONF_SYNC_NONE,
        .snapshot_every = c->storage_snapshot_every,
        .snapshots_kept = (unsigned)c->storage_snapshots_kept,
        .segment_bytes = c->storage_segment_bytes,
        .prealloc_bytes = c->storage_preallocate_bytes,
        .no_prealloc = c->storage_preallocate_bytes == 0,
    };
    return zkd_store_open(&d->store, d->loop, d->reg, &o);
}

int zkd_persist_end_sessions(zkd_pipeline *p, int64_t now_ms)
{
    persist_ids l = {0};
    reg_recover_finish(p->reg, now_ms, persist__collect, &l);
    if (l.oom) {
        zkd_error("storage: out of memory ending the sessions of the previous run");
        free(l.v);
        return -ENOMEM;
    }
    for (size_t i = 0; i < l.n; i++) {
        reg_op op = {.type = REG_OP_CLOSE_SESSION};
        int rc = zkd_pipeline_write(p, l.v[i], &op, now_ms, NULL, NULL);
        if (rc < 0)
            zkd_warn("storage: cannot close session 0x%llx: %s",
                     (unsigned long long)l.v[i], reg_strerror(rc));
        if ((i + 1) % PERSIST_CLOSE_CHUNK == 0)
            zkd_pipeline_drain(p);
    }
    zkd_pipeline_drain(p);
    if (l.n)
        zkd_info("storage: closed %zu sessions of the previous run", l.n);
    free(l.v);
    return p->fatal;
}

int zkd_persist_start(zkd *d)
{
    if (d->store.wal == NULL)
        return -EINVAL;
    int rc = zkd_pipeline_attach(&d->pipe, &d->store, persist__fatal, d);
    if (rc < 0) {
        zkd_error("storage: cannot start the log writer thread: %s", strerror(-rc));
        return rc;
    }
    d->pipe.warn_ms = (unsigned)d->conf->storage_fsync_warning_ms;
    rc = zkd_persist_end_sessions(&d->pipe, zkd_now_ms());
    if (rc == 0)
        zkd_store_committed(&d->store, 0); /* a long replay: snapshot now */
    return rc;
}

void zkd_persist_stop(zkd *d)
{
    zkd_store_stop(&d->store);
}

void zkd_persist_free(zkd *d)
{
    zkd_store_close(&d->store);
}
