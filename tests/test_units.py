"""The small pure parts of the systemd path: systemd's time spans as `systemctl show` gives them,
and a log line told apart from its time stamp (how the journal and a log file are merged)."""

from wizard.logs import message_of
from wizard.units import _seconds


def test_systemd_time_spans_are_read_as_seconds():
    assert _seconds("10s") == 10
    assert _seconds("1min 30s") == 90
    assert _seconds("2500ms") == 2.5
    assert _seconds("infinity") == 0.0      # no limit: nothing to keep below


def test_a_line_from_the_journal_and_the_same_line_from_a_file_are_one_message():
    journal = "Dec 02 11:24:34 vm postfix/master[3241]: daemon started -- version 3.10.13"
    rsyslog = "2026-12-02T11:24:34.120431+00:00 vm postfix/master[3241]: daemon started -- version 3.10.13"
    other = "Dec 02 11:24:35 vm postfix/master[3241]: reload -- version 3.10.13"
    assert message_of(journal) == message_of(rsyslog) == "postfix/master[3241]: daemon started -- version 3.10.13"
    assert message_of(other) != message_of(journal)
