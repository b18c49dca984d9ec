/*
 * text_test.c - the socket protocol against a real registry: every znode
 * verb, exact reply lines, error names, quoting round trips, malformed
 * lines, arity, keywords, watches and their EVENT lines, buffer limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "text_fixture.h"

/* Runs the request first, then computes the expected line (which may read
 * the registry's state after the request). */
#define EQ(w, line, want)                                                      \
    do {                                                                       \
        const char *got_ = tf_req((w), (line));                                \
        assert_string_equal(got_, (want));                                     \
    } while (0)

static void test_small_verbs(void **state)
{
    tf_world *w = *state;
    EQ(w, "PING", "OK\n");
    EQ(w, "ping", "OK\n");
    EQ(w, "PiNg", "OK\n");
    EQ(w, "  PING  ", "OK\n");
    EQ(w, "\tPING\t", "OK\n");
    EQ(w, "HELP", "OK CHILDREN CREATE DELETE DEREGISTER EXISTS GET GETACL HELP PING QUIT "
                  "REGISTER SET UNWATCH WATCH\n");
    assert_int_equal(w->c[0].status, TXT_DONE);
    EQ(w, "quit", "OK\n");
    assert_int_equal(w->c[0].status, TXT_CLOSE);
}

static void test_blank_and_cr(void **state)
{
    tf_world *w = *state;
    EQ(w, "", "");
    assert_int_equal(w->c[0].status, TXT_DONE);
    EQ(w, "   \t ", "");
    EQ(w, "\r", "");
    EQ(w, "PING\r", "OK\n");
    EQ(w, "PING \r", "OK\n");
    EQ(w, "PING\r\r", "ERR BADARGUMENTS control character in a bare token (quote it) at byte 4\n");
}

static void test_unknown_and_arity(void **state)
{
    tf_world *w = *state;
    EQ(w, "FOO", "ERR BADARGUMENTS unknown command: FOO\n");
    EQ(w, "foo /a", "ERR BADARGUMENTS unknown command: foo\n");
    EQ(w, "\"GE T\"", "ERR BADARGUMENTS unknown command: \"GE T\"\n");
    EQ(w, "\"\\x01\"", "ERR BADARGUMENTS unknown command: \"\\x01\"\n");
    EQ(w, "GET", "ERR BADARGUMENTS wrong number of arguments; usage: GET <path> [watch]\n");
    EQ(w, "GET /a watch x",
       "ERR BADARGUMENTS wrong number of arguments; usage: GET <path> [watch]\n");
    EQ(w, "PING x", "ERR BADARGUMENTS wrong number of arguments; usage: PING\n");
    EQ(w, "SET /a", "ERR BADARGUMENTS wrong number of arguments; usage: SET <path> <data> "
                    "[version=N]\n");
    EQ(w, "DEREGISTER web", "ERR BADARGUMENTS wrong number of arguments; usage: "
                            "DEREGISTER <service> <id>\n");
    EQ(w, "REGISTER web 10.0.0.1",
       "ERR BADARGUMENTS wrong number of arguments; usage: REGISTER <service> <address> "
       "<port> [id=ID] [weight=N] [priority=N] [tag=T]... [txt=K=V]...\n");
    EQ(w, "UNWATCH", "ERR BADARGUMENTS wrong number of arguments; usage: UNWATCH <path>\n");
    EQ(w, "CREATE /a a b c d e f g", "ERR BADARGUMENTS wrong number of arguments; usage: "
       "CREATE <path> [<data>] [ephemeral] [sequential] [container] [parents] [ttl=MS]\n");
}

