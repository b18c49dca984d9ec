/*
 * zkd_fixture.c - the daemon-in-a-thread harness and the raw jute client of
 * the ZooKeeper loop tests (see zkd_fixture.h).
 */
#include "zkd_fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <uv.h>

#include "d_log.h"
#include "d_server.h"
#include "d_zk_int.h"

/* ---- failures ------------------------------------------------------------ */

bool zt_fail(zt *t, int line, const char *fmt, ...)
{
    if (t->failed_line)
        return false;
    t->failed_line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->failed_msg, sizeof(t->failed_msg), fmt, ap);
    va_end(ap);
    return false;
}

/* ---- the daemon side ------------------------------------------------------ */

typedef struct zt_run_ctx {
    zt *t;
    zt_scenario scenario;
    uv_async_t done;
    zkd *d;
} zt_run_ctx;

static void zt__set_str(char **p, const char *v)
{
    free(*p);
    *p = strdup(v);
}

static void zt__set_list(conf_list *l, const char *v)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i]);
    l->count = 0;
    if (v)
        l->items[l->count++] = strdup(v);
}

static void zt__conf(zk_conf *conf, const char *dir)
{
    conf_defaults(conf);
    zt__set_str(&conf->data_dir, dir);
    zt__set_list(&conf->client_listen, NULL);
    zt__set_list(&conf->dns_listen, NULL);
    zt__set_list(&conf->zk_listen, "127.0.0.1:0");
    conf->dns_forward = false;
    conf->zk_tick_ms = 50;
    conf->zk_min_session_timeout_ms = 100;
    conf->zk_max_session_timeout_ms = 1000;
}

/* The port of the listener of kind (a TCP one: ZK or DNS over TCP). */
static int zt__port(zkd *d, int kind)
{
    for (zkd_listener *l = d->listeners; l; l = l->next) {
        if (l->kind != kind)
            continue;
        struct sockaddr_storage ss;
        int len = sizeof(ss);
        if (uv_tcp_getsockname(&l->h.tcp, (struct sockaddr *)&ss, &len) != 0)
            continue;
        if (ss.ss_family == AF_INET6)
            return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    }
    return 0;
}

static void zt__on_done(uv_async_t *a)
{
    zt_run_ctx *r = a->data;
    zkd_stop(r->d);
    uv_close((uv_handle_t *)a, NULL);
}

void zt_stop(zt *t)
{
    zt_run_ctx *r = t->priv;
    if (!t->stopped)
        uv_async_send(&r->done);
    t->stopped = true;
}

static void *zt__client(void *arg)
{
    zt_run_ctx *r = arg;
    r->scenario(r->t);
    zt_stop(r->t);
    return NULL;
}

static int zt__rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int zt__slow_snap_open(void *ctx, const char *path, int flags, unsigned mode)
{
    (void)ctx;
    if (strstr(path, "tmp.snapshot."))
        usleep(1500 * 1000);
    return fileops_posix()->open(NULL, path, flags, mode);
}

static fileops zt__slow_snap_ops;

void zt_hook_slow_snapshots(zkd *d)
{
    zt__slow_snap_ops = *fileops_posix();
    zt__slow_snap_ops.open = zt__slow_snap_open;
    d->store.fo = &zt__slow_snap_ops; /* what the snapshot child writes through */
    if (d->zk && d->zk->sweep_on)
        uv_timer_stop(&d->zk->sweep); /* no timer to wake the loop meanwhile */
}

