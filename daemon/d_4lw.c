/*
 * d_4lw.c - the four-letter words (see d_4lw.h): ruok, isro, srvr, stat,
 * cons, mntr, conf, envi; wchs and dump are in d_4lw_tree.c.
 *
 * Each word writes its whole answer into the asking connection's output,
 * which is then flushed and closed, as ZooKeeper does. The texts follow
 * Apache ZooKeeper 3.8 line by line (ServerStats.toString, StatCommand,
 * ServerCnxn.dumpConnectionInfo, MonitorCommand, ZooKeeperServer.dumpConf,
 * EnvCommand), so the scripts written against it parse ours. Numbers come
 * from the connections' counters (d_zk_conn.c), the write pipeline and the
 * registry. Nothing here blocks: the few system facts (descriptor counts,
 * host name, data_dir sizes) are local calls without name service lookups.
 */
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "d_4lw_int.h"

const char zkd_4lw_version[] = "3.8.0-zonekeeper-" ZK_VERSION ", built on 1970-01-01 00:00 UTC";

void zkd_4lw_java_double(double v, char *out, size_t len)
{
    snprintf(out, len, "%.4f", round(v * 10000.0) / 10000.0);
    char *dot = strchr(out, '.');
    if (dot == NULL)
        return;
    char *end = out + strlen(out) - 1;
    while (end > dot + 1 && *end == '0')
        *end-- = '\0';
}

int64_t zkd_4lw_avg(const zkd_zk_stats *st)
{
    return st->lat_n ? st->lat_sum / (int64_t)st->lat_n : 0;
}

static void lw__avg(const zkd_zk_stats *st, char *out, size_t len)
{
    zkd_4lw_java_double(st->lat_n ? (double)st->lat_sum / (double)st->lat_n : 0.0, out, len);
}

/* ---- srvr, stat, cons ---------------------------------------------------- */

/* ServerCnxn.dumpConnectionInfo: brief for stat, full for cons. */
static void lw__conn(zk_buf *out, const zkd_zk_conn *c, bool brief)
{
    zk_buf_printf(out, " %s[%d](queued=%zu,recved=%llu,sent=%llu", c->peer, c->reading ? 1 : 0,
                  c->nfifo, (unsigned long long)c->st.recved, (unsigned long long)c->st.sent);
    if (!brief && c->session != 0) {
        zk_buf_printf(out, ",sid=0x%llx,lop=%s,est=%lld,to=%d", (unsigned long long)c->session,
                      c->lop, (long long)c->est_ms, c->timeout_ms);
        if (c->lcxid >= 0)
            zk_buf_printf(out, ",lcxid=0x%llx", (unsigned long long)c->lcxid);
        zk_buf_printf(out, ",lzxid=0x%llx,lresp=%lld,llat=%lld,minlat=%lld,avglat=%lld,maxlat=%lld",
                      (unsigned long long)c->lzxid, (long long)c->lresp_ms,
                      (long long)c->st.lat_last, (long long)c->st.lat_min,
                      (long long)zkd_4lw_avg(&c->st), (long long)c->st.lat_max);
    }
    zk_buf_printf(out, ")\n");
}

static void lw__cons(zkd_zk_srv *s, zk_buf *out)
{
    for (const zkd_zk_conn *c = s->conns; c; c = c->next)
        if (c->state != ZC_CLOSED)
            lw__conn(out, c, false);
    zk_buf_printf(out, "\n");
}

/* srvr; stat adds the clients. */
static void lw__srvr(zkd_zk_srv *s, zk_buf *out, bool clients)
{
    char avg[32];
    lw__avg(&s->st, avg, sizeof(avg));
    zk_buf_printf(out, "Zookeeper version: %s\n", zkd_4lw_version);
    if (clients) {
        zk_buf_printf(out, "Clients:\n");
        for (const zkd_zk_conn *c = s->conns; c; c = c->next)
            if (c->state != ZC_CLOSED)
                lw__conn(out, c, true);
        zk_buf_printf(out, "\n");
    }
    zk_buf_printf(out,
                  "Latency min/avg/max: %lld/%s/%lld\nReceived: %llu\nSent: %llu\n"
                  "Connections: %zu\nOutstanding: %zu\nZxid: 0x%llx\nMode: standalone\n"
                  "Node count: %zu\n",
                  (long long)s->st.lat_min, avg, (long long)s->st.lat_max,
                  (unsigned long long)s->st.recved, (unsigned long long)s->st.sent, s->nconns,
                  s->d->pipe.queued, (unsigned long long)reg_last_zxid(s->d->reg),
                  reg_node_count(s->d->reg) + 1);
}

/* ---- mntr ---------------------------------------------------------------- */

static long lw__open_fds(void)
{
    DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL)
        return -1;
    long n = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL;)
        if (e->d_name[0] != '.')
            n++;
    closedir(dir);
    return n - 1; /* the directory's own descriptor */
}

static long long lw__max_fds(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
        return -1;
    return (long long)rl.rlim_cur;
}

static void lw__count_local(void *ctx, int64_t session, int64_t timeout_ms, uint32_t flags)
{
    (void)session;
    (void)timeout_ms;
    if (flags & REG_SESSION_LOCAL)
        ++*(size_t *)ctx;
}