static void test_malformed_lines(void **state)
{
    tf_world *w = *state;
    EQ(w, "GET \"/a", "ERR BADARGUMENTS unterminated quoted token at byte 4\n");
    EQ(w, "GET \"/a\\q\"",
       "ERR BADARGUMENTS bad escape (use \\\\ \\\" \\n \\r \\t \\xHH) at byte 7\n");
    EQ(w, "GET /a\"b\"", "ERR BADARGUMENTS quote inside a bare token at byte 6\n");
    EQ(w, "GET \"/a\"b", "ERR BADARGUMENTS closing quote must be followed by a space at byte 8\n");
    EQ(w, "GET /a\\b", "ERR BADARGUMENTS backslash in a bare token (quote it) at byte 6\n");
    assert_string_equal(tf_run(w, 0, "GET /a\0b", 8),
                        "ERR BADARGUMENTS NUL byte in request (write it as \\x00 in quotes) "
                        "at byte 6\n");
    assert_string_equal(tf_run(w, 0, "PING\0", 5),
                        "ERR BADARGUMENTS NUL byte in request (write it as \\x00 in quotes) "
                        "at byte 4\n");
    EQ(w, "a b c d e f g h i j k l m n o p", "ERR BADARGUMENTS unknown command: a\n");
    EQ(w, "a b c d e f g h i j k l m n o p q",
       "ERR BADARGUMENTS too many tokens (at most 16)\n");
    /* nothing ran */
    EQ(w, "EXISTS /a", tf_err(REG_ENONODE));
}

static void test_paths(void **state)
{
    tf_world *w = *state;
    EQ(w, "GET a", "ERR BADARGUMENTS invalid path: a\n");
    EQ(w, "GET /a/", "ERR BADARGUMENTS invalid path: /a/\n");
    EQ(w, "GET //a", "ERR BADARGUMENTS invalid path: //a\n");
    EQ(w, "GET /a/../b", "ERR BADARGUMENTS invalid path: /a/../b\n");
    EQ(w, "GET \"/a\\x00b\"", "ERR BADARGUMENTS invalid path: \"/a\\x00b\"\n");
    EQ(w, "GET \"/a\\nb\"", "ERR BADARGUMENTS invalid path: \"/a\\nb\"\n");
    EQ(w, "CREATE \"\"", "ERR BADARGUMENTS invalid path: \"\"\n");
    EQ(w, "DELETE x", "ERR BADARGUMENTS invalid path: x\n");
    EQ(w, "WATCH x", "ERR BADARGUMENTS invalid path: x\n");
    EQ(w, "CREATE \"/with space\" x", "OK \"/with space\"\n");
    EQ(w, "CREATE /caf\xc3\xa9 x", "OK \"/caf\\xc3\\xa9\"\n");
    EQ(w, "GET \"/caf\\xc3\\xa9\"", tf_fmt("OK x%s\n", tf_stat(w, "/caf\xc3\xa9")));
}

static void test_create_get_set_delete(void **state)
{
    tf_world *w = *state;
    int64_t z = reg_last_zxid(w->reg) + 1;
    EQ(w, "CREATE /a hello", "OK /a\n");
    EQ(w, "GET /a", tf_fmt("OK hello czxid=%lld mzxid=%lld pzxid=%lld ctime=%lld mtime=%lld "
                           "version=0 cversion=0 aversion=0 ephemeralOwner=0x0 "
                           "dataLength=5 numChildren=0\n",
                           (long long)z, (long long)z, (long long)z, TF_NOW, TF_NOW));
    EQ(w, "CREATE /a again", tf_err(REG_ENODEEXISTS));
    w->now += 5;
    EQ(w, "SET /a world", tf_fmt("OK czxid=%lld mzxid=%lld pzxid=%lld ctime=%lld mtime=%lld "
                                 "version=1 cversion=0 aversion=0 ephemeralOwner=0x0 "
                                 "dataLength=5 numChildren=0\n",
                                 (long long)z, (long long)z + 2, (long long)z, TF_NOW,
                                 TF_NOW + 5));
    EQ(w, "GET /a", tf_fmt("OK world%s\n", tf_stat(w, "/a")));
}

