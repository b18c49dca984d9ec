/*
 * persist_test.c - the durable write path on a real loop: group commit,
 * acknowledgement only after durability, drain at start-up and shutdown,
 * recovery (sessions included), injected I/O faults through the fileops
 * table (EIO and ENOSPC on write and fsync, short writes, a crash between
 * a snapshot's write and its rename), the refusal of damaged files, and
 * sync = none. Random power cuts under load are in persist_crash_test.c.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "persist_fixture.h"
#include "snapfile.h"
#include "wal_testutil.h"

static void burst(pf *x, const char *prefix, int from, int n)
{
    char path[32];
    for (int i = from; i < from + n; i++) {
        snprintf(path, sizeof(path), "/%s%d", prefix, i);
        pf_create(x, path, path + 1);
    }
}

static void test_group_commit(void **state)
{
    (void)state;
    pf x;
    pf_init(&x, false, 1);
    assert_int_equal(pf_open(&x), 0);
    burst(&x, "k", 0, 200);
    pf_multi(&x, "/ma", "/mb");
    /* nothing is answered or visible before the log has it */
    assert_false(x.w[0].answered);
    assert_null(reg_lookup(x.n.reg, "/k0"));
    pf_run(&x);
    assert_int_equal(pf_acked(&x), 201);
    assert_int_equal(x.n.p.batches, 1); /* one fsync for the whole turn */
    assert_int_equal(x.n.p.max_batch_seen, 201);
    for (size_t i = 1; i < x.nw; i++) /* answered in zxid order */
        assert_true(x.w[i].zxid > x.w[i - 1].zxid);
    pf_close(&x);
    assert_int_equal(pf_open(&x), 0);
    pf_check(&x);
    assert_int_equal(x.n.s.stats.replayed, 201);
    size_t i = pf_create(&x, "/after", "x");
    pf_run(&x);
    assert_true(x.w[i].zxid == 202); /* zxids go on where they were */
    pf_done(&x);
}

static void test_drain_waits_for_the_worker(void **state)
{
    (void)state;
    pf x;
    pf_init(&x, false, 2);
    assert_int_equal(pf_open(&x), 0);
    burst(&x, "d", 0, 20);
    uv_run(&x.n.loop, UV_RUN_NOWAIT); /* the batch goes to a worker */
    burst(&x, "e", 0, 5);             /* and these wait for the next one */
    zkd_pipeline_drain(&x.n.p);
    assert_int_equal(pf_acked(&x), 25);
    pf_close(&x);
    assert_int_equal(pf_open(&x), 0);
    pf_check(&x);
    pf_done(&x);
}

static void on_session(void *ctx, const reg_result *res)
{
    *(int64_t *)ctx = res->session;
}

static int64_t new_session(pf *x, uint32_t flags, int64_t timeout)
{
    static const uint8_t pw[16] = {1, 2, 3};
    int64_t id = 0;
    reg_op op = {.type = REG_OP_CREATE_SESSION, .timeout_ms = timeout,
                 .session_flags = flags, .passwd = pw};
    assert_int_equal(zkd_pipeline_write(&x->n.p, 0, &op, PF_NOW, on_session, &id), 0);
    pf_run(x);
    assert_true(id != 0);
    return id;
}

static void ephemeral(pf *x, int64_t session, const char *path)
{
    reg_op op = {.type = REG_OP_CREATE, .path = path, .version = -1,
                 .create_flags = REG_CREATE_EPHEMERAL};
    assert_int_equal(zkd_pipeline_write(&x->n.p, session, &op, PF_NOW, NULL, NULL), 0);
    pf_run(x);
    assert_non_null(reg_lookup(x->n.reg, path));
}

/* LOCAL sessions (socket protocol) end with the process; ZooKeeper ones
 * survive with a fresh timeout. */
