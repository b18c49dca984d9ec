/*
 * d_dns.c - DNS over TCP on the daemon's loop, and the UDP+TCP pair on each
 * dns.listen address (UDP itself is d_dns_udp.c).
 *
 * Every query goes through dns_query_process(), which answers in-zone names
 * from the registry. Out-of-zone names come back as DNS_VERDICT_FORWARD and
 * go upstream through c-ares (d_forward.c); the upstream's answer is relayed
 * by dns_relay: the client's query ID restored, header and question with TC
 * when it does not fit the client's UDP size, SERVFAIL when no upstream
 * answers. No DNS wire format is parsed here.
 *
 * UDP is in d_dns_udp.c (batches of recvmmsg/sendmmsg). A TCP connection
 * is bounded by one frame of input, a cap on replies waiting to be written
 * and on forwards in flight, and an idle timer; the connections together
 * by dns.max_tcp_connections (each holds a 64 KiB input buffer and a file
 * descriptor), past which a new one is closed at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "d_addr.h"
#include "d_dns_udp.h"
#include "d_log.h"
#include "d_server.h"

#define DNS_TCP_MAX_PENDING 64

static uint8_t dns__out[65535 + 2];

/* ---- TCP ------------------------------------------------------------------ */

typedef struct dconn {
    zkd *d;
    uv_tcp_t tcp;
    uv_timer_t idle;
    uint8_t in[65537];
    size_t in_len;
    size_t pending;     /* writes and forwards not finished */
    int refs;           /* tcp handle, timer, pending callbacks */
    int closed;
    struct dconn *prev, *next;
} dconn;

typedef struct dconn_write {
    uv_write_t req;
    dconn *c;
    uint8_t data[];
} dconn_write;

typedef struct tcp_fwd {
    dconn *c;
    size_t qlen;
    uint8_t q[];
} tcp_fwd;

static dconn *dconn__all;
static size_t dconn__open;    /* accepted and not closed */
static bool dconn__full_said; /* the limit's warning, once per episode */

static void dconn__process(dconn *c);

static void dconn__unref(dconn *c)
{
    if (--c->refs > 0)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        dconn__all = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c);
}

static void dconn__on_closed(uv_handle_t *h)
{
    dconn__unref(h->data);
}

static void dconn__close(dconn *c)
{
    if (c->closed)
        return;
    c->closed = 1;
    if (--dconn__open < c->d->conf->dns_max_tcp_connections)
        dconn__full_said = false;
    uv_close((uv_handle_t *)&c->tcp, dconn__on_closed);
    uv_close((uv_handle_t *)&c->idle, dconn__on_closed);
}

static void dconn__on_idle(uv_timer_t *t)
{
    dconn__close(t->data);
}

static void dconn__on_write(uv_write_t *req, int status)
{
    dconn_write *w = (dconn_write *)req;
    dconn *c = w->c;
    free(w);
    c->pending--;
    if (status < 0)
        dconn__close(c);
    else if (!c->closed)
        dconn__process(c);
    dconn__unref(c);
}

static void dconn__send(dconn *c, const uint8_t *p, size_t n)
{
    dconn_write *w = malloc(sizeof(*w) + n + 2);
    if (w == NULL) {
        dconn__close(c);
        return;
    }
    w->c = c;
    w->data[0] = (uint8_t)(n >> 8);
    w->data[1] = (uint8_t)n;
    memcpy(w->data + 2, p, n);
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)(n + 2));
    c->pending++;
    c->refs++;
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, dconn__on_write) < 0) {
        c->pending--;
        c->refs--;
        free(w);
        dconn__close(c);
    }
}

static void dconn__on_forwarded(void *ctx, const uint8_t *resp, size_t len)
{
    tcp_fwd *f = ctx;
    dconn *c = f->c;
    c->pending--;
    if (!c->closed && !c->d->stopping) {
        size_t n = 0;
        if (dns_relay(c->d->zone, f->q, f->qlen, DNS_TRANSPORT_TCP, resp, len, dns__out,
                      sizeof(dns__out), &n) == 0)
            dconn__send(c, dns__out, n);
        dconn__process(c);
    }
    free(f);
    dconn__unref(c);
}

static void dconn__forward(dconn *c, const uint8_t *q, size_t len)
{
    tcp_fwd *f = malloc(sizeof(*f) + len);
    if (f == NULL)
        return;
    f->c = c;
    f->qlen = len;
    memcpy(f->q, q, len);
    c->pending++;
    c->refs++;
    if (!c->d->fwd_ready || zkd_forward_query(&c->d->fwd, q, len, dconn__on_forwarded, f) < 0)
        dconn__on_forwarded(f, NULL, 0);
}

static void dconn__alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    dconn *c = h->data;
    *buf = uv_buf_init((char *)c->in + c->in_len, (unsigned)(sizeof(c->in) - c->in_len));
}

static void dconn__on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

