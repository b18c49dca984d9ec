/*
 * reg_acl.c - ACLs: interning, ZooKeeper's fixupACL and checkACL.
 *
 * Nodes share ACL lists: a list is interned once (hashed, compared entry by
 * entry, order included, like ZooKeeper's ReferenceCountedACLCache) and
 * nodes hold its 32-bit id; the list is freed with its last reference. Ids
 * 0 (world:anyone ALL) and 1 (world:anyone READ) are built in and never
 * freed. Checks follow ZooKeeperServer.checkACL: session 0 (the server) and
 * a "super" identity pass everything; an entry grants its perms to
 * world:anyone, to a session identity of the same scheme with an equal id
 * (digest, x509, ...), or for "ip" to a session ip inside the address/mask.
 * A list longer than ACL_IX_MIN gets a table at interning, so that a check
 * costs the session's identities, not identities x entries: 250 identities
 * against 40,000 entries took 88 ms of the loop per getData by scanning.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reg_internal.h"

#define ACL_MAX_ENTRIES 65535u
#define ACL_IX_MIN 16u

static uint64_t ace_hash(const struct reg__ace *e, uint32_t n)
{
    uint64_t h = n;
    for (uint32_t i = 0; i < n; i++) {
        h = h * 31 + (uint32_t)e[i].perms;
        h ^= reg__hash_bytes(e[i].scheme, strlen(e[i].scheme));
        h = h * 31 + reg__hash_bytes(e[i].id, strlen(e[i].id));
    }
    return reg__hash_u64(h);
}

static bool ace_eq(const struct reg__ace *a, const struct reg__ace *b)
{
    return a->perms == b->perms && strcmp(a->scheme, b->scheme) == 0 &&
           strcmp(a->id, b->id) == 0;
}

static bool list_eq(const struct reg__acl *a, const struct reg__ace *e, uint32_t n)
{
    if (a->n != n)
        return false;
    for (uint32_t i = 0; i < n; i++)
        if (!ace_eq(&a->e[i], &e[i]))
            return false;
    return true;
}

/* ---- the check table of a long list --------------------------------------- */

struct reg__acl_ix {
    int32_t world;   /* perms the world:anyone entries grant */
    uint32_t nip;    /* "ip" entries, matched by address: ip[0..nip) */
    uint32_t *ip;
    size_t mask;     /* other entries by (scheme, id): */
    uint32_t *slot;  /* index + 1 of the first entry of a key; 0 empty */
    int32_t *perms;  /* per slot: every perm its key's entries grant */
};

static size_t ix_cap(uint32_t n)
{
    size_t cap = 32;
    while (cap < 2 * (size_t)n)
        cap *= 2;
    return cap;
}

/* What a list's table costs, for reg->mem: a function of n alone, so that
 * interning and freeing count the same. */
static size_t ix_bytes(uint32_t n)
{
    if (n <= ACL_IX_MIN)
        return 0;
    return sizeof(struct reg__acl_ix) + n * sizeof(uint32_t) +
           ix_cap(n) * (sizeof(uint32_t) + sizeof(int32_t));
}

static bool is_anyone(const struct reg__ace *e)
{
    return strcmp(e->scheme, "world") == 0 && strcmp(e->id, "anyone") == 0;
}

static size_t ix_find(const struct reg__acl *a, const char *scheme, const char *id)
{
    const struct reg__acl_ix *x = a->ix;
    uint64_t h = reg__hash_bytes(scheme, strlen(scheme)) * 31 + reg__hash_bytes(id, strlen(id));
    size_t at = (size_t)reg__hash_u64(h) & x->mask;
    while (x->slot[at]) {
        const struct reg__ace *e = &a->e[x->slot[at] - 1];
        if (strcmp(e->scheme, scheme) == 0 && strcmp(e->id, id) == 0)
            break;
        at = (at + 1) & x->mask;
    }
    return at;
}

static void ix_free(struct reg__acl_ix *x)
{
    if (!x)
        return;
    free(x->ip);
    free(x->slot);
    free(x->perms);
    free(x);
}

