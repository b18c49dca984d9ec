/*
 * proto_text_node.c - the znode verbs of the socket protocol: CREATE, SET,
 * DELETE (writes: they only build a reg_op), GET, EXISTS, CHILDREN, GETACL,
 * WATCH and UNWATCH (reads: they call the registry and reply at once).
 *
 * Keywords (watch, recursive, the CREATE flags, version=, ttl=) match only
 * unquoted tokens, ignoring ASCII case; a quoted token is always data. In
 * CREATE the token after the path is data unless it is an unquoted flag word
 * or ttl= option, so `CREATE /a ephemeral` makes an empty ephemeral node and
 * `CREATE /a "ephemeral"` a persistent node holding the word.
 */
#include "text_internal.h"

#include <string.h>

bool txt__parse_int(const char *p, size_t len, long long min, long long max,
                    long long *v)
{
    size_t i = 0;
    bool neg = len > 0 && p[0] == '-' && min < 0;
    if (neg)
        i++;
    if (i == len || len - i > 18)
        return false;
    long long n = 0;
    for (; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        n = n * 10 + (p[i] - '0');
    }
    n = neg ? -n : n;
    if (n < min || n > max)
        return false;
    *v = n;
    return true;
}

int txt__arg_path(txt_req *r, size_t i, bool sequential, const char **path)
{
    const txt_tok *t = &r->argv[i];
    if (memchr(t->p, '\0', t->len) != NULL ||
        reg_path_validate(r->s->reg, t->p, sequential) != 0)
        return txt__bad(r, "invalid path", t);
    *path = t->p;
    return 0;
}

/* The optional "watch" keyword at argv[i]: the watcher to pass, or 0. */
static int node__arg_watch(txt_req *r, size_t i, uint64_t *watcher)
{
    *watcher = 0;
    if (i >= r->argc)
        return 0;
    if (!txt_tok_is(&r->argv[i], "watch"))
        return txt__bad(r, "expected 'watch'", &r->argv[i]);
    *watcher = r->s->watcher;
    return 0;
}

/* The optional "version=N" at argv[i] (N an int32; default -1 = any). */
static int node__arg_version(txt_req *r, size_t i, int32_t *version)
{
    const char *v;
    size_t vlen;
    long long n;
    *version = -1;
    if (i >= r->argc)
        return 0;
    if (!txt_tok_option(&r->argv[i], "version=", &v, &vlen))
        return txt__bad(r, "expected version=N", &r->argv[i]);
    if (!txt__parse_int(v, vlen, INT32_MIN, INT32_MAX, &n))
        return txt__bad(r, "version must be a 32-bit integer", &r->argv[i]);
    *version = (int32_t)n;
    return 0;
}

/* ---- writes ------------------------------------------------------------- */

static const struct {
    const char *word;
    uint32_t flag;
} node__create_flags[] = {
    {"ephemeral", REG_CREATE_EPHEMERAL},
    {"sequential", REG_CREATE_SEQUENTIAL},
    {"container", REG_CREATE_CONTAINER},
    {"parents", REG_CREATE_PARENTS},
};

/* The flag named by t (unquoted), or 0. */
static uint32_t node__create_flag(const txt_tok *t)
{
    for (size_t i = 0; i < sizeof(node__create_flags) / sizeof(node__create_flags[0]); i++)
        if (txt_tok_is(t, node__create_flags[i].word))
            return node__create_flags[i].flag;
    return 0;
}

static bool node__is_create_keyword(const txt_tok *t)
{
    const char *v;
    size_t vlen;
    return node__create_flag(t) != 0 || txt_tok_option(t, "ttl=", &v, &vlen);
}

