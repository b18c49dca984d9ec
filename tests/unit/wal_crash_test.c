/*
 * wal_crash_test.c - power loss at a random I/O operation, 200 times over.
 *
 * One data directory lives through every iteration. Each iteration reboots
 * (dropping unsynced data, or keeping a random prefix or random sectors of
 * it), arms a crash at a random upcoming I/O operation (which may fall in
 * recovery itself), recovers - newest snapshot, then the log after it -
 * and checks: every zxid ever acknowledged is there, the replayed records
 * are exactly snapshot+1 .. last with the right bytes, and the last one
 * ends a batch that was written (batches are all or nothing). Then it
 * appends random batches, takes an occasional snapshot with purges, until
 * the crash hits.
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
#include "wal_testutil.h"

#define ITERATIONS 200
#define MAX_ZXID 100000

typedef struct world {
    char dir[64];
    fileops_fault *f;
    const fileops *fo;
    wal_opts o;
    uint64_t rng;
    int64_t acked;              /* highest zxid acknowledged durable */
    bool batch_end[MAX_ZXID];   /* zxids that ended a batch handed to write */
    int crashes_in_recovery, crashes_in_work, snapshots;
} world;

static uint64_t rnd(world *x)
{
    x->rng ^= x->rng << 13;
    x->rng ^= x->rng >> 7;
    x->rng ^= x->rng << 17;
    return x->rng;
}

typedef struct replay {
    int64_t next; /* the zxid expected next */
} replay;

static int replay_fn(void *ctx, int64_t zxid, const void *payload, size_t len)
{
    replay *r = ctx;
    uint8_t want[256];
    assert_int_equal(zxid, r->next);
    assert_int_equal(len, wt_payload(zxid, want, sizeof want));
    assert_memory_equal(payload, want, len);
    r->next++;
    return 0;
}

/* Snapshot bodies: 8 bytes of zxid, then bytes derived from it. */
static int snap_save(world *x, int64_t zxid)
{
    snap_writer *sw;
    int rc = snap_write_begin(x->dir, x->fo, zxid, &sw);
    if (rc < 0)
        return rc;
    uint8_t body[600];
    size_t n = 8 + (size_t)(rnd(x) % 500);
    memcpy(body, &zxid, 8);
    for (size_t i = 8; i < n; i++)
        body[i] = (uint8_t)(zxid + (int64_t)i);
    rc = snap_write(sw, body, n);
    if (rc < 0) {
        snap_write_abort(sw);
        return rc;
    }
    return snap_write_commit(sw);
}

/* Loads the newest snapshot: its zxid (0 if none), or -errno. */
static int64_t snap_load(world *x)
{
    snap_reader *r;
    int rc = snap_open_latest(x->dir, x->fo, NULL, &r);
    if (rc < 0 || !r)
        return rc;
    int64_t z = snap_reader_zxid(r), got = 0;
    uint8_t b = 0;
    uint64_t n = snap_reader_size(r);
    rc = snap_read(r, &got, 8);
    for (uint64_t i = 8; rc == 0 && i < n; i++) {
        rc = snap_read(r, &b, 1);
        assert_true(rc < 0 || b == (uint8_t)(z + (int64_t)i));
    }
    if (rc == 0)
        rc = snap_read_finish(r);
    snap_reader_close(r);
    if (rc == 0)
        assert_int_equal(got, z);
    return rc < 0 ? rc : z;
}

/* Recovery; false if the armed crash struck during it. */
static bool recover(world *x, wal_t **out)
{
    int64_t snap = snap_load(x);
    if (snap < 0) {
        assert_true(fileops_fault_crashed(x->f)); /* never SNAP_ECORRUPT */
        return false;
    }
    wal_t *w = NULL;
    int rc = wal_open(x->dir, x->fo, &x->o, &w);
    replay r = {.next = snap + 1};
    if (rc == 0)
        rc = wal_recover(w, snap, replay_fn, &r);
    if (rc != 0) {
        assert_true(fileops_fault_crashed(x->f)); /* never WAL_ECORRUPT */
        wal_close(w);
        return false;
    }
    int64_t last = wal_last_zxid(w) > snap ? wal_last_zxid(w) : snap;
    assert_int_equal(r.next, last + 1 > snap + 1 ? last + 1 : snap + 1);
    assert_true(last >= x->acked);                 /* nothing acknowledged lost */
    assert_true(last == snap || x->batch_end[last]); /* no half batch */
    x->acked = last;
    *out = w;
    return true;
}

static int sync_batch(world *x, wal_t *w, int64_t *next)
{
    int n = 1 + (int)(rnd(x) % 8);
    for (int i = 0; i < n; i++)
        wt_append(w, (*next)++);
    wal_batch *b;
    int rc = wal_flush_begin(w, &b);
    if (rc < 0)
        return rc;
    x->batch_end[wal_batch_last_zxid(b)] = true;
    wal_flush_write(b);
    rc = wal_flush_end(w, b);
    if (rc == 0)
        x->acked = wal_durable_zxid(w);
    return rc;
}

static int snapshot_and_purge(world *x, wal_t *w)
{
    int64_t oldest;
    int rc = snap_save(x, x->acked);
    if (rc == 0)
        rc = snap_purge(x->dir, x->fo, 2, &oldest);
    if (rc >= 0)
        rc = wal_purge(w, oldest);
    x->snapshots += rc >= 0;
    return rc < 0 ? rc : 0;
}

static void work(world *x, wal_t *w)
{
    int64_t next = x->acked + 1;
    for (int step = 0; step < 40; step++) {
        int rc = (rnd(x) % 8 == 0 && x->acked > 0) ? snapshot_and_purge(x, w)
                                                   : sync_batch(x, w, &next);
        if (rc < 0) {
            assert_true(fileops_fault_crashed(x->f));
            x->crashes_in_work++;
            return;
        }
        assert_true(next < MAX_ZXID);
    }
}

static void test_random_crashes(void **state)
{
    (void)state;
    world *x = calloc(1, sizeof *x);
    assert_non_null(x);
    wt_mkdtemp(x->dir, sizeof x->dir);
    x->f = fileops_fault_create(x->dir, 1234);
    x->fo = fileops_fault_ops(x->f);
    x->o = wt_opts(1500, 512, NULL);
    x->o.keep_segments = 1;
    x->rng = 0x1234567;
    for (int it = 0; it < ITERATIONS; it++) {
        assert_int_equal(fileops_fault_reboot(x->f, (int)(rnd(x) % 3)), 0);
        fileops_fault_crash_at(x->f, 1 + rnd(x) % 150);
        wal_t *w = NULL;
        if (recover(x, &w))
            work(x, w);
        else
            x->crashes_in_recovery++;
        wal_close(w);
    }
    assert_int_equal(fileops_fault_reboot(x->f, FILEOPS_CRASH_SECTORS), 0);
    fileops_fault_crash_at(x->f, 0);
    wal_t *w = NULL;
    assert_true(recover(x, &w));
    wal_close(w);
    print_message("  %d iterations: %d crashes in recovery, %d in work, %d snapshots,"
                  " %lld zxids acknowledged\n", ITERATIONS, x->crashes_in_recovery,
                  x->crashes_in_work, x->snapshots, (long long)x->acked);
    assert_true(x->crashes_in_recovery > 0 && x->crashes_in_work > 0);
    fileops_fault_free(x->f);
    wt_rmdir(x->dir);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_crashes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
