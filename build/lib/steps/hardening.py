"""After the tutorial: the server made to pass what the public mail testers check (`mailwizard
audit`): relaying and unknown recipients refused for good, VRFY off, no second message smuggled
behind a bare line feed, TLS as the NCSC-NL guidelines ask on every port, a greeting that names
no software. Each is proven by the audit's own probe of it, sent from outside."""

from wizard.model import AuditCheck, AuditPassed, FileFragment, Probe, Setting, Step

MAIN_CF = "/etc/postfix/main.cf"
DOVECOT_CONF = "/etc/dovecot/dovecot.conf"

# OpenSSL's names for what the guideline calls insufficient or phase-out in TLS 1.2: key exchange
# without forward secrecy (kRSA, and PSK/SRP that a mail server never uses), DHE (Postfix's own
# 2048-bit group is below ffdhe3072), the CBC suites (their MACs: SHA1, SHA256, SHA384; AEAD suites
# have none), CAMELLIA, ARIA and the short-tag CCM8. What remains: ECDHE with AES-GCM or ChaCha20.
EXCLUDED = "aNULL, eNULL, kRSA, kDHE, kEDH, PSK, SRP, SHA1, SHA256, SHA384, CAMELLIA, ARIA, AESCCM8"


STEP = Step(
    id="hardening",
    title="Hardening: the server passes the checks the public mail testers run",
    chapter="After the tutorial: hardening",
    explain="hardening.md",
    files=(
        FileFragment(MAIN_CF, settings=(
            Setting("smtpd_relay_restrictions", "permit_mynetworks, permit_sasl_authenticated, "
                    "reject_unauth_destination",
                    why="A relay attempt is refused for good (554), not deferred (454): the sender learns "
                        "at once, and no relay test reads it as 'try again'."),
            Setting("unverified_recipient_reject_code", "550",
                    why="An address Dovecot says does not exist is refused for good; a lookup that could "
                        "not be made still answers 450."),
            Setting("address_verify_map", "",
                    why="What Dovecot said of an address is remembered in memory until the next reload, "
                        "not on disk for hours: an alias added later (abuse@) takes mail after the reload "
                        "that adds it, even if someone asked for it before."),
            Setting("disable_vrfy_command", "yes", why="VRFY would tell a stranger which addresses exist."),
            Setting("smtpd_forbid_bare_newline", "normalize",
                    why="Only CR LF . CR LF ends a message: no second message can be smuggled behind a "
                        "bare LF (CVE-2023-51764). Postfix 3.9 and later do this by default."),
            Setting("smtpd_banner", "$myhostname ESMTP", why="The greeting names the server, not its software."),
            Setting("smtpd_tls_protocols", ">=TLSv1.2", why="TLS 1.0 and 1.1 are deprecated (RFC 8996)."),
            Setting("smtpd_tls_mandatory_protocols", ">=TLSv1.2"),
            Setting("smtpd_tls_exclude_ciphers", EXCLUDED,
                    why="TLS 1.2 keeps only ECDHE with AES-GCM or ChaCha20 (TLS 1.3's suites are all good)."),
            Setting("smtpd_tls_mandatory_exclude_ciphers", EXCLUDED),
            Setting("tls_preempt_cipherlist", "yes", why="The server, not the client, picks the suite."),
        )),
        FileFragment(DOVECOT_CONF, settings=(
            Setting("ssl_min_protocol", "TLSv1.2"),
            Setting("ssl_cipher_list", "ECDHE+AESGCM:ECDHE+CHACHA20",
                    why="TLS 1.2 with forward secrecy and AEAD suites only."),
            Setting("ssl_prefer_server_ciphers", "yes"),
            Setting("login_greeting", "IMAP server ready.", why="The greeting names no software."),
        )),
    ),
    reload=("postfix", "dovecot"),
    probes=(
        Probe(id="relay-refused-for-good", title="from {exthost}: 16 ways to relay, each refused for good (5xx)",
              action=AuditCheck("relay-25"), expect=AuditPassed(), vantage="external", host="{fqdn}"),
        Probe(id="unknown-refused-for-good", title="from {exthost}: an address that does not exist, refused for good",
              action=AuditCheck("unknown-recipient"), expect=AuditPassed(), vantage="external", host="{fqdn}"),
        Probe(id="no-smuggling", title="from {exthost}: a second message hidden behind a bare LF is not taken",
              action=AuditCheck("smuggling"), expect=AuditPassed(), vantage="external", host="{fqdn}"),
        Probe(id="vrfy-off", title="VRFY and EXPN tell nothing on 25",
              action=AuditCheck("vrfy-25"), expect=AuditPassed(), vantage="external-else-local", host="{fqdn}"),
        Probe(id="vrfy-off-587", title="VRFY and EXPN tell nothing on 587",
              action=AuditCheck("vrfy-587"), expect=AuditPassed(), vantage="external-else-local", host="{fqdn}",
              port=587),
        Probe(id="banner", title="port 25 greets with the server's name alone",
              action=AuditCheck("banner"), expect=AuditPassed(), vantage="external-else-local", host="{fqdn}"),
        Probe(id="tls-25", title="port 25: TLS 1.2 and 1.3 only, ECDHE with AES-GCM or ChaCha20",
              action=AuditCheck("tls-25"), expect=AuditPassed(("tls-version-25", "tls-ciphers-25")),
              vantage="external-else-local", host="{fqdn}", port=25),
        Probe(id="tls-587", title="port 587: TLS 1.2 and 1.3 only, ECDHE with AES-GCM or ChaCha20",
              action=AuditCheck("tls-587"), expect=AuditPassed(("tls-version-587", "tls-ciphers-587")),
              vantage="external-else-local", host="{fqdn}", port=587),
        Probe(id="tls-465", title="port 465: TLS 1.2 and 1.3 only, ECDHE with AES-GCM or ChaCha20",
              action=AuditCheck("tls-465"), expect=AuditPassed(("tls-version-465", "tls-ciphers-465")),
              vantage="external-else-local", host="{fqdn}", port=465),
        Probe(id="tls-143", title="IMAP on 143: TLS 1.2 and 1.3 only, ECDHE with AES-GCM or ChaCha20",
              action=AuditCheck("tls-143"), expect=AuditPassed(("tls-version-143", "tls-ciphers-143")),
              vantage="external-else-local", host="{fqdn}", port=143),
        Probe(id="tls-993", title="IMAP on 993: TLS 1.2 and 1.3 only, ECDHE with AES-GCM or ChaCha20",
              action=AuditCheck("tls-993"), expect=AuditPassed(("tls-version-993", "tls-ciphers-993")),
              vantage="external-else-local", host="{fqdn}", port=993),
    ),
)
