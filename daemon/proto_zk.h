/*
 * proto_zk.h - the ZooKeeper client protocol (jute over TCP) of ZooKeeper 3.4
 * to 3.8, as a pure codec: bytes in, decoded requests out; results in, reply
 * bytes out. It knows no sockets and never calls the registry; the daemon
 * reads frames, decodes them here, runs them against the registry and
 * encodes the answers here.
 *
 * Wire format. Every message is a frame: a 4-byte big-endian length, then
 * that many bytes. The first frame of a connection is a ConnectRequest; each
 * later frame is a RequestHeader {xid, type} and the body of that type. The
 * server answers a ConnectResponse, then for each request a ReplyHeader
 * {xid, zxid, err} and (when err is 0) the body of the reply. Jute integers
 * are big-endian; a boolean is one byte; a string or buffer is an int32
 * length and the bytes (-1 = null); a vector is an int32 count and the
 * elements (-1 = null).
 *
 * Decoding is zero-copy. Strings and buffers point into the frame, which
 * must stay alive while the decoded request is used. A string is moved four
 * bytes back over its own length prefix and NUL-terminated there, so the
 * frame is rewritten in place and can be decoded only once. Vectors (of
 * strings, ACLs, multi sub-operations) are built in a zkp_arena that the
 * caller provides; zkp_arena_need() tells how large it must be for a given
 * frame, so nothing is ever allocated from a count the peer sent.
 *
 * Encoding appends complete frames to a zk_buf (buf.h). An encoder that
 * fails (the buffer's cap, -ENOBUFS) leaves the buffer as it was. Error codes
 * passed to encoders are registry codes (reg.h): 0, REG_E* or a negative
 * errno; they go on the wire through reg_err_to_zk().
 *
 * Errors are 0 or negative, as everywhere in zonekeeper.
 */
#ifndef ZK_DAEMON_PROTO_ZK_H
#define ZK_DAEMON_PROTO_ZK_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "reg.h"

/* ---- constants --------------------------------------------------------- */

/* Request types (ZooDefs.OpCode). */
enum zkp_op {
    ZKP_OP_NOTIFICATION = 0,
    ZKP_OP_CREATE = 1,
    ZKP_OP_DELETE = 2,
    ZKP_OP_EXISTS = 3,
    ZKP_OP_GET_DATA = 4,
    ZKP_OP_SET_DATA = 5,
    ZKP_OP_GET_ACL = 6,
    ZKP_OP_SET_ACL = 7,
    ZKP_OP_GET_CHILDREN = 8,
    ZKP_OP_SYNC = 9,
    ZKP_OP_PING = 11,
    ZKP_OP_GET_CHILDREN2 = 12,
    ZKP_OP_CHECK = 13,
    ZKP_OP_MULTI = 14,
    ZKP_OP_CREATE2 = 15,
    ZKP_OP_RECONFIG = 16,
    ZKP_OP_CHECK_WATCHES = 17,
    ZKP_OP_REMOVE_WATCHES = 18,
    ZKP_OP_CREATE_CONTAINER = 19,
    ZKP_OP_DELETE_CONTAINER = 20,
    ZKP_OP_CREATE_TTL = 21,
    ZKP_OP_MULTI_READ = 22,
    ZKP_OP_AUTH = 100,
    ZKP_OP_SET_WATCHES = 101,
    ZKP_OP_SASL = 102,
    ZKP_OP_GET_EPHEMERALS = 103,
    ZKP_OP_GET_ALL_CHILDREN_NUMBER = 104,
    ZKP_OP_SET_WATCHES2 = 105,
    ZKP_OP_ADD_WATCH = 106,
    ZKP_OP_WHO_AM_I = 107,
    ZKP_OP_CREATE_SESSION = -10, /* server-internal: decoded as unknown */
    ZKP_OP_CLOSE_SESSION = -11,
    ZKP_OP_ERROR = -1,           /* MultiHeader type of an error result */
};

