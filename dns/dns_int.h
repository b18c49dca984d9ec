/*
 * dns_int.h - what the files of the DNS frontend share, and nothing else
 * includes.
 *
 * The pieces, in the order a query meets them:
 *   dns_parse.c   wire query -> dns_question (bounds-checked, no allocation)
 *   dns_zone.c    the zone object, dns_query_process(), invalidation, stats
 *   dns_cache.c   (lowercased qname, qtype) -> pre-encoded response template
 *   dns_answer.c  template -> response: copy, patch ID/flags/question case,
 *                 rotate, truncate, append OPT (the hot path)
 *   dns_edns.c    OPT records and the small error responses
 * and, on a cache miss only:
 *   dns_resolve.c decides what a name holds (apex, DNS-SD, _leader, groups)
 *   dns_rrset.c   encodes the RRsets of members (A/AAAA/CNAME/SRV/TXT/PTR)
 *   dns_group.c   parsed member sets of registry nodes, leaders, weights
 *   dns_record.c  node data -> dns_member (JSON, Curator, Finagle, text)
 *   dns_wire.c    the template builder (sticky overflow, compression)
 *   dns_name.c    wire-name helpers
 *
 * Internal names carry the dns__ prefix.
 */
#ifndef ZK_DNS_DNS_INT_H
#define ZK_DNS_DNS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns.h"

#define DNS_HDR 12
#define DNS_MAXNAME 255
#define DNS_MAXLABELS 128
#define DNS_MAXMSG 65535
#define DNS_OPT_LEN 11 /* root owner, type, class, ttl, rdlen 0 */
#define DNS_PTR_MAX 0x3fff /* the farthest offset a compression pointer reaches */

enum {
    DNS_T_A = 1, DNS_T_NS = 2, DNS_T_CNAME = 5, DNS_T_SOA = 6, DNS_T_PTR = 12,
    DNS_T_HINFO = 13, DNS_T_TXT = 16, DNS_T_AAAA = 28, DNS_T_SRV = 33, DNS_T_OPT = 41,
    DNS_T_IXFR = 251, DNS_T_AXFR = 252, DNS_T_MAILB = 253, DNS_T_MAILA = 254,
    DNS_T_ANY = 255,
};
enum { DNS_C_IN = 1 };
enum {
    DNS_R_NOERROR = 0, DNS_R_FORMERR = 1, DNS_R_SERVFAIL = 2, DNS_R_NXDOMAIN = 3,
    DNS_R_NOTIMP = 4, DNS_R_REFUSED = 5, DNS_R_BADVERS = 16,
};
/* Header flag bits in the 16-bit flags word. */
#define DNS_F_QR 0x8000u
#define DNS_F_AA 0x0400u
#define DNS_F_TC 0x0200u
#define DNS_F_RD 0x0100u
#define DNS_F_RA 0x0080u
#define DNS_F_CD 0x0010u
#define DNS_F_OPCODE(f) (((f) >> 11) & 0xfu)

static inline uint16_t dns__get16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}
static inline void dns__put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline uint8_t dns__lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* ---- parsed query (dns_parse.c) ---------------------------------------- */

enum dns_parse_status {
    DNS_P_OK = 0,
    DNS_P_DROP,    /* no header, or a response */
    DNS_P_FORMERR, /* question_ok tells whether the question can be echoed */
    DNS_P_NOTIMP,  /* opcode other than QUERY */
};

typedef struct dns_question {
    uint16_t id, flags;
    size_t qend;          /* offset just past the question in the query */
    size_t namelen;       /* wire length of qname, root byte included */
    uint8_t lname[DNS_MAXNAME]; /* qname, lowercased */
    uint64_t hash;        /* of lname and qtype */
    uint16_t qtype, qclass;
    bool question_ok;
    bool edns;            /* the query had a valid OPT */
    bool do_bit;
    uint8_t edns_version;
    uint16_t udp_size;    /* the requester's payload size (512 without EDNS) */
} dns_question;

/* Parses q (len bytes) into *pq. Never reads outside q. */
int dns__parse_query(const uint8_t *q, size_t len, dns_question *pq);
uint64_t dns__hash(const uint8_t *name, size_t len, uint16_t qtype);

/* ---- names (dns_name.c) ------------------------------------------------ */

/* Label view of a wire name: lab[i] points at label i's length byte. */
typedef struct dns_labels {
    const uint8_t *lab[DNS_MAXLABELS];
    size_t n; /* labels, the root not counted */
} dns_labels;

