"""A failing disk and a long recovery, through the real daemon.

- EIO on fdatasync, then on pwrite, while text-protocol and kazoo clients
  write: the daemon exits 1 with a log line naming the data directory and
  the error, and every write a client saw acknowledged is there after a
  restart without the fault (a multi whole or not at all). The shim takes
  back what a failed fdatasync covered, as Linux drops the dirty pages, so a
  daemon that acknowledged them loses them and the test fails.
- ENOSPC on pwrite: writes fail with a clear error on both protocols, reads
  and DNS go on, the daemon stays up; once the fault is lifted writes
  succeed, and a registration whose close was refused goes away.
- Under NOTIFY_SOCKET, a replay of a long log sends EXTEND_TIMEOUT_USEC
  before READY=1, from the daemon's own PID.

The faults come from faultshim.c (LD_PRELOAD, path in ZK_FAULTSHIM), armed
while a control file exists.
"""
import os
import re
import signal
import socket
import struct
import threading
import time

import dns.rdatatype
import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import SystemZookeeperError

import zkraw
from zkharness import Client, Daemon, dns_query

SHIM = os.environ.get("ZK_FAULTSHIM", "build/asan/tests/libzk_faultshim.so")
TEXT_WRITERS = 4
# kazoo holds a request made while it reconnects until it has reconnected,
# which a daemon that has exited never lets happen: every wait is bounded
KAZOO_WAIT = 10
SANITIZER_EXIT = 86  # a sanitizer report must not pass for the daemon's exit 1

needs_shim = pytest.mark.skipif(not os.path.exists(SHIM), reason="faultshim not built")


def shim_env(data, arm, calls, errno_name, after=0):
    env = dict(os.environ)
    env.update(LD_PRELOAD=SHIM, ZK_FAULT_DIR=data, ZK_FAULT_CALLS=calls,
               ZK_FAULT_ERRNO=errno_name, ZK_FAULT_ARM=arm, ZK_FAULT_AFTER=str(after))
    # libasan must otherwise be the first library loaded
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + \
        ":verify_asan_link_order=0:exitcode=%d" % SANITIZER_EXIT
    env["UBSAN_OPTIONS"] = env.get("UBSAN_OPTIONS", "") + ":exitcode=%d" % SANITIZER_EXIT
    return env


@pytest.fixture
def daemons():
    """Makes daemons and, when the test ends however it ends, kills by PID
    whichever of them still runs."""
    made = []

    def make(data, storage="", env=None, level="info"):
        d = Daemon(data=data, level=level, env=env)
        with open(d.conf, "a") as f:
            f.write("storage = { %s };\n" % storage)
        made.append(d)
        return d
    yield make
    for d in made:
        if d.proc is not None and d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait(10)


def wait_for(cond, timeout, what):
    deadline = time.time() + timeout
    while not cond():
        assert time.time() < deadline, "timed out waiting for " + what
        time.sleep(0.02)


class Acks:
    """What the clients were told."""

    def __init__(self):
        self.lock = threading.Lock()
        self.creates = []    # acknowledged (path, value)
        self.counters = {}   # path -> newest acknowledged (version, value)
        self.multis = []     # [a, b, acknowledged]
        self.refusals = []   # error replies

    def count(self):
        with self.lock:
            return len(self.creates), sum(1 for m in self.multis if m[2])


class TextWriter(threading.Thread):
    """CREATE /k/<name>-<n>, and every third a versioned SET /c/<name>,
    until the connection dies; error replies are noted and writing goes on."""

    def __init__(self, sock, name, acks):
        super().__init__(daemon=True)
        self.sock, self.name, self.acks = sock, name, acks

    def run(self):
        version = 0
        try:
            c = Client(self.sock, timeout=10)
            for n in range(1000000):
                path = "/k/%s-%d" % (self.name, n)
                r = c.cmd("CREATE %s v%d" % (path, n))
                with self.acks.lock:
                    if r == "OK " + path:
                        self.acks.creates.append((path, "v%d" % n))
                    else:
                        self.acks.refusals.append(r)
                if n % 3 == 0:
                    counter = "/c/" + self.name
                    r = c.cmd("SET %s %d version=%d" % (counter, n, version))
                    with self.acks.lock:
                        if r.startswith("OK "):
                            version = int(re.search(r" version=(\d+)", r).group(1))
                            self.acks.counters[counter] = (version, str(n))
                        else:
                            self.acks.refusals.append(r)
        except (OSError, EOFError):
            pass


