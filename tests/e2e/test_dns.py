"""Issue 3 end to end: every record format, record type and protocol rule of
SPEC section 4 through a real daemon, and forwarding to a fake upstream."""
import json
import socket
import select
import struct
import time

import dns.edns
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pycares
import pytest

from fakeupstream import FakeUpstream
from zkharness import Client, Daemon, cares_query, dns_query, udp_raw


@pytest.fixture(scope="module")
def zk():
    with Daemon() as d:
        c = Client(d.sock)
        d.client = c
        yield d
        c.close()


def rrs(msg, rdtype, section="answer"):
    return [rr for rrset in getattr(msg, section) for rr in rrset if rrset.rdtype == rdtype]


def create(c, path, data):
    quoted = '"' + data.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    reply = c.cmd("CREATE %s %s parents" % (path, quoted))
    assert reply.startswith("OK "), reply


def test_record_formats(zk):
    c = zk.client
    curator = {"name": "cur", "id": "i1", "address": "10.9.0.1", "port": 81,
               "payload": {"weight": 3}, "registrationTimeUTC": 1, "serviceType": "DYNAMIC"}
    create(c, "/services/cur/i1", json.dumps(curator))
    off = dict(curator, id="i2", address="10.9.0.2", enabled=False)
    create(c, "/services/cur/i2", json.dumps(off))
    fin = {"serviceEndpoint": {"host": "10.9.1.1", "port": 82}, "additionalEndpoints": {},
           "status": "ALIVE"}
    create(c, "/services/fin/a", json.dumps(fin))
    create(c, "/services/fin/b", json.dumps(dict(fin, status="DEAD",
                                                  serviceEndpoint={"host": "10.9.1.2",
                                                                   "port": 82})))
    create(c, "/services/plain/h1", "10.9.2.1")
    create(c, "/services/plain/h2", "10.9.2.2:8080\n")
    create(c, "/services/plain/h3", "[2001:db8::7]:9090")
    create(c, "/services/plain/junk", "this is not a record")
    assert sorted(r.address for r in rrs(dns_query(zk.dns_port, "cur.zk.", "A"),
                                         dns.rdatatype.A)) == ["10.9.0.1"]
    assert [r.address for r in rrs(dns_query(zk.dns_port, "fin.zk.", "A"),
                                   dns.rdatatype.A)] == ["10.9.1.1"]
    assert sorted(r.address for r in rrs(dns_query(zk.dns_port, "plain.zk.", "A"),
                                         dns.rdatatype.A)) == ["10.9.2.1", "10.9.2.2"]
    six = dns_query(zk.dns_port, "plain.zk.", "AAAA")
    assert [r.address for r in rrs(six, dns.rdatatype.AAAA)] == ["2001:db8::7"]
    srv = dns_query(zk.dns_port, "_plain._tcp.zk.", "SRV")
    assert sorted((r.port, r.target.to_text()) for r in rrs(srv, dns.rdatatype.SRV)) == \
        [(8080, "h2.plain.zk."), (9090, "h3.plain.zk.")]
    cur = rrs(dns_query(zk.dns_port, "_cur._tcp.zk.", "SRV"), dns.rdatatype.SRV)
    assert [(r.weight, r.port) for r in cur] == [(3, 81)]
    # a node whose data is no record: not a member, not an error
    junk = dns_query(zk.dns_port, "junk.plain.zk.", "A")
    assert junk.rcode() == dns.rcode.NOERROR and not junk.answer


def test_aaaa_nodata_cname_txt(zk):
    c = zk.client
    assert c.cmd("REGISTER v4only 10.8.0.1 80").startswith("OK ")
    r = dns_query(zk.dns_port, "v4only.zk.", "AAAA")
    assert r.rcode() == dns.rcode.NOERROR and not r.answer and r.authority
    assert c.cmd("REGISTER named db.example.org 5432 id=db1").startswith("OK ")
    r = dns_query(zk.dns_port, "db1.named.zk.", "A")
    assert [x.target.to_text() for x in rrs(r, dns.rdatatype.CNAME)] == ["db.example.org."]
    assert c.cmd("REGISTER txty 10.8.0.2 80 id=t1 txt=env=prod txt=zone=a").startswith("OK ")
    r = dns_query(zk.dns_port, "t1.txty.zk.", "TXT")
    # one TXT record holding one string per pair, as DNS-SD wants (RFC 6763)
    got = sorted(s.decode() for x in rrs(r, dns.rdatatype.TXT) for s in x.strings)
    assert got == ["env=prod", "zone=a"]