void dns__labels(const uint8_t *name, dns_labels *out);
/* Does label l (length byte first) equal the len bytes s (ASCII icase)? */
bool dns__label_is(const uint8_t *l, const char *s);
/* Writes the wire form of text (e.g. "zk.", "ns.zk", ".") lowercased into
 * out (DNS_MAXNAME). Returns its length or -EINVAL. */
int dns__name_from_text(const char *text, uint8_t *out);
/* Appends label (len 1..63 bytes) at *pos in out (DNS_MAXNAME); -ENAMETOOLONG. */
int dns__name_push(uint8_t *out, size_t *pos, const void *label, size_t len);
/* Is name (wire, nlen) equal to or under zone (wire, zlen)? Both lowercase. */
bool dns__name_in_zone(const uint8_t *name, size_t nlen, const uint8_t *zone,
                       size_t zlen);

/* ---- members (dns_record.c) -------------------------------------------- */

enum dns_addr_kind { DNS_ADDR_V4 = 1, DNS_ADDR_V6 = 2, DNS_ADDR_HOST = 3 };

typedef struct dns_member {
    char *name;             /* node name (owned) */
    size_t namelen;
    int64_t czxid;
    int kind;               /* enum dns_addr_kind */
    uint8_t addr[16];       /* V4: 4 bytes, V6: 16 bytes */
    uint8_t host[DNS_MAXNAME]; /* HOST: wire name */
    uint8_t hostlen;
    int64_t mzxid;          /* of the data it was parsed from */
    uint16_t port;          /* 0 = none */
    uint16_t weight, priority;
    uint8_t *txt;           /* TXT rdata: length-prefixed strings (owned) */
    size_t txtlen;
} dns_member;

/* Parses node data. Returns 1 (a listed member, *m filled except name and
 * czxid), 0 (not a member, or a member that is not listed: "enabled": false,
 * Finagle status other than ALIVE) or -ENOMEM. */
int dns__member_parse(const void *data, size_t len, dns_member *m);
void dns__member_clear(dns_member *m);

/* ---- member sets (dns_group.c) ----------------------------------------- */

typedef struct dns_mset {
    size_t n;
    dns_member *m; /* the listed member children, in registry (byte) order */
} dns_mset;

/* ---- the zone (dns_zone.c) --------------------------------------------- */

/* Generations (see dns_zone.c): a template is valid while the sum of the
 * generations of its two dependencies is what it was when it was built. */
#define DNS_NBUCKETS 16384                /* groups and (group, member) pairs */
#define DNS_DEP_ZONE DNS_NBUCKETS         /* any change under the root */
#define DNS_DEP_GROUPS (DNS_NBUCKETS + 1) /* a group node created, deleted or set */
#define DNS_DEP_NONE (DNS_NBUCKETS + 2)   /* moves only with invalidate_all */
#define DNS_NGEN (DNS_NBUCKETS + 3)
#define DNS_MSET_MIN 64                   /* member set table: first size */
#define DNS_MSET_MAX 65536                /* past this many sets, start over */

typedef struct dns_centry dns_centry;
typedef struct dns_build dns_build;

/* A member set in the zone's table, keyed by node; the node pointer and
 * its czxid together are its identity (a pointer alone may be reused). */
typedef struct dns_mslot {
    const reg_node *node;
    int64_t czxid;
    uint64_t gen;
    uint16_t dep;
    dns_mset *set;
} dns_mslot;

struct dns_zone {
    const reg_t *reg;
    dns_config cfg;
    char *domain_text, *root;      /* owned copies */
    uint8_t apex[DNS_MAXNAME];     /* zone name, wire, lowercase */
    size_t apexlen;
    size_t apexlabels;
    uint64_t gen[DNS_NGEN];
    /* cache of templates (dns_cache.c): open addressing, linear probing */
    dns_centry *slots;
    size_t nslots, nentries, bytes;
    /* member sets (dns_group.c): open addressing by node, linear probing */
    dns_mslot *mset;
    size_t mset_cap, mset_n;
    /* the SOA serial, valid while serial_gen == gen[DNS_DEP_ZONE] + 1 (0: never) */
    uint32_t serial;
    uint64_t serial_gen;
    uint8_t *scratch;              /* DNS_MAXMSG bytes for building templates */
    dns_build *build;              /* the builder of the miss path */
    dns_stats st;
};

/* Generation bucket of a group (first component under the root), and of a
 * member (first and second component); names compare ASCII icase. */
uint16_t dns__bucket(const uint8_t *label, size_t len);
uint16_t dns__member_bucket(const uint8_t *group, size_t glen, const uint8_t *member,
                            size_t mlen);
