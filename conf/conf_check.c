/*
 * conf_check.c - validators of string values: addresses, DNS names, znode
 * paths and the ZooKeeper connection string.
 *
 * Each validator takes a heap string (it may replace it with a normalised
 * one) and returns 0, or -EINVAL with a short reason that conf_load.c puts
 * after "FILE:LINE: key: "value": ". Addresses are numeric only: the
 * daemon binds before it could resolve names, and a listen address that
 * depends on DNS would be a loop for a DNS server. conf_addr_parse is
 * public so the daemon turns the same strings into sockets.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conf_int.h"

#define CONF_DNS_LABEL_MAX 63
#define CONF_DNS_NAME_MAX 253 /* presentation form without the final dot */

__attribute__((format(printf, 3, 4)))
static int conf__why(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;

    if (why && whylen) {
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* "0".."65535" (min_port 0 or 1) into *port. */
static int conf__port(const char *s, int min_port, uint16_t *port, char *why, size_t whylen)
{
    unsigned long v;
    size_t n = strlen(s);

    if (n == 0)
        return conf__why(why, whylen, "missing port");
    if (n > 5 || strspn(s, "0123456789") != n)
        return conf__why(why, whylen, "port must be %d-65535", min_port);
    v = strtoul(s, NULL, 10);
    if (v > 65535 || v < (unsigned long)min_port)
        return conf__why(why, whylen, "port must be %d-65535", min_port);
    *port = (uint16_t)v;
    return 0;
}

static int conf__host(const char *host, size_t len, int family, conf_addr *out,
                      char *why, size_t whylen)
{
    unsigned char bin[16];

    if (len >= sizeof(out->host))
        return conf__why(why, whylen, "host is too long");
    memcpy(out->host, host, len);
    out->host[len] = '\0';
    out->family = family;
    if (inet_pton(family, out->host, bin) == 1)
        return 0;
    if (family == AF_INET6)
        return conf__why(why, whylen, "\"%s\" is not an IPv6 address", out->host);
    if (memchr(out->host, ':', len))
        return conf__why(why, whylen, "an IPv6 address goes in brackets, as in [::1]:53");
    return conf__why(why, whylen, "host must be an IPv4 address or a bracketed IPv6 address");
}

/* "[V6]" or "[V6]:PORT" (port_needed: the port is required). */
static int conf__bracketed(const char *s, int port_needed, int min_port, conf_addr *out,
                           char *why, size_t whylen)
{
    const char *end = strchr(s, ']');

    if (!end)
        return conf__why(why, whylen, "missing ]");
    if (conf__host(s + 1, (size_t)(end - s - 1), AF_INET6, out, why, whylen) < 0)
        return -EINVAL;
    if (end[1] == '\0' && !port_needed)
        return 0;
    if (end[1] != ':')
        return conf__why(why, whylen, "expected :PORT after ]");
    return conf__port(end + 2, min_port, &out->port, why, whylen);
}

/* "IPV4:PORT" or "[V6]:PORT". */
static int conf__hostport(const char *s, conf_addr *out, char *why, size_t whylen)
{
    const char *colon;

    if (s[0] == '[')
        return conf__bracketed(s, 1, 0, out, why, whylen);
    colon = strrchr(s, ':');
    if (!colon)
        return conf__why(why, whylen, "expected HOST:PORT");
    if (conf__host(s, (size_t)(colon - s), AF_INET, out, why, whylen) < 0)
        return -EINVAL;
    return conf__port(colon + 1, 0, &out->port, why, whylen);
}

/* "IP", "IP:PORT", "V6", "[V6]", "[V6]:PORT"; port 53 unless given. */
static int conf__upstream(const char *s, conf_addr *out, char *why, size_t whylen)
{
    const char *colon = strchr(s, ':');

    out->port = 53;
    if (s[0] == '[')
        return conf__bracketed(s, 0, 1, out, why, whylen);
    if (colon && strchr(colon + 1, ':'))
        return conf__host(s, strlen(s), AF_INET6, out, why, whylen);
    if (conf__host(s, colon ? (size_t)(colon - s) : strlen(s), AF_INET, out, why, whylen) < 0)
        return -EINVAL;
    return colon ? conf__port(colon + 1, 1, &out->port, why, whylen) : 0;
}

static int conf__client(const char *s, conf_addr *out, char *why, size_t whylen)
{
    if (strncmp(s, "tcp:", 4) == 0)
        return conf__hostport(s + 4, out, why, whylen);
    if (strncmp(s, "unix:", 5) != 0)
        return conf__why(why, whylen, "expected unix:PATH or tcp:HOST:PORT");
    out->family = AF_UNIX;
    if (s[5] == '\0')
        return conf__why(why, whylen, "empty socket path");
    if (strlen(s + 5) >= sizeof(out->path))
        return conf__why(why, whylen, "socket path longer than %zu bytes",
                         sizeof(out->path) - 1);
    strcpy(out->path, s + 5);
    return 0;
}

int conf_addr_parse(const char *text, int kind, conf_addr *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof(*out));
    switch (kind) {
    case CONF_ADDR_INET:
        return conf__hostport(text, out, why, whylen);
    case CONF_ADDR_CLIENT:
        return conf__client(text, out, why, whylen);
    case CONF_ADDR_UPSTREAM:
        return conf__upstream(text, out, why, whylen);
    default:
        return conf__why(why, whylen, "unknown address kind %d", kind);
    }
}

int conf_check_inet(char **value, char *why, size_t whylen)
{
    conf_addr a;
    return conf_addr_parse(*value, CONF_ADDR_INET, &a, why, whylen);
}

int conf_check_client(char **value, char *why, size_t whylen)
{
    conf_addr a;
    return conf_addr_parse(*value, CONF_ADDR_CLIENT, &a, why, whylen);
}

int conf_check_upstream(char **value, char *why, size_t whylen)
{
    conf_addr a;
    return conf_addr_parse(*value, CONF_ADDR_UPSTREAM, &a, why, whylen);
}

int conf_check_nonempty(char **value, char *why, size_t whylen)
{
    return **value ? 0 : conf__why(why, whylen, "must not be empty");
}

/* ---- DNS names ---- */

static int conf__label(const char *p, size_t n, char *why, size_t whylen)
{
    if (n == 0)
        return conf__why(why, whylen, "empty label");
    if (n > CONF_DNS_LABEL_MAX)
        return conf__why(why, whylen, "label longer than %d bytes", CONF_DNS_LABEL_MAX);
    if (p[0] == '-' || p[n - 1] == '-')
        return conf__why(why, whylen, "a label must not start or end with '-'");
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)p[i]) && p[i] != '-' && p[i] != '_')
            return conf__why(why, whylen, "bad character in a label (letters, digits, "
                             "'-' and '_' only)");
    return 0;
}

