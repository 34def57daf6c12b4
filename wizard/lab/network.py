"""The lab: a small simulated internet in network namespaces, for a classroom or a laptop.

    NAME-mail  (MAILHOST: Postfix, Dovecot and the wizard run here)  mail_address
        │ veth pair, one private /24 that nothing routes
    NAME-ext   (EXTHOST: the lab's DNS server, EXTDOMAIN's mail server and the lab's ACME CA,
                acme.EXTDOMAIN)  ext_address, dns_address

Both namespaces get `/etc/netns/NS/resolv.conf` naming the lab DNS, which `ip netns exec`
mounts over /etc/resolv.conf for the processes inside; the host's own resolv.conf and routes are
never touched. Everything the lab made is listed in `/run/mailwizard-lab/NAME/lab.json`
*before* it is made, so `down` can remove it even after a crash half-way through `up`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from wizard.answers import Answers
from wizard.resolver import reverse_name
from wizard.system import System, SystemError_, crashpoint, pid_alive, read_pid

# The lab's own files are the host's, whatever box a walk is on (a sandbox's --root included):
# its namespaces, its run directory, its zone. Written through this one System, atomically.
HOST = System()

LAB_RUN = Path("/run/mailwizard-lab")
NETNS_ETC = Path("/etc/netns")
NETNS_RUN = Path("/run/netns")
LAB_ENV = "MAILWIZARD_LAB"
ADDRESS_KEYS = ("mail_address", "ext_address", "dns_address", "mail_address6", "ext_address6")


class LabError(Exception):
    """The lab cannot be built or used; the message says what to do. Nothing was changed."""


@dataclass(frozen=True)
class LabPlan:
    name: str
    mail_address: str
    ext_address: str
    dns_address: str
    maildomain: str
    fqdn: str
    extdomain: str
    exthost: str           # EXTHOST.EXTDOMAIN
    extuser: str
    mail_address6: str = ""     # "": a lab of IPv4 alone
    ext_address6: str = ""

    @classmethod
    def from_answers(cls, answers: Answers, built_name: str | None = None) -> "LabPlan":
        """`built_name`: the outside name the running lab was built with, when the caller has
        read it already (None: read here)."""
        lab = dict(answers.lab)
        # The outside host's name: the answers', or else the one the running lab was built
        # with (a walk that learns it must not rename the lab when it publishes records).
        if built_name is None and not answers.exthost:
            built_name = built_outside_name(lab["name"])
        exthost = (f"{answers.exthost}.{answers.extdomain}" if answers.exthost
                   else built_name or f"exthost.{answers.extdomain}")
        return cls(lab["name"], lab["mail_address"], lab["ext_address"], lab["dns_address"],
                   answers.maildomain, answers.fqdn, answers.extdomain, exthost, answers.extuser,
                   lab.get("mail_address6", ""), lab.get("ext_address6", ""))

    @property
    def outside_name_file(self) -> Path:
        return self.rundir / "outside-name"

    @property
    def mail_ns(self) -> str:
        return f"{self.name}-mail"

    @property
    def ext_ns(self) -> str:
        return f"{self.name}-ext"

    @property
    def veths(self) -> tuple[str, str]:
        return f"{self.name}-m", f"{self.name}-e"

    @property
    def rundir(self) -> Path:
        return LAB_RUN / self.name

    @property
    def zone_file(self) -> Path:
        return self.rundir / "zone.json"

    @property
    def maildir(self) -> Path:
        return self.rundir / "mail"

    @property
    def published_file(self) -> Path:
        """Records a walk (or a teacher) published into the lab's zone, as a registrar would."""
        return self.rundir / "published.json"

    @property
    def receiver_file(self) -> Path:
        """How the outside mail server judges mail: "lenient" (the tutorial's) or "strict"."""
        return self.rundir / "receiver"

    @property
    def ext_mailbox(self) -> Path:
        return self.maildir / f"{self.extuser}@{self.extdomain}"

    def addresses(self, side: str) -> str:
        """A side's addresses ("mail" or "ext"), IPv4 first, as `lab status` shows them."""
        four, six = ((self.mail_address, self.mail_address6) if side == "mail"
                     else (self.ext_address, self.ext_address6))
        return f"{four} {six}" if six else four

    def listen_args(self) -> list[str]:
        """`--listen ADDRESS` for each of the outside host's addresses (its servers take both)."""
        addresses = [self.ext_address] + ([self.ext_address6] if self.dual_stack else [])
        return [arg for address in addresses for arg in ("--listen", address)]

    @property
    def dual_stack(self) -> bool:
        return bool(self.mail_address6 and self.ext_address6)

    def family_domain(self, family: str) -> str:
        """A domain of the outside host's whose mail server has an address of one family
        alone: mail for it can only leave over that family (how a walk proves each)."""
        return f"ipv{family}only.{self.extdomain}"

    def family_mailbox(self, family: str) -> Path:
        return self.maildir / f"{self.extuser}@{self.family_domain(family)}"

    @property
    def relay_host(self) -> str:
        return f"relay.{self.extdomain}"

    @property
    def relay_account(self) -> Path:
        """The lab relay host's one account: the user on the first line, the password on the second."""
        return self.rundir / "relay-account"

    @property
    def blocklist(self) -> str:
        """The lab's DNS block list zone (RFC 5782), served by the lab's DNS."""
        return f"bl.{self.extdomain}"

    @property
    def blocklist_file(self) -> Path:
        """What the lab's block list lists, and whether it refuses to answer (as Spamhaus does)."""
        return self.rundir / "blocklist.json"

    def blocklist_state(self) -> dict:
        try:
            state = json.loads(self.blocklist_file.read_text())
            return {"listed": list(state["listed"]), "refuses": bool(state.get("refuses"))}
        except (OSError, ValueError, KeyError, TypeError):
            # A new lab lists its outside host's second address: a spammer to try from.
            return {"listed": [self.dns_address], "refuses": False}

    def blocklist_records(self) -> list[list[str]]:
        state = self.blocklist_state()
        def entry(address: str) -> str:
            return ".".join(reversed(address.split("."))) + "." + self.blocklist
        if state["refuses"]:    # every query answered with the "public resolver" error code
            asked = {"127.0.0.2", self.mail_address, self.ext_address, self.dns_address, *state["listed"]}
            return [[entry(a), "A", "127.255.255.254"] for a in sorted(asked)]
        rows = [[entry("127.0.0.2"), "A", "127.0.0.2"],
                [entry("127.0.0.2"), "TXT", '"the test entry every list has (RFC 5782)"']]
        for address in state["listed"]:     # TXT values as a zone file writes them: quoted
            rows += [[entry(address), "A", "127.0.0.2"],
                     [entry(address), "TXT", f'"listed by the mailwizard lab\'s block list '
                                             f'(mailwizard lab unlist {address})"']]
        return rows

    @property
    def acme_dir(self) -> Path:
        return self.rundir / "acme"

    @property
    def acme_host(self) -> str:
        return f"acme.{self.extdomain}"

    def acme_values(self) -> dict[str, str]:
        """The lab's CA as the certificate chapter needs it: its directory, the certificate its
        HTTPS listener has (for certbot) and the root it issues under (for the probes)."""
        from wizard.lab.acme import DIRECTORY_PORT

        return {"acme_server": f"https://{self.acme_host}:{DIRECTORY_PORT}/dir",
                "acme_trust": str(self.acme_dir / "listener.pem"),
                "tls_root": str(self.acme_dir / "root.pem")}

    def records(self) -> list[list[str]]:
        """DNS as a well-run domain has it: A, MX, PTR for both sides, NS for the zones."""
        ns = f"ns.{self.extdomain}"
        soa = f"{ns}. hostmaster.{self.extdomain}. 1 3600 600 86400 60"
        reverse_zone = reverse_name(self.mail_address).split(".", 1)[1]
        rows = [[ns, "A", self.dns_address], [reverse_name(self.dns_address), "PTR", f"{ns}."],
                [self.acme_host, "A", self.ext_address],
                [self.relay_host, "A", self.ext_address],
                [reverse_zone, "SOA", soa], [reverse_zone, "NS", f"{ns}."]]
        for domain, host, address in ((self.maildomain, self.fqdn, self.mail_address),
                                      (self.extdomain, self.exthost, self.ext_address)):
            rows += [[domain, "SOA", soa], [domain, "NS", f"{ns}."], [host, "A", address],
                     [domain, "MX", f"10 {host}."], [reverse_name(address), "PTR", f"{host}."]]
        return rows + self.ipv6_records(soa, ns) + self.blocklist_records()

    def ipv6_records(self, soa: str, ns: str) -> list[list[str]]:
        """AAAA and ip6.arpa PTR for both hosts, and the outside host's two one-family domains."""
        if not self.dual_stack:
            return []
        reverse_zone6 = reverse_name(self.mail_address6).split(".", 16)[16]     # the /64's zone
        rows = [[reverse_zone6, "SOA", soa], [reverse_zone6, "NS", f"{ns}."]]
        for host, address in ((self.fqdn, self.mail_address6), (self.exthost, self.ext_address6)):
            rows += [[host, "AAAA", address], [reverse_name(address), "PTR", f"{host}."]]
        # The relay host runs on the outside host: it sends from either of its addresses, and an
        # SPF `a:` for it must cover both.
        rows.append([self.relay_host, "AAAA", self.ext_address6])
        for family, rdtype, address in (("4", "A", self.ext_address), ("6", "AAAA", self.ext_address6)):
            domain, host = self.family_domain(family), f"mx{family}.{self.extdomain}"
            rows += [[domain, "MX", f"10 {host}."], [host, rdtype, address]]
        return rows

    def values(self) -> dict[str, str]:
        values = {"ext_mailbox": str(self.ext_mailbox), "mail_address": self.mail_address,
                  "ext_address": self.ext_address, "listed_client": self.dns_address,
                  "lab_dual_stack": "yes" if self.dual_stack else "no"}
        if self.dual_stack:
            values.update({"mail_address6": self.mail_address6, "ext_address6": self.ext_address6})
            for family in ("4", "6"):
                values[f"ext_only{family}_address"] = f"{self.extuser}@{self.family_domain(family)}"
                values[f"ext_only{family}_mailbox"] = str(self.family_mailbox(family))
        return values


