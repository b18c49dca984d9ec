"""Issue 5 end to end: nothing acknowledged is ever lost.

- kill -9 at random moments while several clients write (text protocol
  creates and versioned sets, kazoo multi transactions), ZK_SOAK_ROUNDS
  rounds (default 20): after each restart every acknowledged write is there,
  no multi is half applied, zxids go on above everything seen, and the
  socket protocol's ephemeral registrations of the killed process are gone;
- damaged bytes in the middle of a log segment or in the newest snapshot
  refuse the start (exit 1, the file named); a torn tail is cut with a
  warning; `zonekeeperd --check-data DIR`;
- ZooKeeper sessions survive a restart: their ephemerals stay, a client
  that comes back with its session id and password keeps them, and the
  others expire after their timeout;
- an ACL id of 200 KB survives restarts from the log and from a snapshot;
- sync = "none" survives kill -9;
- the preallocated log goes on in the same segment after a restart, its
  zero tail no torn tail; storage.preallocate_bytes = 0 turns the fill off;
- disk full on a small tmpfs (skipped where mount is not allowed): a clear
  error to the writer, reads and DNS go on, writes resume once space is back.
"""
import glob
import os
import random
import re
import subprocess
import threading
import time

import pytest
from kazoo.client import KazooClient

from zkharness import DAEMON, Client, Daemon, dns_query

ROUNDS = int(os.environ.get("ZK_SOAK_ROUNDS", "20"))
WRITERS = 4


def storage_daemon(data, storage=""):
    d = Daemon(data=data, level="info")
    with open(d.conf, "a") as f:
        f.write("storage = { %s };\n" % storage)
    return d


def stat_of(reply):
    return {k: int(v, 0) for k, v in re.findall(r"(\w+)=(-?0?x?[0-9a-f]+)", reply)}


