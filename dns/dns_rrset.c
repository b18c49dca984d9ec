/*
 * dns_rrset.c - the RRsets zonekeeper serves, encoded into a dns_build.
 *
 * Every function here writes whole RRsets (the builder's sticky error tells
 * the caller when one did not fit). Owners are the question name unless
 * said otherwise, which the builder turns into a 2-byte pointer. TTLs are
 * the zone's positive TTL; only the SOA in a negative answer differs
 * (RFC 2308: min(SOA TTL, SOA minimum)). The SOA's serial is written with
 * its offset noted: the output patches in the serial of the moment.
 *
 * Address lists put the members of the lowest priority value first (stable
 * otherwise: registry order) and mark each record for weighted rotation.
 * Host-name members have no place in an address list (a CNAME cannot share
 * an owner with A records); they are reached through SRV, whose target is
 * then the host name itself (RFC 2782: a target must not be an alias), or
 * at their own name, which is a CNAME.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns_int.h"

#define SOA_REFRESH 3600u
#define SOA_RETRY 600u
#define SOA_EXPIRE 86400u

static uint32_t rr__ttl(const dns_build *b)
{
    return b->z->cfg.ttl;
}

static const uint8_t *rr__qname(const dns_build *b, size_t *len)
{
    *len = b->q->namelen;
    return b->q->lname;
}

static bool rr__family(const dns_member *m, unsigned qtype)
{
    return (m->kind == DNS_ADDR_V4 && qtype == DNS_T_A) ||
           (m->kind == DNS_ADDR_V6 && qtype == DNS_T_AAAA);
}

/* An owner name: its wire bytes, and where the same name already is in
 * the message (at; 0: not yet), which a pointer reaches more cheaply. */
typedef struct rr_owner {
    const uint8_t *name;
    size_t len, at;
} rr_owner;

static rr_owner rr__qowner(const dns_build *b)
{
    rr_owner o = {.at = 0};
    o.name = rr__qname(b, &o.len);
    return o;
}

static size_t rr__begin(dns_build *b, const rr_owner *o, unsigned type)
{
    if (o->at != 0 && o->at <= DNS_PTR_MAX)
        return dns__b_rr_begin_at(b, o->at, type, rr__ttl(b));
    return dns__b_rr_begin(b, o->name, o->len, type, rr__ttl(b));
}

/* One A or AAAA record for m at owner. */
static void rr__addr_at(dns_build *b, const rr_owner *o, const dns_member *m)
{
    unsigned type = m->kind == DNS_ADDR_V4 ? DNS_T_A : DNS_T_AAAA;
    size_t at = rr__begin(b, o, type);
    dns__b_bytes(b, m->addr, type == DNS_T_A ? 4 : 16);
    dns__b_rr_end(b, at);
}

void dns__rr_member_addr(dns_build *b, const dns_member *m, unsigned qtype)
{
    rr_owner q = rr__qowner(b);
    if (rr__family(m, qtype))
        rr__addr_at(b, &q, m);
}

typedef struct rr_ord {
    uint16_t priority;
    size_t idx;
} rr_ord;

