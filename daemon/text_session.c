/*
 * text_session.c - the socket protocol of one connection: the command table,
 * the dispatcher and the reply formats (SPEC section 3).
 *
 * A line goes through one fixed sequence: strip a trailing CR, split into
 * tokens (proto_text_token.c), look the verb up in the command table, check
 * the argument count, run the handler. Reads reply at once; a write handler
 * only builds a reg_op, which the dispatcher turns into a txn with
 * reg_prepare and hands to the daemon; txt_sess_finish formats its reply
 * from the committed result. Every request produces exactly one reply line,
 * except a blank line, which produces none. A reply is written into the
 * output buffer whole or not at all: when the buffer's cap is hit half-way,
 * the partial line is cut off and replaced by a short ERR line, and when
 * even that does not fit the dispatcher asks for the connection to close.
 */
#include "text_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TXT_DEFAULT_MAX_TOKENS 64
/* Request-scoped buffers larger than this are freed after the request. */
#define TXT_KEEP_BYTES ((size_t)64 << 10)

static int txt__cmd_ping(txt_req *r);
static int txt__cmd_quit(txt_req *r);
static int txt__cmd_help(txt_req *r);

/*
 * The command table, one row per verb, in alphabetical order (HELP lists it).
 *   name      the verb; requests match it ignoring ASCII case
 *   fn        the handler (see text_internal.h)
 *   min_args  fewest arguments after the verb
 *   max_args  most arguments after the verb (TXT_ARGS_MAX: bounded only by
 *             txt_config.max_tokens); a count outside gets BADARGUMENTS with
 *             the usage line, before the handler runs
 *   flags     TXT_CMD_WRITE: the handler fills an op that goes through the
 *             write pipeline (reg_prepare, log, reg_commit); the reply waits
 *             for the commit. TXT_CMD_CLOSE: close after the reply.
 *   reply     WRITE only: what "OK" carries once the write committed
 *   usage     the synopsis quoted in arity errors
 */
static const txt_cmd txt__cmds[] = {
    {"CHILDREN", txt__cmd_children, 1, 2, 0, TXT_REPLY_NONE, "CHILDREN <path> [watch]"},
    {"CREATE", txt__cmd_create, 1, 7, TXT_CMD_WRITE, TXT_REPLY_PATH,
     "CREATE <path> [<data>] [ephemeral] [sequential] [container] [parents] [ttl=MS]"},
    {"DELETE", txt__cmd_delete, 1, 2, TXT_CMD_WRITE, TXT_REPLY_NONE, "DELETE <path> [version=N]"},
    {"DEREGISTER", txt__cmd_deregister, 2, 2, TXT_CMD_WRITE, TXT_REPLY_NONE,
     "DEREGISTER <service> <id>"},
    {"EXISTS", txt__cmd_exists, 1, 2, 0, TXT_REPLY_NONE, "EXISTS <path> [watch]"},
    {"GET", txt__cmd_get, 1, 2, 0, TXT_REPLY_NONE, "GET <path> [watch]"},
    {"GETACL", txt__cmd_getacl, 1, 1, 0, TXT_REPLY_NONE, "GETACL <path>"},
    {"HELP", txt__cmd_help, 0, 0, 0, TXT_REPLY_NONE, "HELP"},
    {"PING", txt__cmd_ping, 0, 0, 0, TXT_REPLY_NONE, "PING"},
    {"QUIT", txt__cmd_quit, 0, 0, TXT_CMD_CLOSE, TXT_REPLY_NONE, "QUIT"},
    {"REGISTER", txt__cmd_register, 3, TXT_ARGS_MAX, TXT_CMD_WRITE, TXT_REPLY_PATH,
     "REGISTER <service> <address> <port> [id=ID] [weight=N] [priority=N] [tag=T]... "
     "[txt=K=V]..."},
    {"SET", txt__cmd_set, 2, 3, TXT_CMD_WRITE, TXT_REPLY_STAT, "SET <path> <data> [version=N]"},
    {"UNWATCH", txt__cmd_unwatch, 1, 1, 0, TXT_REPLY_NONE, "UNWATCH <path>"},
    {"WATCH", txt__cmd_watch, 1, 2, 0, TXT_REPLY_NONE, "WATCH <path> [recursive]"},
};