void zt_run(zt *t, zt_setup setup, zt_scenario scenario)
{
    char dir[] = "/tmp/zkd-test-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        zt_fail(t, __LINE__, "mkdtemp: %s", strerror(errno));
        return;
    }
    zkd_log_init(getenv("ZKD_TEST_DEBUG") ? ZKD_LOG_DEBUG : ZKD_LOG_ERROR);
    zk_conf conf;
    zt__conf(&conf, dir);
    if (setup)
        setup(&conf);
    uv_loop_t loop;
    uv_loop_init(&loop);
    zkd d;
    zt_run_ctx r = {.t = t, .scenario = scenario, .d = &d};
    int init_rc = zkd_init(&d, &loop, &conf);
    if (init_rc == 0 && t->init_hook)
        t->init_hook(&d);
    if (init_rc < 0) {
        zt_fail(t, __LINE__, "zkd_init failed");
        zkd_stop(&d);
    } else {
        t->port = zt__port(&d, ZKD_LISTEN_ZK);
        t->dns_port = zt__port(&d, ZKD_LISTEN_DNS_TCP); /* UDP has the same port */
        t->priv = &r;
        uv_async_init(&loop, &r.done, zt__on_done);
        r.done.data = &r;
        pthread_t th;
        pthread_create(&th, NULL, zt__client, &r);
        uv_run(&loop, UV_RUN_DEFAULT);
        pthread_join(th, NULL);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    zkd_free(&d);
    if (uv_loop_close(&loop) != 0)
        zt_fail(t, __LINE__, "uv_loop_close: handles left open");
    conf_free(&conf);
    nftw(dir, zt__rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- a blocking client ---------------------------------------------------- */

int zt_dial(zt *t)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)t->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int zt_send(int fd, const void *p, size_t n)
{
    const uint8_t *q = p;
    while (n > 0) {
        ssize_t k = send(fd, q, n, MSG_NOSIGNAL);
        if (k <= 0)
            return -1;
        q += k;
        n -= (size_t)k;
    }
    return 0;
}

static int zt__read_all(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = recv(fd, p, n, 0);
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

long zt_recv(int fd, uint8_t *buf, size_t cap)
{
    uint8_t h[4];
    if (zt__read_all(fd, h, 4) < 0)
        return -1;
    uint32_t n = zt_be32(h);
    if (n > cap)
        return -2;
    return zt__read_all(fd, buf, n) < 0 ? -1 : (long)n;
}

bool zt_wait_eof(int fd, int timeout_ms)
{
    uint8_t junk[4096];
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (poll(&p, 1, timeout_ms) == 1) {
        ssize_t k = recv(fd, junk, sizeof(junk), 0);
        if (k == 0 || (k < 0 && errno == ECONNRESET))
            return true;
        if (k < 0)
            return false;
    }
    return false;
}

/* ---- jute ------------------------------------------------------------------ */

uint32_t zt_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint64_t zt_be64(const uint8_t *p)
{
    return (uint64_t)zt_be32(p) << 32 | zt_be32(p + 4);
}

void zt_int(zt_buf *b, int32_t v)
{
    uint32_t u = (uint32_t)v;
    uint8_t q[4] = {(uint8_t)(u >> 24), (uint8_t)(u >> 16), (uint8_t)(u >> 8), (uint8_t)u};
    memcpy(b->b + b->n, q, 4);
    b->n += 4;
}

void zt_long(zt_buf *b, int64_t v)
{
    zt_int(b, (int32_t)((uint64_t)v >> 32));
    zt_int(b, (int32_t)(uint32_t)v);
}

void zt_bytes(zt_buf *b, const void *p, int32_t n)
{
    zt_int(b, n);
    if (n > 0) {
        memcpy(b->b + b->n, p, (size_t)n);
        b->n += (size_t)n;
    }
}

void zt_str(zt_buf *b, const char *s)
{
    zt_bytes(b, s, s ? (int32_t)strlen(s) : -1);
}

size_t zt_begin(zt_buf *b)
{
    size_t start = b->n;
    b->n += 4;
    return start;
}

void zt_end(zt_buf *b, size_t start)
{
    size_t n = b->n;
    b->n = start;
    zt_int(b, (int32_t)(n - start - 4));
    b->n = n;
}

void zt_connect_req(zt_buf *b, int32_t timeout, int64_t session, const uint8_t *passwd)
{
    static const uint8_t zero[16];
    size_t f = zt_begin(b);
    zt_int(b, 0);
    zt_long(b, 0);
    zt_int(b, timeout);
    zt_long(b, session);
    zt_bytes(b, passwd ? passwd : zero, 16);
    b->b[b->n++] = 0; /* readOnly */
    zt_end(b, f);
}

void zt_header_req(zt_buf *b, int32_t xid, int32_t type)
{
    size_t f = zt_begin(b);
    zt_int(b, xid);
    zt_int(b, type);
    zt_end(b, f);
}

void zt_create_req(zt_buf *b, int32_t xid, const char *path, const char *data, int32_t flags)
{
    size_t f = zt_begin(b);
    zt_int(b, xid);
    zt_int(b, 1);
    zt_str(b, path);
    zt_bytes(b, data, data ? (int32_t)strlen(data) : -1);
    zt_int(b, 1);
    zt_int(b, 31);
    zt_str(b, "world");
    zt_str(b, "anyone");
    zt_int(b, flags);
    zt_end(b, f);
}

void zt_path_req(zt_buf *b, int32_t xid, int32_t type, const char *path, bool watch)
{
    size_t f = zt_begin(b);
    zt_int(b, xid);
    zt_int(b, type);
    zt_str(b, path);
    b->b[b->n++] = watch;
    zt_end(b, f);
}

void zt_path_only_req(zt_buf *b, int32_t xid, int32_t type, const char *path)
{
    size_t f = zt_begin(b);
    zt_int(b, xid);
    zt_int(b, type);
    zt_str(b, path);
    zt_end(b, f);
}

void zt_set_data_req(zt_buf *b, int32_t xid, const char *path, const char *data)
{
    size_t f = zt_begin(b);
    zt_int(b, xid);
    zt_int(b, 5);
    zt_str(b, path);
    zt_bytes(b, data, (int32_t)strlen(data));
    zt_int(b, -1);
    zt_end(b, f);
}

bool zt_session(zt *t, zt_sess *s, int32_t timeout, int64_t resume, const uint8_t *passwd)
{
    zt_buf b = {.n = 0};
    uint8_t r[256];
    s->fd = zt_dial(t);
    if (s->fd < 0)
        return zt_fail(t, __LINE__, "connect: %s", strerror(errno));
    zt_connect_req(&b, timeout, resume, passwd);
    if (zt_send(s->fd, b.b, b.n) < 0 || zt_recv(s->fd, r, sizeof(r)) != 37)
        return zt_fail(t, __LINE__, "no ConnectResponse");
    s->timeout = (int32_t)zt_be32(r + 4);
    s->id = (int64_t)zt_be64(r + 8);
    memcpy(s->passwd, r + 20, 16);
    return true;
}
