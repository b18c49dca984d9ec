/*
 * zkload.c - a ZooKeeper load generator on libzookeeper_mt's asynchronous
 * API, for bench/zk (zonekeeperd's ZooKeeper protocol against Apache
 * ZooKeeper).
 *
 *   zkload prep -s HOST:PORT [-r ROOT] [-k KEYS] [-K KIDS]
 *       creates ROOT, ROOT/r/n-0..KEYS-1 (the nodes getData, setData and
 *       exists use), ROOT/kids with KIDS children (getChildren) and ROOT/c
 *       (the parent of the creates); existing nodes are left as they are.
 *   zkload run -s HOST:PORT -o create,get,set,children,exists,delete
 *              [-w WINDOW] [-c CONNS] [-d SECS] [-n COUNT] [-t TAG] [-P PID]
 *       runs each op in turn, keeping WINDOW requests outstanding on each of
 *       CONNS connections, for SECS seconds or COUNT requests per op,
 *       whichever comes first. create makes ROOT/c/TAG-CONN-I (-b bytes of
 *       data each); delete removes exactly the nodes that create made.
 *   zkload fill -s HOST:PORT -n COUNT [-w WINDOW] [-c CONNS] [-r ROOT]
 *       creates ROOT and COUNT children ROOT/nNNNNNNN of -b bytes (the
 *       memory test), bounded by -d seconds (default 600).
 *
 * Every op prints one line:
 *   RESULT op=get window=128 conns=1 ops=N errors=E secs=S ops_s=R
 *          p50_us=.. p90_us=.. p99_us=.. p999_us=.. max_us=.. over_5ms=..
 *          cpu_pct=.. cpu_us_op=.. [srv_cpu_pct=.. srv_us_op=..]
 * over_5ms counts the requests slower than 5 ms (a pause longer than the
 * snapshot target of bench/persist), to bucket precision (about 3%).
 * cpu_* is this process's own CPU (getrusage: every thread, the library's
 * I/O and completion threads included) during that op, so a client that is
 * itself the limit shows up as cpu_pct near 100 x its usable CPUs. srv_* is
 * the CPU of process PID (-P, from /proc/PID/stat) during the same interval.
 * With -T MS, a line "TICK op=.. t_ms=.. wall_ms=.. ops=.. max_us=.." goes
 * to stderr every MS milliseconds: requests completed and the worst latency
 * in that interval, to place stalls in time (wall_ms: CLOCK_REALTIME, to
 * match against other processes' logs).
 *
 * The latency of a request is from just before the zoo_a* call to the start
 * of its completion (CLOCK_MONOTONIC), into a log-linear histogram (32
 * sub-buckets per power of two: about 3% resolution).
 *
 * Exit status: 0 when every request succeeded, 1 when some failed (the
 * RESULT lines still say how many), 2 on usage errors or when the server
 * could not be reached or stopped answering.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <zookeeper/zookeeper.h>

#include "bcommon.h"

#define MAX_CONNS 64
#define MAX_WINDOW 4096
#define MAX_DATA 4096
#define PATH_MAX_LEN 256

/* ---- time ---------------------------------------------------------------- */