#define TXT_NCMDS (sizeof(txt__cmds) / sizeof(txt__cmds[0]))

/* ---- session ------------------------------------------------------------ */

txt_sess *txt_sess_create(reg_t *reg, const txt_config *cfg, int64_t session,
                          uint64_t watcher)
{
    txt_sess *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->reg = reg;
    s->session = session;
    s->watcher = watcher;
    s->max_tokens = cfg->max_tokens ? cfg->max_tokens : TXT_DEFAULT_MAX_TOKENS;
    s->dns_root = strdup(cfg->dns_root ? cfg->dns_root : "/services");
    s->toks = calloc(s->max_tokens, sizeof(*s->toks));
    zk_buf_init(&s->scratch, 0);
    if (s->dns_root == NULL || s->toks == NULL) {
        txt_sess_free(s);
        return NULL;
    }
    return s;
}

void txt_sess_free(txt_sess *s)
{
    if (s == NULL)
        return;
    free(s->dns_root);
    free(s->toks);
    free(s->store);
    zk_buf_free(&s->scratch);
    free(s);
}

/* ---- reply helpers ------------------------------------------------------ */

static void txt__keep(txt_req *r, int rc)
{
    if (rc < 0 && r->err == 0)
        r->err = rc;
}

void txt__put(txt_req *r, const char *str)
{
    if (r->err == 0)
        txt__keep(r, zk_buf_append(r->out, str, strlen(str)));
}

void txt__printf(txt_req *r, const char *fmt, ...)
{
    if (r->err != 0)
        return;
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(small))
        txt__keep(r, -EINVAL); /* only short fixed formats go through here */
    else
        txt__keep(r, zk_buf_append(r->out, small, (size_t)n));
}

void txt__quote(txt_req *r, const void *p, size_t len)
{
    if (r->err == 0)
        txt__keep(r, txt_quote(r->out, p, len));
}

static int txt__stat(zk_buf *b, const reg_stat *st)
{
    return zk_buf_printf(b,
                         " czxid=%" PRId64 " mzxid=%" PRId64 " pzxid=%" PRId64
                         " ctime=%" PRId64 " mtime=%" PRId64 " version=%" PRId32
                         " cversion=%" PRId32 " aversion=%" PRId32
                         " ephemeralOwner=0x%" PRIx64 " dataLength=%" PRId32
                         " numChildren=%" PRId32,
                         st->czxid, st->mzxid, st->pzxid, st->ctime, st->mtime,
                         st->version, st->cversion, st->aversion,
                         (uint64_t)st->ephemeral_owner, st->data_length,
                         st->num_children);
}

void txt__put_stat(txt_req *r, const reg_stat *st)
{
    if (r->err == 0)
        txt__keep(r, txt__stat(r->out, st));
}

int txt__bad(txt_req *r, const char *what, const txt_tok *t)
{
    txt__put(r, "ERR BADARGUMENTS ");
    txt__put(r, what);
    if (t != NULL) {
        txt__put(r, ": ");
        txt__quote(r, t->p, t->len);
    }
    txt__put(r, "\n");
    return REG_EBADARGUMENTS;
}

int txt__err(txt_req *r, int err)
{
    txt__put(r, "ERR ");
    txt__put(r, reg_errname(err));
    txt__put(r, " ");
    txt__put(r, reg_strerror(err));
    txt__put(r, "\n");
    return err;
}

/* Appends message with control characters replaced, so it stays one line. */
static int txt__put_message(zk_buf *out, const char *message)
{
    int rc = 0;
    for (const char *p = message; *p && rc == 0; p++) {
        unsigned char c = (unsigned char)*p;
        rc = zk_buf_putc(out, c < 0x20 || c == 0x7f ? '?' : (char)c);
    }
    return rc;
}

