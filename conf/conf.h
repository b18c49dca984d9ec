/*
 * conf.h - zonekeeper's configuration: a libconfig file read into a plain
 * struct.
 *
 * One schema table (conf.c) lists every key with its type, range and
 * default; the same table drives parsing, validation and the defaults, and
 * a key the table does not know is an error. Errors name the file and line.
 */
#ifndef ZK_CONF_CONF_H
#define ZK_CONF_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONF_MAX_LISTEN 16

typedef enum conf_log_level {
    CONF_LOG_ERROR = 0,
    CONF_LOG_WARN = 1,
    CONF_LOG_INFO = 2,
    CONF_LOG_DEBUG = 3,
} conf_log_level;

typedef struct conf_list {
    char *items[CONF_MAX_LISTEN];
    size_t count;
} conf_list;

typedef struct zk_conf {
    char *data_dir;                 /* data_dir */
    conf_log_level log_level;       /* log.level */

    conf_list client_listen;        /* client.listen: "unix:PATH" or "tcp:HOST:PORT" */
    size_t client_max_line;         /* client.max_line (bytes), default 65536 */
    size_t client_max_output;       /* client.max_output (bytes pending per connection) */
    size_t client_max_connections;  /* client.max_connections */

    conf_list zk_listen;            /* zookeeper.listen: "HOST:PORT" */
    uint32_t zk_tick_ms;            /* zookeeper.tick_ms */
    uint32_t zk_min_session_timeout_ms; /* default 2 * tick */
    uint32_t zk_max_session_timeout_ms; /* default 20 * tick */
    size_t zk_max_frame;            /* zookeeper.max_frame (jute.maxbuffer) */
    uint32_t zk_max_outstanding;    /* zookeeper.max_outstanding per connection */
    uint32_t zk_max_client_cnxns;   /* zookeeper.max_client_cnxns per IP (0 = unlimited) */

    conf_list dns_listen;           /* dns.listen: "HOST:PORT", v6 as "[::1]:53" */
    char *dns_domain;               /* dns.domain */
    char *dns_root;                 /* dns.root */
    uint32_t dns_ttl;               /* dns.ttl */
    uint32_t dns_negative_ttl;      /* dns.negative_ttl */
    bool dns_forward;               /* dns.forward */
    conf_list dns_upstream;         /* dns.upstream; empty = /etc/resolv.conf */
    uint32_t dns_upstream_timeout_ms; /* dns.upstream_timeout_ms */
    uint32_t dns_max_udp;           /* dns.max_udp_size */
    uint32_t dns_tcp_idle_ms;       /* dns.tcp_idle_ms */

    char *registry_backend;         /* registry.backend: "embedded" | "zookeeper" */
    char *registry_servers;         /* registry.servers */
    size_t registry_max_data_bytes; /* registry.max_data_bytes */
} zk_conf;

/* Fills conf with every default (heap strings; free with conf_free). */
int conf_defaults(zk_conf *conf);

/* Reads path into conf (defaults for absent keys). On error returns a
 * negative value and writes "FILE:LINE: reason" into err (errlen bytes). */
int conf_load(zk_conf *conf, const char *path, char *err, size_t errlen);

/* Same, from a string (for tests); name is used in messages. */
int conf_load_string(zk_conf *conf, const char *text, const char *name,
                     char *err, size_t errlen);

void conf_free(zk_conf *conf);

/* "error", "warn", "info", "debug" */
const char *conf_log_level_name(conf_log_level level);

/* Writes every key of the schema with type, range and default as Markdown
 * table rows (for the README and `zonekeeperd --help-config`). */
void conf_print_schema(void *file);

#endif
