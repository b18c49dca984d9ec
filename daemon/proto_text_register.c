/*
 * proto_text_register.c - REGISTER and DEREGISTER: service members as
 * ephemeral znodes <dns_root>/<service>/<id> holding Curator-compatible JSON.
 *
 * REGISTER validates everything first (service and id are DNS labels, the
 * address is IPv4, IPv6 or a host name, port 1-65535, weight and priority
 * 0-65535, tags and txt pairs fit a DNS TXT string and are UTF-8), then
 * builds the member's path and JSON in the session's scratch buffer and hands
 * an EPHEMERAL|PARENTS create to the pipeline, so the group node appears if
 * missing and the member disappears with the connection's session.
 *
 * IP addresses are stored in the canonical text form (inet_ntop); host names
 * as given. The default id is derived from the address and port so that it
 * is always a valid DNS label ([a-z0-9-], 1-63 bytes, alphanumeric at both
 * ends): the address lower-cased with '.' and ':' turned into '-', a "0"
 * added where an IPv6 form begins or ends with "::", then "-<port>"
 * (10.0.0.5:8080 -> 10-0-0-5-8080, 2001:db8::1 -> 2001-db8--1-8080,
 * ::1 -> 0--1-8080, Api.Example.com:443 -> api-example-com-443). When that
 * is longer than 63 bytes the address part is cut and followed by '-' and
 * the FNV-1a hash (8 hex digits) of the whole address part.
 *
 * The JSON is written by hand (this library must not depend on jansson):
 * strings are escaped as RFC 8259 requires; inputs are checked to be UTF-8
 * without NUL first, so the output is always valid JSON.
 */
#include "text_internal.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MEMBER_ADDR_MAX 254  /* a host name is at most 253 bytes */
#define MEMBER_TXT_MAX 255   /* one DNS character-string */

typedef struct member {
    const txt_tok *service;
    char address[MEMBER_ADDR_MAX + 1];
    long long port;
    char id[64];
    bool has_id;
    long long weight;
    long long priority;
    bool has_weight;
    bool has_priority;
} member;

/* ---- validation --------------------------------------------------------- */

static bool member__alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A service name or member id: 1-63 of [A-Za-z0-9_-], alphanumeric at both
 * ends (so it works as a DNS label and as a path component). */
static bool member__label(const char *p, size_t len)
{
    if (len == 0 || len > 63 || !member__alnum((unsigned char)p[0]) ||
        !member__alnum((unsigned char)p[len - 1]))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!member__alnum((unsigned char)p[i]) && p[i] != '-' && p[i] != '_')
            return false;
    return true;
}

/* RFC 1123 host name without trailing dot; the last label not all digits
 * (so a malformed IPv4 address is not taken for a name). */
static bool member__hostname(const char *p, size_t len)
{
    if (len == 0 || len > 253)
        return false;
    size_t start = 0;
    bool digits = true;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || p[i] == '.') {
            size_t l = i - start;
            if (l == 0 || l > 63 || p[start] == '-' || p[i - 1] == '-')
                return false;
            if (i == len && digits)
                return false;
            start = i + 1;
            digits = true;
            continue;
        }
        if (!member__alnum((unsigned char)p[i]) && p[i] != '-')
            return false;
        digits = digits && p[i] >= '0' && p[i] <= '9';
    }
    return true;
}

/* Strict UTF-8 (no overlong forms, surrogates or values past U+10FFFF), no NUL. */
static bool member__utf8(const unsigned char *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i], cp, min;
        size_t n;
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0) {
            n = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (n >= len - i)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i + k] & 0x3fu);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

/* Stores the canonical form of an IP address, or a valid host name as is. */
static bool member__address(const txt_tok *t, char *dst)
{
    unsigned char bin[16];
    if (t->len > MEMBER_ADDR_MAX || memchr(t->p, '\0', t->len) != NULL)
        return false;
    if (inet_pton(AF_INET, t->p, bin) == 1)
        return inet_ntop(AF_INET, bin, dst, MEMBER_ADDR_MAX + 1) != NULL;
    if (inet_pton(AF_INET6, t->p, bin) == 1)
        return inet_ntop(AF_INET6, bin, dst, MEMBER_ADDR_MAX + 1) != NULL;
    if (!member__hostname(t->p, t->len))
        return false;
    memcpy(dst, t->p, t->len + 1);
    return true;
}

