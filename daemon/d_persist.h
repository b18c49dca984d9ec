/*
 * d_persist.h - the daemon's storage (SPEC section 6): recovery at start,
 * the write-ahead log that the pipeline appends to, background snapshots
 * and the deletion of what they make obsolete.
 *
 * A zkd_store owns the files of data_dir through one fileops table (the
 * POSIX one, or a fault-injecting one in tests). zkd_store_open recovers
 * the registry before anything listens: the newest snapshot, then every
 * logged txn above it (a torn log tail is cut with a warning; damage
 * anywhere else refuses the start with the file and offset named). The
 * pipeline (d_pipeline.h) then appends each txn to s->wal and makes it
 * durable on a worker thread.
 *
 * Snapshots never stall requests: after snapshot_every committed txns the
 * loop fork()s and the child streams the copy-on-write image of the tree
 * into a snapshot file (temp file, fsync, rename, directory fsync) and
 * _exit()s; the parent only pays for fork() itself (measured, logged) and
 * learns the outcome from SIGCHLD. The child deletes the snapshots beyond
 * snapshots_kept; the log segments that only those needed are then deleted
 * on the pipeline's worker thread (zkd_store_purge), so no unlink or fsync
 * runs on the loop. "Deleted" means moved to the trash (a rename); the
 * janitor thread (d_janitor.h) frees their blocks a step at a time, so
 * that it never holds up the log's fdatasync. Tests may
 * write snapshots inline instead (no fork), so that a fault table in the
 * parent sees every byte.
 *
 * Threads: everything here is for the loop thread, except zkd_store_purge,
 * which the pipeline runs on its worker.
 */
#ifndef ZK_DAEMON_D_PERSIST_H
#define ZK_DAEMON_D_PERSIST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "fileops.h"
#include "reg.h"
#include "wal.h"

struct zkd;
struct zkd_pipeline;
struct zkd_janitor;

typedef struct zkd_store_opts {
    const char *dir;          /* data_dir; copied */
    const fileops *fo;        /* NULL: fileops_posix(); borrowed */
    bool no_sync;             /* storage.sync = "none" */
    uint64_t snapshot_every;  /* committed txns between snapshots; 0 = never */
    unsigned snapshots_kept;  /* 0 = 3 */
    uint64_t segment_bytes;   /* 0 = the log's default (64 MiB) */
    uint64_t prealloc_bytes;  /* zero-fill ahead: 0 = the log's default (1 MiB) */
    bool no_prealloc;         /* storage.preallocate_bytes = 0 */
    bool snapshot_inline;     /* tests: write snapshots on the loop, no fork */
    unsigned child_idle_ms;   /* the child runs at SCHED_IDLE this long, then
                                 at nice 10; 0 = 10000 */
} zkd_store_opts;

typedef struct zkd_store_stats {
    int64_t snapshot_zxid;    /* of the snapshot loaded at start, 0 if none */
    uint64_t replayed;        /* txns replayed from the log at start */
    double recovery_ms;
    uint64_t snapshots;       /* written since start */
    uint64_t snapshot_failures;
    double fork_ms_last, fork_ms_max; /* how long fork() held the loop */
    double snapshot_ms_last;  /* from fork to the child's exit */
    uint64_t purged_snapshots, purged_segments;
} zkd_store_stats;

typedef struct zkd_store {
    uv_loop_t *loop;
    reg_t *reg;
    zkd_store_opts o;
    char *dir;
    const fileops *fo;
    fileops_log log;
    wal_t *wal;               /* the pipeline appends here */
    uv_signal_t sigchld;      /* active while a snapshot child runs */
    bool sig_init, stopping;
    pid_t child;              /* the snapshot child, 0 if none */
    int64_t child_zxid;
    uint64_t child_start_ns;
    bool child_promoted;      /* moved from SCHED_IDLE to nice 10 */
    int64_t last_snapshot_zxid;
    uint64_t since_snapshot;  /* txns committed since the last snapshot began */
    bool purge_due;           /* a snapshot completed: obsolete files may go */
    void (*kick)(void *ctx);  /* asks the pipeline to run a purge soon */
    void *kick_ctx;
    struct zkd_janitor *janitor; /* deletes what purges moved to the trash */
    /* Held by fork() (trylock: a snapshot waits for the next commit rather
     * than the loop for the lock) and by the threads that allocate memory
     * beside the loop - the purge on the log's writer, the janitor's work -
     * so that no snapshot child inherits a lock taken mid-call: a child
     * under AddressSanitizer hung in a futex after such a fork (1 in ~20
     * runs of test_old_files_go_through_the_trash, 4 at a time). */
    uv_mutex_t fork_guard;
    bool guard_init;
    zkd_store_stats stats;
} zkd_store;

/* Recovers reg (fresh: nothing committed) from o->dir and opens the log
 * for appending; logs what it found and how long it took, and keeps
 * systemd's start timeout extended during a long replay. Returns 0, or a
 * negative error after logging why (the file and offset for damage);
 * then s holds nothing. reg_recover_finish is the caller's (it closes
 * sessions through the pipeline). */
int zkd_store_open(zkd_store *s, uv_loop_t *loop, reg_t *reg,
                   const zkd_store_opts *o);
/* n more txns were committed: starts a snapshot when one is due. */
void zkd_store_committed(zkd_store *s, uint64_t n);
/* Starts a snapshot of the committed state now, unless one is running or
 * nothing changed since the last one. Returns 0, -EAGAIN while a thread
 * holds fork_guard (try again), or another negative error. */
int zkd_store_snapshot(zkd_store *s);
/* Loop thread: true (once) if a purge is due; the caller then runs
 * zkd_store_purge on the thread that holds the log's batch. */
bool zkd_store_take_purge(zkd_store *s);
/* Worker: deletes all but snapshots_kept snapshots and the log segments
 * that only older snapshots needed. Returns 0 or a negative error; counts
 * what went into *snaps and *segs. */
int zkd_store_purge(zkd_store *s, int *snaps, int *segs);
/* Loop thread, with zkd_store_purge's result: logs and counts it. */
void zkd_store_purged(zkd_store *s, int rc, int snaps, int segs);
/* No more snapshots; a running child is waited for (its handle closes
 * when it exits). */
void zkd_store_stop(zkd_store *s);
/* After the loop ran to completion: closes the log (records not yet
 * flushed are dropped: drain the pipeline first) and frees s. Safe on a
 * zeroed store. */
void zkd_store_close(zkd_store *s);

/* The daemon's wiring (d_persist.c): recovery into d->reg before DNS and
 * the listeners exist; then, with the pipeline up, the log stage attached
 * and the sessions of the previous run that must end closed durably
 * before anything listens; at stop, no new snapshots; at free, the files
 * closed. Open and start log and return a negative error on failure. */
int zkd_persist_open(struct zkd *d);
/* The part of zkd_persist_start that needs no daemon: reg_recover_finish
 * at now_ms, then a durable CLOSE_SESSION through p (attached to a store)
 * for every session it names. Returns 0 or the log's fatal error. */
int zkd_persist_end_sessions(struct zkd_pipeline *p, int64_t now_ms);
int zkd_persist_start(struct zkd *d);
void zkd_persist_stop(struct zkd *d);
void zkd_persist_free(struct zkd *d);

#endif
