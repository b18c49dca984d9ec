/*
 * reg_snapshot.c - the committed state as a stream of bytes, and back.
 *
 * Format (little-endian), version 3:
 *   "ZKREGSNP", u32 version, i64 last zxid
 *   u32 n ACLs:      u32 id, u32 n, n x (i32 perms, str scheme, str id)
 *   u32 n sessions:  i64 id, i64 timeout, u32 flags, 16 bytes password
 *   nodes in pre-order, from the root: blob name ("" for the root), u8 kind
 *     (bit 7: the data is ZooKeeper's null; the blob is then empty),
 *     i64 owner, i64 czxid, mzxid, pzxid, ctime, mtime, i32 version,
 *     cversion, aversion, u32 ACL id, blob data, u32 number of children
 *   i64 node count, i64 CRC32C of every byte before it.
 * Version 2 is the same with an FNV-1a hash instead (8 times slower to
 * compute here), version 1 also without null data; both are still read.
 *
 * Writing walks the tree without recursion (parent links and sibling
 * search) through a 64 KiB buffer. Reading builds a complete new registry
 * on the side and swaps it in only when everything checked out: names are
 * valid and unique per parent, paths stay bounded, ACL ids resolve,
 * ephemerals have no children, counts and the hash match. Sessions
 * referenced by ephemerals but absent get stand-ins (reg_recover_finish
 * reports them). Subtree zxids are rebuilt as nodes complete.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reg_internal.h"

#define SNAP_MAGIC "ZKREGSNP"
#define SNAP_VERSION 3u
#define SNAP_VERSION_FNV 2u /* read only: FNV-1a hash */
#define SNAP_VERSION_OLD 1u /* read only: no null data */
#define KIND_NULL_DATA 0x80u
#define MAX_NAME 65535u
#define MAX_PATH_TOTAL (1u << 16)
#define MAX_DATA (1u << 30)
/* Distinct ACL lists: one per node at most, so no bound below the writer's
 * u32 (the id map grows as entries arrive, not by the count). */
#define MAX_ACLS UINT32_MAX

/* ---- write ------------------------------------------------------------------- */

static void put_acls(struct reg__wr *w, const reg_t *reg)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < reg->nacl_slots; i++)
        n += reg->acls[i] != NULL;
    reg__wr_u32(w, n);
    for (uint32_t i = 0; i < reg->nacl_slots; i++) {
        const struct reg__acl *a = reg->acls[i];
        if (!a)
            continue;
        reg__wr_u32(w, i);
        reg__wr_u32(w, a->n);
        for (uint32_t j = 0; j < a->n; j++) {
            reg__wr_u32(w, (uint32_t)a->e[j].perms);
            reg__wr_str(w, a->e[j].scheme);
            reg__wr_str(w, a->e[j].id);
        }
    }
}

static bool snap_session(const struct reg__session *s)
{
    return (s->flags & REG__S_COMMITTED) && !(s->flags & REG__S_ORPHAN);
}

static void put_sessions(struct reg__wr *w, const reg_t *reg)
{
    size_t pos = 0;
    uint32_t n = 0;
    for (reg__hlink *l = reg__htab_next(&reg->sessions, &pos, NULL); l;
         l = reg__htab_next(&reg->sessions, &pos, l))
        n += snap_session(REG__CONTAINER_OF(l, struct reg__session, h));
    reg__wr_u32(w, n);
    pos = 0;
    for (reg__hlink *l = reg__htab_next(&reg->sessions, &pos, NULL); l;
         l = reg__htab_next(&reg->sessions, &pos, l)) {
        const struct reg__session *s = REG__CONTAINER_OF(l, struct reg__session, h);
        if (!snap_session(s))
            continue;
        reg__wr_i64(w, s->id);
        reg__wr_i64(w, s->timeout);
        reg__wr_u32(w, s->flags & REG__S_LOCAL);
        reg__wr_bytes(w, s->passwd, sizeof(s->passwd));
    }
}

static void put_node(struct reg__wr *w, const reg_node *n)
{
    reg__wr_blob(w, n->name, n->name_len);
    reg__wr_u8(w, (uint8_t)(n->kind | (n->null_data ? KIND_NULL_DATA : 0u)));
    reg__wr_i64(w, reg__node_owner(n));
    reg__wr_i64(w, n->czxid);
    reg__wr_i64(w, n->mzxid);
    reg__wr_i64(w, reg__pzxid(n));
    reg__wr_i64(w, n->ctime);
    reg__wr_i64(w, n->mtime);
    reg__wr_u32(w, (uint32_t)n->version);
    reg__wr_u32(w, (uint32_t)reg__cversion(n));
    reg__wr_u32(w, (uint32_t)n->aversion);
    reg__wr_u32(w, n->acl);
    reg__wr_blob(w, n->data, n->data_len);
    reg__wr_u32(w, (uint32_t)reg__nkids(n));
}

