/*
 * reg_watch_test.c - watches: one-shot data, exists and child watches,
 * persistent and persistent-recursive ones, event order and deduplication,
 * removeWatches/checkWatches, dropping a watcher, setWatches.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reg_fixture.h"

static int setup(void **state)
{
    *state = fx_new();
    return 0;
}

static int teardown(void **state)
{
    fx_free(*state);
    return 0;
}

static void mk(fx *f, const char *path)
{
    assert_int_equal(fx_create(f, 0, path, NULL, 0, NULL, 0), 0);
}

static void test_data_watch(void **state)
{
    fx *f = *state;
    mk(f, "/a");
    assert_int_equal(reg_get(f->reg, 0, "/a", 1, NULL, NULL, NULL), 0);
    assert_int_equal(reg_get(f->reg, 0, "/a", 1, NULL, NULL, NULL), 0);
    assert_int_equal(reg_watch_count(f->reg), 1);
    assert_int_equal(fx_set(f, 0, "/a", "x", -1, NULL), 0);
    assert_int_equal(f->nev, 1);
    fx_assert_ev(f, 0, 1, REG_EVENT_CHANGED, "/a");
    assert_int_equal(f->ev[0].zxid, reg_last_zxid(f->reg));
    assert_int_equal(reg_watch_count(f->reg), 0);
    assert_int_equal(fx_set(f, 0, "/a", "y", -1, NULL), 0);
    assert_int_equal(f->nev, 1);
    assert_int_equal(reg_get(f->reg, 0, "/a", 1, NULL, NULL, NULL), 0);
    assert_int_equal(fx_delete(f, 0, "/a", -1), 0);
    fx_assert_ev(f, 1, 1, REG_EVENT_DELETED, "/a");
    assert_int_equal(reg_get(f->reg, 0, "/a", 1, NULL, NULL, NULL), REG_ENONODE);
    assert_int_equal(reg_watch_count(f->reg), 0);
    /* a failed write fires nothing */
    assert_int_equal(fx_set(f, 0, "/a", "y", -1, NULL), REG_ENONODE);
    assert_int_equal(f->nev, 2);
}

static void test_exists_watch(void **state)
{
    fx *f = *state;
    assert_int_equal(reg_exists(f->reg, 0, "/b", 2, NULL), REG_ENONODE);
    assert_int_equal(reg_watch_count(f->reg), 1);
    mk(f, "/b");
    assert_int_equal(f->nev, 1);
    fx_assert_ev(f, 0, 2, REG_EVENT_CREATED, "/b");
    assert_int_equal(fx_set(f, 0, "/b", "x", -1, NULL), 0);
    assert_int_equal(f->nev, 1);
    assert_int_equal(reg_exists(f->reg, 0, "/b", 2, NULL), 0);
    assert_int_equal(fx_set(f, 0, "/b", "y", -1, NULL), 0);
    fx_assert_ev(f, 1, 2, REG_EVENT_CHANGED, "/b");
    /* a child's creation is not a data change */
    assert_int_equal(reg_exists(f->reg, 0, "/b", 2, NULL), 0);
    mk(f, "/b/c");
    assert_int_equal(f->nev, 2);
}

