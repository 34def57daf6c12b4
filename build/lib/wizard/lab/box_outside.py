"""An outside on this very box: a network namespace of the wizard's own, joined to the box by a
veth pair, as the client for the "from outside" probes when the answers name no other host
(`vantage = "box"`).

The tutorial types those sessions on a second machine. A first-time admin with one server has
none, but what most of them prove only needs a client that is not the server itself: an address
outside `mynetworks` (Postfix trusts only the box's own addresses) and not local to Dovecot. The
namespace gives exactly that. It has no name in public DNS and the internet cannot reach it, so
what needs those (a client with a proper reverse name, mail arriving from the internet) is said
and not counted as met. It is made when the first probe needs it and removed when the walk ends
and by `reset`. Its addresses are from TEST-NET-2 (RFC 5737), which nobody routes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from wizard.system import System

NAME = "mwoutside"                  # the network namespace
BOX_LINK = "mwout0"                 # the box's end of the veth pair (an interface name: ≤ 15)
BOX_ADDRESS = "198.51.100.1"        # this server, as the outside reaches it
OUTSIDE_ADDRESS = "198.51.100.2"    # the simulated stranger
PREFIX = 30
NETNS_ETC = Path("/etc/netns")
ETC = NETNS_ETC / NAME              # `ip netns exec` puts these files over /etc inside
MADE_NETNS_ETC = ETC / ".made-etc-netns"

# What an outside simulated here cannot show, and says instead of a refusal that is not the lesson.
NAMELESS_REFUSALS = ("cannot find your hostname", "Helo command rejected: Host not found",
                     "cannot find your reverse hostname")
NAMELESS_REASON = ("the outside simulated on this box has no name in public DNS, and Postfix's "
                   "restrictions (reject_unknown_client_hostname, reject_unknown_helo_hostname) refuse "
                   "such a client before the lesson's answer; a stranger with a proper reverse DNS name "
                   "(a second machine, or the lab: --lab) shows it. Not counted as met")


def vantage() -> str:
    return f"netns:{NAME}"


def describe() -> str:
    return (f"the outside is simulated on this box: network namespace {NAME} ({OUTSIDE_ADDRESS}), "
            f"which reaches this server at {BOX_ADDRESS}")


class BoxOutside:
    def __init__(self, system: System):
        self.system = system

    def is_up(self) -> bool:
        listed = self.system.query(["ip", "netns", "list"]).stdout.split()
        return NAME in listed

    def up(self, fqdn: str) -> str:
        """Make the namespace and its link (idempotent); a problem sentence, or ""."""
        if self.is_up():
            return ""
        made_etc = not NETNS_ETC.exists()
        for argv in (["ip", "netns", "add", NAME],
                     ["ip", "link", "add", BOX_LINK, "type", "veth", "peer", "name", "eth0", "netns", NAME],
                     ["ip", "addr", "add", f"{BOX_ADDRESS}/{PREFIX}", "dev", BOX_LINK],
                     ["ip", "link", "set", BOX_LINK, "up"],
                     ["ip", "-n", NAME, "addr", "add", f"{OUTSIDE_ADDRESS}/{PREFIX}", "dev", "eth0"],
                     ["ip", "-n", NAME, "link", "set", "eth0", "up"],
                     ["ip", "-n", NAME, "link", "set", "lo", "up"]):
            done = self.system.run(argv)
            if not done.ok:
                self.down()
                return f"the outside on this box could not be made ({' '.join(argv)}: {done.describe()[-200:]})"
        ETC.mkdir(parents=True, exist_ok=True)
        if made_etc:
            MADE_NETNS_ETC.write_text("")
        # The server by its name, and no resolver: nothing asked from inside leaves the box.
        self.system.write_file(str(ETC / "hosts"), f"127.0.0.1 localhost\n{BOX_ADDRESS} {fqdn}\n")
        self.system.write_file(str(ETC / "resolv.conf"),
                               "# the outside simulated by mailwizard on this box asks no DNS\n"
                               "nameserver 127.0.0.1\n")
        return ""

    def down(self) -> bool:
        """Remove the namespace, its link and files; whether there was anything to remove."""
        was_up = self.is_up()
        if was_up:
            self.system.run(["ip", "netns", "del", NAME])       # takes the veth pair with it
        if self.system.query(["ip", "link", "show", BOX_LINK]).ok:
            self.system.run(["ip", "link", "del", BOX_LINK])
        made_etc = MADE_NETNS_ETC.exists()
        if ETC.exists():
            shutil.rmtree(ETC, ignore_errors=True)
            was_up = True
        if made_etc and NETNS_ETC.is_dir() and not any(NETNS_ETC.iterdir()):
            NETNS_ETC.rmdir()
        return was_up
