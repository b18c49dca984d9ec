/*
 * proto_zk_op.c - from decoded ZooKeeper requests to registry operations,
 * the four-letter words, and the codec's error messages.
 *
 * The checks here are the ones ZooKeeper's PrepRequestProcessor makes
 * before it looks at the tree, in its order: the CreateMode (fromFlag), the
 * TTL against the mode (validateTTL), an empty ACL (fixupACL). Everything
 * that needs the tree (paths, versions, permissions) is the registry's.
 * Unlike ZooKeeper, a write refused here never reaches the log, so it does
 * not use up a zxid.
 */
#include "proto_zk_jute.h"

#include <string.h>

/* EphemeralType.TTL's largest value: 40 bits. */
#define ZKP__MAX_TTL ((int64_t)0xffffffffff)

int zkp_create_mode(int32_t mode)
{
    static const int flags[] = {
        0,                                            /* PERSISTENT */
        REG_CREATE_EPHEMERAL,                         /* EPHEMERAL */
        REG_CREATE_SEQUENTIAL,                        /* PERSISTENT_SEQUENTIAL */
        REG_CREATE_EPHEMERAL | REG_CREATE_SEQUENTIAL, /* EPHEMERAL_SEQUENTIAL */
        REG_CREATE_CONTAINER,                         /* CONTAINER */
        REG_CREATE_TTL,                               /* PERSISTENT_WITH_TTL */
        REG_CREATE_TTL | REG_CREATE_SEQUENTIAL,       /* PERSISTENT_SEQUENTIAL_WITH_TTL */
    };
    if (mode < 0 || (size_t)mode >= sizeof(flags) / sizeof(flags[0]))
        return REG_EBADARGUMENTS;
    return flags[mode];
}

static int zkp__create_op(const zkp_request *req, reg_op *op)
{
    int flags = zkp_create_mode(req->flags);
    if (flags < 0)
        return flags;
    bool ttl = (flags & REG_CREATE_TTL) != 0;
    if (ttl != (req->type == ZKP_OP_CREATE_TTL))
        return REG_EBADARGUMENTS;
    if (ttl && (req->ttl <= 0 || req->ttl > ZKP__MAX_TTL))
        return REG_EBADARGUMENTS;
    if (req->type == ZKP_OP_CREATE_CONTAINER) /* the txn type wins */
        flags = REG_CREATE_CONTAINER | (flags & REG_CREATE_SEQUENTIAL);
    if (req->acl.n == 0)
        return REG_EINVALIDACL;
    op->type = REG_OP_CREATE;
    op->path = req->path.s;
    op->data = req->data.data;
    op->data_len = req->data.len;
    op->data_null = req->data.data == NULL; /* a null buffer: null data */
    op->create_flags = (uint32_t)flags;
    op->ttl_ms = ttl ? req->ttl : 0;
    op->acl = req->acl.v;
    op->acl_count = req->acl.n;
    return 0;
}

/* One operation that may appear in a multi (and the same at top level). */
static int zkp__simple_op(const zkp_request *req, reg_op *op)
{
    memset(op, 0, sizeof(*op));
    op->path = req->path.s;
    op->version = req->version;
    switch (req->type) {
    case ZKP_OP_CREATE:
    case ZKP_OP_CREATE2:
    case ZKP_OP_CREATE_CONTAINER:
    case ZKP_OP_CREATE_TTL:
        return zkp__create_op(req, op);
    case ZKP_OP_DELETE:
        op->type = REG_OP_DELETE;
        return 0;
    case ZKP_OP_CHECK:
        op->type = REG_OP_CHECK;
        return 0;
    case ZKP_OP_SET_DATA:
        op->type = REG_OP_SET_DATA;
        op->data = req->data.data;
        op->data_len = req->data.len;
        op->data_null = req->data.data == NULL;
        return 0;
    case ZKP_OP_SET_ACL:
        if (req->acl.n == 0)
            return REG_EINVALIDACL;
        op->type = REG_OP_SET_ACL;
        op->acl = req->acl.v;
        op->acl_count = req->acl.n;
        return 0;
    case ZKP_OP_DELETE_CONTAINER:
        return REG_EBADARGUMENTS; /* ZooKeeper reads the frame as the path */
    default:
        return REG_EUNIMPLEMENTED;
    }
}

