/*
 * proto_zk_req.c - ZooKeeper client protocol, the request side: framing,
 * the ConnectRequest, and one table of every request type of ZooKeeper 3.4
 * to 3.8 with the decoder of its body.
 *
 * A body decoder reads its jute fields straight down with the sticky-error
 * reader (proto_zk_jute.h); zkp_request_decode then checks the reader's
 * error and that the body ended exactly at the end of the frame. multi and
 * multiRead reuse the same table for their sub-operations, so a sub-op is
 * decoded exactly like the request of the same type.
 */
#include "proto_zk_jute.h"

#include <string.h>

typedef void (*zkp__body_fn)(zkp__rd *r, zkp_request *req);

static uint32_t zkp__be32(const uint8_t *q)
{
    return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
}

/* ---- framing ----------------------------------------------------------- */

int zkp_frame_next(uint8_t *buf, size_t len, size_t max_frame, uint8_t **frame,
                   size_t *frame_len)
{
    if (len < 4)
        return ZKP_FRAME_MORE;
    int32_t n = (int32_t)zkp__be32(buf);
    if (n < 0 || (size_t)n > max_frame)
        return ZKP_EFRAME;
    if (len - 4 < (size_t)n)
        return ZKP_FRAME_MORE;
    *frame = buf + 4;
    *frame_len = (size_t)n;
    return ZKP_FRAME;
}

/* ---- connect ----------------------------------------------------------- */

int zkp_connect_decode(const uint8_t *frame, size_t len, zkp_connect *c)
{
    zkp__rd r;
    memset(c, 0, sizeof(*c));
    /* No string is read here, so the frame is never written. */
    zkp__rd_init(&r, (uint8_t *)(uintptr_t)frame, len, NULL);
    c->protocol_version = zkp__rd_int(&r);
    c->last_zxid_seen = zkp__rd_long(&r);
    c->timeout_ms = zkp__rd_int(&r);
    c->session_id = zkp__rd_long(&r);
    c->passwd = zkp__rd_buffer(&r);
    if (r.err == 0 && zkp__rd_left(&r) == 1) { /* 3.4 C clients omit it */
        c->read_only = zkp__rd_bool(&r);
        c->has_read_only = true;
    }
    int rc = zkp__rd_finish(&r);
    if (rc < 0)
        memset(c, 0, sizeof(*c));
    return rc;
}

/* ---- bodies ------------------------------------------------------------ */

static void zkp__body_none(zkp__rd *r, zkp_request *req)
{
    (void)r;
    (void)req;
}

static void zkp__body_path(zkp__rd *r, zkp_request *req)
{
    req->path = zkp__rd_string(r, false);
}

/* exists, getData, getChildren, getChildren2 */
static void zkp__body_path_watch(zkp__rd *r, zkp_request *req)
{
    req->path = zkp__rd_string(r, false);
    req->watch = zkp__rd_bool(r);
}

/* delete, check */
static void zkp__body_path_version(zkp__rd *r, zkp_request *req)
{
    req->path = zkp__rd_string(r, false);
    req->version = zkp__rd_int(r);
}

/* checkWatches, removeWatches (WatcherType), addWatch (AddWatchMode) */
static void zkp__body_path_mode(zkp__rd *r, zkp_request *req)
{
    req->path = zkp__rd_string(r, false);
    req->mode = zkp__rd_int(r);
}

/* create, create2, createContainer: CreateRequest */
static void zkp__body_create(zkp__rd *r, zkp_request *req)
{
    req->path = zkp__rd_string(r, false);
    req->data = zkp__rd_buffer(r);
    req->acl = zkp__rd_aclv(r);
    req->flags = zkp__rd_int(r);
    req->ttl = -1;
}

/* createTTL: CreateTTLRequest */
static void zkp__body_create_ttl(zkp__rd *r, zkp_request *req)
{
    zkp__body_create(r, req);
    req->ttl = zkp__rd_long(r);
}

static void zkp__body_set_data(zkp__rd *r, zkp_request *req)
{
    req->path = zkp__rd_string(r, false);
    req->data = zkp__rd_buffer(r);
    req->version = zkp__rd_int(r);
}

