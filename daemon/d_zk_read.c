/*
 * d_zk_read.c - ZooKeeper requests answered at once from the committed tree
 * and the connection: reads, watches, sync, ping, sasl.
 *
 * They only ever run when none of the connection's writes is waiting (see
 * d_zk_int.h), so a read sees the session's own writes and a reply can go
 * straight to the output. Each handler appends one reply frame and returns
 * 0, or a negative error when the reply could not be encoded (the output
 * cap), which closes the connection. Lists stream from the registry into
 * the reply with the codec's writer: nothing is copied in between. The
 * ReplyHeader carries the newest committed zxid, as ZooKeeper's
 * lastProcessedZxid; a watch set by a read belongs to the connection's
 * watcher id.
 */
#include <errno.h>
#include <string.h>

#include "d_zk_int.h"

static int64_t read__zxid(const zkd_zk_conn *c)
{
    return reg_last_zxid(c->d->reg);
}

static uint64_t read__watcher(zkd_zk_conn *c, bool watch)
{
    c->watching |= watch;
    return watch ? c->id : 0;
}

int zkd_zk_exists(zkd_zk_conn *c, const zkp_request *req)
{
    reg_stat st;
    int rc = reg_exists(c->d->reg, c->session, req->path.s, read__watcher(c, req->watch), &st);
    if (rc != 0)
        return zkd_zk_reply_err(c, req->xid, rc);
    return zkp_reply_stat(&c->out, req->xid, read__zxid(c), &st);
}

int zkd_zk_get_data(zkd_zk_conn *c, const zkp_request *req)
{
    const void *data = NULL;
    size_t len = 0;
    reg_stat st;
    int rc = reg_get(c->d->reg, c->session, req->path.s, read__watcher(c, req->watch), &data,
                     &len, &st);
    if (rc != 0)
        return zkd_zk_reply_err(c, req->xid, rc);
    return zkp_reply_data(&c->out, req->xid, read__zxid(c), data, len, &st);
}

/* getChildren and getChildren2 (the latter adds the parent's stat). */
int zkd_zk_get_children(zkd_zk_conn *c, const zkp_request *req)
{
    zkp_writer w;
    reg_stat st;
    zkp_w_begin(&w, &c->out, req->xid, read__zxid(c), 0);
    zkp_w_vec_begin(&w);
    int rc = reg_children(c->d->reg, c->session, req->path.s, read__watcher(c, req->watch),
                          &st, zkp_w_vec_name, &w);
    if (rc != 0) {
        zkp_w_abort(&w);
        return zkd_zk_reply_err(c, req->xid, rc);
    }
    zkp_w_vec_end(&w);
    if (req->type == ZKP_OP_GET_CHILDREN2)
        zkp_w_stat(&w, &st);
    return zkp_w_end(&w);
}

int zkd_zk_get_acl(zkd_zk_conn *c, const zkp_request *req)
{
    zkp_writer w;
    reg_stat st;
    zkp_w_begin(&w, &c->out, req->xid, read__zxid(c), 0);
    zkp_w_vec_begin(&w);
    int rc = reg_get_acl(c->d->reg, c->session, req->path.s, &st, zkp_w_vec_acl, &w);
    if (rc != 0) {
        zkp_w_abort(&w);
        return zkd_zk_reply_err(c, req->xid, rc);
    }
    zkp_w_vec_end(&w);
    zkp_w_stat(&w, &st);
    return zkp_w_end(&w);
}

typedef struct read__eph_ctx {
    zkp_writer *w;
    const char *prefix; /* NULL: every ephemeral */
    size_t len;
} read__eph_ctx;

static void read__eph_one(void *ctx, const char *path)
{
    read__eph_ctx *e = ctx;
    if (e->prefix == NULL || strncmp(path, e->prefix, e->len) == 0)
        zkp_w_vec_path(e->w, path);
}

/* ZooKeeper matches the prefix as a plain string; blank or "/" is all. */
static const char *read__eph_prefix(const zkp_str *p)
{
    const char *s = p->s ? p->s : "";
    size_t n = strspn(s, " \t\r\n");
    const char *t = s + n;
    size_t m = strlen(t);
    while (m > 0 && strchr(" \t\r\n", t[m - 1]))
        m--;
    return m == 0 || (m == 1 && t[0] == '/') ? NULL : s;
}

int zkd_zk_get_ephemerals(zkd_zk_conn *c, const zkp_request *req)
{
    zkp_writer w;
    read__eph_ctx e = {.w = &w, .prefix = read__eph_prefix(&req->path)};
    e.len = e.prefix ? strlen(e.prefix) : 0;
    zkp_w_begin(&w, &c->out, req->xid, read__zxid(c), 0);
    zkp_w_vec_begin(&w);
    int rc = reg_session_ephemerals(c->d->reg, c->session, read__eph_one, &e);
    if (rc != 0) {
        zkp_w_abort(&w);
        return zkd_zk_reply_err(c, req->xid, rc);
    }
    zkp_w_vec_end(&w);
    return zkp_w_end(&w);
}

