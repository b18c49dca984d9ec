/*
 * reg_internal.h - the registry's private structures, shared by its files.
 *
 * Layout in one paragraph: a znode (struct reg_node) is one allocation that
 * holds its stat and its name inline; ephemeral, container and TTL nodes
 * carry a small struct reg__ext in front of it (owner and list links), so
 * plain persistent nodes pay nothing for them. Children hang off a lazily
 * allocated struct reg__dir as an AVL tree ordered by name bytes, so a
 * parent with a million children inserts, finds and deletes in O(log n) and
 * iterates in byte order. ACL lists are interned (reg_acl.c) and nodes hold
 * a 32-bit id. Sessions, watches and the pipeline's pending-path overlay
 * live in chained hash tables (struct reg__htab) keyed by id or path.
 */
#ifndef ZK_REGISTRY_REG_INTERNAL_H
#define ZK_REGISTRY_REG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reg.h"

#define REG__CONTAINER_OF(p, type, member) \
    ((type *)(void *)((char *)(p) - offsetof(type, member)))

/* ---- hash tables (reg_hash.c) ------------------------------------------- */

typedef struct reg__hlink {
    struct reg__hlink *next;
    uint64_t hash;
} reg__hlink;

typedef struct reg__htab {
    reg__hlink **b;
    size_t cap; /* power of two */
    size_t len;
} reg__htab;

uint64_t reg__hash_bytes(const void *p, size_t n);
uint64_t reg__hash_u64(uint64_t x);
int reg__htab_init(reg__htab *t);
void reg__htab_free(reg__htab *t);
void reg__htab_insert(reg__htab *t, reg__hlink *l, uint64_t hash);
void reg__htab_remove(reg__htab *t, reg__hlink *l);
/* The chain that may hold entries with this hash (compare hash, then key). */
reg__hlink *reg__htab_chain(const reg__htab *t, uint64_t hash);
/* Iteration: *pos starts at 0 and cur at NULL; returns NULL at the end.
 * To free entries while iterating, fetch the next one first. */
reg__hlink *reg__htab_next(const reg__htab *t, size_t *pos, reg__hlink *cur);

/* ---- nodes (reg_tree.c, reg_avl.c) -------------------------------------- */

enum reg__kind {
    REG__PERSISTENT = 0,
    REG__EPHEMERAL = 1,
    REG__CONTAINER = 2,
    REG__TTL = 3,
};

#define REG__CONTAINER_OWNER INT64_MIN
#define REG__TTL_OWNER_MASK ((int64_t)0xff00000000000000ull)
#define REG__TTL_MAX ((int64_t)0xffffffffffll)

/* In front of every non-persistent node: ephemerals are linked into their
 * session's list, containers and TTL nodes into the registry's GC list. */
struct reg__ext {
    int64_t owner; /* ephemeral: session id; TTL: ttl in ms; container: 0 */
    reg_node *eprev, *enext;
};

/* Allocated when a node first gets a child and kept until it goes, so the
 * stats only a parent needs (pzxid, cversion) cost leaves nothing: a node
 * without a dir has pzxid == czxid and cversion 0. */
struct reg__dir {
    reg_node *root;       /* AVL tree of the children */
    int64_t subtree_zxid; /* newest czxid/mzxid/pzxid among descendants */
    int64_t pzxid;
    int32_t cversion; /* ZooKeeper's stored value: number of child creates */
    int32_t count;
    int64_t ndesc;    /* descendants (getAllChildrenNumber), kept by link/unlink */
};

struct reg_node {
    reg_node *parent;
    reg_node *left, *right; /* siblings, AVL */
    struct reg__dir *dir;   /* NULL until the first child */
    uint8_t *data;          /* NULL when data_len == 0 */
    int64_t czxid, mzxid, ctime, mtime;
    int32_t version;
    int32_t aversion;
    uint32_t data_len;
    uint32_t acl; /* interned ACL id */
    uint16_t name_len;
    int8_t height;     /* AVL height */
    uint8_t kind;      /* enum reg__kind */
    uint8_t null_data; /* data is ZooKeeper's null (data_len 0), not empty */
    char name[];       /* NUL-terminated */
};

