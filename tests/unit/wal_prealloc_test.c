/*
 * wal_prealloc_test.c - the log with zero-filled (preallocated) segments:
 * a zero tail is the clean end of the data and the writer goes on right
 * after the last record; a torn record before the zeros is still a torn
 * tail; zeros followed by a record of another batch, or by anything in a
 * non-last segment, are refused with file and offset; the checker agrees;
 * a full disk only costs the fill; a roll trims the old segment, and a
 * crash before that trim leaves a zero tail that recovery accepts.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wal_int.h"
#include "wal_testutil.h"

#define SEG_1M (1u << 20)
#define FILL (64u << 10)

static const fileops *px;

static wal_t *open_on(const char *dir, const fileops *fo, const wal_opts *o)
{
    wal_t *w = NULL;
    assert_int_equal(wal_open(dir, fo, o, &w), 0);
    return w;
}

/* Appends first..last in batches of per, syncing each. */
static void batches(wal_t *w, int64_t first, int64_t last, int per)
{
    for (int64_t z = first; z <= last; z++) {
        wt_append(w, z);
        if ((z - first + 1) % per == 0 || z == last)
            assert_int_equal(wal_sync(w), 0);
    }
    assert_int_equal(wal_durable_zxid(w), last);
}

/* Ten records, a batch each, in one segment of dir through o (closed
 * again); seg gets the segment's name. */
static void ten_records(const char *dir, const wal_opts *o, char seg[WAL_NAME_LEN + 1])
{
    wal_t *w = open_on(dir, px, o);
    batches(w, 1, 10, 1);
    wal_close(w);
    snprintf(seg, WAL_NAME_LEN + 1, "%s", wt_seg_name(1));
}

/* Opens dir through fo, replays what follows after into *seen. */
static int reopen_after(const char *dir, const fileops *fo, wal_opts *o, wt_log *log,
                        int64_t after, wt_seen *seen)
{
    wal_t *w = NULL;
    memset(seen, 0, sizeof *seen);
    o->log = wt_log_sink(log);
    int rc = wal_open(dir, fo, o, &w);
    if (rc == 0) {
        rc = wal_recover(w, after, wt_collect, seen);
        wal_close(w);
    }
    return rc;
}

static int reopen_on(const char *dir, const fileops *fo, wal_opts *o, wt_log *log,
                     wt_seen *seen)
{
    return reopen_after(dir, fo, o, log, 0, seen);
}

/* Where the records of segment name stop (the first zero length). */
static uint64_t data_end(const char *dir, const char *name)
{
    size_t len;
    uint8_t *p = wt_read_file(dir, name, &len);
    uint64_t off = WAL_SEG_HDR;
    while (off + WAL_REC_HDR <= len && wal__get32(p + off + 4) != 0)
        off += WAL_REC_HDR + wal__get32(p + off + 4);
    free(p);
    return off;
}

/* Offset of record k (1-based) of segment name. */
static uint64_t rec_off(const char *dir, const char *name, int k)
{
    size_t len;
    uint8_t *p = wt_read_file(dir, name, &len);
    uint64_t off = WAL_SEG_HDR;
    for (int i = 1; i < k; i++)
        off += WAL_REC_HDR + wal__get32(p + off + 4);
    free(p);
    return off;
}

static int64_t zxid_at(const char *dir, const char *name, uint64_t off)
{
    size_t len;
    uint8_t *p = wt_read_file(dir, name, &len);
    assert_true(off + WAL_REC_HDR <= len);
    int64_t z = (int64_t)wal__get64(p + off + 8);
    free(p);
    return z;
}

static bool all_zero(const uint8_t *p, uint64_t from, uint64_t to)
{
    for (uint64_t i = from; i < to; i++)
        if (p[i])
            return false;
    return true;
}

/* Overwrites bytes [from, to) of dir/name with c. */
static void fill_bytes(const char *dir, const char *name, uint64_t from, uint64_t to,
                       uint8_t c)
{
    size_t len;
    uint8_t *p = wt_read_file(dir, name, &len);
    if (to > len) {
        p = realloc(p, to);
        assert_non_null(p);
        memset(p + len, 0, to - len);
        len = to;
    }
    memset(p + from, c, to - from);
    wt_write_file(dir, name, p, len);
    free(p);
}

