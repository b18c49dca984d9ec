"""Hostile and broken input on zonekeeperd's ZooKeeper port, over raw TCP:
truncated frames, huge and negative length prefixes, frames past the limit,
unknown opcodes, requests before the handshake, garbage after a valid frame,
malformed bodies, pipelining past max_outstanding, too many connections
from one address; and the four-letter words.

In every case the offending connection is closed or answered with an error,
while a healthy kazoo session (opened before, checked after) keeps working,
and the daemon exits 0 on SIGTERM at the end (under ASan: no leak, no error).
ZK_E2E_AGAINST=apache runs what applies against Apache ZooKeeper 3.8."""
import os
import socket
import struct
import threading
import time

import pytest
from kazoo.client import KazooClient

import zkraw
import zkserver
from zkraw import OP, e_int, e_str, frame

AGAINST_APACHE = os.environ.get("ZK_E2E_AGAINST") == "apache"
MAX_FRAME = 8192
MAX_OUTSTANDING = 4
MAX_CNXNS = 8


@pytest.fixture(scope="module")
def server():
    yield from zkserver.serve(
        AGAINST_APACHE, {"max_client_cnxns": MAX_CNXNS},
        zk_extra="max_frame = %d; max_outstanding = %d; max_client_cnxns = %d;"
        % (MAX_FRAME, MAX_OUTSTANDING, MAX_CNXNS),
        client_extra="")


@pytest.fixture(scope="module")
def healthy(server):
    """A kazoo session that lives through the whole module."""
    zk = KazooClient(hosts="127.0.0.1:%d" % server.port, timeout=10)
    zk.start(timeout=15)
    zk.ensure_path("/bad")
    yield zk
    zk.stop()
    zk.close()


_n = [0]


def still_fine(server, healthy):
    """The healthy session and a brand new one both work; ruok answers."""
    _n[0] += 1
    path = "/bad/ok-%d" % _n[0]
    healthy.create(path, b"v")
    assert healthy.get(path)[0] == b"v"
    c = zkraw.session(server.port)
    try:
        assert c.exists(path).err == 0
        c.close_session()
    finally:
        c.close()
    assert zkraw.four_letter(server.port, "ruok") == "imok"


def raw_conn(server):
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    return s


def closed(s, timeout=5.0):
    """True when the server closes s (whatever it sent first is returned)."""
    s.settimeout(timeout)
    got = b""
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                return True, got
            got += chunk
    except (ConnectionResetError, BrokenPipeError):
        return True, got
    except socket.timeout:
        return False, got
    return False, got


def session_conn(server):
    c = zkraw.RawZK(server.port)
    c.connect()
    return c


# ---- framing ------------------------------------------------------------------------

def test_truncated_handshake_then_close(server, healthy):
    for n in (1, 3, 10, 40):
        s = raw_conn(server)
        s.sendall(frame(zkraw.connect_body())[:n])
        s.close()
    still_fine(server, healthy)


def test_truncated_frame_kept_open_does_not_block_others(server, healthy):
    """Half a frame, then silence: the server waits for the rest (or drops
    the connection), and serves everyone else meanwhile."""
    c = session_conn(server)
    req = frame(e_int(1) + e_int(OP["getData"]) + e_str("/bad") + b"\0")
    c.send_raw(req[:7])
    still_fine(server, healthy)
    c.send_raw(req[7:])                 # the rest arrives: the request is answered
    try:
        rep = c.recv(10)
        assert rep.xid == 1 and rep.err == 0
    except zkraw.Closed:
        pass                             # closing a slow client is acceptable too
    c.close()


@pytest.mark.parametrize("length", [0x7fffffff, -1, -5, -0x80000000], ids=["huge", "minus1", "minus5", "min"])
def test_bad_length_prefix_after_handshake(server, healthy, length):
    c = session_conn(server)
    c.send_raw(struct.pack(">i", length) + b"\0" * 16)
    ok, got = closed(c.s)
    assert ok, "connection not closed after length %d (got %r)" % (length, got)
    c.close()
    still_fine(server, healthy)


@pytest.mark.parametrize("length", [0x7fffffff, -1], ids=["huge", "negative"])
def test_bad_length_prefix_as_first_frame(server, healthy, length):
    s = raw_conn(server)
    s.sendall(struct.pack(">i", length) + b"\0" * 40)
    ok, got = closed(s)
    assert ok and got == b"", (ok, got)
    s.close()
    still_fine(server, healthy)


