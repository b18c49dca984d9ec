/*
 * dns_zone.c - the zone: configuration, invalidation, statistics and
 * dns_query_process(), the one entry point for queries.
 *
 * The hot path is parse -> cache lookup -> emit: the parser lowercases and
 * hashes the question name in one pass, the cache returns a template built
 * earlier for the same (name, type), and dns__emit copies it with the
 * query's ID, flags and question bytes. Nothing is allocated. Only a miss
 * looks at the registry (dns_resolve.c) and builds a template.
 *
 * Freshness: dns_zone_invalidate(path), called from the registry's
 * on_change hook inside reg_commit, bumps generation counters, and a
 * template is valid while the generations of its two dependencies (their
 * sum) have not moved, so the very next query after a commit is answered
 * from the new tree. A change of <root>/g/m/... bumps
 *   - the zone's generation: the apex and the DNS-SD list of services;
 *   - the bucket of group g: every answer about g as a whole (its A, AAAA
 *     and SRV lists, DNS-SD browsing, _leader) and names one label below
 *     the apex;
 *   - the bucket of the pair (g, m): names two or more labels below the
 *     apex ("m.g.zk.", "x.m.g.zk."), found or not;
 *   - when the path is <root>/g itself, DNS_DEP_GROUPS, on which those
 *     names depend as well: which node "g" a name resolves to
 *     (case-insensitive) changes only then.
 * So a new member of g rebuilds g's lists, not the answers for the other
 * members of g nor those of other groups. A change of the root itself
 * drops everything. Buckets are hashes: two names may share one, which
 * only costs a rebuild.
 *
 * The SOA serial (the newest zxid under the root) is not part of any
 * template: it is patched into the output (dns__emit), so that negative
 * answers, which carry the SOA, depend on their name's bucket like
 * positive ones and not on every change in the zone.
 *
 * Rcodes decided before the cache: FORMERR (malformed), NOTIMP (opcode),
 * BADVERS (EDNS version > 0), REFUSED (class other than IN). After a miss:
 * out of zone -> FORWARD or REFUSED, qtype OPT -> FORMERR, AXFR/IXFR ->
 * REFUSED, MAILA/MAILB -> NOTIMP. Internal failure (out of memory) ->
 * SERVFAIL.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns_int.h"

void dns_config_default(dns_config *cfg)
{
    cfg->domain = "zk.";
    cfg->root = "/services";
    cfg->ttl = 0;
    cfg->negative_ttl = 0;
    cfg->forward = true;
    cfg->max_udp = 1232;
}

#define FNV32_OFFSET 2166136261u
#define FNV32_PRIME 16777619u

static uint32_t zone__fnv(uint32_t h, const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        h = (h ^ dns__lower(s[i])) * FNV32_PRIME;
    return h;
}

static uint16_t zone__fold(uint32_t h)
{
    return (uint16_t)((h ^ (h >> 16)) & (DNS_NBUCKETS - 1));
}

uint16_t dns__bucket(const uint8_t *label, size_t len)
{
    return zone__fold(zone__fnv(FNV32_OFFSET, label, len));
}

uint16_t dns__member_bucket(const uint8_t *group, size_t glen, const uint8_t *member,
                            size_t mlen)
{
    uint32_t h = zone__fnv(FNV32_OFFSET, group, glen);
    h = (h ^ '/') * FNV32_PRIME; /* no component holds a '/' */
    return zone__fold(zone__fnv(h, member, mlen));
}

uint32_t dns__serial(dns_zone *z)
{
    if (z->serial_gen != z->gen[DNS_DEP_ZONE] + 1) {
        z->serial = (uint32_t)reg_subtree_zxid(z->reg, z->root);
        z->serial_gen = z->gen[DNS_DEP_ZONE] + 1;
    }
    return z->serial;
}

const reg_node *dns__root_node(const dns_zone *z)
{
    return reg_lookup(z->reg, z->root);
}

/* ---- life cycle ------------------------------------------------------------ */

static char *zone__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    return d ? memcpy(d, s, n) : NULL;
}

static bool zone__root_ok(const reg_t *reg, const char *root)
{
    return root != NULL && root[0] == '/' && reg_path_validate(reg, root, false) == 0;
}

