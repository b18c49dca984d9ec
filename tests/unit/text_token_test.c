/*
 * text_token_test.c - the socket protocol's tokenizer and quoting on their
 * own (no registry): accepted and rejected lines, error offsets, keyword
 * matching, and the round trip txt_tokenize(txt_quote(x)) == x for fixed and
 * random byte strings.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "text_session.h"
#include "text_token.h"

#define MAXTOK 16

typedef struct split {
    int n;
    size_t off;
    txt_tok toks[MAXTOK];
    char *store;
} split;

/* Splits a line held in an exactly-sized heap copy, so ASan sees overruns. */
static void split_n(split *sp, const char *line, size_t len, size_t max)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, line, len);
    sp->store = malloc(len + 1);
    assert_non_null(sp->store);
    sp->off = (size_t)-1;
    sp->n = txt_tokenize(copy, len, sp->store, sp->toks, max, &sp->off);
    free(copy);
}

static void split_s(split *sp, const char *line)
{
    split_n(sp, line, strlen(line), MAXTOK);
}

static void tok_eq(const split *sp, int i, const char *want, size_t wlen, bool quoted)
{
    assert_true(i < sp->n);
    assert_int_equal(sp->toks[i].len, wlen);
    assert_memory_equal(sp->toks[i].p, want, wlen);
    assert_int_equal(sp->toks[i].p[wlen], '\0');
    assert_int_equal(sp->toks[i].quoted, quoted);
}

static void test_bare_tokens(void **state)
{
    (void)state;
    split sp;
    split_s(&sp, "  GET\t/a   watch  ");
    assert_int_equal(sp.n, 3);
    tok_eq(&sp, 0, "GET", 3, false);
    tok_eq(&sp, 1, "/a", 2, false);
    tok_eq(&sp, 2, "watch", 5, false);
    free(sp.store);

    split_s(&sp, "caf\xc3\xa9 x=y");
    assert_int_equal(sp.n, 2);
    tok_eq(&sp, 0, "caf\xc3\xa9", 5, false);
    free(sp.store);
}

static void test_blank_lines(void **state)
{
    (void)state;
    const char *blank[] = {"", " ", "\t", " \t  \t"};
    for (size_t i = 0; i < sizeof(blank) / sizeof(blank[0]); i++) {
        split sp;
        split_s(&sp, blank[i]);
        assert_int_equal(sp.n, 0);
        free(sp.store);
    }
}

static void test_quoted_tokens(void **state)
{
    (void)state;
    split sp;
    split_s(&sp, "SET \"a b\" \"\" \"q\\\"\\\\\\n\\r\\t\\x41\\xfF\\x00z\"");
    assert_int_equal(sp.n, 4);
    tok_eq(&sp, 1, "a b", 3, true);
    tok_eq(&sp, 2, "", 0, true);
    tok_eq(&sp, 3, "q\"\\\n\r\tA\xff\0z", 10, true);
    free(sp.store);

    split_s(&sp, "\"raw\ttab and \x01 byte\"");
    assert_int_equal(sp.n, 1);
    tok_eq(&sp, 0, "raw\ttab and \x01 byte", 18, true);
    free(sp.store);

    split_s(&sp, "\"watch\"");
    assert_int_equal(sp.n, 1);
    assert_false(txt_tok_is(&sp.toks[0], "watch"));
    free(sp.store);
}

static void expect_error(const char *line, size_t len, int err, size_t off)
{
    split sp;
    split_n(&sp, line, len, MAXTOK);
    assert_int_equal(sp.n, err);
    assert_int_equal(sp.off, off);
    assert_non_null(txt_tok_strerror(err));
    free(sp.store);
}

static void test_malformed(void **state)
{
    (void)state;
    expect_error("GET \"/a", 7, TXT_TOK_EUNTERMINATED, 4);
    expect_error("GET \"/a\\", 8, TXT_TOK_EUNTERMINATED, 4);
    expect_error("GET \"/a\\q\"", 10, TXT_TOK_EESCAPE, 7);
    expect_error("GET \"\\x4\"", 9, TXT_TOK_EESCAPE, 5);
    expect_error("GET \"\\xg0\"", 10, TXT_TOK_EESCAPE, 5);
    expect_error("GET \"\\x", 7, TXT_TOK_EESCAPE, 5);
    expect_error("GET a\"b\"", 8, TXT_TOK_EQUOTE, 5);
    expect_error("GET \"a\"b", 8, TXT_TOK_EAFTERQUOTE, 7);
    expect_error("GET a\\nb", 8, TXT_TOK_EBACKSLASH, 5);
    expect_error("GET a\x01", 6, TXT_TOK_ECTRL, 5);
    expect_error("GET a\x7f", 6, TXT_TOK_ECTRL, 5);
    expect_error("GET a\rb", 7, TXT_TOK_ECTRL, 5);
    expect_error("GET a\0b", 7, TXT_TOK_ENUL, 5);
    expect_error("GET \"a\0b\"", 9, TXT_TOK_ENUL, 6);
    expect_error("\0", 1, TXT_TOK_ENUL, 0);
}

static void test_too_many(void **state)
{
    (void)state;
    split sp;
    split_n(&sp, "a b c", 5, 3);
    assert_int_equal(sp.n, 3);
    free(sp.store);
    split_n(&sp, "a b c d", 7, 3);
    assert_int_equal(sp.n, TXT_TOK_ETOOMANY);
    assert_int_equal(sp.off, 6);
    free(sp.store);
    split_n(&sp, "a b c   ", 8, 3);
    assert_int_equal(sp.n, 3);
    free(sp.store);
}

