/*
 * reg_tree.c - znodes: allocation, linking, lookup and stats.
 *
 * A znode is one malloc'd block: struct reg_node with its name inline, plus
 * a struct reg__ext in front for ephemeral, container and TTL nodes. There
 * is no per-node path string: a path is resolved component by component
 * through each parent's AVL of children, and rebuilt from parent links when
 * needed. Stats are stored as ZooKeeper's DataTree stores them (cversion
 * counts child creates) and translated when copied out, exactly as
 * DataNode.copyStat does: cversion*2 - numChildren, and ephemeralOwner 0
 * for containers and TTL nodes.
 *
 * Every node's dir (when it has children) keeps the newest zxid of its
 * subtree, updated along the ancestor chain on each commit, so
 * reg_subtree_zxid costs O(depth).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reg_internal.h"

static size_t node_bytes(int kind, size_t len)
{
    size_t ext = kind == REG__PERSISTENT ? 0 : sizeof(struct reg__ext);
    size_t node = offsetof(reg_node, name) + len + 1;
    /* never smaller than the struct itself (its tail padding), or the
     * object would be smaller than the type it is accessed as */
    if (node < sizeof(reg_node))
        node = sizeof(reg_node);
    return ext + node;
}

reg_node *reg__node_new(reg_t *reg, const char *name, size_t len, int kind,
                        int64_t owner)
{
    if (len > UINT16_MAX)
        return NULL;
    size_t bytes = node_bytes(kind, len);
    char *base = calloc(1, bytes);
    if (!base)
        return NULL;
    reg_node *n = (reg_node *)(void *)base;
    if (kind != REG__PERSISTENT) {
        n = (reg_node *)(void *)(base + sizeof(struct reg__ext));
        reg__ext(n)->owner = owner;
    }
    n->kind = (uint8_t)kind;
    n->name_len = (uint16_t)len;
    if (len)
        memcpy(n->name, name, len);
    n->name[len] = '\0';
    n->acl = REG__ACL_OPEN;
    reg->mem += bytes;
    reg->nnodes++;
    return n;
}

void reg__node_free(reg_t *reg, reg_node *n)
{
    reg->mem -= node_bytes(n->kind, n->name_len) + n->data_len;
    reg->nnodes--;
    reg__acl_unref(reg, n->acl);
    free(n->data);
    if (n->dir) {
        reg->mem -= sizeof(*n->dir);
        free(n->dir);
    }
    free(n->kind == REG__PERSISTENT ? (void *)n : (void *)reg__ext(n));
}

int reg__node_set_data(reg_t *reg, reg_node *n, const void *data, size_t len,
                       bool null)
{
    uint8_t *copy = NULL;
    if (len > UINT32_MAX || (null && len > 0))
        return -EINVAL;
    if (len > 0) {
        copy = malloc(len);
        if (!copy)
            return -ENOMEM;
        memcpy(copy, data, len);
    }
    reg->mem = reg->mem - n->data_len + len;
    free(n->data);
    n->data = copy;
    n->data_len = (uint32_t)len;
    n->null_data = null;
    return 0;
}

struct reg__dir *reg__node_dir(reg_t *reg, reg_node *n)
{
    if (!n->dir) {
        n->dir = calloc(1, sizeof(*n->dir));
        if (!n->dir)
            return NULL;
        n->dir->pzxid = n->czxid;
        reg->mem += sizeof(*n->dir);
    }
    return n->dir;
}

/* Adds delta to the descendant count of n and each of its ancestors, so
 * that getAllChildrenNumber is a read, not a walk of the subtree (which a
 * client could have the loop do for a million nodes per request). */
static void add_descendants(reg_node *n, int64_t delta)
{
    for (; n; n = n->parent)
        n->dir->ndesc += delta;
}

static int64_t subtree_size(const reg_node *n)
{
    return 1 + (n->dir ? n->dir->ndesc : 0);
}

int reg__node_link(reg_t *reg, reg_node *parent, reg_node *n)
{
    if (!reg__node_dir(reg, parent))
        return -ENOMEM;
    reg__avl_insert(&parent->dir->root, n);
    parent->dir->count++;
    n->parent = parent;
    add_descendants(parent, subtree_size(n));
    return 0;
}

void reg__node_unlink(reg_t *reg, reg_node *n)
{
    (void)reg;
    reg_node *p = n->parent;
    reg__avl_remove(&p->dir->root, n);
    p->dir->count--;
    add_descendants(p, -subtree_size(n));
    n->parent = NULL;
}

static reg_node *child(const reg_node *n, const char *name, size_t len)
{
    return n->dir ? reg__avl_find(n->dir->root, name, len) : NULL;
}