/* Applies one CREATE keyword token to r->op. */
static int node__create_keyword(txt_req *r, const txt_tok *t)
{
    const char *v;
    size_t vlen;
    long long ms;
    uint32_t flag = node__create_flag(t);
    if (flag == 0 && !txt_tok_option(t, "ttl=", &v, &vlen))
        return txt__bad(r, "unknown CREATE flag", t);
    if (flag == 0 && !txt__parse_int(v, vlen, 1, INT64_MAX / 4, &ms))
        return txt__bad(r, "ttl must be a positive number of milliseconds", t);
    if (flag == 0) {
        flag = REG_CREATE_TTL;
        r->op.ttl_ms = ms;
    }
    if (r->op.create_flags & flag)
        return txt__bad(r, "duplicate CREATE flag", t);
    r->op.create_flags |= flag;
    return 0;
}

static int node__create_check(txt_req *r)
{
    uint32_t f = r->op.create_flags;
    uint32_t kinds = f & (REG_CREATE_EPHEMERAL | REG_CREATE_CONTAINER | REG_CREATE_TTL);
    if (kinds & (kinds - 1))
        return txt__bad(r, "ephemeral, container and ttl= exclude each other", NULL);
    if ((f & REG_CREATE_CONTAINER) && (f & REG_CREATE_SEQUENTIAL))
        return txt__bad(r, "a container cannot be sequential", NULL);
    return 0;
}

int txt__cmd_create(txt_req *r)
{
    size_t i = 2;
    r->op.type = REG_OP_CREATE;
    if (r->argc > 2 && !node__is_create_keyword(&r->argv[2])) {
        r->op.data = r->argv[2].p;
        r->op.data_len = r->argv[2].len;
        i = 3;
    }
    for (; i < r->argc; i++)
        if (node__create_keyword(r, &r->argv[i]) < 0)
            return REG_EBADARGUMENTS;
    if (node__create_check(r) < 0)
        return REG_EBADARGUMENTS;
    bool seq = (r->op.create_flags & REG_CREATE_SEQUENTIAL) != 0;
    return txt__arg_path(r, 1, seq, &r->op.path);
}

int txt__cmd_set(txt_req *r)
{
    r->op.type = REG_OP_SET_DATA;
    r->op.data = r->argv[2].p;
    r->op.data_len = r->argv[2].len;
    if (txt__arg_path(r, 1, false, &r->op.path) < 0)
        return REG_EBADARGUMENTS;
    return node__arg_version(r, 3, &r->op.version);
}

int txt__cmd_delete(txt_req *r)
{
    r->op.type = REG_OP_DELETE;
    if (txt__arg_path(r, 1, false, &r->op.path) < 0)
        return REG_EBADARGUMENTS;
    return node__arg_version(r, 2, &r->op.version);
}

/* ---- reads -------------------------------------------------------------- */

/* Path and optional "watch" of GET, EXISTS and CHILDREN. */
static int node__read_args(txt_req *r, const char **path, uint64_t *watcher)
{
    if (txt__arg_path(r, 1, false, path) < 0)
        return REG_EBADARGUMENTS;
    return node__arg_watch(r, 2, watcher);
}

int txt__cmd_get(txt_req *r)
{
    const char *path = NULL;
    uint64_t watcher;
    const void *data = NULL;
    size_t len = 0;
    reg_stat st;
    if (node__read_args(r, &path, &watcher) < 0)
        return REG_EBADARGUMENTS;
    int rc = reg_get(r->s->reg, r->s->session, path, watcher, &data, &len, &st);
    if (rc < 0)
        return txt__err(r, rc);
    txt__put(r, "OK ");
    txt__quote(r, data, len);
    txt__put_stat(r, &st);
    txt__put(r, "\n");
    return 0;
}

int txt__cmd_exists(txt_req *r)
{
    const char *path = NULL;
    uint64_t watcher;
    reg_stat st;
    if (node__read_args(r, &path, &watcher) < 0)
        return REG_EBADARGUMENTS;
    int rc = reg_exists(r->s->reg, r->s->session, path, watcher, &st);
    if (rc < 0)
        return txt__err(r, rc);
    txt__put(r, "OK");
    txt__put_stat(r, &st);
    txt__put(r, "\n");
    return 0;
}

typedef struct node__names {
    zk_buf *buf;
    size_t count;
    int err;
} node__names;