static int ix_build(struct reg__acl *a)
{
    struct reg__acl_ix *x = calloc(1, sizeof(*x));
    size_t cap = ix_cap(a->n);
    if (!x || !(x->ip = malloc(a->n * sizeof(uint32_t))) ||
        !(x->slot = calloc(cap, sizeof(uint32_t))) || !(x->perms = calloc(cap, sizeof(int32_t)))) {
        ix_free(x);
        return -ENOMEM;
    }
    x->mask = cap - 1;
    a->ix = x;
    for (uint32_t i = 0; i < a->n; i++) {
        const struct reg__ace *e = &a->e[i];
        if (is_anyone(e)) {
            x->world |= e->perms;
        } else if (strcmp(e->scheme, "ip") == 0) {
            x->ip[x->nip++] = i;
        } else {
            size_t at = ix_find(a, e->scheme, e->id);
            if (!x->slot[at])
                x->slot[at] = i + 1;
            x->perms[at] |= e->perms;
        }
    }
    return 0;
}

static void acl_free(struct reg__acl *a)
{
    if (a)
        ix_free(a->ix);
    free(a);
}

static size_t acl_bytes(const struct reg__ace *e, uint32_t n)
{
    size_t bytes = sizeof(struct reg__acl) + n * sizeof(struct reg__ace) + ix_bytes(n);
    for (uint32_t i = 0; i < n; i++)
        bytes += strlen(e[i].scheme) + strlen(e[i].id) + 2;
    return bytes;
}

static struct reg__acl *acl_make(const struct reg__ace *e, uint32_t n, size_t bytes)
{
    struct reg__acl *a = malloc(bytes);
    if (!a)
        return NULL;
    char *s = (char *)&a->e[n];
    a->n = n;
    a->refs = 1;
    a->ix = NULL;
    for (uint32_t i = 0; i < n; i++) {
        size_t ls = strlen(e[i].scheme) + 1, li = strlen(e[i].id) + 1;
        a->e[i].perms = e[i].perms;
        a->e[i].scheme = memcpy(s, e[i].scheme, ls);
        a->e[i].id = memcpy(s + ls, e[i].id, li);
        s += ls + li;
    }
    return a;
}

static int slot_alloc(reg_t *reg, uint32_t *id)
{
    uint32_t i = reg->acl_free;
    while (i < reg->nacl_slots && reg->acls[i])
        i++;
    if (i == reg->nacl_slots) {
        uint32_t ncap = reg->nacl_slots ? reg->nacl_slots * 2 : 16;
        struct reg__acl **na = realloc(reg->acls, ncap * sizeof(*na));
        if (!na)
            return -ENOMEM;
        memset(na + reg->nacl_slots, 0, (ncap - reg->nacl_slots) * sizeof(*na));
        reg->acls = na;
        reg->nacl_slots = ncap;
    }
    reg->acl_free = i + 1;
    *id = i;
    return 0;
}

int reg__acl_intern(reg_t *reg, const struct reg__ace *e, uint32_t n, uint32_t *id)
{
    uint64_t h = ace_hash(e, n);
    for (reg__hlink *l = reg__htab_chain(&reg->acl_tab, h); l; l = l->next) {
        struct reg__acl *a = REG__CONTAINER_OF(l, struct reg__acl, h);
        if (l->hash == h && list_eq(a, e, n)) {
            reg__acl_ref(reg, a->id);
            *id = a->id;
            return 0;
        }
    }
    size_t bytes = acl_bytes(e, n);
    struct reg__acl *a = acl_make(e, n, bytes - ix_bytes(n));
    if (!a || (n > ACL_IX_MIN && ix_build(a) < 0) || slot_alloc(reg, &a->id) < 0) {
        acl_free(a);
        return -ENOMEM;
    }
    reg->acls[a->id] = a;
    reg__htab_insert(&reg->acl_tab, &a->h, h);
    reg->mem += bytes;
    *id = a->id;
    return 0;
}

void reg__acl_ref(reg_t *reg, uint32_t id)
{
    if (id > REG__ACL_READ && id < reg->nacl_slots && reg->acls[id])
        reg->acls[id]->refs++;
}

void reg__acl_unref(reg_t *reg, uint32_t id)
{
    if (id <= REG__ACL_READ || id >= reg->nacl_slots || !reg->acls[id])
        return;
    struct reg__acl *a = reg->acls[id];
    if (--a->refs > 0)
        return;
    reg__htab_remove(&reg->acl_tab, &a->h);
    reg->mem -= acl_bytes(a->e, a->n);
    reg->acls[id] = NULL;
    if (id < reg->acl_free)
        reg->acl_free = id;
    acl_free(a);
}

