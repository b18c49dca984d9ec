/*
 * zkc_test - drives a ZooKeeper server with Apache ZooKeeper's C client
 * (libzookeeper_mt, the multi-threaded binding) and checks what it answers:
 * synchronous and asynchronous calls, watches, multi, ACLs and sessions.
 *
 *   zkc_test HOST:PORT ROOT [PROXY_HOST:PORT]
 *
 * ROOT is a fresh path the test may create (e.g. /zkc-1234). Each check
 * prints "ok NAME" or "FAIL NAME: why"; the exit status is the number of
 * failures (capped at 100). With PROXY_HOST:PORT (a proxy in front of the
 * server that the driver can cut), the reconnection check prints "DROP",
 * waits for a line on stdin (the driver has cut the connection and changed
 * a watched node meanwhile) and expects the watch to fire after the client
 * reconnects with its session and re-sends its watches (setWatches).
 *
 * Every wait is bounded.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zookeeper/zookeeper.h>

static const char *host;
static char root[256];
static int failures;

static void check(int ok, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void check(int ok, const char *name, const char *fmt, ...)
{
    if (ok) {
        printf("ok %s\n", name);
    } else {
        va_list ap;
        va_start(ap, fmt);
        printf("FAIL %s: ", name);
        vprintf(fmt, ap);
        printf("\n");
        va_end(ap);
        failures++;
    }
    fflush(stdout);
}

static void p(char *buf, size_t n, const char *sub)
{
    snprintf(buf, n, "%s%s", root, sub);
}

/* ---- waiting ------------------------------------------------------------- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void signal_all(void)
{
    pthread_mutex_lock(&mu);
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

/* Waits until *flag != 0 (read under mu) or ms pass; returns *flag. */
static int wait_flag(volatile int *flag, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&mu);
    while (!*flag) {
        if (pthread_cond_timedwait(&cv, &mu, &ts) == ETIMEDOUT)
            break;
    }
    int v = *flag;
    pthread_mutex_unlock(&mu);
    return v;
}

/* ---- session watcher ------------------------------------------------------ */

struct conn {
    volatile int connected;
    volatile int expired;
    volatile int state;
};

static void global_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    (void)zh;
    (void)path;
    struct conn *c = ctx;
    if (type != ZOO_SESSION_EVENT || !c)
        return;
    pthread_mutex_lock(&mu);
    c->state = state;
    if (state == ZOO_CONNECTED_STATE)
        c->connected = 1;
    if (state == ZOO_EXPIRED_SESSION_STATE)
        c->expired = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static zhandle_t *open_handle(const char *hp, struct conn *c, const clientid_t *cid, int timeout)
{
    memset(c, 0, sizeof *c);
    zhandle_t *zh = zookeeper_init(hp, global_watcher, timeout, cid, c, 0);
    if (!zh)
        return NULL;
    wait_flag(&c->connected, 15000);
    return zh;
}

/* ---- one-shot watch recorder ---------------------------------------------- */

struct watch_rec {
    volatile int fired;
    int type;
    char path[512];
};

static void rec_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    (void)zh;
    (void)state;
    struct watch_rec *w = ctx;
    if (type == ZOO_SESSION_EVENT)
        return;
    pthread_mutex_lock(&mu);
    w->fired++;
    w->type = type;
    snprintf(w->path, sizeof w->path, "%s", path ? path : "");
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

/* ---- async completions ---------------------------------------------------- */

struct async_res {
    volatile int done;
    int rc;
    char value[512];
    int count;
    struct Stat stat;
};

