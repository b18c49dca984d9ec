/*
 * trash_test.c - purges move files to the trash; trash_empty deletes them
 * a step at a time, stops when asked, reports errors and leaves what it
 * could not delete for the next pass; recovery never reads the trash.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fileops.h"
#include "snapfile.h"
#include "trash.h"
#include "wal.h"
#include "wal_testutil.h"

/* The POSIX table, recording every ftruncate length and fsync_dir. */
typedef struct spy {
    fileops ops;
    uint64_t lens[64];
    int ntrunc, ndirsync;
} spy;

static int spy_ftruncate(void *ctx, int fd, uint64_t len)
{
    spy *s = ctx;
    if (s->ntrunc < 64)
        s->lens[s->ntrunc] = len;
    s->ntrunc++;
    return fileops_posix()->ftruncate(NULL, fd, len);
}

static int spy_fsync_dir(void *ctx, const char *dir)
{
    spy *s = ctx;
    s->ndirsync++;
    return fileops_posix()->fsync_dir(NULL, dir);
}

static void spy_init(spy *s)
{
    memset(s, 0, sizeof *s);
    s->ops = *fileops_posix();
    s->ops.ctx = s;
    s->ops.ftruncate = spy_ftruncate;
    s->ops.fsync_dir = spy_fsync_dir;
}

static void make_file(const char *dir, const char *name, size_t len)
{
    uint8_t *p = malloc(len);
    assert_non_null(p);
    memset(p, 0xab, len);
    wt_write_file(dir, name, p, len);
    free(p);
}

static void test_names(void **state)
{
    (void)state;
    assert_true(trash_is_name("trash.log.0000000000000001"));
    assert_true(trash_is_name("trash.x"));
    assert_false(trash_is_name("trash."));
    assert_false(trash_is_name("log.0000000000000001"));
    assert_false(trash_is_name("snapshot.trash.1"));
}

static void test_move_then_delete_in_steps(void **state)
{
    (void)state;
    char dir[64];
    spy s;
    spy_init(&s);
    wt_mkdtemp(dir, sizeof dir);
    make_file(dir, "snapshot.0000000000000005", (5u << 20) + 100);
    assert_int_equal(trash_move(&s.ops, dir, "snapshot.0000000000000005"), 0);
    assert_false(wt_exists(dir, "snapshot.0000000000000005"));
    assert_true(wt_exists(dir, "trash.snapshot.0000000000000005"));
    assert_int_equal(trash_count(&s.ops, dir), 1);

    trash_pace pace = {.step_bytes = 1u << 20, .pause_ms = 1};
    assert_int_equal(trash_empty(&s.ops, dir, &pace), 1);
    assert_int_equal(s.ntrunc, 5); /* 4 MiB+100, 3, 2, 1, 100 bytes, then unlink */
    for (int i = 0; i < 5; i++)
        assert_int_equal(s.lens[i], ((uint64_t)(4 - i) << 20) + 100);
    assert_int_equal(s.ndirsync, 1);
    assert_false(wt_exists(dir, "trash.snapshot.0000000000000005"));
    assert_int_equal(trash_count(&s.ops, dir), 0);

    /* nothing to do: no directory fsync either */
    assert_int_equal(trash_empty(&s.ops, dir, &pace), 0);
    assert_int_equal(s.ndirsync, 1);
    wt_rmdir(dir);
}

static void test_stop_leaves_the_rest(void **state)
{
    (void)state;
    char dir[64];
    atomic_bool stop;
    atomic_init(&stop, true);
    wt_mkdtemp(dir, sizeof dir);
    make_file(dir, "trash.a", 3u << 20);
    make_file(dir, "trash.b", 10);
    make_file(dir, "log.0000000000000001", 10);
    const fileops *px = fileops_posix();
    trash_pace pace = {.step_bytes = 1u << 20, .stop = &stop};
    assert_int_equal(trash_empty(px, dir, &pace), 0);
    assert_int_equal(trash_count(px, dir), 2);
    atomic_store(&stop, false);
    assert_int_equal(trash_empty(px, dir, &pace), 2);
    assert_int_equal(trash_count(px, dir), 0);
    assert_true(wt_exists(dir, "log.0000000000000001")); /* not trash: untouched */
    wt_rmdir(dir);
}