static int64_t put_tree(struct reg__wr *w, const reg_t *reg)
{
    int64_t count = 0;
    const reg_node *cur = reg->root;
    while (cur && !w->err) {
        put_node(w, cur);
        count++;
        const reg_node *next = reg_node_first_child(cur);
        if (next) {
            cur = next;
            continue;
        }
        while (cur && !(next = reg_node_next_sibling(cur)))
            cur = cur->parent;
        cur = next;
    }
    return count;
}

int reg_snapshot_write(const reg_t *reg,
                       int (*write)(void *ctx, const void *p, size_t n), void *ctx)
{
    struct reg__wr w;
    if (!reg || !write)
        return -EINVAL;
    reg__wr_init(&w, write, ctx);
    reg__wr_bytes(&w, SNAP_MAGIC, 8);
    reg__wr_u32(&w, SNAP_VERSION);
    reg__wr_i64(&w, reg->last_zxid);
    put_acls(&w, reg);
    put_sessions(&w, reg);
    int64_t count = put_tree(&w, reg);
    reg__wr_i64(&w, count);
    reg__wr_i64(&w, (int64_t)reg__wr_crc(&w));
    int rc = reg__wr_flush(&w);
    reg__wr_free(&w);
    return rc;
}

/* ---- read -------------------------------------------------------------------- */

struct idmap {
    uint32_t file, mine;
};

struct level {
    reg_node *node;
    uint32_t left; /* children still to read */
    size_t pathlen;
};

struct loader {
    reg_t *reg; /* the registry being built */
    struct reg__rd *rd;
    struct idmap *ids;
    uint32_t nids;
    struct level *stk;
    size_t depth, cap;
    int64_t count;
    uint32_t version;
};

static int id_cmp(const void *a, const void *b)
{
    const struct idmap *x = a, *y = b;
    return (x->file > y->file) - (x->file < y->file);
}

static void get_acl_entry(struct loader *L, struct reg__acl_list *l)
{
    uint32_t n = reg__rd_count(L->rd, 12, 65535);
    if (n == 0 || !(l->e = calloc(n, sizeof(*l->e)))) {
        reg__rd_fail(L->rd);
        return;
    }
    for (uint32_t i = 0; i < n && !L->rd->err; i++) {
        l->n = i + 1;
        l->e[i].perms = reg__rd_i32(L->rd);
        l->e[i].scheme = reg__rd_str(L->rd, REG__MAX_ACL_STR);
        l->e[i].id = reg__rd_str(L->rd, REG__MAX_ACL_STR);
    }
}

/* Room for entry i of the id map; grown as entries really arrive, so a
 * hostile count costs nothing up front. */
static bool ids_room(struct loader *L, uint32_t i, uint32_t *cap)
{
    if (i < *cap)
        return true;
    uint32_t ncap = *cap ? *cap * 2 : 64;
    struct idmap *n = realloc(L->ids, (size_t)ncap * sizeof(*n));
    if (!n) {
        L->rd->err = -ENOMEM;
        return false;
    }
    L->ids = n;
    *cap = ncap;
    return true;
}

static void get_acls(struct loader *L)
{
    uint32_t n = reg__rd_count(L->rd, 16, MAX_ACLS), cap = 0;
    for (uint32_t i = 0; i < n && !L->rd->err && ids_room(L, i, &cap); i++) {
        struct reg__acl_list l = {0};
        L->ids[i].file = reg__rd_u32(L->rd);
        get_acl_entry(L, &l);
        if (!L->rd->err && reg__acl_intern(L->reg, l.e, l.n, &L->ids[i].mine) < 0)
            L->rd->err = -ENOMEM;
        if (!L->rd->err)
            L->nids = i + 1;
        reg__acl_list_free(&l);
    }
    if (L->nids > 1)
        qsort(L->ids, L->nids, sizeof(*L->ids), id_cmp);
    for (uint32_t i = 1; i < L->nids; i++)
        if (L->ids[i].file == L->ids[i - 1].file)
            reg__rd_fail(L->rd);
}

static bool map_acl(const struct loader *L, uint32_t file, uint32_t *mine)
{
    struct idmap key = {file, 0};
    if (L->nids == 0)
        return false;
    const struct idmap *m = bsearch(&key, L->ids, L->nids, sizeof(*L->ids), id_cmp);
    if (m)
        *mine = m->mine;
    return m != NULL;
}