class MultiWriter(threading.Thread):
    """kazoo transactions of two creates, until the connection is lost."""

    def __init__(self, port, acks):
        super().__init__(daemon=True)
        self.port, self.acks = port, acks
        self.ended = None  # why it stopped
        self.zk = KazooClient(hosts="127.0.0.1:%d" % port, timeout=4,
                              connection_retry={"max_tries": 0})
        self.zk.start(timeout=5)

    def run(self):
        try:
            for i in range(1000000):
                a, b = "/t/%d-a" % i, "/t/%d-b" % i
                with self.acks.lock:
                    self.acks.multis.append([a, b, False])
                    entry = self.acks.multis[-1]
                t = self.zk.transaction()
                t.create(a, b"m")
                t.create(b, b"m")
                r = t.commit_async().get(timeout=KAZOO_WAIT)
                if r != [a, b]:
                    self.ended = repr(r)
                    return
                entry[2] = True
        except Exception as e:  # an error reply, or the connection lost
            self.ended = repr(e)

    def close(self):
        try:
            self.zk.stop()
            self.zk.close()
        except Exception:
            pass


def get_many(c, paths):
    """Pipelined GETs: {path: (data, version)} of the nodes that exist."""
    c.send_raw("".join("GET %s\n" % p for p in paths).encode())
    out = {}
    for p in paths:
        r = c.reply()
        if r.startswith("OK "):
            out[p] = (r.split()[1], int(re.search(r" version=(\d+)", r).group(1)))
    return out


def check_acknowledged(c, acks):
    names = c.children("/k")
    for path, _ in acks.creates:
        assert path[3:] in names, "acknowledged create %s lost" % path
    got = get_many(c, [p for p, _ in acks.creates[-500:]])
    for path, value in acks.creates[-500:]:
        assert got[path][0] == value, (path, got[path], value)
    got = get_many(c, list(acks.counters))
    for path, (version, value) in acks.counters.items():
        assert got[path][1] >= version, "acknowledged set of %s lost" % path
        if got[path][1] == version:
            assert got[path][0] == value, (path, got[path], value)
    tnames = c.children("/t")
    for a, b, acked in acks.multis:
        assert (a[3:] in tnames) == (b[3:] in tnames), "multi %s half applied" % a
        assert not acked or a[3:] in tnames, "acknowledged multi %s lost" % a


@needs_shim
@pytest.mark.parametrize("call,after", [("fdatasync", 0), ("pwrite", 25)])
def test_io_error_stops_the_daemon_without_acknowledging(tmp_path, daemons, call, after):
    data, arm = str(tmp_path / "var"), str(tmp_path / "arm")
    d = daemons(data, env=shim_env(data, arm, call, "EIO", after))
    d.start()
    c = Client(d.sock)
    for p in ["/k", "/c", "/t"] + ["/c/w%d" % i for i in range(TEXT_WRITERS)]:
        assert c.cmd("CREATE %s 0" % p) == "OK " + p
    c.close()
    acks = Acks()
    writers = [TextWriter(d.sock, "w%d" % i, acks) for i in range(TEXT_WRITERS)]
    multi = MultiWriter(d.zk_port, acks)
    try:
        for w in writers + [multi]:
            w.start()
        wait_for(lambda: acks.count()[0] >= 300 and acks.count()[1] >= 20, 30,
                 "writes before the fault")
        before = acks.count()
        open(arm, "w").close()  # the next fdatasync, or the 26th pwrite, fails
        try:
            code = d.proc.wait(30)
        except Exception:
            raise AssertionError("daemon still running after EIO:\n" + d.read_log()[-3000:])
        for w in writers + [multi]:
            w.join(15)
            assert not w.is_alive(), "a writer hung after the daemon exited"
    finally:
        multi.close()
    log = d.read_log()
    assert code == 1, "exit %s\n%s" % (code, log[-3000:])
    assert "faultshim: %s(%s/log." % (call, os.path.realpath(data)) in log, log[-3000:]
    line = "storage: the write-ahead log in %s failed: Input/output error; " \
        "stopping without acknowledging" % data
    assert line in log, log[-3000:]
    assert acks.count()[0] >= before[0]
    # whoever had a write in the failed batch was told so
    assert acks.refusals or "SystemZookeeperError" in str(multi.ended), multi.ended
    assert all(r.startswith("ERR SYSTEMERROR ") for r in acks.refusals), acks.refusals[:5]

    d.env = None  # the disk works again
    d.start()
    c = Client(d.sock)
    check_acknowledged(c, acks)
    assert c.cmd("CREATE /after x") == "OK /after"
    c.close()
    assert d.stop() == 0, d.read_log()[-3000:]
    print("%s: %d creates, %d multis acknowledged before EIO, refused: %s" % (
        call, acks.count()[0], acks.count()[1], sorted(set(acks.refusals))))


def a_records(port, name):
    return sorted(r.address for rrset in dns_query(port, name, "A").answer
                  for r in rrset if rrset.rdtype == dns.rdatatype.A)


