/*
 * reg_prep.c - stage 1 of the write pipeline: reg_prepare and reg_txn_abort.
 *
 * reg_prepare gives every well-formed op the next zxid, runs the op's
 * checks against the pipeline's view (reg_prep_node.c) and returns a txn;
 * a failed op still becomes a txn, carrying only its error, as ZooKeeper
 * logs an ErrorTxn. A multi is all or nothing: its sub-ops see each
 * other's effects, and when one fails the overlay is rolled back to where
 * the multi started and the txn holds one error record per sub-op (0
 * before the failure, the error, RUNTIMEINCONSISTENCY after), which is how
 * DataTree.processTxn reports a failed multi. Sessions are created and
 * marked closing here, so the pipeline already knows them.
 *
 * An op the caller's protocol refused before the registry saw it
 * (reg_op.refused) is an error txn all the same, as ZooKeeper logs an
 * ErrorTxn for its own early refusals (a bad CreateMode, a body that does
 * not decode). Only system errors (malformed op, no memory, pipeline full)
 * come back without a txn, and then nothing has changed: no zxid was used.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reg_internal.h"

#define MAX_MULTI_OPS (1u << 20)

static bool is_syserr(int rc)
{
    return rc < 0 && rc > REG_ZK_BASE;
}

/* ---- op shape ------------------------------------------------------------- */

/* A refusal names a ZooKeeper error and a write type; nothing else counts. */
static bool refusal_ok(const reg_op *op, bool in_multi)
{
    if (op->refused >= REG_ZK_BASE)
        return false;
    switch (op->type) {
    case REG_OP_CREATE:
    case REG_OP_DELETE:
    case REG_OP_SET_DATA:
    case REG_OP_CHECK:
        return true;
    case REG_OP_SET_ACL:
    case REG_OP_MULTI:
        return !in_multi;
    default:
        return false;
    }
}

static bool node_op_ok(const reg_op *op, bool in_multi)
{
    if (op->refused)
        return refusal_ok(op, in_multi);
    switch (op->type) {
    case REG_OP_SET_ACL:
        if (in_multi || (!op->acl && op->acl_count))
            return false;
        break;
    case REG_OP_CREATE:
        if (!op->acl && op->acl_count)
            return false;
        /* fall through */
    case REG_OP_SET_DATA:
        if ((!op->data || op->data_null) && op->data_len)
            return false;
        break;
    case REG_OP_DELETE:
    case REG_OP_CHECK:
        break;
    default:
        return false;
    }
    return op->path != NULL;
}

static bool op_ok(const reg_op *op)
{
    if (!op)
        return false;
    if (op->refused)
        return refusal_ok(op, false);
    if (op->type == REG_OP_MULTI) {
        if ((!op->ops && op->nops) || op->nops > MAX_MULTI_OPS)
            return false;
        for (size_t i = 0; i < op->nops; i++)
            if (!node_op_ok(&op->ops[i], true))
                return false;
        return true;
    }
    if (op->type == REG_OP_CREATE_SESSION || op->type == REG_OP_CLOSE_SESSION)
        return true;
    return node_op_ok(op, false);
}

/* ---- multi ---------------------------------------------------------------- */

static int prep_node(struct reg__prep *p, const reg_op *op)
{
    if (op->refused)
        return op->refused;
    switch (op->type) {
    case REG_OP_CREATE: return reg__prep_create(p, op);
    case REG_OP_DELETE: return reg__prep_delete(p, op);
    case REG_OP_SET_DATA: return reg__prep_set_data(p, op);
    case REG_OP_SET_ACL: return reg__prep_set_acl(p, op);
    case REG_OP_CHECK: return reg__prep_check(p, op);
    default: return -EINVAL;
    }
}

static int multi_fail(struct reg__prep *p, const reg_op *op, size_t failed, int err)
{
    reg__txn_truncate(p->txn, 0);
    for (size_t i = 0; i < op->nops; i++) {
        struct reg__rec *r = reg__txn_add(p->txn, REG__R_ERROR);
        if (!r)
            return -ENOMEM;
        r->optype = op->ops[i].type;
        r->num = i < failed ? 0 : i == failed ? err : REG_ERUNTIMEINCONSISTENCY;
    }
    p->txn->err = err;
    return 0;
}

