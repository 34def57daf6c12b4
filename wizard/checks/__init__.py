"""Prerequisite checks. Each result says what was found, what was expected and the fix in one line.

Checks run concurrently, each bounded by one timeout (default 2 s): a dead or black-holed DNS
server costs about one timeout for the whole run, never one per check. DNS answers from the
system resolver are compared with the zone's own (authoritative) servers, so a stale cache is
told apart from a wrong record.

One module a kind of check: dns, ports, blocklists, certificates, files (and result, what
they come to); here, the table of them by name and the running of a step's requirements.
"""

from __future__ import annotations

import threading
import time

from wizard.model import Requirement
from wizard.system import System
from wizard.timeouts import DEFAULT_TIMEOUT

from wizard.checks.blocklists import check_blocklists, check_listed_client
from wizard.checks.certificates import check_http_01, check_renewal, check_served_certificate
from wizard.checks.dns import check_a_record, check_dns_record, check_domain_takes_mail, check_fcrdns, check_hostname, check_mx, check_mx_points_here, check_outside_name, check_ptr, check_static_address
from wizard.checks.files import check_command, check_owned_by, check_owner_only, check_private_file
from wizard.checks.ports import check_listening, check_outbound_25, check_port_owner, check_reachable, check_relay_host
from wizard.checks.result import CheckContext
from wizard.outcomes import CheckResult


CHECKS = {
    "outside-name": check_outside_name,
    "dns-record": check_dns_record,
    "owned-by": check_owned_by,
    "owner-only": check_owner_only,
    "private-file": check_private_file,
    "command": check_command,
    "a-record": check_a_record,
    "mx": check_mx,
    "ptr": check_ptr,
    "fcrdns": check_fcrdns,
    "hostname": check_hostname,
    "static-address": check_static_address,
    "port-owner": check_port_owner,
    "listening": check_listening,
    "outbound-25": check_outbound_25,
    "relay-host": check_relay_host,
    "blocklists": check_blocklists,
    "listed-client": check_listed_client,
    "reachable": check_reachable,
    "http-01": check_http_01,
    "renewal": check_renewal,
    "served-certificate": check_served_certificate,
    "mx-points-here": check_mx_points_here,
    "domain-takes-mail": check_domain_takes_mail,
}


def run_requirement(system: System, requirement: Requirement, values: dict[str, str],
                    timeout: float = DEFAULT_TIMEOUT) -> CheckResult:
    return run_requirements(system, [requirement], values, timeout)[0]


SETTLE_MARGIN = 0.5  # seconds a check may run past its timeout before it is given up on


def run_requirements(system: System, requirements: list[Requirement], values: dict[str, str],
                     timeout: float = DEFAULT_TIMEOUT) -> list[CheckResult]:
    """Every check at once; the whole run waits about one timeout at most, whatever DNS does.

    Daemon threads, not a pool: a check stuck behind a silent DNS server must not keep the
    process from exiting once its result has been given up on.
    """
    ctx = CheckContext(system, values, timeout)
    slots: list[CheckResult | BaseException | None] = [None] * len(requirements)

    def work(i: int, requirement: Requirement) -> None:
        try:
            slots[i] = CHECKS[requirement.check](ctx, *(a.format(**values) for a in requirement.args))
        except BaseException as exc:        # reported as the check's result, never a traceback
            slots[i] = exc

    import dns.resolver  # noqa: F401  -- once, here: thirty threads importing it at once cost a budget

    threads = [threading.Thread(target=work, args=(i, r), daemon=True) for i, r in enumerate(requirements)]
    for thread in threads:
        thread.start()
    # A lookup gives up at 0.9 of the timeout; the margin lets its check say why even when two
    # busy cores start thirty threads late, so a cut-off (named by its title) stays the exception.
    deadline = time.monotonic() + timeout + SETTLE_MARGIN
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [_settle(r, slot, values, timeout) for r, slot in zip(requirements, slots)]


def check_title(requirement: Requirement) -> str:
    """What a check is called before it has a result (the name its result would carry)."""
    if requirement.check == "dns-record":
        return f"{requirement.args[0]} {requirement.args[1]}"
    return " ".join([requirement.check, *requirement.args])


def _settle(requirement: Requirement, slot, values: dict[str, str], timeout: float) -> CheckResult:
    if isinstance(slot, CheckResult):
        result = slot
    elif isinstance(slot, BaseException):
        result = CheckResult(requirement.check, False, f"the check itself failed: {slot}", advisory=True)
    else:
        result = CheckResult(check_title(requirement).format(**values), False,
                             f"no result within {timeout:g} s", "an answer",
                             "a DNS server or a network peer does not answer: check /etc/resolv.conf "
                             "and the network", advisory=True)
    if requirement.advisory and not result.ok and not result.advisory:
        result = CheckResult(result.name, False, result.found, result.expected, result.fix, True)
    return result
