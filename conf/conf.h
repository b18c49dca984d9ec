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

/* storage.sync: when a write counts as durable. */
typedef enum conf_sync {
    CONF_SYNC_FSYNC = 0, /* fdatasync of the log before the reply */
    CONF_SYNC_NONE = 1,  /* write() only: survives kill -9, not power loss */
} conf_sync;

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
    uint32_t zk_max_connections;    /* zookeeper.max_connections, from all addresses */

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
    uint32_t dns_max_tcp_connections; /* dns.max_tcp_connections */

    char *registry_backend;         /* registry.backend: "embedded" | "zookeeper" */
    char *registry_servers;         /* registry.servers */
    size_t registry_max_data_bytes; /* registry.max_data_bytes */
    size_t registry_max_watches;    /* registry.max_watches (per connection) */

    conf_sync storage_sync;         /* storage.sync */
    size_t storage_snapshot_every;  /* storage.snapshot_every (committed writes) */
    size_t storage_snapshots_kept;  /* storage.snapshots_kept */
    size_t storage_segment_bytes;   /* storage.segment_bytes (log segment size) */
    size_t storage_preallocate_bytes; /* storage.preallocate_bytes (log zero-fill; 0 = off) */
    size_t storage_fsync_warning_ms; /* storage.fsync_warning_ms (0 = never) */
} zk_conf;

/* Fills conf with every default (heap strings; free with conf_free).
 * The session timeouts are already derived from the tick (4000, 40000).
 * conf is overwritten, not freed first. Returns 0 or -ENOMEM (conf then
 * holds nothing). */
int conf_defaults(zk_conf *conf);

/* Reads path into conf (defaults for absent keys). On error returns a
 * negative value and writes "FILE:LINE: reason" into err (errlen bytes).
 *
 * conf is output only: it is overwritten, never freed first, so load into
 * a fresh struct and swap on success (a bad file keeps the old config).
 * On success the caller owns conf (conf_free); on error conf is zeroed and
 * holds nothing. Errors: -ENOENT/-EACCES/... when the file cannot be read
 * ("FILE: reason"), -EINVAL for a syntax or validation error, -ENOMEM.
 *
 * After a successful load: every key is in range; listen addresses parse
 * with conf_addr_parse; dns.domain is lower-case and ends in "." (the dot
 * is added when missing); zk_min/max_session_timeout_ms are resolved (0 in
 * the file means 2 and 20 ticks) and min <= max. "@include" works, relative
 * to the file's directory. Integer literals must fit in 32 bits unless
 * written with libconfig's L suffix (libconfig 1.5 would wrap them). */
int conf_load(zk_conf *conf, const char *path, char *err, size_t errlen);

/* Same, from a string (for tests); name is used in messages. Includes are
 * relative to the working directory. */
int conf_load_string(zk_conf *conf, const char *text, const char *name,
                     char *err, size_t errlen);

/* Frees every string and list item and zeroes conf. A zeroed conf (or one
 * left by a failed conf_load) is fine. */
void conf_free(zk_conf *conf);

/* What a listen or upstream address string means. */
enum conf_addr_kind {
    CONF_ADDR_INET = 1,     /* "IPV4:PORT" or "[IPV6]:PORT" (dns/zookeeper.listen) */
    CONF_ADDR_CLIENT = 2,   /* "unix:PATH" or "tcp:IPV4:PORT" / "tcp:[IPV6]:PORT" */
    CONF_ADDR_UPSTREAM = 3, /* like INET, the port optional (53); bare IPv6 too */
};

typedef struct conf_addr {
    int family;         /* AF_INET, AF_INET6 or AF_UNIX */
    char host[48];      /* numeric address without brackets (INET/INET6) */
    uint16_t port;      /* 0 = pick a free port */
    char path[108];     /* socket path (AF_UNIX), relative to the cwd */
} conf_addr;

/* Parses text as an address of the given kind (enum conf_addr_kind). Hosts
 * are numeric (no name lookup; no IPv6 scope ids); ports 0-65535; a unix
 * path is non-empty and fits sockaddr_un. Returns 0, or -EINVAL with a
 * reason in why (whylen bytes; why may be NULL). */
int conf_addr_parse(const char *text, int kind, conf_addr *out,
                    char *why, size_t whylen);

/* "error", "warn", "info", "debug" */
const char *conf_log_level_name(conf_log_level level);

/* Writes every key of the schema with type, range and default as Markdown
 * table rows, after a header row (for the README and `zonekeeperd
 * --help-config`). file is a FILE *. */
void conf_print_schema(void *file);

#endif
