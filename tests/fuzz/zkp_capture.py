#!/usr/bin/python3
"""zkp_capture.py - records real ZooKeeper client/server bytes for the codec tests.

A recording TCP proxy on 127.0.0.1 sits between real clients (kazoo, the Java
client of Apache ZooKeeper 3.8, the C client, and a raw socket speaking as a
3.4 C client) and a real Apache ZooKeeper 3.8 server, and keeps every byte in
both directions. The frames are then parsed here (an independent Python jute
parser) and written out as

  tests/unit/zkp_capture.c   each exchange: request bytes + what they must
                             decode to (a summary string), reply bytes + the
                             values to encode them from
  tests/fuzz/zkp_corpus/     every client frame, as the fuzzer's seed corpus

Loopback only, bounded: each scenario runs a fixed list of calls.

Usage (ZooKeeper 3.8 from Debian's zookeeper package, extended types on):
  java -cp <zookeeper.jar:zookeeper-jute.jar:slf4j-api.jar:...> \
      -Dzookeeper.extendedTypesEnabled=true \
      org.apache.zookeeper.server.ZooKeeperServerMain zoo.cfg   # port 21811
  tests/fuzz/zkp_capture.py --zk 127.0.0.1:21811 --classpath <same cp>
"""
import argparse
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


# The recording proxy is tests/e2e/zkproxy.py (record=True) and the jute
# reader tests/e2e/zkraw.py's, with stats as tuples in wire order.
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import zkproxy  # noqa: E402
import zkraw  # noqa: E402


class Rd(zkraw.Rd):
    def stat(self):
        return tuple(super().stat().values())


# ---- scenarios ----------------------------------------------------------------

def scenario_kazoo(proxy):
    from kazoo.client import KazooClient
    from kazoo.security import make_digest_acl, OPEN_ACL_UNSAFE
    from kazoo.exceptions import NoNodeError, NodeExistsError, BadVersionError
    proxy.tag = "kazoo"
    zk = KazooClient(hosts="127.0.0.1:%d" % proxy.port, timeout=10)
    zk.start(timeout=10)
    try:
        zk.create("/kz", b"")
        zk.create("/kz/a", b"hello")
        zk.create("/kz/e", b"", ephemeral=True)
        zk.create("/kz/s-", b"x", sequence=True)
        zk.create("/kz/n", None)
        zk.create("/kz/c2", b"d", include_data=True)
        try:
            zk.create("/kz/a", b"dup")
        except NodeExistsError:
            pass
        zk.get("/kz/a")
        zk.get("/kz/n")
        try:
            zk.get("/kz/missing")
        except NoNodeError:
            pass
        zk.exists("/kz/a")
        zk.exists("/kz/missing")
        zk.set("/kz/a", b"world", version=0)
        try:
            zk.set("/kz/a", b"x", version=7)
        except BadVersionError:
            pass
        zk.get_children("/kz")
        zk.get_children("/kz", include_data=True)
        zk.get_acls("/kz/a")
        zk.add_auth("digest", "bob:secret")
        acl = make_digest_acl("bob", "secret", all=True)
        zk.set_acls("/kz/a", [acl, OPEN_ACL_UNSAFE[0]])
        zk.get_acls("/kz/a")
        zk.sync("/kz")
        t = zk.transaction()
        t.create("/kz/t1", b"1")
        t.set_data("/kz/t1", b"2")
        t.check("/kz/t1", 1)
        t.delete("/kz/t1")
        t.commit()
        t = zk.transaction()
        t.create("/kz/t2", b"1")
        t.check("/kz/a", 99)
        t.create("/kz/t3", b"3")
        t.commit()
        ev = threading.Event()
        zk.get("/kz/a", watch=lambda e: ev.set())
        zk.set("/kz/a", b"changed")
        ev.wait(5)
        ev2 = threading.Event()
        zk.get_children("/kz", watch=lambda e: ev2.set())
        zk.delete("/kz/s-0000000002")
        ev2.wait(5)
        zk.delete("/kz/a", version=-1)
        time.sleep(0.2)
    finally:
        zk.stop()
        zk.close()


