/*
 * zkd_test.c - loop tests of the ZooKeeper wire protocol (daemon/d_zk*.c,
 * d_4lw*.c): a daemon core on 127.0.0.1:0 in this process, real TCP
 * clients speaking hand-encoded jute, replies checked byte by byte.
 *
 * Covered: the handshake and timeout negotiation, CRUD, watches delivered
 * as notifications, pings, closeSession; pipelined writes with reads that
 * wait for them (reply order, reads see the session's writes); bad input
 * answered as ZooKeeper 3.8 answers it or closed; four-letter words;
 * session expiry closing the connection, reconnects (resumed, moved,
 * refused), ephemerals outliving a dropped connection; per-IP and
 * outstanding-request limits; auth and whoAmI; a stop with clients
 * connected. Every test ends with uv_loop_close() == 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/tcp.h> /* tcpi_data_segs_in, which glibc's netinet/tcp.h lacks */

#include <cmocka.h>

#include "zkd_fixture.h"

#define OP_CREATE 1
#define OP_DELETE 2
#define OP_EXISTS 3
#define OP_GET_DATA 4
#define OP_GET_CHILDREN 8
#define OP_SYNC 9
#define OP_PING 11
#define OP_GET_CHILDREN2 12
#define OP_WHO_AM_I 107
#define OP_CLOSE -11

static void run(zt_setup setup, zt_scenario scenario)
{
    zt t = {0};
    zt_run(&t, setup, scenario);
    if (t.failed_line)
        print_error("zkd_test.c:%d: %s\n", t.failed_line, t.failed_msg);
    assert_int_equal(t.failed_line, 0);
}

/* Sends b and reads one reply into r; returns its length (or < 0). */
static long roundtrip(int fd, zt_buf *b, uint8_t *r, size_t cap)
{
    if (zt_send(fd, b->b, b->n) < 0)
        return -1;
    b->n = 0;
    return zt_recv(fd, r, cap);
}

static int32_t rxid(const uint8_t *r) { return (int32_t)zt_be32(r); }
static int64_t rzxid(const uint8_t *r) { return (int64_t)zt_be64(r + 4); }
static int32_t rerr(const uint8_t *r) { return (int32_t)zt_be32(r + 12); }

/* ---- handshake, CRUD, watches ------------------------------------------- */

static void sc_crud(zt *t)
{
    zt_sess a, b;
    zt_buf q = {.n = 0};
    uint8_t r[4096];
    if (!zt_session(t, &a, 30000, 0, NULL) || !zt_session(t, &b, 50, 0, NULL))
        return;
    ZT_CHECK(t, a.timeout == 1000 && b.timeout == 100, "timeouts %d %d", a.timeout, b.timeout);
    ZT_CHECK(t, a.id != 0 && b.id != a.id, "session ids");
    zt_create_req(&q, 1, "/a", "hi", 0);
    long n = roundtrip(a.fd, &q, r, sizeof(r));
    static const uint8_t tail[] = {0, 0, 0, 0, 0, 0, 0, 2, '/', 'a'};
    ZT_CHECK(t, n == 22 && rxid(r) == 1 && rzxid(r) > 0 && memcmp(r + 12, tail, 10) == 0,
             "create reply (%ld bytes)", n);
    int64_t zxid = rzxid(r);
    zt_path_req(&q, 2, OP_GET_DATA, "/a", true);
    n = roundtrip(a.fd, &q, r, sizeof(r));
    ZT_CHECK(t, n == 16 + 6 + 68 && rerr(r) == 0 && memcmp(r + 16, "\0\0\0\2hi", 6) == 0,
             "getData reply");
    ZT_CHECK(t, (int64_t)zt_be64(r + 22) == zxid, "czxid %lld", (long long)zt_be64(r + 22));
    zt_set_data_req(&q, 1, "/a", "yo");
    n = roundtrip(b.fd, &q, r, sizeof(r));
    ZT_CHECK(t, n == 16 + 68 && rerr(r) == 0 && zt_be32(r + 16 + 32) == 1, "setData reply");
    /* the watch fires on a: WatcherEvent {CHANGED, SyncConnected, "/a"}, zxid -1 */
    static const uint8_t ev[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 3,
                                 0, 0, 0, 2, '/', 'a'};
    n = zt_recv(a.fd, r, sizeof(r));
    ZT_CHECK(t, n == (long)sizeof(ev) && memcmp(r, ev, sizeof(ev)) == 0, "event (%ld bytes)", n);
    zt_path_req(&q, 3, OP_GET_CHILDREN2, "/", false);
    n = roundtrip(a.fd, &q, r, sizeof(r));
    ZT_CHECK(t, n > 16 && zt_be32(r + 16) == 2 && memcmp(r + 20, "\0\0\0\1a", 5) == 0,
             "getChildren2 of /");
    zt_header_req(&q, -2, OP_PING);
    n = roundtrip(a.fd, &q, r, sizeof(r));
    ZT_CHECK(t, n == 16 && rxid(r) == -2 && rerr(r) == 0, "ping");
    zt_header_req(&q, 4, OP_CLOSE);
    n = roundtrip(a.fd, &q, r, sizeof(r));
    ZT_CHECK(t, n == 16 && rxid(r) == 4 && rerr(r) == 0, "closeSession reply");
    ZT_CHECK(t, zt_wait_eof(a.fd, 2000), "closed after closeSession");
    close(a.fd);
    close(b.fd);
}

