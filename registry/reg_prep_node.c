/*
 * reg_prep_node.c - stage 1 for node writes: create, delete, setData,
 * setACL and check, as PrepRequestProcessor.pRequest2Txn does them.
 *
 * Each function checks one op against the pipeline's view of the tree
 * (reg_pend.c), in ZooKeeper's order of checks so that a request failing
 * two ways reports the same error, then records its effect in the overlay
 * and appends its records to the txn. A failure returns a ZooKeeper error;
 * the caller rolls back whatever was recorded. System errors (-ENOMEM)
 * abort the whole prepare.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reg_internal.h"

#define MODE_MASK (REG_CREATE_EPHEMERAL | REG_CREATE_SEQUENTIAL | \
                   REG_CREATE_CONTAINER | REG_CREATE_TTL)

static int sess_check(const struct reg__prep *p)
{
    return reg__sess_live(p->reg, p->session) ? 0 : REG_ESESSIONEXPIRED;
}

/* checkAndIncVersion: BADVERSION unless expected is -1 or current; the next
 * version skips -1 (ZOOKEEPER-4743). */
static int next_version(int32_t cur, int32_t expected, int32_t *next)
{
    if (expected != -1 && expected != cur)
        return REG_EBADVERSION;
    int32_t n = (int32_t)((uint32_t)cur + 1u);
    *next = n == -1 ? 0 : n;
    return 0;
}

static bool path_ok(const struct reg__prep *p, const char *path, bool seq)
{
    size_t len = strlen(path);
    return len <= p->reg->cfg.max_path_bytes && reg__path_ok(path, len, seq);
}

/* The parent of path as ZooKeeper resolves it ("" is an alias of "/"). */
static size_t parent_of(const char *path)
{
    size_t plen = reg__parent_len(path, strlen(path));
    return plen ? plen : 1;
}

/* ---- create ------------------------------------------------------------------- */

static int create_mode(const reg_op *op, int *kind)
{
    uint32_t f = op->create_flags, m = f & MODE_MASK;
    if (f & ~(uint32_t)(MODE_MASK | REG_CREATE_PARENTS))
        return REG_EBADARGUMENTS;
    if (m & REG_CREATE_TTL) {
        if (m & ~(uint32_t)(REG_CREATE_TTL | REG_CREATE_SEQUENTIAL))
            return REG_EBADARGUMENTS;
        *kind = REG__TTL;
        return op->ttl_ms > 0 && op->ttl_ms <= REG__TTL_MAX ? 0 : REG_EBADARGUMENTS;
    }
    if (op->ttl_ms > 0)
        return REG_EBADARGUMENTS; /* "ttl not valid for mode" */
    if (m & REG_CREATE_CONTAINER) {
        *kind = REG__CONTAINER;
        return (m & ~(uint32_t)REG_CREATE_SEQUENTIAL) == REG_CREATE_CONTAINER
                   ? 0 : REG_EBADARGUMENTS;
    }
    *kind = (m & REG_CREATE_EPHEMERAL) ? REG__EPHEMERAL : REG__PERSISTENT;
    return 0;
}

/* The op's data into a CREATE or SET_DATA record. */
static int copy_data(struct reg__rec *r, const reg_op *op)
{
    if (op->data_null)
        r->flags |= REG__RF_NULL_DATA;
    if (op->data_len > 0) {
        if (!(r->data = malloc(op->data_len)))
            return -ENOMEM;
        memcpy(r->data, op->data, op->data_len);
        r->data_len = (uint32_t)op->data_len;
    }
    return 0;
}

/* Records the creation of path under its (existing) parent in the overlay:
 * the parent's create count and child count go up. */
static int note_create(struct reg__prep *p, const char *path, int kind,
                       int64_t owner, uint32_t acl, int32_t *parent_cversion)
{
    size_t len = strlen(path);
    struct reg__pstate *ps = reg__pend_mut(p->reg, path, parent_of(path), p->zxid);
    if (!ps)
        return -ENOMEM;
    ps->cversion = (int32_t)((uint32_t)ps->cversion + 1u);
    ps->nkids++;
    *parent_cversion = ps->cversion;
    struct reg__pstate *ns = reg__pend_mut(p->reg, path, len, p->zxid);
    if (!ns)
        return -ENOMEM;
    ns->exists = 1;
    ns->kind = (uint8_t)kind;
    ns->owner = kind == REG__EPHEMERAL ? owner : 0;
    ns->version = ns->cversion = ns->aversion = ns->nkids = 0;
    reg__pend_set_acl(p->reg, ns, acl);
    return 0;
}

static int add_create_rec(struct reg__prep *p, const char *path, int kind,
                          int64_t owner, struct reg__acl_list *acl,
                          const reg_op *op, uint32_t flags)
{
    uint32_t aid;
    int32_t pcv;
    int rc = reg__acl_intern(p->reg, acl->e, acl->n, &aid);
    if (rc < 0)
        return rc;
    rc = note_create(p, path, kind, owner, aid, &pcv);
    reg__acl_unref(p->reg, aid);
    struct reg__rec *r = rc < 0 ? NULL : reg__txn_add(p->txn, REG__R_CREATE);
    if (!r || !(r->path = strdup(path)))
        return -ENOMEM;
    r->flags = flags;
    r->nkind = (uint8_t)kind;
    r->owner = owner;
    r->num = pcv;
    r->acl = *acl;
    acl->e = NULL;
    acl->n = 0;
    return op ? copy_data(r, op) : 0;
}

