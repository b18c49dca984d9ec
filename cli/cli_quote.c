/*
 * cli_quote.c - turns command-line words into one request line.
 *
 * Two passes over each word: cli_quote is snprintf-shaped, so
 * cli_request_line asks for the lengths first, allocates once and then
 * writes. The escapes are exactly those the server's tokenizer decodes
 * (daemon/text_token.h): \\ \" \n \r \t \xHH.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_quote.h"

static bool cli__is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

bool cli_needs_quotes(const char *word, size_t len)
{
    if (len == 0)
        return true;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)word[i];
        if (c == ' ' || c == '"' || c == '\\' || cli__is_control(c))
            return true;
    }
    return false;
}

/* The escape of c inside quotes into esc (at most 4 bytes + NUL). */
static size_t cli__escape(unsigned char c, char esc[5])
{
    static const char hex[] = "0123456789abcdef";
    const char *named = c == '\\' ? "\\\\" : c == '"' ? "\\\"" : c == '\n' ? "\\n"
                      : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;

    if (named) {
        memcpy(esc, named, 3);
        return 2;
    }
    if (cli__is_control(c)) {
        esc[0] = '\\';
        esc[1] = 'x';
        esc[2] = hex[c >> 4];
        esc[3] = hex[c & 15];
        esc[4] = '\0';
        return 4;
    }
    esc[0] = (char)c;
    esc[1] = '\0';
    return 1;
}

/* Appends n bytes to out (cap) at *at, keeping room for the NUL. */
static void cli__put(char *out, size_t cap, size_t *at, const char *p, size_t n)
{
    if (*at < cap) {
        size_t room = cap - 1 - *at;
        memcpy(out + *at, p, n < room ? n : room);
    }
    *at += n;
}

size_t cli_quote(char *out, size_t cap, const char *word, size_t len)
{
    size_t at = 0;
    char esc[5];

    if (!cli_needs_quotes(word, len)) {
        cli__put(out, cap, &at, word, len);
    } else {
        cli__put(out, cap, &at, "\"", 1);
        for (size_t i = 0; i < len; i++)
            cli__put(out, cap, &at, esc, cli__escape((unsigned char)word[i], esc));
        cli__put(out, cap, &at, "\"", 1);
    }
    if (cap > 0)
        out[at < cap ? at : cap - 1] = '\0';
    return at;
}

char *cli_request_line(int argc, char *const argv[], size_t *len)
{
    size_t total = 0, at = 0;
    char *line;

    if (argc < 1)
        return NULL;
    for (int i = 0; i < argc; i++) {
        size_t n = cli_quote(NULL, 0, argv[i], strlen(argv[i]));
        if (n > SIZE_MAX / 2 - total)
            return NULL;
        total += n + 1; /* a space or the final newline */
    }
    line = malloc(total + 1);
    if (!line)
        return NULL;
    for (int i = 0; i < argc; i++) {
        at += cli_quote(line + at, total + 1 - at, argv[i], strlen(argv[i]));
        line[at++] = i + 1 < argc ? ' ' : '\n';
    }
    line[at] = '\0';
    *len = at;
    return line;
}
