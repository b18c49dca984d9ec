"""Differential scenarios: sequences of ZooKeeper operations whose observable
results (return values, error codes, stat fields, sequence numbers, watch
events and their order) must be identical on Apache ZooKeeper 3.8 and on
zonekeeperd.

A scenario is a function of an Env. It drives kazoo clients and raw
protocol clients (zkraw) and records what it observes with env.log(); the
records of both servers are compared exactly. Only what must differ is
normalized:

  - zxids are relative to the scenario's base (the czxid of its root node,
    created first), since the servers' histories differ;
  - session ids become S1, S2, ... in the order the scenario opened them;
  - ctime and mtime become "T" (checked to be within a minute of now);
  - children lists are sorted (ZooKeeper's order is a hash set's).

Every wait is bounded.
"""
import json
import threading
import time

from kazoo.client import KazooClient
from kazoo.protocol.states import ZnodeStat

import zkraw
from zkraw import OP, body_create, body_path_version, body_set_data, body_path_watch

STAT_KEYS = zkraw.STAT_FIELDS
ZXID_KEYS = ("czxid", "mzxid", "pzxid")


class Env:
    def __init__(self, port, name):
        self.port = port
        self.root = "/diff-" + name
        self.records = []
        self.sessions = {}
        self.kazoos = []
        self.raws = []
        self.lock = threading.Lock()
        self.admin = self.raw()
        r = self.admin.create(self.root, b"root")
        assert r.err == 0, r
        self.base = r.body[1]["czxid"]
        self.log("root", r.body[0], r.body[1])

    # -- clients --
    def sid(self, session_id):
        if session_id == 0:
            return 0
        if session_id not in self.sessions:
            self.sessions[session_id] = "S%d" % (len(self.sessions) + 1)
        return self.sessions[session_id]

    def kazoo(self, timeout=10.0, **kw):
        zk = KazooClient(hosts="127.0.0.1:%d" % self.port, timeout=timeout, **kw)
        zk.start(timeout=15)
        self.kazoos.append(zk)
        self.sid(zk.client_id[0])
        return zk

    def raw(self, timeout_ms=30000, **kw):
        c = zkraw.RawZK(self.port)
        c.connect(timeout_ms=timeout_ms, **kw)
        self.raws.append(c)
        if c.session_id:
            self.sid(c.session_id)
        return c

    def close(self):
        for zk in self.kazoos:
            try:
                zk.stop()
                zk.close()
            except Exception:
                pass
        for c in self.raws:
            try:
                c.s.settimeout(5)
                c.close_session()
            except Exception:
                pass
            c.close()

    # -- normalization --
    def z(self, zxid):
        if zxid is None or zxid <= 0:
            return zxid
        return zxid - self.base

    def stat(self, st):
        if st is None:
            return None
        if isinstance(st, ZnodeStat):
            st = {k: getattr(st, k) for k in STAT_KEYS}
        out = {}
        now = time.time() * 1000
        for k in STAT_KEYS:
            v = st[k]
            if k in ZXID_KEYS:
                v = self.z(v)
            elif k in ("ctime", "mtime"):
                v = "T" if abs(now - v) < 60000 else "BADTIME(%d)" % v
            elif k == "ephemeralOwner":
                v = self.sid(v)
            out[k] = v
        return out

    def norm(self, v):
        """Normalizes a value returned by kazoo or zkraw for the record."""
        if isinstance(v, ZnodeStat):
            return self.stat(v)
        if isinstance(v, dict) and "czxid" in v:
            return self.stat(v)
        if isinstance(v, BaseException):
            return "EXC:" + type(v).__name__
        if isinstance(v, (list, tuple)):
            return [self.norm(x) for x in v]
        if isinstance(v, bytes):
            if len(v) > 64:
                import hashlib
                return "b:%d bytes sha1=%s" % (len(v), hashlib.sha1(v).hexdigest()[:12])
            return "b:" + v.decode("latin-1")
        return v

    def log(self, *what):
        with self.lock:
            self.records.append(json.loads(json.dumps(self.norm(list(what)), default=repr)))

    # -- kazoo calls that record their outcome --
    def k(self, tag, fn, *a, **kw):
        try:
            v = fn(*a, **kw)
        except Exception as e:  # noqa: BLE001 - the exception is the observation
            self.log(tag, "EXC:" + type(e).__name__)
            return None
        self.log(tag, v)
        return v

    def kids(self, tag, zk, path, **kw):
        try:
            v = zk.get_children(path, **kw)
        except Exception as e:  # noqa: BLE001
            self.log(tag, "EXC:" + type(e).__name__)
            return None
        if isinstance(v, tuple):
            self.log(tag, sorted(v[0]), v[1])
        else:
            self.log(tag, sorted(v))
        return v

    # -- raw calls: events that arrived before the reply are logged first --
    def r(self, tag, client, rep):
        self.flush_events(tag, client)
        body = rep.body
        if isinstance(body, list) and body and isinstance(body[0], str) and rep.pending_type_children:
            body = sorted(body)
        self.log(tag, "zxid", self.z(rep.zxid), rep.errname, body)
        return rep

    def flush_events(self, tag, client):
        if client.events:
            evs = [(t, st, p, self.z(zx)) for (t, st, p, zx) in client.events]
            client.events.clear()
            self.log(tag, "events", evs)

    def rc(self, tag, client, method, *a, **kw):
        try:
            rep = getattr(client, method)(*a, **kw)
        except zkraw.Closed:
            self.flush_events(tag, client)
            self.log(tag, "CLOSED")
            return None
        rep.pending_type_children = method in ("get_children", "get_children2", "get_ephemerals")
        if rep.pending_type_children and isinstance(rep.body, tuple):
            rep.body = (sorted(rep.body[0]) if rep.body[0] is not None else None, rep.body[1])
            rep.pending_type_children = False
        if method == "whoami" and isinstance(rep.body, list):
            rep.body = sorted(rep.body)   # ZooKeeper's order is a hash set's
        if method == "multi_read" and isinstance(rep.body, list):
            # ZooKeeper's children order is a hash set's: compare sorted
            rep.body = [("getChildren", sorted(r[1])) if r[0] == "getChildren" and r[1] else r
                        for r in rep.body]
        return self.r(tag, client, rep)

    def revents(self, tag, client, n, timeout=5.0):
        """Waits for n events on a raw client, then a short settle, and logs them."""
        client.wait_events(n, timeout)
        client.wait_events(n + 1, 0.15)
        self.flush_events(tag, client)

    # -- kazoo watch recorders --
    def watcher(self, name):
        evs = []

        def cb(ev):
            with self.lock:
                evs.append((ev.type, ev.state, ev.path))
        cb.events = evs
        cb.name = name
        return cb

    def kevents(self, cb, n, timeout=5.0):
        deadline = time.time() + timeout
        while len(cb.events) < n and time.time() < deadline:
            time.sleep(0.01)
        time.sleep(0.15)
        with self.lock:
            evs, cb.events[:] = list(cb.events), []
        self.log("watch:" + cb.name, evs)

    # -- the final state of the scenario's subtree --
    def dump(self, path=None, depth=0):
        path = path or self.root
        c = self.admin
        rep = c.get_data(path)
        if rep.err:
            self.log("dump", path, rep.errname)
            return
        acl = c.get_acl(path)
        self.log("dump", path, rep.body[0], rep.body[1],
                 acl.errname if acl.err else acl.body[0])
        kids = c.get_children(path)
        if kids.err == 0 and depth < 8:
            for k in sorted(kids.body):
                self.dump(path.rstrip("/") + "/" + k, depth + 1)


