"""A tiny authoritative-looking upstream DNS server on 127.0.0.1 for the
forwarding tests: answers over UDP and TCP from a fixed table, records what
it received, and stays silent for names under `silent.` (to test timeouts)."""
import socket
import struct
import threading

import dns.message
import dns.rcode
import dns.rrset


class FakeUpstream:
    def __init__(self):
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.port = self.udp.getsockname()[1]
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", self.port))
        self.tcp.listen(16)
        self.seen = []
        self.stop_flag = False
        self.threads = [threading.Thread(target=self._serve_udp, daemon=True),
                        threading.Thread(target=self._serve_tcp, daemon=True)]
        for t in self.threads:
            t.start()

    def answer(self, wire):
        q = dns.message.from_wire(wire)
        self.seen.append(q)
        name = q.question[0].name.to_text().lower()
        if name.endswith("silent."):
            return None
        r = dns.message.make_response(q)
        r.flags |= dns.flags.RA
        if name == "www.example.":
            r.answer.append(dns.rrset.from_text(name, 60, "IN", "A", "192.0.2.10"))
        elif name == "big.example.":
            addrs = ["192.0.2.%d" % i for i in range(1, 101)]
            r.answer.append(dns.rrset.from_text_list(name, 60, "IN", "A", addrs))
        elif name == "fail.example.":
            r.set_rcode(dns.rcode.SERVFAIL)
        else:
            r.set_rcode(dns.rcode.NXDOMAIN)
        return r.to_wire(max_size=65535)

    def _serve_udp(self):
        self.udp.settimeout(0.2)
        while not self.stop_flag:
            try:
                data, peer = self.udp.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            out = self.answer(data)
            if out is None:
                continue
            if len(out) > 512:  # what a real server does without EDNS
                q = dns.message.from_wire(data)
                if q.edns < 0 or len(out) > q.payload:
                    t = dns.message.make_response(q)
                    t.flags |= dns.flags.TC
                    out = t.to_wire()
            self.udp.sendto(out, peer)

    def _serve_tcp(self):
        self.tcp.settimeout(0.2)
        while not self.stop_flag:
            try:
                conn, _ = self.tcp.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(2)
            try:
                while True:
                    hdr = conn.recv(2)
                    if len(hdr) < 2:
                        break
                    (n,) = struct.unpack("!H", hdr)
                    data = b""
                    while len(data) < n:
                        chunk = conn.recv(n - len(data))
                        if not chunk:
                            break
                        data += chunk
                    out = self.answer(data)
                    if out is not None:
                        conn.sendall(struct.pack("!H", len(out)) + out)
            except OSError:
                pass
            finally:
                conn.close()

    def close(self):
        self.stop_flag = True
        for t in self.threads:
            t.join(2)
        self.udp.close()
        self.tcp.close()
