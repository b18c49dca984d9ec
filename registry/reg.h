/*
 * reg.h - the registry: zonekeeper's ZooKeeper-style coordination core.
 *
 * The registry is a tree of znodes with sessions, ephemeral, sequential,
 * container and TTL nodes, versions, ACLs and watches. It knows nothing of
 * sockets, libuv, DNS or the disk: it is driven by function calls, time is
 * passed in (milliseconds since the Unix epoch), and it reports changes
 * through the callbacks in reg_hooks.
 *
 * Writes go through a three-stage pipeline, as in ZooKeeper's standalone
 * server (PrepRequestProcessor -> SyncRequestProcessor -> FinalRequestProcessor):
 *
 *   1. reg_prepare() checks a write against the committed tree plus every
 *      write still waiting in the pipeline, gives it the next zxid and turns
 *      it into a reg_txn: a deterministic description of its effect. A write
 *      that fails its checks still gets a zxid and an error txn, exactly as
 *      ZooKeeper logs an ErrorTxn, so zxids match Apache ZooKeeper's.
 *   2. The caller makes the txn durable (reg_txn_encode() gives the bytes for
 *      the write-ahead log). Before the log exists this stage is empty.
 *   3. reg_commit() applies txns strictly in zxid order: the tree changes,
 *      watches fire (reg_hooks.on_watch), reg_hooks.on_change reports every
 *      changed path, and the result for the client is filled in.
 *
 * Readers (reg_get, reg_children, the node view used by DNS) only ever see
 * committed state, so no reader sees a write that a crash could take back.
 *
 * Errors: 0 or a negative number. Negative errno values (-ENOMEM, -EINVAL)
 * are system errors; ZooKeeper's own codes live at REG_ZK_BASE + code, so
 * they never collide with errno: REG_ENONODE == -1101 is ZooKeeper's -101.
 */
#ifndef ZK_REGISTRY_REG_H
#define ZK_REGISTRY_REG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors ------------------------------------------------------------ */

#define REG_ZK_BASE (-1000)
#define REG_ZKERR(zkcode) (REG_ZK_BASE + (zkcode))

enum reg_err {
    REG_OK = 0,
    REG_ESYSTEMERROR = REG_ZKERR(-1),
    REG_ERUNTIMEINCONSISTENCY = REG_ZKERR(-2),
    REG_EDATAINCONSISTENCY = REG_ZKERR(-3),
    REG_ECONNECTIONLOSS = REG_ZKERR(-4),
    REG_EMARSHALLINGERROR = REG_ZKERR(-5),
    REG_EUNIMPLEMENTED = REG_ZKERR(-6),
    REG_EOPERATIONTIMEOUT = REG_ZKERR(-7),
    REG_EBADARGUMENTS = REG_ZKERR(-8),
    REG_EINVALIDSTATE = REG_ZKERR(-9),
    REG_EUNKNOWNSESSION = REG_ZKERR(-12),
    REG_EAPIERROR = REG_ZKERR(-100),
    REG_ENONODE = REG_ZKERR(-101),
    REG_ENOAUTH = REG_ZKERR(-102),
    REG_EBADVERSION = REG_ZKERR(-103),
    REG_ENOCHILDRENFOREPHEMERALS = REG_ZKERR(-108),
    REG_ENODEEXISTS = REG_ZKERR(-110),
    REG_ENOTEMPTY = REG_ZKERR(-111),
    REG_ESESSIONEXPIRED = REG_ZKERR(-112),
    REG_EINVALIDCALLBACK = REG_ZKERR(-113),
    REG_EINVALIDACL = REG_ZKERR(-114),
    REG_EAUTHFAILED = REG_ZKERR(-115),
    REG_ECLOSING = REG_ZKERR(-116),
    REG_ENOTHING = REG_ZKERR(-117),
    REG_ESESSIONMOVED = REG_ZKERR(-118),
    REG_ENOTREADONLY = REG_ZKERR(-119),
    REG_EEPHEMERALONLOCALSESSION = REG_ZKERR(-120),
    REG_ENOWATCHER = REG_ZKERR(-121),
    REG_ERECONFIGDISABLED = REG_ZKERR(-123),
    REG_EQUOTAEXCEEDED = REG_ZKERR(-125),
    REG_ETHROTTLEDOP = REG_ZKERR(-127),
};