static int zone__init_names(dns_zone *z, const dns_config *cfg)
{
    int n = dns__name_from_text(cfg->domain, z->apex);
    if (n < 0 || !zone__root_ok(z->reg, cfg->root))
        return -EINVAL;
    z->apexlen = (size_t)n;
    dns_labels l;
    dns__labels(z->apex, &l);
    z->apexlabels = l.n;
    z->root = zone__strdup(cfg->root);
    z->domain_text = zone__strdup(cfg->domain);
    if (z->root == NULL || z->domain_text == NULL)
        return -ENOMEM;
    z->cfg.domain = z->domain_text;
    z->cfg.root = z->root;
    return 0;
}

dns_zone *dns_zone_create(const dns_config *cfg, const reg_t *reg)
{
    if (cfg == NULL || reg == NULL)
        return NULL;
    dns_zone *z = calloc(1, sizeof(*z));
    if (z == NULL)
        return NULL;
    z->reg = reg;
    z->cfg = *cfg;
    z->scratch = malloc(DNS_MAXMSG);
    z->build = malloc(sizeof(*z->build));
    if (z->scratch == NULL || z->build == NULL || zone__init_names(z, cfg) < 0) {
        dns_zone_free(z);
        return NULL;
    }
    return z;
}

void dns_zone_free(dns_zone *z)
{
    if (z == NULL)
        return;
    dns__cache_clear(z);
    dns__mset_flush(z);
    free(z->scratch);
    free(z->build);
    free(z->root);
    free(z->domain_text);
    free(z);
}

void dns_zone_invalidate(dns_zone *z, const char *path)
{
    if (z == NULL || path == NULL)
        return;
    size_t rl = strcmp(z->root, "/") == 0 ? 0 : strlen(z->root);
    if (strncmp(path, z->root, rl) != 0 || (path[rl] != '\0' && path[rl] != '/'))
        return; /* outside the root */
    const uint8_t *g = (const uint8_t *)path + rl + (path[rl] == '/');
    size_t glen = strcspn((const char *)g, "/");
    if (glen == 0) { /* the root itself */
        dns_zone_invalidate_all(z);
        return;
    }
    z->gen[DNS_DEP_ZONE]++;
    z->gen[dns__bucket(g, glen)]++;
    if (g[glen] == '\0') {
        z->gen[DNS_DEP_GROUPS]++;
        return;
    }
    const uint8_t *m = g + glen + 1;
    z->gen[dns__member_bucket(g, glen, m, strcspn((const char *)m, "/"))]++;
}

void dns_zone_invalidate_all(dns_zone *z)
{
    if (z == NULL)
        return;
    for (size_t i = 0; i < DNS_NGEN; i++)
        z->gen[i]++;
}

void dns_zone_stats(const dns_zone *z, dns_stats *out)
{
    if (z != NULL && out != NULL)
        *out = z->st;
}

/* ---- queries ----------------------------------------------------------------- */

/* An error response; always the ANSWER verdict unless it cannot be written. */
static int zone__error(dns_zone *z, const uint8_t *q, const dns_question *pq, unsigned rcode,
                       uint8_t *out, size_t out_cap, size_t *out_len)
{
    uint16_t udp = z->cfg.max_udp < 512 ? 512 : z->cfg.max_udp;
    uint16_t extra = z->cfg.forward ? DNS_F_RA : 0;
    size_t n = dns__error_response(q, pq, rcode, extra, udp, out, out_cap);
    if (n == 0)
        return DNS_VERDICT_DROP;
    if (rcode == DNS_R_FORMERR)
        z->st.formerr++;
    else if (rcode == DNS_R_REFUSED)
        z->st.refused++;
    z->st.answered++;
    *out_len = n;
    return DNS_VERDICT_ANSWER;
}

/* The rcode for a qtype that no name in the zone answers, or 0. */
static unsigned zone__qtype_rcode(uint16_t qtype)
{
    switch (qtype) {
    case 0:
    case DNS_T_OPT:
        return DNS_R_FORMERR;
    case DNS_T_AXFR:
    case DNS_T_IXFR:
        return DNS_R_REFUSED;
    case DNS_T_MAILA:
    case DNS_T_MAILB:
        return DNS_R_NOTIMP;
    default:
        return 0;
    }
}

