/*
 * reg_watch.c - watches, as ZooKeeper's WatchManager pair keeps them.
 *
 * ZooKeeper has two managers: dataWatches (getData/exists watches, and the
 * persistent and persistent-recursive watches of addWatch) and childWatches
 * (getChildren watches, and persistent ones). We keep one link per
 * (watcher, path) with a bit per kind: DATA and CHILD are one-shot, PERSIST
 * stands in both managers, RECUR in dataWatches only. A link sits on two
 * lists, its path's and its watcher's, so firing a path and dropping a
 * watcher are both proportional to what they touch; nothing ever scans all
 * watches. Recursive watches are found by looking up each ancestor of the
 * changed path, and only while some exist.
 *
 * Firing follows WatchManager.triggerWatch: at the path itself one-shot
 * watches fire and go, persistent ones fire and stay; at ancestors only
 * recursive ones fire, and never for CHILDREN. Each trigger has a stamp and
 * a watcher gets at most one event per stamp; a node's deletion fires the
 * child managers' DELETED with the data trigger's stamp, which is
 * ZooKeeper's "suppress those already notified".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reg_internal.h"

#define DATA_MGR (REG__W_DATA | REG__W_PERSIST | REG__W_RECUR)
#define CHILD_MGR (REG__W_CHILD | REG__W_PERSIST)

struct wpath;
struct wowner;

struct wlink {
    struct wlink *pnext, *pprev; /* on the path's list */
    struct wlink *onext, *oprev; /* on the watcher's list */
    struct wpath *wp;
    struct wowner *wo;
    unsigned bits;
};

struct wpath {
    reg__hlink h;
    struct wlink *head;
    size_t n;
    size_t len;
    char path[];
};

struct wowner {
    reg__hlink h;
    uint64_t id;
    uint64_t stamp;
    struct wlink *head;
    size_t n;
};

int reg__watch_init(reg_t *reg)
{
    if (reg__htab_init(&reg->wpaths) < 0)
        return -ENOMEM;
    if (reg__htab_init(&reg->wowners) < 0) {
        reg__htab_free(&reg->wpaths);
        return -ENOMEM;
    }
    return 0;
}

static void free_all(reg__htab *t, size_t link_off)
{
    size_t pos = 0;
    reg__hlink *l = reg__htab_next(t, &pos, NULL);
    while (l) {
        reg__hlink *next = reg__htab_next(t, &pos, l);
        free((char *)l - link_off);
        l = next;
    }
    reg__htab_free(t);
}

void reg__watch_fini(reg_t *reg)
{
    size_t pos = 0;
    for (reg__hlink *l = reg__htab_next(&reg->wowners, &pos, NULL); l;
         l = reg__htab_next(&reg->wowners, &pos, l)) {
        struct wowner *wo = REG__CONTAINER_OF(l, struct wowner, h);
        struct wlink *k = wo->head;
        while (k) {
            struct wlink *next = k->onext;
            free(k);
            k = next;
        }
    }
    free_all(&reg->wpaths, offsetof(struct wpath, h));
    free_all(&reg->wowners, offsetof(struct wowner, h));
}

/* ---- lookup ----------------------------------------------------------------- */

static struct wpath *wpath_find(const reg_t *reg, const char *path, size_t len)
{
    uint64_t h = reg__hash_bytes(path, len);
    for (reg__hlink *l = reg__htab_chain(&reg->wpaths, h); l; l = l->next) {
        struct wpath *wp = REG__CONTAINER_OF(l, struct wpath, h);
        if (l->hash == h && wp->len == len && memcmp(wp->path, path, len) == 0)
            return wp;
    }
    return NULL;
}

static struct wowner *wowner_find(const reg_t *reg, uint64_t id)
{
    uint64_t h = reg__hash_u64(id);
    for (reg__hlink *l = reg__htab_chain(&reg->wowners, h); l; l = l->next) {
        struct wowner *wo = REG__CONTAINER_OF(l, struct wowner, h);
        if (l->hash == h && wo->id == id)
            return wo;
    }
    return NULL;
}

