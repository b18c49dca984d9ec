/*
 * trash.c - deleting big files a step at a time; see trash.h.
 */
#include "trash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wal_int.h"

#define TRASH_MAX_NAMES 1024 /* per trash_empty call; the rest next time */
#define TRASH_NAME_MAX 255

typedef struct trash_list {
    char **v;
    size_t n;
    int err;
} trash_list;

bool trash_is_name(const char *name)
{
    size_t n = strlen(TRASH_PREFIX);
    return strncmp(name, TRASH_PREFIX, n) == 0 && name[n] != '\0';
}

int trash_move(const fileops *fo, const char *dir, const char *name)
{
    char from[4096], to[4096], tname[TRASH_NAME_MAX + 1];
    int n = snprintf(tname, sizeof tname, "%s%s", TRASH_PREFIX, name);
    if (n < 0 || (size_t)n >= sizeof tname)
        return -ENAMETOOLONG;
    int rc = wal__path(from, sizeof from, dir, name);
    if (rc == 0)
        rc = wal__path(to, sizeof to, dir, tname);
    return rc ? rc : fo->rename(fo->ctx, from, to);
}

static int trash__collect(void *fctx, const char *name)
{
    trash_list *l = fctx;
    if (!trash_is_name(name) || l->n == TRASH_MAX_NAMES)
        return 0;
    if (l->v == NULL && (l->v = calloc(TRASH_MAX_NAMES, sizeof *l->v)) == NULL)
        return -ENOMEM;
    if ((l->v[l->n] = strdup(name)) == NULL)
        return -ENOMEM;
    l->n++;
    return 0;
}

static void trash__free(trash_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

static bool trash__stopped(const trash_pace *pace)
{
    return pace->stop && atomic_load_explicit(pace->stop, memory_order_acquire);
}

static void trash__lock(const trash_pace *pace)
{
    if (pace->lock)
        pace->lock(pace->lock_ctx);
}

static void trash__unlock(const trash_pace *pace)
{
    if (pace->unlock)
        pace->unlock(pace->lock_ctx);
}

static void trash__pause(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* Shrinks path to nothing a step at a time, then unlinks it. 1 if it is
 * gone, 0 if stopped first, or -errno. */
static int trash__delete(const fileops *fo, const char *path, const trash_pace *pace)
{
    uint64_t step = pace->step_bytes ? pace->step_bytes : TRASH_STEP_BYTES;
    int fd = fo->open(fo->ctx, path, O_WRONLY | O_CLOEXEC, 0);
    if (fd == -ENOENT)
        return 1; /* someone else emptied it */
    if (fd < 0)
        return fd;
    uint64_t size = 0;
    int rc = fo->size(fo->ctx, fd, &size);
    while (rc == 0 && size > step) {
        if (trash__stopped(pace)) {
            fo->close(fo->ctx, fd);
            return 0;
        }
        size -= step;
        rc = fo->ftruncate(fo->ctx, fd, size);
        if (rc == 0 && pace->pause_ms) {
            trash__unlock(pace);
            trash__pause(pace->pause_ms);
            trash__lock(pace);
        }
    }
    fo->close(fo->ctx, fd);
    if (rc == 0)
        rc = fo->unlink(fo->ctx, path);
    return rc == 0 || rc == -ENOENT ? 1 : rc;
}

int trash_empty(const fileops *fo, const char *dir, const trash_pace *pace)
{
    trash_pace none = {0};
    trash_list l = {0};
    pace = pace ? pace : &none;
    trash__lock(pace);
    int rc = fo->list(fo->ctx, dir, trash__collect, &l);
    int done = 0;
    for (size_t i = 0; rc == 0 && i < l.n && !trash__stopped(pace); i++) {
        char path[4096];
        rc = wal__path(path, sizeof path, dir, l.v[i]);
        if (rc == 0)
            rc = trash__delete(fo, path, pace);
        if (rc > 0) {
            done++;
            rc = 0;
        }
    }
    trash__free(&l);
    int src = done ? fo->fsync_dir(fo->ctx, dir) : 0;
    trash__unlock(pace);
    rc = rc ? rc : src;
    return rc < 0 ? rc : done;
}

static int trash__count(void *fctx, const char *name)
{
    if (trash_is_name(name))
        (*(int *)fctx)++;
    return 0;
}

int trash_count(const fileops *fo, const char *dir)
{
    int n = 0;
    int rc = fo->list(fo->ctx, dir, trash__count, &n);
    return rc < 0 ? rc : n;
}