static void test_child_watch(void **state)
{
    fx *f = *state;
    mk(f, "/p");
    assert_int_equal(reg_children(f->reg, 0, "/p", 3, NULL, NULL, NULL), 0);
    assert_int_equal(fx_set(f, 0, "/p", "x", -1, NULL), 0);
    assert_int_equal(f->nev, 0);
    mk(f, "/p/c");
    fx_assert_ev(f, 0, 3, REG_EVENT_CHILDREN, "/p");
    mk(f, "/p/d");
    assert_int_equal(f->nev, 1);
    assert_int_equal(reg_children(f->reg, 0, "/p", 3, NULL, NULL, NULL), 0);
    assert_int_equal(fx_delete(f, 0, "/p/c", -1), 0);
    fx_assert_ev(f, 1, 3, REG_EVENT_CHILDREN, "/p");
    assert_int_equal(reg_children(f->reg, 0, "/p", 3, NULL, NULL, NULL), 0);
    assert_int_equal(fx_delete(f, 0, "/p/d", -1), 0);
    assert_int_equal(reg_children(f->reg, 0, "/p", 3, NULL, NULL, NULL), 0);
    assert_int_equal(fx_delete(f, 0, "/p", -1), 0);
    fx_assert_ev(f, 3, 3, REG_EVENT_DELETED, "/p");
    assert_int_equal(reg_children(f->reg, 0, "/p", 3, NULL, NULL, NULL), REG_ENONODE);
    /* the root's children */
    assert_int_equal(reg_children(f->reg, 0, "/", 4, NULL, NULL, NULL), 0);
    mk(f, "/q");
    fx_assert_ev(f, 4, 4, REG_EVENT_CHILDREN, "/");
}

static void test_order_and_dedup(void **state)
{
    fx *f = *state;
    mk(f, "/par");
    /* creation: CREATED to the exists watcher, then the parent's CHILDREN */
    assert_int_equal(reg_exists(f->reg, 0, "/par/x", 5, NULL), REG_ENONODE);
    assert_int_equal(reg_children(f->reg, 0, "/par", 6, NULL, NULL, NULL), 0);
    mk(f, "/par/x");
    assert_int_equal(f->nev, 2);
    fx_assert_ev(f, 0, 5, REG_EVENT_CREATED, "/par/x");
    fx_assert_ev(f, 1, 6, REG_EVENT_CHILDREN, "/par");
    fx_reset(f);
    /* deletion: data watchers, child watchers, then the parent */
    assert_int_equal(reg_get(f->reg, 0, "/par/x", 7, NULL, NULL, NULL), 0);
    assert_int_equal(reg_children(f->reg, 0, "/par/x", 8, NULL, NULL, NULL), 0);
    assert_int_equal(reg_children(f->reg, 0, "/par", 6, NULL, NULL, NULL), 0);
    /* 9 watches both data and children of /par/x: one DELETED only */
    assert_int_equal(reg_get(f->reg, 0, "/par/x", 9, NULL, NULL, NULL), 0);
    assert_int_equal(reg_children(f->reg, 0, "/par/x", 9, NULL, NULL, NULL), 0);
    assert_int_equal(fx_delete(f, 0, "/par/x", -1), 0);
    assert_int_equal(fx_count_ev(f, 9), 1);
    assert_int_equal(fx_count_ev(f, 7), 1);
    assert_int_equal(fx_count_ev(f, 8), 1);
    assert_int_equal(f->nev, 4);
    fx_assert_ev(f, 3, 6, REG_EVENT_CHILDREN, "/par");
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(f->ev[i].type, REG_EVENT_DELETED);
    /* data watchers (7, 9) come before the child-only watcher (8) */
    assert_int_equal(f->ev[2].watcher, 8);
    assert_int_equal(reg_watch_count(f->reg), 0);
    /* two watchers on one path */
    assert_int_equal(reg_get(f->reg, 0, "/par", 1, NULL, NULL, NULL), 0);
    assert_int_equal(reg_get(f->reg, 0, "/par", 2, NULL, NULL, NULL), 0);
    fx_reset(f);
    assert_int_equal(fx_set(f, 0, "/par", "z", -1, NULL), 0);
    assert_int_equal(f->nev, 2);
    assert_int_equal(fx_count_ev(f, 1), 1);
    assert_int_equal(fx_count_ev(f, 2), 1);
}