static void test_zero_tail_is_clean_end(void **state)
{
    (void)state;
    char dir[64];
    wt_log log;
    wt_seen *seen = calloc(1, sizeof *seen);
    wt_mkdtemp(dir, sizeof dir);
    wal_opts o = wt_opts(SEG_1M, FILL, NULL);
    wal_t *w = open_on(dir, px, &o);
    batches(w, 1, 20, 3);
    wal_close(w);
    char seg[WAL_NAME_LEN + 1];
    snprintf(seg, sizeof seg, "%s", wt_seg_name(1));
    uint64_t end = data_end(dir, seg), size = wt_file_size(dir, seg);
    assert_true(size >= end + FILL - 4096); /* the fill is there */
    size_t len;
    uint8_t *p = wt_read_file(dir, seg, &len);
    assert_true(all_zero(p, end, len));
    free(p);

    assert_int_equal(reopen_on(dir, px, &o, &log, seen), 0);
    assert_true(wt_seen_range(seen, 1, 20));
    assert_int_equal(log.n, 0); /* no torn tail: nothing reported */
    assert_int_equal(wt_file_size(dir, seg), size); /* nothing cut */

    o.log = wt_log_sink(&log);
    w = open_on(dir, px, &o);
    assert_int_equal(wal_last_zxid(w), 20);
    batches(w, 21, 25, 2);
    assert_int_equal(wal_segment_count(w), 1);
    wal_close(w);
    assert_int_equal(zxid_at(dir, seg, end), 21); /* right after record 20 */
    assert_int_equal(wt_file_size(dir, seg), size); /* into the fill */
    assert_false(wt_exists(dir, wt_seg_name(21)));
    assert_int_equal(reopen_on(dir, px, &o, &log, seen), 0);
    assert_true(wt_seen_range(seen, 1, 25));
    assert_int_equal(log.n, 0);
    free(seen);
    wt_rmdir(dir);
}

/* The final write torn inside the preallocated region: a partial record
 * followed by the fill's zeros, at every cut point of the last record. */
static void test_torn_record_then_zeros(void **state)
{
    (void)state;
    char dir[64], at[64];
    wt_log log;
    wt_seen *seen = calloc(1, sizeof *seen);
    wt_mkdtemp(dir, sizeof dir);
    wal_opts o = wt_opts(SEG_1M, FILL, NULL);
    char seg[WAL_NAME_LEN + 1];
    ten_records(dir, &o, seg);
    uint64_t d9 = rec_off(dir, seg, 10), d10 = data_end(dir, seg);
    size_t len;
    uint8_t *orig = wt_read_file(dir, seg, &len);
    snprintf(at, sizeof at, "offset %llu", (unsigned long long)d9);
    for (uint64_t cut = d9; cut < d10; cut++) {
        uint8_t *p = malloc(len);
        memcpy(p, orig, len);
        memset(p + cut, 0, d10 - cut);
        wt_write_file(dir, seg, p, len);
        bool torn = !all_zero(p, d9, cut);
        free(p);
        assert_int_equal(reopen_on(dir, px, &o, &log, seen), 0);
        assert_true(wt_seen_range(seen, 1, 9));
        if (torn) {
            assert_true(wt_log_has(&log, FILEOPS_LOG_WARN, "torn tail", at));
            assert_true(wt_log_has(&log, FILEOPS_LOG_WARN, seg, "cut off"));
            assert_int_equal(wt_file_size(dir, seg), d9);
        } else {
            assert_int_equal(log.n, 0);
            assert_int_equal(wt_file_size(dir, seg), len);
        }
    }
    /* the writer goes on where the torn record began */
    o.log = wt_log_sink(&log);
    wal_t *w = open_on(dir, px, &o);
    batches(w, 10, 12, 1);
    wal_close(w);
    assert_int_equal(zxid_at(dir, seg, d9), 10);
    assert_int_equal(reopen_on(dir, px, &o, &log, seen), 0);
    assert_true(wt_seen_range(seen, 1, 12));
    free(orig);
    free(seen);
    wt_rmdir(dir);
}

/* The fill never reaches past segment_bytes: a small segment size keeps a
 * small data_dir small. */
