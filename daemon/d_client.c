/*
 * d_client.c - connections of the small socket protocol (SPEC section 3).
 *
 * Each connection is a small state machine:
 *
 *   OPENING  not accepted yet (a refused connection is closed from here);
 *   READY    lines are parsed and answered one by one;
 *   BUSY     a write of this connection is in the pipeline; further input
 *            waits in the buffer, so replies keep request order and a read
 *            sees the connection's own writes;
 *   DRAINING the last reply (QUIT, a fatal error) is being flushed, then close;
 *   CLOSED   the handle is closing; the session's close is in the pipeline.
 *
 * The connection's registry session is made when its first line arrives,
 * not when it connects: the session's creation goes into the pipeline right
 * before that line's write, so a REGISTER on a new connection costs one
 * batch of the log (one fdatasync), not two in a row, and a connection that
 * never says anything costs none. The line is run at once on the prepared
 * session: the pipeline commits in zxid order, so the write is acknowledged
 * only after the session is durable, and if the session cannot be made
 * durable, neither can anything after it.
 *
 * Input is bounded by client.max_line (a longer line is answered with
 * ERR BADARGUMENTS and the connection is closed); output by
 * client.max_output: reading pauses at half of it (a client that does not
 * read its replies), and a connection whose pending output still passes it
 * (events nobody reads) is closed. Memory is freed only after both the
 * handle's close callback ran and no pipeline callback refers to it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "d_addr.h"
#include "d_log.h"
#include "d_server.h"
#include "text_session.h"

enum tconn_state { TC_OPENING, TC_READY, TC_BUSY, TC_DRAINING, TC_CLOSED };

typedef struct tconn {
    zkd_watcher w;
    zkd *d;
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_pipe_t pipe;
        uv_tcp_t tcp;
    } h;
    uint64_t id;
    int64_t session;
    txt_sess *ts;
    int state;
    char *in;
    size_t in_len, in_cap;
    zk_buf out;
    size_t inflight;        /* bytes handed to uv_write */
    int refs;               /* pipeline callbacks + the open handle */
    struct tconn *prev, *next;
} tconn;

typedef struct tconn_write {
    uv_write_t req;
    tconn *c;
    zk_buf buf;
} tconn_write;

static tconn *tconn__all;

static void tconn__process(tconn *c);
static void tconn__flush(tconn *c);
static void tconn__close(tconn *c);
static void tconn__update_reading(tconn *c);
static int tconn__open_session(tconn *c);

static size_t tconn__max_line(const tconn *c) { return c->d->conf->client_max_line; }
static size_t tconn__max_out(const tconn *c) { return c->d->conf->client_max_output; }

static void tconn__unref(tconn *c)
{
    if (--c->refs > 0)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        tconn__all = c->next;
    if (c->next)
        c->next->prev = c->prev;
    txt_sess_free(c->ts);
    zk_buf_free(&c->out);
    free(c->in);
    free(c);
}

static void tconn__on_event(zkd_watcher *w, int type, const char *path, int64_t zxid)
{
    tconn *c = (tconn *)w;
    if (c->state == TC_CLOSED || c->ts == NULL)
        return;
    txt_sess_event(c->ts, type, path, zxid, &c->out);
    if (c->out.len + c->inflight > tconn__max_out(c)) {
        zkd_warn("client %llu: output limit passed (client not reading events); closing",
                 (unsigned long long)c->id);
        tconn__close(c);
        return;
    }
    tconn__flush(c);
}

static void tconn__on_write(uv_write_t *req, int status)
{
    tconn_write *wr = (tconn_write *)req;
    tconn *c = wr->c;
    zk_buf_free(&wr->buf);
    free(wr);
    c->inflight = 0;
    if (status < 0 && c->state != TC_CLOSED) {
        zkd_debug("client %llu: write failed: %s", (unsigned long long)c->id, uv_strerror(status));
        tconn__close(c);
    } else if (c->state != TC_CLOSED) {
        tconn__flush(c);
        if (c->state == TC_DRAINING && c->out.len == 0 && c->inflight == 0)
            tconn__close(c);
        else
            tconn__update_reading(c);
    }
    tconn__unref(c);
}

static void tconn__flush(tconn *c)
{
    if (c->inflight || c->out.len == 0 || c->state == TC_CLOSED)
        return;
    tconn_write *wr = malloc(sizeof(*wr));
    if (wr == NULL) {
        tconn__close(c);
        return;
    }
    wr->c = c;
    wr->buf = c->out;
    zk_buf_init(&c->out, tconn__max_out(c) * 2);
    uv_buf_t b = uv_buf_init(wr->buf.data, (unsigned)wr->buf.len);
    c->inflight = wr->buf.len;
    c->refs++;
    int rc = uv_write(&wr->req, &c->h.stream, &b, 1, tconn__on_write);
    if (rc < 0) {
        c->refs--;
        c->inflight = 0;
        zk_buf_free(&wr->buf);
        free(wr);
        tconn__close(c);
    }
}

