/*
 * conf.c - the schema table of zonekeeper's configuration and the struct
 * it describes.
 *
 * Every key is one row of conf_schema[]: dotted name, kind, where it lives
 * in zk_conf, range, default, validator and meaning (Knot's schema.c in
 * miniature). The same rows fill the defaults (conf_defaults), drive the
 * parser (conf_load.c rejects any name without a row), and print the
 * Markdown reference (conf_print_schema), so the three cannot disagree.
 * Strings and list items are heap copies owned by the struct.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"

#define KIB ((int64_t)1024)
#define MIB (KIB * 1024)
#define FIELD(f) .offset = offsetof(zk_conf, f), .width = sizeof(((zk_conf *)0)->f)
#define INT_RANGE(lo, hi, d) .kind = CONF_K_INT, .min = (lo), .max = (hi), .def_num = (d)

static const char *const conf__levels[] = { "error", "warn", "info", "debug", NULL };
static const char *const conf__backends[] = { "embedded", "zookeeper", NULL };
static const char *const conf__client_def[] = { "unix:/run/zonekeeper/zonekeeper.sock", NULL };
static const char *const conf__zk_def[] = { "127.0.0.1:2181", NULL };
static const char *const conf__dns_def[] = { "127.0.0.1:53", "[::1]:53", NULL };
static const char *const conf__none[] = { NULL };
static const char *const conf__syncs[] = { "fsync", "none", NULL };

const conf_key conf_schema[] = {
    { .name = "data_dir", .kind = CONF_K_STRING, FIELD(data_dir),
      .def_str = "/var/lib/zonekeeper", .check = conf_check_nonempty,
      .format = "directory",
      .help = "Where the write-ahead log and snapshots live (created if missing)." },
    { .name = "log.level", .kind = CONF_K_ENUM, FIELD(log_level),
      .def_str = "info", .values = conf__levels, .enum_index = 1,
      .help = "Least severe level written to stderr (journald)." },

    { .name = "client.listen", .kind = CONF_K_LIST, FIELD(client_listen),
      .def_list = conf__client_def, .check = conf_check_client,
      .format = "`unix:PATH` or `tcp:HOST:PORT`",
      .help = "Sockets of the line protocol (SPEC section 3). No authentication: "
              "keep TCP on loopback. Empty: none." },
    { .name = "client.max_line", FIELD(client_max_line),
      INT_RANGE(512, 64 * MIB, 64 * KIB),
      .help = "Longest request line in bytes; a longer one gets ERR BADARGUMENTS "
              "and the connection is closed." },
    { .name = "client.max_output", FIELD(client_max_output),
      INT_RANGE(64 * KIB, 1024 * MIB, 4 * MIB),
      .help = "Most reply and event bytes queued for one connection; a client "
              "that reads no faster is disconnected." },
    { .name = "client.max_connections", FIELD(client_max_connections),
      INT_RANGE(1, 1000000, 10000),
      .help = "Most simultaneous protocol connections; more are refused." },

    { .name = "zookeeper.listen", .kind = CONF_K_LIST, FIELD(zk_listen),
      .def_list = conf__zk_def, .check = conf_check_inet,
      .format = "`HOST:PORT`, `[V6]:PORT`",
      .help = "TCP addresses of the ZooKeeper wire protocol. Port 0 picks a "
              "free port. Empty: the protocol is off." },
    { .name = "zookeeper.tick_ms", FIELD(zk_tick_ms), INT_RANGE(10, 60000, 2000),
      .help = "ZooKeeper's tickTime: the unit of the session timeouts." },
    { .name = "zookeeper.min_session_timeout_ms", FIELD(zk_min_session_timeout_ms),
      INT_RANGE(0, INT32_MAX, 0),
      .help = "Shortest session timeout granted to a client; 0 = 2 x tick_ms." },
    { .name = "zookeeper.max_session_timeout_ms", FIELD(zk_max_session_timeout_ms),
      INT_RANGE(0, INT32_MAX, 0),
      .help = "Longest session timeout granted to a client; 0 = 20 x tick_ms." },
    { .name = "zookeeper.max_frame", FIELD(zk_max_frame),
      INT_RANGE(4 * KIB, 256 * MIB, 0xfffff),
      .help = "Largest request frame in bytes, as ZooKeeper's jute.maxbuffer (default "
              "0xfffff; its jute.maxbuffer.extrasize does not apply to frames): a longer "
              "one closes the connection, as ZooKeeper does. Requests carry at most "
              "about this much data, whatever registry.max_data_bytes says." },
    { .name = "zookeeper.max_outstanding", FIELD(zk_max_outstanding),
      INT_RANGE(1, 1000000, 1000),
      .help = "Most requests of one connection in flight; reading pauses beyond." },
    { .name = "zookeeper.max_client_cnxns", FIELD(zk_max_client_cnxns),
      INT_RANGE(0, 1000000, 60),
      .help = "Most connections from one IP address (maxClientCnxns); 0 = unlimited." },
    { .name = "zookeeper.max_connections", FIELD(zk_max_connections),
      INT_RANGE(1, 1000000, 10000),
      .help = "Most ZooKeeper-protocol connections at once, from all addresses together "
              "(max_client_cnxns counts one address); one more is closed at once." },

    { .name = "dns.listen", .kind = CONF_K_LIST, FIELD(dns_listen),
      .def_list = conf__dns_def, .check = conf_check_inet,
      .format = "`HOST:PORT`, `[V6]:PORT`",
      .help = "Addresses served over UDP and TCP. Port 0 picks a free port. "
              "Empty: no DNS." },
    { .name = "dns.domain", .kind = CONF_K_STRING, FIELD(dns_domain),
      .def_str = "zk.", .check = conf_check_domain, .format = "DNS name",
      .help = "The zone served from the registry. Lower-cased; the final dot "
              "is added when missing." },
    { .name = "dns.root", .kind = CONF_K_STRING, FIELD(dns_root),
      .def_str = "/services", .check = conf_check_zkpath, .format = "absolute znode path",
      .help = "The subtree the zone maps onto: `api.web.zk.` is `<root>/web/api`." },
    { .name = "dns.ttl", FIELD(dns_ttl), INT_RANGE(0, INT32_MAX, 0),
      .help = "TTL of answers from the registry, in seconds; 0 = never cached." },
    { .name = "dns.negative_ttl", FIELD(dns_negative_ttl), INT_RANGE(0, 86400, 0),
      .help = "SOA minimum: how long NXDOMAIN/NODATA may be cached (RFC 2308); "
              "0, like dns.ttl, so a new member is seen at once." },
    { .name = "dns.forward", .kind = CONF_K_BOOL, FIELD(dns_forward), .def_num = 1,
      .help = "Forward names outside the zone upstream; false answers them REFUSED." },
    { .name = "dns.upstream", .kind = CONF_K_LIST, FIELD(dns_upstream),
      .def_list = conf__none, .check = conf_check_upstream,
      .format = "`IP`, `IP:PORT`, `[V6]:PORT`",
      .help = "Upstream resolvers; empty = the nameservers of /etc/resolv.conf "
              "that are not this daemon." },
    { .name = "dns.upstream_timeout_ms", FIELD(dns_upstream_timeout_ms),
      INT_RANGE(10, 60000, 2000),
      .help = "How long to wait for an upstream answer before SERVFAIL." },
    { .name = "dns.max_udp_size", FIELD(dns_max_udp), INT_RANGE(512, 4096, 1232),
      .help = "Largest UDP response (EDNS0 payload advertised and honoured); 1232 "
              "avoids fragmentation (DNS flag day 2020)." },
    { .name = "dns.tcp_idle_ms", FIELD(dns_tcp_idle_ms), INT_RANGE(100, 3600000, 10000),
      .help = "An idle DNS-over-TCP connection is closed after this long (RFC 7766)." },
    { .name = "dns.max_tcp_connections", FIELD(dns_max_tcp_connections),
      INT_RANGE(1, 100000, 256),
      .help = "Most DNS-over-TCP connections at once (each holds a 64 KiB buffer); one "
              "more is closed at once, and the first of a run is logged. UDP is not "
              "affected." },

    { .name = "registry.backend", .kind = CONF_K_ENUM, FIELD(registry_backend),
      .def_str = "embedded", .values = conf__backends,
      .help = "`embedded`: the daemon's own tree in data_dir; `zookeeper`: an "
              "Apache ZooKeeper ensemble (registry.servers)." },
    { .name = "registry.servers", .kind = CONF_K_STRING, FIELD(registry_servers),
      .def_str = "", .check = conf_check_servers, .format = "`HOST:PORT,...[/chroot]`",
      .help = "ZooKeeper connection string; required with backend `zookeeper`." },
    { .name = "registry.max_data_bytes", FIELD(registry_max_data_bytes),
      INT_RANGE(1, 256 * MIB, 1 * MIB),
      .help = "Largest data of one znode in bytes." },
    { .name = "registry.max_watches", FIELD(registry_max_watches),
      INT_RANGE(1, 100000000, 1000000),
      .help = "Most paths one connection watches (either protocol; a path's data and "
              "child watch count once). A read that would set one more fails with "
              "QUOTAEXCEEDED and sets none; the connection carries on." },

    { .name = "storage.sync", .kind = CONF_K_ENUM, FIELD(storage_sync),
      .def_str = "fsync", .values = conf__syncs, .enum_index = 1,
      .help = "When a write is acknowledged. `fsync`: after the log record is on "
              "disk (fdatasync, shared by all writes of a loop turn). `none`: after "
              "write(2) only; survives a crash of the daemon but not of the machine, "
              "where recent acknowledged writes can be lost and the log may need "
              "repair (`zonekeeperd --check-data`)." },
    { .name = "storage.snapshot_every", FIELD(storage_snapshot_every),
      INT_RANGE(1, 1000000000, 100000),
      .help = "Take a snapshot (in a forked child, in the background) after this "
              "many committed writes; bounds the log replayed at start-up." },
    { .name = "storage.snapshots_kept", FIELD(storage_snapshots_kept),
      INT_RANGE(1, 1000, 3),
      .help = "Snapshots kept in data_dir; older ones, and the log segments only "
              "they needed, are deleted." },
    { .name = "storage.segment_bytes", FIELD(storage_segment_bytes),
      INT_RANGE(64 * KIB, 1024 * MIB, 64 * MIB),
      .help = "Size at which the write-ahead log starts a new segment file." },
    { .name = "storage.preallocate_bytes", FIELD(storage_preallocate_bytes),
      INT_RANGE(0, 1024 * MIB, 1 * MIB),
      .help = "The write-ahead log is zero-filled this far ahead of its data, in "
              "steps of this size and never past storage.segment_bytes, so that the "
              "fdatasync of a write flushes data only instead of also committing a "
              "new file size (a quarter to a third less latency on ext4). 0 turns it "
              "off, e.g. on copy-on-write file systems (btrfs, ZFS), where "
              "overwriting gains nothing." },
    { .name = "storage.fsync_warning_ms", FIELD(storage_fsync_warning_ms),
      INT_RANGE(0, 3600000, 1000),
      .help = "Log a warning when writing and syncing one batch of the log, or "
              "deleting old files on the log's thread, takes longer than this many "
              "milliseconds (ZooKeeper's fsync.warningthresholdms); 0: never." },
};

const size_t conf_schema_len = sizeof(conf_schema) / sizeof(conf_schema[0]);

const conf_key *conf__key(const char *name)
{
    for (size_t i = 0; i < conf_schema_len; i++)
        if (strcmp(conf_schema[i].name, name) == 0)
            return &conf_schema[i];
    return NULL;
}

static void *conf__field(zk_conf *conf, const conf_key *k)
{
    return (char *)conf + k->offset;
}

void conf__set_int(zk_conf *conf, const conf_key *k, int64_t v)
{
    if (k->width == sizeof(uint32_t)) {
        uint32_t u = (uint32_t)v;
        memcpy(conf__field(conf, k), &u, sizeof(u));
    } else {
        uint64_t u = (uint64_t)v;
        memcpy(conf__field(conf, k), &u, sizeof(u));
    }
}

void conf__set_bool(zk_conf *conf, const conf_key *k, bool v)
{
    memcpy(conf__field(conf, k), &v, sizeof(v));
}

void conf__set_string(zk_conf *conf, const conf_key *k, char *value)
{
    char **slot = conf__field(conf, k);
    free(*slot);
    *slot = value;
}

conf_list *conf__list(zk_conf *conf, const conf_key *k)
{
    return conf__field(conf, k);
}

void conf__list_clear(conf_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i]);
    memset(l, 0, sizeof(*l));
}

static int conf__enum_index(const conf_key *k, const char *name)
{
    for (int i = 0; k->values[i]; i++)
        if (strcmp(k->values[i], name) == 0)
            return i;
    return -1;
}

static int conf__default_list(zk_conf *conf, const conf_key *k)
{
    conf_list *l = conf__list(conf, k);
    for (size_t i = 0; k->def_list[i]; i++) {
        l->items[i] = strdup(k->def_list[i]);
        if (!l->items[i])
            return -ENOMEM;
        l->count = i + 1;
    }
    return 0;
}

static int conf__default_one(zk_conf *conf, const conf_key *k)
{
    char *s;

    switch (k->kind) {
    case CONF_K_INT:
        conf__set_int(conf, k, k->def_num);
        return 0;
    case CONF_K_BOOL:
        conf__set_bool(conf, k, k->def_num != 0);
        return 0;
    case CONF_K_LIST:
        return conf__default_list(conf, k);
    case CONF_K_ENUM:
        if (k->enum_index) {
            conf__set_int(conf, k, conf__enum_index(k, k->def_str));
            return 0;
        }
        break;
    case CONF_K_STRING:
        break;
    }
    s = strdup(k->def_str);
    if (!s)
        return -ENOMEM;
    conf__set_string(conf, k, s);
    return 0;
}

int conf__defaults_raw(zk_conf *conf)
{
    memset(conf, 0, sizeof(*conf));
    for (size_t i = 0; i < conf_schema_len; i++) {
        if (conf__default_one(conf, &conf_schema[i]) < 0) {
            conf_free(conf);
            return -ENOMEM;
        }
    }
    return 0;
}

void conf__derive(zk_conf *conf)
{
    if (conf->zk_min_session_timeout_ms == 0)
        conf->zk_min_session_timeout_ms = 2 * conf->zk_tick_ms;
    if (conf->zk_max_session_timeout_ms == 0)
        conf->zk_max_session_timeout_ms = 20 * conf->zk_tick_ms;
}

int conf_defaults(zk_conf *conf)
{
    int rc = conf__defaults_raw(conf);
    if (rc == 0)
        conf__derive(conf);
    return rc;
}

void conf_free(zk_conf *conf)
{
    for (size_t i = 0; i < conf_schema_len; i++) {
        const conf_key *k = &conf_schema[i];
        if (k->kind == CONF_K_LIST)
            conf__list_clear(conf__list(conf, k));
        else if (k->kind == CONF_K_STRING || (k->kind == CONF_K_ENUM && !k->enum_index))
            conf__set_string(conf, k, NULL);
    }
    memset(conf, 0, sizeof(*conf));
}

const char *conf_log_level_name(conf_log_level level)
{
    if ((unsigned)level > CONF_LOG_DEBUG)
        return "unknown";
    return conf__levels[level];
}

/* ---- conf_print_schema ---- */

