/*
 * d_dns_udp.c - DNS over UDP: a socket of our own under a uv_poll handle,
 * read with recvmmsg() and answered with sendmmsg().
 *
 * libuv 1.44 (Debian 12) can read a batch of datagrams (UV_UDP_RECVMMSG),
 * but it calls recvmmsg() again until EAGAIN and sends one datagram per
 * call (uv_udp_try_send2 only came with 1.50): at a steady load of a few
 * queries per wakeup that was over two system calls per query. Here one
 * wakeup reads up to UDP_BATCH queries with one recvmmsg(), answers them
 * into per-slot buffers and sends every answer with one sendmmsg(). A batch
 * that comes back short means the socket was empty: the loop polls
 * level-triggered, so whatever arrives later wakes it again.
 *
 * Bounded work: at most UDP_ROUNDS batches per wakeup, then the loop turns
 * (timers, the other sockets) and comes back. Every buffer is static and
 * sized at compile time: UDP_BATCH datagrams of up to UDP_DGRAM_MAX bytes
 * in (a longer one is cut by the kernel and dropped here), UDP_BATCH
 * answers of at most UDP_ANSWER_MAX bytes out (dns.max_udp_size is at most
 * 4096; dns_query_process truncates to what the buffer takes, with TC). An
 * answer the socket buffer cannot take is dropped (the client retries),
 * never queued. The loop is single-threaded, so one set of buffers serves
 * every UDP listener.
 *
 * Out-of-zone queries go upstream through c-ares (d_forward.c); the reply,
 * built by dns_relay, is sent on its own when it comes.
 */
#include "d_dns_udp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "d_addr.h"
#include "d_log.h"

#define UDP_BATCH 32
#define UDP_ROUNDS 4
#define UDP_DGRAM_MAX 65536
#define UDP_ANSWER_MAX 4096
#define UDP_SLOT_PAD 64 /* so the slots do not all start in one cache set */

typedef struct udp_io {
    struct mmsghdr in[UDP_BATCH], out[UDP_BATCH];
    struct iovec in_iov[UDP_BATCH], out_iov[UDP_BATCH];
    struct sockaddr_storage peer[UDP_BATCH];
    uint8_t answer[UDP_BATCH][UDP_ANSWER_MAX];
    uint8_t query[UDP_BATCH][UDP_DGRAM_MAX + UDP_SLOT_PAD];
    int used; /* slots the last recvmmsg filled */
} udp_io;

static udp_io udp__io;
static uint8_t udp__relay_out[UDP_ANSWER_MAX];

