/*
 * text_register_test.c - REGISTER and DEREGISTER against a real registry:
 * the member's path, its Curator-compatible JSON (checked byte for byte and
 * parsed back with jansson), default ids for IPv4, IPv6 and host names,
 * validation errors, duplicates, and members vanishing with their session.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "text_fixture.h"

#define EQ(w, line, want)                                                      \
    do {                                                                       \
        const char *got_ = tf_req((w), (line));                                \
        assert_string_equal(got_, (want));                                     \
    } while (0)

/* The member's data as a NUL-terminated copy (static buffer). */
static const char *member_json(tf_world *w, const char *path)
{
    static char copy[4096];
    const void *data;
    size_t len;
    reg_stat st;
    assert_int_equal(reg_get(w->reg, 0, path, 0, &data, &len, &st), 0);
    assert_true(len < sizeof(copy));
    memcpy(copy, data, len);
    copy[len] = '\0';
    return copy;
}

static json_t *member_parse(tf_world *w, const char *path)
{
    json_error_t err;
    json_t *j = json_loads(member_json(w, path), 0, &err);
    if (j == NULL)
        fail_msg("invalid JSON at %d: %s", err.position, err.text);
    return j;
}

static void test_register_defaults(void **state)
{
    tf_world *w = *state;
    EQ(w, "REGISTER web 10.0.0.5 8080", "OK /services/web/10-0-0-5-8080\n");
    assert_string_equal(member_json(w, "/services/web/10-0-0-5-8080"),
                        "{\"name\":\"web\",\"id\":\"10-0-0-5-8080\",\"address\":\"10.0.0.5\","
                        "\"port\":8080,\"sslPort\":null,\"payload\":{\"weight\":1,"
                        "\"priority\":0,\"tags\":[],\"txt\":{}},"
                        "\"registrationTimeUTC\":1700000000000,\"serviceType\":\"DYNAMIC\","
                        "\"uriSpec\":null}");
    reg_stat st;
    assert_int_equal(reg_exists(w->reg, 0, "/services/web/10-0-0-5-8080", 0, &st), 0);
    assert_int_equal(st.ephemeral_owner, w->c[0].session);
    assert_int_equal(reg_exists(w->reg, 0, "/services/web", 0, &st), 0);
    assert_int_equal(st.ephemeral_owner, 0);
    assert_int_equal(st.num_children, 1);
    EQ(w, "REGISTER web 10.0.0.5 8080", tf_err(REG_ENODEEXISTS));
    assert_string_equal(tf_run(w, 1, "register web 10.0.0.5 8080", 26), tf_err(REG_ENODEEXISTS));
    EQ(w, "REGISTER web 10.0.0.5 8081", "OK /services/web/10-0-0-5-8081\n");
    EQ(w, "CHILDREN /services/web", "OK 2 10-0-0-5-8080 10-0-0-5-8081\n");
}

static void test_register_options(void **state)
{
    tf_world *w = *state;
    EQ(w, "REGISTER api 192.168.1.10 443 ID=api-1 weight=5 priority=2 tag=blue "
          "\"tag=two words\" \"tag=q\\\"b\\\\s\\n\" txt=k=v \"txt=path=/a b\" txt=e= "
          "TXT=Key=\xe2\x82\xac",
       "OK /services/api/api-1\n");
    assert_string_equal(member_json(w, "/services/api/api-1"),
                        "{\"name\":\"api\",\"id\":\"api-1\",\"address\":\"192.168.1.10\","
                        "\"port\":443,\"sslPort\":null,\"payload\":{\"weight\":5,"
                        "\"priority\":2,\"tags\":[\"blue\",\"two words\",\"q\\\"b\\\\s\\n\"],"
                        "\"txt\":{\"k\":\"v\",\"path\":\"/a b\",\"e\":\"\",\"Key\":"
                        "\"\xe2\x82\xac\"}},\"registrationTimeUTC\":1700000000000,"
                        "\"serviceType\":\"DYNAMIC\",\"uriSpec\":null}");
}

