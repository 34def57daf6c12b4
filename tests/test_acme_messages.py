"""certbot's failures as one sentence with the cause and the fix (from what certbot 2.1 printed
against the lab's pebble), and the verdict on a served certificate's days left."""

from __future__ import annotations

from wizard.acme import CertificateFacts, why_not
from wizard.checks.certificates import judge_served

VALUES = {"fqdn": "mail.example.test", "acme_server": "https://acme.ext.test:14000/dir"}
OURS = {"127.0.0.1", "192.0.2.25"}

CHALLENGE = """Certbot failed to authenticate some domains (authenticator: standalone). The Certificate Authority reported these problems:
  Domain: mail.example.test
  Type:   connection
  Detail: Get "http://mail.example.test:80/.well-known/acme-challenge/tZdb": dial tcp {address}:80: connect: {error}

Hint: The Certificate Authority failed to download the challenge files from the temporary standalone webserver started by Certbot on port 80.
Some challenges have failed."""


def test_a_closed_port_80_names_the_firewall():
    text = why_not(CHALLENGE.format(address="192.0.2.25", error="network is unreachable"), VALUES, OURS)
    assert "could not reach port 80 of mail.example.test at 192.0.2.25 (network is unreachable)" in text
    assert "firewall" in text and "keeps its previous certificate" in text


def test_port_80_closed_over_ipv6_says_the_ca_tried_the_aaaa_record():
    ours = OURS | {"2001:db8:25::25"}
    text = why_not(CHALLENGE.format(address="[2001:db8:25::25]", error="connection refused"), VALUES, ours)
    assert "could not reach port 80 of mail.example.test at 2001:db8:25::25 (connection refused) over IPv6" in text, text
    assert "listening on IPv4 alone" in text and "firewall" in text


def test_certbot_s_own_failures_are_one_sentence_with_the_fix_not_a_traceback():
    locked = "Another instance of Certbot is already running.\nAsk for help or search for solutions at https://community.letsencrypt.org."
    assert "another certbot is running" in why_not(locked, VALUES, OURS)
    full = "OSError: [Errno 28] No space left on device: '/etc/letsencrypt/archive'"
    assert "is full: free some space" in why_not(full, VALUES, OURS)
    crash = ("Traceback (most recent call last):\n  File \"/usr/lib/python3/dist-packages/certbot/_internal/main.py\", "
             "line 1864, in main\n    return config.func(config, plugins)\nKeyError: 'fullchain'\n"
             "An unexpected error occurred:\nKeyError: 'fullchain'")
    text = why_not(crash, VALUES, OURS)
    assert "certbot stopped on an error of its own (KeyError: 'fullchain')" in text, text
    assert "/var/log/letsencrypt/letsencrypt.log" in text and "File \"" not in text
    assert "keeps its previous certificate" in text


def test_a_wrong_a_record_names_the_record_and_the_address_the_ca_used():
    text = why_not(CHALLENGE.format(address="192.0.2.99", error="no route to host"), VALUES, OURS)
    assert "went to 192.0.2.99, which is not this server (192.0.2.25)" in text
    assert "A record is wrong" in text and "127.0.0.1" not in text


def test_an_unreachable_ca_names_the_url_and_the_lab_fix():
    text = why_not("An unexpected error occurred:\nValueError: Requesting acme.ext.test/dir: Connection refused",
                   VALUES, OURS)
    assert text.startswith("the ACME CA at https://acme.ext.test:14000/dir cannot be reached (Connection refused)")
    assert "mailwizard lab up" in text


def test_port_80_taken_and_rate_limits():
    taken = why_not("Could not bind TCP port 80 because it is already in use by another process on this "
                    "system (such as a web server).", VALUES, OURS)
    assert "[certificate] webroot" in taken
    limited = why_not("An unexpected error occurred:\nError creating new order :: too many certificates "
                      "already issued for exact set of domains: mail.example.test: see "
                      "https://letsencrypt.org/docs/rate-limits/", VALUES, OURS)
    assert "rate limit" in limited and "letsencrypt-staging" in limited


def facts(days: int, serial: str = "AB") -> CertificateFacts:
    return CertificateFacts("mail.example.test", "Pebble Intermediate CA", serial, "Jan 16 04:40:00 2027 GMT", days)


def test_days_left_warn_under_14_and_fail_once_expired():
    name = "certificate served for mail.example.test"
    fine = judge_served(name, {("Postfix", 465): facts(44), ("Dovecot", 993): facts(44)}, facts(44))
    assert fine.ok and "44 days left" in fine.found
    soon = judge_served(name, {("Postfix", 465): facts(13), ("Dovecot", 993): facts(13)}, facts(13))
    assert not soon.ok and soon.advisory and "13 days left" in soon.found and "certbot renew" in soon.fix
    gone = judge_served(name, {("Postfix", 465): facts(-2), ("Dovecot", 993): facts(-2)}, facts(-2))
    assert not gone.ok and not gone.advisory and "expired" in gone.found
    stale = judge_served(name, {("Postfix", 465): facts(44), ("Dovecot", 993): facts(44, "OLD")}, facts(44))
    assert not stale.ok and "Dovecot on 993 serves serial OLD" in stale.found and "doveadm reload" in stale.fix
