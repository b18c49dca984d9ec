/*
 * d_zk_req.c - one ZooKeeper request of a READY connection: decode, the
 * command table, the write path and the reply queue.
 *
 * The table below names every request type with ZooKeeper's short name for
 * it (cons "lop=") and the function that answers it from the committed tree
 * or the connection. Writes (ZKP_F_WRITE in the codec's own table) have no
 * function here: they all take the same path, zkp_request_to_op then
 * zkd_pipeline_write, and are answered from their reg_result when committed,
 * in zxid order, which is their order on the connection.
 *
 * Decoding failures are answered as Apache ZooKeeper 3.8 answers them
 * (tests/unit/zkp_capture.c has its replies): a malformed body gets
 * MARSHALLINGERROR and the connection lives on; a NUL in a string
 * BADARGUMENTS; an unknown opcode UNIMPLEMENTED (zxid -1), then close; a
 * frame shorter than a request header closes at once; a client's
 * createSession opcode gets MARSHALLINGERROR. A write refused that way, or
 * by the codec's own early checks (a bad CreateMode, a client's
 * deleteContainer), still goes down the pipeline as a refused op: ZooKeeper
 * gives it a zxid and logs an error txn, so every later zxid matches.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "d_log.h"
#include "d_zk_int.h"

#define ZKD__ARENA_STACK 4096

typedef struct req__cmd {
    int32_t type;        /* enum zkp_op */
    const char *lop;     /* ZooKeeper's lastOp for cons */
    zkd_zk_handler fn;   /* NULL for writes */
} req__cmd;

static const req__cmd req__cmds[] = {
    {ZKP_OP_CREATE, "CREA", NULL},
    {ZKP_OP_DELETE, "DELE", NULL},
    {ZKP_OP_EXISTS, "EXIS", zkd_zk_exists},
    {ZKP_OP_GET_DATA, "GETD", zkd_zk_get_data},
    {ZKP_OP_SET_DATA, "SETD", NULL},
    {ZKP_OP_GET_ACL, "GETA", zkd_zk_get_acl},
    {ZKP_OP_SET_ACL, "SETA", NULL},
    {ZKP_OP_GET_CHILDREN, "GETC", zkd_zk_get_children},
    {ZKP_OP_SYNC, "SYNC", zkd_zk_sync},
    {ZKP_OP_PING, "PING", zkd_zk_ping},
    {ZKP_OP_GET_CHILDREN2, "GETC", zkd_zk_get_children},
    {ZKP_OP_CHECK, "CHEC", NULL},
    {ZKP_OP_MULTI, "MULT", NULL},
    {ZKP_OP_CREATE2, "CREA", NULL},
    {ZKP_OP_RECONFIG, "RECO", NULL},
    {ZKP_OP_CHECK_WATCHES, "CHKW", zkd_zk_remove_watches},
    {ZKP_OP_REMOVE_WATCHES, "REMW", zkd_zk_remove_watches},
    {ZKP_OP_CREATE_CONTAINER, "CREA", NULL},
    {ZKP_OP_DELETE_CONTAINER, "DELE", NULL},
    {ZKP_OP_CREATE_TTL, "CREA", NULL},
    {ZKP_OP_MULTI_READ, "MLTR", zkd_zk_multi_read},
    {ZKP_OP_AUTH, "AUTH", zkd_zk_auth},
    {ZKP_OP_SET_WATCHES, "SETW", zkd_zk_set_watches},
    {ZKP_OP_SASL, "SASL", zkd_zk_sasl},
    {ZKP_OP_GET_EPHEMERALS, "GETE", zkd_zk_get_ephemerals},
    {ZKP_OP_GET_ALL_CHILDREN_NUMBER, "GETACN", zkd_zk_all_children},
    {ZKP_OP_SET_WATCHES2, "SETW", zkd_zk_set_watches},
    {ZKP_OP_ADD_WATCH, "ADDW", zkd_zk_add_watch},
    {ZKP_OP_WHO_AM_I, "HOMI", zkd_zk_whoami},
    {ZKP_OP_CLOSE_SESSION, "CLOS", NULL},
};

static const req__cmd *req__find(int32_t type)
{
    for (size_t i = 0; i < sizeof(req__cmds) / sizeof(req__cmds[0]); i++)
        if (req__cmds[i].type == type)
            return &req__cmds[i];
    return NULL;
}

bool zkd_zk_is_write(const uint8_t *frame, size_t len)
{
    if (len < 8)
        return false;
    int32_t type = (int32_t)((uint32_t)frame[4] << 24 | (uint32_t)frame[5] << 16 |
                             (uint32_t)frame[6] << 8 | frame[7]);
    const zkp_opinfo *info = zkp_op_info(type);
    return info && (info->flags & ZKP_F_WRITE);
}

int zkd_zk_reply_err(zkd_zk_conn *c, int32_t xid, int err)
{
    return zkp_reply_header(&c->out, xid, reg_last_zxid(c->d->reg), err);
}

/* ---- the reply queue --------------------------------------------------- */