static void get_sessions(struct loader *L)
{
    uint32_t n = reg__rd_count(L->rd, 36, UINT32_MAX);
    for (uint32_t i = 0; i < n && !L->rd->err; i++) {
        uint8_t pw[16];
        int64_t id = reg__rd_i64(L->rd), timeout = reg__rd_i64(L->rd);
        uint32_t flags = reg__rd_u32(L->rd) & REG__S_LOCAL;
        reg__rd_bytes(L->rd, pw, sizeof(pw));
        if (L->rd->err)
            break;
        if (id == 0 || timeout < 0 || reg__sess_find(L->reg, id)) {
            reg__rd_fail(L->rd);
            break;
        }
        struct reg__session *s = reg__sess_new(L->reg, id, timeout, flags, pw, 0);
        if (!s) {
            L->rd->err = -ENOMEM;
            break;
        }
        s->flags |= REG__S_COMMITTED;
        L->reg->nsessions++;
    }
}

/* ---- nodes ----------------------------------------------------------------------- */

struct rawnode {
    uint8_t *name, *data;
    uint32_t nlen, dlen, acl, nkids;
    uint8_t kind;
    bool null_data;
    int64_t owner, czxid, mzxid, pzxid, ctime, mtime;
    int32_t version, cversion, aversion;
};

static void get_raw(struct reg__rd *r, struct rawnode *x, uint32_t version)
{
    x->name = reg__rd_blob(r, MAX_NAME, &x->nlen);
    x->kind = reg__rd_u8(r);
    if (version >= SNAP_VERSION_FNV && (x->kind & KIND_NULL_DATA)) {
        x->kind &= (uint8_t)~KIND_NULL_DATA;
        x->null_data = true;
    }
    x->owner = reg__rd_i64(r);
    x->czxid = reg__rd_i64(r);
    x->mzxid = reg__rd_i64(r);
    x->pzxid = reg__rd_i64(r);
    x->ctime = reg__rd_i64(r);
    x->mtime = reg__rd_i64(r);
    x->version = reg__rd_i32(r);
    x->cversion = reg__rd_i32(r);
    x->aversion = reg__rd_i32(r);
    x->acl = reg__rd_u32(r);
    x->data = reg__rd_blob(r, MAX_DATA, &x->dlen);
    x->nkids = reg__rd_u32(r);
}

static bool raw_ok(const struct loader *L, const struct rawnode *x)
{
    if (x->kind > REG__TTL || (x->null_data && x->dlen > 0))
        return false;
    if (x->kind == REG__EPHEMERAL && (x->owner == 0 || x->nkids > 0))
        return false;
    if (x->kind == REG__TTL && (x->owner <= 0 || x->owner > REG__TTL_MAX))
        return false;
    if (L->depth == 0)
        return x->nlen == 0 && x->kind == REG__PERSISTENT;
    return x->nlen > 0 && reg__name_ok((const char *)x->name, x->nlen);
}

/* Makes the node of x (taking its data); NULL with the error set. */
static reg_node *make_node(struct loader *L, struct rawnode *x)
{
    uint32_t acl;
    if (!raw_ok(L, x) || !map_acl(L, x->acl, &acl)) {
        reg__rd_fail(L->rd);
        return NULL;
    }
    int64_t owner = x->kind == REG__PERSISTENT || x->kind == REG__CONTAINER ? 0 : x->owner;
    reg_node *n = reg__node_new(L->reg, (const char *)x->name, x->nlen, x->kind, owner);
    if (!n) {
        L->rd->err = -ENOMEM;
        return NULL;
    }
    n->data = x->data;
    n->data_len = x->dlen;
    n->null_data = x->null_data;
    L->reg->mem += x->dlen;
    x->data = NULL;
    reg__acl_ref(L->reg, acl);
    n->acl = acl;
    n->czxid = x->czxid, n->mzxid = x->mzxid;
    n->ctime = x->ctime, n->mtime = x->mtime;
    n->version = x->version, n->aversion = x->aversion;
    if (x->pzxid != x->czxid || x->cversion != 0 || x->nkids > 0) {
        struct reg__dir *d = reg__node_dir(L->reg, n);
        if (!d) {
            reg__node_free(L->reg, n);
            L->rd->err = -ENOMEM;
            return NULL;
        }
        d->pzxid = x->pzxid;
        d->cversion = x->cversion;
    }
    return n;
}

/* A node whose children are all read: fold its subtree zxid upward. */
static void finish(reg_node *n)
{
    if (!n->parent)
        return;
    int64_t z = reg__subtree_zxid(n);
    struct reg__dir *d = n->parent->dir;
    if (d && d->subtree_zxid < z)
        d->subtree_zxid = z;
}