static void test_persistent(void **state)
{
    fx *f = *state;
    assert_int_equal(reg_watch_add(f->reg, 7, "/pw", REG_WATCH_PERSISTENT), 0);
    assert_int_equal(reg_watch_count(f->reg), 2);
    mk(f, "/pw");
    assert_int_equal(fx_set(f, 0, "/pw", "x", -1, NULL), 0);
    mk(f, "/pw/c");
    mk(f, "/pw/c/g");
    assert_int_equal(fx_delete(f, 0, "/pw/c/g", -1), 0);
    assert_int_equal(fx_delete(f, 0, "/pw/c", -1), 0);
    assert_int_equal(fx_delete(f, 0, "/pw", -1), 0);
    mk(f, "/pw");
    assert_int_equal(f->nev, 6);
    fx_assert_ev(f, 0, 7, REG_EVENT_CREATED, "/pw");
    fx_assert_ev(f, 1, 7, REG_EVENT_CHANGED, "/pw");
    fx_assert_ev(f, 2, 7, REG_EVENT_CHILDREN, "/pw");
    fx_assert_ev(f, 3, 7, REG_EVENT_CHILDREN, "/pw");
    fx_assert_ev(f, 4, 7, REG_EVENT_DELETED, "/pw");
    fx_assert_ev(f, 5, 7, REG_EVENT_CREATED, "/pw");
    assert_int_equal(reg_watch_count(f->reg), 2);
    /* ZooKeeper 3.8: a getData watch replaces the persistent one in the data
     * table (it fires once and goes); the child table keeps its own */
    assert_int_equal(reg_get(f->reg, 0, "/pw", 7, NULL, NULL, NULL), 0);
    assert_int_equal(reg_watch_count(f->reg), 2);
    fx_reset(f);
    assert_int_equal(fx_set(f, 0, "/pw", "a", -1, NULL), 0);
    assert_int_equal(fx_set(f, 0, "/pw", "b", -1, NULL), 0);
    assert_int_equal(f->nev, 1);
    assert_int_equal(reg_watch_count(f->reg), 1);
    mk(f, "/pw/k");
    fx_assert_ev(f, 1, 7, REG_EVENT_CHILDREN, "/pw");
    /* and an exists watch followed by addWatch becomes persistent */
    assert_int_equal(reg_exists(f->reg, 0, "/pw/k", 7, NULL), 0);
    assert_int_equal(reg_watch_add(f->reg, 7, "/pw/k", REG_WATCH_PERSISTENT), 0);
    fx_reset(f);
    assert_int_equal(fx_set(f, 0, "/pw/k", "a", -1, NULL), 0);
    assert_int_equal(fx_set(f, 0, "/pw/k", "b", -1, NULL), 0);
    assert_int_equal(f->nev, 2);
    assert_int_equal(reg_watch_add(f->reg, 7, "/pw", 9), -EINVAL);
}

static void test_recursive(void **state)
{
    fx *f = *state;
    assert_int_equal(reg_watch_add(f->reg, 8, "/r", REG_WATCH_PERSISTENT_RECURSIVE), 0);
    assert_int_equal(reg_watch_count(f->reg), 2); /* both tables, as 3.8 */
    mk(f, "/r");
    mk(f, "/r/a");
    mk(f, "/r/a/b");
    assert_int_equal(fx_set(f, 0, "/r/a/b", "x", -1, NULL), 0);
    assert_int_equal(fx_delete(f, 0, "/r/a/b", -1), 0);
    mk(f, "/rx"); /* not under /r */
    assert_int_equal(f->nev, 5);
    fx_assert_ev(f, 0, 8, REG_EVENT_CREATED, "/r");
    fx_assert_ev(f, 1, 8, REG_EVENT_CREATED, "/r/a");
    fx_assert_ev(f, 2, 8, REG_EVENT_CREATED, "/r/a/b");
    fx_assert_ev(f, 3, 8, REG_EVENT_CHANGED, "/r/a/b");
    fx_assert_ev(f, 4, 8, REG_EVENT_DELETED, "/r/a/b");
    /* overlapping recursive watches of one watcher: one event */
    assert_int_equal(reg_watch_add(f->reg, 8, "/", REG_WATCH_PERSISTENT_RECURSIVE), 0);
    assert_int_equal(reg_watch_add(f->reg, 9, "/", REG_WATCH_PERSISTENT_RECURSIVE), 0);
    fx_reset(f);
    mk(f, "/r/a/z");
    assert_int_equal(f->nev, 2);
    assert_int_equal(fx_count_ev(f, 8), 1);
    assert_int_equal(fx_count_ev(f, 9), 1);
    /* recursive plus a one-shot child watch on the parent */
    assert_int_equal(reg_children(f->reg, 0, "/r/a", 8, NULL, NULL, NULL), 0);
    fx_reset(f);
    assert_int_equal(fx_delete(f, 0, "/r/a/z", -1), 0);
    assert_int_equal(fx_count_ev(f, 8), 2);
    fx_assert_ev(f, 0, 8, REG_EVENT_DELETED, "/r/a/z");
    assert_int_equal(f->ev[f->nev - 1].type, REG_EVENT_CHILDREN);
}