static double cpu_secs(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* utime + stime of process pid in seconds (every thread, exited ones
 * included), or -1. */
static double proc_cpu_secs(long pid)
{
    bc_cpu cpu;
    if (bc_cpu_read((int)pid, &cpu) < 0)
        return -1;
    return (double)(cpu.utime + cpu.stime) / (double)sysconf(_SC_CLK_TCK);
}

/* ---- latency histogram --------------------------------------------------- */

#define H_SUB_BITS 5
#define H_SUB (1u << H_SUB_BITS)
#define H_BUCKETS (2 * H_SUB + 58 * H_SUB)

typedef struct hist {
    uint64_t n, max;
    uint64_t b[H_BUCKETS];
} hist;

static unsigned h_index(uint64_t v)
{
    if (v < 2 * H_SUB)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= H_SUB_BITS + 1 */
    unsigned sub = (unsigned)(v >> (e - H_SUB_BITS)) & (H_SUB - 1);
    unsigned i = 2 * H_SUB + (e - H_SUB_BITS - 1) * H_SUB + sub;
    return i < H_BUCKETS ? i : H_BUCKETS - 1;
}

/* the middle of bucket i */
static uint64_t h_value(unsigned i)
{
    if (i < 2 * H_SUB)
        return i;
    unsigned e = (i - 2 * H_SUB) / H_SUB + H_SUB_BITS + 1;
    uint64_t sub = (i - 2 * H_SUB) % H_SUB;
    uint64_t lo = ((uint64_t)H_SUB + sub) << (e - H_SUB_BITS);
    return lo + ((uint64_t)1 << (e - H_SUB_BITS)) / 2;
}

static void h_add(hist *h, uint64_t v)
{
    h->b[h_index(v)]++;
    h->n++;
    if (v > h->max)
        h->max = v;
}

static void h_merge(hist *into, const hist *h)
{
    for (unsigned i = 0; i < H_BUCKETS; i++)
        into->b[i] += h->b[i];
    into->n += h->n;
    if (h->max > into->max)
        into->max = h->max;
}

/* Samples above v (to bucket precision, about 3%). */
static uint64_t h_over(const hist *h, uint64_t v)
{
    uint64_t n = 0;
    for (unsigned i = h_index(v) + 1; i < H_BUCKETS; i++)
        n += h->b[i];
    return n;
}

static uint64_t h_pct(const hist *h, double pct)
{
    if (h->n == 0)
        return 0;
    uint64_t want = (uint64_t)((double)h->n * pct / 100.0 + 0.5);
    if (want < 1)
        want = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < H_BUCKETS; i++) {
        seen += h->b[i];
        if (seen >= want) {
            uint64_t v = h_value(i);
            return v < h->max ? v : h->max;
        }
    }
    return h->max;
}

/* ---- ops, connections, slots --------------------------------------------- */

enum op { OP_CREATE, OP_GET, OP_SET, OP_CHILDREN, OP_EXISTS, OP_DELETE, OP_MKKEY, OP_MKKID, OP_FILL };
static const char *const op_names[] = {"create", "get", "set", "children", "exists", "delete", "mkkey", "mkkid", "fill"};

struct conn;

typedef struct slot {
    struct conn *c;
    uint64_t t0;
} slot;

typedef struct conn {
    int id;
    zhandle_t *zh;
    pthread_mutex_t mu; /* guards state/connected for the session watcher */
    pthread_cond_t cv;
    int state;
    /* per-op, reset by run_op */
    atomic_ullong next;  /* next request index on this connection */
    uint64_t limit;      /* no index at or above this is issued */
    uint64_t base;       /* fill: first global index of this connection */
    atomic_int inflight; /* slots with a request out */
    atomic_ullong errors;
    atomic_ullong ok;
    atomic_bool broken;  /* connection lost: issue nothing more */
    atomic_ullong imax;  /* -T: the largest latency since the last tick */
    hist h;              /* written only by this handle's completion thread */
    uint64_t created;    /* create: indexes below this were attempted */
    slot slots[MAX_WINDOW];
} conn;

static struct {
    const char *host;
    const char *root;
    const char *tag;
    int window, nconns, keys, kids, bytes, quiet, tick_ms;
    int64_t ttl_ms; /* fill: TTL nodes with this TTL; 0: persistent ones */
    double secs;
    uint64_t count;
    long srv_pid;
    enum op op;
    uint64_t deadline;
    char data[MAX_DATA];
    conn *conns[MAX_CONNS];
    pthread_mutex_t done_mu;
    pthread_cond_t done_cv;
    atomic_int active; /* connections with requests in flight */
    atomic_ullong first_err_rc;
    atomic_int first_err_set;
} G = {
    .root = "/zkbench",
    .tag = "t",
    .window = 128,
    .nconns = 1,
    .keys = 10000,
    .kids = 100,
    .bytes = 100,
    .secs = 3,
    .done_mu = PTHREAD_MUTEX_INITIALIZER,
    .done_cv = PTHREAD_COND_INITIALIZER,
};

static void note_error(int rc)
{
    int expect = 0;
    if (atomic_compare_exchange_strong(&G.first_err_set, &expect, 1))
        atomic_store(&G.first_err_rc, (unsigned long long)(long long)rc);
}

