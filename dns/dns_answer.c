/*
 * dns_answer.c - template -> response: the hot path's output half.
 *
 * A template is a whole response built for the lowercased question with ID
 * 0 and without OPT. Emitting it is a handful of memcpy calls: the header
 * and question, the answer records (rotated: records [k, n) then [0, k),
 * with k taken from the template's weighted schedule, which is safe because
 * nothing points into the answer section), then authority and additional up
 * to the cut that fits. The ID, RD and CD are copied from the query, and the
 * question bytes too, so the client sees its own 0x20 case (compressed
 * owners point at the question and echo it as well), and the SOA serial
 * of the moment when the template holds an SOA (serial_off).
 *
 * Size: TCP takes 65535 bytes; UDP takes 512, or with EDNS the requester's
 * size capped by max_udp (never under 512); out_cap caps both. If the
 * answer and authority fit, trailing additional RRsets are dropped whole to
 * fit, without TC (RFC 2181 section 9). If they do not, the response is the
 * header and question (and OPT) with TC set: an RRset is never cut.
 */
#include <string.h>

#include "dns_int.h"

size_t dns__limit(const dns_zone *z, const dns_question *pq, int transport, size_t out_cap)
{
    size_t lim = 512;
    if (transport == DNS_TRANSPORT_TCP) {
        lim = DNS_MAXMSG;
    } else if (pq->edns) {
        size_t max = z->cfg.max_udp < 512 ? 512 : z->cfg.max_udp;
        lim = pq->udp_size < max ? pq->udp_size : max;
    }
    return lim < out_cap ? lim : out_cap;
}

/* Copies the answer records of t rotated into out. */
static void answer__rotated(dns_tmpl *t, uint8_t *out)
{
    const uint32_t *off = t->rot_off;
    size_t k = t->sched[t->ctr++ % t->nsched];
    size_t head = off[t->nrot] - off[k];
    memcpy(out + off[0], t->wire + off[k], head);
    memcpy(out + off[0] + head, t->wire + off[0], off[k] - off[0]);
}

/* The largest cut whose end fits in room, or NULL. */
static const dns_cut *answer__cut(const dns_tmpl *t, size_t room)
{
    if (t->too_big || t->cut[0].off > room)
        return NULL;
    size_t lo = 0, hi = t->ncut; /* cut[lo].off <= room < cut[hi].off */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->cut[mid].off <= room)
            lo = mid;
        else
            hi = mid;
    }
    return &t->cut[lo];
}

/* Copies t up to end (a cut) into out, rotating the answer; the question
 * comes from the query q (same name but for case, same type and class). */
static void answer__copy(dns_tmpl *t, size_t end, const uint8_t *q, uint8_t *out)
{
    size_t qend = t->qend;
    memcpy(out, t->wire, DNS_HDR);
    memcpy(out + DNS_HDR, q + DNS_HDR, qend - DNS_HDR);
    if (t->nrot == 0) {
        memcpy(out + qend, t->wire + qend, end - qend);
        return;
    }
    uint32_t an_start = t->rot_off[0], an_end = t->rot_off[t->nrot];
    memcpy(out + qend, t->wire + qend, an_start - qend);
    answer__rotated(t, out);
    memcpy(out + an_end, t->wire + an_end, end - an_end);
}

static void answer__header(const dns_zone *z, const dns_tmpl *t, const dns_question *pq,
                           uint8_t *out, bool tc)
{
    unsigned flags = dns__get16(t->wire + 2) | (pq->flags & (DNS_F_RD | DNS_F_CD));
    if (z->cfg.forward)
        flags |= DNS_F_RA;
    if (tc)
        flags |= DNS_F_TC;
    dns__put16(out, pq->id);
    dns__put16(out + 2, flags);
}

static void answer__serial(dns_zone *z, const dns_tmpl *t, uint8_t *out, size_t len)
{
    if (t->serial_off == 0 || t->serial_off + 4 > len)
        return;
    uint32_t s = dns__serial(z);
    uint8_t *p = out + t->serial_off;
    p[0] = (uint8_t)(s >> 24), p[1] = (uint8_t)(s >> 16), p[2] = (uint8_t)(s >> 8);
    p[3] = (uint8_t)s;
}

size_t dns__emit(dns_zone *z, dns_tmpl *t, const uint8_t *q, const dns_question *pq,
                 size_t limit, uint8_t *out, bool *tc)
{
    size_t optlen = pq->edns ? DNS_OPT_LEN : 0;
    if (limit < t->qend + optlen)
        return 0;
    size_t room = limit - optlen, len;
    const dns_cut *cut = NULL;
    bool whole = t->len <= room && !t->too_big; /* the usual case: no cut to look up */
    if (!whole)
        cut = answer__cut(t, room);
    *tc = !whole && cut == NULL;
    if (whole) {
        len = t->len;
        answer__copy(t, len, q, out);
    } else if (cut != NULL) {
        len = cut->off;
        answer__copy(t, len, q, out);
        dns__put16(out + 10, cut->ar);
    } else {
        len = t->qend;
        memcpy(out, t->wire, DNS_HDR);
        memcpy(out + DNS_HDR, q + DNS_HDR, len - DNS_HDR);
        memset(out + 6, 0, 6);
    }
    answer__header(z, t, pq, out, *tc);
    answer__serial(z, t, out, len);
    if (pq->edns) {
        dns__opt_write(out + len, z->cfg.max_udp < 512 ? 512 : z->cfg.max_udp, 0, pq->do_bit);
        dns__put16(out + 10, dns__get16(out + 10) + 1u);
        len += DNS_OPT_LEN;
    }
    return len;
}