static void test_errors_keep_the_file_for_next_time(void **state)
{
    (void)state;
    char dir[64], missing[80];
    wt_mkdtemp(dir, sizeof dir);
    const fileops *px = fileops_posix();
    assert_int_equal(trash_move(px, dir, "no-such-file"), -ENOENT);
    snprintf(missing, sizeof missing, "%s/gone", dir);
    assert_int_equal(trash_empty(px, missing, NULL), -ENOENT);

    make_file(dir, "trash.big", 3u << 20);
    fileops_fault *f = fileops_fault_create(dir, 1);
    assert_non_null(f);
    fileops_fault_fail(f, FILEOPS_OP_FTRUNCATE, 2, -EIO);
    trash_pace pace = {.step_bytes = 1u << 20};
    assert_int_equal(trash_empty(fileops_fault_ops(f), dir, &pace), -EIO);
    assert_true(wt_exists(dir, "trash.big"));
    assert_int_equal(trash_empty(fileops_fault_ops(f), dir, &pace), 1);
    assert_false(wt_exists(dir, "trash.big"));
    fileops_fault_free(f);
    wt_rmdir(dir);
}

/* A crash between the rename and the directory fsync leaves the file
 * whole under one of its two names; either way recovery works. */
static void test_crash_during_purge(void **state)
{
    (void)state;
    for (int mode = 0; mode < 2; mode++) {
        char dir[64];
        wt_mkdtemp(dir, sizeof dir);
        fileops_fault *f = fileops_fault_create(dir, 7);
        assert_non_null(f);
        const fileops *fo = fileops_fault_ops(f);
        wal_opts o = wt_opts(100, 0, NULL);
        wal_t *w = NULL;
        assert_int_equal(wal_open(dir, fo, &o, &w), 0);
        for (int64_t z = 1; z <= 12; z++) {
            wt_append(w, z);
            assert_int_equal(wal_sync(w), 0);
        }
        size_t before = wal_segment_count(w);
        assert_true(before > 3);
        if (mode == 0)
            fileops_fault_crash_on(f, FILEOPS_OP_FSYNC_DIR, 1);
        int rc = wal_purge(w, 1000);
        assert_true(mode == 0 ? rc < 0 : rc > 0);
        wal_close(w);
        assert_int_equal(fileops_fault_reboot(f, FILEOPS_CRASH_DROP), 0);
        /* the segments kept replay from the first one left */
        wt_seen seen = {0};
        assert_int_equal(wal_open(dir, fo, &o, &w), 0);
        int64_t first = 0;
        for (int64_t z = 1; z <= 12 && first == 0; z++)
            if (wt_exists(dir, wt_seg_name(z)))
                first = z;
        assert_true(first > 0);
        assert_int_equal(wal_recover(w, first - 1, wt_collect, &seen), 0);
        assert_true(wt_seen_range(&seen, first, 12));
        wal_close(w);
        if (mode == 1)
            assert_true(trash_count(fo, dir) > 0);
        assert_true(trash_empty(fo, dir, NULL) >= 0);
        assert_int_equal(trash_count(fo, dir), 0);
        fileops_fault_free(f);
        wt_rmdir(dir);
    }
}

/* Garbage under trash names is never read: not by the log, not by the
 * snapshots, not by the checker. */
static void test_recovery_ignores_trash(void **state)
{
    (void)state;
    char dir[64];
    wt_mkdtemp(dir, sizeof dir);
    const fileops *px = fileops_posix();
    make_file(dir, "trash.log.0000000000000001", 300);
    make_file(dir, "trash.snapshot.0000000000000009", 300);
    wal_t *w = NULL;
    wal_opts o = wt_opts(1u << 20, 0, NULL);
    assert_int_equal(wal_open(dir, px, &o, &w), 0);
    assert_int_equal(wal_segment_count(w), 0);
    wal_close(w);
    snap_reader *r = NULL;
    assert_int_equal(snap_open_latest(dir, px, NULL, &r), 0);
    assert_null(r);
    FILE *out = tmpfile();
    assert_non_null(out);
    assert_int_equal(wal_check_dir(dir, out), 0);
    char text[4096] = {0};
    rewind(out);
    size_t got = fread(text, 1, sizeof text - 1, out);
    fclose(out);
    assert_true(got > 0);
    assert_non_null(strstr(text, "trash: 2 old files not yet deleted"));
    assert_non_null(strstr(text, "result: OK"));
    wt_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_move_then_delete_in_steps),
        cmocka_unit_test(test_stop_leaves_the_rest),
        cmocka_unit_test(test_errors_keep_the_file_for_next_time),
        cmocka_unit_test(test_crash_during_purge),
        cmocka_unit_test(test_recovery_ignores_trash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
