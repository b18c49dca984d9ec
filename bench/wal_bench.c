/*
 * wal_bench.c - group commit throughput of the write-ahead log on the disk
 * under a directory: 100k records of 150 bytes, fdatasync after every 1, 16
 * and 128 records, each run in a fresh log with and without preallocation.
 * Also times recovery (open + replay) of the largest log. Build and run:
 * see bench/README-wal.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wal.h"

#define RECORDS 100000
#define PAYLOAD 150

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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

static int run(const char *dir, int batch, uint64_t prealloc, int records)
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
    long syncs = 0;
    for (int i = 1; i <= records && rc == 0; i++) {
        rc = wal_append(w, i, payload, sizeof payload);
        if (rc == 0 && (i % batch == 0 || i == records)) {
            rc = wal_sync(w);
            syncs++;
        }
    }
    double t = now() - t0;
    wal_close(w);
    printf("batch %4d  prealloc %-4s  %8d records  %8.0f records/s  %7.0f fdatasync/s"
           "  %6.1f MB/s\n", batch, prealloc ? "1MiB" : "off", records, records / t,
           syncs / t, records * (PAYLOAD + 20.0) / t / 1e6);
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
    static const int batches[] = {1, 16, 128};
    for (int p = 0; p < 2; p++)
        for (int i = 0; i < 3; i++) {
            rm_logs(dir);
            int n = RECORDS;
            if (run(dir, batches[i], p ? 1u << 20 : 0, n) < 0) {
                fprintf(stderr, "wal error\n");
                return 1;
            }
        }
    append_cost(dir);
    recovery(dir);
    rm_logs(dir);
    return 0;
}
