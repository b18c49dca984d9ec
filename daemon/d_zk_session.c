/*
 * d_zk_session.c - the ZooKeeper session handshake and identities, as
 * ZooKeeperServer.processConnectRequest and the auth providers do them.
 *
 * A ConnectRequest with session id 0 creates a session through the write
 * pipeline (a CREATE_SESSION txn, so it is logged like any write) with the
 * requested timeout clamped to [min, max]_session_timeout_ms and 16 random
 * password bytes; the ConnectResponse goes out when it is committed. A
 * ConnectRequest with a session id resumes that session if the password
 * matches and it has not expired: the timeout is negotiated again from this
 * request, as ZooKeeper does, and a connection that still holds the session
 * is closed (the session moved). A session that is gone is refused as ZooKeeper refuses it
 * (timeout 0, session 0, zero password), then the connection closes; a
 * client that has seen a newer zxid than ours is closed without a reply.
 *
 * Identities (the client's address as "ip", digest users added by auth)
 * belong to the connection, as in ZooKeeper: they are added to the session
 * for ACL checks, kept here for whoAmI, and cleared from the session when
 * the connection goes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/evp.h>

#include "d_log.h"
#include "d_zk_int.h"

#define ZKD__MAX_IDENTS 256

/* ---- sessions -------------------------------------------------------------- */

static int32_t session__negotiate(const zkd_zk_conn *c, int32_t want)
{
    const zk_conf *conf = c->d->conf;
    int64_t t = want;
    if (t < (int64_t)conf->zk_min_session_timeout_ms)
        t = conf->zk_min_session_timeout_ms;
    if (t > (int64_t)conf->zk_max_session_timeout_ms)
        t = conf->zk_max_session_timeout_ms;
    return t > INT32_MAX ? INT32_MAX : (int32_t)t;
}

static int session__reply(zkd_zk_conn *c, int32_t timeout, int64_t session,
                          const uint8_t *passwd)
{
    zkp_connect shape = {.has_read_only = c->has_ro};
    int rc = zkp_connect_reply(&c->out, &shape, timeout, session, passwd, false);
    if (rc == 0)
        zkd_zk_sent(c, -1);
    return rc;
}

/* ZooKeeper touches a session with its connection's timeout
 * (touchSession(id, cnxn.getSessionTimeout())), which a reconnect may have
 * changed; the registry expires a session at touched + its own timeout, so
 * the touch is dated so that both give the same deadline. */
void zkd_zk_touch(zkd_zk_conn *c, int64_t now)
{
    if (c->session != 0)
        reg_session_touch(c->d->reg, c->session, now + c->timeout_ms - c->sess_timeout_ms);
}

void zkd_zk_session_release(zkd_zk_conn *c)
{
    zkd_idmap *m = &c->srv->sessions;
    if (c->session && zkd_idmap_get(m, (uint64_t)c->session) == c)
        zkd_idmap_del(m, (uint64_t)c->session);
}

/* c now holds session: the map points at it, a previous holder is closed. */
static int session__establish(zkd_zk_conn *c, int64_t session)
{
    zkd_idmap *m = &c->srv->sessions;
    zkd_zk_conn *old = zkd_idmap_get(m, (uint64_t)session);
    if (old && old != c) {
        zkd_info("zookeeper %llu: session 0x%llx moved to connection %llu",
                 (unsigned long long)old->id, (unsigned long long)session,
                 (unsigned long long)c->id);
        zkd_zk_close(old, "session moved");
    }
    c->session = session;
    int rc = zkd_idmap_put(m, (uint64_t)session, c);
    if (rc == 0)
        rc = zkd_zk_add_ident(c, "ip", c->ip);
    if (rc == 0)
        rc = session__reply(c, c->timeout_ms, session, c->passwd);
    if (rc < 0)
        return rc;
    c->state = ZC_READY;
    c->touched_ms = zkd_now_ms();
    zkd_zk_touch(c, c->touched_ms);
    zkd_debug("zookeeper %llu: session 0x%llx timeout %d", (unsigned long long)c->id,
              (unsigned long long)session, c->timeout_ms);
    return 0;
}