static void test_set_versions(void **state)
{
    tf_world *w = *state;
    EQ(w, "CREATE /v", "OK /v\n");
    const char *r = tf_req(w, "SET /v one");
    assert_string_equal(r, tf_fmt("OK%s\n", tf_stat(w, "/v")));
    assert_non_null(strstr(r, " version=1 "));
    assert_non_null(strstr(r, " dataLength=3 "));
    EQ(w, "SET /v two version=0", tf_err(REG_EBADVERSION));
    r = tf_req(w, "SET /v two version=1");
    assert_non_null(strstr(r, " version=2 "));
    r = tf_req(w, "SET /v three VERSION=-1");
    assert_non_null(strstr(r, " version=3 "));
    EQ(w, "SET /v x version=abc", "ERR BADARGUMENTS version must be a 32-bit integer: "
                                  "version=abc\n");
    EQ(w, "SET /v x version=2147483648", "ERR BADARGUMENTS version must be a 32-bit integer: "
                                         "version=2147483648\n");
    EQ(w, "SET /v x version=", "ERR BADARGUMENTS version must be a 32-bit integer: "
                               "version=\n");
    EQ(w, "SET /v x vers=1", "ERR BADARGUMENTS expected version=N: vers=1\n");
    EQ(w, "SET /v x \"version=1\"", "ERR BADARGUMENTS expected version=N: version=1\n");
    EQ(w, "SET /nope x", tf_err(REG_ENONODE));
    EQ(w, "SET /v \"\"", tf_fmt("OK%s\n", tf_stat(w, "/v")));
    EQ(w, "GET /v", tf_fmt("OK \"\"%s\n", tf_stat(w, "/v")));
}

static void test_delete(void **state)
{
    tf_world *w = *state;
    EQ(w, "CREATE /d", "OK /d\n");
    EQ(w, "CREATE /d/c", "OK /d/c\n");
    EQ(w, "DELETE /d", tf_err(REG_ENOTEMPTY));
    EQ(w, "DELETE /d/c version=3", tf_err(REG_EBADVERSION));
    EQ(w, "DELETE /d/c version=0", "OK\n");
    EQ(w, "DELETE /d", "OK\n");
    EQ(w, "DELETE /d", tf_err(REG_ENONODE));
    EQ(w, "GET /d", tf_err(REG_ENONODE));
    EQ(w, "DELETE /d vers", "ERR BADARGUMENTS expected version=N: vers\n");
}

static void test_create_flags(void **state)
{
    tf_world *w = *state;
    tf_client *c = &w->c[0];
    EQ(w, "CREATE /x/y", tf_err(REG_ENONODE));
    EQ(w, "CREATE /x/y data parents", "OK /x/y\n");
    EQ(w, "GET /x", tf_fmt("OK \"\"%s\n", tf_stat(w, "/x")));
    EQ(w, "CREATE /e ephemeral", "OK /e\n");
    const char *r = tf_req(w, "EXISTS /e");
    assert_non_null(strstr(r, tf_fmt(" ephemeralOwner=0x%llx ", (unsigned long long)c->session)));
    assert_non_null(strstr(r, " dataLength=0 "));
    EQ(w, "CREATE /e/c", tf_err(REG_ENOCHILDRENFOREPHEMERALS));
    EQ(w, "CREATE /w \"ephemeral\"", "OK /w\n");
    EQ(w, "GET /w", tf_fmt("OK ephemeral%s\n", tf_stat(w, "/w")));
    EQ(w, "CREATE /q", "OK /q\n");
    EQ(w, "CREATE /q/ sequential", "OK /q/0000000000\n");
    EQ(w, "CREATE /q/n- x SEQUENTIAL Ephemeral", "OK /q/n-0000000001\n");
    EQ(w, "CREATE /ct container", "OK /ct\n");
    EQ(w, "CREATE /z data bogus", "ERR BADARGUMENTS unknown CREATE flag: bogus\n");
    EQ(w, "CREATE /z data \"parents\"", "ERR BADARGUMENTS unknown CREATE flag: parents\n");
    EQ(w, "CREATE /z ephemeral ephemeral", "ERR BADARGUMENTS duplicate CREATE flag: ephemeral\n");
    EQ(w, "CREATE /z ephemeral container",
       "ERR BADARGUMENTS ephemeral, container and ttl= exclude each other\n");
    EQ(w, "CREATE /z ttl=100 ephemeral",
       "ERR BADARGUMENTS ephemeral, container and ttl= exclude each other\n");
    EQ(w, "CREATE /z container sequential",
       "ERR BADARGUMENTS a container cannot be sequential\n");
    EQ(w, "CREATE /z ttl=0", "ERR BADARGUMENTS ttl must be a positive number of milliseconds: "
                             "ttl=0\n");
    EQ(w, "CREATE /z/ data", "ERR BADARGUMENTS invalid path: /z/\n");
    EQ(w, "EXISTS /z", tf_err(REG_ENONODE));
}

