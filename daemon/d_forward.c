/*
 * d_forward.c - c-ares glue for upstream DNS on the libuv loop.
 *
 * c-ares tells us through its socket-state callback which sockets it wants
 * watched; each gets a uv_poll_t. One timer follows ares_timeout() so that
 * retries and timeouts happen without anyone waiting. ARES_FLAG_NOCHECKRESP
 * makes c-ares hand back SERVFAIL/REFUSED answers as they are, so the client
 * sees what the upstream said.
 */
#include "d_forward.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "d_log.h"

struct zkd_fwd_poll {
    zkd_fwd_poll *next;
    zkd_forward *f;
    ares_socket_t fd;
    uv_poll_t poll;
};

typedef struct fwd_query {
    zkd_forward *f;
    zkd_forward_cb cb;
    void *ctx;
} fwd_query;

static void fwd__arm_timer(zkd_forward *f);

static void fwd__poll_closed(uv_handle_t *h)
{
    free(h->data);
}

static void fwd__on_poll(uv_poll_t *h, int status, int events)
{
    zkd_fwd_poll *p = h->data;
    ares_socket_t rfd = ARES_SOCKET_BAD, wfd = ARES_SOCKET_BAD;
    if (status < 0 || (events & UV_READABLE))
        rfd = p->fd;
    if (status < 0 || (events & UV_WRITABLE))
        wfd = p->fd;
    zkd_forward *f = p->f;
    ares_process_fd(f->channel, rfd, wfd);
    fwd__arm_timer(f);
}

static zkd_fwd_poll **fwd__find(zkd_forward *f, ares_socket_t fd)
{
    zkd_fwd_poll **pp = &f->polls;
    while (*pp && (*pp)->fd != fd)
        pp = &(*pp)->next;
    return pp;
}

static void fwd__sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    zkd_forward *f = data;
    zkd_fwd_poll **pp = fwd__find(f, fd);
    if (!readable && !writable) {
        zkd_fwd_poll *p = *pp;
        if (p == NULL)
            return;
        *pp = p->next;
        uv_poll_stop(&p->poll);
        uv_close((uv_handle_t *)&p->poll, fwd__poll_closed);
        return;
    }
    zkd_fwd_poll *p = *pp;
    if (p == NULL) {
        p = calloc(1, sizeof(*p));
        if (p == NULL || uv_poll_init_socket(f->loop, &p->poll, fd) != 0) {
            free(p);
            zkd_error("forward: cannot watch upstream socket");
            return;
        }
        p->f = f;
        p->fd = fd;
        p->poll.data = p;
        p->next = f->polls;
        f->polls = p;
    }
    int ev = (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);
    uv_poll_start(&p->poll, ev, fwd__on_poll);
}

