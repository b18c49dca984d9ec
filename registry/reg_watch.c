/*
 * reg_watch.c - watches, as ZooKeeper 3.8's WatchManager pair keeps them.
 *
 * ZooKeeper has two tables: dataWatches (getData/exists watches) and
 * childWatches (getChildren watches); addWatch puts its persistent or
 * persistent-recursive watch in both (DataTree.addWatch of 3.6 to 3.8; 3.9
 * keeps recursive ones out of the child table). In each, a watcher has at
 * most one watch per path, with one mode: standard (one-shot), persistent
 * or recursive; a later watch replaces the mode, so a getData watch on a
 * path with a persistent watch turns its data half one-shot (ZooKeeper 3.8
 * does exactly that; 3.9 keeps both). We keep one link per (watcher, path)
 * holding its mode in each table. A link sits on two lists, its path's and its
 * watcher's, so firing a path and dropping a watcher are proportional to
 * what they touch; nothing ever scans all watches. Recursive watches are
 * found by looking up each ancestor of the changed path, and only while
 * some exist.
 *
 * Firing follows WatchManager.triggerWatch: at the path itself one-shot
 * watches fire and go, persistent and recursive ones fire and stay; at
 * ancestors only recursive ones fire; recursive ones never fire CHILDREN.
 * The child table is triggered with CHILDREN (at the parent) and DELETED
 * (at the deleted node, so its recursive watches and those of its
 * ancestors see it: the only event the child half of a recursive watch
 * ever sends, and only once its data half is gone). Each trigger
 * has a stamp and a watcher gets at most one event per stamp; a node's
 * deletion fires the child table's DELETED with the data trigger's stamp,
 * which is ZooKeeper's "suppress those already notified".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reg_internal.h"

enum wmode { WM_NONE = 0, WM_STD, WM_PERSIST, WM_RECUR };

struct wpath;
struct wowner;

struct wlink {
    struct wlink *pnext, *pprev; /* on the path's list */
    struct wlink *onext, *oprev; /* on the watcher's list */
    struct wpath *wp;
    struct wowner *wo;
    uint8_t dmode, cmode; /* enum wmode in the data and child tables */
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

static size_t weight(unsigned d, unsigned c)
{
    return (size_t)(d != WM_NONE) + (size_t)(c != WM_NONE);
}

/* Sets both modes of k, keeping the counts; frees k when both are NONE. */
static void set_modes(reg_t *reg, struct wlink *k, unsigned d, unsigned c);

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