static void zkp__body_set_acl(zkp__rd *r, zkp_request *req)
{
    req->path = zkp__rd_string(r, false);
    req->acl = zkp__rd_aclv(r);
    req->version = zkp__rd_int(r);
}

/* AuthPacket */
static void zkp__body_auth(zkp__rd *r, zkp_request *req)
{
    req->mode = zkp__rd_int(r);
    req->scheme = zkp__rd_string(r, false);
    req->data = zkp__rd_buffer(r);
}

/* GetSASLRequest */
static void zkp__body_sasl(zkp__rd *r, zkp_request *req)
{
    req->data = zkp__rd_buffer(r);
}

/* deleteContainer: ZooKeeper reads the whole body as the path's bytes
 * (server-internal; no client sends it). Slide it one byte back over the
 * already-read header to make room for the terminating NUL. */
static void zkp__body_raw_path(zkp__rd *r, zkp_request *req)
{
    size_t n = zkp__rd_left(r);
    char *dst = (char *)r->p + r->off - 1;
    memmove(dst, r->p + r->off, n);
    dst[n] = '\0';
    r->off += n;
    if (memchr(dst, '\0', n) != NULL)
        r->nul = true;
    req->path.s = dst;
    req->path.len = n;
}

static zkp_watches *zkp__watches_new(zkp__rd *r)
{
    zkp_watches *w = zkp__arena_alloc(r->arena, 1, sizeof(*w));
    if (w == NULL) {
        zkp__rd_fail(r, ZKP_ENOSPACE);
        return NULL;
    }
    memset(w, 0, sizeof(*w));
    w->rel_zxid = zkp__rd_long(r);
    w->data = zkp__rd_strv(r);
    w->exist = zkp__rd_strv(r);
    w->child = zkp__rd_strv(r);
    return w;
}

/* SetWatches */
static void zkp__body_set_watches(zkp__rd *r, zkp_request *req)
{
    req->watches = zkp__watches_new(r);
}

/* SetWatches2 */
static void zkp__body_set_watches2(zkp__rd *r, zkp_request *req)
{
    zkp_watches *w = zkp__watches_new(r);
    if (w == NULL)
        return;
    w->persistent = zkp__rd_strv(r);
    w->recursive = zkp__rd_strv(r);
    req->watches = w;
}

/* ReconfigRequest */
static void zkp__body_reconfig(zkp__rd *r, zkp_request *req)
{
    zkp_reconfig *c = zkp__arena_alloc(r->arena, 1, sizeof(*c));
    if (c == NULL) {
        zkp__rd_fail(r, ZKP_ENOSPACE);
        return;
    }
    c->joining = zkp__rd_string(r, true);
    c->leaving = zkp__rd_string(r, true);
    c->new_members = zkp__rd_string(r, true);
    c->cur_config_id = zkp__rd_long(r);
    req->reconfig = c;
}

static void zkp__body_multi(zkp__rd *r, zkp_request *req);

/* ---- the table --------------------------------------------------------- */

/*
 * Every request type a ZooKeeper 3.4-3.8 client may send.
 *   type, name   ZooDefs.OpCode and its name
 *   flags        ZKP_F_WRITE: a registry write, logged before the reply;
 *                ZKP_F_MULTI / ZKP_F_MULTI_READ: allowed as a sub-operation
 *                of multi / multiRead (ZooKeeper's MultiOperationRecord);
 *                ZKP_F_SESSION: handled by the connection itself.
 *   body         the decoder of its jute body
 */
