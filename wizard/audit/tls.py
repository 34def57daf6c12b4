"""TLS on the mail ports, graded as internet.nl grades it: which versions and which kinds of
cipher suite the server takes, whether it picks the better one itself, and its certificate.

Each question is one handshake from the audit's vantage point, offering only what is asked
about (Python's ssl on the box's OpenSSL). What this OpenSSL cannot offer — SSL 3, RC4, export
suites, compression — it cannot prove absent: such a row is `not_tested`, never `passed`.
"""

from __future__ import annotations

import re
import ssl
import threading
from dataclasses import dataclass

from wizard.audit import deep_tls
from wizard.audit.deep_tls import WEAK_GROUPS
from wizard.audit.model import REQUIRED, Row, Target, broken, judged, untested
from wizard.net.dialogue import Dialogue, DialogueError, Transcript, open_channel
from wizard.net.relay import PREFIX as RELAY_PREFIX
from wizard.statuses import RECOMMENDED

# How each port starts TLS: the protocol spoken before it, or TLS from the first byte.
PORTS = {25: "smtp", 587: "smtp", 465: "implicit", 143: "imap", 993: "implicit"}
CATEGORY = {25: "transport", 143: "transport", 993: "transport", 587: "submission", 465: "submission"}
# Port 25 is opportunistic: a sender turned away by a strict profile sends in clear instead, so
# what the guideline calls phase-out is a warning there and a failure on the ports for people.
OPPORTUNISTIC = {25}

VERSIONS = (("TLS 1.0", ssl.TLSVersion.TLSv1, "insufficient"), ("TLS 1.1", ssl.TLSVersion.TLSv1_1, "insufficient"),
            ("TLS 1.2", ssl.TLSVersion.TLSv1_2, "sufficient"), ("TLS 1.3", ssl.TLSVersion.TLSv1_3, "good"))

# TLS 1.2 suites by the guideline's classes, as OpenSSL cipher strings.
SUITE_CLASSES = (
    ("RSA key exchange (no forward secrecy)", "kRSA", "insufficient"),
    ("3DES, RC4, NULL or export suites", "3DES:RC4:NULL:EXP:eNULL", "insufficient"),
    ("DHE key exchange", "kDHE:kEDH", "phase-out"),
    ("CBC, CAMELLIA or ARIA with ECDHE", "kECDHE:!AESGCM:!CHACHA20:!AESCCM", "phase-out"),
    ("AES-GCM or ChaCha20 with ECDHE", "kECDHE+AESGCM:kECDHE+CHACHA20", "good"),
)
GOOD_SUITES = "kECDHE+AESGCM:kECDHE+CHACHA20"
PHASE_OUT_FIRST = "kECDHE:!AESGCM:!CHACHA20:!AESCCM:" + GOOD_SUITES


@dataclass(frozen=True)
class Handshake:
    ok: bool
    version: str = ""
    cipher: str = ""
    der: bytes = b""
    detail: str = ""            # why it failed
    closed: bool = False        # nothing listens on the port
    unreachable: bool = False   # the dialogue itself failed (a vantage point, a silent peer): no finding


class NoTls(DialogueError):
    """The server spoke, but offered or allowed no TLS: a finding about the server."""


def context(version: ssl.TLSVersion | None = None, ciphers: str = "") -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    if version is not None:
        ctx.minimum_version = ctx.maximum_version = version
    elif ciphers:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2    # the suites below are TLS 1.2's
    # Security level 0: this client must be able to *offer* what the server should refuse.
    ctx.set_ciphers((ciphers or "ALL:COMPLEMENTOFALL") + ":@SECLEVEL=0")
    return ctx


def can_offer(version: ssl.TLSVersion | None = None, ciphers: str = "") -> str:
    """"" when this box's OpenSSL can send such a hello, else why not (a hello made in memory)."""
    try:
        ctx = context(version, ciphers)
        hello = ctx.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="audit.invalid")
        hello.do_handshake()
    except ssl.SSLWantReadError:
        return ""
    except (ssl.SSLError, ValueError) as exc:
        return f"this box's OpenSSL cannot offer it ({getattr(exc, 'reason', None) or exc})"
    return ""


