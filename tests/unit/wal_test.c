/*
 * wal_test.c - the write-ahead log on a real directory: round trips across
 * segments, and recovery's verdicts on torn tails (cut) and on damage
 * elsewhere (refused, naming file and offset).
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "wal_int.h"
#include "wal_testutil.h"

static const fileops *px;

static wal_t *open_ok(const char *dir, const wal_opts *o)
{
    wal_t *w = NULL;
    assert_int_equal(wal_open(dir, px, o, &w), 0);
    return w;
}

/* Appends first..last in batches of per_batch, syncing each. */
static void write_batches(wal_t *w, int64_t first, int64_t last, int per_batch)
{
    for (int64_t z = first; z <= last; z++) {
        wt_append(w, z);
        if ((z - first + 1) % per_batch == 0 || z == last)
            assert_int_equal(wal_sync(w), 0);
    }
    assert_int_equal(wal_durable_zxid(w), last);
}

/* Opens dir and replays everything after `after` into seen. */
static int reopen(const char *dir, const wal_opts *o, int64_t after, wt_seen *seen)
{
    wal_t *w = NULL;
    memset(seen, 0, sizeof *seen);
    int rc = wal_open(dir, px, o, &w);
    if (rc == 0) {
        rc = wal_recover(w, after, wt_collect, seen);
        wal_close(w);
    }
    return rc;
}

static void test_crc32c(void **state)
{
    (void)state;
    assert_int_equal(crc32c("123456789", 9), 0xE3069283u);
    assert_int_equal(crc32c("", 0), 0);
    uint8_t buf[300];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 131 + 7);
    for (size_t off = 0; off < 9; off++)
        for (size_t n = 0; n + off <= sizeof buf; n += 13) {
            crc32c_force_portable(true);
            uint32_t sw = crc32c(buf + off, n);
            uint32_t split = crc32c_update(crc32c(buf + off, n / 3), buf + off + n / 3,
                                           n - n / 3);
            crc32c_force_portable(false);
            assert_int_equal(crc32c(buf + off, n), sw);
            assert_int_equal(split, sw);
        }
}

static void test_roundtrip_segments(void **state)
{
    (void)state;
    for (int prealloc = 0; prealloc < 2; prealloc++) {
        char dir[64];
        wt_seen seen;
        wt_mkdtemp(dir, sizeof dir);
        wal_opts o = wt_opts(2048, prealloc ? 4096 : 0, NULL);
        wal_t *w = open_ok(dir, &o);
        assert_int_equal(wal_last_zxid(w), 0);
        write_batches(w, 1, 300, 7);
        assert_true(wal_segment_count(w) > 5);
        wal_close(w);
        assert_int_equal(reopen(dir, &o, 0, &seen), 0);
        assert_true(wt_seen_range(&seen, 1, 300));
        assert_int_equal(reopen(dir, &o, 150, &seen), 0);
        assert_true(wt_seen_range(&seen, 151, 300));
        w = open_ok(dir, &o);
        assert_int_equal(wal_last_zxid(w), 300);
        assert_int_equal(wal_append(w, 300, "x", 1), WAL_EZXID);
        write_batches(w, 301, 320, 1);
        wal_close(w);
        assert_int_equal(reopen(dir, &o, 0, &seen), 0);
        assert_true(wt_seen_range(&seen, 1, 320));
        wt_rmdir(dir);
    }
}