/* Special xids. The client picks every xid and the server echoes it in the
 * reply, whatever it is; only notifications carry an xid the server chose. */
enum zkp_xid {
    ZKP_XID_NOTIFICATION = -1, /* watch event (server -> client) */
    ZKP_XID_PING = -2,         /* ping and its reply */
    ZKP_XID_AUTH = -4,         /* auth (addauth) and its reply */
    ZKP_XID_SET_WATCHES = -8,  /* setWatches of the C client and of Java 3.4/3.5;
                                  Java 3.6+ sends setWatches/setWatches2 with
                                  ordinary xids */
};

/* WatcherEvent.state of events sent over the wire. */
#define ZKP_STATE_SYNC_CONNECTED 3

#define ZKP_PASSWD_LEN 16
/* ZooKeeper's default frame limit (jute.maxbuffer, 0xfffff). */
#define ZKP_MAX_FRAME_DEFAULT 1048575u

/* Decoder results besides 0. */
#define ZKP_EFRAME (-EMSGSIZE)     /* frame length negative or over the limit: close */
#define ZKP_ESHORT (-EPROTO)       /* no complete RequestHeader: close */
#define ZKP_EUNKNOWN (-EOPNOTSUPP) /* unknown type: reply UNIMPLEMENTED, close
                                      (ZooKeeper 3.8 does; to a client's
                                      createSession it answers MARSHALLINGERROR) */
#define ZKP_EMALFORMED (-EBADMSG)  /* body truncated, bad length, trailing bytes,
                                      bad multi sub-op: reply MARSHALLINGERROR */
#define ZKP_ENULCHAR (-EILSEQ)     /* a string holds a NUL byte: reply BADARGUMENTS */
#define ZKP_ENOSPACE (-ENOBUFS)    /* arena too small (never with zkp_arena_need) */

/* A message for any error a zkp_ function returns. Never NULL. */
const char *zkp_strerror(int err);

/* ---- the opcode table -------------------------------------------------- */

enum zkp_op_flags {
    ZKP_F_WRITE = 1u << 0,    /* a registry write: goes through the log */
    ZKP_F_MULTI = 1u << 1,    /* allowed inside multi */
    ZKP_F_MULTI_READ = 1u << 2, /* allowed inside multiRead */
    ZKP_F_SESSION = 1u << 3,  /* handled by the connection (ping, auth, sasl,
                                 setWatches, closeSession's socket close) */
};

typedef struct zkp_opinfo {
    int32_t type;      /* enum zkp_op */
    const char *name;  /* ZooKeeper's name: "create", "getChildren2", ... */
    uint32_t flags;    /* enum zkp_op_flags */
} zkp_opinfo;

/* The table entry of a request type, or NULL for an unknown type. */
const zkp_opinfo *zkp_op_info(int32_t type);

/* ---- framing ----------------------------------------------------------- */

enum zkp_frame_status {
    ZKP_FRAME_MORE = 0, /* buf holds no complete frame yet */
    ZKP_FRAME = 1,      /* the first frame is in *frame, *frame_len */
};

/* Looks for the first frame in buf[0..len). Returns ZKP_FRAME with *frame
 * pointing past the length prefix (the frame occupies 4 + *frame_len bytes
 * of buf), ZKP_FRAME_MORE, or ZKP_EFRAME when the length is negative or
 * larger than max_frame (the connection must be closed). */
int zkp_frame_next(uint8_t *buf, size_t len, size_t max_frame, uint8_t **frame,
                   size_t *frame_len);

/* ---- four-letter words ------------------------------------------------- */