static void fwd__on_timer(uv_timer_t *t)
{
    zkd_forward *f = t->data;
    ares_process_fd(f->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    fwd__arm_timer(f);
}

static void fwd__arm_timer(zkd_forward *f)
{
    if (f->closing)
        return;
    if (f->inflight == 0) {
        uv_timer_stop(&f->timer);
        return;
    }
    struct timeval tv, *tvp = ares_timeout(f->channel, NULL, &tv);
    uint64_t ms = tvp ? (uint64_t)tvp->tv_sec * 1000 + (uint64_t)tvp->tv_usec / 1000 + 1 : 100;
    uv_timer_start(&f->timer, fwd__on_timer, ms, 0);
}

static int fwd__is_own(const struct ares_addr_port_node *n, const conf_list *own)
{
    char ip[INET6_ADDRSTRLEN];
    if (inet_ntop(n->family, &n->addr, ip, sizeof(ip)) == NULL)
        return 0;
    int port = n->udp_port ? n->udp_port : 53;
    char spec[INET6_ADDRSTRLEN + 16];
    for (size_t i = 0; i < own->count; i++) {
        snprintf(spec, sizeof(spec), n->family == AF_INET6 ? "[%s]:%d" : "%s:%d", ip, port);
        if (strcmp(spec, own->items[i]) == 0)
            return 1;
    }
    return 0;
}

/* Drops this daemon's own addresses from the resolv.conf servers, so that a
 * host whose resolver points at zonekeeper does not forward to itself. */
static int fwd__filter_servers(zkd_forward *f, const conf_list *own)
{
    struct ares_addr_port_node *list = NULL;
    if (ares_get_servers_ports(f->channel, &list) != ARES_SUCCESS)
        return -EIO;
    struct ares_addr_port_node **pp = &list;
    size_t kept = 0;
    while (*pp) {
        if (fwd__is_own(*pp, own)) {
            *pp = (*pp)->next; /* the node stays owned by the list block */
            continue;
        }
        kept++;
        pp = &(*pp)->next;
    }
    int rc = ares_set_servers_ports(f->channel, list);
    ares_free_data(list);
    f->nservers = kept;
    return rc == ARES_SUCCESS ? 0 : -EIO;
}

static int fwd__set_servers(zkd_forward *f, const zk_conf *conf, const conf_list *own)
{
    if (conf->dns_upstream.count == 0)
        return fwd__filter_servers(f, own);
    char csv[4096] = "";
    for (size_t i = 0; i < conf->dns_upstream.count; i++) {
        if (i)
            strncat(csv, ",", sizeof(csv) - strlen(csv) - 1);
        strncat(csv, conf->dns_upstream.items[i], sizeof(csv) - strlen(csv) - 1);
    }
    f->nservers = conf->dns_upstream.count;
    return ares_set_servers_ports_csv(f->channel, csv) == ARES_SUCCESS ? 0 : -EINVAL;
}

int zkd_forward_init(zkd_forward *f, uv_loop_t *loop, const zk_conf *conf,
                     const conf_list *own)
{
    memset(f, 0, sizeof(*f));
    f->loop = loop;
    f->max_inflight = 4096;
    struct ares_options o;
    memset(&o, 0, sizeof(o));
    o.flags = ARES_FLAG_NOCHECKRESP;
    o.timeout = (int)conf->dns_upstream_timeout_ms;
    o.tries = 1;
    o.sock_state_cb = fwd__sock_state;
    o.sock_state_cb_data = f;
    int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB;
    if (ares_init_options(&f->channel, &o, mask) != ARES_SUCCESS) {
        zkd_error("forward: c-ares initialisation failed");
        return -EIO;
    }
    uv_timer_init(loop, &f->timer);
    f->timer.data = f;
    if (fwd__set_servers(f, conf, own) < 0) {
        zkd_error("forward: bad dns.upstream list");
        zkd_forward_close(f);
        return -EINVAL;
    }
    if (f->nservers == 0)
        zkd_warn("forward: no upstream nameserver; out-of-zone queries get SERVFAIL");
    return 0;
}

static void fwd__on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    (void)timeouts;
    fwd_query *q = arg;
    zkd_forward *f = q->f;
    f->inflight--;
    if (status == ARES_SUCCESS && abuf && alen > 0)
        q->cb(q->ctx, abuf, (size_t)alen);
    else
        q->cb(q->ctx, NULL, 0);
    free(q);
}

int zkd_forward_query(zkd_forward *f, const uint8_t *qb, size_t len,
                      zkd_forward_cb cb, void *ctx)
{
    if (f->closing || f->inflight >= f->max_inflight || len > 65535)
        return -EBUSY;
    fwd_query *q = malloc(sizeof(*q));
    if (q == NULL)
        return -ENOMEM;
    q->f = f;
    q->cb = cb;
    q->ctx = ctx;
    f->inflight++;
    ares_send(f->channel, qb, (int)len, fwd__on_answer, q);
    fwd__arm_timer(f);
    return 0;
}

void zkd_forward_close(zkd_forward *f)
{
    if (f->closing)
        return;
    ares_destroy(f->channel); /* answers every pending query with NULL */
    f->closing = 1;
    uv_close((uv_handle_t *)&f->timer, NULL);
    while (f->polls) {
        zkd_fwd_poll *p = f->polls;
        f->polls = p->next;
        uv_poll_stop(&p->poll);
        uv_close((uv_handle_t *)&p->poll, fwd__poll_closed);
    }
}