static void test_append_rules(void **state)
{
    (void)state;
    char dir[64], sub[128];
    wt_mkdtemp(dir, sizeof dir);
    snprintf(sub, sizeof sub, "%s/data", dir); /* created by wal_open */
    wal_opts o = wt_opts(1 << 20, 0, NULL);
    wal_t *w = open_ok(sub, &o);
    wal_batch *b;
    assert_int_equal(wal_flush_begin(w, &b), 0);
    assert_null(b);
    assert_int_equal(wal_append(w, 0, "x", 1), WAL_EZXID);
    assert_int_equal(wal_append(w, 5, "x", 0), WAL_ETOOBIG);
    assert_int_equal(wal_append(w, 5, "x", 1), 0);
    assert_int_equal(wal_append(w, 5, "x", 1), WAL_EZXID);
    assert_int_equal(wal_flush_begin(w, &b), 0);
    assert_non_null(b);
    assert_int_equal(wal_batch_records(b), 1);
    assert_int_equal(wal_append(w, 9, "y", 1), 0); /* while the batch is out */
    wal_batch *b2;
    assert_int_equal(wal_flush_begin(w, &b2), -EBUSY);
    assert_int_equal(wal_flush_write(b), 0);
    assert_int_equal(wal_flush_end(w, b), 0);
    assert_int_equal(wal_durable_zxid(w), 5);
    assert_int_equal(wal_sync(w), 0);
    assert_int_equal(wal_durable_zxid(w), 9);
    wal_close(w);
    wt_rmdir(dir);
}

/* Records 1..n, one per batch: returns the offset where record n starts. */
static uint64_t one_per_batch(const char *dir, const wal_opts *o, int64_t n)
{
    wal_t *w = open_ok(dir, o);
    write_batches(w, 1, n - 1, 1);
    uint64_t off = wt_file_size(dir, wt_seg_name(1));
    write_batches(w, n, n, 1);
    wal_close(w);
    return off;
}

static void test_torn_tail_every_offset(void **state)
{
    (void)state;
    char dir[64];
    wt_seen seen;
    wt_log log;
    wt_mkdtemp(dir, sizeof dir);
    wal_opts o = wt_opts(1 << 20, 0, &log);
    uint64_t last = one_per_batch(dir, &o, 10);
    size_t len;
    uint8_t *orig = wt_read_file(dir, wt_seg_name(1), &len);
    for (uint64_t cut = last; cut < len; cut++) {
        wt_write_file(dir, wt_seg_name(1), orig, cut);
        o.log = wt_log_sink(&log);
        assert_int_equal(reopen(dir, &o, 0, &seen), 0);
        assert_true(wt_seen_range(&seen, 1, 9));
        assert_int_equal(wt_file_size(dir, wt_seg_name(1)), last);
        if (cut > last) {
            char at[64];
            snprintf(at, sizeof at, "offset %llu", (unsigned long long)last);
            assert_true(wt_log_has(&log, FILEOPS_LOG_WARN, wt_seg_name(1), at));
        } else {
            assert_int_equal(log.n, 0);
        }
    }
    free(orig);
    wt_rmdir(dir);
}

static void test_torn_batch_every_offset(void **state)
{
    (void)state;
    char dir[64];
    wt_seen seen;
    wt_mkdtemp(dir, sizeof dir);
    wal_opts o = wt_opts(1 << 20, 0, NULL);
    wal_t *w = open_ok(dir, &o);
    write_batches(w, 1, 5, 5);
    uint64_t end1 = wt_file_size(dir, wt_seg_name(1));
    write_batches(w, 6, 10, 5);
    wal_close(w);
    size_t len;
    uint8_t *orig = wt_read_file(dir, wt_seg_name(1), &len);
    for (uint64_t cut = end1 + 1; cut < len; cut++) {
        wt_write_file(dir, wt_seg_name(1), orig, cut);
        assert_int_equal(reopen(dir, &o, 0, &seen), 0);
        assert_true(wt_seen_range(&seen, 1, 5)); /* the batch goes as a whole */
    }
    free(orig);
    wt_rmdir(dir);
}

static void test_crc_flip_last_record(void **state)
{
    (void)state;
    char dir[64];
    wt_seen seen;
    wt_log log;
    wt_mkdtemp(dir, sizeof dir);
    wal_opts o = wt_opts(1 << 20, 0, &log);
    uint64_t last = one_per_batch(dir, &o, 10);
    wt_flip(dir, wt_seg_name(1), last + WAL_REC_HDR + 1);
    o.log = wt_log_sink(&log);
    assert_int_equal(reopen(dir, &o, 0, &seen), 0);
    assert_true(wt_seen_range(&seen, 1, 9));
    assert_true(wt_log_has(&log, FILEOPS_LOG_WARN, "checksum mismatch", wt_seg_name(1)));
    wt_rmdir(dir);
}