static void node__add_name(void *ctx, const char *name, size_t len)
{
    node__names *n = ctx;
    if (n->err == 0)
        n->err = zk_buf_putc(n->buf, ' ');
    if (n->err == 0)
        n->err = txt_quote(n->buf, name, len);
    n->count++;
}

int txt__cmd_children(txt_req *r)
{
    const char *path = NULL;
    uint64_t watcher;
    node__names names = {.buf = &r->s->scratch};
    if (node__read_args(r, &path, &watcher) < 0)
        return REG_EBADARGUMENTS;
    int rc = reg_children(r->s->reg, r->s->session, path, watcher, NULL,
                          node__add_name, &names);
    if (rc < 0)
        return txt__err(r, rc);
    if (names.err < 0 && r->err == 0)
        r->err = names.err;
    txt__printf(r, "OK %zu", names.count);
    if (names.count > 0)
        txt__put(r, names.buf->data);
    txt__put(r, "\n");
    return 0;
}

typedef struct node__acls {
    zk_buf *buf;
    size_t count;
    int err;
} node__acls;

/* One ACL entry as ZooKeeper's text form scheme:id:perms (perms in "cdrwa"). */
static void node__add_acl(void *ctx, const reg_acl *acl)
{
    static const struct { int32_t bit; char c; } perms[] = {
        {REG_PERM_CREATE, 'c'}, {REG_PERM_DELETE, 'd'}, {REG_PERM_READ, 'r'},
        {REG_PERM_WRITE, 'w'}, {REG_PERM_ADMIN, 'a'},
    };
    node__acls *a = ctx;
    zk_buf entry = {0};
    zk_buf_init(&entry, 0);
    int rc = zk_buf_printf(&entry, "%s:%s:", acl->scheme, acl->id);
    for (size_t i = 0; i < sizeof(perms) / sizeof(perms[0]) && rc == 0; i++)
        if (acl->perms & perms[i].bit)
            rc = zk_buf_putc(&entry, perms[i].c);
    if (rc == 0 && a->err == 0)
        rc = zk_buf_putc(a->buf, ' ');
    if (rc == 0 && a->err == 0)
        rc = txt_quote(a->buf, entry.data, entry.len);
    if (rc < 0 && a->err == 0)
        a->err = rc;
    a->count++;
    zk_buf_free(&entry);
}

int txt__cmd_getacl(txt_req *r)
{
    const char *path = NULL;
    reg_stat st;
    node__acls acls = {.buf = &r->s->scratch};
    if (txt__arg_path(r, 1, false, &path) < 0)
        return REG_EBADARGUMENTS;
    int rc = reg_get_acl(r->s->reg, r->s->session, path, &st, node__add_acl, &acls);
    if (rc < 0)
        return txt__err(r, rc);
    if (acls.err < 0 && r->err == 0)
        r->err = acls.err;
    txt__printf(r, "OK %zu", acls.count);
    if (acls.count > 0)
        txt__put(r, acls.buf->data);
    txt__put(r, "\n");
    return 0;
}

int txt__cmd_watch(txt_req *r)
{
    const char *path = NULL;
    int mode = REG_WATCH_PERSISTENT;
    if (txt__arg_path(r, 1, false, &path) < 0)
        return REG_EBADARGUMENTS;
    if (r->argc > 2 && !txt_tok_is(&r->argv[2], "recursive"))
        return txt__bad(r, "expected 'recursive'", &r->argv[2]);
    if (r->argc > 2)
        mode = REG_WATCH_PERSISTENT_RECURSIVE;
    int rc = reg_watch_add(r->s->reg, r->s->watcher, path, mode);
    if (rc < 0)
        return txt__err(r, rc);
    txt__put(r, "OK\n");
    return 0;
}

int txt__cmd_unwatch(txt_req *r)
{
    const char *path = NULL;
    if (txt__arg_path(r, 1, false, &path) < 0)
        return REG_EBADARGUMENTS;
    int rc = reg_watch_remove(r->s->reg, r->s->watcher, path, REG_WATCHER_ANY, true);
    if (rc < 0)
        return txt__err(r, rc);
    txt__put(r, "OK\n");
    return 0;
}