/* ZooKeeper's numeric code for err (0 for REG_OK, -1 SYSTEMERROR for errno). */
int reg_err_to_zk(int err);
/* ZooKeeper's name for err without prefix: "NONODE", "BADVERSION", ...;
 * "SYSTEMERROR" for negative errno values. Never NULL. */
const char *reg_errname(int err);
/* A short human message for err ("node does not exist"). Never NULL. */
const char *reg_strerror(int err);

/* ---- values ------------------------------------------------------------ */

/* A znode's stat, fields and order as in ZooKeeper's jute Stat. */
typedef struct reg_stat {
    int64_t czxid;
    int64_t mzxid;
    int64_t ctime; /* ms since the epoch */
    int64_t mtime;
    int32_t version;
    int32_t cversion;
    int32_t aversion;
    int64_t ephemeral_owner; /* session id, 0 if not ephemeral */
    int32_t data_length;
    int32_t num_children;
    int64_t pzxid;
} reg_stat;

enum reg_perm {
    REG_PERM_READ = 1,
    REG_PERM_WRITE = 2,
    REG_PERM_CREATE = 4,
    REG_PERM_DELETE = 8,
    REG_PERM_ADMIN = 16,
    REG_PERM_ALL = 31,
};

/* One ACL entry, e.g. {REG_PERM_ALL, "world", "anyone"}. */
typedef struct reg_acl {
    int32_t perms;
    const char *scheme;
    const char *id;
} reg_acl;

/* An identity a session has authenticated as, e.g. {"digest", "bob:hash"}
 * or {"ip", "127.0.0.1"}. */
typedef struct reg_auth {
    const char *scheme;
    const char *id;
} reg_auth;

/* Create flags. ZooKeeper's CreateMode maps onto them:
 * PERSISTENT 0, EPHEMERAL E, PERSISTENT_SEQUENTIAL S, EPHEMERAL_SEQUENTIAL E|S,
 * CONTAINER C, PERSISTENT_WITH_TTL T, PERSISTENT_SEQUENTIAL_WITH_TTL T|S;
 * also C|S (ZooKeeper's createContainer with a sequential CreateMode);
 * other combinations are BADARGUMENTS. A sequential name gets "%010d" of the
 * parent's count of child creates so far (pending ones included; deletes do
 * not lower it), as ZooKeeper numbers them. */
enum reg_create_flags {
    REG_CREATE_EPHEMERAL = 1u << 0,
    REG_CREATE_SEQUENTIAL = 1u << 1,
    REG_CREATE_CONTAINER = 1u << 2,
    REG_CREATE_TTL = 1u << 3,
    /* zonekeeper extension: create missing ancestors as persistent nodes
     * with an open ACL, in the same txn (used by REGISTER and CREATE ... parents). */
    REG_CREATE_PARENTS = 1u << 4,
};

/* Write operations; the numbers are ZooKeeper's opcodes where it has one. */
typedef enum reg_op_type {
    REG_OP_CREATE = 1,
    REG_OP_DELETE = 2,
    REG_OP_SET_DATA = 5,
    REG_OP_SET_ACL = 7,
    REG_OP_CHECK = 13,
    REG_OP_MULTI = 14,
    REG_OP_CREATE_SESSION = -10,
    REG_OP_CLOSE_SESSION = -11,
} reg_op_type;

/* Session flags. */
enum reg_session_flags {
    /* The session lives exactly as long as one connection (socket protocol):
     * it never expires by time, and recovery after a restart closes it. */
    REG_SESSION_LOCAL = 1u << 0,
};

/* A write request. All pointers are borrowed for the duration of the call;
 * reg_prepare copies what it keeps. */