@pytest.mark.skipif(AGAINST_APACHE, reason="zonekeeperd's max_frame")
def test_frame_past_the_limit(server, healthy):
    c = session_conn(server)
    assert c.set_data("/bad", b"x" * (MAX_FRAME - 200)).err == 0      # fits
    body = e_int(2) + e_int(OP["setData"]) + e_str("/bad") + zkraw.e_buf(b"y" * MAX_FRAME) + e_int(-1)
    c.send_raw(frame(body))
    ok, got = closed(c.s)
    assert ok, "frame of %d bytes (limit %d) accepted" % (len(body), MAX_FRAME)
    c.close()
    # Only announcing the length is enough: the server need not wait for the bytes.
    c = session_conn(server)
    c.send_raw(struct.pack(">i", MAX_FRAME + 1))
    ok, got = closed(c.s)
    assert ok
    c.close()
    assert healthy.get("/bad")[0] == b"x" * (MAX_FRAME - 200)
    still_fine(server, healthy)


def test_unknown_opcode_after_handshake(server, healthy):
    c = session_conn(server)
    c.send_raw(frame(e_int(7) + e_int(55) + b"\0" * 8))
    ok, got = closed(c.s)
    # ZooKeeper 3.8 answers UNIMPLEMENTED (-6) and closes; closing alone is fine too.
    if got:
        r = zkraw.Rd(got[4:])
        xid, zxid, err = r.int(), r.long(), r.int()
        assert (xid, err) == (7, zkraw.ERR["UNIMPLEMENTED"]), (xid, err)
    assert ok, "connection kept after an unknown opcode (got %r)" % got
    c.close()
    still_fine(server, healthy)


def test_request_before_handshake(server, healthy):
    """A getData frame as the first frame: not a ConnectRequest."""
    s = raw_conn(server)
    s.sendall(frame(e_int(1) + e_int(OP["getData"]) + e_str("/bad") + b"\0"))
    ok, got = closed(s)
    assert ok, "request before the handshake was not refused (got %r)" % got
    if got:   # if anything came back, it must not be a successful data reply
        r = zkraw.Rd(got[4:])
        assert r.left() < 16 or r.int() != 1
    s.close()
    # A ping or a closeSession as the first frame: refused as well.
    for body in (e_int(-2) + e_int(OP["ping"]), e_int(1) + e_int(OP["closeSession"]), b""):
        s = raw_conn(server)
        s.sendall(frame(body))
        ok, got = closed(s)
        assert ok, "first frame %r not refused (got %r)" % (body, got)
        s.close()
    still_fine(server, healthy)


def test_garbage_after_valid_frame(server, healthy):
    c = session_conn(server)
    good = frame(e_int(1) + e_int(OP["exists"]) + e_str("/bad") + b"\0")
    c.send_raw(good + b"\xde\xad\xbe\xef" * 8 + os.urandom(64))
    ok, got = closed(c.s)
    assert ok, "garbage after a valid frame left the connection open (got %r)" % got
    if got:     # the valid request may be answered before the close (ZooKeeper closes at once)
        r = zkraw.Rd(got[4:])
        assert (r.int(), r.long(), r.int()) [0::2] == (1, 0), got
    c.close()
    # Garbage as the whole first frame.
    s = raw_conn(server)
    s.sendall(os.urandom(3) + b"\x00" + os.urandom(200))
    ok, _ = closed(s)
    s.close()
    still_fine(server, healthy)


def answer_or_close(s, timeout=5.0):
    """Reads until one whole reply frame arrived or the server closed.
    Returns (closed, frame bytes or b"")."""
    s.settimeout(timeout)
    got = b""
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            if len(got) >= 4:
                n = struct.unpack(">i", got[:4])[0]
                if len(got) >= 4 + n:
                    return False, got[:4 + n]
            chunk = s.recv(65536)
            if not chunk:
                return True, got
            got += chunk
    except (ConnectionResetError, BrokenPipeError):
        return True, got
    except socket.timeout:
        pass
    raise AssertionError("neither an answer nor a close within %.0f s (got %r)" % (timeout, got))


