/*
 * bcommon.h - what the benchmark tools share: a monotonic clock, a latency
 * histogram, DNS query encoding and the little answer parsing that the
 * freshness probe needs, and reading a process's CPU times from /proc.
 *
 * Header-only (static functions) so that every tool in bench/ is one .c file
 * built with a plain `cc`; nothing here belongs to zonekeeper itself.
 */
#ifndef ZK_BENCH_BCOMMON_H
#define ZK_BENCH_BCOMMON_H

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define BC_UNUSED __attribute__((unused))

/* ---- time --------------------------------------------------------------- */

BC_UNUSED static uint64_t bc_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- latency histogram: 1 us buckets up to 100 ms, then one overflow ---- */

#define BC_HIST_N 100000u

typedef struct bc_hist {
    uint64_t count, over;
    uint64_t max_ns;
    uint32_t *b; /* BC_HIST_N buckets of 1 us */
} bc_hist;

BC_UNUSED static int bc_hist_init(bc_hist *h)
{
    memset(h, 0, sizeof(*h));
    h->b = calloc(BC_HIST_N, sizeof(*h->b));
    return h->b ? 0 : -ENOMEM;
}

BC_UNUSED static void bc_hist_free(bc_hist *h)
{
    free(h->b);
    h->b = NULL;
}

BC_UNUSED static void bc_hist_add(bc_hist *h, uint64_t ns)
{
    uint64_t us = ns / 1000u;
    h->count++;
    if (ns > h->max_ns)
        h->max_ns = ns;
    if (us >= BC_HIST_N)
        h->over++;
    else
        h->b[us]++;
}

/* The p-th percentile (0 < p <= 100) in microseconds; -1 when empty. A value
 * in the overflow bucket reports the maximum. */
BC_UNUSED static double bc_hist_pct(const bc_hist *h, double p)
{
    if (h->count == 0)
        return -1;
    uint64_t want = (uint64_t)((double)h->count * p / 100.0 + 0.999999);
    if (want == 0)
        want = 1;
    uint64_t acc = 0;
    for (uint32_t i = 0; i < BC_HIST_N; i++) {
        acc += h->b[i];
        if (acc >= want)
            return (double)i + 0.5;
    }
    return (double)h->max_ns / 1000.0;
}

/* ---- DNS ------------------------------------------------------------------ */

enum { BC_T_A = 1, BC_T_NS = 2, BC_T_CNAME = 5, BC_T_SOA = 6, BC_T_PTR = 12,
       BC_T_TXT = 16, BC_T_AAAA = 28, BC_T_SRV = 33, BC_T_ANY = 255 };

BC_UNUSED static int bc_type_parse(const char *s)
{
    static const struct { const char *n; int t; } tab[] = {
        {"A", BC_T_A},     {"NS", BC_T_NS},     {"CNAME", BC_T_CNAME},
        {"SOA", BC_T_SOA}, {"PTR", BC_T_PTR},   {"TXT", BC_T_TXT},
        {"AAAA", BC_T_AAAA}, {"SRV", BC_T_SRV}, {"ANY", BC_T_ANY}};
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
        if (strcasecmp(s, tab[i].n) == 0)
            return tab[i].t;
    if (strncasecmp(s, "TYPE", 4) == 0 && isdigit((unsigned char)s[4]))
        return atoi(s + 4) & 0xffff;
    return -1;
}

/* Encodes a dotted name ("a.b.zk" or "a.b.zk.") in wire format into out
 * (capacity >= 256). Returns its length, or -1 if it is not a valid name. */
BC_UNUSED static int bc_name_encode(const char *name, uint8_t *out)
{
    size_t n = 0, len = strlen(name);
    if (len > 0 && name[len - 1] == '.')
        len--;
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && name[j] != '.')
            j++;
        size_t l = j - i;
        if (l == 0 || l > 63 || n + 1 + l + 1 > 255)
            return -1;
        out[n++] = (uint8_t)l;
        memcpy(out + n, name + i, l);
        n += l;
        i = j + 1;
    }
    out[n++] = 0;
    return (int)n;
}

/* Encodes a query (ID 0, no RD) for name/type into out (capacity >= 300),
 * with an EDNS0 OPT record advertising edns_size when edns_size > 0.
 * Returns the message length, or -1 on a bad name. *qsec gets the length of
 * the question section (name + type + class). */
BC_UNUSED static int bc_query_encode(const char *name, int type, uint16_t edns_size,
                                     uint8_t *out, size_t *qsec)
{
    memset(out, 0, 12);
    out[5] = 1; /* QDCOUNT */
    int nl = bc_name_encode(name, out + 12);
    if (nl < 0)
        return -1;
    size_t p = 12 + (size_t)nl;
    out[p++] = (uint8_t)(type >> 8);
    out[p++] = (uint8_t)type;
    out[p++] = 0;
    out[p++] = 1; /* IN */
    *qsec = p - 12;
    if (edns_size > 0) {
        out[11] = 1; /* ARCOUNT */
        const uint8_t opt[11] = {0, 0, 41, (uint8_t)(edns_size >> 8), (uint8_t)edns_size,
                                 0, 0, 0, 0, 0, 0};
        memcpy(out + p, opt, sizeof(opt));
        p += sizeof(opt);
    }
    return (int)p;
}

