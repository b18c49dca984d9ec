/*
 * proto_zk_op.c - from decoded ZooKeeper requests to registry operations,
 * the four-letter words, and the codec's error messages.
 *
 * The checks here are the ones ZooKeeper's PrepRequestProcessor makes
 * before anything the registry knows of, in its order: the CreateMode
 * (fromFlag), the TTL against the mode (validateTTL). A write they fail is
 * still handed to the registry, as a refused op (reg_op.refused): ZooKeeper
 * gives it a zxid and logs an error txn, and so do we. Everything else
 * (session, paths, ACLs, versions, permissions) is the registry's, in
 * ZooKeeper's order there.
 */
#include "proto_zk_jute.h"

#include <string.h>

/* EphemeralType.TTL's largest value: 40 bits. */
#define ZKP__MAX_TTL ((int64_t)0xffffffffff)

/* A non-NULL address for an empty (or null) ACL vector: to the registry an
 * empty list, which is INVALIDACL, not its NULL default of an open ACL. */
static const reg_acl zkp__no_acl[1];

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

static int zkp__refuse(reg_op *op, int err)
{
    op->refused = err;
    return 0;
}

/* pRequest2TxnCreate up to the session check: the cast of a multi's create
 * (see zkp__multi_create_type), fromFlag, validateTTL; then the kind of
 * node its txn type makes. */
static int zkp__create_op(const zkp_request *req, bool in_multi, reg_op *op)
{
    op->type = REG_OP_CREATE;
    int mode = zkp_create_mode(req->flags);
    bool ttl_mode = mode >= 0 && (mode & REG_CREATE_TTL);
    if (in_multi && ttl_mode && req->type != ZKP_OP_CREATE_TTL)
        return zkp__refuse(op, REG_EMARSHALLINGERROR); /* ClassCastException */
    if (mode < 0)
        return zkp__refuse(op, REG_EBADARGUMENTS);
    int64_t ttl = req->type == ZKP_OP_CREATE_TTL ? req->ttl : -1;
    if (ttl_mode ? ttl <= 0 || ttl > ZKP__MAX_TTL : ttl >= 0)
        return zkp__refuse(op, REG_EBADARGUMENTS);
    /* createTTL with another mode and a negative ttl passes validateTTL, then
     * its CreateTTLTxn fails to apply and ZooKeeper 3.8 shuts down. */
    if (req->type == ZKP_OP_CREATE_TTL && !ttl_mode)
        return zkp__refuse(op, REG_EBADARGUMENTS);
    if (req->nul)
        return zkp__refuse(op, REG_EBADARGUMENTS); /* validatePathForCreate */
    uint32_t flags = (uint32_t)mode;
    if (req->type == ZKP_OP_CREATE_CONTAINER) /* CreateContainerTxn */
        flags = REG_CREATE_CONTAINER | (flags & REG_CREATE_SEQUENTIAL);
    else if (req->type != ZKP_OP_CREATE_TTL) /* CreateTxn: never a container */
        flags &= ~(uint32_t)REG_CREATE_CONTAINER;
    op->path = req->path.s;
    op->data = req->data.data;
    op->data_len = req->data.len;
    op->data_null = req->data.data == NULL;
    op->create_flags = flags;
    op->ttl_ms = ttl_mode ? ttl : 0;
    op->acl = req->acl.v ? req->acl.v : zkp__no_acl;
    op->acl_count = req->acl.n;
    return 0;
}

/* One operation that may appear in a multi (and the same at top level). */
static int zkp__simple_op(const zkp_request *req, bool in_multi, reg_op *op)
{
    memset(op, 0, sizeof(*op));
    op->path = req->path.s;
    op->version = req->version;
    switch (req->type) {
    case ZKP_OP_CREATE:
    case ZKP_OP_CREATE2:
    case ZKP_OP_CREATE_CONTAINER:
    case ZKP_OP_CREATE_TTL:
        return zkp__create_op(req, in_multi, op);
    case ZKP_OP_DELETE:
        op->type = REG_OP_DELETE;
        break;
    case ZKP_OP_CHECK:
        op->type = REG_OP_CHECK;
        break;
    case ZKP_OP_SET_DATA:
        op->type = REG_OP_SET_DATA;
        op->data = req->data.data;
        op->data_len = req->data.len;
        op->data_null = req->data.data == NULL;
        break;
    case ZKP_OP_SET_ACL:
        op->type = REG_OP_SET_ACL;
        op->acl = req->acl.v ? req->acl.v : zkp__no_acl;
        op->acl_count = req->acl.n;
        break;
    case ZKP_OP_DELETE_CONTAINER:
        /* ZooKeeper reads the whole frame, header included, as the path:
         * its NUL bytes make it BADARGUMENTS for every client. */
        op->type = REG_OP_DELETE;
        op->path = NULL;
        return zkp__refuse(op, REG_EBADARGUMENTS);
    case ZKP_OP_RECONFIG:
        /* a setData of /zookeeper/config in ZooKeeper, which numbers it and
         * then finds reconfig disabled (always, without an ensemble) */
        op->type = REG_OP_SET_DATA;
        op->path = NULL;
        return zkp__refuse(op, REG_ERECONFIGDISABLED);
    default:
        return REG_EUNIMPLEMENTED;
    }
    return req->nul ? zkp__refuse(op, REG_EBADARGUMENTS) : 0;
}

static int zkp__multi_op(const zkp_request *req, zkp_arena *arena, reg_op *op)
{
    reg_op *ops = NULL;
    memset(op, 0, sizeof(*op));
    if (req->nops > 0) {
        ops = zkp__arena_alloc(arena, req->nops, sizeof(*ops));
        if (ops == NULL)
            return ZKP_ENOSPACE;
    }
    for (size_t i = 0; i < req->nops; i++) {
        int rc = zkp__simple_op(&req->ops[i], true, &ops[i]);
        if (rc < 0)
            return rc;
    }
    op->type = REG_OP_MULTI;
    op->ops = ops;
    op->nops = req->nops;
    return 0;
}

int zkp_request_to_op(const zkp_request *req, zkp_arena *arena, reg_op *op)
{
    if (req->type == ZKP_OP_MULTI)
        return zkp__multi_op(req, arena, op);
    if (req->type == ZKP_OP_CLOSE_SESSION) {
        memset(op, 0, sizeof(*op));
        op->type = REG_OP_CLOSE_SESSION;
        return 0;
    }
    return zkp__simple_op(req, false, op);
}

int zkp_request_refusal(int32_t type, int err, reg_op *op)
{
    static const struct {
        int32_t zk;
        reg_op_type reg;
    } map[] = {
        {ZKP_OP_CREATE, REG_OP_CREATE},           {ZKP_OP_CREATE2, REG_OP_CREATE},
        {ZKP_OP_CREATE_CONTAINER, REG_OP_CREATE}, {ZKP_OP_CREATE_TTL, REG_OP_CREATE},
        {ZKP_OP_DELETE, REG_OP_DELETE},           {ZKP_OP_DELETE_CONTAINER, REG_OP_DELETE},
        {ZKP_OP_SET_DATA, REG_OP_SET_DATA},       {ZKP_OP_SET_ACL, REG_OP_SET_ACL},
        {ZKP_OP_CHECK, REG_OP_CHECK},             {ZKP_OP_MULTI, REG_OP_MULTI},
    };
    memset(op, 0, sizeof(*op));
    if (err >= REG_ZK_BASE)
        return -EINVAL;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (map[i].zk == type) {
            op->type = map[i].reg;
            op->refused = err;
            return 0;
        }
    }
    return REG_EUNIMPLEMENTED;
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