def run(port, scenario):
    env = Env(port, scenario.__name__.replace("sc_", ""))
    try:
        scenario(env)
        env.dump()
    finally:
        env.close()
    return env.records


# ---- scenarios ---------------------------------------------------------------

def sc_crud(env):
    """Creates of every kazoo kind, reads, conditional writes and the errors."""
    zk = env.kazoo()
    R = env.root
    env.k("create", zk.create, R + "/a", b"hello")
    env.k("create-empty", zk.create, R + "/e", b"")
    env.k("create-eph", zk.create, R + "/eph", b"x", ephemeral=True)
    env.k("create-data", zk.create, R + "/d", b"abc", include_data=True)
    env.k("create-exists", zk.create, R + "/a", b"dup")
    env.k("create-noparent", zk.create, R + "/missing/child", b"")
    env.k("create-under-eph", zk.create, R + "/eph/child", b"")
    env.k("create-makepath", zk.create, R + "/p/q/r", b"deep", makepath=True)
    env.k("get", zk.get, R + "/a")
    env.k("get-eph", zk.get, R + "/eph")
    env.k("get-missing", zk.get, R + "/zz")
    env.k("exists", zk.exists, R + "/a")
    env.k("exists-missing", zk.exists, R + "/zz")
    env.k("set", zk.set, R + "/a", b"world")
    env.k("set-v1", zk.set, R + "/a", b"again", version=1)
    env.k("set-badversion", zk.set, R + "/a", b"nope", version=7)
    env.k("set-missing", zk.set, R + "/zz", b"x")
    env.k("set-big", zk.set, R + "/e", b"x" * 5000)
    env.k("delete-badversion", zk.delete, R + "/a", version=0)
    env.k("delete-notempty", zk.delete, R + "/p")
    env.k("delete-missing", zk.delete, R + "/zz")
    env.k("delete-v", zk.delete, R + "/a", version=2)
    env.k("delete-recursive", zk.delete, R + "/p", recursive=True)
    env.kids("children", zk, R)
    env.kids("children-stat", zk, R, include_data=True)
    env.kids("children-of-zookeeper", zk, "/zookeeper")
    env.k("sync", zk.sync, R)
    env.k("exists-root", zk.exists, R)


def sc_sequential(env):
    """Sequence numbers: the parent's cversion, across deletes, kinds and multi."""
    zk = env.kazoo()
    R = env.root
    env.k("p", zk.create, R + "/q", b"")
    for i in range(3):
        env.k("seq", zk.create, R + "/q/n-", b"%d" % i, sequence=True)
    env.k("plain", zk.create, R + "/q/plain", b"")
    env.k("del", zk.delete, R + "/q/n-0000000001")
    env.k("seq-after-delete", zk.create, R + "/q/n-", b"", sequence=True)
    env.k("eph-seq", zk.create, R + "/q/e-", b"", ephemeral=True, sequence=True)
    env.k("seq-noprefix", zk.create, R + "/q/", b"", sequence=True)
    env.k("del-plain", zk.delete, R + "/q/plain")
    env.k("seq-exists-fails", zk.create, R + "/q/n-", b"", sequence=True)
    t = zk.transaction()
    t.create(R + "/q/m-", b"", sequence=True)
    t.create(R + "/q/m-", b"", sequence=True)
    env.log("multi-seq", t.commit())
    t = zk.transaction()
    t.create(R + "/q/f-", b"", sequence=True)
    t.check(R + "/q", 99)
    env.log("multi-seq-fail", t.commit())
    env.k("seq-after-failed-multi", zk.create, R + "/q/n-", b"", sequence=True)
    env.k("seq-missing-parent", zk.create, R + "/nope/n-", b"", sequence=True)
    env.kids("children", zk, R + "/q", include_data=True)
    env.k("stat-q", zk.exists, R + "/q")