/* REG_CREATE_PARENTS: finds the deepest existing ancestor of path (its
 * parent being missing), checks it like a parent, and creates the missing
 * levels top-down as open persistent nodes. */
static int create_parents(struct reg__prep *p, const char *path)
{
    size_t plen = parent_of(path), len = plen;
    struct reg__pstate st;
    while (!reg__pend_get(p->reg, path, len, &st))
        len = reg__parent_len(path, len) ? reg__parent_len(path, len) : 1;
    int rc = reg__acl_check(p->reg, p->session, st.acl, REG_PERM_CREATE);
    if (rc == 0 && st.kind == REG__EPHEMERAL)
        rc = REG_ENOCHILDRENFOREPHEMERALS;
    while (rc == 0 && len < plen) {
        const char *slash = memchr(path + len + 1, '/', plen - len - 1);
        len = slash ? (size_t)(slash - path) : plen;
        char *q = strndup(path, len);
        struct reg__acl_list open = {0};
        rc = q ? reg__acl_fixup(p->reg, 0, NULL, 0, &open) : -ENOMEM;
        if (rc == 0)
            rc = add_create_rec(p, q, REG__PERSISTENT, 0, &open, NULL,
                                REG__RF_IMPLICIT);
        reg__acl_list_free(&open);
        free(q);
    }
    return rc;
}

/* Resolves the parent (creating missing ones if asked) and checks it. */
static int create_parent(struct reg__prep *p, const reg_op *op,
                         struct reg__pstate *ps)
{
    size_t plen = parent_of(op->path);
    if (!reg__pend_get(p->reg, op->path, plen, ps)) {
        if (!(op->create_flags & REG_CREATE_PARENTS))
            return REG_ENONODE;
        int rc = create_parents(p, op->path);
        if (rc)
            return rc;
        reg__pend_get(p->reg, op->path, plen, ps);
        return 0;
    }
    return reg__acl_check(p->reg, p->session, ps->acl, REG_PERM_CREATE);
}

/* ZooKeeper checks only that a create's path has a "/" before it looks up
 * the parent (so "/a//b" is NONODE), and the whole path once the sequence
 * number is on. REG_CREATE_PARENTS, our extension, needs a sound path first. */
static int create_checks(struct reg__prep *p, const reg_op *op, int *kind)
{
    int rc = create_mode(op, kind);
    if (rc)
        return rc;
    if (*kind == REG__EPHEMERAL)
        rc = p->session != 0 && reg__sess_live(p->reg, p->session)
                 ? 0 : REG_ESESSIONEXPIRED;
    else
        rc = sess_check(p);
    if (rc)
        return rc;
    if (!strchr(op->path, '/'))
        return REG_EBADARGUMENTS;
    if ((op->create_flags & REG_CREATE_PARENTS) &&
        !path_ok(p, op->path, op->create_flags & REG_CREATE_SEQUENTIAL))
        return REG_EBADARGUMENTS;
    return 0;
}

int reg__prep_create(struct reg__prep *p, const reg_op *op)
{
    int kind;
    struct reg__acl_list acl = {0};
    struct reg__pstate ps, st;
    int rc = create_checks(p, op, &kind);
    if (rc == 0)
        rc = reg__acl_fixup(p->reg, p->session, op->acl, op->acl_count, &acl);
    if (rc == 0)
        rc = create_parent(p, op, &ps);
    size_t len = strlen(op->path);
    char *path = rc ? NULL : malloc(len + 16);
    if (rc == 0 && !path)
        rc = -ENOMEM;
    if (rc == 0) {
        memcpy(path, op->path, len + 1);
        if (op->create_flags & REG_CREATE_SEQUENTIAL)
            snprintf(path + len, 16, "%010d", ps.cversion);
        if (!path_ok(p, path, false) || op->data_len > p->reg->cfg.max_data_bytes)
            rc = REG_EBADARGUMENTS;
        else if (reg__pend_get(p->reg, path, strlen(path), &st))
            rc = REG_ENODEEXISTS;
        else if (ps.kind == REG__EPHEMERAL)
            rc = REG_ENOCHILDRENFOREPHEMERALS;
    }
    if (rc == 0) {
        int64_t owner = kind == REG__EPHEMERAL ? p->session
                        : kind == REG__TTL     ? op->ttl_ms : 0;
        rc = add_create_rec(p, path, kind, owner, &acl, op, 0);
    }
    free(path);
    reg__acl_list_free(&acl);
    return rc;
}

/* ---- delete, setData, setACL, check ---------------------------------------------- */

