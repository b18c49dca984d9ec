"""A small raw ZooKeeper wire-protocol client for the end-to-end tests.

It speaks jute over TCP directly (no client library), so the tests can send
what real clients send (TTL and container creates, addWatch, whoAmI,
getEphemerals, setWatches2, multiRead, ...) as well as what they never send
(truncated frames, bad lengths, unknown opcodes). It works the same against
zonekeeperd and against Apache ZooKeeper, which the differential tests use.

Every socket operation has a timeout; nothing loops without a bound.
"""
import socket
import struct
import time

# Request types (ZooDefs.OpCode).
OP = dict(notification=0, create=1, delete=2, exists=3, getData=4, setData=5,
          getACL=6, setACL=7, getChildren=8, sync=9, ping=11, getChildren2=12,
          check=13, multi=14, create2=15, reconfig=16, checkWatches=17,
          removeWatches=18, createContainer=19, deleteContainer=20, createTTL=21,
          multiRead=22, auth=100, setWatches=101, sasl=102, getEphemerals=103,
          getAllChildrenNumber=104, setWatches2=105, addWatch=106, whoAmI=107,
          createSession=-10, closeSession=-11, error=-1)

# KeeperException.Code
ERR = dict(OK=0, SYSTEMERROR=-1, RUNTIMEINCONSISTENCY=-2, DATAINCONSISTENCY=-3,
           CONNECTIONLOSS=-4, MARSHALLINGERROR=-5, UNIMPLEMENTED=-6,
           OPERATIONTIMEOUT=-7, BADARGUMENTS=-8, UNKNOWNSESSION=-12,
           APIERROR=-100, NONODE=-101, NOAUTH=-102, BADVERSION=-103,
           NOCHILDRENFOREPHEMERALS=-108, NODEEXISTS=-110, NOTEMPTY=-111,
           SESSIONEXPIRED=-112, INVALIDCALLBACK=-113, INVALIDACL=-114,
           AUTHFAILED=-115, SESSIONMOVED=-118, NOTREADONLY=-119, NOWATCHER=-121,
           THROTTLEDOP=-127)
ERRNAME = {v: k for k, v in ERR.items()}

# CreateMode flags.
PERSISTENT, EPHEMERAL, PERSISTENT_SEQUENTIAL, EPHEMERAL_SEQUENTIAL = 0, 1, 2, 3
CONTAINER, PERSISTENT_WITH_TTL, PERSISTENT_SEQUENTIAL_WITH_TTL = 4, 5, 6

# AddWatchMode, WatcherType.
WATCH_PERSISTENT, WATCH_PERSISTENT_RECURSIVE = 0, 1
WT_CHILDREN, WT_DATA, WT_ANY = 1, 2, 3

# Watcher event types.
EV = {-1: "None", 1: "NodeCreated", 2: "NodeDeleted", 3: "NodeDataChanged",
      4: "NodeChildrenChanged", 5: "DataWatchRemoved", 6: "ChildWatchRemoved",
      7: "PersistentWatchRemoved"}

OPEN_ACL = [(31, "world", "anyone")]
STAT_FIELDS = ("czxid", "mzxid", "ctime", "mtime", "version", "cversion",
               "aversion", "ephemeralOwner", "dataLength", "numChildren", "pzxid")


class Closed(Exception):
    """The server closed the connection."""


# ---- encoding ------------------------------------------------------------------

def e_int(v):
    return struct.pack(">i", v)


def e_long(v):
    return struct.pack(">q", v)


def e_bool(v):
    return b"\1" if v else b"\0"


def e_buf(b):
    if b is None:
        return e_int(-1)
    if isinstance(b, str):
        b = b.encode()
    return e_int(len(b)) + b


e_str = e_buf


def e_vec(items, enc):
    if items is None:
        return e_int(-1)
    return e_int(len(items)) + b"".join(enc(x) for x in items)


def e_acl(a):
    perms, scheme, ident = a
    return e_int(perms) + e_str(scheme) + e_str(ident)


def frame(body):
    return struct.pack(">i", len(body)) + body


