/*
 * d_zk_conn.c - a ZooKeeper connection on the loop: read frames, run them
 * in order, write replies, close (the state machine is in d_zk_int.h;
 * listening and accepting in d_zk_listen.c).
 *
 * Input is one buffer that grows with what a frame needs, up to
 * zookeeper.max_frame plus a read chunk; frames are run from its front and
 * what cannot run yet (a read behind this connection's pending writes)
 * stays there undecoded, so waiting costs no copies. Reading stops when the
 * buffer is full, and a frame whose length passes max_frame closes the
 * connection. Output goes through one zk_buf, written once per loop turn
 * by a uv_check handle: a batch of 128 commits answered with a write() each
 * cost the loop 17k send calls a second at 128 outstanding, against 3k
 * now. Requests stop being run while
 * half of client.max_output waits to be written (a client that does not
 * read its replies), and a connection whose unread output passes it (watch
 * events nobody reads) is closed. Requests in flight (writes in the
 * pipeline plus frames waiting in the buffer) are bounded by
 * zookeeper.max_outstanding; a client that breaks it is disconnected.
 *
 * A close may be asked for inside a registry callback (a watch event that
 * overflows the output), so zkd_zk_close only touches daemon state and the
 * handle; the registry is told (reg_watcher_drop) in the close callback.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

void zkd_zk_close(zkd_zk_conn *c, const char *why)
{
    if (c->state == ZC_CLOSED)
        return;
    zkd_debug("zookeeper %llu: closing (%s)", (unsigned long long)c->id, why);
    c->state = ZC_CLOSED;
    zkd_idmap_del(&c->d->watchers, c->id);
    zkd_zk_session_release(c);
    zkd_zk_ip_release(c);
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

static void conn__flush(zkd_zk_conn *c)
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
    zkd_zk_flush_later(c);
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

/* After a flush: a DRAINING connection whose last reply is written closes. */
static void conn__settle(zkd_zk_conn *c)
{
    if (c->state == ZC_DRAINING && zkd_zk_out_pending(c) == 0)
        zkd_zk_close(c, "done");
    else
        conn__update_reading(c);
}

void zkd_zk_process(zkd_zk_conn *c)
{
    if (c->state == ZC_CLOSED)
        return;
    conn__run_frames(c);
    conn__check_outstanding(c);
    conn__update_reading(c);
    zkd_zk_flush_later(c);
}

/* ---- output at the end of the loop turn ----------------------------------- */

static void conn__on_check(uv_check_t *h)
{
    zkd_zk_flush_dirty(h->data);
}

static void conn__on_kick(uv_idle_t *h)
{
    (void)h; /* being active is its whole job */
}

void zkd_zk_flush_later(zkd_zk_conn *c)
{
    zkd_zk_srv *s = c->srv;
    if (c->dirty || c->state == ZC_CLOSED || !s->flusher_on)
        return;
    c->dirty = true;
    c->refs++;
    c->dirty_next = s->dirty;
    s->dirty = c;
    if (!uv_is_active((uv_handle_t *)&s->flusher)) {
        uv_check_start(&s->flusher, conn__on_check);
        /* Check handles run after the poll, and the poll blocks unless an
         * idle handle is active: output made before it in the turn - by a
         * timer, or by the pipeline's idle handle committing a few txns a
         * turn while a snapshot child runs - waited for the next event,
         * up to the 1 s sweep (bench/persist: 0.1-0.6 s for the last
         * setData of a run). Output made in the poll phase is flushed by
         * the check of the same turn, which stops the kick first. */
        uv_idle_start(&s->flush_kick, conn__on_kick);
    }
}

void zkd_zk_flush_dirty(zkd_zk_srv *s)
{
    /* the list is taken whole: a connection made dirty during the walk
     * (none is, today) restarts the handle and waits for the next turn */
    zkd_zk_conn *c = s->dirty;
    s->dirty = NULL;
    if (s->flusher_on) {
        uv_check_stop(&s->flusher);
        uv_idle_stop(&s->flush_kick);
    }
    while (c) {
        zkd_zk_conn *next = c->dirty_next;
        c->dirty = false;
        c->dirty_next = NULL;
        if (c->state != ZC_CLOSED) {
            conn__flush(c);
            conn__settle(c);
        }
        zkd_zk_unref(c);
        c = next;
    }
}

/* ---- a new connection ---------------------------------------------------- */

zkd_zk_conn *zkd_zk_conn_new(zkd *d)
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
    uv_tcp_init(d->loop, &c->tcp);
    c->tcp.data = c;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    return c;
}