/* Offset of record k (1-based) in a one-record-per-batch segment 1. */
static uint64_t record_offset(const char *dir, int64_t k)
{
    size_t len;
    uint8_t *p = wt_read_file(dir, wt_seg_name(1), &len);
    uint64_t off = WAL_SEG_HDR;
    for (int64_t i = 1; i < k; i++)
        off += WAL_REC_HDR + wal__get32(p + off + 4);
    free(p);
    return off;
}

static void test_crc_flip_middle_record(void **state)
{
    (void)state;
    char dir[64], at[64];
    wt_seen seen;
    wt_log log;
    wt_mkdtemp(dir, sizeof dir);
    wal_opts o = wt_opts(1 << 20, 0, &log);
    one_per_batch(dir, &o, 10);
    uint64_t size = wt_file_size(dir, wt_seg_name(1));
    uint64_t off5 = record_offset(dir, 5);
    wt_flip(dir, wt_seg_name(1), off5 + WAL_REC_HDR);
    o.log = wt_log_sink(&log);
    assert_int_equal(reopen(dir, &o, 0, &seen), WAL_ECORRUPT);
    snprintf(at, sizeof at, "offset %llu", (unsigned long long)off5);
    assert_true(wt_log_has(&log, FILEOPS_LOG_ERROR, wt_seg_name(1), at));
    assert_int_equal(wt_file_size(dir, wt_seg_name(1)), size); /* untouched */
    wt_rmdir(dir);
}

/* Damage inside the final batch with valid records of that batch after it:
 * a torn write (sectors reach the disk out of order), cut as a whole. */
static void test_damage_inside_last_batch(void **state)
{
    (void)state;
    char dir[64];
    wt_seen seen;
    wt_log log;
    wt_mkdtemp(dir, sizeof dir);
    wal_opts o = wt_opts(1 << 20, 0, &log);
    wal_t *w = open_ok(dir, &o);
    write_batches(w, 1, 5, 5);
    write_batches(w, 6, 10, 5);
    wal_close(w);
    wt_flip(dir, wt_seg_name(1), record_offset(dir, 7) + WAL_REC_HDR);
    o.log = wt_log_sink(&log);
    assert_int_equal(reopen(dir, &o, 0, &seen), 0);
    assert_true(wt_seen_range(&seen, 1, 5));
    assert_true(wt_log_has(&log, FILEOPS_LOG_WARN, "4 records", NULL));
    wt_rmdir(dir);
}

/* Many small segments: segment k holds records with zxids in batches of 4. */
static void many_segments(const char *dir, const wal_opts *o, int64_t n)
{
    wal_t *w = open_ok(dir, o);
    write_batches(w, 1, n, 4);
    wal_close(w);
}

static void test_corrupt_non_last_segment(void **state)
{
    (void)state;
    char dir[64];
    wt_seen seen;
    wt_log log;
    wt_mkdtemp(dir, sizeof dir);
    wal_opts o = wt_opts(512, 0, &log);
    many_segments(dir, &o, 40);
    wt_flip(dir, wt_seg_name(1), wt_file_size(dir, wt_seg_name(1)) - 1);
    o.log = wt_log_sink(&log);
    assert_int_equal(reopen(dir, &o, 0, &seen), WAL_ECORRUPT);
    assert_true(wt_log_has(&log, FILEOPS_LOG_ERROR, wt_seg_name(1), "checksum mismatch"));
    wt_flip(dir, wt_seg_name(1), wt_file_size(dir, wt_seg_name(1)) - 1);
    wt_truncate(dir, wt_seg_name(1), wt_file_size(dir, wt_seg_name(1)) - 3);
    o.log = wt_log_sink(&log);
    assert_int_equal(reopen(dir, &o, 0, &seen), WAL_ECORRUPT);
    assert_true(wt_log_has(&log, FILEOPS_LOG_ERROR, wt_seg_name(1), "offset"));
    wt_rmdir(dir);
}

