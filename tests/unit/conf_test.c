/*
 * conf_test.c - unit tests of conf/: defaults, the two shipped files, and
 * every class of error with its exact "FILE:LINE: reason" text.
 *
 * Most cases are rows of a table (text in, message out) run through
 * conf_load_string under the name "t.conf"; files (shipped configs,
 * includes, unreadable paths) go through conf_load.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"

#ifndef ZK_SOURCE_DIR
#error "ZK_SOURCE_DIR must name the top of the source tree"
#endif

typedef struct err_case {
    const char *text;
    const char *message;
} err_case;

static const err_case err_cases[] = {
    /* syntax */
    { "dns = { ttl = ; };", "t.conf:1: syntax error" },
    { "log = { level = \"info\"; };\nlog = { };", "t.conf:2: duplicate setting name" },
    /* unknown keys, top-level and nested */
    { "\nfoo = 1;", "t.conf:2: unknown key foo" },
    { "dns = {\n  ttl = 1;\n  tll = 2;\n};", "t.conf:3: unknown key dns.tll" },
    { "dnss = { ttl = 1; };", "t.conf:1: unknown key dnss" },
    { "dns = { x = { y = 1; }; };", "t.conf:1: unknown key dns.x" },
    { "data_dir = { a = 1; };", "t.conf:1: data_dir: expected a string, got a group" },
    /* wrong types */
    { "log = \"info\";", "t.conf:1: log: expected a group, got a string" },
    { "dns = { ttl = \"5\"; };", "t.conf:1: dns.ttl: expected an integer, got a string" },
    { "dns = { ttl = 1.5; };", "t.conf:1: dns.ttl: expected an integer, got a float" },
    { "dns = { forward = 1; };", "t.conf:1: dns.forward: expected true or false, got an integer" },
    { "dns = { domain = true; };", "t.conf:1: dns.domain: expected a string, got a boolean" },
    { "dns = { listen = \"127.0.0.1:53\"; };",
      "t.conf:1: dns.listen: expected a list of strings, got a string" },
    { "dns = { listen = [ 53 ]; };",
      "t.conf:1: dns.listen: expected a list of strings, got an integer in it" },
    { "log = { level = 2; };", "t.conf:1: log.level: expected a string, got an integer" },
    /* ranges */
    { "dns = { ttl = -1; };", "t.conf:1: dns.ttl: -1 is out of range 0..2147483647" },
    { "zookeeper = { tick_ms = 5; };", "t.conf:1: zookeeper.tick_ms: 5 is out of range 10..60000" },
    { "client = { max_output = 4294967296L; };",
      "t.conf:1: client.max_output: 4294967296 is out of range 65536..1073741824" },
    { "dns = { max_udp_size = 511; };",
      "t.conf:1: dns.max_udp_size: 511 is out of range 512..4096" },
    { "storage = { preallocate_bytes = -1; };",
      "t.conf:1: storage.preallocate_bytes: -1 is out of range 0..1073741824" },
    { "storage = { preallocate_bytes = 2147483648L; };",
      "t.conf:1: storage.preallocate_bytes: 2147483648 is out of range 0..1073741824" },
    { "storage = {\n fsync_warning_ms = 3600001; };",
      "t.conf:2: storage.fsync_warning_ms: 3600001 is out of range 0..3600000" },
    /* literals libconfig 1.5 would wrap */
    { "dns = {\n ttl = 4294967296; };",
      "t.conf:2: integer 4294967296 does not fit in 32 bits (write 4294967296L for a 64-bit value)" },
    { "dns = { ttl = 0xffffffff; };",
      "t.conf:1: integer 0xffffffff does not fit in 32 bits (write 0xffffffffL for a 64-bit value)" },
    { "dns = { ttl = -2147483649; };",
      "t.conf:1: integer -2147483649 does not fit in 32 bits (write -2147483649L for a 64-bit value)" },
    /* enums */
    { "log = { level = \"loud\"; };",
      "t.conf:1: log.level: \"loud\" is not one of error, warn, info, debug" },
    { "registry = { backend = \"etcd\"; };",
      "t.conf:1: registry.backend: \"etcd\" is not one of embedded, zookeeper" },
    /* keys that depend on each other */
    { "registry = {\n  backend = \"zookeeper\";\n};",
      "t.conf:2: registry.servers must be set when registry.backend is \"zookeeper\"" },
    { "zookeeper = { min_session_timeout_ms = 50000; };",
      "t.conf:1: zookeeper.min_session_timeout_ms (50000) exceeds "
      "zookeeper.max_session_timeout_ms (40000)" },
    { "zookeeper = { min_session_timeout_ms = 9000;\n max_session_timeout_ms = 8000; };",
      "t.conf:2: zookeeper.min_session_timeout_ms (9000) exceeds "
      "zookeeper.max_session_timeout_ms (8000)" },
    { "registry = { backend = \"zookeeper\"; servers = \"zk1\"; };",
      "t.conf:1: registry.servers: \"zk1\": each server must be HOST:PORT" },
    { "registry = { servers = \"zk1:2181,,zk2:2181\"; };",
      "t.conf:1: registry.servers: \"zk1:2181,,zk2:2181\": empty server entry" },
    { "registry = { servers = \"zk1:99999\"; };",
      "t.conf:1: registry.servers: \"zk1:99999\": port must be 1-65535" },
    { "registry = { servers = \"zk1:2181/a/\"; };",
      "t.conf:1: registry.servers: \"zk1:2181/a/\": must not end with /" },
    /* listen addresses */
    { "dns = { listen = [ \"localhost:53\" ]; };",
      "t.conf:1: dns.listen: \"localhost:53\": host must be an IPv4 address or a bracketed IPv6 address" },
    { "dns = { listen = [ \"127.0.0.1:65536\" ]; };",
      "t.conf:1: dns.listen: \"127.0.0.1:65536\": port must be 0-65535" },
    { "dns = { listen = [ \"127.0.0.1:\" ]; };",
      "t.conf:1: dns.listen: \"127.0.0.1:\": missing port" },
    { "dns = { listen = [ \"127.0.0.1\" ]; };",
      "t.conf:1: dns.listen: \"127.0.0.1\": expected HOST:PORT" },
    { "dns = { listen = [ \"::1:53\" ]; };",
      "t.conf:1: dns.listen: \"::1:53\": an IPv6 address goes in brackets, as in [::1]:53" },
    { "zookeeper = { listen = [ \"[::g]:2181\" ]; };",
      "t.conf:1: zookeeper.listen: \"[::g]:2181\": \"::g\" is not an IPv6 address" },
    { "zookeeper = { listen = [ \"[::1]2181\" ]; };",
      "t.conf:1: zookeeper.listen: \"[::1]2181\": expected :PORT after ]" },
    { "dns = { listen = [ \"127.0.0.1:53\",\n  \"127.0.0.1:x\" ]; };",
      "t.conf:2: dns.listen: \"127.0.0.1:x\": port must be 0-65535" },
    { "dns = { listen = [ \"1:1\", \"1:1\", \"1:1\", \"1:1\", \"1:1\", \"1:1\", \"1:1\", \"1:1\",\n"
      "\"1:1\", \"1:1\", \"1:1\", \"1:1\", \"1:1\", \"1:1\", \"1:1\", \"1:1\", \"1:1\" ]; };",
      "t.conf:1: dns.listen: too many entries (17, at most 16)" },
    { "client = { listen = [ \"/run/x.sock\" ]; };",
      "t.conf:1: client.listen: \"/run/x.sock\": expected unix:PATH or tcp:HOST:PORT" },
    { "client = { listen = [ \"unix:\" ]; };",
      "t.conf:1: client.listen: \"unix:\": empty socket path" },
    { "client = { listen = [ \"tcp:localhost:1\" ]; };",
      "t.conf:1: client.listen: \"tcp:localhost:1\": host must be an IPv4 address or a bracketed IPv6 address" },
    { "dns = { upstream = [ \"1.1.1.1:0\" ]; };",
      "t.conf:1: dns.upstream: \"1.1.1.1:0\": port must be 1-65535" },
    { "dns = { upstream = [ \"dns.google\" ]; };",
      "t.conf:1: dns.upstream: \"dns.google\": host must be an IPv4 address or a bracketed IPv6 address" },
    /* names and paths */
    { "dns = { domain = \"a..b\"; };", "t.conf:1: dns.domain: \"a..b\": empty label" },
    { "dns = { domain = \"\"; };", "t.conf:1: dns.domain: \"\": must not be empty" },
    { "dns = { domain = \".\"; };", "t.conf:1: dns.domain: \".\": must not be the root zone" },
    { "dns = { domain = \"-zk.\"; };",
      "t.conf:1: dns.domain: \"-zk.\": a label must not start or end with '-'" },
    { "dns = { domain = \"z k.\"; };",
      "t.conf:1: dns.domain: \"z k.\": bad character in a label (letters, digits, '-' and '_' only)" },
    { "dns = { domain = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.zk.\"; };",
      "t.conf:1: dns.domain: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.zk.\": "
      "label longer than 63 bytes" },
    { "dns = { root = \"services\"; };",
      "t.conf:1: dns.root: \"services\": must be an absolute path (start with /)" },
    { "dns = { root = \"/services/\"; };", "t.conf:1: dns.root: \"/services/\": must not end with /" },
    { "dns = { root = \"/a//b\"; };", "t.conf:1: dns.root: \"/a//b\": empty path component" },
    { "dns = { root = \"/a/../b\"; };",
      "t.conf:1: dns.root: \"/a/../b\": '.' and '..' are not path components" },
    { "dns = { root = \"/a\\tb\"; };", "t.conf:1: dns.root: \"/a\tb\": contains a control character" },
    { "dns = { root = \"/a\\xffb\"; };", "t.conf:1: dns.root: \"/a\xff" "b\": not valid UTF-8" },
    { "data_dir = \"\";", "t.conf:1: data_dir: \"\": must not be empty" },
};

