/*
 * dns_cache.c - pre-encoded responses keyed by (lowercased qname, qtype).
 *
 * An open-addressing hash table with linear probing over entry pointers;
 * the key's hash comes from the parser, which computes it while it
 * lowercases the name, so a hit costs one probe sequence and one memcmp.
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
           memcmp(e->name, pq->lname, pq->namelen) == 0;
}

/* The slot holding pq's key, or the empty slot where it would go. */
static size_t cache__find(const dns_zone *z, const dns_question *pq)
{
    size_t mask = z->nslots - 1;
    size_t i = (size_t)pq->hash & mask;
    while (z->slots[i] != NULL && !cache__match(z->slots[i], pq))
        i = (i + 1) & mask;
    return i;
}

dns_tmpl *dns__cache_get(dns_zone *z, const dns_question *pq)
{
    if (z->nslots == 0)
        return NULL;
    const dns_centry *e = z->slots[cache__find(z, pq)];
    if (e == NULL || e->gen != z->gen[e->dep] + z->gen[e->dep2])
        return NULL;
    return e->t;
}

static void cache__entry_free(dns_centry *e)
{
    free(e->t);
    free(e);
}

void dns__cache_clear(dns_zone *z)
{
    for (size_t i = 0; i < z->nslots; i++)
        if (z->slots[i] != NULL)
            cache__entry_free(z->slots[i]);
    free(z->slots);
    z->slots = NULL;
    z->nslots = z->nentries = z->bytes = 0;
}

/* Doubles the table (or makes the first one). */
static int cache__grow(dns_zone *z)
{
    size_t n = z->nslots ? z->nslots * 2 : CACHE_MIN_SLOTS;
    dns_centry **old = z->slots;
    size_t oldn = z->nslots;
    z->slots = calloc(n, sizeof(*z->slots));
    if (z->slots == NULL) {
        z->slots = old;
        return -ENOMEM;
    }
    z->nslots = n;
    for (size_t i = 0; i < oldn; i++) {
        if (old[i] == NULL)
            continue;
        size_t j = (size_t)old[i]->hash & (n - 1);
        while (z->slots[j] != NULL)
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
                   uint16_t dep2, size_t bytes)
{
    size_t i = z->nslots ? cache__find(z, pq) : 0;
    dns_centry *e = z->nslots ? z->slots[i] : NULL;
    if (e != NULL) { /* a stale entry: rebuild in place */
        z->bytes -= e->bytes;
        free(e->t);
    } else {
        if (cache__reserve(z, bytes + sizeof(*e)) < 0 || (e = malloc(sizeof(*e))) == NULL)
            return -ENOMEM;
        z->slots[cache__find(z, pq)] = e;
        z->nentries++;
        e->hash = pq->hash;
        e->qtype = pq->qtype;
        e->namelen = (uint8_t)pq->namelen;
        memcpy(e->name, pq->lname, pq->namelen);
    }
    e->t = t;
    e->dep = dep;
    e->dep2 = dep2;
    e->gen = z->gen[dep] + z->gen[dep2];
    e->bytes = bytes + sizeof(*e);
    z->bytes += e->bytes;
    return 0;
}