static void test_crud_watch_ping_close(void **state)
{
    (void)state;
    run(NULL, sc_crud);
}

/* ---- pipelining ---------------------------------------------------------- */

/* Segments with data that fd has received so far (0 if unknown). */
static unsigned data_segs_in(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    memset(&ti, 0, sizeof(ti));
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
        return 0;
    return ti.tcpi_data_segs_in;
}

static void sc_pipeline(zt *t)
{
    zt_sess a;
    zt_buf q = {.n = 0};
    uint8_t r[8192];
    if (!zt_session(t, &a, 1000, 0, NULL))
        return;
    zt_create_req(&q, 1, "/p", NULL, 0);
    for (int i = 0; i < 100; i++) {
        char path[32];
        snprintf(path, sizeof(path), "/p/c%03d", i);
        zt_create_req(&q, 2 + i, path, "x", 0);
    }
    zt_path_req(&q, 102, OP_GET_CHILDREN, "/p", false);
    zt_header_req(&q, -2, OP_PING);
    zt_path_only_req(&q, 103, OP_SYNC, "/p");
    zt_create_req(&q, 104, "/p", NULL, 0);
    unsigned segs0 = data_segs_in(a.fd);
    ZT_CHECK(t, zt_send(a.fd, q.b, q.n) == 0, "send");
    int64_t last = 0;
    for (int i = 1; i <= 101; i++) {
        long n = zt_recv(a.fd, r, sizeof(r));
        ZT_CHECK(t, n >= 16 && rxid(r) == i && rerr(r) == 0 && rzxid(r) > last,
                 "write reply %d: xid %d err %d", i, rxid(r), rerr(r));
        last = rzxid(r);
    }
    long n = zt_recv(a.fd, r, sizeof(r));
    ZT_CHECK(t, n > 20 && rxid(r) == 102 && zt_be32(r + 16) == 100, "children after writes");
    n = zt_recv(a.fd, r, sizeof(r));
    ZT_CHECK(t, n == 16 && rxid(r) == -2 && rzxid(r) == last, "ping in order");
    n = zt_recv(a.fd, r, sizeof(r));
    ZT_CHECK(t, n == 16 + 6 && rxid(r) == 103 && memcmp(r + 16, "\0\0\0\2/p", 6) == 0, "sync");
    n = zt_recv(a.fd, r, sizeof(r));
    ZT_CHECK(t, n == 16 && rxid(r) == 104 && rerr(r) == -110, "NODEEXISTS last");
    /* the 105 replies of one batch leave in a few writes, not one each */
    unsigned segs = data_segs_in(a.fd) - segs0;
    ZT_CHECK(t, segs > 0 && segs <= 10, "105 replies came in %u segments", segs);
    close(a.fd);
}