static void lw__mntr(zkd_zk_srv *s, zk_buf *out)
{
    zkd *d = s->d;
    char avg[32];
    lw__avg(&s->st, avg, sizeof(avg));
    zk_buf_printf(out, "zk_version\t%s\nzk_server_state\tstandalone\n", zkd_4lw_version);
    zk_buf_printf(out, "zk_avg_latency\t%s\nzk_max_latency\t%lld\nzk_min_latency\t%lld\n", avg,
                  (long long)s->st.lat_max, (long long)s->st.lat_min);
    zk_buf_printf(out, "zk_packets_received\t%llu\nzk_packets_sent\t%llu\n",
                  (unsigned long long)s->st.recved, (unsigned long long)s->st.sent);
    zk_buf_printf(out, "zk_num_alive_connections\t%zu\nzk_outstanding_requests\t%zu\n",
                  s->nconns, d->pipe.queued);
    zk_buf_printf(out, "zk_znode_count\t%zu\nzk_watch_count\t%zu\nzk_ephemerals_count\t%zu\n",
                  reg_node_count(d->reg) + 1, reg_watch_count(d->reg), reg_ephemeral_count(d->reg));
    zk_buf_printf(out, "zk_approximate_data_size\t%zu\n", reg_memory_bytes(d->reg));
    zk_buf_printf(out, "zk_open_file_descriptor_count\t%ld\nzk_max_file_descriptor_count\t%lld\n",
                  lw__open_fds(), lw__max_fds());
    /* local: the socket protocol's sessions, one per connection that has
     * said something; global: the ZooKeeper protocol's */
    size_t local = 0;
    reg_session_foreach(d->reg, lw__count_local, &local);
    zk_buf_printf(out, "zk_uptime\t%lld\nzk_global_sessions\t%zu\nzk_local_sessions\t%zu\n",
                  (long long)(zkd_now_ms() - s->started_ms), reg_session_count(d->reg) - local,
                  local);
    /* group commit at work: txns committed, log batches (one pwrite and
     * one fdatasync each), the largest batch */
    zk_buf_printf(out, "zk_log_txns\t%llu\nzk_log_batches\t%llu\nzk_log_max_batch\t%zu\n",
                  (unsigned long long)d->pipe.committed, (unsigned long long)d->pipe.batches,
                  d->pipe.max_batch_seen);
    zk_buf_printf(out, "zk_log_max_sync_us\t%llu\nzk_log_slow_syncs\t%llu\n",
                  (unsigned long long)(d->pipe.sync_max_ns / 1000),
                  (unsigned long long)d->pipe.slow_syncs);
    zk_buf_printf(out, "zk_last_proposal_size\t-1\nzk_max_proposal_size\t-1\n"
                       "zk_min_proposal_size\t-1\nzk_connection_drop_probability\t0.0\n");
}

/* ---- conf, envi ---------------------------------------------------------- */

static unsigned long long lw__dir_size(const char *path)
{
    DIR *dir = opendir(path);
    if (dir == NULL)
        return 0;
    unsigned long long n = 0;
    struct stat st;
    for (struct dirent *e; (e = readdir(dir)) != NULL;)
        if (fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
            n += (unsigned long long)st.st_size;
    closedir(dir);
    return n;
}

static void lw__conf(zkd_zk_srv *s, zk_buf *out)
{
    const zk_conf *c = s->d->conf;
    char dir[4096];
    if (realpath(c->data_dir, dir) == NULL)
        snprintf(dir, sizeof(dir), "%s", c->data_dir);
    unsigned long long size = lw__dir_size(dir);
    zk_buf_printf(out, "clientPort=%d\nsecureClientPort=-1\n", s->port);
    zk_buf_printf(out, "dataDir=%s\ndataDirSize=%llu\ndataLogDir=%s\ndataLogSize=%llu\n", dir,
                  size, dir, size);
    zk_buf_printf(out, "tickTime=%u\nmaxClientCnxns=%u\n", c->zk_tick_ms, c->zk_max_client_cnxns);
    zk_buf_printf(out, "minSessionTimeout=%u\nmaxSessionTimeout=%u\n",
                  c->zk_min_session_timeout_ms, c->zk_max_session_timeout_ms);
    zk_buf_printf(out, "clientPortListenBacklog=128\nserverId=0\n");
}

static void lw__envi(zk_buf *out)
{
    struct utsname u;
    char host[256] = "", cwd[4096] = "";
    if (uname(&u) < 0)
        memset(&u, 0, sizeof(u));
    gethostname(host, sizeof(host) - 1);
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        cwd[0] = '\0';
    const char *user = getenv("USER"), *home = getenv("HOME");
    zk_buf_printf(out, "Environment:\nzookeeper.version=%s\nhost.name=%s\n", zkd_4lw_version,
                  host);
    zk_buf_printf(out, "zonekeeper.version=%s\nos.name=%s\nos.arch=%s\nos.version=%s\n",
                  ZK_VERSION, u.sysname, u.machine, u.release);
    zk_buf_printf(out, "user.name=%s\nuser.home=%s\nuser.dir=%s\n", user ? user : "",
                  home ? home : "", cwd);
}

/* ---- dispatch ------------------------------------------------------------ */

void zkd_4lw_run(zkd_zk_srv *s, int cmd, const char word[4], zk_buf *out)
{
    switch (cmd) {
    case ZKP_4LW_RUOK: zk_buf_printf(out, "imok"); break;
    case ZKP_4LW_ISRO: zk_buf_printf(out, "rw"); break;
    case ZKP_4LW_SRVR: lw__srvr(s, out, false); break;
    case ZKP_4LW_STAT: lw__srvr(s, out, true); break;
    case ZKP_4LW_CONS: lw__cons(s, out); break;
    case ZKP_4LW_MNTR: lw__mntr(s, out); break;
    case ZKP_4LW_CONF: lw__conf(s, out); break;
    case ZKP_4LW_ENVI: lw__envi(out); break;
    case ZKP_4LW_WCHS: zkd_4lw_wchs(s, out); break;
    case ZKP_4LW_DUMP: zkd_4lw_dump(s, out); break;
    default:
        zk_buf_printf(out, "%.4s is not executed because it is not in the whitelist.\n", word);
    }
}