static zk_conf load_ok(const char *text)
{
    zk_conf c;
    char err[512] = "";
    int rc = conf_load_string(&c, text, "t.conf", err, sizeof(err));

    if (rc != 0)
        fail_msg("unexpected error %d: %s", rc, err);
    return c;
}

static void test_defaults(void **state)
{
    zk_conf c;

    (void)state;
    assert_int_equal(conf_defaults(&c), 0);
    assert_string_equal(c.data_dir, "/var/lib/zonekeeper");
    assert_int_equal(c.log_level, CONF_LOG_INFO);
    assert_int_equal(c.client_listen.count, 1);
    assert_string_equal(c.client_listen.items[0], "unix:/run/zonekeeper/zonekeeper.sock");
    assert_int_equal(c.client_max_line, 65536);
    assert_int_equal(c.client_max_output, 4 << 20);
    assert_int_equal(c.client_max_connections, 10000);
    assert_int_equal(c.zk_listen.count, 1);
    assert_string_equal(c.zk_listen.items[0], "127.0.0.1:2181");
    assert_int_equal(c.zk_tick_ms, 2000);
    assert_int_equal(c.zk_min_session_timeout_ms, 4000);
    assert_int_equal(c.zk_max_session_timeout_ms, 40000);
    assert_int_equal(c.zk_max_frame, 0xfffff); /* ZooKeeper's jute.maxbuffer */
    assert_int_equal(c.zk_max_outstanding, 1000);
    assert_int_equal(c.zk_max_client_cnxns, 60);
    assert_int_equal(c.zk_max_connections, 10000);
    assert_int_equal(c.dns_listen.count, 2);
    assert_string_equal(c.dns_listen.items[0], "127.0.0.1:53");
    assert_string_equal(c.dns_listen.items[1], "[::1]:53");
    assert_string_equal(c.dns_domain, "zk.");
    assert_string_equal(c.dns_root, "/services");
    assert_int_equal(c.dns_ttl, 0);
    assert_int_equal(c.dns_negative_ttl, 0);
    assert_true(c.dns_forward);
    assert_int_equal(c.dns_upstream.count, 0);
    assert_int_equal(c.dns_upstream_timeout_ms, 2000);
    assert_int_equal(c.dns_max_udp, 1232);
    assert_int_equal(c.dns_tcp_idle_ms, 10000);
    assert_int_equal(c.dns_max_tcp_connections, 256);
    assert_string_equal(c.registry_backend, "embedded");
    assert_string_equal(c.registry_servers, "");
    assert_int_equal(c.registry_max_data_bytes, 1048576);
    assert_int_equal(c.registry_max_watches, 1000000);
    assert_int_equal(c.storage_segment_bytes, 64 << 20);
    assert_int_equal(c.storage_preallocate_bytes, 1 << 20);
    conf_free(&c);
    conf_free(&c); /* a freed conf is zeroed: freeing again is harmless */
}