static inline struct reg__ext *reg__ext(const reg_node *n)
{
    return (struct reg__ext *)(void *)((char *)(uintptr_t)n - sizeof(struct reg__ext));
}
static inline int32_t reg__nkids(const reg_node *n)
{
    return n->dir ? n->dir->count : 0;
}
static inline int64_t reg__pzxid(const reg_node *n)
{
    return n->dir ? n->dir->pzxid : n->czxid;
}
static inline int32_t reg__cversion(const reg_node *n)
{
    return n->dir ? n->dir->cversion : 0;
}

/* AVL of siblings keyed by name bytes (reg_avl.c). */
int reg__name_cmp(const char *a, size_t alen, const char *b, size_t blen);
reg_node *reg__avl_find(reg_node *root, const char *name, size_t len);
/* First node whose name is >= key in byte order, or NULL. */
reg_node *reg__avl_lower_bound(reg_node *root, const char *key, size_t len);
/* Inserts n (name must be absent). */
void reg__avl_insert(reg_node **root, reg_node *n);
void reg__avl_remove(reg_node **root, reg_node *n);
reg_node *reg__avl_first(reg_node *root);
/* The node after n in byte order, found from root. */
reg_node *reg__avl_next(reg_node *root, const reg_node *n);

/* In-order iteration with an explicit stack (AVL height stays below 64). */
typedef struct reg__avl_iter {
    reg_node *stk[64];
    int depth;
} reg__avl_iter;
void reg__avl_iter_init(reg__avl_iter *it, reg_node *root);
reg_node *reg__avl_iter_next(reg__avl_iter *it);

/* Tree (reg_tree.c). */
reg_node *reg__node_new(reg_t *reg, const char *name, size_t len, int kind,
                        int64_t owner);
void reg__node_free(reg_t *reg, reg_node *n);
/* n's dir, allocated on first use; NULL when out of memory. */
struct reg__dir *reg__node_dir(reg_t *reg, reg_node *n);
/* null: ZooKeeper's null data (len must be 0). */
int reg__node_set_data(reg_t *reg, reg_node *n, const void *data, size_t len,
                       bool null);
int reg__node_link(reg_t *reg, reg_node *parent, reg_node *n);
void reg__node_unlink(reg_t *reg, reg_node *n);
reg_node *reg__lookup(const reg_t *reg, const char *path);
reg_node *reg__lookup_n(const reg_t *reg, const char *path, size_t len);
void reg__stat_fill(const reg_node *n, reg_stat *st);
int64_t reg__node_owner(const reg_node *n);
void reg__touch_ancestors(reg_node *from, int64_t zxid);
int64_t reg__subtree_zxid(const reg_node *n);
/* Frees every node of the subtree under (and including) n. */
void reg__tree_free(reg_t *reg, reg_node *n);
/* Builds "/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config". */
reg_node *reg__tree_init(reg_t *reg);
/* Writes n's full path into buf (size cap); returns its length or -ENAMETOOLONG. */
int reg__node_path(const reg_node *n, char *buf, size_t cap);
/* n's full path, malloc'd; NULL when out of memory. */
char *reg__node_path_dup(const reg_node *n);

/* ---- paths (reg_path.c) ------------------------------------------------- */

/* ZooKeeper's PathUtils.validatePath on bytes (UTF-8); with seq the path is
 * checked as if one more character followed it. */
bool reg__path_ok(const char *path, size_t len, bool seq);
/* Whether name (len bytes) is a valid path component. */
bool reg__name_ok(const char *name, size_t len);
/* Length of the parent path ("/" for children of the root); 0 for "/". */
size_t reg__parent_len(const char *path, size_t len);
/* Whether path is "/", "/zookeeper", "/zookeeper/quota" or "/zookeeper/config". */
bool reg__path_special(const char *path);

/* ---- ACLs (reg_acl.c) --------------------------------------------------- */