static void path_of(const conn *c, uint64_t i, char *p, size_t n)
{
    switch (G.op) {
    case OP_CREATE:
    case OP_DELETE:
        snprintf(p, n, "%s/c/%s-%d-%" PRIu64, G.root, G.tag, c->id, i);
        break;
    case OP_GET:
    case OP_SET:
    case OP_EXISTS:
        /* each connection walks the keys from its own offset */
        snprintf(p, n, "%s/r/n-%" PRIu64, G.root, (i + (uint64_t)c->id * 7919u) % (uint64_t)G.keys);
        break;
    case OP_CHILDREN:
        snprintf(p, n, "%s/kids", G.root);
        break;
    case OP_MKKEY:
        snprintf(p, n, "%s/r/n-%" PRIu64, G.root, i);
        break;
    case OP_MKKID:
        snprintf(p, n, "%s/kids/k-%" PRIu64, G.root, i);
        break;
    case OP_FILL:
        snprintf(p, n, "%s/n%07" PRIu64, G.root, c->base + i);
        break;
    }
}

static void slot_done(conn *c)
{
    if (atomic_fetch_sub(&c->inflight, 1) == 1) {
        pthread_mutex_lock(&G.done_mu);
        atomic_fetch_sub(&G.active, 1);
        pthread_cond_broadcast(&G.done_cv);
        pthread_mutex_unlock(&G.done_mu);
    }
}

static void issue(slot *s);

static void complete(slot *s, int rc)
{
    conn *c = s->c;
    uint64_t t = bc_now_ns();
    h_add(&c->h, t - s->t0);
    if (G.tick_ms && t - s->t0 > atomic_load_explicit(&c->imax, memory_order_relaxed))
        atomic_store_explicit(&c->imax, t - s->t0, memory_order_relaxed);
    bool ok = rc == ZOK || ((G.op == OP_MKKEY || G.op == OP_MKKID) && rc == ZNODEEXISTS);
    if (ok) {
        atomic_fetch_add(&c->ok, 1);
    } else {
        atomic_fetch_add(&c->errors, 1);
        note_error(rc);
        if (rc == ZCONNECTIONLOSS || rc == ZSESSIONEXPIRED || rc == ZCLOSING || rc == ZOPERATIONTIMEOUT)
            atomic_store(&c->broken, true);
    }
    issue(s);
}

static void cb_string(int rc, const char *v, const void *d)
{
    (void)v;
    complete((slot *)d, rc);
}
static void cb_data(int rc, const char *v, int n, const struct Stat *st, const void *d)
{
    (void)v;
    (void)n;
    (void)st;
    complete((slot *)d, rc);
}
static void cb_stat(int rc, const struct Stat *st, const void *d)
{
    (void)st;
    /* exists on a node that is not there is ZNONODE: it is not. */
    complete((slot *)d, rc);
}
static void cb_strings(int rc, const struct String_vector *v, const void *d)
{
    (void)v;
    complete((slot *)d, rc);
}
static void cb_void(int rc, const void *d)
{
    complete((slot *)d, rc);
}

/* Sends the slot's next request, or retires the slot when the op is over. */
static void issue(slot *s)
{
    conn *c = s->c;
    for (;;) {
        if (atomic_load(&c->broken)) {
            slot_done(c);
            return;
        }
        /* the deadline before taking an index, so that every index taken
         * below the limit is sent: create's count is then exact */
        if (bc_now_ns() >= G.deadline) {
            slot_done(c);
            return;
        }
        uint64_t i = atomic_fetch_add(&c->next, 1);
        if (i >= c->limit) {
            slot_done(c);
            return;
        }
        char p[PATH_MAX_LEN];
        path_of(c, i, p, sizeof(p));
        int rc;
        s->t0 = bc_now_ns();
        switch (G.op) {
        case OP_FILL:
            if (G.ttl_ms > 0) {
                rc = zoo_acreate_ttl(c->zh, p, G.data, G.bytes, &ZOO_OPEN_ACL_UNSAFE,
                                     ZOO_PERSISTENT_WITH_TTL, G.ttl_ms, cb_string, s);
                break;
            }
            /* fall through */
        case OP_CREATE:
        case OP_MKKEY:
            rc = zoo_acreate(c->zh, p, G.data, G.bytes, &ZOO_OPEN_ACL_UNSAFE, 0, cb_string, s);
            break;
        case OP_MKKID:
            rc = zoo_acreate(c->zh, p, "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, cb_string, s);
            break;
        case OP_GET:
            rc = zoo_aget(c->zh, p, 0, cb_data, s);
            break;
        case OP_SET:
            rc = zoo_aset(c->zh, p, G.data, G.bytes, -1, cb_stat, s);
            break;
        case OP_EXISTS:
            rc = zoo_aexists(c->zh, p, 0, cb_stat, s);
            break;
        case OP_CHILDREN:
            rc = zoo_aget_children(c->zh, p, 0, cb_strings, s);
            break;
        case OP_DELETE:
            rc = zoo_adelete(c->zh, p, -1, cb_void, s);
            break;
        default:
            rc = ZBADARGUMENTS;
        }
        if (rc == ZOK)
            return;
        /* refused before it was sent: no completion will come */
        atomic_fetch_add(&c->errors, 1);
        note_error(rc);
        atomic_store(&c->broken, true);
    }
}

/* ---- sessions ------------------------------------------------------------ */

static void watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    (void)zh;
    (void)path;
    conn *c = ctx;
    if (type != ZOO_SESSION_EVENT || !c)
        return;
    pthread_mutex_lock(&c->mu);
    c->state = state;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    if (state != ZOO_CONNECTED_STATE && state != ZOO_CONNECTING_STATE && state != ZOO_ASSOCIATING_STATE)
        atomic_store(&c->broken, true);
}