/* ZooKeeper 3.8 keeps a recursive watch in the child table too: with its
 * data half gone, the child half still tells of deletions (of the node and
 * of its descendants), never of changes, creations or children. */
static void test_recursive_child_half(void **state)
{
    fx *f = *state;
    mk(f, "/h");
    mk(f, "/h/k");
    mk(f, "/h/k/j");
    assert_int_equal(reg_watch_add(f->reg, 3, "/h", REG_WATCH_PERSISTENT_RECURSIVE), 0);
    assert_int_equal(reg_watch_remove(f->reg, 3, "/h", REG_WATCHER_CHILDREN, false), 0);
    assert_int_equal(reg_watch_remove(f->reg, 3, "/h", REG_WATCHER_DATA, true), 0);
    assert_int_equal(reg_watch_remove(f->reg, 3, "/h", REG_WATCHER_DATA, false),
                     REG_ENOWATCHER);
    assert_int_equal(reg_watch_remove(f->reg, 3, "/h", REG_WATCHER_CHILDREN, false), 0);
    assert_int_equal(reg_watch_count(f->reg), 1);
    fx_reset(f);
    assert_int_equal(fx_set(f, 0, "/h", "x", -1, NULL), 0);
    assert_int_equal(fx_set(f, 0, "/h/k", "x", -1, NULL), 0);
    mk(f, "/h/k2");
    assert_int_equal(f->nev, 0);
    assert_int_equal(fx_delete(f, 0, "/h/k/j", -1), 0);
    assert_int_equal(fx_delete(f, 0, "/h/k2", -1), 0);
    assert_int_equal(f->nev, 2);
    fx_assert_ev(f, 0, 3, REG_EVENT_DELETED, "/h/k/j");
    fx_assert_ev(f, 1, 3, REG_EVENT_DELETED, "/h/k2");
    /* ANY takes the child half: removing DATA then ANY both succeed */
    assert_int_equal(reg_watch_remove(f->reg, 3, "/h", REG_WATCHER_ANY, true), 0);
    assert_int_equal(reg_watch_remove(f->reg, 3, "/h", REG_WATCHER_ANY, true),
                     REG_ENOWATCHER);
    assert_int_equal(reg_watch_count(f->reg), 0);
    /* a getData watch replaces the data half; once it fired, deletions
     * still come through the child half, exactly once */
    assert_int_equal(reg_watch_add(f->reg, 3, "/h", REG_WATCH_PERSISTENT_RECURSIVE), 0);
    assert_int_equal(reg_get(f->reg, 0, "/h", 3, NULL, NULL, NULL), 0);
    fx_reset(f);
    assert_int_equal(fx_set(f, 0, "/h", "y", -1, NULL), 0);
    assert_int_equal(fx_set(f, 0, "/h", "z", -1, NULL), 0);
    assert_int_equal(fx_set(f, 0, "/h/k", "z", -1, NULL), 0);
    assert_int_equal(f->nev, 1);
    assert_int_equal(fx_delete(f, 0, "/h/k", -1), 0);
    assert_int_equal(f->nev, 2);
    fx_assert_ev(f, 1, 3, REG_EVENT_DELETED, "/h/k");
    /* with both halves recursive, a deletion is told once */
    assert_int_equal(reg_watch_add(f->reg, 3, "/h", REG_WATCH_PERSISTENT_RECURSIVE), 0);
    mk(f, "/h/m");
    fx_reset(f);
    assert_int_equal(fx_delete(f, 0, "/h/m", -1), 0);
    assert_int_equal(f->nev, 1);
    fx_assert_ev(f, 0, 3, REG_EVENT_DELETED, "/h/m");
    assert_int_equal(fx_delete(f, 0, "/h", -1), 0);
    assert_int_equal(f->nev, 2);
    fx_assert_ev(f, 1, 3, REG_EVENT_DELETED, "/h");
    reg_watcher_drop(f->reg, 3);
    assert_int_equal(reg_watch_count(f->reg), 0);
}