struct reg__ace {
    int32_t perms;
    char *scheme;
    char *id;
};

/* An owned list of ACL entries (in txns and while preparing). */
struct reg__acl_list {
    struct reg__ace *e;
    uint32_t n;
};

struct reg__acl_ix; /* reg_acl.c: a long list's lookup table for checks */

struct reg__acl {
    reg__hlink h;
    uint32_t id;
    uint32_t refs;
    uint32_t n;
    struct reg__acl_ix *ix; /* NULL for short lists, scanned instead */
    struct reg__ace e[];
};

/* The longest ACL scheme or id the log and snapshot readers take. ZooKeeper
 * bounds an ACL only by the frame that carries it (zookeeper.max_frame, at
 * most 256 MiB), and reg_prepare takes what ZooKeeper takes, so the readers
 * must take at least that: a tighter bound would let one client's long
 * digest id keep the daemon from starting. */
#define REG__MAX_ACL_STR (1u << 30)

#define REG__ACL_OPEN 0u     /* world:anyone ALL, never freed */
#define REG__ACL_READ 1u     /* world:anyone READ, never freed */

int reg__acl_init(reg_t *reg);
void reg__acl_fini(reg_t *reg);
/* Interns list (copied) and returns its id with one reference taken. */
int reg__acl_intern(reg_t *reg, const struct reg__ace *e, uint32_t n, uint32_t *id);
void reg__acl_ref(reg_t *reg, uint32_t id);
void reg__acl_unref(reg_t *reg, uint32_t id);
const struct reg__acl *reg__acl_get(const reg_t *reg, uint32_t id);
/* ZooKeeper's fixupACL: dedups, validates and expands "auth". */
int reg__acl_fixup(reg_t *reg, int64_t session, const reg_acl *acl, size_t n,
                   struct reg__acl_list *out);
void reg__acl_list_free(struct reg__acl_list *l);
int reg__acl_list_copy(struct reg__acl_list *dst, const struct reg__ace *e,
                       uint32_t n);
/* 0 if session may do perm on a node with ACL id, else REG_ENOAUTH. */
int reg__acl_check(const reg_t *reg, int64_t session, uint32_t id, int32_t perm);
bool reg__ip_valid(const char *expr);
/* IPAuthenticationProvider.matches: addr inside "a.b.c.d[/bits]" (or v6). */
bool reg__ip_match(const char *addr, const char *expr);

/* ---- sessions (reg_session.c) ------------------------------------------- */

enum reg__sess_flags {
    REG__S_LOCAL = 1u << 0,     /* = REG_SESSION_LOCAL */
    REG__S_CLOSING = 1u << 8,   /* a close is in the pipeline */
    REG__S_COMMITTED = 1u << 9, /* its CREATE_SESSION is applied */
    REG__S_ORPHAN = 1u << 10,   /* made up for an ephemeral owner on replay */
};

struct reg__ident {
    char *scheme;
    char *id;
};

struct reg__session {
    reg__hlink h;
    int64_t id;
    int64_t timeout;
    int64_t touched;
    int64_t key;     /* heap key: a deadline <= the real one */
    size_t heap_idx; /* SIZE_MAX when not in the expiry heap */
    uint32_t flags;
    uint8_t passwd[16];
    reg_node *eph; /* its ephemeral nodes (unordered list) */
    size_t neph;
    struct reg__ident *auth;
    size_t nauth;
};

int reg__sess_init(reg_t *reg);
void reg__sess_fini(reg_t *reg);
struct reg__session *reg__sess_find(const reg_t *reg, int64_t id);
struct reg__session *reg__sess_new(reg_t *reg, int64_t id, int64_t timeout,
                                   uint32_t flags, const uint8_t *passwd,
                                   int64_t now);