/* The SOA serial: the newest zxid under the root (32 bits), recomputed
 * after a change. */
uint32_t dns__serial(dns_zone *z);
/* The registry node of the root, or NULL. */
const reg_node *dns__root_node(const dns_zone *z);
/* The member set of node (cached while gen[dep] is unchanged; rebuilt from
 * the previous one, parsing only the children whose data changed); NULL =
 * ENOMEM. */
const dns_mset *dns__mset_get(dns_zone *z, const reg_node *node, uint16_t dep);
void dns__mset_flush(dns_zone *z);
/* Index of the leader of set or -1 (lowest 10-digit suffix, then czxid). */
long dns__mset_leader(const dns_mset *set);
/* Parses node's own data as a member (name and czxid set). 1, 0 or -ENOMEM. */
int dns__member_of_node(const reg_node *node, dns_member *m);

/* ---- templates and the builder (dns_wire.c) ---------------------------- */

/* A cut point: keeping the message up to off keeps ar additional records. */
typedef struct dns_cut {
    uint32_t off;
    uint16_t ar;
} dns_cut;

/* One malloc'd block: this header, then wire, rot_off, sched and cut, in
 * the order a hit reads them (its question name is the cache's key). */
typedef struct dns_tmpl {
    uint8_t *wire;          /* response with ID 0, RD/CD clear, no OPT */
    uint32_t len;
    uint32_t qend;          /* end of the question in wire */
    uint32_t ctr;           /* rotation counter */
    uint32_t serial_off;    /* of the SOA serial, patched on output; 0: none */
    uint16_t nrot;          /* answer records to rotate (0 or >= 2) */
    uint16_t nsched;        /* weighted schedule of rotation starts */
    uint16_t ncut;          /* cut[0] = end of answer + authority */
    uint8_t kind;           /* enum dns_tmpl_kind, for the stats */
    bool too_big;           /* answer + authority exceed 64 KiB: always TC */
    uint32_t *rot_off;      /* nrot + 1 offsets of those records */
    uint16_t *sched;
    dns_cut *cut;
    size_t bytes;           /* of the block */
} dns_tmpl;

enum dns_tmpl_kind { DNS_K_ANSWER = 0, DNS_K_NXDOMAIN, DNS_K_NODATA };

#define DNS_MAXCUTS 4096

struct dns_build {
    dns_zone *z;
    const dns_question *q;
    uint8_t *buf;          /* z->scratch */
    size_t len;
    int err;               /* sticky: -EMSGSIZE or -ENOMEM */
    int section;           /* 0 answer, 1 authority, 2 additional */
    uint16_t count[3];
    dns_labels ql;         /* labels of the question name */
    uint16_t rcode;
    uint16_t dep, dep2;    /* the template is valid while both are unchanged */
    size_t serial_off;     /* of the SOA serial; 0: none */
    size_t an_end;         /* end of the answer section */
    /* additional RRsets: rolled back whole when they do not fit */
    size_t set_len;
    uint16_t set_ar;
    bool ar_full;
    dns_cut cut[DNS_MAXCUTS];
    uint16_t ncut;
    /* rotation of the answer RRset */
    uint32_t rot_off[DNS_MAXCUTS + 1];
    uint16_t rot_w[DNS_MAXCUTS], rot_p[DNS_MAXCUTS];
    uint16_t nrot;
    /* where the name of the i-th member of a list was written (an SRV
     * target, a DNS-SD instance), for owners that repeat it; 0: nowhere */
    uint32_t name_at[DNS_MAXCUTS];
};

void dns__build_init(dns_build *b, dns_zone *z, const dns_question *q);
/* Writes a name, compressed against the question's suffixes if compress. */
void dns__b_name(dns_build *b, const uint8_t *name, size_t len, bool compress);
void dns__b_bytes(dns_build *b, const void *p, size_t n);
void dns__b_u16(dns_build *b, unsigned v);
void dns__b_u32(dns_build *b, uint32_t v);
/* Starts an RR; returns the offset of its rdlength for dns__b_rr_end. */
size_t dns__b_rr_begin(dns_build *b, const uint8_t *owner, size_t olen, unsigned type,
                       uint32_t ttl);
/* The same for an owner that is the name already at offset at (at most
 * DNS_PTR_MAX, earlier in the message, never in a rotated answer): a
 * compression pointer to it. */
size_t dns__b_rr_begin_at(dns_build *b, size_t at, unsigned type, uint32_t ttl);
void dns__b_rr_end(dns_build *b, size_t rdlen_at);
void dns__b_section(dns_build *b, int section);
/* Additional RRsets are added between set_begin and set_end; one that does
 * not fit is removed whole and no later one is added. */
