/*
 * fileops_fault.c - a fileops table that injects faults and models power loss.
 *
 * Real I/O happens in a real directory; beside it the table keeps what a
 * power loss would leave (see fileops.h): for each file ("inode") the bytes
 * of its last successful fsync, and for the directory the name -> inode map
 * of its last fsync_dir. At a crash it captures each file's current bytes;
 * reboot rewrites the directory from the durable map, mixing in unsynced
 * bytes according to the crash mode. Faults are counted per kind of
 * operation; the crash point counts all operations but close. fsync and
 * fsync_dir only update the model: the real disk is never flushed, which
 * keeps crash loops fast.
 */
#include "fileops.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FF_NAME_MAX 128
#define FF_SECTOR 512

typedef struct ff_bytes {
    uint8_t *p;
    size_t len;
} ff_bytes;

typedef struct ff_inode {
    ff_bytes dur; /* as of the last successful fsync */
    ff_bytes img; /* as captured at the crash */
} ff_inode;

typedef struct ff_name {
    char name[FF_NAME_MAX];
    size_t ino;
} ff_name;

typedef struct ff_names {
    ff_name *v;
    size_t n, cap;
} ff_names;

typedef struct ff_fd {
    int fd;
    size_t ino;
    bool tracked;
} ff_fd;

struct fileops_fault {
    fileops ops;
    char *dir;
    size_t dirlen;
    pthread_mutex_t mu;
    uint64_t rng;
    ff_inode *inodes;
    size_t ninodes, capinodes;
    ff_names cur, dur;
    ff_fd *fds;
    size_t nfds, capfds;
    bool crashed;
    unsigned long count, crash_at, short_at;
    int crash_kind;
    unsigned long crash_kind_at;
    unsigned long kind_count[FILEOPS_OP_COUNT];
    unsigned long fail_at[FILEOPS_OP_COUNT];
    int fail_err[FILEOPS_OP_COUNT];
};

/* ---- small containers ---------------------------------------------------- */

static void *ff_grow(void *v, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return v;
    size_t ncap = *cap ? *cap * 2 : 8;
    while (ncap < need)
        ncap *= 2;
    void *nv = realloc(v, ncap * size);
    if (!nv)
        abort(); /* test-only code: out of memory is not a modelled fault */
    *cap = ncap;
    return nv;
}

static ff_name *ff_names_find(ff_names *ns, const char *name)
{
    for (size_t i = 0; i < ns->n; i++)
        if (strcmp(ns->v[i].name, name) == 0)
            return &ns->v[i];
    return NULL;
}

static ff_name *ff_names_set(ff_names *ns, const char *name, size_t ino)
{
    ff_name *e = ff_names_find(ns, name);
    if (!e) {
        ns->v = ff_grow(ns->v, &ns->cap, ns->n + 1, sizeof *ns->v);
        e = &ns->v[ns->n++];
        snprintf(e->name, sizeof e->name, "%s", name);
    }
    e->ino = ino;
    return e;
}

static void ff_names_del(ff_names *ns, const char *name)
{
    ff_name *e = ff_names_find(ns, name);
    if (e)
        *e = ns->v[--ns->n];
}

static void ff_names_copy(ff_names *dst, const ff_names *src)
{
    dst->v = ff_grow(dst->v, &dst->cap, src->n, sizeof *dst->v);
    if (src->n)
        memcpy(dst->v, src->v, src->n * sizeof *src->v);
    dst->n = src->n;
}

static void ff_bytes_set(ff_bytes *b, const uint8_t *p, size_t len)
{
    free(b->p);
    b->p = NULL;
    b->len = len;
    if (len) {
        b->p = malloc(len);
        if (!b->p)
            abort();
        memcpy(b->p, p, len);
    }
}

static size_t ff_inode_new(fileops_fault *f)
{
    f->inodes = ff_grow(f->inodes, &f->capinodes, f->ninodes + 1, sizeof *f->inodes);
    memset(&f->inodes[f->ninodes], 0, sizeof *f->inodes);
    return f->ninodes++;
}

static ff_fd *ff_fd_find(fileops_fault *f, int fd)
{
    for (size_t i = 0; i < f->nfds; i++)
        if (f->fds[i].fd == fd)
            return &f->fds[i];
    return NULL;
}

