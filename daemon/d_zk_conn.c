/*
 * d_zk_conn.c - ZooKeeper connections on the loop: listen, accept, read
 * frames, write replies, close (the state machine is in d_zk_int.h).
 *
 * Input is one buffer that grows with what a frame needs, up to
 * zookeeper.max_frame plus a read chunk; frames are run from its front and
 * what cannot run yet (a read behind this connection's pending writes)
 * stays there undecoded, so waiting costs no copies. Reading stops when the
 * buffer is full, and a frame whose length passes max_frame closes the
 * connection. Output goes through one zk_buf: requests stop being run while
 * half of client.max_output waits to be written (a client that does not
 * read its replies), and a connection whose unread output passes it (watch
 * events nobody reads) is closed. Requests in flight (writes in the
 * pipeline plus frames waiting in the buffer) are bounded by
 * zookeeper.max_outstanding, and connections per client address by
 * zookeeper.max_client_cnxns; a client that breaks them is disconnected.
 *
 * A close may be asked for inside a registry callback (a watch event that
 * overflows the output), so zkd_zk_close only touches daemon state and the
 * handle; the registry is told (reg_watcher_drop) in the close callback.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "d_addr.h"
#include "d_log.h"
#include "d_zk_int.h"

#define ZKD__READ_CHUNK 4096u
#define ZKD__SHRINK_ABOVE 65536u

static void conn__on_write(uv_write_t *req, int status);

typedef struct conn__write {
    uv_write_t req;
    zkd_zk_conn *c;
    zk_buf buf;
} conn__write;

/* ---- limits -------------------------------------------------------------- */

static size_t conn__soft_out(const zkd_zk_conn *c)
{
    return c->d->conf->client_max_output;
}

/* The cap of c->out: the soft limit plus room for one largest reply. */
static size_t conn__hard_out(const zkd_zk_conn *c)
{
    return conn__soft_out(c) + 2 * c->d->conf->zk_max_frame + 65536;
}

static size_t conn__in_limit(const zkd_zk_conn *c)
{
    return c->d->conf->zk_max_frame + 4 + ZKD__READ_CHUNK;
}

size_t zkd_zk_out_pending(const zkd_zk_conn *c)
{
    return c->out.len + c->inflight;
}

/* ---- counters ------------------------------------------------------------ */

static void conn__latency(zkd_zk_stats *st, int64_t lat)
{
    if (st->lat_n == 0 || lat < st->lat_min)
        st->lat_min = lat;
    if (lat > st->lat_max)
        st->lat_max = lat;
    st->lat_last = lat;
    st->lat_sum += lat;
    st->lat_n++;
}

void zkd_zk_sent(zkd_zk_conn *c, int64_t start_ms)
{
    c->st.sent++;
    c->srv->st.sent++;
    if (start_ms < 0)
        return;
    int64_t now = zkd_now_ms(), lat = now > start_ms ? now - start_ms : 0;
    c->lresp_ms = now;
    conn__latency(&c->st, lat);
    conn__latency(&c->srv->st, lat);
}

/* ---- lifetime ------------------------------------------------------------ */

void zkd_zk_unref(zkd_zk_conn *c)
{
    if (--c->refs > 0)
        return;
    zkd_zk_srv *s = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    zkd_zk_free_idents(c);
    zk_buf_free(&c->out);
    free(c->in);
    free(c);
}

static void conn__on_closed(uv_handle_t *h)
{
    zkd_zk_conn *c = h->data;
    zkd *d = c->d;
    reg_watcher_drop(d->reg, c->id);
    /* identities belong to the connection; a reconnect has set its own */
    if (c->session && zkd_idmap_get(&c->srv->sessions, (uint64_t)c->session) == NULL)
        reg_session_clear_auth(d->reg, c->session);
    c->srv->nconns--;
    zkd_zk_unref(c);
}

static void conn__ip_release(zkd_zk_conn *c)
{
    if (c->ip_key == 0)
        return;
    zkd_idmap *m = &c->srv->per_ip;
    uintptr_t n = (uintptr_t)zkd_idmap_get(m, c->ip_key);
    if (n <= 1)
        zkd_idmap_del(m, c->ip_key);
    else
        zkd_idmap_put(m, c->ip_key, (void *)(n - 1));
    c->ip_key = 0;
}

