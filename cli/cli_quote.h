/*
 * cli_quote.h - request lines of the socket protocol (SPEC section 3) from
 * command-line words.
 *
 * A word is sent bare when it is non-empty and has no space, tab, double
 * quote, backslash or control byte (0x00-0x1f, 0x7f); bytes >= 0x80 (UTF-8)
 * stay bare, as the server accepts them. Any other word goes in double
 * quotes with the escapes \\ \" \n \r \t and \xHH for the remaining
 * control bytes; "" is the empty word. Pure functions, no I/O.
 */
#ifndef ZK_CLI_QUOTE_H
#define ZK_CLI_QUOTE_H

#include <stdbool.h>
#include <stddef.h>

/* Whether the len bytes at word must be quoted. */
bool cli_needs_quotes(const char *word, size_t len);

/* Writes word as a protocol token into out (cap bytes, always
 * NUL-terminated when cap > 0, truncated like snprintf). Returns the
 * length of the whole token, which may be >= cap. */
size_t cli_quote(char *out, size_t cap, const char *word, size_t len);

/* The request line "TOKEN TOKEN ...\n" for argv[0..argc-1] (C strings),
 * heap-allocated (free it); its length without the NUL goes to *len.
 * NULL when argc < 1 or out of memory. */
char *cli_request_line(int argc, char *const argv[], size_t *len);

#endif