static void test_sessions_after_restart(void **state)
{
    (void)state;
    pf x;
    pf_init(&x, false, 3);
    assert_int_equal(pf_open(&x), 0);
    int64_t local = new_session(&x, REG_SESSION_LOCAL, 0);
    int64_t zk = new_session(&x, 0, 30000);
    ephemeral(&x, local, "/local");
    ephemeral(&x, zk, "/zk");
    pf_close(&x);
    assert_int_equal(pf_open(&x), 0); /* closes the LOCAL one, durably */
    assert_null(reg_lookup(x.n.reg, "/local"));
    assert_non_null(reg_lookup(x.n.reg, "/zk"));
    assert_int_equal(reg_session_count(x.n.reg), 1);
    assert_int_equal(reg_session_timeout(x.n.reg, zk), 30000);
    assert_int_equal(reg_session_touch(x.n.reg, local, PF_NOW), REG_ESESSIONEXPIRED);
    pf_close(&x);
    assert_int_equal(pf_open(&x), 0); /* the close was logged */
    assert_int_equal(reg_session_count(x.n.reg), 1);
    pf_done(&x);
}

/* A failure that must stop the daemon: nothing of the failed batch is
 * acknowledged, on_fatal is called, later writes fail at once, and a
 * restart finds every acknowledged write. */
static void check_fatal(int op, int err)
{
    pf x;
    pf_init(&x, true, 4);
    assert_int_equal(pf_open(&x), 0);
    burst(&x, "a", 0, 10);
    pf_run(&x);
    assert_int_equal(pf_acked(&x), 10);
    fileops_fault_fail(x.f, op, 1, err);
    burst(&x, "b", 0, 10);
    pf_run(&x);
    assert_int_equal(pf_acked(&x), 10);
    assert_int_equal(x.n.fatal, err);
    for (size_t i = 10; i < 20; i++)
        assert_true(x.w[i].answered && x.w[i].err == err);
    assert_null(reg_lookup(x.n.reg, "/b0"));
    size_t late = pf_create(&x, "/late", "x");
    assert_true(x.w[late].answered && x.w[late].err == err);
    pf_close(&x);
    assert_int_equal(fileops_fault_reboot(x.f, FILEOPS_CRASH_SECTORS), 0);
    assert_int_equal(pf_open(&x), 0);
    pf_check(&x);
    pf_done(&x);
}

static void test_write_eio_is_fatal(void **state)
{
    (void)state;
    check_fatal(FILEOPS_OP_PWRITE, -EIO);
}

static void test_fsync_eio_is_fatal(void **state)
{
    (void)state;
    check_fatal(FILEOPS_OP_FSYNC, -EIO);
}

static void test_fsync_enospc_is_fatal(void **state)
{
    (void)state;
    check_fatal(FILEOPS_OP_FSYNC, -ENOSPC);
}

/* Disk full on the nth pwrite: the batch fails with ENOSPC, nothing of it
 * is applied or stays on disk, zxids are handed out again, reads go on,
 * and the next writes succeed. */
static void check_enospc(int nth_write, int before)
{
    pf x;
    pf_init(&x, true, 5);
    assert_int_equal(pf_open(&x), 0);
    burst(&x, "a", 0, before);
    pf_run(&x);
    int64_t last = reg_last_zxid(x.n.reg);
    fileops_fault_fail(x.f, FILEOPS_OP_PWRITE, (unsigned long)nth_write, -ENOSPC);
    burst(&x, "full", 0, 5);
    pf_multi(&x, "/fm1", "/fm2");
    pf_run(&x);
    for (size_t i = (size_t)before; i < x.nw; i++)
        assert_int_equal(x.w[i].err, -ENOSPC);
    assert_int_equal(x.n.fatal, 0);
    assert_true(x.n.p.disk_full);
    assert_int_equal(reg_last_zxid(x.n.reg), last);
    assert_int_equal(reg_pending_count(x.n.reg), 0);
    char got[64];
    assert_true(before == 0 || pf_get(&x, "/a0", got, sizeof(got)));
    burst(&x, "ok", 0, 5);
    pf_run(&x);
    assert_int_equal(pf_acked(&x), (size_t)before + 5);
    assert_false(x.n.p.disk_full);
    assert_int_equal(x.w[x.nw - 5].zxid, last + 1); /* the refused zxids again */
    pf_close(&x);
    assert_int_equal(fileops_fault_reboot(x.f, FILEOPS_CRASH_SECTORS), 0);
    assert_int_equal(pf_open(&x), 0);
    pf_check(&x);
    assert_false(pf_get(&x, "/full0", got, sizeof(got)));
    assert_false(pf_get(&x, "/fm1", got, sizeof(got)));
    assert_int_equal(reg_last_zxid(x.n.reg), last + 5);
    pf_done(&x);
}