void dns__b_set_begin(dns_build *b);
void dns__b_set_end(dns_build *b);
/* Marks the next answer record as a rotation unit with weight and priority. */
void dns__b_rot_mark(dns_build *b, uint16_t weight, uint16_t priority);
/* Turns the built message into one malloc'd block (free() it; its size in
 * t->bytes); NULL on ENOMEM. */
dns_tmpl *dns__build_finish(dns_build *b);

/* ---- resolution (dns_resolve.c, dns_rrset.c) ---------------------------- */

/* Fills b with the answer to b->q (in zone). Returns 0 or -ENOMEM. */
int dns__resolve(dns_build *b);

/* Owner is the question name in all of these. */
void dns__rr_member_addr(dns_build *b, const dns_member *m, unsigned qtype);
void dns__rr_members_addr(dns_build *b, const dns_mset *set, unsigned qtype);
/* SRV records for the members of set (or just m) under service labels
 * svc/svclen, with glue; returns how many records. */
size_t dns__rr_srv(dns_build *b, const dns_mset *set, const dns_member *only,
                   const uint8_t *svc, size_t svclen);
void dns__rr_txt(dns_build *b, const dns_member *m, bool empty_ok);
/* PTR records at the question name ("_svc._tcp.<apex>") to the instances
 * "<id>.<qname>" of set, with their SRV, TXT and addresses as additional
 * data (RFC 6763 section 12.1); returns how many PTR records. */
size_t dns__rr_browse(dns_build *b, const dns_mset *set, const uint8_t *svc, size_t svclen);
/* "<id>.<qname>" for member m, or -ENAMETOOLONG. */
int dns__instance_name(const dns_build *b, const dns_member *m, uint8_t *out);
/* Returns the offset of the target name in the message (0 if not written). */
size_t dns__rr_ptr(dns_build *b, const uint8_t *target, size_t tlen);
/* NS at the apex; with glue, ns.<apex> A 127.0.0.1 and AAAA ::1. */
void dns__rr_ns(dns_build *b, bool glue);
void dns__rr_ns_addr(dns_build *b, unsigned qtype);
void dns__rr_cname(dns_build *b, const dns_member *m);
void dns__rr_soa(dns_build *b, uint32_t ttl);
void dns__rr_hinfo(dns_build *b);
/* Wire name "<label>.<svc>.<apex>" (svc may be NULL); length or -ENAMETOOLONG. */
int dns__member_target(const dns_zone *z, const dns_member *m, const uint8_t *svc,
                       size_t svclen, uint8_t *out);
bool dns__member_srv_ok(const dns_member *m);

/* ---- cache (dns_cache.c) ----------------------------------------------- */

/* A slot of the table itself (32 bytes): the name of the key is the
 * question of t's wire. t == NULL: a free slot. */
struct dns_centry {
    uint64_t hash;
    uint64_t gen;           /* gen[dep] + gen[dep2] when built */
    dns_tmpl *t;
    uint16_t qtype;
    uint16_t dep, dep2;
    uint8_t namelen;
};

/* The valid template for pq or NULL. */
dns_tmpl *dns__cache_get(dns_zone *z, const dns_question *pq);
/* Stores t (built for pq; owned by the cache from now on), valid while
 * the generations of dep and dep2 do not move. */
int dns__cache_put(dns_zone *z, const dns_question *pq, dns_tmpl *t, uint16_t dep,
                   uint16_t dep2);
void dns__cache_clear(dns_zone *z);

/* ---- output (dns_answer.c, dns_edns.c) --------------------------------- */

/* The most the response to pq may take on transport within out_cap. */
size_t dns__limit(const dns_zone *z, const dns_question *pq, int transport,
                  size_t out_cap);
/* Writes the response from template t; returns its length or 0 if out_cap
 * cannot take even the question. *tc tells whether TC was set. */
size_t dns__emit(dns_zone *z, dns_tmpl *t, const uint8_t *q, const dns_question *pq,
                 size_t limit, uint8_t *out, bool *tc);
/* Writes an OPT record at out (DNS_OPT_LEN bytes) with extended rcode. */
void dns__opt_write(uint8_t *out, uint16_t udp, unsigned rcode, bool do_bit);
/* A response with rcode and no records (question echoed when parsed, OPT
 * when the query had one). Returns its length or 0 if it does not fit. */
size_t dns__error_response(const uint8_t *q, const dns_question *pq, unsigned rcode,
                           uint16_t extra_flags, uint16_t udp, uint8_t *out,
                           size_t out_cap);

#endif
