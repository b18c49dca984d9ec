/*
 * d_server.c - set-up, wiring and clean stop of the daemon; see d_server.h.
 *
 * The registry's hooks are the only path from the core back to the daemon:
 * on_watch finds the connection by its watcher id and lets it format the
 * event in its own protocol; on_change invalidates DNS answers of the group
 * the path belongs to. Both run inside reg_commit, so a client's reply and
 * any later DNS query already see the change.
 *
 * A tick timer (zookeeper.tick_ms) expires sessions and collects empty
 * container and expired TTL nodes, a bounded number per tick.
 */
#include "d_server.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "d_log.h"
#include "d_systemd.h"
#include "d_zk.h"

#define ZKD_EXPIRE_PER_TICK 1024
#define ZKD_GC_PER_TICK 1024

int64_t zkd_now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

uint64_t zkd_next_id(zkd *d)
{
    return ++d->next_id;
}

zkd_listener *zkd_listener_new(zkd *d, int kind)
{
    zkd_listener *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return NULL;
    l->d = d;
    l->kind = kind;
    l->sock = -1;
    l->h.handle.data = l;
    l->next = d->listeners;
    d->listeners = l;
    return l;
}

static void listener__closed(uv_handle_t *h)
{
    zkd_listener *l = h->data;
    if (l->sock >= 0)
        close(l->sock);
    if (l->unix_path)
        unlink(l->unix_path);
    free(l->unix_path);
    free(l);
}

void zkd_listener_close_all(zkd *d)
{
    zkd_listener *l = d->listeners;
    d->listeners = NULL;
    while (l) {
        zkd_listener *next = l->next;
        if (l->h.handle.type != UV_UNKNOWN_HANDLE && !uv_is_closing(&l->h.handle))
            uv_close(&l->h.handle, listener__closed);
        else
            listener__closed(&l->h.handle);
        l = next;
    }
}

static void server__on_watch(void *ctx, uint64_t watcher, int type, const char *path,
                             int64_t zxid)
{
    zkd *d = ctx;
    zkd_watcher *w = zkd_idmap_get(&d->watchers, watcher);
    if (w)
        w->event(w, type, path, zxid);
}

static void server__on_change(void *ctx, int type, const char *path, int64_t zxid)
{
    (void)type;
    (void)zxid;
    zkd *d = ctx;
    if (d->zone)
        dns_zone_invalidate(d->zone, path);
}

static void server__expire_sessions(zkd *d, int64_t now)
{
    int64_t ids[ZKD_EXPIRE_PER_TICK];
    size_t n = reg_sessions_expired(d->reg, now, ids, ZKD_EXPIRE_PER_TICK);
    for (size_t i = 0; i < n; i++) {
        reg_op op = {.type = REG_OP_CLOSE_SESSION};
        zkd_info("session 0x%llx expired", (unsigned long long)ids[i]);
        zkd_pipeline_write(&d->pipe, ids[i], &op, now, NULL, NULL);
        zkd_zk_session_ended(d, ids[i]);
    }
}

static void server__collect(zkd *d, int64_t now)
{
    char *paths[ZKD_GC_PER_TICK];
    size_t n = reg_collect_garbage(d->reg, now, paths, ZKD_GC_PER_TICK);
    for (size_t i = 0; i < n; i++) {
        reg_op op = {.type = REG_OP_DELETE, .path = paths[i], .version = -1};
        zkd_pipeline_write(&d->pipe, 0, &op, now, NULL, NULL);
        free(paths[i]);
    }
}

static void server__on_tick(uv_timer_t *t)
{
    zkd *d = t->data;
    int64_t now = zkd_now_ms();
    server__expire_sessions(d, now);
    server__collect(d, now);
}

static void server__on_signal(uv_signal_t *s, int signum)
{
    zkd *d = s->data;
    zkd_info("signal %d: stopping", signum);
    zkd_stop(d);
}