static void session__on_created(void *ctx, const reg_result *res)
{
    zkd_zk_conn *c = ctx;
    if (c->state == ZC_CLOSED) {
        /* the client left: the session lives on until it expires */
    } else if (res->err != 0) {
        zkd_error("zookeeper %llu: cannot create session: %s", (unsigned long long)c->id,
                  reg_strerror(res->err));
        zkd_zk_close(c, "no session");
    } else if (session__establish(c, res->session) < 0) {
        zkd_zk_close(c, "cannot establish session");
    } else {
        zkd_zk_process(c);
    }
    zkd_zk_unref(c);
}

static int session__create(zkd_zk_conn *c)
{
    if (getrandom(c->passwd, sizeof(c->passwd), GRND_NONBLOCK) != (ssize_t)sizeof(c->passwd)) {
        zkd_error("zookeeper: no random bytes for a session password");
        return -EAGAIN;
    }
    reg_op op = {.type = REG_OP_CREATE_SESSION, .timeout_ms = c->timeout_ms,
                 .passwd = c->passwd};
    c->sess_timeout_ms = c->timeout_ms;
    c->refs++;
    int rc = zkd_pipeline_write(&c->d->pipe, 0, &op, zkd_now_ms(), session__on_created, c);
    if (rc < 0) {
        c->refs--;
        return rc;
    }
    c->state = ZC_CONNECTING;
    return 0;
}

static int session__resume(zkd_zk_conn *c, const zkp_connect *req)
{
    reg_t *reg = c->d->reg;
    int64_t sid = req->session_id;
    if (req->passwd.len != ZKP_PASSWD_LEN ||
        reg_session_check(reg, sid, req->passwd.data, zkd_now_ms()) < 0) {
        zkd_info("zookeeper %llu: session 0x%llx expired or unknown; refused",
                 (unsigned long long)c->id, (unsigned long long)sid);
        int rc = session__reply(c, 0, 0, NULL);
        zkd_zk_drain(c);
        return rc;
    }
    c->sess_timeout_ms = reg_session_timeout(reg, sid);
    memcpy(c->passwd, req->passwd.data, ZKP_PASSWD_LEN);
    reg_session_clear_auth(reg, sid);
    return session__establish(c, sid);
}

int zkd_zk_handshake(zkd_zk_conn *c, const uint8_t *frame, size_t len)
{
    zkp_connect req;
    c->st.recved++;
    c->srv->st.recved++;
    if (zkp_connect_decode(frame, len, &req) < 0) {
        zkd_info("zookeeper %llu: malformed ConnectRequest", (unsigned long long)c->id);
        return -EBADMSG;
    }
    c->has_ro = req.has_read_only;
    int64_t last = reg_last_zxid(c->d->reg);
    if (req.last_zxid_seen > last) {
        zkd_info("zookeeper %llu: refusing session request: client has seen zxid 0x%llx, "
                 "our last zxid is 0x%llx", (unsigned long long)c->id,
                 (unsigned long long)req.last_zxid_seen, (unsigned long long)last);
        return -ESTALE;
    }
    c->timeout_ms = session__negotiate(c, req.timeout_ms);
    return req.session_id == 0 ? session__create(c) : session__resume(c, &req);
}

/* ---- identities ------------------------------------------------------------ */

void zkd_zk_free_idents(zkd_zk_conn *c)
{
    for (size_t i = 0; i < c->nids; i++) {
        free(c->ids[i].scheme);
        free(c->ids[i].id);
    }
    free(c->ids);
    c->ids = NULL;
    c->nids = 0;
}

static bool ident__has(const zkd_zk_conn *c, const char *scheme, const char *id)
{
    for (size_t i = 0; i < c->nids; i++)
        if (strcmp(c->ids[i].scheme, scheme) == 0 && strcmp(c->ids[i].id, id) == 0)
            return true;
    return false;
}

