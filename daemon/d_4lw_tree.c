/*
 * d_4lw_tree.c - the four-letter words that look at the whole registry:
 * wchs and dump.
 *
 * Neither walks the tree: dump lists ephemerals session by session, and
 * mntr reads the registry's ephemeral count, so a monitor costs the loop
 * what the sessions hold, not what the tree holds (a walk of 1,000,000
 * znodes took ~100 ms of the loop per mntr or dump).
 *
 * What the registry does not expose is approximated and documented in the
 * README: dump lists the sessions held by open ZooKeeper connections (with
 * their expiry from the connection's last request), and wchs counts
 * connections that have set a watch and reports the watch total as its
 * path count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "d_4lw_int.h"

/* ---- wchs ---------------------------------------------------------------- */

void zkd_4lw_wchs(zkd_zk_srv *s, zk_buf *out)
{
    size_t conns = 0, total = reg_watch_count(s->d->reg);
    for (const zkd_zk_conn *c = s->conns; c; c = c->next)
        if (c->state != ZC_CLOSED && c->watching)
            conns++;
    zk_buf_printf(out, "%zu connections watching %zu paths\nTotal watches:%zu\n", conns, total,
                  total);
}

/* ---- dump ---------------------------------------------------------------- */

/* One element of an ExpiryQueue dump: when it expires and how it reads. */
typedef struct lw__elem {
    int64_t when;
    int64_t key;
    char text[96];
} lw__elem;

static int lw__elem_cmp(const void *a, const void *b)
{
    const lw__elem *x = a, *y = b;
    if (x->when != y->when)
        return x->when < y->when ? -1 : 1;
    return (x->key > y->key) - (x->key < y->key);
}

/* Java's Date.toString, in UTC. */
static void lw__date(int64_t ms, char *out, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%a %b %d %H:%M:%S UTC %Y", &tm);
}

/* ExpiryQueue.dump: "Sets (buckets)/(elements):", then each bucket. */
static void lw__sets(zk_buf *out, lw__elem *v, size_t n)
{
    if (n > 1)
        qsort(v, n, sizeof(*v), lw__elem_cmp);
    size_t buckets = 0;
    for (size_t i = 0; i < n; i++)
        buckets += i == 0 || v[i].when != v[i - 1].when;
    zk_buf_printf(out, "Sets (%zu)/(%zu):\n", buckets, n);
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i; j < n && v[j].when == v[i].when; j++)
            ;
        char date[64];
        lw__date(v[i].when, date, sizeof(date));
        zk_buf_printf(out, "%zu expire at %s:\n", j - i, date);
        for (size_t k = i; k < j; k++)
            zk_buf_printf(out, "\t%s\n", v[k].text);
    }
}

static lw__elem *lw__conn_elems(zkd_zk_srv *s, bool sessions, size_t *n)
{
    lw__elem *v = calloc(s->nconns ? s->nconns : 1, sizeof(*v));
    *n = 0;
    for (const zkd_zk_conn *c = s->conns; v && c && *n < s->nconns; c = c->next) {
        if (c->state == ZC_CLOSED || (sessions && c->session == 0))
            continue;
        lw__elem *e = &v[(*n)++];
        e->when = c->session ? c->touched_ms + c->timeout_ms : c->state_ms + ZKD_ZK_IDLE_MS;
        e->key = c->session ? c->session : (int64_t)c->id;
        if (sessions)
            snprintf(e->text, sizeof(e->text), "0x%llx", (unsigned long long)c->session);
        else
            snprintf(e->text, sizeof(e->text), "ip: %s sessionId: 0x%llx", c->peer,
                     (unsigned long long)c->session);
    }
    return v;
}

typedef struct lw__eph {
    int64_t owner;
    char *path;
} lw__eph;

typedef struct lw__ephs {
    lw__eph *v;
    size_t n, cap;
} lw__ephs;

typedef struct lw__eph_ctx {
    const reg_t *reg;
    lw__ephs *e;
    int64_t owner;
} lw__eph_ctx;

static void lw__eph_one(void *ctx, const char *path)
{
    lw__eph_ctx *x = ctx;
    lw__ephs *e = x->e;
    if (e->n == e->cap) {
        size_t ncap = e->cap ? e->cap * 2 : 64;
        lw__eph *nv = realloc(e->v, ncap * sizeof(*nv));
        if (nv == NULL)
            return;
        e->v = nv;
        e->cap = ncap;
    }
    e->v[e->n].owner = x->owner;
    e->v[e->n].path = strdup(path);
    if (e->v[e->n].path)
        e->n++;
}

static void lw__eph_session(void *ctx, int64_t session, int64_t timeout_ms, uint32_t flags)
{
    (void)timeout_ms;
    (void)flags;
    lw__eph_ctx *x = ctx;
    x->owner = session;
    (void)reg_session_ephemerals(x->reg, session, lw__eph_one, x);
}

static int lw__eph_cmp(const void *a, const void *b)
{
    const lw__eph *x = a, *y = b;
    if (x->owner != y->owner)
        return x->owner < y->owner ? -1 : 1;
    return strcmp(x->path, y->path);
}

/* DataTree.dumpEphemerals. */
static void lw__ephemerals(const reg_t *reg, zk_buf *out)
{
    lw__ephs e = {0};
    lw__eph_ctx x = {reg, &e, 0};
    reg_session_foreach(reg, lw__eph_session, &x);
    if (e.n > 1)
        qsort(e.v, e.n, sizeof(*e.v), lw__eph_cmp);
    size_t owners = 0;
    for (size_t i = 0; i < e.n; i++)
        owners += i == 0 || e.v[i].owner != e.v[i - 1].owner;
    zk_buf_printf(out, "Sessions with Ephemerals (%zu):\n", owners);
    for (size_t i = 0; i < e.n; i++) {
        if (i == 0 || e.v[i].owner != e.v[i - 1].owner)
            zk_buf_printf(out, "0x%llx:\n", (unsigned long long)e.v[i].owner);
        zk_buf_printf(out, "\t%s\n", e.v[i].path);
        free(e.v[i].path);
    }
    free(e.v);
}

void zkd_4lw_dump(zkd_zk_srv *s, zk_buf *out)
{
    size_t n;
    lw__elem *v = lw__conn_elems(s, true, &n);
    zk_buf_printf(out, "SessionTracker dump:\nSession ");
    lw__sets(out, v, v ? n : 0);
    free(v);
    zk_buf_printf(out, "ephemeral nodes dump:\n");
    lw__ephemerals(s->d->reg, out);
    zk_buf_printf(out, "Connections dump:\nConnections ");
    v = lw__conn_elems(s, false, &n);
    lw__sets(out, v, v ? n : 0);
    free(v);
}
