/*
 * reg_codec.c - txns as bytes for the write-ahead log.
 *
 * Format (little-endian), version 1 or 2:
 *   u8 'T', u8 version, i64 zxid, i64 session, i64 time, i32 type, i32 err,
 *   u32 nrec, then per record: i32 kind, i32 optype, u32 flags and
 *     CREATE          str path, blob data, acl, u8 node kind, i64 owner,
 *                     i32 parent cversion
 *     DELETE, CHECK   str path
 *     SET_DATA        str path, blob data, i32 version
 *     SET_ACL         str path, acl, i32 aversion
 *     ERROR           i32 err
 *     CREATE_SESSION  i64 timeout, u32 flags, 16 bytes password
 *     CLOSE_SESSION   u32 n, n x str path
 *   acl = u32 n, n x (i32 perms, str scheme, str id); str and blob = u32
 *   length and bytes. Nothing may follow the last record.
 * Record flags: 1 a parent made by REG_CREATE_PARENTS; 2 (version 2 only,
 * CREATE and SET_DATA with empty data) ZooKeeper's null data. A txn is
 * written as version 1 unless it needs version 2, so logs of writes without
 * null data read the same in older builds.
 *
 * The decoder is the log's gate against damage the checksums missed and
 * against hostile files: every length and count is bounded by the bytes
 * left, paths must be valid znode paths, kinds and record mixes must be
 * ones reg_prepare makes, and anything else is -EINVAL.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reg_internal.h"

#define CODEC_MAGIC 'T'
#define CODEC_VERSION 1
#define CODEC_VERSION_NULL_DATA 2
#define MAX_PATH (1u << 16)
#define MAX_BLOB (1u << 30)
#define MAX_ACL 65535u

/* ---- encode ------------------------------------------------------------------ */

static void put_acl(struct reg__wr *w, const struct reg__acl_list *a)
{
    reg__wr_u32(w, a->n);
    for (uint32_t i = 0; i < a->n; i++) {
        reg__wr_u32(w, (uint32_t)a->e[i].perms);
        reg__wr_str(w, a->e[i].scheme);
        reg__wr_str(w, a->e[i].id);
    }
}

static void put_rec(struct reg__wr *w, const struct reg__rec *r)
{
    reg__wr_u32(w, (uint32_t)r->kind);
    reg__wr_u32(w, (uint32_t)r->optype);
    reg__wr_u32(w, r->flags);
    switch (r->kind) {
    case REG__R_CREATE:
        reg__wr_str(w, r->path);
        reg__wr_blob(w, r->data, r->data_len);
        put_acl(w, &r->acl);
        reg__wr_u8(w, r->nkind);
        reg__wr_i64(w, r->owner);
        reg__wr_u32(w, (uint32_t)r->num);
        break;
    case REG__R_SET_DATA:
        reg__wr_str(w, r->path);
        reg__wr_blob(w, r->data, r->data_len);
        reg__wr_u32(w, (uint32_t)r->num);
        break;
    case REG__R_SET_ACL:
        reg__wr_str(w, r->path);
        put_acl(w, &r->acl);
        reg__wr_u32(w, (uint32_t)r->num);
        break;
    case REG__R_DELETE:
    case REG__R_CHECK:
        reg__wr_str(w, r->path);
        break;
    case REG__R_ERROR:
        reg__wr_u32(w, (uint32_t)r->num);
        break;
    case REG__R_CREATE_SESSION:
        reg__wr_i64(w, r->timeout);
        reg__wr_u32(w, r->sflags);
        reg__wr_bytes(w, r->passwd, sizeof(r->passwd));
        break;
    case REG__R_CLOSE_SESSION:
        reg__wr_u32(w, r->npaths);
        for (uint32_t i = 0; i < r->npaths; i++)
            reg__wr_str(w, r->paths[i]);
        break;
    }
}