void zkd_zk_close(zkd_zk_conn *c, const char *why)
{
    if (c->state == ZC_CLOSED)
        return;
    zkd_debug("zookeeper %llu: closing (%s)", (unsigned long long)c->id, why);
    c->state = ZC_CLOSED;
    zkd_idmap_del(&c->d->watchers, c->id);
    zkd_zk_session_release(c);
    conn__ip_release(c);
    zkd_zk_fifo_drop(c);
    uv_close((uv_handle_t *)&c->tcp, conn__on_closed);
}

void zkd_zk_drain(zkd_zk_conn *c)
{
    if (c->state == ZC_CLOSED || c->state == ZC_DRAINING)
        return;
    c->state = ZC_DRAINING;
    c->state_ms = zkd_now_ms();
}

/* ---- output -------------------------------------------------------------- */

/* Writes what the socket takes at once: no request, no callback, no
 * epoll change (libuv re-arms the descriptor after every uv_write). Returns
 * true when nothing is left. */
static bool conn__try_write(zkd_zk_conn *c)
{
    uv_buf_t b = uv_buf_init(c->out.data, (unsigned)c->out.len);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n < 0 && n != UV_EAGAIN) {
        zkd_zk_close(c, uv_strerror(n));
        return true;
    }
    if (n > 0)
        zk_buf_consume(&c->out, (size_t)n);
    if (c->out.len == 0 && c->out.cap > ZKD__SHRINK_ABOVE)
        zk_buf_free(&c->out); /* a large reply is gone: give its memory back */
    return c->out.len == 0;
}

void zkd_zk_flush(zkd_zk_conn *c)
{
    if (c->inflight || c->out.len == 0 || c->state == ZC_CLOSED)
        return;
    if (conn__try_write(c))
        return;
    conn__write *wr = malloc(sizeof(*wr));
    if (wr == NULL) {
        zkd_zk_close(c, "out of memory");
        return;
    }
    wr->c = c;
    wr->buf = c->out;
    zk_buf_init(&c->out, conn__hard_out(c));
    uv_buf_t b = uv_buf_init(wr->buf.data, (unsigned)wr->buf.len);
    c->inflight = wr->buf.len;
    c->refs++;
    int rc = uv_write(&wr->req, (uv_stream_t *)&c->tcp, &b, 1, conn__on_write);
    if (rc < 0) {
        c->refs--;
        c->inflight = 0;
        zk_buf_free(&wr->buf);
        free(wr);
        zkd_zk_close(c, uv_strerror(rc));
    }
}

static void conn__on_write(uv_write_t *req, int status)
{
    conn__write *wr = (conn__write *)req;
    zkd_zk_conn *c = wr->c;
    zk_buf_free(&wr->buf);
    free(wr);
    c->inflight = 0;
    if (status < 0)
        zkd_zk_close(c, uv_strerror(status));
    else
        zkd_zk_process(c);
    zkd_zk_unref(c);
}

/* A watch fired (zkd_watcher.event). Runs inside reg_commit. */
static void conn__on_event(zkd_watcher *w, int type, const char *path, int64_t zxid)
{
    (void)zxid; /* ZooKeeper 3.4-3.8 send -1 */
    zkd_zk_conn *c = (zkd_zk_conn *)w;
    if (c->state != ZC_READY && c->state != ZC_DRAINING)
        return;
    int rc = zkp_reply_event(&c->out, -1, type, ZKP_STATE_SYNC_CONNECTED, path);
    if (rc < 0 || zkd_zk_out_pending(c) > conn__soft_out(c)) {
        zkd_warn("zookeeper %llu: output limit passed (client not reading events); closing",
                 (unsigned long long)c->id);
        zkd_zk_close(c, "output limit");
        return;
    }
    zkd_zk_sent(c, -1);
    zkd_zk_flush(c);
}

/* ---- input --------------------------------------------------------------- */

static void conn__alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    zkd_zk_conn *c = h->data;
    size_t limit = conn__in_limit(c);
    if (c->in_cap - c->in_len < ZKD__READ_CHUNK / 4 && c->in_cap < limit) {
        size_t ncap = c->in_cap ? c->in_cap * 2 : ZKD__READ_CHUNK;
        if (ncap > limit)
            ncap = limit;
        uint8_t *p = realloc(c->in, ncap);
        if (p) {
            c->in = p;
            c->in_cap = ncap;
        }
    }
    *buf = uv_buf_init((char *)c->in + c->in_len, (unsigned)(c->in_cap - c->in_len));
}

