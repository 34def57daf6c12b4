"""The lab's ACME CA: Debian's pebble in the outside namespace, as Let's Encrypt is on the internet.

It validates HTTP-01 for real: it looks the mail host up in the lab's DNS and fetches the
challenge from port 80 there. Its HTTPS listener gets a certificate made here (Debian ships
none), which certbot in the lab is told to trust; the root it issues under is made anew at each
start, fetched from its management port into the lab's run directory, and trusted by the lab's
probes only — never by the host.

    python -m wizard.lab.acme --dir DIR --listen ADDRESS --dns ADDRESS --name NAME

runs pebble with its output in DIR/pebble.log, prints "ready" once the directory answers and
the root is in DIR/root.pem, and ends pebble when it is ended.
"""

from __future__ import annotations

import argparse
import json
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

DIRECTORY_PORT, MANAGEMENT_PORT = 14000, 15000
VALIDITY_DAYS = 45          # the lifetime Let's Encrypt is moving to
START_TIMEOUT = 15.0


def self_signed(cert: Path, key: Path, name: str, address: str, subject: str) -> tuple[Path, Path]:
    """A certificate for a lab service's own listener (made once; the key readable by root alone)."""
    if not cert.exists():
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                        "-subj", f"/CN={subject}", "-keyout", str(key), "-out", str(cert),
                        "-addext", f"subjectAltName=DNS:{name},IP:{address}"],
                       check=True, capture_output=True, timeout=60)
        key.chmod(0o600)
    return cert, key


def listener_files(acme_dir: Path, name: str, address: str) -> tuple[Path, Path]:
    """The certificate and key of pebble's own HTTPS listener (what certbot is told to trust)."""
    return self_signed(acme_dir / "listener.pem", acme_dir / "listener.key", name, address,
                       "mailwizard lab ACME listener")


def write_config(acme_dir: Path, name: str, address: str) -> Path:
    cert, key = listener_files(acme_dir, name, address)
    config = acme_dir / "pebble.json"
    config.write_text(json.dumps({"pebble": {
        "listenAddress": f"{address}:{DIRECTORY_PORT}",
        "managementListenAddress": f"{address}:{MANAGEMENT_PORT}",
        "certificate": str(cert), "privateKey": str(key),
        "httpPort": 80, "tlsPort": 5001,            # HTTP-01 against the mail host's real port 80
        "ocspResponderURL": "", "externalAccountBindingRequired": False,
        "certificateValidityPeriod": VALIDITY_DAYS * 86400,
    }}, indent=1))
    return config


def fetch_root(acme_dir: Path, address: str, deadline: float) -> bytes:
    """The root pebble issues under, from its management port (bounded by `deadline`)."""
    context = ssl.create_default_context(cafile=str(acme_dir / "listener.pem"))
    context.check_hostname = False      # the listener is reached by address here
    last = ""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"https://{address}:{MANAGEMENT_PORT}/roots/0",
                                        context=context, timeout=2) as answer:
                return answer.read()
        except OSError as exc:
            last = str(exc)
            time.sleep(0.1)
    raise TimeoutError(f"pebble gave no root within {START_TIMEOUT:g} s ({last})")


def serve(acme_dir: Path, address: str, dns: str, name: str) -> int:
    config = write_config(acme_dir, name, address)
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
           "PEBBLE_VA_NOSLEEP": "1",        # no random delay before it validates
           "PEBBLE_WFE_NONCEREJECT": "0",   # no made-up bad nonces
           "PEBBLE_AUTHZREUSE": "0"}        # every order is validated afresh (a test of port 80 means it)
    with open(acme_dir / "pebble.log", "ab") as log:
        pebble = subprocess.Popen(["pebble", "-config", str(config), "-dnsserver", f"{dns}:53"],
                                  stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
    signal.signal(signal.SIGTERM, lambda *_: pebble.terminate())
    try:
        root = fetch_root(acme_dir, address, time.monotonic() + START_TIMEOUT)
    except TimeoutError as exc:
        pebble.kill()
        print(exc, file=sys.stderr)
        return 1
    (acme_dir / "root.pem").write_bytes(root)
    print("ready", flush=True)
    sys.stdout.close()
    return pebble.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wizard.lab.acme")
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--listen", required=True)
    parser.add_argument("--dns", required=True)
    parser.add_argument("--name", required=True)
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    return serve(args.dir, args.listen, args.dns, args.name)


if __name__ == "__main__":
    sys.exit(main())