static inline uint16_t bc_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Skips the (possibly compressed) name at off; returns the offset after it,
 * or 0 when it runs past len. */
BC_UNUSED static size_t bc_name_skip(const uint8_t *m, size_t len, size_t off)
{
    while (off < len) {
        uint8_t l = m[off];
        if ((l & 0xc0) == 0xc0)
            return off + 2 <= len ? off + 2 : 0;
        if (l & 0xc0)
            return 0;
        off += 1u + l;
        if (l == 0)
            return off <= len ? off : 0;
    }
    return 0;
}

/* Decodes the name at off (following compression pointers, bounded) into
 * dotted lowercase text without the final dot. Returns 0, or -1 if bad. */
BC_UNUSED static int bc_name_text(const uint8_t *m, size_t len, size_t off, char *out,
                                  size_t cap)
{
    size_t n = 0;
    for (int hops = 0; hops < 64;) {
        if (off >= len)
            return -1;
        uint8_t l = m[off];
        if ((l & 0xc0) == 0xc0) {
            if (off + 1 >= len)
                return -1;
            off = (size_t)((l & 0x3f) << 8 | m[off + 1]);
            hops++;
            continue;
        }
        if (l & 0xc0)
            return -1;
        if (l == 0) {
            if (n > 0)
                n--; /* drop the trailing dot */
            out[n] = 0;
            return 0;
        }
        if (off + 1 + l > len || n + l + 2 > cap)
            return -1;
        for (size_t i = 0; i < l; i++)
            out[n++] = (char)tolower(m[off + 1 + i]);
        out[n++] = '.';
        off += 1u + l;
    }
    return -1;
}

/* Calls fn(ctx, type, rdata_off, rdlen) for each record of the answer
 * section. Returns the number of records, or -1 if the message is bad. */
typedef void (*bc_rr_fn)(void *ctx, const uint8_t *m, size_t len, int type, size_t rd,
                         size_t rdlen);

BC_UNUSED static int bc_answers(const uint8_t *m, size_t len, bc_rr_fn fn, void *ctx)
{
    if (len < 12)
        return -1;
    unsigned qd = bc_get16(m + 4), an = bc_get16(m + 6);
    size_t off = 12;
    for (unsigned i = 0; i < qd; i++) {
        off = bc_name_skip(m, len, off);
        if (off == 0 || off + 4 > len)
            return -1;
        off += 4;
    }
    for (unsigned i = 0; i < an; i++) {
        off = bc_name_skip(m, len, off);
        if (off == 0 || off + 10 > len)
            return -1;
        int type = bc_get16(m + off);
        size_t rdlen = bc_get16(m + off + 8);
        off += 10;
        if (off + rdlen > len)
            return -1;
        fn(ctx, m, len, type, off, rdlen);
        off += rdlen;
    }
    return (int)an;
}

/* ---- CPU of a set of processes -------------------------------------------- */

/* utime and stime (clock ticks) of pid from /proc/PID/stat, and the exact
 * on-CPU time of all its threads (ns) from /proc/PID/task/ * /schedstat.
 * Returns 0, or -1 if the process is gone. */
typedef struct bc_cpu {
    uint64_t utime, stime; /* ticks */
    uint64_t run_ns;       /* schedstat, all threads; 0 if unavailable */
} bc_cpu;

BC_UNUSED static int bc_cpu_read(int pid, bc_cpu *c)
{
    char path[64], buf[2048];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    /* after ") ": field 3 (state) ... field 14 utime, 15 stime */
    p += 2;
    for (int field = 3; field < 14 && *p; field++) {
        p = strchr(p, ' ');
        if (!p)
            return -1;
        p++;
    }
    unsigned long long ut, st;
    if (sscanf(p, "%llu %llu", &ut, &st) != 2)
        return -1;
    c->utime = ut;
    c->stime = st;
    c->run_ns = 0;
    snprintf(path, sizeof(path), "/proc/%d/task", pid);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char sp[128];
        snprintf(sp, sizeof(sp), "/proc/%d/task/%.20s/schedstat", pid, e->d_name);
        FILE *sf = fopen(sp, "r");
        if (!sf)
            continue;
        unsigned long long run = 0;
        if (fscanf(sf, "%llu", &run) == 1)
            c->run_ns += run;
        fclose(sf);
    }
    closedir(d);
    return 0;
}

/* Time the machine's CPUs spent running tasks (user, nice, system, and
 * steal: CPU the hypervisor gave to others) from /proc/stat, in nanoseconds;
 * 0 if unreadable. Interrupt and softirq time is left out: much of it is the
 * loopback traffic of the benchmark itself, and tasks' own times exclude it
 * too. */
BC_UNUSED static uint64_t bc_machine_busy_ns(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return 0;
    unsigned long long v[8] = {0};
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                   &v[3], &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (n < 8)
        return 0;
    unsigned long long busy = v[0] + v[1] + v[2] + v[7];
    return (uint64_t)((double)busy / (double)sysconf(_SC_CLK_TCK) * 1e9);
}

#endif
