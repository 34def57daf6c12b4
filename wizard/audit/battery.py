"""The whole battery at once: every check runs in its own thread, each network wait bounded by the
target's timeout, and the audit as a whole by a deadline, so a dead DNS server or a silent port
costs about one timeout, not one per check. It only reads and sends probes; it changes nothing."""

from __future__ import annotations

import threading
import time
from typing import Callable

from wizard.audit import dns as names, smtp, tls
from wizard.audit.model import AUDIT_ERROR, REQUIRED, Audit, Row, Target, untested
from wizard.statuses import RECOMMENDED

# How many timeouts one check may take in all (a TLS port makes about a dozen handshakes).
JOB_BUDGET = 6
OUTSIDE_ONLY = ("is about what a stranger may do: from this box, the server trusts its own address "
                "(mynetworks). Audit from outside: --lab, or [external] vantage in the answers")


def target_from_values(values: dict[str, str], lab: bool, timeout: float, domain: str = "",
                       host: str = "") -> Target:
    """The walk's server, seen from the walk's vantage point."""
    own = not domain or domain == values.get("maildomain")
    via = values.get("vantage") or "none"
    return Target(
        domain=domain or values.get("maildomain", ""),
        host=host or values.get("fqdn", ""),
        via="local" if via in ("none", "manual") else via,
        helo=values.get("exthost") or values.get("fqdn", ""),
        # An address of its own at the outside domain, so `why bob@...` still finds bob's mail.
        sender=f"mailwizard-audit@{values.get('extdomain') or 'example.net'}",
        user=values.get("mailuser_address", "") if own else "",
        ssh_config=values.get("ssh_config", ""),
        selector=values.get("dkim_selector", "") if own else "",
        maildirs=f"/var/vmail/{values.get('maildomain', '')}" if own and values.get("maildomain") else "",
        trust="" if values.get("tls_root") in (None, "", "untrusted") else values["tls_root"],
        blocklists=tuple(z for z in values.get("blocklists", "").split() if z != "-"),
        auth_on_25=values.get("auth_on_25", "yes"),
        lab=lab,
        timeout=timeout,
    )


def checks(target: Target, addresses: list[str], greeting: str, deep: bool = True,
           only: tuple[str, ...] = ()) -> tuple[dict[str, Callable[[], list[Row]]], dict[str, Callable[[], list[Row]]]]:
    """Every check of the battery by name: (the ones only a stranger can make, all the others)."""
    server_address = next((a for a in addresses if ":" not in a), target.host)
    # sslyze scans the ports the audit asks about, all in one go.
    scan = tls.DeepScan(target, [port for port in tls.PORTS if not only or f"tls-{port}" in only]) \
        if deep and tls.deep_tls.available() else None
    local = {
        "ptr": lambda: names.ptr_rows(target, addresses, greeting),
        "spf": lambda: [names.spf_row(target, addresses)],
        "dkim": lambda: names.dkim_rows(target),
        "dmarc": lambda: [names.dmarc_row(target)],
        "policy-records": lambda: names.later_rows(target),
        "blocklists": lambda: names.blocklist_rows(target, addresses),
        "banner": lambda: [smtp.banner_row(target)],
        "vrfy-25": lambda: [smtp.vrfy_row(target, 25)],
        "vrfy-587": lambda: [smtp.vrfy_row(target, 587)],
        **{f"tls-{port}": (lambda port=port: tls.port_rows(target, port, scan)) for port in tls.PORTS},
    }
    outside = {
        "relay-25": lambda: [smtp.relay_row(target, 25, server_address)],
        "relay-587": lambda: [smtp.relay_row(target, 587, server_address)],
        "relay-465": lambda: [smtp.relay_row(target, 465, server_address)],
        "postmaster": lambda: [smtp.admin_addresses_row(target)],
        "unknown-recipient": lambda: [smtp.unknown_recipient_row(target)],
        "auth-before-tls": lambda: smtp.auth_rows(target),
        "smuggling": lambda: [smtp.smuggling_row(target)],
    }
    return outside, local


CONNECTING = {"banner", "vrfy-25", "vrfy-587", "relay-25", "relay-587", "relay-465", "postmaster",
              "unknown-recipient", "auth-before-tls", "smuggling", *(f"tls-{port}" for port in tls.PORTS)}


def _no_address(name: str, target: Target) -> Callable[[], list[Row]]:
    category = "transport" if name.startswith("tls-") else "exposure"
    return lambda: [Row(name, category, name, REQUIRED, AUDIT_ERROR,
                        f"not tried: {target.host} has no address in DNS (see the mx rows), so there is "
                        "nothing to connect to")]