static void test_missing_segment_is_gap(void **state)
{
    (void)state;
    char dir[64], path[128];
    wt_seen seen;
    wt_log log;
    wt_mkdtemp(dir, sizeof dir);
    wal_opts o = wt_opts(512, 0, &log);
    many_segments(dir, &o, 40);
    wal_t *w = open_ok(dir, &o);
    assert_true(wal_segment_count(w) >= 4);
    wal_close(w);
    snprintf(path, sizeof path, "%s/%s", dir, wt_seg_name(5)); /* second segment */
    assert_true(wt_exists(dir, wt_seg_name(5)));
    assert_int_equal(remove(path), 0);
    o.log = wt_log_sink(&log);
    assert_int_equal(reopen(dir, &o, 0, &seen), WAL_ECORRUPT);
    assert_true(wt_log_has(&log, FILEOPS_LOG_ERROR, "records missing", "offset 0"));
    wt_rmdir(dir);
}

/* A hand-made record with a valid checksum. */
static size_t raw_record(uint8_t *p, int64_t zxid, uint32_t batch, bool end)
{
    uint8_t pay[256];
    uint32_t len = (uint32_t)wt_payload(zxid, pay, sizeof pay);
    wal__put32(p + 4, len);
    wal__put64(p + 8, (uint64_t)zxid);
    wal__put32(p + 16, batch | (end ? WAL_BATCH_END : 0));
    memcpy(p + WAL_REC_HDR, pay, len);
    wal__put32(p, crc32c(p + 4, WAL_REC_HDR - 4 + len));
    return WAL_REC_HDR + len;
}

static void test_zxid_backwards(void **state)
{
    (void)state;
    char dir[64];
    wt_seen seen;
    wt_log log;
    uint8_t buf[4096];
    wt_mkdtemp(dir, sizeof dir);
    wal_seghdr h = {.first_zxid = 5, .prev_zxid = 0, .first_batch = 1};
    wal__seghdr_encode(buf, &h);
    size_t off = WAL_SEG_HDR;
    off += raw_record(buf + off, 5, 1, true);
    off += raw_record(buf + off, 6, 2, true);
    size_t bad = off;
    off += raw_record(buf + off, 4, 3, true);
    wt_write_file(dir, wt_seg_name(5), buf, off);
    wal_opts o = wt_opts(1 << 20, 0, &log);
    assert_int_equal(reopen(dir, &o, 0, &seen), WAL_ECORRUPT);
    char at[64];
    snprintf(at, sizeof at, "offset %zu", bad);
    assert_true(wt_log_has(&log, FILEOPS_LOG_ERROR, at, "not above"));
    wt_rmdir(dir);
}

static void test_torn_whole_segment_removed(void **state)
{
    (void)state;
    char dir[64];
    wt_seen seen;
    wt_log log;
    wt_mkdtemp(dir, sizeof dir);
    wal_opts o = wt_opts(100, 0, &log); /* every batch opens a segment */
    many_segments(dir, &o, 12);        /* segments 1, 5, 9 */
    assert_true(wt_exists(dir, wt_seg_name(9)));
    wt_truncate(dir, wt_seg_name(9), 10);
    o.log = wt_log_sink(&log);
    assert_int_equal(reopen(dir, &o, 0, &seen), 0);
    assert_true(wt_seen_range(&seen, 1, 8));
    assert_false(wt_exists(dir, wt_seg_name(9)));
    assert_true(wt_log_has(&log, FILEOPS_LOG_WARN, "segment removed", wt_seg_name(9)));
    wal_t *w = open_ok(dir, &o);
    write_batches(w, 9, 12, 4); /* the same zxids again, in a new segment 9 */
    wal_close(w);
    assert_int_equal(reopen(dir, &o, 0, &seen), 0);
    assert_true(wt_seen_range(&seen, 1, 12));
    wt_rmdir(dir);
}

typedef struct progress_seen {
    char names[16][32];
    int n;
} progress_seen;

static void on_progress(void *ctx, const char *segment)
{
    progress_seen *p = ctx;
    if (p->n < 16)
        snprintf(p->names[p->n], sizeof p->names[0], "%s", segment);
    p->n++;
}