static zkd_zk_pend *pend__new(zkd_zk_conn *c, const zkp_request *req, int64_t start)
{
    size_t nops = req->type == ZKP_OP_MULTI ? req->nops : 0;
    zkd_zk_pend *p = calloc(1, sizeof(*p) + nops * sizeof(p->optypes[0]));
    if (p == NULL)
        return NULL;
    p->c = c;
    p->xid = req->xid;
    p->type = req->type;
    p->start_ms = start;
    p->nops = nops;
    for (size_t i = 0; i < nops; i++)
        p->optypes[i] = req->ops[i].type;
    return p;
}

static void pend__free(zkd_zk_pend *p)
{
    zk_buf_free(&p->reply);
    free(p);
}

static void pend__push(zkd_zk_conn *c, zkd_zk_pend *p)
{
    if (c->fifo_tail)
        c->fifo_tail->next = p;
    else
        c->fifo_head = p;
    c->fifo_tail = p;
    c->nfifo++;
}

static void pend__unlink(zkd_zk_conn *c, zkd_zk_pend *p)
{
    zkd_zk_pend **pp = &c->fifo_head, *prev = NULL;
    while (*pp && *pp != p) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (*pp == NULL)
        return;
    *pp = p->next;
    if (c->fifo_tail == p)
        c->fifo_tail = prev;
    p->next = NULL;
    c->nfifo--;
}

void zkd_zk_fifo_drop(zkd_zk_conn *c)
{
    zkd_zk_pend *p = c->fifo_head;
    while (p) {
        zkd_zk_pend *next = p->next;
        p->next = NULL;
        if (p->ready)
            pend__free(p); /* the others are the pipeline's until their callback */
        p = next;
    }
    c->fifo_head = c->fifo_tail = NULL;
    c->nfifo = 0;
}

/* Moves built replies from the head of the queue to the output. */
static void pend__emit_ready(zkd_zk_conn *c)
{
    while (c->state != ZC_CLOSED && c->fifo_head && c->fifo_head->ready) {
        zkd_zk_pend *p = c->fifo_head;
        pend__unlink(c, p);
        if (zk_buf_append(&c->out, p->reply.data, p->reply.len) < 0)
            zkd_zk_close(c, "output limit");
        else
            zkd_zk_sent(c, p->start_ms);
        pend__free(p);
    }
}

/* ---- refusals ------------------------------------------------------------ */

/* Answers a request refused without a txn (a client's createSession, a
 * write the pipeline could not take) in order: behind this connection's
 * writes. */
static int req__refuse(zkd_zk_conn *c, const zkp_request *req, int err, int64_t start)
{
    int64_t zxid = reg_last_zxid(c->d->reg);
    if (c->nfifo == 0) {
        int rc = zkp_reply_header(&c->out, req->xid, zxid, err);
        if (rc == 0)
            zkd_zk_sent(c, start);
        return rc;
    }
    zkd_zk_pend *p = pend__new(c, req, start);
    if (p == NULL)
        return -ENOMEM;
    p->ready = true;
    int rc = zkp_reply_header(&p->reply, req->xid, zxid, err);
    if (rc < 0) {
        pend__free(p);
        return rc;
    }
    pend__push(c, p);
    return 0;
}

/* ---- writes ------------------------------------------------------------- */

static int req__reply_multi(zkd_zk_conn *c, const zkd_zk_pend *p, int64_t zxid,
                            const reg_result *res)
{
    /* a multi that failed as a whole (it did not decode, or a sub-op threw
     * something other than a KeeperException in ZooKeeper): a header */
    if (res->nsub != p->nops || (res->err != 0 && res->nsub == 0))
        return zkp_reply_header(&c->out, p->xid, zxid, res->err ? res->err : -EINVAL);
    zkp_request *ops = calloc(p->nops ? p->nops : 1, sizeof(*ops));
    if (ops == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < p->nops; i++)
        ops[i].type = p->optypes[i];
    zkp_request m = {.xid = p->xid, .type = ZKP_OP_MULTI, .ops = ops, .nops = p->nops};
    int rc = zkp_reply_multi(&c->out, p->xid, zxid, &m, res);
    free(ops);
    return rc;
}

static int req__reply_write(zkd_zk_conn *c, const zkd_zk_pend *p, const reg_result *res)
{
    int64_t zxid = reg_last_zxid(c->d->reg);
    c->lzxid = zxid;
    if (p->type == ZKP_OP_MULTI)
        return req__reply_multi(c, p, zxid, res);
    if (res->err != 0)
        return zkp_reply_header(&c->out, p->xid, zxid, res->err);
    switch (p->type) {
    case ZKP_OP_CREATE:
        return zkp_reply_path(&c->out, p->xid, zxid, res->path);
    case ZKP_OP_CREATE2:
    case ZKP_OP_CREATE_CONTAINER:
    case ZKP_OP_CREATE_TTL:
        return zkp_reply_create2(&c->out, p->xid, zxid, res->path, &res->stat);
    case ZKP_OP_SET_DATA:
    case ZKP_OP_SET_ACL:
    case ZKP_OP_CHECK:
        return zkp_reply_stat(&c->out, p->xid, zxid, &res->stat);
    default: /* delete, closeSession */
        return zkp_reply_header(&c->out, p->xid, zxid, 0);
    }
}

