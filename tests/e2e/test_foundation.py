"""Issue 2 end to end: registrations become DNS answers; the socket protocol;
bad input never hurts the daemon or other clients."""
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time

import dns.flags
import dns.rcode
import dns.rdatatype
import pycares
import pytest

from zkharness import (CLI, DAEMON, Client, Daemon, cares_query, dns_query,
                       udp_raw)


@pytest.fixture
def zk():
    with Daemon() as d:
        yield d


def a_records(port, name, tcp=False):
    r = dns_query(port, name, "A", tcp=tcp)
    return sorted(rr.address for rrset in r.answer for rr in rrset
                  if rrset.rdtype == dns.rdatatype.A)


# ---- the core promise ------------------------------------------------------

def test_register_then_dig_a_and_srv(zk):
    c = Client(zk.sock)
    reply = c.cmd("REGISTER web 10.0.0.5 8080")
    assert reply.startswith("OK /services/web/"), reply
    member = reply.split()[1].rsplit("/", 1)[1]
    # the very next query, through c-ares
    res, err = cares_query(zk.dns_port, "web.zk", pycares.QUERY_TYPE_A)
    assert err is None, err
    assert [r.host for r in res] == ["10.0.0.5"]
    res, err = cares_query(zk.dns_port, "_web._tcp.zk", pycares.QUERY_TYPE_SRV)
    assert err is None, err
    assert [(r.host, r.port) for r in res] == [("%s.web.zk" % member, 8080)]
    # the target's A record is in the additional section
    r = dns_query(zk.dns_port, "_web._tcp.zk.", "SRV")
    glue = [(rrset.name.to_text(), rr.address) for rrset in r.additional
            for rr in rrset if rrset.rdtype == dns.rdatatype.A]
    assert glue == [("%s.web.zk." % member, "10.0.0.5")]
    c.close()


def test_close_connection_removes_member(zk):
    c = Client(zk.sock)
    assert c.cmd("REGISTER web 10.0.0.5 8080").startswith("OK ")
    keep = Client(zk.sock)
    assert keep.cmd("REGISTER web 10.0.0.6 8080").startswith("OK ")
    assert a_records(zk.dns_port, "web.zk.") == ["10.0.0.5", "10.0.0.6"]
    c.close()
    # bounded wait for the daemon to see the close; then the very next query
    deadline = time.time() + 5
    while time.time() < deadline and a_records(zk.dns_port, "web.zk.") != ["10.0.0.6"]:
        time.sleep(0.01)
    assert a_records(zk.dns_port, "web.zk.") == ["10.0.0.6"]
    keep.close()


def test_kill9_of_registering_process_removes_member(zk):
    code = ("import socket,sys,time\n"
            "s=socket.socket(socket.AF_UNIX);s.connect(sys.argv[1])\n"
            "s.sendall(b'REGISTER api 10.1.1.1 9000\\n')\n"
            "print(s.recv(1000).decode().strip(),flush=True)\n"
            "time.sleep(60)\n")
    p = subprocess.Popen([sys.executable, "-c", code, zk.sock], stdout=subprocess.PIPE,
                         text=True)
    try:
        assert p.stdout.readline().startswith("OK /services/api/")
        assert a_records(zk.dns_port, "api.zk.") == ["10.1.1.1"]
        p.send_signal(signal.SIGKILL)
        p.wait(10)
        deadline = time.time() + 5
        while time.time() < deadline and a_records(zk.dns_port, "api.zk."):
            time.sleep(0.01)
        r = dns_query(zk.dns_port, "api.zk.", "A")
        assert not r.answer
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)


def test_register_deregister_and_tcp(zk):
    c = Client(zk.sock)
    assert c.cmd("REGISTER db 10.0.0.7 5432 id=primary").startswith(
        "OK /services/db/primary")
    assert a_records(zk.dns_port, "primary.db.zk.", tcp=True) == ["10.0.0.7"]
    assert c.cmd("DEREGISTER db primary") == "OK"
    r = dns_query(zk.dns_port, "primary.db.zk.", "A", tcp=True)
    assert r.rcode() == dns.rcode.NXDOMAIN
    assert c.cmd("DEREGISTER db primary").startswith("ERR NONODE")


# ---- DNS basics --------------------------------------------------------------

