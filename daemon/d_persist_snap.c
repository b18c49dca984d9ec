/*
 * d_persist_snap.c - background snapshots and purging; see d_persist.h.
 *
 * Like Redis's BGSAVE: fork() gives the child a copy-on-write image of the
 * registry as committed at that instant (everything committed is durable
 * already, so the snapshot never holds a write a crash could take back).
 * All signals are blocked across fork(), so that none reaches the child
 * while it still runs the parent's libuv handlers; the child then restores
 * default dispositions, dies with its parent (PR_SET_PDEATHSIG), closes
 * every inherited descriptor beyond stderr (a listening socket kept by a
 * straggler would stop a restarted daemon from binding), lowers its CPU
 * priority to SCHED_IDLE (on a small machine the loop must win; see
 * SNAP_CHILD_IDLE_MS), writes the snapshot
 * through snapfile (temp file, fsync, rename, directory fsync), moves
 * the snapshots beyond snapshots_kept to the trash (the janitor thread,
 * d_janitor.h, deletes them a step at a time) and _exit()s without running
 * the parent's exit handlers. The parent
 * pays only for fork() - page tables, measured and logged - and reaps the
 * child from a SIGCHLD handler. A failed snapshot is logged and retried
 * after another snapshot_every writes; nothing depends on it but the
 * length of the next replay.
 */
#include "d_persist.h"

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "d_janitor.h"
#include "d_log.h"
#include "snapfile.h"

#define SNAP_CHILD_NICE 10
/* The child runs at SCHED_IDLE: any runnable thread of the daemon, of its
 * clients or of anything else preempts it at once, where at nice 10 a
 * woken thread could wait out the child's slice. In bench/persist part 3
 * (2 vCPUs, 1M znodes, a snapshot every 20000 writes) the slowest setData
 * fell from 37-45 ms to 9-13 ms and loop turns late by over 3 ms from
 * 17-25 to 4-10 per 8 s. On a machine busy with other work an idle child
 * would hardly run and the log would grow, so after child_idle_ms of
 * writes it goes back to nice 10. */
#define SNAP_CHILD_IDLE_MS 10000

static int snap__write(zkd_store *s, int64_t zxid)
{
    snap_writer *sw = NULL;
    int rc = snap_write_begin(s->dir, s->fo, zxid, &sw);
    if (rc < 0)
        return rc;
    rc = reg_snapshot_write(s->reg, snap_write, sw);
    if (rc < 0) {
        snap_write_abort(sw);
        return rc;
    }
    return snap_write_commit(sw);
}

static void snap__done(zkd_store *s, int64_t zxid, int rc, double ms)
{
    s->stats.snapshot_ms_last = ms;
    if (rc < 0) {
        s->stats.snapshot_failures++;
        zkd_warn("storage: snapshot at zxid 0x%" PRIx64 " failed (%s); retrying after "
                 "%" PRIu64 " more writes", (uint64_t)zxid,
                 rc == -ECHILD ? "the snapshot child failed" : wal_strerror(rc),
                 s->o.snapshot_every);
        return;
    }
    s->stats.snapshots++;
    s->last_snapshot_zxid = zxid;
    s->purge_due = true;
    if (s->o.snapshot_inline)
        zkd_info("storage: snapshot at zxid 0x%" PRIx64 " written in %.0f ms (inline)",
                 (uint64_t)zxid, ms);
    else
        zkd_info("storage: snapshot at zxid 0x%" PRIx64 " written in %.0f ms (fork held "
                 "the loop %.2f ms)", (uint64_t)zxid, ms, s->stats.fork_ms_last);
    if (s->kick)
        s->kick(s->kick_ctx);
}

