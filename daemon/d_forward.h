/*
 * d_forward.h - forwarding of out-of-zone DNS queries to upstream servers
 * with c-ares, driven by the daemon's libuv loop (never blocking it).
 *
 * A query is sent as the client's raw bytes (RD and EDNS as the client set
 * them); the upstream's answer comes back raw and the caller restores the
 * client's query ID. Upstreams are dns.upstream, or else the nameservers of
 * /etc/resolv.conf minus this daemon's own DNS listen addresses.
 */
#ifndef ZK_DAEMON_D_FORWARD_H
#define ZK_DAEMON_D_FORWARD_H

#include <ares.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "conf.h"

/* resp NULL: the upstream did not answer (timeout, no servers, shutdown). */
typedef void (*zkd_forward_cb)(void *ctx, const uint8_t *resp, size_t len);

typedef struct zkd_fwd_poll zkd_fwd_poll;

typedef struct zkd_forward {
    uv_loop_t *loop;
    ares_channel channel;
    uv_timer_t timer;
    zkd_fwd_poll *polls;
    size_t inflight;
    size_t max_inflight;
    size_t nservers;
    int closing;
} zkd_forward;

/* own: this daemon's DNS listen addresses ("HOST:PORT"), excluded from the
 * resolv.conf servers. Returns 0 or a negative value (logged). */
int zkd_forward_init(zkd_forward *f, uv_loop_t *loop, const zk_conf *conf,
                     const conf_list *own);
/* Sends a query; cb is called exactly once (also at shutdown, with NULL).
 * Returns -EBUSY past max_inflight, in which case cb is not called. */
int zkd_forward_query(zkd_forward *f, const uint8_t *q, size_t len,
                      zkd_forward_cb cb, void *ctx);
void zkd_forward_close(zkd_forward *f);

#endif