enum zkp_4lw {
    ZKP_4LW_NONE = 0,
    ZKP_4LW_RUOK,
    ZKP_4LW_SRVR,
    ZKP_4LW_STAT,
    ZKP_4LW_MNTR,
    ZKP_4LW_CONS,
    ZKP_4LW_WCHS,
    ZKP_4LW_ENVI,
    ZKP_4LW_CONF,
    ZKP_4LW_DUMP,
    ZKP_4LW_ISRO,
    /* A word Apache ZooKeeper knows but zonekeeper does not serve (crst,
     * srst, wchc, wchp, dirs, gtmk, stmk, hash). ZooKeeper answers
     * "<word> is not executed because it is not in the whitelist." */
    ZKP_4LW_OTHER,
};

/* Checks the first 4 bytes of a connection: ZooKeeper reads them as the
 * length of the first frame, and if they spell a four-letter word it runs
 * the command, writes the text and closes the connection. Only the first
 * frame of a connection can be a command. Returns enum zkp_4lw. */
int zkp_is_4lw(const uint8_t first[4]);
/* "ruok", ...; "" for NONE and OTHER. */
const char *zkp_4lw_name(int cmd);

/* ---- decoded values ---------------------------------------------------- */

/* A jute ustring: NUL-terminated in the frame; s is NULL for a null string.
 * No string holds a NUL byte before s[len] unless the decoder returned
 * ZKP_ENULCHAR. */
typedef struct zkp_str {
    const char *s;
    size_t len;
} zkp_str;

/* A jute buffer: data is NULL for a null buffer (len 0). */
typedef struct zkp_bytes {
    const uint8_t *data;
    size_t len;
} zkp_bytes;

/* vector<ustring>: n C strings, never NULL elements. v is NULL for an empty
 * or null vector. Fits reg_set_watches() directly. */
typedef struct zkp_strv {
    const char *const *v;
    size_t n;
} zkp_strv;

/* vector<ACL> as registry ACL entries; a null scheme or id is NULL (the
 * registry's fixupACL judges them as ZooKeeper does). v is NULL for an
 * empty or null vector. */
typedef struct zkp_aclv {
    const reg_acl *v;
    size_t n;
} zkp_aclv;

/* SetWatches (101) and SetWatches2 (105; persistent and recursive are empty
 * for 101). */
typedef struct zkp_watches {
    int64_t rel_zxid;
    zkp_strv data, exist, child, persistent, recursive;
} zkp_watches;

/* ReconfigRequest (16); the strings may be null. */
typedef struct zkp_reconfig {
    zkp_str joining, leaving, new_members;
    int64_t cur_config_id;
} zkp_reconfig;

typedef struct zkp_connect {
    int32_t protocol_version;
    int64_t last_zxid_seen;
    int32_t timeout_ms;
    int64_t session_id;  /* 0 for a new session */
    zkp_bytes passwd;    /* 16 bytes from every known client (zeros when new) */
    bool read_only;      /* the client accepts a read-only server */
    bool has_read_only;  /* it sent that flag: 3.5+ C, every Java, kazoo; the
                            3.4 C client omits it and must not get it back */
} zkp_connect;

/* One request. The fields a type does not use are zero. Multi sub-operations
 * are zkp_requests too (xid copied from the multi). */
typedef struct zkp_request zkp_request;
struct zkp_request {
    int32_t xid;
    int32_t type;        /* enum zkp_op */
    zkp_str path;        /* every op on a path; getEphemerals: prefixPath;
                            deleteContainer: the raw body (ZooKeeper's format) */
    zkp_bytes data;      /* create*, setData: data; auth: auth; sasl: token */
    zkp_aclv acl;        /* create*, setACL */
    zkp_str scheme;      /* auth */
    int64_t ttl;         /* createTTL; -1 for every other create */
    int32_t flags;       /* create*: CreateMode flags */
    int32_t version;     /* delete, setData, setACL, check */
    int32_t mode;        /* addWatch: AddWatchMode; checkWatches/removeWatches:
                            WatcherType (1 children, 2 data, 3 any); auth: type */
    bool watch;          /* exists, getData, getChildren, getChildren2 */
    bool nul;            /* a multi's sub-op: one of its strings holds a NUL
                            byte (at top level the decoder says ZKP_ENULCHAR) */
    const zkp_request *ops; /* multi, multiRead: the sub-operations; a multi's
                            creates typed as ZooKeeper's MultiOperationRecord
                            types them (Op.create): createContainer for the
                            CONTAINER mode, createTTL for createTTL with a
                            TTL mode, else create (ttl -1) */
    size_t nops;
    const zkp_watches *watches;   /* setWatches, setWatches2 */
    const zkp_reconfig *reconfig; /* reconfig */
};

