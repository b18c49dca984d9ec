/*
 * dns_resolve.c - what a name in the zone holds (the miss path).
 *
 * The labels left of the apex are read right to left as path components
 * under the root: "api.web.zk." is <root>/web/api, each component found
 * with reg_node_child_icase() on the lowercased label (an exact lowercase
 * name wins, else the first case-insensitive match in byte order). A few
 * shapes are recognised before that, by their labels alone:
 *
 *   <apex>                            SOA, NS; A/AAAA/SRV of the root's members
 *   _services._dns-sd._udp.<apex>     PTR to "_<group>._tcp.<apex>" per group
 *                                     that has a member with a port
 *   _<svc>._tcp|_udp.<apex>           PTR to instances, and SRV (as <svc>)
 *   <id>._<svc>._tcp|_udp.<apex>      SRV and TXT of member <id> of <svc>
 *   _leader.<name>                    answers as the leader member of <name>
 *   ns.<apex>                         A 127.0.0.1 / AAAA ::1 while no group
 *                                     "ns" exists
 *   _tcp|_udp.<apex>, _dns-sd._udp.<apex>  exist (NODATA) while no such node
 *                                     does, since DNS-SD names lie below
 *   anything else                     the node: a member answers with its own
 *                                     records, any other node with those of
 *                                     its member children
 *
 * No node: NXDOMAIN. A node without records of the type: NODATA. Both carry
 * the SOA (RFC 2308), whose serial the output patches in. What an answer
 * depends on (b->dep, b->dep2; see dns_zone.c): the apex and the list of
 * services on the whole zone; names one label below the apex, DNS-SD names
 * and _leader on their group; other names two or more labels below the
 * apex, "m.g.<apex>" and below, on the pair (g, m) and on the group nodes
 * (DNS_DEP_GROUPS), whether the name exists or not.
 */
#include <errno.h>
#include <string.h>

#include "dns_int.h"

/* Is the label fit to be a path component? (ZooKeeper: no '/', not "." or
 * "..", no control characters.) */
static bool res__label_ok(const uint8_t *l)
{
    if ((l[0] == 1 && l[1] == '.') || (l[0] == 2 && l[1] == '.' && l[2] == '.'))
        return false;
    for (size_t i = 1; i <= l[0]; i++)
        if (l[i] == '/' || l[i] < 0x20 || l[i] == 0x7f)
            return false;
    return true;
}

/* The node for labels [from, to) of the question (rightmost first). */
static const reg_node *res__walk(const dns_build *b, size_t from, size_t to)
{
    const reg_node *n = dns__root_node(b->z);
    for (size_t i = to; n && i > from; i--) {
        const uint8_t *l = b->ql.lab[i - 1];
        n = res__label_ok(l) ? reg_node_child_icase(n, (const char *)l + 1, l[0]) : NULL;
    }
    return n;
}

/* Wire labels [from, nrel) of the question, without the apex. */
static const uint8_t *res__rel(const dns_build *b, size_t from, size_t *len)
{
    size_t nrel = b->ql.n - b->z->apexlabels;
    const uint8_t *end = b->q->lname + b->q->namelen - b->z->apexlen;
    const uint8_t *start = from < nrel ? b->ql.lab[from] : end;
    *len = (size_t)(end - start);
    return start;
}

static int res__negative(dns_build *b, unsigned rcode)
{
    uint32_t ttl = b->z->cfg.ttl < b->z->cfg.negative_ttl ? b->z->cfg.ttl
                                                          : b->z->cfg.negative_ttl;
    b->rcode = (uint16_t)rcode;
    dns__b_section(b, 1);
    dns__rr_soa(b, ttl);
    return 0;
}

/* NODATA if nothing was added to the answer. */
static int res__done(dns_build *b)
{
    if (b->err == -ENOMEM)
        return -ENOMEM;
    return b->count[0] == 0 && !b->err ? res__negative(b, DNS_R_NOERROR) : 0;
}

/* A member at the question name; svc: the labels of its group. */
static int res__member(dns_build *b, const dns_member *m, const uint8_t *svc, size_t svclen)
{
    unsigned qt = b->q->qtype;
    if (m->kind == DNS_ADDR_HOST)
        dns__rr_cname(b, m);
    else if (qt == DNS_T_A || qt == DNS_T_AAAA)
        dns__rr_member_addr(b, m, qt);
    else if (qt == DNS_T_SRV)
        dns__rr_srv(b, NULL, m, svc, svclen);
    else if (qt == DNS_T_TXT)
        dns__rr_txt(b, m, false);
    else if (qt == DNS_T_ANY)
        dns__rr_hinfo(b);
    return res__done(b);
}

