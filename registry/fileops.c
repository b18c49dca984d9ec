/*
 * fileops.c - the POSIX fileops table, full-transfer helpers, the log sink.
 *
 * The table is a thin layer over the system calls: errors become negative
 * errno values and EINTR is retried, nothing else. The helpers loop over
 * short transfers so that callers see all-or-error.
 */
#include "fileops.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static int px_open(void *ctx, const char *path, int flags, unsigned mode)
{
    (void)ctx;
    int fd;
    do
        fd = open(path, flags | O_CLOEXEC, (mode_t)mode);
    while (fd < 0 && errno == EINTR);
    return fd < 0 ? -errno : fd;
}

static void px_close(void *ctx, int fd)
{
    (void)ctx;
    close(fd);
}

static ssize_t px_pread(void *ctx, int fd, void *buf, size_t n, uint64_t off)
{
    (void)ctx;
    ssize_t r;
    do
        r = pread(fd, buf, n, (off_t)off);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : r;
}

static ssize_t px_pwrite(void *ctx, int fd, const void *buf, size_t n,
                         uint64_t off)
{
    (void)ctx;
    ssize_t r;
    do
        r = pwrite(fd, buf, n, (off_t)off);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : r;
}

static int px_ret(int r)
{
    return r < 0 ? -errno : 0;
}

static int px_fsync(void *ctx, int fd)
{
    (void)ctx;
    int r;
    do
        r = fsync(fd);
    while (r < 0 && errno == EINTR);
    return px_ret(r);
}

static int px_fdatasync(void *ctx, int fd)
{
    (void)ctx;
    int r;
    do
        r = fdatasync(fd);
    while (r < 0 && errno == EINTR);
    return px_ret(r);
}

static int px_ftruncate(void *ctx, int fd, uint64_t len)
{
    (void)ctx;
    int r;
    do
        r = ftruncate(fd, (off_t)len);
    while (r < 0 && errno == EINTR);
    return px_ret(r);
}

static int px_size(void *ctx, int fd, uint64_t *size)
{
    (void)ctx;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    *size = (uint64_t)st.st_size;
    return 0;
}

static int px_rename(void *ctx, const char *from, const char *to)
{
    (void)ctx;
    return px_ret(rename(from, to));
}

static int px_unlink(void *ctx, const char *path)
{
    (void)ctx;
    return px_ret(unlink(path));
}

static int px_mkdir(void *ctx, const char *path, unsigned mode)
{
    (void)ctx;
    return px_ret(mkdir(path, (mode_t)mode));
}

static int px_list(void *ctx, const char *dir, fileops_list_fn fn, void *fctx)
{
    (void)ctx;
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    int rc = 0;
    struct dirent *de;
    errno = 0;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' &&
            (de->d_name[1] == 0 || (de->d_name[1] == '.' && de->d_name[2] == 0)))
            continue;
        rc = fn(fctx, de->d_name);
        errno = 0;
    }
    if (rc == 0 && errno != 0)
        rc = -errno;
    closedir(d);
    return rc;
}

static int px_fsync_dir(void *ctx, const char *dir)
{
    int fd = px_open(ctx, dir, O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0)
        return fd;
    int rc = px_fsync(ctx, fd);
    close(fd);
    return rc;
}

static const fileops px_table = {
    .ctx = NULL,
    .open = px_open,
    .close = px_close,
    .pread = px_pread,
    .pwrite = px_pwrite,
    .fsync = px_fsync,
    .fdatasync = px_fdatasync,
    .ftruncate = px_ftruncate,
    .size = px_size,
    .rename = px_rename,
    .unlink = px_unlink,
    .mkdir = px_mkdir,
    .list = px_list,
    .fsync_dir = px_fsync_dir,
};

const fileops *fileops_posix(void)
{
    return &px_table;
}

int fileops_pwrite_full(const fileops *fo, int fd, const void *buf, size_t n,
                        uint64_t off)
{
    const uint8_t *p = buf;
    while (n > 0) {
        ssize_t r = fo->pwrite(fo->ctx, fd, p, n, off);
        if (r < 0)
            return (int)r;
        if (r == 0)
            return -EIO;
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

int fileops_pread_full(const fileops *fo, int fd, void *buf, size_t n,
                       uint64_t off)
{
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t r = fo->pread(fo->ctx, fd, p, n, off);
        if (r < 0)
            return (int)r;
        if (r == 0)
            return -ENODATA;
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

void fileops_logf(const fileops_log *log, int level, const char *fmt, ...)
{
    if (!log || !log->fn)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log->fn(log->ctx, level, msg);
}