def sc_stats(env):
    """cversion, pzxid, numChildren, aversion, dataLength, ephemeralOwner."""
    zk = env.kazoo()
    zk2 = env.kazoo()
    R = env.root
    env.k("p", zk.create, R + "/s", b"12345", include_data=True)
    env.k("c1", zk.create, R + "/s/c1", b"")
    env.k("st1", zk.exists, R + "/s")
    env.k("c2", zk2.create, R + "/s/c2", b"", ephemeral=True)
    env.k("st2", zk.exists, R + "/s")
    env.k("set-child", zk.set, R + "/s/c1", b"zz")
    env.k("st3", zk.exists, R + "/s")
    env.k("del-c1", zk.delete, R + "/s/c1")
    env.k("st4", zk.exists, R + "/s")
    env.k("acl", zk.set_acls, R + "/s", zkacl_open_read())
    env.k("acl-badversion", zk.set_acls, R + "/s", zkacl_open_read(), version=5)
    env.k("acl-v1", zk.set_acls, R + "/s", zkacl_open(), version=1)
    env.k("get-acls", zk.get_acls, R + "/s")
    env.k("st5", zk.exists, R + "/s")
    env.k("st-eph", zk.exists, R + "/s/c2")
    zk2.stop()
    env.k("st6-after-eph-session-closed", zk.exists, R + "/s")
    env.k("st-eph-gone", zk.exists, R + "/s/c2")
    env.k("st-root", zk.exists, R)


def zkacl_open():
    from kazoo.security import OPEN_ACL_UNSAFE
    return OPEN_ACL_UNSAFE


def zkacl_open_read():
    from kazoo.security import READ_ACL_UNSAFE
    return READ_ACL_UNSAFE


def sc_multi(env):
    """Transactions: results per op, failures, atomicity, zxids after failure."""
    zk = env.kazoo()
    R = env.root
    env.k("base", zk.create, R + "/m", b"0")
    t = zk.transaction()
    t.create(R + "/m/a", b"a")
    t.set_data(R + "/m", b"1")
    t.check(R + "/m", 1)
    t.create(R + "/m/b", b"b", ephemeral=True)
    t.delete(R + "/m/a")
    env.log("ok", t.commit())
    for bad in ("check", "create", "delete", "set", "noparent"):
        t = zk.transaction()
        t.create(R + "/m/x-" + bad, b"")
        t.set_data(R + "/m", b"2")
        if bad == "check":
            t.check(R + "/m", 0)
        elif bad == "create":
            t.create(R + "/m/b", b"")
        elif bad == "delete":
            t.delete(R + "/m/none")
        elif bad == "set":
            t.set_data(R + "/m", b"3", version=0)
        else:
            t.create(R + "/m/none/child", b"")
        t.create(R + "/m/y-" + bad, b"")
        env.log("fail-" + bad, t.commit())
        env.k("after-" + bad, zk.exists, R + "/m")
    t = zk.transaction()
    t.delete(R + "/m/b")
    t.delete(R + "/m")
    env.log("notempty-ok", t.commit())
    env.k("gone", zk.exists, R + "/m")
    t = zk.transaction()
    env.log("empty", t.commit())
    env.k("next-zxid", zk.create, R + "/after", b"", include_data=True)


def sc_multi_raw(env):
    """multi with create2/TTL/container sub-ops, multiRead, error results."""
    c = env.raw()
    R = env.root
    env.rc("p", c, "create", R + "/r", b"r")
    env.rc("multi", c, "multi", [
        (OP["create"], body_create(R + "/r/c2", b"x")),
        (OP["create"], body_create(R + "/r/c1", b"y", flags=2)),
        (OP["createContainer"], body_create(R + "/r/cont", b"", flags=4)),
        (OP["createTTL"], body_create(R + "/r/ttl", b"", flags=5, ttl=60000)),
        (OP["setData"], body_set_data(R + "/r", b"rr", 0)),
        (OP["check"], body_path_version(R + "/r", 1)),
        (OP["delete"], body_path_version(R + "/r/c2", 0))])
    env.rc("multi-fail", c, "multi", [
        (OP["create"], body_create(R + "/r/z", b"x")),
        (OP["delete"], body_path_version(R + "/r/missing", -1)),
        (OP["setData"], body_set_data(R + "/r", b"rr", -1))])
    env.rc("multi-read", c, "multi_read", [
        (OP["getData"], body_path_watch(R + "/r")),
        (OP["getChildren"], body_path_watch(R + "/r")),
        (OP["getData"], body_path_watch(R + "/r/missing")),
        (OP["getData"], body_path_watch(R + "/r/cont"))])
    env.rc("exists", c, "exists", R + "/r")