def handshake(target: Target, port: int, ctx: ssl.SSLContext, transcript: Transcript | None = None) -> Handshake:
    transcript = transcript or Transcript()
    try:
        channel = open_channel(target.connect_to, port, target.timeout, target.via, target.ssh_config)
    except DialogueError as exc:
        return Handshake(False, detail=str(exc), closed=True)
    with Dialogue(channel, transcript, target.timeout) as talk:
        try:
            _before_tls(talk, PORTS[port], target)
        except NoTls as exc:
            return Handshake(False, detail=str(exc))
        except DialogueError as exc:
            closed = "Connection refused" in str(exc)
            return Handshake(False, detail=str(exc), closed=closed, unreachable=not closed)
        try:
            talk.sock.settimeout(target.timeout)
            tls = ctx.wrap_socket(talk.sock, server_hostname=target.host)
        except (ssl.SSLError, OSError) as exc:
            return Handshake(False, detail=getattr(exc, "reason", None) or str(exc))
        talk.sock = tls
        cipher = tls.cipher()
        return Handshake(True, tls.version() or "", cipher[0] if cipher else "", tls.getpeercert(binary_form=True) or b"")


def _before_tls(talk: Dialogue, kind: str, target: Target) -> None:
    if kind == "smtp":
        greeting = talk.read_reply()
        if greeting.code != "220":
            raise DialogueError(f"the server greeted with {greeting.last}")
        talk.send(f"EHLO {target.helo}")
        ehlo = talk.read_reply()
        if not any(line.upper().startswith("STARTTLS") for line in ehlo.lines):
            raise NoTls("STARTTLS is not offered")
        talk.send("STARTTLS")
        if talk.read_reply().code != "220":
            raise NoTls("STARTTLS was refused")
    elif kind == "imap":
        talk.read_line(_deadline(talk))
        talk.send("a STARTTLS")
        while True:
            line = talk.read_line(_deadline(talk))
            if line.startswith("a "):
                if not line.startswith("a OK"):
                    raise NoTls(f"STARTTLS was refused: {line}")
                return


def _deadline(talk: Dialogue) -> float:
    import time

    return time.monotonic() + talk.timeout


# ---- the rows of one port -------------------------------------------------------------------

class DeepScan:
    """sslyze's scan (the extra) of the audit's TLS ports, made once for all of them: one process
    at the vantage point, one import of sslyze. The first port to ask starts it; the others wait
    for the same result."""

    def __init__(self, target: Target, ports: list[int]):
        self.target, self.ports = target, ports
        self._lock = threading.Lock()
        self._found: dict[int, dict] | None = None

    def __call__(self, port: int) -> dict:
        with self._lock:
            if self._found is None:
                t = self.target
                self._found = deep_tls.scan_from(t.via, t.host, {p: PORTS[p] for p in self.ports}, t.helo,
                                                 t.timeout, t.address)
        return self._found.get(port, {"error": "sslyze gave no result for this port"})


def port_rows(target: Target, port: int, deep: DeepScan | None = None) -> list[Row]:
    """Every row of one TLS port; with `deep`, what sslyze sees too."""
    from concurrent.futures import ThreadPoolExecutor

    # sslyze's scan runs beside the handshakes below: a port costs the longer of the two.
    with ThreadPoolExecutor(1) as pool:
        found = pool.submit(deep, port) if deep else None
        rows = _handshake_rows(target, port)
        if len(rows) > 1:       # the port speaks TLS: what only sslyze can see
            rows += details_rows(port, found.result() if found else None)
    return rows