static int server__mkdirs(const char *path, int strip_last)
{
    char buf[4096];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
        return -ENAMETOOLONG;
    if (strip_last) {
        char *slash = strrchr(buf, '/');
        if (slash == NULL)
            return 0;
        *slash = '\0';
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0750) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (buf[0] && mkdir(buf, 0750) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static int server__listen_all(zkd *d)
{
    const zk_conf *c = d->conf;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < c->client_listen.count; i++) {
        const char *spec = c->client_listen.items[i];
        if (strncmp(spec, "unix:", 5) == 0 && (rc = server__mkdirs(spec + 5, 1)) < 0)
            zkd_error("client: cannot create directory for %s: %s", spec, strerror(-rc));
        if (rc == 0)
            rc = zkd_client_listen(d, spec);
    }
    for (size_t i = 0; rc == 0 && i < c->dns_listen.count; i++)
        rc = zkd_dns_listen(d, c->dns_listen.items[i]);
    for (size_t i = 0; rc == 0 && i < c->zk_listen.count; i++)
        rc = zkd_zk_listen(d, c->zk_listen.items[i]);
    return rc;
}

static int server__make_core(zkd *d)
{
    reg_config rc;
    reg_config_default(&rc);
    rc.max_data_bytes = d->conf->registry_max_data_bytes;
    rc.max_watches = d->conf->registry_max_watches;
    reg_hooks hooks = {.ctx = d, .on_watch = server__on_watch, .on_change = server__on_change};
    d->reg = reg_create(&rc, &hooks);
    if (d->reg == NULL)
        return -ENOMEM;
    int prc = zkd_persist_open(d); /* recovery: before DNS and listeners */
    if (prc < 0)
        return prc;
    dns_config dc;
    dns_config_default(&dc);
    dc.domain = d->conf->dns_domain;
    dc.root = d->conf->dns_root;
    dc.ttl = d->conf->dns_ttl;
    dc.negative_ttl = d->conf->dns_negative_ttl;
    dc.forward = d->conf->dns_forward;
    dc.max_udp = (uint16_t)d->conf->dns_max_udp;
    d->zone = dns_zone_create(&dc, d->reg);
    if (d->zone == NULL) {
        zkd_error("dns: bad zone configuration (domain %s, root %s)", dc.domain, dc.root);
        return -EINVAL;
    }
    int rc2 = zkd_pipeline_init(&d->pipe, d->loop, d->reg);
    d->pipe_started = rc2 == 0;
    return rc2;
}

static void server__start_timers(zkd *d)
{
    uv_signal_init(d->loop, &d->sig_int);
    uv_signal_init(d->loop, &d->sig_term);
    d->sig_int.data = d->sig_term.data = d;
    uv_signal_start(&d->sig_int, server__on_signal, SIGINT);
    uv_signal_start(&d->sig_term, server__on_signal, SIGTERM);
    uv_timer_init(d->loop, &d->tick);
    d->tick.data = d;
    uint64_t tick = d->conf->zk_tick_ms ? d->conf->zk_tick_ms : 2000;
    uv_timer_start(&d->tick, server__on_tick, tick, tick);
    d->timers_started = true;
}

int zkd_init(zkd *d, uv_loop_t *loop, zk_conf *conf)
{
    memset(d, 0, sizeof(*d));
    d->loop = loop;
    d->conf = conf;
    zkd_idmap_init(&d->watchers);
    /* A peer that closes before its reply makes write() raise SIGPIPE, whose
     * default action kills the process; libuv reports EPIPE instead when the
     * signal is ignored, and the connection is closed like any other. */
    signal(SIGPIPE, SIG_IGN);
    int rc = server__mkdirs(conf->data_dir, 0);
    if (rc < 0) {
        zkd_error("cannot create data_dir %s: %s", conf->data_dir, strerror(-rc));
        return rc;
    }
    if ((rc = server__make_core(d)) < 0)
        return rc;
    if ((rc = zkd_persist_start(d)) < 0)
        return rc;
    server__start_timers(d);
    if (conf->dns_forward && zkd_forward_init(&d->fwd, loop, conf, &conf->dns_listen) == 0)
        d->fwd_ready = true;
    if ((rc = server__listen_all(d)) < 0)
        return rc;
    zkd_info("zonekeeperd %s serving zone %s from %s", ZK_VERSION, conf->dns_domain, conf->dns_root);
    zkd_notify_ready();
    return 0;
}

void zkd_stop(zkd *d)
{
    if (d->stopping)
        return;
    d->stopping = true;
    zkd_notify_stopping();
    if (d->fwd_ready)
        zkd_forward_close(&d->fwd);
    zkd_listener_close_all(d);
    zkd_client_close_all(d);
    zkd_zk_close_all(d);
    zkd_dns_close_all(d);
    if (d->pipe_started)
        zkd_pipeline_drain(&d->pipe);
    zkd_persist_stop(d);
    if (d->timers_started) {
        uv_close((uv_handle_t *)&d->sig_int, NULL);
        uv_close((uv_handle_t *)&d->sig_term, NULL);
        uv_close((uv_handle_t *)&d->tick, NULL);
    }
    if (d->pipe_started)
        zkd_pipeline_close(&d->pipe);
}

void zkd_free(zkd *d)
{
    zkd_zk_free(d);
    zkd_persist_free(d);
    dns_zone_free(d->zone);
    reg_free(d->reg);
    zkd_idmap_free(&d->watchers);
}