static const char *conf__type_name(const conf_key *k)
{
    static const char *const names[] = {
        [CONF_K_STRING] = "string", [CONF_K_INT] = "int", [CONF_K_BOOL] = "bool",
        [CONF_K_LIST] = "list of strings", [CONF_K_ENUM] = "enum",
    };
    return names[k->kind];
}

static void conf__print_default(FILE *f, const conf_key *k)
{
    switch (k->kind) {
    case CONF_K_INT:
        fprintf(f, "%" PRId64, k->def_num);
        break;
    case CONF_K_BOOL:
        fputs(k->def_num ? "true" : "false", f);
        break;
    case CONF_K_LIST:
        fputs("`[", f);
        for (size_t i = 0; k->def_list[i]; i++)
            fprintf(f, "%s\"%s\"", i ? ", " : " ", k->def_list[i]);
        fputs(" ]`", f);
        break;
    case CONF_K_STRING:
    case CONF_K_ENUM:
        fprintf(f, "`\"%s\"`", k->def_str);
        break;
    }
}

static void conf__print_range(FILE *f, const conf_key *k)
{
    switch (k->kind) {
    case CONF_K_INT:
        fprintf(f, "%" PRId64 "..%" PRId64, k->min, k->max);
        break;
    case CONF_K_BOOL:
        fputs("true, false", f);
        break;
    case CONF_K_LIST:
        fprintf(f, "at most %d of %s", CONF_MAX_LISTEN, k->format);
        break;
    case CONF_K_ENUM:
        for (size_t i = 0; k->values[i]; i++)
            fprintf(f, "%s`%s`", i ? ", " : "", k->values[i]);
        break;
    case CONF_K_STRING:
        fputs(k->format, f);
        break;
    }
}

void conf_print_schema(void *file)
{
    FILE *f = file;

    fputs("| key | type | default | range | meaning |\n", f);
    fputs("| --- | --- | --- | --- | --- |\n", f);
    for (size_t i = 0; i < conf_schema_len; i++) {
        const conf_key *k = &conf_schema[i];
        fprintf(f, "| `%s` | %s | ", k->name, conf__type_name(k));
        conf__print_default(f, k);
        fputs(" | ", f);
        conf__print_range(f, k);
        fprintf(f, " | %s |\n", k->help);
    }
}