static conn *conn_open(int id, double timeout_s)
{
    conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->id = id;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->zh = zookeeper_init(G.host, watcher, 30000, NULL, c, 0);
    if (!c->zh) {
        fprintf(stderr, "zkload: zookeeper_init(%s): %s\n", G.host, strerror(errno));
        free(c);
        return NULL;
    }
    /* By default the client resolves the host string again each time its
     * I/O thread computes its interest (getaddrinfo on every wake-up: a
     * quarter of this program's CPU). The address is a fixed loopback one. */
    zoo_set_servers_resolution_delay(c->zh, -1);
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += (time_t)timeout_s;
    pthread_mutex_lock(&c->mu);
    while (c->state != ZOO_CONNECTED_STATE) {
        if (c->state == ZOO_EXPIRED_SESSION_STATE || c->state == ZOO_AUTH_FAILED_STATE)
            break;
        if (pthread_cond_timedwait(&c->cv, &c->mu, &dl) == ETIMEDOUT)
            break;
    }
    int st = c->state;
    pthread_mutex_unlock(&c->mu);
    if (st != ZOO_CONNECTED_STATE) {
        fprintf(stderr, "zkload: no session with %s within %.0f s (state %d)\n", G.host, timeout_s, st);
        zookeeper_close(c->zh);
        free(c);
        return NULL;
    }
    return c;
}

/* ---- one op on every connection ----------------------------------------- */

typedef struct result {
    uint64_t ok, errors;
    double secs;
    hist h;
} result;

/* Runs G.op with per-connection limits already set in conns[i]->limit.
 * Returns 0, or -1 when requests were still outstanding long after the
 * deadline (the server stopped answering). */