int zkd_zk_add_ident(zkd_zk_conn *c, const char *scheme, const char *id)
{
    if (ident__has(c, scheme, id))
        return 0;
    if (c->nids >= ZKD__MAX_IDENTS)
        return -ENOSPC;
    int rc = reg_session_add_auth(c->d->reg, c->session, scheme, id);
    if (rc < 0)
        return rc;
    zkd_zk_ident *n = realloc(c->ids, (c->nids + 1) * sizeof(*n));
    if (n == NULL)
        return -ENOMEM;
    c->ids = n;
    n[c->nids].scheme = strdup(scheme);
    n[c->nids].id = strdup(id);
    if (n[c->nids].scheme == NULL || n[c->nids].id == NULL) {
        free(n[c->nids].scheme);
        free(n[c->nids].id);
        return -ENOMEM;
    }
    c->nids++;
    return 0;
}

/* "user:base64(sha1(user:password))" for auth data "user:password". */
static int ident__digest(const zkp_bytes *auth, char *out, size_t outlen)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    const uint8_t *p = auth->data ? auth->data : (const uint8_t *)"";
    if (memchr(p, '\0', auth->len) != NULL)
        return REG_EAUTHFAILED;
    const uint8_t *colon = memchr(p, ':', auth->len);
    size_t ulen = colon ? (size_t)(colon - p) : auth->len;
    if (ulen + 2 + 4 * ((20 + 2) / 3) >= outlen ||
        EVP_Digest(p, auth->len, md, &mdlen, EVP_sha1(), NULL) != 1 || mdlen != 20)
        return REG_EAUTHFAILED;
    memcpy(out, p, ulen);
    out[ulen] = ':';
    EVP_EncodeBlock((unsigned char *)out + ulen + 1, md, (int)mdlen);
    return 0;
}

static int ident__auth_digest(zkd_zk_conn *c, const zkp_bytes *auth)
{
    size_t cap = auth->len + 64;
    char *id = malloc(cap);
    if (id == NULL)
        return -ENOMEM;
    int rc = ident__digest(auth, id, cap);
    if (rc == 0)
        rc = zkd_zk_add_ident(c, "digest", id);
    free(id);
    return rc;
}

int zkd_zk_auth(zkd_zk_conn *c, const zkp_request *req)
{
    const char *scheme = req->scheme.s ? req->scheme.s : "";
    int rc = REG_EAUTHFAILED;
    if (strcmp(scheme, "digest") == 0)
        rc = ident__auth_digest(c, &req->data);
    else if (strcmp(scheme, "ip") == 0)
        rc = zkd_zk_add_ident(c, "ip", c->ip);
    if (rc == 0)
        return zkp_reply_header(&c->out, req->xid, 0, 0);
    zkd_warn("zookeeper %llu: authentication failed for scheme %s", (unsigned long long)c->id,
             scheme);
    if (zkp_reply_header(&c->out, req->xid, 0, REG_EAUTHFAILED) < 0)
        return -ENOBUFS;
    return ZKD_ZK_CLOSE;
}

/* whoAmI: each identity as {scheme, user}; a digest user without its hash. */
int zkd_zk_whoami(zkd_zk_conn *c, const zkp_request *req)
{
    reg_auth *v = calloc(c->nids ? c->nids : 1, sizeof(*v));
    char **users = calloc(c->nids ? c->nids : 1, sizeof(*users));
    int rc = v && users ? 0 : -ENOMEM;
    for (size_t i = 0; rc == 0 && i < c->nids; i++) {
        const char *id = c->ids[i].id, *colon = strchr(id, ':');
        bool digest = strcmp(c->ids[i].scheme, "digest") == 0 && colon;
        users[i] = digest ? strndup(id, (size_t)(colon - id)) : strdup(id);
        v[i].scheme = c->ids[i].scheme;
        v[i].id = users[i];
        if (users[i] == NULL)
            rc = -ENOMEM;
    }
    if (rc == 0)
        rc = zkp_reply_whoami(&c->out, req->xid, reg_last_zxid(c->d->reg), v, c->nids);
    for (size_t i = 0; users && i < c->nids; i++)
        free(users[i]);
    free(users);
    free(v);
    return rc;
}