int reg_txn_encode(const reg_txn *txn, uint8_t **buf, size_t *len)
{
    struct reg__wr w;
    if (!txn || !buf || !len)
        return -EINVAL;
    uint8_t version = CODEC_VERSION;
    for (uint32_t i = 0; i < txn->nrec; i++)
        if (txn->rec[i].flags & REG__RF_NULL_DATA)
            version = CODEC_VERSION_NULL_DATA;
    reg__wr_init(&w, NULL, NULL);
    reg__wr_u8(&w, CODEC_MAGIC);
    reg__wr_u8(&w, version);
    reg__wr_i64(&w, txn->zxid);
    reg__wr_i64(&w, txn->session);
    reg__wr_i64(&w, txn->time);
    reg__wr_u32(&w, (uint32_t)txn->type);
    reg__wr_u32(&w, (uint32_t)txn->err);
    reg__wr_u32(&w, txn->nrec);
    for (uint32_t i = 0; i < txn->nrec; i++)
        put_rec(&w, &txn->rec[i]);
    if (w.err) {
        reg__wr_free(&w);
        return w.err;
    }
    *buf = w.buf;
    *len = w.len;
    return 0;
}

/* ---- decode ------------------------------------------------------------------ */

static char *get_path(struct reg__rd *r)
{
    char *p = reg__rd_str(r, MAX_PATH);
    if (p && !reg__path_ok(p, strlen(p), false))
        reg__rd_fail(r);
    return p;
}

static void get_acl(struct reg__rd *r, struct reg__acl_list *a)
{
    uint32_t n = reg__rd_count(r, 12, MAX_ACL);
    if (r->err)
        return;
    if (n == 0 || !(a->e = calloc(n, sizeof(*a->e)))) {
        if (n == 0)
            reg__rd_fail(r);
        else
            r->err = -ENOMEM;
        return;
    }
    for (uint32_t i = 0; i < n && !r->err; i++) {
        a->n = i + 1;
        a->e[i].perms = reg__rd_i32(r);
        a->e[i].scheme = reg__rd_str(r, REG__MAX_ACL_STR);
        a->e[i].id = reg__rd_str(r, REG__MAX_ACL_STR);
    }
}

static void get_create(struct reg__rd *r, struct reg__rec *rec)
{
    rec->path = get_path(r);
    rec->data = reg__rd_blob(r, MAX_BLOB, &rec->data_len);
    get_acl(r, &rec->acl);
    rec->nkind = reg__rd_u8(r);
    rec->owner = reg__rd_i64(r);
    rec->num = reg__rd_i32(r);
    if (rec->nkind > REG__TTL || (rec->nkind == REG__TTL &&
                                  (rec->owner <= 0 || rec->owner > REG__TTL_MAX)))
        reg__rd_fail(r);
    if (rec->nkind == REG__EPHEMERAL && rec->owner == 0)
        reg__rd_fail(r);
    if (rec->path && strcmp(rec->path, "/") == 0)
        reg__rd_fail(r);
}

static void get_paths(struct reg__rd *r, struct reg__rec *rec)
{
    uint32_t n = reg__rd_count(r, 5, UINT32_MAX / sizeof(char *) - 1);
    if (r->err || n == 0)
        return;
    if (!(rec->paths = calloc(n, sizeof(char *)))) {
        r->err = -ENOMEM;
        return;
    }
    for (uint32_t i = 0; i < n && !r->err; i++) {
        rec->paths[i] = get_path(r);
        rec->npaths = i + 1;
    }
}

static void get_body(struct reg__rd *r, struct reg__rec *rec)
{
    switch (rec->kind) {
    case REG__R_CREATE:
        get_create(r, rec);
        break;
    case REG__R_SET_DATA:
        rec->path = get_path(r);
        rec->data = reg__rd_blob(r, MAX_BLOB, &rec->data_len);
        rec->num = reg__rd_i32(r);
        break;
    case REG__R_SET_ACL:
        rec->path = get_path(r);
        get_acl(r, &rec->acl);
        rec->num = reg__rd_i32(r);
        break;
    case REG__R_DELETE:
    case REG__R_CHECK:
        rec->path = get_path(r);
        break;
    case REG__R_ERROR:
        rec->num = reg__rd_i32(r);
        break;
    case REG__R_CREATE_SESSION:
        rec->timeout = reg__rd_i64(r);
        rec->sflags = reg__rd_u32(r);
        if (rec->timeout < 0 || rec->sflags > REG_SESSION_LOCAL)
            reg__rd_fail(r);
        reg__rd_bytes(r, rec->passwd, sizeof(rec->passwd));
        break;
    case REG__R_CLOSE_SESSION:
        get_paths(r, rec);
        break;
    default:
        reg__rd_fail(r);
    }
}

static bool zk_err(int32_t e)
{
    return e == 0 || (e <= REG_ZKERR(-1) && e >= REG_ZKERR(-200));
}