/* wal_open reports each segment it has checked, oldest first (the daemon
 * keeps systemd's start timeout extended with it). */
static void test_open_reports_progress(void **state)
{
    (void)state;
    char dir[64];
    wt_log log;
    wt_mkdtemp(dir, sizeof dir);
    wal_opts o = wt_opts(100, 0, &log);
    wal_t *w = open_ok(dir, &o);
    write_batches(w, 1, 12, 4); /* segments 1, 5, 9 */
    assert_int_equal(wal_segment_count(w), 3);
    wal_close(w);
    progress_seen seen = {.n = 0};
    o.progress = on_progress;
    o.progress_ctx = &seen;
    w = open_ok(dir, &o);
    assert_int_equal(seen.n, 3);
    assert_string_equal(seen.names[0], wt_seg_name(1));
    assert_string_equal(seen.names[1], wt_seg_name(5));
    assert_string_equal(seen.names[2], wt_seg_name(9));
    wal_close(w);
    wt_rmdir(dir);
}

static void test_purge_and_snapshot_gap(void **state)
{
    (void)state;
    char dir[64];
    wt_seen seen;
    wt_log log;
    wt_mkdtemp(dir, sizeof dir);
    wal_opts o = wt_opts(100, 0, &log);
    wal_t *w = open_ok(dir, &o);
    write_batches(w, 1, 40, 4); /* ten segments: 1, 5, ..., 37 */
    assert_int_equal(wal_segment_count(w), 10);
    assert_int_equal(wal_purge(w, 3), 0);   /* segment 1 still needed */
    assert_int_equal(wal_purge(w, 20), 5);  /* 1, 5, 9, 13, 17: all <= 20 */
    assert_true(wt_exists(dir, wt_seg_name(21)));
    assert_int_equal(wal_purge(w, 1000), 4); /* all but the current one */
    assert_int_equal(wal_segment_count(w), 1);
    assert_true(wt_exists(dir, wt_seg_name(37)));
    assert_false(wt_exists(dir, wt_seg_name(33)));
    wal_close(w);
    o.log = wt_log_sink(&log);
    assert_int_equal(reopen(dir, &o, 36, &seen), 0);
    assert_true(wt_seen_range(&seen, 37, 40));
    assert_int_equal(reopen(dir, &o, 10, &seen), WAL_ECORRUPT);
    assert_true(wt_log_has(&log, FILEOPS_LOG_ERROR, "missing", wt_seg_name(37)));
    wt_rmdir(dir);
}

static void test_purge_keeps_configured(void **state)
{
    (void)state;
    char dir[64];
    wt_mkdtemp(dir, sizeof dir);
    wal_opts o = wt_opts(100, 0, NULL);
    o.keep_segments = 3;
    wal_t *w = open_ok(dir, &o);
    write_batches(w, 1, 40, 4);
    assert_int_equal(wal_purge(w, 1000), 6);
    assert_int_equal(wal_segment_count(w), 4);
    assert_true(wt_exists(dir, wt_seg_name(25)));
    assert_false(wt_exists(dir, wt_seg_name(21)));
    wal_close(w);
    wt_rmdir(dir);
}

int main(void)
{
    px = fileops_posix();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c),
        cmocka_unit_test(test_roundtrip_segments),
        cmocka_unit_test(test_append_rules),
        cmocka_unit_test(test_torn_tail_every_offset),
        cmocka_unit_test(test_torn_batch_every_offset),
        cmocka_unit_test(test_crc_flip_last_record),
        cmocka_unit_test(test_crc_flip_middle_record),
        cmocka_unit_test(test_damage_inside_last_batch),
        cmocka_unit_test(test_corrupt_non_last_segment),
        cmocka_unit_test(test_missing_segment_is_gap),
        cmocka_unit_test(test_zxid_backwards),
        cmocka_unit_test(test_torn_whole_segment_removed),
        cmocka_unit_test(test_open_reports_progress),
        cmocka_unit_test(test_purge_and_snapshot_gap),
        cmocka_unit_test(test_purge_keeps_configured),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