void reg__sess_delete(reg_t *reg, struct reg__session *s);
/* The id the next CREATE_SESSION gets (ZooKeeper's scheme). */
int64_t reg__sess_next_id(reg_t *reg, int64_t now);
void reg__sess_set_closing(reg_t *reg, struct reg__session *s, bool closing);
void reg__sess_link_eph(reg_t *reg, struct reg__session *s, reg_node *n);
void reg__sess_unlink_eph(reg_t *reg, struct reg__session *s, reg_node *n);
/* Every session counts as touched at now (after a restart). */
void reg__sess_restart_clock(reg_t *reg, int64_t now);
/* Whether session may write (0 = server, or live and not closing). */
bool reg__sess_live(const reg_t *reg, int64_t session);
/* Ephemerals of s sorted by czxid (malloc'd array, caller frees). */
int reg__sess_eph_sorted(const struct reg__session *s, reg_node ***out);

/* ---- watches (reg_watch.c) ---------------------------------------------- */

/* What reg__watch_set asks for; the modes it sets replace earlier ones of
 * the same watcher, path and table, as in ZooKeeper 3.8. */
enum reg__wbits {
    REG__W_DATA = 1u << 0,    /* data table: one-shot (getData, exists) */
    REG__W_CHILD = 1u << 1,   /* child table: one-shot (getChildren) */
    REG__W_PERSIST = 1u << 2, /* both tables: persistent */
    REG__W_RECUR = 1u << 3,   /* both tables: persistent recursive */
};

int reg__watch_init(reg_t *reg);
void reg__watch_fini(reg_t *reg);
int reg__watch_set(reg_t *reg, uint64_t watcher, const char *path, unsigned bits);
/* DataTree's dataWatches.triggerWatch: returns the trigger's stamp. */
uint64_t reg__watch_fire_data(reg_t *reg, const char *path, int type, int64_t zxid);
/* childWatches.triggerWatch; watchers that got stamp `suppress` are skipped. */
void reg__watch_fire_child(reg_t *reg, const char *path, int type, int64_t zxid,
                           uint64_t suppress);
void reg__emit(reg_t *reg, uint64_t watcher, int type, const char *path,
               int64_t zxid);

/* ---- txns (reg_txn.c) --------------------------------------------------- */

enum reg__rec_kind {
    REG__R_ERROR = -1,
    REG__R_CREATE = REG_OP_CREATE,
    REG__R_DELETE = REG_OP_DELETE,
    REG__R_SET_DATA = REG_OP_SET_DATA,
    REG__R_SET_ACL = REG_OP_SET_ACL,
    REG__R_CHECK = REG_OP_CHECK,
    REG__R_CREATE_SESSION = REG_OP_CREATE_SESSION,
    REG__R_CLOSE_SESSION = REG_OP_CLOSE_SESSION,
};

#define REG__RF_IMPLICIT 1u  /* a parent created by REG_CREATE_PARENTS */
#define REG__RF_NULL_DATA 2u /* CREATE, SET_DATA: the data is null, not empty */

/* One primitive effect; a txn is a list of them. */
struct reg__rec {
    int32_t kind;   /* enum reg__rec_kind */
    int32_t optype; /* ERROR: the op it stands for */
    uint32_t flags;
    uint8_t nkind;  /* CREATE: enum reg__kind */
    int32_t num;    /* CREATE: parent cversion; SET_*: new version; ERROR: err */
    int64_t owner;  /* CREATE: session (ephemeral) or ttl (TTL) */
    char *path;
    uint8_t *data;
    uint32_t data_len;
    struct reg__acl_list acl; /* CREATE, SET_ACL */
    int64_t timeout;          /* CREATE_SESSION */
    uint32_t sflags;
    uint8_t passwd[16];
    char **paths; /* CLOSE_SESSION: ephemerals to delete */
    uint32_t npaths;
};

struct reg_txn {
    int64_t zxid;
    int64_t session;
    int64_t time;
    int32_t type; /* reg_op_type */
    int32_t err;
    struct reg__rec *rec;
    uint32_t nrec, caprec;
    /* pipeline state */
    reg_t *reg;          /* set while pending */
    struct reg_txn *pnext, *pprev;
    uint64_t undo_start; /* first undo entry of this txn */
};