static int zkp__multi_op(const zkp_request *req, zkp_arena *arena, reg_op *op,
                         size_t *bad)
{
    reg_op *ops = NULL;
    memset(op, 0, sizeof(*op));
    if (req->nops > 0) {
        ops = zkp__arena_alloc(arena, req->nops, sizeof(*ops));
        if (ops == NULL)
            return ZKP_ENOSPACE;
    }
    for (size_t i = 0; i < req->nops; i++) {
        int rc = zkp__simple_op(&req->ops[i], &ops[i]);
        if (rc < 0) {
            if (bad)
                *bad = i;
            return rc;
        }
    }
    op->type = REG_OP_MULTI;
    op->ops = ops;
    op->nops = req->nops;
    return 0;
}

int zkp_request_to_op(const zkp_request *req, zkp_arena *arena, reg_op *op,
                      size_t *bad)
{
    if (req->type == ZKP_OP_MULTI)
        return zkp__multi_op(req, arena, op, bad);
    if (req->type == ZKP_OP_CLOSE_SESSION) {
        memset(op, 0, sizeof(*op));
        op->type = REG_OP_CLOSE_SESSION;
        return 0;
    }
    return zkp__simple_op(req, op);
}

/* ---- four-letter words ------------------------------------------------- */

static const struct {
    char word[5];
    int cmd;
} zkp__4lws[] = {
    {"ruok", ZKP_4LW_RUOK}, {"srvr", ZKP_4LW_SRVR}, {"stat", ZKP_4LW_STAT},
    {"mntr", ZKP_4LW_MNTR}, {"cons", ZKP_4LW_CONS}, {"wchs", ZKP_4LW_WCHS},
    {"envi", ZKP_4LW_ENVI}, {"conf", ZKP_4LW_CONF}, {"dump", ZKP_4LW_DUMP},
    {"isro", ZKP_4LW_ISRO},
    /* known to ZooKeeper 3.4-3.8, not served by zonekeeper */
    {"crst", ZKP_4LW_OTHER}, {"srst", ZKP_4LW_OTHER}, {"wchc", ZKP_4LW_OTHER},
    {"wchp", ZKP_4LW_OTHER}, {"dirs", ZKP_4LW_OTHER}, {"gtmk", ZKP_4LW_OTHER},
    {"stmk", ZKP_4LW_OTHER}, {"hash", ZKP_4LW_OTHER},
};

int zkp_is_4lw(const uint8_t first[4])
{
    for (size_t i = 0; i < sizeof(zkp__4lws) / sizeof(zkp__4lws[0]); i++)
        if (memcmp(first, zkp__4lws[i].word, 4) == 0)
            return zkp__4lws[i].cmd;
    return ZKP_4LW_NONE;
}

const char *zkp_4lw_name(int cmd)
{
    if (cmd == ZKP_4LW_NONE || cmd == ZKP_4LW_OTHER)
        return "";
    for (size_t i = 0; i < sizeof(zkp__4lws) / sizeof(zkp__4lws[0]); i++)
        if (zkp__4lws[i].cmd == cmd)
            return zkp__4lws[i].word;
    return "";
}

/* ---- errors ------------------------------------------------------------ */

const char *zkp_strerror(int err)
{
    switch (err) {
    case ZKP_EFRAME:
        return "frame length negative or over the limit";
    case ZKP_ESHORT:
        return "frame shorter than a request header";
    case ZKP_EUNKNOWN:
        return "unknown request type";
    case ZKP_EMALFORMED:
        return "malformed request body";
    case ZKP_ENULCHAR:
        return "NUL byte in a string";
    case ZKP_ENOSPACE:
        return "no buffer space (decode arena or output cap)";
    default:
        return reg_strerror(err);
    }
}
