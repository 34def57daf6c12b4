"""A busy server's mail logs, made up: Postfix's and Dovecot's lines as the lab writes them, one
delivered message after another, split over the parts `why` reads (mail.log.2.gz, mail.log.1,
mail.log; dovecot.log). Used by bench.py's `why` measures; also by hand:

    python -m benchmarks.biglog ROOT LINES
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

LINES_PER_MESSAGE = 7       # of mail.log; Dovecot's one line per message goes to dovecot.log


def queue_id(n: int) -> str:
    return f"{0x1A0000000 + n * 7:X}"[:11]


def message_lines(n: int) -> list[str]:
    qid, second = queue_id(n), f"{n % 60:02d}"
    head = f"Dec  2 05:{(n // 60) % 60:02d}:{second} mail postfix/"
    sender, rcpt = f"user{n % 9973}@ext.test", f"box{n % 97}@example.test"
    return [f"{head}smtpd[{20000 + n % 9000}]: connect from exthost.ext.test[192.0.2.50]",
            f"{head}smtpd[{20000 + n % 9000}]: {qid}: client=exthost.ext.test[192.0.2.50]",
            f"{head}cleanup[{21000 + n % 9000}]: {qid}: message-id=<m{n}@ext.test>",
            f"{head}qmgr[1200]: {qid}: from=<{sender}>, size={900 + n % 5000}, nrcpt=1 (queue active)",
            f"{head}lmtp[{22000 + n % 9000}]: {qid}: to=<{rcpt}>, relay=mail.example.test[private/dovecot-lmtp], "
            f"delay=0.11, delays=0.09/0.01/0.01/0.01, dsn=2.0.0, status=sent (250 2.0.0 <{rcpt}> "
            f"S{n:010d}AAg+zDdQ Saved)",
            f"{head}qmgr[1200]: {qid}: removed",
            f"{head}smtpd[{20000 + n % 9000}]: disconnect from exthost.ext.test[192.0.2.50] ehlo=1 mail=1 "
            f"rcpt=1 data=1 quit=1 commands=5"]


def dovecot_line(n: int) -> str:
    return (f"Dec  2 05:{(n // 60) % 60:02d}:{n % 60:02d} lmtp(box{n % 97}@example.test)<{23000 + n % 9000}>"
            f"<S{n:010d}AAg+zDdQ>: Info: msgid=<m{n}@ext.test>: saved mail to INBOX")


def write(root: Path, lines: int) -> dict:
    """`lines` lines of mail.log in three parts (the oldest compressed) and dovecot.log; what a
    benchmark asks for: a message of the oldest part, the newest part, and an address."""
    logs = root / "var/log"
    logs.mkdir(parents=True, exist_ok=True)
    messages = lines // LINES_PER_MESSAGE
    thirds = [range(0, messages // 3), range(messages // 3, 2 * messages // 3), range(2 * messages // 3, messages)]
    parts = [(logs / "mail.log.2.gz", thirds[0]), (logs / "mail.log.1", thirds[1]), (logs / "mail.log", thirds[2])]
    for path, numbers in parts:
        opener = gzip.open(path, "wt", compresslevel=6) if path.suffix == ".gz" else path.open("w")
        with opener as out:
            for start in range(numbers.start, numbers.stop, 1000):
                out.write("".join(line + "\n" for n in range(start, min(start + 1000, numbers.stop))
                                  for line in message_lines(n)))
    with (logs / "dovecot.log").open("w") as out:
        for start in range(0, messages, 1000):
            out.write("".join(dovecot_line(n) + "\n" for n in range(start, min(start + 1000, messages))))
    newest = messages - 5
    return {"queue id": queue_id(newest), "message id": f"<m{newest}@ext.test>",
            "address": f"user{newest % 9973}@ext.test", "oldest queue id": queue_id(3)}


if __name__ == "__main__":
    print(write(Path(sys.argv[1]), int(sys.argv[2])))
