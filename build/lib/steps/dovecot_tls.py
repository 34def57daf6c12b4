from wizard.model import (Answered, Certificate, Erratum, FileFragment, Imap, Probe, Remove, Setting,
                          Step)

DOVECOT_CONF = "/etc/dovecot/dovecot.conf"
CERT, KEY = "/etc/dovecot/dovecot.pem", "/etc/dovecot/private/dovecot.pem"

E13 = Erratum("E13", "Debian makes no certificate for Dovecot (12 leaves none, 13 only links the "
              "snakeoil pair, and private/dovecot.pem there points at the public certificate): "
              "mailwizard makes a self-signed certificate for your server's name when none is there, "
              "moves such a link aside instead of writing through it, and keeps a certificate you have.")


STEP = Step(
    id="dovecot-tls",
    title="Encryption: TLS required for IMAP",
    chapter="Encryption and authentication in Dovecot and Postfix",
    explain="dovecot-tls.md",
    ensure=(Certificate(CERT, KEY),),
    files=(FileFragment(DOVECOT_CONF, settings=(
        Remove("ssl"),
        Remove("disable_plaintext_auth"),
        Setting("ssl", "required", why="Every connection must be encrypted before a password is sent."),
        Setting("ssl_cert", f"<{CERT}"),
        Setting("ssl_key", f"<{KEY}"),
    )),),
    reload=("dovecot",),
    probes=(
        Probe(id="imap-starttls", title="from {exthost}: STARTTLS on port 143, then LOGIN: logged in",
              action=Imap(tls="starttls", commands=()), port=143, vantage="external-else-local", host="{fqdn}",
              expect=Answered(replies=("STARTTLS", "Begin TLS negotiation", "Logged in"))),
        Probe(id="imaps", title="from {exthost}: IMAPS on port 993 (TLS from the first byte), then LOGIN: logged in",
              action=Imap(tls="imaps", commands=()), port=993, vantage="external-else-local", host="{fqdn}",
              expect=Answered(replies=("* OK", "a OK", "Logged in"))),
        Probe(id="imap-plain-refused", title="from {exthost}: LOGIN without TLS is refused",
              action=Imap(commands=()), port=143, vantage="external", host="{fqdn}",
              expect=Answered(replies=("LOGINDISABLED", "a NO"), absent=("Logged in",))),
        # A client set for the wrong port: each of these fails, as the tutorial says.
        Probe(id="tls-on-143-fails", title="from {exthost}: TLS at once on port 143 fails (143 speaks plain first)",
              action=Imap(tls="imaps", password="none", commands=()), port=143, vantage="external-else-local",
              host="{fqdn}", expect=Answered(tls_fails=True)),
        Probe(id="starttls-on-993-fails", title="from {exthost}: STARTTLS on port 993 fails (993 waits for TLS)",
              action=Imap(tls="starttls", password="none", commands=(), speaks_first=True), port=993,
              vantage="external-else-local", host="{fqdn}", expect=Answered(absent=("* OK", "Begin TLS"))),
        Probe(id="plain-on-993-fails", title="from {exthost}: plain IMAP on port 993 gets no answer",
              action=Imap(password="none", commands=("CAPABILITY",), speaks_first=True), port=993,
              vantage="external-else-local", host="{fqdn}", expect=Answered(absent=("* OK", "CAPABILITY IMAP"))),
    ),
    errata=(E13,),
    undo="dovecot.conf goes back to ssl = no; a certificate mailwizard made stays until `reset`.",
)
