/*
 * reg_hash.c - intrusive chained hash tables for the registry.
 *
 * Entries embed a reg__hlink (next pointer and the full 64-bit hash), so the
 * table never allocates per entry and lookups compare hashes before keys.
 * The bucket array doubles when the load passes 1; if that allocation fails
 * the table just stays denser, so insertion itself never fails. Hashing is
 * FNV-1a with a final avalanche (good enough for paths and ids, and
 * deterministic, which keeps tests reproducible).
 */
#include <errno.h>
#include <stdlib.h>

#include "reg_internal.h"

#define HTAB_MIN 16

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

uint64_t reg__hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ull;
    }
    return mix64(h ^ n);
}

uint64_t reg__hash_u64(uint64_t x)
{
    return mix64(x + 0x9e3779b97f4a7c15ull);
}

int reg__htab_init(reg__htab *t)
{
    t->b = calloc(HTAB_MIN, sizeof(*t->b));
    t->cap = HTAB_MIN;
    t->len = 0;
    return t->b ? 0 : -ENOMEM;
}

void reg__htab_free(reg__htab *t)
{
    free(t->b);
    t->b = NULL;
    t->cap = t->len = 0;
}

static void htab_grow(reg__htab *t)
{
    size_t ncap = t->cap * 2;
    reg__hlink **nb = calloc(ncap, sizeof(*nb));
    if (!nb)
        return;
    for (size_t i = 0; i < t->cap; i++) {
        reg__hlink *l = t->b[i];
        while (l) {
            reg__hlink *next = l->next;
            size_t j = l->hash & (ncap - 1);
            l->next = nb[j];
            nb[j] = l;
            l = next;
        }
    }
    free(t->b);
    t->b = nb;
    t->cap = ncap;
}

void reg__htab_insert(reg__htab *t, reg__hlink *l, uint64_t hash)
{
    if (t->len >= t->cap)
        htab_grow(t);
    size_t i = hash & (t->cap - 1);
    l->hash = hash;
    l->next = t->b[i];
    t->b[i] = l;
    t->len++;
}

void reg__htab_remove(reg__htab *t, reg__hlink *l)
{
    reg__hlink **pp = &t->b[l->hash & (t->cap - 1)];
    while (*pp && *pp != l)
        pp = &(*pp)->next;
    if (*pp) {
        *pp = l->next;
        t->len--;
    }
}

reg__hlink *reg__htab_chain(const reg__htab *t, uint64_t hash)
{
    return t->b[hash & (t->cap - 1)];
}

reg__hlink *reg__htab_next(const reg__htab *t, size_t *pos, reg__hlink *cur)
{
    size_t i = *pos;
    if (cur) {
        if (cur->next)
            return cur->next;
        i++;
    }
    for (; i < t->cap; i++) {
        if (t->b[i]) {
            *pos = i;
            return t->b[i];
        }
    }
    *pos = i;
    return NULL;
}
