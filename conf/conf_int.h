/*
 * conf_int.h - the schema table's shape, shared by the files of conf/.
 *
 * conf.c owns the table (one row per key) and the struct-level helpers;
 * conf_load.c walks a parsed libconfig tree against it; conf_check.c holds
 * the string validators a row may name; conf_scan.c guards against integer
 * literals that libconfig 1.5 would silently wrap. Nothing here is public.
 */
#ifndef ZK_CONF_CONF_INT_H
#define ZK_CONF_CONF_INT_H

#include <stdint.h>

#include "conf.h"

typedef enum conf_kind {
    CONF_K_STRING,
    CONF_K_INT,     /* stored as uint32_t or size_t (by the field's width) */
    CONF_K_BOOL,
    CONF_K_LIST,    /* conf_list of strings, at most CONF_MAX_LISTEN */
    CONF_K_ENUM,    /* one of values[]; stored as a string, or as its index */
} conf_kind;

/* Validates (and may normalise: *value can be replaced by a new heap
 * string) one string value or list item. Returns 0, or -EINVAL with the
 * reason in why, or -ENOMEM. */
typedef int conf_check_fn(char **value, char *why, size_t whylen);

typedef struct conf_key {
    const char *name;           /* dotted: "dns.ttl" */
    conf_kind kind;
    size_t offset;              /* of the field in zk_conf */
    size_t width;               /* sizeof the field (CONF_K_INT) */
    int64_t min, max;           /* CONF_K_INT range */
    int64_t def_num;            /* default of CONF_K_INT and CONF_K_BOOL */
    const char *def_str;        /* default of CONF_K_STRING and CONF_K_ENUM */
    const char *const *def_list;/* default of CONF_K_LIST, NULL-terminated */
    const char *const *values;  /* CONF_K_ENUM names, NULL-terminated */
    int enum_index;             /* CONF_K_ENUM: store the index, not the name */
    conf_check_fn *check;       /* strings and list items; may be NULL */
    const char *format;         /* range column for strings and lists */
    const char *help;
} conf_key;

extern const conf_key conf_schema[];
extern const size_t conf_schema_len;

/* The row named name (dotted), or NULL. */
const conf_key *conf__key(const char *name);

/* Stores into the field of key k in conf; the value is checked already. */
void conf__set_int(zk_conf *conf, const conf_key *k, int64_t v);
void conf__set_bool(zk_conf *conf, const conf_key *k, bool v);
/* Takes ownership of value (frees the old string). */
void conf__set_string(zk_conf *conf, const conf_key *k, char *value);
conf_list *conf__list(zk_conf *conf, const conf_key *k);
void conf__list_clear(conf_list *l);

/* Defaults with the session timeouts still 0 (not yet derived). */
int conf__defaults_raw(zk_conf *conf);
/* Resolves the 0 session timeouts from the tick. */
void conf__derive(zk_conf *conf);

/* The validators of conf_check.c. */
conf_check_fn conf_check_nonempty;
conf_check_fn conf_check_inet;
conf_check_fn conf_check_client;
conf_check_fn conf_check_upstream;
conf_check_fn conf_check_domain;
conf_check_fn conf_check_zkpath;
conf_check_fn conf_check_servers;

/* Reads the whole regular file path (NUL-terminated) into *out (free it).
 * Returns 0 or a negative errno; a NUL byte inside is -EBADMSG. */
int conf__slurp(const char *path, char **out);

/* Checks text (libconfig syntax) for integer literals that do not fit in
 * 32 bits and lack the L suffix, also in the files it @includes (relative
 * to incdir, or the cwd when NULL). Returns 0, or -EINVAL with "FILE:LINE:
 * reason" in err (name is the file name of text). */
int conf__scan_ints(const char *text, const char *name, const char *incdir,
                    char *err, size_t errlen);

#endif