static void test_fill_capped_at_segment_size(void **state)
{
    (void)state;
    char dir[64];
    wt_mkdtemp(dir, sizeof dir);
    wal_opts o = wt_opts(8192, FILL, NULL);
    wal_t *w = open_on(dir, px, &o);
    batches(w, 1, 2, 2);
    assert_int_equal(wt_file_size(dir, wt_seg_name(1)), 8192);
    int64_t z = 3;
    while (wal_segment_count(w) < 3) {
        batches(w, z, z + 3, 4);
        z += 4;
        assert_true(z < 10000);
    }
    wal_close(w);
    for (int64_t k = 1; k < z; k++)
        if (wt_exists(dir, wt_seg_name(k))) {
            uint64_t size = wt_file_size(dir, wt_seg_name(k));
            uint64_t end = data_end(dir, wt_seg_name(k));
            assert_true(size == end || size == 8192);
        }
    wt_rmdir(dir);
}

/* A batch of three whose end-flagged record never made it: zeros after
 * two records of an unfinished batch are a torn tail too. */
static void test_unfinished_batch_then_zeros(void **state)
{
    (void)state;
    char dir[64], at[64];
    wt_log log;
    wt_seen *seen = calloc(1, sizeof *seen);
    wt_mkdtemp(dir, sizeof dir);
    wal_opts o = wt_opts(SEG_1M, FILL, NULL);
    wal_t *w = open_on(dir, px, &o);
    batches(w, 1, 6, 3);
    wal_close(w);
    char seg[WAL_NAME_LEN + 1];
    snprintf(seg, sizeof seg, "%s", wt_seg_name(1));
    uint64_t b2 = rec_off(dir, seg, 4), r6 = rec_off(dir, seg, 6);
    fill_bytes(dir, seg, r6, data_end(dir, seg), 0);
    assert_int_equal(reopen_on(dir, px, &o, &log, seen), 0);
    assert_true(wt_seen_range(seen, 1, 3));
    snprintf(at, sizeof at, "offset %llu", (unsigned long long)b2);
    assert_true(wt_log_has(&log, FILEOPS_LOG_WARN, at, "2 records"));
    assert_int_equal(wt_file_size(dir, seg), b2);
    free(seen);
    wt_rmdir(dir);
}

static void test_zero_gap_then_records_refused(void **state)
{
    (void)state;
    char dir[64], at[64];
    wt_log log;
    wt_seen *seen = calloc(1, sizeof *seen);
    wt_mkdtemp(dir, sizeof dir);
    wal_opts o = wt_opts(SEG_1M, FILL, NULL);
    char seg[WAL_NAME_LEN + 1];
    ten_records(dir, &o, seg);
    uint64_t r5 = rec_off(dir, seg, 5), r6 = rec_off(dir, seg, 6);
    uint64_t size = wt_file_size(dir, seg);
    fill_bytes(dir, seg, r5, r6, 0); /* a synced batch read back as zeros */
    assert_int_equal(reopen_on(dir, px, &o, &log, seen), WAL_ECORRUPT);
    snprintf(at, sizeof at, "offset %llu", (unsigned long long)r5);
    assert_true(wt_log_has(&log, FILEOPS_LOG_ERROR, seg, at));
    assert_true(wt_log_has(&log, FILEOPS_LOG_ERROR, "valid record of another batch", NULL));
    assert_int_equal(wt_file_size(dir, seg), size); /* untouched */
    free(seen);
    wt_rmdir(dir);
}

/* Bytes after a zero gap in the last segment, with no record of another
 * batch among them: what a torn final write leaves when its first sectors
 * are lost and later ones land (the disk reorders writeback). Cut. */
static void test_zero_gap_then_bytes_in_last_segment_cut(void **state)
{
    (void)state;
    char dir[64], at[64];
    wt_log log;
    wt_seen *seen = calloc(1, sizeof *seen);
    wt_mkdtemp(dir, sizeof dir);
    wal_opts o = wt_opts(SEG_1M, FILL, NULL);
    char seg[WAL_NAME_LEN + 1];
    ten_records(dir, &o, seg);
    uint64_t end = data_end(dir, seg);
    fill_bytes(dir, seg, end + 1024, end + 1100, 0xa5);
    assert_int_equal(reopen_on(dir, px, &o, &log, seen), 0);
    assert_true(wt_seen_range(seen, 1, 10));
    snprintf(at, sizeof at, "offset %llu", (unsigned long long)end);
    assert_true(wt_log_has(&log, FILEOPS_LOG_WARN, "torn tail", at));
    assert_int_equal(wt_file_size(dir, seg), end);
    free(seen);
    wt_rmdir(dir);
}

