/*
 * dnsload.c - a lean UDP DNS load generator for 127.0.0.1.
 *
 * Queries come from a file of "name type" lines and are encoded once at
 * start; sending one is a memcpy and an ID patch. A few connected UDP
 * sockets (each with its own 16-bit ID space) are driven from one thread
 * with sendmmsg/recvmmsg, so the generator spends its core on the kernel's
 * send and receive paths, not on itself.
 *
 *   -m sat   keeps a window of queries in flight for -d seconds (a reply or
 *            a timeout frees a slot at once) and reports answered queries
 *            per second: the server's saturation rate when the window keeps
 *            its socket non-empty.
 *   -m rate  paces sends at -r queries per second for -d seconds: a fixed
 *            offered load at which the server's CPU per query is measured.
 *   -m wait  sends the first query every 20 ms until it is answered or -d
 *            seconds pass: exit status 0 when the server answers.
 *
 * Every reply is matched by socket and ID to an outstanding query and its
 * question section must be the query's, byte for byte; replies are counted
 * by rcode (NOERROR with answers, NODATA, NXDOMAIN, ...). A query with no
 * reply after -t milliseconds is lost. After the sending period the run
 * drains for at most the timeout, so every run ends by itself.
 *
 * With -P PID (repeatable) the CPU time of those processes is read from
 * /proc at the start and at the end of the run, and reported per answered
 * query: user and system time from /proc/PID/stat (clock ticks), and the
 * total on-CPU time of all their threads from schedstat (nanoseconds).
 *
 * The last line of output is "RESULT key=value ..." for scripts.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "bcommon.h"

#define MAX_SOCKS 16
#define MAX_BATCH 256
#define MAX_PIDS 16
#define MSG_MAX 4096
#define FIFO_SIZE (1u << 19)

typedef struct query {
    uint32_t off;   /* into the wire buffer */
    uint16_t len;   /* whole message */
    uint16_t qsec;  /* question section length */
} query;

typedef struct slot {
    uint64_t sent_ns; /* 0: free */
    uint32_t qidx;
} slot;

typedef struct fifo_ent {
    uint64_t sent_ns;
    uint16_t id;
} fifo_ent;

typedef struct sock {
    int fd;
    uint32_t inflight;
    slot slots[65536];
    uint16_t freeids[65536]; /* ring of free IDs, least recently used first */
    uint32_t free_head, free_count;
    fifo_ent *fifo; /* sends in order, for timeouts */
    uint32_t fifo_head, fifo_count;
} sock;

typedef struct stats {
    uint64_t sent, answered, answered_in_window, lost, late, mismatch, send_err;
    uint64_t noerror, nodata, nxdomain, servfail, refused, formerr, other, tc;
    uint64_t reply_bytes;
} stats;

static struct {
    const char *mode, *file;
    int port, nsock, window, batch, timeout_ms, npids;
    double duration, rate;
    uint16_t edns;
    int pids[MAX_PIDS];
    int quiet;
} opt = {.mode = "sat", .port = 53, .nsock = 2, .window = 200, .batch = 32,
         .timeout_ms = 200, .duration = 5, .rate = 10000, .edns = 1232};

static uint8_t *wire;
static query *queries;
static uint32_t nqueries, next_q;
static sock *socks;
static stats st;
static bc_hist hist;
static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: dnsload -p PORT -f QUERYFILE [-m sat|rate|wait] [-d SECONDS]\n"
            "               [-r QPS] [-w WINDOW] [-n SOCKETS] [-b BATCH] [-t TIMEOUT_MS]\n"
            "               [-e EDNS_SIZE|0] [-P PID]... [-q]\n"
            "Sends to 127.0.0.1 only. QUERYFILE: one \"name type\" per line.\n"
            "  -m sat   keep WINDOW queries in flight (default %d), report answered qps\n"
            "  -m rate  send QPS queries per second (default %.0f)\n"
            "  -m wait  probe with the first query until answered (exit 0) or -d passes\n"
            "  -d       sending period, seconds (default %.1f; max 3600)\n"
            "  -n       UDP sockets (default %d, max %d); -b sendmmsg batch (default %d)\n"
            "  -t       a query unanswered after this is lost (default %d ms)\n"
            "  -e       EDNS0 UDP size in queries, 0 for none (default %u)\n"
            "  -P PID   measure this process's CPU (repeatable, max %d)\n",
            opt.window, opt.rate, opt.duration, opt.nsock, MAX_SOCKS, opt.batch,
            opt.timeout_ms, opt.edns, MAX_PIDS);
}