def scenario_java(proxy, classpath):
    proxy.tag = "java"
    out = "/tmp/zkp_capture_java"
    os.makedirs(out, exist_ok=True)
    subprocess.run(["javac", "-cp", classpath, "-d", out,
                    os.path.join(HERE, "zkp_capture.java")], check=True)
    p = subprocess.Popen(["java", "-cp", classpath + ":" + out,
                          "-Dzookeeper.extendedTypesEnabled=true",
                          "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                          "ZkpCapture", "127.0.0.1:%d" % proxy.port],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    for line in p.stdout:
        line = line.strip()
        if line == "DROP":
            proxy.drop()
            p.stdin.write("ok\n")
            p.stdin.flush()
        elif line:
            print("java:", line)
    if p.wait(60) != 0:
        raise SystemExit("java scenario failed")


def scenario_c(proxy):
    proxy.tag = "c"
    exe = "/tmp/zkp_capture_c"
    subprocess.run(["gcc", "-O1", "-o", exe, os.path.join(HERE, "zkp_capture_c.c"),
                    "-lzookeeper_mt"], check=True)
    subprocess.run([exe, "127.0.0.1:%d" % proxy.port], check=True, timeout=60)


def raw_exchange(proxy, tag, frames, wait=0.5):
    """Sends raw frames on a fresh connection, keeps what comes back."""
    proxy.tag = tag
    s = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
    for f in frames:
        s.sendall(f)
        time.sleep(0.05)
    time.sleep(wait)
    s.close()
    time.sleep(0.1)


def frame(b):
    return struct.pack(">i", len(b)) + b


def connect_body(timeout=30000, session=0, passwd=b"\0" * 16, ro=None):
    b = struct.pack(">iqiq", 0, 0, timeout, session) + struct.pack(">i", len(passwd)) + passwd
    if ro is not None:
        b += bytes([1 if ro else 0])
    return b


def scenario_raw(proxy):
    # A 3.4 C client's ConnectRequest has no readOnly byte: the server must
    # answer without one.
    raw_exchange(proxy, "raw34", [frame(connect_body(ro=None)),
                                  frame(struct.pack(">ii", -2, 11)),
                                  frame(struct.pack(">ii", 5, -11))])
    # Reconnect to a session that does not exist: refused (timeout 0).
    raw_exchange(proxy, "rawexpired", [frame(connect_body(session=0x1234, passwd=b"\x01" * 16, ro=False))])
    # An unknown opcode: UNIMPLEMENTED, then the server closes.
    raw_exchange(proxy, "rawunknown", [frame(connect_body(ro=False)),
                                       frame(struct.pack(">ii", 7, 55))])
    # A truncated getData body: MARSHALLINGERROR for a read.
    raw_exchange(proxy, "rawtrunc", [frame(connect_body(ro=False)),
                                     frame(struct.pack(">iii", 8, 4, 100) + b"/a"),
                                     frame(struct.pack(">ii", 9, -11))])
    # Trailing bytes after a valid exists body: does the server care?
    raw_exchange(proxy, "rawtrail", [frame(connect_body(ro=False)),
                                     frame(struct.pack(">iii", 10, 3, 1) + b"/" + b"\0" + b"JUNK"),
                                     frame(struct.pack(">ii", 11, -11))])
    # What ZooKeeper answers to requests real clients do not send.
    hello = frame(connect_body(ro=False))
    odd = [("rawcreatesession", struct.pack(">ii", 7, -10)),
           ("rawsasl", struct.pack(">ii", 8, 102) + struct.pack(">i", 3) + b"abc"),
           ("rawauthbad", struct.pack(">iii", -4, 100, 0) + struct.pack(">i", 3) + b"foo" +
            struct.pack(">i", 1) + b"x"),
           ("rawdelcont", struct.pack(">ii", 9, 20) + b"/kz"),
           ("rawempty", b""),
           ("rawnobody", struct.pack(">ii", 11, 4)),
           ("rawcreatetrunc", struct.pack(">ii", 12, 1) + struct.pack(">i", 2) + b"/x"),
           ("rawemptyacl", struct.pack(">ii", 13, 1) + struct.pack(">i", 2) + b"/x" +
            struct.pack(">iii", 0, 0, 0)),
           ("rawbadflags", struct.pack(">ii", 14, 1) + struct.pack(">i", 2) + b"/x" +
            struct.pack(">iii", 0, 1, 31) + struct.pack(">i", 5) + b"world" +
            struct.pack(">i", 6) + b"anyone" + struct.pack(">i", 9)),
           ("rawmultiread", struct.pack(">ii", 15, 14) + struct.pack(">i?i", 4, False, -1) +
            struct.pack(">i", 1) + b"/" + b"\0" + struct.pack(">i?i", -1, True, -1))]
    for tag, body in odd:
        raw_exchange(proxy, tag, [hello, frame(body)])
    for w in ("ruok", "srvr", "isro", "wchc"):
        raw_exchange(proxy, "4lw-" + w, [w.encode()])


def split_frames(stream):
    out, o = [], 0
    while o + 4 <= len(stream):
        n = struct.unpack(">i", stream[o:o + 4])[0]
        if n < 0 or o + 4 + n > len(stream):
            break
        out.append(bytes(stream[o:o + 4 + n]))
        o += 4 + n
    return out, bytes(stream[o:])


def summ_bytes(b):
    return "null" if b is None else b.hex()


def summ_strs(v):
    return "[" + ",".join(v or []) + "]"


def summ_acls(v):
    return "[" + ",".join("%d:%s:%s" % a for a in (v or [])) + "]"


WRITE_SUBOPS = {1, 2, 5, 13, 15, 19, 21}
READ_SUBOPS = {4, 8}


def parse_body(r, t):
    """The request summary the C test rebuilds from a zkp_request."""
    if t in (1, 15, 19, 21):
        s = "path=%s data=%s acl=%s flags=%d" % (r.str(), summ_bytes(r.buf()),
                                                 summ_acls(r.vec(r.acl)), r.int())
        return s + (" ttl=%d" % r.long() if t == 21 else "")
    if t in (2, 13):
        return "path=%s version=%d" % (r.str(), r.int())
    if t in (3, 4, 8, 12):
        return "path=%s watch=%d" % (r.str(), r.bool())
    if t == 5:
        return "path=%s data=%s version=%d" % (r.str(), summ_bytes(r.buf()), r.int())
    if t == 7:
        return "path=%s acl=%s version=%d" % (r.str(), summ_acls(r.vec(r.acl)), r.int())
    if t in (6, 9, 103, 104):
        return "path=%s" % r.str()
    if t == 20:  # deleteContainer: the bare path bytes
        return "path=%s" % bytes(r.take(r.left())).decode("utf-8", "surrogateescape")
    if t == 102:
        return "token=%s" % summ_bytes(r.buf())
    if t in (17, 18, 106):
        return "path=%s mode=%d" % (r.str(), r.int())
    if t in (11, -11, 107):
        return ""
    if t == 100:
        return "mode=%d scheme=%s data=%s" % (r.int(), r.str(), summ_bytes(r.buf()))
    if t in (101, 105):
        n = 5 if t == 105 else 3
        rel = r.long()
        return "rel=%d " % rel + " ".join(summ_strs(r.vec(r.str)) for _ in range(n))
    if t == 16:
        return "reconfig %s %s %s %d" % (r.str(), r.str(), r.str(), r.long())
    if t in (14, 22):
        subs = []
        while True:
            st, done, _ = r.int(), r.bool(), r.int()
            if done:
                break
            if st not in (WRITE_SUBOPS if t == 14 else READ_SUBOPS):
                raise ValueError("sub-op %d in %d" % (st, t))
            subs.append("{%d %s}" % (st, parse_body(r, st)))
        return " ".join(subs)
    raise ValueError("type %d" % t)


def parse_request(f):
    r = Rd(f[4:])
    xid, t = r.int(), r.int()
    s = parse_body(r, t)
    if r.left():
        raise ValueError("trailing bytes in a client request")
    return xid, t, ("%d %s" % (t, s)).rstrip()


def parse_reply(f, t, sub_types):
    """Reply values as a dict the C emitter understands."""
    r = Rd(f[4:])
    d = {"xid": r.int(), "zxid": r.long(), "err": r.int()}
    if d["xid"] == -1:
        d.update(kind="EVENT", ival=r.int(), state=r.int(), path=r.str())
    elif d["err"] != 0 and t not in (14, 22):
        d["kind"] = "HEADER"
    elif t in (1, 9):
        d.update(kind="PATH", path=r.str())
    elif t in (15, 19, 21):
        d.update(kind="CREATE2", path=r.str(), stat=r.stat())
    elif t in (3, 5, 7, 13):
        d.update(kind="STAT", stat=r.stat())
    elif t == 4:
        d.update(kind="DATA", data=r.buf(), stat=r.stat())
    elif t == 6:
        d.update(kind="ACL", acl=r.vec(r.acl), stat=r.stat())
    elif t in (8, 103):
        d.update(kind="STRINGS", strs=r.vec(r.str))
    elif t == 12:
        d.update(kind="STRINGS_STAT", strs=r.vec(r.str), stat=r.stat())
    elif t == 102:
        d.update(kind="SASL", data=r.buf())
    elif t in (104, 106):
        d.update(kind="INT", ival=r.int())
    elif t == 107:
        d.update(kind="WHOAMI", acl=[(0, s, u) for s, u in r.vec(lambda: (r.str(), r.str()))])
    elif t in (14, 22):
        d.update(kind="MULTI" if t == 14 else "MULTI_READ", subs=[])
        while True:
            st, done, err = r.int(), r.bool(), r.int()
            if done:
                break
            sub = {"type": st, "err": err}
            if st == -1:
                sub["err"] = r.int()
            elif st == 1:
                sub["path"] = r.str()
            elif st == 15:
                sub["path"], sub["stat"] = r.str(), r.stat()
            elif st == 5:
                sub["stat"] = r.stat()
            elif st == 4:
                sub["data"], sub["stat"] = r.buf(), r.stat()
            elif st == 8:
                sub["strs"] = r.vec(r.str)
            d["subs"].append(sub)
    else:
        d["kind"] = "HEADER"
    if r.left():
        raise ValueError("trailing bytes in a server reply")
    return d


def parse_connect_reply(f, has_ro):
    r = Rd(f[4:])
    d = {"kind": "CONNECT", "proto": r.int(), "timeout": r.int(), "session": r.long(),
         "passwd": r.buf()}
    d["has_ro"] = r.left() == 1
    d["ro"] = r.bool() if d["has_ro"] else False
    if r.left():
        raise ValueError("trailing bytes in a connect reply")
    return d


def exchanges(conn):
    """[(name, request frame or None, reply frame or None, summary, reply dict)]"""
    c2s, rest_c = split_frames(conn["c2s"])
    s2c, rest_s = split_frames(conn["s2c"])
    tag, out = conn["tag"], []
    if tag.startswith("4lw"):
        out.append((tag, bytes(conn["c2s"]), bytes(conn["s2c"]), None, None))
        return out
    if not c2s:
        return out
    cr = Rd(c2s[0][4:])
    creq = (cr.int(), cr.long(), cr.int(), cr.long(), summ_bytes(cr.buf()))
    has_ro = cr.left() == 1
    csum = "connect proto=%d zxid=%d timeout=%d session=%d passwd=%s ro=%s" % (
        creq + (("%d" % cr.bool()) if has_ro else "none",))
    crep = parse_connect_reply(s2c[0], has_ro) if s2c else None
    out.append((tag + "/connect", c2s[0], s2c[0] if s2c else None, csum, crep))
    types = {}
    for f in c2s[1:]:
        if len(f) < 12:  # no RequestHeader: nothing comes back
            out.append((tag + "/short", f, None, None, None))
            continue
        try:
            xid, t, s = parse_request(f)
        except (ValueError, struct.error):
            xid, t, s = struct.unpack(">ii", f[4:12]) + (None,)
        types.setdefault(xid, []).append((t, f, s))
    for f in s2c[1:]:
        xid = struct.unpack(">i", f[4:8])[0]
        if xid == -1:
            out.append((tag + "/event", None, f, None, parse_reply(f, 0, None)))
            continue
        if xid not in types or not types[xid]:
            continue
        t, req, s = types[xid].pop(0)
        name = "%s/%s" % (tag, OPNAMES.get(t, str(t)))
        rep = parse_reply(f, t, None) if s is not None else {
            "kind": "HEADER", "xid": xid, "zxid": struct.unpack(">q", f[8:16])[0],
            "err": struct.unpack(">i", f[16:20])[0]}
        out.append((name, req, f, s, rep))
    for lst in types.values():  # requests without a reply (closeSession races)
        for t, req, s in lst:
            out.append(("%s/%s" % (tag, OPNAMES.get(t, str(t))), req, None, s, None))
    return out


OPNAMES = {1: "create", 2: "delete", 3: "exists", 4: "getData", 5: "setData", 6: "getACL",
           7: "setACL", 8: "getChildren", 9: "sync", 11: "ping", 12: "getChildren2",
           13: "check", 14: "multi", 15: "create2", 16: "reconfig", 17: "checkWatches",
           18: "removeWatches", 19: "createContainer", 20: "deleteContainer",
           21: "createTTL", 22: "multiRead", 100: "auth", 101: "setWatches", 102: "sasl",
           103: "getEphemerals", 104: "getAllChildrenNumber", 105: "setWatches2",
           106: "addWatch", 107: "whoAmI", -11: "closeSession"}


# ---- C output ---------------------------------------------------------------

def c_bytes(b):
    if b is None:
        return "NULL"
    return '"' + "".join("\\x%02x" % c for c in b) + '"'


def c_str(s):
    if s is None:
        return "NULL"
    out = []
    for c in s.encode("utf-8", "surrogateescape"):
        ch = chr(c)
        out.append(ch if c < 128 and (ch.isalnum() or ch in "/-_.:=[]{}, ") else "\\%03o" % c)
    return '"' + "".join(out) + '"'


def c_stat(st):
    return "{%s}" % ", ".join("%dLL" % v for v in st) if st else "{0}"


class Emitter:
    def __init__(self):
        self.pre = []   # helper arrays
        self.n = 0

    def arr(self, kind, items):
        if items is None:
            return "NULL"
        self.n += 1
        name = "zkp__cap_%s%d" % (kind, self.n)
        if kind == "s":
            self.pre.append("static const char *const %s[] = {%s};" % (
                name, ", ".join(c_str(s) for s in items) or "NULL"))
        else:
            self.pre.append("static const reg_acl %s[] = {%s};" % (
                name, ", ".join("{%d, %s, %s}" % (p, c_str(s), c_str(i)) for p, s, i in items)
                or "{0, NULL, NULL}"))
        return name

    def subs(self, subs):
        self.n += 1
        name = "zkp__cap_sub%d" % self.n
        rows = []
        for s in subs:
            rows.append("{%d, %d, %s, %s, %d, %s, %s, %d, %d}" % (
                s["type"], s["err"], c_str(s.get("path")), c_bytes(s.get("data")),
                -1 if s.get("data") is None else len(s["data"]), c_stat(s.get("stat")),
                self.arr("s", s.get("strs")), len(s.get("strs") or []), "stat" in s))
        self.pre.append("static const struct zkp_cap_sub %s[] = {%s};" % (
            name, ", ".join(rows) or "{0}"))
        return name

    def rep(self, d):
        if d is None:
            return "{0}"
        f = [".kind = ZKP_CAP_%s" % d["kind"]]
        if d["kind"] == "CONNECT":
            f += [".timeout = %d" % d["timeout"], ".session = %dLL" % d["session"],
                  ".data = %s" % c_bytes(d["passwd"]), ".data_len = %d" % len(d["passwd"]),
                  ".has_ro = %d" % d["has_ro"], ".ro = %d" % d["ro"]]
            return "{" + ", ".join(f) + "}"
        f += [".xid = %d" % d["xid"], ".zxid = %dLL" % d["zxid"], ".err = %d" % d["err"]]
        if "path" in d:
            f.append(".path = %s" % c_str(d["path"]))
        if "stat" in d:
            f.append(".stat = %s" % c_stat(d["stat"]))
        if "data" in d:
            f += [".data = %s" % c_bytes(d["data"]),
                  ".data_len = %d" % (-1 if d["data"] is None else len(d["data"]))]
        if "strs" in d:
            f += [".strs = %s" % self.arr("s", d["strs"]), ".nstrs = %d" % len(d["strs"] or [])]
        if "acl" in d:
            f += [".acl = %s" % self.arr("a", d["acl"]), ".nacl = %d" % len(d["acl"] or [])]
        if "ival" in d:
            f.append(".ival = %d" % d["ival"])
        if "state" in d:
            f.append(".state = %d" % d["state"])
        if "subs" in d:
            f += [".subs = %s" % self.subs(d["subs"]), ".nsubs = %d" % len(d["subs"])]
        return "{" + ", ".join(f) + "}"


def write_c(all_ex, path):
    em = Emitter()
    rows = []
    for name, req, rep, summ, repd in all_ex:
        rows.append("    {%s,\n     %s, %d,\n     %s, %d,\n     %s,\n     %s}," % (
            c_str(name), c_bytes(req), len(req) if req else 0, c_bytes(rep),
            len(rep) if rep else 0, c_str(summ), em.rep(repd)))
    with open(path, "w") as fp:
        fp.write("/*\n * zkp_capture.c - GENERATED by tests/fuzz/zkp_capture.py: real bytes of\n"
                 " * kazoo 2.8, the Java and C clients of ZooKeeper 3.8 and a raw 3.4-style\n"
                 " * client talking to Apache ZooKeeper 3.8.0 through a recording proxy.\n"
                 " * Do not edit; rerun the script. Included by zkp_test.c, which defines\n"
                 " * struct zkp_cap.\n */\n")
        fp.write("\n".join(em.pre) + "\n\n")
        fp.write("static const struct zkp_cap zkp_caps[] = {\n%s\n};\n" % "\n".join(rows))
        fp.write("static const size_t zkp_ncaps = sizeof(zkp_caps) / sizeof(zkp_caps[0]);\n")


def write_corpus(all_ex, d):
    os.makedirs(d, exist_ok=True)
    seen = set()
    for name, req, _, summ, _ in all_ex:
        if not req or req in seen or name.startswith("4lw"):
            continue
        seen.add(req)
        fn = "%03d-%s" % (len(seen), name.replace("/", "-"))
        with open(os.path.join(d, fn), "wb") as fp:
            fp.write(req[4:])   # the frame without its length prefix


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--zk", default="127.0.0.1:21811")
    ap.add_argument("--classpath", required=True)
    ap.add_argument("--json", default="/tmp/zkp_capture.json")
    a = ap.parse_args()
    host, port = a.zk.rsplit(":", 1)
    proxy = zkproxy.Proxy(int(port), host=host, record=True)
    scenario_kazoo(proxy)
    scenario_java(proxy, a.classpath)
    scenario_c(proxy)
    scenario_raw(proxy)
    time.sleep(0.5)
    with open(a.json, "w") as fp:
        json.dump([{"tag": c["tag"], "c2s": c["c2s"].hex(), "s2c": c["s2c"].hex()}
                   for c in proxy.conns], fp, indent=0)
    all_ex = []
    for c in proxy.conns:
        all_ex += exchanges(c)
    write_c(all_ex, os.path.join(ROOT, "tests", "unit", "zkp_capture.c"))
    write_corpus(all_ex, os.path.join(HERE, "zkp_corpus"))
    print("%d connections, %d exchanges" % (len(proxy.conns), len(all_ex)))


if __name__ == "__main__":
    main()
