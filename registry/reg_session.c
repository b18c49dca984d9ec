/*
 * reg_session.c - sessions: ids, liveness, identities and expiry.
 *
 * A session enters the table when its CREATE_SESSION is prepared (ZooKeeper
 * tracks it from PrepRequestProcessor on, so the pipeline may already carry
 * its requests) and counts as committed once that txn is applied. A close in
 * the pipeline marks it closing: from then on it can do nothing
 * (SESSIONEXPIRED) and is not reported as expired again.
 *
 * Expiry is a binary min-heap of deadlines with lazy keys: a touch only
 * records the time (O(1)); when the top's key is due, its real deadline is
 * recomputed and it sinks back if it was touched meanwhile. LOCAL sessions
 * and sessions with timeout 0 are not in the heap: they never expire by
 * time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reg_internal.h"

#define MAX_IDENTITIES 256

/* ---- the expiry heap ---------------------------------------------------- */

/* a + b for a deadline, saturating instead of overflowing (times and
 * timeouts may come from a hostile log). */
static int64_t deadline(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

static void heap_set(reg_t *reg, size_t i, struct reg__session *s)
{
    reg->heap[i] = s;
    s->heap_idx = i;
}

static void sift_up(reg_t *reg, size_t i)
{
    struct reg__session *s = reg->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (reg->heap[p]->key <= s->key)
            break;
        heap_set(reg, i, reg->heap[p]);
        i = p;
    }
    heap_set(reg, i, s);
}

static void sift_down(reg_t *reg, size_t i)
{
    struct reg__session *s = reg->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= reg->heap_len)
            break;
        if (c + 1 < reg->heap_len && reg->heap[c + 1]->key < reg->heap[c]->key)
            c++;
        if (reg->heap[c]->key >= s->key)
            break;
        heap_set(reg, i, reg->heap[c]);
        i = c;
    }
    heap_set(reg, i, s);
}

static int heap_push(reg_t *reg, struct reg__session *s)
{
    if (reg->heap_len == reg->heap_cap) {
        size_t ncap = reg->heap_cap ? reg->heap_cap * 2 : 64;
        struct reg__session **nh = realloc(reg->heap, ncap * sizeof(*nh));
        if (!nh)
            return -ENOMEM;
        reg->heap = nh;
        reg->heap_cap = ncap;
    }
    s->key = deadline(s->touched, s->timeout);
    heap_set(reg, reg->heap_len++, s);
    sift_up(reg, s->heap_idx);
    return 0;
}

static void heap_remove(reg_t *reg, struct reg__session *s)
{
    size_t i = s->heap_idx;
    if (i == SIZE_MAX)
        return;
    s->heap_idx = SIZE_MAX;
    struct reg__session *last = reg->heap[--reg->heap_len];
    if (last == s)
        return;
    heap_set(reg, i, last);
    sift_up(reg, i);
    sift_down(reg, last->heap_idx);
}

static bool expires(const struct reg__session *s)
{
    return !(s->flags & (REG__S_LOCAL | REG__S_CLOSING)) && s->timeout > 0;
}

/* ---- the table ---------------------------------------------------------- */

int reg__sess_init(reg_t *reg)
{
    return reg__htab_init(&reg->sessions);
}

static void sess_free(struct reg__session *s)
{
    for (size_t i = 0; i < s->nauth; i++) {
        free(s->auth[i].scheme);
        free(s->auth[i].id);
    }
    free(s->auth);
    free(s);
}

void reg__sess_fini(reg_t *reg)
{
    size_t pos = 0;
    reg__hlink *l = reg__htab_next(&reg->sessions, &pos, NULL);
    while (l) {
        reg__hlink *next = reg__htab_next(&reg->sessions, &pos, l);
        sess_free(REG__CONTAINER_OF(l, struct reg__session, h));
        l = next;
    }
    reg__htab_free(&reg->sessions);
    free(reg->heap);
    reg->heap = NULL;
    reg->heap_len = reg->heap_cap = 0;
}

struct reg__session *reg__sess_find(const reg_t *reg, int64_t id)
{
    uint64_t h = reg__hash_u64((uint64_t)id);
    for (reg__hlink *l = reg__htab_chain(&reg->sessions, h); l; l = l->next) {
        struct reg__session *s = REG__CONTAINER_OF(l, struct reg__session, h);
        if (l->hash == h && s->id == id)
            return s;
    }
    return NULL;
}

struct reg__session *reg__sess_new(reg_t *reg, int64_t id, int64_t timeout,
                                   uint32_t flags, const uint8_t *passwd,
                                   int64_t now)
{
    struct reg__session *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->id = id;
    s->timeout = timeout;
    s->touched = now;
    s->flags = flags;
    s->heap_idx = SIZE_MAX;
    if (passwd)
        memcpy(s->passwd, passwd, sizeof(s->passwd));
    if (expires(s) && heap_push(reg, s) < 0) {
        free(s);
        return NULL;
    }
    reg__htab_insert(&reg->sessions, &s->h, reg__hash_u64((uint64_t)id));
    return s;
}