/* ---- the query list ------------------------------------------------------ */

static int load_queries(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "dnsload: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 1024, wcap = 1u << 16, wlen = 0;
    queries = malloc(cap * sizeof(*queries));
    wire = malloc(wcap);
    char line[512];
    unsigned lineno = 0;
    while (queries && wire && fgets(line, sizeof(line), f)) {
        lineno++;
        char name[300], type[32];
        char *h = strchr(line, '#');
        if (h)
            *h = 0;
        int k = sscanf(line, "%299s %31s", name, type);
        if (k <= 0)
            continue;
        int t = k == 2 ? bc_type_parse(type) : BC_T_A;
        uint8_t buf[600];
        size_t qsec;
        int len = t < 0 ? -1 : bc_query_encode(name, t, opt.edns, buf, &qsec);
        if (len < 0) {
            fprintf(stderr, "dnsload: %s:%u: bad query\n", path, lineno);
            fclose(f);
            return -1;
        }
        if (nqueries == cap) {
            cap *= 2;
            queries = realloc(queries, cap * sizeof(*queries));
        }
        if (wlen + (size_t)len > wcap) {
            wcap *= 2;
            wire = realloc(wire, wcap);
        }
        if (!queries || !wire)
            break;
        memcpy(wire + wlen, buf, (size_t)len);
        queries[nqueries++] = (query){(uint32_t)wlen, (uint16_t)len, (uint16_t)qsec};
        wlen += (size_t)len;
    }
    fclose(f);
    if (!queries || !wire) {
        fprintf(stderr, "dnsload: out of memory\n");
        return -1;
    }
    if (nqueries == 0) {
        fprintf(stderr, "dnsload: %s: no queries\n", path);
        return -1;
    }
    return 0;
}

/* ---- sockets ------------------------------------------------------------- */

