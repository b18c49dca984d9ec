/*
 * dns_cache.c - pre-encoded responses keyed by (lowercased qname, qtype).
 *
 * An open-addressing hash table with linear probing over 32-byte entries
 * held in the table itself; the key's hash comes from the parser, which
 * computes it while it lowercases the name, and the key's name is the
 * question of the template, so a hit reads one slot, then the template,
 * whose header, question and records lie together.
 *
 * Entries are never removed one by one: each records the generations of
 * the two parts of the zone it was built from (their sum: they only grow),
 * a group, a member of a group, or the whole zone (see dns_zone.c), and is
 * stale as soon as either moves on, which is how dns_zone_invalidate()
 * drops the answers a change affects in O(1). A stale entry is
 * rebuilt in place on its next query. Memory is bounded by capping the
 * number of entries and their bytes; past either cap the whole table is
 * cleared (simple, and a cache that large is being flooded anyway).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns_int.h"

#define CACHE_MIN_SLOTS 1024u
#define CACHE_MAX_ENTRIES 65536u
#define CACHE_MAX_BYTES (64u << 20)

static bool cache__match(const dns_centry *e, const dns_question *pq)
{
    return e->hash == pq->hash && e->qtype == pq->qtype && e->namelen == pq->namelen &&
           memcmp(e->t->wire + DNS_HDR, pq->lname, pq->namelen) == 0;
}

/* The slot holding pq's key, or the free slot where it would go. */
static dns_centry *cache__find(const dns_zone *z, const dns_question *pq)
{
    size_t mask = z->nslots - 1;
    size_t i = (size_t)pq->hash & mask;
    while (z->slots[i].t != NULL && !cache__match(&z->slots[i], pq))
        i = (i + 1) & mask;
    return &z->slots[i];
}

dns_tmpl *dns__cache_get(dns_zone *z, const dns_question *pq)
{
    if (z->nslots == 0)
        return NULL;
    const dns_centry *e = cache__find(z, pq);
    if (e->t == NULL || e->gen != z->gen[e->dep] + z->gen[e->dep2])
        return NULL;
    return e->t;
}

void dns__cache_clear(dns_zone *z)
{
    for (size_t i = 0; i < z->nslots; i++)
        free(z->slots[i].t);
    free(z->slots);
    z->slots = NULL;
    z->nslots = z->nentries = z->bytes = 0;
}

/* Doubles the table (or makes the first one). */
static int cache__grow(dns_zone *z)
{
    size_t n = z->nslots ? z->nslots * 2 : CACHE_MIN_SLOTS;
    dns_centry *old = z->slots;
    size_t oldn = z->nslots;
    z->slots = calloc(n, sizeof(*z->slots));
    if (z->slots == NULL) {
        z->slots = old;
        return -ENOMEM;
    }
    z->nslots = n;
    for (size_t i = 0; i < oldn; i++) {
        if (old[i].t == NULL)
            continue;
        size_t j = (size_t)old[i].hash & (n - 1);
        while (z->slots[j].t != NULL)
            j = (j + 1) & (n - 1);
        z->slots[j] = old[i];
    }
    free(old);
    return 0;
}

/* Makes room for one more entry. */
static int cache__reserve(dns_zone *z, size_t bytes)
{
    if (z->nentries + 1 > CACHE_MAX_ENTRIES || z->bytes + bytes > CACHE_MAX_BYTES)
        dns__cache_clear(z);
    if (z->nslots == 0 || (z->nentries + 1) * 2 > z->nslots)
        return cache__grow(z);
    return 0;
}

int dns__cache_put(dns_zone *z, const dns_question *pq, dns_tmpl *t, uint16_t dep,
                   uint16_t dep2)
{
    dns_centry *e = z->nslots ? cache__find(z, pq) : NULL;
    if (e != NULL && e->t != NULL) { /* a stale entry: rebuild in place */
        z->bytes -= e->t->bytes;
        free(e->t);
    } else {
        if (cache__reserve(z, t->bytes) < 0)
            return -ENOMEM;
        e = cache__find(z, pq);
        z->nentries++;
        e->hash = pq->hash;
        e->qtype = pq->qtype;
        e->namelen = (uint8_t)pq->namelen;
    }
    e->t = t;
    e->dep = dep;
    e->dep2 = dep2;
    e->gen = z->gen[dep] + z->gen[dep2];
    z->bytes += t->bytes;
    return 0;
}
