/*
 * cli_test.c - unit tests of the client's request quoting (cli_quote.c):
 * which words stay bare, the escapes, truncation, and whole lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli_quote.h"

static void expect_quote(const char *word, size_t len, const char *want)
{
    char out[128];
    size_t n = cli_quote(out, sizeof(out), word, len);

    assert_int_equal(n, strlen(want));
    assert_string_equal(out, want);
}

static void test_bare(void **state)
{
    (void)state;
    expect_quote("/services/web", 13, "/services/web");
    expect_quote("version=3", 9, "version=3");
    expect_quote("caf\xc3\xa9", 5, "caf\xc3\xa9"); /* UTF-8 stays bare */
    expect_quote("a=b=c", 5, "a=b=c");
    assert_false(cli_needs_quotes("x", 1));
}

static void test_quoted(void **state)
{
    (void)state;
    expect_quote("", 0, "\"\"");
    expect_quote("two words", 9, "\"two words\"");
    expect_quote("say \"hi\"", 8, "\"say \\\"hi\\\"\"");
    expect_quote("a\\b", 3, "\"a\\\\b\"");
    expect_quote("l1\nl2\r\t", 7, "\"l1\\nl2\\r\\t\"");
    expect_quote("\x01\x1f\x7f", 3, "\"\\x01\\x1f\\x7f\"");
    expect_quote("tag=two words", 13, "\"tag=two words\"");
    expect_quote("nul\0in", 6, "\"nul\\x00in\"");
    assert_true(cli_needs_quotes("a\tb", 3));
}

static void test_truncation(void **state)
{
    char out[6];

    (void)state;
    assert_int_equal(cli_quote(out, sizeof(out), "two words", 9), 11);
    assert_string_equal(out, "\"two ");
    assert_int_equal(cli_quote(out, sizeof(out), "abcdefgh", 8), 8);
    assert_string_equal(out, "abcde");
    assert_int_equal(cli_quote(NULL, 0, "a b", 3), 5);
    assert_int_equal(cli_quote(out, 1, "abc", 3), 3);
    assert_string_equal(out, "");
}

static void test_request_line(void **state)
{
    char *argv[] = { "register", "web", "10.0.0.1", "8080", "tag=blue green", "txt=k=v" };
    char *one[] = { "PING" };
    char *empty[] = { "set", "/a", "" };
    size_t len = 0;
    char *line;

    (void)state;
    line = cli_request_line(6, argv, &len);
    assert_non_null(line);
    assert_string_equal(line, "register web 10.0.0.1 8080 \"tag=blue green\" txt=k=v\n");
    assert_int_equal(len, strlen(line));
    free(line);
    line = cli_request_line(1, one, &len);
    assert_string_equal(line, "PING\n");
    assert_int_equal(len, 5);
    free(line);
    line = cli_request_line(3, empty, &len);
    assert_string_equal(line, "set /a \"\"\n");
    free(line);
    assert_null(cli_request_line(0, one, &len));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bare),
        cmocka_unit_test(test_quoted),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_request_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