static void set_modes(reg_t *reg, struct wlink *k, unsigned d, unsigned c)
{
    reg->nwatches = reg->nwatches - weight(k->dmode, k->cmode) + weight(d, c);
    reg->nrecursive = reg->nrecursive - (k->dmode == WM_RECUR) + (d == WM_RECUR);
    reg->nrecursive_child =
        reg->nrecursive_child - (k->cmode == WM_RECUR) + (c == WM_RECUR);
    k->dmode = (uint8_t)d;
    k->cmode = (uint8_t)c;
    if (d == WM_NONE && c == WM_NONE)
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
        /* every watch costs memory, and ZooKeeper bounds none: one client
         * could hold the daemon's memory with exists() on made-up paths */
        const struct wowner *has = wowner_find(reg, watcher);
        if (has && has->n >= reg->cfg.max_watches)
            return REG_EQUOTAEXCEEDED;
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
    unsigned d = k->dmode, c = k->cmode;
    if (bits & REG__W_DATA)
        d = WM_STD;
    if (bits & REG__W_CHILD)
        c = WM_STD;
    if (bits & REG__W_PERSIST)
        d = c = WM_PERSIST;
    if (bits & REG__W_RECUR)
        d = c = WM_RECUR;
    set_modes(reg, k, d, c);
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

/* Fires the watches of one table (child: true for childWatches) on `path`
 * itself; one-shot ones go. */
static void fire_at(reg_t *reg, const char *path, bool child, int type,
                    int64_t zxid, uint64_t stamp)
{
    struct wpath *wp = wpath_find(reg, path, strlen(path));
    struct wlink *k = wp ? wp->head : NULL;
    while (k) {
        struct wlink *next = k->pnext;
        unsigned mode = child ? k->cmode : k->dmode;
        if (mode == WM_RECUR && type == REG_EVENT_CHILDREN)
            mode = WM_NONE;
        if (mode != WM_NONE) {
            deliver(reg, k->wo, stamp, type, path, zxid);
            if (mode == WM_STD) {
                bool gone = wp->n == 1 && (child ? k->dmode : k->cmode) == WM_NONE;
                set_modes(reg, k, child ? k->dmode : WM_NONE, child ? WM_NONE : k->cmode);
                if (gone)
                    break; /* wp went with its last link */
            }
        }
        k = next;
    }
}

/* The recursive watches of one table on the ancestors of path. */
static void fire_recursive(reg_t *reg, const char *path, bool child, int type,
                           int64_t zxid, uint64_t stamp)
{
    size_t len = strlen(path);
    while ((len = reg__parent_len(path, len)) > 0) {
        struct wpath *wp = wpath_find(reg, path, len);
        for (struct wlink *k = wp ? wp->head : NULL; k; k = k->pnext)
            if ((child ? k->cmode : k->dmode) == WM_RECUR)
                deliver(reg, k->wo, stamp, type, path, zxid);
    }
}

uint64_t reg__watch_fire_data(reg_t *reg, const char *path, int type, int64_t zxid)
{
    uint64_t stamp = ++reg->wstamp;
    fire_at(reg, path, false, type, zxid, stamp);
    if (reg->nrecursive > 0)
        fire_recursive(reg, path, false, type, zxid, stamp);
    return stamp;
}

void reg__watch_fire_child(reg_t *reg, const char *path, int type, int64_t zxid,
                           uint64_t suppress)
{
    uint64_t stamp = suppress ? suppress : ++reg->wstamp;
    fire_at(reg, path, true, type, zxid, stamp);
    if (reg->nrecursive_child > 0 && type != REG_EVENT_CHILDREN)
        fire_recursive(reg, path, true, type, zxid, stamp);
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

/* checkWatches as ZooKeeper 3.8's WatchManager.containsWatcher answers it:
 * whether the table holds any watch on the path, whoever's (its check of
 * the leaf does not look at the watcher). */
static bool table_has(const reg_t *reg, const char *path, bool child)
{
    const struct wpath *wp = wpath_find(reg, path, strlen(path));
    for (const struct wlink *k = wp ? wp->head : NULL; k; k = k->pnext)
        if ((child ? k->cmode : k->dmode) != WM_NONE)
            return true;
    return false;
}

static int check(const reg_t *reg, const struct wlink *k, const char *path, int type)
{
    bool found;
    switch (type) {
    case REG_WATCHER_CHILDREN: found = table_has(reg, path, true); break;
    case REG_WATCHER_DATA: found = table_has(reg, path, false); break;
    case REG_WATCHER_ANY: found = table_has(reg, path, true) || table_has(reg, path, false); break;
    case REG_WATCHER_PERSISTENT:
        found = k && (k->dmode == WM_PERSIST || k->cmode == WM_PERSIST);
        break;
    default: found = k && (k->dmode == WM_RECUR || k->cmode == WM_RECUR); break;
    }
    return found ? 0 : REG_ENOWATCHER;
}

/* removeWatches: the watcher's own watch in the named table(s), any mode. */
static int remove_one(reg_t *reg, struct wlink *k, int type)
{
    unsigned d = k ? k->dmode : WM_NONE, c = k ? k->cmode : WM_NONE;
    bool kd = type == REG_WATCHER_DATA || type == REG_WATCHER_ANY ||
              (type == REG_WATCHER_PERSISTENT && d == WM_PERSIST) ||
              (type == REG_WATCHER_PERSISTENT_RECURSIVE && d == WM_RECUR);
    bool kc = type == REG_WATCHER_CHILDREN || type == REG_WATCHER_ANY ||
              (type == REG_WATCHER_PERSISTENT && c == WM_PERSIST) ||
              (type == REG_WATCHER_PERSISTENT_RECURSIVE && c == WM_RECUR);
    if (!k || !((kd && d != WM_NONE) || (kc && c != WM_NONE)))
        return REG_ENOWATCHER;
    set_modes(reg, k, kd ? WM_NONE : d, kc ? WM_NONE : c);
    return 0;
}

int reg_watch_remove(reg_t *reg, uint64_t watcher, const char *path, int type,
                     bool remove)
{
    if (!path || type < REG_WATCHER_CHILDREN || type > REG_WATCHER_PERSISTENT_RECURSIVE)
        return -EINVAL;
    struct wlink *k = link_find(reg, watcher, path);
    return remove ? remove_one(reg, k, type) : check(reg, k, path, type);
}

void reg_watcher_drop(reg_t *reg, uint64_t watcher)
{
    struct wowner *wo;
    /* Each link freed may take the owner with it: look it up again. */
    while ((wo = wowner_find(reg, watcher)))
        set_modes(reg, wo->head, WM_NONE, WM_NONE);
}

size_t reg_watch_count(const reg_t *reg)
{
    return reg->nwatches;
}