typedef struct reg_op {
    reg_op_type type;
    const char *path;          /* CREATE, DELETE, SET_DATA, SET_ACL, CHECK */
    const void *data;          /* CREATE, SET_DATA */
    size_t data_len;
    bool data_null;            /* CREATE, SET_DATA: the data is ZooKeeper's
                                  null (a jute buffer of length -1, read back
                                  as null by reg_get), data_len 0; false: the
                                  data_len bytes at data, maybe none (empty) */
    uint32_t create_flags;     /* CREATE: enum reg_create_flags */
    int64_t ttl_ms;            /* CREATE with REG_CREATE_TTL: 1..2^40-1, else
                                  BADARGUMENTS; other creates: <= 0 (a
                                  positive ttl there is BADARGUMENTS) */
    const reg_acl *acl;        /* CREATE, SET_ACL; NULL with acl_count 0 =
                                  world:anyone ALL; non-NULL with acl_count 0
                                  = an empty list (INVALIDACL). A NULL scheme
                                  or id is a jute null string, as ZooKeeper's
                                  fixupACL takes it (where Java would throw a
                                  NullPointerException: MARSHALLINGERROR) */
    size_t acl_count;
    int32_t version;           /* DELETE, SET_DATA, SET_ACL, CHECK: expected, -1 any */
    const struct reg_op *ops;  /* MULTI: sub-operations (CREATE, DELETE, SET_DATA, CHECK) */
    size_t nops;
    int64_t timeout_ms;        /* CREATE_SESSION: negotiated timeout, 0 = never (LOCAL) */
    uint32_t session_flags;    /* CREATE_SESSION: enum reg_session_flags */
    const uint8_t *passwd;     /* CREATE_SESSION: 16 bytes chosen by the caller */
    int refused;               /* 0, or the ZooKeeper error (REG_E*) with which
                                  the caller's protocol refused this CREATE,
                                  DELETE, SET_DATA, SET_ACL, CHECK or MULTI
                                  before the registry could check it: the
                                  checks ZooKeeper makes first (CreateMode,
                                  TTL), a body that did not decode. Nothing
                                  else of the op is looked at (path, data, ops
                                  may be NULL): it fails with that error, yet
                                  gets a zxid and an error txn, as ZooKeeper
                                  logs an ErrorTxn. A refused sub-op of a
                                  multi fails the multi at its place, like
                                  any failing sub-op; REG_EMARSHALLINGERROR
                                  there fails the whole multi instead (an
                                  error txn without sub-results), as
                                  ZooKeeper's exceptions other than
                                  KeeperException do. */
} reg_op;

/* The outcome of one write, filled by reg_commit. For MULTI, sub[] holds one
 * result per sub-operation with ZooKeeper's rules: on failure the ops before
 * the failing one report 0, the failing one its error, the rest
 * REG_ERUNTIMEINCONSISTENCY; err is the first failing op's error. A sub
 * result's type is its op's type (ZooKeeper reports failed ones as error
 * results: check err). Stats are as clients see them: cversion is
 * ZooKeeper's 2*creates-numChildren, ephemeralOwner is 0 for containers
 * and TTL nodes. */
typedef struct reg_result {
    int err;
    reg_op_type type;
    char *path;            /* CREATE: the created path (with sequence suffix) */
    reg_stat stat;         /* CREATE (the new node), SET_DATA, SET_ACL */
    int64_t session;       /* CREATE_SESSION: the new session id */
    struct reg_result *sub;
    size_t nsub;
} reg_result;

/* Frees what a result owns (path, sub) and zeroes it; the struct itself is the
 * caller's. Safe on a zeroed result. */
void reg_result_clear(reg_result *res);

/* ---- the registry ------------------------------------------------------ */

typedef struct reg reg_t;
typedef struct reg_txn reg_txn;
typedef struct reg_node reg_node;

/* ZooKeeper's watcher event types. */
enum reg_event_type {
    REG_EVENT_CREATED = 1,
    REG_EVENT_DELETED = 2,
    REG_EVENT_CHANGED = 3,
    REG_EVENT_CHILDREN = 4,
};

typedef struct reg_hooks {
    void *ctx;
    /* A watch of `watcher` fired. One-shot watches are already removed when
     * this is called. Called from reg_commit (and reg_set_watches), in zxid
     * order; must not call back into the registry. */
    void (*on_watch)(void *ctx, uint64_t watcher, int type, const char *path,
                     int64_t zxid);
    /* A node was created, deleted or its data changed (type as above), for
     * caches such as DNS. Called from reg_commit; must not call back in. */
    void (*on_change)(void *ctx, int type, const char *path, int64_t zxid);
} reg_hooks;

