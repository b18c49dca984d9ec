/*
 * reg_close.c - preparing CLOSE_SESSION: which ephemerals go with it.
 *
 * As PrepRequestProcessor does for closeSession, the list is the session's
 * committed ephemerals adjusted by the pipeline: ones a pending txn deletes
 * are dropped, ones a pending txn creates are added. We take the candidates
 * (committed ones in creation order, then pending creates in zxid order),
 * keep each that the pipeline's view says is still an ephemeral of this
 * session, drop duplicates, and record their deletion in the overlay. The
 * txn carries the final list (ZooKeeper's CloseSessionTxn), so replaying it
 * deletes exactly those paths.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reg_internal.h"

struct cand {
    reg__hlink h;
    char *path;
};

struct cands {
    struct cand *v;
    size_t n, cap;
};

static int cand_push(struct cands *c, char *path)
{
    if (!path)
        return -ENOMEM;
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 16;
        struct cand *nv = realloc(c->v, ncap * sizeof(*nv));
        if (!nv) {
            free(path);
            return -ENOMEM;
        }
        c->v = nv;
        c->cap = ncap;
    }
    c->v[c->n++].path = path;
    return 0;
}

static void cands_free(struct cands *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i].path);
    free(c->v);
}

static int gather(const reg_t *reg, const struct reg__session *s, struct cands *c)
{
    reg_node **v;
    int n = reg__sess_eph_sorted(s, &v), rc = n < 0 ? n : 0;
    for (int i = 0; rc == 0 && i < n; i++)
        rc = cand_push(c, reg__node_path_dup(v[i]));
    free(v);
    for (const reg_txn *t = reg->pend_head; rc == 0 && t; t = t->pnext) {
        for (uint32_t i = 0; rc == 0 && i < t->nrec; i++) {
            const struct reg__rec *r = &t->rec[i];
            if (r->kind == REG__R_CREATE && r->nkind == REG__EPHEMERAL &&
                r->owner == s->id)
                rc = cand_push(c, strdup(r->path));
        }
    }
    return rc;
}

static bool seen(reg__htab *set, struct cand *c)
{
    size_t len = strlen(c->path);
    uint64_t h = reg__hash_bytes(c->path, len);
    for (reg__hlink *l = reg__htab_chain(set, h); l; l = l->next)
        if (l->hash == h && strcmp(REG__CONTAINER_OF(l, struct cand, h)->path, c->path) == 0)
            return true;
    reg__htab_insert(set, &c->h, h);
    return false;
}

/* Moves the paths still owned by session s into rec, in order. */
static int keep(reg_t *reg, int64_t session, struct cands *c, struct reg__rec *r)
{
    reg__htab set;
    if (!(r->paths = calloc(c->n + 1, sizeof(char *))))
        return -ENOMEM;
    if (reg__htab_init(&set) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < c->n; i++) {
        struct reg__pstate st;
        const char *path = c->v[i].path;
        if (reg__pend_get(reg, path, strlen(path), &st) &&
            st.kind == REG__EPHEMERAL && st.owner == session && !seen(&set, &c->v[i]))
            r->paths[r->npaths++] = c->v[i].path;
    }
    reg__htab_free(&set);
    for (size_t i = 0, k = 0; i < c->n && k < r->npaths; i++)
        if (c->v[i].path == r->paths[k]) {
            c->v[i].path = NULL; /* now owned by the record */
            k++;
        }
    return 0;
}

static int note_deletes(struct reg__prep *p, const struct reg__rec *r)
{
    for (uint32_t i = 0; i < r->npaths; i++) {
        const char *path = r->paths[i];
        size_t len = strlen(path), plen = reg__parent_len(path, len);
        struct reg__pstate *pm = reg__pend_mut(p->reg, path, plen, p->zxid);
        struct reg__pstate *nm = pm ? reg__pend_mut(p->reg, path, len, p->zxid) : NULL;
        if (!nm)
            return -ENOMEM;
        pm->nkids--;
        nm->exists = 0;
        reg__pend_set_acl(p->reg, nm, REG__ACL_OPEN);
    }
    return 0;
}

int reg__prep_close_session(struct reg__prep *p)
{
    struct reg__rec *r = reg__txn_add(p->txn, REG__R_CLOSE_SESSION);
    if (!r)
        return -ENOMEM;
    struct reg__session *s = p->session ? reg__sess_find(p->reg, p->session) : NULL;
    if (!s)
        return 0; /* nothing to delete; ZooKeeper logs the close anyway */
    struct cands c = {0};
    int rc = gather(p->reg, s, &c);
    if (rc == 0)
        rc = keep(p->reg, p->session, &c, r);
    if (rc == 0)
        rc = note_deletes(p, r);
    cands_free(&c);
    if (rc == 0)
        reg__sess_set_closing(p->reg, s, true);
    return rc;
}