/* Caller-provided memory for decoded vectors and converted ops. */
typedef struct zkp_arena {
    uint8_t *mem;
    size_t cap;
    size_t used;
} zkp_arena;

void zkp_arena_init(zkp_arena *a, void *mem, size_t cap);
/* Bytes of arena that always suffice to decode frame (frame_len bytes, a
 * request after the connect) and convert it with zkp_request_to_op. About
 * 2 * frame_len + 256 for most types, about 20 * frame_len for multi. */
size_t zkp_arena_need(const uint8_t *frame, size_t frame_len);

/* ---- decoding ---------------------------------------------------------- */

/* Decodes the ConnectRequest in frame (len bytes, the first frame of a
 * connection). The readOnly byte is optional (has_read_only); anything else
 * after it, or a shorter body, is ZKP_EMALFORMED (close the connection).
 * passwd points into frame, which is not modified. */
int zkp_connect_decode(const uint8_t *frame, size_t len, zkp_connect *c);

/* Decodes one request frame (not the connect) into *req, with vectors in
 * arena. Returns 0, or:
 *   ZKP_ESHORT      the frame is shorter than a RequestHeader; req is zero;
 *   ZKP_EUNKNOWN    req->xid and req->type are set, nothing else;
 *   ZKP_EMALFORMED  req->xid and req->type are set (ZooKeeper answers
 *                   MARSHALLINGERROR and keeps the connection);
 *   ZKP_ENULCHAR    the body is well-formed but a string holds NUL;
 *   ZKP_ENOSPACE    arena too small (impossible with zkp_arena_need bytes).
 * Rewrites frame in place (strings are NUL-terminated there). Trailing bytes
 * after a complete body are an error: no client sends them. */
int zkp_request_decode(uint8_t *frame, size_t len, zkp_arena *arena,
                       zkp_request *req);

/* ---- requests to registry ops ------------------------------------------ */

/* CreateMode flags -> enum reg_create_flags: 0 persistent, 1 ephemeral,
 * 2 persistent sequential, 3 ephemeral sequential, 4 container,
 * 5 persistent with TTL, 6 persistent sequential with TTL. Returns the
 * flags, or REG_EBADARGUMENTS for any other value. */
int zkp_create_mode(int32_t mode);

/* Turns a decoded write (create, create2, createContainer, createTTL,
 * delete, deleteContainer, setData, setACL, check, multi, reconfig,
 * closeSession) into *op for reg_prepare. Pointers in op borrow from req; multi sub-ops
 * are allocated in arena (whose size came from zkp_arena_need). A write
 * ZooKeeper refuses before it looks at anything the registry knows is a
 * refused op (op->refused; for a multi, the sub-op's refused), which still
 * takes a zxid, as ZooKeeper logs an error txn for it:
 *   BADARGUMENTS       invalid CreateMode; a TTL mode without createTTL or a
 *                      TTL outside 1..2^40-1; createTTL without a TTL mode;
 *                      a client's deleteContainer (server-internal); a
 *                      multi sub-op with a NUL byte;
 *   MARSHALLINGERROR   a multi's create (not createTTL) with a TTL mode:
 *                      ZooKeeper cannot cast its request, which fails the
 *                      whole multi;
 *   RECONFIGDISABLED   reconfig (a standalone server has no ensemble).
 * An empty or null ACL is an empty list (the registry's INVALIDACL, after
 * its session and path checks, as in ZooKeeper), null data is data_null.
 * The node kind: createContainer makes a container (sequential if the mode
 * is), createTTL a TTL node, create and create2 what the mode says except
 * that CONTAINER makes a persistent node (ZooKeeper's CreateTxn has no
 * container); a multi's creates are typed by their mode (zkp_request).
 * Returns 0, REG_EUNIMPLEMENTED (not a write: reads, session ops) or
 * ZKP_ENOSPACE. */
