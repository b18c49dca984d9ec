/*
 * churn.c - registrations over zonekeeperd's socket protocol, for benchmarks.
 *
 *   churn hold  -s SOCK [-S 100] [-M 10] [-d SECONDS]
 *       Registers S services x M members, each member on its own connection
 *       ("REGISTER svcNN 10.0.S.M+1 8000+M id=mM"), prints "ready N" once
 *       every one is acknowledged, and keeps the connections (and so the
 *       members) until SIGTERM/SIGINT or -d seconds (default 600).
 *
 *   churn churn -s SOCK [-r 1000] [-d SECONDS] [-S 100] [-k 100]
 *       Performs -r registration changes per second for -d seconds (default
 *       10): a change is either a REGISTER on a new connection (a new member
 *       cK of service svc(K mod S)) or closing the oldest such connection,
 *       which removes its member. The first -k changes open connections;
 *       after that opens and closes alternate, so -k members come and go.
 *       A connection is closed only once its REGISTER was acknowledged
 *       (the change waits otherwise); -x closes it regardless, so that the
 *       close may race the server's reply. Reports the changes made, errors
 *       and REGISTER-to-OK latency.
 *       Changes arrive as a Poisson process (exponential gaps, mean 1/r,
 *       fixed seed), as independent clients' would; -u spaces them evenly.
 *       Evenly spaced changes at 1,000/s are in step with the kernel's
 *       250 Hz tick, and /proc/PID/stat's user/system split is sampled at
 *       that tick: the server's per-change work then falls at the same
 *       phase of every tick, and its user time per query swung between
 *       0.6 and 2.6 us from run to run depending on that phase.
 *
 * Every connection is non-blocking after its connect (a Unix socket connect
 * completes at once or fails); replies are read with poll(). Every loop is
 * bounded by the duration; the last output line is "RESULT key=value ...".
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "bcommon.h"

typedef struct conn {
    int fd;
    int acked;        /* 1 once OK arrived */
    int waited;       /* a close already waited for the OK */
    uint64_t sent_ns; /* when REGISTER was written */
    size_t rlen;
    char rbuf[256];
} conn;

static struct {
    const char *sock, *prefix;
    int services, members, keep, eager, uniform;
    double rate, duration;
} opt = {.prefix = "svc", .services = 100, .members = 10, .keep = 100, .rate = 1000};

static volatile sig_atomic_t stop_flag;
static bc_hist ack_hist;
static uint64_t n_ok, n_err, n_eof, n_connfail;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: churn hold  -s SOCK [-S SERVICES] [-M MEMBERS] [-d SECONDS] [-g PREFIX]\n"
               "       churn churn -s SOCK [-r CHANGES_PER_S] [-d SECONDS] [-S SERVICES]\n"
               "                   [-k LIVE] [-g PREFIX] [-x] [-u]\n");
}

/* The gap before the next change, in ns: 1/rate, or with the default
 * Poisson arrivals an exponential variate of that mean (xorshift64*). */
static double churn_gap_ns(uint64_t *state)
{
    double mean = 1e9 / opt.rate;
    if (opt.uniform)
        return mean;
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    double u = (double)((x * 0x2545f4914f6cdd1dull) >> 11) / 9007199254740992.0; /* [0,1) */
    return -log1p(-u) * mean;
}

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* Connects to the socket and writes one request line; returns 0 or -1. */
static int conn_open(conn *c, const char *line)
{
    memset(c, 0, sizeof(*c));
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", opt.sock);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        goto fail;
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    size_t len = strlen(line);
    c->sent_ns = bc_now_ns();
    if (write(c->fd, line, len) != (ssize_t)len)
        goto fail;
    return 0;
fail:
    close(c->fd);
    c->fd = -1;
    n_connfail++;
    return -1;
}