/* Two segments; the first keeps a zero tail (as after a crash before the
 * trim). Zeros only: accepted. Anything nonzero after the zeros: refused,
 * naming the first segment and where its zeros begin. */
static void test_non_last_segment_tail(void **state)
{
    (void)state;
    char dir[64], at[64];
    wt_log log;
    wt_seen *seen = calloc(1, sizeof *seen);
    wt_mkdtemp(dir, sizeof dir);
    wal_opts o = wt_opts(2048, FILL, NULL);
    wal_t *w = open_on(dir, px, &o);
    batches(w, 1, 40, 4);
    assert_true(wal_segment_count(w) >= 3);
    wal_close(w);
    char seg[WAL_NAME_LEN + 1];
    snprintf(seg, sizeof seg, "%s", wt_seg_name(1));
    uint64_t end = data_end(dir, seg);
    assert_int_equal(wt_file_size(dir, seg), end); /* trimmed at the roll */
    fill_bytes(dir, seg, end, end + 8192, 0);
    assert_int_equal(reopen_on(dir, px, &o, &log, seen), 0);
    assert_true(wt_seen_range(seen, 1, 40));
    assert_int_equal(log.n, 0);

    fill_bytes(dir, seg, end + 4000, end + 4001, 0x01);
    assert_int_equal(reopen_on(dir, px, &o, &log, seen), WAL_ECORRUPT);
    snprintf(at, sizeof at, "offset %llu", (unsigned long long)end);
    assert_true(wt_log_has(&log, FILEOPS_LOG_ERROR, seg, at));
    assert_int_equal(wt_file_size(dir, seg), end + 8192); /* untouched */
    free(seen);
    wt_rmdir(dir);
}

static char *check_output(const char *dir, int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    *rc = wal_check_dir_ops(dir, px, out);
    fclose(out);
    return buf;
}

static void test_check_data_preallocated(void **state)
{
    (void)state;
    char dir[64], at[64];
    int rc;
    wt_mkdtemp(dir, sizeof dir);
    wal_opts o = wt_opts(2048, FILL, NULL);
    wal_t *w = open_on(dir, px, &o);
    batches(w, 1, 40, 4);
    wal_close(w);
    o.segment_bytes = SEG_1M; /* the last segment goes on, with room to fill */
    w = open_on(dir, px, &o);
    batches(w, 41, 44, 4);
    wal_close(w);
    size_t nsegs = 0;
    int64_t last_seg = 0;
    for (int64_t z = 1; z <= 40; z++)
        if (wt_exists(dir, wt_seg_name(z))) {
            nsegs++;
            last_seg = z;
        }
    assert_true(nsegs >= 3);
    char seg[WAL_NAME_LEN + 1];
    snprintf(seg, sizeof seg, "%s", wt_seg_name(last_seg));
    uint64_t size = wt_file_size(dir, seg), end = data_end(dir, seg);
    assert_true(size > end);

    char *out = check_output(dir, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "(zero-filled tail)"));
    assert_non_null(strstr(out, "result: OK"));
    assert_null(strstr(out, "WARNING"));
    assert_null(strstr(out, "ERROR"));
    free(out);

    fill_bytes(dir, seg, end - 3, end, 0); /* the last record torn */
    out = check_output(dir, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "WARNING"));
    assert_non_null(strstr(out, "torn tail"));
    free(out);

    fill_bytes(dir, wt_seg_name(1), data_end(dir, wt_seg_name(1)),
               data_end(dir, wt_seg_name(1)) + 600, 0);
    fill_bytes(dir, wt_seg_name(1), wt_file_size(dir, wt_seg_name(1)) - 1,
               wt_file_size(dir, wt_seg_name(1)), 0x7f);
    out = check_output(dir, &rc);
    assert_int_equal(rc, 1);
    snprintf(at, sizeof at, "offset %llu",
             (unsigned long long)data_end(dir, wt_seg_name(1)));
    assert_non_null(strstr(out, at));
    assert_non_null(strstr(out, "DAMAGED"));
    free(out);
    assert_int_equal(wt_file_size(dir, seg), size); /* the checker cut nothing */
    wt_rmdir(dir);
}

