"""Apache ZooKeeper's C client (libzookeeper-mt) against zonekeeperd: the
program zkc/zkc_test.c (built by CMake as zkc_test; ZKC_TEST names it, or
it is compiled here with the system's cc) checks synchronous and
asynchronous calls, watches, multi, ACLs and sessions, and, through a proxy
this driver cuts, that the client's setWatches after a reconnect re-arms its
watches. ZK_E2E_AGAINST=apache runs it against Apache ZooKeeper 3.8."""
import os
import shutil
import subprocess
import tempfile
import time

import pytest
from kazoo.client import KazooClient

import zkserver
from zkproxy import Proxy

AGAINST_APACHE = os.environ.get("ZK_E2E_AGAINST") == "apache"
HERE = os.path.dirname(os.path.abspath(__file__))
HEADER = "/usr/include/zookeeper/zookeeper.h"


def program():
    exe = os.environ.get("ZKC_TEST")
    if exe and os.path.exists(exe):
        return exe
    if not os.path.exists(HEADER):
        pytest.skip("libzookeeper-mt-dev is not installed")
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.skip("no C compiler to build zkc_test")
    exe = os.path.join(tempfile.mkdtemp(prefix="zkc-"), "zkc_test")
    subprocess.run([cc, "-std=c11", "-D_GNU_SOURCE", "-DTHREADED", "-g", "-o", exe,
                    os.path.join(HERE, "zkc", "zkc_test.c"), "-lzookeeper_mt", "-lpthread"],
                   check=True, timeout=120)
    return exe


@pytest.fixture(scope="module")
def server():
    yield from zkserver.serve(AGAINST_APACHE)


def test_c_client(server):
    exe = program()
    root = "/zkc-%d-%d" % (os.getpid(), int(time.time()))
    proxy = Proxy(server.port)
    direct = KazooClient(hosts="127.0.0.1:%d" % server.port, timeout=10)
    direct.start(timeout=15)
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")   # the library's own allocations
    p = subprocess.Popen([exe, "127.0.0.1:%d" % server.port, root, "127.0.0.1:%d" % proxy.port],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env)
    lines = []
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            line = p.stdout.readline()
            if not line:
                break
            line = line.rstrip("\n")
            lines.append(line)
            if line.startswith("DROP "):
                path = line.split(" ", 1)[1]
                proxy.blocked = True
                proxy.drop()
                time.sleep(0.3)
                direct.set(path, b"changed while away")
                direct.create(path + "/kid", b"")
                time.sleep(0.3)
                proxy.blocked = False
                p.stdin.write("GO\n")
                p.stdin.flush()
        code = p.wait(30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(10)
        proxy.close()
        direct.stop()
        direct.close()
    err = p.stderr.read()
    fails = [l for l in lines if l.startswith("FAIL")]
    assert not fails and code == 0 and lines and lines[-1] == "done failures=0", \
        "C client checks failed (exit %s):\n%s\n--- stderr:\n%s" % (code, "\n".join(lines), err[-3000:])
    oks = {l.split()[1] for l in lines if l.startswith("ok ")}
    for must in ("multi", "multi-fail", "amulti-fail", "watch-changed", "noauth",
                 "reconnect-same-session", "closed-session-expired",
                 "setwatches-after-reconnect", "async-200-outstanding", "create-ttl"):
        assert must in oks, must