def test_apex_soa_ns_nxdomain_nodata(zk):
    c = Client(zk.sock)
    assert c.cmd("REGISTER web 10.0.0.5 8080").startswith("OK ")
    soa = dns_query(zk.dns_port, "zk.", "SOA")
    assert soa.rcode() == dns.rcode.NOERROR and soa.flags & dns.flags.AA
    assert soa.answer[0].rdtype == dns.rdatatype.SOA
    ns = dns_query(zk.dns_port, "zk.", "NS")
    assert ns.answer[0].rdtype == dns.rdatatype.NS
    nx = dns_query(zk.dns_port, "nosuch.zk.", "A")
    assert nx.rcode() == dns.rcode.NXDOMAIN
    assert nx.authority[0].rdtype == dns.rdatatype.SOA
    nodata = dns_query(zk.dns_port, "web.zk.", "TXT")
    assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer
    assert nodata.authority[0].rdtype == dns.rdatatype.SOA
    # c-ares tells NXDOMAIN from NODATA too
    _, err = cares_query(zk.dns_port, "nosuch.zk", pycares.QUERY_TYPE_A)
    assert err == pycares.errno.ARES_ENOTFOUND
    _, err = cares_query(zk.dns_port, "web.zk", pycares.QUERY_TYPE_AAAA)
    assert err == pycares.errno.ARES_ENODATA


def test_names_map_by_reversed_labels_case_insensitive(zk):
    c = Client(zk.sock)
    assert c.cmd('CREATE /services/web "" parents').startswith("OK")
    assert c.cmd("CREATE /services/web/api 10.2.3.4").startswith("OK /services/web/api")
    assert a_records(zk.dns_port, "api.web.zk.") == ["10.2.3.4"]
    assert a_records(zk.dns_port, "API.Web.ZK.") == ["10.2.3.4"]
    assert a_records(zk.dns_port, "aPi.WEB.zk.", tcp=True) == ["10.2.3.4"]


def test_ttl_from_config():
    with Daemon(ttl=30) as d:
        c = Client(d.sock)
        assert c.cmd("REGISTER web 10.0.0.5 8080").startswith("OK ")
        r = dns_query(d.dns_port, "web.zk.", "A")
        assert r.answer[0].ttl == 30
    with Daemon() as d:
        c = Client(d.sock)
        assert c.cmd("REGISTER web 10.0.0.5 8080").startswith("OK ")
        assert dns_query(d.dns_port, "web.zk.", "A").answer[0].ttl == 0


def test_out_of_zone_refused_without_forwarding(zk):
    r = dns_query(zk.dns_port, "example.com.", "A")
    assert r.rcode() == dns.rcode.REFUSED


# ---- the socket protocol -------------------------------------------------------

def test_protocol_verbs_and_errors(zk):
    c = Client(zk.sock)
    assert c.cmd("PING") == "OK"
    assert c.cmd("ping") == "OK"
    assert c.cmd("CREATE /app hello") == "OK /app"
    assert c.cmd("CREATE /app x").startswith("ERR NODEEXISTS")
    get = c.cmd("GET /app")
    assert get.startswith("OK hello ") and "version=0" in get and "dataLength=5" in get
    assert re.search(r"ephemeralOwner=0x0\b", get), get
    st = c.cmd('SET /app "hello world" version=0')
    assert st.startswith("OK ") and "version=1" in st
    assert c.cmd("SET /app x version=0").startswith("ERR BADVERSION")
    assert c.cmd('GET /app').startswith('OK "hello world" ')
    assert c.cmd("CREATE /app/b").startswith("OK /app/b")
    assert c.cmd("CREATE /app/a").startswith("OK /app/a")
    assert c.cmd("CHILDREN /app") == "OK 2 a b"
    assert c.cmd("DELETE /app").startswith("ERR NOTEMPTY")
    assert c.cmd("DELETE /nosuch").startswith("ERR NONODE")
    assert c.cmd("EXISTS /nosuch").startswith("ERR NONODE")
    assert c.cmd("EXISTS /app/a").startswith("OK ")
    assert c.cmd("CREATE /eph x ephemeral") == "OK /eph"
    assert c.cmd("CREATE /eph/child").startswith("ERR NOCHILDRENFOREPHEMERALS")
    s1 = c.cmd("CREATE /app/q- x sequential")
    s2 = c.cmd("CREATE /app/q- x sequential")
    assert re.fullmatch(r"OK /app/q-\d{10}", s1) and s1 < s2, (s1, s2)
    assert c.cmd("CREATE /deep/er/path x parents") == "OK /deep/er/path"
    assert c.cmd("DELETE /app/a version=5").startswith("ERR BADVERSION")
    assert c.cmd("DELETE /app/a version=0") == "OK"
    assert c.cmd("QUIT") == "OK"
    assert c.closed_by_peer()


