/*
 * reg_path.c - znode path rules.
 *
 * ZooKeeper's PathUtils.validatePath works on Java chars (UTF-16 units) of
 * the decoded path: it must start with "/", have no empty, "." or ".."
 * component, no trailing "/", and no NUL, C0/C1 control, surrogate or
 * private-use (U+D800..U+F8FF) or U+FFF0..U+FFFF character. We get UTF-8
 * bytes, so malformed UTF-8 (which Java decodes to U+FFFD) and anything
 * beyond the BMP (a surrogate pair in Java) are rejected as well. A
 * sequential create is checked as if its suffix were already there, which
 * is what lets "/queue/" or "/queue/." take a sequence number.
 */
#include <string.h>

#include "reg_internal.h"

static bool cp_ok(uint32_t c)
{
    if (c <= 0x1f || (c >= 0x7f && c <= 0x9f))
        return false;
    if (c >= 0xd800 && c <= 0xf8ff)
        return false;
    return c < 0xfff0;
}

/* Decodes one UTF-8 character at s (n bytes left); 0 if malformed. */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t len;
    uint32_t c = s[0], min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if ((c & 0xe0) == 0xc0) {
        len = 2, c &= 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3, c &= 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4, c &= 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff)
        return 0;
    *cp = c;
    return len;
}

static bool chars_ok(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = utf8_next(u + i, n - i, &cp);
        if (k == 0 || !cp_ok(cp))
            return false;
        i += k;
    }
    return true;
}

static bool component_ok(const char *s, size_t n, bool extended)
{
    if (!extended) {
        if (n == 0)
            return false;
        if (s[0] == '.' && (n == 1 || (n == 2 && s[1] == '.')))
            return false;
    }
    return chars_ok(s, n);
}

bool reg__name_ok(const char *name, size_t len)
{
    return !memchr(name, '/', len) && component_ok(name, len, false);
}

bool reg__path_ok(const char *path, size_t len, bool seq)
{
    if (!path || len == 0 || path[0] != '/')
        return false;
    if (len == 1)
        return true;
    size_t i = 1;
    for (;;) {
        const char *slash = memchr(path + i, '/', len - i);
        size_t end = slash ? (size_t)(slash - path) : len;
        bool last = !slash;
        if (!component_ok(path + i, end - i, last && seq))
            return false;
        if (last)
            return true;
        i = end + 1;
    }
}

size_t reg__parent_len(const char *path, size_t len)
{
    if (len <= 1)
        return 0;
    size_t i = len - 1;
    while (i > 0 && path[i] != '/')
        i--;
    return i == 0 ? 1 : i;
}

bool reg__path_special(const char *path)
{
    return strcmp(path, "/") == 0 || strcmp(path, "/zookeeper") == 0 ||
           strcmp(path, "/zookeeper/quota") == 0 ||
           strcmp(path, "/zookeeper/config") == 0;
}

int reg_path_validate(const reg_t *reg, const char *path, bool sequential)
{
    if (!path)
        return REG_EBADARGUMENTS;
    size_t len = strlen(path);
    if (reg && len > reg->cfg.max_path_bytes)
        return REG_EBADARGUMENTS;
    return reg__path_ok(path, len, sequential) ? 0 : REG_EBADARGUMENTS;
}
