/*
 * wal_fault_test.c - the log under injected faults: write and fsync errors
 * (sticky, never acknowledged), short writes (completed), crashes before an
 * fsync or before the directory fsync of a new segment (unsynced records
 * lost, synced ones kept, recovery clean), and a flush on a worker thread
 * while the loop thread appends.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wal_testutil.h"

typedef struct fx {
    char dir[64];
    fileops_fault *f;
    const fileops *fo;
    wal_opts o;
    wt_log log;
} fx;

static void fx_init(fx *x, uint64_t segment_bytes)
{
    wt_mkdtemp(x->dir, sizeof x->dir);
    x->f = fileops_fault_create(x->dir, 42);
    assert_non_null(x->f);
    x->fo = fileops_fault_ops(x->f);
    x->o = wt_opts(segment_bytes, 0, &x->log);
}

static void fx_done(fx *x)
{
    fileops_fault_free(x->f);
    wt_rmdir(x->dir);
}

static wal_t *fx_open(fx *x)
{
    wal_t *w = NULL;
    x->o.log = wt_log_sink(&x->log);
    assert_int_equal(wal_open(x->dir, x->fo, &x->o, &w), 0);
    return w;
}

static void sync_batches(wal_t *w, int64_t first, int64_t last, int per)
{
    for (int64_t z = first; z <= last; z++) {
        wt_append(w, z);
        if ((z - first + 1) % per == 0 || z == last)
            assert_int_equal(wal_sync(w), 0);
    }
}

/* Replays the whole log through fo; returns the last zxid seen. */
static int64_t fx_recover(fx *x)
{
    wal_t *w = fx_open(x);
    static wt_seen seen;
    memset(&seen, 0, sizeof seen);
    assert_int_equal(wal_recover(w, 0, wt_collect, &seen), 0);
    wal_close(w);
    int64_t last = seen.n ? seen.zxids[seen.n - 1] : 0;
    assert_true(wt_seen_range(&seen, 1, last));
    return last;
}

static void check_sticky(int op, int err)
{
    fx x;
    fx_init(&x, 1 << 20);
    wal_t *w = fx_open(&x);
    sync_batches(w, 1, 5, 1);
    fileops_fault_fail(x.f, op, 1, err);
    wt_append(w, 6);
    wt_append(w, 7);
    assert_int_equal(wal_sync(w), err);
    assert_int_equal(wal_durable_zxid(w), 5);
    assert_int_equal(wal_error(w), err);
    assert_int_equal(wal_append(w, 8, "x", 1), err);
    wal_batch *b;
    assert_int_equal(wal_flush_begin(w, &b), err);
    assert_int_equal(wal_sync(w), err);
    assert_int_equal(wal_durable_zxid(w), 5);
    wal_close(w);
    int64_t last = fx_recover(&x);
    assert_true(last == 5 || last == 7); /* the failed batch: all or nothing */
    fx_done(&x);
}

static void test_write_eio(void **state)
{
    (void)state;
    check_sticky(FILEOPS_OP_PWRITE, -EIO);
}

static void test_write_enospc(void **state)
{
    (void)state;
    check_sticky(FILEOPS_OP_PWRITE, -ENOSPC);
}

static void test_fsync_eio(void **state)
{
    (void)state;
    check_sticky(FILEOPS_OP_FSYNC, -EIO);
}

static void test_fsync_enospc(void **state)
{
    (void)state;
    check_sticky(FILEOPS_OP_FSYNC, -ENOSPC);
}

static void test_short_write(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, 1 << 20);
    wal_t *w = fx_open(&x);
    sync_batches(w, 1, 5, 1);
    fileops_fault_short_write(x.f, 1);
    sync_batches(w, 6, 20, 15);
    assert_int_equal(wal_durable_zxid(w), 20);
    wal_close(w);
    assert_int_equal(fx_recover(&x), 20);
    fx_done(&x);
}

static void test_crash_before_fsync(void **state)
{
    (void)state;
    for (int mode = FILEOPS_CRASH_DROP; mode <= FILEOPS_CRASH_SECTORS; mode++) {
        fx x;
        fx_init(&x, 1 << 20);
        wal_t *w = fx_open(&x);
        sync_batches(w, 1, 5, 1);
        fileops_fault_crash_on(x.f, FILEOPS_OP_FSYNC, 1);
        for (int64_t z = 6; z <= 40; z++)
            wt_append(w, z);
        assert_int_equal(wal_sync(w), -EIO);
        assert_int_equal(wal_durable_zxid(w), 5);
        wal_close(w);
        assert_int_equal(fileops_fault_reboot(x.f, mode), 0);
        int64_t last = fx_recover(&x);
        assert_true(last == 5 || (last == 40 && mode != FILEOPS_CRASH_DROP));
        if (mode == FILEOPS_CRASH_DROP)
            assert_int_equal(x.log.n, 0); /* nothing to cut: the bytes never landed */
        fx_done(&x);
    }
}