reg_txn *reg__txn_new(void);
struct reg__rec *reg__txn_add(reg_txn *t, int32_t kind);
void reg__rec_clear(struct reg__rec *r);
/* Frees records from index `from` on. */
void reg__txn_truncate(reg_txn *t, uint32_t from);
void reg__txn_destroy(reg_txn *t);

/* ---- pending overlay (reg_pend.c) --------------------------------------- */

/* A path as the pipeline sees it: committed tree plus pending txns. */
struct reg__pstate {
    int64_t zxid;  /* txn that produced it; 0 = the committed tree */
    int64_t owner; /* ephemeral session, 0 otherwise */
    int32_t version, cversion, aversion, nkids;
    uint32_t acl; /* a reference is held while stored in the overlay */
    uint8_t exists;
    uint8_t kind;
};

int reg__pend_init(reg_t *reg);
void reg__pend_fini(reg_t *reg);
/* The state of path; false if it does not exist. */
bool reg__pend_get(const reg_t *reg, const char *path, size_t len,
                   struct reg__pstate *st);
/* A mutable state for path on behalf of txn zxid (undo entry recorded). */
struct reg__pstate *reg__pend_mut(reg_t *reg, const char *path, size_t len,
                                  int64_t zxid);
void reg__pend_set_acl(reg_t *reg, struct reg__pstate *st, uint32_t acl);
uint64_t reg__pend_mark(const reg_t *reg);
/* Rolls the overlay back to a mark (newest entries first). */
void reg__pend_rollback(reg_t *reg, uint64_t mark);
/* Forgets the undo entries of the oldest txn, now committed. */
void reg__pend_commit(reg_t *reg, uint64_t upto, int64_t zxid);

/* ---- prepare and commit (reg_prep.c, reg_prep_node.c, reg_commit.c) ----- */

struct reg__prep {
    reg_t *reg;
    int64_t session;
    int64_t zxid;
    int64_t now;
    reg_txn *txn;
};

int reg__prep_create(struct reg__prep *p, const reg_op *op);
int reg__prep_delete(struct reg__prep *p, const reg_op *op);
int reg__prep_set_data(struct reg__prep *p, const reg_op *op);
int reg__prep_set_acl(struct reg__prep *p, const reg_op *op);
int reg__prep_check(struct reg__prep *p, const reg_op *op);
int reg__prep_create_session(struct reg__prep *p, const reg_op *op);
int reg__prep_close_session(struct reg__prep *p);

/* Applies one record (reg_apply.c); returns 0, a ZooKeeper error, or
 * -ENOMEM (the tree then no longer matches the log). */
int reg__apply(reg_t *reg, const reg_txn *t, struct reg__rec *r, reg_stat *st);
/* Hooks a new node into its session's ephemerals (a stand-in session is
 * made for an unknown owner) or into the GC list. */
int reg__link_kind(reg_t *reg, reg_node *n);
/* Deletes n (a leaf) as DataTree.deleteNode does, firing its watches. */
void reg__apply_delete_node(reg_t *reg, reg_node *n, char *path, int64_t zxid);

/* The GC list of containers and TTL nodes (reg_gc.c). */
void reg__gc_link(reg_t *reg, reg_node *n);
void reg__gc_unlink(reg_t *reg, reg_node *n);

/* ---- byte streams (reg_wire.c) ------------------------------------------ */

/* A little-endian writer with a sticky error: into a growing buffer, or
 * through a sink in 64 KiB pieces. In sink mode it keeps a CRC32C of what
 * went through, a piece at a time (snapshots end with it): per field, the
 * calls cost as much as the byte-wise FNV-1a they replaced. */
struct reg__wr {
    uint8_t *buf;
    size_t len, cap;
    int err;
    uint64_t hash;            /* CRC32C of what the sink has had */
    int (*sink)(void *ctx, const void *p, size_t n);
    void *ctx;
};

void reg__wr_init(struct reg__wr *w, int (*sink)(void *, const void *, size_t),
                  void *ctx);
