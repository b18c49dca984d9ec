/*
 * proto_text_token.c - splitting request lines into tokens and quoting
 * tokens for replies; see text_token.h for the grammar.
 *
 * The tokenizer is a single left-to-right pass that decodes into a store of
 * len + 1 bytes: every decoded token is no longer than its source, and every
 * token but the last is followed by at least one separator byte, whose room
 * takes the token's terminating NUL (the last one uses the extra byte).
 * txt_quote is its inverse: txt_tokenize(txt_quote(x)) == x for any bytes x.
 * Quoted output is pure ASCII: bytes outside 0x20-0x7e are written as \xHH
 * (lower-case hex) unless they have a short escape.
 */
#include "text_session.h"
#include "text_token.h"

#include <string.h>

static bool tok__is_sep(unsigned char c)
{
    return c == ' ' || c == '\t';
}

static bool tok__is_ctrl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

static int tok__hex(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes the escape at line[*i] == '\\' into *dst and moves *i past it. */
static int tok__escape(const char *line, size_t len, size_t *i, char *dst)
{
    if (*i + 1 >= len)
        return TXT_TOK_EUNTERMINATED;
    switch (line[*i + 1]) {
    case '\\': *dst = '\\'; break;
    case '"': *dst = '"'; break;
    case 'n': *dst = '\n'; break;
    case 'r': *dst = '\r'; break;
    case 't': *dst = '\t'; break;
    case 'x': {
        int hi = *i + 2 < len ? tok__hex((unsigned char)line[*i + 2]) : -1;
        int lo = *i + 3 < len ? tok__hex((unsigned char)line[*i + 3]) : -1;
        if (hi < 0 || lo < 0)
            return TXT_TOK_EESCAPE;
        *dst = (char)(hi << 4 | lo);
        *i += 4;
        return 0;
    }
    default:
        return TXT_TOK_EESCAPE;
    }
    *i += 2;
    return 0;
}

/* Decodes the quoted token at line[*i] == '"' into dst; on return *i is just
 * past the closing quote, or at the offending byte. */
static int tok__quoted(const char *line, size_t len, size_t *i, char *dst,
                       size_t *dlen)
{
    size_t start = *i, n = 0;
    (*i)++;
    while (*i < len) {
        unsigned char c = (unsigned char)line[*i];
        if (c == '"') {
            (*i)++;
            if (*i < len && !tok__is_sep((unsigned char)line[*i]))
                return TXT_TOK_EAFTERQUOTE;
            *dlen = n;
            return 0;
        }
        if (c == '\0')
            return TXT_TOK_ENUL;
        if (c != '\\') {
            dst[n++] = (char)c;
            (*i)++;
            continue;
        }
        int rc = tok__escape(line, len, i, &dst[n++]);
        if (rc == TXT_TOK_EUNTERMINATED)
            *i = start;
        if (rc < 0)
            return rc;
    }
    *i = start;
    return TXT_TOK_EUNTERMINATED;
}

/* Copies the bare token at line[*i] into dst; *i ends at the separator, the
 * end of the line or the offending byte. */
static int tok__bare(const char *line, size_t len, size_t *i, char *dst,
                     size_t *dlen)
{
    size_t n = 0;
    for (; *i < len && !tok__is_sep((unsigned char)line[*i]); (*i)++) {
        unsigned char c = (unsigned char)line[*i];
        if (c == '\0')
            return TXT_TOK_ENUL;
        if (c == '"')
            return TXT_TOK_EQUOTE;
        if (c == '\\')
            return TXT_TOK_EBACKSLASH;
        if (tok__is_ctrl(c))
            return TXT_TOK_ECTRL;
        dst[n++] = (char)c;
    }
    *dlen = n;
    return 0;
}

int txt_tokenize(const char *line, size_t len, char *store, txt_tok *toks,
                 size_t max, size_t *err_off)
{
    size_t i = 0, ntok = 0;
    char *dst = store;
    for (;;) {
        while (i < len && tok__is_sep((unsigned char)line[i]))
            i++;
        if (i == len)
            return (int)ntok;
        if (ntok == max) {
            *err_off = i;
            return TXT_TOK_ETOOMANY;
        }
        size_t dlen = 0;
        bool quoted = line[i] == '"';
        int rc = quoted ? tok__quoted(line, len, &i, dst, &dlen)
                        : tok__bare(line, len, &i, dst, &dlen);
        if (rc < 0) {
            *err_off = i;
            return rc;
        }
        dst[dlen] = '\0';
        toks[ntok++] = (txt_tok){.p = dst, .len = dlen, .quoted = quoted};
        dst += dlen + 1;
    }
}

const char *txt_tok_strerror(int err)
{
    switch (err) {
    case TXT_TOK_ENUL: return "NUL byte in request (write it as \\x00 in quotes)";
    case TXT_TOK_ECTRL: return "control character in a bare token (quote it)";
    case TXT_TOK_EBACKSLASH: return "backslash in a bare token (quote it)";
    case TXT_TOK_EQUOTE: return "quote inside a bare token";
    case TXT_TOK_EAFTERQUOTE: return "closing quote must be followed by a space";
    case TXT_TOK_EUNTERMINATED: return "unterminated quoted token";
    case TXT_TOK_EESCAPE: return "bad escape (use \\\\ \\\" \\n \\r \\t \\xHH)";
    case TXT_TOK_ETOOMANY: return "too many tokens";
    default: return "malformed request";
    }
}

static unsigned char tok__lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static bool tok__prefix(const txt_tok *t, const char *word, size_t wlen)
{
    if (t->quoted || t->len < wlen)
        return false;
    for (size_t i = 0; i < wlen; i++)
        if (tok__lower((unsigned char)t->p[i]) != tok__lower((unsigned char)word[i]))
            return false;
    return true;
}

bool txt_tok_is(const txt_tok *t, const char *word)
{
    size_t wlen = strlen(word);
    return t->len == wlen && tok__prefix(t, word, wlen);
}

bool txt_tok_option(const txt_tok *t, const char *prefix, const char **rest,
                    size_t *rest_len)
{
    size_t plen = strlen(prefix);
    if (!tok__prefix(t, prefix, plen))
        return false;
    *rest = t->p + plen;
    *rest_len = t->len - plen;
    return true;
}

void txt_buf_truncate(zk_buf *b, size_t len)
{
    if (len >= b->len)
        return;
    b->len = len;
    b->data[len] = '\0';
}

/* ---- quoting ------------------------------------------------------------ */

static bool quote__bare_ok(const unsigned char *p, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (p[i] < 0x21 || p[i] > 0x7e || p[i] == '"' || p[i] == '\\')
            return false;
    return true;
}

/* True if c goes into a quoted token as itself. */
static bool quote__literal(unsigned char c)
{
    return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\';
}

static int quote__escape(zk_buf *out, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    char esc[4] = {'\\', 0, 0, 0};
    size_t n = 2;
    switch (c) {
    case '\\': esc[1] = '\\'; break;
    case '"': esc[1] = '"'; break;
    case '\n': esc[1] = 'n'; break;
    case '\r': esc[1] = 'r'; break;
    case '\t': esc[1] = 't'; break;
    default:
        esc[1] = 'x';
        esc[2] = hex[c >> 4];
        esc[3] = hex[c & 15];
        n = 4;
    }
    return zk_buf_append(out, esc, n);
}

static int quote__body(zk_buf *out, const unsigned char *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t run = i;
        while (run < len && quote__literal(p[run]))
            run++;
        int rc = zk_buf_append(out, p + i, run - i);
        if (rc == 0 && run < len)
            rc = quote__escape(out, p[run++]);
        if (rc < 0)
            return rc;
        i = run;
    }
    return 0;
}

int txt_quote(zk_buf *out, const void *p, size_t len)
{
    const unsigned char *s = p;
    if (quote__bare_ok(s, len))
        return zk_buf_append(out, s, len);
    size_t mark = out->len;
    int rc = zk_buf_putc(out, '"');
    if (rc == 0)
        rc = quote__body(out, s, len);
    if (rc == 0)
        rc = zk_buf_putc(out, '"');
    if (rc < 0)
        txt_buf_truncate(out, mark);
    return rc;
}