def sc_watches(env):
    """One-shot data, exists and child watches through kazoo."""
    zk = env.kazoo()
    zk2 = env.kazoo()
    R = env.root
    w_data = env.watcher("data")
    w_exists = env.watcher("exists")
    w_child = env.watcher("child")
    w_del = env.watcher("deleted")
    env.k("create", zk.create, R + "/w", b"v0")
    env.k("get-watch", zk.get, R + "/w", watch=w_data)
    env.k("exists-watch", zk.exists, R + "/w/new", watch=w_exists)
    env.k("children-watch", zk.get_children, R + "/w", watch=w_child)
    env.k("set", zk2.set, R + "/w", b"v1")
    env.kevents(w_data, 1)
    env.k("set-again", zk2.set, R + "/w", b"v2")
    env.kevents(w_data, 0, timeout=0.2)
    env.k("create-child", zk2.create, R + "/w/new", b"")
    env.kevents(w_exists, 1)
    env.kevents(w_child, 1)
    env.k("create-child2", zk2.create, R + "/w/other", b"")
    env.kevents(w_child, 0, timeout=0.2)
    env.k("get-watch-child", zk.get, R + "/w/new", watch=w_del)
    env.k("delete-child", zk2.delete, R + "/w/new")
    env.kevents(w_del, 1)
    # The same watcher object on data and child of one node: one event each.
    w_both = env.watcher("both")
    env.k("get-both", zk.get, R + "/w", watch=w_both)
    env.k("kids-both", zk.get_children, R + "/w", watch=w_both)
    env.k("delete-other", zk2.delete, R + "/w/other")
    env.kevents(w_both, 1)
    env.k("delete-w", zk2.delete, R + "/w")
    env.kevents(w_both, 1)
    w_ex_missing = env.watcher("exists-missing")
    env.k("exists-missing", zk.exists, R + "/later", watch=w_ex_missing)
    env.k("create-later", zk2.create, R + "/later", b"", ephemeral=True)
    env.kevents(w_ex_missing, 1)


def sc_watch_order(env):
    """Event order on one connection: a multi touching several watched nodes,
    and events before the reply of a later read (raw client)."""
    a = env.raw()
    b = env.raw()
    R = env.root
    env.rc("mk", b, "create", R + "/o", b"")
    env.rc("mk1", b, "create", R + "/o/x", b"")
    env.rc("mk2", b, "create", R + "/o/y", b"")
    env.rc("watch-x", a, "get_data", R + "/o/x", True)
    env.rc("watch-y", a, "exists", R + "/o/y", True)
    env.rc("watch-kids", a, "get_children", R + "/o", True)
    env.rc("watch-z", a, "exists", R + "/o/z", True)
    env.rc("watch-o", a, "get_data", R + "/o", True)
    env.rc("multi", b, "multi", [
        (OP["setData"], body_set_data(R + "/o/y", b"1")),
        (OP["delete"], body_path_version(R + "/o/x")),
        (OP["create"], body_create(R + "/o/z", b"")),
        (OP["setData"], body_set_data(R + "/o", b"p"))])
    env.rc("read-after", a, "exists", R + "/o")
    env.rc("rewatch", a, "get_children", R + "/o", True)
    env.rc("del-z", b, "delete", R + "/o/z")
    env.rc("read-after2", a, "sync", R + "/o")
    env.rc("read-after3", a, "exists", R + "/o")


def sc_persistent_watches(env):
    """addWatch persistent and recursive, removeWatches, checkWatches."""
    a = env.raw()
    b = env.raw()
    R = env.root
    env.rc("mk", b, "create", R + "/pw", b"")
    env.rc("add-persistent", a, "add_watch", R + "/pw", zkraw.WATCH_PERSISTENT)
    env.rc("add-recursive", a, "add_watch", R + "/rw", zkraw.WATCH_PERSISTENT_RECURSIVE)
    env.rc("c1", b, "create", R + "/pw/c", b"")
    env.rc("set", b, "set_data", R + "/pw", b"1")
    env.rc("set2", b, "set_data", R + "/pw", b"2")
    env.rc("set-child", b, "set_data", R + "/pw/c", b"x")
    env.rc("r1", a, "sync", R)
    env.rc("mk-rw", b, "create", R + "/rw", b"")
    env.rc("mk-rw-a", b, "create", R + "/rw/a", b"")
    env.rc("mk-rw-ab", b, "create", R + "/rw/a/b", b"")
    env.rc("set-rw-ab", b, "set_data", R + "/rw/a/b", b"1")
    env.rc("del-rw-ab", b, "delete", R + "/rw/a/b")
    env.rc("r2", a, "exists", R)
    env.rc("check-persistent", a, "check_watches", R + "/pw", zkraw.WT_ANY)
    env.rc("check-none", a, "check_watches", R + "/nowatch", zkraw.WT_DATA)
    env.rc("remove-persistent", a, "remove_watches", R + "/pw", zkraw.WT_ANY)
    env.rc("remove-again", a, "remove_watches", R + "/pw", zkraw.WT_ANY)
    env.rc("set3", b, "set_data", R + "/pw", b"3")
    env.rc("r3", a, "exists", R)
    env.rc("oneshot-too", a, "get_data", R + "/rw/a", True)
    env.rc("set-rw-a", b, "set_data", R + "/rw/a", b"z")
    env.rc("r4", a, "exists", R)
    env.rc("remove-recursive", a, "remove_watches", R + "/rw", zkraw.WT_ANY)
    env.rc("del-rw-a", b, "delete", R + "/rw/a")
    env.rc("r5", a, "exists", R)