def built_outside_name(name: str) -> str:
    try:
        return (LAB_RUN / name / "outside-name").read_text().strip()
    except OSError:
        return ""


def write_zone(plan: LabPlan, records=None, servfail=(), silent: bool = False) -> None:
    """(Re)write the lab's zone; the running DNS server picks the change up at its next query.
    Without `records`: the lab's own, and what was published on top of them."""
    if records is None:
        extra = published(plan)
        replaced = {(name.lower(), rdtype) for name, rdtype, _ in extra}
        records = [r for r in plan.records() if (r[0].lower(), r[1]) not in replaced] + extra
    data = {"records": records, "servfail": list(servfail), "silent": silent}
    HOST.write_file(plan.zone_file, json.dumps(data, indent=1))


def set_blocklist(plan: LabPlan, listed: list[str] | None = None, refuses: bool | None = None) -> None:
    """A teacher's hand on the lab's block list: who is listed, and whether it refuses to answer."""
    state = plan.blocklist_state()
    if listed is not None:
        state["listed"] = listed
    if refuses is not None:
        state["refuses"] = refuses
    HOST.write_file(plan.blocklist_file, json.dumps(state, indent=1))
    write_zone(plan)


def published(plan: LabPlan) -> list[list[str]]:
    try:
        return [list(row) for row in json.loads(plan.published_file.read_text())]
    except (OSError, ValueError):
        return []


