/*
 * dns_record.c - what counts as a member: node data -> dns_member.
 *
 * Four formats are recognised, and anything else is simply not a member
 * (never an error):
 *   - zonekeeper's / Apache Curator's ServiceInstance JSON: an object with a
 *     string "address"; "port" (or "sslPort" when port is null/absent);
 *     "enabled": false hides the member; weight, priority and txt come from
 *     "payload" ({"weight":N,"priority":N,"txt":{"k":"v"}}) when it is an
 *     object (Curator's typed payloads are objects too).
 *   - a Finagle serverset record: {"serviceEndpoint":{"host":..,"port":..},
 *     "status":"ALIVE"}; a status other than ALIVE hides it (no status at all
 *     counts as ALIVE).
 *   - plain text "host", "host:port", "[v6]:port" or a bare IPv6 address,
 *     surrounding whitespace (a trailing newline) ignored.
 * An address is an IPv4 or IPv6 literal or a host name (letters, digits,
 * '-', '_', labels of 1-63 bytes, not all digits and dots); the name of a
 * host becomes an absolute DNS name. Weight and priority default to 1 and 0
 * and are clamped to 0..65535. TXT pairs are pre-encoded here, once per
 * parse, as the TXT rdata ("key=value" strings; strings over 255 bytes are
 * skipped; a null value gives a bare "key", RFC 6763 section 6.4).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dns_int.h"

#define MAX_ADDR_TEXT 260

void dns__member_clear(dns_member *m)
{
    free(m->name);
    free(m->txt);
    memset(m, 0, sizeof(*m));
}

/* ---- addresses ----------------------------------------------------------- */

static bool rec__host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

/* Encodes a host name as a wire name; false if it is not one. */
static bool rec__hostname(const char *s, size_t n, dns_member *m)
{
    if (n > 0 && s[n - 1] == '.')
        n--;
    if (n == 0 || n > 253 || strspn(s, "0123456789.") >= n)
        return false;
    size_t pos = 0, start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.') {
            if (!rec__host_char(s[i]))
                return false;
            continue;
        }
        if (dns__name_push(m->host, &pos, s + start, i - start) < 0)
            return false;
        start = i + 1;
    }
    m->host[pos++] = 0;
    m->hostlen = (uint8_t)pos;
    m->kind = DNS_ADDR_HOST;
    return true;
}

/* Sets m's address from the n bytes at s: an IP literal or a host name. */
static bool rec__address(const char *s, size_t n, dns_member *m)
{
    char buf[MAX_ADDR_TEXT];
    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (strlen(buf) != n)
        return false; /* an embedded NUL */
    if (inet_pton(AF_INET, buf, m->addr) == 1) {
        m->kind = DNS_ADDR_V4;
        return true;
    }
    if (inet_pton(AF_INET6, buf, m->addr) == 1) {
        m->kind = DNS_ADDR_V6;
        return true;
    }
    return rec__hostname(buf, n, m);
}

/* Parses a decimal port of 1-5 digits (0..65535). */
static bool rec__port(const char *s, size_t n, uint16_t *port)
{
    if (n == 0 || n > 5)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

/* ---- plain text ----------------------------------------------------------- */

static bool rec__space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* "[v6]" or "[v6]:port" (s starts with '['). */
static bool rec__text_bracket(const char *s, size_t n, dns_member *m)
{
    const char *close = memchr(s, ']', n);
    if (close == NULL)
        return false;
    size_t alen = (size_t)(close - s) - 1, rest = n - alen - 2;
    if (!rec__address(s + 1, alen, m) || m->kind != DNS_ADDR_V6)
        return false;
    if (rest == 0)
        return true;
    return close[1] == ':' && rec__port(close + 2, rest - 1, &m->port);
}

static int rec__parse_text(const char *s, size_t n, dns_member *m)
{
    while (n > 0 && rec__space(s[n - 1]))
        n--;
    while (n > 0 && rec__space(s[0])) {
        s++;
        n--;
    }
    if (n == 0)
        return 0;
    if (s[0] == '[')
        return rec__text_bracket(s, n, m) ? 1 : 0;
    const char *colon = memchr(s, ':', n);
    if (colon == NULL || memchr(colon + 1, ':', n - (size_t)(colon - s) - 1) != NULL)
        return rec__address(s, n, m) ? 1 : 0; /* no port, or a bare IPv6 */
    size_t hlen = (size_t)(colon - s);
    if (!rec__port(colon + 1, n - hlen - 1, &m->port) || !rec__address(s, hlen, m))
        return 0;
    return 1;
}

/* ---- JSON ----------------------------------------------------------------- */

/* An integer member of obj within 0..65535, else def. */
static uint16_t rec__json_u16(json_t *obj, const char *key, uint16_t def)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v))
        return def;
    json_int_t i = json_integer_value(v);
    return (uint16_t)(i < 0 ? 0 : i > 65535 ? 65535 : i);
}

