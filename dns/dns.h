/*
 * dns.h - zonekeeper's DNS frontend: a query and a read-only view of the
 * registry in, a response out.
 *
 * The zone (default "zk.") is mapped onto a registry subtree (default
 * "/services") by reversing labels: "api.web.zk." is "/services/web/api".
 * This module owns no sockets and no event loop: dns_query_process() turns
 * wire bytes into wire bytes, and tells the caller when a query is for a
 * name outside the zone so that the daemon can forward it upstream.
 *
 * Answers are cached per group (the first node under the root) and the
 * cache entry of a group is dropped by dns_zone_invalidate(), which the
 * daemon calls from the registry's on_change hook inside reg_commit: the
 * very next query after a commit sees it.
 */
#ifndef ZK_DNS_DNS_H
#define ZK_DNS_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reg.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dns_config {
    const char *domain;      /* zone apex, e.g. "zk." (copied) */
    const char *root;        /* registry subtree, e.g. "/services" (copied) */
    uint32_t ttl;            /* TTL of positive answers; default 0 */
    uint32_t negative_ttl;   /* SOA minimum, TTL of the SOA in negative answers */
    bool forward;            /* out-of-zone names: forward (true) or REFUSED */
    uint16_t max_udp;        /* largest UDP response we send with EDNS; 1232 */
} dns_config;

void dns_config_default(dns_config *cfg);

typedef struct dns_zone dns_zone;

/* Creates a zone answering from reg (borrowed; must outlive the zone).
 * Returns NULL on bad config (domain not a valid name, root not a valid path)
 * or out of memory. */
dns_zone *dns_zone_create(const dns_config *cfg, const reg_t *reg);
void dns_zone_free(dns_zone *zone);

/* Call for every changed registry path (reg_hooks.on_change): drops cached
 * answers that path can affect. Cheap for paths outside the root. */
void dns_zone_invalidate(dns_zone *zone, const char *path);
/* Drops every cached answer (e.g. after the registry was replaced or
 * resynchronised wholesale without per-path change callbacks): one pass
 * over the zone's 16K generation counters, nothing freed. */
void dns_zone_invalidate_all(dns_zone *zone);

enum dns_transport { DNS_TRANSPORT_UDP = 0, DNS_TRANSPORT_TCP = 1 };

enum dns_verdict {
    DNS_VERDICT_ANSWER = 0,  /* out holds the response */
    DNS_VERDICT_FORWARD = 1, /* out-of-zone with forwarding on: forward the query */
    DNS_VERDICT_DROP = 2,    /* nothing to send (e.g. a response, or too short for a header) */
};

/* Processes one query of qlen bytes. On DNS_VERDICT_ANSWER writes the
 * response into out (capacity out_cap, at least 65535 for TCP) and its length
 * into *out_len; over UDP the response fits the requester's size (512 without
 * EDNS) or is truncated with TC set. Never fails on hostile input: malformed
 * queries get FORMERR (or DROP when not even a header parses). Returns a
 * dns_verdict, or -EINVAL when zone, q, out or out_len is NULL. DROP also
 * when out_cap cannot hold even the header and question. The zone is not
 * thread-safe: one thread (the daemon's loop) calls it. */
int dns_query_process(dns_zone *zone, const uint8_t *q, size_t qlen, int transport,
                      uint8_t *out, size_t out_cap, size_t *out_len);

/* Builds a SERVFAIL response for query q (for a failed forward). Returns 0
 * or -EINVAL if q has no header. */
int dns_servfail(const uint8_t *q, size_t qlen, uint8_t *out, size_t out_cap,
                 size_t *out_len);

/* Builds the reply to forwarded query q (qlen bytes) from the upstream's
 * answer resp (rlen bytes; NULL when no upstream answered): the answer with
 * the client's query ID, or header and question with TC when it does not fit
 * what the client may take on transport, or SERVFAIL when resp is NULL or not
 * a DNS message. Returns 0 with *out_len set, -EINVAL, or -ENOSPC. */
int dns_relay(const dns_zone *zone, const uint8_t *q, size_t qlen, int transport,
              const uint8_t *resp, size_t rlen, uint8_t *out, size_t out_cap,
              size_t *out_len);

/* Counters for monitoring. member_parses: node data parsed into the member
 * lists of groups (after a change, only the members that changed). */
typedef struct dns_stats {
    uint64_t queries, answered, nxdomain, nodata, formerr, refused, forwarded,
        truncated, cache_hits, cache_misses, member_parses;
} dns_stats;
void dns_zone_stats(const dns_zone *zone, dns_stats *out);

#ifdef __cplusplus
}
#endif
#endif