static void test_remove_check(void **state)
{
    fx *f = *state;
    mk(f, "/w");
    assert_int_equal(reg_watch_remove(f->reg, 1, "/w", REG_WATCHER_DATA, false),
                     REG_ENOWATCHER);
    assert_int_equal(reg_get(f->reg, 0, "/w", 1, NULL, NULL, NULL), 0);
    assert_int_equal(reg_children(f->reg, 0, "/w", 1, NULL, NULL, NULL), 0);
    assert_int_equal(reg_watch_count(f->reg), 2);
    assert_int_equal(reg_watch_remove(f->reg, 1, "/w", REG_WATCHER_DATA, false), 0);
    /* ZooKeeper 3.8's checkWatches answers for the path, whoever watches it;
     * removeWatches only takes the caller's own */
    assert_int_equal(reg_watch_remove(f->reg, 2, "/w", REG_WATCHER_DATA, false), 0);
    assert_int_equal(reg_watch_remove(f->reg, 2, "/w", REG_WATCHER_DATA, true),
                     REG_ENOWATCHER);
    assert_int_equal(reg_watch_remove(f->reg, 1, "/x", REG_WATCHER_ANY, false),
                     REG_ENOWATCHER);
    assert_int_equal(reg_watch_remove(f->reg, 1, "/w", REG_WATCHER_DATA, true), 0);
    assert_int_equal(reg_watch_remove(f->reg, 1, "/w", REG_WATCHER_DATA, true),
                     REG_ENOWATCHER);
    assert_int_equal(reg_watch_count(f->reg), 1);
    assert_int_equal(reg_watch_remove(f->reg, 1, "/w", REG_WATCHER_CHILDREN, true), 0);
    assert_int_equal(reg_watch_count(f->reg), 0);
    mk(f, "/w/c");
    assert_int_equal(f->nev, 0);
    /* persistent: in both tables; DATA removes the data half (any mode) */
    assert_int_equal(reg_watch_add(f->reg, 1, "/w", REG_WATCH_PERSISTENT), 0);
    assert_int_equal(reg_watch_remove(f->reg, 1, "/w", REG_WATCHER_CHILDREN, false), 0);
    assert_int_equal(reg_watch_remove(f->reg, 1, "/w", REG_WATCHER_PERSISTENT, false), 0);
    assert_int_equal(reg_watch_remove(f->reg, 1, "/w", REG_WATCHER_DATA, true), 0);
    assert_int_equal(reg_watch_count(f->reg), 1);
    mk(f, "/w/d");
    assert_int_equal(f->nev, 1); /* the child half still fires */
    /* recursive replaces both halves; DATA removes the data half, the
     * recursive child half stays */
    assert_int_equal(reg_watch_add(f->reg, 1, "/w", REG_WATCH_PERSISTENT_RECURSIVE), 0);
    assert_int_equal(reg_watch_remove(f->reg, 1, "/w", REG_WATCHER_PERSISTENT_RECURSIVE,
                                      false), 0);
    assert_int_equal(reg_watch_remove(f->reg, 1, "/w", REG_WATCHER_DATA, true), 0);
    assert_int_equal(reg_watch_remove(f->reg, 1, "/w", REG_WATCHER_PERSISTENT,
                                      false), REG_ENOWATCHER);
    assert_int_equal(reg_watch_remove(f->reg, 1, "/w", REG_WATCHER_PERSISTENT_RECURSIVE,
                                      true), 0);
    assert_int_equal(reg_watch_remove(f->reg, 1, "/w", REG_WATCHER_PERSISTENT_RECURSIVE,
                                      false), REG_ENOWATCHER);
    /* an exists watch replaces the data half of a recursive one */
    assert_int_equal(reg_watch_add(f->reg, 1, "/w", REG_WATCH_PERSISTENT_RECURSIVE), 0);
    assert_int_equal(reg_exists(f->reg, 0, "/w", 1, NULL), 0);
    assert_int_equal(reg_watch_remove(f->reg, 1, "/w", REG_WATCHER_PERSISTENT_RECURSIVE,
                                      true), 0);
    fx_reset(f);
    mk(f, "/w/d/e"); /* no recursive watch left */
    assert_int_equal(f->nev, 0);
    assert_int_equal(reg_watch_remove(f->reg, 1, "/w", REG_WATCHER_ANY, true), 0);
    assert_int_equal(reg_watch_remove(f->reg, 1, "/w", REG_WATCHER_ANY, true),
                     REG_ENOWATCHER);
    assert_int_equal(reg_watch_count(f->reg), 0);
    assert_int_equal(reg_watch_remove(f->reg, 1, "/w", 0, false), -EINVAL);
    assert_int_equal(reg_watch_remove(f->reg, 1, NULL, REG_WATCHER_ANY, false), -EINVAL);
}