static struct wlink *link_find(const reg_t *reg, uint64_t watcher,
                               const char *path)
{
    struct wpath *wp = wpath_find(reg, path, strlen(path));
    struct wowner *wo = wowner_find(reg, watcher);
    if (!wp || !wo)
        return NULL;
    if (wp->n <= wo->n) {
        for (struct wlink *k = wp->head; k; k = k->pnext)
            if (k->wo == wo)
                return k;
    } else {
        for (struct wlink *k = wo->head; k; k = k->onext)
            if (k->wp == wp)
                return k;
    }
    return NULL;
}

/* ---- counting and unlinking ------------------------------------------------- */

static size_t weight(unsigned bits)
{
    return (size_t)((bits & DATA_MGR) != 0) + (size_t)((bits & CHILD_MGR) != 0);
}

static void set_bits(reg_t *reg, struct wlink *k, unsigned bits)
{
    reg->nwatches = reg->nwatches - weight(k->bits) + weight(bits);
    reg->nrecursive = reg->nrecursive - ((k->bits & REG__W_RECUR) != 0) +
                      ((bits & REG__W_RECUR) != 0);
    k->bits = bits;
}

static void link_free(reg_t *reg, struct wlink *k)
{
    struct wpath *wp = k->wp;
    struct wowner *wo = k->wo;
    if (k->pprev) k->pprev->pnext = k->pnext; else wp->head = k->pnext;
    if (k->pnext) k->pnext->pprev = k->pprev;
    if (k->oprev) k->oprev->onext = k->onext; else wo->head = k->onext;
    if (k->onext) k->onext->oprev = k->oprev;
    free(k);
    if (--wp->n == 0) {
        reg__htab_remove(&reg->wpaths, &wp->h);
        free(wp);
    }
    if (--wo->n == 0) {
        reg__htab_remove(&reg->wowners, &wo->h);
        free(wo);
    }
}

static void clear_bits(reg_t *reg, struct wlink *k, unsigned bits)
{
    set_bits(reg, k, k->bits & ~bits);
    if (k->bits == 0)
        link_free(reg, k);
}

/* ---- adding ----------------------------------------------------------------- */

static struct wpath *wpath_get(reg_t *reg, const char *path, size_t len)
{
    struct wpath *wp = wpath_find(reg, path, len);
    if (wp)
        return wp;
    wp = calloc(1, sizeof(*wp) + len + 1);
    if (!wp)
        return NULL;
    memcpy(wp->path, path, len);
    wp->len = len;
    reg__htab_insert(&reg->wpaths, &wp->h, reg__hash_bytes(path, len));
    return wp;
}

static struct wowner *wowner_get(reg_t *reg, uint64_t id)
{
    struct wowner *wo = wowner_find(reg, id);
    if (wo)
        return wo;
    wo = calloc(1, sizeof(*wo));
    if (!wo)
        return NULL;
    wo->id = id;
    reg__htab_insert(&reg->wowners, &wo->h, reg__hash_u64(id));
    return wo;
}

static struct wlink *link_new(struct wpath *wp, struct wowner *wo)
{
    struct wlink *k = calloc(1, sizeof(*k));
    if (!k)
        return NULL;
    k->wp = wp;
    k->wo = wo;
    k->pnext = wp->head;
    if (wp->head)
        wp->head->pprev = k;
    wp->head = k;
    wp->n++;
    k->onext = wo->head;
    if (wo->head)
        wo->head->oprev = k;
    wo->head = k;
    wo->n++;
    return k;
}

int reg__watch_set(reg_t *reg, uint64_t watcher, const char *path, unsigned bits)
{
    struct wlink *k = link_find(reg, watcher, path);
    if (!k) {
        struct wpath *wp = wpath_get(reg, path, strlen(path));
        struct wowner *wo = wp ? wowner_get(reg, watcher) : NULL;
        k = wo ? link_new(wp, wo) : NULL;
        if (!k) {
            if (wp && wp->n == 0) {
                reg__htab_remove(&reg->wpaths, &wp->h);
                free(wp);
            }
            if (wo && wo->n == 0) {
                reg__htab_remove(&reg->wowners, &wo->h);
                free(wo);
            }
            return -ENOMEM;
        }
    }
    set_bits(reg, k, k->bits | bits);
    return 0;
}

/* ---- firing ----------------------------------------------------------------- */

