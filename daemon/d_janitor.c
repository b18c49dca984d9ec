/*
 * d_janitor.c - deleting data_dir's trash off every latency path; see
 * d_janitor.h.
 *
 * A thread of its own rather than the log writer's: the writer's next
 * batch would wait for every pause of a slow deletion. It sleeps on a
 * condition variable between passes; wake() only sets a flag, so the
 * loop never waits for it beyond the mutex, which the thread holds only
 * to read the flags.
 */
#include "d_janitor.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "d_log.h"
#include "trash.h"

struct zkd_janitor {
    char *dir;
    const fileops *fo;
    uv_mutex_t *guard;      /* the store's, against fork(); may be NULL */
    uv_thread_t thread;
    uv_mutex_t mu;
    uv_cond_t cond;
    bool pending;           /* under mu: a pass was asked for */
    atomic_bool stop;       /* also read by trash_empty between steps */
    int last_err;           /* the janitor thread's: logs each new error once */
};

static void janitor__lock(void *ctx)
{
    uv_mutex_lock(ctx);
}

static void janitor__unlock(void *ctx)
{
    uv_mutex_unlock(ctx);
}

static void janitor__pass(zkd_janitor *j)
{
    trash_pace pace = {.step_bytes = TRASH_STEP_BYTES, .pause_ms = TRASH_PAUSE_MS,
                       .stop = &j->stop};
    if (j->guard) {
        pace.lock = janitor__lock;
        pace.unlock = janitor__unlock;
        pace.lock_ctx = j->guard;
    }
    int rc = trash_empty(j->fo, j->dir, &pace);
    if (rc < 0 && rc != j->last_err)
        zkd_warn("storage: cannot delete the old files moved to trash in %s: %s "
                 "(tried again after the next purge)", j->dir, strerror(-rc));
    j->last_err = rc < 0 ? rc : 0;
}

static void janitor__main(void *arg)
{
    zkd_janitor *j = arg;
    for (;;) {
        uv_mutex_lock(&j->mu);
        while (!j->pending && !atomic_load(&j->stop))
            uv_cond_wait(&j->cond, &j->mu);
        j->pending = false;
        uv_mutex_unlock(&j->mu);
        if (atomic_load(&j->stop))
            return;
        janitor__pass(j);
    }
}

int zkd_janitor_start(zkd_janitor **out, const char *dir, const fileops *fo,
                      uv_mutex_t *guard)
{
    zkd_janitor *j = calloc(1, sizeof *j);
    if (j == NULL || (j->dir = strdup(dir)) == NULL) {
        free(j);
        return -ENOMEM;
    }
    j->fo = fo;
    j->guard = guard;
    j->pending = true; /* the trash a crash may have left */
    atomic_init(&j->stop, false);
    int rc = uv_mutex_init(&j->mu);
    if (rc == 0 && (rc = uv_cond_init(&j->cond)) < 0)
        uv_mutex_destroy(&j->mu);
    if (rc == 0 && (rc = uv_thread_create(&j->thread, janitor__main, j)) < 0) {
        uv_cond_destroy(&j->cond);
        uv_mutex_destroy(&j->mu);
    }
    if (rc < 0) {
        free(j->dir);
        free(j);
        return rc;
    }
    *out = j;
    return 0;
}

void zkd_janitor_wake(zkd_janitor *j)
{
    if (j == NULL)
        return;
    uv_mutex_lock(&j->mu);
    j->pending = true;
    uv_cond_signal(&j->cond);
    uv_mutex_unlock(&j->mu);
}

void zkd_janitor_stop(zkd_janitor *j)
{
    if (j == NULL)
        return;
    uv_mutex_lock(&j->mu);
    atomic_store(&j->stop, true);
    uv_cond_signal(&j->cond);
    uv_mutex_unlock(&j->mu);
    uv_thread_join(&j->thread);
    uv_cond_destroy(&j->cond);
    uv_mutex_destroy(&j->mu);
    free(j->dir);
    free(j);
}