void reg__wr_bytes(struct reg__wr *w, const void *p, size_t n);
void reg__wr_u8(struct reg__wr *w, uint8_t v);
void reg__wr_u32(struct reg__wr *w, uint32_t v);
void reg__wr_i64(struct reg__wr *w, int64_t v);
/* u32 length, then the bytes. */
void reg__wr_blob(struct reg__wr *w, const void *p, size_t n);
void reg__wr_str(struct reg__wr *w, const char *s);
/* Sink mode: writes out what is buffered. Returns the sticky error. */
int reg__wr_flush(struct reg__wr *w);
/* Sink mode: the CRC32C of every byte written so far, buffered ones too. */
uint32_t reg__wr_crc(const struct reg__wr *w);
void reg__wr_free(struct reg__wr *w);

/* A reader with a sticky error (-EINVAL once input is short or bad), over
 * a buffer or a source callback. It keeps a CRC32C of what it read, or the
 * FNV-1a hash snapshots of versions 1 and 2 end with (reg__rd_use_fnv). */
struct reg__rd {
    const uint8_t *p;
    size_t len, off;
    int err;
    bool fnv;
    uint64_t hash;
    int (*src)(void *ctx, void *p, size_t n);
    void *ctx;
};

void reg__rd_init(struct reg__rd *r, const uint8_t *p, size_t len,
                  int (*src)(void *, void *, size_t), void *ctx);
bool reg__rd_bytes(struct reg__rd *r, void *out, size_t n);
/* From now on the hash is FNV-1a, restarted over seen (the n bytes read so
 * far), for a stream written before CRC32C replaced it. */
void reg__rd_use_fnv(struct reg__rd *r, const void *seen, size_t n);
uint8_t reg__rd_u8(struct reg__rd *r);
uint32_t reg__rd_u32(struct reg__rd *r);
int32_t reg__rd_i32(struct reg__rd *r);
int64_t reg__rd_i64(struct reg__rd *r);
/* A u32-counted blob of at most max bytes, malloc'd (NULL when empty). */
uint8_t *reg__rd_blob(struct reg__rd *r, uint32_t max, uint32_t *len);
/* A u32-counted string of 1..max bytes without NUL, malloc'd. */
char *reg__rd_str(struct reg__rd *r, uint32_t max);
/* A count, refused when the remaining input (buffer mode) cannot hold that
 * many items of at least min_item bytes, or when above max. */
uint32_t reg__rd_count(struct reg__rd *r, size_t min_item, uint32_t max);
void reg__rd_fail(struct reg__rd *r);

/* ---- the registry --------------------------------------------------------- */

struct reg__undo;

struct reg {
    reg_config cfg;
    reg_hooks hooks;

    reg_node *root;
    size_t nnodes;
    size_t mem; /* bytes held by nodes, data and ACLs */
    int64_t last_zxid;
    int64_t next_zxid;

    /* ACLs */
    struct reg__acl **acls; /* by id; NULL = free slot */
    uint32_t nacl_slots;
    uint32_t acl_free; /* lowest possibly free id */
    reg__htab acl_tab;

    /* sessions */
    reg__htab sessions;
    size_t nsessions; /* committed ones */
    size_t neph;      /* ephemeral nodes linked to a session, all sessions */
    struct reg__session **heap;
    size_t heap_len, heap_cap;
    uint64_t next_session;

    reg_node *gc; /* containers and TTL nodes */
    reg_node *gc_next; /* where the next reg_collect_garbage looks first */
    size_t ngc;

    /* watches */
    reg__htab wpaths;
    reg__htab wowners;
    size_t nwatches;
    size_t nrecursive;       /* recursive watches in the data table */
    size_t nrecursive_child; /* and in the child table */
    uint64_t wstamp;

    /* pipeline */
    reg_txn *pend_head, *pend_tail;
    size_t npending;
    reg__htab overlay;
    struct reg__undo *undo; /* ring */
    size_t undo_cap;
    uint64_t undo_head, undo_tail; /* absolute indices */
};

#endif
