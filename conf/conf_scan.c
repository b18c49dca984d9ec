/*
 * conf_scan.c - a pre-pass over libconfig text that finds integer literals
 * libconfig 1.5 would silently wrap.
 *
 * libconfig 1.5 converts a decimal literal without the L suffix with atoi
 * and a hex one with strtoul cast to int, so "ttl = 4294967296;" becomes 0
 * and passes every range check. This scanner knows just enough of the
 * lexical syntax (comments, strings, names, numbers, @include) to find
 * every integer literal and reject one outside 32 bits that lacks the L,
 * with its file and line. Files named by @include are scanned the same
 * way, resolved as libconfig resolves them (relative to the include
 * directory); one that cannot be read is left for libconfig to report.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"

#define CONF_SCAN_DEPTH 10 /* libconfig's own include depth limit */

typedef struct conf_scan {
    const char *text;
    const char *p;
    const char *name;
    const char *incdir;
    unsigned line;
    int depth;
    char *err;
    size_t errlen;
} conf_scan;

static int conf__scan_text(const char *text, const char *name, const char *incdir,
                           int depth, char *err, size_t errlen);

static bool conf__name_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '*';
}

/* Skips a comment or a string starting at s->p; false if there is none. */
static bool conf__skip_noise(conf_scan *s)
{
    const char *p = s->p;
    const char *end;

    if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
        s->p = p + strcspn(p, "\n");
        return true;
    }
    if (p[0] == '/' && p[1] == '*') {
        end = strstr(p + 2, "*/");
        end = end ? end + 2 : p + strlen(p);
    } else if (*p == '"') {
        for (end = p + 1; *end && *end != '"'; end++)
            end += end[0] == '\\' && end[1] != '\0';
        end += *end == '"';
    } else {
        return false;
    }
    for (; p < end; p++)
        s->line += *p == '\n';
    s->p = end;
    return true;
}

static int conf__too_big(conf_scan *s, const char *start, size_t len)
{
    snprintf(s->err, s->errlen, "%s:%u: integer %.*s does not fit in 32 bits "
             "(write %.*sL for a 64-bit value)", s->name, s->line, (int)len, start,
             (int)len, start);
    return -EINVAL;
}

/* A number at s->p (a digit, or a sign before one). */
static int conf__scan_number(conf_scan *s)
{
    const char *start = s->p, *p = s->p + (*s->p == '+' || *s->p == '-');
    bool hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
    long long v;

    p += hex ? 2 : 0;
    while (hex ? isxdigit((unsigned char)*p) : isdigit((unsigned char)*p))
        p++;
    s->p = p;
    if (*p == 'L')
        return 0;
    if (!hex && (*p == '.' || *p == 'e' || *p == 'E')) {
        s->p += strspn(p, "0123456789.eE+-"); /* a float */
        return 0;
    }
    errno = 0;
    v = strtoll(start, NULL, hex ? 16 : 10);
    if (errno == ERANGE || v < INT32_MIN || v > INT32_MAX)
        return conf__too_big(s, start, (size_t)(p - start));
    return 0;
}

/* After "@include": scans the named file. */
static int conf__scan_include(conf_scan *s)
{
    const char *q = s->p + strspn(s->p, " \t");
    const char *end;
    char path[4096], *text = NULL;
    int rc;

    if (*q != '"' || !(end = strchr(q + 1, '"')))
        return 0; /* libconfig reports the syntax error */
    if (snprintf(path, sizeof(path), "%s%s%.*s", s->incdir ? s->incdir : "",
                 s->incdir ? "/" : "", (int)(end - q - 1), q + 1) >= (int)sizeof(path))
        return 0;
    if (s->depth >= CONF_SCAN_DEPTH || conf__slurp(path, &text) < 0)
        return 0;
    snprintf(path, sizeof(path), "%.*s", (int)(end - q - 1), q + 1);
    rc = conf__scan_text(text, path, s->incdir, s->depth + 1, s->err, s->errlen);
    free(text);
    return rc;
}

static int conf__scan_step(conf_scan *s)
{
    const char *p = s->p;

    if (conf__skip_noise(s))
        return 0;
    if (isalpha((unsigned char)*p) || *p == '*') {
        while (conf__name_char(*s->p))
            s->p++;
        if (p > s->text && p[-1] == '@' && s->p - p == 7 && memcmp(p, "include", 7) == 0)
            return conf__scan_include(s);
        return 0;
    }
    if (isdigit((unsigned char)*p) || ((*p == '-' || *p == '+') && isdigit((unsigned char)p[1])))
        return conf__scan_number(s);
    s->line += *p == '\n';
    s->p++;
    return 0;
}

static int conf__scan_text(const char *text, const char *name, const char *incdir,
                           int depth, char *err, size_t errlen)
{
    conf_scan s = { .text = text, .p = text, .name = name, .incdir = incdir, .line = 1,
                    .depth = depth, .err = err, .errlen = errlen };
    int rc = 0;

    while (*s.p && rc == 0)
        rc = conf__scan_step(&s);
    return rc;
}

int conf__scan_ints(const char *text, const char *name, const char *incdir,
                    char *err, size_t errlen)
{
    return conf__scan_text(text, name, incdir, 0, err, errlen);
}
