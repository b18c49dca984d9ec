/*
 * d_zk_int.h - internal to the ZooKeeper protocol module (d_zk_*.c, d_4lw.c).
 *
 * A connection (zkd_zk_conn) is an explicit state machine:
 *
 *   HANDSHAKE   waiting for the ConnectRequest, or a four-letter word in the
 *               first four bytes;
 *   CONNECTING  its new session's CREATE_SESSION is in the write pipeline;
 *               input waits in the buffer (ZooKeeper stops reading too);
 *   READY       requests are run in arrival order (d_zk_req.c);
 *   DRAINING    a last reply (closeSession, AUTHFAILED, a refused session,
 *               an unknown opcode, a four-letter word) is being flushed;
 *               nothing more is read; then the connection closes;
 *   CLOSED      the handle is closing. Memory is freed when the close
 *               callback has run and no pipeline callback or uv_write refers
 *               to the connection any more (refs).
 *
 * Replies leave in request order. Writes are prepared the moment they
 * arrive, so many are in flight at once; each takes a place in the
 * connection's reply queue (the "fifo"), and a write refused before the
 * registry saw it (a bad CreateMode, a malformed body) takes a place too,
 * holding its error reply, so it cannot overtake earlier writes. Anything
 * that is not a write waits in the input buffer, undecoded, while the fifo
 * is not empty: reads see the session's own writes and pings, syncs and
 * auths keep their order, as in ZooKeeper's standalone pipeline.
 */
#ifndef ZK_DAEMON_D_ZK_INT_H
#define ZK_DAEMON_D_ZK_INT_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "d_4lw.h"
#include "d_server.h"
#include "d_zk.h"
#include "proto_zk.h"

enum zkd_zk_state { ZC_HANDSHAKE, ZC_CONNECTING, ZC_READY, ZC_DRAINING, ZC_CLOSED };

/* A handler's verdict beyond 0: the reply is written, close after it. */
#define ZKD_ZK_CLOSE 1

/* Connections that never finish their handshake, and ones whose last
 * reply is never read, are closed after this long (ZooKeeper's
 * sessionlessCnxnTimeout default). */
#define ZKD_ZK_IDLE_MS 10000

/* Request latency and packet counters (ZooKeeper's ServerStats). */
typedef struct zkd_zk_stats {
    uint64_t recved, sent;
    int64_t lat_min, lat_max, lat_last, lat_sum;
    uint64_t lat_n;
} zkd_zk_stats;

/* An identity of the connection, for whoAmI (the registry keeps the same
 * ones on the session, for ACL checks). */
typedef struct zkd_zk_ident {
    char *scheme;
    char *id;
} zkd_zk_ident;

typedef struct zkd_zk_conn zkd_zk_conn;
typedef struct zkd_zk_srv zkd_zk_srv;

/* One place in a connection's reply queue: a write in the pipeline (its
 * reply is built at commit), or a reply already built (ready). */
typedef struct zkd_zk_pend {
    struct zkd_zk_pend *next;
    zkd_zk_conn *c;
    int32_t xid;
    int32_t type;          /* enum zkp_op */
    int64_t start_ms;
    bool ready;
    zk_buf reply;          /* ready: the whole reply frame */
    size_t nops;           /* multi: its sub-operations' types */
    int32_t optypes[];
} zkd_zk_pend;

struct zkd_zk_conn {
    zkd_watcher w;         /* first: the registry's events find us by id */
    zkd *d;
    zkd_zk_srv *srv;
    uv_tcp_t tcp;
    uint64_t id;           /* watcher id and log name */
    int state;
    bool closing_session;  /* closeSession sent: input after it is ignored */
    bool reading;
    bool watching;         /* has asked for a watch (wchs) */
    int refs;              /* open handle + pipeline callbacks + uv_writes */
    int64_t session;       /* 0 until the session is established */
    int32_t timeout_ms;    /* negotiated by this connection's handshake */
    int64_t sess_timeout_ms; /* the session's own (from its creation) */
    uint8_t passwd[ZKP_PASSWD_LEN];
    bool has_ro;           /* the client sent the readOnly byte */
    uint64_t ip_key;       /* per-IP connection count key */
    char ip[INET6_ADDRSTRLEN];
    char peer[INET6_ADDRSTRLEN + 8]; /* "/IP:PORT" as ZooKeeper prints it */
    uint8_t *in;
    size_t in_len, in_cap;
    zk_buf out;
    size_t inflight;       /* bytes handed to uv_write */
    zkd_zk_pend *fifo_head, *fifo_tail;
    size_t nfifo;
    zkd_zk_ident *ids;
    size_t nids;
    zkd_zk_stats st;
    int64_t est_ms;        /* connection accepted */
    int64_t state_ms;      /* entered HANDSHAKE or DRAINING */
    int64_t touched_ms;    /* last request (session touch) */
    int64_t lresp_ms;
    int64_t lcxid, lzxid;
    const char *lop;       /* ZooKeeper's lastOp name for cons */
    zkd_zk_conn *prev, *next;
    zkd_zk_conn *dirty_next; /* on srv->dirty: output to write this turn */
    bool dirty;
};