static void test_pipelined_writes_keep_order(void **state)
{
    (void)state;
    run(NULL, sc_pipeline);
}

/* A refused write queued behind pending writes keeps its place, and takes
 * a zxid, as ZooKeeper logs an error txn for it: a bad CreateMode, a
 * client's deleteContainer, a write whose body does not decode. */
static void sc_refusal_order(zt *t)
{
    zt_sess a;
    zt_buf q = {.n = 0};
    uint8_t r[512];
    if (!zt_session(t, &a, 1000, 0, NULL))
        return;
    zt_create_req(&q, 1, "/r1", NULL, 0);
    zt_create_req(&q, 2, "/r2", NULL, 9); /* no such CreateMode */
    zt_create_req(&q, 3, "/r3", NULL, 0);
    size_t f = zt_begin(&q); /* deleteContainer: server-internal */
    zt_int(&q, 4);
    zt_int(&q, 20);
    zt_str(&q, "/r1");
    zt_end(&q, f);
    f = zt_begin(&q); /* setData cut short after its path */
    zt_int(&q, 5);
    zt_int(&q, 5);
    zt_str(&q, "/r1");
    zt_end(&q, f);
    zt_create_req(&q, 6, "/r6", NULL, 0);
    ZT_CHECK(t, zt_send(a.fd, q.b, q.n) == 0, "send");
    q.n = 0;
    static const int32_t want[][2] = {{1, 0}, {2, -8}, {3, 0}, {4, -8}, {5, -5}, {6, 0}};
    int64_t zxid = 0;
    for (int i = 0; i < 6; i++) {
        long n = zt_recv(a.fd, r, sizeof(r));
        ZT_CHECK(t, n >= 16 && rxid(r) == want[i][0] && rerr(r) == want[i][1],
                 "reply %d: xid %d err %d", i, rxid(r), rerr(r));
        ZT_CHECK(t, i == 0 || rzxid(r) == zxid + 1, "reply %d: zxid %lld after %lld", i,
                 (long long)rzxid(r), (long long)zxid);
        zxid = rzxid(r);
    }
    /* null data (a buffer of length -1) reads back null; empty as empty */
    zt_create_req(&q, 7, "/null", NULL, 0);
    ZT_CHECK(t, roundtrip(a.fd, &q, r, sizeof(r)) > 16 && rerr(r) == 0, "null create");
    zt_path_req(&q, 8, OP_GET_DATA, "/null", false);
    ZT_CHECK(t, roundtrip(a.fd, &q, r, sizeof(r)) == 16 + 4 + 68 && rerr(r) == 0 &&
                    (int32_t)zt_be32(r + 16) == -1, "null data read back");
    zt_create_req(&q, 9, "/empty", "", 0);
    ZT_CHECK(t, roundtrip(a.fd, &q, r, sizeof(r)) > 16 && rerr(r) == 0, "empty create");
    zt_path_req(&q, 10, OP_GET_DATA, "/empty", false);
    ZT_CHECK(t, roundtrip(a.fd, &q, r, sizeof(r)) == 16 + 4 + 68 && rerr(r) == 0 &&
                    zt_be32(r + 16) == 0, "empty data read back");
    close(a.fd);
}

static void test_refused_write_keeps_order(void **state)
{
    (void)state;
    run(NULL, sc_refusal_order);
}

/* ---- bad input ----------------------------------------------------------- */

static bool expect_reply(zt *t, int fd, zt_buf *q, int32_t xid, int32_t err)
{
    uint8_t r[512];
    long n = roundtrip(fd, q, r, sizeof(r));
    if (n < 16 || rxid(r) != xid || rerr(r) != err)
        return zt_fail(t, __LINE__, "xid %d: got %ld bytes, xid %d, err %d (want %d)", xid, n,
                       n >= 16 ? rxid(r) : 0, n >= 16 ? rerr(r) : 0, err);
    return true;
}