void txt_reply_error(zk_buf *out, int err, const char *message)
{
    size_t mark = out->len;
    int rc = zk_buf_printf(out, "ERR %s ", reg_errname(err));
    if (rc == 0)
        rc = txt__put_message(out, message ? message : reg_strerror(err));
    if (rc == 0)
        rc = zk_buf_putc(out, '\n');
    if (rc < 0)
        txt_buf_truncate(out, mark);
}

/* ---- small verbs -------------------------------------------------------- */

static int txt__cmd_ping(txt_req *r)
{
    if (r->touch_err < 0)
        return txt__err(r, r->touch_err);
    txt__put(r, "OK\n");
    return 0;
}

static int txt__cmd_quit(txt_req *r)
{
    txt__put(r, "OK\n");
    return 0;
}

static int txt__cmd_help(txt_req *r)
{
    txt__put(r, "OK");
    for (size_t i = 0; i < TXT_NCMDS; i++) {
        txt__put(r, " ");
        txt__put(r, txt__cmds[i].name);
    }
    txt__put(r, "\n");
    return 0;
}

/* ---- dispatcher --------------------------------------------------------- */

static const txt_cmd *txt__lookup(const txt_tok *verb)
{
    for (size_t i = 0; i < TXT_NCMDS; i++)
        if (txt_tok_is(verb, txt__cmds[i].name))
            return &txt__cmds[i];
    return NULL;
}

static int txt__reserve_store(txt_sess *s, size_t len)
{
    if (len + 1 <= s->store_cap)
        return 0;
    char *p = realloc(s->store, len + 1);
    if (p == NULL)
        return -ENOMEM;
    s->store = p;
    s->store_cap = len + 1;
    return 0;
}

/* Splits the line into s->toks; 0 tokens for a blank line; on error the
 * ERR line is written and a negative value returned. */
static int txt__split(txt_req *r, const char *line, size_t len)
{
    txt_sess *s = r->s;
    if (txt__reserve_store(s, len) < 0)
        return txt__err(r, -ENOMEM);
    size_t off = 0;
    int n = txt_tokenize(line, len, s->store, s->toks, s->max_tokens, &off);
    if (n == TXT_TOK_ETOOMANY) {
        txt__printf(r, "ERR BADARGUMENTS too many tokens (at most %zu)\n", s->max_tokens);
    } else if (n < 0) {
        txt__put(r, "ERR BADARGUMENTS ");
        txt__put(r, txt_tok_strerror(n));
        txt__printf(r, " at byte %zu\n", off);
    }
    return n < 0 ? REG_EBADARGUMENTS : n;
}

static int txt__check_arity(txt_req *r, const txt_cmd *cmd)
{
    size_t nargs = r->argc - 1;
    if (nargs >= cmd->min_args && nargs <= cmd->max_args)
        return 0;
    txt__put(r, "ERR BADARGUMENTS wrong number of arguments; usage: ");
    txt__put(r, cmd->usage);
    txt__put(r, "\n");
    return REG_EBADARGUMENTS;
}

/* Runs the verb of a split line; returns <0 if it was rejected. */
static int txt__run(txt_req *r, const txt_cmd **cmdp)
{
    const txt_cmd *cmd = txt__lookup(&r->argv[0]);
    if (cmd == NULL)
        return txt__bad(r, "unknown command", &r->argv[0]);
    int rc = txt__check_arity(r, cmd);
    if (rc < 0)
        return rc;
    *cmdp = cmd;
    r->touch_err = reg_session_touch(r->s->reg, r->s->session, r->now_ms);
    return cmd->fn(r);
}

/* Hands the op of a WRITE handler to the pipeline's first stage. */
static int txt__start_write(txt_req *r, const txt_cmd *cmd, reg_txn **txn)
{
    int rc = reg_prepare(r->s->reg, r->s->session, &r->op, r->now_ms, txn);
    if (rc < 0) {
        *txn = NULL;
        txt__err(r, rc == -EINVAL ? REG_EBADARGUMENTS : rc);
        return TXT_DONE;
    }
    r->s->pending = cmd;
    return TXT_PENDING;
}

