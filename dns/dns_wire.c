/*
 * dns_wire.c - the template builder: encodes a response once, on a miss.
 *
 * The builder writes into the zone's 64 KiB scratch buffer with a sticky
 * error (Knot's txn.ret): once a write does not fit, every later write is a
 * no-op, so the RRset encoders read straight down and the result is checked
 * once. Additional-section RRsets are written between set_begin/set_end and
 * one that does not fit is removed whole (RFC 2181 section 9 lets us omit
 * additional data without TC); each completed set is a cut point, so the
 * hot path can later drop trailing additional RRsets to fit a small UDP
 * size without ever cutting an RRset in two.
 *
 * Compression: a name is compressed against suffixes of the question name.
 * An owner that repeats a whole name written before it (the A record of an
 * SRV target in the additional section, the SRV and TXT of a DNS-SD
 * instance) is a pointer to that name (RFC 1035 section 4.1.4), which may
 * be an SRV target: RFC 2782 forbids compressing the target, not pointing
 * at it. Nothing ever points into a rotated answer (address lists), which
 * is what lets the hot path rotate the answer records by moving bytes;
 * every pointer points backwards, so cutting trailing additional RRsets
 * never leaves one dangling. SRV targets are never compressed.
 *
 * Rotation: the records of a rotated answer RRset are marked with their
 * weight and priority; the template gets a schedule of rotation starts, a
 * smooth weighted round robin among the records of the lowest priority
 * value: record i starts the answer in w_i of every W queries, evenly
 * spread (equal weights: plain round robin). Weights are scaled so the
 * schedule has at most about 1024 + n entries; weight 0 never starts the
 * answer unless all weights are 0.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dns_int.h"

#define SCHED_SCALE 1024u

void dns__build_init(dns_build *b, dns_zone *z, const dns_question *q)
{
    b->z = z;
    b->q = q;
    b->buf = z->scratch;
    b->err = 0;
    b->section = 0;
    memset(b->count, 0, sizeof(b->count));
    b->rcode = DNS_R_NOERROR;
    b->dep = DNS_DEP_ZONE;
    b->dep2 = DNS_DEP_NONE;
    b->serial_off = 0;
    b->ar_full = false;
    b->ncut = 0;
    b->nrot = 0;
    b->an_end = 0;
    dns__labels(q->lname, &b->ql);
    memset(b->buf, 0, DNS_HDR);
    memcpy(b->buf + DNS_HDR, q->lname, q->namelen);
    dns__put16(b->buf + DNS_HDR + q->namelen, q->qtype);
    dns__put16(b->buf + DNS_HDR + q->namelen + 2, q->qclass);
    b->len = DNS_HDR + q->namelen + 4;
}

void dns__b_bytes(dns_build *b, const void *p, size_t n)
{
    if (b->err)
        return;
    if (b->len + n > DNS_MAXMSG) {
        b->err = -EMSGSIZE;
        return;
    }
    memcpy(b->buf + b->len, p, n);
    b->len += n;
}

void dns__b_u16(dns_build *b, unsigned v)
{
    uint8_t x[2];
    dns__put16(x, v);
    dns__b_bytes(b, x, 2);
}

void dns__b_u32(dns_build *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    dns__b_bytes(b, x, 4);
}

static bool wire__suffix_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (dns__lower(a[i]) != b[i])
            return false;
    return true;
}

/* Offset in the message of a question suffix equal to name[0..len), or 0. */
static size_t wire__find_suffix(const dns_build *b, const uint8_t *name, size_t len)
{
    for (size_t j = 0; j < b->ql.n; j++) {
        size_t qoff = (size_t)(b->ql.lab[j] - b->q->lname);
        if (b->q->namelen - qoff == len && wire__suffix_eq(name, b->ql.lab[j], len))
            return DNS_HDR + qoff;
    }
    return 0;
}

void dns__b_name(dns_build *b, const uint8_t *name, size_t len, bool compress)
{
    for (size_t i = 0; compress && name[i] != 0; i += 1u + name[i]) {
        size_t at = wire__find_suffix(b, name + i, len - i);
        if (at) {
            dns__b_bytes(b, name, i);
            dns__b_u16(b, 0xc000u | (unsigned)at);
            return;
        }
    }
    dns__b_bytes(b, name, len);
}

