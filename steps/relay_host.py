"""After the tutorial: where the provider blocks outgoing port 25, every mail leaves through its
relay host (a "smarthost") on 587, encrypted, after logging in with the account it gave."""

from wizard.model import FileFragment, Probe, Question, Relayed, Requirement, Setting, SmtpMail, Step

MAIN_CF = "/etc/postfix/main.cf"
PASSWORDS = "/etc/postfix/sasl_passwd"

STEP = Step(
    id="relay-host",
    title="Where port 25 is blocked: all outgoing mail through a relay host",
    chapter="After the tutorial: a relay host",
    explain="relay-host.md",
    when=("relay", "yes"),
    otherwise="no [relay] in the answers: mail goes straight to each recipient's server on port 25, "
              "as in the tutorial (where the provider blocks port 25, give [relay] host and user)",
    requires=(Requirement("relay-host", ("{relay_host}", "{relay_port}")),),
    # Postfix's SASL client needs Cyrus' PLAIN and LOGIN modules, which Debian ships apart.
    packages=("libsasl2-modules",),
    asks=(Question("relay_password", "The password of {relay_user} at the relay host {relay_host}",
                   kept_in=PASSWORDS, kept_after="{relay_nexthop} {relay_user}:",
                   given_as="[relay] password"),),
    files=(
        FileFragment(PASSWORDS, start_empty=True, format="map", mode=0o600, settings=(
            Setting("{relay_nexthop}", "{relay_user}:{relay_password}",
                    why="The login for the relay host; read by Postfix as root, before it drops "
                        "privileges. Readable by root alone."),
        )),
        FileFragment(MAIN_CF, settings=(
            Setting("relayhost", "{relay_nexthop}",
                    why="Every mail for another domain goes to the relay host; the brackets: no MX lookup."),
            Setting("smtp_sasl_auth_enable", "yes", why="Log in to the relay host."),
            Setting("smtp_sasl_password_maps", f"texthash:{PASSWORDS}",
                    why="Which login for which relay host (texthash: no postmap step to forget)."),
            Setting("smtp_sasl_security_options", "noanonymous",
                    why="Postfix's default also forbids plain-text mechanisms, which relay hosts "
                        "offer; TLS (next line) keeps the password from travelling in clear."),
            Setting("smtp_sasl_tls_security_options", "noanonymous"),
            Setting("smtp_tls_security_level", "encrypt",
                    why="Never talk to the relay host without TLS: the password goes over this line."),
        )),
    ),
    reload=("postfix",),
    verify=(Requirement("owner-only", (PASSWORDS, "root")),),
    probes=(
        Probe(id="test-f-relayed", title="Test F again: mail from this server to {external_address} "
                                         "goes through {relay_host}",
              action=SmtpMail(helo="{exthost}", mail_from="root@{fqdn}", rcpt="{external_address}",
                              body="Test F through the relay host"),
              expect=Relayed(via="{relay_host}")),
    ),
    undo="Mail goes straight to each recipient's server again; the password file is removed.",
)