static void test_register_json_parses(void **state)
{
    tf_world *w = *state;
    EQ(w, "REGISTER db 10.1.2.3 5432 tag=\xc3\xa9t\xc3\xa9 \"tag=ctl\\x01\\x1f\\t\" "
          "\"txt=quote=\\\"\\\\\" weight=0 priority=65535",
       "OK /services/db/10-1-2-3-5432\n");
    json_t *j = member_parse(w, "/services/db/10-1-2-3-5432");
    assert_string_equal(json_string_value(json_object_get(j, "name")), "db");
    assert_string_equal(json_string_value(json_object_get(j, "id")), "10-1-2-3-5432");
    assert_string_equal(json_string_value(json_object_get(j, "address")), "10.1.2.3");
    assert_int_equal(json_integer_value(json_object_get(j, "port")), 5432);
    assert_true(json_is_null(json_object_get(j, "sslPort")));
    assert_true(json_is_null(json_object_get(j, "uriSpec")));
    assert_string_equal(json_string_value(json_object_get(j, "serviceType")), "DYNAMIC");
    assert_int_equal(json_integer_value(json_object_get(j, "registrationTimeUTC")), TF_NOW);
    json_t *p = json_object_get(j, "payload");
    assert_int_equal(json_integer_value(json_object_get(p, "weight")), 0);
    assert_int_equal(json_integer_value(json_object_get(p, "priority")), 65535);
    json_t *tags = json_object_get(p, "tags");
    assert_int_equal(json_array_size(tags), 2);
    assert_string_equal(json_string_value(json_array_get(tags, 0)), "\xc3\xa9t\xc3\xa9");
    assert_string_equal(json_string_value(json_array_get(tags, 1)), "ctl\x01\x1f\t");
    assert_string_equal(json_string_value(json_object_get(json_object_get(p, "txt"), "quote")),
                        "\"\\");
    json_decref(j);
}

/* Registers address:port and returns the reply's path. */
static const char *reg_addr(tf_world *w, const char *addr, const char *port)
{
    return tf_req(w, tf_fmt("REGISTER svc %s %s", addr, port));
}

static bool is_label(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > 63 || p[0] == '-' || p[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '-'))
            return false;
    return true;
}

static void test_default_ids(void **state)
{
    tf_world *w = *state;
    assert_string_equal(reg_addr(w, "2001:DB8:0::1", "8080"),
                        "OK /services/svc/2001-db8--1-8080\n");
    assert_non_null(strstr(member_json(w, "/services/svc/2001-db8--1-8080"),
                           "\"address\":\"2001:db8::1\""));
    assert_string_equal(reg_addr(w, "::1", "53"), "OK /services/svc/0--1-53\n");
    assert_string_equal(reg_addr(w, "fe80::", "80"), "OK /services/svc/fe80--0-80\n");
    assert_string_equal(reg_addr(w, "::", "1"), "OK /services/svc/0--0-1\n");
    assert_string_equal(reg_addr(w, "::ffff:1.2.3.4", "80"),
                        "OK /services/svc/0--ffff-1-2-3-4-80\n");
    assert_string_equal(reg_addr(w, "Api.Example.com", "443"),
                        "OK /services/svc/api-example-com-443\n");
    assert_non_null(strstr(member_json(w, "/services/svc/api-example-com-443"),
                           "\"address\":\"Api.Example.com\""));
    assert_string_equal(reg_addr(w, "localhost", "65535"),
                        "OK /services/svc/localhost-65535\n");

    /* long host names: cut, hashed, still a label, still distinct */
    char host[256], host2[256];
    memset(host, 'a', 250);
    for (int i = 60; i < 250; i += 61)
        host[i] = '.';
    host[250] = '\0';
    memcpy(host2, host, sizeof(host));
    host2[249] = 'b';
    const char *r = reg_addr(w, host, "443");
    assert_int_equal(strncmp(r, "OK /services/svc/", 17), 0);
    char id1[80];
    snprintf(id1, sizeof(id1), "%s", r + 17);
    id1[strlen(id1) - 1] = '\0';
    assert_true(is_label(id1));
    assert_int_equal(strlen(id1), 63);
    assert_string_equal(id1 + 59, "-443");
    r = reg_addr(w, host2, "443");
    assert_int_equal(strncmp(r, "OK /services/svc/", 17), 0);
    assert_true(strncmp(r + 17, id1, 63) != 0);
    assert_int_equal(strncmp(r + 17, id1, 50), 0);
}