static void test_drop(void **state)
{
    fx *f = *state;
    char p[32];
    mk(f, "/d");
    for (int i = 0; i < 50; i++) {
        snprintf(p, sizeof(p), "/d/n%d", i);
        mk(f, p);
        assert_int_equal(reg_get(f->reg, 0, p, 42, NULL, NULL, NULL), 0);
        assert_int_equal(reg_exists(f->reg, 0, p, 43, NULL), 0);
    }
    assert_int_equal(reg_watch_add(f->reg, 42, "/", REG_WATCH_PERSISTENT_RECURSIVE), 0);
    assert_int_equal(reg_watch_count(f->reg), 102);
    reg_watcher_drop(f->reg, 42);
    reg_watcher_drop(f->reg, 4242);
    assert_int_equal(reg_watch_count(f->reg), 50);
    fx_reset(f);
    for (int i = 0; i < 50; i++) {
        snprintf(p, sizeof(p), "/d/n%d", i);
        assert_int_equal(fx_delete(f, 0, p, -1), 0);
    }
    assert_int_equal(f->nev, 50);
    assert_int_equal(fx_count_ev(f, 42), 0);
}

static void test_set_watches(void **state)
{
    fx *f = *state;
    mk(f, "/d1");
    mk(f, "/d2");
    mk(f, "/c1");
    mk(f, "/c2");
    mk(f, "/ex");
    int64_t rel = reg_last_zxid(f->reg);
    assert_int_equal(fx_set(f, 0, "/d2", "x", -1, NULL), 0);
    mk(f, "/c1/k");
    fx_reset(f);
    const char *data[] = {"/d1", "/d2", "/gone"};
    const char *exist[] = {"/ex", "/missing"};
    const char *child[] = {"/c1", "/c2", "/gone2"};
    const char *pers[] = {"/pp"};
    const char *rec[] = {"/rr"};
    assert_int_equal(reg_set_watches(f->reg, 5, rel, data, 3, exist, 2, child, 3,
                                     pers, 1, rec, 1), 0);
    assert_int_equal(f->nev, 5);
    fx_assert_ev(f, 0, 5, REG_EVENT_CHANGED, "/d2");
    fx_assert_ev(f, 1, 5, REG_EVENT_DELETED, "/gone");
    fx_assert_ev(f, 2, 5, REG_EVENT_CREATED, "/ex");
    fx_assert_ev(f, 3, 5, REG_EVENT_CHILDREN, "/c1");
    fx_assert_ev(f, 4, 5, REG_EVENT_DELETED, "/gone2");
    assert_int_equal(f->ev[0].zxid, -1);
    /* armed: /d1 data, /missing exists, /c2 children, /pp, /rr */
    assert_int_equal(reg_watch_count(f->reg), 1 + 1 + 1 + 2 + 2);
    fx_reset(f);
    assert_int_equal(fx_set(f, 0, "/d1", "y", -1, NULL), 0);
    mk(f, "/missing");
    mk(f, "/c2/k");
    mk(f, "/pp");
    mk(f, "/rr");
    mk(f, "/rr/k");
    assert_int_equal(f->nev, 6);
    fx_assert_ev(f, 0, 5, REG_EVENT_CHANGED, "/d1");
    fx_assert_ev(f, 1, 5, REG_EVENT_CREATED, "/missing");
    fx_assert_ev(f, 2, 5, REG_EVENT_CHILDREN, "/c2");
    fx_assert_ev(f, 3, 5, REG_EVENT_CREATED, "/pp");
    fx_assert_ev(f, 4, 5, REG_EVENT_CREATED, "/rr");
    fx_assert_ev(f, 5, 5, REG_EVENT_CREATED, "/rr/k");
}