static void test_enospc_in_a_segment(void **state)
{
    (void)state;
    check_enospc(1, 10); /* the batch's write into the open segment */
}

static void test_enospc_on_a_new_segment(void **state)
{
    (void)state;
    check_enospc(1, 0); /* the first write of a new segment: it goes away */
}

/* Half a batch written, then the disk is full, then the power fails while
 * the half is being cut off: whatever survives, the batch never comes back. */
static void test_enospc_cut_interrupted_by_power_loss(void **state)
{
    (void)state;
    for (int mode = 0; mode < 3; mode++) {
        pf x;
        char got[64];
        pf_init(&x, true, 20 + (uint64_t)mode);
        assert_int_equal(pf_open(&x), 0);
        burst(&x, "a", 0, 10);
        pf_run(&x);
        fileops_fault_short_write(x.f, 1);
        fileops_fault_fail(x.f, FILEOPS_OP_PWRITE, 2, -ENOSPC);
        fileops_fault_crash_on(x.f, FILEOPS_OP_FSYNC, 1); /* the cut's fdatasync */
        burst(&x, "lost", 0, 20);
        pf_run(&x);
        assert_true(x.n.fatal < 0);
        assert_int_equal(pf_acked(&x), 10);
        pf_close(&x);
        assert_int_equal(fileops_fault_reboot(x.f, mode), 0);
        assert_int_equal(pf_open(&x), 0);
        pf_check(&x);
        assert_false(pf_get(&x, "/lost0", got, sizeof(got)));
        assert_int_equal(reg_last_zxid(x.n.reg), 10);
        pf_done(&x);
    }
}

static void test_enospc_zero_fill_is_skipped(void **state)
{
    (void)state;
    pf x;
    pf_init(&x, true, 6);
    assert_int_equal(pf_open(&x), 0);
    fileops_fault_fail(x.f, FILEOPS_OP_PWRITE, 2, -ENOSPC); /* the preallocation */
    burst(&x, "a", 0, 5);
    pf_run(&x);
    assert_int_equal(pf_acked(&x), 5);
    assert_false(x.n.p.disk_full);
    pf_close(&x);
    assert_int_equal(fileops_fault_reboot(x.f, FILEOPS_CRASH_DROP), 0);
    assert_int_equal(pf_open(&x), 0);
    pf_check(&x);
    pf_done(&x);
}

/* A socket connection that closes while the disk is full: its session close
 * is retried until the disk takes it, so its ephemerals do not linger. */
static void test_enospc_session_close_is_retried(void **state)
{
    (void)state;
    pf x;
    pf_init(&x, true, 7);
    assert_int_equal(pf_open(&x), 0);
    int64_t local = new_session(&x, REG_SESSION_LOCAL, 0);
    ephemeral(&x, local, "/member");
    fileops_fault_fail(x.f, FILEOPS_OP_PWRITE, 1, -ENOSPC);
    reg_op op = {.type = REG_OP_CLOSE_SESSION};
    assert_int_equal(zkd_pipeline_write(&x.n.p, local, &op, PF_NOW, NULL, NULL), 0);
    uv_run(&x.n.loop, UV_RUN_ONCE);
    while (x.n.p.flush_out)
        uv_run(&x.n.loop, UV_RUN_ONCE);
    assert_non_null(reg_lookup(x.n.reg, "/member")); /* refused for now */
    assert_int_equal(x.n.p.nclose, 1);
    pf_run(&x); /* the retry timer, a second later */
    assert_null(reg_lookup(x.n.reg, "/member"));
    assert_int_equal(reg_session_count(x.n.reg), 0);
    pf_done(&x);
}

