/*
 * d_idmap.h - an open-addressing hash map from nonzero 64-bit ids to pointers.
 *
 * The registry names watchers and sessions by number; the daemon maps those
 * numbers back to connections with this map in O(1).
 */
#ifndef ZK_DAEMON_D_IDMAP_H
#define ZK_DAEMON_D_IDMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct zkd_idmap {
    uint64_t *keys; /* 0 = empty, UINT64_MAX = deleted */
    void **vals;
    size_t cap;     /* power of two */
    size_t used;    /* live + deleted slots */
    size_t count;   /* live entries */
} zkd_idmap;

void zkd_idmap_init(zkd_idmap *m);
void zkd_idmap_free(zkd_idmap *m);
/* Inserts or replaces; key must not be 0 or UINT64_MAX. 0 or -ENOMEM. */
int zkd_idmap_put(zkd_idmap *m, uint64_t key, void *val);
void *zkd_idmap_get(const zkd_idmap *m, uint64_t key);
void zkd_idmap_del(zkd_idmap *m, uint64_t key);

#endif
