/*
 * text_fixture.c - see text_fixture.h.
 */
#include "text_fixture.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void tf__on_watch(void *ctx, uint64_t watcher, int type, const char *path,
                         int64_t zxid)
{
    tf_world *w = ctx;
    for (int i = 0; i < TF_CLIENTS; i++)
        if (w->c[i].s != NULL && w->c[i].watcher == watcher)
            txt_sess_event(w->c[i].s, type, path, zxid, &w->c[i].events);
}

int64_t tf_open_session(tf_world *w)
{
    static const uint8_t passwd[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    reg_op op = {.type = REG_OP_CREATE_SESSION, .timeout_ms = 0,
                 .session_flags = REG_SESSION_LOCAL, .passwd = passwd};
    reg_txn *txn = NULL;
    assert_int_equal(reg_prepare(w->reg, 0, &op, w->now, &txn), 0);
    reg_result res = {0};
    assert_int_equal(reg_commit(w->reg, txn, &res), 0);
    int64_t id = res.session;
    assert_true(id != 0);
    reg_result_clear(&res);
    return id;
}

void tf_close_session(tf_world *w, int64_t session)
{
    reg_op op = {.type = REG_OP_CLOSE_SESSION};
    reg_txn *txn = NULL;
    assert_int_equal(reg_prepare(w->reg, session, &op, w->now, &txn), 0);
    reg_result res = {0};
    assert_int_equal(reg_commit(w->reg, txn, &res), 0);
    reg_result_clear(&res);
}

tf_world *tf_open(const tf_options *opt)
{
    tf_world *w = calloc(1, sizeof(*w));
    assert_non_null(w);
    w->now = TF_NOW;
    reg_config rc;
    reg_config_default(&rc);
    if (opt->max_pending)
        rc.max_pending = opt->max_pending;
    if (opt->max_watches)
        rc.max_watches = opt->max_watches;
    reg_hooks hooks = {.ctx = w, .on_watch = tf__on_watch};
    w->reg = reg_create(&rc, &hooks);
    assert_non_null(w->reg);
    txt_config tc = {.dns_root = opt->dns_root ? opt->dns_root : "/services",
                     .max_tokens = opt->max_tokens ? opt->max_tokens : 16};
    for (int i = 0; i < TF_CLIENTS; i++) {
        tf_client *c = &w->c[i];
        c->session = tf_open_session(w);
        c->watcher = (uint64_t)i + 1;
        c->s = txt_sess_create(w->reg, &tc, c->session, c->watcher);
        assert_non_null(c->s);
        zk_buf_init(&c->out, opt->out_limit);
        zk_buf_init(&c->events, 0);
    }
    return w;
}

void tf_close(tf_world *w)
{
    for (int i = 0; i < TF_CLIENTS; i++) {
        txt_sess_free(w->c[i].s);
        zk_buf_free(&w->c[i].out);
        zk_buf_free(&w->c[i].events);
    }
    reg_free(w->reg);
    free(w);
}

int tf_setup(void **state)
{
    tf_options opt = {0};
    *state = tf_open(&opt);
    return 0;
}

int tf_teardown(void **state)
{
    tf_close(*state);
    return 0;
}

static const char *tf__str(zk_buf *b)
{
    return b->data ? b->data : "";
}

const char *tf_run(tf_world *w, int i, const char *line, size_t len)
{
    tf_client *c = &w->c[i];
    zk_buf_consume(&c->out, c->out.len);
    if (c->out.data)
        c->out.data[0] = '\0';
    reg_txn *txn = NULL;
    c->status = txt_sess_line(c->s, line, len, w->now, &c->out, &txn);
    if (c->status == TXT_PENDING) {
        assert_non_null(txn);
        reg_result res = {0};
        reg_commit(w->reg, txn, &res);
        txt_sess_finish(c->s, &res, &c->out);
        reg_result_clear(&res);
    } else {
        assert_null(txn);
    }
    return tf__str(&c->out);
}

const char *tf_req(tf_world *w, const char *line)
{
    return tf_run(w, 0, line, strlen(line));
}

const char *tf_events(tf_world *w, int i)
{
    static char copy[4096];
    zk_buf *b = &w->c[i].events;
    assert_true(b->len < sizeof(copy));
    memcpy(copy, tf__str(b), b->len + 1);
    copy[b->len] = '\0';
    zk_buf_consume(b, b->len);
    return copy;
}

const char *tf_fmt(const char *fmt, ...)
{
    static char bufs[4][8192];
    static int next;
    char *b = bufs[next++ % 4];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof(bufs[0]), fmt, ap);
    va_end(ap);
    return b;
}

const char *tf_err(int err)
{
    return tf_fmt("ERR %s %s\n", reg_errname(err), reg_strerror(err));
}

const char *tf_stat(tf_world *w, const char *path)
{
    reg_stat st;
    assert_int_equal(reg_exists(w->reg, 0, path, 0, &st), 0);
    return tf_fmt(" czxid=%" PRId64 " mzxid=%" PRId64 " pzxid=%" PRId64 " ctime=%" PRId64
                  " mtime=%" PRId64 " version=%d cversion=%d aversion=%d"
                  " ephemeralOwner=0x%" PRIx64 " dataLength=%d numChildren=%d",
                  st.czxid, st.mzxid, st.pzxid, st.ctime, st.mtime, (int)st.version,
                  (int)st.cversion, (int)st.aversion, (uint64_t)st.ephemeral_owner,
                  (int)st.data_length, (int)st.num_children);
}
