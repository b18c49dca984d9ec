/*
 * dnsd_test.c - loop tests of the daemon's DNS over UDP (daemon/d_dns_udp.c):
 * a daemon core on its own uv_loop in this process (zkd_fixture), nodes
 * written over the ZooKeeper protocol, and queries sent from client threads
 * over real UDP sockets, many at once, so that the daemon takes them in
 * batches (recvmmsg) and answers each batch with one sendmmsg.
 *
 * What a batch must get right: every answer goes to the socket that asked,
 * with its ID and question; a datagram that gets no answer (garbage) or an
 * error answer in the middle of a batch shifts nothing; bursts larger than
 * what one wakeup takes are all answered. After the stop the port is free
 * again (the socket was closed with its handle) and uv_loop_close() == 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "zkd_fixture.h"

#define OP_CREATE 1
#define BURST 300
#define T_A 1
#define T_SOA 6

static int family = AF_INET; /* of the listener and the clients */

static void run(zt_setup setup, zt_scenario scenario, zt *t)
{
    zt_run(t, setup, scenario);
    if (t->failed_line)
        print_error("dnsd_test.c:%d: %s\n", t->failed_line, t->failed_msg);
    assert_int_equal(t->failed_line, 0);
}

static void setup_dns(zk_conf *conf)
{
    for (size_t i = 0; i < conf->dns_listen.count; i++)
        free(conf->dns_listen.items[i]);
    conf->dns_listen.items[0] = strdup(family == AF_INET6 ? "[::1]:0" : "127.0.0.1:0");
    conf->dns_listen.count = 1;
}

/* ---- clients ----------------------------------------------------------------- */

static socklen_t sa_of(int port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        s6->sin6_addr = in6addr_loopback;
        return sizeof(*s6);
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)port);
    s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sizeof(*s4);
}

