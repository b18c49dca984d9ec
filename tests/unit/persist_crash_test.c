/*
 * persist_crash_test.c - power cuts at random moments under load, and
 * background snapshots through fork().
 *
 * Each round starts a node on the same directory (recovery included),
 * checks that every write acknowledged in any earlier round is there and
 * that no multi is half applied, arms a power cut at a random upcoming I/O
 * operation (log flushes, zero-fills, inline snapshots, purges), and
 * writes bursts of creates, multis and sets until the cut makes the log
 * fail. The fault table then reboots the directory to what a real power
 * loss could leave (nothing unsynced, a prefix of it, or random sectors).
 * PF_CRASH_ROUNDS sets the number of rounds (default 30).
 *
 * The fork test uses real I/O: a snapshot every 100 writes with 4 KiB log
 * segments, so snapshots, snapshot purges and segment purges all happen
 * while writes go on; then a restart recovers from the newest snapshot.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "persist_fixture.h"

static void one_burst(pf *x, int round)
{
    char a[32], b[32];
    int n = 1 + (int)(pf_rand(x) % 12);
    for (int i = 0; i < n && x->nw + 2 < PF_MAX_WRITES; i++) {
        size_t k = x->nw;
        snprintf(a, sizeof(a), "/r%d-%zu", round, k);
        switch (pf_rand(x) % 4) {
        case 0:
            snprintf(b, sizeof(b), "/r%d-%zub", round, k);
            pf_multi(x, a, b);
            break;
        case 1:
            if (k > 0 && x->w[k - 1].kind == PF_CREATE) {
                pf_set(x, x->w[k - 1].path, "set");
                break;
            }
            /* fall through */
        default:
            pf_create(x, a, "v");
        }
    }
    pf_run(x);
}

static void crash_round(pf *x, int round)
{
    assert_int_equal(pf_open(x), 0);
    pf_check(x);
    int64_t before = pf_max_acked_zxid(x);
    fileops_fault_crash_at(x->f, 1 + pf_rand(x) % 40);
    size_t first = x->nw;
    for (int i = 0; i < 200 && x->n.fatal == 0 && x->n.up; i++)
        one_burst(x, round);
    assert_true(x->n.fatal != 0);
    for (size_t i = first; i < x->nw; i++) {
        assert_true(x->w[i].answered);
        if (x->w[i].acked) /* zxids go on above everything acknowledged */
            assert_true(x->w[i].zxid > before);
    }
    pf_close(x);
    assert_int_equal(fileops_fault_reboot(x->f, (int)(pf_rand(x) % 3)), 0);
}

static void test_random_power_cuts(void **state)
{
    (void)state;
    const char *env = getenv("PF_CRASH_ROUNDS");
    int rounds = env ? atoi(env) : 30;
    pf x;
    pf_init(&x, true, 77);
    x.o.snapshot_every = 30;
    for (int r = 0; r < rounds; r++)
        crash_round(&x, r);
    assert_int_equal(pf_open(&x), 0);
    pf_check(&x);
    print_message("  %d rounds: %zu writes, %zu acknowledged and all recovered\n",
                  rounds, x.nw, pf_acked(&x));
    assert_true(pf_acked(&x) > 0);
    pf_done(&x);
}

static void test_fork_snapshots_and_purge(void **state)
{
    (void)state;
    pf x;
    char path[32];
    pf_init(&x, false, 78);
    x.o.snapshot_inline = false;
    x.o.snapshot_every = 100;
    x.o.segment_bytes = 4096;
    assert_int_equal(pf_open(&x), 0);
    for (int i = 0; i < 60; i++) {
        for (int j = 0; j < 10; j++) {
            snprintf(path, sizeof(path), "/f%d", i * 10 + j);
            pf_create(&x, path, "some data to fill the segments");
        }
        pf_run(&x); /* also waits for a running snapshot child */
    }
    zkd_store_stats st = x.n.s.stats;
    assert_int_equal(pf_acked(&x), 600);
    assert_true(st.snapshots >= 3);
    assert_int_equal(st.snapshot_failures, 0);
    assert_true(st.purged_segments > 0); /* old snapshots: the child deletes them */
    assert_true(pf_count_files(&x, "snapshot.") <= 2);
    print_message("  %llu snapshots, fork held the loop %.2f ms at most (ASan); %llu log "
                  "segments purged\n", (unsigned long long)st.snapshots, st.fork_ms_max,
                  (unsigned long long)st.purged_segments);
    pf_close(&x);
    assert_int_equal(pf_open(&x), 0);
    assert_true(x.n.s.stats.snapshot_zxid > 0);
    assert_true(x.n.s.stats.replayed < 600);
    pf_check(&x);
    pf_done(&x);
}

/* The POSIX table, but opening a snapshot's temp file takes 1.5 s: the
 * child stays alive long enough to be looked at, even on a loaded machine. */
static int slow_open(void *ctx, const char *path, int flags, unsigned mode)
{
    (void)ctx;
    if (strstr(path, "tmp.snapshot."))
        usleep(1500 * 1000);
    return fileops_posix()->open(NULL, path, flags, mode);
}

static int child_policy(pid_t pid, int want)
{
    int got = -1;
    for (int i = 0; i < 1000 && (got = sched_getscheduler(pid)) != want; i++)
        usleep(1000);
    return got;
}

static void test_snapshot_child_runs_at_idle_priority(void **state)
{
    (void)state;
    pf x;
    fileops slow = *fileops_posix();
    slow.open = slow_open;
    pf_init(&x, false, 79);
    x.o.fo = &slow;
    x.o.snapshot_inline = false;
    x.o.child_idle_ms = 50;
    assert_int_equal(pf_open(&x), 0);
    pf_create(&x, "/a", "x");
    pf_run(&x);
    assert_int_equal(pf_snapshot(&x), 0);
    pid_t child = x.n.s.child;
    assert_true(child > 0);
    assert_int_equal(child_policy(child, SCHED_IDLE), SCHED_IDLE);
    zkd_store_committed(&x.n.s, 0); /* too early: stays idle */
    assert_false(x.n.s.child_promoted);
    usleep(60 * 1000);
    zkd_store_committed(&x.n.s, 0); /* writes go on after child_idle_ms */
    assert_true(x.n.s.child_promoted);
    assert_int_equal(child_policy(child, SCHED_OTHER), SCHED_OTHER);
    errno = 0;
    assert_int_equal(getpriority(PRIO_PROCESS, (id_t)child), 10);
    pf_run(&x); /* reaps it */
    assert_int_equal(x.n.s.child, 0);
    assert_int_equal(x.n.s.stats.snapshots, 1);
    pf_close(&x);
    pf_done(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_power_cuts),
        cmocka_unit_test(test_fork_snapshots_and_purge),
        cmocka_unit_test(test_snapshot_child_runs_at_idle_priority),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
