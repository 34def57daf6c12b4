"""After the tutorial: outgoing mail signed with DKIM by rspamd, the filter Postfix hands mail from
people (587 and 465) to as a milter. One 2048-bit key per mail domain, made once and kept."""

from wizard.model import (AnswerField, AnswersSection, Block, DkimKey, DkimSigned, FileFragment, Probe,
                          Requirement, Setting, SmtpMail, Step)

MAIN_CF = "/etc/postfix/main.cf"
SIGNING_CONF = "/etc/rspamd/local.d/dkim_signing.conf"
KEY = "/var/lib/rspamd/dkim/{maildomain}.{dkim_selector}.key"


ANSWERS = AnswersSection(
    key="dkim",
    help="The DKIM key's selector: its name in DNS (SELECTOR._domainkey.MAILDOMAIN)",
    fields=(
        # Once walked, the walk's selector stays the default: its key is on the box and maybe in
        # DNS, and a month later the dated default must not make a second key.
        AnswerField("selector", "The selector, a DNS label like mw202612 (default: the month the key is made)",
                    # The month the key is made: a later key gets a new name, and both can be
                    # published while receivers move over.
                    check="label", lower=True, default="mw{this_month}", remembered=True,
                    hint="It becomes SELECTOR._domainkey in your zone; like 'mw202612'."),
    ),
    values=(("dkim_selector", "{selector}"),),
)

STEP = Step(
    id="dkim",
    title="Mail from {maildomain} leaves signed with DKIM (selector {dkim_selector})",
    chapter="After the tutorial: DKIM",
    explain="dkim.md",
    packages=("rspamd",),
    ensure=(DkimKey(KEY),),
    files=(
        FileFragment(SIGNING_CONF, start_empty=True, settings=(
            Setting("use_esld", "false", why="Sign as the mail domain itself, not its parent domain."),
            Setting("allow_username_mismatch", "false",
                    why="Sign only for a user who logged in with an address of that domain."),
            Block("domain", why="One key per mail domain, under the selector published in DNS.", items=(
                Block("{maildomain}", items=(
                    Setting("selector", '"{dkim_selector}"'),
                    Setting("path", f'"{KEY}"'),
                )),
            )),
        )),
        FileFragment(MAIN_CF, settings=(
            Setting("mua_milters", "inet:127.0.0.1:11332",
                    why="Mail from people (587, 465) goes through rspamd, which signs it."),
            Setting("milter_default_action", "accept",
                    why="If rspamd is down, mail still leaves (unsigned) rather than waiting."),
        )),
    ),
    reload=("rspamd", "postfix"),
    verify=(Requirement("owner-only", (KEY, "_rspamd")),),
    probes=(
        Probe(id="dkim-signed", title="a mail sent on 587 arrives with a DKIM signature that the key verifies",
              action=SmtpMail(helo="{fqdn}", mail_from="{mailuser_address}", rcpt="{mailuser_address}",
                              body="Test DKIM signature", starttls=True, auth=True, headers=True),
              expect=DkimSigned(path=KEY), host="localhost", port=587),
    ),
    undo="rspamd's signing setup and the milter go; the key stays in /var/lib/rspamd/dkim.",
    answers=ANSWERS,
)