static void test_register_errors(void **state)
{
    tf_world *w = *state;
    const char *svc = "service must be a DNS label (1-63 of A-Z a-z 0-9 - _)";
    EQ(w, "REGISTER bad.name 10.0.0.1 80", tf_fmt("ERR BADARGUMENTS %s: bad.name\n", svc));
    EQ(w, "REGISTER -web 10.0.0.1 80", tf_fmt("ERR BADARGUMENTS %s: -web\n", svc));
    EQ(w, "REGISTER _web 10.0.0.1 80", tf_fmt("ERR BADARGUMENTS %s: _web\n", svc));
    EQ(w, "REGISTER \"\" 10.0.0.1 80", tf_fmt("ERR BADARGUMENTS %s: \"\"\n", svc));
    EQ(w, "REGISTER aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 10.0.0.1 80",
       tf_fmt("ERR BADARGUMENTS %s: %s\n", svc,
              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
    const char *addr = "ERR BADARGUMENTS address must be IPv4, IPv6 or a host name: ";
    const char *bad_addr[] = {"10.0.0.256", "1.2.3", "host_name", "a..b", "-a.b", "a-.b",
                              "web.", "1:2:3", "fe80::1%eth0", "[::1]"};
    for (size_t i = 0; i < sizeof(bad_addr) / sizeof(bad_addr[0]); i++)
        assert_string_equal(reg_addr(w, bad_addr[i], "80"), tf_fmt("%s%s\n", addr, bad_addr[i]));
    const char *bad_port[] = {"0", "65536", "80x", "-1", "+80", "", "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad_port) / sizeof(bad_port[0]); i++) {
        const char *q = bad_port[i][0] ? bad_port[i] : "\"\"";
        assert_string_equal(reg_addr(w, "10.0.0.1", q),
                            tf_fmt("ERR BADARGUMENTS port must be 1-65535: %s\n", q));
    }
    EQ(w, "REGISTER web 10.0.0.1 80 weight=65536",
       "ERR BADARGUMENTS value must be 0-65535: weight=65536\n");
    EQ(w, "REGISTER web 10.0.0.1 80 priority=-1",
       "ERR BADARGUMENTS value must be 0-65535: priority=-1\n");
    EQ(w, "REGISTER web 10.0.0.1 80 weight=1 weight=2",
       "ERR BADARGUMENTS duplicate option: weight=2\n");
    EQ(w, "REGISTER web 10.0.0.1 80 id=a.b",
       "ERR BADARGUMENTS id must be a DNS label (1-63 of A-Z a-z 0-9 - _): id=a.b\n");
    EQ(w, "REGISTER web 10.0.0.1 80 id=a id=b", "ERR BADARGUMENTS duplicate option: id=b\n");
    EQ(w, "REGISTER web 10.0.0.1 80 foo=1", "ERR BADARGUMENTS unknown REGISTER option: foo=1\n");
    EQ(w, "REGISTER web 10.0.0.1 80 tag=", "ERR BADARGUMENTS tag must be 1-255 bytes of UTF-8 "
                                           "without NUL: tag=\n");
    EQ(w, "REGISTER web 10.0.0.1 80 \"tag=\\xff\"", "ERR BADARGUMENTS tag must be 1-255 bytes "
                                                   "of UTF-8 without NUL: \"tag=\\xff\"\n");
    EQ(w, "REGISTER web 10.0.0.1 80 \"tag=a\\x00\"", "ERR BADARGUMENTS tag must be 1-255 bytes "
                                                    "of UTF-8 without NUL: \"tag=a\\x00\"\n");
    EQ(w, "REGISTER web 10.0.0.1 80 txt=novalue",
       "ERR BADARGUMENTS txt must be K=V with K printable ASCII: txt=novalue\n");
    EQ(w, "REGISTER web 10.0.0.1 80 txt==v",
       "ERR BADARGUMENTS txt must be K=V with K printable ASCII: txt==v\n");
    EQ(w, "REGISTER web 10.0.0.1 80 txt=a=1 txt=A=2",
       "ERR BADARGUMENTS duplicate txt key: txt=A=2\n");
    EQ(w, "REGISTER web 10.0.0.1 80 \"txt=k=\\xc0\\x80\"",
       "ERR BADARGUMENTS txt K=V must be at most 255 bytes of UTF-8 without NUL: "
       "\"txt=k=\\xc0\\x80\"\n");
    EQ(w, "REGISTER web 10.0.0.1 80 txt=caf\xc3\xa9=1",
       "ERR BADARGUMENTS txt must be K=V with K printable ASCII: \"txt=caf\\xc3\\xa9=1\"\n");
    /* nothing was created by any of them */
    EQ(w, "EXISTS /services", tf_err(REG_ENONODE));
}

static void test_register_txt_limit(void **state)
{
    tf_world *w = *state;
    char line[400], val[300];
    memset(val, 'v', 253);
    val[253] = '\0';
    snprintf(line, sizeof(line), "REGISTER web 10.0.0.1 80 txt=k=%s", val);
    EQ(w, line, "OK /services/web/10-0-0-1-80\n");
    val[253] = 'v';
    val[254] = '\0';
    snprintf(line, sizeof(line), "REGISTER web 10.0.0.1 81 txt=k=%s", val);
    EQ(w, line, tf_fmt("ERR BADARGUMENTS txt K=V must be at most 255 bytes of UTF-8 without "
                       "NUL: txt=k=%s\n", val));
}

static void test_deregister(void **state)
{
    tf_world *w = *state;
    EQ(w, "REGISTER web 10.0.0.5 8080", "OK /services/web/10-0-0-5-8080\n");
    EQ(w, "DEREGISTER web 10-0-0-5-8080", "OK\n");
    EQ(w, "EXISTS /services/web/10-0-0-5-8080", tf_err(REG_ENONODE));
    EQ(w, "DEREGISTER web 10-0-0-5-8080", tf_err(REG_ENONODE));
    EQ(w, "DEREGISTER web a.b",
       "ERR BADARGUMENTS id must be a DNS label (1-63 of A-Z a-z 0-9 - _): a.b\n");
    EQ(w, "DEREGISTER w/x a", "ERR BADARGUMENTS service must be a DNS label (1-63 of A-Z a-z "
                              "0-9 - _): w/x\n");
    EQ(w, "EXISTS /services/web", tf_fmt("OK%s\n", tf_stat(w, "/services/web")));
}

static void test_dns_root(void **state)
{
    (void)state;
    tf_options opt = {.dns_root = "/"};
    tf_world *w = tf_open(&opt);
    EQ(w, "REGISTER web 10.0.0.5 80", "OK /web/10-0-0-5-80\n");
    EQ(w, "DEREGISTER web 10-0-0-5-80", "OK\n");
    tf_close(w);
    opt.dns_root = "/sd/zk";
    w = tf_open(&opt);
    EQ(w, "REGISTER web 10.0.0.5 80", "OK /sd/zk/web/10-0-0-5-80\n");
    tf_close(w);
    opt.dns_root = "bad";
    w = tf_open(&opt);
    EQ(w, "REGISTER web 10.0.0.5 80",
       "ERR BADARGUMENTS the configured DNS root does not make a valid path\n");
    tf_close(w);
}

/* A connection's end closes its session: its members go, others stay, and
 * a watcher of the group sees them go. */
static void test_session_close(void **state)
{
    tf_world *w = *state;
    EQ(w, "REGISTER web 10.0.0.5 8080", "OK /services/web/10-0-0-5-8080\n");
    EQ(w, "CREATE /services/web/manual x", "OK /services/web/manual\n");
    assert_string_equal(tf_run(w, 1, "REGISTER web 10.0.0.6 8080", 26),
                        "OK /services/web/10-0-0-6-8080\n");
    assert_string_equal(tf_run(w, 1, "WATCH /services recursive", 25), "OK\n");
    tf_close_session(w, w->c[0].session);
    long long z = (long long)reg_last_zxid(w->reg);
    assert_string_equal(tf_events(w, 1),
                        tf_fmt("EVENT deleted /services/web/10-0-0-5-8080 zxid=%lld\n", z));
    reg_stat st;
    assert_int_equal(reg_exists(w->reg, 0, "/services/web/10-0-0-5-8080", 0, &st), REG_ENONODE);
    assert_string_equal(tf_run(w, 1, "CHILDREN /services/web", 22),
                        "OK 2 10-0-0-6-8080 manual\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_register_defaults, tf_setup, tf_teardown),
        cmocka_unit_test_setup_teardown(test_register_options, tf_setup, tf_teardown),
        cmocka_unit_test_setup_teardown(test_register_json_parses, tf_setup, tf_teardown),
        cmocka_unit_test_setup_teardown(test_default_ids, tf_setup, tf_teardown),
        cmocka_unit_test_setup_teardown(test_register_errors, tf_setup, tf_teardown),
        cmocka_unit_test_setup_teardown(test_register_txt_limit, tf_setup, tf_teardown),
        cmocka_unit_test_setup_teardown(test_deregister, tf_setup, tf_teardown),
        cmocka_unit_test(test_dns_root),
        cmocka_unit_test_setup_teardown(test_session_close, tf_setup, tf_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
