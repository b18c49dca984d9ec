/*
 * persist_fixture.h - loop tests of the daemon's durable write path: a
 * registry, a zkd_store on a data directory (through the POSIX fileops or
 * the fault-injecting table) and a zkd_pipeline attached to it, on a real
 * uv_loop with the real thread pool. Writes are tracked one by one (sent,
 * answered, acknowledged, zxid) so a test can check, after a fault and a
 * restart, that everything acknowledged is there and nothing is half there.
 * Every node ends with uv_loop_close() == 0 (a leaked handle fails).
 */
#ifndef ZK_TESTS_PERSIST_FIXTURE_H
#define ZK_TESTS_PERSIST_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "d_persist.h"
#include "d_pipeline.h"
#include "fileops.h"
#include "reg.h"

#define PF_NOW 1700000000000LL
#define PF_MAX_WRITES 20000

enum pf_kind { PF_CREATE, PF_MULTI, PF_SET };

/* One write: CREATE path data, MULTI creating path and path2, or SET
 * path data (version -1). */
typedef struct pf_write {
    int kind;
    char path[32], path2[32], data[32];
    bool answered, acked;
    int err;
    int64_t zxid;
} pf_write;

typedef struct pf_node {
    uv_loop_t loop;
    reg_t *reg;
    zkd_store s;
    zkd_pipeline p;
    int fatal;       /* what on_fatal was called with */
    bool up;
} pf_node;

typedef struct pf {
    char dir[64];
    fileops_fault *f; /* NULL: POSIX I/O */
    zkd_store_opts o;
    pf_node n;
    pf_write *w;      /* PF_MAX_WRITES */
    size_t nw;
    uint64_t rnd;
} pf;

/* A fresh directory; faults: use the fault table. */
void pf_init(pf *x, bool faults, uint64_t seed);
void pf_done(pf *x);
uint64_t pf_rand(pf *x);

/* Starts a node on x->dir: recovery, pipeline, closes of old sessions.
 * Returns zkd_store_open's or the start's error (the node is then down). */
int pf_open(pf *x);
/* Stops it cleanly (drain, close, loop to completion, files closed). */
void pf_close(pf *x);
/* Runs the loop until nothing is pending. */
void pf_run(pf *x);
/* zkd_store_snapshot, tried again while the fork guard is busy (the
 * janitor's pass at start may hold it for a moment). */
int pf_snapshot(pf *x);

/* Queues one write of the kind; returns its index. */
size_t pf_create(pf *x, const char *path, const char *data);
size_t pf_multi(pf *x, const char *a, const char *b);
size_t pf_set(pf *x, const char *path, const char *data);
/* Number of acknowledged writes; highest acknowledged zxid. */
size_t pf_acked(const pf *x);
int64_t pf_max_acked_zxid(const pf *x);
/* Every acknowledged write is in the tree; every multi is all or none;
 * data of a node is one of the values written to it. */
void pf_check(pf *x);

/* Data of path in the node's tree ("" and false if absent). */
bool pf_get(pf *x, const char *path, char *buf, size_t len);
/* Files of x->dir whose name starts with prefix. */
size_t pf_count_files(const pf *x, const char *prefix);

#endif
