/*
 * freshness.c - how soon zonekeeperd's DNS reflects a registration and its
 * end.
 *
 *   freshness -s SOCK -p DNSPORT [-n ROUNDS] [-d MAX_SECONDS] [-g SERVICE]
 *
 * Each round: connect to the socket, send "REGISTER fresh 10.250.X.Y 7000
 * id=fN", and wait for its OK. From the moment the OK is read, query DNS on
 * 127.0.0.1 back to back (one query in flight), rotating through the three
 * names that list the member: SRV at _fresh._tcp.zk (target fN.fresh.zk),
 * A at fresh.zk (address 10.250.X.Y) and A at fN.fresh.zk. The first answer
 * that lists the member ends the phase; its arrival minus the OK's is the
 * "register" delay, and every answer before it is stale (the spec allows
 * none). Then close the connection and query the same way until an answer
 * no longer lists the member: the "close" delay runs from close(); answers
 * that still list it are counted as lagging (there is no acknowledgement of
 * a close, so a query can race the server's noticing it).
 *
 * Each phase gives up after 2 s; the whole run after -d seconds (default
 * 60). The last output line is "RESULT key=value ...".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "bcommon.h"

static struct {
    const char *sock, *service;
    int port, rounds;
    double duration;
} opt = {.service = "fresh", .rounds = 2000, .duration = 60};

static int dns_fd;
static uint16_t next_id = 1;
static uint64_t n_timeouts;
static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

typedef struct want {
    char target[256]; /* SRV target, lowercase, no final dot */
    uint8_t addr[4];
    int found;
} want;

static void check_rr(void *ctx, const uint8_t *m, size_t len, int type, size_t rd, size_t rdlen)
{
    want *w = ctx;
    if (type == BC_T_A && rdlen == 4 && memcmp(m + rd, w->addr, 4) == 0)
        w->found = 1;
    if (type == BC_T_SRV && rdlen > 6) {
        char name[300];
        if (bc_name_text(m, len, rd + 6, name, sizeof(name)) == 0 &&
            strcmp(name, w->target) == 0)
            w->found = 1;
    }
}

/* Sends one query and waits for its answer. Returns 1 if the answer lists
 * the member, 0 if not, -1 on timeout (after 3 tries of 200 ms). */
static int probe(const char *name, int type, want *w)
{
    uint8_t q[600], a[4096];
    size_t qsec;
    int qlen = bc_query_encode(name, type, 1232, q, &qsec);
    if (qlen < 0)
        return -1;
    for (int attempt = 0; attempt < 3; attempt++) {
        uint16_t id = next_id++;
        q[0] = (uint8_t)(id >> 8);
        q[1] = (uint8_t)id;
        if (send(dns_fd, q, (size_t)qlen, 0) < 0)
            return -1;
        uint64_t until = bc_now_ns() + 200000000u;
        for (;;) {
            uint64_t now = bc_now_ns();
            if (now >= until)
                break;
            struct pollfd pf = {.fd = dns_fd, .events = POLLIN};
            if (poll(&pf, 1, (int)((until - now) / 1000000u) + 1) <= 0)
                continue;
            ssize_t n = recv(dns_fd, a, sizeof(a), 0);
            if (n < 12 || bc_get16(a) != id || !(a[2] & 0x80) ||
                (size_t)n < 12 + qsec || memcmp(a + 12, q + 12, qsec) != 0)
                continue; /* late or foreign: keep waiting */
            w->found = 0;
            if (bc_answers(a, (size_t)n, check_rr, w) < 0)
                return 0;
            return w->found;
        }
        n_timeouts++;
    }
    return -1;
}

typedef struct phase {
    bc_hist delay;
    uint64_t rounds, wrong, gave_up, probes;
    uint64_t inconsistent; /* a later answer for another name disagreed */
} phase;

/* Queries until the answer says `listed` (1 or 0). Returns the delay from
 * t0 in ns, or 0 after 2 s; ph->wrong counts answers that said otherwise
 * before, ph->inconsistent answers for the other two names that say
 * otherwise right after. */
