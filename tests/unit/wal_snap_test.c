/*
 * wal_snap_test.c - snapshot files (round trip, corruption refused, crash
 * before the rename, stale temp files, purge, write errors) and the data
 * directory checker.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapfile.h"
#include "wal_int.h"
#include "wal_testutil.h"

static uint8_t body_byte(int64_t zxid, uint64_t i)
{
    return (uint8_t)(i * 13u + (uint64_t)zxid * 101u + (i >> 9));
}

/* Writes snapshot zxid with a body of len bytes in uneven pieces. */
static int write_snap(const char *dir, const fileops *fo, int64_t zxid, size_t len)
{
    static const size_t pieces[] = {1, 7, 1000, 70000, 3};
    snap_writer *sw;
    int rc = snap_write_begin(dir, fo, zxid, &sw);
    if (rc < 0)
        return rc;
    uint8_t *buf = malloc(70000);
    assert_non_null(buf);
    for (size_t i = 0, k = 0; i < len && rc == 0; k++) {
        size_t n = pieces[k % 5] < len - i ? pieces[k % 5] : len - i;
        for (size_t j = 0; j < n; j++)
            buf[j] = body_byte(zxid, i + j);
        rc = snap_write(sw, buf, n);
        i += n;
    }
    free(buf);
    if (rc < 0) {
        snap_write_abort(sw);
        return rc;
    }
    return snap_write_commit(sw);
}

/* Reads the body of r in uneven pieces, checking the bytes if verify;
 * returns the last read's result. */
static int read_body_v(snap_reader *r, bool verify)
{
    uint64_t len = snap_reader_size(r), i = 0;
    uint8_t buf[5000];
    int rc = 0;
    for (size_t k = 1; i < len && rc == 0; k = k * 7 % 4999 + 1) {
        size_t n = k < len - i ? k : (size_t)(len - i);
        rc = snap_read(r, buf, n);
        for (size_t j = 0; verify && rc == 0 && j < n; j++)
            assert_int_equal(buf[j], body_byte(snap_reader_zxid(r), i + j));
        i += n;
    }
    return rc;
}

static int read_body(snap_reader *r)
{
    return read_body_v(r, true);
}

static snap_reader *latest(const char *dir, const fileops *fo, wt_log *log, int want_rc)
{
    snap_reader *r = NULL;
    fileops_log sink = wt_log_sink(log);
    assert_int_equal(snap_open_latest(dir, fo, &sink, &r), want_rc);
    return r;
}

static void test_snap_roundtrip(void **state)
{
    (void)state;
    char dir[64];
    wt_log log;
    wt_mkdtemp(dir, sizeof dir);
    const fileops *px = fileops_posix();
    assert_null(latest(dir, px, &log, 0));
    assert_int_equal(write_snap(dir, px, 0x10, 200000), 0);
    assert_int_equal(write_snap(dir, px, 0x20, 0), 0);
    snap_reader *r = latest(dir, px, &log, 0);
    assert_int_equal(snap_reader_zxid(r), 0x20);
    assert_int_equal(snap_reader_size(r), 0);
    assert_int_equal(snap_read_finish(r), 0);
    snap_reader_close(r);
    assert_int_equal(write_snap(dir, px, 0x30, 200000), 0);
    r = latest(dir, px, &log, 0);
    assert_int_equal(snap_reader_size(r), 200000);
    assert_int_equal(read_body(r), 0);
    assert_int_equal(snap_read_finish(r), 0);
    uint8_t x;
    assert_int_equal(snap_read(r, &x, 1), SNAP_ECORRUPT); /* past the end */
    snap_reader_close(r);
    wt_rmdir(dir);
}

static void test_snap_body_corruption_refused(void **state)
{
    (void)state;
    char dir[64];
    wt_log log;
    wt_mkdtemp(dir, sizeof dir);
    const fileops *px = fileops_posix();
    assert_int_equal(write_snap(dir, px, 0x10, 5000), 0);
    assert_int_equal(write_snap(dir, px, 0x20, 100000), 0);
    wt_flip(dir, wt_snap_name(0x20), 32 + 77777);
    snap_reader *r = latest(dir, px, &log, 0); /* no fallback to 0x10 */
    assert_int_equal(snap_reader_zxid(r), 0x20);
    assert_int_equal(read_body_v(r, false), SNAP_ECORRUPT); /* the final read fails */
    assert_int_equal(snap_read_finish(r), SNAP_ECORRUPT);
    assert_true(wt_log_has(&log, FILEOPS_LOG_ERROR, wt_snap_name(0x20), "checksum"));
    snap_reader_close(r);
    wt_rmdir(dir);
}

