#!/usr/bin/python3
"""compare.py - do two DNS servers give the same answers to a query list?

    compare.py PORT_A PORT_B QUERYFILE [QUERYFILE...]

Sends every distinct "name type" line of the files once to each server on
127.0.0.1 (UDP, EDNS0 1232) and compares the rcode, the answer section and,
for SRV, the A/AAAA records of the targets in the additional section, as
sets (record order, TTLs, the authority section and other additional
records may differ: NSD adds its NS and their glue). Prints each difference
(the first 10 in full) and a "RESULT compared=N differ=N" line; exit status
1 when any differs. A test that both servers serve the same data, so that
the load figures compare like with like.
"""
import sys

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype


def answer(port, name, rdtype):
    q = dns.message.make_query(name, rdtype, use_edns=0, payload=1232)
    q.flags = 0  # no RD: an authoritative question
    try:
        r = dns.query.udp(q, "127.0.0.1", port=port, timeout=2)
    except dns.exception.Timeout:
        return ("timeout",)
    ans = set()
    targets = set()
    for rrset in r.answer:
        for rd in rrset:
            ans.add((rrset.name.to_text().lower(), rrset.rdtype, rd.to_text().lower()))
            if rrset.rdtype == dns.rdatatype.SRV:
                targets.add(rd.target.to_text().lower())
    glue = set()
    for rrset in r.additional:
        if rrset.name.to_text().lower() in targets and rrset.rdtype in (
                dns.rdatatype.A, dns.rdatatype.AAAA):
            for rd in rrset:
                glue.add((rrset.name.to_text().lower(), rrset.rdtype, rd.to_text()))
    return (dns.rcode.to_text(r.rcode()), frozenset(ans), frozenset(glue))


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: compare.py PORT_A PORT_B QUERYFILE [QUERYFILE...]")
    pa, pb = int(sys.argv[1]), int(sys.argv[2])
    seen = []
    for path in sys.argv[3:]:
        with open(path) as f:
            for line in f:
                tok = line.split("#")[0].split()
                if tok and tuple(tok[:2]) not in seen:
                    seen.append(tuple(tok[:2]) if len(tok) > 1 else (tok[0], "A"))
    differ = 0
    for name, rdtype in seen:
        a, b = answer(pa, name, rdtype), answer(pb, name, rdtype)
        if a != b:
            differ += 1
            if differ <= 10:
                print("differ: %s %s" % (name, rdtype))
                for port, r in ((pa, a), (pb, b)):
                    print("  port %d: %s" % (port, r[0]))
                    for part in r[1:]:
                        for rec in sorted(part):
                            print("    %s %s %s" % (rec[0], dns.rdatatype.to_text(rec[1]), rec[2]))
    print("RESULT compared=%d differ=%d" % (len(seen), differ))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
