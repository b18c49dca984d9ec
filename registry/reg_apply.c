/*
 * reg_apply.c - stage 3: applying a txn's records to the tree.
 *
 * This is DataTree.processTxn for one record: createNode, deleteNode,
 * setData, setACL, and the session records. Each change fires its watches
 * in ZooKeeper's order (the node's data watches, then for a delete its
 * child watches with the already notified suppressed, then the parent's
 * child watches), updates the subtree zxids up the ancestor chain and
 * reports the change to reg_hooks.on_change.
 *
 * Records from our own pipeline always apply cleanly. Records replayed from
 * a log are applied with the same tolerance as ZooKeeper's: a missing node
 * or an existing one is an error result, never a crash. What the snapshot
 * reader would refuse (a child under an ephemeral) is refused here too, so
 * that whatever recovery accepts can be snapshotted and read back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reg_internal.h"

static void changed(reg_t *reg, int type, const char *path, int64_t zxid)
{
    if (reg->hooks.on_change)
        reg->hooks.on_change(reg->hooks.ctx, type, path, zxid);
}

/* Fires the parent's child watches; path[0..plen) is the parent. */
static void fire_parent(reg_t *reg, char *path, size_t plen, int64_t zxid)
{
    char saved = path[plen];
    path[plen] = '\0';
    reg__watch_fire_child(reg, path, REG_EVENT_CHILDREN, zxid, 0);
    path[plen] = saved;
}

/* ---- create ------------------------------------------------------------------ */

int reg__link_kind(reg_t *reg, reg_node *n)
{
    if (n->kind == REG__CONTAINER || n->kind == REG__TTL) {
        reg__gc_link(reg, n);
        return 0;
    }
    if (n->kind != REG__EPHEMERAL)
        return 0;
    int64_t owner = reg__ext(n)->owner;
    struct reg__session *s = reg__sess_find(reg, owner);
    /* A replayed ephemeral of a session we do not know: keep it under a
     * stand-in that reg_recover_finish reports for closing. */
    if (!s && !(s = reg__sess_new(reg, owner, 0, REG__S_ORPHAN, NULL, 0)))
        return -ENOMEM;
    reg__sess_link_eph(reg, s, n);
    return 0;
}

static reg_node *new_node(reg_t *reg, const reg_txn *t, const struct reg__rec *r,
                          const char *name, size_t nlen)
{
    int kind = r->nkind <= REG__TTL ? r->nkind : REG__PERSISTENT;
    reg_node *n = reg__node_new(reg, name, nlen, kind, r->owner);
    uint32_t aid;
    if (!n)
        return NULL;
    if (reg__node_set_data(reg, n, r->data, r->data_len,
                           (r->flags & REG__RF_NULL_DATA) != 0) < 0 ||
        reg__acl_intern(reg, r->acl.e, r->acl.n, &aid) < 0) {
        reg__node_free(reg, n);
        return NULL;
    }
    n->acl = aid;
    n->czxid = n->mzxid = t->zxid;
    n->ctime = n->mtime = t->time;
    return n;
}

static int apply_create(reg_t *reg, const reg_txn *t, struct reg__rec *r,
                        reg_stat *st)
{
    size_t len = strlen(r->path), plen = reg__parent_len(r->path, len);
    reg_node *parent = plen ? reg__lookup_n(reg, r->path, plen) : NULL;
    const char *name = r->path + (plen == 1 ? 1 : plen + 1);
    size_t nlen = len - (size_t)(name - r->path);
    if (!parent)
        return plen ? REG_ENONODE : REG_ENODEEXISTS;
    if (nlen == 0 || (r->acl.n == 0))
        return REG_EBADARGUMENTS;
    /* reg_prepare never makes this record; a log that holds one is refused
     * here, or the next snapshot would hold a tree its reader rejects */
    if (parent->kind == REG__EPHEMERAL)
        return REG_ENOCHILDRENFOREPHEMERALS;
    struct reg__dir *pd = reg__node_dir(reg, parent);
    if (!pd)
        return -ENOMEM;
    bool exists = reg__avl_find(pd->root, name, nlen) != NULL;
    if (r->num > pd->cversion) {
        pd->cversion = r->num; /* also on NODEEXISTS, as processTxn does */
        pd->pzxid = t->zxid;
    }
    if (exists)
        return REG_ENODEEXISTS;
    reg_node *n = new_node(reg, t, r, name, nlen);
    if (!n || reg__node_link(reg, parent, n) < 0 || reg__link_kind(reg, n) < 0) {
        if (n && n->parent)
            reg__node_unlink(reg, n);
        if (n)
            reg__node_free(reg, n);
        return -ENOMEM;
    }
    reg__touch_ancestors(parent, t->zxid);
    if (st)
        reg__stat_fill(n, st);
    reg__watch_fire_data(reg, r->path, REG_EVENT_CREATED, t->zxid);
    fire_parent(reg, r->path, plen, t->zxid);
    changed(reg, REG_EVENT_CREATED, r->path, t->zxid);
    return 0;
}

/* ---- delete ------------------------------------------------------------------ */

static void unlink_kind(reg_t *reg, reg_node *n)
{
    if (n->kind == REG__CONTAINER || n->kind == REG__TTL) {
        reg__gc_unlink(reg, n);
    } else if (n->kind == REG__EPHEMERAL) {
        struct reg__session *s = reg__sess_find(reg, reg__ext(n)->owner);
        if (s)
            reg__sess_unlink_eph(reg, s, n);
    }
}