def test_rotation_and_weights(zk):
    c = zk.client
    for i in range(4):
        assert c.cmd("REGISTER rot 10.7.0.%d 80 weight=%d" % (i + 1, 1 if i else 5)) \
            .startswith("OK ")
    firsts = []
    for _ in range(80):
        r = dns_query(zk.dns_port, "rot.zk.", "A")
        addrs = [x.address for x in rrs(r, dns.rdatatype.A)]
        assert sorted(addrs) == ["10.7.0.1", "10.7.0.2", "10.7.0.3", "10.7.0.4"]
        firsts.append(addrs[0])
    # weight 5 against 1+1+1: the heavy member comes first 5 times in 8
    assert 40 <= firsts.count("10.7.0.1") <= 60, firsts
    assert len(set(firsts)) == 4


def test_leader_and_dns_sd(zk):
    c = zk.client
    create(c, "/services/elect/n_0000000007", "10.6.0.7:70")
    create(c, "/services/elect/n_0000000003", "10.6.0.3:70")
    create(c, "/services/elect/n_0000000011", "10.6.0.11:70")
    r = dns_query(zk.dns_port, "_leader.elect.zk.", "A")
    assert [x.address for x in rrs(r, dns.rdatatype.A)] == ["10.6.0.3"]
    assert c.cmd("REGISTER sd 10.6.1.1 443 id=one txt=path=/").startswith("OK ")
    r = dns_query(zk.dns_port, "_services._dns-sd._udp.zk.", "PTR")
    types = [x.target.to_text() for x in rrs(r, dns.rdatatype.PTR)]
    assert "_sd._tcp.zk." in types
    r = dns_query(zk.dns_port, "_sd._tcp.zk.", "PTR")
    assert [x.target.to_text() for x in rrs(r, dns.rdatatype.PTR)] == ["one._sd._tcp.zk."]
    r = dns_query(zk.dns_port, "one._sd._tcp.zk.", "SRV")
    assert [(x.port, x.target.to_text()) for x in rrs(r, dns.rdatatype.SRV)] == \
        [(443, "one.sd.zk.")]


