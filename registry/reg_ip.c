/*
 * reg_ip.c - the "ip" ACL scheme (ZooKeeper's IPAuthenticationProvider).
 *
 * An ACL id is an address with an optional prefix length, "10.0.0.0/8" or
 * "127.0.0.1"; a session's "ip" identity is a plain address. IPv4 parts are
 * read as Java's Integer.parseInt would (optional sign, decimal digits,
 * 0..255); IPv6 is accepted too, through inet_pton. Matching compares the
 * first `bits` bits of both addresses, which must be of the same family.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "reg_internal.h"

/* Java Integer.parseInt on s[0..n), limited to values below 100000. */
static bool parse_int(const char *s, size_t n, long *out)
{
    size_t i = 0;
    bool neg = false;
    if (n > 0 && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n || n - i > 5)
        return false;
    long v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = neg ? -v : v;
    return true;
}

static bool v4_parse(const char *s, size_t n, uint8_t out[4])
{
    size_t start = 0, part = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.')
            continue;
        long v;
        if (part == 4 || !parse_int(s + start, i - start, &v) || v < 0 || v > 255)
            return false;
        out[part++] = (uint8_t)v;
        start = i + 1;
    }
    return part == 4;
}

/* Parses an address of n bytes; returns its length in bytes (4 or 16) or 0. */
static size_t addr_parse(const char *s, size_t n, uint8_t out[16])
{
    if (memchr(s, ':', n)) {
        char buf[64];
        if (n >= sizeof(buf))
            return 0;
        memcpy(buf, s, n);
        buf[n] = '\0';
        return inet_pton(AF_INET6, buf, out) == 1 ? 16 : 0;
    }
    return v4_parse(s, n, out) ? 4 : 0;
}

/* Splits "addr[/bits]"; bits defaults to the full length. */
static size_t expr_parse(const char *expr, uint8_t addr[16], long *bits)
{
    const char *slash = strchr(expr, '/');
    size_t alen = slash ? (size_t)(slash - expr) : strlen(expr);
    size_t len = addr_parse(expr, alen, addr);
    if (len == 0)
        return 0;
    *bits = (long)len * 8;
    if (slash && (!parse_int(slash + 1, strlen(slash + 1), bits) || *bits < 0 ||
                  *bits > (long)len * 8))
        return 0;
    return len;
}

bool reg__ip_valid(const char *expr)
{
    uint8_t addr[16];
    long bits;
    return expr && expr_parse(expr, addr, &bits) != 0;
}

bool reg__ip_match(const char *addr, const char *expr)
{
    uint8_t a[16], e[16];
    long bits;
    size_t elen = expr_parse(expr, e, &bits);
    size_t alen = addr_parse(addr, strlen(addr), a);
    if (elen == 0 || alen != elen)
        return false;
    for (long i = 0; i < bits; i++) {
        uint8_t mask = (uint8_t)(0x80u >> (i % 8));
        if ((a[i / 8] & mask) != (e[i / 8] & mask))
            return false;
    }
    return true;
}