static int open_socks(void)
{
    socks = calloc((size_t)opt.nsock, sizeof(*socks));
    if (!socks)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < opt.nsock; i++) {
        sock *s = &socks[i];
        s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (s->fd < 0)
            return -1;
        int sz = 8 << 20;
        if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
            setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
        if (setsockopt(s->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
            setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
        if (connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
            return -1;
        /* IDs in a random order, so that IDs do not repeat in lockstep */
        for (uint32_t k = 0; k < 65536; k++)
            s->freeids[k] = (uint16_t)k;
        for (uint32_t k = 65535; k > 0; k--) {
            uint32_t j = (uint32_t)random() % (k + 1);
            uint16_t t = s->freeids[k];
            s->freeids[k] = s->freeids[j];
            s->freeids[j] = t;
        }
        s->free_count = 65536;
        s->fifo = malloc(FIFO_SIZE * sizeof(*s->fifo));
        if (!s->fifo)
            return -1;
    }
    return 0;
}

static void id_release(sock *s, uint16_t id)
{
    s->slots[id].sent_ns = 0;
    s->freeids[(s->free_head + s->free_count) & 65535] = id;
    s->free_count++;
    s->inflight--;
}

/* ---- sending ------------------------------------------------------------- */

static uint8_t sendbuf[MAX_BATCH][MSG_MAX];
static struct mmsghdr smsg[MAX_BATCH];
static struct iovec siov[MAX_BATCH];

/* Sends up to n queries on s; returns how many went out. */
static int send_batch(sock *s, int n, uint64_t now)
{
    if (n > opt.batch)
        n = opt.batch;
    if ((uint32_t)n > s->free_count)
        n = (int)s->free_count;
    if ((uint32_t)n > FIFO_SIZE - s->fifo_count)
        n = (int)(FIFO_SIZE - s->fifo_count);
    if (n <= 0)
        return 0;
    uint16_t ids[MAX_BATCH];
    uint32_t qi[MAX_BATCH];
    for (int i = 0; i < n; i++) {
        uint16_t id = s->freeids[(s->free_head + (uint32_t)i) & 65535];
        uint32_t q = next_q;
        next_q = next_q + 1 == nqueries ? 0 : next_q + 1;
        memcpy(sendbuf[i], wire + queries[q].off, queries[q].len);
        sendbuf[i][0] = (uint8_t)(id >> 8);
        sendbuf[i][1] = (uint8_t)id;
        siov[i] = (struct iovec){sendbuf[i], queries[q].len};
        memset(&smsg[i], 0, sizeof(smsg[i]));
        smsg[i].msg_hdr.msg_iov = &siov[i];
        smsg[i].msg_hdr.msg_iovlen = 1;
        ids[i] = id;
        qi[i] = q;
    }
    int r = sendmmsg(s->fd, smsg, (unsigned)n, MSG_DONTWAIT);
    if (r < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS &&
            errno != ECONNREFUSED)
            st.send_err++;
        r = 0;
    }
    /* queries that did not go out are taken again next time */
    for (int i = r; i < n; i++)
        next_q = next_q == 0 ? nqueries - 1 : next_q - 1;
    for (int i = 0; i < r; i++) {
        s->slots[ids[i]] = (slot){now, qi[i]};
        s->fifo[(s->fifo_head + s->fifo_count) & (FIFO_SIZE - 1)] = (fifo_ent){now, ids[i]};
        s->fifo_count++;
    }
    s->free_head = (s->free_head + (uint32_t)r) & 65535;
    s->free_count -= (uint32_t)r;
    s->inflight += (uint32_t)r;
    st.sent += (uint64_t)r;
    return r;
}

/* ---- receiving ----------------------------------------------------------- */

static uint8_t recvbuf[MAX_BATCH][MSG_MAX];
static struct mmsghdr rmsg[MAX_BATCH];
static struct iovec riov[MAX_BATCH];

static void count_reply(const uint8_t *m, size_t len)
{
    st.reply_bytes += len;
    if (m[2] & 0x02)
        st.tc++;
    switch (m[3] & 0x0f) {
    case 0:
        if (bc_get16(m + 6) > 0)
            st.noerror++;
        else
            st.nodata++;
        break;
    case 1: st.formerr++; break;
    case 2: st.servfail++; break;
    case 3: st.nxdomain++; break;
    case 5: st.refused++; break;
    default: st.other++; break;
    }
}

/* Receives what is waiting on s; returns the number of datagrams. */
static int recv_batch(sock *s, uint64_t window_end)
{
    for (int i = 0; i < opt.batch; i++) {
        riov[i] = (struct iovec){recvbuf[i], MSG_MAX};
        memset(&rmsg[i], 0, sizeof(rmsg[i]));
        rmsg[i].msg_hdr.msg_iov = &riov[i];
        rmsg[i].msg_hdr.msg_iovlen = 1;
    }
    int r = recvmmsg(s->fd, rmsg, (unsigned)opt.batch, MSG_DONTWAIT, NULL);
    if (r <= 0)
        return 0;
    uint64_t now = bc_now_ns();
    for (int i = 0; i < r; i++) {
        const uint8_t *m = recvbuf[i];
        size_t len = rmsg[i].msg_len;
        if (len < 12 || !(m[2] & 0x80)) {
            st.mismatch++;
            continue;
        }
        uint16_t id = bc_get16(m);
        slot *sl = &s->slots[id];
        if (sl->sent_ns == 0) {
            st.late++;
            continue;
        }
        const query *q = &queries[sl->qidx];
        if (len < 12u + q->qsec || bc_get16(m + 4) != 1 ||
            memcmp(m + 12, wire + q->off + 12, q->qsec) != 0) {
            st.mismatch++;
            continue;
        }
        bc_hist_add(&hist, now - sl->sent_ns);
        st.answered++;
        if (now <= window_end)
            st.answered_in_window++;
        count_reply(m, len);
        id_release(s, id);
    }
    return r;
}

/* Frees the slots of queries older than the timeout. */
static void expire(sock *s, uint64_t now, uint64_t timeout_ns)
{
    while (s->fifo_count > 0) {
        fifo_ent *e = &s->fifo[s->fifo_head];
        slot *sl = &s->slots[e->id];
        if (sl->sent_ns == e->sent_ns && sl->sent_ns != 0) {
            if (now - e->sent_ns < timeout_ns && s->fifo_count < FIFO_SIZE)
                break;
            st.lost++;
            id_release(s, e->id);
        }
        s->fifo_head = (s->fifo_head + 1) & (FIFO_SIZE - 1);
        s->fifo_count--;
    }
}

/* ---- the run ------------------------------------------------------------- */

static uint32_t total_inflight(void)
{
    uint32_t n = 0;
    for (int i = 0; i < opt.nsock; i++)
        n += socks[i].inflight;
    return n;
}

static void wait_events(uint64_t max_ns)
{
    struct pollfd pf[MAX_SOCKS];
    for (int i = 0; i < opt.nsock; i++)
        pf[i] = (struct pollfd){.fd = socks[i].fd, .events = POLLIN};
    struct timespec ts = {(time_t)(max_ns / 1000000000u), (long)(max_ns % 1000000000u)};
    ppoll(pf, (nfds_t)opt.nsock, &ts, NULL);
}

/* Sums the CPU times of the -P processes; returns -1 if one is gone. */
static int cpu_sum(bc_cpu *out)
{
    int rc = 0;
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < opt.npids; i++) {
        bc_cpu c;
        if (bc_cpu_read(opt.pids[i], &c) == 0) {
            out->utime += c.utime;
            out->stime += c.stime;
            out->run_ns += c.run_ns;
        } else {
            rc = -1;
        }
    }
    return rc;
}