static void sc_bad_bodies(zt *t)
{
    zt_sess a;
    zt_buf q = {.n = 0};
    if (!zt_session(t, &a, 1000, 0, NULL))
        return;
    size_t f = zt_begin(&q); /* getData whose path claims 100 bytes */
    zt_int(&q, 8);
    zt_int(&q, OP_GET_DATA);
    zt_int(&q, 100);
    memcpy(q.b + q.n, "/a", 2);
    q.n += 2;
    zt_end(&q, f);
    if (!expect_reply(t, a.fd, &q, 8, -5))
        return;
    f = zt_begin(&q); /* exists with bytes after its body */
    zt_int(&q, 9);
    zt_int(&q, OP_EXISTS);
    zt_str(&q, "/");
    memcpy(q.b + q.n, "\0JUNK", 5);
    q.n += 5;
    zt_end(&q, f);
    if (!expect_reply(t, a.fd, &q, 9, -5))
        return;
    zt_path_req(&q, 10, OP_EXISTS, "/a", false);
    q.b[q.n - 2] = 0; /* "/\0" */
    if (!expect_reply(t, a.fd, &q, 10, -8))
        return;
    zt_header_req(&q, 11, -10); /* a client's createSession */
    if (!expect_reply(t, a.fd, &q, 11, -5))
        return;
    zt_header_req(&q, -2, OP_PING);
    if (!expect_reply(t, a.fd, &q, -2, 0))
        return;
    zt_header_req(&q, 7, 55);
    uint8_t r[64];
    long n = roundtrip(a.fd, &q, r, sizeof(r));
    ZT_CHECK(t, n == 16 && rxid(r) == 7 && rzxid(r) == -1 && rerr(r) == -6, "unknown opcode");
    ZT_CHECK(t, zt_wait_eof(a.fd, 2000), "closed after an unknown opcode");
    close(a.fd);
}

static void test_bad_bodies(void **state)
{
    (void)state;
    run(NULL, sc_bad_bodies);
}

