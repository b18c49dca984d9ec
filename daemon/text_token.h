/*
 * text_token.h - tokens of the socket protocol's request lines, and the
 * quoting of tokens in replies (SPEC section 3).
 *
 * A request line is a sequence of tokens separated by one or more spaces or
 * tabs; leading and trailing separators are ignored. A token is either
 *
 *   bare:   one or more bytes other than space, tab, '"', '\\' and control
 *           characters (0x00-0x1f, 0x7f). Bytes >= 0x80 (UTF-8) are allowed.
 *   quoted: '"' ... '"', holding any byte but NUL literally, plus the escapes
 *           \\ \" \n \r \t and \xHH (exactly two hex digits, either case).
 *           The closing quote must end the line or be followed by a
 *           separator. "" is the empty token.
 *
 * Anything else - an unterminated quote, an unknown escape, a quote or
 * backslash inside a bare token, a bare control character, a raw NUL
 * anywhere - makes the whole line malformed; nothing is executed. A quoted
 * token is remembered as quoted: it is always data, never a keyword.
 *
 * Decoding is pure and allocation-free: the caller passes the token array
 * and a store of len + 1 bytes that receives the decoded tokens, each
 * followed by a NUL (so paths can be used as C strings; a token decoded from
 * \x00 may hold further NULs, its length is authoritative).
 */
#ifndef ZK_DAEMON_TEXT_TOKEN_H
#define ZK_DAEMON_TEXT_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

typedef struct txt_tok {
    const char *p; /* decoded bytes in the store, NUL-terminated */
    size_t len;    /* decoded length (may be 0 for "") */
    bool quoted;   /* written in double quotes: data, never a keyword */
} txt_tok;

/* Why a line could not be split (txt_tokenize's negative returns). */
enum txt_tok_err {
    TXT_TOK_ENUL = -1,          /* raw NUL byte */
    TXT_TOK_ECTRL = -2,         /* control character in a bare token */
    TXT_TOK_EBACKSLASH = -3,    /* backslash in a bare token */
    TXT_TOK_EQUOTE = -4,        /* '"' inside a bare token */
    TXT_TOK_EAFTERQUOTE = -5,   /* closing quote not followed by a separator */
    TXT_TOK_EUNTERMINATED = -6, /* no closing quote */
    TXT_TOK_EESCAPE = -7,       /* unknown escape or bad \xHH */
    TXT_TOK_ETOOMANY = -8,      /* more than max tokens */
};

/* Splits line (len bytes, any content) into at most max tokens. store must
 * hold len + 1 bytes. Returns the number of tokens (0 for a blank line), or
 * a negative enum txt_tok_err with *err_off set to the offending byte's
 * offset in line. */
int txt_tokenize(const char *line, size_t len, char *store, txt_tok *toks,
                 size_t max, size_t *err_off);

/* A short message for a txt_tok_err ("unterminated quoted token"). */
const char *txt_tok_strerror(int err);

/* True if t is unquoted and equals word ignoring ASCII case. */
bool txt_tok_is(const txt_tok *t, const char *word);

/* True if t is unquoted and starts with prefix ignoring ASCII case; *rest
 * and *rest_len then give the bytes after the prefix. */
bool txt_tok_option(const txt_tok *t, const char *prefix, const char **rest,
                    size_t *rest_len);

/* Cuts b back to len bytes (undoing a partly written reply). */
void txt_buf_truncate(zk_buf *b, size_t len);

#endif
