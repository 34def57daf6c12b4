from wizard.model import Directory, Requirement, Step, SystemUser

STEP = Step(
    id="vmail",
    title="Prepare the mail store: the vmail user and /var/vmail",
    chapter="Dovecot preparation",
    explain="vmail.md",
    requires=(Requirement("command", ("dovecot",)),),
    ensure=(
        SystemUser("vmail", "vmail"),
        Directory("/var/vmail", "vmail", "vmail", 0o755),
    ),
    verify=(Requirement("owned-by", ("/var/vmail", "vmail", "vmail")),),
    undo="The vmail user and /var/vmail stay: they may hold mail. `mailwizard reset` removes "
         "/var/vmail only when it is empty.",
)