/* The name inside the tracked directory, or NULL for any other path. */
static const char *ff_tracked(const fileops_fault *f, const char *path)
{
    if (strncmp(path, f->dir, f->dirlen) != 0 || path[f->dirlen] != '/')
        return NULL;
    const char *name = path + f->dirlen + 1;
    return (*name && !strchr(name, '/') && strlen(name) < FF_NAME_MAX) ? name : NULL;
}

/* ---- reading real files -------------------------------------------------- */

static void ff_read_fd(int fd, ff_bytes *out)
{
    const fileops *px = fileops_posix();
    uint64_t size = 0;
    free(out->p);
    *out = (ff_bytes){0};
    if (px->size(NULL, fd, &size) < 0 || size == 0)
        return;
    out->p = malloc(size);
    if (!out->p)
        abort();
    out->len = fileops_pread_full(px, fd, out->p, size, 0) == 0 ? size : 0;
}

static void ff_read_path(const char *path, ff_bytes *out)
{
    const fileops *px = fileops_posix();
    int fd = px->open(NULL, path, O_RDONLY, 0);
    if (fd < 0) {
        ff_bytes_set(out, NULL, 0);
        return;
    }
    ff_read_fd(fd, out);
    px->close(NULL, fd);
}

static void ff_path(const fileops_fault *f, const char *name, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s", f->dir, name);
}

/* ---- crash and reboot ---------------------------------------------------- */

static void ff_capture_inode(fileops_fault *f, size_t ino)
{
    ff_inode *in = &f->inodes[ino];
    for (size_t i = 0; i < f->nfds; i++)
        if (f->fds[i].tracked && f->fds[i].ino == ino) {
            ff_read_fd(f->fds[i].fd, &in->img);
            return;
        }
    for (size_t i = 0; i < f->cur.n; i++)
        if (f->cur.v[i].ino == ino) {
            char path[4096];
            ff_path(f, f->cur.v[i].name, path, sizeof path);
            ff_read_path(path, &in->img);
            return;
        }
    ff_bytes_set(&in->img, in->dur.p, in->dur.len);
}

static void ff_do_crash(fileops_fault *f)
{
    if (f->crashed)
        return;
    f->crashed = true;
    for (size_t i = 0; i < f->ninodes; i++)
        ff_capture_inode(f, i);
}