static int push(struct loader *L, reg_node *n, uint32_t nkids, size_t pathlen)
{
    if (L->depth == L->cap) {
        size_t ncap = L->cap ? L->cap * 2 : 64;
        struct level *ns = realloc(L->stk, ncap * sizeof(*ns));
        if (!ns)
            return -ENOMEM;
        L->stk = ns;
        L->cap = ncap;
    }
    L->stk[L->depth++] = (struct level){n, nkids, pathlen};
    return 0;
}

static int attach(struct loader *L, reg_node *n, size_t *pathlen)
{
    struct level *up = &L->stk[L->depth - 1];
    reg_node *p = up->node;
    *pathlen = (up->pathlen == 1 ? 1 : up->pathlen + 1) + n->name_len;
    if (*pathlen > MAX_PATH_TOTAL || (p->dir && reg__avl_find(p->dir->root, n->name, n->name_len)))
        return -EINVAL;
    int rc = reg__node_link(L->reg, p, n);
    if (rc == 0)
        rc = reg__link_kind(L->reg, n);
    up->left--;
    return rc;
}

static void get_node(struct loader *L)
{
    struct rawnode x = {0};
    size_t pathlen = 1;
    get_raw(L->rd, &x, L->version);
    reg_node *n = L->rd->err ? NULL : make_node(L, &x);
    free(x.name);
    free(x.data);
    if (!n)
        return;
    int rc = 0;
    if (L->depth == 0)
        L->reg->root = n;
    else if ((rc = attach(L, n, &pathlen)) < 0 && !n->parent)
        reg__node_free(L->reg, n);
    L->count++;
    if (rc == 0 && x.nkids > 0)
        rc = push(L, n, x.nkids, pathlen);
    else if (rc == 0)
        finish(n);
    while (rc == 0 && L->depth > 0 && L->stk[L->depth - 1].left == 0)
        finish(L->stk[--L->depth].node);
    if (rc)
        L->rd->err = rc;
}

static void get_tree(struct loader *L)
{
    do
        get_node(L);
    while (!L->rd->err && L->depth > 0);
    int64_t count = reg__rd_i64(L->rd);
    uint64_t hash = L->rd->hash;
    uint64_t want = (uint64_t)reg__rd_i64(L->rd);
    if (!L->rd->err && (count != L->count || hash != want))
        reg__rd_fail(L->rd);
}

static void get_all(struct loader *L)
{
    uint8_t head[12] = {0}; /* magic, u32 version */
    reg__rd_bytes(L->rd, head, sizeof head);
    L->version = (uint32_t)head[8] | (uint32_t)head[9] << 8 | (uint32_t)head[10] << 16 |
                 (uint32_t)head[11] << 24;
    if (memcmp(head, SNAP_MAGIC, 8) != 0 ||
        (L->version != SNAP_VERSION && L->version != SNAP_VERSION_FNV &&
         L->version != SNAP_VERSION_OLD))
        reg__rd_fail(L->rd);
    else if (L->version != SNAP_VERSION)
        reg__rd_use_fnv(L->rd, head, sizeof head);
    int64_t zxid = reg__rd_i64(L->rd);
    if (zxid < 0 || zxid == INT64_MAX) {
        reg__rd_fail(L->rd);
        zxid = 0; /* the registry is dropped; next_zxid must not overflow meanwhile */
    }
    L->reg->last_zxid = zxid;
    L->reg->next_zxid = zxid + 1;
    get_acls(L);
    get_sessions(L);
    reg__tree_free(L->reg, L->reg->root);
    L->reg->root = NULL;
    if (!L->rd->err)
        get_tree(L);
    for (uint32_t i = 0; i < L->nids; i++)
        reg__acl_unref(L->reg, L->ids[i].mine);
}

static void swap_in(reg_t *reg, reg_t *built)
{
    struct reg old = *reg;
    *reg = *built;
    reg->cfg = old.cfg;
    reg->hooks = old.hooks;
    *built = old;
}

int reg_snapshot_read(reg_t *reg, int (*read)(void *ctx, void *p, size_t n),
                      void *ctx)
{
    if (!reg || !read || reg->last_zxid != 0 || reg->npending || reg->sessions.len)
        return -EINVAL;
    struct reg__rd rd;
    struct loader L = {0};
    L.reg = reg_create(&reg->cfg, NULL);
    if (!L.reg)
        return -ENOMEM;
    L.rd = &rd;
    reg__rd_init(&rd, NULL, 0, read, ctx);
    get_all(&L);
    free(L.ids);
    free(L.stk);
    if (!rd.err && !L.reg->root)
        rd.err = -EINVAL;
    if (!rd.err)
        swap_in(reg, L.reg);
    reg_free(L.reg);
    return rd.err;
}
