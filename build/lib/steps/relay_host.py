"""After the tutorial: where the provider blocks outgoing port 25, every mail leaves through its
relay host (a "smarthost") on 587, encrypted, after logging in with the account it gave."""

from wizard.model import (AnswerField, AnswersSection, FileFragment, Probe, Question, Relayed, Requirement,
                          Rule, Setting, SmtpMail, Step)

MAIN_CF = "/etc/postfix/main.cf"
PASSWORDS = "/etc/postfix/sasl_passwd"
# The port a relay host takes mail from its customers on: submission (RFC 6409).
SUBMISSION_PORT = 587


# No [relay]: mail goes straight to each recipient's server, as in the tutorial.
NO_RELAY = (("relay", "no"), ("relay_host", ""), ("relay_port", ""), ("relay_user", ""), ("relay_nexthop", ""),
            ("spf_relay", ""), ("relay_password", ""))

ANSWERS = AnswersSection(
    key="relay",
    help="A relay host (\"smarthost\") all outgoing mail goes through, where port 25 is blocked",
    fields=(
        AnswerField("host", "The relay host your provider names for outgoing mail, like smtp.provider.net",
                    check="hostname", required=True, lower=True, splits_port="port",
                    hint="Give the name your provider gives (its TLS certificate and your password are "
                         "for that name), or leave out [relay] to send directly."),
        AnswerField("port", "Where the relay host takes its customers' mail (STARTTLS)", kind="int",
                    default=SUBMISSION_PORT, least=1, most=65535,
                    hint="Relay hosts take mail from their customers on 587 (or 2525).",
                    refuse=((465, "465 (TLS from the first byte) is not supported by the relay-host "
                                  "chapter; give the port where your provider offers STARTTLS, 587 as a rule."),)),
        AnswerField("user", "The login your provider gave you (often your address)", check="login",
                    required=True, hint="The relay host needs a login."),
        AnswerField("password", "The password of that login", check="secret", secret=True),
        AnswerField("spf", "The SPF mechanism that covers the relay's senders (default a:HOST)",
                    check="spf_mechanism", default="a:{host}",
                    hint="Write what your provider says to add, like include:spf.provider.net."),
    ),
    values=(("relay", "yes"), ("relay_host", "{host}"), ("relay_port", "{port}"), ("relay_user", "{user}"),
            # As relayhost and the password map write it: brackets, so no MX lookup is done.
            ("relay_nexthop", "[{host}]:{port}"), ("spf_relay", " {spf}"),
            ("relay_password", "")),        # filled by the walk: answers, environment, box, asked
    absent=NO_RELAY,
    rules=(Rule("host", "{fqdn} {maildomain}", inside=False,
                problem="relay.host: {value} is this server itself; give your provider's relay host (its "
                        "\"smarthost\"), like smtp.provider.net."),),
)

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
    answers=ANSWERS,
)
