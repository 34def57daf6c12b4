"""The audit's values: what is audited (`Target`), one result (`Row`) and the whole audit
(`Audit`), with its three written forms: text, JSON in the shape of internet.nl's API v2 result,
and JUnit XML (a testsuite per category). Plain data; nothing here sends or reads anything."""

from __future__ import annotations

import calendar
import json
import time
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

from wizard.statuses import (AUDIT_ERROR, AUDIT_FAILED, AUDIT_INFO, AUDIT_NOT_TESTED, AUDIT_PASSED,
                             AUDIT_STATUSES, AUDIT_WARNING, NOT_MET, REQUIRED, audit_status)

# The categories in the order a reader meets them; each row belongs to one.
CATEGORIES = {
    "dns": "DNS: the names that lead to the server",
    "auth": "Mail authentication: SPF, DKIM, DMARC",
    "identity": "Identity: the server's name, as others see it",
    "exposure": "Exposure: what port 25 lets a stranger do",
    "transport": "Transport: TLS on port 25 and for IMAP",
    "submission": "Submission: ports 587 and 465 for mail clients",
    "certificates": "Certificates",
    "reputation": "Reputation: block lists",
}

GUIDELINE = ("NCSC-NL ICT-beveiligingsrichtlijnen voor TLS as internet.nl's mail test applies them in "
             "2025 (TLS 1.3 good, 1.2 sufficient, 1.0 and 1.1 insufficient; AES-GCM and ChaCha20 with "
             "ECDHE good or sufficient; CBC, CAMELLIA, ARIA and DHE phase-out; RSA key exchange, 3DES, RC4 "
             "insufficient)")


@dataclass(frozen=True)
class Target:
    """The server an audit looks at, and from where."""

    domain: str                     # the mail domain (MX, SPF, DKIM, DMARC)
    host: str                       # the server's name (its MX, its certificate)
    via: str = "local"              # where connections start: local, netns:NAME, ssh:user@host
    helo: str = ""                  # the name the audit greets with (the outside host's)
    sender: str = ""                # an outside address, for MAIL FROM
    user: str = ""                  # a mailbox of the domain (the smuggling test's recipient)
    ssh_config: str = ""
    selector: str = ""              # the DKIM selector the walk publishes
    maildirs: str = ""              # where the server's users' mail lies (a signed mail is read there)
    trust: str = ""                 # the CA file the certificate must lead to ("" : the system's)
    blocklists: tuple[str, ...] = ()
    auth_on_25: str = "yes"         # "no" once submission took AUTH off port 25
    lab: bool = False
    timeout: float = 5.0            # one network wait
    address: str = ""               # the server's address as DNS gave it (connections go there)

    @property
    def connect_to(self) -> str:
        """Where connections go: the address DNS gave once, so no probe waits on DNS again."""
        return self.address or self.host

    @property
    def outside(self) -> bool:
        return self.via not in ("", "local", "none")


@dataclass(frozen=True)
class Row:
    id: str                         # stable: "tls-version-587"
    category: str
    title: str
    level: str                      # required, recommended, optional
    status: str                     # passed, failed, warning, info, not_tested, error
    found: str                      # one line: what was seen
    fix: str = ""                   # what to do, when it is not passed
    evidence: tuple[str, ...] = ()  # what was sent and what came back

    @property
    def counts(self) -> bool:
        """A required check that could be judged: the score's denominator."""
        return self.level == REQUIRED and self.status in (AUDIT_PASSED, AUDIT_FAILED, AUDIT_WARNING)

    def line(self) -> str:
        text = f"[{audit_status(self.status).word:>5}] {self.id}: {self.found}"
        if self.fix and self.status not in (AUDIT_PASSED,):
            text += f"\n          fix: {self.fix}"
        return text


def judged(row_id: str, category: str, title: str, level: str, ok: bool, found: str, fix: str,
           evidence=(), partial: bool = False) -> Row:
    """A row that passes or is a finding of its level (`partial`: a warning whatever the level)."""
    status = AUDIT_PASSED if ok else (AUDIT_WARNING if partial else NOT_MET[level])
    return Row(row_id, category, title, level, status, found, "" if ok else fix, tuple(evidence))


def untested(row_id: str, category: str, title: str, level: str, why: str, evidence=()) -> Row:
    return Row(row_id, category, title, level, AUDIT_NOT_TESTED, why, "", tuple(evidence))


def broken(row_id: str, category: str, title: str, level: str, why: str, evidence=()) -> Row:
    """A lookup or connection that failed: never a finding about the server."""
    return Row(row_id, category, title, level, AUDIT_ERROR, why, "", tuple(evidence))


def informed(row_id: str, category: str, title: str, found: str, fix: str = "", evidence=()) -> Row:
    return Row(row_id, category, title, "optional", AUDIT_INFO, found, fix, tuple(evidence))