static void test_purge_with_prealloc(void **state)
{
    (void)state;
    char dir[64];
    wt_log log;
    wt_seen *seen = calloc(1, sizeof *seen);
    wt_mkdtemp(dir, sizeof dir);
    wal_opts o = wt_opts(1024, FILL, NULL);
    wal_t *w = open_on(dir, px, &o);
    batches(w, 1, 200, 5);
    size_t n = wal_segment_count(w);
    assert_true(n > 5);
    assert_int_equal(wal_purge(w, 1000), (int)n - 1);
    assert_int_equal(wal_segment_count(w), 1);
    batches(w, 201, 210, 5);
    wal_close(w);
    assert_int_equal(reopen_after(dir, px, &o, &log, 200, seen), 0);
    assert_true(wt_seen_range(seen, 201, 210));
    assert_int_equal(log.n, 0);
    free(seen);
    wt_rmdir(dir);
}

/* ---- through the fault table --------------------------------------------- */

typedef struct fx {
    char dir[64];
    fileops_fault *f;
    const fileops *fo;
    wal_opts o;
    wt_log log;
    wt_seen *seen;
} fx;

static void fx_init(fx *x, uint64_t segment_bytes, uint64_t seed)
{
    wt_mkdtemp(x->dir, sizeof x->dir);
    x->f = fileops_fault_create(x->dir, seed);
    assert_non_null(x->f);
    x->fo = fileops_fault_ops(x->f);
    x->o = wt_opts(segment_bytes, FILL, NULL);
    x->seen = calloc(1, sizeof *x->seen);
}

static void fx_done(fx *x)
{
    fileops_fault_free(x->f);
    wt_rmdir(x->dir);
    free(x->seen);
}

/* ENOSPC on the zero-fill: the batch is acknowledged anyway (the fill is
 * skipped), the next batch fills, and a power loss loses nothing that was
 * acknowledged. The same with enospc_transient off: only the data write's
 * ENOSPC is its business. */
static void test_enospc_on_fill(void **state)
{
    (void)state;
    for (int transient = 0; transient < 2; transient++) {
        fx x;
        fx_init(&x, SEG_1M, 5);
        x.o.enospc_transient = transient;
        wal_t *w = open_on(x.dir, x.fo, &x.o);
        char seg[WAL_NAME_LEN + 1];
        snprintf(seg, sizeof seg, "%s", wt_seg_name(1));
        fileops_fault_fail(x.f, FILEOPS_OP_PWRITE, 2, -ENOSPC); /* 1: data, 2: fill */
        batches(w, 1, 3, 3);
        assert_int_equal(wal_error(w), 0);
        uint64_t end = data_end(x.dir, seg);
        assert_int_equal(wt_file_size(x.dir, seg), end); /* no fill */
        batches(w, 4, 6, 3); /* fills again */
        assert_true(wt_file_size(x.dir, seg) > data_end(x.dir, seg) + FILL / 2);
        wal_close(w);
        fileops_fault_crash(x.f);
        assert_int_equal(fileops_fault_reboot(x.f, FILEOPS_CRASH_DROP), 0);
        assert_int_equal(reopen_on(x.dir, x.fo, &x.o, &x.log, x.seen), 0);
        assert_true(wt_seen_range(x.seen, 1, 6));
        assert_int_equal(x.log.n, 0);
        fx_done(&x);
    }
}

/* A fill that fails halfway with ENOSPC leaves a partly grown file: still
 * zeros, still a clean end; the roll-over trims it. */
static void test_enospc_partial_fill(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, 4096, 6);
    x.o.enospc_transient = true;
    wal_t *w = open_on(x.dir, x.fo, &x.o);
    char seg[WAL_NAME_LEN + 1];
    snprintf(seg, sizeof seg, "%s", wt_seg_name(1));
    fileops_fault_short_write(x.f, 2);                      /* half the fill */
    fileops_fault_fail(x.f, FILEOPS_OP_PWRITE, 3, -ENOSPC); /* then full */
    batches(w, 1, 2, 2);
    uint64_t end = data_end(x.dir, seg);
    assert_true(wt_file_size(x.dir, seg) > end);
    wal_close(w);
    fileops_fault_crash(x.f);
    assert_int_equal(fileops_fault_reboot(x.f, FILEOPS_CRASH_SECTORS), 0);
    assert_int_equal(reopen_on(x.dir, x.fo, &x.o, &x.log, x.seen), 0);
    assert_true(wt_seen_range(x.seen, 1, 2));
    assert_int_equal(x.log.n, 0);
    w = open_on(x.dir, x.fo, &x.o);
    batches(w, 3, 120, 6); /* past 4096: rolls over */
    assert_true(wal_segment_count(w) > 1);
    wal_close(w);
    assert_int_equal(wt_file_size(x.dir, seg), data_end(x.dir, seg));
    fx_done(&x);
}

