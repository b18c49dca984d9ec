/*
 * dns_group.c - member sets: the parsed, listed member children of a node.
 *
 * A group's answers (A, AAAA, SRV, DNS-SD PTR, _leader) all need its
 * members, and one change of the group can be followed by queries of all of
 * those types, so the parsed set is kept in a small direct-mapped table
 * keyed by (node, dependency bucket) and valid while the bucket's
 * generation is unchanged: node data is parsed once per change of the
 * group, not once per cache fill. A node pointer is only ever compared,
 * never followed, once its generation has moved on, so a freed and reused
 * node cannot be confused with the old one (its deletion bumped the
 * generation).
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

static dns_mset *mset__build(const reg_node *node)
{
    dns_mset *set = calloc(1, sizeof(*set));
    size_t cap = 0;
    if (set == NULL)
        return NULL;
    for (const reg_node *c = reg_node_first_child(node); c; c = reg_node_next_sibling(c)) {
        dns_member m;
        int rc = dns__member_of_node(c, &m);
        if (rc == 1 && (rc = mset__push(set, &cap, &m)) < 0)
            dns__member_clear(&m);
        if (rc < 0) {
            mset__free(set);
            return NULL;
        }
    }
    return set;
}

static size_t mset__slot(const reg_node *node, uint16_t dep)
{
    uintptr_t v = (uintptr_t)node;
    v ^= v >> 17;
    v *= 0x9e3779b97f4a7c15ull & UINTPTR_MAX;
    return (size_t)((v >> 24) + dep) % DNS_MSET_SLOTS;
}

const dns_mset *dns__mset_get(dns_zone *z, const reg_node *node, uint16_t dep)
{
    dns_mslot *s = &z->mset[mset__slot(node, dep)];
    if (s->set && s->node == node && s->dep == dep && s->gen == z->gen[dep])
        return s->set;
    dns_mset *set = mset__build(node);
    if (set == NULL)
        return NULL;
    mset__free(s->set);
    *s = (dns_mslot){.node = node, .dep = dep, .gen = z->gen[dep], .set = set};
    return set;
}

void dns__mset_flush(dns_zone *z)
{
    for (size_t i = 0; i < DNS_MSET_SLOTS; i++) {
        mset__free(z->mset[i].set);
        memset(&z->mset[i], 0, sizeof(z->mset[i]));
    }
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