/* Sends and receives until the period ends, then drains. */
static void run_load(int paced, uint64_t *t_start, uint64_t *t_end)
{
    const uint64_t timeout_ns = (uint64_t)opt.timeout_ms * 1000000u;
    const uint64_t start = bc_now_ns();
    const uint64_t end = start + (uint64_t)(opt.duration * 1e9);
    const uint32_t per_sock = (uint32_t)(opt.window + opt.nsock - 1) / (uint32_t)opt.nsock;
    int turn = 0;
    *t_start = start;
    for (;;) {
        uint64_t now = bc_now_ns();
        if (now >= end || stop_flag)
            break;
        int did = 0;
        if (paced) {
            uint64_t due = (uint64_t)((double)(now - start) * opt.rate / 1e9) + 1;
            if (due > st.sent) {
                uint64_t want = due - st.sent;
                for (int k = 0; k < opt.nsock && want > 0; k++) {
                    sock *s = &socks[turn];
                    turn = (turn + 1) % opt.nsock;
                    if (s->inflight >= per_sock)
                        continue;
                    uint64_t room = per_sock - s->inflight;
                    int n = (int)(want < room ? want : room);
                    int r = send_batch(s, n, now);
                    want -= (uint64_t)r;
                    did += r;
                }
            }
        } else {
            for (int i = 0; i < opt.nsock; i++) {
                sock *s = &socks[i];
                if (s->inflight < per_sock)
                    did += send_batch(s, (int)(per_sock - s->inflight), now);
            }
        }
        for (int i = 0; i < opt.nsock; i++) {
            did += recv_batch(&socks[i], end);
            expire(&socks[i], now, timeout_ns);
        }
        if (did == 0) {
            uint64_t wait = 1000000; /* 1 ms */
            if (paced) {
                double next = (double)(st.sent) * 1e9 / opt.rate;
                uint64_t at = start + (uint64_t)next;
                now = bc_now_ns();
                wait = at > now ? at - now : 0;
                if (wait > 1000000)
                    wait = 1000000;
            }
            if (wait > 0)
                wait_events(wait);
        }
    }
    *t_end = bc_now_ns();
    /* drain: wait for the replies still due, at most the timeout */
    uint64_t drain_end = *t_end + timeout_ns;
    while (total_inflight() > 0 && !stop_flag) {
        uint64_t now = bc_now_ns();
        if (now >= drain_end)
            break;
        int got = 0;
        for (int i = 0; i < opt.nsock; i++)
            got += recv_batch(&socks[i], *t_end);
        if (got == 0)
            wait_events(drain_end - now < 1000000 ? drain_end - now : 1000000);
    }
    uint64_t now = bc_now_ns() + timeout_ns + 1;
    for (int i = 0; i < opt.nsock; i++)
        expire(&socks[i], now, timeout_ns);
}