def sc_acl(env):
    """world, digest (addauth), auth, ip ACLs; NOAUTH; INVALIDACL; whoAmI."""
    from kazoo.security import make_digest_acl, make_acl, ACL, Id
    # (the "auth" scheme and refused ACLs' zxids have scenarios of their own)
    zk = env.kazoo()
    R = env.root
    env.k("addauth", zk.add_auth, "digest", "alice:secret")
    digest = make_digest_acl("alice", "secret", all=True)
    env.k("create-digest", zk.create, R + "/dg", b"secret", acl=[digest])
    env.k("get-acls", zk.get_acls, R + "/dg")
    env.k("get-own", zk.get, R + "/dg")
    other = env.kazoo()
    env.k("get-noauth", other.get, R + "/dg")
    env.k("set-noauth", other.set, R + "/dg", b"x")
    env.k("create-child-noauth", other.create, R + "/dg/c", b"")
    env.k("exists-noauth-ok", other.exists, R + "/dg")
    env.k("acls-noauth-ok", other.get_acls, R + "/dg")
    env.k("addauth-wrong", other.add_auth, "digest", "alice:wrong")
    env.k("get-wrong", other.get, R + "/dg")
    env.k("addauth-right", other.add_auth, "digest", "alice:secret")
    env.k("get-right", other.get, R + "/dg")
    third = env.kazoo()
    env.k("create-bad-scheme", zk.create, R + "/bs", b"", acl=[ACL(31, Id("nosuch", "x"))])
    env.k("create-bad-ip", zk.create, R + "/bi", b"", acl=[ACL(31, Id("ip", "not-an-ip"))])
    env.k("create-bad-digest", zk.create, R + "/bd", b"", acl=[ACL(31, Id("digest", "nocolon"))])
    env.k("create-ip", zk.create, R + "/ip", b"ip", acl=[make_acl("ip", "127.0.0.1", read=True)])
    env.k("get-ip", third.get, R + "/ip")
    env.k("set-ip", third.set, R + "/ip", b"x")
    env.k("create-ip-net", zk.create, R + "/ipn", b"",
          acl=[make_acl("ip", "127.0.0.0/8", read=True, write=True)])
    env.k("set-ip-net", third.set, R + "/ipn", b"y")
    env.k("create-ip-other", zk.create, R + "/ipo", b"", acl=[make_acl("ip", "10.1.2.3", all=True)])
    env.k("get-ip-other", third.get, R + "/ipo")
    env.k("create-readonly", zk.create, R + "/ro", b"", acl=[make_acl("world", "anyone", read=True)])
    env.k("set-readonly", zk.set, R + "/ro", b"x")
    env.k("delete-child-no-delete-perm", zk.create, R + "/nd", b"",
          acl=[make_acl("world", "anyone", read=True, write=True, create=True, admin=True)])
    env.k("create-under-nd", zk.create, R + "/nd/c", b"")
    env.k("delete-under-nd", zk.delete, R + "/nd/c")
    env.k("setacl-noadmin", zk.set_acls, R + "/ro", [make_acl("world", "anyone", all=True)])
    c = env.raw()
    env.rc("whoami", c, "whoami")
    env.rc("auth", c, "auth", "digest", b"bob:pw")
    env.rc("whoami2", c, "whoami")
    env.rc("getacl-missing", c, "get_acl", R + "/zz")


def sc_ttl_container(env):
    """TTL and container nodes: creation, refusals, stats, collection."""
    c = env.raw()
    R = env.root
    env.rc("ttl", c, "create", R + "/t", b"t", flags=zkraw.PERSISTENT_WITH_TTL, ttl=300)
    env.rc("ttl-seq", c, "create", R + "/ts-", b"", flags=zkraw.PERSISTENT_SEQUENTIAL_WITH_TTL, ttl=300)
    env.rc("ttl-keep", c, "create", R + "/tk", b"", flags=zkraw.PERSISTENT_WITH_TTL, ttl=300)
    env.rc("ttl-keep-child", c, "create", R + "/tk/c", b"")
    env.rc("cont", c, "create", R + "/c", b"", flags=zkraw.CONTAINER, op="createContainer")
    env.rc("cont-via-create2", c, "create", R + "/c2", b"", flags=zkraw.CONTAINER, op="create2")
    env.rc("cont-child", c, "create", R + "/c/k", b"")
    env.rc("cont-child2", c, "create", R + "/c2/k", b"", flags=zkraw.EPHEMERAL)
    env.rc("cont-never-used", c, "create", R + "/c3", b"", flags=zkraw.CONTAINER, op="createContainer")
    env.rc("stat-c", c, "exists", R + "/c")
    env.rc("del-cont-child", c, "delete", R + "/c/k")
    # Wait (bounded) for the TTL nodes and the emptied container to go.
    gone = {}
    deadline = time.time() + 10
    for p in (R + "/t", R + "/ts-0000000001", R + "/c"):
        while time.time() < deadline and env.admin.exists(p).err == 0:
            time.sleep(0.05)
        gone[p] = env.admin.exists(p).errname
    env.log("collected", sorted(gone.items()))
    time.sleep(0.6)   # past the TTL: the ones with children or never used must stay
    env.log("kept", [(p, env.admin.exists(R + p).errname) for p in ("/tk", "/c2", "/c3")])