def test_malformed_bodies(server, healthy):
    """A well-framed request whose body is wrong: an error answer
    (ZooKeeper: MARSHALLINGERROR, connection kept) or a close."""
    cases = [
        e_int(3) + e_int(OP["getData"]) + e_int(100) + b"/a",             # string longer than frame
        e_int(4) + e_int(OP["getData"]),                                  # no body at all
        e_int(5) + e_int(OP["create"]) + e_str("/bad/x"),                 # create cut short
        e_int(6) + e_int(OP["setData"]) + e_str("/bad") + e_int(-7),      # negative buffer len
        e_int(7) + e_int(OP["create"]) + e_str("/bad/x") + zkraw.e_buf(b"") + e_int(0x7fffffff),  # ACL count
        e_int(8) + e_int(OP["multi"]) + e_int(1) + b"\0" + e_int(-1),     # multi without end
        e_int(9) + e_int(OP["getChildren"]) + e_str("/bad\0evil") + b"\0",  # NUL in a path
        e_int(10),                                                        # short header
    ]
    for body in cases:
        c = session_conn(server)
        c.send_raw(frame(body))
        was_closed, got = answer_or_close(c.s)
        if not was_closed:
            r = zkraw.Rd(got[4:])
            xid, zxid, err = r.int(), r.long(), r.int()
            assert err != 0, "malformed %r answered OK" % body
            assert xid == struct.unpack(">i", body[:4])[0]
            assert c.exists("/bad").err == 0    # kept: still usable
        c.close()
    still_fine(server, healthy)


def test_requests_with_reserved_xids_and_types(server, healthy):
    """createSession as a request, deleteContainer, auth with a bad scheme:
    answered with an error (and maybe closed), nothing else breaks."""
    cases = [(e_int(7) + e_int(OP["createSession"]), None),
             (e_int(8) + e_int(OP["deleteContainer"]) + b"/bad", "BADARGUMENTS"),
             (e_int(-4) + e_int(OP["auth"]) + e_int(0) + e_str("nosuch") + zkraw.e_buf(b"x"),
              "AUTHFAILED")]
    for body, want in cases:
        c = session_conn(server)
        c.send_raw(frame(body))
        was_closed, got = answer_or_close(c.s)
        if got:
            r = zkraw.Rd(got[4:])
            xid, zxid, err = r.int(), r.long(), r.int()
            assert err != 0
            if want:
                assert zkraw.ERRNAME.get(err) == want, (body, err)
        c.close()
    assert healthy.exists("/bad") is not None
    still_fine(server, healthy)


def alive_connections(server):
    m = zkraw.four_letter(server.port, "mntr")
    for line in m.splitlines():
        if line.startswith("zk_num_alive_connections\t"):
            return int(line.split("\t")[1])
    return None


# ---- limits ----------------------------------------------------------------------------

@pytest.mark.skipif(AGAINST_APACHE, reason="zonekeeperd's max_outstanding")
def test_pipelining_past_max_outstanding(server, healthy):
    """max_outstanding = 4, and a client pipelines 3000 requests without
    reading: the server pauses reading that connection (or drops it); other
    sessions are not slowed; whatever is answered comes in order."""
    c = session_conn(server)
    n = 3000
    reqs = b"".join(frame(e_int(i + 1) + e_int(OP["exists"]) + e_str("/bad") + b"\0")
                    for i in range(n))
    sender = threading.Thread(target=lambda: _send_quietly(c.s, reqs), daemon=True)
    sender.start()
    time.sleep(0.3)
    t0 = time.time()
    still_fine(server, healthy)
    assert time.time() - t0 < 5, "a flooding client slowed the others down"
    got = []
    try:
        for _ in range(n):
            rep = c.recv(10)
            got.append(rep.xid)
            assert rep.err == 0
    except zkraw.Closed:
        pass
    sender.join(10)
    assert got == list(range(1, len(got) + 1)), "replies out of order"
    c.close()
    still_fine(server, healthy)


def _send_quietly(s, data):
    try:
        s.settimeout(30)
        s.sendall(data)
    except OSError:
        pass


@pytest.mark.skipif(AGAINST_APACHE, reason="zonekeeperd's max_outstanding")
def test_client_that_never_reads(server, healthy):
    """Requests with big replies and a client that never reads: the server
    must bound what it buffers (pausing or dropping it), not grow without end."""
    c = session_conn(server)
    healthy.set("/bad", b"z" * (MAX_FRAME - 200))
    req = frame(e_int(1) + e_int(OP["getData"]) + e_str("/bad") + b"\0")
    c.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sender = threading.Thread(target=lambda: _send_quietly(c.s, req * 20000), daemon=True)
    sender.start()
    time.sleep(1.0)
    still_fine(server, healthy)
    c.close()
    sender.join(10)
    still_fine(server, healthy)


