/*
 * zkd_fixture.h - loop tests of the ZooKeeper protocol: a zonekeeperd core
 * (zkd_init) on its own uv_loop in the test process, listening on
 * 127.0.0.1:0, and a client thread that talks to it over real TCP with
 * hand-encoded jute frames.
 *
 * The client thread never calls cmocka (its longjmp cannot cross threads):
 * a check that fails records its line and message in the scenario, which
 * stops; the main thread asserts after the loop has stopped and
 * uv_loop_close() has returned 0, so a leaked handle fails too.
 */
#ifndef ZKD_FIXTURE_H
#define ZKD_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

typedef struct zt zt;
struct zkd;
typedef void (*zt_scenario)(zt *t);

/* Edits the default test configuration before zkd_init (may be NULL). */
typedef void (*zt_setup)(zk_conf *conf);

struct zt {
    int port;
    int dns_port;    /* the first DNS listener's, when setup adds one */
    int failed_line;
    char failed_msg[512];
    void *priv;      /* the harness's */
    bool stopped;
    /* Called on the loop thread after zkd_init, before the scenario starts
     * (may be NULL): to reach into the daemon where no key does. */
    void (*init_hook)(struct zkd *d);
};

/* Runs scenario in a client thread against a fresh daemon core; returns
 * after a clean stop. The caller asserts t->failed_line == 0. */
void zt_run(zt *t, zt_setup setup, zt_scenario scenario);

/* An init_hook: the snapshot child takes 1.5 s to open its temp file, so
 * that a snapshot runs that long (the pipeline then commits from its idle
 * handle, a few txns per loop turn), and the ZooKeeper server's 1 s sweep
 * is stopped, so that no timer wakes the loop meanwhile. */
void zt_hook_slow_snapshots(struct zkd *d);

/* Stops the daemon now, from the client thread (once; otherwise the
 * harness stops it when the scenario returns). */
void zt_stop(zt *t);

/* Records a failure (first one wins) and returns false. */
bool zt_fail(zt *t, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define ZT_CHECK(t, cond, ...)                                                  \
    do {                                                                       \
        if (!(cond)) {                                                         \
            zt_fail((t), __LINE__, __VA_ARGS__);                               \
            return;                                                            \
        }                                                                      \
    } while (0)

/* ---- a blocking client ---------------------------------------------------- */

/* A TCP connection to the daemon with a 5 s receive timeout; -1 on error. */
int zt_dial(zt *t);
int zt_send(int fd, const void *p, size_t n);
/* Reads one frame body into buf (cap bytes); returns its length, -1 on EOF
 * or timeout, -2 if it does not fit. */
long zt_recv(int fd, uint8_t *buf, size_t cap);
/* True when the peer closes within timeout_ms (reading and dropping bytes). */
bool zt_wait_eof(int fd, int timeout_ms);

/* ---- jute frames ------------------------------------------------------------ */

typedef struct zt_buf {
    uint8_t b[65536];
    size_t n;
} zt_buf;

void zt_int(zt_buf *b, int32_t v);
void zt_long(zt_buf *b, int64_t v);
void zt_str(zt_buf *b, const char *s);
void zt_bytes(zt_buf *b, const void *p, int32_t n);
/* Starts a frame at b->n (reserves the length); zt_end fills it in. */
size_t zt_begin(zt_buf *b);
void zt_end(zt_buf *b, size_t start);

/* Whole request frames appended to b. */
void zt_connect_req(zt_buf *b, int32_t timeout, int64_t session, const uint8_t *passwd);
void zt_create_req(zt_buf *b, int32_t xid, const char *path, const char *data, int32_t flags);
/* {path, watch} bodies (exists, getData, getChildren*) */
void zt_path_req(zt_buf *b, int32_t xid, int32_t type, const char *path, bool watch);
/* {path} bodies (sync, getACL, getEphemerals, getAllChildrenNumber) */
void zt_path_only_req(zt_buf *b, int32_t xid, int32_t type, const char *path);
void zt_set_data_req(zt_buf *b, int32_t xid, const char *path, const char *data);
void zt_header_req(zt_buf *b, int32_t xid, int32_t type);

uint32_t zt_be32(const uint8_t *p);
uint64_t zt_be64(const uint8_t *p);

/* A session: the connection, its id and password. */
typedef struct zt_sess {
    int fd;
    int32_t timeout;
    int64_t id;
    uint8_t passwd[16];
} zt_sess;

/* Connects and completes the handshake; false (and t failed) otherwise. */
bool zt_session(zt *t, zt_sess *s, int32_t timeout, int64_t resume, const uint8_t *passwd);

#endif
