/*
 * wal_testutil.h - helpers shared by the storage tests: temp directories,
 * deterministic payloads, a log sink that keeps messages, a replay
 * collector that checks every payload, and raw file surgery.
 */
#ifndef ZK_TESTS_WAL_TESTUTIL_H
#define ZK_TESTS_WAL_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fileops.h"
#include "wal.h"

/* A fresh directory under /tmp (path in buf); wt_rmdir removes it and all
 * files in it. */
void wt_mkdtemp(char *buf, size_t len);
void wt_rmdir(const char *dir);

/* The payload of zxid: 1..(max) bytes, all derived from zxid. */
size_t wt_payload(int64_t zxid, uint8_t *buf, size_t max);
/* Appends zxid with its payload (asserts success). */
void wt_append(wal_t *w, int64_t zxid);

/* Keeps every message; wt_log_has finds one containing both strings. */
typedef struct wt_log {
    char msgs[32][512];
    int levels[32];
    int n;
} wt_log;
fileops_log wt_log_sink(wt_log *l);
bool wt_log_has(const wt_log *l, int level, const char *a, const char *b);
void wt_log_print(const wt_log *l);

/* Collects replayed zxids, failing the test if a payload is wrong. */
typedef struct wt_seen {
    int64_t zxids[20000];
    size_t n;
} wt_seen;
int wt_collect(void *ctx, int64_t zxid, const void *payload, size_t len);
/* True if seen holds exactly first..last. */
bool wt_seen_range(const wt_seen *s, int64_t first, int64_t last);

/* Options for small test logs: tiny segments, prealloc as given. */
wal_opts wt_opts(uint64_t segment_bytes, uint64_t prealloc, wt_log *log);

/* Raw file helpers on dir/name. */
uint64_t wt_file_size(const char *dir, const char *name);
void wt_truncate(const char *dir, const char *name, uint64_t len);
void wt_flip(const char *dir, const char *name, uint64_t off);
bool wt_exists(const char *dir, const char *name);
/* Reads/writes a whole file (malloc'd buffer). */
uint8_t *wt_read_file(const char *dir, const char *name, size_t *len);
void wt_write_file(const char *dir, const char *name, const uint8_t *p, size_t len);
/* The name of segment / snapshot zxid. */
const char *wt_seg_name(int64_t zxid);
const char *wt_snap_name(int64_t zxid);

#endif