@needs_shim
def test_disk_full_refuses_writes_until_space_is_back(tmp_path, daemons):
    data, arm = str(tmp_path / "var"), str(tmp_path / "arm")
    d = daemons(data, env=shim_env(data, arm, "pwrite", "ENOSPC"))
    d.start()
    c = Client(d.sock)
    zk = KazooClient(hosts="127.0.0.1:%d" % d.zk_port, timeout=10)
    zk.start(timeout=5)
    try:
        assert c.cmd("CREATE /before x") == "OK /before"
        stays, leaves = Client(d.sock), Client(d.sock)
        assert stays.cmd("REGISTER web 10.0.0.1 80").startswith("OK ")
        assert leaves.cmd("REGISTER web 10.0.0.2 80").startswith("OK ")
        assert a_records(d.dns_port, "web.zk.") == ["10.0.0.1", "10.0.0.2"]

        open(arm, "w").close()  # the disk is full
        r = c.cmd("CREATE /full x")
        assert r == "ERR SYSTEMERROR No space left on device", r
        with pytest.raises(SystemZookeeperError):
            zk.create_async("/kfull", b"x").get(timeout=KAZOO_WAIT)
        assert zk.connected  # an error reply, not a lost connection
        leaves.close()  # its session's close cannot be logged now
        time.sleep(0.3)
        assert c.cmd("GET /before").startswith("OK x ")  # reads go on
        assert zk.get_async("/before").get(timeout=KAZOO_WAIT)[0] == b"x"
        assert a_records(d.dns_port, "web.zk.") == ["10.0.0.1", "10.0.0.2"]  # and DNS
        assert c.cmd("EXISTS /full").startswith("ERR NONODE")
        assert d.proc.poll() is None, d.read_log()[-3000:]
        assert "storage: disk full writing the log in %s" % data in d.read_log()

        os.unlink(arm)  # space again
        assert c.cmd("CREATE /after y") == "OK /after"
        assert zk.create_async("/kafter", b"z").get(timeout=KAZOO_WAIT) == "/kafter"
        # the refused close is retried (once a second) and now succeeds
        wait_for(lambda: a_records(d.dns_port, "web.zk.") == ["10.0.0.1"], 10,
                 "the closed registration to leave DNS")
        assert "the disk takes writes again" in d.read_log()
        stays.close()
    finally:
        zk.stop()
        zk.close()
        c.close()
    assert d.stop() == 0, d.read_log()[-3000:]

    d.env = None
    d.start()
    c = Client(d.sock)
    assert c.cmd("GET /after").startswith("OK y ")
    assert c.cmd("GET /kafter").startswith("OK z ")
    for p in ("/full", "/kfull"):
        assert c.cmd("EXISTS " + p).startswith("ERR NONODE")
    c.close()
    assert d.stop() == 0


@needs_shim
def test_slow_fsync_is_logged_and_counted(tmp_path, daemons):
    """A log fdatasync slower than storage.fsync_warning_ms is logged (as
    ZooKeeper's fsync.warningthresholdms) and counted in mntr; the write is
    still acknowledged, only late."""
    data, arm = str(tmp_path / "var"), str(tmp_path / "arm")
    env = shim_env(data, arm, "fdatasync", "EIO")
    env["ZK_FAULT_DELAY_MS"] = "300"
    d = daemons(data, "fsync_warning_ms = 100;", env=env)
    d.start()
    c = Client(d.sock)
    assert c.cmd("CREATE /quick x") == "OK /quick"
    assert "took" not in d.read_log()
    open(arm, "w").close()  # the disk turns slow
    t0 = time.time()
    assert c.cmd("CREATE /slow y") == "OK /slow"
    assert time.time() - t0 >= 0.3
    os.unlink(arm)
    log = d.read_log()
    assert re.search(r"storage: writing and syncing 1 records of the log took [0-9]{3} ms "
                     r"\(storage.fsync_warning_ms = 100\)", log), log[-2000:]
    mntr = dict(l.split("\t", 1) for l in
                zkraw.four_letter(d.zk_port, "mntr").splitlines() if "\t" in l)
    assert int(mntr["zk_log_slow_syncs"]) == 1, mntr
    assert int(mntr["zk_log_max_sync_us"]) >= 300000, mntr
    c.close()
    assert d.stop() == 0, d.read_log()[-3000:]


# ---- EXTEND_TIMEOUT_USEC ----------------------------------------------------

