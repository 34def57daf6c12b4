"""What Python's ssl cannot see of a server's TLS, asked with sslyze (the optional extra
`mailwizard[audit]`, the library internet.nl's own scans are built on): SSL 2 and 3, the key
exchange groups, compression, secure renegotiation and the extended master secret.

sslyze opens its own connections, so it runs where the audit's vantage point is: this module is
also a small program, started as `ip netns exec NS python -m wizard.audit.deep_tls HOST PORT KIND
HELO TIMEOUT [ADDRESS]`, that prints what it found as one line of JSON. It only reads."""

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


def scan(host: str, port: int, kind: str, helo: str, timeout: float, address: str = "") -> dict:
    """sslyze's findings for one port ("smtp", "imap" or "implicit"); {"error": ...} when it
    could not connect."""
    from sslyze import (ProtocolWithOpportunisticTlsEnum, ScanCommand, Scanner, ServerNetworkConfiguration,
                        ServerNetworkLocation, ServerScanRequest, ServerScanStatusEnum)

    starttls = {"smtp": ProtocolWithOpportunisticTlsEnum.SMTP, "imap": ProtocolWithOpportunisticTlsEnum.IMAP}.get(kind)
    config = ServerNetworkConfiguration(tls_server_name_indication=host, tls_opportunistic_encryption=starttls,
                                        smtp_ehlo_hostname=(helo or None) if kind == "smtp" else None,
                                        network_timeout=max(1, int(timeout)),
                                        network_max_retries=1)
    commands = {ScanCommand.SSL_2_0_CIPHER_SUITES, ScanCommand.SSL_3_0_CIPHER_SUITES, ScanCommand.ELLIPTIC_CURVES,
                ScanCommand.TLS_COMPRESSION, ScanCommand.SESSION_RENEGOTIATION, ScanCommand.TLS_EXTENDED_MASTER_SECRET}
    scanner = Scanner(per_server_concurrent_connections_limit=4)
    scanner.queue_scans([ServerScanRequest(ServerNetworkLocation(host, port, ip_address=address or None), config, scan_commands=commands)])
    for result in scanner.get_results():
        if result.scan_status != ServerScanStatusEnum.COMPLETED:
            return {"error": str(result.connectivity_error_trace or result.scan_status.name).strip().splitlines()[-1]}
        found, errors = {}, []

        def take(name, attempt, read):
            if attempt.result is None:
                errors.append(f"{name}: {attempt.error_reason.name if attempt.error_reason else 'no result'}")
            else:
                found[name] = read(attempt.result)

        outcome = result.scan_result
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
    return {"error": "sslyze returned no result"}


def scan_from(via: str, host: str, port: int, kind: str, helo: str, timeout: float, address: str = "") -> dict:
    """`scan`, run at the vantage point: in this process for this box, in a child process inside
    a network namespace; an ssh vantage point cannot run it ({"error": ...})."""
    if via in ("", "local"):
        return scan(host, port, kind, helo, timeout, address)
    if not via.startswith("netns:"):
        return {"error": f"sslyze opens its own connections and cannot run through {via}"}
    argv = ["ip", "netns", "exec", via.split(":", 1)[1], sys.executable, "-m", "wizard.audit.deep_tls",
            host, str(port), kind, helo, f"{timeout:g}", address]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20 * timeout + 30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"error": f"sslyze did not finish ({exc})"}
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": (done.stderr.strip().splitlines() or ["sslyze said nothing"])[-1]}


def main(argv: list[str]) -> int:
    host, port, kind, helo, timeout = argv[0], int(argv[1]), argv[2], argv[3], float(argv[4])
    address = argv[5] if len(argv) > 5 else ""
    try:
        found = scan(host, port, kind, helo, timeout, address)
    except Exception as exc:        # reported as the row's error, never a traceback on screen
        found = {"error": f"sslyze failed: {exc!r}"}
    print(json.dumps(found))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