static int run_wait(void)
{
    const uint64_t end = bc_now_ns() + (uint64_t)(opt.duration * 1e9);
    while (!stop_flag && bc_now_ns() < end) {
        next_q = 0;
        send_batch(&socks[0], 1, bc_now_ns());
        uint64_t until = bc_now_ns() + 20000000u;
        while (bc_now_ns() < until) {
            wait_events(until - bc_now_ns());
            recv_batch(&socks[0], UINT64_MAX);
            if (st.answered > 0) {
                printf("RESULT mode=wait answered=1\n");
                return 0;
            }
        }
        expire(&socks[0], bc_now_ns(), 20000000u);
    }
    printf("RESULT mode=wait answered=0\n");
    return 1;
}

/* This process's CPU time in ns. */
static uint64_t self_cpu_ns(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000u +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000u;
}

static struct {
    uint64_t busy0, busy1, self0, self1;
} mach;

static void report(int paced, uint64_t t0, uint64_t t1, const bc_cpu *c0, const bc_cpu *c1)
{
    double secs = (double)(t1 - t0) / 1e9;
    double qps = (double)st.answered_in_window / secs;
    double lostpct = st.sent ? 100.0 * (double)st.lost / (double)st.sent : 0;
    double p50 = bc_hist_pct(&hist, 50), p99 = bc_hist_pct(&hist, 99);
    double avg = st.answered ? (double)st.reply_bytes / (double)st.answered : 0;
    if (!opt.quiet) {
        printf("%s: %.2f s, sent %llu, answered %llu (%.0f qps), lost %llu (%.3f%%)\n",
               paced ? "rate" : "sat", secs, (unsigned long long)st.sent,
               (unsigned long long)st.answered, qps, (unsigned long long)st.lost, lostpct);
        printf("  rcode: noerror %llu nodata %llu nxdomain %llu servfail %llu refused %llu "
               "formerr %llu other %llu; tc %llu; late %llu mismatch %llu senderr %llu\n",
               (unsigned long long)st.noerror, (unsigned long long)st.nodata,
               (unsigned long long)st.nxdomain, (unsigned long long)st.servfail,
               (unsigned long long)st.refused, (unsigned long long)st.formerr,
               (unsigned long long)st.other, (unsigned long long)st.tc,
               (unsigned long long)st.late, (unsigned long long)st.mismatch,
               (unsigned long long)st.send_err);
        printf("  latency us: p50 %.1f p99 %.1f max %.1f; reply bytes avg %.1f\n", p50, p99,
               (double)hist.max_ns / 1000.0, avg);
    }
    printf("RESULT mode=%s secs=%.3f sent=%llu answered=%llu qps=%.0f lost=%llu lost_pct=%.4f "
           "noerror=%llu nodata=%llu nxdomain=%llu servfail=%llu refused=%llu formerr=%llu "
           "other=%llu tc=%llu late=%llu mismatch=%llu p50_us=%.1f p99_us=%.1f avg_bytes=%.1f",
           paced ? "rate" : "sat", secs, (unsigned long long)st.sent,
           (unsigned long long)st.answered, qps, (unsigned long long)st.lost, lostpct,
           (unsigned long long)st.noerror, (unsigned long long)st.nodata,
           (unsigned long long)st.nxdomain, (unsigned long long)st.servfail,
           (unsigned long long)st.refused, (unsigned long long)st.formerr,
           (unsigned long long)st.other, (unsigned long long)st.tc,
           (unsigned long long)st.late, (unsigned long long)st.mismatch, p50, p99, avg);
    if (opt.npids > 0) {
        double tck = (double)sysconf(_SC_CLK_TCK);
        double q = st.answered ? (double)st.answered : 1;
        double user_us = (double)(c1->utime - c0->utime) / tck * 1e6 / q;
        double sys_us = (double)(c1->stime - c0->stime) / tck * 1e6 / q;
        double run_us = (double)(c1->run_ns - c0->run_ns) / 1e3 / q;
        double util = (double)(c1->run_ns - c0->run_ns) / (double)(t1 - t0);
        if (!opt.quiet)
            fprintf(stderr, "  server cpu per query: user %.3f us, sys %.3f us (ticks %llu+%llu),"
                    " total %.3f us (schedstat), %.0f%% of a core\n",
                    user_us, sys_us, (unsigned long long)(c1->utime - c0->utime),
                    (unsigned long long)(c1->stime - c0->stime), run_us, util * 100);
        printf(" user_us=%.3f sys_us=%.3f total_us=%.3f utime_ticks=%llu stime_ticks=%llu "
               "cpu_util=%.3f",
               user_us, sys_us, run_us, (unsigned long long)(c1->utime - c0->utime),
               (unsigned long long)(c1->stime - c0->stime), util);
        /* CPU used by everything else on the machine: interference */
        if (mach.busy0 && mach.busy1 > mach.busy0) {
            double other = (double)(mach.busy1 - mach.busy0) - (double)(c1->run_ns - c0->run_ns) -
                           (double)(mach.self1 - mach.self0);
            double elapsed = (double)(t1 - t0);
            if (other < 0)
                other = 0;
            if (!opt.quiet)
                fprintf(stderr, "  other processes: %.0f%% of a core\n", 100 * other / elapsed);
            printf(" other_pct=%.0f", 100 * other / elapsed);
        }
    }
    printf("\n");
}

