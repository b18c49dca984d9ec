/*
 * reg_commit.c - stage 3 of the write pipeline: reg_commit.
 *
 * Txns are applied strictly in zxid order: the oldest pending one, or
 * during recovery a decoded one above the last zxid (with nothing pending).
 * Applying walks the txn's records (reg_apply.c), which changes the tree,
 * fires watches and reports changes, then fills the caller's result as
 * ZooKeeper's FinalRequestProcessor would: a create's path and stat, a
 * multi's per-op results. Last, the pipeline forgets the txn's overlay
 * entries, since the tree now says what they said.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reg_internal.h"

static int fill_create(const struct reg__rec *r, reg_result *res)
{
    if (r->kind != REG__R_CREATE)
        return 0;
    free(res->path);
    res->path = strdup(r->path);
    return res->path ? 0 : -ENOMEM;
}

static size_t visible_records(const reg_txn *t)
{
    size_t n = 0;
    for (uint32_t i = 0; i < t->nrec; i++)
        n += !(t->rec[i].flags & REG__RF_IMPLICIT);
    return n;
}

static int apply_multi(reg_t *reg, reg_txn *t, reg_result *res)
{
    size_t n = visible_records(t), k = 0;
    int first = 0, carry = 0;
    if (n && !(res->sub = calloc(n, sizeof(*res->sub))))
        return -ENOMEM;
    res->nsub = n;
    for (uint32_t i = 0; i < t->nrec; i++) {
        struct reg__rec *r = &t->rec[i];
        reg_stat scratch;
        if (r->flags & REG__RF_IMPLICIT) {
            carry = carry ? carry : reg__apply(reg, t, r, &scratch);
            continue;
        }
        if (k == n)
            break;
        reg_result *sub = &res->sub[k++];
        sub->type = r->optype;
        sub->err = carry ? carry : reg__apply(reg, t, r, &sub->stat);
        carry = 0;
        if (sub->err == 0 && fill_create(r, sub) < 0)
            return -ENOMEM;
        if (sub->err == -ENOMEM)
            return -ENOMEM;
        first = first ? first : sub->err;
    }
    return t->err ? t->err : first;
}

static int apply_txn(reg_t *reg, reg_txn *t, reg_result *res)
{
    res->type = t->type;
    if (t->type == REG_OP_MULTI)
        return apply_multi(reg, t, res);
    if (t->err)
        return t->err;
    int rc = 0;
    for (uint32_t i = 0; i < t->nrec && rc == 0; i++)
        rc = reg__apply(reg, t, &t->rec[i], &res->stat);
    if (rc == 0 && t->nrec > 0)
        rc = fill_create(&t->rec[t->nrec - 1], res);
    if (t->type == REG_OP_CREATE_SESSION)
        res->session = t->session;
    return rc;
}

static void pend_remove_head(reg_t *reg, reg_txn *t)
{
    reg->pend_head = t->pnext;
    if (reg->pend_head)
        reg->pend_head->pprev = NULL;
    else
        reg->pend_tail = NULL;
    reg->npending--;
    uint64_t upto = reg->pend_head ? reg->pend_head->undo_start : reg->undo_tail;
    reg__pend_commit(reg, upto, t->zxid);
    t->reg = NULL;
}

static bool may_commit(const reg_t *reg, const reg_txn *t)
{
    if (t->reg)
        return t->reg == reg && reg->pend_head == t;
    return reg->npending == 0 && t->zxid > reg->last_zxid;
}

int reg_commit(reg_t *reg, reg_txn *txn, reg_result *res)
{
    reg_result local = {0};
    reg_result *out = res ? res : &local;
    if (!reg || !txn)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    if (!may_commit(reg, txn)) {
        out->err = -EINVAL;
        if (!txn->reg)
            reg__txn_destroy(txn);
        return -EINVAL;
    }
    int rc = apply_txn(reg, txn, out);
    out->err = rc;
    reg->last_zxid = txn->zxid;
    if (reg->next_zxid <= txn->zxid && txn->zxid < INT64_MAX)
        reg->next_zxid = txn->zxid + 1;
    if (txn->reg)
        pend_remove_head(reg, txn);
    reg__txn_destroy(txn);
    if (!res)
        reg_result_clear(&local);
    return rc;
}