/* Each of these ends the connection; the daemon carries on. */
static void sc_bad_frames(zt *t)
{
    static const uint8_t huge[] = {0x7f, 0xff, 0xff, 0xff, 1, 2, 3};
    static const uint8_t empty[] = {0, 0, 0, 0};
    static const uint8_t neg[] = {0xff, 0xff, 0xff, 0xfe};
    const struct { const uint8_t *p; size_t n; bool hello; } cases[] = {
        {huge, sizeof(huge), true}, {empty, sizeof(empty), true}, {neg, sizeof(neg), true},
        {huge, sizeof(huge), false}, {empty, sizeof(empty), false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        zt_sess a = {.fd = -1};
        if (cases[i].hello && !zt_session(t, &a, 1000, 0, NULL))
            return;
        if (!cases[i].hello)
            a.fd = zt_dial(t);
        ZT_CHECK(t, zt_send(a.fd, cases[i].p, cases[i].n) == 0, "send %zu", i);
        ZT_CHECK(t, zt_wait_eof(a.fd, 2000), "case %zu: not closed", i);
        close(a.fd);
    }
    zt_buf q = {.n = 0}; /* a request before the handshake */
    int fd = zt_dial(t);
    zt_path_req(&q, 1, OP_GET_DATA, "/", false);
    ZT_CHECK(t, zt_send(fd, q.b, q.n) == 0 && zt_wait_eof(fd, 2000), "request as handshake");
    close(fd);
    zt_sess ok;
    ZT_CHECK(t, zt_session(t, &ok, 1000, 0, NULL), "daemon still serving");
    close(ok.fd);
}

static void test_bad_frames_close(void **state)
{
    (void)state;
    run(NULL, sc_bad_frames);
}

/* ---- four-letter words --------------------------------------------------- */

static bool word(zt *t, const char *w, char *out, size_t cap)
{
    int fd = zt_dial(t);
    size_t n = 0;
    if (fd < 0 || zt_send(fd, w, 4) < 0)
        return zt_fail(t, __LINE__, "%s: send", w);
    for (ssize_t k; n + 1 < cap && (k = recv(fd, out + n, cap - 1 - n, 0)) > 0;)
        n += (size_t)k;
    out[n] = '\0';
    close(fd);
    return true;
}

static void sc_4lw(zt *t)
{
    char out[8192];
    if (!word(t, "ruok", out, sizeof(out)))
        return;
    ZT_CHECK(t, strcmp(out, "imok") == 0, "ruok: %s", out);
    word(t, "isro", out, sizeof(out));
    ZT_CHECK(t, strcmp(out, "rw") == 0, "isro: %s", out);
    word(t, "srvr", out, sizeof(out));
    ZT_CHECK(t, strncmp(out, "Zookeeper version: 3.8.0-zonekeeper", 35) == 0 &&
                    strstr(out, "\nMode: standalone\nNode count: 5\n"), "srvr: %s", out);
    word(t, "mntr", out, sizeof(out));
    ZT_CHECK(t, strstr(out, "zk_server_state\tstandalone\n") &&
                    strstr(out, "zk_znode_count\t5\n"), "mntr: %s", out);
    word(t, "wchc", out, sizeof(out));
    ZT_CHECK(t, strcmp(out, "wchc is not executed because it is not in the whitelist.\n") == 0,
             "wchc: %s", out);
    word(t, "cons", out, sizeof(out));
    ZT_CHECK(t, strncmp(out, " /127.0.0.1:", 12) == 0, "cons: %s", out);
}

static void test_four_letter_words(void **state)
{
    (void)state;
    run(NULL, sc_4lw);
}

/* ---- sessions ------------------------------------------------------------ */

static void sc_expiry(zt *t)
{
    zt_sess a, b;
    zt_buf q = {.n = 0};
    uint8_t r[256];
    if (!zt_session(t, &a, 100, 0, NULL))
        return;
    zt_create_req(&q, 1, "/eph", NULL, 1);
    long n = roundtrip(a.fd, &q, r, sizeof(r));
    ZT_CHECK(t, n > 16 && rerr(r) == 0, "ephemeral create");
    ZT_CHECK(t, zt_wait_eof(a.fd, 3000), "expired session's connection not closed");
    close(a.fd);
    ZT_CHECK(t, zt_session(t, &b, 1000, a.id, a.passwd), "reconnect");
    ZT_CHECK(t, b.timeout == 0 && b.id == 0, "expired session resumed");
    ZT_CHECK(t, zt_wait_eof(b.fd, 2000), "refused reconnect not closed");
    close(b.fd);
    ZT_CHECK(t, zt_session(t, &b, 1000, 0, NULL), "new session");
    zt_path_req(&q, 1, OP_EXISTS, "/eph", false);
    n = roundtrip(b.fd, &q, r, sizeof(r));
    ZT_CHECK(t, n == 16 && rerr(r) == -101, "ephemeral outlived its session");
    close(b.fd);
}

/* ---- replies made outside the poll phase ---------------------------------- */

static void setup_snapshot_per_write(zk_conf *conf)
{
    conf->storage_snapshot_every = 1;
    conf->zk_tick_ms = 5000; /* no tick to wake the loop meanwhile */
    conf->zk_max_session_timeout_ms = 60000;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Each reply goes out in the loop turn that made it, even when nothing
 * else happens after. While a snapshot child runs (the first one starts
 * after the session's own txn and takes 1.5 s here), a batch of more
 * than 8 durable txns is committed 8 per loop turn from an idle callback;
 * before, the replies of those commits waited for the next event - here
 * the child's exit, 1.5 s later (the sweep timer is stopped, the tick is
 * 5 s). */
static void sc_reply_while_snapshot_runs(zt *t)
{
    zt_sess a;
    zt_buf q = {.n = 0};
    uint8_t r[256];
    if (!zt_session(t, &a, 30000, 0, NULL))
        return;
    enum { N = 24 };
    for (int i = 0; i < N; i++) {
        char path[16];
        snprintf(path, sizeof path, "/s%d", i);
        zt_create_req(&q, i + 1, path, "x", 0);
    }
    long long t0 = now_ms();
    ZT_CHECK(t, zt_send(a.fd, q.b, q.n) == 0, "send");
    int ok = 0;
    for (int i = 0; i < N; i++) {
        long n = zt_recv(a.fd, r, sizeof(r));
        ok += n > 16 && rxid(r) == i + 1 && rerr(r) == 0;
    }
    long long ms = now_ms() - t0;
    ZT_CHECK(t, ok == N, "%d of %d creates answered", ok, N);
    ZT_CHECK(t, ms < 700, "the %d creates were answered after %lld ms", N, ms);
    close(a.fd);
}

static void test_reply_while_snapshot_runs(void **state)
{
    (void)state;
    zt t = {.init_hook = zt_hook_slow_snapshots};
    zt_run(&t, setup_snapshot_per_write, sc_reply_while_snapshot_runs);
    if (t.failed_line)
        print_error("zkd_test.c:%d: %s\n", t.failed_line, t.failed_msg);
    assert_int_equal(t.failed_line, 0);
}

static void test_session_expiry(void **state)
{
    (void)state;
    run(NULL, sc_expiry);
}

static void sc_reconnect(zt *t)
{
    zt_sess a, b, c;
    zt_buf q = {.n = 0};
    uint8_t r[256];
    if (!zt_session(t, &a, 1000, 0, NULL))
        return;
    zt_create_req(&q, 1, "/e", NULL, 1);
    ZT_CHECK(t, roundtrip(a.fd, &q, r, sizeof(r)) > 16 && rerr(r) == 0, "create");
    close(a.fd); /* dropped, not closed: the session and /e stay */
    ZT_CHECK(t, zt_session(t, &b, 300, a.id, a.passwd), "resume");
    /* the timeout is negotiated again, as ZooKeeper does */
    ZT_CHECK(t, b.id == a.id && b.timeout == 300 && memcmp(b.passwd, a.passwd, 16) == 0,
             "resumed session %llx timeout %d", (unsigned long long)b.id, b.timeout);
    zt_path_req(&q, 2, OP_EXISTS, "/e", false);
    ZT_CHECK(t, roundtrip(b.fd, &q, r, sizeof(r)) == 16 + 68 && rerr(r) == 0, "ephemeral kept");
    ZT_CHECK(t, zt_session(t, &c, 1000, a.id, a.passwd), "move");
    ZT_CHECK(t, c.id == a.id, "moved session");
    ZT_CHECK(t, zt_wait_eof(b.fd, 2000), "old connection of a moved session not closed");
    close(b.fd);
    uint8_t bad[16];
    memcpy(bad, a.passwd, 16);
    bad[0] ^= 1;
    ZT_CHECK(t, zt_session(t, &b, 1000, a.id, bad), "bad password");
    ZT_CHECK(t, b.id == 0 && b.timeout == 0 && zt_wait_eof(b.fd, 2000), "bad password refused");
    close(b.fd);
    zt_header_req(&q, -2, OP_PING);
    ZT_CHECK(t, roundtrip(c.fd, &q, r, sizeof(r)) == 16 && rerr(r) == 0, "ping after move");
    close(c.fd);
}

static void test_reconnect_resume_move_refuse(void **state)
{
    (void)state;
    run(NULL, sc_reconnect);
}

/* ---- limits -------------------------------------------------------------- */

static void setup_limits(zk_conf *conf)
{
    conf->zk_max_client_cnxns = 2;
    conf->zk_max_outstanding = 8;
}

static void sc_limits(zt *t)
{
    zt_sess a, b;
    zt_buf q = {.n = 0};
    if (!zt_session(t, &a, 1000, 0, NULL) || !zt_session(t, &b, 1000, 0, NULL))
        return;
    int fd = zt_dial(t);
    ZT_CHECK(t, fd >= 0 && zt_wait_eof(fd, 2000), "third connection from 127.0.0.1 accepted");
    close(fd);
    for (int i = 0; i < 20; i++) {
        char path[16];
        snprintf(path, sizeof(path), "/o%d", i);
        zt_create_req(&q, i + 1, path, NULL, 0);
    }
    ZT_CHECK(t, zt_send(a.fd, q.b, q.n) == 0, "send");
    ZT_CHECK(t, zt_wait_eof(a.fd, 2000), "20 requests in flight past max_outstanding 8");
    close(a.fd);
    ZT_CHECK(t, zt_session(t, &a, 1000, 0, NULL), "a slot is free again");
    close(a.fd);
    close(b.fd);
}

/* zookeeper.max_connections counts every address together: with no
 * per-address limit, the third connection is still closed at once. */
static void setup_total(zk_conf *conf)
{
    conf->zk_max_client_cnxns = 0;
    conf->zk_max_connections = 2;
}

/* zt_session without failing the test: false when the daemon closed it. */
static bool try_session(zt *t, int *fd)
{
    zt_buf b = {.n = 0};
    uint8_t r[256];
    if ((*fd = zt_dial(t)) < 0)
        return false;
    zt_connect_req(&b, 1000, 0, NULL);
    if (zt_send(*fd, b.b, b.n) == 0 && zt_recv(*fd, r, sizeof(r)) == 37)
        return true;
    close(*fd);
    return false;
}

static void sc_total(zt *t)
{
    zt_sess a, b;
    if (!zt_session(t, &a, 1000, 0, NULL) || !zt_session(t, &b, 1000, 0, NULL))
        return;
    int fd = zt_dial(t);
    ZT_CHECK(t, fd >= 0 && zt_wait_eof(fd, 2000), "third connection accepted past max_connections 2");
    close(fd);
    close(a.fd);
    int cfd = -1;
    bool again = false;
    for (int i = 0; i < 50 && !again; i++) { /* until the loop has seen the close */
        again = try_session(t, &cfd);
        if (!again)
            nanosleep(&(struct timespec){.tv_nsec = 20 * 1000 * 1000}, NULL);
    }
    ZT_CHECK(t, again, "a slot is free again once a connection closed");
    if (again)
        close(cfd);
    close(b.fd);
}

/* registry.max_watches: the third path a connection would watch gets
 * QUOTAEXCEEDED (-125) in its reply header; the connection carries on, and
 * another connection has its own allowance. */
static void setup_watches(zk_conf *conf)
{
    conf->registry_max_watches = 2;
}

/* An exists with a watch; the reply header's err, or 1 with no reply. */
static int32_t watch_req_err(int fd, int32_t xid, const char *path)
{
    zt_buf q = {.n = 0};
    uint8_t r[256];
    zt_path_req(&q, xid, 3 /* exists */, path, true);
    if (zt_send(fd, q.b, q.n) != 0)
        return 1;
    long n = zt_recv(fd, r, sizeof(r));
    return n >= 16 && (int32_t)zt_be32(r) == xid ? (int32_t)zt_be32(r + 12) : 1;
}

static void sc_watches(zt *t)
{
    zt_sess a, b;
    if (!zt_session(t, &a, 1000, 0, NULL) || !zt_session(t, &b, 1000, 0, NULL))
        return;
    ZT_CHECK(t, watch_req_err(a.fd, 1, "/w1") == -101, "first watch (NONODE)");
    ZT_CHECK(t, watch_req_err(a.fd, 2, "/w2") == -101, "second watch (NONODE)");
    ZT_CHECK(t, watch_req_err(a.fd, 3, "/w3") == -125, "third watch: QUOTAEXCEEDED");
    ZT_CHECK(t, watch_req_err(a.fd, 4, "/w1") == -101, "a watched path again is fine");
    ZT_CHECK(t, watch_req_err(b.fd, 1, "/w3") == -101, "another connection's own allowance");
    close(a.fd);
    close(b.fd);
}

static void test_watch_limit(void **state)
{
    (void)state;
    run(setup_watches, sc_watches);
}

static void test_total_connection_limit(void **state)
{
    (void)state;
    run(setup_total, sc_total);
}

static void test_limits_disconnect(void **state)
{
    (void)state;
    run(setup_limits, sc_limits);
}

/* ---- auth ---------------------------------------------------------------- */

static void auth_req(zt_buf *q, const char *scheme, const char *data)
{
    size_t f = zt_begin(q);
    zt_int(q, -4);
    zt_int(q, 100);
    zt_int(q, 0);
    zt_str(q, scheme);
    zt_bytes(q, data, (int32_t)strlen(data));
    zt_end(q, f);
}

static void sc_auth(zt *t)
{
    zt_sess a;
    zt_buf q = {.n = 0};
    uint8_t r[512];
    if (!zt_session(t, &a, 1000, 0, NULL))
        return;
    auth_req(&q, "digest", "bob:secret");
    long n = roundtrip(a.fd, &q, r, sizeof(r));
    ZT_CHECK(t, n == 16 && rxid(r) == -4 && rzxid(r) == 0 && rerr(r) == 0, "digest auth");
    zt_header_req(&q, 5, OP_WHO_AM_I);
    n = roundtrip(a.fd, &q, r, sizeof(r));
    static const uint8_t who[] = {0, 0, 0, 2, 0, 0, 0, 2, 'i', 'p', 0, 0, 0, 9, '1', '2', '7',
                                  '.', '0', '.', '0', '.', '1', 0, 0, 0, 6, 'd', 'i', 'g', 'e',
                                  's', 't', 0, 0, 0, 3, 'b', 'o', 'b'};
    ZT_CHECK(t, n == 16 + (long)sizeof(who) && memcmp(r + 16, who, sizeof(who)) == 0, "whoAmI");
    size_t f = zt_begin(&q); /* an ACL only bob may read */
    zt_int(&q, 6);
    zt_int(&q, OP_CREATE);
    zt_str(&q, "/bob");
    zt_bytes(&q, "s", 1);
    zt_int(&q, 1);
    zt_int(&q, 31);
    zt_str(&q, "digest");
    zt_str(&q, "bob:fyVmFCwVbTJYrznoSu1koqYEYF0=");
    zt_int(&q, 0);
    zt_end(&q, f);
    if (!expect_reply(t, a.fd, &q, 6, 0))
        return;
    auth_req(&q, "kerberos", "x");
    n = roundtrip(a.fd, &q, r, sizeof(r));
    ZT_CHECK(t, n == 16 && rxid(r) == -4 && rerr(r) == -115, "unknown scheme");
    ZT_CHECK(t, zt_wait_eof(a.fd, 2000), "closed after AUTHFAILED");
    close(a.fd);
    zt_sess b;
    if (!zt_session(t, &b, 1000, 0, NULL))
        return;
    zt_path_req(&q, 1, OP_GET_DATA, "/bob", false);
    expect_reply(t, b.fd, &q, 1, -102);
    close(b.fd);
}

static void test_auth_digest_whoami(void **state)
{
    (void)state;
    run(NULL, sc_auth);
}

/* ---- stop ---------------------------------------------------------------- */

static void sc_stop(zt *t)
{
    zt_sess a;
    zt_buf q = {.n = 0};
    if (!zt_session(t, &a, 1000, 0, NULL))
        return;
    zt_path_req(&q, 1, OP_GET_DATA, "/", true);
    uint8_t r[256];
    ZT_CHECK(t, roundtrip(a.fd, &q, r, sizeof(r)) > 16, "getData");
    int idle = zt_dial(t); /* a connection still in its handshake */
    zt_stop(t);
    ZT_CHECK(t, zt_wait_eof(a.fd, 3000) && zt_wait_eof(idle, 3000), "not closed at stop");
    close(a.fd);
    close(idle);
}

static void test_stop_with_clients(void **state)
{
    (void)state;
    run(NULL, sc_stop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crud_watch_ping_close),
        cmocka_unit_test(test_pipelined_writes_keep_order),
        cmocka_unit_test(test_refused_write_keeps_order),
        cmocka_unit_test(test_bad_bodies),
        cmocka_unit_test(test_bad_frames_close),
        cmocka_unit_test(test_four_letter_words),
        cmocka_unit_test(test_session_expiry),
        cmocka_unit_test(test_reply_while_snapshot_runs),
        cmocka_unit_test(test_reconnect_resume_move_refuse),
        cmocka_unit_test(test_limits_disconnect),
        cmocka_unit_test(test_total_connection_limit),
        cmocka_unit_test(test_watch_limit),
        cmocka_unit_test(test_auth_digest_whoami),
        cmocka_unit_test(test_stop_with_clients),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