class Notify:
    """The datagram socket systemd would listen on; records (time, pid, text)."""

    def __init__(self, path):
        self.path = path
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.s.bind(path)
        self.msgs = []

    def recv(self, timeout):
        self.s.settimeout(timeout)
        data, anc, _, _ = self.s.recvmsg(4096, socket.CMSG_SPACE(12))
        pid = None
        for level, kind, body in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", body[:12])[0]
        self.msgs.append((time.time(), pid, data.decode()))
        return self.msgs[-1]

    def until(self, line, timeout):
        deadline = time.time() + timeout
        while True:
            t, pid, text = self.recv(max(0.01, deadline - time.time()))
            if line in text.split("\n"):
                return

    def close(self):
        self.s.close()
        os.unlink(self.path)


def fill(d, n, conns=8):
    """n creates over conns pipelined connections."""
    per = n // conns
    base = d.fill_base = getattr(d, "fill_base", 0) + 1

    errors = []

    def one(k):
        try:
            c = Client(d.sock, timeout=60)
            for i in range(0, per, 1000):
                c.send_raw("".join("CREATE /f/%d-%d-%d x\n" % (base, k, j)
                                   for j in range(i, min(per, i + 1000))).encode())
                for _ in range(i, min(per, i + 1000)):
                    r = c.reply()
                    if not r.startswith("OK "):
                        raise AssertionError(r)
            c.close()
        except Exception as e:
            errors.append(repr(e))
    ts = [threading.Thread(target=one, args=(k,), daemon=True) for k in range(conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
        assert not t.is_alive()
    assert not errors, errors


def start_notified(d, sock_path):
    """Starts d under NOTIFY_SOCKET; returns (start time, Notify, recovery ms)
    once READY=1 has arrived."""
    n = Notify(sock_path)
    d.env = dict(os.environ, NOTIFY_SOCKET=sock_path)
    t0 = time.time()
    d.start(timeout=60)
    n.until("READY=1", 10)
    lines = [ln for ln in d.read_log().splitlines() if "storage: recovered" in ln]
    return t0, n, float(re.search(r" in (\d+) ms", lines[-1]).group(1))


def check_extends(d, t0, n, ms):
    """The messages of one start: EXTEND_TIMEOUT_USEC=<usec> alone in its
    datagram, the first after about a second, all before READY=1, all from
    the daemon's PID; READY=1 with a STATUS."""
    for _, pid, text in n.msgs:
        assert pid == d.proc.pid, (pid, d.proc.pid, text)
        for line in text.split("\n"):
            assert re.fullmatch(r"[A-Z_]+=.*", line), text
    ready = [i for i, m in enumerate(n.msgs) if "READY=1" in m[2].split("\n")]
    assert ready == [len(n.msgs) - 1], n.msgs
    assert n.msgs[-1][2] == "READY=1\nSTATUS=serving", n.msgs[-1]
    extends = n.msgs[:-1]
    for t, _, text in extends:
        m = re.fullmatch(r"EXTEND_TIMEOUT_USEC=(\d+)", text)
        assert m, text
        # more than the second between two of them, less than forever
        assert 2000000 <= int(m.group(1)) <= 600000000, text
        assert t - t0 >= 0.9, "EXTEND_TIMEOUT_USEC %.2f s after exec" % (t - t0)
    # one a second of recovery, give or take the log scan before replay
    # and a loaded machine
    assert len(extends) >= max(1, int(ms / 1000) - 2), (ms, n.msgs)
    assert len(extends) <= int(ms / 1000) + 1, (ms, n.msgs)
    return len(extends)


def test_extend_timeout_during_a_long_replay(tmp_path, daemons):
    """Grows a log without snapshots until its replay takes over 1.5 s (or
    the time budget is spent; 250,000 txns take 2-3 s under ASan), checking
    the messages of each start that took long enough."""
    data = str(tmp_path / "var")
    d = daemons(data, 'snapshot_every = 1000000000; sync = "none";')
    d.start()
    c = Client(d.sock)
    assert c.cmd("CREATE /f x") == "OK /f"
    c.close()
    budget = time.time() + 25
    n, ms, batch = None, 0.0, 250000
    try:
        while ms < 1500 and time.time() < budget:
            fill(d, batch)
            assert d.stop() == 0
            if n is not None:
                n.close()
            t0, n, ms = start_notified(d, str(tmp_path / "notify.sock"))
            if ms >= 1300:
                count = check_extends(d, t0, n, ms)
            batch = 150000
        if ms < 1300:
            pytest.skip("replay took %.0f ms: too fast on this build for the notifications "
                        "(they start after 1 s)" % ms)
        d.proc.send_signal(signal.SIGTERM)
        n.until("STOPPING=1", 20)
        assert n.msgs[-1][2] == "STOPPING=1\nSTATUS=stopping", n.msgs[-1]
        assert d.proc.wait(20) == 0
        print("replay of %s took %.0f ms: %d EXTEND_TIMEOUT_USEC before READY=1" % (
            re.findall(r"(\d+) txns replayed", d.read_log())[-1], ms, count))
    finally:
        if n is not None:
            n.close()