typedef struct reg_config {
    size_t max_data_bytes;   /* default 1 MiB, at most 1 GiB */
    size_t max_path_bytes;   /* default 4096, at most 65535 */
    size_t max_pending;      /* txns prepared but not committed; default 100000 */
    size_t gc_scan;          /* containers and TTL nodes one reg_collect_garbage
                                looks at, at least; default 32768 */
    size_t max_watches;      /* paths one watcher watches; default 1000000. A read
                                or addWatch/setWatches that would pass it fails
                                with REG_EQUOTAEXCEEDED and leaves no watch */
    uint8_t server_id;       /* high byte of session ids */
} reg_config;

/* Fills cfg with the defaults. */
void reg_config_default(reg_config *cfg);

/* Creates an empty registry holding what a fresh Apache ZooKeeper 3.8 holds:
 * "/", "/zookeeper", "/zookeeper/quota" and "/zookeeper/config" (world READ
 * only, aversion -1), zxids and times 0. cfg (NULL, or fields left 0, for
 * the defaults) and hooks are copied; hooks may be NULL. Returns NULL when
 * out of memory. */
reg_t *reg_create(const reg_config *cfg, const reg_hooks *hooks);
/* Frees the registry, pending txns included. */
void reg_free(reg_t *reg);

/* The zxid of the newest committed txn (0 for a new registry). */
int64_t reg_last_zxid(const reg_t *reg);
/* The newest zxid under path (max of czxid, mzxid, pzxid in that subtree),
 * for the DNS SOA serial; 0 if path does not exist. */
int64_t reg_subtree_zxid(const reg_t *reg, const char *path);

/* Validates a path as ZooKeeper does (absolute, no empty, "." or ".."
 * components, no trailing "/", no control characters, at most
 * max_path_bytes). sequential: a trailing "/" is allowed before the suffix
 * is added. Returns 0 or REG_EBADARGUMENTS. */
int reg_path_validate(const reg_t *reg, const char *path, bool sequential);

/* ---- write pipeline ---------------------------------------------------- */

/* Stage 1: checks op for session against the committed tree plus every
 * pending txn, assigns the next zxid and returns the txn in *txn_out (owned by
 * the caller until passed to reg_commit or reg_txn_abort). Returns 0 when a txn
 * was made, even an error txn (its error is reg_txn_err); a negative value
 * without a txn only for a malformed op (-EINVAL), out of memory (-ENOMEM)
 * or too many pending txns (REG_ETHROTTLEDOP). session 0 is the server itself
 * (no ACL checks). Ephemeral creates need a live session. Ops of an unknown
 * or closing session fail with SESSIONEXPIRED, except CLOSE_SESSION, which
 * always succeeds (closing what is left, possibly nothing).
 * As in ZooKeeper, creating "/" is NODEEXISTS; deleting "/", "/zookeeper",
 * "/zookeeper/quota" or "/zookeeper/config" is BADARGUMENTS.
 * CREATE_SESSION: the new id (ZooKeeper's scheme: server_id in the top byte,
 * the clock of the first one below, then counting up) is reg_txn_session
 * of the txn and res->session after commit. */
int reg_prepare(reg_t *reg, int64_t session, const reg_op *op, int64_t now_ms,
                reg_txn **txn_out);

/* Stage 3: applies txn (which must be the oldest uncommitted one, or a txn
 * decoded from the log during recovery), fires watches and change hooks,
 * fills res (may be NULL), and frees txn. Returns res->err.
 * A decoded txn is accepted only with nothing pending and a zxid above
 * reg_last_zxid(); otherwise it is freed and -EINVAL returned. A pending txn
 * that is not the oldest is refused with -EINVAL and NOT freed.
 * -ENOMEM means the tree could not take the change and no longer matches the
 * log: the daemon should exit (recovery replays the log). */
int reg_commit(reg_t *reg, reg_txn *txn, reg_result *res);

/* Frees a txn that will not be committed (only the newest pending one may be
 * dropped, e.g. when the log cannot take it; the pending state is rolled back
 * and its zxid is handed out again). Other txns are left alone. */
void reg_txn_abort(reg_t *reg, reg_txn *txn);
/* Frees any txn not to be committed: a decoded one (e.g. at or below the
 * snapshot's zxid during recovery) or, as reg_txn_abort, the newest pending. */