static unsigned zone__kind(const dns_build *b)
{
    if (b->rcode == DNS_R_NXDOMAIN)
        return DNS_K_NXDOMAIN;
    return b->count[0] == 0 ? DNS_K_NODATA : DNS_K_ANSWER;
}

/* Builds and caches the template for pq. Returns it, or NULL on ENOMEM. */
static dns_tmpl *zone__fill(dns_zone *z, const dns_question *pq, dns_tmpl **owned)
{
    dns_build *b = z->build;
    *owned = NULL;
    dns__build_init(b, z, pq);
    if (dns__resolve(b) < 0)
        return NULL;
    unsigned kind = zone__kind(b);
    dns_tmpl *t = dns__build_finish(b);
    if (t == NULL)
        return NULL;
    t->kind = (uint8_t)kind;
    if (dns__cache_put(z, pq, t, b->dep, b->dep2) < 0)
        *owned = t; /* not cached: the caller frees it after use */
    return t;
}

static void zone__count(dns_zone *z, const dns_tmpl *t, bool tc)
{
    z->st.answered++;
    z->st.truncated += tc;
    z->st.nxdomain += t->kind == DNS_K_NXDOMAIN;
    z->st.nodata += t->kind == DNS_K_NODATA;
}

/* The miss path: zone check, special qtypes, then a new template. */
static int zone__miss(dns_zone *z, const uint8_t *q, const dns_question *pq, int transport,
                      uint8_t *out, size_t out_cap, size_t *out_len)
{
    if (!dns__name_in_zone(pq->lname, pq->namelen, z->apex, z->apexlen)) {
        if (!z->cfg.forward)
            return zone__error(z, q, pq, DNS_R_REFUSED, out, out_cap, out_len);
        z->st.forwarded++;
        return DNS_VERDICT_FORWARD;
    }
    z->st.cache_misses++;
    unsigned rcode = zone__qtype_rcode(pq->qtype);
    if (rcode)
        return zone__error(z, q, pq, rcode, out, out_cap, out_len);
    dns_tmpl *owned, *t = zone__fill(z, pq, &owned);
    if (t == NULL)
        return zone__error(z, q, pq, DNS_R_SERVFAIL, out, out_cap, out_len);
    bool tc;
    size_t n = dns__emit(z, t, q, pq, dns__limit(z, pq, transport, out_cap), out, &tc);
    if (n > 0)
        zone__count(z, t, tc);
    free(owned);
    *out_len = n;
    return n > 0 ? DNS_VERDICT_ANSWER : DNS_VERDICT_DROP;
}

static int zone__parse_fail(dns_zone *z, int status, const uint8_t *q, dns_question *pq,
                            uint8_t *out, size_t out_cap, size_t *out_len)
{
    if (status == DNS_P_DROP)
        return DNS_VERDICT_DROP;
    unsigned rcode = status == DNS_P_NOTIMP ? DNS_R_NOTIMP : DNS_R_FORMERR;
    return zone__error(z, q, pq, rcode, out, out_cap, out_len);
}

int dns_query_process(dns_zone *zone, const uint8_t *q, size_t qlen, int transport,
                      uint8_t *out, size_t out_cap, size_t *out_len)
{
    dns_question pq;
    if (zone == NULL || q == NULL || out == NULL || out_len == NULL)
        return -EINVAL;
    *out_len = 0;
    zone->st.queries++;
    int status = dns__parse_query(q, qlen, &pq);
    if (status != DNS_P_OK)
        return zone__parse_fail(zone, status, q, &pq, out, out_cap, out_len);
    if (pq.edns && pq.edns_version > 0)
        return zone__error(zone, q, &pq, DNS_R_BADVERS, out, out_cap, out_len);
    if (pq.qclass != DNS_C_IN)
        return zone__error(zone, q, &pq, DNS_R_REFUSED, out, out_cap, out_len);
    dns_tmpl *t = dns__cache_get(zone, &pq);
    if (t == NULL)
        return zone__miss(zone, q, &pq, transport, out, out_cap, out_len);
    zone->st.cache_hits++;
    bool tc;
    size_t n = dns__emit(zone, t, q, &pq, dns__limit(zone, &pq, transport, out_cap), out, &tc);
    if (n == 0)
        return DNS_VERDICT_DROP;
    zone__count(zone, t, tc);
    *out_len = n;
    return DNS_VERDICT_ANSWER;
}