static uint64_t until_listed(int listed, uint64_t t0, const char *names[3], want *w,
                             phase *ph)
{
    static const int types[3] = {BC_T_SRV, BC_T_A, BC_T_A};
    for (int k = 0; k < 100000; k++) {
        int r = probe(names[k % 3], types[k % 3], w);
        uint64_t now = bc_now_ns();
        ph->probes++;
        if (r == listed) {
            /* the other two names must agree from now on */
            for (int j = 1; j < 3; j++) {
                int r2 = probe(names[(k + j) % 3], types[(k + j) % 3], w);
                ph->probes++;
                if (r2 >= 0 && r2 != listed)
                    ph->inconsistent++;
            }
            return now - t0 > 0 ? now - t0 : 1;
        }
        if (r >= 0)
            ph->wrong++;
        if (now - t0 > 2000000000u || stop_flag)
            break;
    }
    ph->gave_up++;
    return 0;
}

static int read_line(int fd, char *buf, size_t cap, int timeout_ms)
{
    size_t n = 0;
    uint64_t until = bc_now_ns() + (uint64_t)timeout_ms * 1000000u;
    while (n + 1 < cap) {
        uint64_t now = bc_now_ns();
        if (now >= until)
            return -1;
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, (int)((until - now) / 1000000u) + 1) <= 0)
            continue;
        ssize_t r = read(fd, buf + n, 1);
        if (r <= 0)
            return -1;
        if (buf[n] == '\n') {
            buf[n] = 0;
            if (strncmp(buf, "EVENT ", 6) == 0) {
                n = 0;
                continue;
            }
            return (int)n;
        }
        n++;
    }
    return -1;
}

static void print_phase(const char *label, const phase *ph)
{
    fprintf(stderr, "  %-8s rounds %llu: p50 %.1f us, p99 %.1f us, max %.1f us; %s %llu; "
            "inconsistent %llu; gave up %llu; probes %llu\n",
            label, (unsigned long long)ph->rounds, bc_hist_pct(&ph->delay, 50),
            bc_hist_pct(&ph->delay, 99), (double)ph->delay.max_ns / 1000,
            strcmp(label, "register") == 0 ? "stale" : "lagging",
            (unsigned long long)ph->wrong, (unsigned long long)ph->inconsistent,
            (unsigned long long)ph->gave_up,
            (unsigned long long)ph->probes);
}

static void print_result(const char *p, const phase *ph, const char *wrong)
{
    printf(" %s_p50_us=%.1f %s_p99_us=%.1f %s_max_us=%.1f %s_%s=%llu %s_inconsistent=%llu"
           " %s_gaveup=%llu",
           p, bc_hist_pct(&ph->delay, 50), p, bc_hist_pct(&ph->delay, 99), p,
           (double)ph->delay.max_ns / 1000, p, wrong, (unsigned long long)ph->wrong, p,
           (unsigned long long)ph->inconsistent, p, (unsigned long long)ph->gave_up);
}

