/*
 * text_fuzz_test.c - 10,000 random request lines, built from protocol
 * fragments (verbs in random case, paths, keywords, options, quotes and
 * escapes, broken ones too) and random byte mutations, run against a real
 * registry on two clients. Every line must produce exactly one well-formed
 * reply line ("OK..." or "ERR <CODE> ..."), or none when it is blank; every
 * event line must be well-formed; nothing may crash, leak or overrun.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "text_fixture.h"

#define FUZZ_LINES 10000

static const char *const frags[] = {
    "GET", "set", "Create", "DELETE", "exists", "CHILDREN", "watch", "UNWATCH",
    "REGISTER", "deregister", "PING", "QUIT", "HELP", "GETACL", "FOO", "get",
    "/f", "/f/a", "/f/b", "\"/f/c d\"", "/", "/zookeeper", "f", "/f/", "//", "/f/a/b",
    "/services", "/services/web", "watch", "recursive", "ephemeral", "sequential",
    "container", "parents", "ttl=5", "version=0", "version=-1", "version=x", "id=x",
    "weight=3", "priority=70000", "tag=t", "txt=a=b", "txt=a", "\"\"", "\"q\\\"\"",
    "\"\\x00\"", "\"\\xZZ\"", "\"unterminated", "a\"b", "\\", "x", "10.0.0.1", "::1",
    "web.example.com", "80", "0", "web", "web 10.0.0.1 80", "web ::1 8080 tag=x",
    "caf\xc3\xa9", "\"\\n\\r\\t\"", "\r",
};
#define NFRAGS (sizeof(frags) / sizeof(frags[0]))
#define NVERBS 16 /* the first NVERBS fragments are verbs */
#define NPATHS 11 /* followed by NPATHS paths */

/* Fragment i of a line: mostly a verb first and a path second, so that many
 * lines get past the dispatcher into the handlers and the registry. */
static const char *fuzz_frag(size_t i)
{
    if (i == 0 && rand() % 4 != 0)
        return frags[(size_t)rand() % NVERBS];
    if (i == 1 && rand() % 4 != 0)
        return frags[NVERBS + (size_t)rand() % NPATHS];
    return frags[(size_t)rand() % NFRAGS];
}

static size_t fuzz_line(char *line, size_t cap)
{
    size_t len = 0, n = (size_t)(rand() % 10 < 7 ? 2 + rand() % 2 : rand() % 9);
    for (size_t i = 0; i < n; i++) {
        const char *f = fuzz_frag(i);
        size_t flen = strlen(f);
        if (len + flen + 2 > cap)
            break;
        memcpy(line + len, f, flen);
        len += flen;
        int sep = rand() % 40;
        if (sep > 1)
            line[len++] = sep == 2 ? '\t' : ' ';
    }
    for (int m = rand() % 8 == 0 ? rand() % 3 + 1 : 0; m > 0 && len > 0; m--)
        line[(size_t)rand() % len] = (char)(rand() % 256);
    return len;
}

static bool is_blank(const char *line, size_t len)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    for (size_t i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t')
            return false;
    return true;
}

static void check_reply(const tf_client *c, const char *line, size_t len)
{
    const char *out = c->out.data ? c->out.data : "";
    if (is_blank(line, len)) {
        assert_int_equal(c->out.len, 0);
        return;
    }
    assert_true(c->out.len >= 3);
    assert_ptr_equal(memchr(out, '\n', c->out.len), out + c->out.len - 1);
    assert_true(strncmp(out, "OK\n", 3) == 0 || strncmp(out, "OK ", 3) == 0 ||
                strncmp(out, "ERR ", 4) == 0);
    for (size_t i = 0; i + 1 < c->out.len; i++)
        assert_true((unsigned char)out[i] >= 0x20 && (unsigned char)out[i] <= 0x7e);
    if (c->status == TXT_CLOSE)
        assert_string_equal(out, "OK\n");
}

static void check_events(tf_client *c)
{
    const char *p = c->events.data;
    size_t left = c->events.len;
    while (left > 0) {
        const char *nl = memchr(p, '\n', left);
        assert_non_null(nl);
        assert_int_equal(strncmp(p, "EVENT ", 6), 0);
        left -= (size_t)(nl + 1 - p);
        p = nl + 1;
    }
    zk_buf_consume(&c->events, c->events.len);
}

static void test_fuzz(void **state)
{
    tf_world *w = *state;
    char line[512];
    srand(20240601);
    size_t replies = 0, pending = 0;
    for (int iter = 0; iter < FUZZ_LINES; iter++) {
        size_t len = fuzz_line(line, sizeof(line));
        int who = rand() % TF_CLIENTS;
        int64_t before = reg_last_zxid(w->reg);
        tf_run(w, who, line, len);
        check_reply(&w->c[who], line, len);
        replies += w->c[who].out.len > 0;
        pending += reg_last_zxid(w->reg) != before;
        for (int i = 0; i < TF_CLIENTS; i++)
            check_events(&w->c[i]);
        w->now++;
    }
    /* the generator reaches the interesting paths */
    print_message("%zu replies, %zu writes\n", replies, pending);
    assert_true(replies > FUZZ_LINES / 2);
    assert_true(pending > 300);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fuzz, tf_setup, tf_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