void reg__emit(reg_t *reg, uint64_t watcher, int type, const char *path,
               int64_t zxid)
{
    if (reg->hooks.on_watch)
        reg->hooks.on_watch(reg->hooks.ctx, watcher, type, path, zxid);
}

static void deliver(reg_t *reg, struct wowner *wo, uint64_t stamp, int type,
                    const char *path, int64_t zxid)
{
    if (wo->stamp == stamp)
        return;
    wo->stamp = stamp;
    reg__emit(reg, wo->id, type, path, zxid);
}

/* Fires the watches on `path` itself whose bits meet `fire`; one-shot bits
 * in `once` are removed. */
static void fire_at(reg_t *reg, const char *path, unsigned fire, unsigned once,
                    int type, int64_t zxid, uint64_t stamp)
{
    struct wpath *wp = wpath_find(reg, path, strlen(path));
    struct wlink *k = wp ? wp->head : NULL;
    while (k) {
        struct wlink *next = k->pnext;
        if (k->bits & fire) {
            deliver(reg, k->wo, stamp, type, path, zxid);
            if (k->bits & once) {
                bool last = wp->n == 1 && (k->bits & ~once) == 0;
                clear_bits(reg, k, once);
                if (last)
                    break; /* wp is gone */
            }
        }
        k = next;
    }
}

static void fire_recursive(reg_t *reg, const char *path, int type, int64_t zxid,
                           uint64_t stamp)
{
    size_t len = strlen(path);
    while ((len = reg__parent_len(path, len)) > 0) {
        struct wpath *wp = wpath_find(reg, path, len);
        for (struct wlink *k = wp ? wp->head : NULL; k; k = k->pnext)
            if (k->bits & REG__W_RECUR)
                deliver(reg, k->wo, stamp, type, path, zxid);
    }
}

uint64_t reg__watch_fire_data(reg_t *reg, const char *path, int type, int64_t zxid)
{
    uint64_t stamp = ++reg->wstamp;
    fire_at(reg, path, DATA_MGR, REG__W_DATA, type, zxid, stamp);
    if (reg->nrecursive > 0)
        fire_recursive(reg, path, type, zxid, stamp);
    return stamp;
}

void reg__watch_fire_child(reg_t *reg, const char *path, int type, int64_t zxid,
                           uint64_t suppress)
{
    uint64_t stamp = suppress ? suppress : ++reg->wstamp;
    fire_at(reg, path, CHILD_MGR, REG__W_CHILD, type, zxid, stamp);
}

/* ---- public calls --------------------------------------------------------------- */

int reg_watch_add(reg_t *reg, uint64_t watcher, const char *path, int mode)
{
    if (!path)
        return -EINVAL;
    if (mode == REG_WATCH_PERSISTENT)
        return reg__watch_set(reg, watcher, path, REG__W_PERSIST);
    if (mode == REG_WATCH_PERSISTENT_RECURSIVE)
        return reg__watch_set(reg, watcher, path, REG__W_RECUR);
    return -EINVAL;
}

static unsigned type_bits(int type)
{
    switch (type) {
    case REG_WATCHER_CHILDREN: return REG__W_CHILD;
    case REG_WATCHER_DATA: return REG__W_DATA;
    case REG_WATCHER_ANY: return DATA_MGR | CHILD_MGR;
    case REG_WATCHER_PERSISTENT: return REG__W_PERSIST;
    case REG_WATCHER_PERSISTENT_RECURSIVE: return REG__W_RECUR;
    default: return 0;
    }
}

int reg_watch_remove(reg_t *reg, uint64_t watcher, const char *path, int type,
                     bool remove)
{
    unsigned bits = type_bits(type);
    if (!path || !bits)
        return -EINVAL;
    struct wlink *k = link_find(reg, watcher, path);
    if (!k || !(k->bits & bits))
        return REG_ENOWATCHER;
    if (remove)
        clear_bits(reg, k, bits);
    return 0;
}

void reg_watcher_drop(reg_t *reg, uint64_t watcher)
{
    struct wowner *wo;
    /* Each link freed may take the owner with it: look it up again. */
    while ((wo = wowner_find(reg, watcher)))
        clear_bits(reg, wo->head, wo->head->bits);
}

size_t reg_watch_count(const reg_t *reg)
{
    return reg->nwatches;
}
