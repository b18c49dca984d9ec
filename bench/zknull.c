/*
 * zknull.c - a ZooKeeper "server" that does nothing: it answers the
 * requests bench/zk's zkload sends (create, delete, exists, getData,
 * setData, getChildren, ping, closeSession) at once with canned replies of
 * the same shape and size as a real server's, on one thread with epoll, one
 * write per batch of requests read. Nothing is stored.
 *
 * It is the load generator's ceiling on this machine: what zkload (that is,
 * libzookeeper_mt) reaches when the server costs almost nothing. A real
 * server measured near these figures is being measured through the client.
 *
 *   zknull [-l 127.0.0.1] [-p PORT] [-d SECONDS]
 *
 * Prints "listening 127.0.0.1:PORT" once ready (PORT 0 picks one), and stops
 * on SIGTERM/SIGINT or after -d seconds (default 3600).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FRAME (1 << 20)
#define DATA_LEN 100
#define KIDS 100

typedef struct buf {
    unsigned char *p;
    size_t len, cap;
} buf;

typedef struct conn {
    int fd;
    int primed; /* ConnectRequest answered */
    int closing;
    buf in, out;
} conn;

static volatile sig_atomic_t stop;
static int64_t zxid = 1;
static int64_t next_session = 0x1000;

static void on_sig(int s)
{
    (void)s;
    stop = 1;
}

static int reserve(buf *b, size_t more)
{
    if (b->len + more <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more)
        cap *= 2;
    unsigned char *p = realloc(b->p, cap);
    if (!p)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

static void put32(buf *b, int32_t v)
{
    uint32_t u = htonl((uint32_t)v);
    memcpy(b->p + b->len, &u, 4);
    b->len += 4;
}

static void put64(buf *b, int64_t v)
{
    put32(b, (int32_t)((uint64_t)v >> 32));
    put32(b, (int32_t)((uint64_t)v & 0xffffffffu));
}

static void putbytes(buf *b, const void *p, int32_t n)
{
    put32(b, n);
    if (n > 0) {
        memcpy(b->p + b->len, p, (size_t)n);
        b->len += (size_t)n;
    }
}

static int32_t get32(const unsigned char *p)
{
    uint32_t u;
    memcpy(&u, p, 4);
    return (int32_t)ntohl(u);
}

static void put_stat(buf *b, int32_t data_len, int32_t kids)
{
    put64(b, 1);        /* czxid */
    put64(b, zxid);     /* mzxid */
    put64(b, 0);        /* ctime */
    put64(b, 0);        /* mtime */
    put32(b, 0);        /* version */
    put32(b, 0);        /* cversion */
    put32(b, 0);        /* aversion */
    put64(b, 0);        /* ephemeralOwner */
    put32(b, data_len); /* dataLength */
    put32(b, kids);     /* numChildren */
    put64(b, 1);        /* pzxid */
}

/* Answers one request frame (without its length prefix). */
static int answer(conn *c, const unsigned char *f, int32_t n)
{
    static const char data[DATA_LEN] = {0};
    if (reserve(&c->out, 4096 + DATA_LEN + KIDS * 16))
        return -1;
    size_t at = c->out.len;
    c->out.len += 4; /* length, filled in below */
    if (!c->primed) {
        /* ConnectRequest: protocolVersion, lastZxidSeen, timeOut, sessionId, passwd */
        if (n < 20)
            return -1;
        int32_t timeout = get32(f + 12);
        static const char passwd[16] = {0};
        put32(&c->out, 0);
        put32(&c->out, timeout);
        put64(&c->out, next_session++);
        putbytes(&c->out, passwd, 16);
        c->out.p[c->out.len++] = 0; /* readOnly */
        c->primed = 1;
    } else {
        if (n < 8)
            return -1;
        int32_t xid = get32(f), type = get32(f + 4);
        const unsigned char *path = f + 12;
        int32_t plen = n >= 12 ? get32(f + 8) : 0;
        if (plen < 0 || plen > n - 12)
            plen = 0;
        int write = type == 1 || type == 2 || type == 5 || type == 15;
        if (write)
            zxid++;
        put32(&c->out, xid);
        put64(&c->out, zxid);
        put32(&c->out, 0); /* err */
        switch (type) {
        case 1: /* create: the path */
            putbytes(&c->out, path, plen);
            break;
        case 15: /* create2: the path and a stat */
            putbytes(&c->out, path, plen);
            put_stat(&c->out, DATA_LEN, 0);
            break;
        case 3: /* exists */
        case 5: /* setData */
            put_stat(&c->out, DATA_LEN, 0);
            break;
        case 4: /* getData */
            putbytes(&c->out, data, DATA_LEN);
            put_stat(&c->out, DATA_LEN, 0);
            break;
        case 8:  /* getChildren */
        case 12: /* getChildren2 */
            put32(&c->out, KIDS);
            for (int i = 0; i < KIDS; i++) {
                char k[16];
                int kl = snprintf(k, sizeof(k), "k-%d", i);
                putbytes(&c->out, k, kl);
            }
            if (type == 12)
                put_stat(&c->out, 0, KIDS);
            break;
        case -11: /* closeSession */
            c->closing = 1;
            break;
        default: /* delete, ping, setWatches, ...: the header alone */
            break;
        }
    }
    uint32_t len = htonl((uint32_t)(c->out.len - at - 4));
    memcpy(c->out.p + at, &len, 4);
    return 0;
}

static void conn_free(int ep, conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->in.p);
    free(c->out.p);
    free(c);
}

