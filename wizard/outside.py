"""The outside host's real name, learned from the vantage point.

The probes from outside greet with the outside host's name, and a server with
`reject_unknown_helo_hostname` refuses a name that does not resolve. A real outside machine has
its own name, so rather than guess it the wizard asks the network: it opens a listener on this
box, connects to it from the vantage point, and takes the address this box sees (NAT included);
that address's reverse DNS, confirmed forward, is the name a server here judges the outside by.
"""

from __future__ import annotations

import secrets
import socket
import time
from dataclasses import dataclass

from wizard.resolver import lookup, reverse_name


@dataclass(frozen=True)
class OutsideName:
    name: str               # "" when no name could be learned
    address: str            # what this box sees the vantage point as ("" when it was not reached)
    proper: bool            # a PTR record whose name resolves back to `address`
    found: str              # what was seen, in words

    def to_record(self) -> dict:
        return {"name": self.name, "address": self.address, "proper": self.proper, "found": self.found}


def learnable(vantage: str) -> bool:
    """Only a vantage point the wizard can reach by itself (a namespace, ssh) can be asked."""
    return vantage.startswith(("netns:", "ssh:"))


def seen_address(vantage: str, server: str, timeout: float, ssh_config: str = "") -> tuple[str, str]:
    """The address this box sees when the vantage point connects to `server` (one of this box's
    addresses): (address, "") or ("", why not)."""
    from wizard.net.dialogue import DialogueError, open_channel

    family = socket.AF_INET6 if ":" in server else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Every address of this box: behind a NAT that forwards all ports, the connection to
        # the public address arrives on a private one.
        listener.bind(("::" if family == socket.AF_INET6 else "", 0))
        listener.listen(4)
        port = listener.getsockname()[1]
        try:
            channel = open_channel(server, port, timeout, vantage, ssh_config)
        except DialogueError as exc:
            return "", f"{vantage} could not connect here ({exc})"
        try:
            return _accept_ours(listener, channel, time.monotonic() + timeout), ""
        except (TimeoutError, OSError):
            return "", (f"no connection from {vantage} reached {server}:{port} within {timeout:g} s "
                        "(a firewall, or a NAT that forwards only the mail ports)")
        finally:
            channel.close()


def _accept_ours(listener: socket.socket, channel: socket.socket, deadline: float) -> str:
    """The peer address of the connection our channel made: it must carry the token we send
    through the channel (anybody else who connects meanwhile is turned away)."""
    token = secrets.token_hex(8).encode()
    channel.sendall(token)
    while True:
        listener.settimeout(max(0.01, deadline - time.monotonic()))
        peer, (address, *_) = listener.accept()
        with peer:
            peer.settimeout(max(0.01, deadline - time.monotonic()))
            got = b""
            while len(got) < len(token):
                chunk = peer.recv(len(token) - len(got))
                if not chunk:
                    break
                got += chunk
            if got == token:
                return address


def learn(vantage: str, server_name: str, timeout: float, ssh_config: str = "") -> OutsideName:
    """The outside host's name as this box's DNS gives it, and whether it is proper."""
    if not learnable(vantage):
        return OutsideName("", "", False, f"the vantage point '{vantage}' cannot be asked for its address")
    server = lookup(server_name, "A", timeout)
    if not server.records:
        return OutsideName("", "", False, f"{server_name} has no address to be reached at: {server.problem}")
    try:
        address, why = seen_address(vantage, server.records[0], timeout, ssh_config)
    except OSError as exc:
        return OutsideName("", "", False, f"cannot listen on {server.records[0]} ({exc.strerror or exc})")
    if not address:
        return OutsideName("", "", False, why)
    return judge(address, timeout)


def judge(address: str, timeout: float) -> OutsideName:
    """The name of `address` by its PTR record, and whether that name's A record agrees."""
    ptr = lookup(reverse_name(address), "PTR", timeout)
    if not ptr.records:
        return OutsideName("", address, False, f"{address} has no PTR record ({ptr.problem})")
    name = ptr.records[0]
    forward = lookup(name, "A", timeout)
    if address not in forward.records:
        back = ", ".join(forward.records) or forward.problem
        return OutsideName(name, address, False, f"{address} is {name} by its PTR, but {name} is {back}")
    return OutsideName(name, address, True, f"{address} is {name}: PTR and A agree")