static int rr__ord_cmp(const void *pa, const void *pb)
{
    const rr_ord *a = pa, *b = pb;
    if (a->priority != b->priority)
        return a->priority < b->priority ? -1 : 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

void dns__rr_members_addr(dns_build *b, const dns_mset *set, unsigned qtype)
{
    rr_ord *ord = malloc((set->n ? set->n : 1) * sizeof(*ord));
    size_t n = 0;
    rr_owner q = rr__qowner(b);
    if (ord == NULL) {
        b->err = -ENOMEM;
        return;
    }
    for (size_t i = 0; i < set->n; i++)
        if (rr__family(&set->m[i], qtype))
            ord[n++] = (rr_ord){.priority = set->m[i].priority, .idx = i};
    qsort(ord, n, sizeof(*ord), rr__ord_cmp);
    for (size_t i = 0; i < n; i++) {
        const dns_member *m = &set->m[ord[i].idx];
        dns__b_rot_mark(b, m->weight, m->priority);
        rr__addr_at(b, &q, m);
    }
    free(ord);
}

bool dns__member_srv_ok(const dns_member *m)
{
    return m->port != 0 && (m->kind == DNS_ADDR_HOST || (m->namelen >= 1 && m->namelen <= 63));
}

int dns__member_target(const dns_zone *z, const dns_member *m, const uint8_t *svc,
                       size_t svclen, uint8_t *out)
{
    if (m->kind == DNS_ADDR_HOST) {
        memcpy(out, m->host, m->hostlen);
        return m->hostlen;
    }
    size_t pos = 0;
    if (dns__name_push(out, &pos, m->name, m->namelen) < 0 ||
        pos + svclen + z->apexlen > DNS_MAXNAME)
        return -ENAMETOOLONG;
    memcpy(out + pos, svc, svclen);
    memcpy(out + pos + svclen, z->apex, z->apexlen);
    return (int)(pos + svclen + z->apexlen);
}

/* One SRV record at owner. Returns the offset of its target in the
 * message, 0 if m cannot have one (or nothing more fits). */
static size_t rr__srv_at(dns_build *b, const rr_owner *o, const dns_member *m,
                         const uint8_t *svc, size_t svclen)
{
    uint8_t target[DNS_MAXNAME];
    int tlen = dns__member_srv_ok(m) ? dns__member_target(b->z, m, svc, svclen, target) : -1;
    if (tlen < 0)
        return 0;
    size_t at = rr__begin(b, o, DNS_T_SRV);
    dns__b_u16(b, m->priority);
    dns__b_u16(b, m->weight);
    dns__b_u16(b, m->port);
    size_t target_at = b->len;
    dns__b_name(b, target, (size_t)tlen, false);
    dns__b_rr_end(b, at);
    return b->err ? 0 : target_at;
}

/* The address of m at its target name (written at offset target_at, or
 * nowhere yet: 0), as one additional RRset. */
static void rr__glue(dns_build *b, const dns_member *m, const uint8_t *svc, size_t svclen,
                     size_t target_at)
{
    uint8_t target[DNS_MAXNAME];
    if (m->kind == DNS_ADDR_HOST || !dns__member_srv_ok(m))
        return;
    int tlen = dns__member_target(b->z, m, svc, svclen, target);
    if (tlen < 0)
        return;
    rr_owner o = {.name = target, .len = (size_t)tlen, .at = target_at};
    dns__b_set_begin(b);
    rr__addr_at(b, &o, m);
    dns__b_set_end(b);
}

/* Where member i's name was written (0: nowhere, or past what we note). */
static size_t rr__name_at(const dns_build *b, size_t i)
{
    return i < DNS_MAXCUTS && b->nrot == 0 ? b->name_at[i] : 0;
}

size_t dns__rr_srv(dns_build *b, const dns_mset *set, const dns_member *only,
                   const uint8_t *svc, size_t svclen)
{
    size_t n = 0, count = only ? 1 : set->n;
    rr_owner q = rr__qowner(b);
    const dns_member *ms = only ? only : set->m;
    for (size_t i = 0; i < count; i++) {
        size_t at = rr__srv_at(b, &q, &ms[i], svc, svclen);
        if (i < DNS_MAXCUTS)
            b->name_at[i] = (uint32_t)at;
        n += at != 0;
    }
    if (n == 0 || b->err)
        return n;
    dns__b_section(b, 2);
    for (size_t i = 0; i < count; i++)
        rr__glue(b, &ms[i], svc, svclen, rr__name_at(b, i));
    return n;
}

/* A TXT record for m at owner: its pairs, or one empty string if empty_ok. */
static void rr__txt_at(dns_build *b, const rr_owner *o, const dns_member *m, bool empty_ok)
{
    static const uint8_t empty[1] = {0};
    if (m->txtlen == 0 && !empty_ok)
        return;
    size_t at = rr__begin(b, o, DNS_T_TXT);
    if (m->txtlen)
        dns__b_bytes(b, m->txt, m->txtlen);
    else
        dns__b_bytes(b, empty, 1);
    dns__b_rr_end(b, at);
}

void dns__rr_txt(dns_build *b, const dns_member *m, bool empty_ok)
{
    rr_owner q = rr__qowner(b);
    rr__txt_at(b, &q, m, empty_ok);
}

int dns__instance_name(const dns_build *b, const dns_member *m, uint8_t *out)
{
    size_t pos = 0;
    if (!dns__member_srv_ok(m) || m->namelen > 63 || m->namelen == 0 ||
        dns__name_push(out, &pos, m->name, m->namelen) < 0 ||
        pos + b->q->namelen > DNS_MAXNAME)
        return -ENAMETOOLONG;
    memcpy(out + pos, b->q->lname, b->q->namelen);
    return (int)(pos + b->q->namelen);
}

/* SRV, TXT and address of one DNS-SD instance, as additional RRsets; the
 * instance name is at offset inst_at (0: nowhere yet). */
static void rr__instance_extra(dns_build *b, const dns_member *m, const uint8_t *svc,
                               size_t svclen, size_t inst_at)
{
    uint8_t inst[DNS_MAXNAME];
    int ilen = dns__instance_name(b, m, inst);
    if (ilen < 0)
        return;
    rr_owner o = {.name = inst, .len = (size_t)ilen, .at = inst_at};
    dns__b_set_begin(b);
    size_t target_at = rr__srv_at(b, &o, m, svc, svclen);
    dns__b_set_end(b);
    dns__b_set_begin(b);
    rr__txt_at(b, &o, m, true);
    dns__b_set_end(b);
    rr__glue(b, m, svc, svclen, target_at);
}

size_t dns__rr_browse(dns_build *b, const dns_mset *set, const uint8_t *svc, size_t svclen)
{
    uint8_t inst[DNS_MAXNAME];
    size_t n = 0;
    for (size_t i = 0; i < set->n; i++) {
        int ilen = dns__instance_name(b, &set->m[i], inst);
        size_t at = ilen >= 0 ? dns__rr_ptr(b, inst, (size_t)ilen) : 0;
        if (i < DNS_MAXCUTS)
            b->name_at[i] = (uint32_t)at;
        n += ilen >= 0;
    }
    if (n == 0 || b->err)
        return n;
    dns__b_section(b, 2);
    for (size_t i = 0; i < set->n; i++)
        rr__instance_extra(b, &set->m[i], svc, svclen, rr__name_at(b, i));
    return n;
}

void dns__rr_cname(dns_build *b, const dns_member *m)
{
    size_t qlen;
    const uint8_t *qn = rr__qname(b, &qlen);
    size_t at = dns__b_rr_begin(b, qn, qlen, DNS_T_CNAME, rr__ttl(b));
    dns__b_name(b, m->host, m->hostlen, true);
    dns__b_rr_end(b, at);
}

/* "<label>.<apex>" in wire form into out; returns its length. */
static size_t rr__apex_child(const dns_zone *z, const char *label, uint8_t *out)
{
    size_t pos = 0;
    (void)dns__name_push(out, &pos, label, strlen(label));
    if (pos + z->apexlen > DNS_MAXNAME)
        return 0;
    memcpy(out + pos, z->apex, z->apexlen);
    return pos + z->apexlen;
}

void dns__rr_soa(dns_build *b, uint32_t ttl)
{
    const dns_zone *z = b->z;
    uint8_t mname[DNS_MAXNAME], rname[DNS_MAXNAME];
    size_t mlen = rr__apex_child(z, "ns", mname), rlen = rr__apex_child(z, "hostmaster", rname);
    if (mlen == 0 || rlen == 0) { /* an apex too long for these: use the apex */
        memcpy(mname, z->apex, mlen = z->apexlen);
        memcpy(rname, z->apex, rlen = z->apexlen);
    }
    size_t at = dns__b_rr_begin(b, z->apex, z->apexlen, DNS_T_SOA, ttl);
    dns__b_name(b, mname, mlen, true);
    dns__b_name(b, rname, rlen, true);
    if (!b->err)
        b->serial_off = b->len; /* dns__emit writes the serial of the moment */
    dns__b_u32(b, dns__serial(b->z));
    dns__b_u32(b, SOA_REFRESH);
    dns__b_u32(b, SOA_RETRY);
    dns__b_u32(b, SOA_EXPIRE);
    dns__b_u32(b, z->cfg.negative_ttl);
    dns__b_rr_end(b, at);
}

void dns__rr_hinfo(dns_build *b)
{
    static const uint8_t rd[] = {7, 'R', 'F', 'C', '8', '4', '8', '2', 0};
    size_t qlen;
    const uint8_t *qn = rr__qname(b, &qlen);
    size_t at = dns__b_rr_begin(b, qn, qlen, DNS_T_HINFO, rr__ttl(b));
    dns__b_bytes(b, rd, sizeof(rd));
    dns__b_rr_end(b, at);
}

size_t dns__rr_ptr(dns_build *b, const uint8_t *target, size_t tlen)
{
    rr_owner q = rr__qowner(b);
    size_t at = rr__begin(b, &q, DNS_T_PTR), target_at = b->len;
    dns__b_name(b, target, tlen, true);
    dns__b_rr_end(b, at);
    return b->err ? 0 : target_at;
}

void dns__rr_ns(dns_build *b, bool glue)
{
    static const uint8_t v4[4] = {127, 0, 0, 1};
    static const uint8_t v6[16] = {[15] = 1};
    const dns_zone *z = b->z;
    uint8_t ns[DNS_MAXNAME];
    size_t nlen = rr__apex_child(z, "ns", ns);
    if (nlen == 0)
        return;
    size_t at = dns__b_rr_begin(b, z->apex, z->apexlen, DNS_T_NS, rr__ttl(b));
    dns__b_name(b, ns, nlen, true);
    dns__b_rr_end(b, at);
    if (!glue)
        return;
    dns__b_section(b, 2);
    dns__b_set_begin(b);
    at = dns__b_rr_begin(b, ns, nlen, DNS_T_A, rr__ttl(b));
    dns__b_bytes(b, v4, 4);
    dns__b_rr_end(b, at);
    dns__b_set_end(b);
    dns__b_set_begin(b);
    at = dns__b_rr_begin(b, ns, nlen, DNS_T_AAAA, rr__ttl(b));
    dns__b_bytes(b, v6, 16);
    dns__b_rr_end(b, at);
    dns__b_set_end(b);
}

/* A or AAAA of the synthesized name server at the question name. */
void dns__rr_ns_addr(dns_build *b, unsigned qtype)
{
    static const uint8_t v4[4] = {127, 0, 0, 1};
    static const uint8_t v6[16] = {[15] = 1};
    size_t qlen;
    const uint8_t *qn = rr__qname(b, &qlen);
    if (qtype != DNS_T_A && qtype != DNS_T_AAAA)
        return;
    size_t at = dns__b_rr_begin(b, qn, qlen, qtype, rr__ttl(b));
    dns__b_bytes(b, qtype == DNS_T_A ? v4 : v6, qtype == DNS_T_A ? 4 : 16);
    dns__b_rr_end(b, at);
}