/* Any other error of the fill is the disk failing: sticky, as before. */
static void test_fill_eio_is_sticky(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, SEG_1M, 7);
    x.o.enospc_transient = true;
    wal_t *w = open_on(x.dir, x.fo, &x.o);
    fileops_fault_fail(x.f, FILEOPS_OP_PWRITE, 2, -EIO);
    wt_append(w, 1);
    assert_int_equal(wal_sync(w), -EIO);
    assert_int_equal(wal_durable_zxid(w), 0);
    assert_int_equal(wal_append(w, 2, "x", 1), -EIO);
    wal_close(w);
    fx_done(&x);
}

/* Segment 1 holds 1..40 and a zero tail; the log is open again with a
 * segment size it has outgrown, so the next batch rolls over. */
static wal_t *ready_to_roll(fx *x)
{
    wal_t *w = open_on(x->dir, x->fo, &x->o);
    batches(w, 1, 40, 4);
    wal_close(w);
    char seg[WAL_NAME_LEN + 1];
    snprintf(seg, sizeof seg, "%s", wt_seg_name(1));
    assert_true(wt_file_size(x->dir, seg) > data_end(x->dir, seg));
    x->o.segment_bytes = 2048;
    return open_on(x->dir, x->fo, &x->o);
}

/* Power fails at the trim of the old segment: the roll-over never
 * happened, the old segment is still the last one, with its zero tail. */
static void test_crash_at_trim(void **state)
{
    (void)state;
    for (int mode = 0; mode < 3; mode++) {
        fx x;
        fx_init(&x, SEG_1M, 10 + (uint64_t)mode);
        wal_t *w = ready_to_roll(&x);
        fileops_fault_crash_on(x.f, FILEOPS_OP_FTRUNCATE, 1);
        wt_append(w, 41);
        assert_int_equal(wal_sync(w), -EIO);
        assert_true(fileops_fault_crashed(x.f));
        wal_close(w);
        assert_int_equal(fileops_fault_reboot(x.f, mode), 0);
        char seg[WAL_NAME_LEN + 1];
        snprintf(seg, sizeof seg, "%s", wt_seg_name(1));
        assert_true(wt_file_size(x.dir, seg) > data_end(x.dir, seg));
        assert_false(wt_exists(x.dir, wt_seg_name(41)));
        assert_int_equal(reopen_on(x.dir, x.fo, &x.o, &x.log, x.seen), 0);
        assert_true(wt_seen_range(x.seen, 1, 40));
        assert_int_equal(x.log.n, 0);
        fx_done(&x);
    }
}

/* The roll-over trims the old segment; power fails after the new segment
 * is durable but before the trim reached the disk: a non-last segment with
 * a zero tail, which recovery and the checker accept. */
static void test_crash_after_roll_before_trim(void **state)
{
    (void)state;
    int rc;
    fx x;
    fx_init(&x, SEG_1M, 20);
    wal_t *w = ready_to_roll(&x);
    batches(w, 41, 44, 4);
    assert_int_equal(wal_segment_count(w), 2);
    char seg[WAL_NAME_LEN + 1];
    snprintf(seg, sizeof seg, "%s", wt_seg_name(1));
    assert_int_equal(wt_file_size(x.dir, seg), data_end(x.dir, seg)); /* trimmed */
    fileops_fault_crash(x.f);
    wal_close(w);
    assert_int_equal(fileops_fault_reboot(x.f, FILEOPS_CRASH_DROP), 0);
    assert_true(wt_file_size(x.dir, seg) > data_end(x.dir, seg)); /* the trim lost */
    assert_true(wt_exists(x.dir, wt_seg_name(41)));
    char *out = check_output(x.dir, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "(zero-filled tail)"));
    assert_null(strstr(out, "WARNING"));
    free(out);
    assert_int_equal(reopen_on(x.dir, x.fo, &x.o, &x.log, x.seen), 0);
    assert_true(wt_seen_range(x.seen, 1, 44));
    assert_int_equal(x.log.n, 0);
    fx_done(&x);
}

