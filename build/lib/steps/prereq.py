from wizard.model import Requirement, Step

STEP = Step(
    id="prereq",
    title="Check the prerequisites: DNS, host name, ports",
    chapter="Prerequisites",
    explain="prereq.md",
    requires=(
        Requirement("a-record", ("{fqdn}",), advisory=True),
        Requirement("mx", ("{maildomain}", "{fqdn}"), advisory=True),
        Requirement("ptr", ("{fqdn}",), advisory=True),
        Requirement("fcrdns", ("{fqdn}",), advisory=True),
        Requirement("hostname", ("{fqdn}",), advisory=True),
        Requirement("static-address", (), advisory=True),
        Requirement("port-owner", ("25", "postfix")),
        Requirement("port-owner", ("143", "dovecot")),
        Requirement("port-owner", ("993", "dovecot")),
        Requirement("outbound-25", ("{extdomain}",), advisory=True),
        Requirement("blocklists", ("{fqdn}", "{blocklists}"), advisory=True),
        Requirement("outside-name", ("{vantage}", "{fqdn}", "{exthost_given}", "{ssh_config}"), advisory=True),
    ),
    undo="Nothing to undo: this step only looks.",
)