void reg__sess_delete(reg_t *reg, struct reg__session *s)
{
    heap_remove(reg, s);
    reg__htab_remove(&reg->sessions, &s->h);
    if (s->flags & REG__S_COMMITTED)
        reg->nsessions--;
    /* Any ephemerals left are the caller's business; unhook them. */
    for (reg_node *n = s->eph; n; n = reg__ext(n)->enext)
        reg__ext(n)->eprev = NULL;
    sess_free(s);
}

int64_t reg__sess_next_id(reg_t *reg, int64_t now)
{
    if (reg->next_session == 0) {
        uint64_t t = ((uint64_t)now << 24) >> 8;
        reg->next_session = ((uint64_t)reg->cfg.server_id << 56) | t;
    }
    for (;;) {
        int64_t id = (int64_t)reg->next_session++;
        if (id != 0 && id != REG__CONTAINER_OWNER && !reg__sess_find(reg, id))
            return id;
    }
}

void reg__sess_set_closing(reg_t *reg, struct reg__session *s, bool closing)
{
    if (closing) {
        s->flags |= REG__S_CLOSING;
        heap_remove(reg, s);
        return;
    }
    s->flags &= ~(uint32_t)REG__S_CLOSING;
    if (expires(s) && s->heap_idx == SIZE_MAX)
        (void)heap_push(reg, s); /* on failure the session just never expires */
}

bool reg__sess_live(const reg_t *reg, int64_t session)
{
    if (session == 0)
        return true;
    const struct reg__session *s = reg__sess_find(reg, session);
    return s && !(s->flags & (REG__S_CLOSING | REG__S_ORPHAN));
}

void reg__sess_restart_clock(reg_t *reg, int64_t now)
{
    size_t pos = 0;
    for (reg__hlink *l = reg__htab_next(&reg->sessions, &pos, NULL); l;
         l = reg__htab_next(&reg->sessions, &pos, l))
        REG__CONTAINER_OF(l, struct reg__session, h)->touched = now;
    for (size_t i = 0; i < reg->heap_len; i++)
        reg->heap[i]->key = deadline(now, reg->heap[i]->timeout);
    for (size_t i = reg->heap_len / 2; i-- > 0;)
        sift_down(reg, i);
}

/* ---- ephemerals ----------------------------------------------------------- */

void reg__sess_link_eph(reg_t *reg, struct reg__session *s, reg_node *n)
{
    reg->neph++;
    struct reg__ext *e = reg__ext(n);
    e->eprev = NULL;
    e->enext = s->eph;
    if (s->eph)
        reg__ext(s->eph)->eprev = n;
    s->eph = n;
    s->neph++;
}

void reg__sess_unlink_eph(reg_t *reg, struct reg__session *s, reg_node *n)
{
    reg->neph--;
    struct reg__ext *e = reg__ext(n);
    if (e->eprev)
        reg__ext(e->eprev)->enext = e->enext;
    else if (s->eph == n)
        s->eph = e->enext;
    if (e->enext)
        reg__ext(e->enext)->eprev = e->eprev;
    e->eprev = e->enext = NULL;
    s->neph--;
}

static int czxid_cmp(const void *a, const void *b)
{
    const reg_node *x = *(reg_node *const *)a, *y = *(reg_node *const *)b;
    return (x->czxid > y->czxid) - (x->czxid < y->czxid);
}

int reg__sess_eph_sorted(const struct reg__session *s, reg_node ***out)
{
    *out = NULL;
    if (s->neph == 0)
        return 0;
    reg_node **v = malloc(s->neph * sizeof(*v));
    if (!v)
        return -ENOMEM;
    size_t k = 0;
    for (reg_node *n = s->eph; n && k < s->neph; n = reg__ext(n)->enext)
        v[k++] = n;
    qsort(v, k, sizeof(*v), czxid_cmp);
    *out = v;
    return (int)k;
}

/* ---- public calls ------------------------------------------------------------ */

static struct reg__session *live(const reg_t *reg, int64_t session)
{
    struct reg__session *s = reg__sess_find(reg, session);
    return s && !(s->flags & (REG__S_CLOSING | REG__S_ORPHAN)) ? s : NULL;
}

int reg_session_touch(reg_t *reg, int64_t session, int64_t now_ms)
{
    struct reg__session *s = live(reg, session);
    if (!s)
        return REG_ESESSIONEXPIRED;
    s->touched = now_ms;
    if (s->heap_idx != SIZE_MAX && deadline(now_ms, s->timeout) < s->key) {
        s->key = deadline(now_ms, s->timeout);
        sift_up(reg, s->heap_idx);
    }
    return 0;
}