def publish(plan: LabPlan, rows: list[list[str]]) -> None:
    """The lab's registrar: these records (name, type, zone-file value) are the published ones
    from now on, in place of the lab's own of the same name and type."""
    HOST.write_file(plan.published_file, json.dumps(rows, indent=1))
    write_zone(plan)


RECEIVER_MODES = ("lenient", "strict")


def receiver_mode(plan: LabPlan) -> str:
    try:
        mode = plan.receiver_file.read_text().strip()
    except OSError:
        return "lenient"
    return mode if mode in RECEIVER_MODES else "lenient"


def set_receiver(plan: LabPlan, mode: str) -> None:
    if mode not in RECEIVER_MODES:
        raise LabError(f"the outside mail server is {' or '.join(RECEIVER_MODES)}, not {mode!r}.")
    HOST.write_file(plan.receiver_file, mode + "\n")


class Lab:
    def __init__(self, system: System, plan: LabPlan):
        self.system = system
        self.plan = plan

    # ---- what exists ---------------------------------------------------------------------------
    @property
    def record_file(self) -> Path:
        return self.plan.rundir / "lab.json"

    def record(self) -> dict | None:
        try:
            return json.loads(self.record_file.read_text())
        except (OSError, ValueError):
            return None

    def _save(self, record: dict) -> None:
        self.system.write_file(self.record_file, json.dumps(record, indent=1))

    def namespaces(self) -> list[str]:
        return [ns for ns in (self.plan.mail_ns, self.plan.ext_ns) if (NETNS_RUN / ns).exists()]

    def is_up(self) -> bool:
        return self.record() is not None and not self.what_is_missing()

    def what_is_missing(self) -> str:
        """Why a recorded lab is not whole ("" when it is): what `lab up` then builds afresh."""
        record = self.record() or {}
        if not record.get("complete"):
            return "it was left half-built"
        built = record.get("plan", {})
        changed = [key for key in ADDRESS_KEYS if built.get(key, "") != getattr(self.plan, key)]
        if changed:     # a lab from before IPv6, or answers that now give other addresses
            return f"it was built with another {changed[0]} ({built.get(changed[0]) or 'none'})"
        gone = [ns for ns in (self.plan.mail_ns, self.plan.ext_ns) if ns not in self.namespaces()]
        if gone:
            return f"its namespace {gone[0]} is gone"
        stopped = [f"its {name} server (pid {pid})" for name, pid in record.get("pids", {}).items()
                   if not pid_alive(pid)]
        return f"{stopped[0]} has stopped" if stopped else ""

    # ---- up ------------------------------------------------------------------------------------
    def _preflight(self) -> None:
        if os.geteuid() != 0:
            raise LabError("the lab needs root (it creates network namespaces): run it with sudo.")
        if shutil.which("ip") is None:
            raise LabError("the `ip` command is missing: apt-get install iproute2, then try again.")
        taken = [ns for ns in self.namespaces()] if self.record() is None else []
        if taken:
            raise LabError(f"the network namespace {taken[0]} exists and was not made by this lab: "
                           f"choose another [lab] name in the answers, or remove it with "
                           f"`ip netns del {taken[0]}` if it is a leftover.")
        veths = [v for v in self.plan.veths if Path("/sys/class/net", v).exists()]
        if veths and self.record() is None:
            raise LabError(f"a network interface named {veths[0]} exists already: choose another "
                           "[lab] name in the answers.")

    def up(self) -> list[str]:
        """Build the lab (idempotent); returns what was done, one line each."""
        self._preflight()
        if self.is_up():
            return ["the lab is up already", self.start_acme()]
        done = []
        if self.record() is not None:
            # A half-built lab from a crash, or one whose part stopped: clear it, build afresh.
            done.append(f"the lab was not whole ({self.what_is_missing()}): taken down to be built afresh")
            self.down()
        plan = self.plan
        record = {"plan": asdict(plan), "complete": False, "pids": {},
                  "made_netns_etc": not NETNS_ETC.exists()}
        self._save(record)
        self._net(done)
        crashpoint("lab:network")
        for ns in (plan.mail_ns, plan.ext_ns):
            HOST.write_file(NETNS_ETC / ns / "resolv.conf",
                            f"# the mailwizard lab's DNS (written by `mailwizard lab up`)\nnameserver {plan.dns_address}\n")
        done.append(f"resolv.conf in both namespaces names the lab DNS at {plan.dns_address}")
        plan.maildir.mkdir(parents=True, exist_ok=True)
        HOST.write_file(plan.outside_name_file, plan.exthost + "\n")
        write_zone(plan)
        record["pids"]["dns"] = self._service("dns", ["wizard.lab.dnsserver", "--listen", plan.dns_address,
                                                      "--zone", str(plan.zone_file)])
        self._save(record)
        done.append(f"DNS for {plan.maildomain} and {plan.extdomain} "
                    f"({'A, AAAA' if plan.dual_stack else 'A'}, MX, PTR, NS) at {plan.dns_address}")
        record["pids"]["smtp"] = self._service("smtp", [
            "wizard.lab.sink", *plan.listen_args(), "--hostname", plan.exthost,
            "--domain", plan.extdomain, "--maildir", str(plan.maildir),
            "--receiver-file", str(plan.receiver_file)])
        self._save(record)
        done.append(f"{plan.exthost} ({plan.addresses('ext')}) takes mail for {plan.extdomain} "
                    + (f"(and for {plan.family_domain('4')} and {plan.family_domain('6')}, whose mail "
                       "servers have an address of one family alone) " if plan.dual_stack else "")
                    + f"into {plan.maildir}")
        record["pids"]["relay"] = self._service("relay", self._relay_args())
        self._save(record)
        done.append(f"relay host {plan.relay_host}:587 (STARTTLS and a login required; the account "
                    f"is in {plan.relay_account})")
        done.append(self.start_acme(record))
        record["complete"] = True
        self._save(record)
        return done

    def _relay_args(self) -> list[str]:
        """The relay host's account (made once per lab, readable by root alone) and certificate."""
        import secrets

        from wizard.lab.acme import self_signed

        plan = self.plan
        if not plan.relay_account.exists():
            HOST.write_file(plan.relay_account, f"mailwizard\n{secrets.token_urlsafe(12)}\n", mode=0o600)
        cert, key = self_signed(plan.rundir / "relay.pem", plan.rundir / "relay.key", plan.relay_host,
                                plan.ext_address, "mailwizard lab relay host")
        return ["wizard.lab.smarthost", *plan.listen_args(), "--hostname", plan.relay_host,
                "--cert", str(cert), "--key", str(key), "--account", str(plan.relay_account)]

    def start_acme(self, record: dict | None = None) -> str:
        """The lab's ACME CA (pebble), started if it is installed and not running; a lab without
        it still works, and says how to get it."""
        record = record if record is not None else (self.record() or {})
        plan = self.plan
        if shutil.which("pebble", path="/usr/sbin:/usr/bin:/sbin:/bin") is None:
            return ("no ACME CA in this lab: pebble is not installed (apt-get install pebble, "
                    "then `mailwizard lab down` and `lab up`); the certificate chapter needs it")
        if pid_alive(record.get("pids", {}).get("acme", 0)):
            return f"the lab's ACME CA runs already at {plan.acme_values()['acme_server']}"
        plan.acme_dir.mkdir(parents=True, exist_ok=True)
        argv = ["ip", "netns", "exec", plan.ext_ns, sys.executable, "-m", "wizard.lab.acme",
                "--dir", str(plan.acme_dir), "--listen", plan.ext_address, "--dns", plan.dns_address,
                "--name", plan.acme_host]
        try:
            record.setdefault("pids", {})["acme"] = self.system.spawn(argv, plan.rundir / "acme.log", timeout=25)
        except SystemError_ as exc:     # the rest of the lab stays usable
            return f"the lab's ACME CA did not start: {exc}"
        self._save(record)
        return (f"ACME CA (pebble) at {plan.acme_values()['acme_server']}, validating HTTP-01 on "
                f"{plan.fqdn}:80 through the lab DNS; its root (trusted inside the lab only) is "
                f"{plan.acme_dir / 'root.pem'}")

    def stop_acme(self) -> str:
        """Stop the lab's CA (a teacher's "the CA is down"; `lab up` starts it again)."""
        record = self.record() or {}
        pid = record.get("pids", {}).pop("acme", 0)
        if not pid_alive(pid):
            return "the lab's ACME CA was not running"
        _kill(pid)
        deadline = time.monotonic() + 5
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        self._save(record)
        return "stopped the lab's ACME CA (`mailwizard lab up` starts it again)"

    def _net(self, done: list[str]) -> None:
        plan = self.plan
        mail_veth, ext_veth = plan.veths
        commands = [
            ["ip", "netns", "add", plan.mail_ns],
            ["ip", "netns", "add", plan.ext_ns],
            ["ip", "link", "add", mail_veth, "netns", plan.mail_ns, "type", "veth",
             "peer", "name", ext_veth, "netns", plan.ext_ns],
            ["ip", "-n", plan.mail_ns, "link", "set", "lo", "up"],
            ["ip", "-n", plan.ext_ns, "link", "set", "lo", "up"],
            ["ip", "-n", plan.mail_ns, "addr", "add", f"{plan.mail_address}/24", "dev", mail_veth],
            ["ip", "-n", plan.ext_ns, "addr", "add", f"{plan.ext_address}/24", "dev", ext_veth],
            ["ip", "-n", plan.ext_ns, "addr", "add", f"{plan.dns_address}/24", "dev", ext_veth],
            ["ip", "-n", plan.mail_ns, "link", "set", mail_veth, "up"],
            ["ip", "-n", plan.ext_ns, "link", "set", ext_veth, "up"],
        ]
        if plan.dual_stack:
            # nodad: usable at once (duplicate detection would hold them back a second or two,
            # and nothing else on this wire could take them).
            commands[-2:-2] = [
                ["ip", "-n", plan.mail_ns, "addr", "add", f"{plan.mail_address6}/64", "dev", mail_veth, "nodad"],
                ["ip", "-n", plan.ext_ns, "addr", "add", f"{plan.ext_address6}/64", "dev", ext_veth, "nodad"]]
        for argv in commands:
            result = self.system.run(argv, timeout=20)
            if not result.ok:
                self.down()
                raise LabError(f"building the lab failed: {result.describe()}. "
                               "Everything made so far was removed.")
        done.append(f"namespaces {plan.mail_ns} ({plan.addresses('mail')}) and {plan.ext_ns} "
                    f"({plan.addresses('ext')}) joined by a veth pair")

    def _service(self, name: str, module_args: list[str], timeout: float = 10.0) -> int:
        argv = ["ip", "netns", "exec", self.plan.ext_ns, sys.executable, "-m", *module_args]
        try:
            return self.system.spawn(argv, self.plan.rundir / f"{name}.log", timeout=timeout)
        except SystemError_ as exc:
            self.down()
            raise LabError(f"the lab's {name} server did not start: {exc}. "
                           "Everything made so far was removed.") from None

    # ---- a teacher's hand on the CA and the firewall --------------------------------------------
    def renew(self) -> list[str]:
        """certbot's renewal, forced, inside the lab (as its timer would, trusting the lab's CA):
        its deploy hook is what must bring the new certificate to the daemons."""
        from wizard.acme import CERTBOT_TIMEOUT, certbot_env, renew_argv

        plan = self.plan
        trust = [f"{k}={v}" for k, v in (certbot_env(plan.acme_values()) or {}).items()]
        done = self.system.run(["ip", "netns", "exec", plan.mail_ns, "env", *trust,
                                *renew_argv({"fqdn": plan.fqdn})], timeout=CERTBOT_TIMEOUT)
        lines = [line for line in (done.stdout + done.stderr).splitlines()
                 if line.strip() and not line.startswith(("- -", " * ", "If you like"))]
        if not done.ok:
            raise LabError("the renewal failed: " + " ".join(lines[-4:]))
        return lines

    def block_port_80(self, blocked: bool) -> str:
        """A firewall on the way in: the outside's connections to port 80 are rejected."""
        self._firewall(self.plan.ext_ns, 80, blocked)
        return (f"port 80 of {self.plan.fqdn} is now closed to the outside (as a firewall would)" if blocked
                else f"port 80 of {self.plan.fqdn} is open to the outside again")

    def block_outbound_25(self, blocked: bool) -> str:
        """What many providers do: the mail server's own connections to port 25 elsewhere fail."""
        self._firewall(self.plan.mail_ns, 25, blocked)
        return (f"{self.plan.fqdn} can no longer reach port 25 of other servers (as many providers block it)"
                if blocked else f"{self.plan.fqdn} reaches port 25 of other servers again")

    def _firewall(self, ns: str, port: int, blocked: bool) -> None:
        """A rule in the namespace's own routing policy, one for each address family (policy
        rules are kept per family): its TCP connections to `port` are refused as unreachable
        (its loopback, looked up first, is not affected)."""
        rule = ["ipproto", "tcp", "dport", str(port), "unreachable"]
        for family in ("-4", "-6") if self.plan.dual_stack else ("-4",):
            there = f"dport {port} unreachable" in self.system.query(["ip", family, "-n", ns, "rule", "list"]).stdout
            if blocked and not there:
                self.system.run(["ip", family, "-n", ns, "rule", "add", *rule], timeout=10)
            elif not blocked and there:
                self.system.run(["ip", family, "-n", ns, "rule", "del", *rule], timeout=10)

    # ---- down ----------------------------------------------------------------------------------
    def down(self) -> list[str]:
        """Remove everything the lab made, whatever state it is in (idempotent)."""
        if os.geteuid() != 0:
            raise LabError("the lab needs root: run it with sudo.")
        record = self.record() or {}
        done = []
        for ns in self.namespaces():
            done += self._stop_everything_in(ns)
            self.system.run(["ip", "netns", "del", ns], timeout=20)
            done.append(f"removed namespace {ns}")
        for pid in record.get("pids", {}).values():
            _kill(pid)
        for ns in (self.plan.mail_ns, self.plan.ext_ns):
            shutil.rmtree(NETNS_ETC / ns, ignore_errors=True)
        if record.get("made_netns_etc") and NETNS_ETC.is_dir() and not any(NETNS_ETC.iterdir()):
            NETNS_ETC.rmdir()
        if self.plan.rundir.exists():
            shutil.rmtree(self.plan.rundir, ignore_errors=True)
            done.append(f"removed {self.plan.rundir}")
        if LAB_RUN.is_dir() and not any(LAB_RUN.iterdir()):
            LAB_RUN.rmdir()
        return done or ["nothing to remove: the lab was down"]

    def _stop_everything_in(self, ns: str) -> list[str]:
        """Postfix and Dovecot get their own stop; anything else in the namespace is ended."""
        done = []
        pids = self.pids_in(ns)
        for daemon, pidfile, stop in (("postfix", "/var/spool/postfix/pid/master.pid", ["postfix", "stop"]),
                                      ("dovecot", "/run/dovecot/master.pid", ["dovecot", "stop"])):
            pid = read_pid(pidfile)
            if pid and pid in pids:
                self.system.run(stop, timeout=30)
                done.append(f"stopped {daemon}, which ran inside the lab")
        for sig in (signal.SIGTERM, signal.SIGKILL):
            remaining = [pid for pid in self.pids_in(ns) if pid_alive(pid)]
            for pid in remaining:
                _kill(pid, sig)
            deadline = time.monotonic() + 3
            while remaining and time.monotonic() < deadline:
                remaining = [pid for pid in remaining if pid_alive(pid)]
                time.sleep(0.05)
        return done

    def pids_in(self, ns: str) -> set[int]:
        result = self.system.query(["ip", "netns", "pids", ns], timeout=10)
        return {int(p) for p in result.stdout.split() if p.isdigit()}

    # ---- status --------------------------------------------------------------------------------
    def status(self) -> list[str]:
        plan = self.plan
        record = self.record()
        if record is None and not self.namespaces():
            return [f"the lab '{plan.name}' is down (`mailwizard lab up` builds it)"]
        lines = [f"lab '{plan.name}': " + ("up" if self.is_up() else f"broken: {self.what_is_missing()} — `mailwizard lab up` builds it afresh")]
        for ns, side, role in ((plan.mail_ns, "mail", f"{plan.fqdn}, the mail server"),
                               (plan.ext_ns, "ext", f"{plan.exthost}, the outside")):
            present = "present" if (NETNS_RUN / ns).exists() else "MISSING"
            lines.append(f"  {ns:<14} {plan.addresses(side):<15} {role} — {present}")
        lines.append("  address families: " + ("IPv4 and IPv6 (the documentation prefixes, routed nowhere)"
                                               if plan.dual_stack else "IPv4 alone (no IPv6 in the [lab] answers)"))
        for name, pid in (record or {}).get("pids", {}).items():
            lines.append(f"  {name:<14} pid {pid:<11} {'running' if pid_alive(pid) else 'NOT RUNNING'}")
        for ns in self.namespaces():
            for daemon, pidfile in (("postfix", "/var/spool/postfix/pid/master.pid"),
                                    ("dovecot", "/run/dovecot/master.pid")):
                pid = read_pid(pidfile)
                if pid and pid in self.pids_in(ns):
                    lines.append(f"  {daemon} runs inside {ns}")
        if plan.relay_account.exists():
            user = plan.relay_account.read_text().splitlines()[0]
            lines.append(f"  relay host:    {plan.relay_host}:587, STARTTLS and a login (user {user}; "
                         f"the password is in {plan.relay_account})")
        if "acme" in (record or {}).get("pids", {}):
            lines.append(f"  ACME CA:       {plan.acme_values()['acme_server']} (pebble; its root, "
                         f"trusted in the lab only: {plan.acme_dir / 'root.pem'})")
        else:
            lines.append("  ACME CA:       not running (`mailwizard lab up` starts it; it needs Debian's pebble)")
        mode = receiver_mode(plan)
        lines.append(f"  outside mail server: {mode}" + (
            " (checks SPF, DKIM, DMARC and reverse DNS as the big providers do; refuses with 5.7.x)"
            if mode == "strict" else " (takes any mail for its domain, as in the tutorial)"))
        blocklist = plan.blocklist_state()
        lines.append(f"  block list:    {plan.blocklist} " + (
            "refuses to answer (127.255.255.254, as Spamhaus answers public resolvers)" if blocklist["refuses"]
            else "lists " + (", ".join(blocklist["listed"]) or "nobody")))
        extra = published(plan)
        if extra:
            lines.append(f"  published in the lab's DNS: " + ", ".join(f"{name} {rdtype}" for name, rdtype, _ in extra))
        if plan.maildir.is_dir():
            boxes = sorted(p.name for p in plan.maildir.iterdir())
            lines.append(f"  external mailboxes in {plan.maildir}: {', '.join(boxes) or 'none yet'}")
        return lines


def lab_we_are_in() -> dict[str, str] | None:
    """The [lab] settings of the lab whose mail namespace this process runs in, if any."""
    for record_file in sorted(LAB_RUN.glob("*/lab.json")):
        try:
            plan = json.loads(record_file.read_text())["plan"]
            if current_netns_is(f"{plan['name']}-mail"):
                return {"name": plan["name"], **{key: plan.get(key, "") for key in ADDRESS_KEYS}}
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return None


def current_netns_is(ns: str) -> bool:
    """True when this process runs inside the named network namespace."""
    try:
        return os.stat("/proc/self/ns/net").st_ino == os.stat(NETNS_RUN / ns).st_ino
    except OSError:
        return False


def _kill(pid: int, sig: int = signal.SIGTERM) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