static void test_short_write_completes(void **state)
{
    (void)state;
    pf x;
    pf_init(&x, true, 8);
    assert_int_equal(pf_open(&x), 0);
    burst(&x, "a", 0, 3);
    pf_run(&x);
    fileops_fault_short_write(x.f, 1);
    burst(&x, "b", 0, 30);
    pf_run(&x);
    assert_int_equal(pf_acked(&x), 33);
    pf_close(&x);
    assert_int_equal(fileops_fault_reboot(x.f, FILEOPS_CRASH_DROP), 0);
    assert_int_equal(pf_open(&x), 0);
    pf_check(&x);
    pf_done(&x);
}

/* Power fails between a snapshot's write and its rename: the snapshot is
 * lost, the log is not, and the temp file goes at the next start. */
static void test_crash_before_snapshot_rename(void **state)
{
    (void)state;
    pf x;
    pf_init(&x, true, 9);
    x.o.snapshot_every = 20;
    assert_int_equal(pf_open(&x), 0);
    burst(&x, "a", 0, 10);
    pf_run(&x);
    fileops_fault_crash_on(x.f, FILEOPS_OP_RENAME, 1);
    burst(&x, "b", 0, 10); /* the 20th commit starts the snapshot */
    pf_run(&x);
    assert_int_equal(pf_acked(&x), 20);
    assert_int_equal(x.n.s.stats.snapshot_failures, 1);
    burst(&x, "c", 0, 3);
    pf_run(&x);
    assert_true(x.n.fatal < 0);
    pf_close(&x);
    assert_int_equal(fileops_fault_reboot(x.f, FILEOPS_CRASH_PREFIX), 0);
    assert_int_equal(pf_open(&x), 0);
    assert_int_equal(x.n.s.stats.snapshot_zxid, 0);
    assert_int_equal(pf_count_files(&x, "tmp."), 0);
    pf_check(&x);
    pf_done(&x);
}

static void test_snapshot_then_replay(void **state)
{
    (void)state;
    pf x;
    pf_init(&x, true, 10);
    x.o.snapshot_every = 25;
    assert_int_equal(pf_open(&x), 0);
    for (int i = 0; i < 10; i++) {
        burst(&x, "s", i * 10, 10);
        pf_set(&x, "/s0", "changed");
        pf_run(&x);
    }
    assert_true(x.n.s.stats.snapshots >= 3);
    pf_close(&x);
    assert_int_equal(fileops_fault_reboot(x.f, FILEOPS_CRASH_DROP), 0);
    assert_true(pf_count_files(&x, "snapshot.") <= 2); /* snapshots_kept */
    assert_int_equal(pf_open(&x), 0);
    assert_true(x.n.s.stats.snapshot_zxid > 0);
    assert_true(x.n.s.stats.replayed < 110);
    pf_check(&x);
    pf_done(&x);
}

/* Damage that is not a torn tail refuses the start, for the log and for
 * the newest snapshot; a torn tail is cut and the start goes on. */