void reg_txn_free(reg_txn *txn);
/* Number of txns prepared and not yet committed. */
size_t reg_pending_count(const reg_t *reg);

int64_t reg_txn_zxid(const reg_txn *txn);
int reg_txn_err(const reg_txn *txn);
/* The op type (reg_op_type) of the txn. */
int reg_txn_type(const reg_txn *txn);
/* The session that issued the txn (for CREATE_SESSION: the new session). */
int64_t reg_txn_session(const reg_txn *txn);

/* Serializes txn for the write-ahead log into a malloc'd buffer (versioned,
 * little-endian, self-contained). Returns 0 or -ENOMEM. */
int reg_txn_encode(const reg_txn *txn, uint8_t **buf, size_t *len);
/* Parses a logged txn (for replay with reg_commit). Hostile input safe:
 * returns -EINVAL for anything malformed. */
int reg_txn_decode(const uint8_t *buf, size_t len, reg_txn **txn_out);

/* ---- sessions ---------------------------------------------------------- */

/* Keeps session alive (a ping or any request). REG_ESESSIONEXPIRED if the
 * session is unknown or closing. */
int reg_session_touch(reg_t *reg, int64_t session, int64_t now_ms);
/* Checks a reconnect: 0 if session exists and passwd (16 bytes) matches,
 * REG_ESESSIONEXPIRED otherwise. Touches the session on success. */
int reg_session_check(reg_t *reg, int64_t session, const uint8_t *passwd,
                      int64_t now_ms);
/* The session's negotiated timeout in ms, or a negative error. */
int64_t reg_session_timeout(const reg_t *reg, int64_t session);
/* Writes up to max ids of sessions whose timeout passed at now_ms and that
 * have no close pending; returns how many. The caller closes them with
 * REG_OP_CLOSE_SESSION. */
size_t reg_sessions_expired(reg_t *reg, int64_t now_ms, int64_t *ids, size_t max);
/* Adds an identity to a live session (addauth, or the client's ip). An
 * identity of scheme "super" passes every ACL check. Identities are not
 * persisted (ZooKeeper keeps them per connection). */
int reg_session_add_auth(reg_t *reg, int64_t session, const char *scheme,
                         const char *id);
/* Forgets a session's identities (its connection changed). */
int reg_session_clear_auth(reg_t *reg, int64_t session);
/* Calls fn for each identity of session, in the order added (whoAmI).
 * Returns 0 or REG_ESESSIONEXPIRED for an unknown session. */
int reg_session_identities(const reg_t *reg, int64_t session,
                           void (*fn)(void *ctx, const reg_auth *id), void *ctx);
size_t reg_session_count(const reg_t *reg);
/* Ephemeral nodes, all sessions together (mntr's zk_ephemerals_count); O(1). */
size_t reg_ephemeral_count(const reg_t *reg);
/* Calls fn for each committed session (in no particular order), e.g. for
 * the "dump" and "cons" four-letter words; flags are enum reg_session_flags.
 * fn must not call back into the registry. */
void reg_session_foreach(const reg_t *reg,
                         void (*fn)(void *ctx, int64_t session, int64_t timeout_ms,
                                    uint32_t flags),
                         void *ctx);
/* Calls fn for each ephemeral node of session (paths in zxid order). */
int reg_session_ephemerals(const reg_t *reg, int64_t session,
                           void (*fn)(void *ctx, const char *path), void *ctx);

/* ---- reads ------------------------------------------------------------- */

/* Reads check READ permission for session (0 = server, no check), except
 * reg_exists, which as in ZooKeeper checks none, and see committed state
 * only. A closing or unknown session gets SESSIONEXPIRED. A nonzero watcher
 * leaves a one-shot watch: reg_get a data watch (only if the node exists and
 * may be read), reg_exists a data watch if the node exists or an exists
 * watch if not, reg_children a child watch (only if the node exists and may
 * be read). reg_get's *data is NULL (with *len 0) for ZooKeeper's null data
 * and never NULL otherwise, empty data included. Data pointers stay valid
 * until the next reg_commit. */
int reg_get(reg_t *reg, int64_t session, const char *path, uint64_t watcher,
            const void **data, size_t *len, reg_stat *st);
int reg_exists(reg_t *reg, int64_t session, const char *path, uint64_t watcher,
               reg_stat *st);