def test_quoting_round_trip(zk):
    c = Client(zk.sock)
    assert c.cmd(r'CREATE /q "a b \"c\" \\ \n \t \x01 \xff"') == "OK /q"
    got = c.cmd("GET /q")
    assert got.startswith(r'OK "a b \"c\" \\ \n \t \x01 \xff" '), got
    assert c.cmd('CREATE /empty ""') == "OK /empty"
    assert c.cmd("GET /empty").startswith('OK "" ')


def test_bad_lines_keep_connection_usable(zk):
    c = Client(zk.sock)
    assert c.cmd('CREATE "/unterminated').startswith("ERR BADARGUMENTS")
    assert c.cmd(r'CREATE /x "\q"').startswith("ERR BADARGUMENTS")
    assert c.cmd("FROBNICATE /x").startswith("ERR BADARGUMENTS")
    assert c.cmd("GET").startswith("ERR BADARGUMENTS")
    assert c.cmd("GET relative/path").startswith("ERR BADARGUMENTS")
    assert c.cmd("GET /a//b").startswith("ERR BADARGUMENTS")
    assert c.cmd("SET /x y version=abc").startswith("ERR BADARGUMENTS")
    assert c.cmd("REGISTER web not-an-ip!! 80").startswith("ERR BADARGUMENTS")
    assert c.cmd("REGISTER web 10.0.0.1 99999").startswith("ERR BADARGUMENTS")
    assert c.cmd("PING") == "OK"


def test_crlf_accepted(zk):
    c = Client(zk.sock)
    c.send_raw(b"PING\r\nCREATE /crlf v\r\n")
    assert c.reply() == "OK"
    assert c.reply() == "OK /crlf"


def test_overlong_line_closes_connection_keeps_earlier_work(zk):
    c = Client(zk.sock)
    assert c.cmd("CREATE /kept v") == "OK /kept"
    try:
        c.send_raw(b"GET /" + b"a" * 200000 + b"\n")
    except BrokenPipeError:
        pass  # the server may answer and close before it has read all of it
    assert c.reply().startswith("ERR BADARGUMENTS")
    assert c.closed_by_peer()
    other = Client(zk.sock)
    assert other.cmd("GET /kept").startswith("OK v ")


def test_one_shot_watches(zk):
    w = Client(zk.sock)
    c = Client(zk.sock)
    assert w.cmd("EXISTS /wn watch").startswith("ERR NONODE")
    assert c.cmd("CREATE /wn v") == "OK /wn"
    ev = w.event()
    assert re.fullmatch(r"EVENT created /wn zxid=\d+", ev), ev
    assert w.cmd("GET /wn watch").startswith("OK v ")
    assert w.cmd("CHILDREN /wn watch") == "OK 0"
    assert c.cmd("SET /wn v2").startswith("OK ")
    assert w.event().startswith("EVENT changed /wn ")
    assert c.cmd("CREATE /wn/kid").startswith("OK ")
    assert w.event().startswith("EVENT children /wn ")
    # one-shot: no second event for a second change
    assert c.cmd("SET /wn v3").startswith("OK ")
    assert w.cmd("PING") == "OK" and not w.events


def test_persistent_recursive_watch(zk):
    w = Client(zk.sock)
    c = Client(zk.sock)
    assert w.cmd("WATCH /services recursive") == "OK"
    assert c.cmd("REGISTER web 10.0.0.5 8080").startswith("OK ")
    seen = [w.event(), w.event()]
    assert seen[0].startswith("EVENT created /services ") or \
        seen[0].startswith("EVENT created /services/web"), seen
    c.close()
    deadline = time.time() + 5
    got = None
    while time.time() < deadline:
        got = w.event()
        if got.startswith("EVENT deleted /services/web/"):
            break
    assert got.startswith("EVENT deleted /services/web/"), got
    assert w.cmd("UNWATCH /services") == "OK"