/* Lower-cases *value and appends the final dot when missing. */
static int conf__canon_domain(char **value)
{
    size_t n = strlen(*value);
    char *s = *value;

    if (s[n - 1] != '.') {
        s = realloc(s, n + 2);
        if (!s)
            return -ENOMEM;
        s[n] = '.';
        s[n + 1] = '\0';
        *value = s;
    }
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
    return 0;
}

int conf_check_domain(char **value, char *why, size_t whylen)
{
    const char *p = *value;
    size_t n = strlen(p);

    if (n == 0)
        return conf__why(why, whylen, "must not be empty");
    if (strcmp(p, ".") == 0)
        return conf__why(why, whylen, "must not be the root zone");
    if (p[n - 1] == '.')
        n--;
    if (n > CONF_DNS_NAME_MAX)
        return conf__why(why, whylen, "name longer than %d bytes", CONF_DNS_NAME_MAX);
    for (size_t start = 0; start <= n;) {
        const char *dot = memchr(p + start, '.', n - start);
        size_t len = dot ? (size_t)(dot - p) - start : n - start;
        if (conf__label(p + start, len, why, whylen) < 0)
            return -EINVAL;
        start += len + 1;
    }
    return conf__canon_domain(value);
}

/* ---- znode paths ---- */

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t conf__utf8_len(const unsigned char *p, size_t n)
{
    size_t len = p[0] < 0x80 ? 1 : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4
               : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 && p[0] < 0xe0 ? 2 : 0;

    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((len == 3 && p[0] == 0xe0 && p[1] < 0xa0) || (len == 4 && p[0] == 0xf0 && p[1] < 0x90)
        || (len == 4 && p[0] == 0xf4 && p[1] >= 0x90) || (len == 3 && p[0] == 0xed && p[1] >= 0xa0))
        return 0; /* overlong, beyond U+10FFFF, or a surrogate */
    return len;
}

