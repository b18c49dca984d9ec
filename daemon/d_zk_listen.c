/*
 * d_zk_listen.c - the ZooKeeper protocol's listeners and module state:
 * binding zookeeper.listen addresses, accepting connections under the
 * per-address limit (zookeeper.max_client_cnxns, ZooKeeper's
 * maxClientCnxns: a connection past it is closed at once) and the total
 * one (zookeeper.max_connections: 127.0.0.0/8 alone holds 16 million
 * addresses, and every connection is a file descriptor), the sweep that
 * closes connections stuck in a handshake or a last reply, the clean stop,
 * and the expiry hook from d_server.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "d_addr.h"
#include "d_log.h"
#include "d_zk_int.h"

/* ---- accepting ----------------------------------------------------------- */

/* A map key for the client's address: IPv4 as itself, IPv6 hashed. */
static uint64_t listen__ip_key(const struct sockaddr *sa)
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
static int listen__peer(zkd_zk_conn *c)
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
    c->ip_key = listen__ip_key((struct sockaddr *)&ss);
    return 0;
}

/* Counts the connection against zookeeper.max_client_cnxns. */
static int listen__ip_admit(zkd_zk_conn *c)
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

static void listen__on_connection(uv_stream_t *server, int status)
{
    zkd_listener *l = server->data;
    zkd *d = l->d;
    if (status < 0) {
        zkd_warn("zookeeper: accept: %s", uv_strerror(status));
        return;
    }
    zkd_zk_conn *c = zkd_zk_conn_new(d);
    if (c == NULL)
        return;
    int rc = uv_accept(server, (uv_stream_t *)&c->tcp);
    if (rc == 0 && d->stopping)
        rc = -ECANCELED;
    if (rc == 0)
        rc = listen__peer(c);
    if (rc == 0 && c->srv->nconns > d->conf->zk_max_connections) {
        zkd_warn("zookeeper: %zu connections, the most zookeeper.max_connections allows; "
                 "closing the one from %s", c->srv->nconns - 1, c->ip);
        rc = -EMFILE;
    }
    if (rc == 0)
        rc = listen__ip_admit(c);
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

void zkd_zk_ip_release(zkd_zk_conn *c)
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

/* ---- the module ---------------------------------------------------------- */

/* Closes connections stuck in a handshake or in a last reply. */
static void listen__on_sweep(uv_timer_t *t)
{
    zkd_zk_srv *s = t->data;
    int64_t now = zkd_now_ms();
    for (zkd_zk_conn *c = s->conns; c; c = c->next) {
        bool idle = c->state == ZC_HANDSHAKE || c->state == ZC_DRAINING;
        if (idle && now - c->state_ms > ZKD_ZK_IDLE_MS)
            zkd_zk_close(c, c->state == ZC_HANDSHAKE ? "no handshake" : "reply not read");
    }
}

static zkd_zk_srv *listen__srv(zkd *d)
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
    uv_timer_start(&s->sweep, listen__on_sweep, 1000, 1000);
    s->sweep_on = true;
    uv_check_init(d->loop, &s->flusher);
    uv_idle_init(d->loop, &s->flush_kick);
    s->flusher.data = s;
    s->flusher_on = true;
    d->zk = s;
    return s;
}

static int listen__bind(zkd_listener *l, const char *spec, char *bound, size_t blen)
{
    struct sockaddr_storage ss;
    int rc = zkd_addr_parse(spec, 0, &ss);
    if (rc == 0)
        rc = uv_tcp_init(l->d->loop, &l->h.tcp);
    if (rc == 0)
        rc = uv_tcp_bind(&l->h.tcp, (struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_listen(&l->h.stream, 128, listen__on_connection);
    if (rc == 0)
        rc = zkd_addr_local(&l->h.handle, bound, blen);
    return rc;
}

int zkd_zk_listen(zkd *d, const char *spec)
{
    zkd_zk_srv *s = listen__srv(d);
    zkd_listener *l = s ? zkd_listener_new(d, ZKD_LISTEN_ZK) : NULL;
    if (l == NULL)
        return -ENOMEM;
    char bound[128] = "";
    int rc = listen__bind(l, spec, bound, sizeof(bound));
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
    zkd_zk_flush_dirty(s); /* replies already made go out before the close */
    for (zkd_zk_conn *c = s->conns; c; c = c->next)
        zkd_zk_close(c, "server stopping");
    if (s->flusher_on) {
        uv_close((uv_handle_t *)&s->flusher, NULL);
        uv_close((uv_handle_t *)&s->flush_kick, NULL);
        s->flusher_on = false;
    }
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