int zkd_zk_all_children(zkd_zk_conn *c, const zkp_request *req)
{
    int32_t n = 0;
    int rc = reg_all_children_number(c->d->reg, c->session, req->path.s, &n);
    if (rc != 0)
        return zkd_zk_reply_err(c, req->xid, rc);
    return zkp_reply_int(&c->out, req->xid, read__zxid(c), n);
}

/* ---- multiRead ---------------------------------------------------------- */

static void read__multi_get(zkd_zk_conn *c, zkp_writer *w, const zkp_request *op)
{
    const void *data = NULL;
    size_t len = 0;
    reg_stat st;
    int rc = reg_get(c->d->reg, c->session, op->path.s, read__watcher(c, op->watch), &data,
                     &len, &st);
    if (zkp_w_multi_op(w, ZKP_OP_GET_DATA, rc)) {
        zkp_w_buffer(w, data, len);
        zkp_w_stat(w, &st);
    }
}

static void read__multi_children(zkd_zk_conn *c, zkp_writer *w, const zkp_request *op)
{
    size_t mark = zkp_w_mark(w);
    zkp_w_multi_op(w, ZKP_OP_GET_CHILDREN, 0);
    zkp_w_vec_begin(w);
    int rc = reg_children(c->d->reg, c->session, op->path.s, read__watcher(c, op->watch),
                          NULL, zkp_w_vec_name, w);
    if (rc != 0) {
        zkp_w_rewind(w, mark);
        zkp_w_multi_op(w, ZKP_OP_GET_CHILDREN, rc);
    } else {
        zkp_w_vec_end(w);
    }
}

/* Each sub-read answers on its own: a result or an error result. */
int zkd_zk_multi_read(zkd_zk_conn *c, const zkp_request *req)
{
    zkp_writer w;
    zkp_w_begin(&w, &c->out, req->xid, read__zxid(c), 0);
    for (size_t i = 0; i < req->nops; i++) {
        if (req->ops[i].type == ZKP_OP_GET_DATA)
            read__multi_get(c, &w, &req->ops[i]);
        else
            read__multi_children(c, &w, &req->ops[i]);
    }
    zkp_w_multi_done(&w);
    return zkp_w_end(&w);
}

/* ---- the rest ----------------------------------------------------------- */

/* Standalone, every committed write is already visible: sync only has to
 * keep its place behind the connection's writes, which it does by waiting
 * like any read. */
int zkd_zk_sync(zkd_zk_conn *c, const zkp_request *req)
{
    return zkp_reply_path(&c->out, req->xid, read__zxid(c), req->path.s);
}

int zkd_zk_ping(zkd_zk_conn *c, const zkp_request *req)
{
    return zkp_reply_header(&c->out, req->xid, read__zxid(c), 0);
}

/* ZooKeeper without SASL configured answers a null token. */
int zkd_zk_sasl(zkd_zk_conn *c, const zkp_request *req)
{
    return zkp_reply_sasl(&c->out, req->xid, NULL, 0);
}

/* setWatches and setWatches2 after a reconnect: what the client missed
 * fires at once, before this reply. */
int zkd_zk_set_watches(zkd_zk_conn *c, const zkp_request *req)
{
    const zkp_watches *w = req->watches;
    c->watching = true;
    int rc = reg_set_watches(c->d->reg, c->id, w->rel_zxid, w->data.v, w->data.n,
                             w->exist.v, w->exist.n, w->child.v, w->child.n,
                             w->persistent.v, w->persistent.n, w->recursive.v,
                             w->recursive.n);
    return zkd_zk_reply_err(c, req->xid, rc);
}

/* addWatch answers an ErrorResponse(0) body. A mode other than 0 and 1 is
 * ZooKeeper's IllegalArgumentException: MARSHALLINGERROR. */
int zkd_zk_add_watch(zkd_zk_conn *c, const zkp_request *req)
{
    if (req->mode != REG_WATCH_PERSISTENT && req->mode != REG_WATCH_PERSISTENT_RECURSIVE)
        return zkd_zk_reply_err(c, req->xid, REG_EMARSHALLINGERROR);
    c->watching = true;
    int rc = reg_watch_add(c->d->reg, c->id, req->path.s, req->mode);
    if (rc != 0)
        return zkd_zk_reply_err(c, req->xid, rc);
    return zkp_reply_int(&c->out, req->xid, read__zxid(c), 0);
}

/* removeWatches and checkWatches. ZooKeeper 3.8's WatcherType knows 1
 * (children), 2 (data) and 3 (any); anything else fails its conversion:
 * MARSHALLINGERROR. */
int zkd_zk_remove_watches(zkd_zk_conn *c, const zkp_request *req)
{
    if (req->mode < REG_WATCHER_CHILDREN || req->mode > REG_WATCHER_ANY)
        return zkd_zk_reply_err(c, req->xid, REG_EMARSHALLINGERROR);
    bool remove = req->type == ZKP_OP_REMOVE_WATCHES;
    int rc = reg_watch_remove(c->d->reg, c->id, req->path.s, req->mode, remove);
    return zkd_zk_reply_err(c, req->xid, rc);
}