int zkp_request_to_op(const zkp_request *req, zkp_arena *arena, reg_op *op);

/* The refused op of a write of type `type` (an opcode) that did not decode
 * (err: MARSHALLINGERROR, or BADARGUMENTS for a NUL byte), for reg_prepare:
 * 0, or REG_EUNIMPLEMENTED if the type is not a write that ZooKeeper logs
 * an error txn for (closeSession, reads), -EINVAL if err is not
 * ZooKeeper's. */
int zkp_request_refusal(int32_t type, int err, reg_op *op);

/* ---- encoding: the streaming writer ------------------------------------ */

/* Builds one reply frame in out. Every call after the first failure does
 * nothing; zkp_w_end() returns that failure and removes the partial frame.
 * The vector helpers match the registry's callbacks, so reg_children(...,
 * zkp_w_vec_name, &w) streams children straight into the reply. */
typedef struct zkp_writer {
    zk_buf *out;
    size_t start;   /* offset of this frame in out */
    size_t vec;     /* offset of the open vector's count */
    int32_t count;  /* elements in the open vector */
    int err;
} zkp_writer;

/* Starts a reply frame with ReplyHeader {xid, zxid, reg_err_to_zk(err)}. */
void zkp_w_begin(zkp_writer *w, zk_buf *out, int32_t xid, int64_t zxid, int err);
void zkp_w_int(zkp_writer *w, int32_t v);
void zkp_w_long(zkp_writer *w, int64_t v);
void zkp_w_bool(zkp_writer *w, bool v);
/* A ustring; s NULL writes a null string. */
void zkp_w_string(zkp_writer *w, const char *s, size_t len);
/* A buffer; data NULL writes a null buffer. */
void zkp_w_buffer(zkp_writer *w, const void *data, size_t len);
void zkp_w_stat(zkp_writer *w, const reg_stat *st);
void zkp_w_acl(zkp_writer *w, const reg_acl *acl);
/* vector<...>: begin, one element call per element, end. No nesting. */
void zkp_w_vec_begin(zkp_writer *w);
void zkp_w_vec_end(zkp_writer *w);
void zkp_w_vec_name(void *w, const char *s, size_t len);  /* reg_children */
void zkp_w_vec_path(void *w, const char *s);   /* reg_session_ephemerals */
void zkp_w_vec_acl(void *w, const reg_acl *acl); /* reg_get_acl */
/* multi/multiRead: the MultiHeader of one result. With err != 0 it writes an
 * error result (MultiHeader {-1, false, err}, ErrorResponse {err}) and
 * returns false; else MultiHeader {type, false, 0} and returns true: write
 * the result's body next. */
bool zkp_w_multi_op(zkp_writer *w, int32_t type, int err);
/* The closing MultiHeader {-1, true, -1}. */
void zkp_w_multi_done(zkp_writer *w);
/* Current length of out, to cut back to with zkp_w_rewind (e.g. when a
 * multiRead sub-read fails after its header was written). */
size_t zkp_w_mark(const zkp_writer *w);
void zkp_w_rewind(zkp_writer *w, size_t mark);
/* Writes the frame length; returns 0 or the first error (frame removed). */
int zkp_w_end(zkp_writer *w);
/* Removes the partial frame. */
void zkp_w_abort(zkp_writer *w);

/* ---- encoding: whole replies ------------------------------------------- */