static void test_snap_header_corruption_refused(void **state)
{
    (void)state;
    char dir[64];
    wt_log log;
    wt_mkdtemp(dir, sizeof dir);
    const fileops *px = fileops_posix();
    assert_int_equal(write_snap(dir, px, 0x10, 5000), 0);
    assert_int_equal(write_snap(dir, px, 0x20, 5000), 0);
    wt_flip(dir, wt_snap_name(0x20), 17);
    assert_null(latest(dir, px, &log, SNAP_ECORRUPT));
    assert_true(wt_log_has(&log, FILEOPS_LOG_ERROR, wt_snap_name(0x20), "refusing"));
    wt_flip(dir, wt_snap_name(0x20), 17);
    wt_truncate(dir, wt_snap_name(0x20), 5000);
    assert_null(latest(dir, px, &log, SNAP_ECORRUPT));
    assert_true(wt_log_has(&log, FILEOPS_LOG_ERROR, wt_snap_name(0x20), "trailer"));
    wt_rmdir(dir);
}

static void test_snap_unread_body(void **state)
{
    (void)state;
    char dir[64];
    wt_log log;
    uint8_t buf[100];
    wt_mkdtemp(dir, sizeof dir);
    assert_int_equal(write_snap(dir, fileops_posix(), 0x10, 5000), 0);
    snap_reader *r = latest(dir, fileops_posix(), &log, 0);
    assert_int_equal(snap_read(r, buf, sizeof buf), 0);
    assert_int_equal(snap_read_finish(r), SNAP_ECORRUPT);
    assert_true(wt_log_has(&log, FILEOPS_LOG_ERROR, "unread", NULL));
    snap_reader_close(r);
    wt_rmdir(dir);
}

static void test_snap_crash_before_rename(void **state)
{
    (void)state;
    for (int mode = FILEOPS_CRASH_DROP; mode <= FILEOPS_CRASH_SECTORS; mode++) {
        char dir[64];
        wt_log log;
        wt_mkdtemp(dir, sizeof dir);
        fileops_fault *f = fileops_fault_create(dir, 5);
        const fileops *fo = fileops_fault_ops(f);
        assert_int_equal(write_snap(dir, fo, 0x10, 3000), 0);
        fileops_fault_crash_on(f, FILEOPS_OP_RENAME, 1);
        assert_int_equal(write_snap(dir, fo, 0x20, 3000), -EIO);
        assert_int_equal(fileops_fault_reboot(f, mode), 0);
        snap_reader *r = latest(dir, fo, &log, 0);
        assert_int_equal(snap_reader_zxid(r), 0x10);
        assert_int_equal(read_body(r), 0);
        assert_int_equal(snap_read_finish(r), 0);
        snap_reader_close(r);
        assert_false(wt_exists(dir, "tmp.snapshot.0000000000000020"));
        fileops_fault_free(f);
        wt_rmdir(dir);
    }
}

static void test_snap_stale_temp_removed(void **state)
{
    (void)state;
    char dir[64];
    wt_log log;
    wt_mkdtemp(dir, sizeof dir);
    assert_int_equal(write_snap(dir, fileops_posix(), 0x10, 3000), 0);
    wt_write_file(dir, "tmp.snapshot.0000000000000030", (const uint8_t *)"half", 4);
    snap_reader *r = latest(dir, fileops_posix(), &log, 0);
    assert_int_equal(snap_reader_zxid(r), 0x10);
    snap_reader_close(r);
    assert_false(wt_exists(dir, "tmp.snapshot.0000000000000030"));
    assert_true(wt_log_has(&log, FILEOPS_LOG_WARN, "tmp.snapshot.0000000000000030", NULL));
    wt_rmdir(dir);
}

static void test_snap_purge(void **state)
{
    (void)state;
    char dir[64];
    int64_t oldest = -1;
    wt_mkdtemp(dir, sizeof dir);
    const fileops *px = fileops_posix();
    assert_int_equal(snap_purge(dir, px, 2, &oldest), 0);
    assert_int_equal(oldest, 0);
    for (int64_t z = 1; z <= 5; z++)
        assert_int_equal(write_snap(dir, px, z * 10, 100), 0);
    assert_int_equal(snap_purge(dir, px, 2, &oldest), 3);
    assert_int_equal(oldest, 40);
    assert_false(wt_exists(dir, wt_snap_name(30)));
    assert_true(wt_exists(dir, wt_snap_name(40)));
    assert_true(wt_exists(dir, wt_snap_name(50)));
    wt_rmdir(dir);
}