static void test_keywords(void **state)
{
    (void)state;
    split sp;
    split_s(&sp, "WaTcH version=7 VERSION=8 \"version=9\" versio");
    assert_true(txt_tok_is(&sp.toks[0], "watch"));
    assert_false(txt_tok_is(&sp.toks[0], "watc"));
    const char *v;
    size_t vlen;
    assert_true(txt_tok_option(&sp.toks[1], "version=", &v, &vlen));
    assert_int_equal(vlen, 1);
    assert_int_equal(v[0], '7');
    assert_true(txt_tok_option(&sp.toks[2], "version=", &v, &vlen));
    assert_false(txt_tok_option(&sp.toks[3], "version=", &v, &vlen));
    assert_false(txt_tok_option(&sp.toks[4], "version=", &v, &vlen));
    free(sp.store);
}

static void quote_is(const char *in, size_t len, const char *want)
{
    zk_buf b;
    zk_buf_init(&b, 0);
    assert_int_equal(txt_quote(&b, in, len), 0);
    assert_int_equal(b.len, strlen(want));
    assert_string_equal(b.data, want);
    zk_buf_free(&b);
}

static void test_quote(void **state)
{
    (void)state;
    quote_is("/a/b", 4, "/a/b");
    quote_is("x=y!~", 5, "x=y!~");
    quote_is("", 0, "\"\"");
    quote_is(NULL, 0, "\"\"");
    quote_is("a b", 3, "\"a b\"");
    quote_is("a\"b", 3, "\"a\\\"b\"");
    quote_is("a\\b", 3, "\"a\\\\b\"");
    quote_is("\n\r\t", 3, "\"\\n\\r\\t\"");
    quote_is("\0\x01\x7f", 3, "\"\\x00\\x01\\x7f\"");
    quote_is("caf\xc3\xa9", 5, "\"caf\\xc3\\xa9\"");
}

static void test_quote_limit(void **state)
{
    (void)state;
    zk_buf b;
    zk_buf_init(&b, 8);
    assert_int_equal(zk_buf_append(&b, "OK ", 3), 0);
    assert_int_equal(txt_quote(&b, "a b c d", 7), -ENOBUFS);
    assert_int_equal(b.len, 3);
    assert_string_equal(b.data, "OK ");
    assert_int_equal(txt_quote(&b, "abcde", 5), 0);
    assert_int_equal(txt_quote(&b, "x", 1), -ENOBUFS);
    assert_int_equal(b.len, 8);
    zk_buf_free(&b);
}

/* Quotes in, tokenizes, compares. */
static void round_trip(const char *in, size_t len)
{
    zk_buf b;
    zk_buf_init(&b, 0);
    assert_int_equal(zk_buf_append(&b, "SET ", 4), 0);
    assert_int_equal(txt_quote(&b, in, len), 0);
    for (size_t i = 0; i < b.len; i++) {
        unsigned char c = (unsigned char)b.data[i];
        assert_true(c >= 0x20 && c <= 0x7e);
    }
    split sp;
    split_n(&sp, b.data, b.len, MAXTOK);
    assert_int_equal(sp.n, 2);
    assert_int_equal(sp.toks[1].len, len);
    if (len)
        assert_memory_equal(sp.toks[1].p, in, len);
    free(sp.store);
    zk_buf_free(&b);
}

static void test_round_trip_fixed(void **state)
{
    (void)state;
    const char *cases[] = {"plain", "two words", "\"quoted\"", "back\\slash", "nl\nx",
                           "cr\r", "\ttab", "nul\0mid", "\xff\xfe", "\xe2\x82\xac euro",
                           " lead", "trail ", "\\x41", ""};
    size_t lens[] = {5, 9, 8, 10, 4, 3, 4, 7, 2, 8, 5, 6, 4, 0};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        round_trip(cases[i], lens[i]);
}

static void test_round_trip_random(void **state)
{
    (void)state;
    srand(12345);
    char buf[64];
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = (size_t)rand() % sizeof(buf);
        for (size_t i = 0; i < len; i++)
            buf[i] = (char)(rand() % 4 == 0 ? "\"\\ \t\n\0x"[rand() % 7] : rand() % 256);
        round_trip(buf, len);
    }
}

/* Random lines: never crash or overrun; every token is within the store. */
static void test_tokenize_random(void **state)
{
    (void)state;
    srand(777);
    static const char alphabet[] = "ab \t\"\\xnrt0F\x01\x80\xff=";
    char line[80];
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = (size_t)rand() % sizeof(line);
        for (size_t i = 0; i < len; i++)
            line[i] = alphabet[(size_t)rand() % (sizeof(alphabet) - 1)];
        if (rand() % 50 == 0 && len > 0)
            line[(size_t)rand() % len] = '\0';
        split sp;
        split_n(&sp, line, len, 8);
        if (sp.n < 0) {
            assert_true(sp.off <= len);
        } else {
            for (int t = 0; t < sp.n; t++)
                assert_true(sp.toks[t].p + sp.toks[t].len < sp.store + len + 1);
        }
        free(sp.store);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bare_tokens),
        cmocka_unit_test(test_blank_lines),
        cmocka_unit_test(test_quoted_tokens),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_too_many),
        cmocka_unit_test(test_keywords),
        cmocka_unit_test(test_quote),
        cmocka_unit_test(test_quote_limit),
        cmocka_unit_test(test_round_trip_fixed),
        cmocka_unit_test(test_round_trip_random),
        cmocka_unit_test(test_tokenize_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
