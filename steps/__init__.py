"""The tutorial's chapters as declarative steps, in the order a walk takes them.

A chapter is one module holding one `STEP`; its explanation is `assets/explain/<id>.md`.
"""

from steps import (admin_addresses, blocklists, certificate, dkim, dns_auth, dovecot_imap, dovecot_tls,
                   extras, hardening, install, ipv6, next_steps, password_hash, postfix_blank, postfix_names, postfix_tls,
                   prereq, pure_virtual, relay_host, restrictions, sasl, submission, tls_auth_only,
                   virtual_lmtp, vmail)

ALL_STEPS = (
    prereq.STEP,
    install.STEP,
    postfix_blank.STEP,
    postfix_names.STEP,
    vmail.STEP,
    dovecot_imap.STEP,
    dovecot_tls.STEP,
    virtual_lmtp.STEP,
    password_hash.STEP,
    sasl.STEP,
    postfix_tls.STEP,
    tls_auth_only.STEP,
    restrictions.STEP,
    extras.STEP,
    next_steps.STEP,
    # After the tutorial: its own next steps, then today's internet.
    admin_addresses.STEP,
    pure_virtual.STEP,
    relay_host.STEP,
    submission.STEP,
    dkim.STEP,
    dns_auth.STEP,
    blocklists.STEP,
    certificate.STEP,
    hardening.STEP,
    ipv6.STEP,
)