/* A node that is not a member: its member children. */
static int res__group(dns_build *b, const reg_node *n, const uint8_t *svc, size_t svclen)
{
    unsigned qt = b->q->qtype;
    if (qt == DNS_T_ANY) {
        dns__rr_hinfo(b);
        return res__done(b);
    }
    if (qt != DNS_T_A && qt != DNS_T_AAAA && qt != DNS_T_SRV)
        return res__done(b);
    const dns_mset *set = dns__mset_get(b->z, n, b->dep);
    if (set == NULL)
        return -ENOMEM;
    if (qt == DNS_T_SRV)
        dns__rr_srv(b, set, NULL, svc, svclen);
    else
        dns__rr_members_addr(b, set, qt);
    return res__done(b);
}

/* Labels [0, nrel) name node n. */
static int res__node(dns_build *b, const reg_node *n)
{
    size_t glen, mlen;
    const uint8_t *gsvc = res__rel(b, 0, &glen), *msvc = res__rel(b, 1, &mlen);
    dns_member m;
    int rc = dns__member_of_node(n, &m);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return res__group(b, n, gsvc, glen);
    rc = res__member(b, &m, msvc, mlen);
    dns__member_clear(&m);
    return rc;
}

static int res__apex(dns_build *b)
{
    const reg_node *root = dns__root_node(b->z);
    size_t len;
    const uint8_t *none = res__rel(b, 0, &len);
    b->dep = DNS_DEP_ZONE;
    if (b->q->qtype == DNS_T_SOA)
        dns__rr_soa(b, b->z->cfg.ttl);
    else if (b->q->qtype == DNS_T_NS)
        dns__rr_ns(b, root == NULL || reg_node_child_icase(root, "ns", 2) == NULL);
    else if (root != NULL)
        return res__group(b, root, none, len);
    else if (b->q->qtype == DNS_T_ANY)
        dns__rr_hinfo(b);
    return res__done(b);
}

/* Does group node g have a member that can be a DNS-SD instance? */
static int res__has_instance(dns_build *b, const reg_node *g)
{
    size_t nlen;
    const char *name = reg_node_name(g, &nlen);
    const dns_mset *set = dns__mset_get(b->z, g, dns__bucket((const uint8_t *)name, nlen));
    if (set == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < set->n; i++)
        if (dns__member_srv_ok(&set->m[i]) && set->m[i].namelen <= 63)
            return 1;
    return 0;
}

/* "_<group>._tcp.<apex>" for group g into out; length or -ENAMETOOLONG. */
static int res__service_name(const dns_zone *z, const reg_node *g, uint8_t *out)
{
    size_t nlen, pos = 0;
    const char *name = reg_node_name(g, &nlen);
    char label[64];
    if (nlen == 0 || nlen > 62)
        return -ENAMETOOLONG;
    label[0] = '_';
    memcpy(label + 1, name, nlen);
    if (dns__name_push(out, &pos, label, nlen + 1) < 0 ||
        dns__name_push(out, &pos, "_tcp", 4) < 0 || pos + z->apexlen > DNS_MAXNAME)
        return -ENAMETOOLONG;
    memcpy(out + pos, z->apex, z->apexlen);
    return (int)(pos + z->apexlen);
}

static int res__services(dns_build *b)
{
    const reg_node *root = dns__root_node(b->z);
    b->dep = DNS_DEP_ZONE;
    if (b->q->qtype == DNS_T_ANY)
        dns__rr_hinfo(b);
    if (b->q->qtype != DNS_T_PTR || root == NULL)
        return res__done(b);
    for (const reg_node *g = reg_node_first_child(root); g; g = reg_node_next_sibling(g)) {
        uint8_t name[DNS_MAXNAME];
        int has = res__has_instance(b, g), len = has > 0 ? res__service_name(b->z, g, name) : -1;
        if (has < 0)
            return has;
        if (len > 0)
            dns__rr_ptr(b, name, (size_t)len);
    }
    return res__done(b);
}

/* The group node of service label l ("_web"), or NULL. */
static const reg_node *res__service(dns_build *b, const uint8_t *l)
{
    const reg_node *root = dns__root_node(b->z);
    b->dep = dns__bucket(l + 2, (size_t)l[0] - 1);
    if (root == NULL || l[0] < 2 || !res__label_ok(l))
        return NULL;
    return reg_node_child_icase(root, (const char *)l + 2, (size_t)l[0] - 1);
}

static bool res__is_proto(const uint8_t *l)
{
    return dns__label_is(l, "_tcp") || dns__label_is(l, "_udp");
}

/* "_tcp", "_udp" and "_dns-sd._udp" under the apex have names below them
 * (DNS-SD), so they exist even without a node: NODATA, never NXDOMAIN, or a
 * resolver that minimises its queries (RFC 9156) and trusts NXDOMAIN cuts
 * (RFC 8020) would never ask for "_web._tcp". */
static bool res__is_ent(const dns_build *b, size_t nrel)
{
    const uint8_t *const *lab = b->ql.lab;
    return (nrel == 1 && res__is_proto(lab[0])) ||
           (nrel == 2 && dns__label_is(lab[0], "_dns-sd") && dns__label_is(lab[1], "_udp"));
}