static size_t wire__rr_rest(dns_build *b, unsigned type, uint32_t ttl)
{
    dns__b_u16(b, type);
    dns__b_u16(b, DNS_C_IN);
    dns__b_u32(b, ttl);
    size_t at = b->len;
    dns__b_u16(b, 0);
    return at;
}

size_t dns__b_rr_begin(dns_build *b, const uint8_t *owner, size_t olen, unsigned type,
                       uint32_t ttl)
{
    dns__b_name(b, owner, olen, true);
    return wire__rr_rest(b, type, ttl);
}

size_t dns__b_rr_begin_at(dns_build *b, size_t at, unsigned type, uint32_t ttl)
{
    dns__b_u16(b, 0xc000u | (unsigned)at);
    return wire__rr_rest(b, type, ttl);
}

void dns__b_rr_end(dns_build *b, size_t rdlen_at)
{
    if (b->err)
        return;
    dns__put16(b->buf + rdlen_at, (unsigned)(b->len - rdlen_at - 2));
    b->count[b->section]++;
}

static void wire__push_cut(dns_build *b)
{
    if (b->ncut == DNS_MAXCUTS) {
        b->err = -EMSGSIZE;
        return;
    }
    b->cut[b->ncut++] = (dns_cut){.off = (uint32_t)b->len, .ar = b->count[2]};
}

void dns__b_section(dns_build *b, int section)
{
    if (b->section == 0 && section > 0)
        b->an_end = b->len;
    if (section == 2 && b->section < 2 && !b->err)
        wire__push_cut(b);
    b->section = section;
}

void dns__b_set_begin(dns_build *b)
{
    b->set_len = b->len;
    b->set_ar = b->count[2];
    if (b->ar_full && !b->err)
        b->err = -EMSGSIZE;
}

void dns__b_set_end(dns_build *b)
{
    if (b->err == -ENOMEM)
        return;
    if (!b->err && b->ncut < DNS_MAXCUTS) {
        wire__push_cut(b);
        return;
    }
    b->len = b->set_len;
    b->count[2] = b->set_ar;
    b->err = 0;
    b->ar_full = true;
}

void dns__b_rot_mark(dns_build *b, uint16_t weight, uint16_t priority)
{
    if (b->err || b->section != 0 || b->nrot >= DNS_MAXCUTS)
        return;
    b->rot_off[b->nrot] = (uint32_t)b->len;
    b->rot_w[b->nrot] = weight;
    b->rot_p[b->nrot] = priority;
    b->nrot++;
}

/* ---- the schedule ---------------------------------------------------------- */

typedef struct sched_key {
    uint32_t num, den; /* position (2j+1)/(2 den) within the cycle */
    uint16_t idx;
} sched_key;

static int sched__cmp(const void *pa, const void *pb)
{
    const sched_key *a = pa, *b = pb;
    uint64_t l = (uint64_t)a->num * b->den, r = (uint64_t)b->num * a->den;
    if (l != r)
        return l < r ? -1 : 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

/* Slots of each record in the schedule; returns their sum. */
static size_t sched__slots(const dns_build *b, uint32_t *slots)
{
    uint16_t pmin = UINT16_MAX;
    uint64_t wsum = 0;
    for (size_t i = 0; i < b->nrot; i++)
        pmin = b->rot_p[i] < pmin ? b->rot_p[i] : pmin;
    for (size_t i = 0; i < b->nrot; i++)
        wsum += b->rot_p[i] == pmin ? b->rot_w[i] : 0;
    size_t total = 0;
    for (size_t i = 0; i < b->nrot; i++) {
        uint64_t w = b->rot_p[i] != pmin ? 0 : wsum == 0 ? 1 : b->rot_w[i];
        if (wsum > SCHED_SCALE && w > 0)
            w = w * SCHED_SCALE / wsum ? w * SCHED_SCALE / wsum : 1;
        slots[i] = (uint32_t)w;
        total += (size_t)w;
    }
    return total;
}

/* Fills sched (nsched entries) from slots. Returns 0 or -ENOMEM. */
static int sched__fill(const dns_build *b, const uint32_t *slots, uint16_t *sched,
                       size_t nsched)
{
    sched_key *keys = malloc(nsched * sizeof(*keys));
    if (keys == NULL)
        return -ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < b->nrot; i++)
        for (uint32_t j = 0; j < slots[i]; j++)
            keys[k++] = (sched_key){.num = 2 * j + 1, .den = slots[i], .idx = (uint16_t)i};
    qsort(keys, nsched, sizeof(*keys), sched__cmp);
    for (size_t i = 0; i < nsched; i++)
        sched[i] = keys[i].idx;
    free(keys);
    return 0;
}