def test_register_writes_curator_json(zk):
    c = Client(zk.sock)
    path = c.cmd("REGISTER web 10.0.0.5 8080 weight=5 priority=2 tag=a tag=b txt=k=v").split()[1]
    import json
    got = c.cmd("GET " + path)
    data = got.split(" ")[1]
    # the data token may be quoted; undo the protocol's quoting for JSON
    if data.startswith('"'):
        m = re.match(r'OK "((?:[^"\\]|\\.)*)" ', got)
        data = bytes(m.group(1), "latin-1").decode("unicode_escape")
    doc = json.loads(data)
    assert doc["name"] == "web" and doc["address"] == "10.0.0.5" and doc["port"] == 8080
    assert doc["id"] == path.rsplit("/", 1)[1]
    assert isinstance(doc["registrationTimeUTC"], int)
    assert doc["serviceType"] == "DYNAMIC"
    assert doc["payload"]["weight"] == 5 and doc["payload"]["priority"] == 2
    assert doc["payload"]["tags"] == ["a", "b"] and doc["payload"]["txt"] == {"k": "v"}


# ---- clients that misbehave ----------------------------------------------------

def test_silent_and_non_reading_clients_do_not_stall_others(zk):
    silent = [Client(zk.sock) for _ in range(20)]
    hog = Client(zk.sock)
    hog.s.setblocking(False)
    sent = 0
    try:
        for _ in range(20000):  # bounded: requests it never reads the replies of
            hog.s.send(b"PING\n" * 100)
            sent += 1
    except BlockingIOError:
        pass
    c = Client(zk.sock)
    t0 = time.time()
    assert c.cmd("REGISTER web 10.0.0.9 80").startswith("OK ")
    assert a_records(zk.dns_port, "web.zk.") == ["10.0.0.9"]
    assert time.time() - t0 < 2.0
    for s in silent:
        s.close()
    hog.close()


def test_dns_garbage_gets_formerr_or_nothing(zk):
    import random
    rnd = random.Random(7)
    for n in range(300):
        data = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 80)))
        reply = udp_raw(zk.dns_port, data, timeout=0.05)
        if reply is not None:
            assert len(reply) >= 12
    # a header with QR=0 and one question that is cut short: FORMERR
    bad = bytes([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, ord("w")])
    reply = udp_raw(zk.dns_port, bad)
    assert reply is not None and reply[:2] == b"\x12\x34" and (reply[3] & 0x0F) == 1
    # still serving
    assert dns_query(zk.dns_port, "zk.", "SOA").rcode() == dns.rcode.NOERROR
    # garbage over TCP: a length prefix promising more than is sent, then close
    s = socket.create_connection(("127.0.0.1", zk.dns_port), timeout=5)
    s.sendall(b"\xff\xff" + b"x" * 10)
    s.close()
    assert dns_query(zk.dns_port, "zk.", "SOA", tcp=True).rcode() == dns.rcode.NOERROR


# ---- the command line ------------------------------------------------------------