def connect_body(timeout_ms=30000, session_id=0, passwd=b"\0" * 16, last_zxid=0,
                 read_only=False, proto=0):
    b = e_int(proto) + e_long(last_zxid) + e_int(timeout_ms) + e_long(session_id) + e_buf(passwd)
    if read_only is not None:
        b += e_bool(read_only)
    return b


def body_create(path, data=b"", acl=None, flags=0, ttl=None):
    b = e_str(path) + e_buf(data) + e_vec(OPEN_ACL if acl is None else acl, e_acl) + e_int(flags)
    if ttl is not None:
        b += e_long(ttl)
    return b


def body_path_watch(path, watch=False):
    return e_str(path) + e_bool(watch)


def body_path_version(path, version=-1):
    return e_str(path) + e_int(version)


def body_set_data(path, data, version=-1):
    return e_str(path) + e_buf(data) + e_int(version)


def body_multi(ops):
    """ops: list of (type, body) with type a sub-op opcode."""
    b = b""
    for t, body in ops:
        b += e_int(t) + e_bool(False) + e_int(-1) + body
    return b + e_int(-1) + e_bool(True) + e_int(-1)


# ---- decoding ------------------------------------------------------------------

class Rd:
    def __init__(self, b):
        self.b, self.o = b, 0

    def take(self, n):
        if n < 0 or self.o + n > len(self.b):
            raise ValueError("short body")
        v = self.b[self.o:self.o + n]
        self.o += n
        return v

    def int(self):
        return struct.unpack(">i", self.take(4))[0]

    def long(self):
        return struct.unpack(">q", self.take(8))[0]

    def bool(self):
        return self.take(1)[0] != 0

    def buf(self):
        n = self.int()
        return None if n < 0 else bytes(self.take(n))

    def str(self):
        b = self.buf()
        return None if b is None else b.decode("utf-8", "surrogateescape")

    def vec(self, f):
        n = self.int()
        return None if n < 0 else [f() for _ in range(n)]

    def acl(self):
        return (self.int(), self.str(), self.str())

    def stat(self):
        return dict(zip(STAT_FIELDS, struct.unpack(">qqqqiiiqiiq", self.take(68))))

    def left(self):
        return len(self.b) - self.o


def parse_body(t, r):
    """The reply body of request type t (err == 0) as Python values."""
    if t in (OP["create"], OP["sync"]):
        return r.str()
    if t in (OP["create2"], OP["createContainer"], OP["createTTL"]):
        return (r.str(), r.stat())
    if t in (OP["exists"], OP["setData"], OP["setACL"], OP["check"]):
        return r.stat() if r.left() else None
    if t == OP["getData"]:
        return (r.buf(), r.stat())
    if t == OP["getACL"]:
        return (r.vec(r.acl), r.stat())
    if t in (OP["getChildren"], OP["getEphemerals"]):
        return r.vec(r.str)
    if t == OP["getChildren2"]:
        return (r.vec(r.str), r.stat())
    if t in (OP["getAllChildrenNumber"], OP["addWatch"]):
        return r.int() if r.left() else None
    if t == OP["whoAmI"]:
        return r.vec(lambda: (r.str(), r.str()))
    if t in (OP["multi"], OP["multiRead"]):
        out = []
        for _ in range(10000):
            st, done, err = r.int(), r.bool(), r.int()
            if done:
                return out
            if st == -1:
                out.append(("error", r.int()))
            elif st == OP["getData"]:
                out.append(("getData", r.buf(), r.stat()))
            elif st == OP["getChildren"]:
                out.append(("getChildren", r.vec(r.str)))
            elif st == OP["create"]:
                out.append(("create", r.str()))
            elif st in (OP["create2"], OP["createContainer"], OP["createTTL"]):
                out.append(("create2", r.str(), r.stat()))
            elif st == OP["setData"]:
                out.append(("setData", r.stat()))
            elif st in (OP["delete"], OP["check"]):
                out.append(("delete" if st == OP["delete"] else "check",))
            else:
                raise ValueError("unknown multi result type %d" % st)
        raise ValueError("multi without end")
    return bytes(r.take(r.left())) if r.left() else None