static uint64_t ff_rand(fileops_fault *f)
{
    uint64_t x = f->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    f->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Takes img's bytes [from, to) into out (which is max(dur, img) long). */
static size_t ff_take(uint8_t *out, const ff_bytes *img, size_t from, size_t to)
{
    if (to > img->len)
        to = img->len;
    if (from < to)
        memcpy(out + from, img->p + from, to - from);
    return to;
}

static size_t ff_first_diff(const ff_inode *in)
{
    size_t common = in->dur.len < in->img.len ? in->dur.len : in->img.len;
    for (size_t i = 0; i < common; i++)
        if (in->dur.p[i] != in->img.p[i])
            return i;
    return common;
}

/* What survives of one inode: its durable bytes with some unsynced bytes. */
static ff_bytes ff_survivor(fileops_fault *f, const ff_inode *in, int mode)
{
    size_t max = in->dur.len > in->img.len ? in->dur.len : in->img.len;
    ff_bytes out = {calloc(1, max + 1), in->dur.len};
    if (!out.p)
        abort();
    if (in->dur.len)
        memcpy(out.p, in->dur.p, in->dur.len);
    size_t d0 = ff_first_diff(in), end = 0;
    if (mode == FILEOPS_CRASH_PREFIX && in->img.len >= d0) {
        size_t cut = d0 + (size_t)(ff_rand(f) % (in->img.len - d0 + 1));
        end = ff_take(out.p, &in->img, d0, cut);
    } else if (mode == FILEOPS_CRASH_SECTORS) {
        for (size_t s = d0 / FF_SECTOR * FF_SECTOR; s < in->img.len; s += FF_SECTOR)
            if (ff_rand(f) & 1)
                end = ff_take(out.p, &in->img, s, s + FF_SECTOR);
    }
    if (end > out.len)
        out.len = end;
    return out;
}

static int ff_write_file(const char *path, const ff_bytes *b)
{
    const fileops *px = fileops_posix();
    int fd = px->open(NULL, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return fd;
    int rc = fileops_pwrite_full(px, fd, b->p, b->len, 0);
    px->close(NULL, fd);
    return rc;
}

static int ff_unlink_cb(void *fctx, const char *name)
{
    fileops_fault *f = fctx;
    char path[4096];
    ff_path(f, name, path, sizeof path);
    return fileops_posix()->unlink(NULL, path);
}

static void ff_forget(fileops_fault *f)
{
    for (size_t i = 0; i < f->ninodes; i++) {
        free(f->inodes[i].dur.p);
        free(f->inodes[i].img.p);
    }
    f->ninodes = 0;
    f->cur.n = 0;
    f->dur.n = 0;
}

/* Everything in the directory is durable (start, and after a reboot). */
static int ff_adopt_cb(void *fctx, const char *name)
{
    fileops_fault *f = fctx;
    char path[4096];
    if (strlen(name) >= FF_NAME_MAX)
        return 0;
    ff_path(f, name, path, sizeof path);
    size_t ino = ff_inode_new(f);
    ff_read_path(path, &f->inodes[ino].dur);
    ff_names_set(&f->cur, name, ino);
    return 0;
}

static int ff_adopt(fileops_fault *f)
{
    ff_forget(f);
    int rc = fileops_posix()->list(NULL, f->dir, ff_adopt_cb, f);
    ff_names_copy(&f->dur, &f->cur);
    return rc;
}

static int ff_restore(fileops_fault *f, int mode)
{
    int rc = fileops_posix()->list(NULL, f->dir, ff_unlink_cb, f);
    for (size_t i = 0; rc == 0 && i < f->dur.n; i++) {
        char path[4096];
        ff_path(f, f->dur.v[i].name, path, sizeof path);
        ff_bytes b = ff_survivor(f, &f->inodes[f->dur.v[i].ino], mode);
        rc = ff_write_file(path, &b);
        free(b.p);
    }
    return rc;
}

/* ---- the gate every operation passes ------------------------------------- */

/* Counts the operation and decides its fate: 0 to perform it, or the
 * error to return instead (crash, armed fault). Called with mu held. */
static int ff_gate(fileops_fault *f, int kind)
{
    if (f->crashed)
        return -EIO;
    unsigned long n = ++f->kind_count[kind];
    f->count++;
    if ((f->crash_at && f->count == f->crash_at) ||
        (f->crash_kind_at && kind == f->crash_kind && n == f->crash_kind_at)) {
        ff_do_crash(f);
        return -EIO;
    }
    if (f->fail_at[kind] && n == f->fail_at[kind]) {
        f->fail_at[kind] = 0;
        return f->fail_err[kind];
    }
    return 0;
}

/* Takes the lock and passes the gate: 0 with the lock held, or the error
 * to return (lock released). */
static int ff_enter(fileops_fault *f, int kind)
{
    pthread_mutex_lock(&f->mu);
    int rc = ff_gate(f, kind);
    if (rc != 0)
        pthread_mutex_unlock(&f->mu);
    return rc;
}

static ssize_t ff_leave(fileops_fault *f, ssize_t rc)
{
    pthread_mutex_unlock(&f->mu);
    return rc;
}

/* ---- the operations ------------------------------------------------------ */

static void ff_fd_add(fileops_fault *f, int fd, const char *name)
{
    f->fds = ff_grow(f->fds, &f->capfds, f->nfds + 1, sizeof *f->fds);
    ff_fd *e = &f->fds[f->nfds++];
    *e = (ff_fd){.fd = fd, .tracked = name != NULL};
    if (!name)
        return;
    ff_name *n = ff_names_find(&f->cur, name);
    e->ino = n ? n->ino : ff_names_set(&f->cur, name, ff_inode_new(f))->ino;
}

static int ff_open(void *ctx, const char *path, int flags, unsigned mode)
{
    fileops_fault *f = ctx;
    int gate = ff_enter(f, FILEOPS_OP_OPEN);
    if (gate != 0)
        return gate;
    const char *name = ff_tracked(f, path);
    if (name && (flags & O_ACCMODE) == O_WRONLY) /* so a crash can read it */
        flags = (flags & ~O_ACCMODE) | O_RDWR;
    int fd = fileops_posix()->open(NULL, path, flags, mode);
    if (fd >= 0)
        ff_fd_add(f, fd, name);
    return (int)ff_leave(f, fd);
}

static void ff_close(void *ctx, int fd)
{
    fileops_fault *f = ctx;
    pthread_mutex_lock(&f->mu);
    ff_fd *e = ff_fd_find(f, fd);
    if (e)
        *e = f->fds[--f->nfds];
    fileops_posix()->close(NULL, fd);
    pthread_mutex_unlock(&f->mu);
}

static ssize_t ff_pread(void *ctx, int fd, void *buf, size_t n, uint64_t off)
{
    fileops_fault *f = ctx;
    int gate = ff_enter(f, FILEOPS_OP_PREAD);
    if (gate != 0)
        return gate;
    ssize_t r = fileops_posix()->pread(NULL, fd, buf, n, off);
    return ff_leave(f, r);
}

static ssize_t ff_pwrite(void *ctx, int fd, const void *buf, size_t n,
                         uint64_t off)
{
    fileops_fault *f = ctx;
    int gate = ff_enter(f, FILEOPS_OP_PWRITE);
    if (gate != 0)
        return gate;
    if (f->short_at && f->kind_count[FILEOPS_OP_PWRITE] == f->short_at) {
        f->short_at = 0;
        n = n > 1 ? n / 2 : n;
    }
    ssize_t r = fileops_posix()->pwrite(NULL, fd, buf, n, off);
    return ff_leave(f, r);
}

/* Durability is modelled, so the disk itself need not be flushed. */
static int ff_sync_common(fileops_fault *f, int fd)
{
    ff_fd *e = ff_fd_find(f, fd);
    if (!e)
        return -EBADF;
    if (e->tracked)
        ff_read_fd(fd, &f->inodes[e->ino].dur);
    return 0;
}

static int ff_fsync(void *ctx, int fd)
{
    fileops_fault *f = ctx;
    int gate = ff_enter(f, FILEOPS_OP_FSYNC);
    if (gate != 0)
        return gate;
    return (int)ff_leave(f, ff_sync_common(f, fd));
}

static int ff_fdatasync(void *ctx, int fd)
{
    fileops_fault *f = ctx;
    int gate = ff_enter(f, FILEOPS_OP_FSYNC);
    if (gate != 0)
        return gate;
    return (int)ff_leave(f, ff_sync_common(f, fd));
}

static int ff_ftruncate(void *ctx, int fd, uint64_t len)
{
    fileops_fault *f = ctx;
    int gate = ff_enter(f, FILEOPS_OP_FTRUNCATE);
    if (gate != 0)
        return gate;
    return (int)ff_leave(f, fileops_posix()->ftruncate(NULL, fd, len));
}

static int ff_size(void *ctx, int fd, uint64_t *size)
{
    fileops_fault *f = ctx;
    int gate = ff_enter(f, FILEOPS_OP_SIZE);
    if (gate != 0)
        return gate;
    return (int)ff_leave(f, fileops_posix()->size(NULL, fd, size));
}

static void ff_renamed(fileops_fault *f, const char *from, const char *to)
{
    ff_name *src = from ? ff_names_find(&f->cur, from) : NULL;
    size_t ino = src ? src->ino : ff_inode_new(f);
    if (from)
        ff_names_del(&f->cur, from);
    if (to)
        ff_names_set(&f->cur, to, ino);
}

static int ff_rename(void *ctx, const char *from, const char *to)
{
    fileops_fault *f = ctx;
    int gate = ff_enter(f, FILEOPS_OP_RENAME);
    if (gate != 0)
        return gate;
    int rc = fileops_posix()->rename(NULL, from, to);
    if (rc == 0)
        ff_renamed(f, ff_tracked(f, from), ff_tracked(f, to));
    return (int)ff_leave(f, rc);
}

static int ff_unlink(void *ctx, const char *path)
{
    fileops_fault *f = ctx;
    int gate = ff_enter(f, FILEOPS_OP_UNLINK);
    if (gate != 0)
        return gate;
    int rc = fileops_posix()->unlink(NULL, path);
    const char *name = ff_tracked(f, path);
    if (rc == 0 && name)
        ff_names_del(&f->cur, name);
    return (int)ff_leave(f, rc);
}

static int ff_mkdir(void *ctx, const char *path, unsigned mode)
{
    fileops_fault *f = ctx;
    int gate = ff_enter(f, FILEOPS_OP_MKDIR);
    if (gate != 0)
        return gate;
    return (int)ff_leave(f, fileops_posix()->mkdir(NULL, path, mode));
}

static int ff_list(void *ctx, const char *dir, fileops_list_fn fn, void *fctx)
{
    fileops_fault *f = ctx;
    int gate = ff_enter(f, FILEOPS_OP_LIST);
    if (gate != 0)
        return gate;
    return (int)ff_leave(f, fileops_posix()->list(NULL, dir, fn, fctx));
}

static int ff_exists_cb(void *fctx, const char *name)
{
    (void)fctx;
    (void)name;
    return 0;
}

static int ff_fsync_dir(void *ctx, const char *dir)
{
    fileops_fault *f = ctx;
    int gate = ff_enter(f, FILEOPS_OP_FSYNC_DIR);
    if (gate != 0)
        return gate;
    int rc = fileops_posix()->list(NULL, dir, ff_exists_cb, NULL); /* modelled */
    if (rc == 0 && strcmp(dir, f->dir) == 0)
        ff_names_copy(&f->dur, &f->cur);
    return (int)ff_leave(f, rc);
}

/* ---- the public side ----------------------------------------------------- */

fileops_fault *fileops_fault_create(const char *dir, uint64_t seed)
{
    fileops_fault *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->dir = strdup(dir);
    f->dirlen = f->dir ? strlen(f->dir) : 0;
    while (f->dirlen > 1 && f->dir[f->dirlen - 1] == '/')
        f->dir[--f->dirlen] = 0;
    f->rng = seed ? seed : 0x9E3779B97F4A7C15ULL;
    pthread_mutex_init(&f->mu, NULL);
    f->ops = (fileops){f, ff_open, ff_close, ff_pread, ff_pwrite, ff_fsync,
                       ff_fdatasync, ff_ftruncate, ff_size, ff_rename,
                       ff_unlink, ff_mkdir, ff_list, ff_fsync_dir};
    if (!f->dir || ff_adopt(f) < 0) {
        fileops_fault_free(f);
        return NULL;
    }
    return f;
}

void fileops_fault_free(fileops_fault *f)
{
    if (!f)
        return;
    ff_forget(f);
    free(f->inodes);
    free(f->cur.v);
    free(f->dur.v);
    free(f->fds);
    free(f->dir);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

const fileops *fileops_fault_ops(fileops_fault *f)
{
    return &f->ops;
}

void fileops_fault_fail(fileops_fault *f, int op, unsigned long nth, int err)
{
    pthread_mutex_lock(&f->mu);
    f->fail_at[op] = nth ? f->kind_count[op] + nth : 0;
    f->fail_err[op] = err;
    pthread_mutex_unlock(&f->mu);
}

void fileops_fault_short_write(fileops_fault *f, unsigned long nth)
{
    pthread_mutex_lock(&f->mu);
    f->short_at = nth ? f->kind_count[FILEOPS_OP_PWRITE] + nth : 0;
    pthread_mutex_unlock(&f->mu);
}

void fileops_fault_crash_at(fileops_fault *f, unsigned long nth)
{
    pthread_mutex_lock(&f->mu);
    f->crash_at = nth ? f->count + nth : 0;
    pthread_mutex_unlock(&f->mu);
}

void fileops_fault_crash_on(fileops_fault *f, int op, unsigned long nth)
{
    pthread_mutex_lock(&f->mu);
    f->crash_kind = op;
    f->crash_kind_at = nth ? f->kind_count[op] + nth : 0;
    pthread_mutex_unlock(&f->mu);
}

void fileops_fault_crash(fileops_fault *f)
{
    pthread_mutex_lock(&f->mu);
    ff_do_crash(f);
    pthread_mutex_unlock(&f->mu);
}

bool fileops_fault_crashed(const fileops_fault *f)
{
    return f->crashed;
}

unsigned long fileops_fault_count(const fileops_fault *f)
{
    return f->count;
}

int fileops_fault_reboot(fileops_fault *f, int mode)
{
    pthread_mutex_lock(&f->mu);
    int rc = -EBUSY;
    if (f->nfds == 0) {
        ff_do_crash(f);
        rc = ff_restore(f, mode);
        if (rc == 0)
            rc = ff_adopt(f);
        f->crashed = false;
        f->crash_at = f->short_at = f->crash_kind_at = 0;
        memset(f->fail_at, 0, sizeof f->fail_at);
    }
    pthread_mutex_unlock(&f->mu);
    return rc;
}