int reg_session_check(reg_t *reg, int64_t session, const uint8_t *passwd,
                      int64_t now_ms)
{
    static const uint8_t zero[16];
    struct reg__session *s = live(reg, session);
    if (!s || memcmp(s->passwd, passwd ? passwd : zero, sizeof(s->passwd)) != 0)
        return REG_ESESSIONEXPIRED;
    return reg_session_touch(reg, session, now_ms);
}

int64_t reg_session_timeout(const reg_t *reg, int64_t session)
{
    const struct reg__session *s = live(reg, session);
    return s ? s->timeout : REG_ESESSIONEXPIRED;
}

size_t reg_sessions_expired(reg_t *reg, int64_t now_ms, int64_t *ids, size_t max)
{
    size_t k = 0;
    while (k < max && reg->heap_len > 0) {
        struct reg__session *top = reg->heap[0];
        if (top->key > now_ms)
            break;
        int64_t due = deadline(top->touched, top->timeout);
        if (due > now_ms) {
            top->key = due;
            sift_down(reg, 0);
            continue;
        }
        heap_remove(reg, top);
        ids[k++] = top->id;
    }
    /* Put them back: they stay candidates until their close is prepared. */
    for (size_t i = 0; i < k; i++) {
        struct reg__session *s = reg__sess_find(reg, ids[i]);
        if (s)
            (void)heap_push(reg, s);
    }
    return k;
}

int reg_session_add_auth(reg_t *reg, int64_t session, const char *scheme,
                         const char *id)
{
    struct reg__session *s = live(reg, session);
    if (!scheme || !id)
        return -EINVAL;
    if (!s)
        return REG_ESESSIONEXPIRED;
    for (size_t i = 0; i < s->nauth; i++)
        if (strcmp(s->auth[i].scheme, scheme) == 0 && strcmp(s->auth[i].id, id) == 0)
            return 0;
    if (s->nauth >= MAX_IDENTITIES)
        return -ENOSPC;
    struct reg__ident *na = realloc(s->auth, (s->nauth + 1) * sizeof(*na));
    if (!na)
        return -ENOMEM;
    s->auth = na;
    na[s->nauth].scheme = strdup(scheme);
    na[s->nauth].id = strdup(id);
    if (!na[s->nauth].scheme || !na[s->nauth].id) {
        free(na[s->nauth].scheme);
        free(na[s->nauth].id);
        return -ENOMEM;
    }
    s->nauth++;
    return 0;
}

int reg_session_clear_auth(reg_t *reg, int64_t session)
{
    struct reg__session *s = reg__sess_find(reg, session);
    if (!s)
        return REG_ESESSIONEXPIRED;
    for (size_t i = 0; i < s->nauth; i++) {
        free(s->auth[i].scheme);
        free(s->auth[i].id);
    }
    free(s->auth);
    s->auth = NULL;
    s->nauth = 0;
    return 0;
}

int reg_session_identities(const reg_t *reg, int64_t session,
                           void (*fn)(void *ctx, const reg_auth *id), void *ctx)
{
    const struct reg__session *s = reg__sess_find(reg, session);
    if (!s)
        return REG_ESESSIONEXPIRED;
    for (size_t i = 0; i < s->nauth; i++) {
        reg_auth a = {s->auth[i].scheme, s->auth[i].id};
        fn(ctx, &a);
    }
    return 0;
}

size_t reg_session_count(const reg_t *reg)
{
    return reg->nsessions;
}

size_t reg_ephemeral_count(const reg_t *reg)
{
    return reg->neph;
}

void reg_session_foreach(const reg_t *reg,
                         void (*fn)(void *ctx, int64_t session, int64_t timeout_ms,
                                    uint32_t flags),
                         void *ctx)
{
    size_t pos = 0;
    for (reg__hlink *l = reg__htab_next(&reg->sessions, &pos, NULL); l;
         l = reg__htab_next(&reg->sessions, &pos, l)) {
        const struct reg__session *s = REG__CONTAINER_OF(l, struct reg__session, h);
        if (s->flags & REG__S_COMMITTED)
            fn(ctx, s->id, s->timeout, s->flags & REG_SESSION_LOCAL);
    }
}

int reg_session_ephemerals(const reg_t *reg, int64_t session,
                           void (*fn)(void *ctx, const char *path), void *ctx)
{
    const struct reg__session *s = reg__sess_find(reg, session);
    if (!s)
        return REG_ESESSIONEXPIRED;
    reg_node **v;
    int n = reg__sess_eph_sorted(s, &v);
    for (int i = 0; i < n; i++) {
        char *path = reg__node_path_dup(v[i]);
        if (!path) {
            n = -ENOMEM;
            break;
        }
        fn(ctx, path);
        free(path);
    }
    free(v);
    return n < 0 ? n : 0;
}