static const struct zkp__op {
    zkp_opinfo info;
    zkp__body_fn body;
} zkp__ops[] = {
#define W ZKP_F_WRITE
#define M ZKP_F_MULTI
#define R ZKP_F_MULTI_READ
#define S ZKP_F_SESSION
    {{ZKP_OP_CREATE, "create", W | M}, zkp__body_create},
    {{ZKP_OP_DELETE, "delete", W | M}, zkp__body_path_version},
    {{ZKP_OP_EXISTS, "exists", 0}, zkp__body_path_watch},
    {{ZKP_OP_GET_DATA, "getData", R}, zkp__body_path_watch},
    {{ZKP_OP_SET_DATA, "setData", W | M}, zkp__body_set_data},
    {{ZKP_OP_GET_ACL, "getACL", 0}, zkp__body_path},
    {{ZKP_OP_SET_ACL, "setACL", W}, zkp__body_set_acl},
    {{ZKP_OP_GET_CHILDREN, "getChildren", R}, zkp__body_path_watch},
    {{ZKP_OP_SYNC, "sync", 0}, zkp__body_path},
    {{ZKP_OP_PING, "ping", S}, zkp__body_none},
    {{ZKP_OP_GET_CHILDREN2, "getChildren2", 0}, zkp__body_path_watch},
    {{ZKP_OP_CHECK, "check", W | M}, zkp__body_path_version},
    {{ZKP_OP_MULTI, "multi", W}, zkp__body_multi},
    {{ZKP_OP_CREATE2, "create2", W | M}, zkp__body_create},
    {{ZKP_OP_RECONFIG, "reconfig", W}, zkp__body_reconfig},
    {{ZKP_OP_CHECK_WATCHES, "checkWatches", 0}, zkp__body_path_mode},
    {{ZKP_OP_REMOVE_WATCHES, "removeWatches", 0}, zkp__body_path_mode},
    {{ZKP_OP_CREATE_CONTAINER, "createContainer", W | M}, zkp__body_create},
    {{ZKP_OP_DELETE_CONTAINER, "deleteContainer", W}, zkp__body_raw_path},
    {{ZKP_OP_CREATE_TTL, "createTTL", W | M}, zkp__body_create_ttl},
    {{ZKP_OP_MULTI_READ, "multiRead", 0}, zkp__body_multi},
    {{ZKP_OP_AUTH, "auth", S}, zkp__body_auth},
    {{ZKP_OP_SET_WATCHES, "setWatches", S}, zkp__body_set_watches},
    {{ZKP_OP_SASL, "sasl", S}, zkp__body_sasl},
    {{ZKP_OP_GET_EPHEMERALS, "getEphemerals", 0}, zkp__body_path},
    {{ZKP_OP_GET_ALL_CHILDREN_NUMBER, "getAllChildrenNumber", 0}, zkp__body_path},
    {{ZKP_OP_SET_WATCHES2, "setWatches2", S}, zkp__body_set_watches2},
    {{ZKP_OP_ADD_WATCH, "addWatch", 0}, zkp__body_path_mode},
    {{ZKP_OP_WHO_AM_I, "whoAmI", 0}, zkp__body_none},
    {{ZKP_OP_CLOSE_SESSION, "closeSession", W | S}, zkp__body_none},
#undef W
#undef M
#undef R
#undef S
};

static const struct zkp__op *zkp__op_find(int32_t type)
{
    for (size_t i = 0; i < sizeof(zkp__ops) / sizeof(zkp__ops[0]); i++)
        if (zkp__ops[i].info.type == type)
            return &zkp__ops[i];
    return NULL;
}

const zkp_opinfo *zkp_op_info(int32_t type)
{
    const struct zkp__op *op = zkp__op_find(type);
    return op ? &op->info : NULL;
}

/* ---- multi ------------------------------------------------------------- */

/* MultiOperationRecord turns every create into Op.create(path, data, acl,
 * flags[, ttl]), whose type follows CreateMode.fromFlag(flags, PERSISTENT)
 * whatever the opcode on the wire: a createTTL with a TTL mode stays one;
 * anything else becomes createContainer with the CONTAINER mode, else
 * create (a createTTL's ttl dropped). A create with a TTL mode is left a
 * create: ZooKeeper then fails to cast its request (zkp_request_to_op). */