static void test_damage_refuses_start(void **state)
{
    (void)state;
    pf x;
    pf_init(&x, false, 11);
    assert_int_equal(pf_open(&x), 0);
    for (int i = 0; i < 5; i++) {
        burst(&x, "a", i * 10, 10);
        pf_run(&x);
    }
    pf_close(&x);
    const char *seg = wt_seg_name(1);
    wt_flip(x.dir, seg, 60); /* inside the first of five batches */
    assert_int_equal(pf_open(&x), WAL_ECORRUPT);
    wt_flip(x.dir, seg, 60);
    assert_int_equal(pf_open(&x), 0);
    assert_int_equal(pf_snapshot(&x), 0);
    pf_close(&x);
    const char *snap = wt_snap_name(50);
    wt_flip(x.dir, snap, wt_file_size(x.dir, snap) / 2);
    int rc = pf_open(&x);
    assert_true(rc == SNAP_ECORRUPT || rc == -EINVAL);
    wt_flip(x.dir, snap, wt_file_size(x.dir, snap) / 2);
    assert_int_equal(pf_open(&x), 0);
    pf_check(&x);
    pf_done(&x);
}

static void test_torn_tail_is_cut(void **state)
{
    (void)state;
    pf x;
    pf_init(&x, false, 12);
    assert_int_equal(pf_open(&x), 0);
    burst(&x, "a", 0, 10);
    pf_run(&x);
    burst(&x, "b", 0, 10);
    pf_run(&x);
    pf_close(&x);
    size_t end = 0;
    uint8_t *p = wt_read_file(x.dir, wt_seg_name(1), &end);
    while (end > 0 && p[end - 1] == 0) /* past the zero-filled tail */
        end--;
    free(p);
    wt_truncate(x.dir, wt_seg_name(1), end - 7); /* the second batch, torn */
    assert_int_equal(pf_open(&x), 0);
    assert_int_equal(reg_last_zxid(x.n.reg), 10);
    for (size_t i = 10; i < 20; i++)
        x.w[i].acked = false; /* what a torn batch was: never acknowledged */
    pf_check(&x);
    pf_done(&x);
}

/* sync = none: acknowledged after write(2); a power cut (unlike a crash of
 * the process) can take acknowledged writes, and the start still works. */
static void test_sync_none(void **state)
{
    (void)state;
    pf x;
    pf_init(&x, true, 13);
    x.o.no_sync = true;
    assert_int_equal(pf_open(&x), 0);
    burst(&x, "a", 0, 10);
    pf_run(&x);
    assert_int_equal(pf_acked(&x), 10);
    pf_close(&x);
    assert_int_equal(fileops_fault_reboot(x.f, FILEOPS_CRASH_DROP), 0);
    assert_int_equal(pf_open(&x), 0);
    assert_int_equal(reg_last_zxid(x.n.reg), 0); /* the documented risk */
    pf_done(&x);
}

/* While a snapshot child runs (its pages shared copy-on-write), a durable
 * batch is committed a few txns per loop turn, so reads get in between;
 * still all of it, in zxid order, and drain() commits the rest at once. */
static void test_commits_spread_while_a_snapshot_child_runs(void **state)
{
    (void)state;
    pf x;
    pf_init(&x, false, 1);
    assert_int_equal(pf_open(&x), 0);
    x.n.s.child = getpid(); /* stands for a child: only its presence is read */
    burst(&x, "s", 0, 40);
    for (int i = 0; i < 10000 && pf_acked(&x) == 0; i++)
        uv_run(&x.n.loop, UV_RUN_ONCE);
    assert_int_equal(pf_acked(&x), 8);
    assert_non_null(reg_lookup(x.n.reg, "/s7"));
    assert_null(reg_lookup(x.n.reg, "/s8")); /* durable, not committed yet */
    uv_run(&x.n.loop, UV_RUN_NOWAIT);
    assert_int_equal(pf_acked(&x), 16);
    zkd_pipeline_drain(&x.n.p); /* start-up/shutdown: everything now */
    assert_int_equal(pf_acked(&x), 40);
    for (size_t i = 1; i < x.nw; i++)
        assert_true(x.w[i].zxid > x.w[i - 1].zxid);
    burst(&x, "t", 0, 20);
    x.n.s.child = 0; /* no child: a batch is committed in one turn */
    for (int i = 0; i < 10000 && pf_acked(&x) == 40; i++)
        uv_run(&x.n.loop, UV_RUN_ONCE);
    assert_int_equal(pf_acked(&x), 60);
    pf_done(&x);
}