static bool op_type(int32_t t)
{
    return t == REG_OP_CREATE || t == REG_OP_DELETE || t == REG_OP_SET_DATA ||
           t == REG_OP_SET_ACL || t == REG_OP_CHECK || t == REG_OP_MULTI ||
           t == REG_OP_CREATE_SESSION || t == REG_OP_CLOSE_SESSION;
}

/* Whether a record's flags are ones reg_prepare sets (in that version). */
static bool flags_fit(const struct reg__rec *rec, uint8_t version)
{
    uint32_t known = REG__RF_IMPLICIT;
    if (version >= CODEC_VERSION_NULL_DATA &&
        (rec->kind == REG__R_CREATE || rec->kind == REG__R_SET_DATA))
        known |= REG__RF_NULL_DATA;
    if (rec->flags & ~known)
        return false;
    return !(rec->flags & REG__RF_NULL_DATA) || rec->data_len == 0;
}

/* Whether a record of this kind may appear in a txn of this type. */
static bool rec_fits(const reg_txn *t, const struct reg__rec *rec, uint8_t version)
{
    if (!zk_err(rec->kind == REG__R_ERROR ? rec->num : 0) || !flags_fit(rec, version))
        return false;
    if ((rec->flags & REG__RF_IMPLICIT) && rec->kind != REG__R_CREATE)
        return false;
    if (t->type != REG_OP_MULTI)
        return rec->kind == t->type && rec->optype == rec->kind;
    switch (rec->kind) {
    case REG__R_ERROR:
        return rec->optype == REG_OP_CREATE || rec->optype == REG_OP_DELETE ||
               rec->optype == REG_OP_SET_DATA || rec->optype == REG_OP_CHECK;
    case REG__R_CREATE:
    case REG__R_DELETE:
    case REG__R_SET_DATA:
    case REG__R_CHECK:
        return rec->optype == rec->kind;
    default:
        return false;
    }
}

static bool txn_fits(const reg_txn *t, uint32_t nrec)
{
    if (!op_type(t->type) || !zk_err(t->err) || t->zxid <= 0 || t->zxid == INT64_MAX)
        return false;
    if (t->type == REG_OP_CREATE_SESSION && t->session == 0)
        return false;
    if (t->type == REG_OP_MULTI)
        return true;
    if (t->err)
        return nrec == 0;
    return nrec >= 1 && (t->type == REG_OP_CREATE || nrec == 1);
}

static void get_txn(struct reg__rd *r, reg_txn *t)
{
    if (reg__rd_u8(r) != CODEC_MAGIC)
        reg__rd_fail(r);
    uint8_t version = reg__rd_u8(r);
    if (version != CODEC_VERSION && version != CODEC_VERSION_NULL_DATA)
        reg__rd_fail(r);
    t->zxid = reg__rd_i64(r);
    t->session = reg__rd_i64(r);
    t->time = reg__rd_i64(r);
    t->type = reg__rd_i32(r);
    t->err = reg__rd_i32(r);
    uint32_t n = reg__rd_count(r, 12, UINT32_MAX / sizeof(struct reg__rec));
    if (!r->err && !txn_fits(t, n))
        reg__rd_fail(r);
    for (uint32_t i = 0; i < n && !r->err; i++) {
        struct reg__rec *rec = reg__txn_add(t, reg__rd_i32(r));
        if (!rec) {
            r->err = -ENOMEM;
            break;
        }
        rec->optype = reg__rd_i32(r);
        rec->flags = reg__rd_u32(r);
        get_body(r, rec);
        if (!r->err && !rec_fits(t, rec, version))
            reg__rd_fail(r);
    }
    if (!r->err && r->off != r->len)
        reg__rd_fail(r);
}

int reg_txn_decode(const uint8_t *buf, size_t len, reg_txn **txn_out)
{
    struct reg__rd r;
    if (!txn_out)
        return -EINVAL;
    *txn_out = NULL;
    if (!buf)
        return -EINVAL;
    reg_txn *t = reg__txn_new();
    if (!t)
        return -ENOMEM;
    reg__rd_init(&r, buf, len, NULL, NULL);
    get_txn(&r, t);
    if (r.err) {
        reg__txn_destroy(t);
        return r.err == -ENOMEM ? -ENOMEM : -EINVAL;
    }
    *txn_out = t;
    return 0;
}