/* Replaces a reply that did not fit the output buffer. */
static int txt__overflow(zk_buf *out, size_t mark)
{
    txt_buf_truncate(out, mark);
    size_t before = out->len;
    txt_reply_error(out, REG_ESYSTEMERROR, "reply does not fit the output buffer");
    return out->len == before ? TXT_CLOSE : TXT_DONE;
}

/* Gives back request-scoped memory that one large request made grow. */
static void txt__trim(txt_sess *s)
{
    if (s->store_cap > TXT_KEEP_BYTES) {
        free(s->store);
        s->store = NULL;
        s->store_cap = 0;
    }
    if (s->scratch.cap > TXT_KEEP_BYTES)
        zk_buf_free(&s->scratch);
    s->scratch.len = 0;
}

static int txt__line(txt_sess *s, const char *line, size_t len, int64_t now_ms,
                     zk_buf *out, reg_txn **txn)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    txt_req r = {.s = s, .argv = s->toks, .now_ms = now_ms, .out = out};
    size_t mark = out->len;
    const txt_cmd *cmd = NULL;
    int rc = txt__split(&r, line, len);
    if (rc > 0) {
        r.argc = (size_t)rc;
        rc = txt__run(&r, &cmd);
    }
    if (r.err < 0)
        return txt__overflow(out, mark);
    if (rc < 0 || cmd == NULL)
        return TXT_DONE;
    if (cmd->flags & TXT_CMD_WRITE)
        return txt__start_write(&r, cmd, txn);
    return (cmd->flags & TXT_CMD_CLOSE) ? TXT_CLOSE : TXT_DONE;
}

int txt_sess_line(txt_sess *s, const char *line, size_t len, int64_t now_ms,
                  zk_buf *out, reg_txn **txn)
{
    *txn = NULL;
    if (s->pending != NULL) {
        txt_reply_error(out, REG_ERUNTIMEINCONSISTENCY, "a write is still pending");
        return TXT_DONE;
    }
    int status = txt__line(s, line, len, now_ms, out, txn);
    txt__trim(s);
    return status;
}

/* ---- write replies and events ------------------------------------------- */

static int txt__format_result(const txt_cmd *cmd, const reg_result *res, zk_buf *out)
{
    int rc = zk_buf_append(out, "OK", 2);
    if (rc == 0 && cmd->reply == TXT_REPLY_PATH) {
        rc = zk_buf_putc(out, ' ');
        if (rc == 0)
            rc = txt_quote(out, res->path ? res->path : "", res->path ? strlen(res->path) : 0);
    } else if (rc == 0 && cmd->reply == TXT_REPLY_STAT) {
        rc = txt__stat(out, &res->stat);
    }
    return rc == 0 ? zk_buf_putc(out, '\n') : rc;
}

void txt_sess_finish(txt_sess *s, const reg_result *res, zk_buf *out)
{
    const txt_cmd *cmd = s->pending;
    s->pending = NULL;
    if (cmd == NULL) {
        txt_reply_error(out, REG_ERUNTIMEINCONSISTENCY, "no write is pending");
        return;
    }
    if (res->err != 0) {
        txt_reply_error(out, res->err, NULL);
        return;
    }
    size_t mark = out->len;
    if (txt__format_result(cmd, res, out) < 0)
        (void)txt__overflow(out, mark);
}

static const char *txt__event_name(int type)
{
    switch (type) {
    case REG_EVENT_CREATED: return "created";
    case REG_EVENT_DELETED: return "deleted";
    case REG_EVENT_CHANGED: return "changed";
    case REG_EVENT_CHILDREN: return "children";
    default: return "unknown";
    }
}

void txt_sess_event(txt_sess *s, int type, const char *path, int64_t zxid,
                    zk_buf *out)
{
    (void)s;
    size_t mark = out->len;
    int rc = zk_buf_printf(out, "EVENT %s ", txt__event_name(type));
    if (rc == 0)
        rc = txt_quote(out, path, strlen(path));
    if (rc == 0)
        rc = zk_buf_printf(out, " zxid=%" PRId64 "\n", zxid);
    if (rc < 0)
        txt_buf_truncate(out, mark);
}
