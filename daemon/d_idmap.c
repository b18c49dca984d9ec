/*
 * d_idmap.c - open addressing with linear probing and tombstones; the table
 * doubles (and drops tombstones) when live + deleted slots pass 3/4.
 */
#include "d_idmap.h"

#include <errno.h>
#include <stdlib.h>

#define IDMAP_DELETED UINT64_MAX

static size_t idmap__hash(uint64_t k, size_t cap)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return (size_t)k & (cap - 1);
}

void zkd_idmap_init(zkd_idmap *m)
{
    m->keys = NULL;
    m->vals = NULL;
    m->cap = m->used = m->count = 0;
}

void zkd_idmap_free(zkd_idmap *m)
{
    free(m->keys);
    free(m->vals);
    zkd_idmap_init(m);
}

static int idmap__grow(zkd_idmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    while (m->count * 2 > ncap)
        ncap *= 2;
    uint64_t *nk = calloc(ncap, sizeof(*nk));
    void **nv = calloc(ncap, sizeof(*nv));
    if (nk == NULL || nv == NULL) {
        free(nk);
        free(nv);
        return -ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i] == 0 || m->keys[i] == IDMAP_DELETED)
            continue;
        size_t j = idmap__hash(m->keys[i], ncap);
        while (nk[j] != 0)
            j = (j + 1) & (ncap - 1);
        nk[j] = m->keys[i];
        nv[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = nk;
    m->vals = nv;
    m->cap = ncap;
    m->used = m->count;
    return 0;
}

int zkd_idmap_put(zkd_idmap *m, uint64_t key, void *val)
{
    if (key == 0 || key == IDMAP_DELETED)
        return -EINVAL;
    if ((m->used + 1) * 4 > m->cap * 3) {
        int rc = idmap__grow(m);
        if (rc < 0)
            return rc;
    }
    size_t i = idmap__hash(key, m->cap), tomb = SIZE_MAX;
    for (; m->keys[i] != 0; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == key) {
            m->vals[i] = val;
            return 0;
        }
        if (m->keys[i] == IDMAP_DELETED && tomb == SIZE_MAX)
            tomb = i;
    }
    if (tomb != SIZE_MAX)
        i = tomb;
    else
        m->used++;
    m->keys[i] = key;
    m->vals[i] = val;
    m->count++;
    return 0;
}

static size_t idmap__find(const zkd_idmap *m, uint64_t key)
{
    if (m->cap == 0 || key == 0 || key == IDMAP_DELETED)
        return SIZE_MAX;
    for (size_t i = idmap__hash(key, m->cap); m->keys[i] != 0; i = (i + 1) & (m->cap - 1))
        if (m->keys[i] == key)
            return i;
    return SIZE_MAX;
}

void *zkd_idmap_get(const zkd_idmap *m, uint64_t key)
{
    size_t i = idmap__find(m, key);
    return i == SIZE_MAX ? NULL : m->vals[i];
}

void zkd_idmap_del(zkd_idmap *m, uint64_t key)
{
    size_t i = idmap__find(m, key);
    if (i == SIZE_MAX)
        return;
    m->keys[i] = IDMAP_DELETED;
    m->vals[i] = NULL;
    m->count--;
}