static void conn__on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    zkd_zk_conn *c = s->data;
    if (n < 0) {
        zkd_zk_close(c, n == UV_EOF ? "peer closed" : uv_strerror((int)n));
        return;
    }
    c->in_len += (size_t)n;
    zkd_zk_process(c);
}

static void conn__update_reading(zkd_zk_conn *c)
{
    if (c->state == ZC_CLOSED)
        return;
    bool want = (c->state == ZC_HANDSHAKE || c->state == ZC_READY) &&
                !c->closing_session && c->in_len < conn__in_limit(c);
    if (want && !c->reading)
        uv_read_start((uv_stream_t *)&c->tcp, conn__alloc, conn__on_read);
    else if (!want && c->reading)
        uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = want;
}

/* Drops the first n bytes of input; gives back memory a large frame took. */
static void conn__consume(zkd_zk_conn *c, size_t n)
{
    if (n == 0)
        return;
    memmove(c->in, c->in + n, c->in_len - n);
    c->in_len -= n;
    if (c->in_cap > ZKD__SHRINK_ABOVE && c->in_len < c->in_cap / 4) {
        size_t ncap = c->in_len > ZKD__READ_CHUNK ? c->in_len : ZKD__READ_CHUNK;
        uint8_t *p = realloc(c->in, ncap);
        if (p) {
            c->in = p;
            c->in_cap = ncap;
        }
    }
}

/* The first four bytes of a connection may be a four-letter word. */
static bool conn__try_4lw(zkd_zk_conn *c)
{
    if (c->in_len < 4)
        return false;
    int cmd = zkp_is_4lw(c->in);
    if (cmd == ZKP_4LW_NONE)
        return false;
    c->st.recved++;
    c->srv->st.recved++;
    zkd_4lw_run(c->srv, cmd, (const char *)c->in, &c->out);
    c->in_len = 0;
    zkd_zk_drain(c);
    return true;
}

static bool conn__can_run(const zkd_zk_conn *c)
{
    if (c->state == ZC_HANDSHAKE)
        return true;
    return c->state == ZC_READY && !c->closing_session &&
           zkd_zk_out_pending(c) < conn__soft_out(c) / 2;
}

/* Complete frames waiting in the input, counted up to limit + 1; -1 when
 * one of them has a bad length. */
static long conn__queued(zkd_zk_conn *c, size_t limit)
{
    size_t off = 0, max = c->d->conf->zk_max_frame;
    long n = 0;
    while ((size_t)n <= limit) {
        uint8_t *f;
        size_t flen;
        int rc = zkp_frame_next(c->in + off, c->in_len - off, max, &f, &flen);
        if (rc == ZKP_EFRAME)
            return -1;
        if (rc != ZKP_FRAME)
            break;
        off += 4 + flen;
        n++;
    }
    return n;
}

/* Runs one frame; returns false when the loop must stop before it. */
static bool conn__run_one(zkd_zk_conn *c, uint8_t *frame, size_t flen)
{
    if (c->state == ZC_HANDSHAKE) {
        if (zkd_zk_handshake(c, frame, flen) < 0)
            zkd_zk_close(c, "handshake refused");
        return true;
    }
    if (c->nfifo > 0 && !zkd_zk_is_write(frame, flen))
        return false; /* waits for this connection's writes */
    if (c->nfifo >= c->d->conf->zk_max_outstanding) {
        zkd_warn("zookeeper %llu: more than %u requests outstanding; disconnecting",
                 (unsigned long long)c->id, c->d->conf->zk_max_outstanding);
        zkd_zk_close(c, "max_outstanding");
        return false;
    }
    int rc = zkd_zk_request(c, frame, flen);
    if (rc == ZKD_ZK_CLOSE)
        zkd_zk_drain(c);
    else if (rc < 0)
        zkd_zk_close(c, rc == ZKP_ESHORT ? "short frame" : zkp_strerror(rc));
    return true;
}

