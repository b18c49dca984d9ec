/*
 * dns_edns.c - OPT records (RFC 6891) and the small responses that carry
 * only a header, the question and maybe an OPT: FORMERR, NOTIMP, REFUSED,
 * SERVFAIL and BADVERS.
 *
 * An OPT goes into a response only when the query had a valid one. It
 * advertises the zone's max_udp, version 0, and echoes the DO bit (RFC 3225).
 * Extended rcodes (BADVERS = 16) put their upper 8 bits in the OPT's TTL and
 * their lower 4 bits in the header.
 */
#include <errno.h>
#include <string.h>

#include "dns_int.h"

void dns__opt_write(uint8_t *out, uint16_t udp, unsigned rcode, bool do_bit)
{
    out[0] = 0;                            /* root owner */
    dns__put16(out + 1, DNS_T_OPT);
    dns__put16(out + 3, udp);              /* class: our payload size */
    out[5] = (uint8_t)(rcode >> 4);        /* extended rcode */
    out[6] = 0;                            /* version */
    out[7] = do_bit ? 0x80 : 0;            /* DO */
    out[8] = 0;
    dns__put16(out + 9, 0);                /* rdlength */
}

size_t dns__error_response(const uint8_t *q, const dns_question *pq, unsigned rcode,
                           uint16_t extra_flags, uint16_t udp, uint8_t *out, size_t out_cap)
{
    size_t qlen = pq->question_ok ? pq->qend - DNS_HDR : 0;
    size_t len = DNS_HDR + qlen + (pq->edns ? DNS_OPT_LEN : 0);
    if (len > out_cap)
        return 0;
    unsigned flags = DNS_F_QR | (pq->flags & (0x7800u | DNS_F_RD | DNS_F_CD)) |
                     extra_flags | (rcode & 0xfu);
    dns__put16(out, pq->id);
    dns__put16(out + 2, flags);
    dns__put16(out + 4, pq->question_ok ? 1 : 0);
    memset(out + 6, 0, 6);
    memcpy(out + DNS_HDR, q + DNS_HDR, qlen);
    if (pq->edns) {
        dns__opt_write(out + DNS_HDR + qlen, udp, rcode, pq->do_bit);
        dns__put16(out + 10, 1);
    }
    return len;
}

int dns_servfail(const uint8_t *q, size_t qlen, uint8_t *out, size_t out_cap,
                 size_t *out_len)
{
    dns_question pq;
    if (q == NULL || out == NULL || out_len == NULL || qlen < DNS_HDR)
        return -EINVAL;
    (void)dns__parse_query(q, qlen, &pq);
    pq.id = dns__get16(q);
    pq.flags = dns__get16(q + 2);
    size_t n = dns__error_response(q, &pq, DNS_R_SERVFAIL, DNS_F_RA, 1232, out, out_cap);
    if (n == 0)
        return -ENOSPC;
    *out_len = n;
    return 0;
}

/* A relayed answer is the upstream's bytes with the client's ID. When it is
 * larger than the client may take (its UDP size, as for our own answers), the
 * client gets the header and question with TC and the upstream's rcode, and
 * retries over TCP; no RRset is ever cut. */
int dns_relay(const dns_zone *zone, const uint8_t *q, size_t qlen, int transport,
              const uint8_t *resp, size_t rlen, uint8_t *out, size_t out_cap,
              size_t *out_len)
{
    if (zone == NULL || q == NULL || out == NULL || out_len == NULL || qlen < DNS_HDR)
        return -EINVAL;
    if (resp == NULL || rlen < DNS_HDR || rlen > DNS_MAXMSG)
        return dns_servfail(q, qlen, out, out_cap, out_len);
    dns_question pq;
    (void)dns__parse_query(q, qlen, &pq);
    pq.id = dns__get16(q);
    pq.flags = dns__get16(q + 2);
    if (rlen <= dns__limit(zone, &pq, transport, out_cap)) {
        memcpy(out, resp, rlen);
        dns__put16(out, pq.id);
        *out_len = rlen;
        return 0;
    }
    unsigned rcode = resp[3] & 0xfu;
    size_t n = dns__error_response(q, &pq, rcode, DNS_F_TC | DNS_F_RA, zone->cfg.max_udp,
                                   out, out_cap);
    if (n == 0)
        return -ENOSPC;
    *out_len = n;
    return 0;
}