static int prep_multi(struct reg__prep *p, const reg_op *op)
{
    uint64_t mark = reg__pend_mark(p->reg);
    for (size_t i = 0; i < op->nops; i++) {
        int rc = prep_node(p, &op->ops[i]);
        /* MARSHALLINGERROR is ZooKeeper's answer to an exception other than
         * a KeeperException (a sub-op it cannot cast, a NullPointerException
         * in fixupACL): it escapes the multi's loop and fails the request. */
        if (is_syserr(rc) || rc == REG_EMARSHALLINGERROR)
            return rc;
        if (rc) {
            reg__pend_rollback(p->reg, mark);
            return multi_fail(p, op, i, rc);
        }
    }
    return 0;
}

/* ---- sessions ------------------------------------------------------------- */

int reg__prep_create_session(struct reg__prep *p, const reg_op *op)
{
    reg_t *reg = p->reg;
    int64_t id = reg__sess_next_id(reg, p->now);
    uint32_t flags = op->session_flags & REG_SESSION_LOCAL;
    int64_t timeout = op->timeout_ms > 0 ? op->timeout_ms : 0;
    struct reg__rec *r = reg__txn_add(p->txn, REG__R_CREATE_SESSION);
    if (!r || !reg__sess_new(reg, id, timeout, flags, op->passwd, p->now))
        return -ENOMEM;
    r->timeout = timeout;
    r->sflags = flags;
    if (op->passwd)
        memcpy(r->passwd, op->passwd, sizeof(r->passwd));
    p->txn->session = id;
    return 0;
}

/* ---- pipeline bookkeeping ------------------------------------------------- */

static void pend_append(reg_t *reg, reg_txn *t)
{
    t->reg = reg;
    t->pprev = reg->pend_tail;
    t->pnext = NULL;
    if (reg->pend_tail)
        reg->pend_tail->pnext = t;
    else
        reg->pend_head = t;
    reg->pend_tail = t;
    reg->npending++;
}

static int run(struct reg__prep *p, const reg_op *op)
{
    if (op->refused)
        return op->refused;
    switch (op->type) {
    case REG_OP_MULTI: return prep_multi(p, op);
    case REG_OP_CREATE_SESSION: return reg__prep_create_session(p, op);
    case REG_OP_CLOSE_SESSION: return reg__prep_close_session(p);
    default: return prep_node(p, op);
    }
}

int reg_prepare(reg_t *reg, int64_t session, const reg_op *op, int64_t now_ms,
                reg_txn **txn_out)
{
    if (!reg || !txn_out || !op_ok(op))
        return -EINVAL;
    *txn_out = NULL;
    if (reg->npending >= reg->cfg.max_pending)
        return REG_ETHROTTLEDOP;
    reg_txn *t = reg__txn_new();
    if (!t)
        return -ENOMEM;
    struct reg__prep p = {reg, session, reg->next_zxid, now_ms, t};
    t->zxid = p.zxid;
    t->session = session;
    t->time = now_ms;
    t->type = op->type;
    t->undo_start = reg__pend_mark(reg);
    int rc = run(&p, op);
    if (rc) {
        reg__pend_rollback(reg, t->undo_start);
        reg__txn_truncate(t, 0);
        if (is_syserr(rc)) {
            reg__txn_destroy(t);
            return rc;
        }
        t->err = rc;
    }
    reg->next_zxid++;
    pend_append(reg, t);
    *txn_out = t;
    return 0;
}

static bool close_pending(const reg_t *reg, int64_t session)
{
    for (const reg_txn *t = reg->pend_head; t; t = t->pnext)
        if (t->type == REG_OP_CLOSE_SESSION && t->err == 0 && t->session == session)
            return true;
    return false;
}

/* Undoes what preparing t did outside the overlay (sessions). */
static void undo_sessions(reg_t *reg, const reg_txn *t)
{
    struct reg__session *s = reg__sess_find(reg, t->session);
    if (!s || t->err)
        return;
    if (t->type == REG_OP_CREATE_SESSION && !(s->flags & REG__S_COMMITTED))
        reg__sess_delete(reg, s);
    else if (t->type == REG_OP_CLOSE_SESSION && !close_pending(reg, t->session))
        reg__sess_set_closing(reg, s, false);
}

void reg_txn_abort(reg_t *reg, reg_txn *txn)
{
    if (!reg || !txn || txn->reg != reg || reg->pend_tail != txn)
        return;
    reg__pend_rollback(reg, txn->undo_start);
    reg->pend_tail = txn->pprev;
    if (reg->pend_tail)
        reg->pend_tail->pnext = NULL;
    else
        reg->pend_head = NULL;
    reg->npending--;
    reg->next_zxid = txn->zxid; /* the zxid is handed out again */
    undo_sessions(reg, txn);
    reg__txn_destroy(txn);
}

size_t reg_pending_count(const reg_t *reg)
{
    return reg->npending;
}