static socklen_t udp__salen(const struct sockaddr *sa)
{
    return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/* ---- forwarding ------------------------------------------------------------ */

typedef struct udp_fwd {
    zkd_listener *l;
    struct sockaddr_storage peer;
    size_t qlen;
    uint8_t q[];
} udp_fwd;

static void udp__on_forwarded(void *ctx, const uint8_t *resp, size_t len)
{
    udp_fwd *f = ctx;
    zkd_listener *l = f->l;
    size_t n = 0;
    if (!l->d->stopping &&
        dns_relay(l->d->zone, f->q, f->qlen, DNS_TRANSPORT_UDP, resp, len, udp__relay_out,
                  sizeof(udp__relay_out), &n) == 0 &&
        sendto(l->sock, udp__relay_out, n, MSG_DONTWAIT, (struct sockaddr *)&f->peer,
               udp__salen((struct sockaddr *)&f->peer)) < 0)
        zkd_debug("dns: udp relay dropped: %s", strerror(errno));
    free(f);
}

static void udp__forward(zkd_listener *l, const uint8_t *q, size_t len,
                         const struct sockaddr *peer, socklen_t peerlen)
{
    zkd *d = l->d;
    udp_fwd *f = malloc(sizeof(*f) + len);
    if (f == NULL)
        return;
    f->l = l;
    memcpy(&f->peer, peer, peerlen);
    f->qlen = len;
    memcpy(f->q, q, len);
    if (!d->fwd_ready || zkd_forward_query(&d->fwd, q, len, udp__on_forwarded, f) < 0)
        udp__on_forwarded(f, NULL, 0);
}

/* ---- the batch ----------------------------------------------------------- */

/* Points every receive slot at its buffers (once: recvmmsg only writes
 * msg_len, msg_flags and msg_namelen back). */
static void udp__init_slots(void)
{
    udp_io *io = &udp__io;
    for (int i = 0; i < UDP_BATCH; i++) {
        io->in_iov[i] = (struct iovec){.iov_base = io->query[i], .iov_len = UDP_DGRAM_MAX};
        io->in[i].msg_hdr = (struct msghdr){.msg_name = &io->peer[i],
                                            .msg_namelen = sizeof(io->peer[i]),
                                            .msg_iov = &io->in_iov[i],
                                            .msg_iovlen = 1};
    }
    io->used = 0;
}

/* Reads up to UDP_BATCH datagrams; returns how many, or -1 (errno set). */
static int udp__receive(int fd)
{
    udp_io *io = &udp__io;
    for (int i = 0; i < io->used; i++)
        io->in[i].msg_hdr.msg_namelen = sizeof(io->peer[i]);
    int n = recvmmsg(fd, io->in, UDP_BATCH, MSG_DONTWAIT, NULL);
    io->used = n > 0 ? n : 0;
    return n;
}

/* Answers datagram i into answer slot k; true if there is one to send. */
static bool udp__answer(zkd_listener *l, int i, int k)
{
    udp_io *io = &udp__io;
    const struct msghdr *h = &io->in[i].msg_hdr;
    size_t qlen = io->in[i].msg_len, out_len = 0;
    if ((h->msg_flags & MSG_TRUNC) || h->msg_namelen == 0)
        return false;
    int v = dns_query_process(l->d->zone, io->query[i], qlen, DNS_TRANSPORT_UDP,
                              io->answer[k], UDP_ANSWER_MAX, &out_len);
    if (v == DNS_VERDICT_FORWARD)
        udp__forward(l, io->query[i], qlen, h->msg_name, h->msg_namelen);
    if (v != DNS_VERDICT_ANSWER || out_len == 0)
        return false;
    io->out_iov[k] = (struct iovec){.iov_base = io->answer[k], .iov_len = out_len};
    io->out[k].msg_hdr = (struct msghdr){.msg_name = h->msg_name,
                                         .msg_namelen = h->msg_namelen,
                                         .msg_iov = &io->out_iov[k],
                                         .msg_iovlen = 1};
    return true;
}

/* Sends the n answers of the batch. A datagram the kernel refuses is
 * dropped; when the socket buffer is full (EAGAIN) the rest are too. Each
 * pass sends or drops at least one, so this ends. */
static void udp__send_all(int fd, int n)
{
    int i = 0;
    while (i < n) {
        int k = sendmmsg(fd, udp__io.out + i, (unsigned)(n - i), MSG_DONTWAIT);
        if (k > 0) {
            i += k;
            continue;
        }
        int err = errno;
        zkd_debug("dns: udp reply dropped: %s", strerror(err));
        if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS)
            return;
        i++;
    }
}

/* One batch: receive, answer, send. Returns how many datagrams came. */
static int udp__batch(zkd_listener *l)
{
    int n = udp__receive(l->sock);
    if (n < 0) {
        int err = errno;
        if (err != EAGAIN && err != EWOULDBLOCK && err != EINTR)
            zkd_debug("dns: udp receive: %s", strerror(err));
        return err == EINTR ? UDP_BATCH : 0; /* EINTR: another round, if any is left */
    }
    int k = 0;
    for (int i = 0; i < n; i++)
        k += udp__answer(l, i, k);
    udp__send_all(l->sock, k);
    return n;
}

static void udp__on_readable(uv_poll_t *p, int status, int events)
{
    zkd_listener *l = p->data;
    if (status < 0) {
        zkd_error("dns: udp socket: %s", uv_strerror(status));
        return;
    }
    if (!(events & UV_READABLE))
        return;
    for (int r = 0; r < UDP_ROUNDS && !l->d->stopping; r++)
        if (udp__batch(l) < UDP_BATCH)
            break;
}

/* ---- set-up ---------------------------------------------------------------- */

int zkd_dns_udp_listen(zkd *d, const struct sockaddr *sa, char *bound, size_t blen)
{
    zkd_listener *l = zkd_listener_new(d, ZKD_LISTEN_DNS_UDP);
    if (l == NULL)
        return -ENOMEM;
    udp__init_slots();
    l->sock = socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (l->sock < 0)
        return -errno;
    if (bind(l->sock, sa, udp__salen(sa)) < 0)
        return -errno;
    int rc = uv_poll_init_socket(d->loop, &l->h.poll, l->sock);
    l->h.poll.data = l;
    if (rc == 0)
        rc = uv_poll_start(&l->h.poll, UV_READABLE, udp__on_readable);
    if (rc == 0)
        rc = zkd_addr_local(&l->h.handle, bound, blen);
    return rc;
}