def sc_session_misc(env):
    """Negotiated timeouts, getEphemerals, getAllChildrenNumber, sync, errors of paths."""
    for want in (100, 1000, 10000, 45000, 999999):
        c = zkraw.RawZK(env.port)
        to, sid, pw, ro = c.connect(timeout_ms=want)
        env.sid(sid)
        env.log("negotiated", want, to, len(pw), ro)
        c.close_session()
        c.close()
    a = env.raw()
    b = env.raw()
    R = env.root
    env.rc("p", a, "create", R + "/g", b"")
    env.rc("e1", a, "create", R + "/g/e1", b"", flags=zkraw.EPHEMERAL)
    env.rc("e2", a, "create", R + "/g/e2-", b"", flags=zkraw.EPHEMERAL_SEQUENTIAL)
    env.rc("e3", b, "create", R + "/g/e3", b"", flags=zkraw.EPHEMERAL)
    env.rc("p1", a, "create", R + "/g/p1", b"")
    env.rc("p2", a, "create", R + "/g/p1/x", b"")
    env.rc("ephemerals-a", a, "get_ephemerals", R + "/g")
    env.rc("ephemerals-a-prefix", a, "get_ephemerals", R + "/g/e2")
    env.rc("ephemerals-b", b, "get_ephemerals", "/")
    env.rc("ephemerals-none", b, "get_ephemerals", R + "/zz")
    env.rc("all-children", a, "get_all_children_number", R + "/g")
    env.rc("all-children-missing", a, "get_all_children_number", R + "/zz")
    env.rc("sync", a, "sync", R + "/g")
    env.rc("sync-missing", a, "sync", R + "/zz")
    # (A lone check outside a multi is left out: ZooKeeper 3.8 never answers it.)
    for bad in ("//x", R + "/", R + "/./x", R + "/../x", "noslash", R + "/a\x01b"):
        env.rc("badpath-create " + repr(bad), a, "create", bad, b"")
    env.rc("badpath-get", a, "get_data", "//x")
    env.rc("create-root", a, "create", "/", b"")
    env.rc("delete-root", a, "delete", "/")
    env.rc("delete-zookeeper", a, "delete", "/zookeeper")
    env.rc("delete-quota", a, "delete", "/zookeeper/quota")
    env.rc("set-zookeeper", a, "set_data", "/zookeeper", b"x")
    env.rc("after-errors", a, "create", R + "/after", b"")
    env.rc("ping", a, "ping")


def sc_reconnect(env):
    """Reconnect with id and password on a new connection; setWatches re-arms;
    a wrong password is refused."""
    a = env.raw()
    b = env.raw()
    R = env.root
    env.rc("p", a, "create", R + "/rc", b"0")
    env.rc("eph", a, "create", R + "/rc/eph", b"", flags=zkraw.EPHEMERAL)
    env.rc("watch-data", a, "get_data", R + "/rc", True)
    sid, pw, last = a.session_id, a.passwd, a.last_zxid
    a.close()  # the connection drops; the session lives on
    env.rc("set-while-away", b, "set_data", R + "/rc", b"1")
    env.rc("create-while-away", b, "create", R + "/rc/new", b"")
    bad = zkraw.RawZK(env.port)
    to, bsid, bpw, ro = bad.connect(timeout_ms=10000, session_id=sid, passwd=b"\x01" * 16,
                                    last_zxid=last)
    env.log("wrong-password", to, env.sid(bsid), bpw == b"\0" * 16, bad.closed_by_peer(5))
    bad.close()
    a2 = zkraw.RawZK(env.port)
    env.raws.append(a2)
    to, sid2, pw2, ro = a2.connect(timeout_ms=30000, session_id=sid, passwd=pw, last_zxid=last)
    env.log("reconnected", to, env.sid(sid2), pw2 == pw)
    env.rc("eph-still-there", a2, "exists", R + "/rc/eph")
    env.rc("setwatches", a2, "set_watches", last - 0, [R + "/rc"], [R + "/rc/new", R + "/rc/none"],
           [R + "/rc"])
    env.revents("after-setwatches", a2, 0)
    env.rc("setwatches-current", a2, "set_watches", a2.last_zxid, [R + "/rc"], [R + "/rc/none2"], [])
    env.rc("create-none2", b, "create", R + "/rc/none2", b"")
    env.rc("set-rc", b, "set_data", R + "/rc", b"2")
    env.rc("read", a2, "exists", R)
    env.rc("owner", b, "exists", R + "/rc/eph")