/* Writes what it can; returns -1 on a dead connection. */
static int flush(int ep, conn *c)
{
    size_t off = 0;
    while (off < c->out.len) {
        ssize_t w = send(c->fd, c->out.p + off, c->out.len - off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            return -1;
        }
        off += (size_t)w;
    }
    memmove(c->out.p, c->out.p + off, c->out.len - off);
    c->out.len -= off;
    struct epoll_event ev = {.events = EPOLLIN | (c->out.len ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    return 0;
}

static int on_readable(int ep, conn *c)
{
    for (;;) {
        if (reserve(&c->in, 65536))
            return -1;
        ssize_t r = recv(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len, 0);
        if (r == 0)
            return -1;
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            return -1;
        }
        c->in.len += (size_t)r;
        if ((size_t)r < c->in.cap - c->in.len + (size_t)r)
            break; /* short read: the socket is empty */
    }
    size_t off = 0;
    while (c->in.len - off >= 4) {
        int32_t n = get32(c->in.p + off);
        if (n < 0 || n > MAX_FRAME)
            return -1;
        if (c->in.len - off - 4 < (size_t)n)
            break;
        if (answer(c, c->in.p + off + 4, n))
            return -1;
        off += 4 + (size_t)n;
    }
    memmove(c->in.p, c->in.p + off, c->in.len - off);
    c->in.len -= off;
    if (flush(ep, c))
        return -1;
    return c->closing && c->out.len == 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    int port = 0, opt;
    double secs = 3600;
    while ((opt = getopt(argc, argv, "l:p:d:")) != -1) {
        switch (opt) {
        case 'l': host = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'd': secs = atof(optarg); break;
        default:
            fprintf(stderr, "usage: zknull [-l 127.0.0.1] [-p PORT] [-d SECONDS]\n");
            return 2;
        }
    }
    if (port < 0 || port > 65535 || secs <= 0 || secs > 86400) {
        fprintf(stderr, "zknull: bad port or duration\n");
        return 2;
    }
    signal(SIGTERM, on_sig);
    signal(SIGINT, on_sig);
    signal(SIGPIPE, SIG_IGN);

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
        listen(lfd, 128)) {
        perror("zknull: listen");
        return 1;
    }
    socklen_t sl = sizeof(sa);
    getsockname(lfd, (struct sockaddr *)&sa, &sl);
    printf("listening %s:%d\n", host, ntohs(sa.sin_port));
    fflush(stdout);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!stop) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((double)(t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 > secs)
            break;
        struct epoll_event evs[64];
        int k = epoll_wait(ep, evs, 64, 500);
        for (int i = 0; i < k; i++) {
            if (!evs[i].data.ptr) {
                int fd;
                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    conn *c = calloc(1, sizeof(*c));
                    if (!c) {
                        close(fd);
                        continue;
                    }
                    c->fd = fd;
                    struct epoll_event cev = {.events = EPOLLIN, .data.ptr = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
                }
                continue;
            }
            conn *c = evs[i].data.ptr;
            int bad = 0;
            if (evs[i].events & (EPOLLERR | EPOLLHUP))
                bad = 1;
            if (!bad && (evs[i].events & EPOLLOUT))
                bad = flush(ep, c) < 0;
            if (!bad && (evs[i].events & EPOLLIN))
                bad = on_readable(ep, c) < 0;
            if (bad)
                conn_free(ep, c);
        }
    }
    return 0;
}
