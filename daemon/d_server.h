/*
 * d_server.h - the daemon: one libuv loop that owns the listeners, the
 * connections, the timers and signals, and wires the registry, the write
 * pipeline, the DNS zone and the protocol codecs together.
 *
 * Ownership: zkd owns everything below it. Connections register themselves
 * as watchers (zkd_watcher) under a nonzero id; the registry's on_watch hook
 * finds them through `watchers`, on_change goes to the DNS zone. Nothing in
 * here blocks: all I/O is libuv's, upstream DNS is c-ares on the same loop.
 */
#ifndef ZK_DAEMON_D_SERVER_H
#define ZK_DAEMON_D_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "conf.h"
#include "d_forward.h"
#include "d_idmap.h"
#include "d_pipeline.h"
#include "dns.h"
#include "reg.h"

/* Something that receives watch events: a connection of either protocol. */
typedef struct zkd_watcher {
    void (*event)(struct zkd_watcher *w, int type, const char *path, int64_t zxid);
} zkd_watcher;

typedef struct zkd_listener {
    struct zkd_listener *next;
    struct zkd *d;
    int kind;              /* ZKD_LISTEN_* */
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
        uv_udp_t udp;
        uv_poll_t poll;    /* DNS over UDP: a socket of our own (sock) */
    } h;
    int sock;              /* a socket under h.poll, closed after it; -1: none */
    char *unix_path;       /* unlinked at close */
} zkd_listener;

enum { ZKD_LISTEN_CLIENT = 1, ZKD_LISTEN_DNS_UDP, ZKD_LISTEN_DNS_TCP, ZKD_LISTEN_ZK };

typedef struct zkd {
    uv_loop_t *loop;
    zk_conf *conf;
    reg_t *reg;
    dns_zone *zone;
    zkd_pipeline pipe;
    zkd_store store;           /* data_dir: log and snapshots (d_persist.h) */
    zkd_forward fwd;
    bool fwd_ready;
    zkd_idmap watchers;        /* watcher id -> zkd_watcher */
    uint64_t next_id;
    zkd_listener *listeners;
    uv_signal_t sig_int, sig_term;
    uv_timer_t tick;
    size_t client_conns;       /* open socket-protocol connections */
    struct zkd_zk_srv *zk;     /* the ZooKeeper protocol (d_zk.h); NULL if off */
    bool stopping;
    bool timers_started, pipe_started;
    int exit_code;
} zkd;

/* Sets up everything from conf (borrowed; must outlive d): registry, zone,
 * listeners, signals. Logs and returns a negative value on failure. */
int zkd_init(zkd *d, uv_loop_t *loop, zk_conf *conf);
/* Begins a clean stop: listeners close, connections close, sessions end. */
void zkd_stop(zkd *d);
/* Frees what zkd_init made; the loop must have run to completion. */
void zkd_free(zkd *d);

/* A fresh nonzero id for a connection (its watcher and log name). */
uint64_t zkd_next_id(zkd *d);
int64_t zkd_now_ms(void);

/* Listener set-up, per protocol (d_client.c, d_dns.c). */
int zkd_client_listen(zkd *d, const char *spec);
int zkd_dns_listen(zkd *d, const char *spec);
/* Closes every socket-protocol connection (at stop). */
void zkd_client_close_all(zkd *d);
void zkd_dns_close_all(zkd *d);

zkd_listener *zkd_listener_new(zkd *d, int kind);
void zkd_listener_close_all(zkd *d);

#endif