/* Calls fn for each child name, in byte order; st (may be NULL) gets the
 * parent's stat. */
int reg_children(reg_t *reg, int64_t session, const char *path, uint64_t watcher,
                 reg_stat *st, void (*fn)(void *ctx, const char *name, size_t len),
                 void *ctx);
/* Number of descendants of path (ZooKeeper getAllChildrenNumber; for "/"
 * that includes the /zookeeper nodes). */
int reg_all_children_number(reg_t *reg, int64_t session, const char *path,
                            int32_t *count);
/* Calls fn for each ACL entry of path; st gets its stat. Needs READ or
 * ADMIN; without ADMIN digest ids read "user:x", as in ZooKeeper. */
int reg_get_acl(reg_t *reg, int64_t session, const char *path, reg_stat *st,
                void (*fn)(void *ctx, const reg_acl *acl), void *ctx);

/* ---- watches ----------------------------------------------------------- */

enum reg_watch_mode {
    REG_WATCH_PERSISTENT = 0,           /* ZooKeeper AddWatchMode 0 */
    REG_WATCH_PERSISTENT_RECURSIVE = 1, /* ZooKeeper AddWatchMode 1 */
};
/* ZooKeeper's WatcherType for removeWatches/checkWatches. CHILDREN and DATA
 * name the two tables (DATA includes exists watches), whatever the mode of
 * the watch there; ANY both; PERSISTENT and PERSISTENT_RECURSIVE (ZooKeeper
 * 3.9 numbers; 3.8 answers them MARSHALLINGERROR) the addWatch kinds. */
enum reg_watcher_type {
    REG_WATCHER_CHILDREN = 1,
    REG_WATCHER_DATA = 2,
    REG_WATCHER_ANY = 3,
    REG_WATCHER_PERSISTENT = 4,
    REG_WATCHER_PERSISTENT_RECURSIVE = 5,
};

/* Adds a persistent watch (addWatch). Persistent watches fire CREATED,
 * DELETED, CHANGED and CHILDREN for path; recursive ones fire CREATED,
 * DELETED and CHANGED for path and every descendant, never CHILDREN.
 * As in ZooKeeper 3.8, a watcher has one watch per path in each of two
 * tables, data (getData, exists) and child (getChildren), addWatch puts
 * its watch (persistent or recursive) in both, and a later watch replaces
 * the mode of the earlier one: a getData watch on a path with a persistent
 * watch makes the data half one-shot, addWatch makes one-shot watches
 * persistent. The child half of a recursive watch only ever fires DELETED
 * (for path and its descendants), which is seen once its data half is gone
 * (removed, or replaced by a one-shot watch that fired). */
int reg_watch_add(reg_t *reg, uint64_t watcher, const char *path, int mode);
/* removeWatches (remove true): takes watcher's watch on path from the
 * table(s) of type, whatever its mode; REG_ENOWATCHER if it has none there
 * (so removing DATA, then ANY, of a recursive watch both succeed, as in
 * ZooKeeper 3.8). checkWatches (remove false): 0 if the table(s) hold any
 * watch on path, whoever's, as ZooKeeper 3.8 answers it, else
 * REG_ENOWATCHER. The PERSISTENT types (unknown to ZooKeeper 3.8) check or
 * remove only watches of that mode, in either table. */
int reg_watch_remove(reg_t *reg, uint64_t watcher, const char *path, int type,
                     bool remove);
/* Drops every watch of watcher (its connection closed). */
void reg_watcher_drop(reg_t *reg, uint64_t watcher);
/* setWatches after a reconnect: re-arms watches relative to rel_zxid and
 * fires at once what the client missed (ZooKeeper DataTree.setWatches):
 * data watches get DELETED (node gone) or CHANGED (mzxid > rel_zxid), exist
 * watches CREATED (node there), child watches DELETED or CHILDREN (pzxid >
 * rel_zxid); those events carry zxid -1 as ZooKeeper's do. */
int reg_set_watches(reg_t *reg, uint64_t watcher, int64_t rel_zxid,
                    const char *const *data, size_t ndata,
                    const char *const *exist, size_t nexist,
                    const char *const *child, size_t nchild,
                    const char *const *persistent, size_t npersistent,
                    const char *const *recursive, size_t nrecursive);
