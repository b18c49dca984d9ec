/*
 * wal_testutil.c - helpers for the storage tests (see wal_testutil.h).
 * Raw file surgery deliberately bypasses fileops: it plays the disk
 * going bad, not the program.
 */
#include "wal_testutil.h"

#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void wt_mkdtemp(char *buf, size_t len)
{
    snprintf(buf, len, "/tmp/zk-wal-test-XXXXXX");
    assert_non_null(mkdtemp(buf));
}

void wt_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char path[4096];
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            wt_rmdir(path);
        else
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

size_t wt_payload(int64_t zxid, uint8_t *buf, size_t max)
{
    uint64_t z = (uint64_t)zxid;
    size_t len = 1 + (size_t)((z * 7919u) % 200u);
    if (len > max)
        len = max;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(z * 31u + i * 7u + (z >> 8));
    return len;
}

void wt_append(wal_t *w, int64_t zxid)
{
    uint8_t buf[256];
    size_t len = wt_payload(zxid, buf, sizeof buf);
    assert_int_equal(wal_append(w, zxid, buf, len), 0);
}

static void wt_log_fn(void *ctx, int level, const char *msg)
{
    wt_log *l = ctx;
    if (l->n >= 32)
        return;
    snprintf(l->msgs[l->n], sizeof l->msgs[0], "%s", msg);
    l->levels[l->n++] = level;
}

fileops_log wt_log_sink(wt_log *l)
{
    memset(l, 0, sizeof *l);
    return (fileops_log){wt_log_fn, l};
}

bool wt_log_has(const wt_log *l, int level, const char *a, const char *b)
{
    for (int i = 0; i < l->n; i++)
        if (l->levels[i] == level && strstr(l->msgs[i], a) && (!b || strstr(l->msgs[i], b)))
            return true;
    return false;
}

void wt_log_print(const wt_log *l)
{
    for (int i = 0; i < l->n; i++)
        print_message("  log[%d] %d: %s\n", i, l->levels[i], l->msgs[i]);
}

int wt_collect(void *ctx, int64_t zxid, const void *payload, size_t len)
{
    wt_seen *s = ctx;
    uint8_t want[256];
    size_t wlen = wt_payload(zxid, want, sizeof want);
    assert_int_equal(len, wlen);
    assert_memory_equal(payload, want, len);
    assert_true(s->n < sizeof s->zxids / sizeof s->zxids[0]);
    s->zxids[s->n++] = zxid;
    return 0;
}

bool wt_seen_range(const wt_seen *s, int64_t first, int64_t last)
{
    if (last < first)
        return s->n == 0;
    if (s->n != (size_t)(last - first + 1))
        return false;
    for (size_t i = 0; i < s->n; i++)
        if (s->zxids[i] != first + (int64_t)i)
            return false;
    return true;
}

wal_opts wt_opts(uint64_t segment_bytes, uint64_t prealloc, wt_log *log)
{
    wal_opts o;
    wal_opts_default(&o);
    o.segment_bytes = segment_bytes;
    o.prealloc_bytes = prealloc;
    o.keep_segments = 0;
    if (log)
        o.log = wt_log_sink(log);
    return o;
}

static void wt_path(char *buf, size_t len, const char *dir, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

uint64_t wt_file_size(const char *dir, const char *name)
{
    char path[4096];
    struct stat st;
    wt_path(path, sizeof path, dir, name);
    assert_int_equal(stat(path, &st), 0);
    return (uint64_t)st.st_size;
}

void wt_truncate(const char *dir, const char *name, uint64_t len)
{
    char path[4096];
    wt_path(path, sizeof path, dir, name);
    assert_int_equal(truncate(path, (off_t)len), 0);
}

void wt_flip(const char *dir, const char *name, uint64_t off)
{
    char path[4096];
    uint8_t b;
    wt_path(path, sizeof path, dir, name);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &b, 1, (off_t)off), 1);
    b ^= 0x5a;
    assert_int_equal(pwrite(fd, &b, 1, (off_t)off), 1);
    close(fd);
}

bool wt_exists(const char *dir, const char *name)
{
    char path[4096];
    wt_path(path, sizeof path, dir, name);
    return access(path, F_OK) == 0;
}

uint8_t *wt_read_file(const char *dir, const char *name, size_t *len)
{
    char path[4096];
    wt_path(path, sizeof path, dir, name);
    uint64_t size = wt_file_size(dir, name);
    uint8_t *p = malloc(size + 1);
    assert_non_null(p);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, p, size), (ssize_t)size);
    close(fd);
    *len = size;
    return p;
}

void wt_write_file(const char *dir, const char *name, const uint8_t *p, size_t len)
{
    char path[4096];
    wt_path(path, sizeof path, dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, p, len), (ssize_t)len);
    close(fd);
}

const char *wt_seg_name(int64_t zxid)
{
    static char buf[4][32];
    static int i;
    char *b = buf[i++ & 3];
    snprintf(b, 32, "log.%016llx", (unsigned long long)zxid);
    return b;
}

const char *wt_snap_name(int64_t zxid)
{
    static char buf[4][40];
    static int i;
    char *b = buf[i++ & 3];
    snprintf(b, 40, "snapshot.%016llx", (unsigned long long)zxid);
    return b;
}