static void tconn__on_closed(uv_handle_t *h)
{
    tconn *c = h->data;
    c->d->client_conns--;
    tconn__unref(c);
}

/* Ends the connection: the session's close goes into the pipeline, so its
 * ephemeral nodes are gone before the next loop turn ends. */
static void tconn__close(tconn *c)
{
    if (c->state == TC_CLOSED)
        return;
    c->state = TC_CLOSED;
    zkd *d = c->d;
    zkd_idmap_del(&d->watchers, c->id);
    reg_watcher_drop(d->reg, c->id);
    if (c->session) {
        reg_op op = {.type = REG_OP_CLOSE_SESSION};
        int rc = zkd_pipeline_write(&d->pipe, c->session, &op, zkd_now_ms(), NULL, NULL);
        if (rc < 0)
            zkd_error("client %llu: cannot close session: %s", (unsigned long long)c->id,
                      reg_strerror(rc));
        c->session = 0;
    }
    uv_close(&c->h.handle, tconn__on_closed);
}

static void tconn__alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    tconn *c = h->data;
    size_t limit = tconn__max_line(c) + 2;
    if (c->in_cap - c->in_len < 1024 && c->in_cap < limit) {
        size_t ncap = c->in_cap ? c->in_cap * 2 : 4096;
        if (ncap > limit)
            ncap = limit;
        char *p = realloc(c->in, ncap);
        if (p) {
            c->in = p;
            c->in_cap = ncap;
        }
    }
    *buf = uv_buf_init(c->in + c->in_len, (unsigned)(c->in_cap - c->in_len));
}

static void tconn__on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    tconn *c = s->data;
    if (n < 0) {
        if (n != UV_EOF)
            zkd_debug("client %llu: read: %s", (unsigned long long)c->id, uv_strerror((int)n));
        tconn__close(c);
        return;
    }
    c->in_len += (size_t)n;
    tconn__process(c);
}

static void tconn__update_reading(tconn *c)
{
    if (c->state == TC_CLOSED)
        return;
    int want = (c->state == TC_READY || c->state == TC_BUSY) &&
               c->in_len < tconn__max_line(c) + 2 &&
               c->out.len + c->inflight < tconn__max_out(c) / 2;
    if (want)
        uv_read_start(&c->h.stream, tconn__alloc, tconn__on_read);
    else
        uv_read_stop(&c->h.stream);
}

static void tconn__on_commit(void *ctx, const reg_result *res)
{
    tconn *c = ctx;
    if (c->state == TC_BUSY) {
        txt_sess_finish(c->ts, res, &c->out);
        c->state = TC_READY;
        tconn__process(c);
    }
    tconn__unref(c);
}

static void tconn__too_long(tconn *c)
{
    txt_reply_error(&c->out, REG_EBADARGUMENTS, "line too long");
    c->state = TC_DRAINING;
    c->in_len = 0;
}

/* Runs every complete line in the buffer, until one of them is a write. */
static void tconn__run_lines(tconn *c)
{
    size_t max = tconn__max_line(c);
    while (c->state == TC_READY && c->in_len > 0) {
        char *lf = memchr(c->in, '\n', c->in_len);
        if (lf == NULL) {
            if (c->in_len > max)
                tconn__too_long(c);
            return;
        }
        size_t len = (size_t)(lf - c->in), used = len + 1;
        if (len > 0 && c->in[len - 1] == '\r')
            len--;
        if (len > max) {
            tconn__too_long(c);
            return;
        }
        if (c->ts == NULL && tconn__open_session(c) < 0) {
            tconn__close(c);
            return;
        }
        reg_txn *txn = NULL;
        int st = txt_sess_line(c->ts, c->in, len, zkd_now_ms(), &c->out, &txn);
        memmove(c->in, c->in + used, c->in_len - used);
        c->in_len -= used;
        if (st == TXT_PENDING) {
            c->state = TC_BUSY;
            c->refs++;
            if (zkd_pipeline_submit(&c->d->pipe, txn, tconn__on_commit, c) < 0) {
                c->refs--;
                c->state = TC_READY;
                txt_reply_error(&c->out, -ENOMEM, "out of memory");
            }
        } else if (st == TXT_CLOSE) {
            c->state = TC_DRAINING;
        }
    }
}

static void tconn__process(tconn *c)
{
    tconn__run_lines(c);
    tconn__flush(c);
    if (c->state == TC_DRAINING && c->out.len == 0 && c->inflight == 0)
        tconn__close(c);
    else
        tconn__update_reading(c);
}

/* The session's creation is durable, or failed (and so did every write of
 * the connection queued after it). */
static void tconn__on_session(void *ctx, const reg_result *res)
{
    tconn *c = ctx;
    if (res->err != 0 && c->state != TC_CLOSED) {
        zkd_error("client %llu: cannot create session: %s", (unsigned long long)c->id,
                  reg_strerror(res->err));
        c->session = 0; /* rolled back: there is nothing to close */
        tconn__close(c);
    }
    tconn__unref(c);
}

/* Prepares the connection's session and queues it; the id is known at once
 * (reg_prepare), so lines can run on it before it is committed. */
