/*
 * conf_load.c - libconfig text into a zk_conf, checked against the schema.
 *
 * The file is read into memory, scanned for integer literals libconfig
 * 1.5 would wrap (conf_scan.c), and parsed by libconfig. Then one walk
 * visits every setting: a dotted name with a schema row is converted and
 * validated by the row's kind and check; a group whose name prefixes some
 * row is descended into; anything else is an unknown key. The first error
 * stops the load and is reported as "FILE:LINE: reason", FILE being the
 * file the setting came from (included files keep their own name). Keys
 * that depend on each other are checked last. Everything is built in a
 * fresh struct that replaces the caller's only on success.
 */
#include <errno.h>
#include <inttypes.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "conf_int.h"

#define CONF_MAX_FILE (16u << 20)
#define CONF_MAX_NAME 128

typedef struct conf_ctx {
    zk_conf *conf;
    const char *name;       /* file name for messages */
    char *err;
    size_t errlen;
    unsigned line[64];      /* per schema row: where it was set, 0 = default */
    const char *file[64];
} conf_ctx;

_Static_assert(sizeof(conf_log_level) == sizeof(uint32_t), "log level is stored as 32 bits");

static const char *conf__file_of(const conf_ctx *c, const config_setting_t *s)
{
    const char *f = s ? config_setting_source_file(s) : NULL;
    return f ? f : c->name;
}

__attribute__((format(printf, 4, 5)))
static int conf__fail(conf_ctx *c, const char *file, unsigned line, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(c->err, c->errlen, "%s:%u: ", file, line);

    if (n >= 0 && (size_t)n < c->errlen) {
        va_start(ap, fmt);
        vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

#define CONF_FAIL_AT(c, s, ...) \
    conf__fail((c), conf__file_of((c), (s)), config_setting_source_line(s), __VA_ARGS__)

static const char *conf__what(const config_setting_t *s)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_GROUP: return "a group";
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64: return "an integer";
    case CONFIG_TYPE_FLOAT: return "a float";
    case CONFIG_TYPE_STRING: return "a string";
    case CONFIG_TYPE_BOOL: return "a boolean";
    case CONFIG_TYPE_ARRAY: return "an array";
    case CONFIG_TYPE_LIST: return "a list";
    default: return "nothing";
    }
}

static int conf__type_error(conf_ctx *c, const conf_key *k, const config_setting_t *s,
                            const char *expected)
{
    return CONF_FAIL_AT(c, s, "%s: expected %s, got %s", k->name, expected, conf__what(s));
}

static int conf__apply_int(conf_ctx *c, const conf_key *k, const config_setting_t *s)
{
    int64_t v;

    if (config_setting_type(s) == CONFIG_TYPE_INT)
        v = config_setting_get_int(s);
    else if (config_setting_type(s) == CONFIG_TYPE_INT64)
        v = config_setting_get_int64(s);
    else
        return conf__type_error(c, k, s, "an integer");
    if (v < k->min || v > k->max)
        return CONF_FAIL_AT(c, s, "%s: %" PRId64 " is out of range %" PRId64 "..%" PRId64,
                            k->name, v, k->min, k->max);
    conf__set_int(c->conf, k, v);
    return 0;
}

static int conf__apply_bool(conf_ctx *c, const conf_key *k, const config_setting_t *s)
{
    if (config_setting_type(s) != CONFIG_TYPE_BOOL)
        return conf__type_error(c, k, s, "true or false");
    conf__set_bool(c->conf, k, config_setting_get_bool(s) != 0);
    return 0;
}

static int conf__enum_error(conf_ctx *c, const conf_key *k, const config_setting_t *s)
{
    char list[256] = "";

    for (size_t i = 0; k->values[i]; i++) {
        if (i)
            strncat(list, ", ", sizeof(list) - strlen(list) - 1);
        strncat(list, k->values[i], sizeof(list) - strlen(list) - 1);
    }
    return CONF_FAIL_AT(c, s, "%s: \"%s\" is not one of %s", k->name,
                        config_setting_get_string(s), list);
}

static int conf__apply_enum(conf_ctx *c, const conf_key *k, const config_setting_t *s)
{
    const char *v;
    char *copy;

    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return conf__type_error(c, k, s, "a string");
    v = config_setting_get_string(s);
    for (int i = 0; k->values[i]; i++) {
        if (strcasecmp(k->values[i], v) != 0)
            continue;
        if (k->enum_index) {
            conf__set_int(c->conf, k, i);
            return 0;
        }
        copy = strdup(k->values[i]);
        if (!copy)
            return -ENOMEM;
        conf__set_string(c->conf, k, copy);
        return 0;
    }
    return conf__enum_error(c, k, s);
}

