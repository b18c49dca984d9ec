/*
 * text_internal.h - what the files of the socket protocol share: the
 * session, the request being handled, the command table's row type and the
 * handlers. Not for use outside daemon/text_session.c and proto_text_*.c.
 *
 * A handler sees one request: its tokens (argv[0] is the verb; the table has
 * already checked the argument count), the output buffer and the session. A
 * read handler writes its whole reply line. A write handler (TXT_CMD_WRITE)
 * only validates and fills r->op (pointing into the request's tokens or the
 * session's scratch buffer); the dispatcher prepares it. A handler that
 * rejects a request writes the ERR line itself (txt__bad, txt__err) and
 * returns a negative value. Output goes through the txt__put helpers, whose
 * first failure (output buffer full) is kept in r->err and makes the rest
 * no-ops; the dispatcher then replaces the partial reply.
 */
#ifndef ZK_DAEMON_TEXT_INTERNAL_H
#define ZK_DAEMON_TEXT_INTERNAL_H

#include "text_session.h"
#include "text_token.h"

struct txt_cmd;

struct txt_sess {
    reg_t *reg;
    char *dns_root;              /* owned copy of txt_config.dns_root */
    size_t max_tokens;
    int64_t session;
    uint64_t watcher;
    txt_tok *toks;               /* max_tokens entries */
    char *store;                 /* decoded tokens of the current line */
    size_t store_cap;
    zk_buf scratch;              /* request-scoped: built paths, JSON, names */
    const struct txt_cmd *pending; /* write waiting for txt_sess_finish */
};

typedef struct txt_req {
    txt_sess *s;
    const txt_tok *argv;         /* argv[0] is the verb */
    size_t argc;
    int64_t now_ms;
    zk_buf *out;
    reg_op op;                   /* filled by WRITE handlers */
    int touch_err;               /* reg_session_touch's result for this request */
    int err;                     /* sticky: first failed append to out */
} txt_req;

/* What the OK reply of a committed write carries. */
enum txt_reply_kind {
    TXT_REPLY_NONE = 0,  /* "OK" */
    TXT_REPLY_PATH = 1,  /* "OK <path>" (the created path) */
    TXT_REPLY_STAT = 2,  /* "OK <stat>" */
};

enum txt_cmd_flags {
    TXT_CMD_WRITE = 1u << 0, /* goes through the pipeline; reply waits for commit */
    TXT_CMD_CLOSE = 1u << 1, /* the connection closes after the reply */
};

typedef int (*txt_handler)(txt_req *r);

typedef struct txt_cmd {
    const char *name;
    txt_handler fn;
    unsigned min_args;
    unsigned max_args;
    unsigned flags;
    enum txt_reply_kind reply;
    const char *usage;
} txt_cmd;

/* As many arguments as max_tokens allows. */
#define TXT_ARGS_MAX 0xffffu

/* ---- reply helpers (text_session.c) ------------------------------------ */

void txt__put(txt_req *r, const char *s);
void txt__printf(txt_req *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void txt__quote(txt_req *r, const void *p, size_t len);
void txt__put_stat(txt_req *r, const reg_stat *st);
/* Writes "ERR BADARGUMENTS <what>[: <quoted t>]" and returns REG_EBADARGUMENTS. */
int txt__bad(txt_req *r, const char *what, const txt_tok *t);
/* Writes "ERR <NAME> <reg_strerror(err)>" and returns err. */
int txt__err(txt_req *r, int err);

/* ---- argument helpers (proto_text_node.c) ------------------------------ */

/* argv[i] as a path valid for reg_path_validate (no NUL inside). */
int txt__arg_path(txt_req *r, size_t i, bool sequential, const char **path);
/* Parses a decimal number in [min, max] (optional '-' only if min < 0). */
bool txt__parse_int(const char *p, size_t len, long long min, long long max,
                    long long *v);

/* ---- handlers ---------------------------------------------------------- */

int txt__cmd_create(txt_req *r);
int txt__cmd_delete(txt_req *r);
int txt__cmd_set(txt_req *r);
int txt__cmd_get(txt_req *r);
int txt__cmd_exists(txt_req *r);
int txt__cmd_children(txt_req *r);
int txt__cmd_getacl(txt_req *r);
int txt__cmd_watch(txt_req *r);
int txt__cmd_unwatch(txt_req *r);
int txt__cmd_register(txt_req *r);
int txt__cmd_deregister(txt_req *r);

#endif