/* The previous process died (kill -9, no power loss) with records written
 * but not synced; recovery replays them and the next batch builds on them
 * in a new segment. That batch must first make them durable, or a later
 * power loss leaves a log that does not chain. */
static void test_replayed_records_made_durable(void **state)
{
    (void)state;
    for (int roll = 0; roll < 2; roll++) {
        fx x;
        fx_init(&x, 4096, 30 + (uint64_t)roll);
        x.o.no_sync = true;
        wal_t *w = open_on(x.dir, x.fo, &x.o);
        batches(w, 1, 12, 4);
        wal_close(w); /* nothing synced: the process dies here */
        x.o.no_sync = false;
        x.o.segment_bytes = roll ? 1 : 4096;
        w = open_on(x.dir, x.fo, &x.o);
        wt_seen *seen = x.seen;
        memset(seen, 0, sizeof *seen);
        assert_int_equal(wal_recover(w, 0, wt_collect, seen), 0);
        assert_true(wt_seen_range(seen, 1, 12));
        batches(w, 13, 14, 2);
        assert_int_equal(wal_segment_count(w), roll ? 2u : 1u);
        wal_close(w);
        fileops_fault_crash(x.f);
        assert_int_equal(fileops_fault_reboot(x.f, FILEOPS_CRASH_DROP), 0);
        x.o.segment_bytes = 4096;
        assert_int_equal(reopen_on(x.dir, x.fo, &x.o, &x.log, x.seen), 0);
        assert_true(wt_seen_range(x.seen, 1, 14));
        fx_done(&x);
    }
}

/* The previous process died between creating a segment and the directory
 * fsync that makes its name durable (here: that fsync failed, and the
 * process exited). The next process goes on in that segment; its first
 * batch must make the name durable, or a power loss takes the segment
 * away with everything acknowledged in it. */
static void test_reopened_segment_name_made_durable(void **state)
{
    (void)state;
    fx x;
    fx_init(&x, SEG_1M, 40);
    wal_t *w = open_on(x.dir, x.fo, &x.o);
    fileops_fault_fail(x.f, FILEOPS_OP_FSYNC_DIR, 1, -EIO);
    wt_append(w, 1);
    assert_int_equal(wal_sync(w), -EIO);
    wal_close(w);
    w = open_on(x.dir, x.fo, &x.o);
    memset(x.seen, 0, sizeof *x.seen);
    assert_int_equal(wal_recover(w, 0, wt_collect, x.seen), 0);
    assert_true(wt_seen_range(x.seen, 1, 1));
    batches(w, 2, 3, 2);
    assert_int_equal(wal_segment_count(w), 1);
    wal_close(w);
    fileops_fault_crash(x.f);
    assert_int_equal(fileops_fault_reboot(x.f, FILEOPS_CRASH_DROP), 0);
    assert_int_equal(reopen_on(x.dir, x.fo, &x.o, &x.log, x.seen), 0);
    assert_true(wt_seen_range(x.seen, 1, 3));
    fx_done(&x);
}

int main(void)
{
    px = fileops_posix();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zero_tail_is_clean_end),
        cmocka_unit_test(test_torn_record_then_zeros),
        cmocka_unit_test(test_fill_capped_at_segment_size),
        cmocka_unit_test(test_unfinished_batch_then_zeros),
        cmocka_unit_test(test_zero_gap_then_records_refused),
        cmocka_unit_test(test_zero_gap_then_bytes_in_last_segment_cut),
        cmocka_unit_test(test_non_last_segment_tail),
        cmocka_unit_test(test_check_data_preallocated),
        cmocka_unit_test(test_purge_with_prealloc),
        cmocka_unit_test(test_enospc_on_fill),
        cmocka_unit_test(test_enospc_partial_fill),
        cmocka_unit_test(test_fill_eio_is_sticky),
        cmocka_unit_test(test_crash_at_trim),
        cmocka_unit_test(test_crash_after_roll_before_trim),
        cmocka_unit_test(test_replayed_records_made_durable),
        cmocka_unit_test(test_reopened_segment_name_made_durable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