def details_rows(port: int, found: dict | None) -> list[Row]:
    """SSL 2/3, key exchange groups, compression, renegotiation and the extended master secret,
    as sslyze found them; without the extra (`found` None) one row says what was not tested."""
    category = CATEGORY[port]
    if found is None:
        return [untested(f"tls-details-{port}", category, f"SSL 2/3, groups, compression, renegotiation, EMS on {port}",
                         REQUIRED, "not tested: Python's ssl can neither offer SSL 2/3, old groups or compression "
                         "nor see renegotiation and the extended master secret; sslyze can (install the extra: "
                         "`bash .ci/setup --audit`, or pip install 'mailwizard[audit]')")]
    if "error" in found:
        return [broken(f"tls-details-{port}", category, f"SSL 2/3, groups, compression, renegotiation, EMS on {port}",
                       REQUIRED, f"sslyze could not scan {port}: {found['error']}")]
    rows, errors = [], "; ".join(found.get("errors", [])) or "sslyze gave no result"
    phase_out_ok = port in OPPORTUNISTIC

    def row(key, row_id, title, ok, said, fix, partial=False, evidence=()):
        if key not in found:
            rows.append(broken(row_id, category, title, REQUIRED, f"sslyze could not tell ({errors})"))
        else:
            rows.append(judged(row_id, category, title, REQUIRED, ok, said, fix, evidence, partial=partial))

    legacy = [f"SSL 2 ({len(found.get('ssl2', []))} suites)"] * bool(found.get("ssl2")) + \
        [f"SSL 3 ({len(found.get('ssl3', []))} suites)"] * bool(found.get("ssl3"))
    row("ssl3", f"tls-legacy-{port}", f"no SSL 2 or 3 on {port}", not legacy,
        f"takes {', '.join(legacy)}" if legacy else "SSL 2 and 3 refused", "no SSLv2/SSLv3 in the protocols")
    groups = found.get("groups", [])
    weak = {g: WEAK_GROUPS[g] for g in groups if g in WEAK_GROUPS}
    insufficient = [g for g, grade in weak.items() if grade == "insufficient"]
    row("groups", f"tls-groups-{port}", f"key exchange groups on {port}", not weak,
        (f"takes {', '.join(weak)} ({', '.join(sorted(set(weak.values())))})" if weak else
         f"only {', '.join(groups) or 'no ECDHE group'}"),
        "tls_eecdh_auto_curves = X25519 X448 prime256v1 secp384r1 secp521r1 (Postfix), ssl_curve_list (Dovecot)",
        partial=phase_out_ok and not insufficient, evidence=[f"groups taken: {', '.join(groups)}"])
    row("compression", f"tls-compression-{port}", f"no TLS compression on {port} (CRIME)",
        not found.get("compression"), "compression offered" if found.get("compression") else "no compression",
        "tls_ssl_options = NO_COMPRESSION (Postfix); ssl_options = no_compression (Dovecot)")
    row("secure_renegotiation", f"tls-renegotiation-{port}", f"secure renegotiation on {port} (RFC 5746)",
        bool(found.get("secure_renegotiation")),
        "supported" + ("; clients may renegotiate often (a denial of service)" if found.get("client_renegotiation_dos")
                       else "") if found.get("secure_renegotiation") else "not supported",
        "an OpenSSL from this century on the server")
    row("ems", f"tls-ems-{port}", f"extended master secret on {port} (RFC 7627)", bool(found.get("ems")),
        "supported" if found.get("ems") else "not supported", "an OpenSSL that supports RFC 7627 (1.1.0 and later)")
    return rows