static void string_done(int rc, const char *value, const void *data)
{
    struct async_res *r = (struct async_res *)data;
    pthread_mutex_lock(&mu);
    r->rc = rc;
    snprintf(r->value, sizeof r->value, "%s", value ? value : "");
    r->done = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void data_done(int rc, const char *value, int len, const struct Stat *st, const void *data)
{
    struct async_res *r = (struct async_res *)data;
    pthread_mutex_lock(&mu);
    r->rc = rc;
    if (rc == ZOK && value && len >= 0 && (size_t)len < sizeof r->value) {
        memcpy(r->value, value, (size_t)len);
        r->value[len] = 0;
    }
    if (st)
        r->stat = *st;
    r->done = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void strings_done(int rc, const struct String_vector *v, const void *data)
{
    struct async_res *r = (struct async_res *)data;
    pthread_mutex_lock(&mu);
    r->rc = rc;
    r->count = (rc == ZOK && v) ? v->count : -1;
    r->done = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void stat_done(int rc, const struct Stat *st, const void *data)
{
    struct async_res *r = (struct async_res *)data;
    pthread_mutex_lock(&mu);
    r->rc = rc;
    if (st)
        r->stat = *st;
    r->done = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void void_done(int rc, const void *data)
{
    struct async_res *r = (struct async_res *)data;
    pthread_mutex_lock(&mu);
    r->rc = rc;
    r->done = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

/* ---- checks --------------------------------------------------------------- */

static void test_sync(zhandle_t *zh)
{
    char path[512], out[512], buf[512];
    struct Stat st;
    int rc, len;

    rc = zoo_create(zh, root, "root", 4, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, out, sizeof out);
    check(rc == ZOK && strcmp(out, root) == 0, "create", "rc=%d path=%s", rc, out);
    p(path, sizeof path, "/a");
    rc = zoo_create2(zh, path, "hello", 5, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, out, sizeof out, &st);
    check(rc == ZOK && st.version == 0 && st.dataLength == 5 && st.czxid == st.mzxid &&
          st.ephemeralOwner == 0, "create2-stat", "rc=%d v=%d len=%d", rc, st.version,
          st.dataLength);
    rc = zoo_create(zh, path, "x", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, out, sizeof out);
    check(rc == ZNODEEXISTS, "create-exists", "rc=%d", rc);
    p(path, sizeof path, "/missing/child");
    rc = zoo_create(zh, path, "x", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, out, sizeof out);
    check(rc == ZNONODE, "create-noparent", "rc=%d", rc);

    p(path, sizeof path, "/s-");
    rc = zoo_create(zh, path, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT_SEQUENTIAL, out,
                    sizeof out);
    p(buf, sizeof buf, "/s-0000000001");
    check(rc == ZOK && strcmp(out, buf) == 0, "create-sequential", "rc=%d path=%s", rc, out);
    p(path, sizeof path, "/e");
    rc = zoo_create(zh, path, "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, out, sizeof out);
    check(rc == ZOK, "create-ephemeral", "rc=%d", rc);
    rc = zoo_exists(zh, path, 0, &st);
    check(rc == ZOK && st.ephemeralOwner == zoo_client_id(zh)->client_id, "ephemeral-owner",
          "rc=%d owner=%llx", rc, (unsigned long long)st.ephemeralOwner);
    p(path, sizeof path, "/e/child");
    rc = zoo_create(zh, path, "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, out, sizeof out);
    check(rc == ZNOCHILDRENFOREPHEMERALS, "no-children-for-ephemerals", "rc=%d", rc);

    p(path, sizeof path, "/a");
    len = sizeof buf;
    rc = zoo_get(zh, path, 0, buf, &len, &st);
    check(rc == ZOK && len == 5 && memcmp(buf, "hello", 5) == 0, "get", "rc=%d len=%d", rc, len);
    rc = zoo_set(zh, path, "world", 5, 0);
    check(rc == ZOK, "set-version", "rc=%d", rc);
    rc = zoo_set(zh, path, "again", 5, 0);
    check(rc == ZBADVERSION, "set-badversion", "rc=%d", rc);
    rc = zoo_set2(zh, path, "third", 5, -1, &st);
    check(rc == ZOK && st.version == 2, "set2", "rc=%d v=%d", rc, st.version);
    p(path, sizeof path, "/nope");
    rc = zoo_exists(zh, path, 0, &st);
    check(rc == ZNONODE, "exists-missing", "rc=%d", rc);
    len = sizeof buf;
    rc = zoo_get(zh, path, 0, buf, &len, &st);
    check(rc == ZNONODE, "get-missing", "rc=%d", rc);

    struct String_vector kids;
    rc = zoo_get_children2(zh, root, 0, &kids, &st);
    check(rc == ZOK && kids.count == 3 && st.numChildren == 3 && st.cversion == 3,
          "children2", "rc=%d n=%d numChildren=%d cversion=%d", rc, kids.count, st.numChildren,
          st.cversion);
    if (rc == ZOK)
        deallocate_String_vector(&kids);
    rc = zoo_delete(zh, root, -1);
    check(rc == ZNOTEMPTY, "delete-notempty", "rc=%d", rc);
    p(path, sizeof path, "/s-0000000001");
    rc = zoo_delete(zh, path, 3);
    check(rc == ZBADVERSION, "delete-badversion", "rc=%d", rc);
    rc = zoo_delete(zh, path, 0);
    check(rc == ZOK, "delete", "rc=%d", rc);
    rc = zoo_delete(zh, path, -1);
    check(rc == ZNONODE, "delete-missing", "rc=%d", rc);

    /* TTL and container nodes (extended types). */
    p(path, sizeof path, "/ttl");
    rc = zoo_create_ttl(zh, path, "t", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT_WITH_TTL, 60000,
                        out, sizeof out);
    check(rc == ZOK, "create-ttl", "rc=%d", rc);
    p(path, sizeof path, "/ttl0");
    rc = zoo_create_ttl(zh, path, "t", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT_WITH_TTL, 0,
                        out, sizeof out);
    check(rc == ZBADARGUMENTS, "create-ttl-zero", "rc=%d", rc);
    p(path, sizeof path, "/box");
    rc = zoo_create(zh, path, "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_CONTAINER, out, sizeof out);
    check(rc == ZOK, "create-container", "rc=%d", rc);
    rc = zoo_exists(zh, path, 0, &st);
    check(rc == ZOK && st.ephemeralOwner == 0, "container-stat", "rc=%d", rc);
}

static void test_async(zhandle_t *zh)
{
    char path[512];
    struct async_res r1, r2, r3, r4, r5;
    memset(&r1, 0, sizeof r1);
    memset(&r2, 0, sizeof r2);
    memset(&r3, 0, sizeof r3);
    memset(&r4, 0, sizeof r4);
    memset(&r5, 0, sizeof r5);

    /* Pipelined: create, get, children, sync, then a failing create; the
     * completions come back in request order. */
    p(path, sizeof path, "/async");
    int rc = zoo_acreate(zh, path, "v", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, string_done, &r1);
    rc |= zoo_aget(zh, path, 0, data_done, &r2);
    rc |= zoo_aget_children(zh, root, 0, strings_done, &r3);
    rc |= zoo_async(zh, path, string_done, &r4);
    rc |= zoo_acreate(zh, path, "v", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, string_done, &r5);
    check(rc == ZOK, "async-submit", "rc=%d", rc);
    wait_flag(&r5.done, 10000);
    check(r1.done && r1.rc == ZOK && strcmp(r1.value, path) == 0, "acreate", "done=%d rc=%d %s",
          r1.done, r1.rc, r1.value);
    check(r2.done && r2.rc == ZOK && strcmp(r2.value, "v") == 0 && r2.stat.dataLength == 1,
          "aget", "done=%d rc=%d", r2.done, r2.rc);
    check(r3.done && r3.rc == ZOK && r3.count >= 1, "aget_children", "done=%d rc=%d n=%d",
          r3.done, r3.rc, r3.count);
    check(r4.done && r4.rc == ZOK && strcmp(r4.value, path) == 0, "async-sync",
          "done=%d rc=%d %s", r4.done, r4.rc, r4.value);
    check(r5.done && r5.rc == ZNODEEXISTS, "acreate-exists", "done=%d rc=%d", r5.done, r5.rc);

    /* Many outstanding requests at once. */
    enum { N = 200 };
    static struct async_res many[N];
    memset(many, 0, sizeof many);
    for (int i = 0; i < N; i++)
        zoo_aexists(zh, path, 0, stat_done, &many[i]);
    wait_flag(&many[N - 1].done, 15000);
    int good = 0;
    for (int i = 0; i < N; i++)
        good += many[i].done && many[i].rc == ZOK;
    check(good == N, "async-200-outstanding", "%d of %d answered", good, N);
}

static void test_watch(zhandle_t *zh, zhandle_t *other)
{
    char path[512], buf[64];
    struct Stat st;
    struct watch_rec wd, we, wc;
    memset(&wd, 0, sizeof wd);
    memset(&we, 0, sizeof we);
    memset(&wc, 0, sizeof wc);
    int len = sizeof buf;

    p(path, sizeof path, "/a");
    int rc = zoo_wget(zh, path, rec_watcher, &wd, buf, &len, &st);
    check(rc == ZOK, "wget", "rc=%d", rc);
    rc = zoo_set(other, path, "changed", 7, -1);
    wait_flag(&wd.fired, 5000);
    check(wd.fired == 1 && wd.type == ZOO_CHANGED_EVENT && strcmp(wd.path, path) == 0,
          "watch-changed", "fired=%d type=%d path=%s", wd.fired, wd.type, wd.path);
    zoo_set(other, path, "again", 5, -1);
    usleep(300000);
    check(wd.fired == 1, "watch-one-shot", "fired=%d", wd.fired);

    p(path, sizeof path, "/w-new");
    rc = zoo_wexists(zh, path, rec_watcher, &we, &st);
    check(rc == ZNONODE, "wexists-missing", "rc=%d", rc);
    struct String_vector kids;
    rc = zoo_wget_children(zh, root, rec_watcher, &wc, &kids);
    if (rc == ZOK)
        deallocate_String_vector(&kids);
    zoo_create(other, path, "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, NULL, 0);
    wait_flag(&we.fired, 5000);
    wait_flag(&wc.fired, 5000);
    check(we.fired == 1 && we.type == ZOO_CREATED_EVENT, "watch-created", "fired=%d type=%d",
          we.fired, we.type);
    check(wc.fired == 1 && wc.type == ZOO_CHILD_EVENT && strcmp(wc.path, root) == 0,
          "watch-child", "fired=%d type=%d", wc.fired, wc.type);

    /* removeWatches */
    struct watch_rec wr;
    memset(&wr, 0, sizeof wr);
    len = sizeof buf;
    zoo_wget(zh, path, rec_watcher, &wr, buf, &len, &st);
    rc = zoo_remove_watches(zh, path, ZWATCHTYPE_DATA, rec_watcher, &wr, 0);
    check(rc == ZOK, "remove-watches", "rc=%d", rc);
    zoo_set(other, path, "x", 1, -1);
    usleep(300000);
    check(wr.fired <= 1 && (wr.fired == 0 || wr.type != ZOO_CHANGED_EVENT),
          "removed-watch-silent", "fired=%d type=%d", wr.fired, wr.type);
    rc = zoo_remove_watches(zh, path, ZWATCHTYPE_DATA, rec_watcher, &wr, 0);
    check(rc == ZNOWATCHER, "remove-watches-none", "rc=%d", rc);
}

static void test_multi(zhandle_t *zh)
{
    char p1[512], p2[512], pa[512], out1[512], out2[512];
    struct Stat st;
    zoo_op_t ops[4];
    zoo_op_result_t res[4];

    p(p1, sizeof p1, "/m");
    p(p2, sizeof p2, "/m/seq-");
    p(pa, sizeof pa, "/a");
    zoo_create_op_init(&ops[0], p1, "m", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, out1, sizeof out1);
    zoo_create_op_init(&ops[1], p2, "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT_SEQUENTIAL, out2,
                       sizeof out2);
    zoo_set_op_init(&ops[2], pa, "multi", 5, -1, &st);
    zoo_check_op_init(&ops[3], p1, 0);
    int rc = zoo_multi(zh, 4, ops, res);
    char want[512];
    p(want, sizeof want, "/m/seq-0000000000");
    check(rc == ZOK && res[0].err == ZOK && res[1].err == ZOK && res[2].err == ZOK &&
          res[3].err == ZOK && strcmp(out2, want) == 0 && st.dataLength == 5,
          "multi", "rc=%d errs=%d,%d,%d,%d seq=%s", rc, res[0].err, res[1].err, res[2].err,
          res[3].err, out2);

    zoo_create_op_init(&ops[0], p1, "m", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, out1, sizeof out1);
    zoo_delete_op_init(&ops[1], pa, -1);
    zoo_check_op_init(&ops[2], pa, 42);
    rc = zoo_multi(zh, 3, ops, res);
    /* ZooKeeper: the ops before the failing one report OK (rolled back), the
     * failing one its error, the ones after RUNTIMEINCONSISTENCY. */
    check(rc == ZNODEEXISTS && res[0].err == ZNODEEXISTS && res[1].err == ZRUNTIMEINCONSISTENCY &&
          res[2].err == ZRUNTIMEINCONSISTENCY, "multi-fail", "rc=%d errs=%d,%d,%d", rc, res[0].err,
          res[1].err, res[2].err);
    rc = zoo_exists(zh, pa, 0, &st);
    check(rc == ZOK, "multi-atomic", "rc=%d", rc);

    struct async_res ar;
    memset(&ar, 0, sizeof ar);
    zoo_delete_op_init(&ops[0], pa, -1);
    zoo_check_op_init(&ops[1], p1, 7);
    rc = zoo_amulti(zh, 2, ops, res, void_done, &ar);
    wait_flag(&ar.done, 10000);
    check(rc == ZOK && ar.done && ar.rc == ZBADVERSION && res[0].err == ZOK &&
          res[1].err == ZBADVERSION, "amulti-fail", "rc=%d done=%d arc=%d errs=%d,%d", rc, ar.done,
          ar.rc, res[0].err, res[1].err);
}

static void test_acl(zhandle_t *zh, zhandle_t *other)
{
    char path[512], buf[64];
    struct Stat st;
    struct async_res ar;
    memset(&ar, 0, sizeof ar);
    int len;

    p(path, sizeof path, "/secret");
    int rc = zoo_create(zh, path, "s", 1, &ZOO_CREATOR_ALL_ACL, ZOO_PERSISTENT, NULL, 0);
    check(rc == ZINVALIDACL, "creator-acl-without-auth", "rc=%d", rc);
    rc = zoo_add_auth(zh, "digest", "cuser:cpw", 9, void_done, &ar);
    wait_flag(&ar.done, 10000);
    check(rc == ZOK && ar.done && ar.rc == ZOK, "add-auth", "rc=%d done=%d arc=%d", rc, ar.done,
          ar.rc);
    rc = zoo_create(zh, path, "s", 1, &ZOO_CREATOR_ALL_ACL, ZOO_PERSISTENT, NULL, 0);
    check(rc == ZOK, "create-creator-acl", "rc=%d", rc);
    struct ACL_vector acl;
    rc = zoo_get_acl(zh, path, &acl, &st);
    check(rc == ZOK && acl.count == 1 && strcmp(acl.data[0].id.scheme, "digest") == 0 &&
          strncmp(acl.data[0].id.id, "cuser:", 6) == 0 && acl.data[0].perms == ZOO_PERM_ALL,
          "get-acl", "rc=%d count=%d", rc, acl.count);
    if (rc == ZOK)
        deallocate_ACL_vector(&acl);
    len = sizeof buf;
    rc = zoo_get(other, path, 0, buf, &len, &st);
    check(rc == ZNOAUTH, "noauth", "rc=%d", rc);
    len = sizeof buf;
    rc = zoo_get(zh, path, 0, buf, &len, &st);
    check(rc == ZOK && len == 1, "auth-get", "rc=%d", rc);
    rc = zoo_set_acl(zh, path, 0, &ZOO_READ_ACL_UNSAFE);
    check(rc == ZOK, "set-acl", "rc=%d", rc);
    rc = zoo_set_acl(zh, path, 0, &ZOO_OPEN_ACL_UNSAFE);
    check(rc == ZNOAUTH, "set-acl-noadmin", "rc=%d", rc);
    len = sizeof buf;
    rc = zoo_get(other, path, 0, buf, &len, &st);
    check(rc == ZOK && st.aversion == 1, "read-acl-aversion", "rc=%d aversion=%d", rc, st.aversion);
}

/* A child process opens a session, creates an ephemeral node, reports its
 * client id on a pipe and dies without closing: the session lives on. */
static int spawn_owner(const char *path, clientid_t *cid)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        close(fds[0]);
        struct conn c;
        zhandle_t *zh = open_handle(host, &c, NULL, 10000);
        if (!zh || !c.connected)
            _exit(2);
        if (zoo_create(zh, path, "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, NULL, 0) != ZOK)
            _exit(3);
        const clientid_t *id = zoo_client_id(zh);
        if (write(fds[1], id, sizeof *id) != (ssize_t)sizeof *id)
            _exit(4);
        raise(SIGKILL);
        _exit(5);
    }
    close(fds[1]);
    ssize_t n = read(fds[0], cid, sizeof *cid);
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    return n == (ssize_t)sizeof *cid ? 0 : -1;
}

static void test_sessions(zhandle_t *watcher_zh)
{
    char path[512];
    struct Stat st;
    clientid_t cid;
    p(path, sizeof path, "/owned");
    int rc = spawn_owner(path, &cid);
    check(rc == 0, "owner-process", "could not start it");
    if (rc != 0)
        return;
    rc = zoo_exists(watcher_zh, path, 0, &st);
    check(rc == ZOK && st.ephemeralOwner == cid.client_id, "owner-ephemeral", "rc=%d", rc);

    /* Same session, new connection. */
    struct conn c;
    zhandle_t *zh = open_handle(host, &c, &cid, 10000);
    check(zh && c.connected && zoo_client_id(zh)->client_id == cid.client_id, "reconnect-same-session",
          "connected=%d", c.connected);
    if (!zh)
        return;
    rc = zoo_delete(zh, path, -1);
    check(rc == ZOK, "reconnected-owns-ephemeral", "rc=%d", rc);
    rc = zoo_create(zh, path, "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, NULL, 0);
    zookeeper_close(zh);   /* closeSession: the ephemeral goes at once */
    rc = zoo_exists(watcher_zh, path, 0, &st);
    check(rc == ZNONODE, "close-deletes-ephemeral", "rc=%d", rc);

    /* The closed session cannot be resumed: the client is told it expired. */
    memset(&c, 0, sizeof c);
    zh = zookeeper_init(host, global_watcher, 10000, &cid, &c, 0);
    wait_flag(&c.expired, 15000);
    check(c.expired && !c.connected, "closed-session-expired", "expired=%d connected=%d state=%d",
          c.expired, c.connected, c.state);
    if (zh)
        zookeeper_close(zh);

    /* Negotiated timeout. */
    zh = open_handle(host, &c, NULL, 1000);
    check(zh && c.connected && zoo_recv_timeout(zh) == 1000, "negotiated-timeout", "timeout=%d",
          zh ? zoo_recv_timeout(zh) : -1);
    if (zh)
        zookeeper_close(zh);
}

/* The driver cuts the connection (through its proxy) and changes the
 * watched node while the client is away; after reconnecting with its
 * session the client re-sends its watches and the change is reported. */
static void test_reconnect_watch(const char *proxy, zhandle_t *direct)
{
    char path[512], buf[64];
    struct Stat st;
    struct watch_rec w, wc;
    memset(&w, 0, sizeof w);
    memset(&wc, 0, sizeof wc);
    struct conn c;
    zhandle_t *zh = open_handle(proxy, &c, NULL, 10000);
    check(zh && c.connected, "proxy-connect", "connected=%d", c.connected);
    if (!zh)
        return;
    int64_t sid = zoo_client_id(zh)->client_id;
    p(path, sizeof path, "/rw");
    zoo_create(direct, path, "0", 1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0);
    int len = sizeof buf;
    int rc = zoo_wget(zh, path, rec_watcher, &w, buf, &len, &st);
    struct String_vector kids;
    rc |= zoo_wget_children(zh, path, rec_watcher, &wc, &kids);
    if (rc == ZOK)
        deallocate_String_vector(&kids);
    check(rc == ZOK, "proxy-watch", "rc=%d", rc);
    printf("DROP %s\n", path);
    fflush(stdout);
    char line[64];
    if (!fgets(line, sizeof line, stdin)) {
        check(0, "driver", "no GO line");
        zookeeper_close(zh);
        return;
    }
    wait_flag(&w.fired, 20000);
    wait_flag(&wc.fired, 5000);
    check(w.fired == 1 && w.type == ZOO_CHANGED_EVENT, "setwatches-after-reconnect",
          "fired=%d type=%d state=%d", w.fired, w.type, zoo_state(zh));
    check(wc.fired == 1 && wc.type == ZOO_CHILD_EVENT, "setwatches-child-after-reconnect",
          "fired=%d type=%d", wc.fired, wc.type);
    check(zoo_client_id(zh)->client_id == sid && zoo_state(zh) == ZOO_CONNECTED_STATE,
          "same-session-after-reconnect", "state=%d", zoo_state(zh));
    zookeeper_close(zh);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s HOST:PORT ROOT [PROXY_HOST:PORT]\n", argv[0]);
        return 100;
    }
    host = argv[1];
    snprintf(root, sizeof root, "%s", argv[2]);
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    setvbuf(stdout, NULL, _IOLBF, 0);

    struct conn c1, c2;
    zhandle_t *zh = open_handle(host, &c1, NULL, 10000);
    zhandle_t *other = open_handle(host, &c2, NULL, 10000);
    check(zh && other && c1.connected && c2.connected, "connect", "c1=%d c2=%d", c1.connected,
          c2.connected);
    if (!zh || !other || !c1.connected || !c2.connected)
        return 100;
    check(zoo_recv_timeout(zh) > 0, "recv-timeout", "%d", zoo_recv_timeout(zh));

    test_sync(zh);
    test_async(zh);
    test_watch(zh, other);
    test_multi(zh);
    test_acl(zh, other);
    test_sessions(other);
    if (argc > 3)
        test_reconnect_watch(argv[3], other);

    zookeeper_close(zh);
    zookeeper_close(other);
    signal_all();
    printf("done failures=%d\n", failures);
    return failures > 100 ? 100 : failures;
}
