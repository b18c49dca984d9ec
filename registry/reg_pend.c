/*
 * reg_pend.c - the pipeline's view of paths: committed tree plus pending txns.
 *
 * This is ZooKeeper's outstandingChangesForPath. reg_prepare asks
 * reg__pend_get for the state of a path (exists, versions, child count,
 * owner, ACL) and records its own effects with reg__pend_mut, so a write
 * prepared behind uncommitted ones sees them (create then create a child,
 * delete then NODEEXISTS checks, sequence numbers).
 *
 * The overlay is a hash of path -> state. Every first change of a path by a
 * txn pushes an undo entry holding the previous state onto a ring (oldest
 * txn's entries at the head). Aborting the newest txn, or a failed multi,
 * pops entries back to a mark and restores; committing the oldest txn
 * drops its entries and the paths it was the last to touch, since the tree
 * now says the same. States in the overlay and in undo entries each hold a
 * reference on their interned ACL.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reg_internal.h"

struct prec {
    reg__hlink h;
    struct reg__pstate st;
    size_t len;
    char path[];
};

struct reg__undo {
    struct prec *rec;
    struct reg__pstate prev;
};

int reg__pend_init(reg_t *reg)
{
    return reg__htab_init(&reg->overlay);
}

static void prec_free(reg_t *reg, struct prec *r)
{
    reg__htab_remove(&reg->overlay, &r->h);
    reg__acl_unref(reg, r->st.acl);
    free(r);
}

void reg__pend_fini(reg_t *reg)
{
    for (uint64_t i = reg->undo_head; i < reg->undo_tail; i++)
        reg__acl_unref(reg, reg->undo[i & (reg->undo_cap - 1)].prev.acl);
    free(reg->undo);
    reg->undo = NULL;
    reg->undo_cap = 0;
    reg->undo_head = reg->undo_tail = 0;
    size_t pos = 0;
    reg__hlink *l = reg__htab_next(&reg->overlay, &pos, NULL);
    while (l) {
        reg__hlink *next = reg__htab_next(&reg->overlay, &pos, l);
        struct prec *r = REG__CONTAINER_OF(l, struct prec, h);
        reg__acl_unref(reg, r->st.acl);
        free(r);
        l = next;
    }
    reg__htab_free(&reg->overlay);
}

static struct prec *prec_find(const reg_t *reg, const char *path, size_t len)
{
    uint64_t h = reg__hash_bytes(path, len);
    for (reg__hlink *l = reg__htab_chain(&reg->overlay, h); l; l = l->next) {
        struct prec *r = REG__CONTAINER_OF(l, struct prec, h);
        if (l->hash == h && r->len == len && memcmp(r->path, path, len) == 0)
            return r;
    }
    return NULL;
}

static void from_tree(const reg_t *reg, const char *path, size_t len,
                      struct reg__pstate *st)
{
    const reg_node *n = reg__lookup_n(reg, path, len);
    memset(st, 0, sizeof(*st));
    st->acl = REG__ACL_OPEN;
    if (!n)
        return;
    st->exists = 1;
    st->kind = n->kind;
    st->owner = n->kind == REG__EPHEMERAL ? reg__ext(n)->owner : 0;
    st->version = n->version;
    st->cversion = reg__cversion(n);
    st->aversion = n->aversion;
    st->nkids = reg__nkids(n);
    st->acl = n->acl;
}

bool reg__pend_get(const reg_t *reg, const char *path, size_t len,
                   struct reg__pstate *st)
{
    const struct prec *r = prec_find(reg, path, len);
    if (r)
        *st = r->st;
    else
        from_tree(reg, path, len, st);
    return st->exists;
}

static int undo_grow(reg_t *reg)
{
    size_t ncap = reg->undo_cap ? reg->undo_cap * 2 : 64;
    struct reg__undo *nu = malloc(ncap * sizeof(*nu));
    if (!nu)
        return -ENOMEM;
    size_t k = 0;
    for (uint64_t i = reg->undo_head; i < reg->undo_tail; i++)
        nu[k++] = reg->undo[i & (reg->undo_cap - 1)];
    free(reg->undo);
    reg->undo = nu;
    reg->undo_cap = ncap;
    reg->undo_tail -= reg->undo_head;
    reg->undo_head = 0;
    return 0;
}

static struct prec *prec_new(reg_t *reg, const char *path, size_t len)
{
    struct prec *r = malloc(sizeof(*r) + len + 1);
    if (!r)
        return NULL;
    memcpy(r->path, path, len);
    r->path[len] = '\0';
    r->len = len;
    from_tree(reg, path, len, &r->st);
    reg__acl_ref(reg, r->st.acl);
    reg__htab_insert(&reg->overlay, &r->h, reg__hash_bytes(path, len));
    return r;
}

struct reg__pstate *reg__pend_mut(reg_t *reg, const char *path, size_t len,
                                  int64_t zxid)
{
    struct prec *r = prec_find(reg, path, len);
    bool fresh = !r;
    if (fresh && !(r = prec_new(reg, path, len)))
        return NULL;
    if (r->st.zxid == zxid)
        return &r->st;
    if (reg->undo_tail - reg->undo_head == reg->undo_cap && undo_grow(reg) < 0) {
        if (fresh)
            prec_free(reg, r);
        return NULL;
    }
    struct reg__undo *u = &reg->undo[reg->undo_tail++ & (reg->undo_cap - 1)];
    u->rec = r;
    u->prev = r->st;
    reg__acl_ref(reg, r->st.acl);
    r->st.zxid = zxid;
    return &r->st;
}

void reg__pend_set_acl(reg_t *reg, struct reg__pstate *st, uint32_t acl)
{
    reg__acl_ref(reg, acl);
    reg__acl_unref(reg, st->acl);
    st->acl = acl;
}

uint64_t reg__pend_mark(const reg_t *reg)
{
    return reg->undo_tail;
}

void reg__pend_rollback(reg_t *reg, uint64_t mark)
{
    while (reg->undo_tail > mark) {
        struct reg__undo *u = &reg->undo[--reg->undo_tail & (reg->undo_cap - 1)];
        struct prec *r = u->rec;
        reg__acl_unref(reg, r->st.acl);
        r->st = u->prev; /* takes over the undo entry's reference */
        if (r->st.zxid <= reg->last_zxid)
            prec_free(reg, r);
    }
}

void reg__pend_commit(reg_t *reg, uint64_t upto, int64_t zxid)
{
    while (reg->undo_head < upto && reg->undo_head < reg->undo_tail) {
        struct reg__undo *u = &reg->undo[reg->undo_head++ & (reg->undo_cap - 1)];
        reg__acl_unref(reg, u->prev.acl);
        if (u->rec->st.zxid == zxid)
            prec_free(reg, u->rec);
    }
}