def _handshake_rows(target: Target, port: int) -> list[Row]:
    category = CATEGORY[port]
    transcript = Transcript()
    first = handshake(target, port, context(), transcript)
    if not first.ok and not first.closed and PORTS[port] == "implicit":
        why_not = reachable(target, port)
        refused = "Connection refused" in why_not
        first = Handshake(False, detail=why_not, closed=refused, unreachable=not refused) if why_not else first
    available = f"tls-available-{port}"
    title = f"TLS on {port}" + (" (STARTTLS)" if PORTS[port] != "implicit" else " (from the first byte)")
    if not first.ok:
        if first.closed and port != 25:
            return [untested(available, category, title, REQUIRED, f"nothing listens on {port} ({first.detail})")]
        if first.closed or first.unreachable:
            return [broken(available, category, title, REQUIRED, f"port {port} cannot be reached: {first.detail}")]
        return [judged(available, category, title, REQUIRED, False, f"no TLS: {first.detail}",
                       "give the daemon a certificate and key (postfix-tls, dovecot-tls chapters)", transcript.lines)]
    rows = [judged(available, category, title, REQUIRED, True, f"{first.version}, {first.cipher}", "", transcript.lines)]
    rows.append(_versions_row(target, port))
    rows += _suite_rows(target, port)
    rows.append(_certificate_row(target, port, first.der))
    return rows