const struct reg__acl *reg__acl_get(const reg_t *reg, uint32_t id)
{
    if (id >= reg->nacl_slots)
        return NULL;
    return reg->acls[id];
}

int reg__acl_init(reg_t *reg)
{
    static const struct reg__ace open = {REG_PERM_ALL, "world", "anyone"};
    static const struct reg__ace read = {REG_PERM_READ, "world", "anyone"};
    uint32_t id0, id1;
    if (reg__htab_init(&reg->acl_tab) < 0)
        return -ENOMEM;
    if (reg__acl_intern(reg, &open, 1, &id0) < 0 ||
        reg__acl_intern(reg, &read, 1, &id1) < 0)
        return -ENOMEM;
    return 0;
}

void reg__acl_fini(reg_t *reg)
{
    for (uint32_t i = 0; i < reg->nacl_slots; i++)
        acl_free(reg->acls[i]);
    free(reg->acls);
    reg->acls = NULL;
    reg->nacl_slots = 0;
    reg__htab_free(&reg->acl_tab);
}

/* ---- owned lists ---------------------------------------------------------- */

void reg__acl_list_free(struct reg__acl_list *l)
{
    for (uint32_t i = 0; i < l->n; i++) {
        free(l->e[i].scheme);
        free(l->e[i].id);
    }
    free(l->e);
    l->e = NULL;
    l->n = 0;
}

/* Appends to a list that only list_push has grown from empty: its room is
 * the power of two at or above n (4 at least), doubled when full, so that
 * 60,000 entries cost 15 reallocs rather than 60,000 growing copies. */
static int list_push(struct reg__acl_list *l, int32_t perms, const char *scheme,
                     const char *id)
{
    if (l->n >= ACL_MAX_ENTRIES)
        return -EINVAL;
    struct reg__ace *ne = l->e;
    if (l->n == 0 || (l->n >= 4 && (l->n & (l->n - 1)) == 0)) {
        ne = realloc(l->e, (l->n < 4 ? 4 : 2 * (size_t)l->n) * sizeof(*ne));
        if (!ne)
            return -ENOMEM;
    }
    l->e = ne;
    ne[l->n].perms = perms;
    ne[l->n].scheme = strdup(scheme);
    ne[l->n].id = strdup(id);
    l->n++;
    if (!ne[l->n - 1].scheme || !ne[l->n - 1].id)
        return -ENOMEM;
    return 0;
}

int reg__acl_list_copy(struct reg__acl_list *dst, const struct reg__ace *e,
                       uint32_t n)
{
    dst->e = NULL;
    dst->n = 0;
    for (uint32_t i = 0; i < n; i++) {
        int rc = list_push(dst, e[i].perms, e[i].scheme, e[i].id);
        if (rc < 0) {
            reg__acl_list_free(dst);
            return rc;
        }
    }
    return 0;
}

/* ---- fixupACL --------------------------------------------------------------- */

/* DigestAuthenticationProvider.isValid: Java's id.split(":") (trailing empty
 * parts dropped) must give exactly two parts. */
static bool digest_valid(const char *id)
{
    size_t len = strlen(id), colons = 0;
    while (len > 0 && id[len - 1] == ':')
        len--;
    for (size_t i = 0; i < len; i++)
        colons += id[i] == ':';
    return len > 0 && colons == 1;
}

/* Whether an identity's scheme counts for "auth" (isAuthenticated()). */
static bool auth_scheme(const char *scheme)
{
    return strcmp(scheme, "ip") != 0 && strcmp(scheme, "super") != 0 &&
           strcmp(scheme, "world") != 0;
}

static int expand_auth(reg_t *reg, int64_t session, int32_t perms,
                       struct reg__acl_list *out)
{
    const struct reg__session *s = session ? reg__sess_find(reg, session) : NULL;
    bool any = false;
    for (size_t i = 0; s && i < s->nauth; i++) {
        if (!auth_scheme(s->auth[i].scheme))
            continue;
        int rc = list_push(out, perms, s->auth[i].scheme, s->auth[i].id);
        if (rc < 0)
            return rc;
        any = true;
    }
    return any ? 0 : REG_EINVALIDACL;
}