static void test_create_ttl(void **state)
{
    tf_world *w = *state;
    EQ(w, "CREATE /t x ttl=60000", "OK /t\n");
    EQ(w, "CREATE /t2", "OK /t2\n");
    EQ(w, "CREATE /t2/ x TTL=100 sequential", "OK /t2/0000000000\n");
    EQ(w, "CREATE /t3 ttl=5", "OK /t3\n");
    EQ(w, "GET /t3", tf_fmt("OK \"\"%s\n", tf_stat(w, "/t3")));
    EQ(w, "CREATE /t4 \"ttl=5\"", "OK /t4\n");
    EQ(w, "GET /t4", tf_fmt("OK ttl=5%s\n", tf_stat(w, "/t4")));
    EQ(w, "CREATE /t5 ttl=x", "ERR BADARGUMENTS ttl must be a positive number of milliseconds: "
                              "ttl=x\n");
}

static void test_quoting_round_trip(void **state)
{
    tf_world *w = *state;
    static const char raw[] = "a b \"c\" \\ \n \r \t \0 \xff \xc3\xa9";
    size_t rawlen = sizeof(raw) - 1;
    EQ(w, "CREATE /q1 \"a b \\\"c\\\" \\\\ \\n \\r \\t \\x00 \\xFF \xc3\xa9\"", "OK /q1\n");
    const void *data;
    size_t len;
    reg_stat st;
    assert_int_equal(reg_get(w->reg, 0, "/q1", 0, &data, &len, &st), 0);
    assert_int_equal(len, rawlen);
    assert_memory_equal(data, raw, rawlen);
    EQ(w, "GET /q1", tf_fmt("OK \"a b \\\"c\\\" \\\\ \\n \\r \\t \\x00 \\xff \\xc3\\xa9\"%s\n",
                            tf_stat(w, "/q1")));
    /* the reply's token reads back as the same bytes */
    EQ(w, "SET /q2 x", tf_err(REG_ENONODE));
    EQ(w, "CREATE /q2 caf\xc3\xa9", "OK /q2\n");
    EQ(w, "GET /q2", tf_fmt("OK \"caf\\xc3\\xa9\"%s\n", tf_stat(w, "/q2")));
    EQ(w, "SET /q2 \"caf\\xc3\\xa9\"", tf_fmt("OK%s\n", tf_stat(w, "/q2")));
    assert_int_equal(reg_get(w->reg, 0, "/q2", 0, &data, &len, &st), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(data, "caf\xc3\xa9", 5);
    EQ(w, "SET /q2 ~!#$%&'()*+,-./:;<=>?@[]^_`{|}", tf_fmt("OK%s\n", tf_stat(w, "/q2")));
    EQ(w, "GET /q2", tf_fmt("OK ~!#$%%&'()*+,-./:;<=>?@[]^_`{|}%s\n", tf_stat(w, "/q2")));
}

static void test_exists_children(void **state)
{
    tf_world *w = *state;
    EQ(w, "EXISTS /p", tf_err(REG_ENONODE));
    EQ(w, "CREATE /p", "OK /p\n");
    EQ(w, "EXISTS /p", tf_fmt("OK%s\n", tf_stat(w, "/p")));
    EQ(w, "CHILDREN /p", "OK 0\n");
    EQ(w, "CREATE /p/c", "OK /p/c\n");
    EQ(w, "CREATE /p/a", "OK /p/a\n");
    EQ(w, "CREATE /p/B", "OK /p/B\n");
    EQ(w, "CREATE \"/p/b c\"", "OK \"/p/b c\"\n");
    EQ(w, "CHILDREN /p", "OK 4 B a \"b c\" c\n");
    EQ(w, "CHILDREN /nope", tf_err(REG_ENONODE));
    EQ(w, "CHILDREN /p wat", "ERR BADARGUMENTS expected 'watch': wat\n");
    EQ(w, "EXISTS /p \"watch\"", "ERR BADARGUMENTS expected 'watch': watch\n");
    EQ(w, "GETACL /p", "OK 1 world:anyone:cdrwa\n");
    EQ(w, "GETACL /nope", tf_err(REG_ENONODE));
}

static void test_oneshot_watches(void **state)
{
    tf_world *w = *state;
    EQ(w, "CREATE /w", "OK /w\n");
    EQ(w, "GET /w WATCH", tf_fmt("OK \"\"%s\n", tf_stat(w, "/w")));
    assert_string_equal(tf_events(w, 0), "");
    EQ(w, "SET /w x", tf_fmt("OK%s\n", tf_stat(w, "/w")));
    int64_t z = reg_last_zxid(w->reg);
    assert_string_equal(tf_events(w, 0), tf_fmt("EVENT changed /w zxid=%lld\n", (long long)z));
    EQ(w, "SET /w y", tf_fmt("OK%s\n", tf_stat(w, "/w")));
    assert_string_equal(tf_events(w, 0), "");

    EQ(w, "EXISTS /n watch", tf_err(REG_ENONODE));
    EQ(w, "CREATE /n", "OK /n\n");
    z = reg_last_zxid(w->reg);
    assert_string_equal(tf_events(w, 0), tf_fmt("EVENT created /n zxid=%lld\n", (long long)z));

    EQ(w, "CHILDREN /w watch", "OK 0\n");
    EQ(w, "CREATE \"/w/a b\"", "OK \"/w/a b\"\n");
    z = reg_last_zxid(w->reg);
    assert_string_equal(tf_events(w, 0), tf_fmt("EVENT children /w zxid=%lld\n", (long long)z));

    /* watches belong to the client that set them */
    EQ(w, "EXISTS /w watch", tf_fmt("OK%s\n", tf_stat(w, "/w")));
    assert_string_equal(tf_run(w, 1, "DELETE \"/w/a b\"", 15), "OK\n");
    assert_string_equal(tf_run(w, 1, "DELETE /w", 9), "OK\n");
    z = reg_last_zxid(w->reg);
    assert_string_equal(tf_events(w, 0), tf_fmt("EVENT deleted /w zxid=%lld\n", (long long)z));
    assert_string_equal(tf_events(w, 1), "");
}

static void test_persistent_watches(void **state)
{
    tf_world *w = *state;
    EQ(w, "WATCH /pw", "OK\n");
    EQ(w, "CREATE /pw", "OK /pw\n");
    long long z = (long long)reg_last_zxid(w->reg);
    EQ(w, "SET /pw x", tf_fmt("OK%s\n", tf_stat(w, "/pw")));
    EQ(w, "CREATE /pw/c", "OK /pw/c\n");
    EQ(w, "SET /pw/c x", tf_fmt("OK%s\n", tf_stat(w, "/pw/c")));
    EQ(w, "DELETE /pw/c", "OK\n");
    assert_string_equal(tf_events(w, 0),
                        tf_fmt("EVENT created /pw zxid=%lld\nEVENT changed /pw zxid=%lld\n"
                               "EVENT children /pw zxid=%lld\nEVENT children /pw zxid=%lld\n",
                               z, z + 1, z + 2, z + 4));
    EQ(w, "UNWATCH /pw", "OK\n");
    EQ(w, "SET /pw y", tf_fmt("OK%s\n", tf_stat(w, "/pw")));
    assert_string_equal(tf_events(w, 0), "");
    EQ(w, "UNWATCH /pw", tf_err(REG_ENOWATCHER));

    EQ(w, "WATCH /r bogus", "ERR BADARGUMENTS expected 'recursive': bogus\n");
    EQ(w, "WATCH /r Recursive", "OK\n");
    EQ(w, "CREATE /r", "OK /r\n");
    z = (long long)reg_last_zxid(w->reg);
    EQ(w, "CREATE /r/a", "OK /r/a\n");
    EQ(w, "SET /r/a x", tf_fmt("OK%s\n", tf_stat(w, "/r/a")));
    EQ(w, "DELETE /r/a", "OK\n");
    assert_string_equal(tf_events(w, 0),
                        tf_fmt("EVENT created /r zxid=%lld\nEVENT created /r/a zxid=%lld\n"
                               "EVENT changed /r/a zxid=%lld\nEVENT deleted /r/a zxid=%lld\n",
                               z, z + 1, z + 2, z + 3));
}

static void test_event_format(void **state)
{
    tf_world *w = *state;
    zk_buf b;
    zk_buf_init(&b, 0);
    txt_sess_event(w->c[0].s, REG_EVENT_CREATED, "/a", 7, &b);
    txt_sess_event(w->c[0].s, REG_EVENT_DELETED, "/a b", 8, &b);
    txt_sess_event(w->c[0].s, REG_EVENT_CHANGED, "/\xc3\xa9", 9, &b);
    txt_sess_event(w->c[0].s, REG_EVENT_CHILDREN, "/", 10, &b);
    assert_string_equal(b.data, "EVENT created /a zxid=7\nEVENT deleted \"/a b\" zxid=8\n"
                                "EVENT changed \"/\\xc3\\xa9\" zxid=9\nEVENT children / zxid=10\n");
    zk_buf_free(&b);
    zk_buf_init(&b, 20);
    txt_sess_event(w->c[0].s, REG_EVENT_CREATED, "/a/long/path", 7, &b);
    assert_int_equal(b.len, 0);
    zk_buf_free(&b);
}

static void test_reply_error(void **state)
{
    (void)state;
    zk_buf b;
    zk_buf_init(&b, 0);
    txt_reply_error(&b, REG_EBADARGUMENTS, "line too long");
    txt_reply_error(&b, REG_ENONODE, NULL);
    txt_reply_error(&b, REG_ESYSTEMERROR, "two\nlines");
    assert_string_equal(b.data, tf_fmt("ERR BADARGUMENTS line too long\nERR NONODE %s\n"
                                       "ERR SYSTEMERROR two?lines\n",
                                       reg_strerror(REG_ENONODE)));
    zk_buf_free(&b);
}

/* A reply that does not fit the output buffer is replaced by one ERR line,
 * or the connection is closed when even that does not fit. */
static void test_output_limit(void **state)
{
    (void)state;
    tf_options opt = {.out_limit = 80};
    tf_world *w = tf_open(&opt);
    EQ(w, "CREATE /big 0123456789012345678901234567890123456789", "OK /big\n");
    EQ(w, "GET /big", "ERR SYSTEMERROR reply does not fit the output buffer\n");
    tf_close(w);

    opt.out_limit = 30;
    w = tf_open(&opt);
    EQ(w, "PING", "OK\n");
    EQ(w, "EXISTS /", "");
    assert_int_equal(w->c[0].status, TXT_CLOSE);
    tf_close(w);
}

/* Requests and replies larger than the buffers a session keeps. */
static void test_large_requests(void **state)
{
    tf_world *w = *state;
    size_t n = 200000;
    char *line = malloc(n + 32);
    assert_non_null(line);
    memcpy(line, "CREATE /big ", 12);
    memset(line + 12, 'x', n);
    line[12 + n] = '\0';
    EQ(w, line, "OK /big\n");
    const char *r = tf_req(w, "GET /big");
    assert_int_equal(strlen(r), 3 + n + strlen(tf_stat(w, "/big")) + 1);
    assert_memory_equal(r + 3, line + 12, n);
    EQ(w, "CREATE /kids", "OK /kids\n");
    size_t total = 0;
    for (int i = 0; i < 1500; i++) {
        snprintf(line, n, "CREATE /kids/child-with-a-rather-long-name-%04d", i);
        EQ(w, line, tf_fmt("OK %s\n", line + 7));
        total += 1 + strlen(line + 13);
    }
    r = tf_req(w, "CHILDREN /kids");
    assert_int_equal(strncmp(r, "OK 1500 child-with-a-rather-long-name-0000 ", 43), 0);
    assert_int_equal(strlen(r), 7 + total + 1);
    EQ(w, "PING", "OK\n");
    free(line);
}

/* The daemon feeds nothing while a write is pending; if it did, the line
 * is refused; reg_prepare failures are answered at once. */
/* registry.max_watches on the socket protocol: the read that would watch
 * one path too many is answered QUOTAEXCEEDED; the session carries on. */
static void test_watch_limit(void **state)
{
    (void)state;
    tf_options opt = {.max_watches = 2};
    tf_world *w = tf_open(&opt);
    EQ(w, "CREATE /a", "OK /a\n");
    EQ(w, "WATCH /a", "OK\n");
    EQ(w, tf_fmt("%s", "GET /a WATCH"), tf_fmt("OK \"\"%s\n", tf_stat(w, "/a")));
    EQ(w, "EXISTS /b WATCH", tf_err(REG_ENONODE));
    EQ(w, "EXISTS /c WATCH", tf_err(REG_EQUOTAEXCEEDED));
    EQ(w, "WATCH /d", tf_err(REG_EQUOTAEXCEEDED));
    EQ(w, "PING", "OK\n");
    tf_close(w);
}

static void test_pending(void **state)
{
    (void)state;
    tf_options opt = {.max_pending = 1};
    tf_world *w = tf_open(&opt);
    zk_buf *out = &w->c[0].out;
    reg_txn *txn = NULL, *txn2 = NULL;
    assert_int_equal(txt_sess_line(w->c[0].s, "CREATE /p", 9, w->now, out, &txn), TXT_PENDING);
    assert_non_null(txn);
    assert_int_equal(out->len, 0);
    assert_int_equal(txt_sess_line(w->c[0].s, "PING", 4, w->now, out, &txn2), TXT_DONE);
    assert_null(txn2);
    assert_string_equal(out->data, "ERR RUNTIMEINCONSISTENCY a write is still pending\n");
    zk_buf_consume(out, out->len);

    assert_int_equal(txt_sess_line(w->c[1].s, "CREATE /q", 9, w->now, &w->c[1].out, &txn2),
                     TXT_DONE);
    assert_null(txn2);
    assert_string_equal(w->c[1].out.data, tf_err(REG_ETHROTTLEDOP));

    reg_result res = {0};
    assert_int_equal(reg_commit(w->reg, txn, &res), 0);
    txt_sess_finish(w->c[0].s, &res, out);
    reg_result_clear(&res);
    assert_string_equal(out->data, "OK /p\n");
    zk_buf_consume(out, out->len);
    txt_sess_finish(w->c[0].s, &res, out);
    assert_string_equal(out->data, "ERR RUNTIMEINCONSISTENCY no write is pending\n");
    tf_close(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_small_verbs, tf_setup, tf_teardown),
        cmocka_unit_test_setup_teardown(test_blank_and_cr, tf_setup, tf_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_and_arity, tf_setup, tf_teardown),
        cmocka_unit_test_setup_teardown(test_malformed_lines, tf_setup, tf_teardown),
        cmocka_unit_test_setup_teardown(test_paths, tf_setup, tf_teardown),
        cmocka_unit_test_setup_teardown(test_create_get_set_delete, tf_setup, tf_teardown),
        cmocka_unit_test_setup_teardown(test_set_versions, tf_setup, tf_teardown),
        cmocka_unit_test_setup_teardown(test_delete, tf_setup, tf_teardown),
        cmocka_unit_test_setup_teardown(test_create_flags, tf_setup, tf_teardown),
        cmocka_unit_test_setup_teardown(test_create_ttl, tf_setup, tf_teardown),
        cmocka_unit_test_setup_teardown(test_quoting_round_trip, tf_setup, tf_teardown),
        cmocka_unit_test_setup_teardown(test_exists_children, tf_setup, tf_teardown),
        cmocka_unit_test_setup_teardown(test_oneshot_watches, tf_setup, tf_teardown),
        cmocka_unit_test_setup_teardown(test_persistent_watches, tf_setup, tf_teardown),
        cmocka_unit_test_setup_teardown(test_event_format, tf_setup, tf_teardown),
        cmocka_unit_test(test_reply_error),
        cmocka_unit_test(test_output_limit),
        cmocka_unit_test_setup_teardown(test_large_requests, tf_setup, tf_teardown),
        cmocka_unit_test(test_pending),
        cmocka_unit_test(test_watch_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