static void test_empty_is_defaults(void **state)
{
    zk_conf c = load_ok("# nothing\n"), d;

    (void)state;
    assert_int_equal(conf_defaults(&d), 0);
    assert_string_equal(c.data_dir, d.data_dir);
    assert_int_equal(c.zk_min_session_timeout_ms, d.zk_min_session_timeout_ms);
    assert_int_equal(c.dns_listen.count, d.dns_listen.count);
    conf_free(&c);
    conf_free(&d);
}

static void test_dev_conf(void **state)
{
    zk_conf c;
    char err[512];

    (void)state;
    assert_int_equal(conf_load(&c, ZK_SOURCE_DIR "/conf/dev.conf", err, sizeof(err)), 0);
    assert_string_equal(c.data_dir, "build/var");
    assert_int_equal(c.log_level, CONF_LOG_INFO);
    assert_int_equal(c.client_listen.count, 1);
    assert_string_equal(c.client_listen.items[0], "unix:build/run/zonekeeper.sock");
    assert_int_equal(c.zk_listen.count, 1);
    assert_string_equal(c.zk_listen.items[0], "127.0.0.1:2181");
    assert_int_equal(c.dns_listen.count, 1);
    assert_string_equal(c.dns_listen.items[0], "127.0.0.1:8053");
    assert_string_equal(c.dns_domain, "zk.");
    assert_string_equal(c.registry_backend, "embedded");
    assert_int_equal(c.zk_max_session_timeout_ms, 40000);
    conf_free(&c);
}