/* Options may be quoted as a whole ("tag=two words"): after the three
 * positional arguments REGISTER takes nothing but options. */
static bool member__opt(const txt_tok *t, const char *prefix, const char **v, size_t *vlen)
{
    txt_tok bare = *t;
    bare.quoted = false;
    return txt_tok_option(&bare, prefix, v, vlen);
}

/* ---- the default id ----------------------------------------------------- */

static uint32_t member__fnv1a(const char *p, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)p[i];
        h *= 16777619u;
    }
    return h;
}

static void member__default_id(member *m)
{
    char base[MEMBER_ADDR_MAX + 3], port[8];
    size_t n = 0, alen = strlen(m->address);
    if (m->address[0] == ':')
        base[n++] = '0';
    for (size_t i = 0; i < alen; i++) {
        char c = m->address[i];
        base[n++] = (c == '.' || c == ':') ? '-'
                    : (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    if (alen > 0 && m->address[alen - 1] == ':')
        base[n++] = '0';
    int plen = snprintf(port, sizeof(port), "%lld", m->port);
    if (n + 1 + (size_t)plen > 63) {
        uint32_t h = member__fnv1a(base, n);
        n = 63 - 1 - 8 - 1 - (size_t)plen;
        while (n > 1 && base[n - 1] == '-')
            n--;
        n += (size_t)snprintf(base + n, sizeof(base) - n, "-%08" PRIx32, h);
    }
    snprintf(m->id, sizeof(m->id), "%.*s-%s", (int)n, base, port);
}

/* ---- options ------------------------------------------------------------ */

static int member__u16(txt_req *r, const txt_tok *t, const char *v, size_t vlen,
                    long long *dst, bool *seen)
{
    if (*seen)
        return txt__bad(r, "duplicate option", t);
    if (!txt__parse_int(v, vlen, 0, 65535, dst))
        return txt__bad(r, "value must be 0-65535", t);
    *seen = true;
    return 0;
}

static int member__opt_id(txt_req *r, member *m, const txt_tok *t, const char *v, size_t vlen)
{
    if (m->has_id)
        return txt__bad(r, "duplicate option", t);
    if (!member__label(v, vlen))
        return txt__bad(r, "id must be a DNS label (1-63 of A-Z a-z 0-9 - _)", t);
    memcpy(m->id, v, vlen);
    m->id[vlen] = '\0';
    m->has_id = true;
    return 0;
}

static int member__opt_tag(txt_req *r, const txt_tok *t, const char *v, size_t vlen)
{
    if (vlen == 0 || vlen > MEMBER_TXT_MAX || !member__utf8((const unsigned char *)v, vlen))
        return txt__bad(r, "tag must be 1-255 bytes of UTF-8 without NUL", t);
    return 0;
}

/* The key of a txt=K=V option: *klen bytes at v; the value follows the '='. */
static bool member__txt_split(const char *v, size_t vlen, size_t *klen)
{
    const char *eq = memchr(v, '=', vlen);
    if (eq == NULL)
        return false;
    *klen = (size_t)(eq - v);
    return true;
}

static bool member__txt_key_ok(const char *k, size_t klen)
{
    if (klen == 0)
        return false;
    for (size_t i = 0; i < klen; i++)
        if (k[i] < 0x20 || k[i] > 0x7e)
            return false;
    return true;
}

/* True if an option before argv[upto] is txt= with the same key (ASCII case
 * ignored, as RFC 6763 compares keys). */
static bool member__txt_dup(txt_req *r, size_t upto, const char *k, size_t klen)
{
    for (size_t i = 4; i < upto; i++) {
        const char *v;
        size_t vlen, ol;
        if (!member__opt(&r->argv[i], "txt=", &v, &vlen) || !member__txt_split(v, vlen, &ol))
            continue;
        if (ol == klen && strncasecmp(v, k, klen) == 0)
            return true;
    }
    return false;
}

static int member__opt_txt(txt_req *r, size_t i, const char *v, size_t vlen)
{
    const txt_tok *t = &r->argv[i];
    size_t klen;
    if (!member__txt_split(v, vlen, &klen) || !member__txt_key_ok(v, klen))
        return txt__bad(r, "txt must be K=V with K printable ASCII", t);
    if (vlen > MEMBER_TXT_MAX || !member__utf8((const unsigned char *)v, vlen))
        return txt__bad(r, "txt K=V must be at most 255 bytes of UTF-8 without NUL", t);
    if (member__txt_dup(r, i, v, klen))
        return txt__bad(r, "duplicate txt key", t);
    return 0;
}

static int member__option(txt_req *r, member *m, size_t i)
{
    const txt_tok *t = &r->argv[i];
    const char *v;
    size_t vlen;
    if (member__opt(t, "id=", &v, &vlen))
        return member__opt_id(r, m, t, v, vlen);
    if (member__opt(t, "weight=", &v, &vlen))
        return member__u16(r, t, v, vlen, &m->weight, &m->has_weight);
    if (member__opt(t, "priority=", &v, &vlen))
        return member__u16(r, t, v, vlen, &m->priority, &m->has_priority);
    if (member__opt(t, "tag=", &v, &vlen))
        return member__opt_tag(r, t, v, vlen);
    if (member__opt(t, "txt=", &v, &vlen))
        return member__opt_txt(r, i, v, vlen);
    return txt__bad(r, "unknown REGISTER option", t);
}

static int member__parse(txt_req *r, member *m)
{
    const txt_tok *svc = &r->argv[1];
    m->service = svc;
    m->weight = 1;
    if (!member__label(svc->p, svc->len))
        return txt__bad(r, "service must be a DNS label (1-63 of A-Z a-z 0-9 - _)", svc);
    if (!member__address(&r->argv[2], m->address))
        return txt__bad(r, "address must be IPv4, IPv6 or a host name", &r->argv[2]);
    if (!txt__parse_int(r->argv[3].p, r->argv[3].len, 1, 65535, &m->port))
        return txt__bad(r, "port must be 1-65535", &r->argv[3]);
    for (size_t i = 4; i < r->argc; i++)
        if (member__option(r, m, i) < 0)
            return REG_EBADARGUMENTS;
    if (!m->has_id)
        member__default_id(m);
    return 0;
}

/* ---- JSON --------------------------------------------------------------- */

static int json__escape(zk_buf *b, unsigned char c)
{
    switch (c) {
    case '"': return zk_buf_append(b, "\\\"", 2);
    case '\\': return zk_buf_append(b, "\\\\", 2);
    case '\n': return zk_buf_append(b, "\\n", 2);
    case '\r': return zk_buf_append(b, "\\r", 2);
    case '\t': return zk_buf_append(b, "\\t", 2);
    case '\b': return zk_buf_append(b, "\\b", 2);
    case '\f': return zk_buf_append(b, "\\f", 2);
    default: return zk_buf_printf(b, "\\u%04x", c);
    }
}

/* Appends p as a JSON string; p must be UTF-8 (checked by the caller). */
static int json__str(zk_buf *b, const char *p, size_t len)
{
    int rc = zk_buf_putc(b, '"');
    size_t i = 0;
    while (rc == 0 && i < len) {
        size_t run = i;
        while (run < len && (unsigned char)p[run] >= 0x20 && p[run] != '"' && p[run] != '\\')
            run++;
        rc = zk_buf_append(b, p + i, run - i);
        if (rc == 0 && run < len)
            rc = json__escape(b, (unsigned char)p[run++]);
        i = run;
    }
    return rc == 0 ? zk_buf_putc(b, '"') : rc;
}

static int json__keystr(zk_buf *b, const char *key, const char *p, size_t len)
{
    int rc = zk_buf_printf(b, "\"%s\":", key);
    return rc == 0 ? json__str(b, p, len) : rc;
}

static int json__tags(txt_req *r, zk_buf *b)
{
    int rc = zk_buf_append(b, "\"tags\":[", 8);
    bool first = true;
    for (size_t i = 4; i < r->argc && rc == 0; i++) {
        const char *v;
        size_t vlen;
        if (!member__opt(&r->argv[i], "tag=", &v, &vlen))
            continue;
        rc = first ? 0 : zk_buf_putc(b, ',');
        if (rc == 0)
            rc = json__str(b, v, vlen);
        first = false;
    }
    return rc == 0 ? zk_buf_putc(b, ']') : rc;
}

static int json__txt(txt_req *r, zk_buf *b)
{
    int rc = zk_buf_append(b, "\"txt\":{", 7);
    bool first = true;
    for (size_t i = 4; i < r->argc && rc == 0; i++) {
        const char *v;
        size_t vlen, klen;
        if (!member__opt(&r->argv[i], "txt=", &v, &vlen) || !member__txt_split(v, vlen, &klen))
            continue;
        rc = first ? 0 : zk_buf_putc(b, ',');
        if (rc == 0)
            rc = json__str(b, v, klen);
        if (rc == 0)
            rc = zk_buf_putc(b, ':');
        if (rc == 0)
            rc = json__str(b, v + klen + 1, vlen - klen - 1);
        first = false;
    }
    return rc == 0 ? zk_buf_putc(b, '}') : rc;
}

/* Curator's ServiceInstance as serialized by its JsonInstanceSerializer. */
static int json__member(txt_req *r, const member *m, zk_buf *b)
{
    int rc = zk_buf_putc(b, '{');
    if (rc == 0)
        rc = json__keystr(b, "name", m->service->p, m->service->len);
    if (rc == 0)
        rc = zk_buf_putc(b, ',');
    if (rc == 0)
        rc = json__keystr(b, "id", m->id, strlen(m->id));
    if (rc == 0)
        rc = zk_buf_putc(b, ',');
    if (rc == 0)
        rc = json__keystr(b, "address", m->address, strlen(m->address));
    if (rc == 0)
        rc = zk_buf_printf(b, ",\"port\":%lld,\"sslPort\":null,\"payload\":"
                              "{\"weight\":%lld,\"priority\":%lld,",
                           m->port, m->weight, m->priority);
    if (rc == 0)
        rc = json__tags(r, b);
    if (rc == 0)
        rc = zk_buf_putc(b, ',');
    if (rc == 0)
        rc = json__txt(r, b);
    if (rc == 0)
        rc = zk_buf_printf(b, "},\"registrationTimeUTC\":%" PRId64 ",\"serviceType\":"
                              "\"DYNAMIC\",\"uriSpec\":null}",
                           r->now_ms);
    return rc;
}

/* ---- the verbs ---------------------------------------------------------- */

/* Writes "<root>/<service>/<id>" and a NUL into the scratch buffer. */
static int member__member_path(txt_req *r, const char *service, size_t slen, const char *id)
{
    const char *root = r->s->dns_root;
    const char *sep = strcmp(root, "/") == 0 ? "" : root;
    int rc = zk_buf_printf(&r->s->scratch, "%s/%.*s/%s", sep, (int)slen, service, id);
    if (rc == 0)
        rc = zk_buf_putc(&r->s->scratch, '\0');
    if (rc < 0)
        return txt__err(r, rc);
    if (reg_path_validate(r->s->reg, r->s->scratch.data, false) != 0)
        return txt__bad(r, "the configured DNS root does not make a valid path", NULL);
    return 0;
}

int txt__cmd_register(txt_req *r)
{
    member m = {0};
    if (member__parse(r, &m) < 0)
        return REG_EBADARGUMENTS;
    zk_buf *b = &r->s->scratch;
    int rc = member__member_path(r, m.service->p, m.service->len, m.id);
    if (rc < 0)
        return rc;
    size_t json_off = b->len;
    rc = json__member(r, &m, b);
    if (rc < 0)
        return txt__err(r, rc);
    r->op.type = REG_OP_CREATE;
    r->op.create_flags = REG_CREATE_EPHEMERAL | REG_CREATE_PARENTS;
    r->op.path = b->data;
    r->op.data = b->data + json_off;
    r->op.data_len = b->len - json_off;
    return 0;
}

int txt__cmd_deregister(txt_req *r)
{
    const txt_tok *svc = &r->argv[1], *id = &r->argv[2];
    if (!member__label(svc->p, svc->len))
        return txt__bad(r, "service must be a DNS label (1-63 of A-Z a-z 0-9 - _)", svc);
    if (!member__label(id->p, id->len))
        return txt__bad(r, "id must be a DNS label (1-63 of A-Z a-z 0-9 - _)", id);
    int rc = member__member_path(r, svc->p, svc->len, id->p);
    if (rc < 0)
        return rc;
    r->op.type = REG_OP_DELETE;
    r->op.path = r->s->scratch.data;
    r->op.version = -1;
    return 0;
}