/* One entry, as fixupACL takes it. A NULL scheme or id is a jute null
 * string; where Java would dereference it (world's id.equals("anyone"),
 * the digest and ip providers' isValid) ZooKeeper throws a
 * NullPointerException, which it answers MARSHALLINGERROR. */
static int fix_one(reg_t *reg, int64_t session, const reg_acl *a,
                   struct reg__acl_list *out)
{
    if (!a->scheme)
        return REG_EINVALIDACL;
    if (strcmp(a->scheme, "world") == 0) {
        if (!a->id)
            return REG_EMARSHALLINGERROR;
        if (strcmp(a->id, "anyone") == 0)
            return list_push(out, a->perms, a->scheme, a->id);
        return REG_EINVALIDACL; /* no "world" provider */
    }
    if (strcmp(a->scheme, "auth") == 0)
        return expand_auth(reg, session, a->perms, out);
    bool digest = strcmp(a->scheme, "digest") == 0, ip = strcmp(a->scheme, "ip") == 0;
    if (!digest && !ip)
        return REG_EINVALIDACL; /* no provider for the scheme */
    if (!a->id)
        return REG_EMARSHALLINGERROR;
    if ((digest && digest_valid(a->id)) || (ip && reg__ip_valid(a->id)))
        return list_push(out, a->perms, a->scheme, a->id);
    return REG_EINVALIDACL;
}

/* removeDuplicates: ArrayList.contains calls the new entry's equals on each
 * kept one; jute's generated equals compares perms, then scheme.equals,
 * then id.equals, and throws on a null scheme or id of its own (not of the
 * peer's): MARSHALLINGERROR. Done that way, the scan is quadratic: a 1 MiB
 * request carries 40,000 entries, and 20,000 held the loop 1.5 s. So the
 * kept entries go into three hash tables of indices, keyed by perms; by
 * perms and scheme; by perms, scheme and id - the questions the scan asks. */
enum { DD_PERMS, DD_SCHEME, DD_ID, DD_LEVELS };

struct dedup {
    const reg_acl *acl;
    uint32_t *slot[DD_LEVELS]; /* index + 1 of a kept entry; 0 empty */
    size_t mask;
};

static uint64_t dd_hash(const reg_acl *a, int level)
{
    uint64_t h = ((uint64_t)(uint32_t)a->perms + 1) * 0x9e3779b97f4a7c15ull;
    if (level >= DD_SCHEME)
        h = (h ^ reg__hash_bytes(a->scheme, strlen(a->scheme))) * 0x100000001b3ull;
    if (level >= DD_ID)
        h = (h ^ reg__hash_bytes(a->id, strlen(a->id))) * 0x100000001b3ull;
    return h ^ (h >> 29);
}

static bool dd_same(const reg_acl *x, const reg_acl *y, int level)
{
    return x->perms == y->perms &&
           (level < DD_SCHEME || strcmp(x->scheme, y->scheme) == 0) &&
           (level < DD_ID || strcmp(x->id, y->id) == 0);
}

/* The slot of a kept entry equal to acl[i] at level, or the empty slot
 * where it would go. */
static uint32_t *dd_slot(const struct dedup *d, size_t i, int level)
{
    size_t at = (size_t)dd_hash(&d->acl[i], level) & d->mask;
    for (;;) {
        uint32_t *s = &d->slot[level][at];
        if (*s == 0 || dd_same(&d->acl[*s - 1], &d->acl[i], level))
            return s;
        at = (at + 1) & d->mask;
    }
}

static bool dd_seen(const struct dedup *d, size_t i, int level)
{
    return *dd_slot(d, i, level) != 0;
}

static void dd_keep(struct dedup *d, size_t i, int level)
{
    uint32_t *s = dd_slot(d, i, level);
    if (*s == 0)
        *s = (uint32_t)i + 1;
}

/* 1 if entry i repeats a kept one, 0 if it is kept (and remembered), or
 * MARSHALLINGERROR where Java's equals would throw. */