/* ---- finishing ---------------------------------------------------------------- */

static void wire__header(dns_build *b)
{
    uint8_t *h = b->buf;
    dns__put16(h + 2, DNS_F_QR | DNS_F_AA | (b->rcode & 0xfu));
    dns__put16(h + 4, 1);
    dns__put16(h + 6, b->count[0]);
    dns__put16(h + 8, b->count[1]);
    dns__put16(h + 10, b->count[2]);
}

static size_t wire__align4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

/* The block: header, wire, rot_off, sched, cut. */
static dns_tmpl *wire__alloc(dns_build *b, size_t nsched)
{
    size_t nrot = b->nrot >= 2 ? b->nrot : 0;
    size_t rot = wire__align4(sizeof(dns_tmpl) + b->len);
    size_t sched = rot + (nrot ? (nrot + 1) * sizeof(uint32_t) : 0);
    size_t cut = wire__align4(sched + nsched * sizeof(uint16_t));
    size_t sz = cut + b->ncut * sizeof(dns_cut);
    dns_tmpl *t = calloc(1, sz);
    if (t == NULL)
        return NULL;
    uint8_t *p = (uint8_t *)t;
    t->wire = p + sizeof(dns_tmpl);
    t->rot_off = nrot ? (uint32_t *)(void *)(p + rot) : NULL;
    t->sched = (uint16_t *)(void *)(p + sched);
    t->cut = (dns_cut *)(void *)(p + cut);
    t->bytes = sz;
    return t;
}

/* Copies the rotation offsets and the schedule into t. */
static int wire__rotation(dns_build *b, dns_tmpl *t, const uint32_t *slots)
{
    t->nrot = b->nrot;
    memcpy(t->rot_off, b->rot_off, b->nrot * sizeof(uint32_t));
    t->rot_off[b->nrot] = (uint32_t)b->an_end;
    return sched__fill(b, slots, t->sched, t->nsched);
}

/* The answer or authority did not fit 64 KiB: keep only the question. */
static void wire__shrink_to_question(dns_build *b)
{
    b->len = b->cut[0].off = (uint32_t)(DNS_HDR + b->q->namelen + 4);
    memset(b->count, 0, sizeof(b->count));
    b->ncut = 1;
    b->nrot = 0;
    b->serial_off = 0;
}

/* Copies the built message into t. */
static void wire__fill(const dns_build *b, dns_tmpl *t, bool too_big, size_t nsched)
{
    memcpy(t->wire, b->buf, b->len);
    t->len = (uint32_t)b->len;
    t->qend = (uint32_t)(DNS_HDR + b->q->namelen + 4);
    t->ncut = b->ncut;
    memcpy(t->cut, b->cut, b->ncut * sizeof(dns_cut));
    t->too_big = too_big;
    t->nsched = (uint16_t)nsched;
    t->serial_off = (uint32_t)b->serial_off;
}

dns_tmpl *dns__build_finish(dns_build *b)
{
    if (b->err == -ENOMEM)
        return NULL;
    bool too_big = b->err != 0;
    if (too_big)
        wire__shrink_to_question(b);
    dns__b_section(b, 2); /* records an_end and cut[0] if not yet */
    wire__header(b);
    uint32_t *slots = NULL;
    size_t nsched = 0;
    if (b->nrot >= 2) {
        if ((slots = malloc(b->nrot * sizeof(*slots))) == NULL)
            return NULL;
        nsched = sched__slots(b, slots);
    }
    dns_tmpl *t = wire__alloc(b, nsched);
    if (t != NULL) {
        wire__fill(b, t, too_big, nsched);
        if (nsched && wire__rotation(b, t, slots) < 0) {
            free(t);
            t = NULL;
        }
    }
    free(slots);
    return t;
}
