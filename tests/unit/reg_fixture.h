/*
 * reg_fixture.h - helpers shared by the registry's unit tests: a registry
 * whose hooks record every watch event and change, and one-call writes
 * (prepare + commit).
 */
#ifndef ZK_TESTS_REG_FIXTURE_H
#define ZK_TESTS_REG_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "reg.h"

#define FX_MAX_EV 4096

typedef struct fx_ev {
    uint64_t watcher; /* 0 for change events */
    int type;
    char path[256];
    int64_t zxid;
} fx_ev;

typedef struct fx {
    reg_t *reg;
    fx_ev ev[FX_MAX_EV]; /* watch events */
    size_t nev;
    fx_ev ch[FX_MAX_EV]; /* on_change events */
    size_t nch;
    int64_t now;
} fx;

fx *fx_new(void);
fx *fx_new_cfg(const reg_config *cfg);
void fx_free(fx *f);
void fx_reset(fx *f);

/* prepare + commit; returns the result's error (or prepare's error). */
int fx_write(fx *f, int64_t session, const reg_op *op, reg_result *res);
int fx_create(fx *f, int64_t s, const char *path, const char *data,
              uint32_t flags, char *out, size_t outlen);
int fx_create_acl(fx *f, int64_t s, const char *path, const reg_acl *acl,
                  size_t n);
int fx_delete(fx *f, int64_t s, const char *path, int32_t version);
int fx_set(fx *f, int64_t s, const char *path, const char *data,
           int32_t version, reg_stat *st);
int64_t fx_session(fx *f, int64_t timeout, uint32_t flags);
int fx_close(fx *f, int64_t s);
/* Prepares only; asserts a txn came back. */
reg_txn *fx_prep(fx *f, int64_t s, const reg_op *op);

reg_op fx_op_create(const char *path, const char *data, uint32_t flags);
reg_op fx_op_delete(const char *path, int32_t version);
reg_op fx_op_set(const char *path, const char *data, int32_t version);
reg_op fx_op_check(const char *path, int32_t version);

/* Asserts watch event i. */
void fx_assert_ev(const fx *f, size_t i, uint64_t watcher, int type,
                  const char *path);
/* Number of watch events for watcher. */
size_t fx_count_ev(const fx *f, uint64_t watcher);
reg_stat fx_stat(fx *f, const char *path);
int fx_exists(fx *f, const char *path);

#endif