static void conn_close(conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

/* Reads what c has; counts the reply to its REGISTER. Returns -1 when the
 * server closed the connection. */
static int conn_read(conn *c)
{
    for (int rounds = 0; rounds < 16; rounds++) {
        ssize_t n = read(c->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - 1 - c->rlen);
        if (n == 0) {
            n_eof++;
            return -1;
        }
        if (n < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -1;
        c->rlen += (size_t)n;
        c->rbuf[c->rlen] = 0;
        char *nl;
        while ((nl = strchr(c->rbuf, '\n')) != NULL) {
            *nl = 0;
            if (strncmp(c->rbuf, "EVENT ", 6) != 0 && !c->acked) {
                c->acked = 1;
                if (strncmp(c->rbuf, "OK", 2) == 0) {
                    n_ok++;
                    bc_hist_add(&ack_hist, bc_now_ns() - c->sent_ns);
                } else {
                    n_err++;
                    if (n_err <= 5)
                        fprintf(stderr, "churn: reply: %s\n", c->rbuf);
                }
            }
            size_t rest = c->rlen - (size_t)(nl + 1 - c->rbuf);
            memmove(c->rbuf, nl + 1, rest);
            c->rlen = rest;
            c->rbuf[c->rlen] = 0;
        }
        if (c->rlen == sizeof(c->rbuf) - 1)
            c->rlen = 0; /* a line too long for us: not a reply we care about */
    }
    return 0;
}

/* Polls the connections in cs[0..n) (fd < 0 skipped) for up to wait_ns. */
static void poll_conns(conn *cs, size_t cap, size_t head, size_t n, struct pollfd *pf,
                       uint64_t wait_ns)
{
    size_t np = 0;
    for (size_t i = 0; i < n; i++) {
        conn *c = &cs[(head + i) % cap];
        if (c->fd >= 0)
            pf[np++] = (struct pollfd){.fd = c->fd, .events = POLLIN};
    }
    struct timespec ts = {(time_t)(wait_ns / 1000000000u), (long)(wait_ns % 1000000000u)};
    int r = ppoll(pf, (nfds_t)np, &ts, NULL);
    if (r <= 0)
        return;
    size_t k = 0;
    for (size_t i = 0; i < n && k < np; i++) {
        conn *c = &cs[(head + i) % cap];
        if (c->fd < 0)
            continue;
        if (pf[k].revents && conn_read(c) < 0)
            conn_close(c);
        k++;
    }
}

static void print_acks(const char *mode, double secs, uint64_t changes, uint64_t regs,
                       uint64_t closes)
{
    double p50 = bc_hist_pct(&ack_hist, 50), p99 = bc_hist_pct(&ack_hist, 99);
    fprintf(stderr,
            "churn %s: %.2f s, %llu changes (%.0f/s): %llu registers, %llu closes; "
            "ok %llu err %llu eof %llu connfail %llu; REGISTER->OK us p50 %.0f p99 %.0f "
            "max %.0f\n",
            mode, secs, (unsigned long long)changes, secs > 0 ? (double)changes / secs : 0,
            (unsigned long long)regs, (unsigned long long)closes, (unsigned long long)n_ok,
            (unsigned long long)n_err, (unsigned long long)n_eof,
            (unsigned long long)n_connfail, p50, p99, (double)ack_hist.max_ns / 1000);
    printf("RESULT mode=%s secs=%.3f changes=%llu rate=%.0f registers=%llu closes=%llu ok=%llu "
           "err=%llu eof=%llu connfail=%llu ack_p50_us=%.0f ack_p99_us=%.0f ack_max_us=%.0f\n",
           mode, secs, (unsigned long long)changes, secs > 0 ? (double)changes / secs : 0,
           (unsigned long long)regs, (unsigned long long)closes, (unsigned long long)n_ok,
           (unsigned long long)n_err, (unsigned long long)n_eof,
           (unsigned long long)n_connfail, p50, p99, (double)ack_hist.max_ns / 1000);
    fflush(stdout);
}

static int run_hold(void)
{
    size_t n = (size_t)opt.services * (size_t)opt.members;
    conn *cs = calloc(n, sizeof(*cs));
    struct pollfd *pf = calloc(n, sizeof(*pf));
    if (!cs || !pf)
        return 1;
    uint64_t start = bc_now_ns();
    uint64_t end = start + (uint64_t)(opt.duration * 1e9);
    for (size_t i = 0; i < n; i++) {
        int s = (int)(i / (size_t)opt.members), m = (int)(i % (size_t)opt.members);
        char line[160];
        snprintf(line, sizeof(line), "REGISTER %s%02d 10.0.%d.%d %d id=m%d\n", opt.prefix, s,
                 s, m + 1, 8000 + m, m);
        if (conn_open(&cs[i], line) < 0) {
            fprintf(stderr, "churn: connect %s: %s\n", opt.sock, strerror(errno));
            return 1;
        }
        /* keep the number of unanswered requests modest */
        while (i + 1 - (n_ok + n_err) > 64 && !stop_flag && bc_now_ns() < end)
            poll_conns(cs, n, 0, i + 1, pf, 10000000u);
    }
    while (n_ok + n_err < n && !stop_flag && bc_now_ns() < end) {
        uint64_t before = n_ok + n_err;
        poll_conns(cs, n, 0, n, pf, 100000000u);
        if (n_ok + n_err == before && bc_now_ns() - start > 30000000000ull)
            break;
    }
    double secs = (double)(bc_now_ns() - start) / 1e9;
    if (n_ok != n) {
        print_acks("hold", secs, n, n, 0);
        fprintf(stderr, "churn: only %llu of %zu registrations acknowledged\n",
                (unsigned long long)n_ok, n);
        return 1;
    }
    printf("ready %zu\n", n);
    print_acks("hold", secs, n, n, 0);
    while (!stop_flag && bc_now_ns() < end) {
        uint64_t left = end - bc_now_ns();
        poll_conns(cs, n, 0, n, pf, left < 200000000u ? left : 200000000u);
    }
    for (size_t i = 0; i < n; i++)
        conn_close(&cs[i]);
    return 0;
}

static int run_churn(void)
{
    size_t cap = (size_t)opt.keep * 2 + 256;
    conn *cs = calloc(cap, sizeof(*cs));
    struct pollfd *pf = calloc(cap, sizeof(*pf));
    if (!cs || !pf)
        return 1;
    size_t head = 0, count = 0;
    uint64_t changes = 0, regs = 0, closes = 0, deferred = 0;
    uint64_t start = bc_now_ns();
    uint64_t end = start + (uint64_t)(opt.duration * 1e9);
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    double next_at = 0; /* ns after start when the next change is due */
    for (;;) {
        uint64_t now = bc_now_ns();
        if (now >= end || stop_flag)
            break;
        for (int burst = 0; now >= start + (uint64_t)next_at && burst < 64; burst++) {
            if (count >= (size_t)opt.keep || count == cap) {
                /* close only what the server acknowledged, unless -x: a
                 * close racing its own REGISTER's reply is another test */
                if (!opt.eager && cs[head].fd >= 0 && !cs[head].acked) {
                    deferred += cs[head].waited ? 0 : 1;
                    cs[head].waited = 1;
                    break;
                }
                conn_close(&cs[head]);
                head = (head + 1) % cap;
                count--;
                closes++;
            } else {
                uint64_t k = regs;
                char line[160];
                snprintf(line, sizeof(line), "REGISTER %s%02d 10.1.%u.%u 9000 id=c%llu\n",
                         opt.prefix, (int)(k % (uint64_t)opt.services),
                         (unsigned)((k / 256) % 256), (unsigned)(k % 256),
                         (unsigned long long)k);
                conn *c = &cs[(head + count) % cap];
                if (conn_open(c, line) < 0) {
                    if (n_connfail <= 3)
                        fprintf(stderr, "churn: connect %s: %s\n", opt.sock, strerror(errno));
                    if (n_connfail > 100)
                        goto done;
                }
                count++;
                regs++;
            }
            changes++;
            next_at += churn_gap_ns(&rng);
        }
        now = bc_now_ns();
        uint64_t at = start + (uint64_t)next_at;
        uint64_t wait = at > now ? at - now : 0;
        poll_conns(cs, cap, head, count, pf, wait < 1000000 ? wait : 1000000);
    }
done:;
    double secs = (double)(bc_now_ns() - start) / 1e9;
    /* collect the replies still on the way, briefly */
    uint64_t until = bc_now_ns() + 200000000u;
    while (n_ok + n_err + n_eof < regs - n_connfail && bc_now_ns() < until)
        poll_conns(cs, cap, head, count, pf, 10000000u);
    for (size_t i = 0; i < count; i++)
        conn_close(&cs[(head + i) % cap]);
    if (deferred)
        fprintf(stderr, "churn: %llu closes waited for their REGISTER's reply\n",
                (unsigned long long)deferred);
    print_acks("churn", secs, changes, regs, closes);
    return n_err || n_connfail ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *mode = argv[1];
    int ch;
    optind = 2;
    while ((ch = getopt(argc, argv, "s:S:M:k:r:d:g:xuh")) != -1) {
        switch (ch) {
        case 's': opt.sock = optarg; break;
        case 'S': opt.services = atoi(optarg); break;
        case 'M': opt.members = atoi(optarg); break;
        case 'k': opt.keep = atoi(optarg); break;
        case 'r': opt.rate = atof(optarg); break;
        case 'd': opt.duration = atof(optarg); break;
        case 'g': opt.prefix = optarg; break;
        case 'x': opt.eager = 1; break;
        case 'u': opt.uniform = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    int hold = strcmp(mode, "hold") == 0;
    if (opt.duration == 0)
        opt.duration = hold ? 600 : 10;
    if (!opt.sock || (!hold && strcmp(mode, "churn") != 0) || opt.services < 1 ||
        opt.services > 10000 || opt.members < 1 || opt.members > 1000 || opt.keep < 1 ||
        opt.keep > 100000 || !(opt.rate > 0) || opt.rate > 1e6 || !(opt.duration > 0) ||
        opt.duration > 86400) {
        usage(stderr);
        return 2;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();
    if (bc_hist_init(&ack_hist) < 0)
        return 1;
    setvbuf(stdout, NULL, _IOLBF, 0);
    return hold ? run_hold() : run_churn();
}
