"""zkCli.sh (Apache ZooKeeper 3.8's shell, Debian package `zookeeper`) against
zonekeeperd: batch mode (one command on the command line) and a script of
commands on stdin, output checked; then the same script against Apache
ZooKeeper, outputs compared after normalizing times, zxids and session ids.

The JVM is slow to start, so there are only a handful of invocations."""
import os
import re
import subprocess

import pytest

import zkserver

AGAINST_APACHE = os.environ.get("ZK_E2E_AGAINST") == "apache"
MISSING = None if os.path.exists(zkserver.ZKCLI) else \
    "zkCli.sh not installed (Debian package zookeeper)"
if MISSING is None and zkserver.apache_missing():
    MISSING = zkserver.apache_missing()
pytestmark = pytest.mark.skipif(MISSING is not None, reason=str(MISSING))


@pytest.fixture(scope="module")
def server():
    yield from zkserver.serve(AGAINST_APACHE)


def zkcli(port, *args, stdin=None, timeout=90):
    env = dict(os.environ, CLIENT_JVMFLAGS="-Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
    p = subprocess.run([zkserver.ZKCLI, "-server", "127.0.0.1:%d" % port] + list(args),
                       input=stdin, capture_output=True, text=True, timeout=timeout, env=env)
    err = "\n".join(l for l in p.stderr.splitlines() if not l.startswith("SLF4J:"))
    return p.returncode, p.stdout, err


def test_batch_commands(server):
    """One command per invocation, as scripts call it."""
    code, out, err = zkcli(server.port, "create", "/clibatch", "hello")
    assert code == 0 and "Created /clibatch" in err, (code, out, err)
    code, out, err = zkcli(server.port, "get", "/clibatch")
    assert code == 0 and out.strip().splitlines()[-1] == "hello", (code, out, err)


SCRIPT = """\
create /cli data1
create /cli/kid
create -e /cli/eph ephemeral
create -s /cli/seq- s
create -s /cli/seq- s
create /cli/missing/child
create /cli data1
get /cli
ls /cli
ls -s /cli
set /cli data2
set -v 0 /cli data3
get -s /cli
stat /cli/kid
delete /cli
delete -v 5 /cli/kid
delete /cli/kid
get /cli/kid
getAllChildrenNumber /cli
getEphemerals /cli
create -c /cli/box
create -t 100000 /cli/ttl t
stat /cli/ttl
sync /cli
addauth digest user:pw
create /cli/secret s
setAcl /cli/secret auth:user:pw:cdrwa
getAcl /cli/secret
get /cli/secret
whoami
ls -R /cli
deleteall /cli
ls /cli
quit
"""


def normalize(text):
    """Times, zxids and session ids differ by nature between servers."""
    text = re.sub(r"(?m)^(ctime|mtime) = .*$", r"\1 = DATE", text)
    zx = {}

    def zxid(m):
        v = int(m.group(2), 16)
        if v not in zx:
            zx[v] = "Z%d" % len(zx)
        return m.group(1) + zx[v]
    text = re.sub(r"(?m)^(cZxid = |mZxid = |pZxid = )0x([0-9a-f]+)$", zxid, text)
    text = re.sub(r"(?m)^ephemeralOwner = 0x[0-9a-f]*[1-9a-f][0-9a-f]*$", "ephemeralOwner = SESSION", text)
    text = re.sub(r"(?m)^Connecting to 127\.0\.0\.1:\d+$", "Connecting to SERVER", text)
    # whoami lists identities in ZooKeeper's hash-set order: compare them sorted
    lines = text.split("\n")
    if "Auth scheme: User" in lines:
        i = lines.index("Auth scheme: User") + 1
        j = i
        while j < len(lines) and re.match(r"^[a-z]+: ", lines[j]):
            j += 1
        lines[i:j] = sorted(lines[i:j])
    return "\n".join(lines)


def test_script_output(server):
    code, out, err = zkcli(server.port, stdin=SCRIPT)
    # stderr: what zkCli reports per command, in order
    assert err.splitlines() == [
        "Created /cli",
        "Created /cli/kid",
        "Created /cli/eph",
        "Created /cli/seq-0000000002",
        "Created /cli/seq-0000000003",
        "Node does not exist: /cli/missing/child",
        "Node already exists: /cli",
        "version No is not valid : /cli",
        "Node not empty: /cli",
        "version No is not valid : /cli/kid",
        "Node does not exist: /cli/kid",
        "Created /cli/box",
        "Created /cli/ttl",
        "Created /cli/secret",
        "Node does not exist: /cli",
    ], err
    lines = out.splitlines()
    assert "data1" in lines
    assert "[eph, kid, seq-0000000002, seq-0000000003]" in lines
    assert "data2" in lines
    assert "dataVersion = 1" in lines
    assert "numChildren = 4" in lines
    assert "ephemeralOwner = 0x0" in lines
    assert "3" in lines                                   # getAllChildrenNumber /cli
    assert "[/cli/eph]" in lines                          # getEphemerals
    assert "Sync is OK" in lines
    acl = out[out.index("'digest,'user:"):]
    assert acl.split("\n")[1] == ": cdrwa", acl
    assert "s" in lines                                   # get with the right auth
    assert "digest: user" in lines and "ip: 127.0.0.1" in lines   # whoami
    i = lines.index("/cli")                               # ls -R
    assert lines[i:i + 7] == ["/cli", "/cli/box", "/cli/eph", "/cli/secret", "/cli/seq-0000000002",
                              "/cli/seq-0000000003", "/cli/ttl"], lines[i:]


@pytest.mark.skipif(AGAINST_APACHE, reason="compares zonekeeperd with Apache ZooKeeper")
def test_script_same_as_apache(server):
    """The whole script's output, normalized, is what Apache ZooKeeper gives."""
    ours = zkcli(server.port, stdin=SCRIPT.replace("/cli", "/clid"))
    with zkserver.ApacheZK() as z:
        theirs = zkcli(z.port, stdin=SCRIPT.replace("/cli", "/clid"))
    import difflib
    a, b = normalize(theirs[1]).splitlines(), normalize(ours[1]).splitlines()
    assert a == b, "stdout differs (- apache, + zonekeeperd):\n" + "\n".join(
        difflib.unified_diff(a, b, "apache", "zonekeeperd", lineterm=""))
    assert ours[2] == theirs[2], "stderr differs\n--- zonekeeperd\n%s\n--- apache\n%s" % (ours[2], theirs[2])
    assert ours[0] == theirs[0]