struct zkd_zk_srv {
    zkd *d;
    zkd_zk_conn *conns;
    size_t nconns;
    zkd_idmap sessions;    /* session id -> zkd_zk_conn holding it */
    zkd_idmap per_ip;      /* ip key -> number of connections (uintptr_t) */
    uv_timer_t sweep;
    bool sweep_on;
    uv_check_t flusher;    /* writes the dirty connections' output */
    uv_idle_t flush_kick;  /* active with flusher: the poll must not block */
    bool flusher_on;
    zkd_zk_conn *dirty;    /* connections with output from this loop turn */
    zkd_zk_stats st;
    int64_t started_ms;
    int port;              /* first bound port (conf's clientPort) */
};

/* ---- d_zk_conn.c: lifetime, input and output ---------------------------- */

/* A connection in HANDSHAKE with its TCP handle initialised (refs 1), on
 * the module's list; NULL when out of memory. */
zkd_zk_conn *zkd_zk_conn_new(zkd *d);

/* Closes c (idempotent); why is logged at debug level. */
void zkd_zk_close(zkd_zk_conn *c, const char *why);
/* Runs whatever input can run now, adjusts reading and has the output
 * written at the end of the loop turn (zkd_zk_flush_later). */
void zkd_zk_process(zkd_zk_conn *c);
/* Has c->out written once this loop turn's callbacks are done (a uv_check
 * handle): a batch of commits answered on one connection goes out in one
 * write, not one per reply. */
void zkd_zk_flush_later(zkd_zk_conn *c);
/* Writes all connections' pending output now (the check handle; close). */
void zkd_zk_flush_dirty(zkd_zk_srv *s);
/* Bytes of output not yet written to the socket. */
size_t zkd_zk_out_pending(const zkd_zk_conn *c);
/* Enters DRAINING: the output is flushed, then the connection closes. */
void zkd_zk_drain(zkd_zk_conn *c);
void zkd_zk_unref(zkd_zk_conn *c);
/* Counts one packet sent and a request's latency (start_ms < 0: none). */
void zkd_zk_sent(zkd_zk_conn *c, int64_t start_ms);

/* ---- d_zk_listen.c ------------------------------------------------------ */

/* Gives back the connection's place under zookeeper.max_client_cnxns. */
void zkd_zk_ip_release(zkd_zk_conn *c);

/* ---- d_zk_session.c: handshake, sessions, identities -------------------- */

/* Handles the first frame (the ConnectRequest). Returns 0 (the connection
 * is CONNECTING, READY or DRAINING a refusal) or a negative error: close at
 * once, without a reply. */
int zkd_zk_handshake(zkd_zk_conn *c, const uint8_t *frame, size_t len);
/* Keeps the session alive for this connection's timeout from now. */
void zkd_zk_touch(zkd_zk_conn *c, int64_t now);
/* The connection no longer holds its session (closed, moved, ended). */
void zkd_zk_session_release(zkd_zk_conn *c);
/* Adds an identity to the connection and its session. 0 or negative. */
int zkd_zk_add_ident(zkd_zk_conn *c, const char *scheme, const char *id);
void zkd_zk_free_idents(zkd_zk_conn *c);
/* auth (addauth): digest and ip; anything else is AUTHFAILED and close. */
int zkd_zk_auth(zkd_zk_conn *c, const zkp_request *req);
int zkd_zk_whoami(zkd_zk_conn *c, const zkp_request *req);

/* ---- d_zk_req.c: requests in order, the write path ---------------------- */

/* Runs one request frame of a READY connection. Returns 0, ZKD_ZK_CLOSE
 * (the reply is written: drain, then close) or a negative error (close at
 * once). */
int zkd_zk_request(zkd_zk_conn *c, uint8_t *frame, size_t len);
/* Whether the frame (a request after the connect) is a registry write. */
bool zkd_zk_is_write(const uint8_t *frame, size_t len);
/* Frees the reply queue of a closing connection (pipeline entries free
 * themselves in their callbacks). */
void zkd_zk_fifo_drop(zkd_zk_conn *c);
/* The reply of a request that is not a write: header only, with err. */
int zkd_zk_reply_err(zkd_zk_conn *c, int32_t xid, int err);

/* ---- d_zk_read.c: requests answered from the committed tree ------------- */

typedef int (*zkd_zk_handler)(zkd_zk_conn *c, const zkp_request *req);
int zkd_zk_exists(zkd_zk_conn *c, const zkp_request *req);
int zkd_zk_get_data(zkd_zk_conn *c, const zkp_request *req);
int zkd_zk_get_children(zkd_zk_conn *c, const zkp_request *req);
int zkd_zk_get_acl(zkd_zk_conn *c, const zkp_request *req);
int zkd_zk_get_ephemerals(zkd_zk_conn *c, const zkp_request *req);
int zkd_zk_all_children(zkd_zk_conn *c, const zkp_request *req);
int zkd_zk_multi_read(zkd_zk_conn *c, const zkp_request *req);
int zkd_zk_sync(zkd_zk_conn *c, const zkp_request *req);
int zkd_zk_ping(zkd_zk_conn *c, const zkp_request *req);
int zkd_zk_sasl(zkd_zk_conn *c, const zkp_request *req);
int zkd_zk_set_watches(zkd_zk_conn *c, const zkp_request *req);
int zkd_zk_add_watch(zkd_zk_conn *c, const zkp_request *req);
int zkd_zk_remove_watches(zkd_zk_conn *c, const zkp_request *req);

#endif