static int conf__path_bytes(const char *path, char *why, size_t whylen)
{
    const unsigned char *p = (const unsigned char *)path;
    size_t n = strlen(path);

    for (size_t i = 0; i < n;) {
        size_t len = conf__utf8_len(p + i, n - i);
        if (len == 0)
            return conf__why(why, whylen, "not valid UTF-8");
        if (p[i] < 0x20 || p[i] == 0x7f)
            return conf__why(why, whylen, "contains a control character");
        i += len;
    }
    return 0;
}

static int conf__path_components(const char *path, char *why, size_t whylen)
{
    const char *p = path + 1;

    while (*p) {
        size_t len = strcspn(p, "/");
        if (len == 0)
            return conf__why(why, whylen, p[0] ? "empty path component" : "ends with /");
        if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
            return conf__why(why, whylen, "'.' and '..' are not path components");
        p += len;
        if (*p == '/' && p[1] == '\0')
            return conf__why(why, whylen, "must not end with /");
        p += *p == '/';
    }
    return 0;
}

int conf_check_zkpath(char **value, char *why, size_t whylen)
{
    const char *p = *value;

    if (p[0] != '/')
        return conf__why(why, whylen, "must be an absolute path (start with /)");
    if (strcmp(p, "/") == 0)
        return 0;
    if (conf__path_bytes(p, why, whylen) < 0)
        return -EINVAL;
    return conf__path_components(p, why, whylen);
}

/* ---- registry.servers: "host:port,host:port[/chroot]" ---- */

static int conf__server(const char *s, size_t n, char *why, size_t whylen)
{
    char buf[300], *colon;
    uint16_t port;

    if (n == 0)
        return conf__why(why, whylen, "empty server entry");
    if (n >= sizeof(buf))
        return conf__why(why, whylen, "server entry too long");
    memcpy(buf, s, n);
    buf[n] = '\0';
    colon = strrchr(buf, ':');
    if (!colon || colon == buf || (buf[0] == '[' && colon[-1] != ']'))
        return conf__why(why, whylen, "each server must be HOST:PORT");
    for (const char *h = buf; h < colon; h++)
        if (!isalnum((unsigned char)*h) && !strchr(".-_[]:", *h))
            return conf__why(why, whylen, "bad character in a server host name");
    *colon = '\0';
    return conf__port(colon + 1, 1, &port, why, whylen);
}

int conf_check_servers(char **value, char *why, size_t whylen)
{
    const char *s = *value;
    const char *chroot = strchr(s, '/');
    size_t end = chroot ? (size_t)(chroot - s) : strlen(s);
    char *root;
    int rc = 0;

    if (*s == '\0')
        return 0; /* only backend "zookeeper" needs servers: a cross-key check */
    for (size_t start = 0; start <= end && rc == 0;) {
        size_t len = strcspn(s + start, ",/");
        rc = conf__server(s + start, len, why, whylen);
        start += len + 1;
    }
    if (rc < 0 || !chroot)
        return rc;
    root = strdup(chroot);
    if (!root)
        return -ENOMEM;
    rc = conf_check_zkpath(&root, why, whylen);
    free(root);
    return rc;
}
