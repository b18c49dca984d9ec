/*
 * text_fixture.h - a real registry with two socket-protocol clients, for the
 * text protocol's tests. Each client has its own LOCAL session, watcher id,
 * reply buffer and event buffer; the registry's on_watch hook formats fired
 * watches with txt_sess_event into the owning client's event buffer. Writes
 * that come back TXT_PENDING are committed at once (the log stage is empty)
 * and finished with txt_sess_finish, as the daemon does.
 */
#ifndef ZK_TESTS_TEXT_FIXTURE_H
#define ZK_TESTS_TEXT_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "text_session.h"

#define TF_NOW 1700000000000LL
#define TF_CLIENTS 2

typedef struct tf_client {
    int64_t session;
    uint64_t watcher;
    txt_sess *s;
    zk_buf out;
    zk_buf events;
    int status; /* the last request's enum txt_status */
} tf_client;

typedef struct tf_world {
    reg_t *reg;
    int64_t now;
    tf_client c[TF_CLIENTS];
} tf_world;

typedef struct tf_options {
    const char *dns_root;  /* NULL: "/services" */
    size_t max_tokens;     /* 0: 16 */
    size_t out_limit;      /* 0: the buffer default */
    size_t max_pending;    /* 0: the registry default */
    size_t max_watches;    /* 0: the registry default */
} tf_options;

/* Creates a world (asserts on failure); free with tf_close. */
tf_world *tf_open(const tf_options *opt);
void tf_close(tf_world *w);
/* cmocka setup/teardown with the default options. */
int tf_setup(void **state);
int tf_teardown(void **state);

/* Opens a LOCAL session the way the daemon does and returns its id. */
int64_t tf_open_session(tf_world *w);
/* Closes a session through the pipeline (REG_OP_CLOSE_SESSION). */
void tf_close_session(tf_world *w, int64_t session);

/* Runs one request line on client i; the reply (and nothing else) is in
 * c[i].out afterwards and returned as a string. */
const char *tf_run(tf_world *w, int i, const char *line, size_t len);
/* tf_run on client 0 with a C string. */
const char *tf_req(tf_world *w, const char *line);
/* Returns and clears the EVENT lines client i received. */
const char *tf_events(tf_world *w, int i);

/* "ERR <NAME> <reg_strerror(err)>\n" in a static buffer. */
const char *tf_err(int err);
/* " czxid=... numChildren=N" of path, as the protocol formats a stat. */
const char *tf_stat(tf_world *w, const char *path);
/* Formats into a static buffer (rotating among 4). */
const char *tf_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