/* A checked heap copy of the string setting s, or NULL (error in c). */
static char *conf__checked_string(conf_ctx *c, const conf_key *k, const config_setting_t *s,
                                  int *rc)
{
    char why[200] = "";
    char *v = strdup(config_setting_get_string(s));

    *rc = v ? 0 : -ENOMEM;
    if (v && k->check)
        *rc = k->check(&v, why, sizeof(why));
    if (*rc == -EINVAL)
        CONF_FAIL_AT(c, s, "%s: \"%s\": %s", k->name, config_setting_get_string(s), why);
    if (*rc < 0) {
        free(v);
        return NULL;
    }
    return v;
}

static int conf__apply_string(conf_ctx *c, const conf_key *k, const config_setting_t *s)
{
    int rc;
    char *v;

    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return conf__type_error(c, k, s, "a string");
    v = conf__checked_string(c, k, s, &rc);
    if (v)
        conf__set_string(c->conf, k, v);
    return rc;
}

static int conf__apply_list(conf_ctx *c, const conf_key *k, const config_setting_t *s)
{
    conf_list *l = conf__list(c->conf, k);
    int n, rc = 0;

    if (config_setting_type(s) != CONFIG_TYPE_ARRAY && config_setting_type(s) != CONFIG_TYPE_LIST)
        return conf__type_error(c, k, s, "a list of strings");
    n = config_setting_length(s);
    if (n > CONF_MAX_LISTEN)
        return CONF_FAIL_AT(c, s, "%s: too many entries (%d, at most %d)", k->name, n,
                            CONF_MAX_LISTEN);
    conf__list_clear(l);
    for (int i = 0; i < n && rc == 0; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return CONF_FAIL_AT(c, e, "%s: expected a list of strings, got %s in it",
                                k->name, conf__what(e));
        l->items[i] = conf__checked_string(c, k, e, &rc);
        l->count += rc == 0;
    }
    return rc;
}

static int conf__apply(conf_ctx *c, const conf_key *k, const config_setting_t *s)
{
    size_t row = (size_t)(k - conf_schema);

    c->line[row] = config_setting_source_line(s);
    c->file[row] = conf__file_of(c, s);
    switch (k->kind) {
    case CONF_K_INT: return conf__apply_int(c, k, s);
    case CONF_K_BOOL: return conf__apply_bool(c, k, s);
    case CONF_K_ENUM: return conf__apply_enum(c, k, s);
    case CONF_K_STRING: return conf__apply_string(c, k, s);
    case CONF_K_LIST: return conf__apply_list(c, k, s);
    }
    return -EINVAL;
}

/* Whether some row's name starts with prefix followed by a dot. */
static bool conf__is_group(const char *prefix)
{
    size_t n = strlen(prefix);

    for (size_t i = 0; i < conf_schema_len; i++)
        if (strncmp(conf_schema[i].name, prefix, n) == 0 && conf_schema[i].name[n] == '.')
            return true;
    return false;
}

static int conf__walk(conf_ctx *c, const config_setting_t *group, const char *prefix);

static int conf__visit(conf_ctx *c, const config_setting_t *s, const char *prefix)
{
    char name[CONF_MAX_NAME];
    const conf_key *k;
    int n = snprintf(name, sizeof(name), "%s%s%s", prefix, *prefix ? "." : "",
                     config_setting_name(s));

    if (n < 0 || (size_t)n >= sizeof(name))
        return CONF_FAIL_AT(c, s, "unknown key %s...", prefix);
    k = conf__key(name);
    if (k)
        return conf__apply(c, k, s);
    if (!conf__is_group(name))
        return CONF_FAIL_AT(c, s, "unknown key %s", name);
    if (config_setting_type(s) != CONFIG_TYPE_GROUP)
        return CONF_FAIL_AT(c, s, "%s: expected a group, got %s", name, conf__what(s));
    return conf__walk(c, s, name);
}

static int conf__walk(conf_ctx *c, const config_setting_t *group, const char *prefix)
{
    int rc = 0;
    int n = config_setting_length(group);

    for (int i = 0; i < n && rc == 0; i++)
        rc = conf__visit(c, config_setting_get_elem(group, (unsigned)i), prefix);
    return rc;
}

static size_t conf__row(const char *name)
{
    return (size_t)(conf__key(name) - conf_schema);
}