static void zkp__multi_create_type(zkp_request *sub)
{
    int mode = zkp_create_mode(sub->flags);
    bool ttl = mode >= 0 && (mode & REG_CREATE_TTL);
    bool container = mode >= 0 && (mode & REG_CREATE_CONTAINER);
    switch (sub->type) {
    case ZKP_OP_CREATE_TTL:
        if (ttl)
            return;
        sub->ttl = -1;
        /* fall through */
    case ZKP_OP_CREATE:
    case ZKP_OP_CREATE2:
    case ZKP_OP_CREATE_CONTAINER:
        sub->type = container ? ZKP_OP_CREATE_CONTAINER : ZKP_OP_CREATE;
        break;
    default:
        break;
    }
}

/* MultiOperationRecord: {MultiHeader, body} until a MultiHeader with done
 * set. The sub-op array is sized by the bytes left (each sub-op takes at
 * least ZKP__MIN_SUBOP of them), never by anything the peer claims. A NUL
 * byte in a multi's sub-op is that sub-op's own failure (sub->nul); in a
 * multiRead it refuses the request. */
static void zkp__body_multi(zkp__rd *r, zkp_request *req)
{
    uint32_t allow = req->type == ZKP_OP_MULTI ? ZKP_F_MULTI : ZKP_F_MULTI_READ;
    size_t cap = zkp__rd_left(r) / ZKP__MIN_SUBOP;
    zkp_request *ops = zkp__arena_alloc(r->arena, cap, sizeof(*ops));
    size_t n = 0;
    if (cap > 0 && ops == NULL)
        zkp__rd_fail(r, ZKP_ENOSPACE);
    while (r->err == 0) {
        int32_t type = zkp__rd_int(r);
        bool done = zkp__rd_bool(r);
        (void)zkp__rd_int(r); /* err: -1 from every client */
        if (r->err || done)
            break;
        const struct zkp__op *op = zkp__op_find(type);
        if (op == NULL || !(op->info.flags & allow) || ops == NULL || n == cap) {
            zkp__rd_fail(r, ZKP_EMALFORMED);
            break;
        }
        zkp_request *sub = &ops[n++];
        memset(sub, 0, sizeof(*sub));
        sub->xid = req->xid;
        sub->type = type;
        if (req->type != ZKP_OP_MULTI) {
            op->body(r, sub);
            continue;
        }
        bool nul = r->nul;
        r->nul = false;
        op->body(r, sub);
        sub->nul = r->nul;
        r->nul = nul;
        zkp__multi_create_type(sub);
    }
    req->ops = n ? ops : NULL;
    req->nops = n;
}

/* ---- requests ---------------------------------------------------------- */

size_t zkp_arena_need(const uint8_t *frame, size_t frame_len)
{
    /* Vectors: at most 2 arena bytes per frame byte (a string pointer per
     * >= 4 bytes, a reg_acl per >= 12, alignment per 4-byte count), plus a
     * zkp_watches or zkp_reconfig. */
    size_t need = 2 * frame_len + 256;
    int32_t type = frame_len >= 8 ? (int32_t)zkp__be32(frame + 4) : 0;
    if (type == ZKP_OP_MULTI || type == ZKP_OP_MULTI_READ)
        need += (frame_len / ZKP__MIN_SUBOP + 1) *
                    (sizeof(zkp_request) + sizeof(reg_op)) + 32;
    return need;
}

int zkp_request_decode(uint8_t *frame, size_t len, zkp_arena *arena,
                       zkp_request *req)
{
    zkp__rd r;
    memset(req, 0, sizeof(*req));
    if (len < 8)
        return ZKP_ESHORT;
    zkp__rd_init(&r, frame, len, arena);
    req->xid = zkp__rd_int(&r);
    req->type = zkp__rd_int(&r);
    const struct zkp__op *op = zkp__op_find(req->type);
    if (op == NULL)
        return ZKP_EUNKNOWN;
    op->body(&r, req);
    int rc = zkp__rd_finish(&r);
    if (rc < 0 && rc != ZKP_ENULCHAR) {
        int32_t xid = req->xid, type = req->type;
        memset(req, 0, sizeof(*req));
        req->xid = xid;
        req->type = type;
    }
    return rc;
}