def handshakes(target: Target, port: int, contexts: list) -> list[Handshake | None]:
    """One handshake per context (None: skipped), a few at a time: each starts its own
    connection from the vantage point, and most of a handshake is waiting."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(3) as pool:
        return list(pool.map(lambda ctx: handshake(target, port, ctx) if ctx is not None else None, contexts))


def _versions_row(target: Target, port: int) -> Row:
    row_id, title = f"tls-version-{port}", f"TLS versions on {port}: 1.2 and 1.3 only"
    taken, refused, untestable, evidence = [], [], [], []
    results = handshakes(target, port, [context(version) if not can_offer(version) else None
                                        for _, version, _ in VERSIONS])
    for (name, version, grade), result in zip(VERSIONS, results):
        if result is None:
            untestable.append(f"{name}: {can_offer(version)}")
            continue
        (taken if result.ok else refused).append((name, grade))
        evidence.append(f"{name}: {'taken, ' + result.cipher if result.ok else 'refused (' + result.detail + ')'}")
    weak = [name for name, grade in taken if grade == "insufficient"]
    found = ("takes " + ", ".join(name for name, _ in taken)) + (f"; refuses {', '.join(n for n, _ in refused)}"
                                                                   if refused else "")
    if untestable and not weak:
        found += "; not tested: " + "; ".join(untestable)
    settings = ("smtpd_tls_protocols = >=TLSv1.2 and smtpd_tls_mandatory_protocols = >=TLSv1.2 in main.cf"
                if PORTS[port] in ("smtp",) or port == 465 else "ssl_min_protocol = TLSv1.2 in dovecot.conf")
    strong = [name for name, grade in taken if grade != "insufficient"]
    return judged(row_id, CATEGORY[port], title, REQUIRED, not weak,
                  found if not weak else (f"takes {', '.join(weak)} (insufficient, RFC 8996) beside "
                                          f"{', '.join(strong) or 'nothing better'}"),
                  settings + " (the hardening chapter)", evidence)


def _suite_rows(target: Target, port: int) -> list[Row]:
    category = CATEGORY[port]
    row_id, title = f"tls-ciphers-{port}", f"TLS 1.2 cipher suites on {port}: forward secrecy and AEAD only"
    taken, evidence, untestable = [], [], []
    results = handshakes(target, port, [context(None, suites) if not can_offer(None, suites) else None
                                        for _, suites, _ in SUITE_CLASSES])
    for (name, suites, grade), result in zip(SUITE_CLASSES, results):
        if result is None:
            why_not = can_offer(None, suites)
            untestable.append(f"{name}: {why_not}")
            evidence.append(f"{name}: not offered ({why_not})")
            continue
        evidence.append(f"{name}: {'taken, ' + result.cipher if result.ok else 'refused'}")
        if result.ok:
            taken.append((name, grade, result.cipher))
    insufficient = [t for t in taken if t[1] == "insufficient"]
    phase_out = [t for t in taken if t[1] == "phase-out"]
    fix = ("main.cf: smtpd_tls_exclude_ciphers and smtpd_tls_mandatory_exclude_ciphers without kRSA, kDHE, "
           "CBC (SHA1, SHA256, SHA384 MACs), CAMELLIA, ARIA (the hardening chapter)" if PORTS[port] != "imap"
           and port != 993 else "dovecot.conf: ssl_cipher_list = ECDHE+AESGCM:ECDHE+CHACHA20 (the hardening chapter)")
    if insufficient:
        row = judged(row_id, category, title, REQUIRED, False,
                     "takes " + "; ".join(f"{n} ({c})" for n, _, c in insufficient) + " (insufficient)", fix, evidence)
    elif phase_out:
        row = judged(row_id, category, title, REQUIRED, False,
                     "takes " + "; ".join(f"{n} ({c})" for n, _, c in phase_out) + " (phase-out)"
                     + ("; on port 25 a warning: a sender turned away sends in clear" if port in OPPORTUNISTIC else ""),
                     fix, evidence, partial=port in OPPORTUNISTIC)
    elif not any(t[1] == "good" for t in taken) and not untestable:
        row = judged(row_id, category, title, REQUIRED, False, "takes no AES-GCM or ChaCha20 suite with ECDHE",
                     fix, evidence)
    else:
        row = judged(row_id, category, title, REQUIRED, True,
                     "only " + ", ".join(sorted({c for _, _, c in taken})) +
                     (f" (not tested: {'; '.join(untestable)})" if untestable else ""), "", evidence)
    rows = [row]
    if phase_out:
        rows.append(_order_row(target, port))
    return rows


def _order_row(target: Target, port: int) -> Row:
    """The server, not the client, picks the suite: offered a phase-out suite first, it takes a good one."""
    row_id, title = f"tls-cipher-order-{port}", f"on {port} the server prefers the better suites"
    result = handshake(target, port, context(None, PHASE_OUT_FIRST))
    if not result.ok:
        return broken(row_id, CATEGORY[port], title, REQUIRED, f"the handshake failed: {result.detail}")
    return judged(row_id, CATEGORY[port], title, REQUIRED, is_good(result.cipher),
                  f"offered phase-out suites first, the server chose {result.cipher}",
                  "tls_preempt_cipherlist = yes (Postfix), ssl_prefer_server_ciphers = yes (Dovecot)",
                  [f"offered: {PHASE_OUT_FIRST}", f"chosen: {result.cipher}"], partial=port in OPPORTUNISTIC)


# ---- the certificate ---------------------------------------------------------------------------

def is_good(cipher: str) -> bool:
    """AES-GCM or ChaCha20 with ECDHE, or any TLS 1.3 suite (all three of OpenSSL's are good)."""
    return cipher.startswith("TLS_") or (cipher.startswith("ECDHE-") and any(
        kind in cipher for kind in ("-AES128-GCM", "-AES256-GCM", "-CHACHA20")))


def reachable(target: Target, port: int) -> str:
    """"" when something listens on `port`, else why not. A relay from a vantage point connects
    for us and says so in a line when it cannot; that line must not be taken for a TLS reply."""
    import select

    try:
        channel = open_channel(target.connect_to, port, target.timeout, target.via, target.ssh_config)
    except DialogueError as exc:
        return str(exc)
    with channel:
        ready, _, _ = select.select([channel], [], [], min(target.timeout, 2.0))
        if not ready:
            return ""           # silent, as a TLS port is until it hears a hello
        data = channel.recv(512).decode(errors="replace")
    return data.partition(RELAY_PREFIX)[2].strip() if RELAY_PREFIX in data else ""


def _certificate_row(target: Target, port: int, der: bytes) -> Row:
    """The served certificate: the chain to the trusted root, the server's name, days left, key."""
    row_id, title = f"certificate-{port}", f"the certificate served on {port}"
    facts, problem = certificate_facts(der)
    if facts is None:
        return broken(row_id, "certificates", title, REQUIRED, f"cannot read it: {problem}")
    evidence = [f"subject: {facts['subject']}", f"issuer: {facts['issuer']}", f"not after: {facts['not_after']}",
                f"key: {facts['key']}", f"names: {', '.join(facts['names'])}"]
    verified = verify_chain(target, port)
    problems = []
    if facts["days_left"] < 0:
        problems.append(f"EXPIRED {-facts['days_left']} days ago ({facts['not_after']})")
    if target.host.lower() not in [n.lower() for n in facts["names"]]:
        problems.append(f"does not name {target.host} (names {', '.join(facts['names']) or 'nothing'})")
    if verified:
        problems.append(f"its chain does not verify: {verified}")
    if problems:
        fix = ("renew it (certbot renew, then reload Postfix and Dovecot; the certificate chapter's hook does both)"
               if facts["days_left"] < 0 else
               "get a certificate from a CA for this name (the certificate chapter)")
        # Port 25 is opportunistic: a sending server takes any certificate (internet.nl: optional for an MX).
        level = RECOMMENDED if port in OPPORTUNISTIC and facts["days_left"] >= 0 else REQUIRED
        return judged(row_id, "certificates", title, level, False, "; ".join(problems), fix, evidence)
    weak_key = facts["key_bits"] and facts["key_type"] == "RSA" and facts["key_bits"] < 3072
    found = (f"verifies, names {target.host}, {facts['days_left']} days left, {facts['key']}"
             + ("; RSA 2048 is phase-out: the next key 3072 bits or EC" if weak_key else ""))
    if facts["days_left"] < 14:
        return judged(row_id, "certificates", title, REQUIRED, False, found + f"; only {facts['days_left']} days left",
                      "renewal is due: check certbot.timer and the deploy hook (mailwizard check)", evidence,
                      partial=True)
    return judged(row_id, "certificates", title, REQUIRED, True, found, "", evidence)


def verify_chain(target: Target, port: int) -> str:
    """"" when a handshake that checks the chain against the trusted root succeeds, else why not."""
    try:
        ctx = ssl.create_default_context(cafile=target.trust or None)
        ctx.check_hostname = False
    except (OSError, ssl.SSLError) as exc:
        return f"the trusted root {target.trust} cannot be read ({exc})"
    result = handshake(target, port, ctx)
    return "" if result.ok else result.detail


def certificate_facts(der: bytes) -> tuple[dict | None, str]:
    """Subject, issuer, names, expiry and key of a DER certificate, read by openssl."""
    import datetime as dt
    import subprocess

    if not der:
        return None, "no certificate was served"
    pem = ssl.DER_cert_to_PEM_cert(der)
    try:
        done = subprocess.run(["openssl", "x509", "-noout", "-text", "-nameopt", "oneline"], input=pem,
                              capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, str(exc)
    if done.returncode:
        return None, done.stderr.strip()
    text = done.stdout
    field = lambda pattern: (re.search(pattern, text, re.M) or [None, ""])[1].strip()   # noqa: E731
    not_after = field(r"Not After\s*:\s*(.+)$")
    try:
        end = dt.datetime.strptime(not_after, "%b %d %H:%M:%S %Y %Z").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return None, f"an expiry openssl printed as {not_after!r}"
    names = re.findall(r"DNS:([^,\s]+)", text) or re.findall(r"CN\s*=\s*([^,/\n]+)", field(r"Subject:\s*(.+)$"))
    bits = int(field(r"Public-Key:\s*\((\d+) bit") or 0)
    key_type = "RSA" if "rsaEncryption" in text else "EC" if "id-ecPublicKey" in text else \
        "Ed25519" if "ED25519" in text else "other"
    return {"subject": field(r"Subject:\s*(.+)$"), "issuer": field(r"Issuer:\s*(.+)$"), "not_after": not_after,
            "days_left": (end - dt.datetime.now(dt.timezone.utc)).days, "names": names,
            "key_bits": bits, "key_type": key_type, "key": f"{key_type} {bits} bits"}, ""