/* A UDP socket connected to the daemon's DNS port, with a big receive buffer. */
static int udp_client(int port)
{
    struct sockaddr_storage ss;
    socklen_t len = sa_of(port, &ss);
    int fd = socket(family, SOCK_DGRAM, 0), big = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    if (fd >= 0 && connect(fd, (struct sockaddr *)&ss, len) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Wire query for name (dotted, no trailing dot) and qtype; EDNS 1232 when
 * edns. Returns its length. */
static size_t make_query(uint8_t *b, uint16_t id, const char *name, uint16_t qtype, bool edns)
{
    size_t n = 12;
    memset(b, 0, 12);
    b[0] = (uint8_t)(id >> 8), b[1] = (uint8_t)id;
    b[2] = 0x01; /* RD */
    b[5] = 1;
    b[11] = edns ? 1 : 0;
    for (const char *p = name; *p;) {
        size_t l = strcspn(p, ".");
        b[n++] = (uint8_t)l;
        memcpy(b + n, p, l);
        n += l;
        p += l + (p[l] == '.');
    }
    b[n++] = 0;
    b[n++] = 0, b[n++] = (uint8_t)qtype, b[n++] = 0, b[n++] = 1;
    if (edns) {
        static const uint8_t opt[11] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};
        memcpy(b + n, opt, sizeof(opt));
        n += sizeof(opt);
    }
    return n;
}

/* ---- the burst ----------------------------------------------------------------- */

/* What query i is and what its answer must be. */
typedef struct expect {
    uint8_t q[128];
    size_t qlen, qsec; /* qsec: header + question */
    int rcode;         /* -1: no answer at all */
    int ancount, arcount;
    bool seen;
} expect;

static expect ex[BURST];

static void burst_plan(int i)
{
    expect *e = &ex[i];
    uint16_t id = (uint16_t)(0x1000 + i);
    e->seen = false;
    e->arcount = 0;
    switch (i % 6) {
    case 0: /* a member */
        e->qlen = make_query(e->q, id, "a.web.zk", T_A, false);
        e->rcode = 0, e->ancount = 1;
        break;
    case 1: /* a group of two, with EDNS */
        e->qlen = make_query(e->q, id, "web.zk", T_A, true);
        e->rcode = 0, e->ancount = 2, e->arcount = 1;
        break;
    case 2: /* garbage: no header, no answer */
        memset(e->q, 0xab, 5);
        e->qlen = 5;
        e->rcode = -1;
        break;
    case 3: /* NXDOMAIN */
        e->qlen = make_query(e->q, id, "nope.web.zk", T_A, false);
        e->rcode = 3, e->ancount = 0;
        break;
    case 4: /* out of the zone, forwarding off: REFUSED */
        e->qlen = make_query(e->q, id, "example.com", T_A, false);
        e->rcode = 5, e->ancount = 0;
        break;
    default: /* the apex SOA */
        e->qlen = make_query(e->q, id, "zk", T_SOA, false);
        e->rcode = 0, e->ancount = 1;
        break;
    }
    e->qsec = e->rcode < 0 ? 0 : e->qlen - (e->arcount ? 11 : 0);
}

/* Checks reply r (n bytes) that came on client c (of 2). */
static bool burst_check(zt *t, int c, const uint8_t *r, ssize_t n)
{
    if (n < 12)
        return zt_fail(t, __LINE__, "short reply (%zd bytes)", n);
    int i = (r[0] << 8 | r[1]) - 0x1000;
    if (i < 0 || i >= BURST || i % 2 != c)
        return zt_fail(t, __LINE__, "reply id %d on client %d", i, c);
    expect *e = &ex[i];
    if (e->rcode < 0 || e->seen)
        return zt_fail(t, __LINE__, "reply %d: not expected (seen %d)", i, e->seen);
    e->seen = true;
    int ancount = r[6] << 8 | r[7], arcount = r[10] << 8 | r[11];
    if (!(r[2] & 0x80) || (r[3] & 0xf) != e->rcode || ancount != e->ancount ||
        arcount != e->arcount)
        return zt_fail(t, __LINE__, "reply %d: rcode %d an %d ar %d", i, r[3] & 0xf, ancount,
                       arcount);
    if ((size_t)n < e->qsec || memcmp(r + 12, e->q + 12, e->qsec - 12) != 0)
        return zt_fail(t, __LINE__, "reply %d: not its question", i);
    return true;
}

static bool create(zt *t, zt_sess *s, int xid, const char *path, const char *data)
{
    zt_buf q = {.n = 0};
    uint8_t r[256];
    zt_create_req(&q, xid, path, data, 0);
    if (zt_send(s->fd, q.b, q.n) < 0)
        return zt_fail(t, __LINE__, "send create");
    long n = zt_recv(s->fd, r, sizeof(r));
    if (n < 16 || zt_be32(r + 12) != 0)
        return zt_fail(t, __LINE__, "create %s", path);
    return true;
}

/* Receives until every answer up to query end has come (5 s at most). */
static bool burst_collect(zt *t, const int *c, int *got, int want)
{
    struct pollfd p[2] = {{.fd = c[0], .events = POLLIN}, {.fd = c[1], .events = POLLIN}};
    uint8_t r[4096];
    while (*got < want && poll(p, 2, 5000) > 0) {
        for (int k = 0; k < 2; k++) {
            ssize_t n = (p[k].revents & POLLIN) ? recv(c[k], r, sizeof(r), MSG_DONTWAIT) : -1;
            if (n >= 0 && !burst_check(t, k, r, n))
                return false;
            *got += n >= 0;
        }
    }
    return *got == want || zt_fail(t, __LINE__, "%d answers of %d", *got, want);
}

/* Waves of WAVE queries from two sockets, sent without waiting: more than
 * one batch each, few enough for the daemon's socket buffer (the kernel
 * drops what does not fit, and the test would measure that). */
#define WAVE 100

static void sc_burst(zt *t)
{
    zt_sess s;
    if (!zt_session(t, &s, 30000, 0, NULL) || !create(t, &s, 1, "/services", NULL) ||
        !create(t, &s, 2, "/services/web", NULL) ||
        !create(t, &s, 3, "/services/web/a", "10.0.0.1:80") ||
        !create(t, &s, 4, "/services/web/b", "10.0.0.2:80"))
        return;
    int c[2] = {udp_client(t->dns_port), udp_client(t->dns_port)};
    ZT_CHECK(t, c[0] >= 0 && c[1] >= 0, "udp clients");
    int want = 0, got = 0;
    for (int i = 0; i < BURST; i++) {
        burst_plan(i);
        want += ex[i].rcode >= 0;
        ZT_CHECK(t, send(c[i % 2], ex[i].q, ex[i].qlen, 0) == (ssize_t)ex[i].qlen, "send %d", i);
        if ((i + 1) % WAVE == 0 && !burst_collect(t, c, &got, want))
            return;
    }
    if (!burst_collect(t, c, &got, want))
        return;
    /* nothing more comes: the garbage got no answer */
    struct pollfd p[2] = {{.fd = c[0], .events = POLLIN}, {.fd = c[1], .events = POLLIN}};
    ZT_CHECK(t, poll(p, 2, 200) == 0, "an extra reply");
    close(c[0]);
    close(c[1]);
    close(s.fd);
}

/* The socket is closed after its handle: the port can be bound again. */
static void expect_port_free(int port)
{
    struct sockaddr_storage ss;
    socklen_t len = sa_of(port, &ss);
    int fd = socket(family, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
    close(fd);
}

static void test_udp_burst_v4(void **state)
{
    (void)state;
    zt t = {0};
    family = AF_INET;
    run(setup_dns, sc_burst, &t);
    assert_true(t.dns_port > 0);
    expect_port_free(t.dns_port);
}

static void test_udp_burst_v6(void **state)
{
    (void)state;
    zt t = {0};
    family = AF_INET6;
    run(setup_dns, sc_burst, &t);
    assert_true(t.dns_port > 0);
    expect_port_free(t.dns_port);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_udp_burst_v4),
        cmocka_unit_test(test_udp_burst_v6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