static int dd_check(struct dedup *d, size_t i)
{
    const reg_acl *a = &d->acl[i];
    if (dd_seen(d, i, DD_PERMS)) {
        if (!a->scheme)
            return REG_EMARSHALLINGERROR;
        if (dd_seen(d, i, DD_SCHEME)) {
            if (!a->id)
                return REG_EMARSHALLINGERROR;
            if (dd_seen(d, i, DD_ID))
                return 1;
        }
    }
    dd_keep(d, i, DD_PERMS);
    if (a->scheme)
        dd_keep(d, i, DD_SCHEME);
    if (a->scheme && a->id)
        dd_keep(d, i, DD_ID);
    return 0;
}

/* kept[i]: entry i survives removeDuplicates. 0 or an error. */
static int dd_run(const reg_acl *acl, size_t n, bool *kept)
{
    struct dedup d = {.acl = acl};
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    d.mask = cap - 1;
    int rc = 0;
    for (int l = 0; l < DD_LEVELS; l++)
        if (!(d.slot[l] = calloc(cap, sizeof(uint32_t))))
            rc = -ENOMEM;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = dd_check(&d, i);
        kept[i] = rc == 0;
        rc = rc > 0 ? 0 : rc;
    }
    for (int l = 0; l < DD_LEVELS; l++)
        free(d.slot[l]);
    return rc;
}

int reg__acl_fixup(reg_t *reg, int64_t session, const reg_acl *acl, size_t n,
                   struct reg__acl_list *out)
{
    out->e = NULL;
    out->n = 0;
    if (!acl && n == 0)
        return list_push(out, REG_PERM_ALL, "world", "anyone");
    if (!acl || n == 0)
        return REG_EINVALIDACL;
    if (n > ACL_MAX_ENTRIES)
        return REG_EINVALIDACL;
    bool *kept = calloc(n, sizeof(*kept));
    if (!kept)
        return -ENOMEM;
    int rc = dd_run(acl, n, kept);
    for (size_t i = 0; i < n && rc == 0; i++)
        if (kept[i])
            rc = fix_one(reg, session, &acl[i], out);
    free(kept);
    if (rc < 0)
        reg__acl_list_free(out);
    return rc;
}

/* ---- checkACL ----------------------------------------------------------------- */

static bool ident_matches(const struct reg__ident *who, const struct reg__ace *e)
{
    if (strcmp(who->scheme, e->scheme) != 0)
        return false;
    if (strcmp(e->scheme, "ip") == 0)
        return reg__ip_match(who->id, e->id);
    return strcmp(who->id, e->id) == 0;
}

/* ace_grants over every entry, through the table: the session's identities
 * looked up by (scheme, id), its ip identities matched against the ip
 * entries (a connection has one). */
static bool ix_grants(const struct reg__acl *a, const struct reg__session *s, int32_t perm)
{
    const struct reg__acl_ix *x = a->ix;
    if (x->world & perm)
        return true;
    for (size_t i = 0; s && i < s->nauth; i++) {
        const struct reg__ident *who = &s->auth[i];
        if (strcmp(who->scheme, "ip") != 0) {
            if (x->perms[ix_find(a, who->scheme, who->id)] & perm)
                return true;
            continue;
        }
        for (uint32_t j = 0; j < x->nip; j++) {
            const struct reg__ace *e = &a->e[x->ip[j]];
            if ((e->perms & perm) && reg__ip_match(who->id, e->id))
                return true;
        }
    }
    return false;
}

static bool ace_grants(const struct reg__session *s, const struct reg__ace *e)
{
    if (strcmp(e->scheme, "world") == 0 && strcmp(e->id, "anyone") == 0)
        return true;
    for (size_t i = 0; s && i < s->nauth; i++)
        if (ident_matches(&s->auth[i], e))
            return true;
    return false;
}

int reg__acl_check(const reg_t *reg, int64_t session, uint32_t id, int32_t perm)
{
    if (session == 0)
        return 0;
    const struct reg__acl *a = reg__acl_get(reg, id);
    if (!a || a->n == 0)
        return 0;
    const struct reg__session *s = reg__sess_find(reg, session);
    for (size_t i = 0; s && i < s->nauth; i++)
        if (strcmp(s->auth[i].scheme, "super") == 0)
            return 0;
    if (a->ix)
        return ix_grants(a, s, perm) ? 0 : REG_ENOAUTH;
    for (uint32_t i = 0; i < a->n; i++)
        if ((a->e[i].perms & perm) && ace_grants(s, &a->e[i]))
            return 0;
    return REG_ENOAUTH;
}
