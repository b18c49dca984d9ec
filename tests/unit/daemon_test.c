/*
 * daemon_test.c - unit and loop tests of the daemon's own pieces: zk_buf,
 * the id map, listen address parsing, and the write pipeline on a real
 * uv_loop (commit order, callbacks, batching, clean close).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "buf.h"
#include "d_addr.h"
#include "d_idmap.h"
#include "d_pipeline.h"

static void test_buf_limits(void **state)
{
    (void)state;
    zk_buf b;
    zk_buf_init(&b, 16);
    assert_int_equal(zk_buf_append(&b, "0123456789", 10), 0);
    assert_int_equal(zk_buf_printf(&b, "%s", "abcdef"), 0);
    assert_int_equal(b.len, 16);
    assert_int_equal(zk_buf_putc(&b, 'x'), -ENOBUFS);
    assert_int_equal(b.len, 16);
    zk_buf_consume(&b, 10);
    assert_memory_equal(b.data, "abcdef", 6);
    zk_buf_consume(&b, 100);
    assert_int_equal(b.len, 0);
    zk_buf_free(&b);
}

static void test_idmap(void **state)
{
    (void)state;
    zkd_idmap m;
    zkd_idmap_init(&m);
    int vals[5000];
    for (uint64_t i = 1; i <= 5000; i++)
        assert_int_equal(zkd_idmap_put(&m, i * 7919, &vals[i - 1]), 0);
    for (uint64_t i = 1; i <= 5000; i += 2)
        zkd_idmap_del(&m, i * 7919);
    for (uint64_t i = 1; i <= 5000; i++)
        assert_ptr_equal(zkd_idmap_get(&m, i * 7919), i % 2 ? NULL : &vals[i - 1]);
    assert_int_equal(m.count, 2500);
    assert_int_equal(zkd_idmap_put(&m, 0, vals), -EINVAL);
    assert_null(zkd_idmap_get(&m, 0));
    zkd_idmap_free(&m);
}

static void test_addr_parse(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    char out[64];
    assert_int_equal(zkd_addr_parse("127.0.0.1:8053", 0, &ss), 0);
    zkd_addr_format((struct sockaddr *)&ss, out, sizeof(out));
    assert_string_equal(out, "127.0.0.1:8053");
    assert_int_equal(zkd_addr_parse("[::1]:53", 0, &ss), 0);
    zkd_addr_format((struct sockaddr *)&ss, out, sizeof(out));
    assert_string_equal(out, "[::1]:53");
    assert_int_equal(zkd_addr_parse("10.0.0.1", 53, &ss), 0);
    assert_int_equal(zkd_addr_port((struct sockaddr *)&ss), 53);
    assert_int_equal(zkd_addr_parse("10.0.0.1", 0, &ss), -EINVAL);
    assert_int_equal(zkd_addr_parse("10.0.0.1:70000", 0, &ss), -EINVAL);
    assert_int_equal(zkd_addr_parse("10.0.0.1:", 0, &ss), -EINVAL);
    assert_int_equal(zkd_addr_parse("host.example:53", 0, &ss), -EINVAL);
    assert_int_equal(zkd_addr_parse("[::1", 0, &ss), -EINVAL);
    assert_int_equal(zkd_addr_parse("[::1]x", 0, &ss), -EINVAL);
}

typedef struct commit_log {
    int64_t zxids[16];
    int errs[16];
    int n;
} commit_log;

static int64_t g_last;
static reg_t *g_reg;

static void on_commit_zxid(void *ctx, const reg_result *res)
{
    commit_log *l = ctx;
    l->errs[l->n] = res->err;
    l->zxids[l->n] = reg_last_zxid(g_reg);
    l->n++;
    g_last = l->zxids[l->n - 1];
}

static void test_pipeline_commits_in_order(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    reg_config cfg;
    reg_config_default(&cfg);
    g_reg = reg_create(&cfg, NULL);
    assert_non_null(g_reg);
    zkd_pipeline p;
    assert_int_equal(zkd_pipeline_init(&p, &loop, g_reg), 0);
    commit_log log = {0};
    reg_op a = {.type = REG_OP_CREATE, .path = "/a", .version = -1};
    reg_op ab = {.type = REG_OP_CREATE, .path = "/a/b", .version = -1};
    reg_op dup = {.type = REG_OP_CREATE, .path = "/a", .version = -1};
    assert_int_equal(zkd_pipeline_write(&p, 0, &a, 1000, on_commit_zxid, &log), 0);
    /* prepared against the pending create of /a: succeeds */
    assert_int_equal(zkd_pipeline_write(&p, 0, &ab, 1000, on_commit_zxid, &log), 0);
    /* and this one fails against it, still in order */
    assert_int_equal(zkd_pipeline_write(&p, 0, &dup, 1000, on_commit_zxid, &log), 0);
    /* nothing is visible before the pipeline runs */
    assert_null(reg_lookup(g_reg, "/a"));
    assert_int_equal(log.n, 0);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(log.n, 3);
    assert_int_equal(log.errs[0], 0);
    assert_int_equal(log.errs[1], 0);
    assert_int_equal(log.errs[2], REG_ENODEEXISTS);
    assert_true(log.zxids[0] < log.zxids[1] && log.zxids[1] < log.zxids[2]);
    assert_non_null(reg_lookup(g_reg, "/a/b"));
    zkd_pipeline_close(&p);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    reg_free(g_reg);
}

static void test_pipeline_drain_on_close(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    reg_config cfg;
    reg_config_default(&cfg);
    g_reg = reg_create(&cfg, NULL);
    zkd_pipeline p;
    assert_int_equal(zkd_pipeline_init(&p, &loop, g_reg), 0);
    commit_log log = {0};
    reg_op a = {.type = REG_OP_CREATE, .path = "/x", .version = -1};
    assert_int_equal(zkd_pipeline_write(&p, 0, &a, 1000, on_commit_zxid, &log), 0);
    zkd_pipeline_close(&p); /* commits what is queued, then closes */
    assert_int_equal(log.n, 1);
    /* after close a write is committed at once */
    reg_op b = {.type = REG_OP_CREATE, .path = "/y", .version = -1};
    assert_int_equal(zkd_pipeline_write(&p, 0, &b, 1000, on_commit_zxid, &log), 0);
    assert_int_equal(log.n, 2);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    reg_free(g_reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_limits),
        cmocka_unit_test(test_idmap),
        cmocka_unit_test(test_addr_parse),
        cmocka_unit_test(test_pipeline_commits_in_order),
        cmocka_unit_test(test_pipeline_drain_on_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
