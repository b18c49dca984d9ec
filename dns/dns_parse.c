/*
 * dns_parse.c - the query parser: wire bytes -> dns_question.
 *
 * A small hand-checked parser rather than ldns, because it runs for every
 * query and must not allocate: every read is preceded by a bounds check
 * against the query length, a name is at most 255 bytes and 127 labels, and
 * the question name may not use compression (nothing precedes it that a
 * pointer could lawfully reach), so a compression loop is impossible there
 * and is FORMERR. In the additional section names are only skipped: a
 * pointer ends a name, so there is no loop to follow either.
 *
 * While the question name is read it is lowercased into pq->lname and hashed
 * (FNV-1a, 64 bit) together with the qtype: that hash is the cache key.
 *
 * Checks, in order (NSD's query.c order): shorter than a header -> DROP;
 * QR set -> DROP; opcode != QUERY -> NOTIMP; QDCOUNT != 1 -> FORMERR; a bad
 * question -> FORMERR; records in the answer or authority section ->
 * FORMERR; a malformed additional record, a second OPT, an OPT not owned by
 * the root or with malformed options -> FORMERR. The EDNS version is only
 * recorded here; dns_zone.c answers BADVERS.
 */
#include "dns_int.h"

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

uint64_t dns__hash(const uint8_t *name, size_t len, uint16_t qtype)
{
    uint64_t h = FNV_OFFSET;
    for (size_t i = 0; i < len; i++)
        h = (h ^ name[i]) * FNV_PRIME;
    h = (h ^ (qtype & 0xffu)) * FNV_PRIME;
    h = (h ^ (qtype >> 8)) * FNV_PRIME;
    return h;
}

/* Reads the question name at *off into pq->lname (lowercased) and hashes
 * it. Returns false if it is malformed. */
static bool parse__qname(const uint8_t *q, size_t len, size_t *off, dns_question *pq)
{
    size_t p = *off, n = 0;
    uint64_t h = FNV_OFFSET;
    for (;;) {
        if (p >= len)
            return false;
        uint8_t l = q[p];
        if (l & 0xc0)
            return false; /* compression or an extended label type */
        if (n + 1u + l > DNS_MAXNAME || p + 1u + l > len)
            return false;
        pq->lname[n++] = l;
        h = (h ^ l) * FNV_PRIME;
        p++;
        if (l == 0)
            break;
        for (size_t i = 0; i < l; i++) {
            uint8_t c = dns__lower(q[p + i]);
            pq->lname[n++] = c;
            h = (h ^ c) * FNV_PRIME;
        }
        p += l;
    }
    pq->namelen = n;
    pq->hash = h;
    *off = p;
    return true;
}

/* Skips a name in the additional section; a pointer ends it. */
static bool parse__skip_name(const uint8_t *q, size_t len, size_t *off)
{
    size_t p = *off;
    for (;;) {
        if (p >= len)
            return false;
        uint8_t l = q[p];
        if ((l & 0xc0) == 0xc0) {
            if (p + 2 > len)
                return false;
            *off = p + 2;
            return true;
        }
        if (l & 0xc0)
            return false;
        p += 1u + l;
        if (l == 0) {
            *off = p;
            return true;
        }
    }
}

/* Checks the options inside an OPT's rdata: each TLV must fit exactly. */
static bool parse__opt_options(const uint8_t *rd, size_t rdlen)
{
    size_t p = 0;
    while (p < rdlen) {
        if (p + 4 > rdlen)
            return false;
        size_t olen = dns__get16(rd + p + 2);
        if (p + 4 + olen > rdlen)
            return false;
        p += 4 + olen;
    }
    return true;
}

/* Records an OPT RR whose fixed part starts at fixed (owner already checked). */
static bool parse__opt(const uint8_t *fixed, size_t rdlen, dns_question *pq)
{
    if (pq->edns)
        return false; /* a second OPT */
    if (!parse__opt_options(fixed + 10, rdlen))
        return false;
    uint16_t size = dns__get16(fixed + 2);
    pq->edns = true;
    pq->udp_size = size < 512 ? 512 : size;
    pq->edns_version = fixed[5];
    pq->do_bit = (fixed[6] & 0x80) != 0;
    return true;
}

/* Walks arcount records from *off, noting the OPT. */
static bool parse__additional(const uint8_t *q, size_t len, size_t off, unsigned arcount,
                              dns_question *pq)
{
    for (unsigned i = 0; i < arcount; i++) {
        size_t start = off;
        if (!parse__skip_name(q, len, &off) || off + 10 > len)
            return false;
        size_t rdlen = dns__get16(q + off + 8);
        if (off + 10 + rdlen > len)
            return false;
        if (dns__get16(q + off) == DNS_T_OPT) {
            if (off != start + 1 || q[start] != 0) /* owner must be the root */
                return false;
            if (!parse__opt(q + off, rdlen, pq))
                return false;
        }
        off += 10 + rdlen;
    }
    return true; /* bytes after the last record are ignored */
}

int dns__parse_query(const uint8_t *q, size_t len, dns_question *pq)
{
    pq->question_ok = false;
    pq->edns = false;
    pq->do_bit = false;
    pq->edns_version = 0;
    pq->udp_size = 512;
    if (len < DNS_HDR)
        return DNS_P_DROP;
    pq->id = dns__get16(q);
    pq->flags = dns__get16(q + 2);
    if (pq->flags & DNS_F_QR)
        return DNS_P_DROP;
    size_t off = DNS_HDR;
    bool one = dns__get16(q + 4) == 1;
    if (one && parse__qname(q, len, &off, pq) && off + 4 <= len) {
        pq->qtype = dns__get16(q + off);
        pq->qclass = dns__get16(q + off + 2);
        pq->qend = off + 4;
        pq->question_ok = true;
    }
    if (DNS_F_OPCODE(pq->flags) != 0)
        return DNS_P_NOTIMP;
    if (!pq->question_ok)
        return DNS_P_FORMERR;
    if (dns__get16(q + 6) != 0 || dns__get16(q + 8) != 0)
        return DNS_P_FORMERR;
    if (!parse__additional(q, len, pq->qend, dns__get16(q + 10), pq)) {
        pq->edns = false; /* do not trust a half-parsed OPT */
        return DNS_P_FORMERR;
    }
    pq->hash = (pq->hash ^ (pq->qtype & 0xffu)) * FNV_PRIME;
    pq->hash = (pq->hash ^ (pq->qtype >> 8)) * FNV_PRIME;
    return DNS_P_OK;
}
