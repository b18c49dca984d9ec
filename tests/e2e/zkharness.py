"""End-to-end harness: start the built zonekeeperd on free loopback ports and
talk to it as users do (the socket protocol, c-ares and dnspython resolvers).

Every wait is bounded. A daemon started here is stopped with SIGTERM by PID
and must exit 0 (under AddressSanitizer a leak or error makes it non-zero).
"""
import os
import re
import select
import signal
import socket
import subprocess
import tempfile
import time

import dns.message
import dns.query
import dns.rdatatype
import pycares

DAEMON = os.environ.get("ZK_DAEMON", "build/daemon/zonekeeperd")
CLI = os.environ.get("ZK_CLI", "build/cli/zonekeeper")

CONF_TEMPLATE = """
data_dir = "{data}";
log = {{ level = "{level}"; }};
client = {{ listen = [ "unix:{sock}" ]; {client_extra} }};
zookeeper = {{ listen = [ "127.0.0.1:0" ]; tick_ms = {tick}; {zk_extra} }};
dns = {{ listen = [ "127.0.0.1:0" ]; domain = "zk."; root = "/services";
        ttl = {ttl}; forward = {forward}; upstream = [ {upstream} ]; {dns_extra} }};
registry = {{ backend = "embedded"; servers = ""; }};
"""


class Daemon:
    """A zonekeeperd process with its own config, socket and data dir."""

    def __init__(self, ttl=0, forward=False, upstream=(), tick=200, level="debug",
                 client_extra="", dns_extra="", data=None, zk_extra="", env=None):
        self.tmp = tempfile.mkdtemp(prefix="zk-e2e-")
        self.sock = os.path.join(self.tmp, "zk.sock")
        self.data = data or os.path.join(self.tmp, "var")
        self.conf = os.path.join(self.tmp, "zk.conf")
        ups = ", ".join('"%s"' % u for u in upstream)
        with open(self.conf, "w") as f:
            f.write(CONF_TEMPLATE.format(
                data=self.data, sock=self.sock, ttl=ttl, tick=tick, level=level,
                forward="true" if forward else "false", upstream=ups,
                client_extra=client_extra, dns_extra=dns_extra, zk_extra=zk_extra))
        self.log_path = os.path.join(self.tmp, "daemon.log")
        self.proc = None
        self.env = env
        self.dns_port = None
        self.zk_port = None

    def start(self, timeout=20.0):
        self.log = open(self.log_path, "w+")
        self.proc = subprocess.Popen([DAEMON, "-c", self.conf], stdout=self.log,
                                     stderr=subprocess.STDOUT, env=self.env)
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = self.read_log()
            m = re.search(r"listening: dns udp\+tcp 127\.0\.0\.1:(\d+)", text)
            z = re.search(r"listening: zookeeper 127\.0\.0\.1:(\d+)", text)
            # the listeners are logged in order client, dns, zookeeper: wait
            # for the last, or zk_port could be read before it is known
            if m and z and os.path.exists(self.sock):
                self.dns_port = int(m.group(1))
                self.zk_port = int(z.group(1))
                return self
            if self.proc.poll() is not None:
                raise RuntimeError("daemon exited early:\n" + text)
            time.sleep(0.02)
        raise RuntimeError("daemon did not start:\n" + self.read_log())

    def read_log(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self, timeout=20.0):
        """SIGTERM, wait, and return the exit code (must be 0)."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise RuntimeError("daemon did not stop on SIGTERM:\n" + self.read_log())

    def kill9(self):
        self.proc.kill()
        self.proc.wait(10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        code = self.stop()
        assert code == 0, "daemon exit code %s\n%s" % (code, self.read_log()[-5000:])


class Client:
    """A connection speaking the socket protocol; one connection = one session."""

    def __init__(self, path, timeout=10.0):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""
        self.events = []

    def send_raw(self, data):
        self.s.sendall(data)

    def readline(self):
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("connection closed; buffer=%r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode("latin-1")

    def reply(self):
        """The next reply line; EVENT lines before it are kept in self.events."""
        while True:
            line = self.readline()
            if line.startswith("EVENT "):
                self.events.append(line)
            else:
                return line

    def cmd(self, line):
        self.send_raw(line.encode("latin-1") + b"\n")
        return self.reply()

    def children(self, path):
        """The set of child names of path (CHILDREN must succeed)."""
        r = self.cmd("CHILDREN " + path)
        assert r.startswith("OK "), r
        return set(r.split()[2:])

    def event(self, timeout=5.0):
        if self.events:
            return self.events.pop(0)
        self.s.settimeout(timeout)
        line = self.readline()
        assert line.startswith("EVENT "), line
        return line

    def closed_by_peer(self, timeout=5.0):
        self.s.settimeout(timeout)
        try:
            while True:
                chunk = self.s.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, BrokenPipeError):
            return True

    def close(self):
        self.s.close()


def cares_query(port, name, qtype, tcp=False, timeout=5.0):
    """Resolves through c-ares; returns (results, error_code)."""
    flags = pycares.ARES_FLAG_USEVC if tcp else 0
    ch = pycares.Channel(servers=["127.0.0.1"], udp_port=port, tcp_port=port, flags=flags,
                         timeout=timeout, tries=1)
    out = {}

    def cb(result, error):
        out["r"], out["e"] = result, error

    ch.query(name, qtype, cb)
    deadline = time.time() + timeout + 1
    while "e" not in out and time.time() < deadline:
        rfds, wfds = ch.getsock()
        if not rfds and not wfds:
            break
        r, w, _ = select.select(rfds, wfds, [], 0.1)
        for fd in r:
            ch.process_fd(fd, pycares.ARES_SOCKET_BAD)
        for fd in w:
            ch.process_fd(pycares.ARES_SOCKET_BAD, fd)
        if not r and not w:
            ch.process_fd(pycares.ARES_SOCKET_BAD, pycares.ARES_SOCKET_BAD)
    return out.get("r"), out.get("e", "timeout")


def dns_query(port, name, rdtype, tcp=False, payload=None, timeout=5.0, want_dnssec=False):
    """Sends one query with dnspython and returns the response message."""
    q = dns.message.make_query(name, rdtype, use_edns=payload is not None,
                               payload=payload or 512)
    fn = dns.query.tcp if tcp else dns.query.udp
    return fn(q, "127.0.0.1", port=port, timeout=timeout)


def udp_raw(port, data, timeout=2.0):
    """Sends raw bytes over UDP; returns the reply bytes or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(data, ("127.0.0.1", port))
        return s.recv(65535)
    except socket.timeout:
        return None
    finally:
        s.close()
