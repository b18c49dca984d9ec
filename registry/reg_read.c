/*
 * reg_read.c - reads and setWatches, as FinalRequestProcessor serves them.
 *
 * Reads see the committed tree only. Each checks the session (a closing or
 * unknown one gets SESSIONEXPIRED), then the node and its ACL in
 * ZooKeeper's order: getData, getChildren, getAllChildrenNumber need READ;
 * exists checks no ACL and leaves its watch before looking (so a missing
 * node gets an exists watch); getACL needs READ or ADMIN and, without
 * ADMIN, shows digest ids as "user:x". A watch is left only when the read
 * succeeds, except for exists.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reg_internal.h"

static int target(reg_t *reg, int64_t session, const char *path, int32_t perm,
                  reg_node **out)
{
    if (!path)
        return -EINVAL;
    if (!reg__sess_live(reg, session))
        return REG_ESESSIONEXPIRED;
    *out = reg__lookup(reg, path);
    if (!*out)
        return REG_ENONODE;
    return perm ? reg__acl_check(reg, session, (*out)->acl, perm) : 0;
}

int reg_get(reg_t *reg, int64_t session, const char *path, uint64_t watcher,
            const void **data, size_t *len, reg_stat *st)
{
    reg_node *n;
    int rc = target(reg, session, path, REG_PERM_READ, &n);
    if (rc == 0 && watcher)
        rc = reg__watch_set(reg, watcher, path, REG__W_DATA);
    if (rc)
        return rc;
    if (data)
        *data = n->data ? (const void *)n->data
                : n->null_data ? NULL : (const void *)"";
    if (len)
        *len = n->data_len;
    if (st)
        reg__stat_fill(n, st);
    return 0;
}

int reg_exists(reg_t *reg, int64_t session, const char *path, uint64_t watcher,
               reg_stat *st)
{
    if (!path)
        return -EINVAL;
    if (!reg__sess_live(reg, session))
        return REG_ESESSIONEXPIRED;
    if (watcher) {
        int rc = reg__watch_set(reg, watcher, path, REG__W_DATA);
        if (rc)
            return rc;
    }
    reg_node *n = reg__lookup(reg, path);
    if (!n)
        return REG_ENONODE;
    if (st)
        reg__stat_fill(n, st);
    return 0;
}

int reg_children(reg_t *reg, int64_t session, const char *path, uint64_t watcher,
                 reg_stat *st, void (*fn)(void *ctx, const char *name, size_t len),
                 void *ctx)
{
    reg_node *n;
    int rc = target(reg, session, path, REG_PERM_READ, &n);
    if (rc == 0 && watcher)
        rc = reg__watch_set(reg, watcher, path, REG__W_CHILD);
    if (rc)
        return rc;
    if (st)
        reg__stat_fill(n, st);
    if (!fn || !n->dir)
        return 0;
    reg__avl_iter it;
    reg__avl_iter_init(&it, n->dir->root);
    for (reg_node *c; (c = reg__avl_iter_next(&it));)
        fn(ctx, c->name, c->name_len);
    return 0;
}

int reg_all_children_number(reg_t *reg, int64_t session, const char *path,
                            int32_t *count)
{
    reg_node *n;
    int rc = target(reg, session, path, REG_PERM_READ, &n);
    if (rc)
        return rc;
    if (count)
        *count = n->dir ? (int32_t)n->dir->ndesc : 0; /* jute int, as ZooKeeper's */
    return 0;
}

static int emit_acl(const struct reg__ace *e, bool redact,
                    void (*fn)(void *ctx, const reg_acl *acl), void *ctx)
{
    reg_acl a = {e->perms, e->scheme, e->id};
    const char *colon = strchr(e->id, ':');
    char *tmp = NULL;
    if (redact && colon && strcmp(e->scheme, "digest") == 0) {
        size_t keep = (size_t)(colon - e->id);
        if (!(tmp = malloc(keep + 3)))
            return -ENOMEM;
        memcpy(tmp, e->id, keep);
        memcpy(tmp + keep, ":x", 3);
        a.id = tmp;
    }
    fn(ctx, &a);
    free(tmp);
    return 0;
}

int reg_get_acl(reg_t *reg, int64_t session, const char *path, reg_stat *st,
                void (*fn)(void *ctx, const reg_acl *acl), void *ctx)
{
    reg_node *n;
    int rc = target(reg, session, path, REG_PERM_READ | REG_PERM_ADMIN, &n);
    if (rc)
        return rc;
    if (st)
        reg__stat_fill(n, st);
    bool redact = reg__acl_check(reg, session, n->acl, REG_PERM_ADMIN) != 0;
    const struct reg__acl *a = reg__acl_get(reg, n->acl);
    for (uint32_t i = 0; fn && a && i < a->n && rc == 0; i++)
        rc = emit_acl(&a->e[i], redact, fn, ctx);
    return rc;
}

/* ---- setWatches ----------------------------------------------------------------- */

/* ZooKeeper sends these events without a zxid (WatchedEvent.NO_ZXID). */
#define NO_ZXID (-1)

static int rearm(reg_t *reg, uint64_t w, int64_t rel, const char *path,
                 unsigned kind)
{
    const reg_node *n = reg__lookup(reg, path);
    if (!n) {
        reg__emit(reg, w, REG_EVENT_DELETED, path, NO_ZXID);
        return 0;
    }
    int64_t z = kind == REG__W_DATA ? n->mzxid : reg__pzxid(n);
    if (z > rel) {
        int type = kind == REG__W_DATA ? REG_EVENT_CHANGED : REG_EVENT_CHILDREN;
        reg__emit(reg, w, type, path, NO_ZXID);
        return 0;
    }
    return reg__watch_set(reg, w, path, kind);
}

static int rearm_exist(reg_t *reg, uint64_t w, const char *path)
{
    if (reg__lookup(reg, path)) {
        reg__emit(reg, w, REG_EVENT_CREATED, path, NO_ZXID);
        return 0;
    }
    return reg__watch_set(reg, w, path, REG__W_DATA);
}

int reg_set_watches(reg_t *reg, uint64_t watcher, int64_t rel_zxid,
                    const char *const *data, size_t ndata,
                    const char *const *exist, size_t nexist,
                    const char *const *child, size_t nchild,
                    const char *const *persistent, size_t npersistent,
                    const char *const *recursive, size_t nrecursive)
{
    int rc = 0;
    for (size_t i = 0; i < ndata && rc == 0; i++)
        rc = data[i] ? rearm(reg, watcher, rel_zxid, data[i], REG__W_DATA) : -EINVAL;
    for (size_t i = 0; i < nexist && rc == 0; i++)
        rc = exist[i] ? rearm_exist(reg, watcher, exist[i]) : -EINVAL;
    for (size_t i = 0; i < nchild && rc == 0; i++)
        rc = child[i] ? rearm(reg, watcher, rel_zxid, child[i], REG__W_CHILD) : -EINVAL;
    for (size_t i = 0; i < npersistent && rc == 0; i++)
        rc = reg_watch_add(reg, watcher, persistent[i], REG_WATCH_PERSISTENT);
    for (size_t i = 0; i < nrecursive && rc == 0; i++)
        rc = reg_watch_add(reg, watcher, recursive[i], REG_WATCH_PERSISTENT_RECURSIVE);
    return rc;
}
