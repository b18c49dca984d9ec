/*
 * proto_zk_reply.c - ZooKeeper client protocol, the reply side: one
 * function per reply body of ZooKeeper 3.4 to 3.8, each appending a whole
 * frame (length, ReplyHeader, body) built with the streaming writer.
 *
 * The daemon may also build replies itself with zkp_w_* (for example to
 * stream children out of reg_children); these functions cover the replies
 * whose content it already holds.
 */
#include "proto_zk_jute.h"

#include <string.h>

int zkp_connect_reply(zk_buf *out, const zkp_connect *req, int32_t timeout_ms,
                      int64_t session_id, const uint8_t *passwd, bool read_only)
{
    static const uint8_t zero[ZKP_PASSWD_LEN];
    zkp_writer w;
    zkp__w_start(&w, out);
    zkp_w_int(&w, 0); /* protocolVersion */
    zkp_w_int(&w, timeout_ms);
    zkp_w_long(&w, session_id);
    zkp_w_buffer(&w, passwd ? passwd : zero, ZKP_PASSWD_LEN);
    if (req->has_read_only)
        zkp_w_bool(&w, read_only);
    return zkp_w_end(&w);
}

int zkp_reply_header(zk_buf *out, int32_t xid, int64_t zxid, int err)
{
    zkp_writer w;
    zkp_w_begin(&w, out, xid, zxid, err);
    return zkp_w_end(&w);
}

static void zkp__w_cstr(zkp_writer *w, const char *s)
{
    zkp_w_string(w, s, s ? strlen(s) : 0);
}

int zkp_reply_path(zk_buf *out, int32_t xid, int64_t zxid, const char *path)
{
    zkp_writer w;
    zkp_w_begin(&w, out, xid, zxid, 0);
    zkp__w_cstr(&w, path);
    return zkp_w_end(&w);
}

int zkp_reply_create2(zk_buf *out, int32_t xid, int64_t zxid, const char *path,
                      const reg_stat *st)
{
    zkp_writer w;
    zkp_w_begin(&w, out, xid, zxid, 0);
    zkp__w_cstr(&w, path);
    zkp_w_stat(&w, st);
    return zkp_w_end(&w);
}

int zkp_reply_stat(zk_buf *out, int32_t xid, int64_t zxid, const reg_stat *st)
{
    zkp_writer w;
    zkp_w_begin(&w, out, xid, zxid, 0);
    zkp_w_stat(&w, st);
    return zkp_w_end(&w);
}

int zkp_reply_data(zk_buf *out, int32_t xid, int64_t zxid, const void *data,
                   size_t len, const reg_stat *st)
{
    zkp_writer w;
    zkp_w_begin(&w, out, xid, zxid, 0);
    zkp_w_buffer(&w, data, len);
    zkp_w_stat(&w, st);
    return zkp_w_end(&w);
}

int zkp_reply_acl(zk_buf *out, int32_t xid, int64_t zxid, const reg_acl *acl,
                  size_t n, const reg_stat *st)
{
    zkp_writer w;
    zkp_w_begin(&w, out, xid, zxid, 0);
    zkp_w_vec_begin(&w);
    for (size_t i = 0; i < n; i++)
        zkp_w_vec_acl(&w, &acl[i]);
    zkp_w_vec_end(&w);
    zkp_w_stat(&w, st);
    return zkp_w_end(&w);
}

int zkp_reply_strings(zk_buf *out, int32_t xid, int64_t zxid,
                      const char *const *v, size_t n, const reg_stat *st)
{
    zkp_writer w;
    zkp_w_begin(&w, out, xid, zxid, 0);
    zkp_w_vec_begin(&w);
    for (size_t i = 0; i < n; i++)
        zkp_w_vec_path(&w, v[i]);
    zkp_w_vec_end(&w);
    if (st)
        zkp_w_stat(&w, st);
    return zkp_w_end(&w);
}

int zkp_reply_int(zk_buf *out, int32_t xid, int64_t zxid, int32_t v)
{
    zkp_writer w;
    zkp_w_begin(&w, out, xid, zxid, 0);
    zkp_w_int(&w, v);
    return zkp_w_end(&w);
}

int zkp_reply_whoami(zk_buf *out, int32_t xid, int64_t zxid,
                     const reg_auth *ids, size_t n)
{
    zkp_writer w;
    zkp_w_begin(&w, out, xid, zxid, 0);
    zkp_w_vec_begin(&w);
    for (size_t i = 0; i < n; i++) {
        zkp__w_elem(&w); /* ClientInfo {authScheme, user} */
        zkp__w_cstr(&w, ids[i].scheme);
        zkp__w_cstr(&w, ids[i].id);
    }
    zkp_w_vec_end(&w);
    return zkp_w_end(&w);
}

/* The body of one successful sub-result of a committed multi. */
static void zkp__multi_ok(zkp_writer *w, const zkp_request *op,
                          const reg_result *sub)
{
    switch (op->type) {
    case ZKP_OP_CREATE:
    case ZKP_OP_CREATE2: /* ZooKeeper 3.8 turns a create2 sub-op into Op.create */
        zkp_w_multi_op(w, ZKP_OP_CREATE, 0);
        zkp__w_cstr(w, sub->path);
        break;
    case ZKP_OP_CREATE_CONTAINER:
    case ZKP_OP_CREATE_TTL: /* ZooKeeper's CreateResult with a stat: create2 */
        zkp_w_multi_op(w, ZKP_OP_CREATE2, 0);
        zkp__w_cstr(w, sub->path);
        zkp_w_stat(w, &sub->stat);
        break;
    case ZKP_OP_SET_DATA:
        zkp_w_multi_op(w, ZKP_OP_SET_DATA, 0);
        zkp_w_stat(w, &sub->stat);
        break;
    case ZKP_OP_DELETE:
    case ZKP_OP_CHECK:
        zkp_w_multi_op(w, op->type, 0);
        break;
    default:
        if (w->err == 0)
            w->err = -EINVAL;
    }
}

int zkp_reply_multi(zk_buf *out, int32_t xid, int64_t zxid,
                    const zkp_request *req, const reg_result *res)
{
    if (res->nsub != req->nops || (req->nops > 0 && res->sub == NULL))
        return -EINVAL;
    zkp_writer w;
    zkp_w_begin(&w, out, xid, zxid, 0);
    for (size_t i = 0; i < req->nops; i++) {
        if (res->err != 0)
            zkp__w_multi_error(&w, reg_err_to_zk(res->sub[i].err));
        else
            zkp__multi_ok(&w, &req->ops[i], &res->sub[i]);
    }
    zkp_w_multi_done(&w);
    return zkp_w_end(&w);
}

int zkp_reply_sasl(zk_buf *out, int32_t xid, const void *token, size_t len)
{
    zkp_writer w;
    zkp_w_begin(&w, out, xid, 0, 0);
    zkp_w_buffer(&w, token, len);
    return zkp_w_end(&w);
}

int zkp_reply_event(zk_buf *out, int64_t zxid, int type, int state,
                    const char *path)
{
    zkp_writer w;
    zkp_w_begin(&w, out, ZKP_XID_NOTIFICATION, zxid, 0);
    zkp_w_int(&w, type);
    zkp_w_int(&w, state);
    zkp__w_cstr(&w, path);
    return zkp_w_end(&w);
}
