"""A TCP proxy on loopback between a ZooKeeper client and a server, for
tests that must cut a client's connection (reconnection, setWatches) without
the client knowing in advance, and for tests/fuzz/zkp_capture.py, which keeps
every byte (record=True). Bounded: threads are daemons and every socket is
closed by drop() or close()."""
import socket
import threading


class Proxy:
    def __init__(self, upstream_port, host="127.0.0.1", record=False):
        self.upstream = (host, upstream_port)
        self.record = record
        self.conns = []          # record: [{'c2s': bytearray, 's2c': bytearray, 'tag': str}]
        self.tag = "?"           # record: the tag of connections accepted from now on
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.live = []
        self.blocked = False     # while True, new connections are closed at once
        self.accepted = 0
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.accepted += 1
                blocked = self.blocked
            if blocked:
                c.close()
                continue
            try:
                u = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                c.close()
                continue
            u.settimeout(None)
            rec = {"c2s": bytearray(), "s2c": bytearray(), "tag": self.tag}
            with self.lock:
                self.live.append((c, u))
                if self.record:
                    self.conns.append(rec)
            logs = (rec["c2s"], rec["s2c"]) if self.record else (None, None)
            threading.Thread(target=self._pump, args=(c, u, logs[0]), daemon=True).start()
            threading.Thread(target=self._pump, args=(u, c, logs[1]), daemon=True).start()

    def _pump(self, src, dst, log):
        while True:
            try:
                b = src.recv(65536)
            except OSError:
                b = b""
            if not b:
                break
            if log is not None:
                with self.lock:
                    log.extend(b)
            try:
                dst.sendall(b)
            except OSError:
                break
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def drop(self):
        """Cuts every live connection (both sides see it closed)."""
        with self.lock:
            live, self.live = self.live, []
        for c, u in live:
            for s in (c, u):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def close(self):
        self.closed = True
        self.drop()
        self.sock.close()