static void req__on_commit(void *ctx, const reg_result *res)
{
    zkd_zk_pend *p = ctx;
    zkd_zk_conn *c = p->c;
    if (c->state != ZC_CLOSED) {
        pend__unlink(c, p);
        if (req__reply_write(c, p, res) < 0)
            zkd_zk_close(c, "output limit");
        else
            zkd_zk_sent(c, p->start_ms);
        pend__emit_ready(c);
        if (p->type == ZKP_OP_CLOSE_SESSION) {
            zkd_zk_session_release(c);
            zkd_zk_drain(c);
        }
        zkd_zk_process(c);
    }
    pend__free(p);
    zkd_zk_unref(c);
}

/* Sends op (refused or not) down the pipeline; its reply waits in the
 * queue for the commit. */
static int req__submit(zkd_zk_conn *c, const zkp_request *req, const reg_op *op,
                       int64_t start)
{
    zkd_zk_pend *p = pend__new(c, req, start);
    if (p == NULL)
        return -ENOMEM;
    /* queued first: a pipeline that commits at once finds it in place */
    pend__push(c, p);
    c->refs++;
    int rc = zkd_pipeline_write(&c->d->pipe, c->session, op, start, req__on_commit, p);
    if (rc < 0) {
        c->refs--;
        pend__unlink(c, p);
        pend__free(p);
        return req__refuse(c, req, rc, start);
    }
    if (req->type == ZKP_OP_CLOSE_SESSION)
        c->closing_session = true;
    return 0;
}

static int req__write(zkd_zk_conn *c, const zkp_request *req, zkp_arena *a, int64_t start)
{
    reg_op op;
    int rc = zkp_request_to_op(req, a, &op);
    if (rc < 0)
        return req__refuse(c, req, rc, start);
    return req__submit(c, req, &op, start);
}

/* A request that did not decode (err: MARSHALLINGERROR or BADARGUMENTS): a
 * write still takes a zxid, as in ZooKeeper, which numbers a write before
 * it reads its body; anything else is answered at once. */
static int req__refuse_body(zkd_zk_conn *c, const zkp_request *req, int err, int64_t start)
{
    reg_op op;
    if (zkp_request_refusal(req->type, err, &op) == 0)
        return req__submit(c, req, &op, start);
    return req__refuse(c, req, err, start);
}

/* ---- dispatch ------------------------------------------------------------ */

/* The answer to a frame the codec refused (rc from zkp_request_decode). */
static int req__undecodable(zkd_zk_conn *c, const zkp_request *req, int rc, int64_t start)
{
    switch (rc) {
    case ZKP_EUNKNOWN:
        if (req->type == ZKP_OP_CREATE_SESSION)
            return req__refuse(c, req, REG_EMARSHALLINGERROR, start);
        zkd_info("zookeeper %llu: unknown request type %d; closing",
                 (unsigned long long)c->id, (int)req->type);
        if (zkp_reply_header(&c->out, req->xid, -1, REG_EUNIMPLEMENTED) < 0)
            return -ENOBUFS;
        zkd_zk_sent(c, start);
        return ZKD_ZK_CLOSE;
    case ZKP_EMALFORMED:
        return req__refuse_body(c, req, REG_EMARSHALLINGERROR, start);
    case ZKP_ENULCHAR:
        return req__refuse_body(c, req, REG_EBADARGUMENTS, start);
    default: /* ZKP_ESHORT: ZooKeeper closes without a word */
        return rc;
    }
}

static int req__run(zkd_zk_conn *c, const zkp_request *req, zkp_arena *a, int64_t start)
{
    const req__cmd *cmd = req__find(req->type);
    const zkp_opinfo *info = zkp_op_info(req->type);
    if (cmd == NULL || info == NULL)
        return req__undecodable(c, req, ZKP_EUNKNOWN, start);
    c->lop = cmd->lop;
    c->lcxid = req->xid;
    if (info->flags & ZKP_F_WRITE)
        return req__write(c, req, a, start);
    int rc = cmd->fn(c, req);
    c->lzxid = reg_last_zxid(c->d->reg);
    if (rc >= 0)
        zkd_zk_sent(c, start);
    return rc;
}

int zkd_zk_request(zkd_zk_conn *c, uint8_t *frame, size_t len)
{
    _Alignas(8) uint8_t stack[ZKD__ARENA_STACK];
    int64_t start = zkd_now_ms();
    c->st.recved++;
    c->srv->st.recved++;
    c->touched_ms = start;
    zkd_zk_touch(c, start);
    size_t need = zkp_arena_need(frame, len);
    void *mem = need <= sizeof(stack) ? stack : malloc(need);
    if (mem == NULL)
        return -ENOMEM;
    zkp_arena a;
    zkp_arena_init(&a, mem, need);
    zkp_request req;
    int rc = zkp_request_decode(frame, len, &a, &req);
    rc = rc == 0 ? req__run(c, &req, &a, start) : req__undecodable(c, &req, rc, start);
    if (mem != stack)
        free(mem);
    return rc;
}