int main(int argc, char **argv)
{
    int ch;
    while ((ch = getopt(argc, argv, "s:p:n:d:g:h")) != -1) {
        switch (ch) {
        case 's': opt.sock = optarg; break;
        case 'p': opt.port = atoi(optarg); break;
        case 'n': opt.rounds = atoi(optarg); break;
        case 'd': opt.duration = atof(optarg); break;
        case 'g': opt.service = optarg; break;
        default:
            fprintf(stderr, "usage: freshness -s SOCK -p DNSPORT [-n ROUNDS] [-d MAX_SECONDS]"
                            " [-g SERVICE]\n");
            return ch == 'h' ? 0 : 2;
        }
    }
    if (!opt.sock || opt.port <= 0 || opt.port > 65535 || opt.rounds < 1 ||
        opt.rounds > 1000000 || !(opt.duration > 0) || opt.duration > 3600) {
        fprintf(stderr, "freshness: bad arguments (-h)\n");
        return 2;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    dns_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (dns_fd < 0 || connect(dns_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        perror("freshness: dns socket");
        return 1;
    }
    phase reg = {0}, gone = {0};
    bc_hist ack;
    if (bc_hist_init(&reg.delay) < 0 || bc_hist_init(&gone.delay) < 0 || bc_hist_init(&ack) < 0)
        return 1;
    uint64_t start = bc_now_ns(), end = start + (uint64_t)(opt.duration * 1e9);
    uint64_t errors = 0;
    int round;
    for (round = 0; round < opt.rounds && !stop_flag && bc_now_ns() < end; round++) {
        char n_srv[300], n_grp[300], n_mem[300], line[512];
        snprintf(n_srv, sizeof(n_srv), "_%s._tcp.zk", opt.service);
        snprintf(n_grp, sizeof(n_grp), "%s.zk", opt.service);
        snprintf(n_mem, sizeof(n_mem), "f%d.%s.zk", round, opt.service);
        const char *names[3] = {n_srv, n_grp, n_mem};
        want w = {.addr = {10, 250, (uint8_t)(round / 250 % 250), (uint8_t)(round % 250 + 1)}};
        snprintf(w.target, sizeof(w.target), "f%d.%s.zk", round, opt.service);

        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un ua = {.sun_family = AF_UNIX};
        snprintf(ua.sun_path, sizeof(ua.sun_path), "%s", opt.sock);
        if (fd < 0 || connect(fd, (struct sockaddr *)&ua, sizeof(ua)) < 0) {
            perror("freshness: connect");
            return 1;
        }
        snprintf(line, sizeof(line), "REGISTER %s %u.%u.%u.%u 7000 id=f%d\n", opt.service,
                 w.addr[0], w.addr[1], w.addr[2], w.addr[3], round);
        uint64_t t_w = bc_now_ns();
        if (write(fd, line, strlen(line)) < 0 || read_line(fd, line, sizeof(line), 5000) < 0 ||
            strncmp(line, "OK", 2) != 0) {
            fprintf(stderr, "freshness: round %d: REGISTER failed: %s\n", round,
                    line[0] ? line : "no reply");
            close(fd);
            if (++errors > 5)
                break;
            continue;
        }
        uint64_t t_ok = bc_now_ns();
        bc_hist_add(&ack, t_ok - t_w);
        uint64_t d = until_listed(1, t_ok, names, &w, &reg);
        reg.rounds++;
        if (d)
            bc_hist_add(&reg.delay, d);
        uint64_t t_c = bc_now_ns();
        close(fd);
        d = until_listed(0, t_c, names, &w, &gone);
        gone.rounds++;
        if (d)
            bc_hist_add(&gone.delay, d);
    }
    double secs = (double)(bc_now_ns() - start) / 1e9;
    fprintf(stderr, "freshness: %d rounds in %.2f s (REGISTER->OK p50 %.0f us p99 %.0f us);"
            " dns timeouts %llu; register errors %llu\n",
            round, secs, bc_hist_pct(&ack, 50), bc_hist_pct(&ack, 99),
            (unsigned long long)n_timeouts, (unsigned long long)errors);
    print_phase("register", &reg);
    print_phase("close", &gone);
    printf("RESULT rounds=%d secs=%.2f ack_p50_us=%.1f ack_p99_us=%.1f", round, secs,
           bc_hist_pct(&ack, 50), bc_hist_pct(&ack, 99));
    print_result("reg", &reg, "stale");
    print_result("close", &gone, "lagging");
    printf(" dns_timeouts=%llu errors=%llu\n", (unsigned long long)n_timeouts,
           (unsigned long long)errors);
    int bad = reg.wrong || reg.inconsistent || gone.inconsistent || reg.gave_up ||
              gone.gave_up || errors;
    return bad ? 1 : 0;
}