/* Runs what can run from the front of the input. */
static void conn__run_frames(zkd_zk_conn *c)
{
    size_t off = 0, max = c->d->conf->zk_max_frame;
    while (conn__can_run(c)) {
        if (c->state == ZC_HANDSHAKE && off == 0 && conn__try_4lw(c))
            return;
        uint8_t *frame;
        size_t flen;
        int rc = zkp_frame_next(c->in + off, c->in_len - off, max, &frame, &flen);
        if (rc == ZKP_EFRAME) {
            zkd_info("zookeeper %llu: frame length past zookeeper.max_frame (%zu); closing",
                     (unsigned long long)c->id, max);
            zkd_zk_close(c, "frame too large");
            return;
        }
        if (rc != ZKP_FRAME || !conn__run_one(c, frame, flen))
            break;
        off += 4 + flen;
    }
    if (c->state != ZC_CLOSED)
        conn__consume(c, off);
}

/* Outstanding = writes in flight + frames waiting; past the limit: close. */
static void conn__check_outstanding(zkd_zk_conn *c)
{
    if (c->state != ZC_READY)
        return;
    size_t limit = c->d->conf->zk_max_outstanding;
    long q = conn__queued(c, limit);
    if (q < 0) {
        zkd_zk_close(c, "frame too large");
    } else if (c->nfifo + (size_t)q > limit) {
        zkd_warn("zookeeper %llu: more than %zu requests outstanding; disconnecting",
                 (unsigned long long)c->id, limit);
        zkd_zk_close(c, "max_outstanding");
    }
}

void zkd_zk_process(zkd_zk_conn *c)
{
    if (c->state == ZC_CLOSED)
        return;
    conn__run_frames(c);
    conn__check_outstanding(c);
    zkd_zk_flush(c);
    if (c->state == ZC_DRAINING && zkd_zk_out_pending(c) == 0)
        zkd_zk_close(c, "done");
    else
        conn__update_reading(c);
}

/* ---- accepting ----------------------------------------------------------- */

/* A map key for the client's address: IPv4 as itself, IPv6 hashed. */
static uint64_t conn__ip_key(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        return (1ull << 32) | ntohl(s4->sin_addr.s_addr);
    }
    const uint8_t *p = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < 16; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h < (1ull << 33) ? h | (1ull << 33) : (h == UINT64_MAX ? h - 1 : h);
}

/* Fills ip, peer and the per-IP key; a v4-mapped v6 address reads as v4. */
static int conn__peer(zkd_zk_conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    int rc = uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len);
    if (rc < 0)
        return rc;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (ss.ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
        struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = s6->sin6_port};
        memcpy(&s4.sin_addr, &s6->sin6_addr.s6_addr[12], 4);
        memcpy(&ss, &s4, sizeof(s4));
    }
    const void *a = ss.ss_family == AF_INET ? (const void *)&((struct sockaddr_in *)&ss)->sin_addr
                                            : (const void *)&s6->sin6_addr;
    inet_ntop(ss.ss_family, a, c->ip, sizeof(c->ip));
    snprintf(c->peer, sizeof(c->peer), "/%s:%d", c->ip, zkd_addr_port((struct sockaddr *)&ss));
    c->ip_key = conn__ip_key((struct sockaddr *)&ss);
    return 0;
}

/* Counts the connection against zookeeper.max_client_cnxns. */
static int conn__ip_admit(zkd_zk_conn *c)
{
    uint32_t max = c->d->conf->zk_max_client_cnxns;
    uintptr_t n = (uintptr_t)zkd_idmap_get(&c->srv->per_ip, c->ip_key);
    if (max > 0 && n >= max) {
        zkd_warn("zookeeper: too many connections from %s - max is %u", c->ip, max);
        c->ip_key = 0;
        return -EMFILE;
    }
    int rc = zkd_idmap_put(&c->srv->per_ip, c->ip_key, (void *)(n + 1));
    if (rc < 0)
        c->ip_key = 0;
    return rc;
}

static zkd_zk_conn *conn__new(zkd *d)
{
    zkd_zk_conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    zkd_zk_srv *s = d->zk;
    c->d = d;
    c->srv = s;
    c->w.event = conn__on_event;
    c->id = zkd_next_id(d);
    c->refs = 1;
    c->lcxid = -1;
    c->lop = "NA";
    c->est_ms = c->state_ms = c->touched_ms = zkd_now_ms();
    zk_buf_init(&c->out, conn__hard_out(c));
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    return c;
}