def test_edns_truncation_and_tcp(zk):
    c = zk.client
    for i in range(60):
        assert c.cmd("REGISTER many 10.5.%d.%d 80" % (i // 200, i % 200 + 1)).startswith("OK ")
    small = dns_query(zk.dns_port, "many.zk.", "A")  # no EDNS: 512 bytes
    assert small.flags & dns.flags.TC and not small.answer
    assert small.edns < 0
    big = dns_query(zk.dns_port, "many.zk.", "A", payload=4096)
    assert not big.flags & dns.flags.TC and len(rrs(big, dns.rdatatype.A)) == 60
    assert big.edns == 0
    over_tcp = dns_query(zk.dns_port, "many.zk.", "A", tcp=True)
    assert not over_tcp.flags & dns.flags.TC and len(rrs(over_tcp, dns.rdatatype.A)) == 60
    # c-ares retries over TCP by itself after TC and gets every member
    res, err = cares_query(zk.dns_port, "many.zk", pycares.QUERY_TYPE_A)
    assert err is None and len(res) == 60


def test_badvers_any_notimp(zk):
    q = dns.message.make_query("zk.", "SOA")
    q.use_edns(1)  # EDNS version 1
    r = dns.query.udp(q, "127.0.0.1", port=zk.dns_port, timeout=5)
    assert r.rcode() == dns.rcode.BADVERS
    r = dns_query(zk.dns_port, "zk.", "ANY")
    assert [x.rdtype for x in r.answer] == [dns.rdatatype.HINFO]
    q = dns.message.make_query("zk.", "SOA")
    q.set_opcode(dns.opcode.STATUS)
    r = dns.query.udp(q, "127.0.0.1", port=zk.dns_port, timeout=5)
    assert r.rcode() == dns.rcode.NOTIMP


def test_soa_serial_follows_zxid(zk):
    s1 = rrs(dns_query(zk.dns_port, "zk.", "SOA"), dns.rdatatype.SOA)[0].serial
    assert zk.client.cmd("REGISTER serial 10.4.0.1 80").startswith("OK ")
    s2 = rrs(dns_query(zk.dns_port, "zk.", "SOA"), dns.rdatatype.SOA)[0].serial
    assert s2 > s1


# ---- forwarding -----------------------------------------------------------------

@pytest.fixture(scope="module")
def fwd():
    up = FakeUpstream()
    with Daemon(forward=True, upstream=["127.0.0.1:%d" % up.port],
                dns_extra="upstream_timeout_ms = 400;") as d:
        d.upstream = up
        yield d
    up.close()


def test_forward_relays_answer_with_client_id(fwd):
    q = dns.message.make_query("www.example.", "A")
    q.id = 4242
    r = dns.query.udp(q, "127.0.0.1", port=fwd.dns_port, timeout=5)
    assert r.id == 4242 and r.rcode() == dns.rcode.NOERROR
    assert [x.address for x in rrs(r, dns.rdatatype.A)] == ["192.0.2.10"]
    res, err = cares_query(fwd.dns_port, "www.example", pycares.QUERY_TYPE_A)
    assert err is None and [x.host for x in res] == ["192.0.2.10"]
    r = dns_query(fwd.dns_port, "nowhere.example.", "A", tcp=True)
    assert r.rcode() == dns.rcode.NXDOMAIN
    r = dns_query(fwd.dns_port, "fail.example.", "A")
    assert r.rcode() == dns.rcode.SERVFAIL
    # in-zone names are still ours
    assert dns_query(fwd.dns_port, "zk.", "SOA").rcode() == dns.rcode.NOERROR


def test_forward_honours_rd(fwd):
    q = dns.message.make_query("www.example.", "A")
    q.flags &= ~dns.flags.RD
    dns.query.udp(q, "127.0.0.1", port=fwd.dns_port, timeout=5)
    assert not fwd.upstream.seen[-1].flags & dns.flags.RD
    q = dns.message.make_query("www.example.", "A")
    dns.query.udp(q, "127.0.0.1", port=fwd.dns_port, timeout=5)
    assert fwd.upstream.seen[-1].flags & dns.flags.RD


def test_forward_timeout_gives_servfail(fwd):
    r = dns_query(fwd.dns_port, "x.silent.", "A", timeout=10)
    assert r.rcode() == dns.rcode.SERVFAIL
    r = dns_query(fwd.dns_port, "y.silent.", "A", tcp=True, timeout=10)
    assert r.rcode() == dns.rcode.SERVFAIL


def test_forward_big_answer_truncated_for_udp_whole_over_tcp(fwd):
    r = dns_query(fwd.dns_port, "big.example.", "A")
    assert r.flags & dns.flags.TC
    r = dns_query(fwd.dns_port, "big.example.", "A", tcp=True)
    assert len(rrs(r, dns.rdatatype.A)) == 100


# ---- cached answers and freshness ------------------------------------------------

def soa_serial(msg):
    return [rr.serial for rrset in msg.authority for rr in rrset
            if rrset.rdtype == dns.rdatatype.SOA][0]


def test_fresh_after_ok_with_everything_cached(zk):
    """Every name a REGISTER can change is asked (and cached) before it; the
    first query after the OK must list the new member, the answers for the
    other members stay right, and negative answers elsewhere carry the new
    SOA serial although they were not rebuilt."""
    held = [Client(zk.sock) for _ in range(3)]
    for i, c in enumerate(held):
        assert c.cmd("REGISTER fresh 10.3.0.%d 80 id=h%d" % (i + 1, i)).startswith("OK ")
    assert zk.client.cmd("REGISTER other 10.3.1.1 80 id=o").startswith("OK ")
    for rnd in range(20):
        nid, addr = "n%d" % rnd, "10.3.2.%d" % (rnd + 1)
        # ask everything first, so that every answer below is a cached one
        assert dns_query(zk.dns_port, nid + ".fresh.zk.", "A").rcode() == dns.rcode.NXDOMAIN
        before = soa_serial(dns_query(zk.dns_port, "nx.other.zk.", "A"))
        for name, t in (("fresh.zk.", "A"), ("_fresh._tcp.zk.", "SRV"), ("h0.fresh.zk.", "A")):
            dns_query(zk.dns_port, name, t)
        c = Client(zk.sock)
        assert c.cmd("REGISTER fresh %s 80 id=%s" % (addr, nid)).startswith("OK ")
        a = sorted(x.address for x in rrs(dns_query(zk.dns_port, "fresh.zk.", "A"),
                                          dns.rdatatype.A))
        assert a == sorted(["10.3.0.1", "10.3.0.2", "10.3.0.3", addr]), (rnd, a)
        srv = dns_query(zk.dns_port, "_fresh._tcp.zk.", "SRV")
        assert nid + ".fresh.zk." in [x.target.to_text() for x in rrs(srv, dns.rdatatype.SRV)]
        assert [x.address for x in rrs(dns_query(zk.dns_port, nid + ".fresh.zk.", "A"),
                                       dns.rdatatype.A)] == [addr]
        assert [x.address for x in rrs(dns_query(zk.dns_port, "h0.fresh.zk.", "A"),
                                       dns.rdatatype.A)] == ["10.3.0.1"]
        nx = dns_query(zk.dns_port, "nx.other.zk.", "A")
        assert nx.rcode() == dns.rcode.NXDOMAIN and soa_serial(nx) > before
        c.close()
        # a close has no reply: the member goes when the daemon sees the EOF
        deadline = time.time() + 5
        while time.time() < deadline:
            r = dns_query(zk.dns_port, nid + ".fresh.zk.", "A")
            if r.rcode() == dns.rcode.NXDOMAIN:
                break
            time.sleep(0.01)
        assert r.rcode() == dns.rcode.NXDOMAIN
        a = [x.address for x in rrs(dns_query(zk.dns_port, "fresh.zk.", "A"), dns.rdatatype.A)]
        assert addr not in a and len(a) == 3
    for c in held:
        c.close()


def test_udp_burst_each_answer_to_its_asker(zk):
    """Queries sent back to back from two sockets reach the daemon in batches;
    each answer goes to the socket that asked, with its ID and question."""
    assert zk.client.cmd("REGISTER burst 10.3.3.1 80 id=b1").startswith("OK ")
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
    names = ["burst.zk.", "b1.burst.zk.", "nope.burst.zk.", "zk."]
    sent = {}
    for s in socks:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.settimeout(5)
    for i in range(100):
        q = dns.message.make_query(names[i % 4], "SOA" if i % 4 == 3 else "A")
        q.id = 1000 + i
        sent[q.id] = (i % 2, q)
        socks[i % 2].sendto(q.to_wire(), ("127.0.0.1", zk.dns_port))
    deadline = time.time() + 10
    while sent and time.time() < deadline:
        ready, _, _ = select.select(socks, [], [], 1.0)
        for s in ready:
            r = dns.message.from_wire(s.recv(4096))
            who, q = sent.pop(r.id)
            assert socks[who] is s and r.question == q.question
    assert not sent, "%d queries without an answer" % len(sent)
    for s in socks:
        s.close()


def test_srv_glue_owners_compressed(zk):
    """The A records of SRV targets point at the targets (RFC 1035 4.1.4):
    16 bytes each. dnspython and c-ares read them back."""
    conns = [Client(zk.sock) for _ in range(10)]
    for i, c in enumerate(conns):
        assert c.cmd("REGISTER cmp 10.4.1.%d %d id=m%d" % (i + 1, 8000 + i, i)).startswith("OK ")
    q = dns.message.make_query("_cmp._tcp.zk.", "SRV", use_edns=0, payload=1232)
    wire = udp_raw(zk.dns_port, q.to_wire())
    # header, question, 10 SRV with targets "mN.cmp.zk." (11 bytes), 10 A, OPT
    assert len(wire) == 12 + (14 + 4) + 10 * (2 + 10 + 6 + 11) + 10 * (2 + 10 + 4) + 11
    r = dns.message.from_wire(wire)
    targets = {x.target.to_text(): x.port for x in rrs(r, dns.rdatatype.SRV)}
    glue = {rrset.name.to_text(): [x.address for x in rrset] for rrset in r.additional
            if rrset.rdtype == dns.rdatatype.A}
    assert sorted(targets) == sorted(glue) == sorted("m%d.cmp.zk." % i for i in range(10))
    for i in range(10):
        assert glue["m%d.cmp.zk." % i] == ["10.4.1.%d" % (i + 1)]
    res, err = cares_query(zk.dns_port, "_cmp._tcp.zk", pycares.QUERY_TYPE_SRV)
    assert err is None and sorted(x.host for x in res) == sorted(t[:-1] for t in targets)
    for c in conns:
        c.close()


def test_tcp_connection_limit():
    """dns.max_tcp_connections: past it a new TCP connection is closed at once
    (with one warning), those open keep answering, UDP is untouched, and a
    slot comes back when a connection ends."""
    with Daemon(dns_extra="max_tcp_connections = 2;", level="info") as d:
        q = dns.message.make_query("zk.", "SOA").to_wire()
        frame = struct.pack("!H", len(q)) + q

        def dial():
            s = socket.create_connection(("127.0.0.1", d.dns_port), timeout=5)
            return s

        def answered(s):
            s.sendall(frame)
            head = b""
            while len(head) < 2:
                chunk = s.recv(2 - len(head))
                if not chunk:
                    return False
                head += chunk
            return True

        a, b = dial(), dial()
        assert answered(a) and answered(b)
        extra = dial()
        try:
            assert not answered(extra)  # closed without an answer
        except (ConnectionResetError, BrokenPipeError):
            pass
        extra.close()
        assert answered(a)
        assert dns_query(d.dns_port, "zk.", "SOA").answer  # UDP
        a.close()
        again = None
        for _ in range(50):  # until the daemon has seen the close
            again = dial()
            try:
                if answered(again):
                    break
            except (ConnectionResetError, BrokenPipeError):
                pass
            again.close()
            again = None
            time.sleep(0.05)
        assert again is not None, "no slot after a connection ended"
        again.close()
        b.close()
        assert d.read_log().count("dns.max_tcp_connections") == 1