def sc_expiry(env):
    """A session that stops pinging expires: its ephemerals go, watchers of
    them are told, its own watches are dropped, reconnecting is refused."""
    w = env.raw()
    R = env.root
    e = env.raw(timeout_ms=400)
    env.log("timeout", e.timeout_ms)
    env.rc("persist", e, "create", R + "/keep", b"")
    env.rc("eph", e, "create", R + "/x", b"", flags=zkraw.EPHEMERAL)
    env.rc("eph-seq", e, "create", R + "/keep/x-", b"", flags=zkraw.EPHEMERAL_SEQUENTIAL)
    env.rc("e-watch", e, "get_data", R + "/keep", True)
    env.rc("w-watch", w, "exists", R + "/x", True)
    env.rc("w-kids", w, "get_children", R, True)
    sid, pw = e.session_id, e.passwd
    # Stop reading and pinging: the socket stays open, the session times out.
    env.revents("expired-events", w, 2, timeout=8)
    env.rc("gone", w, "exists", R + "/x")
    env.rc("set-keep", w, "set_data", R + "/keep", b"1")
    env.log("closed", e.closed_by_peer(8), "unread bytes", len(e.buf))
    e.close()
    env.raws.remove(e)
    again = zkraw.RawZK(env.port)
    to, sid2, pw2, ro = again.connect(timeout_ms=400, session_id=sid, passwd=pw)
    env.log("reconnect-expired", to, sid2, again.closed_by_peer(5))
    again.close()
    env.rc("kids", w, "get_children2", R)


def sc_watch_dedup(env):
    """One connection watching a node several ways gets one event per
    change; a persistent watch and a one-shot watch on the same node."""
    a = env.raw()
    b = env.raw()
    R = env.root
    env.rc("mk", b, "create", R + "/x", b"")
    env.rc("mk-kid", b, "create", R + "/x/k", b"")
    env.rc("get-w", a, "get_data", R + "/x", True)
    env.rc("exists-w", a, "exists", R + "/x", True)
    env.rc("kids-w", a, "get_children", R + "/x", True)
    env.rc("set", b, "set_data", R + "/x", b"1")
    env.rc("r1", a, "sync", R)
    env.rc("get-w2", a, "get_data", R + "/x", True)
    env.rc("del-kid", b, "delete", R + "/x/k")
    env.rc("del-x", b, "delete", R + "/x")
    env.rc("r2", a, "sync", R)
    env.rc("exists-gone-w", a, "exists", R + "/x", True)
    env.rc("add-persistent", a, "add_watch", R + "/y", zkraw.WATCH_PERSISTENT)
    env.rc("exists-y-w", a, "exists", R + "/y", True)
    env.rc("mk-y", b, "create", R + "/y", b"")
    env.rc("r3", a, "sync", R)
    env.rc("check-data", a, "check_watches", R + "/y", zkraw.WT_DATA)
    env.rc("check-children", a, "check_watches", R + "/y", zkraw.WT_CHILDREN)
    env.rc("del-y", b, "delete", R + "/y")
    env.rc("r4", a, "sync", R)
    env.rc("mk-y2", b, "create", R + "/y", b"")
    env.rc("r5", a, "sync", R)
    env.rc("mk-x-multi", b, "multi", [(OP["create"], body_create(R + "/x", b"")),
                                       (OP["delete"], body_path_version(R + "/x"))])
    env.rc("r6", a, "sync", R)


def sc_data_limits(env):
    """Data sizes around ZooKeeper's default jute.maxbuffer (0xfffff)."""
    R = env.root
    c = env.raw()
    env.rc("mk", c, "create", R + "/big", b"")
    for n in (1000000, 1048000, 1048576, 1048577, 2000000):
        c = env.raw()
        try:
            env.rc("set-%d" % n, c, "set_data", R + "/big", b"z" * n)
        except OSError:
            env.log("set-%d" % n, "CLOSED")
        # The session outlives a dropped connection: end it now, so that no
        # expiry happens later, at a different time on each server.
        again = zkraw.RawZK(env.port)
        to, sid, _, _ = again.connect(session_id=c.session_id, passwd=c.passwd)
        env.log("resume-%d" % n, env.sid(sid))
        env.rc("after-%d" % n, again, "exists", R + "/big")
        env.rc("close-%d" % n, again, "close_session")
        again.close()
        c.close()
        env.raws.remove(c)
    env.rc("final", env.admin, "exists", R + "/big")


def sc_null_data(env):
    """Data written as a null buffer (kazoo's create(path, None)) reads back
    as null, not as an empty buffer."""
    zk = env.kazoo()
    c = env.raw()
    R = env.root
    env.k("create-none", zk.create, R + "/n", None)
    env.k("get-none", zk.get, R + "/n")
    env.rc("raw-create-null", c, "create", R + "/rn", None)
    env.rc("raw-get-null", c, "get_data", R + "/rn")
    env.rc("raw-set-null", c, "set_data", R + "/rn", None)
    env.rc("raw-get-null2", c, "get_data", R + "/rn")
    env.rc("raw-create-empty", c, "create", R + "/re", b"")
    env.rc("raw-get-empty", c, "get_data", R + "/re")


def sc_multi_create2(env):
    """A create2 (opcode 15) inside a multi: ZooKeeper answers it as a plain
    create (its MultiOperationRecord turns it into Op.create)."""
    c = env.raw()
    R = env.root
    env.rc("multi-create2", c, "multi", [(OP["create2"], body_create(R + "/c2", b"x"))])
    env.rc("multi-create2-fail", c, "multi", [(OP["create2"], body_create(R + "/z", b"x")),
                                               (OP["check"], body_path_version(R, 9))])