/* Checks of keys that depend on each other, after the whole walk. */
static int conf__cross_check(conf_ctx *c)
{
    zk_conf *conf = c->conf;
    size_t b = conf__row("registry.backend");
    size_t lo = conf__row("zookeeper.min_session_timeout_ms");
    size_t hi = conf__row("zookeeper.max_session_timeout_ms");
    size_t at;

    if (strcmp(conf->registry_backend, "zookeeper") == 0 && conf->registry_servers[0] == '\0')
        return conf__fail(c, c->file[b], c->line[b],
                          "registry.servers must be set when registry.backend is \"zookeeper\"");
    conf__derive(conf);
    if (conf->zk_min_session_timeout_ms <= conf->zk_max_session_timeout_ms)
        return 0;
    at = c->line[hi] ? hi : lo;
    return conf__fail(c, c->file[at] ? c->file[at] : c->name, c->line[at],
                      "zookeeper.min_session_timeout_ms (%" PRIu32 ") exceeds "
                      "zookeeper.max_session_timeout_ms (%" PRIu32 ")",
                      conf->zk_min_session_timeout_ms, conf->zk_max_session_timeout_ms);
}

static int conf__parse(conf_ctx *c, const char *text, const char *incdir)
{
    config_t cfg;
    int rc;

    rc = conf__scan_ints(text, c->name, incdir, c->err, c->errlen);
    if (rc < 0)
        return rc;
    config_init(&cfg);
    if (incdir)
        config_set_include_dir(&cfg, incdir);
    if (!config_read_string(&cfg, text)) {
        const char *file = config_error_file(&cfg);
        rc = conf__fail(c, file ? file : c->name, (unsigned)config_error_line(&cfg), "%s",
                        config_error_text(&cfg));
    } else {
        rc = conf__walk(c, config_root_setting(&cfg), "");
        if (rc == 0)
            rc = conf__cross_check(c);
    }
    config_destroy(&cfg);
    return rc;
}

static int conf__load_text(zk_conf *conf, const char *text, const char *name,
                           const char *incdir, char *err, size_t errlen)
{
    zk_conf tmp;
    conf_ctx c = { .conf = &tmp, .name = name, .err = err, .errlen = errlen };
    int rc;

    if (errlen)
        err[0] = '\0';
    memset(conf, 0, sizeof(*conf));
    if (conf_schema_len > sizeof(c.line) / sizeof(c.line[0]))
        return -EINVAL;
    rc = conf__defaults_raw(&tmp);
    if (rc == 0)
        rc = conf__parse(&c, text, incdir);
    if (rc == -ENOMEM && errlen)
        snprintf(err, errlen, "%s: out of memory", name);
    if (rc < 0) {
        conf_free(&tmp);
        return rc;
    }
    *conf = tmp;
    return 0;
}

int conf_load_string(zk_conf *conf, const char *text, const char *name,
                     char *err, size_t errlen)
{
    return conf__load_text(conf, text, name ? name : "(string)", NULL, err, errlen);
}

int conf__slurp(const char *path, char **out)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *buf = NULL;
    int rc = 0;

    if (!f)
        return -errno;
    if (fstat(fileno(f), &st) < 0)
        rc = -errno;
    else if (S_ISDIR(st.st_mode))
        rc = -EISDIR;
    else if (st.st_size > (off_t)CONF_MAX_FILE)
        rc = -EFBIG;
    else if (!(buf = calloc(1, (size_t)st.st_size + 1)))
        rc = -ENOMEM;
    else if (fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size || ferror(f))
        rc = -EIO;
    else if (memchr(buf, '\0', (size_t)st.st_size))
        rc = -EBADMSG;
    fclose(f);
    if (rc < 0)
        free(buf);
    else
        *out = buf;
    return rc;
}

/* The directory part of path ("." when none), as a heap string. */
static char *conf__dirname(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

int conf_load(zk_conf *conf, const char *path, char *err, size_t errlen)
{
    char *text = NULL, *dir;
    int rc;

    memset(conf, 0, sizeof(*conf));
    rc = conf__slurp(path, &text);
    if (rc < 0) {
        if (errlen)
            snprintf(err, errlen, "%s: %s", path,
                     rc == -EBADMSG ? "contains a NUL byte" : strerror(-rc));
        return rc == -EBADMSG ? -EINVAL : rc;
    }
    dir = conf__dirname(path);
    rc = dir ? conf__load_text(conf, text, path, dir, err, errlen) : -ENOMEM;
    free(dir);
    free(text);
    return rc;
}
