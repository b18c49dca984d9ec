#!/usr/bin/python3
"""fakezk.py - a stand-in for zonekeeperd, to test the benchmark harness.

    fakezk.py SOCKET_PATH DNS_PORT

Speaks just enough of the socket protocol (REGISTER, PING, QUIT; a
connection's members vanish when it closes) and of the DNS mapping (A at
<svc>.zk and <id>.<svc>.zk, SRV at <svc>.zk and _<svc>._tcp.zk with the
targets' A in the additional section, SOA and NS at the apex, NXDOMAIN with
the SOA otherwise) for `bench/dns --fake` to exercise every step of the
benchmark while the real daemon cannot be built. It is slow (Python) and
says nothing about zonekeeperd's performance.
"""
import asyncio
import os
import signal
import sys

import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

ZONE = "zk."
SOA = "ns.zk. hostmaster.zk. 1 3600 600 86400 0"

groups = {}  # service -> {id: (address, port)}


def lookup(qname, qtype):
    """Returns (rcode, answer rrsets, additional rrsets, authority rrsets)."""
    name = qname.to_text().lower()
    if not name.endswith("." + ZONE) and name != ZONE:
        return dns.rcode.REFUSED, [], [], []
    soa = dns.rrset.from_text(ZONE, 0, "IN", "SOA", SOA)
    if name == ZONE:
        if qtype == dns.rdatatype.SOA:
            return dns.rcode.NOERROR, [soa], [], []
        if qtype == dns.rdatatype.NS:
            ns = dns.rrset.from_text(ZONE, 0, "IN", "NS", "ns.zk.")
            return dns.rcode.NOERROR, [ns], [], []
        return dns.rcode.NOERROR, [], [], [soa]
    labels = name[: -len(ZONE) - 1].split(".")
    srv_form = len(labels) == 2 and labels[0].startswith("_") and labels[1] == "_tcp"
    if srv_form or len(labels) == 1:
        svc = labels[0][1:] if srv_form else labels[0]
        members = groups.get(svc)
        if members is None:
            return dns.rcode.NXDOMAIN, [], [], [soa]
        if qtype == dns.rdatatype.A and not srv_form and members:
            addrs = [a for a, _ in members.values()]
            return dns.rcode.NOERROR, [dns.rrset.from_text_list(name, 0, "IN", "A", addrs)], [], []
        if qtype == dns.rdatatype.SRV and members:
            recs = ["0 1 %d %s.%s.zk." % (p, i, svc) for i, (_, p) in members.items()]
            add = [dns.rrset.from_text("%s.%s.zk." % (i, svc), 0, "IN", "A", a)
                   for i, (a, _) in members.items()]
            return dns.rcode.NOERROR, [dns.rrset.from_text_list(name, 0, "IN", "SRV", recs)], add, []
        return dns.rcode.NOERROR, [], [], [soa]
    if len(labels) == 2 and labels[1] in groups and labels[0] in groups[labels[1]]:
        addr, _ = groups[labels[1]][labels[0]]
        if qtype == dns.rdatatype.A:
            return dns.rcode.NOERROR, [dns.rrset.from_text(name, 0, "IN", "A", addr)], [], []
        return dns.rcode.NOERROR, [], [], [soa]
    return dns.rcode.NXDOMAIN, [], [], [soa]


class Dns(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        try:
            q = dns.message.from_wire(data)
        except Exception:
            return
        r = dns.message.make_response(q)
        r.flags |= dns.flags.AA
        rc, an, ad, au = lookup(q.question[0].name, q.question[0].rdtype)
        r.set_rcode(rc)
        r.answer.extend(an)
        r.additional.extend(ad)
        r.authority.extend(au)
        self.transport.sendto(r.to_wire(max_size=1232), addr)


async def client(reader, writer):
    mine = []
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            tok = line.decode(errors="replace").split()
            if not tok:
                continue
            verb = tok[0].upper()
            if verb == "REGISTER" and len(tok) >= 4:
                svc, addr, port = tok[1], tok[2], int(tok[3])
                mid = next((t[3:] for t in tok[4:] if t.startswith("id=")),
                           "%s-%d" % (addr.replace(".", "-"), port))
                groups.setdefault(svc, {})[mid] = (addr, port)
                mine.append((svc, mid))
                writer.write(b"OK /services/%s/%s\n" % (svc.encode(), mid.encode()))
            elif verb == "PING":
                writer.write(b"OK\n")
            elif verb == "QUIT":
                writer.write(b"OK\n")
                break
            else:
                writer.write(b"ERR BADARGUMENTS unsupported by fakezk\n")
            await writer.drain()
    except (ConnectionError, ValueError):
        pass
    finally:
        for svc, mid in mine:
            groups.get(svc, {}).pop(mid, None)
        writer.close()


async def main():
    path, port = sys.argv[1], int(sys.argv[2])
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set_result, None)
    if os.path.exists(path):
        os.unlink(path)
    server = await asyncio.start_unix_server(client, path=path, limit=65536)
    transport, _ = await loop.create_datagram_endpoint(Dns, local_addr=("127.0.0.1", port))
    await stop
    transport.close()
    server.close()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: fakezk.py SOCKET_PATH DNS_PORT")
    asyncio.run(main())
