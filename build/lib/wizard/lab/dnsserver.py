"""A small authoritative DNS server for the lab, built on dnspython (already a dependency).

It answers A, MX, NS and PTR from a table and NXDOMAIN for any other name, over UDP. The table
can live in a JSON zone file (`--zone`), re-read whenever it changes, so a test or a teacher can
break DNS on purpose while the lab runs:

    {"records": [["mail.example.test", "A", "192.0.2.25"], ...],
     "servfail": ["example.test"],      # answer SERVFAIL for these names
     "silent": false}                   # true: never answer (a black-holed server)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys

import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

TTL = 60


class Zone:
    def __init__(self, records: list[tuple[str, str, str]], servfail=(), silent: bool = False):
        self.servfail = {n.lower().rstrip(".") for n in servfail}
        self.silent = silent
        self.table: dict[tuple[str, int], list[str]] = {}
        self.names: set[str] = set()
        for name, rdtype, value in records:
            key = (name.lower().rstrip("."), dns.rdatatype.from_text(rdtype))
            self.table.setdefault(key, []).append(value)
            self.names.add(key[0])

    def answer(self, wire: bytes) -> bytes | None:
        try:
            query = dns.message.from_wire(wire)
        except Exception:
            return None
        if self.silent:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        for question in query.question:
            name = question.name.to_text().lower().rstrip(".")
            if name in self.servfail:
                response.set_rcode(dns.rcode.SERVFAIL)
                continue
            values = self.table.get((name, question.rdtype))
            if values:
                response.answer.append(dns.rrset.from_text_list(
                    question.name, TTL, dns.rdataclass.IN, question.rdtype, values))
            elif name not in self.names:
                response.set_rcode(dns.rcode.NXDOMAIN)
        return response.to_wire()


class ZoneFile:
    """A zone read from JSON, read again when the file's mtime changes."""

    def __init__(self, path: str):
        self.path = path
        self.mtime = -1
        self.zone = Zone([])

    def current(self) -> Zone:
        try:
            mtime = os.stat(self.path).st_mtime_ns
        except OSError:
            return self.zone
        if mtime != self.mtime:
            try:
                with open(self.path, encoding="utf-8") as f:
                    data = json.load(f)
                self.zone = Zone([tuple(r) for r in data.get("records", [])],
                                 data.get("servfail", ()), bool(data.get("silent")))
                self.mtime = mtime
            except (OSError, ValueError):
                pass        # a zone file caught mid-write: keep answering from the last good one
        return self.zone


def serve(zone: ZoneFile, listen: str, port: int) -> None:
    """Answer queries from the zone file, read afresh whenever it changes."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((listen, port))
    print("ready", flush=True)
    while True:
        wire, peer = sock.recvfrom(4096)
        reply = zone.current().answer(wire)
        if reply:
            sock.sendto(reply, peer)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the lab's authoritative DNS server")
    parser.add_argument("--listen", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=53)
    parser.add_argument("--zone", required=True, help="a JSON zone file, re-read when it changes")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    serve(ZoneFile(args.zone), args.listen, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