/* In the child: never returns. */
__attribute__((noreturn))
static void snap__child(zkd_store *s, int64_t zxid, pid_t parent, const sigset_t *mask)
{
    for (int sig = 1; sig < 32; sig++)
        if (sig != SIGSEGV && sig != SIGBUS && sig != SIGFPE && sig != SIGILL &&
            sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(2);
    close_range(3, ~0u, 0);
    setpriority(PRIO_PROCESS, 0, SNAP_CHILD_NICE); /* kept if SCHED_IDLE fails */
    struct sched_param sp = {0};
    (void)sched_setscheduler(0, SCHED_IDLE, &sp);
    pthread_sigmask(SIG_SETMASK, mask, NULL);
    int rc = snap__write(s, zxid);
    if (rc < 0)
        zkd_error("storage: snapshot child: %s", wal_strerror(rc));
    else if (snap_purge(s->dir, s->fo, s->o.snapshots_kept, NULL) < 0)
        zkd_warn("storage: snapshot child: cannot delete old snapshots");
    _exit(rc < 0 ? 1 : 0);
}

static void snap__reap(zkd_store *s)
{
    int status = 0;
    if (s->child <= 0)
        return;
    pid_t r = waitpid(s->child, &status, WNOHANG);
    if (r == 0 || (r < 0 && errno == EINTR))
        return;
    int rc = r == s->child && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
    /* -ECHILD alone would read "No child processes": say what happened */
    if (r == s->child && WIFSIGNALED(status))
        zkd_warn("storage: snapshot child %d killed by signal %d", (int)r, WTERMSIG(status));
    else if (r == s->child && rc < 0)
        zkd_warn("storage: snapshot child %d exited with status %d (its error is logged "
                 "above)", (int)r, WEXITSTATUS(status));
    else if (r != s->child)
        zkd_warn("storage: snapshot child %d: %s", (int)s->child,
                 r < 0 ? strerror(errno) : "reaped elsewhere");
    s->child = 0;
    uv_signal_stop(&s->sigchld);
    snap__done(s, s->child_zxid, rc, (double)(uv_hrtime() - s->child_start_ns) / 1e6);
    if (s->stopping)
        uv_close((uv_handle_t *)&s->sigchld, NULL);
}

static void snap__on_sigchld(uv_signal_t *h, int signum)
{
    (void)signum;
    snap__reap(h->data);
}

/* Gives a child that has run at SCHED_IDLE long enough (or whose parent is
 * stopping and waits for it) the ordinary policy at nice 10. */
static void snap__promote(zkd_store *s, const char *why)
{
    if (s->child <= 0 || s->child_promoted)
        return;
    s->child_promoted = true;
    struct sched_param sp = {0};
    if (sched_setscheduler(s->child, SCHED_OTHER, &sp) == 0)
        zkd_info("storage: snapshot child %d %s: now at nice %d instead of idle priority",
                 (int)s->child, why, SNAP_CHILD_NICE);
    else if (errno != ESRCH)
        zkd_warn("storage: cannot raise the priority of snapshot child %d: %s",
                 (int)s->child, strerror(errno));
}

static void snap__fork_stats(zkd_store *s, uint64_t t0)
{
    double ms = (double)(uv_hrtime() - t0) / 1e6;
    s->stats.fork_ms_last = ms;
    if (ms > s->stats.fork_ms_max)
        s->stats.fork_ms_max = ms;
}

static int snap__fork(zkd_store *s, int64_t zxid)
{
    int rc = uv_signal_start(&s->sigchld, snap__on_sigchld, SIGCHLD);
    if (rc < 0)
        return rc;
    if (uv_mutex_trylock(&s->fork_guard) != 0) {
        uv_signal_stop(&s->sigchld);
        return -EAGAIN;
    }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pid_t parent = getpid();
    uint64_t t0 = uv_hrtime();
    pid_t pid = fork();
    if (pid == 0)
        snap__child(s, zxid, parent, &old);
    int err = errno;
    uv_mutex_unlock(&s->fork_guard);
    snap__fork_stats(s, t0);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) {
        uv_signal_stop(&s->sigchld);
        return -err;
    }
    s->child = pid;
    s->child_promoted = false;
    s->child_zxid = zxid;
    s->child_start_ns = t0;
    zkd_debug("storage: snapshot child %d for zxid 0x%" PRIx64 ", fork took %.2f ms",
              (int)pid, (uint64_t)zxid, s->stats.fork_ms_last);
    return 0;
}

