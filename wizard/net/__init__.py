"""Talking to daemons on the wire and watching what they write: the one dialogue engine for
SMTP, LMTP and IMAP (dialogue, imap), the hop into another vantage point (relay) and the wait
on a file's growth (watch). Below every check, probe and daemon; imports nothing of ours above."""