static int run_op(result *r, double secs)
{
    int n = G.nconns;
    memset(r, 0, sizeof(*r));
    for (int i = 0; i < n; i++) {
        conn *c = G.conns[i];
        atomic_store(&c->next, 0);
        atomic_store(&c->errors, 0);
        atomic_store(&c->ok, 0);
        memset(&c->h, 0, sizeof(c->h));
        atomic_store(&c->inflight, G.window);
    }
    atomic_store(&G.active, n);
    uint64_t t0 = bc_now_ns();
    G.deadline = t0 + (uint64_t)(secs * 1e9);
    for (int s = 0; s < G.window; s++)
        for (int i = 0; i < n; i++) {
            conn *c = G.conns[i];
            c->slots[s].c = c;
            issue(&c->slots[s]);
        }
    /* requests still out 30 s after the deadline: the server is stuck */
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += (time_t)secs + 30;
    int stuck = 0;
    uint64_t last_ops = 0, next_tick = t0 + (uint64_t)G.tick_ms * 1000000u;
    pthread_mutex_lock(&G.done_mu);
    while (atomic_load(&G.active) > 0) {
        struct timespec until = dl;
        if (G.tick_ms) { /* wake at the next tick instead, if sooner */
            struct timespec rt;
            clock_gettime(CLOCK_REALTIME, &rt);
            uint64_t now = bc_now_ns(), wait = next_tick > now ? next_tick - now : 0;
            uint64_t ns = (uint64_t)rt.tv_nsec + wait;
            struct timespec tk = {rt.tv_sec + (time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
            if (tk.tv_sec < dl.tv_sec || (tk.tv_sec == dl.tv_sec && tk.tv_nsec < dl.tv_nsec))
                until = tk;
        }
        int w = pthread_cond_timedwait(&G.done_cv, &G.done_mu, &until);
        if (G.tick_ms && bc_now_ns() >= next_tick) {
            /* -T: one line per tick: requests completed and the worst latency */
            uint64_t ops = 0, mx = 0;
            for (int i = 0; i < n; i++) {
                conn *c = G.conns[i];
                ops += atomic_load(&c->ok) + atomic_load(&c->errors);
                uint64_t m = atomic_exchange(&c->imax, 0);
                mx = m > mx ? m : mx;
            }
            struct timespec wall;
            clock_gettime(CLOCK_REALTIME, &wall);
            fprintf(stderr, "TICK op=%s t_ms=%.0f wall_ms=%.0f ops=%" PRIu64 " max_us=%.0f\n",
                    op_names[G.op], (double)(bc_now_ns() - t0) / 1e6,
                    (double)wall.tv_sec * 1e3 + (double)wall.tv_nsec / 1e6, ops - last_ops,
                    (double)mx / 1e3);
            last_ops = ops;
            next_tick += (uint64_t)G.tick_ms * 1000000u;
        }
        if (w == ETIMEDOUT) {
            struct timespec rt;
            clock_gettime(CLOCK_REALTIME, &rt);
            if (rt.tv_sec > dl.tv_sec || (rt.tv_sec == dl.tv_sec && rt.tv_nsec >= dl.tv_nsec)) {
                stuck = 1;
                break;
            }
        }
    }
    pthread_mutex_unlock(&G.done_mu);
    uint64_t t1 = bc_now_ns();
    r->secs = (double)(t1 - t0) / 1e9;
    if (stuck) {
        fprintf(stderr, "zkload: %s: requests still outstanding 30 s after the end; giving up\n", op_names[G.op]);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        conn *c = G.conns[i];
        r->ok += atomic_load(&c->ok);
        r->errors += atomic_load(&c->errors);
        h_merge(&r->h, &c->h);
        if (G.op == OP_CREATE) {
            uint64_t nx = atomic_load(&c->next);
            c->created = nx < c->limit ? nx : c->limit;
        }
    }
    return 0;
}

static void print_result(const char *name, const result *r, double cpu, double srv_cpu)
{
    uint64_t tot = r->ok + r->errors;
    double rate = r->secs > 0 ? (double)tot / r->secs : 0;
    printf("RESULT op=%s window=%d conns=%d ops=%" PRIu64 " errors=%" PRIu64 " secs=%.3f ops_s=%.0f"
           " p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f over_5ms=%" PRIu64
           " cpu_pct=%.0f cpu_us_op=%.2f",
           name, G.window, G.nconns, tot, r->errors, r->secs, rate, h_pct(&r->h, 50) / 1e3,
           h_pct(&r->h, 90) / 1e3, h_pct(&r->h, 99) / 1e3, h_pct(&r->h, 99.9) / 1e3,
           r->h.max / 1e3, h_over(&r->h, 5000000),
           r->secs > 0 ? 100.0 * cpu / r->secs : 0, tot ? cpu * 1e6 / (double)tot : 0);
    if (srv_cpu >= 0)
        printf(" srv_cpu_pct=%.0f srv_us_op=%.2f", r->secs > 0 ? 100.0 * srv_cpu / r->secs : 0,
               tot ? srv_cpu * 1e6 / (double)tot : 0);
    if (r->errors) {
        int rc = (int)(long long)atomic_load(&G.first_err_rc);
        printf(" first_error=%s", zerror(rc));
    }
    printf("\n");
    fflush(stdout);
}

/* Runs op with `limit(i)` requests on connection i, prints its RESULT line.
 * Returns 0 (all ok), 1 (some failed), 2 (stuck or every connection lost). */
static int measure(enum op op, double secs, uint64_t per_conn_limit, const uint64_t *limits)
{
    G.op = op;
    atomic_store(&G.first_err_set, 0);
    for (int i = 0; i < G.nconns; i++)
        G.conns[i]->limit = limits ? limits[i] : per_conn_limit;
    result r;
    double s0 = G.srv_pid > 0 ? proc_cpu_secs(G.srv_pid) : -1;
    double c0 = cpu_secs();
    if (run_op(&r, secs) < 0)
        return 2;
    double c1 = cpu_secs();
    double s1 = G.srv_pid > 0 ? proc_cpu_secs(G.srv_pid) : -1;
    if (!G.quiet)
        print_result(op_names[op], &r, c1 - c0, s0 >= 0 && s1 >= 0 ? s1 - s0 : -1);
    int lost = 0;
    for (int i = 0; i < G.nconns; i++)
        lost += atomic_load(&G.conns[i]->broken);
    if (lost == G.nconns)
        return 2;
    return r.errors ? 1 : 0;
}

/* ---- setup helpers ------------------------------------------------------- */

static int mk_sync(zhandle_t *zh, const char *path)
{
    int rc = zoo_create(zh, path, "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
    if (rc != ZOK && rc != ZNODEEXISTS) {
        fprintf(stderr, "zkload: create %s: %s\n", path, zerror(rc));
        return -1;
    }
    return 0;
}

static int parse_ops(const char *s, enum op *ops, int max)
{
    int n = 0;
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", s);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int k;
        for (k = 0; k <= OP_DELETE; k++)
            if (strcmp(t, op_names[k]) == 0)
                break;
        if (k > OP_DELETE || n >= max) {
            fprintf(stderr, "zkload: unknown op '%s' (create, get, set, children, exists, delete)\n", t);
            return -1;
        }
        ops[n++] = (enum op)k;
    }
    return n;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: zkload prep -s HOST:PORT [-r ROOT] [-k KEYS] [-K KIDS] [-b BYTES]\n"
            "       zkload run  -s HOST:PORT [-o create,get,set,children,exists,delete]\n"
            "                   [-w WINDOW] [-c CONNS] [-d SECS] [-n COUNT] [-t TAG] [-P PID]\n"
            "       zkload fill -s HOST:PORT -n COUNT [-r ROOT] [-w WINDOW] [-c CONNS] [-d SECS]\n"
            "                   [-L TTL_MS]\n"
            "  -s  server (127.0.0.1:2181)      -r  root znode (/zkbench; fill: /zkmem)\n"
            "  -w  requests outstanding per connection (128, at most %d)\n"
            "  -c  connections, each with its own I/O and completion threads (1, at most %d)\n"
            "  -d  seconds per op (3; fill 600)  -n  requests per op over all connections (0: no limit)\n"
            "  -k  keys for get/set/exists (10000)  -K  children of ROOT/kids (100)\n"
            "  -b  bytes of data per create/set (100)  -t  tag of this run's create names (t)\n"
            "  -P  also report the CPU of process PID per op\n"
            "  -T  every MS milliseconds, print to stderr the requests completed and the\n"
            "      largest latency in that interval (to see stalls)\n"
            "  -L  fill: TTL nodes (CreateMode PERSISTENT_WITH_TTL) with this TTL in ms\n",
            MAX_WINDOW, MAX_CONNS);
}

static int parse_num(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *mode = argv[1];
    bool is_prep = strcmp(mode, "prep") == 0, is_run = strcmp(mode, "run") == 0,
         is_fill = strcmp(mode, "fill") == 0;
    if (!is_prep && !is_run && !is_fill) {
        usage(stderr);
        return 2;
    }
    G.host = "127.0.0.1:2181";
    const char *ops_s = "create,get,set,children,exists,delete";
    bool root_set = false, secs_set = false;
    int opt;
    double v;
    optind = 2;
    while ((opt = getopt(argc, argv, "s:r:o:w:c:d:n:k:K:b:t:P:T:L:q")) != -1) {
        switch (opt) {
        case 's': G.host = optarg; break;
        case 'r': G.root = optarg; root_set = true; break;
        case 'o': ops_s = optarg; break;
        case 't': G.tag = optarg; break;
        case 'q': G.quiet = 1; break;
        case 'w':
            if (parse_num(optarg, 1, MAX_WINDOW, &v)) goto bad;
            G.window = (int)v;
            break;
        case 'c':
            if (parse_num(optarg, 1, MAX_CONNS, &v)) goto bad;
            G.nconns = (int)v;
            break;
        case 'd':
            if (parse_num(optarg, 0.01, 3600, &v)) goto bad;
            G.secs = v;
            secs_set = true;
            break;
        case 'n':
            if (parse_num(optarg, 0, 1e12, &v)) goto bad;
            G.count = (uint64_t)v;
            break;
        case 'k':
            if (parse_num(optarg, 1, 1e8, &v)) goto bad;
            G.keys = (int)v;
            break;
        case 'K':
            if (parse_num(optarg, 0, 1e6, &v)) goto bad;
            G.kids = (int)v;
            break;
        case 'b':
            if (parse_num(optarg, 0, MAX_DATA, &v)) goto bad;
            G.bytes = (int)v;
            break;
        case 'P':
            if (parse_num(optarg, 1, 1e9, &v)) goto bad;
            G.srv_pid = (long)v;
            break;
        case 'T':
            if (parse_num(optarg, 1, 60000, &v)) goto bad;
            G.tick_ms = (int)v;
            break;
        case 'L':
            if (parse_num(optarg, 1, 1099511627775.0, &v)) goto bad;
            G.ttl_ms = (int64_t)v;
            break;
        default:
            goto bad;
        }
    }
    if (optind != argc)
        goto bad;
    if (is_fill && !root_set)
        G.root = "/zkmem";
    if (is_fill && !secs_set)
        G.secs = 600;
    if (strlen(G.root) > 100 || strlen(G.tag) > 32 || G.root[0] != '/')
        goto bad;
    for (int i = 0; i < G.bytes; i++)
        G.data[i] = (char)('a' + i % 26);

    enum op ops[16];
    int nops = 0;
    if (is_run && (nops = parse_ops(ops_s, ops, 16)) <= 0)
        return 2;
    if (is_fill && G.count == 0) {
        fprintf(stderr, "zkload fill: -n COUNT is required\n");
        return 2;
    }

    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    if (is_prep)
        G.nconns = 1;
    for (int i = 0; i < G.nconns; i++)
        if (!(G.conns[i] = conn_open(i, 10)))
            return 2;

    int worst = 0, rc;
    char p[PATH_MAX_LEN];
    if (is_prep) {
        zhandle_t *zh = G.conns[0]->zh;
        snprintf(p, sizeof(p), "%s/r", G.root);
        if (mk_sync(zh, G.root) || mk_sync(zh, p))
            return 2;
        snprintf(p, sizeof(p), "%s/kids", G.root);
        if (mk_sync(zh, p))
            return 2;
        snprintf(p, sizeof(p), "%s/c", G.root);
        if (mk_sync(zh, p))
            return 2;
        /* the keys and the children, asynchronously; NODEEXISTS is fine */
        rc = measure(OP_MKKEY, 120, (uint64_t)G.keys, NULL);
        worst = rc > worst ? rc : worst;
        if (rc < 2) {
            rc = measure(OP_MKKID, 120, (uint64_t)G.kids, NULL);
            worst = rc > worst ? rc : worst;
        }
    } else if (is_fill) {
        if (mk_sync(G.conns[0]->zh, G.root))
            return 2;
        uint64_t limits[MAX_CONNS];
        for (int i = 0; i < G.nconns; i++) {
            uint64_t lo = G.count * (uint64_t)i / (uint64_t)G.nconns;
            uint64_t hi = G.count * (uint64_t)(i + 1) / (uint64_t)G.nconns;
            G.conns[i]->base = lo;
            limits[i] = hi - lo;
        }
        worst = measure(OP_FILL, G.secs, 0, limits);
    } else {
        uint64_t per = G.count ? (G.count + (uint64_t)G.nconns - 1) / (uint64_t)G.nconns : UINT64_MAX;
        bool created = false;
        for (int k = 0; k < nops && worst < 2; k++) {
            if (ops[k] == OP_DELETE) {
                if (!created) {
                    fprintf(stderr, "zkload: delete removes what create made: put create before it\n");
                    return 2;
                }
                uint64_t limits[MAX_CONNS];
                for (int i = 0; i < G.nconns; i++)
                    limits[i] = G.conns[i]->created;
                /* no time limit of its own beyond a safety bound: it deletes
                 * exactly what create made */
                rc = measure(OP_DELETE, G.secs * 20 + 60, 0, limits);
            } else {
                rc = measure(ops[k], G.secs, per, NULL);
                if (ops[k] == OP_CREATE)
                    created = true;
            }
            worst = rc > worst ? rc : worst;
        }
    }
    if (worst < 2)
        for (int i = 0; i < G.nconns; i++)
            zookeeper_close(G.conns[i]->zh);
    /* on 2 (stuck) exit without closing: zookeeper_close would wait */
    fflush(stdout);
    return worst;
bad:
    usage(stderr);
    return 2;
}