static int snap__inline(zkd_store *s, int64_t zxid)
{
    uint64_t t0 = uv_hrtime();
    int rc = snap__write(s, zxid);
    snap__done(s, zxid, rc, (double)(uv_hrtime() - t0) / 1e6);
    return rc;
}

int zkd_store_snapshot(zkd_store *s)
{
    if (s->wal == NULL || s->stopping || s->child)
        return -EBUSY;
    int64_t zxid = reg_last_zxid(s->reg);
    uint64_t since = s->since_snapshot;
    s->since_snapshot = 0;
    if (zxid == 0 || zxid == s->last_snapshot_zxid)
        return 0;
    int rc = s->o.snapshot_inline ? snap__inline(s, zxid) : snap__fork(s, zxid);
    if (rc == -EAGAIN)
        s->since_snapshot = since; /* the next commit tries again */
    return rc;
}

void zkd_store_committed(zkd_store *s, uint64_t n)
{
    s->since_snapshot += n;
    unsigned idle_ms = s->o.child_idle_ms ? s->o.child_idle_ms : SNAP_CHILD_IDLE_MS;
    if (s->child > 0 && !s->child_promoted &&
        uv_hrtime() - s->child_start_ns > (uint64_t)idle_ms * 1000000u)
        snap__promote(s, "has run for a long time while writes go on");
    if (s->o.snapshot_every == 0 || s->since_snapshot < s->o.snapshot_every ||
        s->child || s->stopping || s->wal == NULL)
        return;
    int rc = zkd_store_snapshot(s);
    if (rc < 0 && rc != -EAGAIN && !s->o.snapshot_inline)
        zkd_warn("storage: cannot start a snapshot: %s", wal_strerror(rc));
}

bool zkd_store_take_purge(zkd_store *s)
{
    bool due = s->purge_due;
    s->purge_due = false;
    return due;
}

static int snap__purge_locked(zkd_store *s, int *snaps, int *segs)
{
    int64_t oldest = 0;
    int rc = snap_purge(s->dir, s->fo, s->o.snapshots_kept, &oldest);
    if (rc < 0)
        return rc;
    *snaps = rc;
    if (oldest == 0)
        return 0;
    rc = wal_purge(s->wal, oldest);
    if (rc < 0)
        return rc;
    *segs = rc;
    return 0;
}

int zkd_store_purge(zkd_store *s, int *snaps, int *segs)
{
    *snaps = *segs = 0;
    uv_mutex_lock(&s->fork_guard); /* it allocates (directory listings) */
    int rc = snap__purge_locked(s, snaps, segs);
    uv_mutex_unlock(&s->fork_guard);
    return rc;
}

void zkd_store_purged(zkd_store *s, int rc, int snaps, int segs)
{
    zkd_janitor_wake(s->janitor); /* also for the snapshots the child moved */
    if (rc < 0) {
        zkd_warn("storage: cannot delete old snapshots and log segments in %s: %s",
                 s->dir, wal_strerror(rc));
        return;
    }
    s->stats.purged_snapshots += (uint64_t)snaps;
    s->stats.purged_segments += (uint64_t)segs;
    if (snaps || segs)
        zkd_info("storage: deleting %d old snapshots and %d log segments", snaps, segs);
}

void zkd_store_stop(zkd_store *s)
{
    if (s->stopping)
        return;
    s->stopping = true;
    if (!s->sig_init)
        return;
    if (s->child == 0)
        uv_close((uv_handle_t *)&s->sigchld, NULL);
    else {
        zkd_info("storage: waiting for snapshot child %d to finish", (int)s->child);
        snap__promote(s, "is waited for");
    }
}
