/*
 * dns_group.c - member sets: the parsed, listed member children of a node.
 *
 * A group's answers (A, AAAA, SRV, DNS-SD PTR, _leader) all need its
 * members, and one change of the group can be followed by queries of all of
 * those types, so the parsed set is kept in a table keyed by node and valid
 * while the generation of its dependency is unchanged: node data is parsed
 * once per change of the group, not once per cache fill.
 *
 * And not all of it: a change of one member of a group of a hundred
 * leaves ninety-nine members as they were. The new set is built from the
 * old one: a child whose name, czxid and mzxid are those of an old member
 * has the same data (data changes only with a new mzxid, and a new node
 * with that name has a new czxid), so the parsed member moves over and only
 * new or changed children are parsed. The old set is trusted only for the
 * same node: same pointer and same czxid (a freed pointer can come back,
 * but as a node created later; node pointers are compared, never followed,
 * once their generation has moved on).
 *
 * The table is open-addressed on the node pointer. When half full it is
 * rebuilt without the sets that are stale (mostly those of deleted nodes)
 * and with room for twice the rest; past DNS_MSET_MAX sets it starts over.
 *
 * The leader of a set (an election group's _leader) is the member whose
 * name ends in the lowest 10-digit sequence number; members without such a
 * suffix come after all that have one; ties go to the lowest czxid.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns_int.h"

static void mset__free(dns_mset *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->n; i++)
        dns__member_clear(&set->m[i]);
    free(set->m);
    free(set);
}

int dns__member_of_node(const reg_node *node, dns_member *m)
{
    size_t len = 0, nlen = 0;
    const void *data = reg_node_data(node, &len);
    int rc = dns__member_parse(data, len, m);
    if (rc <= 0)
        return rc;
    const char *name = reg_node_name(node, &nlen);
    m->name = malloc(nlen + 1);
    if (m->name == NULL) {
        dns__member_clear(m);
        return -ENOMEM;
    }
    memcpy(m->name, name, nlen);
    m->name[nlen] = '\0';
    m->namelen = nlen;
    reg_stat st;
    reg_node_stat(node, &st);
    m->czxid = st.czxid;
    m->mzxid = st.mzxid;
    return 1;
}

static int mset__push(dns_mset *set, size_t *cap, const dns_member *m)
{
    if (set->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        dns_member *p = realloc(set->m, ncap * sizeof(*p));
        if (p == NULL)
            return -ENOMEM;
        set->m = p;
        *cap = ncap;
    }
    set->m[set->n++] = *m;
    return 0;
}

/* The registry's order of sibling names: bytes, shorter first on a tie. */
static int mset__name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c != 0)
        return c;
    return (alen > blen) - (alen < blen);
}

/* Moves the member of old for child c into *m if c is unchanged since old
 * was built; *j walks old in step with the children (same order). */
static bool mset__reuse(dns_mset *old, size_t *j, const reg_node *c, dns_member *m)
{
    size_t nlen;
    const char *name = reg_node_name(c, &nlen);
    while (*j < old->n && mset__name_cmp(old->m[*j].name, old->m[*j].namelen, name, nlen) < 0)
        (*j)++;
    if (*j == old->n || old->m[*j].namelen != nlen || memcmp(old->m[*j].name, name, nlen) != 0)
        return false;
    reg_stat st;
    reg_node_stat(c, &st);
    dns_member *o = &old->m[*j];
    if (o->czxid != st.czxid || o->mzxid != st.mzxid)
        return false;
    *m = *o;
    memset(o, 0, sizeof(*o)); /* moved: old no longer owns name and txt */
    (*j)++;                   /* the next child's name is greater */
    return true;
}

/* The set of node, moving unchanged members over from old (may be NULL). */
static dns_mset *mset__build(dns_zone *z, const reg_node *node, dns_mset *old)
{
    dns_mset *set = calloc(1, sizeof(*set));
    size_t cap = 0, j = 0;
    if (set == NULL)
        return NULL;
    for (const reg_node *c = reg_node_first_child(node); c; c = reg_node_next_sibling(c)) {
        dns_member m;
        int rc = 1;
        if (old == NULL || !mset__reuse(old, &j, c, &m)) {
            rc = dns__member_of_node(c, &m);
            z->st.member_parses++;
        }
        if (rc == 1 && (rc = mset__push(set, &cap, &m)) < 0)
            dns__member_clear(&m);
        if (rc < 0) {
            mset__free(set);
            return NULL;
        }
    }
    return set;
}