def test_version_help_check_config(tmp_path):
    out = subprocess.run([DAEMON, "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("zonekeeperd ")
    out = subprocess.run([DAEMON, "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--check-config" in out.stdout
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for name in ("dev.conf", "zonekeeper.conf"):
        out = subprocess.run([DAEMON, "--check-config", "-c", os.path.join(repo, "conf", name)],
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
    bad = tmp_path / "bad.conf"
    bad.write_text('data_dir = "x";\ndns = {\n  ttl = -5;\n};\n')
    out = subprocess.run([DAEMON, "--check-config", "-c", str(bad)], capture_output=True,
                         text=True)
    assert out.returncode == 1
    assert re.search(re.escape(str(bad)) + r":3: ", out.stderr), out.stderr
    bad.write_text('registry = { backend = "zookeeper"; servers = "127.0.0.1:2181"; };\n')
    out = subprocess.run([DAEMON, "--check-config", "-c", str(bad)], capture_output=True,
                         text=True)
    assert out.returncode == 1 and "not supported" in out.stderr, out.stderr
    bad.write_text('data_dir = "x";\nbogus = 1;\n')
    out = subprocess.run([DAEMON, "--check-config", "-c", str(bad)], capture_output=True,
                         text=True)
    assert out.returncode == 1 and ":2: " in out.stderr and "bogus" in out.stderr


def test_cli_register_and_query(zk):
    if not os.path.exists(CLI):
        pytest.skip("cli not built")
    env = dict(os.environ, ZONEKEEPER_SOCKET=zk.sock)
    out = subprocess.run([CLI, "create", "/cli", "hello world"], capture_output=True,
                         text=True, env=env, timeout=10)
    assert out.returncode == 0 and out.stdout.strip() == "OK /cli", out
    out = subprocess.run([CLI, "get", "/nosuch"], capture_output=True, text=True, env=env,
                         timeout=10)
    assert out.returncode == 1 and "NONODE" in out.stdout + out.stderr


def test_sigint_stops_cleanly():
    d = Daemon().start()
    d.proc.send_signal(signal.SIGINT)
    assert d.proc.wait(20) == 0, d.read_log()[-3000:]


def test_systemd_notify_ready_and_stopping(tmp_path):
    """Type=notify: READY=1 once listening, STOPPING=1 on SIGTERM."""
    path = str(tmp_path / "notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(10)
    try:
        d = Daemon(env=dict(os.environ, NOTIFY_SOCKET=path)).start()
        msgs = s.recv(4096).decode()
        assert "READY=1" in msgs.split("\n"), msgs
        # it is listening by the time it says so
        assert Client(d.sock).cmd("PING") == "OK"
        d.proc.send_signal(signal.SIGTERM)
        msgs = s.recv(4096).decode()
        assert "STOPPING=1" in msgs.split("\n"), msgs
        assert d.proc.wait(20) == 0
    finally:
        s.close()


def test_clients_closing_before_their_replies_do_not_kill_the_daemon(zk):
    """A reply written to a peer that has gone must not kill the daemon with
    SIGPIPE: clients that REGISTER and close at once, many at a time, as a
    crashing fleet would (this killed the daemon before SIGPIPE was ignored)."""
    conns = []
    t0 = time.time()
    n = 0
    while time.time() - t0 < 2.0 and n < 4000:  # bounded in time and count
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(zk.sock)
            s.send(b"REGISTER gone%02d 10.3.%d.%d 80 id=c%d\n"
                   % (n % 100, n // 250 % 250, n % 250 + 1, n))
            conns.append(s)
        except OSError:  # backlog full: try the next one
            s.close()
        while len(conns) > 1:
            conns.pop(0).close()
        n += 1
        time.sleep(0.0005)
    for s in conns:
        s.close()
    time.sleep(0.5)
    assert zk.proc.poll() is None, "daemon died: %s\n%s" % (zk.proc.returncode,
                                                            zk.read_log()[-2000:])
    c = Client(zk.sock)
    assert c.cmd("PING") == "OK"
    assert c.cmd("CHILDREN /services").startswith("OK ")


def _local_sessions(zk):
    import zkraw
    for line in zkraw.four_letter(zk.zk_port, "mntr").splitlines():
        if line.startswith("zk_local_sessions\t"):
            return int(line.split("\t")[1])
    raise AssertionError("mntr has no zk_local_sessions")


def test_session_is_made_by_the_first_line_not_by_connecting(zk):
    # A connection's session (and its write to the log) comes with its first
    # line, in the same log batch as that line's write: connecting alone
    # costs no write, and the REGISTER is acknowledged on the new session.
    base = _local_sessions(zk)
    quiet = [Client(zk.sock) for _ in range(5)]
    time.sleep(0.3)
    assert _local_sessions(zk) == base
    c = quiet[0]
    assert c.cmd("REGISTER lazy 10.0.0.77 80").startswith("OK ")
    assert a_records(zk.dns_port, "lazy.zk.") == ["10.0.0.77"]
    assert _local_sessions(zk) == base + 1
    assert quiet[1].cmd("PING") == "OK"  # a read: answered before its session is durable
    deadline = time.time() + 5
    while _local_sessions(zk) != base + 2 and time.time() < deadline:
        time.sleep(0.01)
    assert _local_sessions(zk) == base + 2
    c.close()
    deadline = time.time() + 5
    while a_records(zk.dns_port, "lazy.zk.") and time.time() < deadline:
        time.sleep(0.01)
    assert a_records(zk.dns_port, "lazy.zk.") == []
    for q in quiet[1:]:
        q.close()
    while _local_sessions(zk) != base and time.time() < deadline:
        time.sleep(0.01)
    assert _local_sessions(zk) == base
