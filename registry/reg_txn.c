/*
 * reg_txn.c - txn objects: a header (zxid, session, time, type, error) and
 * a list of primitive records.
 *
 * A txn is a deterministic description of one write's effect, like
 * ZooKeeper's TxnHeader plus Txn record: replaying it needs nothing but the
 * tree it was prepared against, so the same object serves the pipeline, the
 * write-ahead log (reg_codec.c) and recovery. Records own their strings and
 * buffers; the txn owns its records.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reg_internal.h"

reg_txn *reg__txn_new(void)
{
    return calloc(1, sizeof(reg_txn));
}

struct reg__rec *reg__txn_add(reg_txn *t, int32_t kind)
{
    if (t->nrec == t->caprec) {
        uint32_t ncap = t->caprec ? t->caprec * 2 : 2;
        struct reg__rec *nr = realloc(t->rec, ncap * sizeof(*nr));
        if (!nr)
            return NULL;
        t->rec = nr;
        t->caprec = ncap;
    }
    struct reg__rec *r = &t->rec[t->nrec++];
    memset(r, 0, sizeof(*r));
    r->kind = kind;
    r->optype = kind;
    return r;
}

void reg__rec_clear(struct reg__rec *r)
{
    free(r->path);
    free(r->data);
    reg__acl_list_free(&r->acl);
    for (uint32_t i = 0; i < r->npaths; i++)
        free(r->paths[i]);
    free(r->paths);
    memset(r, 0, sizeof(*r));
}

void reg__txn_truncate(reg_txn *t, uint32_t from)
{
    while (t->nrec > from)
        reg__rec_clear(&t->rec[--t->nrec]);
}

void reg__txn_destroy(reg_txn *t)
{
    if (!t)
        return;
    reg__txn_truncate(t, 0);
    free(t->rec);
    free(t);
}

int64_t reg_txn_zxid(const reg_txn *txn)
{
    return txn->zxid;
}

int reg_txn_err(const reg_txn *txn)
{
    return txn->err;
}

int64_t reg_txn_session(const reg_txn *txn)
{
    return txn->session;
}

int reg_txn_type(const reg_txn *txn)
{
    return txn->type;
}

void reg_txn_free(reg_txn *txn)
{
    if (!txn)
        return;
    if (txn->reg) {
        reg_txn_abort(txn->reg, txn);
        return;
    }
    reg__txn_destroy(txn);
}

void reg_result_clear(reg_result *res)
{
    if (!res)
        return;
    free(res->path);
    for (size_t i = 0; i < res->nsub; i++)
        reg_result_clear(&res->sub[i]);
    free(res->sub);
    memset(res, 0, sizeof(*res));
}