void reg__apply_delete_node(reg_t *reg, reg_node *n, char *path, int64_t zxid)
{
    reg_node *parent = n->parent;
    unlink_kind(reg, n);
    reg__node_unlink(reg, n);
    if (zxid > parent->dir->pzxid)
        parent->dir->pzxid = zxid;
    reg__touch_ancestors(parent, zxid);
    reg__node_free(reg, n);
    uint64_t stamp = reg__watch_fire_data(reg, path, REG_EVENT_DELETED, zxid);
    reg__watch_fire_child(reg, path, REG_EVENT_DELETED, zxid, stamp);
    fire_parent(reg, path, reg__parent_len(path, strlen(path)), zxid);
    changed(reg, REG_EVENT_DELETED, path, zxid);
}

static int apply_delete(reg_t *reg, const reg_txn *t, struct reg__rec *r)
{
    reg_node *n = reg__lookup(reg, r->path);
    if (!n)
        return REG_ENONODE;
    if (!n->parent || reg__path_special(r->path))
        return REG_EBADARGUMENTS;
    if (reg__nkids(n) > 0)
        return REG_ENOTEMPTY;
    reg__apply_delete_node(reg, n, r->path, t->zxid);
    return 0;
}

/* ---- setData, setACL ---------------------------------------------------------- */

static int apply_set_data(reg_t *reg, const reg_txn *t, struct reg__rec *r,
                          reg_stat *st)
{
    reg_node *n = reg__lookup(reg, r->path);
    if (!n)
        return REG_ENONODE;
    if (reg__node_set_data(reg, n, r->data, r->data_len,
                           (r->flags & REG__RF_NULL_DATA) != 0) < 0)
        return -ENOMEM;
    n->mtime = t->time;
    n->mzxid = t->zxid;
    n->version = r->num;
    reg__touch_ancestors(n->parent, t->zxid);
    if (st)
        reg__stat_fill(n, st);
    reg__watch_fire_data(reg, r->path, REG_EVENT_CHANGED, t->zxid);
    changed(reg, REG_EVENT_CHANGED, r->path, t->zxid);
    return 0;
}

static int apply_set_acl(reg_t *reg, struct reg__rec *r, reg_stat *st)
{
    reg_node *n = reg__lookup(reg, r->path);
    uint32_t aid;
    if (!n)
        return REG_ENONODE;
    if (r->acl.n == 0)
        return REG_EBADARGUMENTS;
    if (reg__acl_intern(reg, r->acl.e, r->acl.n, &aid) < 0)
        return -ENOMEM;
    reg__acl_unref(reg, n->acl);
    n->acl = aid;
    n->aversion = r->num;
    if (st)
        reg__stat_fill(n, st);
    return 0;
}

/* ---- sessions ------------------------------------------------------------------ */

static int apply_create_session(reg_t *reg, const reg_txn *t,
                                const struct reg__rec *r)
{
    struct reg__session *s = reg__sess_find(reg, t->session);
    uint32_t flags = r->sflags & REG__S_LOCAL;
    if (!s && !(s = reg__sess_new(reg, t->session, r->timeout, flags, r->passwd,
                                  t->time)))
        return -ENOMEM;
    if (s->flags & REG__S_ORPHAN) {
        /* Replay met its ephemerals first (a snapshot taken mid-pipeline). */
        s->timeout = r->timeout;
        memcpy(s->passwd, r->passwd, sizeof(s->passwd));
        s->flags = (s->flags & ~(uint32_t)REG__S_ORPHAN) | flags;
        reg__sess_set_closing(reg, s, false);
    }
    if (!(s->flags & REG__S_COMMITTED)) {
        s->flags |= REG__S_COMMITTED;
        reg->nsessions++;
    }
    return 0;
}

static void delete_path(reg_t *reg, char *path, int64_t zxid)
{
    reg_node *n = reg__lookup(reg, path);
    if (n && n->parent && reg__nkids(n) == 0 && !reg__path_special(path))
        reg__apply_delete_node(reg, n, path, zxid);
}

static int apply_close_session(reg_t *reg, const reg_txn *t,
                               const struct reg__rec *r)
{
    for (uint32_t i = 0; i < r->npaths; i++)
        delete_path(reg, r->paths[i], t->zxid);
    struct reg__session *s = reg__sess_find(reg, t->session);
    if (!s)
        return 0;
    /* Ephemerals the txn did not list (DataTree.killSession's "extra" ones). */
    while (s->eph) {
        reg_node *n = s->eph;
        char *path = reg__node_path_dup(n);
        if (!path)
            return -ENOMEM;
        if (reg__nkids(n) > 0)
            reg__sess_unlink_eph(reg, s, n);
        else
            reg__apply_delete_node(reg, n, path, t->zxid);
        free(path);
    }
    reg__sess_delete(reg, s);
    return 0;
}

int reg__apply(reg_t *reg, const reg_txn *t, struct reg__rec *r, reg_stat *st)
{
    switch (r->kind) {
    case REG__R_CREATE: return apply_create(reg, t, r, st);
    case REG__R_DELETE: return apply_delete(reg, t, r);
    case REG__R_SET_DATA: return apply_set_data(reg, t, r, st);
    case REG__R_SET_ACL: return apply_set_acl(reg, r, st);
    case REG__R_CHECK: return reg__lookup(reg, r->path) ? 0 : REG_ENONODE;
    case REG__R_ERROR: return r->num;
    case REG__R_CREATE_SESSION: return apply_create_session(reg, t, r);
    case REG__R_CLOSE_SESSION: return apply_close_session(reg, t, r);
    default: return REG_EBADARGUMENTS;
    }
}
