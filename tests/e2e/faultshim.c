/*
 * faultshim.c - an LD_PRELOAD library for the end-to-end tests: the real
 * zonekeeperd meets a dying or a full disk.
 *
 * It wraps pwrite, fsync and fdatasync. A call on a descriptor whose file
 * is the directory ZK_FAULT_DIR or lies in it fails with ZK_FAULT_ERRNO,
 * without doing anything, when the fault is armed; every other call goes
 * to the next definition (libc, or AddressSanitizer's interceptor before
 * it: the daemon then needs ASAN_OPTIONS=verify_asan_link_order=0).
 *
 *   ZK_FAULT_DIR    the directory (required; the shim does nothing without)
 *   ZK_FAULT_CALLS  which calls fail: a comma-separated subset of "pwrite",
 *                   "fsync", "fdatasync" (default: all three)
 *   ZK_FAULT_ERRNO  "EIO" (default), "ENOSPC" or a number
 *   ZK_FAULT_ARM    a path: armed only while that file exists, so a test
 *                   chooses the moment and lifts the fault by removing it
 *                   (default: always armed)
 *   ZK_FAULT_AFTER  once armed, this many matching calls still succeed
 *                   before every further one fails (default 0)
 *   ZK_FAULT_DELAY_MS  a slow disk instead of a failing one: a call that
 *                   would fail sleeps this many milliseconds, then succeeds
 *
 * A failed fsync or fdatasync also takes back what was pwritten to that
 * file since its last successful sync, by overwriting it with zeros: Linux
 * drops dirty pages after a writeback error, so those bytes are not on the
 * disk, and a daemon that acknowledged them must be seen to lose them.
 * Each injected failure (or delay) is reported on stderr ("faultshim: ...").
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define SHIM_MAX_FD 4096
#define SHIM_ZERO_CHUNK 65536

enum { SHIM_PWRITE = 1, SHIM_FSYNC = 2, SHIM_FDATASYNC = 4 };

typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*pwrite64_fn)(int, const void *, size_t, off64_t);
typedef int (*sync_fn)(int);

/* What was written to a descriptor since its last successful sync. */
typedef struct shim_dirty {
    dev_t dev;
    ino_t ino;
    uint64_t lo, hi; /* [lo, hi); empty when lo == hi */
} shim_dirty;

static struct {
    pthread_once_t once;
    pthread_mutex_t mu;
    pwrite_fn pwrite;
    pwrite64_fn pwrite64;
    sync_fn fsync, fdatasync;
    char dir[PATH_MAX];
    size_t dirlen;
    int calls;
    int err;
    const char *arm;
    unsigned long after;
    unsigned delay_ms;
    unsigned long armed_calls; /* matching calls seen while armed */
    shim_dirty dirty[SHIM_MAX_FD];
} shim = {.once = PTHREAD_ONCE_INIT, .mu = PTHREAD_MUTEX_INITIALIZER};

static int shim__calls(const char *s)
{
    if (s == NULL || *s == '\0')
        return SHIM_PWRITE | SHIM_FSYNC | SHIM_FDATASYNC;
    int calls = 0;
    calls |= strstr(s, "pwrite") ? SHIM_PWRITE : 0;
    calls |= strstr(s, "fdatasync") ? SHIM_FDATASYNC : 0;
    /* "fsync" alone, not as the tail of "fdatasync" */
    for (const char *p = s; (p = strstr(p, "fsync")) != NULL; p++)
        if (p == s || p[-1] == ',')
            calls |= SHIM_FSYNC;
    return calls;
}

static int shim__errno(const char *s)
{
    if (s == NULL || strcmp(s, "EIO") == 0)
        return EIO;
    if (strcmp(s, "ENOSPC") == 0)
        return ENOSPC;
    int e = atoi(s);
    return e > 0 ? e : EIO;
}

static void shim__lock(void)
{
    pthread_mutex_lock(&shim.mu);
}

static void shim__unlock(void)
{
    pthread_mutex_unlock(&shim.mu);
}

/* *fnp = the next definition of name (ISO C has no cast from void *). */
static void shim__next(void *fnp, const char *name)
{
    void *sym = dlsym(RTLD_NEXT, name);
    memcpy(fnp, &sym, sizeof sym);
}

static void shim__init(void)
{
    /* the daemon forks snapshot writers: never into a held lock */
    pthread_atfork(shim__lock, shim__unlock, shim__unlock);
    shim__next(&shim.pwrite, "pwrite");
    shim__next(&shim.pwrite64, "pwrite64");
    shim__next(&shim.fsync, "fsync");
    shim__next(&shim.fdatasync, "fdatasync");
    const char *dir = getenv("ZK_FAULT_DIR");
    if (dir == NULL || *dir == '\0')
        return;
    if (realpath(dir, shim.dir) == NULL) /* not made yet: take it as given */
        snprintf(shim.dir, sizeof shim.dir, "%s", dir);
    shim.dirlen = strlen(shim.dir);
    shim.calls = shim__calls(getenv("ZK_FAULT_CALLS"));
    shim.err = shim__errno(getenv("ZK_FAULT_ERRNO"));
    shim.arm = getenv("ZK_FAULT_ARM");
    const char *after = getenv("ZK_FAULT_AFTER");
    shim.after = after ? strtoul(after, NULL, 10) : 0;
    const char *delay = getenv("ZK_FAULT_DELAY_MS");
    shim.delay_ms = delay ? (unsigned)strtoul(delay, NULL, 10) : 0;
}