/* Each appends one frame and returns 0 or -ENOBUFS/-EMSGSIZE (out as it was).
 * zxid is the newest committed zxid (ZooKeeper's lastProcessedZxid). */

/* ConnectResponse {0, timeout_ms, session_id, passwd (16 bytes; NULL =
 * zeros)} and readOnly iff req->has_read_only. An expired or unknown session
 * is refused with timeout 0, session 0 and a zero passwd. */
int zkp_connect_reply(zk_buf *out, const zkp_connect *req, int32_t timeout_ms,
                      int64_t session_id, const uint8_t *passwd, bool read_only);

/* ReplyHeader only: every error; delete, checkWatches, removeWatches,
 * setWatches, auth (xid -4, zxid 0; after AUTHFAILED ZooKeeper closes the
 * connection), ping (xid -2), closeSession (then close). */
int zkp_reply_header(zk_buf *out, int32_t xid, int64_t zxid, int err);
/* CreateResponse (create) and SyncResponse (sync): a path. */
int zkp_reply_path(zk_buf *out, int32_t xid, int64_t zxid, const char *path);
/* Create2Response (create2, createContainer, createTTL). */
int zkp_reply_create2(zk_buf *out, int32_t xid, int64_t zxid, const char *path,
                      const reg_stat *st);
/* A Stat: exists, setData, setACL, check. */
int zkp_reply_stat(zk_buf *out, int32_t xid, int64_t zxid, const reg_stat *st);
/* GetDataResponse; data NULL sends a null buffer. */
int zkp_reply_data(zk_buf *out, int32_t xid, int64_t zxid, const void *data,
                   size_t len, const reg_stat *st);
/* GetACLResponse. */
int zkp_reply_acl(zk_buf *out, int32_t xid, int64_t zxid, const reg_acl *acl,
                  size_t n, const reg_stat *st);
/* GetChildrenResponse (st NULL) or GetChildren2Response; also
 * GetEphemeralsResponse, which has GetChildrenResponse's format. */
int zkp_reply_strings(zk_buf *out, int32_t xid, int64_t zxid,
                      const char *const *v, size_t n, const reg_stat *st);
/* One int: GetAllChildrenNumberResponse, and addWatch's ErrorResponse(0). */
int zkp_reply_int(zk_buf *out, int32_t xid, int64_t zxid, int32_t v);
/* WhoAmIResponse: vector<ClientInfo {authScheme, user}>. */
int zkp_reply_whoami(zk_buf *out, int32_t xid, int64_t zxid,
                     const reg_auth *ids, size_t n);
/* MultiResponse of a committed multi: req is the decoded multi, res its
 * result (res->nsub == req->nops). As ZooKeeper: the ReplyHeader err is 0;
 * if res->err != 0 every sub-result is an error result carrying its own
 * code (0 before the failing op, the failure, RUNTIMEINCONSISTENCY after);
 * else create and create2 -> path (type 1: ZooKeeper 3.8 answers a create2
 * sub-op as a create), createContainer/createTTL -> path + stat (type 15),
 * setData -> stat, delete/check -> nothing. -EINVAL on a mismatch. (A
 * multi that failed as a whole, res->nsub 0, is answered with a header.) */
int zkp_reply_multi(zk_buf *out, int32_t xid, int64_t zxid,
                    const zkp_request *req, const reg_result *res);
/* The answer of ZooKeeper 3.8 without SASL to a sasl request: err 0 and a
 * SetSASLResponse whose token is token (NULL: a null token). zxid is 0. */
int zkp_reply_sasl(zk_buf *out, int32_t xid, const void *token, size_t len);
/* A watch notification: ReplyHeader {-1, zxid, 0} and WatcherEvent {type,
 * state, path}. ZooKeeper 3.4-3.8 servers send zxid -1 (3.9 the event's
 * zxid); clients ignore it. */
int zkp_reply_event(zk_buf *out, int64_t zxid, int type, int state,
                    const char *path);

#endif
