/*
 * text_session.h - the small socket protocol (SPEC section 3) of one
 * connection, without the socket: a request line in, reply lines out.
 *
 * One connection is one registry session (REG_SESSION_LOCAL); the daemon
 * creates the session, then hands every complete line to txt_sess_line().
 * Reads are answered at once. A write is prepared (reg_prepare) and handed
 * back as a txn: the daemon sends it through the write pipeline (log, then
 * reg_commit) and calls txt_sess_finish() with the result. The daemon feeds
 * no further line to this session while a write is pending, so replies stay
 * in request order and a read always sees the session's own earlier writes.
 *
 * Lines are split by the daemon (LF, a CR before it is stripped); this module
 * parses tokens (double quotes with \\ \" \n \r \t \xHH escapes), runs the
 * verb from one command table and formats the reply.
 */
#ifndef ZK_DAEMON_TEXT_SESSION_H
#define ZK_DAEMON_TEXT_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "reg.h"

typedef struct txt_config {
    const char *dns_root;   /* where REGISTER puts groups, e.g. "/services" */
    size_t max_tokens;      /* most tokens in one request; default 64 */
} txt_config;

typedef struct txt_sess txt_sess;

/* Creates the protocol state of a connection whose registry session is
 * `session` and whose watches are registered as `watcher`. reg and cfg are
 * borrowed (cfg->dns_root copied). NULL when out of memory. */
txt_sess *txt_sess_create(reg_t *reg, const txt_config *cfg, int64_t session,
                          uint64_t watcher);
void txt_sess_free(txt_sess *s);

enum txt_status {
    TXT_DONE = 0,    /* the reply is in out */
    TXT_PENDING = 1, /* *txn is a write to run through the pipeline */
    TXT_CLOSE = 2,   /* close the connection after out is sent (QUIT; out full) */
};

/* Handles one request line of len bytes (no line terminator; may contain
 * any bytes). Appends the reply line(s) to out, or returns TXT_PENDING with
 * *txn set (ownership passes to the caller). now_ms is the wall clock.
 * Every request gets exactly one reply line, except a blank line (only
 * spaces and tabs), which gets none. One trailing CR is ignored. A reply is
 * appended whole or not at all: one that would pass out's limit is replaced
 * by "ERR SYSTEMERROR ..."; if even that does not fit, nothing is appended
 * and TXT_CLOSE is returned. */
int txt_sess_line(txt_sess *s, const char *line, size_t len, int64_t now_ms,
                  zk_buf *out, reg_txn **txn);

/* Formats the reply of the pending write from its committed result:
 * "OK", "OK <path>" or "OK <stat>" by verb, or "ERR <NAME> <message>". */
void txt_sess_finish(txt_sess *s, const reg_result *res, zk_buf *out);

/* Appends "EVENT <created|deleted|changed|children> <path> zxid=<n>\n" for a
 * watch that fired (the path quoted as by txt_quote); nothing if it does not
 * fit out's limit. */
void txt_sess_event(txt_sess *s, int type, const char *path, int64_t zxid,
                    zk_buf *out);

/* Appends "ERR <NAME> <message>\n" (used by the daemon for over-long lines).
 * NAME is reg_errname(err); message NULL means reg_strerror(err); control
 * characters in message become '?'. */
void txt_reply_error(zk_buf *out, int err, const char *message);

/* Quotes one token for output as the protocol requires: bare when it is
 * non-empty printable ASCII without space, quote or backslash, else in
 * double quotes with the escapes \\ \" \n \r \t and \xHH (lower-case hex) for
 * every other byte outside 0x20-0x7e, so the output is always ASCII.
 * Returns 0, or -ENOBUFS/-ENOMEM with out unchanged. */
int txt_quote(zk_buf *out, const void *p, size_t len);

#endif