/* A batch that fails while durable txns still wait for their turn (a
 * snapshot child runs): those were made durable by the batch before, so
 * they are committed and acknowledged, never rolled back with the failed
 * one - the log keeps them, and zxids go on after them. */
static void test_failure_keeps_durable_txns_waiting_for_a_turn(void **state)
{
    (void)state;
    pf x;
    pf_init(&x, true, 7);
    assert_int_equal(pf_open(&x), 0);
    x.n.s.child = getpid(); /* stands for a child: only its presence is read */
    burst(&x, "s", 0, 40);
    for (int i = 0; i < 10000 && pf_acked(&x) == 0; i++)
        uv_run(&x.n.loop, UV_RUN_ONCE);
    assert_int_equal(pf_acked(&x), 8);
    fileops_fault_fail(x.f, FILEOPS_OP_PWRITE, 1, -ENOSPC);
    burst(&x, "full", 0, 5);
    uv_run(&x.n.loop, UV_RUN_NOWAIT); /* the failing batch goes out */
    for (int i = 0; i < 2000 && atomic_load(&x.n.p.flush.state) != ZKD_FLUSH_WRITTEN; i++)
        usleep(1000);
    for (int i = 0; i < 10000 && !x.w[x.nw - 1].answered; i++)
        uv_run(&x.n.loop, UV_RUN_ONCE);
    x.n.s.child = 0;
    pf_run(&x);
    for (size_t i = 0; i < 40; i++)
        assert_int_equal(x.w[i].err, 0);
    assert_int_equal(pf_acked(&x), 40);
    for (size_t i = 40; i < 45; i++)
        assert_int_equal(x.w[i].err, -ENOSPC);
    int64_t last = reg_last_zxid(x.n.reg);
    assert_int_equal(last, x.w[39].zxid);
    burst(&x, "ok", 0, 3);
    pf_run(&x);
    assert_int_equal(pf_acked(&x), 43);
    assert_int_equal(x.w[45].zxid, last + 1);
    pf_close(&x);
    assert_int_equal(pf_open(&x), 0);
    pf_check(&x);
    char got[64];
    assert_true(pf_get(&x, "/s39", got, sizeof(got)));
    assert_false(pf_get(&x, "/full0", got, sizeof(got)));
    assert_int_equal(reg_last_zxid(x.n.reg), last + 3);
    pf_done(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_commit),
        cmocka_unit_test(test_drain_waits_for_the_worker),
        cmocka_unit_test(test_sessions_after_restart),
        cmocka_unit_test(test_write_eio_is_fatal),
        cmocka_unit_test(test_fsync_eio_is_fatal),
        cmocka_unit_test(test_fsync_enospc_is_fatal),
        cmocka_unit_test(test_enospc_in_a_segment),
        cmocka_unit_test(test_enospc_on_a_new_segment),
        cmocka_unit_test(test_enospc_cut_interrupted_by_power_loss),
        cmocka_unit_test(test_enospc_zero_fill_is_skipped),
        cmocka_unit_test(test_enospc_session_close_is_retried),
        cmocka_unit_test(test_short_write_completes),
        cmocka_unit_test(test_crash_before_snapshot_rename),
        cmocka_unit_test(test_snapshot_then_replay),
        cmocka_unit_test(test_damage_refuses_start),
        cmocka_unit_test(test_torn_tail_is_cut),
        cmocka_unit_test(test_sync_none),
        cmocka_unit_test(test_commits_spread_while_a_snapshot_child_runs),
        cmocka_unit_test(test_failure_keeps_durable_txns_waiting_for_a_turn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