/* Watches as ZooKeeper counts them (mntr's zk_watch_count): one per path and
 * watcher in each of its data and child watch tables. */
size_t reg_watch_count(const reg_t *reg);

/* ---- maintenance ------------------------------------------------------- */

/* Writes up to max paths (malloc'd, caller frees) of container nodes that
 * have had children and now have none, and of TTL nodes without children
 * whose mtime + ttl passed at now_ms; the caller deletes them with
 * version -1 writes. Nodes that a pending txn changes (a delete named by an
 * earlier call and not yet committed) are left for a later call. Returns
 * how many. A call looks at gc_scan candidates, or a thirtieth of them when
 * that is more, going on where the last call stopped: with the daemon's
 * 2 s tick every one is looked at within a minute (ZooKeeper's container
 * check interval), and a call costs the loop a fraction of a millisecond
 * rather than a walk of every container and TTL node. */
size_t reg_collect_garbage(reg_t *reg, int64_t now_ms, char **paths, size_t max);

/* Number of znodes, the root included (ZooKeeper's mntr znode_count is one
 * more: its table holds the root under "" and "/"). */
size_t reg_node_count(const reg_t *reg);
/* Bytes held by nodes, their data, children indexes and ACLs (malloc
 * overhead not included; for mntr). */
size_t reg_memory_bytes(const reg_t *reg);

/* ---- persistence ------------------------------------------------------- */

/* Streams the committed state (tree, ACLs, sessions, last zxid) in a
 * versioned binary format ending in a node count and a 64-bit FNV-1a hash
 * of the stream (the snapshot file adds its own CRC), through write(ctx, p, n),
 * which must take all n bytes and return 0, or return a negative error that
 * stops the snapshot and is returned. Pending txns are not included: they
 * are above the snapshot's zxid and come back from the log. Returns 0,
 * -ENOMEM or write's error. */
int reg_snapshot_write(const reg_t *reg,
                       int (*write)(void *ctx, const void *p, size_t n),
                       void *ctx);
/* Loads a snapshot into a registry that has committed nothing yet (reg_last_zxid
 * 0, no sessions, nothing pending). read(ctx, p, n) must fill all n bytes and
 * return 0, or return a negative error (end of input included). Hostile-input
 * safe: anything malformed, truncated or failing its checksum is -EINVAL and
 * leaves reg untouched; read's errors are returned as they are.
 * Recovery is: reg_create, reg_snapshot_read (if there is a snapshot),
 * reg_txn_decode + reg_commit for each logged txn above reg_last_zxid(), then
 * reg_recover_finish. */
int reg_snapshot_read(reg_t *reg, int (*read)(void *ctx, void *p, size_t n),
                      void *ctx);
/* Ends recovery at now_ms: every session counts as touched now (ZooKeeper
 * gives sessions a full timeout after a restart), and fn is called for each
 * session that must be closed with REG_OP_CLOSE_SESSION: LOCAL sessions (their
 * connections died with the old process) and stand-ins for owners of
 * ephemerals whose session was not in the log. fn must not call back into
 * the registry; collect the ids, then prepare the closes. Returns how many. */
size_t reg_recover_finish(reg_t *reg, int64_t now_ms,
                          void (*fn)(void *ctx, int64_t session), void *ctx);

/* ---- read-only node view (for DNS and the four-letter words) ------------ */

/* The committed node at path or NULL. Exact match. */
const reg_node *reg_lookup(const reg_t *reg, const char *path);
/* The child of node named name (len bytes), ASCII case-insensitive: an exact
 * match wins, else the first case-insensitive match in byte order. */
const reg_node *reg_node_child_icase(const reg_node *node, const char *name,
                                     size_t len);
/* Children in byte order: first, then next until NULL. */
const reg_node *reg_node_first_child(const reg_node *node);
const reg_node *reg_node_next_sibling(const reg_node *node);
const reg_node *reg_node_parent(const reg_node *node);
/* The node's own name (last path component; "" for the root). */
const char *reg_node_name(const reg_node *node, size_t *len);
/* The node's data; null data reads as empty (never NULL). */
const void *reg_node_data(const reg_node *node, size_t *len);
void reg_node_stat(const reg_node *node, reg_stat *st);

#ifdef __cplusplus
}
#endif
#endif