/* Answers every complete frame in the buffer while under the pending cap. */
static void dconn__process(dconn *c)
{
    while (!c->closed && c->in_len >= 2 && c->pending < DNS_TCP_MAX_PENDING) {
        size_t flen = (size_t)(c->in[0] << 8 | c->in[1]);
        if (c->in_len < flen + 2)
            break;
        size_t out_len = 0;
        int v = dns_query_process(c->d->zone, c->in + 2, flen, DNS_TRANSPORT_TCP, dns__out,
                                  sizeof(dns__out), &out_len);
        if (v == DNS_VERDICT_ANSWER && out_len)
            dconn__send(c, dns__out, out_len);
        else if (v == DNS_VERDICT_FORWARD)
            dconn__forward(c, c->in + 2, flen);
        memmove(c->in, c->in + flen + 2, c->in_len - flen - 2);
        c->in_len -= flen + 2;
    }
    if (c->closed)
        return;
    if (c->pending < DNS_TCP_MAX_PENDING)
        uv_read_start((uv_stream_t *)&c->tcp, dconn__alloc, dconn__on_read);
    else
        uv_read_stop((uv_stream_t *)&c->tcp);
}

static void dconn__on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    dconn *c = s->data;
    if (n < 0) {
        dconn__close(c);
        return;
    }
    c->in_len += (size_t)n;
    uv_timer_again(&c->idle);
    dconn__process(c);
}

static void dconn__on_connection(uv_stream_t *server, int status)
{
    zkd_listener *l = server->data;
    zkd *d = l->d;
    if (status < 0 || d->stopping)
        return;
    dconn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return;
    c->d = d;
    uv_tcp_init(d->loop, &c->tcp);
    uv_timer_init(d->loop, &c->idle);
    c->tcp.data = c->idle.data = c;
    c->refs = 2;
    c->next = dconn__all;
    if (dconn__all)
        dconn__all->prev = c;
    dconn__all = c;
    dconn__open++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
        dconn__close(c);
        return;
    }
    if (dconn__open > d->conf->dns_max_tcp_connections) {
        if (!dconn__full_said)
            zkd_warn("dns: %zu TCP connections, the most dns.max_tcp_connections allows; "
                     "closing new ones until one ends", dconn__open - 1);
        dconn__full_said = true;
        dconn__close(c);
        return;
    }
    uint64_t idle = d->conf->dns_tcp_idle_ms ? d->conf->dns_tcp_idle_ms : 10000;
    uv_timer_start(&c->idle, dconn__on_idle, idle, idle);
    dconn__process(c);
}

static int dns__listen_tcp(zkd *d, const struct sockaddr *sa)
{
    zkd_listener *l = zkd_listener_new(d, ZKD_LISTEN_DNS_TCP);
    if (l == NULL)
        return -ENOMEM;
    int rc = uv_tcp_init(d->loop, &l->h.tcp);
    if (rc == 0)
        rc = uv_tcp_bind(&l->h.tcp, sa, 0);
    if (rc == 0)
        rc = uv_listen(&l->h.stream, 128, dconn__on_connection);
    return rc;
}

#define DNS_PICK_TRIES 16 /* port 0: UDP ports drawn until TCP has the same free */

static void dns__dropped(uv_handle_t *h)
{
    zkd_listener *l = h->data;
    if (l->sock >= 0)
        close(l->sock);
    free(l);
}

/* Closes the listeners made since the list head was mark. */
static void dns__drop_since(zkd *d, zkd_listener *mark)
{
    while (d->listeners && d->listeners != mark) {
        zkd_listener *l = d->listeners;
        d->listeners = l->next;
        if (l->h.handle.type != UV_UNKNOWN_HANDLE)
            uv_close(&l->h.handle, dns__dropped);
        else
            dns__dropped(&l->h.handle);
    }
}

static int dns__listen_pair(zkd *d, const struct sockaddr *sa, char *bound, size_t blen)
{
    int rc = zkd_dns_udp_listen(d, sa, bound, blen);
    if (rc == 0) {
        struct sockaddr_storage tcp_ss;
        zkd_addr_parse(bound, 53, &tcp_ss);
        rc = dns__listen_tcp(d, (struct sockaddr *)&tcp_ss);
    }
    return rc;
}

/* Binds UDP first; with port 0 the TCP listener then takes the same port,
 * so that one address serves both transports as a resolver expects. The
 * port UDP drew may be taken for TCP (by any client connection): then both
 * are dropped and another port is drawn. */
int zkd_dns_listen(zkd *d, const char *spec)
{
    struct sockaddr_storage ss;
    char bound[128];
    int rc = zkd_addr_parse(spec, 53, &ss);
    bool pick = rc == 0 && zkd_addr_port((struct sockaddr *)&ss) == 0;
    for (int i = 1; rc == 0; i++) {
        zkd_listener *mark = d->listeners;
        rc = dns__listen_pair(d, (struct sockaddr *)&ss, bound, sizeof(bound));
        if (rc != UV_EADDRINUSE || !pick || i == DNS_PICK_TRIES)
            break;
        dns__drop_since(d, mark);
        rc = 0;
    }
    if (rc < 0) {
        zkd_error("dns: cannot listen on %s: %s", spec, rc == -EINVAL ? "bad address"
                                                                       : uv_strerror(rc));
        return rc;
    }
    zkd_info("listening: dns udp+tcp %s", bound);
    return 0;
}

void zkd_dns_close_all(zkd *d)
{
    for (dconn *c = dconn__all; c; c = c->next)
        if (c->d == d)
            dconn__close(c);
}