def sc_remove_watches_partial(env):
    """removeWatches(DATA) on a persistent recursive watch, then (ANY)."""
    a = env.raw()
    b = env.raw()
    R = env.root
    env.rc("add-recursive", a, "add_watch", R + "/rw", zkraw.WATCH_PERSISTENT_RECURSIVE)
    env.rc("mk", b, "create", R + "/rw", b"")
    env.rc("r1", a, "exists", R)
    env.rc("remove-data-only", a, "remove_watches", R + "/rw", zkraw.WT_DATA)
    env.rc("set-after-data-removal", b, "set_data", R + "/rw", b"y")
    env.rc("r2", a, "exists", R)
    env.rc("remove-any", a, "remove_watches", R + "/rw", zkraw.WT_ANY)
    env.rc("add-persistent", a, "add_watch", R + "/pw", zkraw.WATCH_PERSISTENT)
    env.rc("remove-children-only", a, "remove_watches", R + "/pw", zkraw.WT_CHILDREN)
    env.rc("mk-pw", b, "create", R + "/pw", b"")
    env.rc("mk-pw-kid", b, "create", R + "/pw/k", b"")
    env.rc("r3", a, "exists", R)
    env.rc("remove-any-pw", a, "remove_watches", R + "/pw", zkraw.WT_ANY)


def sc_acl_auth_scheme(env):
    """The "auth" scheme (kazoo's CREATOR_ALL_ACL, whose empty id kazoo
    sends as a null string): INVALIDACL without an identity, the creator's
    identities with one."""
    from kazoo.security import ACL, Id, CREATOR_ALL_ACL
    zk = env.kazoo()
    R = env.root
    env.k("create-auth-noid", zk.create, R + "/a0", b"", acl=CREATOR_ALL_ACL)
    env.k("addauth", zk.add_auth, "digest", "alice:secret")
    env.k("create-auth", zk.create, R + "/au", b"", acl=[ACL(31, Id("auth", ""))])
    env.k("acls-auth", zk.get_acls, R + "/au")
    c = env.raw()
    env.rc("raw-null-id", c, "create", R + "/rn", b"", [(31, "auth", None)])
    env.rc("raw-null-scheme", c, "create", R + "/rs", b"", [(31, None, "x")])
    env.rc("raw-empty-id", c, "create", R + "/re", b"", [(31, "auth", "")])
    env.rc("raw-world-null-id", c, "create", R + "/rw", b"", [(31, "world", None)])


def sc_refusal_zxids(env):
    """Writes ZooKeeper refuses before touching the tree (bad CreateMode,
    bad TTL, empty ACL, deleteContainer from a client) still get a zxid (an
    error txn), so later zxids keep counting from there."""
    c = env.raw()
    R = env.root
    env.rc("ttl-zero", c, "create", R + "/t0", b"", flags=zkraw.PERSISTENT_WITH_TTL, ttl=0)
    env.rc("next1", c, "create", R + "/n1", b"")
    env.rc("ttl-neg", c, "create", R + "/t0", b"", flags=zkraw.PERSISTENT_WITH_TTL, ttl=-5)
    env.rc("ttl-eph", c, "create", R + "/t0", b"", flags=zkraw.EPHEMERAL, ttl=100)
    env.rc("ttl-mode-without-ttl", c, "create", R + "/t0", b"", flags=zkraw.PERSISTENT_WITH_TTL,
           op="create2")
    env.rc("bad-mode", c, "create", R + "/bm", b"", flags=9)
    env.rc("next2", c, "create", R + "/n2", b"")
    env.rc("empty-acl", c, "create", R + "/ea", b"", [])
    env.rc("next3", c, "create", R + "/n3", b"")
    env.rc("deleteContainer-by-client", c, "call", OP["deleteContainer"], (R + "/n3").encode())
    env.rc("next4", c, "create", R + "/n4", b"")
    env.rc("setacl-empty", c, "set_acl", R + "/n4", [])
    env.rc("next5", c, "create", R + "/n5", b"")


def sc_reconnect_timeout(env):
    """Reconnecting renegotiates the session timeout from the new request."""
    a = env.raw(timeout_ms=30000)
    env.log("first", a.timeout_ms)
    sid, pw = a.session_id, a.passwd
    a.close()
    for want in (10000, 45000, 100):
        b = zkraw.RawZK(env.port)
        to, sid2, pw2, ro = b.connect(timeout_ms=want, session_id=sid, passwd=pw)
        env.log("reconnect", want, to, env.sid(sid2))
        b.close()
    b = zkraw.RawZK(env.port)
    env.raws.append(b)
    b.connect(timeout_ms=30000, session_id=sid, passwd=pw)


SCENARIOS = [sc_crud, sc_sequential, sc_stats, sc_multi, sc_multi_raw, sc_watches,
             sc_watch_order, sc_persistent_watches, sc_acl, sc_ttl_container,
             sc_session_misc, sc_reconnect, sc_expiry, sc_watch_dedup, sc_data_limits,
             # each of these isolates one behaviour found to differ
             sc_null_data, sc_multi_create2, sc_remove_watches_partial, sc_acl_auth_scheme,
             sc_refusal_zxids, sc_reconnect_timeout]


def diff_text(a, b, name_a="apache", name_b="zonekeeperd"):
    import difflib
    la = [json.dumps(r) for r in a]
    lb = [json.dumps(r) for r in b]
    return "\n".join(difflib.unified_diff(la, lb, name_a, name_b, lineterm="", n=2))