def _greeting(target: Target) -> tuple[str, list[str]]:
    addresses = lookup_address(target)
    return smtp.greeting_name(with_address(target, addresses)) if addresses else ("", [])


def lookup_address(target: Target) -> list[str]:
    from wizard.resolver import lookup

    return lookup(target.host, "A", target.timeout).records


def with_address(target: Target, addresses: list[str]) -> Target:
    """Connections go to the address DNS gave once (a dead DNS then costs one timeout, not one
    per connection); without one, to the name, as a client would try."""
    from dataclasses import replace

    address = next((a for a in addresses if ":" not in a), "")
    return replace(target, address=address) if address else target


def run_check(target: Target, name: str) -> list[Row]:
    """One check of the battery (a chapter's probe): its rows, without sslyze's (a chapter's
    probe names the rows it proves; the audit shows the rest)."""
    addresses = lookup_address(target)
    target = with_address(target, addresses)
    outside, local = checks(target, addresses, "", deep=False)
    found = {**outside, **local}.get(name)
    if found is None:
        raise ValueError(f"the audit has no check '{name}' (known: {', '.join(sorted({**outside, **local}))})")
    return _run_jobs(target, {name: found})[name]


def check_names() -> list[str]:
    """The names `--check` takes: the battery's checks, and the two every audit starts with."""
    outside, local = checks(Target("", ""), [], "")
    return ["mx", "greeting", *local, *outside]


def run_audit(target: Target, on_row: Callable[[Row], None] | None = None,
              only: tuple[str, ...] = ()) -> Audit:
    """The whole battery, or the checks named in `only` (MX and the greeting are always asked:
    the other checks need the server's addresses and name)."""
    import dns.resolver  # noqa: F401  -- once, here: threads importing it at once cost a timeout

    audit = Audit(target)
    started = time.monotonic()
    first = _run_jobs(target, {"mx": lambda: names.mx_rows(target), "greeting": lambda: _greeting(target)})
    mx_rows, addresses = first["mx"] if isinstance(first["mx"], tuple) else (first["mx"], [])
    greeting = first["greeting"][0] if isinstance(first["greeting"], tuple) else ""
    _emit(audit, mx_rows, on_row)
    if isinstance(first["greeting"], list):
        _emit(audit, first["greeting"], on_row)
    target = with_address(target, addresses)
    outside, jobs = checks(target, addresses, greeting, only=only)
    if target.outside:
        jobs.update(outside)
    if not addresses:
        # DNS gave no address for the server: nothing to connect to, and no connection should wait
        # on a dead DNS server again.
        jobs.update({name: _no_address(name, target) for name in jobs if name in CONNECTING})
    if only:
        jobs = {name: job for name, job in jobs.items() if name in only}
        outside = {name: job for name, job in outside.items() if name in only}
    results = _run_jobs(target, jobs)
    for name, rows in results.items():
        _emit(audit, rows, on_row)
    if not target.outside:
        _emit(audit, [untested(f"{name}", "exposure", f"{name} from outside", REQUIRED, OUTSIDE_ONLY)
                      for name in outside], on_row)
    if not only or any(name.startswith("tls-") for name in only):
        _emit(audit, [untested("tls-kex-hash", "transport", "the hash of TLS 1.2's key exchange signature",
                               REQUIRED, "not tested: neither Python's ssl nor sslyze reports it (internet.nl "
                               "probes it with a client of its own); OpenSSL 3 servers sign with SHA-2")], on_row)
    audit.tls_engine = "Python's ssl" + (" and sslyze" if tls.deep_tls.available() else " (sslyze not installed)")
    audit.seconds = time.monotonic() - started
    return audit


def _emit(audit: Audit, rows: list[Row], on_row) -> None:
    for row in rows:
        audit.rows.append(row)
        if on_row:
            on_row(row)


def _run_jobs(target: Target, jobs: dict[str, Callable]) -> dict[str, object]:
    """Every job in its own daemon thread (a job stuck behind a silent peer must not keep the
    process alive); a job that raises or overruns becomes an error row named after it."""
    slots: dict[str, object] = {}

    def work(name: str, job: Callable) -> None:
        try:
            slots[name] = job()
        except Exception as exc:        # reported as the check's row, never a traceback
            slots[name] = [Row(name, "exposure", name, RECOMMENDED, AUDIT_ERROR, f"the check itself failed: {exc!r}")]

    threads = [threading.Thread(target=work, args=item, daemon=True) for item in jobs.items()]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + JOB_BUDGET * target.timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    for name in jobs:
        if name not in slots:
            slots[name] = [Row(name, "exposure", name, RECOMMENDED, AUDIT_ERROR,
                               f"no result within {JOB_BUDGET * target.timeout:g} s: a peer that does not answer")]
    return {name: slots[name] for name in jobs}