static void test_snap_write_errors(void **state)
{
    (void)state;
    static const int ops[] = {FILEOPS_OP_PWRITE, FILEOPS_OP_FSYNC, FILEOPS_OP_RENAME,
                              FILEOPS_OP_OPEN};
    for (size_t i = 0; i < 4; i++) {
        char dir[64];
        wt_log log;
        wt_mkdtemp(dir, sizeof dir);
        fileops_fault *f = fileops_fault_create(dir, 9);
        const fileops *fo = fileops_fault_ops(f);
        assert_int_equal(write_snap(dir, fo, 0x10, 3000), 0);
        fileops_fault_fail(f, ops[i], 1, -ENOSPC);
        assert_int_equal(write_snap(dir, fo, 0x20, 300000), -ENOSPC);
        assert_false(wt_exists(dir, "tmp.snapshot.0000000000000020"));
        snap_reader *r = latest(dir, fo, &log, 0);
        assert_int_equal(snap_reader_zxid(r), 0x10);
        snap_reader_close(r);
        fileops_fault_free(f);
        wt_rmdir(dir);
    }
}

/* ---- the checker ---------------------------------------------------------- */

static int check(const char *dir, char **text)
{
    size_t len;
    FILE *out = open_memstream(text, &len);
    assert_non_null(out);
    int rc = wal_check_dir(dir, out);
    fclose(out);
    return rc;
}

static void make_data(const char *dir)
{
    wal_opts o = wt_opts(600, 0, NULL);
    wal_t *w;
    assert_int_equal(wal_open(dir, fileops_posix(), &o, &w), 0);
    for (int64_t z = 1; z <= 30; z++) {
        wt_append(w, z);
        if (z % 3 == 0)
            assert_int_equal(wal_sync(w), 0);
    }
    wal_close(w);
    assert_int_equal(write_snap(dir, fileops_posix(), 12, 1000), 0);
}

static void test_check_dir(void **state)
{
    (void)state;
    char dir[64], *text = NULL;
    wt_mkdtemp(dir, sizeof dir);
    make_data(dir);
    assert_int_equal(check(dir, &text), 0);
    assert_non_null(strstr(text, "result: OK"));
    assert_non_null(strstr(text, "snapshot.000000000000000c  zxid 0xc"));
    assert_non_null(strstr(text, "replay up to zxid 0x1e"));
    free(text);
    const char *last = NULL;
    for (int64_t z = 30; z > 0 && !last; z--)
        if (wt_exists(dir, wt_seg_name(z)))
            last = wt_seg_name(z);
    wt_truncate(dir, last, wt_file_size(dir, last) - 2);
    assert_int_equal(check(dir, &text), 0); /* a torn tail is cut at start */
    assert_non_null(strstr(text, "WARNING"));
    free(text);
    wt_flip(dir, wt_seg_name(1), 50);
    assert_int_equal(check(dir, &text), 1);
    assert_non_null(strstr(text, "ERROR"));
    assert_non_null(strstr(text, "log.0000000000000001: corrupt at offset 40"));
    free(text);
    wt_flip(dir, wt_seg_name(1), 50);
    wt_flip(dir, wt_snap_name(12), 40);
    assert_int_equal(check(dir, &text), 1);
    assert_non_null(strstr(text, "BAD"));
    free(text);
    wt_rmdir(dir);
}

static void test_check_dir_gap(void **state)
{
    (void)state;
    char dir[64], *text = NULL;
    wt_mkdtemp(dir, sizeof dir);
    make_data(dir);
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, wt_snap_name(12));
    assert_int_equal(remove(path), 0);
    wal_opts o = wt_opts(600, 0, NULL);
    wal_t *w;
    assert_int_equal(wal_open(dir, fileops_posix(), &o, &w), 0);
    assert_true(wal_purge(w, 29) > 0);
    wal_close(w);
    assert_int_equal(write_snap(dir, fileops_posix(), 2, 10), 0);
    assert_int_equal(check(dir, &text), 1);
    assert_non_null(strstr(text, "records missing"));
    free(text);
    wt_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snap_roundtrip),
        cmocka_unit_test(test_snap_body_corruption_refused),
        cmocka_unit_test(test_snap_header_corruption_refused),
        cmocka_unit_test(test_snap_unread_body),
        cmocka_unit_test(test_snap_crash_before_rename),
        cmocka_unit_test(test_snap_stale_temp_removed),
        cmocka_unit_test(test_snap_purge),
        cmocka_unit_test(test_snap_write_errors),
        cmocka_unit_test(test_check_dir),
        cmocka_unit_test(test_check_dir_gap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
