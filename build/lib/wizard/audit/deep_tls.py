"""What Python's ssl cannot see of a server's TLS, asked with sslyze (the optional extra
`mailwizard[audit]`, the library internet.nl's own scans are built on): SSL 2 and 3, the key
exchange groups, compression, secure renegotiation and the extended master secret.

sslyze opens its own connections, so it runs where the audit's vantage point is: this module is
also a small program, started as `ip netns exec NS python -m wizard.audit.deep_tls HOST PORT:KIND,... HELO
TIMEOUT [ADDRESS]`, that prints what it found as one line of JSON. It only reads."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

# The groups internet.nl's mail test calls insufficient or phase-out (ffdhe is not an EC curve).
WEAK_GROUPS = {"secp224r1": "phase-out", "secp192r1": "insufficient", "prime192v1": "insufficient",
               "secp160r1": "insufficient", "secp160r2": "insufficient", "secp160k1": "insufficient",
               "sect163k1": "insufficient", "sect163r2": "insufficient", "sect233k1": "insufficient",
               "sect233r1": "insufficient"}


def available() -> bool:
    """sslyze is installed in this interpreter (the extra)."""
    return importlib.util.find_spec("sslyze") is not None


def scan(host: str, ports: dict[int, str], helo: str, timeout: float, address: str = "") -> dict[int, dict]:
    """sslyze's findings for each port (its kind: "smtp", "imap" or "implicit"), all in one
    scanner; a port it could not connect to gets {"error": ...}."""
    from sslyze import (ProtocolWithOpportunisticTlsEnum, ScanCommand, Scanner, ServerNetworkConfiguration,
                        ServerNetworkLocation, ServerScanRequest, ServerScanStatusEnum)

    commands = {ScanCommand.SSL_2_0_CIPHER_SUITES, ScanCommand.SSL_3_0_CIPHER_SUITES, ScanCommand.ELLIPTIC_CURVES,
                ScanCommand.TLS_COMPRESSION, ScanCommand.SESSION_RENEGOTIATION, ScanCommand.TLS_EXTENDED_MASTER_SECRET}
    requests, pending = {}, []
    for port, kind in ports.items():
        starttls = {"smtp": ProtocolWithOpportunisticTlsEnum.SMTP,
                    "imap": ProtocolWithOpportunisticTlsEnum.IMAP}.get(kind)
        config = ServerNetworkConfiguration(tls_server_name_indication=host, tls_opportunistic_encryption=starttls,
                                            smtp_ehlo_hostname=(helo or None) if kind == "smtp" else None,
                                            network_timeout=max(1, int(timeout)), network_max_retries=1)
        request = ServerScanRequest(ServerNetworkLocation(host, port, ip_address=address or None), config,
                                    scan_commands=commands)
        requests[request.uuid] = port
        pending.append(request)
    scanner = Scanner(per_server_concurrent_connections_limit=4, concurrent_server_scans_limit=len(requests))
    scanner.queue_scans(list(pending))
    found_by_port = {}
    for result in scanner.get_results():
        port = requests[result.uuid]
        if result.scan_status != ServerScanStatusEnum.COMPLETED:
            reason = str(result.connectivity_error_trace or result.scan_status.name).strip().splitlines()
            found_by_port[port] = {"error": reason[-1] if reason else "no connection"}
            continue
        found_by_port[port] = _findings(result.scan_result)
    return found_by_port


def _findings(outcome) -> dict:
    found, errors = {}, []

    def take(name, attempt, read):
        if attempt.result is None:
            errors.append(f"{name}: {attempt.error_reason.name if attempt.error_reason else 'no result'}")
        else:
            found[name] = read(attempt.result)

    take("ssl2", outcome.ssl_2_0_cipher_suites, lambda r: [s.cipher_suite.name for s in r.accepted_cipher_suites])
    take("ssl3", outcome.ssl_3_0_cipher_suites, lambda r: [s.cipher_suite.name for s in r.accepted_cipher_suites])
    take("groups", outcome.elliptic_curves, lambda r: [c.name for c in (r.supported_curves or [])])
    take("compression", outcome.tls_compression, lambda r: r.supports_compression)
    take("secure_renegotiation", outcome.session_renegotiation, lambda r: r.supports_secure_renegotiation)
    take("client_renegotiation_dos", outcome.session_renegotiation,
         lambda r: r.is_vulnerable_to_client_renegotiation_dos)
    take("ems", outcome.tls_extended_master_secret, lambda r: r.supports_ems_extension)
    found["errors"] = errors
    return found


def scan_from(via: str, host: str, ports: dict[int, str], helo: str, timeout: float,
              address: str = "") -> dict[int, dict]:
    """`scan`, run at the vantage point: in this process for this box, in one child process inside
    a network namespace; an ssh vantage point cannot run it (every port gets {"error": ...})."""
    if via in ("", "local"):
        return _guarded(lambda: scan(host, ports, helo, timeout, address), ports)
    if not via.startswith("netns:"):
        return {port: {"error": f"sslyze opens its own connections and cannot run through {via}"} for port in ports}
    argv = ["ip", "netns", "exec", via.split(":", 1)[1], sys.executable, "-m", "wizard.audit.deep_tls",
            host, ",".join(f"{port}:{kind}" for port, kind in ports.items()), helo, f"{timeout:g}", address]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20 * timeout + 30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {port: {"error": f"sslyze did not finish ({exc})"} for port in ports}
    try:
        return {int(port): found for port, found in json.loads(done.stdout.strip().splitlines()[-1]).items()}
    except (ValueError, IndexError, AttributeError):
        said = (done.stderr.strip().splitlines() or ["sslyze said nothing"])[-1]
        return {port: {"error": said} for port in ports}


def _guarded(work, ports) -> dict[int, dict]:
    try:
        return work()
    except Exception as exc:        # reported as the rows' error, never a traceback on screen
        return {port: {"error": f"sslyze failed: {exc!r}"} for port in ports}


def main(argv: list[str]) -> int:
    host, helo, timeout = argv[0], argv[2], float(argv[3])
    ports = {int(port): kind for port, kind in (item.split(":") for item in argv[1].split(","))}
    address = argv[4] if len(argv) > 4 else ""
    print(json.dumps(_guarded(lambda: scan(host, ports, helo, timeout, address), ports)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