static void test_production_conf(void **state)
{
    zk_conf c, d;
    char err[512];

    (void)state;
    assert_int_equal(conf_load(&c, ZK_SOURCE_DIR "/conf/zonekeeper.conf", err, sizeof(err)), 0);
    assert_int_equal(conf_defaults(&d), 0);
    /* the production file spells out exactly the built-in defaults */
    assert_string_equal(c.data_dir, d.data_dir);
    assert_string_equal(c.client_listen.items[0], d.client_listen.items[0]);
    assert_int_equal(c.dns_listen.count, 2);
    assert_string_equal(c.dns_listen.items[0], "127.0.0.1:53");
    assert_string_equal(c.dns_listen.items[1], "[::1]:53");
    assert_int_equal(c.zk_max_frame, d.zk_max_frame);
    assert_int_equal(c.client_max_output, d.client_max_output);
    assert_int_equal(c.registry_max_data_bytes, d.registry_max_data_bytes);
    assert_int_equal(c.storage_segment_bytes, d.storage_segment_bytes);
    assert_int_equal(c.storage_preallocate_bytes, d.storage_preallocate_bytes);
    conf_free(&c);
    conf_free(&d);
}

static void test_storage_preallocate(void **state)
{
    zk_conf c = load_ok("storage = { preallocate_bytes = 0; };\n");

    (void)state;
    assert_int_equal(c.storage_preallocate_bytes, 0); /* off */
    conf_free(&c);
    c = load_ok("storage = { preallocate_bytes = 16777216; segment_bytes = 65536; };\n");
    assert_int_equal(c.storage_preallocate_bytes, 16 << 20); /* capped by the log */
    conf_free(&c);
}

static void test_values(void **state)
{
    zk_conf c = load_ok(
        "data_dir = \"/srv/zk\";\n"
        "log = { level = \"DEBUG\"; };\n"
        "client = { listen = ( \"unix:/tmp/a.sock\", \"tcp:127.0.0.1:0\", \"tcp:[::1]:7000\" );\n"
        "           max_output = 1073741824L; };\n"
        "zookeeper = { listen = [ ]; tick_ms = 500; max_session_timeout_ms = 60000; };\n"
        "dns = { domain = \"Service.Example\"; root = \"/\"; ttl = 30; forward = false;\n"
        "        upstream = [ \"8.8.8.8\", \"1.1.1.1:5353\", \"::1\", \"[2001:db8::1]:53\" ]; };\n"
        "registry = { backend = \"zookeeper\"; servers = \"zk1:2181,10.0.0.2:2181,[::1]:2181/zonekeeper\"; };\n");

    (void)state;
    assert_string_equal(c.data_dir, "/srv/zk");
    assert_int_equal(c.log_level, CONF_LOG_DEBUG);
    assert_int_equal(c.client_listen.count, 3);
    assert_string_equal(c.client_listen.items[2], "tcp:[::1]:7000");
    assert_int_equal(c.client_max_output, 1 << 30);
    assert_int_equal(c.zk_listen.count, 0);
    assert_int_equal(c.zk_min_session_timeout_ms, 1000);
    assert_int_equal(c.zk_max_session_timeout_ms, 60000);
    assert_string_equal(c.dns_domain, "service.example.");
    assert_string_equal(c.dns_root, "/");
    assert_int_equal(c.dns_ttl, 30);
    assert_false(c.dns_forward);
    assert_int_equal(c.dns_upstream.count, 4);
    assert_string_equal(c.dns_upstream.items[3], "[2001:db8::1]:53");
    assert_string_equal(c.registry_backend, "zookeeper");
    conf_free(&c);
}

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
        zk_conf c;
        char err[512] = "";
        int rc = conf_load_string(&c, err_cases[i].text, "t.conf", err, sizeof(err));
        if (rc != -EINVAL || strcmp(err, err_cases[i].message) != 0)
            fail_msg("case %zu: %s\n  rc %d\n  got:  %s\n  want: %s", i, err_cases[i].text,
                     rc, err, err_cases[i].message);
        assert_null(c.data_dir); /* zeroed on error: nothing to free */
        conf_free(&c);
    }
}

