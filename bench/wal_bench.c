/*
 * wal_bench.c - group commit throughput of the write-ahead log on the disk
 * under a directory: 100k records of 150 bytes, fdatasync after every 1, 16
 * and 128 records, each run in a fresh log without preallocation and with
 * zero-fills of 1, 4 and 16 MiB ahead; each wal_sync (pwrite + fdatasync,
 * plus the zero-fill when one is due) is timed, and the run prints its
 * latency percentiles. Also times recovery (open + replay) of the largest
 * log. Build and run: see bench/README-wal.md.
 *
 *     wal_bench DIR [RECORDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wal.h"

#define RECORDS 100000
#define PAYLOAD 150
#define MAX_RECORDS 10000000

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int count_fn(void *ctx, int64_t zxid, const void *p, size_t len)
{
    (void)zxid;
    (void)p;
    *(size_t *)ctx += len;
    return 0;
}

static void rm_logs(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -f '%s'/log.*", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup failed\n");
}

/* sync_us (room for records / batch + 1 entries) gets each wal_sync's time. */
static int run(const char *dir, int batch, uint64_t prealloc, int records,
               double *sync_us)
{
    wal_opts o;
    wal_opts_default(&o);
    o.prealloc_bytes = prealloc;
    wal_t *w;
    int rc = wal_open(dir, fileops_posix(), &o, &w);
    if (rc < 0)
        return rc;
    uint8_t payload[PAYLOAD];
    memset(payload, 'x', sizeof payload);
    double t0 = now();
    size_t syncs = 0;
    for (int i = 1; i <= records && rc == 0; i++) {
        rc = wal_append(w, i, payload, sizeof payload);
        if (rc == 0 && (i % batch == 0 || i == records)) {
            double s0 = now();
            rc = wal_sync(w);
            sync_us[syncs++] = (now() - s0) * 1e6;
        }
    }
    double t = now() - t0;
    wal_close(w);
    qsort(sync_us, syncs, sizeof *sync_us, cmp_double);
    char pre[16];
    snprintf(pre, sizeof pre, "%uMiB", (unsigned)(prealloc >> 20));
    printf("batch %4d  prealloc %-5s  %8.0f records/s  %6.0f syncs/s"
           "  sync us p50 %5.0f p90 %5.0f p99 %6.0f max %6.0f\n", batch,
           prealloc ? pre : "off", records / t, (double)syncs / t, sync_us[syncs / 2],
           sync_us[syncs * 9 / 10], sync_us[syncs * 99 / 100], sync_us[syncs - 1]);
    return rc;
}

/* The loop thread's cost: wal_append alone (a memcpy into the buffer), in
 * steady state (buffers already grown), 128 records per loop turn. */
static void append_cost(const char *dir)
{
    wal_t *w;
    uint8_t payload[PAYLOAD] = {0};
    if (wal_open(dir, fileops_posix(), NULL, &w) < 0)
        return;
    int64_t z = wal_last_zxid(w);
    double spent = 0;
    for (int turn = 0; turn < RECORDS / 128; turn++) {
        double t0 = now();
        for (int i = 0; i < 128; i++)
            wal_append(w, ++z, payload, sizeof payload);
        spent += now() - t0;
        wal_sync(w);
    }
    wal_close(w);
    printf("wal_append alone: %.0f ns per %d-byte record\n",
           spent / (RECORDS / 128 * 128) * 1e9, PAYLOAD);
}

static void recovery(const char *dir)
{
    wal_t *w;
    size_t bytes = 0;
    double t0 = now();
    if (wal_open(dir, fileops_posix(), NULL, &w) == 0) {
        wal_recover(w, 0, count_fn, &bytes);
        wal_close(w);
    }
    double t = now() - t0;
    printf("recovery: %.1f MB of payload replayed in %.3f s (%.0f MB/s)\n",
           bytes / 1e6, t, bytes / 1e6 / t);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp/zk-wal-bench";
    int n = argc > 2 ? atoi(argv[2]) : RECORDS;
    if (n < 1 || n > MAX_RECORDS) {
        fprintf(stderr, "RECORDS: 1..%d\n", MAX_RECORDS);
        return 2;
    }
    static const int batches[] = {1, 16, 128};
    static const uint64_t prealloc[] = {0, 1u << 20, 4u << 20, 16u << 20};
    double *sync_us = malloc(sizeof(double) * ((size_t)n + 1));
    if (!sync_us)
        return 1;
    for (int i = 0; i < 3; i++)
        for (size_t p = 0; p < sizeof prealloc / sizeof *prealloc; p++) {
            rm_logs(dir);
            if (run(dir, batches[i], prealloc[p], n, sync_us) < 0) {
                fprintf(stderr, "wal error\n");
                free(sync_us);
                return 1;
            }
        }
    free(sync_us);
    append_cost(dir);
    recovery(dir);
    rm_logs(dir);
    return 0;
}