static int tconn__open_session(tconn *c)
{
    uint8_t passwd[16];
    for (size_t i = 0; i < sizeof(passwd); i++)
        passwd[i] = (uint8_t)(c->id >> (i % 8));
    reg_op op = {.type = REG_OP_CREATE_SESSION, .timeout_ms = 0,
                 .session_flags = REG_SESSION_LOCAL, .passwd = passwd};
    reg_txn *txn = NULL;
    int rc = reg_prepare(c->d->reg, 0, &op, zkd_now_ms(), &txn);
    if (rc == 0 && reg_txn_err(txn) != 0) {
        rc = reg_txn_err(txn);
        reg_txn_abort(c->d->reg, txn);
    }
    if (rc < 0) {
        zkd_error("client %llu: cannot create session: %s", (unsigned long long)c->id,
                  reg_strerror(rc));
        return rc;
    }
    int64_t session = reg_txn_session(txn);
    c->refs++;
    rc = zkd_pipeline_submit(&c->d->pipe, txn, tconn__on_session, c);
    if (rc < 0) {
        c->refs--;
        zkd_error("client %llu: cannot create session: %s", (unsigned long long)c->id,
                  reg_strerror(rc));
        return rc;
    }
    c->session = session;
    txt_config tc = {.dns_root = c->d->conf->dns_root, .max_tokens = 0};
    c->ts = txt_sess_create(c->d->reg, &tc, c->session, c->id);
    if (c->ts == NULL)
        return -ENOMEM;
    zkd_debug("client %llu: session 0x%llx", (unsigned long long)c->id,
              (unsigned long long)c->session);
    return 0;
}

static void tconn__on_connection(uv_stream_t *server, int status)
{
    zkd_listener *l = server->data;
    zkd *d = l->d;
    if (status < 0 || d->stopping)
        return;
    tconn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return;
    c->d = d;
    c->w.event = tconn__on_event;
    c->id = zkd_next_id(d);
    c->refs = 1;
    zk_buf_init(&c->out, d->conf->client_max_output * 2);
    int rc = l->unix_path ? uv_pipe_init(d->loop, &c->h.pipe, 0) : uv_tcp_init(d->loop, &c->h.tcp);
    c->h.handle.data = c;
    d->client_conns++;
    c->next = tconn__all;
    if (tconn__all)
        tconn__all->prev = c;
    tconn__all = c;
    if (rc == 0)
        rc = uv_accept(server, &c->h.stream);
    if (rc == 0 && d->client_conns > d->conf->client_max_connections) {
        zkd_warn("client: connection limit %zu reached; refusing", d->conf->client_max_connections);
        rc = -EMFILE;
    }
    if (rc == 0)
        rc = zkd_idmap_put(&d->watchers, c->id, &c->w);
    if (rc < 0) {
        c->state = TC_OPENING;
        tconn__close(c);
        return;
    }
    c->state = TC_READY;
    tconn__update_reading(c);
}

static int client__listen_unix(zkd_listener *l, const char *path)
{
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path); /* a stale socket of an earlier run */
    int rc = uv_pipe_init(l->d->loop, &l->h.pipe, 0);
    if (rc == 0)
        rc = uv_pipe_bind(&l->h.pipe, path);
    if (rc == 0) {
        l->unix_path = strdup(path);
        chmod(path, 0660);
    }
    return rc;
}

static int client__listen_tcp(zkd_listener *l, const char *hostport, char *bound, size_t blen)
{
    struct sockaddr_storage ss;
    int rc = uv_tcp_init(l->d->loop, &l->h.tcp);
    if (rc == 0)
        rc = zkd_addr_parse(hostport, 0, &ss);
    if (rc == 0)
        rc = uv_tcp_bind(&l->h.tcp, (struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = zkd_addr_local(&l->h.handle, bound, blen);
    return rc;
}

int zkd_client_listen(zkd *d, const char *spec)
{
    zkd_listener *l = zkd_listener_new(d, ZKD_LISTEN_CLIENT);
    if (l == NULL)
        return -ENOMEM;
    char bound[128] = "";
    int rc;
    if (strncmp(spec, "unix:", 5) == 0) {
        rc = client__listen_unix(l, spec + 5);
        snprintf(bound, sizeof(bound), "%s", spec + 5);
    } else if (strncmp(spec, "tcp:", 4) == 0) {
        rc = client__listen_tcp(l, spec + 4, bound, sizeof(bound));
    } else {
        rc = -EINVAL;
    }
    if (rc == 0)
        rc = uv_listen(&l->h.stream, 128, tconn__on_connection);
    if (rc < 0) {
        zkd_error("client: cannot listen on %s: %s", spec, uv_strerror(rc));
        return rc;
    }
    zkd_info("listening: client %s%s", strncmp(spec, "unix:", 5) == 0 ? "unix:" : "tcp:", bound);
    return 0;
}

void zkd_client_close_all(zkd *d)
{
    for (tconn *c = tconn__all; c; c = c->next)
        if (c->d == d)
            tconn__close(c);
}