class Reply:
    """One reply: xid, zxid, err (int), errname, and the decoded body."""

    def __init__(self, xid, zxid, err, body, raw):
        self.xid, self.zxid, self.err, self.body, self.raw = xid, zxid, err, body, raw

    @property
    def errname(self):
        return ERRNAME.get(self.err, str(self.err))

    def __repr__(self):
        return "Reply(xid=%d zxid=%d err=%s body=%r)" % (self.xid, self.zxid, self.errname, self.body)


class RawZK:
    """One TCP connection to a ZooKeeper server. connect() does the handshake."""

    def __init__(self, port, host="127.0.0.1", timeout=10.0):
        self.port = port
        self.s = socket.create_connection((host, port), timeout=timeout)
        self.s.settimeout(timeout)
        self.buf = b""
        self.xid = 0
        self.pending = {}
        self.events = []   # (type name, state, path, header zxid)
        self.session_id = None
        self.passwd = None
        self.timeout_ms = None
        self.last_zxid = 0

    # -- bytes --
    def send_raw(self, data):
        self.s.sendall(data)

    def _fill(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.time()
            if left <= 0:
                raise socket.timeout("timed out waiting for %d bytes (have %d)" % (n, len(self.buf)))
            self.s.settimeout(left)
            try:
                chunk = self.s.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                chunk = b""
            if not chunk:
                raise Closed("connection closed (buffered %r)" % self.buf[:64])
            self.buf += chunk

    def read_frame(self, timeout=10.0):
        deadline = time.time() + timeout
        self._fill(4, deadline)
        n = struct.unpack(">i", self.buf[:4])[0]
        if n < 0 or n > 64 << 20:
            raise ValueError("bad frame length %d from server" % n)
        self._fill(4 + n, deadline)
        f, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
        return f

    # -- session --
    def connect(self, timeout_ms=30000, session_id=0, passwd=b"\0" * 16, read_only=False,
                last_zxid=0, read_timeout=10.0):
        """Handshake; returns (timeout_ms, session_id, passwd, read_only)."""
        self.send_raw(frame(connect_body(timeout_ms, session_id, passwd, last_zxid, read_only)))
        r = Rd(self.read_frame(read_timeout))
        r.int()  # protocol version
        to, sid, pw = r.int(), r.long(), r.buf()
        ro = r.bool() if r.left() else None
        self.timeout_ms, self.session_id, self.passwd = to, sid, pw
        return to, sid, pw, ro

    def closed_by_peer(self, timeout=5.0):
        """True once the server closes (reading and dropping what it sends)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.s.settimeout(max(0.01, deadline - time.time()))
            try:
                chunk = self.s.recv(65536)
            except socket.timeout:
                return False
            except (ConnectionResetError, BrokenPipeError):
                return True
            if not chunk:
                return True
            self.buf += chunk
        return False

    # -- requests --
    def send(self, t, body=b"", xid=None):
        if xid is None:
            self.xid += 1
            xid = self.xid
        self.pending[xid] = t
        self.send_raw(frame(e_int(xid) + e_int(t) + body))
        return xid

    def recv(self, timeout=10.0):
        """The next reply that is not a notification (events are kept)."""
        deadline = time.time() + timeout
        for _ in range(100000):
            f = self.read_frame(max(0.01, deadline - time.time()))
            r = Rd(f)
            xid, zxid, err = r.int(), r.long(), r.int()
            if xid == -1:
                typ, state, path = r.int(), r.int(), r.str()
                self.events.append((EV.get(typ, typ), state, path, zxid))
                continue
            if zxid > 0:
                self.last_zxid = max(self.last_zxid, zxid)
            t = self.pending.pop(xid, None)
            body = None
            if t is not None and (err == 0 or t in (OP["multi"], OP["multiRead"])) and r.left():
                body = parse_body(t, r)
            return Reply(xid, zxid, err, body, f)
        raise RuntimeError("unreachable")

    def call(self, t, body=b"", xid=None, timeout=10.0):
        x = self.send(t, body, xid)
        rep = self.recv(timeout)
        if rep.xid != x:
            raise AssertionError("reply xid %d for request xid %d" % (rep.xid, x))
        return rep

    def wait_events(self, n, timeout=5.0):
        """Waits until at least n events are kept; returns them all (not cleared)."""
        deadline = time.time() + timeout
        while len(self.events) < n and time.time() < deadline:
            try:
                f = self.read_frame(max(0.01, deadline - time.time()))
            except socket.timeout:
                break
            r = Rd(f)
            xid, zxid, err = r.int(), r.long(), r.int()
            if xid == -1:
                typ, state, path = r.int(), r.int(), r.str()
                self.events.append((EV.get(typ, typ), state, path, zxid))
            else:
                raise AssertionError("unexpected reply xid %d while waiting for events" % xid)
        return list(self.events)

    # -- conveniences --
    def create(self, path, data=b"", acl=None, flags=0, ttl=None, op=None):
        if op is None:
            op = "createTTL" if ttl is not None else "create2"
        return self.call(OP[op], body_create(path, data, acl, flags, ttl))

    def delete(self, path, version=-1):
        return self.call(OP["delete"], body_path_version(path, version))

    def exists(self, path, watch=False):
        return self.call(OP["exists"], body_path_watch(path, watch))

    def get_data(self, path, watch=False):
        return self.call(OP["getData"], body_path_watch(path, watch))

    def set_data(self, path, data, version=-1):
        return self.call(OP["setData"], body_set_data(path, data, version))

    def get_children(self, path, watch=False):
        return self.call(OP["getChildren"], body_path_watch(path, watch))

    def get_children2(self, path, watch=False):
        return self.call(OP["getChildren2"], body_path_watch(path, watch))

    def get_acl(self, path):
        return self.call(OP["getACL"], e_str(path))

    def set_acl(self, path, acl, version=-1):
        return self.call(OP["setACL"], e_str(path) + e_vec(acl, e_acl) + e_int(version))

    def sync(self, path):
        return self.call(OP["sync"], e_str(path))

    def check(self, path, version):
        return self.call(OP["check"], body_path_version(path, version))

    def multi(self, ops):
        return self.call(OP["multi"], body_multi(ops))

    def multi_read(self, ops):
        return self.call(OP["multiRead"], body_multi(ops))

    def add_watch(self, path, mode):
        return self.call(OP["addWatch"], e_str(path) + e_int(mode))

    def remove_watches(self, path, wtype):
        return self.call(OP["removeWatches"], e_str(path) + e_int(wtype))

    def check_watches(self, path, wtype):
        return self.call(OP["checkWatches"], e_str(path) + e_int(wtype))

    def whoami(self):
        return self.call(OP["whoAmI"])

    def get_ephemerals(self, prefix):
        return self.call(OP["getEphemerals"], e_str(prefix))

    def get_all_children_number(self, path):
        return self.call(OP["getAllChildrenNumber"], e_str(path))

    def auth(self, scheme, data):
        return self.call(OP["auth"], e_int(0) + e_str(scheme) + e_buf(data), xid=-4)

    def ping(self):
        return self.call(OP["ping"], b"", xid=-2)

    def set_watches(self, rel_zxid, data=(), exist=(), child=(), persistent=None,
                    recursive=None, xid=-8):
        body = e_long(rel_zxid) + e_vec(list(data), e_str) + e_vec(list(exist), e_str) + \
            e_vec(list(child), e_str)
        if persistent is None and recursive is None:
            return self.call(OP["setWatches"], body, xid=xid)
        body += e_vec(list(persistent or ()), e_str) + e_vec(list(recursive or ()), e_str)
        return self.call(OP["setWatches2"], body, xid=xid)

    def close_session(self):
        return self.call(OP["closeSession"])

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def session(port, timeout_ms=30000, **kw):
    """A connected RawZK."""
    c = RawZK(port)
    c.connect(timeout_ms=timeout_ms, **kw)
    return c


def four_letter(port, word, timeout=10.0):
    """Sends a four-letter word; returns everything until the server closes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(word.encode() if isinstance(word, str) else word)
        out = b""
        deadline = time.time() + timeout
        while time.time() < deadline:
            s.settimeout(max(0.01, deadline - time.time()))
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            out += chunk
        return out.decode("utf-8", "replace")
    finally:
        s.close()