static void test_small_error_buffer(void **state)
{
    zk_conf c;
    char err[8];

    (void)state;
    assert_int_equal(conf_load_string(&c, "foo = 1;", "t.conf", err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "t.conf:");
    assert_int_equal(conf_load_string(&c, "foo = 1;", "t.conf", NULL, 0), -EINVAL);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void test_files(void **state)
{
    char dir[] = "/tmp/conf_test.XXXXXX", path[128], inc[128], want[300], err[512];
    zk_conf c;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/main.conf", dir);
    snprintf(inc, sizeof(inc), "%s/dns.conf", dir);
    write_file(path, "log = { level = \"warn\"; };\n@include \"dns.conf\"\n");
    write_file(inc, "dns = {\n  ttl = 7;\n};\n");
    assert_int_equal(conf_load(&c, path, err, sizeof(err)), 0);
    assert_int_equal(c.log_level, CONF_LOG_WARN);
    assert_int_equal(c.dns_ttl, 7);
    conf_free(&c);

    write_file(inc, "dns = {\n  ttl = 7;\n  bogus = 1;\n};\n");
    assert_int_equal(conf_load(&c, path, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "dns.conf:3: unknown key dns.bogus");
    write_file(inc, "dns = {\n  ttl = 99999999999;\n};\n");
    assert_int_equal(conf_load(&c, path, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "dns.conf:2: integer 99999999999 does not fit in 32 bits "
                             "(write 99999999999L for a 64-bit value)");
    write_file(inc, "dns = {\n  ttl = ;\n};\n");
    assert_int_equal(conf_load(&c, path, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "dns.conf:2: syntax error");

    write_file(path, "dns = {\n  ttl = 1;\n  nope = 2;\n};\n");
    assert_int_equal(conf_load(&c, path, err, sizeof(err)), -EINVAL);
    snprintf(want, sizeof(want), "%s:3: unknown key dns.nope", path);
    assert_string_equal(err, want);

    snprintf(inc, sizeof(inc), "%s/missing.conf", dir);
    assert_int_equal(conf_load(&c, inc, err, sizeof(err)), -ENOENT);
    snprintf(want, sizeof(want), "%s: No such file or directory", inc);
    assert_string_equal(err, want);
    assert_int_equal(conf_load(&c, dir, err, sizeof(err)), -EISDIR);

    snprintf(path, sizeof(path), "%s/main.conf", dir);
    assert_int_equal(unlink(path), 0);
    snprintf(path, sizeof(path), "%s/dns.conf", dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

static void test_addr_parse(void **state)
{
    conf_addr a;
    char why[128];

    (void)state;
    assert_int_equal(conf_addr_parse("127.0.0.1:0", CONF_ADDR_INET, &a, why, sizeof(why)), 0);
    assert_int_equal(a.family, AF_INET);
    assert_string_equal(a.host, "127.0.0.1");
    assert_int_equal(a.port, 0);
    assert_int_equal(conf_addr_parse("[::1]:53", CONF_ADDR_INET, &a, why, sizeof(why)), 0);
    assert_int_equal(a.family, AF_INET6);
    assert_string_equal(a.host, "::1");
    assert_int_equal(a.port, 53);
    assert_int_equal(conf_addr_parse("unix:build/run/zk.sock", CONF_ADDR_CLIENT, &a, NULL, 0), 0);
    assert_int_equal(a.family, AF_UNIX);
    assert_string_equal(a.path, "build/run/zk.sock");
    assert_int_equal(conf_addr_parse("tcp:127.0.0.1:7000", CONF_ADDR_CLIENT, &a, NULL, 0), 0);
    assert_int_equal(a.family, AF_INET);
    assert_int_equal(a.port, 7000);
    assert_int_equal(conf_addr_parse("fe80::1", CONF_ADDR_UPSTREAM, &a, NULL, 0), 0);
    assert_int_equal(a.family, AF_INET6);
    assert_int_equal(a.port, 53);
    assert_int_equal(conf_addr_parse("[::1]", CONF_ADDR_UPSTREAM, &a, NULL, 0), 0);
    assert_int_equal(a.port, 53);
    assert_int_equal(conf_addr_parse("9.9.9.9:5353", CONF_ADDR_UPSTREAM, &a, NULL, 0), 0);
    assert_int_equal(a.port, 5353);
    assert_int_equal(conf_addr_parse("127.0.0.1:53", 99, &a, why, sizeof(why)), -EINVAL);
    assert_int_equal(conf_addr_parse("unix:/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                                     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                                     CONF_ADDR_CLIENT, &a, why, sizeof(why)), -EINVAL);
    assert_string_equal(why, "socket path longer than 107 bytes");
}

static void test_print_schema(void **state)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    static const char *const keys[] = {
        "data_dir", "log.level", "client.listen", "client.max_line", "client.max_output",
        "client.max_connections", "zookeeper.listen", "zookeeper.tick_ms",
        "zookeeper.min_session_timeout_ms", "zookeeper.max_session_timeout_ms",
        "zookeeper.max_frame", "zookeeper.max_outstanding", "zookeeper.max_client_cnxns",
        "zookeeper.max_connections",
        "dns.listen", "dns.domain", "dns.root", "dns.ttl", "dns.negative_ttl", "dns.forward",
        "dns.upstream", "dns.upstream_timeout_ms", "dns.max_udp_size", "dns.tcp_idle_ms",
        "dns.max_tcp_connections",
        "registry.backend", "registry.servers", "registry.max_data_bytes",
        "registry.max_watches",
    };

    (void)state;
    assert_non_null(f);
    conf_print_schema(f);
    assert_int_equal(fclose(f), 0);
    assert_true(strncmp(text, "| key | type | default | range | meaning |\n", 43) == 0);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char row[128];
        snprintf(row, sizeof(row), "\n| `%s` | ", keys[i]);
        if (!strstr(text, row))
            fail_msg("no row for %s", keys[i]);
    }
    assert_non_null(strstr(text, "| `dns.ttl` | int | 0 | 0..2147483647 |"));
    assert_non_null(strstr(text, "| `log.level` | enum | `\"info\"` | `error`, `warn`, `info`, `debug` |"));
    free(text);
}

/* conf/KEYS.md holds the printed schema verbatim (regenerate it with
 * `zonekeeperd --help-config` when a key changes). */
static void test_keys_md_in_sync(void **state)
{
    char *table = NULL, doc[65536];
    size_t len = 0, n;
    FILE *f = open_memstream(&table, &len);
    FILE *md = fopen(ZK_SOURCE_DIR "/conf/KEYS.md", "r");

    (void)state;
    assert_non_null(f);
    assert_non_null(md);
    conf_print_schema(f);
    assert_int_equal(fclose(f), 0);
    n = fread(doc, 1, sizeof(doc) - 1, md);
    doc[n] = '\0';
    fclose(md);
    if (!strstr(doc, table))
        fail_msg("conf/KEYS.md is out of date; its table must be:\n%s", table);
    free(table);
}

static void test_level_names(void **state)
{
    (void)state;
    assert_string_equal(conf_log_level_name(CONF_LOG_ERROR), "error");
    assert_string_equal(conf_log_level_name(CONF_LOG_WARN), "warn");
    assert_string_equal(conf_log_level_name(CONF_LOG_INFO), "info");
    assert_string_equal(conf_log_level_name(CONF_LOG_DEBUG), "debug");
    assert_string_equal(conf_log_level_name((conf_log_level)7), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_empty_is_defaults),
        cmocka_unit_test(test_dev_conf),
        cmocka_unit_test(test_production_conf),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_storage_preallocate),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_small_error_buffer),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_addr_parse),
        cmocka_unit_test(test_print_schema),
        cmocka_unit_test(test_keys_md_in_sync),
        cmocka_unit_test(test_level_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
