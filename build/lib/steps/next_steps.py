from wizard.model import FileFragment, InInbox, Probe, Setting, SmtpMail, Step

MAIN_CF = "/etc/postfix/main.cf"
VIRTUAL = "/etc/postfix/virtual"

STEP = Step(
    id="next-steps",
    title="postmaster@{maildomain} reaches a person",
    chapter="Next steps",
    explain="next-steps.md",
    files=(
        FileFragment(VIRTUAL, start_empty=True, format="map", settings=(
            Setting("postmaster@{maildomain}", "{mailuser_address}",
                    why="Every mail domain must take mail for postmaster (RFC 5321)."),
        )),
        FileFragment(MAIN_CF, settings=(
            Setting("virtual_alias_maps", "texthash:/etc/postfix/virtual",
                    why="texthash: Postfix reads the text file itself, no postmap step to forget."),
        )),
    ),
    reload=("postfix",),
    probes=(
        Probe(id="postmaster-alias", title="mail to postmaster@{maildomain} lands in {mailuser_address}'s INBOX",
              action=SmtpMail(helo="{exthost}", mail_from="{external_address}", rcpt="postmaster@{maildomain}",
                              body="Test postmaster"),
              expect=InInbox()),
    ),
)