/* A new segment whose directory entry was never synced vanishes. */
static void test_crash_before_dir_fsync(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, 100); /* each batch opens a segment */
    wal_t *w = fx_open(&x);
    sync_batches(w, 1, 8, 4);
    fileops_fault_crash_on(x.f, FILEOPS_OP_FSYNC_DIR, 1);
    for (int64_t z = 9; z <= 12; z++)
        wt_append(w, z);
    assert_int_equal(wal_sync(w), -EIO);
    wal_close(w);
    assert_true(wt_exists(x.dir, wt_seg_name(9)));
    assert_int_equal(fileops_fault_reboot(x.f, FILEOPS_CRASH_DROP), 0);
    assert_false(wt_exists(x.dir, wt_seg_name(9)));
    assert_int_equal(fx_recover(&x), 8);
    fx_done(&x);
}

/* A crash during recovery's own cut leaves a log the next start repairs. */
static void test_crash_during_repair(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, 1 << 20);
    wal_t *w = fx_open(&x);
    sync_batches(w, 1, 10, 2);
    wal_close(w);
    wt_truncate(x.dir, wt_seg_name(1), wt_file_size(x.dir, wt_seg_name(1)) - 5);
    fileops_fault_free(x.f); /* surgery behind its back: start a new model */
    x.f = fileops_fault_create(x.dir, 7);
    x.fo = fileops_fault_ops(x.f);
    fileops_fault_crash_on(x.f, FILEOPS_OP_FSYNC, 1);
    x.o.log = wt_log_sink(&x.log);
    assert_int_equal(wal_open(x.dir, x.fo, &x.o, &w), -EIO);
    assert_int_equal(fileops_fault_reboot(x.f, FILEOPS_CRASH_DROP), 0);
    assert_int_equal(fx_recover(&x), 8);
    assert_true(wt_log_has(&x.log, FILEOPS_LOG_WARN, "torn tail", wt_seg_name(1)));
    fx_done(&x);
}

typedef struct worker {
    wal_batch *b;
    int rc;
} worker;

static void *worker_main(void *arg)
{
    worker *wk = arg;
    wk->rc = wal_flush_write(wk->b);
    return NULL;
}

static void test_flush_on_worker_thread(void **state)
{
    (void)state;
    char dir[64];
    wt_mkdtemp(dir, sizeof dir);
    wal_opts o = wt_opts(4096, 1024, NULL);
    wal_t *w = NULL;
    assert_int_equal(wal_open(dir, fileops_posix(), &o, &w), 0);
    int64_t z = 1;
    for (int turn = 0; turn < 50; turn++) {
        worker wk = {0};
        pthread_t th;
        wt_append(w, z++);
        assert_int_equal(wal_flush_begin(w, &wk.b), 0);
        assert_int_equal(pthread_create(&th, NULL, worker_main, &wk), 0);
        for (int i = 0; i < turn % 7; i++)
            wt_append(w, z++); /* the loop goes on appending */
        assert_int_equal(pthread_join(th, NULL), 0);
        assert_int_equal(wk.rc, 0);
        assert_int_equal(wal_flush_end(w, wk.b), 0);
    }
    assert_int_equal(wal_sync(w), 0);
    assert_int_equal(wal_durable_zxid(w), z - 1);
    wal_close(w);
    wt_seen *seen = calloc(1, sizeof *seen);
    assert_int_equal(wal_open(dir, fileops_posix(), &o, &w), 0);
    assert_int_equal(wal_recover(w, 0, wt_collect, seen), 0);
    assert_true(wt_seen_range(seen, 1, z - 1));
    wal_close(w);
    free(seen);
    wt_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_eio),
        cmocka_unit_test(test_write_enospc),
        cmocka_unit_test(test_fsync_eio),
        cmocka_unit_test(test_fsync_enospc),
        cmocka_unit_test(test_short_write),
        cmocka_unit_test(test_crash_before_fsync),
        cmocka_unit_test(test_crash_before_dir_fsync),
        cmocka_unit_test(test_crash_during_repair),
        cmocka_unit_test(test_flush_on_worker_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
