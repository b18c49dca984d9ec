"""Servers for the ZooKeeper-protocol tests.

ApacheZK runs Apache ZooKeeper 3.8 (Debian's `zookeeper` package) standalone
on a free loopback port, for the differential tests: the same scenario runs
against it and against zonekeeperd and the results must be identical.

zk_daemon() starts zonekeeperd (zkharness.Daemon) and waits until it has
logged its ZooKeeper port.

Every wait is bounded; processes started here are stopped by PID.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import zkraw
from zkharness import Daemon

JAVA = shutil.which("java") or "/usr/bin/java"
ZK_JAR = "/usr/share/java/zookeeper.jar"
# zookeeper.jar's manifest names its own dependencies (jute, netty, jackson,
# slf4j-api, ...); a logger binding is all that is missing.
LOGGER_JARS = ["/usr/share/java/slf4j-simple.jar", "/usr/share/java/slf4j-nop.jar"]
ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh"


def apache_missing():
    """Why Apache ZooKeeper cannot run here, or None."""
    if not os.path.exists(JAVA):
        return "java is not installed (Debian package default-jre-headless)"
    if not os.path.exists(ZK_JAR):
        return "Apache ZooKeeper is not installed (Debian package zookeeper)"
    return None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class ApacheZK:
    """Apache ZooKeeper 3.8 standalone with a temporary dataDir.

    tick_ms matches zonekeeperd's tick (the harness uses 200), so negotiated
    session timeouts agree. Containers and TTL nodes are checked every
    container_check_ms (ZooKeeper's default is a minute)."""

    def __init__(self, tick_ms=200, container_check_ms=100, max_client_cnxns=60,
                 max_session_timeout_ms=0):
        self.tick_ms = tick_ms
        self.max_session_timeout_ms = max_session_timeout_ms
        self.container_check_ms = container_check_ms
        self.max_client_cnxns = max_client_cnxns
        self.tmp = tempfile.mkdtemp(prefix="zk-apache-")
        self.proc = None
        self.port = None
        self.log_path = os.path.join(self.tmp, "zookeeper.log")

    def _write_cfg(self):
        cfg = os.path.join(self.tmp, "zoo.cfg")
        data = os.path.join(self.tmp, "data")
        os.makedirs(data, exist_ok=True)
        with open(cfg, "w") as f:
            f.write("tickTime=%d\n" % self.tick_ms)
            f.write("dataDir=%s\n" % data)
            f.write("clientPort=%d\n" % self.port)
            f.write("clientPortAddress=127.0.0.1\n")
            f.write("maxClientCnxns=%d\n" % self.max_client_cnxns)
            if self.max_session_timeout_ms:
                f.write("maxSessionTimeout=%d\n" % self.max_session_timeout_ms)
            f.write("admin.enableServer=false\n")
            f.write("4lw.commands.whitelist=*\n")
            f.write("extendedTypesEnabled=true\n")
        return cfg

    def start(self, timeout=60.0):
        why = apache_missing()
        if why:
            raise RuntimeError(why)
        logger = next((j for j in LOGGER_JARS if os.path.exists(j)), None)
        cp = ZK_JAR + (":" + logger if logger else "")
        last = ""
        for _attempt in range(3):   # the free port may be taken between probe and bind
            self.port = free_port()
            cfg = self._write_cfg()
            log = open(self.log_path, "w")
            self.proc = subprocess.Popen(
                [JAVA, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                 "-Dzookeeper.extendedTypesEnabled=true",
                 "-Dzookeeper.admin.enableServer=false",
                 "-Dznode.container.checkIntervalMs=%d" % self.container_check_ms,
                 "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                 "-cp", cp, "org.apache.zookeeper.server.ZooKeeperServerMain", cfg],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            log.close()
            deadline = time.time() + timeout
            while time.time() < deadline and self.proc.poll() is None:
                try:
                    if "Mode:" in zkraw.four_letter(self.port, "srvr", timeout=2):
                        return self
                except OSError:
                    pass
                time.sleep(0.2)
            last = self.read_log()
            self.stop()
        raise RuntimeError("Apache ZooKeeper did not start:\n" + last[-3000:])

    def read_log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, timeout=20.0):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()


def wait_zk_port(d, timeout=20.0):
    """Waits until daemon d has logged its ZooKeeper port; sets d.zk_port."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        z = re.search(r"listening: zookeeper 127\.0\.0\.1:(\d+)", d.read_log())
        if z:
            d.zk_port = int(z.group(1))
            return d.zk_port
        if d.proc.poll() is not None:
            raise RuntimeError("daemon exited:\n" + d.read_log()[-5000:])
        time.sleep(0.02)
    raise RuntimeError("daemon logged no 'listening: zookeeper' line:\n" + d.read_log()[-5000:])


def zk_daemon(**kw):
    """A started zonekeeperd with d.zk_port set (stop it with d.stop())."""
    d = Daemon(**kw).start()
    try:
        wait_zk_port(d)
    except Exception:
        d.stop()
        raise
    return d


def serve(against_apache, apache_kw=None, skip_if_missing=False, **daemon_kw):
    """The server a ZooKeeper e2e module talks to, for a module fixture to
    yield from: Apache ZooKeeper when against_apache, else zonekeeperd
    (Daemon's keyword arguments), which must then exit 0. It has .port,
    and .daemon: the zonekeeperd, or None."""
    if against_apache:
        if skip_if_missing and apache_missing():
            import pytest
            pytest.skip(apache_missing())
        z = ApacheZK(**(apache_kw or {})).start()
        z.daemon = None
        yield z
        z.cleanup()
        return
    d = zk_daemon(**daemon_kw)
    d.port = d.zk_port
    d.daemon = d
    yield d
    code = d.stop()
    assert code == 0, "daemon exit code %s\n%s" % (code, d.read_log()[-5000:])


def daemon_missing():
    """Why zonekeeperd's ZooKeeper side cannot be tested, or None."""
    from zkharness import DAEMON
    if not os.path.exists(DAEMON):
        return "zonekeeperd not built: %s" % DAEMON
    return None