static bool rec__json_port(json_t *obj, const char *key, uint16_t *port)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v))
        return false;
    json_int_t i = json_integer_value(v);
    if (i < 0 || i > 65535)
        return false;
    *port = (uint16_t)i;
    return true;
}

static bool rec__json_address(json_t *v, dns_member *m)
{
    if (!json_is_string(v))
        return false;
    return rec__address(json_string_value(v), json_string_length(v), m);
}

/* Appends one TXT string "key[=value]" to m->txt. */
static int rec__txt_add(dns_member *m, const char *key, const char *val, size_t vlen)
{
    size_t klen = strlen(key), slen = klen + (val ? 1 + vlen : 0);
    if (klen == 0 || slen > 255)
        return 0;
    uint8_t *p = realloc(m->txt, m->txtlen + 1 + slen);
    if (p == NULL)
        return -ENOMEM;
    m->txt = p;
    p += m->txtlen;
    *p++ = (uint8_t)slen;
    memcpy(p, key, klen);
    if (val) {
        p[klen] = '=';
        memcpy(p + klen + 1, val, vlen);
    }
    m->txtlen += 1 + slen;
    return 0;
}

/* A TXT value as text: strings as they are, other scalars in JSON. */
static int rec__txt_value(dns_member *m, const char *key, json_t *v)
{
    if (json_is_null(v))
        return rec__txt_add(m, key, NULL, 0);
    if (json_is_string(v))
        return rec__txt_add(m, key, json_string_value(v), json_string_length(v));
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    if (s == NULL)
        return -ENOMEM;
    int rc = rec__txt_add(m, key, s, strlen(s));
    free(s);
    return rc;
}

static int rec__payload(json_t *payload, dns_member *m)
{
    if (!json_is_object(payload))
        return 0;
    m->weight = rec__json_u16(payload, "weight", m->weight);
    m->priority = rec__json_u16(payload, "priority", m->priority);
    json_t *txt = json_object_get(payload, "txt");
    if (!json_is_object(txt))
        return 0;
    const char *key;
    json_t *v;
    json_object_foreach(txt, key, v) {
        int rc = rec__txt_value(m, key, v);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Curator ServiceInstance / zonekeeper JSON. */
static int rec__curator(json_t *root, dns_member *m)
{
    if (json_is_false(json_object_get(root, "enabled")))
        return 0;
    if (!rec__json_address(json_object_get(root, "address"), m))
        return 0;
    if (!rec__json_port(root, "port", &m->port))
        (void)rec__json_port(root, "sslPort", &m->port);
    int rc = rec__payload(json_object_get(root, "payload"), m);
    return rc < 0 ? rc : 1;
}

/* Finagle serverset ServiceInstance. */
static int rec__finagle(json_t *root, dns_member *m)
{
    json_t *ep = json_object_get(root, "serviceEndpoint");
    json_t *status = json_object_get(root, "status");
    if (status != NULL && !(json_is_string(status) &&
                            strcmp(json_string_value(status), "ALIVE") == 0))
        return 0;
    if (!json_is_object(ep) || !rec__json_address(json_object_get(ep, "host"), m))
        return 0;
    (void)rec__json_port(ep, "port", &m->port);
    return 1;
}

static int rec__parse_json(const char *s, size_t n, dns_member *m)
{
    json_t *root = json_loadb(s, n, 0, NULL);
    if (root == NULL)
        return 0;
    int rc = 0;
    if (json_is_object(root)) {
        if (json_object_get(root, "serviceEndpoint") != NULL)
            rc = rec__finagle(root, m);
        else if (json_object_get(root, "address") != NULL)
            rc = rec__curator(root, m);
    }
    json_decref(root);
    return rc;
}

int dns__member_parse(const void *data, size_t len, dns_member *m)
{
    memset(m, 0, sizeof(*m));
    m->weight = 1;
    if (data == NULL || len == 0)
        return 0;
    const char *s = data;
    size_t i = 0;
    while (i < len && rec__space(s[i]))
        i++;
    int rc = (i < len && s[i] == '{') ? rec__parse_json(s, len, m)
                                      : rec__parse_text(s, len, m);
    if (rc <= 0) {
        dns__member_clear(m);
        m->weight = 1;
    }
    return rc;
}