@dataclass
class Audit:
    target: Target
    rows: list[Row] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    seconds: float = 0.0
    tls_engine: str = "Python's ssl"

    # ---- the verdict --------------------------------------------------------------------------
    @property
    def required_failed(self) -> list[Row]:
        return [r for r in self.rows if r.level == REQUIRED and r.status == AUDIT_FAILED]

    @property
    def ok(self) -> bool:
        return not self.required_failed

    def score(self) -> tuple[int, int, int]:
        """(percentage, required passed, required judged): never one without the other two."""
        judged_rows = [r for r in self.rows if r.counts]
        passed = sum(1 for r in judged_rows if r.status == AUDIT_PASSED)
        return (round(100 * passed / len(judged_rows)) if judged_rows else 0), passed, len(judged_rows)

    def counts(self) -> dict[str, int]:
        return {name: sum(1 for r in self.rows if r.status == name) for name in AUDIT_STATUSES}

    def summary(self) -> str:
        percent, passed, judged_count = self.score()
        counts = ", ".join(f"{n} {name}" for name, n in self.counts().items() if n)
        verdict = ("no required check failed" if self.ok
                   else f"{len(self.required_failed)} required check(s) failed")
        return (f"{verdict}: {passed} of {judged_count} required checks passed (score {percent}%); "
                f"{len(self.rows)} rows: {counts}")

    def by_category(self) -> dict[str, list[Row]]:
        grouped: dict[str, list[Row]] = {name: [] for name in CATEGORIES}
        for row in self.rows:
            grouped.setdefault(row.category, []).append(row)
        return {name: rows for name, rows in grouped.items() if rows}

    def worst(self, rows: list[Row]) -> str:
        return max((r.status for r in rows), key=lambda s: audit_status(s).rank, default=AUDIT_NOT_TESTED)

    # ---- its written forms --------------------------------------------------------------------
    def to_text(self, verbose: bool = False) -> str:
        lines = [f"audit of {self.target.domain} (server {self.target.host}) from {where(self.target)}",
                 f"TLS graded against the {GUIDELINE}, with {self.tls_engine}"]
        for category, rows in self.by_category().items():
            lines += ["", f"{CATEGORIES.get(category, category)} — {self.worst(rows)}"]
            for row in rows:
                lines.append("  " + row.line().replace("\n", "\n  "))
                if verbose:
                    lines += [f"            {line}" for line in row.evidence]
        lines += ["", self.summary()]
        return "\n".join(lines) + "\n"

    def to_record(self) -> dict:
        """internet.nl's API v2 result for one domain, plus our evidence and fixes."""
        percent, passed, judged_count = self.score()
        return {
            "domain": self.target.domain,
            "status": "failed" if not self.ok else "passed",
            "scoring": {"percentage": percent, "required_passed": passed, "required_judged": judged_count},
            "results": {
                "categories": {name: {"status": self.worst(rows), "verdict": CATEGORIES.get(name, name)}
                               for name, rows in self.by_category().items()},
                "tests": {row.id: {"status": row.status, "verdict": row.found, "category": row.category,
                                   "title": row.title, "level": row.level, "fix": row.fix,
                                   "evidence": list(row.evidence)} for row in self.rows},
                "custom": {"server": self.target.host, "vantage": where(self.target),
                           "guideline": GUIDELINE, "tls_engine": self.tls_engine,
                           "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
                           "seconds": round(self.seconds, 2), "summary": self.summary()},
            },
        }

    def to_json(self) -> str:
        return json.dumps(self.to_record(), indent=2) + "\n"

    def to_junit(self) -> str:
        suites = ET.Element("testsuites", name=f"mailwizard audit of {self.target.domain}")
        for category, rows in self.by_category().items():
            suite = ET.SubElement(suites, "testsuite", name=category, tests=str(len(rows)),
                                  failures=str(sum(r.status == AUDIT_FAILED for r in rows)),
                                  errors=str(sum(r.status == AUDIT_ERROR for r in rows)),
                                  skipped=str(sum(r.status == AUDIT_NOT_TESTED for r in rows)))
            for row in rows:
                case = ET.SubElement(suite, "testcase", classname=f"audit.{category}", name=row.id)
                detail = "\n".join([row.found, *(["fix: " + row.fix] if row.fix else []), *row.evidence])
                if row.status == AUDIT_FAILED:
                    ET.SubElement(case, "failure", message=row.found, type=row.level).text = detail
                elif row.status == AUDIT_ERROR:
                    ET.SubElement(case, "error", message=row.found).text = detail
                elif row.status == AUDIT_NOT_TESTED:
                    ET.SubElement(case, "skipped", message=row.found)
                else:
                    ET.SubElement(case, "system-out").text = f"{row.status}: {detail}"
        return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"

    @classmethod
    def from_record(cls, record: dict) -> "Audit":
        """The audit a report reads back (what was saved by `to_record`)."""
        custom = record.get("results", {}).get("custom", {})
        target = Target(record.get("domain", ""), custom.get("server", ""), via=custom.get("vantage", ""))
        rows = [Row(test_id, t.get("category", ""), t.get("title", ""), t.get("level", ""), t.get("status", ""),
                    t.get("verdict", ""), t.get("fix", ""), tuple(t.get("evidence", ())))
                for test_id, t in record.get("results", {}).get("tests", {}).items()]
        audit = cls(target, rows, seconds=custom.get("seconds", 0.0), tls_engine=custom.get("tls_engine", ""))
        if custom.get("started"):
            audit.started = calendar.timegm(time.strptime(custom["started"], "%Y-%m-%dT%H:%M:%SZ"))
        return audit


def where(target: Target) -> str:
    return f"{target.via} (outside)" if target.outside else "this box (no outside vantage point)"


__all__ = ["Audit", "Row", "Target", "judged", "untested", "broken", "informed", "CATEGORIES", "GUIDELINE",
           "AUDIT_PASSED", "AUDIT_FAILED", "AUDIT_WARNING", "AUDIT_INFO", "AUDIT_NOT_TESTED", "AUDIT_ERROR"]