int main(int argc, char **argv)
{
    int ch;
    while ((ch = getopt(argc, argv, "m:f:p:d:r:w:n:b:t:e:P:qh")) != -1) {
        switch (ch) {
        case 'm': opt.mode = optarg; break;
        case 'f': opt.file = optarg; break;
        case 'p': opt.port = atoi(optarg); break;
        case 'd': opt.duration = atof(optarg); break;
        case 'r': opt.rate = atof(optarg); break;
        case 'w': opt.window = atoi(optarg); break;
        case 'n': opt.nsock = atoi(optarg); break;
        case 'b': opt.batch = atoi(optarg); break;
        case 't': opt.timeout_ms = atoi(optarg); break;
        case 'e': opt.edns = (uint16_t)atoi(optarg); break;
        case 'q': opt.quiet = 1; break;
        case 'P':
            if (opt.npids == MAX_PIDS) {
                fprintf(stderr, "dnsload: too many -P\n");
                return 2;
            }
            opt.pids[opt.npids++] = atoi(optarg);
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    int paced = strcmp(opt.mode, "rate") == 0, wait = strcmp(opt.mode, "wait") == 0;
    if (!opt.file || opt.port <= 0 || opt.port > 65535 || !(opt.duration > 0) ||
        opt.duration > 3600 || opt.nsock < 1 || opt.nsock > MAX_SOCKS || opt.batch < 1 ||
        opt.batch > MAX_BATCH || opt.window < 1 || opt.window > 60000 * opt.nsock ||
        opt.timeout_ms < 1 || opt.timeout_ms > 10000 || !(opt.rate > 0) ||
        (!paced && !wait && strcmp(opt.mode, "sat") != 0)) {
        usage(stderr);
        return 2;
    }
    if (paced && opt.window == 200)
        opt.window = 50000; /* paced: the window only bounds IDs in use */
    if (wait)
        opt.nsock = 1;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    srandom((unsigned)getpid());
    if (load_queries(opt.file) < 0 || bc_hist_init(&hist) < 0)
        return 1;
    if (open_socks() < 0) {
        fprintf(stderr, "dnsload: socket: %s\n", strerror(errno));
        return 1;
    }
    if (wait)
        return run_wait();
    bc_cpu c0, c1;
    int cpu_ok = cpu_sum(&c0) == 0;
    mach.busy0 = bc_machine_busy_ns();
    mach.self0 = self_cpu_ns();
    uint64_t t0, t1;
    run_load(paced, &t0, &t1);
    if (cpu_sum(&c1) < 0)
        cpu_ok = 0;
    mach.busy1 = bc_machine_busy_ns();
    mach.self1 = self_cpu_ns();
    if (!cpu_ok && opt.npids > 0) {
        fprintf(stderr, "dnsload: a -P process is gone: no CPU figures\n");
        opt.npids = 0;
    }
    report(paced, t0, t1, &c0, &c1);
    return 0;
}