/* "_<svc>._tcp.<apex>": PTR to instances, SRV of the members. */
static int res__browse(dns_build *b)
{
    const uint8_t *l = b->ql.lab[0];
    uint8_t svc[64];
    const reg_node *g = res__service(b, l);
    if (g == NULL)
        return res__is_ent(b, 2) ? res__done(b) : res__negative(b, DNS_R_NXDOMAIN);
    unsigned qt = b->q->qtype;
    svc[0] = (uint8_t)(l[0] - 1);
    memcpy(svc + 1, l + 2, svc[0]);
    if (qt == DNS_T_ANY)
        dns__rr_hinfo(b);
    if (qt != DNS_T_PTR && qt != DNS_T_SRV)
        return res__done(b);
    const dns_mset *set = dns__mset_get(b->z, g, b->dep);
    if (set == NULL)
        return -ENOMEM;
    if (qt == DNS_T_PTR)
        dns__rr_browse(b, set, svc, (size_t)svc[0] + 1);
    else
        dns__rr_srv(b, set, NULL, svc, (size_t)svc[0] + 1);
    return res__done(b);
}

/* "<id>._<svc>._tcp.<apex>": SRV and TXT of one instance. */
static int res__instance(dns_build *b)
{
    const uint8_t *il = b->ql.lab[0], *sl = b->ql.lab[1];
    uint8_t svc[64];
    const reg_node *g = res__service(b, sl);
    const reg_node *n = g && res__label_ok(il)
                            ? reg_node_child_icase(g, (const char *)il + 1, il[0]) : NULL;
    dns_member m;
    int rc = n ? dns__member_of_node(n, &m) : 0;
    if (rc <= 0)
        return rc < 0 ? rc : res__negative(b, DNS_R_NXDOMAIN);
    svc[0] = (uint8_t)(sl[0] - 1);
    memcpy(svc + 1, sl + 2, svc[0]);
    if (!dns__member_srv_ok(&m))
        rc = res__negative(b, DNS_R_NXDOMAIN);
    else if (b->q->qtype == DNS_T_SRV)
        dns__rr_srv(b, NULL, &m, svc, (size_t)svc[0] + 1);
    else if (b->q->qtype == DNS_T_TXT)
        dns__rr_txt(b, &m, true);
    else if (b->q->qtype == DNS_T_ANY)
        dns__rr_hinfo(b);
    dns__member_clear(&m);
    return rc < 0 || b->rcode ? rc : res__done(b);
}

/* "_leader.<name>": the leader among the members of <name>. */
static int res__leader(dns_build *b, size_t nrel)
{
    const reg_node *n = res__walk(b, 1, nrel);
    if (n == NULL)
        return res__negative(b, DNS_R_NXDOMAIN);
    const dns_mset *set = dns__mset_get(b->z, n, b->dep);
    if (set == NULL)
        return -ENOMEM;
    long i = dns__mset_leader(set);
    if (i < 0)
        return res__negative(b, DNS_R_NXDOMAIN);
    size_t svclen;
    const uint8_t *svc = res__rel(b, 1, &svclen);
    return res__member(b, &set->m[i], svc, svclen);
}

int dns__resolve(dns_build *b)
{
    size_t nrel = b->ql.n - b->z->apexlabels;
    const uint8_t *const *lab = b->ql.lab;
    if (nrel == 0)
        return res__apex(b);
    b->dep = dns__bucket(lab[nrel - 1] + 1, lab[nrel - 1][0]);
    if (nrel == 3 && dns__label_is(lab[0], "_services") && dns__label_is(lab[1], "_dns-sd") &&
        dns__label_is(lab[2], "_udp"))
        return res__services(b);
    if (nrel == 2 && lab[0][1] == '_' && res__is_proto(lab[1]))
        return res__browse(b);
    if (nrel == 3 && lab[1][1] == '_' && res__is_proto(lab[2]))
        return res__instance(b);
    if (nrel >= 2 && dns__label_is(lab[0], "_leader"))
        return res__leader(b, nrel);
    if (nrel >= 2) { /* "m.g.<apex>" and below: the subtree <root>/g/m */
        const uint8_t *g = lab[nrel - 1], *m = lab[nrel - 2];
        b->dep = dns__member_bucket(g + 1, g[0], m + 1, m[0]);
        b->dep2 = DNS_DEP_GROUPS;
    }
    const reg_node *n = res__walk(b, 0, nrel);
    if (n == NULL && res__is_ent(b, nrel))
        return res__done(b); /* NODATA */
    if (n == NULL && nrel == 1 && dns__label_is(lab[0], "ns")) {
        b->dep = DNS_DEP_ZONE;
        dns__rr_ns_addr(b, b->q->qtype);
        return res__done(b);
    }
    return n ? res__node(b, n) : res__negative(b, DNS_R_NXDOMAIN);
}