/* The file behind fd, if it is the directory or in it; else "". */
static void shim__path(int fd, char *path, size_t cap)
{
    char link[64];
    path[0] = '\0';
    if (shim.dirlen == 0)
        return;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, cap - 1);
    path[n < 0 ? 0 : n] = '\0';
    if ((size_t)n < shim.dirlen || memcmp(path, shim.dir, shim.dirlen) != 0 ||
        (path[shim.dirlen] != '/' && path[shim.dirlen] != '\0'))
        path[0] = '\0';
}

/* Whether this call, on a file of the directory, is to fail. */
static int shim__fails(int call, const char *path)
{
    if (path[0] == '\0' || (shim.calls & call) == 0)
        return 0;
    if (shim.arm && access(shim.arm, F_OK) != 0)
        return 0;
    shim__lock();
    int fail = ++shim.armed_calls > shim.after;
    shim__unlock();
    return fail;
}

static void shim__report(const char *call, const char *path)
{
    char msg[PATH_MAX + 128];
    int n = shim.delay_ms
                ? snprintf(msg, sizeof msg, "faultshim: %s(%s) delayed %u ms\n", call, path,
                           shim.delay_ms)
                : snprintf(msg, sizeof msg, "faultshim: %s(%s) fails with %s\n", call, path,
                           strerror(shim.err));
    if (n > 0 && write(2, msg, (size_t)n) < 0)
        return;
}

/* ZK_FAULT_DELAY_MS: the call goes on after the pause. 1 if it paused. */
static int shim__slow(const char *name, const char *path)
{
    if (shim.delay_ms == 0)
        return 0;
    shim__report(name, path);
    struct timespec ts = {.tv_sec = shim.delay_ms / 1000,
                          .tv_nsec = (long)(shim.delay_ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
    return 1;
}

static void shim__wrote(int fd, uint64_t off, size_t n)
{
    struct stat st;
    if (fd < 0 || fd >= SHIM_MAX_FD || n == 0 || fstat(fd, &st) != 0)
        return;
    shim__lock();
    shim_dirty *d = &shim.dirty[fd];
    if (d->lo == d->hi || d->dev != st.st_dev || d->ino != st.st_ino) {
        *d = (shim_dirty){.dev = st.st_dev, .ino = st.st_ino, .lo = off, .hi = off + n};
    } else {
        d->lo = off < d->lo ? off : d->lo;
        d->hi = off + n > d->hi ? off + n : d->hi;
    }
    shim__unlock();
}

/* After a sync: forgets (synced) or zeroes (failed) what fd had written. */
static void shim__synced(int fd, int failed)
{
    static const char zeros[SHIM_ZERO_CHUNK];
    struct stat st;
    if (fd < 0 || fd >= SHIM_MAX_FD)
        return;
    shim__lock();
    shim_dirty d = shim.dirty[fd];
    shim.dirty[fd].lo = shim.dirty[fd].hi = 0;
    shim__unlock();
    if (!failed || d.lo == d.hi || fstat(fd, &st) != 0 || st.st_dev != d.dev ||
        st.st_ino != d.ino)
        return;
    for (uint64_t off = d.lo; off < d.hi;) {
        size_t n = d.hi - off > SHIM_ZERO_CHUNK ? SHIM_ZERO_CHUNK : (size_t)(d.hi - off);
        ssize_t w = shim.pwrite(fd, zeros, n, (off_t)off);
        if (w <= 0)
            return;
        off += (uint64_t)w;
    }
}

/* Before a pwrite: -1 (errno set) if it is to fail; else 0, path filled. */
static int shim__pwrite_begin(const char *name, int fd, char *path, size_t cap)
{
    pthread_once(&shim.once, shim__init);
    shim__path(fd, path, cap);
    if (!shim__fails(SHIM_PWRITE, path) || shim__slow(name, path))
        return 0;
    shim__report(name, path);
    errno = shim.err;
    return -1;
}

static ssize_t shim__pwrite_end(int fd, const char *path, uint64_t off, ssize_t r)
{
    if (r > 0 && path[0] != '\0')
        shim__wrote(fd, off, (size_t)r);
    return r;
}

static int shim__sync(int call, const char *name, int fd)
{
    char path[PATH_MAX];
    pthread_once(&shim.once, shim__init);
    sync_fn real = call == SHIM_FSYNC ? shim.fsync : shim.fdatasync;
    shim__path(fd, path, sizeof path);
    if (shim__fails(call, path) && !shim__slow(name, path)) {
        shim__report(name, path);
        shim__synced(fd, 1);
        errno = shim.err;
        return -1;
    }
    int r = real(fd);
    if (r == 0 && path[0] != '\0')
        shim__synced(fd, 0);
    return r;
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    char path[PATH_MAX];
    if (shim__pwrite_begin("pwrite", fd, path, sizeof path) < 0)
        return -1;
    return shim__pwrite_end(fd, path, (uint64_t)off, shim.pwrite(fd, buf, n, off));
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
    char path[PATH_MAX];
    if (shim__pwrite_begin("pwrite64", fd, path, sizeof path) < 0)
        return -1;
    return shim__pwrite_end(fd, path, (uint64_t)off, shim.pwrite64(fd, buf, n, off));
}

int fsync(int fd)
{
    return shim__sync(SHIM_FSYNC, "fsync", fd);
}

int fdatasync(int fd)
{
    return shim__sync(SHIM_FDATASYNC, "fdatasync", fd);
}
