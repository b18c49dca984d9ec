/*
 * reg_gc.c - containers, TTL nodes and the end of recovery.
 *
 * Containers and TTL nodes are kept on one intrusive list (the links live in
 * their struct reg__ext), so finding candidates never walks the tree, and a
 * call looks at a bounded share of the list, going round it from where the
 * last one stopped (a million TTL nodes took 11-14 ms per call whole). The
 * rules are ContainerManager.getCandidates': a container that has had
 * children (cversion > 0) and has none now, a TTL node without children
 * whose mtime is more than its TTL ago. The registry only names them; the
 * daemon deletes them through the pipeline like any other write.
 */
#include <stdlib.h>
#include <string.h>

#include "reg_internal.h"

void reg__gc_link(reg_t *reg, reg_node *n)
{
    struct reg__ext *e = reg__ext(n);
    e->eprev = NULL;
    e->enext = reg->gc;
    if (reg->gc)
        reg__ext(reg->gc)->eprev = n;
    reg->gc = n;
    reg->ngc++;
}

void reg__gc_unlink(reg_t *reg, reg_node *n)
{
    struct reg__ext *e = reg__ext(n);
    if (reg->gc_next == n)
        reg->gc_next = e->enext;
    reg->ngc--;
    if (e->eprev)
        reg__ext(e->eprev)->enext = e->enext;
    else
        reg->gc = e->enext;
    if (e->enext)
        reg__ext(e->enext)->eprev = e->eprev;
    e->eprev = e->enext = NULL;
}

static bool collectable(const reg_node *n, int64_t now)
{
    if (reg__nkids(n) > 0)
        return false;
    if (n->kind == REG__CONTAINER)
        return reg__cversion(n) > 0;
    int64_t ttl = reg__ext(n)->owner;
    if (ttl <= 0 || now <= n->mtime)
        return false;
    return (uint64_t)now - (uint64_t)n->mtime > (uint64_t)ttl;
}

/* The candidate after n, the list read as a ring. */
static reg_node *gc_after(const reg_t *reg, const reg_node *n)
{
    reg_node *next = reg__ext(n)->enext;
    return next ? next : reg->gc;
}

size_t reg_collect_garbage(reg_t *reg, int64_t now_ms, char **paths, size_t max)
{
    size_t k = 0, budget = reg->cfg.gc_scan;
    if (budget < reg->ngc / 30)
        budget = reg->ngc / 30;
    if (budget > reg->ngc)
        budget = reg->ngc;
    reg_node *n = reg->gc_next ? reg->gc_next : reg->gc;
    for (size_t seen = 0; n && seen < budget && k < max; seen++, n = gc_after(reg, n)) {
        reg->gc_next = gc_after(reg, n);
        if (!collectable(n, now_ms))
            continue;
        char *p = reg__node_path_dup(n);
        if (!p)
            break;
        /* A node some pending txn changes (its delete from the last sweep is
         * still on its way to the log, or a child is being created) waits
         * for the next sweep: a second delete would fail and take a zxid. */
        struct reg__pstate st;
        if (reg->npending > 0 &&
            (!reg__pend_get(reg, p, strlen(p), &st) || st.zxid != 0)) {
            free(p);
            continue;
        }
        paths[k++] = p;
    }
    return k;
}

size_t reg_recover_finish(reg_t *reg, int64_t now_ms,
                          void (*fn)(void *ctx, int64_t session), void *ctx)
{
    size_t pos = 0, n = 0;
    reg__sess_restart_clock(reg, now_ms);
    for (reg__hlink *l = reg__htab_next(&reg->sessions, &pos, NULL); l;
         l = reg__htab_next(&reg->sessions, &pos, l)) {
        struct reg__session *s = REG__CONTAINER_OF(l, struct reg__session, h);
        if (!(s->flags & (REG__S_LOCAL | REG__S_ORPHAN)) || (s->flags & REG__S_CLOSING))
            continue;
        if (fn)
            fn(ctx, s->id);
        n++;
    }
    return n;
}
