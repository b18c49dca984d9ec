"""zonekeeperd's ZooKeeper protocol through a real client, python3-kazoo:
CRUD with every create mode, stats, versions and errors, watches, persistent
and recursive watches, transactions, kazoo's recipes, sessions (expiry,
reconnection with id and password, setWatches after a reconnect), ACLs, TTL
and container nodes, and the tie to DNS and to the socket protocol.

ZK_E2E_AGAINST=apache runs the same tests against Apache ZooKeeper 3.8 (to
check the tests themselves); tests of zonekeeperd-only features then skip.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import dns.rcode
import dns.rdatatype
import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import (BadVersionError, InvalidACLError, LockTimeout, NoAuthError,
                              NoChildrenForEphemeralsError, NodeExistsError, NoNodeError,
                              NotEmptyError, RolledBackError)
from kazoo.protocol.states import EventType, KazooState
from kazoo.security import ACL, Id, OPEN_ACL_UNSAFE, make_acl, make_digest_acl

import zkraw
import zkserver
from zkharness import Client, dns_query
from zkproxy import Proxy

AGAINST_APACHE = os.environ.get("ZK_E2E_AGAINST") == "apache"
# Raw clients in these tests do not ping; sessions may last a minute.
ZK_EXTRA = "max_session_timeout_ms = 60000;"


@pytest.fixture(scope="module")
def server():
    yield from zkserver.serve(AGAINST_APACHE, {"max_session_timeout_ms": 60000},
                              skip_if_missing=True, zk_extra=ZK_EXTRA)


def daemon_only(server):
    if server.daemon is None:
        pytest.skip("zonekeeperd only (DNS and the socket protocol)")
    return server.daemon


class Clients:
    """Kazoo clients that are all stopped at the end of a test."""

    def __init__(self, port):
        self.port = port
        self.all = []

    def __call__(self, timeout=10.0, hosts=None, **kw):
        zk = KazooClient(hosts=hosts or "127.0.0.1:%d" % self.port, timeout=timeout, **kw)
        zk.start(timeout=15)
        self.all.append(zk)
        return zk

    def close(self):
        for zk in self.all:
            try:
                zk.stop()
                zk.close()
            except Exception:
                pass


@pytest.fixture
def kz(server):
    c = Clients(server.port)
    yield c
    c.close()


_n = [0]


def fresh(zk, name):
    """A new empty persistent node for one test."""
    _n[0] += 1
    path = "/kz-%s-%d-%d" % (name, os.getpid(), _n[0])
    zk.create(path, b"")
    return path


def wait_for(cond, timeout=10.0, step=0.02):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(step)
    return cond()


def run_thread(fn, *a):
    out = {}

    def body():
        try:
            out["v"] = fn(*a)
        except BaseException as e:  # noqa: BLE001 - reported by the caller
            out["e"] = e
    t = threading.Thread(target=body, daemon=True)
    t.start()
    t.out = out
    return t


# ---- CRUD, stats, versions, errors -----------------------------------------------

def test_create_modes_and_stats(kz):
    zk = kz()
    sid = zk.client_id[0]
    R = fresh(zk, "modes")
    assert zk.create(R + "/p", b"data") == R + "/p"
    assert zk.create(R + "/e", b"eph", ephemeral=True) == R + "/e"
    s1 = zk.create(R + "/s-", b"", sequence=True)
    s2 = zk.create(R + "/s-", b"", sequence=True)
    es = zk.create(R + "/es-", b"", ephemeral=True, sequence=True)
    assert (s1, s2, es) == (R + "/s-0000000002", R + "/s-0000000003", R + "/es-0000000004")
    assert zk.create(R + "/deep/er/node", b"x", makepath=True) == R + "/deep/er/node"
    path, st = zk.create(R + "/withstat", b"12345", include_data=True)
    assert path == R + "/withstat"
    assert (st.version, st.cversion, st.aversion, st.dataLength, st.numChildren) == (0, 0, 0, 5, 0)
    assert st.czxid == st.mzxid == st.pzxid and st.ephemeralOwner == 0 and st.ctime == st.mtime
    assert abs(st.ctime / 1000.0 - time.time()) < 60

    data, st = zk.get(R + "/e")
    assert data == b"eph" and st.ephemeralOwner == sid
    assert zk.exists(R + "/es-0000000004").ephemeralOwner == sid
    assert zk.exists(R + "/p").ephemeralOwner == 0

    parent = zk.exists(R)
    assert parent.numChildren == 7 and parent.cversion == 7
    kids = zk.get_children(R)
    assert sorted(kids) == sorted(["p", "e", "s-0000000002", "s-0000000003", "es-0000000004",
                                   "deep", "withstat"])
    kids, st = zk.get_children(R, include_data=True)
    assert st.numChildren == 7

    # setData bumps version and mzxid, not czxid; the parent's pzxid follows children.
    before = zk.exists(R + "/p")
    st = zk.set(R + "/p", b"new data")
    assert st.version == 1 and st.czxid == before.czxid and st.mzxid > before.mzxid
    assert st.dataLength == 8 and st.mtime >= st.ctime
    zk.delete(R + "/s-0000000002")
    parent2 = zk.exists(R)
    assert parent2.numChildren == 6 and parent2.cversion == 8 and parent2.pzxid > parent.pzxid
    assert parent2.mzxid == parent.mzxid   # children do not touch the parent's data

    # Empty and null data.
    zk.create(R + "/empty", b"")
    zk.create(R + "/null", None)
    assert zk.get(R + "/empty")[0] == b""
    assert zk.get(R + "/null")[0] in (b"", None)
    assert zk.exists(R + "/null").dataLength == 0


def test_versions_and_errors(kz):
    zk = kz()
    R = fresh(zk, "err")
    zk.create(R + "/n", b"0")
    assert zk.set(R + "/n", b"1", version=0).version == 1
    with pytest.raises(BadVersionError):
        zk.set(R + "/n", b"2", version=0)
    with pytest.raises(BadVersionError):
        zk.delete(R + "/n", version=5)
    assert zk.get(R + "/n")[0] == b"1"
    with pytest.raises(NoNodeError):
        zk.get(R + "/missing")
    with pytest.raises(NoNodeError):
        zk.set(R + "/missing", b"")
    with pytest.raises(NoNodeError):
        zk.delete(R + "/missing")
    with pytest.raises(NoNodeError):
        zk.get_children(R + "/missing")
    with pytest.raises(NoNodeError):
        zk.create(R + "/missing/child", b"")
    assert zk.exists(R + "/missing") is None
    with pytest.raises(NodeExistsError):
        zk.create(R + "/n", b"")
    zk.create(R + "/n/child", b"")
    with pytest.raises(NotEmptyError):
        zk.delete(R + "/n")
    zk.create(R + "/eph", b"", ephemeral=True)
    with pytest.raises(NoChildrenForEphemeralsError):
        zk.create(R + "/eph/child", b"")
    with pytest.raises(NoChildrenForEphemeralsError):
        zk.create(R + "/eph/s-", b"", sequence=True)
    zk.delete(R + "/n", recursive=True)
    assert zk.exists(R + "/n") is None
    zk.delete(R + "/eph", version=0)
    # A failed write leaves the tree as it was.
    assert sorted(zk.get_children(R)) == []


def test_large_data_and_limits(kz):
    zk = kz()
    R = fresh(zk, "big")
    blob = os.urandom(1000 * 1000)
    zk.create(R + "/big", blob)
    assert zk.get(R + "/big")[0] == blob
    assert zk.exists(R + "/big").dataLength == len(blob)


# ---- watches ---------------------------------------------------------------------

def test_one_shot_watches(kz):
    zk, other = kz(), kz()
    R = fresh(zk, "watch")
    events = []
    lock = threading.Lock()

    def rec(ev):
        with lock:
            events.append((ev.type, ev.path))

    zk.create(R + "/d", b"0")
    zk.get(R + "/d", watch=rec)
    zk.exists(R + "/new", watch=rec)
    zk.get_children(R, watch=rec)
    other.set(R + "/d", b"1")
    other.set(R + "/d", b"2")           # one-shot: no second event
    assert wait_for(lambda: len(events) >= 1)
    other.create(R + "/new", b"")
    assert wait_for(lambda: len(events) >= 3)
    other.create(R + "/new2", b"")      # child watch already fired
    time.sleep(0.3)
    with lock:
        got = list(events)
    assert got[0] == (EventType.CHANGED, R + "/d")
    assert sorted(got[1:]) == sorted([(EventType.CREATED, R + "/new"), (EventType.CHILD, R)])
    assert len(got) == 3, got
    # A delete fires the data watch and the parent's child watch.
    events.clear()
    zk.exists(R + "/new", watch=rec)
    zk.get_children(R, watch=rec)
    other.delete(R + "/new")
    assert wait_for(lambda: len(events) >= 2)
    time.sleep(0.2)
    assert sorted(events) == sorted([(EventType.DELETED, R + "/new"), (EventType.CHILD, R)])


def test_data_watch_recipe(kz):
    zk, other = kz(), kz()
    R = fresh(zk, "dw")
    seen = []

    @zk.DataWatch(R + "/node")
    def watcher(data, stat, event):
        seen.append((data, stat.version if stat else None, event.type if event else None))

    assert wait_for(lambda: len(seen) >= 1)
    assert seen[0] == (None, None, None)
    other.create(R + "/node", b"a")
    assert wait_for(lambda: len(seen) >= 2)
    other.set(R + "/node", b"b")
    assert wait_for(lambda: len(seen) >= 3)
    other.delete(R + "/node")
    assert wait_for(lambda: len(seen) >= 4)
    time.sleep(0.2)
    assert seen == [(None, None, None), (b"a", 0, EventType.CREATED),
                    (b"b", 1, EventType.CHANGED), (None, None, EventType.DELETED)]


def test_children_watch_recipe(kz):
    zk, other = kz(), kz()
    R = fresh(zk, "cw")
    seen = []
    stop = threading.Event()

    @zk.ChildrenWatch(R)
    def watcher(children):
        seen.append(sorted(children))
        return not stop.is_set()

    assert wait_for(lambda: seen == [[]])
    other.create(R + "/a", b"")
    assert wait_for(lambda: len(seen) >= 2 and seen[-1] == ["a"])
    other.create(R + "/b", b"", ephemeral=True)
    assert wait_for(lambda: seen[-1] == ["a", "b"])
    stop.set()
    other.delete(R + "/a")
    assert wait_for(lambda: seen[-1] == ["b"])
    n = len(seen)
    other.create(R + "/c", b"")   # the watcher returned False: no more calls
    time.sleep(0.4)
    assert len(seen) == n


def test_persistent_and_recursive_watches(server, kz):
    """addWatch (ZooKeeper 3.6). kazoo 2.8 has no add_watch, so the watch is
    set with raw frames and the changes are made by kazoo."""
    zk = kz()
    R = fresh(zk, "pw")
    T = R + "-tree"            # a sibling: its creation is no child event of R
    w = zkraw.session(server.port)
    try:
        assert w.add_watch(R, zkraw.WATCH_PERSISTENT).err == 0
        assert w.add_watch(T, zkraw.WATCH_PERSISTENT_RECURSIVE).err == 0
        zk.set(R, b"1")
        zk.set(R, b"2")                       # persistent: fires every time
        zk.create(R + "/kid", b"")            # persistent (not recursive): children event
        zk.set(R + "/kid", b"x")              # ... but nothing for the child's data
        zk.create(T + "/a/b", b"", makepath=True)
        zk.set(T + "/a/b", b"v")
        zk.delete(T + "/a/b")
        assert w.sync(R).err == 0
        names = [(t, p) for (t, s, p, z) in w.events]
        assert names == [
            ("NodeDataChanged", R), ("NodeDataChanged", R), ("NodeChildrenChanged", R),
            ("NodeCreated", T), ("NodeCreated", T + "/a"),
            ("NodeCreated", T + "/a/b"), ("NodeDataChanged", T + "/a/b"),
            ("NodeDeleted", T + "/a/b")], names
        w.events.clear()
        assert w.remove_watches(R, zkraw.WT_ANY).err == 0
        assert w.remove_watches(R, zkraw.WT_ANY).errname == "NOWATCHER"
        zk.set(R, b"3")
        assert w.sync(R).err == 0
        assert w.events == []
        w.close_session()
    finally:
        w.close()


# ---- transactions ------------------------------------------------------------------

def test_transactions(kz):
    zk = kz()
    R = fresh(zk, "txn")
    t = zk.transaction()
    t.create(R + "/a", b"1")
    t.create(R + "/s-", b"", sequence=True)
    t.set_data(R + "/a", b"2")
    t.check(R + "/a", 1)
    t.create(R + "/tmp", b"")
    t.delete(R + "/tmp")
    res = t.commit()
    assert res[0] == R + "/a" and res[1] == R + "/s-0000000001"
    assert res[2].version == 1 and res[3] is True and res[4] == R + "/tmp" and res[5] is True
    assert zk.get(R + "/a")[0] == b"2"

    t = zk.transaction()
    t.create(R + "/b", b"")
    t.check(R + "/a", 0)       # fails: version is 1
    t.set_data(R + "/a", b"3")
    res = t.commit()
    assert isinstance(res[0], RolledBackError)
    assert isinstance(res[1], BadVersionError)
    assert type(res[2]).__name__ == "RuntimeInconsistency"
    assert zk.exists(R + "/b") is None and zk.get(R + "/a")[0] == b"2"

    with zk.transaction() as t2:
        t2.create(R + "/c", b"")
        t2.delete(R + "/a", version=1)
    assert zk.exists(R + "/c") and zk.exists(R + "/a") is None


# ---- recipes -----------------------------------------------------------------------

def test_lock(kz):
    zk1, zk2 = kz(), kz()
    R = fresh(zk1, "lock")
    l1 = zk1.Lock(R, "one")
    l2 = zk2.Lock(R, "two")
    assert l1.acquire(timeout=5)
    with pytest.raises(LockTimeout):
        l2.acquire(timeout=0.5)
    assert l1.contenders() == ["one"]
    t = run_thread(l2.acquire, True, 10)
    assert wait_for(lambda: l1.contenders() == ["one", "two"])
    l1.release()
    t.join(10)
    assert t.out.get("v") is True, t.out
    assert l2.is_acquired and l1.contenders() == ["two"]
    l2.release()
    # A lock holder's session ending frees the lock.
    assert l1.acquire(timeout=5)
    zk1.stop()
    assert l2.acquire(timeout=10)
    l2.release()


def test_semaphore_and_rwlock(kz):
    zk1, zk2, zk3 = kz(), kz(), kz()
    R = fresh(zk1, "sem")
    s1, s2, s3 = (z.Semaphore(R + "/s", "id%d" % i, max_leases=2)
                  for i, z in enumerate((zk1, zk2, zk3)))
    assert s1.acquire(timeout=5) and s2.acquire(timeout=5)
    assert not s3.acquire(blocking=False)
    assert sorted(s1.lease_holders()) == ["id0", "id1"]
    s1.release()
    assert s3.acquire(timeout=5)
    s2.release()
    s3.release()
    r1, r2 = zk1.ReadLock(R + "/rw"), zk2.ReadLock(R + "/rw")
    w = zk3.WriteLock(R + "/rw")
    assert r1.acquire(timeout=5) and r2.acquire(timeout=5)
    with pytest.raises(LockTimeout):
        w.acquire(timeout=0.3)
    r1.release()
    r2.release()
    assert w.acquire(timeout=5)
    w.release()


def test_election(kz):
    zk1, zk2 = kz(), kz()
    R = fresh(zk1, "elect")
    leaders = []
    release = {1: threading.Event(), 2: threading.Event()}

    def lead(n):
        leaders.append(n)
        release[n].wait(15)

    e1, e2 = zk1.Election(R, "one"), zk2.Election(R, "two")
    t1 = run_thread(e1.run, lead, 1)
    assert wait_for(lambda: leaders == [1])
    t2 = run_thread(e2.run, lead, 2)
    assert wait_for(lambda: e1.contenders() == ["one", "two"])
    time.sleep(0.2)
    assert leaders == [1]
    release[1].set()            # the leader steps down
    t1.join(10)
    assert wait_for(lambda: leaders == [1, 2])
    release[2].set()
    t2.join(10)
    assert not t1.is_alive() and not t2.is_alive()


def test_barrier(kz):
    zk1, zk2 = kz(), kz()
    R = fresh(zk1, "barrier")
    b1, b2 = zk1.Barrier(R + "/b"), zk2.Barrier(R + "/b")
    assert b2.wait(0.1) is True           # no barrier node: pass
    b1.create()
    assert b2.wait(0.3) is False
    t = run_thread(b2.wait, 10)
    time.sleep(0.2)
    b1.remove()
    t.join(10)
    assert t.out.get("v") is True, t.out


def test_double_barrier(kz):
    zk1, zk2 = kz(), kz()
    R = fresh(zk1, "dbl")
    log = []
    lock = threading.Lock()

    def party(zk, name):
        b = zk.DoubleBarrier(R + "/db", 2, identifier=name)
        b.enter()
        with lock:
            log.append(("in", name))
        time.sleep(0.1)
        b.leave()
        with lock:
            log.append(("out", name))

    t1 = run_thread(party, zk1, "a")
    time.sleep(0.3)
    assert log == []                      # one participant waits for the other
    t2 = run_thread(party, zk2, "b")
    t1.join(15)
    t2.join(15)
    assert "e" not in t1.out and "e" not in t2.out, (t1.out, t2.out)
    assert sorted(log[:2]) == [("in", "a"), ("in", "b")]
    assert sorted(log[2:]) == [("out", "a"), ("out", "b")]


def test_queue(kz):
    zk1, zk2 = kz(), kz()
    R = fresh(zk1, "queue")
    q1, q2 = zk1.Queue(R + "/q"), zk2.Queue(R + "/q")
    q1.put(b"first")
    q1.put(b"second")
    q1.put(b"urgent", priority=1)
    assert len(q2) == 3
    assert [q2.get(), q2.get(), q2.get()] == [b"urgent", b"first", b"second"]
    assert q2.get() is None and len(q1) == 0


def test_locking_queue(kz):
    zk1, zk2 = kz(), kz()
    R = fresh(zk1, "lq")
    q1, q2 = zk1.LockingQueue(R + "/q"), zk2.LockingQueue(R + "/q")
    q1.put_all([b"a", b"b"])
    q1.put(b"z", priority=1)
    assert len(q1) == 3
    assert q1.get(5) == b"z"
    assert q1.holds_lock()
    # another consumer does not get the item held by the first
    assert q2.get(5) == b"a"
    assert q2.release()                   # back to the queue, unconsumed
    assert q1.consume()
    assert q1.get(5) == b"a"
    assert q1.consume()
    assert q2.get(5) == b"b"
    assert q2.consume()
    assert len(q1) == 0
    assert q1.get(0.3) is None


def test_counter(kz):
    zk1, zk2 = kz(), kz()
    R = fresh(zk1, "counter")
    c = zk1.Counter(R + "/c")
    c += 5
    c -= 2
    assert c.value == 3
    f = zk1.Counter(R + "/f", default=0.0)
    f += 1.5
    assert f.value == 1.5

    def bump(zk, n):
        cc = zk.Counter(R + "/c")
        for _ in range(n):
            cc += 1
    t1, t2 = run_thread(bump, zk1, 25), run_thread(bump, zk2, 25)
    t1.join(30)
    t2.join(30)
    assert "e" not in t1.out and "e" not in t2.out, (t1.out, t2.out)
    assert zk2.Counter(R + "/c").value == 53   # every BADVERSION retried, none lost


def test_party(kz):
    zk1, zk2 = kz(), kz()
    R = fresh(zk1, "party")
    p1, p2 = zk1.Party(R + "/p", "alice"), zk2.Party(R + "/p", "bob")
    p1.join()
    p2.join()
    assert sorted(p1) == ["alice", "bob"] and len(p2) == 2
    p1.leave()
    assert list(p2) == ["bob"]
    zk2.stop()                            # ephemeral membership ends with the session
    assert wait_for(lambda: len(zk1.Party(R + "/p")) == 0)
    s1 = zk1.ShallowParty(R + "/sp", "x")
    s1.join()
    assert list(zk1.ShallowParty(R + "/sp")) == ["x"]


def test_lease(kz):
    zk = kz()
    R = fresh(zk, "lease")
    import datetime
    lease = zk.NonBlockingLease(R + "/l", datetime.timedelta(seconds=30), identifier="me")
    assert bool(lease)
    other = kz().NonBlockingLease(R + "/l", datetime.timedelta(seconds=30), identifier="you")
    assert not bool(other)


# ---- sessions ------------------------------------------------------------------------

CHILD = r"""
import sys, time
from kazoo.client import KazooClient
zk = KazooClient(hosts=sys.argv[1], timeout=float(sys.argv[2]))
zk.start(timeout=15)
zk.create(sys.argv[3], b"child", ephemeral=True)
sid, pw = zk.client_id
print("%d %s" % (sid, pw.hex()), flush=True)
time.sleep(120)
"""


def spawn_owner(port, path, timeout):
    """A kazoo client in another process that owns an ephemeral at path;
    returns (process, session_id, passwd)."""
    p = subprocess.Popen([sys.executable, "-c", CHILD, "127.0.0.1:%d" % port, str(timeout), path],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    if not line:
        p.kill()
        p.wait(10)
        raise AssertionError("child kazoo client did not start")
    sid, pw = line.split()
    return p, int(sid), bytes.fromhex(pw)


def test_session_expiry(server, kz):
    """A client that dies without closing: after the timeout its ephemerals
    go, watchers are told, and its session id is refused."""
    zk = kz()
    R = fresh(zk, "expiry")
    proc, sid, pw = spawn_owner(server.port, R + "/owned", 1.0)
    try:
        st = zk.exists(R + "/owned")
        assert st.ephemeralOwner == sid
        fired = []
        zk.exists(R + "/owned", watch=lambda ev: fired.append((ev.type, ev.path)))
        kids = []
        zk.get_children(R, watch=lambda ev: kids.append(ev.type))
        t0 = time.time()
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert wait_for(lambda: fired, timeout=10), "no NodeDeleted after the owner died"
        took = time.time() - t0
        assert fired == [(EventType.DELETED, R + "/owned")]
        assert wait_for(lambda: kids == [EventType.CHILD])
        assert zk.exists(R + "/owned") is None
        assert 0.5 < took < 6, took   # about the negotiated 1 s timeout (plus a tick)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    # The session is gone: reconnecting with its id and password is refused.
    c = zkraw.RawZK(server.port)
    to, new_sid, new_pw, ro = c.connect(timeout_ms=4000, session_id=sid, passwd=pw)
    assert (to, new_sid) == (0, 0)
    assert c.closed_by_peer(5)
    c.close()
    # ... and kazoo, told the session expired, starts a new one.
    k = KazooClient(hosts="127.0.0.1:%d" % server.port, timeout=4, client_id=(sid, pw))
    try:
        k.start(timeout=15)
        assert wait_for(lambda: k.connected and k.client_id[0] not in (sid, 0)), k.client_id
    finally:
        k.stop()
        k.close()


def test_expiry_drops_watches_and_tells_watchers(server, kz):
    """Raw session: watches of an expired session are gone (nothing is sent
    to it), and a watcher of its ephemeral sees the delete."""
    zk = kz()
    R = fresh(zk, "exp2")
    e = zkraw.session(server.port, timeout_ms=1000)
    assert e.timeout_ms == 1000
    assert e.create(R + "/eph", b"", flags=zkraw.EPHEMERAL).err == 0
    assert e.get_data(R, watch=True).err == 0
    seen = []
    zk.exists(R + "/eph", watch=lambda ev: seen.append(ev.type))
    assert wait_for(lambda: seen, timeout=10)
    assert seen == [EventType.DELETED]
    zk.set(R, b"changed after expiry")
    assert e.closed_by_peer(5)
    assert e.events == [] and e.buf == b"", e.buf   # nothing is sent to an expired session
    e.close()


def test_reconnect_with_session_id_and_password(server, kz):
    """A session outlives its connection: a new connection with the same id
    and password carries on with its ephemerals."""
    zk = kz()
    R = fresh(zk, "reconn")
    proc, sid, pw = spawn_owner(server.port, R + "/mine", 4.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert zk.exists(R + "/mine").ephemeralOwner == sid
    again = KazooClient(hosts="127.0.0.1:%d" % server.port, timeout=4, client_id=(sid, pw))
    try:
        again.start(timeout=15)
        assert again.client_id[0] == sid
        assert again.exists(R + "/mine").ephemeralOwner == sid
        again.create(R + "/mine2", b"", ephemeral=True)
        assert zk.exists(R + "/mine2").ephemeralOwner == sid
        time.sleep(5)            # past the session timeout: kept alive by the new connection
        assert zk.exists(R + "/mine") is not None
    finally:
        again.stop()
        again.close()
    assert zk.exists(R + "/mine") is None and zk.exists(R + "/mine2") is None
    # A wrong password is refused and the session is left alone.
    proc, sid, pw = spawn_owner(server.port, R + "/third", 4.0)
    try:
        c = zkraw.RawZK(server.port)
        to, got, _, _ = c.connect(timeout_ms=4000, session_id=sid, passwd=bytes(16))
        assert (to, got) == (0, 0)
        assert c.closed_by_peer(5)
        c.close()
        assert zk.exists(R + "/third").ephemeralOwner == sid
    finally:
        proc.kill()
        proc.wait(10)


def test_set_watches_rearm_after_reconnect(server, kz):
    """A connection drops with watches set; changes happen while the client
    is away; the client comes back on a new connection with its session id
    and password and sends setWatches with the last zxid it saw: the server
    fires at once what the client missed and keeps the rest armed. (kazoo 2.8
    drops its watches on a disconnect instead of sending setWatches, so this
    is spoken with raw frames; the C client test does it with libzookeeper.)"""
    direct = kz()
    R = fresh(direct, "setw")
    direct.create(R + "/d", b"0")
    direct.create(R + "/quiet", b"0")
    a = zkraw.session(server.port)
    assert a.get_data(R + "/d", watch=True).err == 0
    assert a.exists(R + "/later", watch=True).errname == "NONODE"   # armed anyway
    assert a.get_children(R, watch=True).err == 0
    assert a.get_data(R + "/quiet", watch=True).err == 0
    sid, pw, last = a.session_id, a.passwd, a.last_zxid
    a.close()                              # no closeSession: the session lives on
    direct.set(R + "/d", b"1")
    direct.create(R + "/later", b"")
    b = zkraw.RawZK(server.port)
    try:
        to, sid2, pw2, _ = b.connect(timeout_ms=30000, session_id=sid, passwd=pw, last_zxid=last)
        assert sid2 == sid and pw2 == pw and to == 30000
        rep = b.set_watches(last, data=[R + "/d", R + "/quiet"], exist=[R + "/later"], child=[R])
        assert rep.err == 0 and rep.xid == -8, rep
        # events come before the reply, in ZooKeeper's order: data, exist, child
        assert [(t, p) for (t, st, p, z) in b.events] == [
            ("NodeDataChanged", R + "/d"), ("NodeCreated", R + "/later"),
            ("NodeChildrenChanged", R)], b.events
        b.events.clear()
        direct.set(R + "/quiet", b"1")     # still armed
        assert b.sync(R).err == 0
        assert [(t, p) for (t, st, p, z) in b.events] == [("NodeDataChanged", R + "/quiet")]
        b.close_session()
    finally:
        b.close()


def test_kazoo_watch_recipes_survive_a_dropped_connection(server, kz):
    """kazoo reconnects with the same session through a proxy that cut it;
    DataWatch and ChildrenWatch catch up with what changed meanwhile."""
    direct = kz()
    R = fresh(direct, "drop")
    direct.create(R + "/d", b"0")
    proxy = Proxy(server.port)
    states = []
    try:
        zk = kz(hosts="127.0.0.1:%d" % proxy.port,
                connection_retry=dict(max_tries=-1, delay=0.05, backoff=1.5, max_delay=0.3))
        zk.add_listener(states.append)
        sid = zk.client_id[0]
        zk.create(R + "/mine", b"", ephemeral=True)
        data, kids = [], []
        zk.DataWatch(R + "/d", lambda d, st: data.append(d))
        zk.ChildrenWatch(R, lambda c: kids.append(sorted(c)))
        assert wait_for(lambda: data == [b"0"] and kids == [["d", "mine"]])
        proxy.blocked = True
        proxy.drop()
        assert wait_for(lambda: KazooState.SUSPENDED in states)
        direct.set(R + "/d", b"1")
        direct.create(R + "/new", b"")
        time.sleep(0.2)
        proxy.blocked = False
        assert wait_for(lambda: states[-1] == KazooState.CONNECTED, timeout=15), states
        assert zk.client_id[0] == sid and KazooState.LOST not in states
        assert wait_for(lambda: data[-1] == b"1" and kids[-1] == ["d", "mine", "new"]), (data, kids)
        assert direct.exists(R + "/mine").ephemeralOwner == sid
        direct.set(R + "/d", b"2")
        assert wait_for(lambda: data[-1] == b"2")
    finally:
        proxy.close()


def test_close_session_deletes_ephemerals_at_once(kz):
    zk, other = kz(), kz()
    R = fresh(zk, "close")
    other.create(R + "/e1", b"", ephemeral=True)
    other.create(R + "/e2-", b"", ephemeral=True, sequence=True)
    other.stop()
    assert zk.get_children(R) == []


# ---- ACLs ------------------------------------------------------------------------------

def test_acl_digest_world_ip(kz):
    owner = kz(auth_data=[("digest", "alice:secret")])
    R = fresh(owner, "acl")
    digest = make_digest_acl("alice", "secret", all=True)
    owner.create(R + "/private", b"top secret", acl=[digest])
    acls, st = owner.get_acls(R + "/private")
    assert acls == [digest] and st.aversion == 0
    assert owner.get(R + "/private")[0] == b"top secret"

    stranger = kz()
    with pytest.raises(NoAuthError):
        stranger.get(R + "/private")
    with pytest.raises(NoAuthError):
        stranger.set(R + "/private", b"x")
    with pytest.raises(NoAuthError):
        stranger.create(R + "/private/child", b"")
    assert stranger.exists(R + "/private") is not None   # exists needs no permission
    stranger.add_auth("digest", "alice:wrong")
    with pytest.raises(NoAuthError):
        stranger.get(R + "/private")
    stranger.add_auth("digest", "alice:secret")
    assert stranger.get(R + "/private")[0] == b"top secret"

    # world with limited permissions
    owner.create(R + "/ro", b"", acl=[make_acl("world", "anyone", read=True)])
    with pytest.raises(NoAuthError):
        owner.set(R + "/ro", b"x")
    with pytest.raises(NoAuthError):
        owner.set_acls(R + "/ro", OPEN_ACL_UNSAFE)
    owner.create(R + "/nodelete", b"", acl=[make_acl("world", "anyone", read=True,
                                                      write=True, create=True, admin=True)])
    owner.create(R + "/nodelete/kid", b"")
    with pytest.raises(NoAuthError):
        owner.delete(R + "/nodelete/kid")
    # setACL: version check and aversion
    st = owner.set_acls(R + "/nodelete", OPEN_ACL_UNSAFE, version=0)
    assert st.aversion == 1
    with pytest.raises(BadVersionError):
        owner.set_acls(R + "/nodelete", OPEN_ACL_UNSAFE, version=0)
    owner.delete(R + "/nodelete/kid")

    # ip: the clients connect from 127.0.0.1
    owner.create(R + "/ip", b"local", acl=[make_acl("ip", "127.0.0.1", read=True)])
    assert stranger.get(R + "/ip")[0] == b"local"
    with pytest.raises(NoAuthError):
        stranger.set(R + "/ip", b"x")
    owner.create(R + "/ipnet", b"", acl=[make_acl("ip", "127.0.0.0/8", all=True)])
    stranger.set(R + "/ipnet", b"ok")
    owner.create(R + "/faraway", b"", acl=[make_acl("ip", "192.0.2.1", all=True)])
    with pytest.raises(NoAuthError):
        stranger.get(R + "/faraway")


def test_acl_auth_scheme_and_invalid(kz):
    zk = kz()
    R = fresh(zk, "aclauth")
    with pytest.raises(InvalidACLError):          # "auth" with no identity
        zk.create(R + "/a", b"", acl=[ACL(31, Id("auth", ""))])
    with pytest.raises(InvalidACLError):
        zk.create(R + "/b", b"", acl=[ACL(31, Id("nosuchscheme", "x"))])
    with pytest.raises(InvalidACLError):
        zk.create(R + "/c", b"", acl=[ACL(31, Id("ip", "999.1.1.1"))])
    with pytest.raises(InvalidACLError):
        zk.create(R + "/d", b"", acl=[ACL(31, Id("digest", "no-colon"))])
    zk.add_auth("digest", "bob:pw")
    zk.create(R + "/a", b"", acl=[ACL(31, Id("auth", ""))])
    acls, _ = zk.get_acls(R + "/a")
    assert acls == [make_digest_acl("bob", "pw", all=True)]
    assert zk.exists(R + "/b") is None


def test_whoami_and_empty_acl_raw(server):
    c = zkraw.session(server.port)
    try:
        assert c.whoami().body == [("ip", "127.0.0.1")]
        assert c.auth("digest", b"carol:pw").err == 0
        who = sorted(c.whoami().body)
        assert ("ip", "127.0.0.1") in who and any(s == "digest" and u == "carol"
                                                   for s, u in who), who
        assert c.create("/raw-empty-acl-%d" % os.getpid(), b"", acl=[]).errname == "INVALIDACL"
        assert c.auth("nosuchscheme", b"x").errname == "AUTHFAILED"
        assert c.closed_by_peer(5)    # ZooKeeper closes after AUTHFAILED
    finally:
        c.close()


# ---- TTL and container nodes ---------------------------------------------------------------

def test_ttl_nodes(server, kz):
    zk = kz()
    R = fresh(zk, "ttl")
    c = zkraw.session(server.port)
    try:
        r = c.create(R + "/t", b"x", flags=zkraw.PERSISTENT_WITH_TTL, ttl=300)
        assert r.err == 0 and r.body[1]["ephemeralOwner"] == 0
        r = c.create(R + "/ts-", b"", flags=zkraw.PERSISTENT_SEQUENTIAL_WITH_TTL, ttl=300)
        assert r.err == 0 and r.body[0] == R + "/ts-0000000001"
        assert c.create(R + "/keep", b"", flags=zkraw.PERSISTENT_WITH_TTL, ttl=300).err == 0
        assert c.create(R + "/keep/kid", b"").err == 0
        assert c.create(R + "/touched", b"", flags=zkraw.PERSISTENT_WITH_TTL, ttl=3000).err == 0
        assert c.create(R + "/bad", b"", flags=zkraw.PERSISTENT_WITH_TTL, ttl=0).errname == "BADARGUMENTS"
        assert c.create(R + "/bad", b"", flags=zkraw.EPHEMERAL, ttl=100).errname == "BADARGUMENTS"
        assert c.create(R + "/bad", b"", flags=zkraw.PERSISTENT_WITH_TTL,
                        op="create2").errname == "BADARGUMENTS"
        assert zk.exists(R + "/t") is not None
        assert wait_for(lambda: zk.exists(R + "/t") is None and zk.exists(R + "/ts-0000000001") is None,
                        timeout=15), "TTL nodes not collected"
        assert zk.exists(R + "/keep") is not None          # has a child
        assert zk.exists(R + "/touched") is not None       # TTL not yet passed
        c.close_session()
    finally:
        c.close()


def test_container_nodes(server, kz):
    zk = kz()
    R = fresh(zk, "cont")
    c = zkraw.session(server.port)
    try:
        r = c.create(R + "/box", b"", flags=zkraw.CONTAINER, op="createContainer")
        assert r.err == 0 and r.body[1]["ephemeralOwner"] == 0
        assert c.create(R + "/never", b"", flags=zkraw.CONTAINER, op="createContainer").err == 0
        zk.create(R + "/box/a", b"")
        zk.create(R + "/box/b", b"", ephemeral=True)
        zk.delete(R + "/box/a")
        time.sleep(0.5)
        assert zk.exists(R + "/box") is not None          # still has a child
        zk.delete(R + "/box/b")
        assert wait_for(lambda: zk.exists(R + "/box") is None, timeout=15), "container not collected"
        assert zk.exists(R + "/never") is not None        # never had children: kept
        c.close_session()
    finally:
        c.close()


# ---- DNS and the socket protocol -----------------------------------------------------------------

def test_kazoo_member_answered_in_dns(server, kz):
    d = daemon_only(server)
    zk = kz()
    svc = "kzweb%d" % os.getpid()
    inst = {"name": svc, "id": "i1", "address": "10.77.0.1", "port": 8080, "sslPort": None,
            "payload": None, "registrationTimeUTC": int(time.time() * 1000),
            "serviceType": "DYNAMIC", "uriSpec": None}
    zk.create("/services/%s/i1" % svc, json.dumps(inst).encode(), ephemeral=True, makepath=True)
    srv = dns_query(d.dns_port, "%s.zk." % svc, "SRV")
    recs = [(r.port, r.target.to_text()) for rrset in srv.answer for r in rrset
            if rrset.rdtype == dns.rdatatype.SRV]
    assert recs == [(8080, "i1.%s.zk." % svc)], srv
    a = dns_query(d.dns_port, "i1.%s.zk." % svc, "A")
    assert [r.address for rrset in a.answer for r in rrset] == ["10.77.0.1"]
    # plain host:port data set by kazoo, then changed
    zk.create("/services/%s/i2" % svc, b"10.77.0.2:9090", ephemeral=True)
    a = dns_query(d.dns_port, "i2.%s.zk." % svc, "A")
    assert [r.address for rrset in a.answer for r in rrset] == ["10.77.0.2"]
    zk.set("/services/%s/i2" % svc, b"10.77.0.3:9090")
    a = dns_query(d.dns_port, "i2.%s.zk." % svc, "A")
    assert [r.address for rrset in a.answer for r in rrset] == ["10.77.0.3"]
    # The session ends: the next query no longer lists its members.
    zk.stop()
    r = dns_query(d.dns_port, "i1.%s.zk." % svc, "A")
    assert r.rcode() == dns.rcode.NXDOMAIN and not r.answer


def test_text_registration_seen_by_kazoo(server, kz):
    d = daemon_only(server)
    zk = kz()
    svc = "txtweb%d" % os.getpid()
    zk.ensure_path("/services/" + svc)
    seen = []

    @zk.ChildrenWatch("/services/" + svc)
    def watch(children):
        seen.append(sorted(children))

    assert wait_for(lambda: seen == [[]])
    c = Client(d.sock)
    try:
        reply = c.cmd("REGISTER %s 10.66.0.1 7000 id=m1" % svc)
        assert reply == "OK /services/%s/m1" % svc, reply
        assert wait_for(lambda: seen[-1] == ["m1"]), seen
        data, st = zk.get("/services/%s/m1" % svc)
        member = json.loads(data)
        assert member["address"] == "10.66.0.1" and member["port"] == 7000
        assert member["id"] == "m1" and member["name"] == svc
        assert st.ephemeralOwner != 0
        # A kazoo write is seen by the socket protocol, and the other way round.
        zk.create("/services/%s/fromkazoo" % svc, b"10.66.0.9:1")
        assert c.cmd("GET /services/%s/fromkazoo" % svc).startswith("OK 10.66.0.9:1 ")
        assert c.cmd("SET /services/%s/fromkazoo 10.66.0.8:2" % svc).startswith("OK ")
        assert zk.get("/services/%s/fromkazoo" % svc)[0] == b"10.66.0.8:2"
        zk.delete("/services/%s/fromkazoo" % svc)
        assert wait_for(lambda: seen[-1] == ["m1"])
    finally:
        c.close()
    # The text connection closed: its member is gone at once.
    assert wait_for(lambda: seen[-1] == []), seen
    assert zk.exists("/services/%s/m1" % svc) is None


def test_four_letter_words_through_kazoo(kz):
    """kazoo's command() and server_version() (which parses `envi`)."""
    zk = kz()
    assert zk.command(b"ruok") == "imok"
    assert zk.command(b"isro").strip() == "rw"
    assert "Mode: standalone" in zk.command(b"srvr")
    major, minor, _ = zk.server_version()
    assert (major, minor) >= (3, 6), zk.server_version()   # addWatch, whoAmI, ...