class Model:
    """What the clients were told: acknowledged creates, the newest acknowledged
    set of each counter, every multi tried (and whether acknowledged)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.creates = []          # (path, value)
        self.counters = {}         # path -> (version, value)
        self.multis = []           # (a, b, acked)
        self.max_zxid = 0
        self.errors = []           # replies no client should get

    def saw_zxid(self, z):
        with self.lock:
            self.max_zxid = max(self.max_zxid, z)


class TextWriter(threading.Thread):
    """CREATE /k/<name>-<n> and SET /c/<name> with the expected version,
    recording each OK, until the connection dies."""

    def __init__(self, sock, name, model, version, first):
        super().__init__(daemon=True)
        self.sock, self.name, self.model = sock, name, model
        self.version, self.n = version, first

    def one(self, c):
        path = "/k/%s-%d" % (self.name, self.n)
        value = "v%d" % self.n
        if c.cmd("CREATE %s %s" % (path, value)) == "OK " + path:
            with self.model.lock:
                self.model.creates.append((path, value))
        if self.n % 3 == 0:
            counter = "/c/" + self.name
            r = c.cmd("SET %s %d version=%d" % (counter, self.n, self.version))
            if not r.startswith("OK "):
                with self.model.lock:
                    self.model.errors.append(r)
                raise EOFError(r)
            st = stat_of(r)
            self.version = st["version"]
            with self.model.lock:
                self.model.counters[counter] = (self.version, str(self.n))
            self.model.saw_zxid(st["mzxid"])
        self.n += 1

    def run(self):
        try:
            c = Client(self.sock, timeout=5)
            while True:
                self.one(c)
        except (OSError, EOFError):
            pass


class MultiWriter(threading.Thread):
    """kazoo transactions creating two nodes at once."""

    def __init__(self, port, model, tag):
        super().__init__(daemon=True)
        self.port, self.model, self.tag = port, model, tag
        self.zk = None

    def run(self):
        try:
            self.zk = KazooClient(hosts="127.0.0.1:%d" % self.port, timeout=4)
            self.zk.start(timeout=5)
            for i in range(100000):
                a, b = "/t/%s-%d-a" % (self.tag, i), "/t/%s-%d-b" % (self.tag, i)
                with self.model.lock:
                    self.model.multis.append([a, b, False])
                    entry = self.model.multis[-1]
                t = self.zk.transaction()
                t.create(a, b"m")
                t.create(b, b"m")
                if t.commit() == [a, b]:
                    entry[2] = True
        except Exception:  # connection lost when the daemon is killed
            pass

    def stop(self):
        if self.zk is not None:
            try:
                self.zk.stop()
                self.zk.close()
            except Exception:
                pass


def get_many(c, paths):
    """Pipelined GETs: {path: (data, stat)} for the nodes that exist."""
    if not paths:
        return {}
    c.send_raw("".join("GET %s\n" % p for p in paths).encode())
    out = {}
    for p in paths:
        r = c.reply()
        if r.startswith("OK "):
            out[p] = (r.split()[1], stat_of(r))
    return out


def verify(d, model):
    c = Client(d.sock)
    with model.lock:
        creates = list(model.creates)
        counters = dict(model.counters)
        multis = [tuple(m) for m in model.multis]
    assert not model.errors, model.errors
    names = c.children("/k")
    for path, _ in creates:
        assert path[3:] in names, "acknowledged create %s lost" % path
    sample = creates[-300:] + random.sample(creates, min(200, len(creates)))
    got = get_many(c, [p for p, _ in sample])
    for path, value in sample:
        assert path in got and got[path][0] == value, (path, got.get(path), value)
    got = get_many(c, list(counters))
    for path, (version, value) in counters.items():
        st = got[path][1]
        assert st["version"] >= version, "acknowledged set of %s lost" % path
        if st["version"] == version:
            assert got[path][0] == value
        model.saw_zxid(st["mzxid"])
    tnames = c.children("/t")
    for a, b, acked in multis:
        assert (a[3:] in tnames) == (b[3:] in tnames), "multi %s half applied" % a
        assert not acked or a[3:] in tnames, "acknowledged multi %s lost" % a
    # the killed process's socket sessions are closed: no members left
    r = c.cmd("CHILDREN /services/web")
    assert r in ("OK 0",) or r.startswith("ERR NONODE"), r
    # zxids go on above everything seen
    r = c.cmd("SET /zx x")
    assert r.startswith("OK "), r
    assert stat_of(r)["mzxid"] > model.max_zxid
    model.saw_zxid(stat_of(r)["mzxid"])
    return c


def setup_tree(d):
    c = Client(d.sock)
    for p in ["/k", "/c", "/t", "/zx"] + ["/c/w%d" % i for i in range(WRITERS)]:
        assert c.cmd("CREATE %s 0" % p) == "OK " + p
    c.close()


def test_kill9_soak(tmp_path):
    data = str(tmp_path / "var")
    model = Model()
    d = storage_daemon(data, "snapshot_every = 300;")
    d.start()
    setup_tree(d)
    rng = random.Random(5)
    for rnd in range(ROUNDS):
        c = verify(d, model)
        member = Client(d.sock)
        assert member.cmd("REGISTER web 10.0.0.%d 80" % (rnd % 250 + 1)).startswith("OK ")
        writers = []
        for i in range(WRITERS):
            name = "w%d" % i
            st = stat_of(c.cmd("GET /c/" + name))
            writers.append(TextWriter(d.sock, name, model, st["version"], rnd * 1000000))
        writers.append(MultiWriter(d.zk_port, model, "r%d" % rnd))
        for w in writers:
            w.start()
        time.sleep(rng.uniform(0.1, 0.8))
        d.kill9()
        for w in writers:
            w.join(10)
            if isinstance(w, MultiWriter):
                w.stop()
        c.close()
        member.close()
        d.start()
    verify(d, model).close()
    log = d.read_log()
    assert d.stop() == 0, log[-3000:]
    assert len(model.creates) > ROUNDS * 10, "too few writes acknowledged"
    print("%d rounds: %d creates, %d multis (%d acknowledged) kept" % (
        ROUNDS, len(model.creates), len(model.multis), sum(m[2] for m in model.multis)))


def test_zookeeper_sessions_survive_restart(tmp_path):
    data = str(tmp_path / "var")
    d = storage_daemon(data)
    d.start()
    gone = KazooClient(hosts="127.0.0.1:%d" % d.zk_port, timeout=4)
    back = KazooClient(hosts="127.0.0.1:%d" % d.zk_port, timeout=4)
    for zk in (gone, back):
        zk.start(timeout=5)
    gone.create("/eph-gone", b"x", ephemeral=True)
    back.create("/eph-back", b"y", ephemeral=True)
    sid, pw = back.client_id
    d.kill9()
    for zk in (gone, back):
        zk.stop()
        zk.close()
    d.start()
    c = Client(d.sock)
    assert c.cmd("EXISTS /eph-gone").startswith("OK ")  # the session lives on
    again = KazooClient(hosts="127.0.0.1:%d" % d.zk_port, timeout=4, client_id=(sid, pw))
    again.start(timeout=5)
    assert again.client_id[0] == sid
    deadline = time.time() + 15
    while c.cmd("EXISTS /eph-gone").startswith("OK ") and time.time() < deadline:
        time.sleep(0.2)  # no client came back for it: expires after 4 s
    assert c.cmd("EXISTS /eph-gone").startswith("ERR NONODE")
    assert again.get("/eph-back")[0] == b"y"  # kept by the client that came back
    again.stop()
    again.close()
    c.close()
    assert d.stop() == 0


def write_some(d, n, prefix="/n"):
    c = Client(d.sock)
    for i in range(n):  # one at a time: a batch each
        assert c.cmd("CREATE %s%d x%d" % (prefix, i, i)).startswith("OK ")
    c.close()


def run_daemon_once(conf):
    return subprocess.run([DAEMON, "-c", conf], capture_output=True, text=True, timeout=60)


def flip(path, off):
    with open(path, "r+b") as f:
        f.seek(off)
        b = f.read(1)
        f.seek(off)
        f.write(bytes([b[0] ^ 0x40]))


def check_data(data):
    return subprocess.run([DAEMON, "--check-data", data], capture_output=True, text=True,
                          timeout=60)


def test_corrupt_log_refuses_start(tmp_path):
    data = str(tmp_path / "var")
    d = storage_daemon(data)
    d.start()
    write_some(d, 30)
    assert d.stop() == 0
    seg = sorted(glob.glob(os.path.join(data, "log.*")))[0]
    flip(seg, 100)  # inside an early batch, followed by good ones
    r = run_daemon_once(d.conf)
    assert r.returncode == 1, r.stderr
    assert os.path.basename(seg) in r.stderr and "offset" in r.stderr, r.stderr
    assert "refusing to start" in r.stderr
    chk = check_data(data)
    assert chk.returncode == 1 and os.path.basename(seg) in chk.stdout, chk.stdout
    flip(seg, 100)
    assert check_data(data).returncode == 0
    d.start()
    c = Client(d.sock)
    assert c.cmd("GET /n29").startswith("OK x29")
    c.close()
    assert d.stop() == 0


def test_corrupt_snapshot_refuses_start(tmp_path):
    data = str(tmp_path / "var")
    d = storage_daemon(data, "snapshot_every = 10;")
    d.start()
    write_some(d, 35)
    deadline = time.time() + 10
    while "snapshot at zxid" not in d.read_log() and time.time() < deadline:
        time.sleep(0.05)
    assert d.stop() == 0
    snap = sorted(glob.glob(os.path.join(data, "snapshot.*")))[-1]
    flip(snap, os.path.getsize(snap) // 2)
    r = run_daemon_once(d.conf)
    assert r.returncode == 1, r.stderr
    assert os.path.basename(snap) in r.stderr, r.stderr
    assert check_data(data).returncode == 1


def test_long_acl_id_survives_restarts(tmp_path):
    """ZooKeeper takes an ACL id of any length a request frame carries; a
    digest id of 200 KB (a long user name) is taken, and the daemon starts
    again from the log and then from a snapshot that holds it (before the
    fix it refused to start)."""
    from kazoo.security import make_acl, make_digest_acl
    data = str(tmp_path / "var")
    d = storage_daemon(data, "snapshot_every = 5;")
    d.start()
    user = "u" * 200000
    acl = [make_digest_acl(user, "pw", all=True), make_acl("world", "anyone", read=True)]

    def client():  # authenticated: getACL shows digest ids in full to ADMIN only
        zk = KazooClient(hosts="127.0.0.1:%d" % d.zk_port, timeout=4,
                         auth_data=[("digest", user + ":pw")])
        zk.start(timeout=5)
        return zk
    zk = client()
    zk.create("/long", b"v", acl=acl)
    zk.stop()
    zk.close()
    assert d.stop() == 0
    for step in ("log", "snapshot"):
        d.start()
        zk = client()
        got, _ = zk.get_acls("/long")
        assert [(a.perms, a.id.scheme, a.id.id) for a in got] == [
            (31, "digest", acl[0].id.id), (1, "world", "anyone")], step
        zk.set("/long", step.encode())  # WRITE through the long digest
        if step == "log":
            for i in range(6):
                zk.create("/more%d" % i, b"x")
            deadline = time.time() + 10
            while "snapshot at zxid" not in d.read_log() and time.time() < deadline:
                time.sleep(0.05)
            assert "snapshot at zxid" in d.read_log()
        zk.stop()
        zk.close()
        assert d.stop() == 0
    assert check_data(data).returncode == 0


def test_torn_tail_is_cut_with_a_warning(tmp_path):
    data = str(tmp_path / "var")
    d = storage_daemon(data)
    d.start()
    write_some(d, 10)
    assert d.stop() == 0
    seg = sorted(glob.glob(os.path.join(data, "log.*")))[-1]
    with open(seg, "rb") as f:
        body = f.read().rstrip(b"\0")
    with open(seg, "r+b") as f:
        f.truncate(len(body) - 3)  # the last batch (the session's close), torn
    d.start()
    log = d.read_log()
    assert "torn tail" in log and os.path.basename(seg) in log and "offset" in log, log
    c = Client(d.sock)
    assert c.cmd("GET /n9").startswith("OK x9")
    c.close()
    assert d.stop() == 0


def test_check_data_prints_what_it_holds(tmp_path):
    data = str(tmp_path / "var")
    d = storage_daemon(data, "snapshot_every = 5;")
    d.start()
    write_some(d, 12)
    assert d.stop() == 0
    r = check_data(data)
    assert r.returncode == 0, r.stdout
    assert "log segments:" in r.stdout and "snapshot." in r.stdout and "result: OK" in r.stdout
    missing = check_data(str(tmp_path / "nothing-here"))
    assert missing.returncode == 1


def test_old_files_go_through_the_trash(tmp_path):
    """Purges rename obsolete snapshots and log segments to trash.*, and a
    thread of the daemon deletes them a step at a time (a big unlink would
    hold up the log's next fdatasync); a start deletes what a crash left."""
    data = str(tmp_path / "var")
    os.makedirs(data)
    left = os.path.join(data, "trash.snapshot.00000000000000ff")
    with open(left, "wb") as f:
        f.write(b"\xab" * (20 << 20))  # more than two deletion steps
    d = storage_daemon(data, "snapshot_every = 20; snapshots_kept = 2; "
                             "segment_bytes = 65536; preallocate_bytes = 0;")

    def files(prefix):
        return sorted(n for n in os.listdir(data) if n.startswith(prefix))

    def until(cond, what):
        deadline = time.time() + 20
        while time.time() < deadline and not cond():
            time.sleep(0.05)
        assert cond(), "%s: %s\n%s" % (what, os.listdir(data), d.read_log()[-3000:])

    d.start()
    try:
        c = Client(d.sock)
        blob = "v" * 2000
        # five rounds of 40 writes (over a segment each), each waiting for
        # its snapshot, however slow the child: five snapshots, three purged
        for r in range(5):
            for i in range(40):
                assert c.cmd("CREATE /big%d %s" % (r * 40 + i, blob)).startswith("OK ")
            until(lambda: d.read_log().count("storage: snapshot at") > r,
                  "snapshot %d" % (r + 1))
        c.close()
        # the purge after the last snapshot comes a moment after its log
        # line: wait until the directory has stayed clean for a second
        clean_since = [None]

        def settled():
            if files("trash.") or len(files("snapshot.")) != 2:
                clean_since[0] = None
            elif clean_since[0] is None:
                clean_since[0] = time.time()
            return clean_since[0] is not None and time.time() - clean_since[0] >= 1.0
        until(settled, "trash emptied")
        purged = re.findall(r"deleting (\d+) old snapshots and (\d+) log segments",
                            d.read_log())
        assert sum(int(segs) for _, segs in purged) > 0, d.read_log()
        r = check_data(data)
        assert r.returncode == 0 and "trash:" not in r.stdout, r.stdout
        assert d.stop() == 0
        d.start()
        c = Client(d.sock)
        assert c.cmd("GET /big199").startswith("OK " + blob)
        c.close()
        assert d.stop() == 0
    finally:
        if d.proc is not None and d.proc.poll() is None:
            d.kill9()


def test_preallocated_log_goes_on_after_restart(tmp_path):
    """The log is zero-filled ahead of its data (storage.preallocate_bytes,
    1 MiB by default); a restart, clean or kill -9, goes on in the same
    segment right after the last record, and the zeros are no torn tail."""
    data = str(tmp_path / "var")
    d = storage_daemon(data)
    d.start()
    write_some(d, 10, "/a")
    assert d.stop() == 0
    d.start()
    write_some(d, 10, "/b")
    d.kill9()
    d.start()
    write_some(d, 10, "/c")
    assert d.stop() == 0
    segs = sorted(glob.glob(os.path.join(data, "log.*")))
    assert len(segs) == 1, segs
    assert os.path.getsize(segs[0]) >= 1 << 20
    log = d.read_log()
    assert "torn tail" not in log, log
    r = check_data(data)
    assert r.returncode == 0 and "zero-filled tail" in r.stdout, r.stdout
    assert "WARNING" not in r.stdout, r.stdout
    d.start()
    c = Client(d.sock)
    for p in ("/a9", "/b9", "/c9"):
        assert c.cmd("GET " + p).startswith("OK x9"), p
    c.close()
    assert d.stop() == 0


def test_preallocation_off(tmp_path):
    data = str(tmp_path / "var")
    d = storage_daemon(data, "preallocate_bytes = 0;")
    d.start()
    write_some(d, 10)
    assert d.stop() == 0
    segs = glob.glob(os.path.join(data, "log.*"))
    assert len(segs) == 1 and os.path.getsize(segs[0]) < 65536, segs
    r = check_data(data)
    assert r.returncode == 0 and "zero-filled tail" not in r.stdout, r.stdout


def test_sync_none_survives_kill9(tmp_path):
    data = str(tmp_path / "var")
    d = storage_daemon(data, 'sync = "none";')
    d.start()
    write_some(d, 20)
    d.kill9()
    d.start()
    c = Client(d.sock)
    assert c.cmd("GET /n19").startswith("OK x19")
    c.close()
    assert d.stop() == 0


def fill(path):
    try:
        with open(path, "wb") as f:
            while True:
                f.write(b"\1" * 65536)
                f.flush()
    except OSError:
        pass


def test_disk_full_then_space_again(tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "zk-e2e", str(mnt)],
                       capture_output=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: %s" % r.stderr.decode().strip())
    try:
        d = storage_daemon(str(mnt / "var"))
        d.start()
        c = Client(d.sock)
        assert c.cmd("CREATE /before x").startswith("OK ")
        fill(str(mnt / "filler"))
        big = "y" * 30000
        for i in range(200):
            r = c.cmd("CREATE /big%d %s" % (i, big))
            if not r.startswith("OK "):
                break
        assert r.startswith("ERR SYSTEMERROR ") and "space" in r, r
        refused = "/big%d" % i
        assert c.cmd("GET /before").startswith("OK x")  # reads go on
        assert dns_query(d.dns_port, "zk.", "SOA").rcode() == 0  # and DNS
        assert c.cmd("GET " + refused).startswith("ERR NONODE")
        os.unlink(str(mnt / "filler"))
        assert c.cmd("CREATE /after y").startswith("OK ")  # space again
        c.close()
        assert d.stop() == 0
        assert "disk full" in d.read_log()
        d.start()
        c = Client(d.sock)
        assert c.cmd("GET /after").startswith("OK y")
        assert c.cmd("GET " + refused).startswith("ERR NONODE")
        c.close()
        assert d.stop() == 0
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)