/* registry.max_watches: paths per watcher. Past it a read fails with
 * QUOTAEXCEEDED and leaves no watch; a path already watched, another
 * watcher, and a slot a fired one-shot watch gave back are all fine. */
static void test_watch_limit(void **state)
{
    (void)state;
    reg_config cfg;
    reg_config_default(&cfg);
    cfg.max_watches = 3;
    fx *f = fx_new_cfg(&cfg);
    mk(f, "/a");
    mk(f, "/b");
    assert_int_equal(reg_get(f->reg, 0, "/a", 1, NULL, NULL, NULL), 0);
    assert_int_equal(reg_children(f->reg, 0, "/a", 1, NULL, NULL, NULL), 0); /* same path */
    assert_int_equal(reg_exists(f->reg, 0, "/x", 1, NULL), REG_ENONODE);
    assert_int_equal(reg_watch_add(f->reg, 1, "/b", REG_WATCH_PERSISTENT), 0);
    size_t before = reg_watch_count(f->reg);
    assert_int_equal(reg_exists(f->reg, 0, "/y", 1, NULL), REG_EQUOTAEXCEEDED);
    assert_int_equal(reg_get(f->reg, 0, "/b", 1, NULL, NULL, NULL), 0); /* watched already */
    assert_int_equal(reg_watch_add(f->reg, 1, "/z", REG_WATCH_PERSISTENT), REG_EQUOTAEXCEEDED);
    const char *more[] = {"/w"};
    assert_int_equal(reg_set_watches(f->reg, 1, reg_last_zxid(f->reg), NULL, 0, more, 1, NULL, 0,
                                     NULL, 0, NULL, 0), REG_EQUOTAEXCEEDED);
    assert_int_equal(reg_watch_count(f->reg), before); /* nothing added by the refusals */
    assert_int_equal(reg_exists(f->reg, 0, "/y", 2, NULL), REG_ENONODE); /* another watcher */
    mk(f, "/x"); /* fires and frees the exists watch on /x */
    assert_int_equal(reg_exists(f->reg, 0, "/y", 1, NULL), REG_ENONODE);
    mk(f, "/y");
    assert_int_equal(fx_count_ev(f, 1), 2); /* /x, then /y: its watch was set */
    reg_watcher_drop(f->reg, 1);
    assert_int_equal(reg_exists(f->reg, 0, "/q1", 1, NULL), REG_ENONODE);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_data_watch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exists_watch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_child_watch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_and_dedup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_persistent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recursive_child_half, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recursive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_watches, setup, teardown),
        cmocka_unit_test(test_watch_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