def test_too_many_connections_from_one_address(server, healthy):
    """max_client_cnxns = 8 (the healthy session is one of them): the
    connection past the limit is closed, the others carry on, and once one
    closes a new one is accepted."""
    conns = []
    refused = None
    # Connections of earlier tests may still be closing on the server side.
    deadline = time.time() + 5
    while time.time() < deadline and (alive_connections(server) or 0) > 2:
        time.sleep(0.1)
    try:
        for i in range(MAX_CNXNS + 2):
            c = None
            try:
                c = zkraw.RawZK(server.port)
                c.connect(read_timeout=5)
                conns.append(c)
            except (zkraw.Closed, OSError):
                refused = i
                if c:
                    c.close()
                break
        assert refused is not None, "more than %d connections from 127.0.0.1 accepted" % MAX_CNXNS
        assert len(conns) == MAX_CNXNS - 1, (len(conns), refused)   # + the healthy one
        for c in conns:
            assert c.exists("/bad").err == 0
        assert healthy.exists("/bad") is not None
        conns.pop().close()
        time.sleep(0.3)
        c = zkraw.RawZK(server.port)
        c.connect(read_timeout=5)
        conns.append(c)
        assert c.exists("/bad").err == 0
    finally:
        for c in conns:
            try:
                c.close_session()
            except Exception:
                pass
            c.close()
    time.sleep(0.3)
    still_fine(server, healthy)


# ---- four-letter words -------------------------------------------------------------------

def test_four_letter_words(server, healthy):
    healthy.exists("/bad/watched-by-healthy", watch=lambda ev: None)
    assert zkraw.four_letter(server.port, "ruok") == "imok"
    assert zkraw.four_letter(server.port, "isro") == "rw"
    srvr = zkraw.four_letter(server.port, "srvr")
    assert "Mode: standalone" in srvr and "Zookeeper version:" in srvr and "Node count:" in srvr, srvr
    stat = zkraw.four_letter(server.port, "stat")
    assert "Clients:" in stat and "Mode: standalone" in stat, stat
    mntr = dict(l.split("\t", 1) for l in zkraw.four_letter(server.port, "mntr").splitlines() if "\t" in l)
    for key in ("zk_version", "zk_server_state", "zk_znode_count", "zk_num_alive_connections",
                "zk_watch_count", "zk_ephemerals_count", "zk_outstanding_requests",
                "zk_approximate_data_size"):
        assert key in mntr, (key, mntr)
    assert mntr["zk_server_state"] == "standalone"
    assert int(mntr["zk_znode_count"]) >= 3 and int(mntr["zk_watch_count"]) >= 1
    # the fixtures' writes went through the log: txns >= batches >= 1
    batches, txns = int(mntr["zk_log_batches"]), int(mntr["zk_log_txns"])
    assert 1 <= batches <= txns and 1 <= int(mntr["zk_log_max_batch"]) <= txns, mntr
    cons = zkraw.four_letter(server.port, "cons")
    sid = "0x%x" % healthy.client_id[0]
    assert "/127.0.0.1:" in cons and sid in cons, cons
    wchs = zkraw.four_letter(server.port, "wchs")
    assert "connections watching" in wchs and "Total watches:" in wchs, wchs
    envi = zkraw.four_letter(server.port, "envi")
    assert envi.startswith("Environment:") and "zookeeper.version=" in envi, envi
    conf = zkraw.four_letter(server.port, "conf")
    assert "clientPort=%d" % server.port in conf and "tickTime=" in conf, conf
    dump = zkraw.four_letter(server.port, "dump")
    assert "Sessions with Ephemerals" in dump, dump
    # A word ZooKeeper knows but does not serve here, and a non-word.
    other = zkraw.four_letter(server.port, "wchc")
    assert other == "" or "not executed" in other or sid in other, other
    assert zkraw.four_letter(server.port, "xyzw") == ""
    # A four-letter word after a handshake is just a (bad) frame: closed.
    c = session_conn(server)
    c.send_raw(b"ruok")
    ok, got = closed(c.s, timeout=3)
    assert b"imok" not in got
    c.close()
    still_fine(server, healthy)


def test_dump_writes_session_ids_in_hex(server, healthy):
    """dump's "Session Sets" lists session ids in hex (0x...), as ZooKeeper
    does and as its other sections do."""
    sid = "0x%x" % healthy.client_id[0]
    dump = zkraw.four_letter(server.port, "dump")
    sets = dump[dump.index("Session Sets"):dump.index("ephemeral nodes dump")]
    assert ("\t%s\n" % sid) in sets, sets