static void conn__on_connection(uv_stream_t *server, int status)
{
    zkd_listener *l = server->data;
    zkd *d = l->d;
    if (status < 0) {
        zkd_warn("zookeeper: accept: %s", uv_strerror(status));
        return;
    }
    zkd_zk_conn *c = conn__new(d);
    if (c == NULL)
        return;
    uv_tcp_init(d->loop, &c->tcp);
    c->tcp.data = c;
    int rc = uv_accept(server, (uv_stream_t *)&c->tcp);
    if (rc == 0 && d->stopping)
        rc = -ECANCELED;
    if (rc == 0)
        rc = conn__peer(c);
    if (rc == 0)
        rc = conn__ip_admit(c);
    if (rc == 0)
        rc = zkd_idmap_put(&d->watchers, c->id, &c->w);
    if (rc < 0) {
        zkd_zk_close(c, "refused");
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    zkd_debug("zookeeper %llu: connection from %s", (unsigned long long)c->id, c->peer + 1);
    zkd_zk_process(c);
}

/* ---- the module ---------------------------------------------------------- */

/* Closes connections stuck in a handshake or in a last reply. */
static void conn__on_sweep(uv_timer_t *t)
{
    zkd_zk_srv *s = t->data;
    int64_t now = zkd_now_ms();
    for (zkd_zk_conn *c = s->conns; c; c = c->next) {
        bool idle = c->state == ZC_HANDSHAKE || c->state == ZC_DRAINING;
        if (idle && now - c->state_ms > ZKD_ZK_IDLE_MS)
            zkd_zk_close(c, c->state == ZC_HANDSHAKE ? "no handshake" : "reply not read");
    }
}

static zkd_zk_srv *conn__srv(zkd *d)
{
    if (d->zk)
        return d->zk;
    zkd_zk_srv *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->d = d;
    s->started_ms = zkd_now_ms();
    zkd_idmap_init(&s->sessions);
    zkd_idmap_init(&s->per_ip);
    uv_timer_init(d->loop, &s->sweep);
    s->sweep.data = s;
    uv_timer_start(&s->sweep, conn__on_sweep, 1000, 1000);
    s->sweep_on = true;
    d->zk = s;
    return s;
}

static int conn__bind(zkd_listener *l, const char *spec, char *bound, size_t blen)
{
    struct sockaddr_storage ss;
    int rc = zkd_addr_parse(spec, 0, &ss);
    if (rc == 0)
        rc = uv_tcp_init(l->d->loop, &l->h.tcp);
    if (rc == 0)
        rc = uv_tcp_bind(&l->h.tcp, (struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_listen(&l->h.stream, 128, conn__on_connection);
    if (rc == 0)
        rc = zkd_addr_local(&l->h.handle, bound, blen);
    return rc;
}

int zkd_zk_listen(zkd *d, const char *spec)
{
    zkd_zk_srv *s = conn__srv(d);
    zkd_listener *l = s ? zkd_listener_new(d, ZKD_LISTEN_ZK) : NULL;
    if (l == NULL)
        return -ENOMEM;
    char bound[128] = "";
    int rc = conn__bind(l, spec, bound, sizeof(bound));
    if (rc < 0) {
        zkd_error("zookeeper: cannot listen on %s: %s", spec,
                  rc == -EINVAL ? "bad address" : uv_strerror(rc));
        return rc;
    }
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    if (s->port == 0 && uv_tcp_getsockname(&l->h.tcp, (struct sockaddr *)&ss, &len) == 0)
        s->port = zkd_addr_port((struct sockaddr *)&ss);
    zkd_info("listening: zookeeper %s", bound);
    return 0;
}

void zkd_zk_close_all(zkd *d)
{
    zkd_zk_srv *s = d->zk;
    if (s == NULL)
        return;
    for (zkd_zk_conn *c = s->conns; c; c = c->next)
        zkd_zk_close(c, "server stopping");
    if (s->sweep_on) {
        uv_close((uv_handle_t *)&s->sweep, NULL);
        s->sweep_on = false;
    }
}

void zkd_zk_free(zkd *d)
{
    zkd_zk_srv *s = d->zk;
    if (s == NULL)
        return;
    zkd_idmap_free(&s->sessions);
    zkd_idmap_free(&s->per_ip);
    free(s);
    d->zk = NULL;
}

void zkd_zk_session_ended(zkd *d, int64_t session)
{
    if (d->zk == NULL)
        return;
    zkd_zk_conn *c = zkd_idmap_get(&d->zk->sessions, (uint64_t)session);
    if (c)
        zkd_zk_close(c, "session expired");
}