/* ---- the table ------------------------------------------------------------ */

static size_t mset__hash(const reg_node *node)
{
    uint64_t v = (uint64_t)(uintptr_t)node;
    v ^= v >> 29;
    v *= 0x9e3779b97f4a7c15ull;
    return (size_t)(v >> 32);
}

/* The slot of node, or the empty one where it would go (cap > count). A
 * slot is taken while it has a node, with or without a set. */
static dns_mslot *mset__find(dns_mslot *tab, size_t cap, const reg_node *node)
{
    size_t i = mset__hash(node) & (cap - 1);
    while (tab[i].node != NULL && tab[i].node != node)
        i = (i + 1) & (cap - 1);
    return &tab[i];
}

static bool mset__fresh(const dns_zone *z, const dns_mslot *s)
{
    return s->set != NULL && s->gen == z->gen[s->dep];
}

/* Rebuilds the table without its stale sets, at least twice as large as
 * the fresh ones need (load 1/4 at most); empty past DNS_MSET_MAX fresh
 * sets. 0 or -ENOMEM. */
static int mset__rehash(dns_zone *z)
{
    size_t fresh = 0, cap = DNS_MSET_MIN;
    for (size_t i = 0; i < z->mset_cap; i++)
        fresh += mset__fresh(z, &z->mset[i]);
    if (fresh >= DNS_MSET_MAX) {
        dns__mset_flush(z);
        fresh = 0;
    }
    while ((fresh + 1) * 4 > cap)
        cap *= 2;
    dns_mslot *tab = calloc(cap, sizeof(*tab));
    if (tab == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < z->mset_cap; i++) {
        dns_mslot *s = &z->mset[i];
        if (mset__fresh(z, s))
            *mset__find(tab, cap, s->node) = *s;
        else
            mset__free(s->set);
    }
    free(z->mset);
    z->mset = tab;
    z->mset_cap = cap;
    z->mset_n = fresh;
    return 0;
}

const dns_mset *dns__mset_get(dns_zone *z, const reg_node *node, uint16_t dep)
{
    if ((z->mset_n + 1) * 2 > z->mset_cap && mset__rehash(z) < 0)
        return NULL;
    dns_mslot *s = mset__find(z->mset, z->mset_cap, node);
    if (s->dep == dep && mset__fresh(z, s))
        return s->set;
    reg_stat st;
    reg_node_stat(node, &st);
    dns_mset *old = s->set && s->czxid == st.czxid ? s->set : NULL;
    dns_mset *set = mset__build(z, node, old);
    if (set == NULL && old != NULL) { /* old may have given members away */
        mset__free(old);
        s->set = NULL;
    }
    if (set == NULL)
        return NULL;
    z->mset_n += s->node == NULL;
    mset__free(s->set);
    *s = (dns_mslot){.node = node, .czxid = st.czxid, .dep = dep, .gen = z->gen[dep],
                     .set = set};
    return set;
}

void dns__mset_flush(dns_zone *z)
{
    for (size_t i = 0; i < z->mset_cap; i++)
        mset__free(z->mset[i].set);
    free(z->mset);
    z->mset = NULL;
    z->mset_cap = z->mset_n = 0;
}

/* The 10-digit sequence suffix of a name, or -1. */
static int64_t group__seq(const dns_member *m)
{
    if (m->namelen < 10)
        return -1;
    int64_t v = 0;
    for (size_t i = m->namelen - 10; i < m->namelen; i++) {
        char c = m->name[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    return v;
}

/* Is a a better leader than b? */
static bool group__before(const dns_member *a, const dns_member *b)
{
    int64_t sa = group__seq(a), sb = group__seq(b);
    if ((sa >= 0) != (sb >= 0))
        return sa >= 0;
    if (sa != sb)
        return sa < sb;
    return a->czxid < b->czxid;
}

long dns__mset_leader(const dns_mset *set)
{
    long best = -1;
    for (size_t i = 0; i < set->n; i++)
        if (best < 0 || group__before(&set->m[i], &set->m[best]))
            best = (long)i;
    return best;
}