reg_node *reg__lookup_n(const reg_t *reg, const char *path, size_t len)
{
    if (len == 0 || path[0] != '/')
        return NULL;
    reg_node *n = reg->root;
    size_t i = 1;
    while (n && i < len) {
        const char *slash = memchr(path + i, '/', len - i);
        size_t end = slash ? (size_t)(slash - path) : len;
        n = child(n, path + i, end - i);
        if (slash && end + 1 == len)
            return NULL; /* trailing "/" */
        i = end + 1;
    }
    return n;
}

reg_node *reg__lookup(const reg_t *reg, const char *path)
{
    return path ? reg__lookup_n(reg, path, strlen(path)) : NULL;
}

int64_t reg__node_owner(const reg_node *n)
{
    return n->kind == REG__PERSISTENT ? 0 : reg__ext(n)->owner;
}

void reg__stat_fill(const reg_node *n, reg_stat *st)
{
    int32_t nk = reg__nkids(n);
    st->czxid = n->czxid;
    st->mzxid = n->mzxid;
    st->ctime = n->ctime;
    st->mtime = n->mtime;
    st->version = n->version;
    st->cversion = (int32_t)((uint32_t)reg__cversion(n) * 2u - (uint32_t)nk);
    st->aversion = n->aversion;
    st->ephemeral_owner = n->kind == REG__EPHEMERAL ? reg__ext(n)->owner : 0;
    st->data_length = (int32_t)n->data_len;
    st->num_children = nk;
    st->pzxid = reg__pzxid(n);
}

void reg__touch_ancestors(reg_node *from, int64_t zxid)
{
    for (reg_node *a = from; a; a = a->parent)
        if (a->dir && a->dir->subtree_zxid < zxid)
            a->dir->subtree_zxid = zxid;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

int64_t reg__subtree_zxid(const reg_node *n)
{
    int64_t z = max64(n->czxid, max64(n->mzxid, reg__pzxid(n)));
    return n->dir ? max64(z, n->dir->subtree_zxid) : z;
}

/* Detaches some child of dir in O(1) amortized, without rebalancing (the
 * tree is being destroyed): rotate right until the root has no left child. */
static reg_node *detach_any(struct reg__dir *d)
{
    reg_node *r = d->root;
    while (r->left) {
        reg_node *l = r->left;
        r->left = l->right;
        l->right = r;
        r = l;
    }
    d->root = r->right;
    return r;
}

void reg__tree_free(reg_t *reg, reg_node *top)
{
    reg_node *cur = top;
    while (cur) {
        if (cur->dir && cur->dir->root) {
            cur = detach_any(cur->dir);
            continue;
        }
        reg_node *up = cur == top ? NULL : cur->parent;
        reg__node_free(reg, cur);
        cur = up;
    }
}

static reg_node *add_child(reg_t *reg, reg_node *p, const char *name)
{
    reg_node *n = reg__node_new(reg, name, strlen(name), REG__PERSISTENT, 0);
    if (n && reg__node_link(reg, p, n) < 0) {
        reg__node_free(reg, n);
        return NULL;
    }
    return n;
}

reg_node *reg__tree_init(reg_t *reg)
{
    reg_node *root = reg__node_new(reg, "", 0, REG__PERSISTENT, 0);
    if (!root)
        return NULL;
    reg_node *zk = add_child(reg, root, "zookeeper");
    reg_node *cfg = zk ? add_child(reg, zk, "config") : NULL;
    if (!cfg || !add_child(reg, zk, "quota")) {
        reg__tree_free(reg, root);
        return NULL;
    }
    /* DataTree.addConfigNode: setACL(READ_ACL_UNSAFE, -1) sets aversion -1. */
    cfg->acl = REG__ACL_READ;
    cfg->aversion = -1;
    return root;
}

int reg__node_path(const reg_node *n, char *buf, size_t cap)
{
    size_t len = 0;
    for (const reg_node *a = n; a->parent; a = a->parent)
        len += (size_t)a->name_len + 1;
    if (len == 0)
        len = 1;
    if (len + 1 > cap)
        return -ENAMETOOLONG;
    buf[len] = '\0';
    buf[0] = '/';
    size_t end = len;
    for (const reg_node *a = n; a->parent; a = a->parent) {
        end -= a->name_len;
        memcpy(buf + end, a->name, a->name_len);
        buf[--end] = '/';
    }
    return (int)len;
}

char *reg__node_path_dup(const reg_node *n)
{
    size_t len = 1;
    for (const reg_node *a = n; a->parent; a = a->parent)
        len += (size_t)a->name_len + 1;
    char *buf = malloc(len + 1);
    if (buf && reg__node_path(n, buf, len + 1) < 0) {
        free(buf);
        return NULL;
    }
    return buf;
}