int reg__prep_delete(struct reg__prep *p, const reg_op *op)
{
    struct reg__pstate ps, st;
    int rc = sess_check(p);
    if (rc)
        return rc;
    /* getParentPathAndValidate: a "/" and not a special path; no more. */
    if (!strchr(op->path, '/') || reg__path_special(op->path))
        return REG_EBADARGUMENTS;
    size_t len = strlen(op->path), plen = parent_of(op->path);
    if (!reg__pend_get(p->reg, op->path, plen, &ps))
        return REG_ENONODE;
    if ((rc = reg__acl_check(p->reg, p->session, ps.acl, REG_PERM_DELETE)))
        return rc;
    if (!reg__pend_get(p->reg, op->path, len, &st))
        return REG_ENONODE;
    int32_t unused;
    if ((rc = next_version(st.version, op->version, &unused)))
        return rc;
    if (st.nkids > 0)
        return REG_ENOTEMPTY;
    struct reg__pstate *pm = reg__pend_mut(p->reg, op->path, plen, p->zxid);
    struct reg__pstate *nm = pm ? reg__pend_mut(p->reg, op->path, len, p->zxid) : NULL;
    struct reg__rec *r = nm ? reg__txn_add(p->txn, REG__R_DELETE) : NULL;
    if (!r || !(r->path = strdup(op->path)))
        return -ENOMEM;
    pm->nkids--;
    nm->exists = 0;
    reg__pend_set_acl(p->reg, nm, REG__ACL_OPEN);
    return 0;
}

/* Common head of setData, setACL and check: session, path, node. */
static int node_target(struct reg__prep *p, const reg_op *op, struct reg__pstate *st)
{
    int rc = sess_check(p);
    if (rc)
        return rc;
    if (!path_ok(p, op->path, false))
        return REG_EBADARGUMENTS;
    return reg__pend_get(p->reg, op->path, strlen(op->path), st) ? 0 : REG_ENONODE;
}

int reg__prep_set_data(struct reg__prep *p, const reg_op *op)
{
    struct reg__pstate st;
    int32_t nv;
    int rc = node_target(p, op, &st);
    if (rc == 0)
        rc = reg__acl_check(p->reg, p->session, st.acl, REG_PERM_WRITE);
    if (rc == 0 && op->data_len > p->reg->cfg.max_data_bytes)
        rc = REG_EBADARGUMENTS;
    if (rc == 0)
        rc = next_version(st.version, op->version, &nv);
    if (rc)
        return rc;
    struct reg__pstate *m = reg__pend_mut(p->reg, op->path, strlen(op->path), p->zxid);
    struct reg__rec *r = m ? reg__txn_add(p->txn, REG__R_SET_DATA) : NULL;
    if (!r || !(r->path = strdup(op->path)))
        return -ENOMEM;
    m->version = r->num = nv;
    return copy_data(r, op);
}

static int set_acl_rec(struct reg__prep *p, const reg_op *op,
                       struct reg__acl_list *acl, int32_t nv)
{
    uint32_t aid;
    int rc = reg__acl_intern(p->reg, acl->e, acl->n, &aid);
    if (rc < 0)
        return rc;
    struct reg__pstate *m = reg__pend_mut(p->reg, op->path, strlen(op->path), p->zxid);
    if (m)
        reg__pend_set_acl(p->reg, m, aid);
    reg__acl_unref(p->reg, aid);
    struct reg__rec *r = m ? reg__txn_add(p->txn, REG__R_SET_ACL) : NULL;
    if (!r || !(r->path = strdup(op->path)))
        return -ENOMEM;
    m->aversion = r->num = nv;
    r->acl = *acl;
    acl->e = NULL;
    acl->n = 0;
    return 0;
}

int reg__prep_set_acl(struct reg__prep *p, const reg_op *op)
{
    struct reg__pstate st;
    struct reg__acl_list acl = {0};
    int32_t nv;
    int rc = sess_check(p);
    if (rc == 0 && !path_ok(p, op->path, false))
        rc = REG_EBADARGUMENTS;
    if (rc == 0)
        rc = reg__acl_fixup(p->reg, p->session, op->acl, op->acl_count, &acl);
    if (rc == 0 && !reg__pend_get(p->reg, op->path, strlen(op->path), &st))
        rc = REG_ENONODE;
    if (rc == 0)
        rc = reg__acl_check(p->reg, p->session, st.acl, REG_PERM_ADMIN);
    if (rc == 0)
        rc = next_version(st.aversion, op->version, &nv);
    if (rc == 0)
        rc = set_acl_rec(p, op, &acl, nv);
    reg__acl_list_free(&acl);
    return rc;
}

int reg__prep_check(struct reg__prep *p, const reg_op *op)
{
    struct reg__pstate st;
    int32_t unused;
    int rc = node_target(p, op, &st);
    if (rc == 0)
        rc = reg__acl_check(p->reg, p->session, st.acl, REG_PERM_READ);
    if (rc == 0)
        rc = next_version(st.version, op->version, &unused);
    if (rc)
        return rc;
    struct reg__rec *r = reg__txn_add(p->txn, REG__R_CHECK);
    if (!r || !(r->path = strdup(op->path)))
        return -ENOMEM;
    return 0;
}
